//! Live tests: real sockets, each run in a private network namespace made by
//! the tool itself. They need root (as CI has) or unprivileged user
//! namespaces; set SOCKDIFF_SKIP_LIVE=1 to skip them knowingly.

use crate::util::*;

/// The host's corpus: every statement's real outcome is the one recorded,
/// and the model agrees with it.
#[cfg(target_os = "linux")]
#[test]
fn the_linux_corpus_agrees_with_this_kernel() {
    if !live_allowed("corpus") {
        return;
    }
    let o = run(&["corpus", "check", "corpus/linux"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    let last = out.lines().last().unwrap();
    // Unrecorded statements (a build or version with no records yet) are
    // compared with the model alone, so they pass when it agrees.
    assert!(last.contains(": 0 changed statement(s) in 0 case(s), 0 consequence(s), "), "{last}");
    assert!(last.ends_with(", 0 skipped"), "{last}");
    let o = run(&["replay", "corpus/linux"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

/// The Windows corpus against this Windows host (under Wine: the `wine`
/// model, calibrated, and its records); `as other` cases are skipped.
#[cfg(windows)]
#[test]
fn the_windows_corpus_agrees_with_this_host() {
    if !live_allowed("corpus") {
        return;
    }
    let o = run(&["replay", "corpus/windows"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    assert!(out.contains(" agree, 0 mismatch, 1 skipped"), "{}", out.lines().last().unwrap_or(""));
    let o = run(&["corpus", "check", "corpus/windows"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    assert!(out.contains(": 0 changed statement(s) in 0 case(s), 0 consequence(s), "), "{out}");
    assert!(out.trim_end().ends_with(", 1 skipped"), "{out}");
    assert!(out.contains("skipped ") && out.contains("second Windows account"), "{out}");
}

/// An edited record is reported (table and CSV) and makes the check exit 1.
#[cfg(target_os = "linux")]
#[test]
fn corpus_check_reports_an_edited_outcome() {
    if !live_allowed("corpus-edit") {
        return;
    }
    let d = tmp("corpus-edit");
    let text = std::fs::read_to_string(root().join("corpus/linux/listen/listen-rechecks.case")).unwrap();
    // Every build's record of the first EADDRINUSE statement (line 13)
    // says ok instead, so the host's own record is edited whatever its build.
    let edited: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| if i == 12 { l.replace(":EADDRINUSE", ":ok") } else { l.to_string() } + "\n")
        .collect();
    assert_ne!(text, edited);
    write(&d, "edited.case", &edited);
    let csv_path = d.join("check.csv");
    let o = run(&["corpus", "check", d.to_str().unwrap(), "--csv", csv_path.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("edited.case:13") && out.contains("real-changed"), "{out}");
    let mut r = csv::Reader::from_path(&csv_path).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!((&rows[0][6], &rows[0][7], &rows[0][10]), ("ok", "EADDRINUSE", "real-changed"));
    std::fs::remove_dir_all(&d).unwrap();
}

/// The same seed and model version generate the same case files.
#[test]
fn the_same_seed_generates_the_same_case_files() {
    let d = tmp("generate");
    let (a, b) = (d.join("a"), d.join("b"));
    for out in [&a, &b] {
        let o = run(&["generate", "--seed", "42", "--cases", "200", "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
    let mut names: Vec<_> = std::fs::read_dir(&a).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names.len(), 200);
    for n in &names {
        assert_eq!(std::fs::read(a.join(n)).unwrap(), std::fs::read(b.join(n)).unwrap(), "{n:?}");
    }
    // One case again from its own seed (the CSV's seed column).
    let first = std::fs::read_to_string(a.join("case-000000.case")).unwrap();
    let seed = first.lines().next().unwrap().rsplit(' ').next().unwrap().to_string();
    let o = run(&["generate", "--case-seed", &seed]);
    assert_eq!(stdout(&o).trim_end(), first.trim_end());
    std::fs::remove_dir_all(&d).unwrap();
}

/// Two fuzz runs with one seed find the same mismatches, minimize them to
/// the same case files and list them in the same order, whatever the timing
/// of the workers. (The FreeBSD model against this kernel gives dozens.)
#[cfg(target_os = "linux")]
#[test]
fn the_same_seed_finds_the_same_mismatches() {
    if !live_allowed("fuzz-seed") {
        return;
    }
    let d = tmp("fuzz-seed");
    let mut found = Vec::new();
    for r in ["a", "b"] {
        let out = d.join(r);
        let o = run(&[
            "fuzz",
            "--platform",
            "freebsd",
            "--seed",
            "77",
            "--cases",
            "150",
            "--jobs",
            "2",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let run_dir = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path();
        let mut cases: Vec<(std::ffi::OsString, Vec<u8>)> = std::fs::read_dir(run_dir.join("cases"))
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| (e.file_name(), std::fs::read(e.path()).unwrap()))
            .collect();
        cases.sort();
        let mut csv = csv::Reader::from_path(run_dir.join("mismatches.csv")).unwrap();
        // Everything but run_id and found_at.
        let rows: Vec<Vec<String>> =
            csv.records().map(|r| r.unwrap().iter().skip(2).map(str::to_string).collect()).collect();
        assert!(cases.len() >= 10 && cases.len() == rows.len(), "{} cases, {} rows", cases.len(), rows.len());
        found.push((cases, rows));
    }
    assert!(found[0] == found[1], "the two runs differ");
    std::fs::remove_dir_all(&d).unwrap();
}

#[cfg(target_os = "linux")]
#[test]
fn replay_against_an_older_kernel_model_finds_the_planted_mismatch() {
    if !live_allowed("planted") {
        return;
    }
    let o = run(&["replay", "--platform", "linux@6.7", "corpus/linux/reuse/reuseaddr-memo-dead.case"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("MISMATCH at statement 7 (line 10)"), "{}", stdout(&o));
}

/// The planted mismatch, padded to 50 statements, shrinks to its known
/// minimal form, which fails again in every re-run.
#[cfg(target_os = "linux")]
#[test]
fn minimize_shrinks_a_padded_case_to_its_minimal_form() {
    if !live_allowed("minimize") {
        return;
    }
    let d = tmp("minimize");
    let mut text = String::from("a = socket tcp4\nb = socket tcp4\n");
    for i in 0..12 {
        text.push_str(&format!("p{i} = socket udp6\nset p{i} reuseaddr on\nbind p{i} [::1]:P3\n"));
    }
    text.push_str("set a reuseaddr on\nbind a 127.0.0.1:P1\nq = socket tcp6\nlisten q\nset a reuseaddr off\n");
    text.push_str("set b reuseaddr on\nset b linger0 on\nbind b 127.0.0.1:P1\nclose q\n");
    for i in 0..3 {
        text.push_str(&format!("close p{i}\n"));
    }
    let f = write(&d, "padded.case", &text);
    assert_eq!(text.lines().count(), 50);
    let out = d.join("min.case");
    let t0 = std::time::Instant::now();
    let o = run(&["minimize", "--platform", "linux@6.7", f.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let took = t0.elapsed();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let got = std::fs::read_to_string(&out).unwrap();
    let body: Vec<&str> = got.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        body,
        [
            "a = socket tcp4",
            "b = socket tcp4",
            "set a reuseaddr on",
            "bind a 0.0.0.0:P1",
            "set a reuseaddr off",
            "set b reuseaddr on",
            "bind b 0.0.0.0:P1",
        ]
    );
    assert!(got.contains("reproduced 5/5"), "{got}");
    eprintln!("minimize: 50 -> 7 statements in {took:?}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_short_fuzz_run_writes_a_valid_run_folder() {
    if !live_allowed("fuzz") {
        return;
    }
    let d = tmp("fuzz");
    let o = run(&["fuzz", "--cases", "3000", "--seed", "7", "--jobs", "2", "--out", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let runs: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(runs.len(), 1);
    let run_dir = &runs[0];
    let csv = std::fs::read_to_string(run_dir.join("mismatches.csv")).unwrap();
    assert_eq!(
        csv,
        "run_id,found_at,host_os,os_release,model,seed,case_id,step,statement,expected,actual,rule,reproduced,original_len,minimized_len,case\n"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["counts"]["cases"], 3000);
    assert_eq!(summary["counts"]["mismatches"], 0);
    assert_eq!(summary["status"], "cases");
    assert_eq!(summary["seed"], "7");
    // The host's model: linux here, wine under Wine, windows on Windows.
    let model = summary["fingerprint"]["model"].as_str().unwrap().to_string();
    let (family, busy_rule) = if cfg!(windows) {
        (model.split('@').next().unwrap(), "windows.any.bind-free")
    } else {
        ("linux", "linux.tcp.bind-conflict")
    };
    assert!(model.starts_with(&format!("{family}@")) && ["linux", "windows", "wine"].contains(&family), "{model}");
    assert!(summary["rules"][busy_rule].as_u64().unwrap() > 0);
    if family == "wine" {
        assert!(summary["fingerprint"]["os"].as_str().unwrap().starts_with("Windows (Wine "), "{summary}");
    }
    // Calibration ran each probe of the platform and took one side of it;
    // the model names exactly the variants whose probe took the variant's.
    let cal = summary["fingerprint"]["calibration"].as_array().unwrap();
    if family == "linux" {
        assert!(cal.iter().any(|p| p["variant"] == "role-lock"), "{cal:?}");
    }
    let mut on: Vec<String> = Vec::new();
    for p in cal {
        assert!(p["side"] == "upstream" || p["side"] == "variant", "{p}");
        if p["side"] == "variant" {
            on.push(p["variant"].as_str().unwrap().to_string());
        }
    }
    let named: Vec<String> = model.split('+').skip(1).map(String::from).collect();
    assert_eq!(named, on, "{model}");
    assert_eq!(summary["fingerprint"]["variants"], serde_json::json!(on));
    assert!(summary["throughput"]["cases_per_s"].as_f64().unwrap() > 0.0);
    std::fs::remove_dir_all(&d).unwrap();
}

#[cfg(target_os = "linux")]
fn signal(child: &std::process::Child, sig: i32) {
    unsafe { libc::kill(child.id() as i32, sig) };
}

/// The matrix (every 7th cell here; all of them take a few seconds in a
/// release build) agrees with this kernel and writes its table.
#[test]
fn the_matrix_agrees_with_this_kernel() {
    if !live_allowed("matrix") {
        return;
    }
    let d = tmp("matrix");
    let o = run(&["matrix", "--every", "7", "--out", d.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains(" 0 mismatch(es), "), "{err}");
    // Only `as other` cells may be skipped (where there is no second user).
    if cfg!(target_os = "linux") && crate::util::is_root() {
        assert!(err.contains(" 0 mismatch(es), 0 skipped"), "{err}");
    }
    let run_dir = std::fs::read_dir(&d).unwrap().next().unwrap().unwrap().path();
    let table = std::fs::read_to_string(run_dir.join("matrix.txt")).unwrap();
    assert!(table.lines().count() > 2000, "{}", table.lines().count());
    assert!(!table.contains("MISMATCH"));
    let csv = std::fs::read_to_string(run_dir.join("matrix.csv")).unwrap();
    assert!(csv.starts_with("cell,description,step,statement,expected,actual,rule,agrees\n"));
    std::fs::remove_dir_all(&d).unwrap();
}

/// Ctrl-C stops after the current case and leaves summary.json.
#[cfg(target_os = "linux")]
#[test]
fn sigint_stops_a_run_and_writes_the_summary() {
    if !live_allowed("sigint") {
        return;
    }
    let d = tmp("sigint");
    let mut child = bin()
        .args(["fuzz", "--duration", "60s", "--out", d.to_str().unwrap()])
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    signal(&child, libc::SIGINT);
    let t0 = std::time::Instant::now();
    let status = child.wait().unwrap();
    assert!(t0.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
    let run_dir = std::fs::read_dir(&d).unwrap().next().unwrap().unwrap().path();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["status"], "interrupted");
    assert!(summary["counts"]["cases"].as_u64().unwrap() > 0);
    std::fs::remove_dir_all(&d).unwrap();
}

/// Ctrl-C during `selftest mutants` prints the mutants finished so far,
/// never the one under way as a survivor, says it was interrupted, and
/// exits 2 (the check did not run to the end).
#[cfg(target_os = "linux")]
#[test]
fn sigint_stops_selftest_mutants_without_a_false_survivor() {
    if !live_allowed("selftest-sigint") {
        return;
    }
    // The one mutant needs many 2 s connects in its fuzz time: Ctrl-C
    // comes in the baseline or while it runs.
    let child = bin()
        .args(["selftest", "mutants", "--rule", "linux.tcp.mapped-ops-stale", "--kind", "wider-error"])
        .args(["--mutant-time", "60s"])
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(5));
    signal(&child, libc::SIGINT);
    let t0 = std::time::Instant::now();
    let o = child.wait_with_output().unwrap();
    assert!(t0.elapsed() < std::time::Duration::from_secs(15));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(!out.contains("not killed  "), "{out}");
    assert!(out.contains("interrupted: 0 of ") || out.contains("interrupted: in the baseline"), "{out}");
    assert_eq!(out.lines().last(), Some("mutation score 0/0"), "{out}");
}

/// kill -9 at any moment leaves a CSV that a CSV reader parses whole.
#[cfg(target_os = "linux")]
#[test]
fn sigkill_leaves_a_whole_csv() {
    if !live_allowed("sigkill") {
        return;
    }
    let d = tmp("sigkill");
    // An older model finds mismatches quickly, so rows are being written.
    let mut child = bin()
        .args(["fuzz", "--duration", "60s", "--platform", "linux@6.7", "--out", d.to_str().unwrap()])
        .current_dir(root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    signal(&child, libc::SIGKILL);
    child.wait().unwrap();
    let run_dir = std::fs::read_dir(&d).unwrap().next().unwrap().unwrap().path();
    let mut r = csv::Reader::from_path(run_dir.join("mismatches.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().collect::<Result<_, _>>().unwrap();
    for row in &rows {
        assert_eq!(row.len(), 16);
        assert!(run_dir.join("cases").join(format!("{}.case", &row[6])).exists());
    }
    std::fs::remove_dir_all(&d).unwrap();
}

/// A normal user gets a private namespace through a user namespace; `as
/// other` needs root and is skipped (and counted).
#[cfg(target_os = "linux")]
#[test]
fn a_normal_user_runs_cases_in_a_user_namespace() {
    if !live_allowed("user") || unsafe { libc::geteuid() } != 0 || !std::path::Path::new("/usr/bin/setpriv").exists() {
        eprintln!("needs root (to become uid 65534) and setpriv: skipped");
        return;
    }
    let d = tmp("user");
    std::fs::copy(root().join("corpus/linux/bind/wildcard-specific.case"), d.join("a.case")).unwrap();
    std::fs::copy(root().join("corpus/linux/reuse/reuseport-other-user.case"), d.join("b.case")).unwrap();
    let o = std::process::Command::new("/usr/bin/setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_sockdiff"), "replay"])
        .arg(d.join("a.case"))
        .arg(d.join("b.case"))
        .output()
        .unwrap();
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    assert!(out.contains("2 cases: 1 agree, 0 mismatch, 1 skipped"), "{out}");
    assert!(out.contains("skipped: 'as other' needs root"), "{out}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// Two shards of one seed, merged, find what the unsharded run finds: the
/// same cases in all, the same distinct findings with the same minimized
/// cases, each found by the same case of the sequence.
#[cfg(target_os = "linux")]
#[test]
fn two_shards_merged_equal_the_unsharded_run() {
    if !live_allowed("shards") {
        return;
    }
    let d = tmp("shards");
    let fuzz = |out: &str, shard: Option<&str>| {
        let out = d.join(out);
        let mut args = vec!["fuzz", "--platform", "freebsd", "--seed", "77", "--cases", "150", "--jobs", "2", "--out"];
        let o_path = out.to_str().unwrap().to_string();
        args.push(&o_path);
        if let Some(s) = shard {
            args.extend(["--shard", s]);
        }
        let o = run(&args);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path()
    };
    let whole = fuzz("whole", None);
    let one = fuzz("one", Some("1/2"));
    let two = fuzz("two", Some("2/2"));
    let merged = d.join("merged");
    let o = run(&["report", "merge", one.to_str().unwrap(), two.to_str().unwrap(), "--out", merged.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // (sequence index, statement, expected, actual, minimized case) of every finding.
    let findings = |dir: &std::path::Path| -> Vec<(String, String, String, String, String)> {
        let mut r = csv::Reader::from_path(dir.join("mismatches.csv")).unwrap();
        let mut v: Vec<_> = r
            .records()
            .map(|x| x.unwrap())
            .map(|x| {
                (x[6][5..11].to_string(), x[8].to_string(), x[9].to_string(), x[10].to_string(), x[15].to_string())
            })
            .collect();
        v.sort();
        v
    };
    let (w, m) = (findings(&whole), findings(&merged));
    assert!(w.len() >= 10, "{w:?}");
    assert_eq!(w, m);
    let summary = |dir: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
    };
    let (sw, sm) = (summary(&whole), summary(&merged));
    assert_eq!(sw["counts"]["cases"], 150);
    assert_eq!(sm["counts"]["cases"], 150);
    assert_eq!(sm["counts"]["mismatches"], sw["counts"]["mismatches"]);
    assert_eq!(sm["merged_from"].as_array().unwrap().len(), 2);
    assert_eq!(summary(&one)["shard"], "1/2");
    // The merged folder is a run folder for report diff: nothing new.
    let o = run(&["report", "diff", whole.to_str().unwrap(), merged.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    std::fs::remove_dir_all(&d).unwrap();
}

/// `bench` prints one JSON object with SPEC §4's keys and both passes.
#[cfg(target_os = "linux")]
#[test]
fn bench_prints_its_floor_and_pipeline_for_one_and_two_workers() {
    if !live_allowed("bench") {
        return;
    }
    let o = run(&["bench", "--duration", "1s", "--jobs", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    for k in ["floor_cases_per_s", "sockdiff_cases_per_s", "ratio", "max_rss_mib"] {
        assert!(v[k].as_f64().unwrap() > 0.0, "{k}: {v}");
    }
    assert_eq!(v["jobs"], 2);
    let passes = v["passes"].as_array().unwrap();
    assert_eq!(passes.iter().map(|p| p["jobs"].as_u64().unwrap()).collect::<Vec<_>>(), [1, 2]);
    for p in passes {
        assert!(p["floor_syscalls_per_s"].as_f64().unwrap() > 0.0 && p["sockdiff_cases"].as_u64().unwrap() > 0, "{p}");
    }
}

/// A case run for real here against another OS's model says so, in one
/// line on stderr.
#[cfg(target_os = "linux")]
#[test]
fn replay_against_a_foreign_model_says_so() {
    if !live_allowed("foreign") {
        return;
    }
    let o = run(&["replay", "--platform", "windows", "corpus/windows/seed/both-options.case"]);
    let err = stderr(&o);
    let notes: Vec<&str> = err.lines().filter(|l| l.contains("diffed against the windows model")).collect();
    assert_eq!(notes.len(), 1, "{err}");
    assert!(notes[0].starts_with("note: the cases run for real on this linux host"), "{err}");
}

/// Outside a checkout the corpus built into the binary is checked (and
/// says so); `corpus record` then needs a folder. JSON rows of `replay`
/// and `corpus check` carry the same fields as `predict`'s plus the real
/// outcome.
#[cfg(target_os = "linux")]
#[test]
fn the_built_in_corpus_is_checked_outside_the_checkout() {
    if !live_allowed("built-in corpus") {
        return;
    }
    let d = tmp("built-in-corpus");
    let o = output(bin().args(["corpus", "check", "--format", "json"]).current_dir(&d));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("checking the corpus built into this binary"), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert!(rows.len() > 4000, "{}", rows.len());
    assert!(rows.iter().all(|r| r["file"].as_str().unwrap().starts_with("corpus/linux/") && r["real"].is_array()));
    let o = output(bin().args(["corpus", "record"]).current_dir(&d));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("corpus record writes into a corpus folder"), "{}", stderr(&o));
    let o = run(&["replay", "--format", "json", "corpus/linux/listen/listen-rechecks.case"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 10);
    assert_eq!(v["rows"][7]["real"], serde_json::json!(["EADDRINUSE"]));
    assert_eq!(v["rows"][7]["agrees"], true);
    remove(&d);
}

/// `selftest mutants` for these rules and kinds: its stdout, once it
/// exited 0 (every mutant killed).
#[cfg(target_os = "linux")]
fn selftest_mutants(rules: &str, kinds: &str, more: &[&str]) -> String {
    let mut args = vec!["selftest", "mutants", "--rule", rules, "--kind", kinds];
    args.extend_from_slice(more);
    let o = run(&args);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", stderr(&o));
    out
}

/// `selftest mutants` for one rule: every mutant of linux.tcp.listen-conflict
/// (an error for its ok, ok or another errno for its EADDRINUSE) is killed
/// by the matrix, its wider sets by the over-wide check, and the last line
/// is the score; a rule this kernel's model does not have (before 6.8
/// only) is listed apart with its reason, not counted.
#[cfg(target_os = "linux")]
#[test]
fn selftest_mutants_kills_the_mutants_of_one_rule_and_prints_the_score() {
    if !live_allowed("selftest") {
        return;
    }
    let out = selftest_mutants(
        "linux.tcp.listen-conflict,linux.tcp.fastreuse-stale",
        "error-for-ok,ok-for-error,other-errno,wider-ok",
        &["--mutant-time", "5s", "--every", "2"],
    );
    for kind in ["error-for-ok", "ok-for-error", "other-errno"] {
        let row = out.lines().find(|l| l.starts_with("linux.tcp.listen-conflict") && l.contains(kind));
        let row = row.unwrap_or_else(|| panic!("no {kind} row:\n{out}"));
        assert!(row.contains(" matrix "), "{row}");
        assert!(row.contains("model ") && row.contains(" real "), "{row}");
    }
    let wide = out.lines().find(|l| l.contains("wider-ok")).unwrap_or_else(|| panic!("{out}"));
    assert!(wide.contains("over-wide: EADDRINUSE never seen in 20"), "{wide}");
    if out.contains("not reached on this host") {
        let gated = out.lines().find(|l| l.trim_start().starts_with("linux.tcp.fastreuse-stale")).unwrap();
        assert!(gated.contains("version-gated: before 6.8"), "{gated}");
    }
    let last = out.lines().last().unwrap();
    let (k, n) = last.strip_prefix("mutation score ").and_then(|s| s.split_once('/')).expect(last);
    assert_eq!(k, n, "{out}");
    assert_eq!(n, "4", "{out}");
}

/// The wider sets of two rules the matrix rarely reaches die by the
/// over-wide check in the fuzz time: listen-conflict's `ok` (its race sets
/// elsewhere hold `ok` too, counted apart: one state alone allows this
/// one) and mapped-ops-stale's `ok` for a connect that waits 2 s (one cell;
/// the waits run side by side).
#[cfg(target_os = "linux")]
#[test]
fn selftest_mutants_kills_wider_sets_of_rare_rules() {
    if !live_allowed("selftest") {
        return;
    }
    let out = selftest_mutants(
        "linux.tcp.listen-conflict,linux.tcp.mapped-ops-stale",
        "wider-error",
        &["--mutant-time", "60s"],
    );
    for rule in ["linux.tcp.listen-conflict", "linux.tcp.mapped-ops-stale"] {
        let row = out.lines().find(|l| l.starts_with(rule)).unwrap_or_else(|| panic!("no {rule} row:\n{out}"));
        // (200 chances or a few more: the workers count side by side.)
        assert!(row.contains("over-wide: ok never seen in 20"), "{row}");
    }
    assert_eq!(out.lines().last(), Some("mutation score 2/2"), "{out}");
}
