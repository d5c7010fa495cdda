# SPDX-License-Identifier: MIT
# How a traced process starts others, forks, execs, daemonises and ends,
# and what reaches its trace each time.  flush_interval is 0 where a test
# must prove that the exit or exec path itself wrote the lines.

load ../helper

setup() {
	D=$BATS_TEST_TMPDIR
	export PYTRACE_IGNORE_DIRS=$(sys_dirs)
}

# marks N: a program that runs mark(i) for i < N (line 3 each time)
marks() {
	printf 'import os, sys, time\ndef mark(i):\n    return i\nfor i in range(%d):\n    mark(i)\n' "$1"
}

@test "os.execv: the lines before the exec reach the file" {
	{ marks 3; echo 'os.execv("/bin/echo", ["echo", "exec done"])'; } >"$D/p.py"
	run env LD_PRELOAD="$PT_LIB" PYTRACE_FLUSH_INTERVAL=0 PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/p.py"
	assert_success
	assert_output "exec done"
	run grep -c "p.py(3):     return i" "$D/t"
	assert_output 3
	assert_file_contains "$D/t" 'p.py(6): os.execv('
}

@test "os._exit: the lines before it reach the file; the status is kept" {
	{ marks 4; echo 'os._exit(7)'; } >"$D/p.py"
	run env LD_PRELOAD="$PT_LIB" PYTRACE_FLUSH_INTERVAL=0 PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/p.py"
	assert_equal "$status" 7
	run grep -c "p.py(3):     return i" "$D/t"
	assert_output 4
}

@test "sys.exit and an unhandled exception: every line reaches the file" {
	{ marks 2; echo 'sys.exit(5)'; } >"$D/a.py"
	run env LD_PRELOAD="$PT_LIB" PYTRACE_FLUSH_INTERVAL=0 PYTRACE_OUTPUT="$D/a" "$PYTHON" "$D/a.py"
	assert_equal "$status" 5
	assert_file_contains "$D/a" 'a.py(6): sys.exit(5)'
	{ marks 2; echo 'raise KeyError("boom")'; } >"$D/b.py"
	run env LD_PRELOAD="$PT_LIB" PYTRACE_FLUSH_INTERVAL=0 PYTRACE_OUTPUT="$D/b" "$PYTHON" "$D/b.py"
	assert_equal "$status" 1
	assert_output --partial "KeyError"
	assert_file_contains "$D/b" 'b.py(6): raise KeyError("boom")'
}

@test "SIGTERM, SIGKILL, a segfault: at most flush_interval of lines is lost" {
	for sig in TERM KILL SEGV; do
		{ marks 3; echo 'sys.stdout.write("ready\n"); sys.stdout.flush()'; echo 'time.sleep(30)'; } >"$D/$sig.py"
		# (an ASan build's handler would take the SIGSEGV sent as a fault
		# and write a report, cut short when the process dies)
		env LD_PRELOAD="$PT_LIB" PYTRACE_FLUSH_INTERVAL=100 PYTRACE_OUTPUT="$D/$sig.t" \
			ASAN_OPTIONS="${ASAN_OPTIONS:-}:handle_segv=0" \
			"$PYTHON" "$D/$sig.py" >"$D/$sig.out" &
		local pid=$!
		local n=0
		until grep -q ready "$D/$sig.out" || [ $n -ge 100 ]; do sleep 0.1; n=$((n + 1)); done
		sleep 0.5	# five flush intervals
		kill -$sig $pid
		wait $pid || true
		run grep -c "$sig.py(3):     return i" "$D/$sig.t"
		assert_output 3
		assert_file_contains "$D/$sig.t" "$sig.py(7): time.sleep(30)"
	done
}

@test "subprocess: a Python child writes its own file, a non-Python child nothing" {
	cat >"$D/parent.py" <<-PY
	import subprocess, sys
	def before():
	    return 1
	before()
	subprocess.check_call([sys.executable, "$D/child.py"])
	subprocess.check_call(["/bin/true"])
	PY
	{ marks 2; } >"$D/child.py"
	run env LD_PRELOAD="$PT_LIB" PYTRACE_FLUSH_INTERVAL=0 PYTRACE_OUTPUT="$D/%n.%p.trace" "$PYTHON" "$D/parent.py"
	assert_success
	run bash -c "ls '$D' | grep -c '\.trace$'"
	assert_output 2
	run bash -c "cat '$D'/child.py.*.trace | grep -c 'child.py(3):     return i'"
	assert_output 2
	assert_file_contains "$(ls "$D"/parent.py.*.trace)" 'parent.py(6): subprocess.check_call(\["/bin/true"\])'
}

@test "multiprocessing workers (fork, forkserver, spawn where there is one) are traced" {
	cat >"$D/mp.py" <<-'PY'
	import multiprocessing as mp, sys
	def work(x):
	    return x * 2
	if __name__ == "__main__":
	    methods = mp.get_all_start_methods() if hasattr(mp, "get_all_start_methods") else ["fork"]
	    for m in methods:
	        ctx = mp.get_context(m) if hasattr(mp, "get_context") else mp
	        pool = ctx.Pool(2)
	        assert pool.map(work, range(6)) == [0, 2, 4, 6, 8, 10]
	        pool.close(); pool.join()
	    print(" ".join(methods))
	PY
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/mp.%p.trace" "$PYTHON" "$D/mp.py"
	assert_success
	local methods=$output
	# every call of work() ran in some worker: 6 per start method
	run bash -c "cat '$D'/mp.*.trace | grep -c 'mp.py(3):     return x \* 2'"
	assert_output $((6 * $(wc -w <<<"$methods")))
}

@test "a daemon that double-forks and closes every descriptor keeps tracing to its file only" {
	cat >"$D/daemon.py" <<-PY
	import os, sys
	def step(i):
	    return i
	if os.fork():
	    os._exit(0)
	os.setsid()
	if os.fork():
	    os._exit(0)
	os.closerange(0, 1024)
	fd = os.open("/dev/null", os.O_RDWR)
	os.dup2(fd, 1); os.dup2(fd, 2)
	# files of the daemon's own, likely on the numbers pytrace had
	own = [open("$D/own.%d" % i, "w") for i in range(4)]
	for i in range(2000):
	    step(i)
	for f in own:
	    f.write("own data\n"); f.close()
	open("$D/done", "w").close()
	PY
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/d.trace" "$PYTHON" "$D/daemon.py"
	assert_success
	local n=0
	until [ -e "$D/done" ] || [ $n -ge 100 ]; do sleep 0.1; n=$((n + 1)); done
	sleep 0.5
	for i in 0 1 2 3; do
		assert_equal "$(cat "$D/own.$i")" "own data"
	done
	run grep -c "daemon.py(3):     return i" "$D/d.trace"
	assert_output 2000
}

@test "the trace file deleted, moved away (logrotate create) or truncated (copytruncate): tracing goes on" {
	run env LD_PRELOAD="$PT_LIB" PYTRACE_FLUSH_INTERVAL=100 PYTRACE_OUTPUT="$D/r" "$PYTHON" "$PT_FIX/rotate.py" "$D/r"
	assert_success
	assert_output ""
	run grep -c "rotate.py(7):     return i" "$D/r.1"
	assert_output 3
	# after the truncation: only the last 6, and no hole of NUL bytes
	run grep -c "rotate.py(7):     return i" "$D/r"
	assert_output 6
	run grep -c -P '\x00' "$D/r"
	assert_output 0
}

@test "32 threads: every line whole, as many as executed, no deadlock" {
	cat >"$D/t32.py" <<-'PY'
	import threading
	N = 3000
	def work(tag):
	    for i in range(N):
	        s = "%s-%d" % (tag, i)
	ts = [threading.Thread(target=work, args=("t%d" % k,)) for k in range(32)]
	for t in ts:
	    t.start()
	for t in ts:
	    t.join()
	PY
	run timeout 120 env LD_PRELOAD="$PT_LIB" PYTRACE_FLUSH_INTERVAL=20 PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/t32.py"
	assert_success
	run grep -c "^$D/t32.py(5):         s = \"%s-%d\" % (tag, i)\$" "$D/t"
	assert_output $((32 * 3000))
	run grep -c "^$D/t32.py(4):     for i in range(N):\$" "$D/t"
	assert_output $((32 * 3001))
	# every line is whole: a line of t32.py with that line's exact text
	run awk -v f="$D/t32.py" 'BEGIN { while ((getline l < f) > 0) src[++n] = l }
		{ p = f "("; if (index($0, p) != 1) { bad++; next }
		  rest = substr($0, length(p) + 1); k = index(rest, "): ")
		  num = substr(rest, 1, k - 1); text = substr(rest, k + 3)
		  if (num !~ /^[0-9]+$/ || src[num] != text) bad++ }
		END { print bad + 0 }' "$D/t"
	assert_output 0
}

@test "forked children writing to one shared file: every line whole" {
	cat >"$D/kids.py" <<-'PY'
	import os
	def work(k):
	    for i in range(2000):
	        s = "child-%d-%d" % (k, i)
	pids = []
	for k in range(8):
	    pid = os.fork()
	    if pid == 0:
	        work(k)
	        os._exit(0)
	    pids.append(pid)
	for pid in pids:
	    os.waitpid(pid, 0)
	PY
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/shared" "$PYTHON" "$D/kids.py"
	assert_success
	run grep -c "^$D/kids.py(4):         s = \"child-%d-%d\" % (k, i)\$" "$D/shared"
	assert_output $((8 * 2000))
	run grep -vc "^$D/kids.py([0-9]*): " "$D/shared"
	assert_output 0
}

@test "the disk fills up mid-trace: one message, the program runs on unchanged" {
	[ "$(id -u)" = 0 ] && command -v unshare >/dev/null || skip "needs root and unshare for a small tmpfs"
	mkdir "$D/small"
	printf 'import sys\ndef f(i):\n    return i\nfor i in range(20000):\n    f(i)\nprint("done")\nsys.exit(3)\n' >"$D/full.py"
	run --separate-stderr "$PYTHON" "$D/full.py"
	local plain=$output plain_status=$status
	run --separate-stderr unshare -m sh -c "mount -t tmpfs -o size=128k none '$D/small' &&
		LD_PRELOAD='$PT_LIB' PYTRACE_OUTPUT='$D/small/t' '$PYTHON' '$D/full.py'; rc=\$?;
		ls -l '$D/small' >&2; exit \$rc"
	assert_equal "$status" "$plain_status"
	assert_equal "$output" "$plain"
	run grep -c "^pytrace\[[0-9]*\]: cannot write trace output '$D/small/t': No space left on device; tracing stopped$" <<<"$stderr"
	assert_output 1
}

@test "the disk fills up mid-trace: tracing is taken down, as if never started" {
	[ "$(id -u)" = 0 ] && command -v unshare >/dev/null || skip "needs root and unshare for a small tmpfs"
	"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 9))' ||
		skip "before 3.9 Python shows no sign of the hooks pytrace sets"
	mkdir "$D/small"
	# what the interpreter shows of pytrace: its sys.monitoring tool
	# (3.12+), or whether frames run through the default evaluation
	# function (3.9-3.11)
	cat >"$D/probe.py" <<-'PY'
	import sys
	def f(i):
	    return i
	for i in range(20000):
	    f(i)
	if sys.version_info >= (3, 12):
	    print([sys.monitoring.get_tool(i) for i in range(6)])
	else:
	    import ctypes
	    api = ctypes.pythonapi
	    api.PyInterpreterState_Get.restype = ctypes.c_void_p
	    get = api._PyInterpreterState_GetEvalFrameFunc
	    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
	    default = ctypes.cast(api._PyEval_EvalFrameDefault, ctypes.c_void_p).value
	    print(get(api.PyInterpreterState_Get()) == default)
	PY
	run "$PYTHON" "$D/probe.py"
	local plain=$output
	# while tracing, the probe sees pytrace
	run traced env PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/probe.py"
	assert_success
	[ "$output" != "$plain" ] || fail "the probe does not see pytrace: $output"
	# once the output failed, it sees the untraced interpreter
	run --separate-stderr unshare -m sh -c "mount -t tmpfs -o size=128k none '$D/small' &&
		LD_PRELOAD='$PT_LIB' PYTRACE_OUTPUT='$D/small/t' '$PYTHON' '$D/probe.py'"
	assert_success
	assert_equal "$output" "$plain"
	run grep -c "No space left on device; tracing stopped\$" <<<"$stderr"
	assert_output 1
}

@test "the disk fills up while threads trace: each runs on, and the program's output is unchanged" {
	[ "$(id -u)" = 0 ] && command -v unshare >/dev/null || skip "needs root and unshare for a small tmpfs"
	mkdir "$D/small"
	# busy threads, a thread asleep in C while tracing stops, and threads
	# started after it
	cat >"$D/threads.py" <<-'PY'
	import sys, threading, time
	def f(i):
	    return i * 2
	def busy(n, out, k):
	    s = 0
	    for i in range(n):
	        s += f(i)
	    out[k] = s
	out = {}
	sleeper = threading.Thread(target=lambda: (time.sleep(1.0), busy(3000, out, "late")))
	sleeper.start()
	ts = [threading.Thread(target=busy, args=(20000, out, "t%d" % k)) for k in range(4)]
	for t in ts: t.start()
	busy(20000, out, "main")
	for t in ts: t.join()
	after = [threading.Thread(target=busy, args=(3000, out, "after%d" % k)) for k in range(2)]
	for t in after: t.start()
	for t in after: t.join()
	sleeper.join()
	print(sorted(out.items()))
	PY
	run --separate-stderr timeout 60 "$PYTHON" "$D/threads.py"
	assert_success
	local plain=$output
	run --separate-stderr timeout 60 unshare -m sh -c "mount -t tmpfs -o size=128k none '$D/small' &&
		LD_PRELOAD='$PT_LIB' PYTRACE_OUTPUT='$D/small/t' '$PYTHON' '$D/threads.py'"
	assert_success
	assert_equal "$output" "$plain"
	run grep -c "No space left on device; tracing stopped\$" <<<"$stderr"
	assert_output 1
}

@test "a program that keeps generating code does not grow without bound, and is traced throughout" {
	cat >"$D/gen.py" <<-'PY'
	import resource, sys
	for i in range(int(sys.argv[1])):
	    exec(compile("x = %d\n" % i, "<generated>", "exec"), {"__file__": "/gen.py"})
	print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
	PY
	local small big
	small=$(PYTRACE_OUTPUT=$D/s traced "$PYTHON" "$D/gen.py" 100000)
	big=$(PYTRACE_OUTPUT=$D/t traced "$PYTHON" "$D/gen.py" 200000)
	# the per-code cache forgets each code object freed (3.6+), or is
	# emptied at 65536 (2.7): twice the code, not twice the memory
	[ "$big" -lt $((small + 16)) ] || fail "peak RSS $big MiB for 200000, $small MiB for 100000"
	run grep -c '^<generated>(1): $' "$D/t"
	assert_output 200000
}
