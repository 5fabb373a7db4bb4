//! The kit every model shares: what is the same on every OS (answers that
//! leave the state alone, the live-name check, the start of `close`,
//! addresses and endpoints on loopback, a listener's queue). A model file
//! holds only what is particular to its OS.

use super::state::{Endpoint, Life, PortVal, SlotState, Sock, SockId, State, Tcp};
use super::{Branch, Prediction, StepCtx};
use crate::case::{Addr, Family, Slot};
use crate::outcome::{Errno, Outcome};

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

/// Errors that leave the state as it was.
pub fn fail_set(rule: &'static str, errs: &[Errno], st: &State) -> Prediction {
    choice(rule, errs.iter().map(|e| (Outcome::Err(*e), st.clone())).collect())
}

/// The outcome naming the socket that received a probe.
pub fn receiver_name(st: &State, id: SockId, ctx: &StepCtx<'_>) -> Outcome {
    let slot = st.slots.iter().position(|s| *s == SlotState::Live(id));
    match slot.and_then(|s| ctx.names.get(s)) {
        Some(n) => Outcome::To(n.clone()),
        None => Outcome::ToNone,
    }
}

/// A destination in the form a socket of `family` sends to (IPv4 written
/// v4-mapped on an IPv6 socket).
pub fn peer_form(family: Family, dst: Addr) -> Addr {
    if family == Family::V6 { dst.to_mapped() } else { dst }
}

/// Records a successful bind.
pub fn commit_bind(ns: &mut State, id: SockId, addr: Addr, port: PortVal, explicit: bool) {
    let seq = ns.tick();
    let s = ns.sock_mut(id);
    s.local = Some(Endpoint { addr, port });
    s.port_locked = explicit;
    s.bound_addr = Some(addr);
    s.bound_opts = s.opts;
    s.seq = seq;
}

/// Turns a bound socket into a listener (the port is the observed one if
/// the OS had to pick one).
pub fn start_listening(ns: &mut State, id: SockId, ctx: &StepCtx<'_>) {
    let s = ns.sock_mut(id);
    s.tcp = Tcp::Listen;
    s.listen_refused = false;
    // A socket whose port the OS took back (Linux, after a refused
    // connect) gets a new one: follow the real one.
    if let (Some(p), Some(l)) = (ctx.observed, s.local.as_mut()) {
        if matches!(l.port, PortVal::Eph(_)) {
            l.port = PortVal::Eph(p);
        }
    }
}
