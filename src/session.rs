//! A live session: what every command that runs cases for real needs
//! before its first case. Isolation is prepared first (on Linux before any
//! other thread exists), then the host's settings are read, then the model
//! to diff against is made: the host's own, calibrated
//! ([`crate::calibrate`]), or one given explicitly, taken as written.

use crate::calibrate::{self, Calibration};
use crate::exec::{self, ExecError, Executor, Isolation, Prepared};
use crate::model::{self, HostSettings, Model};
use crate::platform::{ModelSpec, Platform, Version};
use crate::run::Abilities;

/// Which model a live session diffs against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelChoice {
    /// The host's model, with the variants its calibration finds.
    Host,
    /// This spec, as written (without variants: the upstream behaviour).
    Spec(ModelSpec),
}

/// An open live session.
pub struct Session {
    pub prep: Prepared,
    pub settings: HostSettings,
    pub model: Box<dyn Model>,
    /// The host model's calibration; `None` for an explicit spec.
    pub calibration: Option<Calibration>,
    /// What the caller should tell the user: the host is newer than every
    /// version its model knows, a version takes another's rules, the
    /// model is another OS's than the one the cases really run on.
    pub notes: Vec<String>,
}

impl Session {
    /// Prepares isolation (`no_netns`: stay in the host's network
    /// namespace), reads the host's settings and makes the model.
    pub fn open(no_netns: bool, choice: &ModelChoice) -> Result<Session, ExecError> {
        let iso = if no_netns { Isolation::Host } else { Isolation::PrivateNetns };
        let prep = exec::prepare_process(&iso)?;
        let settings = exec::host_settings(&prep);
        let mut notes = Vec::new();
        let (spec, calibration) = match choice {
            ModelChoice::Host => {
                notes.extend(model::versions::host_note(&host_spec()).map_err(ExecError)?);
                let c = calibrate::run(&prep, &host_spec(), &settings)?;
                model::variants::check(&c.spec).map_err(ExecError)?;
                (c.spec.clone(), Some(c))
            }
            ModelChoice::Spec(s) => {
                model::check_spec(s).map_err(ExecError)?;
                notes.extend(model::versions::rules_note(s));
                (s.clone(), None)
            }
        };
        if let Some(n) = foreign_note(&spec) {
            notes.push(n);
        }
        let model = model::for_spec(&spec, &settings);
        Ok(Session { prep, settings, model, calibration, notes })
    }

    /// What this host can run, for [`crate::run::skip_reason`].
    pub fn abilities(&self, exec: &dyn Executor) -> Abilities {
        abilities(&self.prep, exec)
    }
}

/// A line saying that cases run for real here are diffed against another
/// OS's model (`replay --platform windows` on Linux): every difference
/// between the two OSes then shows as a mismatch.
pub fn foreign_note(spec: &ModelSpec) -> Option<String> {
    let host = exec::host_platform();
    (spec.platform != host).then(|| {
        format!(
            "the cases run for real on this {host} host but are diffed against the {} model: mismatches show where the two differ",
            spec.platform
        )
    })
}

/// What the host can run with `prep` and `exec`.
pub fn abilities(prep: &Prepared, exec: &dyn Executor) -> Abilities {
    Abilities { other_user: prep.other_user.clone().map(|_| ()), probe: exec.supports_probe() }
}

/// The model spec of this host, before calibration: its platform and, on
/// Linux, major.minor of the running kernel; on Windows the release
/// (`10.0.19045`); under Wine, Wine's version (`wine@8.0`); on FreeBSD the
/// release number (`14.1` of `14.1-RELEASE`); on macOS the product
/// version's major number, from the Darwin release (Darwin 24 is macOS 15,
/// Darwin 25 is macOS 26).
pub fn host_spec() -> ModelSpec {
    let id = exec::host_identity();
    let platform = exec::host_platform();
    let version = match platform {
        Platform::Wine => exec::wine_version().and_then(|v| Version::parse(&v)),
        Platform::Linux => {
            let nums: Vec<u32> =
                id.release.split(|c: char| !c.is_ascii_digit()).take(2).filter_map(|p| p.parse().ok()).collect();
            (nums.len() == 2).then_some(Version(nums))
        }
        Platform::MacOs => darwin_to_macos(&id.release),
        _ => Version::parse(leading_number(&id.release)),
    };
    ModelSpec::versioned(platform, version)
}

/// The leading `1.2.3` of a release string (`14.1-RELEASE` -> `14.1`).
fn leading_number(release: &str) -> &str {
    let end = release.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(release.len());
    release[..end].trim_end_matches('.')
}

/// macOS's major version from the Darwin kernel release (`uname -r`).
fn darwin_to_macos(release: &str) -> Option<Version> {
    let darwin: u32 = leading_number(release).split('.').next()?.parse().ok()?;
    Some(match darwin {
        25.. => Version(vec![darwin + 1]),
        20..=24 => Version(vec![darwin - 9]),
        d => Version(vec![10, d.saturating_sub(4)]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_releases_become_model_versions() {
        assert_eq!(leading_number("14.1-RELEASE"), "14.1");
        assert_eq!(leading_number("10.0.19045"), "10.0.19045");
        assert_eq!(darwin_to_macos("24.1.0"), Some(Version(vec![15])));
        assert_eq!(darwin_to_macos("25.0.0"), Some(Version(vec![26])));
        assert_eq!(darwin_to_macos("19.6.0"), Some(Version(vec![10, 15])));
    }
}
