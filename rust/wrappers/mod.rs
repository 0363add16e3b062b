// SPDX-License-Identifier: GPL-2.0

//! Kernel services the 7.3 kernel crate does not wrap, one per file, each a
//! safe type over the raw bindings in the shape of the crate's own
//! (`kernel::page`, `kernel::fs::file`), so each could be proposed upstream.
//!
//! Every `unsafe` block of the allocator's own logic lives here or in the two
//! files that lay out memory by hand ([`crate::allocator::pid`], [`crate::allocator::hash`]); the
//! benchmark and its C reference sit in [`crate::bench`].

pub(crate) mod cred;
pub(crate) mod page;
pub(crate) mod percpu_counter;
pub(crate) mod rcu;
pub(crate) mod slab;
pub(crate) mod work;
