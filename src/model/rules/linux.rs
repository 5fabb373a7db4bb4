//! The rules of the `linux` model: ids, meanings and sources
//! (documented for users in docs/semantics/linux.md).

rules! {
    LINUX_RULES;
    // ---- Linux: statements every case uses -------------------------------
    LINUX_SOCKET = "linux.any.socket",
        "socket() for tcp4, tcp6, udp4 and udp6 succeeds; a new IPv6 socket takes v6only from net.ipv6.bindv6only (0 by default).",
        "net/socket.c __sock_create; net/ipv4/af_inet.c inet_create; net/ipv6/af_inet6.c inet6_create (sk->sk_ipv6only = net->ipv6.sysctl.bindv6only). tool: verified live on 6.18.";
    LINUX_DEAD_NAME = "linux.any.dead-name",
        "A name whose creating statement failed holds no descriptor: every later use of it is EBADF.",
        "docs/interface.md#the-case-language (dead names); fs/file.c fdget on a closed descriptor gives EBADF. tool convention.";
    LINUX_OPTION_SET = "linux.any.option-set",
        "SO_REUSEADDR, SO_REUSEPORT and SO_LINGER (on, timeout 0) are accepted on any TCP or UDP socket; IPV6_V6ONLY on an IPv6 socket with no local port.",
        "net/core/sock.c sk_setsockopt (SO_REUSEADDR, SO_REUSEPORT, SO_LINGER); net/ipv6/ipv6_sockglue.c do_ipv6_setsockopt (IPV6_V6ONLY). Verified live.";
    LINUX_CLOSE = "linux.any.close",
        "close of an open socket succeeds; an unconnected or UDP socket releases its port at once.",
        "net/socket.c sock_close; net/ipv4/udp.c udp_lib_unhash; net/ipv4/tcp.c tcp_close (TCP_CLOSE state). Verified live.";
    LINUX_UNKNOWN_OPTION = "linux.any.unknown-option",
        "reuseport_lb (FreeBSD) and exclusiveaddruse (Windows) do not exist on Linux: nothing is passed to the kernel, the outcome is ENOPROTOOPT.",
        "docs/interface.md#the-case-language (options the host lacks); docs/semantics/linux.md#options-and-the-other-statements. tool convention.";
    LINUX_V6ONLY_ON_V4 = "linux.any.v6only-on-v4",
        "IPV6_V6ONLY on a tcp4/udp4 socket: ENOPROTOOPT (an IPv6-level option on an IPv4 socket).",
        "net/ipv4/ip_sockglue.c ip_setsockopt (level other than SOL_IP); tcp_setsockopt/udp_setsockopt pass other levels down. Verified live.";
    LINUX_V6ONLY_AFTER_BIND = "linux.any.v6only-after-bind",
        "IPV6_V6ONLY on a socket that already has a local port (bind, listen autobind, connect autobind): EINVAL.",
        "net/ipv6/ipv6_sockglue.c do_ipv6_setsockopt, IPV6_V6ONLY case (inet_num test). Verified live.";
    LINUX_OPTIONS_AFTER_BIND = "linux.tcp.options-after-bind",
        "reuseaddr/reuseport may be set or cleared at any time without error; later conflict checks read the current flags of both sockets.",
        "net/core/sock.c sk_setsockopt; net/ipv4/inet_connection_sock.c inet_bind_conflict reads sk_reuse/sk_reuseport at check time. Verified live.";

    // ---- Linux: bind argument checks (section B) ------------------------
    LINUX_BIND_TWICE = "linux.any.bind-twice",
        "bind on a socket that already has a local port (bind, listen, connect) or is not in CLOSE state: EINVAL. A failed bind leaves the socket unbound. IPv4 checks the address (EADDRNOTAVAIL) before this; IPv6 after.",
        "net/ipv4/af_inet.c __inet_bind; net/ipv6/af_inet6.c __inet6_bind (sk_state != TCP_CLOSE || inet_num). Verified live.";
    LINUX_BIND_NONLOCAL = "linux.any.bind-nonlocal",
        "bind to an address no interface has (192.0.2.1): EADDRNOTAVAIL, unless ip_nonlocal_bind/IP_FREEBIND (never set here).",
        "net/ipv4/af_inet.c __inet_bind (inet_addr_valid_or_nonlocal); net/ipv6/af_inet6.c __inet6_bind (ipv6_chk_addr). Verified live.";
    LINUX_BIND_MAPPED_V6ONLY = "linux.any.bind-mapped-v6only",
        "A v6only tcp6/udp6 socket may not bind a v4-mapped address: EINVAL.",
        "net/ipv6/af_inet6.c __inet6_bind, mapped-address branch (ipv6_only_sock). Verified live.";
    LINUX_BIND_FAMILY_MISMATCH = "linux.any.bind-family-mismatch",
        "An IPv6 address on a tcp4/udp4 socket: EAFNOSUPPORT; an IPv4 address on a tcp6/udp6 socket: EINVAL (sockaddr too short).",
        "net/ipv4/af_inet.c __inet_bind (sin_family check); net/ipv6/af_inet6.c inet6_bind_sk (addr_len < SIN6_LEN_RFC2133). Verified live.";

    // ---- Linux: TCP bind conflicts (section C) --------------------------
    LINUX_TCP_BIND_CONFLICT = "linux.tcp.bind-conflict",
        "A bind to a non-zero TCP port fails with EADDRINUSE if any TCP socket holding the port (any state) overlaps the address (docs/semantics/linux.md#address-overlap) and no exemption holds; with no overlapping holder it succeeds.",
        "net/ipv4/inet_connection_sock.c inet_csk_get_port, inet_csk_bind_conflict, inet_bind_conflict, inet_bhash2_addr_any_conflict. Verified live.";
    LINUX_TCP_REUSEADDR_PAIR = "linux.tcp.reuseaddr-pair",
        "Exemption: both sockets have reuseaddr and the existing one is not listening; uid does not matter.",
        "net/ipv4/inet_connection_sock.c inet_bind_conflict (sk_reuse && sk2->sk_reuse && sk2 not TCP_LISTEN). Verified live.";
    LINUX_TCP_REUSEPORT_PAIR = "linux.tcp.reuseport-pair",
        "Exemption: both sockets have reuseport and (the existing one is in TIME_WAIT or both were created by the same uid); listening does not matter.",
        "net/ipv4/inet_connection_sock.c inet_bind_conflict (sk_reuseport, uid_eq, TCP_TIME_WAIT). Verified live.";
    LINUX_TCP_LISTEN_CONFLICT = "linux.tcp.listen-conflict",
        "listen re-runs the port check with the socket in LISTEN: EADDRINUSE when another overlapping socket on the port fails the pair test (typically it is already listening); the socket keeps its port.",
        "net/ipv4/inet_connection_sock.c inet_csk_listen_start -> inet_csk_get_port. Verified live.";
    LINUX_TCP_LISTEN_MISC = "linux.tcp.listen-misc",
        "listen on a listening socket: ok (backlog only); on a socket that is or was connected: EINVAL; on UDP: EOPNOTSUPP.",
        "net/ipv4/af_inet.c inet_listen / __inet_listen_sk (sock->state != SS_UNCONNECTED); UDP has no listen (sock_no_listen). Verified live.";
    LINUX_TCP_ROLE_LOCK = "linux.tcp.role-lock",
        "Variant role-lock (builds that lock a socket's role once it has taken a side): listen on a TCP socket that was ever put in the established table is EINVAL. In the case language that is a socket whose connect took a local port and went out (refused, or still connecting); a connect that failed before taking a port (wrong family, v6only to a v4-mapped peer, no free port) does not lock. The check comes after listen has taken the port: a port conflict is still EADDRINUSE, and an unbound socket keeps the ephemeral port listen gave it (unlistened). The mirror half (connect on a socket that listened and was then disconnected with AF_UNSPEC is EINVAL) cannot be written in the language. Upstream kernels have no such check.",
        "Measured on 6.18.44-fc-v1045 (uname -v '#1 SMP PREEMPT_DYNAMIC @0'), private network namespace, 2026-12-01: refused connect then listen: EINVAL, getsockname shows the new port, a bind to it is EADDRINUSE; absent on 6.18.44-fc-v669 of the same version. Mainline net/ipv4/af_inet.c __inet_listen_sk and net/ipv4/inet_connection_sock.c inet_csk_listen_start return EINVAL only for the socket and TCP states: the check is a patch carried by that build. Found by calibration probe (model/variants.rs).";
    LINUX_TCP_MAPPED_ANY_MISSED = "linux.tcp.mapped-any-missed",
        "Variant mapped-any-missed (6.1 stable kernels from 6.1.168): a tcp6 socket binding a v4-mapped specific address ([::ffff:127.0.0.1]) does not see a tcp6 socket holding [::ffff:0.0.0.0] on the port: the bind (and a later listen) succeeds where the full check says EADDRINUSE. What is missed is the per-address entry of the IPv4 wildcard when a tcp6 [::ffff:0.0.0.0] socket made it (bound first): a tcp4 0.0.0.0 that joined it is missed too; an entry a tcp4 0.0.0.0 made is seen with all its members. Holders on 127.0.0.1 or dual-stack [::] are still seen, and the other order ([::ffff:127.0.0.1] first) still conflicts.",
        "Measured on Debian's 6.1.172 and 6.1.192 cloud kernels under qemu (sockdiff vm), 2026-12-02: 18 corpus statements from tools/testing/selftests/net/bind_wildcard.c and the matrix; absent on 6.12.117 and 6.18.44. Linux 6.1.168 (April 2026) took as stable backports 5e07e672412b ('tcp: Use bhash2 for v4-mapped-v6 non-wildcard address.', mainline 6.8) and ea111449501e ('tcp: Fix bind() regression for v6-only wildcard and v4-mapped-v6 non-wildcard addresses.', mainline 6.9): a v4-mapped specific bind is then checked through the per-address table (net/ipv4/inet_connection_sock.c inet_use_bhash2_on_bind, inet_bhash2_addr_any_conflict), whose wildcard look-up on 6.1 (without the 6.8 bhash2 rework) does not reach the [::ffff:0.0.0.0] bucket (our reading). A backport, so a variant found by calibration probe (model/variants.rs), not a version range: 6.1 releases before 6.1.168 check the whole port.";
    LINUX_TCP_FASTREUSEPORT_STALE = "linux.tcp.fastreuseport-stale",
        "The port's reuseport memo (uid, address of the last reuseport binder) lets a same-uid reuseport bind or listen whose address it covers skip the conflict scan: ok where the full check says EADDRINUSE.",
        "net/ipv4/inet_connection_sock.c sk_reuseport_match, inet_csk_update_fastreuse, inet_csk_get_port. Verified live (docs/semantics/linux.md#the-port-memo).";
    LINUX_TCP_FASTREUSE_STALE = "linux.tcp.fastreuse-stale",
        "Before 6.8 only: the port remembers that its first owner had reuseaddr and did not listen, so a later reuseaddr bind that does not listen skips the scan (ok where the full check says EADDRINUSE); the first reuseport owner likewise set an 'any address' reuseport memo. Version range: linux < 6.8.",
        "net/ipv4/inet_connection_sock.c inet_csk_update_fastreuse (hlist_empty(&tb->owners) branch), inet_csk_get_port (tb->fastreuse > 0 && reuse); docs/semantics/linux.md#the-port-memo and #versions (6.8 bhash2 rework). Read in source; seen live on Debian's 6.1.172 and 6.1.192 under qemu (sockdiff vm, 2026-12-02: corpus/linux/reuse/reuseaddr-memo-dead.case ok where 6.12 and 6.18 say EADDRINUSE).";
    LINUX_TCP_MEMO_OUTLIVES_RELEASE = "linux.tcp.memo-outlives-release",
        "Before 6.18 only: the port's memo (linux.tcp.fastreuseport-stale, and before 6.8 linux.tcp.fastreuse-stale) stays while any socket holds the port, also after every socket that bind or listen gave the port is gone and only sockets bound by connect remain: a later bind it matches still skips the conflict scan (ok where the full check says EADDRINUSE). Since 6.18 the memo is reset when the last such socket lets go. Version range: linux < 6.18.",
        "Upstream d57f4b874946 ('tcp: Update bind bucket state on port release', mainline 6.18; also taken into 6.17.y stable, November 2025): net/ipv4/inet_hashtables.c and inet_connection_sock.c reset tb->fastreuse/fastreuseport when only connect-bound owners (SOCK_CONNECT_BIND) are left. Measured on Debian's 6.1.192 and 6.12.117 under qemu with sockdiff vm (ok) and on 6.18.44 (EADDRINUSE), 2026-12-02 (corpus/linux/reuse/memo-outlives-release.case).";
    LINUX_TCP_TIMEWAIT_BLOCKS = "linux.tcp.timewait-blocks",
        "The side that closes a connection first keeps its address and port with its reuseaddr/reuseport flags, first as a full socket in FIN_WAIT2 while the peer stays open, then as a TIME_WAIT entry (60 s) once the peer closes; an overlapping bind fails unless an exemption holds: reuseaddr on both; reuseport on both with the same uid, or any uid once it is TIME_WAIT. A SYN from the other end of its 4-tuple ends a TIME_WAIT entry, listener or not.",
        "net/ipv4/inet_timewait_sock.c inet_twsk_alloc, inet_twsk_hashdance; net/ipv4/tcp_minisocks.c tcp_time_wait; net/ipv4/inet_connection_sock.c inet_bind_conflict (TCP_TIME_WAIT test); net/ipv4/tcp_minisocks.c tcp_timewait_state_process (TCP_TW_SYN; an RST ends it unless tcp_rfc1337). FIN_WAIT2 vs TIME_WAIT uid exemption and the SYN found by the matrix and verified live on 6.18.";
    LINUX_TCP_FIN_WAIT2_RACE = "linux.tcp.fin-wait2-race",
        "An active close with SO_REUSEPORT on: if the peer's ACK of the FIN is processed after close() has let go of the socket, the socket becomes a TIME_WAIT entry at once (substate FIN_WAIT2, as tcp_fin_timeout is not above 60 s); if close() still holds it, it stays a full FIN_WAIT2 socket. Timing decides, so the model keeps both. They differ for a later SO_REUSEPORT bind by another user, which passes a TIME_WAIT entry but not a full socket (linux.tcp.timewait-blocks); a connect takes over neither's 4-tuple.",
        "net/ipv4/tcp_input.c tcp_rcv_state_process (TCP_FIN_WAIT1: sock_owned_by_user -> keepalive timer, else tcp_time_wait(sk, TCP_FIN_WAIT2, tmo)); net/ipv4/tcp_ipv4.c tcp_twsk_unique (no reuse of a FIN_WAIT2 substate); net/ipv4/inet_connection_sock.c inet_bind_conflict. Seen live on 6.18: once in a 30,642-cell matrix run, a bind that a full FIN_WAIT2 socket refuses succeeded.";
    LINUX_TCP_LINGER0 = "linux.tcp.linger0",
        "close with SO_LINGER timeout 0 on a connected socket sends RST: no TIME_WAIT on either side; the peer is reset (an open peer that got its port from connect or from an autobound listener loses it).",
        "net/ipv4/tcp.c __tcp_close (linger 0 -> tcp_disconnect, RST); tcp_reset -> tcp_done -> tcp_set_state(TCP_CLOSE) releases an unlocked port; tcp_minisocks.c kills TIME_WAIT on RST (tcp_rfc1337=0). Verified live.";
    LINUX_TCP_PASSIVE_CLOSE = "linux.tcp.passive-close-no-timewait",
        "The side that closes second leaves no TIME_WAIT: its port is free at once; the first closer moves to TIME_WAIT.",
        "net/ipv4/tcp.c tcp_close (CLOSE_WAIT -> LAST_ACK -> CLOSE); tcp_input.c tcp_rcv_state_process. Verified live.";
    LINUX_TCP_UNACCEPTED_CHILD = "linux.tcp.unaccepted-child",
        "Closing a listener resets the connections still in its accept queue (no TIME_WAIT; their clients are reset); accepted children keep the port.",
        "net/ipv4/inet_connection_sock.c inet_csk_listen_stop (inet_child_forget -> tcp_disconnect, RST). Verified live.";

    // ---- Linux: UDP bind conflicts (section D) --------------------------
    LINUX_UDP_BIND_CONFLICT = "linux.udp.bind-conflict",
        "A bind to a non-zero UDP port fails with EADDRINUSE if a bound UDP socket overlaps the address and the pair is not exempt: both reuseaddr (no uid or state test), or both reuseport with the same uid.",
        "net/ipv4/udp.c udp_lib_get_port, udp_lib_lport_inuse; net/ipv6/udp.c udp_v6_get_port. Verified live.";
    LINUX_UDP_REUSEPORT_FIRST_MATCH = "linux.udp.reuseport-first-match",
        "The UDP scan walks the port's chain and answers 'free' at the first overlapping socket that forms a same-uid reuseport pair, without looking further: the result depends on order. The chain has the newest sockets first, except IPv6 sockets that had reuseport when they bound, which are appended at the tail (checked last).",
        "net/ipv4/udp.c udp_lib_lport_inuse (return 0 on the first reuseport match), udp_lib_get_port (where a socket enters the chain). Tail insertion of IPv6 reuseport sockets in the port chain found by fuzzing and verified live on 6.18.";
    LINUX_UDP_MANY_SOCKETS = "linux.udp.many-sockets-path",
        "With more than 10 UDP sockets on a port a bind to a specific address scans the chain of its own (address, port), then the wildcard's, each up to the first overlapping socket, which decides (a reuseport pair goes on to the wildcard's chain); fixed kernels (6.18) scan the whole port chain for a wildcard bind, first match deciding.",
        "net/ipv4/udp.c udp_lib_get_port (hslot->count > 10, udp_lib_lport_inuse2: break at the first match; inet_use_hash2_on_bind); fix e537dd15d0d4. Order dependence found by the matrix's crowds and verified live on 6.18.";

    // ---- Linux: ephemeral ports (section E) -----------------------------
    LINUX_TCP_BIND_PORT0 = "linux.tcp.bind-port0",
        "bind ADDR:0 on TCP picks a free port from ip_local_port_range that no overlapping socket holds (no sharing): ok.",
        "net/ipv4/inet_connection_sock.c inet_csk_find_open_port. Verified live.";
    LINUX_TCP_LISTEN_AUTOBIND = "linux.tcp.listen-autobind",
        "listen on an unbound TCP socket binds the wildcard and an ephemeral port: ok.",
        "net/ipv4/inet_connection_sock.c inet_csk_listen_start -> inet_csk_get_port(sk, 0). Verified live.";
    LINUX_TCP_CONNECT_AUTOBIND = "linux.tcp.connect-autobind",
        "connect on an unbound TCP socket picks a source port with a unique 4-tuple and binds the socket; its address becomes the source address.",
        "net/ipv4/inet_hashtables.c __inet_hash_connect; net/ipv4/tcp_ipv4.c tcp_v4_connect. Verified live.";
    LINUX_UDP_BIND_PORT0 = "linux.udp.bind-port0",
        "UDP bind(0), and connect on an unbound UDP socket, pick a random free port: ok.",
        "net/ipv4/udp.c udp_lib_get_port (snum 0); net/ipv4/af_inet.c inet_autobind. Verified live.";

    // ---- Linux: connect and accept (section F) --------------------------
    LINUX_TCP_CONNECT_REFUSED = "linux.tcp.connect-refused",
        "TCP connect to a loopback port where no listener covers the destination: ECONNREFUSED; a port not chosen by bind (SOCK_BINDPORT_LOCK) is released, an address not locked by bind (0.0.0.0, [::]) goes back to the wildcard, a locked one keeps the source address connect filled in; the socket is unconnected again.",
        "net/ipv4/tcp_ipv4.c tcp_v4_send_reset; net/ipv4/af_inet.c __inet_stream_connect (sock_error -> disconnect); net/ipv4/tcp.c tcp_set_state, tcp_disconnect (inet_reset_saddr unless SOCK_BINDADDR_LOCK); net/ipv6/af_inet6.c __inet6_bind (lock for any address but ::). Verified live.";
    LINUX_TCP_CONNECT_STATE = "linux.tcp.connect-state",
        "connect on a connected (or once connected) socket or on a listener: EISCONN; on a socket whose connect is still in progress: EALREADY; a bound socket whose 4-tuple is already in use: EADDRNOTAVAIL.",
        "net/ipv4/af_inet.c __inet_stream_connect (SS_CONNECTED, sk_state != TCP_CLOSE); net/ipv4/inet_hashtables.c __inet_check_established. Verified live.";
    LINUX_TCP_TIMEWAIT_RECYCLE = "linux.tcp.connect-timewait-recycle",
        "A connect from an explicitly bound port whose 4-tuple only a TIME_WAIT entry holds takes that entry over (timestamps are on): the connect goes ahead and the entry is gone.",
        "net/ipv4/inet_hashtables.c __inet_hash_connect (check_established with twp NULL for a bound port); net/ipv4/tcp_ipv4.c tcp_twsk_unique (!twp). tool: found by fuzzing, verified live on 6.18.";
    LINUX_TCP_CONNECT_LISTENER = "linux.tcp.connect-listener",
        "TCP connect to a loopback address:port that a listener covers completes the handshake at once; the connection waits in that listener's accept queue.",
        "net/ipv4/tcp_ipv4.c tcp_v4_connect, tcp_v4_rcv; net/ipv4/inet_connection_sock.c inet_csk_reqsk_queue_add. tool: verified live on 6.18.";
    LINUX_TCP_ACCEPT = "linux.tcp.accept",
        "accept returns the oldest pending connection (even one already reset or closed by its peer); with none pending it is EAGAIN (sockdiff never waits); on a socket that is not listening EINVAL; on UDP EOPNOTSUPP.",
        "net/ipv4/inet_connection_sock.c inet_csk_accept; net/socket.c do_accept (sock_no_accept for UDP). Verified live.";
    LINUX_CONNECT_FAMILY_MISMATCH = "linux.any.connect-family-mismatch",
        "connect with an IPv6 address on a tcp4/udp4 socket: EAFNOSUPPORT; with an IPv4 address on a tcp6 socket: EINVAL (sockaddr too short); a udp6 socket accepts an IPv4 sockaddr unless v6only (EAFNOSUPPORT); a tcp6/udp6 socket bound to a v4-mapped address cannot reach a plain IPv6 peer (EAFNOSUPPORT). UDP binds an unbound socket before any of these checks.",
        "net/ipv4/tcp_ipv4.c tcp_v4_connect; net/ipv6/tcp_ipv6.c tcp_v6_connect (addr_len < SIN6_LEN_RFC2133); net/ipv4/af_inet.c inet_dgram_connect (inet_autobind first); net/ipv4/datagram.c __ip4_datagram_connect; net/ipv6/datagram.c __ip6_datagram_connect (AF_INET branch). tool: verified live on 6.18.";
    LINUX_CONNECT_MAPPED_UNREACHABLE = "linux.any.connect-mapped-unreachable",
        "A v6only tcp6/udp6 socket cannot reach a v4-mapped peer: ENETUNREACH. Binding a plain IPv6 address ([::1]) makes a socket v6only; an address filled in by connect does not.",
        "net/ipv6/tcp_ipv6.c tcp_v6_connect and net/ipv6/datagram.c __ip6_datagram_connect (mapped branch: ipv6_only_sock); net/ipv6/af_inet6.c __inet6_bind (sk_ipv6only = 1 for a non-mapped specific address). Verified live.";
    LINUX_TCP_MAPPED_OPS_STALE = "linux.tcp.mapped-ops-stale",
        "A tcp6 socket whose connect to a v4-mapped peer went out (refused or not) keeps the IPv4 address-family operations: a later connect to a plain IPv6 peer sends nothing and times out (ETIMEDOUT) and stays connecting (a further connect: EALREADY); as a listener, its children for IPv6 peers inherit those operations, so their FIN, ACK and RST are lost (peers are never reset; closes never complete).",
        "net/ipv6/tcp_ipv6.c tcp_v6_connect (icsk_af_ops = ipv6_mapped, restored to ipv6_specific only when tcp_v4_connect fails at once); tcp_v6_syn_recv_sock (the IPv6 child is cloned with the listener's af_ops). tool: found by fuzzing, verified live on 6.18.";
    LINUX_UDP_SEND_PORT_ZERO = "linux.udp.send-port-zero",
        "A probe datagram to port 0 through IPv4 from an IPv6 socket (a udp6 prober to a v4-mapped or IPv4 address) is refused: EINVAL. Through a udp4 or plain IPv6 socket, connect to port 0 succeeds and the datagram goes out to nobody (->none).",
        "net/ipv6/udp.c udpv6_sendmsg (a v4-mapped destination goes to udp_sendmsg with a sockaddr holding the connected port); net/ipv4/udp.c udp_sendmsg (usin->sin_port == 0: -EINVAL; a connected socket with no sockaddr is not checked). tool: found by fuzz with port-0 probes, verified live on 6.18.";
    LINUX_UDP_CONNECT = "linux.udp.connect",
        "UDP connect to loopback always succeeds (no handshake): it sets the peer, autobinds an unbound socket and fixes a wildcard local address to the source address; that rehash puts the socket at the head of its new address chain and takes it out of its reuseport group. Connected to port 0 the socket has no port filter: it takes datagrams from its peer address at any port, ahead of every unconnected socket.",
        "net/ipv4/datagram.c __ip4_datagram_connect (inet_rcv_saddr set, rehash); net/ipv4/udp.c udp_lib_rehash (hlist_add_head_rcu, reuseport_detach_sock); net/ipv6/datagram.c __ip6_datagram_connect; net/ipv4/udp.c and net/ipv6/udp.c compute_score (a zero inet_dport sets no port test; a set inet_daddr must match and scores more). Verified live; port 0 found by fuzz on 6.18.";

    // ---- Linux: delivery (section G) ------------------------------------
    LINUX_TCP_DELIVER_SPECIFIC = "linux.tcp.deliver-specific-first",
        "An incoming connection goes to a listener bound to the exact destination address before any wildcard listener.",
        "net/ipv4/inet_hashtables.c __inet_lookup_listener, inet_lhash2_lookup, compute_score; net/ipv6/inet6_hashtables.c inet6_lookup_listener. Verified live.";
    LINUX_TCP_DELIVER_FAMILY = "linux.tcp.deliver-family",
        "Among wildcard listeners, an AF_INET listener beats a dual-stack AF_INET6 one for IPv4 traffic; IPv6 traffic reaches only AF_INET6 listeners.",
        "net/ipv4/inet_hashtables.c compute_score (PF_INET scores higher). Verified live.";
    LINUX_TCP_DELIVER_INCOMING_CPU = "linux.tcp.deliver-incoming-cpu",
        "A listener that received segments before it listened (the SYN-ACK or RST of an earlier connect) keeps sk_incoming_cpu, and compute_score adds one when the SYN is handled on that CPU: it may then win over a listener that scores the same and comes first in the chain. The CPU is not known: the set of both.",
        "net/ipv4/tcp_ipv4.c tcp_v4_rcv (sk_incoming_cpu_update for every state but LISTEN); net/ipv4/inet_hashtables.c compute_score. Found by fuzz on 6.18 (a refused connect, then listen: the listener got the connection 3 runs in 3).";
    LINUX_TCP_DELIVER_REUSEPORT = "linux.tcp.deliver-reuseport",
        "Within a reuseport group (same address, family, v6only and uid, all listening) the listener is chosen by a hash of the 4-tuple: the set of members. Only a winner whose SO_REUSEPORT is still on hands over to its group; one that turned it off after listen takes the connection itself.",
        "net/ipv4/inet_hashtables.c inet_lookup_reuseport (tests sk->sk_reuseport), inet_lhash2_lookup; net/core/sock_reuseport.c reuseport_select_sock. Verified live, the flag turned off after listen on 6.18.";
    LINUX_UDP_DELIVER = "linux.udp.deliver",
        "A datagram goes to one socket: exact destination address before wildcard; AF_INET before dual-stack AF_INET6 for IPv4; connected sockets only take datagrams from their peer; among equals the first in the chain wins (the most recently bound). compute_score's same-CPU bonus: an unconnected socket does not record the CPU it receives on, a connected one does, and may then win over an equal that comes first in the chain (the CPU is not known: the set of both).",
        "net/ipv4/udp.c __udp4_lib_lookup, udp4_lib_lookup2, compute_score, __udp_queue_rcv_skb (sk_incoming_cpu_update only with inet_daddr set); net/ipv6/udp.c. Verified live (8 probes after both unconnected sockets had received: always the first in the chain; two sockets connected to 127.0.0.1 port 0, the older one having received: it got the probes, 5 runs in 5).";
    LINUX_UDP_DELIVER_REUSEPORT = "linux.udp.deliver-reuseport",
        "When the winning UDP socket is in a reuseport group and still has SO_REUSEPORT on, a member is chosen by hash of the 4-tuple: the set of members. A winner that turned the flag off after bind takes the datagram itself.",
        "net/ipv4/udp.c udp4_lib_lookup2 -> inet_lookup_reuseport (tests sk->sk_reuseport); net/core/sock_reuseport.c. Verified live, the flag turned off after bind on 6.18.";
    LINUX_DELIVER_NONE = "linux.any.deliver-none",
        "No socket matches: a UDP datagram reaches nobody (->none); a TCP connection is refused (ECONNREFUSED).",
        "net/ipv4/udp.c __udp4_lib_rcv (ICMP port unreachable); net/ipv4/tcp_ipv4.c tcp_v4_rcv (no socket -> RST). Verified live.";
}
