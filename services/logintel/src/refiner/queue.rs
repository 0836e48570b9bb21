//! The processor's end of template refinement: a bounded queue to the worker.

use tokio::sync::mpsc;

use crate::engine::RefineRequest;
use crate::metrics::LogintelMetrics;

/// The processor's side: offers jobs to the worker, never waits.
#[derive(Debug, Clone)]
pub struct RefineQueue {
    sender: mpsc::Sender<RefineRequest>,
    metrics: LogintelMetrics,
}

impl RefineQueue {
    /// A queue holding at most `bound` jobs, and its receiving end (for [`RefineWorker::run`]).
    pub(crate) fn new(bound: usize, metrics: LogintelMetrics) -> (Self, mpsc::Receiver<RefineRequest>) {
        let (sender, receiver) = mpsc::channel(bound.max(1));
        (Self { sender, metrics }, receiver)
    }

    /// Hands `request` to the worker, or drops it (counted) when the queue is full.
    pub fn offer(&self, request: RefineRequest) {
        let outcome = match self.sender.try_send(request) {
            Ok(()) => "queued",
            Err(mpsc::error::TrySendError::Full(_)) => "queue_full",
            Err(mpsc::error::TrySendError::Closed(_)) => "closed",
        };
        self.metrics.refine_job(outcome);
    }

    /// Counts `n` new templates the engine could not collect lines for.
    pub fn skipped(&self, n: u64) {
        if n > 0 {
            self.metrics.refine_jobs_by("too_many_pending", n);
        }
    }
}
