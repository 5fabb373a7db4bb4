//! Shrinks a failing case to a smallest one that still fails.
//!
//! Delta debugging over statements first: remove chunks, then single
//! statements, until no single statement can go (1-minimal). Removing a
//! statement also removes what depends on it (uses of a name it created),
//! so every candidate is a valid case. Then simplification of what is left:
//! `as other` dropped, `tcp6`/`udp6` turned into `tcp4`/`udp4` with IPv4
//! addresses, plainer addresses, lower port symbols, names renamed a, b, c.
//!
//! The test of a candidate is a closure: "still fails the same way". It
//! runs the candidate for real; this module does no I/O itself.

use crate::case::{Addr, Case, Family, Kind, Name, Port, Step, Stmt, compile};

/// Drops statements that use a name no longer created (or closed), until
/// the case is valid again.
pub fn repair(mut steps: Vec<Step>) -> Case {
    loop {
        let case = Case { steps: steps.clone(), tail: Vec::new() };
        match compile(&case) {
            Ok(_) => return case,
            Err(e) => {
                steps.remove(e.step);
            }
        }
    }
}

/// Statistics of one minimization.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Candidates tried (each one real run).
    pub tries: usize,
}

/// Shrinks `case` while `fails` holds. `fails(case)` must be true for the
/// input; the result is 1-minimal: removing any one statement (with what
/// depends on it) makes `fails` false.
pub fn minimize(case: &Case, mut fails: impl FnMut(&Case) -> bool) -> (Case, Stats) {
    let mut stats = Stats::default();
    let mut test = |c: &Case, stats: &mut Stats| {
        stats.tries += 1;
        fails(c)
    };
    let mut best = strip(case);
    // Chunks of halving size, then single statements, until nothing goes.
    let mut chunk = (best.len() / 2).max(1);
    loop {
        let mut progress = false;
        let mut start = 0;
        while start < best.len() {
            let end = (start + chunk).min(best.len());
            let mut steps = best.steps.clone();
            steps.drain(start..end);
            let cand = repair(steps);
            if cand.len() < best.len() && test(&cand, &mut stats) {
                best = cand;
                progress = true;
            } else {
                start = end;
            }
        }
        if chunk == 1 && !progress {
            break;
        }
        if !progress {
            chunk = (chunk / 2).max(1);
        }
    }
    // Simplify what is left, one change at a time.
    loop {
        let mut changed = false;
        for cand in simplifications(&best) {
            if cand != best && test(&cand, &mut stats) {
                best = cand;
                changed = true;
                break;
            }
        }
        if !changed {
            break;
        }
    }
    (best, stats)
}

/// The case without comments.
fn strip(case: &Case) -> Case {
    Case::from_stmts(case.stmts().cloned())
}

/// Candidate simplifications of `case`, each a valid case, plainest first.
pub fn simplifications(case: &Case) -> Vec<Case> {
    let mut out = Vec::new();
    let stmts: Vec<Stmt> = case.stmts().cloned().collect();
    // Drop `as other`.
    for (i, s) in stmts.iter().enumerate() {
        if let Stmt::Socket { name, kind, other: true } = s {
            let mut v = stmts.clone();
            v[i] = Stmt::Socket { name: name.clone(), kind: *kind, other: false };
            out.push(Case::from_stmts(v));
        }
    }
    // tcp6 -> tcp4, udp6 -> udp4, with every address of that socket made IPv4.
    for s in &stmts {
        if let Stmt::Socket { name, kind, .. } = s {
            if kind.family == Family::V6 {
                if let Some(c) = to_v4(&stmts, name) {
                    out.push(c);
                }
            }
        }
    }
    // Plainer addresses.
    for (i, s) in stmts.iter().enumerate() {
        let addr = match s {
            Stmt::Bind { addr, .. } | Stmt::Connect { addr, .. } | Stmt::Probe { addr, .. } => *addr,
            _ => continue,
        };
        for plain in plainer(addr, matches!(s, Stmt::Bind { .. })) {
            let mut v = stmts.clone();
            set_addr(&mut v[i], plain);
            out.push(Case::from_stmts(v));
        }
    }
    // Lower port symbols: renumber in order of first use.
    if let Some(c) = renumber_ports(&stmts) {
        out.push(c);
    }
    // Names a, b, c in order of creation.
    if let Some(c) = rename(&stmts) {
        out.push(c);
    }
    out.retain(|c| compile(c).is_ok());
    out
}

fn set_addr(s: &mut Stmt, a: Addr) {
    match s {
        Stmt::Bind { addr, .. } | Stmt::Connect { addr, .. } | Stmt::Probe { addr, .. } => *addr = a,
        _ => {}
    }
}

/// Addresses simpler than `a`, simplest first, keeping the family of the
/// sockaddr (and loopback for connect and probe).
fn plainer(a: Addr, bind: bool) -> Vec<Addr> {
    use Addr::*;
    let order: &[Addr] = match (a.family(), bind) {
        (Family::V4, true) => &[Any4, Lo4, Lo4b, TestNet],
        (Family::V4, false) => &[Lo4, Lo4b],
        (Family::V6, true) => &[Any6, Lo6, MappedLo4, MappedAny4, MappedLo4b],
        (Family::V6, false) => &[Lo6, MappedLo4, MappedLo4b],
    };
    order.iter().copied().take_while(|x| *x != a).collect()
}

/// IPv4 form of an address, for a socket turned from IPv6 to IPv4.
fn v4_form(a: Addr) -> Addr {
    match a {
        Addr::Any6 | Addr::MappedAny4 => Addr::Any4,
        Addr::Lo6 | Addr::MappedLo4 => Addr::Lo4,
        Addr::MappedLo4b => Addr::Lo4b,
        a => a,
    }
}

fn to_v4(stmts: &[Stmt], target: &Name) -> Option<Case> {
    // Only while the name means this socket (until it is created again).
    let mut v = stmts.to_vec();
    let mut live = false;
    for s in v.iter_mut() {
        match s {
            Stmt::Socket { name, kind, .. } if name == target => {
                if live {
                    break;
                }
                live = true;
                *kind = Kind { proto: kind.proto, family: Family::V4 };
            }
            Stmt::Bind { name, addr, .. } | Stmt::Connect { name, addr, .. } if live && name == target => {
                *addr = v4_form(*addr);
            }
            _ => {}
        }
    }
    Some(Case::from_stmts(v))
}

fn renumber_ports(stmts: &[Stmt]) -> Option<Case> {
    let mut map: Vec<u8> = Vec::new();
    let mut v = stmts.to_vec();
    for s in v.iter_mut() {
        if let Stmt::Bind { port: Port::Sym(n), .. }
        | Stmt::Connect { port: Port::Sym(n), .. }
        | Stmt::Probe { port: Port::Sym(n), .. } = s
        {
            let i = match map.iter().position(|m| m == n) {
                Some(i) => i,
                None => {
                    map.push(*n);
                    map.len() - 1
                }
            };
            *n = i as u8 + 1;
        }
    }
    (v != stmts).then(|| Case::from_stmts(v))
}

fn rename(stmts: &[Stmt]) -> Option<Case> {
    // Each creation gets the next letter; uses follow the name's current meaning.
    let mut current: Vec<(Name, Name)> = Vec::new();
    let mut made = 0usize;
    let fresh = |made: &mut usize| {
        let n = if *made < 26 { ((b'a' + *made as u8) as char).to_string() } else { format!("s{made}") };
        *made += 1;
        Name::new(&n)
    };
    let map =
        |current: &Vec<(Name, Name)>, n: &Name| current.iter().rev().find(|(o, _)| o == n).map(|(_, m)| m.clone());
    let mut v = Vec::with_capacity(stmts.len());
    for s in stmts {
        let mut s = s.clone();
        match &mut s {
            Stmt::Socket { name, .. } => {
                let new = fresh(&mut made);
                current.push((name.clone(), new.clone()));
                *name = new;
            }
            Stmt::Accept { name, listener } => {
                *listener = map(&current, listener)?;
                let new = fresh(&mut made);
                current.push((name.clone(), new.clone()));
                *name = new;
            }
            Stmt::Set { name, .. } | Stmt::Listen { name } | Stmt::Close { name } => *name = map(&current, name)?,
            Stmt::Bind { name, port, .. } | Stmt::Connect { name, port, .. } => {
                *name = map(&current, name)?;
                if let Port::Of(n) = port {
                    *n = map(&current, n)?;
                }
            }
            Stmt::Probe { port, .. } => {
                if let Port::Of(n) = port {
                    *n = map(&current, n)?;
                }
            }
        }
        v.push(s);
    }
    (v != stmts).then(|| Case::from_stmts(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::parse;

    fn case(text: &str) -> Case {
        parse("t", text).unwrap()
    }

    #[test]
    fn removing_a_socket_removes_its_uses() {
        let c = case("a = socket tcp4\nb = socket tcp4\nbind a 0.0.0.0:P1\nbind b 0.0.0.0:@a\nclose a\n");
        let mut steps = c.steps.clone();
        steps.remove(0);
        let r = repair(steps);
        assert_eq!(crate::case::one_line(&r), "b = socket tcp4");
    }

    /// A planted "mismatch": the case fails when it binds a socket to P1
    /// twice on the same address; padding around it must go.
    #[test]
    fn shrinks_to_a_one_minimal_case() {
        let fails = |c: &Case| {
            let stmts: Vec<String> = c.stmts().map(|s| s.to_string()).collect();
            let binds = stmts.iter().filter(|s| s.starts_with("bind ") && s.ends_with(" 127.0.0.1:P1")).count();
            binds >= 2 && stmts.iter().any(|s| s.starts_with("set ") && s.contains(" reuseaddr on"))
        };
        let mut text = String::from("a = socket tcp4\nb = socket tcp4\n");
        for i in 0..20 {
            text.push_str(&format!("c{i} = socket udp6\nbind c{i} [::1]:P3\n"));
        }
        text.push_str("set a reuseaddr on\nbind a 127.0.0.1:P1\nlisten a\nbind b 127.0.0.1:P1\nclose a\n");
        let big = case(&text);
        assert!(big.len() > 40);
        let (small, stats) = minimize(&big, fails);
        assert_eq!(
            crate::case::one_line(&small),
            "a = socket tcp4 ; b = socket tcp4 ; set a reuseaddr on ; bind a 127.0.0.1:P1 ; bind b 127.0.0.1:P1"
        );
        assert!(stats.tries > 0);
        // 1-minimal: removing any one statement loses the failure.
        for i in 0..small.len() {
            let mut steps = small.steps.clone();
            steps.remove(i);
            assert!(!fails(&repair(steps)), "statement {i} could go");
        }
    }

    #[test]
    fn simplifications_turn_ipv6_into_ipv4_and_rename() {
        let c = case("x = socket tcp6 as other\nbind x [::ffff:127.0.0.1]:P3\nconnect x [::1]:P3\n");
        let lines: Vec<String> = simplifications(&c).iter().map(crate::case::one_line).collect();
        assert!(lines.contains(&"x = socket tcp6 ; bind x [::ffff:127.0.0.1]:P3 ; connect x [::1]:P3".to_string()));
        assert!(lines.contains(&"x = socket tcp4 as other ; bind x 127.0.0.1:P3 ; connect x 127.0.0.1:P3".to_string()));
        assert!(
            lines.contains(&"x = socket tcp6 as other ; bind x [::ffff:127.0.0.1]:P1 ; connect x [::1]:P1".to_string())
        );
        assert!(
            lines.contains(&"a = socket tcp6 as other ; bind a [::ffff:127.0.0.1]:P3 ; connect a [::1]:P3".to_string())
        );
    }
}
