//! The kit every model shares: what is the same on every OS. The
//! [`Statements`] a model answers and [`answer`], which resolves names
//! before any of them runs (the live-name check, dead names, the start of
//! `close`); answers that leave the state alone; addresses and endpoints on
//! loopback; a listener's queue; the name of a receiver. A model file holds
//! only what is particular to its OS.

use super::state::{Endpoint, Life, SlotState, Sock, SockId, State, Tcp};
use super::{Branch, Prediction, StepCtx};
use crate::case::{Addr, Family, Kind, Op, Slot, SockOpt};
use crate::outcome::{Errno, Outcome};

/// The statements of the language as one OS answers them. Names are
/// resolved by [`answer`] first, the same way on every OS: a name that is
/// closed or whose creating statement failed is EBADF under
/// [`Statements::DEAD`] (for `accept`, the new name is then dead too), and
/// closing a UDP socket is the same everywhere; each method gets the live
/// socket it works on.
pub trait Statements {
    /// The rule of a dead or closed name.
    const DEAD: &'static str;
    /// The rule of a close that needs nothing more (a UDP socket).
    const CLOSE: &'static str;

    /// `NAME = socket KIND [as other]`, into `slot`.
    fn socket(&self, st: &State, slot: Slot, kind: Kind, other: bool) -> Prediction;
    /// `set NAME OPTION on|off` on live socket `id`.
    fn set(&self, st: &State, id: SockId, opt: SockOpt, on: bool) -> Prediction;
    /// `bind NAME ADDR:PORT` (the port is in `ctx`).
    fn bind(&self, st: &State, id: SockId, addr: Addr, ctx: &StepCtx<'_>) -> Prediction;
    /// `listen NAME`.
    fn listen(&self, st: &State, id: SockId, ctx: &StepCtx<'_>) -> Prediction;
    /// `connect NAME ADDR:PORT`.
    fn connect(&self, st: &State, id: SockId, addr: Addr, ctx: &StepCtx<'_>) -> Prediction;
    /// `NAME = accept LISTENER` into `slot` from live socket `lid`; `dead`
    /// is the state with the new name dead, for every refusal.
    fn accept(&self, st: &State, slot: Slot, lid: SockId, dead: State) -> Prediction;
    /// `close NAME` of a TCP socket: `ns` has the name closed already and
    /// `s` is the socket as it was.
    fn close_tcp(&self, st: &State, ns: State, id: SockId, s: Sock) -> Prediction;
    /// `probe KIND ADDR:PORT`.
    fn probe(&self, st: &State, kind: Kind, addr: Addr, ctx: &StepCtx<'_>) -> Prediction;
}

/// Answers one statement with a model's [`Statements`], names resolved first.
pub fn answer<M: Statements>(m: &M, st: &State, op: &Op, ctx: &StepCtx<'_>) -> Prediction {
    let on_live = |slot: Slot, f: &dyn Fn(SockId) -> Prediction| match live(st, slot, M::DEAD) {
        Ok(id) => f(id),
        Err(p) => p,
    };
    match *op {
        Op::Socket { slot, kind, other } => m.socket(st, slot, kind, other),
        Op::Set { slot, opt, on } => on_live(slot, &|id| m.set(st, id, opt, on)),
        Op::Bind { slot, addr, .. } => on_live(slot, &|id| m.bind(st, id, addr, ctx)),
        Op::Listen { slot } => on_live(slot, &|id| m.listen(st, id, ctx)),
        Op::Connect { slot, addr, .. } => on_live(slot, &|id| m.connect(st, id, addr, ctx)),
        Op::Accept { slot, listener } => {
            let mut dead = st.clone();
            dead.slots[slot as usize] = SlotState::Dead;
            match live(st, listener, M::DEAD) {
                Ok(lid) => m.accept(st, slot, lid, dead),
                Err(_) => fail(M::DEAD, Errno::EBADF, &dead),
            }
        }
        Op::Close { slot } => match begin_close(st, slot, M::DEAD, M::CLOSE) {
            Ok((ns, id, s)) => m.close_tcp(st, ns, id, s),
            Err(p) => p,
        },
        Op::Probe { kind, addr, .. } => m.probe(st, kind, addr, ctx),
    }
}

/// A new connection from `client` to `dst` waits in `listener`'s queue.
/// The child starts as every OS makes it: the listener's kind, owner,
/// options and bound address, the listener's port at the destination
/// address (in the listener's family), the client as its peer,
/// established, pending on the listener, the next place in order; `os`
/// adds what its OS copies besides. The two ends are linked.
pub fn enqueue(st: &mut State, listener: SockId, client: SockId, dst: Addr, os: impl FnOnce(&Sock, &mut Sock)) {
    let l = st.sock(listener).clone();
    let c = st.sock(client).clone();
    let addr = match l.kind.family {
        Family::V6 => dst.to_mapped(),
        Family::V4 => dst.as_v4().unwrap_or(dst),
    };
    let port = l.local.expect("a listener holds a port").port;
    let seq = st.tick();
    let mut child = Sock::new(l.kind, l.other, l.opts.v6only);
    child.opts = l.opts;
    child.bound_opts = l.opts;
    child.local = Some(Endpoint { addr, port });
    child.bound_addr = l.bound_addr;
    child.tcp = Tcp::Established;
    child.peer = c.local;
    child.link = Some(client);
    child.life = Life::Pending { of: listener };
    child.seq = seq;
    os(&l, &mut child);
    let cid = st.add(child);
    st.sock_mut(client).link = Some(cid);
}

/// A RST reaches socket `x`: a closed socket that still held its port is
/// gone; an open connection (established, or its peer closed) is reset and
/// unlinked, and `os` does what its OS does besides (frees a port, drops
/// the socket altogether).
pub fn reset(st: &mut State, x: SockId, os: impl FnOnce(&mut Sock)) {
    let s = st.sock_mut(x);
    match s.life {
        Life::Orphan { .. } => s.life = Life::Gone,
        Life::Live | Life::Pending { .. } => {
            if matches!(s.tcp, Tcp::Established | Tcp::CloseWait) {
                s.tcp = Tcp::Reset;
                s.link = None;
                os(s);
            }
        }
        Life::Gone => {}
    }
}

/// `accept` takes pending connection `child`: it becomes the live socket
/// of the new name in `slot`, connected.
pub fn accepted(rule: &'static str, st: &State, slot: Slot, child: SockId) -> Prediction {
    let mut ns = st.clone();
    let c = ns.sock_mut(child);
    c.life = Life::Live;
    c.connected_once = true;
    ns.slots[slot as usize] = SlotState::Live(child);
    ok(rule, ns)
}

/// Several errors the OS may answer, each leaving the state as it was.
pub fn errors(rule: &'static str, es: &[Errno], st: &State) -> Prediction {
    choice(rule, es.iter().map(|e| (Outcome::Err(*e), st.clone())).collect())
}

/// The outcome naming socket `id` as a receiver: its name in the case, or
/// `->none` for a socket no name holds any more.
pub fn name_of(st: &State, ctx: &StepCtx<'_>, id: SockId) -> Outcome {
    let slot = st.slots.iter().position(|s| *s == SlotState::Live(id));
    match slot.and_then(|s| ctx.names.get(s)) {
        Some(n) => Outcome::To(n.clone()),
        None => Outcome::ToNone,
    }
}

/// One error that leaves the state as it was.
pub fn fail(rule: &'static str, e: Errno, st: &State) -> Prediction {
    Prediction::one(rule, Outcome::Err(e), st.clone())
}

/// Success, with the state after it.
pub fn ok(rule: &'static str, st: State) -> Prediction {
    Prediction::one(rule, Outcome::Ok, st)
}

/// The live socket of a slot, or EBADF under the model's `dead` rule for a
/// name that is closed.
pub fn live(st: &State, slot: Slot, dead: &'static str) -> Result<SockId, Prediction> {
    match st.slots.get(slot as usize) {
        Some(SlotState::Live(id)) => Ok(*id),
        _ => Err(fail(dead, Errno::EBADF, st)),
    }
}

/// The part of `close` every model shares: the slot becomes closed and a UDP
/// socket is gone at once (the answer, under the `close` rule). A TCP socket
/// comes back for the model to finish: the new state, its id and the socket
/// as it was.
pub fn begin_close(
    st: &State,
    slot: Slot,
    dead: &'static str,
    close: &'static str,
) -> Result<(State, SockId, Sock), Prediction> {
    let id = live(st, slot, dead)?;
    let mut ns = st.clone();
    ns.slots[slot as usize] = SlotState::Closed;
    let s = st.sock(id).clone();
    if !s.is_tcp() {
        ns.sock_mut(id).life = Life::Gone;
        return Err(ok(close, ns));
    }
    Ok((ns, id, s))
}

/// Wildcard address of a family.
pub fn wildcard(f: Family) -> Addr {
    match f {
        Family::V4 => Addr::Any4,
        Family::V6 => Addr::Any6,
    }
}

/// The source address a socket of `family` gets to reach `dst` on
/// loopback: 127.0.0.1 for any 127/8 destination (v4-mapped on an IPv6
/// socket), ::1 for ::1.
pub fn source_for(family: Family, dst: Addr) -> Addr {
    match dst {
        Addr::Lo6 => Addr::Lo6,
        _ if family == Family::V6 => Addr::MappedLo4,
        _ => Addr::Lo4,
    }
}

/// Endpoints are equal, v4-mapped and plain IPv4 alike.
pub fn same_endpoint(a: Endpoint, b: Endpoint) -> bool {
    a.port == b.port && (a.addr == b.addr || (a.addr.as_v4().is_some() && a.addr.as_v4() == b.addr.as_v4()))
}

/// Pending connections of a listener, oldest first.
pub fn pending_of(st: &State, lid: SockId) -> Vec<SockId> {
    let mut v: Vec<SockId> =
        (0..st.socks.len() as SockId).filter(|&c| st.sock(c).life == Life::Pending { of: lid }).collect();
    v.sort_by_key(|&c| st.sock(c).seq);
    v
}

/// Several allowed outcomes, each with its state, decided by one rule.
pub fn choice(rule: &'static str, branches: Vec<(Outcome, State)>) -> Prediction {
    let mut out: Vec<Branch> = Vec::new();
    for (outcome, state) in branches {
        if !out.iter().any(|b| b.outcome == outcome && b.state == state) {
            out.push(Branch { outcome, state });
        }
    }
    Prediction { rule, branches: out }
}

/// A destination in the form a socket of `family` sends to (IPv4 written
/// v4-mapped on an IPv6 socket).
pub fn peer_form(family: Family, dst: Addr) -> Addr {
    if family == Family::V6 { dst.to_mapped() } else { dst }
}
