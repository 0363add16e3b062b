// SPDX-License-Identifier: GPL-2.0
//! Interrupt safety: the commands that change kernel-wide state (`faults`'
//! fault-injection knobs, `bench`'s pid_max, the mirror's kprobes) catch
//! SIGINT, SIGTERM and SIGHUP once [`install`] has run. A signal only sets a
//! flag; their long loops poll it ([`check`]) and return [`Interrupted`],
//! and on the way out their guards ([`crate::knobs::Knobs`], the mirror's
//! attachment) put everything back and say what they did. A second signal
//! of the same kind ends the process at once (exit status 128 + signal),
//! for a command that does not come back.
//!
//! The other commands keep the default actions: they change nothing the
//! closing of their files does not undo.

use signal_hook::{consts::TERM_SIGNALS, flag, low_level};
use std::{
    io,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, OnceLock,
    },
};
use thiserror::Error;

/// The signals caught: SIGINT, SIGTERM, SIGQUIT (signal-hook's terminating
/// signals) and SIGHUP.
fn caught() -> impl Iterator<Item = i32> {
    TERM_SIGNALS.iter().copied().chain([libc::SIGHUP])
}

/// Set by the handlers: the first signal caught, and whether one was.
struct Flags {
    /// The signal's number, 0 until one comes.
    signal: Arc<AtomicUsize>,
    /// Whether one came (a second one then ends the process).
    seen: Arc<AtomicBool>,
}

/// The flags, once [`install`] has run.
static FLAGS: OnceLock<Flags> = OnceLock::new();

/// Catches the signals from now on, for the rest of the process.
pub fn install() -> io::Result<()> {
    if FLAGS.get().is_some() {
        return Ok(());
    }
    let flags = Flags {
        signal: Arc::new(AtomicUsize::new(0)),
        seen: Arc::new(AtomicBool::new(false)),
    };
    for sig in caught() {
        // Registered first, so it runs before `seen` is set: it ends the
        // process on a second signal only.
        flag::register_conditional_shutdown(sig, 128 + sig, flags.seen.clone())?;
        flag::register_usize(sig, flags.signal.clone(), sig as usize)?;
        flag::register(sig, flags.seen.clone())?;
    }
    let _ = FLAGS.set(flags);
    Ok(())
}

/// The signal caught, if one was.
pub fn requested() -> Option<i32> {
    let signal = FLAGS.get()?.signal.load(Ordering::Relaxed);
    (signal != 0).then_some(signal as i32)
}

/// `Err(Interrupted)` once a signal was caught: what long loops call.
pub fn check() -> io::Result<()> {
    match requested() {
        Some(signal) => Err(Interrupted { signal }.into()),
        None => Ok(()),
    }
}

/// The name of signal `sig` (`SIGINT`).
pub fn signal_name(sig: i32) -> String {
    low_level::signal_name(sig).map_or_else(|| format!("signal {sig}"), str::to_string)
}

/// A command stopped because a signal came; carried in an `io::Error` of
/// kind `Interrupted`.
#[derive(Debug, Error)]
#[error("interrupted by {}", signal_name(*.signal))]
pub struct Interrupted {
    /// The signal.
    pub signal: i32,
}

impl From<Interrupted> for io::Error {
    fn from(e: Interrupted) -> Self {
        io::Error::new(io::ErrorKind::Interrupted, e)
    }
}

impl Interrupted {
    /// The interruption `e` carries, if it is one.
    pub fn of(e: &io::Error) -> Option<&Interrupted> {
        e.get_ref()?.downcast_ref()
    }

    /// The interruption an error of a system call that a signal cut short
    /// (EINTR) stands for, if a signal was caught; `e` itself otherwise.
    pub fn or(e: io::Error) -> io::Error {
        match requested() {
            Some(signal) if e.kind() == io::ErrorKind::Interrupted && Self::of(&e).is_none() => {
                Interrupted { signal }.into()
            }
            _ => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrupted_travels_in_an_io_error() {
        let e: io::Error = Interrupted {
            signal: libc::SIGTERM,
        }
        .into();
        assert_eq!(e.kind(), io::ErrorKind::Interrupted);
        assert_eq!(e.to_string(), "interrupted by SIGTERM");
        assert_eq!(Interrupted::of(&e).map(|i| i.signal), Some(libc::SIGTERM));
        assert!(Interrupted::of(&io::Error::from_raw_os_error(libc::EINTR)).is_none());
    }
}
