//! Mutants of a model, for `sockdiff selftest mutants`: a wrapper around
//! any [`Model`] that rewrites the predictions one rule decides into a
//! plausible wrong answer, leaving every other prediction (and the model
//! itself) alone. A live run that the differ or the over-wide check catches
//! with the mutant in place of the model "kills" it: the matrix and the
//! generator would notice had the rule really been wrong that way.
//!
//! Pure like every model: no I/O. The only state is what the wrapper has
//! added (for the wider kinds), so a runner can ask the over-wide check
//! about exactly those members.

use super::state::SlotState;
use super::{Branch, Model, Prediction, State, StepCtx};
use crate::case::{Op, Program};
use crate::outcome::{Errno, Outcome};
use crate::platform::ModelSpec;
use std::collections::HashSet;
use std::sync::Mutex;

/// What a mutant does to the predictions of its rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Every `ok` becomes an error (the statement's usual refusal).
    ErrForOk,
    /// Every error becomes `ok`.
    OkForErr,
    /// Every error becomes another error.
    OtherErrno,
    /// Every receiver becomes another one (another live socket, or none).
    OtherReceiver,
    /// A set of outcomes keeps only its first member.
    Narrower,
    /// Where the rule says `ok`, the usual error is allowed too (caught
    /// only by the over-wide check, as are the other wider kinds).
    WiderOk,
    /// Where the rule says an error, `ok` is allowed too.
    WiderError,
    /// Where the rule names a socket as receiver and not `->none`,
    /// `->none` is allowed too.
    WiderReceiver,
    /// Where the rule allows `->none`, another live socket is allowed too.
    /// (Apart from [`Kind::WiderReceiver`], so each adds members of one
    /// kind: a rule's `->none` added where it names a socket is not hidden
    /// by its own `->none` that turns up elsewhere.)
    WiderSocket,
}

impl Kind {
    /// Every kind, in table order.
    pub const ALL: [Kind; 9] = [
        Kind::ErrForOk,
        Kind::OkForErr,
        Kind::OtherErrno,
        Kind::OtherReceiver,
        Kind::Narrower,
        Kind::WiderOk,
        Kind::WiderError,
        Kind::WiderReceiver,
        Kind::WiderSocket,
    ];

    /// The kind's name in the table.
    pub fn word(self) -> &'static str {
        match self {
            Kind::ErrForOk => "error-for-ok",
            Kind::OkForErr => "ok-for-error",
            Kind::OtherErrno => "other-errno",
            Kind::OtherReceiver => "other-receiver",
            Kind::Narrower => "narrower",
            Kind::WiderOk => "wider-ok",
            Kind::WiderError => "wider-error",
            Kind::WiderReceiver => "wider-receiver",
            Kind::WiderSocket => "wider-socket",
        }
    }

    /// Whether the mutant only adds members (a set one too wide).
    pub fn is_wider(self) -> bool {
        matches!(self, Kind::WiderOk | Kind::WiderError | Kind::WiderReceiver | Kind::WiderSocket)
    }

    /// Whether the mutant changes anything in a prediction with these
    /// outcomes (before any rewriting).
    pub fn applies(self, outcomes: &[Outcome]) -> bool {
        let distinct: HashSet<&Outcome> = outcomes.iter().collect();
        match self {
            Kind::ErrForOk => outcomes.contains(&Outcome::Ok),
            Kind::OkForErr | Kind::OtherErrno => outcomes.iter().any(|o| matches!(o, Outcome::Err(_))),
            Kind::OtherReceiver => outcomes.iter().any(|o| matches!(o, Outcome::To(_) | Outcome::ToNone)),
            Kind::Narrower => distinct.len() > 1,
            Kind::WiderOk => outcomes.first() == Some(&Outcome::Ok),
            Kind::WiderError => outcomes.first().is_some_and(|f| matches!(f, Outcome::Err(_) | Outcome::Os(_))),
            Kind::WiderReceiver => {
                outcomes.iter().any(|o| matches!(o, Outcome::To(_))) && !outcomes.contains(&Outcome::ToNone)
            }
            Kind::WiderSocket => outcomes.contains(&Outcome::ToNone),
        }
    }
}

/// One mutant: a rule and what is done to its predictions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mutant {
    pub rule: &'static str,
    pub kind: Kind,
}

impl std::fmt::Display for Mutant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.rule, self.kind.word())
    }
}

/// A model with one mutant in it.
pub struct Mutated<'a> {
    pub base: &'a dyn Model,
    pub mutant: Mutant,
    /// The members a wider kind has added so far.
    added: Mutex<HashSet<Outcome>>,
}

impl<'a> Mutated<'a> {
    pub fn new(base: &'a dyn Model, mutant: Mutant) -> Mutated<'a> {
        Mutated { base, mutant, added: Mutex::new(HashSet::new()) }
    }

    /// The members the wider mutant added to its rule's predictions.
    pub fn added(&self) -> HashSet<Outcome> {
        self.added.lock().expect("added lock").clone()
    }
}

/// The refusal a statement most often meets, as the wrong answer for `ok`.
fn usual_error(op: &Op) -> Errno {
    match op {
        Op::Socket { .. } => Errno::EAFNOSUPPORT,
        Op::Set { .. } => Errno::EINVAL,
        Op::Bind { .. } | Op::Listen { .. } => Errno::EADDRINUSE,
        Op::Connect { .. } | Op::Probe { .. } => Errno::ECONNREFUSED,
        Op::Accept { .. } => Errno::EAGAIN,
        Op::Close { .. } => Errno::EBADF,
    }
}

/// Another error than `e`, the one most often confused with it.
fn other_errno(e: Errno) -> Errno {
    match e {
        Errno::EADDRINUSE => Errno::EINVAL,
        Errno::EINVAL => Errno::EADDRINUSE,
        Errno::ECONNREFUSED => Errno::ETIMEDOUT,
        _ => Errno::EADDRINUSE,
    }
}

/// A receiver other than every one in `avoid`: the first live name of the
/// case not among them, else `->none` (or, if that is taken, nothing).
fn other_receiver(st: &State, ctx: &StepCtx<'_>, avoid: &HashSet<Outcome>) -> Option<Outcome> {
    let live = st
        .slots
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s, SlotState::Live(_)))
        .filter_map(|(i, _)| ctx.names.get(i).map(|n| Outcome::To(n.clone())));
    live.chain(std::iter::once(Outcome::ToNone)).find(|o| !avoid.contains(o))
}

impl Model for Mutated<'_> {
    fn spec(&self) -> ModelSpec {
        self.base.spec()
    }

    fn init(&self, prog: &Program) -> State {
        self.base.init(prog)
    }

    fn step(&self, st: &State, op: &Op, ctx: &StepCtx<'_>) -> Prediction {
        let mut p = self.base.step(st, op, ctx);
        if p.rule != self.mutant.rule {
            return p;
        }
        let present: HashSet<Outcome> = p.branches.iter().map(|b| b.outcome.clone()).collect();
        match self.mutant.kind {
            Kind::ErrForOk => {
                for b in &mut p.branches {
                    if b.outcome == Outcome::Ok {
                        b.outcome = Outcome::Err(usual_error(op));
                    }
                }
            }
            Kind::OkForErr => {
                for b in &mut p.branches {
                    if matches!(b.outcome, Outcome::Err(_)) {
                        b.outcome = Outcome::Ok;
                    }
                }
            }
            Kind::OtherErrno => {
                for b in &mut p.branches {
                    if let Outcome::Err(e) = b.outcome {
                        b.outcome = Outcome::Err(other_errno(e));
                    }
                }
            }
            Kind::OtherReceiver => {
                let other = other_receiver(st, ctx, &present);
                for b in &mut p.branches {
                    if matches!(b.outcome, Outcome::To(_) | Outcome::ToNone) {
                        if let Some(o) = &other {
                            b.outcome = o.clone();
                        }
                    }
                }
            }
            Kind::Narrower => {
                let first = p.branches[0].outcome.clone();
                p.branches.retain(|b| b.outcome == first);
            }
            kind => {
                // A wider kind, where the prediction is of its class.
                let outcomes: Vec<Outcome> = p.branches.iter().map(|b| b.outcome.clone()).collect();
                if !kind.applies(&outcomes) {
                    return p;
                }
                let first = &p.branches[0];
                let extra = match kind {
                    Kind::WiderOk => Some(Outcome::Err(usual_error(op))),
                    Kind::WiderError => Some(Outcome::Ok),
                    // Nobody, the one wrong receiver every case has.
                    Kind::WiderReceiver => Some(Outcome::ToNone),
                    _ => other_receiver(st, ctx, &present),
                }
                .filter(|o| !present.contains(o));
                if let Some(extra) = extra {
                    let state = first.state.clone();
                    self.added.lock().expect("added lock").insert(extra.clone());
                    p.branches.push(Branch { outcome: extra, state });
                }
            }
        }
        p
    }

    fn rule_ids(&self) -> Vec<&'static str> {
        self.base.rule_ids()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{compile, parse};
    use crate::model::linux::Linux;
    use crate::model::rules::*;
    use crate::outcome::OutcomeSet;

    fn predict(m: &dyn Model, text: &str) -> Vec<(OutcomeSet, &'static str)> {
        let prog = compile(&parse("t", text).unwrap()).unwrap();
        crate::run::predict_case(m, &prog).unwrap()
    }

    const CASE: &str = "a = socket udp4\nset a reuseport on\nbind a 127.0.0.1:P1\nb = socket udp4\nset b reuseport on\nbind b 127.0.0.1:P1\nprobe udp4 127.0.0.1:P1\nc = socket tcp4\nbind c 192.0.2.1:P1\n";

    #[test]
    fn each_kind_rewrites_only_its_rule() {
        let base = Linux::new(None, false);
        let plain = predict(&base, CASE);
        let set = |s: &str| OutcomeSet::parse(s).unwrap();
        let cases: &[(&str, Kind, usize, &str)] = &[
            (LINUX_UDP_BIND_CONFLICT, Kind::ErrForOk, 5, "EADDRINUSE"),
            (LINUX_BIND_NONLOCAL, Kind::OkForErr, 8, "ok"),
            (LINUX_BIND_NONLOCAL, Kind::OtherErrno, 8, "EADDRINUSE"),
            (LINUX_UDP_DELIVER_REUSEPORT, Kind::OtherReceiver, 6, "->none"),
            (LINUX_UDP_DELIVER_REUSEPORT, Kind::Narrower, 6, "->a"),
            (LINUX_UDP_BIND_CONFLICT, Kind::WiderOk, 5, "{EADDRINUSE,ok}"),
            (LINUX_BIND_NONLOCAL, Kind::WiderError, 8, "{EADDRNOTAVAIL,ok}"),
            (LINUX_UDP_DELIVER_REUSEPORT, Kind::WiderReceiver, 6, "{->a,->b,->none}"),
        ];
        for &(rule, kind, step, want) in cases {
            let m = Mutated::new(&base, Mutant { rule, kind });
            let got = predict(&m, CASE);
            assert_eq!(got[step].0, set(want), "{rule} {kind:?}");
            assert!(kind.applies(plain[step].0.members()), "{rule} {kind:?}");
            for (i, (g, p)) in got.iter().zip(&plain).enumerate() {
                if p.1 != rule {
                    assert_eq!(g, p, "{rule} {kind:?}: step {i} changed");
                }
            }
            if kind == Kind::WiderOk {
                assert!(m.added().contains(&Outcome::Err(Errno::EADDRINUSE)));
            }
        }
        // Where nobody receives, a wider-socket mutant lets a live socket,
        // and a wider-receiver one changes nothing.
        let none = "a = socket udp4\nbind a 127.0.0.1:P1\nprobe udp4 127.0.0.2:P1\n";
        let plain = predict(&base, none);
        assert_eq!(plain[2], (set("->none"), LINUX_DELIVER_NONE));
        let m = |kind| Mutated::new(&base, Mutant { rule: LINUX_DELIVER_NONE, kind });
        assert_eq!(predict(&m(Kind::WiderSocket), none)[2].0, set("{->a,->none}"));
        assert_eq!(predict(&m(Kind::WiderReceiver), none)[2].0, set("->none"));
    }
}
