//! `sockdiff bench`: throughput of the full pipeline (generate, model, run
//! for real, diff) against a floor: the same generated cases run by the
//! thinnest loop sockdiff has (socket2 calls on prebuilt addresses, no
//! model, no outcome mapping), on the same number of workers.

use crate::case::{self, Op, PortRef, Program, Proto, SockOpt};
use crate::exec::{self, Prepared};
use crate::generate::{self, GenConfig};
use crate::model::Model;
use crate::run;
use serde::Serialize;
use socket2::{SockAddr, Socket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What `bench` prints.
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    pub floor_cases_per_s: f64,
    pub sockdiff_cases_per_s: f64,
    /// sockdiff / floor.
    pub ratio: f64,
    pub jobs: usize,
    pub max_rss_mib: f64,
    pub duration_s: f64,
    pub floor_cases: u64,
    pub sockdiff_cases: u64,
    pub sockdiff_statements: u64,
    pub mismatches: u64,
    pub model: String,
}

/// Cases the floor runs: generated once, before the clock starts.
const FLOOR_CASES: u64 = 4096;

/// The floor's interpreter: every statement as plain socket calls.
fn floor_case(prog: &Program, syms: &[u16; 10], socks: &mut Vec<Option<Socket>>) {
    socks.clear();
    socks.resize_with(prog.slots(), || None);
    let port_of = |socks: &Vec<Option<Socket>>, p: Option<PortRef>| -> u16 {
        match p {
            Some(PortRef::Sym(n)) => syms[n as usize],
            Some(PortRef::Of(s)) => socks[s as usize]
                .as_ref()
                .and_then(|s| s.local_addr().ok())
                .and_then(|a| a.as_socket())
                .map(|a| a.port())
                .unwrap_or(0),
            _ => 0,
        }
    };
    for op in &prog.ops {
        match *op {
            Op::Socket { slot, kind, .. } => {
                let (d, t) = exec::core::domain_type(kind);
                socks[slot as usize] = Socket::new(d, t, None).ok().filter(|s| s.set_nonblocking(true).is_ok());
            }
            Op::Set { slot, opt, on } => {
                if let Some(s) = &socks[slot as usize] {
                    let _ = match opt {
                        SockOpt::ReuseAddr => s.set_reuse_address(on),
                        SockOpt::V6Only => s.set_only_v6(on),
                        SockOpt::Linger0 => s.set_linger(on.then_some(Duration::ZERO)),
                        _ => Ok(()),
                    };
                }
            }
            Op::Bind { slot, addr, port } => {
                let p = port_of(socks, Some(port));
                if let Some(s) = &socks[slot as usize] {
                    let _ = s.bind(&exec::core::sockaddr(addr, p));
                }
            }
            Op::Listen { slot } => {
                if let Some(s) = &socks[slot as usize] {
                    let _ = s.listen(exec::core::BACKLOG);
                }
            }
            Op::Connect { slot, addr, port } => {
                let p = port_of(socks, Some(port));
                if let Some(s) = &socks[slot as usize] {
                    let _ = s.set_nonblocking(false);
                    let _ = s.set_write_timeout(Some(exec::core::CONNECT_TIMEOUT));
                    let _ = s.connect(&exec::core::sockaddr(addr, p));
                    let _ = s.set_nonblocking(true);
                }
            }
            Op::Accept { slot, listener } => {
                let got = socks[listener as usize].as_ref().and_then(|l| l.accept().ok()).map(|(s, _)| s);
                socks[slot as usize] = got;
            }
            Op::Close { slot } => {
                socks[slot as usize] = None;
            }
            Op::Probe { kind, addr, port } => {
                let p = port_of(socks, Some(port));
                let (d, t) = exec::core::domain_type(kind);
                if let Ok(s) = Socket::new(d, t, None) {
                    let to: SockAddr = exec::core::sockaddr(addr, p);
                    let _ = s.set_write_timeout(Some(exec::core::CONNECT_TIMEOUT));
                    if s.connect(&to).is_ok() && kind.proto == Proto::Udp {
                        let _ = s.send(b"sockdiff bench");
                    }
                }
            }
        }
    }
    for s in socks.iter().flatten() {
        let _ = s.set_linger(Some(Duration::ZERO));
    }
    socks.clear();
}

/// Runs both loops for `duration` each on `jobs` workers.
pub fn bench(
    model: &dyn Model,
    prep: &Prepared,
    jobs: usize,
    duration: Duration,
    seed: u64,
) -> Result<BenchResult, exec::ExecError> {
    let cfg = GenConfig::default();
    let progs: Vec<Program> = (0..FLOOR_CASES)
        .map(|i| case::compile(&generate::case_from_seed(generate::case_seed(seed, i), cfg, model)).expect("valid"))
        .collect();
    // The floor: workers in their own namespaces, fresh ports from their slice.
    let floor_done = AtomicU64::new(0);
    let t0 = Instant::now();
    std::thread::scope(|s| -> Result<(), exec::ExecError> {
        let mut handles = Vec::new();
        for w in 0..jobs {
            let (progs, done) = (&progs, &floor_done);
            handles.push(s.spawn(move || -> Result<(), exec::ExecError> {
                // The executor sets up this thread's namespace and ports.
                let mut ex = exec::new_executor(prep, w, jobs)?;
                let mut socks = Vec::new();
                let mut i = w;
                while t0.elapsed() < duration {
                    let prog = &progs[i % progs.len()];
                    ex.begin(prog)?;
                    let mut syms = [0u16; 10];
                    for (n, p) in syms.iter_mut().enumerate().skip(1) {
                        *p = ex.sym_port(n as u8);
                    }
                    floor_case(prog, &syms, &mut socks);
                    done.fetch_add(1, Ordering::Relaxed);
                    i += jobs;
                }
                Ok(())
            }));
        }
        for h in handles {
            h.join().map_err(|_| exec::ExecError("a bench worker panicked".into()))??;
        }
        Ok(())
    })?;
    let floor_secs = t0.elapsed().as_secs_f64();
    // The pipeline: generate, run, diff, as fuzz does.
    let done = AtomicU64::new(0);
    let statements = AtomicU64::new(0);
    let mismatches = AtomicU64::new(0);
    let next = AtomicU64::new(0);
    let t1 = Instant::now();
    std::thread::scope(|s| -> Result<(), exec::ExecError> {
        let mut handles = Vec::new();
        for w in 0..jobs {
            let (done, statements, mismatches, next) = (&done, &statements, &mismatches, &next);
            handles.push(s.spawn(move || -> Result<(), exec::ExecError> {
                let mut ex = exec::new_executor(prep, w, jobs)?;
                let can = crate::session::abilities(prep, ex.as_ref());
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
                }
                Ok(())
            }));
        }
        for h in handles {
            h.join().map_err(|_| exec::ExecError("a bench worker panicked".into()))??;
        }
        Ok(())
    })?;
    let pipe_secs = t1.elapsed().as_secs_f64();
    let floor = floor_done.load(Ordering::Relaxed) as f64 / floor_secs;
    let pipe = done.load(Ordering::Relaxed) as f64 / pipe_secs;
    let round = |x: f64| (x * 10.0).round() / 10.0;
    Ok(BenchResult {
        floor_cases_per_s: round(floor),
        sockdiff_cases_per_s: round(pipe),
        ratio: (pipe / floor.max(1e-9) * 1000.0).round() / 1000.0,
        jobs,
        max_rss_mib: round(exec::max_rss_bytes() as f64 / (1024.0 * 1024.0)),
        duration_s: round(floor_secs + pipe_secs),
        floor_cases: floor_done.load(Ordering::Relaxed),
        sockdiff_cases: done.load(Ordering::Relaxed),
        sockdiff_statements: statements.load(Ordering::Relaxed),
        mismatches: mismatches.load(Ordering::Relaxed),
        model: model.spec().to_string(),
    })
}
