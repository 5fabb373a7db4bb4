//! The rules of the `macos` model only (family `macos`): ids, meanings and
//! sources. Documented for users in docs/semantics/bsd.md;. Sources read in
//! apple-oss-distributions/xnu at xnu-11417.101.15 (macOS 15).

rules! {
    MACOS_RULES;
    MACOS_V6ONLY_DEFAULT = "macos.v6.v6only-default",
        "socket() for tcp6 and udp6 succeeds; a new IPv6 socket starts with v6only off (mapped addresses on), so a plain tcp6 on [::] is dual-stack.",
        "bsd/netinet/in_pcb.c in_pcballoc (IN6P_IPV6_V6ONLY only when !ip6_mapped_addr_on), bsd/netinet6/in6_proto.c. confidence: read-in-source.";
    MACOS_UNKNOWN_OPTION = "macos.any.unknown-option",
        "reuseport_lb (FreeBSD) and exclusiveaddruse (Windows) do not exist on macOS: nothing is passed to the kernel (FreeBSD's SO_REUSEPORT_LB number is a private XNU option), the outcome is ENOPROTOOPT.",
        "docs/interface.md#the-case-language (options the host lacks); bsd/kern/uipc_socket.c sosetoptlock (default: ENOPROTOOPT), bsd/sys/socket_private.h. tool convention.";
    MACOS_UID = "macos.any.uid",
        "A new socket created by a non-root user whose best overlapping socket on the port (wildcard lookup) belongs to another user is EADDRINUSE when at least one of the two addresses is specific (IPv6: or the other socket lacks reuseport); connected and TIME_WAIT sockets count too. Two users may share a wildcard port when the conflict check lets them (both reuseport). A dual-stack [::] bind also checks 0.0.0.0: another user's socket without reuseport that is IPv4-specific or AF_INET6 refuses it.",
        "bsd/netinet/in_pcb.c in_pcbbind (kauth_cred_getuid(so->so_cred) != 0 block), bsd/netinet6/in6_pcb.c in6_pcbbind. confidence: read-in-source.";
    MACOS_SETOPT_DISCONNECTED = "macos.any.setopt-disconnected",
        "Every setsockopt on a socket that can neither send nor receive any more (a TCP socket that was refused, reset or timed out) is EINVAL.",
        "bsd/kern/uipc_socket.c sosetoptlock (SS_CANTRCVMORE|SS_CANTSENDMORE -> EINVAL), bsd/kern/uipc_socket2.c soisdisconnected (sets both). confidence: read-in-source.";
    MACOS_DEAD_CONNECT = "macos.tcp.dead-connect",
        "connect on a dead TCP socket: the error the connection died with if nobody has read it yet (ECONNRESET after a reset by the peer), else EINVAL.",
        "bsd/netinet/tcp_usrreq.c tcp_usr_connect / tcp6_usr_connect (INPCB_STATE_DEAD: return so_error once, then EINVAL), bsd/kern/uipc_syscalls.c connectit (a connect's own error is read there). confidence: read-in-source.";
    MACOS_SELF_CONNECT = "macos.tcp.self-connect",
        "A tcp4 (or v4-mapped tcp6) socket connecting to its own address and port: EINVAL; the socket stays bound.",
        "bsd/netinet/tcp_usrreq.c tcp_connect (laddr == faddr && lport == fport -> EINVAL). confidence: read-in-source.";
    MACOS_UDP_WRONG_FAMILY = "macos.udp.wrong-family",
        "bind or connect of a UDP socket with an address of the other family: EINVAL (the sockaddr length test in in_pcbbind/in6_pcbbind/in_pcbladdr/in6_pcbladdr comes first), unlike TCP's EAFNOSUPPORT.",
        "bsd/netinet/udp_usrreq.c udp_bind (accepts AF_INET6), bsd/netinet/in_pcb.c in_pcbbind and in_pcbladdr (sa_len != sizeof(struct sockaddr_in) -> EINVAL), bsd/netinet6/udp6_usrreq.c udp6_bind, bsd/netinet6/in6_pcb.c in6_pcbbind and in6_pcbladdr. confidence: read-in-source.";
    MACOS_UDP_V6ONLY_MAPPED = "macos.udp.v6only-mapped",
        "connect of a v6only udp6 socket to a v4-mapped address goes down the IPv6 path, which has no route or source for it; the exact error was not traced, so the model allows {EADDRNOTAVAIL,EHOSTUNREACH,EINVAL,ENETUNREACH}; a udp6 socket bound to a v4-mapped address connecting to an IPv6 address, or bound to a plain IPv6 address connecting to a mapped one: EINVAL.",
        "bsd/netinet6/udp6_usrreq.c udp6_connect (v6only skips the mapped branch; INP_V4MAPPEDV6 / inp_vflag == INP_IPV6 -> EINVAL), bsd/netinet6/in6_pcb.c in6_pcbladdr -> in6_selectsrc. confidence: read-in-source (EINVAL cases), inferred (v6only case).";
    MACOS_DELIVER_ORDER = "macos.deliver.order",
        "An incoming SYN or unicast datagram with no exact 4-tuple match goes to an unconnected socket bound to the exact destination address, else an AF_INET wildcard socket, else an AF_INET6 wildcard ([::] dual-stack or [::ffff:0.0.0.0]); no load balancing. Several sockets in the same class are a tie decided by hash-chain order, so the model allows all of them.",
        "bsd/netinet/in_pcb.c in_pcblookup_hash_locked (local_wild / local_wild_mapped), in_pcbinshash and in_pcbrehash (LIST_INSERT_HEAD), bsd/netinet6/in6_pcb.c in6_pcblookup_hash_locked. confidence: read-in-source (order), inferred (tie winner).";
    MACOS_SYN_TO_CLOSED = "macos.tcp.syn-to-closed",
        "When delivery picks a TCP socket that is bound but not listening, XNU drops the SYN without a reset: the client's connect hangs until the connection-establishment timer gives up (ETIMEDOUT) and the client is dead; a wildcard listener on the same port is shadowed.",
        "bsd/netinet/tcp_input.c tcp_input (tp->t_state == TCPS_CLOSED -> goto drop, DROP_REASON_TCP_CLOSED). confidence: read-in-source.";
    MACOS_RESERVED_PORT = "macos.any.reserved-port",
        "Ports below 1024 need privilege only for a specific address (a non-root wildcard bind of port 80 is allowed): EACCES; restricted ports give EADDRINUSE. Not reachable with P1-P9.",
        "bsd/netinet/in_pcb.c in_pcbbind, bsd/netinet6/in6_pcb.c in6_pcbbind (XNU_TARGET_OS_OSX block, current_task_can_use_restricted_in_port). confidence: read-in-source.";
    MACOS_NETNS = "macos.any.netns",
        "Each BSD bind also reserves the port in the Skywalk namespace; BSD reservations never conflict with each other, so this adds no rule for BSD sockets. Documentation rule: never emitted.",
        "bsd/skywalk/namespace/netns.c _netns_reserve_common; bsd/netinet/in_pcb.c in_pcbbind (netns_reserve_in). confidence: read-in-source.";
    MACOS_MULTICAST_FANOUT = "macos.udp.multicast-fanout",
        "Multicast and broadcast datagrams go to every matching socket until one without reuseport/reuseaddr. Not reachable with loopback unicast probes.",
        "bsd/netinet/udp_usrreq.c udp_input (multicast loop). confidence: read-in-source.";
}
