//! accept (windows.tcp.accept).

use super::{Windows, live};
use crate::case::Slot;
use crate::model::Prediction;
use crate::model::kit::*;
use crate::model::rules::*;
use crate::model::state::*;
use crate::outcome::{Errno, Outcome};

use Errno::*;

impl Windows {
    pub(super) fn accept(&self, st: &State, slot: Slot, listener: Slot) -> Prediction {
        let mut dead = st.clone();
        dead.slots[slot as usize] = SlotState::Dead;
        let lid = match live(st, listener) {
            Ok(id) => id,
            Err(_) => return fail(WINDOWS_DEAD_NAME, EBADF, &dead),
        };
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
        let mut ns = st.clone();
        let c = ns.sock_mut(child);
        c.life = Life::Live;
        c.connected_once = true;
        let reset = c.tcp == Tcp::Reset;
        ns.slots[slot as usize] = SlotState::Live(child);
        if reset {
            // The client reset it before accept: WSAECONNRESET is documented for this.
            let mut gone = st.clone();
            gone.sock_mut(child).life = Life::Gone;
            gone.slots[slot as usize] = SlotState::Dead;
            return choice(WINDOWS_TCP_ACCEPT, vec![(Outcome::Ok, ns), (Outcome::Err(ECONNRESET), gone)]);
        }
        ok(WINDOWS_TCP_ACCEPT, ns)
    }
}
