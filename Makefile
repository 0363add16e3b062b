# SPDX-License-Identifier: GPL-2.0
#
# shadowpid: the Linux 2.6.24 PID allocator in Rust, beside the native one.
#
#   make            build shadowpid.ko against KDIR (default: the cached test kernel)
#   make kernel     install the toolchain, fetch Linux 7.3, build the test kernel
#   make check      every test suite: host, KUnit and kselftests in the guest
#   make run        boot the test kernel with the module loaded and show it
#   make bench      the in-kernel benchmark, shadow beside native, and its plot
#   make kernel-debug / make check-debug   the same suites on a debug kernel
#                   (KASAN, lockdep, PROVE_RCU, kmemleak, fault injection)
#   make rustfmtcheck / make rustfmt / make CLIPPY=1
#
# Kbuild (beside this file) describes the module itself.

SHELL := /bin/bash
SHADOWPID_CACHE ?= $(HOME)/.cache/shadowpid
export SHADOWPID_CACHE
DEFAULT_KDIR := $(SHADOWPID_CACHE)/kernel-regular
DEBUG_KDIR := $(SHADOWPID_CACHE)/kernel-debug
KDIR ?= $(DEFAULT_KDIR)
export KDIR
LLVM ?= -19
TOOLS_BIN := $(SHADOWPID_CACHE)/tools/bin
export PATH := $(TOOLS_BIN):$(SHADOWPID_CACHE)/venv/bin:$(PATH)
export LIBCLANG_PATH ?= /usr/lib/llvm-19/lib

CLI_DIR := samples/shadowpid
CLI := $(CLI_DIR)/target/release/shadowpid
SELFTEST_DIR := tools/testing/selftests/shadowpid

.PHONY: all modules kernel kernel-debug check-debug toolchain tools selftests check run bench clean \
	rustfmt rustfmtcheck clippy help

all: modules

# Only the default KDIR is built on demand; another KDIR must already be a
# built Rust-enabled tree.
ifeq ($(KDIR),$(DEFAULT_KDIR))
modules: kernel
endif
modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=$(LLVM) modules

toolchain:
	@scripts/install-toolchain

kernel: toolchain
	@scripts/build-kernel >/dev/null

kernel-debug: toolchain
	@SHADOWPID_KVARIANT=debug scripts/build-kernel .config.fragment.debug >/dev/null

# The module is rebuilt against the debug tree (kbuild sees the new command
# lines); the next plain 'make' rebuilds it for the regular one.
# The long passes run here: 2 x 1,000,000 stress operations, ten minutes of
# fuzzing (fault injection runs whenever the kernel has it).
check-debug: kernel-debug
	SHADOWPID_STRESS_OPS=$${SHADOWPID_STRESS_OPS:-1000000} \
	SHADOWPID_FUZZ_SECONDS=$${SHADOWPID_FUZZ_SECONDS:-600} \
	SHADOWPID_VM_TIMEOUT=$${SHADOWPID_VM_TIMEOUT:-5400} \
		$(MAKE) check KDIR=$(DEBUG_KDIR)

tools: toolchain
	cd $(CLI_DIR) && cargo build --release --locked
ifneq ($(CLIPPY),)
	cd $(CLI_DIR) && cargo clippy --release --locked --all-targets -- -D warnings
endif

selftests: kernel
	$(MAKE) -C $(SELFTEST_DIR) OUTPUT=$(CURDIR)/$(SELFTEST_DIR) \
		KSELFTEST=$$(scripts/kernel-source)/tools/testing/selftests \
		KHDR_INCLUDES="-isystem $(KDIR)/usr/include"

check: modules tools selftests
	@scripts/check

run: modules tools
	@scripts/vm scripts/guest-run

bench: modules tools
	@scripts/bench

rustfmt rustfmtcheck: toolchain
	rustfmt $(if $(filter rustfmtcheck,$@),--check) \
		--config-path $$(scripts/kernel-source)/.rustfmt.toml --edition 2021 \
		$$(find rust -name '*.rs' ! -name '*generated*')
	cd $(CLI_DIR) && cargo fmt $(if $(filter rustfmtcheck,$@),--check)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -f rust/uapi_generated.rs rust/native_generated.rs
	cd $(CLI_DIR) && cargo clean
	$(MAKE) -C $(SELFTEST_DIR) clean OUTPUT=$(CURDIR)/$(SELFTEST_DIR) KSELFTEST=$$(scripts/kernel-source)/tools/testing/selftests
