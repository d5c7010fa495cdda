# SPDX-License-Identifier: MIT
# The C unit tests of the parts that need no Python (tests/unit/unit.c);
# and pytrace replay and summary on scope entries, in record files the
# unit binary writes through record.c (`unit records`) and in text traces.

load helper

setup() {
	D=$BATS_TEST_TMPDIR
	UNIT=$PT_ROOT/tests/unit/unit
}

@test "C unit tests: paths, settings, ignore rules, output pattern, source lines" {
	run "$UNIT"
	assert_success
	assert_line --regexp '^unit: [0-9]+ passed, 0 failed$'
}

# util_py: $D/app/util.py, a module with a class and a function.
util_py() {
	mkdir -p "$D/app"
	printf '%s\n' 'import os' \
		'class Connector:' \
		'    def connect_volume(self, props):' \
		'        path = props["path"]' \
		'        return check(path)' \
		'def check(path):' \
		'    return os.path.exists(path)' >"$D/app/util.py"
}

@test "replay: SCOPE records are the entry lines, at their place, with their thread" {
	util_py
	local u=$D/app/util.py
	printf '%s\n' 'thread 4242' 'scope app.util Connector.connect_volume' \
		"line $u 4 5 7" 'thread 4243' 'scope app.util check' "line $u 7" \
		'thread 4242' "line $u 5" 'scope app.util Connector.connect_volume' \
		"line $u 4" | "$UNIT" records "$D/r"
	run --separate-stderr "$PT_ROOT/pytrace" replay "$D/r"
	assert_success
	assert_equal "$stderr" ""
	assert_output " === scope: app.util:Connector.connect_volume (thread 4242)
$u(4):         path = props[\"path\"]
$u(5):         return check(path)
$u(7):     return os.path.exists(path)
 === scope: app.util:check (thread 4243)
$u(7):     return os.path.exists(path)
$u(5):         return check(path)
 === scope: app.util:Connector.connect_volume (thread 4242)
$u(4):         path = props[\"path\"]"
	# with the thread in the format: TID records and SCOPE records agree
	printf '%s\n' 'thread 4242' 'scope app.util check' "line $u 7" 'thread 4243' \
		"line $u 7" | "$UNIT" records "$D/t" '{tid} {path}({line})'
	run "$PT_ROOT/pytrace" replay "$D/t"
	assert_success
	assert_output " === scope: app.util:check (thread 4242)
4242 $u(7)
4243 $u(7)"
}
