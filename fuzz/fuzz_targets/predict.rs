#![no_main]
//! cargo-fuzz target `predict`: see `sockdiff_fuzz::predict`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| sockdiff_fuzz::predict(data));
