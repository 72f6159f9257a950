//! Token-bucket pacing of outbound frames and HTTP calls.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A token bucket refilled at `rate` tokens per second, holding at most `burst` tokens.
/// Callers that find it empty take a token on credit and sleep until it would have been
/// there, so waiting callers are served in arrival order.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    rate: f64,
    burst: f64,
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    /// A limiter of `rate` per second with a burst of `max(rate, 1)`; `None` when the rate is
    /// not a positive finite number (no limit).
    pub(crate) fn per_second(rate: Option<f64>) -> Option<Self> {
        let rate = rate.filter(|r| r.is_finite() && *r > 0.0)?;
        let burst = rate.max(1.0);
        Some(Self {
            rate,
            burst,
            bucket: Mutex::new(Bucket {
                tokens: burst,
                updated: Instant::now(),
            }),
        })
    }

    /// Takes one token, waiting as long as needed. A caller that stops waiting (its future is
    /// dropped, e.g. by a timeout) gives the token back.
    pub(crate) async fn acquire(&self) {
        let wait = self.reserve();
        if !wait.is_zero() {
            let mut refund = Refund(Some(self));
            tokio::time::sleep(wait).await;
            refund.0 = None;
        }
    }

    fn refund(&self) {
        let mut bucket = match self.bucket.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        bucket.tokens = (bucket.tokens + 1.0).min(self.burst);
    }

    fn reserve(&self) -> Duration {
        let now = Instant::now();
        let mut bucket = match self.bucket.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.updated = now;
        bucket.tokens -= 1.0;
        if bucket.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(-bucket.tokens / self.rate).unwrap_or(Duration::MAX)
        }
    }
}

/// Gives a reserved token back unless the wait for it completed.
struct Refund<'a>(Option<&'a RateLimiter>);

impl Drop for Refund<'_> {
    fn drop(&mut self) {
        if let Some(limiter) = self.0.take() {
            limiter.refund();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn burst_then_steady_rate() {
        let limiter = RateLimiter::per_second(Some(80.0)).expect("limited");
        let start = Instant::now();
        for _ in 0..80 {
            limiter.acquire().await;
        }
        assert!(start.elapsed() < Duration::from_millis(1), "burst is free");
        for _ in 0..160 {
            limiter.acquire().await;
        }
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(1990) && elapsed <= Duration::from_millis(2010),
            "{elapsed:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn one_per_second_for_http() {
        let limiter = RateLimiter::per_second(Some(1.0)).expect("limited");
        let start = Instant::now();
        for _ in 0..4 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed().as_secs(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_waiter_gives_its_token_back() {
        let limiter = RateLimiter::per_second(Some(1.0)).expect("limited");
        let start = Instant::now();
        limiter.acquire().await;
        // This waiter gives up after 100 ms of its 1 s wait.
        let gave_up = tokio::time::timeout(Duration::from_millis(100), limiter.acquire()).await;
        assert!(gave_up.is_err());
        // The next caller waits for the second token only, not for the abandoned one too.
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[test]
    fn disabled_or_nonsense_rates_mean_no_limiter() {
        assert!(RateLimiter::per_second(None).is_none());
        assert!(RateLimiter::per_second(Some(0.0)).is_none());
        assert!(RateLimiter::per_second(Some(f64::NAN)).is_none());
    }
}
