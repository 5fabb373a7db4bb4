//! listen (windows.any.listen, windows.tcp.listen-no-conflict).

use crate::case::Proto;
use crate::model::kit::*;
use crate::model::rules::*;
use crate::model::state::*;
use crate::model::{Prediction, StepCtx};
use crate::outcome::{Errno, Outcome};

use super::bind::{Hold, hold_of};
use Errno::*;

pub(super) fn listen(st: &State, id: SockId, ctx: &StepCtx<'_>) -> Prediction {
    let s = st.sock(id);
    if !s.is_tcp() {
        // The reference names both codes; which check comes first is not documented.
        let errs: &[Errno] = if s.local.is_none() { &[EINVAL, EOPNOTSUPP] } else { &[EOPNOTSUPP] };
        return errors(WINDOWS_LISTEN, errs, st);
    }
    if s.local.is_none() {
        return fail(WINDOWS_LISTEN, EINVAL, st);
    }
    if s.tcp == Tcp::Listen {
        return ok(WINDOWS_LISTEN, st.clone());
    }
    if s.connected_once || s.tcp != Tcp::Closed {
        return fail(WINDOWS_LISTEN, EISCONN, st);
    }
    let mut ns = st.clone();
    start_listening(&mut ns, id, ctx);
    if s.bound_addr.is_none() {
        // Bound only by a connect that failed: not documented.
        return choice(WINDOWS_LISTEN, vec![(Outcome::Ok, ns), (Outcome::Err(EINVAL), st.clone())]);
    }
    // Rule 19: sharing the address with another socket does not matter.
    let shared = st
        .holders(Proto::Tcp, s.local.expect("bound").port, Some(id))
        .into_iter()
        .any(|t| hold_of(st.sock(t)) == Some(Hold::Reserved));
    ok(if shared { WINDOWS_TCP_LISTEN_NO_CONFLICT } else { WINDOWS_LISTEN }, ns)
}

/// Turns a bound socket into a listener (the port is the observed one if
/// the OS had to pick one).
pub(crate) fn start_listening(ns: &mut State, id: SockId, ctx: &StepCtx<'_>) {
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
