//! The kit every model shares: what is the same on every OS (answers that
//! leave the state alone, the live-name check, the start of `close`,
//! addresses and endpoints on loopback, a listener's queue). A model file
//! holds only what is particular to its OS.

use super::Prediction;
use super::state::{Endpoint, Life, SlotState, Sock, SockId, State};
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
