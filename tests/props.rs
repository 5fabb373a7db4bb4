//! Property tests: the printer and parser are inverse; the models (Linux,
//! FreeBSD, macOS) are total (every state and statement gets outcomes and a
//! documented rule); the generator only makes valid cases.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use sockdiff::case::{self, Addr, Case, Expect, Kind, Name, Op, Port, PortRef, SockOpt, Step, Stmt, Trailer};
use sockdiff::generate::{self, GenConfig};
use sockdiff::model::rules::RULES;
use sockdiff::model::state::{Life, SlotState};
use sockdiff::model::{Belief, Model, PortArg, PortVal, StepCtx, bsd::Bsd, linux::Linux, windows::Windows, wine::Wine};
use sockdiff::outcome::{Errno, Outcome, OutcomeSet};
use sockdiff::platform::{ModelSpec, Platform, Version};

const NAMES: [&str; 5] = ["a", "b", "c", "x1", "srv_2"];

fn name() -> impl Strategy<Value = Name> {
    proptest::sample::select(&NAMES[..]).prop_map(Name::new)
}

fn kind() -> impl Strategy<Value = Kind> {
    proptest::sample::select(&Kind::ALL[..])
}

fn addr() -> impl Strategy<Value = Addr> {
    proptest::sample::select(&Addr::ALL[..])
}

fn loopback() -> impl Strategy<Value = Addr> {
    proptest::sample::select(Addr::ALL.iter().copied().filter(|a| a.is_loopback()).collect::<Vec<_>>())
}

fn port() -> impl Strategy<Value = Port> {
    prop_oneof![(1u8..=9).prop_map(Port::Sym), Just(Port::Zero), name().prop_map(Port::Of)]
}

fn stmt() -> impl Strategy<Value = Stmt> {
    prop_oneof![
        (name(), kind(), any::<bool>()).prop_map(|(name, kind, other)| Stmt::Socket { name, kind, other }),
        (name(), proptest::sample::select(&SockOpt::ALL[..]), any::<bool>()).prop_map(|(name, opt, on)| Stmt::Set {
            name,
            opt,
            on
        }),
        (name(), addr(), port()).prop_map(|(name, addr, port)| Stmt::Bind { name, addr, port }),
        name().prop_map(|name| Stmt::Listen { name }),
        (name(), loopback(), port()).prop_map(|(name, addr, port)| Stmt::Connect { name, addr, port }),
        (name(), name()).prop_map(|(name, listener)| Stmt::Accept { name, listener }),
        name().prop_map(|name| Stmt::Close { name }),
        (kind(), loopback(), port()).prop_map(|(kind, addr, port)| Stmt::Probe { kind, addr, port }),
    ]
}

/// Comment text as the parser keeps it: no line breaks, no trailing spaces.
fn text() -> impl Strategy<Value = String> {
    "[ -~]{0,24}".prop_map(|s| s.trim_end().to_string())
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        Just(Outcome::Ok),
        proptest::sample::select(Errno::ALL).prop_map(Outcome::Err),
        (10000i32..11100).prop_map(Outcome::Os),
        name().prop_map(Outcome::To),
        Just(Outcome::ToNone),
    ]
}

fn expect() -> impl Strategy<Value = Expect> {
    let platform = proptest::sample::select(&Platform::ALL[..]);
    let version = proptest::option::of(proptest::collection::vec(0u32..20000, 1..4).prop_map(Version));
    let variants = proptest::collection::btree_set(
        proptest::sample::select(&["role-lock", "a", "b2-c"][..]).prop_map(String::from),
        0..3,
    );
    (platform, version, variants, proptest::collection::vec(outcome(), 1..4)).prop_map(
        |(platform, version, variants, outs)| Expect {
            model: ModelSpec { platform, version, variants },
            outcomes: OutcomeSet::new(outs).members().to_vec(),
        },
    )
}

fn trailer() -> impl Strategy<Value = Option<Trailer>> {
    prop_oneof![
        Just(None),
        text()
            .prop_filter("a note never starts with '='", |t| !t.starts_with('='))
            .prop_map(|t| Some(Trailer::Note(t))),
        proptest::collection::vec(expect(), 1..3).prop_map(|e| Some(Trailer::Expect(e))),
    ]
}

fn arb_case() -> impl Strategy<Value = Case> {
    let step = (proptest::collection::vec(text(), 0..2), stmt(), trailer()).prop_map(|(above, stmt, trailer)| Step {
        above,
        stmt,
        trailer,
    });
    (proptest::collection::vec(step, 0..25), proptest::collection::vec(text(), 0..2)).prop_map(|(steps, tail)| {
        let mut c = sockdiff::minimize::repair(steps);
        c.tail = tail;
        c
    })
}

/// `cases` cases a run; failures are kept beside this file in
/// props.proptest-regressions (committed) and re-run first. (proptest's
/// default looks for lib.rs or main.rs, which this test crate lacks, and
/// says so on every run before it falls back to the same file.)
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(400))]

    /// parse(print(c)) == c, comments and expectation comments included.
    #[test]
    fn print_then_parse_gives_the_same_case(c in arb_case()) {
        let text = case::print(&c);
        let back = case::parse("roundtrip.case", &text);
        prop_assert_eq!(back.as_ref(), Ok(&c), "printed:\n{}", text);
    }
}

/// Any op on any slot of a case with `slots` slots (live, dead, closed or
/// not yet created), with any port argument.
fn any_op(slots: u16) -> impl Strategy<Value = (Op, Option<PortArg>)> {
    let slot = 0..slots.max(1);
    let port_arg = prop_oneof![
        Just(None),
        Just(Some(PortArg::Zero)),
        (1u8..=3).prop_map(|n| Some(PortArg::Val(PortVal::Sym(n)))),
        (40000u16..40010).prop_map(|n| Some(PortArg::Val(PortVal::Eph(n)))),
    ];
    let op = prop_oneof![
        (kind(), any::<bool>()).prop_map(move |(kind, other)| Op::Socket { slot: slots, kind, other }),
        (slot.clone(), proptest::sample::select(&SockOpt::ALL[..]), any::<bool>())
            .prop_map(|(slot, opt, on)| Op::Set { slot, opt, on }),
        (slot.clone(), addr(), 1u8..=3).prop_map(|(slot, addr, n)| Op::Bind { slot, addr, port: PortRef::Sym(n) }),
        slot.clone().prop_map(|slot| Op::Listen { slot }),
        (slot.clone(), loopback(), 1u8..=3).prop_map(|(slot, addr, n)| Op::Connect {
            slot,
            addr,
            port: PortRef::Sym(n)
        }),
        slot.clone().prop_map(move |listener| Op::Accept { slot: slots, listener }),
        slot.prop_map(|slot| Op::Close { slot }),
        (kind(), loopback(), 1u8..=3).prop_map(|(kind, addr, n)| Op::Probe { kind, addr, port: PortRef::Sym(n) }),
    ];
    (op, port_arg)
}

/// Every live slot points at a live socket; every socket a slot names is live.
fn consistent(st: &sockdiff::model::State) -> Result<(), String> {
    for (i, s) in st.slots.iter().enumerate() {
        if let SlotState::Live(id) = s {
            let sock = st.socks.get(*id as usize).ok_or(format!("slot {i} points past the sockets"))?;
            if sock.life != Life::Live {
                return Err(format!("slot {i} names a socket in {:?}", sock.life));
            }
        }
    }
    Ok(())
}

/// Walks a generated case (and one extra statement of any kind) through
/// `model`: every statement gets at least one outcome, a rule id the rule
/// table documents and the model names, and states stay consistent.
fn check_total(model: &dyn Model, seed: u64, extra: (Op, Option<PortArg>)) -> Result<(), TestCaseError> {
    let cfg = GenConfig { max_len: 30, other: true, probe: true };
    let c = generate::case_from_seed(seed, cfg, model);
    let prog = case::compile(&c).unwrap();
    let mut belief = Belief::new(model, &prog);
    let ids = model.rule_ids();
    for op in &prog.ops {
        let port = sockdiff::model::resolve_port(&belief.states[0], op).unwrap_or(None);
        let ctx = StepCtx { names: &prog.names, port, observed: None };
        let (set, rule, branches) = belief.predict(model, op, &ctx);
        prop_assert!(!set.members().is_empty());
        prop_assert!(RULES.iter().any(|r| r.id == rule), "undocumented rule {}", rule);
        prop_assert!(ids.contains(&rule), "rule {} is not one of the model's", rule);
        for b in &branches {
            prop_assert_eq!(consistent(&b.state), Ok(()));
        }
        belief.advance(branches, None);
    }
    // One more statement of any kind, on any slot, with any port.
    let (op, port) = extra;
    let slots = prog.slots() as u16;
    let op = match op {
        Op::Socket { kind, other, .. } => Op::Socket { slot: slots, kind, other },
        Op::Accept { listener, .. } if listener < slots => Op::Accept { slot: slots, listener },
        Op::Accept { .. } => return Ok(()),
        op if op.subject().is_some_and(|s| s >= slots) => return Ok(()),
        op => op,
    };
    let names: Vec<Name> = prog.names.iter().cloned().chain([Name::new("extra")]).collect();
    for st in &mut belief.states {
        st.slots.resize(slots as usize + 1, SlotState::Unused);
    }
    let ctx = StepCtx { names: &names, port, observed: None };
    let (set, rule, branches) = belief.predict(model, &op, &ctx);
    prop_assert!(!set.members().is_empty());
    prop_assert!(ids.contains(&rule), "rule {} is not one of the model's", rule);
    for b in &branches {
        prop_assert_eq!(consistent(&b.state), Ok(()));
    }
    Ok(())
}

/// Generated cases are valid for `model`: names follow the rules and every
/// `@NAME` names a socket that holds a port in every state the model allows.
fn check_generated(model: &dyn Model, seed: u64) -> Result<(), TestCaseError> {
    let cfg = GenConfig { max_len: 30, other: true, probe: true };
    let c = generate::case_from_seed(seed, cfg, model);
    prop_assert!(c.len() >= 2 && c.len() <= 30, "{} statements", c.len());
    let prog = case::compile(&c).unwrap();
    prop_assert!(sockdiff::run::predict_case(model, &prog).is_ok(), "{}", case::print(&c));
    for s in c.stmts() {
        if let Stmt::Connect { addr, .. } | Stmt::Probe { addr, .. } = s {
            prop_assert!(addr.is_loopback());
        }
    }
    Ok(())
}

/// The BSD models the property tests cover: FreeBSD of every version range
/// its rules know (bare = newest), and macOS.
fn bsd_model(i: usize) -> Bsd {
    const FREEBSD: [Option<&str>; 6] = [None, Some("11"), Some("12"), Some("13"), Some("14"), Some("15")];
    match FREEBSD.get(i) {
        Some(v) => Bsd::freebsd(v.and_then(Version::parse)),
        None => Bsd::macos(None),
    }
}

proptest! {
    #![proptest_config(config(600))]

    /// The Linux model (this version and 6.7) answers every statement in
    /// every state it can reach with at least one outcome and a rule id
    /// that the rule table documents, and never panics.
    #[test]
    fn the_linux_model_is_total(seed in any::<u64>(), extra in any_op(12), old in any::<bool>()) {
        let model = Linux::new(if old { Version::parse("6.7") } else { None }, false);
        check_total(&model, seed, extra)?;
    }

    /// The same for the FreeBSD models (bare, 11 to 15) and the macOS model.
    #[test]
    fn the_bsd_models_are_total(seed in any::<u64>(), extra in any_op(12), which in 0usize..7) {
        check_total(&bsd_model(which), seed, extra)?;
    }

    /// The Windows model (newest and XP) and the Wine model are total.
    #[test]
    fn the_windows_and_wine_models_are_total(seed in any::<u64>(), extra in any_op(12), which in 0u8..3) {
        let model: Box<dyn Model> = match which {
            0 => Box::new(Windows::new(None)),
            1 => Box::new(Windows::new(Version::parse("5.1"))),
            _ => Box::new(Wine::new(None)),
        };
        check_total(model.as_ref(), seed, extra)?;
    }

    /// Where the Wine model's outcomes differ from the Windows model's on
    /// the same state, it names a wine.* rule (the divergence is documented).
    #[test]
    fn wine_names_every_divergence(seed in any::<u64>()) {
        let (wine, windows) = (Wine::new(None), Windows::new(None));
        let cfg = GenConfig { max_len: 30, other: true, probe: true };
        let c = generate::case_from_seed(seed, cfg, &wine);
        let prog = case::compile(&c).unwrap();
        let mut belief = Belief::new(&wine, &prog);
        for op in &prog.ops {
            let port = sockdiff::model::resolve_port(&belief.states[0], op).unwrap_or(None);
            let ctx = StepCtx { names: &prog.names, port, observed: None };
            for st in &belief.states {
                let (a, b) = (wine.step(st, op, &ctx), windows.step(st, op, &ctx));
                if a.outcomes() != b.outcomes() {
                    prop_assert!(a.rule.starts_with("wine."), "{:?}: wine {} vs windows {} under {}", op, a.outcomes(), b.outcomes(), a.rule);
                }
            }
            let (_, _, branches) = belief.predict(&wine, op, &ctx);
            belief.advance(branches, None);
        }
    }

    /// Generated cases are valid: names follow the rules and every `@NAME`
    /// names a socket that holds a port in every state the model allows.
    #[test]
    fn generated_cases_are_valid(seed in any::<u64>()) {
        check_generated(&Linux::new(None, false), seed)?;
    }

    /// The same with the BSD models driving the generator.
    #[test]
    fn generated_cases_are_valid_for_bsd(seed in any::<u64>(), which in 0usize..7) {
        check_generated(&bsd_model(which), seed)?;
    }
}

#[test]
fn every_documented_linux_rule_has_a_meaning_and_a_source() {
    let linux: Vec<_> = RULES.iter().filter(|r| r.id.starts_with("linux.")).collect();
    assert!(linux.len() >= 40, "{} Linux rules", linux.len());
    for r in linux {
        assert!(r.meaning.len() > 30 && r.source.len() > 10, "{}", r.id);
    }
}

#[test]
fn every_documented_bsd_rule_has_a_meaning_a_source_and_a_confidence() {
    let bsd: Vec<_> =
        RULES.iter().filter(|r| ["bsd.", "freebsd.", "macos."].iter().any(|f| r.id.starts_with(f))).collect();
    assert!(bsd.len() >= 60, "{} BSD rules", bsd.len());
    for r in bsd {
        assert!(r.meaning.len() > 30 && r.source.len() > 10, "{}", r.id);
        assert!(r.source.contains("confidence:") || r.source.contains("tool convention"), "{}", r.id);
    }
    for m in [Bsd::freebsd(None), Bsd::freebsd(Version::parse("11")), Bsd::macos(None)] {
        let ids = m.rule_ids();
        assert!(ids.iter().all(|id| !id.starts_with("linux.")), "{ids:?}");
    }
}

/// Every rule id of docs/semantics/windows.md is in the tables, with a
/// meaning and a source, and the models name them.
#[test]
fn every_windows_md_rule_is_documented() {
    let ids = [
        "windows.any.option-exclusive",
        "windows.any.option-timing",
        "windows.any.v6only-default",
        "windows.any.v6only-after-bind",
        "windows.any.bind-twice",
        "windows.any.bind-retry",
        "windows.tcp.disjoint",
        "windows.tcp.same-excl-new",
        "windows.tcp.same-excl-old",
        "windows.tcp.same-reuse-both",
        "windows.tcp.same-reuse-new-only",
        "windows.tcp.same-default",
        "windows.tcp.e-wild",
        "windows.tcp.n-wild",
        "windows.any.dual-stack-excl",
        "windows.any.dual-stack-shared",
        "windows.any.v4mapped",
        "windows.any.v6-separate",
        "windows.tcp.listen-no-conflict",
        "windows.tcp.deliver-specific",
        "windows.tcp.deliver-oldest",
        "windows.udp.same-as-tcp",
        "windows.udp.deliver",
        "windows.any.port-zero",
        "windows.any.legacy-xp",
        "windows.any.unknown-option",
        "windows.any.linger0",
        "windows.any.listen",
        "windows.tcp.connect",
        "windows.tcp.accept",
        "windows.tcp.time-wait",
        "wine.any.tcp-only",
        "wine.tcp.host-reuseaddr",
        "wine.tcp.excl-wildcard",
        "wine.any.no-users",
        "wine.tcp.deliver-first-only",
        "wine.tcp.time-wait",
        "wine.any.port-zero",
    ];
    let wine = Wine::new(None).rule_ids();
    let xp = Windows::new(Version::parse("5.1")).rule_ids();
    for id in ids {
        let r = RULES.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("{id} missing"));
        assert!(r.meaning.len() > 30 && r.source.len() > 10, "{id}");
        assert!(wine.contains(&id) || xp.contains(&id), "{id} is not named by the windows or wine model");
    }
}
