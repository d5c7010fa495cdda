# SPDX-License-Identifier: MIT
# `programs`: a service and the Python children it starts inherit
# LD_PRELOAD; only the programs named (by glob, on the name or the full
# path) are traced, the others run untraced without a word.

load ../helper

setup() {
	D=$BATS_TEST_TMPDIR
	mkdir -p "$D/bin"
	cat >"$D/bin/service" <<-PY
	#!$PYTHON
	import subprocess, sys
	def main():
	    subprocess.check_call([sys.executable, "$D/bin/privsep-helper"])
	    subprocess.check_call([sys.executable, "-m", "json.tool", "$D/x.json"])
	main()
	PY
	cat >"$D/bin/privsep-helper" <<-'PY'
	def helper():
	    return "helped"
	helper()
	PY
	chmod +x "$D/bin/service"
	echo '{"a": 1}' >"$D/x.json"
	export PYTRACE_OUTPUT="$D/%n.%p.trace"
	# (2.7's subprocess runs Python in the forked child before the exec:
	# with the standard library traced, that child would have its own file)
	export PYTRACE_IGNORE_DIRS=$(sys_dirs)
}

# traced_programs: the %n of the trace files written, sorted, one line
traced_programs() {
	ls "$D" | sed -n 's/^\(.*\)\.[0-9]*\.trace$/\1/p' | sort | tr '\n' ' '
}

@test "programs unset: the service and every Python child are traced" {
	run env LD_PRELOAD="$PT_LIB" "$D/bin/service"
	assert_success
	assert_equal "$(traced_programs)" "privsep-helper $(python_name) service "
}

@test "programs = the service: its children run untraced and silent" {
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_PROGRAMS=service "$D/bin/service"
	assert_success
	assert_output '{
    "a": 1
}'
	assert_equal "$stderr" ""
	assert_equal "$(traced_programs)" "service "
}

@test "programs by full-path glob and by module name" {
	run env LD_PRELOAD="$PT_LIB" PYTRACE_PROGRAMS="$D/bin/priv*,json.tool" "$D/bin/service"
	assert_success
	assert_equal "$(traced_programs)" "privsep-helper $(python_name) "
}
