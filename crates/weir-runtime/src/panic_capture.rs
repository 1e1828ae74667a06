//! Turns panics in user code into errors, without printing a backtrace.
//!
//! While a job runs, a panic hook records the panic's message and location for the thread
//! instead of printing it; the operator wrapper that catches the unwind turns it into a
//! [`WeirError`] naming the operator.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use weir_core::{Result, WeirError};

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    static CAPTURING: RefCell<bool> = const { RefCell::new(false) };
}

/// Installs the hook once per process; it only swallows panics on task threads.
pub fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(|c| *c.borrow()) {
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".to_string());
                let location = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()));
                LAST_PANIC.with(|p| {
                    *p.borrow_mut() = Some(format!(
                        "panicked: {message}{}",
                        location.unwrap_or_default()
                    ))
                });
            } else {
                default(info);
            }
        }));
    });
}

/// Marks the current thread as a task thread whose panics are captured.
pub fn capture_on_this_thread() {
    CAPTURING.with(|c| *c.borrow_mut() = true);
}

/// Runs `f`, turning a panic into an error.
#[inline]
pub fn catch<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => Err(WeirError::Other(
            LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| "panicked".to_string()),
        )),
    }
}
