//! A pipeline for console tests: gateway -> logintel (which owns the incident state) ->
//! the console, with Apache_2k.log replayed so logintel holds real incidents, and tokens
//! for each role.

use std::collections::BTreeMap;
use std::time::Duration;

use opsline_auth::{Role, TokenConfig, hash_token};
use opsline_console::{Console, ConsoleConfig};
use opsline_events::TopicNames;
use opsline_events::logs::{Alert, Incident, IncidentStatus};
use opsline_events::tickets::{Priority, RoutedTicket};
use opsline_events::topics;
use opsline_events::{Envelope, Event};
use opsline_gateway::Gateway;
use opsline_kafka::KafkaConfig;
use opsline_kafka::{KafkaMetrics, OutRecord, Producer};
use opsline_logintel::processor::lock;
use opsline_logintel::{Logintel, LogintelConfig};
use opsline_runtime::metrics::Metrics;
use uuid::Uuid;

use crate::gateway::{post_lines, spawn_gateway};
use crate::spawn::{Spawned, spawn};

/// SRE token (name `sam`, no team).
pub const SRE: &str = "console-sre-token-1";
/// Helpdesk token (name `hal`).
pub const HELPDESK: &str = "console-helpdesk-token-2";
/// Viewer token (name `val`).
pub const VIEWER: &str = "console-viewer-token-3";
/// Viewer in team `finance` (name `fin`).
pub const FINANCE: &str = "console-finance-token-4";

/// The tokens of [`SRE`], [`HELPDESK`], [`VIEWER`] and [`FINANCE`].
pub fn tokens() -> Vec<TokenConfig> {
    let token = |name: &str, role, teams: &[&str], secret: &str| TokenConfig {
        name: name.into(),
        role,
        teams: teams.iter().map(|t| (*t).to_owned()).collect(),
        sha256: hash_token(secret),
    };
    vec![
        token("sam", Role::Sre, &[], SRE),
        token("hal", Role::Helpdesk, &[], HELPDESK),
        token("val", Role::Viewer, &[], VIEWER),
        token("fin", Role::Viewer, &["finance"], FINANCE),
    ]
}

/// The running pipeline.
pub struct ConsolePipeline {
    /// The gateway.
    pub gateway: Spawned<Gateway>,
    /// The log service.
    pub logintel: Spawned<Logintel>,
    /// The console.
    pub console: Spawned<Console>,
    /// Kafka settings.
    pub kafka: KafkaConfig,
    /// Topic names.
    pub names: TopicNames,
    /// The latest state of every incident the replay opened, by id.
    pub incidents: BTreeMap<Uuid, Incident>,
}

/// Starts gateway, logintel and console on `kafka`, replays Apache_2k.log and waits until
/// the console shows every incident logintel published.
pub async fn start(kafka: KafkaConfig, test: &str) -> ConsolePipeline {
    start_with(kafka, test, "http://127.0.0.1:8093").await
}

/// [`start`] with the console's `postmortem_url` (links and similar documents).
pub async fn start_with(kafka: KafkaConfig, test: &str, postmortem_url: &str) -> ConsolePipeline {
    start_configured(kafka, test, postmortem_url, |_| {}).await
}

/// [`start_with`], with the log service's settings changed by `configure` first (e.g. a
/// service restricted to a team: `incidents.restricted_teams`).
pub async fn start_configured(
    kafka: KafkaConfig,
    test: &str,
    postmortem_url: &str,
    configure: impl FnOnce(&mut LogintelConfig),
) -> ConsolePipeline {
    let gateway = spawn_gateway(kafka, test, |_| {}).await;
    let (kafka, names) = (gateway.kafka.clone(), gateway.names.clone());
    // Incidents stay open until a person resolves them (no quiet-period resolution).
    let mut config = LogintelConfig::default();
    config.incidents.quiet_period_secs = 10 * 365 * 86_400;
    configure(&mut config);
    let logintel = spawn::<Logintel>(
        LogintelConfig {
            topic_prefix: names.prefix.clone(),
            group_id: format!("{}logintel", names.prefix),
            kafka: kafka.clone(),
            advance_idle_clock: false,
            tick_interval_ms: 100,
            snapshot_interval_ms: 300,
            tokens: crate::logintel_tokens(),
            ..config
        },
        (),
    )
    .await;
    let console = spawn::<Console>(
        ConsoleConfig {
            topic_prefix: names.prefix.clone(),
            logintel_url: logintel.url.clone(),
            logintel_token: Some(crate::LOGINTEL_TOKEN.into()),
            postmortem_url: postmortem_url.into(),
            tokens: tokens(),
            kafka: kafka.clone(),
            ..ConsoleConfig::default()
        },
        (),
    )
    .await;
    console.wait_ready(Duration::from_secs(60)).await;
    let file = crate::shared_data().join("loghub/Apache/Apache_2k.log");
    let text = std::fs::read_to_string(&file).expect("Apache_2k.log");
    let lines: Vec<&str> = text.lines().collect();
    post_lines(&gateway.url, "apache", &lines).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while lock(&logintel.handle).engine.totals().lines_in < lines.len() as u64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "logintel did not read every line"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let flushed = crate::logintel_client()
        .post(format!("{}/v1/admin/flush", logintel.url))
        .send()
        .await
        .expect("flush");
    assert_eq!(flushed.status(), 200);
    let incidents: BTreeMap<Uuid, Incident> =
        crate::latest::<Incident, _>(&kafka, &names.name(&topics::INCIDENTS), |i| i.incident_id.to_string())
            .await
            .into_values()
            .map(|i| (i.incident_id, i))
            .collect();
    assert!(!incidents.is_empty(), "the replay opened no incident");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let seen = {
            let views = console.handle.views.read();
            incidents
                .values()
                .all(|i| views.incident(i.incident_id).is_some_and(|v| v == i))
        };
        if seen {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the console did not follow every incident"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ConsolePipeline {
        gateway,
        logintel,
        console,
        kafka,
        names,
        incidents,
    }
}

/// What [`ConsolePipeline::seed`] produced.
pub struct Seeded {
    /// An open incident of service `payroll`, restricted to team `finance`.
    pub secret: Incident,
    /// Its one alert.
    pub secret_alert: Alert,
    /// Routed tickets T-1 (Hardware, P2, linked to `linked`), T-2 (Network, P1), T-3 (Hardware, P3).
    pub tickets: Vec<RoutedTicket>,
    /// The replay's incident T-1 is linked to.
    pub linked: Uuid,
}

fn routed(id: &str, queue: &str, priority: Priority, incident: Option<Uuid>) -> RoutedTicket {
    let mut t = RoutedTicket::sample();
    t.ticket_id = id.into();
    t.revision = 1;
    t.queue = queue.into();
    t.priority = priority;
    t.incident_id = incident;
    t.summary = Some(format!("Summary of {id}"));
    t.suggested_reply = None;
    t
}

/// LLM calls per task: (task, latency ms, cache hit, cost), for [`ConsolePipeline::publish_automation`].
const CALLS: [(&str, u64, bool, f64); 12] = [
    ("ticket_enrichment", 2_400, false, 0.004),
    ("ticket_enrichment", 3_100, false, 0.005),
    ("ticket_enrichment", 2_800, false, 0.004),
    ("ticket_enrichment", 4, true, 0.0),
    ("ticket_enrichment", 5, true, 0.0),
    ("postmortem_draft", 9_500, false, 0.03),
    ("postmortem_draft", 11_200, false, 0.035),
    ("template_refinement", 1_300, false, 0.002),
    ("template_refinement", 1_100, false, 0.002),
    ("template_refinement", 3, true, 0.0),
    ("chat_reply", 900, false, 0.001),
    ("chat_reply", 1_200, false, 0.001),
];

impl ConsolePipeline {
    /// Produces LLM usage records, triage decisions and self-service audit events (what the
    /// automation did and cost) and waits until the console follows them: the insights then
    /// draw every automation chart with data.
    pub async fn publish_automation(&self) {
        use opsline_events::ops::{LlmUsage, SelfServiceAction};
        use opsline_events::tickets::{Disposition, TriagedTicket};
        let producer = Producer::new(&self.kafka, &KafkaMetrics::register(&Metrics::new())).expect("producer");
        let names = &self.names;
        let mut records = Vec::new();
        for (task, latency_ms, cache_hit, cost) in CALLS {
            let call = LlmUsage {
                call_id: Uuid::now_v7(),
                task: task.into(),
                latency_ms,
                cache_hit,
                cost,
                outcome: "ok".into(),
                ..LlmUsage::sample()
            };
            let payload = Envelope::new("e2e", call).to_json().expect("json");
            records.push(OutRecord::new(names.name(&topics::LLM_USAGE), Some(task), payload));
        }
        let audits = [
            ("password_reset", "succeeded"),
            ("password_reset", "succeeded"),
            ("account_unlock", "succeeded"),
            ("ticket_status", "succeeded"),
            ("password_reset", "challenged"),
            ("account_unlock", "refused"),
        ];
        for (i, (action, outcome)) in audits.into_iter().enumerate() {
            let audit = SelfServiceAction {
                action_id: Uuid::now_v7(),
                user_id: format!("user-{i}"),
                action: action.into(),
                outcome: outcome.into(),
                ..SelfServiceAction::sample()
            };
            let payload = Envelope::new("e2e", audit.clone()).to_json().expect("json");
            records.push(OutRecord::new(
                names.name(&topics::SELFSERVICE_AUDIT),
                Some(&audit.user_id),
                payload,
            ));
        }
        let dispositions = [
            Disposition::AutoRouted,
            Disposition::AutoRouted,
            Disposition::AutoRouted,
            Disposition::HumanReview,
            Disposition::SelfService,
        ];
        for (i, disposition) in dispositions.into_iter().enumerate() {
            let triaged = TriagedTicket {
                ticket_id: format!("A-{i}"),
                disposition,
                ..TriagedTicket::sample()
            };
            let payload = Envelope::new("e2e", triaged.clone()).to_json().expect("json");
            records.push(OutRecord::new(
                names.name(&topics::TICKETS_TRIAGED),
                Some(&triaged.ticket_id),
                payload,
            ));
        }
        for record in &records {
            producer.send(record).await.expect("produce");
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let counts = {
                let views = self.console.handle.views.read();
                (
                    views.llm_calls().count(),
                    views.audit_events().count(),
                    views.triaged().count(),
                )
            };
            if counts.0 >= CALLS.len() && counts.1 >= audits.len() && counts.2 >= dispositions.len() {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the console followed {counts:?} LLM calls, audit events and triaged tickets"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Produces a restricted incident with its alert and three routed tickets, and waits
    /// until the console shows them.
    pub async fn seed(&self) -> Seeded {
        let producer = Producer::new(&self.kafka, &KafkaMetrics::register(&Metrics::new())).expect("producer");
        let send = |topic: String, key: String, payload: Vec<u8>| {
            let producer = producer.clone();
            async move {
                producer
                    .send(&OutRecord::new(topic, Some(&key), payload))
                    .await
                    .expect("produce")
            }
        };
        let mut secret_alert = Alert::sample();
        secret_alert.alert_id = Uuid::now_v7();
        secret_alert.service = "payroll".into();
        let mut secret = Incident::sample();
        secret.incident_id = Uuid::now_v7();
        secret.service = "payroll".into();
        secret.title = "Error surge in payroll".into();
        secret.status = IncidentStatus::Open;
        secret.restricted_team = Some("finance".into());
        secret.alert_ids = vec![secret_alert.alert_id];
        secret.response = None;
        let names = &self.names;
        send(
            names.name(&topics::ALERTS),
            "payroll".into(),
            Envelope::new("e2e", secret_alert.clone()).to_json().expect("json"),
        )
        .await;
        send(
            names.name(&topics::INCIDENTS),
            secret.incident_id.to_string(),
            Envelope::new("e2e", secret.clone()).to_json().expect("json"),
        )
        .await;
        let linked = *self.incidents.keys().next().expect("an incident");
        let tickets = vec![
            routed("T-1", "Hardware", Priority::P2, Some(linked)),
            routed("T-2", "Network", Priority::P1, None),
            routed("T-3", "Hardware", Priority::P3, None),
        ];
        for t in &tickets {
            send(
                names.name(&topics::TICKETS_ROUTED),
                t.ticket_id.clone(),
                Envelope::new("e2e", t.clone()).to_json().expect("json"),
            )
            .await;
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let seen = {
                let views = self.console.handle.views.read();
                views.incident(secret.incident_id).is_some()
                    && views.alert(secret_alert.alert_id).is_some()
                    && tickets.iter().all(|t| views.ticket(&t.ticket_id).is_some())
            };
            if seen {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the console did not follow the seeded records"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Seeded {
            secret,
            secret_alert,
            tickets,
            linked,
        }
    }
}
