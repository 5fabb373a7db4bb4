//! Platform and model names of SPEC §1: `linux`, `freebsd`, `macos`,
//! `windows`, `wine`, each optionally with a version (`linux@6.18`).

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

/// A model name with an optional version: `linux`, `linux@6.18`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelSpec {
    pub platform: Platform,
    /// `None` means the newest behaviour the model knows.
    pub version: Option<Version>,
}

impl ModelSpec {
    /// A bare model name.
    pub fn new(platform: Platform) -> ModelSpec {
        ModelSpec { platform, version: None }
    }

    /// Parses `linux` or `linux@6.18`.
    pub fn parse(s: &str) -> Option<ModelSpec> {
        let (name, version) = match s.split_once('@') {
            Some((n, v)) => (n, Some(Version::parse(v)?)),
            None => (s, None),
        };
        Some(ModelSpec { platform: Platform::from_name(name)?, version })
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.platform.name())?;
        if let Some(v) = &self.version {
            write!(f, "@{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_round_trip() {
        for s in ["linux", "linux@6.18", "windows@10.0.19045", "freebsd@14", "wine"] {
            assert_eq!(ModelSpec::parse(s).unwrap().to_string(), s);
        }
        for bad in ["", "linux@", "linux@6.x", "solaris", "Linux"] {
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
