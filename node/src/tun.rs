//! The TUN device, opened by the node itself so it can ask for the virtio-net header
//! (`IFF_VNET_HDR`) and segmentation offloads (`TUNSETOFFLOAD`: checksum, TSO for IPv4 and
//! IPv6, USO when the kernel has it, 6.2 and later). When the kernel refuses them the device
//! is opened as before (`IFF_TUN | IFF_NO_PI`, one packet per read and write) and
//! [`Offload::reason`] says why.
//!
//! The two `ioctl`s are the only unsafe code of the module (and, with the reactor
//! registration in `run.rs`, of the crate); reads and writes go through `std::fs::File`.
#![expect(
    unsafe_code,
    reason = "TUNSETIFF and TUNSETOFFLOAD are ioctls, and libc::ioctl is an unsafe fn"
)]

use crate::offload::vnet::{VNET_HDR_LEN, VnetHdr};
use std::fs::{File, OpenOptions};
use std::io::{self, IoSlice, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;

/// `struct ifreq` with the flags member of its union (40 bytes on Linux).
#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// What the kernel granted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Offload {
    /// Packets carry a virtio-net header (and may be super-segments).
    pub vnet_hdr: bool,
    /// TCP segmentation offload (IPv4 and IPv6): TCP super-segments both ways.
    pub tso: bool,
    /// UDP segmentation offload: UDP super-segments both ways.
    pub uso: bool,
    /// Why offloads are off (or why USO is), when they are.
    pub reason: Option<String>,
}

impl Offload {
    /// A one-line description for the status report.
    #[must_use]
    pub fn describe(&self) -> String {
        match (self.vnet_hdr, &self.reason) {
            (true, None) => "on (virtio-net header, checksum, TSO, USO)".to_owned(),
            (true, Some(r)) => format!("on (virtio-net header, checksum, TSO; no USO: {r})"),
            (false, Some(r)) => format!("off ({r})"),
            (false, None) => "off".to_owned(),
        }
    }
}

/// An open TUN queue.
#[derive(Debug)]
pub struct Tun {
    file: File,
    offload: Offload,
}

impl Tun {
    /// Creates (or attaches to) the TUN interface `name`, non-blocking. With `offload`, asks
    /// for the virtio-net header and offloads and falls back to plain packets when the kernel
    /// refuses; without, opens it plainly (the reason is `why_not`).
    ///
    /// # Errors
    /// When `/dev/net/tun` cannot be opened or the interface cannot be created.
    pub fn open(name: &str, offload: bool, why_not: &str) -> io::Result<Self> {
        if !offload {
            let file = open_tun(name, false)?;
            return Ok(Self {
                file,
                offload: Offload {
                    reason: Some(why_not.to_owned()),
                    ..Offload::default()
                },
            });
        }
        let vnet = open_tun(name, true).and_then(|file| {
            let base = libc::TUN_F_CSUM | libc::TUN_F_TSO4 | libc::TUN_F_TSO6;
            match set_offload(&file, base | libc::TUN_F_USO4 | libc::TUN_F_USO6) {
                Ok(()) => Ok((file, true, None)),
                Err(uso) => set_offload(&file, base)
                    .map(|()| (file, false, Some(format!("the kernel refused it: {uso}")))),
            }
        });
        match vnet {
            Ok((file, uso, reason)) => Ok(Self {
                file,
                offload: Offload {
                    vnet_hdr: true,
                    tso: true,
                    uso,
                    reason,
                },
            }),
            Err(e) => {
                // The failed attempt's file is closed by now; a persistent interface would
                // keep the flags it was created with, but the node's interfaces are not.
                let file = open_tun(name, false)?;
                Ok(Self {
                    file,
                    offload: Offload {
                        reason: Some(format!(
                            "the kernel refused IFF_VNET_HDR/TUNSETOFFLOAD: {e}"
                        )),
                        ..Offload::default()
                    },
                })
            }
        }
    }

    /// What the kernel granted.
    #[must_use]
    pub fn offload(&self) -> &Offload {
        &self.offload
    }

    /// Reads one frame (with the virtio-net header first when [`Offload::vnet_hdr`]).
    ///
    /// # Errors
    /// `WouldBlock` when nothing is queued; other read errors.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.file).read(buf)
    }

    /// Writes one plain IP packet (behind a zero virtio-net header when the device has
    /// one).
    ///
    /// # Errors
    /// The write error.
    pub fn write_packet(&self, packet: &[u8]) -> io::Result<usize> {
        if self.offload.vnet_hdr {
            let hdr = VnetHdr::NONE.encode();
            (&self.file).write_vectored(&[IoSlice::new(&hdr), IoSlice::new(packet)])
        } else {
            (&self.file).write(packet)
        }
    }

    /// Writes one frame that already starts with its virtio-net header (only on a device
    /// with [`Offload::vnet_hdr`]; otherwise the header is skipped).
    ///
    /// # Errors
    /// The write error.
    pub fn write_frame(&self, frame: &[u8]) -> io::Result<usize> {
        if self.offload.vnet_hdr {
            (&self.file).write(frame)
        } else {
            (&self.file).write(frame.get(VNET_HDR_LEN..).unwrap_or_default())
        }
    }
}

impl AsRawFd for Tun {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

/// Opens `/dev/net/tun` and attaches it to interface `name` (`TUNSETIFF`).
fn open_tun(name: &str, vnet_hdr: bool) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open("/dev/net/tun")?;
    let mut req = IfReq {
        name: [0; libc::IFNAMSIZ],
        flags: 0,
        _pad: [0; 22],
    };
    let bytes = name.as_bytes();
    // The name must leave room for the terminating zero.
    if bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "invalid interface name",
        ));
    }
    for (dst, src) in req.name.iter_mut().zip(bytes) {
        *dst = *src;
    }
    let mut flags = libc::IFF_TUN | libc::IFF_NO_PI;
    if vnet_hdr {
        flags |= libc::IFF_VNET_HDR;
    }
    req.flags = libc::c_short::try_from(flags)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "TUN flags out of range"))?;
    // SAFETY: `file` is an open descriptor of /dev/net/tun for the whole call; TUNSETIFF
    // reads and writes a `struct ifreq`, and `req` is a live, exclusively borrowed,
    // `repr(C)` value of that struct's size and layout (16-byte name, then the union whose
    // first member is the short flags) that outlives the call.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &raw mut req) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(file)
}

/// Enables the offloads `flags` (`TUN_F_*`) on an attached TUN file.
fn set_offload(file: &File, flags: libc::c_uint) -> io::Result<()> {
    // SAFETY: `file` is an open, attached TUN descriptor for the whole call; TUNSETOFFLOAD
    // takes its argument by value (an unsigned long of TUN_F_* bits) and dereferences no
    // pointer.
    let rc = unsafe {
        libc::ioctl(
            file.as_raw_fd(),
            libc::TUNSETOFFLOAD,
            libc::c_ulong::from(flags),
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}
