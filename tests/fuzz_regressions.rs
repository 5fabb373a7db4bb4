//! The cargo-fuzz targets' checks (`fuzz/src/checks.rs`, compiled in here
//! by path) on every input kept in `fuzz/regressions/<target>/`: what the
//! fuzzers found stays fixed, and `cargo test` runs it without libFuzzer.

#[path = "../fuzz/src/checks.rs"]
mod checks;

use crate::util::root;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = root().join("fuzz/regressions").join(target);
    let mut n = 0;
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    for f in files.iter().filter(|f| f.extension().is_none_or(|x| x != "md")) {
        let data = std::fs::read(f).unwrap();
        let r = std::panic::catch_unwind(|| check(&data));
        assert!(r.is_ok(), "fuzz target {target} fails on {}", f.display());
        n += 1;
    }
    assert!(n > 0, "no inputs in {}", dir.display());
}

#[test]
fn fuzz_regressions_of_parse_stay_fixed() {
    replay("parse", checks::parse);
}

#[test]
fn fuzz_regressions_of_predict_stay_fixed() {
    replay("predict", checks::predict);
}

#[test]
fn fuzz_regressions_of_differ_stay_fixed() {
    replay("differ", checks::differ);
}

/// The differ's stand-in executor does answer differently from the model
/// it is diffed against, so the target's mismatch, minimize and report
/// paths really run (a check that could not fail would prove nothing).
#[test]
fn the_differ_target_reaches_mismatches() {
    use sockdiff::platform::{ModelSpec, Platform};
    let text = "a = socket tcp4\nb = socket tcp4\nset a exclusiveaddruse on\nbind a 127.0.0.1:P1\nset b reuseaddr on\nbind b 127.0.0.1:P1\n";
    let prog = sockdiff::case::compile(&sockdiff::case::parse("t", text).unwrap()).unwrap();
    let plain = sockdiff::model::HostSettings::default();
    let linux = sockdiff::model::for_spec(&ModelSpec::new(Platform::Linux), &plain);
    let windows = sockdiff::model::for_spec(&ModelSpec::new(Platform::Windows), &plain);
    let mut ex = checks::ModelExec::new(windows, 0);
    let can = sockdiff::run::Abilities { other_user: Ok(()), probe: true };
    let r = sockdiff::run::run_case(&*linux, &mut ex, &prog, &can).unwrap();
    assert!(matches!(r.verdict, sockdiff::run::Verdict::Mismatch { .. }), "{:?}", r.verdict);
    // Linux is 0, Windows 3 in the targets' byte.
    let mut data = vec![0u8, 3, 0];
    data.extend_from_slice(text.as_bytes());
    checks::differ(&data);
}
