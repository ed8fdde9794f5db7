//! The IO edge of the node: TUN device, UDP socket, timers, signals, policy reloads and the
//! status socket, all driven by one tokio task around the sans-IO [`Engine`].

use crate::config::{self, WgConfig};
use crate::engine::{Engine, Sink};
use crate::offload::coalesce::Coalescer;
use crate::offload::segment::{Cut, Segments, segment};
use crate::offload::vnet::{VNET_HDR_LEN, VnetHdr};
use crate::routes::{self, RoutePlan};
use crate::rules_source::{LoadError, RulesSource, load_rules, mtimes};
use crate::stats::{NodeDrop, TunStats};
use crate::status::{ReloadState, StatusReport, status_report};
use crate::status::{TunReport, TunTrafficReport};
use crate::tun::Tun;
use crate::udp::{RecvBatch, SendBatch, Udp};
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tailpolicy_dataplane_filter::addr::parse_addr_list;
use tailpolicy_dataplane_filter::{Filter, FilterConfig, FilterRule};
use tokio::io::AsyncWriteExt;
use tokio::io::unix::AsyncFd;
use tokio::net::UnixListener;
use tokio::signal::unix::{SignalKind, signal};

/// How often the watched policy files are checked for changes.
const RELOAD_POLL: Duration = Duration::from_secs(1);
/// WireGuard timer period.
const TIMER_TICK: Duration = Duration::from_millis(250);
/// Receive calls (UDP) or packets (TUN) handled per readiness event before other events
/// get a turn.
const BATCH: usize = 64;
/// The environment variable that turns the TUN offloads off (`off`, `0`, `false` or `no`),
/// for comparisons and for kernels whose offloads misbehave.
pub const OFFLOAD_ENV: &str = "TAILPOLICY_NODE_OFFLOAD";
/// A TUN read buffer: the largest IP packet behind a virtio-net header.
const TUN_BUF: usize = VNET_HDR_LEN + 65_535;

/// Everything `tailpolicy node` needs to run.
#[derive(Clone, Debug)]
pub struct NodeOptions {
    /// The `wg-quick` configuration file.
    pub wg_config: PathBuf,
    /// TUN interface name (default: from the configuration file name).
    pub interface: Option<String>,
    /// Where the FilterRules come from.
    pub source: RulesSource,
    /// The status socket (default: [`default_status_socket`] of the interface).
    pub status_socket: Option<PathBuf>,
}

/// Why the node could not start or had to stop.
#[derive(Debug)]
pub enum NodeError {
    /// The configuration file is unreadable or invalid.
    Config {
        /// The file.
        path: PathBuf,
        /// Its problems, each with a line.
        errors: Vec<config::ConfigError>,
    },
    /// The initial rules could not be loaded.
    Rules(LoadError),
    /// Setting up the interface, socket or runtime failed, or a packet task stopped.
    Setup {
        /// What failed, e.g. "cannot listen on UDP port 51820".
        what: String,
        /// The system's error, when there is one.
        source: Option<std::io::Error>,
    },
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config { path, errors } => {
                let mut first = true;
                for e in errors {
                    if !first {
                        writeln!(f)?;
                    }
                    first = false;
                    if e.line == 0 {
                        write!(f, "{}: {}", path.display(), e.message)?;
                    } else {
                        write!(f, "{}:{}: {}", path.display(), e.line, e.message)?;
                    }
                }
                Ok(())
            }
            Self::Rules(e) => write!(f, "{e}"),
            Self::Setup { what, source: None } => f.write_str(what),
            Self::Setup {
                what,
                source: Some(e),
            } => write!(f, "{what}: {e}"),
        }
    }
}

impl std::error::Error for NodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Setup {
                source: Some(e), ..
            } => Some(e),
            Self::Rules(e) => Some(e),
            _ => None,
        }
    }
}

impl NodeError {
    /// A setup failure without a system error.
    fn setup(what: String) -> Self {
        Self::Setup { what, source: None }
    }

    /// A setup failure caused by the system error `source`.
    fn io(what: String, source: std::io::Error) -> Self {
        Self::Setup {
            what,
            source: Some(source),
        }
    }
}

/// The status socket path for an interface: `/run/tailpolicy/NAME.sock`.
#[must_use]
pub fn default_status_socket(interface: &str) -> PathBuf {
    PathBuf::from(format!("/run/tailpolicy/{interface}.sock"))
}

/// Reads and parses the configuration file.
///
/// # Errors
/// Unreadable file or invalid content, with lines.
pub fn read_config(path: &Path) -> Result<WgConfig, NodeError> {
    let text = std::fs::read_to_string(path).map_err(|e| NodeError::Config {
        path: path.to_owned(),
        errors: vec![config::ConfigError {
            line: 0,
            message: format!("cannot read the file: {e}"),
        }],
    })?;
    config::parse(&text).map_err(|errors| NodeError::Config {
        path: path.to_owned(),
        errors,
    })
}

/// The interface name: `--interface` or derived from the configuration file name.
///
/// # Errors
/// When neither gives a valid interface name.
pub fn interface_name(opts_interface: Option<&str>, wg_config: &Path) -> Result<String, NodeError> {
    match opts_interface {
        Some(n) if config::valid_interface_name(n) => Ok(n.to_owned()),
        Some(n) => Err(NodeError::setup(format!(
            "`{n}` is not a valid interface name (1-15 characters of A-Z a-z 0-9 _ = + . -)"
        ))),
        None => config::interface_name_from_path(wg_config).ok_or_else(|| {
            NodeError::setup(format!(
                "cannot derive an interface name from `{}`; pass `--interface NAME`",
                wg_config.display()
            ))
        }),
    }
}

/// The filter configuration of a node: its own addresses are its local nets.
#[must_use]
pub fn filter_config(config: &WgConfig) -> FilterConfig {
    let hosts: Vec<String> = config
        .interface
        .addresses
        .iter()
        .map(|a| crate::prefix::Prefix::host(a.addr).to_string())
        .collect();
    FilterConfig {
        local_nets: parse_addr_list(&hosts).ok(),
        node_caps: Vec::new(),
        ..FilterConfig::default()
    }
}

/// Loads the rules of `source` and compiles them. Any malformed rule entry rejects the whole
/// set (a reload must neither lose nor open access by accident).
///
/// # Errors
/// The load error, or every malformed entry.
pub fn build_filter(
    source: &RulesSource,
    fc: &FilterConfig,
) -> Result<(Filter, Vec<FilterRule>), LoadError> {
    let rules = load_rules(source)?;
    let (filter, errors) = Filter::new(&rules, fc);
    if errors.is_empty() {
        Ok((filter, rules))
    } else {
        Err(LoadError {
            problems: errors.iter().map(ToString::to_string).collect(),
        })
    }
}

/// Connects to a node's status socket and returns its report.
///
/// # Errors
/// When the socket cannot be reached or read, or what it sends is not a status report.
pub fn query_status(path: &Path) -> io::Result<StatusReport> {
    use std::io::Read;
    let mut stream = std::os::unix::net::UnixStream::connect(path)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut out = String::new();
    stream.read_to_string(&mut out)?;
    serde_json::from_str(&out).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not a status report: {e}"),
        )
    })
}

/// Runs the node until SIGINT or SIGTERM, then removes the interface and the socket.
///
/// # Errors
/// Invalid configuration or rules, or a failure to set up the interface or sockets.
pub fn run(opts: &NodeOptions) -> Result<(), NodeError> {
    let config = read_config(&opts.wg_config)?;
    for note in &config.ignored {
        tracing::warn!(
            "{}:{}: {}",
            opts.wg_config.display(),
            note.line,
            note.message
        );
    }
    let name = interface_name(opts.interface.as_deref(), &opts.wg_config)?;
    let fc = filter_config(&config);
    let engine = match &opts.source {
        RulesSource::Disabled => Engine::new(&config, None),
        source => {
            let (filter, rules) = build_filter(source, &fc).map_err(NodeError::Rules)?;
            Engine::new(&config, Some((filter, &rules, source.describe())))
        }
    };
    let socket_path = opts
        .status_socket
        .clone()
        .unwrap_or_else(|| default_status_socket(&name));
    // Two workers: the inbound and outbound packet tasks run in parallel; the control loop
    // (timers, reloads, signals, status) runs on the thread that blocks on it.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| NodeError::io("cannot start the runtime".to_owned(), e))?;
    runtime.block_on(async {
        let mut node = Node::setup(&name, &config, engine, &socket_path, opts, fc).await?;
        let result = node.serve().await;
        node.teardown();
        result
    })
}

/// The running node: its sockets, its interface and the engine.
struct Node<'a> {
    name: String,
    engine: Arc<Engine>,
    udp: Arc<Udp>,
    tun: Arc<AsyncFd<Tun>>,
    tun_stats: Arc<TunStats>,
    status: UnixListener,
    socket_path: PathBuf,
    opts: &'a NodeOptions,
    fc: FilterConfig,
    reload: ReloadState,
    listen_port: u16,
    /// Commands that remove what setup added and the link's deletion does not (policy
    /// rules), in the order they were added.
    undo: Vec<Vec<String>>,
    interface_up: bool,
    start: Instant,
}

impl<'a> Node<'a> {
    async fn setup(
        name: &str,
        config: &WgConfig,
        engine: Engine,
        socket_path: &Path,
        opts: &'a NodeOptions,
        fc: FilterConfig,
    ) -> Result<Self, NodeError> {
        let port = config.interface.listen_port.unwrap_or(0);
        let udp = Udp::bind(port)
            .await
            .map_err(|e| NodeError::io(format!("cannot listen on UDP port {port}"), e))?;
        let listen_port = udp.local_port().unwrap_or(port);
        let (offload, why_not) = offload_wanted(std::env::var(OFFLOAD_ENV).ok().as_deref());
        let tun = Tun::open(name, offload, why_not)
            .map_err(|e| NodeError::io(format!("cannot create TUN interface `{name}`"), e))?;
        tracing::info!(interface = name, offload = %tun.offload().describe(), "TUN device open");
        let tun = register_tun(tun)?;
        let status = bind_status(socket_path)?;
        let mut node = Self {
            name: name.to_owned(),
            engine: Arc::new(engine),
            udp: Arc::new(udp),
            tun: Arc::new(tun),
            tun_stats: Arc::new(TunStats::default()),
            status,
            socket_path: socket_path.to_owned(),
            opts,
            fc,
            reload: ReloadState::new(mtimes(&opts.source)),
            listen_port,
            undo: Vec::new(),
            interface_up: true,
            start: Instant::now(),
        };
        let plan = routes::plan(name, config, &table_in_use);
        if let Err(e) = configure_interface(&plan, &node.udp, &mut node.undo) {
            node.teardown();
            return Err(e);
        }
        tracing::info!(
            interface = name,
            port = listen_port,
            peers = config.peers.len(),
            public_key = %node.engine.public_key().to_base64(),
            filter = %opts.source.describe(),
            status = %socket_path.display(),
            "node up"
        );
        Ok(node)
    }

    async fn serve(&mut self) -> Result<(), NodeError> {
        let sig = |kind: SignalKind| {
            signal(kind).map_err(|e| NodeError::io("cannot install a signal handler".to_owned(), e))
        };
        let mut sighup = sig(SignalKind::hangup())?;
        let mut sigterm = sig(SignalKind::terminate())?;
        let mut sigint = sig(SignalKind::interrupt())?;
        let mut timers = tokio::time::interval(TIMER_TICK);
        let mut poll = tokio::time::interval(RELOAD_POLL);
        let io = PacketIo {
            engine: Arc::clone(&self.engine),
            udp: Arc::clone(&self.udp),
            tun: Arc::clone(&self.tun),
            tun_stats: Arc::clone(&self.tun_stats),
            start: self.start,
        };
        let mut inbound = tokio::spawn(io.clone().inbound());
        let mut outbound = tokio::spawn(io.outbound());
        let mut scratch = self.engine.scratch();
        let mut out = SendBatch::default();
        let result = loop {
            tokio::select! {
                r = &mut inbound => break task_ended("inbound", r),
                r = &mut outbound => break task_ended("outbound", r),
                _ = timers.tick() => {
                    let mut sink = IoSink::new(&self.udp, self.tun.get_ref(), &self.tun_stats, &mut out, None);
                    self.engine.tick(&mut scratch, &mut sink);
                }
                _ = poll.tick() => {
                    self.engine.reset_rate_limiter();
                    let now = mtimes(&self.opts.source);
                    if self.reload.files_changed(&now) {
                        self.reload_filter("file change");
                    }
                }
                _ = sighup.recv() => self.reload_filter("SIGHUP"),
                _ = sigterm.recv() => {
                    tracing::info!("SIGTERM: shutting down");
                    break Ok(());
                }
                _ = sigint.recv() => {
                    tracing::info!("SIGINT: shutting down");
                    break Ok(());
                }
                conn = self.status.accept() => {
                    if let Ok((mut stream, _)) = conn {
                        let mut report = status_report(&self.name, self.listen_port, &self.engine, &self.reload);
                        report.tun = Some(self.tun_report());
                        let mut text = serde_json::to_string(&report).unwrap_or_default();
                        text.push('\n');
                        tokio::spawn(async move {
                            let _ignored = stream.write_all(text.as_bytes()).await;
                            let _ignored = stream.shutdown().await;
                        });
                    }
                }
            }
            out.flush(&self.udp);
            out.drain(&self.udp).await;
        };
        inbound.abort();
        outbound.abort();
        result
    }

    fn tun_report(&self) -> TunReport {
        let offload = self.tun.get_ref().offload();
        TunReport {
            offload: offload.vnet_hdr,
            offload_state: offload.describe(),
            read: TunTrafficReport::new(self.tun_stats.read.get()),
            written: TunTrafficReport::new(self.tun_stats.written.get()),
        }
    }

    fn reload_filter(&mut self, why: &str) {
        if !self.engine.filter_enabled() {
            return;
        }
        self.reload.observed(mtimes(&self.opts.source));
        match build_filter(&self.opts.source, &self.fc) {
            Ok((filter, rules)) => {
                let generation =
                    self.engine
                        .swap_filter(filter, &rules, self.opts.source.describe());
                tracing::info!(why, generation, rules = rules.len(), "policy reloaded");
                self.reload.succeeded(generation);
            }
            Err(e) => {
                let current = self.engine.filter_info().map_or(0, |i| i.0);
                tracing::error!(
                    why,
                    keeping = current,
                    "policy reload rejected, keeping the last good filter: {e}"
                );
                self.reload.failed(e.to_string(), current);
            }
        }
    }

    fn teardown(&mut self) {
        let _ignored = std::fs::remove_file(&self.socket_path);
        if self.interface_up {
            self.interface_up = false;
            // Deleting the link removes its addresses and routes too; policy rules stay.
            if let Err(e) = ip(&["link", "del", "dev", &self.name]) {
                tracing::debug!("{e}");
            }
            for args in self.undo.iter().rev() {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                if let Err(e) = ip(&args) {
                    tracing::warn!("{e}");
                }
            }
            tracing::info!(interface = %self.name, "interface removed");
        }
    }
}

fn task_ended(
    which: &str,
    r: Result<Result<(), NodeError>, tokio::task::JoinError>,
) -> Result<(), NodeError> {
    match r {
        Ok(Ok(())) => Err(NodeError::setup(format!("the {which} packet task stopped"))),
        Ok(Err(e)) => Err(e),
        Err(e) => Err(NodeError::io(
            format!("the {which} packet task failed"),
            std::io::Error::other(e),
        )),
    }
}

/// What the two packet tasks share.
#[derive(Clone)]
struct PacketIo {
    engine: Arc<Engine>,
    udp: Arc<Udp>,
    tun: Arc<AsyncFd<Tun>>,
    tun_stats: Arc<TunStats>,
    start: Instant,
}

impl PacketIo {
    fn now(&self) -> u32 {
        u32::try_from(self.start.elapsed().as_secs()).unwrap_or(u32::MAX)
    }

    /// UDP -> decapsulate -> cryptokey routing -> filter -> TUN. Datagrams arrive in
    /// batches (`recvmmsg`, GRO); replies leave in GSO runs. With TUN offloads, the admitted
    /// packets of each receive call are coalesced into super-segments (GRO towards the TUN).
    async fn inbound(self) -> Result<(), NodeError> {
        let mut scratch = self.engine.scratch();
        let mut out = SendBatch::default();
        let mut recv = RecvBatch::default();
        let offload = self.tun.get_ref().offload().clone();
        let mut gro = offload
            .vnet_hdr
            .then(|| Coalescer::new(offload.tso, offload.uso));
        loop {
            self.udp
                .readable()
                .await
                .map_err(|e| NodeError::io("UDP poll failed".to_owned(), e))?;
            let now = self.now();
            for _ in 0..BATCH {
                let mut sink = IoSink::new(
                    &self.udp,
                    self.tun.get_ref(),
                    &self.tun_stats,
                    &mut out,
                    gro.as_mut(),
                );
                let received = recv.try_recv(&self.udp, |from, datagram| {
                    self.engine
                        .handle_datagram(&mut scratch, from, datagram, now, &mut sink);
                });
                if let Some(gro) = gro.as_mut() {
                    self.write_coalesced(gro);
                }
                match received {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        tracing::debug!(error = %e, "udp receive failed");
                        break;
                    }
                }
            }
            out.flush(&self.udp);
            // The batch's verdict counts, for the status report.
            scratch.flush();
            if out.has_backlog() {
                out.drain(&self.udp).await;
            }
        }
    }

    /// Writes the coalesced segments to the TUN.
    fn write_coalesced(&self, gro: &mut Coalescer) {
        if gro.is_empty() {
            return;
        }
        let tun = self.tun.get_ref();
        let done = gro.flush(|frame| {
            if let Err(e) = tun.write_frame(frame) {
                tracing::debug!(error = %e, "TUN write failed");
            }
        });
        self.tun_stats
            .written
            .add(done.frames, done.packets, done.bytes);
    }

    /// TUN -> flow state -> peer by AllowedIPs -> encapsulate -> UDP. With TUN offloads a
    /// read may be a TCP/UDP super-segment: it is cut into packets that are decided once
    /// and sent as one GSO run.
    async fn outbound(self) -> Result<(), NodeError> {
        let mut scratch = self.engine.scratch();
        let mut out = SendBatch::default();
        let mut buf = vec![0u8; TUN_BUF];
        let mut segments = Segments::default();
        let vnet = self.tun.get_ref().offload().vnet_hdr;
        loop {
            let mut guard = self
                .tun
                .readable()
                .await
                .map_err(|e| NodeError::io("TUN poll failed".to_owned(), e))?;
            let now = self.now();
            for _ in 0..BATCH {
                let r = guard.try_io(|inner| inner.get_ref().read(&mut buf));
                match r {
                    Ok(Ok(n)) => {
                        let mut sink = IoSink::new(
                            &self.udp,
                            self.tun.get_ref(),
                            &self.tun_stats,
                            &mut out,
                            None,
                        );
                        let Some(frame) = buf.get_mut(..n) else {
                            continue;
                        };
                        if vnet {
                            self.outbound_frame(frame, &mut segments, &mut scratch, now, &mut sink);
                        } else {
                            self.tun_stats.read.add(1, 1, u64::try_from(n).unwrap_or(0));
                            self.engine
                                .handle_tun_packet(&mut scratch, frame, now, &mut sink);
                        }
                    }
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, "TUN read failed");
                        break;
                    }
                    Err(_would_block) => break,
                }
            }
            drop(guard);
            out.flush(&self.udp);
            // The batch's verdict counts, for the status report.
            scratch.flush();
            if out.has_backlog() {
                out.drain(&self.udp).await;
            }
        }
    }

    /// One frame read from a TUN with the virtio-net header: a single packet or a
    /// super-segment to cut.
    fn outbound_frame(
        &self,
        frame: &mut [u8],
        segments: &mut Segments,
        scratch: &mut crate::engine::Scratch,
        now: u32,
        sink: &mut IoSink<'_>,
    ) {
        let Some((head, packet)) = frame.split_at_mut_checked(VNET_HDR_LEN) else {
            self.engine.counters().node_drop(NodeDrop::NotIp);
            return;
        };
        let Some(hdr) = VnetHdr::decode(head) else {
            return;
        };
        match segment(&hdr, packet, segments) {
            Ok(Cut::Single) => {
                self.tun_stats
                    .read
                    .add(1, 1, u64::try_from(packet.len()).unwrap_or(0));
                self.engine.handle_tun_packet(scratch, packet, now, sink);
            }
            Ok(Cut::Segments) => {
                self.tun_stats.read.add(
                    1,
                    u64::try_from(segments.len()).unwrap_or(0),
                    u64::try_from(segments.bytes()).unwrap_or(0),
                );
                self.engine
                    .handle_tun_segments(scratch, segments, now, sink);
            }
            Err(e) => {
                self.engine.counters().node_drop(NodeDrop::NotIp);
                tracing::debug!(error = %e, ?hdr, "TUN read dropped");
            }
        }
    }
}

/// Writes engine output to the UDP socket (through the task's send batch) and the TUN
/// device (through the task's coalescer, when it has one).
struct IoSink<'s> {
    udp: &'s Udp,
    tun: &'s Tun,
    stats: &'s TunStats,
    out: &'s mut SendBatch,
    gro: Option<&'s mut Coalescer>,
}

impl<'s> IoSink<'s> {
    fn new(
        udp: &'s Udp,
        tun: &'s Tun,
        stats: &'s TunStats,
        out: &'s mut SendBatch,
        gro: Option<&'s mut Coalescer>,
    ) -> Self {
        Self {
            udp,
            tun,
            stats,
            out,
            gro,
        }
    }
}

impl Sink for IoSink<'_> {
    fn to_network(&mut self, to: SocketAddr, datagram: &[u8]) {
        self.out.push(self.udp, to, datagram);
    }

    fn to_tun(&mut self, packet: &[u8]) {
        if let Some(gro) = self.gro.as_deref_mut() {
            gro.push(packet);
            return;
        }
        match self.tun.write_packet(packet) {
            Ok(_) => self
                .stats
                .written
                .add(1, 1, u64::try_from(packet.len()).unwrap_or(0)),
            Err(e) => tracing::debug!(error = %e, "TUN write failed"),
        }
    }
}

/// Whether to ask for TUN offloads, given the value of `TAILPOLICY_NODE_OFFLOAD`; when not, why.
#[must_use]
pub fn offload_wanted(env: Option<&str>) -> (bool, &'static str) {
    match env.map(str::trim) {
        Some("off" | "0" | "false" | "no") => (false, "turned off by TAILPOLICY_NODE_OFFLOAD"),
        _ => (true, ""),
    }
}

/// Registers the TUN device with tokio's reactor.
fn register_tun(tun: Tun) -> Result<AsyncFd<Tun>, NodeError> {
    #[expect(
        unsafe_code,
        reason = "tokio's AsyncFd::register is an unsafe fn; the TUN device is a raw fd"
    )]
    // SAFETY: `Tun` owns its file descriptor (a `std::fs::File` opened in `Tun::open`), never
    // replaces it, returns the same fd from every `as_raw_fd` call, and closes it only when
    // it is dropped, which happens when the `AsyncFd` that owns it is dropped. So the fd
    // stays valid and refers to the same TUN queue for the whole life of the registration.
    let registered = unsafe { AsyncFd::register(tun) };
    registered.map_err(|e| NodeError::io("cannot poll the TUN device".to_owned(), e.into_parts().1))
}

fn bind_status(path: &Path) -> Result<UnixListener, NodeError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| NodeError::io(format!("cannot create `{}`", dir.display()), e))?;
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(NodeError::setup(format!(
            "another node already serves `{}`",
            path.display()
        )));
    }
    let _stale = std::fs::remove_file(path);
    UnixListener::bind(path).map_err(|e| {
        NodeError::io(
            format!("cannot create the status socket `{}`", path.display()),
            e,
        )
    })
}

/// Runs `ip ARGS` (iproute2), as `wg-quick` does.
fn ip(args: &[&str]) -> Result<(), NodeError> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| NodeError::io("cannot run `ip` (is iproute2 installed?)".to_owned(), e))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(NodeError::setup(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Whether routing table `n` holds IPv4 or IPv6 routes (as wg-quick asks `ip route show
/// table N`).
fn table_in_use(n: u32) -> bool {
    let table = n.to_string();
    ["-4", "-6"].iter().any(|family| {
        Command::new("ip")
            .args([family, "route", "show", "table", &table])
            .output()
            .is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
    })
}

/// Applies the plan: the socket mark, `src_valid_mark`, then the `ip` commands in order.
/// `undo` receives the undo command of every step that succeeded, also when a later step
/// fails, so nothing this node did not add is ever removed.
fn configure_interface(
    plan: &RoutePlan,
    udp: &Udp,
    undo: &mut Vec<Vec<String>>,
) -> Result<(), NodeError> {
    if let Some(mark) = plan.socket_mark {
        udp.set_mark(mark).map_err(|e| {
            NodeError::io(
                format!("cannot set the firewall mark {mark} on the UDP socket"),
                e,
            )
        })?;
    }
    if plan.src_valid_mark {
        std::fs::write("/proc/sys/net/ipv4/conf/all/src_valid_mark", "1").map_err(|e| {
            NodeError::io("cannot set net.ipv4.conf.all.src_valid_mark".to_owned(), e)
        })?;
    }
    for step in &plan.setup {
        let args: Vec<&str> = step.args.iter().map(String::as_str).collect();
        ip(&args)?;
        undo.extend(step.undo.iter().cloned());
    }
    Ok(())
}
