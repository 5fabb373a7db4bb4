//! The `freebsd` and `macos` models: one BSD core (the 4.4BSD bind check,
//! the pcb lookups, TCP's life cycle) with the two kernels' differences as
//! named rules, from `docs/semantics/bsd.md` checked against FreeBSD
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

mod bind;
mod close;
mod connect;
mod deliver;
mod listen;
mod options;
#[cfg(test)]
mod tests;

use super::kit::{Statements, answer, source_for};
use super::rules::*;
use super::state::{Endpoint, SlotState, Sock, SockId, State, Tcp};
use super::{Model, Prediction, StepCtx, ok, rule_ids_of};
use crate::case::{Addr, Family, Kind, Op, Slot, SockOpt};
use crate::model::kit;
use crate::platform::{ModelSpec, Platform, Version};

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

impl Model for Bsd {
    fn spec(&self) -> ModelSpec {
        let platform = if self.fb() { Platform::FreeBsd } else { Platform::MacOs };
        ModelSpec::versioned(platform, self.version.clone())
    }

    fn step(&self, st: &State, op: &Op, ctx: &StepCtx<'_>) -> Prediction {
        answer(self, st, op, ctx)
    }

    fn rule_ids(&self) -> Vec<&'static str> {
        let family = if self.fb() { "freebsd" } else { "macos" };
        rule_ids_of(&["bsd", family])
            .into_iter()
            .filter(|id| applies(id, self.version.as_ref()) && !NEVER_EMITTED.contains(id))
            .collect()
    }
}

/// Each statement's answer, by concern: `options.rs`, `bind.rs`,
/// `listen.rs`, `connect.rs` (connect and accept), `close.rs`,
/// `deliver.rs` (probe).
impl Statements for Bsd {
    const DEAD: &'static str = BSD_DEAD_NAME;
    const CLOSE: &'static str = BSD_CLOSE;

    fn socket(&self, st: &State, slot: Slot, kind: Kind, other: bool) -> Prediction {
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

    fn set(&self, st: &State, id: SockId, opt: SockOpt, on: bool) -> Prediction {
        options::set(self, st, id, opt, on)
    }

    fn bind(&self, st: &State, id: SockId, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
        bind::bind(self, st, id, addr, ctx)
    }

    fn listen(&self, st: &State, id: SockId, ctx: &StepCtx<'_>) -> Prediction {
        listen::listen(self, st, id, ctx)
    }

    fn connect(&self, st: &State, id: SockId, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
        connect::connect(self, st, id, addr, ctx)
    }

    fn accept(&self, st: &State, slot: Slot, lid: SockId, dead: State) -> Prediction {
        connect::accept(st, slot, lid, dead)
    }

    fn close_tcp(&self, st: &State, ns: State, id: SockId, s: Sock) -> Prediction {
        close::close_tcp(self, st, ns, id, s)
    }

    fn probe(&self, st: &State, kind: Kind, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
        deliver::probe(self, st, kind, addr, ctx)
    }
}

/// The two lookup tables: IPv4 (`inp_vflag & INP_IPV4`) and IPv6.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Table {
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
pub(super) fn view(s: &Sock, table: Table) -> Option<Addr> {
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
pub(super) fn dual(s: &Sock) -> bool {
    view(s, Table::V4).is_some() && view(s, Table::V6).is_some()
}

pub(super) fn is_wild(a: Addr) -> bool {
    matches!(a, Addr::Any4 | Addr::Any6)
}

/// The socket has a foreign address (connected, accepted, closing).
pub(super) fn connected(s: &Sock) -> bool {
    s.peer.is_some()
}

/// The table and address a bind of `addr` uses: a v4-mapped address on a
/// tcp6/udp6 socket without v6only is an IPv4 bind.
pub(super) fn bind_target(s: &Sock, addr: Addr) -> (Table, Addr) {
    match s.kind.family {
        Family::V4 => (Table::V4, addr),
        Family::V6 if addr.is_mapped() && !s.opts.v6only => (Table::V4, addr.as_v4().unwrap_or(addr)),
        Family::V6 => (Table::V6, addr),
    }
}

/// The source address a connect from `s` to `dst` uses: its bound
/// address, or (unbound or wildcard) the one that reaches `dst`.
pub(super) fn source_of(s: &Sock, dst: Addr) -> Addr {
    match s.local {
        Some(l) if !l.addr.is_wildcard() => l.addr,
        _ => source_for(s.kind.family, dst),
    }
}

/// The implicit bind of connect: socket `id` takes source address `src`
/// and, if it holds no port yet, an ephemeral one; its peer is `peer`.
pub(super) fn attach(ns: &mut State, id: SockId, src: Addr, peer: Endpoint, observed: Option<u16>) {
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
pub(super) fn establish(ns: &mut State, id: SockId) {
    let s = ns.sock_mut(id);
    s.tcp = Tcp::Established;
    s.connected_once = true;
    s.group = None;
}

/// A TCP socket's connection is dropped (refused, reset, timed out): it
/// holds no port any more and refuses everything.
pub(super) fn drop_sock(st: &mut State, id: SockId, error_pending: bool) {
    let s = st.sock_mut(id);
    s.tcp = Tcp::Reset;
    s.local = None;
    s.peer = None;
    s.link = None;
    s.group = None;
    s.connected_once = error_pending;
}

/// A RST reaches socket `x` from its peer ([`kit::reset`]): an open
/// connection is dropped, with ECONNRESET pending.
pub(super) fn reset(st: &mut State, x: SockId) {
    kit::reset(st, x, |s| {
        s.local = None;
        s.peer = None;
        s.group = None;
        s.connected_once = true;
    });
}
