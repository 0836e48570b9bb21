//! Chat, self-service audit, postmortem, LLM usage and dead-letter events.

use std::collections::BTreeMap;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::{Event, sample_time};

/// A chat message from an end user, after the webhook verified its signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChatMessage {
    /// `slack` or `webhook`.
    pub platform: String,
    /// The platform's verified user id; the partition key.
    pub user_id: String,
    /// Conversation or channel id.
    pub channel_id: String,
    /// The message text.
    pub text: String,
    /// Where to send the reply, if the platform gave a response URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_url: Option<String>,
}

impl ChatMessage {
    /// Who sent it, as `platform:user_id`: the same id on two platforms is two people
    /// (Slack `U123` is not webhook `U123`). Rate limits, one-time codes and audits use this.
    pub fn identity(&self) -> String {
        format!("{}:{}", self.platform, self.user_id)
    }
}

impl Event for ChatMessage {
    const TYPE: &'static str = "chat.message";
    fn sample() -> Self {
        Self {
            platform: "slack".into(),
            user_id: "U024BE7LH".into(),
            channel_id: "D024BE91L".into(),
            text: "I forgot my password, can you reset it?".into(),
            response_url: None,
        }
    }
}

/// A reply to a chat user. Never carries a secret: credentials go only in a private, direct reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChatReply {
    /// `slack` or `webhook`.
    pub platform: String,
    /// The user replied to.
    pub user_id: String,
    /// Conversation or channel id.
    pub channel_id: String,
    /// The reply text.
    pub text: String,
    /// Whether only the user may see it.
    pub private: bool,
    /// The intent the reply answers.
    pub intent: String,
}

impl Event for ChatReply {
    const TYPE: &'static str = "chat.reply";
    fn sample() -> Self {
        Self {
            platform: "slack".into(),
            user_id: "U024BE7LH".into(),
            channel_id: "D024BE91L".into(),
            text: "Ticket T-1001 is routed to Hardware (updated 10:21 UTC).".into(),
            private: true,
            intent: "ticket_status".into(),
        }
    }
}

/// An audited self-service attempt, successful or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SelfServiceAction {
    /// Action id (UUID v7).
    pub action_id: Uuid,
    /// The verified requester as `platform:user_id` (`slack:U123`; `unverified` when the
    /// gateway refused the request before any identity was known).
    pub user_id: String,
    /// `password_reset`, `account_unlock`, `ticket_status` or `service_status`.
    pub action: String,
    /// `succeeded`, `refused` or `failed`.
    pub outcome: String,
    /// Why, in words, for refusals and failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The directory entry acted on, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Time from request to answer.
    pub handling_ms: u64,
    /// Estimated helpdesk cost saved when the request was resolved without a ticket.
    #[serde(default)]
    pub cost_saved: f64,
}

impl Event for SelfServiceAction {
    const TYPE: &'static str = "selfservice.action";
    fn sample() -> Self {
        Self {
            action_id: Uuid::from_u128(0x0193_0c3a_5e2b_7c1d_8e4f_0000_0000_0003),
            user_id: "U024BE7LH".into(),
            action: "password_reset".into(),
            outcome: "succeeded".into(),
            reason: None,
            target: Some("uid=alice,ou=people,dc=example,dc=org".into()),
            handling_ms: 1840,
            cost_saved: 22.0,
        }
    }
}

/// Review state of a postmortem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostmortemStatus {
    /// Generated, needs review.
    Draft,
    /// A person reviewed it.
    Reviewed,
    /// Published to the organisation.
    Published,
}

/// A postmortem document (the compacted topic keeps the latest per id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Postmortem {
    /// Postmortem id; the compacted topic's key.
    pub postmortem_id: Uuid,
    /// The incident it writes up.
    pub incident_id: Uuid,
    /// Title.
    pub title: String,
    /// The affected service.
    pub service: String,
    /// Review state.
    pub status: PostmortemStatus,
    /// The whole document as Markdown.
    pub markdown: String,
    /// Model that drafted the narrative, or `none` for the deterministic draft.
    pub model: String,
    /// Prompt id and version, e.g. `postmortem-draft@1`.
    pub prompt: String,
    /// Who reviewed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
    /// When set, only members of this team may read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restricted_team: Option<String>,
    /// Revision of the document: 1 is the deterministic draft, and every later change (the
    /// model's narrative, a review, a redraft) has a higher one; readers keep the highest.
    /// 0 in records written before revisions existed.
    #[serde(default)]
    pub revision: u32,
    /// SHA-256 (hex) of the deterministic draft this revision builds on: revisions with the
    /// same basis state the same facts (a replayed incident is recognised by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_basis: Option<String>,
    /// The incident's facts the search index filters on: severity (`critical`, `warning`,
    /// `info`), level (`sev1`..`sev4`), when it opened and resolved. Absent in records written
    /// before they were added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<PostmortemFacts>,
}

/// The incident's facts carried on its postmortem, for search filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PostmortemFacts {
    /// `critical`, `warning` or `info`.
    pub severity: String,
    /// `sev1`..`sev4`, when the incident had an attention score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sev: Option<String>,
    /// When the incident opened.
    pub opened_at: Timestamp,
    /// When it was resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
}

/// Fixed namespace of postmortem ids (UUID v5 of the incident id).
const POSTMORTEM_NAMESPACE: Uuid = Uuid::from_u128(0x6f70_736c_696e_6550_8d00_706d_6f72_7465);

/// The postmortem id of an incident: UUID v5 of the incident id, so a replay yields the same id
/// (the postmortem service drafts under it; the console links to it).
pub fn postmortem_id(incident_id: Uuid) -> Uuid {
    Uuid::new_v5(&POSTMORTEM_NAMESPACE, incident_id.as_bytes())
}

impl Event for Postmortem {
    const TYPE: &'static str = "postmortem";
    fn sample() -> Self {
        Self {
            postmortem_id: Uuid::from_u128(0x0193_0c3a_5e2b_7c1d_8e4f_0000_0000_0004),
            incident_id: Uuid::from_u128(0x0193_0c3a_5e2b_7c1d_8e4f_0000_0000_0002),
            title: "hdfs receiveBlock errors".into(),
            service: "hdfs".into(),
            status: PostmortemStatus::Draft,
            markdown: "# hdfs receiveBlock errors\n\n_Draft, needs review._\n".into(),
            model: "none".into(),
            prompt: "postmortem-draft@1".into(),
            reviewer: None,
            restricted_team: None,
            revision: 1,
            draft_basis: None,
            facts: Some(PostmortemFacts {
                severity: "critical".into(),
                sev: Some("sev2".into()),
                opened_at: Timestamp::from_second(1_732_345_200).unwrap_or(Timestamp::UNIX_EPOCH),
                resolved_at: Some(Timestamp::from_second(1_732_346_100).unwrap_or(Timestamp::UNIX_EPOCH)),
            }),
        }
    }
}

/// One LLM call, for the usage and cost ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LlmUsage {
    /// Call id (UUID v7).
    pub call_id: Uuid,
    /// The task, e.g. `ticket_summary`.
    pub task: String,
    /// Model name.
    pub model: String,
    /// Prompt id and version.
    pub prompt: String,
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Completion tokens.
    pub completion_tokens: u32,
    /// Prompt tokens the endpoint served from its prompt cache (llama.cpp's reused prefix;
    /// 0 when the endpoint does not say).
    #[serde(default)]
    pub cached_tokens: u32,
    /// Wall time of the call.
    pub latency_ms: u64,
    /// Whether the answer came from the response cache.
    pub cache_hit: bool,
    /// Estimated cost from the configured price table.
    pub cost: f64,
    /// `ok`, `invalid_output`, `error`, `circuit_open` or `stale`.
    pub outcome: String,
}

/// The outcome names of [`LlmUsage`] records (and of the gateway's call metrics): the
/// gateway writes them, the usage report reads them.
pub mod llm_outcome {
    /// A schema-valid answer.
    pub const OK: &str = "ok";
    /// The model answered, but not to the schema (after the repair request).
    pub const INVALID_OUTPUT: &str = "invalid_output";
    /// The call failed (transport, endpoint, configuration).
    pub const ERROR: &str = "error";
    /// Not sent: the circuit breaker was open.
    pub const CIRCUIT_OPEN: &str = "circuit_open";
    /// Not admitted: the task's queue was full (a metric only, never a usage record).
    pub const REFUSED: &str = "refused";
    /// Not sent: nobody wanted the answer any more when its turn came.
    pub const STALE: &str = "stale";
    /// Outcomes of jobs dropped before they were sent: they leave a usage record but made no call.
    pub const NEVER_SENT: &[&str] = &[CIRCUIT_OPEN, STALE];
}

impl Event for LlmUsage {
    const TYPE: &'static str = "llm.usage";
    fn sample() -> Self {
        Self {
            call_id: Uuid::from_u128(0x0193_0c3a_5e2b_7c1d_8e4f_0000_0000_0005),
            task: "ticket_summary".into(),
            model: "qwen2.5-coder-1.5b-instruct-q4_k_m".into(),
            prompt: "ticket-summary@1".into(),
            prompt_tokens: 412,
            completion_tokens: 96,
            cached_tokens: 380,
            latency_ms: 14_200,
            cache_hit: false,
            cost: 0.0,
            outcome: "ok".into(),
        }
    }
}

/// A record that could not be processed, with the reason and the original bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeadLetter {
    /// The topic the record came from (or the gateway endpoint).
    pub original_topic: String,
    /// Its partition, if it came from Kafka.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<i32>,
    /// Its offset, if it came from Kafka.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// The component that gave up.
    pub consumer: String,
    /// A stable error code, e.g. `invalid_json`.
    pub error_code: String,
    /// What went wrong, in words.
    pub reason: String,
    /// Whether the failure was retryable (retries were exhausted).
    pub retryable: bool,
    /// The original key, lossy UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The original payload bytes, base64 (standard alphabet, padded).
    pub payload_base64: String,
    /// The original headers, lossy UTF-8.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// When it was dead-lettered.
    pub failed_at: Timestamp,
}

impl Event for DeadLetter {
    const TYPE: &'static str = "dead_letter";
    fn sample() -> Self {
        Self {
            original_topic: "opsline.logs.raw.v1".into(),
            partition: Some(0),
            offset: Some(1234),
            consumer: "logintel".into(),
            error_code: "invalid_event".into(),
            reason: "invalid event JSON: expected value at line 1 column 1".into(),
            retryable: false,
            key: Some("hdfs".into()),
            payload_base64: "bm90IGpzb24=".into(),
            headers: BTreeMap::new(),
            failed_at: sample_time(1_732_345_200),
        }
    }
}
