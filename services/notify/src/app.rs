//! The notify service as a [`Service`]: follow the state topic (what each target was told),
//! then consume incident revisions; one delivery task per target.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use opsline_events::{TopicNames, topics};
use opsline_kafka::{KafkaWiring, TopicPlan};
use opsline_runtime::outbound::OutboundClient;
use opsline_runtime::{Runner, Service, StartupContext, StartupError};
use secrecy::SecretString;

use crate::config::{NotifyConfig, TargetConfig, TargetKind};
use crate::delivery::worker;
use crate::metrics::NotifyMetrics;
use crate::processor::NotifyProcessor;
use crate::rules::Rules;
use crate::sinks::Sink;
use crate::state::{COMPONENT, Shared};

/// The incident notification service.
pub struct Notify;

/// What the service shows once built.
#[derive(Debug, Clone)]
pub struct NotifyHandle {
    /// The configured target names.
    pub targets: Vec<String>,
}

impl Service for Notify {
    const NAME: &'static str = "notify";
    const ABOUT: &'static str = "The incident notification service: tells Slack (threads with an Acknowledge button), \
Microsoft Teams, PagerDuty, Opsgenie and signed webhooks when incidents open, change severity, are acknowledged and \
resolve, by routing rules, quiet hours and maintenance windows; failures are retried, then dead-lettered.";
    type Config = NotifyConfig;
    type Extras = ();
    type Handle = NotifyHandle;

    async fn build(config: NotifyConfig, (): (), runner: &mut Runner) -> Result<NotifyHandle, StartupError> {
        let rules = Rules::new(&config.rules, &config.quiet_hours, &config.maintenance)
            .map_err(|reason| StartupError::new(format!("invalid notify rules: {reason}")))?;
        for rule in &config.rules {
            if let Some(unknown) = rule.targets.iter().find(|t| !config.targets.contains_key(*t)) {
                return Err(StartupError::new(format!(
                    "a rule names the target {unknown:?}, which [targets] does not define"
                )));
            }
        }
        let client = OutboundClient::with_ca_file(
            Duration::from_millis(config.delivery.timeout_ms.max(1)),
            config.delivery.ca_file.as_deref(),
        )
        .startup("cannot build the outbound HTTP client (delivery.ca_file)")?;
        let sinks = config
            .targets
            .iter()
            .map(|(name, target)| sink(name, target, &client))
            .collect::<Result<Vec<_>, _>>()?;

        let mut plan = TopicPlan::new(TopicNames::with_prefix(config.topic_prefix.clone()));
        let incidents = plan.consume(&config.group_id, &[&topics::INCIDENTS]);
        let followed = plan.follow(&[&topics::NOTIFY_STATE]);
        let state_topic = plan.name(&topics::NOTIFY_STATE);
        plan.produce(&[&topics::NOTIFY_STATE]);
        let kafka = KafkaWiring::connect(&config.kafka, &plan, COMPONENT, runner).await?;
        let metrics = NotifyMetrics::register(runner.metrics());
        let shared = Arc::new(Shared::new(config.max_tracked));
        runner.metrics().register(
            "notify_states_forgotten",
            "(incident, target) states forgotten past max_tracked, resolved incidents first",
            shared.forgotten.clone(),
        );

        // What each target was told, read back before the first incident is consumed.
        let follower_state = shared.clone();
        kafka.follow(runner, &followed, move |record| follower_state.apply(record));

        let mut targets = BTreeMap::new();
        for sink in sinks {
            let name = sink.name.clone();
            let capacity = config
                .targets
                .get(&name)
                .and_then(|t| t.queue_capacity)
                .unwrap_or(config.delivery.queue_capacity);
            let (dispatch, task, queue) = worker(
                sink,
                capacity,
                &config.delivery,
                kafka.producer(),
                &state_topic,
                &shared,
                &metrics,
            );
            runner.background(format!("notify target {name}"), move |shutdown| {
                task.run(queue, shutdown)
            });
            targets.insert(name, dispatch);
        }
        let names = targets.keys().cloned().collect();
        let processor = NotifyProcessor {
            rules,
            targets,
            shared,
            queued: Default::default(),
            state_topic,
            metrics,
        };
        kafka.consume(runner, &incidents, processor);
        Ok(NotifyHandle { targets: names })
    }
}

/// A target's sink, its secret resolved and its settings checked.
fn sink(name: &str, target: &TargetConfig, client: &OutboundClient) -> Result<Sink, StartupError> {
    let bad = |what: &str| StartupError::new(format!("targets.{name}: {what}"));
    let secret = match (&target.secret, &target.secret_file) {
        (Some(_), Some(_)) => return Err(bad("set secret or secret_file, not both")),
        (Some(secret), None) => Some(secret.clone()),
        (None, Some(file)) => Some(read_secret(file).map_err(|e| bad(&e))?),
        (None, None) => None,
    };
    if secret.is_none() && target.kind != TargetKind::Webhook {
        return Err(bad(&format!(
            "a {} target needs its secret (secret, OPSLINE_TARGETS__{}__SECRET, or secret_file)",
            target.kind.as_str(),
            name.to_ascii_uppercase()
        )));
    }
    let base_url = match target.kind {
        TargetKind::Webhook => target
            .url
            .clone()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| bad("a webhook needs url"))?,
        kind => target
            .base_url
            .clone()
            .unwrap_or_else(|| kind.default_base_url().to_owned()),
    };
    let channel = target.channel.clone().unwrap_or_default();
    if target.kind == TargetKind::Slack && channel.is_empty() {
        return Err(bad("a slack target needs channel"));
    }
    Ok(Sink {
        name: name.to_owned(),
        kind: target.kind,
        base_url,
        channel,
        secret,
        incident_url: target.incident_url.clone(),
        client: client.clone(),
    })
}

fn read_secret(file: &Path) -> Result<SecretString, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read secret_file {}: {e}", file.display()))?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        return Err(format!("secret_file {} is empty", file.display()));
    }
    Ok(SecretString::from(secret.to_owned()))
}
