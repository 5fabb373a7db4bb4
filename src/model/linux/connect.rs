//! `connect` and `accept` (section F of the rule table): family checks,
//! autobind, the 4-tuple check, refused connects, the handshake into a
//! listener's queue; UDP connect; accept.

use super::bind::join_group;
use super::deliver::tcp_listeners;
use super::kept_addr;
use crate::case::{Addr, Family, Proto, Slot};
use crate::model::kit::{accepted, enqueue, pending_of, same_endpoint, source_for, wildcard};
use crate::model::rules::*;
use crate::model::state::{Endpoint, Life, Tcp, View};
use crate::model::{Branch, PortArg, PortVal, Prediction, SockId, State, StepCtx, fail, ok};
use crate::outcome::{Errno, Outcome};

use Errno::*;

pub(super) fn connect(st: &State, id: SockId, dst: Addr, ctx: &StepCtx<'_>) -> Prediction {
    // Port 0 is a destination like any other: nothing listens there.
    let dport = ctx.port.unwrap_or(PortArg::Zero).dest();
    if st.sock(id).is_tcp() { connect_tcp(st, id, dst, dport, ctx) } else { connect_udp(st, id, dst, dport, ctx) }
}

fn connect_udp(st: &State, id: SockId, dst: Addr, dport: PortVal, ctx: &StepCtx<'_>) -> Prediction {
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
    let rehash = ns.sock(id).local.is_some_and(|l| l.addr.is_wildcard());
    let seq = if rehash { ns.tick() } else { 0 };
    let sm = ns.sock_mut(id);
    if rehash {
        // A wildcard socket takes the source address: udp_lib_rehash moves
        // it to the head of its new address chain and detaches it from its
        // reuseport group (the group's other members stay together).
        if let Some(l) = sm.local.as_mut() {
            l.addr = source_for(sm.kind.family, dst);
        }
        sm.rehashed = Some(seq);
        sm.group = None;
    }
    sm.peer = Some(Endpoint { addr: dst, port: dport });
    ok(LINUX_UDP_CONNECT, ns)
}

fn connect_tcp(st: &State, id: SockId, dst: Addr, dport: PortVal, ctx: &StepCtx<'_>) -> Prediction {
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
    // A socket connecting to its own address and port opens to itm.
    if same_endpoint(local, peer) {
        connected(&mut ns, Tcp::Established);
        ns.sock_mut(id).received = true;
        return ok(LINUX_TCP_CONNECT_LISTENER, ns);
    }
    // The SYN meets a TIME_WAIT entry of the other end of this 4-tuple:
    // with a listener there, the entry gives way to the new connection
    // (TCP_TW_SYN); without one, it answers with an ACK, the connecting
    // socket resets it, and the RST ends it (tcp_rfc1337 is off). Either
    // way the entry is gone.
    let ended: Vec<SockId> = st
        .holders(Proto::Tcp, dport, Some(id))
        .into_iter()
        .filter(|&t_id| {
            let t = st.sock(t_id);
            t.life == (Life::Orphan { tw: true })
                && !t.tw_fin_wait2
                && t.local.is_some_and(|l| same_endpoint(l, peer))
                && t.peer.is_some_and(|p| same_endpoint(p, local))
        })
        .collect();
    for &t_id in &ended {
        ns.sock_mut(t_id).life = Life::Gone;
    }
    let (listeners, _) = tcp_listeners(st, dst, dport);
    if listeners.is_empty() {
        // RST: back to an unconnected socket; an unlocked port is freed,
        // an address not chosen by bind is forgotten.
        let mut ns = st.clone();
        for &t_id in &ended {
            ns.sock_mut(t_id).life = Life::Gone;
        }
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

pub(super) fn accept(st: &State, slot: Slot, lid: SockId, dead: State) -> Prediction {
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
    accepted(LINUX_TCP_ACCEPT, st, slot, child)
}

/// A new connection from `client` waits in `listener`'s queue.
pub(super) fn add_child(st: &mut State, listener: SockId, client: SockId, dst: Addr) {
    enqueue(st, listener, client, dst, |l, child| {
        // sk_clone_lock drops SOCK_BINDPORT_LOCK from the child (so the
        // kit's unlocked port stands) and sets sk_incoming_cpu.
        child.addr_locked = l.addr_locked;
        child.received = true;
        // An IPv6 child of a listener with IPv4 operations inherits them.
        child.mapped_ops = l.mapped_ops;
        child.mute = l.mapped_ops && dst.as_v4().is_none();
        child.ehashed = true;
    });
}
