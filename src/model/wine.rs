//! The `wine` model (docs/interface.md#names): the [`Windows`] model with the known
//! divergences of Wine laid over it. Wine runs Winsock on Linux sockets:
//! its server keeps a Windows-style table of bound TCP addresses
//! (`check_addr_usage`), and whatever that table lets through is then
//! judged by Linux, where every Wine TCP socket has SO_REUSEADDR and IPv6
//! sockets start v6only. UDP is left to Linux altogether.
//!
//! A statement reports the Windows rule when Wine's outcomes are the ones
//! the Windows model allows, and a `wine.*` rule where they differ (or
//! where the outcome only follows from an earlier divergence, such as a
//! listener that could not listen). Pure, like every model.

use super::linux::{tcp_listeners, udp_receivers};
use super::rules::*;
use super::state::{KAddr, Life, PortVal, Sock, SockId, State, Tcp, rcv_saddr_equal, tcp_overlap};
use super::windows::{Hold, Windows, choice, commit_bind, receiver_name, start_listening};
use super::{Model, Prediction, StepCtx, fail, ok};
use crate::case::{Addr, Family, Kind, Op, Proto};
use crate::outcome::{Errno, Outcome};
use crate::platform::{ModelSpec, Version};

use Errno::*;

/// The Wine model: Windows' rules, Wine's divergences.
#[derive(Clone, Debug)]
pub struct Wine {
    /// The Windows model, for the rules where Wine agrees.
    windows: Windows,
    /// The same code in Wine's flavour.
    flavoured: Windows,
}

impl Wine {
    /// The model of Wine over Windows `version` (`None`: the newest).
    pub fn new(version: Option<Version>) -> Wine {
        Wine { windows: Windows::new(version.clone()), flavoured: Windows::wine(version) }
    }
}

/// Rules that name a Wine divergence even where the outcome alone would
/// not show it (it follows from an earlier one).
const FOLLOW_ON: &[&str] = &[WINE_TCP_DELIVER_FIRST_ONLY, WINE_TCP_HOST_REUSEADDR];

impl Model for Wine {
    fn spec(&self) -> ModelSpec {
        self.flavoured.spec()
    }

    fn step(&self, st: &State, op: &Op, ctx: &StepCtx<'_>) -> Prediction {
        let wine = self.flavoured.step(st, op, ctx);
        let windows = self.windows.step(st, op, ctx);
        if wine.outcomes() == windows.outcomes() && !FOLLOW_ON.contains(&wine.rule) {
            return Prediction { rule: windows.rule, ..wine };
        }
        wine
    }

    fn rule_ids(&self) -> Vec<&'static str> {
        self.flavoured.rule_ids()
    }
}

/// IPV6_V6ONLY under Wine: EINVAL once the Linux socket has a port (even
/// one a failed UDP connect gave it); on an IPv4 socket accepted and
/// ignored; else set.
pub(super) fn set_v6only(st: &State, id: SockId, on: bool) -> Prediction {
    let s = st.sock(id);
    // An IPv4 socket answers by Wine's flag too.
    if linux_bound(s) || (s.kind.family == Family::V4 && wine_bound(s)) {
        return fail(WINE_LINUX_ERRORS, EINVAL, st);
    }
    let mut ns = st.clone();
    if s.kind.family == Family::V6 {
        ns.sock_mut(id).opts.v6only = on;
    }
    ok(WINE_LINUX_ERRORS, ns)
}

/// Wine's own "bound" flag: set by a bind, by accept, by any TCP connect
/// that reached Linux (even a refused one) and by a UDP connect that
/// succeeded; Linux may have taken the port back meanwhile.
fn wine_bound(s: &Sock) -> bool {
    if s.is_tcp() {
        s.local.is_some() || s.connect_bound || s.bound_addr.is_some() || s.connected_once
    } else {
        s.local.is_some()
    }
}

/// Whether the Linux socket has a port. The model may not know it: after a
/// failed UDP connect (Linux bound the socket first), or a listen after a
/// failed TCP connect (Linux binds anew while Wine's getsockname still
/// reports the old port), `local` is `None`.
fn linux_bound(s: &Sock) -> bool {
    s.local.is_some() || if s.is_tcp() { s.tcp == Tcp::Listen } else { s.connect_bound }
}

/// The address Linux binds for a Wine UDP socket: an IPv4 address other
/// than 127.0.0.1 that no interface has as its own (127.0.0.2, 192.0.2.1)
/// becomes 0.0.0.0 (wine server/sock.c bind_to_interface fallback).
fn udp_linux_addr(n: &Sock, addr: Addr) -> Addr {
    if !n.is_tcp() && matches!(addr, Addr::Lo4b | Addr::TestNet) { Addr::Any4 } else { addr }
}

fn is_any(a: Addr) -> bool {
    matches!(a, Addr::Any4 | Addr::Any6)
}

/// One entry of Wine's table of bound TCP addresses.
#[derive(Clone, Copy, Debug)]
struct Entry {
    family: Family,
    addr: Addr,
    /// An exclusive wildcard: it matches every address of its family.
    match_any: bool,
    reuse: bool,
}

/// The entries of a bind of `addr` by a socket of `family` with these options.
fn entries(family: Family, addr: Addr, exclusive: bool, reuse: bool, v6only: bool) -> Vec<Entry> {
    let mut v = vec![Entry { family, addr, match_any: exclusive && is_any(addr), reuse }];
    if family == Family::V6 && !v6only {
        let v4 = if addr.is_mapped() {
            addr.as_v4()
        } else if addr == Addr::Any6 && exclusive {
            Some(Addr::Any4)
        } else {
            None
        };
        if let Some(a) = v4 {
            v.push(Entry { family: Family::V4, addr: a, match_any: exclusive && a == Addr::Any4, reuse });
        }
    }
    v
}

/// Whether Wine's table holds this socket: a live TCP socket bound by bind
/// (a port-0 bind too: Wine 8.0 enters the port Linux chose).
fn in_table(s: &Sock) -> bool {
    s.is_tcp() && s.life == Life::Live && s.bound_addr.is_some()
}

/// `check_addr_usage`: the refusal of Wine's table, if any, and whether an
/// exclusive wildcard entry caused it.
fn table_check(st: &State, id: SockId, n: &Sock, addr: Addr, port: PortVal) -> Option<(Errno, bool)> {
    let held: Vec<Entry> = st
        .holders(Proto::Tcp, port, Some(id))
        .into_iter()
        .map(|t| st.sock(t))
        .filter(|t| in_table(t))
        .flat_map(|t| {
            let o = t.bound_opts;
            entries(t.kind.family, t.bound_addr.expect("bound"), o.exclusive, o.reuseaddr, o.v6only)
        })
        .collect();
    for key in entries(n.kind.family, addr, n.opts.exclusive, n.opts.reuseaddr, n.opts.v6only) {
        let found =
            held.iter().find(|e| e.family == key.family && (e.match_any || key.match_any || e.addr == key.addr));
        if let Some(e) = found {
            if !e.reuse || !key.reuse {
                let code = if key.reuse || e.match_any { EACCES } else { EADDRINUSE };
                return Some((code, e.match_any));
            }
        }
    }
    None
}

/// The address form Linux compares: binding a plain IPv6 address makes a
/// Linux socket v6only.
fn linux_addr(n: &Sock, addr: Addr) -> KAddr {
    KAddr::of(n.kind.family, addr, n.opts.v6only || (n.kind.family == Family::V6 && addr == Addr::Lo6))
}

/// Linux's TCP check for a Wine socket (SO_REUSEADDR on every socket):
/// only an overlapping listener blocks.
fn linux_tcp_blocked(st: &State, id: SockId, me: &KAddr, port: PortVal) -> bool {
    st.holders(Proto::Tcp, port, Some(id)).into_iter().any(|t| {
        let t = st.sock(t);
        t.life == Life::Live && t.tcp == Tcp::Listen && t.kaddr().is_some_and(|old| tcp_overlap(me, &old))
    })
}

/// Linux's UDP check: an overlapping socket blocks unless both have
/// SO_REUSEADDR (as Winsock passed it down).
fn linux_udp_blocked(st: &State, id: SockId, n: &Sock, me: &KAddr, port: PortVal) -> bool {
    st.holders(Proto::Udp, port, Some(id)).into_iter().any(|t| {
        let t = st.sock(t);
        t.life == Life::Live
            && t.kaddr().is_some_and(|old| rcv_saddr_equal(me, &old, true))
            && !(n.opts.reuseaddr && t.opts.reuseaddr)
    })
}

/// bind under Wine, after the family and bound checks: Wine's table (TCP),
/// then Linux.
pub(super) fn bind(
    w: &Windows,
    st: &State,
    id: SockId,
    addr: Addr,
    port: Option<PortVal>,
    ctx: &StepCtx<'_>,
) -> Prediction {
    let n = st.sock(id);
    let tcp = n.is_tcp();
    if wine_bound(n) {
        return fail(WINE_LINUX_ERRORS, EINVAL, st);
    }
    if addr.family() != n.kind.family {
        // Linux's EAFNOSUPPORT arrives as WSAEOPNOTSUPP (STATUS_NOT_SUPPORTED);
        // an IPv4 sockaddr is too short for an IPv6 socket (EINVAL).
        let e = if n.kind.family == Family::V4 { EOPNOTSUPP } else { EINVAL };
        return fail(WINE_LINUX_ERRORS, e, st);
    }
    if let (true, Some(p)) = (tcp, port) {
        if let Some((e, match_any)) = table_check(st, id, n, addr, p) {
            return fail(if match_any { WINE_TCP_EXCL_WILDCARD } else { WINE_TCP_TABLE }, e, st);
        }
    }
    let linux = udp_linux_addr(n, addr);
    if linux_bound(n) {
        // A failed UDP connect left Linux's socket bound.
        return fail(WINE_LINUX_ERRORS, EINVAL, st);
    }
    if linux == Addr::TestNet {
        return fail(WINE_LINUX_ERRORS, EADDRNOTAVAIL, st);
    }
    if addr.is_mapped() && n.opts.v6only {
        return fail(WINE_LINUX_ERRORS, EINVAL, st);
    }
    let reason = if linux != addr { WINE_UDP_INTERFACE_BIND } else { WINE_PORT_ZERO };
    let Some(port) = port else {
        let mut ns = st.clone();
        let p = ns.ephemeral(ctx.observed);
        commit_bind(&mut ns, id, linux, p, false);
        let sm = ns.sock_mut(id);
        sm.bound_addr = Some(addr);
        sm.opts.v6only |= addr == Addr::Lo6;
        return ok(reason, ns);
    };
    let requested = addr;
    let addr = linux;
    let me = linux_addr(n, addr);
    let blocked = if tcp { linux_tcp_blocked(st, id, &me, port) } else { linux_udp_blocked(st, id, n, &me, port) };
    let reason = if tcp { WINE_TCP_HOST_REUSEADDR } else { WINE_TCP_ONLY };
    if blocked {
        // Wine turns Linux's EADDRINUSE into EACCES for a SO_REUSEADDR socket.
        return fail(reason, if n.opts.reuseaddr { EACCES } else { EADDRINUSE }, st);
    }
    let reason = if reason == WINE_UDP_INTERFACE_BIND {
        reason
    } else if tcp {
        let check = w.check_bind(st, id, n, addr, port);
        match check.connection_overlap {
            _ if check.other_user_overlap => WINE_NO_USERS,
            Some(Hold::TimeWait) => WINE_TCP_TIME_WAIT,
            Some(_) => WINE_TCP_CONNECTION_UNTRACKED,
            None => WINE_TCP_TABLE,
        }
    } else {
        WINE_TCP_ONLY
    };
    let mut ns = st.clone();
    commit_bind(&mut ns, id, addr, port, true);
    let sm = ns.sock_mut(id);
    sm.bound_addr = Some(requested);
    // Linux makes a socket bound to a plain IPv6 address v6only.
    sm.opts.v6only |= addr == Addr::Lo6;
    ok(reason, ns)
}

/// listen under Wine: Wine wants a bound socket (EINVAL, before it looks at
/// the type) and a stream one (EOPNOTSUPP); Linux refuses a connected or
/// still-connecting socket (EINVAL) and an address an overlapping socket
/// listens on (EADDRINUSE).
pub(super) fn listen(st: &State, id: SockId, ctx: &StepCtx<'_>) -> Prediction {
    let s = st.sock(id);
    if !wine_bound(s) {
        return fail(WINE_LINUX_ERRORS, EINVAL, st);
    }
    if !s.is_tcp() {
        return fail(WINE_LINUX_ERRORS, EOPNOTSUPP, st);
    }
    if s.tcp == Tcp::Listen {
        return ok(WINE_LINUX_ERRORS, st.clone());
    }
    if s.connected_once || s.tcp != Tcp::Closed || s.connect_failed {
        return fail(WINE_LINUX_ERRORS, EINVAL, st);
    }
    let Some(local) = s.local else {
        // Linux took the port back after a failed connect: it binds a new
        // one, which Wine's getsockname does not report: nobody can name it.
        let mut ns = st.clone();
        ns.sock_mut(id).tcp = Tcp::Listen;
        return ok(WINE_LINUX_ERRORS, ns);
    };
    let me = linux_addr(s, local.addr);
    if linux_tcp_blocked(st, id, &me, local.port) {
        let mut ns = st.clone();
        ns.sock_mut(id).listen_refused = true;
        return Prediction::one(WINE_TCP_HOST_REUSEADDR, Outcome::Err(EADDRINUSE), ns);
    }
    let mut ns = st.clone();
    start_listening(&mut ns, id, ctx);
    ok(WINE_LINUX_ERRORS, ns)
}

/// connect's family checks under Wine: Linux's answers.
pub(super) fn connect_family(
    st: &State,
    family: Family,
    v6only: bool,
    local: Option<Addr>,
    dst: Addr,
    proto: Proto,
) -> Option<Prediction> {
    // Linux's EAFNOSUPPORT arrives as WSAEOPNOTSUPP (STATUS_NOT_SUPPORTED).
    let e = match (family, dst.family()) {
        (Family::V4, Family::V6) => EOPNOTSUPP,
        (Family::V6, Family::V4) if proto == Proto::Tcp => EINVAL,
        (Family::V6, Family::V4) if v6only => EOPNOTSUPP,
        (Family::V6, _) if dst.is_mapped() && v6only => ENETUNREACH,
        (Family::V6, _) if local.is_some_and(|l| l.is_mapped() && !dst.is_mapped() && dst.family() == Family::V6) => {
            EOPNOTSUPP
        }
        _ => return None,
    };
    Some(fail(WINE_LINUX_ERRORS, e, st))
}

/// A probe under Wine: Linux delivers.
pub(super) fn probe(_w: &Windows, st: &State, kind: Kind, addr: Addr, port: PortVal, ctx: &StepCtx<'_>) -> Prediction {
    let dst = if kind.family == Family::V6 { addr.to_mapped() } else { addr };
    if kind.proto == Proto::Tcp {
        // A socket Windows would have listening here could not listen.
        let refused = st
            .socks
            .iter()
            .any(|s| s.listen_refused && s.life == Life::Live && s.port() == Some(port) && serves(s, dst));
        let rule = if refused { WINE_TCP_DELIVER_FIRST_ONLY } else { WINE_DELIVER };
        let (listeners, _) = tcp_listeners(st, dst, port);
        if listeners.is_empty() {
            return fail(rule, ECONNREFUSED, st);
        }
        return choice(rule, listeners.into_iter().map(|l| (receiver_name(st, l, ctx), st.clone())).collect());
    }
    let (receivers, _) = udp_receivers(st, dst, port, super::kit::source_for(kind.family, dst));
    if receivers.is_empty() {
        return Prediction::one(WINE_DELIVER, Outcome::ToNone, st.clone());
    }
    let branches = receivers
        .into_iter()
        .map(|r| {
            let mut b = st.clone();
            b.sock_mut(r).received = true;
            (receiver_name(st, r, ctx), b)
        })
        .collect();
    choice(WINE_DELIVER, branches)
}

/// Whether a socket bound like `s` would take traffic to `dst`.
fn serves(s: &Sock, dst: Addr) -> bool {
    s.view().is_some_and(|v| {
        let target = super::state::View::of(s.kind.family, dst, false);
        v.covers(target) || target == v
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::windows::tests::predict_with;

    fn predict(text: &str) -> Vec<(String, &'static str)> {
        predict_with(&Wine::new(None), text)
    }

    #[test]
    fn an_exclusive_wildcard_refuses_everything_with_eacces() {
        let r = predict(
            "a = socket tcp4\nb = socket tcp4\nset a exclusiveaddruse on\nbind a 0.0.0.0:P1\nbind b 0.0.0.0:P1\n",
        );
        assert_eq!(r[4], ("EACCES".into(), WINE_TCP_EXCL_WILDCARD));
        // Where Wine agrees with Windows, the Windows rule is reported.
        let r = predict(
            "a = socket tcp4\nb = socket tcp4\nset a exclusiveaddruse on\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\n",
        );
        assert_eq!(r[4], ("EADDRINUSE".into(), WINDOWS_TCP_SAME_EXCL_OLD));
    }

    #[test]
    fn a_listener_blocks_what_the_table_allows() {
        let r = predict(
            "a = socket tcp4\nb = socket tcp4\nbind a 0.0.0.0:P1\nlisten a\nbind b 127.0.0.1:P1\nset b reuseaddr on\nbind b 127.0.0.1:P1\n",
        );
        assert_eq!(r[4], ("EADDRINUSE".into(), WINE_TCP_HOST_REUSEADDR));
        assert_eq!(r[6], ("EACCES".into(), WINE_TCP_HOST_REUSEADDR));
        let r = predict(
            "a = socket tcp4\nb = socket tcp4\nset a reuseaddr on\nset b reuseaddr on\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\nlisten a\nlisten b\nprobe tcp4 127.0.0.1:P1\nclose a\nprobe tcp4 127.0.0.1:P1\n",
        );
        assert_eq!(r[5], ("ok".into(), WINDOWS_TCP_SAME_REUSE_BOTH));
        assert_eq!(r[7], ("EADDRINUSE".into(), WINE_TCP_HOST_REUSEADDR));
        assert_eq!(r[8], ("->a".into(), WINE_TCP_DELIVER_FIRST_ONLY));
        assert_eq!(r[10], ("ECONNREFUSED".into(), WINE_TCP_DELIVER_FIRST_ONLY));
    }

    #[test]
    fn a_udp_connect_is_linux_where_windows_refuses_the_family() {
        // Checked under Wine 8.0: a source chosen by an IPv6 connect does not
        // keep a dual-stack socket from a v4-mapped peer; a v4-mapped source
        // keeps it from an IPv6 one.
        let r = predict(
            "a = socket udp6\nset a v6only off\nconnect a [::1]:P2\nconnect a [::ffff:127.0.0.1]:P1\nb = socket udp6\nset b v6only off\nconnect b 127.0.0.1:P2\nconnect b [::1]:P1\n",
        );
        assert_eq!(r[2], ("ok".into(), WINDOWS_UDP_CONNECT));
        assert_eq!(r[3], ("ok".into(), WINE_UDP_CONNECT));
        assert_eq!(r[6], ("ok".into(), WINE_UDP_CONNECT));
        assert_eq!(r[7], ("EOPNOTSUPP".into(), WINE_LINUX_ERRORS));
    }

    #[test]
    fn udp_is_left_to_linux() {
        let r = predict(
            "a = socket udp4\nb = socket udp4\nbind a 0.0.0.0:P1\nbind b 127.0.0.1:P1\nc = socket udp4\nset c exclusiveaddruse on\nbind c 127.0.0.2:P2\nd = socket udp4\nbind d 127.0.0.2:P2\n",
        );
        assert_eq!(r[3], ("EADDRINUSE".into(), WINE_TCP_ONLY));
        assert_eq!(r[8], ("EADDRINUSE".into(), WINDOWS_UDP_SAME_AS_TCP));
    }

    #[test]
    fn time_wait_never_blocks_and_users_are_one() {
        let r = predict(
            "l = socket tcp4\nbind l 127.0.0.1:P1\nlisten l\nc = socket tcp4\nconnect c 127.0.0.1:P1\ns = accept l\nclose l\nclose s\nn = socket tcp4\nbind n 127.0.0.1:P1\n",
        );
        assert_eq!(r.last().unwrap(), &("ok".to_string(), WINE_TCP_TIME_WAIT));
        let r = predict("a = socket tcp4\nb = socket tcp4 as other\nbind a 0.0.0.0:P1\nbind b 127.0.0.1:P1\n");
        assert_eq!(r[3], ("ok".into(), WINE_NO_USERS));
    }
}
