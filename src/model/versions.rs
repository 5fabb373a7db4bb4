//! The versions each model knows: the oldest and newest it has rules for,
//! and the versions in between where its rules change or were checked. An
//! explicit version outside that range is refused with the range; one
//! inside takes the rules of the newest known version not above it. The
//! host's own version, when newer than all, gets the newest rules with a
//! note ([`host_note`]); an older host is refused like an explicit spec.

use super::rules::VERSION_RANGES;
use crate::platform::{ModelSpec, Platform, Version};

/// Known versions per platform, oldest first; each is a place where the
/// model's rules change (a [`VERSION_RANGES`] boundary) or a version the
/// rules were checked on. Why each one is there:
///
/// * linux: 4.14 the port fast-path design the pre-6.8 rules describe;
///   6.1 and 6.12 Debian's kernels the corpus, matrix and fuzz ran on under
///   qemu (`sockdiff vm`); 6.8 the bind-bucket rework
///   (linux.tcp.fastreuse-stale ends); 6.18 the memo reset on port release
///   (linux.tcp.memo-outlives-release ends) and the kernel every rule was
///   checked on live.
/// * freebsd: 11 to 15, each a release where a rule starts or ends
///   (the bare name is 15, the main branch the sources were read in).
/// * macos: 10.14 (wildcard binds below 1024 without privilege: the oldest
///   behaviour the rules describe) to 15, the XNU release the rules were
///   read in (xnu-11417); older XNU sources carry the same bind checks.
/// * windows: 5.1 (XP, before enhanced socket security), 5.2 (Server
///   2003, where it starts), 10.0.19045 (Windows 10 22H2, the SPEC's
///   example) and 10.0.26100 (Windows 11 24H2 / Server 2025, the newest
///   release Microsoft's pages and Wine's Windows-passing tests cover).
/// * wine: 8.0, the release every Wine rule was checked under.
pub const KNOWN: &[(Platform, &[&[u32]])] = &[
    (Platform::Linux, &[&[4, 14], &[6, 1], &[6, 8], &[6, 12], &[6, 18]]),
    (Platform::FreeBsd, &[&[11], &[12], &[13], &[14], &[15]]),
    (Platform::MacOs, &[&[10, 14], &[15]]),
    (Platform::Windows, &[&[5, 1], &[5, 2], &[10, 0, 19045], &[10, 0, 26100]]),
    (Platform::Wine, &[&[8, 0]]),
];

/// The known versions of a platform, oldest first.
pub fn known(platform: Platform) -> Vec<Version> {
    KNOWN
        .iter()
        .find(|(p, _)| *p == platform)
        .map(|(_, v)| v.iter().map(|n| Version(n.to_vec())).collect())
        .unwrap_or_default()
}

/// Compares versions numerically (missing parts count as 0).
fn cmp(a: &Version, b: &Version) -> std::cmp::Ordering {
    if a.at_least(&b.0) {
        if b.at_least(&a.0) { std::cmp::Ordering::Equal } else { std::cmp::Ordering::Greater }
    } else {
        std::cmp::Ordering::Less
    }
}

/// `linux 4.14 to 6.18` (or `macos 15`).
pub fn range_text(platform: Platform) -> String {
    let k = known(platform);
    match (k.first(), k.last()) {
        (Some(a), Some(b)) if a != b => format!("{platform} {a} to {b}"),
        (Some(a), _) => format!("{platform} {a}"),
        _ => format!("{platform}: no versions"),
    }
}

/// Where a version stands against the known ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// One of the known versions.
    Known,
    /// Between two known versions: the rules of this one (the newest
    /// known version not above it).
    RulesOf(Version),
    Older,
    Newer,
}

/// Where `version` of `platform` stands.
pub fn standing(platform: Platform, version: &Version) -> Standing {
    let k = known(platform);
    let (Some(first), Some(last)) = (k.first(), k.last()) else { return Standing::Known };
    if cmp(version, first).is_lt() {
        return Standing::Older;
    }
    if cmp(version, last).is_gt() {
        return Standing::Newer;
    }
    if k.iter().any(|v| cmp(v, version).is_eq()) {
        return Standing::Known;
    }
    let below = k.iter().rev().find(|v| cmp(v, version).is_le()).cloned().unwrap_or_else(|| first.clone());
    Standing::RulesOf(below)
}

/// Checks an explicit spec's version: refused outside the known range.
pub fn check(spec: &ModelSpec) -> Result<(), String> {
    let Some(v) = &spec.version else { return Ok(()) };
    match standing(spec.platform, v) {
        Standing::Older => Err(format!(
            "{} is older than the oldest version the {} model knows (it knows {})",
            spec.platform_version(),
            spec.platform,
            range_text(spec.platform)
        )),
        Standing::Newer => Err(format!(
            "{} is newer than the newest version the {} model knows (it knows {})",
            spec.platform_version(),
            spec.platform,
            range_text(spec.platform)
        )),
        _ => Ok(()),
    }
}

/// A note for a spec whose version is not itself known: which known
/// version's rules it takes.
pub fn rules_note(spec: &ModelSpec) -> Option<String> {
    let v = spec.version.as_ref()?;
    match standing(spec.platform, v) {
        Standing::RulesOf(k) => {
            let next = known(spec.platform).into_iter().find(|n| cmp(n, v).is_gt());
            let upto = next.map(|n| format!(" up to {n}")).unwrap_or_default();
            Some(format!(
                "{} is not a version the {} model has rules of its own for: it uses those for {} {k}{upto}",
                spec.platform_version(),
                spec.platform,
                spec.platform
            ))
        }
        _ => None,
    }
}

/// The host's own spec: refused when older than every known version; when
/// newer than all, kept as it is (records and the fingerprint name the
/// host's real version) and the newest rules apply, with a note.
pub fn host_note(spec: &ModelSpec) -> Result<Option<String>, String> {
    let Some(v) = &spec.version else { return Ok(None) };
    match standing(spec.platform, v) {
        Standing::Newer => {
            let newest = known(spec.platform).last().cloned().unwrap_or_else(|| v.clone());
            Ok(Some(format!(
                "this host runs {}, newer than the newest version the {} model knows ({}@{newest}): its rules are used",
                spec.platform_version(),
                spec.platform,
                spec.platform
            )))
        }
        Standing::Older => Err(format!(
            "this host runs {}, older than the oldest version the {} model knows ({}); give --platform {}@{} to diff against that model anyway",
            spec.platform_version(),
            spec.platform,
            range_text(spec.platform),
            spec.platform,
            known(spec.platform).first().map(|v| v.to_string()).unwrap_or_default()
        )),
        _ => Ok(rules_note(spec)),
    }
}

/// The version range of rule `id` as text (`linux < 6.8`, `freebsd 12 to
/// 14`), or `None` when it holds for every version its model knows.
pub fn rule_range(id: &str) -> Option<String> {
    let (_, (since, until)) = VERSION_RANGES.iter().find(|(r, _)| *r == id)?;
    let v = |p: &[u32]| Version(p.to_vec()).to_string();
    let family = id.split('.').next().unwrap_or("");
    Some(match (since, until) {
        (Some(s), Some(u)) => format!("{family} {} up to (not with) {}", v(s), v(u)),
        (Some(s), None) => format!("{family} {} and later", v(s)),
        (None, Some(u)) => format!("{family} before {}", v(u)),
        (None, None) => format!("{family}: every version"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> ModelSpec {
        ModelSpec::parse(s).unwrap()
    }

    #[test]
    fn versions_outside_the_range_are_refused_with_it() {
        let e = check(&spec("linux@9.9")).unwrap_err();
        assert!(e.contains("newer than the newest") && e.contains("linux 4.14 to 6.18"), "{e}");
        assert!(check(&spec("macos@99")).unwrap_err().contains("it knows macos 10.14 to 15"));
        assert!(check(&spec("linux@3.10")).unwrap_err().contains("older than the oldest"));
        assert!(check(&spec("freebsd@16")).is_err());
        for ok in ["linux@6.7", "linux@6.18", "linux", "windows@5.1", "windows@10.0.19045", "wine@8.0", "freebsd@11"] {
            assert!(check(&spec(ok)).is_ok(), "{ok}");
        }
    }

    #[test]
    fn a_version_between_takes_the_rules_below_it() {
        assert_eq!(standing(Platform::Linux, &Version(vec![5, 10])), Standing::RulesOf(Version(vec![4, 14])));
        assert_eq!(standing(Platform::Linux, &Version(vec![6, 7])), Standing::RulesOf(Version(vec![6, 1])));
        assert_eq!(standing(Platform::Linux, &Version(vec![6, 10])), Standing::RulesOf(Version(vec![6, 8])));
        assert_eq!(standing(Platform::Linux, &Version(vec![6, 12])), Standing::Known);
        assert_eq!(standing(Platform::Linux, &Version(vec![6, 18])), Standing::Known);
        let n = rules_note(&spec("windows@6.1")).unwrap();
        assert!(n.contains("those for windows 5.2 up to 10.0.19045"), "{n}");
    }

    #[test]
    fn only_the_host_may_be_newer_than_all() {
        assert!(host_note(&spec("linux@6.19")).unwrap().unwrap().contains("newer than the newest"));
        assert!(host_note(&spec("linux@6.18")).unwrap().is_none());
        assert!(host_note(&spec("linux@3.10")).unwrap_err().contains("--platform linux@4.14"));
    }

    #[test]
    fn every_version_boundary_of_a_rule_is_a_known_version() {
        for (id, (since, until)) in VERSION_RANGES {
            let family = id.split('.').next().unwrap();
            let platforms: Vec<Platform> = match family {
                "bsd" => vec![Platform::FreeBsd, Platform::MacOs],
                f => vec![Platform::from_name(f).unwrap()],
            };
            for p in platforms {
                for b in [since, until].into_iter().flatten() {
                    assert_eq!(standing(p, &Version(b.to_vec())), Standing::Known, "{id}: {b:?}");
                }
            }
        }
        assert_eq!(rule_range("linux.tcp.fastreuse-stale").unwrap(), "linux before 6.8");
    }
}
