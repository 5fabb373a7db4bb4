//! Socket names: the one word the outcome vocabulary (`->a`) and the case
//! language (`a = socket tcp4`) share, so it sits below both. A name is
//! `[a-z][a-z0-9_]*` and none of the language's keywords.

use std::fmt;
use std::sync::Arc;

/// A socket name: `[a-z][a-z0-9_]*`, not a keyword, not `none`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Arc<str>);

impl Name {
    /// Wraps `s` without checking it; [`Name::is_valid`] says whether it is a name.
    pub fn new(s: &str) -> Name {
        Name(Arc::from(s))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `s` is a legal socket name (docs/interface.md#the-case-language).
    pub fn is_valid(s: &str) -> bool {
        let mut chars = s.chars();
        matches!(chars.next(), Some('a'..='z'))
            && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
            && !KEYWORDS.contains(&s)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

/// Words that cannot be socket names.
pub const KEYWORDS: &[&str] = &[
    "socket",
    "as",
    "other",
    "set",
    "on",
    "off",
    "bind",
    "listen",
    "connect",
    "accept",
    "close",
    "probe",
    "none",
    "tcp4",
    "tcp6",
    "udp4",
    "udp6",
    "reuseaddr",
    "reuseport",
    "reuseport_lb",
    "exclusiveaddruse",
    "v6only",
    "linger0",
];
