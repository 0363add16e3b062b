// SPDX-License-Identifier: GPL-2.0
/*
 * Where a kernel function lies, by name (see symbol.h).
 */
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/string.h>

#include "symbol.h"

/*
 * A kprobe on the name gives an address in the function, and sprint_symbol()
 * its offset and size ("name+0x4/0x4e0"). The kprobe is registered disabled:
 * it resolves the name and never touches the text (arming and removing a
 * breakpoint per lookup would be text patching for nothing, and under
 * multi-threaded TCG a removed breakpoint can still be hit: scripts/vm).
 */
int shadowpid_symbol_range(const char *name, unsigned long *start, unsigned long *end)
{
	struct kprobe kp = { .symbol_name = name, .flags = KPROBE_FLAG_DISABLED };
	char buf[KSYM_SYMBOL_LEN], *plus;
	unsigned long addr, off, size;
	int ret;

	ret = register_kprobe(&kp);
	if (ret)
		return ret;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	sprint_symbol(buf, addr);
	plus = strrchr(buf, '+');
	if (!plus || sscanf(plus, "+%lx/%lx", &off, &size) != 2 || off > addr)
		return -ENOENT;
	*start = addr - off;
	*end = *start + size;
	return 0;
}

/*
 * kallsyms_lookup_name() is not exported: its own address is found as a
 * function's is, once. It finds what a kprobe may not sit on (the rethook
 * trampoline, NOKPROBE functions) and data symbols (with KALLSYMS_ALL).
 */
static unsigned long (*lookup_name)(const char *name);

unsigned long shadowpid_symbol_address(const char *name)
{
	unsigned long (*lookup)(const char *name) = READ_ONCE(lookup_name);
	unsigned long start, end;

	if (!lookup) {
		if (shadowpid_symbol_range("kallsyms_lookup_name", &start, &end))
			return 0;
		lookup = (typeof(lookup))start;
		/* Racing callers store the same value. */
		WRITE_ONCE(lookup_name, lookup);
	}
	return lookup(name);
}
