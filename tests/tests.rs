//! One integration test binary (as ripgrep does): shared helpers in
//! `util`, then the test modules.

mod util;

mod campaign;
mod cli;
mod fuzz_regressions;
mod live;
#[cfg(target_os = "linux")]
mod oracle;
mod page;
mod props;
mod records;
mod robust;
mod safety;
mod source_notes;
#[cfg(target_os = "linux")]
mod vm;
