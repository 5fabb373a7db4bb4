//! Run folders (docs/interface.md#run-folders): `mismatches.csv` (created with its header when
//! the run starts, one whole row per write so a killed run leaves a valid
//! file), `summary.json` (replaced atomically), and `cases/<case_id>.case`
//! (written before the row that names it). [`merge`] folds the run
//! folders of a sharded run into one.

pub mod merge;

use crate::case::{Case, print};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The columns of `mismatches.csv`, in order.
pub const HEADER: [&str; 16] = [
    "run_id",
    "found_at",
    "host_os",
    "os_release",
    "model",
    "seed",
    "case_id",
    "step",
    "statement",
    "expected",
    "actual",
    "rule",
    "reproduced",
    "original_len",
    "minimized_len",
    "case",
];

/// One row of `mismatches.csv`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MismatchRow {
    pub run_id: String,
    pub found_at: String,
    pub host_os: String,
    pub os_release: String,
    pub model: String,
    pub seed: String,
    pub case_id: String,
    pub step: usize,
    pub statement: String,
    pub expected: String,
    pub actual: String,
    pub rule: String,
    pub reproduced: String,
    pub original_len: usize,
    pub minimized_len: usize,
    pub case: String,
}

/// What identifies the system a run was made on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Fingerprint {
    pub os: String,
    pub release: String,
    pub build: String,
    pub arch: String,
    pub tool_version: String,
    pub model: String,
    /// The model's build variants (found by calibration for the host model).
    #[serde(default)]
    pub variants: Vec<String>,
    /// Each calibration probe with its result (empty for an explicit model).
    #[serde(default)]
    pub calibration: Vec<crate::calibrate::ProbeResult>,
    /// Settings that change outcomes (`net.ipv6.bindv6only`, isolation, …).
    pub settings: BTreeMap<String, String>,
}

/// Counters of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Counts {
    pub cases: u64,
    pub statements: u64,
    /// Distinct reproduced mismatches (rows of mismatches.csv).
    pub mismatches: u64,
    /// Mismatches that did not reproduce in any re-run.
    pub flaky: u64,
    pub skipped: u64,
    /// Further cases that hit an already reported signature.
    pub repeats: u64,
    /// Cases found invalid while running (never expected from `fuzz`).
    pub invalid: u64,
    /// Cases the model could not follow to their end (its belief exceeded
    /// its state cap): neither agreements nor mismatches; kept in `unknown/`.
    #[serde(default)]
    pub unknown: u64,
}

/// Throughput of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Throughput {
    pub elapsed_s: f64,
    pub cases_per_s: f64,
    pub statements_per_s: f64,
}

/// Which rules fired, against all rules of the model.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Coverage {
    pub fired: usize,
    pub total: usize,
    /// Rules of the model that never decided an outcome in this run.
    pub missing: Vec<String>,
}

/// `summary.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Summary {
    pub run_id: String,
    pub command: String,
    pub seed: String,
    pub started_at: String,
    pub finished_at: String,
    /// `running` while the run goes on; then `duration`, `cases`, or `interrupted`.
    pub status: String,
    pub fingerprint: Fingerprint,
    pub counts: Counts,
    pub throughput: Throughput,
    /// Each rule id -> how often it decided an outcome.
    pub rules: BTreeMap<String, u64>,
    pub coverage: Coverage,
    /// Why cases were skipped -> how many.
    pub skipped_reasons: BTreeMap<String, u64>,
    /// Flaky signatures -> how often they failed to reproduce.
    pub flaky_signatures: BTreeMap<String, u64>,
    /// Reported signatures -> how many cases hit them in all.
    pub signatures: BTreeMap<String, u64>,
    /// The generator's version when the cases were generated (fuzz), so a
    /// case seed is read with the generator that made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator_version: Option<u32>,
    /// The shard of the seed's case sequence this run took (`2/4`), if
    /// it took one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// How many statements of each kind ran (`bind` -> n): the mix the
    /// run exercised.
    #[serde(default)]
    pub statement_kinds: BTreeMap<String, u64>,
    /// For each rule that allowed a member of a predicted set of outcomes:
    /// each member, with how often the rule allowed it (chances) and how
    /// often it turned up.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set_members: BTreeMap<String, BTreeMap<String, [u64; 2]>>,
    /// The same, counting only the statements where one of the model's
    /// states alone allowed the member (so a sighting was its doing).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set_members_alone: BTreeMap<String, BTreeMap<String, [u64; 2]>>,
    /// Members of predicted sets that never turned up in enough chances
    /// ([`over_wide`]): where the model may allow more than the OS does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub over_wide: Vec<OverWide>,
    /// A folder made by `report merge`: the runs it folds, each with its
    /// shard, status, fingerprint and counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<ShardRun>,
}

/// A member of a predicted set that never turned up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct OverWide {
    pub rule: String,
    pub member: String,
    /// How often the rule predicted a set holding it.
    pub chances: u64,
    /// How many chances it needs before its absence counts (200, or more
    /// for a member with a measured rare rate).
    pub needed: u64,
    /// The chances counted are those where one state alone allowed it
    /// (its absence elsewhere may be hidden by other states that allow it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub alone: bool,
}

/// Chances a set's member gets before its absence counts.
pub const OVER_WIDE_CHANCES: u64 = 200;

/// The members of predicted sets that never turned up in enough chances:
/// 200, or for a member with a measured rate (`(rule, member, rate)`,
/// [`crate::model::rules::MEASURED_RATES`]) as many as make 5 expected.
/// Counted over every statement where the rule allowed the member, and
/// apart over those where one state alone allowed it: a member the rule
/// adds where nothing else allows it is flagged even if other states allow
/// it elsewhere and it turns up there.
pub fn over_wide(
    all: &crate::run::MemberMap,
    lone: &crate::run::MemberMap,
    rates: &[(&str, &str, f64)],
) -> Vec<OverWide> {
    let mut out: Vec<OverWide> = Vec::new();
    for (map, alone) in [(all, false), (lone, true)] {
        for (rule, ms) in map {
            for (member, [chances, seen]) in ms {
                let rate = rates.iter().find(|(r, m, _)| r == rule && m == member).map(|(_, _, x)| *x);
                let needed = match rate {
                    Some(x) if x > 0.0 => ((5.0 / x).ceil() as u64).max(OVER_WIDE_CHANCES),
                    _ => OVER_WIDE_CHANCES,
                };
                let known = out.iter().any(|w| &w.rule == rule && &w.member == member);
                if *seen == 0 && *chances >= needed && !known {
                    out.push(OverWide { rule: rule.clone(), member: member.clone(), chances: *chances, needed, alone });
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.rule, &a.member).cmp(&(&b.rule, &b.member)));
    out
}

/// One run folded into a merged folder.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct ShardRun {
    pub run_id: String,
    pub shard: Option<String>,
    pub status: String,
    pub fingerprint: Fingerprint,
    pub counts: Counts,
}

/// An open run folder.
pub struct RunDir {
    pub path: PathBuf,
    pub run_id: String,
    csv: File,
}

/// A path and what went wrong with it, as one line.
fn io_err(path: &Path, what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

impl RunDir {
    /// Creates `<parent>/<run_id>/` with `cases/` and a `mismatches.csv`
    /// holding only the header.
    pub fn create(parent: &Path, run_id: &str) -> io::Result<RunDir> {
        fs::create_dir_all(parent).map_err(|e| io_err(parent, "cannot create the run folder in", e))?;
        // Two runs with one seed in the same second would get the same id:
        // the later one takes the next free suffix rather than failing.
        let mut n = 1;
        let (path, run_id) = loop {
            let id = if n == 1 { run_id.to_string() } else { format!("{run_id}-{n}") };
            let path = parent.join(&id);
            match fs::create_dir(&path) {
                Ok(()) => break (path, id),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(io_err(&path, "cannot create the run folder", e)),
            }
        };
        fs::create_dir(path.join("cases")).map_err(|e| io_err(&path, "cannot create the run folder", e))?;
        // A first summary before anything else, so the folder is a valid
        // report however early the run ends (even out of descriptors).
        let first = Summary { run_id: run_id.clone(), status: "running".into(), ..Summary::default() };
        let text = serde_json::to_string_pretty(&first).map_err(io::Error::other)?;
        write_atomic(&path.join("summary.json"), format!("{text}\n").as_bytes())?;
        let csv_path = path.join("mismatches.csv");
        let mut csv = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&csv_path)
            .map_err(|e| io_err(&csv_path, "cannot create", e))?;
        csv.write_all(format!("{}\n", HEADER.join(",")).as_bytes())
            .and_then(|_| csv.flush())
            .map_err(|e| io_err(&csv_path, "cannot write", e))?;
        Ok(RunDir { path, run_id, csv })
    }

    /// Writes the case file, then appends the row in one write.
    pub fn add_mismatch(&mut self, row: &MismatchRow, case: &Case, header: &str) -> io::Result<()> {
        let case_path = self.path.join("cases").join(format!("{}.case", row.case_id));
        let mut text = String::new();
        for line in header.lines() {
            text.push_str(&format!("# {line}\n"));
        }
        text.push_str(&print(case));
        write_atomic(&case_path, text.as_bytes())?;
        let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        w.serialize(row).map_err(io::Error::other)?;
        let bytes = w.into_inner().map_err(|e| io::Error::other(e.to_string()))?;
        let csv_path = self.path.join("mismatches.csv");
        // One write of the whole row; if it fails part way (a full disk),
        // cut the file back so no half row is left.
        let before = self.csv.metadata().map(|m| m.len());
        self.csv.write_all(&bytes).and_then(|_| self.csv.flush()).map_err(|e| {
            if let Ok(len) = before {
                let _ = self.csv.set_len(len);
            }
            io_err(&csv_path, "cannot write", e)
        })
    }

    /// Replaces `summary.json` (write to a temporary file, then rename).
    pub fn write_summary(&self, summary: &Summary) -> io::Result<()> {
        let text = serde_json::to_string_pretty(summary).map_err(io::Error::other)?;
        write_atomic(&self.path.join("summary.json"), format!("{text}\n").as_bytes())
    }
}

/// Checks, before any work, that a folder can be written or made at
/// `dir`, without making anything: an existing folder must take a probe
/// file (written and removed at once); a missing one needs its nearest
/// existing ancestor to be a folder that does.
pub fn check_out_dir(dir: &Path) -> io::Result<()> {
    let mut at = dir;
    loop {
        if at.as_os_str().is_empty() {
            at = Path::new(".");
        }
        match fs::metadata(at) {
            Ok(m) if m.is_dir() => return probe_dir(at).map_err(|e| io_err(dir, "cannot create the run folder in", e)),
            Ok(_) => {
                let e = io::Error::new(io::ErrorKind::NotADirectory, format!("{} is a file", at.display()));
                return Err(io_err(dir, "cannot create the run folder in", e));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => match at.parent() {
                Some(p) => at = p,
                None => return Err(io_err(dir, "cannot create the run folder in", e)),
            },
            Err(e) => return Err(io_err(dir, "cannot create the run folder in", e)),
        }
    }
}

/// Writes and removes a probe file in an existing folder.
fn probe_dir(dir: &Path) -> io::Result<()> {
    let probe = dir.join(format!(".sockdiff-write-check-{}", std::process::id()));
    OpenOptions::new().write(true).create_new(true).open(&probe)?;
    fs::remove_file(&probe)
}

/// Checks, before any work, that the file `path` can be written, leaving
/// nothing behind: an existing file must open for appending (unchanged);
/// a new one's folder must exist and take it (it is made and removed).
pub fn check_out_file(path: &Path) -> io::Result<()> {
    if path.is_dir() {
        let e = io::Error::new(io::ErrorKind::IsADirectory, "it is a folder");
        return Err(io_err(path, "cannot write", e));
    }
    if path.exists() {
        OpenOptions::new().append(true).open(path).map_err(|e| io_err(path, "cannot write", e))?;
        return Ok(());
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        let e = io::Error::new(io::ErrorKind::NotFound, format!("no folder {}", parent.display()));
        return Err(io_err(path, "cannot write", e));
    }
    OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| io_err(path, "cannot write", e))?;
    let _ = fs::remove_file(path);
    Ok(())
}

/// Writes rows as a CSV file (header from the row type), atomically.
pub fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(io::Error::other)?;
    }
    let bytes = w.into_inner().map_err(|e| io::Error::other(e.to_string()))?;
    write_atomic(path, &bytes)
}

/// Writes a file through a temporary sibling and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        io_err(&tmp, "cannot write", e)
    })?;
    fs::rename(&tmp, path).map_err(|e| io_err(path, "cannot write", e))
}

/// Reads a run folder's mismatches.
pub fn read_mismatches(run: &Path) -> io::Result<Vec<MismatchRow>> {
    let path = run.join("mismatches.csv");
    let mut r = csv::Reader::from_path(&path).map_err(|e| io::Error::other(format!("{}: {e}", path.display())))?;
    r.deserialize()
        .collect::<Result<Vec<MismatchRow>, _>>()
        .map_err(|e| io::Error::other(format!("{}: {e}", path.display())))
}

/// Whether the run that wrote `summary` finished: a run killed (or still
/// going) leaves `running` in it.
pub fn finished(summary: &Summary) -> bool {
    summary.status != "running"
}

/// The counts a run folder proves. A finished run's summary is taken as it
/// is. For one that did not finish, the summary may lag behind its files:
/// each row of mismatches.csv is a distinct mismatch, a case id
/// `case-N` proves that N + 1 cases at least were taken, and each file in
/// `flaky/` and `invalid/` is one such case.
pub fn proven_counts(dir: &Path, rows: &[MismatchRow], summary: &Summary) -> Counts {
    let mut c = summary.counts.clone();
    if finished(summary) {
        return c;
    }
    let index = |id: &str| id.strip_prefix("case-").and_then(|n| n.parse::<u64>().ok());
    let files = |sub: &str| -> Vec<u64> {
        fs::read_dir(dir.join(sub))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| index(e.file_name().to_str()?.strip_suffix(".case")?))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (flaky, invalid) = (files("flaky"), files("invalid"));
    let highest =
        rows.iter().filter_map(|r| index(&r.case_id)).chain(flaky.iter().copied()).chain(invalid.iter().copied()).max();
    c.mismatches = c.mismatches.max(rows.len() as u64);
    c.flaky = c.flaky.max(flaky.len() as u64);
    c.invalid = c.invalid.max(invalid.len() as u64);
    if let Some(h) = highest {
        c.cases = c.cases.max(h + 1);
    }
    c
}

/// Seconds since the Unix epoch as RFC 3339 UTC (`2026-11-25T14:33:01Z`).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (y, m, d) = civil_from_days((secs / 86400) as i64);
    let s = secs % 86400;
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

/// A run id: UTC time and a short seed, sortable (`20261125-143301-1a2b3c4d`).
pub fn run_id(t: SystemTime, seed: u64) -> String {
    let stamp = rfc3339(t);
    let digits: String = stamp.chars().filter(|c| c.is_ascii_digit()).collect();
    format!("{}-{}-{:08x}", &digits[..8], &digits[8..14], seed as u32)
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_are_rfc3339_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_617_181)), "2026-11-25T14:33:01Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(run_id(UNIX_EPOCH + Duration::from_secs(1_795_617_181), 0x1a2b3c4d), "20261125-143301-1a2b3c4d");
    }

    #[test]
    fn a_run_folder_starts_with_a_header_and_writes_whole_rows() {
        let dir = std::env::temp_dir().join(format!("sockdiff-report-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut run = RunDir::create(&dir, "r1").unwrap();
        let text = fs::read_to_string(run.path.join("mismatches.csv")).unwrap();
        assert_eq!(text, format!("{}\n", HEADER.join(",")));
        let row = MismatchRow {
            run_id: "r1".into(),
            found_at: "2026-11-25T14:33:01Z".into(),
            host_os: "Linux".into(),
            os_release: "6.18".into(),
            model: "linux@6.18".into(),
            seed: "42".into(),
            case_id: "case-1".into(),
            step: 2,
            statement: "bind a 0.0.0.0:P1".into(),
            expected: "{EACCES,ok}".into(),
            actual: "EADDRINUSE".into(),
            rule: "linux.tcp.bind-conflict".into(),
            reproduced: "3/3".into(),
            original_len: 2,
            minimized_len: 2,
            case: "a = socket tcp4 ; bind a 0.0.0.0:P1".into(),
        };
        let case = crate::case::parse("x", "a = socket tcp4\nbind a 0.0.0.0:P1\n").unwrap();
        run.add_mismatch(&row, &case, "seed 42").unwrap();
        assert_eq!(read_mismatches(&run.path).unwrap(), vec![row.clone()]);
        let file = fs::read_to_string(run.path.join("cases/case-1.case")).unwrap();
        assert_eq!(crate::case::parse("f", &file).unwrap().steps.len(), 2);
        // An existing run folder is never overwritten: the same id again
        // gets the next suffix.
        let again = RunDir::create(&dir, "r1").unwrap();
        assert_eq!((again.run_id.as_str(), again.path.file_name().unwrap().to_str().unwrap()), ("r1-2", "r1-2"));
        assert_eq!(read_mismatches(&run.path).unwrap(), vec![row]);
        // Windows removes no folder with an open file in it.
        drop((run, again));
        fs::remove_dir_all(&dir).unwrap();
    }
}
