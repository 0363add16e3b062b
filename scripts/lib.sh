# SPDX-License-Identifier: GPL-2.0
# Common settings for the shadowpid scripts: sourced, never run.
#
# Every path that outlives a checkout lives under $SHADOWPID_CACHE so a fresh
# clone reuses the toolchain and the kernel build of an earlier one.

set -euo pipefail

SHADOWPID_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${SHADOWPID_CACHE:=${HOME}/.cache/shadowpid}"
export SHADOWPID_CACHE

# Pinned versions: change them here and nowhere else.
KERNEL_SRC_PKG=linux-source-7.3
KERNEL_SUITES="trixie trixie-backports"
BINDGEN_VERSION=0.73.2
VIRTME_NG_VERSION=1.42
# make mutants only (not CI): the userspace crate's mutation check.
CARGO_MUTANTS_VERSION=27.1.0
LLVM_SUFFIX=-19
# CRIU for the mirror's kselftest, built from trixie's source package.
CRIU_VERSION=4.1.1
CRIU_DEB_VERSION=4.1.1-1

TOOLS_DIR=$SHADOWPID_CACHE/tools
BINDGEN=$TOOLS_DIR/bin/bindgen
VENV=$SHADOWPID_CACHE/venv
SRC_DIR=$SHADOWPID_CACHE/src
# Regular and debug kernel builds sit side by side.
: "${SHADOWPID_KVARIANT:=regular}"
KBUILD_DIR=$SHADOWPID_CACHE/kernel-$SHADOWPID_KVARIANT
LOG_DIR=$SHADOWPID_CACHE/logs

export PATH="$TOOLS_DIR/bin:$VENV/bin:$PATH"

msg() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The kernel source tree unpacked by scripts/kernel-source.
kernel_src_tree() {
	local t
	t=$(ls -d "$SRC_DIR"/linux-source-* 2>/dev/null | grep -v '\.tar' | head -n1 || true)
	[ -n "$t" ] && [ -f "$t/Makefile" ] || return 1
	echo "$t"
}

# The first Debian archive URI (not the security one) in the machine's apt
# sources: the private configuration below uses the machine's own mirror.
debian_mirror_uri() {
	local f
	{
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' "$f"
		done
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f"
		done
	} | grep -E '/debian/?$' | head -n1
}

# private_apt: apt_opts, a private apt configuration of $KERNEL_SUITES
# (binaries and sources: its own sources file, lists and cache under
# $SHADOWPID_CACHE/apt), updated; the system's apt setup stays as it was.
private_apt() {
	local uri dir=$SHADOWPID_CACHE/apt
	uri=$(debian_mirror_uri)
	[ -n "$uri" ] || die "no Debian archive URI found in /etc/apt/sources*"
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	cat >"$dir/shadowpid.sources" <<SRC
Types: deb deb-src
URIs: $uri
Suites: $KERNEL_SUITES
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt_opts=(
		-o Dir::Etc::sourcelist="$dir/shadowpid.sources"
		-o Dir::Etc::sourceparts=/dev/null
		-o Dir::State::Lists="$dir/lists"
		-o Dir::Cache="$dir/cache"
		-o Debug::NoLocking=1
		-o APT::Sandbox::User=root
	)
	msg "apt-get update (private config, $KERNEL_SUITES)"
	apt-get "${apt_opts[@]}" update -qq >&2
}

# Run a long command with its output in LOG, showing a line of progress.
run_logged() {
	local log=$1; shift
	mkdir -p "$(dirname "$log")"
	"$@" >"$log" 2>&1 &
	local pid=$! start=$SECONDS
	while kill -0 "$pid" 2>/dev/null; do
		sleep 15
		kill -0 "$pid" 2>/dev/null || break
		printf '  ... %4ds  %s\n' $((SECONDS - start)) \
			"$(tail -n1 "$log" | cut -c1-100)" >&2
	done
	if ! wait "$pid"; then
		tail -n 40 "$log" >&2
		die "command failed; full log in $log"
	fi
}

# The line a recorded benchmark ends with: the commit it ran from (with
# "-dirty" if the checkout had changes other than the recorded results
# themselves, which make bench-host copies in before make bench runs), and
# when.
provenance() {
	local top=$SHADOWPID_TOP commit dirty=
	commit=$(git -C "$top" rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
	[ -n "$(git -C "$top" status --porcelain -- . ':!Documentation/shadowpid/bench' 2>/dev/null)" ] &&
		dirty=-dirty
	echo "recorded from commit $commit$dirty, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) host CPUs:" \
		"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
}
