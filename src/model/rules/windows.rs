//! The rules of the `windows` model: ids, meanings and sources (documented for users
//! in docs/semantics/windows.md). "MS table" is the Windows
//! Server 2003-and-later table of Microsoft Learn "Using SO_REUSEADDR and
//! SO_EXCLUSIVEADDRUSE" (same-user and different-user versions); "Wine
//! test" is `test_reuseaddr` in wine dlls/ws2_32/tests/sock.c, whose checks
//! without todo_wine pass on real Windows. Where the sources disagree or
//! say nothing, the rule predicts a set and says so.

rules! {
    WINDOWS_RULES;
    // ---- statements every case uses -------------------------------------
    WINDOWS_SOCKET = "windows.any.socket",
        "socket() for tcp4 and udp4 succeeds (tcp6/udp6: windows.any.v6only-default).",
        "Microsoft Learn, socket function. tool convention for totality.";
    WINDOWS_DEAD_NAME = "windows.any.dead-name",
        "A name whose creating statement failed holds no socket: every later use of it is EBADF (WSAENOTSOCK on a real handle; the case language says EBADF).",
        "docs/interface.md#the-case-language (dead names). tool convention.";
    WINDOWS_CLOSE = "windows.any.close",
        "closesocket of an open socket succeeds; an unconnected TCP socket or a UDP socket gives its port up at once.",
        "Microsoft Learn, closesocket function. tool convention for totality.";
    WINDOWS_OPTION_SET = "windows.any.option-set",
        "SO_REUSEADDR, SO_EXCLUSIVEADDRUSE (when the other is off), IPV6_V6ONLY on an unbound IPv6 socket: ok.",
        "Microsoft Learn, setsockopt function, SOL_SOCKET and IPPROTO_IPV6 socket options. tool convention.";
    WINDOWS_OPTION_EXCLUSIVE = "windows.any.option-exclusive",
        "Turning SO_REUSEADDR on while SO_EXCLUSIVEADDRUSE is on, or the reverse, is EINVAL; turning either off is always ok. High for TCP; UDP by the same handler (medium).",
        "Wine test test_reuseaddr (mutual-exclusion checks, no todo_wine, so they pass on Windows); wine server/sock.c SO_REUSEADDR and SO_EXCLUSIVEADDRUSE ioctl handlers.";
    WINDOWS_OPTION_TIMING = "windows.any.option-timing",
        "SO_REUSEADDR and SO_EXCLUSIVEADDRUSE count only as they are at bind time; changing them on a bound socket changes nothing for it. Whether that setsockopt returns ok or EINVAL is not documented (open question open question 7): {EINVAL,ok}.",
        "Microsoft Learn, Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE (options are set before bind); docs/semantics/windows.md#options and #open-question-7. Medium/low.";
    WINDOWS_V6ONLY_DEFAULT = "windows.any.v6only-default",
        "A new tcp6/udp6 socket starts with IPV6_V6ONLY on (unlike Linux).",
        "Microsoft Learn, IPPROTO_IPV6 socket options (IPV6_V6ONLY default TRUE) and Dual-Stack Sockets for IPv6 Winsock Applications. High.";
    WINDOWS_V6ONLY_AFTER_BIND = "windows.any.v6only-after-bind",
        "IPV6_V6ONLY on a socket that is bound (by bind, connect or accept): EINVAL.",
        "Microsoft Learn, IPPROTO_IPV6 socket options (set before bind); Wine 8.0 gives EINVAL both ways. Medium.";
    WINDOWS_V6ONLY_ON_V4 = "windows.any.v6only-on-v4",
        "IPV6_V6ONLY on an IPv4 socket is an option of the wrong level: ENOPROTOOPT, or EINVAL (not documented which): {EINVAL,ENOPROTOOPT}.",
        "Microsoft Learn, setsockopt function (WSAENOPROTOOPT: option unknown for the socket type; WSAEINVAL: level not valid). Low.";
    WINDOWS_UNKNOWN_OPTION = "windows.any.unknown-option",
        "reuseport and reuseport_lb have no Windows constant: nothing is passed to the OS, the outcome is ENOPROTOOPT.",
        "docs/interface.md#the-case-language (options the host lacks). tool convention.";
    WINDOWS_LINGER0 = "windows.any.linger0",
        "SO_LINGER on with timeout 0 is accepted; closing a connected TCP socket then resets the connection and leaves no TIME_WAIT.",
        "Microsoft Learn, SO_LINGER and closesocket (hard close). Medium.";

    // ---- bind: argument and state checks --------------------------------
    WINDOWS_BIND_TWICE = "windows.any.bind-twice",
        "bind on a socket that is already bound (by bind, connect or accept) is EINVAL, whatever the address.",
        "Microsoft Learn, bind function (WSAEINVAL: the socket is already bound to an address); Wine 8.0 agrees for TCP and UDP. High.";
    WINDOWS_BIND_RETRY = "windows.any.bind-retry",
        "A bind that failed leaves the socket unbound: it may change options and bind again, and that bind is judged afresh.",
        "Wine test test_reuseaddr (a default socket fails, sets SO_REUSEADDR, then binds next to a SO_REUSEADDR holder). High (TCP).";
    WINDOWS_BIND_FAMILY = "windows.any.bind-family-mismatch",
        "An address of the other family (IPv6 on tcp4/udp4, IPv4 on tcp6/udp6): the sockaddr does not fit the socket: EFAULT, per the bind reference (family bytes or length wrong).",
        "Microsoft Learn, bind function (WSAEFAULT: namelen too small or the first two bytes do not match the socket's family). Medium.";
    WINDOWS_BIND_NONLOCAL = "windows.any.bind-nonlocal",
        "bind to an address no interface has (192.0.2.1): EADDRNOTAVAIL.",
        "Microsoft Learn, bind function (WSAEADDRNOTAVAIL: the address is not valid on this computer). High.";
    WINDOWS_BIND_FREE = "windows.any.bind-free",
        "A bind to a port that no other socket of the protocol holds succeeds.",
        "Microsoft Learn, bind function. tool convention for totality.";
    WINDOWS_PORT_ZERO = "windows.any.port-zero",
        "bind ADDR:0 takes a free ephemeral port (49152-65535 by default) and cannot conflict.",
        "Microsoft Learn, Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE (clients bind port 0; ephemeral ports above 49151). High.";

    // ---- bind conflicts on one stack (TCP; UDP by windows.udp.same-as-tcp)
    WINDOWS_TCP_DISJOINT = "windows.tcp.disjoint",
        "Two different specific addresses never conflict, whatever the options.",
        "Microsoft Learn, Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE (10.0.0.1 / 10.99.99.99 example). High.";
    WINDOWS_TCP_SAME_EXCL_NEW = "windows.tcp.same-excl-new",
        "Same address (both wildcard, or the same specific one) and the new socket has SO_EXCLUSIVEADDRUSE: EADDRINUSE, whatever the holder has and whoever made it; when the holder is an exclusive wildcard the code is disputed (open question 1): {EACCES,EADDRINUSE}.",
        "MS table, SO_EXCLUSIVEADDRUSE columns on the diagonal (INUSE); Wine test exclusive table rows 12 and 20. High; the exclusive/exclusive wildcard cell: see open question 1 of docs/semantics/windows.md.";
    WINDOWS_TCP_SAME_EXCL_OLD = "windows.tcp.same-excl-old",
        "Same address, the holder has SO_EXCLUSIVEADDRUSE, the new socket not: with SO_REUSEADDR EACCES, without EADDRINUSE; for the wildcard/wildcard default cell the sources disagree (MS table INUSE, Wine and Windows' own dual-stack behaviour EACCES, open question 1): {EACCES,EADDRINUSE}.",
        "MS table (SO_EXCLUSIVEADDRUSE rows); Wine test exclusive table row 19 (loopback exclusive then loopback default: EADDRINUSE). High for specific addresses; open question 1 of docs/semantics/windows.md for the wildcard.";
    WINDOWS_TCP_SAME_REUSE_BOTH = "windows.tcp.same-reuse-both",
        "Same address, both sockets set SO_REUSEADDR before bind: ok, for any users; afterwards which one gets traffic is not determined.",
        "MS table (both user tables); Wine test test_reuseaddr (two SO_REUSEADDR sockets on loopback, IPv4 and IPv6). High.";
    WINDOWS_TCP_SAME_REUSE_NEW_ONLY = "windows.tcp.same-reuse-new-only",
        "Same address, the new socket has SO_REUSEADDR but the holder has neither option: EACCES (the holder did not agree to share).",
        "MS table (Default rows, SO_REUSEADDR columns: ACCESS); Wine test test_reuseaddr (default then SO_REUSEADDR on loopback: WSAEACCES). High.";
    WINDOWS_TCP_SAME_DEFAULT = "windows.tcp.same-default",
        "Same address, the new socket has neither option, the holder has none or SO_REUSEADDR: EADDRINUSE.",
        "MS table (Default columns on the diagonal: INUSE); Wine test (two default wildcard binds: WSAEADDRINUSE). High.";
    WINDOWS_TCP_E_WILD = "windows.tcp.e-wild",
        "Holder on the wildcard, new socket on a specific address of that stack: EACCES if the holder is exclusive; else ok if both have SO_REUSEADDR; else ok for the same user and EACCES for another user (the only rule where the user matters).",
        "MS table, same-user and different-user tables (Wildcard rows, Specific columns); Wine test exclusive table rows 0, 2, 3 and the 'wildcard listening, then loopback' test. High (same user), medium (other user: Microsoft only).";
    WINDOWS_TCP_N_WILD = "windows.tcp.n-wild",
        "Holder on a specific address, new socket on the wildcard of that stack: EADDRINUSE if the new socket is exclusive, else ok (for any options and users); the wildcard then serves every other address.",
        "MS table (Specific rows, Wildcard columns) and its note on this cell; Wine test exclusive table rows 4 and 5, and 'loopback listening, then wildcard'. High.";

    // ---- IPv6 and dual stack ---------------------------------------------
    WINDOWS_DUAL_STACK_EXCL = "windows.any.dual-stack-excl",
        "A v6only-off socket bound to [::] with SO_EXCLUSIVEADDRUSE also holds IPv4 0.0.0.0 exclusively: a later IPv4 bind of the port gets EACCES (0.0.0.0 with the exclusive option: untested, {EACCES,EADDRINUSE}). Binding it checks the IPv4 stack as an exclusive wildcard: over an IPv4 specific holder the sources disagree (Wine test EADDRINUSE, Microsoft text EACCES): {EACCES,EADDRINUSE}.",
        "Microsoft Learn, Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE (dual-stack paragraph: checks on both stacks, example gives WSAEACCES); Wine test exclusive table rows 1, 6 and 10. High except the cells named.";
    WINDOWS_DUAL_STACK_SHARED = "windows.any.dual-stack-shared",
        "A v6only-off socket bound to [::] without SO_EXCLUSIVEADDRUSE does not hold IPv4 0.0.0.0 for later binds (a later 0.0.0.0 bind is ok). In the other order (IPv4 holder first) Wine gives ok while Microsoft's text says both stacks are checked (open question 3): the outcome of the IPv4 check or ok.",
        "Wine test exclusive table rows 11 and 14; Microsoft Learn dual-stack paragraph; docs/semantics/windows.md#open-question-3. High for that order, low for the other.";
    WINDOWS_V4MAPPED = "windows.any.v4mapped",
        "A v6only-off socket bound to [::ffff:a.b.c.d] conflicts exactly like an IPv4 socket bound to a.b.c.d ([::ffff:0.0.0.0] is the IPv4 wildcard). On a v6only socket a v4-mapped bind fails with a code nobody documents (open question 4): {EADDRNOTAVAIL,EINVAL}.",
        "Wine test exclusive table rows 9, 15, 16 and 17; docs/semantics/windows.md#open-question-4. High (dual stack), low (v6only).";
    WINDOWS_V6_SEPARATE = "windows.any.v6-separate",
        "IPv6 addresses ([::1], [::] with v6only on) never conflict with IPv4 ones: the stacks keep separate tables.",
        "Wine test exclusive table rows 7, 8 and 18; Wine test test_ipv6only (default [::] then 0.0.0.0 is ok). High.";
    WINDOWS_V6_CONNECT = "windows.any.connect-family",
        "connect (and a probe's connect or send) with an address the socket cannot use: the other family's sockaddr ({EAFNOSUPPORT,EFAULT}: the reference names both), a v4-mapped peer from a v6only socket or a mapped/plain mismatch with the bound address ({EADDRNOTAVAIL,ENETUNREACH}, open question 4).",
        "Microsoft Learn, connect function (WSAEAFNOSUPPORT, WSAEFAULT, WSAEADDRNOTAVAIL); Dual-Stack Sockets; docs/semantics/windows.md#open-question-4. Low.";

    WINDOWS_DEST_PORT_ZERO = "windows.any.dest-port-zero",
        "connect or a probe to port 0 of a loopback address: Microsoft's connect and sendto references name WSAEADDRNOTAVAIL for a remote address that is not valid (their example is the all-zero address, INADDR_ANY) and say nothing of port 0; no Windows-passing test of it was found. Otherwise nobody holds port 0: a TCP connect is refused (bound by connect first, as windows.tcp.connect), a UDP connect sets port 0 as the peer (no datagram of a prober then matches it), a datagram goes nowhere. So {EADDRNOTAVAIL, what the call does for a port nobody holds}; the refusal is taken to come before the implicit bind (not documented). After a family refusal (windows.any.connect-family) EADDRNOTAVAIL joins its set: which check comes first is not documented either.",
        "Microsoft Learn, connect function (WSAEADDRNOTAVAIL: the remote address is not a valid address, such as INADDR_ANY or in6addr_any; an all-zero address field gives WSAEADDRNOTAVAIL), sendto function (WSAEADDRNOTAVAIL: the remote address is not a valid address, for example ADDR_ANY). Low: port 0 is not named by any source found.";

    // ---- listen, connect, accept, delivery (TCP) --------------------------
    WINDOWS_LISTEN = "windows.any.listen",
        "listen on an unbound socket: EINVAL; on UDP: EOPNOTSUPP; on a listener: ok (backlog only); on a connected socket: EISCONN; after a refused connect left it bound by connect: not documented, {EINVAL,ok}.",
        "Microsoft Learn, listen function (WSAEINVAL, WSAEOPNOTSUPP, WSAEISCONN; a second listen succeeds). High (low for the refused-connect case).";
    WINDOWS_TCP_LISTEN_NO_CONFLICT = "windows.tcp.listen-no-conflict",
        "Listening changes no sharing decision: listen on a bound socket succeeds even if another socket shares or overlaps its address, and later binds are judged as if nobody listened.",
        "Wine test test_reuseaddr (second SO_REUSEADDR socket listens; loopback bind under a listening wildcard and the reverse; these are todo_wine, so Windows passes them). High.";
    WINDOWS_TCP_CONNECT = "windows.tcp.connect",
        "connect binds an unbound socket to an ephemeral port first (the binding stays even if the connect fails); to a loopback port no listener covers: ECONNREFUSED; on a connected socket EISCONN, on a listener EINVAL; to its own address and port: {ECONNREFUSED,ok} (not documented).",
        "Microsoft Learn, connect function (WSAECONNREFUSED, WSAEISCONN, WSAEINVAL for a listening socket, implicit bind). High (self-connect: low).";
    WINDOWS_UDP_CONNECT = "windows.udp.connect",
        "UDP connect to loopback sets the default peer (binding an unbound socket to the wildcard and an ephemeral port): ok; afterwards only that peer's datagrams arrive.",
        "Microsoft Learn, connect function (connectionless sockets: default destination, implicit bind). High.";
    WINDOWS_TCP_ACCEPT = "windows.tcp.accept",
        "accept returns the oldest pending connection; none pending on a non-blocking listener: EAGAIN (WSAEWOULDBLOCK); not listening: EINVAL; UDP: EOPNOTSUPP; a connection its client reset before accept: {ECONNRESET,ok}.",
        "Microsoft Learn, accept function (WSAEWOULDBLOCK, WSAEINVAL, WSAEOPNOTSUPP, WSAECONNRESET). High (the reset case: medium).";
    WINDOWS_TCP_DELIVER_SPECIFIC = "windows.tcp.deliver-specific",
        "A connection to a specific address goes to a listener bound to that address in preference to a wildcard listener, whatever the order; an IPv4 wildcard and a dual-stack [::] listener together: not documented, either.",
        "Wine test test_reuseaddr (wildcard+loopback listeners in both orders: the loopback one accepts). High.";
    WINDOWS_TCP_DELIVER_OLDEST = "windows.tcp.deliver-oldest",
        "Among listeners on the same address (shared by SO_REUSEADDR) the connection went to the earliest bound one still listening in Wine's Windows runs; Microsoft calls it indeterminate: the set of them, the oldest first.",
        "Wine test test_reuseaddr ('delivered to the first/second/third socket'); Microsoft Learn (behaviour indeterminate once a port is shared). Medium.";
    WINDOWS_TCP_CONNECTION_PORT = "windows.tcp.connection-port",
        "A port held only by a TCP connection that no bind reserved (an accepted socket, a socket bound by connect): whether it keeps a later bind of that address out is not documented: {EADDRINUSE} joins the outcomes.",
        "Microsoft Learn, Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE (an exclusive listener's accepted connection keeps an exclusive bind out until it is inactive). Low.";
    WINDOWS_TCP_TIME_WAIT = "windows.tcp.time-wait",
        "After an active close the connection stays in TIME_WAIT; whether that keeps a later bind of the address out (certainly possible for SO_EXCLUSIVEADDRUSE, unknown otherwise, open question 2) is open: {EADDRINUSE} joins the outcomes. A passive close or linger0 leaves nothing.",
        "Microsoft Learn, Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE (closed exclusive listener's connection blocks a new exclusive bind until inactive); docs/semantics/windows.md#open-question-2. Low.";

    // ---- UDP ------------------------------------------------------------
    WINDOWS_UDP_SAME_AS_TCP = "windows.udp.same-as-tcp",
        "UDP bind conflicts follow the TCP rules (windows.tcp.disjoint … windows.any.v6-separate) with the same outcomes; whether the user rule applies to UDP is open (open question 5): another user's specific bind under a wildcard holder is {EACCES,ok}.",
        "Microsoft Learn (the tables do not depend on the protocol; datagram receivers are the protected case); docs/semantics/windows.md#open-question-5. Medium.";
    WINDOWS_UDP_DELIVER = "windows.udp.deliver",
        "A unicast datagram goes to a socket bound to the exact address before a wildcard one; among several sockets sharing the address by SO_REUSEADDR, to one of them, unspecified (the set); connected sockets take only their peer's datagrams; nobody: ->none.",
        "Microsoft Learn, Using SO_REUSEADDR and SO_EXCLUSIVEADDRUSE (unicast to an arbitrary socket; multicast to all, out of scope). Medium.";

    // ---- before enhanced socket security --------------------------------
    WINDOWS_LEGACY_XP = "windows.any.legacy-xp",
        "Windows XP and older (windows@5.1): wildcard and specific on one port always overlap; a SO_REUSEADDR bind is ok unless the holder is exclusive (EACCES); any other overlapping bind is EADDRINUSE. Version range: windows < 5.2.",
        "MS table for Windows XP and earlier. Medium (not a target).";
}
