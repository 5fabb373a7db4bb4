//! The `windows` model: Windows Server 2003 and later (Vista, 7, 10, 11)
//! as described in `docs/semantics/windows.md`, checked cell by cell
//! against Microsoft's tables ("Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE")
//! and Wine's `test_reuseaddr`, which passes on real Windows. One rule per
//! decision; where the sources disagree or say nothing, the model predicts
//! the set of outcomes they allow. Rule ids and sources: [`super::rules`].
//!
//! The same code also runs in the Wine flavour ([`super::wine::Wine`]):
//! there the places where Wine decides differently call into
//! [`super::wine`] and report `wine.*` rules.
//!
//! Words used below: N is the socket now binding, E a socket already
//! holding the port. A bound socket occupies *stack slots*: an IPv4 address
//! on the IPv4 stack, a plain IPv6 address on the IPv6 stack, a v4-mapped
//! address (dual-stack socket) on the IPv4 stack, and a dual-stack `[::]`
//! with SO_EXCLUSIVEADDRUSE both wildcards. Only the options a socket had
//! when it was bound count (`Sock::bound_opts`).

use super::kit::{pending_of, same_endpoint, source_for, wildcard};
use super::rules::*;
use super::state::{Endpoint, Life, Opts, PortVal, SlotState, Sock, SockId, State, Tcp, View};
use super::{Branch, Model, PortArg, Prediction, StepCtx, begin_close, fail, ok, rule_ids_of};
use crate::case::{Addr, Family, Kind, Op, Proto, Slot, SockOpt};
use crate::outcome::{Errno, Outcome};
use crate::platform::{ModelSpec, Platform, Version};

use Errno::*;

/// Which system the code describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flavor {
    Windows,
    /// Wine on Linux: `super::wine` decides where Wine differs.
    Wine,
}

/// The Windows model.
#[derive(Clone, Debug)]
pub struct Windows {
    version: Option<Version>,
    pub(super) flavor: Flavor,
}

impl Windows {
    /// The model of `version` (`None`: the newest behaviour known).
    pub fn new(version: Option<Version>) -> Windows {
        Windows { version, flavor: Flavor::Windows }
    }

    /// The same rules in Wine's flavour (used by [`super::wine::Wine`]).
    pub(super) fn wine(version: Option<Version>) -> Windows {
        Windows { version, flavor: Flavor::Wine }
    }

    fn is_wine(&self) -> bool {
        self.flavor == Flavor::Wine
    }

    /// Windows XP and older: no enhanced socket security.
    fn legacy(&self) -> bool {
        !self.is_wine() && self.version.as_ref().is_some_and(|v| !v.at_least(&[5, 2]))
    }
}

/// Several allowed outcomes, each with its state, decided by one rule.
pub(super) fn choice(rule: &'static str, branches: Vec<(Outcome, State)>) -> Prediction {
    let mut out: Vec<Branch> = Vec::new();
    for (outcome, state) in branches {
        if !out.iter().any(|b| b.outcome == outcome && b.state == state) {
            out.push(Branch { outcome, state });
        }
    }
    Prediction { rule, branches: out }
}

/// Errors that leave the state as it was.
pub(super) fn fail_set(rule: &'static str, errs: &[Errno], st: &State) -> Prediction {
    choice(rule, errs.iter().map(|e| (Outcome::Err(*e), st.clone())).collect())
}

/// The live socket of a slot, or the EBADF answer for a dead name.
fn live(st: &State, slot: Slot) -> Result<SockId, Prediction> {
    super::live(st, slot, WINDOWS_DEAD_NAME)
}

/// What a socket asked for at bind time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Share {
    /// Neither option.
    Default,
    /// SO_REUSEADDR.
    Reuse,
    /// SO_EXCLUSIVEADDRUSE.
    Excl,
}

pub(super) fn share(o: &Opts) -> Share {
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
pub(super) enum Hold {
    /// Reserved by a bind (or a UDP socket's implicit bind).
    Reserved,
    /// Only a connection holds it: an accepted socket, a TCP socket bound by connect.
    Connection,
    /// A closed connection still in TIME_WAIT (or waiting for its FIN).
    TimeWait,
}

pub(super) fn hold_of(s: &Sock) -> Option<Hold> {
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
pub(super) struct BindCheck {
    pub outs: Vec<Outcome>,
    pub rule: &'static str,
    /// Holders that only a connection or TIME_WAIT keeps overlap N.
    pub connection_overlap: Option<Hold>,
    /// A holder of another user overlaps N as a wildcard (rule 13).
    pub other_user_overlap: bool,
}

impl Windows {
    /// Rules 7-18 and 22 (and 25, 31): every holder of the port judged against N.
    pub(super) fn check_bind(&self, st: &State, id: SockId, n: &Sock, addr: Addr, port: PortVal) -> BindCheck {
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

impl Model for Windows {
    fn spec(&self) -> ModelSpec {
        let platform = if self.is_wine() { Platform::Wine } else { Platform::Windows };
        ModelSpec::versioned(platform, self.version.clone())
    }

    fn init(&self, prog: &crate::case::Program) -> State {
        State::new(prog.slots())
    }

    fn step(&self, st: &State, op: &Op, ctx: &StepCtx<'_>) -> Prediction {
        match *op {
            Op::Socket { slot, kind, other } => {
                let mut ns = st.clone();
                // Rule 3: IPv6 sockets start v6only.
                let id = ns.add(Sock::new(kind, other, true));
                ns.slots[slot as usize] = SlotState::Live(id);
                let rule = if kind.family == Family::V6 { WINDOWS_V6ONLY_DEFAULT } else { WINDOWS_SOCKET };
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
        let families: &[&str] = if self.is_wine() { &["windows", "wine"] } else { &["windows"] };
        rule_ids_of(families).into_iter().filter(|id| super::rules::applies(id, self.version.as_ref())).collect()
    }
}

impl Windows {
    fn set(&self, st: &State, slot: Slot, opt: SockOpt, on: bool) -> Prediction {
        let id = match live(st, slot) {
            Ok(id) => id,
            Err(p) => return p,
        };
        let s = st.sock(id);
        let mut ns = st.clone();
        let o = &mut ns.sock_mut(id).opts;
        let bound = s.local.is_some();
        match opt {
            SockOpt::ReusePort | SockOpt::ReusePortLb => fail(WINDOWS_UNKNOWN_OPTION, ENOPROTOOPT, st),
            SockOpt::V6Only if self.is_wine() => super::wine::set_v6only(st, id, on),
            SockOpt::V6Only if s.kind.family == Family::V4 => {
                fail_set(WINDOWS_V6ONLY_ON_V4, &[EINVAL, ENOPROTOOPT], st)
            }
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
                if self.is_wine() {
                    return ok(WINE_OPTIONS_AFTER_BIND, ns);
                }
                choice(WINDOWS_OPTION_TIMING, vec![(OK, ns), (Outcome::Err(EINVAL), st.clone())])
            }
            SockOpt::Linger0 => {
                o.linger0 = on;
                ok(WINDOWS_LINGER0, ns)
            }
        }
    }

    fn bind(&self, st: &State, slot: Slot, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
        let id = match live(st, slot) {
            Ok(id) => id,
            Err(p) => return p,
        };
        let s = st.sock(id);
        let port = match ctx.port {
            Some(PortArg::Val(p)) => Some(p),
            _ => None,
        };
        if self.is_wine() {
            return super::wine::bind(self, st, id, addr, port, ctx);
        }
        if addr.family() != s.kind.family {
            // Which check comes first on a bound socket is not documented.
            let bound = s.local.is_some() || s.connect_bound || s.connected_once;
            let errs: &[Errno] = if bound { &[EFAULT, EINVAL] } else { &[EFAULT] };
            return fail_set(WINDOWS_BIND_FAMILY, errs, st);
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
            return fail_set(WINDOWS_V4MAPPED, &[EADDRNOTAVAIL, EINVAL], st);
        }
        let Some(port) = port else {
            let mut ns = st.clone();
            let p = ns.ephemeral(ctx.observed);
            commit_bind(&mut ns, id, addr, p, false);
            return ok(WINDOWS_PORT_ZERO, ns);
        };
        let check = self.check_bind(st, id, s, addr, port);
        self.bind_outcomes(st, id, addr, port, &check.outs, check.rule)
    }

    /// The prediction for a bind with these allowed outcomes: ok commits the
    /// bind; an error leaves the socket unbound (rule 6).
    pub(super) fn bind_outcomes(
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

    fn listen(&self, st: &State, slot: Slot, ctx: &StepCtx<'_>) -> Prediction {
        let id = match live(st, slot) {
            Ok(id) => id,
            Err(p) => return p,
        };
        let s = st.sock(id);
        if self.is_wine() {
            return super::wine::listen(st, id, ctx);
        }
        if !s.is_tcp() {
            // The reference names both codes; which check comes first is not documented.
            let errs: &[Errno] = if s.local.is_none() { &[EINVAL, EOPNOTSUPP] } else { &[EOPNOTSUPP] };
            return fail_set(WINDOWS_LISTEN, errs, st);
        }
        if s.local.is_none() {
            return fail(WINDOWS_LISTEN, EINVAL, st);
        }
        if s.tcp == Tcp::Listen {
            return ok(WINDOWS_LISTEN, st.clone());
        }
        if s.connected_once || s.tcp != Tcp::Closed {
            return fail(WINDOWS_LISTEN, EISCONN, st);
        }
        let mut ns = st.clone();
        start_listening(&mut ns, id, ctx);
        if s.bound_addr.is_none() {
            // Bound only by a connect that failed: not documented.
            return choice(WINDOWS_LISTEN, vec![(OK, ns), (Outcome::Err(EINVAL), st.clone())]);
        }
        // Rule 19: sharing the address with another socket does not matter.
        let shared = st
            .holders(Proto::Tcp, s.local.expect("bound").port, Some(id))
            .into_iter()
            .any(|t| hold_of(st.sock(t)) == Some(Hold::Reserved));
        ok(if shared { WINDOWS_TCP_LISTEN_NO_CONFLICT } else { WINDOWS_LISTEN }, ns)
    }

    fn connect(&self, st: &State, slot: Slot, dst: Addr, ctx: &StepCtx<'_>) -> Prediction {
        let id = match live(st, slot) {
            Ok(id) => id,
            Err(p) => return p,
        };
        let Some(PortArg::Val(dport)) = ctx.port else {
            return fail(WINDOWS_TCP_CONNECT, ECONNREFUSED, st);
        };
        let s = st.sock(id);
        if s.is_tcp() {
            if s.tcp == Tcp::Listen {
                return fail(WINDOWS_TCP_CONNECT, EINVAL, st);
            }
            if s.connected_once {
                return fail(WINDOWS_TCP_CONNECT, EISCONN, st);
            }
            if s.tcp == Tcp::SynSent {
                return fail(WINDOWS_TCP_CONNECT, EALREADY, st);
            }
            if self.is_wine() && s.connect_failed {
                // Linux still has the socket connecting: this connect only ends that.
                let mut ns = st.clone();
                ns.sock_mut(id).connect_failed = false;
                return Prediction::one(WINE_LINUX_ERRORS, Outcome::Err(ECONNABORTED), ns);
            }
        }
        let mut base = st.clone();
        if self.is_wine() && !s.is_tcp() && s.local.is_none() {
            // Linux binds a UDP socket before it looks at the address; Wine
            // counts it bound only if the connect succeeds.
            // If the connect fails, getsockname knows no port: the model neither.
            let sm = base.sock_mut(id);
            sm.connect_bound = true;
            sm.connect_failed = true;
        }
        let local = s.local.map(|l| l.addr);
        if let Some(p) = self.family_refusal(&base, s.kind.family, s.opts.v6only, local, dst, s.kind.proto) {
            return p;
        }
        if !s.is_tcp() {
            return self.connect_udp(&base, id, dst, dport, ctx);
        }
        let dst = peer_form(s.kind.family, dst);
        let mut ns = st.clone();
        if self.is_wine() && s.kind.family == Family::V6 {
            if s.mapped_ops && !dst.is_mapped() {
                ns.sock_mut(id).tcp = Tcp::SynSent;
                return Prediction::one(WINE_TCP_MAPPED_OPS, Outcome::Err(ETIMEDOUT), ns);
            }
            ns.sock_mut(id).mapped_ops |= dst.is_mapped();
        }
        // Rule 29: an unbound socket is bound first; the binding stays.
        match ns.sock(id).local {
            None => {
                let p = ns.ephemeral(ctx.observed);
                autobind(&mut ns, id, Addr::Any4, p);
            }
            // The OS may have given the port back after a failed connect.
            Some(_) if s.connect_bound && s.bound_addr.is_none() => {
                if let (Some(p), Some(l)) = (ctx.observed, ns.sock_mut(id).local.as_mut()) {
                    l.port = PortVal::Eph(p);
                }
            }
            Some(_) => {}
        }
        let me = ns.sock(id).clone();
        let l = me.local.expect("bound");
        let src = if l.addr.is_wildcard() { source_for(me.kind.family, dst) } else { l.addr };
        let peer = Endpoint { addr: dst, port: dport };
        let connected = |ns: &mut State| {
            let sm = ns.sock_mut(id);
            sm.local = Some(Endpoint { addr: src, port: l.port });
            sm.tcp = Tcp::Established;
            sm.connected_once = true;
            sm.peer = Some(peer);
            // Linux under Wine: the SYN-ACK sets sk_incoming_cpu.
            sm.received = true;
        };
        if self.is_wine() && s.local.is_some() {
            // Linux: a bound socket's 4-tuple must be unused; a TIME_WAIT
            // entry holding it is taken over (timestamps are on).
            let me_view = View::of(me.kind.family, src, me.opts.v6only);
            for t_id in st.holders(Proto::Tcp, l.port, Some(id)) {
                let t = st.sock(t_id);
                if t.view() == Some(me_view) && t.peer.is_some_and(|p| same_endpoint(p, peer)) {
                    if t.life != (Life::Orphan { tw: true }) {
                        return fail(WINE_LINUX_ERRORS, EADDRNOTAVAIL, st);
                    }
                    ns.sock_mut(t_id).life = Life::Gone;
                }
            }
        }
        if same_endpoint(Endpoint { addr: src, port: l.port }, peer) {
            let mut yes = ns.clone();
            connected(&mut yes);
            if self.is_wine() {
                return ok(WINE_LINUX_ERRORS, yes);
            }
            return choice(WINDOWS_TCP_CONNECT, vec![(OK, yes), (Outcome::Err(ECONNREFUSED), ns)]);
        }
        let (listeners, _) = self.tcp_listeners(st, dst, dport);
        if listeners.is_empty() {
            if self.is_wine() {
                // Linux gives a port that bind did not lock back; Wine still
                // counts the socket as bound (connect_bound).
                let sm = ns.sock_mut(id);
                sm.connect_failed = true;
                // The RST sets sk_incoming_cpu (linux.tcp.deliver-incoming-cpu).
                sm.received = true;
                if !sm.port_locked {
                    sm.local = None;
                }
            }
            return Prediction::one(WINDOWS_TCP_CONNECT, Outcome::Err(ECONNREFUSED), ns);
        }
        connected(&mut ns);
        let branches =
            listeners.into_iter().map(|lid| (OK, with_child(&ns, lid, id, dst))).collect::<Vec<(Outcome, State)>>();
        choice(WINDOWS_TCP_CONNECT, branches)
    }

    fn connect_udp(&self, st: &State, id: SockId, dst: Addr, dport: PortVal, ctx: &StepCtx<'_>) -> Prediction {
        // Where Windows would refuse the peer's family, Wine is Linux.
        let s = st.sock(id);
        let windows_refuses = self.is_wine()
            && Windows { version: self.version.clone(), flavor: Flavor::Windows }
                .family_refusal(st, s.kind.family, s.opts.v6only, s.local.map(|l| l.addr), dst, s.kind.proto)
                .is_some();
        let mut ns = st.clone();
        ns.sock_mut(id).connect_failed = false;
        let family = ns.sock(id).kind.family;
        if ns.sock(id).local.is_none() {
            let p = ns.ephemeral(ctx.observed);
            autobind(&mut ns, id, wildcard(family), p);
            ns.sock_mut(id).bound_addr = Some(wildcard(family));
        }
        let dst = peer_form(family, dst);
        let sm = ns.sock_mut(id);
        if let Some(l) = sm.local.as_mut() {
            if l.addr.is_wildcard() {
                l.addr = source_for(family, dst);
            }
        }
        sm.peer = Some(Endpoint { addr: dst, port: dport });
        ok(if windows_refuses { WINE_UDP_CONNECT } else { WINDOWS_UDP_CONNECT }, ns)
    }

    /// Family checks of connect and of a probe's socket: `None` if the
    /// socket can use `dst`.
    fn family_refusal(
        &self,
        st: &State,
        family: Family,
        v6only: bool,
        local: Option<Addr>,
        dst: Addr,
        proto: Proto,
    ) -> Option<Prediction> {
        if self.is_wine() {
            return super::wine::connect_family(st, family, v6only, local, dst, proto);
        }
        let bad = match (family, dst.family()) {
            (Family::V4, Family::V6) | (Family::V6, Family::V4) => Some(&[EAFNOSUPPORT, EFAULT][..]),
            (Family::V6, _) if dst.is_mapped() && v6only => Some(&[EADDRNOTAVAIL, ENETUNREACH][..]),
            (Family::V6, _) if local.is_some_and(|l| l.is_mapped() != dst.is_mapped() && !l.is_wildcard()) => {
                Some(&[EADDRNOTAVAIL, ENETUNREACH][..])
            }
            _ => None,
        };
        bad.map(|errs| fail_set(WINDOWS_V6_CONNECT, errs, st))
    }

    fn accept(&self, st: &State, slot: Slot, listener: Slot) -> Prediction {
        let mut dead = st.clone();
        dead.slots[slot as usize] = SlotState::Dead;
        let lid = match live(st, listener) {
            Ok(id) => id,
            Err(_) => return fail(WINDOWS_DEAD_NAME, EBADF, &dead),
        };
        let l = st.sock(lid);
        if !l.is_tcp() {
            return fail(WINDOWS_TCP_ACCEPT, EOPNOTSUPP, &dead);
        }
        if l.tcp != Tcp::Listen {
            if self.is_wine() && l.listen_refused {
                return fail(WINE_TCP_HOST_REUSEADDR, EINVAL, &dead);
            }
            return fail(WINDOWS_TCP_ACCEPT, EINVAL, &dead);
        }
        let Some(child) = pending_of(st, lid).into_iter().next() else {
            return fail(WINDOWS_TCP_ACCEPT, EAGAIN, &dead);
        };
        let mut ns = st.clone();
        let c = ns.sock_mut(child);
        c.life = Life::Live;
        c.connected_once = true;
        let reset = c.tcp == Tcp::Reset;
        ns.slots[slot as usize] = SlotState::Live(child);
        if reset && !self.is_wine() {
            // The client reset it before accept: WSAECONNRESET is documented for this.
            let mut gone = st.clone();
            gone.sock_mut(child).life = Life::Gone;
            gone.slots[slot as usize] = SlotState::Dead;
            return choice(WINDOWS_TCP_ACCEPT, vec![(OK, ns), (Outcome::Err(ECONNRESET), gone)]);
        }
        // Linux hands a reset connection out like any other.
        ok(if reset { WINE_LINUX_ERRORS } else { WINDOWS_TCP_ACCEPT }, ns)
    }

    fn close(&self, st: &State, slot: Slot) -> Prediction {
        let (mut ns, id, s) = match begin_close(st, slot, WINDOWS_DEAD_NAME, WINDOWS_CLOSE) {
            Ok(t) => t,
            Err(p) => return p,
        };
        let rule = match s.tcp {
            Tcp::Listen => {
                // Connections still queued are reset.
                for c in pending_of(st, id) {
                    if let Some(peer) = ns.sock(c).link {
                        reset(&mut ns, peer, self.is_wine());
                    }
                    ns.sock_mut(c).life = Life::Gone;
                }
                ns.sock_mut(id).life = Life::Gone;
                WINDOWS_CLOSE
            }
            Tcp::Closed | Tcp::Reset | Tcp::SynSent => {
                ns.sock_mut(id).life = Life::Gone;
                WINDOWS_CLOSE
            }
            Tcp::Established | Tcp::CloseWait => match s.link {
                Some(peer) if s.opts.linger0 => {
                    ns.sock_mut(id).life = Life::Gone;
                    reset(&mut ns, peer, self.is_wine());
                    WINDOWS_LINGER0
                }
                None if s.opts.linger0 => {
                    ns.sock_mut(id).life = Life::Gone;
                    WINDOWS_LINGER0
                }
                Some(peer) if s.tcp == Tcp::CloseWait => {
                    // The peer closed first: nothing is left behind here.
                    ns.sock_mut(id).life = Life::Gone;
                    ns.sock_mut(peer).link = None;
                    WINDOWS_CLOSE
                }
                Some(peer) => {
                    ns.sock_mut(id).life = Life::Orphan { tw: true };
                    if matches!(ns.sock(peer).life, Life::Live | Life::Pending { .. }) {
                        ns.sock_mut(peer).tcp = Tcp::CloseWait;
                    }
                    WINDOWS_TCP_TIME_WAIT
                }
                None => {
                    ns.sock_mut(id).life = Life::Orphan { tw: true };
                    WINDOWS_TCP_TIME_WAIT
                }
            },
        };
        ok(rule, ns)
    }

    fn probe(&self, st: &State, kind: Kind, addr: Addr, ctx: &StepCtx<'_>) -> Prediction {
        let Some(PortArg::Val(port)) = ctx.port else {
            return fail(WINDOWS_TCP_CONNECT, ECONNREFUSED, st);
        };
        // The prober is a fresh socket: v6only on, unbound.
        if let Some(p) = self.family_refusal(st, kind.family, true, None, addr, kind.proto) {
            return p;
        }
        if self.is_wine() {
            return super::wine::probe(self, st, kind, addr, port, ctx);
        }
        let dst = peer_form(kind.family, addr);
        let (found, rule) =
            if kind.proto == Proto::Tcp { self.tcp_listeners(st, dst, port) } else { udp_receivers(st, dst, port) };
        if found.is_empty() {
            return if kind.proto == Proto::Tcp {
                fail(WINDOWS_TCP_CONNECT, ECONNREFUSED, st)
            } else {
                Prediction::one(WINDOWS_UDP_DELIVER, Outcome::ToNone, st.clone())
            };
        }
        choice(rule, found.into_iter().map(|r| (receiver_name(st, r, ctx), st.clone())).collect())
    }

    /// Rules 20-21: the listeners that may get a connection to `dst:port`,
    /// the expected one first.
    fn tcp_listeners(&self, st: &State, dst: Addr, port: PortVal) -> (Vec<SockId>, &'static str) {
        if self.is_wine() {
            return super::linux::tcp_listeners(st, dst, port);
        }
        let ids: Vec<SockId> = (0..st.socks.len() as SockId)
            .filter(|&i| {
                let s = st.sock(i);
                s.is_tcp() && s.life == Life::Live && s.tcp == Tcp::Listen && s.port() == Some(port)
            })
            .collect();
        best_matches(st, &ids, dst, WINDOWS_TCP_DELIVER_SPECIFIC, WINDOWS_TCP_DELIVER_OLDEST)
    }
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

/// The outcome naming the socket that received a probe.
pub(super) fn receiver_name(st: &State, id: SockId, ctx: &StepCtx<'_>) -> Outcome {
    let slot = st.slots.iter().position(|s| *s == SlotState::Live(id));
    match slot.and_then(|s| ctx.names.get(s)) {
        Some(n) => Outcome::To(n.clone()),
        None => Outcome::ToNone,
    }
}

/// A destination in the form a socket of `family` sends to (IPv4 written
/// v4-mapped on an IPv6 socket).
fn peer_form(family: Family, dst: Addr) -> Addr {
    if family == Family::V6 { dst.to_mapped() } else { dst }
}

/// Records a successful bind.
pub(super) fn commit_bind(ns: &mut State, id: SockId, addr: Addr, port: PortVal, explicit: bool) {
    let seq = ns.tick();
    let s = ns.sock_mut(id);
    s.local = Some(Endpoint { addr, port });
    s.port_locked = explicit;
    s.bound_addr = Some(addr);
    s.bound_opts = s.opts;
    s.seq = seq;
}

/// A socket bound by connect.
pub(super) fn autobind(ns: &mut State, id: SockId, addr: Addr, port: PortVal) {
    let seq = ns.tick();
    let s = ns.sock_mut(id);
    let addr = if s.kind.family == Family::V6 && addr.family() == Family::V4 { Addr::Any6 } else { addr };
    s.local = Some(Endpoint { addr, port });
    s.connect_bound = true;
    s.bound_opts = s.opts;
    s.seq = seq;
}

/// Turns a bound socket into a listener (the port is the observed one if
/// the OS had to pick one).
pub(super) fn start_listening(ns: &mut State, id: SockId, ctx: &StepCtx<'_>) {
    let s = ns.sock_mut(id);
    s.tcp = Tcp::Listen;
    s.listen_refused = false;
    // A socket whose port the OS took back (Linux, after a refused
    // connect) gets a new one: follow the real one.
    if let (Some(p), Some(l)) = (ctx.observed, s.local.as_mut()) {
        if matches!(l.port, PortVal::Eph(_)) {
            l.port = PortVal::Eph(p);
        }
    }
}

/// A new connection from `client` waiting in `listener`'s queue.
pub(super) fn with_child(ns: &State, listener: SockId, client: SockId, dst: Addr) -> State {
    let mut st = ns.clone();
    let l = st.sock(listener).clone();
    let c = st.sock(client).clone();
    let addr = if l.kind.family == Family::V6 { dst.to_mapped() } else { dst.as_v4().unwrap_or(dst) };
    let port = l.local.expect("listener is bound").port;
    let seq = st.tick();
    let mut child = Sock::new(l.kind, l.other, l.opts.v6only);
    child.opts = l.opts;
    child.bound_opts = l.bound_opts;
    child.local = Some(Endpoint { addr, port });
    child.tcp = Tcp::Established;
    child.peer = c.local;
    child.link = Some(client);
    child.life = Life::Pending { of: listener };
    child.seq = seq;
    let cid = st.add(child);
    st.sock_mut(client).link = Some(cid);
    st
}

/// A reset reaches socket `x`.
/// `linux_frees`: Linux (under Wine) gives back a port bind did not lock.
pub(super) fn reset(st: &mut State, x: SockId, linux_frees: bool) {
    let s = st.sock_mut(x);
    match s.life {
        Life::Orphan { .. } => s.life = Life::Gone,
        Life::Live | Life::Pending { .. } => {
            if matches!(s.tcp, Tcp::Established | Tcp::CloseWait) {
                s.tcp = Tcp::Reset;
                s.link = None;
                if linux_frees && !s.port_locked && s.bound_addr.is_none() {
                    s.local = None;
                }
            }
        }
        Life::Gone => {}
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::case::{compile, parse};
    use crate::model::Belief;

    /// Runs a case through a model alone: outcome set and rule per step.
    pub(crate) fn predict_with(m: &dyn Model, text: &str) -> Vec<(String, &'static str)> {
        let case = parse("t", text).unwrap();
        let prog = compile(&case).unwrap();
        let mut belief = Belief::new(m, &prog);
        let mut out = Vec::new();
        for op in &prog.ops {
            let port = crate::model::resolve_port(&belief.states[0], op).expect("port");
            let ctx = StepCtx { names: &prog.names, port, observed: None };
            let (set, rule, branches) = belief.predict(m, op, &ctx);
            out.push((set.to_string(), rule));
            belief.advance(branches, None);
        }
        out
    }

    fn predict(text: &str) -> Vec<(String, &'static str)> {
        predict_with(&Windows::new(None), text)
    }

    /// The outcome and rule of a second bind: `first` and `second` are
    /// (kind, option, address) and `other` makes the second socket another user's.
    fn second_bind(first: (&str, &str, &str), second: (&str, &str, &str), other: bool) -> (String, &'static str) {
        let opt = |name: &str, o: &str| match o {
            "default" => String::new(),
            "reuse" => format!("set {name} reuseaddr on\n"),
            "excl" => format!("set {name} exclusiveaddruse on\n"),
            "dual" => format!("set {name} v6only off\n"),
            "dual-excl" => format!("set {name} v6only off\nset {name} exclusiveaddruse on\n"),
            _ => panic!("{o}"),
        };
        let text = format!(
            "a = socket {}\nb = socket {}{}\n{}{}bind a {}:P1\nbind b {}:P1\n",
            first.0,
            second.0,
            if other { " as other" } else { "" },
            opt("a", first.1),
            opt("b", second.1),
            first.2,
            second.2
        );
        predict(&text).pop().unwrap()
    }

    /// Microsoft's Windows Server 2003+ tables, every cell: rows are the
    /// first bind (option, wildcard/specific), columns the second.
    #[test]
    fn microsoft_tables_cell_by_cell() {
        let opts = ["default", "reuse", "excl"];
        let addrs = ["0.0.0.0", "127.0.0.1"];
        // Same user: rows Default W/S, Reuse W/S, Excl W/S; columns D-W, D-S, R-W, R-S, X-W, X-S.
        let same = [
            ["INUSE", "ok", "ACCESS", "ok", "INUSE", "ok"],
            ["ok", "INUSE", "ok", "ACCESS", "INUSE", "INUSE"],
            ["INUSE", "ok", "ok", "ok", "INUSE", "ok"],
            ["ok", "INUSE", "ok", "ok", "INUSE", "INUSE"],
            ["INUSE", "ACCESS", "ACCESS", "ACCESS", "INUSE", "ACCESS"],
            ["ok", "INUSE", "ok", "ACCESS", "INUSE", "INUSE"],
        ];
        let other = [
            ["INUSE", "ACCESS", "ACCESS", "ACCESS", "INUSE", "ACCESS"],
            ["ok", "INUSE", "ok", "ACCESS", "INUSE", "INUSE"],
            ["INUSE", "ACCESS", "ok", "ok", "INUSE", "ACCESS"],
            ["ok", "INUSE", "ok", "ok", "INUSE", "INUSE"],
            ["INUSE", "ACCESS", "ACCESS", "ACCESS", "INUSE", "ACCESS"],
            ["ok", "INUSE", "ok", "ACCESS", "INUSE", "INUSE"],
        ];
        for (table, as_other) in [(same, false), (other, true)] {
            for (r, row) in table.iter().enumerate() {
                for (c, want) in row.iter().enumerate() {
                    let first = ("tcp4", opts[r / 2], addrs[r % 2]);
                    let second = ("tcp4", opts[c / 2], addrs[c % 2]);
                    let (got, rule) = second_bind(first, second, as_other);
                    let want = match *want {
                        "INUSE" => "EADDRINUSE",
                        "ACCESS" => "EACCES",
                        w => w,
                    };
                    // The sets of open question 1 (docs/semantics/windows.md#open-question-1) contain the table's cell.
                    let members: Vec<&str> = got.trim_matches(|c| c == '{' || c == '}').split(',').collect();
                    assert!(members.contains(&want), "{first:?} then {second:?} other={as_other}: {got} ({rule})");
                    if !(r == 4 && c % 2 == 0) {
                        assert_eq!(members.len(), 1, "{first:?} then {second:?}: {got}");
                    }
                }
            }
        }
    }

    /// Wine's exclusive-use table (test_reuseaddr), which passes on Windows;
    /// IPv6 sockets there turn v6only off.
    #[test]
    fn wine_exclusive_table_rows() {
        let rows: [(&str, &str, &str, &str, &str, &str, &str); 21] = [
            ("tcp4", "excl", "0.0.0.0", "tcp4", "default", "127.0.0.1", "EACCES"),
            ("tcp6", "dual-excl", "[::]", "tcp4", "default", "127.0.0.1", "EACCES"),
            ("tcp4", "default", "0.0.0.0", "tcp4", "excl", "127.0.0.1", "ok"),
            ("tcp4", "excl", "0.0.0.0", "tcp4", "excl", "127.0.0.1", "EACCES"),
            ("tcp4", "excl", "127.0.0.1", "tcp4", "default", "0.0.0.0", "ok"),
            ("tcp4", "default", "127.0.0.1", "tcp4", "excl", "0.0.0.0", "EADDRINUSE"),
            ("tcp4", "default", "127.0.0.1", "tcp6", "dual-excl", "[::]", "EADDRINUSE"),
            ("tcp6", "dual", "[::1]", "tcp4", "excl", "0.0.0.0", "ok"),
            ("tcp6", "dual-excl", "[::1]", "tcp4", "excl", "127.0.0.1", "ok"),
            ("tcp6", "dual", "[::ffff:127.0.0.1]", "tcp4", "excl", "0.0.0.0", "EADDRINUSE"),
            ("tcp6", "dual-excl", "[::]", "tcp4", "default", "0.0.0.0", "EACCES"),
            ("tcp6", "dual", "[::]", "tcp4", "excl", "0.0.0.0", "ok"),
            ("tcp4", "default", "0.0.0.0", "tcp4", "excl", "0.0.0.0", "EADDRINUSE"),
            ("tcp4", "default", "0.0.0.0", "tcp4", "default", "0.0.0.0", "EADDRINUSE"),
            ("tcp6", "dual", "[::]", "tcp4", "default", "0.0.0.0", "ok"),
            ("tcp6", "dual", "[::ffff:0.0.0.0]", "tcp4", "default", "0.0.0.0", "EADDRINUSE"),
            ("tcp6", "dual", "[::ffff:127.0.0.1]", "tcp4", "default", "127.0.0.1", "EADDRINUSE"),
            ("tcp4", "default", "127.0.0.1", "tcp6", "dual", "[::ffff:127.0.0.1]", "EADDRINUSE"),
            ("tcp6", "dual-excl", "[::1]", "tcp4", "excl", "127.0.0.1", "ok"),
            ("tcp4", "excl", "127.0.0.1", "tcp4", "default", "127.0.0.1", "EADDRINUSE"),
            ("tcp4", "default", "127.0.0.1", "tcp4", "excl", "127.0.0.1", "EADDRINUSE"),
        ];
        for (i, (k1, o1, a1, k2, o2, a2, want)) in rows.iter().enumerate() {
            let (got, rule) = second_bind((k1, o1, a1), (k2, o2, a2), false);
            let members: Vec<&str> = got.trim_matches(|c| c == '{' || c == '}').split(',').collect();
            assert!(members.contains(want), "row {i}: {got} ({rule}), want {want}");
        }
        // Row 6: the sources disagree, so both codes are allowed.
        let (got, rule) = second_bind(("tcp4", "default", "127.0.0.1"), ("tcp6", "dual-excl", "[::]"), false);
        assert_eq!((got.as_str(), rule), ("{EACCES,EADDRINUSE}", WINDOWS_DUAL_STACK_EXCL));
    }

    #[test]
    fn the_seed_scenarios() {
        // Both SO_REUSEADDR: shared.
        let r = predict(
            "a = socket tcp4\nb = socket tcp4\nset a reuseaddr on\nset b reuseaddr on\nbind a 0.0.0.0:P1\nbind b 0.0.0.0:P1\n",
        );
        assert_eq!(r[5], ("ok".into(), WINDOWS_TCP_SAME_REUSE_BOTH));
        // Exclusive first, then a plain bind, then a SO_REUSEADDR bind.
        let r = predict(
            "a = socket tcp4\nb = socket tcp4\nset a exclusiveaddruse on\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\nset b reuseaddr on\nbind b 127.0.0.1:P1\n",
        );
        assert_eq!(r[4], ("EADDRINUSE".into(), WINDOWS_TCP_SAME_EXCL_OLD));
        assert_eq!(r[6], ("EACCES".into(), WINDOWS_TCP_SAME_EXCL_OLD));
        // Both options on one socket.
        let r = predict(
            "a = socket tcp4\nset a reuseaddr on\nset a exclusiveaddruse on\nset a reuseaddr off\nset a exclusiveaddruse on\nset a reuseaddr on\n",
        );
        assert_eq!(r[2], ("EINVAL".into(), WINDOWS_OPTION_EXCLUSIVE));
        assert_eq!(r[4].0, "ok");
        assert_eq!(r[5], ("EINVAL".into(), WINDOWS_OPTION_EXCLUSIVE));
    }

    #[test]
    fn options_count_at_bind_time() {
        let r = predict(
            "a = socket tcp4\nbind a 127.0.0.1:P1\nset a reuseaddr on\nb = socket tcp4\nset b reuseaddr on\nbind b 127.0.0.1:P1\n",
        );
        assert_eq!(r[2], ("{EINVAL,ok}".into(), WINDOWS_OPTION_TIMING));
        assert_eq!(r[5], ("EACCES".into(), WINDOWS_TCP_SAME_REUSE_NEW_ONLY));
    }

    #[test]
    fn v6only_starts_on_and_stacks_are_separate() {
        let r = predict("a = socket tcp6\nb = socket tcp4\nbind a [::]:P1\nbind b 0.0.0.0:P1\nset a v6only off\n");
        assert_eq!(r[0], ("ok".into(), WINDOWS_V6ONLY_DEFAULT));
        assert_eq!(r[3], ("ok".into(), WINDOWS_V6_SEPARATE));
        assert_eq!(r[4], ("EINVAL".into(), WINDOWS_V6ONLY_AFTER_BIND));
        let r = predict("a = socket tcp6\nbind a [::ffff:127.0.0.1]:P1\n");
        assert_eq!(r[1], ("{EADDRNOTAVAIL,EINVAL}".into(), WINDOWS_V4MAPPED));
    }

    #[test]
    fn a_dual_stack_wildcard_in_the_other_order_is_open() {
        let r = predict("a = socket tcp4\nb = socket tcp6\nset b v6only off\nbind a 0.0.0.0:P1\nbind b [::]:P1\n");
        assert_eq!(r[4], ("{EADDRINUSE,ok}".into(), WINDOWS_DUAL_STACK_SHARED));
    }

    #[test]
    fn bind_twice_retry_and_arguments() {
        let r = predict(
            "a = socket tcp4\nb = socket tcp4\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\nbind b 127.0.0.1:P2\nbind b 127.0.0.1:P3\nbind a 192.0.2.1:P4\n",
        );
        assert_eq!(r[3], ("EADDRINUSE".into(), WINDOWS_TCP_SAME_DEFAULT));
        assert_eq!(r[4], ("ok".into(), WINDOWS_BIND_FREE));
        assert_eq!(r[5], ("EINVAL".into(), WINDOWS_BIND_TWICE));
        let r = predict(
            "a = socket tcp4\nbind a 192.0.2.1:P1\nbind a [::1]:P1\nbind a 0.0.0.0:0\nb = socket udp4\nbind b 127.0.0.1:@a\n",
        );
        assert_eq!(r[1], ("EADDRNOTAVAIL".into(), WINDOWS_BIND_NONLOCAL));
        assert_eq!(r[2], ("EFAULT".into(), WINDOWS_BIND_FAMILY));
        assert_eq!(r[3], ("ok".into(), WINDOWS_PORT_ZERO));
        assert_eq!(r[5].0, "ok");
    }

    #[test]
    fn listening_changes_nothing_and_the_specific_listener_wins() {
        let r = predict(
            "a = socket tcp4\nb = socket tcp4\nbind a 0.0.0.0:P1\nlisten a\nbind b 127.0.0.1:P1\nlisten b\nprobe tcp4 127.0.0.1:P1\nprobe tcp4 127.0.0.2:P1\nx = socket tcp4\nlisten x\n",
        );
        assert_eq!(r[4], ("ok".into(), WINDOWS_TCP_E_WILD));
        assert_eq!(r[5], ("ok".into(), WINDOWS_TCP_LISTEN_NO_CONFLICT));
        assert_eq!(r[6], ("->b".into(), WINDOWS_TCP_DELIVER_SPECIFIC));
        assert_eq!(r[7], ("->a".into(), WINDOWS_TCP_DELIVER_SPECIFIC));
        assert_eq!(r[9], ("EINVAL".into(), WINDOWS_LISTEN));
    }

    #[test]
    fn shared_listeners_are_a_set_oldest_first() {
        let r = predict(
            "a = socket tcp4\nb = socket tcp4\nset a reuseaddr on\nset b reuseaddr on\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\nlisten a\nlisten b\nprobe tcp4 127.0.0.1:P1\nclose a\nprobe tcp4 127.0.0.1:P1\n",
        );
        assert_eq!(r[8], ("{->a,->b}".into(), WINDOWS_TCP_DELIVER_OLDEST));
        assert_eq!(r[10], ("->b".into(), WINDOWS_TCP_DELIVER_SPECIFIC));
    }

    #[test]
    fn udp_follows_tcp_and_delivers_to_one_of_the_sharers() {
        let r = predict(
            "a = socket udp4\nb = socket udp4\nset a reuseaddr on\nset b reuseaddr on\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\nprobe udp4 127.0.0.1:P1\nc = socket udp4\nbind c 127.0.0.1:P1\nprobe udp4 127.0.0.2:P1\n",
        );
        assert_eq!(r[5], ("ok".into(), WINDOWS_UDP_SAME_AS_TCP));
        assert_eq!(r[6], ("{->a,->b}".into(), WINDOWS_UDP_DELIVER));
        assert_eq!(r[8], ("EADDRINUSE".into(), WINDOWS_UDP_SAME_AS_TCP));
        assert_eq!(r[9], ("->none".into(), WINDOWS_UDP_DELIVER));
    }

    #[test]
    fn time_wait_and_connections_leave_the_bind_open() {
        let base =
            "l = socket tcp4\nbind l 127.0.0.1:P1\nlisten l\nc = socket tcp4\nconnect c 127.0.0.1:P1\ns = accept l\n";
        let r = predict(&format!("{base}close l\nn = socket tcp4\nbind n 127.0.0.1:P1\n"));
        assert_eq!(r.last().unwrap(), &("{EADDRINUSE,ok}".to_string(), WINDOWS_TCP_CONNECTION_PORT));
        let r = predict(&format!("{base}close l\nclose s\nn = socket tcp4\nbind n 127.0.0.1:P1\n"));
        assert_eq!(r[7].1, WINDOWS_TCP_TIME_WAIT);
        assert_eq!(r.last().unwrap(), &("{EADDRINUSE,ok}".to_string(), WINDOWS_TCP_TIME_WAIT));
        let r = predict(&format!("{base}set s linger0 on\nclose s\nclose l\nn = socket tcp4\nbind n 127.0.0.1:P1\n"));
        assert_eq!(r[7].1, WINDOWS_LINGER0);
        assert_eq!(r.last().unwrap().0, "ok");
    }

    #[test]
    fn connect_accept_and_listen_states() {
        let r = predict(
            "l = socket tcp4\nbind l 127.0.0.1:P1\nlisten l\nx = accept l\nc = socket tcp4\nconnect c 127.0.0.1:P1\nconnect c 127.0.0.1:P1\nlisten c\nconnect l 127.0.0.1:P1\ny = accept l\nd = socket tcp4\nconnect d 127.0.0.1:P2\nbind d 127.0.0.1:P3\nu = socket udp4\nlisten u\nz = accept u\n",
        );
        let got: Vec<&str> = r.iter().map(|(o, _)| o.as_str()).collect();
        assert_eq!(
            got,
            [
                "ok",
                "ok",
                "ok",
                "EAGAIN",
                "ok",
                "ok",
                "EISCONN",
                "EISCONN",
                "EINVAL",
                "ok",
                "ok",
                "ECONNREFUSED",
                "EINVAL",
                "ok",
                "{EINVAL,EOPNOTSUPP}",
                "EOPNOTSUPP"
            ]
        );
        assert_eq!(r[11].1, WINDOWS_TCP_CONNECT);
        assert_eq!(r[3].1, WINDOWS_TCP_ACCEPT);
    }

    #[test]
    fn options_windows_lacks_and_family_errors() {
        let r = predict(
            "a = socket tcp4\nset a reuseport on\nset a reuseport_lb on\nset a v6only on\nset a linger0 on\nconnect a [::1]:P1\n",
        );
        assert_eq!(r[1], ("ENOPROTOOPT".into(), WINDOWS_UNKNOWN_OPTION));
        assert_eq!(r[2].0, "ENOPROTOOPT");
        assert_eq!(r[3], ("{EINVAL,ENOPROTOOPT}".into(), WINDOWS_V6ONLY_ON_V4));
        assert_eq!(r[4], ("ok".into(), WINDOWS_LINGER0));
        assert_eq!(r[5], ("{EAFNOSUPPORT,EFAULT}".into(), WINDOWS_V6_CONNECT));
    }

    #[test]
    fn xp_has_no_enhanced_security() {
        let xp = Windows::new(Version::parse("5.1"));
        let r = predict_with(
            &xp,
            "a = socket tcp4\nb = socket tcp4\nset b reuseaddr on\nbind a 0.0.0.0:P1\nbind b 127.0.0.1:P1\nc = socket tcp4\nbind c 127.0.0.1:P1\n",
        );
        assert_eq!(r[4], ("ok".into(), WINDOWS_LEGACY_XP));
        assert_eq!(r[6], ("EADDRINUSE".into(), WINDOWS_LEGACY_XP));
        assert!(xp.rule_ids().contains(&WINDOWS_LEGACY_XP));
        assert!(!Windows::new(None).rule_ids().contains(&WINDOWS_LEGACY_XP));
    }

    #[test]
    fn a_dead_name_is_ebadf() {
        let r = predict(
            "a = socket tcp4\nb = socket tcp4\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\nc = accept b\nlisten c\n",
        );
        assert_eq!(r[4], ("EINVAL".into(), WINDOWS_TCP_ACCEPT));
        assert_eq!(r[5], ("EBADF".into(), WINDOWS_DEAD_NAME));
    }
}
