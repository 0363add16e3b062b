// SPDX-License-Identifier: GPL-2.0
//! Progress of the long commands (`stress`, `fuzz`, `faults`, `bench`,
//! `compare`, `mirror watch`, `mirror cost`): a line on stderr, drawn by
//! `indicatif`, only for a person at a terminal. By default it is drawn when
//! stdout and stderr are both terminals, so that logs, pipes and KTAP never
//! hold a progress line; `--progress` changes that ([`set`]).
//!
//! The line is redrawn when the work advances, never by a thread of its own:
//! `compare`, `bench` and `mirror cost` fork, and a child of a process with
//! one thread is a safe place to run Rust code in.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};
use std::{
    borrow::Cow,
    io::IsTerminal,
    sync::atomic::{AtomicU8, Ordering},
};

/// When progress is drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
#[repr(u8)]
pub enum When {
    /// When stdout and stderr are both terminals.
    #[default]
    Auto,
    /// Whenever stderr is a terminal (stdout may be a file).
    Always,
    /// Never.
    Never,
}

/// The process's [`When`], as its `u8`.
static WHEN: AtomicU8 = AtomicU8::new(When::Auto as u8);

/// Sets when progress is drawn, for the rest of the process.
pub fn set(when: When) {
    WHEN.store(when as u8, Ordering::Relaxed);
}

/// Whether progress is drawn, given what stdout and stderr are.
fn drawn(when: u8, stdout_tty: bool, stderr_tty: bool) -> bool {
    match when {
        w if w == When::Never as u8 => false,
        w if w == When::Always as u8 => stderr_tty,
        _ => stdout_tty && stderr_tty,
    }
}

/// Whether progress is drawn in this process.
pub fn enabled() -> bool {
    drawn(
        WHEN.load(Ordering::Relaxed),
        std::io::stdout().is_terminal(),
        std::io::stderr().is_terminal(),
    )
}

/// A progress line, or nothing when progress is not drawn; clones show the
/// same line (workers of one run share it). Cleared when the last clone
/// goes.
#[derive(Clone)]
pub struct Progress {
    /// The line; hidden when progress is not drawn.
    bar: ProgressBar,
}

impl Progress {
    /// A line in `style`, or a hidden one.
    fn new(len: Option<u64>, style: &str, label: &str) -> Self {
        if !enabled() {
            return Self::hidden();
        }
        let style = ProgressStyle::with_template(style)
            .expect("a valid progress template")
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr())
            .with_style(style)
            .with_prefix(label.to_string())
            .with_finish(ProgressFinish::AndClear);
        bar.tick();
        Self { bar }
    }

    /// A line never drawn.
    pub fn hidden() -> Self {
        Self {
            bar: ProgressBar::hidden(),
        }
    }

    /// A bar of `total` steps of `unit` (`ops`, `s`) labelled `label`.
    pub fn bar(label: &str, total: u64, unit: &str) -> Self {
        Self::new(
            Some(total),
            &format!(
                "{{prefix}} {{spinner}} [{{elapsed_precise}}] [{{bar:30}}] \
                 {{human_pos}}/{{human_len}} {unit} {{msg}}"
            ),
            label,
        )
    }

    /// A spinner labelled `label`, for work of unknown length; its message
    /// says what is under way.
    pub fn spinner(label: &str) -> Self {
        Self::new(None, "{prefix} {spinner} [{elapsed_precise}] {msg}", label)
    }

    /// Whether it is drawn.
    pub fn is_drawn(&self) -> bool {
        !self.bar.is_hidden()
    }

    /// Advances it by `n`.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Sets its position.
    pub fn set_position(&self, n: u64) {
        self.bar.set_position(n);
    }

    /// Sets its message.
    pub fn set_message(&self, msg: impl Into<Cow<'static, str>>) {
        self.bar.set_message(msg);
    }

    /// Prints `line` on stderr, above the line if it is drawn.
    pub fn eprintln(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }

    /// Clears it.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_only_at_a_terminal() {
        let (auto, always, never) = (When::Auto as u8, When::Always as u8, When::Never as u8);
        assert!(drawn(auto, true, true));
        assert!(!drawn(auto, false, true));
        assert!(!drawn(auto, true, false));
        assert!(drawn(always, false, true));
        assert!(!drawn(always, true, false));
        assert!(!drawn(never, true, true));
    }
}
