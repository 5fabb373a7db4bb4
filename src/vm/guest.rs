//! The guest side: the init script that runs one sockdiff command and
//! powers off, and the report it sends back on its control port, with the
//! parser for that report. Pure text in and out.
//!
//! The guest has four serial ports (the `pc` machine's COM1-COM4):
//! `ttyS0` is the kernel console (a log file on the host), `ttyS1` the
//! command's stdout, `ttyS2` its stderr, `ttyS3` the control port. On the
//! control port the guest writes, one line each:
//!
//! ```text
//! SOCKDIFF-VM-START <uptime in seconds>
//! SOCKDIFF-VM-OUTSIDE <path>        (a file written outside the checkout; not brought back)
//! SOCKDIFF-VM-FILES
//! <base64 of a gzip of a newc cpio of the files and folders written under the checkout>
//! SOCKDIFF-VM-EXIT <status>
//! ```
//!
//! and the host may write one byte to it to stop the command (SIGTERM,
//! which `fuzz` and `matrix` take as Ctrl-C). A probe boot
//! (`sockdiff_vm=probe` on the kernel command line) writes only
//! `SOCKDIFF-VM-PROBE-OK`.

use std::fmt::Write as _;

/// The line a probe boot writes.
pub const PROBE_OK: &str = "SOCKDIFF-VM-PROBE-OK";
/// The kernel command line word that makes a boot a probe.
pub const PROBE_ARG: &str = "sockdiff_vm=probe";
/// The line the guest writes when init starts.
pub const START: &str = "SOCKDIFF-VM-START";
const OUTSIDE: &str = "SOCKDIFF-VM-OUTSIDE ";
const FILES: &str = "SOCKDIFF-VM-FILES";
const EXIT: &str = "SOCKDIFF-VM-EXIT ";

/// Where things are in the guest.
pub const STAMP: &str = "vm/stamp";

/// How the guest runs the command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The folder the command runs in: the checkout's path on the host.
    pub workdir: String,
    /// The sockdiff arguments.
    pub args: Vec<String>,
    /// The host's terminal size (rows, columns) when its stderr is a
    /// terminal: the guest's stderr is then a terminal of that size (a
    /// progress bar shows); otherwise a pipe.
    pub terminal: Option<(u16, u16)>,
}

/// Quotes a word for the shell: `'…'`, with `'` written `'\''`.
pub fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The init script (busybox sh).
pub fn init_script(plan: &Plan) -> String {
    let args: Vec<String> = plan.args.iter().map(|a| shell_quote(a)).collect();
    let cmd = format!("/bin/sockdiff {}", args.join(" "));
    let wd = shell_quote(&plan.workdir);
    let mut s = String::new();
    s.push_str(
        "#!/bin/busybox sh\n\
         # The init of a sockdiff vm guest (written by `sockdiff vm`): runs one\n\
         # sockdiff command, sends back what it wrote, powers off.\n\
         # Each step is traced on the console (its log is kept on the host).\n\
         set -x\n\
         /bin/busybox --install -s /bin\n\
         export PATH=/bin HOME=/tmp\n\
         mount -t proc proc /proc\n\
         mount -t sysfs sysfs /sys\n\
         mount -t devtmpfs devtmpfs /dev\n\
         # /tmp is the initramfs's own (RAM already): a tmpfs there would\n\
         # hide a checkout that lives under /tmp on the host.\n\
         mkdir -p /tmp\n\
         ip link set lo up\n\
         hostname sockdiff-vm\n\
         for n in 1 2 3; do stty -F /dev/ttyS$n raw -echo; done\n\
         # The control port stays open, so that a byte from the host waits\n\
         # in its buffer until it is read.\n\
         exec 3<>/dev/ttyS3\n",
    );
    let _ = writeln!(s, "if grep -q {PROBE_ARG} /proc/cmdline; then echo {PROBE_OK} >&3; sync; poweroff -f; fi");
    let _ = writeln!(s, "echo \"{START} $(cut -d' ' -f1 /proc/uptime)\" >&3");
    let _ = writeln!(s, "cd {wd} || poweroff -f");
    match plan.terminal {
        Some((rows, cols)) => {
            let _ = writeln!(s, "stty -F /dev/ttyS2 rows {rows} cols {cols}");
            let _ = writeln!(s, "{cmd} >/dev/ttyS1 2>/dev/ttyS2 &");
            s.push_str("pid=$!\n");
        }
        None => {
            s.push_str("mkfifo /vm/stderr\ncat /vm/stderr >/dev/ttyS2 &\ncopier=$!\n");
            let _ = writeln!(s, "{cmd} >/dev/ttyS1 2>/vm/stderr &");
            s.push_str("pid=$!\n");
        }
    }
    // Init is PID 1, the parent of every orphan: a bare `wait` would wait
    // for the watcher's `head` too, so each wait names its process.
    s.push_str(
        "# One byte from the host stops the command.\n\
         (head -c 1 <&3 >/dev/null && kill -TERM $pid 2>/dev/null) &\n\
         wait $pid\n\
         rc=$?\n\
         [ -n \"$copier\" ] && wait $copier\n",
    );
    let _ = writeln!(s, "find . -newer /{STAMP} \\( -type f -o -type d \\) >/vm/back.list");
    // Compressed: a serial port carries about 300 KB/s under TCG, and the
    // matrix's tables are 20 MB of text.
    s.push_str("cpio -o -H newc </vm/back.list 2>/dev/null | gzip -1 >/vm/back.cpio.gz\n");
    let _ = writeln!(s, "{{");
    let _ = writeln!(
        s,
        "  find / /tmp -xdev -path {wd} -prune -o -path /vm -prune -o -newer /{STAMP} -type f -print | sed 's/^/{OUTSIDE}/'"
    );
    let _ = writeln!(s, "  echo {FILES}");
    s.push_str("  base64 /vm/back.cpio.gz\n");
    let _ = writeln!(s, "  echo \"{EXIT}$rc\"");
    s.push_str("} >&3\nsync\npoweroff -f\n");
    s
}

/// What the guest reported on its control port.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Seconds from kernel start to init's first line.
    pub uptime_at_start: Option<f64>,
    /// Files written outside the checkout (not brought back).
    pub outside: Vec<String>,
    /// The gzip-compressed newc archive of what was written under the
    /// checkout.
    pub archive_gz: Vec<u8>,
    /// The command's exit status.
    pub status: i32,
}

/// Why a report could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportError {
    /// The guest never started init.
    NoStart,
    /// The guest started but did not finish the report (it hung, crashed
    /// or was killed).
    Unfinished,
    /// The report is there but damaged.
    Bad(String),
}

/// Parses the control port's text. Carriage returns and anything before
/// the start line are ignored.
pub fn parse_report(text: &str) -> Result<Report, ReportError> {
    let mut r = Report::default();
    let mut started = false;
    let mut in_files = false;
    let mut b64 = String::new();
    for line in text.split('\n').map(|l| l.trim_end_matches('\r')) {
        if let Some(up) = line.strip_prefix(START) {
            started = true;
            r.uptime_at_start = up.trim().parse().ok();
        } else if !started {
            continue;
        } else if let Some(p) = line.strip_prefix(OUTSIDE) {
            r.outside.push(p.to_string());
        } else if line == FILES {
            in_files = true;
        } else if let Some(rc) = line.strip_prefix(EXIT) {
            if !in_files {
                return Err(ReportError::Bad("exit status before the files".into()));
            }
            r.status = rc.trim().parse().map_err(|_| ReportError::Bad(format!("exit status '{rc}'")))?;
            r.archive_gz = base64_decode(&b64).map_err(ReportError::Bad)?;
            return Ok(r);
        } else if in_files {
            b64.push_str(line.trim());
        }
    }
    Err(if started { ReportError::Unfinished } else { ReportError::NoStart })
}

/// Decodes standard base64 (RFC 4648, with padding); whitespace is skipped.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some((c - b'A') as u32),
            b'a'..=b'z' => Some((c - b'a') as u32 + 26),
            b'0'..=b'9' => Some((c - b'0') as u32 + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let chars: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    if chars.len() % 4 != 0 {
        return Err(format!("base64 of {} characters (not a multiple of 4)", chars.len()));
    }
    let mut out = Vec::with_capacity(chars.len() / 4 * 3);
    let last = chars.len() / 4;
    for (i, quad) in chars.chunks(4).enumerate() {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && i + 1 != last) {
            return Err("base64 padding in the middle".into());
        }
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            n = n << 6 | value(c).ok_or_else(|| format!("'{}' is not base64", c as char))?;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_keeps_every_word_whole() {
        assert_eq!(shell_quote("fuzz"), "'fuzz'");
        assert_eq!(shell_quote("it's $HOME `x`"), r"'it'\''s $HOME `x`'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn base64_decodes_what_busybox_writes() {
        assert_eq!(base64_decode("").unwrap(), b"");
        assert_eq!(base64_decode("Zg==").unwrap(), b"f");
        assert_eq!(base64_decode("Zm8=").unwrap(), b"fo");
        assert_eq!(base64_decode("Zm9v").unwrap(), b"foo");
        // Lines of 76 characters, with \r\n.
        assert_eq!(base64_decode("Zm9v\r\nYmFy\n").unwrap(), b"foobar");
        assert_eq!(base64_decode("/+8=").unwrap(), [0xff, 0xef]);
        assert!(base64_decode("Zm9").is_err());
        assert!(base64_decode("Zg==Zm9v").is_err());
        assert!(base64_decode("Zm9*").is_err());
    }

    #[test]
    fn a_whole_report_parses() {
        let text = "noise\r\nSOCKDIFF-VM-START 1.84\r\nSOCKDIFF-VM-OUTSIDE /tmp/x.csv\nSOCKDIFF-VM-FILES\nZm9v\nYmFy\nSOCKDIFF-VM-EXIT 1\n";
        let r = parse_report(text).unwrap();
        assert_eq!(r.uptime_at_start, Some(1.84));
        assert_eq!(r.outside, ["/tmp/x.csv"]);
        assert_eq!(r.archive_gz, b"foobar");
        assert_eq!(r.status, 1);
    }

    #[test]
    fn a_cut_report_says_how_far_the_guest_got() {
        assert_eq!(parse_report(""), Err(ReportError::NoStart));
        assert_eq!(parse_report("SOCKDIFF-VM-START 2.0\n"), Err(ReportError::Unfinished));
        assert_eq!(parse_report("SOCKDIFF-VM-START 2.0\nSOCKDIFF-VM-FILES\nZm9v\n"), Err(ReportError::Unfinished));
        assert!(matches!(
            parse_report("SOCKDIFF-VM-START 2\nSOCKDIFF-VM-FILES\nZm9\nSOCKDIFF-VM-EXIT 0\n"),
            Err(ReportError::Bad(_))
        ));
        assert!(matches!(parse_report("SOCKDIFF-VM-START 2\nSOCKDIFF-VM-EXIT 0\n"), Err(ReportError::Bad(_))));
    }

    #[test]
    fn the_init_script_runs_the_quoted_command_in_the_checkout_and_reports() {
        let plan = Plan { workdir: "/work/it's".into(), args: vec!["corpus".into(), "check".into()], terminal: None };
        let s = init_script(&plan);
        assert!(s.starts_with("#!/bin/busybox sh\n"));
        assert!(s.contains("cd '/work/it'\\''s' || poweroff -f\n"));
        assert!(s.contains("/bin/sockdiff 'corpus' 'check' >/dev/ttyS1 2>/vm/stderr &\n"));
        assert!(s.contains("echo \"SOCKDIFF-VM-EXIT $rc\""));
        assert!(s.ends_with("sync\npoweroff -f\n"));
        let tty = init_script(&Plan { terminal: Some((30, 100)), ..plan });
        assert!(tty.contains("stty -F /dev/ttyS2 rows 30 cols 100\n"));
        assert!(tty.contains(">/dev/ttyS1 2>/dev/ttyS2 &\n"));
    }
}
