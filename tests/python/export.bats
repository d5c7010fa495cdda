# SPDX-License-Identifier: MIT
# The timeline (timeline = true, record mode) and `pytrace export
# --perfetto`: each call of traced code a slice, named and nested as the
# program ran, through exceptions, generators, recursion, fork, threads,
# rotation, a file cut short and a process that dies in a call; the JSON
# checked by tests/perfetto-check.py as Perfetto needs it.  Replay is the
# same with the timeline on; without record mode, timeline is refused.

load ../helper

setup() {
	D=$BATS_TEST_TMPDIR
	export PYTRACE_IGNORE_DIRS=$(sys_dirs)
	CHECKER=$PT_ROOT/tests/perfetto-check.py
}

# timeline NAME CMD...: run CMD traced with the timeline into $D/NAME.rec.
timeline() {
	local name=$1
	shift
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT_MODE=record PYTRACE_TIMELINE=1 \
		PYTRACE_OUTPUT=$D/$name.rec "$@"
}

# exports OUT FILE...: `pytrace export --perfetto FILE... -o OUT` succeeds
# with nothing on stderr.
exports() {
	local out=$1
	shift
	run --separate-stderr "$PT_ROOT/pytrace" export --perfetto "$@" -o "$out"
	assert_equal "$stderr" ""
	assert_success
}

# valid FILE: the checker passes FILE; its call tree (perfetto-check.py
# --tree, "PID TID  name" per slice) is in $D/tree, and the same without
# pids and tids and with repeated lines once (uniq) in $D/calls.
valid() {
	run /usr/bin/python3 "$CHECKER" --tree "$1"
	assert_success
	assert_line --regexp '^ok: [0-9]+ slices'
	printf '%s\n' "$output" | grep -v '^ok: ' >"$D/tree"
	cut -d' ' -f3- "$D/tree" | uniq >"$D/calls"
}

# fixture_calls: $D/calls is the call tree of tests/fixtures/calls.py.
fixture_calls() {
	diff - "$D/calls" <<-'EOF'
	__main__:<module>
	  __main__:main
	    __main__:gen
	    __main__:outer
	      __main__:inner
	    __main__:gen
	    __main__:fact
	      __main__:fact
	        __main__:fact
	          __main__:fact
	    __main__:after
	EOF
}

@test "the fixture's calls: nested as they ran, through an exception, generators and recursion; .gz the same" {
	timeline calls "$PYTHON" "$PT_FIX/calls.py"
	exports "$D/calls.json" "$D/calls.rec"
	valid "$D/calls.json"
	fixture_calls
	# sum() resumes gen(3) 4 times, next() and throw() gen(5) twice, next()
	# and close() another twice (3.13 closes it without running it: no
	# handler to run); 3.11 also enters a generator's frame to create it
	run grep -c '    __main__:gen$' "$D/tree"
	[ "$output" -ge 7 ] && [ "$output" -le 11 ] || fail "$output gen slices"
	# args: the file and the first line run
	run /usr/bin/python3 -c '
import json, sys
ev = [e for e in json.load(open(sys.argv[1]))["traceEvents"] if e.get("name") == "__main__:inner"]
print(ev[0]["args"]["file"], ev[0]["args"]["line"])' "$D/calls.json"
	assert_output "$PT_FIX/calls.py 10"
	cp "$D/calls.json" "$D/plain.json"
	exports "$D/calls.json.gz" "$D/calls.rec"
	[ "$(head -c 2 "$D/calls.json.gz" | od -An -tx1 | tr -d ' ')" = 1f8b ]
	valid "$D/calls.json.gz"
	cmp "$D/plain.json" <(gzip -dc "$D/calls.json.gz")
}

@test "3.12+ with every sys.monitoring tool id taken (the plain trace function): the same calls" {
	[ "$(pyver)" -ge 312 ] || skip "sys.monitoring is 3.12+"
	mkdir "$D/site"
	printf 'import sys\nfor i in range(6):\n    sys.monitoring.use_tool_id(i, "other%%d" %% i)\n' >"$D/site/sitecustomize.py"
	PYTHONPATH="$D/site" PYTRACE_IGNORE_DIRS="$PYTRACE_IGNORE_DIRS:$D/site" \
		timeline calls "$PYTHON" "$PT_FIX/calls.py"
	run "$PT_ROOT/pytrace" replay "$D/calls.rec"
	assert_line --partial "every sys.monitoring tool id is in use; tracing with PyEval_SetTrace instead"
	exports "$D/calls.json" "$D/calls.rec"
	valid "$D/calls.json"
	fixture_calls
}

@test "replay prints the same text with the timeline on" {
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT_MODE=record PYTRACE_OUTPUT=$D/off.rec \
		PYTRACE_FORMAT='{tid} {indent}{path}({line}): {source}' PYTRACE_CALL_LINES=1 \
		"$PYTHON" "$PT_FIX/calls.py"
	PYTRACE_FORMAT='{tid} {indent}{path}({line}): {source}' PYTRACE_CALL_LINES=1 \
		timeline on "$PYTHON" "$PT_FIX/calls.py"
	"$PT_ROOT/pytrace" replay "$D/off.rec" >"$D/off.txt"
	"$PT_ROOT/pytrace" replay "$D/on.rec" >"$D/on.txt"
	[ "$(count_lines "$D/on.txt")" -gt 30 ]
	# the thread ids differ from run to run
	diff <(cut -d' ' -f2- "$D/off.txt") <(cut -d' ' -f2- "$D/on.txt")
	[ "$(stat -c %s "$D/on.rec")" -gt "$(stat -c %s "$D/off.rec")" ]
	run "$PT_ROOT/pytrace" summary "$D/on.rec"
	assert_success
	assert_line --regexp "^ +[0-9]+ $PT_FIX/calls.py:fact\$"
}

@test "a forked child in the same file: a process of its own, its calls on its own track, on the parent's clock" {
	cat >"$D/fork.py" <<-'PY'
	import os
	def child_work():
	    return 1
	def parent_work():
	    return 2
	def main():
	    pid = os.fork()
	    if pid == 0:
	        child_work()
	        os._exit(0)
	    os.waitpid(pid, 0)
	    parent_work()
	main()
	PY
	timeline fork "$PYTHON" "$D/fork.py"
	exports "$D/fork.json" "$D/fork.rec"
	valid "$D/fork.json"
	run cut -d' ' -f3- "$D/tree"
	assert_output "__main__:<module>
  __main__:main
    __main__:parent_work
__main__:child_work"
	local parent child
	parent=$(grep 'parent_work$' "$D/tree" | cut -d' ' -f1)
	child=$(grep 'child_work$' "$D/tree" | cut -d' ' -f1)
	[ "$parent" != "$child" ]
	# the child's call falls within the parent's main
	run /usr/bin/python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
ts = lambda name: [e["ts"] for e in ev if e.get("name") == name][0]
main_end = [e["ts"] for e in ev if e["ph"] == "E" and e["pid"] == int(sys.argv[2])][-2]
print(ts("__main__:main") < ts("__main__:child_work") < ts("__main__:parent_work") < main_end)' \
		"$D/fork.json" "$parent"
	assert_output True
}

@test "a forked child with %p: two files, exported together, two processes" {
	cat >"$D/forkp.py" <<-'PY'
	import os
	def work(who):
	    return who
	pid = os.fork()
	work("child" if pid == 0 else "parent")
	if pid:
	    os.waitpid(pid, 0)
	PY
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT_MODE=record PYTRACE_TIMELINE=1 \
		PYTRACE_OUTPUT="$D/p.%p.rec" "$PYTHON" "$D/forkp.py"
	local files=("$D"/p.*.rec)
	[ ${#files[@]} -eq 2 ] || fail "${#files[@]} files"
	exports "$D/p.json" "${files[@]}"
	valid "$D/p.json"
	run bash -c "grep '__main__:work\$' '$D/tree' | cut -d' ' -f1 | sort -u | wc -l"
	assert_output 2
	run /usr/bin/python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
print(sorted(e["args"]["name"] for e in ev if e.get("name") == "process_name") ==
      sorted("python pid %d" % p for p in {e["pid"] for e in ev if e["ph"] == "B"}))' "$D/p.json"
	assert_output True
}

@test "two programs run one after the other, exported together: on one clock, the second later by the time between" {
	printf 'def first():\n    return 1\nfirst()\n' >"$D/one.py"
	printf 'def second():\n    return 2\nsecond()\n' >"$D/two.py"
	timeline one "$PYTHON" "$D/one.py"
	sleep 0.5
	timeline two "$PYTHON" "$D/two.py"
	exports "$D/both.json" "$D/two.rec" "$D/one.rec"
	valid "$D/both.json"
	run /usr/bin/python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
ts = lambda name: [e["ts"] for e in ev if e.get("name") == name][0]
print(ts("__main__:second") - ts("__main__:first") > 500000)' "$D/both.json"
	assert_output True
}

@test "threads: each its own track, named, with its own calls" {
	cat >"$D/threads.py" <<-'PY'
	import threading
	def leaf(i):
	    return i * 2
	def work(n):
	    for i in range(n):
	        leaf(i)
	ts = [threading.Thread(target=work, args=(300,)) for k in range(3)]
	for t in ts:
	    t.start()
	for t in ts:
	    t.join()
	PY
	PYTRACE_FLUSH_INTERVAL=10 timeline threads "$PYTHON" "$D/threads.py"
	exports "$D/threads.json" "$D/threads.rec"
	valid "$D/threads.json"
	# every worker: one work (the threading module is ignored), 300 leaf
	# calls nested in it
	run bash -c "grep ' __main__:work\$' '$D/tree' | cut -d' ' -f2 | sort | uniq -c | awk '{ print \$1 }' | sort -u"
	assert_output 1
	run bash -c "grep '^[0-9]* [0-9]*   __main__:leaf\$' '$D/tree' | cut -d' ' -f2 | sort | uniq -c | awk '{ print \$1 }'"
	assert_output "300
300
300"
	run /usr/bin/python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev if e.get("name") == "thread_name"}
tracks = {(e["pid"], e["tid"]) for e in ev if e["ph"] == "B"}
print(len(tracks), all(k in names for k in tracks))' "$D/threads.json"
	assert_output "4 True"
}

@test "a process that dies inside calls: they are closed at its last event" {
	cat >"$D/dies.py" <<-'PY'
	import os
	def deeper():
	    os._exit(3)
	def first():
	    return 1
	def dying():
	    first()
	    deeper()
	dying()
	PY
	run env PYTRACE_FLUSH_INTERVAL=0 LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT_MODE=record \
		PYTRACE_TIMELINE=1 PYTRACE_OUTPUT="$D/dies.rec" "$PYTHON" "$D/dies.py"
	assert_failure 3
	exports "$D/dies.json" "$D/dies.rec"
	valid "$D/dies.json"
	run cat "$D/calls"
	assert_output "__main__:<module>
  __main__:dying
    __main__:first
    __main__:deeper"
	# the three open calls end 1 ns apart, just after the last event
	run /usr/bin/python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
b = [e["ts"] for e in ev if e["ph"] == "B"]
e = [x["ts"] for x in ev if x["ph"] == "E"]
print(len(e), min(e[1:]) > max(b), round((max(e) - min(e[1:])) * 1000))' "$D/dies.json"
	assert_output "4 True 2"
}

@test "a file cut inside a chunk: reported, and what it holds exported with every call closed" {
	printf 'def leaf(i):\n    return i\ndef mid(i):\n    return leaf(i)\nfor i in range(20000):\n    mid(i)\n' >"$D/cut.py"
	PYTRACE_FLUSH_INTERVAL=0 timeline full "$PYTHON" "$D/cut.py"
	local size
	size=$(stat -c %s "$D/full.rec")
	head -c $((size * 2 / 3 + 7)) "$D/full.rec" >"$D/cut.rec"
	run --separate-stderr "$PT_ROOT/pytrace" export --perfetto "$D/cut.rec" -o "$D/cut.json"
	assert_failure 1
	# once: the first pass reads the file quietly
	assert_regex "$stderr" "^pytrace export: $D/cut.rec: offset [0-9]+: the file ends inside the chunk of process [0-9]+ that starts here \\([0-9]+ of its [0-9]+ bytes are missing: a write was cut short\\); what it holds is shown\$"
	valid "$D/cut.json"
	local n
	n=$(grep -c '    __main__:leaf$' "$D/tree")
	[ "$n" -gt 5000 ] && [ "$n" -lt 20000 ] || fail "$n leaf calls"
	# the module's call, still open where the file ends, is closed
	run grep -c '^[0-9]* [0-9]* __main__:<module>$' "$D/tree"
	assert_output 1
}

@test "rotation: the files exported together, oldest first, hold every call once" {
	printf 'def mark(i):\n    return i\nfor i in range(3000):\n    mark(i)\n' >"$D/rot.py"
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT_MODE=record PYTRACE_TIMELINE=1 PYTRACE_OUTPUT=$D/rot.rec \
		PYTRACE_MAX_SIZE=8K PYTRACE_KEEP=1000 PYTRACE_FLUSH_INTERVAL=0 "$PYTHON" "$D/rot.py"
	rotated "$D/rot.rec"
	[ ${#files[@]} -ge 3 ] || fail "only ${#files[@]} files"
	exports "$D/rot.json" "${files[@]}"
	valid "$D/rot.json"
	run grep -c '^[0-9]* [0-9]*   __main__:mark$' "$D/tree"
	assert_output 3000
	run grep -c '__main__:<module>$' "$D/tree"
	assert_output 1
	# one file alone: valid too
	exports "$D/one.json" "${files[1]}"
	valid "$D/one.json"
}

@test "a file recorded without the timeline: export says to record with --timeline" {
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT_MODE=record PYTRACE_OUTPUT=$D/plain.rec \
		"$PYTHON" "$PT_FIX/calls.py"
	run --separate-stderr "$PT_ROOT/pytrace" export --perfetto "$D/plain.rec" -o "$D/plain.json"
	assert_failure 1
	assert_equal "$stderr" "pytrace export: $D/plain.rec: no timeline in this file: record with \`pytrace --record --timeline\` (timeline = true, PYTRACE_TIMELINE=1) to export calls"
	assert_file_not_exists "$D/plain.json"
}

@test "more calls than --max-slices: the first ones exported, closed, and a message" {
	printf 'def mark(i):\n    return i\nfor i in range(100):\n    mark(i)\n' >"$D/many.py"
	timeline many "$PYTHON" "$D/many.py"
	run --separate-stderr "$PT_ROOT/pytrace" export --perfetto --max-slices 10 "$D/many.rec" -o "$D/many.json"
	assert_failure 1
	assert_equal "$stderr" "pytrace export: stopped at 10 calls (--max-slices): the rest of the trace is not in $D/many.json; Perfetto UI opens a few million comfortably"
	valid "$D/many.json"
	run grep -c . "$D/tree"
	assert_output 10
}

@test "timeline without record mode, or with a scope: one message, the program runs untraced; the CLI refuses" {
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_TIMELINE=1 PYTRACE_OUTPUT="$D/t" \
		"$PYTHON" "$PT_FIX/calls.py"
	assert_success
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: PYTRACE_TIMELINE: timeline writes the calls as records, for \`pytrace export\`: set output_mode to \"record\"; not tracing$"
	assert_file_not_exists "$D/t"
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_TIMELINE=1 PYTRACE_OUTPUT_MODE=record \
		PYTRACE_SCOPE=__main__:main PYTRACE_OUTPUT="$D/t" "$PYTHON" "$PT_FIX/calls.py"
	assert_success
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: PYTRACE_TIMELINE: timeline records every call of traced code, not only those in a scope: unset scope, or timeline; not tracing$"
	assert_file_not_exists "$D/t"
	run "$PT_ROOT/pytrace" --timeline -o "$D/t" "$PYTHON" "$PT_FIX/calls.py"
	assert_failure 1
	assert_line --partial "timeline writes the calls as records"
	assert_line "pytrace: the settings above are not valid; not running"
	run "$PT_ROOT/pytrace" --record --timeline -o "$D/t" "$PYTHON" "$PT_FIX/calls.py"
	assert_success
	exports "$D/t.json" "$D/t"
	valid "$D/t.json"
}
