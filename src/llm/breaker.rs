//! A circuit breaker per provider: after `threshold` consecutive retryable failures
//! (429, 5xx, timeouts, broken connections, cut-off answers) the provider is skipped for a
//! cool-down, so a dead API costs one fast [`LlmError::CircuitOpen`] per call instead of a
//! full round of retries. After the cool-down one call (the probe) goes through: its success
//! closes the circuit, its failure opens it again. A probe that never reports back (its
//! thread died) is replaced after another cool-down.
//!
//! Only retryable failures count: an answer of any kind, even a refusal of the request,
//! shows the provider is up and closes the circuit.
//!
//! [`LlmError::CircuitOpen`]: super::LlmError::CircuitOpen

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::LlmError;

#[derive(Debug)]
pub struct CircuitBreaker {
    /// Consecutive retryable failures that open the circuit.
    threshold: u32,
    /// How long an open circuit refuses calls before it lets a probe through.
    cooldown: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { probe_since: Instant },
}

impl Default for CircuitBreaker {
    /// Open after 5 consecutive failures, for 60 s.
    fn default() -> Self {
        Self::new(5, Duration::from_secs(60))
    }
}

impl CircuitBreaker {
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the state half-written: it is one Copy value.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// May a call go out now? `Err` carries how long the circuit stays open.
    pub fn admit(&self) -> Result<(), Duration> {
        let mut state = self.state();
        let now = Instant::now();
        match *state {
            State::Closed { .. } => Ok(()),
            State::Open { until } if now >= until => {
                *state = State::HalfOpen { probe_since: now };
                Ok(())
            }
            State::Open { until } => Err(until - now),
            State::HalfOpen { probe_since } if now.duration_since(probe_since) >= self.cooldown => {
                *state = State::HalfOpen { probe_since: now };
                Ok(())
            }
            State::HalfOpen { probe_since } => Err(self
                .cooldown
                .saturating_sub(now.duration_since(probe_since))),
        }
    }

    /// Count the outcome of a call that [`CircuitBreaker::admit`] let through.
    pub fn record<T>(&self, outcome: &Result<T, LlmError>) {
        let mut state = self.state();
        let failed = matches!(outcome, Err(e) if e.is_retryable());
        *state = match (*state, failed) {
            (_, false) => State::Closed { failures: 0 },
            (State::Closed { failures }, true) if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            (State::Open { until }, true) => State::Open { until },
            (_, true) => State::Open {
                until: Instant::now() + self.cooldown,
            },
        };
    }

    /// Whether calls are being refused right now.
    pub fn is_open(&self) -> bool {
        !matches!(*self.state(), State::Closed { .. })
    }
}

/// One breaker per provider name, shared by every agent that uses the provider.
#[derive(Debug, Default)]
pub struct Breakers {
    by_provider: Mutex<BTreeMap<String, Arc<CircuitBreaker>>>,
}

impl Breakers {
    /// The provider's breaker, made with [`CircuitBreaker::default`] on first use.
    pub fn get(&self, provider: &str) -> Arc<CircuitBreaker> {
        let mut map = self
            .by_provider
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.entry(provider.to_string()).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error() -> Result<(), LlmError> {
        Err(LlmError::Server {
            provider: "p".into(),
            status: 503,
            retry_after: None,
        })
    }

    #[test]
    fn opens_after_threshold_and_probes_after_cooldown() {
        let b = CircuitBreaker::new(3, Duration::from_millis(30));
        for _ in 0..2 {
            assert!(b.admit().is_ok());
            b.record(&server_error());
        }
        assert!(!b.is_open());
        b.record(&server_error());
        assert!(b.is_open());
        assert!(
            b.admit()
                .is_err_and(|left| left <= Duration::from_millis(30))
        );
        std::thread::sleep(Duration::from_millis(40));
        assert!(b.admit().is_ok(), "one probe after the cool-down");
        assert!(b.admit().is_err(), "only one probe at a time");
        b.record(&Ok::<(), LlmError>(()));
        assert!(!b.is_open());
        assert!(b.admit().is_ok());
    }

    #[test]
    fn a_failed_probe_reopens_and_fatal_errors_show_the_provider_is_up() {
        let b = CircuitBreaker::new(1, Duration::ZERO);
        b.record(&server_error());
        assert!(b.is_open());
        assert!(b.admit().is_ok());
        b.record(&server_error());
        assert!(b.is_open());
        let refused: Result<(), LlmError> = Err(LlmError::BadRequest {
            provider: "p".into(),
            status: 400,
            message: "no".into(),
        });
        b.record(&refused);
        assert!(!b.is_open());
        let breakers = Breakers::default();
        assert!(Arc::ptr_eq(&breakers.get("a"), &breakers.get("a")));
        assert!(!Arc::ptr_eq(&breakers.get("a"), &breakers.get("b")));
    }
}
