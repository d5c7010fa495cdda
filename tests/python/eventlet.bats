# SPDX-License-Identifier: MIT
# eventlet's green threads on each interpreter that has eventlet (Debian's
# 3.11 on the host, Debian 11's 3.9 in its chroot; skipped elsewhere):
# every green thread's lines traced with the program's output and status
# unchanged, and a scope following its own green thread.  The fixture
# programs are in tests/fixtures/green.

load ../helper

setup() {
	if ! "$PYTHON" -c 'import eventlet' 2>/dev/null; then
		skip "eventlet is not installed for this interpreter"
	fi
	G=$PT_FIX/green
	T=$BATS_TEST_TMPDIR/t
	SYS=$(sys_dirs)
	export PYTHONDONTWRITEBYTECODE=1
}

@test "eventlet: lines of every green thread are traced; output and status unchanged" {
	run "$PYTHON" "$G/workers.py"
	local plain=$output plain_status=$status
	assert_equal "$plain_status" 3
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$T" PYTRACE_IGNORE_DIRS="$SYS" \
		"$PYTHON" "$G/workers.py"
	assert_equal "$status" "$plain_status"
	assert_equal "$output" "$plain"
	# 4 pool green threads and one green "thread", 3 steps each
	run grep -c "^$G/workers.py(13):         out.append((n, i))\$" "$T"
	assert_output 15
	run grep -c "^$G/workers.py(14):     return n\$" "$T"
	assert_output 5
}

@test "eventlet: a scope follows its green thread: not another one that runs while it sleeps, and its lines after the sleep" {
	run "$PYTHON" "$G/scoped.py"
	local plain=$output
	# outside() ran while inside() slept (a debug build adds warnings)
	assert_line "inside saw ['a1', 'b'], log ['a1', 'b', 'a2']"
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$T" PYTRACE_SCOPE=__main__:inside \
		PYTRACE_IGNORE_DIRS="$SYS" "$PYTHON" "$G/scoped.py"
	assert_success
	assert_equal "$output" "$plain"
	assert_equal "$(sed -E 's/\(thread [0-9]+\)$/(thread TID)/' "$T")" " === scope: __main__:inside (thread TID)
$G/scoped.py(10):     log.append(\"a1\")
$G/scoped.py(11):     eventlet.sleep(0.01)
$G/scoped.py(12):     seen = list(log)
$G/scoped.py(13):     log.append(\"a2\")
$G/scoped.py(14):     return seen"
}
