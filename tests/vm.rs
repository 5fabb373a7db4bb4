//! `sockdiff vm`: one real boot of Debian's 6.1 kernel under qemu (TCG).
//! It needs apt-get (to fetch the kernel and qemu into target/vm/ the first
//! time) and skips, saying why, where there is none; SOCKDIFF_SKIP_LIVE=1
//! skips it too. The static build it boots is made by the command itself.

use crate::util::*;

/// A matrix slice runs in the guest: its run folder comes back into the
/// checkout, made on the guest's kernel, and the exit status is the one
/// its mismatch count calls for.
#[test]
fn a_guest_run_comes_back_into_the_checkout() {
    if !live_allowed("vm") {
        return;
    }
    if std::process::Command::new("apt-get").arg("--version").output().is_err() {
        eprintln!("vm: skipped (no apt-get here to fetch Debian's kernel and qemu)");
        return;
    }
    let out = format!("target/vm-test-{}", std::process::id());
    let o = run(&[
        "vm",
        "--kernel",
        "debian-6.1",
        "--accel",
        "tcg",
        "--timeout",
        "200s",
        "--",
        "matrix",
        "--every",
        "3000",
        "--out",
        &out,
    ]);
    let err = stderr(&o);
    let dir = root().join(&out);
    let runs: Vec<_> = std::fs::read_dir(&dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    let [run_dir] = runs.as_slice() else { panic!("want one run folder in {out}, got {runs:?}\n{err}") };
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap()).unwrap();
    let release = summary["fingerprint"]["release"].as_str().unwrap();
    assert!(release.starts_with("6.1.0-") && release.ends_with("-cloud-amd64"), "{release}");
    assert_eq!(summary["fingerprint"]["model"], "linux@6.1");
    assert!(run_dir.join("matrix.txt").is_file() && run_dir.join("mismatches.csv").is_file());
    let mismatches = summary["counts"]["mismatches"].as_u64().unwrap();
    assert_eq!(o.status.code(), Some(if mismatches > 0 { 1 } else { 0 }), "{err}");
    assert!(err.contains("under TCG: booted in "), "{err}");
    remove(&dir);
}
