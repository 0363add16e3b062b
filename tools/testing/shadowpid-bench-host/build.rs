//! Builds Linux 7.3's lib/idr.c, lib/radix-tree.c and lib/xarray.c for
//! userspace with the kernel's radix-tree harness shims (the recipe of
//! tools/testing/radix-tree/Makefile + tools/testing/shared/shared.mk, minus
//! its ASan/UBSan, -Og and the sed that un-statics idr.c/radix-tree.c), plus
//! csrc/kidr.c, into libkidr.a; links liburcu (memb flavour).
use std::{env, fs, path::PathBuf};

fn main() {
    // The module's files, built here as the loom crate's host-std feature
    // builds them: without their KUnit tests (shadowpid_host), on std
    // atomics (no loom), none of the loom crate's broken variants.
    println!("cargo::rustc-check-cfg=cfg(loom)");
    println!("cargo::rustc-check-cfg=cfg(shadowpid_host)");
    println!(
        "cargo::rustc-check-cfg=cfg(feature, values(\"broken-fetch-or\", \"broken-fetch-and\", \
         \"broken-unlink-first\", \"broken-no-future\", \"broken-no-grace\", \
         \"broken-relaxed-next\", \"broken-insert-current\", \"broken-stale-pprev\"))"
    );
    println!("cargo::rustc-cfg=shadowpid_host");
    // scripts/check exports SHADOWPID_KSRC; otherwise the cache's copy
    // (scripts/kernel-source, under SHADOWPID_CACHE as scripts/lib.sh has it).
    let ksrc = env::var_os("SHADOWPID_KSRC")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = env::var_os("SHADOWPID_CACHE")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(env::var_os("HOME").expect("HOME")).join(".cache/shadowpid")
                });
            cache.join("src/linux-source-7.3")
        });
    println!("cargo::rerun-if-env-changed=SHADOWPID_CACHE");
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    println!("cargo::rerun-if-env-changed=SHADOWPID_KSRC");
    println!("cargo::rerun-if-changed=csrc");

    // The harness's generated/ headers (shared.mk), for x86_64 and the real
    // kernel's chunk shift (6: CONFIG_BASE_SMALL unset), not the harness's
    // default SHIFT=3.
    let gen = out.join("generated");
    fs::create_dir_all(&gen).unwrap();
    fs::write(gen.join("map-shift.h"), "#define XA_CHUNK_SHIFT 6\n").unwrap();
    fs::write(
        gen.join("bit-length.h"),
        "#define CONFIG_64BIT 1\n#define CONFIG_PHYS_ADDR_T_64BIT 1\n",
    )
    .unwrap();
    fs::copy(
        ksrc.join("tools/testing/shared/autoconf.h"),
        gen.join("autoconf.h"),
    )
    .unwrap();

    let t = ksrc.join("tools");
    cc::Build::new()
        // Include order matters: the overlay first (per-thread preload
        // pool), then exactly shared.mk's -I../shared -I. -I../../include
        // -I../../arch/x86/include -I../../../lib.
        .include("csrc/overlay")
        .include(t.join("testing/shared"))
        .include(&out) // for generated/*.h (the harness's "-I.")
        .include(t.join("include"))
        .include(t.join("arch/x86/include"))
        .include(ksrc.join("lib"))
        .define("_LGPL_SOURCE", None) // liburcu's inline rcu_read_lock etc.
        .opt_level(2) // not the cargo profile's (dev: -O0)
        .debug(true)
        .flag("-fno-strict-aliasing") // as the kernel builds these files
        .warnings(false) // unused statics (ida_dump, radix_tree_cpu_dead)
        .file(ksrc.join("lib/idr.c"))
        .file(ksrc.join("lib/radix-tree.c"))
        .file("csrc/xarray-nodebug.c") // lib/xarray.c without XA_DEBUG
        .file(t.join("testing/shared/linux.c")) // kmem_cache shim, nr_allocated
        .file(t.join("lib/slab.c")) // kmalloc/kfree, kmalloc_verbose
        .file(t.join("lib/find_bit.c"))
        .file(t.join("lib/bitmap.c"))
        .file(t.join("lib/hweight.c"))
        .file(t.join("lib/vsprintf.c"))
        .file("csrc/kidr.c")
        .compile("kidr");

    // After libkidr.a on the link line. liburcu.so is the memb flavour
    // (urcu.h maps rcu_* to urcu_memb_*); compat_futex_async lives in
    // liburcu-common. (glibc >= 2.34 has pthread in libc.)
    println!("cargo::rustc-link-lib=dylib=urcu");
    println!("cargo::rustc-link-lib=dylib=urcu-common");
    println!("cargo::rustc-link-lib=dylib=pthread");
}
