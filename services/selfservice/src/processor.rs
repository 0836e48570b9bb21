//! The Kafka processor of chat messages: decodes a `chat.message`, lets the
//! [`Handler`] answer it, delivers the private replies to the platform, and returns
//! the records to produce: redacted `chat.reply` events, `selfservice.action` audit
//! events, raw tickets for triage, and a dead letter (redacted) for a reply the
//! platform never accepted.
//!
//! # Delivery guarantee
//!
//! At least once: the input offset is committed only after every output was
//! acknowledged (`ConsumerLoop`). Envelope ids already handled are remembered, by this
//! process and through the chat topic across restarts and replicas ([`crate::replay`]), so a
//! retried or redelivered message is not acted on twice.

use std::time::Instant;

use base64::Engine;
use opsline_events::ops::{ChatMessage, ChatReply, DeadLetter, SelfServiceAction};
use opsline_events::{Envelope, TopicNames, topics};
use opsline_kafka::{InRecord, OutRecord, ProcessError, Processor};
use opsline_runtime::Classify;
use tracing::Instrument;
use uuid::Uuid;

use crate::error::SelfServiceError;
use crate::handler::Handler;
use crate::metrics::{ActionLabel, IntentLabel, OutcomeLabel, SelfServiceMetrics};
use crate::replay::{Recalled, ReplayMemory};
use crate::reply::ReplySender;

/// The component name in dead letters.
pub const COMPONENT: &str = "selfservice";
const SOURCE: &str = "selfservice";

/// Output topic names.
#[derive(Debug, Clone)]
pub struct Topics {
    /// Input: verified chat messages.
    pub messages: String,
    /// Redacted replies.
    pub replies: String,
    /// Audit trail.
    pub audit: String,
    /// Tickets for triage.
    pub raw_tickets: String,
    /// Undeliverable replies.
    pub replies_dead_letter: String,
    /// Compacted ticket state (followed).
    pub ticket_state: String,
    /// Incidents (followed).
    pub incidents: String,
}

impl Topics {
    /// The names under `names`' prefix.
    pub fn new(names: &TopicNames) -> Self {
        let replies = names.name(&topics::CHAT_REPLIES);
        Self {
            messages: names.name(&topics::CHAT_MESSAGES),
            replies_dead_letter: TopicNames::dead_letter(&replies),
            replies,
            audit: names.name(&topics::SELFSERVICE_AUDIT),
            raw_tickets: names.name(&topics::RAW_TICKETS),
            ticket_state: names.name(&topics::TICKET_STATE),
            incidents: names.name(&topics::INCIDENTS),
        }
    }
}

/// Consumes chat messages.
pub struct ChatProcessor {
    handler: Handler,
    sender: ReplySender,
    topics: Topics,
    metrics: SelfServiceMetrics,
    memory: ReplayMemory,
}

impl ChatProcessor {
    /// A processor answering with `handler` and replying through `sender`.
    pub(crate) fn new(
        handler: Handler,
        sender: ReplySender,
        topics: Topics,
        metrics: SelfServiceMetrics,
        memory: ReplayMemory,
    ) -> Self {
        Self {
            handler,
            sender,
            topics,
            metrics,
            memory,
        }
    }

    /// Whether the message `id` at `record` was not handled before (here, or before its
    /// partition was assigned here).
    async fn first_time(&mut self, record: &InRecord, id: Uuid) -> bool {
        let outcome = match self.memory.recall_before(record).await {
            Recalled::Nothing => None,
            Recalled::Ids(count) => Some(("ok", count as u64)),
            Recalled::Failed => Some(("failed", 1)),
        };
        if let Some((outcome, count)) = outcome {
            self.metrics
                .recalled
                .get_or_create(&OutcomeLabel { outcome })
                .inc_by(count);
        }
        let first = self.memory.remember(id);
        if !first {
            self.metrics.replayed.inc();
            tracing::info!(%id, partition = record.partition, offset = record.offset, "chat message already handled; dropped");
        }
        first
    }

    async fn handle(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, SelfServiceError> {
        let started = Instant::now();
        let envelope = record
            .envelope::<ChatMessage>()
            .map_err(|e| SelfServiceError::InvalidInput(e.to_string()))?;
        if !self.first_time(record, envelope.id).await {
            return Ok(Vec::new());
        }
        let message = envelope.data;
        let span = tracing::info_span!("chat_message", platform = %message.platform);
        record.set_parent_of(&span);
        let (intent, turn) = self.handler.handle(&message, started).instrument(span).await;
        self.metrics
            .messages
            .get_or_create(&IntentLabel {
                intent: intent.as_str(),
            })
            .inc();
        let user = message.user_id.as_str();
        let mut out = Vec::new();
        let mut audits: Vec<SelfServiceAction> = turn.audits;
        for reply in turn.replies {
            let delivered = if reply.delivered {
                Ok(())
            } else {
                self.sender.deliver(&message, &reply.private_text).await
            };
            if let Err(error) = delivered {
                tracing::warn!(code = error.code(), %error, "private reply not delivered");
                out.push(self.dead_letter(record, &message, &reply.redacted_text, &error)?);
                // Not resolved for the user (a reset password they never received included).
                for audit in audits.iter_mut().filter(|a| a.outcome == "succeeded") {
                    audit.outcome = "failed".to_owned();
                    audit.cost_saved = 0.0;
                    audit.reason = Some(format!("reply undeliverable: {error}"));
                }
            }
            let event = ChatReply {
                platform: message.platform.clone(),
                user_id: user.to_owned(),
                channel_id: message.channel_id.clone(),
                text: reply.redacted_text,
                private: true,
                intent: reply.intent.to_owned(),
            };
            out.push(OutRecord::event(
                &self.topics.replies,
                user,
                &Envelope::new(SOURCE, event),
            )?);
        }
        for audit in audits {
            self.metrics
                .actions
                .get_or_create(&ActionLabel {
                    action: audit.action.clone(),
                    outcome: audit.outcome.clone(),
                })
                .inc();
            tracing::info!(action = %audit.action, outcome = %audit.outcome, reason = ?audit.reason, "self-service action");
            out.push(OutRecord::event(
                &self.topics.audit,
                user,
                &Envelope::new(SOURCE, audit),
            )?);
        }
        for ticket in turn.tickets {
            let key = ticket.requester.clone();
            out.push(OutRecord::event(
                &self.topics.raw_tickets,
                &key,
                &Envelope::new(SOURCE, ticket),
            )?);
        }
        Ok(out)
    }

    fn dead_letter(
        &self,
        record: &InRecord,
        message: &ChatMessage,
        redacted: &str,
        error: &SelfServiceError,
    ) -> Result<OutRecord, SelfServiceError> {
        let body = serde_json::json!({
            "platform": message.platform,
            "user_id": message.user_id,
            "channel_id": message.channel_id,
            "text": redacted,
        });
        let letter = DeadLetter {
            original_topic: record.topic.clone(),
            partition: Some(record.partition),
            offset: Some(record.offset),
            consumer: COMPONENT.to_owned(),
            error_code: error.code().to_owned(),
            reason: error.to_string(),
            retryable: true,
            key: Some(message.user_id.clone()),
            payload_base64: base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&body)?),
            headers: Default::default(),
            failed_at: jiff::Timestamp::now(),
        };
        Ok(OutRecord::event(
            &self.topics.replies_dead_letter,
            &message.user_id,
            &Envelope::new(SOURCE, letter),
        )?)
    }
}

impl Processor for ChatProcessor {
    async fn process(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, ProcessError> {
        self.handle(record).await.map_err(ProcessError::from)
    }

    /// The handled ids of partitions assigned here are read back before their first record.
    async fn partitions_assigned(&mut self, partitions: &[(String, i32)]) {
        self.memory.assigned(partitions);
    }
}
