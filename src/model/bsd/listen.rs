//! `listen`.

use super::Bsd;
use super::bind::commit_bind;
use crate::case::{Addr, Family};
use crate::model::rules::*;
use crate::model::state::Tcp;
use crate::model::{Prediction, SockId, State, StepCtx, fail, ok};
use crate::outcome::Errno;

use Errno::*;

pub(super) fn listen(m: &Bsd, st: &State, id: SockId, ctx: &StepCtx<'_>) -> Prediction {
    let s = st.sock(id);
    if !s.is_tcp() {
        return fail(BSD_LISTEN_UDP, EOPNOTSUPP, st);
    }
    match s.tcp {
        Tcp::Reset => return fail(BSD_TCP_DROPPED, EINVAL, st),
        Tcp::Established | Tcp::CloseWait | Tcp::SynSent => return fail(BSD_TCP_LISTEN_STATE, EINVAL, st),
        Tcp::Listen => return ok(BSD_TCP_LISTEN_STATE, st.clone()),
        Tcp::Closed => {}
    }
    let mut ns = st.clone();
    let rule = if s.local.is_none() {
        let p = ns.ephemeral(ctx.observed);
        let wildcard = match s.kind.family {
            Family::V4 => Addr::Any4,
            Family::V6 => Addr::Any6,
        };
        commit_bind(m, &mut ns, id, wildcard, p);
        BSD_TCP_LISTEN_AUTOBIND
    } else if m.lb_pending() && s.group.is_some() {
        FREEBSD_LB_PENDING
    } else {
        BSD_TCP_LISTEN_STATE
    };
    ns.sock_mut(id).tcp = Tcp::Listen;
    ok(rule, ns)
}
