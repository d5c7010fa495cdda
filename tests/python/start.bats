# SPDX-License-Identifier: MIT
# `start`: "main" (the default) traces from the first line of the program,
# as trace.py; "init" also traces interpreter start-up: site,
# sitecustomize, .pth files (3.8+: from the first import).

load ../helper

setup() {
	D=$BATS_TEST_TMPDIR
	mkdir "$D/site"
	printf 'def custom():\n    return "custom"\ncustom()\n' >"$D/site/sitecustomize.py"
	echo 'x = 1' >"$D/prog.py"
	V=$("$PYTHON" -c 'import sys; print("%d%02d" % sys.version_info[:2])')
}

@test "start = main: sitecustomize is start-up, not traced" {
	PYTHONPATH=$D/site PYTRACE_OUTPUT=$D/t traced "$PYTHON" "$D/prog.py"
	assert_equal "$(head -n 1 "$D/t")" "$D/prog.py(1): x = 1"
	refute grep -q sitecustomize "$D/t"
}

@test "start = init: site and sitecustomize are traced before the program (3.8+)" {
	run --separate-stderr env PYTHONPATH="$D/site" PYTRACE_START=init PYTRACE_OUTPUT="$D/t" \
		LD_PRELOAD="$PT_LIB" "$PYTHON" "$D/prog.py"
	assert_success
	if [ "$V" -ge 308 ]; then
		assert_equal "$stderr" ""
		assert_file_contains "$D/t" "^$D/site/sitecustomize.py(2):     return \"custom\"\$"
		assert_file_contains "$D/t" '/site.py([0-9]*): '
		# the program comes after its start-up
		run grep -n "" "$D/t"
		local custom prog
		custom=$(grep -n 'sitecustomize.py(2)' "$D/t" | cut -d: -f1)
		prog=$(grep -n "prog.py(1)" "$D/t" | cut -d: -f1)
		[ "$custom" -lt "$prog" ]
	else
		# a notice, first in the trace: the program's stderr is its own
		assert_equal "$stderr" ""
		assert_equal "$(notices "$D/t")" "# pytrace[PID]: start = \"init\" needs Python 3.8 or newer (audit hooks); tracing from the main program"
		assert_equal "$(head -n 1 "$D/t" | cut -c1-10)" "# pytrace["
		assert_equal "$(sed -n 2p "$D/t")" "$D/prog.py(1): x = 1"
	fi
}

@test "start = init: %n is still the script's name" {
	PYTRACE_START=init PYTRACE_OUTPUT="$D/%n.trace" traced "$PYTHON" "$D/prog.py"
	assert_file_exists "$D/prog.py.trace"
}
