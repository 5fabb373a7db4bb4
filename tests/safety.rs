//! Issue 12, item 6: no input makes sockdiff send traffic off the host.
//! The parser, the generator (its unit test `nothing_generated_sends_off_the_host`)
//! and the executor each refuse a `connect` or `probe` to an address that is
//! not loopback; these tests try to get past the parser through every command
//! that reads a case, and past both to the executor with a program built by hand.

use crate::util::*;

/// Case files that aim at 192.0.2.1, 8.8.8.8, other addresses and the
/// wildcard: every command that reads cases refuses them before any socket
/// exists, with the file, line and column.
#[test]
fn case_files_aimed_off_the_host_are_refused_everywhere() {
    let d = tmp("safety-files");
    let bad = [
        ("connect a 192.0.2.1:P1", 11),
        ("connect a 8.8.8.8:P1", 11),
        ("connect a [2001:db8::1]:P1", 11),
        ("connect a [::ffff:8.8.8.8]:P1", 11),
        ("connect a 0.0.0.0:P1", 11),
        ("connect a [::]:P1", 11),
        ("probe udp4 192.0.2.1:P1", 12),
        ("probe tcp4 8.8.8.8:P1", 12),
        ("probe udp6 [::ffff:0.0.0.0]:P1", 12),
    ];
    for (i, (stmt, col)) in bad.iter().enumerate() {
        let sub = d.join(format!("bad{i}"));
        std::fs::create_dir(&sub).unwrap();
        let f = write(&sub, "bad.case", &format!("a = socket tcp4\n{stmt}\nclose a\n"));
        let f = f.to_str().unwrap();
        for cmd in [&["predict", f][..], &["replay", f], &["minimize", f], &["corpus", "check", sub.to_str().unwrap()]]
        {
            let o = run(cmd);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{cmd:?} {stmt}: {err}");
            assert!(
                err.contains(&format!(":2:{col}: ")) && err.contains("only target loopback"),
                "{cmd:?} {stmt}: {err}"
            );
            assert_eq!(err.lines().count(), 1, "{cmd:?}: {err}");
        }
    }
    // Binding to 192.0.2.1 is allowed: it sends nothing.
    let f = write(&d, "bind.case", "a = socket udp4\nbind a 192.0.2.1:P1\nclose a\n");
    let o = run(&["predict", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // What the bind answers is the host model's to say (Linux refuses a
    // never-local address; Wine lets a UDP socket bind it).
    if cfg!(target_os = "linux") {
        assert!(stdout(&o).contains("EADDRNOTAVAIL"), "{}", stdout(&o));
    }
    remove(&d);
}

/// IP and UDP output counters of this thread's network namespace.
#[cfg(target_os = "linux")]
fn out_counters() -> Vec<(String, u64)> {
    let text = std::fs::read_to_string("/proc/thread-self/net/snmp").unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for pair in lines.chunks(2) {
        let (names, values) = (pair[0].split_whitespace(), pair[1].split_whitespace());
        for (n, v) in names.zip(values).skip(1) {
            if n.starts_with("Out") || n == "ActiveOpens" || n == "AttemptFails" {
                out.push((format!("{}{n}", pair[0].split(':').next().unwrap()), v.parse().unwrap_or(0)));
            }
        }
    }
    out
}

/// A program built by hand (no parser, no generator) that connects and
/// probes 192.0.2.1 is handed to the executor: `begin` refuses it, and
/// statements handed to `step` directly come back EACCES without a packet
/// leaving (the namespace's IP, TCP and UDP output counters do not move;
/// a real attempt would count OutNoRoutes or a datagram).
#[cfg(target_os = "linux")]
#[test]
fn the_executor_refuses_a_hand_built_program_aimed_off_the_host() {
    use sockdiff::case::{Addr, Kind, Name, Op, PortRef, Program};
    use sockdiff::exec::{self, Isolation};
    use sockdiff::outcome::{Errno, Outcome};
    if !live_allowed("safety-exec") || !is_root() {
        return;
    }
    std::thread::spawn(|| {
        let prep = exec::prepare_process(&Isolation::PrivateNetns).unwrap();
        let mut ex = exec::new_executor(&prep, 0, 1).unwrap();
        let prog = |ops: Vec<Op>| Program { names: vec![Name::new("a")], kinds: vec![Kind::TCP4], ops };
        let sock = Op::Socket { slot: 0, kind: Kind::TCP4, other: false };
        let connect = |addr| Op::Connect { slot: 0, addr, port: PortRef::Sym(1) };
        let probe = |kind, addr| Op::Probe { kind, addr, port: PortRef::Sym(1) };
        for bad in [
            connect(Addr::TestNet),
            connect(Addr::Any4),
            probe(Kind::UDP4, Addr::TestNet),
            probe(Kind::TCP6, Addr::Any6),
        ] {
            let e = ex.begin(&prog(vec![sock, bad])).unwrap_err();
            assert!(e.0.contains("statement 2") && e.0.contains("is not loopback"), "{bad:?}: {e}");
        }
        // Past begin: a harmless program begun, then the bad statements stepped.
        ex.begin(&prog(vec![sock, connect(Addr::Lo4)])).unwrap();
        assert_eq!(ex.step(&sock, 0, false).outcome, Outcome::Ok);
        let before = out_counters();
        for bad in [connect(Addr::TestNet), probe(Kind::UDP4, Addr::TestNet), probe(Kind::TCP4, Addr::TestNet)] {
            assert_eq!(ex.step(&bad, 53, false).outcome, Outcome::Err(Errno::EACCES), "{bad:?}");
        }
        assert_eq!(out_counters(), before, "a packet was attempted");
        // The same counters do move for a loopback connect (so they can tell).
        let _ = ex.step(&connect(Addr::Lo4), ex.sym_port(1), false);
        assert_ne!(out_counters(), before, "the counters did not see a loopback connect");
        ex.end();
    })
    .join()
    .unwrap();
}
