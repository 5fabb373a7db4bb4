//! The campaign engine used as a library, without the command line: a live
//! session, a fuzz campaign and a matrix campaign, and what they leave.

use crate::util::*;
use sockdiff::campaign::matrix::{Matrix, cells};
use sockdiff::campaign::{Campaign, Generated, Shard, run_campaign};
use sockdiff::generate::GenConfig;
use sockdiff::session::{ModelChoice, Session};

#[test]
fn a_campaign_runs_through_the_library_alone() {
    if !live_allowed("campaign") {
        return;
    }
    #[cfg(unix)]
    if unsafe { libc::geteuid() } != 0 {
        // A user namespace needs a process with one thread; cargo test has many.
        eprintln!(
            "campaign: skipped (not root: the live session needs a user namespace, which a threaded test cannot enter)"
        );
        return;
    }
    let session = Session::open(false, &ModelChoice::Host).expect("a live session");
    let d = tmp("campaign");
    let source = Generated { seed: 11, cfg: GenConfig::default() };
    let fuzz = Campaign {
        label: "fuzz",
        source: &source,
        seed: 11,
        duration: None,
        cases: Some(600),
        out: d.clone(),
        jobs: Some(2),
        reruns: 3,
        junit: None,
        markdown: None,
        save_corpus: None,
        shard: Shard::WHOLE,
        session: &session,
    };
    let done = run_campaign(&fuzz).expect("the campaign runs");
    assert_eq!(done.code, 0, "{:?}", done.summary.signatures);
    assert_eq!(done.summary.counts.cases, 600);
    assert_eq!(done.summary.status, "cases");
    assert_eq!(done.summary.fingerprint.model, session.model.spec().to_string());
    assert!(done.dir.join("mismatches.csv").is_file() && done.dir.join("summary.json").is_file());
    // The matrix is another source for the same engine; it hands back the
    // records of the statements each cell shows.
    let all = cells(session.model.spec().platform);
    let matrix = Matrix { cells: all.into_iter().step_by(97).collect() };
    let n = matrix.cells.len() as u64;
    let m = Campaign { label: "matrix", source: &matrix, seed: 0, cases: None, ..fuzz };
    let done = run_campaign(&m).expect("the matrix runs");
    assert_eq!(done.code, 0);
    assert_eq!(done.summary.counts.cases, n);
    assert_eq!(done.records.len() as u64, n);
    assert!(done.records.iter().all(|r| r.steps.iter().all(|s| s.agrees())));
    remove(&d);
}
