//! The command line: help, model-only output (golden files), and bad input
//! (one-line errors naming the place, exit 2). No live runs here.

use crate::util::*;

#[test]
fn every_command_has_help() {
    for args in
        [&["--help"][..], &["predict", "--help"], &["replay", "--help"], &["fuzz", "--help"], &["minimize", "--help"]]
    {
        let o = run(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).contains("Usage: sockdiff"), "{args:?}");
    }
}

/// The host model on a Linux case: only meaningful where the host is Linux.
#[cfg(target_os = "linux")]
#[test]
fn predict_prints_outcomes_and_rules() {
    let o = run(&["predict", "corpus/linux/reuse/reuseaddr-needs-both.case"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    golden("predict-reuseaddr.txt", &stdout(&o).replace(&host_model(), "linux@HOST"));
}

#[test]
fn predict_csv_has_the_spec_header_and_a_file_column_for_several_files() {
    let o = run(&["predict", "--platform", "linux", "--format", "csv", "corpus/linux/listen/listen-rechecks.case"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    golden("predict-listen.csv", &stdout(&o));
    let o = run(&[
        "predict",
        "--platform",
        "linux",
        "--format",
        "csv",
        "corpus/linux/listen/listen-rechecks.case",
        "corpus/linux/bind/family-mismatch.case",
    ]);
    let text = stdout(&o);
    assert!(text.starts_with("file,step,statement,outcome,rule\n"), "{text}");
    let mut r = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(r.records().count(), 10 + 4);
}

#[test]
fn an_older_kernel_model_answers_differently() {
    let o =
        run(&["predict", "--platform", "linux@6.7", "--format", "csv", "corpus/linux/reuse/reuseaddr-memo-dead.case"]);
    let last = stdout(&o).lines().last().unwrap().to_string();
    assert_eq!(last, "7,bind b 127.0.0.1:P1,ok,linux.tcp.fastreuse-stale");
}

/// The Windows and Wine models on the Windows corpus (the seed question
/// included), text and CSV; `--platform all` adds a column per OS.
#[test]
fn predict_windows_and_wine_on_the_windows_corpus() {
    for (platform, name) in [("windows", "predict-windows.txt"), ("wine", "predict-wine.txt")] {
        let o = run(&["predict", "--platform", platform, "corpus/windows"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        golden(name, &stdout(&o).replace('\\', "/"));
    }
    let o = run(&["predict", "--platform", "windows", "--format", "csv", "corpus/windows/seed"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    golden("predict-seed.csv", &stdout(&o).replace('\\', "/"));
    // Every OS there is a model of, one block each.
    let o = run(&["predict", "--platform", "all", "--format", "csv", "corpus/windows/seed/exclusive-then-plain.case"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.starts_with("platform,step,statement,outcome,rule\n"), "{text}");
    assert!(text.contains("linux,5,bind b 127.0.0.1:P1,EADDRINUSE,linux.tcp.bind-conflict"), "{text}");
    assert!(text.contains("windows,7,bind b 127.0.0.1:P1,EACCES,windows.tcp.same-excl-old"), "{text}");
    for bsd in ["freebsd", "macos"] {
        assert!(text.contains(&format!("{bsd},7,bind b 127.0.0.1:P1,EADDRINUSE,bsd.any.same-addr")), "{text}");
    }
    // XP had no enhanced socket security.
    let o = run(&["predict", "--platform", "windows@5.1", "--format", "csv", "corpus/windows/legacy/xp.case"]);
    let last = stdout(&o).lines().last().unwrap().to_string();
    assert_eq!(last, "9,bind d 127.0.0.2:P1,EADDRINUSE,windows.any.legacy-xp");
}

/// The host model's name as predict prints it (`linux@6.18` here).
#[cfg(target_os = "linux")]
fn host_model() -> String {
    let o = run(&["predict", "--format", "csv", "--platform", "host", "corpus/linux/bind/family-mismatch.case"]);
    assert!(o.status.success());
    let text = stdout(&run(&["predict", "corpus/linux/bind/family-mismatch.case"]));
    let first = text.lines().next().unwrap();
    first.split('(').nth(1).unwrap().trim_end_matches(')').to_string()
}

/// Runs the binary and checks the SPEC §4 error form: exit 2, exactly one
/// line on stderr, starting `error: ` and containing `want`.
fn one_line_error(args: &[&str], want: &str) {
    let o = run(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(want), "{args:?}: want {want:?} in {err}");
}

#[test]
fn bad_input_gives_one_line_errors_that_name_the_place() {
    let d = tmp("bad-input");
    let f = write(&d, "malformed.case", "a = socket tcp4\nbind a 0.0.0.0\n");
    one_line_error(&["predict", f.to_str().unwrap()], &format!("{}:2:8: expected ADDR:PORT", f.display()));
    let f = write(&d, "option.case", "a = socket tcp4\nset a nodelay on\n");
    one_line_error(&["predict", f.to_str().unwrap()], ":2:7: unknown option 'nodelay'");
    let f = write(&d, "closed.case", "a = socket tcp4\nclose a\nbind a 0.0.0.0:P1\n");
    one_line_error(&["predict", f.to_str().unwrap()], ":3:6: socket 'a' is closed");
    let f = write(&d, "offhost.case", "a = socket tcp4\nconnect a 10.1.2.3:P1\n");
    one_line_error(&["predict", f.to_str().unwrap()], ":2:11: connect may only target loopback");
    let f = write(&d, "noport.case", "a = socket tcp4\nb = socket tcp4\nbind b 0.0.0.0:@a\n");
    one_line_error(&["predict", f.to_str().unwrap()], ":3: @a names a socket that holds no port here");
    // A file that cannot be read has no position to name.
    one_line_error(&["predict", "does/not/exist.case"], "error: does/not/exist.case: cannot read");
    one_line_error(
        &["predict", "--platform", "solaris", "corpus/linux/bind/family-mismatch.case"],
        "unknown platform 'solaris'",
    );
    one_line_error(&["fuzz", "--duration", "5x"], "unknown unit 'x'");
    one_line_error(&["fuzz", "-j", "0"], "0 workers cannot run anything");
    one_line_error(&["matrix", "--jobs", "0"], "0 workers cannot run anything");
    // An --out that cannot hold a run folder (its parent is a file).
    let blocker = write(&d, "file", "not a folder");
    let out = blocker.join("reports");
    one_line_error(&["fuzz", "--cases", "1", "--out", out.to_str().unwrap()], "cannot create the run folder");
    std::fs::remove_dir_all(&d).unwrap();
}

/// The conventions of command-line tools: bare `sockdiff` shows the help
/// and exits 2, completions and a man page, no colour into a pipe unless
/// asked, and `NO_COLOR` honoured.
#[test]
fn conventions_of_the_rust_cli_world() {
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("[OPTIONS] <COMMAND>"), "{}", stderr(&o));
    let o = run(&["corpus"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("check"), "{}", stderr(&o));
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        assert!(stdout(&o).contains("predict"), "{shell}");
    }
    let o = run(&["man"]);
    assert!(stdout(&o).starts_with(".ie") && stdout(&o).contains(".SH NAME"), "{}", stdout(&o));
    let o = run(&["man", "predict"]);
    assert!(stdout(&o).contains("sockdiff\\-predict"), "{}", stdout(&o));
    one_line_error(&["man", "nope"], "no command 'nope'");
    let f = "corpus/linux/listen/listen-rechecks.case";
    let plain = stdout(&run(&["predict", "--platform", "linux", f]));
    assert!(!plain.contains('\x1b'), "{plain}");
    let coloured = stdout(&run(&["--color", "always", "predict", "--platform", "linux", f]));
    assert!(coloured.contains("\x1b[31mEADDRINUSE\x1b[0m"), "{coloured}");
    let o = output(bin().args(["predict", "--platform", "linux", f]).env("NO_COLOR", "1").current_dir(root()));
    assert_eq!(stdout(&o), plain);
}

#[test]
fn a_closed_reader_ends_output_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let mut args = vec!["predict".to_string()];
    for _ in 0..200 {
        args.push("corpus/linux/reuse/fastreuseport-order.case".into());
    }
    let mut child =
        bin().args(&args).current_dir(root()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut first = [0u8; 16];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(err, "");
}

/// Writes a run folder with the given findings (statement, expected, actual, rule).
fn planted_run(
    parent: &std::path::Path,
    id: &str,
    model: &str,
    findings: &[(&str, &str, &str, &str)],
) -> std::path::PathBuf {
    use sockdiff::report::{MismatchRow, RunDir, Summary};
    let mut dir = RunDir::create(parent, id).unwrap();
    for (i, (stmt, exp, act, rule)) in findings.iter().enumerate() {
        let case_text = format!("a = socket tcp4\n{stmt}\n");
        let case = sockdiff::case::parse("planted", &case_text).unwrap();
        let row = MismatchRow {
            run_id: id.into(),
            found_at: "2026-11-25T00:00:00Z".into(),
            host_os: "Linux".into(),
            os_release: "6.18".into(),
            model: model.into(),
            seed: i.to_string(),
            case_id: format!("case-{i:06}"),
            step: 2,
            statement: stmt.to_string(),
            expected: exp.to_string(),
            actual: act.to_string(),
            rule: rule.to_string(),
            reproduced: "3/3".into(),
            original_len: 2,
            minimized_len: 2,
            case: sockdiff::case::one_line(&case),
        };
        dir.add_mismatch(&row, &case, "planted").unwrap();
    }
    let mut s = Summary { run_id: id.into(), status: "duration".into(), ..Summary::default() };
    s.fingerprint.model = model.into();
    s.fingerprint.release = if id == "old" { "6.18.1".into() } else { "6.18.2".into() };
    s.counts.mismatches = findings.len() as u64;
    s.counts.skipped = 3;
    dir.write_summary(&s).unwrap();
    dir.path
}

#[test]
fn report_diff_lists_new_gone_and_still() {
    let d = tmp("report-diff");
    let a = ("bind a 0.0.0.0:P1", "EADDRINUSE", "ok", "linux.tcp.bind-conflict");
    let b = ("listen a", "ok", "EADDRINUSE", "linux.tcp.listen-conflict");
    let c = ("bind a 127.0.0.1:P2", "ok", "EACCES", "linux.tcp.reuseaddr-pair");
    let old = planted_run(&d, "old", "linux@6.18", &[a, b]);
    let new = planted_run(&d, "new", "linux@6.18", &[b, c]);
    let csv_path = d.join("diff.csv");
    let o = run(&["report", "diff", old.to_str().unwrap(), new.to_str().unwrap(), "--csv", csv_path.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("fingerprint release: 6.18.1 -> 6.18.2"), "{out}");
    assert!(out.contains("1 new, 1 gone, 1 still; cases 0 -> 0, skipped 3 -> 3"), "{out}");
    let mut r = csv::Reader::from_path(&csv_path).unwrap();
    let mut got: Vec<(String, String)> =
        r.records().map(|x| x.unwrap()).map(|x| (x[0].to_string(), x[4].to_string())).collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("gone".to_string(), a.3.to_string()),
            ("new".to_string(), c.3.to_string()),
            ("still".to_string(), b.3.to_string())
        ]
    );
    // The same run on both sides: nothing new, exit 0.
    let o = run(&["report", "diff", new.to_str().unwrap(), new.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = run(&["report", "render", new.to_str().unwrap(), "--junit", d.join("j.xml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("| mismatches | 2 distinct"), "{}", stdout(&o));
    let junit = std::fs::read_to_string(d.join("j.xml")).unwrap();
    assert_eq!(junit.matches("<failure ").count(), 2);
    remove(&d);
}

/// The BSD models on their whole corpora (nobody ran these cases on BSD:
/// the golden files pin what the models say; tests/source_notes.rs holds
/// them to the sources' predictions).
#[test]
fn predict_freebsd_and_macos_corpora() {
    for (platform, dir, file) in [
        ("freebsd", "corpus/freebsd", "predict-freebsd.txt"),
        ("freebsd@14", "corpus/freebsd", "predict-freebsd14.txt"),
        ("freebsd@11", "corpus/freebsd/users", "predict-freebsd11-users.txt"),
        ("macos", "corpus/macos", "predict-macos.txt"),
    ] {
        let o = run(&["predict", "--platform", platform, dir]);
        assert_eq!(o.status.code(), Some(0), "{platform}: {}", stderr(&o));
        // Paths print with the host's separator.
        golden(file, &stdout(&o).replace('\\', "/"));
    }
}

#[test]
fn predict_all_answers_for_the_four_oses() {
    let o = run(&["predict", "--platform", "all", "corpus/freebsd/bind/port-zero.case"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("(linux, freebsd, macos, windows)"), "{text}");
    for rule in ["linux.any.socket", "bsd.any.socket", "windows.any.socket"] {
        assert!(text.contains(rule), "{rule} missing:\n{text}");
    }
}

/// A variant is asked for by name on any machine; the upstream model and
/// the variant's answer the role-lock case differently, and an unknown
/// variant is refused with the known ones.
#[test]
fn predict_takes_build_variants() {
    let f = "corpus/linux/connect/locked-address.case";
    let o = run(&["predict", "--platform", "linux@6.18+role-lock", "--format", "csv", f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let locked = stdout(&o);
    let o = run(&["predict", "--platform", "linux@6.18", "--format", "csv", f]);
    let upstream = stdout(&o);
    assert!(locked.contains(",listen e,EINVAL,linux.tcp.role-lock"), "{locked}");
    assert!(upstream.contains(",listen e,ok,"), "{upstream}");
    let text = stdout(&run(&["predict", "--platform", "linux+role-lock", f]));
    assert!(text.lines().next().unwrap().ends_with("(linux+role-lock)"), "{text}");
    one_line_error(
        &["predict", "--platform", "linux+nope", f],
        "--platform linux+nope: unknown variant '+nope' of linux (known variants: role-lock, mapped-any-missed)",
    );
    one_line_error(&["predict", "--platform", "windows+role-lock", f], "unknown variant '+role-lock' of windows");
}

/// The cross-OS table: any comma list of platforms, one header row, one
/// outcome column per platform, a mark where their sets differ; CSV keeps
/// SPEC §4's columns and JSON has the same fields for one file or many.
#[test]
fn predict_compares_any_list_of_platforms() {
    let f = "corpus/windows/seed/exclusive-then-plain.case";
    let o = run(&["predict", "--platform", "linux,windows,wine", f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[1].starts_with("step    statement") && lines[1].ends_with("linux        windows     wine"), "{text}");
    assert!(text.contains("   7  ≠ bind b 127.0.0.1:P1        EADDRINUSE   EACCES      EACCES"), "{text}");
    assert!(text.contains("3 of 11 statements where the platforms' outcome sets differ"), "{text}");
    let o = run(&["predict", "--platform", "all,wine", "--format", "csv", f]);
    let csv = stdout(&o);
    assert!(csv.starts_with("platform,step,statement,outcome,rule\n"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 5 * 11);
    let o = run(&["predict", "--platform", "host,windows", "--format", "csv", f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("windows,7,bind b 127.0.0.1:P1,EACCES,windows.tcp.same-excl-old"));
    // --explain adds each rule's meaning.
    let text = stdout(&run(&["predict", "--platform", "windows", "--explain", f]));
    assert!(text.contains("a plain second bind") || text.contains("the holder has SO_EXCLUSIVEADDRUSE"), "{text}");
    // JSON: the same fields with one platform and one file as with several.
    for args in [&["--platform", "linux", f][..], &["--platform", "all", f, "corpus/windows/seed/both-options.case"]] {
        let mut all = vec!["predict", "--format", "json"];
        all.extend_from_slice(args);
        let o = run(&all);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["command"], "predict");
        for row in v["rows"].as_array().unwrap() {
            let mut keys: Vec<&String> = row.as_object().unwrap().keys().collect();
            keys.sort();
            assert_eq!(keys, ["file", "outcome", "platform", "rule", "statement", "step"]);
            assert!(row["outcome"].is_array());
        }
    }
}

/// Versions are checked: outside what a model knows is refused with the
/// range; between known versions a note says whose rules apply.
#[test]
fn versions_outside_a_model_are_refused() {
    let f = "corpus/linux/listen/listen-rechecks.case";
    one_line_error(
        &["predict", "--platform", "linux@9.9", f],
        "newer than the newest version the linux model knows (it knows linux 4.14 to 6.18)",
    );
    one_line_error(&["predict", "--platform", "macos@99", f], "it knows macos 10.14 to 15");
    one_line_error(&["predict", "--platform", "freebsd@10", f], "older than the oldest");
    one_line_error(&["replay", "--platform", "linux@2.6", f], "older than the oldest");
    let o = run(&["predict", "--platform", "linux@6.7", f]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("uses those for linux 6.1 up to 6.8"), "{}", stderr(&o));
    let o = run(&["-q", "predict", "--platform", "linux@6.7", f]);
    assert_eq!(stderr(&o), "");
}

/// Every output path is tested before anything is written: a refused one
/// stops the command with exit 2 and leaves no run folder (nor any other
/// output) behind.
#[cfg(target_os = "linux")]
#[test]
fn refused_output_paths_leave_nothing_behind() {
    let d = tmp("refused-outputs");
    let out = d.join("reports");
    let o = out.to_str().unwrap();
    let junit = d.join("j.xml");
    for (args, want) in [
        (vec!["fuzz", "--cases", "1", "--out", o, "--junit", "/proc/x/y.xml"], "--junit /proc/x/y.xml: cannot write"),
        (vec!["fuzz", "--cases", "1", "--out", o, "--save-corpus", "/proc/x"], "--save-corpus /proc/x"),
        (vec!["fuzz", "--cases", "1", "--out", o, "--markdown", "/proc/m.md"], "--markdown /proc/m.md"),
        (vec!["matrix", "--out", o, "--junit", "/proc/x/y.xml"], "--junit /proc/x/y.xml"),
        (vec!["fuzz", "--cases", "1", "--out", "/proc/r", "--junit", junit.to_str().unwrap()], "--out /proc/r"),
        (vec!["corpus", "check", "corpus/linux/listen", "--csv", "/proc/c.csv"], "--csv /proc/c.csv"),
        (vec!["minimize", "corpus/linux/listen/listen-rechecks.case", "--out", "/proc/m.case"], "--out /proc/m.case"),
        (vec!["report", "render", o, "--junit", "/proc/x/j.xml"], "--junit /proc/x/j.xml"),
        (vec!["generate", "--seed", "1", "--out", "/proc/g"], "--out /proc/g"),
    ] {
        one_line_error(&args, want);
        assert!(!out.exists(), "{args:?} left {}", out.display());
        assert!(!junit.exists(), "{args:?} left {}", junit.display());
    }
    remove(&d);
}

/// `sockdiff rules` lists every rule with its meaning, range and variant;
/// `sockdiff explain` tells one rule's meaning, sources, confidence, docs
/// section, corpus cases and the other platforms' answers there.
#[test]
fn rules_and_explain_answer_from_the_tables() {
    let o = run(&["rules"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let n = sockdiff::model::rules::RULES.len();
    assert!(text.contains(&format!("{n} rules;")), "{text}");
    assert!(text.contains("linux.tcp.fastreuse-stale") && text.contains("[linux before 6.8]"), "{text}");
    assert!(text.contains("[variant +role-lock]"), "{text}");
    let o = run(&["rules", "--platform", "freebsd@11"]);
    let text = stdout(&o);
    assert!(text.contains("freebsd.any.uid-legacy") && !text.contains("freebsd.any.uid-lb-exception"), "{text}");
    assert!(text.contains("bsd.any.bind-twice") && !text.contains("macos."), "{text}");
    let o = run(&["explain", "windows.tcp.same-excl-old"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    for want in [
        "meaning     Same address, the holder has SO_EXCLUSIVEADDRUSE",
        "confidence  High for specific addresses",
        "docs        docs/semantics/windows.md#bind-conflicts-on-one-stack",
        "corpus/windows/seed/exclusive-then-plain.case step 5: bind b 127.0.0.1:P1",
        "linux    EADDRINUSE  linux.tcp.bind-conflict",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    one_line_error(&["explain", "windows.tcp.nope"], "no rule 'windows.tcp.nope'");
}

/// Nothing in the sources, the README or the corpus points at notes
/// outside the repository.
#[test]
fn references_stay_inside_the_repository() {
    let mut bad = Vec::new();
    let mut stack = vec![root().join("src"), root().join("corpus"), root().join("README.md")];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p) else { continue };
        for (i, line) in text.lines().enumerate() {
            let section_sign =
                line.char_indices().any(|(j, c)| c == '§' && line[j + 2..].starts_with(|d: char| d.is_ascii_digit()));
            if line.contains("shared/") || section_sign {
                bad.push(format!("{}:{}: {line}", p.display(), i + 1));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    for doc in ["docs/semantics/linux.md", "docs/semantics/bsd.md", "docs/semantics/windows.md", "docs/interface.md"] {
        assert!(root().join(doc).is_file(), "{doc}");
    }
}
