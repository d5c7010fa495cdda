# SPDX-License-Identifier: MIT
# The C unit tests of the parts that need no Python (tests/unit/unit.c).

load helper

@test "C unit tests: paths, settings, ignore rules, output pattern, source lines" {
	run "$PT_ROOT/tests/unit/unit"
	assert_success
	assert_line --regexp '^unit: [0-9]+ passed, 0 failed$'
}
