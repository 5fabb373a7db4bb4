//! `sockdiff selftest mutants`: how strong the oracle is. For every rule
//! of the session's model, mutants ([`crate::model::mutant`]) that turn
//! what the rule decides into a plausible wrong answer run against the
//! real OS, first through the cells of the matrix where the rule decides,
//! then through fuzz for a time limit. A mutant is killed when a case
//! mismatches with the mutant in place (the mismatch reproduces, and the
//! unmutated model agrees with the same case), or, for a wider set, when
//! the over-wide check ([`crate::report::over_wide`]) names the member it
//! added.
//!
//! A baseline pass runs the whole matrix once with the unmutated model and
//! records which rules decide in each cell and what they decide (ok, an
//! error, a receiver, a set), so each mutant runs only the cells where its
//! rule decides, and only the mutants that change something exist.

use super::matrix::{Cell, cells};
use crate::case::{self, Case, Op, Program};
use crate::exec::{self, ExecError, Executor};
use crate::generate::{self, GenConfig};
use crate::model::mutant::{Kind, Mutant, Mutated};
use crate::model::{Model, Prediction, State, StepCtx};
use crate::outcome::Outcome;
use crate::run::{self, Abilities, CaseRun, Verdict};
use crate::session::{Session, abilities};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What the selftest is asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    /// Worker threads.
    pub jobs: usize,
    /// How long fuzz may try to kill a mutant the matrix did not.
    pub fuzz_time: Duration,
    /// Seed of the fuzz cases (the same for every mutant).
    pub seed: u64,
    /// Only the mutants of these rules (all if empty).
    pub rules: Vec<String>,
    /// Only these kinds (all if empty).
    pub kinds: Vec<Kind>,
    /// Run only every Nth matrix cell (1: all).
    pub every: usize,
}

/// Workers per job for the fuzz pass of a wider mutant. Its kill is a
/// count of chances, and a rule that decides in a statement that waits
/// (a connect that times out after 2 s) gives one chance per wait: side by
/// side, the waits overlap. Cases that do not wait just share the CPUs.
const WIDER_WORKERS: usize = 16;

/// Baseline fuzz cases kept per rule no matrix cell reached.
const FUZZ_CASES_KEPT: usize = 256;

/// Who killed a mutant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Killer {
    Matrix,
    Fuzz,
    /// Not killed in the time given.
    None,
}

impl Killer {
    pub fn word(&self) -> &'static str {
        match self {
            Killer::Matrix => "matrix",
            Killer::Fuzz => "fuzz",
            Killer::None => "not killed",
        }
    }
}

/// One mutant's result.
#[derive(Clone, Debug)]
pub struct Row {
    pub mutant: Mutant,
    pub killer: Killer,
    /// From the start of the mutant's matrix pass to the kill (or to the
    /// end of its fuzz time).
    pub time: Duration,
    /// The killing case on one line, and what caught it.
    pub evidence: String,
    /// Matrix cells and fuzz cases the mutant ran.
    pub cells: u64,
    pub fuzz_cases: u64,
}

/// The whole selftest.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub model: String,
    pub rows: Vec<Row>,
    /// Rules of the model's family that no mutant could be made for on
    /// this host, with the reason.
    pub unreached: Vec<(&'static str, String)>,
    /// Matrix cells in the baseline and how many disagreed (must be 0).
    pub baseline_cells: u64,
    pub baseline_mismatches: u64,
    pub baseline_time: Duration,
    /// Over-wide members of the unmutated model in the baseline matrix.
    pub baseline_over_wide: Vec<crate::report::OverWide>,
    /// Mutants made for this host; `rows` holds those that ran to the end.
    pub planned: usize,
    /// Ctrl-C stopped the run: the rows are the mutants finished before it
    /// (the one under way is dropped, never counted as a survivor).
    pub interrupted: bool,
}

impl Report {
    /// Killed mutants and all mutants.
    pub fn score(&self) -> (usize, usize) {
        (self.rows.iter().filter(|r| r.killer != Killer::None).count(), self.rows.len())
    }

    /// The median time to kill of the killed mutants.
    pub fn median_kill(&self) -> Option<Duration> {
        let mut t: Vec<Duration> = self.rows.iter().filter(|r| r.killer != Killer::None).map(|r| r.time).collect();
        t.sort();
        t.get(t.len() / 2).copied().filter(|_| !t.is_empty())
    }
}

/// The rule families a platform's model emits.
fn families(p: crate::platform::Platform) -> &'static [&'static str] {
    use crate::platform::Platform::*;
    match p {
        Linux => &["linux"],
        FreeBsd => &["bsd", "freebsd"],
        MacOs => &["bsd", "macos"],
        Windows => &["windows"],
        Wine => &["wine", "windows"],
    }
}

/// A model that notes, per rule it was asked about, what the rule decided
/// (one bit per [`Kind`] that would change it).
/// Notes are kept per worker thread, so each case's notes are its own.
struct Recorder<'a> {
    base: &'a dyn Model,
    seen: Mutex<HashMap<std::thread::ThreadId, HashMap<&'static str, Mask>>>,
}

impl Recorder<'_> {
    /// What this thread's cases decided since the last take.
    fn take(&self) -> HashMap<&'static str, Mask> {
        self.seen.lock().expect("recorder lock").remove(&std::thread::current().id()).unwrap_or_default()
    }
}

/// A bit per [`Kind`] (in [`Kind::ALL`]'s order).
type Mask = u32;
const _: () = assert!(Kind::ALL.len() <= Mask::BITS as usize);

fn mask_of(p: &Prediction) -> Mask {
    let outcomes: Vec<Outcome> = p.branches.iter().map(|b| b.outcome.clone()).collect();
    Kind::ALL.iter().enumerate().filter(|(_, k)| k.applies(&outcomes)).fold(0, |m, (i, _)| m | 1 << i)
}

impl Model for Recorder<'_> {
    fn spec(&self) -> crate::platform::ModelSpec {
        self.base.spec()
    }
    fn init(&self, prog: &Program) -> State {
        self.base.init(prog)
    }
    fn step(&self, st: &State, op: &Op, ctx: &StepCtx<'_>) -> Prediction {
        let p = self.base.step(st, op, ctx);
        let mut seen = self.seen.lock().expect("recorder lock");
        *seen.entry(std::thread::current().id()).or_default().entry(p.rule).or_default() |= mask_of(&p);
        p
    }
    fn rule_ids(&self) -> Vec<&'static str> {
        self.base.rule_ids()
    }
}

/// What the baseline learned: the cells each rule decides in and what it
/// decides there.
#[derive(Default)]
struct Baseline {
    /// Per rule, the cells it decides in and what it decided in each (a
    /// bit per [`Kind`] that would change it).
    cells_of: HashMap<&'static str, Vec<(u64, Mask)>>,
    kinds: HashMap<&'static str, Mask>,
}

/// How a pass ended for its mutant.
#[derive(Default)]
struct PassEnd {
    kill: Option<(Duration, String)>,
    cases: u64,
    /// For a wider mutant: the cases (by index) where its rule allowed a
    /// member the mutant added, so they gave the over-wide check a chance.
    productive: Vec<u64>,
}

type Members = run::SetMembers;

/// What the baseline does with each case it ran.
type OnCase<'a> = dyn Fn(u64, &CaseRun) + Sync + 'a;

/// What one pass runs: cases by index, until `deadline` or a kill.
struct Pass<'a> {
    session: &'a Session,
    jobs: usize,
    /// The model under test (a mutant, or the recorder for the baseline).
    model: &'a dyn Model,
    /// Case `i` of the pass, or `None` past the end.
    case: &'a (dyn Fn(u64) -> Option<Case> + Sync),
    deadline: Option<Instant>,
    started: Instant,
    /// For a mutant: kill on a confirmed mismatch; for a wider one also
    /// on an over-wide member it added.
    mutant: Option<&'a Mutated<'a>>,
    /// Per case, for the baseline: what the recorder saw.
    on_case: Option<&'a OnCase<'a>>,
}

fn one_line(case: &Case) -> String {
    case::one_line(case)
}

impl Pass<'_> {
    fn run(&self) -> Result<PassEnd, ExecError> {
        let next = AtomicU64::new(0);
        let stop = AtomicBool::new(false);
        let end = Mutex::new(PassEnd::default());
        let members: Mutex<Members> = Mutex::new(Members::default());
        let results: Vec<Result<(), ExecError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..self.jobs)
                .map(|w| {
                    let (next, stop, end, members) = (&next, &stop, &end, &members);
                    s.spawn(move || -> Result<(), ExecError> {
                        let mut ex = exec::new_executor(&self.session.prep, w, self.jobs)?;
                        let can = abilities(&self.session.prep, ex.as_ref());
                        let mut n = 0;
                        let r = self.work(ex.as_mut(), &can, next, stop, end, members, &mut n);
                        end.lock().expect("end lock").cases += n;
                        r
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(ExecError("a worker panicked".into()))))
                .collect()
        });
        for r in results {
            r?;
        }
        Ok(end.into_inner().expect("end lock"))
    }

    #[allow(clippy::too_many_arguments)]
    fn work(
        &self,
        ex: &mut dyn Executor,
        can: &Abilities,
        next: &AtomicU64,
        stop: &AtomicBool,
        end: &Mutex<PassEnd>,
        members: &Mutex<Members>,
        n: &mut u64,
    ) -> Result<(), ExecError> {
        loop {
            if stop.load(Ordering::Relaxed)
                || crate::interrupt::requested()
                || self.deadline.is_some_and(|d| Instant::now() >= d)
            {
                return Ok(());
            }
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(case) = (self.case)(i) else { return Ok(()) };
            let prog = case::compile(&case).expect("selftest cases are valid");
            let r = run::run_case(self.model, ex, &prog, can)?;
            *n += 1;
            if let Some(f) = self.on_case {
                f(i, &r);
            }
            let Some(m) = self.mutant else { continue };
            let caught = match &r.verdict {
                Verdict::Mismatch { .. } => {
                    // It must fail again with the mutant, and not without it.
                    let again = run::run_case(self.model, ex, &prog, can)?;
                    let base = run::run_case(m.base, ex, &prog, can)?;
                    let rec = r.mismatch().expect("a mismatch");
                    (matches!(again.verdict, Verdict::Mismatch { .. }) && base.verdict == Verdict::Agree).then(|| {
                        format!(
                            "step {} model {} real {}: {}",
                            rec.index + 1,
                            rec.expected,
                            rec.actual,
                            one_line(&case)
                        )
                    })
                }
                _ if m.mutant.kind.is_wider() => {
                    let mut all = members.lock().expect("members lock");
                    run::count_set_members(&mut all, &r, Some(m.mutant.rule));
                    let added = m.added();
                    let chance = r.steps.iter().any(|s| {
                        s.agrees() && s.allowed.iter().any(|a| a.rule == m.mutant.rule && added.contains(&a.member))
                    });
                    if chance {
                        end.lock().expect("end lock").productive.push(i);
                    }
                    let added: HashSet<String> = added.iter().map(|o| o.to_string()).collect();
                    let wide = crate::report::over_wide(&all.all, &all.alone, crate::model::rules::MEASURED_RATES);
                    wide.iter().find(|w| w.rule == m.mutant.rule && added.contains(&w.member)).map(|w| {
                        format!(
                            "over-wide: {} never seen in {} chances (last case: {})",
                            w.member,
                            w.chances,
                            one_line(&case)
                        )
                    })
                }
                _ => None,
            };
            if let Some(evidence) = caught {
                let mut e = end.lock().expect("end lock");
                if e.kill.is_none() {
                    e.kill = Some((self.started.elapsed(), evidence));
                }
                stop.store(true, Ordering::Relaxed);
                return Ok(());
            }
        }
    }
}

/// Runs the selftest: the baseline, then every mutant through its matrix
/// cells and, if it lives, fuzz. `progress` hears of each mutant's result
/// as it comes.
pub fn run(session: &Session, o: &Options, progress: &mut dyn FnMut(&Row)) -> Result<Report, ExecError> {
    let base = session.model.as_ref();
    let spec = base.spec();
    let all_cells: Vec<Cell> = cells(spec.platform).into_iter().step_by(o.every.max(1)).collect();
    let mut report = Report { model: spec.to_string(), ..Report::default() };

    // The baseline: every cell with the unmutated model, recording rules.
    let rec = Recorder { base, seen: Mutex::new(HashMap::new()) };
    let baseline = Mutex::new(Baseline::default());
    let mismatches = AtomicU64::new(0);
    let members: Mutex<Members> = Mutex::new(Members::default());
    let t0 = Instant::now();
    {
        let on_case = |i: u64, r: &CaseRun| {
            let seen = rec.take();
            let mut b = baseline.lock().expect("baseline lock");
            for (rule, mask) in seen {
                b.cells_of.entry(rule).or_default().push((i, mask));
                *b.kinds.entry(rule).or_default() |= mask;
            }
            if matches!(r.verdict, Verdict::Mismatch { .. }) {
                mismatches.fetch_add(1, Ordering::Relaxed);
            }
            run::count_set_members(&mut members.lock().expect("members lock"), r, None);
        };
        let case = |i: u64| all_cells.get(i as usize).map(|c| c.case.clone());
        let pass = Pass {
            session,
            jobs: o.jobs,
            model: &rec,
            case: &case,
            deadline: None,
            started: t0,
            mutant: None,
            on_case: Some(&on_case),
        };
        report.baseline_cells = pass.run()?.cases;
    }
    report.baseline_time = t0.elapsed();
    report.baseline_mismatches = mismatches.load(Ordering::Relaxed);
    if crate::interrupt::requested() {
        report.interrupted = true;
        return Ok(report);
    }
    let m = members.into_inner().expect("members lock");
    report.baseline_over_wide = crate::report::over_wide(&m.all, &m.alone, crate::model::rules::MEASURED_RATES);
    let mut baseline = baseline.into_inner().expect("baseline lock");
    for v in baseline.cells_of.values_mut() {
        v.sort_unstable();
    }

    // Rules the model can emit on this host that the matrix never reached:
    // a baseline fuzz of the same time limit looks for them.
    let reachable = base.rule_ids();
    let gen_cfg = GenConfig::default();
    let fuzz_case = |i: u64| Some(generate::case_from_seed(generate::case_seed(o.seed, i), gen_cfg, base));
    let missing: Vec<&'static str> =
        reachable.iter().copied().filter(|r| !baseline.kinds.contains_key(r) && wanted(o, r)).collect();
    let mut fuzz_reached: HashMap<&'static str, Mask> = HashMap::new();
    // For a rule no cell reached: the baseline fuzz cases it decided in.
    let mut fuzz_cases_of: HashMap<&'static str, Vec<(u64, Mask)>> = HashMap::new();
    if !missing.is_empty() {
        let fr = Mutex::new((HashMap::<&'static str, Mask>::new(), HashMap::<&'static str, Vec<(u64, Mask)>>::new()));
        let on_case = |i: u64, _: &CaseRun| {
            let mut fr = fr.lock().expect("lock");
            for (rule, mask) in rec.take() {
                *fr.0.entry(rule).or_default() |= mask;
                let cases = fr.1.entry(rule).or_default();
                if cases.len() < FUZZ_CASES_KEPT {
                    cases.push((i, mask));
                }
            }
        };
        let pass = Pass {
            session,
            jobs: o.jobs,
            model: &rec,
            case: &fuzz_case,
            deadline: Some(Instant::now() + o.fuzz_time),
            started: Instant::now(),
            mutant: None,
            on_case: Some(&on_case),
        };
        pass.run()?;
        (fuzz_reached, fuzz_cases_of) = fr.into_inner().expect("lock");
        if crate::interrupt::requested() {
            // What the cut-short fuzz did not reach says nothing.
            report.interrupted = true;
            return Ok(report);
        }
    }

    // Rules of the family this host's model does not have, and rules
    // nothing reached: listed, never silently left out.
    let version = spec.version.as_ref();
    for id in crate::model::rule_ids_of(families(spec.platform)) {
        if !wanted(o, id) {
            continue;
        }
        if !reachable.contains(&id) {
            let why = if !crate::model::rules::applies(id, version) {
                let range = crate::model::rules::VERSION_RANGES.iter().find(|(r, _)| *r == id).map(|(_, r)| *r);
                format!("version-gated: {} (model {spec})", range_text(range))
            } else if !crate::model::variants::allows(id, &spec) {
                format!("variant +{} is off on this host (model {spec})", crate::model::variants::name_of(id))
            } else {
                format!("not a rule of the {spec} model")
            };
            report.unreached.push((id, why));
        } else if !baseline.kinds.contains_key(id) && !fuzz_reached.contains_key(id) {
            report.unreached.push((
                id,
                format!(
                    "never decided here: not in the {} matrix cells nor in {}s of fuzz",
                    all_cells.len(),
                    o.fuzz_time.as_secs()
                ),
            ));
        }
    }

    // The mutants: every kind that changes something the rule decided.
    let mut mutants = Vec::new();
    for &rule in &reachable {
        if !wanted(o, rule) {
            continue;
        }
        let Some(mask) = baseline.kinds.get(rule).or(fuzz_reached.get(rule)).copied() else { continue };
        for (i, kind) in Kind::ALL.iter().enumerate() {
            if mask & (1 << i) != 0 && (o.kinds.is_empty() || o.kinds.contains(kind)) {
                mutants.push(Mutant { rule, kind: *kind });
            }
        }
    }

    report.planned = mutants.len();
    if crate::interrupt::requested() {
        report.interrupted = true;
        return Ok(report);
    }
    for mutant in mutants {
        let m = Mutated::new(base, mutant);
        let started = Instant::now();
        // The cells where the rule decided something this kind changes.
        let bit = 1 << Kind::ALL.iter().position(|k| *k == mutant.kind).expect("a kind");
        let with_bit = |v: Option<&Vec<(u64, Mask)>>| -> Vec<u64> {
            v.map(|v| v.iter().filter(|(_, mask)| mask & bit != 0).map(|(c, _)| *c).collect()).unwrap_or_default()
        };
        let cells_of = with_bit(baseline.cells_of.get(mutant.rule));
        let case = |i: u64| cells_of.get(i as usize).map(|&c| all_cells[c as usize].case.clone());
        let pass = Pass {
            session,
            jobs: o.jobs,
            model: &m,
            case: &case,
            deadline: None,
            started,
            mutant: Some(&m),
            on_case: None,
        };
        let end = pass.run()?;
        let mut row = Row {
            mutant,
            killer: Killer::Matrix,
            time: Duration::ZERO,
            evidence: String::new(),
            cells: end.cases,
            fuzz_cases: 0,
        };
        match end.kill {
            Some((t, ev)) => {
                row.time = t;
                row.evidence = ev;
            }
            None => {
                // A wider set is caught only by chances: generated cases
                // alternate with the rule's own cases run again (on new
                // ports each time), so a rule that decides in few places
                // still gets its chances within the time limit. Its own
                // cases: the cells where the mutant added a member, else
                // every cell where the rule decided so, else the baseline
                // fuzz cases where it did.
                let own: Vec<Case> = if !end.productive.is_empty() {
                    let mut p = end.productive.clone();
                    p.sort_unstable();
                    p.iter().filter_map(|&i| case(i)).collect()
                } else if !cells_of.is_empty() {
                    (0..cells_of.len() as u64).filter_map(case).collect()
                } else {
                    with_bit(fuzz_cases_of.get(mutant.rule)).into_iter().filter_map(fuzz_case).collect()
                };
                let focused = |i: u64| {
                    if mutant.kind.is_wider() && !own.is_empty() && i % 2 == 1 {
                        own.get((i / 2 % own.len() as u64) as usize).cloned()
                    } else {
                        fuzz_case(if mutant.kind.is_wider() { i / 2 } else { i })
                    }
                };
                let pass = Pass {
                    session,
                    jobs: if mutant.kind.is_wider() { o.jobs * WIDER_WORKERS } else { o.jobs },
                    model: &m,
                    case: &focused,
                    deadline: Some(Instant::now() + o.fuzz_time),
                    started,
                    mutant: Some(&m),
                    on_case: None,
                };
                let end = pass.run()?;
                row.fuzz_cases = end.cases;
                match end.kill {
                    Some((t, ev)) => {
                        row.killer = Killer::Fuzz;
                        row.time = t;
                        row.evidence = ev;
                    }
                    None => {
                        row.killer = Killer::None;
                        row.time = started.elapsed();
                    }
                }
            }
        }
        if crate::interrupt::requested() {
            // Its passes were cut short: it is neither killed nor alive.
            report.interrupted = true;
            break;
        }
        progress(&row);
        report.rows.push(row);
    }
    Ok(report)
}

fn wanted(o: &Options, rule: &str) -> bool {
    o.rules.is_empty() || o.rules.iter().any(|r| r == rule)
}

fn range_text(r: Option<crate::model::rules::Range>) -> String {
    let v = |x: &[u32]| x.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(".");
    match r {
        Some((Some(s), Some(u))) => format!("{} to before {}", v(s), v(u)),
        Some((Some(s), None)) => format!("{} and later", v(s)),
        Some((None, Some(u))) => format!("before {}", v(u)),
        _ => "no range".into(),
    }
}
