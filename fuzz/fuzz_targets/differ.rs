#![no_main]
//! cargo-fuzz target `differ`: see `sockdiff_fuzz::differ`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| sockdiff_fuzz::differ(data));
