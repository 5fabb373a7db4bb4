//! The portable part of every executor: runs statements with socket2 as
//! docs/interface.md#outcomes says (blocking connect bounded by a 2 s send timeout,
//! non-blocking accept) and leaves OS matters to a [`HostOps`].

use super::{ExecError, Executor, StepResult};
use crate::case::{Addr, Kind, Op, Program, Proto, Slot, SockOpt};
use crate::outcome::{Errno, Outcome};
use socket2::{Domain, SockAddr, Socket, Type};
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// How long a `connect` may take before it is `ETIMEDOUT`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Backlog passed to `listen`.
pub const BACKLOG: i32 = 128;

/// What each OS file provides to the portable executor.
pub trait HostOps {
    /// Called before each case. `port_refs`: the case binds or connects to
    /// `@NAME` ports (so leftovers on ephemeral ports would matter);
    /// `syms`: how many symbolic ports it needs.
    fn begin_case(&mut self, port_refs: bool, syms: usize) -> Result<(), ExecError>;

    /// A fresh concrete port for a symbol.
    fn take_port(&mut self) -> Result<u16, ExecError>;

    /// Creates a socket, as the second user if `other`.
    fn socket(&mut self, kind: Kind, other: bool) -> io::Result<Socket>;

    /// Sets an option; `Err` is the outcome of a refusal (including an
    /// option the OS lacks, which never reaches the kernel).
    fn set_option(&self, s: &Socket, opt: SockOpt, on: bool) -> Result<(), Outcome>;

    /// Connects, blocking for at most [`CONNECT_TIMEOUT`].
    fn connect(&self, s: &Socket, to: &SockAddr) -> Result<(), Outcome>;

    /// The outcome of an OS error.
    fn outcome_of(&self, e: &io::Error) -> Outcome;

    /// A connected TCP socket was closed without linger0: it may leave
    /// TIME_WAIT on its port.
    fn note_leftover(&mut self);
}

struct Held {
    sock: Socket,
    kind: Kind,
    connected: bool,
    linger0: bool,
    listening: bool,
    /// Connections a probe took off this listener's queue while looking
    /// for its own, oldest first: `accept` hands them out before asking the
    /// kernel, and closing the listener resets them as the kernel resets
    /// its queue.
    taken: VecDeque<(Socket, bool)>,
}

impl Held {
    fn new(sock: Socket, kind: Kind, connected: bool, linger0: bool) -> Held {
        Held { sock, kind, connected, linger0, listening: false, taken: VecDeque::new() }
    }
}

/// How long a udp probe waits for its datagram at most when nobody is
/// expected to get it (loopback delivers at once; an ICMP error tells
/// "nobody" earlier).
pub const PROBE_WAIT: Duration = Duration::from_millis(50);

/// How long asynchronous kernel work (softirq processing of a handshake's
/// last ACK, of a datagram) gets when the model expects it done: under
/// heavy load it can run late.
pub const SETTLE: Duration = Duration::from_millis(200);

/// The executor: a [`HostOps`] plus the sockets of the current case.
pub struct SocketExec<H: HostOps> {
    host: H,
    socks: Vec<Option<Held>>,
    names: Vec<crate::case::Name>,
    syms: [u16; 10],
    /// Numbers the probes' datagrams, so a late one is never taken for another.
    probes: u64,
}

impl<H: HostOps> SocketExec<H> {
    pub fn new(host: H) -> SocketExec<H> {
        SocketExec { host, socks: Vec::new(), names: Vec::new(), syms: [0; 10], probes: 0 }
    }

    fn held(&self, slot: Slot) -> Option<&Held> {
        self.socks.get(slot as usize).and_then(|h| h.as_ref())
    }

    fn result(&self, r: io::Result<()>) -> Outcome {
        match r {
            Ok(()) => Outcome::Ok,
            Err(e) => self.host.outcome_of(&e),
        }
    }
}

fn local_port(s: &Socket) -> Option<u16> {
    s.local_addr().ok().and_then(|a| a.as_socket()).map(|a| a.port()).filter(|&p| p != 0)
}

/// The sockaddr of a language address and a concrete port.
pub fn sockaddr(addr: Addr, port: u16) -> SockAddr {
    SockAddr::from(SocketAddr::new(addr.ip(), port))
}

/// socket2 domain and type of a kind.
pub fn domain_type(kind: Kind) -> (Domain, Type) {
    let d = match kind.family {
        crate::case::Family::V4 => Domain::IPV4,
        crate::case::Family::V6 => Domain::IPV6,
    };
    let t = match kind.proto {
        Proto::Tcp => Type::STREAM,
        Proto::Udp => Type::DGRAM,
    };
    (d, t)
}

/// Blocking connect bounded by SO_SNDTIMEO (Unix). A connect cut short by
/// the timeout reports EINPROGRESS or EAGAIN, which docs/interface.md#outcomes calls ETIMEDOUT.
pub fn connect_with_sndtimeo(
    s: &Socket,
    to: &SockAddr,
    outcome_of: impl Fn(&io::Error) -> Outcome,
) -> Result<(), Outcome> {
    s.set_nonblocking(false).map_err(|e| outcome_of(&e))?;
    let r = s.set_write_timeout(Some(CONNECT_TIMEOUT)).and_then(|_| s.connect(to));
    let restore = s.set_nonblocking(true);
    match r {
        Ok(()) => restore.map_err(|e| outcome_of(&e)),
        Err(e) => match outcome_of(&e) {
            Outcome::Err(Errno::EINPROGRESS) | Outcome::Err(Errno::EAGAIN) => Err(Outcome::Err(Errno::ETIMEDOUT)),
            o => Err(o),
        },
    }
}

/// Closes the connections a probe took off a listener's queue the way the
/// kernel closes a queue when its listener goes: with a RST.
fn reset_taken(h: &mut Held) {
    for (s, _) in h.taken.drain(..) {
        let _ = s.set_linger(Some(Duration::ZERO));
    }
}

/// The same endpoint, whether written as IPv4 or v4-mapped IPv6.
fn same_endpoint(a: &SockAddr, b: &SockAddr) -> bool {
    match (a.as_socket(), b.as_socket()) {
        (Some(a), Some(b)) => a.port() == b.port() && a.ip().to_canonical() == b.ip().to_canonical(),
        _ => false,
    }
}

impl<H: HostOps> SocketExec<H> {
    fn name_of(&self, slot: usize) -> Outcome {
        self.names.get(slot).map(|n| Outcome::To(n.clone())).unwrap_or(Outcome::ToNone)
    }

    /// A fresh socket of `kind` sends one datagram or opens one connection
    /// to `addr:port`; the outcome names the case socket that got it.
    fn probe(&mut self, kind: Kind, addr: Addr, port: u16, settle: bool) -> Outcome {
        let mut prober = match self.host.socket(kind, false) {
            Ok(s) => s,
            Err(e) => return self.host.outcome_of(&e),
        };
        let to = sockaddr(addr, port);
        match kind.proto {
            Proto::Tcp => {
                if let Err(o) = self.host.connect(&prober, &to) {
                    return o;
                }
                // Rarely the kernel gives the prober the destination's port
                // number as its own and it connects to itself: that measures
                // nothing about the case, so take a new prober.
                for _ in 0..3 {
                    let me = prober.local_addr().ok();
                    if !me.is_some_and(|me| same_endpoint(&me, &to)) {
                        break;
                    }
                    let _ = prober.set_linger(Some(Duration::ZERO));
                    prober = match self.host.socket(kind, false) {
                        Ok(s) => s,
                        Err(e) => return self.host.outcome_of(&e),
                    };
                    if let Err(o) = self.host.connect(&prober, &to) {
                        return o;
                    }
                }
                let Ok(me) = prober.local_addr() else { return Outcome::ToNone };
                let mut found: Option<(usize, Socket)> = None;
                let t0 = std::time::Instant::now();
                loop {
                    for (slot, h) in self.socks.iter_mut().enumerate() {
                        let Some(h) = h.as_mut().filter(|h| h.listening && h.kind.proto == Proto::Tcp) else {
                            continue;
                        };
                        // Take everything queued, keeping the case's own
                        // connections in order for its later accepts.
                        while let Ok((s, peer)) = h.sock.accept() {
                            if found.is_none() && same_endpoint(&peer, &me) {
                                found = Some((slot, s));
                            } else {
                                h.taken.push_back((s, h.linger0));
                            }
                        }
                    }
                    if found.is_some() || !settle || t0.elapsed() > SETTLE {
                        break;
                    }
                    std::thread::sleep(Duration::from_micros(200));
                }
                // The prober closes first: TIME_WAIT falls on its own port.
                drop(prober);
                self.host.note_leftover();
                match found {
                    Some((slot, conn)) => {
                        drop(conn);
                        self.name_of(slot)
                    }
                    None => Outcome::ToNone,
                }
            }
            Proto::Udp => {
                self.probes += 1;
                let token = format!("sockdiff probe {:x}.{}", std::process::id(), self.probes);
                if let Err(e) = prober.connect(&to).and_then(|_| prober.send(token.as_bytes())) {
                    return self.host.outcome_of(&e);
                }
                let t0 = std::time::Instant::now();
                let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 64];
                loop {
                    let mut got = Vec::new();
                    for (slot, h) in self.socks.iter().enumerate() {
                        let Some(h) = h.as_ref().filter(|h| h.kind.proto == Proto::Udp) else { continue };
                        // Drain the queue; only this probe's datagram counts.
                        while let Ok(n) = h.sock.recv(&mut buf) {
                            let bytes: Vec<u8> = buf[..n].iter().map(|b| unsafe { b.assume_init() }).collect();
                            if bytes == token.as_bytes() {
                                got.push(slot);
                            }
                        }
                    }
                    match got.as_slice() {
                        [one] => return self.name_of(*one),
                        [] => {}
                        _ => return Outcome::ToNone,
                    }
                    // Port unreachable came back: nobody has it.
                    if let Ok(Some(_)) = prober.take_error() {
                        return Outcome::ToNone;
                    }
                    if t0.elapsed() > if settle { SETTLE } else { PROBE_WAIT } {
                        return Outcome::ToNone;
                    }
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
        }
    }
}

impl<H: HostOps> Executor for SocketExec<H> {
    fn begin(&mut self, prog: &Program) -> Result<(), ExecError> {
        self.end();
        self.socks.clear();
        self.socks.resize_with(prog.slots(), || None);
        self.names = prog.names.clone();
        let mut used = [false; 10];
        let mut refs = false;
        for op in &prog.ops {
            match op.port() {
                Some(crate::case::PortRef::Sym(n)) => used[n as usize] = true,
                Some(crate::case::PortRef::Of(_)) => refs = true,
                _ => {}
            }
        }
        self.host.begin_case(refs, used.iter().filter(|u| **u).count())?;
        for (n, u) in used.iter().enumerate() {
            self.syms[n] = if *u { self.host.take_port()? } else { 0 };
        }
        Ok(())
    }

    fn sym_port(&self, n: u8) -> u16 {
        self.syms[n as usize]
    }

    fn step(&mut self, op: &Op, port: u16, settle: bool) -> StepResult {
        let ebadf = StepResult { outcome: Outcome::Err(Errno::EBADF), local_port: None };
        let plain = |outcome| StepResult { outcome, local_port: None };
        match *op {
            Op::Socket { slot, kind, other } => match self.host.socket(kind, other) {
                Ok(sock) => {
                    let r = sock.set_nonblocking(true);
                    self.socks[slot as usize] = Some(Held::new(sock, kind, false, false));
                    plain(self.result(r))
                }
                Err(e) => plain(self.host.outcome_of(&e)),
            },
            Op::Set { slot, opt, on } => {
                let Some(h) = self.held(slot) else { return ebadf };
                let outcome = match self.host.set_option(&h.sock, opt, on) {
                    Ok(()) => Outcome::Ok,
                    Err(o) => o,
                };
                if opt == SockOpt::Linger0 && outcome.is_ok() {
                    if let Some(h) = self.socks[slot as usize].as_mut() {
                        h.linger0 = on;
                    }
                }
                plain(outcome)
            }
            Op::Bind { slot, addr, .. } => {
                let Some(h) = self.held(slot) else { return ebadf };
                let r = h.sock.bind(&sockaddr(addr, port));
                let local = if r.is_ok() { local_port(&h.sock) } else { None };
                StepResult { outcome: self.result(r), local_port: local }
            }
            Op::Listen { slot } => {
                let Some(h) = self.held(slot) else { return ebadf };
                let r = h.sock.listen(BACKLOG);
                // Even a failed listen may have taken a port (Linux role-lock).
                let local = local_port(&h.sock);
                if r.is_ok() {
                    if let Some(h) = self.socks[slot as usize].as_mut() {
                        h.listening = true;
                    }
                }
                StepResult { outcome: self.result(r), local_port: local }
            }
            Op::Connect { slot, addr, .. } => {
                let Some(h) = self.held(slot) else { return ebadf };
                let r = self.host.connect(&h.sock, &sockaddr(addr, port));
                // Even a failed connect may have bound the socket (UDP).
                let local = local_port(&h.sock);
                let ok = r.is_ok() && h.kind.proto == Proto::Tcp;
                if ok {
                    if let Some(h) = self.socks[slot as usize].as_mut() {
                        h.connected = true;
                    }
                }
                StepResult { outcome: r.err().unwrap_or(Outcome::Ok), local_port: local }
            }
            Op::Accept { slot, listener } => {
                let Some(l) = self.socks.get_mut(listener as usize).and_then(|h| h.as_mut()) else { return ebadf };
                let kind = l.kind;
                if let Some((sock, linger0)) = l.taken.pop_front() {
                    self.socks[slot as usize] = Some(Held::new(sock, kind, true, linger0));
                    return plain(Outcome::Ok);
                }
                let linger0 = l.linger0;
                let t0 = std::time::Instant::now();
                let mut r = l.sock.accept();
                while settle
                    && t0.elapsed() < SETTLE
                    && r.as_ref().is_err_and(|e| e.kind() == io::ErrorKind::WouldBlock)
                {
                    std::thread::sleep(Duration::from_micros(200));
                    r = l.sock.accept();
                }
                match r {
                    Ok((sock, _)) => {
                        let r = sock.set_nonblocking(true);
                        self.socks[slot as usize] = Some(Held::new(sock, kind, true, linger0));
                        plain(self.result(r))
                    }
                    Err(e) => plain(self.host.outcome_of(&e)),
                }
            }
            Op::Close { slot } => {
                let Some(mut h) = self.socks.get_mut(slot as usize).and_then(|h| h.take()) else { return ebadf };
                if h.connected && !h.linger0 {
                    self.host.note_leftover();
                }
                reset_taken(&mut h);
                drop(h);
                plain(Outcome::Ok)
            }
            Op::Probe { kind, addr, .. } => plain(self.probe(kind, addr, port, settle)),
        }
    }

    fn end(&mut self) {
        for mut h in self.socks.iter_mut().filter_map(|h| h.take()) {
            reset_taken(&mut h);
            if h.kind.proto == Proto::Tcp {
                let _ = h.sock.set_linger(Some(Duration::ZERO));
            }
        }
    }

    fn supports_probe(&self) -> bool {
        true
    }
}
