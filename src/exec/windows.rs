//! Windows: no network namespaces, so live runs use the host's stack with
//! symbolic ports taken below the dynamic range (49152-65535) and never
//! reused within 65 s. SO_EXCLUSIVEADDRUSE is set raw (socket2 lacks it);
//! WSA error codes map to docs/interface.md#outcomes names. `as other` needs a second account:
//! given one (SOCKDIFF_OTHER_USER, SOCKDIFF_OTHER_PASSWORD) such sockets are
//! created while impersonating it, else such cases are skipped. Under Wine (ntdll exports `wine_get_version`) the host
//! model is `wine` and the fingerprint says so.

use super::core::{CONNECT_TIMEOUT, HostOps, domain_type};
use super::ports::PortPool;
use super::{ExecError, HostIdentity, Isolation, Prepared};
use crate::case::{Kind, SockOpt};
use crate::model::HostSettings;
use crate::outcome::{Errno, Outcome};
use crate::platform::Platform;
use socket2::{SockAddr, Socket};
use std::ffi::CStr;
use std::io;
use std::os::windows::io::AsRawSocket;
use std::time::Duration;
use windows_sys::Win32::Networking::WinSock as ws;
use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleA, GetProcAddress};
use windows_sys::Win32::System::SystemInformation::OSVERSIONINFOW;

/// Symbolic ports: above the well-known ports, below Windows' dynamic
/// range (49152 and up).
const PORTS: (u16, u16) = (20000, 49152);
/// Under Wine the ephemeral ports are Linux's (32768 and up by default): a
/// symbolic port there could be the port a connect picks, and the case
/// would connect to itself. Below it, from 10000 (above most services).
const WINE_PORTS: (u16, u16) = (10000, 32768);

/// The platform whose model describes this host: `wine` under Wine.
pub fn host_platform() -> Platform {
    if wine_version().is_some() { Platform::Wine } else { Platform::Windows }
}

/// An export of ntdll.dll, if it has it.
fn ntdll_export(name: &CStr) -> Option<unsafe extern "system" fn() -> isize> {
    // SAFETY: both names are NUL-terminated; ntdll is loaded in every process.
    unsafe {
        let ntdll = GetModuleHandleA(c"ntdll.dll".as_ptr().cast());
        if ntdll.is_null() {
            return None;
        }
        GetProcAddress(ntdll, name.as_ptr().cast())
    }
}

/// Wine's version (`8.0`) if this process runs under Wine: Wine's ntdll
/// exports `wine_get_version`, Windows' does not.
pub fn wine_version() -> Option<String> {
    let f = ntdll_export(c"wine_get_version")?;
    // SAFETY: wine_get_version takes no arguments and returns a static C string.
    let text = unsafe {
        let get: unsafe extern "C" fn() -> *const std::ffi::c_char = std::mem::transmute(f);
        let p = get();
        if p.is_null() {
            return Some(String::new());
        }
        CStr::from_ptr(p).to_string_lossy().into_owned()
    };
    // Keep the numeric part (`8.0` of `8.0-rc1`).
    let end = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    Some(text[..end].trim_end_matches('.').to_string())
}

/// Major, minor and build number from RtlGetVersion (GetVersionEx lies to
/// programs without a manifest).
fn windows_version() -> Option<(u32, u32, u32)> {
    let f = ntdll_export(c"RtlGetVersion")?;
    let mut info: OSVERSIONINFOW = unsafe { std::mem::zeroed() };
    info.dwOSVersionInfoSize = std::mem::size_of::<OSVERSIONINFOW>() as u32;
    // SAFETY: RtlGetVersion(PRTL_OSVERSIONINFOW) -> NTSTATUS fills the struct.
    let status = unsafe {
        let get: unsafe extern "system" fn(*mut OSVERSIONINFOW) -> i32 = std::mem::transmute(f);
        get(&mut info)
    };
    (status == 0).then_some((info.dwMajorVersion, info.dwMinorVersion, info.dwBuildNumber))
}

/// Nothing to prepare: Windows has no network namespaces.
pub fn prepare_process(iso: &Isolation) -> Result<Prepared, ExecError> {
    let mut warnings = Vec::new();
    if *iso == Isolation::PrivateNetns && wine_version().is_none() {
        warnings.push(
            "Windows has no network namespaces: cases run on the host's own stack (run on an otherwise idle machine; see the README)"
                .into(),
        );
    }
    Ok(Prepared { isolation: Isolation::Host, other_user: OtherUser::logon().map(|_| 0), warnings })
}

/// The models know Windows' defaults; nothing is read here.
pub fn host_settings(_prep: &Prepared) -> HostSettings {
    HostSettings::default()
}

/// Identity of this Windows host: `Windows` (or `Windows (Wine 8.0)`),
/// release `10.0.19045`, build number.
pub fn identity() -> HostIdentity {
    let (release, build) = match windows_version() {
        Some((major, minor, build)) => (format!("{major}.{minor}.{build}"), build.to_string()),
        None => (String::new(), String::new()),
    };
    let os = match wine_version() {
        Some(v) => format!("Windows (Wine {v})"),
        None => "Windows".into(),
    };
    HostIdentity { os, release, build, arch: std::env::consts::ARCH.into() }
}

/// A logon of the second account for `as other`.
struct OtherUser(windows_sys::Win32::Foundation::HANDLE);

impl OtherUser {
    /// Logs the account of SOCKDIFF_OTHER_USER (`user` or `DOMAIN\user`)
    /// on with SOCKDIFF_OTHER_PASSWORD, or says why it cannot.
    fn logon() -> Result<OtherUser, String> {
        use windows_sys::Win32::Security::{LOGON32_LOGON_INTERACTIVE, LOGON32_PROVIDER_DEFAULT, LogonUserW};
        let Ok(user) = std::env::var("SOCKDIFF_OTHER_USER") else {
            return Err("'as other' needs a second Windows account: set SOCKDIFF_OTHER_USER (user or DOMAIN\\user) and SOCKDIFF_OTHER_PASSWORD".into());
        };
        let password = std::env::var("SOCKDIFF_OTHER_PASSWORD").unwrap_or_default();
        let (domain, name) = user.split_once('\\').unwrap_or((".", user.as_str()));
        let wide = |s: &str| s.encode_utf16().chain([0]).collect::<Vec<u16>>();
        let (n, d, p) = (wide(name), wide(domain), wide(&password));
        let mut token = std::ptr::null_mut();
        // SAFETY: NUL-terminated UTF-16 strings; token receives a handle.
        let ok = unsafe {
            LogonUserW(
                n.as_ptr(),
                d.as_ptr(),
                p.as_ptr(),
                LOGON32_LOGON_INTERACTIVE,
                LOGON32_PROVIDER_DEFAULT,
                &mut token,
            )
        };
        if ok == 0 {
            return Err(format!("'as other': cannot log {user} on: {}", io::Error::last_os_error()));
        }
        Ok(OtherUser(token))
    }

    /// Runs `f` as this account (on the calling thread only).
    fn run<T>(&self, f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
        use windows_sys::Win32::Security::{ImpersonateLoggedOnUser, RevertToSelf};
        // SAFETY: the token is a live logon token; RevertToSelf ends it.
        if unsafe { ImpersonateLoggedOnUser(self.0) } == 0 {
            return Err(io::Error::last_os_error());
        }
        let r = f();
        unsafe { RevertToSelf() };
        r
    }
}

impl Drop for OtherUser {
    fn drop(&mut self) {
        // SAFETY: the handle came from LogonUserW and is closed once.
        unsafe { windows_sys::Win32::Foundation::CloseHandle(self.0) };
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
    other: Option<OtherUser>,
    /// Running under Wine: no initial-RTO ioctl (Wine lacks it), so its
    /// behaviour stays as it was.
    wine: bool,
}

impl Host {
    pub fn new(prep: &Prepared, worker: usize, workers: usize) -> Result<Host, ExecError> {
        let other = match prep.other_user {
            Ok(_) => Some(OtherUser::logon().map_err(ExecError)?),
            Err(_) => None,
        };
        let wine = wine_version().is_some();
        let (lo, hi) = if wine { WINE_PORTS } else { PORTS };
        Ok(Host { pool: PortPool::new(lo, hi, worker, workers, true), other, wine })
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

/// Asks Windows not to send a SYN again after the first one (`SIO_TCP_INITIAL_RTO`
/// with `MaxSynRetransmissions` = `TCP_INITIAL_RTO_NO_SYN_RETRANSMISSIONS`,
/// the initial RTT left at the system's default). Windows answers a
/// reset to its SYN by trying again, about 2 s in all on loopback, so a
/// connect refused there could outlast the 2 s bound of
/// docs/interface.md#outcomes and read as ETIMEDOUT; with no retries the
/// refusal comes back at once. Windows 10 1703 and later have the ioctl; where it
/// fails (older Windows, a non-TCP socket) nothing changes and the
/// failure is ignored: the connect runs as before.
fn no_syn_retries(s: &Socket) {
    let params = ws::TCP_INITIAL_RTO_PARAMETERS {
        Rtt: ws::TCP_INITIAL_RTO_DEFAULT_RTT as u16,
        // The SDK's value is (UCHAR)-2; windows-sys writes it as a u16.
        MaxSynRetransmissions: ws::TCP_INITIAL_RTO_NO_SYN_RETRANSMISSIONS as u8,
    };
    let mut returned = 0u32;
    // SAFETY: a valid socket, an input buffer of the documented type and
    // size, no output buffer, no overlapped I/O (a blocking call).
    let _ = unsafe {
        ws::WSAIoctl(
            s.as_raw_socket() as ws::SOCKET,
            ws::SIO_TCP_INITIAL_RTO,
            &params as *const ws::TCP_INITIAL_RTO_PARAMETERS as *const core::ffi::c_void,
            std::mem::size_of::<ws::TCP_INITIAL_RTO_PARAMETERS>() as u32,
            std::ptr::null_mut(),
            0,
            &mut returned,
            std::ptr::null_mut(),
            None,
        )
    };
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
        (ws::WSAENETRESET, ENETRESET),
        (ws::WSAELOOP, ELOOP),
        (ws::WSAENAMETOOLONG, ENAMETOOLONG),
        (ws::WSAENOTEMPTY, ENOTEMPTY),
        (ws::WSAETOOMANYREFS, ETOOMANYREFS),
        (ws::WSAEUSERS, EUSERS),
        (ws::WSAEDQUOT, EDQUOT),
        (ws::WSAESTALE, ESTALE),
        (ws::WSAEREMOTE, EREMOTE),
        // The rest (WSAEPROCLIM, WSASYSNOTREADY, WSANOTINITIALISED, …) have
        // no POSIX name: they are written OS<number>.
    ]
}

impl HostOps for Host {
    fn begin_case(&mut self, _syms: usize) -> Result<(), ExecError> {
        Ok(())
    }

    fn take_port(&mut self) -> Result<u16, ExecError> {
        self.pool.take().ok_or_else(|| ExecError("no ports to run cases on".into()))
    }

    fn socket(&mut self, kind: Kind, other: bool) -> io::Result<Socket> {
        let (d, t) = domain_type(kind);
        match (other, &self.other) {
            (false, _) => Socket::new(d, t, None),
            (true, Some(user)) => user.run(|| Socket::new(d, t, None)),
            (true, None) => Err(io::Error::from_raw_os_error(ws::WSAEACCES)),
        }
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
        // A refused connect must come back inside the bound (not under Wine,
        // which lacks the ioctl: its behaviour stays as it was).
        if !self.wine && s.r#type().is_ok_and(|t| t == socket2::Type::STREAM) {
            no_syn_retries(s);
        }
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
}
