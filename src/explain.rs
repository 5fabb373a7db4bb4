//! What `sockdiff rules` and `sockdiff explain` tell about a rule: its
//! meaning and sources (the rule tables), how sure the sources are, the
//! versions and variant it is tied to, the section of the user
//! documentation (`docs/semantics/`) that covers it, the corpus cases that
//! show it, and what the other platforms answer in those cases. Pure: the
//! caller hands in the corpus.

use crate::case::{self, Case};
use crate::model::{self, HostSettings, rules, rules::Rule, variants, versions};
use crate::outcome::OutcomeSet;
use crate::platform::{ModelSpec, Platform, Version};

/// The user documentation of each model family, built in, so `explain`
/// can name the section that covers a rule.
pub const DOCS: &[(&str, &str)] = &[
    ("docs/semantics/linux.md", include_str!("../docs/semantics/linux.md")),
    ("docs/semantics/bsd.md", include_str!("../docs/semantics/bsd.md")),
    ("docs/semantics/windows.md", include_str!("../docs/semantics/windows.md")),
];

/// The platforms whose models can emit rules of `family`.
pub fn platforms_of_family(family: &str) -> Vec<Platform> {
    match family {
        "bsd" => vec![Platform::FreeBsd, Platform::MacOs],
        "windows" => vec![Platform::Windows, Platform::Wine],
        f => Platform::from_name(f).into_iter().collect(),
    }
}

/// The rule families a platform's model draws on.
pub fn families_of(platform: Platform) -> &'static [&'static str] {
    match platform {
        Platform::Linux => &["linux"],
        Platform::FreeBsd => &["bsd", "freebsd"],
        Platform::MacOs => &["bsd", "macos"],
        Platform::Windows => &["windows"],
        Platform::Wine => &["windows", "wine"],
    }
}

/// Everything known about one rule.
#[derive(Clone, Debug)]
pub struct RuleInfo {
    pub rule: &'static Rule,
    /// The platforms whose models can emit it.
    pub platforms: Vec<Platform>,
    /// Its version range (`linux before 6.8`), if it has one.
    pub range: Option<String>,
    /// The build variant it belongs to (`role-lock`), if any.
    pub variant: Option<&'static str>,
    /// How sure the sources are, in their words.
    pub confidence: String,
    /// `docs/semantics/linux.md#tcp-bind-conflicts`, if a section names it.
    pub doc: Option<String>,
}

/// The rule's first sentence, for one-line lists.
pub fn first_sentence(text: &str) -> &str {
    let mut end = text.len();
    for (i, _) in text.match_indices(". ") {
        // Not after an abbreviation such as "e.g." or a version "6.8".
        let before = &text[..i];
        if !before.ends_with("e.g") && !before.ends_with("i.e") && !before.ends_with(char::is_numeric) {
            end = i + 1;
            break;
        }
    }
    text[..end].trim()
}

/// How sure the sources of a rule are, as they say it: a `confidence:`
/// note, a High/Medium/Low grade, or how it was found (verified live,
/// measured, read in source, a convention of the tool).
pub fn confidence(rule: &Rule) -> String {
    let text = format!("{} {}", rule.meaning, rule.source);
    if let Some(at) = text.find("confidence: ") {
        let rest = &text[at + "confidence: ".len()..];
        return rest.trim_end_matches('.').trim().to_string();
    }
    // The last sentence that starts with a grade (Windows' rules).
    let graded =
        text.split(". ").filter(|s| ["High", "Medium", "Low"].iter().any(|g| s.trim_start().starts_with(g))).last();
    if let Some(s) = graded {
        return s.trim().trim_end_matches('.').to_string();
    }
    let lower = text.to_lowercase();
    for (needle, say) in [
        ("measured on", "measured live on the builds named in the source"),
        ("verified live", "verified live (a real kernel agreed with the rule as stated)"),
        ("seen live", "seen live"),
        ("found by", "found by sockdiff (fuzz, matrix or calibration) and verified live"),
        ("runs under wine", "checked by runs under Wine"),
        ("read in source", "read in the source, not run"),
        ("tool convention", "a convention of sockdiff, not a fact about the OS"),
    ] {
        if lower.contains(needle) {
            return say.to_string();
        }
    }
    "not stated".to_string()
}

/// The documentation section that names `id`: the nearest heading above
/// its first mention, as a GitHub anchor.
pub fn doc_section(id: &str) -> Option<String> {
    for (path, text) in DOCS {
        let mut heading: Option<&str> = None;
        for line in text.lines() {
            if let Some(h) = line.strip_prefix("## ").or_else(|| line.strip_prefix("### ")) {
                heading = Some(h);
            }
            if line.contains(&format!("`{id}`")) {
                return Some(match heading {
                    Some(h) => format!("{path}#{}", anchor(h)),
                    None => path.to_string(),
                });
            }
        }
    }
    None
}

/// GitHub's anchor for a heading: lower case, spaces to hyphens, and only
/// letters, digits, hyphens and underscores kept.
pub fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// What is known about rule `id`.
pub fn info(id: &str) -> Option<RuleInfo> {
    let rule = rules::find(id)?;
    let family = id.split('.').next().unwrap_or("");
    Some(RuleInfo {
        rule,
        platforms: platforms_of_family(family),
        range: versions::rule_range(id),
        variant: variants::VARIANTS.iter().find(|v| v.rule == id).map(|v| v.name()),
        confidence: confidence(rule),
        doc: doc_section(id),
    })
}

/// Every rule a platform's model can emit (`None`: every rule), in table
/// order; with a version, only the rules that hold for it.
pub fn list(spec: Option<&ModelSpec>) -> Vec<RuleInfo> {
    rules::RULES
        .iter()
        .filter(|r| match spec {
            None => true,
            Some(s) => {
                let fam = r.id.split('.').next().unwrap_or("");
                families_of(s.platform).contains(&fam)
                    && (s.version.is_none() || rules::applies(r.id, s.version.as_ref()))
            }
        })
        .filter_map(|r| info(r.id))
        .collect()
}

/// The model specs under which a rule can fire: each of its platforms,
/// at a version inside its range, with its variant on.
pub fn specs_for(id: &str) -> Vec<ModelSpec> {
    let family = id.split('.').next().unwrap_or("");
    let range = rules::VERSION_RANGES.iter().find(|(r, _)| *r == id).map(|(_, r)| *r);
    let variant = variants::VARIANTS.iter().find(|v| v.rule == id);
    platforms_of_family(family)
        .into_iter()
        // A windows.* rule is also Wine's; Windows itself is enough to find cases.
        .filter(|p| !(family == "windows" && *p == Platform::Wine))
        .map(|p| {
            let mut spec = ModelSpec::new(p);
            if let Some((since, until @ Some(_))) = range {
                // A range that ends: the newest known version inside it
                // (one open above is the bare name, the newest).
                spec.version = versions::known(p)
                    .into_iter()
                    .rev()
                    .find(|v| since.is_none_or(|s| v.at_least(s)) && until.is_none_or(|u| !v.at_least(u)))
                    .or_else(|| since.map(|s| Version(s.to_vec())));
            }
            if let Some(v) = variant {
                spec.variants.insert(v.name().to_string());
            }
            spec
        })
        .collect()
}

/// A corpus case that shows a rule: the statement where one of the rule's
/// models decides with it (or the case only names it in a comment), and
/// what every platform answers there.
#[derive(Clone, Debug)]
pub struct Example {
    pub file: String,
    /// The statement (from 1) where the rule decides, if it does.
    pub step: Option<usize>,
    pub statement: String,
    /// Each platform's answer at that statement: spec, outcome, rule.
    pub answers: Vec<(String, OutcomeSet, &'static str)>,
}

/// The corpus cases that show rule `id`, in corpus order: those where a
/// model of the rule decides a statement with it, then those that only
/// name it in a comment. `sources` are (name, text) pairs.
pub fn examples(id: &str, sources: &[(String, String)]) -> Vec<Example> {
    let host = HostSettings::default();
    let own: Vec<Box<dyn model::Model>> = specs_for(id).iter().map(|s| model::for_spec(s, &host)).collect();
    let others: Vec<Box<dyn model::Model>> =
        Platform::ALL.iter().map(|p| model::for_spec(&ModelSpec::new(*p), &host)).collect();
    let mut fired = Vec::new();
    let mut named = Vec::new();
    for (name, text) in sources {
        let Ok(c) = case::parse(name, text) else { continue };
        let Ok(prog) = case::compile(&c) else { continue };
        let hit = own.iter().find_map(|m| {
            let p = crate::run::predict_case(m.as_ref(), &prog).ok()?;
            let i = p.iter().position(|(_, r)| *r == id)?;
            Some((m, p, i))
        });
        match hit {
            Some((m, p, i)) => {
                let mut answers = vec![(m.spec().to_string(), p[i].0.clone(), p[i].1)];
                for o in &others {
                    // The rule's own model once; the newest of its platform too
                    // when the rule needs an older version or a variant.
                    if o.spec() == m.spec() {
                        continue;
                    }
                    if let Ok(q) = crate::run::predict_case(o.as_ref(), &prog) {
                        answers.push((o.spec().to_string(), q[i].0.clone(), q[i].1));
                    }
                }
                fired.push(Example { file: name.clone(), step: Some(i + 1), statement: stmt(&c, i), answers });
            }
            None if text.contains(id) => {
                named.push(Example { file: name.clone(), step: None, statement: String::new(), answers: vec![] })
            }
            None => {}
        }
    }
    fired.extend(named);
    fired
}

fn stmt(c: &Case, i: usize) -> String {
    c.steps.get(i).map(|s| s.stmt.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_covered_by_the_user_documentation() {
        let missing: Vec<&str> = rules::RULES.iter().filter(|r| doc_section(r.id).is_none()).map(|r| r.id).collect();
        assert!(missing.is_empty(), "rules no docs/semantics/*.md section names (as `id`): {missing:?}");
    }

    #[test]
    fn confidence_and_sections_come_from_the_texts() {
        let i = info("windows.tcp.same-excl-old").unwrap();
        assert!(i.confidence.starts_with("High"), "{}", i.confidence);
        assert_eq!(info("bsd.any.bind-twice").unwrap().confidence, "read-in-source");
        assert_eq!(info("linux.tcp.fastreuse-stale").unwrap().range.as_deref(), Some("linux before 6.8"));
        assert_eq!(info("linux.tcp.role-lock").unwrap().variant, Some("role-lock"));
        assert_eq!(anchor("TCP bind conflicts"), "tcp-bind-conflicts");
        assert_eq!(first_sentence("Before 6.8 only: a. b."), "Before 6.8 only: a.");
    }

    #[test]
    fn a_rule_is_shown_by_the_cases_where_its_model_decides_with_it() {
        let src = vec![(
            "x.case".to_string(),
            "a = socket tcp4\nb = socket tcp4\nset a exclusiveaddruse on\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\n"
                .to_string(),
        )];
        let e = examples("windows.tcp.same-excl-old", &src);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].step, Some(5));
        assert!(e[0].answers.iter().any(|(s, o, _)| s == "linux" && o.to_string() == "EADDRINUSE"));
        assert_eq!(specs_for("linux.tcp.fastreuse-stale")[0].to_string(), "linux@6.1");
        assert_eq!(specs_for("linux.tcp.memo-outlives-release")[0].to_string(), "linux@6.12");
        assert_eq!(specs_for("linux.tcp.mapped-any-missed")[0].to_string(), "linux+mapped-any-missed");
        assert_eq!(specs_for("linux.tcp.role-lock")[0].to_string(), "linux+role-lock");
    }
}
