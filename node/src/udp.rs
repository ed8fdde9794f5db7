//! Batched UDP IO for the node: many datagrams per system call. Receiving uses `recvmmsg`
//! with UDP GRO (the kernel hands over a run of datagrams from one sender in one buffer);
//! sending coalesces consecutive datagrams to one endpoint into one GSO `sendmsg` (all
//! segments the same size, the last one possibly shorter). `quinn-udp` does the socket
//! work; without kernel support both fall back to one datagram per call.

use std::collections::VecDeque;
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use quinn_udp::{RecvMeta, Transmit, UdpSocketState};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Receive buffers per `recvmmsg` call.
const RECV_SLOTS: usize = 8;
/// One receive buffer: the largest GRO run the kernel hands over.
const RECV_BUF: usize = 65_536;
/// The most bytes one GSO send may carry (the UDP length limit, with room for headers).
const MAX_GSO_BYTES: usize = 65_000;
/// The socket's receive and send buffers (wireguard-go's size): a GRO batch is ~64 KB, and a
/// receiver that falls behind for a moment must not drop whole batches of a TCP stream.
const SOCKET_BUFFER: usize = 7 << 20;
/// Bytes of transmits kept when the socket's send buffer is full (about 1,400 full-size
/// datagrams); more are dropped, as a full queue drops.
const BACKLOG_MAX_BYTES: usize = 2 << 20;

/// The node's UDP socket with its offload state.
#[derive(Debug)]
pub struct Udp {
    socket: UdpSocket,
    state: UdpSocketState,
    /// A dual-stack IPv6 socket: IPv4 peers are reached through mapped addresses.
    is_v6: bool,
}

impl Udp {
    /// Binds the dual-stack wildcard address (IPv4 only as a fallback) on `port` (0: any).
    ///
    /// # Errors
    /// When neither address can be bound or the socket options cannot be set.
    pub async fn bind(port: u16) -> io::Result<Self> {
        let (socket, is_v6) =
            match UdpSocket::bind(SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port)).await {
                Ok(s) => (s, true),
                Err(_) => (
                    UdpSocket::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port))
                        .await?,
                    false,
                ),
            };
        let state = UdpSocketState::new((&socket).into())?;
        set_buffers(&socket);
        Ok(Self {
            socket,
            state,
            is_v6,
        })
    }

    /// The local port.
    ///
    /// # Errors
    /// When the socket has no local address.
    pub fn local_port(&self) -> io::Result<u16> {
        self.socket.local_addr().map(|a| a.port())
    }

    /// Sets the firewall mark (`SO_MARK`) of the node's own packets.
    ///
    /// # Errors
    /// Without `CAP_NET_ADMIN`.
    pub fn set_mark(&self, mark: u32) -> io::Result<()> {
        socket2::SockRef::from(&self.socket).set_mark(mark)
    }

    /// How many datagrams one send may carry.
    fn max_segments(&self) -> usize {
        self.state.max_gso_segments().max(1)
    }

    /// The address to send to: IPv4 endpoints as mapped addresses on a dual-stack socket.
    fn wire_address(&self, to: SocketAddr) -> SocketAddr {
        match (self.is_v6, to.ip()) {
            (true, IpAddr::V4(v4)) => SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), to.port()),
            _ => to,
        }
    }

    /// Waits until the socket may be readable.
    ///
    /// # Errors
    /// When the reactor fails.
    pub async fn readable(&self) -> io::Result<()> {
        self.socket.readable().await
    }

    fn try_send(&self, to: SocketAddr, contents: &[u8], segment: Option<usize>) -> io::Result<()> {
        let transmit = Transmit {
            destination: self.wire_address(to),
            ecn: None,
            contents,
            segment_size: segment,
            src_ip: None,
        };
        self.socket.try_io(Interest::WRITABLE, || {
            self.state.try_send((&self.socket).into(), &transmit)
        })
    }
}

/// Sets the receive and send buffers to [`SOCKET_BUFFER`]: beyond the system's limits
/// (`SO_RCVBUFFORCE`, needs `CAP_NET_ADMIN`, which the node has), else up to them.
fn set_buffers(socket: &UdpSocket) {
    use nix::sys::socket::{setsockopt, sockopt};
    if setsockopt(socket, sockopt::RcvBufForce, &SOCKET_BUFFER).is_err() {
        let _capped = socket2::SockRef::from(socket).set_recv_buffer_size(SOCKET_BUFFER);
    }
    if setsockopt(socket, sockopt::SndBufForce, &SOCKET_BUFFER).is_err() {
        let _capped = socket2::SockRef::from(socket).set_send_buffer_size(SOCKET_BUFFER);
    }
}

/// Receive buffers owned by one task.
#[derive(Debug)]
pub struct RecvBatch {
    bufs: [Vec<u8>; RECV_SLOTS],
    meta: [RecvMeta; RECV_SLOTS],
}

impl Default for RecvBatch {
    fn default() -> Self {
        Self {
            bufs: std::array::from_fn(|_| vec![0; RECV_BUF]),
            meta: [RecvMeta::default(); RECV_SLOTS],
        }
    }
}

impl RecvBatch {
    /// Receives what is ready without waiting and calls `each(from, datagram)` for every
    /// datagram (GRO runs split at their stride). Returns how many buffers were filled.
    ///
    /// # Errors
    /// `WouldBlock` when nothing is ready; other receive errors.
    pub fn try_recv(
        &mut self,
        udp: &Udp,
        mut each: impl FnMut(SocketAddr, &[u8]),
    ) -> io::Result<usize> {
        let Self { bufs, meta } = self;
        let mut slices = bufs.each_mut().map(|b| IoSliceMut::new(b.as_mut_slice()));
        let n = udp.socket.try_io(Interest::READABLE, || {
            udp.state.recv((&udp.socket).into(), &mut slices, meta)
        })?;
        for (slice, m) in slices.iter().zip(meta.iter()).take(n) {
            let from = SocketAddr::new(m.addr.ip().to_canonical(), m.addr.port());
            let Some(data) = slice.get(..m.len) else {
                continue;
            };
            for datagram in data.chunks(m.stride.max(1)) {
                each(from, datagram);
            }
        }
        Ok(n)
    }
}

/// A transmit that waits for room in the socket's send buffer.
#[derive(Debug)]
struct Pending {
    to: SocketAddr,
    contents: Vec<u8>,
    segment: Option<usize>,
}

/// Datagrams on their way out: the GSO run being built, and what the socket could not take
/// yet. Order is kept: nothing bypasses the backlog.
#[derive(Debug, Default)]
pub struct SendBatch {
    to: Option<SocketAddr>,
    buf: Vec<u8>,
    segment: usize,
    count: usize,
    /// The last datagram was shorter than the segment size: the run must end.
    closed: bool,
    backlog: VecDeque<Pending>,
    /// Bytes in `backlog`.
    backlog_bytes: usize,
}

impl SendBatch {
    /// Adds a datagram for `to`, sending the current run first when `datagram` cannot join it.
    pub fn push(&mut self, udp: &Udp, to: SocketAddr, datagram: &[u8]) {
        if self.count > 0
            && (self.to != Some(to)
                || self.closed
                || datagram.len() > self.segment
                || self.count >= udp.max_segments()
                || self.buf.len().saturating_add(datagram.len()) > MAX_GSO_BYTES)
        {
            self.flush(udp);
        }
        if self.count == 0 {
            self.to = Some(to);
            self.segment = datagram.len();
        }
        self.buf.extend_from_slice(datagram);
        self.count = self.count.saturating_add(1);
        self.closed = datagram.len() < self.segment;
    }

    /// Sends the current run now (or queues it behind the backlog).
    pub fn flush(&mut self, udp: &Udp) {
        let Some(to) = self.to.take() else {
            return;
        };
        let segment = (self.count > 1).then_some(self.segment);
        let contents = std::mem::take(&mut self.buf);
        self.count = 0;
        self.closed = false;
        if self.backlog.is_empty() {
            match udp.try_send(to, &contents, segment) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.queue(to, contents.clone(), segment);
                }
                Err(e) => resend_one_by_one(udp, to, &contents, segment, &e),
            }
            // Keep the allocation for the next run.
            self.buf = contents;
            self.buf.clear();
        } else {
            self.queue(to, contents, segment);
        }
    }

    fn queue(&mut self, to: SocketAddr, contents: Vec<u8>, segment: Option<usize>) {
        let bytes = self.backlog_bytes.saturating_add(contents.len());
        if bytes <= BACKLOG_MAX_BYTES {
            self.backlog_bytes = bytes;
            self.backlog.push_back(Pending {
                to,
                contents,
                segment,
            });
        }
    }

    /// Whether transmits wait for room in the send buffer.
    #[must_use]
    pub fn has_backlog(&self) -> bool {
        !self.backlog.is_empty()
    }

    /// Sends the backlog, waiting for the socket to become writable.
    pub async fn drain(&mut self, udp: &Udp) {
        while let Some(p) = self.backlog.front() {
            match udp.socket.writable().await {
                Ok(()) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "udp poll failed");
                    self.backlog.clear();
                    self.backlog_bytes = 0;
                    return;
                }
            }
            match udp.try_send(p.to, &p.contents, p.segment) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => resend_one_by_one(udp, p.to, &p.contents, p.segment, &e),
            }
            if let Some(sent) = self.backlog.pop_front() {
                self.backlog_bytes = self.backlog_bytes.saturating_sub(sent.contents.len());
            }
        }
    }
}

/// A send failed for another reason than a full buffer. GSO runs are retried one datagram
/// at a time (some drivers refuse segmentation offload with EIO/EINVAL; quinn-udp then turns
/// GSO off for later sends); single datagrams are dropped, as UDP allows.
fn resend_one_by_one(
    udp: &Udp,
    to: SocketAddr,
    contents: &[u8],
    segment: Option<usize>,
    e: &io::Error,
) {
    tracing::debug!(error = %e, %to, "udp send failed");
    if let Some(seg) = segment {
        for datagram in contents.chunks(seg.max(1)) {
            if let Err(e) = udp.try_send(to, datagram, None) {
                tracing::debug!(error = %e, %to, "udp send failed");
            }
        }
    }
}
