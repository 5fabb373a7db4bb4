//! The case language of docs/interface.md#the-case-language: its syntax tree, the parser and the printer.
//!
//! A [`Case`] is what a `.case` file holds, comments and expectation comments
//! included, so that `parse(print(c)) == c`. A [`Program`] is a case compiled
//! for running: every name resolved to a socket slot, so that the model and
//! the executors never look at strings. This module does no I/O.

mod parse;
mod print;

pub use parse::{ParseError, parse, parse_file};
pub use print::{one_line, print};

pub use crate::name::{KEYWORDS, Name};
use crate::outcome::Outcome;
use crate::platform::ModelSpec;
use std::fmt;

/// Transport protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
}

/// Address family of a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    V4,
    V6,
}

/// A socket kind: `tcp4`, `tcp6`, `udp4` or `udp6`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kind {
    pub proto: Proto,
    pub family: Family,
}

impl Kind {
    pub const TCP4: Kind = Kind { proto: Proto::Tcp, family: Family::V4 };
    pub const TCP6: Kind = Kind { proto: Proto::Tcp, family: Family::V6 };
    pub const UDP4: Kind = Kind { proto: Proto::Udp, family: Family::V4 };
    pub const UDP6: Kind = Kind { proto: Proto::Udp, family: Family::V6 };
    /// All four kinds, in the order the language lists them.
    pub const ALL: [Kind; 4] = [Kind::TCP4, Kind::TCP6, Kind::UDP4, Kind::UDP6];

    /// The keyword of this kind.
    pub fn keyword(self) -> &'static str {
        match (self.proto, self.family) {
            (Proto::Tcp, Family::V4) => "tcp4",
            (Proto::Tcp, Family::V6) => "tcp6",
            (Proto::Udp, Family::V4) => "udp4",
            (Proto::Udp, Family::V6) => "udp6",
        }
    }

    fn from_keyword(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.keyword() == s)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// The addresses of docs/interface.md#the-case-language, and nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Addr {
    /// `0.0.0.0`
    Any4,
    /// `127.0.0.1`
    Lo4,
    /// `127.0.0.2`
    Lo4b,
    /// `192.0.2.1`: never local.
    TestNet,
    /// `[::]`
    Any6,
    /// `[::1]`
    Lo6,
    /// `[::ffff:127.0.0.1]`
    MappedLo4,
    /// `[::ffff:127.0.0.2]`
    MappedLo4b,
    /// `[::ffff:0.0.0.0]`
    MappedAny4,
}

impl Addr {
    /// Every address, in the order docs/interface.md#the-case-language lists them.
    pub const ALL: [Addr; 9] = [
        Addr::Any4,
        Addr::Lo4,
        Addr::Lo4b,
        Addr::TestNet,
        Addr::Any6,
        Addr::Lo6,
        Addr::MappedLo4,
        Addr::MappedLo4b,
        Addr::MappedAny4,
    ];

    /// The address as the language writes it.
    pub fn text(self) -> &'static str {
        match self {
            Addr::Any4 => "0.0.0.0",
            Addr::Lo4 => "127.0.0.1",
            Addr::Lo4b => "127.0.0.2",
            Addr::TestNet => "192.0.2.1",
            Addr::Any6 => "[::]",
            Addr::Lo6 => "[::1]",
            Addr::MappedLo4 => "[::ffff:127.0.0.1]",
            Addr::MappedLo4b => "[::ffff:127.0.0.2]",
            Addr::MappedAny4 => "[::ffff:0.0.0.0]",
        }
    }

    /// The family of the sockaddr this address is passed in.
    pub fn family(self) -> Family {
        match self {
            Addr::Any4 | Addr::Lo4 | Addr::Lo4b | Addr::TestNet => Family::V4,
            _ => Family::V6,
        }
    }

    /// Loopback: the only targets `connect` and `probe` may use.
    pub fn is_loopback(self) -> bool {
        matches!(self, Addr::Lo4 | Addr::Lo4b | Addr::Lo6 | Addr::MappedLo4 | Addr::MappedLo4b)
    }

    /// `0.0.0.0`, `[::]` or `[::ffff:0.0.0.0]`.
    pub fn is_wildcard(self) -> bool {
        matches!(self, Addr::Any4 | Addr::Any6 | Addr::MappedAny4)
    }

    /// A v4-mapped IPv6 address.
    pub fn is_mapped(self) -> bool {
        matches!(self, Addr::MappedLo4 | Addr::MappedLo4b | Addr::MappedAny4)
    }

    /// The IPv4 address a v4-mapped address stands for; IPv4 addresses are
    /// returned as they are; plain IPv6 addresses give `None`.
    pub fn as_v4(self) -> Option<Addr> {
        match self {
            Addr::MappedLo4 => Some(Addr::Lo4),
            Addr::MappedLo4b => Some(Addr::Lo4b),
            Addr::MappedAny4 => Some(Addr::Any4),
            Addr::Any6 | Addr::Lo6 => None,
            a => Some(a),
        }
    }

    /// The v4-mapped form of an IPv4 address (identity for IPv6 addresses).
    pub fn to_mapped(self) -> Addr {
        match self {
            Addr::Lo4 => Addr::MappedLo4,
            Addr::Lo4b => Addr::MappedLo4b,
            Addr::Any4 => Addr::MappedAny4,
            a => a,
        }
    }

    /// The address as a standard-library IP address.
    pub fn ip(self) -> std::net::IpAddr {
        use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
        match self {
            Addr::Any4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Addr::Lo4 => IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)),
            Addr::Lo4b => IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)),
            Addr::TestNet => IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            Addr::Any6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            Addr::Lo6 => IpAddr::V6(Ipv6Addr::LOCALHOST),
            Addr::MappedLo4 => IpAddr::V6(Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped()),
            Addr::MappedLo4b => IpAddr::V6(Ipv4Addr::new(127, 0, 0, 2).to_ipv6_mapped()),
            Addr::MappedAny4 => IpAddr::V6(Ipv4Addr::UNSPECIFIED.to_ipv6_mapped()),
        }
    }

    /// The language address for a standard-library one, if it is one of ours.
    pub fn from_ip(ip: std::net::IpAddr) -> Option<Addr> {
        Addr::ALL.into_iter().find(|a| a.ip() == ip)
    }

    fn from_text(s: &str) -> Option<Addr> {
        Addr::ALL.into_iter().find(|a| a.text() == s)
    }
}

/// Whether an IP address is on loopback (127.0.0.0/8, `::1`,
/// `::ffff:127.x.y.z`): the parser tests it on text that is no `Addr`, the
/// executor on the address it would hand the kernel.
pub fn is_loopback_ip(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback(),
        std::net::IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// A port as a case writes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Port {
    /// `P1` … `P9`.
    Sym(u8),
    /// `0`: an ephemeral port.
    Zero,
    /// `@NAME`: the port NAME holds at that moment.
    Of(Name),
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Port::Sym(n) => write!(f, "P{n}"),
            Port::Zero => f.write_str("0"),
            Port::Of(n) => write!(f, "@{n}"),
        }
    }
}

/// The options of `set`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SockOpt {
    ReuseAddr,
    ReusePort,
    ReusePortLb,
    ExclusiveAddrUse,
    V6Only,
    /// SO_LINGER on with a zero timeout.
    Linger0,
}

impl SockOpt {
    /// Every option, in the order docs/interface.md#the-case-language lists them.
    pub const ALL: [SockOpt; 6] = [
        SockOpt::ReuseAddr,
        SockOpt::ReusePort,
        SockOpt::ReusePortLb,
        SockOpt::ExclusiveAddrUse,
        SockOpt::V6Only,
        SockOpt::Linger0,
    ];

    /// The option's keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            SockOpt::ReuseAddr => "reuseaddr",
            SockOpt::ReusePort => "reuseport",
            SockOpt::ReusePortLb => "reuseport_lb",
            SockOpt::ExclusiveAddrUse => "exclusiveaddruse",
            SockOpt::V6Only => "v6only",
            SockOpt::Linger0 => "linger0",
        }
    }

    fn from_keyword(s: &str) -> Option<SockOpt> {
        SockOpt::ALL.into_iter().find(|o| o.keyword() == s)
    }
}

impl fmt::Display for SockOpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())
    }
}

/// One statement of the language.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Stmt {
    /// `NAME = socket KIND [as other]`
    Socket { name: Name, kind: Kind, other: bool },
    /// `set NAME OPTION on|off`
    Set { name: Name, opt: SockOpt, on: bool },
    /// `bind NAME ADDR:PORT`
    Bind { name: Name, addr: Addr, port: Port },
    /// `listen NAME`
    Listen { name: Name },
    /// `connect NAME ADDR:PORT`
    Connect { name: Name, addr: Addr, port: Port },
    /// `NAME = accept LISTENER`
    Accept { name: Name, listener: Name },
    /// `close NAME`
    Close { name: Name },
    /// `probe KIND ADDR:PORT`
    Probe { kind: Kind, addr: Addr, port: Port },
}

/// What a statement does, without its arguments: the "statement kind" of a
/// mismatch signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verb {
    Socket,
    Set,
    Bind,
    Listen,
    Connect,
    Accept,
    Close,
    Probe,
}

impl Verb {
    /// Every verb, in the order of the language (its discriminants index this).
    pub const ALL: [Verb; 8] =
        [Verb::Socket, Verb::Set, Verb::Bind, Verb::Listen, Verb::Connect, Verb::Accept, Verb::Close, Verb::Probe];

    /// The verb as a word.
    pub fn word(self) -> &'static str {
        match self {
            Verb::Socket => "socket",
            Verb::Set => "set",
            Verb::Bind => "bind",
            Verb::Listen => "listen",
            Verb::Connect => "connect",
            Verb::Accept => "accept",
            Verb::Close => "close",
            Verb::Probe => "probe",
        }
    }
}

impl Stmt {
    /// The statement's verb.
    pub fn verb(&self) -> Verb {
        match self {
            Stmt::Socket { .. } => Verb::Socket,
            Stmt::Set { .. } => Verb::Set,
            Stmt::Bind { .. } => Verb::Bind,
            Stmt::Listen { .. } => Verb::Listen,
            Stmt::Connect { .. } => Verb::Connect,
            Stmt::Accept { .. } => Verb::Accept,
            Stmt::Close { .. } => Verb::Close,
            Stmt::Probe { .. } => Verb::Probe,
        }
    }

    /// The name this statement binds (`socket`, `accept`), if any.
    pub fn binds(&self) -> Option<&Name> {
        match self {
            Stmt::Socket { name, .. } | Stmt::Accept { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The names this statement uses (not the one it binds), in order.
    pub fn uses(&self) -> Vec<&Name> {
        let mut v = Vec::new();
        match self {
            Stmt::Socket { .. } => {}
            Stmt::Set { name, .. } | Stmt::Listen { name } | Stmt::Close { name } => v.push(name),
            Stmt::Bind { name, port, .. } | Stmt::Connect { name, port, .. } => {
                v.push(name);
                if let Port::Of(n) = port {
                    v.push(n);
                }
            }
            Stmt::Accept { listener, .. } => v.push(listener),
            Stmt::Probe { port, .. } => {
                if let Port::Of(n) = port {
                    v.push(n);
                }
            }
        }
        v
    }
}

impl fmt::Display for Stmt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stmt::Socket { name, kind, other } => {
                write!(f, "{name} = socket {kind}")?;
                if *other {
                    f.write_str(" as other")?;
                }
                Ok(())
            }
            Stmt::Set { name, opt, on } => {
                write!(f, "set {name} {opt} {}", if *on { "on" } else { "off" })
            }
            Stmt::Bind { name, addr, port } => write!(f, "bind {name} {addr}:{port}"),
            Stmt::Listen { name } => write!(f, "listen {name}"),
            Stmt::Connect { name, addr, port } => write!(f, "connect {name} {addr}:{port}"),
            Stmt::Accept { name, listener } => write!(f, "{name} = accept {listener}"),
            Stmt::Close { name } => write!(f, "close {name}"),
            Stmt::Probe { kind, addr, port } => write!(f, "probe {kind} {addr}:{port}"),
        }
    }
}

/// One `PLATFORM[@VERSION]:OUTCOME` entry of an expectation comment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Expect {
    pub model: ModelSpec,
    /// One outcome, or several for a set (sorted, distinct).
    pub outcomes: Vec<Outcome>,
}

/// The comment at the end of a statement's line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Trailer {
    /// A plain comment: the text after `#`, which never starts with `=`.
    Note(String),
    /// An expectation comment (`#= …`).
    Expect(Vec<Expect>),
}

/// A statement with the comments that belong to it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Step {
    /// Comment lines directly above the statement (text after `#`).
    pub above: Vec<String>,
    pub stmt: Stmt,
    pub trailer: Option<Trailer>,
}

impl Step {
    /// A statement with no comments.
    pub fn bare(stmt: Stmt) -> Step {
        Step { above: Vec::new(), stmt, trailer: None }
    }

    /// The expectation entries of this step (empty without `#=`).
    pub fn expects(&self) -> &[Expect] {
        match &self.trailer {
            Some(Trailer::Expect(e)) => e,
            _ => &[],
        }
    }
}

/// A whole case file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Case {
    pub steps: Vec<Step>,
    /// Comment lines after the last statement.
    pub tail: Vec<String>,
}

impl Case {
    /// A case of bare statements.
    pub fn from_stmts(stmts: impl IntoIterator<Item = Stmt>) -> Case {
        Case { steps: stmts.into_iter().map(Step::bare).collect(), tail: Vec::new() }
    }

    /// The statements, without comments.
    pub fn stmts(&self) -> impl Iterator<Item = &Stmt> {
        self.steps.iter().map(|s| &s.stmt)
    }

    /// Number of statements.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the case has no statement.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Whether any statement is a `probe`.
    pub fn has_probe(&self) -> bool {
        self.stmts().any(|s| s.verb() == Verb::Probe)
    }

    /// Whether any socket is created `as other`.
    pub fn has_other(&self) -> bool {
        self.stmts().any(|s| matches!(s, Stmt::Socket { other: true, .. }))
    }

    /// Checks the name rules of docs/interface.md#the-case-language (every use names a live socket, no
    /// live name bound again). Returns the index of the first bad statement
    /// and what is wrong.
    pub fn check_names(&self) -> Result<(), NameError> {
        compile(self).map(|_| ())
    }
}

/// Index of a socket slot in a [`Program`]: one per `socket` or `accept`
/// statement, in order.
pub type Slot = u16;

/// A port with names resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortRef {
    Sym(u8),
    Zero,
    Of(Slot),
}

/// A statement with names resolved to slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Socket { slot: Slot, kind: Kind, other: bool },
    Set { slot: Slot, opt: SockOpt, on: bool },
    Bind { slot: Slot, addr: Addr, port: PortRef },
    Listen { slot: Slot },
    Connect { slot: Slot, addr: Addr, port: PortRef },
    Accept { slot: Slot, listener: Slot },
    Close { slot: Slot },
    Probe { kind: Kind, addr: Addr, port: PortRef },
}

impl Op {
    /// The slot a statement acts on (the new one for `socket` and `accept`).
    pub fn subject(&self) -> Option<Slot> {
        match *self {
            Op::Socket { slot, .. }
            | Op::Set { slot, .. }
            | Op::Bind { slot, .. }
            | Op::Listen { slot }
            | Op::Connect { slot, .. }
            | Op::Accept { slot, .. }
            | Op::Close { slot } => Some(slot),
            Op::Probe { .. } => None,
        }
    }

    /// The port reference of `bind`, `connect` and `probe`.
    pub fn port(&self) -> Option<PortRef> {
        match *self {
            Op::Bind { port, .. } | Op::Connect { port, .. } | Op::Probe { port, .. } => Some(port),
            _ => None,
        }
    }
}

/// A case compiled for running.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Program {
    /// The name of each slot.
    pub names: Vec<Name>,
    /// The kind of each slot (for an accepted socket: the listener's).
    pub kinds: Vec<Kind>,
    pub ops: Vec<Op>,
}

impl Program {
    /// The name of slot `s`.
    pub fn name(&self, s: Slot) -> &Name {
        &self.names[s as usize]
    }

    /// Number of slots.
    pub fn slots(&self) -> usize {
        self.names.len()
    }
}

/// A broken name rule: statement `step` (from 0) misuses `name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameError {
    pub step: usize,
    pub name: Name,
    pub what: String,
}

/// Resolves names to slots, checking the name rules of docs/interface.md#the-case-language.
pub fn compile(case: &Case) -> Result<Program, NameError> {
    let mut c = Compiler::default();
    for stmt in case.stmts() {
        c.push(stmt)?;
    }
    Ok(c.into_program())
}

/// Compiles a case one statement at a time (the generator grows cases
/// statement by statement and may take the last one back).
#[derive(Clone, Debug, Default)]
pub struct Compiler {
    prog: Program,
    /// Live names and their slots.
    live: Vec<(Name, Slot)>,
    /// What the last [`Compiler::push`] changed, for [`Compiler::pop`].
    undo: Option<Undo>,
}

/// How to take the last statement back.
#[derive(Clone, Debug)]
enum Undo {
    /// It changed no name.
    Op,
    /// It made a name (the last live one, and the last slot).
    Made,
    /// It closed the live name at this place of the live list.
    Closed(usize, (Name, Slot)),
}

impl Compiler {
    /// The program so far.
    pub fn program(&self) -> &Program {
        &self.prog
    }

    /// The program, compiled.
    pub fn into_program(self) -> Program {
        self.prog
    }

    /// Adds one statement, or says which name rule it breaks (and adds
    /// nothing).
    pub fn push(&mut self, stmt: &Stmt) -> Result<(), NameError> {
        let step = self.prog.ops.len();
        let names = &self.prog.names;
        let live = &self.live;
        let lookup = |n: &Name| -> Result<Slot, NameError> {
            live.iter().rev().find(|(m, _)| m == n).map(|(_, s)| *s).ok_or_else(|| {
                let why = if names.contains(n) { "is closed" } else { "was never created" };
                NameError { step, name: n.clone(), what: format!("socket '{n}' {why}") }
            })
        };
        let port = |p: &Port| -> Result<PortRef, NameError> {
            Ok(match p {
                Port::Sym(n) => PortRef::Sym(*n),
                Port::Zero => PortRef::Zero,
                Port::Of(n) => PortRef::Of(lookup(n)?),
            })
        };
        let op = match stmt {
            Stmt::Socket { kind, other, .. } => Op::Socket { slot: 0, kind: *kind, other: *other },
            Stmt::Set { name, opt, on } => Op::Set { slot: lookup(name)?, opt: *opt, on: *on },
            Stmt::Bind { name, addr, port: p } => Op::Bind { slot: lookup(name)?, addr: *addr, port: port(p)? },
            Stmt::Listen { name } => Op::Listen { slot: lookup(name)? },
            Stmt::Connect { name, addr, port: p } => Op::Connect { slot: lookup(name)?, addr: *addr, port: port(p)? },
            Stmt::Accept { listener, .. } => Op::Accept { slot: 0, listener: lookup(listener)? },
            Stmt::Close { name } => Op::Close { slot: lookup(name)? },
            Stmt::Probe { kind, addr, port: p } => Op::Probe { kind: *kind, addr: *addr, port: port(p)? },
        };
        let mut undo = Undo::Op;
        let op = match (stmt.binds(), op) {
            (Some(name), op) => {
                if self.live.iter().any(|(m, _)| m == name) {
                    return Err(NameError {
                        step,
                        name: name.clone(),
                        what: format!("socket '{name}' is still open: close it before creating it again"),
                    });
                }
                let slot = Slot::try_from(self.prog.names.len()).map_err(|_| NameError {
                    step,
                    name: name.clone(),
                    what: "too many sockets".to_string(),
                })?;
                let kind = match op {
                    Op::Socket { kind, .. } => kind,
                    Op::Accept { listener, .. } => self.prog.kinds[listener as usize],
                    _ => unreachable!("only socket and accept bind names"),
                };
                self.prog.names.push(name.clone());
                self.prog.kinds.push(kind);
                self.live.push((name.clone(), slot));
                undo = Undo::Made;
                match op {
                    Op::Socket { kind, other, .. } => Op::Socket { slot, kind, other },
                    Op::Accept { listener, .. } => Op::Accept { slot, listener },
                    _ => unreachable!(),
                }
            }
            (None, op) => op,
        };
        if let Op::Close { slot } = op {
            if let Some(i) = self.live.iter().position(|(_, s)| *s == slot) {
                undo = Undo::Closed(i, self.live.remove(i));
            }
        }
        self.prog.ops.push(op);
        self.undo = Some(undo);
        Ok(())
    }

    /// Takes back the last statement pushed (once).
    pub fn pop(&mut self) {
        let Some(undo) = self.undo.take() else { return };
        self.prog.ops.pop();
        match undo {
            Undo::Op => {}
            Undo::Made => {
                self.prog.names.pop();
                self.prog.kinds.pop();
                self.live.pop();
            }
            Undo::Closed(i, entry) => self.live.insert(i, entry),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_taken_back_leaves_the_program_of_the_case_without_it() {
        let text = "a = socket tcp4\nbind a 0.0.0.0:P1\nlisten a\nb = socket tcp4\nconnect b 127.0.0.1:@a\nc = accept a\nclose a\na = socket udp4\nclose c\nprobe tcp4 127.0.0.1:@b\n";
        let case = parse("t", text).unwrap();
        let stmts: Vec<Stmt> = case.stmts().cloned().collect();
        for n in 1..=stmts.len() {
            let mut c = Compiler::default();
            for st in &stmts[..n] {
                c.push(st).unwrap();
            }
            c.pop();
            let want = compile(&Case::from_stmts(stmts[..n - 1].iter().cloned())).unwrap();
            assert_eq!(c.program(), &want, "after taking back statement {n}");
            // And it goes on as if the statement had never been pushed.
            if n < stmts.len() {
                c.push(&stmts[n - 1]).unwrap();
                c.push(&stmts[n]).unwrap();
                assert_eq!(c.program(), &compile(&Case::from_stmts(stmts[..=n].iter().cloned())).unwrap());
            }
        }
    }

    #[test]
    fn names_follow_the_spec() {
        assert!(Name::is_valid("a"));
        assert!(Name::is_valid("srv_2"));
        assert!(!Name::is_valid("2a"));
        assert!(!Name::is_valid("A"));
        assert!(!Name::is_valid("none"));
        assert!(!Name::is_valid("bind"));
        assert!(!Name::is_valid(""));
    }

    #[test]
    fn compile_gives_new_slots_after_close() {
        let c = parse("t", "a = socket tcp4\nclose a\na = socket udp6\nbind a [::]:P1\n").unwrap();
        let p = compile(&c).unwrap();
        assert_eq!(p.slots(), 2);
        assert_eq!(p.kinds, vec![Kind::TCP4, Kind::UDP6]);
        assert_eq!(p.ops[3], Op::Bind { slot: 1, addr: Addr::Any6, port: PortRef::Sym(1) });
    }

    #[test]
    fn accepted_socket_takes_the_listener_kind() {
        let c = parse("t", "l = socket tcp6\nlisten l\nc = accept l\n").unwrap();
        assert_eq!(compile(&c).unwrap().kinds, vec![Kind::TCP6, Kind::TCP6]);
    }

    #[test]
    fn mapped_addresses_convert_both_ways() {
        for a in Addr::ALL {
            if a.is_mapped() {
                assert_eq!(a.as_v4().unwrap().to_mapped(), a);
            }
            assert_eq!(Addr::from_ip(a.ip()), Some(a));
        }
    }
}
