# SPDX-License-Identifier: MIT
# What a traced program writes: every executed line of traced code as
# "path(line): source", nothing from ignored code, and the program itself
# unchanged.

load ../helper

setup() {
	TRACE=$BATS_TEST_TMPDIR/trace
	SYS=$(sys_dirs)
}

trace_app() {
	PYTRACE_OUTPUT=$TRACE PYTRACE_IGNORE_DIRS="$SYS:$APP/ignored" \
		PYTRACE_IGNORE_MODULES=ignmod traced "$PYTHON" "$@"
}

@test "the example program's trace is exactly the expected lines" {
	run trace_app "$APP/main.py"
	assert_success
	diff -u <(expected app.expected) "$TRACE"
}

@test "the program's output and exit status are those of an untraced run" {
	run "$PYTHON" "$APP/main.py"
	local plain=$output plain_status=$status
	run trace_app "$APP/main.py"
	assert_equal "$status" "$plain_status"
	assert_equal "$output" "$plain"
}

@test "a failing program keeps its traceback and exit status" {
	printf 'def boom():\n    raise SystemExit(3)\nboom()\n' >"$BATS_TEST_TMPDIR/fail.py"
	run trace_app "$BATS_TEST_TMPDIR/fail.py"
	assert_equal "$status" 3
	printf 'import sys\nprint("out"); sys.stderr.write("err\\n")\n1/0\n' >"$BATS_TEST_TMPDIR/exc.py"
	run "$PYTHON" "$BATS_TEST_TMPDIR/exc.py"
	local plain=$output plain_status=$status
	run trace_app "$BATS_TEST_TMPDIR/exc.py"
	assert_equal "$status" "$plain_status"
	assert_equal "$output" "$plain"
	assert_line --partial "ZeroDivisionError"
	assert_file_contains "$TRACE" "exc.py(3): 1/0"
}

@test "a script given by a relative path with .. is shown by its absolute normalised path" {
	cd "$APP/pkg"
	run trace_app ../main.py
	assert_success
	diff -u <(expected app.expected) "$TRACE"
}

@test "paths stay right after the program changes directory" {
	cd "$APP"
	cat >"$BATS_TEST_TMPDIR/cd.py" <<-'PY'
	import os
	os.chdir("/")
	def later():
	    return 1
	later()
	PY
	cp "$BATS_TEST_TMPDIR/cd.py" ./cd_tmp.py
	run trace_app ./cd_tmp.py
	rm -f ./cd_tmp.py
	assert_success
	assert_file_contains "$TRACE" "^$APP/cd_tmp.py(4):     return 1$"
	run grep -c "^$APP/cd_tmp.py(" "$TRACE"
	assert_output 5
}

@test "python -m traces the module; runpy and its import of the parent package are start-up" {
	cd "$APP"
	run trace_app -m pkg.sub
	assert_success
	assert_equal "$(cat "$TRACE")" "$APP/pkg/sub.py(1): FACTOR = 2
$APP/pkg/sub.py(4): def double(x):"
}

@test "python -c: the command has no file and is skipped, what it calls is traced" {
	cd "$APP"
	run trace_app -c 'import pkg.sub; pkg.sub.double(2)'
	assert_success
	assert_equal "$(cat "$TRACE")" "$APP/pkg/__init__.py(1): \"\"\"A package whose submodules are traced.\"\"\"
$APP/pkg/sub.py(1): FACTOR = 2
$APP/pkg/sub.py(4): def double(x):
$APP/pkg/sub.py(5):     return x * FACTOR"
}

@test "source text is exact: indentation, tabs, trailing spaces, CRLF and non-UTF-8 bytes" {
	local s=$BATS_TEST_TMPDIR/exact.py
	printf '# -*- coding: latin-1 -*-\r\nif len("ab") == 2:\r\n\tx = 1   \r\nif x:\r\n\ty = "\xe9"  \r\n' >"$s"
	run trace_app "$s"
	assert_success
	printf '%s(2): if len("ab") == 2:\n%s(3): \tx = 1   \n%s(4): if x:\n%s(5): \ty = "\xe9"  \n' "$s" "$s" "$s" "$s" >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$TRACE"
}

@test "interpreter start-up (site, encodings, the main loader) is not traced, even with nothing ignored" {
	echo 'x = 1' >"$BATS_TEST_TMPDIR/one.py"
	PYTRACE_OUTPUT=$TRACE traced "$PYTHON" "$BATS_TEST_TMPDIR/one.py"
	# The first line is the program's: shutdown code (threading, atexit)
	# may follow it, start-up code never comes before it.
	assert_equal "$(head -n 1 "$TRACE")" "$BATS_TEST_TMPDIR/one.py(1): x = 1"
	cd "$APP"
	PYTRACE_OUTPUT=$TRACE.m traced "$PYTHON" -m pkg.sub
	assert_equal "$(head -n 1 "$TRACE.m")" "$APP/pkg/sub.py(1): FACTOR = 2"
}

@test "the main script's code first run after it ended (atexit handlers, __del__ at exit) is traced" {
	local s=$BATS_TEST_TMPDIR/late.py
	printf 'import atexit\ndef f(i):\n    return i\ndef late():\n    f(2)\nclass K(object):\n    def __del__(self):\n        pass\natexit.register(late)\nk = K()\nf(1)\n' >"$s"
	run trace_app "$s"
	assert_success
	assert_file_contains "$TRACE" "late.py(5):     f(2)"
	run grep -c "late.py(3):     return i" "$TRACE"
	assert_output 2
	# 3.4+ clears the module's globals, and calls __del__, at exit
	if "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 4))'; then
		assert_file_contains "$TRACE" "late.py(8):         pass"
	fi
}
