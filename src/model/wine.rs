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

use super::kit::{choice, live, name_of, peer_form, same_endpoint};
use super::linux::{tcp_listeners, udp_receivers};
use super::rules::*;
use super::state::View;
use super::state::{KAddr, Life, PortVal, Sock, SockId, State, Tcp, rcv_saddr_equal, tcp_overlap};
use super::windows::{Attempt, Hold, Windows, commit_bind, connect_state, start_listening, udp_connected, with_child};
use super::{Model, PortArg, Prediction, StepCtx, fail, ok, rule_ids_of};
use crate::case::{Addr, Family, Kind, Op, Proto, SockOpt};
use crate::outcome::{Errno, Outcome};
use crate::platform::{ModelSpec, Platform, Version};

use Errno::*;

/// The Wine model: Windows' rules, Wine's divergences.
#[derive(Clone, Debug)]
pub struct Wine {
    /// Wine's version (`None`: the newest behaviour known).
    version: Option<Version>,
    /// The Windows model it is laid over: the newest Windows behaviour (a
    /// Wine version is no Windows version).
    windows: Windows,
    /// The Linux kernel under it was built with role-lock (variant
    /// `+role-lock`, [`WINE_TCP_ROLE_LOCK`]).
    role_lock: bool,
}

impl Wine {
    /// The model of Wine `version` (`None`: the newest).
    pub fn new(version: Option<Version>) -> Wine {
        Wine { version, windows: Windows::new(None), role_lock: false }
    }

    /// The same model on a Linux kernel built with role-lock (or not).
    pub fn with_role_lock(mut self, on: bool) -> Wine {
        self.role_lock = on;
        self
    }

    /// Wine's answer: its own where Wine decides differently, else the
    /// Windows prediction (`windows`), reworked where Wine changes a part.
    fn layer(&self, st: &State, op: &Op, ctx: &StepCtx<'_>, windows: &Prediction) -> Prediction {
        let live = |slot| live(st, slot, WINDOWS_DEAD_NAME);
        match *op {
            Op::Set { slot, opt: SockOpt::V6Only, on } => live(slot).map_or_else(|p| p, |id| set_v6only(st, id, on)),
            Op::Set { .. } if windows.rule == WINDOWS_OPTION_TIMING => options_after_bind(windows),
            Op::Bind { slot, addr, .. } => {
                let port = match ctx.port {
                    Some(PortArg::Val(p)) => Some(p),
                    _ => None,
                };
                live(slot).map_or_else(|p| p, |id| bind(&self.windows, st, id, addr, port, ctx))
            }
            Op::Listen { slot } => live(slot).map_or_else(|p| p, |id| listen(st, id, ctx, self.role_lock)),
            Op::Connect { slot, addr, .. } => {
                live(slot).map_or_else(|p| p, |id| connect(&self.windows, st, id, addr, ctx))
            }
            Op::Accept { listener, .. } => accept(st, listener, windows),
            Op::Close { .. } => close(st, windows),
            Op::Probe { kind, addr, .. } => {
                let port = ctx.port.unwrap_or(PortArg::Zero).dest();
                // The prober is a fresh socket: v6only on, unbound.
                match connect_family(st, kind.family, true, None, addr, kind.proto) {
                    Some(p) => p,
                    None => probe(st, kind, addr, port, ctx),
                }
            }
            _ => windows.clone(),
        }
    }
}

/// Rules that name a Wine divergence even where the outcome alone would
/// not show it (it follows from an earlier one), and the build variant's
/// rule, which names every statement it decides.
const FOLLOW_ON: &[&str] = &[WINE_TCP_DELIVER_FIRST_ONLY, WINE_TCP_HOST_REUSEADDR, WINE_TCP_ROLE_LOCK];

impl Model for Wine {
    fn spec(&self) -> ModelSpec {
        let mut spec = ModelSpec::versioned(Platform::Wine, self.version.clone());
        if self.role_lock {
            spec.variants.insert(super::variants::name_of(WINE_TCP_ROLE_LOCK).to_string());
        }
        spec
    }

    fn step(&self, st: &State, op: &Op, ctx: &StepCtx<'_>) -> Prediction {
        let windows = self.windows.step(st, op, ctx);
        let wine = self.layer(st, op, ctx, &windows);
        if wine.outcomes() == windows.outcomes() && !FOLLOW_ON.contains(&wine.rule) {
            return Prediction { rule: windows.rule, ..wine };
        }
        let dest = matches!(op, Op::Connect { .. } | Op::Probe { .. });
        let generic = !wine.rule.starts_with("wine.") || wine.rule == WINE_DELIVER;
        if dest && ctx.port == Some(PortArg::Zero) && generic {
            // Where Windows may refuse port 0 and Wine does what Linux does.
            return Prediction { rule: WINE_DEST_PORT_ZERO, ..wine };
        }
        wine
    }

    fn rule_ids(&self) -> Vec<&'static str> {
        let spec = self.spec();
        let ids = rule_ids_of(&["windows", "wine"]).into_iter();
        ids.filter(|id| super::rules::applies(id, self.version.as_ref()) && super::variants::allows(id, &spec))
            .collect()
    }
}

/// SO_REUSEADDR or SO_EXCLUSIVEADDRUSE changed on a bound socket: where
/// Windows' answer is open (windows.any.option-timing), Wine accepts it.
fn options_after_bind(windows: &Prediction) -> Prediction {
    let branches = windows.branches.iter().filter(|b| b.outcome.is_ok()).cloned().collect();
    Prediction { rule: WINE_OPTIONS_AFTER_BIND, branches }
}

/// accept under Wine: Windows' answer, except on a socket whose listen
/// Linux refused (wine.tcp.host-reuseaddr) and for a connection reset
/// before accept (wine.tcp.accept-reset).
fn accept(st: &State, listener: crate::case::Slot, windows: &Prediction) -> Prediction {
    if let Ok(lid) = live(st, listener, WINDOWS_DEAD_NAME) {
        let l = st.sock(lid);
        if l.is_tcp() && l.tcp != Tcp::Listen && l.listen_refused {
            return Prediction { rule: WINE_TCP_HOST_REUSEADDR, ..windows.clone() };
        }
    }
    let reset = Outcome::Err(ECONNRESET);
    if let Some(gone) = windows.branches.iter().find(|b| b.outcome == reset) {
        // Linux hands the reset connection out; Wine's accept then fails
        // with WSAENOTCONN and the new socket is gone.
        return fail(WINE_TCP_ACCEPT_RESET, ENOTCONN, &gone.state);
    }
    windows.clone()
}

/// close under Wine: Windows' answer, and Linux gives back the port of a
/// socket the close reset, where bind did not lock it.
fn close(st: &State, windows: &Prediction) -> Prediction {
    let mut p = windows.clone();
    for b in &mut p.branches {
        for (id, before) in st.socks.iter().enumerate() {
            let s = b.state.sock_mut(id as SockId);
            if before.tcp != Tcp::Reset && s.tcp == Tcp::Reset && !s.port_locked && s.bound_addr.is_none() {
                s.local = None;
            }
        }
    }
    p
}

/// connect under Wine: Linux's connect behind Wine's checks.
fn connect(w: &Windows, st: &State, id: SockId, dst: Addr, ctx: &StepCtx<'_>) -> Prediction {
    let dport = ctx.port.unwrap_or(PortArg::Zero).dest();
    let s = st.sock(id);
    if let Some(p) = connect_state(st, id) {
        return p;
    }
    if s.is_tcp() && s.connect_failed {
        // Linux still has the socket connecting: this connect only ends that.
        let mut ns = st.clone();
        ns.sock_mut(id).connect_failed = false;
        return Prediction::one(WINE_LINUX_ERRORS, Outcome::Err(ECONNABORTED), ns);
    }
    let mut base = st.clone();
    if !s.is_tcp() && s.local.is_none() {
        // Linux binds a UDP socket before it looks at the address; Wine
        // counts it bound only if the connect succeeds.
        // If the connect fails, getsockname knows no port: the model neither.
        let sm = base.sock_mut(id);
        sm.connect_bound = true;
        sm.connect_failed = true;
    }
    let local = s.local.map(|l| l.addr);
    if let Some(p) = connect_family(&base, s.kind.family, s.opts.v6only, local, dst, s.kind.proto) {
        return p;
    }
    if s.is_tcp() {
        return connect_tcp(st, id, dst, dport, ctx);
    }
    // Where Windows would refuse the peer's family, Wine is Linux.
    let windows_refuses = w.family_refusal(&base, s.kind.family, s.opts.v6only, local, dst, s.kind.proto).is_some();
    ok(if windows_refuses { WINE_UDP_CONNECT } else { WINDOWS_UDP_CONNECT }, udp_connected(&base, id, dst, dport, ctx))
}

/// A TCP connect that Linux makes.
fn connect_tcp(st: &State, id: SockId, dst: Addr, dport: PortVal, ctx: &StepCtx<'_>) -> Prediction {
    let s = st.sock(id);
    let dst = peer_form(s.kind.family, dst);
    let mut ns = st.clone();
    if s.kind.family == Family::V6 {
        if s.mapped_ops && !dst.is_mapped() {
            ns.sock_mut(id).tcp = Tcp::SynSent;
            return Prediction::one(WINE_TCP_MAPPED_OPS, Outcome::Err(ETIMEDOUT), ns);
        }
        ns.sock_mut(id).mapped_ops |= dst.is_mapped();
    }
    let a = Attempt::start(&mut ns, id, dst, dport, ctx);
    if s.local.is_some() {
        // Linux: a bound socket's 4-tuple must be unused; a TIME_WAIT
        // entry holding it is taken over (timestamps are on).
        let me_view = View::of(s.kind.family, a.src, s.opts.v6only);
        for t_id in st.holders(Proto::Tcp, a.port, Some(id)) {
            let t = st.sock(t_id);
            // Only connections still in Linux's established hash: a reset one has left it.
            let hashed = matches!(t.life, Life::Orphan { .. })
                || matches!(t.tcp, Tcp::Established | Tcp::CloseWait | Tcp::SynSent);
            if hashed && t.view() == Some(me_view) && t.peer.is_some_and(|p| same_endpoint(p, a.peer)) {
                if t.life != (Life::Orphan { tw: true }) {
                    return fail(WINE_LINUX_ERRORS, EADDRNOTAVAIL, st);
                }
                ns.sock_mut(t_id).life = Life::Gone;
            }
        }
    }
    if a.to_itself() {
        let mut yes = ns.clone();
        a.connected(&mut yes);
        return ok(WINE_LINUX_ERRORS, yes);
    }
    let (listeners, _) = tcp_listeners(st, dst, dport);
    if listeners.is_empty() {
        // Linux gives a port that bind did not lock back; Wine still
        // counts the socket as bound (connect_bound).
        let sm = ns.sock_mut(id);
        sm.connect_failed = true;
        // Linux put it in the established table (wine.tcp.listen-after-abort).
        sm.ehashed = true;
        // The RST sets sk_incoming_cpu (linux.tcp.deliver-incoming-cpu).
        sm.received = true;
        if !sm.port_locked {
            sm.local = None;
            sm.hidden_port = false;
        }
        return Prediction::one(WINDOWS_TCP_CONNECT, Outcome::Err(ECONNREFUSED), ns);
    }
    a.connected(&mut ns);
    let branches = listeners.into_iter().map(|lid| (Outcome::Ok, with_child(&ns, lid, id, dst))).collect();
    choice(WINDOWS_TCP_CONNECT, branches)
}

/// IPV6_V6ONLY under Wine: EINVAL once the Linux socket has a port (even
/// one a failed UDP connect gave it); on an IPv4 socket accepted and
/// ignored; else set.
fn set_v6only(st: &State, id: SockId, on: bool) -> Prediction {
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
    s.local.is_some() || s.hidden_port || if s.is_tcp() { s.tcp == Tcp::Listen } else { s.connect_bound }
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
fn bind(w: &Windows, st: &State, id: SockId, addr: Addr, port: Option<PortVal>, ctx: &StepCtx<'_>) -> Prediction {
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
/// listens on (EADDRINUSE). `role_lock`: the kernel's build variant.
fn listen(st: &State, id: SockId, ctx: &StepCtx<'_>, role_lock: bool) -> Prediction {
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
    let p = listen_linux(st, id, s, ctx);
    if s.ehashed && p.outcomes().contains(&Outcome::Ok) {
        // A refused connect went out and a later one (ECONNABORTED) ended
        // it: upstream Linux listens, a role-lock build refuses, after
        // listen took a port (linux.tcp.role-lock).
        if role_lock {
            let mut no = st.clone();
            no.sock_mut(id).hidden_port = true;
            return fail(WINE_TCP_ROLE_LOCK, EINVAL, &no);
        }
        return Prediction { rule: WINE_TCP_LISTEN_AFTER_ABORT, ..p };
    }
    p
}

/// Linux's listen for a bound, unconnected Wine TCP socket.
fn listen_linux(st: &State, id: SockId, s: &Sock, ctx: &StepCtx<'_>) -> Prediction {
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
fn connect_family(
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
fn probe(st: &State, kind: Kind, addr: Addr, port: PortVal, ctx: &StepCtx<'_>) -> Prediction {
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
        return choice(rule, listeners.into_iter().map(|l| (name_of(st, ctx, l), st.clone())).collect());
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
            (name_of(st, ctx, r), b)
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

    #[test]
    fn port_zero_is_linux_s() {
        let r = predict(
            "c = socket tcp4\nconnect c 127.0.0.1:0\nbind c 127.0.0.1:P1\nu = socket udp4\nconnect u 127.0.0.1:0\nprobe udp4 127.0.0.1:0\ng = socket tcp6\nconnect g 127.0.0.1:0\n",
        );
        assert_eq!(r[1], ("ECONNREFUSED".into(), WINE_DEST_PORT_ZERO));
        assert_eq!(r[2], ("EINVAL".into(), WINDOWS_BIND_TWICE));
        assert_eq!(r[4], ("ok".into(), WINE_DEST_PORT_ZERO));
        assert_eq!(r[5], ("->none".into(), WINE_DEST_PORT_ZERO));
        assert_eq!(r[7], ("EINVAL".into(), WINE_LINUX_ERRORS));
    }

    #[test]
    fn a_connection_reset_before_accept_is_enotconn() {
        let r = predict(
            "l = socket tcp4\nbind l 127.0.0.1:P1\nlisten l\nc = socket tcp4\nconnect c 127.0.0.1:P1\nset c linger0 on\nclose c\na = accept l\nb = accept l\n",
        );
        assert_eq!(r[7], ("ENOTCONN".into(), WINE_TCP_ACCEPT_RESET));
        assert_eq!(r[8].0, "EAGAIN");
    }

    #[test]
    fn listen_after_an_aborted_connect_depends_on_the_kernel_build() {
        let text = "b = socket tcp6\nconnect b [::1]:P1\nlisten b\nconnect b [::1]:P2\nlisten b\nset b v6only on\n";
        let on = |role_lock| predict_with(&Wine::new(None).with_role_lock(role_lock), text);
        for (role_lock, listen) in
            [(false, ("ok", WINE_TCP_LISTEN_AFTER_ABORT)), (true, ("EINVAL", WINE_TCP_ROLE_LOCK))]
        {
            let r = on(role_lock);
            assert_eq!(r[2].0, "EINVAL");
            assert_eq!(r[3], ("ECONNABORTED".into(), WINE_LINUX_ERRORS));
            assert_eq!((r[4].0.as_str(), r[4].1), listen, "role-lock {role_lock}");
            // Either way Linux's socket has a port now.
            assert_eq!(r[5].0, "EINVAL");
        }
        assert_eq!(Wine::new(None).with_role_lock(true).spec().to_string(), "wine+role-lock");
    }
}
