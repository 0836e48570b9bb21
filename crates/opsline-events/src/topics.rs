//! The one place where topic names, partition keys and retention are defined.
//!
//! Every topic name is `<prefix><base>`; the prefix (empty by default) lets
//! several Opsline installations, or several tests, share a broker.
//! Each input topic a service consumes has a dead-letter twin, `<name>.dlq`.

/// Static description of one topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicSpec {
    /// Base name (without prefix).
    pub base: &'static str,
    /// The event type carried (see `Event::TYPE`).
    pub event_type: &'static str,
    /// What the record key is.
    pub key: &'static str,
    /// Whether the topic is log-compacted (latest value per key kept).
    pub compacted: bool,
    /// Default partition count.
    pub partitions: i32,
    /// Retention for non-compacted topics, in milliseconds (`-1` = forever).
    pub retention_ms: i64,
    /// Whether consumers of this topic have a dead-letter twin.
    pub has_dead_letter: bool,
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Raw log lines, keyed by service so a service's state shards by partition.
pub const RAW_LOGS: TopicSpec = TopicSpec {
    base: "opsline.logs.raw.v1",
    event_type: "log.raw",
    key: "service",
    compacted: false,
    partitions: 6,
    retention_ms: 7 * DAY_MS,
    has_dead_letter: true,
};
/// Raw tickets, keyed by requester.
pub const RAW_TICKETS: TopicSpec = TopicSpec {
    base: "opsline.tickets.raw.v1",
    event_type: "ticket.raw",
    key: "requester",
    compacted: false,
    partitions: 3,
    retention_ms: 30 * DAY_MS,
    has_dead_letter: true,
};
/// Verified chat messages, keyed by user id.
pub const CHAT_MESSAGES: TopicSpec = TopicSpec {
    base: "opsline.chat.messages.v1",
    event_type: "chat.message",
    key: "user_id",
    compacted: false,
    partitions: 3,
    retention_ms: 7 * DAY_MS,
    has_dead_letter: true,
};
/// Mined templates, keyed by `service/template_id` (latest text per template).
pub const TEMPLATES: TopicSpec = TopicSpec {
    base: "opsline.logs.templates.v1",
    event_type: "log.template",
    key: "service/template_id",
    compacted: true,
    partitions: 6,
    retention_ms: -1,
    has_dead_letter: false,
};
/// Template refinements by a language model, keyed by `service/template_id` (latest per template).
pub const TEMPLATES_REFINED: TopicSpec = TopicSpec {
    base: "opsline.logs.templates.refined.v1",
    event_type: "log.template.refined",
    key: "service/template_id",
    compacted: true,
    partitions: 6,
    retention_ms: -1,
    has_dead_letter: false,
};
/// Alerts, keyed by service.
pub const ALERTS: TopicSpec = TopicSpec {
    base: "opsline.alerts.v1",
    event_type: "log.alert",
    key: "service",
    compacted: false,
    partitions: 3,
    retention_ms: 30 * DAY_MS,
    has_dead_letter: true,
};
/// Alerts of other monitoring systems (Alertmanager), keyed by service and partitioned
/// exactly like [`RAW_LOGS`]: a service's alerts land on the partition number its logs land
/// on, so the log-service replica that holds the service's logs (one consumer group, range
/// assignment) also reads its alerts and correlates both. Firing and resolved records of one
/// alert stay in order (same service, same partition).
pub const EXTERNAL_ALERTS: TopicSpec = TopicSpec {
    base: "opsline.alerts.external.v1",
    event_type: "alert.external",
    key: "service",
    compacted: false,
    // As many as RAW_LOGS (a literal for deploy/k8s/kafka/gen-topics.py; a test checks it).
    partitions: 6,
    retention_ms: 30 * DAY_MS,
    has_dead_letter: true,
};
/// Incidents, keyed by incident id (latest state per incident).
pub const INCIDENTS: TopicSpec = TopicSpec {
    base: "opsline.incidents.v1",
    event_type: "incident",
    key: "incident_id",
    compacted: true,
    partitions: 3,
    retention_ms: -1,
    has_dead_letter: true,
};
/// Triage decisions, keyed by ticket id.
pub const TICKETS_TRIAGED: TopicSpec = TopicSpec {
    base: "opsline.tickets.triaged.v1",
    event_type: "ticket.triaged",
    key: "ticket_id",
    compacted: false,
    partitions: 3,
    retention_ms: 30 * DAY_MS,
    has_dead_letter: true,
};
/// Routed tickets for the helpdesk, keyed by ticket id.
pub const TICKETS_ROUTED: TopicSpec = TopicSpec {
    base: "opsline.tickets.routed.v1",
    event_type: "ticket.routed",
    key: "ticket_id",
    compacted: false,
    partitions: 3,
    retention_ms: 30 * DAY_MS,
    has_dead_letter: false,
};
/// Ticket state, keyed by ticket id (latest state per ticket).
pub const TICKET_STATE: TopicSpec = TopicSpec {
    base: "opsline.tickets.state.v1",
    event_type: "ticket.state",
    key: "ticket_id",
    compacted: true,
    partitions: 3,
    retention_ms: -1,
    has_dead_letter: false,
};
/// Routing corrections by people (re-routed tickets), keyed by ticket id: training data.
pub const TICKETS_FEEDBACK: TopicSpec = TopicSpec {
    base: "opsline.tickets.feedback.v1",
    event_type: "ticket.feedback",
    key: "ticket_id",
    compacted: false,
    partitions: 1,
    retention_ms: 365 * DAY_MS,
    has_dead_letter: false,
};
/// Chat replies, keyed by user id.
pub const CHAT_REPLIES: TopicSpec = TopicSpec {
    base: "opsline.chat.replies.v1",
    event_type: "chat.reply",
    key: "user_id",
    compacted: false,
    partitions: 3,
    retention_ms: 7 * DAY_MS,
    has_dead_letter: true,
};
/// Self-service audit trail, keyed by user id.
pub const SELFSERVICE_AUDIT: TopicSpec = TopicSpec {
    base: "opsline.selfservice.audit.v1",
    event_type: "selfservice.action",
    key: "user_id",
    compacted: false,
    partitions: 3,
    retention_ms: 365 * DAY_MS,
    has_dead_letter: false,
};
/// Postmortems, keyed by postmortem id (latest revision per document).
pub const POSTMORTEMS: TopicSpec = TopicSpec {
    base: "opsline.postmortems.v1",
    event_type: "postmortem",
    key: "postmortem_id",
    compacted: true,
    partitions: 1,
    retention_ms: -1,
    has_dead_letter: true,
};
/// LLM usage ledger, keyed by task.
pub const LLM_USAGE: TopicSpec = TopicSpec {
    base: "opsline.llm.usage.v1",
    event_type: "llm.usage",
    key: "task",
    compacted: false,
    partitions: 1,
    retention_ms: 365 * DAY_MS,
    has_dead_letter: false,
};
/// Records the gateway refused, with the reason and the original bytes.
pub const INGEST_REJECTED: TopicSpec = TopicSpec {
    base: "opsline.ingest.rejected.v1",
    event_type: "dead_letter",
    key: "endpoint",
    compacted: false,
    partitions: 1,
    retention_ms: 30 * DAY_MS,
    has_dead_letter: false,
};

/// Actions on incidents from chat (a Slack Acknowledge button), keyed by incident id: the
/// gateway writes verified clicks, every log-service replica follows them and the one holding
/// the incident applies them.
pub const INCIDENT_ACTIONS: TopicSpec = TopicSpec {
    base: "opsline.incidents.actions.v1",
    event_type: "incident.action",
    key: "incident_id",
    compacted: false,
    partitions: 3,
    retention_ms: 7 * DAY_MS,
    has_dead_letter: false,
};
/// What the notify service last told each target about each incident, keyed by
/// `incident_id/target` (latest per pair): read back at start so nothing is sent twice.
pub const NOTIFY_STATE: TopicSpec = TopicSpec {
    base: "opsline.notify.state.v1",
    event_type: "notification.state",
    key: "incident_id/target",
    compacted: true,
    partitions: 3,
    retention_ms: -1,
    has_dead_letter: false,
};

/// Log service state (miner, detector and incidents per service), keyed by service; latest snapshot per service.
/// Internal to `services/logintel`: the payload is not a public event contract.
pub const LOGINTEL_STATE: TopicSpec = TopicSpec {
    base: "opsline.logintel.state.v1",
    event_type: "logintel.state",
    key: "service",
    compacted: true,
    partitions: 6,
    retention_ms: -1,
    has_dead_letter: false,
};

/// Every topic Opsline uses (dead-letter twins are derived, see [`TopicNames::dead_letter`]).
pub const ALL: &[TopicSpec] = &[
    RAW_LOGS,
    RAW_TICKETS,
    CHAT_MESSAGES,
    TEMPLATES,
    TEMPLATES_REFINED,
    ALERTS,
    EXTERNAL_ALERTS,
    INCIDENTS,
    TICKETS_TRIAGED,
    TICKETS_ROUTED,
    TICKET_STATE,
    TICKETS_FEEDBACK,
    CHAT_REPLIES,
    SELFSERVICE_AUDIT,
    POSTMORTEMS,
    LLM_USAGE,
    INGEST_REJECTED,
    INCIDENT_ACTIONS,
    NOTIFY_STATE,
    LOGINTEL_STATE,
];

/// Suffix of dead-letter topics.
pub const DEAD_LETTER_SUFFIX: &str = ".dlq";

/// Resolves topic names under a prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TopicNames {
    /// Prepended to every base name (e.g. `staging.` or a test's unique id).
    pub prefix: String,
}

impl TopicNames {
    /// Names with the given prefix.
    pub fn with_prefix(prefix: impl Into<String>) -> Self {
        Self { prefix: prefix.into() }
    }

    /// The full name of a topic.
    pub fn name(&self, spec: &TopicSpec) -> String {
        format!("{}{}", self.prefix, spec.base)
    }

    /// The dead-letter twin of an input topic given by full name.
    pub fn dead_letter(full_name: &str) -> String {
        format!("{full_name}{DEAD_LETTER_SUFFIX}")
    }

    /// Every topic to create: each spec, plus a dead-letter twin where it has one.
    pub fn all_to_create(&self) -> Vec<(String, TopicSpec)> {
        let mut out = Vec::new();
        for spec in ALL {
            let name = self.name(spec);
            if spec.has_dead_letter {
                out.push((Self::dead_letter(&name), Self::dead_letter_spec(spec)));
            }
            out.push((name, *spec));
        }
        out
    }

    /// The settings of a dead-letter twin of a topic: one partition, not compacted, 30 days.
    pub fn dead_letter_spec(spec: &TopicSpec) -> TopicSpec {
        TopicSpec {
            compacted: false,
            partitions: 1,
            retention_ms: 30 * DAY_MS,
            has_dead_letter: false,
            ..*spec
        }
    }

    /// The part of [`Self::all_to_create`] one service needs: the topics named in `topics`
    /// and the dead-letter twins of those named in `dead_letters_of`.
    pub fn to_create_among(&self, topics: &[&str], dead_letters_of: &[&str]) -> Vec<(String, TopicSpec)> {
        self.all_to_create()
            .into_iter()
            .filter(|(name, _)| {
                topics.contains(&name.as_str()) || dead_letters_of.iter().any(|t| *name == Self::dead_letter(t))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_alerts_are_co_partitioned_with_raw_logs() {
        assert_eq!(EXTERNAL_ALERTS.key, RAW_LOGS.key);
        assert_eq!(EXTERNAL_ALERTS.partitions, RAW_LOGS.partitions);
    }

    #[test]
    fn to_create_among_keeps_named_topics_and_asked_dead_letters() {
        let names = TopicNames::with_prefix("p.".to_owned());
        let raw = names.name(&RAW_LOGS);
        let alerts = names.name(&ALERTS);
        let wanted = names.to_create_among(&[&raw, &alerts], &[&raw]);
        let got: Vec<&str> = wanted.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got.contains(&raw.as_str()) && got.contains(&alerts.as_str()));
        let dlq = TopicNames::dead_letter(&raw);
        let (_, spec) = wanted.iter().find(|(name, _)| *name == dlq).unwrap();
        assert_eq!(*spec, TopicNames::dead_letter_spec(&RAW_LOGS));
        assert_eq!((spec.partitions, spec.compacted), (1, false));
    }

    #[test]
    fn names_are_unique_and_prefixed() {
        let names = TopicNames::with_prefix("t1.");
        let all = names.all_to_create();
        let mut seen = std::collections::HashSet::new();
        for (name, _) in &all {
            assert!(name.starts_with("t1."));
            assert!(seen.insert(name.clone()), "duplicate topic {name}");
        }
        assert!(seen.contains("t1.opsline.logs.raw.v1.dlq"));
    }
}
