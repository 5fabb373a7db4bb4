//! sockdiff: finds out what operating systems really do when sockets share
//! local addresses, and proves it.
//!
//! A [`model`] of each OS predicts every statement of a [`case`]; an
//! executor ([`exec`]) runs the same case for real; [`run`] diffs the two
//! step by step; [`report`] writes what differs.

pub mod calibrate;
pub mod campaign;
pub mod case;
pub mod cli;
pub mod corpus;
pub mod exec;
pub mod explain;
pub mod generate;
pub mod interrupt;
pub mod minimize;
pub mod model;
pub mod name;
pub mod outcome;
pub mod platform;
pub mod render;
pub mod report;
pub mod run;
pub mod say;
pub mod session;
#[cfg(target_os = "linux")]
pub mod vm;
