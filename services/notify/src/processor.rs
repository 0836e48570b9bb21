//! The incident consumer: each revision on `opsline.incidents.v1` is compared with what each
//! routed target was told ([`crate::transitions`]); each transition is gated by maintenance
//! windows and quiet hours ([`crate::rules`]) and handed to its target's queue
//! ([`crate::delivery`]). The input's offset is committed once every notification it brought
//! was sent or dead-lettered (commit holds in [`crate::state`]); suppressed ones are recorded
//! on the state topic as the input's outputs.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use opsline_events::incidents::Incident;
use opsline_events::notify::NotificationOutcome;
use opsline_kafka::{InRecord, OutRecord, ProcessError, Processor};
use uuid::Uuid;

use crate::delivery::{Dispatch, Job};
use crate::error::NotifyError;
use crate::metrics::NotifyMetrics;
use crate::rules::{Gate, Rules, sev_of};
use crate::sinks::Notification;
use crate::state::{Input, Shared, state_of, state_record, thread_of};
use crate::transitions::{Told, transitions};

/// Past this many queued entries, delivered ones are forgotten.
const QUEUED_PRUNE_AT: usize = 10_000;

/// The Kafka processor of incident revisions.
pub struct NotifyProcessor {
    /// Routing, quiet hours, maintenance.
    pub rules: Rules,
    /// Each target's queue, by name.
    pub targets: BTreeMap<String, Dispatch>,
    /// Told states, commit holds.
    pub shared: Arc<Shared>,
    /// What was queued per incident and target in this process (ahead of what was delivered).
    pub queued: HashMap<(Uuid, String), Told>,
    /// The state topic (full name).
    pub state_topic: String,
    /// Metrics.
    pub(crate) metrics: NotifyMetrics,
}

impl NotifyProcessor {
    /// Forgets what was queued and is now delivered (the shared state knows it), so `queued`
    /// holds only notifications in flight (bounded by the targets' queues) and held ones.
    fn prune_queued(&mut self) {
        if self.queued.len() > QUEUED_PRUNE_AT {
            let shared = &self.shared;
            self.queued
                .retain(|(incident, target), told| !shared.delivered(*incident, target, told.offset));
        }
    }

    fn handle(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, NotifyError> {
        self.prune_queued();
        let incident: Incident = record
            .envelope::<Incident>()
            .map_err(|e| NotifyError::InvalidInput(e.to_string()))?
            .data;
        let input = Arc::new(Input::of(record));
        let mut outputs = Vec::new();
        for target in self.rules.targets_for(&incident) {
            let Some(dispatch) = self.targets.get(&target) else {
                continue;
            };
            let key = (incident.incident_id, target.clone());
            let told = self
                .queued
                .get(&key)
                .copied()
                .or_else(|| self.shared.told(incident.incident_id, &target).as_ref().map(Told::from));
            if told.and_then(|t| t.offset).is_some_and(|seen| record.offset <= seen) {
                continue; // an older revision read again: the target already knows more
            }
            for (transition, mut after) in transitions(told, &incident) {
                after.offset = Some(record.offset);
                self.queued.insert(key.clone(), after);
                let job = Job {
                    notification: Notification {
                        transition,
                        incident: incident.clone(),
                    },
                    told: after,
                    input: input.clone(),
                    queued_at: Instant::now(),
                };
                match self
                    .rules
                    .gate(&incident.service, sev_of(&incident), jiff::Timestamp::now())
                {
                    Gate::Send => outputs.extend(dispatch.offer(job)),
                    Gate::Drop(code, reason) => {
                        self.metrics.suppressed(&target, dispatch.kind(), code);
                        tracing::info!(%target, incident = %incident.incident_id, %reason, "notification suppressed");
                        let thread = self
                            .shared
                            .told(incident.incident_id, &target)
                            .as_ref()
                            .and_then(thread_of);
                        let state = state_of(
                            &incident,
                            &target,
                            transition,
                            after,
                            NotificationOutcome::Suppressed,
                            thread.as_ref(),
                        );
                        self.shared.remember(state.clone());
                        outputs.extend(state_record(&self.state_topic, &state));
                    }
                    Gate::Hold(until) => {
                        self.metrics.suppressed(&target, dispatch.kind(), "quiet_hours_held");
                        hold_until(dispatch.clone(), job, until, &self.shared);
                    }
                }
            }
        }
        Ok(outputs)
    }
}

/// Queues `job` at `until` (the end of quiet hours); its input's commit is held meanwhile,
/// so a restart before then reads the revision again and decides anew.
fn hold_until(dispatch: Dispatch, job: Job, until: jiff::Timestamp, shared: &Arc<Shared>) {
    let (partition, offset) = (job.input.partition, job.input.offset);
    shared.hold(partition, offset);
    let shared = shared.clone();
    let now = jiff::Timestamp::now();
    let wait = if until > now {
        now.duration_until(until).unsigned_abs()
    } else {
        std::time::Duration::ZERO
    };
    tokio::spawn(async move {
        tokio::time::sleep(wait).await;
        let letters = dispatch.offer(job);
        dispatch.produce_all(&letters).await;
        shared.release(partition, offset);
    });
}

impl Processor for NotifyProcessor {
    async fn process(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, ProcessError> {
        Ok(self.handle(record)?)
    }

    fn committable(&self, _topic: &str, partition: i32, offset: i64) -> i64 {
        self.shared.committable(partition, offset)
    }
}
