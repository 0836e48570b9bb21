//! Refinement off the hot path: a thread owns the [`Refiner`] and its model; the miner's caller
//! submits jobs without waiting and collects refined templates later.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use super::{Outcome, Refiner, TemplateModel};

/// A template to refine: its id, mined text and some of its lines (headers removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefineJob {
    /// Template id.
    pub id: u64,
    /// The mined template text.
    pub template: String,
    /// Lines of the template.
    pub samples: Vec<String>,
}

/// An accepted refinement: the template update to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefinedTemplate {
    /// Template id.
    pub id: u64,
    /// The mined text.
    pub old: String,
    /// The refined text.
    pub new: String,
}

/// A thread running refinements; dropping it lets the thread finish its queue and stop.
#[derive(Debug)]
pub struct RefineWorker {
    jobs: Option<SyncSender<RefineJob>>,
    results: Receiver<RefinedTemplate>,
    thread: Option<JoinHandle<()>>,
}

impl RefineWorker {
    /// Starts the thread; at most `queue` jobs wait (more are dropped by [`Self::submit`]).
    pub fn spawn<M: TemplateModel + Send + 'static>(mut refiner: Refiner<M>, queue: usize) -> std::io::Result<Self> {
        let (jobs, job_rx) = sync_channel::<RefineJob>(queue.max(1));
        let (result_tx, results) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("template-refiner".into())
            .spawn(move || {
                for job in job_rx {
                    let samples: Vec<&str> = job.samples.iter().map(String::as_str).collect();
                    if let Outcome::Accepted(new) = refiner.refine(job.id, &job.template, &samples) {
                        let update = RefinedTemplate {
                            id: job.id,
                            old: job.template.clone(),
                            new: new.clone(),
                        };
                        if result_tx.send(update).is_err() {
                            break;
                        }
                    }
                }
            })?;
        Ok(Self {
            jobs: Some(jobs),
            results,
            thread: Some(thread),
        })
    }

    /// Hands a job to the thread without waiting; `false` when the queue is full (the job is
    /// dropped: the mined template stays) or the thread is gone.
    pub fn submit(&self, job: RefineJob) -> bool {
        match self.jobs.as_ref().map(|j| j.try_send(job)) {
            Some(Ok(())) => true,
            Some(Err(TrySendError::Full(_) | TrySendError::Disconnected(_))) | None => false,
        }
    }

    /// A refined template that has arrived, if any (never waits).
    pub fn try_next(&self) -> Option<RefinedTemplate> {
        self.results.try_recv().ok()
    }

    /// Stops taking jobs, waits for the queued ones and returns every update not yet taken.
    pub fn finish(mut self) -> Vec<RefinedTemplate> {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.results.try_iter().collect()
    }
}

impl Drop for RefineWorker {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::refine::ChatMessage;

    struct Echo;

    impl TemplateModel for Echo {
        fn complete(&mut self, _: &[ChatMessage]) -> Result<String, String> {
            Ok(r#"{"template": "sync of <*> done"}"#.into())
        }
    }

    #[test]
    fn updates_arrive_from_the_thread() {
        let worker = RefineWorker::spawn(Refiner::new(Echo, 3), 8).unwrap();
        let job = |id: u64, template: &str| RefineJob {
            id,
            template: template.into(),
            samples: vec!["sync of vol-1 done".into()],
        };
        assert!(worker.submit(job(1, "sync of vol-1 done")));
        // Refused (the proposal drops `failed`): no update.
        assert!(worker.submit(job(2, "sync of vol-1 failed")));
        let updates = worker.finish();
        assert_eq!(
            updates,
            vec![RefinedTemplate {
                id: 1,
                old: "sync of vol-1 done".into(),
                new: "sync of <*> done".into()
            }]
        );
    }
}
