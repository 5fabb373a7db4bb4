//! The formal models: pure code that predicts the outcome of every statement
//! on one OS and names the rule that decided it.
//!
//! No I/O, no clock, no randomness, no `cfg`: every model builds and runs on
//! every host. A model answers one statement at a time: given the state (every
//! socket the case has made) and a statement, it returns the rule id and one
//! or more [`Branch`]es, each an allowed outcome with the state that follows
//! it. Several branches mean the OS leaves the choice open (a set in docs/interface.md#outcomes);
//! the caller keeps every state that agrees with what really happened (see
//! [`Belief`]).

pub mod bsd;
pub mod kit;
pub mod linux;
pub mod mutant;
pub mod rules;
pub mod state;
pub mod variants;
pub mod versions;
pub mod windows;
pub mod wine;

pub(crate) use kit::{fail, ok};
pub use state::{PortVal, SockId, State};

use crate::case::{Name, Op, PortRef, Program};
use crate::outcome::{Outcome, OutcomeSet};
use crate::platform::{ModelSpec, Platform};

/// The port argument of `bind`, `connect` or `probe`, resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortArg {
    /// Port 0: the OS picks one (bind), or the destination port 0.
    Zero,
    Val(PortVal),
}

/// Port 0 as a destination (`connect`, `probe`): a port no socket holds
/// (ephemeral ports are never 0).
pub const DEST_PORT_ZERO: PortVal = PortVal::Eph(0);

impl PortArg {
    /// The port as a destination: port 0 is [`DEST_PORT_ZERO`].
    pub fn dest(self) -> PortVal {
        match self {
            PortArg::Zero => DEST_PORT_ZERO,
            PortArg::Val(p) => p,
        }
    }
}

/// What the caller tells a model beside the statement.
#[derive(Clone, Copy, Debug, Default)]
pub struct StepCtx<'a> {
    /// Names of the case's slots, for probe receivers.
    pub names: &'a [Name],
    /// The statement's port, resolved (`@NAME` already looked up).
    pub port: Option<PortArg>,
    /// In a live run: the local port the subject socket holds after the call
    /// (so ephemeral ports in the model are the real ones).
    pub observed: Option<u16>,
}

/// One allowed outcome and the state after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Branch {
    pub outcome: Outcome,
    pub state: State,
}

/// A model's answer to one statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prediction {
    /// The rule that decided the outcome.
    pub rule: &'static str,
    /// At least one branch; the first is the expected one.
    pub branches: Vec<Branch>,
}

impl Prediction {
    /// A single outcome.
    pub fn one(rule: &'static str, outcome: Outcome, state: State) -> Prediction {
        Prediction { rule, branches: vec![Branch { outcome, state }] }
    }

    /// The set of allowed outcomes.
    pub fn outcomes(&self) -> OutcomeSet {
        OutcomeSet::new(self.branches.iter().map(|b| b.outcome.clone()))
    }
}

/// A model of one platform.
pub trait Model: Send + Sync {
    /// The model's name and version.
    fn spec(&self) -> ModelSpec;

    /// The state before the first statement.
    fn init(&self, prog: &Program) -> State {
        State::new(prog.slots())
    }

    /// Predicts one statement.
    fn step(&self, st: &State, op: &Op, ctx: &StepCtx<'_>) -> Prediction;

    /// The ids of every rule this model can emit.
    fn rule_ids(&self) -> Vec<&'static str>;
}

/// Rule ids of the table whose family is one of `families`.
pub fn rule_ids_of(families: &[&str]) -> Vec<&'static str> {
    rules::RULES.iter().filter(|r| families.iter().any(|f| r.id.split('.').next() == Some(*f))).map(|r| r.id).collect()
}

/// Settings of the host that change a model's answers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostSettings {
    /// Linux `net.ipv6.bindv6only` (new IPv6 sockets start v6only).
    pub bindv6only: bool,
}

/// Checks a spec before a model is made for it: its variants must exist
/// and its version must be one the model knows ([`versions::check`]).
pub fn check_spec(spec: &ModelSpec) -> Result<(), String> {
    variants::check(spec)?;
    versions::check(spec)
}

/// The model for a spec. Variants the platform does not know are ignored
/// (see [`check_spec`]).
pub fn for_spec(spec: &ModelSpec, host: &HostSettings) -> Box<dyn Model> {
    match spec.platform {
        Platform::Linux => Box::new(
            linux::Linux::new(spec.version.clone(), host.bindv6only)
                .with_role_lock(spec.has(variants::name_of(rules::LINUX_TCP_ROLE_LOCK)))
                .with_mapped_any_missed(spec.has(variants::name_of(rules::LINUX_TCP_MAPPED_ANY_MISSED))),
        ),
        Platform::FreeBsd => Box::new(bsd::Bsd::freebsd(spec.version.clone())),
        Platform::MacOs => Box::new(bsd::Bsd::macos(spec.version.clone())),
        Platform::Windows => Box::new(windows::Windows::new(spec.version.clone())),
        Platform::Wine => Box::new(
            wine::Wine::new(spec.version.clone())
                .with_role_lock(spec.has(variants::name_of(rules::WINE_TCP_ROLE_LOCK))),
        ),
    }
}

/// Resolves the port of `op` against a model state (model-only runs). For
/// `@NAME` whose socket holds no port, returns `Err(slot)`.
pub fn resolve_port(st: &State, op: &Op) -> Result<Option<PortArg>, crate::case::Slot> {
    Ok(match op.port() {
        None => None,
        Some(PortRef::Zero) => Some(PortArg::Zero),
        Some(PortRef::Sym(n)) => Some(PortArg::Val(PortVal::Sym(n))),
        Some(PortRef::Of(slot)) => Some(PortArg::Val(st.slot_port(slot).ok_or(slot)?)),
    })
}

/// The set of states a case may be in: every state the model allows that
/// agrees with every outcome seen so far.
#[derive(Clone, Debug)]
pub struct Belief {
    pub states: Vec<State>,
    /// More states than [`MAX_STATES`] agreed with what happened at some
    /// point, and the extra ones were dropped: a later prediction may miss
    /// a state the OS is in, so a live run ends the case as unknown.
    pub overflowed: bool,
}

/// At most this many states are kept.
pub const MAX_STATES: usize = 64;

impl Belief {
    /// The belief before the first statement.
    pub fn new(model: &dyn Model, prog: &Program) -> Belief {
        Belief { states: vec![model.init(prog)], overflowed: false }
    }

    /// Predicts `op` from every state. Returns the union of outcomes, the
    /// rule of the first state's prediction, and every branch.
    pub fn predict(&self, model: &dyn Model, op: &Op, ctx: &StepCtx<'_>) -> (OutcomeSet, &'static str, Vec<Branch>) {
        let (set, rules, _, branches) = self.predict_each(model, op, ctx);
        (set, rules.first().copied().unwrap_or(""), branches)
    }

    /// Like [`Belief::predict`], with the rule of each branch's state (so a
    /// caller that saw the outcome can name the rule of a state that
    /// allowed it: [`rule_for`]) and the index of that state.
    pub fn predict_each(
        &self,
        model: &dyn Model,
        op: &Op,
        ctx: &StepCtx<'_>,
    ) -> (OutcomeSet, Vec<&'static str>, Vec<u32>, Vec<Branch>) {
        let mut rules = Vec::new();
        let mut origins = Vec::new();
        let mut branches = Vec::new();
        for (i, st) in self.states.iter().enumerate() {
            let p = model.step(st, op, ctx);
            rules.extend(std::iter::repeat_n(p.rule, p.branches.len()));
            origins.extend(std::iter::repeat_n(i as u32, p.branches.len()));
            branches.extend(p.branches);
        }
        let set = OutcomeSet::new(branches.iter().map(|b| b.outcome.clone()));
        (set, rules, origins, branches)
    }

    /// Keeps the states of the branches whose outcome is one of `seen`.
    /// Returns false if none is left.
    pub fn advance_set(&mut self, branches: Vec<Branch>, seen: &OutcomeSet) -> bool {
        let keep: Vec<Branch> = branches.into_iter().filter(|b| seen.contains(&b.outcome)).collect();
        self.advance(keep, None)
    }

    /// Keeps the states of the branches whose outcome is `actual` (all of
    /// them if `actual` is `None`). Returns false if none is left.
    pub fn advance(&mut self, branches: Vec<Branch>, actual: Option<&Outcome>) -> bool {
        let mut next: Vec<State> = Vec::new();
        for b in branches {
            if actual.is_none_or(|a| *a == b.outcome) && !next.contains(&b.state) {
                next.push(b.state);
            }
        }
        if next.len() > MAX_STATES {
            next.truncate(MAX_STATES);
            self.overflowed = true;
        }
        if next.is_empty() {
            return false;
        }
        self.states = next;
        true
    }
}

/// The rule of the first branch whose outcome was seen, else the first
/// rule: where states disagree, the rule of one that allowed what happened.
pub fn rule_for(rules: &[&'static str], branches: &[Branch], seen: &OutcomeSet) -> &'static str {
    branches
        .iter()
        .position(|b| seen.contains(&b.outcome))
        .and_then(|i| rules.get(i))
        .or(rules.first())
        .copied()
        .unwrap_or("")
}
