//! Error numbers of Unix hosts mapped to docs/interface.md#outcomes names (libc's constants, so
//! each OS gets its own numbers).

use crate::outcome::{Errno, Outcome};
use std::io;

/// `(number, name)` for every name the tool knows. Where two names share a
/// number on a host (EAGAIN/EWOULDBLOCK, EOPNOTSUPP/ENOTSUP), the first
/// POSIX name comes first and wins.
fn table() -> &'static [(i32, Errno)] {
    use Errno::*;
    &[
        (libc::EACCES, EACCES),
        (libc::EADDRINUSE, EADDRINUSE),
        (libc::EADDRNOTAVAIL, EADDRNOTAVAIL),
        (libc::EAFNOSUPPORT, EAFNOSUPPORT),
        (libc::EAGAIN, EAGAIN),
        (libc::EWOULDBLOCK, EAGAIN),
        (libc::EALREADY, EALREADY),
        (libc::EBADF, EBADF),
        (libc::ECONNABORTED, ECONNABORTED),
        (libc::ECONNREFUSED, ECONNREFUSED),
        (libc::ECONNRESET, ECONNRESET),
        (libc::EDESTADDRREQ, EDESTADDRREQ),
        (libc::EFAULT, EFAULT),
        (libc::EHOSTDOWN, EHOSTDOWN),
        (libc::EHOSTUNREACH, EHOSTUNREACH),
        (libc::EINPROGRESS, EINPROGRESS),
        (libc::EINTR, EINTR),
        (libc::EINVAL, EINVAL),
        (libc::EISCONN, EISCONN),
        (libc::EMFILE, EMFILE),
        (libc::EMSGSIZE, EMSGSIZE),
        (libc::ENETDOWN, ENETDOWN),
        (libc::ENETUNREACH, ENETUNREACH),
        (libc::ENFILE, ENFILE),
        (libc::ENOBUFS, ENOBUFS),
        (libc::ENOMEM, ENOMEM),
        (libc::ENOPROTOOPT, ENOPROTOOPT),
        (libc::ENOTCONN, ENOTCONN),
        (libc::ENOTSOCK, ENOTSOCK),
        (libc::EOPNOTSUPP, EOPNOTSUPP),
        (libc::ENOTSUP, EOPNOTSUPP),
        (libc::EPERM, EPERM),
        (libc::EPFNOSUPPORT, EPFNOSUPPORT),
        (libc::EPIPE, EPIPE),
        (libc::EPROTONOSUPPORT, EPROTONOSUPPORT),
        (libc::EPROTOTYPE, EPROTOTYPE),
        (libc::ESHUTDOWN, ESHUTDOWN),
        (libc::ESOCKTNOSUPPORT, ESOCKTNOSUPPORT),
        (libc::ETIMEDOUT, ETIMEDOUT),
        (libc::EDQUOT, EDQUOT),
        (libc::ELOOP, ELOOP),
        (libc::ENAMETOOLONG, ENAMETOOLONG),
        (libc::ENETRESET, ENETRESET),
        (libc::ENOTEMPTY, ENOTEMPTY),
        (libc::EREMOTE, EREMOTE),
        (libc::ESTALE, ESTALE),
        (libc::ETOOMANYREFS, ETOOMANYREFS),
        (libc::EUSERS, EUSERS),
    ]
}

/// The outcome of an OS error: its POSIX name, or `OS<n>`.
pub fn outcome_of(e: &io::Error) -> Outcome {
    match e.raw_os_error() {
        Some(n) => table().iter().find(|(k, _)| *k == n).map(|(_, e)| Outcome::Err(*e)).unwrap_or(Outcome::Os(n)),
        None => Outcome::Err(Errno::EINVAL),
    }
}

/// ru_maxrss of getrusage(2), in bytes (Linux and the BSDs count kilobytes,
/// macOS bytes).
pub fn max_rss_bytes() -> u64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return 0;
    }
    let v = u.ru_maxrss.max(0) as u64;
    if cfg!(target_os = "macos") { v } else { v * 1024 }
}

/// uname(2) of this host.
pub fn uname() -> super::HostIdentity {
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return super::HostIdentity::default();
    }
    let field = |f: &[libc::c_char]| -> String {
        let bytes: Vec<u8> = f.iter().take_while(|&&c| c != 0).map(|&c| c as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    super::HostIdentity {
        os: field(&u.sysname),
        release: field(&u.release),
        build: field(&u.version),
        arch: field(&u.machine),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_map_to_first_posix_names() {
        let o = |n| outcome_of(&io::Error::from_raw_os_error(n));
        assert_eq!(o(libc::EWOULDBLOCK), Outcome::Err(Errno::EAGAIN));
        assert_eq!(o(libc::ENOTSUP), Outcome::Err(Errno::EOPNOTSUPP));
        assert_eq!(o(libc::EADDRINUSE), Outcome::Err(Errno::EADDRINUSE));
        assert_eq!(o(4095), Outcome::Os(4095));
    }
}
