//! The JetStream stream that holds a bot's events: its settings, creating it, and reading
//! back how many partitions it was created with.

use std::time::Duration;

use async_nats::jetstream::{self, stream};

use crate::error::Error;
use crate::subjects::Names;

pub use async_nats::jetstream::stream::{RetentionPolicy, StorageType};

/// How the event stream is stored. Used when the relay creates the stream; an existing
/// stream keeps its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamSettings {
    /// File (default: events survive a NATS restart) or memory.
    pub storage: StorageType,
    /// `WorkQueue` (default): an event is removed once a worker acknowledges it. `Limits`
    /// keeps events until `max_age`/`max_bytes`, for other consumers (audit, replay).
    pub retention: RetentionPolicy,
    /// Events older than this are dropped even if unhandled (default 24 h).
    pub max_age: Duration,
    /// The stream's size bound in bytes; the oldest events go first (default 1 GiB).
    pub max_bytes: i64,
    /// How long JetStream remembers `Nats-Msg-Id`s to drop duplicates (default 2 min).
    pub duplicate_window: Duration,
    /// Replicas in a NATS cluster (default 1).
    pub replicas: usize,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            storage: StorageType::File,
            retention: RetentionPolicy::WorkQueue,
            max_age: Duration::from_secs(24 * 3600),
            max_bytes: 1 << 30,
            duplicate_window: Duration::from_secs(120),
            replicas: 1,
        }
    }
}

impl StreamSettings {
    /// Sets the storage.
    pub fn storage(mut self, storage: StorageType) -> Self {
        self.storage = storage;
        self
    }

    /// Sets the retention policy.
    pub fn retention(mut self, retention: RetentionPolicy) -> Self {
        self.retention = retention;
        self
    }

    /// Sets the maximum age of events.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Sets the duplicate window.
    pub fn duplicate_window(mut self, window: Duration) -> Self {
        self.duplicate_window = window;
        self
    }
}

const PARTITIONS_TAG: &str = "partitions=";

fn description(names: &Names, partitions: u16) -> String {
    format!(
        "mezon events of bot {}; {PARTITIONS_TAG}{partitions}",
        names.bot_id()
    )
}

/// The partition count a stream description states.
fn partitions_in(description: Option<&str>) -> Option<u16> {
    let text = description?;
    let at = text.find(PARTITIONS_TAG)? + PARTITIONS_TAG.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().filter(|p| *p > 0)
}

/// Creates the stream, or checks that the existing one has `partitions` partitions.
pub(crate) async fn ensure(
    js: &jetstream::Context,
    names: &Names,
    partitions: u16,
    settings: &StreamSettings,
) -> Result<(), Error> {
    let config = stream::Config {
        name: names.stream(),
        description: Some(description(names, partitions)),
        subjects: vec![names.all_events()],
        storage: settings.storage,
        retention: settings.retention,
        max_age: settings.max_age,
        max_bytes: settings.max_bytes,
        duplicate_window: settings.duplicate_window.min(settings.max_age),
        num_replicas: settings.replicas.max(1),
        ..Default::default()
    };
    let mut stream = js
        .get_or_create_stream(config)
        .await
        .map_err(|e| Error::nats("creating the event stream", e))?;
    let info = stream
        .info()
        .await
        .map_err(|e| Error::nats("reading the event stream", e))?;
    check_partitions(names, info.config.description.as_deref(), partitions)
}

fn check_partitions(names: &Names, description: Option<&str>, expected: u16) -> Result<(), Error> {
    match partitions_in(description) {
        Some(found) if found == expected => Ok(()),
        Some(found) => Err(Error::Partitions {
            stream: names.stream(),
            found,
            expected,
        }),
        None => Err(Error::ForeignStream(names.stream())),
    }
}

/// The partition count of the existing stream.
pub(crate) async fn partitions(js: &jetstream::Context, names: &Names) -> Result<u16, Error> {
    let stream = js
        .get_stream(names.stream())
        .await
        .map_err(|e| match e.kind() {
            jetstream::context::GetStreamErrorKind::JetStream(inner)
                if inner.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND =>
            {
                Error::NoStream(names.stream())
            }
            _ => Error::nats("looking up the event stream", e),
        })?;
    partitions_in(stream.cached_info().config.description.as_deref())
        .ok_or_else(|| Error::ForeignStream(names.stream()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_carries_the_partition_count() {
        let names = Names::new(5);
        let text = description(&names, 16);
        assert_eq!(partitions_in(Some(&text)), Some(16));
        assert!(check_partitions(&names, Some(&text), 16).is_ok());
        assert!(matches!(
            check_partitions(&names, Some(&text), 8),
            Err(Error::Partitions {
                found: 16,
                expected: 8,
                ..
            })
        ));
        assert!(matches!(
            check_partitions(&names, Some("someone else's"), 8),
            Err(Error::ForeignStream(_))
        ));
        assert_eq!(partitions_in(Some("partitions=0")), None);
        assert_eq!(partitions_in(None), None);
    }
}
