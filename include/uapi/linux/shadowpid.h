/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * shadowpid: a Linux 2.6.24 PID allocator, reimplemented in Rust, run beside
 * the native one.  This header is the one definition of the ioctl ABI of
 * /dev/shadowpid: the module and the userspace crate generate their bindings
 * from it with bindgen, and the kselftests include it.
 *
 * Every struct has a fixed size and explicit padding; fields named reserved
 * must be zero on input (else EINVAL) and are zero on output.
 */
#ifndef _UAPI_LINUX_SHADOWPID_H
#define _UAPI_LINUX_SHADOWPID_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Bumped on every incompatible change of this file. */
#define SHADOWPID_ABI_VERSION	1

/* Free in Documentation/userspace-api/ioctl/ioctl-number.rst of Linux 7.3. */
#define SHADOWPID_IOC_MAGIC	0xB9

/**
 * struct shadowpid_version - answer of SHADOWPID_IOC_VERSION
 * @abi_version: SHADOWPID_ABI_VERSION of the loaded module
 * @reserved:    zero
 */
struct shadowpid_version {
	__u32 abi_version;
	__u32 reserved;
};

#define SHADOWPID_IOC_VERSION	_IOR(SHADOWPID_IOC_MAGIC, 0x00, struct shadowpid_version)

#endif /* _UAPI_LINUX_SHADOWPID_H */
