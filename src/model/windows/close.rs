//! close (windows.any.close, windows.any.linger0, windows.tcp.time-wait).

use crate::model::Prediction;
use crate::model::kit;
use crate::model::kit::*;
use crate::model::rules::*;
use crate::model::state::*;

pub(super) fn close_tcp(st: &State, mut ns: State, id: SockId, s: Sock) -> Prediction {
    let rule = match s.tcp {
        Tcp::Listen => {
            // Connections still queued are reset.
            for c in pending_of(st, id) {
                if let Some(peer) = ns.sock(c).link {
                    reset(&mut ns, peer);
                }
                ns.sock_mut(c).life = Life::Gone;
            }
            ns.sock_mut(id).life = Life::Gone;
            WINDOWS_CLOSE
        }
        Tcp::Closed | Tcp::Reset | Tcp::SynSent => {
            ns.sock_mut(id).life = Life::Gone;
            WINDOWS_CLOSE
        }
        Tcp::Established | Tcp::CloseWait => match s.link {
            Some(peer) if s.opts.linger0 => {
                ns.sock_mut(id).life = Life::Gone;
                reset(&mut ns, peer);
                WINDOWS_LINGER0
            }
            None if s.opts.linger0 => {
                ns.sock_mut(id).life = Life::Gone;
                WINDOWS_LINGER0
            }
            Some(peer) if s.tcp == Tcp::CloseWait => {
                // The peer closed first: nothing is left behind here.
                ns.sock_mut(id).life = Life::Gone;
                ns.sock_mut(peer).link = None;
                WINDOWS_CLOSE
            }
            Some(peer) => {
                ns.sock_mut(id).life = Life::Orphan { tw: true };
                if matches!(ns.sock(peer).life, Life::Live | Life::Pending { .. }) {
                    ns.sock_mut(peer).tcp = Tcp::CloseWait;
                }
                WINDOWS_TCP_TIME_WAIT
            }
            None => {
                ns.sock_mut(id).life = Life::Orphan { tw: true };
                WINDOWS_TCP_TIME_WAIT
            }
        },
    };
    ok(rule, ns)
}

/// A reset reaches socket `x` ([`kit::reset`]).
fn reset(st: &mut State, x: SockId) {
    kit::reset(st, x, |_| {});
}
