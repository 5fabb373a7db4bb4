//! Every `#=` record in the Linux and Windows corpora, held against the
//! model of the spec it names, without running anything: the outcomes one
//! build recorded (`linux@6.18`, `linux@6.18+role-lock`, `linux@6.1+mapped-any-missed`,
//! `linux@6.12`, `wine@8.0+role-lock`) must
//! be allowed by that spec's model on every machine, including one that
//! runs another build. (The live corpus check compares the host's own
//! record with the host; this covers the builds the host is not.)

use crate::util::*;
use sockdiff::case;
use sockdiff::model::{HostSettings, check_spec, for_spec};
use sockdiff::platform::ModelSpec;
use sockdiff::run::predict_case;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

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

#[test]
fn every_record_is_allowed_by_the_model_of_its_spec() {
    let mut files = Vec::new();
    for dir in ["corpus/linux", "corpus/windows"] {
        case_files(&root().join(dir), &mut files);
    }
    files.sort();
    let mut checked = 0;
    let mut specs_seen: BTreeSet<String> = BTreeSet::new();
    let mut wrong = Vec::new();
    for path in &files {
        let name = path.strip_prefix(root()).unwrap().display().to_string();
        let c = case::parse_file(path).unwrap_or_else(|e| panic!("{e}"));
        let prog = case::compile(&c).unwrap();
        let specs: BTreeSet<ModelSpec> = c.steps.iter().flat_map(|s| s.expects()).map(|e| e.model.clone()).collect();
        for spec in specs {
            check_spec(&spec).unwrap_or_else(|e| panic!("{name}: {e}"));
            specs_seen.insert(spec.to_string());
            let model = for_spec(&spec, &HostSettings::default());
            let pred = predict_case(model.as_ref(), &prog).unwrap_or_else(|(i, e)| panic!("{name}:{}: {e}", i + 1));
            for (i, step) in c.steps.iter().enumerate() {
                let Some(e) = step.expects().iter().find(|e| e.model == spec) else { continue };
                checked += 1;
                if !e.outcomes.iter().all(|o| pred[i].0.contains(o)) {
                    wrong.push(format!(
                        "{name} step {} `{}`: {spec} recorded {:?}, model predicts {} ({})",
                        i + 1,
                        step.stmt,
                        e.outcomes.iter().map(|o| o.to_string()).collect::<Vec<_>>(),
                        pred[i].0,
                        pred[i].1
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{} of {checked} records not allowed:\n{}", wrong.len(), wrong.join("\n"));
    // Both 6.18 builds, Debian's 6.1 and 6.12 kernels (under qemu) and Wine have records.
    for s in ["linux@6.18", "linux@6.18+role-lock", "linux@6.1+mapped-any-missed", "linux@6.12", "wine@8.0+role-lock"] {
        assert!(specs_seen.contains(s), "no {s} records: {specs_seen:?}");
    }
    assert!(checked > 5000, "{checked}");
}
