# SPDX-License-Identifier: MIT
# The host process behaves exactly as it does without pytrace: under every
# memory allocator and in development mode, whatever it does with its
# threads, and however it is told to end during its shutdown; so do the
# programs it starts that are not Python.

load ../helper

setup() {
	D=$BATS_TEST_TMPDIR
	export PYTRACE_IGNORE_DIRS=$(sys_dirs)
	printf 'def f(i):\n    return i\nfor i in range(3):\n    f(i)\nprint("done")\n' >"$D/p.py"
}

# py_at_least MINOR: the interpreter is 3.MINOR or newer.
py_at_least() {
	"$PYTHON" -c "import sys; sys.exit(sys.version_info < (3, $1))"
}

@test "every PYTHONMALLOC value and development mode: same output and status, traced" {
	py_at_least 6 || skip "PYTHONMALLOC is 3.6+"
	local modes="PYTHONMALLOC=debug PYTHONMALLOC=malloc_debug PYTHONMALLOC=pymalloc_debug PYTHONMALLOC=malloc PYTHONMALLOC=pymalloc"
	py_at_least 7 && modes="$modes PYTHONDEVMODE=1 -Xdev"
	for m in $modes; do
		local envm=X=1 opt=
		case $m in -X*) opt=$m ;; *) envm=$m ;; esac
		rm -f "$D/t"
		run env "$envm" LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t" \
			"$PYTHON" $opt "$D/p.py"
		[ "$status" = 0 ] && [ "$output" = done ] ||
			fail "$m: status $status, output: $output"
		run grep -c "p.py(2):     return i" "$D/t"
		[ "$output" = 3 ] || fail "$m: $output traced lines of 3"
	done
}

@test "debug allocator: an untraced program (programs not matching) and -c are unchanged" {
	py_at_least 6 || skip "PYTHONMALLOC is 3.6+"
	run env PYTHONMALLOC=debug LD_PRELOAD="$PT_LIB" PYTRACE_PROGRAMS=nomatch \
		PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/p.py"
	assert_success
	assert_output done
	assert_file_not_exists "$D/t"
	run env PYTHONMALLOC=debug LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT=/dev/null \
		"$PYTHON" -c 'import sys; sys.stdout.write("hi\n")'
	assert_success
	assert_output hi
}

# A flush_interval far longer than the timeout: a process pytrace's
# flusher kept alive, or kept until its next round, would time out.
@test "fork in a thread: the child ends when its only thread does; lines of both reach their files" {
	cat >"$D/fk.py" <<'PY'
import os, threading
def f(i):
    return i
def work():
    f(1)
    pid = os.fork()
    if pid == 0:
        f(2)
        return
    os.waitpid(pid, 0)
    print("reaped")
t = threading.Thread(target=work)
t.start()
t.join()
PY
	local st=0
	timeout 20 env LD_PRELOAD="$PT_LIB" PYTRACE_FLUSH_INTERVAL=60000 \
		PYTRACE_OUTPUT="$D/t.%p" "$PYTHON" -W ignore "$D/fk.py" >"$D/out" 2>&1 || st=$?
	pkill -KILL -f "$D/fk.py" || true	# a child left alive
	assert_equal "$st" 0
	assert_equal "$(cat "$D/out")" reaped
	run grep -l "fk.py(8):         f(2)" "$D"/t.*
	assert_success
	run grep -c "fk.py(3):     return i" $(ls "$D"/t.*)
	assert_output --partial ":1"
}

@test "os._exit from a thread, daemon threads at shutdown: the process ends at once, with its status" {
	cat >"$D/ex.py" <<'PY'
import os, sys, threading, time
def f(i):
    return i
def spin():
    while True:
        f(0)
        time.sleep(0.001)
t = threading.Thread(target=spin)
t.daemon = True
t.start()
time.sleep(0.1)
if sys.argv[1] == "exit":
    def out():
        f(1)
        os._exit(3)
    threading.Thread(target=out).start()
    time.sleep(30)
PY
	run timeout 20 env LD_PRELOAD="$PT_LIB" PYTRACE_FLUSH_INTERVAL=60000 \
		PYTRACE_OUTPUT="$D/a" "$PYTHON" "$D/ex.py" exit
	assert_equal "$status" 3
	assert_file_contains "$D/a" "ex.py(14):         f(1)"
	run timeout 20 env LD_PRELOAD="$PT_LIB" PYTRACE_FLUSH_INTERVAL=60000 \
		PYTRACE_OUTPUT="$D/b" "$PYTHON" "$D/ex.py" end
	assert_success
	assert_file_contains "$D/b" "ex.py(6):         f(0)"
}

# Finalisation puts back the default action of the signals the program
# handled; a SIGTERM after that ends the process at once.  A flush
# interval longer than the program's life: only the write at the start of
# finalisation can save the lines.
@test "SIGTERM at shutdown, from a __del__: the lines run before it are in the file" {
	cat >"$D/bomb.py" <<'PY'
import os, signal
def f(i):
    return i
signal.signal(signal.SIGTERM, lambda *a: None)
class Bomb(object):
    def __del__(self, kill=os.kill, pid=os.getpid()):
        kill(pid, signal.SIGTERM)
bomb = Bomb()
for i in range(3):
    f(i)
PY
	run env LD_PRELOAD="$PT_LIB" PYTRACE_FLUSH_INTERVAL=60000 \
		PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/bomb.py"
	# 2.7 clears the signal module before the object: no signal there
	[ "$status" = 143 ] || [ "$status" = 0 ]
	run grep -c "bomb.py(3):     return i" "$D/t"
	assert_output 3
}

@test "SIGTERM during module teardown, after an atexit handler: its lines and the program's are in the file" {
	cat >"$D/slow.py" <<PY
import atexit, os, signal, sys, time
def f(i):
    return i
signal.signal(signal.SIGTERM, lambda *a: None)
class Slow(object):
    def __del__(self, write=os.write, sleep=time.sleep):
        write(1, b"teardown\n")
        sleep(30)
slow = Slow()
def later():
    f(10)
atexit.register(later)
for i in range(3):
    f(i)
PY
	env LD_PRELOAD="$PT_LIB" PYTRACE_FLUSH_INTERVAL=60000 PYTRACE_OUTPUT="$D/t" \
		"$PYTHON" "$D/slow.py" >"$D/out" &
	local pid=$! n=0 st=0
	until grep -q teardown "$D/out" || [ $n -ge 200 ]; do sleep 0.1; n=$((n + 1)); done
	kill -TERM $pid
	wait $pid || st=$?
	assert_equal "$st" 143
	run grep -c "slow.py(3):     return i" "$D/t"
	assert_output 4
	assert_file_contains "$D/t" "slow.py(11):     f(10)"
}

@test "children that are not Python (a shell, true, a C program ignoring SIGPIPE) behave as without pytrace" {
	# the C program built here needs this C library: not in a chroot
	local c="[\"$D/sigpipe\"]"
	if python_in_chroot; then c=; else cc -o "$D/sigpipe" "$PT_FIX/sigpipe.c"; fi
	cat >"$D/kids.py" <<EOF
import signal, subprocess
# SIGPIPE as 3.x leaves it in children (2.7 leaves it ignored, and a
# shell cannot trap a signal ignored when it starts)
dfl = lambda: signal.signal(signal.SIGPIPE, signal.SIG_DFL)
for argv in (["/bin/true"], ["sh", "-c", "trap '' PIPE; echo shell; exit 4"], $c):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         preexec_fn=dfl)
    out = p.communicate()[0]
    print("%s %d %r" % (argv[0], p.returncode, out))
EOF
	run "$PYTHON" "$D/kids.py"
	assert_success
	local plain=$output
	assert_line --partial "sh 4 "
	if [ -n "$c" ]; then
		assert_line --partial "sigpipe 3 "
		assert_line --partial "Broken pipe"
	fi
	PYTRACE_OUTPUT=$D/t run traced "$PYTHON" "$D/kids.py"
	assert_success
	assert_output "$plain"
	assert_file_contains "$D/t" "kids.py(4): "
}
