//! Envelope oneof → the event catalogue of `mezon-events`: `EventKind` with its names, the
//! `Event` enum with its conversions, and one typed `on_<event>` registration per kind, both
//! on the dispatcher (`mezon-events`) and on the `Client` (`mezon`), from the same list.
//!
//! The Envelope oneof is the single source of truth; the only hand-kept data here is
//! [`DOCUMENTED_CONSTANTS`] (the names the Python SDK documents where they differ from the
//! upper-snake field name), the SDK-made kinds ([`SDK_KINDS`]) and [`UNKNOWN`].

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;

use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FileDescriptorSet};

use super::names::{message_path, upper_camel_case};
use super::{GeneratedFile, HEADER, envelope_variants};

const KIND_OUT: &str = "crates/mezon-events/src/generated/kind.rs";
const EVENT_OUT: &str = "crates/mezon-events/src/generated/event.rs";
const HANDLERS_OUT: &str = "crates/mezon-events/src/generated/handlers.rs";
const CLIENT_OUT: &str = "crates/mezon/src/generated/handlers.rs";

/// Documented constant names (wire.md §4) that are not simply the upper-snake field name.
const DOCUMENTED_CONSTANTS: &[(&str, &str)] = &[
    ("message_reaction_event", "MESSAGE_REACTION"),
    ("channel_created_event", "CHANNEL_CREATED"),
    ("channel_updated_event", "CHANNEL_UPDATED"),
    ("channel_deleted_event", "CHANNEL_DELETED"),
    ("user_channel_added_event", "USER_CHANNEL_ADDED"),
    ("user_channel_removed_event", "USER_CHANNEL_REMOVED"),
    ("user_clan_removed_event", "USER_CLAN_REMOVED"),
    ("add_clan_user_event", "ADD_CLAN_USER"),
    ("give_coffee_event", "GIVE_COFFEE"),
    ("token_sent_event", "TOKEN_SEND"),
    ("notifications", "NOTIFICATION"),
];

/// A kind the SDK produces itself rather than an Envelope field.
struct SdkKind {
    /// Canonical name (also the handler name: `on_<name>`).
    name: &'static str,
    /// The `EventKind`/`Event` variant and the payload struct.
    variant: &'static str,
    /// The `mezon-events` module holding the payload struct.
    module: &'static str,
    /// What happened, for the docs.
    what: &'static str,
}

/// SDK-made kinds, in catalogue order after the Envelope kinds: the connection's lifecycle,
/// then the AI-agent session events of the agent event stream (server-sent events, not the
/// socket).
const SDK_KINDS: &[SdkKind] = &[
    SdkKind {
        name: "connected",
        variant: "Connected",
        module: "lifecycle",
        what: "the socket is open",
    },
    SdkKind {
        name: "disconnected",
        variant: "Disconnected",
        module: "lifecycle",
        what: "the socket closed or was lost",
    },
    SdkKind {
        name: "reconnecting",
        variant: "Reconnecting",
        module: "lifecycle",
        what: "a reconnect attempt is scheduled",
    },
    SdkKind {
        name: "reconnected",
        variant: "Reconnected",
        module: "lifecycle",
        what: "a reconnect succeeded and joins are redone",
    },
    SdkKind {
        name: "ready",
        variant: "Ready",
        module: "lifecycle",
        what: "the connect sequence finished: clans joined, ready for work",
    },
    SdkKind {
        name: "session_started",
        variant: "SessionStarted",
        module: "agent",
        what: "an AI-agent session started (agent event stream)",
    },
    SdkKind {
        name: "session_ended",
        variant: "SessionEnded",
        module: "agent",
        what: "an AI-agent session ended (agent event stream)",
    },
    SdkKind {
        name: "room_summary_done",
        variant: "RoomSummaryDone",
        module: "agent",
        what: "an AI agent finished a room summary (agent event stream)",
    },
];

/// The kind of `Event::Unknown`: an Envelope variant newer than the schema. Last in the
/// catalogue; it has no payload struct (the event carries the raw envelope).
const UNKNOWN: (&str, &str) = ("unknown", "Unknown");

struct Kind {
    field: String,
    number: i32,
    variant: String,
    constant: String,
    payload: String,
    channel_id: Option<String>,
    clan_id: Option<String>,
}

pub fn generate(_root: &Path, fds: &FileDescriptorSet) -> Result<Vec<GeneratedFile>, String> {
    let mut kinds = Vec::new();
    for (field, number, full_type) in envelope_variants(fds)? {
        let message = find_message(fds, &full_type)
            .ok_or_else(|| format!("Envelope.{field}: unknown type {full_type}"))?;
        let constant = DOCUMENTED_CONSTANTS
            .iter()
            .find(|(f, _)| *f == field)
            .map_or_else(|| field.to_ascii_uppercase(), |(_, c)| (*c).to_owned());
        kinds.push(Kind {
            variant: upper_camel_case(&field),
            constant,
            payload: message_path(&full_type),
            channel_id: id_accessor(fds, message, &["channel_id", "voice_channel_id"]),
            clan_id: id_accessor(fds, message, &["clan_id"]),
            field,
            number,
        });
    }
    for (field, _) in DOCUMENTED_CONSTANTS {
        if !kinds.iter().any(|k| k.field == *field) {
            return Err(format!(
                "documented constant for unknown Envelope field {field}"
            ));
        }
    }
    check_unique_names(&kinds)?;
    Ok(vec![
        GeneratedFile::rust(KIND_OUT, &render_kind(&kinds))?,
        GeneratedFile::rust(EVENT_OUT, &render_event(&kinds))?,
        GeneratedFile::rust(HANDLERS_OUT, &render_handlers(&kinds, Target::Dispatcher))?,
        GeneratedFile::rust(CLIENT_OUT, &render_handlers(&kinds, Target::Client))?,
    ])
}

fn check_unique_names(kinds: &[Kind]) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    let names = kinds
        .iter()
        .flat_map(|k| {
            let upper = k.field.to_ascii_uppercase();
            let mut names = vec![k.field.clone(), k.constant.clone()];
            // `from_name` also accepts the upper-snake field name where a constant differs.
            if upper != k.constant {
                names.push(upper);
            }
            names
        })
        .chain(
            SDK_KINDS
                .iter()
                .map(|k| k.name)
                .chain([UNKNOWN.0])
                .flat_map(|n| [n.to_owned(), n.to_ascii_uppercase()]),
        );
    for name in names {
        if !seen.insert(name.clone()) {
            return Err(format!("event name {name} is ambiguous"));
        }
    }
    let mut methods = BTreeSet::new();
    for name in kinds
        .iter()
        .map(|k| handler_name(&k.field))
        .chain(SDK_KINDS.iter().map(|k| handler_name(k.name)))
        .chain([handler_name(UNKNOWN.0)])
    {
        if !methods.insert(name.clone()) {
            return Err(format!("handler method {name} is generated twice"));
        }
    }
    Ok(())
}

fn find_message<'a>(fds: &'a FileDescriptorSet, full_name: &str) -> Option<&'a DescriptorProto> {
    fds.file.iter().find_map(|f| {
        let name = full_name.strip_prefix(&format!("{}.", f.package()))?;
        f.message_type.iter().find(|m| m.name() == name)
    })
}

/// An expression (on `p`, the payload) yielding the id as `i64`: a direct `int64` field from
/// `names`, or that field inside a singular message field.
fn id_accessor(
    fds: &FileDescriptorSet,
    message: &DescriptorProto,
    names: &[&str],
) -> Option<String> {
    let direct = |m: &DescriptorProto| {
        names.iter().find_map(|name| {
            m.field
                .iter()
                .find(|f| {
                    f.name() == *name && f.r#type() == Type::Int64 && f.label() != Label::Repeated
                })
                .map(|f| f.name().to_owned())
        })
    };
    if let Some(field) = direct(message) {
        return Some(format!("Some(p.{field})"));
    }
    message.field.iter().find_map(|f| {
        if f.r#type() != Type::Message || f.label() == Label::Repeated {
            return None;
        }
        let inner = find_message(fds, f.type_name().trim_start_matches('.'))?;
        let id = direct(inner)?;
        Some(format!("p.{}.as_ref().map(|m| m.{id})", f.name()))
    })
}

/// `channel_created_event` → `on_channel_created`.
fn handler_name(field: &str) -> String {
    format!("on_{}", field.strip_suffix("_event").unwrap_or(field))
}

fn render_kind(kinds: &[Kind]) -> String {
    let count = kinds.len() + SDK_KINDS.len() + 1;
    let mut s = String::from(HEADER);
    s.push_str("// Included by `src/kind.rs`.\n\n");
    let _ = writeln!(
        s,
        "/// What an [`Event`](crate::Event) is: one kind per `Envelope` oneof field ({} in all, \
         field numbers {}..={}), then the SDK lifecycle kinds, the AI-agent session kinds and `unknown`.\n///\n\
         /// Every oneof field has a kind, including request/answer-only ones such as `ping`: \
         the catalogue mirrors the schema one-to-one rather than guessing what a server pushes.\n\
         /// Parse with [`str::parse`] from the canonical name ([`EventKind::name`], the Envelope \
         field name) or the documented constant ([`EventKind::constant_name`]).",
        kinds.len(),
        kinds.first().map_or(0, |k| k.number),
        kinds.last().map_or(0, |k| k.number),
    );
    s.push_str(
        "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]\n#[non_exhaustive]\n#[repr(u8)]\npub enum EventKind {\n",
    );
    for (i, k) in kinds.iter().enumerate() {
        let _ = writeln!(
            s,
            "/// `{}` (Envelope field {}), payload [`{}`].\n{} = {i},",
            k.field, k.number, k.payload, k.variant
        );
    }
    for (i, k) in SDK_KINDS.iter().enumerate() {
        let _ = writeln!(
            s,
            "/// {} `{}`: {}.\n{} = {},",
            sdk_group(k),
            k.name,
            k.what,
            k.variant,
            kinds.len() + i
        );
    }
    let _ = writeln!(
        s,
        "/// `{}`: an Envelope variant newer than this schema ([`Event::Unknown`](crate::Event::Unknown)).\n{} = {},",
        UNKNOWN.0,
        UNKNOWN.1,
        kinds.len() + SDK_KINDS.len()
    );
    s.push_str("}\n\n");

    s.push_str("impl EventKind {\n");
    let _ = writeln!(
        s,
        "/// How many kinds exist.\npub const COUNT: usize = {count};"
    );
    s.push_str("/// Every kind, in declaration order (`ALL[k.index()] == k`).\npub const ALL: [EventKind; Self::COUNT] = [\n");
    for k in kinds {
        let _ = writeln!(s, "EventKind::{},", k.variant);
    }
    for variant in sdk_variants() {
        let _ = writeln!(s, "EventKind::{variant},");
    }
    s.push_str("];\n\n");

    s.push_str(
        "/// The canonical name: the Envelope field name (`channel_message`), or the lifecycle name.\npub const fn name(self) -> &'static str {\nmatch self {\n",
    );
    for k in kinds {
        let _ = writeln!(s, "EventKind::{} => {:?},", k.variant, k.field);
    }
    for (name, variant) in sdk_names() {
        let _ = writeln!(s, "EventKind::{variant} => {name:?},");
    }
    s.push_str("}\n}\n\n");

    s.push_str(
        "/// The documented constant name (`CHANNEL_MESSAGE`, `TOKEN_SEND`, …); the upper-snake \
         field name where the SDKs document none.\npub const fn constant_name(self) -> &'static str {\nmatch self {\n",
    );
    for k in kinds {
        let _ = writeln!(s, "EventKind::{} => {:?},", k.variant, k.constant);
    }
    for (name, variant) in sdk_names() {
        let _ = writeln!(
            s,
            "EventKind::{variant} => {:?},",
            name.to_ascii_uppercase()
        );
    }
    s.push_str("}\n}\n\n");

    s.push_str(
        "/// The Envelope oneof field number, `None` for SDK-made kinds and `unknown`.\npub const fn field_number(self) -> Option<u32> {\nmatch self {\n",
    );
    for k in kinds {
        let _ = writeln!(s, "EventKind::{} => Some({}),", k.variant, k.number);
    }
    for variant in sdk_variants() {
        let _ = writeln!(s, "EventKind::{variant} => None,");
    }
    s.push_str("}\n}\n\n");

    s.push_str(
        "/// The kind of an Envelope oneof field number, `None` if the schema has no such field.\npub const fn from_field_number(number: u32) -> Option<Self> {\nmatch number {\n",
    );
    for k in kinds {
        let _ = writeln!(s, "{} => Some(EventKind::{}),", k.number, k.variant);
    }
    s.push_str("_ => None,\n}\n}\n\n");

    s.push_str(
        "/// The kind named by a canonical name or a documented constant (case-sensitive).\npub fn from_name(name: &str) -> Option<Self> {\nmatch name {\n",
    );
    for k in kinds {
        if k.field.to_ascii_uppercase() == k.constant {
            let _ = writeln!(
                s,
                "{:?} | {:?} => Some(EventKind::{}),",
                k.field, k.constant, k.variant
            );
        } else {
            let _ = writeln!(
                s,
                "{:?} | {:?} | {:?} => Some(EventKind::{}),",
                k.field,
                k.constant,
                k.field.to_ascii_uppercase(),
                k.variant
            );
        }
    }
    for (name, variant) in sdk_names() {
        let _ = writeln!(
            s,
            "{name:?} | {:?} => Some(EventKind::{variant}),",
            name.to_ascii_uppercase()
        );
    }
    s.push_str("_ => None,\n}\n}\n\n");
    s.push_str(
        "/// Whether this is an SDK lifecycle kind (connected, disconnected, …).\npub const fn is_lifecycle(self) -> bool {\nmatches!(self,",
    );
    let lifecycle: Vec<String> = SDK_KINDS
        .iter()
        .filter(|k| k.module == "lifecycle")
        .map(|k| format!("EventKind::{}", k.variant))
        .collect();
    s.push_str(&lifecycle.join(" | "));
    s.push_str(")\n}\n\n");
    s.push_str(
        "/// Whether this is an AI-agent session kind, delivered by the agent event stream rather than the socket.\npub const fn is_agent(self) -> bool {\nmatches!(self,",
    );
    let agent: Vec<String> = SDK_KINDS
        .iter()
        .filter(|k| k.module == "agent")
        .map(|k| format!("EventKind::{}", k.variant))
        .collect();
    s.push_str(&agent.join(" | "));
    s.push_str(")\n}\n}\n");
    s
}

fn render_event(kinds: &[Kind]) -> String {
    let mut s = String::from(HEADER);
    s.push_str("// Included by `src/event.rs`.\n\n");
    s.push_str(
        "/// A typed event: a pushed Envelope variant with its payload, an SDK lifecycle event, \
         or [`Event::Unknown`].\n///\n/// Payloads sit behind an [`Arc`] so the enum stays two \
         words and every handler of one event shares the same decoded payload.\n\
         #[derive(Clone, PartialEq)]\n#[non_exhaustive]\npub enum Event {\n",
    );
    for k in kinds {
        let _ = writeln!(
            s,
            "/// `{}` (Envelope field {}).\n{}(Arc<{}>),",
            k.field, k.number, k.variant, k.payload
        );
    }
    for k in SDK_KINDS {
        let _ = writeln!(
            s,
            "/// {} `{}`: {}.\n{}(Arc<crate::{}::{}>),",
            sdk_group(k),
            k.name,
            k.what,
            k.variant,
            k.module,
            k.variant
        );
    }
    s.push_str(
        "/// An Envelope variant this schema does not know (a newer server): its field number \
         and the whole envelope as received, so nothing is lost.\nUnknown {\n\
         /// The oneof field number the server used.\nfield_number: u32,\n\
         /// The serialized envelope as received.\nraw: Bytes,\n},\n}\n\n",
    );

    s.push_str("impl Event {\n");
    s.push_str(
        "/// The typed event of a decoded Envelope oneof value.\npub fn from_message(message: envelope::Message) -> Self {\nmatch message {\n",
    );
    for k in kinds {
        let _ = writeln!(
            s,
            "envelope::Message::{v}(p) => Event::{v}(Arc::new(p)),",
            v = k.variant
        );
    }
    s.push_str("}\n}\n\n");

    s.push_str(
        "/// Back to the Envelope oneof value; `None` for lifecycle and unknown events. Clones the \
         payload only if another handle shares it.\npub fn into_message(self) -> Option<envelope::Message> {\nmatch self {\n",
    );
    for k in kinds {
        let _ = writeln!(
            s,
            "Event::{v}(p) => Some(envelope::Message::{v}(Arc::unwrap_or_clone(p))),",
            v = k.variant
        );
    }
    s.push_str("_ => None,\n}\n}\n\n");

    s.push_str("/// What this event is (always `Some` today; an `Option` so the catalogue may grow).\npub fn kind(&self) -> Option<EventKind> {\nmatch self {\n");
    for k in kinds {
        let _ = writeln!(s, "Event::{v}(_) => Some(EventKind::{v}),", v = k.variant);
    }
    for k in SDK_KINDS {
        let _ = writeln!(s, "Event::{v}(_) => Some(EventKind::{v}),", v = k.variant);
    }
    let _ = writeln!(
        s,
        "Event::Unknown {{ .. }} => Some(EventKind::{}),\n}}\n}}\n",
        UNKNOWN.1
    );

    for (what, pick) in [
        (
            "channel",
            (|k| k.channel_id.clone()) as fn(&Kind) -> Option<String>,
        ),
        ("clan", |k| k.clan_id.clone()),
    ] {
        let _ = writeln!(
            s,
            "/// The {what} id the payload names (a non-zero `{what}_id`{extra}), if any.\npub fn {what}_id(&self) -> Option<i64> {{\nlet id = match self {{",
            extra = if what == "channel" {
                ", `voice_channel_id`, or the one of a nested message such as `channel_desc`"
            } else {
                ""
            }
        );
        for k in kinds {
            if let Some(expr) = pick(k) {
                let _ = writeln!(s, "Event::{}(p) => {expr},", k.variant);
            }
        }
        s.push_str("_ => None,\n};\nid.filter(|id| *id != 0)\n}\n\n");
    }
    s.push_str("}\n\n");

    s.push_str(
        "impl From<envelope::Message> for Event {\nfn from(message: envelope::Message) -> Self {\nSelf::from_message(message)\n}\n}\n\n",
    );
    for k in SDK_KINDS {
        let _ = writeln!(
            s,
            "impl From<crate::{m}::{v}> for Event {{\nfn from(payload: crate::{m}::{v}) -> Self {{\nEvent::{v}(Arc::new(payload))\n}}\n}}\n",
            m = k.module,
            v = k.variant
        );
    }
    s.push_str("impl fmt::Debug for Event {\nfn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {\nmatch self {\n");
    for k in kinds {
        let _ = writeln!(
            s,
            "Event::{v}(p) => f.debug_tuple(\"{v}\").field(p).finish(),",
            v = k.variant
        );
    }
    for variant in SDK_KINDS.iter().map(|k| k.variant) {
        let _ = writeln!(
            s,
            "Event::{variant}(p) => f.debug_tuple(\"{variant}\").field(p).finish(),"
        );
    }
    s.push_str(
        "Event::Unknown { field_number, raw } => f.debug_struct(\"Unknown\").field(\"field_number\", field_number).field(\"raw_len\", &raw.len()).finish(),\n}\n}\n}\n",
    );
    s
}

/// Where typed registration methods are generated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// `EventDispatcher<C>` in `mezon-events`: registers through `on_payload`.
    Dispatcher,
    /// `Client` in `mezon`: forwards to the dispatcher's method of the same name.
    Client,
}

/// Envelope fields whose `Client` registration is written by hand (with a richer handle).
const CLIENT_HAND_WRITTEN: &[&str] = &["channel_message"];

fn render_handlers(kinds: &[Kind], target: Target) -> String {
    let mut s = String::from(HEADER);
    let (included_by, head, ctx, prefix) = match target {
        Target::Dispatcher => (
            "src/dispatch/typed.rs",
            "/// Typed registration, one method per [`EventKind`]: the handler receives the payload as \
             a [`Payload`] and the context.\nimpl<C: Clone + Send + Sync + 'static> EventDispatcher<C> {\n",
            "C",
            "crate",
        ),
        Target::Client => (
            "src/typed.rs",
            "/// Typed registration, one method per [`EventKind`] (`channel_message` is \
             [`Client::on_channel_message`], written by hand; [`Client::on_unknown`] takes the \
             variants newer than the schema): the handler receives the payload as a [`Payload`] and \
             the client.\nimpl Client {\n",
            "Client",
            "mezon_events",
        ),
    };
    let _ = writeln!(s, "// Included by `{included_by}`.\n");
    s.push_str(head);
    let mut method = |doc: String, name: &str, variant: &str, ty: String| {
        let body = match target {
            Target::Dispatcher => format!(
                "self.on_payload(EventKind::{variant}, |event| match event {{ Event::{variant}(p) => Some(Payload::from_arc(Arc::clone(p))), _ => None }}, handler)"
            ),
            Target::Client => format!("self.inner.dispatcher.{name}(handler)"),
        };
        let _ = writeln!(
            s,
            "/// {doc}\npub fn {name}<F, R, M>(&self, handler: F) -> Subscription\n\
             where F: Fn(Payload<{ty}>, {ctx}) -> R + Send + Sync + 'static, R: HandlerReturn<M>, {{\n{body}\n}}\n"
        );
    };
    let kind_link = |variant: &str| match target {
        Target::Dispatcher => format!("[`EventKind::{variant}`]"),
        Target::Client => format!("[`EventKind::{variant}`](crate::EventKind::{variant})"),
    };
    for k in kinds {
        if target == Target::Client && CLIENT_HAND_WRITTEN.contains(&k.field.as_str()) {
            continue;
        }
        let ty = k.payload.replacen("crate::", &format!("{prefix}::"), 1);
        method(
            format!(
                "Runs `handler` for every `{}` event (Envelope field {}, {}) with its [`{ty}`] payload.",
                k.field,
                k.number,
                kind_link(&k.variant)
            ),
            &handler_name(&k.field),
            &k.variant,
            ty.clone(),
        );
    }
    for k in SDK_KINDS {
        method(
            format!(
                "Runs `handler` for every {} `{}` event ({}).",
                sdk_group(k).to_ascii_lowercase(),
                k.name,
                k.what
            ),
            &handler_name(k.name),
            k.variant,
            format!("{prefix}::{}::{}", k.module, k.variant),
        );
    }
    s.push_str("}\n");
    s
}

/// How the docs name a group of SDK kinds.
fn sdk_group(k: &SdkKind) -> &'static str {
    match k.module {
        "agent" => "AI-agent",
        _ => "Lifecycle",
    }
}

/// The variants after the Envelope kinds, in catalogue order.
fn sdk_variants() -> impl Iterator<Item = &'static str> {
    SDK_KINDS.iter().map(|k| k.variant).chain([UNKNOWN.1])
}

/// `(canonical name, variant)` of the kinds after the Envelope kinds.
fn sdk_names() -> impl Iterator<Item = (&'static str, &'static str)> {
    SDK_KINDS
        .iter()
        .map(|k| (k.name, k.variant))
        .chain([UNKNOWN])
}
