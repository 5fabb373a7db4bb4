//! `sockdiff vm`: the command line of [`crate::vm`]. The guest's command
//! is parsed here first, so that a typo fails before a boot, and its
//! `--duration` sets the default time limit.

use super::{Cli, Cmd};
use anyhow::{Result, bail};
use clap::{Args, Parser, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct VmArgs {
    /// The guest's kernel: debian-6.1 or debian-6.12 (the newest Debian 12
    /// cloud image of that series that apt knows, fetched once into
    /// target/vm/kernels/), or a path to a vmlinuz.
    #[arg(long)]
    pub kernel: String,
    /// Kill the guest after this long (default: twice the command's
    /// --duration plus 2 minutes, else 5 minutes).
    #[arg(long, value_parser = super::fuzz::parse_duration)]
    pub timeout: Option<Duration>,
    /// auto: KVM only if a short probe boot under KVM finishes, else TCG
    /// (software emulation).
    #[arg(long, value_enum, default_value_t = AccelArg::Auto)]
    pub accel: AccelArg,
    /// Virtual CPUs of the guest.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub cpus: u32,
    /// A static x86-64 Linux build of sockdiff to run in the guest
    /// (default: built from this checkout with cargo for
    /// x86_64-unknown-linux-musl).
    #[arg(long)]
    pub binary: Option<PathBuf>,
    /// The qemu-system-x86_64 to use (default: the one sockdiff unpacked
    /// from Debian's packages into target/vm/qemu/, else one on PATH, else
    /// it is unpacked now).
    #[arg(long)]
    pub qemu: Option<PathBuf>,
    /// The sockdiff command to run in the guest (after `--`, or after the
    /// options above), in this checkout's folder.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `--accel`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AccelArg {
    Auto,
    Tcg,
    Kvm,
}

/// The default time limit for a guest command that runs for `duration`
/// (`None`: no duration known).
pub fn default_timeout(duration: Option<Duration>) -> Duration {
    match duration {
        Some(d) => d * 2 + Duration::from_secs(120),
        None => Duration::from_secs(300),
    }
}

/// How long the guest's command runs by its own options, where it says.
fn command_duration(cmd: &Cmd) -> Option<Duration> {
    match cmd {
        Cmd::Fuzz(f) => match (f.duration, f.cases) {
            (None, None) => Some(Duration::from_secs(60)),
            (d, _) => d,
        },
        // Two loops of --duration each.
        Cmd::Bench(b) => Some(b.duration * 2),
        _ => None,
    }
}

/// Parses the guest's command as this binary would: a typo fails here,
/// before a boot. Returns how long it runs by its own options.
fn check_command(command: &[String]) -> Result<Option<Duration>> {
    let parsed = Cli::try_parse_from(std::iter::once("sockdiff".to_string()).chain(command.iter().cloned()));
    match &parsed {
        Ok(cli) if matches!(cli.cmd, Cmd::Vm(_)) => bail!("the guest's command cannot be vm itself"),
        Ok(cli) => Ok(command_duration(&cli.cmd)),
        // --help and --version of the guest's command are answered there.
        Err(e) if !e.use_stderr() => Ok(None),
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("bad arguments");
            bail!("the guest's command: {}", first.strip_prefix("error: ").unwrap_or(first));
        }
    }
}

pub fn run(a: VmArgs) -> Result<u8> {
    let duration = check_command(&a.command)?;
    let timeout = a.timeout.unwrap_or_else(|| default_timeout(duration));
    launch(a, timeout)
}

#[cfg(target_os = "linux")]
fn launch(a: VmArgs, timeout: Duration) -> Result<u8> {
    let o = crate::vm::Options {
        kernel: a.kernel,
        command: a.command,
        timeout,
        accel: match a.accel {
            AccelArg::Auto => crate::vm::AccelChoice::Auto,
            AccelArg::Tcg => crate::vm::AccelChoice::Tcg,
            AccelArg::Kvm => crate::vm::AccelChoice::Kvm,
        },
        cpus: a.cpus,
        binary: a.binary,
        qemu: a.qemu,
    };
    Ok(crate::vm::run(&o)?)
}

#[cfg(not(target_os = "linux"))]
fn launch(_a: VmArgs, _timeout: Duration) -> Result<u8> {
    bail!("sockdiff vm runs on Linux hosts (it needs qemu and Debian's package tools)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duration_of(args: &[&str]) -> Option<Duration> {
        let cli = Cli::try_parse_from(std::iter::once("sockdiff").chain(args.iter().copied())).unwrap();
        command_duration(&cli.cmd)
    }

    #[test]
    fn the_time_limit_follows_the_guest_command() {
        assert_eq!(duration_of(&["fuzz", "--duration", "5m"]), Some(Duration::from_secs(300)));
        assert_eq!(duration_of(&["fuzz"]), Some(Duration::from_secs(60)));
        assert_eq!(duration_of(&["fuzz", "--cases", "100"]), None);
        assert_eq!(duration_of(&["bench", "--duration", "10s"]), Some(Duration::from_secs(20)));
        assert_eq!(duration_of(&["corpus", "check"]), None);
        assert_eq!(default_timeout(Some(Duration::from_secs(300))), Duration::from_secs(720));
        assert_eq!(default_timeout(None), Duration::from_secs(300));
    }

    #[test]
    fn the_guest_command_takes_everything_after_the_first_word_or_the_separator() {
        let cli =
            Cli::try_parse_from(["sockdiff", "vm", "--kernel", "debian-6.1", "corpus", "check", "--csv", "x.csv"])
                .unwrap();
        let Cmd::Vm(a) = cli.cmd else { panic!("not vm") };
        assert_eq!(a.command, ["corpus", "check", "--csv", "x.csv"]);
        let cli = Cli::try_parse_from([
            "sockdiff",
            "vm",
            "--kernel",
            "k",
            "--timeout",
            "90s",
            "--",
            "fuzz",
            "--duration",
            "5m",
        ])
        .unwrap();
        let Cmd::Vm(a) = cli.cmd else { panic!("not vm") };
        assert_eq!(
            (a.command.as_slice(), a.timeout),
            (&["fuzz", "--duration", "5m"].map(String::from)[..], Some(Duration::from_secs(90)))
        );
    }
}
