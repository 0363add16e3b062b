/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * shadowpid: a Linux 2.6.24 PID allocator, reimplemented in Rust, run beside
 * the native one.  This header is the one definition of the ioctl ABI of
 * /dev/shadowpid: the module and the userspace crate generate their bindings
 * from it with bindgen, and the kselftests include it.
 *
 * Every struct has a fixed size and explicit padding; fields named reserved
 * must be zero on input (else EINVAL) and are zero on output.
 */
#ifndef _UAPI_LINUX_SHADOWPID_H
#define _UAPI_LINUX_SHADOWPID_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Bumped on every incompatible change of this file. */
#define SHADOWPID_ABI_VERSION	11

/* Free in Documentation/userspace-api/ioctl/ioctl-number.rst of Linux 7.3. */
#define SHADOWPID_IOC_MAGIC	0xB9

/* Limits of the allocator, as in Linux: MAX_PID_NS_LEVEL, PID_MAX_LIMIT... */
#define SHADOWPID_MAX_LEVEL	32
#define SHADOWPID_NR_LEVELS	(SHADOWPID_MAX_LEVEL + 1)
#define SHADOWPID_PID_MAX_LIMIT	4194304
#define SHADOWPID_PID_MAX_DEFAULT 32768
#define SHADOWPID_RESERVED_PIDS	300
/* The root namespace of every universe (every open file) has id 0. */
#define SHADOWPID_ROOT_NS	0
/* Most operations one SHADOWPID_IOC_BATCH may carry. */
#define SHADOWPID_BATCH_MAX	65536

/* Task link types, as enum pid_type. */
enum shadowpid_pid_type {
	SHADOWPID_PIDTYPE_PID	= 0,
	SHADOWPID_PIDTYPE_PGID	= 1,
	SHADOWPID_PIDTYPE_SID	= 2,
	SHADOWPID_PIDTYPE_MAX	= 3,
};

/**
 * enum shadowpid_op_code - what one struct shadowpid_op asks
 *
 * Inputs not listed for an operation must be zero.  A pid is named by
 * (@ns, @nr): its number in namespace @ns.
 *
 * @SHADOWPID_OP_NS_CREATE:  create a child of namespace @ns.
 *                           Out: @value = new id, @level.
 * @SHADOWPID_OP_NS_RELEASE: drop the universe's name @ns (not 0); the
 *                           namespace lives on while pids or children use it.
 * @SHADOWPID_OP_ALLOC:      alloc_pid() in @ns.  @count entries of @nrs are
 *                           set_tid, @nrs[0] for @ns itself (as clone3).
 *                           Out: @level, @nrs[0..level] = the numbers from
 *                           the root level down, @value = number in @ns.
 * @SHADOWPID_OP_FREE:       free_pid() of (@ns, @nr).
 * @SHADOWPID_OP_FIND:       find_pid_ns().  Out: as ALLOC.
 * @SHADOWPID_OP_NEXT:       find_ge_pid(): @value = smallest used nr >= @nr.
 * @SHADOWPID_OP_NR_NS:      pid_nr_ns() of (@ns, @nr) seen from namespace
 *                           @arg[0]: @value = its number there, 0 if none.
 * @SHADOWPID_OP_SET_LAST_PID: ns_last_pid of @ns = @arg[0] (0..pid_max).
 * @SHADOWPID_OP_SET_PID_MAX: pid_max of @ns = @arg[0] (301..4194304).
 * @SHADOWPID_OP_ATTACH:     attach_pid(): task @arg[0] to (@ns, @nr) as
 *                           type @arg[1]; the task is created on first use.
 * @SHADOWPID_OP_DETACH:     detach_pid(): task @arg[0], type @arg[1]; a pid
 *                           left with no task of any type is freed.
 * @SHADOWPID_OP_TRANSFER:   transfer_pid(): type @arg[2] from task @arg[0]
 *                           to task @arg[1].
 * @SHADOWPID_OP_PID_TASK:   pid_task() of (@ns, @nr), type @arg[0]:
 *                           @value = task id.
 * @SHADOWPID_OP_GET:        get_pid() on (@ns, @nr): @value = a handle.
 * @SHADOWPID_OP_PUT:        put_pid() of handle @arg[0].
 * @SHADOWPID_OP_HANDLE_NR:  pid_nr_ns() of handle @arg[0] seen from
 *                           namespace @arg[1]: @value, 0 if none.
 * @SHADOWPID_OP_CHECK:      checks the invariants of namespace @ns: bits
 *                           set == pids with a number in it == its upids in
 *                           the hash, every nr_free right.  EUCLEAN if not.
 */
enum shadowpid_op_code {
	SHADOWPID_OP_NS_CREATE		= 1,
	SHADOWPID_OP_NS_RELEASE		= 2,
	SHADOWPID_OP_ALLOC		= 3,
	SHADOWPID_OP_FREE		= 4,
	SHADOWPID_OP_FIND		= 5,
	SHADOWPID_OP_NEXT		= 6,
	SHADOWPID_OP_NR_NS		= 7,
	SHADOWPID_OP_SET_LAST_PID	= 8,
	SHADOWPID_OP_SET_PID_MAX	= 9,
	SHADOWPID_OP_ATTACH		= 10,
	SHADOWPID_OP_DETACH		= 11,
	SHADOWPID_OP_TRANSFER		= 12,
	SHADOWPID_OP_PID_TASK		= 13,
	SHADOWPID_OP_GET		= 14,
	SHADOWPID_OP_PUT		= 15,
	SHADOWPID_OP_HANDLE_NR		= 16,
	SHADOWPID_OP_CHECK		= 17,
};

/**
 * struct shadowpid_version - answer of SHADOWPID_IOC_VERSION
 * @abi_version: SHADOWPID_ABI_VERSION of the loaded module
 * @reserved:    zero
 */
struct shadowpid_version {
	__u32 abi_version;
	__u32 reserved;
};

/**
 * struct shadowpid_op - one operation on the universe of the open file
 * @op:       enum shadowpid_op_code
 * @result:   out: 0, or a negative errno
 * @ns:       namespace id
 * @nr:       pid number in @ns
 * @arg:      per-operation inputs (see enum shadowpid_op_code)
 * @count:    ALLOC: number of set_tid entries in @nrs (0..level+1)
 * @value:    out: per-operation scalar answer
 * @level:    out: level of the namespace or pid
 * @reserved: must be zero
 * @nrs:      in: set_tid (most nested first); out: numbers (root first)
 * @reserved2: must be zero
 */
struct shadowpid_op {
	__u32 op;
	__s32 result;
	__u32 ns;
	__s32 nr;
	__u32 arg[3];
	__u32 count;
	__s64 value;
	__u32 level;
	__u32 reserved;
	__s32 nrs[SHADOWPID_NR_LEVELS];
	__u32 reserved2;
};

/**
 * struct shadowpid_batch - many operations in one call
 * @ops:      user address of an array of @count struct shadowpid_op; each
 *            one's @result and outputs are written back in place
 * @count:    1..SHADOWPID_BATCH_MAX
 * @done:     out: operations carried out (all, unless a signal came)
 * @flags:    SHADOWPID_BATCH_STOP_ON_ERROR, or 0
 * @failed:   out: operations whose @result is an errno
 *
 * The ioctl itself fails only when the batch cannot be read or written
 * (EFAULT) or its header is invalid (EINVAL); per-operation errors are in
 * each @result.
 */
struct shadowpid_batch {
	__u64 ops;
	__u32 count;
	__u32 done;
	__u32 flags;
	__u32 failed;
};

#define SHADOWPID_BATCH_STOP_ON_ERROR	(1U << 0)

/* Flags of struct shadowpid_stats. */
#define SHADOWPID_NS_ACCEPTING	(1U << 0)	/* takes new pids */
#define SHADOWPID_NS_HAS_REAPER	(1U << 1)	/* has had its pid 1 */

/**
 * struct shadowpid_stats - SHADOWPID_IOC_STATS of namespace @ns
 * @ns:            in: namespace id
 * @level:         its level
 * @flags:         SHADOWPID_NS_*
 * @live_pids:     pids with a number in it
 * @pidmap_pages:  bitmap pages allocated for it
 * @last_pid:      as /proc/sys/kernel/ns_last_pid
 * @pid_max:       its pid_max
 * @hash_buckets:  buckets of the (module-wide) pid hash
 * @hash_longest:  longest chain in the pid hash, now
 * @hash_entries:  upids hashed, module-wide
 * @bytes:         memory of this namespace: itself, its pidmap pages, and
 *                 the struct pid (with its hash links) of its live pids
 * @universe_pids: live pids in the universe
 * @universe_namespaces: live namespaces in the universe
 * @module_pids:   struct pid objects in the module's caches, all universes
 *                 (freed ones count until their RCU grace period ends)
 * @module_namespaces: namespace objects in the module's cache, all universes
 * @module_pages:  pidmap pages allocated, all universes
 * @reserved:      zero
 */
struct shadowpid_stats {
	__u32 ns;
	__u32 level;
	__u32 flags;
	__u32 live_pids;
	__u32 pidmap_pages;
	__s32 last_pid;
	__s32 pid_max;
	__u32 hash_buckets;
	__u32 hash_longest;
	__u32 hash_entries;
	__u64 bytes;
	__u32 universe_pids;
	__u32 universe_namespaces;
	__u32 module_pids;
	__u32 module_namespaces;
	__u32 module_pages;
	__u32 reserved;
};

/*
 * In-kernel benchmark: three columns timed in the same call, on the same
 * machine, in the same state. The shadow; the rebuild, a native-style
 * allocator built in the module from the 7.3 primitives (IDR under one
 * spinlock, struct pid from a per-depth kmem cache, freed after an RCU grace
 * period), the controlled column; and the kernel, the running kernel's own
 * alloc_pid(), free_pid(), find_pid_ns() and find_ge_pid(), called in the
 * caller's own PID namespace. See Documentation/shadowpid/bench.rst.
 */
#define SHADOWPID_BENCH_MAX_REPS	16

/**
 * enum shadowpid_bench_figure - what one SHADOWPID_IOC_BENCH measures
 * Each repetition times @iterations operations; the time per operation is
 * reported in picoseconds (ps), per column.
 * @SHADOWPID_BENCH_NUMBERS:  alloc_pidmap + free_pidmap against
 *                            idr_alloc_cyclic + idr_remove at @depth's
 *                            leaf, per pair (no kernel column: the kernel
 *                            has no such call).
 * @SHADOWPID_BENCH_FULL:     alloc_pid + free_pid at @depth (1..32), per pair.
 * @SHADOWPID_BENCH_LOOKUP:   find_pid_ns, @live pids live, per lookup.
 * @SHADOWPID_BENCH_WALK:     find_ge_pid over @live live pids, per pid found.
 * @SHADOWPID_BENCH_CONTENTION: alloc_pid + free_pid pairs at @depth on
 *                            @cpus kernel threads pinned one per CPU in one
 *                            namespace: wall time / all pairs.
 * @SHADOWPID_BENCH_WORST:    @pid_max with every number but one taken: the
 *                            allocation that finds the hole (and the free
 *                            before it), the cursor just past the hole;
 *                            @work = the most pages visited and words
 *                            scanned by one allocation (no kernel column).
 * @SHADOWPID_BENCH_MEMORY:   bytes for @live live pids at the leaf (no
 *                            timing): @shadow_bytes, @rebuild_bytes,
 *                            @kernel_bytes.
 * @SHADOWPID_BENCH_FLOOR:    an atomic test-and-set + clear pair on one
 *                            word (shadow column only).
 * @SHADOWPID_BENCH_OCCUPANCY: alloc + free pairs of numbers with @pid_max
 *                            and @occupancy parts per million of the numbers
 *                            below it taken, scattered (no kernel column).
 * @SHADOWPID_BENCH_LOOKUP_READ: as LOOKUP, and the number of the pid found
 *                            is read from it, as every caller of
 *                            find_pid_ns() goes on to do.
 * @SHADOWPID_BENCH_LOOKUP_MISS: as LOOKUP, for numbers no pid has: the
 *                            holes of a SCATTERED layout, the @live numbers
 *                            just past a DENSE one.
 *
 * The lookups go over keys drawn before the timed loop (every live number
 * once, shuffled, then again, up to @iterations), every column through an
 * out-of-line call; the same loop over the same keys calling an empty
 * out-of-line function is timed beside them (@baseline_ps).
 */
enum shadowpid_bench_figure {
	SHADOWPID_BENCH_NUMBERS		= 1,
	SHADOWPID_BENCH_FULL		= 2,
	SHADOWPID_BENCH_LOOKUP		= 3,
	SHADOWPID_BENCH_WALK		= 4,
	SHADOWPID_BENCH_CONTENTION	= 5,
	SHADOWPID_BENCH_WORST		= 6,
	SHADOWPID_BENCH_MEMORY		= 7,
	SHADOWPID_BENCH_FLOOR		= 8,
	SHADOWPID_BENCH_OCCUPANCY	= 9,
	SHADOWPID_BENCH_LOOKUP_READ	= 10,
	SHADOWPID_BENCH_LOOKUP_MISS	= 11,
};

/**
 * enum shadowpid_bench_layout - the state of the namespaces a figure runs in
 *
 * NUMBERS, FULL, LOOKUP, LOOKUP_READ, WALK, CONTENTION and MEMORY build
 * @depth namespaces, each with its init. When the caller's PID namespace is
 * at level @depth - 1, the shadow and the rebuild first take the numbers
 * the caller's real namespaces hold, level by level, with their cursors and
 * pid_max, so that level 0 is the machine's initial namespace as it is (and
 * only then does the kernel column run, in the caller's namespace). Then
 * @live pids are added at the most nested level of every column, laid out
 * as follows.
 * @SHADOWPID_BENCH_DENSE:     @live pids allocated one after the other.
 * @SHADOWPID_BENCH_SCATTERED: 2 * @live allocated, every other one freed:
 *                             50 % of a range twice as wide.
 * @SHADOWPID_BENCH_SWEPT:     MEMORY only: the cursor first goes once all
 *                             the way round the namespace's pid_max (each
 *                             number allocated and freed, from the cursor
 *                             to pid_max, then from the wrap back to where
 *                             it started), then @live are added.
 * @SHADOWPID_BENCH_POPULATED: NUMBERS, FULL, CONTENTION (@live 0): the
 *                             leaf's numbers from RESERVED_PIDS (300) up to
 *                             its pid_max taken at @occupancy parts per
 *                             million (a fixed scatter of the numbers, the
 *                             same in every column; numbers already taken
 *                             stay so), the cursor back at RESERVED_PIDS:
 *                             the timed cursor runs through a populated
 *                             namespace and wraps inside it, as on a
 *                             machine that has been up a while.
 */
enum shadowpid_bench_layout {
	SHADOWPID_BENCH_DENSE		= 0,
	SHADOWPID_BENCH_SCATTERED	= 1,
	SHADOWPID_BENCH_SWEPT		= 2,
	SHADOWPID_BENCH_POPULATED	= 3,
};

/*
 * Rows of @parts_ps of struct shadowpid_bench: FULL's pair cut short, each
 * timed as a further column in the same repetitions, so that the pair's
 * steps are differences paired per repetition.
 *
 * @SHADOWPID_BENCH_PART_SHADOW_NUMBERS:  the shadow's first step alone: a
 *                                        number at every level, taken and
 *                                        given back (alloc_pidmap(),
 *                                        free_pidmap())
 * @SHADOWPID_BENCH_PART_SHADOW_OBJECT:   the first two: the struct pid too,
 *                                        made and freed after a grace
 *                                        period as free_pid() frees it; not
 *                                        hashed
 * @SHADOWPID_BENCH_PART_REBUILD_NUMBERS: the rebuild's first step alone:
 *                                        idr_alloc_cyclic() at every level
 *                                        after idr_preload(), under the
 *                                        lock, then idr_remove() of each
 *                                        under it
 * @SHADOWPID_BENCH_PART_REBUILD_OBJECT:  the first two: alloc_pid() and
 *                                        free_pid() without the
 *                                        idr_replace()s that publish the pid
 *                                        (and the namespaces' counts)
 */
enum shadowpid_bench_part {
	SHADOWPID_BENCH_PART_SHADOW_NUMBERS	= 0,
	SHADOWPID_BENCH_PART_SHADOW_OBJECT	= 1,
	SHADOWPID_BENCH_PART_REBUILD_NUMBERS	= 2,
	SHADOWPID_BENCH_PART_REBUILD_OBJECT	= 3,
	SHADOWPID_BENCH_PARTS			= 4,
};

/* Bits of @columns: which columns ran. */
#define SHADOWPID_BENCH_SHADOW		(1U << 0)
#define SHADOWPID_BENCH_REBUILD		(1U << 1)
#define SHADOWPID_BENCH_KERNEL		(1U << 2)

/**
 * struct shadowpid_bench - SHADOWPID_IOC_BENCH
 * @figure:     enum shadowpid_bench_figure
 * @reps:       repetitions, 1..SHADOWPID_BENCH_MAX_REPS
 * @iterations: operations per repetition, 1..16777216
 * @live:       NUMBERS, FULL, CONTENTION: pids added before timing,
 *              0..1048576;
 *              LOOKUP, LOOKUP_READ, WALK, MEMORY: 1..1048576
 * @depth:      NUMBERS, FULL, CONTENTION, LOOKUP, LOOKUP_READ, WALK,
 *              MEMORY: namespace depth, 1..SHADOWPID_MAX_LEVEL (0 reads
 *              as 1)
 * @cpus:       CONTENTION: threads, 1..online CPUs
 * @occupancy:  OCCUPANCY, and the POPULATED layout: parts per million of
 *              the numbers taken, 0..999999
 * @pid_max:    WORST, OCCUPANCY: pid_max of the namespace, 301..4194304
 * @layout:     enum shadowpid_bench_layout of the @live pids
 * @columns:    in: 0 (every column that can run), or SHADOWPID_BENCH_SHADOW
 *              | _REBUILD to leave the kernel's out (the state is the same);
 *              out: SHADOWPID_BENCH_SHADOW | _REBUILD | _KERNEL, those that
 *              ran. The kernel column runs where the kernel has the
 *              function, the caller's PID namespace is at level @depth - 1,
 *              and the running kernel's alloc_pid() and free_pid() could be
 *              resolved and called (not under IBT, which seals them).
 * @shadow_ps:  out: per repetition, ps per operation of the shadow
 * @rebuild_ps: out: the same for the rebuild
 * @kernel_ps:  out: the same for the running kernel
 * @work:       out: WORST: [0] pages visited, [1] words scanned (the most
 *              of one allocation); others: zero
 * @shadow_bytes: out: MEMORY: bytes the shadow spends on the @live pids:
 *              the leaf's pidmap pages, struct pids (their task lists
 *              included), and the pid hash's buckets
 * @rebuild_bytes: out: MEMORY: the same of the rebuild: the leaf IDR's
 *              nodes, struct pids
 * @kernel_bytes: out: MEMORY: the same of the running kernel: the leaf
 *              IDR's nodes, struct pids (slab objects of its pid cache),
 *              and the @live pids' share of pidfs's table of every pid
 *              (@pidfs_bytes x @live / @pidfs_entries)
 * @shadow_drain_ps: out: per repetition, the rcu_barrier() after the
 *              shadow's repetition (the frees it queued behind a grace
 *              period, and the grace period), ps per operation of that
 *              repetition; not in @shadow_ps
 * @rebuild_drain_ps: out: the same after the rebuild's
 * @kernel_drain_ps: out: the same after the kernel's
 * @baseline_ps: out: LOOKUP, LOOKUP_READ, LOOKUP_MISS: per repetition, ps
 *              per key of the same loop over the same keys calling an empty
 *              out-of-line function
 * @pidfs_bytes: out: MEMORY: bytes of pidfs's table of every pid on the
 *              machine (its rhashtable's bucket array) once the kernel
 *              column's @live pids were added; 0 if it could not be read
 *              (the kernel lacks CONFIG_KALLSYMS_ALL)
 * @pidfs_entries: out: MEMORY: the pids in that table then
 * @pidfs_ps:   out: FULL, where the kernel column ran and pidfs's functions
 *              could be resolved (else zero): per repetition, ps per pid of
 *              pidfs's part of the kernel's pair alone (pidfs_remove_pid()
 *              then pidfs_add_pid() of one pid of the kernel column's
 *              namespace, as free_pid() and alloc_pid() call them), timed as
 *              a fourth column in the same orders; in @kernel_ps too
 * @parts_ps:   out: FULL: per enum shadowpid_bench_part, per repetition, ps
 *              per pair of that part, timed as further columns in the same
 *              orders; others: zero
 * Inputs a figure does not read must be zero; a WALK's @iterations x @live
 * is at most 2^26.  The ioctl sleeps and may take seconds; a signal ends it
 * with EINTR. EBUSY while another benchmark runs or the live mirror is
 * attached (its hooks would time themselves on two columns of three);
 * ENOSPC if the kernel column would leave fewer than 1,324 numbers free in
 * the initial namespace (the machine's own forks use it; nested levels are
 * the caller's).
 */
struct shadowpid_bench {
	__u32 figure;
	__u32 reps;
	__u32 iterations;
	__u32 live;
	__u32 depth;
	__u32 cpus;
	__u32 occupancy;
	__u32 pid_max;
	__u32 layout;
	__u32 columns;
	__u64 shadow_ps[SHADOWPID_BENCH_MAX_REPS];
	__u64 rebuild_ps[SHADOWPID_BENCH_MAX_REPS];
	__u64 kernel_ps[SHADOWPID_BENCH_MAX_REPS];
	__u64 work[2];
	__u64 shadow_bytes;
	__u64 rebuild_bytes;
	__u64 kernel_bytes;
	__u64 shadow_drain_ps[SHADOWPID_BENCH_MAX_REPS];
	__u64 rebuild_drain_ps[SHADOWPID_BENCH_MAX_REPS];
	__u64 kernel_drain_ps[SHADOWPID_BENCH_MAX_REPS];
	__u64 baseline_ps[SHADOWPID_BENCH_MAX_REPS];
	__u64 pidfs_bytes;
	__u64 pidfs_entries;
	__u64 pidfs_ps[SHADOWPID_BENCH_MAX_REPS];
	__u64 parts_ps[SHADOWPID_BENCH_PARTS][SHADOWPID_BENCH_MAX_REPS];
};

/**
 * enum shadowpid_mirror_cmd - what one SHADOWPID_IOC_MIRROR asks
 *
 * The live mirror is module-wide: attached, it follows every pid number the
 * running kernel allocates or frees, in every PID namespace, at every level,
 * and asks the 2.6.24 allocator which number it would have handed out.
 *
 * @SHADOWPID_MIRROR_STATUS:  the report only (of the current attachment, or
 *                            of the last one).
 * @SHADOWPID_MIRROR_ATTACH:  attach it to this file: EBUSY if it is
 *                            attached already or a benchmark runs.  It
 *                            detaches with DETACH or when this file is
 *                            closed.  The counters start from zero.  It is
 *                            armed once every hook is registered, and
 *                            disarmed before any is removed.
 * @SHADOWPID_MIRROR_DETACH:  detach it (only the file that attached it:
 *                            ENOENT otherwise).  No probe is left after.
 * @SHADOWPID_MIRROR_PERTURB: for tests of the detector: at the next fork in
 *                            the namespace whose inode number is @arg, the
 *                            shadow first takes the number it would hand
 *                            out, so it diverges there once (then it is
 *                            resynchronised).  ENOENT if not attached.
 * @SHADOWPID_MIRROR_PERTURB_CURSOR: the same, but the shadow's own cursor
 *                            is moved one number on before that fork, as
 *                            if the kernel's had moved unexplained: the
 *                            fork is a cursor divergence.
 *
 * STATUS, ATTACH and the PERTURBs need CAP_SYS_ADMIN in the initial user
 * namespace of the caller (not only of the file's opener): EPERM otherwise.
 */
enum shadowpid_mirror_cmd {
	SHADOWPID_MIRROR_STATUS		= 0,
	SHADOWPID_MIRROR_ATTACH		= 1,
	SHADOWPID_MIRROR_DETACH		= 2,
	SHADOWPID_MIRROR_PERTURB	= 3,
	SHADOWPID_MIRROR_PERTURB_CURSOR	= 4,
};

/* Kinds of events, indexes of @events and @missed of struct shadowpid_mirror. */
enum shadowpid_mirror_event {
	SHADOWPID_MIRROR_EV_CYCLIC	= 0,	/* a number from the cycle (fork) */
	SHADOWPID_MIRROR_EV_SET_TID	= 1,	/* a number asked for (clone3 set_tid) */
	SHADOWPID_MIRROR_EV_FREE	= 2,	/* a number given back */
	SHADOWPID_MIRROR_EV_NS_GONE	= 3,	/* a namespace destroyed */
	SHADOWPID_MIRROR_EV_CURSOR	= 4,	/* ns_last_pid written */
	SHADOWPID_MIRROR_EV_KINDS	= 5,
};

/* Divergences kept in the report: the first ones. */
#define SHADOWPID_MIRROR_LOG	16
/* Untracked namespaces named in the report: the first ones. */
#define SHADOWPID_MIRROR_UNTRACKED	8

/*
 * What the mirror held the kernel's pidmap_lock for, rows of @hold of
 * struct shadowpid_mirror: the handler of one allocation or removal (the
 * time it adds to the kernel's own locked region), and the end of one
 * namespace's copy (the numbers walked without the lock, then the events
 * of the walk replayed with it held).
 */
enum shadowpid_mirror_hold {
	SHADOWPID_MIRROR_HOLD_EVENT	= 0,
	SHADOWPID_MIRROR_HOLD_COPY	= 1,
	SHADOWPID_MIRROR_HOLDS		= 2,
};

/*
 * Buckets of a row of @hold: bucket b < 4 counts durations of b ns; above,
 * four buckets per power of two, bucket b counting [lo, next lo) with
 * lo = (4 + b % 4) << (b / 4 - 1) ns; the last one everything longer.
 */
#define SHADOWPID_MIRROR_HOLD_BUCKETS	100

/**
 * struct shadowpid_mirror_divergence - one fork where the two disagreed
 * @ns_inum:   the namespace's inode number (as /proc/PID/ns/pid)
 * @level:     its level (0: the initial namespace)
 * @cursor:    the kernel's cursor when the fork started (one past its last
 *             number)
 * @shadow_nr: the number the 2.6.24 allocator would have handed out, -1 for
 *             none (full)
 * @kernel_nr: the number the kernel handed out, or -errno
 * @shadow_cursor: the cursor the shadow had (its own last_pid + 1, or 0 if
 *             alloc_pid() reset the kernel's); equal to @cursor unless the
 *             kernel's moved unexplained
 */
struct shadowpid_mirror_divergence {
	__u32 ns_inum;
	__u32 level;
	__s32 cursor;
	__s32 shadow_nr;
	__s32 kernel_nr;
	__s32 shadow_cursor;
};

/**
 * struct shadowpid_mirror - SHADOWPID_IOC_MIRROR
 * @cmd:      enum shadowpid_mirror_cmd
 * @attached: out: 1 while a mirror is attached
 * @arg:      PERTURB: the namespace's inode number; otherwise zero
 * @events:   out: events seen, by enum shadowpid_mirror_event
 * @missed:   out: events the kernel's probes missed (nmissed), by kind
 * @ns_mirrored: out: namespaces given a shadow
 * @ns_live:  out: shadows now
 * @compared: out: forks whose number the shadow predicted
 * @matched:  out: ... and got the kernel's
 * @diverged: out: ... and did not (see @log)
 * @forced:   out: set_tid allocations (2.6.24 has none: recorded, not compared)
 * @cursor_jumps: out: kernel cursors moved between two allocations where
 *            the hooks saw why (an ns_last_pid write, alloc_pid()'s reset
 *            before a namespace's first pid): followed, not divergences
 * @cursor_diverged: out: forks where the kernel's cursor was not the
 *            shadow's and nothing explains it (in @diverged too)
 * @unattributed: out: calls whose caller could not be read (behind another
 *            kretprobe's trampoline, its record not found): not compared
 * @missed_resyncs: out: times a missed event (@missed grew) marked every
 *            shadow for a resync: a lost event is reported as missed,
 *            never as a divergence
 * @missed_write_forks: out: forks whose number or cursor no hook explained,
 *            put down to an ns_last_pid write the hooks missed (at most one
 *            fork a missed write; it may land after the resync its miss
 *            caused): not compared, not divergences
 * @resyncs:  out: shadows sent to be copied again from the kernel's IDR
 *            (after a divergence, an inconsistency, a missed event or a
 *            page the pool did not have)
 * @atomic_failures: out: pages the handlers needed and the mirror's pool
 *            (refilled outside them) did not have; the namespace is
 *            copied again
 * @skipped:  out: allocations not compared (the kernel's own retry after
 *            an IDR ENOMEM, or a namespace while it is being copied)
 * @log_count: out: entries of @log filled
 * @reserved: zero
 * @log:      out: the first divergences
 * @ns_untracked: out: namespaces the mirror could not track (no shadow ready
 *            for them at their first event, or copies that never settled):
 *            their forks are not compared, and ``mirror run`` fails
 * @copies:   out: namespace copies completed (first copies and resyncs)
 * @copy_restarts: out: copies begun again (more events during the walk than
 *            its log holds, a missed event, or no page for the replay)
 * @pages:    out: pages the mirror holds (its shadows' maps and its pool)
 * @ns_copying: out: shadows being copied now (their forks not compared)
 * @refill_failures: out: allocations of the mirror's work item that failed
 *            (pages for the pool, spare shadows, room for shadows, a copy's
 *            map): tried again at its next run
 * @untracked_count: out: entries of @untracked filled
 * @reserved2: zero
 * @untracked: out: inode numbers of the first untracked namespaces
 * @hold_max: out: the longest hold of each row of @hold, ns
 * @hold:     out: how long the mirror held pidmap_lock, by enum
 *            shadowpid_mirror_hold, in SHADOWPID_MIRROR_HOLD_BUCKETS buckets
 * Every counter counts from the last ATTACH. STATUS shows a caller whose
 * pid namespace is not the initial one only the namespaces at or below its
 * own (@log, @untracked), their levels counted from it.
 */
struct shadowpid_mirror {
	__u32 cmd;
	__u32 attached;
	__u64 arg;
	__u64 events[SHADOWPID_MIRROR_EV_KINDS];
	__u64 missed[SHADOWPID_MIRROR_EV_KINDS];
	__u64 ns_mirrored;
	__u64 ns_live;
	__u64 compared;
	__u64 matched;
	__u64 diverged;
	__u64 forced;
	__u64 cursor_jumps;
	__u64 resyncs;
	__u64 atomic_failures;
	__u64 skipped;
	__u64 cursor_diverged;
	__u64 unattributed;
	__u64 missed_resyncs;
	__u64 missed_write_forks;
	__u32 log_count;
	__u32 reserved;
	struct shadowpid_mirror_divergence log[SHADOWPID_MIRROR_LOG];
	__u64 ns_untracked;
	__u64 copies;
	__u64 copy_restarts;
	__u64 pages;
	__u64 ns_copying;
	__u64 refill_failures;
	__u32 untracked_count;
	__u32 reserved2;
	__u32 untracked[SHADOWPID_MIRROR_UNTRACKED];
	__u64 hold_max[SHADOWPID_MIRROR_HOLDS];
	__u64 hold[SHADOWPID_MIRROR_HOLDS][SHADOWPID_MIRROR_HOLD_BUCKETS];
};

#define SHADOWPID_IOC_VERSION	_IOR(SHADOWPID_IOC_MAGIC, 0x00, struct shadowpid_version)
#define SHADOWPID_IOC_OP	_IOWR(SHADOWPID_IOC_MAGIC, 0x01, struct shadowpid_op)
#define SHADOWPID_IOC_BATCH	_IOWR(SHADOWPID_IOC_MAGIC, 0x02, struct shadowpid_batch)
#define SHADOWPID_IOC_STATS	_IOWR(SHADOWPID_IOC_MAGIC, 0x03, struct shadowpid_stats)
#define SHADOWPID_IOC_BENCH	_IOWR(SHADOWPID_IOC_MAGIC, 0x04, struct shadowpid_bench)
#define SHADOWPID_IOC_MIRROR	_IOWR(SHADOWPID_IOC_MAGIC, 0x05, struct shadowpid_mirror)
/*
 * Waits for the module's deferred work queued before the call: a pid hash
 * resize queued or running, then every RCU callback (rcu_barrier()), the
 * frees of the pids freed so far among them.  No argument.  Afterwards the
 * module-wide counts of SHADOWPID_IOC_STATS hold only what is still in use.
 */
#define SHADOWPID_IOC_BARRIER	_IO(SHADOWPID_IOC_MAGIC, 0x06)

#endif /* _UAPI_LINUX_SHADOWPID_H */
