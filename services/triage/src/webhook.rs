//! The optional helpdesk webhook: every routed-ticket revision is POSTed as JSON
//! to a configured `http` or `https` URL (the workspace's [`OutboundClient`]) by a
//! background task, retried with `backon` on any failure or non-2xx answer; after the
//! last failure (or when its queue is full) the revision is written as a dead
//! letter to `<routed topic>.dlq` with the reason, so nothing is dropped silently.
//!
//! Delivery: at most once per revision from this process, in the order the
//! revisions were produced (one task, one queue: revision 1 before revision 2). A
//! webhook receiver must accept repeats after a replay and keep the highest
//! `revision` per `ticket_id` (a replay can repeat revision 1 after revision 2).

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use base64::Engine;
use opsline_events::ops::DeadLetter;
use opsline_events::tickets::RoutedTicket;
use opsline_events::{Envelope, TopicNames};
use opsline_kafka::{OutRecord, Producer};
use opsline_runtime::Shutdown;
use opsline_runtime::outbound::OutboundClient;
use tokio::sync::mpsc;

use crate::config::WebhookConfig;
use crate::metrics::TriageMetrics;

const COMPONENT: &str = "triage-webhook";

/// Builds the dead letter of a revision that could not be delivered.
fn dead_letter(
    dlq_topic: &str,
    routed_topic: &str,
    ticket: &RoutedTicket,
    code: &str,
    reason: String,
) -> Option<OutRecord> {
    let original = Envelope::new(crate::processor::COMPONENT, ticket.clone())
        .to_json()
        .ok()?;
    let letter = DeadLetter {
        original_topic: routed_topic.to_owned(),
        partition: None,
        offset: None,
        consumer: COMPONENT.to_owned(),
        error_code: code.to_owned(),
        reason,
        retryable: true,
        key: Some(ticket.ticket_id.clone()),
        payload_base64: base64::engine::general_purpose::STANDARD.encode(original),
        headers: Default::default(),
        failed_at: jiff::Timestamp::now(),
    };
    OutRecord::event(
        dlq_topic.to_owned(),
        &ticket.ticket_id,
        &Envelope::new(COMPONENT, letter),
    )
    .ok()
}

/// Hands revisions to the webhook task; cheap to clone.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    sender: mpsc::Sender<RoutedTicket>,
    producer: Producer,
    routed_topic: String,
    dlq_topic: String,
    metrics: TriageMetrics,
}

impl WebhookSender {
    /// Queues `ticket` for delivery; when the queue is full, returns its dead letter instead.
    pub fn try_offer(&self, ticket: RoutedTicket) -> Option<OutRecord> {
        match self.sender.try_send(ticket) {
            Ok(()) => None,
            Err(mpsc::error::TrySendError::Full(ticket) | mpsc::error::TrySendError::Closed(ticket)) => {
                self.metrics.webhook("dead_lettered");
                dead_letter(
                    &self.dlq_topic,
                    &self.routed_topic,
                    &ticket,
                    "webhook_queue_full",
                    "helpdesk webhook queue full".to_owned(),
                )
            }
        }
    }

    /// Like [`Self::try_offer`], producing the dead letter itself.
    pub async fn offer(&self, ticket: RoutedTicket) {
        if let Some(record) = self.try_offer(ticket)
            && let Err(error) = self.producer.send(&record).await
        {
            tracing::error!(%error, "webhook dead letter not produced");
        }
    }
}

/// The delivery task.
pub struct WebhookWorker {
    client: OutboundClient,
    config: WebhookConfig,
    producer: Producer,
    routed_topic: String,
    dlq_topic: String,
    metrics: TriageMetrics,
}

impl std::fmt::Debug for WebhookWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookWorker")
            .field("url", &self.config.url)
            .finish_non_exhaustive()
    }
}

/// The sender, the worker and its queue; `None` when no URL is configured.
pub(crate) fn webhook(
    config: &WebhookConfig,
    producer: &Producer,
    routed_topic: &str,
    metrics: &TriageMetrics,
) -> Option<(WebhookSender, WebhookWorker, mpsc::Receiver<RoutedTicket>)> {
    if config.url.trim().is_empty() {
        return None;
    }
    let client = match OutboundClient::with_ca_file(
        Duration::from_millis(config.timeout_ms.max(1)),
        config.ca_file.as_deref(),
    ) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "helpdesk webhook off: no HTTP client");
            return None;
        }
    };
    let dlq_topic = TopicNames::dead_letter(routed_topic);
    let (sender, receiver) = mpsc::channel(config.queue_capacity.max(1));
    let sender = WebhookSender {
        sender,
        producer: producer.clone(),
        routed_topic: routed_topic.to_owned(),
        dlq_topic: dlq_topic.clone(),
        metrics: metrics.clone(),
    };
    let worker = WebhookWorker {
        client,
        config: config.clone(),
        producer: producer.clone(),
        routed_topic: routed_topic.to_owned(),
        dlq_topic,
        metrics: metrics.clone(),
    };
    Some((sender, worker, receiver))
}

impl WebhookWorker {
    /// Delivers queued revisions until `shutdown`; what is still queued then is dead-lettered.
    pub async fn run(self, mut queue: mpsc::Receiver<RoutedTicket>, shutdown: Shutdown) {
        loop {
            let ticket = tokio::select! {
                () = shutdown.cancelled() => break,
                ticket = queue.recv() => match ticket {
                    Some(ticket) => ticket,
                    None => return,
                },
            };
            self.deliver(ticket).await;
        }
        queue.close();
        while let Some(ticket) = queue.recv().await {
            self.give_up(
                &ticket,
                "webhook_shutdown",
                "service stopped before delivery".to_owned(),
            )
            .await;
        }
    }

    async fn deliver(&self, ticket: RoutedTicket) {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(self.config.min_delay_ms))
            .with_max_times(self.config.max_attempts.saturating_sub(1))
            .with_jitter();
        let post = || async {
            let response = self
                .client
                .post_json(&self.config.url, &ticket, &[])
                .await
                .map_err(|e| e.to_string())?;
            if response.is_success() {
                Ok(())
            } else {
                Err(format!("helpdesk answered {}", response.status))
            }
        };
        match post.retry(backoff).await {
            Ok(()) => self.metrics.webhook("ok"),
            Err(error) => {
                let reason = format!(
                    "helpdesk webhook failed after {} attempts: {error}",
                    self.config.max_attempts
                );
                tracing::warn!(ticket = %ticket.ticket_id, %reason, "dead-lettering routed ticket");
                self.give_up(&ticket, "webhook_failed", reason).await;
            }
        }
    }

    async fn give_up(&self, ticket: &RoutedTicket, code: &str, reason: String) {
        self.metrics.webhook("dead_lettered");
        let Some(record) = dead_letter(&self.dlq_topic, &self.routed_topic, ticket, code, reason) else {
            return;
        };
        if let Err(error) = self.producer.send(&record).await {
            tracing::error!(%error, "webhook dead letter not produced");
        }
    }
}
