//! The portable part of every executor: runs statements with socket2 as
//! docs/interface.md#outcomes says (blocking connect bounded by a 2 s send timeout,
//! non-blocking accept) and leaves OS matters to a [`HostOps`].

use super::trace::{Call, CaseTrace, Handle, PortSrc};
use super::{ExecError, Executor, StepResult};
use crate::case::{Addr, Kind, Op, PortRef, Program, Proto, Slot, SockOpt, is_loopback_ip};
use crate::outcome::{Errno, Outcome};
use socket2::{Domain, SockAddr, Socket, Type};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How long a `connect` may take before it is `ETIMEDOUT`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Backlog passed to `listen`.
pub const BACKLOG: i32 = 128;

/// What each OS file provides to the portable executor.
pub trait HostOps {
    /// Called before each case; `syms`: how many symbolic ports it needs.
    fn begin_case(&mut self, syms: usize) -> Result<(), ExecError>;

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

    /// A connected TCP socket was closed without linger0 (a case's, or a
    /// prober): it may leave TIME_WAIT on its local `port` after the case.
    fn note_leftover(&mut self, port: u16) {
        let _ = port;
    }

    /// Whether an earlier case may have left something on `port` in this
    /// network stack (where the executor cannot make a clean one, never).
    fn may_hold(&self, port: u16) -> bool {
        let _ = port;
        false
    }

    /// A clean network stack now (a new namespace), if the OS has one.
    fn fresh(&mut self) -> Result<(), ExecError> {
        Ok(())
    }
}

/// Where the calls of the current case go when the executor records, with
/// the port each socket's last getsockname returned.
#[derive(Default)]
struct Rec {
    calls: Vec<Call>,
    ports: Vec<u16>,
    /// A wait is going on: its retries are not recorded.
    paused: bool,
}

type Recorder = Rc<RefCell<Rec>>;

/// A socket of the current case, numbered for its trace: closing it (by
/// dropping it) is recorded too.
struct Sk {
    sock: Socket,
    h: Handle,
    rec: Option<Recorder>,
}

impl Sk {
    fn call(&self, c: Call) {
        if let Some(r) = &self.rec {
            let mut r = r.borrow_mut();
            if !r.paused {
                r.calls.push(c);
            }
        }
    }

    /// getsockname, recorded with the port it gave.
    fn local_addr(&self) -> io::Result<SockAddr> {
        let a = self.sock.local_addr();
        if let Some(r) = &self.rec {
            let mut r = r.borrow_mut();
            if !r.paused {
                r.calls.push(Call::GetSockName { h: self.h });
            }
            let port = a.as_ref().ok().and_then(|a| a.as_socket()).map_or(0, |a| a.port());
            let h = self.h as usize;
            if r.ports.len() <= h {
                r.ports.resize(h + 1, 0);
            }
            r.ports[h] = port;
        }
        a
    }

    /// getsockname: the port, if the socket has one.
    fn local_port(&self) -> Option<u16> {
        self.local_addr().ok().and_then(|a| a.as_socket()).map(|a| a.port()).filter(|&p| p != 0)
    }

    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        self.call(Call::Nonblock { h: self.h, on });
        self.sock.set_nonblocking(on)
    }

    fn linger0(&self) {
        self.call(Call::Linger0 { h: self.h });
        let _ = self.sock.set_linger(Some(Duration::ZERO));
    }
}

impl Drop for Sk {
    fn drop(&mut self) {
        self.call(Call::Close { h: self.h });
    }
}

struct Held {
    sock: Sk,
    /// Its local port as getsockname last gave it (0: none yet).
    port: u16,
    kind: Kind,
    connected: bool,
    linger0: bool,
    listening: bool,
    /// Connections a probe took off this listener's queue while looking
    /// for its own, oldest first: `accept` hands them out before asking the
    /// kernel, and closing the listener resets them as the kernel resets
    /// its queue.
    taken: VecDeque<(Sk, bool)>,
}

impl Held {
    fn new(sock: Sk, kind: Kind, connected: bool, linger0: bool) -> Held {
        Held { sock, port: 0, kind, connected, linger0, listening: false, taken: VecDeque::new() }
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
    /// The trace of the current case, when recording ([`Executor::record`]).
    rec: Option<Recorder>,
    trace: CaseTrace,
    /// Handles so far in the current case, and each one's last
    /// getsockname port (for the ports of `@NAME`).
    handles: Handle,
    /// Time spent waiting for late kernel work, over the executor's life.
    waited: Duration,
    /// The floor's sockets and ports, kept between cases.
    floor_socks: Vec<Option<Socket>>,
    floor_ports: Vec<u16>,
    /// A socket of the current case got, from the OS, a port on which an
    /// earlier case may have left TIME_WAIT: the case must run again in a
    /// clean network stack ([`Executor::tainted`]).
    tainted: bool,
}

impl<H: HostOps> SocketExec<H> {
    pub fn new(host: H) -> SocketExec<H> {
        SocketExec {
            host,
            socks: Vec::new(),
            names: Vec::new(),
            syms: [0; 10],
            probes: 0,
            rec: None,
            trace: CaseTrace::default(),
            handles: 0,
            waited: Duration::ZERO,
            floor_socks: Vec::new(),
            floor_ports: Vec::new(),
            tainted: false,
        }
    }

    /// A socket of slot `slot` holds `port` after a call: remembered, and
    /// checked against what earlier cases may have left (a port the OS
    /// chose, not one of the case's symbols).
    fn got_port(&mut self, slot: Slot, port: Option<u16>) {
        let Some(p) = port else { return };
        let Some(h) = self.socks.get_mut(slot as usize).and_then(|h| h.as_mut()) else { return };
        h.port = p;
        // (A UDP socket's port counts too: a TCP socket of the case may
        // bind its number, `@NAME`, and meet the TIME_WAIT there.)
        if !self.syms.contains(&p) && self.host.may_hold(p) {
            self.tainted = true;
        }
    }

    /// Numbers a socket for the trace.
    fn sk(&mut self, sock: Socket) -> Sk {
        let h = self.handles;
        self.handles = self.handles.saturating_add(1);
        Sk { sock, h, rec: self.rec.clone() }
    }

    fn call(&self, c: Call) {
        if let Some(r) = &self.rec {
            let mut r = r.borrow_mut();
            if !r.paused {
                r.calls.push(c);
            }
        }
    }

    /// A new socket from the OS layer, recorded.
    fn new_socket(&mut self, kind: Kind, other: bool) -> io::Result<Sk> {
        let sock = self.host.socket(kind, other)?;
        let sk = self.sk(sock);
        sk.call(Call::Socket { h: sk.h, kind, other });
        Ok(sk)
    }

    /// Where a concrete port of the current case came from.
    fn port_src(&self, port: u16) -> PortSrc {
        if port == 0 {
            return PortSrc::Zero;
        }
        if let Some(n) = (1..10).find(|&n| self.syms[n] == port) {
            return PortSrc::Sym(n as u8);
        }
        // The newest socket whose getsockname gave this port.
        let Some(rec) = &self.rec else { return PortSrc::Lit(port) };
        let ports = &rec.borrow().ports;
        match ports.iter().rposition(|&p| p == port) {
            Some(h) => PortSrc::Name(h as Handle),
            None => PortSrc::Lit(port),
        }
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

/// The sockaddr of a language address and a concrete port.
pub fn sockaddr(addr: Addr, port: u16) -> SockAddr {
    SockAddr::from(SocketAddr::new(addr.ip(), port))
}

/// The destination of a `connect` or `probe`, or `None` where it is not
/// loopback. The executor's own check of the safety rule
/// (docs/interface.md#the-case-language), made on the address as it goes
/// to the kernel: the parser and the generator refuse such a case too,
/// but a [`Program`] built by hand reaches the executor past both.
/// Binding to `192.0.2.1` stays allowed (nothing is sent by a bind).
pub fn destination(addr: Addr, port: u16) -> Option<SockAddr> {
    is_loopback_ip(addr.ip()).then(|| sockaddr(addr, port))
}

/// The first `connect` or `probe` of `prog` aimed off the host, as an
/// error: such a program is never run.
pub fn check_destinations(prog: &Program) -> Result<(), ExecError> {
    for (i, op) in prog.ops.iter().enumerate() {
        let (verb, addr) = match *op {
            Op::Connect { addr, .. } => ("connect", addr),
            Op::Probe { addr, .. } => ("probe", addr),
            _ => continue,
        };
        if !is_loopback_ip(addr.ip()) {
            return Err(ExecError(format!(
                "refused to run statement {}: {verb} to {addr} is not loopback (sockdiff sends only to loopback)",
                i + 1
            )));
        }
    }
    Ok(())
}

/// The outcome of a `connect` or `probe` the executor refuses to send off
/// the host (never reached through [`Executor::begin`], which refuses the
/// whole program): nothing is sent.
pub const REFUSED_DESTINATION: Outcome = Outcome::Err(Errno::EACCES);

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
        s.linger0();
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
    /// Retries after the first look (for late kernel work) are waits: not
    /// recorded, their time counted.
    fn probe(&mut self, kind: Kind, addr: Addr, port: u16, settle: bool) -> Outcome {
        let Some(to) = destination(addr, port) else { return REFUSED_DESTINATION };
        let mut prober = match self.new_socket(kind, false) {
            Ok(s) => s,
            Err(e) => return self.host.outcome_of(&e),
        };
        let src = self.port_src(port);
        match kind.proto {
            Proto::Tcp => {
                prober.call(Call::Connect { h: prober.h, addr, port: src });
                if let Err(o) = self.host.connect(&prober.sock, &to) {
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
                    prober.linger0();
                    prober = match self.new_socket(kind, false) {
                        Ok(s) => s,
                        Err(e) => return self.host.outcome_of(&e),
                    };
                    prober.call(Call::Connect { h: prober.h, addr, port: src });
                    if let Err(o) = self.host.connect(&prober.sock, &to) {
                        return o;
                    }
                }
                let Ok(me) = prober.local_addr() else { return Outcome::ToNone };
                let mut found: Option<(usize, Sk)> = None;
                let mut no_fds: Option<Outcome> = None;
                let t0 = Instant::now();
                let mut first = true;
                loop {
                    for slot in 0..self.socks.len() {
                        let Some(h) = self.socks[slot].as_ref().filter(|h| h.listening && h.kind.proto == Proto::Tcp)
                        else {
                            continue;
                        };
                        let lh = h.sock.h;
                        // Take everything queued, keeping the case's own
                        // connections in order for its later accepts.
                        loop {
                            let r = self.socks[slot].as_ref().expect("listener").sock.sock.accept();
                            let (s, peer) = match r {
                                Ok(x) => x,
                                Err(e) => {
                                    if first {
                                        self.call(Call::Accept { h: lh, new: None });
                                    }
                                    // Out of descriptors the queue cannot be read:
                                    // that is the probe's answer, not "nobody".
                                    let o = self.host.outcome_of(&e);
                                    if matches!(o, Outcome::Err(Errno::EMFILE | Errno::ENFILE)) {
                                        no_fds = Some(o);
                                    }
                                    break;
                                }
                            };
                            let sk = self.sk(s);
                            self.call(Call::Accept { h: lh, new: Some(sk.h) });
                            let h = self.socks[slot].as_mut().expect("listener");
                            if found.is_none() && same_endpoint(&peer, &me) {
                                found = Some((slot, sk));
                            } else {
                                h.taken.push_back((sk, h.linger0));
                            }
                        }
                    }
                    if found.is_some() || no_fds.is_some() || !settle || t0.elapsed() > SETTLE {
                        break;
                    }
                    if first {
                        first = false;
                        self.pause_recording();
                    }
                    std::thread::sleep(Duration::from_micros(200));
                }
                if !first {
                    self.waited += t0.elapsed();
                    self.resume_recording();
                }
                // The prober closes first: TIME_WAIT falls on its own port.
                drop(prober);
                if let Some(p) = me.as_socket().map(|a| a.port()) {
                    self.host.note_leftover(p);
                }
                match (found, no_fds) {
                    (Some((slot, conn)), _) => {
                        drop(conn);
                        self.name_of(slot)
                    }
                    (None, Some(o)) => o,
                    (None, None) => Outcome::ToNone,
                }
            }
            Proto::Udp => {
                self.probes += 1;
                let mut token = [0u8; 24];
                token[..8].copy_from_slice(b"sockdiff");
                token[8..12].copy_from_slice(&std::process::id().to_le_bytes());
                token[12..20].copy_from_slice(&self.probes.to_le_bytes());
                prober.call(Call::ConnectRaw { h: prober.h, addr, port: src });
                if let Err(e) = prober.sock.connect(&to) {
                    return self.host.outcome_of(&e);
                }
                prober.call(Call::Send { h: prober.h });
                if let Err(e) = prober.sock.send(&token) {
                    return self.host.outcome_of(&e);
                }
                let t0 = Instant::now();
                let mut first = true;
                let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 64];
                let outcome = loop {
                    // Which sockets got this probe's datagram (at most two are told apart).
                    let mut got: [Option<usize>; 2] = [None, None];
                    let mut many = false;
                    for (slot, h) in self.socks.iter().enumerate() {
                        let Some(h) = h.as_ref().filter(|h| h.kind.proto == Proto::Udp) else { continue };
                        // Drain the queue; only this probe's datagram counts.
                        loop {
                            h.sock.call(Call::Recv { h: h.sock.h });
                            let Ok(n) = h.sock.sock.recv(&mut buf) else { break };
                            let mine = n == token.len()
                                && buf[..n].iter().zip(&token).all(|(b, t)| unsafe { b.assume_init() } == *t);
                            if mine {
                                match got {
                                    [None, _] => got[0] = Some(slot),
                                    _ => many = true,
                                }
                            }
                        }
                    }
                    match (got[0], many) {
                        (Some(one), false) => break self.name_of(one),
                        (Some(_), true) => break Outcome::ToNone,
                        _ => {}
                    }
                    // Port unreachable came back: nobody has it.
                    prober.call(Call::TakeError { h: prober.h });
                    if let Ok(Some(_)) = prober.sock.take_error() {
                        break Outcome::ToNone;
                    }
                    if t0.elapsed() > if settle { SETTLE } else { PROBE_WAIT } {
                        break Outcome::ToNone;
                    }
                    if first {
                        first = false;
                        self.pause_recording();
                    }
                    std::thread::sleep(Duration::from_micros(200));
                };
                if !first {
                    self.waited += t0.elapsed();
                    self.resume_recording();
                }
                outcome
            }
        }
    }

    /// Stops recording for a wait (its retries are not floor work).
    fn pause_recording(&mut self) {
        if let Some(r) = &self.rec {
            r.borrow_mut().paused = true;
        }
    }

    fn resume_recording(&mut self) {
        if let Some(r) = &self.rec {
            r.borrow_mut().paused = false;
        }
    }
}

impl<H: HostOps> Executor for SocketExec<H> {
    fn begin(&mut self, prog: &Program) -> Result<(), ExecError> {
        self.end();
        check_destinations(prog)?;
        self.socks.clear();
        self.socks.resize_with(prog.slots(), || None);
        self.names.clone_from(&prog.names);
        let mut used = [false; 10];
        let mut refs = false;
        for op in &prog.ops {
            match op.port() {
                Some(PortRef::Sym(n)) => used[n as usize] = true,
                Some(PortRef::Of(_)) => refs = true,
                _ => {}
            }
        }
        self.host.begin_case(used.iter().filter(|u| **u).count())?;
        for (n, u) in used.iter().enumerate() {
            self.syms[n] = if *u { self.host.take_port()? } else { 0 };
        }
        self.handles = 0;
        self.tainted = false;
        if let Some(r) = &self.rec {
            *r.borrow_mut() = Rec::default();
            self.trace = CaseTrace { syms: used, port_refs: refs, handles: 0, calls: Vec::new() };
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
            Op::Socket { slot, kind, other } => match self.new_socket(kind, other) {
                Ok(sock) => {
                    let r = sock.set_nonblocking(true);
                    self.socks[slot as usize] = Some(Held::new(sock, kind, false, false));
                    plain(self.result(r))
                }
                Err(e) => plain(self.host.outcome_of(&e)),
            },
            Op::Set { slot, opt, on } => {
                let Some(h) = self.held(slot) else { return ebadf };
                h.sock.call(Call::SetOpt { h: h.sock.h, opt, on });
                let outcome = match self.host.set_option(&h.sock.sock, opt, on) {
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
                let src = self.port_src(port);
                let Some(h) = self.held(slot) else { return ebadf };
                h.sock.call(Call::Bind { h: h.sock.h, addr, port: src });
                let to = sockaddr(addr, port);
                let mut r = h.sock.sock.bind(&to);
                let in_use = |r: &io::Result<()>| r.as_ref().is_err_and(|e| e.kind() == io::ErrorKind::AddrInUse);
                if settle && in_use(&r) {
                    // The model expects the port free: a peer's FIN that
                    // turns a FIN_WAIT2 socket into TIME_WAIT may still be
                    // on its way (slow guests). A failed bind leaves the
                    // socket unbound, so it may try again.
                    let t0 = Instant::now();
                    self.pause_recording();
                    while t0.elapsed() < SETTLE && in_use(&r) {
                        std::thread::sleep(Duration::from_micros(500));
                        let Some(h) = self.held(slot) else { return ebadf };
                        r = h.sock.sock.bind(&to);
                    }
                    self.waited += t0.elapsed();
                    self.resume_recording();
                }
                let Some(h) = self.held(slot) else { return ebadf };
                let local = if r.is_ok() { h.sock.local_port() } else { None };
                self.got_port(slot, local);
                StepResult { outcome: self.result(r), local_port: local }
            }
            Op::Listen { slot } => {
                let Some(h) = self.held(slot) else { return ebadf };
                h.sock.call(Call::Listen { h: h.sock.h });
                let r = h.sock.sock.listen(BACKLOG);
                // Even a failed listen may have taken a port (Linux role-lock).
                let local = h.sock.local_port();
                if r.is_ok() {
                    if let Some(h) = self.socks[slot as usize].as_mut() {
                        h.listening = true;
                    }
                }
                self.got_port(slot, local);
                StepResult { outcome: self.result(r), local_port: local }
            }
            Op::Connect { slot, addr, .. } => {
                let Some(to) = destination(addr, port) else { return plain(REFUSED_DESTINATION) };
                let src = self.port_src(port);
                let Some(h) = self.held(slot) else { return ebadf };
                h.sock.call(Call::Connect { h: h.sock.h, addr, port: src });
                let r = self.host.connect(&h.sock.sock, &to);
                // Even a failed connect may have bound the socket (UDP).
                let local = h.sock.local_port();
                let ok = r.is_ok() && h.kind.proto == Proto::Tcp;
                if ok {
                    if let Some(h) = self.socks[slot as usize].as_mut() {
                        h.connected = true;
                    }
                }
                self.got_port(slot, local);
                StepResult { outcome: r.err().unwrap_or(Outcome::Ok), local_port: local }
            }
            Op::Accept { slot, listener } => {
                let Some(l) = self.socks.get_mut(listener as usize).and_then(|h| h.as_mut()) else { return ebadf };
                let (kind, lport) = (l.kind, l.port);
                // A connection has its listener's port.
                let child = |sock, linger0| Held { port: lport, ..Held::new(sock, kind, true, linger0) };
                if let Some((sock, linger0)) = l.taken.pop_front() {
                    self.socks[slot as usize] = Some(child(sock, linger0));
                    return plain(Outcome::Ok);
                }
                let (linger0, lh) = (l.linger0, l.sock.h);
                let t0 = Instant::now();
                self.call(Call::Accept { h: lh, new: None });
                let accept = |me: &Self| me.socks[listener as usize].as_ref().expect("listener").sock.sock.accept();
                let mut r = accept(self);
                let waits = settle && r.as_ref().is_err_and(|e| e.kind() == io::ErrorKind::WouldBlock);
                if waits {
                    self.pause_recording();
                }
                while settle
                    && t0.elapsed() < SETTLE
                    && r.as_ref().is_err_and(|e| e.kind() == io::ErrorKind::WouldBlock)
                {
                    std::thread::sleep(Duration::from_micros(200));
                    r = accept(self);
                }
                if waits {
                    self.waited += t0.elapsed();
                    self.resume_recording();
                }
                match r {
                    Ok((sock, _)) => {
                        let sk = self.sk(sock);
                        if !waits {
                            // The accept that returned it, not the "nothing yet" recorded above.
                            if let Some(rec) = &self.rec {
                                if let Some(Call::Accept { new, .. }) = rec.borrow_mut().calls.last_mut() {
                                    *new = Some(sk.h);
                                }
                            }
                        }
                        let r = sk.set_nonblocking(true);
                        self.socks[slot as usize] = Some(child(sk, linger0));
                        plain(self.result(r))
                    }
                    Err(e) => plain(self.host.outcome_of(&e)),
                }
            }
            Op::Close { slot } => {
                let Some(mut h) = self.socks.get_mut(slot as usize).and_then(|h| h.take()) else { return ebadf };
                if h.connected && !h.linger0 {
                    self.host.note_leftover(h.port);
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
                h.sock.linger0();
            }
        }
        if let Some(r) = &self.rec {
            let mut r = r.borrow_mut();
            if !r.calls.is_empty() {
                self.trace.calls = std::mem::take(&mut r.calls);
                self.trace.handles = self.handles as usize;
            }
        }
    }

    fn supports_probe(&self) -> bool {
        true
    }

    fn record(&mut self, on: bool) {
        self.rec = on.then(|| Rc::new(RefCell::new(Rec::default())));
    }

    fn take_trace(&mut self) -> Option<CaseTrace> {
        self.rec.as_ref()?;
        Some(std::mem::take(&mut self.trace))
    }

    fn waited(&self) -> Duration {
        self.waited
    }

    fn tainted(&self) -> bool {
        self.tainted
    }

    fn fresh(&mut self) -> Result<(), ExecError> {
        self.host.fresh()
    }

    fn replay(&mut self, t: &CaseTrace) -> Result<u64, ExecError> {
        self.host.begin_case(t.syms.iter().filter(|u| **u).count())?;
        let mut syms = [0u16; 10];
        for (n, u) in t.syms.iter().enumerate() {
            if *u {
                syms[n] = self.host.take_port()?;
            }
        }
        let socks = &mut self.floor_socks;
        let ports = &mut self.floor_ports;
        socks.clear();
        socks.resize_with(t.handles, || None);
        ports.clear();
        ports.resize(t.handles, 0);
        let port_of = |ports: &[u16], p: PortSrc| match p {
            PortSrc::Sym(n) => syms[n as usize],
            PortSrc::Zero => 0,
            PortSrc::Name(h) => ports.get(h as usize).copied().unwrap_or(0),
            PortSrc::Lit(p) => p,
        };
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 64];
        let mut n = 0;
        fn sock(socks: &[Option<Socket>], h: Handle) -> Option<&Socket> {
            socks.get(h as usize).and_then(|s| s.as_ref())
        }
        for c in &t.calls {
            match *c {
                Call::Socket { h, kind, other } => {
                    if let Some(s) = socks.get_mut(h as usize) {
                        *s = self.host.socket(kind, other).ok();
                    }
                }
                Call::Nonblock { h, on } => {
                    if let Some(s) = sock(socks, h) {
                        let _ = s.set_nonblocking(on);
                    }
                }
                Call::SetOpt { h, opt, on } => {
                    if let Some(s) = sock(socks, h) {
                        let _ = self.host.set_option(s, opt, on);
                    }
                }
                Call::Linger0 { h } => {
                    if let Some(s) = sock(socks, h) {
                        let _ = s.set_linger(Some(Duration::ZERO));
                    }
                }
                Call::Bind { h, addr, port } => {
                    if let Some(s) = sock(socks, h) {
                        let _ = s.bind(&sockaddr(addr, port_of(ports, port)));
                    }
                }
                Call::Listen { h } => {
                    if let Some(s) = sock(socks, h) {
                        let _ = s.listen(BACKLOG);
                    }
                }
                Call::Connect { h, addr, port } => {
                    if let (Some(s), Some(to)) = (sock(socks, h), destination(addr, port_of(ports, port))) {
                        let _ = self.host.connect(s, &to);
                    }
                }
                Call::ConnectRaw { h, addr, port } => {
                    if let (Some(s), Some(to)) = (sock(socks, h), destination(addr, port_of(ports, port))) {
                        let _ = s.connect(&to);
                    }
                }
                Call::GetSockName { h } => {
                    if let Some(s) = sock(socks, h) {
                        let p = s.local_addr().ok().and_then(|a| a.as_socket()).map_or(0, |a| a.port());
                        ports[h as usize] = p;
                    }
                }
                Call::Accept { h, new } => {
                    let got = sock(socks, h).and_then(|s| s.accept().ok()).map(|(s, _)| s);
                    if let (Some(new), Some(slot)) = (new, new.and_then(|x| socks.get_mut(x as usize))) {
                        let _ = new;
                        *slot = got;
                    }
                }
                Call::Send { h } => {
                    if let Some(s) = sock(socks, h) {
                        let _ = s.send(b"sockdiff floor");
                    }
                }
                Call::Recv { h } => {
                    if let Some(s) = sock(socks, h) {
                        let _ = s.recv(&mut buf);
                    }
                }
                Call::TakeError { h } => {
                    if let Some(s) = sock(socks, h) {
                        let _ = s.take_error();
                    }
                }
                Call::Close { h } => {
                    if let Some(s) = socks.get_mut(h as usize) {
                        *s = None;
                    }
                }
            }
            n += c.syscalls();
        }
        for s in socks.iter().flatten() {
            let _ = s.set_linger(Some(Duration::ZERO));
        }
        socks.clear();
        Ok(n)
    }
}
