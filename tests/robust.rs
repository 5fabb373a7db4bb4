//! Issue 12, items 4 and 5: no silent loss and no false alarms. A run that
//! runs out of descriptors, is killed, meets a full folder or a panicking
//! worker leaves a valid run folder and says what happened in one line; a
//! neighbour churning loopback ports causes no reported mismatch.

use crate::util::*;
use std::path::Path;
#[cfg(target_os = "linux")]
use std::process::{Command, Stdio};

/// What is wrong with a run folder, checked as a reader would: the CSV
/// parses with its header and whole rows, each row has its case file,
/// every case file anywhere in the folder parses, summary.json has counts.
pub fn run_folder_problems(dir: &Path) -> Vec<String> {
    let mut bad = Vec::new();
    let csv_path = dir.join("mismatches.csv");
    match csv::ReaderBuilder::new().has_headers(false).from_path(&csv_path) {
        Err(e) => bad.push(format!("{}: {e}", csv_path.display())),
        Ok(mut r) => {
            let rows: Vec<_> = r.records().collect();
            match rows.first() {
                Some(Ok(h)) if h.iter().eq(sockdiff::report::HEADER) => {}
                h => bad.push(format!("{}: header {h:?}", csv_path.display())),
            }
            for (n, row) in rows.iter().enumerate().skip(1) {
                match row {
                    Ok(row) if row.len() == sockdiff::report::HEADER.len() => {
                        if !dir.join("cases").join(format!("{}.case", &row[6])).is_file() {
                            bad.push(format!("row {}: no case file {}", n + 1, &row[6]));
                        }
                    }
                    other => bad.push(format!("row {}: {other:?}", n + 1)),
                }
            }
        }
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "case") {
                if let Err(e) = sockdiff::case::parse_file(&p) {
                    bad.push(format!("{e}"));
                }
            }
        }
    }
    let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(&summary) {
        Ok(v) if v["counts"].is_object() => {}
        _ => bad.push(format!("summary.json: {summary:?}")),
    }
    bad
}

/// The one run folder under `out`.
fn run_dir(out: &Path) -> std::path::PathBuf {
    let dirs: Vec<_> = std::fs::read_dir(out).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

/// The `error:` lines of a run's stderr.
fn error_lines(err: &str) -> Vec<&str> {
    err.lines().filter(|l| l.starts_with("error:")).collect()
}

/// `fuzz` with the descriptor limit at `n`.
#[cfg(target_os = "linux")]
fn fuzz_with_fd_limit(n: u64, out: &Path) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut c = bin();
    c.args(["fuzz", "--seed", "1", "--cases", "1000", "-q", "--out", out.to_str().unwrap()]).current_dir(root());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        c.pre_exec(move || {
            // Start like a command from a shell, with only stdin, stdout and
            // stderr: descriptors the test harness inherited (cargo's
            // jobserver) are closed at exec, so they do not count against
            // the limit (CLOSE_RANGE_CLOEXEC, Linux 5.11).
            const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
            libc::syscall(libc::SYS_close_range, 3 as libc::c_uint, libc::c_uint::MAX, CLOSE_RANGE_CLOEXEC);
            let r = libc::rlimit { rlim_cur: n, rlim_max: n };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &r) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    c.output().unwrap()
}

/// `ulimit -n 12`: cases that meet EMFILE are skipped and counted with the
/// reason, never compared (before, a run found "mismatches" with real
/// EMFILE and probes that saw nobody); `ulimit -n 4`: nothing can run,
/// exit 2, one line, the folder (where one was made) valid.
#[cfg(target_os = "linux")]
#[test]
fn running_out_of_descriptors_is_never_an_outcome() {
    if !live_allowed("fds") {
        return;
    }
    let d = tmp("fds");
    let o = fuzz_with_fd_limit(12, &d.join("12"));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dir = run_dir(&d.join("12"));
    assert_eq!(run_folder_problems(&dir), Vec::<String>::new());
    let s = summary(&dir);
    let reasons = s["skipped_reasons"].as_object().unwrap();
    let fds = reasons.iter().find(|(k, _)| k.contains("EMFILE")).map(|(_, v)| v.as_u64().unwrap());
    assert!(fds.is_some_and(|n| n > 0), "{reasons:?}");
    assert_eq!(s["counts"]["mismatches"], 0, "{s}");
    assert_eq!(s["counts"]["flaky"], 0, "{s}");
    assert_eq!(s["counts"]["cases"], 1000);
    let csv = std::fs::read_to_string(dir.join("mismatches.csv")).unwrap();
    assert!(!csv.contains("EMFILE") && !csv.contains("ENFILE"), "{csv}");

    let o = fuzz_with_fd_limit(4, &d.join("4"));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(error_lines(&err).len(), 1, "{err}");
    // Loopback's setup or the calibration probe meets the limit first,
    // depending on how many descriptors the process starts with.
    assert!(err.contains("Too many open files") || err.contains("out of file descriptors"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // A calibration that cannot run stops before the run folder is made;
    // a folder that was made is valid.
    if d.join("4").exists() {
        assert_eq!(run_folder_problems(&run_dir(&d.join("4"))), Vec::<String>::new());
    }
    remove(&d);
}

/// A worker that panics ends the run: exit 2, one `error:` line naming the
/// place, no panic message of the hook, the folder valid and marked `error`.
#[test]
fn a_panicking_worker_ends_the_run_in_one_line() {
    if !live_allowed("panic") {
        return;
    }
    let d = tmp("panic");
    let o = bin()
        .args(["fuzz", "--seed", "1", "--cases", "400", "-q", "--out", d.to_str().unwrap()])
        .env("SOCKDIFF_FAULT", "panic-at-case:200")
        .current_dir(root())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let lines = error_lines(&err);
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("panicked at src/campaign/mod.rs:") && lines[0].contains("injected fault"), "{err}");
    assert!(!err.contains("thread '"), "{err}");
    let dir = run_dir(&d);
    assert_eq!(run_folder_problems(&dir), Vec::<String>::new());
    assert_eq!(summary(&dir)["status"], "error");
    remove(&d);
}

/// Every moment a run can be killed leaves valid files: 20 runs killed
/// with SIGKILL after a random time, each folder checked. The runs use
/// another OS's model, so findings (case files, CSV rows, flaky cases)
/// are written all the time.
#[cfg(target_os = "linux")]
#[test]
fn sigkill_at_any_moment_leaves_valid_files() {
    if !live_allowed("sigkill") {
        return;
    }
    let d = tmp("sigkill");
    let mut x = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    eprintln!("sigkill: moments from seed {x}");
    let mut rows = 0;
    for i in 0..20 {
        x = sockdiff::generate::splitmix(x);
        let wait = std::time::Duration::from_millis(100 + x % 1900);
        let out = d.join(i.to_string());
        let mut child = bin()
            .args(["fuzz", "--platform", "freebsd", "--duration", "30s", "-q", "--out", out.to_str().unwrap()])
            .current_dir(root())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(wait);
        child.kill().unwrap();
        child.wait().unwrap();
        let Ok(mut entries) = std::fs::read_dir(&out) else { continue };
        // Killed before the folder existed: nothing to check.
        let Some(dir) = entries.next().map(|e| e.unwrap().path()) else { continue };
        let problems = run_folder_problems(&dir);
        assert_eq!(problems, Vec::<String>::new(), "killed after {wait:?}: {}", dir.display());
        rows += std::fs::read_to_string(dir.join("mismatches.csv")).unwrap().lines().count() - 1;
    }
    // The kills did land while findings were being written.
    assert!(rows > 0, "no run got as far as a finding");
    remove(&d);
}

/// A report folder that fills up part way, or is read-only: exit 2, one
/// line, what was written stays valid (a tmpfs of 128 KiB; as root only).
#[cfg(target_os = "linux")]
#[test]
fn a_full_or_read_only_folder_ends_the_run_in_one_line() {
    if !live_allowed("full") || !is_root() {
        return;
    }
    let d = tmp("full");
    let mnt = d.join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let mount = |opts: &str| {
        let ok = Command::new("mount").args(["-t", "tmpfs", "-o", opts, "tmpfs", mnt.to_str().unwrap()]).status();
        assert!(ok.unwrap().success(), "mount {opts}");
    };
    let umount = || {
        let _ = Command::new("umount").arg(&mnt).status();
    };
    // Full: findings of another OS's model fill 128 KiB in a few seconds.
    mount("size=128k");
    let o = bin()
        .args(["fuzz", "--platform", "freebsd", "--duration", "60s", "-q", "--out", mnt.to_str().unwrap()])
        .current_dir(root())
        .output()
        .unwrap();
    let err = stderr(&o);
    let problems = run_folder_problems(&run_dir(&mnt));
    umount();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(error_lines(&err).len(), 1, "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(problems, Vec::<String>::new());
    // Read-only from the start: refused before any work.
    mount("ro,size=64k");
    let o = run(&["fuzz", "--seed", "1", "--cases", "10", "--out", mnt.to_str().unwrap()]);
    umount();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(error_lines(&stderr(&o)).len(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("Read-only file system"), "{}", stderr(&o));
    // (Read-only part way cannot be made here: a tmpfs with a file open
    // for writing refuses to be remounted read-only.)
    remove(&d);
}

/// A neighbour in the host's network namespace that binds loopback and
/// wildcard ports all over 1024-65535 (the tool's ranges and the ephemeral
/// range), TCP and UDP, half the TCP ones listening, and keeps the last
/// 256 open: about 3,000 binds a second.
#[cfg(target_os = "linux")]
struct Noise {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    binds: std::sync::Arc<std::sync::atomic::AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
    t0: std::time::Instant,
}

#[cfg(target_os = "linux")]
impl Noise {
    fn start() -> Noise {
        use socket2::{Domain, Socket, Type};
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let binds = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (s, b) = (stop.clone(), binds.clone());
        let thread = std::thread::spawn(move || {
            let mut held = std::collections::VecDeque::new();
            let mut x = 12345u64;
            let mut n = 0u64;
            while !s.load(Ordering::Relaxed) {
                x = sockdiff::generate::splitmix(x);
                let port = 1024 + (x % (65536 - 1024)) as u16;
                let tcp = x & (1 << 20) != 0;
                let ip = if x & (1 << 21) != 0 { [127, 0, 0, 1] } else { [0, 0, 0, 0] };
                let ty = if tcp { Type::STREAM } else { Type::DGRAM };
                let Ok(sock) = Socket::new(Domain::IPV4, ty, None) else { continue };
                let addr = std::net::SocketAddr::from((ip, port));
                if sock.bind(&addr.into()).is_ok() {
                    b.fetch_add(1, Ordering::Relaxed);
                    if tcp && x & (1 << 22) != 0 {
                        let _ = sock.listen(8);
                    }
                    held.push_back(sock);
                    if held.len() > 256 {
                        held.pop_front();
                    }
                }
                n += 1;
                if n % 3 == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
        });
        Noise { stop, binds, thread: Some(thread), t0: std::time::Instant::now() }
    }

    /// Binds a second so far.
    fn rate(&self) -> f64 {
        self.binds.load(std::sync::atomic::Ordering::Relaxed) as f64 / self.t0.elapsed().as_secs_f64()
    }
}

#[cfg(target_os = "linux")]
impl Drop for Noise {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// No false alarms beside a noisy neighbour: in private namespaces the
/// noise is never seen (no mismatch, nothing flaky); with `--no-netns` it
/// is seen, and every mismatch it causes is caught by the re-run check
/// and counted as flaky, never reported.
#[cfg(target_os = "linux")]
#[test]
fn a_noisy_neighbour_causes_no_reported_mismatch() {
    if !live_allowed("noise") {
        return;
    }
    let d = tmp("noise");
    let noise = Noise::start();
    let fuzz = |extra: &[&str], out: &Path, secs: &str| {
        let mut args = vec!["fuzz", "--seed", "7", "--duration", secs, "-q", "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        run(&args)
    };
    let o = fuzz(&[], &d.join("netns"), "15s");
    let netns_rate = noise.rate();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dir = run_dir(&d.join("netns"));
    let s = summary(&dir);
    assert_eq!((s["counts"]["mismatches"].as_u64(), s["counts"]["flaky"].as_u64()), (Some(0), Some(0)), "{s}");
    assert_eq!(run_folder_problems(&dir), Vec::<String>::new());

    let o = fuzz(&["--no-netns"], &d.join("host"), "20s");
    let rate = noise.rate();
    drop(noise);
    let dir = run_dir(&d.join("host"));
    let s = summary(&dir);
    eprintln!(
        "noise: {netns_rate:.0} then {rate:.0} binds/s; --no-netns: {} cases, {} mismatches, {} flaky",
        s["counts"]["cases"], s["counts"]["mismatches"], s["counts"]["flaky"]
    );
    assert!(netns_rate >= 1000.0 && rate >= 1000.0, "the neighbour made only {netns_rate:.0}/{rate:.0} binds/s");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(s["counts"]["mismatches"], 0, "{s}");
    let rows = std::fs::read_to_string(dir.join("mismatches.csv")).unwrap().lines().count();
    assert_eq!(rows, 1, "only the header");
    // The noise was seen, and caught.
    assert!(s["counts"]["flaky"].as_u64().unwrap() > 0, "the noise caused nothing to catch: {s}");
    assert_eq!(run_folder_problems(&dir), Vec::<String>::new());
    remove(&d);
}
