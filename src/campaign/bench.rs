//! `sockdiff bench`: throughput of the full pipeline (generate, model, run
//! for real, diff) against its floor, on one worker and on `jobs` workers
//! in one invocation.
//!
//! The floor is exactly the system calls the pipeline made: the pipeline
//! pass records every call its executor makes for the first cases it runs
//! ([`crate::exec::trace`]), and the floor makes those calls again, case
//! after case, on fresh ports, with no model, no diff, no allocation per
//! call and none of the pipeline's waits for late kernel work (the time
//! those waits took is given on its own, as a share of the pipeline's).

use crate::case;
use crate::exec::{self, ExecError, Prepared, trace::CaseTrace};
use crate::generate::{self, GenConfig};
use crate::model::Model;
use crate::run;
use serde::Serialize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How many cases' calls the pipeline pass keeps for the floor (they are
/// replayed in turn; more would only cost memory).
pub const TRACED_CASES: usize = 4096;

/// One pass of both loops on a number of workers.
#[derive(Clone, Debug, Serialize)]
pub struct Pass {
    pub jobs: usize,
    pub floor_cases_per_s: f64,
    pub sockdiff_cases_per_s: f64,
    /// sockdiff / floor.
    pub ratio: f64,
    pub floor_syscalls_per_s: f64,
    /// The pipeline's system calls (the same count per case as the
    /// floor's) per second.
    pub sockdiff_syscalls_per_s: f64,
    pub sockdiff_statements_per_s: f64,
    /// The share of the pipeline's worker time spent waiting for late
    /// kernel work (settle), which the floor does not do.
    pub waits_share: f64,
    pub floor_cases: u64,
    pub sockdiff_cases: u64,
    pub sockdiff_statements: u64,
    pub mismatches: u64,
}

/// What `bench` prints: the keys of docs/interface.md#the-command-line for the run on `jobs` workers,
/// then both passes and the speed-ups from one worker to `jobs`.
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    pub floor_cases_per_s: f64,
    pub sockdiff_cases_per_s: f64,
    /// sockdiff / floor, on `jobs` workers.
    pub ratio: f64,
    pub jobs: usize,
    pub max_rss_mib: f64,
    pub duration_s: f64,
    pub model: String,
    pub generator_version: u32,
    /// One worker, then `jobs` workers (one pass when `jobs` is 1).
    pub passes: Vec<Pass>,
    /// floor (`jobs`) / floor (1).
    pub floor_speedup: f64,
    /// sockdiff (`jobs`) / sockdiff (1).
    pub sockdiff_speedup: f64,
    /// sockdiff_speedup / floor_speedup: how much of the kernel's own
    /// scaling the pipeline keeps.
    pub speedup_kept: f64,
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The pipeline on `jobs` workers for `duration`, as fuzz runs it, keeping
/// the calls of the first cases; then the floor on those calls.
fn pass(model: &dyn Model, prep: &Prepared, jobs: usize, duration: Duration, seed: u64) -> Result<Pass, ExecError> {
    let cfg = GenConfig::default();
    let can_of = |ex: &dyn exec::Executor| crate::session::abilities(prep, ex);
    // The pipeline.
    let done = AtomicU64::new(0);
    let statements = AtomicU64::new(0);
    let mismatches = AtomicU64::new(0);
    let syscalls = AtomicU64::new(0);
    let next = AtomicU64::new(0);
    let waited = Mutex::new(Duration::ZERO);
    let traces: Mutex<Vec<CaseTrace>> = Mutex::new(Vec::new());
    let t1 = Instant::now();
    std::thread::scope(|s| -> Result<(), ExecError> {
        let mut handles = Vec::new();
        for w in 0..jobs {
            let (done, statements, mismatches, syscalls, next, waited, traces) =
                (&done, &statements, &mismatches, &syscalls, &next, &waited, &traces);
            handles.push(s.spawn(move || -> Result<(), ExecError> {
                let mut ex = exec::new_executor(prep, w, jobs)?;
                ex.record(true);
                let can = can_of(ex.as_ref());
                let mut mine = Vec::new();
                while t1.elapsed() < duration {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let c = generate::case_from_seed(generate::case_seed(seed, i), cfg, model);
                    let prog = case::compile(&c).expect("valid");
                    let r = run::run_case(model, ex.as_mut(), &prog, &can)?;
                    done.fetch_add(1, Ordering::Relaxed);
                    statements.fetch_add(r.steps.len() as u64, Ordering::Relaxed);
                    if r.mismatch().is_some() {
                        mismatches.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Some(t) = ex.take_trace() {
                        syscalls.fetch_add(t.syscalls(), Ordering::Relaxed);
                        if mine.len() < TRACED_CASES / jobs {
                            mine.push(t);
                        }
                    }
                }
                *waited.lock().expect("lock") += ex.waited();
                traces.lock().expect("lock").extend(mine);
                Ok(())
            }));
        }
        for h in handles {
            h.join().map_err(|_| ExecError("a bench worker panicked".into()))??;
        }
        Ok(())
    })?;
    let pipe_secs = t1.elapsed().as_secs_f64();
    let traces = traces.into_inner().expect("lock");
    if traces.is_empty() {
        return Err(ExecError("the pipeline ran no case to measure a floor on".into()));
    }
    // The floor: the same calls, on the same number of workers.
    let floor_done = AtomicU64::new(0);
    let floor_calls = AtomicU64::new(0);
    let t0 = Instant::now();
    std::thread::scope(|s| -> Result<(), ExecError> {
        let mut handles = Vec::new();
        for w in 0..jobs {
            let (traces, done, calls) = (&traces, &floor_done, &floor_calls);
            handles.push(s.spawn(move || -> Result<(), ExecError> {
                let mut ex = exec::new_executor(prep, w, jobs)?;
                let mut i = w;
                let (mut n, mut c) = (0u64, 0u64);
                while t0.elapsed() < duration {
                    c += ex.replay(&traces[i % traces.len()])?;
                    n += 1;
                    i += jobs;
                }
                done.fetch_add(n, Ordering::Relaxed);
                calls.fetch_add(c, Ordering::Relaxed);
                Ok(())
            }));
        }
        for h in handles {
            h.join().map_err(|_| ExecError("a bench worker panicked".into()))??;
        }
        Ok(())
    })?;
    let floor_secs = t0.elapsed().as_secs_f64();
    let floor = floor_done.load(Ordering::Relaxed) as f64 / floor_secs;
    let pipe = done.load(Ordering::Relaxed) as f64 / pipe_secs;
    let waited = waited.into_inner().expect("lock").as_secs_f64();
    Ok(Pass {
        jobs,
        floor_cases_per_s: round(floor),
        sockdiff_cases_per_s: round(pipe),
        ratio: round3(pipe / floor.max(1e-9)),
        floor_syscalls_per_s: round(floor_calls.load(Ordering::Relaxed) as f64 / floor_secs),
        sockdiff_syscalls_per_s: round(syscalls.load(Ordering::Relaxed) as f64 / pipe_secs),
        sockdiff_statements_per_s: round(statements.load(Ordering::Relaxed) as f64 / pipe_secs),
        waits_share: round3(waited / (pipe_secs * jobs as f64)),
        floor_cases: floor_done.load(Ordering::Relaxed),
        sockdiff_cases: done.load(Ordering::Relaxed),
        sockdiff_statements: statements.load(Ordering::Relaxed),
        mismatches: mismatches.load(Ordering::Relaxed),
    })
}

/// Runs both loops for `duration` each, on one worker and on `jobs`.
pub fn bench(
    model: &dyn Model,
    prep: &Prepared,
    jobs: usize,
    duration: Duration,
    seed: u64,
) -> Result<BenchResult, ExecError> {
    let t = Instant::now();
    let mut passes = vec![pass(model, prep, 1, duration, seed)?];
    if jobs > 1 {
        passes.push(pass(model, prep, jobs, duration, seed)?);
    }
    let (one, last) = (&passes[0], passes.last().expect("a pass"));
    let floor_speedup = last.floor_cases_per_s / one.floor_cases_per_s.max(1e-9);
    let sockdiff_speedup = last.sockdiff_cases_per_s / one.sockdiff_cases_per_s.max(1e-9);
    Ok(BenchResult {
        floor_cases_per_s: last.floor_cases_per_s,
        sockdiff_cases_per_s: last.sockdiff_cases_per_s,
        ratio: last.ratio,
        jobs,
        max_rss_mib: round(exec::max_rss_bytes() as f64 / (1024.0 * 1024.0)),
        duration_s: round(t.elapsed().as_secs_f64()),
        model: model.spec().to_string(),
        generator_version: generate::GENERATOR_VERSION,
        floor_speedup: round3(floor_speedup),
        sockdiff_speedup: round3(sockdiff_speedup),
        speedup_kept: round3(sockdiff_speedup / floor_speedup.max(1e-9)),
        passes,
    })
}
