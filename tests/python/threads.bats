# SPDX-License-Identifier: MIT
# Threads: lines of threads started with `threading` after tracing began are
# traced, and lines from concurrent threads are always written whole.

load ../helper

@test "threading imported before tracing starts (by sitecustomize) still traces new threads" {
	local D=$BATS_TEST_TMPDIR
	mkdir "$D/site"
	echo 'import threading' >"$D/site/sitecustomize.py"
	cat >"$D/t.py" <<-'PY'
	import threading
	def work():
	    return 42
	t = threading.Thread(target=work)
	t.start(); t.join()
	PY
	PYTHONPATH=$D/site PYTRACE_OUTPUT=$D/out PYTRACE_IGNORE_DIRS=$(sys_dirs) traced "$PYTHON" "$D/t.py"
	assert_file_contains "$D/out" "^$D/t.py(3):     return 42\$"
	refute grep -q sitecustomize "$D/out"
}

@test "a program's own threading.settrace is left alone" {
	local D=$BATS_TEST_TMPDIR
	cat >"$D/own.py" <<-'PY'
	import sys, threading
	seen = []
	def tracer(frame, event, arg):
	    seen.append(event)
	threading.settrace(tracer)
	t = threading.Thread(target=lambda: None)
	t.start(); t.join()
	print("own tracer called: %s" % ("call" in seen))
	PY
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT=$D/out "$PYTHON" "$D/own.py"
	assert_success
	assert_output "own tracer called: True"
	# Nothing on the program's stderr; at most the one notice in the
	# trace that pytrace leaves that thread alone.
	assert_equal "$stderr" ""
	[ "$(notices "$D/out" | wc -l)" -le 1 ]
}

# version NNN of $PYTHON: 207, 306, ..., 313
@test "a thread that exists before tracing starts is traced (3.6+; a known limit on 2.7)" {
	local D=$BATS_TEST_TMPDIR
	mkdir "$D/site"
	cat >"$D/site/sitecustomize.py" <<-'PY'
	import threading
	go = threading.Event()
	done = threading.Event()
	def early_work():
	    return "early"
	def early():
	    go.wait()
	    early_work()
	    done.set()
	t = threading.Thread(target=early)
	t.daemon = True
	t.start()
	PY
	printf 'import sitecustomize\nsitecustomize.go.set()\nsitecustomize.done.wait()\n' >"$D/main.py"
	PYTHONPATH=$D/site PYTRACE_OUTPUT=$D/out PYTRACE_IGNORE_DIRS=$(sys_dirs) traced "$PYTHON" "$D/main.py"
	assert_file_contains "$D/out" "^$D/main.py(3): sitecustomize.done.wait()\$"
	# On 2.7 it is traced only if its bootstrap code reads threading's
	# trace hook after pytrace set it: a race, so not checked.
	if [ "$(pyver)" -ge 306 ]; then
		assert_file_contains "$D/out" "^$D/site/sitecustomize.py(5):     return \"early\"\$"
	fi
}

@test "a thread started with _thread.start_new_thread is traced (3.6+; a known limit on 2.7)" {
	local D=$BATS_TEST_TMPDIR
	cat >"$D/raw.py" <<-'PY'
	try:
	    import _thread as thread
	except ImportError:
	    import thread
	lock = thread.allocate_lock()
	lock.acquire()
	def body():
	    x = "raw thread"
	    lock.release()
	thread.start_new_thread(body, ())
	lock.acquire()
	PY
	PYTRACE_OUTPUT=$D/out PYTRACE_IGNORE_DIRS=$(sys_dirs) traced "$PYTHON" "$D/raw.py"
	assert_file_contains "$D/out" "^$D/raw.py(11): lock.acquire()\$"
	if [ "$(pyver)" -ge 306 ]; then
		assert_file_contains "$D/out" "^$D/raw.py(8):     x = \"raw thread\"\$"
	else
		refute grep -q 'raw.py(8)' "$D/out"
	fi
}

@test "a program's own sys.settrace: 3.12+ traced on; 3.8-3.11 one notice in the trace; no crash anywhere" {
	local D=$BATS_TEST_TMPDIR
	printf 'import sys\ndef f():\n    return 1\nf()\nsys.settrace(lambda *a: None)\nf()\nprint("done")\n' >"$D/own.py"
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT=$D/out "$PYTHON" "$D/own.py"
	assert_success
	assert_output "done"
	assert_file_contains "$D/out" "^$D/own.py(5): sys.settrace(lambda \*a: None)\$"
	local v
	v=$(pyver)
	# the program's stderr is its own on every version
	assert_equal "$stderr" ""
	if [ "$v" -ge 312 ]; then
		assert_file_contains "$D/out" "^$D/own.py(7): print(\"done\")\$"
		assert_equal "$(notices "$D/out")" ""
	else
		refute grep -q 'own.py(7)' "$D/out"
		if [ "$v" -ge 308 ]; then
			assert_equal "$(notices "$D/out")" "# pytrace[PID]: the program set its own trace function (sys.settrace: a debugger, coverage?); pytrace no longer traces that thread"
			# right after the line that set it
			assert_equal "$(grep -A1 'own.py(5)' "$D/out" | tail -n 1 | cut -c1-10)" "# pytrace["
		else
			assert_equal "$(notices "$D/out")" ""
		fi
	fi
}

@test "3.12+: with every sys.monitoring tool id taken, one notice and PyEval_SetTrace instead" {
	[ "$(pyver)" -ge 312 ] || skip "sys.monitoring is 3.12+"
	local D=$BATS_TEST_TMPDIR
	mkdir "$D/site"
	printf 'import sys\nfor i in range(6):\n    sys.monitoring.use_tool_id(i, "other%%d" %% i)\n' >"$D/site/sitecustomize.py"
	printf 'def f():\n    return 1\nf()\nprint("done")\n' >"$D/p.py"
	run --separate-stderr env PYTHONPATH="$D/site" LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT=$D/out "$PYTHON" "$D/p.py"
	assert_success
	assert_output "done"
	assert_equal "$stderr" ""
	# said before the output opened: the trace's first line
	assert_equal "$(notices "$D/out")" "# pytrace[PID]: every sys.monitoring tool id is in use; tracing with PyEval_SetTrace instead"
	assert_equal "$(head -n 1 "$D/out" | cut -c1-10)" "# pytrace["
	assert_file_contains "$D/out" "^$D/p.py(2):     return 1\$"
}

@test "the flusher thread never shows: a fork in a traced program gets no multi-threaded warning" {
	local D=$BATS_TEST_TMPDIR
	printf 'import os, time\ndef f():\n    return 1\nf()\ntime.sleep(0.5)\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nos.waitpid(pid, 0)\nprint("forked")\n' >"$D/fork.py"
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_FLUSH_INTERVAL=50 \
		PYTRACE_OUTPUT="$D/t.%p" "$PYTHON" -W default "$D/fork.py"
	assert_success
	assert_output "forked"
	assert_equal "$stderr" ""
}
