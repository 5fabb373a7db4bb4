//! The corpus: hand-written and found cases under `corpus/<platform>/<topic>/`,
//! each statement annotated with the outcomes last seen per platform and
//! version (`#= linux@6.18:EADDRINUSE`).
//!
//! For a choice the OS leaves open (which member of a reuseport group gets a
//! probe), the record is the whole set of receivers the model allows, once
//! a live run saw only members of it; a later run that sees a receiver
//! outside it is a change.
//!
//! `corpus check` replays every case on this host and lists each statement
//! whose real outcome differs from the one recorded for this platform (the
//! OS changed), whose model prediction no longer covers the recorded outcome
//! (the model changed), or that has no record yet. `corpus record` writes
//! the real outcomes into the files. Both work on [`CorpusRow`]s, which are
//! also the CSV that the CI renderings are made from.

use crate::case::{self, Case, Expect, Program, Step, Trailer};
use crate::outcome::{Outcome, OutcomeSet};
use crate::platform::{ModelSpec, Platform};
use crate::run::{CaseRun, Verdict};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One row of `corpus check`'s CSV: a changed statement, or a case with no
/// change (`ok`), or a case that could not run (`skipped`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpusRow {
    pub case: String,
    pub line: usize,
    pub step: usize,
    pub statement: String,
    pub platform: String,
    /// The version whose record was compared (the host's own).
    pub recorded_version: String,
    pub recorded: String,
    pub real: String,
    pub predicted: String,
    pub rule: String,
    /// `ok`, `skipped`, `real-changed` (the OS answers otherwise than
    /// recorded), `model-changed` (the model no longer allows the record),
    /// `mismatch` (no record, and the model does not allow the real
    /// outcome), `unrecorded` (no record; the model allows what happened),
    /// `consequence` (a change after an earlier change of the same case),
    /// or `unknown` (the model could not follow the case past this step).
    pub status: String,
    pub detail: String,
    /// The records of other versions and variant sets of the platform
    /// (shown, never compared): `linux@6.18:ok linux@6.1:EINVAL`.
    #[serde(default)]
    pub others: String,
}

impl CorpusRow {
    /// Whether this row is a change (exit 1 for `corpus check`):
    /// consequences and unrecorded statements are not.
    pub fn is_change(&self) -> bool {
        matches!(self.status.as_str(), "real-changed" | "model-changed" | "mismatch")
    }
}

/// The record that a check of `spec` compares with: the entry of the same
/// platform, version and variant set, and no other (a build with other
/// variants, or another version, may answer otherwise).
pub fn record_for<'a>(expects: &'a [Expect], spec: &ModelSpec) -> Option<&'a Expect> {
    expects.iter().find(|e| e.model == *spec)
}

/// The records of `spec`'s platform other than its own, as text.
fn other_records(expects: &[Expect], spec: &ModelSpec) -> String {
    let others: Vec<String> = expects
        .iter()
        .filter(|e| e.model.platform == spec.platform && e.model != *spec)
        .map(|e| format!("{}:{}", e.model, OutcomeSet::new(e.outcomes.iter().cloned())))
        .collect();
    others.join(" ")
}

/// Line numbers of the statements of a case file, in order.
pub fn statement_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.split('#').next().unwrap_or("").trim().is_empty())
        .map(|(i, _)| i + 1)
        .collect()
}

/// Compares one case's run with its records. Every change after the
/// case's first one is marked as its consequence.
pub fn check_case(path: &Path, case: &Case, run: &CaseRun, spec: &ModelSpec) -> Vec<CorpusRow> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    check_case_text(&path.display().to_string(), &text, case, run, spec)
}

/// [`check_case`] for a case given by name and text (a built-in one).
pub fn check_case_text(name: &str, text: &str, case: &Case, run: &CaseRun, spec: &ModelSpec) -> Vec<CorpusRow> {
    let name = name.to_string();
    let lines = statement_lines(text);
    let base = CorpusRow { case: name.clone(), platform: spec.to_string(), ..CorpusRow::default() };
    if let Verdict::Skipped(why) = &run.verdict {
        return vec![CorpusRow { status: "skipped".into(), detail: why.clone(), ..base }];
    }
    let mut rows = Vec::new();
    if let Verdict::Unknown { index, why } = &run.verdict {
        // The model lost track of the case: its later statements are not checked.
        rows.push(CorpusRow {
            line: lines.get(*index).copied().unwrap_or(0),
            step: index + 1,
            statement: case.steps.get(*index).map(|s| s.stmt.to_string()).unwrap_or_default(),
            status: "unknown".into(),
            detail: format!("{why}: the statements after it are not compared"),
            ..base.clone()
        });
    }
    let mut first_change: Option<usize> = None;
    for rec in &run.steps {
        let step = &case.steps[rec.index];
        let mut row = CorpusRow {
            line: lines.get(rec.index).copied().unwrap_or(0),
            step: rec.index + 1,
            statement: step.stmt.to_string(),
            real: rec.actual.to_string(),
            predicted: rec.expected.to_string(),
            rule: rec.rule.to_string(),
            others: other_records(step.expects(), spec),
            ..base.clone()
        };
        match record_for(step.expects(), spec) {
            None if rec.agrees() => {
                row.status = "unrecorded".into();
                row.detail = format!("no {spec} record; the model allows {}", rec.actual);
            }
            None => {
                row.status = "mismatch".into();
                row.detail = format!("no {spec} record; model predicts {}, real {}", rec.expected, rec.actual);
            }
            Some(e) => {
                let recorded = OutcomeSet::new(e.outcomes.iter().cloned());
                row.recorded = recorded.to_string();
                row.recorded_version = e.model.version.as_ref().map(|v| v.to_string()).unwrap_or_default();
                if !rec.actual.members().iter().all(|a| recorded.contains(a)) {
                    row.status = "real-changed".into();
                    row.detail = format!("recorded {}, real {}", recorded, rec.actual);
                } else if !recorded.members().iter().all(|o| rec.expected.contains(o)) {
                    row.status = "model-changed".into();
                    row.detail = format!("model predicts {}, recorded {}", rec.expected, recorded);
                } else {
                    continue;
                }
            }
        }
        if row.is_change() {
            match first_change {
                None => first_change = Some(row.step),
                Some(at) => {
                    row.detail = format!("{} (after the change at step {at}): {}", row.status, row.detail);
                    row.status = "consequence".into();
                }
            }
        }
        rows.push(row);
    }
    if !rows.iter().any(|r| r.status != "unrecorded") {
        rows.push(CorpusRow { status: "ok".into(), detail: format!("{} statements", run.steps.len()), ..base });
    }
    rows
}

/// Writes the real outcomes of `run` into `case` as this platform's record
/// (other platforms' and versions' records are kept). Returns whether
/// anything changed.
pub fn record_case(case: &mut Case, run: &CaseRun, spec: &ModelSpec) -> bool {
    let mut changed = false;
    for rec in &run.steps {
        let step: &mut Step = &mut case.steps[rec.index];
        // A choice the OS leaves open (reuseport groups) is recorded as the
        // whole set the model allows when every receiver seen is in it: a
        // few probes see a random part of it, and that part is not news.
        let open_choice = rec.expected.members().len() > 1
            && rec.agrees()
            && rec.actual.members().iter().all(|o| matches!(o, Outcome::To(_) | Outcome::ToNone));
        let seen = if open_choice { rec.expected.members() } else { rec.actual.members() };
        let entry = Expect { model: spec.clone(), outcomes: seen.to_vec() };
        let mut entries: Vec<Expect> = match &step.trailer {
            Some(Trailer::Expect(e)) => e.clone(),
            Some(Trailer::Note(n)) => {
                // A plain note moves above the statement to make room.
                step.above.push(n.clone());
                Vec::new()
            }
            None => Vec::new(),
        };
        match entries.iter_mut().find(|e| e.model == *spec) {
            Some(e) if e.outcomes == entry.outcomes => continue,
            // A recorded set (an open choice, or a timing race such as
            // linux.tcp.fin-wait2-race) that covers what was seen stays
            // while the model still allows all of it: one run sees one side
            // of a race, and that is not news.
            Some(e)
                if e.outcomes.len() > 1
                    && rec.actual.members().iter().all(|a| e.outcomes.contains(a))
                    && e.outcomes.iter().all(|o| rec.expected.contains(o)) =>
            {
                continue;
            }
            Some(e) => *e = entry,
            None => entries.push(entry),
        }
        entries.sort_by(|a, b| a.model.cmp(&b.model));
        step.trailer = Some(Trailer::Expect(entries));
        changed = true;
    }
    changed
}

/// The platform folder of the corpus for a platform (`corpus/linux`).
pub fn platform_dir(root: &Path, platform: Platform) -> std::path::PathBuf {
    root.join(platform.name())
}

/// A finding saved into the corpus: a header, the case, and its real outcomes.
pub fn finding_case(case: &Case, run: &CaseRun, spec: &ModelSpec, header: &str) -> Case {
    let mut c = case.clone();
    record_case(&mut c, run, spec);
    if let Some(first) = c.steps.first_mut() {
        let mut above: Vec<String> = header.lines().map(|l| format!(" {l}")).collect();
        above.append(&mut first.above);
        first.above = above;
    }
    c
}

/// Parses, compiles and keeps the text of a corpus file.
pub fn load(path: &Path) -> Result<(Case, Program), String> {
    let case = case::parse_file(path).map_err(|e| e.to_string())?;
    let prog = case::compile(&case).map_err(|e| format!("{}: {}", path.display(), e.what))?;
    Ok((case, prog))
}

/// The corpus as it was when this binary was built: every `.case` file
/// under `corpus/` (see `build.rs`), for `corpus check` and `explain`
/// outside the checkout.
pub mod builtin {
    include!(concat!(env!("OUT_DIR"), "/corpus.rs"));

    /// The built-in files under `corpus/<prefix>` (all with an empty
    /// prefix), named `corpus/…` as in the checkout.
    pub fn under(prefix: &str) -> Vec<(String, &'static str)> {
        let prefix = prefix.trim_matches('/');
        FILES
            .iter()
            .filter(|(p, _)| prefix.is_empty() || p.starts_with(&format!("{prefix}/")))
            .map(|(p, t)| (format!("corpus/{p}"), *t))
            .collect()
    }
}

/// Where a corpus comes from: a folder, or the copy built into the binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Folder(std::path::PathBuf),
    BuiltIn,
}

/// The corpus folder for `platform` as commands find it by default:
/// `corpus/<platform>` under the current folder when there is one (a
/// checkout), else the copy built into the binary.
pub fn default_origin(platform: Platform) -> Origin {
    let dir = platform_dir(Path::new("corpus"), platform);
    if dir.is_dir() { Origin::Folder(dir) } else { Origin::BuiltIn }
}

/// One corpus case: its name (path) and text.
pub type Source = (String, String);

/// The cases of the whole corpus for [`crate::explain`]: `corpus/` under
/// the current folder if there is one, else the built-in copy.
pub fn all_sources() -> (Origin, Vec<Source>) {
    let root = Path::new("corpus");
    if root.is_dir() {
        let mut files = Vec::new();
        walk(root, &mut files);
        files.sort();
        // Named with `/` on every host, as the built-in copy is.
        let name = |p: &Path| p.display().to_string().replace('\\', "/");
        let sources = files.iter().filter_map(|p| Some((name(p), std::fs::read_to_string(p).ok()?))).collect();
        (Origin::Folder(root.to_path_buf()), sources)
    } else {
        (Origin::BuiltIn, builtin::under("").into_iter().map(|(n, t)| (n, t.to_string())).collect())
    }
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "case") {
            out.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::parse;
    use crate::run::StepRecord;

    fn spec(s: &str) -> ModelSpec {
        ModelSpec::parse(s).unwrap()
    }

    #[test]
    fn only_the_record_of_the_same_version_and_variants_counts() {
        let c = parse(
            "t",
            "a = socket tcp4  #= linux@6.1:EPERM linux@6.18:ok linux@6.18+role-lock:EINVAL linux@7.0:EACCES windows:ok\n",
        )
        .unwrap();
        let e = c.steps[0].expects();
        assert_eq!(record_for(e, &spec("linux@6.18")).unwrap().model.to_string(), "linux@6.18");
        assert_eq!(record_for(e, &spec("linux@6.18+role-lock")).unwrap().model.to_string(), "linux@6.18+role-lock");
        assert!(record_for(e, &spec("linux@6.19")).is_none());
        assert!(record_for(e, &spec("linux@6.1+role-lock")).is_none());
        assert!(record_for(e, &spec("freebsd@14")).is_none());
        assert_eq!(other_records(e, &spec("linux@6.18+role-lock")), "linux@6.1:EPERM linux@6.18:ok linux@7.0:EACCES");
    }

    fn run(outcomes: &[&str]) -> CaseRun {
        CaseRun {
            steps: outcomes
                .iter()
                .enumerate()
                .map(|(i, o)| StepRecord {
                    index: i,
                    expected: OutcomeSet::parse(o).unwrap(),
                    actual: OutcomeSet::one(Outcome::parse(o).unwrap()),
                    rule: "linux.any.socket",
                    allowed: Vec::new(),
                })
                .collect(),
            verdict: Verdict::Agree,
        }
    }

    #[test]
    fn recording_keeps_other_platforms_and_moves_notes_up() {
        let mut c =
            parse("t", "a = socket tcp4   # a note\nbind a 0.0.0.0:P1  #= windows:EACCES linux@6.1:ok\n").unwrap();
        assert!(record_case(&mut c, &run(&["ok", "EADDRINUSE"]), &spec("linux@6.18")));
        let text = case::print(&c);
        assert!(text.contains("# a note\na = socket tcp4"), "{text}");
        assert!(text.contains("#= linux@6.1:ok linux@6.18:EADDRINUSE windows:EACCES"), "{text}");
        assert!(!record_case(&mut c, &run(&["ok", "EADDRINUSE"]), &spec("linux@6.18")));
    }

    #[test]
    fn a_recorded_set_that_covers_the_outcome_stays_while_the_model_allows_it() {
        let text = "a = socket tcp4  #= linux@6.18:ok\nbind a 0.0.0.0:P1  #= linux@6.18:{EADDRINUSE,ok}\n";
        let mut c = parse("t", text).unwrap();
        let mut r = run(&["ok", "EADDRINUSE"]);
        r.steps[1].expected = OutcomeSet::parse("{EADDRINUSE,ok}").unwrap();
        assert!(!record_case(&mut c, &r, &spec("linux@6.18")));
        assert_eq!(case::print(&c), case::print(&parse("t", text).unwrap()));
        // A model that now allows one of them narrows the record.
        let mut narrowed = c.clone();
        assert!(record_case(&mut narrowed, &run(&["ok", "EADDRINUSE"]), &spec("linux@6.18")));
        assert!(case::print(&narrowed).contains("#= linux@6.18:EADDRINUSE\n"), "{}", case::print(&narrowed));
        // An outcome outside the set replaces it.
        assert!(record_case(&mut c, &run(&["ok", "EACCES"]), &spec("linux@6.18")));
        assert!(case::print(&c).contains("#= linux@6.18:EACCES"), "{}", case::print(&c));
    }

    #[test]
    fn a_check_names_what_changed() {
        let dir = std::env::temp_dir().join(format!("sockdiff-corpus-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("c.case");
        let text = "a = socket tcp4  #= linux@6.18:ok\nbind a 0.0.0.0:P1  #= linux@6.18:EADDRINUSE\nlisten a\n";
        std::fs::write(&p, text).unwrap();
        let c = parse("t", text).unwrap();
        let rows = check_case(&p, &c, &run(&["ok", "ok", "ok"]), &spec("linux@6.18"));
        let st: Vec<(&str, usize)> = rows.iter().map(|r| (r.status.as_str(), r.line)).collect();
        assert_eq!(st, [("real-changed", 2), ("unrecorded", 3)]);
        assert_eq!(rows.iter().filter(|r| r.is_change()).count(), 1);
        // A build with other variants has no record: compared with the model alone.
        let rows = check_case(&p, &c, &run(&["ok", "ok", "ok"]), &spec("linux@6.18+role-lock"));
        assert!(rows.iter().all(|r| !r.is_change()), "{rows:?}");
        assert_eq!(rows.iter().filter(|r| r.status == "unrecorded").count(), 3);
        assert_eq!(rows[1].others, "linux@6.18:EADDRINUSE");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_change_after_a_change_is_its_consequence() {
        let dir = std::env::temp_dir().join(format!("sockdiff-corpus-c-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("c.case");
        let text = "a = socket tcp4  #= linux@6.18:ok\nlisten a  #= linux@6.18:ok\nconnect a 127.0.0.1:P1  #= linux@6.18:EISCONN\nclose a  #= linux@6.18:ok\n";
        std::fs::write(&p, text).unwrap();
        let c = parse("t", text).unwrap();
        let rows = check_case(&p, &c, &run(&["ok", "EINVAL", "ECONNREFUSED", "ok"]), &spec("linux@6.18"));
        let st: Vec<&str> = rows.iter().map(|r| r.status.as_str()).collect();
        assert_eq!(st, ["real-changed", "consequence"]);
        assert!(rows[1].detail.contains("after the change at step 2"), "{}", rows[1].detail);
        // A statement the model does not allow, without a record, is a mismatch.
        let mut r = run(&["ok", "ok", "ok", "ok"]);
        r.steps[1].actual = OutcomeSet::one(Outcome::parse("EINVAL").unwrap());
        let rows = check_case(&p, &c, &r, &spec("linux@6.7"));
        assert_eq!(rows.iter().find(|r| r.is_change()).unwrap().status, "mismatch");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
