//! The `linux` model: Linux 6.8+ (checked on 6.18) as described in
//! `docs/semantics/linux.md`, one rule per decision, checks in the order
//! the kernel makes them. Rule ids and sources: [`super::rules`].

mod bind;
mod close;
mod connect;
mod deliver;
mod listen;
mod options;
#[cfg(test)]
mod tests;

pub(super) use deliver::{tcp_listeners, udp_receivers};

use super::PortVal;
use super::kit::{Statements, answer, wildcard};
use super::rules::*;
use super::state::{SlotState, Sock, SockId, State};
use super::{Model, Prediction, StepCtx, ok, rule_ids_of};
use crate::case::{Addr, Family, Kind, Op, Slot, SockOpt};
use crate::platform::{ModelSpec, Platform, Version};

/// The Linux model.
#[derive(Clone, Debug)]
pub struct Linux {
    version: Option<Version>,
    /// `net.ipv6.bindv6only`: new IPv6 sockets start v6only.
    bindv6only: bool,
    /// The role-lock variant ([`LINUX_TCP_ROLE_LOCK`]).
    role_lock: bool,
    /// The mapped-any-missed variant ([`LINUX_TCP_MAPPED_ANY_MISSED`]).
    mapped_any_missed: bool,
}

impl Linux {
    /// The upstream model of `version` (newest known if `None`).
    pub fn new(version: Option<Version>, bindv6only: bool) -> Linux {
        Linux { version, bindv6only, role_lock: false, mapped_any_missed: false }
    }

    /// The same model with the role-lock variant on or off.
    pub fn with_role_lock(self, on: bool) -> Linux {
        Linux { role_lock: on, ..self }
    }

    /// The same model with the mapped-any-missed variant on or off.
    pub fn with_mapped_any_missed(self, on: bool) -> Linux {
        Linux { mapped_any_missed: on, ..self }
    }

    /// Kernels before 6.8 (the bhash2 rework) kept both memos from the
    /// port's first owner.
    fn before_6_8(&self) -> bool {
        self.version.as_ref().is_some_and(|v| !v.at_least(&[6, 8]))
    }

    /// Kernels before 6.18 (d57f4b874946, "tcp: Update bind bucket state
    /// on port release") keep a port's memo while any socket holds it.
    fn before_6_18(&self) -> bool {
        self.version.as_ref().is_some_and(|v| !v.at_least(&[6, 18]))
    }
}

impl Model for Linux {
    fn spec(&self) -> ModelSpec {
        let mut spec = ModelSpec::versioned(Platform::Linux, self.version.clone());
        if self.role_lock {
            spec.variants.insert(super::variants::name_of(LINUX_TCP_ROLE_LOCK).to_string());
        }
        if self.mapped_any_missed {
            spec.variants.insert(super::variants::name_of(LINUX_TCP_MAPPED_ANY_MISSED).to_string());
        }
        spec
    }

    fn step(&self, st: &State, op: &Op, ctx: &StepCtx<'_>) -> Prediction {
        let mut p = answer(self, st, op, ctx);
        for b in &mut p.branches {
            prune_memos(&mut b.state, self.before_6_18());
        }
        p
    }

    fn rule_ids(&self) -> Vec<&'static str> {
        let spec = self.spec();
        rule_ids_of(&["linux"])
            .into_iter()
            .filter(|id| super::rules::applies(id, self.version.as_ref()) && super::variants::allows(id, &spec))
            .collect()
    }
}

/// Each statement's answer, by concern: `options.rs`, `bind.rs`,
/// `listen.rs`, `connect.rs` (connect and accept), `close.rs`,
/// `deliver.rs` (probe).
impl Statements for Linux {
    const DEAD: &'static str = LINUX_DEAD_NAME;
    const CLOSE: &'static str = LINUX_CLOSE;

    fn socket(&self, st: &State, slot: Slot, kind: Kind, other: bool) -> Prediction {
        let mut ns = st.clone();
        let id = ns.add(Sock::new(kind, other, self.bindv6only));
        ns.slots[slot as usize] = SlotState::Live(id);
        ok(LINUX_SOCKET, ns)
    }

    fn set(&self, st: &State, id: SockId, opt: SockOpt, on: bool) -> Prediction {
        options::set(st, id, opt, on)
    }

    fn bind(&self, st: &State, id: SockId, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
        bind::bind(self, st, id, addr, ctx)
    }

    fn listen(&self, st: &State, id: SockId, ctx: &StepCtx<'_>) -> Prediction {
        listen::listen(self, st, id, ctx)
    }

    fn connect(&self, st: &State, id: SockId, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
        connect::connect(st, id, addr, ctx)
    }

    fn accept(&self, st: &State, slot: Slot, lid: SockId, dead: State) -> Prediction {
        connect::accept(st, slot, lid, dead)
    }

    fn close_tcp(&self, st: &State, ns: State, id: SockId, s: Sock) -> Prediction {
        close::close_tcp(st, ns, id, s)
    }

    fn probe(&self, st: &State, kind: Kind, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
        deliver::probe(self, st, kind, addr, ctx)
    }
}

/// A port's memo lives while the port has an owner. Since 6.18
/// (d57f4b874946, "tcp: Update bind bucket state on port release") it is
/// reset once only sockets bound by connect hold the port; before, it
/// outlives the release of every socket that bind or listen gave the port
/// (rule linux.tcp.memo-outlives-release).
fn prune_memos(st: &mut State, before_6_18: bool) {
    let socks = &st.socks;
    let held = |p: PortVal, bound: bool| {
        socks.iter().any(|s| s.is_tcp() && s.port() == Some(p) && (!bound || !s.connect_bound))
    };
    st.memos.retain_mut(|(p, m)| {
        if held(*p, true) {
            return true;
        }
        m.outlived = true;
        before_6_18 && held(*p, false)
    });
}

/// Binding a plain (not v4-mapped, not wildcard) IPv6 address makes the
/// socket v6only (`__inet6_bind` sets `sk_ipv6only`); an address that
/// connect fills in does not.
pub(super) fn forces_v6only(family: Family, addr: Addr) -> bool {
    family == Family::V6 && addr == Addr::Lo6
}

/// The address an unbound socket binds when it gets a port by itself: the
/// one it kept under SOCK_BINDADDR_LOCK, else the wildcard.
pub(super) fn kept_addr(s: &Sock) -> Addr {
    match s.bound_addr {
        Some(a) if s.addr_locked => a,
        _ => wildcard(s.kind.family),
    }
}

/// Whether binding `addr` sets SOCK_BINDADDR_LOCK: any IPv4 address but
/// 0.0.0.0, any IPv6 address but `[::]` (so `[::ffff:0.0.0.0]` locks).
pub(super) fn locks_addr(addr: Addr) -> bool {
    !matches!(addr, Addr::Any4 | Addr::Any6)
}

/// Two sockets "are the same user" for the reuseport test.
pub(super) fn same_uid(a: &Sock, b: &Sock) -> bool {
    a.other == b.other
}
