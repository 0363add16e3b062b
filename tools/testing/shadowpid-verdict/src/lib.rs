// SPDX-License-Identifier: GPL-2.0

//! The verdict of `make check`.
//!
//! A suite that says `0 failed` must mean that everything which should
//! have run did run, passed, and left the kernel clean. So the verdict is
//! computed from two sides:
//!
//! - what should have run ([`expect`]): the kselftest collection as
//!   installed and as it is in the source, every KUnit case declared in the
//!   module's `#[kunit_tests]` modules, every test the host crates list;
//! - what reported: the kselftest runner's TAP ([`ktap`]), cargo's test
//!   output ([`cargo`]), the loom models' lines, the guest consoles and
//!   the taint flags read at the end of every boot ([`console`]).
//!
//! A test that was expected and did not report is a failure; a skip is a
//! failure unless the one list of allowed skips ([`skips`]) names it with
//! a condition that holds for the kernel under test. [`summary`] adds it
//! all up.

pub mod cargo;
pub mod console;
pub mod expect;
pub mod ktap;
pub mod skips;
pub mod summary;

/// How one test ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It ran and passed.
    Pass,
    /// It failed; why, when the output says.
    Fail(String),
    /// It did not run; the reason it gave.
    Skip(String),
}
