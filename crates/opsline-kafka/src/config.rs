//! Kafka client settings, the `[kafka]` section of every service's config.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};

use crate::KafkaSetupError;
use crate::security::{KafkaSasl, KafkaTls, SecurityProtocol};

/// The `group.id` of group-less readers and followers: librdkafka needs one for a
/// manual assignment, but it is never joined and never committed to.
pub const READER_GROUP_ID: &str = "opsline-groupless-reader";

/// Kafka connection and client settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Comma-separated `host:port` list.
    pub bootstrap_servers: String,
    /// Client id reported to the broker.
    pub client_id: String,
    /// Consumer group session timeout.
    pub session_timeout_ms: u32,
    /// Consumer group heartbeat interval.
    pub heartbeat_interval_ms: u32,
    /// How long a consumer's fetch may wait on the broker for new records (librdkafka's
    /// `fetch.wait.max.ms`; unset: its default, 500). Kafka answers a waiting fetch as soon as
    /// records arrive, so a long wait costs no latency there and saves idle requests; Tansu
    /// answers only when the wait ends, so there it is also the idle latency of each hop.
    pub fetch_wait_max_ms: Option<u32>,
    /// Partitions of every topic a service creates (unset: each topic's own count, sized for
    /// several replicas). A single-node run (`opsline up`'s embedded broker) needs one: a broker
    /// that re-reads every requested partition while a fetch waits (Tansu) then works a fraction
    /// as much when idle. Topics that already exist keep their count.
    pub topic_partitions: Option<i32>,
    /// How long the producer keeps retrying a record before failing it.
    pub message_timeout_ms: u32,
    /// Producer batching delay.
    pub linger_ms: u32,
    /// Producer queue size; a full queue makes the gateway answer 503.
    pub queue_buffering_max_messages: u32,
    /// Inputs in flight (processed, outputs not yet acknowledged) per consumer loop.
    pub max_in_flight: usize,
    /// How often processed offsets are committed.
    pub commit_interval_ms: u64,
    /// Attempts for a retryable processing error before dead-lettering.
    pub retry_max_attempts: usize,
    /// First retry delay.
    pub retry_min_delay_ms: u64,
    /// Longest retry delay.
    pub retry_max_delay_ms: u64,
    /// How long shutdown waits for in-flight outputs.
    pub drain_timeout_ms: u64,
    /// `plaintext` (default), `ssl`, `sasl_plaintext` or `sasl_ssl`.
    pub security_protocol: SecurityProtocol,
    /// TLS: CA file, client certificate and key (`ssl`, `sasl_ssl`).
    pub tls: KafkaTls,
    /// SASL: mechanism, user and password (`sasl_plaintext`, `sasl_ssl`).
    pub sasl: KafkaSasl,
    /// Extra librdkafka properties, passed through as is (after the settings above).
    pub extra: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            bootstrap_servers: "127.0.0.1:9092".to_owned(),
            client_id: "opsline".to_owned(),
            session_timeout_ms: 6000,
            heartbeat_interval_ms: 2000,
            fetch_wait_max_ms: None,
            topic_partitions: None,
            message_timeout_ms: 60_000,
            linger_ms: 5,
            queue_buffering_max_messages: 100_000,
            max_in_flight: 5_000,
            commit_interval_ms: 1_000,
            retry_max_attempts: 4,
            retry_min_delay_ms: 100,
            retry_max_delay_ms: 5_000,
            drain_timeout_ms: 30_000,
            security_protocol: SecurityProtocol::Plaintext,
            tls: KafkaTls::default(),
            sasl: KafkaSasl::default(),
            extra: BTreeMap::new(),
        }
    }
}

impl KafkaConfig {
    /// Settings pointing at `bootstrap_servers`, defaults otherwise.
    pub fn with_bootstrap(bootstrap_servers: impl Into<String>) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            ..Self::default()
        }
    }

    /// The connection settings every client shares: brokers, client id, TLS and SASL, extras.
    /// Fails when the security settings do not fit together or a password file is unreadable.
    pub(crate) fn base(&self) -> Result<ClientConfig, KafkaSetupError> {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.bootstrap_servers)
            .set("client.id", &self.client_id);
        crate::security::apply(&mut config, self.security_protocol, &self.tls, &self.sasl)?;
        for (key, value) in &self.extra {
            config.set(key, value);
        }
        Ok(config)
    }

    /// How the clients authenticate, for error messages: `SASL SCRAM-SHA-512 as user "x"`,
    /// `TLS` or `no authentication`.
    pub(crate) fn authentication(&self) -> String {
        match (self.security_protocol, self.sasl.mechanism) {
            (SecurityProtocol::SaslSsl | SecurityProtocol::SaslPlaintext, Some(mechanism)) => format!(
                "SASL {} as user {:?} over {}",
                mechanism.as_str(),
                self.sasl.username,
                self.security_protocol.as_str()
            ),
            (protocol, _) => protocol.as_str().to_owned(),
        }
    }

    /// librdkafka settings of the idempotent producer.
    pub(crate) fn producer_config(&self) -> Result<ClientConfig, KafkaSetupError> {
        let mut config = self.base()?;
        config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", self.linger_ms.to_string())
            .set("message.timeout.ms", self.message_timeout_ms.to_string())
            .set(
                "queue.buffering.max.messages",
                self.queue_buffering_max_messages.to_string(),
            );
        Ok(config)
    }

    /// librdkafka settings of a group consumer with manual commits.
    pub(crate) fn consumer_config(&self, group_id: &str) -> Result<ClientConfig, KafkaSetupError> {
        let mut config = self.base()?;
        config
            .set("group.id", group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", self.session_timeout_ms.to_string())
            .set("heartbeat.interval.ms", self.heartbeat_interval_ms.to_string())
            .set("statistics.interval.ms", "5000")
            .set("enable.partition.eof", "false")
            // Range assignment gives a member the same partition numbers of every topic it
            // subscribes to with the same partition count (co-partitioned topics, such as raw
            // logs and external alerts, both keyed by service): what a member correlates
            // arrives at that member. (librdkafka's default, "range,roundrobin", picks range
            // too; spelled out because the log service depends on it.)
            .set("partition.assignment.strategy", "range");
        self.set_fetch_wait(&mut config);
        Ok(config)
    }

    fn set_fetch_wait(&self, config: &mut ClientConfig) {
        if let Some(wait) = self.fetch_wait_max_ms {
            config.set("fetch.wait.max.ms", wait.to_string());
        }
    }

    /// librdkafka settings of a group-less reader (manual assignment, no commits).
    ///
    /// librdkafka refuses a manual assignment without a `group.id`, so readers share
    /// [`READER_GROUP_ID`]; it is never joined (no subscribe) and never committed to,
    /// so the broker keeps no group for it.
    pub(crate) fn reader_config(&self) -> Result<ClientConfig, KafkaSetupError> {
        let mut config = self.base()?;
        config
            .set("group.id", READER_GROUP_ID)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            // Range assignment gives a member the same partition numbers of every topic it
            // subscribes to with the same partition count (co-partitioned topics, such as raw
            // logs and external alerts, both keyed by service): what a member correlates
            // arrives at that member. (librdkafka's default, "range,roundrobin", picks range
            // too; spelled out because the log service depends on it.)
            .set("partition.assignment.strategy", "range");
        self.set_fetch_wait(&mut config);
        Ok(config)
    }

    /// Commit interval as a duration.
    pub(crate) fn commit_interval(&self) -> Duration {
        Duration::from_millis(self.commit_interval_ms.max(10))
    }
}
