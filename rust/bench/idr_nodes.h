/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Counting an IDR's radix-tree nodes, shared by the benchmark's rebuild
 * (rebuild.c, which defines it) and kernel column (kernel_pid.c). C only.
 */
#ifndef SHADOWPID_BENCH_IDR_NODES_H
#define SHADOWPID_BENCH_IDR_NODES_H

#include <linux/idr.h>

/* Nodes of @idr's tree; the caller keeps them from being freed (the IDR's
 * lock, or rcu_read_lock(): nodes are freed after a grace period). */
unsigned long shadowpid_idr_nodes(const struct idr *idr);

#endif /* SHADOWPID_BENCH_IDR_NODES_H */
