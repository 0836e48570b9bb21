//! Configuration of the log service (file + `OPSLINE_*` environment variables).
//!
//! One default configuration serves every log source: the thresholds are
//! relative to baselines learned per service and per template, never tuned to
//! one data set.

use std::collections::BTreeMap;

use opsline_kafka::KafkaConfig;
use opsline_llm::LlmConfig;
use opsline_logmine::MinerConfig;
use opsline_runtime::telemetry::TelemetryConfig;
use serde::{Deserialize, Serialize};

/// Settings of the alert detector (all times are event time, in seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorConfig {
    /// Length of a counting window.
    pub window_secs: u64,
    /// A service is warming up until it has seen this many lines...
    pub warmup_lines: u64,
    /// ...and this much event time; no new-template alerts during warm-up.
    pub warmup_secs: u64,
    /// Weight of the newest window in the per-window EWMA baselines (0..1).
    pub ewma_alpha: f64,
    /// A window count must exceed `burst_factor` times the baseline to be a burst...
    pub burst_factor: f64,
    /// ...plus this many standard deviations (Poisson, `sqrt(baseline)`)...
    pub burst_sigmas: f64,
    /// ...and be at least this many lines.
    pub burst_min_count: u64,
    /// Like `burst_min_count`, for error-level lines of a service.
    pub error_min_count: u64,
    /// Like `burst_min_count`, for fatal-class lines (fatal, critical, emergency, alert, panic).
    pub fatal_min_count: u64,
    /// Share of windows a template must appear in to count as steady (0..1).
    pub steady_presence: f64,
    /// Windows a template must have been observed before it can be steady.
    pub steady_min_windows: u64,
    /// Consecutive empty windows of a steady template that make a silence alert.
    pub silence_windows: u64,
    /// A repeat within this long of the previous one is suppressed (sliding).
    pub suppress_secs: u64,
    /// Suppressed repeats are summarised at least this often while they continue.
    pub summary_every_secs: u64,
    /// A template created after warm-up stays "new" (its lines repeat the new-template alert) this long.
    pub novelty_secs: u64,
    /// Sample lines per alert.
    pub max_samples: usize,
    /// Raw-log offsets cited per alert.
    pub max_evidence: usize,
    /// Sample lines are cut to this many characters.
    pub max_sample_chars: usize,
    /// A line dated more than this far after its ingestion (the gateway's clock) is taken as
    /// dated at the service's event clock instead, and counted: one line dated 2099 must not
    /// move the clock, resolve incidents or close windows.
    pub max_future_skew_secs: u64,
    /// A line dated more than this far before the service's event clock is taken as dated at
    /// the clock, and counted (a late or mis-dated line cannot open a decades-long incident).
    pub max_late_secs: u64,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            window_secs: 60,
            warmup_lines: 100,
            warmup_secs: 900,
            ewma_alpha: 0.1,
            burst_factor: 4.0,
            burst_sigmas: 4.0,
            burst_min_count: 10,
            error_min_count: 5,
            fatal_min_count: 1,
            steady_presence: 0.8,
            steady_min_windows: 15,
            silence_windows: 5,
            suppress_secs: 1800,
            summary_every_secs: 3600,
            novelty_secs: 86_400,
            max_samples: 3,
            max_evidence: 100,
            max_sample_chars: 512,
            max_future_skew_secs: 300,
            max_late_secs: 86_400,
        }
    }
}

/// Settings of the incident correlator (event time, seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IncidentConfig {
    /// An alert joins the service's open incident if it comes within this long of its last update.
    pub correlation_secs: u64,
    /// An open incident without new alerts for this long is resolved (`quiet-period`).
    pub quiet_period_secs: u64,
    /// Raw-log offsets kept per incident.
    pub max_evidence: usize,
    /// Incidents of these services (key) are restricted to the team (value): only its members
    /// may read their postmortems.
    pub restricted_teams: BTreeMap<String, String>,
    /// Alert ids kept per incident (the rest are counted in `attention.alert_count`).
    pub max_alert_ids: usize,
    /// When signals become an incident (the attention score).
    pub attention: AttentionConfig,
    /// When an incident gets a postmortem.
    pub postmortem: PostmortemPolicy,
}

impl Default for IncidentConfig {
    fn default() -> Self {
        Self {
            correlation_secs: 900,
            quiet_period_secs: 1800,
            max_evidence: 1000,
            restricted_teams: BTreeMap::new(),
            max_alert_ids: 200,
            attention: AttentionConfig::default(),
            postmortem: PostmortemPolicy::default(),
        }
    }
}

/// Settings of the attention score (see `attention.rs` for the parts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttentionConfig {
    /// A group of signals becomes an incident at this score.
    pub threshold: f64,
    /// Signals without an error-level line, a failure word or a silence must keep coming for
    /// this long before they can open an incident (the transient pause).
    pub transient_pause_secs: u64,
    /// A template seen in less than this share of its service's lines counts as rare.
    pub rare_share: f64,
    /// Two templates share content when this share of their words is common (Jaccard).
    pub similarity: f64,
    /// A signal whose fingerprint matches an incident resolved this recently reopens it.
    pub reopen_secs: u64,
    /// Service dependencies: an alert of the key service may join an open incident of any
    /// listed service (and the reverse) in the correlation window, whatever its content.
    pub dependencies: BTreeMap<String, Vec<String>>,
    /// Pending signal groups kept per service (the oldest are dropped).
    pub max_pending: usize,
}

impl Default for AttentionConfig {
    fn default() -> Self {
        Self {
            threshold: 5.0,
            transient_pause_secs: 300,
            rare_share: 0.01,
            similarity: 0.5,
            reopen_secs: 86_400,
            dependencies: BTreeMap::new(),
            max_pending: 16,
        }
    }
}

/// When a resolved incident gets a postmortem draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostmortemPolicy {
    /// Incidents at this level or worse (`1` is sev1) ...
    pub max_sev: u8,
    /// ... that lasted at least this long (first to last signal) are drafted ...
    pub min_duration_secs: u64,
    /// ... and so are incidents with at least this many linked tickets, or declared by a person.
    pub min_tickets: u64,
}

impl Default for PostmortemPolicy {
    fn default() -> Self {
        Self {
            max_sev: 2,
            min_duration_secs: 900,
            min_tickets: 3,
        }
    }
}

/// Refinement of new templates by a language model (`[logintel.refine]`, issue 13 item 3).
///
/// Off by default. When on and `[logintel.llm]` names a model for the task
/// `template_refinement`, each new template's first `samples` distinct lines (redacted, header
/// removed) go to the model off the hot path; an accepted proposal is published on the
/// refined-templates topic and used for the template from then on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RefineConfig {
    /// Whether new templates are refined.
    pub enabled: bool,
    /// Distinct lines a new template must have before it is refined (its first ones; the model
    /// sees them and the proposal must match each). Templates with fewer lines are not refined.
    pub samples: usize,
    /// Jobs waiting for the model; more are dropped (counted).
    pub queue: usize,
    /// New templates collecting lines per service; more are not refined (counted).
    pub max_pending: usize,
}

impl Default for RefineConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            samples: 5,
            queue: 64,
            max_pending: 256,
        }
    }
}

/// Settings of the log service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogintelConfig {
    /// HTTP listen address, `host:port` (port 0 picks a free port).
    pub listen: String,
    /// Prefix of every topic name.
    pub topic_prefix: String,
    /// Consumer group of the raw-log consumer.
    pub group_id: String,
    /// Snapshot a service's state after this many of its lines...
    pub snapshot_every_lines: u64,
    /// ...or when it changed and this long (wall time) passed since its last snapshot.
    pub snapshot_interval_ms: u64,
    /// Wall-clock tick: idle snapshots, noise report, idle clock advance.
    pub tick_interval_ms: u64,
    /// Whether the tick advances an idle service's event clock by the wall time since its
    /// last line (live traffic: silence and quiet periods happen without new lines).
    /// Off makes a replay fully deterministic.
    pub advance_idle_clock: bool,
    /// The most services (raw-log keys) the service holds state for; lines of further services
    /// are dead-lettered with `too_many_services` (made-up service names cannot exhaust memory).
    pub max_services: usize,
    /// How long start-up may take to read the state topic to the end offsets it had at start;
    /// past this the service does not start (it would run on part of its state).
    pub restore_max_wait_secs: u64,
    /// Log the noise-reduction line this often.
    pub report_interval_secs: u64,
    /// Template miner settings (one miner per service).
    pub miner: MinerConfig,
    /// Alert detector settings.
    pub detector: DetectorConfig,
    /// Incident settings.
    pub incidents: IncidentConfig,
    /// Template refinement by a language model (off by default).
    pub refine: RefineConfig,
    /// The LLM gateway (endpoint, the `template_refinement` task's model and budget); used only
    /// when `refine.enabled`. Not serialized: it may hold an API key.
    #[serde(skip_serializing)]
    pub llm: LlmConfig,
    /// API tokens that may change incidents (`POST` on the API; role `sre`), the same format as
    /// the console's: `{name, role, teams, sha256}`. None: the API only reads.
    pub tokens: Vec<opsline_auth::TokenConfig>,
    /// Kafka client settings.
    pub kafka: KafkaConfig,
    /// Logs and traces.
    pub telemetry: TelemetryConfig,
}

opsline_kafka::service_config!(LogintelConfig);

impl Default for LogintelConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8090".to_owned(),
            topic_prefix: String::new(),
            group_id: "opsline-logintel".to_owned(),
            snapshot_every_lines: 1000,
            snapshot_interval_ms: 2000,
            tick_interval_ms: 1000,
            advance_idle_clock: true,
            max_services: 2_000,
            restore_max_wait_secs: 120,
            report_interval_secs: 60,
            miner: MinerConfig::default(),
            detector: DetectorConfig::default(),
            incidents: IncidentConfig::default(),
            refine: RefineConfig::default(),
            llm: LlmConfig::default(),
            tokens: Vec::new(),
            kafka: KafkaConfig {
                client_id: "opsline-logintel".to_owned(),
                ..KafkaConfig::default()
            },
            telemetry: TelemetryConfig::default(),
        }
    }
}

impl LogintelConfig {
    /// The settings of the per-service engine (miner, detector, incidents).
    pub fn engine_config(&self) -> crate::engine::EngineConfig {
        crate::engine::EngineConfig {
            miner: self.miner.clone(),
            detector: self.detector.clone(),
            incidents: self.incidents.clone(),
            max_services: self.max_services,
            refine: self.refine.enabled.then(|| crate::engine::refine::Sampling {
                samples: self.refine.samples.clamp(1, crate::engine::refine::MAX_SAMPLES),
                max_pending: self.refine.max_pending,
                max_chars: self.detector.max_sample_chars,
            }),
        }
    }
}
