/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live mirror's hooks: the C side of rust/mirror/probes.rs.
 *
 * Every number of a pid namespace is taken and given back by the IDR calls
 * of kernel/pid.c, all under pidmap_lock: idr_alloc_cyclic() (a fork),
 * idr_alloc() (clone3's set_tid) in alloc_pid(), idr_remove() in
 * free_pid() and in alloc_pid()'s failure path. Kretprobes on the two
 * allocations and a kprobe on the removal, each keeping only the calls made
 * from alloc_pid(), free_pid() or free_pids() (by the caller's return
 * address, against the ranges of those functions resolved at register
 * time), hand every event to the mirror's Rust handlers while pidmap_lock
 * is still held, so in the order the kernel made them. A kprobe on
 * idr_destroy() tells when a namespace goes (destroy_pid_namespace()), and
 * one on pid_ns_ctl_handler() when ns_last_pid is written (the one way,
 * beside alloc_pid()'s reset before a namespace's first pid, that the
 * kernel's cursor moves without an allocation).
 *
 * A caller is read from the return address on the stack at entry, or,
 * where a kretprobe registered before ours has replaced it with its
 * trampoline, from that kretprobe's record (rethook_find_ret_addr()); each
 * clone of a caller the compiler made (.cold, .part.N, .isra.N,
 * .constprop.N) counts as the caller. An address that cannot be read is
 * counted (unattributed), never dropped silently. x86-64 only.
 *
 * The entry handlers run where x86 takes a breakpoint: in NMI context, where
 * no lock may be taken. They only record the call (its arguments and the
 * IDR's cursor). The mirror's handlers run from the return handlers, in the
 * context of the probed function: preemption off, no lock but the kernel's
 * pidmap_lock held (for the allocations and removals).
 *
 * The Rust side owns all the mirror's logic; this file only hooks, reads
 * registers and reads the fields of a struct pid_namespace.
 */
#ifndef SHADOWPID_MIRROR_PROBES_H
#define SHADOWPID_MIRROR_PROBES_H

#include <linux/types.h>

/* Which hook. */
enum shadowpid_probe {
	SHADOWPID_PROBE_CYCLIC,		/* idr_alloc_cyclic(): a fork */
	SHADOWPID_PROBE_FIXED,		/* idr_alloc(): clone3's set_tid */
	SHADOWPID_PROBE_REMOVE,		/* idr_remove() */
	SHADOWPID_PROBE_DESTROY,	/* idr_destroy(): the namespace goes */
	SHADOWPID_PROBE_CURSOR,		/* pid_ns_ctl_handler(): ns_last_pid written */
	SHADOWPID_PROBE_COUNT,
};

/* One call, as recorded when it started. */
struct shadowpid_alloc_event {
	void *idr;		/* &ns->idr: the namespace */
	int start;		/* cyclic: pid_min; fixed: the number; remove: the number */
	int end;		/* cyclic: the namespace's pid_max; fixed: number + 1 */
	int cursor;		/* idr->idr_next when the call started */
	__u8 adding;		/* cyclic: the namespace had no pid yet (alloc_pid()
				 * reset its cursor to 0 before the call) */
};

/* The handlers, in Rust; `data` is what was registered with them. */
struct shadowpid_probe_ops {
	/* An allocation returned `ret`: the number, or -errno. */
	void (*alloc_done)(void *data, enum shadowpid_probe kind,
			   const struct shadowpid_alloc_event *ev, int ret);
	/* Number `nr` of the namespace of `idr` was removed. */
	void (*removed)(void *data, void *idr, int nr);
	/* The namespace of `idr` was destroyed. */
	void (*destroyed)(void *data, void *idr);
	/* ns_last_pid of the namespace of `idr` was written (the write has
	 * happened; shadowpid_probes_cursor_writers() counted it until now). */
	void (*cursor_written)(void *data, void *idr);
};

/* Registers the hooks with `maxactive` instances each (0: at least the
 * kernel's default, 2 per possible CPU, and 64); 0 or -errno (nothing left
 * registered then). */
int shadowpid_probes_register(const struct shadowpid_probe_ops *ops, void *data,
			      unsigned int maxactive);
/* Unregisters them; every handler has returned when this does. */
void shadowpid_probes_unregister(void);
/* Missed events of each hook (nmissed), SHADOWPID_PROBE_COUNT of them:
 * read in the handlers too, to see that an event was lost. */
void shadowpid_probes_missed(__u64 *out);
/* Events since registering whose caller could not be read. */
__u64 shadowpid_probes_unattributed(void);
/* ns_last_pid writes entered and not yet returned. */
int shadowpid_probes_cursor_writers(void);

/* What the mirror needs of the namespace of `idr`. */
struct shadowpid_pidns_info {
	unsigned int level;
	unsigned int inum;	/* its /proc/PID/ns/pid inode number (reused soon
				 * after the namespace goes) */
	int pid_max;
	__u64 id;		/* its ns_id: never reused */
};
void shadowpid_pidns_of_idr(void *idr, struct shadowpid_pidns_info *out);
/* The IDR's cyclic cursor (idr_next). */
int shadowpid_idr_cursor(void *idr);
/* Up to @max numbers of the IDR in use (not NULL) from @from on, in order,
 * into @out, read under RCU (no lock: the IDR may change meanwhile, each
 * number is as it was at some moment of the call); how many. Process
 * context: it yields the CPU first. */
int shadowpid_idr_batch(void *idr, int from, int *out, int max);
/* A reference on the namespace of @idr (alive), and its release (process
 * context: the last one queues the namespace's destruction). */
void shadowpid_pidns_get(void *idr);
void shadowpid_pidns_put(void *idr);
/* The ns_ids of the namespace of @idr (alive) and of its ancestors, by
 * level, into @ids (room for its level + 1). */
void shadowpid_pidns_ancestors(void *idr, __u64 *ids);
/* The calling task's active pid namespace. */
void shadowpid_caller_pidns(struct shadowpid_pidns_info *out);
/* The kernel's pidmap_lock (ATTACH found it), taken with interrupts off
 * from process context: held, every pid event of the machine waits, and
 * each that happened has reached the handlers. */
void shadowpid_kernel_pidmap_lock(void);
void shadowpid_kernel_pidmap_unlock(void);
/* Records that the mirror held pidmap_lock @ns nanoseconds, for @what
 * (enum shadowpid_mirror_hold); since the last registration. */
void shadowpid_hold_record(unsigned int what, __u64 ns);
/* The records: SHADOWPID_MIRROR_HOLDS rows of SHADOWPID_MIRROR_HOLD_BUCKETS
 * counts into @hist, the longest of each row into @max. */
void shadowpid_hold_read(__u64 *hist, __u64 *max);
/* A monotonic clock any context may read. */
__u64 shadowpid_now_ns(void);

#endif /* SHADOWPID_MIRROR_PROBES_H */
