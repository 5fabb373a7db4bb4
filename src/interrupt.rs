//! Ctrl-C (and SIGTERM): the first one asks long runs to stop after the
//! current case; a second one ends the process at once.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Whether a stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// Asks for a stop (as Ctrl-C does).
pub fn request() {
    REQUESTED.store(true, Ordering::Relaxed);
}

#[cfg(unix)]
extern "C" fn on_signal(sig: libc::c_int) {
    REQUESTED.store(true, Ordering::Relaxed);
    // The next one gets the default action.
    unsafe { libc::signal(sig, libc::SIG_DFL) };
}

/// Installs the handlers.
#[cfg(unix)]
pub fn install() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

#[cfg(windows)]
unsafe extern "system" fn on_ctrl(_kind: u32) -> windows_sys::core::BOOL {
    if REQUESTED.swap(true, Ordering::Relaxed) { 0 } else { 1 }
}

/// Installs the handlers.
#[cfg(windows)]
pub fn install() {
    unsafe { windows_sys::Win32::System::Console::SetConsoleCtrlHandler(Some(on_ctrl), 1) };
}
