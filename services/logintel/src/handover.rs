//! Partitions changing hands between replicas: when raw-log partitions are assigned to this
//! member (a replica stopped or crashed, a new one joined), the services on them continue
//! from their written state, read from the compacted state topic, not from whatever this
//! member remembered of them. The commit never passes written state
//! ([`crate::snapshot_gate`]), so replaying from the committed offset after the restored
//! snapshot's position loses nothing; what is replayed is dropped downstream by id.

use std::collections::HashMap;
use std::time::Duration;

use opsline_kafka::KafkaConfig;
use opsline_kafka::record::InRecord;

use crate::shared::{SharedState, lock};
use crate::state::{ServiceSnapshot, restore};

/// Where the written state is.
#[derive(Debug, Clone)]
pub struct Restore {
    /// The broker.
    pub kafka: KafkaConfig,
    /// The state topic.
    pub topic: String,
    /// How long reading it may take.
    pub max_wait: Duration,
}

/// The latest snapshot of each service in `records` (bad ones skipped with a warning).
pub fn latest_snapshots(records: &[InRecord]) -> HashMap<String, ServiceSnapshot> {
    let mut latest = HashMap::new();
    for record in records {
        match ServiceSnapshot::from_json(record.payload_bytes()) {
            Ok(snapshot) => {
                latest.insert(snapshot.service.clone(), snapshot);
            }
            Err(error) => {
                tracing::warn!(partition = record.partition, offset = record.offset, %error, "skipping bad snapshot")
            }
        }
    }
    latest
}

/// Installs the written state of the services on raw-log `partitions` when it is newer than
/// what this member holds.
pub async fn restore_partitions(shared: &SharedState, restore_from: &Restore, partitions: &[i32]) {
    let records = match opsline_kafka::reader::read_to_end(
        &restore_from.kafka,
        &restore_from.topic,
        restore_from.max_wait,
    )
    .await
    {
        Ok(records) => records,
        Err(error) => {
            tracing::warn!(%error, ?partitions, "cannot read the written state of partitions moved here; continuing with the state held");
            return;
        }
    };
    let mut installed = 0usize;
    let mut guard = lock(shared);
    let shared = &mut *guard;
    for partition in partitions {
        shared.resumed.remove(partition);
    }
    for (service, snapshot) in latest_snapshots(&records) {
        let Some(position) = snapshot.position else { continue };
        if !partitions.contains(&position.partition) {
            continue;
        }
        let held = shared.engine.service(&service).and_then(|s| s.position);
        if held.is_some_and(|h| h.partition == position.partition && h.offset >= position.offset) {
            continue;
        }
        match restore(&mut shared.engine, snapshot) {
            Ok(_) => {
                shared.snapshots.restored(&service, Some(position));
                shared.restored.insert(service, position);
                installed += 1;
            }
            Err(error) => tracing::warn!(%service, %error, "cannot restore the written state of a service moved here"),
        }
    }
    tracing::info!(
        ?partitions,
        services = installed,
        "partitions assigned; written state restored"
    );
}
