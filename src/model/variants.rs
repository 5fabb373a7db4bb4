//! Build variants: behaviours that some builds of one version show and
//! others do not (a vendor patch, a backport, a setting), so that no version
//! number can tell them apart. Each is a rule (its id's last part is the
//! variant's name, written after `+` in a model spec) and carries a
//! calibration probe: a tiny case whose outcomes differ between the
//! upstream model and the model with the variant. A live run on the host
//! runs each probe and picks the variants from the results alone.

use super::rules::{LINUX_TCP_MAPPED_ANY_MISSED, LINUX_TCP_ROLE_LOCK, WINE_TCP_ROLE_LOCK};
use crate::platform::{ModelSpec, Platform};

/// One known variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Variant {
    pub platform: Platform,
    /// The rule that decides the statements this variant changes.
    pub rule: &'static str,
    /// The calibration probe, in the case language. The upstream model and
    /// the model with this variant must predict different outcomes for it.
    pub probe: &'static str,
}

impl Variant {
    /// The name written in a spec: the last part of the rule id.
    pub fn name(&self) -> &'static str {
        name_of(self.rule)
    }
}

/// The variant name of a variant rule id (`linux.tcp.role-lock` -> `role-lock`).
pub fn name_of(rule: &'static str) -> &'static str {
    rule.rsplit('.').next().unwrap_or(rule)
}

/// Every known variant.
pub const VARIANTS: &[Variant] = &[
    Variant {
        platform: Platform::Linux,
        rule: LINUX_TCP_ROLE_LOCK,
        probe: "# Calibration of linux.tcp.role-lock: may a socket whose connect took a\n\
                # port (and was refused) still listen? Upstream: yes; role-lock: EINVAL.\n\
                a = socket tcp4\n\
                connect a 127.0.0.1:P1\n\
                listen a\n\
                close a\n",
    },
    Variant {
        platform: Platform::Linux,
        rule: LINUX_TCP_MAPPED_ANY_MISSED,
        probe: "# Calibration of linux.tcp.mapped-any-missed: does a v4-mapped specific\n\
                # bind see a tcp6 holder of [::ffff:0.0.0.0]? Upstream: EADDRINUSE;\n\
                # mapped-any-missed (6.1.168 and later 6.1 stable kernels): ok.\n\
                a = socket tcp6\n\
                b = socket tcp6\n\
                bind a [::ffff:0.0.0.0]:P1\n\
                bind b [::ffff:127.0.0.1]:P1\n\
                close b\n\
                close a\n",
    },
    Variant {
        platform: Platform::Wine,
        rule: WINE_TCP_ROLE_LOCK,
        probe: "# Calibration of wine.tcp.role-lock: under Wine, may a socket whose refused\n\
                # connect a second connect ended (ECONNABORTED) listen? On an upstream\n\
                # Linux kernel: yes; on a role-lock build: EINVAL.\n\
                a = socket tcp4\n\
                connect a 127.0.0.1:P1\n\
                connect a 127.0.0.1:P2\n\
                listen a\n\
                close a\n",
    },
];

/// The variants of a platform.
pub fn of(platform: Platform) -> impl Iterator<Item = &'static Variant> {
    VARIANTS.iter().filter(move |v| v.platform == platform)
}

/// Checks that every variant of a spec exists for its platform.
pub fn check(spec: &ModelSpec) -> Result<(), String> {
    for name in &spec.variants {
        if !of(spec.platform).any(|v| v.name() == name) {
            let known: Vec<&str> = of(spec.platform).map(|v| v.name()).collect();
            let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
            return Err(format!("unknown variant '+{name}' of {} (known variants: {known})", spec.platform));
        }
    }
    Ok(())
}

/// Whether rule `id` can decide anything under `spec`: a variant's rule
/// only with its variant on.
pub fn allows(id: &str, spec: &ModelSpec) -> bool {
    VARIANTS.iter().find(|v| v.rule == id).is_none_or(|v| spec.has(v.name()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{HostSettings, for_spec};

    #[test]
    fn every_probe_tells_its_variant_apart() {
        for v in VARIANTS {
            let case = crate::case::parse("probe", v.probe).expect("the probe parses");
            let prog = crate::case::compile(&case).expect("the probe compiles");
            let base = ModelSpec::new(v.platform);
            let mut with = base.clone();
            with.variants.insert(v.name().to_string());
            let host = HostSettings::default();
            let a = crate::run::predict_case(for_spec(&base, &host).as_ref(), &prog).unwrap();
            let b = crate::run::predict_case(for_spec(&with, &host).as_ref(), &prog).unwrap();
            // Some statement's sets do not even overlap: a live run can only agree with one side.
            let apart = a.iter().zip(&b).any(|((x, _), (y, _))| x.members().iter().all(|o| !y.contains(o)));
            assert!(apart, "{}: the probe does not tell the variant apart", v.rule);
            assert!(b.iter().any(|(_, r)| *r == v.rule), "{}: the probe never reaches its rule", v.rule);
        }
    }

    #[test]
    fn unknown_variants_are_refused_with_the_known_ones() {
        assert!(check(&ModelSpec::parse("linux@6.18+role-lock").unwrap()).is_ok());
        let e = check(&ModelSpec::parse("linux+nope").unwrap()).unwrap_err();
        assert!(e.contains("'+nope'") && e.contains("role-lock"), "{e}");
        assert!(check(&ModelSpec::parse("windows+role-lock").unwrap()).unwrap_err().contains("none"));
        assert!(allows(LINUX_TCP_ROLE_LOCK, &ModelSpec::parse("linux+role-lock").unwrap()));
        assert!(!allows(LINUX_TCP_ROLE_LOCK, &ModelSpec::new(Platform::Linux)));
    }
}
