//! `report merge`: folds the run folders of a sharded fuzz run (the same
//! seed, `--shard 1/N` … `N/N`) into one run folder, as if one machine had
//! run the whole sequence: each distinct finding once (by the signature of
//! [`crate::run::signature`], the earliest in the seed's order kept, with
//! its case file), counts summed, every run's fingerprint kept, rule
//! coverage united. `report diff` reads the result like any run folder.

use super::{Coverage, HEADER, MismatchRow, ShardRun, Summary, Throughput, read_mismatches, write_atomic};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// Why runs cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeError(pub String);

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MergeError {}

/// What a merge made.
#[derive(Debug, Clone)]
pub struct Merged {
    pub summary: Summary,
    /// Distinct findings kept.
    pub findings: usize,
    /// Findings dropped because an earlier case of another run had the
    /// same signature (counted as repeats).
    pub repeats: usize,
    /// Shards of the sequence no folder covered (`3/4`), if the runs name
    /// their shards.
    pub missing_shards: Vec<String>,
}

/// The index of a case in the seed's whole sequence, from its case id
/// (`case-000123` or `case-000123-s2of4`).
fn sequence_index(case_id: &str) -> u64 {
    case_id.strip_prefix("case-").and_then(|r| r.split('-').next()).and_then(|n| n.parse().ok()).unwrap_or(u64::MAX)
}

/// The signature of a row: statement kind, expected, actual.
fn signature(r: &MismatchRow) -> String {
    let mut w = r.statement.split_whitespace();
    let verb = match (w.next(), w.next(), w.next()) {
        (Some(_), Some("="), Some(v)) => v,
        (Some(v), _, _) => v,
        _ => "",
    };
    crate::run::signature_of(verb, &r.expected, &r.actual)
}

fn read_summary(run: &Path) -> Result<Summary, MergeError> {
    let path = run.join("summary.json");
    let text = fs::read_to_string(&path).map_err(|e| MergeError(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| MergeError(format!("{}: {e}", path.display())))
}

/// Merges the run folders `runs` into a new run folder `out` (which must
/// not exist yet, or be empty).
pub fn merge(runs: &[PathBuf], out: &Path) -> Result<Merged, MergeError> {
    if runs.is_empty() {
        return Err(MergeError("give the run folders to merge".into()));
    }
    let mut loaded = Vec::new();
    for r in runs {
        let rows = read_mismatches(r).map_err(|e| MergeError(e.to_string()))?;
        loaded.push((r.clone(), read_summary(r)?, rows));
    }
    let first = &loaded[0].1;
    for (path, s, _) in &loaded[1..] {
        if s.seed != first.seed {
            return Err(MergeError(format!(
                "{}: seed {} is not seed {} of {}: only shards of one seed merge",
                path.display(),
                s.seed,
                first.seed,
                runs[0].display()
            )));
        }
        if s.generator_version != first.generator_version {
            return Err(MergeError(format!(
                "{}: another generator version than {}",
                path.display(),
                runs[0].display()
            )));
        }
    }
    let shards: Vec<Option<String>> = loaded.iter().map(|(_, s, _)| s.shard.clone()).collect();
    let mut seen = BTreeSet::new();
    for (sh, (path, _, _)) in shards.iter().zip(&loaded) {
        if let Some(sh) = sh {
            if !seen.insert(sh.clone()) {
                return Err(MergeError(format!("{}: shard {sh} is given twice", path.display())));
            }
        }
    }
    let missing_shards = missing(&shards);

    // The findings in the seed's order, each signature once.
    let mut all: Vec<(u64, usize, MismatchRow)> = Vec::new();
    for (i, (_, _, rows)) in loaded.iter().enumerate() {
        for r in rows {
            all.push((sequence_index(&r.case_id), i, r.clone()));
        }
    }
    all.sort_by_key(|a| (a.0, a.1));
    let mut kept: Vec<(usize, MismatchRow)> = Vec::new();
    let mut by_sig: BTreeSet<String> = BTreeSet::new();
    let mut repeats = 0;
    for (_, i, r) in all {
        if by_sig.insert(signature(&r)) {
            kept.push((i, r));
        } else {
            repeats += 1;
        }
    }

    // The folder.
    if out.exists() && fs::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(MergeError(format!("--out {}: the folder exists and is not empty", out.display())));
    }
    let mk = |p: &Path| fs::create_dir_all(p).map_err(|e| MergeError(format!("cannot create {}: {e}", p.display())));
    mk(&out.join("cases"))?;
    let run_id = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "merged".into());
    let mut csv = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    csv.write_record(HEADER).map_err(|e| MergeError(e.to_string()))?;
    for (i, r) in &kept {
        let from = loaded[*i].0.join("cases").join(format!("{}.case", r.case_id));
        let to = out.join("cases").join(format!("{}.case", r.case_id));
        if from.is_file() {
            fs::copy(&from, &to).map_err(|e| MergeError(format!("cannot copy {}: {e}", from.display())))?;
        }
        let row = MismatchRow { run_id: run_id.clone(), ..r.clone() };
        csv.serialize(&row).map_err(|e| MergeError(e.to_string()))?;
    }
    let bytes = csv.into_inner().map_err(|e| MergeError(e.to_string()))?;
    write_atomic(&out.join("mismatches.csv"), &bytes).map_err(|e| MergeError(e.to_string()))?;

    let summary = fold(&loaded.iter().map(|(_, s, _)| s.clone()).collect::<Vec<_>>(), &run_id, kept.len(), repeats);
    let text = serde_json::to_string_pretty(&summary).map_err(|e| MergeError(e.to_string()))?;
    write_atomic(&out.join("summary.json"), format!("{text}\n").as_bytes()).map_err(|e| MergeError(e.to_string()))?;
    Ok(Merged { summary, findings: kept.len(), repeats, missing_shards })
}

/// Shards `I/N` none of the runs covers, when they name shards of one N.
fn missing(shards: &[Option<String>]) -> Vec<String> {
    let named: Vec<(u64, u64)> = shards
        .iter()
        .flatten()
        .filter_map(|s| s.split_once('/').and_then(|(i, n)| Some((i.parse().ok()?, n.parse().ok()?))))
        .collect();
    let Some(&(_, of)) = named.first() else { return Vec::new() };
    (1..=of).filter(|i| !named.iter().any(|(n, _)| n == i)).map(|i| format!("{i}/{of}")).collect()
}

/// The summary of the merged folder.
fn fold(runs: &[Summary], run_id: &str, findings: usize, repeats: usize) -> Summary {
    let first = &runs[0];
    let mut s = Summary {
        run_id: run_id.to_string(),
        command: format!(
            "sockdiff report merge {}",
            runs.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>().join(" ")
        ),
        seed: first.seed.clone(),
        started_at: runs.iter().map(|r| r.started_at.clone()).min().unwrap_or_default(),
        finished_at: runs.iter().map(|r| r.finished_at.clone()).max().unwrap_or_default(),
        fingerprint: first.fingerprint.clone(),
        generator_version: first.generator_version,
        ..Summary::default()
    };
    // A merged run is as finished as its least finished part.
    s.status = runs
        .iter()
        .map(|r| r.status.as_str())
        .find(|st| !matches!(*st, "cases" | "duration"))
        .unwrap_or(first.status.as_str())
        .to_string();
    let mut missing: Option<BTreeSet<String>> = None;
    let mut total: BTreeSet<String> = BTreeSet::new();
    let mut elapsed: f64 = 0.0;
    for r in runs {
        let c = &mut s.counts;
        c.cases += r.counts.cases;
        c.statements += r.counts.statements;
        c.flaky += r.counts.flaky;
        c.skipped += r.counts.skipped;
        c.repeats += r.counts.repeats;
        c.invalid += r.counts.invalid;
        c.unknown += r.counts.unknown;
        elapsed = elapsed.max(r.throughput.elapsed_s);
        add(&mut s.rules, &r.rules);
        add(&mut s.skipped_reasons, &r.skipped_reasons);
        add(&mut s.flaky_signatures, &r.flaky_signatures);
        add(&mut s.signatures, &r.signatures);
        add(&mut s.statement_kinds, &r.statement_kinds);
        crate::run::SetMembers::fold(&mut s.set_members, &r.set_members);
        crate::run::SetMembers::fold(&mut s.set_members_alone, &r.set_members_alone);
        let theirs: BTreeSet<String> = r.coverage.missing.iter().cloned().collect();
        total.extend(r.rules.keys().cloned());
        total.extend(theirs.iter().cloned());
        missing = Some(match missing {
            None => theirs,
            Some(m) => m.intersection(&theirs).cloned().collect(),
        });
        s.merged_from.push(ShardRun {
            run_id: r.run_id.clone(),
            shard: r.shard.clone(),
            status: r.status.clone(),
            fingerprint: r.fingerprint.clone(),
            counts: r.counts.clone(),
        });
    }
    s.over_wide = super::over_wide(&s.set_members, &s.set_members_alone, crate::model::rules::MEASURED_RATES);
    s.counts.mismatches = findings as u64;
    s.counts.repeats += repeats as u64;
    let missing: Vec<String> = missing.unwrap_or_default().into_iter().collect();
    s.coverage = Coverage { fired: total.len() - missing.len(), total: total.len(), missing };
    // The runs went side by side: the merged run took as long as the longest.
    let secs = elapsed.max(1e-9);
    s.throughput = Throughput {
        elapsed_s: elapsed,
        cases_per_s: (s.counts.cases as f64 / secs * 10.0).round() / 10.0,
        statements_per_s: (s.counts.statements as f64 / secs * 10.0).round() / 10.0,
    };
    s
}

fn add(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Counts;

    fn row(case_id: &str, statement: &str, expected: &str, actual: &str) -> MismatchRow {
        MismatchRow {
            run_id: "r".into(),
            found_at: "t".into(),
            host_os: "Linux".into(),
            os_release: "6.18".into(),
            model: "linux@6.18".into(),
            seed: "2:1".into(),
            case_id: case_id.into(),
            step: 2,
            statement: statement.into(),
            expected: expected.into(),
            actual: actual.into(),
            rule: "linux.tcp.bind-conflict".into(),
            reproduced: "3/3".into(),
            original_len: 9,
            minimized_len: 2,
            case: "a = socket tcp4 ; bind a 0.0.0.0:P1".into(),
        }
    }

    fn write_run(dir: &Path, shard: &str, rows: &[MismatchRow], cases: u64, missing: &[&str]) -> PathBuf {
        let id = format!("run-{}", shard.replace('/', "of"));
        let mut rd = crate::report::RunDir::create(dir, &id).unwrap();
        for r in rows {
            let c = crate::case::parse("c", "a = socket tcp4\nbind a 0.0.0.0:P1\n").unwrap();
            rd.add_mismatch(r, &c, "h").unwrap();
        }
        let s = Summary {
            run_id: id.clone(),
            seed: "7".into(),
            status: "cases".into(),
            shard: Some(shard.into()),
            generator_version: Some(2),
            counts: Counts { cases, statements: cases * 10, mismatches: rows.len() as u64, ..Counts::default() },
            throughput: Throughput { elapsed_s: cases as f64 / 100.0, ..Throughput::default() },
            rules: [("linux.any.socket".to_string(), cases)].into(),
            coverage: Coverage { missing: missing.iter().map(|m| m.to_string()).collect(), ..Coverage::default() },
            ..Summary::default()
        };
        rd.write_summary(&s).unwrap();
        rd.path
    }

    #[test]
    fn shards_fold_into_one_folder_each_finding_once_the_earliest_kept() {
        let d = std::env::temp_dir().join(format!("sockdiff-merge-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        let a = write_run(
            &d,
            "1/2",
            &[row("case-000004-s1of2", "bind a 0.0.0.0:P1", "ok", "EADDRINUSE")],
            100,
            &["linux.x.a", "linux.x.b"],
        );
        let b = write_run(
            &d,
            "2/2",
            &[
                row("case-000001-s2of2", "bind b 0.0.0.0:P1", "ok", "EADDRINUSE"),
                row("case-000003-s2of2", "listen a", "ok", "EINVAL"),
            ],
            80,
            &["linux.x.b"],
        );
        let out = d.join("merged");
        let m = merge(&[a.clone(), b.clone()], &out).unwrap();
        assert_eq!((m.findings, m.repeats), (2, 1));
        let rows = read_mismatches(&out).unwrap();
        // The bind finding of case 1 (shard 2) comes before case 4 (shard 1).
        let ids: Vec<&str> = rows.iter().map(|r| r.case_id.as_str()).collect();
        assert_eq!(ids, ["case-000001-s2of2", "case-000003-s2of2"]);
        assert!(rows.iter().all(|r| r.run_id == "merged"));
        assert!(out.join("cases/case-000001-s2of2.case").is_file());
        let s = read_summary(&out).unwrap();
        assert_eq!((s.counts.cases, s.counts.mismatches, s.counts.repeats), (180, 2, 1));
        assert_eq!(s.coverage.missing, ["linux.x.b"]);
        assert_eq!(s.merged_from.len(), 2);
        assert_eq!(s.rules["linux.any.socket"], 180);
        assert!(m.missing_shards.is_empty());
        // The same folder twice, another seed, a used --out: refused.
        assert!(merge(&[a.clone(), a.clone()], &d.join("m2")).unwrap_err().0.contains("given twice"));
        assert!(merge(&[a.clone(), b.clone()], &out).unwrap_err().0.contains("not empty"));
        assert_eq!(merge(&[b], &d.join("m3")).unwrap().missing_shards, ["1/2"]);
        fs::remove_dir_all(&d).unwrap();
    }
}
