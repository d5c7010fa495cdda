# SPDX-License-Identifier: MIT
# An eventlet program (monkey-patched, green threads), as OpenStack services
# are: every greenthread's lines are traced, and the program's output and
# exit status are those of an untraced run.  Debian's python3-eventlet with
# /usr/bin/python3.11.

load helper

PY=/usr/bin/python3.11

setup() {
	if ! "$PY" -c 'import eventlet' 2>/dev/null; then
		[ "${CI:-}" != true ] || fail "python3-eventlet is not installed"
		skip "python3-eventlet is not installed"
	fi
	D=$BATS_TEST_TMPDIR
	cat >"$D/green.py" <<-'PY'
	import eventlet
	eventlet.monkey_patch()
	import threading
	import time


	def worker(n, out):
	    for i in range(3):
	        time.sleep(0)
	        out.append((n, i))
	    return n


	out = []
	pool = eventlet.GreenPool()
	results = list(pool.imap(lambda n: worker(n, out), range(4)))
	t = threading.Thread(target=worker, args=(9, out))
	t.start()
	t.join()
	print("results %s, %d steps" % (results, len(out)))
	raise SystemExit(3)
	PY
}

@test "eventlet: lines of every greenthread are traced; output and status unchanged" {
	run "$PY" "$D/green.py"
	local plain=$output plain_status=$status
	assert_equal "$plain_status" 3
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t" \
		PYTRACE_IGNORE_DIRS="/usr/lib/python3.11:/usr/lib/python3/dist-packages" \
		"$PY" "$D/green.py"
	assert_equal "$status" "$plain_status"
	assert_equal "$output" "$plain"
	# 4 pool greenthreads and one green "thread", 3 steps each
	run grep -c "^$D/green.py(10):         out.append((n, i))\$" "$D/t"
	assert_output 15
	run grep -c "^$D/green.py(11):     return n\$" "$D/t"
	assert_output 5
}
