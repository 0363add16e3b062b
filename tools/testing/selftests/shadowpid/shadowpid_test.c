// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests for /dev/shadowpid: the device node, the ioctl surface, who may
 * open it, and loading and unloading the module.
 *
 * Expects the module to be loaded.  The load/unload test needs the path of
 * shadowpid.ko in $SHADOWPID_KO and is skipped without it; it leaves the
 * module loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/shadowpid.h>
#include <stdlib.h>
#include <sys/ioctl.h>
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
		0,
	};
	char buf[64] = { 0 };

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, cmds[i], buf)) TH_LOG("cmd %#lx", cmds[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd %#lx", cmds[i]);
	}
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
	if (geteuid() != 0)
		SKIP(return, "must run as root to drop to a non-root user");
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

TEST(load_unload_ten_times)
{
	const char *ko = getenv("SHADOWPID_KO");
	int i, fd, busy;

	if (!ko)
		SKIP(return, "SHADOWPID_KO (path of shadowpid.ko) not set");

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

		ko_fd = open(ko, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, ko_fd) TH_LOG("%s: %s", ko, strerror(errno));
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

TEST_HARNESS_MAIN
