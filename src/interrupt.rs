//! Ctrl-C: exit 130 with one line saying nothing was let through. A hook killed
//! mid-scan must never look like a pass; git treats any non-zero status as a
//! refusal, and 130 is what shells report for an interrupt.

const MESSAGE: &[u8] =
    b"\nkeyward: interrupted before the check finished; nothing was let through\n";

extern "C" fn on_interrupt(_signal: libc::c_int) {
    // Only async-signal-safe calls here: write(2) and _exit(2).
    // SAFETY: MESSAGE is a valid static buffer; _exit never returns.
    unsafe {
        libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
        libc::_exit(130);
    }
}

pub fn install() {
    let handler: extern "C" fn(libc::c_int) = on_interrupt;
    // SAFETY: installing a handler that only makes async-signal-safe calls.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
}
