//! The system calls an executor made for one case, recorded so that
//! `bench` can make exactly them again in its floor: the thinnest loop
//! there is, with no model, no diff, no allocation per call and none of
//! the pipeline's waits for late kernel work.
//!
//! A socket is named by its handle: its number among the sockets the case
//! made (the prober of a probe and an accepted connection are sockets
//! too). A port is named by where it came from, so the floor can use
//! fresh ones: a symbol, port 0, or the port a `getsockname` of a socket
//! returned earlier in the case.

use crate::case::{Addr, Kind, SockOpt};

/// A socket of a traced case.
pub type Handle = u16;

/// Where a port of a `bind` or `connect` came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortSrc {
    /// `P<n>` of the case.
    Sym(u8),
    Zero,
    /// The port the last `getsockname` of this socket returned.
    Name(Handle),
    /// A port from none of these (kept as it was).
    Lit(u16),
}

/// One system call (or one call of the OS layer that makes a fixed few).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// The OS layer's socket(2) (as the other user if `other`).
    Socket {
        h: Handle,
        kind: Kind,
        other: bool,
    },
    /// O_NONBLOCK on or off (fcntl).
    Nonblock {
        h: Handle,
        on: bool,
    },
    /// The OS layer's setsockopt of an option of the language.
    SetOpt {
        h: Handle,
        opt: SockOpt,
        on: bool,
    },
    /// SO_LINGER 0 (the executor's own resets).
    Linger0 {
        h: Handle,
    },
    Bind {
        h: Handle,
        addr: Addr,
        port: PortSrc,
    },
    Listen {
        h: Handle,
    },
    /// The OS layer's bounded blocking connect (TCP, or a UDP statement).
    Connect {
        h: Handle,
        addr: Addr,
        port: PortSrc,
    },
    /// A plain connect(2) (the UDP prober).
    ConnectRaw {
        h: Handle,
        addr: Addr,
        port: PortSrc,
    },
    GetSockName {
        h: Handle,
    },
    /// accept(2); `new` is the handle of the socket it returned, if any.
    Accept {
        h: Handle,
        new: Option<Handle>,
    },
    Send {
        h: Handle,
    },
    /// recv(2) of one datagram, or nothing queued.
    Recv {
        h: Handle,
    },
    /// getsockopt(SO_ERROR).
    TakeError {
        h: Handle,
    },
    Close {
        h: Handle,
    },
}

impl Call {
    /// How many system calls this makes on Linux (fcntl GETFL and SETFL
    /// for O_NONBLOCK; setfsuid three times around another user's socket;
    /// the bounded connect's O_NONBLOCK off, SO_SNDTIMEO, connect and
    /// O_NONBLOCK on).
    pub fn syscalls(self) -> u64 {
        match self {
            Call::Socket { other: true, .. } => 4,
            Call::Nonblock { .. } => 2,
            Call::Connect { .. } => 6,
            _ => 1,
        }
    }
}

/// The calls of one case, with what the floor needs to give it fresh ports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseTrace {
    /// Which symbols `P<n>` the case used.
    pub syms: [bool; 10],
    /// The case binds or connects to `@NAME` ports.
    pub port_refs: bool,
    /// Sockets the case made (the highest handle plus one).
    pub handles: usize,
    pub calls: Vec<Call>,
}

impl CaseTrace {
    /// The system calls of the case.
    pub fn syscalls(&self) -> u64 {
        self.calls.iter().map(|c| c.syscalls()).sum()
    }
}
