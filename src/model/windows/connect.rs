//! connect (windows.tcp.connect, windows.udp.connect,
//! windows.any.connect-family, windows.any.dest-port-zero) and what a
//! connection leaves in a listener's queue.

use super::Windows;
use crate::case::{Addr, Family, Proto};
use crate::model::kit;
use crate::model::kit::*;
use crate::model::rules::*;
use crate::model::state::*;
use crate::model::{Branch, DEST_PORT_ZERO, PortArg, Prediction, StepCtx};
use crate::outcome::{Errno, Outcome};

use Errno::*;

impl Windows {
    fn connect_tcp(&self, st: &State, id: SockId, dst: Addr, dport: PortVal, ctx: &StepCtx<'_>) -> Prediction {
        let s = st.sock(id);
        let dst = peer_form(s.kind.family, dst);
        let mut ns = st.clone();
        let a = Attempt::start(&mut ns, id, dst, dport, ctx);
        if a.to_itself() {
            let mut yes = ns.clone();
            a.connected(&mut yes);
            return choice(WINDOWS_TCP_CONNECT, vec![(Outcome::Ok, yes), (Outcome::Err(ECONNREFUSED), ns)]);
        }
        let (listeners, _) = self.tcp_listeners(st, dst, dport);
        if listeners.is_empty() {
            return Prediction::one(WINDOWS_TCP_CONNECT, Outcome::Err(ECONNREFUSED), ns);
        }
        a.connected(&mut ns);
        let branches = listeners.into_iter().map(|lid| (Outcome::Ok, with_child(&ns, lid, id, dst))).collect();
        choice(WINDOWS_TCP_CONNECT, branches)
    }

    /// Family checks of connect and of a probe's socket: `None` if the
    /// socket can use `dst`.
    pub(crate) fn family_refusal(
        &self,
        st: &State,
        family: Family,
        v6only: bool,
        local: Option<Addr>,
        dst: Addr,
        _proto: Proto,
    ) -> Option<Prediction> {
        let bad = match (family, dst.family()) {
            (Family::V4, Family::V6) | (Family::V6, Family::V4) => Some(&[EAFNOSUPPORT, EFAULT][..]),
            (Family::V6, _) if dst.is_mapped() && v6only => Some(&[EADDRNOTAVAIL, ENETUNREACH][..]),
            (Family::V6, _) if local.is_some_and(|l| l.is_mapped() != dst.is_mapped() && !l.is_wildcard()) => {
                Some(&[EADDRNOTAVAIL, ENETUNREACH][..])
            }
            _ => None,
        };
        bad.map(|errs| errors(WINDOWS_V6_CONNECT, errs, st))
    }
}

pub(super) fn connect(m: &Windows, st: &State, id: SockId, dst: Addr, ctx: &StepCtx<'_>) -> Prediction {
    // Port 0 is a destination like any other: nobody holds it.
    let dport = ctx.port.unwrap_or(PortArg::Zero).dest();
    let s = st.sock(id);
    if let Some(p) = connect_state(st, id) {
        return p;
    }
    let local = s.local.map(|l| l.addr);
    if let Some(p) = m.family_refusal(st, s.kind.family, s.opts.v6only, local, dst, s.kind.proto) {
        return port_zero_refusal(p, dport, st, None);
    }
    let (p, rule) = if s.is_tcp() {
        let p = m.connect_tcp(st, id, dst, dport, ctx);
        (p, (dport == DEST_PORT_ZERO).then_some(WINDOWS_DEST_PORT_ZERO))
    } else {
        (ok(WINDOWS_UDP_CONNECT, udp_connected(st, id, dst, dport, ctx)), Some(WINDOWS_DEST_PORT_ZERO))
    };
    port_zero_refusal(p, dport, st, rule)
}

/// A TCP connect the state refuses before anything else: on a listener
/// (EINVAL), on a connected socket (EISCONN), while one is in progress
/// (EALREADY). Rule windows.tcp.connect.
pub(crate) fn connect_state(st: &State, id: SockId) -> Option<Prediction> {
    let s = st.sock(id);
    let e = match s.tcp {
        _ if !s.is_tcp() => return None,
        Tcp::Listen => EINVAL,
        _ if s.connected_once => EISCONN,
        Tcp::SynSent => EALREADY,
        _ => return None,
    };
    Some(fail(WINDOWS_TCP_CONNECT, e, st))
}

/// Rule windows.any.dest-port-zero: a destination port 0 may also be
/// refused as an invalid address (EADDRNOTAVAIL, nothing changed) beside
/// what the call does otherwise; `rule` replaces the prediction's rule
/// (`None`: keep it, an earlier check decided).
pub(super) fn port_zero_refusal(
    mut p: Prediction,
    dport: PortVal,
    st: &State,
    rule: Option<&'static str>,
) -> Prediction {
    if dport != DEST_PORT_ZERO {
        return p;
    }
    let refused = Outcome::Err(EADDRNOTAVAIL);
    if !p.branches.iter().any(|b| b.outcome == refused && b.state == *st) {
        p.branches.push(Branch { outcome: refused, state: st.clone() });
    }
    if let Some(r) = rule {
        p.rule = r;
    }
    p
}

/// A TCP connect under way: the socket is bound (rule 29: an unbound
/// socket first gets an ephemeral port, and the binding stays), with the
/// source address it sends from and the peer.
pub(crate) struct Attempt {
    pub id: SockId,
    pub src: Addr,
    pub port: PortVal,
    pub peer: Endpoint,
}

impl Attempt {
    /// Binds the socket in `ns` if it needs it.
    pub(crate) fn start(ns: &mut State, id: SockId, dst: Addr, dport: PortVal, ctx: &StepCtx<'_>) -> Attempt {
        let s = ns.sock(id).clone();
        match s.local {
            None => {
                let p = ns.ephemeral(ctx.observed);
                autobind(ns, id, Addr::Any4, p);
            }
            // The OS may have given the port back after a failed connect.
            Some(_) if s.connect_bound && s.bound_addr.is_none() => {
                if let (Some(p), Some(l)) = (ctx.observed, ns.sock_mut(id).local.as_mut()) {
                    l.port = PortVal::Eph(p);
                }
            }
            Some(_) => {}
        }
        let l = ns.sock(id).local.expect("bound");
        let src = if l.addr.is_wildcard() { source_for(s.kind.family, dst) } else { l.addr };
        Attempt { id, src, port: l.port, peer: Endpoint { addr: dst, port: dport } }
    }

    /// A connect to its own address and port.
    pub(crate) fn to_itself(&self) -> bool {
        same_endpoint(Endpoint { addr: self.src, port: self.port }, self.peer)
    }

    /// The socket is connected.
    pub(crate) fn connected(&self, ns: &mut State) {
        let sm = ns.sock_mut(self.id);
        sm.local = Some(Endpoint { addr: self.src, port: self.port });
        sm.tcp = Tcp::Established;
        sm.connected_once = true;
        sm.peer = Some(self.peer);
        // It has received a segment (the SYN-ACK).
        sm.received = true;
    }
}

/// A UDP connect that succeeds: an unbound socket is bound to the
/// wildcard and an ephemeral port, a wildcard source becomes the loopback
/// address it sends from, and the peer is set (rule windows.udp.connect).
pub(crate) fn udp_connected(st: &State, id: SockId, dst: Addr, dport: PortVal, ctx: &StepCtx<'_>) -> State {
    let mut ns = st.clone();
    ns.sock_mut(id).connect_failed = false;
    let family = ns.sock(id).kind.family;
    if ns.sock(id).local.is_none() {
        let p = ns.ephemeral(ctx.observed);
        autobind(&mut ns, id, wildcard(family), p);
        ns.sock_mut(id).bound_addr = Some(wildcard(family));
    }
    let dst = peer_form(family, dst);
    let sm = ns.sock_mut(id);
    if let Some(l) = sm.local.as_mut() {
        if l.addr.is_wildcard() {
            l.addr = source_for(family, dst);
        }
    }
    sm.peer = Some(Endpoint { addr: dst, port: dport });
    ns
}

/// A socket bound by connect.
pub(crate) fn autobind(ns: &mut State, id: SockId, addr: Addr, port: PortVal) {
    let seq = ns.tick();
    let s = ns.sock_mut(id);
    let addr = if s.kind.family == Family::V6 && addr.family() == Family::V4 { Addr::Any6 } else { addr };
    s.local = Some(Endpoint { addr, port });
    s.connect_bound = true;
    s.bound_opts = s.opts;
    s.seq = seq;
}

/// A new connection from `client` waiting in `listener`'s queue
/// ([`kit::enqueue`]): the child takes the options the listener had when
/// it was bound, and no address of a bind of its own.
pub(crate) fn with_child(ns: &State, listener: SockId, client: SockId, dst: Addr) -> State {
    let mut st = ns.clone();
    kit::enqueue(&mut st, listener, client, dst, |l, child| {
        child.bound_opts = l.bound_opts;
        child.bound_addr = None;
    });
    st
}
