//! The guest's kernel: a named Debian series (`debian-6.1`, `debian-6.12`),
//! whose newest cloud image apt knows is fetched and unpacked into the
//! cache, or a `vmlinuz` the user gives.
//!
//! Which image is newest is asked of apt each time (`apt-cache search`,
//! then `apt-cache policy` for its version), never written down here: the
//! names carry a number that grows with each upload (the ABI, `6.1.0-57`,
//! or the upstream patch level, `6.12.117`).

use super::{VmError, apt};
use std::path::{Path, PathBuf};

/// A Debian kernel series the `vm` command knows by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Series {
    /// The name given to `--kernel`.
    pub name: &'static str,
    /// Package names are `prefix` + a number + `suffix`.
    prefix: &'static str,
    suffix: &'static str,
}

/// The series by name.
pub const SERIES: &[Series] = &[
    // Debian 12's own kernel: linux-image-6.1.0-<abi>-cloud-amd64.
    Series { name: "debian-6.1", prefix: "linux-image-6.1.0-", suffix: "-cloud-amd64" },
    // Debian 12's newer kernel (from trixie, built for bookworm):
    // linux-image-6.12.<patch>+deb12-cloud-amd64-unsigned.
    Series { name: "debian-6.12", prefix: "linux-image-6.12.", suffix: "+deb12-cloud-amd64-unsigned" },
];

impl Series {
    /// By `--kernel` name.
    pub fn named(name: &str) -> Option<Series> {
        SERIES.iter().copied().find(|s| s.name == name)
    }

    /// The regular expression for `apt-cache search --names-only`.
    fn regex(&self) -> String {
        format!("^{}[0-9]+{}$", escape(self.prefix), escape(self.suffix))
    }

    /// The number in a package name of this series, if it is one.
    fn number(&self, name: &str) -> Option<u32> {
        let mid = name.strip_prefix(self.prefix)?.strip_suffix(self.suffix)?;
        if mid.is_empty() || !mid.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        mid.parse().ok()
    }

    /// The newest package of this series among `names` (others, such as
    /// the `-dbg` packages, are left out).
    pub fn newest<'a>(&self, names: &'a [String]) -> Option<&'a str> {
        names.iter().filter_map(|n| self.number(n).map(|k| (k, n.as_str()))).max().map(|(_, n)| n)
    }
}

fn escape(s: &str) -> String {
    s.chars().flat_map(|c| if ".+".contains(c) { vec!['\\', c] } else { vec![c] }).collect()
}

/// A kernel ready to boot.
#[derive(Clone, Debug)]
pub struct Kernel {
    pub vmlinuz: PathBuf,
    /// What to call it in messages: `linux-image-6.1.0-57-cloud-amd64
    /// 6.1.192-3`, or the path.
    pub label: String,
}

/// Resolves `--kernel`: a series name, or a path to a `vmlinuz`.
pub fn resolve(arg: &str, cache: &Path) -> Result<Kernel, VmError> {
    if let Some(series) = Series::named(arg) {
        return fetch(&series, cache);
    }
    let looks_like_path = arg.contains('/') || arg.starts_with("vmlinuz") || Path::new(arg).exists();
    if !looks_like_path {
        let names: Vec<&str> = SERIES.iter().map(|s| s.name).collect();
        return Err(VmError(format!("unknown kernel '{arg}': give {} or a path to a vmlinuz", names.join(", "))));
    }
    let path = PathBuf::from(arg);
    if !path.is_file() {
        return Err(VmError(format!("--kernel {arg}: no such vmlinuz file")));
    }
    Ok(Kernel { label: path.display().to_string(), vmlinuz: path })
}

/// The newest image of `series` that apt knows, fetched into the cache
/// unless it is there already.
fn fetch(series: &Series, cache: &Path) -> Result<Kernel, VmError> {
    if !apt::available() {
        return Err(VmError(format!(
            "--kernel {}: apt-get and dpkg-deb are needed to fetch Debian's kernel (or give a path to a vmlinuz)",
            series.name
        )));
    }
    let mut names = apt::search_names(&series.regex())?;
    if series.newest(&names).is_none() {
        apt::update()?;
        names = apt::search_names(&series.regex())?;
    }
    let name = series.newest(&names).ok_or_else(|| {
        VmError(format!(
            "--kernel {}: apt knows no package {}N{} (is Debian 12's archive in apt's sources?)",
            series.name, series.prefix, series.suffix
        ))
    })?;
    let version = apt::candidate(name)?
        .ok_or_else(|| VmError(format!("--kernel {}: apt has no version of {name} to download", series.name)))?;
    let label = format!("{name} {version}");
    let dir = cache.join("kernels").join(format!("{name}_{}", version.replace(':', "%3a")));
    let vmlinuz = dir.join("vmlinuz");
    if vmlinuz.is_file() {
        eprintln!("vm: kernel {label} (cached in {})", dir.display());
        return Ok(Kernel { vmlinuz, label });
    }
    eprintln!("vm: kernel {label}: apt-get download, dpkg-deb -x into {}", dir.display());
    let staging = cache.join("kernels").join(format!(".staging-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let root = staging.join("root");
    apt::download_and_unpack(&[(name.to_string(), version.clone())], &staging, &root)?;
    let io = |p: &Path, e: std::io::Error| VmError(format!("{}: {e}", p.display()));
    let boot = root.join("boot");
    let files: Vec<PathBuf> =
        std::fs::read_dir(&boot).map_err(|e| io(&boot, e))?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    let starting = |prefix: &str| {
        files.iter().find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix)))
    };
    let image = starting("vmlinuz-").ok_or_else(|| VmError(format!("{name} {version} holds no boot/vmlinuz-*")))?;
    let done = staging.join("done");
    std::fs::create_dir_all(&done).map_err(|e| io(&done, e))?;
    std::fs::rename(image, done.join("vmlinuz")).map_err(|e| io(image, e))?;
    // The kernel's config says what it was built with (9p, virtio, ...).
    if let Some(config) = starting("config-") {
        std::fs::rename(config, done.join("config")).map_err(|e| io(config, e))?;
    }
    std::fs::create_dir_all(dir.parent().unwrap_or(cache)).map_err(|e| io(&dir, e))?;
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&done, &dir).map_err(|e| io(&dir, e))?;
    let _ = std::fs::remove_dir_all(&staging);
    Ok(Kernel { vmlinuz, label })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &[&str]) -> Vec<String> {
        s.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn the_newest_6_1_image_is_the_highest_abi_not_the_last_listed() {
        let s = Series::named("debian-6.1").unwrap();
        let found = names(&[
            "linux-image-6.1.0-47-cloud-amd64-unsigned",
            "linux-image-6.1.0-9-cloud-amd64",
            "linux-image-6.1.0-57-cloud-amd64-dbg",
            "linux-image-6.1.0-57-cloud-amd64",
            "linux-image-6.1.0-56-cloud-amd64",
            "linux-image-6.1.0-100-amd64",
        ]);
        assert_eq!(s.newest(&found), Some("linux-image-6.1.0-57-cloud-amd64"));
        // Numbers compare as numbers: 100 is newer than 99.
        let found = names(&["linux-image-6.1.0-99-cloud-amd64", "linux-image-6.1.0-100-cloud-amd64"]);
        assert_eq!(s.newest(&found), Some("linux-image-6.1.0-100-cloud-amd64"));
        assert_eq!(s.newest(&names(&["linux-image-cloud-amd64"])), None);
    }

    #[test]
    fn the_newest_6_12_image_is_the_unsigned_cloud_one_with_the_highest_patch_level() {
        let s = Series::named("debian-6.12").unwrap();
        let found = names(&[
            "linux-image-6.12-cloud-amd64",
            "linux-image-6.12.117+deb12-cloud-amd64",
            "linux-image-6.12.113+deb12-cloud-amd64-unsigned",
            "linux-image-6.12.117+deb12-cloud-amd64-unsigned",
            "linux-image-6.12.117+deb12-cloud-amd64-dbg",
            "linux-image-6.12.200+deb13-cloud-amd64-unsigned",
        ]);
        assert_eq!(s.newest(&found), Some("linux-image-6.12.117+deb12-cloud-amd64-unsigned"));
    }

    #[test]
    fn the_search_pattern_escapes_dots_and_pluses() {
        assert_eq!(
            Series::named("debian-6.12").unwrap().regex(),
            r"^linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64-unsigned$"
        );
        assert_eq!(Series::named("debian-6.1").unwrap().regex(), r"^linux-image-6\.1\.0-[0-9]+-cloud-amd64$");
    }

    #[test]
    fn an_unknown_name_or_a_missing_file_is_bad_input() {
        let cache = std::env::temp_dir();
        let e = resolve("debian-5.10", &cache).unwrap_err();
        assert_eq!(e.0, "unknown kernel 'debian-5.10': give debian-6.1, debian-6.12 or a path to a vmlinuz");
        let e = resolve("/nonexistent/vmlinuz", &cache).unwrap_err();
        assert_eq!(e.0, "--kernel /nonexistent/vmlinuz: no such vmlinuz file");
    }
}
