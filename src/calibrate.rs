//! Calibration: which build variants ([`crate::model::variants`]) the host
//! shows. Before a live run against the host model, each variant's probe
//! runs for real on a thread of its own (so in a network namespace of its
//! own on Linux), and the variants are picked from the probe results
//! alone, never from the OS's version or build string.
//!
//! A probe agrees with the upstream model, or with the model with its
//! variant, or with neither: that last case is a finding (the host shows a
//! behaviour no model knows), and the run goes on with the upstream
//! behaviour for that variant.

use crate::case::{self, Program};
use crate::exec::{self, ExecError, Prepared};
use crate::model::variants::{self, Variant};
use crate::model::{HostSettings, for_spec};
use crate::outcome::OutcomeSet;
use crate::platform::ModelSpec;
use crate::run;
use serde::{Deserialize, Serialize};

/// Which side of its variant a probe agreed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Upstream,
    Variant,
    /// Neither model predicts what the host did.
    Neither,
}

impl Side {
    /// The word `summary.json` writes.
    pub fn word(self) -> &'static str {
        match self {
            Side::Upstream => "upstream",
            Side::Variant => "variant",
            Side::Neither => "neither",
        }
    }
}

/// One probe's result, as `summary.json` keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResult {
    /// The variant's name (`role-lock`).
    pub variant: String,
    pub rule: String,
    /// The probe's statements.
    pub statements: Vec<String>,
    /// What the host answered, per statement.
    pub real: Vec<String>,
    /// What the upstream model and the variant's model predict, per statement.
    pub upstream: Vec<String>,
    pub with_variant: Vec<String>,
    pub side: Side,
}

impl ProbeResult {
    /// The first statement (from 0) where the host agrees with neither side.
    pub fn first_disagreement(&self) -> Option<usize> {
        (0..self.real.len()).find(|&i| {
            let real = OutcomeSet::parse(&self.real[i]);
            let ok = |pred: &str| {
                let p = OutcomeSet::parse(pred);
                matches!((&real, &p), (Some(r), Some(p)) if r.members().iter().all(|o| p.contains(o)))
            };
            !ok(&self.upstream[i]) && !ok(&self.with_variant[i])
        })
    }

    /// One line for people: `role-lock: listen a EINVAL -> on`.
    pub fn describe(&self) -> String {
        let at = self
            .first_disagreement()
            .or_else(|| (0..self.real.len()).find(|&i| self.upstream[i] != self.with_variant[i]))
            .unwrap_or(0);
        let what = format!("`{}` {}", self.statements.get(at).map(String::as_str).unwrap_or(""), self.real[at]);
        match self.side {
            Side::Upstream => format!("{}: {what} (upstream: {}) -> off", self.variant, self.upstream[at]),
            Side::Variant => format!("{}: {what} (upstream: {}) -> on", self.variant, self.upstream[at]),
            Side::Neither => format!(
                "{}: {what}, but upstream says {} and +{} says {} -> unknown behaviour, run goes on with the upstream one",
                self.variant, self.upstream[at], self.variant, self.with_variant[at]
            ),
        }
    }
}

/// What calibration found: the spec of the host model (the base spec with
/// every variant whose probe agreed with it) and each probe's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calibration {
    pub spec: ModelSpec,
    pub probes: Vec<ProbeResult>,
}

impl Calibration {
    /// Probes that agreed with neither side: findings.
    pub fn unknown(&self) -> impl Iterator<Item = &ProbeResult> {
        self.probes.iter().filter(|p| p.side == Side::Neither)
    }
}

/// The probe of a variant, compiled.
pub fn probe_program(v: &Variant) -> Program {
    let c = case::parse(v.rule, v.probe).expect("a variant's probe parses");
    case::compile(&c).expect("a variant's probe compiles")
}

/// Picks the variants of `base`'s platform from probe results: `real`
/// answers each probe with the host's outcome per statement. Pure, so a
/// test can give it any result.
pub fn decide(
    base: &ModelSpec,
    host: &HostSettings,
    mut real: impl FnMut(&Variant, &Program) -> Result<Vec<OutcomeSet>, ExecError>,
) -> Result<Calibration, ExecError> {
    let mut spec = base.upstream();
    let mut probes = Vec::new();
    for v in variants::of(base.platform) {
        let prog = probe_program(v);
        let statements = case::parse(v.rule, v.probe).expect("parses").stmts().map(|s| s.to_string()).collect();
        let upstream_spec = base.upstream();
        let mut with = base.upstream();
        with.variants.insert(v.name().to_string());
        let predict = |s: &ModelSpec| -> Vec<OutcomeSet> {
            let m = for_spec(s, host);
            run::predict_case(m.as_ref(), &prog)
                .expect("a variant's probe is valid")
                .into_iter()
                .map(|(o, _)| o)
                .collect()
        };
        let (up, var) = (predict(&upstream_spec), predict(&with));
        let seen = real(v, &prog)?;
        let covers = |pred: &[OutcomeSet]| {
            seen.len() == pred.len() && seen.iter().zip(pred).all(|(r, p)| r.members().iter().all(|o| p.contains(o)))
        };
        let side = match (covers(&up), covers(&var)) {
            (_, true) if !covers(&up) => Side::Variant,
            (true, _) => Side::Upstream,
            _ => Side::Neither,
        };
        if side == Side::Variant {
            spec.variants.insert(v.name().to_string());
        }
        let text = |v: &[OutcomeSet]| v.iter().map(|o| o.to_string()).collect::<Vec<_>>();
        probes.push(ProbeResult {
            variant: v.name().to_string(),
            rule: v.rule.to_string(),
            statements,
            real: text(&seen),
            upstream: text(&up),
            with_variant: text(&var),
            side,
        });
    }
    Ok(Calibration { spec, probes })
}

/// Runs every probe of `base`'s platform on this host, on a thread of its
/// own, and picks the variants.
pub fn run(prep: &Prepared, base: &ModelSpec, host: &HostSettings) -> Result<Calibration, ExecError> {
    if variants::of(base.platform).next().is_none() {
        return Ok(Calibration { spec: base.upstream(), probes: Vec::new() });
    }
    let upstream = for_spec(&base.upstream(), host);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut ex = exec::new_executor(prep, 0, 1)?;
            let can = run::Abilities { other_user: Err("calibration".into()), probe: ex.supports_probe() };
            decide(base, host, |_, prog| {
                let r = run::run_case_all(upstream.as_ref(), ex.as_mut(), prog, &can)?;
                if let run::Verdict::Skipped(why) = &r.verdict {
                    return Err(ExecError(format!("a calibration probe cannot run here: {why}")));
                }
                Ok(r.steps.into_iter().map(|s| s.actual).collect())
            })
        })
        .join()
        .map_err(|_| ExecError("the calibration thread panicked".into()))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Outcome;
    use crate::platform::Platform;

    fn answer(outcomes: &[&str]) -> Vec<OutcomeSet> {
        outcomes.iter().map(|o| OutcomeSet::one(Outcome::parse(o).unwrap())).collect()
    }

    /// The upstream answer to the mapped-any-missed probe.
    const MAPPED_UPSTREAM: &[&str] = &["ok", "ok", "ok", "EADDRINUSE", "ok", "ok"];

    /// `outcomes` answer the role-lock probe, `mapped` the mapped-any-missed one.
    fn decide_both(outcomes: &[&str], mapped: &[&str]) -> Calibration {
        let base = ModelSpec::parse("linux@6.18").unwrap();
        decide(&base, &HostSettings::default(), |v, _| {
            Ok(answer(if v.rule == crate::model::rules::LINUX_TCP_ROLE_LOCK { outcomes } else { mapped }))
        })
        .unwrap()
    }

    fn decide_with(outcomes: &[&str]) -> Calibration {
        decide_both(outcomes, MAPPED_UPSTREAM)
    }

    #[test]
    fn a_6_1_stable_build_that_misses_the_mapped_wildcard_gets_its_variant() {
        let c = decide_both(&["ok", "ECONNREFUSED", "ok", "ok"], &["ok", "ok", "ok", "ok", "ok", "ok"]);
        assert_eq!(c.spec.to_string(), "linux@6.18+mapped-any-missed");
        assert_eq!(c.probes[1].side, Side::Variant);
        assert!(c.probes[1].describe().contains("`bind b [::ffff:127.0.0.1]:P1` ok"), "{}", c.probes[1].describe());
        let both = decide_both(&["ok", "ECONNREFUSED", "EINVAL", "ok"], &["ok", "ok", "ok", "ok", "ok", "ok"]);
        assert_eq!(both.spec.to_string(), "linux@6.18+mapped-any-missed+role-lock");
    }

    #[test]
    fn a_build_without_the_lock_gets_the_upstream_model() {
        let c = decide_with(&["ok", "ECONNREFUSED", "ok", "ok"]);
        assert_eq!(c.spec.to_string(), "linux@6.18");
        assert_eq!(c.probes[0].side, Side::Upstream);
        assert_eq!(c.unknown().count(), 0);
    }

    #[test]
    fn a_build_with_the_lock_gets_the_variant() {
        let c = decide_with(&["ok", "ECONNREFUSED", "EINVAL", "ok"]);
        assert_eq!(c.spec.to_string(), "linux@6.18+role-lock");
        assert_eq!(c.probes[0].side, Side::Variant);
        assert!(c.probes[0].describe().contains("EINVAL"), "{}", c.probes[0].describe());
    }

    #[test]
    fn an_unknown_answer_is_a_finding_and_the_run_goes_on_upstream() {
        let c = decide_with(&["ok", "ECONNREFUSED", "EADDRINUSE", "ok"]);
        assert_eq!(c.spec.to_string(), "linux@6.18");
        let p = c.unknown().next().expect("a finding");
        assert_eq!(p.first_disagreement(), Some(2));
        assert_eq!(p.statements[2], "listen a");
    }

    #[test]
    fn the_choice_comes_from_the_probe_alone() {
        // The same base spec, two answers, two models: nothing else is read.
        let base = ModelSpec::versioned(Platform::Linux, None);
        for (answer_listen, want) in [("ok", "linux"), ("EINVAL", "linux+role-lock")] {
            let lock = ["ok", "ECONNREFUSED", answer_listen, "ok"];
            let c = decide(&base, &HostSettings::default(), |v, _| {
                Ok(answer(if v.rule == crate::model::rules::LINUX_TCP_ROLE_LOCK { &lock } else { MAPPED_UPSTREAM }))
            })
            .unwrap();
            assert_eq!(c.spec.to_string(), want);
        }
        // A platform without variants has nothing to probe.
        let c = decide(&ModelSpec::new(Platform::Windows), &HostSettings::default(), |_, _| unreachable!()).unwrap();
        assert!(c.probes.is_empty());
    }
}
