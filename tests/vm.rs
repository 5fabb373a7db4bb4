//! `sockdiff vm`: one real boot of Debian's 6.1 kernel under qemu (TCG).
//! It needs apt-get (to fetch the kernel and qemu into target/vm/ the first
//! time) and skips, saying why, where there is none; SOCKDIFF_SKIP_LIVE=1
//! skips it too. The static build it boots is made by the command itself.

use crate::util::*;

/// A matrix slice runs in the guest: its run folder comes back into the
/// checkout, made on the guest's kernel, with no mismatch against the
/// model of the guest's version and variants.
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
    // The version from the guest's kernel, the variants from its
    // calibration (Debian's 6.1.1xx carry the mapped-any-missed backport).
    let model = summary["fingerprint"]["model"].as_str().unwrap();
    assert!(model == "linux@6.1" || model.starts_with("linux@6.1+"), "{model}");
    assert!(run_dir.join("matrix.txt").is_file() && run_dir.join("mismatches.csv").is_file());
    // The model of the guest's own version and variants has no mismatch there.
    assert_eq!(summary["counts"]["mismatches"].as_u64(), Some(0), "{err}");
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("under TCG: booted in "), "{err}");
    remove(&dir);
}
