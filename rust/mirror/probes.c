// SPDX-License-Identifier: GPL-2.0
/*
 * The live mirror's hooks (see probes.h): kretprobes and kprobes on the IDR
 * calls of kernel/pid.c, filtered by their caller.
 */
#include <linux/atomic.h>
#include <linux/idr.h>
#include <linux/kprobes.h>
#include <linux/log2.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/threads.h>
#include <linux/timekeeping.h>

#include "../../include/uapi/linux/shadowpid.h"
#include "../wrappers/symbol.h"
#include "probes.h"

#ifndef CONFIG_X86_64
/* The caller is read from the return address at the top of the stack on
 * entry: x86-64's calling convention. Elsewhere it sits in a register. */
#error "the live mirror attributes events as only x86-64 allows"
#endif

/* The mirror keeps its shadows' numbers below the kernel's own limit. */
static_assert(PID_MAX_LIMIT == SHADOWPID_PID_MAX_LIMIT);
static_assert(RESERVED_PIDS == SHADOWPID_RESERVED_PIDS);
/* A namespace's ancestry has a slot per level. */
static_assert(MAX_PID_NS_LEVEL + 1 == SHADOWPID_NR_LEVELS);

/*
 * Callers whose IDR calls are pid numbers, and those that destroy a pid
 * namespace's IDR (destroy_pid_namespace() and create_pid_namespace() are
 * static: the compiler may fold them into their callers, so each name that
 * exists counts; one of each pair must).
 */
enum {
	CALLER_ALLOC_PID, CALLER_FREE_PID, CALLER_FREE_PIDS,
	CALLER_DESTROY, CALLER_DESTROY_WORK, CALLER_CREATE, CALLER_COPY,
	CALLERS
};
static const char *const caller_names[CALLERS] = {
	"alloc_pid", "free_pid", "free_pids",
	"destroy_pid_namespace", "destroy_pid_namespace_work",
	"create_pid_namespace", "copy_pid_ns",
};
#define CALLERS_NUMBERS ((1U << CALLER_ALLOC_PID) | (1U << CALLER_FREE_PID) | \
			 (1U << CALLER_FREE_PIDS))
#define CALLERS_DESTROY ((1U << CALLER_DESTROY) | (1U << CALLER_DESTROY_WORK) | \
			 (1U << CALLER_CREATE) | (1U << CALLER_COPY))
/*
 * The compiler may split a caller into clones (a .cold part, .part.N,
 * .isra.N, .constprop.N): each clone that exists is a range of the caller.
 */
static const char *const clone_suffixes[] = {
	"", ".cold", ".part.0", ".part.1", ".isra.0", ".isra.1", ".constprop.0", ".constprop.1",
};
#define CLONES ARRAY_SIZE(clone_suffixes)
static unsigned long caller_start[CALLERS][CLONES], caller_end[CALLERS][CLONES];

/* Another kretprobe (or fprobe) on the same function, registered first,
 * has put its return trampoline where the caller's address was. */
static unsigned long trampoline;
static unsigned long (*find_ret_addr)(struct task_struct *tsk, unsigned long frame,
				      struct llist_node **cur);
/* Events whose caller could not be read (a trampoline whose original
 * address was not found): counted, never silently dropped. */
static atomic64_t unattributed = ATOMIC64_INIT(0);
/* ns_last_pid writes under way (entered, not returned). */
static atomic_t cursor_writers = ATOMIC_INIT(0);

static const struct shadowpid_probe_ops *ops;
static void *ops_data;

/* The kernel's own pidmap_lock (static in kernel/pid.c; found by name). */
static spinlock_t *kernel_pidmap_lock;

/* How long the mirror held pidmap_lock, by enum shadowpid_mirror_hold. */
static atomic64_t hold_hist[SHADOWPID_MIRROR_HOLDS][SHADOWPID_MIRROR_HOLD_BUCKETS];
static atomic64_t hold_max[SHADOWPID_MIRROR_HOLDS];

/* Bucket of a duration (see SHADOWPID_MIRROR_HOLD_BUCKETS): exact below 4
 * ns, then four buckets per power of two. */
static unsigned int hold_bucket(u64 ns)
{
	unsigned int l, b;

	if (ns < 4)
		return ns;
	l = ilog2(ns);
	b = (l - 1) * 4 + ((ns >> (l - 2)) & 3);
	return min(b, SHADOWPID_MIRROR_HOLD_BUCKETS - 1U);
}

void shadowpid_hold_record(unsigned int what, u64 ns)
{
	s64 max = atomic64_read(&hold_max[what]);

	atomic64_inc(&hold_hist[what][hold_bucket(ns)]);
	while ((u64)max < ns && !atomic64_try_cmpxchg(&hold_max[what], &max, ns))
		;
}

void shadowpid_hold_read(__u64 *hist, __u64 *max)
{
	for (int w = 0; w < SHADOWPID_MIRROR_HOLDS; w++) {
		for (int b = 0; b < SHADOWPID_MIRROR_HOLD_BUCKETS; b++)
			hist[w * SHADOWPID_MIRROR_HOLD_BUCKETS + b] = atomic64_read(&hold_hist[w][b]);
		max[w] = atomic64_read(&hold_max[w]);
	}
}

u64 shadowpid_now_ns(void)
{
	return ktime_get_mono_fast_ns();
}

/* Whether the function entered at `regs` was called from one of `callers`
 * (its return address, at the top of the stack on entry, or behind the
 * trampoline of a kretprobe registered before ours). */
static bool called_from(struct pt_regs *regs, unsigned int callers)
{
	unsigned long sp = kernel_stack_pointer(regs);
	unsigned long ret = *(unsigned long *)sp;

	if (ret == trampoline) {
		struct llist_node *cur = NULL;

		/* The rethook of the earlier kretprobe recorded this frame. */
		ret = find_ret_addr ? find_ret_addr(current, sp, &cur) : 0;
		if (!ret) {
			atomic64_inc(&unattributed);
			return false;
		}
	}
	for (int i = 0; i < CALLERS; i++) {
		if (!(callers & (1U << i)))
			continue;
		for (int c = 0; c < CLONES; c++)
			if (ret >= caller_start[i][c] && ret < caller_end[i][c])
				return true;
	}
	return false;
}

/* Entry handlers: NMI context on x86 (a breakpoint), so they only record. */
static int alloc_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct shadowpid_alloc_event *ev = (void *)ri->data;
	struct idr *idr;

	if (!called_from(regs, 1U << CALLER_ALLOC_PID))
		return 1;	/* not ours: no return handler */
	idr = (struct idr *)regs_get_kernel_argument(regs, 0);
	ev->idr = idr;
	ev->start = regs_get_kernel_argument(regs, 2);
	ev->end = regs_get_kernel_argument(regs, 3);
	ev->cursor = idr_get_cursor(idr);
	/* A pid namespace's IDR (the caller is alloc_pid()); pidmap_lock is
	 * held, so this is what alloc_pid() saw when it reset the cursor. */
	ev->adding = READ_ONCE(container_of(idr, struct pid_namespace, idr)->pid_allocated) ==
		     PIDNS_ADDING;
	return 0;
}

static int remove_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct shadowpid_alloc_event *ev = (void *)ri->data;

	if (!called_from(regs, CALLERS_NUMBERS))
		return 1;
	ev->idr = (void *)regs_get_kernel_argument(regs, 0);
	ev->start = regs_get_kernel_argument(regs, 1);
	return 0;
}

static int destroy_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct shadowpid_alloc_event *ev = (void *)ri->data;

	if (!called_from(regs, CALLERS_DESTROY))
		return 1;
	ev->idr = (void *)regs_get_kernel_argument(regs, 0);
	return 0;
}

/* pid_ns_ctl_handler(table, write, ...): a write to ns_last_pid, in the
 * writer's namespace. */
static int cursor_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct shadowpid_alloc_event *ev = (void *)ri->data;

	if (!regs_get_kernel_argument(regs, 1))
		return 1;	/* a read */
	/* Counted before the write can happen: a fork that sees the new
	 * cursor before the return handler has run is explained by this. */
	atomic_inc(&cursor_writers);
	ev->idr = &task_active_pid_ns(current)->idr;
	return 0;
}

/* Return handlers: the probed function's context, where the mirror runs. */
/*
 * The mirror's lock is taken in these handlers and in process context with
 * interrupts on: sound because no interrupt path reaches a probed call from
 * the callers kept (alloc_pid(), free_pid(), free_pids() hold 7.3's
 * pidmap_lock, a plain spinlock no interrupt path takes; namespaces are
 * destroyed from a work item). Say so loudly if that ever changes.
 */
static bool context_ok(void)
{
	return !WARN_ON_ONCE(in_hardirq() || in_serving_softirq() || in_nmi());
}

static int cyclic_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	u64 t0 = ktime_get_mono_fast_ns();

	if (!context_ok())
		return 0;
	ops->alloc_done(ops_data, SHADOWPID_PROBE_CYCLIC, (void *)ri->data,
			(int)regs_return_value(regs));
	shadowpid_hold_record(SHADOWPID_MIRROR_HOLD_EVENT, ktime_get_mono_fast_ns() - t0);
	return 0;
}

static int fixed_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	u64 t0 = ktime_get_mono_fast_ns();

	if (!context_ok())
		return 0;
	ops->alloc_done(ops_data, SHADOWPID_PROBE_FIXED, (void *)ri->data,
			(int)regs_return_value(regs));
	shadowpid_hold_record(SHADOWPID_MIRROR_HOLD_EVENT, ktime_get_mono_fast_ns() - t0);
	return 0;
}

static int remove_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct shadowpid_alloc_event *ev = (void *)ri->data;
	u64 t0 = ktime_get_mono_fast_ns();

	if (!context_ok())
		return 0;
	ops->removed(ops_data, ev->idr, ev->start);
	shadowpid_hold_record(SHADOWPID_MIRROR_HOLD_EVENT, ktime_get_mono_fast_ns() - t0);
	return 0;
}

static int destroy_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct shadowpid_alloc_event *ev = (void *)ri->data;

	if (!context_ok())
		return 0;
	ops->destroyed(ops_data, ev->idr);
	return 0;
}

static int cursor_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct shadowpid_alloc_event *ev = (void *)ri->data;

	if (!context_ok()) {
		atomic_dec(&cursor_writers);
		return 0;
	}
	/* Told first, uncounted after: never a moment when neither says it. */
	ops->cursor_written(ops_data, ev->idr);
	atomic_dec(&cursor_writers);
	return 0;
}

#define SHADOWPID_KRETPROBE(sym, entry, ret) {				\
	.kp.symbol_name = sym,						\
	.entry_handler = entry,						\
	.handler = ret,							\
	.data_size = sizeof(struct shadowpid_alloc_event),		\
}

/* In the order of enum shadowpid_probe. */
static struct kretprobe probes[SHADOWPID_PROBE_COUNT] = {
	SHADOWPID_KRETPROBE("idr_alloc_cyclic", alloc_entry, cyclic_return),
	SHADOWPID_KRETPROBE("idr_alloc", alloc_entry, fixed_return),
	SHADOWPID_KRETPROBE("idr_remove", remove_entry, remove_return),
	SHADOWPID_KRETPROBE("idr_destroy", destroy_entry, destroy_return),
	SHADOWPID_KRETPROBE("pid_ns_ctl_handler", cursor_entry, cursor_return),
};
static struct kretprobe *probe_list[SHADOWPID_PROBE_COUNT] = {
	&probes[0], &probes[1], &probes[2], &probes[3], &probes[4],
};

/* Whether any clone of caller `i` was found. */
static bool caller_found(int i)
{
	for (int c = 0; c < CLONES; c++)
		if (caller_end[i][c])
			return true;
	return false;
}

int shadowpid_probes_register(const struct shadowpid_probe_ops *o, void *data,
			      unsigned int maxactive)
{
	char name[KSYM_NAME_LEN];

	/* spinlock_t sleeps there, and kretprobe handlers must not. */
	if (IS_ENABLED(CONFIG_PREEMPT_RT))
		return -EOPNOTSUPP;
	for (int i = 0; i < CALLERS; i++) {
		for (int c = 0; c < CLONES; c++) {
			snprintf(name, sizeof(name), "%s%s", caller_names[i], clone_suffixes[c]);
			/* An empty range never matches. */
			if (shadowpid_symbol_range(name, &caller_start[i][c], &caller_end[i][c]))
				caller_start[i][c] = caller_end[i][c] = 0;
		}
		if (i <= CALLER_FREE_PIDS && !caller_found(i))
			return -ENOENT;
	}
	if (!caller_found(CALLER_DESTROY) && !caller_found(CALLER_DESTROY_WORK))
		return -ENOENT;
	if (!caller_found(CALLER_CREATE) && !caller_found(CALLER_COPY))
		return -ENOENT;
	/* Not exported: found by name, as the callers are. */
	trampoline = shadowpid_symbol_address("arch_rethook_trampoline");
	find_ret_addr = (typeof(find_ret_addr))shadowpid_symbol_address("rethook_find_ret_addr");
	kernel_pidmap_lock = (spinlock_t *)shadowpid_symbol_address("pidmap_lock");
	if (!trampoline || !find_ret_addr || !kernel_pidmap_lock)
		return -ENOENT;
	for (int w = 0; w < SHADOWPID_MIRROR_HOLDS; w++) {
		for (int b = 0; b < SHADOWPID_MIRROR_HOLD_BUCKETS; b++)
			atomic64_set(&hold_hist[w][b], 0);
		atomic64_set(&hold_max[w], 0);
	}
	ops = o;
	ops_data = data;
	atomic64_set(&unattributed, 0);
	/* A write under way at the last detach never returns to us. */
	atomic_set(&cursor_writers, 0);
	/* A probe may be registered again once its address is cleared. At
	 * least the kernel's default of instances (one per CPU that can be
	 * inside a probed call, twice), unless asked for fewer (tests). */
	for (int i = 0; i < SHADOWPID_PROBE_COUNT; i++) {
		probes[i].kp.addr = NULL;
		probes[i].kp.flags = 0;
		probes[i].kp.nmissed = 0;
		probes[i].nmissed = 0;
		probes[i].maxactive = maxactive ?: max(64U, 2U * num_possible_cpus());
	}
	return register_kretprobes(probe_list, SHADOWPID_PROBE_COUNT);
}

void shadowpid_probes_unregister(void)
{
	/* Waits until no handler runs any more. */
	unregister_kretprobes(probe_list, SHADOWPID_PROBE_COUNT);
}

void shadowpid_probes_missed(__u64 *out)
{
	for (int i = 0; i < SHADOWPID_PROBE_COUNT; i++)
		out[i] = READ_ONCE(probes[i].nmissed) + READ_ONCE(probes[i].kp.nmissed);
}

__u64 shadowpid_probes_unattributed(void)
{
	return atomic64_read(&unattributed);
}

int shadowpid_probes_cursor_writers(void)
{
	return atomic_read(&cursor_writers);
}

static void pidns_info(struct pid_namespace *ns, struct shadowpid_pidns_info *out)
{
	out->level = ns->level;
	out->inum = ns->ns.inum;
	out->pid_max = READ_ONCE(ns->pid_max);
	out->id = ns->ns.ns_id;
}

void shadowpid_pidns_of_idr(void *idr, struct shadowpid_pidns_info *out)
{
	pidns_info(container_of((struct idr *)idr, struct pid_namespace, idr), out);
}

int shadowpid_idr_cursor(void *idr)
{
	return idr_get_cursor(idr);
}

int shadowpid_idr_batch(void *idr, int from, int *out, int max)
{
	int n = 0, id = from;

	/* A long walk yields between its batches: it runs in a work item. */
	cond_resched();
	/* The IDR's radix tree may be walked under RCU; nodes a removal frees
	 * wait for the grace period. */
	rcu_read_lock();
	while (n < max && idr_get_next(idr, &id)) {
		out[n++] = id;
		if (id == INT_MAX)
			break;
		id++;
	}
	rcu_read_unlock();
	return n;
}

void shadowpid_pidns_get(void *idr)
{
	get_pid_ns(container_of((struct idr *)idr, struct pid_namespace, idr));
}

void shadowpid_pidns_put(void *idr)
{
	put_pid_ns(container_of((struct idr *)idr, struct pid_namespace, idr));
}

void shadowpid_pidns_ancestors(void *idr, __u64 *ids)
{
	struct pid_namespace *ns = container_of((struct idr *)idr, struct pid_namespace, idr);

	for (; ns; ns = ns->parent)
		ids[ns->level] = ns->ns.ns_id;
}

void shadowpid_caller_pidns(struct shadowpid_pidns_info *out)
{
	pidns_info(task_active_pid_ns(current), out);
}

/*
 * Interrupts off, unlike the kernel's own holders: every CPU forking waits on
 * this hold, which is bounded by the log only if no interrupt, and no
 * softirq run on its way out (RCU callbacks, under KASAN milliseconds of
 * them), lands inside it. No interrupt path takes pidmap_lock, so mixing
 * the two is sound.
 */
void shadowpid_kernel_pidmap_lock(void)
{
	spin_lock_irq(kernel_pidmap_lock);
}

void shadowpid_kernel_pidmap_unlock(void)
{
	spin_unlock_irq(kernel_pidmap_lock);
}
