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
}

impl Session {
    /// Prepares isolation (`no_netns`: stay in the host's network
    /// namespace), reads the host's settings and makes the model.
    pub fn open(no_netns: bool, choice: &ModelChoice) -> Result<Session, ExecError> {
        let iso = if no_netns { Isolation::Host } else { Isolation::PrivateNetns };
        let prep = exec::prepare_process(&iso)?;
        let settings = exec::host_settings(&prep);
        let (spec, calibration) = match choice {
            ModelChoice::Host => {
                let c = calibrate::run(&prep, &host_spec(), &settings)?;
                (c.spec.clone(), Some(c))
            }
            ModelChoice::Spec(s) => (s.clone(), None),
        };
        model::check_spec(&spec).map_err(ExecError)?;
        let model = model::for_spec(&spec, &settings);
        Ok(Session { prep, settings, model, calibration })
    }

    /// What this host can run, for [`crate::run::skip_reason`].
    pub fn abilities(&self, exec: &dyn Executor) -> Abilities {
        abilities(&self.prep, exec)
    }
}

/// What the host can run with `prep` and `exec`.
pub fn abilities(prep: &Prepared, exec: &dyn Executor) -> Abilities {
    Abilities { other_user: prep.other_user.clone().map(|_| ()), probe: exec.supports_probe() }
}

/// The model spec of this host, before calibration: its platform and, on
/// Linux, major.minor of the running kernel; on Windows the release
/// (`10.0.19045`); under Wine, Wine's version (`wine@8.0`).
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
        _ => Version::parse(&id.release),
    };
    ModelSpec::versioned(platform, version)
}
