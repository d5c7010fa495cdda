# SPDX-License-Identifier: MIT
# pytrace attach: loading the library into a Python process started
# without it, with ptrace alone, then switching it on.  The process runs on
# exactly as untraced; what cannot work is refused before it is touched.

load ../helper

setup() {
	[ "$(id -u)" = 0 ] || skip "attaching needs root here"
	! python_in_chroot ||
		skip "attach refuses a process with another C library than pytrace's, as in a chroot"
	D=$BATS_TEST_TMPDIR
	PT=$PT_ROOT/pytrace
	ATT=$PT_ROOT/pytrace-attach
	export PYTRACE_IGNORE_DIRS=$(sys_dirs)
}

teardown() {
	[ -z "${SVC:-}" ] || { kill -9 "$SVC" && wait "$SVC"; } 2>/dev/null || true
}

# a program that loops in pure Python (no system call, no C function in the
# loop) until FILE exists, then exits 3
busy() {
	cat <<-'PY'
	import os, sys
	def tick(i):
	    return i + 1
	open(sys.argv[2], "w").close()
	n = 0
	while True:
	    n = tick(n)
	    if n % 100000 == 0 and os.path.exists(sys.argv[1]):
	        break
	print("done")
	sys.exit(3)
	PY
}

@test "attach: a pure-Python loop is traced from then on; output and status as untraced" {
	busy >"$D/busy.py"
	touch "$D/stop"
	run "$PYTHON" "$D/busy.py" "$D/stop" "$D/r0"
	local plain=$output plain_status=$status
	rm "$D/stop"
	"$PYTHON" "$D/busy.py" "$D/stop" "$D/ready" >"$D/out" 2>"$D/err" &
	SVC=$!
	wait_file "$D/ready"
	run "$PT" attach "$SVC" -o "$D/t"
	assert_success
	assert_line --regexp "^$SVC: attached in [0-9.]+ ms, thread [0-9]+ stopped [0-9.]+ ms\$"
	assert_line "$SVC: on (was standby), trace $D/t"
	sleep 0.2
	run "$PT" off "$SVC"
	assert_success
	touch "$D/stop"
	local status_=0
	wait "$SVC" || status_=$?
	SVC=
	assert_equal "$status_" "$plain_status"
	assert_equal "$(cat "$D/out")" "$plain"
	assert_equal "$(cat "$D/err")" ""
	run grep -c "busy.py(7):     n = tick(n)\$" "$D/t"
	[ "$output" -gt 100 ] || fail "$output lines"
}

@test "attach: the main thread in select() while a worker computes" {
	cat >"$D/svc.py" <<-'PY'
	import os, select, sys, threading
	def work():
	    s = 0
	    while True:
	        s += sum(range(100))  # WORK
	t = threading.Thread(target=work)
	t.daemon = True
	t.start()
	open(sys.argv[2], "w").close()
	while not os.path.exists(sys.argv[1]):
	    select.select([], [], [], 0.05)  # WAIT
	print("done")
	PY
	"$PYTHON" "$D/svc.py" "$D/stop" "$D/ready" >"$D/out" 2>"$D/err" &
	SVC=$!
	wait_file "$D/ready"
	run "$PT" attach "$SVC" -o "$D/t"
	assert_success
	sleep 0.3
	run "$PT" off "$SVC"
	assert_success
	touch "$D/stop"
	wait "$SVC"
	SVC=
	assert_equal "$(cat "$D/out")" done
	assert_equal "$(cat "$D/err")" ""
	run grep -c "# WORK\$" "$D/t"
	[ "$output" -gt 10 ] || fail "worker: $output lines"
	run grep -c "# WAIT\$" "$D/t"
	[ "$output" -gt 2 ] || fail "main thread: $output lines"
}

@test "attach while every thread calls malloc and free from C, 10 times (50 on Debian's): loaded or refused, never a hang" {
	# every thread, the main one too, spends its time in malloc and free
	# (ctypes releases the GIL): a thread stopped in there and made to
	# call dlopen would deadlock on its own arena lock
	cat >"$D/spin.c" <<-'C'
	#include <stdlib.h>
	long spin(long n)
	{
		long s = 0;
		for (long i = 0; i < n; i++) {
			char *p = malloc(2048 + (size_t)(i % 8192));
			p[0] = (char)i;
			s += p[0];
			free(p);
		}
		return s;
	}
	C
	cc -shared -fPIC -O1 -o "$D/libspin.so" "$D/spin.c"
	cat >"$D/svc.py" <<-'PY'
	import ctypes, os, sys, threading
	lib = ctypes.CDLL(sys.argv[3])
	lib.spin.restype = ctypes.c_long
	lib.spin.argtypes = [ctypes.c_long]
	def work():
	    while not os.path.exists(sys.argv[1]):
	        lib.spin(100000)
	ts = [threading.Thread(target=work) for _ in range(3)]
	for t in ts:
	    t.start()
	open(sys.argv[2], "w").close()
	work()
	for t in ts:
	    t.join()
	print("done")
	PY
	local i loaded=0 times=10
	[ "$PYTHON" != /usr/bin/python3.11 ] || times=50
	for i in $(seq $times); do
		rm -f "$D/stop" "$D/ready"
		"$PYTHON" "$D/svc.py" "$D/stop" "$D/ready" "$D/libspin.so" >"$D/out" 2>"$D/err" &
		SVC=$!
		wait_file "$D/ready"
		run timeout 20 "$ATT" "$SVC" "$PT_LIB"
		case $status in
		0) loaded=$((loaded + 1)) ;;
		1) assert_output --partial "no thread came to a point where loading is safe" ;;
		*) fail "attach $i: status $status: $output" ;;
		esac
		touch "$D/stop"
		run timeout 20 bash -c "while kill -0 $SVC 2>/dev/null; do sleep 0.05; done"
		[ "$status" -eq 0 ] || fail "attach $i: the process hangs"
		wait "$SVC" || fail "attach $i: the process ended with status $?"
		SVC=
		assert_equal "$(cat "$D/out")" done
		assert_equal "$(cat "$D/err")" ""
	done
	echo "# loaded $loaded times of $times" >&3
}

@test "attach: a timer's signals keep coming, each handled once, while the process is stopped and loaded" {
	cat >"$D/svc.py" <<-'PY'
	import os, signal, sys, threading, time
	# a thread was started once (2.7 and 3.6 make their GIL then)
	t = threading.Thread(target=lambda: None)
	t.start()
	t.join()
	got = [0]
	def on_alarm(s, f):
	    got[0] += 1
	signal.signal(signal.SIGALRM, on_alarm)
	signal.setitimer(signal.ITIMER_REAL, 0.005, 0.005)
	open(sys.argv[2], "w").close()
	while not os.path.exists(sys.argv[1]):
	    time.sleep(0.001)
	signal.setitimer(signal.ITIMER_REAL, 0, 0)
	print("alarms %s" % (got[0] > 50))
	PY
	"$PYTHON" "$D/svc.py" "$D/stop" "$D/ready" >"$D/out" 2>"$D/err" &
	SVC=$!
	wait_file "$D/ready"
	run "$ATT" "$SVC" "$PT_LIB"
	assert_success
	sleep 0.5
	touch "$D/stop"
	wait "$SVC"
	SVC=
	assert_equal "$(cat "$D/out")" "alarms True"
	assert_equal "$(cat "$D/err")" ""
}

@test "attach refuses, before touching it: not Python, traced by strace, attached twice, ptrace disabled, another user's" {
	sleep 30 &
	SVC=$!
	# until the shell forked for it has become sleep
	while [ "$(cat "/proc/$SVC/comm")" != sleep ]; do sleep 0.05; done
	run "$ATT" "$SVC" "$PT_LIB"
	assert_failure
	assert_output --regexp "^pytrace: PID $SVC \(.*sleep\) is not a Python process\$"
	kill "$SVC"
	wait "$SVC" 2>/dev/null || true
	busy >"$D/busy.py"
	"$PYTHON" "$D/busy.py" "$D/stop" "$D/ready" >/dev/null &
	SVC=$!
	wait_file "$D/ready"
	# ptrace_scope read from a stand-in file: 3 disables ptrace
	echo 3 >"$D/scope"
	run env PYTRACE_PTRACE_SCOPE="$D/scope" "$ATT" "$SVC" "$PT_LIB"
	assert_failure
	assert_output --partial "ptrace is disabled on this host (kernel.yama.ptrace_scope = 3"
	# another user may not attach to root's process
	if command -v setpriv >/dev/null; then
		run setpriv --reuid=65534 --regid=65534 --clear-groups "$ATT" "$SVC" "$PT_LIB"
		assert_failure
		assert_output "pytrace: PID $SVC belongs to uid 0: only root may attach to another user's process"
	fi
	# under strace
	if command -v strace >/dev/null; then
		strace -p "$SVC" -o /dev/null &
		local st=$!
		local i
		for i in $(seq 100); do
			grep -q "^TracerPid:[[:space:]]*[1-9]" "/proc/$SVC/status" && break
			sleep 0.02
		done
		run "$ATT" "$SVC" "$PT_LIB"
		assert_failure
		assert_output --regexp "^pytrace: PID $SVC is being traced by process [0-9]+ \(a debugger, strace\?\): detach it first\$"
		kill "$st"
		wait "$st" 2>/dev/null || true
		for i in $(seq 100); do
			grep -q "^TracerPid:[[:space:]]*0" "/proc/$SVC/status" && break
			sleep 0.02
		done
	fi
	# the first attach loads; the second has nothing to do
	run "$ATT" "$SVC" "$PT_LIB"
	assert_success
	run "$ATT" "$SVC" "$PT_LIB"
	assert_failure 3
	assert_output "pytrace: PID $SVC has pytrace's library already (preloaded, or attached before): nothing to load"
	run "$PT" status "$SVC"
	assert_output "$SVC: standby"
	touch "$D/stop"
	wait "$SVC" || true
	SVC=
}

@test "attach: a helper that sudo started from a traced parent, without LD_PRELOAD (the privsep case)" {
	command -v sudo >/dev/null || skip "sudo is not installed"
	busy >"$D/busy.py"
	cat >"$D/parent.py" <<-'PY'
	import subprocess, sys
	# as oslo.privsep starts privsep-helper: through sudo, which drops LD_*
	p = subprocess.Popen(["sudo", "-n", "--", sys.executable] + sys.argv[1:])
	sys.exit(p.wait())
	PY
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT="$D/parent.trace" \
		"$PYTHON" "$D/parent.py" "$D/busy.py" "$D/stop" "$D/ready" >"$D/out" 2>"$D/err" &
	SVC=$!
	wait_file "$D/ready"
	local helper
	helper=$(pgrep -f -n "^$PYTHON $D/busy.py") || fail "no helper process"
	# the preload did not reach it
	run grep -c libpytrace "/proc/$helper/maps"
	assert_output 0
	run "$PT" attach "$helper" -o "$D/t"
	assert_success
	assert_line "$helper: on (was standby), trace $D/t"
	sleep 0.2
	run "$PT" off "$helper"
	assert_success
	touch "$D/stop"
	local status_=0
	wait "$SVC" || status_=$?
	SVC=
	assert_equal "$status_" 3
	assert_equal "$(cat "$D/out")" done
	run grep -c "busy.py(7):     n = tick(n)\$" "$D/t"
	[ "$output" -gt 100 ] || fail "$output lines"
}
