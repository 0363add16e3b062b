// SPDX-License-Identifier: GPL-2.0

//! The thin unsafe layer: kernel services the 7.3 kernel crate does not wrap.
//!
//! kmem caches created at run time, zeroed pages for the pidmaps, `call_rcu`,
//! a capability check on the opener of a file and the machine's RAM size.
//! Everything above this file and the two object files that lay out memory by
//! hand ([`crate::pid`], [`crate::hash`]) is safe Rust.

use core::{
    ptr::{self, NonNull},
    sync::atomic::{AtomicPtr, AtomicU64, Ordering},
};
use kernel::{bindings, fs::File, prelude::*, sync::atomic::Atomic};

/// Whether the opener of `file` had `CAP_SYS_ADMIN` in the initial user
/// namespace when it opened the file (as `file_ns_capable()` checks it).
pub(crate) fn file_has_sys_admin(file: &File) -> bool {
    // SAFETY: `file.as_ptr()` is a valid `struct file` for the duration of the
    // borrow, and `init_user_ns` is a static object that lives forever.
    unsafe {
        bindings::file_ns_capable(
            file.as_ptr(),
            &raw mut bindings::init_user_ns,
            bindings::CAP_SYS_ADMIN as i32,
        )
    }
}

/// Bytes of RAM the page allocator manages (`totalram_pages() << PAGE_SHIFT`).
pub(crate) fn totalram_bytes() -> u64 {
    // SAFETY: `_totalram_pages` is a static `atomic_long_t`; a racy read of
    // its counter is what `totalram_pages()` does too.
    let pages = unsafe { ptr::read_volatile(&raw const bindings::_totalram_pages.counter) };
    (pages as u64) * (bindings::PAGE_SIZE as u64)
}

/// A kmem cache created on first use and destroyed at module unload.
///
/// # Invariants
///
/// `raw` is null or a cache made by `__kmem_cache_create_args` for objects of
/// `size` bytes, which this slot owns until [`CacheSlot::destroy`].
pub(crate) struct CacheSlot {
    /// The cache, or null before its first use.
    raw: AtomicPtr<bindings::kmem_cache>,
    /// Its name in /proc/slabinfo.
    name: &'static CStr,
    /// Objects allocated from the cache and not yet freed.
    objects: Atomic<i64>,
}

impl CacheSlot {
    /// A slot for a cache named `name` (the name must outlive the module).
    pub(crate) const fn new(name: &'static CStr) -> Self {
        Self {
            raw: AtomicPtr::new(ptr::null_mut()),
            name,
            objects: Atomic::new(0),
        }
    }

    /// The cache, created for objects of `size` bytes aligned to `align` if
    /// it does not exist yet. Every caller of one slot must pass the same
    /// size and alignment.
    pub(crate) fn get(&self, size: usize, align: usize) -> Result<Cache<'_>> {
        let raw = self.raw.load(Ordering::Acquire);
        if let Some(raw) = NonNull::new(raw) {
            return Ok(Cache { raw, slot: self });
        }
        let mut args = bindings::kmem_cache_args {
            align: align as u32,
            ..Default::default()
        };
        // SAFETY: `name` is a static NUL-terminated string; `args` is a valid
        // argument block; creating a cache may sleep, and we are in process
        // context (an ioctl).
        let new = unsafe {
            bindings::__kmem_cache_create_args(
                self.name.as_char_ptr(),
                size as u32,
                &mut args,
                // Never merged with another cache: each can be watched in
                // /sys/kernel/slab and fault-injected (failslab) on its own.
                (1 << bindings::_slab_flag_bits__SLAB_HWCACHE_ALIGN)
                    | (1 << bindings::_slab_flag_bits__SLAB_NO_MERGE),
            )
        };
        let new = NonNull::new(new).ok_or(ENOMEM)?;
        // Two first users may race: the loser destroys its own, still empty,
        // cache and takes the winner's.
        match self.raw.compare_exchange(
            ptr::null_mut(),
            new.as_ptr(),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => Ok(Cache {
                raw: new,
                slot: self,
            }),
            Err(winner) => {
                // SAFETY: `new` was created above and never published.
                unsafe { bindings::kmem_cache_destroy(new.as_ptr()) };
                // INVARIANT: `winner` is non-null, a published cache.
                Ok(Cache {
                    raw: NonNull::new(winner).ok_or(ENOMEM)?,
                    slot: self,
                })
            }
        }
    }

    /// The cache, if it exists (it does while any of its objects does).
    pub(crate) fn existing(&self) -> Option<Cache<'_>> {
        NonNull::new(self.raw.load(Ordering::Acquire)).map(|raw| Cache { raw, slot: self })
    }

    /// Objects allocated from this cache and not freed yet.
    pub(crate) fn objects(&self) -> i64 {
        self.objects.load(kernel::sync::atomic::Relaxed)
    }

    /// Destroys the cache, if it was created.
    ///
    /// # Safety
    ///
    /// No object of the cache may be in use or pending an RCU callback
    /// (call `rcu_barrier()` first), and no other thread may use the slot.
    pub(crate) unsafe fn destroy(&self) {
        let raw = self.raw.swap(ptr::null_mut(), Ordering::AcqRel);
        if !raw.is_null() {
            // SAFETY: `raw` is a cache this slot owned (type invariant);
            // the caller guarantees nothing uses it. A cache that still has
            // objects makes the slab allocator complain loudly: that is
            // the leak check of every unload.
            unsafe { bindings::kmem_cache_destroy(raw) };
        }
    }
}

/// A live cache of a [`CacheSlot`].
#[derive(Clone, Copy)]
pub(crate) struct Cache<'a> {
    /// The live cache.
    raw: NonNull<bindings::kmem_cache>,
    /// Its slot, which counts the objects.
    slot: &'a CacheSlot,
}

impl Cache<'_> {
    /// Allocates one object, uninitialized.
    pub(crate) fn alloc(&self) -> Result<NonNull<u8>> {
        // SAFETY: `raw` is a live cache (the slot owns it until unload, which
        // cannot happen while a user of the module runs); GFP_KERNEL is fine
        // in process context.
        let p =
            unsafe { bindings::kmem_cache_alloc_noprof(self.raw.as_ptr(), bindings::GFP_KERNEL) };
        let p = NonNull::new(p.cast::<u8>()).ok_or(ENOMEM)?;
        self.slot.objects.add(1, kernel::sync::atomic::Relaxed);
        Ok(p)
    }

    /// Returns an object to the cache.
    ///
    /// # Safety
    ///
    /// `p` came from [`Cache::alloc`] on this cache and is not used again.
    pub(crate) unsafe fn free(&self, p: NonNull<u8>) {
        self.slot.objects.add(-1, kernel::sync::atomic::Relaxed);
        // SAFETY: by the caller's guarantee.
        unsafe { bindings::kmem_cache_free(self.raw.as_ptr(), p.as_ptr().cast()) };
    }
}

/// The words of one pidmap page: `PAGE_SIZE * 8` bits.
pub(crate) type PageWords = [AtomicU64; bindings::PAGE_SIZE / 8];

/// A zeroed page from the page allocator, owned.
///
/// # Invariants
///
/// `addr` is the address of a page from `get_zeroed_page()`, owned by this value.
pub(crate) struct ZeroedPage {
    /// Its kernel virtual address.
    addr: NonNull<PageWords>,
}

/// Pidmap pages allocated and not freed yet, module-wide.
pub(crate) static PAGES: Atomic<i64> = Atomic::new(0);

impl ZeroedPage {
    /// Allocates a zeroed page (may sleep). Never inlined: fault injection
    /// aims at pidmap pages by this function's address range.
    #[inline(never)]
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: plain page allocation in process context.
        let addr = unsafe { bindings::get_zeroed_page_noprof(bindings::GFP_KERNEL) };
        let addr = NonNull::new(addr as *mut PageWords).ok_or(ENOMEM)?;
        PAGES.add(1, kernel::sync::atomic::Relaxed);
        Ok(Self { addr })
    }
}

impl Drop for ZeroedPage {
    fn drop(&mut self) {
        PAGES.add(-1, kernel::sync::atomic::Relaxed);
        // SAFETY: the page is ours (type invariant) and order 0.
        unsafe { bindings::free_pages(self.addr.as_ptr() as usize, 0) };
    }
}

/// A pidmap's page pointer: null until the page is first needed, then set
/// once and kept until the slot is dropped with its namespace.
///
/// # Invariants
///
/// `page` is null or the address of a [`ZeroedPage`] this slot owns.
pub(crate) struct PageSlot {
    /// The page, or null.
    page: AtomicPtr<PageWords>,
}

impl PageSlot {
    /// An empty slot.
    pub(crate) const fn new() -> Self {
        Self {
            page: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The page, if one was installed.
    pub(crate) fn get(&self) -> Option<&PageWords> {
        let p = self.page.load(Ordering::Acquire);
        // SAFETY: a non-null pointer is a page this slot owns until it is
        // dropped, which the `&self` borrow outlasts; its words are atomics.
        NonNull::new(p).map(|p| unsafe { p.as_ref() })
    }

    /// Installs `page` unless another thread installed one first, in which
    /// case `page` is freed. Callers serialise on the pidmap lock, as
    /// 2.6.24's alloc_pidmap() does, which `_lock` proves.
    pub(crate) fn install<G>(&self, page: ZeroedPage, _lock: &G) -> &PageWords {
        if self.page.load(Ordering::Relaxed).is_null() {
            let addr = page.addr;
            core::mem::forget(page);
            // INVARIANT: ownership of the page moves into the slot.
            self.page.store(addr.as_ptr(), Ordering::Release);
        }
        // A page was installed just above or before.
        self.get().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for PageSlot {
    fn drop(&mut self) {
        if let Some(addr) = NonNull::new(*self.page.get_mut()) {
            // INVARIANT: the slot owned this page; rebuilding the owner
            // frees it exactly once.
            drop(ZeroedPage { addr });
        }
    }
}

/// The `callback_head` an object embeds to be freed after a grace period.
pub(crate) type RcuHead = kernel::types::Opaque<bindings::callback_head>;

/// Queues `func(head)` to run after an RCU grace period.
///
/// # Safety
///
/// `head` must stay valid and unused until `func` runs, and `func` must be
/// sound to call with it then.
pub(crate) unsafe fn call_rcu(
    head: &RcuHead,
    func: unsafe extern "C" fn(*mut bindings::callback_head),
) {
    // SAFETY: by the caller's guarantee.
    unsafe { bindings::call_rcu(head.get(), Some(func)) };
}
