// SPDX-License-Identifier: GPL-2.0
/*
 * The live mirror's hooks (see probes.h): kretprobes and kprobes on the IDR
 * calls of kernel/pid.c, filtered by their caller.
 */
#include <linux/idr.h>
#include <linux/kprobes.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>

#include "../wrappers/symbol.h"
#include "probes.h"

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
static unsigned long caller_start[CALLERS], caller_end[CALLERS];

static const struct shadowpid_probe_ops *ops;
static void *ops_data;

/* Whether the function entered at `regs` was called from one of `callers`
 * (its return address, at the top of the stack on entry). */
static bool called_from(struct pt_regs *regs, unsigned int callers)
{
	unsigned long ret = *(unsigned long *)kernel_stack_pointer(regs);

	for (int i = 0; i < CALLERS; i++)
		if ((callers & (1U << i)) && ret >= caller_start[i] && ret < caller_end[i])
			return true;
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

/* Return handlers: the probed function's context, where the mirror runs. */
static int cyclic_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	ops->alloc_done(ops_data, SHADOWPID_PROBE_CYCLIC, (void *)ri->data,
			(int)regs_return_value(regs));
	return 0;
}

static int fixed_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	ops->alloc_done(ops_data, SHADOWPID_PROBE_FIXED, (void *)ri->data,
			(int)regs_return_value(regs));
	return 0;
}

static int remove_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct shadowpid_alloc_event *ev = (void *)ri->data;

	ops->removed(ops_data, ev->idr, ev->start);
	return 0;
}

static int destroy_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct shadowpid_alloc_event *ev = (void *)ri->data;

	ops->destroyed(ops_data, ev->idr);
	return 0;
}

#define SHADOWPID_KRETPROBE(sym, entry, ret) {				\
	.kp.symbol_name = sym,						\
	.entry_handler = entry,						\
	.handler = ret,							\
	.data_size = sizeof(struct shadowpid_alloc_event),		\
	.maxactive = 64,						\
}

/* In the order of enum shadowpid_probe. */
static struct kretprobe probes[SHADOWPID_PROBE_COUNT] = {
	SHADOWPID_KRETPROBE("idr_alloc_cyclic", alloc_entry, cyclic_return),
	SHADOWPID_KRETPROBE("idr_alloc", alloc_entry, fixed_return),
	SHADOWPID_KRETPROBE("idr_remove", remove_entry, remove_return),
	SHADOWPID_KRETPROBE("idr_destroy", destroy_entry, destroy_return),
};
static struct kretprobe *probe_list[SHADOWPID_PROBE_COUNT] = {
	&probes[0], &probes[1], &probes[2], &probes[3],
};

int shadowpid_probes_register(const struct shadowpid_probe_ops *o, void *data)
{
	int ret;

	for (int i = 0; i < CALLERS; i++) {
		ret = shadowpid_symbol_range(caller_names[i], &caller_start[i], &caller_end[i]);
		if (ret) {
			/* An empty range: never matches. */
			caller_start[i] = caller_end[i] = 0;
			if (i <= CALLER_FREE_PIDS)
				return ret;
		}
	}
	if (!caller_end[CALLER_DESTROY] && !caller_end[CALLER_DESTROY_WORK])
		return -ENOENT;
	if (!caller_end[CALLER_CREATE] && !caller_end[CALLER_COPY])
		return -ENOENT;
	ops = o;
	ops_data = data;
	/* A probe may be registered again once its address is cleared. */
	for (int i = 0; i < SHADOWPID_PROBE_COUNT; i++) {
		probes[i].kp.addr = NULL;
		probes[i].kp.flags = 0;
		probes[i].kp.nmissed = 0;
		probes[i].nmissed = 0;
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
		out[i] = probes[i].nmissed + probes[i].kp.nmissed;
}

void shadowpid_pidns_of_idr(void *idr, struct shadowpid_pidns_info *out)
{
	struct pid_namespace *ns = container_of((struct idr *)idr, struct pid_namespace, idr);

	out->level = ns->level;
	out->inum = ns->ns.inum;
	out->pid_max = READ_ONCE(ns->pid_max);
}

int shadowpid_idr_cursor(void *idr)
{
	return idr_get_cursor(idr);
}

int shadowpid_idr_next(void *idr, int nr)
{
	int id = nr;

	return idr_get_next(idr, &id) ? id : -1;
}
