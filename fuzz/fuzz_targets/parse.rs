#![no_main]
//! cargo-fuzz target `parse`: see `sockdiff_fuzz::parse`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| sockdiff_fuzz::parse(data));
