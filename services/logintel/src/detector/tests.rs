#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

const MIN: i64 = 60_000;

struct Feed {
    detector: ServiceDetector,
    config: DetectorConfig,
    alerts: Vec<Alert>,
    offset: i64,
}

impl Feed {
    fn new() -> Self {
        Self {
            detector: ServiceDetector::new("svc"),
            config: DetectorConfig::default(),
            alerts: Vec::new(),
            offset: 0,
        }
    }

    fn line(&mut self, time_ms: i64, template_id: u64, created: bool, level: Option<Level>) {
        self.offset += 1;
        let obs = Observation {
            time_ms,
            template_id,
            template: "template <*>",
            created,
            level,
            fatal: false,
            line: "user=bob password=hunter2 did a thing",
            evidence: LogOffset {
                topic: "raw".into(),
                partition: 0,
                offset: self.offset,
            },
            host: Some("node-1"),
            component: None,
        };
        self.detector.observe(&obs, &self.config, &mut self.alerts);
    }

    /// Two lines a minute of template 1 for `minutes` minutes from `start`.
    fn steady(&mut self, start: i64, minutes: i64) {
        for m in 0..minutes {
            self.line(start + m * MIN, 1, m == 0 && start == 0, Some(Level::Info));
            self.line(start + m * MIN + 30_000, 1, false, Some(Level::Info));
        }
    }

    fn kinds(&self) -> Vec<AlertKind> {
        self.alerts.iter().map(|a| a.kind).collect()
    }
}

#[test]
fn quiet_warmup_then_new_template_with_suppressed_repeats() {
    let mut feed = Feed::new();
    feed.steady(0, 60);
    assert!(
        feed.alerts.is_empty(),
        "steady traffic alerts nothing: {:?}",
        feed.kinds()
    );
    let t = 60 * MIN;
    feed.line(t, 2, true, Some(Level::Error));
    assert_eq!(feed.kinds(), vec![AlertKind::NewTemplate]);
    assert_eq!(feed.alerts[0].severity, Severity::Critical);
    assert!(feed.alerts[0].sample_lines[0].contains("password=[REDACTED]"));
    assert!(!feed.alerts[0].sample_lines[0].contains("hunter2"));
    // Three more lines of the new template: repeats, suppressed.
    for i in 1..=3 {
        feed.line(t + i * MIN, 2, false, Some(Level::Error));
        feed.line(t + i * MIN + 1, 1, false, Some(Level::Info));
    }
    assert_eq!(feed.alerts.len(), 1);
    // Quiet for longer than the suppression period: one summary.
    feed.steady(t + 4 * MIN, 40);
    let summaries: Vec<&Alert> = feed.alerts.iter().filter(|a| a.suppressed > 0).collect();
    assert_eq!(summaries.len(), 1, "{:?}", feed.kinds());
    assert_eq!(summaries[0].suppressed, 3);
    assert_eq!(summaries[0].kind, AlertKind::NewTemplate);
    assert_eq!(summaries[0].evidence.len(), 3);
    assert_ne!(summaries[0].alert_id, feed.alerts[0].alert_id);
}

#[test]
fn rate_burst_over_learned_baseline() {
    let mut feed = Feed::new();
    feed.steady(0, 30);
    let t = 30 * MIN;
    for i in 0..40 {
        feed.line(t + i * 1000, 1, false, Some(Level::Info));
    }
    let bursts: Vec<&Alert> = feed.alerts.iter().filter(|a| a.kind == AlertKind::RateBurst).collect();
    assert_eq!(bursts.len(), 1, "{:?}", feed.kinds());
    assert!(bursts[0].baseline.unwrap() > 1.0);
    assert!(bursts[0].count >= 10);
    assert!(!bursts[0].evidence.is_empty());
}

#[test]
fn error_surge_after_warmup() {
    let mut feed = Feed::new();
    feed.steady(0, 60);
    let t = 60 * MIN;
    for i in 0..8 {
        feed.line(t + i * 1000, 3, i == 0, Some(Level::Error));
    }
    let kinds = feed.kinds();
    assert!(kinds.contains(&AlertKind::ErrorSurge), "{kinds:?}");
    assert!(kinds.contains(&AlertKind::NewTemplate), "{kinds:?}");
}

#[test]
fn silence_of_a_steady_template() {
    let mut feed = Feed::new();
    feed.steady(0, 40);
    // Template 1 stops; template 5 keeps the clock moving.
    for m in 40..50 {
        feed.line(m * MIN, 5, m == 40, Some(Level::Info));
    }
    let silences: Vec<&Alert> = feed.alerts.iter().filter(|a| a.kind == AlertKind::Silence).collect();
    assert_eq!(silences.len(), 1, "{:?}", feed.kinds());
    assert_eq!(silences[0].template_id, 1);
}

#[test]
fn same_input_same_alert_ids() {
    let run = || {
        let mut feed = Feed::new();
        feed.steady(0, 60);
        for i in 0..20 {
            feed.line(60 * MIN + i * 500, 9, i == 0, Some(Level::Error));
        }
        feed.detector.flush(&mut feed.alerts);
        feed.alerts.iter().map(|a| a.alert_id).collect::<Vec<_>>()
    };
    let first = run();
    assert!(!first.is_empty());
    assert_eq!(first, run());
}

#[test]
fn clock_never_goes_backwards_and_odd_times_do_not_panic() {
    let mut feed = Feed::new();
    feed.line(i64::MAX, 1, true, None);
    feed.line(i64::MIN, 1, false, None);
    feed.line(0, 2, true, Some(Level::Error));
    assert_eq!(feed.detector.clock_ms, i64::MAX);
    let mut feed = Feed::new();
    feed.line(i64::MIN, 1, true, None);
    feed.line(i64::MAX, 1, false, None);
    feed.detector.flush(&mut feed.alerts);
}
