//! `bind`: the argument checks (section B of the rule table), the TCP
//! conflict scan with its exemptions and the port's memo (section C), the
//! UDP scan (section D), ephemeral ports (section E), and joining a
//! reuseport group.

use super::deliver::{address_chain_order, chain_order};
use super::{Linux, forces_v6only, locks_addr, same_uid};
use crate::case::{Addr, Family, Proto};
use crate::model::rules::*;
use crate::model::state::{
    Endpoint, Life, Memo, PortMemo, Sock, Tcp, ipv4_equal, ipv6_equal, rcv_saddr_equal, tcp_overlap,
};
use crate::model::{PortArg, PortVal, Prediction, SockId, State, StepCtx, fail, ok};
use crate::outcome::Errno;

use Errno::*;

pub(super) fn bind(m: &Linux, st: &State, id: SockId, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
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
            commit_bind(m, &mut ns, id, addr, p, false);
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
        let scan = tcp_scan(m, st, id, &me, port);
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
            None if scan.missed => LINUX_TCP_MAPPED_ANY_MISSED,
            None => scan.exempt.unwrap_or(LINUX_TCP_BIND_CONFLICT),
        }
    } else {
        match udp_check(st, id, &me, port) {
            Err(rule) => return fail(rule, EADDRINUSE, &refused),
            Ok(rule) => rule,
        }
    };
    commit_bind(m, &mut ns, id, addr, port, true);
    ok(rule, ns)
}

/// Records a successful bind.
pub(super) fn commit_bind(m: &Linux, ns: &mut State, id: SockId, addr: Addr, port: PortVal, explicit: bool) {
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
    s.rehashed = None;
    s.bound_seq = seq;
    if !s.is_tcp() {
        s.hash_tail = s.kind.family == Family::V6 && s.opts.reuseport;
    }
    let me = s.clone();
    if me.is_tcp() {
        let first = ns.holders(Proto::Tcp, port, Some(id)).is_empty();
        update_memo(ns, port, &me, first, m.before_6_8());
    } else if me.opts.reuseport {
        join_group(ns, id);
    }
}

/// The TCP pair test: `None` if `t` blocks `me`, else the exemption rule.
pub(super) fn tcp_exempt(me: &Sock, t: &Sock) -> Option<&'static str> {
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
pub(super) struct Scan {
    /// A holder that blocks, preferring an open socket over a closed one.
    pub(super) blocker: Option<SockId>,
    /// The exemption that let an overlapping holder pass, if any.
    pub(super) exempt: Option<&'static str>,
    /// A holder that blocks was not looked at (the mapped-any-missed variant).
    pub(super) missed: bool,
}

pub(super) fn tcp_scan(m: &Linux, st: &State, me_id: SockId, me: &Sock, port: PortVal) -> Scan {
    let addr = me.kaddr().expect("scanned socket has an address");
    let mut scan = Scan { blocker: None, exempt: None, missed: false };
    for t_id in st.holders(Proto::Tcp, port, Some(me_id)) {
        let t = st.sock(t_id);
        if !t.kaddr().is_some_and(|old| tcp_overlap(&addr, &old)) {
            continue;
        }
        let exempt = tcp_exempt(me, t);
        if exempt.is_none() && m.mapped_any_missed && mapped_any_unseen(st, me_id, me, t, port) {
            scan.missed = true;
            continue;
        }
        match exempt {
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

/// The mapped-any-missed variant: a tcp6 socket binding (or listening on)
/// a v4-mapped specific address has its port checked against the
/// per-address table, whose wildcard look-up does not find the IPv4
/// wildcard's bucket when a tcp6 `[::ffff:0.0.0.0]` socket made it (it
/// was the first of the port's IPv4-wildcard holders to bind): then no
/// holder in that bucket is seen, a tcp4 `0.0.0.0` that joined it either.
/// A bucket a tcp4 `0.0.0.0` made is seen, with every member. (The
/// bucket stays while it has members; the model takes the earliest bound
/// of the holders left as its maker.)
fn mapped_any_unseen(st: &State, me_id: SockId, me: &Sock, t: &Sock, port: PortVal) -> bool {
    let at = |s: &Sock| s.local.map(|l| l.addr);
    let v4_any = |s: &Sock| matches!(at(s), Some(Addr::Any4 | Addr::MappedAny4));
    if me.kind.family != Family::V6 || !matches!(at(me), Some(Addr::MappedLo4 | Addr::MappedLo4b)) || !v4_any(t) {
        return false;
    }
    let maker = st
        .holders(Proto::Tcp, port, Some(me_id))
        .into_iter()
        .map(|i| st.sock(i))
        .filter(|s| v4_any(s))
        .min_by_key(|s| s.bound_seq);
    maker.is_some_and(|s| s.kind.family == Family::V6)
}

/// Rule 19: does the port's reuseport memo let `me` skip the scan?
/// (`sk_reuseport_match`: the memo's address compared with wildcard
/// matching on its side only; no address test in ANY mode.)
pub(super) fn memo_matches(memo: Option<Memo>, me: &Sock) -> bool {
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
pub(super) fn memo_skips(memo: Option<Memo>, me: &Sock) -> Option<&'static str> {
    let reuse = me.opts.reuseaddr && me.tcp != Tcp::Listen;
    let rule = if memo.is_some_and(|m| m.reuseaddr) && reuse {
        LINUX_TCP_FASTREUSE_STALE
    } else if memo_matches(memo, me) {
        LINUX_TCP_FASTREUSEPORT_STALE
    } else {
        return None;
    };
    // Before 6.18 the memo may be left from owners that are all gone.
    Some(if memo.is_some_and(|m| m.outlived) { LINUX_TCP_MEMO_OUTLIVES_RELEASE } else { rule })
}

/// Rule 19: the memo after a successful bind or listen of `me`
/// (`inet_csk_update_fastreuse`). `first`: the port had no other owner;
/// before 6.8 the first owner sets both memos ("any address" for reuseport);
/// since 6.8 that branch is never taken.
pub(super) fn update_memo(st: &mut State, port: PortVal, me: &Sock, first: bool, before_6_8: bool) {
    let mut m = st.memo(port).unwrap_or_default();
    // `me` holds the port by bind or listen: the memo is a live one again.
    m.outlived = false;
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

/// The UDP bind check (rules 24-26). `Ok(rule)` if free, `Err(rule)` if in use.
pub(super) fn udp_check(st: &State, me_id: SockId, me: &Sock, port: PortVal) -> Result<&'static str, &'static str> {
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
    // More than 10 sockets on the port: a bind to a specific address scans
    // the chain of its own (address, port) and then that of the wildcard,
    // each up to the first overlapping socket, which decides (a reuseport
    // pair there lets the scan go on to the wildcard's chain). A wildcard
    // bind scans the port's chain as below (inet_use_hash2_on_bind).
    let mine = hash2_bucket(me);
    if holders.len() > 10 && mine != Some(Addr::Any4) {
        for bucket in [mine, Some(Addr::Any4)] {
            let chain: Vec<SockId> = holders.iter().copied().filter(|&t| hash2_bucket(st.sock(t)) == bucket).collect();
            let first = address_chain_order(st, chain).into_iter().find_map(|t| blocks(st.sock(t)));
            if first == Some(true) {
                return Err(LINUX_UDP_MANY_SOCKETS);
            }
        }
        return Ok(LINUX_UDP_MANY_SOCKETS);
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

/// The address whose secondary hash chain a bound UDP socket sits in:
/// IPv6's wildcard shares IPv4's, a v4-mapped address its IPv4 one.
fn hash2_bucket(s: &Sock) -> Option<Addr> {
    s.local.map(|l| match l.addr {
        Addr::Any6 => Addr::Any4,
        a => a.as_v4().unwrap_or(a),
    })
}

/// Joins a reuseport group (TCP at listen, UDP at bind): the group of the
/// first socket in chain order on the same port and exact address, same
/// protocol, family, v6only and uid, with reuseport on (for TCP, a
/// listener); else a new one.
pub(super) fn join_group(st: &mut State, id: SockId) {
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
