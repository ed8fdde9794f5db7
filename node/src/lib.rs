//! # tailpolicy-node
//!
//! A userspace WireGuard node that enforces a compiled tailnet policy on every packet that
//! leaves the tunnel. Built on `boringtun::noise::Tunn` (one per peer) and tokio.
//!
//! * [`config`]: the `wg-quick` configuration format.
//! * [`engine`]: the per-packet logic without IO (cryptokey routing, filter, peer selection,
//!   counters), driven by datagrams, TUN packets and timer ticks.
//! * [`rules_source`]: where the FilterRules come from ([`rules_source::load_rules`]).
//! * [`routes`]: what `wg-quick up` does to addresses, routes and policy rules, as a plan.
//! * [`udp`]: batched UDP IO (recvmmsg + GRO, GSO sends).
//! * [`offload`]: TUN offloads without IO: the virtio-net header, cutting super-segments
//!   read from the TUN, coalescing admitted packets into super-segments for it.
//! * [`tun`]: the TUN device with `IFF_VNET_HDR` and `TUNSETOFFLOAD` when the kernel has them.
//! * [`mod@run`]: the IO edge: TUN device, UDP socket, signals, reloads, the status socket.
//!
//! **Invariant:** the packet path never panics; a rejected policy reload leaves the last good
//! filter in force.
//!
//! **Platforms:** Linux only (boringtun's TUN device, `SO_MARK` on the UDP socket, `ip`
//! routes and policy rules, batched UDP with GRO/GSO). Elsewhere this crate is empty, and
//! `tailpolicy node` says that it needs Linux.
#![cfg(target_os = "linux")]
#![deny(unsafe_code)]

pub mod config;
pub mod engine;
pub mod offload;
pub mod prefix;
pub mod routes;
pub mod rules_source;
pub mod run;
pub mod stats;
pub mod status;
pub mod tun;
pub mod udp;

pub use rules_source::{RulesSource, load_rules};
pub use run::{NodeError, NodeOptions, query_status, run};
