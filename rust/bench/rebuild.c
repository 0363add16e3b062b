// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's rebuild of 7.3's allocator: the number and
 * struct pid path of Linux 7.3's kernel/pid.c, rebuilt from the same kernel
 * primitives, for shadowpid's in-kernel benchmark (rust/bench.rs) to time
 * beside the shadow one.
 *
 * What it keeps of 7.3, line for line: one IDR per namespace; numbers from
 * idr_alloc_cyclic() wrapping at RESERVED_PIDS, between idr_preload(GFP_KERNEL)
 * and idr_preload_end(), under one global spinlock (pidmap_lock) taken with
 * spin_lock(), innermost level first; NULL stored first and idr_replace()d
 * once every level has its number; pid_allocated with PIDNS_ADDING; struct
 * pid of the 7.3 layout from one kmem cache per depth, initialised as
 * alloc_pid() does; free_pid() removing every number under the lock and
 * dropping the reference after a grace period (call_rcu); find_pid_ns() as
 * idr_find() and the walk as idr_get_next(), both under rcu_read_lock().
 *
 * What it leaves out (none of it is the allocator's work): pidfs
 * (pidfs_prepare_pid() fields are zeroed, pidfs_add_pid()/pidfs_remove_pid()
 * are not called), the pid namespace's ns_common reference counting and
 * sysctls, set_tid and its capability check, waking the reaper.
 *
 * C because the IDR interface is partly inline (idr_init_base(),
 * idr_preload_end(), the cursor) and its node layout is needed to count
 * its memory.
 */

#include <linux/cpumask.h>
#include <linux/idr.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "idr_nodes.h"
#include "rebuild.h"

struct shadowpid_rebuild_upid {
	int nr;
	struct shadowpid_rebuild_ns *ns;
};

/* struct pid of Linux 7.3, with upids naming the reference namespaces. */
struct shadowpid_rebuild_pid {
	refcount_t count;
	unsigned int level;
	spinlock_t lock;
	struct {
		u64 ino;
		struct rhash_head pidfs_hash;
		struct dentry *stashed;
		struct pidfs_attr *attr;
	};
	struct hlist_head tasks[PIDTYPE_MAX];
	struct hlist_head inodes;
	wait_queue_head_t wait_pidfd;
	struct rcu_head rcu;
	struct shadowpid_rebuild_upid numbers[];
};

static_assert(sizeof(struct shadowpid_rebuild_pid) == sizeof(struct pid));
static_assert(offsetof(struct shadowpid_rebuild_pid, numbers) ==
	      offsetof(struct pid, numbers));
static_assert(sizeof(struct shadowpid_rebuild_upid) == sizeof(struct upid));

struct shadowpid_rebuild_ns {
	struct idr idr;
	unsigned int pid_allocated;
	int pid_max;
	unsigned int level;
	bool has_reaper;
	refcount_t count;
	struct shadowpid_rebuild_ns *parent;
	struct kmem_cache *pid_cachep;
};

/* 7.3's pidmap_lock: one lock for every namespace's IDR. */
static DEFINE_SPINLOCK(rebuild_pidmap_lock);

/* One cache per depth, made on first use, as create_pid_cachep() does. */
static struct kmem_cache *pid_cache[SHADOWPID_REBUILD_LEVELS];
static char pid_cache_name[SHADOWPID_REBUILD_LEVELS][32];
static DEFINE_MUTEX(pid_caches_mutex);

static struct kmem_cache *create_pid_cachep(unsigned int level)
{
	struct kmem_cache **pkc = &pid_cache[level];
	unsigned int len;

	if (READ_ONCE(*pkc))
		return *pkc;
	len = struct_size_t(struct pid, numbers, level + 1);
	mutex_lock(&pid_caches_mutex);
	if (!*pkc) {
		snprintf(pid_cache_name[level], sizeof(pid_cache_name[level]),
			 "shadowpid_rebuild_pid_%u", level + 1);
		/* SLAB_NO_MERGE, as the shadow's: each is measured on its own. */
		*pkc = kmem_cache_create(pid_cache_name[level], len, 0,
					 SLAB_HWCACHE_ALIGN | SLAB_NO_MERGE, NULL);
	}
	mutex_unlock(&pid_caches_mutex);
	return READ_ONCE(*pkc);
}

struct shadowpid_rebuild_ns *
shadowpid_rebuild_ns_create(struct shadowpid_rebuild_ns *parent, int pid_max)
{
	unsigned int level = parent ? parent->level + 1 : 0;
	struct shadowpid_rebuild_ns *ns;

	if (level >= SHADOWPID_REBUILD_LEVELS)
		return NULL;
	ns = kzalloc(sizeof(*ns), GFP_KERNEL);
	if (!ns)
		return NULL;
	ns->pid_cachep = create_pid_cachep(level);
	if (!ns->pid_cachep) {
		kfree(ns);
		return NULL;
	}
	idr_init(&ns->idr);
	ns->pid_allocated = PIDNS_ADDING;
	ns->pid_max = pid_max;
	ns->level = level;
	refcount_set(&ns->count, 1);
	ns->parent = parent;
	if (parent)
		refcount_inc(&parent->count);
	return ns;
}

void shadowpid_rebuild_ns_put(struct shadowpid_rebuild_ns *ns)
{
	while (ns && refcount_dec_and_test(&ns->count)) {
		struct shadowpid_rebuild_ns *parent = ns->parent;

		idr_destroy(&ns->idr);
		kfree(ns);
		ns = parent;
	}
}

/* The cyclic number allocation of 7.3's alloc_pid(), for one level. */
static int alloc_nr_locked(struct shadowpid_rebuild_ns *ns)
{
	int pid_min = 1, nr;

	/* init really needs pid 1, but after reaching the maximum wrap back
	 * to RESERVED_PIDS */
	if (idr_get_cursor(&ns->idr) > RESERVED_PIDS)
		pid_min = RESERVED_PIDS;
	nr = idr_alloc_cyclic(&ns->idr, NULL, pid_min, ns->pid_max, GFP_ATOMIC);
	return nr == -ENOSPC ? -EAGAIN : nr;
}

int shadowpid_rebuild_alloc_nr(struct shadowpid_rebuild_ns *ns)
{
	int nr;

	idr_preload(GFP_KERNEL);
	spin_lock(&rebuild_pidmap_lock);
	nr = alloc_nr_locked(ns);
	spin_unlock(&rebuild_pidmap_lock);
	idr_preload_end();
	return nr;
}

int shadowpid_rebuild_take_nr(struct shadowpid_rebuild_ns *ns, int nr)
{
	idr_preload(GFP_KERNEL);
	spin_lock(&rebuild_pidmap_lock);
	nr = idr_alloc(&ns->idr, NULL, nr, nr + 1, GFP_ATOMIC);
	spin_unlock(&rebuild_pidmap_lock);
	idr_preload_end();
	return nr;
}

void shadowpid_rebuild_free_nr(struct shadowpid_rebuild_ns *ns, int nr)
{
	spin_lock(&rebuild_pidmap_lock);
	idr_remove(&ns->idr, nr);
	spin_unlock(&rebuild_pidmap_lock);
}

void shadowpid_rebuild_set_cursor(struct shadowpid_rebuild_ns *ns, int nr)
{
	idr_set_cursor(&ns->idr, nr);
}

/*
 * The numbers of 7.3's alloc_pid() at every level of @ns, innermost first,
 * into @numbers, with the lock held (dropped and retaken once per level for
 * a second preload); on failure those taken are removed again.
 */
static int alloc_nrs_locked(struct shadowpid_rebuild_ns *ns,
			    struct shadowpid_rebuild_upid *numbers)
{
	struct shadowpid_rebuild_ns *tmp;
	bool retried_preload = false;
	int i, nr;

	/* For the case when the previous attempt to create init failed */
	if (ns->pid_allocated == PIDNS_ADDING)
		idr_set_cursor(&ns->idr, 0);

	for (tmp = ns, i = ns->level; i >= 0;) {
		nr = alloc_nr_locked(tmp);
		if (unlikely(nr < 0)) {
			if (nr == -ENOMEM && !retried_preload) {
				spin_unlock(&rebuild_pidmap_lock);
				idr_preload_end();
				retried_preload = true;
				idr_preload(GFP_KERNEL);
				spin_lock(&rebuild_pidmap_lock);
				continue;
			}
			goto out_free;
		}
		numbers[i].nr = nr;
		numbers[i].ns = tmp;
		i--;
		retried_preload = false;
		/* PID 1 (init) must be created first. */
		if (!READ_ONCE(tmp->has_reaper) && nr != 1) {
			nr = -EINVAL;
			goto out_free;
		}
		tmp = tmp->parent;
	}
	return 0;

out_free:
	while (++i <= ns->level)
		idr_remove(&numbers[i].ns->idr, numbers[i].nr);
	return nr;
}

int shadowpid_rebuild_cycle_nrs(struct shadowpid_rebuild_ns *ns)
{
	struct shadowpid_rebuild_upid numbers[SHADOWPID_REBUILD_LEVELS];
	int i, ret;

	idr_preload(GFP_KERNEL);
	spin_lock(&rebuild_pidmap_lock);
	ret = alloc_nrs_locked(ns, numbers);
	spin_unlock(&rebuild_pidmap_lock);
	idr_preload_end();
	if (ret)
		return ret;
	spin_lock(&rebuild_pidmap_lock);
	for (i = 0; i <= ns->level; i++)
		idr_remove(&numbers[i].ns->idr, numbers[i].nr);
	spin_unlock(&rebuild_pidmap_lock);
	return 0;
}

struct shadowpid_rebuild_pid *shadowpid_rebuild_alloc_pid(struct shadowpid_rebuild_ns *ns,
							  bool publish)
{
	struct shadowpid_rebuild_pid *pid;
	struct shadowpid_rebuild_upid *upid;
	enum pid_type type;
	int retval;

	pid = kmem_cache_alloc(ns->pid_cachep, GFP_KERNEL);
	if (!pid)
		return ERR_PTR(-ENOMEM);

	/* 7.3's get_pid_ns() leaves the initial namespace's count alone
	 * (ns_common.h: initial namespaces are never freed); the rebuild's
	 * level 0 stands for it. */
	if (ns->level)
		refcount_inc(&ns->count);
	pid->level = ns->level;
	refcount_set(&pid->count, 1);
	spin_lock_init(&pid->lock);
	for (type = 0; type < PIDTYPE_MAX; ++type)
		INIT_HLIST_HEAD(&pid->tasks[type]);
	init_waitqueue_head(&pid->wait_pidfd);
	INIT_HLIST_HEAD(&pid->inodes);
	pid->ino = 0;
	pid->stashed = NULL;
	pid->attr = NULL;

	idr_preload(GFP_KERNEL);
	spin_lock(&rebuild_pidmap_lock);
	retval = alloc_nrs_locked(ns, pid->numbers);
	if (retval)
		goto out_unlock;

	retval = -ENOMEM;
	for (upid = pid->numbers + ns->level; upid >= pid->numbers; --upid)
		if (unlikely(!(upid->ns->pid_allocated & PIDNS_ADDING)))
			goto out_free;

	for (upid = pid->numbers + ns->level; publish && upid >= pid->numbers; --upid) {
		/* Make the PID visible to find_pid_ns. */
		idr_replace(&upid->ns->idr, pid, upid->nr);
		upid->ns->pid_allocated++;
		if (upid->nr == 1)
			WRITE_ONCE(upid->ns->has_reaper, true);
	}
	spin_unlock(&rebuild_pidmap_lock);
	idr_preload_end();
	return pid;

out_free:
	for (upid = pid->numbers; upid <= pid->numbers + ns->level; ++upid)
		idr_remove(&upid->ns->idr, upid->nr);
out_unlock:
	spin_unlock(&rebuild_pidmap_lock);
	idr_preload_end();
	if (ns->level)
		shadowpid_rebuild_ns_put(ns);
	kmem_cache_free(ns->pid_cachep, pid);
	return ERR_PTR(retval);
}

static void rebuild_put_pid(struct shadowpid_rebuild_pid *pid)
{
	struct shadowpid_rebuild_ns *ns = pid->numbers[pid->level].ns;

	if (refcount_dec_and_test(&pid->count)) {
		kmem_cache_free(ns->pid_cachep, pid);
		if (ns->level)
			shadowpid_rebuild_ns_put(ns);
	}
}

static void rebuild_delayed_put_pid(struct rcu_head *rhp)
{
	rebuild_put_pid(container_of(rhp, struct shadowpid_rebuild_pid, rcu));
}

void shadowpid_rebuild_free_pid(struct shadowpid_rebuild_pid *pid, bool published)
{
	int i;

	spin_lock(&rebuild_pidmap_lock);
	for (i = 0; i <= pid->level; i++) {
		struct shadowpid_rebuild_upid *upid = pid->numbers + i;

		if (published)
			upid->ns->pid_allocated--;
		idr_remove(&upid->ns->idr, upid->nr);
	}
	spin_unlock(&rebuild_pidmap_lock);
	call_rcu(&pid->rcu, rebuild_delayed_put_pid);
}

const void *shadowpid_rebuild_find(struct shadowpid_rebuild_ns *ns, int nr)
{
	const void *pid;

	rcu_read_lock();
	pid = idr_find(&ns->idr, nr);
	rcu_read_unlock();
	return pid;
}

/* 7.3's pid_nr_ns(): the number of @pid seen from @ns (0: none). */
static int rebuild_pid_nr_ns(const struct shadowpid_rebuild_pid *pid,
			    const struct shadowpid_rebuild_ns *ns)
{
	const struct shadowpid_rebuild_upid *upid;

	if (ns->level > pid->level)
		return 0;
	upid = &pid->numbers[ns->level];
	return upid->ns == ns ? upid->nr : 0;
}

int shadowpid_rebuild_find_nr(struct shadowpid_rebuild_ns *ns, int nr)
{
	const struct shadowpid_rebuild_pid *pid;

	rcu_read_lock();
	pid = idr_find(&ns->idr, nr);
	nr = pid ? rebuild_pid_nr_ns(pid, ns) : -1;
	rcu_read_unlock();
	return nr;
}

int shadowpid_rebuild_next(struct shadowpid_rebuild_ns *ns, int nr)
{
	const struct shadowpid_rebuild_pid *pid;

	rcu_read_lock();
	pid = idr_get_next(&ns->idr, &nr);
	nr = pid ? rebuild_pid_nr_ns(pid, ns) : -1;
	rcu_read_unlock();
	return nr;
}

int shadowpid_rebuild_pid_nr(const struct shadowpid_rebuild_pid *pid)
{
	return pid->numbers[pid->level].nr;
}

/* Nodes of the IDR's radix tree below @entry. */
static unsigned long count_nodes(void *entry)
{
	struct xa_node *node;
	unsigned long n = 1;
	int i;

	if (!xa_is_node(entry))
		return 0;
	node = xa_to_node(entry);
	if (node->shift == 0)
		return 1;
	for (i = 0; i < XA_CHUNK_SIZE; i++)
		n += count_nodes(rcu_dereference_raw(node->slots[i]));
	return n;
}

unsigned long shadowpid_idr_nodes(const struct idr *idr)
{
	return count_nodes(rcu_dereference_raw(idr->idr_rt.xa_head));
}

__u64 shadowpid_rebuild_idr_bytes(struct shadowpid_rebuild_ns *ns)
{
	unsigned long nodes;

	spin_lock(&rebuild_pidmap_lock);
	nodes = shadowpid_idr_nodes(&ns->idr);
	spin_unlock(&rebuild_pidmap_lock);
	return (__u64)nodes * sizeof(struct xa_node);
}

__u64 shadowpid_rebuild_pid_bytes(const struct shadowpid_rebuild_pid *pid)
{
	return ksize(pid);
}

unsigned int shadowpid_online_cpus(void)
{
	return num_online_cpus();
}

int shadowpid_nth_online_cpu(unsigned int n)
{
	unsigned int cpu = cpumask_nth(n, cpu_online_mask);

	return cpu < nr_cpu_ids ? cpu : -1;
}

void shadowpid_rebuild_exit(void)
{
	int i;

	rcu_barrier();
	for (i = 0; i < SHADOWPID_REBUILD_LEVELS; i++) {
		kmem_cache_destroy(pid_cache[i]);
		pid_cache[i] = NULL;
	}
}
