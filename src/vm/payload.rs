//! What goes into the guest and what comes back: the static sockdiff
//! (built from the checkout, or given), busybox, the checkout's `corpus/`
//! and every existing path the command names, laid out at the same
//! absolute paths as on the host; and, after the run, the files the guest
//! wrote under the checkout, written back into it.
//!
//! A file comes back only where that is safe: a new file, or one the guest
//! was given and the host has not changed since. Anything else is kept in
//! the run's folder under `target/vm/runs/` and named in a warning.

use super::cpio::{self, Entry};
use super::{VmError, apt, guest};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

/// Largest total size of the files copied into the guest.
const MAX_FILES: u64 = 256 << 20;
/// The target of the guest's sockdiff.
pub const MUSL: &str = "x86_64-unknown-linux-musl";

/// Checks that `bytes` is an x86-64 ELF executable without a program
/// interpreter (a static build, which runs in a guest without a libc).
pub fn check_static(bytes: &[u8]) -> Result<(), String> {
    if bytes.get(..4) != Some(b"\x7fELF") {
        return Err("not an ELF executable".into());
    }
    if bytes.get(4) != Some(&2) || bytes.get(5) != Some(&1) {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let u16_at = |at: usize| bytes.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u64_at = |at: usize| bytes.get(at..at + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap()) as usize);
    if u16_at(0x12) != Some(0x3e) {
        return Err("not built for x86-64".into());
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38)) else {
        return Err("truncated ELF header".into());
    };
    for i in 0..phnum {
        let at = phoff + i * phentsize;
        let kind = bytes.get(at..at + 4).ok_or("truncated program headers")?;
        // PT_INTERP: the file needs a dynamic loader.
        if u32::from_le_bytes(kind.try_into().unwrap()) == 3 {
            return Err(format!("dynamically linked (build it with --target {MUSL})"));
        }
    }
    Ok(())
}

/// The checkout the command runs in: the current folder, which must hold
/// `corpus/`.
pub fn checkout() -> Result<PathBuf, VmError> {
    let dir = std::env::current_dir().map_err(|e| VmError(format!("the current folder: {e}")))?;
    if !dir.join("corpus").is_dir() {
        return Err(VmError(format!(
            "{} has no corpus/ folder: run sockdiff vm from a sockdiff checkout",
            dir.display()
        )));
    }
    Ok(dir)
}

/// Builds the static sockdiff from the checkout with cargo (adding the
/// musl target with rustup when it is missing) and returns its path.
pub fn build(checkout: &Path) -> Result<PathBuf, VmError> {
    let manifest = std::fs::read_to_string(checkout.join("Cargo.toml")).unwrap_or_default();
    if !manifest.lines().any(|l| l.trim() == "name = \"sockdiff\"") {
        return Err(VmError(format!(
            "{} is not a sockdiff source tree (no Cargo.toml of sockdiff): run from the checkout, or give --binary with a static build (cargo build --release --target {MUSL})",
            checkout.display()
        )));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = apt::run_tool(Command::new(&rustc).args(["--print", "sysroot"]))?;
    if !Path::new(sysroot.trim()).join("lib/rustlib").join(MUSL).is_dir() {
        eprintln!("vm: rustup target add {MUSL}");
        apt::run_tool(Command::new("rustup").args(["target", "add", MUSL]))
            .map_err(|e| VmError(format!("the guest needs a static sockdiff: {e}")))?;
    }
    eprintln!("vm: cargo build --release --target {MUSL}");
    let out = Command::new(&cargo)
        .args(["build", "--release", "--target", MUSL, "--bin", "sockdiff", "--message-format=json-render-diagnostics"])
        .current_dir(checkout)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| VmError(format!("cannot run cargo: {e}")))?;
    if !out.status.success() {
        return Err(VmError(format!("cargo build --release --target {MUSL} failed ({})", out.status)));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == "sockdiff")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| VmError("cargo built no sockdiff executable".into()))
}

/// A static busybox: Debian's busybox-static, unpacked into the cache
/// (fetched the first time), else one on PATH if it is static.
pub fn busybox(cache: &Path) -> Result<PathBuf, VmError> {
    let dir = cache.join("busybox");
    let bin = dir.join("root/bin/busybox");
    if bin.is_file() {
        return Ok(bin);
    }
    if apt::available() {
        let version = match apt::candidate("busybox-static")? {
            Some(v) => v,
            None => {
                apt::update()?;
                apt::candidate("busybox-static")?.ok_or_else(|| VmError("apt has no busybox-static".into()))?
            }
        };
        eprintln!("vm: busybox-static {version}: apt-get download, dpkg-deb -x into {}", dir.display());
        apt::download_and_unpack(&[("busybox-static".into(), version)], &dir, &dir.join("root"))?;
        return Ok(bin);
    }
    for d in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        let p = d.join("busybox");
        if std::fs::read(&p).is_ok_and(|b| check_static(&b).is_ok()) {
            return Ok(p);
        }
    }
    Err(VmError("the guest needs a static busybox: no apt-get to fetch busybox-static, none on PATH".into()))
}

/// The files of the guest, and what was sent of the checkout (for the
/// write-back).
pub struct Payload {
    pub entries: Vec<Entry>,
    /// Each file under the checkout that was sent, by path relative to it,
    /// with its contents.
    pub sent: BTreeMap<PathBuf, Vec<u8>>,
}

impl Payload {
    /// Lays out the guest: `/init`, `/bin/{busybox,sockdiff}`, `/dev/console`,
    /// the stamp that later files are newer than, the checkout's `corpus/`,
    /// the names of its run folders in `reports/` (empty, so that a new run
    /// id does not take one the host has), and every existing path named
    /// in `args`.
    pub fn collect(
        checkout: &Path,
        args: &[String],
        init: &str,
        busybox: &[u8],
        sockdiff: &[u8],
    ) -> Result<Payload, VmError> {
        let mut p = Payload { entries: Vec::new(), sent: BTreeMap::new() };
        for d in ["bin", "dev", "proc", "sys", "tmp", "vm"] {
            p.entries.push(Entry::dir(d));
        }
        p.entries.push(Entry::char_dev("dev/console", 0o600, 5, 1));
        let mut stamp = Entry::file(guest::STAMP, 0o644, Vec::new());
        stamp.mtime = 1;
        p.entries.push(stamp);
        p.entries.push(Entry::file("init", 0o755, init.as_bytes().to_vec()));
        p.entries.push(Entry::file("bin/busybox", 0o755, busybox.to_vec()));
        p.entries.push(Entry::file("bin/sockdiff", 0o755, sockdiff.to_vec()));
        let mut dirs = BTreeSet::new();
        let mut files = BTreeSet::new();
        add_parents(checkout, &mut dirs);
        walk(&checkout.join("corpus"), &mut dirs, &mut files)?;
        if let Ok(rd) = std::fs::read_dir(checkout.join("reports")) {
            for e in rd.flatten() {
                if e.path().is_dir() {
                    add_parents(&e.path(), &mut dirs);
                }
            }
        }
        for a in args {
            let value = a.split_once('=').filter(|_| a.starts_with("--")).map_or(a.as_str(), |(_, v)| v);
            let path = checkout.join(value);
            if value.is_empty() || !path.exists() {
                continue;
            }
            let path = path.canonicalize().map_err(|e| VmError(format!("{}: {e}", path.display())))?;
            if path == Path::new("/") || path == checkout {
                return Err(VmError(format!(
                    "the command names {}: copying all of it into the guest is too much (name the files or folders it needs)",
                    path.display()
                )));
            }
            walk(&path, &mut dirs, &mut files)?;
        }
        let mut total: u64 = 0;
        for d in &dirs {
            p.entries.push(Entry::dir(&strip_root(d)));
        }
        for abs in files {
            let data = std::fs::read(&abs).map_err(|e| VmError(format!("{}: {e}", abs.display())))?;
            total += data.len() as u64;
            if total > MAX_FILES {
                return Err(VmError(format!(
                    "the files for the guest come to more than {} MiB: name fewer",
                    MAX_FILES >> 20
                )));
            }
            if let Ok(rel) = abs.strip_prefix(checkout) {
                p.sent.insert(rel.to_path_buf(), data.clone());
            }
            p.entries.push(Entry::file(&strip_root(&abs), 0o644, data));
        }
        Ok(p)
    }
}

fn strip_root(p: &Path) -> String {
    p.to_string_lossy().trim_start_matches('/').to_string()
}

fn add_parents(p: &Path, dirs: &mut BTreeSet<PathBuf>) {
    for a in p.ancestors() {
        if a != Path::new("/") && !a.as_os_str().is_empty() {
            dirs.insert(a.to_path_buf());
        }
    }
}

/// Adds a file, or a folder's files and folders (leaving out `target` and
/// `.git`, and symbolic links), by absolute path.
fn walk(path: &Path, dirs: &mut BTreeSet<PathBuf>, files: &mut BTreeSet<PathBuf>) -> Result<(), VmError> {
    let io = |e: std::io::Error| VmError(format!("{}: {e}", path.display()));
    let meta = std::fs::symlink_metadata(path).map_err(io)?;
    if meta.is_file() {
        if let Some(parent) = path.parent() {
            add_parents(parent, dirs);
        }
        files.insert(path.to_path_buf());
    } else if meta.is_dir() {
        add_parents(path, dirs);
        for e in std::fs::read_dir(path).map_err(io)? {
            let child = e.map_err(io)?.path();
            if child.file_name().is_some_and(|n| n == "target" || n == ".git") {
                continue;
            }
            walk(&child, dirs, files)?;
        }
    }
    Ok(())
}

/// What happened to the files the guest sent back.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WriteBack {
    /// Written into the checkout, by path relative to it.
    pub written: Vec<PathBuf>,
    /// Left as they are on the host, with the reason; the guest's version
    /// is under the run's `kept/` folder.
    pub kept: Vec<(PathBuf, String)>,
}

/// A path the guest sent, if it is a plain relative path inside the
/// checkout (no `..`, not absolute).
fn safe_relative(name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    let plain = p.components().all(|c| matches!(c, Component::Normal(_)));
    (plain && !name.is_empty()).then(|| p.to_path_buf())
}

/// Writes the guest's files into `checkout` where that is safe (see the
/// module's comment); the others go to `kept_dir`.
pub fn write_back(
    entries: &[Entry],
    checkout: &Path,
    sent: &BTreeMap<PathBuf, Vec<u8>>,
    kept_dir: &Path,
) -> Result<WriteBack, VmError> {
    let io = |p: &Path, e: std::io::Error| VmError(format!("{}: {e}", p.display()));
    let mut wb = WriteBack::default();
    for e in entries {
        let Some(rel) = safe_relative(&e.name) else {
            wb.kept.push((PathBuf::from(&e.name), "not a plain path inside the checkout".into()));
            continue;
        };
        let host = checkout.join(&rel);
        if e.is_dir() {
            std::fs::create_dir_all(&host).map_err(|err| io(&host, err))?;
            continue;
        }
        if !e.is_file() {
            continue;
        }
        let now = std::fs::read(&host).ok();
        if now.as_deref() == Some(&e.data[..]) {
            continue;
        }
        let conflict = match (&now, sent.get(&rel)) {
            (None, _) => None,
            (Some(now), Some(was)) if now == was => None,
            (Some(_), Some(_)) => Some("changed on the host while the guest ran"),
            (Some(_), None) => Some("exists on the host and the guest never saw it"),
        };
        if let Some(why) = conflict {
            let keep = kept_dir.join(&rel);
            if let Some(parent) = keep.parent() {
                std::fs::create_dir_all(parent).map_err(|err| io(parent, err))?;
            }
            std::fs::write(&keep, &e.data).map_err(|err| io(&keep, err))?;
            wb.kept.push((rel, why.into()));
            continue;
        }
        if let Some(parent) = host.parent() {
            std::fs::create_dir_all(parent).map_err(|err| io(parent, err))?;
        }
        crate::report::write_atomic(&host, &e.data).map_err(|err| VmError(err.to_string()))?;
        wb.written.push(rel);
    }
    Ok(wb)
}

/// The written files grouped for a summary by their first two folders
/// (`reports/<run>`, `corpus/linux`), with a count each.
pub fn groups(paths: &[PathBuf]) -> Vec<(String, usize)> {
    let mut g: BTreeMap<String, usize> = BTreeMap::new();
    for p in paths {
        let parts: Vec<String> = p.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let key = if parts.len() > 2 {
            format!("{}/{}", parts[0], parts[1])
        } else if parts.len() > 1 {
            parts[..parts.len() - 1].join("/")
        } else {
            ".".into()
        };
        *g.entry(key).or_default() += 1;
    }
    g.into_iter().collect()
}

/// Reads the archive the guest sent: gzip, undone by `busybox gzip -dc`
/// (the static busybox the guest has, which runs here too), then cpio.
pub fn read_archive(gz: &[u8], busybox: &Path) -> Result<Vec<Entry>, VmError> {
    let what = "the files the guest sent back";
    let mut child = Command::new(busybox)
        .args(["gzip", "-dc"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| VmError(format!("{what}: cannot run {} gzip: {e}", busybox.display())))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let out = std::thread::scope(|s| {
        s.spawn(move || {
            use std::io::Write;
            // A failure shows as gzip's own error below.
            let _ = stdin.write_all(gz);
        });
        child.wait_with_output()
    })
    .map_err(|e| VmError(format!("{what}: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(VmError(format!("{what}: gzip -dc: {}", err.trim())));
    }
    cpio::read(&out.stdout).map_err(|e| VmError(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sockdiff-vm-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_static_build_passes_and_a_dynamic_one_is_named() {
        // A minimal ELF64 x86-64 header with one program header of type `ty`.
        let elf = |ty: u32| {
            let mut b = vec![0u8; 64 + 56];
            b[..6].copy_from_slice(b"\x7fELF\x02\x01");
            b[0x12] = 0x3e;
            b[0x20] = 64; // e_phoff
            b[0x36] = 56; // e_phentsize
            b[0x38] = 1; // e_phnum
            b[64..68].copy_from_slice(&ty.to_le_bytes());
            b
        };
        assert_eq!(check_static(&elf(1)), Ok(()));
        assert!(check_static(&elf(3)).unwrap_err().starts_with("dynamically linked"));
        assert_eq!(check_static(b"#!/bin/sh\n"), Err("not an ELF executable".into()));
        let mut arm = elf(1);
        arm[0x12] = 0xb7;
        assert_eq!(check_static(&arm), Err("not built for x86-64".into()));
        assert!(check_static(&elf(1)[..66]).is_err());
    }

    #[test]
    fn the_binary_this_test_runs_in_is_checked_like_any_other() {
        // A test binary of a glibc host is dynamic; of a musl build, static.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let dynamic = cfg!(target_env = "gnu");
        assert_eq!(check_static(&me).is_err(), dynamic);
    }

    #[test]
    fn only_plain_relative_paths_come_back() {
        assert_eq!(safe_relative("reports/r1/summary.json"), Some(PathBuf::from("reports/r1/summary.json")));
        assert_eq!(safe_relative("../etc/passwd"), None);
        assert_eq!(safe_relative("a/../../b"), None);
        assert_eq!(safe_relative("/etc/passwd"), None);
        assert_eq!(safe_relative(""), None);
    }

    #[test]
    fn the_write_back_writes_new_and_untouched_files_and_keeps_the_rest() {
        let d = tmp("writeback");
        let (co, kept) = (d.join("co"), d.join("kept"));
        std::fs::create_dir_all(co.join("corpus")).unwrap();
        std::fs::write(co.join("corpus/same.case"), "old").unwrap();
        std::fs::write(co.join("corpus/edited.case"), "edited on the host").unwrap();
        std::fs::write(co.join("corpus/unseen.case"), "host").unwrap();
        std::fs::write(co.join("corpus/equal.case"), "equal").unwrap();
        let sent: BTreeMap<PathBuf, Vec<u8>> =
            [("corpus/same.case", "old"), ("corpus/edited.case", "as sent"), ("corpus/equal.case", "equal")]
                .into_iter()
                .map(|(p, t)| (PathBuf::from(p), t.as_bytes().to_vec()))
                .collect();
        let back = vec![
            Entry::dir("reports/r1/cases"),
            Entry::file("reports/r1/summary.json", 0o644, b"{}".to_vec()),
            Entry::file("corpus/same.case", 0o644, b"recorded".to_vec()),
            Entry::file("corpus/edited.case", 0o644, b"recorded".to_vec()),
            Entry::file("corpus/unseen.case", 0o644, b"guest".to_vec()),
            Entry::file("corpus/equal.case", 0o644, b"equal".to_vec()),
            Entry::file("../escape", 0o644, b"x".to_vec()),
        ];
        let wb = write_back(&back, &co, &sent, &kept).unwrap();
        assert_eq!(wb.written, [PathBuf::from("reports/r1/summary.json"), PathBuf::from("corpus/same.case")]);
        let kept_names: Vec<&str> = wb.kept.iter().map(|(p, _)| p.to_str().unwrap()).collect();
        assert_eq!(kept_names, ["corpus/edited.case", "corpus/unseen.case", "../escape"]);
        assert!(co.join("reports/r1/cases").is_dir());
        assert_eq!(std::fs::read_to_string(co.join("corpus/same.case")).unwrap(), "recorded");
        assert_eq!(std::fs::read_to_string(co.join("corpus/edited.case")).unwrap(), "edited on the host");
        assert_eq!(std::fs::read_to_string(kept.join("corpus/edited.case")).unwrap(), "recorded");
        assert!(!d.join("escape").exists());
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn written_files_are_summed_up_by_run_folder_or_parent() {
        let paths: Vec<PathBuf> = [
            "reports/r1/summary.json",
            "reports/r1/cases/a.case",
            "corpus/linux/x.case",
            "corpus/linux/v6/y.case",
            "out.csv",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        assert_eq!(
            groups(&paths),
            [(".".to_string(), 1), ("corpus/linux".to_string(), 2), ("reports/r1".to_string(), 2)]
        );
    }

    #[test]
    fn the_payload_mirrors_the_checkout_and_the_named_paths() {
        let d = tmp("payload");
        let co = d.join("co");
        std::fs::create_dir_all(co.join("corpus/linux")).unwrap();
        std::fs::create_dir_all(co.join("reports/old-run")).unwrap();
        std::fs::create_dir_all(co.join("extra/target")).unwrap();
        std::fs::write(co.join("corpus/linux/a.case"), "a = socket tcp4\n").unwrap();
        std::fs::write(co.join("extra/b.case"), "b = socket udp4\n").unwrap();
        std::fs::write(co.join("extra/target/big"), "left out").unwrap();
        std::fs::write(co.join("reports/old-run/summary.json"), "{}").unwrap();
        let co = co.canonicalize().unwrap();
        let args: Vec<String> = ["replay", "extra", "--csv=out.csv"].iter().map(|s| s.to_string()).collect();
        let p = Payload::collect(&co, &args, "#!/bin/busybox sh\n", b"bb", b"sd").unwrap();
        let names: Vec<&str> = p.entries.iter().map(|e| e.name.as_str()).collect();
        let rel = |s: &str| format!("{}/{s}", co.to_string_lossy().trim_start_matches('/'));
        assert!(names.contains(&"init") && names.contains(&"bin/sockdiff") && names.contains(&"dev/console"));
        assert!(names.contains(&rel("corpus/linux/a.case").as_str()));
        assert!(names.contains(&rel("extra/b.case").as_str()));
        assert!(names.contains(&rel("reports/old-run").as_str()), "run folder names go in, empty");
        assert!(!names.contains(&rel("reports/old-run/summary.json").as_str()));
        assert!(!names.iter().any(|n| n.contains("target")));
        assert_eq!(p.sent.keys().collect::<Vec<_>>(), [Path::new("corpus/linux/a.case"), Path::new("extra/b.case")]);
        let stamp = p.entries.iter().find(|e| e.name == guest::STAMP).unwrap();
        assert!(p.entries.iter().filter(|e| e.name != guest::STAMP).all(|e| e.mtime < stamp.mtime));
        let _ = std::fs::remove_dir_all(&d);
    }
}
