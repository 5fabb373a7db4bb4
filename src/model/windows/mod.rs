//! The `windows` model: Windows Server 2003 and later (Vista, 7, 10, 11)
//! as described in `docs/semantics/windows.md`, checked cell by cell
//! against Microsoft's tables ("Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE")
//! and Wine's `test_reuseaddr`, which passes on real Windows. One rule per
//! decision; where the sources disagree or say nothing, the model predicts
//! the set of outcomes they allow. Rule ids and sources: [`super::rules`].
//!
//! Words used below: N is the socket now binding, E a socket already
//! holding the port. A bound socket occupies *stack slots*: an IPv4 address
//! on the IPv4 stack, a plain IPv6 address on the IPv6 stack, a v4-mapped
//! address (dual-stack socket) on the IPv4 stack, and a dual-stack `[::]`
//! with SO_EXCLUSIVEADDRUSE both wildcards. Only the options a socket had
//! when it was bound count (`Sock::bound_opts`).
//!
//! One file per concern, in the order of the rule table: options here,
//! then [`bind`], [`listen`], [`connect`], [`accept`], [`close`] and
//! [`deliver`]. The model knows no layer laid over it.

mod accept;
mod bind;
mod close;
mod connect;
mod deliver;
mod listen;
#[cfg(test)]
pub(crate) mod tests;

pub(crate) use bind::{Hold, commit_bind};
pub(crate) use connect::{Attempt, connect_state, udp_connected, with_child};
pub(crate) use listen::start_listening;

use super::kit::{Statements, answer, choice, errors};
use super::rules::*;
use super::state::{SlotState, Sock, SockId, State};
use super::{Model, Prediction, StepCtx, fail, ok, rule_ids_of};
use crate::case::{Addr, Family, Kind, Op, Slot, SockOpt};
use crate::outcome::{Errno, Outcome};
use crate::platform::{ModelSpec, Platform, Version};

use Errno::*;

/// The Windows model.
#[derive(Clone, Debug)]
pub struct Windows {
    version: Option<Version>,
}

impl Windows {
    /// The model of `version` (`None`: the newest behaviour known).
    pub fn new(version: Option<Version>) -> Windows {
        Windows { version }
    }

    /// Windows XP and older: no enhanced socket security.
    pub(super) fn legacy(&self) -> bool {
        self.version.as_ref().is_some_and(|v| !v.at_least(&[5, 2]))
    }
}

/// Each statement's answer, by concern: the options below, `bind.rs`,
/// `listen.rs`, `connect.rs`, `accept.rs`, `close.rs`, `deliver.rs`
/// (probe).
impl Statements for Windows {
    const DEAD: &'static str = WINDOWS_DEAD_NAME;
    const CLOSE: &'static str = WINDOWS_CLOSE;

    fn socket(&self, st: &State, slot: Slot, kind: Kind, other: bool) -> Prediction {
        let mut ns = st.clone();
        // Rule 3: IPv6 sockets start v6only.
        let id = ns.add(Sock::new(kind, other, true));
        ns.slots[slot as usize] = SlotState::Live(id);
        let rule = if kind.family == Family::V6 { WINDOWS_V6ONLY_DEFAULT } else { WINDOWS_SOCKET };
        ok(rule, ns)
    }

    fn set(&self, st: &State, id: SockId, opt: SockOpt, on: bool) -> Prediction {
        set(st, id, opt, on)
    }

    fn bind(&self, st: &State, id: SockId, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
        bind::bind(self, st, id, addr, ctx)
    }

    fn listen(&self, st: &State, id: SockId, ctx: &StepCtx<'_>) -> Prediction {
        listen::listen(st, id, ctx)
    }

    fn connect(&self, st: &State, id: SockId, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
        connect::connect(self, st, id, addr, ctx)
    }

    fn accept(&self, st: &State, slot: Slot, lid: SockId, dead: State) -> Prediction {
        accept::accept(st, slot, lid, dead)
    }

    fn close_tcp(&self, st: &State, ns: State, id: SockId, s: Sock) -> Prediction {
        close::close_tcp(st, ns, id, s)
    }

    fn probe(&self, st: &State, kind: Kind, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
        deliver::probe(self, st, kind, addr, ctx)
    }
}

impl Model for Windows {
    fn spec(&self) -> ModelSpec {
        ModelSpec::versioned(Platform::Windows, self.version.clone())
    }

    fn init(&self, prog: &crate::case::Program) -> State {
        State::new(prog.slots())
    }

    fn step(&self, st: &State, op: &Op, ctx: &StepCtx<'_>) -> Prediction {
        answer(self, st, op, ctx)
    }

    fn rule_ids(&self) -> Vec<&'static str> {
        rule_ids_of(&["windows"]).into_iter().filter(|id| super::rules::applies(id, self.version.as_ref())).collect()
    }
}

pub(super) fn set(st: &State, id: SockId, opt: SockOpt, on: bool) -> Prediction {
    let s = st.sock(id);
    let mut ns = st.clone();
    let o = &mut ns.sock_mut(id).opts;
    let bound = s.local.is_some();
    match opt {
        SockOpt::ReusePort | SockOpt::ReusePortLb => fail(WINDOWS_UNKNOWN_OPTION, ENOPROTOOPT, st),
        SockOpt::V6Only if s.kind.family == Family::V4 => errors(WINDOWS_V6ONLY_ON_V4, &[EINVAL, ENOPROTOOPT], st),
        SockOpt::V6Only if bound => fail(WINDOWS_V6ONLY_AFTER_BIND, EINVAL, st),
        SockOpt::V6Only => {
            o.v6only = on;
            ok(WINDOWS_OPTION_SET, ns)
        }
        SockOpt::ReuseAddr | SockOpt::ExclusiveAddrUse => {
            // Rule 1: the two options exclude each other (checked on the current values).
            let clash = on && if opt == SockOpt::ReuseAddr { s.opts.exclusive } else { s.opts.reuseaddr };
            if clash {
                return fail(WINDOWS_OPTION_EXCLUSIVE, EINVAL, st);
            }
            if opt == SockOpt::ReuseAddr {
                o.reuseaddr = on;
            } else {
                o.exclusive = on;
            }
            if !bound {
                return ok(WINDOWS_OPTION_SET, ns);
            }
            // docs/semantics/windows.md#open-question-7: accepted or refused, it changes nothing for the bound socket.
            choice(WINDOWS_OPTION_TIMING, vec![(Outcome::Ok, ns), (Outcome::Err(EINVAL), st.clone())])
        }
        SockOpt::Linger0 => {
            o.linger0 = on;
            ok(WINDOWS_LINGER0, ns)
        }
    }
}
