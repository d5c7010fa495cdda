# SPDX-License-Identifier: MIT
# Where the trace goes (PYTRACE_OUTPUT and its %p %n %% pattern, stderr by
# default), the master switch PYTRACE_ENABLE, and what happens when the
# output cannot be used: one message, and the program runs on untraced.

load ../helper

setup() {
	D=$BATS_TEST_TMPDIR
	export PYTRACE_IGNORE_DIRS=$(sys_dirs)
	printf 'def f(x):\n    return x + 1\nprint(f(1))\n' >"$D/prog.py"
}

@test "%p, %n and %% are expanded in the output path" {
	PYTRACE_OUTPUT="$D/%n.%p.100%%.trace" traced "$PYTHON" "$D/prog.py"
	run ls "$D"
	assert_line --regexp '^prog\.py\.[0-9]+\.100%\.trace$'
	local f
	f=$(ls "$D"/prog.py.*.trace)
	assert_equal "$(cat "$f")" "$D/prog.py(1): def f(x):
$D/prog.py(3): print(f(1))
$D/prog.py(2):     return x + 1"
}

@test "%p is the pid of the traced process" {
	printf 'import os\nprint(os.getpid())\n' >"$D/pid.py"
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t.%p" "$PYTHON" "$D/pid.py"
	assert_success
	assert_file_exists "$D/t.$output"
}

@test "%n is the program name for -m and -c: the interpreter's" {
	cd "$APP"
	PYTRACE_OUTPUT="$D/m.%n" traced "$PYTHON" -m pkg.sub
	PYTRACE_OUTPUT="$D/c.%n" traced "$PYTHON" -c 'import pkg.sub'
	local exe
	exe=$(python_name)
	assert_file_exists "$D/m.$exe"
	assert_file_exists "$D/c.$exe"
}

@test "without PYTRACE_OUTPUT the trace goes to stderr; stdout is the program's own" {
	run --separate-stderr traced "$PYTHON" "$D/prog.py"
	assert_success
	assert_output "2"
	assert_equal "$stderr" "$D/prog.py(1): def f(x):
$D/prog.py(3): print(f(1))
$D/prog.py(2):     return x + 1"
}

@test "an existing trace file is appended to, never truncated" {
	echo "earlier line" >"$D/t"
	PYTRACE_OUTPUT=$D/t traced "$PYTHON" "$D/prog.py"
	assert_equal "$(head -n 1 "$D/t")" "earlier line"
	assert_equal "$(count_lines "$D/t")" 4
}

@test "PYTRACE_ENABLE=0 keeps the process untraced and creates no file" {
	for v in 0 no false off OFF; do
		run env LD_PRELOAD="$PT_LIB" PYTRACE_ENABLE=$v PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/prog.py"
		assert_success
		assert_output "2"
		assert_file_not_exists "$D/t"
	done
}

@test "a bad PYTRACE_ENABLE is one message and the program runs untraced" {
	run env LD_PRELOAD="$PT_LIB" PYTRACE_ENABLE=maybe PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/prog.py"
	assert_success
	assert_regex "${lines[0]}" "^pytrace\[[0-9]+\]: PYTRACE_ENABLE: 'maybe' is not a boolean \(use true or false\); not tracing$"
	assert_equal "${lines[1]}" "2"
	assert_equal "${#lines[@]}" 2
	assert_file_not_exists "$D/t"
}

@test "an output in a missing directory is one message; the program's output and status are unchanged" {
	printf 'import sys\nprint("out")\nsys.exit(7)\n' >"$D/ex.py"
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/no/such/dir/t" "$PYTHON" "$D/ex.py"
	assert_equal "$status" 7
	assert_output "out"
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: cannot open trace output '$D/no/such/dir/t': No such file or directory; not tracing$"
}

@test "an unwritable output is one message; the program runs untraced" {
	if [ "$(id -u)" = 0 ]; then
		# root writes anywhere: use a path that is a directory instead
		mkdir "$D/adir"
		out=$D/adir
		why="Is a directory"
	else
		mkdir "$D/ro" && chmod 0500 "$D/ro"
		out=$D/ro/t
		why="Permission denied"
	fi
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$out" "$PYTHON" "$D/prog.py"
	assert_success
	assert_output "2"
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: cannot open trace output '$out': $why; not tracing$"
}

@test "an unknown %-sequence in the output path is one message naming it" {
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t.%x" "$PYTHON" "$D/prog.py"
	assert_success
	assert_output "2"
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: PYTRACE_OUTPUT: unknown '%x' in '$D/t.%x' \(use %p, %n, %h, %t, %%\); not tracing$"
	run ls "$D"
	refute_line --partial "t."
}

@test "a forked child writes its own file with %p; no line is lost or written twice" {
	cat >"$D/fork.py" <<-'PY'
	import os, sys
	def mark(who):
	    return who
	for i in range(3):
	    mark("before")
	pid = os.fork()
	if pid == 0:
	    mark("child")
	    sys.exit(0)
	os.waitpid(pid, 0)
	mark("parent")
	PY
	PYTRACE_OUTPUT="$D/f.%p" traced "$PYTHON" "$D/fork.py"
	run bash -c "ls '$D'/f.* | wc -l"
	assert_output 2
	# before the fork: in the parent's file only, once
	run bash -c "cat '$D'/f.* | grep -c 'fork.py(5):'"
	assert_output 3
	run bash -c "cat '$D'/f.* | grep -c 'fork.py(3):'"
	assert_output 5
	run bash -c "grep -l 'fork.py(8):' '$D'/f.* | wc -l"
	assert_output 1
}

@test "a relative output path is taken from the starting directory, also after chdir and fork" {
	cat >"$D/cd.py" <<-'PY'
	import os
	os.chdir("/")
	pid = os.fork()
	if pid == 0:
	    x = "child"
	else:
	    os.waitpid(pid, 0)
	    x = "parent"
	PY
	cd "$D"
	PYTRACE_OUTPUT="rel.%p" traced "$PYTHON" "$D/cd.py"
	run bash -c "ls '$D' | grep -c '^rel\.'"
	assert_output 2
	run bash -c "cat '$D'/rel.* | grep -c 'cd.py(5):     x = \"child\"'"
	assert_output 1
}

@test "%h is the host name and %t the process start time" {
	local before after
	before=$(date +%Y%m%d-%H%M%S)
	PYTRACE_OUTPUT="$D/%h.%t.trace" traced "$PYTHON" "$D/prog.py"
	after=$(date +%Y%m%d-%H%M%S)
	local f
	f=$(cd "$D" && ls "$(hostname)".*.trace)
	local t=${f#"$(hostname)".}
	t=${t%.trace}
	[[ "$t" =~ ^[0-9]{8}-[0-9]{6}$ ]]
	[[ ! "$t" < "$before" && ! "$t" > "$after" ]]
}

@test "a missing output directory is created (0750) when its parent exists" {
	PYTRACE_OUTPUT="$D/newdir/t" traced "$PYTHON" "$D/prog.py"
	assert_file_exists "$D/newdir/t"
	run stat -c %a "$D/newdir"
	assert_output 750
	run stat -c %a "$D/newdir/t"
	assert_output 600
}
