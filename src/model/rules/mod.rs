//! Every rule id a model can emit, with its meaning and its source, in one
//! place: this module and one table file per family (`linux.rs`, …). Ids
//! follow docs/interface.md#names: `<family>.<area>.<name>`. Each rule is
//! explained for users in `docs/semantics/<os>.md` (a test checks that
//! every id is named there); rules marked "tool" are conventions of
//! sockdiff, not OS facts.

/// One rule of a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    /// What the rule says, in one or two sentences.
    pub meaning: &'static str,
    /// Where it comes from: kernel function, documentation, test suite.
    pub source: &'static str,
}

/// Defines a table of rules: one documented constant per rule id, and the
/// table itself under the given name.
macro_rules! rules {
    ($table:ident; $( $konst:ident = $id:literal, $meaning:literal, $source:literal; )*) => {
        $( #[doc = $meaning] pub const $konst: &str = $id; )*
        /// The rules of this table.
        pub const $table: &[super::Rule] = &[ $( super::Rule { id: $id, meaning: $meaning, source: $source } ),* ];
    };
}

mod bsd;
mod freebsd;
mod linux;
mod macos;
mod windows;
mod wine;
pub use bsd::*;
pub use freebsd::*;
pub use linux::*;
pub use macos::*;
pub use windows::*;
pub use wine::*;

/// Every rule table; [`RULES`] is all of them in one list.
pub const TABLES: &[&[Rule]] = &[LINUX_RULES, BSD_RULES, FREEBSD_RULES, MACOS_RULES, WINDOWS_RULES, WINE_RULES];

/// Every rule of every model.
pub static RULES: std::sync::LazyLock<Vec<Rule>> =
    std::sync::LazyLock::new(|| TABLES.iter().flat_map(|t| t.iter().copied()).collect());

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static Rule> {
    TABLES.iter().flat_map(|t| t.iter()).find(|r| r.id == id)
}

/// A version range: `since` inclusive, `until` exclusive; `None` is open.
pub type Range = (Option<&'static [u32]>, Option<&'static [u32]>);

/// Version ranges of the rules that do not hold in every version the model
/// covers: `(id, range)`.
pub const VERSION_RANGES: &[(&str, Range)] = &[
    (LINUX_TCP_FASTREUSE_STALE, (None, Some(&[6, 8]))),
    // d57f4b874946, mainline 6.18.
    (LINUX_TCP_MEMO_OUTLIVES_RELEASE, (None, Some(&[6, 18]))),
    (FREEBSD_UID, (Some(&[15]), None)),
    (FREEBSD_UID_LB_EXCEPTION, (Some(&[12]), Some(&[15]))),
    (FREEBSD_UID_LEGACY, (None, Some(&[12]))),
    (FREEBSD_REUSEPORT_LB_BIND, (Some(&[12]), None)),
    (FREEBSD_REUSEPORT_LB_GROUP, (Some(&[12]), None)),
    (FREEBSD_DELIVER_LB_FIRST, (Some(&[12]), None)),
    (FREEBSD_LB_PENDING, (Some(&[15]), None)),
    (FREEBSD_LB_CONNECT, (Some(&[15]), None)),
    (FREEBSD_NOLOCALTIMEWAIT, (Some(&[14]), None)),
    (FREEBSD_WRONG_FAMILY_LEGACY, (None, Some(&[13]))),
    // Enhanced socket security came with Windows Server 2003 (5.2).
    (WINDOWS_LEGACY_XP, (None, Some(&[5, 2]))),
    (WINDOWS_TCP_SAME_EXCL_NEW, (Some(&[5, 2]), None)),
    (WINDOWS_TCP_SAME_EXCL_OLD, (Some(&[5, 2]), None)),
    (WINDOWS_TCP_SAME_REUSE_BOTH, (Some(&[5, 2]), None)),
    (WINDOWS_TCP_SAME_REUSE_NEW_ONLY, (Some(&[5, 2]), None)),
    (WINDOWS_TCP_SAME_DEFAULT, (Some(&[5, 2]), None)),
    (WINDOWS_TCP_E_WILD, (Some(&[5, 2]), None)),
    (WINDOWS_TCP_N_WILD, (Some(&[5, 2]), None)),
];

/// Members of a predicted set that turn up only rarely, with the rate
/// measured (and written in the rule's text): `(rule of the state that
/// allows it, member, rate)`. A member never seen counts as over-wide only
/// once chances x rate >= 5 (see [`crate::report::over_wide`]).
pub const MEASURED_RATES: &[(&str, &str, f64)] = &[
    // fin-wait2-race: 53 of 9,600 loaded runs let another user's reuseport
    // bind pass. In the race's state where the closed socket is already a
    // TIME_WAIT entry, the bind's ok is decided by the reuseport exemption.
    (LINUX_TCP_TIMEWAIT_BLOCKS, "ok", 53.0 / 9600.0),
    (LINUX_TCP_FIN_WAIT2_RACE, "ok", 53.0 / 9600.0),
    (LINUX_TCP_REUSEPORT_PAIR, "ok", 53.0 / 9600.0),
];

/// Whether rule `id` can decide anything for `version` (`None`: the newest).
pub fn applies(id: &str, version: Option<&crate::platform::Version>) -> bool {
    match VERSION_RANGES.iter().find(|(r, _)| *r == id) {
        None => true,
        Some((_, (since, until))) => {
            let newest = crate::platform::Version(vec![u32::MAX]);
            let v = version.unwrap_or(&newest);
            since.is_none_or(|s| v.at_least(s)) && until.is_none_or(|u| !v.at_least(u))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ranges_name_real_rules() {
        for (id, _) in VERSION_RANGES {
            assert!(RULES.iter().any(|r| r.id == *id), "{id}");
        }
        let v = |s| crate::platform::Version::parse(s);
        assert!(applies(LINUX_TCP_FASTREUSE_STALE, v("6.7").as_ref()));
        assert!(!applies(LINUX_TCP_FASTREUSE_STALE, v("6.18").as_ref()));
        assert!(!applies(LINUX_TCP_FASTREUSE_STALE, None));
        assert!(applies(LINUX_TCP_BIND_CONFLICT, None));
    }

    #[test]
    fn ids_are_well_formed_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES.iter() {
            assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
            let parts: Vec<&str> = r.id.split('.').collect();
            assert_eq!(parts.len(), 3, "{}", r.id);
            assert!(["linux", "freebsd", "macos", "windows", "wine", "bsd"].contains(&parts[0]), "{}", r.id);
            // One lowercase word; docs/interface.md#names gives `v6` as an area.
            assert!(parts[1].chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()), "{}", r.id);
            assert!(parts[2].chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{}", r.id);
            assert!(!r.meaning.is_empty() && !r.source.is_empty(), "{}", r.id);
        }
    }
}
