# SPDX-License-Identifier: MIT
# The host process behaves exactly as it does without pytrace: under every
# memory allocator and in development mode, whatever it does with its
# threads, and however it is told to end during its shutdown.

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
