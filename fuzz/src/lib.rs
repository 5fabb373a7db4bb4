//! The checks behind the cargo-fuzz targets. The same file is compiled into
//! the main crate's test binary (`tests/fuzz_regressions.rs`), which replays
//! every input kept in `fuzz/regressions/<target>/`, so what the fuzzers
//! found stays fixed without libFuzzer.

#[path = "checks.rs"]
mod checks;

pub use checks::{differ, parse, predict};
