//! Transport settings: where to log in, timeouts, queue sizes, reconnect and pacing policy.

use std::time::Duration;

use crate::error::SetupError;
use crate::tls::RootCertificates;

/// The public Mezon gateway, used when no base URL is given.
pub const DEFAULT_BASE_URL: &str = "https://gw.mezon.ai:443";

/// Everything the transport can be tuned with. Build with [`TransportConfig::new`] and the
/// chained setters; every setting has a sensible default.
#[derive(Debug, Clone)]
#[non_exhaustive]
#[must_use]
pub struct TransportConfig {
    /// Login base URL (`{base_url}/v2/apps/authenticate/token`).
    pub base_url: String,
    /// How long one request or API call may take (default 10 s).
    pub request_timeout: Duration,
    /// How long opening a socket may take (default 10 s).
    pub connect_timeout: Duration,
    /// Reconnect backoff policy.
    pub reconnect: ReconnectPolicy,
    /// Outbound pacing.
    pub rate_limits: RateLimits,
    /// Capacity of the inbound event queue (default 256).
    pub inbound_capacity: usize,
    /// Events the socket reader may hold beyond a full inbound queue (default 4096). While it
    /// has room the reader keeps reading, so answers to requests (and pongs) that arrive behind
    /// a burst of events still reach their callers; once it is full the reader stops reading
    /// the socket until the consumer catches up. Right after a reconnect the dropped
    /// connection's held events and the new connection's can be held at once (twice this at
    /// most), since the new connection's events wait for the old ones.
    pub event_overflow: usize,
    /// Bytes of serialized events the reader may hold beyond a full inbound queue
    /// (default 1 MiB); whichever of this, [`event_overflow`](Self::event_overflow) and the
    /// [`memory_budget`](Self::memory_budget) is reached first pauses reading, and TCP's own
    /// flow control holds the server back.
    pub event_overflow_bytes: usize,
    /// Bytes the transport may hold for data the server sent (default 64 MiB): events read
    /// ahead of the consumer and raw API answers being reassembled draw from this one budget.
    /// A raw answer that does not fit fails its request with `AnswerTooLarge`.
    pub memory_budget: usize,
    /// Capacity of the socket write queue (default 256).
    pub write_queue_capacity: usize,
    /// Largest frame (and WebSocket message) accepted (default 16 MiB). A larger one is
    /// refused from its header, before its payload is read: the connection ends with an
    /// error and the supervisor reconnects.
    pub max_frame_size: usize,
    /// Largest reassembled raw API answer (default 64 MiB).
    pub max_answer_size: usize,
    /// Ping period (default 10 s).
    pub heartbeat_interval: Duration,
    /// The link is dead when nothing arrives this long after a ping (default 10 s).
    pub heartbeat_timeout: Duration,
    /// How long a request made while reconnecting waits for the link (default 10 s).
    pub reconnect_wait: Duration,
    /// How many requests may wait for the link at once; more fail with `QueueFull`
    /// (default 1024).
    pub max_waiting_requests: usize,
    /// Refresh the session this long before its token expires, at most half of its
    /// remaining lifetime (default 5 min).
    pub refresh_margin: Duration,
    /// Upper bound on the rejoin hook's run time after a reconnect (default 60 s).
    pub rejoin_timeout: Duration,
    /// Largest HTTP answer body (login, refresh, HTTP API calls; default 16 MiB). A larger
    /// `Content-Length` is refused before the body is read, and reading stops at the limit.
    pub max_http_answer_size: usize,
    /// Allow plaintext (`http`/`ws`) to hosts that are not loopback (default false). Loopback
    /// plaintext is always allowed; with an `https` base URL no server-provided address may
    /// move the client onto plaintext, opt-in or not.
    pub allow_plaintext: bool,
    /// Root certificates trusted besides the built-in webpki roots.
    pub root_certificates: RootCertificates,
    /// Also trust the operating system's certificate store (only with the `native-roots`
    /// cargo feature; default false).
    pub native_roots: bool,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self::new(DEFAULT_BASE_URL)
    }
}

impl TransportConfig {
    /// Settings with the given login base URL and defaults for everything else.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            reconnect: ReconnectPolicy::default(),
            rate_limits: RateLimits::default(),
            inbound_capacity: 256,
            event_overflow: 4096,
            event_overflow_bytes: 1024 * 1024,
            memory_budget: 64 * 1024 * 1024,
            write_queue_capacity: 256,
            max_frame_size: 16 * 1024 * 1024,
            max_answer_size: 64 * 1024 * 1024,
            heartbeat_interval: Duration::from_secs(10),
            heartbeat_timeout: Duration::from_secs(10),
            reconnect_wait: Duration::from_secs(10),
            max_waiting_requests: 1024,
            refresh_margin: Duration::from_secs(300),
            rejoin_timeout: Duration::from_secs(60),
            max_http_answer_size: 16 * 1024 * 1024,
            allow_plaintext: false,
            root_certificates: RootCertificates::default(),
            native_roots: false,
        }
    }

    /// Sets the largest HTTP answer body.
    pub fn max_http_answer_size(mut self, bytes: usize) -> Self {
        self.max_http_answer_size = bytes;
        self
    }

    /// Allows plaintext to hosts that are not loopback (logged as a warning). It never allows
    /// a server to move an `https` login onto plaintext.
    pub fn allow_plaintext(mut self, allow: bool) -> Self {
        self.allow_plaintext = allow;
        self
    }

    /// Trusts the certificates of `pem` (one or more `CERTIFICATE` blocks) besides the
    /// built-in roots: a self-hosted server's own CA, or a corporate proxy's.
    ///
    /// ```
    /// # fn demo(pem: &[u8]) -> Result<(), mezon_transport::SetupError> {
    /// let config = mezon_transport::TransportConfig::new("https://mezon.internal")
    ///     .add_root_certificates_pem(pem)?;
    /// # let _ = config; Ok(()) }
    /// ```
    pub fn add_root_certificates_pem(mut self, pem: &[u8]) -> Result<Self, SetupError> {
        self.root_certificates
            .extend(RootCertificates::from_pem(pem)?);
        Ok(self)
    }

    /// Also trusts the operating system's certificate store.
    #[cfg(feature = "native-roots")]
    pub fn native_roots(mut self, enabled: bool) -> Self {
        self.native_roots = enabled;
        self
    }

    /// The URL policy this configuration implies (see [`UrlPolicy`](crate::url::UrlPolicy)).
    pub fn url_policy(&self) -> crate::url::UrlPolicy {
        crate::url::UrlPolicy::for_base_url(&self.base_url, self.allow_plaintext)
    }

    /// Sets the request timeout.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the socket connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the reconnect policy.
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = policy;
        self
    }

    /// Sets the outbound pacing.
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Sets the inbound queue capacity (at least 1).
    pub fn inbound_capacity(mut self, capacity: usize) -> Self {
        self.inbound_capacity = capacity.max(1);
        self
    }

    /// Sets how many events, and how many bytes of them, the reader may hold beyond a full
    /// inbound queue before it stops reading the socket (each at least 1). Larger values let
    /// answers overtake longer bursts; smaller ones bound memory tighter.
    pub fn event_overflow(mut self, events: usize, bytes: usize) -> Self {
        self.event_overflow = events.max(1);
        self.event_overflow_bytes = bytes.max(1);
        self
    }

    /// Sets the memory budget in bytes (at least 1): see
    /// [`memory_budget`](Self::memory_budget).
    pub fn memory_budget(mut self, bytes: usize) -> Self {
        self.memory_budget = bytes.max(1);
        self
    }

    /// Sets the write queue capacity (at least 1).
    pub fn write_queue_capacity(mut self, capacity: usize) -> Self {
        self.write_queue_capacity = capacity.max(1);
        self
    }

    /// Sets the largest accepted frame.
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Sets the largest reassembled raw answer.
    pub fn max_answer_size(mut self, bytes: usize) -> Self {
        self.max_answer_size = bytes;
        self
    }

    /// Sets the ping period and the silence after a ping that declares the link dead.
    pub fn heartbeat(mut self, interval: Duration, timeout: Duration) -> Self {
        self.heartbeat_interval = interval;
        self.heartbeat_timeout = timeout;
        self
    }

    /// Sets how long requests wait for the link while reconnecting.
    pub fn reconnect_wait(mut self, wait: Duration) -> Self {
        self.reconnect_wait = wait;
        self
    }

    /// Sets how many requests may wait for the link at once.
    pub fn max_waiting_requests(mut self, count: usize) -> Self {
        self.max_waiting_requests = count;
        self
    }

    /// Sets how long before expiry the session is refreshed.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Sets the upper bound on the rejoin hook's run time.
    pub fn rejoin_timeout(mut self, timeout: Duration) -> Self {
        self.rejoin_timeout = timeout;
        self
    }
}

/// Reconnect backoff: exponential with full jitter.
///
/// Attempt `n` (from 1) waits a random time in `[0, min(max_delay, initial_delay * multiplier^(n-1))]`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[must_use]
pub struct ReconnectPolicy {
    /// Ceiling of the first attempt's delay (default 1 s).
    pub initial_delay: Duration,
    /// Largest ceiling (default 60 s).
    pub max_delay: Duration,
    /// Growth factor of the ceiling per attempt (default 2).
    pub multiplier: f64,
    /// Give up after this many failed attempts in a row; `None` = never (default).
    pub max_attempts: Option<u32>,
    /// Whether to reconnect at all (default true).
    pub enabled: bool,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            multiplier: 2.0,
            max_attempts: None,
            enabled: true,
        }
    }
}

impl ReconnectPolicy {
    /// A policy that never reconnects: the transport stops when the link drops.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Sets the first delay ceiling and the cap.
    pub fn delays(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_delay = initial;
        self.max_delay = max;
        self
    }

    /// Sets the growth factor of the delay ceiling (values below 1 count as 1).
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier;
        self
    }

    /// Sets the attempt limit.
    pub fn max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// The delay ceiling of attempt `attempt` (1-based), before jitter.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(64) as i32;
        let factor = self.multiplier.max(1.0).powi(exponent);
        let ceiling = self.initial_delay.as_secs_f64() * factor;
        if !ceiling.is_finite() || ceiling >= self.max_delay.as_secs_f64() {
            self.max_delay
        } else {
            Duration::try_from_secs_f64(ceiling).unwrap_or(self.max_delay)
        }
    }

    /// The jittered delay of attempt `attempt` for a uniform random `unit` in `[0, 1]`:
    /// `unit × ceiling(attempt)` (full jitter). `unit` is clamped into `[0, 1]`, so the
    /// caller picks the random source and no random-number crate shows in this API.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mezon_transport::ReconnectPolicy;
    /// let policy = ReconnectPolicy::default();
    /// assert_eq!(policy.delay(3, 0.5), policy.ceiling(3) / 2);
    /// assert_eq!(policy.delay(3, 7.0), policy.ceiling(3));
    /// ```
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let ceiling = self.ceiling(attempt);
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            1.0
        };
        Duration::try_from_secs_f64(ceiling.as_secs_f64() * unit).unwrap_or(ceiling)
    }
}

/// A uniform random number in `[0, 1]` for [`ReconnectPolicy::delay`]'s jitter, from the
/// standard library's per-process random hash keys (a jitter needs no stronger source, and
/// this keeps a random-number crate out of the dependency tree).
pub(crate) fn jitter_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos().into()),
    );
    // The top 53 bits as a fraction: every value is exact in an f64.
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Outbound pacing with token buckets. `None` disables a limit.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[must_use]
pub struct RateLimits {
    /// Socket frames per second (default 80); pings are never held back.
    pub socket_per_second: Option<f64>,
    /// HTTP API calls per second (default 1).
    pub http_per_second: Option<f64>,
    /// Logins and session refreshes per second, a lane of their own so that API calls never
    /// hold back re-authentication (default 1).
    pub auth_per_second: Option<f64>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            socket_per_second: Some(80.0),
            http_per_second: Some(1.0),
            auth_per_second: Some(1.0),
        }
    }
}

impl RateLimits {
    /// No pacing at all.
    pub fn disabled() -> Self {
        Self {
            socket_per_second: None,
            http_per_second: None,
            auth_per_second: None,
        }
    }

    /// Custom rates; `None` disables one. Logins and refreshes keep the default lane of 1/s
    /// (see [`RateLimits::auth_per_second`]).
    pub fn new(socket_per_second: Option<f64>, http_per_second: Option<f64>) -> Self {
        Self {
            socket_per_second,
            http_per_second,
            auth_per_second: Some(1.0),
        }
    }

    /// Sets the pace of logins and refreshes; `None` disables it.
    pub fn auth_per_second(mut self, rate: Option<f64>) -> Self {
        self.auth_per_second = rate;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_ceiling_doubles_to_the_cap() {
        let policy = ReconnectPolicy::default();
        let ceilings: Vec<u64> = (1..=9).map(|n| policy.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(policy.ceiling(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn jitter_stays_within_bounds_and_spreads() {
        let policy = ReconnectPolicy::default();
        for attempt in 1..=10 {
            let ceiling = policy.ceiling(attempt);
            let samples: Vec<Duration> = (0..500)
                .map(|_| policy.delay(attempt, jitter_unit()))
                .collect();
            assert!(samples.iter().all(|d| *d <= ceiling), "attempt {attempt}");
            let min = samples.iter().min().copied().unwrap_or_default();
            let max = samples.iter().max().copied().unwrap_or_default();
            // Full jitter: the samples cover most of [0, ceiling].
            assert!(min < ceiling / 10, "attempt {attempt}: min {min:?}");
            assert!(max > ceiling * 9 / 10, "attempt {attempt}: max {max:?}");
        }
    }
}
