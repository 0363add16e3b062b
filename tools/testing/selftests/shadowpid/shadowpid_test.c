// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests for /dev/shadowpid: the device node, the ioctl surface, who may
 * open it, and loading and unloading the module.
 *
 * Expects the module to be loaded.  The tests that reload it need the path
 * of shadowpid.ko in $SHADOWPID_KO, and non_root_refused needs root; without
 * them they are skipped, except inside the test VM ($SHADOWPID_IN_VM=1, set
 * by scripts/vm), where they exist by construction and a missing one is a
 * failure.  The reloading tests leave the module loaded.
 *
 * No verdict depends on the clock: a race runs until it has seen enough
 * events, and a wait for the module's deferred work is
 * SHADOWPID_IOC_BARRIER, not a poll.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/shadowpid.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define DEV "/dev/shadowpid"

static int open_dev(void)
{
	return open(DEV, O_RDWR | O_CLOEXEC);
}

/* Whether this runs in the test VM, where every prerequisite exists. */
static bool in_test_vm(void)
{
	const char *v = getenv("SHADOWPID_IN_VM");

	return v && !strcmp(v, "1");
}

/*
 * A prerequisite of the test: without it, a skip on a developer's machine,
 * a failure inside the test VM (a skip there would count as nothing).
 */
#define REQUIRE(cond, why) do {						\
	if (!(cond)) {							\
		if (in_test_vm())					\
			ASSERT_TRUE(!!(cond))				\
				TH_LOG("%s: missing inside the test VM", why); \
		SKIP(return, "%s", why);				\
	}								\
} while (0)

/* SHADOWPID_IOC_BARRIER: the module's deferred work queued so far is done. */
static int barrier(int fd)
{
	return ioctl(fd, SHADOWPID_IOC_BARRIER) ? -errno : 0;
}


/* One operation; returns its result (0 or -errno), or the ioctl's -errno. */
static int op(int fd, struct shadowpid_op *o)
{
	if (ioctl(fd, SHADOWPID_IOC_OP, o))
		return -errno;
	return o->result;
}

static int do_op(int fd, __u32 code, __u32 ns, __s32 nr, __u32 a0, __u32 a1, __u32 a2,
		 struct shadowpid_op *out)
{
	struct shadowpid_op o = {
		.op = code, .ns = ns, .nr = nr, .arg = { a0, a1, a2 },
	};
	int ret = op(fd, &o);

	if (out)
		*out = o;
	return ret;
}

/* alloc in ns with set_tid; returns the number in ns, or -errno. */
static int alloc_tid(int fd, __u32 ns, const int *tid, int n, struct shadowpid_op *out)
{
	struct shadowpid_op o = { .op = SHADOWPID_OP_ALLOC, .ns = ns, .count = n };
	int ret;

	for (int i = 0; i < n; i++)
		o.nrs[i] = tid[i];
	ret = op(fd, &o);
	if (out)
		*out = o;
	return ret ? ret : (int)o.value;
}

static int alloc(int fd, __u32 ns)
{
	return alloc_tid(fd, ns, NULL, 0, NULL);
}

static int ns_create(int fd, __u32 parent)
{
	struct shadowpid_op o;
	int ret = do_op(fd, SHADOWPID_OP_NS_CREATE, parent, 0, 0, 0, 0, &o);

	return ret ? ret : (int)o.value;
}

static int set(int fd, __u32 code, __u32 ns, __u32 v)
{
	return do_op(fd, code, ns, 0, v, 0, 0, NULL);
}

TEST(device_node)
{
	struct stat st;

	ASSERT_EQ(0, stat(DEV, &st)) TH_LOG("%s: %s", DEV, strerror(errno));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(0, st.st_gid);
}

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open_dev();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", DEV, strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

TEST_F(dev, version)
{
	struct shadowpid_version v;

	memset(&v, 0xa5, sizeof(v));
	ASSERT_EQ(0, ioctl(self->fd, SHADOWPID_IOC_VERSION, &v));
	EXPECT_EQ(SHADOWPID_ABI_VERSION, v.abi_version);
	EXPECT_EQ(0, v.reserved);
}

TEST_F(dev, version_bad_pointer)
{
	EXPECT_EQ(-1, ioctl(self->fd, SHADOWPID_IOC_VERSION, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, SHADOWPID_IOC_VERSION, (void *)1));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(dev, unknown_commands)
{
	/* An unused number of ours, a foreign magic, a wrong size for ours. */
	const unsigned long cmds[] = {
		_IO(SHADOWPID_IOC_MAGIC, 0xff),
		_IOR(SHADOWPID_IOC_MAGIC, 0x7f, __u64),
		_IOR('T', 0x00, struct shadowpid_version),
		_IOR(SHADOWPID_IOC_MAGIC, 0x00, __u32),
		_IOR(SHADOWPID_IOC_MAGIC, 0x06, __u32),	/* BARRIER takes none */
		0,
	};
	char buf[64] = { 0 };

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, cmds[i], buf)) TH_LOG("cmd %#lx", cmds[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd %#lx", cmds[i]);
	}
}


TEST_F(dev, alloc_first_is_init_then_cyclic)
{
	struct shadowpid_op o;

	EXPECT_EQ(1, alloc(self->fd, 0));
	EXPECT_EQ(2, alloc(self->fd, 0));
	EXPECT_EQ(0, set(self->fd, SHADOWPID_OP_SET_LAST_PID, 0, 500));
	EXPECT_EQ(501, alloc(self->fd, 0));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_FIND, 0, 501, 0, 0, 0, &o));
	EXPECT_EQ(0, o.level);
	EXPECT_EQ(501, o.nrs[0]);
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_NEXT, 0, 3, 0, 0, 0, &o));
	EXPECT_EQ(501, o.value);
	EXPECT_EQ(-ESRCH, do_op(self->fd, SHADOWPID_OP_NEXT, 0, 502, 0, 0, 0, NULL));
	EXPECT_EQ(-ESRCH, do_op(self->fd, SHADOWPID_OP_FIND, 0, 3, 0, 0, 0, NULL));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_FREE, 0, 501, 0, 0, 0, NULL));
	EXPECT_EQ(-ESRCH, do_op(self->fd, SHADOWPID_OP_FREE, 0, 501, 0, 0, 0, NULL));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_CHECK, 0, 0, 0, 0, 0, NULL));
}

TEST_F(dev, wrap_to_300_and_exhaustion)
{
	int child;

	/* A namespace needs its parent's init first (7.3's copy_pid_ns()). */
	ASSERT_EQ(-EINVAL, ns_create(self->fd, 0));
	ASSERT_EQ(1, alloc(self->fd, 0));
	child = ns_create(self->fd, 0);
	ASSERT_EQ(1, child);
	ASSERT_EQ(1, alloc(self->fd, child));
	EXPECT_EQ(-EINVAL, set(self->fd, SHADOWPID_OP_SET_PID_MAX, child, 300));
	EXPECT_EQ(-EINVAL, set(self->fd, SHADOWPID_OP_SET_PID_MAX, child, 4194305));
	ASSERT_EQ(0, set(self->fd, SHADOWPID_OP_SET_PID_MAX, child, 400));
	ASSERT_EQ(0, set(self->fd, SHADOWPID_OP_SET_LAST_PID, child, 398));
	EXPECT_EQ(-EINVAL, set(self->fd, SHADOWPID_OP_SET_LAST_PID, child, 401));
	EXPECT_EQ(399, alloc(self->fd, child));
	EXPECT_EQ(300, alloc(self->fd, child));	/* past 300: wraps to 300 */
	for (int nr = 301; nr < 399; nr++)
		ASSERT_EQ(nr, alloc(self->fd, child));
	EXPECT_EQ(-EAGAIN, alloc(self->fd, child));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_FREE, child, 350, 0, 0, 0, NULL));
	EXPECT_EQ(350, alloc(self->fd, child));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_CHECK, child, 0, 0, 0, 0, NULL));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_CHECK, 0, 0, 0, 0, 0, NULL));
}

TEST_F(dev, set_tid)
{
	struct shadowpid_op o;
	int child, tid[3];

	ASSERT_EQ(1, alloc(self->fd, 0));
	child = ns_create(self->fd, 0);
	tid[0] = 5;
	EXPECT_EQ(-EINVAL, alloc_tid(self->fd, child, tid, 1, NULL));	/* init must be 1 */
	tid[0] = 1; tid[1] = 50;
	EXPECT_EQ(1, alloc_tid(self->fd, child, tid, 2, &o));
	EXPECT_EQ(1, o.level);
	EXPECT_EQ(50, o.nrs[0]);
	EXPECT_EQ(1, o.nrs[1]);
	tid[0] = 2; tid[1] = 50;
	EXPECT_EQ(-EEXIST, alloc_tid(self->fd, child, tid, 2, NULL));
	tid[0] = 0;
	EXPECT_EQ(-EINVAL, alloc_tid(self->fd, child, tid, 1, NULL));
	tid[0] = 2; tid[1] = 40000;	/* >= the root's pid_max */
	EXPECT_EQ(-EINVAL, alloc_tid(self->fd, child, tid, 2, NULL));
	tid[0] = 2; tid[1] = 60; tid[2] = 7;	/* longer than level + 1 */
	EXPECT_EQ(-EINVAL, alloc_tid(self->fd, child, tid, 3, NULL));
	/* set_tid does not move last_pid */
	EXPECT_EQ(2, alloc(self->fd, 0));
}

TEST_F(dev, init_gone_zaps_the_namespace)
{
	struct shadowpid_stats st = { 0 };
	int a, b;

	ASSERT_EQ(1, alloc(self->fd, 0));
	a = ns_create(self->fd, 0);
	ASSERT_EQ(1, alloc(self->fd, a));
	ASSERT_EQ(2, alloc(self->fd, a));
	b = ns_create(self->fd, a);
	ASSERT_EQ(1, alloc(self->fd, b));
	ASSERT_EQ(0, do_op(self->fd, SHADOWPID_OP_FREE, a, 1, 0, 0, 0, NULL));
	EXPECT_EQ(-ENOMEM, alloc(self->fd, a));
	EXPECT_EQ(-ENOMEM, alloc(self->fd, b));
	EXPECT_EQ(-ESRCH, do_op(self->fd, SHADOWPID_OP_NEXT, a, 0, 0, 0, 0, NULL));
	st.ns = a;
	ASSERT_EQ(0, ioctl(self->fd, SHADOWPID_IOC_STATS, &st));
	EXPECT_EQ(SHADOWPID_NS_HAS_REAPER, st.flags);	/* no longer accepting */
	EXPECT_EQ(0, st.live_pids);
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_CHECK, 0, 0, 0, 0, 0, NULL));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_CHECK, a, 0, 0, 0, 0, NULL));
	/* The root lives on. */
	EXPECT_LT(0, alloc(self->fd, 0));
}

TEST_F(dev, nesting_limit)
{
	int ns = 0, level;

	ASSERT_EQ(1, alloc(self->fd, 0));
	for (level = 1; level <= SHADOWPID_MAX_LEVEL; level++) {
		ns = ns_create(self->fd, ns);
		ASSERT_LT(0, ns) TH_LOG("level %d: %d", level, ns);
		ASSERT_EQ(1, alloc(self->fd, ns));
	}
	EXPECT_EQ(-ENOSPC, ns_create(self->fd, ns));
}

TEST_F(dev, pid_nr_ns_and_handles)
{
	struct shadowpid_op o;
	int child, h;

	ASSERT_EQ(1, alloc(self->fd, 0));
	child = ns_create(self->fd, 0);
	ASSERT_EQ(1, alloc(self->fd, child));	/* root number 2 */
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_NR_NS, 0, 2, child, 0, 0, &o));
	EXPECT_EQ(1, o.value);
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_NR_NS, 0, 1, child, 0, 0, &o));
	EXPECT_EQ(0, o.value);	/* the root's init is not visible below */
	EXPECT_EQ(-ENOENT, do_op(self->fd, SHADOWPID_OP_NR_NS, 0, 1, 99, 0, 0, NULL));
	ASSERT_EQ(0, do_op(self->fd, SHADOWPID_OP_GET, child, 1, 0, 0, 0, &o));
	h = o.value;
	ASSERT_EQ(0, do_op(self->fd, SHADOWPID_OP_FREE, 0, 2, 0, 0, 0, NULL));
	/* A held reference still answers with its old numbers. */
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_HANDLE_NR, 0, 0, h, 0, 0, &o));
	EXPECT_EQ(2, o.value);
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_PUT, 0, 0, h, 0, 0, NULL));
	EXPECT_EQ(-EBADF, do_op(self->fd, SHADOWPID_OP_PUT, 0, 0, h, 0, 0, NULL));
	EXPECT_EQ(-EBADF, do_op(self->fd, SHADOWPID_OP_HANDLE_NR, 0, 0, h, 0, 0, NULL));
}

TEST_F(dev, tasks)
{
	struct shadowpid_op o;

	ASSERT_EQ(1, alloc(self->fd, 0));
	ASSERT_EQ(2, alloc(self->fd, 0));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_ATTACH, 0, 2, 10, SHADOWPID_PIDTYPE_PID, 0, NULL));
	EXPECT_EQ(-EBUSY, do_op(self->fd, SHADOWPID_OP_ATTACH, 0, 2, 10, SHADOWPID_PIDTYPE_PID, 0, NULL));
	EXPECT_EQ(-EINVAL, do_op(self->fd, SHADOWPID_OP_ATTACH, 0, 2, 10, 3, 0, NULL));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_ATTACH, 0, 2, 11, SHADOWPID_PIDTYPE_PGID, 0, NULL));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_PID_TASK, 0, 2, SHADOWPID_PIDTYPE_PGID, 0, 0, &o));
	EXPECT_EQ(11, o.value);
	EXPECT_EQ(-ESRCH, do_op(self->fd, SHADOWPID_OP_PID_TASK, 0, 2, SHADOWPID_PIDTYPE_SID, 0, 0, NULL));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_ATTACH, 0, 1, 12, SHADOWPID_PIDTYPE_SID, 0, NULL));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_TRANSFER, 0, 0, 11, 12, SHADOWPID_PIDTYPE_PGID, NULL));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_PID_TASK, 0, 2, SHADOWPID_PIDTYPE_PGID, 0, 0, &o));
	EXPECT_EQ(12, o.value);
	EXPECT_EQ(-ESRCH, do_op(self->fd, SHADOWPID_OP_DETACH, 0, 0, 11, SHADOWPID_PIDTYPE_PGID, 0, NULL));
	/* The last link gone frees the pid. */
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_DETACH, 0, 0, 10, SHADOWPID_PIDTYPE_PID, 0, NULL));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_FIND, 0, 2, 0, 0, 0, NULL));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_DETACH, 0, 0, 12, SHADOWPID_PIDTYPE_PGID, 0, NULL));
	EXPECT_EQ(-ESRCH, do_op(self->fd, SHADOWPID_OP_FIND, 0, 2, 0, 0, 0, NULL));
}

TEST_F(dev, hostile_input)
{
	struct shadowpid_op o = { .op = SHADOWPID_OP_ALLOC };
	struct shadowpid_stats st = { 0 };
	char *map;

	EXPECT_EQ(-ENOENT, alloc(self->fd, 12345));
	EXPECT_EQ(-ENOENT, ns_create(self->fd, 7));
	EXPECT_EQ(-EINVAL, do_op(self->fd, 0, 0, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, do_op(self->fd, 999, 0, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, do_op(self->fd, SHADOWPID_OP_NS_RELEASE, 0, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-ENOENT, do_op(self->fd, SHADOWPID_OP_NS_RELEASE, 5, 0, 0, 0, 0, NULL));
	/* Unused inputs and reserved fields must be zero. */
	EXPECT_EQ(-EINVAL, do_op(self->fd, SHADOWPID_OP_FREE, 0, 1, 1, 0, 0, NULL));
	o.reserved = 1;
	EXPECT_EQ(-EINVAL, op(self->fd, &o));
	o.reserved = 0;
	o.reserved2 = 1;
	EXPECT_EQ(-EINVAL, op(self->fd, &o));
	o.reserved2 = 0;
	o.count = SHADOWPID_NR_LEVELS + 1;
	EXPECT_EQ(-EINVAL, op(self->fd, &o));
	o.count = 0;
	o.nrs[3] = 9;	/* past count */
	EXPECT_EQ(-EINVAL, op(self->fd, &o));
	st.reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, SHADOWPID_IOC_STATS, &st));
	EXPECT_EQ(EINVAL, errno);
	st.reserved = 0;
	st.module_pids = 1;	/* an output: must be zero on input */
	EXPECT_EQ(-1, ioctl(self->fd, SHADOWPID_IOC_STATS, &st));
	EXPECT_EQ(EINVAL, errno);
	st.module_pids = 0;
	st.ns = 77;
	EXPECT_EQ(-1, ioctl(self->fd, SHADOWPID_IOC_STATS, &st));
	EXPECT_EQ(ENOENT, errno);
	/* Bad and short user buffers. */
	EXPECT_EQ(-1, ioctl(self->fd, SHADOWPID_IOC_OP, NULL));
	EXPECT_EQ(EFAULT, errno);
	map = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + 4096, 4096, PROT_NONE));
	/* The struct runs into the inaccessible page: EFAULT, nothing done. */
	memset(map + 4096 - 100, 0, 100);
	((struct shadowpid_op *)(map + 4096 - 100))->op = SHADOWPID_OP_ALLOC;
	EXPECT_EQ(-1, ioctl(self->fd, SHADOWPID_IOC_OP, map + 4096 - 100));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, SHADOWPID_IOC_STATS, map + 4096 - 20));
	EXPECT_EQ(EFAULT, errno);
	munmap(map, 2 * 4096);
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_CHECK, 0, 0, 0, 0, 0, NULL));
	EXPECT_EQ(1, alloc(self->fd, 0));
}

static void batch_ops(struct shadowpid_op *ops)
{
	memset(ops, 0, 4 * sizeof(*ops));
	ops[0].op = SHADOWPID_OP_ALLOC;
	ops[1].op = SHADOWPID_OP_ALLOC;
	ops[2].op = SHADOWPID_OP_FREE;
	ops[2].nr = 77;
	ops[3].op = SHADOWPID_OP_ALLOC;
}

TEST_F(dev, batch)
{
	struct shadowpid_op ops[4], *tail;
	struct shadowpid_batch b = { .ops = (unsigned long)ops, .count = 4 };
	char *map;

	batch_ops(ops);
	ASSERT_EQ(0, ioctl(self->fd, SHADOWPID_IOC_BATCH, &b));
	EXPECT_EQ(4, b.done);
	EXPECT_EQ(1, b.failed);
	EXPECT_EQ(1, ops[0].value);
	EXPECT_EQ(2, ops[1].value);
	EXPECT_EQ(-ESRCH, ops[2].result);
	EXPECT_EQ(3, ops[3].value);

	batch_ops(ops);
	b.flags = SHADOWPID_BATCH_STOP_ON_ERROR;
	ASSERT_EQ(0, ioctl(self->fd, SHADOWPID_IOC_BATCH, &b));
	EXPECT_EQ(3, b.done);
	EXPECT_EQ(1, b.failed);
	EXPECT_EQ(0, ops[3].value);	/* not run */

	b.flags = 2;
	EXPECT_EQ(-1, ioctl(self->fd, SHADOWPID_IOC_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	b.flags = 0;
	b.count = 0;
	EXPECT_EQ(-1, ioctl(self->fd, SHADOWPID_IOC_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);
	b.count = SHADOWPID_BATCH_MAX + 1;
	EXPECT_EQ(-1, ioctl(self->fd, SHADOWPID_IOC_BATCH, &b));
	EXPECT_EQ(EINVAL, errno);

	/* A huge count over a short buffer: the ops that fit run, then EFAULT. */
	map = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + 4096, 4096, PROT_NONE));
	tail = (struct shadowpid_op *)map;
	for (unsigned int i = 0; i < 4096 / sizeof(*tail); i++)
		tail[i].op = SHADOWPID_OP_CHECK;
	b.ops = (unsigned long)map;
	b.count = SHADOWPID_BATCH_MAX;
	EXPECT_EQ(-1, ioctl(self->fd, SHADOWPID_IOC_BATCH, &b));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, tail[0].result);
	munmap(map, 2 * 4096);

	b.ops = 16;
	b.count = 1;
	EXPECT_EQ(-1, ioctl(self->fd, SHADOWPID_IOC_BATCH, &b));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_CHECK, 0, 0, 0, 0, 0, NULL));
}

TEST_F(dev, universes_are_isolated)
{
	int other = open_dev();
	struct shadowpid_stats st = { .ns = 0 };

	ASSERT_LE(0, other);
	ASSERT_EQ(1, alloc(self->fd, 0));
	ASSERT_EQ(2, alloc(self->fd, 0));
	ASSERT_EQ(1, ns_create(self->fd, 0));
	/* The other universe starts empty and cannot see ours. */
	EXPECT_EQ(-ESRCH, do_op(other, SHADOWPID_OP_FIND, 0, 2, 0, 0, 0, NULL));
	EXPECT_EQ(-ENOENT, alloc(other, 1));
	EXPECT_EQ(1, alloc(other, 0));
	ASSERT_EQ(0, ioctl(other, SHADOWPID_IOC_STATS, &st));
	EXPECT_EQ(1, st.live_pids);
	EXPECT_EQ(1, st.universe_pids);
	EXPECT_EQ(1, st.universe_namespaces);
	/* Nor touch it: these name our pids and namespace, not its own. */
	EXPECT_EQ(-ESRCH, do_op(other, SHADOWPID_OP_FREE, 0, 2, 0, 0, 0, NULL));
	EXPECT_EQ(-ENOENT, do_op(other, SHADOWPID_OP_NS_RELEASE, 1, 0, 0, 0, 0, NULL));
	EXPECT_EQ(-ENOENT, do_op(other, SHADOWPID_OP_SET_PID_MAX, 1, 0, 1000, 0, 0, NULL));
	close(other);
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_FIND, 0, 2, 0, 0, 0, NULL));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_CHECK, 1, 0, 0, 0, 0, NULL));
	EXPECT_EQ(3, alloc(self->fd, 0));
}

TEST_F(dev, namespace_limit)
{
	int i, ret = 0;

	/* Default max_namespaces is 1024, the root included. */
	ASSERT_EQ(1, alloc(self->fd, 0));
	for (i = 1; i < 1024; i++) {
		ret = ns_create(self->fd, 0);
		ASSERT_EQ(i, ret);
	}
	EXPECT_EQ(-ENOSPC, ns_create(self->fd, 0));
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_NS_RELEASE, 500, 0, 0, 0, 0, NULL));
	EXPECT_EQ(500, ns_create(self->fd, 0));
}

TEST_F(dev, stats)
{
	struct shadowpid_stats st = { .ns = 0 };

	ASSERT_EQ(1, alloc(self->fd, 0));
	ASSERT_EQ(2, alloc(self->fd, 0));
	ASSERT_EQ(0, ioctl(self->fd, SHADOWPID_IOC_STATS, &st));
	EXPECT_EQ(0, st.level);
	EXPECT_EQ(SHADOWPID_NS_ACCEPTING | SHADOWPID_NS_HAS_REAPER, st.flags);
	EXPECT_EQ(2, st.live_pids);
	EXPECT_EQ(1, st.pidmap_pages);
	EXPECT_EQ(2, st.last_pid);
	EXPECT_EQ(SHADOWPID_PID_MAX_DEFAULT, st.pid_max);
	EXPECT_LE(16, st.hash_buckets);
	EXPECT_GE(4096, st.hash_buckets);
	EXPECT_LE(1, st.hash_longest);
	EXPECT_LE(2, st.hash_entries);
	EXPECT_LT(4096, st.bytes);
	EXPECT_EQ(2, st.universe_pids);
}

/*
 * After the barrier, the frees queued behind grace periods have run: the
 * module-wide count of struct pids is exact at once. Nothing else opens the
 * device while the harness runs; this file's universe holds no pid.
 */
TEST_F(dev, barrier_runs_the_queued_frees)
{
	struct shadowpid_stats st = { .ns = 0 };
	int other = open_dev();

	ASSERT_LE(0, other);
	for (int i = 1; i <= 100; i++)
		ASSERT_EQ(i, alloc(other, 0));
	/* Every pid of the other universe is freed, its frees queued. */
	close(other);
	ASSERT_EQ(0, barrier(self->fd));
	ASSERT_EQ(0, ioctl(self->fd, SHADOWPID_IOC_STATS, &st));
	EXPECT_EQ(0, st.universe_pids);
	EXPECT_EQ(0, st.module_pids);
	EXPECT_EQ(st.universe_namespaces, st.module_namespaces);
	EXPECT_EQ(st.pidmap_pages, st.module_pages);
	/* It takes no argument: whatever is passed is not read. */
	EXPECT_EQ(0, ioctl(self->fd, SHADOWPID_IOC_BARRIER, NULL));
}

/* Runs fn in a child; returns its exit status. */
static int in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* An ordinary user: the 0600 root-owned node refuses it with EACCES. */
static int open_as_nobody(void)
{
	if (setgid(65534) || setuid(65534))
		return 100;
	if (open_dev() >= 0)
		return 101;
	return errno == EACCES ? 0 : 102;
}

/* Still uid 0, so the mode lets it in, but without CAP_SYS_ADMIN: EPERM. */
static int open_without_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return 100;
	data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	data[CAP_TO_INDEX(CAP_SYS_ADMIN)].permitted &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	if (syscall(SYS_capset, &hdr, data))
		return 103;
	if (open_dev() >= 0)
		return 101;
	return errno == EPERM ? 0 : 102;
}

TEST(non_root_refused)
{
	REQUIRE(geteuid() == 0, "must run as root to drop to a non-root user");
	EXPECT_EQ(0, in_child(open_as_nobody));
	EXPECT_EQ(0, in_child(open_without_sys_admin));
}

TEST(each_open_is_its_own)
{
	int a = open_dev(), b = open_dev();
	struct shadowpid_version v;

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	close(a);
	/* Closing one file leaves the other working. */
	EXPECT_EQ(0, ioctl(b, SHADOWPID_IOC_VERSION, &v));
	close(b);
}

/*
 * The tests that reload the module, from SHADOWPID_KO. Every load runs the
 * module's KUnit suites (KUNIT_AUTORUN on the test kernels), grace periods
 * included: seconds each on the debug kernel under TCG, so these get more
 * than the harness's default 30 s.
 */
FIXTURE(reloading) {
	const char *ko;
};

FIXTURE_SETUP(reloading)
{
	self->ko = getenv("SHADOWPID_KO");
	REQUIRE(self->ko, "SHADOWPID_KO (path of shadowpid.ko) not set");
}

FIXTURE_TEARDOWN(reloading)
{
}

TEST_F_TIMEOUT(reloading, load_unload_ten_times, 300)
{
	int i, fd, busy;

	/* An open file pins the module. */
	fd = open_dev();
	ASSERT_LE(0, fd);
	busy = syscall(SYS_delete_module, "shadowpid", O_NONBLOCK);
	EXPECT_EQ(-1, busy);
	EXPECT_EQ(EWOULDBLOCK, errno);
	close(fd);

	for (i = 0; i < 10; i++) {
		struct shadowpid_version v = { 0 };
		int ko_fd;

		ASSERT_EQ(0, syscall(SYS_delete_module, "shadowpid", O_NONBLOCK))
			TH_LOG("rmmod #%d: %s", i, strerror(errno));
		EXPECT_NE(0, access(DEV, F_OK));

		ko_fd = open(self->ko, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, ko_fd) TH_LOG("%s: %s", self->ko, strerror(errno));
		ASSERT_EQ(0, syscall(SYS_finit_module, ko_fd, "", 0))
			TH_LOG("insmod #%d: %s", i, strerror(errno));
		close(ko_fd);

		fd = open_dev();
		ASSERT_LE(0, fd) TH_LOG("open after insmod #%d: %s", i, strerror(errno));
		EXPECT_EQ(0, ioctl(fd, SHADOWPID_IOC_VERSION, &v));
		EXPECT_EQ(SHADOWPID_ABI_VERSION, v.abi_version);
		close(fd);
	}
}

/* Reloads the module with module parameters params. */
static int reload(const char *ko, const char *params)
{
	int fd, ret;

	if (syscall(SYS_delete_module, "shadowpid", O_NONBLOCK))
		return -errno;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

TEST_F_TIMEOUT(reloading, universe_limits, 300)
{
	struct shadowpid_op o;
	int fd, i;

	ASSERT_EQ(0, reload(self->ko, "max_pids=5 max_namespaces=3"));
	fd = open_dev();
	ASSERT_LE(0, fd);
	for (i = 1; i <= 5; i++)
		EXPECT_EQ(i, alloc(fd, 0));
	EXPECT_EQ(-ENOSPC, alloc(fd, 0));
	EXPECT_EQ(0, do_op(fd, SHADOWPID_OP_FREE, 0, 5, 0, 0, 0, NULL));
	EXPECT_EQ(6, alloc(fd, 0));	/* room again; cyclic: 6 */
	EXPECT_EQ(1, ns_create(fd, 0));
	EXPECT_EQ(2, ns_create(fd, 0));
	EXPECT_EQ(-ENOSPC, ns_create(fd, 0));
	/* Tasks and held references count against max_pids too. */
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(0, do_op(fd, SHADOWPID_OP_ATTACH, 0, 2, i, SHADOWPID_PIDTYPE_SID, 0, NULL));
		EXPECT_EQ(0, do_op(fd, SHADOWPID_OP_GET, 0, 2, 0, 0, 0, &o));
	}
	EXPECT_EQ(-ENOSPC, do_op(fd, SHADOWPID_OP_ATTACH, 0, 2, 9, SHADOWPID_PIDTYPE_SID, 0, NULL));
	EXPECT_EQ(-ENOSPC, do_op(fd, SHADOWPID_OP_GET, 0, 2, 0, 0, 0, NULL));
	EXPECT_EQ(0, do_op(fd, SHADOWPID_OP_CHECK, 0, 0, 0, 0, 0, NULL));
	/* Unload is refused while the universe is open; fine after. */
	EXPECT_EQ(-EWOULDBLOCK, reload(self->ko, ""));
	close(fd);
	ASSERT_EQ(0, reload(self->ko, ""));
}

/*
 * A chain under the root, down to level `level`, each namespace with its
 * init but the last; returns the last one's id, or -errno.
 */
static int chain_to(int fd, int level)
{
	int ns = 0, ret;

	if ((ret = alloc(fd, 0)) < 0)
		return ret;
	for (int l = 1; l <= level; l++) {
		ns = ns_create(fd, ns);
		if (ns < 0)
			return ns;
		if (l < level && (ret = alloc(fd, ns)) < 0)
			return ret;
	}
	return ns;
}

#define RACERS 8
#define RACE_LEVEL 19	/* pids of 20 levels: a depth no other test uses */

struct racer {
	pthread_barrier_t *go;
	int result;
};

/* Builds its own chain, waits for the others, then makes the first pid of
 * depth RACE_LEVEL + 1. */
static void *first_at_new_depth(void *arg)
{
	struct racer *r = arg;
	int fd = open_dev(), ns;

	r->result = fd < 0 ? -errno : 0;
	ns = fd < 0 ? -1 : chain_to(fd, RACE_LEVEL);
	pthread_barrier_wait(r->go);
	if (!r->result)
		r->result = ns < 0 ? ns : alloc(fd, ns);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* Lines of /proc/slabinfo naming cache `name` exactly. */
static int slabinfo_lines(const char *name)
{
	char line[512];
	size_t len = strlen(name);
	int n = 0;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ' ')
			n++;
	fclose(f);
	return n;
}

/*
 * The first users of a depth race to create its cache: it must be created
 * once (7.3 and 2.6.24 serialise this under a mutex). A second cache of the
 * same name cannot get its /sys/kernel/slab entry, and destroying it would
 * take the winner's (the per-cache failslab switch) with it.
 */
TEST_F_TIMEOUT(reloading, cache_created_once_under_a_race, 300)
{
	pthread_barrier_t go;
	struct racer r[RACERS];
	pthread_t t[RACERS];
	char name[64], path[128];
	struct stat st;

	/* A fresh load: no cache of that depth exists yet. */
	ASSERT_EQ(0, reload(self->ko, ""));
	snprintf(name, sizeof(name), "shadowpid_pid_%d", RACE_LEVEL + 1);
	ASSERT_EQ(0, slabinfo_lines(name));
	pthread_barrier_init(&go, NULL, RACERS);
	for (int i = 0; i < RACERS; i++) {
		r[i].go = &go;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, first_at_new_depth, &r[i]));
	}
	for (int i = 0; i < RACERS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(1, r[i].result) TH_LOG("racer %d: %d", i, r[i].result);
	}
	pthread_barrier_destroy(&go);
	for (int depth = 1; depth <= RACE_LEVEL + 1; depth++) {
		snprintf(name, sizeof(name), "shadowpid_pid_%d", depth);
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s", name);
		EXPECT_EQ(1, slabinfo_lines(name)) TH_LOG("%s", name);
		EXPECT_EQ(0, stat(path, &st)) TH_LOG("%s: %s", path, strerror(errno));
	}
}

#define DEEP 32
#define DEEP_NR 5

/*
 * The race runs until both sides have done this much, however long that
 * takes on a busy machine: attaches that succeeded, and pids the other
 * thread allocated and freed meanwhile.
 */
#define RACE_ATTACHES 300
#define RACE_CYCLES 300

struct attach_race {
	int fd, leaf;
	int stop;	/* __atomic: set by the main thread */
	long cycles;	/* __atomic: pids allocated and freed by the other */
	long attached, false_esrch;
};

/* Allocates number DEEP_NR in the leaf (33 levels) and frees it, again and
 * again: each pid's upids enter the hash leaf first, 32 more after. */
static void *alloc_free(void *arg)
{
	struct attach_race *a = arg;
	int tid[1] = { DEEP_NR };

	while (!__atomic_load_n(&a->stop, __ATOMIC_RELAXED)) {
		if (alloc_tid(a->fd, a->leaf, tid, 1, NULL) == DEEP_NR &&
		    !do_op(a->fd, SHADOWPID_OP_FREE, a->leaf, DEEP_NR, 0, 0, 0, NULL))
			__atomic_fetch_add(&a->cycles, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * Attach right after alloc: a pid found in the hash must be attachable. A
 * pid published in the hash before it is marked alive would answer ESRCH
 * to an attach that found it; seen when the same pid (its root number
 * names it: the root's cursor never comes back in this test) is found both
 * before and after the failed attach. It runs until RACE_ATTACHES attaches
 * succeeded while the other thread allocated and freed RACE_CYCLES pids.
 */
TEST(attach_right_after_alloc)
{
	struct attach_race a = { 0 };
	struct shadowpid_op before, after;
	long tries = 0;
	pthread_t t;

	a.fd = open_dev();
	ASSERT_LE(0, a.fd);
	a.leaf = chain_to(a.fd, DEEP);
	ASSERT_LE(0, a.leaf);
	ASSERT_EQ(1, alloc(a.fd, a.leaf));
	ASSERT_EQ(0, pthread_create(&t, NULL, alloc_free, &a));
	/* Until enough happened, or the first false ESRCH gave the verdict. */
	while (!a.false_esrch && (a.attached < RACE_ATTACHES ||
	       __atomic_load_n(&a.cycles, __ATOMIC_RELAXED) < RACE_CYCLES)) {
		int ret;

		tries++;
		if (do_op(a.fd, SHADOWPID_OP_FIND, a.leaf, DEEP_NR, 0, 0, 0, &before))
			continue;
		ret = do_op(a.fd, SHADOWPID_OP_ATTACH, a.leaf, DEEP_NR, 1, SHADOWPID_PIDTYPE_PID,
			    0, NULL);
		if (!ret) {
			a.attached++;
			/* The pid's last link: detaching frees it. */
			do_op(a.fd, SHADOWPID_OP_DETACH, 0, 0, 1, SHADOWPID_PIDTYPE_PID, 0, NULL);
		} else if (ret == -ESRCH &&
			   !do_op(a.fd, SHADOWPID_OP_FIND, a.leaf, DEEP_NR, 0, 0, 0, &after) &&
			   after.nrs[0] == before.nrs[0]) {
			a.false_esrch++;
		}
	}
	__atomic_store_n(&a.stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	TH_LOG("%ld tries, %ld attached, %ld pids allocated and freed beside, %ld ESRCH for a pid found before and after",
	       tries, a.attached, a.cycles, a.false_esrch);
	EXPECT_EQ(0, a.false_esrch);
	EXPECT_EQ(0, do_op(a.fd, SHADOWPID_OP_CHECK, a.leaf, 0, 0, 0, 0, NULL));
	close(a.fd);
}

#define ANCHORS 2048
#define LOOKERS 2
#define CHURN 60000

/* One looker: its own universe, ANCHORS pids that live all along. */
struct looker {
	int fd;
	volatile int *stop;
	long found, missed;
};

static void *look_up_anchors(void *arg)
{
	struct looker *l = arg;
	int nr = 1;

	while (!*l->stop) {
		if (do_op(l->fd, SHADOWPID_OP_FIND, 0, nr, 0, 0, 0, NULL))
			l->missed++;
		else
			l->found++;
		nr = nr % ANCHORS + 1;
	}
	return NULL;
}

/* SHADOWPID_OP_ALLOC (nr 0) or SHADOWPID_OP_FREE of nrs[0..n) in ns 0, as one
 * batch; returns how many succeeded, the numbers allocated in nrs. */
static int churn_batch(int fd, __u32 code, int *nrs, int n)
{
	struct shadowpid_op *ops = calloc(n, sizeof(*ops));
	struct shadowpid_batch b = { .ops = (unsigned long)ops, .count = n };
	int ok = 0;

	if (!ops)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		ops[i].op = code;
		ops[i].nr = code == SHADOWPID_OP_FREE ? nrs[i] : 0;
	}
	if (!ioctl(fd, SHADOWPID_IOC_BATCH, &b))
		for (int i = 0; i < n; i++)
			if (!ops[i].result) {
				ok++;
				nrs[i] = ops[i].value;
			}
	free(ops);
	return ok;
}

/*
 * The module-wide hash size once the resize the last batch queued has run
 * (SHADOWPID_IOC_BARRIER waits for it, and the resizer goes on until the
 * table fits the count); 0 if a call failed.
 */
static __u32 settled_buckets(int fd)
{
	struct shadowpid_stats st = { .ns = 0 };

	if (barrier(fd) || ioctl(fd, SHADOWPID_IOC_STATS, &st))
		return 0;
	return st.hash_buckets;
}

/* The module reloaded with pidhash_resize=1, lookers, and a churning file. */
FIXTURE(resize) {
	const char *ko;
	struct looker l[LOOKERS];
	pthread_t t[LOOKERS];
	int started, fd, *nrs;
	volatile int stop;
};

FIXTURE_SETUP(resize)
{
	self->ko = getenv("SHADOWPID_KO");
	self->fd = -1;
	for (int i = 0; i < LOOKERS; i++)
		self->l[i].fd = -1;
	REQUIRE(self->ko, "SHADOWPID_KO (path of shadowpid.ko) not set");
	self->nrs = calloc(CHURN, sizeof(*self->nrs));
	ASSERT_NE(NULL, self->nrs);
	ASSERT_EQ(0, reload(self->ko, "pidhash_resize=1"));
}

/* Even after a failed assert: the lookers stop, the files close, and the
 * module is back to its defaults for the tests after this one. */
FIXTURE_TEARDOWN(resize)
{
	self->stop = 1;
	for (int i = 0; i < self->started; i++)
		pthread_join(self->t[i], NULL);
	for (int i = 0; i < LOOKERS; i++)
		if (self->l[i].fd >= 0)
			close(self->l[i].fd);
	if (self->fd >= 0)
		close(self->fd);
	free(self->nrs);
	if (self->ko)
		EXPECT_EQ(0, reload(self->ko, ""));
}

/*
 * pidhash_resize=1: the pid hash grows and shrinks with the number of pids
 * while other threads look up pids that stay live all along, locklessly.
 * A lookup that missed an entry being moved from the old table to the new
 * one (or walked off into another chain and stopped there) would miss.
 * Minutes under KASAN and TCG, hence the timeout.
 */
TEST_F_TIMEOUT(resize, pid_hash_resizes_under_lookups, 600)
{
	long found = 0, missed = 0;

	for (int i = 0; i < LOOKERS; i++) {
		self->l[i] = (struct looker){ .fd = open_dev(), .stop = &self->stop };
		ASSERT_LE(0, self->l[i].fd);
		for (int nr = 1; nr <= ANCHORS; nr++)
			ASSERT_EQ(nr, alloc(self->l[i].fd, 0));
	}
	self->fd = open_dev();
	ASSERT_LE(0, self->fd);
	/* The churn's own init first: freeing it would close the namespace. */
	ASSERT_EQ(1, alloc(self->fd, 0));
	ASSERT_EQ(0, set(self->fd, SHADOWPID_OP_SET_PID_MAX, 0, SHADOWPID_PID_MAX_LIMIT));
	for (; self->started < LOOKERS; self->started++)
		ASSERT_EQ(0, pthread_create(&self->t[self->started], NULL, look_up_anchors,
					    &self->l[self->started]));
	for (int c = 0; c < 3; c++) {
		__u32 big, small;

		ASSERT_EQ(CHURN, churn_batch(self->fd, SHADOWPID_OP_ALLOC, self->nrs, CHURN));
		big = settled_buckets(self->fd);
		ASSERT_EQ(CHURN, churn_batch(self->fd, SHADOWPID_OP_FREE, self->nrs, CHURN));
		small = settled_buckets(self->fd);
		TH_LOG("cycle %d: grew to %u buckets, shrank to %u", c, big, small);
		/* 64,097 entries, then 4,097: about 1.5 buckets each. */
		EXPECT_LE(65536, big);
		EXPECT_GE(8192, small);
		EXPECT_NE(0, small);
	}
	self->stop = 1;
	for (; self->started > 0; self->started--)
		pthread_join(self->t[self->started - 1], NULL);
	for (int i = 0; i < LOOKERS; i++) {
		found += self->l[i].found;
		missed += self->l[i].missed;
		EXPECT_EQ(0, do_op(self->l[i].fd, SHADOWPID_OP_CHECK, 0, 0, 0, 0, 0, NULL));
	}
	TH_LOG("%ld lookups found their pid, %ld missed", found, missed);
	EXPECT_EQ(0, missed);
	EXPECT_LT(0, found);
	EXPECT_EQ(0, do_op(self->fd, SHADOWPID_OP_CHECK, 0, 0, 0, 0, 0, NULL));
}

TEST_HARNESS_MAIN
