//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The built `sockdiff` binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sockdiff"))
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh temporary folder for one test.
pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sockdiff-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the binary with `args` in the repository root.
pub fn run(args: &[&str]) -> Output {
    output(bin().args(args).current_dir(root()))
}

/// Runs `cmd` to its end. Under Wine, starting a process now and then fails
/// with ERROR_INTERNAL_ERROR (1359) when several start at once (seen in CI,
/// never on Linux): that start is tried again, a few times, before the test
/// fails. Any other error fails at once.
pub fn output(cmd: &mut Command) -> Output {
    const WINE_TRANSIENT: i32 = 1359;
    let mut tries = 0;
    loop {
        match cmd.output() {
            Ok(o) => return o,
            Err(e) if cfg!(windows) && e.raw_os_error() == Some(WINE_TRANSIENT) && tries < 5 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(200 * tries));
            }
            Err(e) => panic!("run {:?}: {e}", cmd.get_program()),
        }
    }
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Compares `got` with the golden file `tests/golden/<name>`; with
/// UPDATE_EXPECT=1 in the environment, rewrites the golden file instead.
pub fn golden(name: &str, got: &str) {
    let path = root().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("no golden file {}", path.display()));
    if want != got {
        panic!(
            "output differs from {} (UPDATE_EXPECT=1 rewrites it)\n---- want\n{want}\n---- got\n{got}\n----",
            path.display()
        );
    }
}

/// Whether live runs can work here (root, or unprivileged user namespaces).
/// Live tests fail loudly when they cannot run, unless SOCKDIFF_SKIP_LIVE
/// is set, which prints why they were skipped.
pub fn live_allowed(test: &str) -> bool {
    if std::env::var_os("SOCKDIFF_SKIP_LIVE").is_some() {
        eprintln!("{test}: skipped (SOCKDIFF_SKIP_LIVE is set)");
        return false;
    }
    true
}

/// Removes a test folder. Windows (Wine too) may keep a file in it open a
/// moment after the process that wrote it ended: retry for a second, and
/// on Windows leave the folder to the temp cleaner after that.
pub fn remove(d: &Path) {
    for _ in 0..20 {
        match std::fs::remove_dir_all(d) {
            Ok(()) => return,
            Err(_) if !d.exists() => return,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    if !cfg!(windows) {
        std::fs::remove_dir_all(d).unwrap();
    }
}

/// Whether the tests run as root (Unix); never on other systems.
pub fn is_root() -> bool {
    #[cfg(unix)]
    {
        unsafe { libc::geteuid() == 0 }
    }
    #[cfg(not(unix))]
    {
        false
    }
}
