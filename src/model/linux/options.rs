//! `set`: which options Linux takes, and when (rules linux.any.option-set,
//! unknown-option, v6only-on-v4, v6only-after-bind, linux.tcp.options-after-bind).

use crate::case::{Family, SockOpt};
use crate::model::rules::*;
use crate::model::{Prediction, SockId, State, fail, ok};
use crate::outcome::Errno;

use Errno::*;

pub(super) fn set(st: &State, id: SockId, opt: SockOpt, on: bool) -> Prediction {
    let s = st.sock(id);
    let mut ns = st.clone();
    let o = &mut ns.sock_mut(id).opts;
    match opt {
        SockOpt::ReusePortLb | SockOpt::ExclusiveAddrUse => fail(LINUX_UNKNOWN_OPTION, ENOPROTOOPT, st),
        SockOpt::V6Only if s.kind.family == Family::V4 => fail(LINUX_V6ONLY_ON_V4, ENOPROTOOPT, st),
        SockOpt::V6Only if s.local.is_some() => fail(LINUX_V6ONLY_AFTER_BIND, EINVAL, st),
        SockOpt::V6Only => {
            o.v6only = on;
            ok(LINUX_OPTION_SET, ns)
        }
        SockOpt::ReuseAddr | SockOpt::ReusePort => {
            if opt == SockOpt::ReuseAddr {
                o.reuseaddr = on;
            } else {
                o.reuseport = on;
            }
            let rule = if s.local.is_some() { LINUX_OPTIONS_AFTER_BIND } else { LINUX_OPTION_SET };
            ok(rule, ns)
        }
        SockOpt::Linger0 => {
            o.linger0 = on;
            ok(LINUX_OPTION_SET, ns)
        }
    }
}
