//! What each fuzz target checks, on any input. Shared by the cargo-fuzz
//! targets (`fuzz/fuzz_targets/`) and the main crate's regression test,
//! which includes this file by path: it names only `sockdiff`'s public API.

use sockdiff::case::{self, Case, Op, Program};
use sockdiff::exec::trace::CaseTrace;
use sockdiff::exec::{ExecError, Executor, StepResult};
use sockdiff::model::{self, Belief, HostSettings, Model, PortArg, PortVal, StepCtx};
use sockdiff::outcome::OutcomeSet;
use sockdiff::platform::{ModelSpec, Platform};
use sockdiff::report::MismatchRow;
use sockdiff::run::{self, Abilities, Verdict};
use std::time::Duration;

/// Cases longer than this are not looked at (the models' work grows with
/// the case; a fuzzer's time is better spent on many short ones).
const MAX_STMTS: usize = 40;

fn parsed(data: &[u8]) -> Option<(Case, Program)> {
    let text = std::str::from_utf8(data).ok()?;
    let case = case::parse("fuzz", text).ok()?;
    if case.len() > MAX_STMTS {
        return None;
    }
    let prog = case::compile(&case).expect("a parsed case compiles (the parser checks names)");
    Some((case, prog))
}

/// Target `parse`: any text the parser accepts prints to text that parses
/// to the same case (comments and records included), prints the same
/// again, and compiles to the same program; its one-line form (the CSV's
/// `case` column) holds the same statements.
pub fn parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(first) = case::parse("fuzz", text) else { return };
    let printed = case::print(&first);
    let again = case::parse("printed", &printed)
        .unwrap_or_else(|e| panic!("the printed case does not parse: {e}\n--- input\n{text}\n--- printed\n{printed}"));
    assert_eq!(first, again, "parse(print(c)) is not c\n--- input\n{text}\n--- printed\n{printed}");
    assert_eq!(case::print(&again), printed, "print is not stable");
    let (p1, p2) = (case::compile(&first), case::compile(&again));
    assert!(p1.is_ok(), "a parsed case does not compile: {text}");
    assert_eq!(p1.ok(), p2.ok(), "the same case compiles to two programs");
    let line = case::one_line(&first);
    let from_line = case::parse("one-line", &line.replace(" ; ", "\n"))
        .unwrap_or_else(|e| panic!("the one-line form does not parse: {e}\n{line}"));
    let a: Vec<_> = first.stmts().collect();
    let b: Vec<_> = from_line.stmts().collect();
    assert_eq!(a, b, "the one-line form lost statements: {line}");
}

/// Every model the project knows: each platform bare, at each version it
/// knows, with each variant; Linux also with `net.ipv6.bindv6only` set.
pub fn every_model() -> Vec<Box<dyn Model>> {
    let mut out: Vec<Box<dyn Model>> = Vec::new();
    let plain = HostSettings::default();
    for p in Platform::ALL {
        out.push(model::for_spec(&ModelSpec::new(p), &plain));
        for v in model::versions::known(p) {
            out.push(model::for_spec(&ModelSpec::versioned(p, Some(v)), &plain));
        }
        for var in model::variants::of(p) {
            let mut spec = ModelSpec::new(p);
            spec.variants.insert(var.name().to_string());
            out.push(model::for_spec(&spec, &plain));
        }
    }
    out.push(model::for_spec(&ModelSpec::new(Platform::Linux), &HostSettings { bindv6only: true }));
    out
}

/// Target `predict`: on every model, any parsed case is predicted without
/// a panic; every statement up to the first invalid one gets a non-empty
/// set and a rule of that model.
pub fn predict(data: &[u8]) {
    let Some((_, prog)) = parsed(data) else { return };
    for m in every_model() {
        let spec = m.spec();
        let ids = m.rule_ids();
        let rows = match run::predict_case(&*m, &prog) {
            Ok(rows) => rows,
            Err((index, why)) => {
                assert!(index < prog.ops.len(), "{spec}: invalid at {index} of {}", prog.ops.len());
                assert!(!why.is_empty(), "{spec}: invalid without a reason");
                continue;
            }
        };
        assert_eq!(rows.len(), prog.ops.len(), "{spec}: a prediction per statement");
        for (i, (set, rule)) in rows.iter().enumerate() {
            assert!(!set.members().is_empty(), "{spec}: empty prediction at statement {}", i + 1);
            assert!(ids.contains(rule), "{spec}: statement {} decided by '{rule}', not a rule of the model", i + 1);
        }
    }
}

/// An executor that answers with a model instead of the OS: each
/// statement's outcome is one its model allows, chosen by a seed that
/// starts again with every case (so a case always gets the same answers,
/// as the minimizer and the re-run check need).
pub struct ModelExec {
    model: Box<dyn Model>,
    seed: u64,
    rng: u64,
    prog: Program,
    belief: Option<Belief>,
}

/// Concrete ports of `P1`…`P9`.
const SYM_BASE: u16 = 20000;

impl ModelExec {
    pub fn new(model: Box<dyn Model>, seed: u64) -> ModelExec {
        ModelExec { model, seed, rng: seed, prog: Program::default(), belief: None }
    }

    fn next(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl Executor for ModelExec {
    fn begin(&mut self, prog: &Program) -> Result<(), ExecError> {
        self.rng = self.seed;
        self.prog = prog.clone();
        self.belief = Some(Belief::new(&*self.model, prog));
        Ok(())
    }

    fn sym_port(&self, n: u8) -> u16 {
        SYM_BASE + n as u16
    }

    fn step(&mut self, op: &Op, port: u16, _settle: bool) -> StepResult {
        // The differ's concrete port, as this model names it.
        let arg = op.port().map(|_| match port {
            0 => PortArg::Zero,
            p if (SYM_BASE + 1..=SYM_BASE + 9).contains(&p) => PortArg::Val(PortVal::Sym((p - SYM_BASE) as u8)),
            p => PortArg::Val(PortVal::Eph(p)),
        });
        let belief = self.belief.take().expect("begin before step");
        let ctx = StepCtx { names: &self.prog.names, port: arg, observed: None };
        let (set, _, branches) = belief.predict(&*self.model, op, &ctx);
        let members = set.members();
        assert!(!members.is_empty(), "{}: empty prediction for {op:?}", self.model.spec());
        let outcome = members[(self.next() % members.len() as u64) as usize].clone();
        let mut belief = belief;
        assert!(belief.advance(branches, Some(&outcome)), "no state left after an outcome the model allowed");
        // The port the subject holds now, as the real executor reports it.
        let local_port = match op {
            Op::Bind { .. } if !outcome.is_ok() => None,
            Op::Bind { slot, .. } | Op::Listen { slot } | Op::Connect { slot, .. } => {
                belief.states[0].slot_port(*slot).and_then(|p| match p {
                    PortVal::Sym(n) => Some(SYM_BASE + n as u16),
                    PortVal::Eph(0) => None,
                    PortVal::Eph(p) => Some(p),
                })
            }
            _ => None,
        };
        self.belief = Some(belief);
        StepResult { outcome, local_port }
    }

    fn end(&mut self) {
        self.belief = None;
    }

    fn supports_probe(&self) -> bool {
        true
    }

    fn tainted(&self) -> bool {
        false
    }

    fn fresh(&mut self) -> Result<(), ExecError> {
        Ok(())
    }

    fn record(&mut self, _on: bool) {}

    fn take_trace(&mut self) -> Option<CaseTrace> {
        None
    }

    fn waited(&self) -> Duration {
        Duration::ZERO
    }

    fn replay(&mut self, _t: &CaseTrace) -> Result<u64, ExecError> {
        Ok(0)
    }
}

/// Target `differ`: the first byte picks the model, the second the model
/// that stands in for the OS, the third the seed of its choices; the rest
/// is a case. The differ runs it; a mismatch is minimized, re-run and
/// turned into a CSV row and a case file, and each of those must hold:
/// the row reads back as written, the case file parses to the minimized
/// case, which still fails the same way every time.
pub fn differ(data: &[u8]) {
    let [m, x, seed, rest @ ..] = data else { return };
    let Some((case, prog)) = parsed(rest) else { return };
    let plain = HostSettings::default();
    let pick = |b: u8| ModelSpec::new(Platform::ALL[b as usize % Platform::ALL.len()]);
    let model = model::for_spec(&pick(*m), &plain);
    let mut exec = ModelExec::new(model::for_spec(&pick(*x), &plain), *seed as u64);
    let can = Abilities { other_user: Ok(()), probe: true };
    let r = run::run_case(&*model, &mut exec, &prog, &can).expect("a model never fails to run");
    assert!(r.steps.len() <= prog.ops.len());
    for (i, s) in r.steps.iter().enumerate() {
        assert_eq!(s.index, i, "steps in order");
        assert!(!s.expected.members().is_empty(), "empty prediction at {}", i + 1);
        assert!(!s.actual.members().is_empty(), "no real outcome at {}", i + 1);
    }
    match &r.verdict {
        Verdict::Agree => {
            assert_eq!(r.steps.len(), prog.ops.len(), "an agreement ran every statement");
            assert!(r.steps.iter().all(|s| s.agrees()));
        }
        Verdict::Mismatch { index } => {
            let last = r.steps.last().expect("a mismatch has a step");
            assert_eq!(last.index, *index, "the case stops at its mismatch");
            assert!(!last.agrees());
            assert!(r.steps[..*index].iter().all(|s| s.agrees()), "an earlier step disagreed");
        }
        Verdict::Invalid { index, .. } | Verdict::Unknown { index, .. } => assert!(*index < prog.ops.len()),
        Verdict::Skipped(why) => panic!("skipped with every ability: {why}"),
    }
    let Some(sig) = run::run_signature(&prog, &r) else { return };
    let (small, _) = run::minimize_live(&*model, &mut exec, &case, &can, &sig).expect("a model never fails to run");
    assert!(small.len() <= case.len(), "minimizing made the case longer");
    let small_prog = case::compile(&small).expect("the minimized case compiles");
    let (k, rec) = run::reproduce(&*model, &mut exec, &small_prog, &can, &sig, 2).expect("a model never fails");
    assert_eq!(k, 2, "the minimized case does not fail the same way again\n{}", case::print(&small));
    let rec = rec.expect("a reproduced mismatch has its step");
    let statement = small.steps[rec.index].stmt.to_string();
    let row = MismatchRow {
        run_id: "fuzz".into(),
        found_at: "2026-01-01T00:00:00Z".into(),
        host_os: "fuzz".into(),
        os_release: "0".into(),
        model: model.spec().to_string(),
        seed: "0".into(),
        case_id: "case-000000".into(),
        step: rec.index + 1,
        statement: statement.clone(),
        expected: rec.expected.to_string(),
        actual: rec.actual.to_string(),
        rule: rec.rule.to_string(),
        reproduced: format!("{k}/2"),
        original_len: case.len(),
        minimized_len: small.len(),
        case: case::one_line(&small),
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.serialize(&row).expect("a row serializes");
    let bytes = w.into_inner().expect("in memory");
    let back: Vec<MismatchRow> = csv::Reader::from_reader(&bytes[..])
        .deserialize()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("the row does not read back: {e}\n{}", String::from_utf8_lossy(&bytes)));
    assert_eq!(back, vec![row.clone()], "the row reads back changed");
    // The case file as the run folder writes it: a comment header, then the case.
    let header = format!("step {} `{statement}`: expected {} real {}", row.step, row.expected, row.actual);
    let file = format!("# {header}\n{}", case::print(&small));
    let read = case::parse("case file", &file).unwrap_or_else(|e| panic!("the case file does not parse: {e}\n{file}"));
    assert_eq!(read.stmts().collect::<Vec<_>>(), small.stmts().collect::<Vec<_>>());
    assert_eq!(OutcomeSet::parse(&row.expected).as_ref(), Some(&rec.expected), "the prediction does not read back");
    assert_eq!(OutcomeSet::parse(&row.actual).as_ref(), Some(&rec.actual), "the real outcome does not read back");
}
