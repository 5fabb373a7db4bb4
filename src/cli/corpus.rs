//! `sockdiff corpus check` and `sockdiff corpus record`.

use super::{LiveArgs, case_files, host_spec, open_session, platforms, unknown_behaviour};
use crate::case::{Case, Program};
use crate::corpus::{self, CorpusRow};
use crate::exec;
use crate::platform::ModelSpec;
use crate::render::predict::{JsonDoc, JsonRow, members};
use crate::report::write_atomic;
use crate::run::{self, CaseRun};
use crate::session::Session;
use anyhow::{Result, anyhow, bail};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

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

/// Output format of `corpus check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// The changed statements and a summary line.
    Text,
    /// One JSON document, a row per statement (the summary line goes to stderr).
    Json,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Folder of cases (default: corpus/<this platform> under the current
    /// folder, else the corpus built into this binary).
    pub dir: Option<PathBuf>,
    /// text, or json (every statement with its model, real and recorded outcomes).
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
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
    /// Folder of cases, or case files (default: corpus/<this platform>
    /// under the current folder; needed outside a checkout).
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

/// A corpus case: its name (path), text, case and how it ran.
type CaseResult = (String, String, Case, CaseRun);

/// The sources of `paths` (folders or files) read from disk.
fn read_sources(paths: &[PathBuf]) -> Result<Vec<corpus::Source>> {
    case_files(paths)?
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(|e| anyhow!("{}: cannot read: {e}", p.display()))?;
            Ok((p.display().to_string(), text))
        })
        .collect()
}

/// Parses every case, opens the live session, then runs every case (every
/// statement) on one worker.
fn run_all(sources: Vec<corpus::Source>, platform: &str, live: &LiveArgs) -> Result<(Session, Vec<CaseResult>)> {
    let loaded: Vec<(String, String, Case, Program)> = sources
        .into_iter()
        .map(|(name, text)| {
            let case = crate::case::parse(&name, &text)?;
            let prog = crate::case::compile(&case).map_err(|e| anyhow!("{name}: {}", e.what))?;
            Ok((name, text, case, prog))
        })
        .collect::<Result<_>>()?;
    let session = open_session(live, platform, "corpus")?;
    let runs = std::thread::scope(|s| {
        s.spawn(|| -> Result<Vec<CaseRun>> {
            let mut ex = exec::new_executor(&session.prep, 0, 1)?;
            let can = session.abilities(ex.as_ref());
            loaded
                .iter()
                .map(|(_, _, _, prog)| Ok(run::run_case_all(session.model.as_ref(), ex.as_mut(), prog, &can)?))
                .collect()
        })
        .join()
        .map_err(|_| anyhow!("the worker thread panicked"))?
    })?;
    for ((name, text, _, _), r) in loaded.iter().zip(&runs) {
        if let run::Verdict::Invalid { index, why } = &r.verdict {
            let line = corpus::statement_lines(text).get(*index).map(|l| format!(":{l}")).unwrap_or_default();
            bail!("{name}{line}: {why} (invalid case)");
        }
    }
    Ok((session, loaded.into_iter().zip(runs).map(|((n, t, c, _), r)| (n, t, c, r)).collect()))
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
    let sources = match &a.dir {
        Some(dir) => read_sources(std::slice::from_ref(dir))?,
        None => match corpus::default_origin(platform) {
            corpus::Origin::Folder(dir) => read_sources(&[dir])?,
            corpus::Origin::BuiltIn => {
                crate::info!(
                    "note: no corpus/{platform} here: checking the corpus built into this binary (sockdiff {}); give a folder to check another",
                    env!("CARGO_PKG_VERSION")
                );
                corpus::builtin::under(platform.name()).into_iter().map(|(n, t)| (n, t.to_string())).collect()
            }
        },
    };
    let (session, runs) = run_all(sources, &a.platform, &a.live)?;
    // Records are compared for the model's own version and variant set:
    // the calibrated host model's, or the spec given.
    let record_spec = session.model.spec();
    let mut rows: Vec<CorpusRow> = Vec::new();
    for (name, text, case, r) in &runs {
        rows.extend(corpus::check_case_text(name, text, case, r, &record_spec));
    }
    let mut out = std::io::stdout().lock();
    if a.format == CheckFormat::Json {
        let doc = JsonDoc::new("corpus check", json_rows(&runs, &rows, &record_spec));
        out.write_all(doc.to_text().as_bytes())?;
    }
    let listed: Vec<&CorpusRow> =
        rows.iter().filter(|r| r.is_change() || matches!(r.status.as_str(), "consequence" | "unknown")).collect();
    let text = a.format == CheckFormat::Text;
    if text && !listed.is_empty() {
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
    for r in skipped.iter().filter(|_| text) {
        writeln!(out, "skipped {}: {}", r.case, r.detail)?;
    }
    let changes: Vec<&CorpusRow> = rows.iter().filter(|r| r.is_change()).collect();
    let count = |s: &str| rows.iter().filter(|r| r.status == s).count();
    let mut changed_cases: Vec<&str> = changes.iter().map(|r| r.case.as_str()).collect();
    changed_cases.dedup();
    let mut summary_to: Box<dyn Write> = if text { Box::new(&mut out) } else { Box::new(std::io::stderr()) };
    // Sets whose members never turn up: the model may allow more than the
    // OS does (a flag, not a change: the exit status does not count them).
    let mut members = run::SetMembers::default();
    for (_, _, _, r) in &runs {
        run::count_set_members(&mut members, r, None);
    }
    for w in crate::report::over_wide(&members.all, &members.alone, crate::model::rules::MEASURED_RATES) {
        writeln!(summary_to, "{}", over_wide_line(&w))?;
    }
    writeln!(
        summary_to,
        "{} cases on {}: {} changed statement(s) in {} case(s), {} consequence(s), {} unrecorded (compared with the model alone), {} unknown, {} skipped",
        runs.len(),
        record_spec,
        changes.len(),
        changed_cases.len(),
        count("consequence"),
        count("unrecorded"),
        count("unknown"),
        skipped.len()
    )?;
    drop(summary_to);
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

/// One over-wide member, as `corpus check` and `selftest mutants` flag it.
pub fn over_wide_line(w: &crate::report::OverWide) -> String {
    format!(
        "over-wide: {} predicts {} in a set, never seen in {} chances{} (flagged from {})",
        w.rule,
        w.member,
        w.chances,
        if w.alone { " where one state alone allowed it" } else { "" },
        w.needed
    )
}

fn record(a: RecordArgs) -> Result<u8> {
    let paths = if a.paths.is_empty() {
        match corpus::default_origin(host_spec().platform) {
            corpus::Origin::Folder(dir) => vec![dir],
            corpus::Origin::BuiltIn => bail!(
                "corpus record writes into a corpus folder and there is no corpus/{} here: give the folder or files to record into (the corpus built into the binary cannot be written)",
                host_spec().platform
            ),
        }
    } else {
        a.paths.clone()
    };
    let (session, runs) = run_all(read_sources(&paths)?, "host", &a.live)?;
    if unknown_behaviour(&session) {
        bail!("calibration met a behaviour no model knows: fix the model or add a variant before recording");
    }
    // The calibrated host model names the record: version and variants.
    let spec: ModelSpec = session.model.spec();
    let (mut changed, mut skipped) = (0, 0);
    for (name, _, mut case, r) in runs {
        let path = PathBuf::from(name);
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

/// The JSON rows of a corpus check: every statement of every case run,
/// with its status (statements a change row names take that row's).
fn json_rows(runs: &[CaseResult], rows: &[CorpusRow], spec: &ModelSpec) -> Vec<JsonRow> {
    let mut out = Vec::new();
    for (name, text, case, r) in runs {
        let lines = corpus::statement_lines(text);
        let skipped = rows.iter().find(|x| x.case == *name && x.status == "skipped");
        for rec in &r.steps {
            let row = rows.iter().find(|x| x.case == *name && x.step == rec.index + 1);
            let recorded = corpus::record_for(case.steps[rec.index].expects(), spec)
                .map(|e| e.outcomes.iter().map(|o| o.to_string()).collect());
            let status = row.map(|x| x.status.clone()).unwrap_or_else(|| "ok".into());
            let detail = row.map(|x| x.detail.clone()).filter(|d| !d.is_empty());
            out.push(JsonRow {
                file: name.clone(),
                platform: spec.to_string(),
                step: rec.index + 1,
                statement: case.steps[rec.index].stmt.to_string(),
                outcome: members(&rec.expected),
                rule: rec.rule.to_string(),
                real: Some(members(&rec.actual)),
                line: lines.get(rec.index).copied(),
                recorded,
                status: Some(status),
                detail,
                ..JsonRow::default()
            });
        }
        if let Some(sk) = skipped {
            out.push(JsonRow {
                file: name.clone(),
                platform: spec.to_string(),
                status: Some("skipped".into()),
                detail: Some(sk.detail.clone()),
                ..JsonRow::default()
            });
        }
    }
    out
}
