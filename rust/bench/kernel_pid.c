// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's kernel column: the running kernel's own pid functions
 * (see kernel_pid.h).
 */
#include <linux/cpufeature.h>
#include <linux/err.h>
#include <linux/irq_work.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "../wrappers/symbol.h"
#include "idr_nodes.h"
#include "kernel_pid.h"

/* The kernel's own functions, typed by the kernel's own declarations. */
static typeof(&alloc_pid) kernel_alloc_pid;
static typeof(&free_pid) kernel_free_pid;

int shadowpid_kernel_resolve(void)
{
	unsigned long alloc_start, free_start, end;
	int ret;

#ifdef CONFIG_X86_KERNEL_IBT
	if (cpu_feature_enabled(X86_FEATURE_IBT))
		return -EOPNOTSUPP;
#endif
	if (READ_ONCE(kernel_alloc_pid) && READ_ONCE(kernel_free_pid))
		return 0;
	ret = shadowpid_symbol_range("alloc_pid", &alloc_start, &end);
	if (!ret)
		ret = shadowpid_symbol_range("free_pid", &free_start, &end);
	if (ret)
		return ret;
	/* Racing resolvers store the same values. */
	WRITE_ONCE(kernel_alloc_pid, (typeof(&alloc_pid))alloc_start);
	WRITE_ONCE(kernel_free_pid, (typeof(&free_pid))free_start);
	return 0;
}

struct pid_namespace *shadowpid_kernel_ns_get(void)
{
	struct pid_namespace *ns = task_active_pid_ns(current);

	return ns ? get_pid_ns(ns) : NULL;
}

void shadowpid_kernel_ns_put(struct pid_namespace *ns)
{
	put_pid_ns(ns);
}

unsigned int shadowpid_kernel_ns_level(const struct pid_namespace *ns)
{
	return ns->level;
}

struct pid_namespace *shadowpid_kernel_ns_at(struct pid_namespace *ns, unsigned int level)
{
	while (ns->level > level)
		ns = ns->parent;
	return ns;
}

int shadowpid_kernel_ns_pid_max(const struct pid_namespace *ns)
{
	return READ_ONCE(ns->pid_max);
}

int shadowpid_kernel_ns_cursor(const struct pid_namespace *ns)
{
	return idr_get_cursor(&ns->idr);
}

void shadowpid_kernel_ns_set_cursor(struct pid_namespace *ns, int cursor)
{
	idr_set_cursor(&ns->idr, cursor);
}

struct pid *shadowpid_kernel_alloc_pid(struct pid_namespace *ns)
{
	typeof(&alloc_pid) fn = READ_ONCE(kernel_alloc_pid);

	/* Not resolved (shadowpid_kernel_resolve() failed or never ran): say
	 * so rather than call nothing. */
	if (!fn || !READ_ONCE(kernel_free_pid))
		return ERR_PTR(-ENOENT);
	return fn(ns, NULL, 0);
}

void shadowpid_kernel_free_pid(struct pid *pid)
{
	READ_ONCE(kernel_free_pid)(pid);
}

int shadowpid_kernel_pid_nr(struct pid *pid, struct pid_namespace *ns)
{
	return pid_nr_ns(pid, ns);
}

int shadowpid_kernel_find(struct pid_namespace *ns, int nr, int read)
{
	struct pid *pid;
	int ret = -1;

	rcu_read_lock();
	pid = find_pid_ns(nr, ns);
	if (pid)
		ret = read ? pid_nr_ns(pid, ns) : 1;
	rcu_read_unlock();
	return ret;
}

int shadowpid_kernel_nop(struct pid_namespace *ns, int nr, int read)
{
	return nr;
}

int shadowpid_kernel_find_ge(struct pid_namespace *ns, int nr)
{
	struct pid *pid;
	int ret = -1;

	rcu_read_lock();
	pid = find_ge_pid(nr, ns);
	if (pid)
		ret = pid_nr_ns(pid, ns);
	rcu_read_unlock();
	return ret;
}

__u64 shadowpid_kernel_pid_bytes(const struct pid *pid)
{
	return ksize(pid);
}

__u64 shadowpid_kernel_idr_bytes(struct pid_namespace *ns)
{
	unsigned long nodes;

	rcu_read_lock();
	nodes = shadowpid_idr_nodes(&ns->idr);
	rcu_read_unlock();
	return (__u64)nodes * sizeof(struct xa_node);
}

int shadowpid_kernel_pidfs_table(__u64 *bytes, __u64 *entries)
{
	struct bucket_table *tbl;
	struct rhashtable *ht;

	/* A data symbol: in kallsyms only with CONFIG_KALLSYMS_ALL. */
	ht = (struct rhashtable *)shadowpid_symbol_address("pidfs_ino_ht");
	if (!ht)
		return -ENOENT;
	/* A resize the insertions asked for (through the irq_work that kicks
	 * the worker) is let finish: the table as the kernel leaves it. */
	irq_work_sync(&ht->run_irq_work);
	flush_work(&ht->run_work);
	rcu_read_lock();
	tbl = rcu_dereference(ht->tbl);
	*bytes = struct_size(tbl, buckets, tbl->size);
	*entries = atomic_read(&ht->nelems);
	rcu_read_unlock();
	return 0;
}

static int (*kernel_pidfs_add_pid)(struct pid *pid);
static void (*kernel_pidfs_remove_pid)(struct pid *pid);

int shadowpid_kernel_pidfs_resolve(void)
{
	unsigned long add, remove;

	if (READ_ONCE(kernel_pidfs_add_pid) && READ_ONCE(kernel_pidfs_remove_pid))
		return 0;
	add = shadowpid_symbol_address("pidfs_add_pid");
	remove = shadowpid_symbol_address("pidfs_remove_pid");
	if (!add || !remove)
		return -ENOENT;
	WRITE_ONCE(kernel_pidfs_add_pid, (typeof(kernel_pidfs_add_pid))add);
	WRITE_ONCE(kernel_pidfs_remove_pid, (typeof(kernel_pidfs_remove_pid))remove);
	return 0;
}

int shadowpid_kernel_pidfs_cycle(struct pid *pid, unsigned int n)
{
	typeof(kernel_pidfs_add_pid) add = READ_ONCE(kernel_pidfs_add_pid);
	typeof(kernel_pidfs_remove_pid) remove = READ_ONCE(kernel_pidfs_remove_pid);
	int ret = 0;

	if (!add || !remove)
		return -ENOENT;
	/* What free_pid() and alloc_pid() do for pidfs, in that order: the
	 * pid leaves the table and comes back under a new inode number. A
	 * failed add leaves ino 0, which free_pid()'s remove skips. */
	while (n-- && !ret) {
		remove(pid);
		ret = add(pid);
	}
	return ret;
}
