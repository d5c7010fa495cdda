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
	# with ignore rules, and with none (every frame traced)
	for ign in "$(sys_dirs)" ""; do
		rm -f "$D/out"
		PYTRACE_OUTPUT=$D/out PYTRACE_IGNORE_DIRS=$ign traced "$PYTHON" "$D/raw.py"
		assert_file_contains "$D/out" "^$D/raw.py(11): lock.acquire()\$"
		if [ "$(pyver)" -ge 306 ]; then
			assert_file_contains "$D/out" "^$D/raw.py(8):     x = \"raw thread\"\$"
		else
			refute grep -q 'raw.py(8)' "$D/out"
		fi
	done
}

# cthread_check WHEN: the thread of tests/fixtures/cthread.c, started at
# once (WHEN=late) or by sitecustomize before tracing starts (early),
# calls back into Python twice, each time in a new thread state: both
# calls are traced, with ignore rules and with none (3.6+).
cthread_check() {
	python_in_chroot && skip "the C library is built for this machine's glibc"
	[ "$(pyver)" -ge 306 ] || skip "2.7 traces threads that threading starts"
	local D=$BATS_TEST_TMPDIR lib=$BATS_TEST_TMPDIR/libcthread.so ign
	cc -shared -fPIC -o "$lib" "$PT_FIX/cthread.c" -lpthread
	mkdir -p "$D/site"
	cat >"$D/site/sitecustomize.py" <<-PY
	import ctypes
	lib = ctypes.CDLL("$lib")
	CB = ctypes.CFUNCTYPE(None, ctypes.c_int)
	def called(n):
	    x = "called from C %d" % n
	cb = CB(called)
	if "$1" == "early":
	    assert lib.cthread_start(cb) == 0
	PY
	cat >"$D/main.py" <<-PY
	import sitecustomize as s
	if "$1" != "early":
	    assert s.lib.cthread_start(s.cb) == 0
	s.lib.cthread_go()
	s.lib.cthread_join()
	print("joined")
	PY
	for ign in "" "$(sys_dirs)"; do
		rm -f "$D/out"
		run env PYTHONPATH="$D/site" PYTRACE_OUTPUT="$D/out" PYTRACE_IGNORE_DIRS="$ign" \
			LD_PRELOAD="$PT_LIB" "$PYTHON" "$D/main.py"
		assert_success
		assert_output "joined"
		assert_file_contains "$D/out" "^$D/main.py(4): s.lib.cthread_go()\$"
		assert_equal "$(grep -c "^$D/site/sitecustomize.py(5):     x = \"called from C %d\" % n\$" "$D/out")" 2
	done
}

@test "a thread that a C library starts and that calls into Python is traced, with or without ignore rules (3.6+)" {
	cthread_check late
}

@test "a C library's thread started before tracing starts and calling into Python later is traced (3.6+)" {
	cthread_check early
}

@test "3.11, every frame traced: no frame evaluation function until the program starts a thread; the thread is traced" {
	[ "$(pyver)" -ge 306 ] || skip "no frame evaluation function on 2.7"
	[ "$(pyver)" -lt 312 ] || skip "3.12+ does not follow calls"
	local D=$BATS_TEST_TMPDIR
	cat >"$D/hook.py" <<-'PY'
	import ctypes, threading
	api = ctypes.pythonapi
	api.PyInterpreterState_Get.restype = ctypes.c_void_p
	api._PyInterpreterState_GetEvalFrameFunc.restype = ctypes.c_void_p
	api._PyInterpreterState_GetEvalFrameFunc.argtypes = [ctypes.c_void_p]
	default = ctypes.cast(api._PyEval_EvalFrameDefault, ctypes.c_void_p).value
	def hooked():
	    return api._PyInterpreterState_GetEvalFrameFunc(api.PyInterpreterState_Get()) != default
	print("before: %s" % hooked())
	def work():
	    x = "in the thread"
	t = threading.Thread(target=work)
	t.start(); t.join()
	print("after: %s" % hooked())
	PY
	[ "$(pyver)" -ge 309 ] || skip "_PyInterpreterState_GetEvalFrameFunc is 3.9+"
	run env PYTRACE_OUTPUT="$D/out" LD_PRELOAD="$PT_LIB" "$PYTHON" "$D/hook.py"
	assert_success
	if [ "$(pyver)" -eq 311 ]; then
		assert_output "before: False
after: True"
	else
		assert_output "before: True
after: True"
	fi
	assert_file_contains "$D/out" "^$D/hook.py(11):     x = \"in the thread\"\$"
	# with an ignore rule it follows calls from the start
	rm -f "$D/out"
	run env PYTRACE_OUTPUT="$D/out" PYTRACE_IGNORE_DIRS="$(sys_dirs)" LD_PRELOAD="$PT_LIB" "$PYTHON" "$D/hook.py"
	assert_output "before: True
after: True"
	assert_file_contains "$D/out" "^$D/hook.py(11):     x = \"in the thread\"\$"
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
