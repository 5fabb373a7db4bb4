//! Windows: no network namespaces, so live runs use the host's stack with
//! symbolic ports taken below the dynamic range (49152-65535) and never
//! reused within 65 s. SO_EXCLUSIVEADDRUSE is set raw (socket2 lacks it);
//! WSA error codes map to SPEC §3 names. `as other` needs a second account
//! and is skipped.

use super::core::{CONNECT_TIMEOUT, HostOps, domain_type};
use super::ports::PortPool;
use super::{ExecError, HostIdentity, Isolation, Prepared};
use crate::case::{Kind, SockOpt};
use crate::model::HostSettings;
use crate::outcome::{Errno, Outcome};
use crate::platform::Platform;
use socket2::{SockAddr, Socket};
use std::io;
use std::os::windows::io::AsRawSocket;
use std::time::Duration;
use windows_sys::Win32::Networking::WinSock as ws;

/// The platform whose model describes this host.
pub const HOST_PLATFORM: Platform = Platform::Windows;

/// Symbolic ports: above the well-known ports, below the dynamic range.
const PORTS: (u16, u16) = (20000, 49152);

/// Nothing to prepare: Windows has no network namespaces.
pub fn prepare_process(iso: &Isolation) -> Result<Prepared, ExecError> {
    let mut warnings = Vec::new();
    if *iso == Isolation::PrivateNetns {
        warnings.push(
            "Windows has no network namespaces: cases run on the host's own stack (run on an otherwise idle machine)"
                .into(),
        );
    }
    Ok(Prepared {
        isolation: Isolation::Host,
        other_user: Err("'as other' needs a second Windows account, which sockdiff does not have".into()),
        warnings,
    })
}

/// The models know Windows' defaults; nothing is read here.
pub fn host_settings(_prep: &Prepared) -> HostSettings {
    HostSettings::default()
}

/// Identity of this Windows host.
pub fn identity() -> HostIdentity {
    HostIdentity {
        os: "Windows".into(),
        release: std::env::var("OS").unwrap_or_default(),
        build: String::new(),
        arch: std::env::consts::ARCH.into(),
    }
}

/// Peak working set of this process, in bytes.
pub fn max_rss_bytes() -> u64 {
    use windows_sys::Win32::System::ProcessStatus::{GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS};
    use windows_sys::Win32::System::Threading::GetCurrentProcess;
    let mut c: PROCESS_MEMORY_COUNTERS = unsafe { std::mem::zeroed() };
    c.cb = std::mem::size_of::<PROCESS_MEMORY_COUNTERS>() as u32;
    if unsafe { GetProcessMemoryInfo(GetCurrentProcess(), &mut c, c.cb) } == 0 {
        return 0;
    }
    c.PeakWorkingSetSize as u64
}

/// The host side of the Windows executor.
pub struct Host {
    pool: PortPool,
}

impl Host {
    pub fn new(_prep: &Prepared, worker: usize, workers: usize) -> Result<Host, ExecError> {
        Ok(Host { pool: PortPool::new(PORTS.0, PORTS.1, worker, workers, true) })
    }
}

fn set_exclusive(s: &Socket, on: bool) -> io::Result<()> {
    let v: i32 = on as i32;
    let r = unsafe {
        ws::setsockopt(
            s.as_raw_socket() as ws::SOCKET,
            ws::SOL_SOCKET,
            ws::SO_EXCLUSIVEADDRUSE,
            &v as *const i32 as *const u8,
            std::mem::size_of::<i32>() as i32,
        )
    };
    if r == 0 { Ok(()) } else { Err(io::Error::from_raw_os_error(unsafe { ws::WSAGetLastError() })) }
}

/// WSA error codes and their POSIX names.
fn table() -> &'static [(i32, Errno)] {
    use Errno::*;
    &[
        (ws::WSAEACCES, EACCES),
        (ws::WSAEADDRINUSE, EADDRINUSE),
        (ws::WSAEADDRNOTAVAIL, EADDRNOTAVAIL),
        (ws::WSAEAFNOSUPPORT, EAFNOSUPPORT),
        (ws::WSAEWOULDBLOCK, EAGAIN),
        (ws::WSAEALREADY, EALREADY),
        (ws::WSAEBADF, EBADF),
        (ws::WSAENOTSOCK, ENOTSOCK),
        (ws::WSAECONNABORTED, ECONNABORTED),
        (ws::WSAECONNREFUSED, ECONNREFUSED),
        (ws::WSAECONNRESET, ECONNRESET),
        (ws::WSAEDESTADDRREQ, EDESTADDRREQ),
        (ws::WSAEFAULT, EFAULT),
        (ws::WSAEHOSTDOWN, EHOSTDOWN),
        (ws::WSAEHOSTUNREACH, EHOSTUNREACH),
        (ws::WSAEINPROGRESS, EINPROGRESS),
        (ws::WSAEINTR, EINTR),
        (ws::WSAEINVAL, EINVAL),
        (ws::WSAEISCONN, EISCONN),
        (ws::WSAEMFILE, EMFILE),
        (ws::WSAEMSGSIZE, EMSGSIZE),
        (ws::WSAENETDOWN, ENETDOWN),
        (ws::WSAENETUNREACH, ENETUNREACH),
        (ws::WSAENOBUFS, ENOBUFS),
        (ws::WSAENOPROTOOPT, ENOPROTOOPT),
        (ws::WSAENOTCONN, ENOTCONN),
        (ws::WSAEOPNOTSUPP, EOPNOTSUPP),
        (ws::WSAEPFNOSUPPORT, EPFNOSUPPORT),
        (ws::WSAEPROTONOSUPPORT, EPROTONOSUPPORT),
        (ws::WSAEPROTOTYPE, EPROTOTYPE),
        (ws::WSAESHUTDOWN, ESHUTDOWN),
        (ws::WSAESOCKTNOSUPPORT, ESOCKTNOSUPPORT),
        (ws::WSAETIMEDOUT, ETIMEDOUT),
    ]
}

impl HostOps for Host {
    fn begin_case(&mut self, _port_refs: bool, _syms: usize) -> Result<(), ExecError> {
        Ok(())
    }

    fn take_port(&mut self) -> Result<u16, ExecError> {
        self.pool.take().ok_or_else(|| ExecError("no ports to run cases on".into()))
    }

    fn socket(&mut self, kind: Kind, other: bool) -> io::Result<Socket> {
        if other {
            return Err(io::Error::from_raw_os_error(ws::WSAEACCES));
        }
        let (d, t) = domain_type(kind);
        Socket::new(d, t, None)
    }

    fn set_option(&self, s: &Socket, opt: SockOpt, on: bool) -> Result<(), Outcome> {
        let r = match opt {
            SockOpt::ReuseAddr => s.set_reuse_address(on),
            SockOpt::ExclusiveAddrUse => set_exclusive(s, on),
            SockOpt::V6Only => s.set_only_v6(on),
            SockOpt::Linger0 => s.set_linger(on.then_some(Duration::ZERO)),
            // Windows has no constant for these: never passed to the OS.
            SockOpt::ReusePort | SockOpt::ReusePortLb => return Err(Outcome::Err(Errno::ENOPROTOOPT)),
        };
        r.map_err(|e| self.outcome_of(&e))
    }

    fn connect(&self, s: &Socket, to: &SockAddr) -> Result<(), Outcome> {
        // SO_SNDTIMEO does not bound connect on Windows: wait on the socket.
        let r = s.connect_timeout(to, CONNECT_TIMEOUT);
        let restore = s.set_nonblocking(true);
        match r {
            Ok(()) => restore.map_err(|e| self.outcome_of(&e)),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => Err(Outcome::Err(Errno::ETIMEDOUT)),
            Err(e) => Err(self.outcome_of(&e)),
        }
    }

    fn outcome_of(&self, e: &io::Error) -> Outcome {
        match e.raw_os_error() {
            Some(n) => table().iter().find(|(k, _)| *k == n).map(|(_, e)| Outcome::Err(*e)).unwrap_or(Outcome::Os(n)),
            None => Outcome::Err(Errno::EINVAL),
        }
    }

    fn note_leftover(&mut self) {}
}
