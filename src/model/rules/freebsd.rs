//! The rules of the `freebsd` model only (family `freebsd`): ids, meanings
//! and sources. Documented for users in docs/semantics/bsd.md; version
//! ranges are in [`super::VERSION_RANGES`]. The newest sources read are the
//! FreeBSD main tree of 2025-26 (15.x era); 14.x and 13.x copies of the same
//! files were read for the older behaviour.

rules! {
    FREEBSD_RULES;
    FREEBSD_V6ONLY_DEFAULT = "freebsd.v6.v6only-default",
        "socket() for tcp6 and udp6 succeeds; a new IPv6 socket starts v6only (net.inet6.ip6.v6only = 1), so [::] and 0.0.0.0 sockets never interact unless v6only is turned off.",
        "sys/netinet6/in6_proto.c (ip6_v6only = 1), sys/netinet/in_pcb.c in_pcballoc (IN6P_IPV6_V6ONLY when V_ip6_v6only). confidence: read-in-source.";
    FREEBSD_UNKNOWN_OPTION = "freebsd.any.unknown-option",
        "exclusiveaddruse (Windows) does not exist on FreeBSD, nor reuseport_lb before 12.0: nothing is passed to the kernel, the outcome is ENOPROTOOPT.",
        "docs/interface.md#the-case-language (options the host lacks); sys/sys/socket.h (no SO_EXCLUSIVEADDRUSE; SO_REUSEPORT_LB since 12.0). tool convention.";
    FREEBSD_UID = "freebsd.any.uid",
        "A new socket created by a non-root user (no PRIV_NETINET_REUSEPORT) whose best overlapping socket on the port (wildcard lookup, whatever its own options) belongs to another user is EADDRINUSE, unless that socket is a connected TCP socket (unique 4-tuple); no reuse option makes an exception. A dual-stack [::] bind repeats the check against 0.0.0.0. Version range: 15 and later.",
        "sys/netinet/in_pcb.c in_pcbbind_avail and sys/netinet6/in6_pcb.c in6_pcbbind_avail (main, 2025-26). confidence: read-in-source.";
    FREEBSD_UID_LB_EXCEPTION = "freebsd.any.uid-lb-exception",
        "As freebsd.any.uid, but the check is skipped when both sockets are wildcard and the existing one has reuseport_lb without reuseport (two users may share 0.0.0.0:P with reuseport_lb); the dual-stack repeat against 0.0.0.0 has no exception. Version range: 12 to 14.",
        "sys/netinet/in_pcb.c in_pcbbind_setup, sys/netinet6/in6_pcb.c in6_pcbbind (14.x and 13.x). confidence: read-in-source.";
    FREEBSD_UID_LEGACY = "freebsd.any.uid-legacy",
        "As freebsd.any.uid, but the check is skipped when both sockets are wildcard and the existing one has reuseport (two users may share a wildcard port with reuseport). Version range: before 12.",
        "sys/netinet/in_pcb.c in_pcbbind_setup (11.x and earlier, INP_REUSEPORT test; same check kept in the OpenFastPath fork). confidence: read-in-source (older copies).";
    FREEBSD_REUSEPORT_LB_BIND = "freebsd.any.reuseport-lb-bind",
        "reuseport_lb acts in bind like reuseport but only pairs with reuseport_lb: both reuseport_lb -> ok; reuseport on one and reuseport_lb on the other -> EADDRINUSE; reuseport_lb on the new socket also selects the exact lookup. Version range: 12 and later.",
        "sys/netinet/in_pcb.c in_pcbbind_setup / in_pcbbind_avail, sys/netinet6/in6_pcb.c in6_pcbbind_avail ((reuseport | reuseport_lb) & so_options). confidence: read-in-source.";
    FREEBSD_REUSEPORT_LB_GROUP = "freebsd.any.reuseport-lb-group",
        "A socket that has reuseport_lb when it is bound (explicit bind, port 0, listen autobind) joins the load-balancing group of its family flags, local address and port; a dual-stack [::] or [::ffff:0.0.0.0] socket joins none; setting reuseport_lb after bind joins none; a connected socket leaves its group. Version range: 12 and later.",
        "sys/netinet/in_pcb.c in_pcbinshash -> in_pcbinslbgrouphash (\"Don't allow IPv4 mapped INET6 wild socket\"), in_pcbrehash (removes on connect, main). confidence: read-in-source.";
    FREEBSD_LB_PENDING = "freebsd.tcp.lb-pending",
        "A TCP member of a load-balancing group is pending until it listens: pending members receive nothing through the group, and a group with no listening member is skipped (delivery falls back to the ordinary lookup). Version range: 15 and later (12-14: members take connections as soon as they are bound, and a SYN given to a non-listening member is reset).",
        "sys/netinet/in_pcb.c in_pcblbgroup_insert (il_pending for !SOLISTENING TCP sockets), in_pcblisten (called from tcp_usr_listen), in_pcblookup_lbgroup (il_inpcnt == 0 -> NULL) (main, 2025-26); tests/sys/netinet/so_reuseport_lb_test.c bind_without_listen. confidence: read-in-source (release boundary inferred).";
    FREEBSD_LB_CONNECT = "freebsd.tcp.lb-connect",
        "connect on a TCP socket that has reuseport_lb: EOPNOTSUPP, nothing bound. Version range: 15 and later.",
        "sys/netinet/tcp_usrreq.c tcp_connect / tcp6_connect (SO_REUSEPORT_LB -> EOPNOTSUPP, main); tests/sys/netinet/so_reuseport_lb_test.c connect_not_bound, connect_bound. confidence: read-in-source (release boundary inferred).";
    FREEBSD_DELIVER_LB_FIRST = "freebsd.deliver.lb-first",
        "An incoming TCP SYN or UDP datagram with no exact 4-tuple match goes first to a load-balancing group: the group on the exact destination address beats the wildcard group, even when an ordinary socket is bound to the exact address; the member is chosen by a hash of the peer's address and port, so the model allows every member ({->a,->b}). Version range: 12 and later.",
        "sys/netinet/in_pcb.c in_pcblookup_hash_locked / in_pcblookup_smr -> in_pcblookup_lbgroup (INP_PCBLBGROUP_PKTHASH % count), sys/netinet6/in6_pcb.c in6_pcblookup_lbgroup. confidence: read-in-source.";
    FREEBSD_DELIVER_ORDER = "freebsd.deliver.order",
        "Without a load-balancing group an unconnected socket bound to the exact destination address wins, then an AF_INET wildcard socket, then a dual-stack AF_INET6 one ([::] or [::ffff:0.0.0.0]); IPv6 traffic: [::1] before [::]. Several sockets in the same class (shared with reuseport) are a tie whose winner depends on the hash-chain order and the lookup path, so the model allows all of them.",
        "sys/netinet/in_pcb.c in_pcblookup_wild_locked / in_pcblookup_wild_smr, _in_pcbinshash_wild (bound before wildcard, unbound mapped last), in6_pcblookup_hash_wild_locked. confidence: read-in-source (order), inferred (tie winner).";
    FREEBSD_SYN_TO_CLOSED = "freebsd.tcp.syn-to-closed",
        "When delivery picks a TCP socket that is bound but not listening, the SYN is answered with RST: the client's connect is ECONNREFUSED (and the client is dropped), even if another socket listens on a wildcard of the port.",
        "sys/netinet/tcp_input.c tcp_input_with_port (case TCPS_CLOSED: closed_port = true; goto dropwithreset) (main and 14.x). confidence: read-in-source.";
    FREEBSD_NOLOCALTIMEWAIT = "freebsd.tcp.nolocaltimewait",
        "With net.inet.tcp.nolocaltimewait on (the default since 14.0) a loopback connection never enters TIME_WAIT: the side that closed first keeps its port only while the peer is open (FIN_WAIT_2) and frees it when the peer's FIN arrives. Version range: 14 and later (before: TIME_WAIT for 2*MSL = 60 s).",
        "sys/netinet/tcp_timewait.c (14.x/main: the nolocaltimewait sysctl defaults to true; tcp_twstart closes a connection whose peer address is local with tcp_close instead of arming the 2MSL timer; older files: default 0 and a compressed tcptw); FreeBSD 14.0 release notes (nolocaltimewait on by default); reviews.freebsd.org D50830 (2025: local means on this host). confidence: read-in-source (14.0 boundary from the release notes).";
    FREEBSD_DROPPED_CONNECT = "freebsd.tcp.dropped-connect",
        "connect on a dropped TCP socket (refused, reset or timed out before): ECONNREFUSED.",
        "sys/netinet/tcp_usrreq.c tcp_usr_connect / tcp6_usr_connect (TF_DISCONNECTED, earlier INP_DROPPED -> ECONNREFUSED). confidence: read-in-source.";
    FREEBSD_SETOPT_DROPPED = "freebsd.tcp.setopt-dropped",
        "An IP-level option (v6only) on a dropped TCP socket: ECONNRESET, before any other test (socket-level options are still ok).",
        "sys/netinet/tcp_usrreq.c tcp_ctloutput (TF_DISCONNECTED / INP_DROPPED -> ECONNRESET); sys/kern/uipc_socket.c sosetopt (SOL_SOCKET options handled by the socket layer). confidence: read-in-source.";
    FREEBSD_WRONG_FAMILY_LEGACY = "freebsd.any.wrong-family-legacy",
        "Before 13, tcp_usr_bind/tcp6_usr_bind tested the sockaddr length before the family, so an address of the other family could give EINVAL instead of EAFNOSUPPORT; the model allows {EAFNOSUPPORT,EINVAL}. Version range: before 13.",
        "sys/netinet/tcp_usrreq.c tcp_usr_bind (12.x: sa_len test first; 13.x: sa_family test first). confidence: read-in-source (exact release boundary inferred).";
    FREEBSD_JAIL = "freebsd.any.jail",
        "Lookups ignore sockets of other jails and prefer jailed sockets in delivery. Not reachable: sockdiff runs no jails.",
        "sys/netinet/in_pcb.c in_pcblookup_local (prison_equal_ip4), in_pcblookup_wild_locked. confidence: read-in-source.";
    FREEBSD_RESERVED_PORT = "freebsd.any.reserved-port",
        "Ports between net.inet.ip.portrange.reservedlow and reservedhigh (0-1023) need privilege: EACCES. Not reachable with P1-P9.",
        "sys/netinet/in_pcb.c in_pcbbind_avail (PRIV_NETINET_RESERVEDPORT). confidence: read-in-source.";
}
