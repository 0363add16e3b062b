/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The benchmark's rebuild of 7.3's allocator (rebuild.c), as
 * the Rust side sees it: bindgen makes rust/rebuild_generated.rs from this
 * header, so the prototypes have one definition.
 */
#ifndef SHADOWPID_REBUILD_IDR_H
#define SHADOWPID_REBUILD_IDR_H

#include <linux/types.h>

/* Levels of a namespace hierarchy, as MAX_PID_NS_LEVEL + 1. */
#define SHADOWPID_REBUILD_LEVELS 33

struct shadowpid_rebuild_ns;
struct shadowpid_rebuild_pid;

/* A namespace below @parent (NULL: a root) with pid_max @pid_max. */
struct shadowpid_rebuild_ns *
shadowpid_rebuild_ns_create(struct shadowpid_rebuild_ns *parent, int pid_max);
/* Drops a reference on @ns (and on its parents when it goes). */
void shadowpid_rebuild_ns_put(struct shadowpid_rebuild_ns *ns);

/* Numbers only: idr_alloc_cyclic() / idr_alloc() / idr_remove() under the lock. */
int shadowpid_rebuild_alloc_nr(struct shadowpid_rebuild_ns *ns);
int shadowpid_rebuild_take_nr(struct shadowpid_rebuild_ns *ns, int nr);
void shadowpid_rebuild_free_nr(struct shadowpid_rebuild_ns *ns, int nr);
/* idr_set_cursor(): the next cyclic search starts at @nr. */
void shadowpid_rebuild_set_cursor(struct shadowpid_rebuild_ns *ns, int nr);

/*
 * 7.3's alloc_pid() (an ERR_PTR on failure) and free_pid(). Without
 * @publish, alloc_pid() stops before its last step (the idr_replace()s
 * that make the pid visible, and the namespaces' counts), and free_pid()
 * of that pid must say it was not @published (_Bool: bindgen reads this
 * header without the kernel's types).
 */
struct shadowpid_rebuild_pid *shadowpid_rebuild_alloc_pid(struct shadowpid_rebuild_ns *ns,
							  _Bool publish);
void shadowpid_rebuild_free_pid(struct shadowpid_rebuild_pid *pid, _Bool published);
/* The first step of alloc_pid() alone: a number at every level taken, then
 * given back as free_pid() gives them back (0, or a negative errno). */
int shadowpid_rebuild_cycle_nrs(struct shadowpid_rebuild_ns *ns);
/* The number of @pid in its most nested namespace. */
int shadowpid_rebuild_pid_nr(const struct shadowpid_rebuild_pid *pid);
/* Bytes of the slab object holding @pid (ksize()). */
__u64 shadowpid_rebuild_pid_bytes(const struct shadowpid_rebuild_pid *pid);

/* find_pid_ns() as idr_find(); find_ge_pid() as idr_get_next(): the number
 * read from the first pid at or after @nr (-1: none). */
const void *shadowpid_rebuild_find(struct shadowpid_rebuild_ns *ns, int nr);
/* idr_find(), then the number of the pid found read from it (-1: none). */
int shadowpid_rebuild_find_nr(struct shadowpid_rebuild_ns *ns, int nr);
int shadowpid_rebuild_next(struct shadowpid_rebuild_ns *ns, int nr);
/* Bytes of the IDR's radix tree nodes. */
__u64 shadowpid_rebuild_idr_bytes(struct shadowpid_rebuild_ns *ns);

/* CPUs online, and the @n-th of them (-1: none). */
unsigned int shadowpid_online_cpus(void);
int shadowpid_nth_online_cpu(unsigned int n);

/* At module unload: waits for pending frees, destroys the caches. */
void shadowpid_rebuild_exit(void);

#endif
