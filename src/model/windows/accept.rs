//! accept (windows.tcp.accept).

use crate::case::Slot;
use crate::model::Prediction;
use crate::model::kit::*;
use crate::model::rules::*;
use crate::model::state::*;
use crate::outcome::{Errno, Outcome};

use Errno::*;

pub(super) fn accept(st: &State, slot: Slot, lid: SockId, dead: State) -> Prediction {
    let l = st.sock(lid);
    if !l.is_tcp() {
        return fail(WINDOWS_TCP_ACCEPT, EOPNOTSUPP, &dead);
    }
    if l.tcp != Tcp::Listen {
        return fail(WINDOWS_TCP_ACCEPT, EINVAL, &dead);
    }
    let Some(child) = pending_of(st, lid).into_iter().next() else {
        return fail(WINDOWS_TCP_ACCEPT, EAGAIN, &dead);
    };
    let taken = accepted(WINDOWS_TCP_ACCEPT, st, slot, child);
    if st.sock(child).tcp == Tcp::Reset {
        // The client reset it before accept: WSAECONNRESET is documented for this.
        let mut gone = dead;
        gone.sock_mut(child).life = Life::Gone;
        let ns = taken.branches.into_iter().next().expect("one branch").state;
        return choice(WINDOWS_TCP_ACCEPT, vec![(Outcome::Ok, ns), (Outcome::Err(ECONNRESET), gone)]);
    }
    taken
}
