//! `sockdiff matrix`: every cell of the small-scope matrix run for real.

use super::{LiveArgs, check_outputs, open_session};
use crate::campaign::matrix::{Matrix, cells};
use crate::campaign::{Campaign, Shard, run_campaign};
use crate::report::write_atomic;
use anyhow::{Result, anyhow};
use clap::Args;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct MatrixArgs {
    /// Folder in which the run folder is made.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// Model to diff against (default: this host's); the matrix uses that
    /// platform's options.
    #[arg(long, default_value = "host")]
    pub platform: String,
    /// Worker threads (default: one per CPU).
    #[arg(short, long, value_parser = super::jobs)]
    pub jobs: Option<usize>,
    /// Re-runs of each new mismatch, to check that it reproduces.
    #[arg(long, default_value_t = 3)]
    pub reruns: u32,
    /// Run only every Nth cell (a quick look; 1 runs them all).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub every: u64,
    /// Also write JUnit XML, made from the run's mismatches.csv.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Also write a Markdown summary, made from the run's files.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    #[command(flatten)]
    pub live: LiveArgs,
}

pub fn run(a: MatrixArgs) -> Result<u8> {
    check_outputs(
        &[("--out", Some(&a.out))],
        &[("--junit", a.junit.as_deref()), ("--markdown", a.markdown.as_deref())],
    )?;
    let session = open_session(&a.live, &a.platform, "matrix")?;
    let all = cells(session.model.spec().platform);
    let matrix = Matrix { cells: all.into_iter().step_by(a.every as usize).collect() };
    let t0 = std::time::Instant::now();
    let c = Campaign {
        label: "matrix",
        source: &matrix,
        seed: 0,
        duration: None,
        cases: None,
        out: a.out,
        jobs: a.jobs,
        reruns: a.reruns,
        junit: a.junit,
        markdown: a.markdown,
        save_corpus: None,
        shard: Shard::WHOLE,
        session: &session,
    };
    let done = run_campaign(&c)?;
    // The table: one line per cell, with the shown statements.
    let mut text = String::new();
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(["cell", "description", "step", "statement", "expected", "actual", "rule", "agrees"])?;
    for r in &done.records {
        let cell = &matrix.cells[r.index as usize];
        let shown: Vec<String> = r
            .steps
            .iter()
            .map(|s| {
                let mark = if s.agrees() { "" } else { " MISMATCH" };
                format!("{} -> {} ({}){mark}", cell.case.steps[s.index].stmt, s.actual, s.rule)
            })
            .collect();
        let _ = writeln!(text, "{:>6}  {}\n        {}", r.index, cell.name, shown.join("; "));
        for s in &r.steps {
            csv.write_record([
                r.index.to_string(),
                cell.name.clone(),
                (s.index + 1).to_string(),
                cell.case.steps[s.index].stmt.to_string(),
                s.expected.to_string(),
                s.actual.to_string(),
                s.rule.to_string(),
                s.agrees().to_string(),
            ])?;
        }
    }
    write_atomic(&done.dir.join("matrix.txt"), text.as_bytes())?;
    write_atomic(&done.dir.join("matrix.csv"), &csv.into_inner().map_err(|e| anyhow!("{e}"))?)?;
    let s = &done.summary;
    crate::info!(
        "matrix: {} cells of {} in {:.1}s; {} mismatch(es), {} skipped; rules fired {}/{}{}",
        s.counts.cases,
        matrix.cells.len(),
        t0.elapsed().as_secs_f64(),
        s.counts.mismatches,
        s.counts.skipped,
        s.coverage.fired,
        s.coverage.total,
        if s.coverage.missing.is_empty() {
            String::new()
        } else {
            format!(" (missing: {})", s.coverage.missing.join(", "))
        }
    );
    crate::info!("table: {}", done.dir.join("matrix.txt").display());
    super::print_run_dir(&done.dir)?;
    Ok(done.code)
}
