//! qemu: where it comes from, and one boot of a guest under a time limit.
//!
//! The qemu used is, in this order: `--qemu PATH`; the one unpacked in the
//! cache before; `qemu-system-x86_64` on PATH; else Debian's packages,
//! fetched with `apt-get download` and unpacked with `dpkg-deb -x` into
//! `target/vm/qemu/<version>/root/`, with the shared libraries it needs
//! that the system lacks (the ones `apt-get -s install` would add for the
//! `lib*` dependencies of `qemu-system-x86`). Nothing is installed or
//! removed: installing `qemu-system-x86` for real could remove a newer
//! `qemu-utils` (Debian 12's qemu 7.2 packages break qemu-utils 10 from
//! backports). The unpacked qemu runs with `LD_LIBRARY_PATH` and
//! `QEMU_MODULE_DIR` pointing into the cache and firmware from it (`-L`).
//!
//! A boot uses the `pc` machine with no default devices and no network
//! device at all; the guest's four serial ports are the kernel console (a
//! file) and three FIFO pairs (qemu's `pipe` character device) that the
//! host reads without blocking: the command's stdout and stderr, streamed
//! as they come, and the control port. qemu runs in its own process group
//! (Ctrl-C reaches only sockdiff, which asks the guest to stop) and dies
//! with sockdiff (`PR_SET_PDEATHSIG`).

use super::{VmError, apt};
use std::ffi::{CString, OsString};
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A qemu to run.
#[derive(Clone, Debug)]
pub struct Qemu {
    pub binary: PathBuf,
    /// Where an unpacked qemu's files are (`…/root`), if it is one.
    root: Option<PathBuf>,
    /// First line of `--version`.
    pub version: String,
}

impl Qemu {
    /// A command for this qemu, with its libraries and modules.
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        if let Some(root) = &self.root {
            let mut libs: OsString = root.join("usr/lib/x86_64-linux-gnu").into();
            libs.push(":");
            libs.push(root.join("lib/x86_64-linux-gnu"));
            if let Some(old) = std::env::var_os("LD_LIBRARY_PATH").filter(|v| !v.is_empty()) {
                libs.push(":");
                libs.push(old);
            }
            cmd.env("LD_LIBRARY_PATH", libs);
            cmd.env("QEMU_MODULE_DIR", root.join("usr/lib/x86_64-linux-gnu/qemu"));
        }
        cmd
    }

    /// Where an unpacked qemu finds its firmware.
    fn firmware_args(&self) -> Vec<OsString> {
        let Some(root) = &self.root else { return Vec::new() };
        let mut a = Vec::new();
        for d in ["usr/share/qemu", "usr/share/seabios"] {
            a.push("-L".into());
            a.push(root.join(d).into());
        }
        a
    }

    fn with_version(binary: PathBuf, root: Option<PathBuf>) -> Result<Qemu, VmError> {
        let mut q = Qemu { binary, root, version: String::new() };
        let out = apt::run_tool(q.command().arg("--version"))?;
        q.version = out.lines().next().unwrap_or("qemu").trim().to_string();
        Ok(q)
    }
}

/// Finds or sets up qemu (see the module's comment).
pub fn find(explicit: Option<&Path>, cache: &Path) -> Result<Qemu, VmError> {
    if let Some(p) = explicit {
        return Qemu::with_version(p.to_path_buf(), None).map_err(|e| VmError(format!("--qemu {}: {e}", p.display())));
    }
    let base = cache.join("qemu");
    let mut ready: Vec<PathBuf> = std::fs::read_dir(&base)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|d| d.join("ready").is_file())
        .collect();
    ready.sort();
    if let Some(dir) = ready.pop() {
        let root = dir.join("root");
        return Qemu::with_version(root.join("usr/bin/qemu-system-x86_64"), Some(root));
    }
    if let Some(p) = on_path("qemu-system-x86_64") {
        return Qemu::with_version(p, None);
    }
    if !apt::available() {
        return Err(VmError(
            "qemu-system-x86_64 is missing and cannot be installed here (no apt-get, dpkg-deb): install QEMU or give --qemu PATH"
                .into(),
        ));
    }
    set_up(&base)
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|p| p.is_file())
}

/// The version apt would fetch of `name`, after an `apt-get update` if
/// apt does not know it yet.
fn candidate(name: &str) -> Result<String, VmError> {
    if let Some(v) = apt::candidate(name)? {
        return Ok(v);
    }
    apt::update()?;
    apt::candidate(name)?.ok_or_else(|| {
        VmError(format!("qemu-system-x86_64 is missing and cannot be installed: apt has no package {name}"))
    })
}

/// Fetches qemu and what it needs into `base/<version>/root`.
fn set_up(base: &Path) -> Result<Qemu, VmError> {
    let version = candidate("qemu-system-x86")?;
    let dir = base.join(version.replace(':', "%3a"));
    let root = dir.join("root");
    let _ = std::fs::remove_dir_all(&dir);
    let mut pkgs = vec![("qemu-system-x86".to_string(), version.clone())];
    // The TCG accelerator is a module in qemu-system-common; firmware in
    // qemu-system-data (the option ROMs) and seabios (the BIOS of `pc`).
    for p in ["qemu-system-common", "qemu-system-data", "seabios"] {
        pkgs.push((p.to_string(), candidate(p)?));
    }
    let libs: Vec<String> = apt::depends("qemu-system-x86")?.into_iter().filter(|d| d.starts_with("lib")).collect();
    let (plan, _) = apt::simulate_install(&libs)?;
    let missing: Vec<(String, String)> = plan.into_iter().filter(|p| !p.upgrade).map(|p| (p.name, p.version)).collect();
    eprintln!(
        "vm: qemu-system-x86 {version}: apt-get download it, qemu-system-common, qemu-system-data, seabios and {} librar{} the system lacks ({}); dpkg-deb -x into {} (nothing is installed)",
        missing.len(),
        if missing.len() == 1 { "y" } else { "ies" },
        missing.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(" "),
        root.display()
    );
    pkgs.extend(missing);
    apt::download_and_unpack(&pkgs, &dir.join("debs"), &root)?;
    let q = Qemu::with_version(root.join("usr/bin/qemu-system-x86_64"), Some(root))?;
    let list: Vec<String> = pkgs.iter().map(|(n, v)| format!("{n} {v}\n")).collect();
    std::fs::write(dir.join("ready"), list.concat()).map_err(|e| VmError(format!("{}: {e}", dir.display())))?;
    Ok(q)
}

/// How qemu runs the guest's CPUs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accel {
    /// Software emulation.
    Tcg,
    /// Hardware virtualization.
    Kvm,
}

impl std::fmt::Display for Accel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Accel::Tcg => "TCG",
            Accel::Kvm => "KVM",
        })
    }
}

/// One boot.
pub struct Boot<'a> {
    pub qemu: &'a Qemu,
    pub kernel: &'a Path,
    pub initrd: &'a Path,
    /// The kernel command line.
    pub append: String,
    pub accel: Accel,
    pub cpus: u32,
    pub memory_mib: u32,
    /// A folder for the console log, qemu's messages and the FIFOs.
    pub dir: &'a Path,
    pub timeout: Duration,
    /// Stream the guest's stdout and stderr to ours (else drop them).
    pub forward: bool,
}

/// How a boot ended.
#[derive(Debug)]
pub struct Ended {
    /// What the guest wrote on its control port.
    pub control: String,
    /// From qemu's start to its end (or to the kill).
    pub elapsed: Duration,
    /// From qemu's start to the guest's start line.
    pub booted: Option<Duration>,
    /// Killed at the time limit.
    pub timed_out: bool,
    pub status: Option<ExitStatus>,
}

impl Boot<'_> {
    pub fn console_log(&self) -> PathBuf {
        self.dir.join("console.log")
    }

    pub fn qemu_log(&self) -> PathBuf {
        self.dir.join("qemu.log")
    }

    fn args(&self) -> Vec<OsString> {
        let mut a: Vec<OsString> = Vec::new();
        let mut push = |s: &str| a.push(s.into());
        push("-M");
        push("pc");
        push("-accel");
        push(match self.accel {
            Accel::Tcg => "tcg",
            Accel::Kvm => "kvm",
        });
        for s in ["-smp", &self.cpus.to_string(), "-m", &self.memory_mib.to_string()] {
            push(s);
        }
        for s in ["-nodefaults", "-no-user-config", "-nic", "none", "-display", "none", "-no-reboot"] {
            push(s);
        }
        let mut chardev = |id: &str, spec: String| {
            a.push("-chardev".into());
            a.push(format!("{spec},id={id}").into());
            a.push("-serial".into());
            a.push(format!("chardev:{id}").into());
        };
        // qemu's option syntax doubles a comma inside a value.
        let quoted = |p: &Path| p.display().to_string().replace(',', ",,");
        chardev("console", format!("file,path={}", quoted(&self.console_log())));
        for id in ["out", "err", "ctl"] {
            chardev(id, format!("pipe,path={}", quoted(&self.dir.join(id))));
        }
        a.push("-kernel".into());
        a.push(self.kernel.into());
        a.push("-initrd".into());
        a.push(self.initrd.into());
        a.push("-append".into());
        a.push(self.append.clone().into());
        a
    }
}

fn mkfifo(path: &Path) -> Result<(), VmError> {
    let _ = std::fs::remove_file(path);
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| VmError(format!("{}: bad path", path.display())))?;
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        return Err(VmError(format!("cannot make FIFO {}: {}", path.display(), std::io::Error::last_os_error())));
    }
    Ok(())
}

fn open_nonblocking(path: &Path, write: bool) -> Result<File, VmError> {
    OpenOptions::new()
        .read(true)
        .write(write)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| VmError(format!("{}: {e}", path.display())))
}

/// Reads what is there now from a non-blocking FIFO.
fn drain(src: &mut File, sink: &mut dyn FnMut(&[u8])) {
    let mut buf = [0u8; 1 << 16];
    loop {
        match src.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => sink(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
    }
}

/// Copies bytes to a stream until it fails (a reader that went away).
struct Forward<W: Write> {
    to: W,
    on: bool,
}

impl<W: Write> Forward<W> {
    fn put(&mut self, bytes: &[u8]) {
        if self.on && (self.to.write_all(bytes).is_err() || self.to.flush().is_err()) {
            self.on = false;
        }
    }
}

/// Boots, streams, and waits for qemu to end or the time limit.
pub fn boot(b: &Boot) -> Result<Ended, VmError> {
    std::fs::create_dir_all(b.dir).map_err(|e| VmError(format!("{}: {e}", b.dir.display())))?;
    for id in ["out", "err", "ctl"] {
        mkfifo(&b.dir.join(format!("{id}.in")))?;
        mkfifo(&b.dir.join(format!("{id}.out")))?;
    }
    let mut out = open_nonblocking(&b.dir.join("out.out"), false)?;
    let mut err = open_nonblocking(&b.dir.join("err.out"), false)?;
    let mut ctl = open_nonblocking(&b.dir.join("ctl.out"), false)?;
    // Open for writing too, so that it never blocks and never fails for
    // want of a reader.
    let mut ctl_in = open_nonblocking(&b.dir.join("ctl.in"), true)?;
    let log = File::create(b.qemu_log()).map_err(|e| VmError(format!("{}: {e}", b.qemu_log().display())))?;
    let mut cmd = b.qemu.command();
    cmd.args(b.qemu.firmware_args())
        .args(b.args())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .process_group(0);
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let t0 = Instant::now();
    let mut child = cmd.spawn().map_err(|e| VmError(format!("cannot run {}: {e}", b.qemu.binary.display())))?;
    let mut stdout = Forward { to: std::io::stdout(), on: b.forward };
    let mut stderr = Forward { to: std::io::stderr(), on: b.forward };
    let mut control = Vec::new();
    let mut booted = None;
    let mut asked_to_stop = false;
    let (status, timed_out) = loop {
        drain(&mut out, &mut |x| stdout.put(x));
        drain(&mut err, &mut |x| stderr.put(x));
        drain(&mut ctl, &mut |x| control.extend_from_slice(x));
        if booted.is_none() && control.windows(super::guest::START.len()).any(|w| w == super::guest::START.as_bytes()) {
            booted = Some(t0.elapsed());
        }
        if crate::interrupt::requested() && !asked_to_stop && booted.is_some() {
            asked_to_stop = true;
            let _ = ctl_in.write_all(b"x");
            eprintln!("\nvm: asked the guest's command to stop (Ctrl-C again ends sockdiff and the guest at once)");
        }
        match child.try_wait() {
            Ok(Some(status)) => break (Some(status), false),
            Ok(None) => {}
            Err(e) => return Err(VmError(format!("waiting for qemu: {e}"))),
        }
        if t0.elapsed() > b.timeout {
            let _ = child.kill();
            let status = child.wait().ok();
            break (status, true);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drain(&mut out, &mut |x| stdout.put(x));
    drain(&mut err, &mut |x| stderr.put(x));
    drain(&mut ctl, &mut |x| control.extend_from_slice(x));
    // Kept beside the console log, for a look when something went wrong.
    let _ = std::fs::write(b.dir.join("control.log"), &control);
    Ok(Ended {
        control: String::from_utf8_lossy(&control).into_owned(),
        elapsed: t0.elapsed(),
        booted,
        timed_out,
        status,
    })
}

/// The last line qemu wrote on stderr, for an error message.
pub fn last_message(b: &Boot) -> Option<String> {
    let text = std::fs::read_to_string(b.qemu_log()).ok()?;
    text.lines().rev().find(|l| !l.trim().is_empty()).map(|l| l.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_boot_has_no_network_device_and_four_serial_ports() {
        let q = Qemu { binary: "qemu".into(), root: None, version: String::new() };
        let b = Boot {
            qemu: &q,
            kernel: Path::new("/k/vmlinuz"),
            initrd: Path::new("/r/initrd.cpio"),
            append: "console=ttyS0".into(),
            accel: Accel::Tcg,
            cpus: 2,
            memory_mib: 1024,
            dir: Path::new("/d"),
            timeout: Duration::from_secs(1),
            forward: false,
        };
        let args: Vec<String> = b.args().iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let line = args.join(" ");
        assert!(line.starts_with("-M pc -accel tcg -smp 2 -m 1024 -nodefaults -no-user-config -nic none "), "{line}");
        assert_eq!(args.iter().filter(|a| *a == "-serial").count(), 4);
        assert!(line.contains("-chardev file,path=/d/console.log,id=console -serial chardev:console"));
        assert!(line.contains("-chardev pipe,path=/d/ctl,id=ctl -serial chardev:ctl"));
        assert!(line.ends_with("-kernel /k/vmlinuz -initrd /r/initrd.cpio -append console=ttyS0"));
        assert!(!line.contains("netdev") && !line.contains("-device"));
    }
}
