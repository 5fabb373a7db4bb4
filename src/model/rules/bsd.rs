//! The rules the `freebsd` and `macos` models share (family `bsd`): ids,
//! meanings and sources, documented for users in docs/semantics/bsd.md.
//! FreeBSD sources were read in the 14.x and main (2025-26) trees, XNU in
//! xnu-11417 (macOS 15). "Not reachable" rules document a decision the case
//! language cannot exercise; no model step emits them.

rules! {
    BSD_RULES;
    // ---- statements every case uses -------------------------------------
    BSD_SOCKET = "bsd.any.socket",
        "socket() for tcp4 and udp4 succeeds (the IPv6 kinds are covered by the platform's v6only-default rule).",
        "FreeBSD sys/kern/uipc_socket.c socreate, sys/netinet/in_pcb.c in_pcballoc; XNU bsd/kern/uipc_socket.c socreate_internal, bsd/netinet/in_pcb.c in_pcballoc. confidence: read-in-source.";
    BSD_DEAD_NAME = "bsd.any.dead-name",
        "A name whose creating statement failed holds no descriptor: every later use of it is EBADF.",
        "docs/interface.md#the-case-language (dead names); the descriptor table gives EBADF for a descriptor that was never opened. tool convention.";
    BSD_CLOSE = "bsd.any.close",
        "close of a UDP socket, or of a TCP socket that is not connected (fresh, bound, listening with an empty queue, or dropped) succeeds and releases its port at once.",
        "FreeBSD tcp_usr_close/tcp_usr_detach -> in_pcbfree, udp_close; XNU soclose -> tcp_usr_detach -> tcp_close -> in_pcbdetach (inp_vflag cleared, so no lookup sees the pcb). confidence: read-in-source.";
    BSD_OPTIONS_ANY_TIME = "bsd.any.options-any-time",
        "set reuseaddr/reuseport/linger0 (and FreeBSD reuseport_lb) on|off is accepted before or after bind/listen/connect; the flags count only for later binds (as the new socket) and for conflict checks where this socket is the existing one.",
        "FreeBSD sys/kern/uipc_socket.c sosetopt (flag options), ip_ctloutput/ip6_ctloutput SOL_SOCKET mirror into inp_flags2; XNU bsd/kern/uipc_socket.c sosetoptlock (flag options). confidence: read-in-source.";
    BSD_V6ONLY_AFTER_BIND = "bsd.any.v6only-after-bind",
        "set v6only on a tcp6/udp6 socket that has a local port or address (bind, listen or connect autobind): EINVAL; before: ok. On tcp4/udp4 the IPv6-level option reaches ip_ctloutput, which refuses every level but IPPROTO_IP: EINVAL.",
        "FreeBSD sys/netinet6/ip6_output.c ip6_ctloutput IPV6_V6ONLY (inp_lport/in6p_laddr test), sys/netinet/ip_output.c ip_ctloutput (level != IPPROTO_IP -> EINVAL); XNU bsd/netinet6/ip6_output.c ip6_ctloutput IPV6_V6ONLY, bsd/netinet/ip_output.c ip_ctloutput. confidence: read-in-source.";

    // ---- bind argument checks --------------------------------------------
    BSD_BIND_TWICE = "bsd.any.bind-twice",
        "bind on a socket that already has a local port or address (explicit bind, listen or connect autobind): EINVAL. A failed bind leaves the socket unbound.",
        "FreeBSD in_pcbbind, in6_pcbbind (inp_lport / laddr test first); XNU in_pcbbind, in6_pcbbind. confidence: read-in-source.";
    BSD_ADDR_NOT_LOCAL = "bsd.any.addr-not-local",
        "bind to a specific address no interface owns (192.0.2.1, also as a v4-mapped address): EADDRNOTAVAIL, checked after bind-twice and before any port conflict.",
        "FreeBSD in_pcbbind_setup / in_pcbbind_avail (ifa_ifwithaddr_check), in6_pcbbind_avail; XNU in_pcbbind, in6_pcbbind (ifa_ifwithaddr). confidence: read-in-source.";
    BSD_LOOPBACK_127_ONLY = "bsd.any.loopback-127-only",
        "lo0 carries only 127.0.0.1 (and ::1): bind to 127.0.0.2 or [::ffff:127.0.0.2] is EADDRNOTAVAIL. A TCP connect or probe to 127.0.0.2 reaches no local socket; whether it is refused, unreachable or times out depends on the routes, so the model allows {ECONNREFUSED,EHOSTUNREACH,ENETUNREACH,ETIMEDOUT} (UDP: the connect may fail ENETUNREACH on FreeBSD, the datagram reaches nobody).",
        "rule 2 (address check) plus the default lo0 configuration of both systems (127.0.0.1/8 on lo0); ip_input delivers only to addresses of the host. confidence: inferred (configuration and routing not read in source; open question of bsd.md).";
    BSD_V4MAPPED_WITH_V6ONLY = "bsd.any.v4mapped-with-v6only",
        "A v6only tcp6/udp6 socket binding [::ffff:a.b.c.d] takes the IPv6 path, where no interface has that IPv6 address: EADDRNOTAVAIL.",
        "FreeBSD tcp6_usr_bind / udp6_bind (mapped branch only without IN6P_IPV6_V6ONLY) then in6_pcbbind_avail (ifa_ifwithaddr fails); XNU tcp6_usr_bind / udp6_bind then in6_pcbbind. confidence: read-in-source (the failing address lookup inferred).";
    BSD_WRONG_FAMILY = "bsd.any.wrong-family",
        "bind or connect with an address of the other family (IPv6 on tcp4/udp4, IPv4 on tcp6/udp6): EAFNOSUPPORT (TCP on both systems, UDP on FreeBSD); the family test comes before the bind-twice test.",
        "FreeBSD tcp_usr_bind, tcp6_usr_bind, tcp_usr_connect, tcp6_usr_connect, udp6_connect (sa_family test first, main/14.x); XNU tcp_usr_bind, tcp6_usr_bind, tcp_usr_connect_common. confidence: read-in-source.";
    BSD_MULTICAST_REUSEADDR = "bsd.any.multicast-reuseaddr",
        "For a multicast bind address reuseaddr counts as reuseport. Not reachable: no multicast address is in the case language.",
        "FreeBSD in_pcbbind_avail, in6_pcbbind_avail; XNU in_pcbbind, in6_pcbbind (IN_MULTICAST branch). confidence: read-in-source.";

    // ---- bind conflicts ---------------------------------------------------
    BSD_PORT_ZERO = "bsd.any.port-zero",
        "Port 0 picks a free ephemeral port: ok; no conflict or uid check runs.",
        "FreeBSD in_pcb_lport_dest (called from in_pcbbind_setup / in6_pcbsetport); XNU in_pcbbind (lport == 0 branch, wild = 1), in6_pcbsetport. confidence: read-in-source.";
    BSD_LOOKUP_MODE = "bsd.any.lookup-mode",
        "With reuseaddr or reuseport (FreeBSD also reuseport_lb) on the new socket the conflict lookup only finds unconnected sockets on the very same address, so a specific address beside another socket's wildcard (either order) is ok whatever that socket's options; without them the lookup finds the best overlapping socket. The existing socket's reuseaddr is never read.",
        "FreeBSD in_pcbbind_setup / in_pcbbind_avail (lookupflags), in_pcblookup_local, in6_pcblookup_local; XNU in_pcbbind, in6_pcbbind (wild), in_pcblookup_local. confidence: read-in-source.";
    BSD_CONFLICT = "bsd.any.conflict",
        "The lookup of the new socket's address finds a socket T: EADDRINUSE unless both have reuseport (FreeBSD: or both reuseport_lb); nothing found: ok. The best match is the one with fewest wildcards (T connected: +1; exactly one side wildcard: +1; FreeBSD: a dual-stack [::] socket seen by an IPv4 lookup +3), ties going to the most recently bound.",
        "FreeBSD in_pcbbind_avail / in6_pcbbind_avail ((reuseport | reuseport_lb) & t->inp_socket->so_options), in_pcblookup_local (matchwild scoring, port list with CK_LIST_INSERT_HEAD); XNU in_pcbbind, in6_pcbbind (reuseport & t->inp_socket->so_options), in_pcblookup_local, in_pcbinshash (LIST_INSERT_HEAD). confidence: read-in-source.";
    BSD_SAME_ADDR = "bsd.any.same-addr",
        "Two sockets on the identical address and port (both 0.0.0.0, both 127.0.0.1, both [::]...) are allowed only when both have reuseport (FreeBSD: or both reuseport_lb); reuseaddr on both is EADDRINUSE.",
        "consequence of bsd.any.lookup-mode and bsd.any.conflict (in_pcbbind_avail / in_pcbbind exact lookup). confidence: read-in-source.";
    BSD_SPECIFIC_BESIDE_WILD = "bsd.any.specific-beside-wild",
        "A plain new socket whose address overlaps another's without being equal (127.0.0.1 beside 0.0.0.0, [::1] beside [::], either order) is EADDRINUSE: its wildcard lookup finds the other socket. Two different specific addresses never conflict.",
        "consequence of bsd.any.lookup-mode and bsd.any.conflict (in_pcblookup_local scoring). confidence: read-in-source.";
    BSD_LISTEN_IRRELEVANT = "bsd.any.listen-irrelevant",
        "Whether the existing socket listens never matters: a reuseaddr bind of a specific address beside a listening wildcard socket is ok (Linux refuses it).",
        "FreeBSD in_pcblookup_local and XNU in_pcblookup_local never test the listen state. confidence: read-in-source.";
    BSD_CONNECTED_AND_TIMEWAIT = "bsd.any.connected-and-timewait",
        "A connected socket (accepted, connected client, closed connection still in FIN_WAIT_2/TIME_WAIT) keeps its address and port: a plain bind that overlaps it is EADDRINUSE, a reuseaddr or reuseport bind is ok because the exact lookup skips sockets with a peer. Accepted sockets inherit the listener's options.",
        "FreeBSD in_pcblookup_local (exact branch requires a wildcard foreign address), sonewconn (so_options copied); XNU in_pcblookup_local, sonewconn_internal (so_options = head->so_options & ~SO_ACCEPTCONN). confidence: read-in-source.";
    BSD_V4_LOOKUPS_SEE_DUAL_STACK = "bsd.any.v4-lookups-see-dual-stack",
        "IPv4 binds see a dual-stack [::] socket as 0.0.0.0, and a tcp6/udp6 socket bound to [::ffff:a.b.c.d] (only possible with v6only off) is an IPv4 socket for all purposes: it conflicts with IPv4 sockets on a.b.c.d and is invisible to IPv6 lookups.",
        "FreeBSD tcp6_usr_bind / udp6_bind (mapped branch -> in_pcbbind, inp_vflag INP_IPV4 only), in_pcblookup_local (INP_IPV4 test); XNU tcp6_usr_bind, udp6_bind, in_pcblookup_local. confidence: read-in-source.";
    BSD_DUAL_STACK_EXEMPTION = "bsd.any.dual-stack-exemption",
        "An IPv4-path conflict is waived when both sockets are AF_INET6 and both wildcard, e.g. [::ffff:0.0.0.0] beside a dual-stack [::].",
        "FreeBSD in_pcbbind_avail (INP_IPV6PROTO test); XNU in_pcbbind (SOCK_DOM(so) == PF_INET6 test). confidence: read-in-source.";
    BSD_V4_THEN_DUALSTACK = "bsd.any.v4-then-dualstack",
        "A dual-stack [::] bind repeats the conflict check against 0.0.0.0 but only counts a socket bound to a specific IPv4 address or an AF_INET6 socket: a plain IPv4 0.0.0.0 socket first, then a dual-stack [::] socket is ok; the reverse order is EADDRINUSE (the IPv4 lookup finds [::]), even with reuseaddr; ok only with shared reuseport.",
        "FreeBSD in6_pcbbind_avail (second in_pcblookup_local on INADDR_ANY); XNU in6_pcbbind (second in_pcblookup_local_and_cleanup, SOCK_DOM test). confidence: read-in-source.";

    // ---- listen, connect, accept, close -----------------------------------
    BSD_LISTEN_UDP = "bsd.any.listen-udp",
        "listen on a UDP socket: EOPNOTSUPP.",
        "FreeBSD UDP protosw has no pr_listen (pr_listen_notsupp); XNU solisten (PR_CONNREQUIRED test). confidence: read-in-source.";
    BSD_TCP_LISTEN_AUTOBIND = "bsd.tcp.listen-autobind",
        "listen on an unbound TCP socket binds the wildcard of its family (tcp6: [::], dual-stack unless v6only) and an ephemeral port without any conflict check: ok.",
        "FreeBSD tcp_usr_listen / tcp6_usr_listen (in_pcbbind(inp, NULL)); XNU tcp_usr_listen / tcp6_usr_listen. confidence: read-in-source.";
    BSD_TCP_LISTEN_STATE = "bsd.tcp.listen-state",
        "listen again on a listener: ok (backlog only); on a connected TCP socket (also after the peer closed): EINVAL; listen never re-checks the port.",
        "FreeBSD solisten_proto_check (SS_ISCONNECTED|SS_ISCONNECTING|SS_ISDISCONNECTING -> EINVAL); XNU solisten. confidence: read-in-source.";
    BSD_TCP_DROPPED = "bsd.tcp.dropped",
        "A TCP socket whose connection was refused, reset or timed out is dead: its port is released at once, bind and listen are EINVAL, accept is EINVAL.",
        "FreeBSD tcp_drop -> tcp_close -> in_pcbdrop, tcp_usr_bind / tcp_usr_listen (TF_DISCONNECTED / INP_DROPPED -> EINVAL); XNU tcp_close -> in_pcbdetach (INPCB_STATE_DEAD, inp_vflag = 0), COMMON_START (DEAD -> EINVAL). confidence: read-in-source.";
    BSD_CONNECT_ERRORS = "bsd.any.connect-errors",
        "connect on a connected TCP socket (also after the peer closed): EISCONN; on a listener: EOPNOTSUPP.",
        "FreeBSD soconnectat (PR_CONNREQUIRED and SS_ISCONNECTED -> EISCONN), tcp_usr_connect (SOLISTENING -> EOPNOTSUPP); XNU soconnectlock (SO_ACCEPTCONN -> EOPNOTSUPP first, then EISCONN). confidence: read-in-source.";
    BSD_CONNECT_FAMILY = "bsd.any.connect-family",
        "connect of a tcp6/udp6 socket: to a v4-mapped address when the socket can no longer speak IPv4 (bound or connected to a plain IPv6 address) or to an IPv6 address when it is bound to a v4-mapped address: EAFNOSUPPORT (TCP; FreeBSD also UDP); v6only to a v4-mapped address: FreeBSD EINVAL, macOS TCP EAFNOSUPPORT. Nothing is bound by the failed call.",
        "FreeBSD tcp6_usr_connect, udp6_connect (IN6P_IPV6_V6ONLY -> EINVAL, inp_vflag tests -> EAFNOSUPPORT); XNU tcp_usr_connect_common (v4 mapped: IPV6_V6ONLY / inp_vflag == INP_IPV6 -> EAFNOSUPPORT; inp_vflag == INP_IPV4 -> EAFNOSUPPORT). confidence: read-in-source.";
    BSD_CONNECT_PORT_ZERO = "bsd.any.connect-port-zero",
        "connect (and a probe) to port 0: EADDRNOTAVAIL, nothing bound.",
        "FreeBSD in_pcbconnect (sin_port == 0), in6_pcbladdr; XNU in_pcbladdr, in6_pcbladdr (port 0 -> EADDRNOTAVAIL). confidence: read-in-source.";
    BSD_TCP_CONNECT_REFUSED = "bsd.tcp.connect-refused",
        "TCP connect to a loopback port where no socket matches the destination: the SYN is answered with RST, ECONNREFUSED, and the socket is dropped (its port, even an explicitly bound one, is released).",
        "FreeBSD tcp_input (no pcb -> dropwithreset), tcp_do_segment SYN_SENT + RST -> tcp_drop(ECONNREFUSED); XNU tcp_input (no pcb -> dropwithresetnosock), tcp_close -> in_pcbdetach. confidence: read-in-source.";
    BSD_TCP_CONNECT_LISTENER = "bsd.tcp.connect-listener",
        "TCP connect to a loopback address and port that a listener receives (after delivery, see the platform's deliver rules) completes: ok. An unbound socket is bound to an ephemeral port and the source address; a wildcard-bound one takes the source address. The connection waits in the listener's accept queue.",
        "FreeBSD tcp_usr_connect -> tcp_connect -> in_pcbconnect (in_pcb_lport_dest), syncache_add/expand; XNU tcp_connect (in_pcbbind(NULL) then in_pcbladdr). confidence: read-in-source.";
    BSD_TCP_TUPLE_IN_USE = "bsd.tcp.connect-tuple-in-use",
        "TCP connect from a bound port whose 4-tuple another connection holds (also one in FIN_WAIT_2/TIME_WAIT): EADDRINUSE, the socket stays as it was.",
        "FreeBSD in_pcbconnect (in_pcblookup_exact for a bound port -> EADDRINUSE); XNU tcp_connect (in_pcblookup_hash; TIME_WAIT recycled only with TF_RCVD_CC, which loopback connections never have). confidence: read-in-source.";
    BSD_TCP_SELF_CONNECT = "bsd.tcp.self-connect",
        "A TCP socket connecting to its own address and port (FreeBSD; macOS over IPv6) opens to itself by simultaneous open: ok.",
        "FreeBSD tcp_do_segment SYN_SENT (SYN without ACK -> SYN_RECEIVED), no self-connect test in tcp_connect; XNU tcp6_connect has no self-connect test. confidence: inferred (state machine not traced to the end).";
    BSD_UDP_CONNECT = "bsd.udp.connect",
        "UDP connect to loopback sets the peer: ok. An unbound socket gets an ephemeral port, a wildcard-bound one the source address; a connected socket is disconnected first (re-target). A connected UDP socket only receives from its peer.",
        "FreeBSD soconnectat (sodisconnect first for datagram sockets), udp_connect / udp6_connect -> in_pcbconnect / in6_pcbconnect; XNU soconnectlock, udp_connect, udp6_connect, in_pcbconnect. confidence: read-in-source.";
    BSD_TCP_ACCEPT = "bsd.tcp.accept",
        "accept returns the oldest queued connection (ok); with none queued EAGAIN (sockdiff never waits); on a socket that does not listen (also UDP) EINVAL; a queued connection reset by its peer before accept gives ECONNABORTED and is gone.",
        "FreeBSD kern_accept4 (!SOLISTENING -> EINVAL, non-blocking -> EWOULDBLOCK), tcp_usr_accept (TF_DISCONNECTED -> ECONNABORTED); XNU accept_nocancel (SO_ACCEPTCONN test, SS_NBIO -> EWOULDBLOCK), tcp_usr_accept (SS_ISDISCONNECTED -> ECONNABORTED). confidence: read-in-source.";
    BSD_TIMEWAIT_WHO = "bsd.any.timewait-who",
        "Closing a connected TCP socket: the side that closes first keeps its address and port (FIN_WAIT_2, then TIME_WAIT once the peer has closed); the side that closes second leaves nothing; close with linger0 sends RST: no TIME_WAIT, the peer is reset.",
        "FreeBSD tcp_usr_close -> tcp_disconnect (linger 0 -> tcp_drop), tcp_twstart; XNU tcp_usr_disconnect, tcp_input (TIME_WAIT after FIN_WAIT_2, 2*tcp_msl). confidence: inferred (TCP state machine) / read-in-source.";
    BSD_TCP_LISTENER_CLOSE = "bsd.tcp.listener-close-resets",
        "Closing a listener resets the connections still in its accept queue: no TIME_WAIT, their clients are reset (dropped); accepted connections are unaffected.",
        "FreeBSD soclose (sofree of so_comp/so_incomp -> soabort -> tcp_usr_abort -> tcp_drop); XNU soclose_locked (soabort of queued sockets). confidence: read-in-source.";
    BSD_DELIVER_NONE = "bsd.any.deliver-none",
        "No socket matches the destination: a UDP datagram reaches nobody (->none); a TCP connection is refused (ECONNREFUSED).",
        "FreeBSD udp_input (no pcb -> icmp_error), tcp_input (no pcb -> RST); XNU udp_input, tcp_input. confidence: read-in-source.";
    BSD_UDP_SAME_AS_TCP = "bsd.udp.same-as-tcp",
        "UDP binds go through the same functions as TCP binds, so the bind rules apply unchanged (they carry the TCP rule ids); differences: no TIME_WAIT, no listen/accept, FreeBSD's uid check also counts connected UDP sockets. Documentation rule: never emitted.",
        "FreeBSD udp_bind -> in_pcbbind, udp6_bind -> in6_pcbbind; XNU udp_bind, udp6_bind. confidence: read-in-source.";
}
