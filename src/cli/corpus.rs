//! `sockdiff corpus check` and `sockdiff corpus record`.

use super::{LiveArgs, case_files, host_spec, open_session, platforms, unknown_behaviour};
use crate::case::{Case, Program};
use crate::corpus::{self, CorpusRow};
use crate::exec;
use crate::platform::ModelSpec;
use crate::report::write_atomic;
use crate::run::{self, CaseRun};
use crate::session::Session;
use anyhow::{Result, anyhow, bail};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum CorpusCmd {
    /// Replay every case for this host and report each statement whose real
    /// outcome differs from the one recorded for this platform, whose model
    /// prediction no longer covers it, or that has no record; exit 1 if any.
    Check(CheckArgs),
    /// Replay every case and write the real outcomes into the files as this
    /// platform's and version's record (`#= linux@6.18:…`).
    Record(RecordArgs),
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Folder of cases (default: corpus/<this platform>).
    pub dir: Option<PathBuf>,
    /// Also write the result as CSV (one row per change, per unchanged case, per skipped case).
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Also write JUnit XML (one test case per corpus case), made from the CSV rows.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Also write a Markdown summary for a CI job page, made from the CSV rows.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    /// Model to compare with (default: this host's).
    #[arg(long, default_value = "host")]
    pub platform: String,
    #[command(flatten)]
    pub live: LiveArgs,
}

#[derive(Args, Debug)]
pub struct RecordArgs {
    /// Folder of cases, or case files (default: corpus/<this platform>).
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub live: LiveArgs,
}

pub fn run(cmd: CorpusCmd) -> Result<u8> {
    match cmd {
        CorpusCmd::Check(a) => check(a),
        CorpusCmd::Record(a) => record(a),
    }
}

fn default_dir(platform: crate::platform::Platform) -> PathBuf {
    corpus::platform_dir(Path::new("corpus"), platform)
}

/// A corpus file, its case and how it ran.
type CaseResult = (PathBuf, Case, CaseRun);

/// Loads every case, opens the live session, then runs every case (every
/// statement) on one worker.
fn run_all(paths: &[PathBuf], platform: &str, live: &LiveArgs) -> Result<(Session, Vec<CaseResult>)> {
    let files = case_files(paths)?;
    let loaded: Vec<(PathBuf, Case, Program)> = files
        .iter()
        .map(|p| corpus::load(p).map(|(c, pr)| (p.clone(), c, pr)).map_err(|e| anyhow!(e)))
        .collect::<Result<_>>()?;
    let session = open_session(live, platform, "corpus")?;
    let runs = std::thread::scope(|s| {
        s.spawn(|| -> Result<Vec<CaseRun>> {
            let mut ex = exec::new_executor(&session.prep, 0, 1)?;
            let can = session.abilities(ex.as_ref());
            loaded
                .iter()
                .map(|(_, _, prog)| Ok(run::run_case_all(session.model.as_ref(), ex.as_mut(), prog, &can)?))
                .collect()
        })
        .join()
        .map_err(|_| anyhow!("the worker thread panicked"))?
    })?;
    for ((path, _, _), r) in loaded.iter().zip(&runs) {
        if let run::Verdict::Invalid { index, why } = &r.verdict {
            bail!("{}: {why} (invalid case)", super::place(path, *index));
        }
    }
    Ok((session, loaded.into_iter().zip(runs).map(|((p, c, _), r)| (p, c, r)).collect()))
}

fn check(a: CheckArgs) -> Result<u8> {
    let platform = if a.platform == "host" {
        host_spec().platform
    } else {
        let specs = platforms(&a.platform)?;
        let [spec] = specs.as_slice() else {
            bail!("corpus check compares with one model: give --platform host or one platform")
        };
        spec.platform
    };
    super::check_outputs(
        &[],
        &[("--csv", a.csv.as_deref()), ("--junit", a.junit.as_deref()), ("--markdown", a.markdown.as_deref())],
    )?;
    let dir = a.dir.clone().unwrap_or_else(|| default_dir(platform));
    let (session, runs) = run_all(std::slice::from_ref(&dir), &a.platform, &a.live)?;
    // Records are compared for the model's own version and variant set:
    // the calibrated host model's, or the spec given.
    let record_spec = session.model.spec();
    let mut rows: Vec<CorpusRow> = Vec::new();
    for (path, case, r) in &runs {
        rows.extend(corpus::check_case(path, case, r, &record_spec));
    }
    let mut out = std::io::stdout().lock();
    let listed: Vec<&CorpusRow> = rows.iter().filter(|r| r.is_change() || r.status == "consequence").collect();
    if !listed.is_empty() {
        writeln!(
            out,
            "{:<48} {:<34} {:<12} {:<12} {:<12} {:<13} other records",
            "case:line", "statement", "recorded", "real", "model", "change"
        )?;
        for r in &listed {
            writeln!(
                out,
                "{:<48} {:<34} {:<12} {:<12} {:<12} {:<13} {}",
                format!("{}:{}", r.case, r.line),
                r.statement,
                if r.recorded.is_empty() { "-" } else { &r.recorded },
                r.real,
                r.predicted,
                r.status,
                if r.others.is_empty() { "-" } else { &r.others }
            )?;
        }
    }
    let skipped: Vec<&CorpusRow> = rows.iter().filter(|r| r.status == "skipped").collect();
    for r in &skipped {
        writeln!(out, "skipped {}: {}", r.case, r.detail)?;
    }
    let changes: Vec<&CorpusRow> = rows.iter().filter(|r| r.is_change()).collect();
    let count = |s: &str| rows.iter().filter(|r| r.status == s).count();
    let mut changed_cases: Vec<&str> = changes.iter().map(|r| r.case.as_str()).collect();
    changed_cases.dedup();
    writeln!(
        out,
        "{} cases on {}: {} changed statement(s) in {} case(s), {} consequence(s), {} unrecorded (compared with the model alone), {} skipped",
        runs.len(),
        record_spec,
        changes.len(),
        changed_cases.len(),
        count("consequence"),
        count("unrecorded"),
        skipped.len()
    )?;
    out.flush()?;
    if let Some(p) = &a.csv {
        crate::report::write_csv(p, &rows)?;
    }
    if let Some(p) = &a.junit {
        write_atomic(p, crate::render::junit_corpus(&rows).as_bytes())?;
    }
    if let Some(p) = &a.markdown {
        write_atomic(p, crate::render::markdown_corpus(&rows, &record_spec.to_string()).as_bytes())?;
    }
    let unknown = unknown_behaviour(&session);
    Ok(if changes.is_empty() && !unknown { 0 } else { 1 })
}

fn record(a: RecordArgs) -> Result<u8> {
    let paths = if a.paths.is_empty() { vec![default_dir(host_spec().platform)] } else { a.paths.clone() };
    let (session, runs) = run_all(&paths, "host", &a.live)?;
    if unknown_behaviour(&session) {
        bail!("calibration met a behaviour no model knows: fix the model or add a variant before recording");
    }
    // The calibrated host model names the record: version and variants.
    let spec: ModelSpec = session.model.spec();
    let (mut changed, mut skipped) = (0, 0);
    for (path, mut case, r) in runs {
        if let run::Verdict::Skipped(why) = &r.verdict {
            eprintln!("skipped {}: {why}", path.display());
            skipped += 1;
            continue;
        }
        if corpus::record_case(&mut case, &r, &spec) {
            write_atomic(&path, crate::case::print(&case).as_bytes())?;
            println!("recorded {}", path.display());
            changed += 1;
        }
    }
    println!("{changed} file(s) updated with {spec} outcomes, {skipped} skipped");
    Ok(0)
}
