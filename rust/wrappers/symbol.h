/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where a kernel function lies, by name, for the C glue of the layers that
 * reach functions the kernel does not export (the live mirror's caller
 * filter, the benchmark's kernel column). kallsyms_lookup_name() is not
 * exported to modules; a kprobe registered on the name resolves it.
 */
#ifndef SHADOWPID_WRAPPERS_SYMBOL_H
#define SHADOWPID_WRAPPERS_SYMBOL_H

/*
 * The [start, end) of the text of function @name: 0, or -errno (-ENOENT if
 * the kernel has no such function, or one kprobes refuse). May sleep.
 */
int shadowpid_symbol_range(const char *name, unsigned long *start, unsigned long *end);
/* The address of symbol @name (kallsyms_lookup_name()), or 0. */
unsigned long shadowpid_symbol_address(const char *name);

#endif /* SHADOWPID_WRAPPERS_SYMBOL_H */
