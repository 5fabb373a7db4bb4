//! The outcome vocabulary of docs/interface.md#outcomes: `ok`, POSIX error names, `OS<n>`,
//! probe receivers (`->a`, `->none`), and sets of them (`{EACCES,ok}`).
//!
//! An OS refusal is data here, never a Rust error. This module maps no OS
//! numbers: the executors do that (`exec/`), each for its own OS.

use crate::name::Name;
use std::fmt;

macro_rules! errnos {
    ($($name:ident),* $(,)?) => {
        /// A POSIX error name. Where two names share a number, only the first
        /// one POSIX lists exists here (`EAGAIN`, not `EWOULDBLOCK`).
        #[allow(clippy::upper_case_acronyms)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Errno { $($name),* }

        impl Errno {
            /// Every name this tool knows.
            pub const ALL: &'static [Errno] = &[$(Errno::$name),*];

            /// The symbolic name.
            pub fn name(self) -> &'static str {
                match self { $(Errno::$name => stringify!($name)),* }
            }
        }
    };
}

errnos!(
    EACCES,
    EADDRINUSE,
    EADDRNOTAVAIL,
    EAFNOSUPPORT,
    EAGAIN,
    EALREADY,
    EBADF,
    ECONNABORTED,
    ECONNREFUSED,
    ECONNRESET,
    EDESTADDRREQ,
    EDQUOT,
    EFAULT,
    EHOSTDOWN,
    EHOSTUNREACH,
    EINPROGRESS,
    EINTR,
    EINVAL,
    EISCONN,
    ELOOP,
    EMFILE,
    EMSGSIZE,
    ENAMETOOLONG,
    ENETDOWN,
    ENETRESET,
    ENETUNREACH,
    ENFILE,
    ENOBUFS,
    ENOMEM,
    ENOPROTOOPT,
    ENOTCONN,
    ENOTEMPTY,
    ENOTSOCK,
    EOPNOTSUPP,
    EPERM,
    EPFNOSUPPORT,
    EPIPE,
    EPROTONOSUPPORT,
    EPROTOTYPE,
    EREMOTE,
    ESHUTDOWN,
    ESOCKTNOSUPPORT,
    ESTALE,
    ETIMEDOUT,
    ETOOMANYREFS,
    EUSERS,
);

impl Errno {
    /// Looks a name up; the aliases POSIX lists second map to the first name.
    pub fn from_name(s: &str) -> Option<Errno> {
        match s {
            "EWOULDBLOCK" => Some(Errno::EAGAIN),
            "ENOTSUP" => Some(Errno::EOPNOTSUPP),
            _ => Errno::ALL.iter().copied().find(|e| e.name() == s),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The outcome of one statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The call succeeded.
    Ok,
    /// The call failed with this error.
    Err(Errno),
    /// An error number with no POSIX name (`OS<number>`).
    Os(i32),
    /// A probe was received by this socket (`->NAME`).
    To(Name),
    /// A udp probe was received by no socket (`->none`).
    ToNone,
}

impl Outcome {
    /// Shorthand for `Outcome::Err`.
    pub const fn err(e: Errno) -> Outcome {
        Outcome::Err(e)
    }

    /// Parses one outcome (`ok`, `EINVAL`, `OS10047`, `->a`, `->none`).
    pub fn parse(s: &str) -> Option<Outcome> {
        if s == "ok" {
            return Some(Outcome::Ok);
        }
        if let Some(n) = s.strip_prefix("->") {
            if n == "none" {
                return Some(Outcome::ToNone);
            }
            return Name::is_valid(n).then(|| Outcome::To(Name::new(n)));
        }
        if let Some(num) = s.strip_prefix("OS") {
            if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                return num.parse().ok().map(Outcome::Os);
            }
        }
        Errno::from_name(s).map(Outcome::Err)
    }

    /// Whether this is `ok`.
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok => f.write_str("ok"),
            Outcome::Err(e) => f.write_str(e.name()),
            Outcome::Os(n) => write!(f, "OS{n}"),
            Outcome::To(n) => write!(f, "->{n}"),
            Outcome::ToNone => f.write_str("->none"),
        }
    }
}

/// A set of outcomes, kept sorted by their written form and without
/// duplicates, as docs/interface.md#outcomes writes sets.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OutcomeSet(Vec<Outcome>);

impl OutcomeSet {
    /// A set of one outcome.
    pub fn one(o: Outcome) -> OutcomeSet {
        OutcomeSet(vec![o])
    }

    /// A set from any outcomes (sorted and deduplicated here).
    pub fn new(outcomes: impl IntoIterator<Item = Outcome>) -> OutcomeSet {
        let mut v: Vec<Outcome> = outcomes.into_iter().collect();
        v.sort_by_cached_key(|o| o.to_string());
        v.dedup();
        OutcomeSet(v)
    }

    /// Members, sorted.
    pub fn members(&self) -> &[Outcome] {
        &self.0
    }

    /// Whether `o` is a member.
    pub fn contains(&self, o: &Outcome) -> bool {
        self.0.contains(o)
    }

    /// Parses `ok`, `EINVAL`, `{EACCES,ok}` (no spaces).
    pub fn parse(s: &str) -> Option<OutcomeSet> {
        if let Some(inner) = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
            let parts: Option<Vec<Outcome>> = inner.split(',').map(Outcome::parse).collect();
            let parts = parts?;
            if parts.is_empty() {
                return None;
            }
            Some(OutcomeSet::new(parts))
        } else {
            Outcome::parse(s).map(OutcomeSet::one)
        }
    }
}

impl fmt::Display for OutcomeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                f.write_str("{")?;
                for (i, o) in many.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{o}")?;
                }
                f.write_str("}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_print_sorted_without_spaces() {
        let s = OutcomeSet::new([Outcome::Ok, Outcome::Err(Errno::EACCES)]);
        assert_eq!(s.to_string(), "{EACCES,ok}");
        let r = OutcomeSet::new([Outcome::To(Name::new("b")), Outcome::To(Name::new("a"))]);
        assert_eq!(r.to_string(), "{->a,->b}");
    }

    #[test]
    fn aliases_map_to_the_first_posix_name() {
        assert_eq!(Outcome::parse("EWOULDBLOCK"), Some(Outcome::Err(Errno::EAGAIN)));
        assert_eq!(Outcome::parse("ENOTSUP"), Some(Outcome::Err(Errno::EOPNOTSUPP)));
    }

    #[test]
    fn outcomes_round_trip() {
        for s in ["ok", "EADDRINUSE", "OS10047", "->a", "->none", "{EACCES,ok}", "{->a,->b}"] {
            assert_eq!(OutcomeSet::parse(s).unwrap().to_string(), s);
        }
        for bad in ["", "{}", "EFOO", "->", "->Bad", "{ok, EACCES}", "OS"] {
            assert_eq!(OutcomeSet::parse(bad), None, "{bad}");
        }
    }
}
