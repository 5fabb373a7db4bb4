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
    // Every cell agrees, but one whose disagreement did not come back in
    // its re-runs (counted as flaky, never reported: a probe on a loaded
    // machine can miss its answer once).
    let disagreeing = done.records.iter().filter(|r| !r.steps.iter().all(|s| s.agrees())).count() as u64;
    assert_eq!(done.summary.counts.mismatches, 0);
    assert!(disagreeing <= done.summary.counts.flaky, "{disagreeing} > {:?}", done.summary.flaky_signatures);
    remove(&d);
}

/// The bench's floor makes the calls the pipeline made: a known case's
/// trace, and its replay on fresh ports.
#[test]
fn the_executor_records_the_calls_it_makes_and_replays_them() {
    use sockdiff::exec::trace::{Call, PortSrc};
    if !live_allowed("trace") {
        return;
    }
    #[cfg(unix)]
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("trace: skipped (not root)");
        return;
    }
    let session = Session::open(false, &ModelChoice::Host).expect("a live session");
    let text = "a = socket tcp4\nbind a 127.0.0.1:0\nlisten a\nb = socket tcp4\nconnect b 127.0.0.1:@a\nc = accept a\n";
    let prog = sockdiff::case::compile(&sockdiff::case::parse("t", text).unwrap()).unwrap();
    let (calls, replayed) = std::thread::scope(|s| {
        s.spawn(|| {
            let mut ex = sockdiff::exec::new_executor(&session.prep, 0, 1).unwrap();
            ex.record(true);
            let can = session.abilities(ex.as_ref());
            let r = sockdiff::run::run_case(session.model.as_ref(), ex.as_mut(), &prog, &can).unwrap();
            assert_eq!(r.verdict, sockdiff::run::Verdict::Agree);
            let t = ex.take_trace().unwrap();
            let n = ex.replay(&t).unwrap();
            (t, n)
        })
        .join()
        .unwrap()
    });
    let c = &calls.calls;
    assert!(matches!(c[0], Call::Socket { h: 0, other: false, .. }), "{c:?}");
    assert!(c.contains(&Call::Bind { h: 0, addr: sockdiff::case::Addr::Lo4, port: PortSrc::Zero }), "{c:?}");
    assert!(c.contains(&Call::Listen { h: 0 }));
    // The connect's port is the ephemeral one a getsockname of `a` gave.
    assert!(c.iter().any(|x| matches!(x, Call::Connect { h: 1, port: PortSrc::Name(0), .. })), "{c:?}");
    assert!(c.iter().any(|x| matches!(x, Call::Accept { h: 0, new: Some(2) })), "{c:?}");
    // Every socket is closed by the end of the case, and the replay made them all.
    for h in 0..3u16 {
        assert!(c.contains(&Call::Close { h }), "{h}: {c:?}");
    }
    assert_eq!(replayed, calls.syscalls());
}
