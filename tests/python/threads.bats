# SPDX-License-Identifier: MIT
# Threads: lines of threads started with `threading` after tracing began are
# traced, and lines from concurrent threads are always written whole.

load ../helper

@test "8 threads: every line whole, and exactly as many lines as executed" {
	local D=$BATS_TEST_TMPDIR
	cat >"$D/threads.py" <<-'PY'
	import threading
	N = 20000
	def work(tag):
	    for i in range(N):
	        s = "%s-%d-padding-to-make-lines-longer-than-a-few-bytes" % (tag, i)
	ts = [threading.Thread(target=work, args=("t%d" % k,)) for k in range(8)]
	for t in ts:
	    t.start()
	for t in ts:
	    t.join()
	PY
	PYTRACE_OUTPUT=$D/t PYTRACE_IGNORE_DIRS=$(sys_dirs) traced "$PYTHON" "$D/threads.py"
	# per thread: N x (for line + body line) + the final for line
	run grep -c "^$D/threads.py(4):     for i in range(N):\$" "$D/t"
	assert_output $((8 * (20000 + 1)))
	run grep -c "^$D/threads.py(5):         s = \"%s-%d-padding-to-make-lines-longer-than-a-few-bytes\" % (tag, i)\$" "$D/t"
	assert_output $((8 * 20000))
	# every line is whole: a line of threads.py with that line's exact text
	run awk -v f="$D/threads.py" 'BEGIN { while ((getline l < f) > 0) src[++n] = l }
		{ p = f "("; if (index($0, p) != 1) { bad++; next }
		  rest = substr($0, length(p) + 1); k = index(rest, "): ")
		  num = substr(rest, 1, k - 1); text = substr(rest, k + 3)
		  if (num !~ /^[0-9]+$/ || src[num] != text) bad++ }
		END { print bad + 0, NR }' "$D/t"
	assert_output --regexp "^0 [0-9]+$"
}

@test "threading imported before tracing starts (by sitecustomize) still traces new threads" {
	local D=$BATS_TEST_TMPDIR
	mkdir "$D/site"
	echo 'import threading' >"$D/site/sitecustomize.py"
	cat >"$D/t.py" <<-'PY'
	import threading
	def work():
	    return 42
	t = threading.Thread(target=work)
	t.start(); t.join()
	PY
	PYTHONPATH=$D/site PYTRACE_OUTPUT=$D/out PYTRACE_IGNORE_DIRS=$(sys_dirs) traced "$PYTHON" "$D/t.py"
	assert_file_contains "$D/out" "^$D/t.py(3):     return 42\$"
	refute grep -q sitecustomize "$D/out"
}

@test "a program's own threading.settrace is left alone" {
	local D=$BATS_TEST_TMPDIR
	cat >"$D/own.py" <<-'PY'
	import sys, threading
	seen = []
	def tracer(frame, event, arg):
	    seen.append(event)
	threading.settrace(tracer)
	t = threading.Thread(target=lambda: None)
	t.start(); t.join()
	print("own tracer called: %s" % ("call" in seen))
	PY
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT=$D/out "$PYTHON" "$D/own.py"
	assert_success
	assert_output "own tracer called: True"
}
