//! Executors run cases for real: one [`Executor`] trait, a portable core on
//! socket2 ([`core`]), and one file per OS for what differs there (chosen
//! once below): isolation (network namespaces on Linux), sockets of another
//! user, error numbers, and options the OS lacks.
//!
//! Each OS file provides:
//! - `host_platform()`: the platform of the host model (Windows: `wine`
//!   when the binary finds itself running under Wine);
//! - `Host`: the [`core::HostOps`] of this OS;
//! - `prepare_process(&Isolation) -> Result<Prepared, ExecError>`: called once
//!   on the main thread before any other thread exists;
//! - `fingerprint() -> Fingerprint` parts that only the OS knows.
//!
//! Executors are not `Send`: each lives on the thread that made it (on Linux
//! its network namespace belongs to that thread).

pub mod core;
pub mod ports;
pub mod trace;
#[cfg(unix)]
mod unix;

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod os;

#[cfg(any(target_os = "freebsd", target_os = "macos"))]
#[path = "bsd.rs"]
mod os;

#[cfg(windows)]
#[path = "windows.rs"]
mod os;

#[cfg(not(any(target_os = "linux", target_os = "freebsd", target_os = "macos", windows)))]
compile_error!("sockdiff runs on Linux, FreeBSD, macOS and Windows");

pub use os::{host_platform, host_settings, prepare_process};

/// The version of Wine this Windows build runs under (`8.0`), if it does.
pub fn wine_version() -> Option<String> {
    #[cfg(windows)]
    {
        os::wine_version()
    }
    #[cfg(not(windows))]
    {
        None
    }
}

/// Who this host is, for fingerprints and the host model's version.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostIdentity {
    /// `Linux`, `FreeBSD`, `Darwin`, `Windows`.
    pub os: String,
    /// Release (`6.18.44-…`, `14.1-RELEASE`, `10.0.19045`).
    pub release: String,
    /// Kernel or build string (`#1 SMP PREEMPT_DYNAMIC …`, build number).
    pub build: String,
    /// Machine architecture.
    pub arch: String,
}

/// The peak resident memory of this process, in bytes.
pub fn max_rss_bytes() -> u64 {
    #[cfg(unix)]
    {
        unix::max_rss_bytes()
    }
    #[cfg(windows)]
    {
        os::max_rss_bytes()
    }
}

/// The process's limit of open file descriptors (`ulimit -n`), where the
/// OS has one.
pub fn fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut r = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes one rlimit. (rlim_t is u64 on Linux, not on every Unix.)
        #[allow(clippy::unnecessary_cast)]
        (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0).then_some(r.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// This host's identity.
pub fn host_identity() -> HostIdentity {
    #[cfg(unix)]
    {
        unix::uname()
    }
    #[cfg(windows)]
    {
        os::identity()
    }
}

use crate::case::Op;
use crate::outcome::Outcome;
use std::fmt;

/// How live runs are isolated from the rest of the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// A private network namespace per worker (Linux): the default.
    PrivateNetns,
    /// The host's own network stack (`--no-netns`, or an OS without namespaces).
    Host,
}

/// What `prepare_process` found out.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub isolation: Isolation,
    /// Sockets of a second user can be made (`as other`); if not, why.
    pub other_user: Result<u32, String>,
    /// Warnings to print once (for example: running in the host namespace).
    pub warnings: Vec<String>,
}

/// A setup failure: the tool cannot run cases at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecError(pub String);

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ExecError {}

/// The result of one statement run for real.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepResult {
    pub outcome: Outcome,
    /// After a successful bind, and after any listen or connect (a failed
    /// one may have taken a port too): the local port the socket reports,
    /// so the model can use real ephemeral ports.
    pub local_port: Option<u16>,
}

/// Runs statements of one case at a time on this host.
pub trait Executor {
    /// Starts a case: chooses fresh concrete ports for the symbols it uses,
    /// and a clean network namespace when one is needed.
    fn begin(&mut self, prog: &crate::case::Program) -> Result<(), ExecError>;

    /// The concrete port of symbol `P<n>` in the current case.
    fn sym_port(&self, n: u8) -> u16;

    /// Runs one statement. `port` is the concrete port of bind, connect and
    /// probe (0 for port 0). `settle`: the model expects work the kernel
    /// finishes asynchronously (a queued connection for `accept`, a
    /// delivered probe) to be done; the executor then gives it up to
    /// [`core::SETTLE`] before taking "nothing there" as the answer. It
    /// never changes what the kernel answers, only how long it is given.
    fn step(&mut self, op: &Op, port: u16, settle: bool) -> StepResult;

    /// Ends the case: closes every socket without leaving TIME_WAIT behind.
    fn end(&mut self);

    /// Whether this executor can run `probe`.
    fn supports_probe(&self) -> bool;

    /// Whether the last case met what an earlier case left behind (a port
    /// the OS gave it may hold an earlier case's TIME_WAIT): its outcomes
    /// are not to be trusted, and it runs again after [`Executor::fresh`].
    fn tainted(&self) -> bool;

    /// A clean network stack for the next case (a new namespace on Linux).
    fn fresh(&mut self) -> Result<(), ExecError>;

    /// Records the system calls of each case from now on (or stops).
    fn record(&mut self, on: bool);

    /// The system calls of the last case, if recording.
    fn take_trace(&mut self) -> Option<trace::CaseTrace>;

    /// How long this executor has waited for late kernel work (settle).
    fn waited(&self) -> std::time::Duration;

    /// Makes a recorded case's system calls again, on fresh ports, with
    /// nothing else: the floor of `bench`. Returns how many calls it made.
    fn replay(&mut self, t: &trace::CaseTrace) -> Result<u64, ExecError>;
}

/// Makes the executor of this host for one worker thread. `worker` of
/// `workers` selects this worker's share of the port range.
pub fn new_executor(prep: &Prepared, worker: usize, workers: usize) -> Result<Box<dyn Executor>, ExecError> {
    let host = os::Host::new(prep, worker, workers)?;
    Ok(Box::new(core::SocketExec::new(host)))
}
