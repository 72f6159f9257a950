//! Typed handler registration on [`Client`] for every documented event of the catalogue
//! (wire.md §4) and the lifecycle events. Every other kind is reachable through
//! [`Client::on`] or the typed methods of [`Client::dispatcher`].

use mezon_events::dispatch::HandlerReturn;
use mezon_events::{Payload, Subscription};

use crate::client::Client;

macro_rules! typed_registrations {
    ($(($doc:literal, $name:ident, $payload:ty)),* $(,)?) => {
        impl Client {
            $(
                #[doc = $doc]
                pub fn $name<F, R, M>(&self, handler: F) -> Subscription
                where
                    F: Fn(Payload<$payload>, Client) -> R + Send + Sync + 'static,
                    R: HandlerReturn<M>,
                {
                    self.inner.dispatcher.$name(handler)
                }
            )*
        }
    };
}

typed_registrations! {
    ("Runs `handler` for every `message_reaction_event` event (Envelope field 26, [`EventKind::MessageReactionEvent`](crate::EventKind::MessageReactionEvent)) with its `api::MessageReaction` payload.", on_message_reaction, mezon_proto::api::MessageReaction),
    ("Runs `handler` for every `message_typing_event` event (Envelope field 24, [`EventKind::MessageTypingEvent`](crate::EventKind::MessageTypingEvent)) with its `realtime::MessageTypingEvent` payload.", on_message_typing, mezon_proto::realtime::MessageTypingEvent),
    ("Runs `handler` for every `message_button_clicked` event (Envelope field 60, [`EventKind::MessageButtonClicked`](crate::EventKind::MessageButtonClicked)) with its `realtime::MessageButtonClicked` payload.", on_message_button_clicked, mezon_proto::realtime::MessageButtonClicked),
    ("Runs `handler` for every `dropdown_box_selected` event (Envelope field 64, [`EventKind::DropdownBoxSelected`](crate::EventKind::DropdownBoxSelected)) with its `realtime::DropdownBoxSelected` payload.", on_dropdown_box_selected, mezon_proto::realtime::DropdownBoxSelected),
    ("Runs `handler` for every `channel_created_event` event (Envelope field 31, [`EventKind::ChannelCreatedEvent`](crate::EventKind::ChannelCreatedEvent)) with its `realtime::ChannelCreatedEvent` payload.", on_channel_created, mezon_proto::realtime::ChannelCreatedEvent),
    ("Runs `handler` for every `channel_updated_event` event (Envelope field 33, [`EventKind::ChannelUpdatedEvent`](crate::EventKind::ChannelUpdatedEvent)) with its `realtime::ChannelUpdatedEvent` payload.", on_channel_updated, mezon_proto::realtime::ChannelUpdatedEvent),
    ("Runs `handler` for every `channel_deleted_event` event (Envelope field 32, [`EventKind::ChannelDeletedEvent`](crate::EventKind::ChannelDeletedEvent)) with its `realtime::ChannelDeletedEvent` payload.", on_channel_deleted, mezon_proto::realtime::ChannelDeletedEvent),
    ("Runs `handler` for every `channel_presence_event` event (Envelope field 11, [`EventKind::ChannelPresenceEvent`](crate::EventKind::ChannelPresenceEvent)) with its `realtime::ChannelPresenceEvent` payload.", on_channel_presence, mezon_proto::realtime::ChannelPresenceEvent),
    ("Runs `handler` for every `user_channel_added_event` event (Envelope field 36, [`EventKind::UserChannelAddedEvent`](crate::EventKind::UserChannelAddedEvent)) with its `realtime::UserChannelAdded` payload.", on_user_channel_added, mezon_proto::realtime::UserChannelAdded),
    ("Runs `handler` for every `user_channel_removed_event` event (Envelope field 37, [`EventKind::UserChannelRemovedEvent`](crate::EventKind::UserChannelRemovedEvent)) with its `realtime::UserChannelRemoved` payload.", on_user_channel_removed, mezon_proto::realtime::UserChannelRemoved),
    ("Runs `handler` for every `user_clan_removed_event` event (Envelope field 38, [`EventKind::UserClanRemovedEvent`](crate::EventKind::UserClanRemovedEvent)) with its `realtime::UserClanRemoved` payload.", on_user_clan_removed, mezon_proto::realtime::UserClanRemoved),
    ("Runs `handler` for every `add_clan_user_event` event (Envelope field 43, [`EventKind::AddClanUserEvent`](crate::EventKind::AddClanUserEvent)) with its `realtime::AddClanUserEvent` payload.", on_add_clan_user, mezon_proto::realtime::AddClanUserEvent),
    ("Runs `handler` for every `voice_started_event` event (Envelope field 29, [`EventKind::VoiceStartedEvent`](crate::EventKind::VoiceStartedEvent)) with its `realtime::VoiceStartedEvent` payload.", on_voice_started, mezon_proto::realtime::VoiceStartedEvent),
    ("Runs `handler` for every `voice_ended_event` event (Envelope field 30, [`EventKind::VoiceEndedEvent`](crate::EventKind::VoiceEndedEvent)) with its `realtime::VoiceEndedEvent` payload.", on_voice_ended, mezon_proto::realtime::VoiceEndedEvent),
    ("Runs `handler` for every `voice_joined_event` event (Envelope field 27, [`EventKind::VoiceJoinedEvent`](crate::EventKind::VoiceJoinedEvent)) with its `realtime::VoiceJoinedEvent` payload.", on_voice_joined, mezon_proto::realtime::VoiceJoinedEvent),
    ("Runs `handler` for every `voice_leaved_event` event (Envelope field 28, [`EventKind::VoiceLeavedEvent`](crate::EventKind::VoiceLeavedEvent)) with its `realtime::VoiceLeavedEvent` payload.", on_voice_leaved, mezon_proto::realtime::VoiceLeavedEvent),
    ("Runs `handler` for every `clan_updated_event` event (Envelope field 39, [`EventKind::ClanUpdatedEvent`](crate::EventKind::ClanUpdatedEvent)) with its `realtime::ClanUpdatedEvent` payload.", on_clan_updated, mezon_proto::realtime::ClanUpdatedEvent),
    ("Runs `handler` for every `clan_event_created` event (Envelope field 44, [`EventKind::ClanEventCreated`](crate::EventKind::ClanEventCreated)) with its `api::CreateEventRequest` payload.", on_clan_event_created, mezon_proto::api::CreateEventRequest),
    ("Runs `handler` for every `give_coffee_event` event (Envelope field 47, [`EventKind::GiveCoffeeEvent`](crate::EventKind::GiveCoffeeEvent)) with its `api::GiveCoffeeEvent` payload.", on_give_coffee, mezon_proto::api::GiveCoffeeEvent),
    ("Runs `handler` for every `token_sent_event` event (Envelope field 59, [`EventKind::TokenSentEvent`](crate::EventKind::TokenSentEvent)) with its `api::TokenSentEvent` payload.", on_token_sent, mezon_proto::api::TokenSentEvent),
    ("Runs `handler` for every `notifications` event (Envelope field 13, [`EventKind::Notifications`](crate::EventKind::Notifications)) with its `realtime::Notifications` payload.", on_notifications, mezon_proto::realtime::Notifications),
    ("Runs `handler` for every `role_event` event (Envelope field 51, [`EventKind::RoleEvent`](crate::EventKind::RoleEvent)) with its `realtime::RoleEvent` payload.", on_role, mezon_proto::realtime::RoleEvent),
    ("Runs `handler` for every `role_assign_event` event (Envelope field 45, [`EventKind::RoleAssignEvent`](crate::EventKind::RoleAssignEvent)) with its `realtime::RoleAssignedEvent` payload.", on_role_assign, mezon_proto::realtime::RoleAssignedEvent),
    ("Runs `handler` for every `streaming_joined_event` event (Envelope field 53, [`EventKind::StreamingJoinedEvent`](crate::EventKind::StreamingJoinedEvent)) with its `realtime::StreamingJoinedEvent` payload.", on_streaming_joined, mezon_proto::realtime::StreamingJoinedEvent),
    ("Runs `handler` for every `streaming_leaved_event` event (Envelope field 54, [`EventKind::StreamingLeavedEvent`](crate::EventKind::StreamingLeavedEvent)) with its `realtime::StreamingLeavedEvent` payload.", on_streaming_leaved, mezon_proto::realtime::StreamingLeavedEvent),
    ("Runs `handler` for every `webrtc_signaling_fwd` event (Envelope field 62, [`EventKind::WebrtcSignalingFwd`](crate::EventKind::WebrtcSignalingFwd)) with its `realtime::WebrtcSignalingFwd` payload.", on_webrtc_signaling_fwd, mezon_proto::realtime::WebrtcSignalingFwd),
    ("Runs `handler` for every `quick_menu_event` event (Envelope field 84, [`EventKind::QuickMenuEvent`](crate::EventKind::QuickMenuEvent)) with its `realtime::QuickMenuDataEvent` payload.", on_quick_menu, mezon_proto::realtime::QuickMenuDataEvent),
    ("Runs `handler` for every `aiagent_enabled_event` event (Envelope field 94, [`EventKind::AiagentEnabledEvent`](crate::EventKind::AiagentEnabledEvent)) with its `realtime::AiAgentEnabledEvent` payload.", on_aiagent_enabled, mezon_proto::realtime::AiAgentEnabledEvent),
    ("Runs `handler` for every `channel_archive_event` event (Envelope field 97, [`EventKind::ChannelArchiveEvent`](crate::EventKind::ChannelArchiveEvent)) with its `realtime::ChannelArchiveEvent` payload.", on_channel_archive, mezon_proto::realtime::ChannelArchiveEvent),
    ("Runs `handler` for every `refresh_session_event` event (Envelope field 96, [`EventKind::RefreshSessionEvent`](crate::EventKind::RefreshSessionEvent)) with its `api::Session` payload.", on_refresh_session, mezon_proto::api::Session),
    ("Runs `handler` for every `last_pin_message_event` event (Envelope field 34, [`EventKind::LastPinMessageEvent`](crate::EventKind::LastPinMessageEvent)) with its `realtime::LastPinMessageEvent` payload.", on_last_pin_message, mezon_proto::realtime::LastPinMessageEvent),
    ("Runs `handler` for every `last_seen_message_event` event (Envelope field 25, [`EventKind::LastSeenMessageEvent`](crate::EventKind::LastSeenMessageEvent)) with its `realtime::LastSeenMessageEvent` payload.", on_last_seen_message, mezon_proto::realtime::LastSeenMessageEvent),
    ("Runs `handler` for every `ephemeral_message_send` event (Envelope field 79, [`EventKind::EphemeralMessageSend`](crate::EventKind::EphemeralMessageSend)) with its `realtime::EphemeralMessageSend` payload.", on_ephemeral_message_send, mezon_proto::realtime::EphemeralMessageSend),
    ("Runs `handler` for every lifecycle `connected` event (the socket is open).", on_connected, mezon_events::lifecycle::Connected),
    ("Runs `handler` for every lifecycle `disconnected` event (the socket closed or was lost).", on_disconnected, mezon_events::lifecycle::Disconnected),
    ("Runs `handler` for every lifecycle `reconnecting` event (a reconnect attempt is scheduled).", on_reconnecting, mezon_events::lifecycle::Reconnecting),
    ("Runs `handler` for every lifecycle `reconnected` event (a reconnect succeeded and joins are redone).", on_reconnected, mezon_events::lifecycle::Reconnected),
    ("Runs `handler` for every lifecycle `ready` event (the connect sequence finished: clans joined, ready for work).", on_ready, mezon_events::lifecycle::Ready),
}
