//! The differ: runs a case for real, statement by statement, in lockstep
//! with a model, and compares each real outcome with the model's set.
//!
//! The model's state follows what really happened: after each statement
//! only the model states whose outcome matches the real one are kept
//! ([`Belief`]), and ephemeral ports the OS chose are fed back to the model.
//! The first statement whose real outcome is outside the model's set is the
//! mismatch; the case stops there.

use crate::case::{Op, PortRef, Program, Verb};
use crate::exec::{ExecError, Executor};
use crate::model::{Belief, Branch, Model, PortArg, PortVal, StepCtx, rule_for};
use crate::outcome::{Outcome, OutcomeSet};

/// One statement, model against reality.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRecord {
    /// Index of the statement (from 0).
    pub index: usize,
    pub expected: OutcomeSet,
    /// What really happened: one outcome, or the receivers seen over
    /// repeated probes.
    pub actual: OutcomeSet,
    pub rule: &'static str,
    /// For a predicted set of more than one outcome: each member with the
    /// rule of every state that allowed it (what the over-wide check
    /// counts, [`count_set_members`]); empty otherwise.
    pub allowed: Vec<Allowed>,
}

/// A member of a predicted set and a rule that allowed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowed {
    pub member: Outcome,
    pub rule: &'static str,
    /// Only one of the model's states allowed the member: if it turns up,
    /// it was that state's (and its rule's) doing. Where several states
    /// allow it, a sighting proves none of them in particular.
    pub alone: bool,
}

/// Who allowed each member of `expected` (see [`StepRecord::allowed`]).
fn allowances(expected: &OutcomeSet, rules: &[&'static str], origins: &[u32], branches: &[Branch]) -> Vec<Allowed> {
    if expected.members().len() < 2 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for m in expected.members() {
        let (mut states, mut by) = (Vec::new(), Vec::new());
        for ((b, &o), &r) in branches.iter().zip(origins).zip(rules) {
            if b.outcome == *m {
                if !states.contains(&o) {
                    states.push(o);
                }
                if !by.contains(&r) {
                    by.push(r);
                }
            }
        }
        out.extend(by.into_iter().map(|rule| Allowed { member: m.clone(), rule, alone: states.len() == 1 }));
    }
    out
}

impl StepRecord {
    /// Whether every real outcome is one the model allows.
    pub fn agrees(&self) -> bool {
        self.actual.members().iter().all(|a| self.expected.contains(a))
    }
}

/// How a case ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every statement agreed.
    Agree,
    /// Statement `index` disagreed; the case stopped there.
    Mismatch { index: usize },
    /// Not run: the host lacks what the case needs.
    Skipped(String),
    /// The case is not valid at statement `index` (for example `@a` where
    /// `a` holds no port).
    Invalid { index: usize, why: String },
    /// After statement `index` the model could not follow the case any
    /// further (its belief exceeded [`crate::model::MAX_STATES`] states):
    /// neither an agreement nor a mismatch.
    Unknown { index: usize, why: String },
}

/// The result of running one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseRun {
    pub steps: Vec<StepRecord>,
    pub verdict: Verdict,
}

impl CaseRun {
    /// The mismatching step, if any.
    pub fn mismatch(&self) -> Option<&StepRecord> {
        match self.verdict {
            Verdict::Mismatch { index } => self.steps.iter().find(|s| s.index == index),
            _ => None,
        }
    }
}

/// How often a probe runs when the model allows several receivers.
pub const PROBE_REPEATS: usize = 8;

/// What the host can do, for skipping cases it cannot run.
#[derive(Clone, Debug)]
pub struct Abilities {
    /// `Err(reason)` when `as other` cannot be run.
    pub other_user: Result<(), String>,
    pub probe: bool,
}

/// Why a case cannot run here, if it cannot.
pub fn skip_reason(prog: &Program, can: &Abilities) -> Option<String> {
    if !can.probe && prog.ops.iter().any(|op| matches!(op, Op::Probe { .. })) {
        return Some("probe is not run by this executor yet".into());
    }
    if let Err(why) = &can.other_user {
        if prog.ops.iter().any(|op| matches!(op, Op::Socket { other: true, .. })) {
            return Some(why.clone());
        }
    }
    None
}

/// The port a statement names, as the model sees it, or why it has none.
fn model_port(belief: &Belief, op: &Op, prog: &Program) -> Result<Option<PortArg>, String> {
    Ok(match op.port() {
        None => None,
        Some(PortRef::Zero) => Some(PortArg::Zero),
        Some(PortRef::Sym(n)) => Some(PortArg::Val(PortVal::Sym(n))),
        Some(PortRef::Of(slot)) => {
            let p = belief.states.iter().find_map(|st| st.slot_port(slot));
            match p {
                Some(p) => Some(PortArg::Val(p)),
                None => return Err(format!("@{} names a socket that holds no port here", prog.name(slot))),
            }
        }
    })
}

/// Runs `prog` for real on `exec` and diffs every statement against `model`,
/// stopping at the first mismatch.
pub fn run_case(
    model: &dyn Model,
    exec: &mut dyn Executor,
    prog: &Program,
    can: &Abilities,
) -> Result<CaseRun, ExecError> {
    run_inner(model, exec, prog, can, false)
}

/// Like [`run_case`] but runs every statement: after a mismatch the model
/// goes on from every state it allowed (its later predictions are then
/// best effort). The verdict names the first mismatch.
pub fn run_case_all(
    model: &dyn Model,
    exec: &mut dyn Executor,
    prog: &Program,
    can: &Abilities,
) -> Result<CaseRun, ExecError> {
    run_inner(model, exec, prog, can, true)
}

/// Why a case that ran out of file descriptors is skipped: the OS's answer
/// then says nothing about addresses, so it is never compared.
pub const NO_FDS: &str =
    "out of file descriptors (EMFILE/ENFILE): raise the limit (ulimit -n) or run fewer workers (-j)";

/// A real outcome that means the process or the system ran out of file
/// descriptors (never an outcome to compare with a model).
pub fn out_of_fds(set: &OutcomeSet) -> bool {
    use crate::outcome::Errno;
    set.members().iter().any(|o| matches!(o, Outcome::Err(Errno::EMFILE | Errno::ENFILE)))
}

/// How often a case runs again when it met an earlier case's leftovers.
const TAINT_RERUNS: usize = 3;

fn run_inner(
    model: &dyn Model,
    exec: &mut dyn Executor,
    prog: &Program,
    can: &Abilities,
    keep_going: bool,
) -> Result<CaseRun, ExecError> {
    if let Some(why) = skip_reason(prog, can) {
        return Ok(CaseRun { steps: Vec::new(), verdict: Verdict::Skipped(why) });
    }
    // A port the OS gave a socket may hold an earlier case's TIME_WAIT:
    // then the case runs again, in a clean network stack.
    let mut r = run_once(model, exec, prog, keep_going)?;
    for _ in 0..TAINT_RERUNS {
        if !exec.tainted() {
            break;
        }
        exec.fresh()?;
        r = run_once(model, exec, prog, keep_going)?;
    }
    Ok(r)
}

fn run_once(
    model: &dyn Model,
    exec: &mut dyn Executor,
    prog: &Program,
    keep_going: bool,
) -> Result<CaseRun, ExecError> {
    exec.begin(prog)?;
    let mut belief = Belief::new(model, prog);
    let mut steps = Vec::with_capacity(prog.ops.len());
    let mut verdict = Verdict::Agree;
    for (index, op) in prog.ops.iter().enumerate() {
        let port = match model_port(&belief, op, prog) {
            Ok(p) => p,
            Err(why) => {
                verdict = Verdict::Invalid { index, why };
                break;
            }
        };
        let concrete = match port {
            Some(PortArg::Val(PortVal::Sym(n))) => exec.sym_port(n),
            Some(PortArg::Val(PortVal::Eph(p))) => p,
            _ => 0,
        };
        let (rec, branches) = if let Op::Probe { .. } = op {
            // Where the model allows several receivers, probe again to show them.
            let ctx = StepCtx { names: &prog.names, port, observed: None };
            let (expected, rules, origins, branches) = belief.predict_each(model, op, &ctx);
            let tries = if expected.members().len() > 1 { PROBE_REPEATS } else { 1 };
            let settle = expected.members().iter().any(|o| matches!(o, Outcome::To(_)));
            let seen: Vec<Outcome> = (0..tries).map(|_| exec.step(op, concrete, settle).outcome).collect();
            let actual = OutcomeSet::new(seen);
            let rule = rule_for(&rules, &branches, &actual);
            let allowed = allowances(&expected, &rules, &origins, &branches);
            (StepRecord { index, expected, actual, rule, allowed }, branches)
        } else {
            // An accept the model expects to find a connection waits for
            // the handshake to finish if the kernel is running late; a bind
            // it expects to succeed waits for a close's last segments.
            let settle = match op {
                Op::Accept { .. } => {
                    let ctx = StepCtx { names: &prog.names, port, observed: None };
                    belief.predict(model, op, &ctx).0.contains(&Outcome::Ok)
                }
                Op::Bind { .. } => {
                    let ctx = StepCtx { names: &prog.names, port, observed: None };
                    belief.predict(model, op, &ctx).0.members() == [Outcome::Ok]
                }
                _ => false,
            };
            let real = exec.step(op, concrete, settle);
            let ctx = StepCtx { names: &prog.names, port, observed: real.local_port };
            let (expected, rules, origins, branches) = belief.predict_each(model, op, &ctx);
            let actual = OutcomeSet::one(real.outcome);
            let rule = rule_for(&rules, &branches, &actual);
            let allowed = allowances(&expected, &rules, &origins, &branches);
            (StepRecord { index, expected, actual, rule, allowed }, branches)
        };
        if out_of_fds(&rec.actual) {
            verdict = Verdict::Skipped(NO_FDS.into());
            break;
        }
        let agrees = rec.agrees();
        if agrees {
            belief.advance_set(branches, &rec.actual);
        } else if keep_going {
            belief.advance(branches, None);
        }
        steps.push(rec);
        if belief.overflowed && verdict == Verdict::Agree {
            let why = format!("the model's belief exceeded {} states here", crate::model::MAX_STATES);
            verdict = Verdict::Unknown { index, why };
            break;
        }
        if !agrees {
            if verdict == Verdict::Agree {
                verdict = Verdict::Mismatch { index };
            }
            if !keep_going {
                break;
            }
        }
    }
    exec.end();
    Ok(CaseRun { steps, verdict })
}

/// rule -> member -> [chances, times seen].
pub type MemberMap = std::collections::BTreeMap<String, std::collections::BTreeMap<String, [u64; 2]>>;

/// Members of predicted sets over many cases, under the rule that allowed
/// each (`summary.json`'s `set_members` and `set_members_alone`, read by
/// [`crate::report::over_wide`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetMembers {
    /// Every statement where a rule allowed the member in a set.
    pub all: MemberMap,
    /// Only those where one state alone allowed it ([`Allowed::alone`]).
    pub alone: MemberMap,
}

impl SetMembers {
    /// Adds `chances` chances of `member` under `rule`, `seen` of them
    /// with the member turning up.
    pub fn add(&mut self, rule: &str, member: &str, alone: bool, chances: u64, seen: u64) {
        Self::add_to(&mut self.all, &mut self.alone, rule, member, alone, chances, seen);
    }

    /// [`SetMembers::add`] into a pair of maps held elsewhere (a summary's
    /// `set_members` and `set_members_alone`).
    pub fn add_to(
        all: &mut MemberMap,
        lone: &mut MemberMap,
        rule: &str,
        member: &str,
        alone: bool,
        chances: u64,
        seen: u64,
    ) {
        let one = |map: &mut MemberMap| {
            let e = map.entry(rule.to_string()).or_default().entry(member.to_string()).or_default();
            e[0] += chances;
            e[1] += seen;
        };
        one(all);
        if alone {
            one(lone);
        }
    }

    /// Folds in `map` (`all` or `alone` of another count).
    pub fn fold(into: &mut MemberMap, map: &MemberMap) {
        for (rule, ms) in map {
            let e = into.entry(rule.clone()).or_default();
            for (m, [n, seen]) in ms {
                let x = e.entry(m.clone()).or_default();
                x[0] += n;
                x[1] += seen;
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }
}

/// Counts, for every agreeing statement of `r` whose prediction was a set,
/// each member under each rule that allowed it (the rule `only`, or any)
/// as a chance, and whether it really turned up.
pub fn count_set_members(members: &mut SetMembers, r: &CaseRun, only: Option<&str>) {
    for s in &r.steps {
        if s.agrees() {
            for a in s.allowed.iter().filter(|a| only.is_none_or(|o| o == a.rule)) {
                members.add(a.rule, &a.member.to_string(), a.alone, 1, s.actual.contains(&a.member) as u64);
            }
        }
    }
}

/// Predicts a case with the model alone: per statement, the set of outcomes
/// over every state the model allows, and the rule. `Err` at the first
/// statement that is invalid.
pub fn predict_case(model: &dyn Model, prog: &Program) -> Result<Vec<(OutcomeSet, &'static str)>, (usize, String)> {
    let mut belief = Belief::new(model, prog);
    let mut out = Vec::with_capacity(prog.ops.len());
    for (index, op) in prog.ops.iter().enumerate() {
        let port = model_port(&belief, op, prog).map_err(|why| (index, why))?;
        let ctx = StepCtx { names: &prog.names, port, observed: None };
        let (set, rule, branches) = belief.predict(model, op, &ctx);
        out.push((set, rule));
        belief.advance(branches, None);
    }
    Ok(out)
}

/// The signature of a mismatch: statement kind, the model's set, the real
/// outcome. One behaviour has one signature whichever rule happened to
/// decide the statement, so fuzz's deduplication, the minimizer and
/// `report diff` never split one cause by rule.
pub fn signature(verb: Verb, rec: &StepRecord) -> String {
    signature_of(verb.word(), &rec.expected.to_string(), &rec.actual.to_string())
}

/// [`signature`] from its parts as text (a row of `mismatches.csv`).
pub fn signature_of(verb: &str, expected: &str, actual: &str) -> String {
    format!("{verb}|{expected}|{actual}")
}

/// The verb of statement `index` of a program.
pub fn verb_at(prog: &Program, index: usize) -> Verb {
    match prog.ops[index] {
        Op::Socket { .. } => Verb::Socket,
        Op::Set { .. } => Verb::Set,
        Op::Bind { .. } => Verb::Bind,
        Op::Listen { .. } => Verb::Listen,
        Op::Connect { .. } => Verb::Connect,
        Op::Accept { .. } => Verb::Accept,
        Op::Close { .. } => Verb::Close,
        Op::Probe { .. } => Verb::Probe,
    }
}

/// The signature of a run's mismatch, if it has one.
pub fn run_signature(prog: &Program, r: &CaseRun) -> Option<String> {
    r.mismatch().map(|rec| signature(verb_at(prog, rec.index), rec))
}

/// Runs a case `runs` times and counts the runs whose mismatch has `sig`;
/// also returns the mismatching step of the first such run.
pub fn reproduce(
    model: &dyn Model,
    exec: &mut dyn Executor,
    prog: &Program,
    can: &Abilities,
    sig: &str,
    runs: u32,
) -> Result<(u32, Option<StepRecord>), ExecError> {
    let mut k = 0;
    let mut first = None;
    for _ in 0..runs {
        let r = run_case(model, exec, prog, can)?;
        if run_signature(prog, &r).as_deref() == Some(sig) {
            k += 1;
            if first.is_none() {
                first = r.mismatch().cloned();
            }
        }
    }
    Ok((k, first))
}

/// Minimizes a case that fails with `sig`, running every candidate for
/// real. Returns the smallest case found and how many candidates ran.
pub fn minimize_live(
    model: &dyn Model,
    exec: &mut dyn Executor,
    case: &crate::case::Case,
    can: &Abilities,
    sig: &str,
) -> Result<(crate::case::Case, usize), ExecError> {
    let mut err = None;
    let (small, stats) = crate::minimize::minimize(case, |c| {
        if err.is_some() {
            return false;
        }
        let Ok(prog) = crate::case::compile(c) else { return false };
        match run_case(model, exec, &prog, can) {
            Ok(r) => run_signature(&prog, &r).as_deref() == Some(sig),
            Err(e) => {
                err = Some(e);
                false
            }
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok((small, stats.tries)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{compile, parse};
    use crate::exec::trace::CaseTrace;
    use crate::model::linux::Linux;

    /// An executor that answers what the Linux model predicts, and says
    /// its first `taints` cases met an earlier case's leftovers.
    struct Fake {
        taints: usize,
        runs: usize,
        fresh: usize,
        prog: Option<Program>,
        belief: Option<Belief>,
    }

    impl Executor for Fake {
        fn begin(&mut self, prog: &Program) -> Result<(), ExecError> {
            self.runs += 1;
            self.belief = Some(Belief::new(&Linux::new(None, false), prog));
            self.prog = Some(prog.clone());
            Ok(())
        }
        fn sym_port(&self, n: u8) -> u16 {
            20000 + n as u16
        }
        fn step(&mut self, op: &Op, _port: u16, _settle: bool) -> crate::exec::StepResult {
            let (prog, b) = (self.prog.as_ref().unwrap(), self.belief.as_mut().unwrap());
            let m = Linux::new(None, false);
            let port = crate::model::resolve_port(&b.states[0], op).unwrap();
            let ctx = StepCtx { names: &prog.names, port, observed: None };
            let (set, _, branches) = b.predict(&m, op, &ctx);
            let outcome = set.members()[0].clone();
            b.advance(branches, Some(&outcome));
            crate::exec::StepResult { outcome, local_port: None }
        }
        fn end(&mut self) {}
        fn supports_probe(&self) -> bool {
            true
        }
        fn tainted(&self) -> bool {
            self.runs <= self.taints
        }
        fn fresh(&mut self) -> Result<(), ExecError> {
            self.fresh += 1;
            Ok(())
        }
        fn record(&mut self, _on: bool) {}
        fn take_trace(&mut self) -> Option<CaseTrace> {
            None
        }
        fn waited(&self) -> std::time::Duration {
            std::time::Duration::ZERO
        }
        fn replay(&mut self, _t: &CaseTrace) -> Result<u64, ExecError> {
            Ok(0)
        }
    }

    #[test]
    fn a_belief_beyond_its_cap_ends_the_case_as_unknown() {
        // Each active close with SO_REUSEPORT may leave FIN_WAIT2 or
        // TIME_WAIT (two states, one outcome): seven of them are 128 states.
        let mut text = String::from("l = socket tcp4\nbind l 127.0.0.1:P1\nlisten l\n");
        for i in 0..7 {
            text.push_str(&format!(
                "c{i} = socket tcp4\nset c{i} reuseport on\nconnect c{i} 127.0.0.1:P1\ns{i} = accept l\nclose c{i}\n"
            ));
        }
        text.push_str("probe tcp4 127.0.0.1:P1\n");
        let prog = compile(&parse("t", &text).unwrap()).unwrap();
        let can = Abilities { other_user: Ok(()), probe: true };
        let m = Linux::new(None, false);
        let mut ex = Fake { taints: 0, runs: 0, fresh: 0, prog: None, belief: None };
        let r = run_case(&m, &mut ex, &prog, &can).unwrap();
        let Verdict::Unknown { index, why } = &r.verdict else { panic!("{:?}", r.verdict) };
        assert!(why.contains("64 states"), "{why}");
        // It ends at the close that went over the cap, and no mismatch is claimed.
        assert_eq!(prog.ops[*index], prog.ops[3 + 5 * 6 + 4]);
        assert!(r.mismatch().is_none());
    }

    #[test]
    fn a_deliberately_too_wide_prediction_is_flagged() {
        use crate::model::mutant::{Kind, Mutant, Mutated};
        use crate::model::rules::{LINUX_SOCKET as SOCKET, LINUX_TCP_FIN_WAIT2_RACE, MEASURED_RATES};
        // The socket rule also allows EAFNOSUPPORT, which the OS (here the
        // fake, which answers as the model does) never gives.
        let prog = compile(&parse("t", "a = socket tcp4\nbind a 127.0.0.1:P1\n").unwrap()).unwrap();
        let can = Abilities { other_user: Ok(()), probe: true };
        let base = Linux::new(None, false);
        let wide = Mutated::new(&base, Mutant { rule: SOCKET, kind: Kind::WiderOk });
        let mut members = SetMembers::default();
        let mut ex = Fake { taints: 0, runs: 0, fresh: 0, prog: None, belief: None };
        for n in 1..=crate::report::OVER_WIDE_CHANCES {
            let r = run_case(&wide, &mut ex, &prog, &can).unwrap();
            assert_eq!(r.verdict, Verdict::Agree, "a wider set never mismatches");
            count_set_members(&mut members, &r, None);
            let flagged = crate::report::over_wide(&members.all, &members.alone, MEASURED_RATES);
            if n < crate::report::OVER_WIDE_CHANCES {
                assert!(flagged.is_empty(), "{n}: {flagged:?}");
            } else {
                assert_eq!(flagged.len(), 1, "{flagged:?}");
                assert_eq!((flagged[0].rule.as_str(), flagged[0].member.as_str()), (SOCKET, "EAFNOSUPPORT"));
                assert_eq!(members.all[SOCKET]["ok"], [n, n]);
                assert_eq!(members.alone[SOCKET]["ok"], [n, n]);
            }
        }
        // The unmutated model predicts no set here at all.
        let mut plain = SetMembers::default();
        count_set_members(&mut plain, &run_case(&base, &mut ex, &prog, &can).unwrap(), None);
        assert!(plain.is_empty());
        // A member with a measured rare rate needs as many chances as make 5 expected.
        let mut rare = SetMembers::default();
        rare.add(LINUX_TCP_FIN_WAIT2_RACE, "ok", true, 200, 0);
        assert!(crate::report::over_wide(&rare.all, &rare.alone, MEASURED_RATES).is_empty());
        rare.add(LINUX_TCP_FIN_WAIT2_RACE, "ok", true, 706, 0);
        assert_eq!(crate::report::over_wide(&rare.all, &rare.alone, MEASURED_RATES)[0].needed, 906);
    }

    /// A rule that adds a member where nothing else allows it is flagged,
    /// even though in a race elsewhere another state allows the same
    /// member and it turns up there; a real race's members are not.
    #[test]
    fn a_member_is_counted_under_the_states_that_allowed_it() {
        use crate::model::State;
        use crate::model::rules::MEASURED_RATES;
        // Distinct states (the tests only tell them apart).
        let st = |n: usize| State::new(n + 1);
        let (a, b) = ("rule.a", "rule.b");
        let ok = || Outcome::Ok;
        let inuse = || Outcome::Err(crate::outcome::Errno::EADDRINUSE);
        // (outcome, rule, state) of each branch; what really happened.
        let step = |branches: &[(Outcome, &'static str, u32)], actual: Outcome| {
            let bs: Vec<Branch> =
                branches.iter().map(|(o, _, i)| Branch { outcome: o.clone(), state: st(*i as usize) }).collect();
            let rules: Vec<&'static str> = branches.iter().map(|b| b.1).collect();
            let origins: Vec<u32> = branches.iter().map(|b| b.2).collect();
            let expected = OutcomeSet::new(bs.iter().map(|b| b.outcome.clone()));
            let allowed = allowances(&expected, &rules, &origins, &bs);
            StepRecord { index: 0, expected, actual: OutcomeSet::one(actual), rule: a, allowed }
        };
        let mut wide = SetMembers::default();
        let mut race = SetMembers::default();
        for i in 0..crate::report::OVER_WIDE_CHANCES {
            // Rule a says EADDRINUSE and (wrongly) ok from one state; in a
            // race, another state allows ok by rule b, and ok turns up.
            let lone = step(&[(inuse(), a, 0), (ok(), a, 0)], inuse());
            let raced = step(&[(inuse(), a, 0), (ok(), a, 0), (ok(), b, 1)], if i % 2 == 0 { ok() } else { inuse() });
            // A real race: each state allows one outcome, both turn up.
            let real = step(&[(inuse(), a, 0), (ok(), b, 1)], if i % 3 == 0 { ok() } else { inuse() });
            let run = |steps| CaseRun { steps, verdict: Verdict::Agree };
            count_set_members(&mut wide, &run(vec![lone, raced]), None);
            count_set_members(&mut race, &run(vec![real]), None);
        }
        let flagged = crate::report::over_wide(&wide.all, &wide.alone, MEASURED_RATES);
        assert_eq!(flagged.len(), 1, "{flagged:?}");
        assert_eq!((flagged[0].rule.as_str(), flagged[0].member.as_str(), flagged[0].alone), (a, "ok", true));
        assert_eq!(flagged[0].chances, crate::report::OVER_WIDE_CHANCES);
        // Counted over every statement, rule a's ok turned up (in the race).
        assert_eq!(wide.all[a]["ok"], [400, 100]);
        assert!(crate::report::over_wide(&race.all, &race.alone, MEASURED_RATES).is_empty());
        assert_eq!(race.alone[b]["ok"], [200, 67]);
        assert!(!race.all.get(a).is_some_and(|m| m.contains_key("ok")), "rule a never allowed ok there");
    }

    #[test]
    fn a_case_that_met_leftovers_runs_again_in_a_clean_stack() {
        let prog = compile(&parse("t", "a = socket tcp4\nconnect a 127.0.0.1:P1\nlisten a\n").unwrap()).unwrap();
        let can = Abilities { other_user: Ok(()), probe: true };
        let m = Linux::new(None, false);
        for (taints, runs, fresh) in [(0, 1, 0), (1, 2, 1), (2, 3, 2), (9, 1 + TAINT_RERUNS, TAINT_RERUNS)] {
            let mut ex = Fake { taints, runs: 0, fresh: 0, prog: None, belief: None };
            let r = run_case(&m, &mut ex, &prog, &can).unwrap();
            assert_eq!(r.verdict, Verdict::Agree);
            assert_eq!((ex.runs, ex.fresh), (runs, fresh), "{taints} tainted runs");
        }
    }
}
