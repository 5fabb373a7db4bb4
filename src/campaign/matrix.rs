//! The exhaustive small-scope matrix: every pair of sockets over kind,
//! option set, address, the first socket's state (bound, listening,
//! connected, TIME_WAIT) and the owners, plus a chosen set of triples for
//! the rules that depend on order. Every cell is a case; `sockdiff matrix`
//! runs them all for real like `fuzz` does and writes a table of the cells.

use crate::campaign::CaseSource;
use crate::case::{Addr, Case, Family, Kind, Name, Port, Proto, SockOpt, Stmt};
use crate::model::Model;
use crate::platform::Platform;

/// State the first socket is in when the second one binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum First {
    Bound,
    Listening,
    /// Connected to a helper listener on P9.
    Connected,
    /// Connected, then closed first: TIME_WAIT.
    TimeWait,
}

impl First {
    fn word(self) -> &'static str {
        match self {
            First::Bound => "bound",
            First::Listening => "listening",
            First::Connected => "connected",
            First::TimeWait => "time-wait",
        }
    }
}

/// One cell: its description, its case, and the statements the table shows.
#[derive(Clone, Debug)]
pub struct Cell {
    pub name: String,
    pub case: Case,
    /// Indices of the statements shown in the table (the last socket's
    /// bind, listen and the probe).
    pub key: Vec<usize>,
}

/// The options that mean something on `platform` (others are refused).
pub fn reuse_options(platform: Platform) -> &'static [SockOpt] {
    match platform {
        Platform::Linux | Platform::MacOs => &[SockOpt::ReuseAddr, SockOpt::ReusePort],
        Platform::FreeBsd => &[SockOpt::ReuseAddr, SockOpt::ReusePort, SockOpt::ReusePortLb],
        Platform::Windows | Platform::Wine => &[SockOpt::ReuseAddr, SockOpt::ExclusiveAddrUse],
    }
}

/// Every subset of `opts`.
fn subsets(opts: &[SockOpt]) -> Vec<Vec<SockOpt>> {
    (0..1u32 << opts.len())
        .map(|m| opts.iter().enumerate().filter(|(i, _)| m & (1 << i) != 0).map(|(_, o)| *o).collect())
        .collect()
}

/// A socket's set-up: kind, options, v6only (IPv6 only), address, owner.
#[derive(Clone, Debug)]
struct Side {
    kind: Kind,
    opts: Vec<SockOpt>,
    v6only: Option<bool>,
    addr: Addr,
    other: bool,
}

impl Side {
    fn describe(&self) -> String {
        let opts: Vec<&str> = self.opts.iter().map(|o| o.keyword()).collect();
        let v6 = match self.v6only {
            Some(true) => " v6only",
            Some(false) => " dual",
            None => "",
        };
        let who = if self.other { " other" } else { "" };
        format!("{} {{{}}}{v6} {}{who}", self.kind, opts.join(","), self.addr)
    }

    fn create(&self, name: &Name, out: &mut Vec<Stmt>) {
        out.push(Stmt::Socket { name: name.clone(), kind: self.kind, other: self.other });
        for o in &self.opts {
            out.push(Stmt::Set { name: name.clone(), opt: *o, on: true });
        }
        if let Some(v) = self.v6only {
            out.push(Stmt::Set { name: name.clone(), opt: SockOpt::V6Only, on: v });
        }
    }
}

/// Every side of `proto` for `platform`: both families, every option set,
/// explicit v6only on and off (not on with a v4-mapped address, which is
/// just EINVAL), every bindable address but the never-local one.
fn sides(proto: Proto, platform: Platform) -> Vec<Side> {
    let mut v = Vec::new();
    for family in [Family::V4, Family::V6] {
        let kind = Kind { proto, family };
        let addrs: &[Addr] = match family {
            Family::V4 => &[Addr::Any4, Addr::Lo4, Addr::Lo4b],
            Family::V6 => &[Addr::Any6, Addr::Lo6, Addr::MappedLo4, Addr::MappedAny4, Addr::MappedLo4b],
        };
        for opts in subsets(reuse_options(platform)) {
            for &addr in addrs {
                let v6 = match (family, addr.is_mapped()) {
                    (Family::V4, _) => vec![None],
                    (Family::V6, true) => vec![Some(false)],
                    (Family::V6, false) => vec![Some(false), Some(true)],
                };
                for v6only in v6 {
                    v.push(Side { kind, opts: opts.clone(), v6only, addr, other: false });
                }
            }
        }
    }
    v
}

/// Loopback destination for a socket of `kind` bound to `addr` (connect, probe).
fn loopback_for(kind: Kind, addr: Addr) -> Addr {
    match (kind.family, addr) {
        (Family::V4, Addr::Lo4b) => Addr::Lo4b,
        (Family::V4, _) => Addr::Lo4,
        (Family::V6, Addr::MappedLo4b) => Addr::MappedLo4b,
        (Family::V6, a) if a.is_mapped() => Addr::MappedLo4,
        (Family::V6, _) => Addr::Lo6,
    }
}

fn n(s: &str) -> Name {
    Name::new(s)
}

/// The pair cells for `platform`.
pub fn pairs(platform: Platform) -> Vec<Cell> {
    let mut out = Vec::new();
    for proto in [Proto::Tcp, Proto::Udp] {
        let states: &[First] = match proto {
            Proto::Tcp => &[First::Bound, First::Listening, First::Connected, First::TimeWait],
            Proto::Udp => &[First::Bound, First::Connected],
        };
        let all = sides(proto, platform);
        for a in &all {
            for &state in states {
                for b in &all {
                    for (a_other, b_other) in [(false, false), (false, true), (true, false)] {
                        let a = Side { other: a_other, ..a.clone() };
                        let b = Side { other: b_other, ..b.clone() };
                        out.push(pair(&a, state, &b));
                    }
                }
            }
        }
    }
    out
}

fn pair(a: &Side, state: First, b: &Side) -> Cell {
    let mut s = Vec::new();
    let tcp = a.kind.proto == Proto::Tcp;
    if tcp && matches!(state, First::Connected | First::TimeWait) {
        // A dual-stack helper listener on P9 for the first socket to connect to.
        s.push(Stmt::Socket { name: n("h"), kind: Kind::TCP6, other: false });
        s.push(Stmt::Set { name: n("h"), opt: SockOpt::V6Only, on: false });
        s.push(Stmt::Bind { name: n("h"), addr: Addr::Any6, port: Port::Sym(9) });
        s.push(Stmt::Listen { name: n("h") });
    }
    a.create(&n("a"), &mut s);
    s.push(Stmt::Bind { name: n("a"), addr: a.addr, port: Port::Sym(1) });
    match state {
        First::Bound => {}
        First::Listening => s.push(Stmt::Listen { name: n("a") }),
        First::Connected | First::TimeWait => {
            s.push(Stmt::Connect { name: n("a"), addr: loopback_for(a.kind, a.addr), port: Port::Sym(9) });
            if tcp {
                s.push(Stmt::Accept { name: n("x"), listener: n("h") });
            }
            if state == First::TimeWait {
                s.push(Stmt::Close { name: n("a") });
            }
        }
    }
    b.create(&n("b"), &mut s);
    let mut key = vec![s.len()];
    s.push(Stmt::Bind { name: n("b"), addr: b.addr, port: Port::Sym(1) });
    if tcp {
        key.push(s.len());
        s.push(Stmt::Listen { name: n("b") });
    }
    key.push(s.len());
    s.push(Stmt::Probe { kind: b.kind, addr: loopback_for(b.kind, b.addr), port: Port::Sym(1) });
    let name = format!("A: {} {} | B: {}", a.describe(), state.word(), b.describe());
    Cell { name, case: Case::from_stmts(s), key }
}

/// Triples for the rules that depend on order (UDP's first-match scan, the
/// TCP port memo): three IPv4 sockets with options from {}, {reuseaddr},
/// {reuseaddr, reuseport}, {reuseport} on 0.0.0.0 or 127.0.0.1, bound in
/// the order given, then a probe; and the same after the first socket
/// clears its reuseport. Plus the many-sockets UDP path.
pub fn triples(platform: Platform) -> Vec<Cell> {
    let reuse = reuse_options(platform);
    let (ra, second) = (reuse[0], reuse[1]);
    let sets: Vec<Vec<SockOpt>> = vec![vec![], vec![ra], vec![ra, second], vec![second]];
    let mut out = Vec::new();
    for proto in [Proto::Tcp, Proto::Udp] {
        let kind = Kind { proto, family: Family::V4 };
        let mut sides = Vec::new();
        for o in &sets {
            for addr in [Addr::Any4, Addr::Lo4] {
                sides.push(Side { kind, opts: o.clone(), v6only: None, addr, other: false });
            }
        }
        for x in &sides {
            for y in &sides {
                for z in &sides {
                    for clear in [false, true] {
                        if clear && !x.opts.contains(&second) {
                            continue;
                        }
                        let mut s = Vec::new();
                        for (name, side) in [("x", x), ("y", y)] {
                            side.create(&n(name), &mut s);
                            s.push(Stmt::Bind { name: n(name), addr: side.addr, port: Port::Sym(1) });
                        }
                        if clear {
                            s.push(Stmt::Set { name: n("x"), opt: second, on: false });
                        }
                        z.create(&n("z"), &mut s);
                        let key = vec![s.len(), s.len() + 1];
                        s.push(Stmt::Bind { name: n("z"), addr: z.addr, port: Port::Sym(1) });
                        s.push(Stmt::Probe { kind, addr: Addr::Lo4, port: Port::Sym(1) });
                        let name = format!(
                            "x: {} | y: {}{} | z: {}",
                            x.describe(),
                            y.describe(),
                            if clear { " | x clears its second option" } else { "" },
                            z.describe()
                        );
                        out.push(Cell { name, case: Case::from_stmts(s), key });
                    }
                }
            }
        }
    }
    // More than ten UDP sockets on one port, then a conflicting wildcard.
    for wild in [Addr::Any4, Addr::Lo4] {
        let mut s = Vec::new();
        for i in 0..11 {
            let name = n(&format!("u{i}"));
            s.push(Stmt::Socket { name: name.clone(), kind: Kind::UDP4, other: false });
            s.push(Stmt::Set { name: name.clone(), opt: ra, on: true });
            s.push(Stmt::Bind { name, addr: Addr::Lo4, port: Port::Sym(1) });
        }
        s.push(Stmt::Socket { name: n("w"), kind: Kind::UDP4, other: false });
        let key = vec![s.len()];
        s.push(Stmt::Bind { name: n("w"), addr: wild, port: Port::Sym(1) });
        out.push(Cell {
            name: format!("11 udp4 {{{}}} 127.0.0.1 | w: udp4 {{}} {wild}", ra.keyword()),
            case: Case::from_stmts(s),
            key,
        });
    }
    out
}

/// One socket on its own: every option set before and after a bind to every
/// address (the never-local one and the other family's included), port 0,
/// a second bind, listen, accept and connect without a peer, and a name
/// that never came to be.
pub fn singles() -> Vec<Cell> {
    let mut out = Vec::new();
    let a = || n("a");
    for kind in Kind::ALL {
        for opt in SockOpt::ALL {
            for addr in Addr::ALL {
                let s = vec![
                    Stmt::Socket { name: a(), kind, other: false },
                    Stmt::Set { name: a(), opt, on: true },
                    Stmt::Bind { name: a(), addr, port: Port::Sym(1) },
                    Stmt::Set { name: a(), opt, on: false },
                    Stmt::Bind { name: a(), addr, port: Port::Sym(2) },
                ];
                let name = format!("{kind} set {opt} on, bind {addr}, set {opt} off, bind again");
                out.push(Cell { name, case: Case::from_stmts(s), key: vec![1, 2, 3, 4] });
            }
        }
        for addr in Addr::ALL {
            let s = vec![
                Stmt::Socket { name: a(), kind, other: false },
                Stmt::Bind { name: a(), addr, port: Port::Zero },
                Stmt::Listen { name: a() },
                Stmt::Accept { name: n("x"), listener: a() },
                Stmt::Close { name: n("x") },
            ];
            out.push(Cell {
                name: format!("{kind} bind {addr}:0, listen, accept, close"),
                case: Case::from_stmts(s),
                key: vec![1, 2, 3, 4],
            });
            if addr.is_loopback() {
                let s = vec![
                    Stmt::Socket { name: a(), kind, other: false },
                    Stmt::Connect { name: a(), addr, port: Port::Sym(1) },
                    Stmt::Connect { name: a(), addr, port: Port::Sym(1) },
                    Stmt::Listen { name: a() },
                    Stmt::Bind { name: a(), addr, port: Port::Sym(2) },
                ];
                out.push(Cell {
                    name: format!("{kind} connect {addr} with nobody there, twice"),
                    case: Case::from_stmts(s),
                    key: vec![1, 2, 3, 4],
                });
            }
        }
        let s =
            vec![Stmt::Socket { name: a(), kind, other: false }, Stmt::Listen { name: a() }, Stmt::Close { name: a() }];
        out.push(Cell { name: format!("{kind} listen unbound, close"), case: Case::from_stmts(s), key: vec![1, 2] });
        if kind.family == Family::V6 {
            for dst in [Addr::MappedLo4, Addr::Lo6] {
                let s = vec![
                    Stmt::Socket { name: a(), kind, other: false },
                    Stmt::Set { name: a(), opt: SockOpt::V6Only, on: true },
                    Stmt::Connect { name: a(), addr: dst, port: Port::Sym(1) },
                ];
                out.push(Cell {
                    name: format!("{kind} v6only connect {dst}"),
                    case: Case::from_stmts(s),
                    key: vec![2],
                });
            }
        }
    }
    out
}

/// Connection life cycles on TCP: a listener, a client bound to P2, an
/// accepted or pending connection; then every closing order, with and
/// without linger0, and fresh binds of both ports (with and without
/// reuseaddr), and a reconnect from the client's port.
pub fn lifecycles() -> Vec<Cell> {
    #[derive(Clone, Copy)]
    enum End {
        ClientFirst,
        ServerFirst,
        ClientReset,
        ServerReset,
        ListenerWithPending,
    }
    let mut out = Vec::new();
    for (kind, addr) in [(Kind::TCP4, Addr::Lo4), (Kind::TCP6, Addr::Lo6)] {
        for end in [End::ClientFirst, End::ServerFirst, End::ClientReset, End::ServerReset, End::ListenerWithPending] {
            for reuse in [false, true] {
                let mut s = Vec::new();
                for (name, port) in [("l", 1u8), ("c", 2)] {
                    s.push(Stmt::Socket { name: n(name), kind, other: false });
                    if reuse {
                        s.push(Stmt::Set { name: n(name), opt: SockOpt::ReuseAddr, on: true });
                    }
                    s.push(Stmt::Bind { name: n(name), addr, port: Port::Sym(port) });
                }
                s.push(Stmt::Listen { name: n("l") });
                s.push(Stmt::Connect { name: n("c"), addr, port: Port::Sym(1) });
                let first = s.len();
                let close = |x: &str| Stmt::Close { name: n(x) };
                let linger = |x: &str| Stmt::Set { name: n(x), opt: SockOpt::Linger0, on: true };
                match end {
                    End::ListenerWithPending => s.push(close("l")),
                    _ => {
                        s.push(Stmt::Accept { name: n("s"), listener: n("l") });
                        let (a, b) = match end {
                            End::ClientFirst | End::ClientReset => ("c", "s"),
                            _ => ("s", "c"),
                        };
                        if matches!(end, End::ClientReset | End::ServerReset) {
                            s.push(linger(a));
                        }
                        s.push(close(a));
                        s.push(close(b));
                        s.push(close("l"));
                    }
                }
                for (name, port) in [("m", 1u8), ("k", 2)] {
                    s.push(Stmt::Socket { name: n(name), kind, other: false });
                    if reuse {
                        s.push(Stmt::Set { name: n(name), opt: SockOpt::ReuseAddr, on: true });
                    }
                    s.push(Stmt::Bind { name: n(name), addr, port: Port::Sym(port) });
                }
                // Reuse the client's 4-tuple towards a new listener on P1.
                s.push(Stmt::Listen { name: n("m") });
                s.push(Stmt::Connect { name: n("k"), addr, port: Port::Sym(1) });
                let key: Vec<usize> = (first..s.len()).collect();
                let what = match end {
                    End::ClientFirst => "client closes first",
                    End::ServerFirst => "server closes first",
                    End::ClientReset => "client resets",
                    End::ServerReset => "server resets",
                    End::ListenerWithPending => "listener closes with the connection pending",
                };
                let name = format!(
                    "{kind} {what}{}, then rebind both ports and reconnect",
                    if reuse { ", reuseaddr" } else { "" }
                );
                out.push(Cell { name, case: Case::from_stmts(s), key });
            }
        }
    }
    // Two reuseaddr sockets on one address and port connect to the same
    // listener; then a connected socket connects again.
    for kind in [Kind::TCP4, Kind::TCP6] {
        let addr = if kind.family == Family::V4 { Addr::Lo4 } else { Addr::Lo6 };
        let mut s = vec![
            Stmt::Socket { name: n("l"), kind, other: false },
            Stmt::Bind { name: n("l"), addr, port: Port::Sym(1) },
            Stmt::Listen { name: n("l") },
        ];
        for c in ["a", "b"] {
            s.push(Stmt::Socket { name: n(c), kind, other: false });
            s.push(Stmt::Set { name: n(c), opt: SockOpt::ReuseAddr, on: true });
            s.push(Stmt::Bind { name: n(c), addr, port: Port::Sym(2) });
        }
        let key = vec![s.len(), s.len() + 1, s.len() + 2, s.len() + 3];
        s.push(Stmt::Connect { name: n("a"), addr, port: Port::Sym(1) });
        s.push(Stmt::Connect { name: n("b"), addr, port: Port::Sym(1) });
        s.push(Stmt::Connect { name: n("a"), addr, port: Port::Sym(1) });
        s.push(Stmt::Connect { name: n("l"), addr, port: Port::Sym(1) });
        out.push(Cell {
            name: format!("{kind} two sockets on one port connect to one peer"),
            case: Case::from_stmts(s),
            key,
        });
    }
    // A connect from the same bound port to the same peer, over TIME_WAIT.
    let s = vec![
        Stmt::Socket { name: n("a"), kind: Kind::TCP4, other: false },
        Stmt::Bind { name: n("a"), addr: Addr::Any4, port: Port::Sym(1) },
        Stmt::Connect { name: n("a"), addr: Addr::Lo4, port: Port::Sym(1) },
        Stmt::Set { name: n("a"), opt: SockOpt::ReuseAddr, on: true },
        Stmt::Close { name: n("a") },
        Stmt::Socket { name: n("b"), kind: Kind::TCP4, other: false },
        Stmt::Set { name: n("b"), opt: SockOpt::ReuseAddr, on: true },
        Stmt::Bind { name: n("b"), addr: Addr::Any4, port: Port::Sym(1) },
        Stmt::Connect { name: n("b"), addr: Addr::Lo4, port: Port::Sym(1) },
    ];
    out.push(Cell {
        name: "tcp4 self-connect, close, rebind and connect the same 4-tuple".into(),
        case: Case::from_stmts(s),
        key: vec![2, 4, 7, 8],
    });
    // A tcp6 socket after a connect to a v4-mapped peer (one 2 s wait).
    let s = vec![
        Stmt::Socket { name: n("l"), kind: Kind::TCP6, other: false },
        Stmt::Bind { name: n("l"), addr: Addr::Lo6, port: Port::Sym(1) },
        Stmt::Listen { name: n("l") },
        Stmt::Socket { name: n("a"), kind: Kind::TCP6, other: false },
        Stmt::Connect { name: n("a"), addr: Addr::MappedLo4, port: Port::Sym(2) },
        Stmt::Connect { name: n("a"), addr: Addr::Lo6, port: Port::Sym(1) },
    ];
    out.push(Cell {
        name: "tcp6 connect to a v4-mapped peer, then to [::1]".into(),
        case: Case::from_stmts(s),
        key: vec![4, 5],
    });
    // A listener whose refused connect set its incoming CPU, beside an equal
    // listener first in the chain; neither hands over to its group.
    let mut s = Vec::new();
    for (name, connect_first) in [("a", true), ("c", false)] {
        s.push(Stmt::Socket { name: n(name), kind: Kind::TCP4, other: false });
        s.push(Stmt::Set { name: n(name), opt: SockOpt::ReusePort, on: true });
        if connect_first {
            s.push(Stmt::Connect { name: n(name), addr: Addr::Lo4, port: Port::Sym(1) });
        }
        s.push(Stmt::Bind { name: n(name), addr: Addr::Any4, port: Port::Sym(1) });
    }
    for name in ["a", "c"] {
        s.push(Stmt::Listen { name: n(name) });
        s.push(Stmt::Set { name: n(name), opt: SockOpt::ReusePort, on: false });
    }
    s.push(Stmt::Probe { kind: Kind::TCP4, addr: Addr::Lo4, port: Port::Sym(1) });
    out.push(Cell {
        name: "tcp4 listener that received before it listened, beside an equal one".into(),
        key: vec![2, s.len() - 1],
        case: Case::from_stmts(s),
    });
    out
}

/// The subject's state before the statement under test in [`arguments`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Before {
    Fresh,
    /// Bound to its family's wildcard at P1.
    Bound,
    /// Bound, then listening (TCP only).
    Listening,
    /// Connected to the helper of its protocol.
    Connected,
}

/// Every argument the language allows, on every statement that takes one:
/// for each kind and each state of a socket `a` (fresh, bound, listening,
/// connected), `bind a` to every address with `P2`, `0`, `@a` and `@h`;
/// `connect a` to every loopback form with `P2` (nobody there), `P3` and
/// `@h` (the helpers), `0` and `@a`; and probes of every kind to the same
/// targets. The helpers are a dual-stack TCP listener and a dual-stack UDP
/// socket on `[::]:P3`. After the statement, `listen a` and a probe of
/// `a`'s kind to its own port show what the statement left behind: the
/// kernel's order of checks, not only its common paths.
pub fn arguments() -> Vec<Cell> {
    let mut out = Vec::new();
    let loopbacks: Vec<Addr> = Addr::ALL.into_iter().filter(|a| a.is_loopback()).collect();
    for kind in Kind::ALL {
        let tcp = kind.proto == Proto::Tcp;
        let befores: &[Before] = if tcp {
            &[Before::Fresh, Before::Bound, Before::Listening, Before::Connected]
        } else {
            &[Before::Fresh, Before::Bound, Before::Connected]
        };
        for &before in befores {
            let mut setup = Vec::new();
            for (h, hk) in [("h", Kind::TCP6), ("u", Kind::UDP6)] {
                setup.push(Stmt::Socket { name: n(h), kind: hk, other: false });
                setup.push(Stmt::Set { name: n(h), opt: SockOpt::V6Only, on: false });
                setup.push(Stmt::Bind { name: n(h), addr: Addr::Any6, port: Port::Sym(3) });
            }
            setup.push(Stmt::Listen { name: n("h") });
            setup.push(Stmt::Socket { name: n("a"), kind, other: false });
            let wild = if kind.family == Family::V4 { Addr::Any4 } else { Addr::Any6 };
            let lo = if kind.family == Family::V4 { Addr::Lo4 } else { Addr::Lo6 };
            let helper = if tcp { n("h") } else { n("u") };
            match before {
                Before::Fresh => {}
                Before::Bound => setup.push(Stmt::Bind { name: n("a"), addr: wild, port: Port::Sym(1) }),
                Before::Listening => {
                    setup.push(Stmt::Bind { name: n("a"), addr: wild, port: Port::Sym(1) });
                    setup.push(Stmt::Listen { name: n("a") });
                }
                Before::Connected => {
                    setup.push(Stmt::Connect { name: n("a"), addr: lo, port: Port::Of(helper.clone()) })
                }
            }
            // `@a` is valid only where `a` holds a port.
            let holds = before != Before::Fresh;
            let mut under: Vec<Stmt> = Vec::new();
            let mut ports = vec![Port::Sym(2), Port::Zero, Port::Of(n("h"))];
            if holds {
                ports.push(Port::Of(n("a")));
            }
            for addr in Addr::ALL {
                for port in &ports {
                    under.push(Stmt::Bind { name: n("a"), addr, port: port.clone() });
                }
            }
            let mut targets = vec![Port::Sym(2), Port::Sym(3), Port::Zero, Port::Of(helper.clone())];
            if holds {
                targets.push(Port::Of(n("a")));
            }
            for &addr in &loopbacks {
                for port in &targets {
                    under.push(Stmt::Connect { name: n("a"), addr, port: port.clone() });
                    for pk in Kind::ALL {
                        under.push(Stmt::Probe { kind: pk, addr, port: port.clone() });
                    }
                }
            }
            for stmt in under {
                let mut st = setup.clone();
                let key = vec![st.len(), st.len() + 1, st.len() + 2];
                let name = format!("{kind} {}: {stmt}", format!("{before:?}").to_lowercase());
                st.push(stmt);
                st.push(Stmt::Listen { name: n("a") });
                // (A fresh socket that still holds no port is probed at P1.)
                let own = if holds { Port::Of(n("a")) } else { Port::Sym(1) };
                st.push(Stmt::Probe { kind, addr: lo, port: own });
                out.push(Cell { name, case: Case::from_stmts(st), key });
            }
        }
    }
    out
}

/// Every subset of {reuseaddr, reuseport} as options on a socket.
fn linux_reuse_sets(platform: Platform) -> Vec<Vec<SockOpt>> {
    let r = reuse_options(platform);
    subsets(&r[..2])
}

/// Connections over their whole life (issue 12's classes: TIME_WAIT
/// reached by each close order with every option and owner, more than one
/// pending connection before an accept): a listener `l` and a client `c`
/// bound to P1 and P2 with every pair of option sets of reuseaddr and
/// reuseport and every pair of owners, for IPv4, IPv6 and v4-mapped, bound
/// to loopback or the wildcard; then each end (either side closes first,
/// either side resets with linger0, the listener closes with one or two
/// connections pending); then new sockets like them bind both ports again,
/// one listens, the other connects from the old client's port (the
/// 4-tuple a TIME_WAIT may hold), a probe, and after the listener's close
/// a third socket like it binds and listens where the probe's connection was.
pub fn connections(platform: Platform) -> Vec<Cell> {
    let sets = linux_reuse_sets(platform);
    let ends = [
        "client closes first",
        "server closes first",
        "client resets",
        "server resets",
        "listener closes, one pending",
        "listener closes, two pending",
    ];
    let mut out = Vec::new();
    let forms = [
        (Kind::TCP4, Addr::Lo4, Addr::Lo4),
        (Kind::TCP4, Addr::Any4, Addr::Lo4),
        (Kind::TCP4, Addr::Lo4b, Addr::Lo4b),
        (Kind::TCP6, Addr::Lo6, Addr::Lo6),
        (Kind::TCP6, Addr::Any6, Addr::Lo6),
        (Kind::TCP6, Addr::MappedLo4, Addr::MappedLo4),
    ];
    for (kind, bind, dst) in forms {
        for lo in &sets {
            for co in &sets {
                for (l_other, c_other) in [(false, false), (true, false), (false, true)] {
                    for (e, what) in ends.iter().enumerate() {
                        let mut s = Vec::new();
                        let make = |s: &mut Vec<Stmt>, name: &str, opts: &[SockOpt], other: bool, port: u8| {
                            s.push(Stmt::Socket { name: n(name), kind, other });
                            for o in opts {
                                s.push(Stmt::Set { name: n(name), opt: *o, on: true });
                            }
                            s.push(Stmt::Bind { name: n(name), addr: bind, port: Port::Sym(port) });
                        };
                        make(&mut s, "l", lo, l_other, 1);
                        make(&mut s, "c", co, c_other, 2);
                        s.push(Stmt::Listen { name: n("l") });
                        s.push(Stmt::Connect { name: n("c"), addr: dst, port: Port::Sym(1) });
                        let first = s.len();
                        let close = |x: &str| Stmt::Close { name: n(x) };
                        let linger = |x: &str| Stmt::Set { name: n(x), opt: SockOpt::Linger0, on: true };
                        match e {
                            0..=3 => {
                                s.push(Stmt::Accept { name: n("s"), listener: n("l") });
                                let (a, b) = if e % 2 == 0 { ("c", "s") } else { ("s", "c") };
                                if e >= 2 {
                                    s.push(linger(a));
                                }
                                s.push(close(a));
                                s.push(close(b));
                                s.push(close("l"));
                            }
                            _ => {
                                if e == 5 {
                                    s.push(Stmt::Socket { name: n("d"), kind, other: c_other });
                                    s.push(Stmt::Connect { name: n("d"), addr: dst, port: Port::Sym(1) });
                                    s.push(Stmt::Accept { name: n("s"), listener: n("l") });
                                }
                                s.push(close("l"));
                            }
                        }
                        make(&mut s, "m", lo, l_other, 1);
                        make(&mut s, "k", co, c_other, 2);
                        s.push(Stmt::Listen { name: n("m") });
                        s.push(Stmt::Connect { name: n("k"), addr: dst, port: Port::Sym(1) });
                        s.push(Stmt::Probe { kind, addr: dst, port: Port::Sym(1) });
                        // What the probe's connection left on the port (after
                        // the server closed first, the reconnect's SYN ended
                        // the server's TIME_WAIT).
                        s.push(Stmt::Close { name: n("m") });
                        make(&mut s, "q", lo, l_other, 1);
                        s.push(Stmt::Listen { name: n("q") });
                        let key: Vec<usize> = (first..s.len()).collect();
                        let opts = |o: &[SockOpt]| o.iter().map(|x| x.keyword()).collect::<Vec<_>>().join(",");
                        let name = format!(
                            "{kind} {bind}: l {{{}}}{} c {{{}}}{}: {what}, then bind both ports again and reconnect",
                            opts(lo),
                            if l_other { " other" } else { "" },
                            opts(co),
                            if c_other { " other" } else { "" }
                        );
                        out.push(Cell { name, case: Case::from_stmts(s), key });
                    }
                }
            }
        }
    }
    out
}

/// The addresses a socket of `kind` binds in the families below.
fn family_addrs(kind: Kind) -> &'static [Addr] {
    match kind.family {
        Family::V4 => &[Addr::Any4, Addr::Lo4, Addr::Lo4b],
        Family::V6 => &[Addr::Any6, Addr::Lo6, Addr::MappedLo4, Addr::MappedAny4],
    }
}

/// Reuseport groups and the port memo (issue 12's classes: both sockets
/// of a shared bind then listening, options changed after an automatic
/// bind): for every kind and address, `x` with reuseport binds P1 (or gets
/// a port by itself: bind to port 0, listen unbound), listens (TCP), and
/// then `y` and `z`, with reuseport and with or without reuseaddr, take
/// `@x` at every address of the family; one of the three turns reuseport
/// off again; both listen; a probe of every loopback form of the family
/// after each step of the group's life.
pub fn groups(platform: Platform) -> Vec<Cell> {
    let rp = reuse_options(platform)[1];
    let ra = reuse_options(platform)[0];
    let mut out = Vec::new();
    for kind in Kind::ALL {
        let tcp = kind.proto == Proto::Tcp;
        let dsts: Vec<Addr> = match kind.family {
            Family::V4 => vec![Addr::Lo4, Addr::Lo4b],
            Family::V6 => vec![Addr::Lo6, Addr::MappedLo4],
        };
        for &xa in family_addrs(kind) {
            for how in ["bind P1", "bind 0", "autobind"] {
                if how == "autobind" && (!tcp || xa != family_addrs(kind)[0]) {
                    continue;
                }
                for &ya in family_addrs(kind) {
                    for y_ra in [false, true] {
                        for clear in [None, Some("x"), Some("y")] {
                            let mut s = Vec::new();
                            s.push(Stmt::Socket { name: n("x"), kind, other: false });
                            s.push(Stmt::Set { name: n("x"), opt: rp, on: true });
                            match how {
                                "bind P1" => s.push(Stmt::Bind { name: n("x"), addr: xa, port: Port::Sym(1) }),
                                "bind 0" => s.push(Stmt::Bind { name: n("x"), addr: xa, port: Port::Zero }),
                                _ => {}
                            }
                            if tcp {
                                s.push(Stmt::Listen { name: n("x") });
                            }
                            let key0 = s.len();
                            for name in ["y", "z"] {
                                s.push(Stmt::Socket { name: n(name), kind, other: false });
                                if y_ra {
                                    s.push(Stmt::Set { name: n(name), opt: ra, on: true });
                                }
                                s.push(Stmt::Set { name: n(name), opt: rp, on: true });
                                s.push(Stmt::Bind { name: n(name), addr: ya, port: Port::Of(n("x")) });
                                if name == "y" {
                                    if let Some(c) = clear {
                                        s.push(Stmt::Set { name: n(c), opt: rp, on: false });
                                    }
                                }
                            }
                            if tcp {
                                s.push(Stmt::Listen { name: n("y") });
                                s.push(Stmt::Listen { name: n("z") });
                            }
                            for &d in &dsts {
                                s.push(Stmt::Probe { kind, addr: d, port: Port::Of(n("x")) });
                            }
                            s.push(Stmt::Close { name: n("x") });
                            for &d in &dsts {
                                s.push(Stmt::Probe { kind, addr: d, port: Port::Of(n("y")) });
                            }
                            if !tcp {
                                // A datagram to port 0 beside the group.
                                s.push(Stmt::Probe { kind: Kind::UDP6, addr: dsts[0], port: Port::Zero });
                            }
                            let key = (key0..s.len()).collect();
                            let name = format!(
                                "{kind} group: x {how} {xa} | y, z {{reuseport{}}} {ya}{}",
                                if y_ra { ",reuseaddr" } else { "" },
                                clear.map(|c| format!(" | {c} turns reuseport off")).unwrap_or_default()
                            );
                            out.push(Cell { name, case: Case::from_stmts(s), key });
                        }
                    }
                }
            }
        }
    }
    // The memo after the port empties: `x` with reuseport binds P1 (and
    // listens) and closes while another TCP socket lives on P9; then `y`
    // with reuseport binds P1 first, turns reuseport off (so it blocks),
    // and `z` with reuseport binds P1 at every address: a memo left from
    // `x` would let it through.
    for kind in [Kind::TCP4, Kind::TCP6] {
        for &xa in family_addrs(kind) {
            for listen in [false, true] {
                for &ya in family_addrs(kind) {
                    for &za in family_addrs(kind) {
                        let mut s = vec![
                            Stmt::Socket { name: n("h"), kind, other: false },
                            Stmt::Bind { name: n("h"), addr: family_addrs(kind)[0], port: Port::Sym(9) },
                            Stmt::Socket { name: n("x"), kind, other: false },
                            Stmt::Set { name: n("x"), opt: rp, on: true },
                            Stmt::Bind { name: n("x"), addr: xa, port: Port::Sym(1) },
                        ];
                        if listen {
                            s.push(Stmt::Listen { name: n("x") });
                        }
                        s.push(Stmt::Close { name: n("x") });
                        let key0 = s.len();
                        for (name, a) in [("y", ya), ("z", za)] {
                            s.push(Stmt::Socket { name: n(name), kind, other: false });
                            s.push(Stmt::Set { name: n(name), opt: rp, on: true });
                            s.push(Stmt::Bind { name: n(name), addr: a, port: Port::Sym(1) });
                            if name == "y" {
                                s.push(Stmt::Set { name: n("y"), opt: rp, on: false });
                            }
                        }
                        s.push(Stmt::Listen { name: n("z") });
                        let key = (key0..s.len()).collect();
                        let name = format!(
                            "{kind} memo after the port empties: x {{reuseport}} {xa}{} closed | y {ya} turns reuseport off | z {za}",
                            if listen { " listening" } else { "" }
                        );
                        out.push(Cell { name, case: Case::from_stmts(s), key });
                    }
                }
            }
        }
    }
    out
}

/// UDP holder counts on both sides of the many-sockets threshold (more
/// than ten on a port): ten or eleven sockets of one option set on one
/// address, then a socket of every option set at every address of the
/// family, as the main user or another, one after another.
pub fn crowds(platform: Platform) -> Vec<Cell> {
    let sets = linux_reuse_sets(platform);
    let mut out = Vec::new();
    for kind in [Kind::UDP4, Kind::UDP6] {
        let addrs = family_addrs(kind);
        for &base in &addrs[..2] {
            for opts in sets.iter().filter(|o| !o.is_empty()) {
                for (count, other, by_set) in (0..8).map(|i| (10 + (i & 1), i & 2 != 0, i & 4 != 0)) {
                    let mut s = Vec::new();
                    for i in 0..count {
                        let name = n(&format!("u{i}"));
                        s.push(Stmt::Socket { name: name.clone(), kind, other: false });
                        for o in opts {
                            s.push(Stmt::Set { name: name.clone(), opt: *o, on: true });
                        }
                        s.push(Stmt::Bind { name, addr: base, port: Port::Sym(1) });
                    }
                    let key0 = s.len();
                    // Address by address, or option set by option set (a
                    // tail that binds the base address again after another
                    // specific one: the address chains are scanned apart).
                    let tails: Vec<(Addr, &Vec<SockOpt>)> = if by_set {
                        sets.iter().flat_map(|t| addrs.iter().map(move |&a| (a, t))).collect()
                    } else {
                        addrs.iter().flat_map(|&a| sets.iter().map(move |t| (a, t))).collect()
                    };
                    for (i, (a, tail)) in tails.into_iter().enumerate() {
                        let name = n(&format!("w{i}"));
                        s.push(Stmt::Socket { name: name.clone(), kind, other });
                        for o in tail {
                            s.push(Stmt::Set { name: name.clone(), opt: *o, on: true });
                        }
                        s.push(Stmt::Bind { name, addr: a, port: Port::Sym(1) });
                    }
                    let lo = if kind.family == Family::V4 { Addr::Lo4 } else { Addr::MappedLo4 };
                    s.push(Stmt::Probe { kind, addr: lo, port: Port::Sym(1) });
                    let key = (key0..s.len()).collect();
                    let o: Vec<&str> = opts.iter().map(|x| x.keyword()).collect();
                    let name = format!(
                        "{count} {kind} {{{}}} {base}, then one of every option set at every address, {}{}",
                        o.join(","),
                        if by_set { "set by set" } else { "address by address" },
                        if other { " as other" } else { "" }
                    );
                    out.push(Cell { name, case: Case::from_stmts(s), key });
                }
            }
        }
    }
    out
}

/// Every cell for `platform`: pairs, triples, single sockets, life cycles,
/// the argument space; on the Unix platforms also connections over their
/// whole life, reuseport groups and the port memo, and UDP crowds.
pub fn cells(platform: Platform) -> Vec<Cell> {
    let mut v = pairs(platform);
    v.extend(triples(platform));
    v.extend(singles());
    v.extend(lifecycles());
    v.extend(arguments());
    if matches!(platform, Platform::Linux | Platform::FreeBsd | Platform::MacOs) {
        v.extend(connections(platform));
        v.extend(groups(platform));
        v.extend(crowds(platform));
    }
    if platform == Platform::Linux {
        v.extend(receivers(platform));
    }
    v
}

/// Connected UDP sockets and the CPU they received on (a hole cargo-mutants
/// showed: no cell had a socket win by compute_score's same-CPU bonus).
/// Two sockets with reuseaddr (and reuseport) on one address, each
/// connected to the loopback's port 0 so that they take the probes; one
/// receives before the other exists, or before it connects, or neither
/// has received when both are connected; then probes. A connected UDP
/// socket records the CPU a datagram came in on, and wins over an equal
/// that comes first in the chain when the next one comes in on that CPU.
pub fn receivers(platform: Platform) -> Vec<Cell> {
    let mut out = Vec::new();
    for kind in [Kind::UDP4, Kind::UDP6] {
        for &addr in &family_addrs(kind)[..2] {
            let peer = loopback_for(kind, addr);
            for opts in linux_reuse_sets(platform).into_iter().filter(|o| o.contains(&SockOpt::ReuseAddr)) {
                for (order, what) in ["a receives, then b", "both connect, then receive", "a receives, then b connects"]
                    .iter()
                    .enumerate()
                {
                    let open = |s: &mut Vec<Stmt>, name: &str| {
                        s.push(Stmt::Socket { name: n(name), kind, other: false });
                        for o in &opts {
                            s.push(Stmt::Set { name: n(name), opt: *o, on: true });
                        }
                        s.push(Stmt::Bind { name: n(name), addr, port: Port::Sym(1) });
                    };
                    let connect = |name: &str| Stmt::Connect { name: n(name), addr: peer, port: Port::Zero };
                    let probe = Stmt::Probe { kind, addr: peer, port: Port::Sym(1) };
                    let mut s = Vec::new();
                    open(&mut s, "a");
                    match order {
                        0 => {
                            s.push(connect("a"));
                            s.push(probe.clone());
                            open(&mut s, "b");
                            s.push(connect("b"));
                        }
                        1 => {
                            open(&mut s, "b");
                            s.push(connect("a"));
                            s.push(connect("b"));
                        }
                        _ => {
                            s.push(connect("a"));
                            open(&mut s, "b");
                            s.push(probe.clone());
                            s.push(connect("b"));
                        }
                    }
                    s.push(probe.clone());
                    s.push(probe);
                    let key = (s.len() - 2..s.len()).collect();
                    let o: Vec<&str> = opts.iter().map(|x| x.keyword()).collect();
                    let name = format!("two {kind} {{{}}} on {addr} connected to {peer}:0: {what}", o.join(","));
                    out.push(Cell { name, case: Case::from_stmts(s), key });
                }
            }
        }
    }
    out
}

/// The matrix as a source of cases for a campaign.
pub struct Matrix {
    pub cells: Vec<Cell>,
}

impl CaseSource for Matrix {
    fn case(&self, index: u64, _model: &dyn Model) -> Option<(String, Case)> {
        self.cells.get(index as usize).map(|c| (index.to_string(), c.case.clone()))
    }

    fn total(&self) -> Option<u64> {
        Some(self.cells.len() as u64)
    }

    fn key_steps(&self, index: u64) -> Vec<usize> {
        self.cells.get(index as usize).map(|c| c.key.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::case::{compile, parse, print};

    #[test]
    fn every_cell_is_a_valid_case_that_prints_and_parses() {
        for p in [Platform::Linux, Platform::FreeBsd, Platform::Windows] {
            let cells = cells(p);
            assert!(cells.len() > 1000, "{p}: {}", cells.len());
            for c in cells.iter().step_by(97) {
                assert!(compile(&c.case).is_ok(), "{}", c.name);
                assert_eq!(parse("cell", &print(&c.case)).unwrap(), c.case, "{}", c.name);
                assert!(c.key.iter().all(|&k| k < c.case.len()));
            }
        }
    }

    /// The (statement, address, port form) triples the cases use.
    pub(crate) fn forms(cases: impl Iterator<Item = Case>) -> std::collections::BTreeSet<(String, Addr, &'static str)> {
        let form = |p: &Port| match p {
            Port::Sym(_) => "P",
            Port::Zero => "0",
            Port::Of(_) => "@",
        };
        let mut seen = std::collections::BTreeSet::new();
        for c in cases {
            for st in c.stmts() {
                match st {
                    Stmt::Bind { addr, port, .. } => seen.insert(("bind".to_string(), *addr, form(port))),
                    Stmt::Connect { addr, port, .. } => seen.insert(("connect".to_string(), *addr, form(port))),
                    Stmt::Probe { kind, addr, port } => seen.insert((format!("probe {kind}"), *addr, form(port))),
                    _ => false,
                };
            }
        }
        seen
    }

    /// What [`forms`] must find: every address for bind, every loopback
    /// form for connect and each probe kind, each with P, 0 and @.
    pub(crate) fn every_form() -> Vec<(String, Addr, &'static str)> {
        let mut want = Vec::new();
        for f in ["P", "0", "@"] {
            for a in Addr::ALL {
                want.push(("bind".to_string(), a, f));
                if a.is_loopback() {
                    want.push(("connect".to_string(), a, f));
                    for k in Kind::ALL {
                        want.push((format!("probe {k}"), a, f));
                    }
                }
            }
        }
        want
    }

    #[test]
    fn the_argument_cells_use_every_argument_the_language_allows() {
        let seen = forms(arguments().into_iter().map(|c| c.case));
        let missing: Vec<_> = every_form().into_iter().filter(|f| !seen.contains(f)).collect();
        assert!(missing.is_empty(), "{missing:?}");
        // For each kind of socket, too.
        for kind in Kind::ALL {
            let mine = forms(arguments().into_iter().filter(|c| c.name.starts_with(kind.keyword())).map(|c| c.case));
            assert!(mine.contains(&("bind".to_string(), Addr::TestNet, "0")), "{kind}");
            assert!(mine.contains(&("connect".to_string(), Addr::MappedLo4b, "@")), "{kind}");
        }
    }

    #[test]
    fn the_linux_matrix_has_the_expected_size() {
        // TCP: A (v4 12 + v6 28 sides) x 4 states x B 40 sides x 3 owner pairs;
        // UDP: the same with 2 states; triples: 2 x (8^3 + 4 x 8 x 8 x 8 / 2) + 2.
        let pairs = pairs(Platform::Linux).len();
        assert_eq!(pairs, 40 * 4 * 40 * 3 + 40 * 2 * 40 * 3);
        assert_eq!(triples(Platform::Linux).len(), 2 * (512 + 256) + 2);
    }
}
