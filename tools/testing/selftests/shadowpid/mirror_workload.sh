#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A workload for the live mirror (shadowpid_mirror.sh runs it attached):
# a fork/clone storm on every CPU in nested PID namespaces, a namespace
# with pid_max 400 where numbers wrap and run out (EAGAIN), namespace
# create/destroy churn, ns_last_pid writes, inits exiting.
#
#   mirror_workload.sh SCALE   (1)
#
# $SHADOWPID_MIRROR_CHURN namespaces are churned per scale (1,000), and
# stress-ng's storm runs $SHADOWPID_MIRROR_FORKS forks per scale and stressor
# (1,000; half as many clones) or $SHADOWPID_MIRROR_STORM_SECONDS (120),
# whichever ends first (23 s on the regular kernel; the debug one reaches
# the time). $SHADOWPID_MIRROR_PHASES lists the phases to run, in order
# (all: "nested storm wrap last_pid churn").
set -u

# Inside the nested phase: a fork burst at this level, then one more level
# in a namespace of its own, DEPTH in all.
if [ "${1:-}" = --nested ]; then
	for _ in $(seq 50); do /bin/true; done
	[ "$2" -le 1 ] || unshare --fork --pid --mount-proc "$0" --nested $(($2 - 1))
	exit
fi

scale=${1:-1}
churns=${SHADOWPID_MIRROR_CHURN:-1000}
forks=${SHADOWPID_MIRROR_FORKS:-1000}
cpus=$(nproc)
start=$SECONDS
phase() { echo "workload: $1 done at $((SECONDS - start)) s"; }

# Nested namespaces, three deep, each with a fork burst; the inits exit.
nested() {
	unshare --fork --pid --mount-proc "$0" --nested 3 || return 1
	phase "nested namespaces"
}

# A storm on every CPU, in a namespace of its own (stress-ng's fork and
# clone stressors; clone makes threads and processes with many flags).
storm() {
	if ! command -v stress-ng >/dev/null; then
		echo "# stress-ng is not installed: no storm" >&2
		return 1
	fi
	(cd /tmp && unshare --fork --pid --mount-proc stress-ng --quiet --temp-path /tmp \
		--fork "$cpus" --fork-ops $((forks * scale)) \
		--clone "$cpus" --clone-ops $((forks / 2 * scale)) \
		--timeout "${SHADOWPID_MIRROR_STORM_SECONDS:-120}") || return 1
	phase "stress-ng storm"
}

# pid_max 400: the cycle wraps to 300, then children that stay alive fill
# the namespace until fork fails with EAGAIN (python's fork, which does not
# retry as a shell does); they are killed and it goes on.
wrap() {
	unshare --fork --pid --mount-proc python3 -c '
import os, signal, sys
with open("/proc/sys/kernel/pid_max", "w") as f:
    f.write("400")
def forks(n):
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
for _ in range(int(sys.argv[1])):
    forks(450)
    kids = []
    try:
        while True:
            pid = os.fork()
            if pid == 0:
                signal.pause()
                os._exit(0)
            kids.append(pid)
    except BlockingIOError:
        pass
    assert len(kids) > 0
    for k in kids:
        os.kill(k, signal.SIGKILL)
        os.waitpid(k, 0)
    forks(100)
' "$scale" || return 1
	phase "pid_max 400 wrap and EAGAIN"
}

# ns_last_pid writes: the cursor jumps (followed, not a divergence).
last_pid() {
	unshare --fork --pid --mount-proc bash -c '
		for n in 1000 50 777 30000 5; do
			echo $n >/proc/sys/kernel/ns_last_pid; /bin/true; /bin/true
		done
	' || return 1
	phase "ns_last_pid writes"
}

# Namespace churn: $SHADOWPID_MIRROR_CHURN (1,000) made and destroyed per
# scale, so freed namespaces' addresses are reused by new ones.
churn() {
	for _ in $(seq $((churns * scale))); do
		unshare --fork --pid /bin/true || return 1
	done
	phase "namespace churn"
}

for p in ${SHADOWPID_MIRROR_PHASES:-nested storm wrap last_pid churn}; do
	case $p in
	nested | storm | wrap | last_pid | churn) "$p" || exit 1 ;;
	*) echo "mirror_workload.sh: no phase $p" >&2; exit 1 ;;
	esac
done
