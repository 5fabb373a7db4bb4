//! Random cases: proptest strategies that produce only valid cases and lean
//! toward collisions (few ports, few addresses, options about half the time).
//!
//! A case is generated as a list of [`RawOp`]s whose socket references are
//! relative ("the k-th open socket, preferring listeners"), and then built
//! into a [`Case`] by walking it with a model: references are resolved among
//! the sockets open at that point, `@NAME` only names a socket that holds a
//! port there. Any sub-list builds into a valid case too, so proptest's
//! shrinking (dropping statements, lowering choices) always yields valid,
//! simpler cases: lower choices mean plainer addresses, `tcp4` before `tcp6`,
//! lower port symbols, fewer options.

use crate::case::{Addr, Case, Compiler, Family, Kind, Name, Port, Proto, SockOpt, Stmt};
use crate::model::{Belief, Model, PortArg, PortVal, StepCtx, resolve_port};
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// A port choice before it is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawPort {
    /// `P<n>`.
    Sym(u8),
    Zero,
    /// `@` the k-th socket holding a port.
    Of(u8),
}

/// One statement before it is built; `who` picks among open sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawOp {
    Socket {
        kind: Kind,
        other: bool,
    },
    Set {
        who: u8,
        opt: SockOpt,
        on: bool,
    },
    Bind {
        who: u8,
        addr: u8,
        port: RawPort,
    },
    Listen {
        who: u8,
    },
    Connect {
        who: u8,
        addr: u8,
        port: RawPort,
    },
    Accept {
        who: u8,
    },
    Close {
        who: u8,
    },
    Probe {
        kind: Kind,
        addr: u8,
        port: RawPort,
    },
    /// A new socket made like an open one: same kind, same options, bound
    /// to the same address and port, listening if it listens.
    Twin {
        who: u8,
    },
}

/// Knobs of the generator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenConfig {
    /// Most statements in a case.
    pub max_len: usize,
    /// Generate `as other` sockets.
    pub other: bool,
    /// Generate `probe` statements.
    pub probe: bool,
}

impl Default for GenConfig {
    fn default() -> GenConfig {
        GenConfig { max_len: 30, other: true, probe: true }
    }
}

/// A weighted choice as one plain range strategy (no union, so no lazy
/// trees of the other choices): entry `i` of `table` comes with
/// probability `weight_i / total`; shrinking moves toward the first entry.
fn weighted<T: Clone + std::fmt::Debug + 'static>(table: Vec<(u32, T)>) -> impl Strategy<Value = T> + Clone {
    let total: u32 = table.iter().map(|(w, _)| w).sum();
    let table = std::sync::Arc::new(table);
    (0..total).prop_map(move |mut x| {
        for (w, v) in table.iter() {
            if x < *w {
                return v.clone();
            }
            x -= w;
        }
        unreachable!("the range is the sum of the weights")
    })
}

fn kind() -> impl Strategy<Value = Kind> + Clone {
    weighted(vec![(35, Kind::TCP4), (25, Kind::TCP6), (25, Kind::UDP4), (15, Kind::UDP6)])
}

/// A port: mostly the first symbols (collisions), now and then any other
/// symbol (P4..P9), port 0, or the port another socket holds.
fn port() -> impl Strategy<Value = RawPort> + Clone {
    #[derive(Clone, Copy, Debug)]
    enum P {
        Sym(u8),
        Other,
        Zero,
        Of,
    }
    let table = vec![(50, P::Sym(1)), (25, P::Sym(2)), (8, P::Sym(3)), (2, P::Other), (7, P::Zero), (10, P::Of)];
    (weighted(table), 4u8..10, 0u8..4).prop_map(|(p, other, of)| match p {
        P::Sym(n) => RawPort::Sym(n),
        P::Other => RawPort::Sym(other),
        P::Zero => RawPort::Zero,
        P::Of => RawPort::Of(of),
    })
}

fn opt() -> impl Strategy<Value = SockOpt> + Clone {
    weighted(vec![
        (35, SockOpt::ReuseAddr),
        (30, SockOpt::ReusePort),
        (12, SockOpt::V6Only),
        (12, SockOpt::Linger0),
        (4, SockOpt::ReusePortLb),
        (4, SockOpt::ExclusiveAddrUse),
    ])
}

fn flag(on: u32, off: u32) -> impl Strategy<Value = bool> + Clone {
    weighted(vec![(off, false), (on, true)])
}

/// One strategy per kind of statement, with its weight: the mix of
/// statements a case is drawn from.
fn statements(cfg: GenConfig) -> Vec<(u32, BoxedStrategy<RawOp>)> {
    let who = 0u8..8;
    let other_w = if cfg.other { 1 } else { 0 };
    let probe_w = if cfg.probe { 6 } else { 0 };
    let mut v = vec![
        (16, (kind(), flag(other_w, 10 - other_w)).prop_map(|(kind, other)| RawOp::Socket { kind, other }).boxed()),
        (20, (who.clone(), opt(), flag(8, 2)).prop_map(|(who, opt, on)| RawOp::Set { who, opt, on }).boxed()),
        (22, (who.clone(), 0u8..100, port()).prop_map(|(who, addr, port)| RawOp::Bind { who, addr, port }).boxed()),
        (9, who.clone().prop_map(|who| RawOp::Listen { who }).boxed()),
        (12, (who.clone(), 0u8..100, port()).prop_map(|(who, addr, port)| RawOp::Connect { who, addr, port }).boxed()),
        (7, who.clone().prop_map(|who| RawOp::Accept { who }).boxed()),
        (9, who.clone().prop_map(|who| RawOp::Close { who }).boxed()),
        (6, who.prop_map(|who| RawOp::Twin { who }).boxed()),
    ];
    if probe_w > 0 {
        let probe = (kind(), 0u8..100, port()).prop_map(|(kind, addr, port)| RawOp::Probe { kind, addr, port });
        v.push((probe_w, probe.boxed()));
    }
    v
}

/// One statement, any kind (for the shrinkable tree of [`raw_case`]).
fn raw_op(cfg: GenConfig) -> impl Strategy<Value = RawOp> {
    proptest::strategy::Union::new_weighted(statements(cfg))
}

/// Strategy for the raw statements of one case (2..=max_len, the first a socket).
pub fn raw_case(cfg: GenConfig) -> impl Strategy<Value = Vec<RawOp>> {
    let first = kind().prop_map(|kind| RawOp::Socket { kind, other: false });
    (first, proptest::collection::vec(raw_op(cfg), 1..cfg.max_len.max(2))).prop_map(|(f, mut rest)| {
        rest.insert(0, f);
        rest
    })
}

/// Address for a bind on a socket of `family`, from a choice in 0..100:
/// low choices are the plainest addresses; every address of the language
/// comes up, those of the other family rarely.
fn bind_addr(family: Family, pick: u8) -> Addr {
    use Addr::*;
    let table: &[(u8, Addr)] = match family {
        Family::V4 => &[
            (30, Any4),
            (63, Lo4),
            (79, Lo4b),
            (87, TestNet),
            (91, MappedLo4),
            (94, Lo6),
            (96, Any6),
            (98, MappedLo4b),
            (100, MappedAny4),
        ],
        Family::V6 => &[
            (28, Any6),
            (48, Lo6),
            (66, MappedLo4),
            (78, MappedAny4),
            (86, MappedLo4b),
            (90, Any4),
            (94, Lo4),
            (96, Lo4b),
            (100, TestNet),
        ],
    };
    table.iter().find(|(upto, _)| pick < *upto).map(|(_, a)| *a).unwrap_or(table[0].1)
}

/// Destination for a connect or probe: every loopback form the parser
/// accepts (the safety rule allows no other), the socket's own family first.
fn target_addr(family: Family, pick: u8) -> Addr {
    use Addr::*;
    let table: &[(u8, Addr)] = match family {
        Family::V4 => &[(68, Lo4), (88, Lo4b), (93, MappedLo4), (96, MappedLo4b), (100, Lo6)],
        Family::V6 => &[(45, Lo6), (76, MappedLo4), (88, MappedLo4b), (95, Lo4), (100, Lo4b)],
    };
    table.iter().find(|(upto, _)| pick < *upto).map(|(_, a)| *a).unwrap_or(table[0].1)
}

/// A `connect` or `probe` to an address that is not loopback: never
/// generated.
pub fn sends_off_host(stmt: &Stmt) -> bool {
    matches!(stmt, Stmt::Connect { addr, .. } | Stmt::Probe { addr, .. } if !addr.is_loopback())
}

fn name_for(i: usize) -> Name {
    if i < 26 { Name::new(&((b'a' + i as u8) as char).to_string()) } else { Name::new(&format!("s{i}")) }
}

/// Builds a valid case from raw statements, walking it with `model` so that
/// `@NAME` only names a socket that holds a port in every state the model
/// allows. Statements that cannot be made valid are dropped.
pub fn build(raw: &[RawOp], model: &dyn Model, max_len: usize) -> Case {
    #[derive(Clone)]
    struct Open {
        name: Name,
        kind: Kind,
        /// Options set on it so far, in order.
        sets: Vec<(SockOpt, bool)>,
        /// The address and port of its last bind.
        bound: Option<(Addr, Port)>,
    }
    let mut stmts: Vec<Stmt> = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let mut made = 0usize;
    // The model walks the case as it grows, to know listeners and ports.
    let mut comp = Compiler::default();
    let mut belief: Option<Belief> = None;
    for r in raw {
        let state = belief.as_ref().map(|b| (&b.states, comp.program()));
        let holds_port = |n: &Name| -> Option<bool> {
            let (states, prog) = state?;
            let slot = prog.names.iter().rposition(|m| m == n)? as u16;
            Some(states.iter().all(|st| st.slot_port(slot).is_some()))
        };
        let listening = |n: &Name| -> bool {
            let Some((states, prog)) = state else { return false };
            let Some(slot) = prog.names.iter().rposition(|m| m == n) else { return false };
            states
                .iter()
                .any(|st| st.live(slot as u16).is_some_and(|id| st.sock(id).tcp == crate::model::state::Tcp::Listen))
        };
        // Pick among the preferred sockets if there are any, else among all.
        let pick = |who: u8, prefer: &dyn Fn(&Open) -> bool| -> Option<Open> {
            let i =
                nth_matching(&open, who as usize, prefer).or_else(|| nth_matching(&open, who as usize, &|_| true))?;
            let o = &open[i];
            // (Only the name, kind and bind are read: the options stay behind.)
            Some(Open { name: o.name.clone(), kind: o.kind, sets: Vec::new(), bound: o.bound.clone() })
        };
        let port = |p: RawPort| -> Port {
            match p {
                RawPort::Sym(n) => Port::Sym(n),
                RawPort::Zero => Port::Zero,
                RawPort::Of(k) => match nth_matching(&open, k as usize, &|o| holds_port(&o.name) == Some(true)) {
                    Some(i) => Port::Of(open[i].name.clone()),
                    None => Port::Sym(1),
                },
            }
        };
        let mut twin: Option<Open> = None;
        let stmt = match *r {
            RawOp::Socket { kind, other } => {
                let name = name_for(made);
                made += 1;
                open.push(Open { name: name.clone(), kind, sets: Vec::new(), bound: None });
                Some(Stmt::Socket { name, kind, other })
            }
            RawOp::Twin { who } => {
                let bound = |o: &Open| o.bound.is_some();
                let i =
                    nth_matching(&open, who as usize, &bound).or_else(|| nth_matching(&open, who as usize, &|_| true));
                twin = i.map(|i| open[i].clone()).filter(bound);
                None
            }
            RawOp::Set { who, opt, on } => pick(who, &|_| true).map(|o| Stmt::Set { name: o.name, opt, on }),
            RawOp::Bind { who, addr, port: p } => pick(who, &|_| true).map(|o| Stmt::Bind {
                name: o.name.clone(),
                addr: bind_addr(o.kind.family, addr),
                port: port(p),
            }),
            RawOp::Listen { who } => {
                pick(who, &|o| o.kind.proto == Proto::Tcp && !listening(&o.name)).map(|o| Stmt::Listen { name: o.name })
            }
            RawOp::Connect { who, addr, port: p } => pick(who, &|o| !listening(&o.name)).map(|o| {
                // Most `@` ports name a listener's port, so connections
                // happen; the rest name any socket's port (its own too).
                let port = match p {
                    RawPort::Of(k) if k < 3 => {
                        // (A listener whose port the model cannot know, as under
                        // Wine after a failed connect, is no target.)
                        let l = nth_matching(&open, addr as usize, &|l| {
                            listening(&l.name) && holds_port(&l.name) == Some(true)
                        });
                        match l {
                            Some(i) => Port::Of(open[i].name.clone()),
                            None => port(RawPort::Sym(1)),
                        }
                    }
                    s => port(s),
                };
                Stmt::Connect { name: o.name.clone(), addr: target_addr(o.kind.family, addr), port }
            }),
            RawOp::Accept { who } => pick(who, &|o| listening(&o.name)).map(|l| {
                let name = name_for(made);
                made += 1;
                open.push(Open { name: name.clone(), kind: l.kind, sets: Vec::new(), bound: None });
                Stmt::Accept { name, listener: l.name }
            }),
            RawOp::Close { who } => pick(who, &|_| true).map(|o| {
                open.retain(|x| x.name != o.name);
                Stmt::Close { name: o.name }
            }),
            RawOp::Probe { kind, addr, port: p } => {
                Some(Stmt::Probe { kind, addr: target_addr(kind.family, addr), port: port(p) })
            }
        };
        let mut batch: Vec<Stmt> = stmt.into_iter().collect();
        if let Some(o) = twin {
            {
                let name = name_for(made);
                made += 1;
                batch.push(Stmt::Socket { name: name.clone(), kind: o.kind, other: false });
                for (opt, on) in &o.sets {
                    batch.push(Stmt::Set { name: name.clone(), opt: *opt, on: *on });
                }
                // The same address and port (an `@NAME` port only while NAME is open).
                if let Some((addr, port)) = o.bound.clone() {
                    let valid = match &port {
                        Port::Of(n) => open.iter().any(|x| x.name == *n) && holds_port(n) == Some(true),
                        _ => true,
                    };
                    if valid {
                        batch.push(Stmt::Bind { name: name.clone(), addr, port });
                    }
                }
                if listening(&o.name) {
                    batch.push(Stmt::Listen { name: name.clone() });
                }
                open.push(Open { name, kind: o.kind, sets: o.sets.clone(), bound: o.bound.clone() });
            }
        }
        // Remember what was done to each socket, for its twins.
        for st in &batch {
            match st {
                Stmt::Set { name, opt, on } => {
                    if let Some(o) = open.iter_mut().find(|o| o.name == *name) {
                        o.sets.push((*opt, *on));
                    }
                }
                Stmt::Bind { name, addr, port } => {
                    if let Some(o) = open.iter_mut().find(|o| o.name == *name) {
                        o.bound = Some((*addr, port.clone()));
                    }
                }
                _ => {}
            }
        }
        for stmt in batch {
            if stmts.len() >= max_len {
                break;
            }
            // The safety rule, checked on what is generated, whatever the
            // tables above say (the parser and the executor check it too).
            if sends_off_host(&stmt) {
                continue;
            }
            // Advance the model by the new statement (all branches kept).
            comp.push(&stmt).expect("generated cases are valid");
            let prog = comp.program();
            let b = belief.get_or_insert_with(|| Belief::new(model, prog));
            // Slots may have grown: extend every state's slot table.
            for st in &mut b.states {
                st.slots.resize(prog.slots(), crate::model::state::SlotState::Unused);
            }
            let op = prog.ops.last().expect("one op");
            let port = resolve_port(&b.states[0], op).unwrap_or(Some(PortArg::Val(PortVal::Sym(1))));
            let ctx = StepCtx { names: &prog.names, port, observed: None };
            let (set, _, branches) = b.predict(model, op, &ctx);
            if is_slow(&set) {
                // A connect the model expects to hang costs two seconds a run:
                // leave it to the corpus, keep fuzzing fast.
                comp.pop();
                continue;
            }
            b.advance(branches, None);
            stmts.push(stmt);
        }
    }
    // At least two statements: close what the first one made.
    if stmts.len() < 2 {
        if let Some(Stmt::Socket { name, .. }) = stmts.first() {
            let name = name.clone();
            stmts.push(Stmt::Close { name });
        }
    }
    Case::from_stmts(stmts)
}

/// The index in `items` of the `k`-th (modulo their number) item that
/// `keep` keeps, without collecting them; `None` if it keeps none.
fn nth_matching<T>(items: &[T], k: usize, keep: &dyn Fn(&T) -> bool) -> Option<usize> {
    let n = items.iter().filter(|x| keep(x)).count();
    if n == 0 {
        return None;
    }
    items.iter().enumerate().filter(|(_, x)| keep(x)).nth(k % n).map(|(i, _)| i)
}

/// Outcomes that mean the statement waited for the connect timeout.
fn is_slow(set: &crate::outcome::OutcomeSet) -> bool {
    use crate::outcome::{Errno, Outcome};
    set.contains(&Outcome::Err(Errno::ETIMEDOUT)) || set.contains(&Outcome::Err(Errno::EALREADY))
}

/// Which cases a seed gives: a new generator makes old seeds mean other
/// cases, so its version is written beside every seed it hands out
/// (`summary.json`, the CSV's `seed` column as `VERSION:SEED`). Version 1
/// drew one shrinkable proptest value tree per case; version 2 draws the
/// same strategies statement by statement, with no tree kept.
pub const GENERATOR_VERSION: u32 = 2;

/// A case seed as the CSV writes it: `2:1234…`.
pub fn seed_text(seed: u64) -> String {
    format!("{GENERATOR_VERSION}:{seed}")
}

/// Reads a case seed written by [`seed_text`]; a bare number is a seed of
/// version 1. Refuses a seed of another version than this generator's.
pub fn parse_seed(text: &str) -> Result<u64, String> {
    let (version, seed) = match text.split_once(':') {
        Some((v, s)) => (v.parse::<u32>().map_err(|_| format!("'{text}' is not a case seed (VERSION:SEED)"))?, s),
        None => (1, text),
    };
    let seed: u64 = seed.parse().map_err(|_| format!("'{text}' is not a case seed (VERSION:SEED)"))?;
    if version != GENERATOR_VERSION {
        return Err(format!(
            "case seed '{text}' comes from generator version {version}; this sockdiff has version {GENERATOR_VERSION}, whose cases differ: replay the case file of the run folder instead"
        ));
    }
    Ok(seed)
}

/// A proptest runner whose randomness comes only from `seed` (for the
/// shrinkable tree of [`raw_tree`]).
pub fn runner(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&splitmix(seed.wrapping_add(i as u64)).to_le_bytes());
    }
    TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// SplitMix64: derives well-spread seeds from a run seed and an index.
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The seed of case `index` of a run with seed `run_seed`.
pub fn case_seed(run_seed: u64, index: u64) -> u64 {
    splitmix(run_seed ^ splitmix(index))
}

/// The raw statements of a case as a shrinkable proptest tree, for
/// property tests that shrink; fuzz never builds one (see [`Drawer`]).
pub fn raw_tree(seed: u64, cfg: GenConfig) -> impl ValueTree<Value = Vec<RawOp>> {
    raw_case(cfg).new_tree(&mut runner(seed)).expect("the case strategy never rejects")
}

/// Draws cases from the generator's strategies without keeping value
/// trees: the length, the first socket, then each statement, each drawn
/// and read at once. One drawer per thread; its RNG (XorShift) is seeded
/// afresh for every case from the case's seed, so a case depends on its
/// seed alone, whatever thread draws it.
pub struct Drawer {
    cfg: GenConfig,
    first: BoxedStrategy<Kind>,
    /// Which kind of statement comes next (an index into `statements`).
    which: BoxedStrategy<usize>,
    statements: Vec<BoxedStrategy<RawOp>>,
    runner: TestRunner,
}

impl Drawer {
    /// A drawer for `cfg`.
    pub fn new(cfg: GenConfig) -> Drawer {
        let config = Config { failure_persistence: None, ..Config::default() };
        let runner = TestRunner::new_with_rng(config, rng_for(0));
        let (weights, statements): (Vec<u32>, Vec<_>) = statements(cfg).into_iter().unzip();
        let which = weighted(weights.into_iter().enumerate().map(|(i, w)| (w, i)).collect()).boxed();
        Drawer { cfg, first: kind().boxed(), which, statements, runner }
    }

    /// The raw statements of the case with `seed`.
    pub fn draw(&mut self, seed: u64) -> Vec<RawOp> {
        *self.runner.rng() = rng_for(seed);
        let len = draw(&(1..self.cfg.max_len.max(2)), &mut self.runner);
        let mut out = Vec::with_capacity(len + 1);
        out.push(RawOp::Socket { kind: draw(&self.first, &mut self.runner), other: false });
        for _ in 0..len {
            let i = draw(&self.which, &mut self.runner);
            out.push(draw(&self.statements[i], &mut self.runner));
        }
        out
    }
}

/// One value of a strategy, its tree dropped at once.
fn draw<S: Strategy>(s: &S, r: &mut TestRunner) -> S::Value {
    s.new_tree(r).expect("the generator's strategies never reject").current()
}

/// The generator's RNG for one case.
fn rng_for(seed: u64) -> TestRng {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&splitmix(seed).to_le_bytes());
    bytes[8..].copy_from_slice(&splitmix(seed ^ 0x5DEE_CE66_D1CE_4E5B).to_le_bytes());
    TestRng::from_seed(RngAlgorithm::XorShift, &bytes)
}

thread_local! {
    static DRAWER: std::cell::RefCell<Option<Drawer>> = const { std::cell::RefCell::new(None) };
}

/// The raw statements of the case with this seed (this thread's drawer).
pub fn raw_from_seed(seed: u64, cfg: GenConfig) -> Vec<RawOp> {
    DRAWER.with(|d| {
        let mut d = d.borrow_mut();
        if d.as_ref().is_none_or(|x| x.cfg != cfg) {
            *d = Some(Drawer::new(cfg));
        }
        d.as_mut().expect("just made").draw(seed)
    })
}

/// The case with this seed.
pub fn case_from_seed(seed: u64, cfg: GenConfig, model: &dyn Model) -> Case {
    build(&raw_from_seed(seed, cfg), model, cfg.max_len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::compile;
    use crate::model::linux::Linux;

    #[test]
    fn nothing_generated_sends_off_the_host() {
        // Every pick of the destination table, for both families, is loopback.
        for family in [Family::V4, Family::V6] {
            for pick in 0..=u8::MAX {
                assert!(target_addr(family, pick).is_loopback(), "{family:?} {pick}");
            }
        }
        // The last check refuses what the tables would let through.
        let a = Name::new("a");
        for addr in [Addr::TestNet, Addr::Any4, Addr::Any6, Addr::MappedAny4] {
            let port = Port::Sym(1);
            assert!(sends_off_host(&Stmt::Connect { name: a.clone(), addr, port: port.clone() }), "{addr}");
            assert!(sends_off_host(&Stmt::Probe { kind: Kind::UDP4, addr, port }), "{addr}");
        }
        assert!(!sends_off_host(&Stmt::Bind { name: a.clone(), addr: Addr::TestNet, port: Port::Sym(1) }));
        // And thousands of generated cases hold no such statement.
        let m = Linux::new(None, false);
        let mut sends = 0;
        for s in 0..3000 {
            let c = case_from_seed(s, GenConfig::default(), &m);
            assert!(!c.stmts().any(sends_off_host), "seed {s}: {}", crate::case::one_line(&c));
            sends += c.stmts().filter(|st| matches!(st, Stmt::Connect { .. } | Stmt::Probe { .. })).count();
        }
        assert!(sends > 1000, "only {sends} connects and probes in 3000 cases");
    }

    #[test]
    fn the_same_seed_gives_the_same_case() {
        let m = Linux::new(None, false);
        for s in 0..20 {
            assert_eq!(case_from_seed(s, GenConfig::default(), &m), case_from_seed(s, GenConfig::default(), &m));
        }
        assert_ne!(case_from_seed(1, GenConfig::default(), &m), case_from_seed(2, GenConfig::default(), &m));
    }

    #[test]
    fn generated_cases_use_every_argument_the_language_allows() {
        use crate::campaign::matrix::tests::{every_form, forms};
        let m = Linux::new(None, false);
        let seen = forms((0..4000).map(|s| case_from_seed(s, GenConfig::default(), &m)));
        // Every address and every port form on every statement (the rarest
        // products of the two come up too, only not in 4,000 cases).
        let mut missing = Vec::new();
        for (stmt, addr, port) in every_form() {
            if !seen.iter().any(|(s, a, _)| *s == stmt && *a == addr) {
                missing.push(format!("{stmt} {addr}"));
            }
            if !seen.iter().any(|(s, _, p)| *s == stmt && *p == port) {
                missing.push(format!("{stmt} port {port}"));
            }
        }
        missing.dedup();
        assert!(missing.is_empty(), "never generated: {missing:?}");
    }

    #[test]
    fn a_case_depends_on_its_seed_alone_whatever_thread_draws_it() {
        let m = Linux::new(None, false);
        let here: Vec<Case> = (0..50).map(|s| case_from_seed(s, GenConfig::default(), &m)).collect();
        // Another thread, another order, a drawer that drew other cases first.
        let there: Vec<Case> = std::thread::spawn(|| {
            let m = Linux::new(None, false);
            let _ = case_from_seed(999, GenConfig { max_len: 7, ..GenConfig::default() }, &m);
            (0..50).rev().map(|s| case_from_seed(s, GenConfig::default(), &m)).collect::<Vec<_>>()
        })
        .join()
        .unwrap();
        assert!(here.iter().eq(there.iter().rev()));
    }

    #[test]
    fn case_seeds_carry_the_generator_version() {
        assert_eq!(parse_seed(&seed_text(42)), Ok(42));
        let e = parse_seed("42").unwrap_err();
        assert!(e.contains("version 1") && e.contains(&format!("version {GENERATOR_VERSION}")), "{e}");
        assert!(parse_seed("1:42").unwrap_err().contains("version 1"));
        assert!(parse_seed("x:42").is_err() && parse_seed("2:x").is_err());
    }

    #[test]
    fn shrinking_keeps_cases_valid() {
        let m = Linux::new(None, false);
        for s in 0..30 {
            let mut t = raw_tree(s, GenConfig::default());
            for _ in 0..40 {
                let c = build(&t.current(), &m, 30);
                assert!(c.check_names().is_ok(), "{}", crate::case::print(&c));
                assert!(crate::run::predict_case(&m, &compile(&c).unwrap()).is_ok(), "{}", crate::case::print(&c));
                if !t.simplify() {
                    break;
                }
            }
        }
    }
}
