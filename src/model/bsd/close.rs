//! `close` of a TCP socket: listeners and their queues, the peer's side,
//! TIME_WAIT.

use super::{Bsd, reset};
use crate::model::kit::pending_of;
use crate::model::rules::*;
use crate::model::state::{Life, Sock, Tcp};
use crate::model::{Prediction, SockId, State, ok};

/// The active closer `x` of a connection learns that its peer has
/// closed too: TIME_WAIT, or (FreeBSD 14+, loopback) nothing.
pub(super) fn peer_closed(m: &Bsd, st: &mut State, x: SockId) -> &'static str {
    if !matches!(st.sock(x).life, Life::Orphan { .. }) {
        return BSD_TIMEWAIT_WHO;
    }
    if m.local_timewait() {
        st.sock_mut(x).link = None;
        BSD_TIMEWAIT_WHO
    } else {
        st.sock_mut(x).life = Life::Gone;
        FREEBSD_NOLOCALTIMEWAIT
    }
}

pub(super) fn close_tcp(m: &Bsd, st: &State, mut ns: State, id: SockId, s: Sock) -> Prediction {
    let rule = match s.tcp {
        Tcp::Listen => {
            let pending = pending_of(st, id);
            for c in &pending {
                if let Some(peer) = ns.sock(*c).link {
                    if ns.sock(*c).tcp != Tcp::Reset {
                        reset(&mut ns, peer);
                    }
                }
                ns.sock_mut(*c).life = Life::Gone;
            }
            ns.sock_mut(id).life = Life::Gone;
            if pending.is_empty() { BSD_CLOSE } else { BSD_TCP_LISTENER_CLOSE }
        }
        Tcp::Closed | Tcp::Reset | Tcp::SynSent => {
            ns.sock_mut(id).life = Life::Gone;
            BSD_CLOSE
        }
        Tcp::Established | Tcp::CloseWait => match s.link {
            _ if s.opts.linger0 => {
                ns.sock_mut(id).life = Life::Gone;
                if let Some(peer) = s.link {
                    reset(&mut ns, peer);
                }
                BSD_TIMEWAIT_WHO
            }
            None => {
                // Connected to itself (or the peer is gone): it closes both ends.
                ns.sock_mut(id).life = Life::Orphan { tw: true };
                peer_closed(m, &mut ns, id)
            }
            Some(peer) if s.tcp == Tcp::CloseWait => {
                // The peer closed first: this side leaves nothing.
                ns.sock_mut(id).life = Life::Gone;
                peer_closed(m, &mut ns, peer)
            }
            Some(peer) => {
                // Active close: FIN_WAIT_2 until the peer closes.
                ns.sock_mut(id).life = Life::Orphan { tw: true };
                let p = ns.sock(peer);
                if matches!(p.life, Life::Live | Life::Pending { .. }) && p.tcp == Tcp::Established {
                    ns.sock_mut(peer).tcp = Tcp::CloseWait;
                }
                BSD_TIMEWAIT_WHO
            }
        },
    };
    ok(rule, ns)
}
