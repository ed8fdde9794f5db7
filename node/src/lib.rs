//! # tailpolicy-node
//!
//! A userspace WireGuard node that enforces a compiled tailnet policy on every packet that
//! leaves the tunnel. Built on `boringtun::noise::Tunn` (one per peer) and tokio.
//!
//! The crate's modules are private; what it offers is re-exported here:
//!
//! * [`run()`] with [`NodeOptions`] (the IO edge: TUN device, UDP socket, signals,
//!   reloads, the status socket), [`query_status`] and [`render_text`] for `--status`,
//!   [`interface_name`] and [`default_status_socket`].
//! * [`RulesSource`] and [`load_rules`]: where the FilterRules come from, for the start
//!   and every reload.
//! * [`WgConfig`]: the `wg-quick` configuration format.
//! * [`Engine`]: the per-packet logic without IO (cryptokey routing, filter, peer
//!   selection, counters), driven by datagrams, TUN packets and timer ticks; [`Udp`]
//!   and its batches (recvmmsg + GRO, GSO sends), for benchmarks and tests.
//!
//! Inside: `routes` (what `wg-quick up` does to addresses, routes and policy rules, as a
//! plan), `offload` (TUN offloads without IO: the virtio-net header, cutting
//! super-segments read from the TUN, coalescing admitted packets into super-segments
//! for it), `tun` (the device with `IFF_VNET_HDR` and `TUNSETOFFLOAD`), `stats` and
//! `status` (counters and the status report).
//!
//! **Invariant:** the packet path never panics; a rejected policy reload leaves the last good
//! filter in force.
//!
//! **Platforms:** Linux only (boringtun's TUN device, `SO_MARK` on the UDP socket, `ip`
//! routes and policy rules, batched UDP with GRO/GSO). Elsewhere this crate is empty, and
//! `tailpolicy node` says that it needs Linux.
#![cfg(target_os = "linux")]
#![deny(unsafe_code)]

mod config;
mod engine;
mod offload;
mod prefix;
mod routes;
mod rules_source;
mod run;
mod stats;
mod status;
mod tun;
mod udp;

pub use config::{Interface, InterfaceAddress, Key, Peer, RouteTable, WgConfig};
pub use engine::{Engine, Scratch, Sink};
pub use rules_source::{LoadError, RulesSource, load_rules};
pub use run::{
    NodeError, NodeOptions, default_status_socket, interface_name, offload_wanted, query_status,
    run,
};
pub use stats::Direction;
pub use status::{StatusReport, render_text};
pub use udp::{RecvBatch, SendBatch, Udp};
