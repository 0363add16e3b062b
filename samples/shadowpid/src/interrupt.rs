// SPDX-License-Identifier: GPL-2.0
//! Interrupt safety: the commands that change kernel-wide state (`faults`'
//! fault-injection knobs, `bench`'s pid_max, the mirror's kprobes) catch
//! SIGINT, SIGTERM, SIGQUIT and SIGHUP once [`install`] has run. A signal
//! only sets a flag; their long loops poll it ([`check`]) and return
//! [`Interrupted`], and on the way out their guards
//! ([`crate::knobs::Knobs`], the mirror's attachment) put everything back
//! and say what they did.
//!
//! A second signal at least [`AGAIN`] after the first ends the process at
//! once (exit status 128 + signal), for a command that does not come back;
//! one sooner is the same interruption delivered twice, as timeout(1) does
//! (to its command, then to the command's process group), and must not cut
//! the putting back short.
//!
//! The other commands keep the default actions: they change nothing the
//! closing of their files does not undo.

use signal_hook::{consts::TERM_SIGNALS, low_level};
use std::{
    io,
    sync::{
        atomic::{AtomicI32, AtomicU64, Ordering},
        Once,
    },
    time::Duration,
};
use thiserror::Error;

/// How long after the first signal another one ends the process at once.
pub const AGAIN: Duration = Duration::from_secs(1);

/// The signals caught: SIGINT, SIGTERM, SIGQUIT (signal-hook's terminating
/// signals) and SIGHUP.
fn caught() -> impl Iterator<Item = i32> {
    TERM_SIGNALS.iter().copied().chain([libc::SIGHUP])
}

/// The first signal caught; 0 until one comes.
static SIGNAL: AtomicI32 = AtomicI32::new(0);

/// When it came, nanoseconds of `CLOCK_MONOTONIC` (never 0 once it came).
static FIRST_AT: AtomicU64 = AtomicU64::new(0);

/// Now, nanoseconds of `CLOCK_MONOTONIC`; async-signal-safe.
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is valid for writing; clock_gettime is async-signal-safe.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
        .max(1)
}

/// What a signal coming at `now` means.
#[derive(Debug, PartialEq, Eq)]
enum Meaning {
    /// The first: recorded, to be polled.
    First,
    /// The first again, delivered twice.
    Same,
    /// Another interruption: end at once.
    End,
}

/// Records signal `sig` at `now` in `signal` and `first_at`, and says what
/// it means; async-signal-safe (atomics only).
fn record(signal: &AtomicI32, first_at: &AtomicU64, sig: i32, now: u64) -> Meaning {
    match first_at.compare_exchange(0, now, Ordering::SeqCst, Ordering::SeqCst) {
        Ok(_) => {
            signal.store(sig, Ordering::SeqCst);
            Meaning::First
        }
        Err(first) if now.saturating_sub(first) >= AGAIN.as_nanos() as u64 => Meaning::End,
        Err(_) => Meaning::Same,
    }
}

/// Catches the signals from now on, for the rest of the process.
pub fn install() -> io::Result<()> {
    static INSTALLED: Once = Once::new();
    let mut result = Ok(());
    INSTALLED.call_once(|| {
        for sig in caught() {
            let handler = move || {
                if record(&SIGNAL, &FIRST_AT, sig, monotonic_ns()) == Meaning::End {
                    low_level::exit(128 + sig);
                }
            };
            // SAFETY: the handler only touches atomics, reads the monotonic
            // clock and may _exit: all async-signal-safe.
            if let Err(e) = unsafe { low_level::register(sig, handler) } {
                result = Err(e);
                return;
            }
        }
    });
    result
}

/// The signal caught, if one was.
pub fn requested() -> Option<i32> {
    let signal = SIGNAL.load(Ordering::SeqCst);
    (signal != 0).then_some(signal)
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
    fn a_signal_twice_at_once_is_one_later_ends() {
        let (signal, first_at) = (AtomicI32::new(0), AtomicU64::new(0));
        let t0 = 5_000_000_000;
        assert_eq!(
            record(&signal, &first_at, libc::SIGTERM, t0),
            Meaning::First
        );
        assert_eq!(signal.load(Ordering::SeqCst), libc::SIGTERM);
        // timeout(1): to the command, then to its process group.
        assert_eq!(
            record(&signal, &first_at, libc::SIGTERM, t0 + 1000),
            Meaning::Same
        );
        let later = t0 + AGAIN.as_nanos() as u64;
        assert_eq!(
            record(&signal, &first_at, libc::SIGINT, later),
            Meaning::End
        );
        // The first one stays the one reported.
        assert_eq!(signal.load(Ordering::SeqCst), libc::SIGTERM);
    }

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
