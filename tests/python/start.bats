# SPDX-License-Identifier: MIT
# `start`: "main" (the default) traces from the first line of the program,
# as trace.py; "init" also traces interpreter start-up: site,
# sitecustomize, .pth files (3.8+: from the first import).

load ../helper

setup() {
	D=$BATS_TEST_TMPDIR
	mkdir "$D/site"
	printf 'def custom():\n    return "custom"\ncustom()\n' >"$D/site/sitecustomize.py"
	echo 'x = 1' >"$D/prog.py"
	V=$("$PYTHON" -c 'import sys; print("%d%02d" % sys.version_info[:2])')
	LOOP=
}

teardown() {
	# a program left running by a failed test
	[ -z "$LOOP" ] || kill -KILL "$LOOP" 2>/dev/null || true
}

@test "start = main: sitecustomize is start-up, not traced" {
	PYTHONPATH=$D/site PYTRACE_OUTPUT=$D/t traced "$PYTHON" "$D/prog.py"
	assert_equal "$(head -n 1 "$D/t")" "$D/prog.py(1): x = 1"
	refute grep -q sitecustomize "$D/t"
}

@test "start = init: site and sitecustomize are traced before the program (3.8+)" {
	run --separate-stderr env PYTHONPATH="$D/site" PYTRACE_START=init PYTRACE_OUTPUT="$D/t" \
		LD_PRELOAD="$PT_LIB" "$PYTHON" "$D/prog.py"
	assert_success
	if [ "$V" -ge 308 ]; then
		assert_equal "$stderr" ""
		assert_file_contains "$D/t" "^$D/site/sitecustomize.py(2):     return \"custom\"\$"
		assert_file_contains "$D/t" '/site.py([0-9]*): '
		# the program comes after its start-up
		run grep -n "" "$D/t"
		local custom prog
		custom=$(grep -n 'sitecustomize.py(2)' "$D/t" | cut -d: -f1)
		prog=$(grep -n "prog.py(1)" "$D/t" | cut -d: -f1)
		[ "$custom" -lt "$prog" ]
	else
		# a notice, first in the trace: the program's stderr is its own
		assert_equal "$stderr" ""
		assert_equal "$(notices "$D/t")" "# pytrace[PID]: start = \"init\" needs Python 3.8 or newer (audit hooks); tracing from the main program"
		assert_equal "$(head -n 1 "$D/t" | cut -c1-10)" "# pytrace["
		assert_equal "$(sed -n 2p "$D/t")" "$D/prog.py(1): x = 1"
	fi
}

@test "start = init: %n is still the script's name" {
	PYTRACE_START=init PYTRACE_OUTPUT="$D/%n.trace" traced "$PYTHON" "$D/prog.py"
	assert_file_exists "$D/prog.py.trace"
}

@test "start = main: the first line of a script, of -m and of standard input is the trace's first; nothing of site before it" {
	# nothing ignored: start-up code would show if it were traced
	PYTRACE_OUTPUT=$D/t traced "$PYTHON" "$D/prog.py"
	assert_equal "$(head -n 1 "$D/t")" "$D/prog.py(1): x = 1"
	cd "$APP"
	PYTRACE_OUTPUT=$D/t.m traced "$PYTHON" -m pkg.sub
	assert_equal "$(head -n 1 "$D/t.m")" "$APP/pkg/sub.py(1): FACTOR = 2"
	# -c: the command has no file and is skipped; what it imports comes
	# first (the standard library ignored: 3.x imports in Python)
	PYTRACE_OUTPUT=$D/t.c PYTRACE_IGNORE_DIRS=$(sys_dirs) traced "$PYTHON" -c 'import pkg.sub'
	assert_equal "$(head -n 1 "$D/t.c")" "$APP/pkg/__init__.py(1): \"\"\"A package whose submodules are traced.\"\"\""
	PYTRACE_OUTPUT=$D/t.s traced "$PYTHON" - <"$D/prog.py"
	assert_equal "$(head -n 1 "$D/t.s" | cut -d'(' -f1)" "<stdin>"
	refute grep -q '/site\.py(' "$D/t" "$D/t.m" "$D/t.c" "$D/t.s"
}

@test "start = main: a main program that never ends is traced from its first line" {
	printf 'import os, sys\nos.close(os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY))\nn = 0\nwhile True:\n    n += 1\n' >"$D/loop.py"
	# env execs the interpreter: $! is its pid
	env LD_PRELOAD="$PT_LIB" PYTRACE_FLUSH_INTERVAL=100 PYTRACE_OUTPUT="$D/t" \
		"$PYTHON" "$D/loop.py" "$D/running" &
	LOOP=$!
	wait_file "$D/running"
	# the lines reach the file within flush_interval; then it is killed
	local i
	for i in $(seq 100); do
		[ -s "$D/t" ] && [ "$(count_lines "$D/t")" -ge 5 ] && break
		sleep 0.1
	done
	kill -KILL "$LOOP"
	wait "$LOOP" || true
	LOOP=
	# (`while True:` has a line event of its own before 3.8 only)
	assert_equal "$(head -n 3 "$D/t")" "$D/loop.py(1): import os, sys
$D/loop.py(2): os.close(os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY))
$D/loop.py(3): n = 0"
	run sed -n 4,5p "$D/t"
	assert_line "$D/loop.py(5):     n += 1"
}

@test "2.7, 3.6 or 3.7 whose initialisation does not reach pytrace's wrappers is traced from the first line" {
	case $V in 207 | 306 | 307) ;; *) skip "2.7, 3.6 or 3.7 (later versions start from an audit hook)" ;; esac
	! python_is_static ||
		skip "a shared libpython (a static one never reaches the wrappers anyway)"
	cc -shared -fPIC -o "$D/selfcall.so" "$PT_FIX/selfcall.c" -ldl
	env LD_PRELOAD="$D/selfcall.so $PT_LIB" PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/prog.py"
	assert_equal "$(head -n 1 "$D/t")" "$D/prog.py(1): x = 1"
	refute grep -q '/site\.py(' "$D/t"
}
