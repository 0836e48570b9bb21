//! The self-service service as a [`Service`]: follow ticket state and incidents,
//! consume chat messages, answer privately.

use std::sync::{Arc, RwLock};

use opsline_classify::IntentClassifier;
use opsline_events::{TopicNames, topics};
use opsline_kafka::{KafkaWiring, TopicPlan};
use opsline_runtime::{Runner, Service, StartupContext, StartupError};

use crate::config::SelfServiceConfig;
use crate::directory::Directory;
use crate::handler::Handler;
use crate::metrics::{ChallengeCounters, SelfServiceMetrics, StatusCounters};
use crate::otp::{Notifier, notifier_from_config};
use crate::processor::{COMPONENT, ChatProcessor, Topics};
use crate::replay::{Recall, ReplayMemory};
use crate::reply::ReplySender;
use crate::reset::ResetFlow;
use crate::status::{SharedStatus, StatusBook, StatusFollower};
use crate::turn::Auditor;

/// The self-service service: password resets, unlocks and status answers in chat.
pub struct SelfService;

impl Service for SelfService {
    const NAME: &'static str = "selfservice";
    const ABOUT: &'static str = "The self-service service: answers chat messages privately: resets or unlocks the \
requester's own directory account after a one-time code, and tells the status of their tickets and of open \
incidents.";
    type Config = SelfServiceConfig;
    /// The one-time-code notifier (tests record codes); else the one `notifier` configures.
    type Extras = Option<Arc<dyn Notifier>>;
    /// The materialized ticket and incident state (tests and the CLI read it).
    type Handle = SharedStatus;

    async fn build(
        config: SelfServiceConfig,
        given: Option<Arc<dyn Notifier>>,
        runner: &mut Runner,
    ) -> Result<SharedStatus, StartupError> {
        let configured = || notifier_from_config(&config.notifier).startup("invalid [notifier] settings");
        let notifier = given.map_or_else(configured, |notifier| Ok(Some(notifier)))?;
        let mut plan = TopicPlan::new(TopicNames::with_prefix(config.topic_prefix.clone()));
        let chat = plan.consume(&config.group_id, &[&topics::CHAT_MESSAGES]);
        let followed = plan.follow(&[&topics::TICKET_STATE, &topics::INCIDENTS]);
        plan.produce(&[&topics::CHAT_REPLIES, &topics::SELFSERVICE_AUDIT, &topics::RAW_TICKETS]);
        plan.dead_letters_of(&[&topics::CHAT_REPLIES]);
        let kafka = KafkaWiring::connect(&config.kafka, &plan, COMPONENT, runner).await?;
        let topics = Topics::new(plan.names());

        let classifier = IntentClassifier::builtin().startup("cannot compile the built-in intent rules")?;
        let directory = Directory::new(config.directory.clone()).startup("invalid [directory] settings")?;
        let sender = ReplySender::new(config.reply.clone()).startup("invalid [reply] settings")?;
        let auditor = Auditor {
            cost_per_ticket: config.cost_per_ticket,
        };
        let reset = ResetFlow::new(
            directory.clone(),
            sender.clone(),
            notifier,
            config.password_policy.clone(),
            config.otp.clone(),
            &config.rate_limit,
            auditor,
        )
        .startup("invalid password reset settings")?
        .with_challenge_counters(ChallengeCounters::register(runner.metrics()));
        let book = StatusBook::new(config.status.clone()).with_counters(StatusCounters::register(runner.metrics()));
        let status: SharedStatus = Arc::new(RwLock::new(book));
        let handler = Handler::new(classifier, reset, directory, status.clone(), auditor)
            .startup("invalid self-service settings")?;
        let metrics = SelfServiceMetrics::register(runner.metrics());
        // Every replica follows every partition from the beginning; chat messages are
        // consumed once it has read what the topics held at start.
        let follower = StatusFollower {
            book: status.clone(),
            ticket_topic: topics.ticket_state.clone(),
        };
        kafka.follow(runner, &followed, move |record| follower.apply(record));
        let memory = ReplayMemory::new(Some(Recall {
            kafka: config.kafka.clone(),
            topic: topics.messages.clone(),
            window: config.replay_window,
        }));
        kafka.consume(
            runner,
            &chat,
            ChatProcessor::new(handler, sender, topics, metrics, memory),
        );
        Ok(status)
    }
}
