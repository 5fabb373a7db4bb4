//! `probe` and delivery (section G of the rule table): which listener gets
//! a connection and which UDP socket a datagram, the lookup passes and
//! their scores, reuseport groups, and what a probe leaves behind.

use super::Linux;
use crate::case::{Addr, Family, Kind, Proto};
use crate::model::kit::source_for;
use crate::model::rules::*;
use crate::model::state::{Endpoint, Life, SlotState, Sock, Tcp, View};
use crate::model::{Branch, DEST_PORT_ZERO, PortArg, PortVal, Prediction, SockId, State, StepCtx, fail};
use crate::outcome::{Errno, Outcome};

use Errno::*;

pub(super) fn probe(m: &Linux, st: &State, kind: Kind, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
    let port = ctx.port.unwrap_or(PortArg::Zero).dest();
    // The prober is a fresh socket: the family checks of connect apply.
    let dst = match (kind.family, addr.family()) {
        (Family::V4, Family::V6) => return fail(LINUX_CONNECT_FAMILY_MISMATCH, EAFNOSUPPORT, st),
        (Family::V6, Family::V4) if kind.proto == Proto::Tcp => {
            return fail(LINUX_CONNECT_FAMILY_MISMATCH, EINVAL, st);
        }
        (Family::V6, Family::V4) if m.bindv6only => {
            return fail(LINUX_CONNECT_FAMILY_MISMATCH, EAFNOSUPPORT, st);
        }
        (Family::V6, Family::V4) => addr.to_mapped(),
        _ => addr,
    };
    if kind.family == Family::V6 && dst.is_mapped() && m.bindv6only {
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

/// What a probe leaves behind on a listener with IPv4 operations: its
/// accepted-and-closed IPv6 connection, still holding the listener's port;
/// nothing if the child has SO_LINGER 0 from the listener (its close
/// sends a RST, lost or not, and frees it at once).
pub(super) fn mute_orphan(st: &mut State, listener: SockId, dst: Addr) {
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

/// Which listener(s) get a TCP connection to `dst:port` (rules 34-36):
/// exact address first, then wildcard; IPv4 listeners beat IPv6 ones for
/// IPv4 traffic; the first listener in the hash chain with the best score
/// wins, a reuseport group answers with all its members.
pub(crate) fn tcp_listeners(st: &State, dst: Addr, port: PortVal) -> (Vec<SockId>, &'static str) {
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
pub(super) struct Found {
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
pub(super) fn lookup_pass(st: &State, pool: &[SockId], dst: Addr, exact: bool) -> Option<Found> {
    let scored: Vec<(SockId, u8)> = address_chain_order(st, pool.to_vec())
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

/// Sockets in the order of their port's hash chain: those put at the head,
/// newest first, then those appended at the tail, oldest first.
pub(super) fn chain_order(st: &State, mut ids: Vec<SockId>) -> Vec<SockId> {
    ids.sort_by_key(|&i| port_chain_key(st.sock(i)));
    ids
}

/// Where a socket stands in its port's chain (lower first).
fn port_chain_key(s: &Sock) -> (bool, i64) {
    (s.hash_tail, if s.hash_tail { s.seq as i64 } else { -(s.seq as i64) })
}

/// Sockets in the order of their address's hash chain, where lookups walk:
/// as the port's chain, except that a UDP socket a connect rehashed went to
/// the head of its new address chain then.
pub(super) fn address_chain_order(st: &State, mut ids: Vec<SockId>) -> Vec<SockId> {
    ids.sort_by_key(|&i| {
        let s = st.sock(i);
        s.rehashed.map_or_else(|| port_chain_key(s), |at| (false, -(at as i64)))
    });
    ids
}

/// Whether a UDP socket connected to `peer` takes a datagram from `src`
/// at the prober's (ephemeral) port: only when it connected to port 0,
/// which sets no port filter, and the addresses are equal.
pub(super) fn takes_from(peer: Endpoint, src: Addr) -> bool {
    peer.port == DEST_PORT_ZERO
        && (peer.addr == src || (peer.addr.as_v4().is_some() && peer.addr.as_v4() == src.as_v4()))
}

/// Score of a listener or unconnected UDP socket for traffic to `dst`, in
/// the exact-address pass or the wildcard pass; `None` if it does not match.
/// For IPv4 traffic AF_INET scores 2, a dual-stack AF_INET6 socket 1; IPv6
/// traffic reaches only AF_INET6 sockets.
pub(super) fn traffic_score(s: &Sock, dst: Addr, exact: bool) -> Option<u8> {
    // A connected UDP socket (to port 0: see takes_from) scores more for
    // its peer address than any unconnected one.
    let connected = if s.peer.is_some() { 4 } else { 0 };
    traffic_match(s, dst, exact).map(|sc| sc + connected)
}

pub(super) fn traffic_match(s: &Sock, dst: Addr, exact: bool) -> Option<u8> {
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
pub(crate) fn udp_receivers(st: &State, dst: Addr, port: PortVal, src: Addr) -> (Vec<SockId>, &'static str) {
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
