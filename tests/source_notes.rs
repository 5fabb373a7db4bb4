//! The FreeBSD and macOS corpora were never run on those systems, so their
//! statements carry no `#=` records. What the kernel source predicts is
//! written as a plain comment after the statement, `# per source:
//! freebsd:EADDRINUSE freebsd@14:ok`, and this test holds the models to it.
//! It also checks that every case opens with a comment naming its rule ids
//! and that every rule the models can emit has a case.

use crate::util::*;
use sockdiff::case::{self, Trailer};
use sockdiff::model::{HostSettings, for_spec};
use sockdiff::platform::ModelSpec;
use sockdiff::run::predict_case;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const MARK: &str = "per source:";

fn case_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            case_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "case") {
            out.push(p);
        }
    }
}

/// The `PLATFORM[@VERSION]:OUTCOME` entries after the mark, up to the first
/// word that is not one.
fn entries(note: &str) -> Vec<(String, String)> {
    let Some((_, rest)) = note.split_once(MARK) else { return Vec::new() };
    rest.split_whitespace()
        .map_while(|w| {
            let w = w.trim_end_matches([',', ';']);
            let (spec, outcome) = w.split_once(':')?;
            ModelSpec::parse(spec)?;
            Some((spec.to_string(), outcome.to_string()))
        })
        .collect()
}

#[test]
fn the_bsd_models_predict_what_the_corpus_notes_say() {
    let mut files = Vec::new();
    for dir in ["corpus/freebsd", "corpus/macos"] {
        case_files(&root().join(dir), &mut files);
    }
    files.sort();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for path in &files {
        let name = path.strip_prefix(root()).unwrap().display().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        assert!(!text.contains("#="), "{name}: nobody ran this case, so it records no outcome (#=)");
        let c = case::parse(&name, &text).unwrap_or_else(|e| panic!("{e}"));
        let head = c.steps.first().map(|s| s.above.join(" ")).unwrap_or_default();
        assert!(
            ["bsd.", "freebsd.", "macos."].iter().any(|f| head.contains(f)),
            "{name}: the first comment names no rule id"
        );
        let prog = case::compile(&c).unwrap();
        for (i, step) in c.steps.iter().enumerate() {
            let Some(Trailer::Note(note)) = &step.trailer else { continue };
            for (spec, want) in entries(note) {
                let model = for_spec(&ModelSpec::parse(&spec).unwrap(), &HostSettings::default());
                let got = predict_case(model.as_ref(), &prog).unwrap_or_else(|(i, e)| panic!("{name}:{i}: {e}"));
                let (set, rule) = &got[i];
                checked += 1;
                if set.to_string() != want {
                    wrong.push(format!(
                        "{name} step {}: `{}` {spec}: source says {want}, model {set} ({rule})",
                        i + 1,
                        step.stmt
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{} of {checked} notes disagree:\n{}", wrong.len(), wrong.join("\n"));
    assert!(files.len() >= 30 && checked >= 300, "only {} cases, {checked} notes", files.len());
}

#[test]
fn every_bsd_rule_the_models_emit_has_a_corpus_case() {
    let mut files = Vec::new();
    for dir in ["corpus/freebsd", "corpus/macos"] {
        case_files(&root().join(dir), &mut files);
    }
    let all: String = files.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    let mut ids = BTreeSet::new();
    for spec in ["freebsd", "freebsd@11", "freebsd@12", "freebsd@14", "macos"] {
        let model = for_spec(&ModelSpec::parse(spec).unwrap(), &HostSettings::default());
        ids.extend(model.rule_ids());
    }
    let missing: Vec<_> = ids.into_iter().filter(|id| !all.contains(id)).collect();
    assert!(missing.is_empty(), "rules without a case: {missing:?}");
}
