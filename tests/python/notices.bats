# SPDX-License-Identifier: MIT
# What pytrace tells about the program while it goes on tracing (its own
# trace function, a deep recursion, ...) is a notice: a line
# "# pytrace[PID]: message" in the trace and a syslog message, never on the
# program's stderr, which stays the program's own, byte for byte, also
# with everything ignored and under a debugger.  `pytrace summary` does
# not count notices.

load ../helper

setup() {
	D=$BATS_TEST_TMPDIR
	V=$("$PYTHON" -c 'import sys; print("%d%02d" % sys.version_info[:2])')
	# everything the programs run is ignored
	ALL="$D:$(sys_dirs)"
	OWN="# pytrace[PID]: the program set its own trace function (sys.settrace: a debugger, coverage?); pytrace no longer traces that thread"
	printf 'def f(x):\n    return x + 1\nprint(f(1))\n' >"$D/p.py"
}

# untraced_and_traced NAME CMD...: run CMD untraced, then traced with
# everything ignored and the trace in $D/NAME.trace; stdin from $D/stdin
# when it exists.  Output and stderr of each in $D/NAME.{out,err}.{0,1}.
untraced_and_traced() {
	local name=$1 in=/dev/null
	shift
	[ -e "$D/stdin" ] && in=$D/stdin
	"$@" <"$in" >"$D/$name.out.0" 2>"$D/$name.err.0"
	LD_PRELOAD=$PT_LIB PYTRACE_IGNORE_DIRS=$ALL PYTRACE_OUTPUT=$D/$name.trace \
		"$@" <"$in" >"$D/$name.out.1" 2>"$D/$name.err.1"
}

# The notice of a program's own trace function where there is one: 3.8-3.11
# (3.12+ traces on through sys.monitoring; before 3.8 there is no audit
# event to see it by).
own_notice() {
	if [ "$V" -ge 308 ] && [ "$V" -le 311 ]; then
		echo "$OWN"
	fi
}

# summary_is_empty FILE: `pytrace summary FILE` counts no line at all.
summary_is_empty() {
	run "$PT_ROOT/pytrace" summary "$1"
	assert_success
	assert_output "# runs of consecutive lines per file, in order
# lines per file
# lines per function"
}

@test "a program's own sys.settrace, everything ignored: its stdout and stderr as untraced, the notice in the trace" {
	cat >"$D/own.py" <<-'PY'
	import sys
	def tracer(frame, event, arg):
	    return None
	sys.stderr.write("before\n")
	sys.settrace(tracer)
	sys.stderr.write("after\n")
	print("done")
	PY
	untraced_and_traced own "$PYTHON" "$D/own.py"
	cmp "$D/own.err.0" "$D/own.err.1"
	cmp "$D/own.out.0" "$D/own.out.1"
	assert_equal "$(cat "$D/own.err.1")" "before
after"
	# the trace holds the notice and nothing else
	assert_equal "$(notices "$D/own.trace")" "$(own_notice)"
	assert_equal "$(grep -vc '^# pytrace\[' "$D/own.trace")" 0
	summary_is_empty "$D/own.trace"
}

@test "python -m pdb fed 'c', everything ignored: its output and stderr as untraced, the notice in the trace" {
	printf 'c\n' >"$D/stdin"
	untraced_and_traced pdb "$PYTHON" -m pdb "$D/p.py"
	cmp "$D/pdb.err.0" "$D/pdb.err.1"
	cmp "$D/pdb.out.0" "$D/pdb.out.1"
	grep -q "The program finished" "$D/pdb.out.1"
	assert_equal "$(notices "$D/pdb.trace")" "$(own_notice)"
	assert_equal "$(grep -vc '^# pytrace\[' "$D/pdb.trace")" 0
	summary_is_empty "$D/pdb.trace"
}

@test "pdb.run with a scripted stdin, everything ignored: stderr as untraced, the notice in the trace" {
	cat >"$D/dbg.py" <<-'PY'
	import pdb, sys
	sys.stderr.write("own stderr\n")
	pdb.run("x = 1 + 1")
	print("after pdb")
	PY
	printf 'n\nc\n' >"$D/stdin"
	untraced_and_traced dbg "$PYTHON" "$D/dbg.py"
	cmp "$D/dbg.err.0" "$D/dbg.err.1"
	cmp "$D/dbg.out.0" "$D/dbg.out.1"
	grep -q "after pdb" "$D/dbg.out.1"
	assert_equal "$(notices "$D/dbg.trace")" "$(own_notice)"
	summary_is_empty "$D/dbg.trace"
}

@test "a python -m trace child of a traced program: its stderr is its own, the notice in its trace" {
	cat >"$D/parent.py" <<-'PY'
	import subprocess, sys
	p = subprocess.Popen([sys.executable, "-m", "trace", "--trace", sys.argv[1]],
	                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
	out, err = p.communicate()
	print("child stdout lines: %d" % len(out.splitlines()))
	print("child stderr: %r" % err)
	PY
	"$PYTHON" "$D/parent.py" "$D/p.py" >"$D/out.0"
	LD_PRELOAD=$PT_LIB PYTRACE_IGNORE_DIRS=$ALL PYTRACE_OUTPUT="$D/t.%p" \
		"$PYTHON" "$D/parent.py" "$D/p.py" >"$D/out.1"
	cmp "$D/out.0" "$D/out.1"
	grep -q "^child stderr: b\?''\$" "$D/out.1"
	cat "$D"/t.* >"$D/all"
	assert_equal "$(notices "$D/all")" "$(own_notice)"
	summary_is_empty "$D/all"
}

@test "the trace on stderr (no output set): a notice goes to syslog only, stderr stays the program's" {
	# with everything ignored there is no trace line to put it among
	cat >"$D/own.py" <<-'PY'
	import sys
	sys.settrace(lambda *a: None)
	sys.stderr.write("own\n")
	PY
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_IGNORE_DIRS="$ALL" \
		"$PYTHON" "$D/own.py"
	assert_success
	assert_equal "$stderr" "own"
}

@test "notices reach syslog too" {
	[ "$V" -ge 308 ] && [ "$V" -le 311 ] || skip "the own trace function notice is 3.8-3.11"
	syslog_listen
	printf 'import sys\nsys.settrace(lambda *a: None)\n' >"$D/own.py"
	run --separate-stderr in_private_dev "LD_PRELOAD='$PT_LIB' PYTRACE_IGNORE_DIRS='$ALL' PYTRACE_OUTPUT='$D/t' '$PYTHON' '$D/own.py'"
	assert_success
	assert_equal "$stderr" ""
	wait "$SYSLOG_PID"
	# the same line, with the pid of the trace's
	local pid want=${OWN#\# }
	pid=$(sed -n 's/^# pytrace\[\([0-9]*\)\].*/\1/p' "$D/t")
	run cat "$D/syslog"
	assert_output "<12>${want/PID/$pid}"
}
