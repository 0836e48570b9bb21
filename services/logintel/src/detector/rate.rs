//! Per-window counting with EWMA baselines, on event time.
//!
//! A [`WindowRate`] counts lines in the current window and, when a later
//! window starts, folds the closed window (and any empty windows in between,
//! in closed form) into two exponentially weighted averages: lines per window
//! (the rate baseline) and the share of non-empty windows (presence, which
//! decides whether a template is steady enough for silence to matter).

use opsline_events::logs::LogOffset;
use serde::{Deserialize, Serialize};

use crate::config::DetectorConfig;

/// Counts of one stream (a template, or a service's error lines) in event-time windows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowRate {
    /// Index of the current window (`event time / window length`).
    pub window: i64,
    /// Lines in the current window.
    pub count: u64,
    /// Baseline: EWMA of lines per window over the closed windows.
    pub ewma: f64,
    /// EWMA of "the window had at least one line".
    pub presence: f64,
    /// Closed windows observed since the first line.
    pub windows_seen: u64,
    /// The last window that had a line.
    pub last_present: i64,
    /// Whether a burst alert already fired in the current window.
    pub fired: bool,
    /// Raw-log offsets of the current window's lines (capped).
    pub evidence: Vec<LogOffset>,
    /// Redacted sample lines of the current window (capped).
    pub samples: Vec<String>,
    started: bool,
}

impl WindowRate {
    /// Moves to `window`, closing the current window and decaying over empty ones.
    /// Returns whether the stream was steady when its last window closed.
    pub fn roll(&mut self, window: i64, config: &DetectorConfig) -> Option<bool> {
        if !self.started {
            self.started = true;
            self.window = window;
            self.last_present = window;
            return None;
        }
        if window <= self.window {
            return None;
        }
        let alpha = config.ewma_alpha.clamp(0.0, 1.0);
        let present = if self.count > 0 { 1.0 } else { 0.0 };
        self.ewma = (1.0 - alpha) * self.ewma + alpha * self.count as f64;
        self.presence = (1.0 - alpha) * self.presence + alpha * present;
        self.windows_seen = self.windows_seen.saturating_add(1);
        let steady = self.is_steady(config);
        let gap = window.saturating_sub(self.window).saturating_sub(1);
        if gap > 0 {
            let decay = (1.0 - alpha).powi(i32::try_from(gap.min(100_000)).unwrap_or(100_000));
            self.ewma *= decay;
            self.presence *= decay;
            self.windows_seen = self.windows_seen.saturating_add(u64::try_from(gap).unwrap_or(0));
        }
        self.window = window;
        self.count = 0;
        self.fired = false;
        self.evidence.clear();
        self.samples.clear();
        Some(steady)
    }

    /// Counts one line of the current window.
    pub fn add(&mut self, evidence: &LogOffset, sample: impl FnOnce() -> String, config: &DetectorConfig) {
        self.count = self.count.saturating_add(1);
        self.last_present = self.window;
        if self.evidence.len() < config.max_evidence {
            self.evidence.push(evidence.clone());
        }
        if self.samples.len() < config.max_samples {
            self.samples.push(sample());
        }
    }

    /// Whether the stream appears in nearly every window (see `steady_presence`).
    pub fn is_steady(&self, config: &DetectorConfig) -> bool {
        self.windows_seen >= config.steady_min_windows && self.presence >= config.steady_presence
    }

    /// Whether the current window's count is a burst over the baseline.
    pub fn is_burst(&self, config: &DetectorConfig, min_count: u64) -> bool {
        let threshold = config.burst_factor * self.ewma + config.burst_sigmas * self.ewma.sqrt();
        self.count >= min_count && self.count as f64 > threshold
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn offset() -> LogOffset {
        LogOffset {
            topic: "t".into(),
            partition: 0,
            offset: 0,
        }
    }

    #[test]
    fn baseline_learns_and_decays_over_gaps() {
        let config = DetectorConfig::default();
        let mut rate = WindowRate::default();
        for window in 0..50 {
            rate.roll(window, &config);
            for _ in 0..3 {
                rate.add(&offset(), String::new, &config);
            }
        }
        rate.roll(50, &config);
        assert!((rate.ewma - 3.0).abs() < 0.1, "{}", rate.ewma);
        assert!(rate.is_steady(&config));
        rate.roll(80, &config);
        assert!(rate.ewma < 0.2, "{}", rate.ewma);
        assert!(!rate.is_steady(&config));
    }

    #[test]
    fn burst_needs_min_count_and_baseline_excess() {
        let config = DetectorConfig::default();
        let mut rate = WindowRate::default();
        rate.roll(0, &config);
        for _ in 0..9 {
            rate.add(&offset(), String::new, &config);
        }
        assert!(!rate.is_burst(&config, 10));
        rate.add(&offset(), String::new, &config);
        assert!(rate.is_burst(&config, 10));
        rate.ewma = 5.0;
        assert!(!rate.is_burst(&config, 10));
    }
}
