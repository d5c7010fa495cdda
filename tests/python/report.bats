# SPDX-License-Identifier: MIT
# pytrace report on each interpreter: the page of a text trace and of a
# record file of the same run agree, line by line, with the counts the
# program implies.

load ../helper

setup() {
	D=$BATS_TEST_TMPDIR
	export PYTRACE_IGNORE_DIRS=$(sys_dirs)
	RF=$PT_FIX/report
}

@test "report: a text trace and a record file of one run give the same page, with the program's counts" {
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT=$D/t "$PYTHON" "$RF/prog.py" >/dev/null
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT_MODE=record PYTRACE_OUTPUT=$D/r "$PYTHON" "$RF/prog.py" >/dev/null
	run --separate-stderr "$PT_ROOT/pytrace" report "$D/t" -o "$D/t.html"
	assert_success
	assert_equal "$stderr" ""
	run --separate-stderr "$PT_ROOT/pytrace" report "$D/r" -o "$D/r.html"
	assert_success
	assert_equal "$stderr" ""
	diff <(grep -v '^<p>[0-9]* lines executed' "$D/t.html" | sed '/<h2>Processes/,/<h2>Runs/d') \
		<(grep -v '^<p>[0-9]* lines executed' "$D/r.html" | sed '/<h2>Processes/,/<h2>Runs/d')
	# the two files; the loop body 5 times, square's 6, line 34 never
	assert_equal "$(grep -c '^<tr data-path=' "$D/t.html")" 2
	assert_file_contains "$D/t.html" '^<p class=r id=f0-L28><a>28</a><b>5</b><i>[0-9]*</i><code>        total += square(i)</code></p>$'
	assert_file_contains "$D/t.html" '^<p class=r id=f0-L22><a>22</a><b>6</b>'
	assert_file_contains "$D/t.html" '^<p id=f0-L34><a>34</a><code>'
	assert_file_contains "$D/t.html" '^<p class=r id=f1-L6><a>6</a><b>1</b><i>[0-9]*</i><code>    raise ValueError(why)</code></p>$'
	# as many lines as the trace has
	assert_file_contains "$D/t.html" "^<p>$(grep -c '^/' "$D/t") lines executed, "
}
