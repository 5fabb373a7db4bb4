//! `sockdiff vm`: runs one sockdiff command inside another Linux kernel
//! under qemu and brings its results back: its stdout and stderr as they
//! come, its exit status, and every file it wrote under the checkout.
//!
//! The steps, each reusing what the cache (`target/vm/` of the checkout)
//! holds from an earlier run: the kernel (a Debian series fetched with apt,
//! [`kernel`], or a `vmlinuz` given), qemu ([`qemu`]: unpacked from
//! Debian's packages, nothing installed), busybox, a static (musl) build of
//! sockdiff from the checkout ([`payload`]), an initramfs ([`cpio`]) with
//! those, an init script ([`guest`]), the checkout's `corpus/` and the
//! paths the command names; then a boot: under KVM only when a short probe
//! boot under KVM really finished (a `/dev/kvm` whose guests hang exists),
//! else under TCG, always under a time limit.
//!
//! This is below the command line (it knows nothing of clap); Linux hosts
//! only. It is not a sandbox for untrusted commands: the guest's files
//! come back into the checkout.

pub mod apt;
pub mod cpio;
pub mod guest;
pub mod kernel;
pub mod payload;
pub mod qemu;

use qemu::Accel;
use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why the `vm` command could not do its job (exit 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmError(pub String);

impl fmt::Display for VmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for VmError {}

/// How to pick the accelerator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccelChoice {
    /// KVM if a probe boot under KVM finishes, else TCG.
    Auto,
    Tcg,
    Kvm,
}

/// What to run, where.
#[derive(Clone, Debug)]
pub struct Options {
    /// `--kernel`: a series name or a path to a vmlinuz.
    pub kernel: String,
    /// The sockdiff arguments for the guest.
    pub command: Vec<String>,
    /// Kill the guest after this long.
    pub timeout: Duration,
    pub accel: AccelChoice,
    pub cpus: u32,
    /// A static sockdiff to use instead of building one.
    pub binary: Option<PathBuf>,
    /// A qemu-system-x86_64 to use.
    pub qemu: Option<PathBuf>,
}

/// Guest memory: room for the initramfs (about 30 MiB, unpacked once
/// more) and the command.
const MEMORY_MIB: u32 = 1024;
/// How long a probe boot may take. Under TCG a boot takes 2-4 s here; a
/// KVM that works is faster.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the command in the guest; returns its exit status (0, 1 or 2).
pub fn run(o: &Options) -> Result<u8, VmError> {
    // Ctrl-C from here on asks the guest's command to stop; before the
    // boot, it stops the setup at the next step.
    crate::interrupt::install();
    let checkout = payload::checkout()?;
    let cache = checkout.join("target").join("vm");
    let kernel = kernel::resolve(&o.kernel, &cache)?;
    let qemu = qemu::find(o.qemu.as_deref(), &cache)?;
    eprintln!("vm: {}", qemu.version);
    let busybox_path = payload::busybox(&cache)?;
    let busybox = std::fs::read(&busybox_path).map_err(|e| VmError(format!("{}: {e}", busybox_path.display())))?;
    let (binary_path, what) = match &o.binary {
        Some(b) => (b.clone(), "--binary"),
        None => (payload::build(&checkout)?, "the build"),
    };
    let sockdiff = std::fs::read(&binary_path).map_err(|e| VmError(format!("{}: {e}", binary_path.display())))?;
    payload::check_static(&sockdiff)
        .map_err(|e| VmError(format!("{what} {}: the guest needs a static build: {e}", binary_path.display())))?;

    let plan = guest::Plan {
        workdir: checkout.to_string_lossy().into_owned(),
        args: o.command.clone(),
        terminal: terminal_size(),
    };
    let init = guest::init_script(&plan);
    let payload = payload::Payload::collect(&checkout, &o.command, &init, &busybox, &sockdiff)?;
    let dir = cache.join("runs").join(format!("{}-{}", std::process::id(), unix_millis()));
    std::fs::create_dir_all(&dir).map_err(|e| VmError(format!("{}: {e}", dir.display())))?;
    let initrd = dir.join("initrd.cpio");
    std::fs::write(&initrd, cpio::write(&payload.entries))
        .map_err(|e| VmError(format!("{}: {e}", initrd.display())))?;

    let stopped = || VmError("stopped (Ctrl-C) before the guest's command ran".into());
    if crate::interrupt::requested() {
        return Err(stopped());
    }
    let accel = choose_accel(o.accel, &qemu, &kernel, &initrd, &dir, &cache)?;
    if crate::interrupt::requested() {
        return Err(stopped());
    }
    let boot = qemu::Boot {
        qemu: &qemu,
        kernel: &kernel.vmlinuz,
        initrd: &initrd,
        append: "console=ttyS0 quiet panic=-1".into(),
        accel,
        cpus: o.cpus,
        memory_mib: MEMORY_MIB,
        dir: &dir,
        timeout: o.timeout,
        forward: true,
    };
    eprintln!(
        "vm: booting {} under {accel} ({} vCPUs, {MEMORY_MIB} MiB, no network device), time limit {}s: sockdiff {}",
        kernel.label,
        o.cpus,
        o.timeout.as_secs(),
        o.command.join(" ")
    );
    let ended = qemu::boot(&boot)?;
    let console = boot.console_log();
    if ended.timed_out {
        return Err(VmError(format!(
            "the guest did not finish within {}s and was killed (raise --timeout; console log: {})",
            o.timeout.as_secs(),
            console.display()
        )));
    }
    let report = guest::parse_report(&ended.control).map_err(|e| match e {
        guest::ReportError::NoStart => VmError(format!(
            "the guest never started its command ({}; console log: {})",
            qemu::last_message(&boot).unwrap_or_else(|| format!("qemu ended with {:?}", ended.status)),
            console.display()
        )),
        guest::ReportError::Unfinished => VmError(format!(
            "the guest ended before it reported the command's exit status{} (console log: {})",
            panic_line(&console).map_or(String::new(), |l| format!(": its kernel said '{l}'")),
            console.display()
        )),
        guest::ReportError::Bad(why) => VmError(format!("the guest's report is damaged: {why}")),
    })?;
    let entries = payload::read_archive(&report.archive_gz, &busybox_path)?;
    let kept_dir = dir.join("kept");
    let wb = payload::write_back(&entries, &checkout, &payload.sent, &kept_dir)?;

    let booted = ended.booted.map_or("?".to_string(), |b| format!("{:.1}", b.as_secs_f64()));
    eprintln!(
        "vm: {} under {accel}: booted in {booted} s, {:.1} s in all; the command exited {}",
        kernel.label,
        ended.elapsed.as_secs_f64(),
        report.status
    );
    if !wb.written.is_empty() {
        let groups: Vec<String> = payload::groups(&wb.written)
            .into_iter()
            .map(|(g, n)| format!("{g}/ ({n} file{})", if n == 1 { "" } else { "s" }))
            .collect();
        eprintln!("vm: written back into the checkout: {}", groups.join(", "));
    }
    for (p, why) in &wb.kept {
        eprintln!(
            "warning: {} not written back ({why}); the guest's version is in {}",
            p.display(),
            kept_dir.display()
        );
    }
    for p in &report.outside {
        eprintln!("warning: the guest wrote {p}, outside the checkout: not brought back");
    }
    let _ = std::fs::remove_file(&initrd);
    if wb.kept.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    match report.status {
        s @ 0..=2 => Ok(s as u8),
        s => Err(VmError(format!("the guest's command ended with status {s} (not 0, 1 or 2)"))),
    }
}

/// The guest kernel's panic message, if the console log has one.
fn panic_line(console: &Path) -> Option<String> {
    let text = std::fs::read_to_string(console).ok()?;
    let line = text.lines().find(|l| l.contains("Kernel panic - not syncing"))?;
    Some(line.split("] ").nth(1).unwrap_or(line).trim().to_string())
}

fn unix_millis() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis())
}

/// The size of the terminal on stderr, when stderr is one.
fn terminal_size() -> Option<(u16, u16)> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    if unsafe { libc::ioctl(2, libc::TIOCGWINSZ as _, &mut ws) } != 0 || ws.ws_col == 0 {
        return Some((24, 80));
    }
    Some((ws.ws_row, ws.ws_col))
}

/// The accelerator for the boot: as asked, or for `auto` KVM only when a
/// probe boot under KVM finishes within [`PROBE_TIMEOUT`]. The verdict is
/// kept in the cache per host boot (`/proc/sys/kernel/random/boot_id`)
/// and kernel.
fn choose_accel(
    choice: AccelChoice,
    qemu: &qemu::Qemu,
    kernel: &kernel::Kernel,
    initrd: &Path,
    dir: &Path,
    cache: &Path,
) -> Result<Accel, VmError> {
    match choice {
        AccelChoice::Tcg => return Ok(Accel::Tcg),
        AccelChoice::Kvm => return Ok(Accel::Kvm),
        AccelChoice::Auto => {}
    }
    if std::fs::OpenOptions::new().read(true).write(true).open("/dev/kvm").is_err() {
        eprintln!("vm: no /dev/kvm to open: TCG");
        return Ok(Accel::Tcg);
    }
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let size = std::fs::metadata(&kernel.vmlinuz).map_or(0, |m| m.len());
    let key = format!("{} {} {size}", boot_id.trim(), kernel.vmlinuz.display());
    let verdicts = cache.join("kvm-probe");
    let known = std::fs::read_to_string(&verdicts).unwrap_or_default();
    if let Some(v) = known.lines().find_map(|l| l.strip_prefix(&key).map(str::trim)) {
        let accel = if v == "kvm" { Accel::Kvm } else { Accel::Tcg };
        eprintln!("vm: KVM probe of this kernel since the host booted: {v} ({accel})");
        return Ok(accel);
    }
    let probe = qemu::Boot {
        qemu,
        kernel: &kernel.vmlinuz,
        initrd,
        append: format!("console=ttyS0 quiet panic=-1 {}", guest::PROBE_ARG),
        accel: Accel::Kvm,
        cpus: 1,
        memory_mib: MEMORY_MIB,
        dir: &dir.join("kvm-probe"),
        timeout: PROBE_TIMEOUT,
        forward: false,
    };
    let ended = qemu::boot(&probe)?;
    let ok = !ended.timed_out && ended.control.contains(guest::PROBE_OK);
    let (accel, verdict) = if ok {
        eprintln!("vm: KVM probe boot finished in {:.1} s: KVM", ended.elapsed.as_secs_f64());
        (Accel::Kvm, "kvm")
    } else if ended.timed_out {
        eprintln!("vm: KVM probe boot did not finish within {}s (qemu killed): TCG", PROBE_TIMEOUT.as_secs());
        (Accel::Tcg, "hangs")
    } else {
        let why = qemu::last_message(&probe).unwrap_or_else(|| "no answer".into());
        eprintln!("vm: KVM probe boot failed ({why}): TCG");
        (Accel::Tcg, "fails")
    };
    let _ = std::fs::write(&verdicts, format!("{known}{key} {verdict}\n"));
    Ok(accel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kernel_panic_on_the_console_is_quoted() {
        let p = std::env::temp_dir().join(format!("sockdiff-vm-console-{}", std::process::id()));
        std::fs::write(
            &p,
            "[   38.6] Oops: double fault\n[   38.7] Kernel panic - not syncing: Fatal exception in interrupt\n",
        )
        .unwrap();
        assert_eq!(panic_line(&p).as_deref(), Some("Kernel panic - not syncing: Fatal exception in interrupt"));
        std::fs::write(&p, "+ /bin/sockdiff matrix\n").unwrap();
        assert_eq!(panic_line(&p), None);
        let _ = std::fs::remove_file(&p);
    }
}
