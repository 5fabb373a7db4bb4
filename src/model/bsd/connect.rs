//! `connect` and `accept`: the family checks, the 4-tuple, TCP handshakes
//! into a listener's queue (or refusals), UDP connect; accept.

use super::deliver::{connect_family, deliver, syn_rule, syn_to_closed};
use super::{Bsd, attach, drop_sock, establish, source_of};
use crate::case::{Addr, Proto, Slot};
use crate::model::kit::{accepted, enqueue, pending_of, same_endpoint};
use crate::model::rules::*;
use crate::model::state::{Endpoint, Life, Tcp};
use crate::model::{Branch, PortArg, Prediction, SockId, State, StepCtx, fail, ok};
use crate::outcome::{Errno, Outcome};

use Errno::*;

pub(super) fn connect(m: &Bsd, st: &State, id: SockId, dst: Addr, ctx: &StepCtx<'_>) -> Prediction {
    if st.sock(id).is_tcp() { connect_tcp(m, st, id, dst, ctx) } else { connect_udp(m, st, id, dst, ctx) }
}

/// The 4-tuple `local -> peer` is held by another socket.
pub(super) fn tuple_in_use(st: &State, id: SockId, proto: Proto, local: Endpoint, peer: Endpoint) -> bool {
    st.holders(proto, local.port, Some(id)).into_iter().any(|t| {
        let s = st.sock(t);
        s.local.is_some_and(|l| same_endpoint(l, local)) && s.peer.is_some_and(|p| same_endpoint(p, peer))
    })
}

pub(super) fn connect_tcp(m: &Bsd, st: &State, id: SockId, dst: Addr, ctx: &StepCtx<'_>) -> Prediction {
    let s = st.sock(id);
    // XNU soconnectlock refuses a listener first; FreeBSD's socket
    // layer refuses a connected socket first.
    if m.mac() && s.tcp == Tcp::Listen {
        return fail(BSD_CONNECT_ERRORS, EOPNOTSUPP, st);
    }
    if matches!(s.tcp, Tcp::Established | Tcp::CloseWait | Tcp::SynSent) {
        return fail(BSD_CONNECT_ERRORS, EISCONN, st);
    }
    if s.tcp == Tcp::Reset {
        if m.fb() {
            return fail(FREEBSD_DROPPED_CONNECT, ECONNREFUSED, st);
        }
        if s.connected_once {
            let mut ns = st.clone();
            ns.sock_mut(id).connected_once = false;
            return Prediction::one(MACOS_DEAD_CONNECT, Outcome::Err(ECONNRESET), ns);
        }
        return fail(MACOS_DEAD_CONNECT, EINVAL, st);
    }
    if let Some(p) = connect_family(m, s, dst, st) {
        return p;
    }
    if s.tcp == Tcp::Listen {
        return fail(BSD_CONNECT_ERRORS, EOPNOTSUPP, st);
    }
    if m.lb_pending() && s.opts.reuseport_lb {
        return fail(FREEBSD_LB_CONNECT, EOPNOTSUPP, st);
    }
    let Some(PortArg::Val(dport)) = ctx.port else {
        return fail(BSD_CONNECT_PORT_ZERO, EADDRNOTAVAIL, st);
    };
    if dst.as_v4() == Some(Addr::Lo4b) {
        // Nothing local answers; the error depends on the routes.
        let mut dropped = st.clone();
        drop_sock(&mut dropped, id, false);
        let branches = [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT]
            .into_iter()
            .map(|e| Branch {
                outcome: Outcome::Err(e),
                state: if e == ENETUNREACH { st.clone() } else { dropped.clone() },
            })
            .collect();
        return Prediction { rule: BSD_LOOPBACK_127_ONLY, branches };
    }
    let src = source_of(s, dst);
    let peer = Endpoint { addr: dst, port: dport };
    if let Some(l) = s.local {
        let local = Endpoint { addr: src, port: l.port };
        if tuple_in_use(st, id, Proto::Tcp, local, peer) {
            return fail(BSD_TCP_TUPLE_IN_USE, EADDRINUSE, st);
        }
        if same_endpoint(local, peer) {
            if m.mac() && dst.as_v4().is_some() {
                return fail(MACOS_SELF_CONNECT, EINVAL, st);
            }
            let mut ns = st.clone();
            attach(&mut ns, id, src, peer, None);
            establish(&mut ns, id);
            return ok(BSD_TCP_SELF_CONNECT, ns);
        }
    }
    let (targets, deliver_rule) = deliver(m, st, Proto::Tcp, dst, dport, Some(id));
    if targets.is_empty() {
        let mut ns = st.clone();
        drop_sock(&mut ns, id, false);
        return fail(BSD_TCP_CONNECT_REFUSED, ECONNREFUSED, &ns);
    }
    let mut connected_st = st.clone();
    attach(&mut connected_st, id, src, peer, ctx.observed);
    establish(&mut connected_st, id);
    let rule = syn_rule(m, st, &targets, deliver_rule, BSD_TCP_CONNECT_LISTENER);
    let branches = targets
        .into_iter()
        .map(|t| {
            if st.sock(t).tcp == Tcp::Listen {
                let mut b = connected_st.clone();
                add_child(&mut b, t, id, dst);
                Branch { outcome: Outcome::Ok, state: b }
            } else {
                let (_, e) = syn_to_closed(m);
                let mut b = st.clone();
                drop_sock(&mut b, id, false);
                Branch { outcome: Outcome::Err(e), state: b }
            }
        })
        .collect();
    Prediction { rule, branches }
}

/// A new connection from `client` waits in `listener`'s queue: a socket
/// that inherits the listener's options and credentials.
pub(super) fn add_child(st: &mut State, listener: SockId, client: SockId, dst: Addr) {
    enqueue(st, listener, client, dst, |_, _| {});
}

pub(super) fn connect_udp(m: &Bsd, st: &State, id: SockId, dst: Addr, ctx: &StepCtx<'_>) -> Prediction {
    // A connected datagram socket is disconnected first (soconnectat,
    // soconnectlock); its local address stays.
    let mut ns = st.clone();
    ns.sock_mut(id).peer = None;
    let s = ns.sock(id).clone();
    if let Some(p) = connect_family(m, &s, dst, &ns) {
        return p;
    }
    let Some(PortArg::Val(dport)) = ctx.port else {
        return fail(BSD_CONNECT_PORT_ZERO, EADDRNOTAVAIL, &ns);
    };
    let src = source_of(&s, dst);
    let peer = Endpoint { addr: dst, port: dport };
    if let Some(l) = s.local {
        if tuple_in_use(&ns, id, Proto::Udp, Endpoint { addr: src, port: l.port }, peer) {
            return fail(BSD_TCP_TUPLE_IN_USE, EADDRINUSE, &ns);
        }
    }
    attach(&mut ns, id, src, peer, ctx.observed);
    if m.lb_pending() {
        // 15 takes a connected socket out of its group (in_pcbrehash).
        ns.sock_mut(id).group = None;
    }
    if m.fb() && dst.as_v4() == Some(Addr::Lo4b) {
        // Without a route to 127.0.0.2 the source selection fails.
        let mut unrouted = st.clone();
        unrouted.sock_mut(id).peer = None;
        let branches = vec![
            Branch { outcome: Outcome::Err(ENETUNREACH), state: unrouted },
            Branch { outcome: Outcome::Ok, state: ns },
        ];
        return Prediction { rule: BSD_LOOPBACK_127_ONLY, branches };
    }
    ok(BSD_UDP_CONNECT, ns)
}

pub(super) fn accept(st: &State, slot: Slot, lid: SockId, mut dead: State) -> Prediction {
    let l = st.sock(lid);
    if !l.is_tcp() || l.tcp != Tcp::Listen {
        return fail(BSD_TCP_ACCEPT, EINVAL, &dead);
    }
    let Some(child) = pending_of(st, lid).into_iter().next() else {
        return fail(BSD_TCP_ACCEPT, EAGAIN, &dead);
    };
    if st.sock(child).tcp == Tcp::Reset {
        dead.sock_mut(child).life = Life::Gone;
        return fail(BSD_TCP_ACCEPT, ECONNABORTED, &dead);
    }
    accepted(BSD_TCP_ACCEPT, st, slot, child)
}
