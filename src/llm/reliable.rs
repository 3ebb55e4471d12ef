//! The reliability layer around one-attempt providers: retries with backoff, a circuit
//! breaker per provider and an optional fallback. It is itself a [`Provider`], so callers
//! never know whether an answer took one attempt, four, or came from the fallback.
//!
//! - Retryable errors ([`LlmError::is_retryable`]) are retried up to
//!   [`RetryPolicy::max_attempts`] attempts in all; fatal ones return at once.
//! - The wait is the server's `retry-after` when it gave one (plus up to 10 % so a crowd of
//!   clients does not come back in the same instant), else `base × 2^n` with ±20 % jitter,
//!   capped at `max_delay`. A server that asks for more than `max_delay` is not retried:
//!   waiting less than it asked would fail again, and a job should not block that long.
//! - Every attempt goes through the provider's [`CircuitBreaker`]; an open circuit is
//!   [`LlmError::CircuitOpen`] without a call.
//! - When the primary gives up (or its circuit is open) for a reason that another model could
//!   fix, the fallback gets the call; wrap it in its own `Reliable` for its own retries and
//!   breaker.
//! - Sleeping goes through a [`Sleeper`], so tests count waits instead of waiting.

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

pub use super::breaker::{Breakers, CircuitBreaker};
use super::{Answer, LlmError, Provider, Request};

/// How many attempts, and how long between them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 means no retry).
    pub max_attempts: u32,
    /// The first backoff; it doubles with every further attempt.
    pub base_delay: Duration,
    /// The longest single wait.
    pub max_delay: Duration,
    /// Relative jitter of the backoff: 0.2 means ±20 %.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// The wait after the `failed`-th failed attempt (1-based), `random` in `[0, 1)`;
    /// `None` when the server asked for longer than `max_delay`.
    pub fn delay(&self, failed: u32, server: Option<Duration>, random: f64) -> Option<Duration> {
        if let Some(asked) = server {
            return (asked <= self.max_delay)
                .then(|| asked.mul_f64(1.0 + 0.1 * random).min(self.max_delay));
        }
        let doubled = self
            .base_delay
            .saturating_mul(1u32 << failed.saturating_sub(1).min(20));
        let jittered = doubled.mul_f64(1.0 + self.jitter * (2.0 * random - 1.0));
        Some(jittered.min(self.max_delay))
    }
}

/// Waits between attempts; a test passes one that records instead.
pub trait Sleeper: Send + Sync {
    fn sleep(&self, duration: Duration);
}

/// Sleeps on the real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealSleeper;

impl Sleeper for RealSleeper {
    /// Sleeps in short slices and wakes early when dayshift is stopping, so a backoff of a
    /// minute never holds up a SIGTERM.
    fn sleep(&self, duration: Duration) {
        let until = std::time::Instant::now() + duration;
        while !crate::process::cancelled() {
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(crate::process::CANCEL_CHECK));
        }
    }
}

/// A provider with retries, a circuit breaker and an optional fallback.
pub struct Reliable {
    pub primary: Arc<dyn Provider>,
    /// Gets the call when the primary gives up; usually itself a `Reliable`.
    pub fallback: Option<Arc<dyn Provider>>,
    pub policy: RetryPolicy,
    /// The primary's breaker, shared with every other `Reliable` over the same provider.
    pub breaker: Arc<CircuitBreaker>,
    pub sleeper: Arc<dyn Sleeper>,
}

impl std::fmt::Debug for Reliable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reliable")
            .field("primary", &self.primary.name())
            .field("fallback", &self.fallback.as_ref().map(|p| p.name()))
            .field("policy", &self.policy)
            .field("breaker", &self.breaker)
            .finish()
    }
}

impl Reliable {
    /// The default policy and real sleeps, no fallback.
    pub fn new(primary: Arc<dyn Provider>, breaker: Arc<CircuitBreaker>) -> Self {
        Self {
            primary,
            fallback: None,
            policy: RetryPolicy::default(),
            breaker,
            sleeper: Arc::new(RealSleeper),
        }
    }

    pub fn with_fallback(mut self, fallback: Arc<dyn Provider>) -> Self {
        self.fallback = Some(fallback);
        self
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// The primary alone, with retries and its breaker.
    fn attempts(&self, request: &Request) -> Result<Answer, LlmError> {
        let provider = self.primary.name();
        let mut failed = 0;
        loop {
            if crate::process::cancelled() {
                return Err(LlmError::Cancelled {
                    provider: provider.to_string(),
                });
            }
            if let Err(remaining) = self.breaker.admit() {
                return Err(LlmError::CircuitOpen {
                    provider: provider.to_string(),
                    remaining,
                });
            }
            let outcome = self.primary.complete(request);
            if let Err(LlmError::Cancelled { .. }) = outcome {
                return outcome; // says nothing about the provider's health
            }
            self.breaker.record(&outcome);
            let error = match outcome {
                Ok(answer) => return Ok(answer),
                Err(e) if !e.is_retryable() => return Err(e),
                Err(e) => e,
            };
            failed += 1;
            if failed >= self.policy.max_attempts {
                return Err(error);
            }
            let Some(wait) = self
                .policy
                .delay(failed, error.retry_after(), random_unit())
            else {
                tracing::warn!(provider, error = %error, "not retried: the server asked to wait longer than the policy allows");
                return Err(error);
            };
            tracing::warn!(provider, attempt = failed, wait_ms = wait.as_millis() as u64, error = %error, "retrying");
            self.sleeper.sleep(wait);
        }
    }
}

/// Whether another model might succeed where the primary failed (not when the request
/// itself is wrong or the day's budget is spent).
fn worth_falling_back(error: &LlmError) -> bool {
    !matches!(
        error,
        LlmError::BadRequest { .. }
            | LlmError::Budget(_)
            | LlmError::Config(_)
            | LlmError::ReplayMiss { .. }
            | LlmError::Cancelled { .. }
    )
}

impl Provider for Reliable {
    fn name(&self) -> &str {
        self.primary.name()
    }

    fn complete(&self, request: &Request) -> Result<Answer, LlmError> {
        match (self.attempts(request), &self.fallback) {
            (Err(error), Some(fallback)) if worth_falling_back(&error) => {
                tracing::warn!(provider = self.primary.name(), fallback = fallback.name(), error = %error, "falling back");
                fallback.complete(request)
            }
            (outcome, _) => outcome,
        }
    }
}

/// A number in `[0, 1)`, random enough for jitter (std's randomly keyed hasher, no crate).
fn random_unit() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
#[path = "reliable_tests.rs"]
mod tests;
