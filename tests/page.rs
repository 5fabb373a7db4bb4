//! The HTML pages in a real browser: headless Chromium (Debian's
//! `chromium`, which `.ci/run` installs) renders `report render --html`
//! and `predict --format html`, and the test reads the rendered DOM: the
//! page's own script counts the rows the browser laid out. Skipped, with
//! the reason printed, where Chromium is missing.

use crate::util::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The Chromium binary, if there is one.
fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"].into_iter().map(String::from).find(|c| {
        Command::new(c).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    })
}

/// The DOM of `page` after Chromium rendered it (killed after 60 s).
fn rendered(browser: &str, page: &Path, profile: &Path) -> String {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("chromium did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut dom = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut dom).unwrap();
    dom
}

/// The value of `data-NAME` on the body.
fn data(dom: &str, name: &str) -> usize {
    let key = format!("data-{name}=\"");
    let at = dom.find(&key).unwrap_or_else(|| panic!("no {key} in the rendered page")) + key.len();
    dom[at..].split('"').next().unwrap().parse().unwrap()
}

#[test]
fn both_pages_render_their_rows_in_chromium() {
    let Some(browser) = chromium() else {
        eprintln!("both_pages_render_their_rows_in_chromium: skipped (no chromium on PATH; apt-get install chromium)");
        return;
    };
    let d = tmp("pages");
    // The cross-OS grid: one row per statement of both files, 3 + 6 of them disagreeing.
    let grid = d.join("grid.html");
    let o = run(&[
        "predict",
        "--platform",
        "all,wine",
        "--format",
        "html",
        "corpus/windows/seed/exclusive-then-plain.case",
        "corpus/windows/seed/both-options.case",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::fs::write(&grid, &o.stdout).unwrap();
    let dom = rendered(&browser, &grid, &d.join("profile1"));
    assert_eq!(data(&dom, "rows"), 11 + 13, "{dom}");
    assert_eq!(data(&dom, "differ"), 3 + 6);
    assert_eq!(dom.matches("<th>wine</th>").count(), 2);
    // A run folder of a run that was killed: two findings, unfinished.
    let run_dir = planted_unfinished_run(&d);
    let page = d.join("run.html");
    let o = run(&["report", "render", run_dir.to_str().unwrap(), "--html", page.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("did not finish"), "{}", stderr(&o));
    let dom = rendered(&browser, &page, &d.join("profile2"));
    // Finding rows: 2 + 3 statements; the mismatching one of each marked.
    assert_eq!(data(&dom, "rows"), 5, "{dom}");
    assert_eq!(data(&dom, "differ"), 2);
    assert!(dom.contains("id=\"unfinished\""), "{dom}");
    assert!(dom.contains("43 case(s) at least, 2 mismatch(es)"), "{dom}");
    assert!(dom.contains("class=\"rule-row\""), "{dom}");
    remove(&d);
}

/// A run folder as `kill -9` leaves it: rows in the CSV, case files, and a
/// summary still saying `running` with no cases counted.
fn planted_unfinished_run(parent: &Path) -> std::path::PathBuf {
    use sockdiff::report::{MismatchRow, RunDir, Summary};
    let mut dir = RunDir::create(parent, "killed").unwrap();
    let cases = [
        ("case-000007", "a = socket tcp4\nlisten a\n", 2, "listen a", "ok", "EINVAL", "linux.tcp.listen-autobind"),
        (
            "case-000042",
            "a = socket tcp4\nconnect a 127.0.0.1:P1\nlisten a\n",
            3,
            "listen a",
            "ok",
            "EINVAL",
            "linux.tcp.listen-misc",
        ),
    ];
    for (id, text, step, stmt, exp, act, rule) in cases {
        let case = sockdiff::case::parse("planted", text).unwrap();
        let row = MismatchRow {
            run_id: "killed".into(),
            found_at: "2026-12-01T00:00:00Z".into(),
            host_os: "Linux".into(),
            os_release: "6.18".into(),
            model: "linux@6.18".into(),
            seed: "1".into(),
            case_id: id.into(),
            step,
            statement: stmt.into(),
            expected: exp.into(),
            actual: act.into(),
            rule: rule.into(),
            reproduced: "3/3".into(),
            original_len: 3,
            minimized_len: step,
            case: sockdiff::case::one_line(&case),
        };
        dir.add_mismatch(&row, &case, "planted").unwrap();
    }
    let mut s = Summary { run_id: "killed".into(), status: "running".into(), ..Summary::default() };
    s.fingerprint.model = "linux@6.18".into();
    s.rules.insert("linux.any.socket".into(), 40);
    s.coverage.missing = vec!["linux.tcp.role-lock".into()];
    dir.write_summary(&s).unwrap();
    dir.path
}
