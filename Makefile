# SPDX-License-Identifier: GPL-2.0
#
# shadowpid: the Linux 2.6.24 PID allocator in Rust, beside the native one.
#
#   make            build shadowpid.ko against KDIR (a built Rust-enabled
#                   tree; default: the cached test kernel), nothing else
#   make kernel     install the toolchain, fetch Linux 7.3, build the test kernel
#   make check      set up what is missing, then every test suite: host tests,
#                   then KUnit and the kselftests in the guest
#   make run        set up, boot the test kernel with the module loaded, show it
#   make bench      set up, then the in-kernel benchmark and its plot
#   make kernel-debug / make check-debug   the same suites on a debug kernel
#                   (KASAN, lockdep, PROVE_RCU, kmemleak, fault injection)
#   make rustfmtcheck / make rustfmt / make CLIPPY=1 / make clean
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
# The kernel source scripts/kernel-source unpacked (its selftest framework),
# if it is there: finding it never fetches it.
KSRC ?= $(patsubst %/Makefile,%,$(firstword $(wildcard $(SHADOWPID_CACHE)/src/linux-source-*/Makefile)))

CLI_DIR := samples/shadowpid
# The loom models of rust/pidmap.rs, on the host.
LOOM_DIR := tools/testing/shadowpid-loom
SELFTEST_DIR := tools/testing/selftests/shadowpid
# The kselftest collection as installed for the runner (run_kselftest.sh).
KSELFTEST_INSTALL := $(CURDIR)/build/kselftest

.PHONY: all modules kernel kernel-debug check check-debug suites toolchain tools \
	selftests run bench clean rustfmt rustfmtcheck help

all: modules

modules:
	@[ -f $(KDIR)/Makefile ] || { echo "shadowpid: no kernel build tree in $(KDIR): run 'make kernel' (or pass KDIR=<a built Rust-enabled tree>)" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=$(LLVM) modules
ifneq ($(CLIPPY),)
	cd $(CLI_DIR) && cargo clippy --release --locked --all-targets -- -D warnings
	cd $(LOOM_DIR) && cargo clippy --release --locked --all-targets --all-features -- -D warnings
endif

# Set-up: what 'make run', 'make check' and 'make bench' do first on a
# fresh machine (each step skips what is there).
toolchain:
	@scripts/install-toolchain

kernel: toolchain
	@scripts/build-kernel >/dev/null

kernel-debug: toolchain
	@SHADOWPID_KVARIANT=debug scripts/build-kernel .config.fragment.debug >/dev/null

tools:
	cd $(CLI_DIR) && cargo build --release --locked

# The kselftests, built against KDIR's headers with the kernel source's
# kselftest framework, and installed with its runner.
selftests:
	@[ -n "$(KSRC)" ] || { echo "shadowpid: no kernel source in $(SHADOWPID_CACHE)/src: run 'make kernel'" >&2; exit 1; }
	$(MAKE) -C $(SELFTEST_DIR) OUTPUT=$(CURDIR)/$(SELFTEST_DIR) \
		KSELFTEST=$(KSRC)/tools/testing/selftests \
		KHDR_INCLUDES="-isystem $(KDIR)/usr/include"
	rm -rf $(KSELFTEST_INSTALL)
	$(MAKE) -C $(SELFTEST_DIR) OUTPUT=$(CURDIR)/$(SELFTEST_DIR) \
		KSELFTEST=$(KSRC)/tools/testing/selftests \
		INSTALL_PATH=$(KSELFTEST_INSTALL)/shadowpid install
	cp -r $(KSRC)/tools/testing/selftests/kselftest $(KSRC)/tools/testing/selftests/run_kselftest.sh \
		$(KSELFTEST_INSTALL)/
	$(MAKE) -s --no-print-directory -C $(SELFTEST_DIR) OUTPUT=$(CURDIR)/$(SELFTEST_DIR) \
		KSELFTEST=$(KSRC)/tools/testing/selftests COLLECTION=shadowpid \
		emit_tests >$(KSELFTEST_INSTALL)/kselftest-list.txt
	@# The kernel's own PID selftests, which run under the live mirror.
	for t in clone3 pid_namespace; do \
		mkdir -p $(KSELFTEST_INSTALL)/native/$$t && \
		$(MAKE) -s -C $(KSRC)/tools/testing/selftests/$$t \
			OUTPUT=$(KSELFTEST_INSTALL)/native/$$t \
			KHDR_INCLUDES="-isystem $(KDIR)/usr/include" || exit 1; \
	done

# The suites against KDIR, which must be built.
suites: modules tools selftests
	@scripts/check

check: kernel
	@$(MAKE) --no-print-directory suites

# The module is rebuilt against the debug tree (kbuild sees the new command
# lines); the next plain 'make' rebuilds it for the regular one.
# The long passes run here: 2 x 500,000 stress operations (2 x 1,000,000
# took 1,176 s of the 58-minute .ci/run of session 5), five minutes of
# fuzzing (fault injection runs whenever the kernel has it). The live
# mirror's storm churns 150 namespaces there, not 1,000: under KASAN and
# TCG one costs about half a second, and its guest runs on one TCG thread
# (scripts/vm). compare runs 6 random scenarios there, not 20: under KASAN
# and TCG its 8 + 20 took 1,250 s (make check runs the 20 in 117 s). All are
# sized so that .ci/run fits its hour (README). The
# loom models are host tests that make check ran already (SHADOWPID_LOOM=0
# skips them here).
check-debug: kernel-debug
	SHADOWPID_STRESS_OPS=$${SHADOWPID_STRESS_OPS:-500000} \
	SHADOWPID_FUZZ_SECONDS=$${SHADOWPID_FUZZ_SECONDS:-300} \
	SHADOWPID_MIRROR_CHURN=$${SHADOWPID_MIRROR_CHURN:-150} \
	SHADOWPID_COMPARE_RANDOM=$${SHADOWPID_COMPARE_RANDOM:-6} \
	SHADOWPID_LOOM=$${SHADOWPID_LOOM:-0} \
	SHADOWPID_VM_TIMEOUT=$${SHADOWPID_VM_TIMEOUT:-5400} \
		$(MAKE) --no-print-directory suites KDIR=$(DEBUG_KDIR)

run: kernel
	@$(MAKE) --no-print-directory modules tools
	@scripts/vm --one-tcg-thread scripts/guest-run

bench: kernel
	@$(MAKE) --no-print-directory modules tools
	@scripts/bench

# rustfmt with the kernel's settings (rust/.rustfmt.toml, a copy of the
# tree's): no kernel needed.
rustfmt rustfmtcheck:
	rustfmt $(if $(filter rustfmtcheck,$@),--check) --edition 2021 \
		$$(find rust -name '*.rs' ! -name '*generated*')
	cd $(CLI_DIR) && cargo fmt $(if $(filter rustfmtcheck,$@),--check)
	cd $(LOOM_DIR) && cargo fmt $(if $(filter rustfmtcheck,$@),--check)

clean:
	@if [ -f $(KDIR)/Makefile ]; then \
		$(MAKE) -C $(KDIR) M=$(CURDIR) clean; \
	else \
		find . -path ./samples -prune -o \( -name '*.o' -o -name '*.ko' -o -name '*.mod' \
			-o -name '*.mod.c' -o -name '.*.cmd' -o -name '*.d' \) -print0 | xargs -0 rm -f; \
		rm -f modules.order Module.symvers; \
	fi
	rm -f rust/uapi_generated.rs rust/bench/native_generated.rs rust/mirror/probes_generated.rs $(SELFTEST_DIR)/shadowpid_test
	rm -rf build
	cd $(CLI_DIR) && cargo clean
	cd $(LOOM_DIR) && cargo clean
