# SPDX-License-Identifier: MIT
# On 2.7-3.11 pytrace follows calls and keeps its trace function set only
# while traced code runs (a frame evaluation function on 3.6-3.11, a
# profile function on 2.7).  What that must not change for the program:
# how deep it can recurse, what its own audit hooks see.  (That no line is
# lost at the changes is difftrace.bats's "interleave" test.)

load ../helper

@test "deep recursion that runs untraced runs traced, and every level is traced" {
	local D=$BATS_TEST_TMPDIR
	cat >"$D/deep.py" <<-'PY'
	import sys
	sys.setrecursionlimit(100000)
	def f(n):
	    return 0 if n == 0 else 1 + f(n - 1)
	print(f(int(sys.argv[1])))
	PY
	# 12000 levels fit in an 8 MiB stack untraced on every interpreter
	# here, 3.8 having the least room (about 16600).
	run "$PYTHON" "$D/deep.py" 12000
	assert_success
	assert_output 12000
	local v ign
	v=$(pyver)
	# with an ignore rule (calls followed), and with none
	for ign in "$(sys_dirs)" ""; do
		rm -f "$D/t"
		run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t" \
			PYTRACE_IGNORE_DIRS="$ign" "$PYTHON" "$D/deep.py" 12000
		assert_success
		assert_output 12000
		assert_equal "$stderr" ""
		run grep -c "^$D/deep.py(4):     return 0 if n == 0 else 1 + f(n - 1)\$" "$D/t"
		assert_output 12001
		# 3.6-3.11 say once, in the trace, that they stopped skipping
		# ignored frames: in the middle of the recursion, where it
		# happened.  Not 3.11 with nothing ignored in one thread: no
		# frame evaluation function is set there, no C frame per call.
		if [ "$v" -ge 306 ] && [ "$v" -le 311 ] && { [ "$v" -ne 311 ] || [ -n "$ign" ]; }; then
			assert_equal "$(notices "$D/t")" "# pytrace[PID]: deep recursion: pytrace now sets its trace function for every frame, ignored ones too (slower, same output)"
			local at
			at=$(grep -n '^# pytrace\[' "$D/t" | cut -d: -f1)
			[ "$at" -gt 1000 ] && [ "$at" -lt "$(count_lines "$D/t")" ]
		else
			assert_equal "$(notices "$D/t")" ""
		fi
	done
}

@test "deep recursion in a thread with a small stack does not crash it" {
	local D=$BATS_TEST_TMPDIR
	cat >"$D/small.py" <<-'PY'
	import sys, threading
	sys.setrecursionlimit(100000)
	threading.stack_size(512 * 1024)
	def f(n):
	    return 0 if n == 0 else 1 + f(n - 1)
	out = []
	t = threading.Thread(target=lambda: out.append(f(int(sys.argv[1]))))
	t.start(); t.join()
	print(out)
	PY
	run "$PYTHON" "$D/small.py" 500
	assert_success
	assert_output "[500]"
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/small.py" 500
	assert_success
	assert_line "[500]"
	run grep -c "^$D/small.py(5): " "$D/t"
	assert_output 501
}

@test "a program's own audit hook is not flooded with sys.settrace events (3.8+)" {
	[ "$(pyver)" -ge 308 ] || skip "no audit hooks before 3.8"
	local D=$BATS_TEST_TMPDIR
	mkdir "$D/lib"
	printf 'def call(fn, x):\n    return fn(x)\n' >"$D/lib/helper.py"
	cat >"$D/audit.py" <<-'PY'
	import sys
	seen = []
	sys.addaudithook(lambda ev, args: seen.append(ev) if ev == "sys.settrace" else None)
	sys.path.insert(0, sys.argv[1])
	import helper
	def double(x):
	    return 2 * x
	total = 0
	for i in range(1000):
	    total += helper.call(double, i)
	print(total, len(seen))
	PY
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t" \
		PYTRACE_IGNORE_DIRS="$D/lib:$(sys_dirs)" "$PYTHON" "$D/audit.py" "$D/lib"
	assert_success
	# 1000 calls into ignored code and back: at most a couple of changes
	# of the trace function after the hook appeared, not 2000.
	local events=${output#* }
	[ "${output% *}" = 999000 ]
	[ "$events" -le 2 ]
	run grep -c "^$D/audit.py(7):     return 2 \* x\$" "$D/t"
	assert_output 1000
}

@test "after deep recursion stops the following, a thread waiting in ignored code is traced again" {
	local D=$BATS_TEST_TMPDIR
	cat >"$D/wait.py" <<-'PY'
	import sys, threading
	sys.setrecursionlimit(100000)
	go = threading.Event()
	def traced_work():
	    return "after"
	def worker():
	    go.wait()
	    traced_work()
	t = threading.Thread(target=worker)
	t.start()
	def f(n):
	    return 0 if n == 0 else 1 + f(n - 1)
	f(12000)
	go.set()
	t.join()
	print("done")
	PY
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t" \
		PYTRACE_IGNORE_DIRS="$(sys_dirs)" "$PYTHON" "$D/wait.py"
	assert_success
	assert_line "done"
	assert_file_contains "$D/t" "^$D/wait.py(5):     return \"after\"\$"
	assert_file_contains "$D/t" "^$D/wait.py(8):     traced_work()\$"
}
