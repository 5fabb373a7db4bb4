//! The `freebsd` and `macos` models: one BSD core (the 4.4BSD bind check,
//! the pcb lookups, TCP's life cycle) with the two kernels' differences as
//! named rules, from `shared/semantics/bsd.md` checked against FreeBSD
//! (main 2025-26, 14.x, 13.x) and XNU (xnu-11417, macOS 15) sources.
//!
//! How the shared [`State`] is read here (see `state.rs` for the fields):
//! - a socket's place in the IPv4 and IPv6 lookups (the kernel's `inp_vflag`)
//!   follows from its family, local address and v6only ([`view`]);
//! - `seq` is the order of insertion into the port list: set when the
//!   socket gets its port (bind, autobind, accepted connection), never by
//!   listen; ties in a lookup go to the newest;
//! - `Tcp::Reset` is a dropped TCP socket (FreeBSD `TF_DISCONNECTED`, XNU
//!   `INPCB_STATE_DEAD`): no local port, every call on it refused;
//!   `connected_once` on such a socket means macOS still holds the reset's
//!   ECONNRESET for the next connect (XNU `so_error`);
//! - `group` is `Some` for a FreeBSD socket that joined a load-balancing
//!   group when it was bound;
//! - `Life::Orphan { tw: true }` is a closed connection that still holds its
//!   port (FIN_WAIT_2 while `link` names the open peer, then TIME_WAIT).
//!
//! No I/O, no `cfg`: pure like the other models.

use super::rules::*;
use super::state::{Endpoint, Life, SlotState, Sock, SockId, State, Tcp};
use super::{Branch, Model, PortArg, Prediction, StepCtx, begin_close, fail, ok, rule_ids_of};
use crate::case::{Addr, Family, Kind, Op, Proto, Slot, SockOpt};
use crate::model::PortVal;
use crate::outcome::{Errno, Outcome};
use crate::platform::{ModelSpec, Platform, Version};

use Errno::*;

/// Rules in the tables that document a decision no case can reach
/// (multicast, jails, reserved ports, Skywalk, the UDP summary): never
/// emitted, so not among [`Model::rule_ids`].
const NEVER_EMITTED: &[&str] = &[
    BSD_MULTICAST_REUSEADDR,
    BSD_UDP_SAME_AS_TCP,
    FREEBSD_JAIL,
    FREEBSD_RESERVED_PORT,
    MACOS_RESERVED_PORT,
    MACOS_NETNS,
    MACOS_MULTICAST_FANOUT,
];

/// Which BSD kernel a [`Bsd`] model describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    FreeBsd,
    MacOs,
}

/// The `freebsd` or `macos` model.
#[derive(Clone, Debug)]
pub struct Bsd {
    flavor: Flavor,
    version: Option<Version>,
}

impl Bsd {
    /// The FreeBSD model of `version` (`freebsd@14`; newest known if `None`).
    pub fn freebsd(version: Option<Version>) -> Bsd {
        Bsd { flavor: Flavor::FreeBsd, version }
    }

    /// The macOS model (the rules read in XNU hold for every version it
    /// knows, so `version` is only reported back).
    pub fn macos(version: Option<Version>) -> Bsd {
        Bsd { flavor: Flavor::MacOs, version }
    }

    fn fb(&self) -> bool {
        self.flavor == Flavor::FreeBsd
    }

    fn mac(&self) -> bool {
        self.flavor == Flavor::MacOs
    }

    /// FreeBSD `since` or later (the bare name is the newest).
    fn fb_since(&self, since: &[u32]) -> bool {
        self.fb() && self.version.as_ref().is_none_or(|v| v.at_least(since))
    }

    /// FreeBSD before `until`.
    fn fb_before(&self, until: &[u32]) -> bool {
        self.fb() && !self.fb_since(until)
    }

    /// SO_REUSEPORT_LB exists (FreeBSD 12.0 and later).
    fn has_lb(&self) -> bool {
        self.fb_since(&[12])
    }

    /// TCP members of a load-balancing group wait for listen (FreeBSD 15).
    fn lb_pending(&self) -> bool {
        self.fb_since(&[15])
    }

    /// Loopback connections get TIME_WAIT (macOS, FreeBSD before 14).
    fn local_timewait(&self) -> bool {
        !self.fb_since(&[14])
    }

    fn v6only_default(&self) -> bool {
        self.fb()
    }

    fn order_rule(&self) -> &'static str {
        if self.fb() { FREEBSD_DELIVER_ORDER } else { MACOS_DELIVER_ORDER }
    }

    fn unknown_option_rule(&self) -> &'static str {
        if self.fb() { FREEBSD_UNKNOWN_OPTION } else { MACOS_UNKNOWN_OPTION }
    }
}

/// Several allowed errors, none of which changes the state.
fn errors(rule: &'static str, es: &[Errno], st: &State) -> Prediction {
    Prediction { rule, branches: es.iter().map(|e| Branch { outcome: Outcome::Err(*e), state: st.clone() }).collect() }
}

/// The live socket of a slot, or the EBADF answer for a dead name.
fn live(st: &State, slot: Slot) -> Result<SockId, Prediction> {
    super::live(st, slot, BSD_DEAD_NAME)
}

/// The two lookup tables: IPv4 (`inp_vflag & INP_IPV4`) and IPv6.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Table {
    V4,
    V6,
}

impl Table {
    fn wildcard(self) -> Addr {
        match self {
            Table::V4 => Addr::Any4,
            Table::V6 => Addr::Any6,
        }
    }
}

/// Where a socket that holds a port is seen by the lookups of `table`: its
/// local address in that table's form, or `None` if the table does not see
/// it. A tcp6/udp6 socket on `[::]` without v6only is in both tables (as
/// 0.0.0.0 in the IPv4 one); one on a v4-mapped address only in the IPv4
/// table; v6only `[::]` and `[::1]` only in the IPv6 table.
fn view(s: &Sock, table: Table) -> Option<Addr> {
    if !s.holds_port() {
        return None;
    }
    let a = s.local?.addr;
    match (s.kind.family, table) {
        (Family::V4, Table::V4) => Some(a),
        (Family::V4, Table::V6) => None,
        (Family::V6, Table::V4) => match a {
            a if a.is_mapped() => a.as_v4(),
            Addr::Any6 if !s.opts.v6only => Some(Addr::Any4),
            _ => None,
        },
        (Family::V6, Table::V6) => (!a.is_mapped()).then_some(a),
    }
}

/// A dual-stack socket: `[::]` without v6only, seen by both tables.
fn dual(s: &Sock) -> bool {
    view(s, Table::V4).is_some() && view(s, Table::V6).is_some()
}

fn is_wild(a: Addr) -> bool {
    matches!(a, Addr::Any4 | Addr::Any6)
}

/// The socket has a foreign address (connected, accepted, closing).
fn connected(s: &Sock) -> bool {
    s.peer.is_some()
}

/// The table and address a bind of `addr` uses: a v4-mapped address on a
/// tcp6/udp6 socket without v6only is an IPv4 bind.
fn bind_target(s: &Sock, addr: Addr) -> (Table, Addr) {
    match s.kind.family {
        Family::V4 => (Table::V4, addr),
        Family::V6 if addr.is_mapped() && !s.opts.v6only => (Table::V4, addr.as_v4().unwrap_or(addr)),
        Family::V6 => (Table::V6, addr),
    }
}

/// The source address to reach loopback `dst`, in the form of `family`.
fn source_for(family: Family, dst: Addr) -> Addr {
    match (family, dst) {
        (_, Addr::Lo6) => Addr::Lo6,
        (Family::V6, _) => Addr::MappedLo4,
        (Family::V4, _) => Addr::Lo4,
    }
}

/// Endpoints are equal, v4-mapped and plain IPv4 alike.
fn same_endpoint(a: Endpoint, b: Endpoint) -> bool {
    a.port == b.port && (a.addr == b.addr || (a.addr.as_v4().is_some() && a.addr.as_v4() == b.addr.as_v4()))
}

/// The source address a connect from `s` to `dst` uses: its bound
/// address, or (unbound or wildcard) the one that reaches `dst`.
fn source_of(s: &Sock, dst: Addr) -> Addr {
    match s.local {
        Some(l) if !l.addr.is_wildcard() => l.addr,
        _ => source_for(s.kind.family, dst),
    }
}

/// The implicit bind of connect: socket `id` takes source address `src`
/// and, if it holds no port yet, an ephemeral one; its peer is `peer`.
fn attach(ns: &mut State, id: SockId, src: Addr, peer: Endpoint, observed: Option<u16>) {
    let port = match ns.sock(id).local {
        Some(l) => l.port,
        None => {
            let p = ns.ephemeral(observed);
            let seq = ns.tick();
            let s = ns.sock_mut(id);
            s.seq = seq;
            s.bound_opts = s.opts;
            p
        }
    };
    let s = ns.sock_mut(id);
    s.local = Some(Endpoint { addr: src, port });
    s.peer = Some(peer);
}

/// A TCP socket's connection is open; a connected socket is in no
/// load-balancing group.
fn establish(ns: &mut State, id: SockId) {
    let s = ns.sock_mut(id);
    s.tcp = Tcp::Established;
    s.connected_once = true;
    s.group = None;
}

/// A TCP socket's connection is dropped (refused, reset, timed out): it
/// holds no port any more and refuses everything.
fn drop_sock(st: &mut State, id: SockId, error_pending: bool) {
    let s = st.sock_mut(id);
    s.tcp = Tcp::Reset;
    s.local = None;
    s.peer = None;
    s.link = None;
    s.group = None;
    s.connected_once = error_pending;
}

/// A RST reaches socket `x` from its peer: an open connection is dropped
/// (with ECONNRESET pending), a closed one in FIN_WAIT_2 is gone.
fn reset(st: &mut State, x: SockId) {
    match st.sock(x).life {
        Life::Orphan { .. } => st.sock_mut(x).life = Life::Gone,
        Life::Live | Life::Pending { .. } => {
            if matches!(st.sock(x).tcp, Tcp::Established | Tcp::CloseWait) {
                drop_sock(st, x, true);
            }
        }
        Life::Gone => {}
    }
}

/// Pending connections of a listener, oldest first.
fn pending_of(st: &State, lid: SockId) -> Vec<SockId> {
    let mut v: Vec<SockId> =
        (0..st.socks.len() as SockId).filter(|&c| st.sock(c).life == Life::Pending { of: lid }).collect();
    v.sort_by_key(|&c| st.sock(c).seq);
    v
}

/// The outcome naming the case socket `id` (its slot's name).
fn name_of(st: &State, ctx: &StepCtx<'_>, id: SockId) -> Outcome {
    let slot = st.slots.iter().position(|s| *s == SlotState::Live(id));
    match slot.and_then(|s| ctx.names.get(s)) {
        Some(n) => Outcome::To(n.clone()),
        None => Outcome::ToNone,
    }
}

impl Model for Bsd {
    fn spec(&self) -> ModelSpec {
        let platform = if self.fb() { Platform::FreeBsd } else { Platform::MacOs };
        ModelSpec::versioned(platform, self.version.clone())
    }

    fn step(&self, st: &State, op: &Op, ctx: &StepCtx<'_>) -> Prediction {
        match *op {
            Op::Socket { slot, kind, other } => {
                let mut ns = st.clone();
                let id = ns.add(Sock::new(kind, other, self.v6only_default()));
                ns.slots[slot as usize] = SlotState::Live(id);
                let rule = match (kind.family, self.flavor) {
                    (Family::V4, _) => BSD_SOCKET,
                    (Family::V6, Flavor::FreeBsd) => FREEBSD_V6ONLY_DEFAULT,
                    (Family::V6, Flavor::MacOs) => MACOS_V6ONLY_DEFAULT,
                };
                ok(rule, ns)
            }
            Op::Set { slot, opt, on } => self.set(st, slot, opt, on),
            Op::Bind { slot, addr, .. } => self.bind(st, slot, addr, ctx),
            Op::Listen { slot } => self.listen(st, slot, ctx),
            Op::Connect { slot, addr, .. } => self.connect(st, slot, addr, ctx),
            Op::Accept { slot, listener } => self.accept(st, slot, listener),
            Op::Close { slot } => self.close(st, slot),
            Op::Probe { kind, addr, .. } => self.probe(st, kind, addr, ctx),
        }
    }

    fn rule_ids(&self) -> Vec<&'static str> {
        let family = if self.fb() { "freebsd" } else { "macos" };
        rule_ids_of(&["bsd", family])
            .into_iter()
            .filter(|id| applies(id, self.version.as_ref()) && !NEVER_EMITTED.contains(id))
            .collect()
    }
}

impl Bsd {
    // ---- set ------------------------------------------------------------

    fn set(&self, st: &State, slot: Slot, opt: SockOpt, on: bool) -> Prediction {
        let id = match live(st, slot) {
            Ok(id) => id,
            Err(p) => return p,
        };
        let s = st.sock(id);
        match opt {
            SockOpt::ExclusiveAddrUse => return fail(self.unknown_option_rule(), ENOPROTOOPT, st),
            SockOpt::ReusePortLb if !self.has_lb() => return fail(self.unknown_option_rule(), ENOPROTOOPT, st),
            _ => {}
        }
        let dropped = s.is_tcp() && s.tcp == Tcp::Reset;
        if dropped && self.mac() {
            return fail(MACOS_SETOPT_DISCONNECTED, EINVAL, st);
        }
        let mut ns = st.clone();
        let o = &mut ns.sock_mut(id).opts;
        match opt {
            SockOpt::V6Only => {
                if dropped {
                    return fail(FREEBSD_SETOPT_DROPPED, ECONNRESET, st);
                }
                if s.kind.family == Family::V4 || s.local.is_some() {
                    return fail(BSD_V6ONLY_AFTER_BIND, EINVAL, st);
                }
                o.v6only = on;
            }
            SockOpt::ReuseAddr => o.reuseaddr = on,
            SockOpt::ReusePort => o.reuseport = on,
            SockOpt::ReusePortLb => o.reuseport_lb = on,
            SockOpt::Linger0 => o.linger0 = on,
            SockOpt::ExclusiveAddrUse => unreachable!("refused above"),
        }
        ok(BSD_OPTIONS_ANY_TIME, ns)
    }

    // ---- lookups ---------------------------------------------------------

    /// `in_pcblookup_local`: the socket on `port` that a bind of `addr`
    /// finds in `table`. Exact (`!wild`): an unconnected socket on the very
    /// same address. Wild: the best overlapping socket, scored by its
    /// wildcards (connected +1, exactly one side wildcard +1, FreeBSD
    /// dual-stack socket in the IPv4 table +3), ties to the newest.
    #[allow(clippy::too_many_arguments)]
    fn lookup(
        &self,
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
                if self.fb() && table == Table::V4 && dual(s) {
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
    fn shares(&self, me: &Sock, t: &Sock) -> Option<&'static str> {
        if me.opts.reuseport && t.opts.reuseport {
            Some(BSD_CONFLICT)
        } else if self.has_lb() && me.opts.reuseport_lb && t.opts.reuseport_lb {
            Some(FREEBSD_REUSEPORT_LB_BIND)
        } else {
            None
        }
    }

    /// The rule that explains why `t` blocks a bind of `me` to `addr`.
    fn blame(&self, me: &Sock, t: &Sock, table: Table, addr: Addr) -> &'static str {
        // reuseport_lb explains the refusal when the new socket relies on it,
        // or offers reuseport to a socket that only has reuseport_lb.
        if self.has_lb() && (me.opts.reuseport_lb || (me.opts.reuseport && t.opts.reuseport_lb)) {
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

    // ---- bind ------------------------------------------------------------

    /// The answer to an address of the other family (bind and connect).
    fn wrong_family(&self, s: &Sock, st: &State) -> Prediction {
        if self.fb_before(&[13]) {
            return errors(FREEBSD_WRONG_FAMILY_LEGACY, &[EAFNOSUPPORT, EINVAL], st);
        }
        if self.mac() && !s.is_tcp() {
            return fail(MACOS_UDP_WRONG_FAMILY, EINVAL, st);
        }
        fail(BSD_WRONG_FAMILY, EAFNOSUPPORT, st)
    }

    fn bind(&self, st: &State, slot: Slot, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
        let id = match live(st, slot) {
            Ok(id) => id,
            Err(p) => return p,
        };
        let s = st.sock(id);
        if s.is_tcp() && s.tcp == Tcp::Reset {
            return fail(BSD_TCP_DROPPED, EINVAL, st);
        }
        if s.kind.family != addr.family() {
            // XNU's udp_bind lets the address through to in_pcbbind, whose
            // bind-twice test comes before its length test.
            if self.mac() && !s.is_tcp() && s.local.is_some() {
                return fail(BSD_BIND_TWICE, EINVAL, st);
            }
            return self.wrong_family(s, st);
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
                let joined = self.commit_bind(&mut ns, id, addr, p);
                return ok(if joined { FREEBSD_REUSEPORT_LB_GROUP } else { BSD_PORT_ZERO }, ns);
            }
        };
        let uid_note = match self.uid_check(st, id, s, table, a, port) {
            Err(rule) => return fail(rule, EADDRINUSE, st),
            Ok(note) => note,
        };
        let rule = match self.conflict(st, id, s, table, a, port) {
            Err(rule) => return fail(rule, EADDRINUSE, st),
            Ok(rule) => rule,
        };
        let joined = self.commit_bind(&mut ns, id, addr, port);
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
    fn uid_check(
        &self,
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
        let counts = |t: &Sock| t.other != me.other && (self.mac() || proto == Proto::Udp || !connected(t));
        let fb_rule = if self.fb_since(&[15]) {
            FREEBSD_UID
        } else if self.fb_since(&[12]) {
            FREEBSD_UID_LB_EXCEPTION
        } else {
            FREEBSD_UID_LEGACY
        };
        let mut note = None;
        if let Some(t) = self.lookup(st, id, proto, port, table, addr, true) {
            let ts = st.sock(t);
            let ta = view(ts, table).unwrap_or(addr);
            let both_wild = is_wild(addr) && is_wild(ta);
            if counts(ts) {
                let exempt = match self.flavor {
                    Flavor::FreeBsd if self.fb_since(&[15]) => false,
                    Flavor::FreeBsd if self.fb_since(&[12]) => both_wild && ts.opts.reuseport_lb && !ts.opts.reuseport,
                    Flavor::FreeBsd => both_wild && ts.opts.reuseport,
                    Flavor::MacOs => both_wild && (table == Table::V4 || ts.opts.reuseport),
                };
                let rule = if self.fb() { fb_rule } else { MACOS_UID };
                if !exempt {
                    return Err(rule);
                }
                note = Some(rule);
            }
        }
        if table == Table::V6 && addr == Addr::Any6 && !me.opts.v6only {
            if let Some(t) = self.lookup(st, id, proto, port, Table::V4, Addr::Any4, true) {
                let ts = st.sock(t);
                let ta = view(ts, Table::V4).unwrap_or(Addr::Any4);
                match self.flavor {
                    Flavor::FreeBsd if counts(ts) => return Err(fb_rule),
                    Flavor::MacOs
                        if ts.other != me.other
                            && !ts.opts.reuseport
                            && (!is_wild(ta) || ts.kind.family == Family::V6) =>
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
    fn conflict(
        &self,
        st: &State,
        id: SockId,
        me: &Sock,
        table: Table,
        addr: Addr,
        port: PortVal,
    ) -> Result<&'static str, &'static str> {
        let o = me.opts;
        let exact = o.reuseaddr || o.reuseport || (self.has_lb() && o.reuseport_lb);
        let proto = me.kind.proto;
        let mut note = None;
        if let Some(t) = self.lookup(st, id, proto, port, table, addr, !exact) {
            let ts = st.sock(t);
            match self.shares(me, ts) {
                Some(rule) => note = Some(rule),
                None => {
                    let ta = view(ts, table).unwrap_or(addr);
                    let exempt = table == Table::V4
                        && is_wild(addr)
                        && is_wild(ta)
                        && me.kind.family == Family::V6
                        && ts.kind.family == Family::V6;
                    if !exempt {
                        return Err(self.blame(me, ts, table, addr));
                    }
                    note = Some(BSD_DUAL_STACK_EXEMPTION);
                }
            }
        }
        if table == Table::V6 && addr == Addr::Any6 && !o.v6only {
            if let Some(t) = self.lookup(st, id, proto, port, Table::V4, Addr::Any4, !exact) {
                let ts = st.sock(t);
                let ta = view(ts, Table::V4).unwrap_or(Addr::Any4);
                if self.shares(me, ts).is_none() && (!is_wild(ta) || ts.kind.family == Family::V6) {
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
            if let Some(t) = self.lookup(st, id, proto, port, table, addr, true) {
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
    fn commit_bind(&self, ns: &mut State, id: SockId, addr: Addr, port: PortVal) -> bool {
        let seq = ns.tick();
        let s = ns.sock_mut(id);
        s.local = Some(Endpoint { addr, port });
        s.bound_addr = Some(addr);
        s.bound_opts = s.opts;
        s.seq = seq;
        let join = self.has_lb()
            && s.opts.reuseport_lb
            && s.peer.is_none()
            && !(s.kind.family == Family::V6 && view(s, Table::V4) == Some(Addr::Any4));
        s.group = join.then_some(1);
        join
    }

    // ---- listen ----------------------------------------------------------

    fn listen(&self, st: &State, slot: Slot, ctx: &StepCtx<'_>) -> Prediction {
        let id = match live(st, slot) {
            Ok(id) => id,
            Err(p) => return p,
        };
        let s = st.sock(id);
        if !s.is_tcp() {
            return fail(BSD_LISTEN_UDP, EOPNOTSUPP, st);
        }
        match s.tcp {
            Tcp::Reset => return fail(BSD_TCP_DROPPED, EINVAL, st),
            Tcp::Established | Tcp::CloseWait | Tcp::SynSent => return fail(BSD_TCP_LISTEN_STATE, EINVAL, st),
            Tcp::Listen => return ok(BSD_TCP_LISTEN_STATE, st.clone()),
            Tcp::Closed => {}
        }
        let mut ns = st.clone();
        let rule = if s.local.is_none() {
            let p = ns.ephemeral(ctx.observed);
            let wildcard = match s.kind.family {
                Family::V4 => Addr::Any4,
                Family::V6 => Addr::Any6,
            };
            self.commit_bind(&mut ns, id, wildcard, p);
            BSD_TCP_LISTEN_AUTOBIND
        } else if self.lb_pending() && s.group.is_some() {
            FREEBSD_LB_PENDING
        } else {
            BSD_TCP_LISTEN_STATE
        };
        ns.sock_mut(id).tcp = Tcp::Listen;
        ok(rule, ns)
    }

    // ---- delivery ----------------------------------------------------------

    /// Which sockets may receive a fresh TCP SYN or UDP datagram to
    /// `dst:port` (never `exclude`): the FreeBSD load-balancing group first,
    /// then exact address, IPv4 wildcard, dual-stack wildcard. Several
    /// sockets are a choice the kernel makes by hash or chain order.
    fn deliver(
        &self,
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
        if self.has_lb() {
            // 12-14 leave a connected UDP member in its group.
            let member = |s: &Sock| s.group.is_some() && (!connected(s) || (!self.lb_pending() && !s.is_tcp()));
            let group_on = |a: Addr| -> Vec<SockId> {
                cands.iter().copied().filter(|&i| member(st.sock(i)) && view(st.sock(i), table) == Some(a)).collect()
            };
            let exact = group_on(d);
            let group = if exact.is_empty() { group_on(table.wildcard()) } else { exact };
            let active: Vec<SockId> = group
                .into_iter()
                .filter(|&i| !(self.lb_pending() && st.sock(i).is_tcp() && st.sock(i).tcp != Tcp::Listen))
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
            Table::V6 => {
                [class(&|s| view(s, table) == Some(d)), class(&|s| view(s, table) == Some(Addr::Any6)), vec![]]
            }
        };
        for tier in tiers {
            if !tier.is_empty() {
                return (tier, self.order_rule());
            }
        }
        (Vec::new(), BSD_DELIVER_NONE)
    }

    /// What a SYN given to a bound TCP socket that does not listen does to
    /// the connecting side: RST (FreeBSD) or silence until the connect
    /// times out (macOS).
    fn syn_to_closed(&self) -> (&'static str, Errno) {
        if self.fb() { (FREEBSD_SYN_TO_CLOSED, ECONNREFUSED) } else { (MACOS_SYN_TO_CLOSED, ETIMEDOUT) }
    }

    /// The rule of a SYN that may reach any of `targets`: the platform's
    /// syn-to-closed rule when none of them listens, the delivery rule when
    /// the kernel chooses among several, else `one`.
    fn syn_rule(&self, st: &State, targets: &[SockId], deliver: &'static str, one: &'static str) -> &'static str {
        if targets.iter().all(|&t| st.sock(t).tcp != Tcp::Listen) {
            self.syn_to_closed().0
        } else if targets.len() > 1 {
            deliver
        } else {
            one
        }
    }

    // ---- connect -----------------------------------------------------------

    /// The address-family checks of a connect from `s` to `dst`.
    fn connect_family(&self, s: &Sock, dst: Addr, st: &State) -> Option<Prediction> {
        if s.kind.family != dst.family() {
            return Some(self.wrong_family(s, st));
        }
        if s.kind.family == Family::V4 {
            return None;
        }
        let udp_mac = self.mac() && !s.is_tcp();
        // inp_vflag: can the socket still speak IPv4 / IPv6?
        let v4ok = !s.opts.v6only && s.local.is_none_or(|l| l.addr.is_mapped() || l.addr == Addr::Any6);
        let v6ok = s.local.is_none_or(|l| !l.addr.is_mapped());
        if dst.is_mapped() {
            if s.opts.v6only {
                return Some(match (self.flavor, udp_mac) {
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

    fn connect(&self, st: &State, slot: Slot, dst: Addr, ctx: &StepCtx<'_>) -> Prediction {
        let id = match live(st, slot) {
            Ok(id) => id,
            Err(p) => return p,
        };
        if st.sock(id).is_tcp() { self.connect_tcp(st, id, dst, ctx) } else { self.connect_udp(st, id, dst, ctx) }
    }

    /// The 4-tuple `local -> peer` is held by another socket.
    fn tuple_in_use(&self, st: &State, id: SockId, proto: Proto, local: Endpoint, peer: Endpoint) -> bool {
        st.holders(proto, local.port, Some(id)).into_iter().any(|t| {
            let s = st.sock(t);
            s.local.is_some_and(|l| same_endpoint(l, local)) && s.peer.is_some_and(|p| same_endpoint(p, peer))
        })
    }

    fn connect_tcp(&self, st: &State, id: SockId, dst: Addr, ctx: &StepCtx<'_>) -> Prediction {
        let s = st.sock(id);
        // XNU soconnectlock refuses a listener first; FreeBSD's socket
        // layer refuses a connected socket first.
        if self.mac() && s.tcp == Tcp::Listen {
            return fail(BSD_CONNECT_ERRORS, EOPNOTSUPP, st);
        }
        if matches!(s.tcp, Tcp::Established | Tcp::CloseWait | Tcp::SynSent) {
            return fail(BSD_CONNECT_ERRORS, EISCONN, st);
        }
        if s.tcp == Tcp::Reset {
            if self.fb() {
                return fail(FREEBSD_DROPPED_CONNECT, ECONNREFUSED, st);
            }
            if s.connected_once {
                let mut ns = st.clone();
                ns.sock_mut(id).connected_once = false;
                return Prediction::one(MACOS_DEAD_CONNECT, Outcome::Err(ECONNRESET), ns);
            }
            return fail(MACOS_DEAD_CONNECT, EINVAL, st);
        }
        if let Some(p) = self.connect_family(s, dst, st) {
            return p;
        }
        if s.tcp == Tcp::Listen {
            return fail(BSD_CONNECT_ERRORS, EOPNOTSUPP, st);
        }
        if self.lb_pending() && s.opts.reuseport_lb {
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
            if self.tuple_in_use(st, id, Proto::Tcp, local, peer) {
                return fail(BSD_TCP_TUPLE_IN_USE, EADDRINUSE, st);
            }
            if same_endpoint(local, peer) {
                if self.mac() && dst.as_v4().is_some() {
                    return fail(MACOS_SELF_CONNECT, EINVAL, st);
                }
                let mut ns = st.clone();
                attach(&mut ns, id, src, peer, None);
                establish(&mut ns, id);
                return ok(BSD_TCP_SELF_CONNECT, ns);
            }
        }
        let (targets, deliver_rule) = self.deliver(st, Proto::Tcp, dst, dport, Some(id));
        if targets.is_empty() {
            let mut ns = st.clone();
            drop_sock(&mut ns, id, false);
            return fail(BSD_TCP_CONNECT_REFUSED, ECONNREFUSED, &ns);
        }
        let mut connected_st = st.clone();
        attach(&mut connected_st, id, src, peer, ctx.observed);
        establish(&mut connected_st, id);
        let rule = self.syn_rule(st, &targets, deliver_rule, BSD_TCP_CONNECT_LISTENER);
        let branches = targets
            .into_iter()
            .map(|t| {
                if st.sock(t).tcp == Tcp::Listen {
                    let mut b = connected_st.clone();
                    self.add_child(&mut b, t, id, dst);
                    Branch { outcome: Outcome::Ok, state: b }
                } else {
                    let (_, e) = self.syn_to_closed();
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
    fn add_child(&self, st: &mut State, listener: SockId, client: SockId, dst: Addr) {
        let l = st.sock(listener).clone();
        let c = st.sock(client).clone();
        let addr = match l.kind.family {
            Family::V6 => dst.to_mapped(),
            Family::V4 => dst.as_v4().unwrap_or(dst),
        };
        let port = l.local.expect("a listener holds a port").port;
        let seq = st.tick();
        let mut child = Sock::new(l.kind, l.other, l.opts.v6only);
        child.opts = l.opts;
        child.bound_opts = l.opts;
        child.local = Some(Endpoint { addr, port });
        child.bound_addr = l.bound_addr;
        child.tcp = Tcp::Established;
        child.peer = c.local;
        child.link = Some(client);
        child.life = Life::Pending { of: listener };
        child.seq = seq;
        let cid = st.add(child);
        st.sock_mut(client).link = Some(cid);
    }

    fn connect_udp(&self, st: &State, id: SockId, dst: Addr, ctx: &StepCtx<'_>) -> Prediction {
        // A connected datagram socket is disconnected first (soconnectat,
        // soconnectlock); its local address stays.
        let mut ns = st.clone();
        ns.sock_mut(id).peer = None;
        let s = ns.sock(id).clone();
        if let Some(p) = self.connect_family(&s, dst, &ns) {
            return p;
        }
        let Some(PortArg::Val(dport)) = ctx.port else {
            return fail(BSD_CONNECT_PORT_ZERO, EADDRNOTAVAIL, &ns);
        };
        let src = source_of(&s, dst);
        let peer = Endpoint { addr: dst, port: dport };
        if let Some(l) = s.local {
            if self.tuple_in_use(&ns, id, Proto::Udp, Endpoint { addr: src, port: l.port }, peer) {
                return fail(BSD_TCP_TUPLE_IN_USE, EADDRINUSE, &ns);
            }
        }
        attach(&mut ns, id, src, peer, ctx.observed);
        if self.lb_pending() {
            // 15 takes a connected socket out of its group (in_pcbrehash).
            ns.sock_mut(id).group = None;
        }
        if self.fb() && dst.as_v4() == Some(Addr::Lo4b) {
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

    // ---- accept and close ---------------------------------------------------

    fn accept(&self, st: &State, slot: Slot, listener: Slot) -> Prediction {
        let mut dead = st.clone();
        dead.slots[slot as usize] = SlotState::Dead;
        let lid = match live(st, listener) {
            Ok(id) => id,
            Err(_) => return fail(BSD_DEAD_NAME, EBADF, &dead),
        };
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
        let mut ns = st.clone();
        let c = ns.sock_mut(child);
        c.life = Life::Live;
        c.connected_once = true;
        ns.slots[slot as usize] = SlotState::Live(child);
        ok(BSD_TCP_ACCEPT, ns)
    }

    /// The active closer `x` of a connection learns that its peer has
    /// closed too: TIME_WAIT, or (FreeBSD 14+, loopback) nothing.
    fn peer_closed(&self, st: &mut State, x: SockId) -> &'static str {
        if !matches!(st.sock(x).life, Life::Orphan { .. }) {
            return BSD_TIMEWAIT_WHO;
        }
        if self.local_timewait() {
            st.sock_mut(x).link = None;
            BSD_TIMEWAIT_WHO
        } else {
            st.sock_mut(x).life = Life::Gone;
            FREEBSD_NOLOCALTIMEWAIT
        }
    }

    fn close(&self, st: &State, slot: Slot) -> Prediction {
        let (mut ns, id, s) = match begin_close(st, slot, BSD_DEAD_NAME, BSD_CLOSE) {
            Ok(t) => t,
            Err(p) => return p,
        };
        let rule = match s.tcp {
            Tcp::Listen => {
                let pending = pending_of(st, id);
                for c in &pending {
                    if let Some(peer) = ns.sock(*c).link {
                        if ns.sock(*c).tcp != Tcp::Reset {
                            reset(&mut ns, peer);
                        }
                    }
                    ns.sock_mut(*c).life = Life::Gone;
                }
                ns.sock_mut(id).life = Life::Gone;
                if pending.is_empty() { BSD_CLOSE } else { BSD_TCP_LISTENER_CLOSE }
            }
            Tcp::Closed | Tcp::Reset | Tcp::SynSent => {
                ns.sock_mut(id).life = Life::Gone;
                BSD_CLOSE
            }
            Tcp::Established | Tcp::CloseWait => match s.link {
                _ if s.opts.linger0 => {
                    ns.sock_mut(id).life = Life::Gone;
                    if let Some(peer) = s.link {
                        reset(&mut ns, peer);
                    }
                    BSD_TIMEWAIT_WHO
                }
                None => {
                    // Connected to itself (or the peer is gone): it closes both ends.
                    ns.sock_mut(id).life = Life::Orphan { tw: true };
                    self.peer_closed(&mut ns, id)
                }
                Some(peer) if s.tcp == Tcp::CloseWait => {
                    // The peer closed first: this side leaves nothing.
                    ns.sock_mut(id).life = Life::Gone;
                    self.peer_closed(&mut ns, peer)
                }
                Some(peer) => {
                    // Active close: FIN_WAIT_2 until the peer closes.
                    ns.sock_mut(id).life = Life::Orphan { tw: true };
                    let p = ns.sock(peer);
                    if matches!(p.life, Life::Live | Life::Pending { .. }) && p.tcp == Tcp::Established {
                        ns.sock_mut(peer).tcp = Tcp::CloseWait;
                    }
                    BSD_TIMEWAIT_WHO
                }
            },
        };
        ok(rule, ns)
    }

    // ---- probe ---------------------------------------------------------------

    fn probe(&self, st: &State, kind: Kind, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
        // The prober is a fresh socket with the platform's defaults.
        let fresh = Sock::new(kind, false, self.v6only_default());
        if let Some(p) = self.connect_family(&fresh, addr, st) {
            return p;
        }
        let Some(PortArg::Val(port)) = ctx.port else {
            return fail(BSD_CONNECT_PORT_ZERO, EADDRNOTAVAIL, st);
        };
        let tcp = kind.proto == Proto::Tcp;
        if addr.as_v4() == Some(Addr::Lo4b) {
            return match (tcp, self.flavor) {
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
        let (targets, mut rule) = self.deliver(st, kind.proto, addr, port, None);
        if targets.is_empty() {
            let outcome = if tcp { Outcome::Err(ECONNREFUSED) } else { Outcome::ToNone };
            return Prediction::one(BSD_DELIVER_NONE, outcome, st.clone());
        }
        if tcp {
            rule = self.syn_rule(st, &targets, rule, rule);
        }
        let branches = targets
            .into_iter()
            .map(|t| {
                let outcome = if tcp && st.sock(t).tcp != Tcp::Listen {
                    Outcome::Err(self.syn_to_closed().1)
                } else {
                    name_of(st, ctx, t)
                };
                Branch { outcome, state: st.clone() }
            })
            .collect();
        Prediction { rule, branches }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{compile, parse};
    use crate::model::{Belief, resolve_port};

    fn fbsd() -> Bsd {
        Bsd::freebsd(None)
    }

    fn fbsd_at(v: &str) -> Bsd {
        Bsd::freebsd(Version::parse(v))
    }

    fn mac() -> Bsd {
        Bsd::macos(None)
    }

    /// Runs a case through a model alone: outcome set and rule per step.
    fn run(m: &Bsd, text: &str) -> Vec<(String, &'static str)> {
        let case = parse("t", text).unwrap();
        let prog = compile(&case).unwrap();
        let mut belief = Belief::new(m, &prog);
        let mut out = Vec::new();
        for op in &prog.ops {
            let port = resolve_port(&belief.states[0], op).expect("port");
            let ctx = StepCtx { names: &prog.names, port, observed: None };
            let (set, rule, branches) = belief.predict(m, op, &ctx);
            out.push((set.to_string(), rule));
            belief.advance(branches, None);
        }
        out
    }

    /// The outcome and rule of the last statement.
    fn last(m: &Bsd, text: &str) -> (String, &'static str) {
        run(m, text).pop().unwrap()
    }

    fn is(outcome: &str, rule: &'static str) -> (String, &'static str) {
        (outcome.to_string(), rule)
    }

    /// Both models give the same last outcome and rule.
    fn both(text: &str, outcome: &str, rule: &'static str) {
        assert_eq!(last(&fbsd(), text), is(outcome, rule), "freebsd: {text}");
        assert_eq!(last(&mac(), text), is(outcome, rule), "macos: {text}");
    }

    const TWO4: &str = "a = socket tcp4\nb = socket tcp4\n";

    // ---- socket and options --------------------------------------------------

    #[test]
    fn v6only_defaults_differ() {
        let text = "a = socket tcp6\nb = socket tcp4\nbind a [::]:P1\nbind b 0.0.0.0:P1\n";
        let f = run(&fbsd(), text);
        assert_eq!(f[0], is("ok", FREEBSD_V6ONLY_DEFAULT));
        assert_eq!(f[1], is("ok", BSD_SOCKET));
        assert_eq!(f[3].0, "ok");
        let m = run(&mac(), text);
        assert_eq!(m[0], is("ok", MACOS_V6ONLY_DEFAULT));
        assert_eq!(m[3], is("EADDRINUSE", BSD_V4_THEN_DUALSTACK));
    }

    #[test]
    fn unknown_options_are_enoprotoopt() {
        let text = "a = socket tcp4\nset a exclusiveaddruse on\nset a reuseport_lb on\n";
        let f = run(&fbsd(), text);
        assert_eq!(f[1], is("ENOPROTOOPT", FREEBSD_UNKNOWN_OPTION));
        assert_eq!(f[2], is("ok", BSD_OPTIONS_ANY_TIME));
        assert_eq!(run(&fbsd_at("11"), text)[2], is("ENOPROTOOPT", FREEBSD_UNKNOWN_OPTION));
        let m = run(&mac(), text);
        assert_eq!(m[1], is("ENOPROTOOPT", MACOS_UNKNOWN_OPTION));
        assert_eq!(m[2], is("ENOPROTOOPT", MACOS_UNKNOWN_OPTION));
    }

    #[test]
    fn v6only_only_before_bind_and_never_on_ipv4() {
        both("a = socket tcp4\nset a v6only on\n", "EINVAL", BSD_V6ONLY_AFTER_BIND);
        both("a = socket udp6\nbind a [::]:0\nset a v6only off\n", "EINVAL", BSD_V6ONLY_AFTER_BIND);
        both("a = socket tcp6\nset a v6only off\nset a reuseaddr on\n", "ok", BSD_OPTIONS_ANY_TIME);
        both("a = socket tcp6\nlisten a\nset a v6only on\n", "EINVAL", BSD_V6ONLY_AFTER_BIND);
    }

    #[test]
    fn options_on_a_dropped_socket() {
        let text = "a = socket tcp6\nconnect a [::1]:P1\nset a v6only on\nset a reuseaddr on\n";
        let f = run(&fbsd(), text);
        assert_eq!(f[1], is("ECONNREFUSED", BSD_TCP_CONNECT_REFUSED));
        assert_eq!(f[2], is("ECONNRESET", FREEBSD_SETOPT_DROPPED));
        assert_eq!(f[3], is("ok", BSD_OPTIONS_ANY_TIME));
        let m = run(&mac(), text);
        assert_eq!(m[2], is("EINVAL", MACOS_SETOPT_DISCONNECTED));
        assert_eq!(m[3], is("EINVAL", MACOS_SETOPT_DISCONNECTED));
    }

    #[test]
    fn a_dead_name_is_ebadf() {
        both("a = socket tcp4\nb = accept a\nbind b 127.0.0.1:P1\n", "EBADF", BSD_DEAD_NAME);
    }

    // ---- bind arguments -------------------------------------------------------

    #[test]
    fn bind_argument_checks() {
        both("a = socket tcp4\nbind a 127.0.0.1:P1\nbind a 127.0.0.1:P2\n", "EINVAL", BSD_BIND_TWICE);
        both("a = socket udp4\nbind a 192.0.2.1:P1\n", "EADDRNOTAVAIL", BSD_ADDR_NOT_LOCAL);
        both("a = socket tcp4\nbind a 127.0.0.2:P1\n", "EADDRNOTAVAIL", BSD_LOOPBACK_127_ONLY);
        both(
            "a = socket udp6\nset a v6only off\nbind a [::ffff:127.0.0.2]:P1\n",
            "EADDRNOTAVAIL",
            BSD_LOOPBACK_127_ONLY,
        );
        both(
            "a = socket tcp6\nset a v6only on\nbind a [::ffff:127.0.0.1]:P1\n",
            "EADDRNOTAVAIL",
            BSD_V4MAPPED_WITH_V6ONLY,
        );
        both("a = socket tcp4\nbind a 127.0.0.1:0\n", "ok", BSD_PORT_ZERO);
    }

    #[test]
    fn wrong_family_by_platform_and_version() {
        both("a = socket tcp4\nbind a [::1]:P1\n", "EAFNOSUPPORT", BSD_WRONG_FAMILY);
        both("a = socket tcp6\nbind a 127.0.0.1:P1\n", "EAFNOSUPPORT", BSD_WRONG_FAMILY);
        assert_eq!(last(&fbsd(), "a = socket udp6\nbind a 0.0.0.0:P1\n"), is("EAFNOSUPPORT", BSD_WRONG_FAMILY));
        assert_eq!(last(&mac(), "a = socket udp6\nbind a 0.0.0.0:P1\n"), is("EINVAL", MACOS_UDP_WRONG_FAMILY));
        assert_eq!(
            last(&fbsd_at("12"), "a = socket tcp4\nbind a [::]:P1\n"),
            is("{EAFNOSUPPORT,EINVAL}", FREEBSD_WRONG_FAMILY_LEGACY)
        );
    }

    // ---- bind conflicts -------------------------------------------------------

    #[test]
    fn same_address_needs_reuseport_on_both() {
        let base = format!("{TWO4}set a reuseaddr on\nset b reuseaddr on\nbind a 127.0.0.1:P1\n");
        both(&format!("{base}bind b 127.0.0.1:P1\n"), "EADDRINUSE", BSD_SAME_ADDR);
        let rp = format!("{TWO4}set a reuseport on\nset b reuseport on\nbind a 0.0.0.0:P1\n");
        both(&format!("{rp}bind b 0.0.0.0:P1\n"), "ok", BSD_CONFLICT);
        let only_t = format!("{TWO4}set a reuseport on\nbind a 0.0.0.0:P1\n");
        both(&format!("{only_t}bind b 0.0.0.0:P1\n"), "EADDRINUSE", BSD_SAME_ADDR);
        both(&format!("{TWO4}bind a 127.0.0.1:P1\nbind b 127.0.0.1:P2\n"), "ok", BSD_CONFLICT);
    }

    #[test]
    fn specific_beside_wildcard_needs_an_option_on_the_new_socket_only() {
        both(&format!("{TWO4}bind a 0.0.0.0:P1\nbind b 127.0.0.1:P1\n"), "EADDRINUSE", BSD_SPECIFIC_BESIDE_WILD);
        both(&format!("{TWO4}bind a 127.0.0.1:P1\nbind b 0.0.0.0:P1\n"), "EADDRINUSE", BSD_SPECIFIC_BESIDE_WILD);
        both(&format!("{TWO4}bind a 0.0.0.0:P1\nset b reuseaddr on\nbind b 127.0.0.1:P1\n"), "ok", BSD_LOOKUP_MODE);
        both(&format!("{TWO4}bind a 127.0.0.1:P1\nset b reuseport on\nbind b 0.0.0.0:P1\n"), "ok", BSD_LOOKUP_MODE);
        let six = "a = socket tcp6\nb = socket tcp6\nbind a [::]:P1\nbind b [::1]:P1\n";
        both(six, "EADDRINUSE", BSD_SPECIFIC_BESIDE_WILD);
    }

    #[test]
    fn a_listener_does_not_matter() {
        let text = format!("{TWO4}bind a 0.0.0.0:P1\nlisten a\nset b reuseaddr on\nbind b 127.0.0.1:P1\nlisten b\n");
        let r = run(&fbsd(), &text);
        assert_eq!(r[5], is("ok", BSD_LISTEN_IRRELEVANT));
        assert_eq!(r[6], is("ok", BSD_TCP_LISTEN_STATE));
        assert_eq!(run(&mac(), &text)[5], is("ok", BSD_LISTEN_IRRELEVANT));
    }

    /// A server with an accepted connection, closed and restarted.
    const SERVER: &str =
        "l = socket tcp4\nbind l 127.0.0.1:P1\nlisten l\nc = socket tcp4\nconnect c 127.0.0.1:P1\ns = accept l\n";

    #[test]
    fn connected_sockets_block_plain_binds_only() {
        let r = run(&fbsd(), &format!("{SERVER}close l\nn = socket tcp4\nbind n 127.0.0.1:P1\n"));
        assert_eq!(r.last().unwrap(), &is("EADDRINUSE", BSD_CONNECTED_AND_TIMEWAIT));
        let text = format!("{SERVER}close l\nn = socket tcp4\nset n reuseaddr on\nbind n 127.0.0.1:P1\n");
        assert_eq!(last(&fbsd(), &text), is("ok", BSD_CONNECTED_AND_TIMEWAIT));
        assert_eq!(last(&mac(), &text), is("ok", BSD_CONNECTED_AND_TIMEWAIT));
    }

    #[test]
    fn time_wait_stays_on_macos_and_old_freebsd_only() {
        // The server closes first; then the client; then the listener.
        let text = format!("{SERVER}close s\nclose c\nclose l\nn = socket tcp4\nbind n 127.0.0.1:P1\n");
        let m = run(&mac(), &text);
        assert_eq!(m[6], is("ok", BSD_TIMEWAIT_WHO));
        assert_eq!(m[7], is("ok", BSD_TIMEWAIT_WHO));
        assert_eq!(m.last().unwrap(), &is("EADDRINUSE", BSD_CONNECTED_AND_TIMEWAIT));
        assert_eq!(last(&fbsd_at("13"), &text).0, "EADDRINUSE");
        let f = run(&fbsd(), &text);
        assert_eq!(f[7], is("ok", FREEBSD_NOLOCALTIMEWAIT));
        assert_eq!(f.last().unwrap(), &is("ok", BSD_CONFLICT));
        // While the client is open the server's side waits in FIN_WAIT_2.
        let text = format!("{SERVER}close s\nclose l\nn = socket tcp4\nbind n 127.0.0.1:P1\n");
        assert_eq!(last(&fbsd(), &text), is("EADDRINUSE", BSD_CONNECTED_AND_TIMEWAIT));
        // linger0: RST, nothing stays.
        let text = format!("{SERVER}set s linger0 on\nclose s\nclose l\nn = socket tcp4\nbind n 127.0.0.1:P1\n");
        assert_eq!(last(&mac(), &text).0, "ok");
    }

    #[test]
    fn dual_stack_order_matters() {
        let v4_first = "a = socket tcp4\nb = socket tcp6\nset b v6only off\nbind a 0.0.0.0:P1\nbind b [::]:P1\n";
        both(v4_first, "ok", BSD_V4_THEN_DUALSTACK);
        let v6_first = "a = socket tcp4\nb = socket tcp6\nset b v6only off\nbind b [::]:P1\nset a reuseaddr on\nbind a 0.0.0.0:P1\n";
        both(v6_first, "EADDRINUSE", BSD_V4_THEN_DUALSTACK);
        let specific_first =
            "a = socket tcp4\nb = socket tcp6\nset b v6only off\nbind a 127.0.0.1:P1\nbind b [::]:P1\n";
        both(specific_first, "EADDRINUSE", BSD_V4_THEN_DUALSTACK);
    }

    #[test]
    fn mapped_binds_are_ipv4_binds() {
        let text =
            "a = socket tcp4\nb = socket tcp6\nset b v6only off\nbind a 127.0.0.1:P1\nbind b [::ffff:127.0.0.1]:P1\n";
        both(text, "EADDRINUSE", BSD_V4_LOOKUPS_SEE_DUAL_STACK);
        let exempt = "a = socket udp6\nb = socket udp6\nset a v6only off\nset b v6only off\nbind a [::]:P1\nbind b [::ffff:0.0.0.0]:P1\n";
        both(exempt, "ok", BSD_DUAL_STACK_EXEMPTION);
    }

    #[test]
    fn one_best_match_decides() {
        // The plain dual-stack bind sees only the 0.0.0.0 socket (bsd.md §15).
        let text = "a = socket tcp4\nb = socket tcp4\nc = socket tcp6\nset c v6only off\nbind a 0.0.0.0:P1\nset b reuseaddr on\nbind b 127.0.0.1:P1\nbind c [::]:P1\n";
        both(text, "ok", BSD_V4_THEN_DUALSTACK);
    }

    // ---- users ------------------------------------------------------------------

    #[test]
    fn uid_checks_by_version() {
        let lb = "a = socket tcp4\nb = socket tcp4 as other\nset a reuseport_lb on\nset b reuseport_lb on\nbind a 0.0.0.0:P1\nbind b 0.0.0.0:P1\n";
        assert_eq!(last(&fbsd(), lb), is("EADDRINUSE", FREEBSD_UID));
        assert_eq!(last(&fbsd_at("14"), lb), is("ok", FREEBSD_UID_LB_EXCEPTION));
        let rp = "a = socket tcp4\nb = socket tcp4 as other\nset a reuseport on\nset b reuseport on\nbind a 0.0.0.0:P1\nbind b 0.0.0.0:P1\n";
        assert_eq!(last(&fbsd_at("14"), rp), is("EADDRINUSE", FREEBSD_UID_LB_EXCEPTION));
        assert_eq!(last(&fbsd_at("11"), rp), is("ok", FREEBSD_UID_LEGACY));
        assert_eq!(last(&mac(), rp), is("ok", MACOS_UID));
        // A specific address beside another user's wildcard: refused even with reuseaddr.
        let spec =
            "a = socket tcp4\nb = socket tcp4 as other\nbind a 0.0.0.0:P1\nset b reuseaddr on\nbind b 127.0.0.1:P1\n";
        assert_eq!(last(&fbsd(), spec), is("EADDRINUSE", FREEBSD_UID));
        assert_eq!(last(&mac(), spec), is("EADDRINUSE", MACOS_UID));
        // Root is never checked.
        let root =
            "a = socket tcp4 as other\nb = socket tcp4\nbind a 0.0.0.0:P1\nset b reuseaddr on\nbind b 127.0.0.1:P1\n";
        both(root, "ok", BSD_LOOKUP_MODE);
    }

    #[test]
    fn freebsd_lets_a_user_sit_beside_another_users_connection() {
        let text = "l = socket tcp4\nbind l 127.0.0.1:P1\nlisten l\nc = socket tcp4\nconnect c 127.0.0.1:P1\ns = accept l\nclose l\nn = socket tcp4 as other\nset n reuseaddr on\nbind n 127.0.0.1:P1\n";
        assert_eq!(last(&fbsd(), text), is("ok", BSD_CONNECTED_AND_TIMEWAIT));
        assert_eq!(last(&mac(), text), is("EADDRINUSE", MACOS_UID));
    }

    // ---- reuseport_lb -------------------------------------------------------------

    #[test]
    fn reuseport_lb_pairs_only_with_itself() {
        let pair = "a = socket udp4\nb = socket udp4\nset a reuseport_lb on\nset b reuseport_lb on\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\n";
        let r = run(&fbsd(), pair);
        assert_eq!(r[4], is("ok", FREEBSD_REUSEPORT_LB_GROUP));
        assert_eq!(r[5], is("ok", FREEBSD_REUSEPORT_LB_BIND));
        let mixed = "a = socket udp4\nb = socket udp4\nset a reuseport on\nset b reuseport_lb on\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\n";
        assert_eq!(last(&fbsd(), mixed), is("EADDRINUSE", FREEBSD_REUSEPORT_LB_BIND));
    }

    #[test]
    fn lb_groups_take_traffic_first() {
        let text = "a = socket udp4\nb = socket udp4\nc = socket udp4\nset a reuseport_lb on\nset b reuseport_lb on\nbind a 0.0.0.0:P1\nbind b 0.0.0.0:P1\nset c reuseaddr on\nbind c 127.0.0.1:P1\nprobe udp4 127.0.0.1:P1\n";
        assert_eq!(last(&fbsd(), text), is("{->a,->b}", FREEBSD_DELIVER_LB_FIRST));
        // Without LB the exact address wins.
        let plain = "a = socket udp4\nc = socket udp4\nbind a 0.0.0.0:P1\nset c reuseaddr on\nbind c 127.0.0.1:P1\nprobe udp4 127.0.0.1:P1\n";
        assert_eq!(last(&fbsd(), plain), is("->c", FREEBSD_DELIVER_ORDER));
        assert_eq!(last(&mac(), plain), is("->c", MACOS_DELIVER_ORDER));
    }

    #[test]
    fn lb_members_wait_for_listen_on_15() {
        let text = "a = socket tcp4\nb = socket tcp4\nset a reuseport_lb on\nset b reuseport_lb on\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\nlisten a\nprobe tcp4 127.0.0.1:P1\n";
        let r = run(&fbsd(), text);
        assert_eq!(r[6], is("ok", FREEBSD_LB_PENDING));
        assert_eq!(r[7], is("->a", FREEBSD_DELIVER_LB_FIRST));
        assert_eq!(last(&fbsd_at("14"), text), is("{->a,ECONNREFUSED}", FREEBSD_DELIVER_LB_FIRST));
        let connect = "a = socket tcp4\nset a reuseport_lb on\nconnect a 127.0.0.1:P1\n";
        assert_eq!(last(&fbsd(), connect), is("EOPNOTSUPP", FREEBSD_LB_CONNECT));
        assert_eq!(last(&fbsd_at("14"), connect), is("ECONNREFUSED", BSD_TCP_CONNECT_REFUSED));
    }

    // ---- listen, connect, accept ---------------------------------------------------

    #[test]
    fn listen_rules() {
        both("a = socket udp4\nlisten a\n", "EOPNOTSUPP", BSD_LISTEN_UDP);
        both("a = socket tcp6\nlisten a\n", "ok", BSD_TCP_LISTEN_AUTOBIND);
        both("a = socket tcp4\nlisten a\nlisten a\n", "ok", BSD_TCP_LISTEN_STATE);
        both(&format!("{SERVER}listen c\n"), "EINVAL", BSD_TCP_LISTEN_STATE);
        both("a = socket tcp4\nconnect a 127.0.0.1:P1\nlisten a\n", "EINVAL", BSD_TCP_DROPPED);
        both("a = socket tcp4\nconnect a 127.0.0.1:P1\nbind a 127.0.0.1:P2\n", "EINVAL", BSD_TCP_DROPPED);
    }

    #[test]
    fn connect_rules() {
        both("a = socket tcp4\nconnect a 127.0.0.1:P1\n", "ECONNREFUSED", BSD_TCP_CONNECT_REFUSED);
        both(&format!("{SERVER}connect c 127.0.0.1:P1\n"), "EISCONN", BSD_CONNECT_ERRORS);
        both("l = socket tcp4\nlisten l\nconnect l 127.0.0.1:@l\n", "EOPNOTSUPP", BSD_CONNECT_ERRORS);
        let r = run(&fbsd(), SERVER);
        assert_eq!(r[4], is("ok", BSD_TCP_CONNECT_LISTENER));
        assert_eq!(r[5], is("ok", BSD_TCP_ACCEPT));
        both("a = socket udp4\nconnect a 127.0.0.1:P1\nconnect a 127.0.0.1:P2\n", "ok", BSD_UDP_CONNECT);
        both("a = socket udp4\nconnect a 127.0.0.1:0\n", "EADDRNOTAVAIL", BSD_CONNECT_PORT_ZERO);
        assert_eq!(
            last(&fbsd(), "a = socket tcp4\nconnect a 127.0.0.1:P1\nconnect a 127.0.0.1:P1\n"),
            is("ECONNREFUSED", FREEBSD_DROPPED_CONNECT)
        );
        assert_eq!(
            last(&mac(), "a = socket tcp4\nconnect a 127.0.0.1:P1\nconnect a 127.0.0.1:P1\n"),
            is("EINVAL", MACOS_DEAD_CONNECT)
        );
    }

    #[test]
    fn connect_families() {
        assert_eq!(
            last(&fbsd(), "a = socket tcp6\nconnect a [::ffff:127.0.0.1]:P1\n"),
            is("EINVAL", BSD_CONNECT_FAMILY)
        );
        assert_eq!(
            last(&mac(), "a = socket tcp6\nset a v6only on\nconnect a [::ffff:127.0.0.1]:P1\n"),
            is("EAFNOSUPPORT", BSD_CONNECT_FAMILY)
        );
        both(
            "a = socket tcp6\nset a v6only off\nbind a [::1]:P2\nconnect a [::ffff:127.0.0.1]:P1\n",
            "EAFNOSUPPORT",
            BSD_CONNECT_FAMILY,
        );
        assert_eq!(
            last(&mac(), "a = socket udp6\nbind a [::ffff:127.0.0.1]:P2\nconnect a [::1]:P1\n"),
            is("EINVAL", MACOS_UDP_V6ONLY_MAPPED)
        );
        assert_eq!(
            last(&mac(), "a = socket udp6\nset a v6only on\nconnect a [::ffff:127.0.0.1]:P1\n"),
            is("{EADDRNOTAVAIL,EHOSTUNREACH,EINVAL,ENETUNREACH}", MACOS_UDP_V6ONLY_MAPPED)
        );
        both("a = socket tcp4\nconnect a [::1]:P1\n", "EAFNOSUPPORT", BSD_WRONG_FAMILY);
    }

    #[test]
    fn syn_to_a_bound_socket_that_does_not_listen() {
        let text = "l = socket tcp4\nb = socket tcp4\nbind l 0.0.0.0:P1\nlisten l\nset b reuseaddr on\nbind b 127.0.0.1:P1\nc = socket tcp4\nconnect c 127.0.0.1:P1\n";
        assert_eq!(last(&fbsd(), text), is("ECONNREFUSED", FREEBSD_SYN_TO_CLOSED));
        assert_eq!(last(&mac(), text), is("ETIMEDOUT", MACOS_SYN_TO_CLOSED));
    }

    #[test]
    fn tuple_in_use_and_self_connect() {
        // The client's old connection waits in FIN_WAIT_2 (the server is open).
        let text = "l = socket tcp4\nbind l 127.0.0.1:P1\nlisten l\nc = socket tcp4\nbind c 127.0.0.1:P2\nconnect c 127.0.0.1:P1\nclose c\nn = socket tcp4\nset n reuseaddr on\nbind n 127.0.0.1:P2\nconnect n 127.0.0.1:P1\n";
        both(text, "EADDRINUSE", BSD_TCP_TUPLE_IN_USE);
        let selfc = "a = socket tcp4\nbind a 127.0.0.1:P1\nconnect a 127.0.0.1:P1\n";
        assert_eq!(last(&fbsd(), selfc), is("ok", BSD_TCP_SELF_CONNECT));
        assert_eq!(last(&mac(), selfc), is("EINVAL", MACOS_SELF_CONNECT));
        assert_eq!(
            last(&mac(), "a = socket tcp6\nbind a [::1]:P1\nconnect a [::1]:P1\n"),
            is("ok", BSD_TCP_SELF_CONNECT)
        );
    }

    #[test]
    fn accept_rules() {
        both("l = socket tcp4\nlisten l\nx = accept l\n", "EAGAIN", BSD_TCP_ACCEPT);
        both("l = socket tcp4\nx = accept l\n", "EINVAL", BSD_TCP_ACCEPT);
        both("l = socket udp4\nx = accept l\n", "EINVAL", BSD_TCP_ACCEPT);
        let aborted = "l = socket tcp4\nlisten l\nc = socket tcp4\nconnect c 127.0.0.1:@l\nset c linger0 on\nclose c\nx = accept l\n";
        both(aborted, "ECONNABORTED", BSD_TCP_ACCEPT);
    }

    #[test]
    fn closing_a_listener_resets_its_queue() {
        let text =
            "l = socket tcp4\nlisten l\nc = socket tcp4\nconnect c 127.0.0.1:@l\nclose l\nconnect c 127.0.0.1:P1\n";
        let m = run(&mac(), text);
        assert_eq!(m[4], is("ok", BSD_TCP_LISTENER_CLOSE));
        assert_eq!(m[5], is("ECONNRESET", MACOS_DEAD_CONNECT));
        assert_eq!(last(&fbsd(), text), is("ECONNREFUSED", FREEBSD_DROPPED_CONNECT));
        both("a = socket udp4\nclose a\n", "ok", BSD_CLOSE);
    }

    // ---- delivery --------------------------------------------------------------------

    #[test]
    fn delivery_order_and_ties() {
        let text = "a = socket tcp4\nb = socket tcp6\nset b v6only off\nbind a 0.0.0.0:P1\nbind b [::]:P1\nlisten a\nlisten b\nprobe tcp4 127.0.0.1:P1\nprobe tcp6 [::1]:P1\n";
        let f = run(&fbsd(), text);
        assert_eq!(f[7], is("->a", FREEBSD_DELIVER_ORDER));
        assert_eq!(f[8], is("->b", FREEBSD_DELIVER_ORDER));
        assert_eq!(run(&mac(), text)[7], is("->a", MACOS_DELIVER_ORDER));
        let tie = "a = socket udp4\nb = socket udp4\nset a reuseport on\nset b reuseport on\nbind a 0.0.0.0:P1\nbind b 0.0.0.0:P1\nprobe udp4 127.0.0.1:P1\n";
        assert_eq!(last(&fbsd(), tie), is("{->a,->b}", FREEBSD_DELIVER_ORDER));
        assert_eq!(last(&mac(), tie), is("{->a,->b}", MACOS_DELIVER_ORDER));
        both("probe udp4 127.0.0.1:P1\n", "->none", BSD_DELIVER_NONE);
        both("probe tcp4 127.0.0.1:P1\n", "ECONNREFUSED", BSD_DELIVER_NONE);
    }

    #[test]
    fn unreachable_127_0_0_2() {
        assert_eq!(
            last(&mac(), "a = socket tcp4\nconnect a 127.0.0.2:P1\n"),
            is("{ECONNREFUSED,EHOSTUNREACH,ENETUNREACH,ETIMEDOUT}", BSD_LOOPBACK_127_ONLY)
        );
        assert_eq!(last(&fbsd(), "probe udp4 127.0.0.2:P1\n"), is("{->none,ENETUNREACH}", BSD_LOOPBACK_127_ONLY));
        assert_eq!(last(&mac(), "a = socket udp4\nconnect a 127.0.0.2:P1\n"), is("ok", BSD_UDP_CONNECT));
    }

    #[test]
    fn every_rule_id_is_documented_and_versioned_rules_apply_to_their_versions() {
        for m in [fbsd(), fbsd_at("11"), fbsd_at("14"), mac()] {
            let ids = m.rule_ids();
            assert!(ids.iter().all(|id| RULES.iter().any(|r| r.id == *id)));
        }
        assert!(fbsd().rule_ids().contains(&FREEBSD_UID));
        assert!(!fbsd().rule_ids().contains(&FREEBSD_UID_LB_EXCEPTION));
        assert!(fbsd_at("13").rule_ids().contains(&FREEBSD_UID_LB_EXCEPTION));
        assert!(!fbsd_at("11").rule_ids().contains(&FREEBSD_REUSEPORT_LB_BIND));
        assert!(!mac().rule_ids().iter().any(|id| id.starts_with("freebsd.")));
        assert!(!fbsd().rule_ids().contains(&FREEBSD_JAIL) && !mac().rule_ids().contains(&MACOS_NETNS));
        for id in NEVER_EMITTED {
            let r = RULES.iter().find(|r| r.id == *id).unwrap();
            assert!(r.meaning.contains("Not reachable") || r.meaning.contains("never emitted"), "{id}");
        }
    }
}
