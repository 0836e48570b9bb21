//! Syslog listeners of the gateway (`[gateway.syslog]`, off by default): RFC 5424 and RFC 3164
//! messages over TCP (RFC 6587 framing: octet counting or LF; optionally TLS, RFC 5425) and
//! over UDP (one message per datagram), each produced to the raw logs topic as a [`RawLog`]
//! (see [`parse`] for the mapping).
//!
//! Delivery: TCP reads a batch of frames, produces it and waits for Kafka's acknowledgement
//! before it reads on, so a full producer queue or a slow broker slows the sender down (TCP
//! backpressure) instead of losing lines; a message that is not syslog, or too long, is
//! dead-lettered with its reason. Syslog has no acknowledgement of its own: what a sender
//! wrote before a crash of the gateway and Kafka's acknowledgement is lost, as with any
//! syslog receiver. UDP never waits: datagrams queue in a bounded backlog (100,000), and one
//! that finds it or the producer queue full is dropped and counted
//! (`opsline_gateway_syslog_dropped_total`); what the kernel drops before (socket buffer
//! overflow) only the kernel counts (`netstat -su`, receive buffer errors).
//!
//! Authentication: none. Syslog carries no key (RFC 5424 has no field for one, and neither
//! `logger` nor rsyslog's `omfwd` sends one), so whoever can reach a listener can send lines as
//! any service. The listeners are off by default and `opsline up` binds them on the gateway's
//! interface (loopback unless `--listen` says otherwise); a listener on another address is
//! announced at start-up with a warning. Keep them on loopback or on a network only the
//! senders reach (a firewall or a Kubernetes `NetworkPolicy`); TLS (RFC 5425) encrypts the
//! stream but does not ask for client certificates, so it authenticates the gateway to the
//! sender, not the sender.

pub mod framing;
pub mod parse;

mod listen;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use opsline_runtime::{Runner, StartupError};
use serde::{Deserialize, Serialize};

use crate::ingest::Ingest;

/// `[gateway.syslog]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SyslogConfig {
    /// TCP listen address (`host:port`; port 0 picks a free port; 6514 is the TLS port, 601
    /// or 514 plain); no TCP listener when absent.
    pub tcp: Option<String>,
    /// UDP listen address (514 is the usual port); no UDP listener when absent.
    pub udp: Option<String>,
    /// TLS for the TCP listener (RFC 5425).
    pub tls: Option<SyslogTls>,
    /// The service of a message that names no application (no app-name, no tag).
    pub default_service: String,
    /// Frames produced together on TCP; each batch is acknowledged before more is read.
    pub batch: usize,
    /// Open TCP connections at most; more wait to be accepted.
    pub max_connections: usize,
    /// Receive buffer asked for the UDP socket, in bytes (the kernel caps it at
    /// `net.core.rmem_max` unless the process may exceed it): a burst larger than the buffer is
    /// dropped by the kernel before the gateway sees it.
    pub udp_receive_buffer_bytes: usize,
}

/// The TLS certificate of the syslog TCP listener.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SyslogTls {
    /// PEM certificate chain, the server's certificate first.
    pub cert_file: PathBuf,
    /// PEM private key of that certificate.
    pub key_file: PathBuf,
}

impl Default for SyslogConfig {
    fn default() -> Self {
        Self {
            tcp: None,
            udp: None,
            tls: None,
            default_service: "syslog".to_owned(),
            batch: 500,
            max_connections: 256,
            udp_receive_buffer_bytes: 8 * 1024 * 1024,
        }
    }
}

/// Where the syslog listeners are bound (absent: not configured).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyslogAddrs {
    /// The TCP listener.
    pub tcp: Option<SocketAddr>,
    /// The UDP listener.
    pub udp: Option<SocketAddr>,
}

/// Binds the configured listeners and declares their loops on `runner`.
pub(crate) async fn start(
    config: &SyslogConfig,
    ingest: Arc<Ingest>,
    topic: String,
    max_record_bytes: usize,
    runner: &mut Runner,
) -> Result<SyslogAddrs, StartupError> {
    let context = Arc::new(listen::Context {
        ingest,
        topic,
        default_service: config.default_service.clone(),
        max_record_bytes,
        batch: config.batch.max(1),
    });
    let mut addrs = SyslogAddrs::default();
    if let Some(address) = &config.tcp {
        let tls = match &config.tls {
            Some(files) => Some(
                opsline_runtime::inbound_tls::acceptor(&files.cert_file, &files.key_file)
                    .map_err(|e| StartupError::new(format!("syslog TLS: {e}")))?,
            ),
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
            StartupError::new(format!(
                "cannot listen for syslog on tcp {address}: {e} (set [gateway.syslog] tcp)"
            ))
        })?;
        addrs.tcp = listener.local_addr().ok();
        let context = context.clone();
        let connections = config.max_connections.max(1);
        runner.critical("syslog-tcp", move |shutdown| {
            listen::serve_tcp(listener, tls, connections, context, shutdown)
        });
    }
    if let Some(address) = &config.udp {
        let socket = udp_socket(address, config.udp_receive_buffer_bytes).map_err(|e| {
            StartupError::new(format!(
                "cannot listen for syslog on udp {address}: {e} (set [gateway.syslog] udp)"
            ))
        })?;
        addrs.udp = socket.local_addr().ok();
        runner.critical("syslog-udp", move |shutdown| {
            listen::serve_udp(socket, context, shutdown)
        });
    }
    for addr in [addrs.tcp, addrs.udp].into_iter().flatten() {
        if !addr.ip().is_loopback() {
            tracing::warn!(
                %addr,
                "syslog listener is not on loopback: syslog carries no key, so anyone who can reach it can send lines"
            );
        }
    }
    if addrs.tcp.is_some() || addrs.udp.is_some() {
        tracing::info!(tcp = ?addrs.tcp, udp = ?addrs.udp, tls = config.tls.is_some(), "syslog listeners ready");
    }
    Ok(addrs)
}

/// A bound, non-blocking UDP socket with the largest receive buffer the kernel grants up to
/// `buffer` (as root beyond `net.core.rmem_max`).
fn udp_socket(address: &str, buffer: usize) -> std::io::Result<tokio::net::UdpSocket> {
    use std::net::ToSocketAddrs;
    let address = address
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("the address resolves to nothing"))?;
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(address),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    if socket.set_recv_buffer_size(buffer).is_err() {
        tracing::debug!(buffer, "syslog udp receive buffer not raised");
    }
    socket.set_nonblocking(true)?;
    socket.bind(&address.into())?;
    let granted = socket.recv_buffer_size().unwrap_or_default();
    tracing::info!(asked = buffer, granted, "syslog udp receive buffer");
    tokio::net::UdpSocket::from_std(socket.into())
}
