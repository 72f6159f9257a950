//! Message helpers and content against the fixtures.

mod common;

use mezon_events::content::{
    ButtonComponent, ButtonStyle, Component, ComponentBody, ComponentType, Embed, EmbedField,
    EmbedFooter, EmbedImage, MarkdownType, RadioOption, SelectComponent, SelectOption, utf16_len,
};
use mezon_events::message::{MessageType, StreamMode};
use mezon_events::proto::api::{
    ChannelMessage, MessageAttachment, MessageAttachmentList, MessageMention, MessageMentionList,
};
use mezon_events::proto::prost::Message;
use mezon_events::{ChannelMessageExt, Event, MessageContent};
use serde_json::{Value, json};

fn channel_message(fixture: &str) -> ChannelMessage {
    let (_, event) = Event::decode(common::bytes(fixture)).expect("decode");
    match event {
        Event::ChannelMessage(m) => (*m).clone(),
        other => panic!("{fixture}: not a channel message: {other:?}"),
    }
}

#[test]
fn legacy_json_lists_decode_like_protobuf_lists() {
    let legacy = channel_message("channel_message_legacy_json_lists.bin");
    let mentions = legacy.mentions().expect("legacy mentions");
    let attachments = legacy.attachments().expect("legacy attachments");
    assert_eq!(
        mentions,
        [MessageMention {
            user_id: 78,
            username: "ánh".to_owned(),
            s: 0,
            e: 4,
            ..Default::default()
        }]
    );
    assert_eq!(
        attachments,
        [MessageAttachment {
            filename: "a.png".to_owned(),
            url: "https://x/a.png".to_owned(),
            size: 10,
            ..Default::default()
        }]
    );

    // The same lists in the current protobuf form decode to the same values.
    let protobuf = ChannelMessage {
        mentions: MessageMentionList {
            mentions: mentions.clone(),
        }
        .encode_to_vec()
        .into(),
        attachments: MessageAttachmentList {
            attachments: attachments.clone(),
        }
        .encode_to_vec()
        .into(),
        ..legacy.clone()
    };
    assert_eq!(protobuf.mentions().expect("protobuf mentions"), mentions);
    assert_eq!(
        protobuf.attachments().expect("protobuf attachments"),
        attachments
    );
    assert!(legacy.references().expect("no references").is_empty());
    assert_eq!(legacy.content().expect("content").mentions, mentions);
}

#[test]
fn protobuf_lists_match_the_decoded_fixture() {
    let message = channel_message("envelope_006_channel_message.bin");
    let expected = common::json("envelope_006_channel_message.decoded.json");
    let id = |v: &Value| {
        v.as_str()
            .and_then(|s| s.parse::<i64>().ok())
            .expect("id string")
    };

    let mentions = message.mentions().expect("mentions");
    let want = expected["mentions"].as_array().expect("mentions array");
    assert_eq!(mentions.len(), want.len());
    for (got, want) in mentions.iter().zip(want) {
        assert_eq!(got.user_id, id(&want["user_id"]));
        assert_eq!(got.role_id, id(&want["role_id"]));
        assert_eq!(got.username, want["username"].as_str().expect("username"));
        assert_eq!(i64::from(got.s), want["s"].as_i64().expect("s"));
        assert_eq!(i64::from(got.e), want["e"].as_i64().expect("e"));
    }

    let attachments = message.attachments().expect("attachments");
    let want = expected["attachments"]
        .as_array()
        .expect("attachments array");
    assert_eq!(attachments.len(), want.len());
    for (got, want) in attachments.iter().zip(want) {
        assert_eq!(got.filename, want["filename"].as_str().expect("filename"));
        assert_eq!(i64::from(got.size), want["size"].as_i64().expect("size"));
        assert_eq!(i64::from(got.width), want["width"].as_i64().expect("width"));
    }

    let references = message.references().expect("references");
    let want = expected["references"].as_array().expect("references array");
    assert_eq!(references.len(), want.len());
    assert_eq!(references[0].message_ref_id, id(&want[0]["message_ref_id"]));
    assert!(references[0].has_attachment);
    assert_eq!(
        message.reply_to().expect("reply").map(|r| r.message_ref_id),
        Some(id(&want[0]["message_ref_id"]))
    );

    let reactions = message.reactions().expect("reactions");
    let want = expected["reactions"].as_array().expect("reactions array");
    assert_eq!(reactions.len(), want.len());
    assert_eq!(reactions[1].emoji_id, id(&want[1]["emoji_id"]));
    assert!(reactions[1].action);

    let quoted = message
        .referenced_message()
        .expect("referenced message decodes")
        .expect("referenced message present");
    assert_eq!(
        quoted.message_id,
        id(&expected["referenced_message"]["message_id"])
    );
    assert_eq!(
        quoted.content,
        expected["referenced_message"]["content"]
            .as_str()
            .expect("content")
    );

    let content = message.content().expect("content");
    assert_eq!(
        serde_json::to_value(&content).expect("to value"),
        expected["content"]
    );
    assert_eq!(content.mentions, mentions);
}

#[test]
fn all_defaults_message_is_an_empty_dm() {
    let message = channel_message("channel_message_all_defaults.bin");
    assert!(message.mentions().expect("mentions").is_empty());
    assert!(message.attachments().expect("attachments").is_empty());
    assert_eq!(message.referenced_message().expect("decodes"), None);
    assert_eq!(
        message.content().expect("content"),
        MessageContent::default()
    );
    assert!(message.is_dm(), "clan 0 and no mode: a DM");
    assert_eq!(message.message_type(), MessageType::Chat);
}

#[test]
fn stream_modes() {
    let in_clan = |mode| ChannelMessage {
        clan_id: 12,
        mode,
        ..Default::default()
    };
    assert!(in_clan(4).is_dm());
    assert!(!in_clan(2).is_dm());
    assert!(in_clan(3).is_group() && !in_clan(3).is_dm());
    assert!(in_clan(6).is_thread());
    assert!(!in_clan(0).is_dm(), "a clan id rules out a DM");
    assert_eq!(in_clan(8282).stream_mode(), StreamMode::Other(8282));
    for mode in 0..10 {
        assert_eq!(StreamMode::from_i32(mode).as_i32(), mode);
    }
}

#[test]
fn corrupt_nested_lists_are_errors() {
    let message = ChannelMessage {
        mentions: b"[{\"user_id\": ".to_vec().into(),
        attachments: vec![0x0a, 0x05, 0x01].into(),
        ..Default::default()
    };
    assert!(message.mentions().is_err());
    assert!(message.attachments().is_err());
    // Content with broken mentions still parses; its mentions are just empty.
    assert!(message.content().expect("content").mentions.is_empty());
}

/// Every string in the fixtures that is content JSON (an object with `t`).
fn fixture_contents() -> Vec<(String, String)> {
    fn walk(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => map.values().for_each(|v| walk(v, found)),
            Value::Array(items) => items.iter().for_each(|v| walk(v, found)),
            Value::String(s)
                if s.starts_with('{')
                    && serde_json::from_str::<Value>(s).is_ok_and(|v| v.get("t").is_some()) =>
            {
                found.push(s.clone());
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(common::dir())
        .expect("fixture dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    entries.sort();
    for name in entries {
        let mut found = Vec::new();
        walk(&common::json(&name), &mut found);
        out.extend(found.into_iter().map(|c| (name.clone(), c)));
    }
    out
}

#[test]
fn content_round_trips_every_fixture() {
    let contents = fixture_contents();
    assert!(contents.len() >= 9, "found {}", contents.len());
    for (name, json) in contents {
        let parsed = MessageContent::parse(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!parsed.as_text().is_empty(), "{name}");
        assert_eq!(parsed.markdown[0].kind, MarkdownType::BOLD, "{name}");
        let again: Value = serde_json::from_str(&parsed.to_json_string()).expect("json");
        let original: Value = serde_json::from_str(&json).expect("json");
        assert_eq!(again, original, "{name}");
    }
}

#[test]
fn rich_content_round_trips_with_unknown_keys() {
    let original = json!({
        "t": "see #general and :crab: at https://x.y 🦀",
        "hg": [{"channelid": "1800000001046003139", "s": 4, "e": 12}],
        "ej": [{"emojiid": 7240250921240375281i64, "s": 17, "e": 24}],
        "lk": [{"s": 28, "e": 37}],
        "mk": [{"type": "b", "s": 0, "e": 3}, {"type": "lk_yt", "s": 28, "e": 37, "x": 1}],
        "vk": [{"s": 0, "e": 1}],
        "embed": [{
            "color": "#BCC0C0",
            "title": "Form",
            "author": {"name": "bot", "icon_url": "https://i"},
            "fields": [
                {"name": "Pick", "value": "", "inline": true, "inputs": {
                    "id": "sel", "type": 2,
                    "component": {"options": [{"label": "A", "value": "a"}], "max_options": 1, "valueSelected": {"label": "A", "value": "a"}}
                }},
                {"name": "When", "value": "", "inputs": {"id": "d", "type": 4, "component": {"value": "123"}}},
                {"name": "One", "value": "", "inputs": {"id": "r", "type": 5, "max_options": 2,
                    "component": [{"label": "x", "value": "1", "name": "g"}]}}
            ],
            "image": {"url": "https://img", "width": "300", "height": 200},
            "thumbnail": {"url": "https://th"},
            "timestamp": "2026-01-01T00:00:00Z",
            "footer": {"text": "f", "icon_url": "https://f"},
            "future": {"nested": [1, 2]}
        }],
        "components": [{"components": [
            {"id": "ok", "type": 1, "component": {"label": "OK", "style": 3, "custom_id": "c"}},
            {"id": "grid", "type": 7, "columns": 2, "component": {"items": []}}
        ]}],
        "contentThread": {"title": "t"},
        "callLog": {"isVideo": false, "callLogType": 1},
        "e2ee": 0
    });
    let parsed = MessageContent::parse(&original.to_string()).expect("parse");
    assert_eq!(
        parsed.hashtags[0].channel_id.as_ref().and_then(|c| c.get()),
        Some(1_800_000_001_046_003_139)
    );
    assert_eq!(
        parsed.emojis[0].emoji_id.as_ref().and_then(|c| c.get()),
        Some(7_240_250_921_240_375_281)
    );
    assert_eq!(parsed.extra["e2ee"], json!(0));
    let fields = &parsed.embed[0].fields;
    let select = fields[0].inputs.as_ref().expect("select");
    assert_eq!(select.kind, ComponentType::SELECT);
    let ComponentBody::Select(body) = select.body().expect("select body") else {
        panic!("not a select")
    };
    assert_eq!(body.max_options, Some(1));
    assert_eq!(body.options[0].value, "a");
    let radio = fields[2].inputs.as_ref().expect("radio");
    assert!(
        matches!(radio.body(), Ok(ComponentBody::Radio(options)) if options[0].name.as_deref() == Some("g"))
    );
    let button = &parsed.components[0].components[0];
    let Ok(ComponentBody::Button(b)) = button.body() else {
        panic!("not a button")
    };
    assert_eq!(
        (b.label.as_str(), b.style),
        ("OK", Some(ButtonStyle::SUCCESS))
    );
    assert!(matches!(
        parsed.components[0].components[1].body(),
        Ok(ComponentBody::Other(_))
    ));

    let round_trip: Value = serde_json::from_str(&parsed.to_json_string()).expect("json");
    assert_eq!(round_trip, original);
}

#[test]
fn builder_offsets_count_utf16_with_emoji_and_cjk() {
    let content = MessageContent::text("你好 🦀 ")
        .bold("粗体🦀")
        .plain(" ")
        .mention(1_800_000_000_000_000_001, "ánh")
        .plain(" ")
        .mention_role(55, "管理员")
        .plain(" ")
        .hashtag(23, "général")
        .plain(" ")
        .emoji(99, "crab")
        .plain(" ")
        .link("https://例子.com/🦀");
    let text = content.as_text();
    assert_eq!(
        text,
        "你好 🦀 粗体🦀 @ánh @管理员 #général :crab: https://例子.com/🦀"
    );
    // "你好 🦀 " = 2 + 1 + 2 + 1 UTF-16 units.
    assert_eq!((content.markdown[0].s, content.markdown[0].e), (6, 10));
    assert_eq!(content.span_text(6, 10), Some("粗体🦀"));
    let m = &content.mentions;
    assert_eq!(
        (m[0].s, m[0].e, m[0].user_id),
        (11, 15, 1_800_000_000_000_000_001)
    );
    assert_eq!(content.span_text(m[0].s, m[0].e), Some("@ánh"));
    assert_eq!((m[1].s, m[1].e, m[1].role_id), (16, 20, 55));
    assert_eq!(content.span_text(m[1].s, m[1].e), Some("@管理员"));
    let h = &content.hashtags[0];
    assert_eq!(content.span_text(h.s, h.e), Some("#général"));
    let e = &content.emojis[0];
    assert_eq!(content.span_text(e.s, e.e), Some(":crab:"));
    let l = &content.links[0];
    assert_eq!(content.span_text(l.s, l.e), Some("https://例子.com/🦀"));
    assert_eq!(l.e, utf16_len(text));
    // Offsets inside a surrogate pair are not character boundaries.
    assert_eq!(content.span_text(4, 5), None);
    assert_eq!(content.span_text(0, 1000), None);

    let json: Value = serde_json::from_str(&content.to_json_string()).expect("json");
    assert_eq!(
        json["hg"][0],
        json!({"channelid": "23", "s": h.s, "e": h.e})
    );
    assert_eq!(json["ej"][0], json!({"emojiid": "99", "s": e.s, "e": e.e}));
    assert_eq!(json["mk"][0], json!({"type": "b", "s": 6, "e": 10}));
    assert!(
        json.get("mentions").is_none(),
        "mentions travel outside the content JSON"
    );
}

#[test]
fn embed_and_component_builders_write_the_wire_shape() {
    let content = MessageContent::text("Vote")
        .with_embed(
            Embed::new()
                .title("Poll")
                .color("#00FF00")
                .field(EmbedField::new("Choice", "").input(Component::radio(
                    "choice",
                    vec![RadioOption::new("Yes", "y"), RadioOption::new("No", "n")],
                )))
                .image(EmbedImage::new("https://img").size(64, 32))
                .footer(EmbedFooter::new("made by a bot")),
        )
        .with_action_row([
            Component::button(
                "submit",
                ButtonComponent::new("Submit", ButtonStyle::PRIMARY),
            ),
            Component::select(
                "pick",
                SelectComponent {
                    options: vec![SelectOption::new("A", "a")],
                    placeholder: Some("choose".to_owned()),
                    ..Default::default()
                },
            ),
        ]);
    let json: Value = serde_json::from_str(&content.to_json_string()).expect("json");
    assert_eq!(
        json,
        json!({
            "t": "Vote",
            "embed": [{
                "title": "Poll",
                "color": "#00FF00",
                "fields": [{"name": "Choice", "value": "", "inputs": {
                    "id": "choice", "type": 5,
                    "component": [{"label": "Yes", "value": "y"}, {"label": "No", "value": "n"}]
                }}],
                "image": {"url": "https://img", "width": 64, "height": 32},
                "footer": {"text": "made by a bot"}
            }],
            "components": [{"components": [
                {"id": "submit", "type": 1, "component": {"label": "Submit", "style": 1}},
                {"id": "pick", "type": 2, "component": {"options": [{"label": "A", "value": "a"}], "placeholder": "choose"}}
            ]}]
        })
    );
}

#[test]
fn invalid_content_is_an_error_and_empty_content_is_empty() {
    assert!(MessageContent::parse("not json").is_err());
    assert!(MessageContent::parse("[1, 2]").is_err());
    assert_eq!(
        MessageContent::parse("").expect("empty"),
        MessageContent::default()
    );
    assert_eq!(
        "{\"t\":\"x\"}"
            .parse::<MessageContent>()
            .expect("parse")
            .as_text(),
        "x"
    );
}

#[test]
fn null_and_empty_lists_read_as_empty_and_only_they_change_on_a_round_trip() {
    let sent = json!({
        "t": "hi",
        "hg": null,
        "ej": [],
        "lk": null,
        "mk": [{"type": "b", "s": 0, "e": 2}],
        "vk": [],
        "embed": [{"title": "x", "fields": null}],
        "components": [{"components": null}, {"components": [
            {"id": "s", "type": 2, "component": {"options": null}}
        ]}],
        "callLog": null
    });
    let parsed = MessageContent::parse(&sent.to_string()).expect("null lists parse");
    assert!(parsed.hashtags.is_empty() && parsed.links.is_empty() && parsed.emojis.is_empty());
    assert_eq!(parsed.markdown.len(), 1);
    assert!(parsed.embed[0].fields.is_empty());
    assert!(parsed.components[0].components.is_empty());
    let ComponentBody::Select(select) = parsed.components[1].components[0]
        .body()
        .expect("select body")
    else {
        panic!("not a select")
    };
    assert!(select.options.is_empty());

    let again: Value = serde_json::from_str(&parsed.to_json_string()).expect("json");
    assert_eq!(
        again,
        json!({
            "t": "hi",
            "mk": [{"type": "b", "s": 0, "e": 2}],
            "embed": [{"title": "x"}],
            "components": [{"components": []}, {"components": [
                {"id": "s", "type": 2, "component": {"options": null}}
            ]}],
            "callLog": null
        }),
        "empty lists are dropped (a row's null list becomes []); unknown keys stay as sent"
    );
}

#[test]
fn content_of_a_real_message_reserializes_to_the_same_json() {
    let message = channel_message("envelope_006_channel_message.bin");
    let original: Value = serde_json::from_str(&message.content).expect("content is JSON");
    let reserialized: Value =
        serde_json::from_str(&message.content().expect("content").to_json_string()).expect("json");
    assert_eq!(reserialized, original);
}

#[test]
fn protobuf_lists_whose_length_byte_looks_like_json_still_decode() {
    // A protobuf list starts with 0x0a (a newline) and the first entry's length: 0x5b is `[`,
    // 0x7b is `{`, 0x20 a space. Every entry length up to 200 bytes must decode.
    let mut lengths_seen = std::collections::BTreeSet::new();
    for n in 0..200 {
        let attachment = MessageAttachment {
            url: "u".repeat(n),
            ..Default::default()
        };
        let mention = MessageMention {
            username: "m".repeat(n),
            ..Default::default()
        };
        let message = ChannelMessage {
            attachments: MessageAttachmentList {
                attachments: vec![attachment.clone()],
            }
            .encode_to_vec()
            .into(),
            mentions: MessageMentionList {
                mentions: vec![mention.clone()],
            }
            .encode_to_vec()
            .into(),
            ..Default::default()
        };
        lengths_seen.insert(message.attachments[1]);
        assert_eq!(
            message.attachments().expect("attachments"),
            [attachment],
            "n = {n}"
        );
        assert_eq!(message.mentions().expect("mentions"), [mention], "n = {n}");
    }
    assert!(lengths_seen.contains(&b'[') && lengths_seen.contains(&b'{'));

    // Legacy JSON after whitespace is still legacy JSON.
    let padded = ChannelMessage {
        mentions: b"\n  [{\"user_id\": \"5\", \"s\": 0, \"e\": 2}]"
            .to_vec()
            .into(),
        attachments: b" \n".to_vec().into(),
        ..Default::default()
    };
    assert_eq!(padded.mentions().expect("padded JSON")[0].user_id, 5);
    assert!(padded.attachments().expect("blank").is_empty());
}
