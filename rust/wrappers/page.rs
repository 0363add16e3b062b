// SPDX-License-Identifier: GPL-2.0

//! Zeroed pages from the page allocator (`get_zeroed_page()`), seen as words
//! that can be updated atomically in place; and the machine's RAM size.

use core::{
    ptr::{self, NonNull},
    sync::atomic::{AtomicU64, Ordering},
};
use kernel::{bindings, page::PAGE_SIZE, prelude::*};

/// The words of one page: `PAGE_SIZE * 8` bits.
pub(crate) type PageWords = [AtomicU64; PAGE_SIZE / 8];

/// A zeroed page, owned.
///
/// # Invariants
///
/// `addr` is the address of an order-0 page from `get_zeroed_page()`, owned
/// by this value.
pub(crate) struct ZeroedPage {
    /// Its kernel virtual address.
    addr: NonNull<PageWords>,
}

/// `get_zeroed_page(GFP_KERNEL)`, under a name of its own: the fault
/// injection tests aim `fail_page_alloc` at the pages of this module by the
/// address range of this symbol in `/proc/kallsyms` (its stack-trace filter),
/// so it must stay out of line and keep its name.
#[no_mangle]
#[inline(never)]
extern "C" fn shadowpid_zeroed_page_alloc() -> usize {
    // SAFETY: plain page allocation; callers are in process context.
    let page = unsafe { bindings::get_zeroed_page_noprof(bindings::GFP_KERNEL) };
    stay_on_the_stack();
    page
}

/// Keeps the call before it from being a tail call: compiled as `jmp`, it
/// would leave no frame of the named function on the stack while the page
/// allocator runs, and the stack-trace filter would never match (the page
/// fault test then injects nothing, as it did).
#[inline(always)]
fn stay_on_the_stack() {
    core::sync::atomic::compiler_fence(Ordering::SeqCst);
}

/// `get_zeroed_page(GFP_ATOMIC)` for the live mirror, whose handlers run
/// where sleeping is not allowed; named, like the sleeping one, for fault
/// injection to aim at.
impl ZeroedPage {
    /// Allocates a zeroed page (may sleep).
    pub(crate) fn new() -> Result<Self> {
        Self::from_addr(shadowpid_zeroed_page_alloc())
    }

    /// Takes a page `get_zeroed_page()` gave (0 if it failed).
    fn from_addr(addr: usize) -> Result<Self> {
        let addr = NonNull::new(addr as *mut PageWords).ok_or(ENOMEM)?;
        // INVARIANT: a fresh page from get_zeroed_page(), now ours.
        Ok(Self { addr })
    }

    /// Gives up ownership: the page stays allocated until [`Self::from_raw`]
    /// takes it back.
    pub(crate) fn into_raw(self) -> NonNull<PageWords> {
        let addr = self.addr;
        core::mem::forget(self);
        addr
    }

    /// Takes back a page given up by [`Self::into_raw`].
    ///
    /// # Safety
    ///
    /// `addr` came from [`Self::into_raw`] and is taken back once.
    pub(crate) unsafe fn from_raw(addr: NonNull<PageWords>) -> Self {
        // INVARIANT: ownership of the page returns to the new value.
        Self { addr }
    }
}

// SAFETY: the page is owned, not tied to a thread: any CPU may use and free it.
unsafe impl Send for ZeroedPage {}

impl Drop for ZeroedPage {
    fn drop(&mut self) {
        // SAFETY: the page is ours (type invariant) and order 0.
        unsafe { bindings::free_pages(self.addr.as_ptr() as usize, 0) };
    }
}

/// Bytes of RAM the page allocator manages (`totalram_pages() << PAGE_SHIFT`).
pub(crate) fn totalram_bytes() -> u64 {
    // SAFETY: `_totalram_pages` is a static `atomic_long_t`; a racy read of
    // its counter is what `totalram_pages()` does too.
    let pages = unsafe { ptr::read_volatile(&raw const bindings::_totalram_pages.counter) };
    (pages as u64) * (PAGE_SIZE as u64)
}
