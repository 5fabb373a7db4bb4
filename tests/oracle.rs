//! The oracle that cargo-mutants runs over the Linux model's rule code
//! (README, "Mutation checks"): the whole matrix and a short fuzz, run for
//! real, must agree with the model, and the matrix must show no over-wide
//! set. A source mutant of a rule that either
//! of them notices fails this test. It takes a minute or more, so it runs
//! only with SOCKDIFF_ORACLE=1 (the live matrix test covers every 7th cell
//! in a plain `cargo test`).

use crate::util::*;

#[cfg(target_os = "linux")]
#[test]
fn the_whole_matrix_and_a_short_fuzz_agree_with_this_kernel() {
    if std::env::var_os("SOCKDIFF_ORACLE").is_none() {
        eprintln!("skipped: set SOCKDIFF_ORACLE=1 to run the matrix and fuzz oracle");
        return;
    }
    if !live_allowed("oracle") {
        return;
    }
    let d = tmp("oracle");
    let o = run(&["matrix", "-q", "--reruns", "1", "--out", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "matrix: {}", stderr(&o));
    // No set wider than what the OS did: the unmutated model has none here.
    let dir = stdout(&o).trim().to_string();
    let summary = std::fs::read_to_string(std::path::Path::new(&dir).join("summary.json")).unwrap();
    assert!(!summary.contains("\"over_wide\""), "over-wide sets in the matrix: {summary}");
    let secs = std::env::var("SOCKDIFF_ORACLE_FUZZ").unwrap_or_else(|_| "5s".into());
    let o = run(&["fuzz", "-q", "--duration", &secs, "--seed", "12", "--reruns", "1", "--out", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "fuzz: {}", stderr(&o));
    remove(&d);
}
