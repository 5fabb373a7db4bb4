//! How much the tool says on stderr besides errors and warnings: one
//! process-wide level, set once from the command line (`-q`, `-v`). Below
//! the command line, so the campaign engine and the live session can ask
//! it without knowing about flags.

use std::sync::atomic::{AtomicU8, Ordering};

/// How much to say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Errors, warnings and findings only (`-q`).
    Quiet = 0,
    /// Also what a run is doing: calibration, the run's start and totals, progress.
    Normal = 1,
    /// Also details: each rule's meaning beside a mismatch (`-v`).
    Verbose = 2,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Normal as u8);

/// Sets the level for the rest of the process.
pub fn set(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// The level in force.
pub fn level() -> Level {
    match LEVEL.load(Ordering::Relaxed) {
        0 => Level::Quiet,
        1 => Level::Normal,
        _ => Level::Verbose,
    }
}

/// Whether informational lines are left out (`-q`).
pub fn quiet() -> bool {
    level() == Level::Quiet
}

/// Whether details are asked for (`-v`).
pub fn verbose() -> bool {
    level() == Level::Verbose
}

/// `eprintln!` unless `-q` was given: for what a run is doing, never for
/// errors, warnings or findings.
#[macro_export]
macro_rules! info {
    ($($t:tt)*) => {
        if !$crate::say::quiet() {
            eprintln!($($t)*);
        }
    };
}
