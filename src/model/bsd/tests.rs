//! Unit tests of the FreeBSD and macOS models: small cases through the models alone.

use super::*;
use crate::case::{compile, parse};
use crate::model::{Belief, resolve_port};

fn fbsd() -> Bsd {
    Bsd::freebsd(None)
}

fn fbsd_at(v: &str) -> Bsd {
    Bsd::freebsd(Version::parse(v))
}

fn mac() -> Bsd {
    Bsd::macos(None)
}

/// Runs a case through a model alone: outcome set and rule per step.
fn run(m: &Bsd, text: &str) -> Vec<(String, &'static str)> {
    let case = parse("t", text).unwrap();
    let prog = compile(&case).unwrap();
    let mut belief = Belief::new(m, &prog);
    let mut out = Vec::new();
    for op in &prog.ops {
        let port = resolve_port(&belief.states[0], op).expect("port");
        let ctx = StepCtx { names: &prog.names, port, observed: None };
        let (set, rule, branches) = belief.predict(m, op, &ctx);
        out.push((set.to_string(), rule));
        belief.advance(branches, None);
    }
    out
}

/// The outcome and rule of the last statement.
fn last(m: &Bsd, text: &str) -> (String, &'static str) {
    run(m, text).pop().unwrap()
}

fn is(outcome: &str, rule: &'static str) -> (String, &'static str) {
    (outcome.to_string(), rule)
}

/// Both models give the same last outcome and rule.
fn both(text: &str, outcome: &str, rule: &'static str) {
    assert_eq!(last(&fbsd(), text), is(outcome, rule), "freebsd: {text}");
    assert_eq!(last(&mac(), text), is(outcome, rule), "macos: {text}");
}

const TWO4: &str = "a = socket tcp4\nb = socket tcp4\n";

// ---- socket and options --------------------------------------------------

#[test]
fn v6only_defaults_differ() {
    let text = "a = socket tcp6\nb = socket tcp4\nbind a [::]:P1\nbind b 0.0.0.0:P1\n";
    let f = run(&fbsd(), text);
    assert_eq!(f[0], is("ok", FREEBSD_V6ONLY_DEFAULT));
    assert_eq!(f[1], is("ok", BSD_SOCKET));
    assert_eq!(f[3].0, "ok");
    let m = run(&mac(), text);
    assert_eq!(m[0], is("ok", MACOS_V6ONLY_DEFAULT));
    assert_eq!(m[3], is("EADDRINUSE", BSD_V4_THEN_DUALSTACK));
}

#[test]
fn unknown_options_are_enoprotoopt() {
    let text = "a = socket tcp4\nset a exclusiveaddruse on\nset a reuseport_lb on\n";
    let f = run(&fbsd(), text);
    assert_eq!(f[1], is("ENOPROTOOPT", FREEBSD_UNKNOWN_OPTION));
    assert_eq!(f[2], is("ok", BSD_OPTIONS_ANY_TIME));
    assert_eq!(run(&fbsd_at("11"), text)[2], is("ENOPROTOOPT", FREEBSD_UNKNOWN_OPTION));
    let m = run(&mac(), text);
    assert_eq!(m[1], is("ENOPROTOOPT", MACOS_UNKNOWN_OPTION));
    assert_eq!(m[2], is("ENOPROTOOPT", MACOS_UNKNOWN_OPTION));
}

#[test]
fn v6only_only_before_bind_and_never_on_ipv4() {
    both("a = socket tcp4\nset a v6only on\n", "EINVAL", BSD_V6ONLY_AFTER_BIND);
    both("a = socket udp6\nbind a [::]:0\nset a v6only off\n", "EINVAL", BSD_V6ONLY_AFTER_BIND);
    both("a = socket tcp6\nset a v6only off\nset a reuseaddr on\n", "ok", BSD_OPTIONS_ANY_TIME);
    both("a = socket tcp6\nlisten a\nset a v6only on\n", "EINVAL", BSD_V6ONLY_AFTER_BIND);
}

#[test]
fn options_on_a_dropped_socket() {
    let text = "a = socket tcp6\nconnect a [::1]:P1\nset a v6only on\nset a reuseaddr on\n";
    let f = run(&fbsd(), text);
    assert_eq!(f[1], is("ECONNREFUSED", BSD_TCP_CONNECT_REFUSED));
    assert_eq!(f[2], is("ECONNRESET", FREEBSD_SETOPT_DROPPED));
    assert_eq!(f[3], is("ok", BSD_OPTIONS_ANY_TIME));
    let m = run(&mac(), text);
    assert_eq!(m[2], is("EINVAL", MACOS_SETOPT_DISCONNECTED));
    assert_eq!(m[3], is("EINVAL", MACOS_SETOPT_DISCONNECTED));
}

#[test]
fn a_dead_name_is_ebadf() {
    both("a = socket tcp4\nb = accept a\nbind b 127.0.0.1:P1\n", "EBADF", BSD_DEAD_NAME);
}

// ---- bind arguments -------------------------------------------------------

#[test]
fn bind_argument_checks() {
    both("a = socket tcp4\nbind a 127.0.0.1:P1\nbind a 127.0.0.1:P2\n", "EINVAL", BSD_BIND_TWICE);
    both("a = socket udp4\nbind a 192.0.2.1:P1\n", "EADDRNOTAVAIL", BSD_ADDR_NOT_LOCAL);
    both("a = socket tcp4\nbind a 127.0.0.2:P1\n", "EADDRNOTAVAIL", BSD_LOOPBACK_127_ONLY);
    both("a = socket udp6\nset a v6only off\nbind a [::ffff:127.0.0.2]:P1\n", "EADDRNOTAVAIL", BSD_LOOPBACK_127_ONLY);
    both("a = socket tcp6\nset a v6only on\nbind a [::ffff:127.0.0.1]:P1\n", "EADDRNOTAVAIL", BSD_V4MAPPED_WITH_V6ONLY);
    both("a = socket tcp4\nbind a 127.0.0.1:0\n", "ok", BSD_PORT_ZERO);
}

#[test]
fn wrong_family_by_platform_and_version() {
    both("a = socket tcp4\nbind a [::1]:P1\n", "EAFNOSUPPORT", BSD_WRONG_FAMILY);
    both("a = socket tcp6\nbind a 127.0.0.1:P1\n", "EAFNOSUPPORT", BSD_WRONG_FAMILY);
    assert_eq!(last(&fbsd(), "a = socket udp6\nbind a 0.0.0.0:P1\n"), is("EAFNOSUPPORT", BSD_WRONG_FAMILY));
    assert_eq!(last(&mac(), "a = socket udp6\nbind a 0.0.0.0:P1\n"), is("EINVAL", MACOS_UDP_WRONG_FAMILY));
    assert_eq!(
        last(&fbsd_at("12"), "a = socket tcp4\nbind a [::]:P1\n"),
        is("{EAFNOSUPPORT,EINVAL}", FREEBSD_WRONG_FAMILY_LEGACY)
    );
}

// ---- bind conflicts -------------------------------------------------------

#[test]
fn same_address_needs_reuseport_on_both() {
    let base = format!("{TWO4}set a reuseaddr on\nset b reuseaddr on\nbind a 127.0.0.1:P1\n");
    both(&format!("{base}bind b 127.0.0.1:P1\n"), "EADDRINUSE", BSD_SAME_ADDR);
    let rp = format!("{TWO4}set a reuseport on\nset b reuseport on\nbind a 0.0.0.0:P1\n");
    both(&format!("{rp}bind b 0.0.0.0:P1\n"), "ok", BSD_CONFLICT);
    let only_t = format!("{TWO4}set a reuseport on\nbind a 0.0.0.0:P1\n");
    both(&format!("{only_t}bind b 0.0.0.0:P1\n"), "EADDRINUSE", BSD_SAME_ADDR);
    both(&format!("{TWO4}bind a 127.0.0.1:P1\nbind b 127.0.0.1:P2\n"), "ok", BSD_CONFLICT);
}

#[test]
fn specific_beside_wildcard_needs_an_option_on_the_new_socket_only() {
    both(&format!("{TWO4}bind a 0.0.0.0:P1\nbind b 127.0.0.1:P1\n"), "EADDRINUSE", BSD_SPECIFIC_BESIDE_WILD);
    both(&format!("{TWO4}bind a 127.0.0.1:P1\nbind b 0.0.0.0:P1\n"), "EADDRINUSE", BSD_SPECIFIC_BESIDE_WILD);
    both(&format!("{TWO4}bind a 0.0.0.0:P1\nset b reuseaddr on\nbind b 127.0.0.1:P1\n"), "ok", BSD_LOOKUP_MODE);
    both(&format!("{TWO4}bind a 127.0.0.1:P1\nset b reuseport on\nbind b 0.0.0.0:P1\n"), "ok", BSD_LOOKUP_MODE);
    let six = "a = socket tcp6\nb = socket tcp6\nbind a [::]:P1\nbind b [::1]:P1\n";
    both(six, "EADDRINUSE", BSD_SPECIFIC_BESIDE_WILD);
}

#[test]
fn a_listener_does_not_matter() {
    let text = format!("{TWO4}bind a 0.0.0.0:P1\nlisten a\nset b reuseaddr on\nbind b 127.0.0.1:P1\nlisten b\n");
    let r = run(&fbsd(), &text);
    assert_eq!(r[5], is("ok", BSD_LISTEN_IRRELEVANT));
    assert_eq!(r[6], is("ok", BSD_TCP_LISTEN_STATE));
    assert_eq!(run(&mac(), &text)[5], is("ok", BSD_LISTEN_IRRELEVANT));
}

/// A server with an accepted connection, closed and restarted.
const SERVER: &str =
    "l = socket tcp4\nbind l 127.0.0.1:P1\nlisten l\nc = socket tcp4\nconnect c 127.0.0.1:P1\ns = accept l\n";

#[test]
fn connected_sockets_block_plain_binds_only() {
    let r = run(&fbsd(), &format!("{SERVER}close l\nn = socket tcp4\nbind n 127.0.0.1:P1\n"));
    assert_eq!(r.last().unwrap(), &is("EADDRINUSE", BSD_CONNECTED_AND_TIMEWAIT));
    let text = format!("{SERVER}close l\nn = socket tcp4\nset n reuseaddr on\nbind n 127.0.0.1:P1\n");
    assert_eq!(last(&fbsd(), &text), is("ok", BSD_CONNECTED_AND_TIMEWAIT));
    assert_eq!(last(&mac(), &text), is("ok", BSD_CONNECTED_AND_TIMEWAIT));
}

#[test]
fn time_wait_stays_on_macos_and_old_freebsd_only() {
    // The server closes first; then the client; then the listener.
    let text = format!("{SERVER}close s\nclose c\nclose l\nn = socket tcp4\nbind n 127.0.0.1:P1\n");
    let m = run(&mac(), &text);
    assert_eq!(m[6], is("ok", BSD_TIMEWAIT_WHO));
    assert_eq!(m[7], is("ok", BSD_TIMEWAIT_WHO));
    assert_eq!(m.last().unwrap(), &is("EADDRINUSE", BSD_CONNECTED_AND_TIMEWAIT));
    assert_eq!(last(&fbsd_at("13"), &text).0, "EADDRINUSE");
    let f = run(&fbsd(), &text);
    assert_eq!(f[7], is("ok", FREEBSD_NOLOCALTIMEWAIT));
    assert_eq!(f.last().unwrap(), &is("ok", BSD_CONFLICT));
    // While the client is open the server's side waits in FIN_WAIT_2.
    let text = format!("{SERVER}close s\nclose l\nn = socket tcp4\nbind n 127.0.0.1:P1\n");
    assert_eq!(last(&fbsd(), &text), is("EADDRINUSE", BSD_CONNECTED_AND_TIMEWAIT));
    // linger0: RST, nothing stays.
    let text = format!("{SERVER}set s linger0 on\nclose s\nclose l\nn = socket tcp4\nbind n 127.0.0.1:P1\n");
    assert_eq!(last(&mac(), &text).0, "ok");
}

#[test]
fn dual_stack_order_matters() {
    let v4_first = "a = socket tcp4\nb = socket tcp6\nset b v6only off\nbind a 0.0.0.0:P1\nbind b [::]:P1\n";
    both(v4_first, "ok", BSD_V4_THEN_DUALSTACK);
    let v6_first =
        "a = socket tcp4\nb = socket tcp6\nset b v6only off\nbind b [::]:P1\nset a reuseaddr on\nbind a 0.0.0.0:P1\n";
    both(v6_first, "EADDRINUSE", BSD_V4_THEN_DUALSTACK);
    let specific_first = "a = socket tcp4\nb = socket tcp6\nset b v6only off\nbind a 127.0.0.1:P1\nbind b [::]:P1\n";
    both(specific_first, "EADDRINUSE", BSD_V4_THEN_DUALSTACK);
}

#[test]
fn mapped_binds_are_ipv4_binds() {
    let text =
        "a = socket tcp4\nb = socket tcp6\nset b v6only off\nbind a 127.0.0.1:P1\nbind b [::ffff:127.0.0.1]:P1\n";
    both(text, "EADDRINUSE", BSD_V4_LOOKUPS_SEE_DUAL_STACK);
    let exempt = "a = socket udp6\nb = socket udp6\nset a v6only off\nset b v6only off\nbind a [::]:P1\nbind b [::ffff:0.0.0.0]:P1\n";
    both(exempt, "ok", BSD_DUAL_STACK_EXEMPTION);
}

#[test]
fn one_best_match_decides() {
    // The plain dual-stack bind sees only the 0.0.0.0 socket (docs/semantics/bsd.md#ipv4-and-ipv6).
    let text = "a = socket tcp4\nb = socket tcp4\nc = socket tcp6\nset c v6only off\nbind a 0.0.0.0:P1\nset b reuseaddr on\nbind b 127.0.0.1:P1\nbind c [::]:P1\n";
    both(text, "ok", BSD_V4_THEN_DUALSTACK);
}

// ---- users ------------------------------------------------------------------

#[test]
fn uid_checks_by_version() {
    let lb = "a = socket tcp4\nb = socket tcp4 as other\nset a reuseport_lb on\nset b reuseport_lb on\nbind a 0.0.0.0:P1\nbind b 0.0.0.0:P1\n";
    assert_eq!(last(&fbsd(), lb), is("EADDRINUSE", FREEBSD_UID));
    assert_eq!(last(&fbsd_at("14"), lb), is("ok", FREEBSD_UID_LB_EXCEPTION));
    let rp = "a = socket tcp4\nb = socket tcp4 as other\nset a reuseport on\nset b reuseport on\nbind a 0.0.0.0:P1\nbind b 0.0.0.0:P1\n";
    assert_eq!(last(&fbsd_at("14"), rp), is("EADDRINUSE", FREEBSD_UID_LB_EXCEPTION));
    assert_eq!(last(&fbsd_at("11"), rp), is("ok", FREEBSD_UID_LEGACY));
    assert_eq!(last(&mac(), rp), is("ok", MACOS_UID));
    // A specific address beside another user's wildcard: refused even with reuseaddr.
    let spec =
        "a = socket tcp4\nb = socket tcp4 as other\nbind a 0.0.0.0:P1\nset b reuseaddr on\nbind b 127.0.0.1:P1\n";
    assert_eq!(last(&fbsd(), spec), is("EADDRINUSE", FREEBSD_UID));
    assert_eq!(last(&mac(), spec), is("EADDRINUSE", MACOS_UID));
    // Root is never checked.
    let root =
        "a = socket tcp4 as other\nb = socket tcp4\nbind a 0.0.0.0:P1\nset b reuseaddr on\nbind b 127.0.0.1:P1\n";
    both(root, "ok", BSD_LOOKUP_MODE);
}

#[test]
fn freebsd_lets_a_user_sit_beside_another_users_connection() {
    let text = "l = socket tcp4\nbind l 127.0.0.1:P1\nlisten l\nc = socket tcp4\nconnect c 127.0.0.1:P1\ns = accept l\nclose l\nn = socket tcp4 as other\nset n reuseaddr on\nbind n 127.0.0.1:P1\n";
    assert_eq!(last(&fbsd(), text), is("ok", BSD_CONNECTED_AND_TIMEWAIT));
    assert_eq!(last(&mac(), text), is("EADDRINUSE", MACOS_UID));
}

// ---- reuseport_lb -------------------------------------------------------------

#[test]
fn reuseport_lb_pairs_only_with_itself() {
    let pair = "a = socket udp4\nb = socket udp4\nset a reuseport_lb on\nset b reuseport_lb on\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\n";
    let r = run(&fbsd(), pair);
    assert_eq!(r[4], is("ok", FREEBSD_REUSEPORT_LB_GROUP));
    assert_eq!(r[5], is("ok", FREEBSD_REUSEPORT_LB_BIND));
    let mixed = "a = socket udp4\nb = socket udp4\nset a reuseport on\nset b reuseport_lb on\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\n";
    assert_eq!(last(&fbsd(), mixed), is("EADDRINUSE", FREEBSD_REUSEPORT_LB_BIND));
}

#[test]
fn lb_groups_take_traffic_first() {
    let text = "a = socket udp4\nb = socket udp4\nc = socket udp4\nset a reuseport_lb on\nset b reuseport_lb on\nbind a 0.0.0.0:P1\nbind b 0.0.0.0:P1\nset c reuseaddr on\nbind c 127.0.0.1:P1\nprobe udp4 127.0.0.1:P1\n";
    assert_eq!(last(&fbsd(), text), is("{->a,->b}", FREEBSD_DELIVER_LB_FIRST));
    // Without LB the exact address wins.
    let plain = "a = socket udp4\nc = socket udp4\nbind a 0.0.0.0:P1\nset c reuseaddr on\nbind c 127.0.0.1:P1\nprobe udp4 127.0.0.1:P1\n";
    assert_eq!(last(&fbsd(), plain), is("->c", FREEBSD_DELIVER_ORDER));
    assert_eq!(last(&mac(), plain), is("->c", MACOS_DELIVER_ORDER));
}

#[test]
fn lb_members_wait_for_listen_on_15() {
    let text = "a = socket tcp4\nb = socket tcp4\nset a reuseport_lb on\nset b reuseport_lb on\nbind a 127.0.0.1:P1\nbind b 127.0.0.1:P1\nlisten a\nprobe tcp4 127.0.0.1:P1\n";
    let r = run(&fbsd(), text);
    assert_eq!(r[6], is("ok", FREEBSD_LB_PENDING));
    assert_eq!(r[7], is("->a", FREEBSD_DELIVER_LB_FIRST));
    assert_eq!(last(&fbsd_at("14"), text), is("{->a,ECONNREFUSED}", FREEBSD_DELIVER_LB_FIRST));
    let connect = "a = socket tcp4\nset a reuseport_lb on\nconnect a 127.0.0.1:P1\n";
    assert_eq!(last(&fbsd(), connect), is("EOPNOTSUPP", FREEBSD_LB_CONNECT));
    assert_eq!(last(&fbsd_at("14"), connect), is("ECONNREFUSED", BSD_TCP_CONNECT_REFUSED));
}

// ---- listen, connect, accept ---------------------------------------------------

#[test]
fn listen_rules() {
    both("a = socket udp4\nlisten a\n", "EOPNOTSUPP", BSD_LISTEN_UDP);
    both("a = socket tcp6\nlisten a\n", "ok", BSD_TCP_LISTEN_AUTOBIND);
    both("a = socket tcp4\nlisten a\nlisten a\n", "ok", BSD_TCP_LISTEN_STATE);
    both(&format!("{SERVER}listen c\n"), "EINVAL", BSD_TCP_LISTEN_STATE);
    both("a = socket tcp4\nconnect a 127.0.0.1:P1\nlisten a\n", "EINVAL", BSD_TCP_DROPPED);
    both("a = socket tcp4\nconnect a 127.0.0.1:P1\nbind a 127.0.0.1:P2\n", "EINVAL", BSD_TCP_DROPPED);
}

#[test]
fn connect_rules() {
    both("a = socket tcp4\nconnect a 127.0.0.1:P1\n", "ECONNREFUSED", BSD_TCP_CONNECT_REFUSED);
    both(&format!("{SERVER}connect c 127.0.0.1:P1\n"), "EISCONN", BSD_CONNECT_ERRORS);
    both("l = socket tcp4\nlisten l\nconnect l 127.0.0.1:@l\n", "EOPNOTSUPP", BSD_CONNECT_ERRORS);
    let r = run(&fbsd(), SERVER);
    assert_eq!(r[4], is("ok", BSD_TCP_CONNECT_LISTENER));
    assert_eq!(r[5], is("ok", BSD_TCP_ACCEPT));
    both("a = socket udp4\nconnect a 127.0.0.1:P1\nconnect a 127.0.0.1:P2\n", "ok", BSD_UDP_CONNECT);
    both("a = socket udp4\nconnect a 127.0.0.1:0\n", "EADDRNOTAVAIL", BSD_CONNECT_PORT_ZERO);
    assert_eq!(
        last(&fbsd(), "a = socket tcp4\nconnect a 127.0.0.1:P1\nconnect a 127.0.0.1:P1\n"),
        is("ECONNREFUSED", FREEBSD_DROPPED_CONNECT)
    );
    assert_eq!(
        last(&mac(), "a = socket tcp4\nconnect a 127.0.0.1:P1\nconnect a 127.0.0.1:P1\n"),
        is("EINVAL", MACOS_DEAD_CONNECT)
    );
}

#[test]
fn connect_families() {
    assert_eq!(last(&fbsd(), "a = socket tcp6\nconnect a [::ffff:127.0.0.1]:P1\n"), is("EINVAL", BSD_CONNECT_FAMILY));
    assert_eq!(
        last(&mac(), "a = socket tcp6\nset a v6only on\nconnect a [::ffff:127.0.0.1]:P1\n"),
        is("EAFNOSUPPORT", BSD_CONNECT_FAMILY)
    );
    both(
        "a = socket tcp6\nset a v6only off\nbind a [::1]:P2\nconnect a [::ffff:127.0.0.1]:P1\n",
        "EAFNOSUPPORT",
        BSD_CONNECT_FAMILY,
    );
    assert_eq!(
        last(&mac(), "a = socket udp6\nbind a [::ffff:127.0.0.1]:P2\nconnect a [::1]:P1\n"),
        is("EINVAL", MACOS_UDP_V6ONLY_MAPPED)
    );
    assert_eq!(
        last(&mac(), "a = socket udp6\nset a v6only on\nconnect a [::ffff:127.0.0.1]:P1\n"),
        is("{EADDRNOTAVAIL,EHOSTUNREACH,EINVAL,ENETUNREACH}", MACOS_UDP_V6ONLY_MAPPED)
    );
    both("a = socket tcp4\nconnect a [::1]:P1\n", "EAFNOSUPPORT", BSD_WRONG_FAMILY);
}

#[test]
fn syn_to_a_bound_socket_that_does_not_listen() {
    let text = "l = socket tcp4\nb = socket tcp4\nbind l 0.0.0.0:P1\nlisten l\nset b reuseaddr on\nbind b 127.0.0.1:P1\nc = socket tcp4\nconnect c 127.0.0.1:P1\n";
    assert_eq!(last(&fbsd(), text), is("ECONNREFUSED", FREEBSD_SYN_TO_CLOSED));
    assert_eq!(last(&mac(), text), is("ETIMEDOUT", MACOS_SYN_TO_CLOSED));
}

#[test]
fn tuple_in_use_and_self_connect() {
    // The client's old connection waits in FIN_WAIT_2 (the server is open).
    let text = "l = socket tcp4\nbind l 127.0.0.1:P1\nlisten l\nc = socket tcp4\nbind c 127.0.0.1:P2\nconnect c 127.0.0.1:P1\nclose c\nn = socket tcp4\nset n reuseaddr on\nbind n 127.0.0.1:P2\nconnect n 127.0.0.1:P1\n";
    both(text, "EADDRINUSE", BSD_TCP_TUPLE_IN_USE);
    let selfc = "a = socket tcp4\nbind a 127.0.0.1:P1\nconnect a 127.0.0.1:P1\n";
    assert_eq!(last(&fbsd(), selfc), is("ok", BSD_TCP_SELF_CONNECT));
    assert_eq!(last(&mac(), selfc), is("EINVAL", MACOS_SELF_CONNECT));
    assert_eq!(last(&mac(), "a = socket tcp6\nbind a [::1]:P1\nconnect a [::1]:P1\n"), is("ok", BSD_TCP_SELF_CONNECT));
}

#[test]
fn accept_rules() {
    both("l = socket tcp4\nlisten l\nx = accept l\n", "EAGAIN", BSD_TCP_ACCEPT);
    both("l = socket tcp4\nx = accept l\n", "EINVAL", BSD_TCP_ACCEPT);
    both("l = socket udp4\nx = accept l\n", "EINVAL", BSD_TCP_ACCEPT);
    let aborted =
        "l = socket tcp4\nlisten l\nc = socket tcp4\nconnect c 127.0.0.1:@l\nset c linger0 on\nclose c\nx = accept l\n";
    both(aborted, "ECONNABORTED", BSD_TCP_ACCEPT);
}

#[test]
fn closing_a_listener_resets_its_queue() {
    let text = "l = socket tcp4\nlisten l\nc = socket tcp4\nconnect c 127.0.0.1:@l\nclose l\nconnect c 127.0.0.1:P1\n";
    let m = run(&mac(), text);
    assert_eq!(m[4], is("ok", BSD_TCP_LISTENER_CLOSE));
    assert_eq!(m[5], is("ECONNRESET", MACOS_DEAD_CONNECT));
    assert_eq!(last(&fbsd(), text), is("ECONNREFUSED", FREEBSD_DROPPED_CONNECT));
    both("a = socket udp4\nclose a\n", "ok", BSD_CLOSE);
}

// ---- delivery --------------------------------------------------------------------

#[test]
fn delivery_order_and_ties() {
    let text = "a = socket tcp4\nb = socket tcp6\nset b v6only off\nbind a 0.0.0.0:P1\nbind b [::]:P1\nlisten a\nlisten b\nprobe tcp4 127.0.0.1:P1\nprobe tcp6 [::1]:P1\n";
    let f = run(&fbsd(), text);
    assert_eq!(f[7], is("->a", FREEBSD_DELIVER_ORDER));
    assert_eq!(f[8], is("->b", FREEBSD_DELIVER_ORDER));
    assert_eq!(run(&mac(), text)[7], is("->a", MACOS_DELIVER_ORDER));
    let tie = "a = socket udp4\nb = socket udp4\nset a reuseport on\nset b reuseport on\nbind a 0.0.0.0:P1\nbind b 0.0.0.0:P1\nprobe udp4 127.0.0.1:P1\n";
    assert_eq!(last(&fbsd(), tie), is("{->a,->b}", FREEBSD_DELIVER_ORDER));
    assert_eq!(last(&mac(), tie), is("{->a,->b}", MACOS_DELIVER_ORDER));
    both("probe udp4 127.0.0.1:P1\n", "->none", BSD_DELIVER_NONE);
    both("probe tcp4 127.0.0.1:P1\n", "ECONNREFUSED", BSD_DELIVER_NONE);
}

#[test]
fn unreachable_127_0_0_2() {
    assert_eq!(
        last(&mac(), "a = socket tcp4\nconnect a 127.0.0.2:P1\n"),
        is("{ECONNREFUSED,EHOSTUNREACH,ENETUNREACH,ETIMEDOUT}", BSD_LOOPBACK_127_ONLY)
    );
    assert_eq!(last(&fbsd(), "probe udp4 127.0.0.2:P1\n"), is("{->none,ENETUNREACH}", BSD_LOOPBACK_127_ONLY));
    assert_eq!(last(&mac(), "a = socket udp4\nconnect a 127.0.0.2:P1\n"), is("ok", BSD_UDP_CONNECT));
}

#[test]
fn every_rule_id_is_documented_and_versioned_rules_apply_to_their_versions() {
    for m in [fbsd(), fbsd_at("11"), fbsd_at("14"), mac()] {
        let ids = m.rule_ids();
        assert!(ids.iter().all(|id| RULES.iter().any(|r| r.id == *id)));
    }
    assert!(fbsd().rule_ids().contains(&FREEBSD_UID));
    assert!(!fbsd().rule_ids().contains(&FREEBSD_UID_LB_EXCEPTION));
    assert!(fbsd_at("13").rule_ids().contains(&FREEBSD_UID_LB_EXCEPTION));
    assert!(!fbsd_at("11").rule_ids().contains(&FREEBSD_REUSEPORT_LB_BIND));
    assert!(!mac().rule_ids().iter().any(|id| id.starts_with("freebsd.")));
    assert!(!fbsd().rule_ids().contains(&FREEBSD_JAIL) && !mac().rule_ids().contains(&MACOS_NETNS));
    for id in NEVER_EMITTED {
        let r = RULES.iter().find(|r| r.id == *id).unwrap();
        assert!(r.meaning.contains("Not reachable") || r.meaning.contains("never emitted"), "{id}");
    }
}
