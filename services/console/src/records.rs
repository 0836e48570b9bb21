//! The record view: one raw-log record cited as evidence, read back from Kafka and redacted
//! (`opsline-privacy`, the one redaction implementation), for the incident page and the
//! postmortem page's offset links.
//!
//! Only records of this installation's raw-log topic, and only those cited by an incident or
//! alert the caller may see (its team restriction applies), are read: an offset nobody cited,
//! or cited only by a restricted incident, answers 404 like a missing one.
//!
//! The record is read at its offset ([`opsline_kafka::reader::read_at`]: one partition assigned
//! there, one record), waiting at most `record_wait_ms`.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use jiff::Timestamp;
use opsline_auth::Principal;
use opsline_events::Envelope;
use opsline_events::logs::{LogOffset, RawLog};
use opsline_kafka::KafkaConfig;
use opsline_privacy::Redactor;
use serde::Serialize;
use uuid::Uuid;

use crate::error::ConsoleError;
use crate::lists::may_see;
use crate::views::Views;

static REDACTOR: LazyLock<Redactor> = LazyLock::new(Redactor::default);

/// A raw-log record as shown: every text field redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordView {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// The service that wrote the line.
    pub service: String,
    /// Host, file or shipper (redacted).
    pub source: String,
    /// The line, redacted.
    pub line: String,
    /// The client's timestamp, if sent.
    pub timestamp: Option<Timestamp>,
    /// When the broker stored it (milliseconds since the epoch).
    pub stored_ms: Option<i64>,
    /// Attributes, values redacted.
    pub attributes: Vec<(String, String)>,
    /// The incidents (visible to the caller) that cite it.
    pub incidents: Vec<Uuid>,
    /// The alerts (visible to the caller) that cite it.
    pub alerts: Vec<Uuid>,
}

/// Reads cited records back from the raw-log topic.
#[derive(Debug, Clone)]
pub struct RecordReader {
    /// Kafka settings.
    pub kafka: Arc<KafkaConfig>,
    /// The raw-log topic's full name.
    pub raw_topic: String,
    /// Longest read.
    pub wait: Duration,
}

/// Who cites `(partition, offset)` of `topic` among what `who` may see: (incidents, alerts).
pub fn citers(views: &Views, who: &Principal, topic: &str, partition: i32, offset: i64) -> (Vec<Uuid>, Vec<Uuid>) {
    let cites = |evidence: &[LogOffset]| {
        evidence
            .iter()
            .any(|e| e.topic == topic && e.partition == partition && e.offset == offset)
    };
    let incidents = views
        .incidents()
        .filter(|i| may_see(who, i) && cites(&i.evidence))
        .map(|i| i.incident_id)
        .collect();
    let alerts = views
        .alerts()
        .filter(|a| who.may_see_team(views.restricted_team(&a.service)) && cites(&a.evidence))
        .map(|a| a.alert_id)
        .collect();
    (incidents, alerts)
}

impl RecordReader {
    /// The record at `partition`/`offset` if `views` show `who` an incident or alert citing it.
    pub async fn cited(
        &self,
        views: (Vec<Uuid>, Vec<Uuid>),
        partition: i32,
        offset: i64,
    ) -> Result<RecordView, ConsoleError> {
        let (incidents, alerts) = views;
        let what = format!("{}/{partition}@{offset}", self.raw_topic);
        if incidents.is_empty() && alerts.is_empty() {
            return Err(ConsoleError::NotFound(format!(
                "record {what}: no incident or alert you can see cites it"
            )));
        }
        let record = opsline_kafka::reader::read_at(&self.kafka, &self.raw_topic, partition, offset, self.wait)
            .await
            .map_err(|e| ConsoleError::Unavailable(format!("the broker: {e}")))?
            .ok_or_else(|| {
                ConsoleError::NotFound(format!(
                    "record {what} was not read within {} ms (removed by retention, or the broker is slow)",
                    self.wait.as_millis()
                ))
            })?;
        let raw = Envelope::<RawLog>::from_json(record.payload_bytes())
            .map_err(|e| ConsoleError::BadRequest(format!("record {what} is not a raw log line: {e}")))?
            .data;
        Ok(RecordView {
            topic: self.raw_topic.clone(),
            partition,
            offset,
            service: raw.service,
            source: REDACTOR.redact(&raw.source),
            line: REDACTOR.redact(&raw.line),
            timestamp: raw.timestamp,
            stored_ms: record.timestamp_ms,
            attributes: raw
                .attributes
                .into_iter()
                .map(|(k, v)| (k, REDACTOR.redact(&v)))
                .collect(),
            incidents,
            alerts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsline_events::Event;
    use opsline_events::logs::{Alert, Incident};
    use opsline_search::{Role, Viewer};

    #[test]
    fn only_visible_citers_count() {
        let mut views = Views::default();
        let mut incident = Incident::sample();
        incident.evidence = vec![LogOffset {
            topic: "raw".into(),
            partition: 2,
            offset: 7,
        }];
        incident.restricted_team = Some("finance".into());
        views.apply_incident(incident.clone(), 10);
        let mut alert = Alert::sample();
        alert.service = "other".into();
        alert.evidence = vec![LogOffset {
            topic: "raw".into(),
            partition: 1,
            offset: 3,
        }];
        views.apply_alert(alert.clone(), 10);
        let who = |teams: &[&str]| Principal {
            name: "x".into(),
            viewer: Viewer::new(Role::Viewer, teams.iter().map(|t| (*t).to_owned())),
        };
        assert_eq!(citers(&views, &who(&[]), "raw", 2, 7), (vec![], vec![]), "restricted");
        assert_eq!(
            citers(&views, &who(&["finance"]), "raw", 2, 7).0,
            vec![incident.incident_id]
        );
        assert_eq!(citers(&views, &who(&[]), "raw", 1, 3).1, vec![alert.alert_id]);
        assert_eq!(citers(&views, &who(&[]), "other-topic", 1, 3), (vec![], vec![]));
        assert_eq!(citers(&views, &who(&[]), "raw", 1, 4), (vec![], vec![]));
    }

    #[test]
    fn sensitive_values_are_redacted() {
        let line = REDACTOR.redact("login failed for alice@example.com from 10.1.2.3 password=hunter2");
        assert!(
            !line.contains("alice@example.com") && !line.contains("hunter2") && !line.contains("10.1.2.3"),
            "{line}"
        );
    }
}
