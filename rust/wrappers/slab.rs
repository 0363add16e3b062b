// SPDX-License-Identifier: GPL-2.0

//! kmem caches created on first use and destroyed at module unload.
//!
//! A [`CacheSlot`] names a cache and fixes its object size and alignment when
//! it is declared; the cache itself is made the first time an object is
//! needed, under one module-wide mutex, as 2.6.24's `create_pid_cachep()`
//! and 7.3's `create_pid_cachep()` ("name collision forces to do allocation
//! under mutex") do: two first users must not both create a cache of the same
//! name, or the loser's destruction would take the winner's
//! `/sys/kernel/slab/NAME` (and its per-cache failslab switch) with it.

use super::percpu_counter::PercpuCounter;
use core::{
    ptr::{self, NonNull},
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{bindings, prelude::*};

kernel::sync::global_lock! {
    // SAFETY: `init()` runs in the module initializer, before any cache can
    // be asked for.
    /// Serialises cache creation (`create_pid_cachep`'s mutex).
    unsafe(uninit) static CACHE_CREATION: Mutex<()> = ();
}

/// Sets up the creation mutex.
///
/// # Safety
///
/// Called once, from the module initializer, before any [`CacheSlot::get`].
pub(crate) unsafe fn init() {
    // SAFETY: once, before any use (the caller's guarantee).
    unsafe { CACHE_CREATION.init() };
}

/// Longest cache name, its NUL included.
const NAME_LEN: usize = 32;

/// A cache name, NUL-terminated, stored in the slot itself: the slab
/// allocator keeps the pointer for the cache's life.
pub(crate) struct CacheName([u8; NAME_LEN]);

impl CacheName {
    /// `name` as it is (at most `NAME_LEN - 1` bytes, checked at build time).
    pub(crate) const fn new(name: &str) -> Self {
        Self::numbered(name, None)
    }

    /// `prefix` followed by `n` in decimal (`"pid_%u"`), or `prefix` alone.
    pub(crate) const fn numbered(prefix: &str, n: Option<usize>) -> Self {
        let mut out = [0u8; NAME_LEN];
        let p = prefix.as_bytes();
        let mut len = 0;
        while len < p.len() {
            out[len] = p[len];
            len += 1;
        }
        if let Some(n) = n {
            let mut digits = 1;
            let mut rest = n / 10;
            while rest > 0 {
                digits += 1;
                rest /= 10;
            }
            let mut rest = n;
            let mut i = digits;
            while i > 0 {
                i -= 1;
                out[len + i] = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
            len += digits;
        }
        // Room for the NUL: a longer name fails the build.
        assert!(len < NAME_LEN);
        Self(out)
    }

    /// The name for C.
    fn as_char_ptr(&self) -> *const c_char {
        self.0.as_ptr().cast()
    }
}

/// A kmem cache of objects of one size, created on first use.
///
/// # Invariants
///
/// `raw` is null, or a cache made by `__kmem_cache_create_args` from `name`,
/// `size` and `align`, owned by the slot until [`CacheSlot::destroy`]; while
/// it is non-null, `objects` is initialised and counts the objects allocated
/// from it and not freed.
pub(crate) struct CacheSlot {
    /// The cache, or null before its first use.
    raw: AtomicPtr<bindings::kmem_cache>,
    /// Its name in /proc/slabinfo and /sys/kernel/slab.
    name: CacheName,
    /// Object size, bytes.
    size: usize,
    /// Object alignment, bytes.
    align: usize,
    /// Live objects: per CPU, so that counting costs the hot path no shared
    /// atomic (the slab allocator counts the same objects its own way).
    objects: PercpuCounter,
}

impl CacheSlot {
    /// A slot for a cache `name` of objects of `size` bytes aligned to `align`.
    pub(crate) const fn new(name: CacheName, size: usize, align: usize) -> Self {
        Self {
            raw: AtomicPtr::new(ptr::null_mut()),
            name,
            size,
            align,
            objects: PercpuCounter::new(),
        }
    }

    /// The cache, created if it does not exist yet (may sleep).
    pub(crate) fn get(&'static self) -> Result<Cache> {
        if let Some(cache) = self.existing() {
            return Ok(cache);
        }
        let _creating = CACHE_CREATION.lock();
        // Someone else may have made it while we waited.
        if let Some(cache) = self.existing() {
            return Ok(cache);
        }
        // SAFETY: the cache does not exist, so neither does its counter; the
        // creation mutex keeps every other creator out; `self` is static.
        unsafe { self.objects.init(kernel::static_lock_class!())? };
        let mut args = bindings::kmem_cache_args {
            align: self.align as u32,
            ..Default::default()
        };
        // SAFETY: `name` is NUL-terminated and lives as long as the slot
        // (static), longer than the cache; `args` is a valid argument block;
        // creating a cache may sleep, and we are in process context.
        let new = unsafe {
            bindings::__kmem_cache_create_args(
                self.name.as_char_ptr(),
                self.size as u32,
                &mut args,
                // Never merged with another cache: each can be watched in
                // /sys/kernel/slab and fault-injected (failslab) on its own.
                (1 << bindings::_slab_flag_bits__SLAB_HWCACHE_ALIGN)
                    | (1 << bindings::_slab_flag_bits__SLAB_NO_MERGE),
            )
        };
        let Some(new) = NonNull::new(new) else {
            // SAFETY: initialised just above, used by nobody.
            unsafe { self.objects.destroy() };
            return Err(ENOMEM);
        };
        // INVARIANT: published once, under the creation mutex, with its
        // counter initialised before.
        self.raw.store(new.as_ptr(), Ordering::Release);
        Ok(Cache {
            raw: new,
            slot: self,
        })
    }

    /// The cache, if it exists (it does while any of its objects does).
    pub(crate) fn existing(&'static self) -> Option<Cache> {
        NonNull::new(self.raw.load(Ordering::Acquire)).map(|raw| Cache { raw, slot: self })
    }

    /// Returns `p` to the cache. A missing cache breaks the invariant that
    /// a cache outlives its objects: that is warned about, and the object
    /// leaked rather than handed to the wrong allocator.
    ///
    /// # Safety
    ///
    /// `p` came from [`Cache::alloc`] on this slot's cache and is not used
    /// again.
    pub(crate) unsafe fn free(&'static self, p: NonNull<u8>) {
        match self.existing() {
            // SAFETY: by the caller's guarantee.
            Some(cache) => unsafe { cache.free(p) },
            None => {
                kernel::warn_on!(true);
            }
        }
    }

    /// Objects allocated from this cache and not freed yet.
    pub(crate) fn objects(&'static self) -> i64 {
        match self.existing() {
            // SAFETY: the cache exists, so its counter is initialised (type
            // invariant), and it is only destroyed at unload.
            Some(_) => unsafe { self.objects.sum() },
            None => 0,
        }
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
            // SAFETY: `raw` is a cache this slot owned, with its counter
            // (type invariant); the caller guarantees nothing uses them. A
            // cache that still has objects makes the slab allocator complain
            // loudly: that is the leak check of every unload.
            unsafe {
                bindings::kmem_cache_destroy(raw);
                self.objects.destroy();
            }
        }
    }
}

/// A live cache of a [`CacheSlot`].
///
/// # Invariants
///
/// `raw` is the slot's published cache, alive until module unload, which
/// cannot happen while a user of the module runs.
#[derive(Clone, Copy)]
pub(crate) struct Cache {
    raw: NonNull<bindings::kmem_cache>,
    /// Its slot, which counts the objects.
    slot: &'static CacheSlot,
}

impl Cache {
    /// Allocates one object, uninitialized (may sleep).
    pub(crate) fn alloc(&self) -> Result<NonNull<u8>> {
        // SAFETY: `raw` is a live cache (type invariant); GFP_KERNEL is fine
        // in process context.
        let p =
            unsafe { bindings::kmem_cache_alloc_noprof(self.raw.as_ptr(), bindings::GFP_KERNEL) };
        let p = NonNull::new(p.cast::<u8>()).ok_or(ENOMEM)?;
        // SAFETY: the cache is published, so its counter is initialised.
        unsafe { self.slot.objects.add(1) };
        Ok(p)
    }

    /// Returns an object to the cache (any context).
    ///
    /// # Safety
    ///
    /// `p` came from [`Cache::alloc`] on this cache and is not used again.
    pub(crate) unsafe fn free(&self, p: NonNull<u8>) {
        // SAFETY: the cache is published, so its counter is initialised; `p`
        // is ours to free (the caller's guarantee).
        unsafe {
            self.slot.objects.add(-1);
            bindings::kmem_cache_free(self.raw.as_ptr(), p.as_ptr().cast());
        }
    }
}
