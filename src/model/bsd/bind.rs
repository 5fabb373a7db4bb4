//! `bind`: the argument checks, the lookup of sockets that share the
//! address, the sharing rules and who is blamed for a conflict, the uid
//! check, and what a successful bind leaves.

use super::{Bsd, Flavor, Table, bind_target, connected, dual, is_wild, view};
use crate::case::{Addr, Family, Proto};
use crate::model::kit::errors;
use crate::model::rules::*;
use crate::model::state::{Endpoint, Sock, Tcp};
use crate::model::{PortArg, PortVal, Prediction, SockId, State, StepCtx, fail, ok};
use crate::outcome::Errno;

use Errno::*;

/// `in_pcblookup_local`: the socket on `port` that a bind of `addr`
/// finds in `table`. Exact (`!wild`): an unconnected socket on the very
/// same address. Wild: the best overlapping socket, scored by its
/// wildcards (connected +1, exactly one side wildcard +1, FreeBSD
/// dual-stack socket in the IPv4 table +3), ties to the newest.
#[allow(clippy::too_many_arguments)]
pub(super) fn lookup(
    m: &Bsd,
    st: &State,
    me: SockId,
    proto: Proto,
    port: PortVal,
    table: Table,
    addr: Addr,
    wild: bool,
) -> Option<SockId> {
    let mut best: Option<(u8, u32, SockId)> = None;
    for t in st.holders(proto, port, Some(me)) {
        let s = st.sock(t);
        let Some(ta) = view(s, table) else { continue };
        let score = if wild {
            if !is_wild(ta) && !is_wild(addr) && ta != addr {
                continue;
            }
            let mut sc = connected(s) as u8 + (is_wild(ta) != is_wild(addr)) as u8;
            if m.fb() && table == Table::V4 && dual(s) {
                sc += 3;
            }
            sc
        } else {
            if connected(s) || ta != addr {
                continue;
            }
            0
        };
        if best.is_none_or(|(b, seq, _)| score < b || (score == b && s.seq > seq)) {
            best = Some((score, s.seq, t));
        }
    }
    best.map(|(_, _, t)| t)
}

/// Whether `me` and `t` share the port by consent: both reuseport, or
/// (FreeBSD 12+) both reuseport_lb. Returns the rule that says so.
pub(super) fn shares(m: &Bsd, me: &Sock, t: &Sock) -> Option<&'static str> {
    if me.opts.reuseport && t.opts.reuseport {
        Some(BSD_CONFLICT)
    } else if m.has_lb() && me.opts.reuseport_lb && t.opts.reuseport_lb {
        Some(FREEBSD_REUSEPORT_LB_BIND)
    } else {
        None
    }
}

/// The rule that explains why `t` blocks a bind of `me` to `addr`.
pub(super) fn blame(m: &Bsd, me: &Sock, t: &Sock, table: Table, addr: Addr) -> &'static str {
    // reuseport_lb explains the refusal when the new socket relies on it,
    // or offers reuseport to a socket that only has reuseport_lb.
    if m.has_lb() && (me.opts.reuseport_lb || (me.opts.reuseport && t.opts.reuseport_lb)) {
        return FREEBSD_REUSEPORT_LB_BIND;
    }
    if connected(t) {
        return BSD_CONNECTED_AND_TIMEWAIT;
    }
    if table == Table::V4 && (me.kind.family == Family::V6 || t.kind.family == Family::V6) {
        return if dual(t) && me.kind.family == Family::V4 && is_wild(addr) {
            BSD_V4_THEN_DUALSTACK
        } else {
            BSD_V4_LOOKUPS_SEE_DUAL_STACK
        };
    }
    if view(t, table) == Some(addr) { BSD_SAME_ADDR } else { BSD_SPECIFIC_BESIDE_WILD }
}

/// The answer to an address of the other family (bind and connect).
pub(super) fn wrong_family(m: &Bsd, s: &Sock, st: &State) -> Prediction {
    if m.fb_before(&[13]) {
        return errors(FREEBSD_WRONG_FAMILY_LEGACY, &[EAFNOSUPPORT, EINVAL], st);
    }
    if m.mac() && !s.is_tcp() {
        return fail(MACOS_UDP_WRONG_FAMILY, EINVAL, st);
    }
    fail(BSD_WRONG_FAMILY, EAFNOSUPPORT, st)
}

pub(super) fn bind(m: &Bsd, st: &State, id: SockId, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
    let s = st.sock(id);
    if s.is_tcp() && s.tcp == Tcp::Reset {
        return fail(BSD_TCP_DROPPED, EINVAL, st);
    }
    if s.kind.family != addr.family() {
        // XNU's udp_bind lets the address through to in_pcbbind, whose
        // bind-twice test comes before its length test.
        if m.mac() && !s.is_tcp() && s.local.is_some() {
            return fail(BSD_BIND_TWICE, EINVAL, st);
        }
        return wrong_family(m, s, st);
    }
    if s.local.is_some() {
        return fail(BSD_BIND_TWICE, EINVAL, st);
    }
    let (table, a) = bind_target(s, addr);
    if table == Table::V6 && addr.is_mapped() {
        return fail(BSD_V4MAPPED_WITH_V6ONLY, EADDRNOTAVAIL, st);
    }
    match a {
        Addr::TestNet => return fail(BSD_ADDR_NOT_LOCAL, EADDRNOTAVAIL, st),
        Addr::Lo4b => return fail(BSD_LOOPBACK_127_ONLY, EADDRNOTAVAIL, st),
        _ => {}
    }
    let mut ns = st.clone();
    let port = match ctx.port {
        Some(PortArg::Val(p)) => p,
        _ => {
            let p = ns.ephemeral(ctx.observed);
            let joined = commit_bind(m, &mut ns, id, addr, p);
            return ok(if joined { FREEBSD_REUSEPORT_LB_GROUP } else { BSD_PORT_ZERO }, ns);
        }
    };
    let uid_note = match uid_check(m, st, id, s, table, a, port) {
        Err(rule) => return fail(rule, EADDRINUSE, st),
        Ok(note) => note,
    };
    let rule = match conflict(m, st, id, s, table, a, port) {
        Err(rule) => return fail(rule, EADDRINUSE, st),
        Ok(rule) => rule,
    };
    let joined = commit_bind(m, &mut ns, id, addr, port);
    // Another user's socket let through by a version's exception names
    // that exception: it is what decided the bind.
    let rule = match (rule, uid_note) {
        (_, Some(note)) => note,
        (BSD_CONFLICT, None) if joined => FREEBSD_REUSEPORT_LB_GROUP,
        (rule, _) => rule,
    };
    ok(rule, ns)
}

/// The user check of a bind to a non-zero port by a non-root creator
/// (the main user is root, `as other` is not). `Err(rule)`: refused;
/// `Ok(Some(rule))`: another user's socket overlaps but an exception
/// let the bind go on.
pub(super) fn uid_check(
    m: &Bsd,
    st: &State,
    id: SockId,
    me: &Sock,
    table: Table,
    addr: Addr,
    port: PortVal,
) -> Result<Option<&'static str>, &'static str> {
    if !me.other {
        return Ok(None);
    }
    let proto = me.kind.proto;
    // FreeBSD: a connected TCP socket has a unique 4-tuple and does not count.
    let counts = |t: &Sock| t.other != me.other && (m.mac() || proto == Proto::Udp || !connected(t));
    let fb_rule = if m.fb_since(&[15]) {
        FREEBSD_UID
    } else if m.fb_since(&[12]) {
        FREEBSD_UID_LB_EXCEPTION
    } else {
        FREEBSD_UID_LEGACY
    };
    let mut note = None;
    if let Some(t) = lookup(m, st, id, proto, port, table, addr, true) {
        let ts = st.sock(t);
        let ta = view(ts, table).unwrap_or(addr);
        let both_wild = is_wild(addr) && is_wild(ta);
        if counts(ts) {
            let exempt = match m.flavor {
                Flavor::FreeBsd if m.fb_since(&[15]) => false,
                Flavor::FreeBsd if m.fb_since(&[12]) => both_wild && ts.opts.reuseport_lb && !ts.opts.reuseport,
                Flavor::FreeBsd => both_wild && ts.opts.reuseport,
                Flavor::MacOs => both_wild && (table == Table::V4 || ts.opts.reuseport),
            };
            let rule = if m.fb() { fb_rule } else { MACOS_UID };
            if !exempt {
                return Err(rule);
            }
            note = Some(rule);
        }
    }
    if table == Table::V6 && addr == Addr::Any6 && !me.opts.v6only {
        if let Some(t) = lookup(m, st, id, proto, port, Table::V4, Addr::Any4, true) {
            let ts = st.sock(t);
            let ta = view(ts, Table::V4).unwrap_or(Addr::Any4);
            match m.flavor {
                Flavor::FreeBsd if counts(ts) => return Err(fb_rule),
                Flavor::MacOs
                    if ts.other != me.other && !ts.opts.reuseport && (!is_wild(ta) || ts.kind.family == Family::V6) =>
                {
                    return Err(MACOS_UID);
                }
                _ => {}
            }
        }
    }
    Ok(note)
}

/// The conflict check of a bind to a non-zero port: `Ok(rule)` if free,
/// `Err(rule)` for EADDRINUSE.
pub(super) fn conflict(
    m: &Bsd,
    st: &State,
    id: SockId,
    me: &Sock,
    table: Table,
    addr: Addr,
    port: PortVal,
) -> Result<&'static str, &'static str> {
    let o = me.opts;
    let exact = o.reuseaddr || o.reuseport || (m.has_lb() && o.reuseport_lb);
    let proto = me.kind.proto;
    let mut note = None;
    if let Some(t) = lookup(m, st, id, proto, port, table, addr, !exact) {
        let ts = st.sock(t);
        match shares(m, me, ts) {
            Some(rule) => note = Some(rule),
            None => {
                let ta = view(ts, table).unwrap_or(addr);
                let exempt = table == Table::V4
                    && is_wild(addr)
                    && is_wild(ta)
                    && me.kind.family == Family::V6
                    && ts.kind.family == Family::V6;
                if !exempt {
                    return Err(blame(m, me, ts, table, addr));
                }
                note = Some(BSD_DUAL_STACK_EXEMPTION);
            }
        }
    }
    if table == Table::V6 && addr == Addr::Any6 && !o.v6only {
        if let Some(t) = lookup(m, st, id, proto, port, Table::V4, Addr::Any4, !exact) {
            let ts = st.sock(t);
            let ta = view(ts, Table::V4).unwrap_or(Addr::Any4);
            if shares(m, me, ts).is_none() && (!is_wild(ta) || ts.kind.family == Family::V6) {
                return Err(if connected(ts) { BSD_CONNECTED_AND_TIMEWAIT } else { BSD_V4_THEN_DUALSTACK });
            }
            note = note.or(Some(BSD_V4_THEN_DUALSTACK));
        }
    }
    if let Some(rule) = note {
        return Ok(rule);
    }
    if exact {
        // What the wildcard lookup would have found: the exact lookup let it be.
        if let Some(t) = lookup(m, st, id, proto, port, table, addr, true) {
            let ts = st.sock(t);
            return Ok(if connected(ts) {
                BSD_CONNECTED_AND_TIMEWAIT
            } else if ts.tcp == Tcp::Listen {
                BSD_LISTEN_IRRELEVANT
            } else {
                BSD_LOOKUP_MODE
            });
        }
    }
    Ok(BSD_CONFLICT)
}

/// Records a bind (explicit or automatic): the socket enters the port
/// list and, with reuseport_lb, a load-balancing group. Returns whether
/// it joined a group.
pub(super) fn commit_bind(m: &Bsd, ns: &mut State, id: SockId, addr: Addr, port: PortVal) -> bool {
    let seq = ns.tick();
    let s = ns.sock_mut(id);
    s.local = Some(Endpoint { addr, port });
    s.bound_addr = Some(addr);
    s.bound_opts = s.opts;
    s.seq = seq;
    let join = m.has_lb()
        && s.opts.reuseport_lb
        && s.peer.is_none()
        && !(s.kind.family == Family::V6 && view(s, Table::V4) == Some(Addr::Any4));
    s.group = join.then_some(1);
    join
}
