# SPDX-License-Identifier: MIT
# `format` tokens and `call_lines`: the same lines on every back end.

load ../helper

setup() {
	D=$BATS_TEST_TMPDIR
	cat >"$D/fmt.py" <<-'PY'
	def inner(x):
	    return x + 1
	def outer():
	    y = inner(1)
	    return y
	def gen():
	    yield 1
	    yield 2
	outer()
	list(gen())
	PY
	export PYTRACE_IGNORE_DIRS=$(sys_dirs)
}

@test "call_lines and {indent}{module}.{function}: calls, depth and generators" {
	PYTRACE_OUTPUT=$D/t PYTRACE_CALL_LINES=yes \
		PYTRACE_FORMAT='{indent}{module}.{function}:{line} {source}' \
		traced "$PYTHON" "$D/fmt.py"
	assert_equal "$(cat "$D/t")" " --- modulename: __main__, funcname: <module>
__main__.<module>:1 def inner(x):
__main__.<module>:3 def outer():
__main__.<module>:6 def gen():
__main__.<module>:9 outer()
 --- modulename: __main__, funcname: outer
  __main__.outer:4     y = inner(1)
 --- modulename: __main__, funcname: inner
    __main__.inner:2     return x + 1
  __main__.outer:5     return y
__main__.<module>:10 list(gen())
 --- modulename: __main__, funcname: gen
  __main__.gen:7     yield 1
 --- modulename: __main__, funcname: gen
  __main__.gen:8     yield 2
 --- modulename: __main__, funcname: gen"
}

@test "{pid} {tid} {elapsed} {time} {path} and literal braces" {
	printf 'import os\nprint(os.getpid())\n' >"$D/pid.py"
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t" \
		PYTRACE_FORMAT='{{{pid}}} {tid} {elapsed} {time} {path}:{line}' "$PYTHON" "$D/pid.py"
	assert_success
	local pid=$output
	run cat "$D/t"
	assert_line --index 0 --regexp "^\{$pid\} $pid [0-9]+\.[0-9]{2} [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} $D/pid.py:1$"
	assert_line --index 1 --regexp "^\{$pid\} $pid [0-9.]+ [0-9T:.-]+ $D/pid.py:2$"
}

@test "call_lines with the default format is trace.py's -t output with full paths" {
	PYTRACE_OUTPUT=$D/t PYTRACE_CALL_LINES=1 traced "$PYTHON" "$D/fmt.py"
	run head -n 3 "$D/t"
	assert_output " --- modulename: __main__, funcname: <module>
$D/fmt.py(1): def inner(x):
$D/fmt.py(3): def outer():"
}
