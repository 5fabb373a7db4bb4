//! `sockdiff selftest mutants`: the built-in mutation check of the oracle
//! ([`crate::campaign::mutants`]).

use super::{LiveArgs, open_session};
use crate::campaign::mutants::{self, Killer, Options, Row};
use crate::model::mutant::Kind;
use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use std::io::Write;
use std::time::Duration;

#[derive(Subcommand, Debug)]
pub enum SelftestCmd {
    /// For every rule of the model, mutants that turn what the rule decides
    /// into a plausible wrong answer (an error for ok, ok or another errno
    /// for an error, another receiver, a narrower and a wider set), each
    /// run for real through the matrix cells where its rule decides and
    /// then by fuzz for --mutant-time; prints rule, mutant, who killed it
    /// and when, and `mutation score K/N`; exit 1 if any mutant lives.
    Mutants(MutantsArgs),
}

#[derive(Args, Debug)]
pub struct MutantsArgs {
    /// How long fuzz may try to kill a mutant the matrix did not kill
    /// (90s, 5m or plain seconds).
    #[arg(long, default_value = "20s", value_parser = super::fuzz::parse_duration)]
    pub mutant_time: Duration,
    /// Model to mutate (default: this host's, calibrated).
    #[arg(long, default_value = "host")]
    pub platform: String,
    /// Only the mutants of these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    pub rule: Vec<String>,
    /// Only these kinds: error-for-ok, ok-for-error, other-errno,
    /// other-receiver, narrower, wider-ok, wider-error, wider-receiver,
    /// wider-socket
    /// (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = parse_kind)]
    pub kind: Vec<Kind>,
    /// Seed of the fuzz cases (the same for every mutant).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Run only every Nth matrix cell (a quick look; 1 runs them all).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub every: u64,
    /// Worker threads (default: one per CPU).
    #[arg(short, long, value_parser = super::jobs)]
    pub jobs: Option<usize>,
    #[command(flatten)]
    pub live: LiveArgs,
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    Kind::ALL.into_iter().find(|k| k.word() == s).ok_or_else(|| {
        let all: Vec<&str> = Kind::ALL.iter().map(|k| k.word()).collect();
        format!("unknown mutant kind '{s}' (kinds: {})", all.join(", "))
    })
}

pub fn run(cmd: SelftestCmd) -> Result<u8> {
    match cmd {
        SelftestCmd::Mutants(a) => mutants_cmd(a),
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

fn line(r: &Row) -> String {
    format!(
        "{:<40} {:<15} {:<11} {:>8}  {}",
        r.mutant.rule,
        r.mutant.kind.word(),
        r.killer.word(),
        secs(r.time),
        if r.killer == Killer::None {
            format!("{} cells, {} fuzz cases", r.cells, r.fuzz_cases)
        } else {
            r.evidence.clone()
        }
    )
}

fn mutants_cmd(a: MutantsArgs) -> Result<u8> {
    let session = open_session(&a.live, &a.platform, "selftest mutants")?;
    let all = crate::model::rules::RULES.iter().map(|r| r.id).collect::<Vec<_>>();
    for r in &a.rule {
        if !all.contains(&r.as_str()) {
            bail!("--rule {r}: no such rule (sockdiff rules --platform {} lists them)", session.model.spec());
        }
    }
    let jobs = a.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).max(1);
    let o = Options {
        jobs,
        fuzz_time: a.mutant_time,
        seed: a.seed,
        rules: a.rule.clone(),
        kinds: a.kind.clone(),
        every: a.every as usize,
    };
    crate::interrupt::install();
    crate::info!(
        "selftest mutants: model {}, {jobs} worker(s), fuzz up to {} per mutant the matrix leaves alive",
        session.model.spec(),
        secs(a.mutant_time)
    );
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<40} {:<15} {:<11} {:>8}  evidence", "rule", "mutant", "killed by", "time")?;
    out.flush()?;
    let mut progress = |r: &Row| {
        let mut o = std::io::stdout().lock();
        let _ = writeln!(o, "{}", line(r));
        let _ = o.flush();
    };
    let report = mutants::run(&session, &o, &mut progress)?;
    crate::info!(
        "baseline: {} matrix cells with the unmutated model in {}, {} mismatch(es)",
        report.baseline_cells,
        secs(report.baseline_time),
        report.baseline_mismatches
    );
    for w in &report.baseline_over_wide {
        writeln!(out, "unmutated model: {}", super::corpus::over_wide_line(w))?;
    }
    if !report.unreached.is_empty() {
        writeln!(out, "not reached on this host (not counted in N):")?;
        for (id, why) in &report.unreached {
            writeln!(out, "  {id:<40} {why}")?;
        }
    }
    let (k, n) = report.score();
    let by = |w: Killer| report.rows.iter().filter(|r| r.killer == w).count();
    writeln!(
        out,
        "killed by the matrix {}, by fuzz {}, not killed {}; median time to kill {}",
        by(Killer::Matrix),
        by(Killer::Fuzz),
        by(Killer::None),
        report.median_kill().map(secs).unwrap_or_else(|| "-".into())
    )?;
    if report.interrupted && report.planned == 0 {
        writeln!(out, "interrupted: in the baseline, before any mutant ran")?;
    } else if report.interrupted {
        writeln!(out, "interrupted: {n} of {} mutants ran to the end (the score counts only those)", report.planned)?;
    }
    writeln!(out, "mutation score {k}/{n}")?;
    out.flush()?;
    if report.interrupted {
        return Ok(2);
    }
    if report.baseline_mismatches > 0 {
        eprintln!(
            "warning: the unmutated model mismatched {} matrix cell(s): sockdiff matrix shows them",
            report.baseline_mismatches
        );
    }
    Ok(if k == n && report.baseline_mismatches == 0 { 0 } else { 1 })
}
