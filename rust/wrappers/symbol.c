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
