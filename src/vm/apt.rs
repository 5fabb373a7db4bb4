//! Debian's package tools as the `vm` command uses them: ask apt which
//! packages exist (`apt-cache search`, `policy`, `depends`, `apt-get -s`),
//! fetch them (`apt-get download`) and unpack them into a folder
//! (`dpkg-deb -x`). Nothing here installs or removes a package; the only
//! thing that writes outside the cache is `apt-get update` (apt's own
//! package lists), run when apt does not know a package yet.
//!
//! The parsers of apt's output are pure and tested below.

use super::VmError;
use std::path::Path;
use std::process::Command;

/// Runs a tool and returns its stdout; a failure names the command and the
/// last line it wrote on stderr.
pub fn run_tool(cmd: &mut Command) -> Result<String, VmError> {
    let shown = format!("{cmd:?}").replace('"', "");
    let out = cmd.output().map_err(|e| VmError(format!("cannot run {shown}: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
        return Err(VmError(format!("{shown} failed ({}): {}", out.status, last.trim())));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether apt's tools are here at all.
pub fn available() -> bool {
    Command::new("apt-get").arg("--version").output().is_ok_and(|o| o.status.success())
        && Command::new("dpkg-deb").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// `apt-get update`, quietly.
pub fn update() -> Result<(), VmError> {
    eprintln!("vm: apt-get update (apt does not know the package yet)");
    run_tool(Command::new("apt-get").args(["update", "-qq"])).map(|_| ())
}

/// Package names that `apt-cache search --names-only` finds for a regular
/// expression.
pub fn search_names(regex: &str) -> Result<Vec<String>, VmError> {
    let out = run_tool(Command::new("apt-cache").args(["search", "--names-only", regex]))?;
    Ok(parse_search(&out))
}

/// The names in `apt-cache search` output (`name - description` lines).
pub fn parse_search(out: &str) -> Vec<String> {
    out.lines().filter_map(|l| l.split(" - ").next()).map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect()
}

/// The version apt would install, from `apt-cache policy NAME`; `None` when
/// apt has no candidate (it does not know the package, or it has none).
pub fn candidate(name: &str) -> Result<Option<String>, VmError> {
    let out = run_tool(Command::new("apt-cache").args(["policy", name]))?;
    Ok(parse_candidate(&out))
}

/// The `Candidate:` line of `apt-cache policy` output.
pub fn parse_candidate(out: &str) -> Option<String> {
    let v = out.lines().find_map(|l| l.trim().strip_prefix("Candidate:"))?.trim();
    (!v.is_empty() && v != "(none)").then(|| v.to_string())
}

/// The packages NAME depends on (`Depends` and `PreDepends`, first choice
/// of each alternative), from `apt-cache depends`.
pub fn depends(name: &str) -> Result<Vec<String>, VmError> {
    let out = run_tool(Command::new("apt-cache").args([
        "depends",
        "--no-recommends",
        "--no-suggests",
        "--no-conflicts",
        "--no-breaks",
        "--no-replaces",
        "--no-enhances",
        name,
    ]))?;
    Ok(parse_depends(&out))
}

/// The dependency names in `apt-cache depends` output. An alternative
/// (`|Depends: a` then `Depends: b`) counts once, by its first name;
/// virtual names (`<name>`) are left out.
pub fn parse_depends(out: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_alternative = false;
    for line in out.lines() {
        let t = line.trim();
        let (alt, rest) = match t.strip_prefix('|') {
            Some(r) => (true, r),
            None => (false, t),
        };
        let Some(name) = rest.strip_prefix("Depends:").or_else(|| rest.strip_prefix("PreDepends:")) else {
            continue;
        };
        let name = name.trim();
        if !in_alternative && !name.starts_with('<') {
            names.push(name.to_string());
        }
        in_alternative = alt;
    }
    names
}

/// One package that `apt-get -s install` would install.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub name: String,
    pub version: String,
    /// Whether it replaces an installed older version (an upgrade).
    pub upgrade: bool,
}

/// What `apt-get -s install --no-install-recommends NAMES…` would do:
/// packages it would install or upgrade, and packages it would remove.
pub fn simulate_install(names: &[String]) -> Result<(Vec<Planned>, Vec<String>), VmError> {
    if names.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let out = run_tool(Command::new("apt-get").args(["-s", "install", "--no-install-recommends"]).args(names))?;
    Ok(parse_simulation(&out))
}

/// The `Inst` and `Remv` lines of `apt-get -s` output.
pub fn parse_simulation(out: &str) -> (Vec<Planned>, Vec<String>) {
    let mut inst = Vec::new();
    let mut remv = Vec::new();
    for line in out.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("Inst") => {
                let Some(name) = words.next() else { continue };
                let mut next = words.next().unwrap_or("");
                let upgrade = next.starts_with('[');
                if upgrade {
                    next = words.next().unwrap_or("");
                }
                let version = next.trim_start_matches('(').to_string();
                inst.push(Planned { name: name.to_string(), version, upgrade });
            }
            Some("Remv") => remv.extend(words.next().map(str::to_string)),
            _ => {}
        }
    }
    (inst, remv)
}

/// Fetches `name=version` pairs with `apt-get download` into `dir`, and
/// unpacks each with `dpkg-deb -x` into `root`; the `.deb` files are
/// deleted afterwards.
pub fn download_and_unpack(pkgs: &[(String, String)], dir: &Path, root: &Path) -> Result<(), VmError> {
    let io = |e: std::io::Error| VmError(format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::create_dir_all(root).map_err(io)?;
    let specs: Vec<String> = pkgs.iter().map(|(n, v)| format!("{n}={v}")).collect();
    run_tool(Command::new("apt-get").arg("download").args(&specs).current_dir(dir))?;
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().is_some_and(|x| x == "deb") {
            run_tool(Command::new("dpkg-deb").arg("-x").arg(&path).arg(root))?;
            std::fs::remove_file(&path).map_err(io)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_output_gives_the_names() {
        let out = "linux-image-6.1.0-47-cloud-amd64 - Linux 6.1 for x86-64 cloud (signed)\n\
                   linux-image-6.1.0-57-cloud-amd64-dbg - Debug symbols for linux-image-6.1.0-57-cloud-amd64\n";
        assert_eq!(parse_search(out), ["linux-image-6.1.0-47-cloud-amd64", "linux-image-6.1.0-57-cloud-amd64-dbg"]);
    }

    #[test]
    fn policy_output_gives_the_candidate() {
        let out = "linux-image-6.1.0-57-cloud-amd64:\n  Installed: (none)\n  Candidate: 6.1.192-3\n  Version table:\n     6.1.192-3 500\n";
        assert_eq!(parse_candidate(out).as_deref(), Some("6.1.192-3"));
        assert_eq!(parse_candidate("x:\n  Installed: (none)\n  Candidate: (none)\n"), None);
        assert_eq!(parse_candidate(""), None);
    }

    #[test]
    fn depends_output_keeps_first_alternatives_and_drops_virtual_names() {
        let out = "qemu-system-x86\n  Depends: libaio1\n |Depends: libasound2\n  Depends: liboss4-salsa-asound2\n  \
                   Depends: <virtual-x>\n  PreDepends: libc6\n  Depends: seabios\n";
        assert_eq!(parse_depends(out), ["libaio1", "libasound2", "libc6", "seabios"]);
    }

    #[test]
    fn simulation_output_gives_installs_upgrades_and_removals() {
        let out = "NOTE: This is only a simulation!\n\
                   Remv qemu-utils [1:10.0.2+ds-2+deb13u1~bpo12+1]\n\
                   Inst libcapstone4 (4.0.2-5 Debian:12.15/oldstable [amd64])\n\
                   Inst libc6 [2.36-9] (2.36-9+deb12u13 Debian:12.15/oldstable [amd64])\n\
                   Conf libcapstone4 (4.0.2-5 Debian:12.15/oldstable [amd64])\n";
        let (inst, remv) = parse_simulation(out);
        assert_eq!(
            inst,
            [
                Planned { name: "libcapstone4".into(), version: "4.0.2-5".into(), upgrade: false },
                Planned { name: "libc6".into(), version: "2.36-9+deb12u13".into(), upgrade: true },
            ]
        );
        assert_eq!(remv, ["qemu-utils"]);
    }
}
