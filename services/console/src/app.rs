//! The console as a [`Service`]: follow the incidents, alerts, routed and triaged tickets, LLM
//! usage and self-service audit topics into
//! the views (ready once caught up), produce re-routes and feedback, serve the API and pages.

use std::sync::Arc;
use std::time::Duration;

use opsline_auth::{CONSOLE_SESSION_COOKIE, DEFAULT_SESSION_CAPACITY, DEFAULT_SESSION_TTL, SessionStore, TokenStore};
use opsline_events::{TopicNames, topics};
use opsline_kafka::{KafkaWiring, TopicPlan};
use opsline_runtime::outbound::OutboundClient;
use opsline_runtime::{Runner, Service, StartupContext, StartupError};

use crate::actions::{Actions, COMPONENT};
use crate::config::ConsoleConfig;
use crate::records::RecordReader;
use crate::state::AppState;
use crate::views::{Limits, SharedViews, ViewFollower};

/// The operations console.
pub struct Console;

/// What the console shows once built.
#[derive(Debug, Clone)]
pub struct ConsoleHandle {
    /// The followed views (tests read counts from them).
    pub views: SharedViews,
}

impl Service for Console {
    const NAME: &'static str = "console";
    const ABOUT: &'static str = "The operations console: incidents, alerts and routed tickets followed from Kafka, \
as JSON APIs and server-rendered pages (acknowledge, assign, resolve, declare a postmortem, re-route a ticket), \
with the postmortem service's tokens and roles.";
    type Config = ConsoleConfig;
    type Extras = ();
    type Handle = ConsoleHandle;

    async fn build(config: ConsoleConfig, (): (), runner: &mut Runner) -> Result<ConsoleHandle, StartupError> {
        let tokens = TokenStore::new(&config.tokens).startup("invalid [[tokens]]")?;
        if tokens.is_empty() {
            tracing::warn!("no [[tokens]] configured: every page and API call is refused");
        }
        let mut plan = TopicPlan::new(TopicNames::with_prefix(config.topic_prefix.clone()));
        let followed = plan.follow(&[
            &topics::INCIDENTS,
            &topics::ALERTS,
            &topics::TICKETS_ROUTED,
            &topics::TICKETS_TRIAGED,
            &topics::LLM_USAGE,
            &topics::SELFSERVICE_AUDIT,
        ]);
        let produced = plan.produce(&[&topics::TICKETS_ROUTED, &topics::TICKETS_FEEDBACK]);
        // Cited raw-log records are read back on demand (the record view).
        let raw_topic = plan.read(&[&topics::RAW_LOGS]).into_iter().next().unwrap_or_default();
        let kafka = KafkaWiring::connect(&config.kafka, &plan, COMPONENT, runner).await?;
        let views = SharedViews::new(Limits {
            incidents: config.max_incidents,
            alerts: config.max_alerts,
            tickets: config.max_tickets,
            llm_calls: config.max_llm_calls,
            audit_events: config.max_audit_events,
        });
        let follower = ViewFollower {
            views: views.clone(),
            incidents_topic: plan.name(&topics::INCIDENTS),
            alerts_topic: plan.name(&topics::ALERTS),
            routed_topic: plan.name(&topics::TICKETS_ROUTED),
            triaged_topic: plan.name(&topics::TICKETS_TRIAGED),
            llm_usage_topic: plan.name(&topics::LLM_USAGE),
            audit_topic: plan.name(&topics::SELFSERVICE_AUDIT),
        };
        kafka.follow(runner, &followed, move |record| follower.apply(record));
        let client = OutboundClient::new(Duration::from_millis(config.upstream_timeout_ms.max(1)))
            .startup("cannot build the HTTP client for the log service")?;
        let (routed_topic, feedback_topic) = match produced.as_slice() {
            [routed, feedback] => (routed.clone(), feedback.clone()),
            _ => return Err(StartupError::new("the topic plan lost a produced topic")),
        };
        let log_service = crate::replicas::LogService {
            url: config.logintel_url.clone(),
            replicas: config.logintel_replicas.clone(),
        };
        let lines = crate::volume::LineSource {
            client: client.clone(),
            log_service: log_service.clone(),
        };
        let actions = Actions {
            client,
            log_service,
            logintel_token: config.logintel_token.clone(),
            producer: kafka.producer().clone(),
            routed_topic,
            feedback_topic,
            views: views.clone(),
            wait: Duration::from_millis(config.action_wait_ms),
            queues: config.queues.clone(),
            reroutes: Arc::default(),
        };
        let sessions = Arc::new(SessionStore::new(
            CONSOLE_SESSION_COOKIE,
            DEFAULT_SESSION_TTL,
            DEFAULT_SESSION_CAPACITY,
        ));
        let state = AppState {
            sessions: sessions.clone(),
            views: views.clone(),
            tokens: Arc::new(tokens),
            actions,
            cost_per_ticket: config.cost_per_ticket,
            postmortem_url: config.postmortem_url.trim_end_matches('/').to_owned(),
            records: RecordReader {
                kafka: Arc::new(config.kafka.clone()),
                raw_topic,
                wait: Duration::from_millis(config.record_wait_ms.max(100)),
            },
            lines,
        };
        runner.serve(
            crate::api::router()
                .merge(crate::web::router())
                .with_state(state)
                .layer(axum::middleware::from_fn_with_state(
                    sessions,
                    opsline_auth::csrf::guard,
                )),
        );
        Ok(ConsoleHandle { views })
    }
}
