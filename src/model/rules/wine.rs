//! The rules of the `wine` model: where Wine (checked: 8.0, Debian
//! 8.0~repack-4, on Linux 6.18) does what Windows does not. The `wine`
//! model is the `windows` model with these laid over it; a statement
//! reports a `wine.*` rule exactly where Wine's outcome differs from the
//! Windows prediction. Sources: wine server/sock.c (`check_addr_usage`,
//! `update_addr_usage`, `init_socket`, `sock_destroy`, the IOCTL_AFD_BIND,
//! IOCTL_AFD_LISTEN, SO_REUSEADDR and SO_EXCLUSIVEADDRUSE handlers),
//! dlls/ws2_32/tests/sock.c (the todo_wine lines), and runs of
//! corpus/windows and `fuzz` under Wine 8.0 in a private network namespace.

rules! {
    WINE_RULES;
    WINE_TCP_ONLY = "wine.any.tcp-only",
        "Wine keeps its Windows-style table of bound addresses for TCP only. UDP binds are left to Linux: Winsock SO_REUSEADDR is passed to the Linux socket and both sockets need it, SO_EXCLUSIVEADDRUSE is only remembered, IPv4 wildcard and specific addresses overlap; a refusal is EADDRINUSE, or EACCES when the new socket has SO_REUSEADDR.",
        "wine server/sock.c should_track_conflicts_for_addr (TCP only), SO_REUSEADDR handler (setsockopt for non-TCP), IOCTL_AFD_BIND (EADDRINUSE -> EACCES with reuseaddr); runs under Wine 8.0.";
    WINE_TCP_HOST_REUSEADDR = "wine.tcp.host-reuseaddr",
        "Every Wine TCP socket has Linux SO_REUSEADDR, so after Wine's table lets a bind through, Linux still refuses an address that overlaps a listening socket (EADDRINUSE; EACCES when the new socket has SO_REUSEADDR), and listen fails (EADDRINUSE) while an overlapping socket listens. Windows allows both (windows.tcp.listen-no-conflict).",
        "wine server/sock.c init_socket (SO_REUSEADDR on every TCP socket), IOCTL_AFD_LISTEN; Linux inet_csk_bind_conflict; the todo_wine lines of test_reuseaddr; runs under Wine 8.0.";
    WINE_TCP_TABLE = "wine.tcp.table",
        "Wine's own table of bound TCP addresses decides where the Windows sources leave a choice open: one entry per bound address and port (per family; a v6only-off IPv6 socket also enters its v4-mapped address, and [::] as 0.0.0.0 only when exclusive); a bind that matches an entry fails unless both have SO_REUSEADDR, with EACCES when the new socket has SO_REUSEADDR or the entry is an exclusive wildcard, else EADDRINUSE; wildcard and specific entries match only through an exclusive wildcard.",
        "wine server/sock.c addr_compare, check_addr_usage, register_bound_address, update_addr_usage; runs under Wine 8.0.";
    WINE_TCP_EXCL_WILDCARD = "wine.tcp.excl-wildcard",
        "An exclusive wildcard holder matches every later bind of its port and family in Wine's table: EACCES for all of them, also a same-wildcard bind without SO_REUSEADDR (Microsoft's table: EADDRINUSE; open question 1).",
        "wine server/sock.c addr_compare and check_addr_usage (match_any_addr; STATUS_ACCESS_DENIED when the entry matches any address); runs under Wine 8.0.";
    WINE_NO_USERS = "wine.any.no-users",
        "Wine has no second account: a socket made 'as other' is treated as the main user's (a specific bind under another user's wildcard is ok where Windows gives EACCES).",
        "wine server/sock.c check_addr_usage (no owner in the table). Read in source; 'as other' cannot be run here.";
    WINE_TCP_DELIVER_FIRST_ONLY = "wine.tcp.deliver-first-only",
        "Connections are delivered by Linux: a specific listener before a wildcard one, an IPv4 listener before a dual-stack one; since a second listener on a shared address cannot listen, it never gets one, and after the first closes connections are refused.",
        "Linux __inet_lookup_listener (compute_score); wine server/sock.c IOCTL_AFD_LISTEN; todo_wine lines of test_reuseaddr; runs under Wine 8.0.";
    WINE_TCP_TIME_WAIT = "wine.tcp.time-wait",
        "A closed connection never keeps a bind out: the table entry goes with the socket and Linux SO_REUSEADDR passes TIME_WAIT.",
        "wine server/sock.c sock_destroy (removes the bound address), init_socket (SO_REUSEADDR); runs under Wine 8.0.";
    WINE_TCP_CONNECTION_UNTRACKED = "wine.tcp.connection-untracked",
        "Sockets bound by connect or made by accept are not in Wine's table and have Linux SO_REUSEADDR: they never keep a bind out.",
        "wine server/sock.c update_addr_usage (called from IOCTL_AFD_BIND only), accept_socket; runs under Wine 8.0.";
    WINE_PORT_ZERO = "wine.any.port-zero",
        "A port-0 bind is not checked against Wine's table (Linux picks a free port) but is entered in it with the port Linux chose, so later binds of that port are judged as on Windows. The notes behind docs/semantics/windows.md expected port-0 binds to stay out of the table; Wine 8.0 enters them (corpus/windows/bind/port-zero.case). No divergence from Windows is known here.",
        "wine server/sock.c should_track_conflicts_for_addr (port 0 not checked), IOCTL_AFD_BIND (update_addr_usage after getsockname); runs under Wine 8.0.";
    WINE_UDP_INTERFACE_BIND = "wine.udp.interface-bind",
        "A UDP bind to an IPv4 address other than 127.0.0.1 that no interface has as its own (127.0.0.2, 192.0.2.1) binds 0.0.0.0 on Linux: it succeeds, conflicts like a wildcard and receives for every address (Windows: EADDRNOTAVAIL for 192.0.2.1, a specific binding for 127.0.0.2).",
        "wine server/sock.c IOCTL_AFD_BIND and bind_to_interface (the wildcard fallback for datagram sockets); runs under Wine 8.0 (found by fuzz).";
    WINE_OPTIONS_AFTER_BIND = "wine.any.options-after-bind",
        "Wine accepts SO_REUSEADDR and SO_EXCLUSIVEADDRUSE changes on a bound socket (ok, nothing changes for it); Windows' answer is open (open question 7).",
        "wine server/sock.c SO_REUSEADDR and SO_EXCLUSIVEADDRUSE handlers (no bound check); runs under Wine 8.0.";
    WINE_TCP_MAPPED_OPS = "wine.tcp.mapped-ops-stale",
        "A dual-stack tcp6 socket whose connect to a v4-mapped peer went out keeps Linux's IPv4 operations: a later connect to a plain IPv6 peer sends nothing and times out (ETIMEDOUT), as on Linux (linux.tcp.mapped-ops-stale).",
        "Linux net/ipv6/tcp_ipv6.c tcp_v6_connect (icsk_af_ops = ipv6_mapped); runs under Wine 8.0 (found by fuzz).";
    WINE_LINUX_ERRORS = "wine.any.linux-errors",
        "Where Windows' error code is not documented exactly, Wine answers with the code Linux gives for the same call, mapped back to Winsock.",
        "wine server/sock.c sock_get_ntstatus; dlls/ws2_32 (NTSTATUS to WSA codes); runs under Wine 8.0.";
    WINE_UDP_CONNECT = "wine.udp.connect",
        "A UDP connect is Linux's: a dual-stack socket connects to an IPv4 peer given as an IPv4 address, and to a v4-mapped peer after an earlier connect chose an IPv6 source (the IPv6 source is kept; only a v4-mapped source refuses a later IPv6 peer). Windows refuses a peer of the other family (windows.any.connect-family).",
        "Linux net/ipv6/datagram.c __ip6_datagram_connect (the v4-mapped branch keeps a set sk_v6_rcv_saddr); wine dlls/ws2_32 connect (passed to Linux); runs under Wine 8.0 (found by the wine-divergence property test).";
    WINE_DELIVER = "wine.any.deliver",
        "Delivery follows Linux where Windows leaves it open: one listener or UDP socket is chosen by Linux's scoring (exact address, then IPv4 before dual-stack, the newest UDP socket among equals).",
        "Linux __inet_lookup_listener, __udp4_lib_lookup (compute_score); runs under Wine 8.0.";
    WINE_DEST_PORT_ZERO = "wine.any.dest-port-zero",
        "Wine passes a destination port 0 to Linux unchanged: a TCP connect or probe sends a SYN to port 0 and is refused (ECONNREFUSED; the socket is then in the refused-connect state, wine.any.linux-errors), a UDP connect succeeds and sets no port filter (linux.udp.connect semantics), a datagram to port 0 reaches nobody (->none). The family checks come first, as Linux makes them. Windows may answer WSAEADDRNOTAVAIL (windows.any.dest-port-zero).",
        "wine server/sock.c IOCTL_AFD_WINE_CONNECT (the address goes to connect() as given), dlls/ws2_32 sendto (passed to Linux); Linux net/ipv4 tcp_v4_connect and udp (port 0 is no error); runs under Wine 8.0 (found by fuzz with the widened generator).";
    WINE_TCP_ACCEPT_RESET = "wine.tcp.accept-reset",
        "accept of a connection its client reset before it was accepted: WSAENOTCONN, and the connection is gone (the next accept takes the next one). Linux hands the reset connection out; Windows documents WSAECONNRESET for this (windows.tcp.accept). Where in Wine the WSAENOTCONN is made was not traced in its source.",
        "Runs under Wine 8.0: tcp4 and tcp6, specific and wildcard listeners, 4 of 4 (corpus/windows/connect/accept-reset.case); Linux inet_accept (a reset child is still handed out).";
    WINE_TCP_LISTEN_AFTER_ABORT = "wine.tcp.listen-after-abort",
        "listen on a TCP socket whose connect was refused and whose next connect ended that with ECONNABORTED: Wine passes listen to Linux, whose socket is unconnected again with no port; upstream Linux binds a new port and listens (ok). On a kernel built with the role-lock variant, wine.tcp.role-lock.",
        "Linux net/ipv4/af_inet.c __inet_stream_connect (sock_error path: SS_UNCONNECTED), inet_listen.";
    WINE_TCP_ROLE_LOCK = "wine.tcp.role-lock",
        "A build variant of the Linux kernel under Wine (linux.tcp.role-lock), chosen by a calibration probe, not by Wine's version: listen on a TCP socket whose refused connect was ended by a later one (ECONNABORTED) takes a port and is refused, EINVAL, since the socket was put in the established table (upstream: ok, wine.tcp.listen-after-abort).",
        "Linux inet_listen and linux.tcp.role-lock; runs under Wine 8.0 on a role-lock kernel (6.18.44-fc-v1045): EINVAL for tcp4 and tcp6, every run (corpus/windows/connect/listen-after-abort.case).";
}
