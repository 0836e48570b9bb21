//! Delivery reports of the producer, read by one thread per producer that sleeps while idle.
//!
//! rdkafka's `FutureProducer` reads them on a thread that polls in 100 ms slices and, because
//! it truncates the time left to whole milliseconds, spins through the last millisecond of
//! every slice: about 1% of a core per producer with nothing to send (`opsline up` runs five
//! producers; measured with `opsline bench idle`). [`Poller`] polls the same queue in
//! [`POLL_SLICE`] slices, so the spin costs a thousandth of that, and a delivery report still
//! wakes it at once. Each record carries a oneshot sender as its opaque; the report answers it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rdkafka::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, DeliveryResult, ProducerContext};
use tokio::sync::oneshot;

use crate::quiet::QuietContext;

/// How long one poll of the delivery queue may sleep when nothing happens.
pub const POLL_SLICE: Duration = Duration::from_secs(1);

/// Where the broker stored a record (partition, offset), or why it did not.
pub(crate) type DeliveryOutcome = Result<(i32, i64), KafkaError>;

/// The receiving end of one record's delivery report.
pub(crate) type DeliveryReceiver = oneshot::Receiver<DeliveryOutcome>;

/// The producer's client context: librdkafka's logs and errors through [`QuietContext`],
/// delivery reports to each record's oneshot sender.
#[derive(Default)]
pub(crate) struct DeliveryContext {
    quiet: QuietContext,
}

impl ClientContext for DeliveryContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        self.quiet.say_log(level, fac, log_message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.quiet.say_error(&error, reason);
    }
}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = Box<oneshot::Sender<DeliveryOutcome>>;

    fn delivery(&self, result: &DeliveryResult<'_>, sender: Self::DeliveryOpaque) {
        let outcome = match result {
            Ok(message) => Ok((message.partition(), message.offset())),
            Err((error, _message)) => Err(error.clone()),
        };
        // The waiter may be gone (it gave up); the record's fate is then nobody's business.
        let _ = sender.send(outcome);
    }
}

/// The thread that serves a producer's delivery reports; it stops (within one
/// [`POLL_SLICE`]) when the `Poller` is dropped.
pub(crate) struct Poller {
    stop: Arc<AtomicBool>,
}

impl Poller {
    /// Starts polling `producer`'s queue.
    pub(crate) fn start(producer: Arc<BaseProducer<DeliveryContext>>) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("opsline-producer-poll".to_owned())
            .spawn(move || {
                while !stopping.load(Ordering::Relaxed) {
                    producer.poll(POLL_SLICE);
                }
            })?;
        Ok(Self { stop })
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        // Not joined: the thread holds the producer until its current slice ends, then drops it.
        self.stop.store(true, Ordering::Relaxed);
    }
}
