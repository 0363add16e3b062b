// SPDX-License-Identifier: GPL-2.0
/*
 * kidr: the IDR half of Linux 7.3's kernel/pid.c, on the kernel's own
 * lib/idr.c + lib/radix-tree.c built for userspace with the radix-tree
 * harness shims (tools/testing/shared, tools/include) and liburcu (memb).
 *
 * One struct idr per namespace; one global pidmap_lock (a spinlock, below)
 * like kernel/pid.c; allocation exactly as alloc_pid() does for
 * one level: idr_preload(GFP_KERNEL); lock; idr_alloc_cyclic(NULL, pid_min,
 * pid_max, GFP_ATOMIC) with pid_min 1 until the cursor passes RESERVED_PIDS;
 * -ENOSPC -> -EAGAIN; one retry after a fresh preload on -ENOMEM;
 * idr_replace(ptr) to publish; unlock; idr_preload_end().
 */
#include "shared.h"
#include <linux/idr.h>
#include <linux/radix-tree.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <pthread.h>
#include <limits.h>
#include <stdlib.h>
#include <time.h>

#define RESERVED_PIDS 300

extern struct kmem_cache *radix_tree_node_cachep;	/* lib/radix-tree.c */
extern int nr_allocated;				/* shared/linux.c */
extern int kmalloc_nr_allocated;			/* tools/lib/slab.c */

struct kidr_ns {
	struct idr idr;
	int pid_max;
	int pid_allocated;
};

/*
 * pidmap_lock: a test-and-set spinlock, the same as the shadow column's
 * (tools/testing/shadowpid-loom/src/host.rs, SpinLock): the kernel's is a
 * spinlock (qspinlock: one cmpxchg when free), the harness's spin_lock() a
 * pthread mutex that sleeps when contended.
 */
static int pidmap_lock_word;

static inline void pidmap_lock(void)
{
	for (;;) {
		int unlocked = 0;

		if (__atomic_compare_exchange_n(&pidmap_lock_word, &unlocked, 1, true,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		while (__atomic_load_n(&pidmap_lock_word, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
	}
}

static inline void pidmap_unlock(void)
{
	__atomic_store_n(&pidmap_lock_word, 0, __ATOMIC_RELEASE);
}
static pthread_once_t kidr_once = PTHREAD_ONCE_INIT;

static void kidr_init_once(void)
{
	radix_tree_init();	/* creates radix_tree_node_cachep */
	/*
	 * The harness fails every allocation that may not sleep unless told
	 * otherwise; the kernel's GFP_ATOMIC node allocation under
	 * idr_preload() succeeds from the slab (radix_tree_node_alloc() tries
	 * it before the preload pool), so the pool stays full, as here now.
	 */
	kmem_cache_set_non_kernel(radix_tree_node_cachep, UINT_MAX);
}

/* Every thread that touches an IDR: before its first call. */
void kidr_thread_enter(void)
{
	pthread_once(&kidr_once, kidr_init_once);
	rcu_register_thread();
}

/* Give this thread's preload pool back to the slab (what the kernel's
 * radix_tree_cpu_dead() does for a CPU). */
static void kidr_drain_preloads(void)
{
	struct radix_tree_preload *rtp = this_cpu_ptr(&radix_tree_preloads);

	while (rtp->nr) {
		struct radix_tree_node *node = rtp->nodes;

		rtp->nodes = node->parent;
		kmem_cache_free(radix_tree_node_cachep, node);
		rtp->nr--;
	}
}

/* Every such thread: before it ends. */
void kidr_thread_exit(void)
{
	kidr_drain_preloads();
	rcu_unregister_thread();
}

struct kidr_ns *kidr_ns_new(int pid_max)
{
	struct kidr_ns *ns = calloc(1, sizeof(*ns));

	if (!ns)
		return NULL;
	idr_init(&ns->idr);
	ns->pid_max = pid_max;
	return ns;
}

void kidr_ns_destroy(struct kidr_ns *ns)
{
	idr_destroy(&ns->idr);	/* nodes freed through call_rcu */
	free(ns);
}

/* ptr must not look like a radix-tree internal entry ((ptr & 3) == 2):
 * pass a real, aligned pointer (a struct pid). */
int kidr_alloc(struct kidr_ns *ns, void *ptr)
{
	bool retried_preload = false;
	int nr;

	idr_preload(GFP_KERNEL);
	pidmap_lock();
	for (;;) {
		int pid_min = 1;

		if (idr_get_cursor(&ns->idr) > RESERVED_PIDS)
			pid_min = RESERVED_PIDS;
		nr = idr_alloc_cyclic(&ns->idr, NULL, pid_min, ns->pid_max,
				      GFP_ATOMIC);
		if (nr == -ENOSPC)
			nr = -EAGAIN;
		if (nr == -ENOMEM && !retried_preload) {
			pidmap_unlock();
			idr_preload_end();
			retried_preload = true;
			idr_preload(GFP_KERNEL);
			pidmap_lock();
			continue;
		}
		break;
	}
	if (nr >= 0) {
		idr_replace(&ns->idr, ptr, nr);	/* make it visible */
		ns->pid_allocated++;
	}
	pidmap_unlock();
	idr_preload_end();
	return nr;
}

/* alloc_pid()'s set_tid path: exactly nr, or -EEXIST (-ENOSPC from the
 * IDR), as kernel/pid.c's idr_alloc(nr, nr + 1). */
int kidr_alloc_exact(struct kidr_ns *ns, int nr, void *ptr)
{
	int got;

	idr_preload(GFP_KERNEL);
	pidmap_lock();
	got = idr_alloc(&ns->idr, ptr, nr, nr + 1, GFP_ATOMIC);
	if (got == -ENOSPC)
		got = -EEXIST;
	if (got >= 0)
		ns->pid_allocated++;
	pidmap_unlock();
	idr_preload_end();
	return got;
}

/* find_pid_ns() itself: the caller holds the RCU read lock, as every caller
 * of find_pid_ns() in the kernel does. Out of line, as it is there. */
void *kidr_find_held(struct kidr_ns *ns, int nr)
{
	return idr_find(&ns->idr, nr);
}

/* find_ge_pid() itself, the RCU read lock held by the caller. */
int kidr_next_held(struct kidr_ns *ns, int nr, void **entry)
{
	void *p = idr_get_next(&ns->idr, &nr);

	if (!p)
		return -1;
	*entry = p;
	return nr;
}

void kidr_rcu_read_lock(void) { rcu_read_lock(); }
void kidr_rcu_read_unlock(void) { rcu_read_unlock(); }

/* find_pid_ns() under rcu_read_lock(), as find_get_pid() calls it. */
void *kidr_find(struct kidr_ns *ns, int nr)
{
	void *p;

	rcu_read_lock();
	p = idr_find(&ns->idr, nr);
	rcu_read_unlock();
	return p;
}

/* find_ge_pid(): the first allocated nr >= nr with a non-NULL entry, or -1. */
int kidr_next(struct kidr_ns *ns, int nr, void **entry)
{
	void *p;

	rcu_read_lock();
	p = idr_get_next(&ns->idr, &nr);
	rcu_read_unlock();
	if (!p)
		return -1;
	*entry = p;
	return nr;
}

/* free_pid()'s idr part. */
void *kidr_remove(struct kidr_ns *ns, int nr)
{
	void *p;

	pidmap_lock();
	p = idr_remove(&ns->idr, nr);
	if (p)
		ns->pid_allocated--;
	pidmap_unlock();
	return p;
}

int kidr_get_cursor(struct kidr_ns *ns) { return idr_get_cursor(&ns->idr); }
void kidr_set_cursor(struct kidr_ns *ns, int c) { idr_set_cursor(&ns->idr, c); }
int kidr_pid_allocated(struct kidr_ns *ns) { return ns->pid_allocated; }

/* ---- memory ---------------------------------------------------------- */

/* sizeof(struct radix_tree_node) == sizeof(struct xa_node): 576 at shift 6 */
unsigned long kidr_node_size(void) { return radix_tree_node_cachep->size; }
/* Nodes live now (tree nodes + preload pools + nodes waiting for RCU). */
unsigned long kidr_nodes_live(void) { return radix_tree_node_cachep->nr_allocated; }
/* Node allocations ever made (kmem_cache_zero_nr_tallocated() resets). */
unsigned long kidr_nodes_total(void) { return radix_tree_node_cachep->nr_tallocated; }
/* Nodes in the calling thread's preload pool. */
int kidr_preloaded(void) { return (this_cpu_ptr(&radix_tree_preloads))->nr; }
int kidr_nr_allocated(void) { return nr_allocated; }		/* all caches */
int kidr_kmalloc_nr_allocated(void) { return kmalloc_nr_allocated; }
/* Nodes in trees: waits for the deferred (call_rcu) frees first; exact when
 * no other thread holds a preload pool (they called kidr_thread_exit). */
long kidr_tree_nodes(void)
{
	rcu_barrier();
	return (long)radix_tree_node_cachep->nr_allocated - kidr_preloaded();
}

/*
 * What the harness's slab (tools/testing/shared/linux.c: a mutex, a free
 * list of ten, three lock-prefixed counters) charges for one node's
 * allocation and free, in ns, over n pairs: the part of a churn row's
 * kernel column that SLUB's per-CPU fast path would do differently.
 */
double kidr_slab_pair_ns(int n)
{
	struct timespec a, b;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		void *p = kmem_cache_alloc(radix_tree_node_cachep, GFP_ATOMIC);

		kmem_cache_free(radix_tree_node_cachep, p);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}

void kidr_synchronize_rcu(void) { synchronize_rcu(); }
void kidr_rcu_barrier(void) { rcu_barrier(); }

/* 1 when liburcu-memb found sys_membarrier (readers: compiler barrier only);
 * 0: it fell back to a full smp_mb() in every rcu_read_lock/unlock. */
extern int urcu_memb_has_sys_membarrier;
int kidr_has_sys_membarrier(void) { return urcu_memb_has_sys_membarrier; }
