//! Linux: each worker thread runs in a private network namespace of its own
//! (unshare(CLONE_NEWNET), loopback brought up with an ioctl, no shelling
//! out); a normal user gets one through a user namespace made at start-up.
//! Sockets `as other` are created under fsuid 65534 (needs real root).

use super::core::{HostOps, connect_with_sndtimeo, domain_type};
use super::ports::PortPool;
use super::{ExecError, Isolation, Prepared};
use crate::case::{Kind, SockOpt};
use crate::model::HostSettings;
use crate::outcome::{Errno, Outcome};
use crate::platform::Platform;
use socket2::{SockAddr, Socket};
use std::io;
use std::time::Duration;

/// The platform whose model describes this host.
pub fn host_platform() -> Platform {
    Platform::Linux
}

/// The uid of sockets made `as other`.
pub const OTHER_UID: u32 = 65534;

/// Symbolic ports come from here in a private namespace, below the default
/// ephemeral range (32768-60999) and above the privileged ports.
const NETNS_PORTS: (u16, u16) = (1024, 32768);

/// Recycle a namespace after this many possible TIME_WAIT leftovers, far
/// below tcp_max_tw_buckets and the ephemeral range.
const LEFTOVER_BUDGET: u32 = 2000;

fn errno_now() -> io::Error {
    io::Error::last_os_error()
}

/// Prepares the process before any thread exists: as a normal user, enters
/// a new user namespace so that workers may create network namespaces.
pub fn prepare_process(iso: &Isolation) -> Result<Prepared, ExecError> {
    let root = unsafe { libc::geteuid() } == 0;
    let mut warnings = Vec::new();
    let other_user = if root {
        Ok(OTHER_UID)
    } else {
        Err("'as other' needs root (sockets of a second user are made with setfsuid)".to_string())
    };
    match iso {
        Isolation::Host => {
            warnings.push(
                "running in the host's network namespace (--no-netns): other processes' sockets and ports left in TIME_WAIT can cause false mismatches".into(),
            );
        }
        Isolation::PrivateNetns => {
            if !root {
                enter_user_namespace()?;
            }
            // Check once, on a thread of its own, that a namespace can be made.
            let probe =
                std::thread::spawn(enter_netns).join().map_err(|_| ExecError("namespace check panicked".into()))?;
            probe?;
        }
    }
    Ok(Prepared { isolation: iso.clone(), other_user, warnings })
}

fn enter_user_namespace() -> Result<(), ExecError> {
    let uid = unsafe { libc::geteuid() };
    let gid = unsafe { libc::getegid() };
    if unsafe { libc::unshare(libc::CLONE_NEWUSER) } != 0 {
        let e = errno_now();
        return Err(ExecError(format!(
            "no permission for network namespaces: unshare(CLONE_NEWUSER) failed ({e}); run as root, allow unprivileged user namespaces, or pass --no-netns to run in the host's network namespace"
        )));
    }
    let write = |path: &str, text: String| {
        std::fs::write(path, text).map_err(|e| ExecError(format!("cannot set up the user namespace: {path}: {e}")))
    };
    write("/proc/self/setgroups", "deny".into())?;
    write("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
    write("/proc/self/gid_map", format!("{gid} {gid} 1"))?;
    Ok(())
}

/// Moves the calling thread into a new network namespace with loopback up.
fn enter_netns() -> Result<(), ExecError> {
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        let e = errno_now();
        return Err(ExecError(format!(
            "no permission for network namespaces: unshare(CLONE_NEWNET) failed ({e}); run as root, allow unprivileged user namespaces, or pass --no-netns to run in the host's network namespace"
        )));
    }
    loopback_up().map_err(|e| {
        let hint = match e.raw_os_error() {
            Some(libc::EMFILE | libc::ENFILE) => ": out of file descriptors, raise the limit (ulimit -n)",
            _ => "",
        };
        ExecError(format!("cannot bring loopback up in the new network namespace: {e}{hint}"))
    })
}

fn loopback_up() -> io::Result<()> {
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(errno_now());
    }
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    let r = (|| {
        if unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS as _, &mut req) } != 0 {
            return Err(errno_now());
        }
        unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
        if unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS as _, &req) } != 0 {
            return Err(errno_now());
        }
        Ok(())
    })();
    unsafe { libc::close(fd) };
    r
}

fn read_sysctl(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// Settings of the network stack the workers will see.
pub fn host_settings(prep: &Prepared) -> HostSettings {
    let read = || HostSettings { bindv6only: read_sysctl("/proc/sys/net/ipv6/bindv6only").as_deref() == Some("1") };
    match prep.isolation {
        Isolation::Host => read(),
        // /proc/sys/net follows the calling thread's namespace.
        Isolation::PrivateNetns => std::thread::spawn(move || {
            enter_netns().ok();
            read()
        })
        .join()
        .unwrap_or_default(),
    }
}

/// The host side of the Linux executor.
pub struct Host {
    netns: bool,
    pool: PortPool,
    other_uid: Option<u32>,
    /// Possible TIME_WAIT leftovers in this namespace since it was made.
    leftovers: u32,
    /// Their ports (a bit per port).
    left_on: Box<[u64; 1024]>,
}

impl Host {
    /// Sets up worker `worker` of `workers` on the calling thread.
    pub fn new(prep: &Prepared, worker: usize, workers: usize) -> Result<Host, ExecError> {
        let netns = prep.isolation == Isolation::PrivateNetns;
        let (lo, hi) = if netns {
            enter_netns()?;
            NETNS_PORTS
        } else {
            host_port_range()
        };
        Ok(Host {
            netns,
            pool: PortPool::new(lo, hi, worker, workers, !netns),
            other_uid: prep.other_user.clone().ok(),
            leftovers: 0,
            left_on: Box::new([0; 1024]),
        })
    }

    fn recycle(&mut self) -> Result<(), ExecError> {
        enter_netns()?;
        self.pool.reset();
        self.leftovers = 0;
        self.left_on.fill(0);
        Ok(())
    }
}

/// In the host's namespace: ports between 10000 and the ephemeral range.
fn host_port_range() -> (u16, u16) {
    let range = read_sysctl("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut it = range.split_whitespace().filter_map(|s| s.parse::<u16>().ok());
    match (it.next(), it.next()) {
        (Some(lo), Some(_)) if lo > 12000 => (10000, lo),
        (Some(_), Some(hi)) if hi < 63000 => (hi + 1, 65535),
        _ => (10000, 32768),
    }
}

impl HostOps for Host {
    fn begin_case(&mut self, syms: usize) -> Result<(), ExecError> {
        if self.netns && (!self.pool.has(syms) || self.leftovers > LEFTOVER_BUDGET) {
            self.recycle()?;
        }
        Ok(())
    }

    fn take_port(&mut self) -> Result<u16, ExecError> {
        match self.pool.take() {
            Some(p) => Ok(p),
            None => {
                self.recycle()?;
                self.pool.take().ok_or_else(|| ExecError("no ports to run cases on".into()))
            }
        }
    }

    fn socket(&mut self, kind: Kind, other: bool) -> io::Result<Socket> {
        let (d, t) = domain_type(kind);
        if !other {
            return Socket::new(d, t, None);
        }
        let uid = self.other_uid.ok_or_else(|| io::Error::from_raw_os_error(libc::EPERM))?;
        // setfsuid changes only this thread; it reports no errors, so check.
        unsafe { libc::setfsuid(uid) };
        let now = unsafe { libc::setfsuid(u32::MAX) } as u32;
        let r = if now == uid { Socket::new(d, t, None) } else { Err(io::Error::from_raw_os_error(libc::EPERM)) };
        unsafe { libc::setfsuid(0) };
        r
    }

    fn set_option(&self, s: &Socket, opt: SockOpt, on: bool) -> Result<(), Outcome> {
        let r = match opt {
            SockOpt::ReuseAddr => s.set_reuse_address(on),
            SockOpt::ReusePort => s.set_reuse_port(on),
            SockOpt::V6Only => s.set_only_v6(on),
            SockOpt::Linger0 => s.set_linger(on.then_some(Duration::ZERO)),
            // Linux has no constant for these: never passed to the kernel.
            SockOpt::ReusePortLb | SockOpt::ExclusiveAddrUse => return Err(Outcome::Err(Errno::ENOPROTOOPT)),
        };
        r.map_err(|e| self.outcome_of(&e))
    }

    fn connect(&self, s: &Socket, to: &SockAddr) -> Result<(), Outcome> {
        connect_with_sndtimeo(s, to, |e| self.outcome_of(e))
    }

    fn outcome_of(&self, e: &io::Error) -> Outcome {
        super::unix::outcome_of(e)
    }

    fn note_leftover(&mut self, port: u16) {
        self.leftovers += 1;
        self.left_on[port as usize / 64] |= 1 << (port % 64);
    }

    fn may_hold(&self, port: u16) -> bool {
        self.netns && self.left_on[port as usize / 64] & (1 << (port % 64)) != 0
    }

    fn fresh(&mut self) -> Result<(), ExecError> {
        if self.netns { self.recycle() } else { Ok(()) }
    }
}
