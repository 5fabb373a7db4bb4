//! Delivery: which socket a probe reaches (windows.tcp.deliver-specific,
//! windows.tcp.deliver-oldest, windows.udp.deliver).

use super::Windows;
use super::connect::port_zero_refusal;
use crate::case::{Addr, Family, Kind, Proto};
use crate::model::kit::*;
use crate::model::rules::*;
use crate::model::state::*;
use crate::model::{DEST_PORT_ZERO, PortArg, Prediction, StepCtx};
use crate::outcome::{Errno, Outcome};

use Errno::*;

impl Windows {
    /// Rules 20-21: the listeners that may get a connection to `dst:port`,
    /// the expected one first.
    pub(super) fn tcp_listeners(&self, st: &State, dst: Addr, port: PortVal) -> (Vec<SockId>, &'static str) {
        let ids: Vec<SockId> = (0..st.socks.len() as SockId)
            .filter(|&i| {
                let s = st.sock(i);
                s.is_tcp() && s.life == Life::Live && s.tcp == Tcp::Listen && s.port() == Some(port)
            })
            .collect();
        best_matches(st, &ids, dst, WINDOWS_TCP_DELIVER_SPECIFIC, WINDOWS_TCP_DELIVER_OLDEST)
    }
}

pub(super) fn probe(m: &Windows, st: &State, kind: Kind, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
    let port = ctx.port.unwrap_or(PortArg::Zero).dest();
    // The prober is a fresh socket: v6only on, unbound.
    if let Some(p) = m.family_refusal(st, kind.family, true, None, addr, kind.proto) {
        return port_zero_refusal(p, port, st, None);
    }
    if port == DEST_PORT_ZERO {
        // Nobody holds port 0: refused or not sent (windows.any.dest-port-zero).
        let nobody = if kind.proto == Proto::Tcp { Outcome::Err(ECONNREFUSED) } else { Outcome::ToNone };
        return port_zero_refusal(Prediction::one(WINDOWS_DEST_PORT_ZERO, nobody, st.clone()), port, st, None);
    }
    let dst = peer_form(kind.family, addr);
    let (found, rule) =
        if kind.proto == Proto::Tcp { m.tcp_listeners(st, dst, port) } else { udp_receivers(st, dst, port) };
    if found.is_empty() {
        return if kind.proto == Proto::Tcp {
            fail(WINDOWS_TCP_CONNECT, ECONNREFUSED, st)
        } else {
            Prediction::one(WINDOWS_UDP_DELIVER, Outcome::ToNone, st.clone())
        };
    }
    choice(rule, found.into_iter().map(|r| (name_of(st, ctx, r), st.clone())).collect())
}

/// Rule 23: unconnected UDP sockets that may get a datagram to `dst:port`.
fn udp_receivers(st: &State, dst: Addr, port: PortVal) -> (Vec<SockId>, &'static str) {
    let ids: Vec<SockId> = (0..st.socks.len() as SockId)
        .filter(|&i| {
            let s = st.sock(i);
            !s.is_tcp() && s.life == Life::Live && s.port() == Some(port) && s.peer.is_none()
        })
        .collect();
    best_matches(st, &ids, dst, WINDOWS_UDP_DELIVER, WINDOWS_UDP_DELIVER)
}

/// Whether socket `s` takes traffic to `dst` as an exact (`Some(true)`) or
/// wildcard (`Some(false)`) match.
fn matches_traffic(s: &Sock, dst: Addr) -> Option<bool> {
    let a = s.local?.addr;
    match (s.kind.family, dst.as_v4()) {
        (Family::V4, Some(d)) => (a == d).then_some(true).or((a == Addr::Any4).then_some(false)),
        (Family::V4, None) => None,
        (Family::V6, Some(_)) if s.opts.v6only => None,
        (Family::V6, Some(d)) => {
            (a.as_v4() == Some(d) && a != Addr::Any6)
                .then_some(true)
                .or(matches!(a, Addr::Any6 | Addr::MappedAny4).then_some(false))
        }
        (Family::V6, None) => (a == dst).then_some(true).or((a == Addr::Any6).then_some(false)),
    }
}

/// Exact matches before wildcard ones; several in the best tier are all
/// allowed, the earliest bound first.
fn best_matches(
    st: &State,
    ids: &[SockId],
    dst: Addr,
    one: &'static str,
    many: &'static str,
) -> (Vec<SockId>, &'static str) {
    for exact in [true, false] {
        let mut tier: Vec<SockId> =
            ids.iter().copied().filter(|&i| matches_traffic(st.sock(i), dst) == Some(exact)).collect();
        tier.sort_by_key(|&i| st.sock(i).seq);
        match tier.len() {
            0 => continue,
            1 => return (tier, one),
            _ => return (tier, many),
        }
    }
    (Vec::new(), one)
}
