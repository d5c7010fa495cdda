# SPDX-License-Identifier: MIT
# Builds pytrace does not trace get one clear message, and the program runs
# untouched; a version newer than tested gets a one-time notice, which is
# not an error: to syslog and the trace, never on stderr, and only from a
# process that is traced.  A fake interpreter (tests/fixtures/fakepy.c)
# answers Py_GetVersion() with the version under test.

load helper

setup() {
	FAKE=$BATS_TEST_TMPDIR/python
	cc -rdynamic -o "$FAKE" "$PT_FIX/fakepy.c"
}

fake() {
	run --separate-stderr env LD_PRELOAD="$PT_LIB" FAKEPY_VERSION="$1" "$FAKE"
	assert_success
	assert_output "fake interpreter ran"
}

@test "a free-threaded build is refused with one message" {
	fake "3.13.0 experimental free-threading build (main, Oct  1 2024)"
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: Python 3.13 is a free-threaded build, which pytrace does not support; not tracing$"
}

# newer_python: a real interpreter with a shared libpython, and a library
# preloaded before pytrace that makes its Py_GetVersion() answer
# $FAKEPY_VERSION (tests/fixtures/pyversion.c).
newer_python() {
	NEWER=/root/.pyenv/versions/3.13.0/bin/python
	[ -x "$NEWER" ] || skip "needs $NEWER (a shared libpython)"
	VERSION_LIB=$BATS_TEST_TMPDIR/pyversion.so
	cc -shared -fPIC -o "$VERSION_LIB" "$PT_FIX/pyversion.c"
	printf 'x = 1\nprint("ran")\n' >"$BATS_TEST_TMPDIR/prog.py"
}

# syslog_end: send a last message to the log socket of syslog_listen, and
# wait for the listener: its file holds the first message pytrace sent, or
# this one when pytrace sent none (the listener, gone after the first,
# then refuses it).
syslog_end() {
	in_private_dev "'$(host_python)' -c 'import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b\"end\", \"/dev/log\")'" 2>/dev/null || true
	wait "$SYSLOG_PID"
}

@test "a version newer than tested, traced: a one-time notice, the trace's first line, not on stderr" {
	newer_python
	syslog_listen
	run --separate-stderr in_private_dev "LD_PRELOAD='$VERSION_LIB $PT_LIB' FAKEPY_VERSION='3.99.0 (main, Oct  7 2030)' PYTRACE_OUTPUT='$BATS_TEST_TMPDIR/t' '$NEWER' '$BATS_TEST_TMPDIR/prog.py'"
	assert_success
	assert_output "ran"
	assert_equal "$stderr" ""
	syslog_end
	assert_regex "$(cat "$BATS_TEST_TMPDIR/syslog")" "^<12>pytrace\[[0-9]+\]: Python 3.99 is newer than any pytrace was tested with \(3\.[0-9]+\); tracing with its public API only$"
	assert_regex "$(head -n 1 "$BATS_TEST_TMPDIR/t")" "^# pytrace\[[0-9]+\]: Python 3.99 is newer than any pytrace was tested with \(3\.[0-9]+\); tracing with its public API only$"
	assert_equal "$(grep -c 'is newer than' "$BATS_TEST_TMPDIR/t")" 1
	grep -qF 'prog.py(2): print' "$BATS_TEST_TMPDIR/t" || fail "the program was not traced: $(cat "$BATS_TEST_TMPDIR/t")"
}

@test "3.14 and 3.15 are tested versions: traced without a notice" {
	newer_python
	for v in "3.14.10 (main, Oct 26 2026)" "3.15.2 (main, Oct 26 2026)"; do
		rm -f "$BATS_TEST_TMPDIR/t"
		run --separate-stderr env LD_PRELOAD="$VERSION_LIB $PT_LIB" FAKEPY_VERSION="$v" \
			PYTRACE_OUTPUT="$BATS_TEST_TMPDIR/t" "$NEWER" "$BATS_TEST_TMPDIR/prog.py"
		assert_success
		assert_equal "$stderr" ""
		assert_equal "$(notices "$BATS_TEST_TMPDIR/t")" ""
		grep -qF 'prog.py(2): print' "$BATS_TEST_TMPDIR/t" || fail "$v: not traced"
	done
}

@test "a version newer than tested that \`programs\` leaves untraced says nothing, not even to syslog" {
	newer_python
	syslog_listen
	run --separate-stderr in_private_dev "LD_PRELOAD='$VERSION_LIB $PT_LIB' FAKEPY_VERSION='3.99.0 (main, Oct  7 2030)' PYTRACE_PROGRAMS=other PYTRACE_OUTPUT='$BATS_TEST_TMPDIR/t' '$NEWER' '$BATS_TEST_TMPDIR/prog.py'"
	assert_success
	assert_output "ran"
	assert_equal "$stderr" ""
	syslog_end
	assert_equal "$(cat "$BATS_TEST_TMPDIR/syslog")" "end"
	assert_file_not_exists "$BATS_TEST_TMPDIR/t"
}

@test "a version newer than tested that never starts tracing says nothing, not even to syslog" {
	syslog_listen
	run --separate-stderr in_private_dev "LD_PRELOAD='$PT_LIB' FAKEPY_VERSION='3.99.0 (main, Oct  7 2030)' '$FAKE'"
	assert_success
	assert_output "fake interpreter ran"
	assert_equal "$stderr" ""
	syslog_end
	assert_equal "$(cat "$BATS_TEST_TMPDIR/syslog")" "end"
}

@test "a Python older than 2.7 is refused with one message" {
	fake "2.6.9 (unknown, 2013)"
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: Python 2.6 is older than 2.7; not tracing$"
}

@test "a tested version gets no message at all" {
	fake "3.11.2 (main, Apr 28 2025)"
	assert_equal "$stderr" ""
}

@test "PYTRACE_ENABLE=0 silences even the refusal" {
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_ENABLE=0 \
		FAKEPY_VERSION="3.13.0 experimental free-threading build" "$FAKE"
	assert_success
	assert_equal "$stderr" ""
}

# static_fake VERSION [-DFAKEPY_PENDING]: run a static VERSION without audit
# hooks, with Py_AddPendingCall or without; the output is in $output and
# $stderr, and it must succeed.
static_fake() {
	cc -rdynamic -DFAKEPY_NO_AUDIT ${2:+"$2"} -o "$BATS_TEST_TMPDIR/python${1%%.*}" "$PT_FIX/fakepy.c"
	run --separate-stderr env LD_PRELOAD="$PT_LIB" FAKEPY_VERSION="$1 (default)" \
		"$BATS_TEST_TMPDIR/python${1%%.*}"
	assert_success
}

# cannot_queue VERSION: without Py_AddPendingCall, one message, and the
# program runs.
cannot_queue() {
	static_fake "$1"
	assert_output "fake interpreter ran"
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: Python ${1%.*}: cannot queue the call that starts tracing; not tracing\$"
}

@test "a static 3.6 or 3.7 (no audit hooks, nothing to interpose) queues the call that starts tracing once it ignores SIGPIPE, once" {
	local v
	for v in 3.6.15 3.7.16; do
		static_fake "$v" -DFAKEPY_PENDING
		assert_output "fake interpreter ran
pending calls: 0
pending calls after SIGPIPE was ignored: 1 (it is)"
		assert_equal "$stderr" ""
		cannot_queue "$v"
	done
}

@test "a static 2.7 is not refused: a pending call, queued before it initialises, starts tracing" {
	static_fake 2.7.18 -DFAKEPY_PENDING
	assert_output "fake interpreter ran
pending calls: 1
pending calls after SIGPIPE was ignored: 1 (it is)"
	assert_equal "$stderr" ""
	cannot_queue 2.7.18
}
