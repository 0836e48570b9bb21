//! The circuit breaker: after `failure_threshold` consecutive failed calls the
//! circuit opens and calls fail at once with `CircuitOpen` (no HTTP request)
//! for `open_secs`; then one trial call is let through (half-open): success
//! closes the circuit, failure opens it again.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The breaker's state, as reported to tests and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through; counts consecutive failures.
    Closed {
        /// Consecutive failures so far.
        failures: u32,
    },
    /// Calls are refused until the instant passes.
    Open {
        /// When a trial call may go through.
        until: Instant,
    },
    /// One trial call is in flight.
    HalfOpen,
}

/// A thread-safe circuit breaker.
#[derive(Debug)]
pub struct CircuitBreaker {
    state: Mutex<BreakerState>,
    threshold: u32,
    open_for: Duration,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(threshold: u32, open_for: Duration) -> Self {
        Self {
            state: Mutex::new(BreakerState::Closed { failures: 0 }),
            threshold: threshold.max(1),
            open_for,
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a call may go through now (moves open to half-open when due).
    pub fn try_acquire(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match *state {
            BreakerState::Closed { .. } => true,
            BreakerState::Open { until } if Instant::now() >= until => {
                *state = BreakerState::HalfOpen;
                true
            }
            BreakerState::Open { .. } | BreakerState::HalfOpen => false,
        }
    }

    /// Records a successful call: closes the circuit.
    pub fn on_success(&self) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = BreakerState::Closed { failures: 0 };
    }

    /// Records a failed call: counts it, opens the circuit at the threshold
    /// (or at once after a failed trial).
    pub fn on_failure(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let open = BreakerState::Open {
            until: Instant::now() + self.open_for,
        };
        *state = match *state {
            BreakerState::Closed { failures } if failures + 1 < self.threshold => {
                BreakerState::Closed { failures: failures + 1 }
            }
            BreakerState::Closed { .. } | BreakerState::HalfOpen => open,
            BreakerState::Open { until } => BreakerState::Open { until },
        };
    }

    /// Gives up a permit without a verdict (the call was cancelled or never
    /// reached the endpoint): a half-open circuit may try again.
    pub fn release(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if *state == BreakerState::HalfOpen {
            *state = BreakerState::Open { until: Instant::now() };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_closes_after_a_good_trial() {
        let breaker = CircuitBreaker::new(2, Duration::from_millis(30));
        assert!(breaker.try_acquire());
        breaker.on_failure();
        assert_eq!(breaker.state(), BreakerState::Closed { failures: 1 });
        assert!(breaker.try_acquire());
        breaker.on_failure();
        assert!(matches!(breaker.state(), BreakerState::Open { .. }));
        assert!(!breaker.try_acquire());
        std::thread::sleep(Duration::from_millis(40));
        assert!(breaker.try_acquire());
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        assert!(!breaker.try_acquire(), "only one trial at a time");
        breaker.on_success();
        assert_eq!(breaker.state(), BreakerState::Closed { failures: 0 });
    }

    #[test]
    fn failed_trial_reopens_and_success_resets_the_count() {
        let breaker = CircuitBreaker::new(3, Duration::from_millis(10));
        breaker.on_failure();
        breaker.on_failure();
        breaker.on_success();
        breaker.on_failure();
        assert_eq!(breaker.state(), BreakerState::Closed { failures: 1 });
        breaker.on_failure();
        breaker.on_failure();
        std::thread::sleep(Duration::from_millis(15));
        assert!(breaker.try_acquire());
        breaker.on_failure();
        assert!(matches!(breaker.state(), BreakerState::Open { .. }));
        assert!(!breaker.try_acquire());
    }
}
