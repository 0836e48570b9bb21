//! The Kafka side: the drafter (incidents and alerts in, postmortems out) and the indexer
//! (postmortems in, search index out).
//!
//! Alerts are cached by id as they arrive. A resolved incident is drafted as soon as all its
//! alerts are known; until then it waits (alerts and incidents travel on different topics and
//! partitions, so an incident may be read before its last alert), at most `alert_wait_ms`,
//! after which it is drafted with the alerts it has (the missing ones are listed in the
//! document). Waiting incidents are drafted by the input that completes them, or by the
//! periodic [`flush_overdue`] tick. An incident whose postmortem was already reviewed or
//! published is never drafted again. Only incidents whose postmortem-policy decision is
//! `draft` are drafted (policy: severe and lasting, enough linked tickets, or declared by a
//! person); the others stay incidents with their resolution record.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use opsline_events::logs::{Alert, Incident, IncidentStatus};
use opsline_events::ops::{Postmortem, PostmortemStatus};
use opsline_events::{Envelope, Event};
use opsline_kafka::record::InRecord;
use opsline_kafka::{OutRecord, ProcessError, Processor};
use uuid::Uuid;

use crate::draft::{DETERMINISTIC_MODEL, deterministic_draft, postmortem_id};
use crate::holds::{CommitHolds, HeldInput, Position};
use crate::metrics::{DraftLabel, PostmortemMetrics};
use crate::narrative::{NarrativeJob, NarrativeQueue};
use crate::store::{Applied, Store};
use crate::timeline::Timeline;

/// The component name in envelopes and dead letters.
pub const COMPONENT: &str = "postmortem";

/// Full topic names the service uses.
#[derive(Debug, Clone)]
pub struct Topics {
    /// Incidents (input).
    pub incidents: String,
    /// Alerts (input).
    pub alerts: String,
    /// Postmortems (output of the drafter, input of the indexer).
    pub postmortems: String,
}

/// Alerts by id and incidents waiting for theirs, with the commit holds they place.
pub(crate) struct DraftState {
    alerts: HashMap<Uuid, Alert>,
    alert_order: VecDeque<Uuid>,
    max_alerts: usize,
    waiting: BTreeMap<Uuid, (Incident, Instant)>,
    wait: Duration,
    holds: CommitHolds,
}

impl DraftState {
    pub(crate) fn new(max_alerts: usize, wait: Duration) -> Self {
        Self {
            alerts: HashMap::new(),
            alert_order: VecDeque::new(),
            max_alerts: max_alerts.max(1),
            waiting: BTreeMap::new(),
            wait,
            holds: CommitHolds::default(),
        }
    }

    /// Caches `alert`; read by the consumer at `at`, it holds that partition's commit until
    /// evicted.
    fn add_alert(&mut self, alert: Alert, at: Option<Position>) {
        let id = alert.alert_id;
        if self.alerts.insert(id, alert).is_none() {
            self.alert_order.push_back(id);
        }
        if let Some(at) = at {
            self.holds.hold(HeldInput::Alert, id, at);
        }
        while self.alert_order.len() > self.max_alerts {
            if let Some(old) = self.alert_order.pop_front() {
                self.alerts.remove(&old);
                self.holds.release(HeldInput::Alert, old);
            }
        }
    }

    /// Queues a resolved incident (replacing an older state of it); read by the consumer at
    /// `at`, it holds that partition's commit until its draft is acknowledged ([`Self::release`]).
    pub(crate) fn add_incident(&mut self, incident: Incident, at: Option<Position>) {
        if let Some(at) = at {
            self.holds.hold(HeldInput::Incident, incident.incident_id, at);
        }
        let since = self
            .waiting
            .get(&incident.incident_id)
            .map(|(_, since)| *since)
            .unwrap_or_else(Instant::now);
        self.waiting.insert(incident.incident_id, (incident, since));
    }

    /// The drafts of `incidents` are acknowledged (or were not needed): their holds go.
    pub(crate) fn release(&mut self, incidents: &[Uuid]) {
        for id in incidents {
            self.holds.release(HeldInput::Incident, *id);
        }
    }

    /// The highest offset of an input partition that may be committed once `offset` is done.
    pub(crate) fn committable(&self, input: HeldInput, partition: i32, offset: i64) -> i64 {
        self.holds.committable(input, partition, offset)
    }

    /// Takes the incidents that are complete, or all waiting ones past the wait when `overdue`.
    fn take_ready(&mut self, now: Instant) -> Vec<(Incident, Vec<Alert>)> {
        let ready: Vec<Uuid> = self
            .waiting
            .iter()
            .filter(|(_, (incident, since))| {
                incident.alert_ids.iter().all(|id| self.alerts.contains_key(id))
                    || now.duration_since(*since) >= self.wait
            })
            .map(|(id, _)| *id)
            .collect();
        ready
            .into_iter()
            .filter_map(|id| self.waiting.remove(&id))
            .map(|(incident, _)| {
                let alerts = incident
                    .alert_ids
                    .iter()
                    .filter_map(|id| self.alerts.get(id).cloned())
                    .collect();
                (incident, alerts)
            })
            .collect()
    }
}

/// State shared by the drafter loop and the tick.
#[derive(Clone)]
pub(crate) struct Drafting {
    pub(crate) state: Arc<Mutex<DraftState>>,
    pub(crate) store: Arc<Store>,
    pub(crate) narratives: NarrativeQueue,
    pub(crate) topics: Topics,
    pub(crate) metrics: PostmortemMetrics,
}

impl Drafting {
    fn lock(&self) -> std::sync::MutexGuard<'_, DraftState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the incident still needs a (new) draft: resolved, the postmortem policy's
    /// decision on it is `draft` (a policy skip or a missing declaration means no draft), and
    /// its postmortem was not yet reviewed or published, nor edited by a person (a redraft
    /// would drop their work).
    pub(crate) fn wants_draft(&self, incident: &Incident) -> bool {
        policy_allows(incident)
            && self
                .store
                .postmortem(postmortem_id(incident.incident_id))
                .is_none_or(|pm| {
                    pm.status == PostmortemStatus::Draft && !crate::review::record::edited_by_people(&pm.markdown)
                })
    }

    /// Drafts every ready incident deterministically, returns the records to produce (and the
    /// incidents taken, to [`DraftState::release`] once those records are acknowledged) and
    /// queues the narrative of each new draft. A draft with the same basis as the current
    /// revision (a replay) is not published again; its narrative is queued again only if it
    /// has none yet. A draft of changed facts becomes the next revision.
    fn draft_ready(&self, now: Instant) -> Result<(Vec<OutRecord>, Vec<Uuid>), ProcessError> {
        let ready = self.lock().take_ready(now);
        let taken: Vec<Uuid> = ready.iter().map(|(incident, _)| incident.incident_id).collect();
        match self.draft(ready) {
            Ok(out) => Ok((out, taken)),
            Err(error) => {
                // Nothing will acknowledge these drafts: their holds must not stall the partition.
                self.lock().release(&taken);
                Err(error)
            }
        }
    }

    fn draft(&self, ready: Vec<(Incident, Vec<Alert>)>) -> Result<Vec<OutRecord>, ProcessError> {
        let mut out = Vec::with_capacity(ready.len());
        for (incident, alerts) in ready {
            if !self.wants_draft(&incident) {
                continue;
            }
            let timeline = Timeline::build(&incident, &alerts);
            let mut draft = deterministic_draft(&incident, &timeline);
            let current = self.store.postmortem(draft.postmortem_id);
            let outcome = match &current {
                Some(current) if current.draft_basis == draft.draft_basis => "unchanged",
                Some(current) => {
                    draft.revision = current.revision.saturating_add(1);
                    "redrafted"
                }
                None => "drafted",
            };
            self.metrics.drafts.get_or_create(&DraftLabel { outcome }).inc();
            tracing::info!(
                incident = %incident.incident_id,
                postmortem = %draft.postmortem_id,
                revision = draft.revision,
                alerts = alerts.len(),
                missing = incident.alert_ids.len().saturating_sub(alerts.len()),
                outcome,
                "postmortem drafted"
            );
            let base = match current {
                Some(current) if outcome == "unchanged" => {
                    if current.model != DETERMINISTIC_MODEL {
                        continue;
                    }
                    current
                }
                _ => {
                    out.push(postmortem_record(&self.topics.postmortems, draft.clone())?);
                    draft
                }
            };
            self.narratives.offer(NarrativeJob { incident, alerts, base });
        }
        Ok(out)
    }
}

/// Whether the incident may be drafted at all: resolved, and its postmortem-policy decision is
/// `draft` (records from before the policy carry none and are drafted, as they were then).
pub(crate) fn policy_allows(incident: &Incident) -> bool {
    incident.status == IncidentStatus::Resolved && incident.wants_postmortem()
}

/// The record publishing `postmortem` (keyed by its id).
pub(crate) fn postmortem_record(topic: &str, postmortem: Postmortem) -> Result<OutRecord, ProcessError> {
    let key = postmortem.postmortem_id.to_string();
    let envelope = Envelope::new(COMPONENT, postmortem).with_trace(opsline_kafka::record::current_trace_context());
    OutRecord::event(topic.to_owned(), &key, &envelope).map_err(|e| ProcessError::fatal("encode", e.to_string()))
}

fn parse<T: Event>(record: &InRecord) -> Result<Option<T>, ProcessError> {
    if record.payload.is_none() {
        return Ok(None);
    }
    record
        .envelope::<T>()
        .map(|e| Some(e.data))
        .map_err(|e| ProcessError::fatal("invalid_event", e.to_string()))
}

/// Consumes incidents and alerts and drafts postmortems.
///
/// # Delivery guarantee
///
/// At least once, across crashes and rebalances: an input partition's offset is committed
/// only up to its oldest commit hold ([`crate::holds`]), so a cached alert or an incident whose
/// draft is not yet acknowledged is read again by whichever replica owns the partition next.
/// Drafts are deterministic, so a draft made twice is the same record.
pub(crate) struct DraftProcessor {
    pub(crate) drafting: Drafting,
    /// Incidents drafted by an input, released once that input's outputs are acknowledged.
    pub(crate) awaiting_ack: HashMap<(String, i32, i64), Vec<Uuid>>,
}

impl DraftProcessor {
    /// A processor drafting into `drafting`.
    pub(crate) fn new(drafting: Drafting) -> Self {
        Self {
            drafting,
            awaiting_ack: HashMap::new(),
        }
    }

    fn held_input(&self, topic: &str) -> Option<HeldInput> {
        if topic == self.drafting.topics.alerts {
            Some(HeldInput::Alert)
        } else if topic == self.drafting.topics.incidents {
            Some(HeldInput::Incident)
        } else {
            None
        }
    }
}

impl Processor for DraftProcessor {
    async fn process(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, ProcessError> {
        let at = Some((record.partition, record.offset));
        if record.topic == self.drafting.topics.alerts {
            if let Some(alert) = parse::<Alert>(record)? {
                self.drafting.lock().add_alert(alert, at);
            }
        } else if record.topic == self.drafting.topics.incidents {
            if let Some(incident) = parse::<Incident>(record)? {
                if self.drafting.wants_draft(&incident) {
                    self.drafting.lock().add_incident(incident, at);
                }
            }
        }
        let (out, taken) = self.drafting.draft_ready(Instant::now())?;
        if out.is_empty() {
            self.drafting.lock().release(&taken);
        } else if !taken.is_empty() {
            self.awaiting_ack
                .insert((record.topic.clone(), record.partition, record.offset), taken);
        }
        Ok(out)
    }

    fn outputs_acknowledged(&mut self, topic: &str, partition: i32, offset: i64) {
        if let Some(taken) = self.awaiting_ack.remove(&(topic.to_owned(), partition, offset)) {
            self.drafting.lock().release(&taken);
        }
    }

    fn committable(&self, topic: &str, partition: i32, offset: i64) -> i64 {
        match self.held_input(topic) {
            Some(input) => self.drafting.lock().committable(input, partition, offset),
            None => offset,
        }
    }
}

/// Drafts waiting incidents whose wait is over, every second, until `shutdown`.
pub(crate) async fn flush_overdue(
    drafting: Drafting,
    producer: opsline_kafka::Producer,
    shutdown: opsline_runtime::Shutdown,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match drafting.draft_ready(Instant::now()) {
            Ok((records, taken)) => {
                let mut sent = true;
                for record in records {
                    if let Err(error) = producer.send(&record).await {
                        sent = false;
                        tracing::warn!(%error, "overdue draft not published; its incident is read again at the next start or handover");
                    }
                }
                if sent {
                    drafting.lock().release(&taken);
                }
            }
            Err(error) => tracing::warn!(%error, "overdue draft failed"),
        }
    }
}

/// Consumes postmortems into the store and the index, and keeps the topic's last record of
/// each postmortem its winning revision.
///
/// Compaction keeps the last record written per key, but the store keeps the highest
/// (status, revision). Those differ when a record that loses is written after the winner
/// (a narrative produced while a reviewer marked the draft reviewed): compacted, the topic
/// would keep the draft and a restart would forget the review. So when a losing record comes
/// after the winner's record, the winner is written again, behind it.
pub(crate) struct IndexProcessor {
    pub(crate) store: Arc<Store>,
    /// The postmortems topic (the repairs are written there).
    pub(crate) topic: String,
    pub(crate) metrics: PostmortemMetrics,
}

impl Processor for IndexProcessor {
    async fn process(&mut self, record: &InRecord) -> Result<Vec<OutRecord>, ProcessError> {
        let Some(postmortem) = parse::<Postmortem>(record)? else {
            return Ok(Vec::new());
        };
        let id = postmortem.postmortem_id;
        let applied = self
            .store
            .apply_at(postmortem, Some(record.offset))
            .map_err(|e| ProcessError::retryable("index", e.to_string()))?;
        if applied == Applied::Updated {
            return Ok(Vec::new());
        }
        // Only a winner known to lie earlier on the topic is written again: its own record may
        // lie later (written by the review API of this process, which applies it at once,
        // before this indexer reads it), and where an unknown one lies is unknown.
        let winner_is_earlier = self.store.current_offset(id).is_some_and(|at| at < record.offset);
        match self.store.postmortem(id) {
            Some(winner) if winner_is_earlier => {
                self.metrics.winner_rewritten.inc();
                tracing::info!(postmortem = %id, revision = winner.revision, "a losing revision was written last; writing the current one again");
                Ok(vec![postmortem_record(&self.topic, winner)?])
            }
            _ => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::tests::fixture;

    #[test]
    fn incidents_wait_for_their_alerts_then_time_out() {
        let (incident, alerts) = fixture();
        let mut state = DraftState::new(10, Duration::from_secs(30));
        let start = Instant::now();
        state.add_incident(incident.clone(), None);
        assert!(state.take_ready(start).is_empty());
        for alert in alerts {
            state.add_alert(alert, None);
        }
        // The fixture lists a third alert id that never arrives.
        assert!(state.take_ready(start).is_empty());
        let ready = state.take_ready(start + Duration::from_secs(31));
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].1.len(), 2);
        assert!(state.take_ready(start + Duration::from_secs(60)).is_empty());
    }

    #[test]
    fn only_policy_approved_incidents_are_drafted() {
        use opsline_events::logs::{PostmortemChoice, PostmortemDecision};
        let (mut incident, _) = fixture();
        assert!(policy_allows(&incident), "the fixture's decision is draft");
        incident.postmortem = Some(PostmortemDecision {
            decision: PostmortemChoice::Skip,
            reason: "below policy".into(),
            decided_by: "policy".into(),
            resolution: Some("resolved by quiet-period".into()),
        });
        assert!(!policy_allows(&incident), "below policy: no draft");
        incident.postmortem = None;
        assert!(policy_allows(&incident), "records from before the policy are drafted");
        incident.status = IncidentStatus::Open;
        assert!(!policy_allows(&incident), "only resolved incidents");
    }

    #[test]
    fn the_alert_cache_is_bounded() {
        let (_, alerts) = fixture();
        let mut state = DraftState::new(1, Duration::from_secs(1));
        for alert in alerts {
            state.add_alert(alert, None);
        }
        assert_eq!(state.alerts.len(), 1);
    }
}
