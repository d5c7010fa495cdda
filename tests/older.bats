# SPDX-License-Identifier: MIT
# Interpreters without audit hooks (2.7, 3.6, 3.7) are not traced by this
# build: one message, and the program runs exactly as without pytrace.

load helper

@test "Python 2.7, 3.6 and 3.7: one message, program output and status unchanged" {
	local n=0
	for v in 2.7.18 3.6.15 3.7.16; do
		py=/root/.pyenv/versions/$v/bin/python
		[ -x "$py" ] || continue
		n=$((n + 1))
		run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$BATS_TEST_TMPDIR/t" \
			"$py" -c 'import sys; print("ran"); sys.exit(4)'
		assert_equal "$status" 4
		assert_output "ran"
		assert_regex "$stderr" "^pytrace\[[0-9]+\]: Python ${v%.*} has no audit hooks; this build traces 3.8 and newer only; not tracing$"
		assert_file_not_exists "$BATS_TEST_TMPDIR/t"
	done
	if [ "$n" = 0 ]; then
		[ "${CI:-}" != true ] || fail "no pyenv 2.7/3.6/3.7 interpreter on CI"
		skip "no pyenv 2.7, 3.6 or 3.7 interpreter installed"
	fi
}
