//! `set`: which options FreeBSD and macOS take, and when.

use super::Bsd;
use crate::case::{Family, SockOpt};
use crate::model::rules::*;
use crate::model::state::Tcp;
use crate::model::{Prediction, SockId, State, fail, ok};
use crate::outcome::Errno;

use Errno::*;

pub(super) fn set(m: &Bsd, st: &State, id: SockId, opt: SockOpt, on: bool) -> Prediction {
    let s = st.sock(id);
    match opt {
        SockOpt::ExclusiveAddrUse => return fail(m.unknown_option_rule(), ENOPROTOOPT, st),
        SockOpt::ReusePortLb if !m.has_lb() => return fail(m.unknown_option_rule(), ENOPROTOOPT, st),
        _ => {}
    }
    let dropped = s.is_tcp() && s.tcp == Tcp::Reset;
    if dropped && m.mac() {
        return fail(MACOS_SETOPT_DISCONNECTED, EINVAL, st);
    }
    let mut ns = st.clone();
    let o = &mut ns.sock_mut(id).opts;
    match opt {
        SockOpt::V6Only => {
            if dropped {
                return fail(FREEBSD_SETOPT_DROPPED, ECONNRESET, st);
            }
            if s.kind.family == Family::V4 || s.local.is_some() {
                return fail(BSD_V6ONLY_AFTER_BIND, EINVAL, st);
            }
            o.v6only = on;
        }
        SockOpt::ReuseAddr => o.reuseaddr = on,
        SockOpt::ReusePort => o.reuseport = on,
        SockOpt::ReusePortLb => o.reuseport_lb = on,
        SockOpt::Linger0 => o.linger0 = on,
        SockOpt::ExclusiveAddrUse => unreachable!("refused above"),
    }
    ok(BSD_OPTIONS_ANY_TIME, ns)
}
