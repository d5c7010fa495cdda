# SPDX-License-Identifier: MIT
# Builds pytrace does not trace get one clear message, and the program runs
# untouched; a version newer than tested gets a one-time notice, which is
# not an error: to syslog (and the trace), never on stderr.  A fake
# interpreter (tests/fixtures/fakepy.c) answers Py_GetVersion() with the
# version under test.

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

@test "a version newer than tested gets a one-time notice, in syslog, not on stderr" {
	syslog_listen
	run --separate-stderr in_private_dev "LD_PRELOAD='$PT_LIB' FAKEPY_VERSION='3.14.0 (main, Oct  7 2025)' '$FAKE'"
	assert_success
	assert_output "fake interpreter ran"
	assert_equal "$stderr" ""
	wait "$SYSLOG_PID"
	run cat "$BATS_TEST_TMPDIR/syslog"
	assert_output --regexp "^<12>pytrace\[[0-9]+\]: Python 3.14 is newer than any pytrace was tested with \(3.13\); tracing with its public API only$"
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

@test "a static 2.7 (no audit hooks, nothing to interpose) is told why it is not traced" {
	cc -rdynamic -DFAKEPY_NO_AUDIT -o "$BATS_TEST_TMPDIR/python2" "$PT_FIX/fakepy.c"
	run --separate-stderr env LD_PRELOAD="$PT_LIB" FAKEPY_VERSION="2.7.18 (default)" \
		"$BATS_TEST_TMPDIR/python2"
	assert_success
	assert_output "fake interpreter ran"
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: Python 2.7 is linked statically into python2 and has no audit hooks: pytrace cannot hook its start; not tracing$"
}
