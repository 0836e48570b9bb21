//! The syslog listener loops: TCP connections (plain or TLS) read frames in batches and
//! produce each batch before reading on; UDP offers each datagram without waiting.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use jiff::Timestamp;
use opsline_kafka::SendError;
use opsline_runtime::Shutdown;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::framing::{Decoder, Frame};
use super::parse;
use crate::ingest::{Ingest, Prepared, Rejection};
use crate::metrics::EndpointLabel;

/// Metrics label of syslog over TCP.
const TCP_ENDPOINT: &str = "syslog/tcp";
/// Metrics label of syslog over UDP.
const UDP_ENDPOINT: &str = "syslog/udp";
/// Bytes read from a connection at a time.
const READ_CHUNK: usize = 64 * 1024;
/// Pause before producing again what Kafka did not take.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// What every listener loop shares.
pub(crate) struct Context {
    pub(crate) ingest: Arc<Ingest>,
    pub(crate) topic: String,
    pub(crate) default_service: String,
    pub(crate) max_record_bytes: usize,
    pub(crate) batch: usize,
}

impl Context {
    /// One frame as a record to produce (`item` is its 1-based place in its batch).
    fn prepare(&self, item: usize, id: Uuid, frame: &Frame, now: Timestamp) -> Result<Prepared, Rejection> {
        match frame {
            Frame::TooLong(length) => Err(Rejection::new(
                item,
                "record_too_large",
                format!(
                    "syslog message of {length} bytes; the limit is {}",
                    self.max_record_bytes
                ),
                b"",
            )),
            Frame::Message(bytes) => {
                let text = String::from_utf8_lossy(bytes);
                let log = parse::parse(&text, now, &self.default_service)
                    .map_err(|error| Rejection::new(item, "not_syslog", error.0, bytes))?;
                let key = log.service.clone();
                let span = tracing::info_span!("ingest_syslog", item);
                let _entered = span.enter();
                self.ingest.prepare(item, Some(id), &self.topic, &key, log, bytes)
            }
        }
    }

    /// Produces `frames` and returns once Kafka acknowledged every record (retrying what it did
    /// not take, under the same event ids) or the service is stopping.
    async fn deliver(&self, frames: Vec<Frame>, shutdown: &Shutdown) {
        let now = Timestamp::now();
        let ids: Vec<Uuid> = frames.iter().map(|_| Uuid::now_v7()).collect();
        let mut from = 0;
        loop {
            let items = frames[from..]
                .iter()
                .zip(&ids[from..])
                .enumerate()
                .map(|(i, (frame, id))| self.prepare(from + i + 1, *id, frame, now))
                .collect();
            let outcome = self.ingest.clone().deliver(TCP_ENDPOINT, items).await;
            match (outcome.retry_from_item, outcome.failure) {
                (None, None) => return,
                // The producer queue stayed full: produce the rest again.
                (Some(item), _) => from += item.saturating_sub(1),
                // Kafka refused some: all of them again (same ids: consumers drop duplicates).
                (None, Some(error)) => tracing::warn!(%error, "syslog batch not acknowledged; producing it again"),
            }
            if shutdown.is_cancelled() {
                tracing::error!(
                    frames = frames.len() - from,
                    "stopping with syslog messages Kafka did not take"
                );
                return;
            }
            tokio::time::sleep(RETRY_PAUSE).await;
        }
    }

    /// Counts one dropped datagram.
    fn count_udp_drop(&self) {
        self.ingest
            .metrics
            .syslog_dropped
            .get_or_create(&EndpointLabel { endpoint: UDP_ENDPOINT })
            .inc();
    }

    /// Offers one datagram's frame without waiting: dropped and counted when the producer
    /// queue is full.
    async fn offer(&self, frame: Frame) {
        match self.prepare(1, Uuid::now_v7(), &frame, Timestamp::now()) {
            Ok(prepared) => match self.ingest.producer.enqueue(&prepared.record) {
                Ok(pending) => {
                    let accepted = self.ingest.metrics.accepted.clone();
                    tokio::spawn(async move {
                        match pending.wait().await {
                            Ok(_) => {
                                accepted.get_or_create(&EndpointLabel { endpoint: UDP_ENDPOINT }).inc();
                            }
                            Err(error) => tracing::debug!(%error, "syslog datagram not acknowledged"),
                        }
                    });
                }
                Err(error) => {
                    if !matches!(error, SendError::QueueFull) {
                        tracing::debug!(%error, "syslog datagram not produced");
                    }
                    self.ingest
                        .metrics
                        .syslog_dropped
                        .get_or_create(&EndpointLabel { endpoint: UDP_ENDPOINT })
                        .inc();
                }
            },
            Err(rejection) => {
                // Dead-lettered with its reason (the only wait on this path, and a rare one).
                let _ = self.ingest.clone().deliver(UDP_ENDPOINT, vec![Err(rejection)]).await;
            }
        }
    }
}

/// Accepts connections until shutdown, at most `connections` at once; then waits for the open
/// ones to produce what they read.
pub(crate) async fn serve_tcp(
    listener: TcpListener,
    tls: Option<opsline_runtime::inbound_tls::TlsAcceptor>,
    connections: usize,
    context: Arc<Context>,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(connections));
    let mut open = JoinSet::new();
    loop {
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            permit = permits.clone().acquire_owned() => permit.map_err(std::io::Error::other)?,
        };
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "syslog accept failed");
                    tokio::time::sleep(RETRY_PAUSE).await;
                    continue;
                }
            },
        };
        let context = context.clone();
        let shutdown = shutdown.clone();
        let tls = tls.clone();
        open.spawn(async move {
            let _permit = permit;
            let result = match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(stream) => connection(stream, &context, &shutdown).await,
                    Err(error) => Err(error),
                },
                None => connection(stream, &context, &shutdown).await,
            };
            if let Err(error) = result {
                tracing::info!(%peer, %error, "syslog connection ended");
            }
        });
        while open.try_join_next().is_some() {}
    }
    while open.join_next().await.is_some() {}
    Ok(())
}

/// Reads one connection to its end (or shutdown), producing what each read completed.
async fn connection<S: AsyncRead + Unpin>(
    mut stream: S,
    context: &Context,
    shutdown: &Shutdown,
) -> std::io::Result<()> {
    let mut decoder = Decoder::new(context.max_record_bytes);
    let mut buffer = BytesMut::with_capacity(READ_CHUNK);
    loop {
        buffer.reserve(READ_CHUNK);
        let read = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            read = stream.read_buf(&mut buffer) => read?,
        };
        let eof = read == 0;
        let mut frames = Vec::new();
        loop {
            let frame = decoder
                .next(&mut buffer, eof)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            let Some(frame) = frame else { break };
            frames.push(frame);
            if frames.len() >= context.batch {
                context.deliver(std::mem::take(&mut frames), shutdown).await;
            }
        }
        if !frames.is_empty() {
            context.deliver(frames, shutdown).await;
        }
        if eof {
            return Ok(());
        }
    }
}

/// Datagrams waiting for the producer; beyond it new ones are dropped and counted.
const UDP_BACKLOG: usize = 100_000;

/// Receives datagrams until shutdown, one message each. Receiving never waits for the
/// producer: datagrams queue in a bounded backlog (a burst bigger than the socket's buffer is
/// absorbed there), and one that finds the backlog full is dropped and counted.
pub(crate) async fn serve_udp(socket: UdpSocket, context: Arc<Context>, shutdown: Shutdown) -> std::io::Result<()> {
    let (backlog, mut datagrams) = tokio::sync::mpsc::channel::<Frame>(UDP_BACKLOG);
    let producer_context = context.clone();
    let producer = tokio::spawn(async move {
        while let Some(frame) = datagrams.recv().await {
            producer_context.offer(frame).await;
        }
    });
    let mut datagram = vec![0_u8; 65_536];
    loop {
        let (length, _peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            received = socket.recv_from(&mut datagram) => received?,
        };
        let frame = if length > context.max_record_bytes {
            Frame::TooLong(length)
        } else {
            Frame::Message(Bytes::copy_from_slice(&datagram[..length]))
        };
        if backlog.try_send(frame).is_err() {
            context.count_udp_drop();
        }
    }
    drop(backlog);
    let _ = producer.await;
    Ok(())
}
