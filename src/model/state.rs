//! The state every model works on: each socket the case made (named, or
//! created by the OS: pending connections and closed connections that still
//! hold their port), with kind, owner, options, bound address, TCP state and
//! peer. Pure data; the platform files decide what it means.

use crate::case::{Addr, Family, Kind, Proto, Slot};

/// Index of a socket in [`State::socks`]. Stable for the whole case.
pub type SockId = u16;

/// A port as the model knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortVal {
    /// `P1` … `P9`.
    Sym(u8),
    /// A port the OS chose (port 0, autobind), with its number: the real
    /// number in a live run, an invented one in a model-only run.
    Eph(u16),
}

impl std::fmt::Display for PortVal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortVal::Sym(n) => write!(f, "P{n}"),
            PortVal::Eph(n) => write!(f, "{n}"),
        }
    }
}

/// Socket options as a socket holds them now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Opts {
    pub reuseaddr: bool,
    pub reuseport: bool,
    pub reuseport_lb: bool,
    pub exclusive: bool,
    pub v6only: bool,
    pub linger0: bool,
}

/// TCP state, reduced to what decides outcomes. UDP sockets stay `Closed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tcp {
    /// Not listening and not connected (fresh, bound, or back after a refused connect).
    Closed,
    Listen,
    /// Connected, peer still open.
    Established,
    /// Connected, the peer has closed (FIN received).
    CloseWait,
    /// A connect is still in progress (it timed out for the caller).
    SynSent,
    /// The connection was reset by the peer; the socket is still open.
    Reset,
}

/// Where a socket is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Life {
    /// Open, reachable by its name.
    Live,
    /// A connection waiting in the accept queue of listener `of`.
    Pending { of: SockId },
    /// Closed by the case, but the OS keeps it and its port: the active
    /// closer of a connection. `tw`: it is a TIME_WAIT entry (the peer has
    /// closed too); otherwise a full socket still waiting for the peer's FIN
    /// (FIN_WAIT2) or for an acknowledgement that will not come (FIN_WAIT1,
    /// LAST_ACK).
    Orphan { tw: bool },
    /// Gone for good.
    Gone,
}

/// A local or remote endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub addr: Addr,
    pub port: PortVal,
}

/// One socket.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Sock {
    pub kind: Kind,
    /// Created `as other` (a second, non-root user).
    pub other: bool,
    pub opts: Opts,
    /// Options as they were when the socket was bound (Windows reads them
    /// only then).
    pub bound_opts: Opts,
    /// Local address and port; `None` when unbound.
    pub local: Option<Endpoint>,
    /// The port was chosen by the caller (a non-zero port in `bind`).
    pub port_locked: bool,
    /// The address was chosen by the caller (a specific address in `bind`).
    pub addr_locked: bool,
    /// The address `bind` gave, kept so a failed connect can restore it.
    pub bound_addr: Option<Addr>,
    /// The port was chosen by `connect` (Linux SOCK_CONNECT_BIND).
    pub connect_bound: bool,
    pub tcp: Tcp,
    /// Remote endpoint: a TCP peer, or the target of a UDP connect.
    pub peer: Option<Endpoint>,
    /// The socket at the other end of a TCP connection.
    pub link: Option<SockId>,
    pub life: Life,
    /// The socket has been connected (or accepted): SS_CONNECTED on Linux.
    pub connected_once: bool,
    /// When it took its port (higher is newer), for newest-first scans.
    pub seq: u32,
    /// Linux: when its last successful bind was (the same clock as `seq`;
    /// a listen does not change it).
    pub bound_seq: u32,
    /// The socket is a member of a reuseport group with this id.
    pub group: Option<u32>,
    /// Linux: a TCP socket that has received a segment, so its
    /// sk_incoming_cpu is set (as a listener it may then score one more on
    /// that CPU).
    pub received: bool,
    /// Linux tcp6: a connect to a v4-mapped peer switched the socket to
    /// IPv4 operations, and nothing switches it back.
    pub mapped_ops: bool,
    /// Linux: it was appended at the tail of its hash chain (an IPv6 socket
    /// with reuseport when it was hashed: UDP at bind, TCP at listen)
    /// instead of put at the head.
    pub hash_tail: bool,
    /// Linux UDP: a connect gave the wildcard socket its source address and
    /// moved it, at this moment (a `seq` value), to the head of its new
    /// address chain; its place in the port's chain stays.
    pub rehashed: Option<u32>,
    /// Linux: a connection whose segments to its IPv6 peer are lost (an
    /// IPv6 child of a listener with IPv4 operations): it receives, but its
    /// FIN, ACK and RST never arrive.
    pub mute: bool,
    /// Wine: a listen that Windows would allow failed on Linux's check
    /// (another socket listens on an overlapping address).
    pub listen_refused: bool,
    /// Wine: the last connect failed after it had started (Linux keeps the
    /// socket SS_CONNECTING: listen is EINVAL, the next connect
    /// ECONNABORTED).
    pub connect_failed: bool,
    /// Linux: a TIME_WAIT entry made straight from FIN_WAIT2 (the peer has
    /// not closed): a connect does not take its 4-tuple over.
    pub tw_fin_wait2: bool,
    /// Linux: the socket has been put in the established table (a TCP
    /// connect that took a local port went out). Nothing visible marks it;
    /// under the role-lock variant it can never listen.
    pub ehashed: bool,
    /// Wine: Linux's socket holds a port that Wine's getsockname does not
    /// report (a listen that took a new port and was then refused).
    pub hidden_port: bool,
}

impl Sock {
    /// A new, unbound socket.
    pub fn new(kind: Kind, other: bool, v6only: bool) -> Sock {
        Sock {
            kind,
            other,
            opts: Opts { v6only: kind.family == Family::V6 && v6only, ..Opts::default() },
            bound_opts: Opts::default(),
            local: None,
            port_locked: false,
            addr_locked: false,
            bound_addr: None,
            connect_bound: false,
            tcp: Tcp::Closed,
            peer: None,
            link: None,
            life: Life::Live,
            connected_once: false,
            seq: 0,
            bound_seq: 0,
            group: None,
            received: false,
            mapped_ops: false,
            hash_tail: false,
            rehashed: None,
            mute: false,
            listen_refused: false,
            connect_failed: false,
            ehashed: false,
            hidden_port: false,
            tw_fin_wait2: false,
        }
    }

    /// Whether this socket still holds its local port in the OS's tables.
    pub fn holds_port(&self) -> bool {
        self.local.is_some() && self.life != Life::Gone
    }

    /// The port it holds, if any.
    pub fn port(&self) -> Option<PortVal> {
        if self.holds_port() { self.local.map(|l| l.port) } else { None }
    }

    pub fn is_tcp(&self) -> bool {
        self.kind.proto == Proto::Tcp
    }

    /// Its local address class, for delivery and group membership.
    pub fn view(&self) -> Option<View> {
        self.local.map(|l| View::of(self.kind.family, l.addr, self.opts.v6only))
    }

    /// Its local address in the form Linux compares it.
    pub fn kaddr(&self) -> Option<KAddr> {
        self.local.map(|l| KAddr::of(self.kind.family, l.addr, self.opts.v6only))
    }
}

/// The address class of a bound socket, for overlap tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum View {
    /// An IPv4 address (also a v4-mapped address on an IPv6 socket).
    V4(Addr),
    /// `[::]` on an IPv6 socket; `dual` when `v6only` is off.
    V6Any { dual: bool },
    /// `[::1]`.
    V6Lo,
}

impl View {
    /// The class of `addr` bound on a socket of `family`.
    pub fn of(family: Family, addr: Addr, v6only: bool) -> View {
        match (family, addr) {
            (_, Addr::Any6) => View::V6Any { dual: !v6only },
            (_, Addr::Lo6) => View::V6Lo,
            (_, a) => View::V4(a.as_v4().unwrap_or(a)),
        }
    }

    /// Wildcard: `0.0.0.0`, `[::ffff:0.0.0.0]`, `[::]`.
    pub fn is_wildcard(self) -> bool {
        matches!(self, View::V4(Addr::Any4) | View::V6Any { .. })
    }

    /// Linux section A: whether two bound addresses overlap (symmetric).
    /// `0.0.0.0` covers IPv4 and v4-mapped; a dual-stack `[::]` covers
    /// everything; a v6only `[::]` covers IPv6 only.
    pub fn overlaps(self, other: View) -> bool {
        use View::*;
        match (self, other) {
            (V4(a), V4(b)) => a == b || a == Addr::Any4 || b == Addr::Any4,
            (V4(_), V6Any { dual }) | (V6Any { dual }, V4(_)) => dual,
            (V4(_), V6Lo) | (V6Lo, V4(_)) => false,
            (V6Any { .. }, _) | (_, V6Any { .. }) => true,
            (V6Lo, V6Lo) => true,
        }
    }

    /// Whether this (earlier) address covers `other`: the same address, or
    /// a wildcard that overlaps it (wildcard matching on this side only).
    pub fn covers(self, other: View) -> bool {
        if self.is_wildcard() { self.overlaps(other) } else { self == other }
    }
}

/// The IPv4 part of a local address as Linux keeps it (`inet_rcv_saddr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum V4Part {
    /// 0.0.0.0 (also the IPv4 part of `[::]`).
    Any,
    /// A specific IPv4 address.
    Addr(Addr),
    /// What an IPv6 socket with a plain IPv6 address keeps there
    /// (LOOPBACK4_IPV6, 127.0.0.6): matches no real IPv4 address.
    Placeholder,
}

/// A local address in the form Linux compares it: the IPv6 address of an
/// AF_INET6 socket (`None` for AF_INET), the IPv4 part, and v6only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KAddr {
    pub v6: Option<Addr>,
    pub v4: V4Part,
    pub v6only: bool,
}

/// `ipv6_addr_type` reduced to what the comparisons use.
#[derive(Clone, Copy, PartialEq, Eq)]
enum V6Type {
    Any,
    Mapped,
    Unicast,
}

fn v6_type(a: Option<Addr>) -> V6Type {
    match a {
        None => V6Type::Mapped,
        Some(Addr::Any6) => V6Type::Any,
        Some(a) if a.is_mapped() => V6Type::Mapped,
        Some(_) => V6Type::Unicast,
    }
}

impl KAddr {
    /// The address of a socket of `family` bound (or connected) to `addr`.
    pub fn of(family: Family, addr: Addr, v6only: bool) -> KAddr {
        match family {
            Family::V4 => KAddr { v6: None, v4: v4_part(addr), v6only: false },
            Family::V6 => {
                let v4 = match addr {
                    Addr::Any6 => V4Part::Any,
                    a if a.is_mapped() => v4_part(a.as_v4().unwrap_or(a)),
                    _ => V4Part::Placeholder,
                };
                KAddr { v6: Some(addr), v4, v6only }
            }
        }
    }

    /// The per-address bucket of the TCP bind table: the IPv6 form (IPv4
    /// sockets are filed under their v4-mapped address since 6.8).
    pub fn bucket(&self) -> Addr {
        match self.v6 {
            Some(a) => a,
            None => match self.v4 {
                V4Part::Any => Addr::MappedAny4,
                V4Part::Addr(a) => a.to_mapped(),
                V4Part::Placeholder => Addr::Lo6,
            },
        }
    }

    /// A TCP bind of this address scans every owner of the port (a
    /// wildcard: `inet_use_bhash2_on_bind` is false) instead of buckets.
    pub fn tcp_wildcard(&self) -> bool {
        self.v4 == V4Part::Any && matches!(self.v6, None | Some(Addr::Any6) | Some(Addr::MappedAny4))
    }

    /// An IPv4 socket, or an IPv6 socket with a v4-mapped address.
    fn is_v4ish(&self) -> bool {
        v6_type(self.v6) == V6Type::Mapped
    }
}

fn v4_part(a: Addr) -> V4Part {
    if a == Addr::Any4 { V4Part::Any } else { V4Part::Addr(a) }
}

/// `ipv4_rcv_saddr_equal`.
pub fn ipv4_equal(a: V4Part, b: V4Part, b_v6only: bool, wild_a: bool, wild_b: bool) -> bool {
    !b_v6only && (a == b || (wild_a && a == V4Part::Any) || (wild_b && b == V4Part::Any))
}

/// `ipv6_rcv_saddr_equal` (`b6` is `None` for an AF_INET socket).
#[allow(clippy::too_many_arguments)]
pub fn ipv6_equal(
    a6: Addr,
    b6: Option<Addr>,
    a4: V4Part,
    b4: V4Part,
    a_only: bool,
    b_only: bool,
    wild_a: bool,
    wild_b: bool,
) -> bool {
    let (ta, tb) = (v6_type(Some(a6)), v6_type(b6));
    if ta == V6Type::Mapped && tb == V6Type::Mapped {
        return ipv4_equal(a4, b4, b_only, wild_a, wild_b);
    }
    if ta == V6Type::Any && tb == V6Type::Any {
        return true;
    }
    if tb == V6Type::Any && wild_b && !(b_only && ta == V6Type::Mapped) {
        return true;
    }
    if ta == V6Type::Any && wild_a && !(a_only && tb == V6Type::Mapped) {
        return true;
    }
    b6 == Some(a6)
}

/// `inet_rcv_saddr_equal(new, old, wildcard)`: the address test of the UDP
/// bind check and of a wildcard TCP bind.
pub fn rcv_saddr_equal(new: &KAddr, old: &KAddr, wildcard: bool) -> bool {
    match new.v6 {
        Some(a6) => ipv6_equal(a6, old.v6, new.v4, old.v4, new.v6only, old.v6only, wildcard, wildcard),
        None => ipv4_equal(new.v4, old.v4, old.v6only, wildcard, wildcard),
    }
}

/// Whether a TCP bind of `new` must check `old` (6.8+ with the 2024
/// fixes): a wildcard bind compares with every owner; a specific one looks
/// at its own bucket and the wildcard buckets, where an IPv4 or v4-mapped
/// bind skips v6only owners (`__inet_bhash2_conflict`): those of `[::]`,
/// and in its own bucket a v6only socket that kept a v4-mapped address
/// (bound before v6only was set, its port given back by a refused connect).
pub fn tcp_overlap(new: &KAddr, old: &KAddr) -> bool {
    if new.tcp_wildcard() {
        return rcv_saddr_equal(new, old, true);
    }
    if new.bucket() == old.bucket() {
        return !(old.v6only && new.is_v4ish());
    }
    match old.bucket() {
        Addr::Any6 => !(old.v6only && new.is_v4ish()),
        Addr::MappedAny4 => new.is_v4ish(),
        _ => false,
    }
}

/// What a name stands for at a point of the case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SlotState {
    /// Not created yet.
    Unused,
    Live(SockId),
    /// Its creating statement failed: uses give `EBADF`.
    Dead,
    Closed,
}

/// The whole state of a case at one point.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    pub socks: Vec<Sock>,
    pub slots: Vec<SlotState>,
    /// Counter for [`Sock::seq`].
    pub seq: u32,
    /// Counter for invented ephemeral ports (model-only runs).
    pub next_eph: u16,
    /// Counter for reuseport group ids.
    pub next_group: u32,
    /// Linux: the per-port fast-reuseport memo (rule linux.tcp.fastreuseport-stale).
    pub memos: Vec<(PortVal, Memo)>,
}

/// Linux's fast-path memo of a TCP port (`tb->fastreuse`,
/// `tb->fastreuseport` and friends).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Memo {
    /// `fastreuse > 0`: every owner had reuseaddr and none listened (only
    /// ever set before 6.8).
    pub reuseaddr: bool,
    /// The reuseport memo, if set.
    pub reuseport: Option<PortMemo>,
    /// Every owner that set it is gone and only sockets bound by connect
    /// hold the port: the memo is kept only before 6.18 (rule
    /// linux.tcp.memo-outlives-release).
    pub outlived: bool,
}

/// The reuseport part of [`Memo`]: uid and address of the socket that set
/// it; `any`: FASTREUSEPORT_ANY (no address test, before 6.8 only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortMemo {
    pub other: bool,
    pub addr: KAddr,
    pub any: bool,
}

impl State {
    /// The state before the first statement of a case with `slots` names.
    pub fn new(slots: usize) -> State {
        State {
            socks: Vec::new(),
            slots: vec![SlotState::Unused; slots],
            seq: 0,
            next_eph: 0,
            next_group: 0,
            memos: Vec::new(),
        }
    }

    /// The live socket behind a slot.
    pub fn live(&self, slot: Slot) -> Option<SockId> {
        match self.slots.get(slot as usize) {
            Some(SlotState::Live(id)) => Some(*id),
            _ => None,
        }
    }

    pub fn sock(&self, id: SockId) -> &Sock {
        &self.socks[id as usize]
    }

    pub fn sock_mut(&mut self, id: SockId) -> &mut Sock {
        &mut self.socks[id as usize]
    }

    /// Adds a socket and returns its id.
    pub fn add(&mut self, s: Sock) -> SockId {
        self.socks.push(s);
        (self.socks.len() - 1) as SockId
    }

    /// The next sequence number.
    pub fn tick(&mut self) -> u32 {
        self.seq += 1;
        self.seq
    }

    /// An ephemeral port: the observed one in a live run, else a new invented one.
    pub fn ephemeral(&mut self, observed: Option<u16>) -> PortVal {
        match observed {
            Some(p) => PortVal::Eph(p),
            None => {
                self.next_eph += 1;
                PortVal::Eph(40000 + self.next_eph)
            }
        }
    }

    /// Ids of sockets of `proto` holding `port`, other than `except`.
    pub fn holders(&self, proto: Proto, port: PortVal, except: Option<SockId>) -> Vec<SockId> {
        (0..self.socks.len() as SockId)
            .filter(|&i| Some(i) != except)
            .filter(|&i| {
                let s = self.sock(i);
                s.kind.proto == proto && s.port() == Some(port)
            })
            .collect()
    }

    /// The port a slot's socket holds, if it is live and holds one.
    pub fn slot_port(&self, slot: Slot) -> Option<PortVal> {
        self.live(slot).and_then(|id| self.sock(id).port())
    }

    /// Forgets memos of ports that nothing holds any more (the OS frees the
    /// port's bucket with its last owner).
    pub fn prune_memos(&mut self) {
        let socks = &self.socks;
        self.memos.retain(|(p, _)| socks.iter().any(|s| s.is_tcp() && s.port() == Some(*p)));
    }

    /// The memo of `port`, if any.
    pub fn memo(&self, port: PortVal) -> Option<Memo> {
        self.memos.iter().find(|(p, _)| *p == port).map(|(_, m)| *m)
    }

    /// Sets the memo of `port` (an empty memo is forgotten).
    pub fn set_memo(&mut self, port: PortVal, memo: Memo) {
        self.memos.retain(|(p, _)| *p != port);
        if memo != Memo::default() {
            self.memos.push((port, memo));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(family: Family, a: Addr, v6only: bool) -> View {
        View::of(family, a, v6only)
    }

    #[test]
    fn overlap_follows_linux_section_a() {
        use Addr::*;
        use Family::*;
        let any4 = v(V4, Any4, false);
        let lo = v(V4, Lo4, false);
        let lo2 = v(V4, Lo4b, false);
        let dual = v(V6, Any6, false);
        let only = v(V6, Any6, true);
        let lo6 = v(V6, Lo6, false);
        let mapped = v(V6, MappedLo4, false);
        let mapped_any = v(V6, MappedAny4, false);
        assert!(!lo.overlaps(lo2));
        assert!(!lo.overlaps(lo6));
        assert!(any4.overlaps(lo) && any4.overlaps(mapped) && any4.overlaps(dual));
        assert!(!any4.overlaps(only) && !any4.overlaps(lo6));
        assert!(dual.overlaps(lo) && dual.overlaps(lo6) && dual.overlaps(only) && dual.overlaps(mapped_any));
        assert!(only.overlaps(lo6) && only.overlaps(dual) && !only.overlaps(mapped) && !only.overlaps(mapped_any));
        assert_eq!(mapped, lo);
        assert_eq!(mapped_any, any4);
        assert!(!mapped_any.overlaps(lo6));
    }

    /// For sockets as bind leaves them ([::1] forces v6only), the kernel's
    /// comparisons agree with section A of linux.md, in both orders.
    #[test]
    fn kernel_comparisons_agree_with_section_a_for_bound_sockets() {
        let mut bound = Vec::new();
        for a in Addr::ALL.into_iter().filter(|a| *a != Addr::TestNet) {
            match a.family() {
                Family::V4 => bound.push((Family::V4, a, false)),
                Family::V6 => {
                    for only in [false, true] {
                        if a.is_mapped() && only {
                            continue; // EINVAL
                        }
                        let forced = only || a == Addr::Lo6;
                        bound.push((Family::V6, a, forced));
                    }
                }
            }
        }
        for &(f1, a1, o1) in &bound {
            for &(f2, a2, o2) in &bound {
                let (k1, k2) = (KAddr::of(f1, a1, o1), KAddr::of(f2, a2, o2));
                let section_a = View::of(f1, a1, o1).overlaps(View::of(f2, a2, o2));
                let what = format!("{f1:?} {a1} v6only={o1} then {f2:?} {a2} v6only={o2}");
                assert_eq!(tcp_overlap(&k2, &k1), section_a, "tcp: {what}");
                assert_eq!(rcv_saddr_equal(&k2, &k1, true), section_a, "udp: {what}");
            }
        }
    }

    #[test]
    fn a_connected_ipv6_address_still_overlaps_the_ipv4_wildcard() {
        // udp6 autobound to [::], then connected to [::1]: not v6only.
        let connected = KAddr::of(Family::V6, Addr::Lo6, false);
        let any4 = KAddr::of(Family::V4, Addr::Any4, false);
        assert!(rcv_saddr_equal(&any4, &connected, true));
        assert!(!rcv_saddr_equal(&KAddr::of(Family::V4, Addr::Lo4, false), &connected, true));
    }

    #[test]
    fn covers_matches_wildcards_on_one_side_only() {
        let any4 = View::V4(Addr::Any4);
        let lo = View::V4(Addr::Lo4);
        assert!(any4.covers(lo));
        assert!(!lo.covers(any4));
        assert!(lo.covers(lo));
    }
}
