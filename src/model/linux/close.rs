//! `close` of a TCP socket: listeners and their queues, active and passive
//! closes, TIME_WAIT and the FIN_WAIT2 race, linger0 resets (rules
//! linux.tcp.timewait-blocks, fin-wait2-race, linger0, passive-close-no-timewait,
//! unaccepted-child).

use crate::model::kit;
use crate::model::kit::pending_of;
use crate::model::rules::*;
use crate::model::state::{Life, Sock, Tcp};
use crate::model::{Branch, Prediction, SockId, State, ok};
use crate::outcome::Outcome;

pub(super) fn close_tcp(st: &State, mut ns: State, id: SockId, s: Sock) -> Prediction {
    let rule = match s.tcp {
        Tcp::Listen => {
            let pending = pending_of(st, id);
            for c in &pending {
                if let (Some(peer), false) = (ns.sock(*c).link, ns.sock(*c).mute) {
                    reset(&mut ns, peer);
                }
                ns.sock_mut(*c).life = Life::Gone;
            }
            ns.sock_mut(id).life = Life::Gone;
            if pending.is_empty() { LINUX_CLOSE } else { LINUX_TCP_UNACCEPTED_CHILD }
        }
        Tcp::Closed | Tcp::Reset | Tcp::SynSent => {
            ns.sock_mut(id).life = Life::Gone;
            LINUX_CLOSE
        }
        Tcp::Established | Tcp::CloseWait => match s.link {
            None if s.opts.linger0 => {
                ns.sock_mut(id).life = Life::Gone;
                LINUX_TCP_LINGER0
            }
            None => {
                // Connected to itself: it closes both ends and keeps TIME_WAIT.
                ns.sock_mut(id).life = Life::Orphan { tw: true };
                LINUX_TCP_TIMEWAIT_BLOCKS
            }
            Some(peer) if s.opts.linger0 => {
                ns.sock_mut(id).life = Life::Gone;
                if !s.mute {
                    reset(&mut ns, peer);
                }
                LINUX_TCP_LINGER0
            }
            Some(peer) if s.tcp == Tcp::CloseWait => {
                // The peer closed first: this side's FIN ends it, unless
                // lost; the peer, waiting in FIN_WAIT2, enters TIME_WAIT.
                if s.mute {
                    ns.sock_mut(id).life = Life::Orphan { tw: false };
                    LINUX_TCP_MAPPED_OPS_STALE
                } else {
                    ns.sock_mut(id).life = Life::Gone;
                    let p = ns.sock_mut(peer);
                    p.link = None;
                    if matches!(p.life, Life::Orphan { .. }) {
                        p.life = Life::Orphan { tw: !p.mute };
                        p.tw_fin_wait2 = false;
                    }
                    LINUX_TCP_PASSIVE_CLOSE
                }
            }
            Some(peer) => {
                // Active close: the socket waits in FIN_WAIT2 (or FIN_WAIT1
                // if the ACK is lost) as a full socket until the peer closes.
                let peer_mute = ns.sock(peer).mute;
                ns.sock_mut(id).life = Life::Orphan { tw: false };
                if !s.mute && matches!(ns.sock(peer).life, Life::Live | Life::Pending { .. }) {
                    ns.sock_mut(peer).tcp = Tcp::CloseWait;
                }
                if s.mute || peer_mute {
                    LINUX_TCP_MAPPED_OPS_STALE
                } else if s.opts.reuseport {
                    // The peer's ACK may come after close() let go: a
                    // TIME_WAIT entry then, which another user's
                    // reuseport bind passes.
                    let mut tw = ns.clone();
                    tw.sock_mut(id).life = Life::Orphan { tw: true };
                    tw.sock_mut(id).tw_fin_wait2 = true;
                    let branches =
                        vec![Branch { outcome: Outcome::Ok, state: ns }, Branch { outcome: Outcome::Ok, state: tw }];
                    return Prediction { rule: LINUX_TCP_FIN_WAIT2_RACE, branches };
                } else {
                    LINUX_TCP_TIMEWAIT_BLOCKS
                }
            }
        },
    };
    ok(rule, ns)
}

/// A RST reaches socket `x` ([`kit::reset`]); Linux frees a port that
/// bind did not lock.
pub(super) fn reset(st: &mut State, x: SockId) {
    kit::reset(st, x, |s| {
        if !s.port_locked {
            s.local = None;
            s.connect_bound = false;
        }
    });
}
