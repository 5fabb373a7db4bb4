//! `listen`: the port check re-run in LISTEN, autobind, the states that
//! cannot listen, and the role-lock variant (rules linux.tcp.listen-conflict,
//! listen-misc, listen-autobind, role-lock).

use super::bind::{join_group, memo_skips, tcp_scan, update_memo};
use super::{Linux, kept_addr};
use crate::case::{Family, Proto};
use crate::model::rules::*;
use crate::model::state::{Endpoint, Life, Tcp};
use crate::model::{Prediction, SockId, State, StepCtx, fail, ok};
use crate::outcome::{Errno, Outcome};

use Errno::*;

pub(super) fn listen(m: &Linux, st: &State, id: SockId, ctx: &StepCtx<'_>) -> Prediction {
    let s = st.sock(id);
    if !s.is_tcp() {
        return fail(LINUX_TCP_LISTEN_MISC, EOPNOTSUPP, st);
    }
    if s.connected_once {
        return fail(LINUX_TCP_LISTEN_MISC, EINVAL, st);
    }
    match s.tcp {
        Tcp::Listen => return ok(LINUX_TCP_LISTEN_MISC, st.clone()),
        Tcp::Closed => {}
        _ => return fail(LINUX_TCP_LISTEN_MISC, EINVAL, st),
    }
    let mut ns = st.clone();
    let (port, rule) = match s.local {
        None => {
            let p = ns.ephemeral(ctx.observed);
            let a = kept_addr(s);
            let sm = ns.sock_mut(id);
            sm.local = Some(Endpoint { addr: a, port: p });
            sm.bound_opts = sm.opts;
            (p, LINUX_TCP_LISTEN_AUTOBIND)
        }
        Some(local) => {
            let scan = tcp_scan(m, st, id, s, local.port);
            let mut listening = s.clone();
            listening.tcp = Tcp::Listen;
            let rule = match scan.blocker {
                Some(_) if memo_skips(st.memo(local.port), &listening).is_some() => LINUX_TCP_FASTREUSEPORT_STALE,
                Some(b) => {
                    let rule = if matches!(st.sock(b).life, Life::Orphan { .. }) {
                        LINUX_TCP_TIMEWAIT_BLOCKS
                    } else {
                        LINUX_TCP_LISTEN_CONFLICT
                    };
                    return fail(rule, EADDRINUSE, st);
                }
                None if scan.missed => LINUX_TCP_MAPPED_ANY_MISSED,
                None => LINUX_TCP_LISTEN_CONFLICT,
            };
            (local.port, rule)
        }
    };
    let first = s.local.is_none() && ns.holders(Proto::Tcp, port, Some(id)).is_empty();
    if m.role_lock && s.ehashed {
        // The port is taken (get_port ran with the socket in LISTEN and
        // updated the memo), then the lock refuses: the socket stays
        // unlistened with the port, out of the listening hash.
        if s.local.is_none() {
            let seq = ns.tick();
            ns.sock_mut(id).seq = seq;
        }
        let mut me = ns.sock(id).clone();
        me.tcp = Tcp::Listen;
        update_memo(&mut ns, port, &me, first, m.before_6_8());
        return Prediction::one(LINUX_TCP_ROLE_LOCK, Outcome::Err(EINVAL), ns);
    }
    let seq = ns.tick();
    let sm = ns.sock_mut(id);
    sm.tcp = Tcp::Listen;
    sm.seq = seq;
    sm.hash_tail = sm.kind.family == Family::V6 && sm.opts.reuseport;
    let me = ns.sock(id).clone();
    update_memo(&mut ns, port, &me, first, m.before_6_8());
    if me.opts.reuseport {
        join_group(&mut ns, id);
    }
    ok(rule, ns)
}
