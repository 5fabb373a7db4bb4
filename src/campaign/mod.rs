//! The campaign engine, below the command line: a [`Campaign`] takes cases
//! from a [`CaseSource`] (random ones for `fuzz`, the cells of the
//! [`matrix`]), runs them for real on worker threads (each in its own
//! network namespace on Linux) in a live [`Session`], diffs every step
//! against the session's model, minimizes each new mismatch and re-runs
//! the result to check that it reproduces, and writes the run folder as it
//! goes. [`bench`] measures the same pipeline against its floor.

pub mod bench;
pub mod matrix;
pub mod mutants;
mod progress;

use progress::Progress;

use crate::case::{self, Case, Verb};
use crate::exec::{self, ExecError};
use crate::generate::{self, GenConfig};
use crate::model::Model;
use crate::report::{self, Coverage, Fingerprint, MismatchRow, RunDir, Summary, Throughput};
use crate::run::{self, StepRecord, Verdict};
use crate::session::{Session, abilities};
use anyhow::{Context, Result, anyhow};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime};

/// Counters a worker sends now and then.
#[derive(Default)]
struct Delta {
    cases: u64,
    statements: u64,
    /// Statements run, by kind (index: [`Verb::ALL`]).
    kinds: [u64; Verb::ALL.len()],
    skipped: BTreeMap<String, u64>,
    invalid: u64,
    unknown: u64,
    /// (rule, member of a predicted set it allowed, one state alone) ->
    /// [chances, times seen].
    members: HashMap<(&'static str, crate::outcome::Outcome, bool), [u64; 2]>,
    repeats: BTreeMap<String, u64>,
    rules: HashMap<&'static str, u64>,
}

impl Delta {
    fn is_empty(&self) -> bool {
        self.cases == 0
    }
}

/// A new mismatch, re-run.
struct Finding {
    /// Its place in this run's order (within the shard).
    index: u64,
    /// Its index in the seed's whole sequence.
    global: u64,
    seed: String,
    case: Case,
    original_len: usize,
    rec: StepRecord,
    signature: String,
    reproduced: u32,
    reruns: u32,
    /// Not reported: it did not come back in the re-runs (k = 0), or, in
    /// the host's shared network stack, not in every one of them.
    flaky: bool,
    /// Every statement of the minimized case run once, for the corpus record.
    full: run::CaseRun,
}

enum Msg {
    Delta(Delta),
    Finding(Box<Finding>),
    Record(Box<CaseRecord>),
    /// A case that turned out invalid on the way the run went, or that the
    /// model could not follow to its end (`folder`: `invalid` or
    /// `unknown`), kept to look at.
    Kept {
        folder: &'static str,
        index: u64,
        text: String,
    },
    Fatal(String),
}

/// What each signature has become: being re-run by a worker (after n
/// earlier tries), reported, or not reproduced in n tries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Claim {
    Checking(u32),
    Reported,
    Flaky(u32),
}

/// Where a campaign's cases come from.
pub trait CaseSource: Sync {
    /// Case number `index` and its seed as the CSV writes it (from which
    /// the case can be made again), or `None` when there are no more.
    fn case(&self, index: u64, model: &dyn Model) -> Option<(String, Case)>;
    /// How many cases there are, if the source is finite.
    fn total(&self) -> Option<u64>;
    /// The version of the generator that makes the cases, if they are
    /// generated.
    fn generator_version(&self) -> Option<u32> {
        None
    }
    /// Statement indices whose records the caller wants per case (the
    /// matrix table); empty for none.
    fn key_steps(&self, _index: u64) -> Vec<usize> {
        Vec::new()
    }
}

/// Random cases from a run seed.
pub struct Generated {
    pub seed: u64,
    pub cfg: GenConfig,
}

impl CaseSource for Generated {
    fn case(&self, index: u64, model: &dyn Model) -> Option<(String, Case)> {
        let seed = generate::case_seed(self.seed, index);
        Some((generate::seed_text(seed), generate::case_from_seed(seed, self.cfg, model)))
    }

    fn total(&self) -> Option<u64> {
        None
    }

    fn generator_version(&self) -> Option<u32> {
        Some(generate::GENERATOR_VERSION)
    }
}

/// Which part of a seed's case sequence a run takes: shard `number` of
/// `of` runs the cases whose index is `number - 1` modulo `of`, so the
/// shards of one seed together run exactly the cases of the unsharded run,
/// none twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// From 1.
    pub number: u64,
    pub of: u64,
}

impl Shard {
    /// The whole sequence.
    pub const WHOLE: Shard = Shard { number: 1, of: 1 };

    /// Parses `I/N` (1 <= I <= N).
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("'{s}' is not a shard: write I/N with 1 <= I <= N (for example 2/4)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (number, of) = (i.trim().parse::<u64>().map_err(|_| bad())?, n.trim().parse::<u64>().map_err(|_| bad())?);
        if number == 0 || of == 0 || number > of {
            return Err(bad());
        }
        Ok(Shard { number, of })
    }

    /// The index in the whole sequence of this shard's `local`-th case.
    pub fn global(self, local: u64) -> u64 {
        local * self.of + (self.number - 1)
    }

    /// How many of the first `total` cases of the sequence are this shard's.
    pub fn count_of(self, total: u64) -> u64 {
        total.saturating_sub(self.number - 1).div_ceil(self.of)
    }

    /// Whether this is the whole sequence.
    pub fn is_whole(self) -> bool {
        self.of == 1
    }

    /// The case id of case `global` (it carries the shard when there is one).
    pub fn case_id(self, global: u64) -> String {
        if self.is_whole() {
            format!("case-{global:06}")
        } else {
            format!("case-{global:06}-s{}of{}", self.number, self.of)
        }
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.number, self.of)
    }
}

/// Everything a campaign (fuzz or matrix) needs.
pub struct Campaign<'a> {
    /// `fuzz` or `matrix`.
    pub label: &'static str,
    pub source: &'a dyn CaseSource,
    pub seed: u64,
    pub duration: Option<Duration>,
    pub cases: Option<u64>,
    pub out: PathBuf,
    pub jobs: Option<usize>,
    pub reruns: u32,
    pub junit: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub save_corpus: Option<PathBuf>,
    /// The part of the case sequence this run takes; `cases` counts the
    /// whole sequence.
    pub shard: Shard,
    /// The live session: isolation, host settings, the model (calibrated
    /// when it is the host's).
    pub session: &'a Session,
}

/// The per-case records a source asked for.
#[derive(Clone, Debug)]
pub struct CaseRecord {
    pub index: u64,
    pub verdict: Verdict,
    pub steps: Vec<StepRecord>,
}

/// What a campaign leaves: its exit code, run folder, summary and records.
pub struct Outcome {
    pub code: u8,
    pub dir: PathBuf,
    pub summary: Summary,
    pub records: Vec<CaseRecord>,
}

/// Runs a campaign: workers take cases from the source, run them for real,
/// and each new mismatch is minimized and re-run; the run folder is
/// written as it goes.
pub fn run_campaign(a: &Campaign<'_>) -> Result<Outcome> {
    let duration = a.duration;
    let seed = a.seed;
    let started = SystemTime::now();
    let run_id = report::run_id(started, seed);
    // The run folder first: an unwritable --out fails before any work.
    let mut dir = RunDir::create(&a.out, &run_id).with_context(|| format!("--out {}", a.out.display()))?;
    let (prep, settings, model) = (&a.session.prep, &a.session.settings, &a.session.model);
    crate::interrupt::install();
    let jobs = a.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).max(1);
    let id = exec::host_identity();
    let mut fp = Fingerprint {
        os: id.os.clone(),
        release: id.release.clone(),
        build: id.build.clone(),
        arch: id.arch.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        model: model.spec().to_string(),
        variants: model.spec().variants.iter().cloned().collect(),
        calibration: a.session.calibration.as_ref().map(|c| c.probes.clone()).unwrap_or_default(),
        settings: BTreeMap::new(),
    };
    fp.settings.insert("net.ipv6.bindv6only".into(), (settings.bindv6only as u8).to_string());
    fp.settings.insert("isolation".into(), format!("{:?}", prep.isolation));
    fp.settings.insert("jobs".into(), jobs.to_string());
    let mut summary = Summary {
        run_id: dir.run_id.clone(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        seed: seed.to_string(),
        started_at: report::rfc3339(started),
        status: "running".into(),
        fingerprint: fp,
        generator_version: a.source.generator_version(),
        shard: (!a.shard.is_whole()).then(|| a.shard.to_string()),
        ..Summary::default()
    };
    dir.write_summary(&summary)?;
    // A calibration probe that matched neither side is the run's first finding.
    if let Some(cal) = &a.session.calibration {
        for p in cal.unknown() {
            if calibration_finding(&mut dir, p, model.as_ref(), a.session, a.reruns, &id)? {
                summary.counts.mismatches += 1;
            } else {
                summary.counts.flaky += 1;
            }
        }
    }
    // The limit counts the whole sequence; this shard runs its part of it.
    let limit = match (a.cases, a.source.total()) {
        (Some(n), Some(t)) => Some(n.min(t)),
        (n, t) => n.or(t),
    }
    .map(|n| a.shard.count_of(n));
    crate::info!(
        "sockdiff {}: seed {seed}{}, {jobs} worker(s), model {}, {}; report: {}",
        a.label,
        if a.shard.is_whole() { String::new() } else { format!(", shard {}", a.shard) },
        model.spec(),
        match (duration, limit) {
            (Some(d), Some(n)) => format!("up to {n} cases or {}s", d.as_secs()),
            (Some(d), None) => format!("for {}s", d.as_secs()),
            (None, Some(n)) => format!("{n} cases"),
            (None, None) => "until interrupted".to_string(),
        },
        dir.path.display()
    );
    let corpus_dir = a.save_corpus.as_ref().map(|d| {
        if d.as_os_str().is_empty() {
            crate::corpus::platform_dir(std::path::Path::new("corpus"), model.spec().platform).join("found")
        } else {
            d.clone()
        }
    });
    // The case each worker is on (u64::MAX once it has stopped): a new
    // mismatch is claimed, and findings are written, in case order.
    let inflight: Vec<AtomicU64> = (0..jobs).map(|_| AtomicU64::new(0)).collect();
    let t0 = Instant::now();
    let shared = Shared {
        model: model.as_ref(),
        prep,
        jobs,
        source: a.source,
        shard: a.shard,
        max_cases: limit,
        deadline: duration.map(|d| t0 + d),
        reruns: a.reruns,
        next: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        claims: Mutex::new(HashMap::new()),
        panic_at: injected_panic_at(),
        shared_stack: prep.isolation == exec::Isolation::Host,
    };
    let stop = &shared.stop;
    let (tx, rx) = mpsc::channel::<Msg>();
    let model_ref: &dyn Model = model.as_ref();
    let mut fatal: Option<String> = None;
    let mut rules: BTreeMap<String, u64> = BTreeMap::new();
    let progress = Progress::new(limit, duration, a.label);
    let mut records: Vec<CaseRecord> = Vec::new();
    // Cases skipped because they ran out of file descriptors.
    let mut fd_skips = 0u64;

    std::thread::scope(|s| {
        quiet_worker_panics();
        for w in 0..jobs {
            let (tx, tx_err) = (tx.clone(), tx.clone());
            let (shared, inflight) = (&shared, &inflight[..]);
            let spawned = std::thread::Builder::new().name(format!("{WORKER_THREAD}{w}")).spawn_scoped(s, move || {
                let turn = Turn { all: inflight, me: w };
                // A panic ends the run with one line, and the folder as
                // written so far (its last summary says `error`).
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| worker(shared, w, &turn, &tx)));
                drop(turn);
                match r {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        let _ = tx.send(Msg::Fatal(e.to_string()));
                    }
                    Err(_) => {
                        let why = LAST_PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| "a panic".into());
                        let _ = tx.send(Msg::Fatal(format!("worker {w} stopped: {why} (a bug in sockdiff)")));
                    }
                }
            });
            if let Err(e) = spawned {
                let _ = tx_err.send(Msg::Fatal(format!("cannot start worker {w}: {e}")));
            }
        }
        drop(tx);
        let mut last_summary = Instant::now();
        // Findings wait here until no worker is on an earlier case, so the
        // CSV lists them in case order whatever the timing.
        let mut pending: BTreeMap<u64, Box<Finding>> = BTreeMap::new();
        loop {
            let msg = rx.recv_timeout(Duration::from_millis(200));
            let done = matches!(msg, Err(mpsc::RecvTimeoutError::Disconnected));
            match msg {
                Ok(Msg::Delta(d)) => {
                    let no_fds = d.skipped.get(run::NO_FDS).copied().unwrap_or(0);
                    fd_skips += no_fds;
                    let c = &mut summary.counts;
                    c.cases += d.cases;
                    c.statements += d.statements;
                    for (v, n) in Verb::ALL.iter().zip(d.kinds) {
                        if n > 0 {
                            *summary.statement_kinds.entry(v.word().to_string()).or_default() += n;
                        }
                    }
                    c.invalid += d.invalid;
                    c.unknown += d.unknown;
                    for ((rule, member, alone), [n, seen]) in d.members {
                        let (all, lone) = (&mut summary.set_members, &mut summary.set_members_alone);
                        run::SetMembers::add_to(all, lone, rule, &member.to_string(), alone, n, seen);
                    }
                    for (k, v) in d.skipped {
                        c.skipped += v;
                        *summary.skipped_reasons.entry(k).or_default() += v;
                    }
                    for (k, v) in d.repeats {
                        c.repeats += v;
                        *summary.signatures.entry(k).or_default() += v;
                    }
                    for (k, v) in d.rules {
                        *rules.entry(k.to_string()).or_default() += v;
                    }
                }
                Ok(Msg::Finding(f)) => {
                    pending.insert(f.index, f);
                }
                Ok(Msg::Fatal(e)) => {
                    fatal.get_or_insert(e);
                    stop.store(true, Ordering::Relaxed);
                }
                Ok(Msg::Record(r)) => records.push(*r),
                Ok(Msg::Kept { folder, index, text }) => {
                    // Counted in summary.json; the case is kept beside it.
                    let kept = dir.path.join(folder);
                    let _ = std::fs::create_dir_all(&kept).and_then(|_| {
                        report::write_atomic(&kept.join(format!("{}.case", a.shard.case_id(index))), text.as_bytes())
                    });
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {}
            }
            let low = if done {
                u64::MAX
            } else {
                inflight.iter().map(|x| x.load(Ordering::SeqCst)).min().unwrap_or(u64::MAX)
            };
            while let Some(f) = pending.first_entry().filter(|e| *e.key() < low).map(|e| e.remove()) {
                if f.flaky {
                    summary.counts.flaky += 1;
                    *summary.flaky_signatures.entry(f.signature.clone()).or_default() += 1;
                    // Kept for a look, outside the CSV: it is not a finding.
                    let flaky = dir.path.join("flaky");
                    let text = format!(
                        "# failed again in {} of {} re-runs (case seed {}): {}\n{}",
                        f.reproduced,
                        f.reruns,
                        f.seed,
                        f.signature,
                        case::print(&f.case)
                    );
                    let _ = std::fs::create_dir_all(&flaky).and_then(|_| {
                        report::write_atomic(
                            &flaky.join(format!("{}.case", a.shard.case_id(f.global))),
                            text.as_bytes(),
                        )
                    });
                } else {
                    summary.counts.mismatches += 1;
                    *summary.signatures.entry(f.signature.clone()).or_default() += 1;
                    if let Err(e) = write_finding(&mut dir, &f, a.shard, model_ref, &id, corpus_dir.as_deref()) {
                        fatal.get_or_insert(e.to_string());
                        stop.store(true, Ordering::Relaxed);
                    }
                    progress.println(&format!(
                        "mismatch: step {} `{}`: model {} ({}), real {}, reproduced {}/{}",
                        f.rec.index + 1,
                        f.case.steps[f.rec.index].stmt,
                        f.rec.expected,
                        f.rec.rule,
                        f.rec.actual,
                        f.reproduced,
                        f.reruns
                    ));
                    if crate::say::verbose() {
                        let meaning = crate::model::rules::find(f.rec.rule).map(|r| r.meaning).unwrap_or("");
                        progress.println(&format!("  {}: {meaning}", f.rec.rule));
                    }
                }
            }
            // Nothing can run: every case so far ran out of descriptors.
            let c = &summary.counts;
            if fatal.is_none() && fd_skips > 0 && fd_skips == c.cases && (c.cases >= NO_FDS_GIVE_UP || done) {
                fatal = Some(format!(
                    "out of file descriptors: none of the {} case(s) run could open its sockets (EMFILE/ENFILE; the limit is {}); raise it (ulimit -n) or run fewer workers (-j)",
                    c.cases,
                    exec::fd_limit().map_or("unknown".to_string(), |n| n.to_string())
                ));
                stop.store(true, Ordering::Relaxed);
            }
            progress.update(&summary.counts, t0.elapsed());
            if crate::interrupt::requested() {
                stop.store(true, Ordering::Relaxed);
            }
            if last_summary.elapsed() > Duration::from_secs(5) {
                fill(&mut summary, &rules, model_ref, t0.elapsed());
                let _ = dir.write_summary(&summary);
                last_summary = Instant::now();
            }
            if done {
                break;
            }
        }
    });
    progress.finish();

    fill(&mut summary, &rules, model_ref, t0.elapsed());
    summary.finished_at = report::rfc3339(SystemTime::now());
    summary.status = if fatal.is_some() {
        "error".into()
    } else if crate::interrupt::requested() {
        "interrupted".into()
    } else if limit.is_some_and(|n| summary.counts.cases >= n) {
        "cases".into()
    } else {
        "duration".into()
    };
    dir.write_summary(&summary).with_context(|| format!("cannot write the summary in {}", dir.path.display()))?;
    if a.junit.is_some() || a.markdown.is_some() {
        // Made from the files on disk, so they cannot disagree with them.
        let rows = report::read_mismatches(&dir.path)?;
        if let Some(p) = &a.junit {
            report::write_atomic(p, crate::render::junit_fuzz(&rows, &summary).as_bytes())?;
        }
        if let Some(p) = &a.markdown {
            report::write_atomic(p, crate::render::markdown_fuzz(&rows, &summary).as_bytes())?;
        }
    }
    let c = &summary.counts;
    crate::info!(
        "{} cases ({:.0}/s), {} statements, {} mismatch(es), {} flaky, {} skipped, {} repeat(s); rules fired {}/{}",
        c.cases,
        summary.throughput.cases_per_s,
        c.statements,
        c.mismatches,
        c.flaky,
        c.skipped,
        c.repeats,
        summary.coverage.fired,
        summary.coverage.total
    );
    crate::info!("report: {}", dir.path.display());
    if let Some(e) = fatal {
        return Err(anyhow!(e));
    }
    records.sort_by_key(|r| r.index);
    let code = if summary.counts.mismatches > 0 { 1 } else { 0 };
    Ok(Outcome { code, dir: dir.path.clone(), summary, records })
}

fn fill(summary: &mut Summary, rules: &BTreeMap<String, u64>, model: &dyn Model, elapsed: Duration) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    summary.throughput = Throughput {
        elapsed_s: (secs * 1000.0).round() / 1000.0,
        cases_per_s: (summary.counts.cases as f64 / secs * 10.0).round() / 10.0,
        statements_per_s: (summary.counts.statements as f64 / secs * 10.0).round() / 10.0,
    };
    summary.rules = rules.clone();
    let all = model.rule_ids();
    let missing: Vec<String> = all.iter().filter(|r| !rules.contains_key(**r)).map(|r| r.to_string()).collect();
    summary.coverage = Coverage { fired: all.len() - missing.len(), total: all.len(), missing };
    summary.over_wide =
        report::over_wide(&summary.set_members, &summary.set_members_alone, crate::model::rules::MEASURED_RATES);
}

fn write_finding(
    dir: &mut RunDir,
    f: &Finding,
    shard: Shard,
    model: &dyn Model,
    id: &exec::HostIdentity,
    corpus_dir: Option<&std::path::Path>,
) -> Result<()> {
    let case_id = shard.case_id(f.global);
    let step = f.rec.index + 1;
    let statement = f.case.steps[f.rec.index].stmt.to_string();
    let row = MismatchRow {
        run_id: dir.run_id.clone(),
        found_at: report::rfc3339(SystemTime::now()),
        host_os: id.os.clone(),
        os_release: id.release.clone(),
        model: model.spec().to_string(),
        seed: f.seed.clone(),
        case_id: case_id.clone(),
        step,
        statement: statement.clone(),
        expected: f.rec.expected.to_string(),
        actual: f.rec.actual.to_string(),
        rule: f.rec.rule.to_string(),
        reproduced: format!("{}/{}", f.reproduced, f.reruns),
        original_len: f.original_len,
        minimized_len: f.case.len(),
        case: case::one_line(&f.case),
    };
    let header = format!(
        "sockdiff fuzz {case_id}, case seed {}\nstep {step} `{statement}`: model {} expected {} (rule {}), real {}; reproduced {}",
        f.seed, row.model, row.expected, row.rule, row.actual, row.reproduced
    );
    dir.add_mismatch(&row, &f.case, &header)?;
    if let Some(cdir) = corpus_dir {
        std::fs::create_dir_all(cdir).with_context(|| format!("--save-corpus {}", cdir.display()))?;
        let spec = model.spec();
        let c = crate::corpus::finding_case(&f.case, &f.full, &spec, &header);
        let path = cdir.join(format!("{}-{case_id}.case", dir.run_id));
        report::write_atomic(&path, case::print(&c).as_bytes())?;
    }
    Ok(())
}

/// Re-runs a calibration probe that matched neither side of its variant
/// against the host model (upstream for that variant) and writes it as a
/// finding; returns false if it did not fail again (flaky).
fn calibration_finding(
    dir: &mut RunDir,
    p: &crate::calibrate::ProbeResult,
    model: &dyn Model,
    session: &Session,
    reruns: u32,
    id: &exec::HostIdentity,
) -> Result<bool> {
    let Some(v) = crate::model::variants::of(model.spec().platform).find(|v| v.name() == p.variant) else {
        return Ok(false);
    };
    let prog = crate::calibrate::probe_program(v);
    let case = case::parse(v.rule, v.probe).expect("a variant's probe parses");
    let runs = reruns.max(1);
    let (k, rec) = std::thread::scope(|s| {
        s.spawn(|| -> Result<(u32, Option<StepRecord>), ExecError> {
            let mut ex = exec::new_executor(&session.prep, 0, 1)?;
            let can = abilities(&session.prep, ex.as_ref());
            let first = run::run_case(model, ex.as_mut(), &prog, &can)?;
            let Some(sig) = run::run_signature(&prog, &first) else { return Ok((0, None)) };
            let (k, _) = run::reproduce(model, ex.as_mut(), &prog, &can, &sig, runs)?;
            Ok((k, first.mismatch().cloned()))
        })
        .join()
        .map_err(|_| ExecError("the calibration thread panicked".into()))
    })??;
    let Some(rec) = rec.filter(|_| k > 0) else { return Ok(false) };
    let case_id = format!("calibration-{}", p.variant);
    let statement = case.steps[rec.index].stmt.to_string();
    let row = MismatchRow {
        run_id: dir.run_id.clone(),
        found_at: report::rfc3339(SystemTime::now()),
        host_os: id.os.clone(),
        os_release: id.release.clone(),
        model: model.spec().to_string(),
        seed: String::new(),
        case_id: case_id.clone(),
        step: rec.index + 1,
        statement: statement.clone(),
        expected: rec.expected.to_string(),
        actual: rec.actual.to_string(),
        rule: p.rule.clone(),
        reproduced: format!("{k}/{runs}"),
        original_len: case.len(),
        minimized_len: case.len(),
        case: case::one_line(&case),
    };
    let header = format!(
        "sockdiff calibration probe of {}: matches neither the upstream model nor +{}\nstep {} `{statement}`: model {} expected {}, real {}; reproduced {k}/{runs}",
        p.rule,
        p.variant,
        rec.index + 1,
        row.model,
        row.expected,
        row.actual
    );
    dir.add_mismatch(&row, &case, &header)?;
    eprintln!("mismatch: calibration probe of {}: {}", p.rule, p.describe());
    Ok(true)
}

/// After this many cases, all out of file descriptors, a run stops: nothing can run.
const NO_FDS_GIVE_UP: u64 = 20;

/// The name of worker threads (with their number after it).
const WORKER_THREAD: &str = "sockdiff-worker-";

thread_local! {
    /// Where and why this thread last panicked, as one line.
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// A worker's panic is told once, as one line, by the run's error (the
/// worker catches it); other threads' panics go to the hook as before.
fn quiet_worker_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let earlier = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let worker = std::thread::current().name().is_some_and(|n| n.starts_with(WORKER_THREAD));
            if !worker {
                return earlier(info);
            }
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
            let line = format!("panicked{at}: {msg}").replace('\n', " ");
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(line));
        }));
    });
}

/// A fault a test asks for (`SOCKDIFF_FAULT=panic-at-case:N`: the worker
/// that takes case N panics), so the way a run ends on a bug is tested.
fn injected_panic_at() -> Option<u64> {
    std::env::var("SOCKDIFF_FAULT").ok()?.strip_prefix("panic-at-case:")?.parse().ok()
}

/// Which case each worker is on (u64::MAX once it has stopped, also by a
/// panic: dropping it says so). Cases are handed out in order, so a slot
/// never runs ahead of its worker.
struct Turn<'a> {
    all: &'a [AtomicU64],
    me: usize,
}

impl Turn<'_> {
    fn on(&self, index: u64) {
        self.all[self.me].store(index, Ordering::SeqCst);
    }

    /// Waits until every other worker is past case `index` (or the run is
    /// stopping): a worker on an earlier case may find the same signature.
    fn wait_for_earlier(&self, index: u64, stop: &AtomicBool) {
        while !self.all.iter().enumerate().all(|(w, x)| w == self.me || x.load(Ordering::SeqCst) > index) {
            if stop.load(Ordering::Relaxed) || crate::interrupt::requested() {
                return;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.on(u64::MAX);
    }
}

/// What every worker of a campaign shares.
struct Shared<'a> {
    model: &'a dyn Model,
    prep: &'a exec::Prepared,
    jobs: usize,
    source: &'a dyn CaseSource,
    shard: Shard,
    /// This shard's number of cases, if bounded.
    max_cases: Option<u64>,
    deadline: Option<Instant>,
    reruns: u32,
    /// The next case, counted within the shard.
    next: AtomicU64,
    stop: AtomicBool,
    claims: Mutex<HashMap<String, Claim>>,
    /// A test's injected fault: panic at this case.
    panic_at: Option<u64>,
    /// Cases run in the host's shared network stack (`--no-netns`, or an
    /// OS without namespaces), where other processes' sockets are seen.
    shared_stack: bool,
}

/// One worker: takes the next case of the shard, runs it, and minimizes
/// and re-runs a mismatch of a signature nobody has claimed.
fn worker(sh: &Shared<'_>, w: usize, turn: &Turn<'_>, tx: &mpsc::Sender<Msg>) -> Result<(), ExecError> {
    let Shared { model, prep, jobs, source, shard, max_cases, deadline, reruns, .. } = *sh;
    let (next, stop, claims) = (&sh.next, &sh.stop, &sh.claims);
    let mut ex = exec::new_executor(prep, w, jobs)?;
    let can = abilities(prep, ex.as_ref());
    let mut delta = Delta::default();
    let mut last = Instant::now();
    loop {
        if stop.load(Ordering::Relaxed)
            || crate::interrupt::requested()
            || deadline.is_some_and(|d| Instant::now() >= d)
        {
            break;
        }
        let index = next.fetch_add(1, Ordering::Relaxed);
        if max_cases.is_some_and(|n| index >= n) {
            break;
        }
        turn.on(index);
        if sh.panic_at == Some(index) {
            panic!("injected fault at case {index} (SOCKDIFF_FAULT)");
        }
        let global = shard.global(index);
        let Some((seed, case)) = source.case(global, model) else { break };
        let prog = case::compile(&case).expect("generated cases are valid");
        let r = run::run_case(model, ex.as_mut(), &prog, &can)?;
        let keys = source.key_steps(global);
        if !keys.is_empty() {
            let steps = r.steps.iter().filter(|s| keys.contains(&s.index)).cloned().collect();
            let _ = tx.send(Msg::Record(Box::new(CaseRecord { index: global, verdict: r.verdict.clone(), steps })));
        }
        delta.cases += 1;
        delta.statements += r.steps.len() as u64;
        for s in &r.steps {
            delta.kinds[run::verb_at(&prog, s.index) as usize] += 1;
        }
        for s in &r.steps {
            if s.agrees() {
                *delta.rules.entry(s.rule).or_default() += 1;
                // Which members of a predicted set really turn up.
                for a in &s.allowed {
                    let e = delta.members.entry((a.rule, a.member.clone(), a.alone)).or_default();
                    e[0] += 1;
                    e[1] += s.actual.contains(&a.member) as u64;
                }
            }
        }
        match &r.verdict {
            Verdict::Agree => {}
            Verdict::Skipped(why) => *delta.skipped.entry(why.clone()).or_default() += 1,
            Verdict::Invalid { index: at, why } => {
                delta.invalid += 1;
                let text =
                    format!("# invalid at statement {} (case seed {seed}): {why}\n{}", at + 1, case::print(&case));
                let _ = tx.send(Msg::Kept { folder: "invalid", index: global, text });
            }
            Verdict::Unknown { index: at, why } => {
                delta.unknown += 1;
                let text =
                    format!("# unknown after statement {} (case seed {seed}): {why}\n{}", at + 1, case::print(&case));
                let _ = tx.send(Msg::Kept { folder: "unknown", index: global, text });
            }
            Verdict::Mismatch { index: at } => {
                let rec = r.mismatch().expect("mismatch recorded").clone();
                let sig = run::signature(run::verb_at(&prog, *at), &rec);
                // The earliest case with a new signature is the one minimized
                // and reported, so a seed gives the same findings every time.
                let known =
                    matches!(claims.lock().expect("claims lock").get(&sig), Some(Claim::Reported | Claim::Checking(_)));
                if !known {
                    turn.wait_for_earlier(index, stop);
                }
                let mine = {
                    let mut c = claims.lock().expect("claims lock");
                    let e = c.entry(sig.clone()).or_insert(Claim::Flaky(0));
                    match *e {
                        // A signature that did not reproduce gets a few more chances.
                        Claim::Flaky(tries) if tries < 3 => {
                            *e = Claim::Checking(tries);
                            true
                        }
                        _ => false,
                    }
                };
                if !mine {
                    *delta.repeats.entry(sig).or_default() += 1;
                } else {
                    // Shrink it, then check that the small case fails the same way.
                    let original_len = case.len();
                    let (small, _) = run::minimize_live(model, ex.as_mut(), &case, &can, &sig)?;
                    let small_prog = case::compile(&small).expect("minimized cases are valid");
                    let (k, small_rec) = run::reproduce(model, ex.as_mut(), &small_prog, &can, &sig, reruns)?;
                    let full = run::run_case_all(model, ex.as_mut(), &small_prog, &can)?;
                    // The step is the minimized case's; with k = 0 it is not reported.
                    let (case, rec) = match small_rec {
                        Some(r) => (small, r),
                        None => (case, rec),
                    };
                    // In the host's own network stack another process can
                    // take a port at any moment and cause a mismatch once:
                    // there only a mismatch that came back every time counts.
                    let flaky = k == 0 || (sh.shared_stack && k < reruns);
                    {
                        let mut c = claims.lock().expect("claims lock");
                        let e = c.entry(sig.clone()).or_insert(Claim::Flaky(0));
                        *e = match (*e, flaky) {
                            (_, false) => Claim::Reported,
                            (Claim::Checking(t) | Claim::Flaky(t), true) => Claim::Flaky(t + 1),
                            (Claim::Reported, true) => Claim::Reported,
                        };
                    }
                    let f = Finding {
                        index,
                        global,
                        seed,
                        original_len,
                        case,
                        rec,
                        signature: sig,
                        reproduced: k,
                        reruns,
                        flaky,
                        full,
                    };
                    let _ = tx.send(Msg::Finding(Box::new(f)));
                }
            }
        }
        if last.elapsed() > Duration::from_millis(250) {
            let _ = tx.send(Msg::Delta(std::mem::take(&mut delta)));
            last = Instant::now();
        }
    }
    if !delta.is_empty() {
        let _ = tx.send(Msg::Delta(delta));
    }
    Ok(())
}
