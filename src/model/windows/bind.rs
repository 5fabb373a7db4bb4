//! Binding (rules windows.any.option-* to windows.udp.same-as-tcp as they
//! decide a bind): stack slots, the verdict of every holder of the port,
//! and the bind itself.

use super::Windows;
use crate::case::{Addr, Family, Proto};
use crate::model::kit::*;
use crate::model::rules::*;
use crate::model::state::*;
use crate::model::{PortArg, Prediction, StepCtx};
use crate::outcome::{Errno, Outcome};

use Errno::*;

/// What a socket asked for at bind time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Share {
    /// Neither option.
    Default,
    /// SO_REUSEADDR.
    Reuse,
    /// SO_EXCLUSIVEADDRUSE.
    Excl,
}

pub(crate) fn share(o: &Opts) -> Share {
    if o.exclusive {
        Share::Excl
    } else if o.reuseaddr {
        Share::Reuse
    } else {
        Share::Default
    }
}

/// The two network stacks, with separate tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stack {
    V4,
    V6,
}

/// Why a slot is there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Plain,
    /// The IPv4 wildcard of a dual-stack exclusive `[::]` (rule 15).
    DualExcl,
    /// The IPv4 check of a dual-stack `[::]` without the exclusive option
    /// (docs/semantics/windows.md#open-question-3): only for the binding socket.
    DualShared,
}

/// One stack slot: a stack, an address on it (`0.0.0.0`/`[::]` for the
/// wildcards), and whether it came from a v4-mapped address.
#[derive(Clone, Copy, Debug)]
struct StackSlot {
    stack: Stack,
    addr: Addr,
    role: Role,
    mapped: bool,
}

impl StackSlot {
    fn wild(&self) -> bool {
        matches!(self.addr, Addr::Any4 | Addr::Any6)
    }
}

/// The slots a socket of `family` bound to `addr` occupies; `binding`: the
/// slots it is checked on while it binds (adds rule 16's IPv4 check).
fn stack_slots(family: Family, addr: Addr, v6only: bool, sh: Share, binding: bool) -> Vec<StackSlot> {
    let slot = |stack, addr, role| StackSlot { stack, addr, role, mapped: false };
    match (family, addr) {
        (Family::V4, a) => vec![slot(Stack::V4, a, Role::Plain)],
        (Family::V6, Addr::Any6) => {
            let mut v = vec![slot(Stack::V6, Addr::Any6, Role::Plain)];
            if !v6only && sh == Share::Excl {
                v.push(slot(Stack::V4, Addr::Any4, Role::DualExcl));
            } else if !v6only && binding {
                v.push(slot(Stack::V4, Addr::Any4, Role::DualShared));
            }
            v
        }
        (Family::V6, a) if a.is_mapped() => {
            vec![StackSlot { stack: Stack::V4, addr: a.as_v4().unwrap_or(a), role: Role::Plain, mapped: true }]
        }
        (Family::V6, a) => vec![slot(Stack::V6, a, Role::Plain)],
    }
}

/// How two slots on one stack relate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Relation {
    Same,
    /// E wildcard, N specific.
    EWild,
    /// E specific, N wildcard.
    NWild,
    Disjoint,
}

fn relation(n: &StackSlot, e: &StackSlot) -> Relation {
    if n.addr == e.addr {
        Relation::Same
    } else if e.wild() && !n.wild() {
        Relation::EWild
    } else if n.wild() && !e.wild() {
        Relation::NWild
    } else {
        Relation::Disjoint
    }
}

/// One holder's answer to N on one pair of slots: the outcomes it allows
/// and the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Verdict {
    outs: Vec<Outcome>,
    rule: &'static str,
}

impl Verdict {
    fn new(rule: &'static str, outs: &[Outcome]) -> Verdict {
        Verdict { outs: outs.to_vec(), rule }
    }
    fn allows_ok(&self) -> bool {
        self.outs.contains(&Outcome::Ok)
    }
}

const OK: Outcome = Outcome::Ok;
const INUSE: Outcome = Outcome::Err(EADDRINUSE);
const ACCESS: Outcome = Outcome::Err(EACCES);

/// The two parties of a pair: slot, options and owner.
#[derive(Clone, Copy)]
struct Party {
    slot: StackSlot,
    sh: Share,
    other: bool,
}

/// Rules 7-14 (and 15-16 for the dual-stack roles, 25 for XP) for one pair
/// of slots on the same stack.
fn judge(n: Party, e: Party, legacy: bool, udp: bool) -> Verdict {
    use Share::*;
    let rel = relation(&n.slot, &e.slot);
    if rel == Relation::Disjoint {
        return Verdict::new(WINDOWS_TCP_DISJOINT, &[OK]);
    }
    if legacy {
        return match (n.sh, e.sh) {
            (Reuse, Excl) => Verdict::new(WINDOWS_LEGACY_XP, &[ACCESS]),
            (Reuse, _) => Verdict::new(WINDOWS_LEGACY_XP, &[OK]),
            _ => Verdict::new(WINDOWS_LEGACY_XP, &[INUSE]),
        };
    }
    if e.slot.role == Role::DualExcl {
        // Rule 15: the IPv4 wildcard an exclusive dual-stack socket holds.
        return match (rel, n.sh) {
            (Relation::Same, Excl) => Verdict::new(WINDOWS_DUAL_STACK_EXCL, &[ACCESS, INUSE]),
            (Relation::Same, _) if n.slot.role == Role::DualShared => {
                Verdict::new(WINDOWS_DUAL_STACK_SHARED, &[ACCESS, OK])
            }
            _ => Verdict::new(WINDOWS_DUAL_STACK_EXCL, &[ACCESS]),
        };
    }
    if n.slot.role == Role::DualExcl && rel == Relation::NWild {
        // Wine's Windows-passing row 6 says EADDRINUSE, Microsoft's text EACCES.
        return Verdict::new(WINDOWS_DUAL_STACK_EXCL, &[ACCESS, INUSE]);
    }
    let plain = match rel {
        Relation::Same => {
            let wild = n.slot.wild();
            match (n.sh, e.sh) {
                (Excl, Excl) if wild => Verdict::new(WINDOWS_TCP_SAME_EXCL_NEW, &[ACCESS, INUSE]),
                (Excl, _) => Verdict::new(WINDOWS_TCP_SAME_EXCL_NEW, &[INUSE]),
                (Reuse, Excl) => Verdict::new(WINDOWS_TCP_SAME_EXCL_OLD, &[ACCESS]),
                (Default, Excl) if wild => Verdict::new(WINDOWS_TCP_SAME_EXCL_OLD, &[ACCESS, INUSE]),
                (Default, Excl) => Verdict::new(WINDOWS_TCP_SAME_EXCL_OLD, &[INUSE]),
                (Reuse, Reuse) => Verdict::new(WINDOWS_TCP_SAME_REUSE_BOTH, &[OK]),
                (Reuse, Default) => Verdict::new(WINDOWS_TCP_SAME_REUSE_NEW_ONLY, &[ACCESS]),
                (Default, _) => Verdict::new(WINDOWS_TCP_SAME_DEFAULT, &[INUSE]),
            }
        }
        Relation::EWild => match (n.sh, e.sh) {
            (_, Excl) => Verdict::new(WINDOWS_TCP_E_WILD, &[ACCESS]),
            (Reuse, Reuse) => Verdict::new(WINDOWS_TCP_E_WILD, &[OK]),
            _ if n.other == e.other => Verdict::new(WINDOWS_TCP_E_WILD, &[OK]),
            // open question 5 (docs/semantics/windows.md#open-question-5): whether the user rule applies to UDP is not known.
            _ if udp => Verdict::new(WINDOWS_TCP_E_WILD, &[ACCESS, OK]),
            _ => Verdict::new(WINDOWS_TCP_E_WILD, &[ACCESS]),
        },
        Relation::NWild => match n.sh {
            Excl => Verdict::new(WINDOWS_TCP_N_WILD, &[INUSE]),
            _ => Verdict::new(WINDOWS_TCP_N_WILD, &[OK]),
        },
        Relation::Disjoint => unreachable!("handled above"),
    };
    match n.slot.role {
        // docs/semantics/windows.md#open-question-3: Microsoft says the IPv4 stack is checked too, Wine does not check it.
        Role::DualShared if !plain.allows_ok() => {
            let mut outs = plain.outs;
            outs.push(OK);
            Verdict { outs, rule: WINDOWS_DUAL_STACK_SHARED }
        }
        Role::DualShared => Verdict { outs: plain.outs, rule: WINDOWS_DUAL_STACK_SHARED },
        Role::DualExcl => Verdict { outs: plain.outs, rule: WINDOWS_DUAL_STACK_EXCL },
        Role::Plain if n.slot.mapped || e.slot.mapped => Verdict { outs: plain.outs, rule: WINDOWS_V4MAPPED },
        Role::Plain => plain,
    }
}

/// How a socket holds its port, for bind checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hold {
    /// Reserved by a bind (or a UDP socket's implicit bind).
    Reserved,
    /// Only a connection holds it: an accepted socket, a TCP socket bound by connect.
    Connection,
    /// A closed connection still in TIME_WAIT (or waiting for its FIN).
    TimeWait,
}

pub(crate) fn hold_of(s: &Sock) -> Option<Hold> {
    if !s.holds_port() {
        return None;
    }
    Some(match s.life {
        Life::Live if s.bound_addr.is_some() => Hold::Reserved,
        Life::Live | Life::Pending { .. } => Hold::Connection,
        Life::Orphan { .. } => Hold::TimeWait,
        Life::Gone => return None,
    })
}

/// The result of the bind checks: allowed outcomes and the deciding rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BindCheck {
    pub outs: Vec<Outcome>,
    pub rule: &'static str,
    /// Holders that only a connection or TIME_WAIT keeps overlap N.
    pub connection_overlap: Option<Hold>,
    /// A holder of another user overlaps N as a wildcard (rule 13).
    pub other_user_overlap: bool,
}

impl Windows {
    /// Rules 7-18 and 22 (and 25, 31): every holder of the port judged against N.
    pub(crate) fn check_bind(&self, st: &State, id: SockId, n: &Sock, addr: Addr, port: PortVal) -> BindCheck {
        let proto = n.kind.proto;
        let udp = proto == Proto::Udp;
        let n_sh = share(&n.opts);
        let n_slots = stack_slots(n.kind.family, addr, n.opts.v6only, n_sh, true);
        let mut refusals: Vec<Verdict> = Vec::new();
        let mut allowing: Vec<Verdict> = Vec::new();
        let mut other_stack = false;
        let mut dual_shared_holder = false;
        let mut connection_overlap = None;
        let mut other_user_overlap = false;
        for t_id in st.holders(proto, port, Some(id)) {
            let t = st.sock(t_id);
            let Some(hold) = hold_of(t) else { continue };
            let t_addr = match hold {
                Hold::Reserved => t.bound_addr.unwrap_or(Addr::Any4),
                _ => t.local.map(|l| l.addr).unwrap_or(Addr::Any4),
            };
            let t_sh = share(&t.bound_opts);
            let t_slots = stack_slots(t.kind.family, t_addr, t.bound_opts.v6only, t_sh, false);
            // Rule 16: a dual-stack [::] without the exclusive option leaves IPv4 alone.
            dual_shared_holder |= t.kind.family == Family::V6
                && t_addr == Addr::Any6
                && !t.bound_opts.v6only
                && t_sh != Share::Excl
                && n_slots.iter().any(|s| s.stack == Stack::V4);
            for ns in &n_slots {
                for ts in &t_slots {
                    if ns.stack != ts.stack {
                        other_stack = true;
                        continue;
                    }
                    let np = Party { slot: *ns, sh: n_sh, other: n.other };
                    let ep = Party { slot: *ts, sh: t_sh, other: t.other };
                    let v = judge(np, ep, self.legacy(), udp);
                    if relation(ns, ts) == Relation::EWild && n.other != t.other {
                        other_user_overlap = true;
                    }
                    let v = match hold {
                        Hold::Reserved => v,
                        _ if relation(ns, ts) == Relation::Disjoint => v,
                        // Rules 31 and connection-port: it may or may not keep N out.
                        _ => {
                            connection_overlap = Some(hold);
                            let rule = if hold == Hold::TimeWait {
                                WINDOWS_TCP_TIME_WAIT
                            } else {
                                WINDOWS_TCP_CONNECTION_PORT
                            };
                            Verdict::new(rule, &[INUSE, OK])
                        }
                    };
                    if v.allows_ok() { allowing.push(v) } else { refusals.push(v) }
                }
            }
        }
        let mut outs: Vec<Outcome> = Vec::new();
        let rule;
        if let Some(first) = refusals.first() {
            // open question 6 (docs/semantics/windows.md#open-question-6): which error wins between holders is not known: all of them.
            rule = first.rule;
            for v in refusals.iter().chain(&allowing) {
                outs.extend(v.outs.iter().filter(|o| !o.is_ok()).cloned());
            }
        } else {
            outs.push(OK);
            let open = allowing.iter().find(|v| v.outs.len() > 1);
            let relevant = allowing.iter().find(|v| v.rule != WINDOWS_TCP_DISJOINT);
            rule = match (open, relevant, allowing.first()) {
                (Some(v), _, _) | (None, Some(v), _) | (None, None, Some(v)) => v.rule,
                _ if dual_shared_holder => WINDOWS_DUAL_STACK_SHARED,
                _ if other_stack => WINDOWS_V6_SEPARATE,
                _ => WINDOWS_BIND_FREE,
            };
            for v in &allowing {
                outs.extend(v.outs.iter().cloned());
            }
        }
        let mut seen = Vec::new();
        outs.retain(|o| {
            if seen.contains(o) {
                false
            } else {
                seen.push(o.clone());
                true
            }
        });
        let rule = if udp && rule != WINDOWS_BIND_FREE { WINDOWS_UDP_SAME_AS_TCP } else { rule };
        BindCheck { outs, rule, connection_overlap, other_user_overlap }
    }
}

impl Windows {
    /// The prediction for a bind with these allowed outcomes: ok commits the
    /// bind; an error leaves the socket unbound (rule 6).
    pub(crate) fn bind_outcomes(
        &self,
        st: &State,
        id: SockId,
        addr: Addr,
        port: PortVal,
        outs: &[Outcome],
        rule: &'static str,
    ) -> Prediction {
        let branches = outs
            .iter()
            .map(|o| {
                let mut ns = st.clone();
                if o.is_ok() {
                    commit_bind(&mut ns, id, addr, port, true);
                }
                (o.clone(), ns)
            })
            .collect();
        choice(rule, branches)
    }
}

pub(super) fn bind(m: &Windows, st: &State, id: SockId, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
    let s = st.sock(id);
    let port = match ctx.port {
        Some(PortArg::Val(p)) => Some(p),
        _ => None,
    };
    if addr.family() != s.kind.family {
        // Which check comes first on a bound socket is not documented.
        let bound = s.local.is_some() || s.connect_bound || s.connected_once;
        let errs: &[Errno] = if bound { &[EFAULT, EINVAL] } else { &[EFAULT] };
        return errors(WINDOWS_BIND_FAMILY, errs, st);
    }
    // (A socket bound by connect stays bound, even where the model
    // lost its port: Wine states after a refused connect.)
    if s.local.is_some() || s.connect_bound || s.connected_once {
        return fail(WINDOWS_BIND_TWICE, EINVAL, st);
    }
    if addr == Addr::TestNet {
        return fail(WINDOWS_BIND_NONLOCAL, EADDRNOTAVAIL, st);
    }
    if addr.is_mapped() && s.opts.v6only {
        // open question 4 (docs/semantics/windows.md#open-question-4): the code is not documented.
        return errors(WINDOWS_V4MAPPED, &[EADDRNOTAVAIL, EINVAL], st);
    }
    let Some(port) = port else {
        let mut ns = st.clone();
        let p = ns.ephemeral(ctx.observed);
        commit_bind(&mut ns, id, addr, p, false);
        return ok(WINDOWS_PORT_ZERO, ns);
    };
    let check = m.check_bind(st, id, s, addr, port);
    m.bind_outcomes(st, id, addr, port, &check.outs, check.rule)
}

/// Records a successful bind.
pub(crate) fn commit_bind(ns: &mut State, id: SockId, addr: Addr, port: PortVal, explicit: bool) {
    let seq = ns.tick();
    let s = ns.sock_mut(id);
    s.local = Some(Endpoint { addr, port });
    s.port_locked = explicit;
    s.bound_addr = Some(addr);
    s.bound_opts = s.opts;
    s.seq = seq;
}
