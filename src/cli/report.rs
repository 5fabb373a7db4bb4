//! `sockdiff report diff OLD NEW` and `sockdiff report render RUN`.

use crate::model::{HostSettings, for_spec};
use crate::platform::ModelSpec;
use crate::render::html::{Finding, FindingStep};
use crate::report::{self, MismatchRow, Summary, write_atomic};
use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum ReportCmd {
    /// Compare two run folders: mismatches new, gone and still there, what
    /// changed in the fingerprint, and skipped counts; exit 1 if anything is new.
    Diff(DiffArgs),
    /// Render a run folder for CI: JUnit XML and a Markdown summary, made
    /// from its mismatches.csv and summary.json.
    Render(RenderArgs),
    /// Fold the run folders of a sharded fuzz run (one seed, --shard 1/N …
    /// N/N) into one: each distinct finding once (the earliest in the
    /// seed's order), counts summed, every run's fingerprint kept, rule
    /// coverage united.
    Merge(MergeArgs),
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The run folders to fold.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// The merged run folder to make (it must not exist, or be empty).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The older run folder.
    pub old: PathBuf,
    /// The newer run folder.
    pub new: PathBuf,
    /// Also write the comparison as CSV.
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RenderArgs {
    /// The run folder.
    pub run: PathBuf,
    /// Write JUnit XML here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Write Markdown here (default: standard output, unless --html is
    /// given).
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    /// Write one self-contained HTML page here: fingerprint, calibration,
    /// counts, each finding step by step, rule coverage.
    #[arg(long)]
    pub html: Option<PathBuf>,
}

pub fn run(cmd: ReportCmd) -> Result<u8> {
    match cmd {
        ReportCmd::Diff(a) => diff(a),
        ReportCmd::Render(a) => render(a),
        ReportCmd::Merge(a) => merge(a),
    }
}

fn merge(a: MergeArgs) -> Result<u8> {
    let m = report::merge::merge(&a.runs, &a.out)?;
    let c = &m.summary.counts;
    if !m.missing_shards.is_empty() {
        eprintln!(
            "warning: no folder for shard(s) {}: the merged run covers part of the sequence",
            m.missing_shards.join(", ")
        );
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{} runs merged: {} cases, {} distinct mismatch(es), {} repeat(s) across runs, {} flaky, {} skipped; rules fired {}/{}",
        a.runs.len(),
        c.cases,
        m.findings,
        m.repeats,
        c.flaky,
        c.skipped,
        m.summary.coverage.fired,
        m.summary.coverage.total
    )?;
    writeln!(out, "{}", a.out.display())?;
    out.flush()?;
    Ok(0)
}

/// Reads a run folder's rows and summary. For a run that did not finish
/// (killed, or still going) it says so on stderr, and the counts in the
/// summary returned are those the folder's files prove.
pub fn load_run(dir: &Path) -> Result<(Vec<MismatchRow>, Summary)> {
    let rows = report::read_mismatches(dir).map_err(|e| anyhow!("{e}"))?;
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut summary: Summary = serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
    if !report::finished(&summary) {
        let proven = report::proven_counts(dir, &rows, &summary);
        eprintln!(
            "warning: {} is from a run that did not finish (summary.json says running: killed, or still going); counts are those its files prove ({} case(s) at least, {} mismatch(es))",
            dir.display(),
            proven.cases,
            proven.mismatches
        );
        summary.counts = proven;
    }
    Ok((rows, summary))
}

/// The statement kind of a CSV statement (`a = socket tcp4` is `socket`).
fn verb(statement: &str) -> &str {
    let mut w = statement.split_whitespace();
    match (w.next(), w.next(), w.next()) {
        (Some(_), Some("="), Some(v)) => v,
        (Some(v), _, _) => v,
        _ => "",
    }
}

/// What identifies a finding across runs: the signature of
/// [`crate::run::signature`] (statement kind, expected, actual; not the
/// rule, which may differ for one cause).
fn key(r: &MismatchRow) -> String {
    crate::run::signature_of(verb(&r.statement), &r.expected, &r.actual)
}

/// One line of the comparison.
#[derive(serde::Serialize)]
struct DiffRow {
    status: &'static str,
    statement_kind: String,
    expected: String,
    actual: String,
    rule: String,
    old_case: String,
    new_case: String,
    new_statement: String,
}

fn fingerprint_fields(s: &Summary) -> BTreeMap<String, String> {
    let f = &s.fingerprint;
    let mut m = BTreeMap::new();
    m.insert("os".to_string(), f.os.clone());
    m.insert("release".to_string(), f.release.clone());
    m.insert("build".to_string(), f.build.clone());
    m.insert("arch".to_string(), f.arch.clone());
    m.insert("tool_version".to_string(), f.tool_version.clone());
    m.insert("model".to_string(), f.model.clone());
    m.insert("variants".to_string(), if f.variants.is_empty() { "none".into() } else { f.variants.join("+") });
    for p in &f.calibration {
        m.insert(format!("calibration.{}", p.variant), format!("{} ({})", p.side.word(), p.real.join(" ")));
    }
    for (k, v) in &f.settings {
        m.insert(format!("settings.{k}"), v.clone());
    }
    m
}

fn diff(a: DiffArgs) -> Result<u8> {
    super::check_outputs(&[], &[("--csv", a.csv.as_deref())])?;
    let (old_rows, old_sum) = load_run(&a.old)?;
    let (new_rows, new_sum) = load_run(&a.new)?;
    let mut rows: Vec<DiffRow> = Vec::new();
    let find = |rows: &[MismatchRow], k: &str| rows.iter().find(|r| key(r) == k).cloned();
    let row = |status, r: &MismatchRow, old_case: String, new_case: String, new_statement: String| DiffRow {
        status,
        statement_kind: verb(&r.statement).to_string(),
        expected: r.expected.clone(),
        actual: r.actual.clone(),
        rule: r.rule.clone(),
        old_case,
        new_case,
        new_statement,
    };
    for n in &new_rows {
        let old = find(&old_rows, &key(n));
        let status = if old.is_some() { "still" } else { "new" };
        rows.push(row(status, n, old.map(|o| o.case_id).unwrap_or_default(), n.case_id.clone(), n.statement.clone()));
    }
    for o in &old_rows {
        if find(&new_rows, &key(o)).is_none() {
            rows.push(row("gone", o, o.case_id.clone(), String::new(), String::new()));
        }
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "old: {} ({})\nnew: {} ({})",
        a.old.display(),
        old_sum.fingerprint.model,
        a.new.display(),
        new_sum.fingerprint.model
    )?;
    let (fo, fn_) = (fingerprint_fields(&old_sum), fingerprint_fields(&new_sum));
    let mut changed = 0;
    for k in fo.keys().chain(fn_.keys().filter(|k| !fo.contains_key(*k))) {
        let (o, n) = (fo.get(k).map(String::as_str).unwrap_or("-"), fn_.get(k).map(String::as_str).unwrap_or("-"));
        if o != n {
            writeln!(out, "fingerprint {k}: {o} -> {n}")?;
            changed += 1;
        }
    }
    if changed == 0 {
        writeln!(out, "fingerprint: unchanged")?;
    }
    writeln!(out, "{:<6} {:<8} {:<16} {:<14} {:<36} old case / new case", "", "kind", "model", "real", "rule")?;
    for r in &rows {
        writeln!(
            out,
            "{:<6} {:<8} {:<16} {:<14} {:<36} {} / {}",
            r.status,
            r.statement_kind,
            r.expected,
            r.actual,
            r.rule,
            if r.old_case.is_empty() { "-" } else { &r.old_case },
            if r.new_case.is_empty() { "-" } else { &r.new_case }
        )?;
    }
    let count = |s: &str| rows.iter().filter(|r| r.status == s).count();
    let (oc, nc) = (&old_sum.counts, &new_sum.counts);
    writeln!(
        out,
        "{} new, {} gone, {} still; cases {} -> {}, skipped {} -> {}, flaky {} -> {}",
        count("new"),
        count("gone"),
        count("still"),
        oc.cases,
        nc.cases,
        oc.skipped,
        nc.skipped,
        oc.flaky,
        nc.flaky
    )?;
    for (why, n) in &new_sum.skipped_reasons {
        writeln!(out, "new run skipped {n}: {why}")?;
    }
    out.flush()?;
    if let Some(p) = &a.csv {
        crate::report::write_csv(p, &rows)?;
    }
    Ok(if count("new") > 0 { 1 } else { 0 })
}

fn render(a: RenderArgs) -> Result<u8> {
    super::check_outputs(
        &[],
        &[("--junit", a.junit.as_deref()), ("--markdown", a.markdown.as_deref()), ("--html", a.html.as_deref())],
    )?;
    let (rows, summary) = load_run(&a.run)?;
    if let Some(p) = &a.junit {
        write_atomic(p, crate::render::junit_fuzz(&rows, &summary).as_bytes())?;
    }
    if let Some(p) = &a.html {
        let findings: Vec<Finding> = rows.iter().map(|r| finding(&a.run, r, &summary)).collect();
        let page = crate::render::html::run_page(&summary, &summary.counts, report::finished(&summary), &findings);
        write_atomic(p, page.as_bytes())?;
    }
    let md = crate::render::markdown_fuzz(&rows, &summary);
    match &a.markdown {
        Some(p) => write_atomic(p, md.as_bytes())?,
        None if a.html.is_some() => {}
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(md.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(0)
}

/// A finding's minimized case step by step: the run's model predicts each
/// statement again; the real side is what the run folder proves (every
/// statement before the mismatch agreed, the mismatch is the CSV's actual
/// outcome, later statements were not compared).
fn finding(run: &Path, row: &MismatchRow, summary: &Summary) -> Finding {
    let path = run.join("cases").join(format!("{}.case", row.case_id));
    let case = crate::case::parse_file(&path).ok();
    let spec = ModelSpec::parse(&summary.fingerprint.model).or_else(|| ModelSpec::parse(&row.model));
    let model =
        spec.filter(|s| crate::model::variants::check(s).is_ok()).map(|s| for_spec(&s, &HostSettings::default()));
    let Some(case) = case else {
        // No case file: the CSV row alone.
        let step = FindingStep {
            statement: row.statement.clone(),
            model: row.expected.clone(),
            real: row.actual.clone(),
            rule: row.rule.clone(),
            mismatch: true,
        };
        return Finding { row: row.clone(), steps: vec![step] };
    };
    let predicted = model.as_ref().and_then(|m| {
        let prog = crate::case::compile(&case).ok()?;
        crate::run::predict_case(m.as_ref(), &prog).ok()
    });
    let steps = case
        .stmts()
        .enumerate()
        .map(|(i, st)| {
            let (pred, rule) = predicted
                .as_ref()
                .and_then(|p| p.get(i))
                .map(|(s, r)| (s.to_string(), r.to_string()))
                .unwrap_or_default();
            let at = i + 1 == row.step;
            let (model, rule) = if at { (row.expected.clone(), row.rule.clone()) } else { (pred, rule) };
            let real = if at {
                row.actual.clone()
            } else if i + 1 < row.step {
                // A single prediction that agreed is the real outcome.
                if model.starts_with('{') { format!("agreed (one of {model})") } else { model.clone() }
            } else {
                "not compared".to_string()
            };
            FindingStep { statement: st.to_string(), model, real, rule, mismatch: at }
        })
        .collect();
    Finding { row: row.clone(), steps }
}
