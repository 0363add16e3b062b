/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The benchmark's kernel column: the running kernel's own pid functions,
 * called in the caller's own PID namespace (kernel_pid.c). bindgen makes
 * rust/bench/kernel_generated.rs from this header.
 *
 * find_pid_ns(), find_ge_pid() and pid_nr_ns() are exported. alloc_pid()
 * and free_pid() are not: they are reached through their kallsyms address
 * (wrappers/symbol.h), on the project's test kernel. Called alone, as the
 * pair fork's own failure path makes (copy_process(): alloc_pid(), then
 * free_pid() at bad_fork_free_pid), they take and give back a number at
 * every level of the namespace and everything 7.3 does with it: the
 * set_tid pre-pass, pidfs, the namespace's active reference, the IDR under
 * pidmap_lock, the RCU-deferred free.
 */
#ifndef SHADOWPID_BENCH_KERNEL_PID_H
#define SHADOWPID_BENCH_KERNEL_PID_H

#include <linux/types.h>

struct pid;
struct pid_namespace;

/*
 * Resolves alloc_pid() and free_pid(): 0, -ENOENT (no such functions), or
 * -EOPNOTSUPP (indirect branch tracking is on: it seals the entry of
 * functions the kernel never calls through a pointer, so a call would trap).
 */
int shadowpid_kernel_resolve(void);

/* The caller's active PID namespace, with a reference (NULL if it is
 * exiting and has none); put it back. */
struct pid_namespace *shadowpid_kernel_ns_get(void);
void shadowpid_kernel_ns_put(struct pid_namespace *ns);
/* Its level; its ancestor at @level (<= its level), no reference taken. */
unsigned int shadowpid_kernel_ns_level(const struct pid_namespace *ns);
struct pid_namespace *shadowpid_kernel_ns_at(struct pid_namespace *ns, unsigned int level);
/* Its pid_max, and its IDR's cursor (where the next cyclic search starts). */
int shadowpid_kernel_ns_pid_max(const struct pid_namespace *ns);
int shadowpid_kernel_ns_cursor(const struct pid_namespace *ns);

/* Sets where its next cyclic search starts, as the ns_last_pid sysctl does
 * (idr_set_cursor(), without pidmap_lock, as that sysctl does). */
void shadowpid_kernel_ns_set_cursor(struct pid_namespace *ns, int cursor);

/* alloc_pid(@ns, NULL, 0): a pid, or an ERR_PTR (-ENOENT if not resolved). */
struct pid *shadowpid_kernel_alloc_pid(struct pid_namespace *ns);
/* free_pid(@pid): its numbers go back at once, the object after a grace period. */
void shadowpid_kernel_free_pid(struct pid *pid);
/* pid_nr_ns(): the number of @pid in @ns (0: none). */
int shadowpid_kernel_pid_nr(struct pid *pid, struct pid_namespace *ns);

/*
 * find_pid_ns(@nr, @ns) under rcu_read_lock(): with @read, the number of the
 * pid found read back from it (pid_nr_ns(), as callers do), else 1; -1 if
 * none.
 */
int shadowpid_kernel_find(struct pid_namespace *ns, int nr, int read);
/* Nothing, out of line: the lookups' baseline, behind the same call
 * boundary as shadowpid_kernel_find(); returns @nr. */
int shadowpid_kernel_nop(struct pid_namespace *ns, int nr, int read);
/* find_ge_pid(@nr, @ns) under rcu_read_lock(): the pid's number in @ns
 * (pid_nr_ns()), or -1. */
int shadowpid_kernel_find_ge(struct pid_namespace *ns, int nr);

/* Bytes of the slab object of @pid (ksize()). */
__u64 shadowpid_kernel_pid_bytes(const struct pid *pid);
/* Bytes of the radix-tree nodes of @ns's IDR (read under RCU: exact when
 * nothing else allocates in @ns, as in the benchmark's own namespace). */
__u64 shadowpid_kernel_idr_bytes(struct pid_namespace *ns);

/*
 * pidfs's table of every pid on the machine (its rhashtable, pidfs_ino_ht,
 * found with kallsyms_lookup_name(), itself found by name), once any resize
 * its insertions queued has run: the bytes of its bucket array in @bytes,
 * its entries in @entries. 0, or -ENOENT if the table cannot be found (no
 * CONFIG_KALLSYMS_ALL). Only after shadowpid_kernel_resolve() succeeded
 * (not under IBT). May sleep.
 */
int shadowpid_kernel_pidfs_table(__u64 *bytes, __u64 *entries);

/*
 * pidfs's part of the pair, on its own: pidfs_add_pid() and
 * pidfs_remove_pid() (not exported) resolved by name, 0 or -ENOENT; then
 * @n times what free_pid() and alloc_pid() do for pidfs on @pid, a pid of
 * the benchmark's that no task uses: removed from pidfs's table of every
 * pid, added back under a new inode number. 0, or add's error.
 */
int shadowpid_kernel_pidfs_resolve(void);
int shadowpid_kernel_pidfs_cycle(struct pid *pid, unsigned int n);

#endif /* SHADOWPID_BENCH_KERNEL_PID_H */
