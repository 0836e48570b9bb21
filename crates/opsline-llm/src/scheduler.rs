//! One scheduler per endpoint, shared by every task of a process: who gets the model next.
//!
//! A caller first asks for an [`Admission`] ([`Scheduler::admit`]); it never waits: when the
//! task's queue budget is used up the job is refused at once (counted in
//! `opsline_llm_scheduler_dropped_total{reason="queue_full"}`, and at most one summary log line
//! a minute says how many were refused, never one line per job). An admitted job waits for its
//! turn ([`Admission::turn`]): the scheduler starts queued jobs by priority class
//! ([`Priority::Interactive`] before [`Priority::Narrative`] before [`Priority::Batch`]), first
//! come first served within a class, as long as the endpoint has a free slot (`capacity`, the
//! old concurrency limit) and the task is under its in-flight budget. Just before a job would be
//! started, the caller's cheap [`StaleCheck`] is asked whether it is still wanted (a ticket
//! already re-routed, an incident already reviewed): a stale job is dropped, never sent
//! (`reason="stale"`). The [`Permit`] of a started job frees its slot when dropped.
//!
//! Every queue is bounded by the budgets; nothing here spawns or sleeps. Time is tokio's
//! (tests run it paused). [`shared`] hands out the one scheduler of an endpoint in this process,
//! so services running side by side (`opsline up`) share the model.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::metrics::SchedulerMetrics;

/// A cheap check, asked just before a queued job is sent: `true` means nobody wants the answer
/// any more. It must not block and must not call into the scheduler.
pub type StaleCheck = Arc<dyn Fn() -> bool + Send + Sync>;

/// How long the refusal summary waits before it speaks again.
const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// Who is waiting for the answer; earlier classes go first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// A person is waiting: ticket enrichment, chat replies.
    Interactive,
    /// Postmortem narratives: read later, by fewer people.
    Narrative,
    /// Everything else (evaluations, backfills).
    Batch,
}

impl Priority {
    /// Every class, in the order they are served.
    pub const ALL: [Priority; 3] = [Priority::Interactive, Priority::Narrative, Priority::Batch];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Interactive => "interactive",
            Priority::Narrative => "narrative",
            Priority::Batch => "batch",
        }
    }

    /// The default class of a task name: `ticket_enrichment` and `chat_reply` are interactive,
    /// `postmortem_narrative` is a narrative, `template_refinement` (logintel's template
    /// refinement) and anything else is batch work.
    pub fn for_task(task: &str) -> Self {
        match task {
            "ticket_enrichment" | "chat_reply" => Priority::Interactive,
            "postmortem_narrative" => Priority::Narrative,
            "template_refinement" => Priority::Batch,
            _ => Priority::Batch,
        }
    }

    fn index(self) -> usize {
        match self {
            Priority::Interactive => 0,
            Priority::Narrative => 1,
            Priority::Batch => 2,
        }
    }
}

/// What one task may hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Budget {
    /// Jobs admitted and not yet started; one more is refused.
    pub max_queued: usize,
    /// Jobs of the task sent to the endpoint at once.
    pub max_in_flight: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            max_queued: 64,
            max_in_flight: 1,
        }
    }
}

/// Why an admitted job was not started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotStarted {
    /// Its stale check said nobody wants it any more.
    #[error("stale: dropped before it was sent")]
    Stale,
    /// [`Admission::turn`] was already called.
    #[error("admission already used")]
    Spent,
}

/// The task's queue budget is used up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {task} queue is full ({max_queued} waiting)")]
pub struct Refused {
    /// The task.
    pub task: String,
    /// Its queue budget.
    pub max_queued: usize,
}

#[derive(Debug, Default)]
struct TaskState {
    queued: usize,
    in_flight: usize,
}

struct Waiter {
    id: u64,
    task: String,
    max_in_flight: usize,
    stale: Option<StaleCheck>,
    admitted_at: Instant,
    reply: oneshot::Sender<Result<Permit, NotStarted>>,
}

struct State {
    capacity: usize,
    in_flight: usize,
    tasks: HashMap<String, TaskState>,
    queued_by_class: [usize; 3],
    waiting: [VecDeque<Waiter>; 3],
    next_id: u64,
    refused_since_summary: u64,
    last_summary: Option<Instant>,
}

struct Inner {
    state: Mutex<State>,
    metrics: SchedulerMetrics,
}

/// The scheduler of one endpoint; cheap to clone (clones share it).
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner.lock();
        f.debug_struct("Scheduler")
            .field("capacity", &state.capacity)
            .field("in_flight", &state.in_flight)
            .field("queued", &state.queued_by_class)
            .finish()
    }
}

/// The process's scheduler of `endpoint` (created with `capacity` slots by its first user;
/// later users share it as it is).
pub fn shared(endpoint: &str, capacity: usize) -> Scheduler {
    static REGISTRY: OnceLock<Mutex<BTreeMap<String, Scheduler>>> = OnceLock::new();
    let registry = REGISTRY.get_or_init(|| Mutex::new(BTreeMap::new()));
    let mut registry = registry.lock().unwrap_or_else(PoisonError::into_inner);
    registry
        .entry(endpoint.trim_end_matches('/').to_owned())
        .or_insert_with(|| Scheduler::new(capacity))
        .clone()
}

impl Scheduler {
    /// A scheduler sending at most `capacity` jobs at once (at least 1).
    pub fn new(capacity: usize) -> Self {
        let state = State {
            capacity: capacity.max(1),
            in_flight: 0,
            tasks: HashMap::new(),
            queued_by_class: [0; 3],
            waiting: Default::default(),
            next_id: 0,
            refused_since_summary: 0,
            last_summary: None,
        };
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                metrics: SchedulerMetrics::default(),
            }),
        }
    }

    /// The scheduler's metrics (queue length, wait time, drops), to register in a process registry.
    pub(crate) fn metrics(&self) -> &SchedulerMetrics {
        &self.inner.metrics
    }

    /// Admits a job of `task` into its class's queue, or refuses it at once when the task
    /// already has `budget.max_queued` jobs waiting. Never waits.
    pub fn admit(
        &self,
        task: &str,
        class: Priority,
        budget: Budget,
        stale: Option<StaleCheck>,
    ) -> Result<Admission, Refused> {
        let mut state = self.inner.lock();
        let queued = state.tasks.get(task).map_or(0, |t| t.queued);
        if queued >= budget.max_queued {
            self.inner.metrics.dropped(task, "queue_full");
            state.refused_since_summary += 1;
            let now = Instant::now();
            if state
                .last_summary
                .is_none_or(|at| now.duration_since(at) >= SUMMARY_EVERY)
            {
                tracing::warn!(
                    refused = state.refused_since_summary,
                    task,
                    max_queued = budget.max_queued,
                    "LLM work refused because its queue is full (summary, at most once a minute; \
                     see opsline_llm_scheduler_dropped_total)"
                );
                state.refused_since_summary = 0;
                state.last_summary = Some(now);
            }
            return Err(Refused {
                task: task.to_owned(),
                max_queued: budget.max_queued,
            });
        }
        state.tasks.entry(task.to_owned()).or_default().queued += 1;
        state.queued_by_class[class.index()] += 1;
        self.inner.queue_gauge(&state, class);
        Ok(Admission {
            inner: self.inner.clone(),
            task: task.to_owned(),
            class,
            budget,
            stale,
            admitted_at: Instant::now(),
            id: AtomicU64::new(0),
            phase: AtomicU8::new(FRESH),
        })
    }

    /// Jobs admitted and not started, per class (interactive, narrative, batch).
    pub fn queued(&self) -> [usize; 3] {
        self.inner.lock().queued_by_class
    }

    /// Jobs started and not finished.
    pub fn in_flight(&self) -> usize {
        self.inner.lock().in_flight
    }

    /// Jobs of `task` never sent for `reason` (`queue_full` or `stale`) so far.
    pub fn dropped(&self, task: &str, reason: &'static str) -> u64 {
        self.inner.metrics.dropped_count(task, reason)
    }
}

/// Admitted, not yet waiting.
const FRESH: u8 = 0;
/// In its class's queue.
const WAITING: u8 = 1;
/// Started, dropped or answered.
const DONE: u8 = 2;

/// A job's place in its task's queue budget. Dropped unused, it frees the place.
pub struct Admission {
    inner: Arc<Inner>,
    task: String,
    class: Priority,
    budget: Budget,
    stale: Option<StaleCheck>,
    admitted_at: Instant,
    id: AtomicU64,
    phase: AtomicU8,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("task", &self.task)
            .field("class", &self.class)
            .finish_non_exhaustive()
    }
}

impl Admission {
    /// The task it was admitted for.
    pub fn task(&self) -> &str {
        &self.task
    }

    /// Waits until the scheduler starts the job; the [`Permit`] holds its slot. Fails when the
    /// job went stale while it waited (or this admission was already used).
    pub async fn turn(&self) -> Result<Permit, NotStarted> {
        let (reply, receive) = oneshot::channel();
        let grants = {
            let mut state = self.inner.lock();
            if self.phase.load(Ordering::Acquire) != FRESH {
                return Err(NotStarted::Spent);
            }
            let id = state.next_id;
            state.next_id += 1;
            self.id.store(id, Ordering::Release);
            self.phase.store(WAITING, Ordering::Release);
            state.waiting[self.class.index()].push_back(Waiter {
                id,
                task: self.task.clone(),
                max_in_flight: self.budget.max_in_flight.max(1),
                stale: self.stale.clone(),
                admitted_at: self.admitted_at,
                reply,
            });
            self.inner.dispatch(&mut state)
        };
        Inner::deliver(grants);
        let result = receive.await.unwrap_or(Err(NotStarted::Stale));
        self.phase.store(DONE, Ordering::Release);
        result
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let phase = self.phase.load(Ordering::Acquire);
        if phase == DONE {
            return;
        }
        let grants = {
            let mut state = self.inner.lock();
            let removed = match phase {
                FRESH => true,
                _ => {
                    let id = self.id.load(Ordering::Acquire);
                    let queue = &mut state.waiting[self.class.index()];
                    match queue.iter().position(|w| w.id == id) {
                        Some(at) => queue.remove(at).is_some(),
                        None => false,
                    }
                }
            };
            if removed {
                self.inner.unqueue(&mut state, &self.task, self.class);
            }
            // A waiter that left may have been the one holding back others of its task.
            self.inner.dispatch(&mut state)
        };
        Inner::deliver(grants);
    }
}

/// A started job's slot; dropping it frees the slot and starts the next job.
pub struct Permit {
    inner: Arc<Inner>,
    task: String,
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permit").field("task", &self.task).finish()
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let grants = {
            let mut state = self.inner.lock();
            state.in_flight = state.in_flight.saturating_sub(1);
            if let Some(task) = state.tasks.get_mut(&self.task) {
                task.in_flight = task.in_flight.saturating_sub(1);
            }
            self.inner.metrics.in_flight.set(gauge_value(state.in_flight));
            self.inner.dispatch(&mut state)
        };
        Inner::deliver(grants);
    }
}

type Grants = Vec<(oneshot::Sender<Result<Permit, NotStarted>>, Result<Permit, NotStarted>)>;

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn queue_gauge(&self, state: &State, class: Priority) {
        self.metrics
            .queue_length(class.as_str())
            .set(gauge_value(state.queued_by_class[class.index()]));
    }

    fn unqueue(&self, state: &mut State, task: &str, class: Priority) {
        if let Some(task) = state.tasks.get_mut(task) {
            task.queued = task.queued.saturating_sub(1);
        }
        let slot = &mut state.queued_by_class[class.index()];
        *slot = slot.saturating_sub(1);
        self.queue_gauge(state, class);
    }

    /// Starts what may start, by class then arrival; drops stale and abandoned waiters on the
    /// way. Returns the answers to send once the lock is released.
    fn dispatch(self: &Arc<Self>, state: &mut State) -> Grants {
        let mut grants = Vec::new();
        for class in Priority::ALL {
            let mut at = 0;
            while at < state.waiting[class.index()].len() {
                let waiter = &state.waiting[class.index()][at];
                if waiter.reply.is_closed() {
                    // Its caller stopped waiting (cancelled): it leaves the queue.
                    if let Some(gone) = state.waiting[class.index()].remove(at) {
                        self.unqueue(state, &gone.task, class);
                    }
                    continue;
                }
                if state.in_flight >= state.capacity {
                    return grants;
                }
                let busy = state.tasks.get(&waiter.task).map_or(0, |t| t.in_flight);
                if busy >= waiter.max_in_flight {
                    at += 1;
                    continue;
                }
                let Some(waiter) = state.waiting[class.index()].remove(at) else {
                    break;
                };
                self.unqueue(state, &waiter.task, class);
                if waiter.stale.as_ref().is_some_and(|stale| stale()) {
                    self.metrics.dropped(&waiter.task, "stale");
                    grants.push((waiter.reply, Err(NotStarted::Stale)));
                    continue;
                }
                state.in_flight += 1;
                state.tasks.entry(waiter.task.clone()).or_default().in_flight += 1;
                self.metrics.in_flight.set(gauge_value(state.in_flight));
                self.metrics
                    .wait(class.as_str())
                    .observe(waiter.admitted_at.elapsed().as_secs_f64());
                let permit = Permit {
                    inner: self.clone(),
                    task: waiter.task,
                };
                grants.push((waiter.reply, Ok(permit)));
            }
        }
        grants
    }

    /// Sends the answers (outside the lock: a permit whose waiter just left is dropped here,
    /// which frees its slot again).
    fn deliver(grants: Grants) {
        for (reply, answer) in grants {
            let _ = reply.send(answer);
        }
    }
}

fn gauge_value(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
#[path = "scheduler_tests.rs"]
mod tests;
