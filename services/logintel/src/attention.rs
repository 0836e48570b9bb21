//! The attention score: when signals (alerts) deserve a person's attention.
//!
//! Alerts stay cheap signals. The alerts of one group (see [`crate::correlation`]) are summed
//! up in [`GroupFacts`], and the group's score is the sum of these parts (points):
//!
//! | part | points |
//! |---|---|
//! | `level` | worst log level: fatal 3, error 2, warning 1, else 0 |
//! | `wording` | 2 when a template says it failed (`failed`, `fatal`, `panic`, `exception`, `refused`, `timeout`, ...); caller errors (`permission denied`, `not found`, `invalid`, `authentication failure`, ...) and corrected/recovered wording do not count |
//! | `rarity` | 1 for a new template, or one seen in less than `rare_share` of its service's lines |
//! | `burst` | 1 for a burst or error surge over the learned baseline, 2 when it is at least 50 lines and 10 times the baseline |
//! | `breadth` | 1 for each broad dimension, at most 2: 3 or more templates, 2 or more services, 3 or more components (as the log headers name them) |
//! | `persistence` | 1 after 10 minutes of signals, 2 after 30 |
//! | `tickets` | 2 per linked helpdesk ticket, at most 6 |
//!
//! A group opens an incident when its score reaches the threshold (default 5) **and** it shows
//! a problem: an error-level line, a failure word, a silence, or a linked ticket (activity
//! without any of these, such as a burst of normal lines, is a signal, not an incident). Groups
//! without an error-level line must also last the transient pause (default 5 minutes): a
//! warning blip that clears does not page. So a lone new template at warning level never opens
//! an incident, and neither does one error line that is not rare or says nothing failed.
//!
//! Hosts (as the log headers or the transport name them) do not add points: counting 3 or
//! more hosts as breadth opened 4 more incidents on LogHub's BGL, none of them about a line
//! the operators flagged (incident precision 0.833 -> 0.761), because a fleet writes the same
//! benign message on many nodes. Spread over hosts raises the severity of an incident that the
//! evidence already opened, joins another service's alerts from the same host (see
//! [`crate::correlation`]) and is named in the reason ("on 4 hosts").
//!
//! Severity levels, from the score's margin over the threshold: sev3 below 3 points, sev2
//! below 6, sev1 above; raised one level by 3 or more linked tickets, 2 or more services or
//! 3 or more hosts; an incident of a single log line is at most sev3.

use std::collections::BTreeSet;

use opsline_events::logs::{Alert, AlertKind, ScoreParts, SevLevel};
use opsline_logmine::Miner;
use serde::{Deserialize, Serialize};

use crate::config::{AttentionConfig, IncidentConfig};
use crate::detector::ServiceDetector;

/// Templates and services kept per group for content matching (the rest are counted).
const KEPT_TEXTS: usize = 16;
/// Failure words kept per group, for the reason in words.
const KEPT_WORDS: usize = 4;

/// Words that say something failed (matched as whole words or word prefixes, case-insensitive).
const FAILURE_WORDS: &[&str] = &[
    "fail",
    "fatal",
    "panic",
    "error",
    "exception",
    "abort",
    "crash",
    "terminat",
    "refused",
    "unable",
    "cannot",
    "can't",
    "couldn't",
    "timeout",
    "timed out",
    "unreachable",
    "corrupt",
    "killed",
    "segfault",
    "severed",
    "broken",
    "lost",
    "out of memory",
    "stopping",
    "shutdown",
    "down",
];

/// Wording of errors caused by the caller or the input, not by the system (they do not page).
const CALLER_WORDS: &[&str] = &[
    "permission denied",
    "access denied",
    "no such file",
    "not found",
    "invalid",
    "missing",
    "forbidden",
    "unauthorized",
    "unauthorised",
    "bad request",
    "user unknown",
    "authentication fail",
    "illegal user",
    "not allowed",
    "too big",
];

/// Wording of a problem that was handled (it does not page).
const HANDLED_WORDS: &[&str] = &["corrected", "recovered", "succeeded", "successful", "resolved"];

/// What one alert says, as the score sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signal {
    /// Event time of the alert (ms).
    pub at_ms: i64,
    /// Worst level of its template's lines: fatal 3, error 2, warning 1, else 0.
    pub level: u8,
    /// The template text.
    pub template: String,
    /// The template id.
    pub template_id: u64,
    /// The template is new, or rare in its service.
    pub rare: bool,
    /// Burst points (0, 1 or 2).
    pub burst: u8,
    /// It is a silence alert.
    pub silence: bool,
    /// Lines the alert counted.
    pub lines: u64,
    /// The service.
    pub service: String,
    /// Hosts that wrote its lines (as their headers name them).
    pub hosts: Vec<String>,
    /// Components that wrote its lines.
    pub components: Vec<String>,
}

impl Signal {
    /// Whether the signal on its own shows a problem (error level, failure wording or silence).
    pub fn is_problem(&self) -> bool {
        self.level >= 2 || self.silence || !failure_words(&self.template).is_empty()
    }
}

/// What a group of signals adds up to (kept in the incident book, persisted in snapshots).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupFacts {
    /// First signal (ms).
    pub first_ms: i64,
    /// Latest signal (ms).
    pub last_ms: i64,
    /// Worst level.
    pub level: u8,
    /// Failure words seen (the first few).
    pub failure_words: Vec<String>,
    /// Whether a caller-error template was seen.
    pub caller_errors: bool,
    /// Whether a new or rare template was seen.
    pub rare: bool,
    /// Best burst points.
    pub burst: u8,
    /// Whether a silence was seen.
    pub silence: bool,
    /// Lines counted by the alerts.
    pub lines: u64,
    /// Alerts.
    pub alerts: u64,
    /// Distinct templates (ids, the first ones).
    pub template_ids: BTreeSet<u64>,
    /// Distinct templates in all.
    pub template_count: u64,
    /// Template texts (the first ones), for content matching.
    pub texts: Vec<String>,
    /// Services involved (the first ones).
    pub services: Vec<String>,
    /// Hosts involved (the first ones).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Distinct hosts in all.
    #[serde(default)]
    pub host_count: u64,
    /// Components involved (the first ones).
    #[serde(default)]
    pub components: Vec<String>,
    /// Distinct components in all.
    #[serde(default)]
    pub component_count: u64,
    /// Linked helpdesk tickets in all.
    pub tickets: u64,
    /// Who declared the incident, if a person did.
    #[serde(default)]
    pub declared_by: Option<String>,
}

impl GroupFacts {
    /// Facts of a group holding only `signal`.
    pub fn new(signal: &Signal) -> Self {
        let mut facts = Self {
            first_ms: signal.at_ms,
            last_ms: signal.at_ms,
            ..Self::default()
        };
        facts.add(signal);
        facts
    }

    /// Adds one signal.
    pub fn add(&mut self, signal: &Signal) {
        self.first_ms = self.first_ms.min(signal.at_ms);
        self.last_ms = self.last_ms.max(signal.at_ms);
        self.level = self.level.max(signal.level);
        let (failures, caller) = wording(&signal.template);
        self.caller_errors |= caller;
        for word in failures {
            if self.failure_words.len() < KEPT_WORDS && !self.failure_words.iter().any(|w| w == word) {
                self.failure_words.push(word.to_owned());
            }
        }
        self.rare |= signal.rare;
        self.burst = self.burst.max(signal.burst);
        self.silence |= signal.silence;
        self.lines = self.lines.saturating_add(signal.lines);
        self.alerts = self.alerts.saturating_add(1);
        if !self.template_ids.contains(&signal.template_id) {
            self.template_count = self.template_count.saturating_add(1);
            if self.template_ids.len() < KEPT_TEXTS * 4 {
                self.template_ids.insert(signal.template_id);
            }
            if self.texts.len() < KEPT_TEXTS {
                self.texts.push(signal.template.clone());
            }
        }
        if self.services.len() < KEPT_TEXTS && !self.services.contains(&signal.service) {
            self.services.push(signal.service.clone());
        }
        for host in &signal.hosts {
            add_distinct(&mut self.hosts, &mut self.host_count, host);
        }
        for component in &signal.components {
            add_distinct(&mut self.components, &mut self.component_count, component);
        }
    }

    /// Whether the group shows a problem (see the module docs).
    pub fn shows_problem(&self) -> bool {
        self.level >= 2 || !self.failure_words.is_empty() || self.silence || self.tickets > 0
    }

    /// How long the signals have lasted (ms).
    pub fn duration_ms(&self) -> i64 {
        self.last_ms.saturating_sub(self.first_ms)
    }

    /// Whether the group may open an incident now: score, problem and transient pause.
    pub fn can_open(&self, config: &AttentionConfig) -> bool {
        let paused = self.level < 2
            && self.tickets == 0
            && self.duration_ms() < crate::detector::suppress::secs_to_ms(config.transient_pause_secs);
        self.shows_problem() && !paused && score(self).0 >= config.threshold
    }

    /// Whether `text` shares content with one of the group's templates.
    pub fn similar_to(&self, text: &str, config: &AttentionConfig) -> bool {
        self.texts.iter().any(|t| similarity(t, text) >= config.similarity)
    }

    /// Whether `signal` is related to the group: its service already has alerts in the group
    /// (an incident that took a service's alerts is that service's incident too, so its later
    /// alerts, from its logs or from another monitoring system, join it rather than open one of
    /// their own), its template shares content with the group's, or its lines come from a host
    /// the group's lines came from.
    pub fn related_to(&self, signal: &Signal, config: &AttentionConfig) -> bool {
        self.services.contains(&signal.service)
            || self.similar_to(&signal.template, config)
            || signal.hosts.iter().any(|h| self.hosts.contains(h))
    }
}

/// Adds `name` to the bounded `kept` names (for dedupe, [`KEPT_TEXTS`] × 4) and counts it when new.
fn add_distinct(kept: &mut Vec<String>, count: &mut u64, name: &str) {
    if kept.iter().any(|k| k == name) {
        return;
    }
    *count = count.saturating_add(1);
    if kept.len() < KEPT_TEXTS * 4 {
        kept.push(name.to_owned());
    }
}

/// What an alert says for the attention score (level, rarity and burst from the service state);
/// a burst counts when it has at least `min_burst` lines (a single fatal line is rare, not a burst).
pub fn signal_of(
    detector: &ServiceDetector,
    miner: &Miner,
    alert: &Alert,
    now_ms: i64,
    min_burst: u64,
    config: &IncidentConfig,
) -> Signal {
    let level = detector
        .templates
        .get(&alert.template_id)
        .map_or(0, |stats| stats.level);
    let count = miner.template(alert.template_id).map_or(0, |t| t.count);
    let lines = detector.lines.max(1);
    let rare = alert.kind == AlertKind::NewTemplate || (count as f64) < config.attention.rare_share * lines as f64;
    let burst = match alert.kind {
        AlertKind::RateBurst | AlertKind::ErrorSurge if alert.suppressed == 0 && alert.count >= min_burst => {
            let baseline = alert.baseline.unwrap_or(0.0).max(1.0);
            if alert.count >= 50 && alert.count as f64 >= 10.0 * baseline {
                2
            } else {
                1
            }
        }
        _ => 0,
    };
    Signal {
        at_ms: now_ms,
        level,
        template: alert.template.clone(),
        template_id: alert.template_id,
        rare,
        burst,
        silence: alert.kind == AlertKind::Silence,
        lines: alert.count,
        service: alert.service.clone(),
        hosts: alert.origins.hosts.clone(),
        components: alert.origins.components.clone(),
    }
}

/// The score of a group and its parts.
pub fn score(facts: &GroupFacts) -> (f64, ScoreParts) {
    let minutes = facts.duration_ms() / 60_000;
    let parts = ScoreParts {
        level: f64::from(facts.level.min(3)),
        wording: if facts.failure_words.is_empty() { 0.0 } else { 2.0 },
        rarity: if facts.rare { 1.0 } else { 0.0 },
        burst: f64::from(facts.burst.min(2)),
        breadth: f64::from(breadth(facts)),
        persistence: if minutes >= 30 {
            2.0
        } else if minutes >= 10 {
            1.0
        } else {
            0.0
        },
        tickets: (facts.tickets.min(3) * 2) as f64,
    };
    let total =
        parts.level + parts.wording + parts.rarity + parts.burst + parts.breadth + parts.persistence + parts.tickets;
    (total, parts)
}

/// Broad dimensions of a group (see the module docs), at most 2.
fn breadth(facts: &GroupFacts) -> u8 {
    let broad = [
        facts.template_count >= 3,
        facts.services.len() >= 2,
        facts.component_count >= 3,
    ];
    (broad.iter().filter(|b| **b).count() as u8).min(2)
}

/// The severity level of a group with `score` (see the module docs).
pub fn severity(facts: &GroupFacts, score: f64, config: &AttentionConfig) -> SevLevel {
    let margin = score - config.threshold;
    let mut level = if margin < 0.0 {
        SevLevel::Sev4
    } else if margin < 3.0 {
        SevLevel::Sev3
    } else if margin < 6.0 {
        SevLevel::Sev2
    } else {
        SevLevel::Sev1
    };
    if facts.tickets >= 3 || facts.services.len() >= 2 || facts.host_count >= 3 {
        level = raise(level);
    }
    if facts.lines <= 1 && facts.tickets == 0 {
        level = level.max(SevLevel::Sev3);
    }
    level
}

fn raise(level: SevLevel) -> SevLevel {
    match level {
        SevLevel::Sev1 | SevLevel::Sev2 => SevLevel::Sev1,
        SevLevel::Sev3 => SevLevel::Sev2,
        SevLevel::Sev4 => SevLevel::Sev3,
    }
}

/// Why the group deserves attention, in words ("opened because: ...").
pub fn why(facts: &GroupFacts) -> String {
    let mut reasons = Vec::new();
    let level = match facts.level {
        3 => "fatal-level lines",
        2 => "error-level lines",
        1 => "warning-level lines",
        _ => "",
    };
    match (level.is_empty(), facts.failure_words.is_empty()) {
        (false, false) => reasons.push(format!("{level} saying {}", facts.failure_words.join("/"))),
        (false, true) => reasons.push(level.to_owned()),
        (true, false) => reasons.push(format!("lines saying {}", facts.failure_words.join("/"))),
        (true, true) => {}
    }
    if facts.silence {
        reasons.push("a steady pattern went silent".to_owned());
    }
    if facts.rare {
        reasons.push("a new or rare pattern".to_owned());
    }
    if facts.burst > 0 {
        reasons.push(format!("a burst over its baseline ({} lines)", facts.lines));
    }
    let services = if facts.services.len() > 1 {
        format!(" in {} services ({})", facts.services.len(), facts.services.join(", "))
    } else {
        String::new()
    };
    let hosts = match facts.host_count {
        0 => String::new(),
        1 => format!(" on host {}", facts.hosts.first().map_or("?", String::as_str)),
        n => format!(" on {n} hosts"),
    };
    let templates = if facts.template_count == 1 {
        "1 template".to_owned()
    } else {
        format!("{} templates", facts.template_count)
    };
    reasons.push(format!(
        "{templates}{services}{hosts} for {}",
        duration_words(facts.duration_ms())
    ));
    if facts.tickets > 0 {
        reasons.push(format!(
            "{} user ticket{}",
            facts.tickets,
            if facts.tickets == 1 { "" } else { "s" }
        ));
    }
    if let Some(by) = &facts.declared_by {
        reasons.push(format!("declared by {by}"));
    }
    format!("opened because: {}", reasons.join(", "))
}

/// "3 min", "2 h 5 min", "under a minute".
pub fn duration_words(ms: i64) -> String {
    let minutes = ms.max(0) / 60_000;
    match minutes {
        0 => "under a minute".to_owned(),
        1..=119 => format!("{minutes} min"),
        _ => format!("{} h {} min", minutes / 60, minutes % 60),
    }
}

/// The failure words `text` contains, unless it reads as a caller error or a handled problem.
pub fn failure_words(text: &str) -> Vec<&'static str> {
    let (words, caller) = wording(text);
    if caller { Vec::new() } else { words }
}

/// Failure words in `text`, and whether it reads as a caller error (failure words of a caller
/// error or of a handled problem are dropped).
fn wording(text: &str) -> (Vec<&'static str>, bool) {
    let lower = text.to_lowercase();
    let caller = CALLER_WORDS.iter().any(|w| lower.contains(w));
    let handled = HANDLED_WORDS.iter().any(|w| contains_word(&lower, w));
    if caller || handled {
        return (Vec::new(), caller);
    }
    let found = FAILURE_WORDS
        .iter()
        .copied()
        .filter(|w| contains_word(&lower, w))
        .collect();
    (found, false)
}

/// Whether `word` occurs in `text` at the start of a word.
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word)
        .any(|(at, _)| text[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric()))
}

/// Jaccard similarity of the words (letters, 3 or more) of two templates.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (wa, wb) = (words(a), words(b));
    let union = wa.union(&wb).count();
    if union == 0 {
        return 0.0;
    }
    wa.intersection(&wb).count() as f64 / union as f64
}

fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect()
}

#[cfg(test)]
#[path = "attention_tests.rs"]
mod tests;
