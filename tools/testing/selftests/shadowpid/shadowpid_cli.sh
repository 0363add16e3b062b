#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The CLI as a person meets it (issue 13): what it says without the
# module (unloaded here, then loaded again), without privilege (as nobody,
# and as root without CAP_SYS_ADMIN), for a script with a typo; progress
# drawn at a terminal (a pseudo-terminal, script(1)) and never in a pipe;
# and interrupted, every kernel setting it changed put back: faults'
# fault-injection knobs (on a kernel that has them, the debug one) and
# bench's pid_max; --json everywhere, errno names. The mirror's interrupts are shadowpid_mirror.sh's (its
# boot runs on one TCG thread). KTAP out, one test per case.
. "$(dirname "$0")/lib.sh"
require_ready
mount_debugfs
tmp=$(mktemp -d)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT

# one_error FIRST CAUSE CMD...: CMD fails (status 1) with nothing on stdout
# and exactly two lines on stderr: "shadowpid: FIRST..." (FIRST is the
# line's start) and "  cause: CAUSE".
one_error() {
	local first=$1 cause=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	local rc=$?
	sed 's/^/#   /' "$tmp/err"
	[ $rc -eq 1 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" -eq 2 ] &&
		[ "$(head -n1 "$tmp/err" | cut -c1-$((11 + ${#first})))" = "shadowpid: $first" ] &&
		[ "$(tail -n1 "$tmp/err")" = "  cause: $cause" ]
}

# progress_seen LABEL TTY_STATUS PIPE_STATUS: true if both runs succeeded,
# the bar was drawn at the terminal ($tmp/tty) and left out of the pipe
# ($tmp/pipe).
progress_seen() {
	local label=$1 tty_rc=$2 pipe_rc=$3
	local drawn=0 leaked=0
	grep -qa "$label .*\[00:00:[0-9][0-9]\]" "$tmp/tty" && drawn=1
	grep -qa -e $'\e' -e '\[00:00:[0-9][0-9]\]' "$tmp/pipe" && leaked=1
	echo "# $label: status $tty_rc at a terminal (progress drawn: $drawn), $pipe_rc in a pipe (progress there: $leaked)"
	[ $tty_rc -eq 0 ] && [ $pipe_rc -eq 0 ] && [ $drawn = 1 ] && [ $leaked = 0 ]
}

# progress LABEL CMD...: CMD, run at a pseudo-terminal, draws its progress
# line (LABEL, then the elapsed time as [00:00:SS]); run in a pipe, it
# prints neither, nor any escape sequence. Both runs must succeed.
progress() {
	local label=$1
	shift
	script -qec "$(printf '%q ' "$@")" /dev/null >"$tmp/tty" 2>&1 </dev/null
	local tty_rc=$?
	"$@" 2>&1 </dev/null | cat >"$tmp/pipe"
	local pipe_rc=${PIPESTATUS[0]}
	progress_seen "$label" $tty_rc $pipe_rc
}

# wait_for SECONDS CMD...: polls CMD every tenth of a second until it
# succeeds; false after SECONDS.
wait_for() {
	local tries=$(($1 * 10))
	shift
	while ! "$@"; do
		tries=$((tries - 1))
		[ $tries -gt 0 ] || return 1
		sleep 0.1
	done
}

# progress_interrupted LABEL CMD...: progress() for a command that runs
# until a signal (mirror watch): SIGINT once it has drawn at the terminal,
# and once it has printed its first line in the pipe. Its handler is
# installed before either, so the signal ends it cleanly (status 0).
progress_interrupted() {
	local label=$1
	shift
	# -f: script writes the terminal out as it comes, not at its exit.
	script -qfec "$(printf '%q ' "$@")" /dev/null >"$tmp/tty" 2>&1 </dev/null &
	local spid=$!
	# The command leads its own session under script: signal its group.
	if wait_for 120 grep -qa "$label .*\[00:00:[0-9][0-9]\]" "$tmp/tty"; then
		local child
		read -r child _ <"/proc/$spid/task/$spid/children"
		kill -INT -- -"$child"
	else
		echo "# $label: never drawn at a terminal"
		kill -9 $spid
	fi
	wait $spid
	local tty_rc=$?
	"$@" </dev/null > >(cat >"$tmp/pipe") 2>&1 &
	local pid=$!
	if wait_for 120 grep -q . "$tmp/pipe"; then
		kill -INT $pid
	else
		echo "# $label: printed nothing in a pipe"
		kill -9 $pid
	fi
	wait $pid
	local pipe_rc=$?
	progress_seen "$label" $tty_rc $pipe_rc
}

# The fault-injection knobs, every one, and the module's caches' flags.
fi=/sys/kernel/debug
knobs() {
	grep -H . $fi/failslab/* $fi/fail_page_alloc/* /sys/kernel/slab/shadowpid_*/failslab 2>/dev/null
}
has_faults=0
[ -e $fi/failslab ] && [ -e $fi/fail_page_alloc ] && has_faults=1

ktap_plan 10

# Without the module: every command says so, once, before any output
# (compare used to print its banner, then one error per scenario). Then
# the module is loaded again for the rest.
rc=1
if rmmod shadowpid; then
	rc=0
	not_loaded="cannot open /dev/shadowpid: the shadowpid module is not loaded (no /sys/module/shadowpid); load it as root: insmod shadowpid.ko"
	for cmd in version "alloc 0" "compare --random 2" stress "mirror status" "faults --target slab"; do
		# shellcheck disable=SC2086
		one_error "$not_loaded" "No such file or directory (os error 2)" "$cli" $cmd || rc=1
	done
	insmod "$ko" || { echo "# insmod $ko failed"; rc=1; }
fi
wait_for 10 test -c /dev/shadowpid || rc=1
ktap_result $rc no_module

# Without privilege: as nobody, the node's mode refuses; as root without
# CAP_SYS_ADMIN, the module does.
rc=0
one_error "cannot open /dev/shadowpid: permission denied to uid 65534: the node is mode 0600, owner uid 0; run as root" \
	"Permission denied (os error 13)" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$cli" version || rc=1
for cmd in version stress; do
	one_error "cannot open /dev/shadowpid: the module admits only openers with CAP_SYS_ADMIN" \
		"Operation not permitted (os error 1)" \
		setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin "$cli" $cmd || rc=1
done
ktap_result $rc no_privilege

# A typo in a script: a parse error with its line number in its place,
# not an errno; the module and the reference model answer alike; status 1.
printf 'alloc 0\n# a comment\nbogus 1 2\nfree 0 99\nalloc 0\n' >"$tmp/typo"
"$cli" script <"$tmp/typo" >"$tmp/out" 2>"$tmp/err"
rc=$?
sed 's/^/# script: /' "$tmp/out" "$tmp/err"
# The list of operations as the golden script's own parse error gives it
# (scripts/basic.out, which the host tests hold against the CLI's one list).
ops=$(sed -n 's/^parse error at line [0-9]*: unknown operation "bogus" (operations: \(.*\))$/\1/p' "$here/scripts/basic.out")
printf '%s\n' "pid 1" \
	"parse error at line 3: unknown operation \"bogus\" (operations: $ops)" \
	"err ESRCH" "pid 2" >"$tmp/expected"
[ $rc -eq 1 ] && diff -u "$tmp/expected" "$tmp/out" &&
	diff <("$cli" script --model <"$tmp/typo" 2>/dev/null) "$tmp/out" &&
	grep -qx 'shadowpid script: 1 line did not parse (see "parse error at line N")' "$tmp/err"
ktap_result $? script_typo

# --stop-on-error: nothing after the first failure runs, be it a parse
# error or an errno.
rc=0
[ "$("$cli" script --stop-on-error <"$tmp/typo" 2>/dev/null | wc -l)" -eq 2 ] || rc=1
out=$(printf 'alloc 0\nfree 0 99\nalloc 0\n' | "$cli" script --stop-on-error 2>&1)
echo "$out" | sed 's/^/# stop: /'
[ "$out" = "pid 1
err ESRCH
shadowpid script: stopped at line 2 (free 0 99): err ESRCH" ] || rc=1
# The universe of that run is gone: the next one starts again at 1.
[ "$(echo 'alloc 0' | "$cli" script)" = "pid 1" ] || rc=1
ktap_result $rc script_stop_on_error

# Progress at a terminal, none in a pipe, for every long command.
rc=0
progress stress "$cli" stress --threads 1 --ops 1000 || rc=1
progress fuzz "$cli" fuzz --threads 1 --seconds 2 || rc=1
progress compare "$cli" compare --no-builtin --random 1 --steps 40 || rc=1
progress bench "$cli" bench --smoke --reps $((3 - kasan)) --only 1,8 || rc=1
progress_interrupted "mirror watch" "$cli" mirror watch --interval 200 || rc=1
if [ $has_faults = 1 ]; then
	progress faults "$cli" faults --target slab --allocs 1000 || rc=1
else
	echo "# no failslab/fail_page_alloc here: faults' progress is checked by make check-debug"
fi
ktap_result $rc progress_at_a_terminal_only

# mirror watch only reads: a signal ends it (status 0), saying so; in a
# pipe, one summary line a refresh.
# refreshes N: watch's summary lines so far.
refreshes() {
	[ "$(grep -c '^mirror: [0-9]* compared' "$tmp/out")" -ge "$1" ]
}
"$cli" mirror watch --interval 100 >"$tmp/out" 2>"$tmp/err" &
pid=$!
wait_for 60 refreshes 3
kill -INT $pid
wait $pid
rc=$?
sed 's/^/# watch: /' "$tmp/err"
[ $rc -eq 0 ] && grep -q '^mirror watch: SIGINT: stopped' "$tmp/err" && refreshes 3 &&
	! grep -qa $'\e' "$tmp/out"
ktap_result $? mirror_watch_interrupted

# faults, interrupted (SIGTERM for slab, SIGINT for page; each sent twice
# at once): every knob and cache flag as it was before, including ones set
# away from the defaults here, and each one it put back said.
# interrupted_faults TARGET SIG STATUS DIR: faults on TARGET (whose knobs
# are in $fi/DIR), signalled with SIG once armed, exits with STATUS.
interrupted_faults() {
	local target=$1 sig=$2 status=$3 dir=$4
	"$cli" faults --target "$target" --allocs 1000000000 >"$tmp/out" 2>"$tmp/err" &
	local pid=$!
	# probability is the last knob faults' arm() writes: once it reads 10,
	# every knob has been changed and the allocations run.
	wait_for 60 grep -qx 10 "$fi/$dir/probability" || { kill -9 $pid; return 1; }
	# Twice at once, as timeout(1) does: still one interruption, put back
	# in full.
	kill -"$sig" $pid
	kill -"$sig" $pid
	wait $pid
	local rc=$?
	sed "s/^/# $target: /" "$tmp/err" | head -n 30
	[ $rc -eq "$status" ] && grep -q "^faults: SIG$sig: putting back the [0-9]* kernel settings it changed:" "$tmp/err" &&
		grep -q "^faults:   $fi/$dir/probability: 0 (was 10 during the run)" "$tmp/err" &&
		grep -qx "shadowpid: interrupted by SIG$sig" "$tmp/err"
}
if [ $has_faults = 1 ]; then
	# Away from the defaults: put back means to these, not to defaults.
	verbose=$(cat $fi/failslab/verbose) interval=$(cat $fi/fail_page_alloc/interval)
	echo 2 >$fi/failslab/verbose
	echo 7 >$fi/fail_page_alloc/interval
	knobs >"$tmp/before"
	rc=0
	interrupted_faults slab TERM 143 failslab || rc=1
	interrupted_faults page INT 130 fail_page_alloc || rc=1
	knobs >"$tmp/after"
	diff -u "$tmp/before" "$tmp/after" | sed 's/^/# /'
	cmp -s "$tmp/before" "$tmp/after" || rc=1
	echo "$verbose" >$fi/failslab/verbose
	echo "$interval" >$fi/fail_page_alloc/interval
	ktap_result $rc faults_interrupted_knobs_restored
else
	echo "# no failslab/fail_page_alloc: make check-debug runs this one"
	ktap_result $KSFT_SKIP faults_interrupted_knobs_restored
fi

# bench, interrupted while it has raised pid_max for a large state (figure
# 7 at 32,768 pids, from pid_max 32768 here): pid_max as it was, said.
pid_max=$(cat /proc/sys/kernel/pid_max)
echo 32768 >/proc/sys/kernel/pid_max
"$cli" bench --only 7 --reps 1 >"$tmp/out" 2>"$tmp/err" &
pid=$!
rc=0
wait_for 300 grep -qvx 32768 /proc/sys/kernel/pid_max || rc=1
raised=$(cat /proc/sys/kernel/pid_max)
kill -INT $pid
wait $pid
status=$?
sed 's/^/# bench: /' "$tmp/err" | tail -n 5
echo "# bench: pid_max raised to $raised, $(cat /proc/sys/kernel/pid_max) after the signal, status $status"
[ $rc -eq 0 ] && [ $status -eq 130 ] && [ "$(cat /proc/sys/kernel/pid_max)" = 32768 ] &&
	grep -qx "bench: SIGINT: putting back the 1 kernel setting it changed:" "$tmp/err" &&
	grep -qx "bench:   /proc/sys/kernel/pid_max: 32768 (was $raised during the run)" "$tmp/err"
ktap_result $? bench_interrupted_pid_max_restored
echo "$pid_max" >/proc/sys/kernel/pid_max

# --json: every command that prints results prints JSON on stdout (a
# document, or one object a line), errnos by name. (Nothing here attaches
# the mirror: that needs the mirror's boot, on one TCG thread.)
json_ok() {
	"$@" 2>/dev/null </dev/null | python3 -c '
import json, sys
text = sys.stdin.read()
try:
    json.loads(text)
except ValueError:
    [json.loads(line) for line in text.splitlines()]
assert text.strip()
'
}
rc=0
for cmd in version "alloc 0" "free 0 9" "model-test --ops 2000" "stress --threads 1 --ops 2000" \
	"fuzz --threads 1 --seconds 1" "compare --no-builtin --random 1 --steps 50" "mirror status"; do
	# shellcheck disable=SC2086
	json_ok "$cli" $cmd --json || { echo "# $cmd --json: not JSON"; rc=1; }
done
[ "$("$cli" free 0 9 --json)" = '{"op":"free 0 9","answer":"err","errno":"ESRCH"}' ] || rc=1
ktap_result $rc json_everywhere

# Errno names everywhere: fuzz's errno table (ENODEV of mmap was E19).
"$cli" fuzz --threads 1 --seconds 3 >"$tmp/out" 2>&1
rc=$?
sed 's/^/# fuzz: /' "$tmp/out"
[ $rc -eq 0 ] && grep -q 'errnos .*ENODEV=' "$tmp/out" && ! grep -qE '(^| )E[0-9]+=' "$tmp/out"
ktap_result $? fuzz_errno_names

ktap_finish
