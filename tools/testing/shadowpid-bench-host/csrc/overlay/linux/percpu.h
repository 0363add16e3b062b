/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Overlay for tools/testing/shared/linux/percpu.h (found first on the include
 * path): the same macros, but a per-cpu variable is per *thread*. The only
 * per-cpu variable idr/radix-tree use is radix_tree_preloads, the node pool
 * idr_preload() fills and radix_tree_node_alloc(GFP_ATOMIC) takes from; the
 * shim makes it one unsynchronised global (local_lock() is a no-op), which
 * threads preloading concurrently corrupt. Per thread it is what the kernel
 * has per CPU with preemption disabled between idr_preload and _end.
 */
#define DECLARE_PER_CPU(type, val) extern __thread type val
#define DEFINE_PER_CPU(type, val) __thread type val
#define __get_cpu_var(var)	var
#define this_cpu_ptr(var)	var
#define this_cpu_read(var)	var
#define this_cpu_xchg(var, val)		uatomic_xchg(&var, val)
#define this_cpu_cmpxchg(var, old, new)	uatomic_cmpxchg(&var, old, new)
#define per_cpu_ptr(ptr, cpu)   ({ (void)(cpu); (ptr); })
#define per_cpu(var, cpu)	(*per_cpu_ptr(&(var), cpu))
