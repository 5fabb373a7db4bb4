//! `probe` and delivery: which destinations a socket of each family may
//! reach, what a SYN meets, which listener or UDP socket gets traffic, and
//! load-balancing groups.

use super::bind::wrong_family;
use super::{Bsd, Flavor, Table, connected, view};
use crate::case::{Addr, Family, Kind, Proto};
use crate::model::kit::{errors, name_of};
use crate::model::rules::*;
use crate::model::state::{Life, Sock, Tcp};
use crate::model::{Branch, PortArg, PortVal, Prediction, SockId, State, StepCtx, fail};
use crate::outcome::{Errno, Outcome};

use Errno::*;

/// Which sockets may receive a fresh TCP SYN or UDP datagram to
/// `dst:port` (never `exclude`): the FreeBSD load-balancing group first,
/// then exact address, IPv4 wildcard, dual-stack wildcard. Several
/// sockets are a choice the kernel makes by hash or chain order.
pub(super) fn deliver(
    m: &Bsd,
    st: &State,
    proto: Proto,
    dst: Addr,
    port: PortVal,
    exclude: Option<SockId>,
) -> (Vec<SockId>, &'static str) {
    let (table, d) = match dst.as_v4() {
        Some(a) => (Table::V4, a),
        None => (Table::V6, dst),
    };
    let cands: Vec<SockId> = (0..st.socks.len() as SockId)
        .filter(|&i| {
            let s = st.sock(i);
            Some(i) != exclude
                && s.kind.proto == proto
                && s.life == Life::Live
                && s.port() == Some(port)
                && !(s.is_tcp() && s.tcp == Tcp::Reset)
                && view(s, table).is_some()
        })
        .collect();
    if m.has_lb() {
        // 12-14 leave a connected UDP member in its group.
        let member = |s: &Sock| s.group.is_some() && (!connected(s) || (!m.lb_pending() && !s.is_tcp()));
        let group_on = |a: Addr| -> Vec<SockId> {
            cands.iter().copied().filter(|&i| member(st.sock(i)) && view(st.sock(i), table) == Some(a)).collect()
        };
        let exact = group_on(d);
        let group = if exact.is_empty() { group_on(table.wildcard()) } else { exact };
        let active: Vec<SockId> = group
            .into_iter()
            .filter(|&i| !(m.lb_pending() && st.sock(i).is_tcp() && st.sock(i).tcp != Tcp::Listen))
            .collect();
        if !active.is_empty() {
            return (active, FREEBSD_DELIVER_LB_FIRST);
        }
    }
    let open: Vec<SockId> = cands.iter().copied().filter(|&i| !connected(st.sock(i))).collect();
    let class =
        |f: &dyn Fn(&Sock) -> bool| -> Vec<SockId> { open.iter().copied().filter(|&i| f(st.sock(i))).collect() };
    let tiers: [Vec<SockId>; 3] = match table {
        Table::V4 => [
            class(&|s| view(s, table) == Some(d)),
            class(&|s| view(s, table) == Some(Addr::Any4) && s.kind.family == Family::V4),
            class(&|s| view(s, table) == Some(Addr::Any4) && s.kind.family == Family::V6),
        ],
        Table::V6 => [class(&|s| view(s, table) == Some(d)), class(&|s| view(s, table) == Some(Addr::Any6)), vec![]],
    };
    for tier in tiers {
        if !tier.is_empty() {
            return (tier, m.order_rule());
        }
    }
    (Vec::new(), BSD_DELIVER_NONE)
}

pub(super) fn probe(m: &Bsd, st: &State, kind: Kind, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
    // The prober is a fresh socket with the platform's defaults.
    let fresh = Sock::new(kind, false, m.v6only_default());
    if let Some(p) = connect_family(m, &fresh, addr, st) {
        return p;
    }
    let Some(PortArg::Val(port)) = ctx.port else {
        return fail(BSD_CONNECT_PORT_ZERO, EADDRNOTAVAIL, st);
    };
    let tcp = kind.proto == Proto::Tcp;
    if addr.as_v4() == Some(Addr::Lo4b) {
        return match (tcp, m.flavor) {
            (true, _) => errors(BSD_LOOPBACK_127_ONLY, &[ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT], st),
            (false, Flavor::FreeBsd) => Prediction {
                rule: BSD_LOOPBACK_127_ONLY,
                branches: vec![
                    Branch { outcome: Outcome::Err(ENETUNREACH), state: st.clone() },
                    Branch { outcome: Outcome::ToNone, state: st.clone() },
                ],
            },
            (false, Flavor::MacOs) => Prediction::one(BSD_LOOPBACK_127_ONLY, Outcome::ToNone, st.clone()),
        };
    }
    let (targets, mut rule) = deliver(m, st, kind.proto, addr, port, None);
    if targets.is_empty() {
        let outcome = if tcp { Outcome::Err(ECONNREFUSED) } else { Outcome::ToNone };
        return Prediction::one(BSD_DELIVER_NONE, outcome, st.clone());
    }
    if tcp {
        rule = syn_rule(m, st, &targets, rule, rule);
    }
    let branches = targets
        .into_iter()
        .map(|t| {
            let outcome = if tcp && st.sock(t).tcp != Tcp::Listen {
                Outcome::Err(syn_to_closed(m).1)
            } else {
                name_of(st, ctx, t)
            };
            Branch { outcome, state: st.clone() }
        })
        .collect();
    Prediction { rule, branches }
}

/// What a SYN given to a bound TCP socket that does not listen does to
/// the connecting side: RST (FreeBSD) or silence until the connect
/// times out (macOS).
pub(super) fn syn_to_closed(m: &Bsd) -> (&'static str, Errno) {
    if m.fb() { (FREEBSD_SYN_TO_CLOSED, ECONNREFUSED) } else { (MACOS_SYN_TO_CLOSED, ETIMEDOUT) }
}

/// The rule of a SYN that may reach any of `targets`: the platform's
/// syn-to-closed rule when none of them listens, the delivery rule when
/// the kernel chooses among several, else `one`.
pub(super) fn syn_rule(
    m: &Bsd,
    st: &State,
    targets: &[SockId],
    deliver: &'static str,
    one: &'static str,
) -> &'static str {
    if targets.iter().all(|&t| st.sock(t).tcp != Tcp::Listen) {
        syn_to_closed(m).0
    } else if targets.len() > 1 {
        deliver
    } else {
        one
    }
}

/// The address-family checks of a connect from `s` to `dst`.
pub(super) fn connect_family(m: &Bsd, s: &Sock, dst: Addr, st: &State) -> Option<Prediction> {
    if s.kind.family != dst.family() {
        return Some(wrong_family(m, s, st));
    }
    if s.kind.family == Family::V4 {
        return None;
    }
    let udp_mac = m.mac() && !s.is_tcp();
    // inp_vflag: can the socket still speak IPv4 / IPv6?
    let v4ok = !s.opts.v6only && s.local.is_none_or(|l| l.addr.is_mapped() || l.addr == Addr::Any6);
    let v6ok = s.local.is_none_or(|l| !l.addr.is_mapped());
    if dst.is_mapped() {
        if s.opts.v6only {
            return Some(match (m.flavor, udp_mac) {
                (Flavor::FreeBsd, _) => fail(BSD_CONNECT_FAMILY, EINVAL, st),
                (Flavor::MacOs, false) => fail(BSD_CONNECT_FAMILY, EAFNOSUPPORT, st),
                (Flavor::MacOs, true) => {
                    errors(MACOS_UDP_V6ONLY_MAPPED, &[EADDRNOTAVAIL, EHOSTUNREACH, EINVAL, ENETUNREACH], st)
                }
            });
        }
        if !v4ok {
            return Some(if udp_mac {
                fail(MACOS_UDP_V6ONLY_MAPPED, EINVAL, st)
            } else {
                fail(BSD_CONNECT_FAMILY, EAFNOSUPPORT, st)
            });
        }
    } else if !v6ok {
        return Some(if udp_mac {
            fail(MACOS_UDP_V6ONLY_MAPPED, EINVAL, st)
        } else {
            fail(BSD_CONNECT_FAMILY, EAFNOSUPPORT, st)
        });
    }
    None
}
