//! Unit tests of the Linux model: small cases through the model alone.

use super::*;
use crate::case::{compile, parse};
use crate::model::{Belief, resolve_port};

/// Runs a case through the model alone and returns outcome and rule per step.
fn predict(text: &str) -> Vec<(String, &'static str)> {
    let case = parse("t", text).unwrap();
    let prog = compile(&case).unwrap();
    let m = Linux::new(None, false);
    let mut belief = Belief::new(&m, &prog);
    let mut out = Vec::new();
    for op in &prog.ops {
        let port = resolve_port(&belief.states[0], op).expect("port");
        let ctx = StepCtx { names: &prog.names, port, observed: None };
        let (set, rule, branches) = belief.predict(&m, op, &ctx);
        out.push((set.to_string(), rule));
        belief.advance(branches, None);
    }
    out
}

fn outcomes(text: &str) -> Vec<String> {
    predict(text).into_iter().map(|(o, _)| o).collect()
}

#[test]
fn an_active_close_with_reuseport_may_leave_time_wait_at_once() {
    let open = "l = socket tcp4\nbind l 127.0.0.1:P1\nlisten l\na = socket tcp4\nset a reuseport on\nbind a 127.0.0.1:P2\nconnect a 127.0.0.1:P1\nx = accept l\nclose a\n";
    // Another user's reuseport bind: refused by a full FIN_WAIT2 socket,
    // allowed by a TIME_WAIT entry; the same user passes either.
    let other = format!("{open}b = socket tcp4 as other\nset b reuseport on\nbind b 127.0.0.1:P2\n");
    let r = predict(&other);
    assert_eq!(r[8], ("ok".into(), LINUX_TCP_FIN_WAIT2_RACE));
    assert_eq!(r[11].0, "{EADDRINUSE,ok}");
    let same = format!("{open}b = socket tcp4\nset b reuseport on\nbind b 127.0.0.1:P2\n");
    assert_eq!(predict(&same)[11], ("ok".into(), LINUX_TCP_REUSEPORT_PAIR));
    // Neither form gives its 4-tuple to a connect.
    let again = format!("{open}b = socket tcp4\nset b reuseport on\nbind b 127.0.0.1:P2\nconnect b 127.0.0.1:P1\n");
    assert_eq!(predict(&again)[12], ("EADDRNOTAVAIL".into(), LINUX_TCP_CONNECT_STATE));
    // Without reuseport the two forms answer alike: no choice is kept.
    let plain = open.replace("set a reuseport on\n", "");
    assert_eq!(predict(&plain).last().unwrap(), &("ok".to_string(), LINUX_TCP_TIMEWAIT_BLOCKS));
}

#[test]
fn a_listener_that_received_may_win_on_its_cpu_and_a_flag_turned_off_skips_the_group() {
    let pair = "a = socket tcp4\nset a reuseport on\nbind a 0.0.0.0:P1\nc = socket tcp4\nset c reuseport on\nbind c 0.0.0.0:P1\nlisten a\nset a reuseport off\nlisten c\nset c reuseport off\nprobe tcp4 127.0.0.1:P1\n";
    // Flags off: no group; the newest (first in the chain) takes it.
    assert_eq!(predict(pair).last().unwrap(), &("->c".to_string(), LINUX_TCP_DELIVER_FAMILY));
    // a's refused connect set its incoming CPU: it may score one more.
    let received = pair.replace("set a reuseport on\n", "set a reuseport on\nconnect a 127.0.0.1:P1\n");
    let r = predict(&received);
    assert_eq!(r[2].0, "ECONNREFUSED");
    assert_eq!(r.last().unwrap(), &("{->a,->c}".to_string(), LINUX_TCP_DELIVER_INCOMING_CPU));
    // With the flags on, the group answers.
    let group = pair.replace("set a reuseport off\n", "").replace("set c reuseport off\n", "");
    assert_eq!(predict(&group).last().unwrap(), &("{->a,->c}".to_string(), LINUX_TCP_DELIVER_REUSEPORT));
}

#[test]
fn unconnected_udp_sockets_get_no_cpu_bonus() {
    // b received first, but a datagram to the pair still goes to the newest.
    let text = "a = socket udp4\nset a reuseaddr on\nbind a 0.0.0.0:P1\nprobe udp4 127.0.0.1:P1\nb = socket udp4\nset b reuseaddr on\nbind b 0.0.0.0:P1\nprobe udp4 127.0.0.1:P1\n";
    let r = predict(text);
    assert_eq!(r[3].0, "->a");
    assert_eq!(r[7], ("->b".to_string(), LINUX_UDP_DELIVER));
}

#[test]
fn before_6_8_the_first_owner_sets_the_reuseaddr_memo() {
    let text = "a = socket tcp4\nb = socket tcp4\nset a reuseaddr on\nbind a 127.0.0.1:P1\nset a reuseaddr off\nset b reuseaddr on\nbind b 127.0.0.1:P1\n";
    assert_eq!(outcomes(text).last().unwrap(), "EADDRINUSE");
    let old = Linux::new(Version::parse("6.7"), false);
    let case = parse("t", text).unwrap();
    let prog = compile(&case).unwrap();
    let p = crate::run::predict_case(&old, &prog).unwrap();
    assert_eq!(p.last().unwrap().0.to_string(), "ok");
    assert_eq!(p.last().unwrap().1, LINUX_TCP_FASTREUSE_STALE);
}

#[test]
fn reuseaddr_needs_both_and_no_listener() {
    let base = "a = socket tcp4\nb = socket tcp4\nset a reuseaddr on\nset b reuseaddr on\nbind a 127.0.0.1:P1\n";
    assert_eq!(outcomes(&format!("{base}bind b 127.0.0.1:P1\n")).last().unwrap(), "ok");
    assert_eq!(outcomes(&format!("{base}listen a\nbind b 127.0.0.1:P1\n")).last().unwrap(), "EADDRINUSE");
    let r = predict(&format!("{base}bind b 0.0.0.0:P1\nlisten a\nlisten b\n"));
    assert_eq!(r.last().unwrap(), &("EADDRINUSE".to_string(), LINUX_TCP_LISTEN_CONFLICT));
}

#[test]
fn reuseport_needs_the_same_user() {
    let r = predict(
        "a = socket tcp4\nb = socket tcp4 as other\nset a reuseport on\nset b reuseport on\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\n",
    );
    assert_eq!(r[5].0, "EADDRINUSE");
    let r = predict(
        "a = socket tcp6\nb = socket tcp6\nset a reuseport on\nset b reuseport on\nbind a [::]:P1\nlisten a\nbind b [::]:P1\nlisten b\n",
    );
    assert_eq!(r[6], ("ok".to_string(), LINUX_TCP_REUSEPORT_PAIR));
    assert_eq!(r[7].0, "ok");
}

#[test]
fn stale_reuseport_memo_skips_the_scan() {
    // docs/semantics/linux.md#the-port-memo, consequence (1).
    let r = predict(
        "a = socket tcp4\nb = socket tcp4\nset a reuseport on\nbind a 127.0.0.1:P1\nset a reuseport off\nset b reuseport on\nbind b 127.0.0.1:P1\n",
    );
    assert_eq!(r[6], ("ok".to_string(), LINUX_TCP_FASTREUSEPORT_STALE));
    // Consequence (2): order b, a, c gives ok; a, b, c gives EADDRINUSE.
    let bac = "a = socket tcp4\nb = socket tcp4\nc = socket tcp4\nset b reuseaddr on\nset a reuseaddr on\nset a reuseport on\nset c reuseport on\nbind b 0.0.0.0:P1\nbind a 127.0.0.1:P1\nbind c 127.0.0.1:P1\n";
    assert_eq!(outcomes(bac).last().unwrap(), "ok");
    let abc = bac.replace("bind b 0.0.0.0:P1\nbind a 127.0.0.1:P1\n", "bind a 127.0.0.1:P1\nbind b 0.0.0.0:P1\n");
    assert_eq!(outcomes(&abc).last().unwrap(), "EADDRINUSE");
}

#[test]
fn dual_stack_wildcard_overlaps_ipv4() {
    assert_eq!(outcomes("a = socket tcp6\nb = socket tcp4\nbind a [::]:P1\nbind b 127.0.0.1:P1\n")[3], "EADDRINUSE");
    assert_eq!(
        outcomes("a = socket tcp6\nb = socket tcp4\nset a v6only on\nbind a [::]:P1\nbind b 0.0.0.0:P1\n")[4],
        "ok"
    );
    assert_eq!(outcomes("a = socket udp6\nset a v6only on\nbind a [::ffff:127.0.0.1]:P1\n")[2], "EINVAL");
}

#[test]
fn time_wait_blocks_the_active_closer_only() {
    let base = "l = socket tcp4\nset l reuseaddr on\nbind l 127.0.0.1:P1\nlisten l\nc = socket tcp4\nconnect c 127.0.0.1:P1\ns = accept l\n";
    // Server closes first: P1 is in TIME_WAIT with reuseaddr (from l).
    let r = predict(&format!("{base}close s\nclose c\nclose l\nn = socket tcp4\nbind n 127.0.0.1:P1\n"));
    assert_eq!(r.last().unwrap(), &("EADDRINUSE".to_string(), LINUX_TCP_TIMEWAIT_BLOCKS));
    let r = predict(&format!(
        "{base}close s\nclose c\nclose l\nn = socket tcp4\nset n reuseaddr on\nbind n 127.0.0.1:P1\n"
    ));
    assert_eq!(r.last().unwrap(), &("ok".to_string(), LINUX_TCP_REUSEADDR_PAIR));
    // Client closes first: the server side is free.
    let r = predict(&format!("{base}close c\nclose s\nclose l\nn = socket tcp4\nbind n 127.0.0.1:P1\n"));
    assert_eq!(r[8].1, LINUX_TCP_PASSIVE_CLOSE);
    assert_eq!(r.last().unwrap().0, "ok");
    // linger0: no TIME_WAIT.
    let r =
        predict(&format!("{base}set s linger0 on\nclose s\nclose c\nclose l\nn = socket tcp4\nbind n 127.0.0.1:P1\n"));
    assert_eq!(r.last().unwrap().0, "ok");
}

#[test]
fn refused_connect_unbinds_an_autobound_socket() {
    let r = outcomes("c = socket tcp4\nconnect c 127.0.0.1:P1\nbind c 127.0.0.1:P2\nlisten c\n");
    assert_eq!(r, vec!["ok", "ECONNREFUSED", "ok", "ok"]);
    let r = outcomes("c = socket tcp4\nbind c 127.0.0.1:P2\nconnect c 127.0.0.1:P1\nbind c 127.0.0.1:P3\n");
    assert_eq!(r[3], "EINVAL");
}

#[test]
fn accept_and_connect_states() {
    let r = outcomes(
        "l = socket tcp4\nlisten l\nx = accept l\nc = socket tcp4\nconnect c 127.0.0.1:@l\nconnect c 127.0.0.1:@l\nlisten c\ny = accept l\nz = accept l\nclose x\n",
    );
    assert_eq!(r, vec!["ok", "ok", "EAGAIN", "ok", "ok", "EISCONN", "EINVAL", "ok", "EAGAIN", "EBADF"]);
}

#[test]
fn ipv4_checks_the_address_before_the_state_ipv6_after() {
    assert_eq!(outcomes("a = socket tcp4\nbind a 127.0.0.1:P1\nbind a 192.0.2.1:P2\n")[2], "EADDRNOTAVAIL");
    assert_eq!(
        outcomes("a = socket udp6\nbind a [::1]:P1\nset a v6only on\nbind a [::ffff:127.0.0.1]:P2\n")[2..],
        ["EINVAL", "EINVAL"]
    );
}

#[test]
fn udp_reuseport_first_match_depends_on_order() {
    let bac = "a = socket udp4\nb = socket udp4\nc = socket udp4\nset b reuseaddr on\nset a reuseaddr on\nset a reuseport on\nset c reuseport on\nbind b 0.0.0.0:P1\nbind a 127.0.0.1:P1\nbind c 127.0.0.1:P1\n";
    let r = predict(bac);
    assert_eq!(r.last().unwrap(), &("ok".to_string(), LINUX_UDP_REUSEPORT_FIRST_MATCH));
    let abc = bac.replace("bind b 0.0.0.0:P1\nbind a 127.0.0.1:P1\n", "bind a 127.0.0.1:P1\nbind b 0.0.0.0:P1\n");
    assert_eq!(outcomes(&abc).last().unwrap(), "EADDRINUSE");
}

#[test]
fn options_linux_lacks_are_enoprotoopt() {
    let r = predict("a = socket tcp4\nset a exclusiveaddruse on\nset a reuseport_lb on\nset a v6only on\n");
    assert_eq!(r[1], ("ENOPROTOOPT".to_string(), LINUX_UNKNOWN_OPTION));
    assert_eq!(r[2].0, "ENOPROTOOPT");
    assert_eq!(r[3], ("ENOPROTOOPT".to_string(), LINUX_V6ONLY_ON_V4));
}

#[test]
fn a_reset_socket_may_bind_again() {
    // The listener closes with the connection still queued: the client is reset.
    let r = outcomes(
        "l = socket tcp4\nlisten l\nc = socket tcp4\nconnect c 127.0.0.1:@l\nclose l\nbind c 127.0.0.1:P1\nlisten c\n",
    );
    assert_eq!(r[5..], ["ok", "EINVAL"]);
}

#[test]
fn mapped_connect_leaves_ipv4_operations_behind() {
    let r = predict(
        "a = socket tcp6\nconnect a [::ffff:127.0.0.1]:P1\nbind a [::]:P1\nconnect a [::1]:P1\nconnect a [::1]:P1\n",
    );
    assert_eq!(r[3], ("ETIMEDOUT".to_string(), LINUX_TCP_MAPPED_OPS_STALE));
    assert_eq!(r[4].0, "EALREADY");
}

#[test]
fn self_connect_succeeds_and_leaves_time_wait() {
    let r = outcomes(
        "a = socket tcp4\nbind a 127.0.0.1:P1\nconnect a 127.0.0.1:P1\nclose a\nb = socket tcp4\nbind b 127.0.0.1:P1\n",
    );
    assert_eq!(r, vec!["ok", "ok", "ok", "ok", "ok", "EADDRINUSE"]);
}

#[test]
fn reuseport_group_gets_a_set() {
    let r = outcomes(
        "a = socket tcp4\nb = socket tcp4\nset a reuseport on\nset b reuseport on\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\nlisten a\nlisten b\nc = socket tcp4\nconnect c 127.0.0.1:P1\nx = accept a\nprobe tcp4 127.0.0.1:P1\n",
    );
    assert_eq!(r[10], "{EAGAIN,ok}");
    assert_eq!(r[11], "{->a,->b}");
}

/// The last statement's outcome and rule under `m`.
fn last_with(m: &Linux, text: &str) -> (String, &'static str) {
    let prog = compile(&parse("t", text).unwrap()).unwrap();
    let p = crate::run::predict_case(m, &prog).unwrap();
    let (o, r) = p.last().unwrap();
    (o.to_string(), r)
}

#[test]
fn before_6_18_the_memo_outlives_its_owner_while_a_connected_socket_holds_the_port() {
    // corpus/linux/reuse/memo-outlives-release.case, up to bind e.
    let text = "l = socket tcp4\nbind l 127.0.0.1:P1\nlisten l\nc = socket tcp4\nset c reuseaddr on\nconnect c 127.0.0.1:P1\nd = socket tcp4\nset d reuseaddr on\nset d reuseport on\nbind d 0.0.0.0:@c\nclose d\ne = socket tcp4\nset e reuseport on\nbind e 127.0.0.1:@c\n";
    assert_eq!(last_with(&Linux::new(None, false), text), ("EADDRINUSE".into(), LINUX_TCP_BIND_CONFLICT));
    for v in ["6.1", "6.12", "6.17"] {
        let m = Linux::new(Version::parse(v), false);
        assert_eq!(last_with(&m, text), ("ok".into(), LINUX_TCP_MEMO_OUTLIVES_RELEASE), "{v}");
    }
    // With d still open the memo is live on every version.
    let open = text.replace("close d\n", "");
    assert_eq!(last_with(&Linux::new(None, false), &open), ("ok".into(), LINUX_TCP_FASTREUSEPORT_STALE));
    assert_eq!(
        last_with(&Linux::new(Version::parse("6.12"), false), &open),
        ("ok".into(), LINUX_TCP_FASTREUSEPORT_STALE)
    );
}

#[test]
fn mapped_any_missed_misses_the_wildcard_entry_a_tcp6_socket_made() {
    let m = Linux::new(Version::parse("6.1"), false).with_mapped_any_missed(true);
    let up = Linux::new(Version::parse("6.1"), false);
    let mapped = "a = socket tcp6\nb = socket tcp6\nbind a [::ffff:0.0.0.0]:P1\nbind b [::ffff:127.0.0.1]:P1\n";
    assert_eq!(last_with(&m, mapped), ("ok".into(), LINUX_TCP_MAPPED_ANY_MISSED));
    assert_eq!(last_with(&up, mapped).0, "EADDRINUSE");
    // A tcp4 0.0.0.0 that joined the entry later is missed with it ...
    let joined = "a = socket tcp6\nf = socket tcp4\nb = socket tcp6\nset a reuseaddr on\nset f reuseaddr on\nbind a [::ffff:0.0.0.0]:P1\nbind f 0.0.0.0:P1\nbind b [::ffff:127.0.0.1]:P1\n";
    assert_eq!(last_with(&m, joined), ("ok".into(), LINUX_TCP_MAPPED_ANY_MISSED));
    // ... but an entry a tcp4 0.0.0.0 made is seen, with every member.
    let made4 = "a = socket tcp6\nf = socket tcp4\nb = socket tcp6\nset a reuseaddr on\nset f reuseaddr on\nbind f 0.0.0.0:P1\nbind a [::ffff:0.0.0.0]:P1\nbind b [::ffff:127.0.0.1]:P1\n";
    assert_eq!(last_with(&m, made4), ("EADDRINUSE".into(), LINUX_TCP_BIND_CONFLICT));
    // The other order still conflicts.
    let other = "a = socket tcp6\nb = socket tcp6\nbind b [::ffff:127.0.0.1]:P1\nbind a [::ffff:0.0.0.0]:P1\n";
    assert_eq!(last_with(&m, other).0, "EADDRINUSE");
}
