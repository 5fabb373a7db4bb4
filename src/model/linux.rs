//! The `linux` model: Linux 6.8+ (checked on 6.18) as described in
//! `shared/semantics/linux.md`, one rule per decision, checks in the order
//! the kernel makes them. Rule ids and sources: [`super::rules`].

use super::kit::{pending_of, same_endpoint, source_for, wildcard};
use super::rules::*;
use super::state::{
    Endpoint, Life, Memo, Opts, PortMemo, PortVal, SlotState, Sock, SockId, State, Tcp, View, ipv4_equal, ipv6_equal,
    rcv_saddr_equal, tcp_overlap,
};
use super::{Branch, DEST_PORT_ZERO, Model, PortArg, Prediction, StepCtx, begin_close, fail, ok, rule_ids_of};
use crate::case::{Addr, Family, Kind, Op, Proto, Slot, SockOpt};
use crate::outcome::{Errno, Outcome};
use crate::platform::{ModelSpec, Platform, Version};

use Errno::*;

/// The Linux model.
#[derive(Clone, Debug)]
pub struct Linux {
    version: Option<Version>,
    /// `net.ipv6.bindv6only`: new IPv6 sockets start v6only.
    bindv6only: bool,
    /// The role-lock variant ([`LINUX_TCP_ROLE_LOCK`]).
    role_lock: bool,
}

impl Linux {
    /// The upstream model of `version` (newest known if `None`).
    pub fn new(version: Option<Version>, bindv6only: bool) -> Linux {
        Linux { version, bindv6only, role_lock: false }
    }

    /// The same model with the role-lock variant on or off.
    pub fn with_role_lock(self, on: bool) -> Linux {
        Linux { role_lock: on, ..self }
    }
}

/// The live socket of a slot, or the EBADF answer for a dead name.
fn live(st: &State, slot: Slot) -> Result<SockId, Prediction> {
    super::live(st, slot, LINUX_DEAD_NAME)
}

impl Model for Linux {
    fn spec(&self) -> ModelSpec {
        let mut spec = ModelSpec::versioned(Platform::Linux, self.version.clone());
        if self.role_lock {
            spec.variants.insert(super::variants::name_of(LINUX_TCP_ROLE_LOCK).to_string());
        }
        spec
    }

    fn step(&self, st: &State, op: &Op, ctx: &StepCtx<'_>) -> Prediction {
        let mut p = match *op {
            Op::Socket { slot, kind, other } => {
                let mut ns = st.clone();
                let id = ns.add(Sock::new(kind, other, self.bindv6only));
                ns.slots[slot as usize] = SlotState::Live(id);
                ok(LINUX_SOCKET, ns)
            }
            Op::Set { slot, opt, on } => self.set(st, slot, opt, on),
            Op::Bind { slot, addr, .. } => self.bind(st, slot, addr, ctx),
            Op::Listen { slot } => self.listen(st, slot, ctx),
            Op::Connect { slot, addr, .. } => self.connect(st, slot, addr, ctx),
            Op::Accept { slot, listener } => self.accept(st, slot, listener),
            Op::Close { slot } => self.close(st, slot),
            Op::Probe { kind, addr, .. } => self.probe(st, kind, addr, ctx),
        };
        for b in &mut p.branches {
            prune_memos(&mut b.state);
        }
        p
    }

    fn rule_ids(&self) -> Vec<&'static str> {
        let spec = self.spec();
        rule_ids_of(&["linux"])
            .into_iter()
            .filter(|id| super::rules::applies(id, self.version.as_ref()) && super::variants::allows(id, &spec))
            .collect()
    }
}

/// A port's memo lives while the port has an owner that was not bound by
/// connect (the 2025 "update bind bucket state on port release" series
/// resets it when only connect-bound owners remain; before that, while the
/// port has any owner, which is the same for the cases sockdiff makes
/// unless connect-bound sockets outlive every bound one).
fn prune_memos(st: &mut State) {
    let socks = &st.socks;
    st.memos.retain(|(p, _)| socks.iter().any(|s| s.is_tcp() && s.port() == Some(*p) && !s.connect_bound));
}

/// Binding a plain (not v4-mapped, not wildcard) IPv6 address makes the
/// socket v6only (`__inet6_bind` sets `sk_ipv6only`); an address that
/// connect fills in does not.
fn forces_v6only(family: Family, addr: Addr) -> bool {
    family == Family::V6 && addr == Addr::Lo6
}

/// The address an unbound socket binds when it gets a port by itself: the
/// one it kept under SOCK_BINDADDR_LOCK, else the wildcard.
fn kept_addr(s: &Sock) -> Addr {
    match s.bound_addr {
        Some(a) if s.addr_locked => a,
        _ => wildcard(s.kind.family),
    }
}

/// Whether binding `addr` sets SOCK_BINDADDR_LOCK: any IPv4 address but
/// 0.0.0.0, any IPv6 address but `[::]` (so `[::ffff:0.0.0.0]` locks).
fn locks_addr(addr: Addr) -> bool {
    !matches!(addr, Addr::Any4 | Addr::Any6)
}

/// Two sockets "are the same user" for the reuseport test.
fn same_uid(a: &Sock, b: &Sock) -> bool {
    a.other == b.other
}

/// The TCP pair test: `None` if `t` blocks `me`, else the exemption rule.
fn tcp_exempt(me: &Sock, t: &Sock) -> Option<&'static str> {
    let t_listen = t.tcp == Tcp::Listen && t.life == Life::Live;
    let t_tw = t.life == Life::Orphan { tw: true };
    if me.opts.reuseaddr && t.opts.reuseaddr && !t_listen {
        Some(LINUX_TCP_REUSEADDR_PAIR)
    } else if me.opts.reuseport && t.opts.reuseport && (t_tw || same_uid(me, t)) {
        Some(LINUX_TCP_REUSEPORT_PAIR)
    } else {
        None
    }
}

/// Result of a full TCP conflict scan.
struct Scan {
    /// A holder that blocks, preferring an open socket over a closed one.
    blocker: Option<SockId>,
    /// The exemption that let an overlapping holder pass, if any.
    exempt: Option<&'static str>,
}

fn tcp_scan(st: &State, me_id: SockId, me: &Sock, port: PortVal) -> Scan {
    let addr = me.kaddr().expect("scanned socket has an address");
    let mut scan = Scan { blocker: None, exempt: None };
    for t_id in st.holders(Proto::Tcp, port, Some(me_id)) {
        let t = st.sock(t_id);
        if !t.kaddr().is_some_and(|old| tcp_overlap(&addr, &old)) {
            continue;
        }
        match tcp_exempt(me, t) {
            Some(rule) => {
                if scan.exempt != Some(LINUX_TCP_REUSEPORT_PAIR) {
                    scan.exempt = Some(rule);
                }
            }
            None => {
                let better = match scan.blocker {
                    None => true,
                    Some(b) => matches!(st.sock(b).life, Life::Orphan { .. }) && !matches!(t.life, Life::Orphan { .. }),
                };
                if better {
                    scan.blocker = Some(t_id);
                }
            }
        }
    }
    scan
}

/// Rule 19: does the port's reuseport memo let `me` skip the scan?
/// (`sk_reuseport_match`: the memo's address compared with wildcard
/// matching on its side only; no address test in ANY mode.)
fn memo_matches(memo: Option<Memo>, me: &Sock) -> bool {
    let (Some(m), Some(a)) = (memo.and_then(|m| m.reuseport), me.kaddr()) else { return false };
    let covers = m.any
        || match m.addr.v6 {
            Some(m6) => ipv6_equal(m6, a.v6, m.addr.v4, a.v4, m.addr.v6only, a.v6only, true, false),
            None => ipv4_equal(m.addr.v4, a.v4, a.v6only, true, false),
        };
    me.opts.reuseport && me.group.is_none() && m.other == me.other && covers
}

/// Whether a memo lets `me` bind or listen without the conflict scan, and
/// the rule that says so (rule 19, and before 6.8 its reuseaddr twin).
fn memo_skips(memo: Option<Memo>, me: &Sock) -> Option<&'static str> {
    let reuse = me.opts.reuseaddr && me.tcp != Tcp::Listen;
    if memo.is_some_and(|m| m.reuseaddr) && reuse {
        Some(LINUX_TCP_FASTREUSE_STALE)
    } else if memo_matches(memo, me) {
        Some(LINUX_TCP_FASTREUSEPORT_STALE)
    } else {
        None
    }
}

/// Rule 19: the memo after a successful bind or listen of `me`
/// (`inet_csk_update_fastreuse`). `first`: the port had no other owner;
/// before 6.8 the first owner sets both memos ("any address" for reuseport);
/// since 6.8 that branch is never taken.
fn update_memo(st: &mut State, port: PortVal, me: &Sock, first: bool, before_6_8: bool) {
    let mut m = st.memo(port).unwrap_or_default();
    let reuse = me.opts.reuseaddr && me.tcp != Tcp::Listen;
    if first && before_6_8 {
        m.reuseaddr = reuse;
        m.reuseport =
            me.opts.reuseport.then(|| PortMemo { other: me.other, addr: me.kaddr().expect("bound"), any: true });
    } else {
        if !reuse {
            m.reuseaddr = false;
        }
        if !me.opts.reuseport {
            m.reuseport = None;
        } else if !memo_matches(Some(m), me) {
            m.reuseport = Some(PortMemo { other: me.other, addr: me.kaddr().expect("bound"), any: false });
        }
    }
    st.set_memo(port, m);
}

impl Linux {
    /// Kernels before 6.8 (the bhash2 rework) kept both memos from the
    /// port's first owner.
    fn before_6_8(&self) -> bool {
        self.version.as_ref().is_some_and(|v| !v.at_least(&[6, 8]))
    }

    fn set(&self, st: &State, slot: Slot, opt: SockOpt, on: bool) -> Prediction {
        let id = match live(st, slot) {
            Ok(id) => id,
            Err(p) => return p,
        };
        let s = st.sock(id);
        let mut ns = st.clone();
        let o = &mut ns.sock_mut(id).opts;
        match opt {
            SockOpt::ReusePortLb | SockOpt::ExclusiveAddrUse => fail(LINUX_UNKNOWN_OPTION, ENOPROTOOPT, st),
            SockOpt::V6Only if s.kind.family == Family::V4 => fail(LINUX_V6ONLY_ON_V4, ENOPROTOOPT, st),
            SockOpt::V6Only if s.local.is_some() => fail(LINUX_V6ONLY_AFTER_BIND, EINVAL, st),
            SockOpt::V6Only => {
                o.v6only = on;
                ok(LINUX_OPTION_SET, ns)
            }
            SockOpt::ReuseAddr | SockOpt::ReusePort => {
                if opt == SockOpt::ReuseAddr {
                    o.reuseaddr = on;
                } else {
                    o.reuseport = on;
                }
                let rule = if s.local.is_some() { LINUX_OPTIONS_AFTER_BIND } else { LINUX_OPTION_SET };
                ok(rule, ns)
            }
            SockOpt::Linger0 => {
                o.linger0 = on;
                ok(LINUX_OPTION_SET, ns)
            }
        }
    }

    fn bind(&self, st: &State, slot: Slot, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
        let id = match live(st, slot) {
            Ok(id) => id,
            Err(p) => return p,
        };
        let s = st.sock(id);
        let family = s.kind.family;
        match (family, addr.family()) {
            (Family::V4, Family::V6) => return fail(LINUX_BIND_FAMILY_MISMATCH, EAFNOSUPPORT, st),
            (Family::V6, Family::V4) => return fail(LINUX_BIND_FAMILY_MISMATCH, EINVAL, st),
            _ => {}
        }
        // A reset connection is back in CLOSE state: only its port counts.
        let busy = s.local.is_some() || !matches!(s.tcp, Tcp::Closed | Tcp::Reset);
        if family == Family::V4 {
            // IPv4 checks the address before the socket's state.
            if addr == Addr::TestNet {
                return fail(LINUX_BIND_NONLOCAL, EADDRNOTAVAIL, st);
            }
            if busy {
                return fail(LINUX_BIND_TWICE, EINVAL, st);
            }
        } else {
            if busy {
                return fail(LINUX_BIND_TWICE, EINVAL, st);
            }
            if addr.is_mapped() && s.opts.v6only {
                return fail(LINUX_BIND_MAPPED_V6ONLY, EINVAL, st);
            }
        }
        let mut ns = st.clone();
        let port = match ctx.port {
            Some(PortArg::Val(p)) => p,
            _ => {
                // Port 0: the OS picks a free port.
                let p = ns.ephemeral(ctx.observed);
                self.commit_bind(&mut ns, id, addr, p, false);
                let rule = if s.is_tcp() { LINUX_TCP_BIND_PORT0 } else { LINUX_UDP_BIND_PORT0 };
                return ok(rule, ns);
            }
        };
        let mut me = s.clone();
        me.local = Some(Endpoint { addr, port });
        me.opts.v6only |= forces_v6only(family, addr);
        // A conflict resets the address (inet->inet_rcv_saddr = 0) even
        // when it is locked: a later autobind then takes the wildcard.
        let mut refused = st.clone();
        refused.sock_mut(id).bound_addr = None;
        let rule = if s.is_tcp() {
            let scan = tcp_scan(st, id, &me, port);
            let owned = !st.holders(Proto::Tcp, port, Some(id)).is_empty();
            let skip = if owned { memo_skips(st.memo(port), &me) } else { None };
            match scan.blocker {
                Some(_) if skip.is_some() => skip.expect("checked"),
                Some(b) => {
                    let rule = if matches!(st.sock(b).life, Life::Orphan { .. }) {
                        LINUX_TCP_TIMEWAIT_BLOCKS
                    } else {
                        LINUX_TCP_BIND_CONFLICT
                    };
                    return fail(rule, EADDRINUSE, &refused);
                }
                None => scan.exempt.unwrap_or(LINUX_TCP_BIND_CONFLICT),
            }
        } else {
            match udp_check(st, id, &me, port) {
                Err(rule) => return fail(rule, EADDRINUSE, &refused),
                Ok(rule) => rule,
            }
        };
        self.commit_bind(&mut ns, id, addr, port, true);
        ok(rule, ns)
    }

    /// Records a successful bind.
    fn commit_bind(&self, ns: &mut State, id: SockId, addr: Addr, port: PortVal, explicit: bool) {
        let seq = ns.tick();
        let s = ns.sock_mut(id);
        s.opts.v6only |= forces_v6only(s.kind.family, addr);
        s.local = Some(Endpoint { addr, port });
        // The locks are only ever set (sk_userlocks |= ...), never cleared.
        s.addr_locked |= locks_addr(addr);
        s.port_locked |= explicit;
        s.bound_addr = Some(addr);
        s.bound_opts = s.opts;
        s.connect_bound = false;
        s.seq = seq;
        if !s.is_tcp() {
            s.hash_tail = s.kind.family == Family::V6 && s.opts.reuseport;
        }
        let me = s.clone();
        if me.is_tcp() {
            let first = ns.holders(Proto::Tcp, port, Some(id)).is_empty();
            update_memo(ns, port, &me, first, self.before_6_8());
        } else if me.opts.reuseport {
            join_group(ns, id);
        }
    }

    fn listen(&self, st: &State, slot: Slot, ctx: &StepCtx<'_>) -> Prediction {
        let id = match live(st, slot) {
            Ok(id) => id,
            Err(p) => return p,
        };
        let s = st.sock(id);
        if !s.is_tcp() {
            return fail(LINUX_TCP_LISTEN_MISC, EOPNOTSUPP, st);
        }
        if s.connected_once {
            return fail(LINUX_TCP_LISTEN_MISC, EINVAL, st);
        }
        match s.tcp {
            Tcp::Listen => return ok(LINUX_TCP_LISTEN_MISC, st.clone()),
            Tcp::Closed => {}
            _ => return fail(LINUX_TCP_LISTEN_MISC, EINVAL, st),
        }
        let mut ns = st.clone();
        let (port, rule) = match s.local {
            None => {
                let p = ns.ephemeral(ctx.observed);
                let a = kept_addr(s);
                let sm = ns.sock_mut(id);
                sm.local = Some(Endpoint { addr: a, port: p });
                sm.bound_opts = sm.opts;
                (p, LINUX_TCP_LISTEN_AUTOBIND)
            }
            Some(local) => {
                let scan = tcp_scan(st, id, s, local.port);
                let mut listening = s.clone();
                listening.tcp = Tcp::Listen;
                let rule = match scan.blocker {
                    Some(_) if memo_skips(st.memo(local.port), &listening).is_some() => LINUX_TCP_FASTREUSEPORT_STALE,
                    Some(b) => {
                        let rule = if matches!(st.sock(b).life, Life::Orphan { .. }) {
                            LINUX_TCP_TIMEWAIT_BLOCKS
                        } else {
                            LINUX_TCP_LISTEN_CONFLICT
                        };
                        return fail(rule, EADDRINUSE, st);
                    }
                    None => LINUX_TCP_LISTEN_CONFLICT,
                };
                (local.port, rule)
            }
        };
        let first = s.local.is_none() && ns.holders(Proto::Tcp, port, Some(id)).is_empty();
        if self.role_lock && s.ehashed {
            // The port is taken (get_port ran with the socket in LISTEN and
            // updated the memo), then the lock refuses: the socket stays
            // unlistened with the port, out of the listening hash.
            if s.local.is_none() {
                let seq = ns.tick();
                ns.sock_mut(id).seq = seq;
            }
            let mut me = ns.sock(id).clone();
            me.tcp = Tcp::Listen;
            update_memo(&mut ns, port, &me, first, self.before_6_8());
            return Prediction::one(LINUX_TCP_ROLE_LOCK, Outcome::Err(EINVAL), ns);
        }
        let seq = ns.tick();
        let sm = ns.sock_mut(id);
        sm.tcp = Tcp::Listen;
        sm.seq = seq;
        sm.hash_tail = sm.kind.family == Family::V6 && sm.opts.reuseport;
        let me = ns.sock(id).clone();
        update_memo(&mut ns, port, &me, first, self.before_6_8());
        if me.opts.reuseport {
            join_group(&mut ns, id);
        }
        ok(rule, ns)
    }

    fn connect(&self, st: &State, slot: Slot, dst: Addr, ctx: &StepCtx<'_>) -> Prediction {
        let id = match live(st, slot) {
            Ok(id) => id,
            Err(p) => return p,
        };
        // Port 0 is a destination like any other: nothing listens there.
        let dport = ctx.port.unwrap_or(PortArg::Zero).dest();
        if st.sock(id).is_tcp() {
            self.connect_tcp(st, id, dst, dport, ctx)
        } else {
            self.connect_udp(st, id, dst, dport, ctx)
        }
    }

    fn connect_udp(&self, st: &State, id: SockId, dst: Addr, dport: PortVal, ctx: &StepCtx<'_>) -> Prediction {
        // inet_dgram_connect binds an unbound socket before the protocol
        // looks at the address: even a refused connect leaves it bound.
        let mut ns = st.clone();
        if ns.sock(id).local.is_none() {
            let p = ns.ephemeral(ctx.observed);
            let seq = ns.tick();
            let a = kept_addr(ns.sock(id));
            let sm = ns.sock_mut(id);
            sm.local = Some(Endpoint { addr: a, port: p });
            sm.bound_opts = sm.opts;
            sm.seq = seq;
            sm.hash_tail = sm.kind.family == Family::V6 && sm.opts.reuseport;
            if sm.opts.reuseport {
                join_group(&mut ns, id);
            }
        }
        let s = ns.sock(id).clone();
        let fail_bound = |rule, e| Prediction::one(rule, Outcome::Err(e), ns.clone());
        let dst = match (s.kind.family, dst.family()) {
            (Family::V4, Family::V6) => return fail_bound(LINUX_CONNECT_FAMILY_MISMATCH, EAFNOSUPPORT),
            (Family::V6, Family::V4) if s.opts.v6only => {
                return fail_bound(LINUX_CONNECT_FAMILY_MISMATCH, EAFNOSUPPORT);
            }
            (Family::V6, Family::V4) => dst.to_mapped(),
            _ => dst,
        };
        if s.kind.family == Family::V6 {
            if dst.is_mapped() && s.opts.v6only {
                return fail_bound(LINUX_CONNECT_MAPPED_UNREACHABLE, ENETUNREACH);
            }
            if !dst.is_mapped() && s.local.is_some_and(|l| l.addr.is_mapped()) {
                return fail_bound(LINUX_CONNECT_FAMILY_MISMATCH, EAFNOSUPPORT);
            }
        }
        let sm = ns.sock_mut(id);
        if let Some(l) = sm.local.as_mut() {
            if l.addr.is_wildcard() {
                l.addr = source_for(sm.kind.family, dst);
            }
        }
        sm.peer = Some(Endpoint { addr: dst, port: dport });
        ok(LINUX_UDP_CONNECT, ns)
    }

    fn connect_tcp(&self, st: &State, id: SockId, dst: Addr, dport: PortVal, ctx: &StepCtx<'_>) -> Prediction {
        let s = st.sock(id);
        if s.connected_once || s.tcp == Tcp::Listen {
            return fail(LINUX_TCP_CONNECT_STATE, EISCONN, st);
        }
        if s.tcp == Tcp::SynSent {
            return fail(LINUX_TCP_CONNECT_STATE, EALREADY, st);
        }
        let dst = match (s.kind.family, dst.family()) {
            (Family::V4, Family::V6) => return fail(LINUX_CONNECT_FAMILY_MISMATCH, EAFNOSUPPORT, st),
            (Family::V6, Family::V4) => return fail(LINUX_CONNECT_FAMILY_MISMATCH, EINVAL, st),
            _ => dst,
        };
        if s.kind.family == Family::V6 {
            if dst.is_mapped() && s.opts.v6only {
                return fail(LINUX_CONNECT_MAPPED_UNREACHABLE, ENETUNREACH, st);
            }
            if !dst.is_mapped() && s.local.is_some_and(|l| l.addr.is_mapped()) {
                return fail(LINUX_CONNECT_FAMILY_MISMATCH, EAFNOSUPPORT, st);
            }
        }
        let src = match s.local.map(|l| l.addr).unwrap_or_else(|| kept_addr(s)) {
            a if !a.is_wildcard() => a,
            _ => source_for(s.kind.family, dst),
        };
        let peer = Endpoint { addr: dst, port: dport };
        // A socket with a port checks that the 4-tuple is unused; a
        // TIME_WAIT entry holding it is taken over (timestamps are on).
        let mut ns = st.clone();
        let mut recycled = false;
        if let Some(l) = s.local {
            let me_view = View::of(s.kind.family, src, s.opts.v6only);
            for t_id in st.holders(Proto::Tcp, l.port, Some(id)) {
                let t = st.sock(t_id);
                // Only connections still in the established hash: a reset one has left it.
                let hashed = matches!(t.life, Life::Orphan { .. })
                    || matches!(t.tcp, Tcp::Established | Tcp::CloseWait | Tcp::SynSent);
                if hashed && t.view() == Some(me_view) && t.peer.is_some_and(|p| same_endpoint(p, peer)) {
                    if t.life != (Life::Orphan { tw: true }) || t.tw_fin_wait2 {
                        return fail(LINUX_TCP_CONNECT_STATE, EADDRNOTAVAIL, st);
                    }
                    ns.sock_mut(t_id).life = Life::Gone;
                    recycled = true;
                }
            }
        }
        let autobind = s.local.is_none();
        let port = match s.local {
            Some(l) => l.port,
            None => ns.ephemeral(ctx.observed),
        };
        let local = Endpoint { addr: src, port };
        let connected = |ns: &mut State, tcp: Tcp| {
            let seq = ns.tick();
            let sm = ns.sock_mut(id);
            sm.local = Some(local);
            if autobind {
                sm.connect_bound = true;
                sm.seq = seq;
                sm.bound_opts = sm.opts;
            }
            sm.tcp = tcp;
            sm.ehashed = true;
            sm.connected_once = tcp != Tcp::SynSent;
            sm.peer = Some(peer);
            if dst.is_mapped() {
                sm.mapped_ops = true;
            }
        };
        if s.mapped_ops && s.kind.family == Family::V6 && !dst.is_mapped() {
            // IPv4 operations with an IPv6 peer: the SYN goes nowhere.
            connected(&mut ns, Tcp::SynSent);
            return Prediction::one(LINUX_TCP_MAPPED_OPS_STALE, Outcome::Err(ETIMEDOUT), ns);
        }
        // A socket connecting to its own address and port opens to itself.
        if same_endpoint(local, peer) {
            connected(&mut ns, Tcp::Established);
            ns.sock_mut(id).received = true;
            return ok(LINUX_TCP_CONNECT_LISTENER, ns);
        }
        let (listeners, _) = tcp_listeners(st, dst, dport);
        if listeners.is_empty() {
            // RST: back to an unconnected socket; an unlocked port is freed,
            // an address not chosen by bind is forgotten.
            let mut ns = st.clone();
            let sm = ns.sock_mut(id);
            // The RST sets its sk_incoming_cpu; the SYN went out from the
            // established table.
            sm.received = true;
            sm.ehashed = true;
            if dst.is_mapped() {
                sm.mapped_ops = true;
            }
            if sm.local.is_some() && !sm.port_locked {
                sm.local = None;
                sm.connect_bound = false;
                if sm.addr_locked {
                    sm.bound_addr = Some(src);
                }
            } else if let Some(l) = sm.local.as_mut() {
                // Connect filled in the source address; a locked address
                // keeps it, an unlocked one goes back to the wildcard.
                l.addr = if sm.addr_locked { src } else { wildcard(sm.kind.family) };
            }
            return Prediction::one(LINUX_TCP_CONNECT_REFUSED, Outcome::Err(ECONNREFUSED), ns);
        }
        connected(&mut ns, Tcp::Established);
        // The SYN-ACK sets its sk_incoming_cpu (the child's is set by the ACK).
        ns.sock_mut(id).received = true;
        let rule = if recycled {
            LINUX_TCP_TIMEWAIT_RECYCLE
        } else if autobind {
            LINUX_TCP_CONNECT_AUTOBIND
        } else {
            LINUX_TCP_CONNECT_LISTENER
        };
        let branches = listeners
            .into_iter()
            .map(|l| {
                let mut b = ns.clone();
                add_child(&mut b, l, id, dst);
                Branch { outcome: Outcome::Ok, state: b }
            })
            .collect();
        Prediction { rule, branches }
    }

    fn accept(&self, st: &State, slot: Slot, listener: Slot) -> Prediction {
        let mut dead = st.clone();
        dead.slots[slot as usize] = SlotState::Dead;
        let lid = match live(st, listener) {
            Ok(id) => id,
            Err(_) => return fail(LINUX_DEAD_NAME, EBADF, &dead),
        };
        let l = st.sock(lid);
        if !l.is_tcp() {
            return fail(LINUX_TCP_ACCEPT, EOPNOTSUPP, &dead);
        }
        if l.tcp != Tcp::Listen {
            return fail(LINUX_TCP_ACCEPT, EINVAL, &dead);
        }
        let first = pending_of(st, lid).into_iter().next();
        let Some(child) = first else {
            return fail(LINUX_TCP_ACCEPT, EAGAIN, &dead);
        };
        let mut ns = st.clone();
        let c = ns.sock_mut(child);
        c.life = Life::Live;
        c.connected_once = true;
        ns.slots[slot as usize] = SlotState::Live(child);
        ok(LINUX_TCP_ACCEPT, ns)
    }

    fn close(&self, st: &State, slot: Slot) -> Prediction {
        let (mut ns, id, s) = match begin_close(st, slot, LINUX_DEAD_NAME, LINUX_CLOSE) {
            Ok(t) => t,
            Err(p) => return p,
        };
        let rule = match s.tcp {
            Tcp::Listen => {
                let pending = pending_of(st, id);
                for c in &pending {
                    if let (Some(peer), false) = (ns.sock(*c).link, ns.sock(*c).mute) {
                        reset(&mut ns, peer);
                    }
                    ns.sock_mut(*c).life = Life::Gone;
                }
                ns.sock_mut(id).life = Life::Gone;
                if pending.is_empty() { LINUX_CLOSE } else { LINUX_TCP_UNACCEPTED_CHILD }
            }
            Tcp::Closed | Tcp::Reset | Tcp::SynSent => {
                ns.sock_mut(id).life = Life::Gone;
                LINUX_CLOSE
            }
            Tcp::Established | Tcp::CloseWait => match s.link {
                None if s.opts.linger0 => {
                    ns.sock_mut(id).life = Life::Gone;
                    LINUX_TCP_LINGER0
                }
                None => {
                    // Connected to itself: it closes both ends and keeps TIME_WAIT.
                    ns.sock_mut(id).life = Life::Orphan { tw: true };
                    LINUX_TCP_TIMEWAIT_BLOCKS
                }
                Some(peer) if s.opts.linger0 => {
                    ns.sock_mut(id).life = Life::Gone;
                    if !s.mute {
                        reset(&mut ns, peer);
                    }
                    LINUX_TCP_LINGER0
                }
                Some(peer) if s.tcp == Tcp::CloseWait => {
                    // The peer closed first: this side's FIN ends it, unless
                    // lost; the peer, waiting in FIN_WAIT2, enters TIME_WAIT.
                    if s.mute {
                        ns.sock_mut(id).life = Life::Orphan { tw: false };
                        LINUX_TCP_MAPPED_OPS_STALE
                    } else {
                        ns.sock_mut(id).life = Life::Gone;
                        let p = ns.sock_mut(peer);
                        p.link = None;
                        if matches!(p.life, Life::Orphan { .. }) {
                            p.life = Life::Orphan { tw: !p.mute };
                            p.tw_fin_wait2 = false;
                        }
                        LINUX_TCP_PASSIVE_CLOSE
                    }
                }
                Some(peer) => {
                    // Active close: the socket waits in FIN_WAIT2 (or FIN_WAIT1
                    // if the ACK is lost) as a full socket until the peer closes.
                    let peer_mute = ns.sock(peer).mute;
                    ns.sock_mut(id).life = Life::Orphan { tw: false };
                    if !s.mute && matches!(ns.sock(peer).life, Life::Live | Life::Pending { .. }) {
                        ns.sock_mut(peer).tcp = Tcp::CloseWait;
                    }
                    if s.mute || peer_mute {
                        LINUX_TCP_MAPPED_OPS_STALE
                    } else if s.opts.reuseport {
                        // The peer's ACK may come after close() let go: a
                        // TIME_WAIT entry then, which another user's
                        // reuseport bind passes.
                        let mut tw = ns.clone();
                        tw.sock_mut(id).life = Life::Orphan { tw: true };
                        tw.sock_mut(id).tw_fin_wait2 = true;
                        let branches = vec![
                            Branch { outcome: Outcome::Ok, state: ns },
                            Branch { outcome: Outcome::Ok, state: tw },
                        ];
                        return Prediction { rule: LINUX_TCP_FIN_WAIT2_RACE, branches };
                    } else {
                        LINUX_TCP_TIMEWAIT_BLOCKS
                    }
                }
            },
        };
        ok(rule, ns)
    }

    fn probe(&self, st: &State, kind: Kind, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
        let port = ctx.port.unwrap_or(PortArg::Zero).dest();
        // The prober is a fresh socket: the family checks of connect apply.
        let dst = match (kind.family, addr.family()) {
            (Family::V4, Family::V6) => return fail(LINUX_CONNECT_FAMILY_MISMATCH, EAFNOSUPPORT, st),
            (Family::V6, Family::V4) if kind.proto == Proto::Tcp => {
                return fail(LINUX_CONNECT_FAMILY_MISMATCH, EINVAL, st);
            }
            (Family::V6, Family::V4) if self.bindv6only => {
                return fail(LINUX_CONNECT_FAMILY_MISMATCH, EAFNOSUPPORT, st);
            }
            (Family::V6, Family::V4) => addr.to_mapped(),
            _ => addr,
        };
        if kind.family == Family::V6 && dst.is_mapped() && self.bindv6only {
            return fail(LINUX_CONNECT_MAPPED_UNREACHABLE, ENETUNREACH, st);
        }
        let name = |id: SockId| -> Outcome {
            let slot = st.slots.iter().position(|s| *s == SlotState::Live(id));
            match slot.and_then(|s| ctx.names.get(s)) {
                Some(n) => Outcome::To(n.clone()),
                None => Outcome::ToNone,
            }
        };
        if kind.proto == Proto::Tcp {
            let (listeners, rule) = tcp_listeners(st, dst, port);
            if listeners.is_empty() {
                return fail(LINUX_DELIVER_NONE, ECONNREFUSED, st);
            }
            let branches = listeners
                .into_iter()
                .map(|l| {
                    let mut b = st.clone();
                    if st.sock(l).mapped_ops && dst.as_v4().is_none() {
                        // The tool accepts and closes the probe's connection;
                        // a mute child's FIN is lost: it stays in LAST_ACK.
                        mute_orphan(&mut b, l, dst);
                    }
                    Branch { outcome: name(l), state: b }
                })
                .collect();
            return Prediction { rule, branches };
        }
        if port == DEST_PORT_ZERO && kind.family == Family::V6 && dst.is_mapped() {
            // The prober's send goes through udp_sendmsg with the port it
            // connected to, and a datagram to port 0 is refused there.
            return fail(LINUX_UDP_SEND_PORT_ZERO, EINVAL, st);
        }
        let (receivers, rule) = udp_receivers(st, dst, port, source_for(kind.family, dst));
        if receivers.is_empty() {
            return Prediction::one(LINUX_DELIVER_NONE, Outcome::ToNone, st.clone());
        }
        // An unconnected UDP socket does not record the CPU it receives on
        // (__udp_queue_rcv_skb updates sk_incoming_cpu only when connected).
        let branches = receivers
            .into_iter()
            .map(|r| {
                let mut b = st.clone();
                if b.sock(r).peer.is_some() {
                    b.sock_mut(r).received = true;
                }
                Branch { outcome: name(r), state: b }
            })
            .collect();
        Prediction { rule, branches }
    }
}

/// A RST reaches socket `x`: an open one is reset (and an unlocked port is
/// freed); a closed one that still held its port is gone.
fn reset(st: &mut State, x: SockId) {
    let s = st.sock_mut(x);
    match s.life {
        Life::Orphan { .. } => s.life = Life::Gone,
        Life::Live | Life::Pending { .. } => {
            if matches!(s.tcp, Tcp::Established | Tcp::CloseWait) {
                s.tcp = Tcp::Reset;
                s.link = None;
                if !s.port_locked {
                    s.local = None;
                    s.connect_bound = false;
                }
            }
        }
        Life::Gone => {}
    }
}

/// A new connection from `client` waits in `listener`'s queue.
fn add_child(st: &mut State, listener: SockId, client: SockId, dst: Addr) {
    let l = st.sock(listener).clone();
    let c = st.sock(client).clone();
    let addr = if l.kind.family == Family::V6 { dst.to_mapped() } else { dst.as_v4().unwrap_or(dst) };
    let port = l.local.expect("listener is bound").port;
    let seq = st.tick();
    let child = Sock {
        kind: l.kind,
        other: l.other,
        opts: Opts { v6only: l.opts.v6only, ..l.opts },
        bound_opts: l.opts,
        local: Some(Endpoint { addr, port }),
        // sk_clone_lock drops SOCK_BINDPORT_LOCK from the child.
        port_locked: false,
        addr_locked: l.addr_locked,
        bound_addr: l.bound_addr,
        connect_bound: false,
        tcp: Tcp::Established,
        peer: c.local,
        link: Some(client),
        life: Life::Pending { of: listener },
        connected_once: false,
        seq,
        group: None,
        // sk_clone_lock sets sk_incoming_cpu to the CPU at work.
        received: true,
        hash_tail: false,
        // An IPv6 child of a listener with IPv4 operations inherits them.
        mapped_ops: l.mapped_ops,
        mute: l.mapped_ops && dst.as_v4().is_none(),
        listen_refused: false,
        connect_failed: false,
        tw_fin_wait2: false,
        ehashed: true,
        hidden_port: false,
    };
    let cid = st.add(child);
    st.sock_mut(client).link = Some(cid);
}

/// What a probe leaves behind on a listener with IPv4 operations: its
/// accepted-and-closed IPv6 connection, still holding the listener's port;
/// nothing if the child has SO_LINGER 0 from the listener (its close
/// sends a RST, lost or not, and frees it at once).
fn mute_orphan(st: &mut State, listener: SockId, dst: Addr) {
    let l = st.sock(listener).clone();
    if l.opts.linger0 {
        return;
    }
    let seq = st.tick();
    let mut c = Sock::new(l.kind, l.other, l.opts.v6only);
    c.opts = l.opts;
    c.local = Some(Endpoint { addr: dst, port: l.local.expect("listener is bound").port });
    c.tcp = Tcp::CloseWait;
    c.life = Life::Orphan { tw: false };
    c.mapped_ops = true;
    c.mute = true;
    c.seq = seq;
    st.add(c);
}

/// Joins a reuseport group (TCP at listen, UDP at bind): the group of the
/// first socket in chain order on the same port and exact address, same
/// protocol, family, v6only and uid, with reuseport on (for TCP, a
/// listener); else a new one.
fn join_group(st: &mut State, id: SockId) {
    let me = st.sock(id).clone();
    let candidates: Vec<SockId> = (0..st.socks.len() as SockId)
        .filter(|&i| {
            let t = st.sock(i);
            i != id
                && t.life == Life::Live
                && t.kind == me.kind
                && (!t.is_tcp() || t.tcp == Tcp::Listen)
                && t.opts.reuseport
                && t.opts.v6only == me.opts.v6only
                && same_uid(t, &me)
                && t.port() == me.port()
                && t.view() == me.view()
        })
        .collect();
    // udp_reuseport_add_sock and inet_reuseport_add_sock walk the chain.
    let found = chain_order(st, candidates).first().copied();
    // reuseport_add_sock: a matching socket with no group yet (it turned
    // reuseport on after it bound or listened) gets one, and we join it.
    let g = match found.map(|t| (t, st.sock(t).group)) {
        Some((_, Some(g))) => g,
        Some((t, None)) => {
            st.next_group += 1;
            st.sock_mut(t).group = Some(st.next_group);
            st.next_group
        }
        None => {
            st.next_group += 1;
            st.next_group
        }
    };
    st.sock_mut(id).group = Some(g);
}

/// The UDP bind check (rules 24-26). `Ok(rule)` if free, `Err(rule)` if in use.
fn udp_check(st: &State, me_id: SockId, me: &Sock, port: PortVal) -> Result<&'static str, &'static str> {
    let addr = me.kaddr().expect("bound");
    // The port's chain: newest first, IPv6 reuseport sockets at the tail.
    let holders = chain_order(st, st.holders(Proto::Udp, port, Some(me_id)));
    let blocks = |t: &Sock| -> Option<bool> {
        // None: no conflict; Some(true): in use; Some(false): reuseport pair.
        if !t.kaddr().is_some_and(|old| rcv_saddr_equal(&addr, &old, true)) || (me.opts.reuseaddr && t.opts.reuseaddr) {
            return None;
        }
        Some(!(me.opts.reuseport && t.opts.reuseport && same_uid(me, t)))
    };
    if holders.len() > 10 {
        // Per-(address,port) path: on fixed kernels every conflict is found.
        let any = holders.iter().any(|&t| blocks(st.sock(t)) == Some(true));
        return if any { Err(LINUX_UDP_MANY_SOCKETS) } else { Ok(LINUX_UDP_MANY_SOCKETS) };
    }
    for (i, &t) in holders.iter().enumerate() {
        match blocks(st.sock(t)) {
            None => continue,
            Some(true) => return Err(LINUX_UDP_BIND_CONFLICT),
            Some(false) => {
                // Free at the first reuseport pair; say so if a later one conflicts.
                let later = holders[i + 1..].iter().any(|&u| blocks(st.sock(u)) == Some(true));
                return Ok(if later { LINUX_UDP_REUSEPORT_FIRST_MATCH } else { LINUX_UDP_BIND_CONFLICT });
            }
        }
    }
    Ok(LINUX_UDP_BIND_CONFLICT)
}

/// Which listener(s) get a TCP connection to `dst:port` (rules 34-36):
/// exact address first, then wildcard; IPv4 listeners beat IPv6 ones for
/// IPv4 traffic; the first listener in the hash chain with the best score
/// wins, a reuseport group answers with all its members.
pub(super) fn tcp_listeners(st: &State, dst: Addr, port: PortVal) -> (Vec<SockId>, &'static str) {
    let listeners: Vec<SockId> = (0..st.socks.len() as SockId)
        .filter(|&i| {
            let s = st.sock(i);
            s.is_tcp() && s.life == Life::Live && s.tcp == Tcp::Listen && s.port() == Some(port)
        })
        .collect();
    for exact in [true, false] {
        if let Some(found) = lookup_pass(st, &listeners, dst, exact) {
            let rule = if found.group {
                LINUX_TCP_DELIVER_REUSEPORT
            } else if found.bonus {
                LINUX_TCP_DELIVER_INCOMING_CPU
            } else if exact {
                LINUX_TCP_DELIVER_SPECIFIC
            } else {
                LINUX_TCP_DELIVER_FAMILY
            };
            return (found.socks, rule);
        }
    }
    (Vec::new(), LINUX_TCP_CONNECT_REFUSED)
}

/// What one pass of a lookup can answer.
struct Found {
    socks: Vec<SockId>,
    /// A reuseport group of two or more answered.
    group: bool,
    /// The same-CPU bonus can change the answer.
    bonus: bool,
}

/// One pass of a listener or UDP lookup (the bucket of the exact address,
/// then the wildcard one), as the kernel's loop does it: the first socket
/// in chain order with the highest score wins, and a winner whose
/// SO_REUSEPORT is on at that moment answers with its whole group (a flag
/// turned off after listen or bind leaves the group but skips it). A socket
/// that has received traffic scores one more when its sk_incoming_cpu is
/// the CPU at work, which the model cannot know: each such socket is tried
/// with and without the bonus, and the answers are merged.
fn lookup_pass(st: &State, pool: &[SockId], dst: Addr, exact: bool) -> Option<Found> {
    let scored: Vec<(SockId, u8)> = chain_order(st, pool.to_vec())
        .into_iter()
        .filter_map(|i| traffic_score(st.sock(i), dst, exact).map(|sc| (i, sc)))
        .collect();
    if scored.is_empty() {
        return None;
    }
    // Beyond six, the first six are tried (64 ways); more never arise in practice.
    let may_bonus: Vec<SockId> = scored.iter().map(|&(i, _)| i).filter(|&i| st.sock(i).received).take(6).collect();
    let answer = |mask: u32| -> (Vec<SockId>, bool) {
        let mut best: Option<(u8, SockId)> = None;
        for &(i, sc) in &scored {
            let bonus = may_bonus.iter().position(|&b| b == i).is_some_and(|bit| mask >> bit & 1 == 1);
            let sc = sc + bonus as u8;
            if best.is_none_or(|(b, _)| sc > b) {
                let s = st.sock(i);
                if let (true, Some(g)) = (s.opts.reuseport, s.group) {
                    let members: Vec<SockId> = pool.iter().copied().filter(|&m| st.sock(m).group == Some(g)).collect();
                    let many = members.len() > 1;
                    return (members, many);
                }
                best = Some((sc, i));
            }
        }
        (best.map(|(_, i)| vec![i]).unwrap_or_default(), false)
    };
    let (first, mut group) = answer(0);
    let mut socks = first.clone();
    for mask in 1..(1u32 << may_bonus.len()) {
        let (more, g) = answer(mask);
        group |= g;
        for x in more {
            if !socks.contains(&x) {
                socks.push(x);
            }
        }
    }
    let bonus = socks.len() > first.len();
    Some(Found { socks, group, bonus })
}

/// Sockets in the order of their hash chain: those put at the head, newest
/// first, then those appended at the tail, oldest first.
fn chain_order(st: &State, mut ids: Vec<SockId>) -> Vec<SockId> {
    ids.sort_by_key(|&i| {
        let s = st.sock(i);
        (s.hash_tail, if s.hash_tail { s.seq as i64 } else { -(s.seq as i64) })
    });
    ids
}

/// Whether a UDP socket connected to `peer` takes a datagram from `src`
/// at the prober's (ephemeral) port: only when it connected to port 0,
/// which sets no port filter, and the addresses are equal.
fn takes_from(peer: Endpoint, src: Addr) -> bool {
    peer.port == DEST_PORT_ZERO
        && (peer.addr == src || (peer.addr.as_v4().is_some() && peer.addr.as_v4() == src.as_v4()))
}

/// Score of a listener or unconnected UDP socket for traffic to `dst`, in
/// the exact-address pass or the wildcard pass; `None` if it does not match.
/// For IPv4 traffic AF_INET scores 2, a dual-stack AF_INET6 socket 1; IPv6
/// traffic reaches only AF_INET6 sockets.
fn traffic_score(s: &Sock, dst: Addr, exact: bool) -> Option<u8> {
    // A connected UDP socket (to port 0: see takes_from) scores more for
    // its peer address than any unconnected one.
    let connected = if s.peer.is_some() { 4 } else { 0 };
    traffic_match(s, dst, exact).map(|sc| sc + connected)
}

fn traffic_match(s: &Sock, dst: Addr, exact: bool) -> Option<u8> {
    let v = s.view()?;
    match dst.as_v4() {
        // compute_score: a v6only socket never takes IPv4 traffic, even one
        // that kept a v4-mapped address.
        Some(_) if s.kind.family == Family::V6 && s.opts.v6only => None,
        Some(a) => {
            let hit =
                if exact { v == View::V4(a) } else { matches!(v, View::V4(Addr::Any4) | View::V6Any { dual: true }) };
            hit.then_some(if s.kind.family == Family::V4 { 2 } else { 1 })
        }
        None => {
            let hit =
                s.kind.family == Family::V6 && if exact { v == View::V6Lo } else { matches!(v, View::V6Any { .. }) };
            hit.then_some(1)
        }
    }
}

/// Which UDP socket(s) get a datagram to `dst:port` (rules 37-38).
/// `src` is the sender's address: a socket connected to port 0 has no
/// port filter and takes datagrams from its peer address at any port.
pub(super) fn udp_receivers(st: &State, dst: Addr, port: PortVal, src: Addr) -> (Vec<SockId>, &'static str) {
    let socks: Vec<SockId> = (0..st.socks.len() as SockId)
        .filter(|&i| {
            let s = st.sock(i);
            !s.is_tcp() && s.life == Life::Live && s.port() == Some(port) && s.peer.is_none_or(|p| takes_from(p, src))
        })
        .collect();
    for exact in [true, false] {
        if let Some(found) = lookup_pass(st, &socks, dst, exact) {
            // A group answers at once, even a group of one.
            let rule = if found.group { LINUX_UDP_DELIVER_REUSEPORT } else { LINUX_UDP_DELIVER };
            return (found.socks, rule);
        }
    }
    (Vec::new(), LINUX_DELIVER_NONE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{compile, parse};
    use crate::model::{Belief, resolve_port};

    /// Runs a case through the model alone and returns outcome and rule per step.
    fn predict(text: &str) -> Vec<(String, &'static str)> {
        let case = parse("t", text).unwrap();
        let prog = compile(&case).unwrap();
        let m = Linux::new(None, false);
        let mut belief = Belief::new(&m, &prog);
        let mut out = Vec::new();
        for op in &prog.ops {
            let port = resolve_port(&belief.states[0], op).expect("port");
            let ctx = StepCtx { names: &prog.names, port, observed: None };
            let (set, rule, branches) = belief.predict(&m, op, &ctx);
            out.push((set.to_string(), rule));
            belief.advance(branches, None);
        }
        out
    }

    fn outcomes(text: &str) -> Vec<String> {
        predict(text).into_iter().map(|(o, _)| o).collect()
    }

    #[test]
    fn an_active_close_with_reuseport_may_leave_time_wait_at_once() {
        let open = "l = socket tcp4\nbind l 127.0.0.1:P1\nlisten l\na = socket tcp4\nset a reuseport on\nbind a 127.0.0.1:P2\nconnect a 127.0.0.1:P1\nx = accept l\nclose a\n";
        // Another user's reuseport bind: refused by a full FIN_WAIT2 socket,
        // allowed by a TIME_WAIT entry; the same user passes either.
        let other = format!("{open}b = socket tcp4 as other\nset b reuseport on\nbind b 127.0.0.1:P2\n");
        let r = predict(&other);
        assert_eq!(r[8], ("ok".into(), LINUX_TCP_FIN_WAIT2_RACE));
        assert_eq!(r[11].0, "{EADDRINUSE,ok}");
        let same = format!("{open}b = socket tcp4\nset b reuseport on\nbind b 127.0.0.1:P2\n");
        assert_eq!(predict(&same)[11], ("ok".into(), LINUX_TCP_REUSEPORT_PAIR));
        // Neither form gives its 4-tuple to a connect.
        let again = format!("{open}b = socket tcp4\nset b reuseport on\nbind b 127.0.0.1:P2\nconnect b 127.0.0.1:P1\n");
        assert_eq!(predict(&again)[12], ("EADDRNOTAVAIL".into(), LINUX_TCP_CONNECT_STATE));
        // Without reuseport the two forms answer alike: no choice is kept.
        let plain = open.replace("set a reuseport on\n", "");
        assert_eq!(predict(&plain).last().unwrap(), &("ok".to_string(), LINUX_TCP_TIMEWAIT_BLOCKS));
    }

    #[test]
    fn a_listener_that_received_may_win_on_its_cpu_and_a_flag_turned_off_skips_the_group() {
        let pair = "a = socket tcp4\nset a reuseport on\nbind a 0.0.0.0:P1\nc = socket tcp4\nset c reuseport on\nbind c 0.0.0.0:P1\nlisten a\nset a reuseport off\nlisten c\nset c reuseport off\nprobe tcp4 127.0.0.1:P1\n";
        // Flags off: no group; the newest (first in the chain) takes it.
        assert_eq!(predict(pair).last().unwrap(), &("->c".to_string(), LINUX_TCP_DELIVER_FAMILY));
        // a's refused connect set its incoming CPU: it may score one more.
        let received = pair.replace("set a reuseport on\n", "set a reuseport on\nconnect a 127.0.0.1:P1\n");
        let r = predict(&received);
        assert_eq!(r[2].0, "ECONNREFUSED");
        assert_eq!(r.last().unwrap(), &("{->a,->c}".to_string(), LINUX_TCP_DELIVER_INCOMING_CPU));
        // With the flags on, the group answers.
        let group = pair.replace("set a reuseport off\n", "").replace("set c reuseport off\n", "");
        assert_eq!(predict(&group).last().unwrap(), &("{->a,->c}".to_string(), LINUX_TCP_DELIVER_REUSEPORT));
    }

    #[test]
    fn unconnected_udp_sockets_get_no_cpu_bonus() {
        // b received first, but a datagram to the pair still goes to the newest.
        let text = "a = socket udp4\nset a reuseaddr on\nbind a 0.0.0.0:P1\nprobe udp4 127.0.0.1:P1\nb = socket udp4\nset b reuseaddr on\nbind b 0.0.0.0:P1\nprobe udp4 127.0.0.1:P1\n";
        let r = predict(text);
        assert_eq!(r[3].0, "->a");
        assert_eq!(r[7], ("->b".to_string(), LINUX_UDP_DELIVER));
    }

    #[test]
    fn before_6_8_the_first_owner_sets_the_reuseaddr_memo() {
        let text = "a = socket tcp4\nb = socket tcp4\nset a reuseaddr on\nbind a 127.0.0.1:P1\nset a reuseaddr off\nset b reuseaddr on\nbind b 127.0.0.1:P1\n";
        assert_eq!(outcomes(text).last().unwrap(), "EADDRINUSE");
        let old = Linux::new(Version::parse("6.7"), false);
        let case = parse("t", text).unwrap();
        let prog = compile(&case).unwrap();
        let p = crate::run::predict_case(&old, &prog).unwrap();
        assert_eq!(p.last().unwrap().0.to_string(), "ok");
        assert_eq!(p.last().unwrap().1, LINUX_TCP_FASTREUSE_STALE);
    }

    #[test]
    fn reuseaddr_needs_both_and_no_listener() {
        let base = "a = socket tcp4\nb = socket tcp4\nset a reuseaddr on\nset b reuseaddr on\nbind a 127.0.0.1:P1\n";
        assert_eq!(outcomes(&format!("{base}bind b 127.0.0.1:P1\n")).last().unwrap(), "ok");
        assert_eq!(outcomes(&format!("{base}listen a\nbind b 127.0.0.1:P1\n")).last().unwrap(), "EADDRINUSE");
        let r = predict(&format!("{base}bind b 0.0.0.0:P1\nlisten a\nlisten b\n"));
        assert_eq!(r.last().unwrap(), &("EADDRINUSE".to_string(), LINUX_TCP_LISTEN_CONFLICT));
    }

    #[test]
    fn reuseport_needs_the_same_user() {
        let r = predict(
            "a = socket tcp4\nb = socket tcp4 as other\nset a reuseport on\nset b reuseport on\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\n",
        );
        assert_eq!(r[5].0, "EADDRINUSE");
        let r = predict(
            "a = socket tcp6\nb = socket tcp6\nset a reuseport on\nset b reuseport on\nbind a [::]:P1\nlisten a\nbind b [::]:P1\nlisten b\n",
        );
        assert_eq!(r[6], ("ok".to_string(), LINUX_TCP_REUSEPORT_PAIR));
        assert_eq!(r[7].0, "ok");
    }

    #[test]
    fn stale_reuseport_memo_skips_the_scan() {
        // shared/semantics/linux.md §19, consequence (1).
        let r = predict(
            "a = socket tcp4\nb = socket tcp4\nset a reuseport on\nbind a 127.0.0.1:P1\nset a reuseport off\nset b reuseport on\nbind b 127.0.0.1:P1\n",
        );
        assert_eq!(r[6], ("ok".to_string(), LINUX_TCP_FASTREUSEPORT_STALE));
        // Consequence (2): order b, a, c gives ok; a, b, c gives EADDRINUSE.
        let bac = "a = socket tcp4\nb = socket tcp4\nc = socket tcp4\nset b reuseaddr on\nset a reuseaddr on\nset a reuseport on\nset c reuseport on\nbind b 0.0.0.0:P1\nbind a 127.0.0.1:P1\nbind c 127.0.0.1:P1\n";
        assert_eq!(outcomes(bac).last().unwrap(), "ok");
        let abc = bac.replace("bind b 0.0.0.0:P1\nbind a 127.0.0.1:P1\n", "bind a 127.0.0.1:P1\nbind b 0.0.0.0:P1\n");
        assert_eq!(outcomes(&abc).last().unwrap(), "EADDRINUSE");
    }

    #[test]
    fn dual_stack_wildcard_overlaps_ipv4() {
        assert_eq!(
            outcomes("a = socket tcp6\nb = socket tcp4\nbind a [::]:P1\nbind b 127.0.0.1:P1\n")[3],
            "EADDRINUSE"
        );
        assert_eq!(
            outcomes("a = socket tcp6\nb = socket tcp4\nset a v6only on\nbind a [::]:P1\nbind b 0.0.0.0:P1\n")[4],
            "ok"
        );
        assert_eq!(outcomes("a = socket udp6\nset a v6only on\nbind a [::ffff:127.0.0.1]:P1\n")[2], "EINVAL");
    }

    #[test]
    fn time_wait_blocks_the_active_closer_only() {
        let base = "l = socket tcp4\nset l reuseaddr on\nbind l 127.0.0.1:P1\nlisten l\nc = socket tcp4\nconnect c 127.0.0.1:P1\ns = accept l\n";
        // Server closes first: P1 is in TIME_WAIT with reuseaddr (from l).
        let r = predict(&format!("{base}close s\nclose c\nclose l\nn = socket tcp4\nbind n 127.0.0.1:P1\n"));
        assert_eq!(r.last().unwrap(), &("EADDRINUSE".to_string(), LINUX_TCP_TIMEWAIT_BLOCKS));
        let r = predict(&format!(
            "{base}close s\nclose c\nclose l\nn = socket tcp4\nset n reuseaddr on\nbind n 127.0.0.1:P1\n"
        ));
        assert_eq!(r.last().unwrap(), &("ok".to_string(), LINUX_TCP_REUSEADDR_PAIR));
        // Client closes first: the server side is free.
        let r = predict(&format!("{base}close c\nclose s\nclose l\nn = socket tcp4\nbind n 127.0.0.1:P1\n"));
        assert_eq!(r[8].1, LINUX_TCP_PASSIVE_CLOSE);
        assert_eq!(r.last().unwrap().0, "ok");
        // linger0: no TIME_WAIT.
        let r = predict(&format!(
            "{base}set s linger0 on\nclose s\nclose c\nclose l\nn = socket tcp4\nbind n 127.0.0.1:P1\n"
        ));
        assert_eq!(r.last().unwrap().0, "ok");
    }

    #[test]
    fn refused_connect_unbinds_an_autobound_socket() {
        let r = outcomes("c = socket tcp4\nconnect c 127.0.0.1:P1\nbind c 127.0.0.1:P2\nlisten c\n");
        assert_eq!(r, vec!["ok", "ECONNREFUSED", "ok", "ok"]);
        let r = outcomes("c = socket tcp4\nbind c 127.0.0.1:P2\nconnect c 127.0.0.1:P1\nbind c 127.0.0.1:P3\n");
        assert_eq!(r[3], "EINVAL");
    }

    #[test]
    fn accept_and_connect_states() {
        let r = outcomes(
            "l = socket tcp4\nlisten l\nx = accept l\nc = socket tcp4\nconnect c 127.0.0.1:@l\nconnect c 127.0.0.1:@l\nlisten c\ny = accept l\nz = accept l\nclose x\n",
        );
        assert_eq!(r, vec!["ok", "ok", "EAGAIN", "ok", "ok", "EISCONN", "EINVAL", "ok", "EAGAIN", "EBADF"]);
    }

    #[test]
    fn ipv4_checks_the_address_before_the_state_ipv6_after() {
        assert_eq!(outcomes("a = socket tcp4\nbind a 127.0.0.1:P1\nbind a 192.0.2.1:P2\n")[2], "EADDRNOTAVAIL");
        assert_eq!(
            outcomes("a = socket udp6\nbind a [::1]:P1\nset a v6only on\nbind a [::ffff:127.0.0.1]:P2\n")[2..],
            ["EINVAL", "EINVAL"]
        );
    }

    #[test]
    fn udp_reuseport_first_match_depends_on_order() {
        let bac = "a = socket udp4\nb = socket udp4\nc = socket udp4\nset b reuseaddr on\nset a reuseaddr on\nset a reuseport on\nset c reuseport on\nbind b 0.0.0.0:P1\nbind a 127.0.0.1:P1\nbind c 127.0.0.1:P1\n";
        let r = predict(bac);
        assert_eq!(r.last().unwrap(), &("ok".to_string(), LINUX_UDP_REUSEPORT_FIRST_MATCH));
        let abc = bac.replace("bind b 0.0.0.0:P1\nbind a 127.0.0.1:P1\n", "bind a 127.0.0.1:P1\nbind b 0.0.0.0:P1\n");
        assert_eq!(outcomes(&abc).last().unwrap(), "EADDRINUSE");
    }

    #[test]
    fn options_linux_lacks_are_enoprotoopt() {
        let r = predict("a = socket tcp4\nset a exclusiveaddruse on\nset a reuseport_lb on\nset a v6only on\n");
        assert_eq!(r[1], ("ENOPROTOOPT".to_string(), LINUX_UNKNOWN_OPTION));
        assert_eq!(r[2].0, "ENOPROTOOPT");
        assert_eq!(r[3], ("ENOPROTOOPT".to_string(), LINUX_V6ONLY_ON_V4));
    }

    #[test]
    fn a_reset_socket_may_bind_again() {
        // The listener closes with the connection still queued: the client is reset.
        let r = outcomes(
            "l = socket tcp4\nlisten l\nc = socket tcp4\nconnect c 127.0.0.1:@l\nclose l\nbind c 127.0.0.1:P1\nlisten c\n",
        );
        assert_eq!(r[5..], ["ok", "EINVAL"]);
    }

    #[test]
    fn mapped_connect_leaves_ipv4_operations_behind() {
        let r = predict(
            "a = socket tcp6\nconnect a [::ffff:127.0.0.1]:P1\nbind a [::]:P1\nconnect a [::1]:P1\nconnect a [::1]:P1\n",
        );
        assert_eq!(r[3], ("ETIMEDOUT".to_string(), LINUX_TCP_MAPPED_OPS_STALE));
        assert_eq!(r[4].0, "EALREADY");
    }

    #[test]
    fn self_connect_succeeds_and_leaves_time_wait() {
        let r = outcomes(
            "a = socket tcp4\nbind a 127.0.0.1:P1\nconnect a 127.0.0.1:P1\nclose a\nb = socket tcp4\nbind b 127.0.0.1:P1\n",
        );
        assert_eq!(r, vec!["ok", "ok", "ok", "ok", "ok", "EADDRINUSE"]);
    }

    #[test]
    fn reuseport_group_gets_a_set() {
        let r = outcomes(
            "a = socket tcp4\nb = socket tcp4\nset a reuseport on\nset b reuseport on\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\nlisten a\nlisten b\nc = socket tcp4\nconnect c 127.0.0.1:P1\nx = accept a\nprobe tcp4 127.0.0.1:P1\n",
        );
        assert_eq!(r[10], "{EAGAIN,ok}");
        assert_eq!(r[11], "{->a,->b}");
    }
}
