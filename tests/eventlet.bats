# SPDX-License-Identifier: MIT
# An eventlet program (monkey-patched, green threads), as OpenStack services
# are, under standby, attach and the timeline: Debian's python3-eventlet
# with /usr/bin/python3.11.  Tracing and scopes of green threads on every
# interpreter that has eventlet: tests/python/eventlet.bats.

load helper

PY=/usr/bin/python3.11

setup() {
	if ! "$PY" -c 'import eventlet' 2>/dev/null; then
		[ "${CI:-}" != true ] || fail "python3-eventlet is not installed"
		skip "python3-eventlet is not installed"
	fi
	D=$BATS_TEST_TMPDIR
}

@test "eventlet in standby: on traces every greenthread, off stops them; the hub's thread is never in the way" {
	cat >"$D/standby.py" <<-'PY'
	import eventlet
	eventlet.monkey_patch()
	import os
	import sys

	D = sys.argv[1]


	def m0():
	    return 0  # GREEN0


	def m1():
	    return 1  # GREEN1


	def m2():
	    return 2  # GREEN2


	def worker(mark):
	    while not os.path.exists(os.path.join(D, "stop")):
	        eventlet.sleep(0.01)
	        mark()


	pool = eventlet.GreenPool()
	for mark in (m0, m1, m2):
	    pool.spawn_n(worker, mark)
	open(os.path.join(D, "ready"), "w").close()
	pool.waitall()
	print("done")
	PY
	LD_PRELOAD="$PT_LIB" PYTRACE_START=standby PYTRACE_OUTPUT="$D/t" \
		PYTRACE_IGNORE_DIRS="/usr/lib/python3.11:/usr/lib/python3/dist-packages" \
		"$PY" "$D/standby.py" "$D" >"$D/out" &
	local svc=$! i size
	for i in $(seq 100); do [ -e "$D/ready" ] && break; sleep 0.05; done
	run "$PT_ROOT/pytrace" on "$svc"
	assert_success
	sleep 0.5
	run "$PT_ROOT/pytrace" off "$svc"
	assert_success
	size=$(stat -c %s "$D/t")
	sleep 0.3
	assert_equal "$(stat -c %s "$D/t")" "$size"
	touch "$D/stop"
	wait "$svc"
	assert_equal "$(cat "$D/out")" done
	for i in 0 1 2; do
		run grep -c "# GREEN$i\$" "$D/t"
		[ "$output" -gt 5 ] || fail "greenthread $i: $output lines"
	done
}

@test "eventlet: pytrace attach to a monkey-patched service, its hub in epoll_wait" {
	[ "$(id -u)" = 0 ] || skip "attaching needs root here"
	cat >"$D/att.py" <<-'PY'
	import eventlet
	eventlet.monkey_patch()
	import os
	import sys

	D = sys.argv[1]


	def mark():
	    return 1  # GREEN


	def worker():
	    while not os.path.exists(os.path.join(D, "stop")):
	        eventlet.sleep(0.01)
	        mark()


	pool = eventlet.GreenPool()
	for _ in range(3):
	    pool.spawn_n(worker)
	open(os.path.join(D, "ready"), "w").close()
	pool.waitall()
	print("done")
	PY
	"$PY" "$D/att.py" "$D" >"$D/out" 2>"$D/err" &
	local svc=$! i
	for i in $(seq 100); do [ -e "$D/ready" ] && break; sleep 0.05; done
	run "$PT_ROOT/pytrace" attach "$svc" -o "$D/t" \
		--ignore-dir /usr/lib/python3.11:/usr/lib/python3/dist-packages
	assert_success
	sleep 0.5
	run "$PT_ROOT/pytrace" off "$svc"
	assert_success
	touch "$D/stop"
	wait "$svc"
	assert_equal "$(cat "$D/out")" done
	assert_equal "$(cat "$D/err")" ""
	run grep -c "# GREEN\$" "$D/t"
	[ "$output" -gt 10 ] || fail "$output lines"
}

@test "eventlet with the timeline: output and status unchanged, the export valid, every greenthread's calls in it" {
	run "$PY" "$PT_FIX/green/workers.py"
	local plain=$output
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t.rec" PYTRACE_OUTPUT_MODE=record \
		PYTRACE_TIMELINE=1 PYTRACE_IGNORE_DIRS="/usr/lib/python3.11:/usr/lib/python3/dist-packages" \
		"$PY" "$PT_FIX/green/workers.py"
	assert_equal "$status" 3
	assert_equal "$output" "$plain"
	run "$PT_ROOT/pytrace" export --perfetto "$D/t.rec" -o "$D/t.json"
	assert_success
	run /usr/bin/python3 "$PT_ROOT/tests/perfetto-check.py" --tree "$D/t.json"
	assert_success
	# green threads share their thread's track: a switch shows as nesting
	# (README, Known limits), but each call is a slice
	run grep -c ' __main__:worker$' <(printf '%s\n' "$output")
	assert_output 5
}
