//! Platform and model names of docs/interface.md#names: `linux`, `freebsd`, `macos`,
//! `windows`, `wine`, each optionally with a version (`linux@6.18`) and
//! build variants (`linux@6.18+role-lock`).

use std::collections::BTreeSet;
use std::fmt;

/// A platform a model describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Platform {
    Linux,
    FreeBsd,
    MacOs,
    Windows,
    Wine,
}

impl Platform {
    /// Every platform with a model.
    pub const ALL: [Platform; 5] =
        [Platform::Linux, Platform::FreeBsd, Platform::MacOs, Platform::Windows, Platform::Wine];

    /// What `--platform all` means: every platform but `wine`.
    pub const ALL_REAL: [Platform; 4] = [Platform::Linux, Platform::FreeBsd, Platform::MacOs, Platform::Windows];

    /// The model name.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Linux => "linux",
            Platform::FreeBsd => "freebsd",
            Platform::MacOs => "macos",
            Platform::Windows => "windows",
            Platform::Wine => "wine",
        }
    }

    /// Looks a model name up.
    pub fn from_name(s: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.name() == s)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A version: dot-separated numbers (`6.18`, `10.0.19045`, `14`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(pub Vec<u32>);

impl Version {
    /// Parses `6.18` or `10.0.19045`.
    pub fn parse(s: &str) -> Option<Version> {
        let parts: Option<Vec<u32>> = s.split('.').map(|p| p.parse().ok()).collect();
        parts.filter(|p| !p.is_empty()).map(Version)
    }

    /// Whether this version is at least `other` (missing parts count as 0).
    pub fn at_least(&self, other: &[u32]) -> bool {
        for i in 0..self.0.len().max(other.len()) {
            let a = self.0.get(i).copied().unwrap_or(0);
            let b = other.get(i).copied().unwrap_or(0);
            if a != b {
                return a > b;
            }
        }
        true
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// A model name with an optional version and build variants:
/// `linux`, `linux@6.18`, `linux@6.18+role-lock`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelSpec {
    pub platform: Platform,
    /// `None` means the newest behaviour the model knows.
    pub version: Option<Version>,
    /// Build variants (the last part of a variant rule's id, such as
    /// `role-lock`), sorted. Empty means the upstream behaviour.
    pub variants: BTreeSet<String>,
}

impl ModelSpec {
    /// A bare model name.
    pub fn new(platform: Platform) -> ModelSpec {
        ModelSpec { platform, version: None, variants: BTreeSet::new() }
    }

    /// A model name with a version and no variants.
    pub fn versioned(platform: Platform, version: Option<Version>) -> ModelSpec {
        ModelSpec { platform, version, variants: BTreeSet::new() }
    }

    /// Parses `linux`, `linux@6.18`, `linux+role-lock` or
    /// `linux@6.18+role-lock+other` (variants in any order). Whether a
    /// variant exists is the model's business ([`crate::model::check_spec`]);
    /// here a variant is any kebab-case word.
    pub fn parse(s: &str) -> Option<ModelSpec> {
        let mut parts = s.split('+');
        let head = parts.next()?;
        let mut variants = BTreeSet::new();
        for v in parts {
            let word =
                v.split('-').all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
            if !word || !variants.insert(v.to_string()) {
                return None;
            }
        }
        let (name, version) = match head.split_once('@') {
            Some((n, v)) => (n, Some(Version::parse(v)?)),
            None => (head, None),
        };
        Some(ModelSpec { platform: Platform::from_name(name)?, version, variants })
    }

    /// The same spec without variants: the upstream behaviour.
    pub fn upstream(&self) -> ModelSpec {
        ModelSpec::versioned(self.platform, self.version.clone())
    }

    /// The platform and version without variants, as a user writes it
    /// (`linux@6.18`, `macos`).
    pub fn platform_version(&self) -> String {
        self.upstream().to_string()
    }

    /// Whether variant `name` is part of this spec.
    pub fn has(&self, name: &str) -> bool {
        self.variants.contains(name)
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.platform.name())?;
        if let Some(v) = &self.version {
            write!(f, "@{v}")?;
        }
        for v in &self.variants {
            write!(f, "+{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_round_trip() {
        for s in
            ["linux", "linux@6.18", "windows@10.0.19045", "freebsd@14", "wine", "linux@6.18+role-lock", "linux+a+b-c"]
        {
            assert_eq!(ModelSpec::parse(s).unwrap().to_string(), s);
        }
        // Variants are written sorted, whatever order they were given in.
        assert_eq!(ModelSpec::parse("linux@6.1+b+a").unwrap().to_string(), "linux@6.1+a+b");
        for bad in [
            "",
            "linux@",
            "linux@6.x",
            "solaris",
            "Linux",
            "linux+",
            "linux+Role",
            "linux+a+a",
            "linux+-a",
            "+role-lock",
        ] {
            assert_eq!(ModelSpec::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn versions_compare_numerically() {
        let v = Version::parse("6.18").unwrap();
        assert!(v.at_least(&[6, 8]));
        assert!(v.at_least(&[6, 18]));
        assert!(!v.at_least(&[6, 19]));
        assert!(Version::parse("6.18.44").unwrap().at_least(&[6, 18]));
    }
}
