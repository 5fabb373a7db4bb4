//! FreeBSD and macOS: no network namespaces, so live runs use the host's
//! stack with symbolic ports taken outside the ephemeral range and never
//! reused within 65 s. `as other` is not supported here yet (skipped).

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
    if cfg!(target_os = "freebsd") { Platform::FreeBsd } else { Platform::MacOs }
}

/// Symbolic ports: below both systems' default ephemeral ranges (FreeBSD
/// 10000-65535, macOS 49152-65535) and above the reserved ports.
const PORTS: (u16, u16) = (2000, 10000);

/// Nothing to prepare: there are no namespaces to enter.
pub fn prepare_process(iso: &Isolation) -> Result<Prepared, ExecError> {
    let mut warnings = Vec::new();
    if *iso == Isolation::PrivateNetns {
        warnings.push(
            "this OS has no network namespaces: cases run on the host's own stack (run on an otherwise idle machine or VM)".into(),
        );
    }
    Ok(Prepared {
        isolation: Isolation::Host,
        other_user: Err("'as other' is not supported on this OS yet".into()),
        warnings,
    })
}

/// IPv6 sockets start v6only on FreeBSD (net.inet6.ip6.v6only=1), not on macOS;
/// the models know their defaults, so nothing is read here.
pub fn host_settings(_prep: &Prepared) -> HostSettings {
    HostSettings::default()
}

/// The host side of the BSD executor.
pub struct Host {
    pool: PortPool,
}

impl Host {
    pub fn new(_prep: &Prepared, worker: usize, workers: usize) -> Result<Host, ExecError> {
        Ok(Host { pool: PortPool::new(PORTS.0, PORTS.1, worker, workers, true) })
    }
}

impl HostOps for Host {
    fn begin_case(&mut self, _syms: usize) -> Result<(), ExecError> {
        Ok(())
    }

    fn take_port(&mut self) -> Result<u16, ExecError> {
        self.pool.take().ok_or_else(|| ExecError("no ports to run cases on".into()))
    }

    fn socket(&mut self, kind: Kind, other: bool) -> io::Result<Socket> {
        if other {
            return Err(io::Error::from_raw_os_error(libc::EPERM));
        }
        let (d, t) = domain_type(kind);
        Socket::new(d, t, None)
    }

    fn set_option(&self, s: &Socket, opt: SockOpt, on: bool) -> Result<(), Outcome> {
        let r = match opt {
            SockOpt::ReuseAddr => s.set_reuse_address(on),
            SockOpt::ReusePort => s.set_reuse_port(on),
            SockOpt::V6Only => s.set_only_v6(on),
            SockOpt::Linger0 => s.set_linger(on.then_some(Duration::ZERO)),
            #[cfg(target_os = "freebsd")]
            SockOpt::ReusePortLb => s.set_reuse_port_lb(on),
            // No constant on this OS: never passed to the kernel (on macOS
            // FreeBSD's number is a private option).
            #[cfg(not(target_os = "freebsd"))]
            SockOpt::ReusePortLb => return Err(Outcome::Err(Errno::ENOPROTOOPT)),
            SockOpt::ExclusiveAddrUse => return Err(Outcome::Err(Errno::ENOPROTOOPT)),
        };
        r.map_err(|e| self.outcome_of(&e))
    }

    fn connect(&self, s: &Socket, to: &SockAddr) -> Result<(), Outcome> {
        connect_with_sndtimeo(s, to, |e| self.outcome_of(e))
    }

    fn outcome_of(&self, e: &io::Error) -> Outcome {
        super::unix::outcome_of(e)
    }
}
