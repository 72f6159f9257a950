//! The server's notion of "now": wall-clock time at start plus the time tokio's clock has run
//! since. On a real clock that is the wall clock; on a paused one it follows
//! `tokio::time::advance`, so token lifetimes and message timestamps can be tested without
//! waiting.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    wall_at_start: SystemTime,
    started: Instant,
}

impl Clock {
    /// A clock reading the wall time now.
    pub(crate) fn start() -> Self {
        Self::starting_at(SystemTime::now())
    }

    /// A clock whose first reading is `wall` (for unit tests).
    pub(crate) fn starting_at(wall: SystemTime) -> Self {
        Self {
            wall_at_start: wall,
            started: Instant::now(),
        }
    }

    pub(crate) fn now(&self) -> SystemTime {
        self.wall_at_start + self.started.elapsed()
    }

    /// Seconds since the Unix epoch, saturating into `u32` like the protocol's `*_seconds`
    /// fields.
    pub(crate) fn unix_seconds(&self) -> u32 {
        u32::try_from(unix_seconds(self.now())).unwrap_or(u32::MAX)
    }
}

/// Whole seconds since the Unix epoch (0 before it).
pub(crate) fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .as_ref()
        .map_or(0, Duration::as_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn follows_the_paused_tokio_clock() {
        let wall = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let clock = Clock::starting_at(wall);
        assert_eq!(clock.unix_seconds(), 1_800_000_000);
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert_eq!(clock.now(), wall + Duration::from_secs(3600));
        assert_eq!(clock.unix_seconds(), 1_800_003_600);
    }
}
