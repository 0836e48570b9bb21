//! The helpdesk service as a [`Service`]: the routed-ticket consumer writing back to every
//! configured helpdesk, and, for RT, the intake and feedback pollers as background tasks.

use std::time::Duration;

use opsline_events::{TopicNames, topics};
use opsline_kafka::{KafkaWiring, TopicPlan};
use opsline_runtime::outbound::OutboundClient;
use opsline_runtime::{Runner, Service, StartupContext, StartupError};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{HelpdeskConfig, RtConfig, resolve_secret};
use crate::metrics::HelpdeskMetrics;
use crate::processor::{AnySink, WriteBackProcessor};
use crate::rt::feedback::{COMPONENT, Feedback};
use crate::rt::intake::Intake;
use crate::rt::{RtClient, RtSink};
use crate::saas::jira::JiraSink;
use crate::saas::servicenow::ServiceNowSink;
use crate::saas::zendesk::ZendeskSink;
use crate::sink::Api;

/// The helpdesk connector service.
pub struct Helpdesk;

impl Service for Helpdesk {
    const NAME: &'static str = "helpdesk";
    const ABOUT: &'static str = "The helpdesk connector: writes every routed ticket revision back to Request Tracker \
(queue above a confidence threshold, priority, one private note kept up to date), takes new RT tickets in through \
the gateway, and publishes re-routes made in RT as feedback; Jira Service Management, ServiceNow and Zendesk get \
each revision's group, priority and a private note.";
    type Config = HelpdeskConfig;
    type Extras = ();
    type Handle = ();

    async fn build(config: HelpdeskConfig, (): (), runner: &mut Runner) -> Result<(), StartupError> {
        let rt = config.rt.clone();
        let sinks = sinks(&config)?;
        if sinks.is_empty() {
            return Err(StartupError::new(
                "no helpdesk is configured: set rt.url, jira.url, servicenow.url or zendesk.url",
            ));
        }
        let mut plan = TopicPlan::new(TopicNames::with_prefix(config.topic_prefix.clone()));
        let routed = plan.consume(&config.group_id, &[&topics::TICKETS_ROUTED]);
        // Revisions that cannot be written back go to the routed topic's dead-letter twin.
        plan.dead_letters_of(&[&topics::TICKETS_ROUTED]);
        let feedback_on = rt.enabled() && rt.feedback.enabled;
        if feedback_on {
            plan.produce(&[&topics::TICKETS_FEEDBACK]);
        }
        let kafka = KafkaWiring::connect(&config.kafka, &plan, COMPONENT, runner).await?;
        let metrics = HelpdeskMetrics::register(runner.metrics());
        let rt_client = sinks.iter().find_map(|sink| match sink {
            AnySink::Rt(rt) => Some(rt.client().clone()),
            _ => None,
        });
        let processor = WriteBackProcessor {
            sinks,
            metrics: metrics.clone(),
        };
        kafka.consume(runner, &routed, processor);
        let Some(rt_client) = rt_client else {
            return Ok(());
        };

        if rt.intake.enabled {
            let key = resolve_secret(
                rt.intake.ingest_key.as_ref(),
                rt.intake.ingest_key_file.as_deref(),
                "rt.intake.ingest_key",
            )?
            .ok_or_else(|| StartupError::new("rt.intake needs ingest_key or ingest_key_file"))?;
            let bearer = SecretString::from(format!("Bearer {}", key.expose_secret()));
            let intake = Intake {
                client: rt_client.clone(),
                gateway: Api::new(http_client(&config, None)?, bearer, config.retry.clone()),
                config: rt.clone(),
                metrics: metrics.clone(),
            };
            runner.background("rt intake", move |shutdown| intake.run(shutdown));
        }
        if feedback_on {
            let feedback = Feedback {
                client: rt_client,
                config: rt.clone(),
                producer: kafka.producer().clone(),
                topic: plan.name(&topics::TICKETS_FEEDBACK),
                metrics,
            };
            runner.background("rt feedback", move |shutdown| feedback.run(shutdown));
        }
        Ok(())
    }
}

/// An outbound client with the configured timeout, trusting `ca_file` besides the system roots.
fn http_client(config: &HelpdeskConfig, ca_file: Option<&std::path::Path>) -> Result<OutboundClient, StartupError> {
    OutboundClient::with_ca_file(Duration::from_millis(config.retry.timeout_ms.max(1)), ca_file)
        .startup("cannot build the outbound HTTP client")
}

/// Every configured helpdesk.
fn sinks(config: &HelpdeskConfig) -> Result<Vec<AnySink>, StartupError> {
    let mut sinks = Vec::new();
    let retry = config.retry.clone();
    if config.rt.enabled() {
        let rt = &config.rt;
        let api = Api::new(
            http_client(config, rt.ca_file.as_deref())?,
            rt_authorization(rt)?,
            retry.clone(),
        );
        let client = RtClient::new(api, &rt.url, &rt.note_field, &rt.state_field);
        sinks.push(AnySink::Rt(Box::new(RtSink::new(client, rt.clone()))));
    }
    let saas = [
        ("jira", &config.jira),
        ("servicenow", &config.servicenow),
        ("zendesk", &config.zendesk),
    ];
    for (name, saas) in saas.into_iter().filter(|(_, c)| c.enabled()) {
        let authorization = if name == "zendesk" {
            saas.authorization(name, |email| format!("{email}/token"))?
        } else {
            saas.authorization(name, str::to_owned)?
        };
        let api = Api::new(
            http_client(config, saas.ca_file.as_deref())?,
            authorization,
            retry.clone(),
        );
        let config = saas.named(name);
        sinks.push(match name {
            "jira" => AnySink::Jira(JiraSink { api, config }),
            "servicenow" => AnySink::ServiceNow(ServiceNowSink { api, config }),
            _ => AnySink::Zendesk(ZendeskSink { api, config }),
        });
    }
    Ok(sinks)
}

/// `token <token>` or basic auth from `rt.user` and the password.
fn rt_authorization(rt: &RtConfig) -> Result<SecretString, StartupError> {
    let token = resolve_secret(rt.token.as_ref(), rt.token_file.as_deref(), "rt.token")?;
    let password = resolve_secret(rt.password.as_ref(), rt.password_file.as_deref(), "rt.password")?;
    match (token, password) {
        (Some(token), None) => Ok(SecretString::from(format!("token {}", token.expose_secret()))),
        (None, Some(password)) if !rt.user.is_empty() => Ok(Api::basic(&rt.user, &password)),
        (None, Some(_)) => Err(StartupError::new("rt.password needs rt.user")),
        (Some(_), Some(_)) => Err(StartupError::new("set rt.token or rt.password, not both")),
        (None, None) => Err(StartupError::new(
            "RT needs credentials: rt.token (OPSLINE_RT__TOKEN) or rt.user with rt.password",
        )),
    }
}
