# SPDX-License-Identifier: MIT
# A real program that embeds Python: gdb (Debian's, linked with
# libpython3.11) runs Python commands after Py_InitializeFromConfig.

load helper

setup() {
	command -v gdb >/dev/null || {
		[ "${CI:-}" != true ] || fail "gdb is not installed"
		skip "gdb is not installed"
	}
	ldd "$(command -v gdb)" | grep -q libpython || skip "this gdb has no Python"
}

@test "gdb's Python commands are traced; gdb's output and status are unchanged" {
	local D=$BATS_TEST_TMPDIR
	run gdb -nx -batch -ex 'python import json; print(json.dumps([1]))'
	local plain=$output plain_status=$status
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/%n.trace" \
		gdb -nx -batch -ex 'python import json; print(json.dumps([1]))'
	assert_equal "$status" "$plain_status"
	assert_equal "$output" "$plain"
	assert_output "[1]"
	# json.dumps ran: its lines, with their source, are in the trace
	local json
	json=$(gdb -nx -batch -ex 'python import json; print(json.__file__)')
	assert_file_contains "$D/gdb.trace" "^$json([0-9]*):     if (not skipkeys and ensure_ascii and\$"
	# frozen modules are shown by their source files
	refute grep -q '^<frozen' "$D/gdb.trace"
}
