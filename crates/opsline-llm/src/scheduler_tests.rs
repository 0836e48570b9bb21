//! The scheduler's rules, driven step by step (futures polled by hand, no sleeps).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::task::Poll;

use super::*;

const TICKET: &str = "ticket_enrichment";
const NARRATIVE: &str = "postmortem_narrative";

fn budget(max_queued: usize, max_in_flight: usize) -> Budget {
    Budget {
        max_queued,
        max_in_flight,
    }
}

/// Polls `future` once: its output if it is ready now, else `None`.
async fn poll_once<F: Future + ?Sized>(future: &mut Pin<Box<F>>) -> Option<F::Output> {
    std::future::poll_fn(|cx| {
        Poll::Ready(match future.as_mut().poll(cx) {
            Poll::Ready(output) => Some(output),
            Poll::Pending => None,
        })
    })
    .await
}

#[tokio::test]
async fn a_narrative_waits_while_tickets_are_queued() {
    let scheduler = Scheduler::new(1);
    let first = scheduler
        .admit(TICKET, Priority::Interactive, budget(8, 1), None)
        .unwrap();
    let running = first.turn().await.unwrap();

    let narrative = scheduler
        .admit(NARRATIVE, Priority::Narrative, budget(8, 1), None)
        .unwrap();
    let mut narrative_turn = Box::pin(narrative.turn());
    assert!(poll_once(&mut narrative_turn).await.is_none(), "the only slot is busy");
    let second = scheduler
        .admit(TICKET, Priority::Interactive, budget(8, 1), None)
        .unwrap();
    let mut second_turn = Box::pin(second.turn());
    assert!(poll_once(&mut second_turn).await.is_none());
    assert_eq!(scheduler.queued(), [1, 1, 0]);

    drop(running);
    let ticket_permit = poll_once(&mut second_turn)
        .await
        .expect("the ticket goes first")
        .unwrap();
    assert!(
        poll_once(&mut narrative_turn).await.is_none(),
        "the narrative, queued earlier, still waits behind the ticket"
    );
    assert_eq!(scheduler.queued(), [0, 1, 0]);
    drop(ticket_permit);
    let narrative_permit = poll_once(&mut narrative_turn)
        .await
        .expect("then the narrative")
        .unwrap();
    assert_eq!(scheduler.in_flight(), 1);
    drop(narrative_permit);
    assert_eq!((scheduler.in_flight(), scheduler.queued()), (0, [0, 0, 0]));
}

#[tokio::test]
async fn a_stale_job_is_dropped_before_it_is_sent() {
    let scheduler = Scheduler::new(1);
    let busy = scheduler
        .admit(TICKET, Priority::Interactive, budget(8, 1), None)
        .unwrap();
    let running = busy.turn().await.unwrap();
    let reviewed = Arc::new(AtomicBool::new(false));
    let flag = reviewed.clone();
    let stale: StaleCheck = Arc::new(move || flag.load(Ordering::Relaxed));
    let narrative = scheduler
        .admit(NARRATIVE, Priority::Narrative, budget(8, 1), Some(stale))
        .unwrap();
    let mut turn = Box::pin(narrative.turn());
    assert!(poll_once(&mut turn).await.is_none());

    reviewed.store(true, Ordering::Relaxed);
    drop(running);
    let outcome = poll_once(&mut turn).await.expect("answered at once");
    assert_eq!(outcome.unwrap_err(), NotStarted::Stale);
    assert_eq!(scheduler.dropped(NARRATIVE, "stale"), 1);
    assert_eq!((scheduler.in_flight(), scheduler.queued()), (0, [0, 0, 0]));
    assert_eq!(narrative.turn().await.unwrap_err(), NotStarted::Spent);
}

#[tokio::test]
async fn a_full_queue_refuses_and_counts() {
    let scheduler = Scheduler::new(1);
    let one = scheduler
        .admit(NARRATIVE, Priority::Narrative, budget(2, 1), None)
        .unwrap();
    let _two = scheduler
        .admit(NARRATIVE, Priority::Narrative, budget(2, 1), None)
        .unwrap();
    for _ in 0..3 {
        let refused = scheduler
            .admit(NARRATIVE, Priority::Narrative, budget(2, 1), None)
            .unwrap_err();
        assert_eq!(refused.max_queued, 2);
    }
    assert_eq!(scheduler.dropped(NARRATIVE, "queue_full"), 3);
    assert_eq!(scheduler.dropped(TICKET, "queue_full"), 0);
    // Another task has its own budget.
    assert!(
        scheduler
            .admit(TICKET, Priority::Interactive, budget(2, 1), None)
            .is_ok()
    );
    drop(one);
    assert!(
        scheduler
            .admit(NARRATIVE, Priority::Narrative, budget(2, 1), None)
            .is_ok(),
        "a place freed by an unused admission is taken again"
    );
}

#[tokio::test]
async fn in_flight_budgets_and_cancelled_waiters() {
    let scheduler = Scheduler::new(2);
    let first = scheduler
        .admit(NARRATIVE, Priority::Narrative, budget(8, 1), None)
        .unwrap();
    let running = first.turn().await.unwrap();
    let second = scheduler
        .admit(NARRATIVE, Priority::Narrative, budget(8, 1), None)
        .unwrap();
    let mut second_turn = Box::pin(second.turn());
    assert!(
        poll_once(&mut second_turn).await.is_none(),
        "a free slot, but the task's in-flight budget is 1"
    );
    let batch = scheduler
        .admit("backfill", Priority::Batch, budget(8, 1), None)
        .unwrap();
    let batch_permit = batch.turn().await.expect("another task takes the free slot");
    assert_eq!(scheduler.in_flight(), 2);

    // The waiting caller gives up: its place is freed and nothing is started for it.
    drop(second_turn);
    drop(second);
    assert_eq!(scheduler.queued(), [0, 0, 0]);
    drop(running);
    drop(batch_permit);
    assert_eq!(scheduler.in_flight(), 0);
}

#[test]
fn classes_of_the_known_tasks() {
    assert_eq!(Priority::for_task("ticket_enrichment"), Priority::Interactive);
    assert_eq!(Priority::for_task("chat_reply"), Priority::Interactive);
    assert_eq!(Priority::for_task("postmortem_narrative"), Priority::Narrative);
    assert_eq!(Priority::for_task("template_refinement"), Priority::Batch);
    assert_eq!(Priority::for_task("anything"), Priority::Batch);
    assert!(Priority::Interactive < Priority::Narrative && Priority::Narrative < Priority::Batch);
    let a = shared("http://x/v1/", 2);
    let b = shared("http://x/v1", 5);
    drop(a.admit("t", Priority::Batch, budget(1, 1), None).unwrap());
    assert_eq!(b.dropped("t", "queue_full"), 0);
    let _held = a.admit("t", Priority::Batch, budget(1, 1), None).unwrap();
    assert!(
        b.admit("t", Priority::Batch, budget(1, 1), None).is_err(),
        "one scheduler per endpoint"
    );
}
