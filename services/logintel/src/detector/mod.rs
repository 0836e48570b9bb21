//! The alert detector of one service, driven by event time.
//!
//! Four detectors run on every line of a service:
//! - **new template**: the miner created a template after the service's warm-up
//!   (`warmup_lines` and `warmup_secs`); for `novelty_secs` its further lines are
//!   repeats of that alert while it is suppressing;
//! - **rate burst**: a template's count in the current window exceeds
//!   `burst_factor × baseline + burst_sigmas × √baseline` and `burst_min_count`,
//!   the baseline being the template's EWMA of lines per window (only once the
//!   template is older than the warm-up, so the baseline is learned);
//! - **error surge**: the same test on the service's error-level lines, and on its
//!   fatal-class lines (fatal, critical, emergency, alert, panic) with
//!   `fatal_min_count` (default 1: a fatal line where fatal lines are rare is a surge);
//! - **silence**: a steady template (present in `steady_presence` of its windows
//!   for `steady_min_windows`) has no line for `silence_windows` windows.
//!
//! Repeats are suppressed and summarised (see [`suppress`]). The whole state is
//! serde-serializable, so it is part of the service's snapshot; given the same
//! lines and event times it produces the same alerts with the same ids.

pub mod origins;
pub mod rate;
pub mod suppress;

use std::collections::{BTreeMap, BTreeSet};

use opsline_events::logs::{Alert, AlertKind, LogOffset, Severity};
use opsline_logmine::Severity as Level;
use serde::{Deserialize, Serialize};

use crate::config::DetectorConfig;
use crate::redaction::redact;
use origins::RecentOrigins;
use rate::WindowRate;
use suppress::{AlertParts, Suppression, TriggerLines, build_alert, secs_to_ms};

/// One mined line, as the detector sees it.
#[derive(Debug, Clone)]
pub struct Observation<'a> {
    /// Event time (ms since the epoch).
    pub time_ms: i64,
    /// The line's template id.
    pub template_id: u64,
    /// The template text.
    pub template: &'a str,
    /// Whether this line created the template.
    pub created: bool,
    /// The line's severity class, when its level was recognised.
    pub level: Option<Level>,
    /// Whether the level is of the fatal class (fatal, critical, emergency, alert, panic).
    pub fatal: bool,
    /// The raw line (redacted before it is kept as a sample).
    pub line: &'a str,
    /// Where the line is in the raw-log topic.
    pub evidence: LogOffset,
    /// The host that wrote the line, when known.
    pub host: Option<&'a str>,
    /// The component that wrote the line, when known.
    pub component: Option<&'a str>,
}

/// What the detector keeps per template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateStats {
    /// Latest template text (not persisted: refilled from the miner on restore).
    #[serde(skip)]
    pub text: String,
    /// First line's event time (ms).
    pub first_ms: i64,
    /// Lines of this template repeat its new-template alert until then (ms).
    pub novel_until_ms: i64,
    /// Window counts and baselines.
    pub rate: WindowRate,
    /// Worst level of the template's lines: fatal 3, error 2, warning 1, else 0.
    #[serde(default)]
    pub level: u8,
    /// Recent hosts and components of its lines.
    #[serde(default)]
    pub origins: RecentOrigins,
}

/// The detector state of one service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceDetector {
    /// The service.
    pub service: String,
    /// Lines seen.
    pub lines: u64,
    /// First event time (ms).
    pub first_ms: Option<i64>,
    /// The event clock: the latest event time seen (ms).
    pub clock_ms: i64,
    /// The current window index.
    pub window: i64,
    /// Per-template statistics.
    pub templates: BTreeMap<u64, TemplateStats>,
    /// Templates currently steady (silence candidates).
    pub steady: BTreeSet<u64>,
    /// Error-level lines of the service.
    pub errors: WindowRate,
    /// Fatal-class lines of the service.
    #[serde(default)]
    pub fatal: WindowRate,
    /// Suppression state per pattern (`kind/template`).
    pub suppressions: BTreeMap<String, Suppression>,
    /// Alerts emitted (summaries included).
    pub alerts_emitted: u64,
    /// Repeats suppressed.
    pub repeats_suppressed: u64,
}

impl ServiceDetector {
    /// A fresh detector for `service`.
    pub fn new(service: &str) -> Self {
        Self {
            service: service.to_owned(),
            ..Self::default()
        }
    }

    /// Whether the warm-up is over.
    pub fn warmed_up(&self, config: &DetectorConfig) -> bool {
        let elapsed = self
            .first_ms
            .map(|first| self.clock_ms.saturating_sub(first))
            .unwrap_or(0);
        self.lines >= config.warmup_lines && elapsed >= secs_to_ms(config.warmup_secs)
    }

    /// Observes one line; emitted alerts, stamped with their origins, are appended to `out`.
    pub fn observe(&mut self, obs: &Observation<'_>, config: &DetectorConfig, out: &mut Vec<Alert>) {
        let start = out.len();
        self.observe_line(obs, config, out);
        origins::fill(&self.templates, out.get_mut(start..).unwrap_or_default());
    }

    fn observe_line(&mut self, obs: &Observation<'_>, config: &DetectorConfig, out: &mut Vec<Alert>) {
        self.advance_clock(obs.time_ms, config, out);
        let now = self.clock_ms;
        self.first_ms.get_or_insert(now);
        self.lines = self.lines.saturating_add(1);
        let warm = self.warmed_up(config);
        let window = self.window;
        let window_ms = window_ms(config);
        let error = obs.level == Some(Level::Error);
        let sample = || redact(obs.line, config.max_sample_chars);

        let stats = self.templates.entry(obs.template_id).or_insert_with(|| TemplateStats {
            text: obs.template.to_owned(),
            first_ms: now,
            novel_until_ms: i64::MIN,
            rate: WindowRate::default(),
            level: 0,
            origins: RecentOrigins::default(),
        });
        stats.level = stats.level.max(level_class(obs.level, obs.fatal));
        stats.origins.note(obs.host, obs.component, now);
        if stats.text != obs.template {
            obs.template.clone_into(&mut stats.text);
        }
        if let Some(was_steady) = stats.rate.roll(window, config) {
            if was_steady {
                self.steady.insert(obs.template_id);
            } else {
                self.steady.remove(&obs.template_id);
            }
        }
        stats.rate.add(&obs.evidence, sample, config);
        let template_age = now.saturating_sub(stats.first_ms);
        let one_line = || TriggerLines {
            count: 1,
            samples: vec![sample()],
            evidence: vec![obs.evidence.clone()],
        };

        let mut triggers: Vec<(AlertKind, Severity, Option<f64>, i64, TriggerLines)> = Vec::new();
        let mut repeats: Vec<AlertKind> = Vec::new();
        if obs.created && warm {
            stats.novel_until_ms = now.saturating_add(secs_to_ms(config.novelty_secs));
            let severity = match obs.level {
                Some(Level::Error) => Severity::Critical,
                Some(Level::Warn) => Severity::Warning,
                _ => Severity::Info,
            };
            triggers.push((AlertKind::NewTemplate, severity, None, now, one_line()));
        } else if stats.novel_until_ms > now {
            // A still-new template: its lines repeat the alert while it is suppressing.
            repeats.push(AlertKind::NewTemplate);
        }
        if template_age >= secs_to_ms(config.warmup_secs) {
            if stats.rate.fired {
                repeats.push(AlertKind::RateBurst);
            } else if stats.rate.is_burst(config, config.burst_min_count) {
                stats.rate.fired = true;
                let severity = if error { Severity::Critical } else { Severity::Warning };
                let lines = TriggerLines {
                    count: stats.rate.count,
                    samples: stats.rate.samples.clone(),
                    evidence: stats.rate.evidence.clone(),
                };
                triggers.push((
                    AlertKind::RateBurst,
                    severity,
                    Some(stats.rate.ewma),
                    window * window_ms,
                    lines,
                ));
            }
        }
        if error {
            self.errors.roll(window, config);
            self.errors.add(&obs.evidence, sample, config);
            let mut fatal_burst = false;
            if obs.fatal {
                self.fatal.roll(window, config);
                self.fatal.add(&obs.evidence, sample, config);
                fatal_burst = warm && !self.fatal.fired && self.fatal.is_burst(config, config.fatal_min_count);
            }
            let error_burst = warm && !self.errors.fired && self.errors.is_burst(config, config.error_min_count);
            if error_burst || fatal_burst {
                self.errors.fired |= error_burst;
                self.fatal.fired |= fatal_burst;
                let rate = if error_burst { &self.errors } else { &self.fatal };
                let lines = TriggerLines {
                    count: rate.count,
                    samples: rate.samples.clone(),
                    evidence: rate.evidence.clone(),
                };
                let baseline = Some(rate.ewma);
                triggers.push((
                    AlertKind::ErrorSurge,
                    Severity::Critical,
                    baseline,
                    window * window_ms,
                    lines,
                ));
            } else if warm && (self.errors.fired || obs.fatal) {
                // Error lines in a surging window, and any fatal line while the surge is
                // suppressing (fatal lines are rare by definition), repeat the surge.
                repeats.push(AlertKind::ErrorSurge);
            }
        }
        for kind in repeats {
            self.repeat(kind, obs.template_id, one_line(), config, out);
        }
        for (kind, severity, baseline, start_ms, lines) in triggers {
            let key_template = if kind == AlertKind::ErrorSurge {
                0
            } else {
                obs.template_id
            };
            let pattern = Pattern {
                kind,
                key_template,
                template_id: obs.template_id,
                template: obs.template,
                severity,
                baseline,
            };
            self.trigger(pattern, start_ms, lines, config, out);
        }
    }

    /// Moves the event clock to `time_ms` (never backwards) and runs the time-driven
    /// checks (silence, suppression expiry and summaries) when a new window starts.
    pub fn advance(&mut self, time_ms: i64, config: &DetectorConfig, out: &mut Vec<Alert>) {
        let start = out.len();
        self.advance_clock(time_ms, config, out);
        origins::fill(&self.templates, out.get_mut(start..).unwrap_or_default());
    }

    fn advance_clock(&mut self, time_ms: i64, config: &DetectorConfig, out: &mut Vec<Alert>) {
        let first_time = self.first_ms.is_none() && self.lines == 0;
        self.clock_ms = if first_time {
            time_ms
        } else {
            self.clock_ms.max(time_ms)
        };
        let window = self.clock_ms.div_euclid(window_ms(config));
        if first_time {
            self.window = window;
            return;
        }
        if window <= self.window {
            return;
        }
        self.window = window;
        self.check_silence(config, out);
        self.sweep(config, out);
    }

    /// Emits every pending summary (end of a replay).
    pub fn flush(&mut self, out: &mut Vec<Alert>) {
        let start = out.len();
        let now = self.clock_ms;
        for (_, mut suppression) in std::mem::take(&mut self.suppressions) {
            if let Some(alert) = suppression.take_summary(&self.service, now) {
                self.alerts_emitted = self.alerts_emitted.saturating_add(1);
                out.push(alert);
            }
        }
        origins::fill(&self.templates, out.get_mut(start..).unwrap_or_default());
    }

    /// Drops what a later line would discard anyway (the contents of windows that are
    /// already over), to keep snapshots small.
    pub fn compact(&mut self) {
        for stats in self.templates.values_mut() {
            if stats.rate.window < self.window {
                stats.rate.evidence.clear();
                stats.rate.samples.clear();
            }
        }
        for rate in [&mut self.errors, &mut self.fatal] {
            if rate.window < self.window {
                rate.evidence.clear();
                rate.samples.clear();
            }
        }
    }

    /// Refills template texts after a restore.
    pub fn refill_texts(&mut self, text_of: impl Fn(u64) -> Option<String>) {
        for (id, stats) in &mut self.templates {
            if let Some(text) = text_of(*id) {
                stats.text = text;
            }
        }
    }

    /// Forgets a template that the miner merged into another one.
    pub fn forget_template(&mut self, template_id: u64) {
        self.templates.remove(&template_id);
        self.steady.remove(&template_id);
    }

    fn check_silence(&mut self, config: &DetectorConfig, out: &mut Vec<Alert>) {
        let silence_windows = i64::try_from(config.silence_windows).unwrap_or(i64::MAX);
        let window_ms = window_ms(config);
        let silent: Vec<u64> = self
            .steady
            .iter()
            .copied()
            .filter(|id| {
                self.templates
                    .get(id)
                    .is_some_and(|s| self.window.saturating_sub(s.rate.last_present) > silence_windows)
            })
            .collect();
        for id in silent {
            self.steady.remove(&id);
            let Some(stats) = self.templates.get_mut(&id) else {
                continue;
            };
            stats.rate.presence = 0.0;
            let start_ms = stats.rate.last_present.saturating_add(1).saturating_mul(window_ms);
            let lines = TriggerLines {
                count: 0,
                samples: Vec::new(),
                evidence: stats.rate.evidence.clone(),
            };
            let text = stats.text.clone();
            let baseline = Some(stats.rate.ewma);
            let pattern = Pattern {
                kind: AlertKind::Silence,
                key_template: id,
                template_id: id,
                template: &text,
                severity: Severity::Warning,
                baseline,
            };
            self.trigger(pattern, start_ms, lines, config, out);
        }
    }

    fn sweep(&mut self, config: &DetectorConfig, out: &mut Vec<Alert>) {
        let now = self.clock_ms;
        let before = out.len();
        let mut expired = Vec::new();
        for (key, suppression) in &mut self.suppressions {
            if !suppression.alive(now, config) {
                expired.push(key.clone());
            } else if suppression.summary_due(now, config)
                && let Some(alert) = suppression.take_summary(&self.service, now)
            {
                out.push(alert);
            }
        }
        for key in expired {
            if let Some(mut suppression) = self.suppressions.remove(&key)
                && let Some(alert) = suppression.take_summary(&self.service, now)
            {
                out.push(alert);
            }
        }
        self.alerts_emitted = self.alerts_emitted.saturating_add((out.len() - before) as u64);
    }

    fn repeat(
        &mut self,
        kind: AlertKind,
        template_id: u64,
        lines: TriggerLines,
        config: &DetectorConfig,
        out: &mut Vec<Alert>,
    ) {
        let key_template = if kind == AlertKind::ErrorSurge { 0 } else { template_id };
        let now = self.clock_ms;
        let Some(suppression) = self.suppressions.get_mut(&pattern_key(kind, key_template)) else {
            return;
        };
        if !suppression.alive(now, config) {
            return;
        }
        self.repeats_suppressed = self.repeats_suppressed.saturating_add(lines.count);
        suppression.absorb(lines, now, config);
        if suppression.summary_due(now, config)
            && let Some(alert) = suppression.take_summary(&self.service, now)
        {
            self.alerts_emitted = self.alerts_emitted.saturating_add(1);
            out.push(alert);
        }
    }

    fn trigger(
        &mut self,
        pattern: Pattern<'_>,
        start_ms: i64,
        lines: TriggerLines,
        config: &DetectorConfig,
        out: &mut Vec<Alert>,
    ) {
        let now = self.clock_ms;
        let key = pattern_key(pattern.kind, pattern.key_template);
        if let Some(suppression) = self.suppressions.get_mut(&key) {
            if suppression.alive(now, config) {
                self.repeats_suppressed = self.repeats_suppressed.saturating_add(lines.count.max(1));
                let lines = TriggerLines {
                    count: lines.count.max(1),
                    ..lines
                };
                suppression.absorb(lines, now, config);
                if suppression.summary_due(now, config)
                    && let Some(alert) = suppression.take_summary(&self.service, now)
                {
                    self.alerts_emitted = self.alerts_emitted.saturating_add(1);
                    out.push(alert);
                }
                return;
            }
            if let Some(alert) = suppression.take_summary(&self.service, now) {
                self.alerts_emitted = self.alerts_emitted.saturating_add(1);
                out.push(alert);
            }
        }
        let alert = build_alert(AlertParts {
            service: &self.service,
            kind: pattern.kind,
            severity: pattern.severity,
            template_id: pattern.template_id,
            template: pattern.template,
            samples: lines.samples,
            count: lines.count,
            baseline: pattern.baseline,
            start_ms,
            end_ms: now,
            suppressed: 0,
            evidence: lines.evidence,
            summary: false,
        });
        self.alerts_emitted = self.alerts_emitted.saturating_add(1);
        out.push(alert);
        self.suppressions.insert(
            key,
            Suppression {
                kind: pattern.kind,
                template_id: pattern.template_id,
                template: pattern.template.to_owned(),
                severity: pattern.severity,
                baseline: pattern.baseline,
                period_start_ms: now,
                last_ms: now,
                first_repeat_ms: None,
                suppressed: 0,
                samples: Vec::new(),
                evidence: Vec::new(),
            },
        );
    }
}

struct Pattern<'a> {
    kind: AlertKind,
    key_template: u64,
    template_id: u64,
    template: &'a str,
    severity: Severity,
    baseline: Option<f64>,
}

/// Fatal 3, error 2, warning 1, else 0.
pub fn level_class(level: Option<Level>, fatal: bool) -> u8 {
    match level {
        _ if fatal => 3,
        Some(Level::Error) => 2,
        Some(Level::Warn) => 1,
        _ => 0,
    }
}

fn pattern_key(kind: AlertKind, template_id: u64) -> String {
    format!("{}/{template_id}", kind.as_str())
}

fn window_ms(config: &DetectorConfig) -> i64 {
    secs_to_ms(config.window_secs.max(1))
}

#[cfg(test)]
mod tests;
