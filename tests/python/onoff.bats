# SPDX-License-Identifier: MIT
# Standby, and `pytrace on` / `off` in a running process: every thread from
# its next line, nothing while off, as often as asked, and nothing of the
# service's own changed.

load ../helper

setup() {
	D=$BATS_TEST_TMPDIR
	PT=$PT_ROOT/pytrace
	export PYTRACE_IGNORE_DIRS=$(sys_dirs)
}

teardown() {
	[ -z "${SVC:-}" ] || { kill -9 "$SVC" && wait "$SVC"; } 2>/dev/null || true
}

# standby CMD...: start CMD in standby in the background (SVC: its pid).
standby() {
	LD_PRELOAD=$PT_LIB PYTRACE_START=standby "$@" &
	SVC=$!
}

# phase N: let the fixture run phase N, and wait until it has.
phase() {
	touch "$D/go$1"
	wait_file "$D/done$1"
}

@test "standby: nothing traced, no file, until switched on" {
	standby env PYTRACE_OUTPUT="$D/t" "$PYTHON" "$PT_FIX/onoff.py" "$D"
	wait_file "$D/ready"
	phase 1
	run "$PT" status "$SVC"
	assert_success
	assert_output "$SVC: standby"
	assert_file_not_exist "$D/t"
	phase 2
	phase 3
	touch "$D/go4"
	wait "$SVC"
	assert_file_not_exist "$D/t"
}

@test "on: every thread from its next line; off: nothing; on again" {
	standby env PYTRACE_OUTPUT="$D/t" "$PYTHON" "$PT_FIX/onoff.py" "$D"
	wait_file "$D/ready"
	run "$PT" on "$SVC"
	assert_success
	assert_output "$SVC: on (was standby), trace $D/t"
	# the thread inside its loop since before `on`, and the main thread
	# blocked in select(), are traced from their next line
	sleep 0.3
	phase 1
	run "$PT" off "$SVC"
	assert_success
	assert_output --regexp "^$SVC: off \(was on\), [0-9]+ lines written to $D/t\$"
	local size
	size=$(stat -c %s "$D/t")
	phase 2
	sleep 0.3
	assert_equal "$(stat -c %s "$D/t")" "$size"
	run "$PT" on "$SVC"
	assert_success
	assert_output "$SVC: on (was off), trace $D/t"
	phase 3
	run "$PT" off "$SVC"
	assert_success
	touch "$D/go4"
	wait "$SVC"
	SVC=
	local f=$PT_FIX/onoff.py
	run grep -c "^$f([0-9]*):         n = sum(range(2000)) + n % 7  # SPIN\$" "$D/t"
	[ "$output" -gt 1 ] || fail "the spinning thread: $output lines"
	run grep -c "^$f([0-9]*):         select.select(\[\], \[\], \[\], 0.02)  # WAIT\$" "$D/t"
	[ "$output" -gt 1 ] || fail "the main thread in select: $output lines"
	run grep -c "# LATER\$" "$D/t"
	assert_output 2
	run grep -c "# PHASE1\$" "$D/t"
	assert_output 1
	run grep -c "# PHASE2\$" "$D/t"
	assert_output 0
	run grep -c "# PHASE3\$" "$D/t"
	assert_output 1
	# every line whole, nothing but traced lines
	run grep -vc "^$f([0-9]*): " "$D/t"
	assert_output 0
}

@test "off: the interpreter is back as if never traced (3.9+)" {
	"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
		skip "before 3.9 Python shows no sign of the hooks pytrace sets"
	mkdir "$D/plain"
	( cd "$D/plain" && touch go1 go2 go3 go4 &&
	  "$PYTHON" "$PT_FIX/onoff.py" "$D/plain" )
	standby env PYTRACE_OUTPUT="$D/t" "$PYTHON" "$PT_FIX/onoff.py" "$D"
	wait_file "$D/ready"
	run "$PT" on "$SVC"
	assert_success
	phase 1
	run "$PT" off "$SVC"
	assert_success
	phase 2
	phase 3
	touch "$D/go4"
	wait "$SVC"
	SVC=
	assert_equal "$(cat "$D/probe")" "$(cat "$D/plain/probe")"
}

@test "--lines N and --for DURATION switch off by themselves" {
	cat >"$D/svc.py" <<-'PY'
	import time
	def tick(i):
	    return i + 1
	n = 0
	while True:
	    n = tick(n)
	    time.sleep(0.01)
	PY
	standby env PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/svc.py"
	sleep 0.5
	run "$PT" on "$SVC" --lines 7
	assert_success
	sleep 0.5
	run "$PT" status "$SVC"
	assert_output --regexp "^$SVC: off since [0-9:]+, 7 lines written to"
	assert_equal "$(count_lines "$D/t")" 7
	run "$PT" on "$SVC" -o "$D/u" --for 1
	assert_success
	sleep 2
	run "$PT" status "$SVC"
	assert_output --regexp "^$SVC: off since "
	local n
	n=$(count_lines "$D/u")
	[ "$n" -gt 20 ] || fail "only $n lines in a second"
	sleep 0.3
	assert_equal "$(count_lines "$D/u")" "$n"
}

@test "100 times on and off: memory, threads and descriptors stay where they were" {
	cat >"$D/svc.py" <<-'PY'
	import time
	def tick(i):
	    return i + 1
	n = 0
	while True:
	    n = tick(n)
	    time.sleep(0.002)
	PY
	standby env PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/svc.py"
	sleep 0.5
	local i rss0 rss1 fds0 fds1 tasks0 tasks1
	for i in $(seq 10); do
		"$PT_ROOT/pytrace-ctl" "$SVC" on >/dev/null || fail "on $i"
		"$PT_ROOT/pytrace-ctl" "$SVC" off >/dev/null || fail "off $i"
	done
	rss0=$(awk '/^VmRSS/ { print $2 }' "/proc/$SVC/status")
	fds0=$(ls "/proc/$SVC/fd" | wc -l)
	tasks0=$(ls "/proc/$SVC/task" | wc -l)
	for i in $(seq 100); do
		"$PT_ROOT/pytrace-ctl" "$SVC" on >/dev/null || fail "on $i"
		"$PT_ROOT/pytrace-ctl" "$SVC" off >/dev/null || fail "off $i"
	done
	rss1=$(awk '/^VmRSS/ { print $2 }' "/proc/$SVC/status")
	fds1=$(ls "/proc/$SVC/fd" | wc -l)
	tasks1=$(ls "/proc/$SVC/task" | wc -l)
	assert_equal "$fds1" "$fds0"
	assert_equal "$tasks1" "$tasks0"
	[ "$rss1" -le $((rss0 + 1024)) ] || fail "RSS grew from $rss0 to $rss1 KiB"
	# and it still traces
	run "$PT_ROOT/pytrace-ctl" "$SVC" on
	assert_success
	sleep 0.2
	run grep -c "svc.py(6):     n = tick(n)" "$D/t"
	[ "$output" -gt 10 ] || fail "$output lines"
}

@test "the service's own: a SIGUSR2 handler, its threads, its stderr" {
	cat >"$D/svc.py" <<-'PY'
	import os, signal, sys, threading, time
	got = []
	signal.signal(signal.SIGUSR2, lambda s, f: got.append(s))
	sys.stdout.write("%s\n" % sorted(t.name for t in threading.enumerate()))
	sys.stdout.flush()
	while not os.path.exists(sys.argv[1]):
	    time.sleep(0.02)
	sys.stdout.write("%s %s\n" % (got, sorted(t.name for t in threading.enumerate())))
	PY
	"$PYTHON" "$D/svc.py" "$D/none" >"$D/plain.out" 2>"$D/plain.err" &
	local plain=$!
	sleep 0.3
	kill -USR2 "$plain"
	sleep 0.2
	touch "$D/none"
	wait "$plain"
	LD_PRELOAD=$PT_LIB PYTRACE_START=standby PYTRACE_OUTPUT="$D/t" \
		"$PYTHON" "$D/svc.py" "$D/stop" >"$D/out" 2>"$D/err" &
	SVC=$!
	sleep 0.3
	run "$PT" on "$SVC"
	assert_success
	kill -USR2 "$SVC"
	sleep 0.2
	run "$PT" off "$SVC"
	assert_success
	touch "$D/stop"
	wait "$SVC"
	SVC=
	assert_equal "$(cat "$D/out")" "$(cat "$D/plain.out")"
	assert_equal "$(cat "$D/err")" "$(cat "$D/plain.err")"
	assert_file_contains "$D/t" "svc.py(6): while not os.path.exists(sys.argv\[1\]):"
}

@test "a forked child is switched on and off on its own" {
	cat >"$D/fork.py" <<-'PY'
	import os, sys, time
	def tick(i):
	    return i + 1
	pid = os.fork()
	if pid == 0:
	    n = 0
	    while not os.path.exists(sys.argv[1]):
	        n = tick(n)
	        time.sleep(0.01)
	    os._exit(0)
	open(sys.argv[2], "w").write("%d" % pid)
	os.waitpid(pid, 0)
	PY
	standby env PYTRACE_OUTPUT="$D/t.%p" "$PYTHON" "$D/fork.py" "$D/stop" "$D/kid"
	wait_file "$D/kid"
	sleep 0.2
	local kid
	kid=$(cat "$D/kid")
	run "$PT" on "$kid"
	assert_success
	assert_output "$kid: on (was standby), trace $D/t.$kid"
	sleep 0.3
	run "$PT" off "$kid"
	assert_success
	run "$PT" status "$SVC"
	assert_output "$SVC: standby"
	touch "$D/stop"
	wait "$SVC"
	SVC=
	run grep -c "fork.py(8):         n = tick(n)" "$D/t.$kid"
	[ "$output" -gt 5 ] || fail "$output lines in the child's trace"
	assert_file_not_exist "$D/t.$SVC"
}

@test "a service that closes descriptors it did not open: what it opens next is left alone" {
	# pipes take the numbers the library's socket and pipe had (their
	# read ends on odd numbers, then on even ones), and the data of each
	# is left in it a while: a thread that polled those numbers would
	# take it
	cat >"$D/closer.py" <<-'PY'
	import os, select, sys, time
	os.closerange(3, 4096)
	if sys.argv[2] == "even":
	    f = open(os.devnull)
	pipes = [os.pipe() for _ in range(20)]
	while not os.path.exists(sys.argv[1]):
	    time.sleep(0.02)
	for r, w in pipes:
	    os.write(w, b"hello")
	time.sleep(0.3)
	kept = [r for r, w in pipes if select.select([r], [], [], 0)[0] and os.read(r, 5) == b"hello"]
	sys.stdout.write("%d\n" % len(kept))
	PY
	local parity
	for parity in odd even; do
		rm -f "$D/go"
		LD_PRELOAD=$PT_LIB PYTRACE_START=standby PYTRACE_OUTPUT="$D/t" \
			"$PYTHON" "$D/closer.py" "$D/go" $parity >"$D/out" &
		SVC=$!
		sleep 0.5
		run "$PT" on "$SVC"
		assert_failure
		touch "$D/go"
		wait "$SVC"
		SVC=
		assert_equal "$parity $(cat "$D/out")" "$parity 20"
	done
}

@test "loaded into a running interpreter (dlopen): it waits in standby, and on and off work" {
	cat >"$D/late.py" <<-'PY'
	import ctypes, os, sys, threading, time
	def tick(i):
	    return i + 1
	if sys.argv[2] == "thread":
	    t = threading.Thread(target=lambda: None)
	    t.start()
	    t.join()
	ctypes.CDLL(os.environ["LIB"])
	sys.stdout.write("loaded\n")
	sys.stdout.flush()
	n = 0
	while not os.path.exists(sys.argv[1]):
	    n = tick(n)
	    time.sleep(0.01)
	PY
	LIB=$PT_LIB PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/late.py" "$D/stop" thread >"$D/out" 2>"$D/err" &
	SVC=$!
	wait_file "$D/out"
	sleep 0.3
	run "$PT" status "$SVC"
	assert_output "$SVC: standby"
	run "$PT" on "$SVC"
	assert_success
	sleep 0.3
	run "$PT" off "$SVC"
	assert_success
	touch "$D/stop"
	wait "$SVC"
	SVC=
	assert_equal "$(cat "$D/out")" loaded
	assert_equal "$(cat "$D/err")" ""
	run grep -c "late.py(13):     n = tick(n)" "$D/t"
	[ "$output" -gt 5 ] || fail "$output lines"
}

@test "on with a scope: only the scope's lines; on again with another scope, one that matches nothing said at off" {
	standby env PYTRACE_OUTPUT="$D/t" "$PYTHON" "$PT_FIX/onoff.py" "$D"
	wait_file "$D/ready"
	run "$PT" on "$SVC" --scope __main__:phase1
	assert_success
	phase 1
	run "$PT" off "$SVC"
	assert_success
	run "$PT" on "$SVC" --scope __main__:phase3 --scope '__main__:nothing'
	assert_success
	phase 2
	phase 3
	run "$PT" off "$SVC"
	assert_success
	touch "$D/go4"
	wait "$SVC"
	SVC=
	local f=$PT_FIX/onoff.py one three
	one=$(grep -n '# PHASE1$' "$f" | cut -d: -f1)
	three=$(grep -n '# PHASE3$' "$f" | cut -d: -f1)
	run sed -e 's/(thread [0-9]*)$/(thread TID)/' -e 's/^# pytrace\[[0-9]*\]/# pytrace[PID]/' "$D/t"
	assert_output " === scope: __main__:phase1 (thread TID)
$f($one):     return \"one\"  # PHASE1
 === scope: __main__:phase3 (thread TID)
$f($three):     return \"three\"  # PHASE3
# pytrace[PID]: scope '__main__:nothing' matched no function"
}
