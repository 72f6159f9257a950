//! Rust names for proto names, as prost-build spells them (shared by the generators).

/// The path of a message's prost type from inside an SDK crate that re-exports `mezon-proto` as
/// `proto`: `mezon.api.UpdateAIAgentRequest` → `crate::proto::api::UpdateAiAgentRequest`.
pub fn message_path(full_name: &str) -> String {
    let (package, message) = full_name.rsplit_once('.').unwrap_or(("", full_name));
    let module = package.trim_start_matches("mezon.");
    format!("crate::proto::{module}::{}", message_rust_name(message))
}

/// The Rust name prost gives a message: `AiAgentEnabledEvent` stays, `UpdateAIAgent` →
/// `UpdateAiAgent`.
pub fn message_rust_name(name: &str) -> String {
    upper_camel_case(&snake_case(name))
}

/// `channel_message` → `ChannelMessage`.
pub fn upper_camel_case(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// `RegistFCMDeviceToken` → `regist_fcm_device_token`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            let prev_lower = chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit();
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev_lower || (chars[i - 1].is_ascii_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_handles_acronyms() {
        assert_eq!(
            snake_case("RegistFCMDeviceToken"),
            "regist_fcm_device_token"
        );
        assert_eq!(snake_case("ListClanDescs"), "list_clan_descs");
        assert_eq!(
            snake_case("GetListEmojisByUserId"),
            "get_list_emojis_by_user_id"
        );
    }

    #[test]
    fn message_paths_follow_prost() {
        assert_eq!(
            message_path("mezon.api.UpdateAIAgentRequest"),
            "crate::proto::api::UpdateAiAgentRequest"
        );
        assert_eq!(upper_camel_case("channel_message"), "ChannelMessage");
    }
}
