//! Suppression of repeated alerts and their summaries.
//!
//! After an alert is emitted for a pattern (service, kind, template), further
//! triggers of the same pattern within `suppress_secs` of the previous one
//! (sliding) are not emitted; they are counted, with a few samples and their
//! evidence, into the pattern's [`Suppression`]. When the pattern goes quiet,
//! or every `summary_every_secs` while it continues, one summary alert
//! ("pattern X suppressed N times") is emitted with the count.

use jiff::Timestamp;
use opsline_events::logs::{Alert, AlertKind, LogOffset, Severity};
use serde::{Deserialize, Serialize};

use crate::config::DetectorConfig;
use crate::ids::derived_v7;

/// The suppression state of one alert pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suppression {
    /// The pattern's kind.
    pub kind: AlertKind,
    /// The pattern's template.
    pub template_id: u64,
    /// Latest template text.
    pub template: String,
    /// Severity of the emitted alert.
    pub severity: Severity,
    /// Baseline reported with the emitted alert.
    pub baseline: Option<f64>,
    /// When the current suppression period started (ms).
    pub period_start_ms: i64,
    /// The last trigger or repeat (ms).
    pub last_ms: i64,
    /// The first repeat of the current period (ms).
    pub first_repeat_ms: Option<i64>,
    /// Repeated lines suppressed in the current period.
    pub suppressed: u64,
    /// Samples of the suppressed lines (redacted).
    pub samples: Vec<String>,
    /// Evidence of the suppressed lines.
    pub evidence: Vec<LogOffset>,
}

/// Material of one trigger: its lines, samples and evidence.
#[derive(Debug, Clone, Default)]
pub struct TriggerLines {
    /// Lines the trigger covers.
    pub count: u64,
    /// Redacted samples.
    pub samples: Vec<String>,
    /// Raw-log offsets.
    pub evidence: Vec<LogOffset>,
}

impl Suppression {
    /// Whether a trigger at `now_ms` still falls in this pattern's suppression.
    pub fn alive(&self, now_ms: i64, config: &DetectorConfig) -> bool {
        now_ms <= self.last_ms.saturating_add(secs_to_ms(config.suppress_secs))
    }

    /// Counts `lines` as suppressed repeats at `now_ms`.
    pub fn absorb(&mut self, lines: TriggerLines, now_ms: i64, config: &DetectorConfig) {
        self.suppressed = self.suppressed.saturating_add(lines.count);
        self.first_repeat_ms.get_or_insert(now_ms);
        self.last_ms = self.last_ms.max(now_ms);
        for sample in lines.samples {
            if self.samples.len() >= config.max_samples {
                break;
            }
            self.samples.push(sample);
        }
        let room = config.max_evidence.saturating_sub(self.evidence.len());
        self.evidence.extend(lines.evidence.into_iter().take(room));
    }

    /// Whether the summary of a continuing pattern is due at `now_ms`.
    pub fn summary_due(&self, now_ms: i64, config: &DetectorConfig) -> bool {
        self.suppressed > 0 && now_ms.saturating_sub(self.period_start_ms) >= secs_to_ms(config.summary_every_secs)
    }

    /// The summary alert of the current period (`None` when nothing was suppressed), and a reset.
    pub fn take_summary(&mut self, service: &str, now_ms: i64) -> Option<Alert> {
        if self.suppressed == 0 {
            return None;
        }
        let start = self.first_repeat_ms.unwrap_or(self.period_start_ms);
        let alert = build_alert(AlertParts {
            service,
            kind: self.kind,
            severity: self.severity,
            template_id: self.template_id,
            template: &self.template,
            samples: std::mem::take(&mut self.samples),
            count: self.suppressed,
            baseline: self.baseline,
            start_ms: start,
            end_ms: self.last_ms,
            suppressed: self.suppressed,
            evidence: std::mem::take(&mut self.evidence),
            summary: true,
        });
        tracing::info!(
            service,
            kind = ?self.kind,
            template_id = self.template_id,
            suppressed = self.suppressed,
            "pattern {:?} suppressed {} times",
            self.template,
            self.suppressed
        );
        self.suppressed = 0;
        self.first_repeat_ms = None;
        self.period_start_ms = now_ms;
        Some(alert)
    }
}

/// Everything an alert is made of.
pub struct AlertParts<'a> {
    /// Service.
    pub service: &'a str,
    /// Kind.
    pub kind: AlertKind,
    /// Severity.
    pub severity: Severity,
    /// Template id.
    pub template_id: u64,
    /// Template text.
    pub template: &'a str,
    /// Redacted samples.
    pub samples: Vec<String>,
    /// Lines counted.
    pub count: u64,
    /// Baseline, if the kind has one.
    pub baseline: Option<f64>,
    /// Window start (ms).
    pub start_ms: i64,
    /// Window end (ms).
    pub end_ms: i64,
    /// Suppressed repeats summarised.
    pub suppressed: u64,
    /// Evidence.
    pub evidence: Vec<LogOffset>,
    /// Whether this is a summary of suppressed repeats.
    pub summary: bool,
}

/// Builds an alert whose id is derived from (service, kind, template, window start, summary).
pub fn build_alert(parts: AlertParts<'_>) -> Alert {
    let kind = parts.kind.as_str();
    let alert_id = derived_v7(
        parts.start_ms,
        &[
            parts.service.as_bytes(),
            kind.as_bytes(),
            &parts.template_id.to_le_bytes(),
            &parts.start_ms.to_le_bytes(),
            &[u8::from(parts.summary)],
        ],
    );
    Alert {
        alert_id,
        service: parts.service.to_owned(),
        kind: parts.kind,
        severity: parts.severity,
        template_id: parts.template_id,
        template: parts.template.to_owned(),
        sample_lines: parts.samples,
        count: parts.count,
        baseline: parts.baseline.map(|b| (b * 1000.0).round() / 1000.0),
        window_start: ms_to_ts(parts.start_ms),
        window_end: ms_to_ts(parts.end_ms.max(parts.start_ms)),
        suppressed: parts.suppressed,
        evidence: parts.evidence,
        origins: Default::default(),
        external: None,
    }
}

/// Seconds to milliseconds, saturating.
pub fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX / 1000).saturating_mul(1000)
}

/// Milliseconds since the epoch to a timestamp (clamped to the representable range).
pub fn ms_to_ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 { Timestamp::MIN } else { Timestamp::MAX })
}
