# SPDX-License-Identifier: MIT
# Record mode (output_mode = "record") and `pytrace replay`: what replay
# prints is what text mode writes, for the fixture program, the bench
# workloads, every format token, call lines; through fork, rotation, a
# moved or truncated file, os._exit and threads; notices at their place;
# `pytrace summary` reads records; a damaged file is reported and read as
# far as it goes.

load ../helper

setup() {
	D=$BATS_TEST_TMPDIR
	export PYTRACE_IGNORE_DIRS=$(sys_dirs)
	REPLAY=${PYTRACE_REPLAY:-$PT_ROOT/pytrace-replay}
}

# both NAME CMD...: run CMD traced twice, to $D/NAME.txt in text mode and
# to $D/NAME.rec in record mode (PYTRACE_* from the caller apply to both).
both() {
	local name=$1
	shift
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT=$D/$name.txt "$@" >"$D/$name.out.txt"
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT_MODE=record PYTRACE_OUTPUT=$D/$name.rec \
		"$@" >"$D/$name.out.rec"
}

# replays FILE...: `pytrace replay FILE...` must succeed with nothing on
# stderr; its output is in $D/replayed.
replays() {
	run --separate-stderr "$PT_ROOT/pytrace" replay "$@"
	assert_equal "$stderr" ""
	assert_success
	printf '%s\n' "$output" >"$D/replayed"
}

# marks N: a program that runs mark(i) for i < N (line 3 each time)
marks() {
	printf 'import os, sys, time\ndef mark(i):\n    return i\nfor i in range(%d):\n    mark(i)\n' "$1"
}

@test "the fixture program: replay prints the text trace byte for byte, from a file 5 times smaller" {
	PYTRACE_IGNORE_DIRS="$PYTRACE_IGNORE_DIRS:$APP/ignored" PYTRACE_IGNORE_MODULES=ignmod \
		both app "$PYTHON" "$APP/main.py"
	assert_equal "$(head -c 4 "$D/app.rec" | od -An -c | tr -s ' ')" ' 177 P T R'
	"$REPLAY" "$D/app.rec" >"$D/app.replayed"
	cmp "$D/app.txt" "$D/app.replayed"
	assert_equal "$(cat "$D/app.replayed")" "$(expected app.expected)"
	local t r
	t=$(stat -c %s "$D/app.txt")
	r=$(stat -c %s "$D/app.rec")
	[ $((r * 5)) -lt "$t" ] || fail "record file $r bytes, text $t bytes"
	cmp "$D/app.out.txt" "$D/app.out.rec"
}

@test "every format token and call_lines: replay is text mode's output; clocks by structure" {
	local fmt='{pid}|{tid}|{time}|{elapsed}|{indent}{module}.{function}:{path}({line}) {source}'
	local m
	for m in text record; do
		PYTRACE_FORMAT=$fmt PYTRACE_CALL_LINES=yes bash -c 'echo $$ >"$1"; exec env \
			LD_PRELOAD="$2" PYTRACE_OUTPUT_MODE=$3 PYTRACE_OUTPUT="$4" "$5" "$6" >/dev/null' \
			- "$D/pid.$m" "$PT_LIB" "$m" "$D/t.$m" "$PYTHON" "$APP/main.py"
	done
	"$REPLAY" "$D/t.record" >"$D/t.replayed"
	local pid
	pid=$(cat "$D/pid.record")
	# pid, tid (the main thread's is the pid), time and elapsed have their
	# shape; with them made alike, the lines are the text mode's exactly
	norm() {
		awk -F'|' -v pid="$1" -v OFS='|' '/^ --- / { print; next }
			$1 != pid { print "BAD PID " $0; next }
			$3 !~ /^2[0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9][0-9][0-9][0-9][0-9][0-9]$/ {
				print "BAD TIME " $0; next }
			$4 !~ /^[0-9]+\.[0-9][0-9]$/ { print "BAD ELAPSED " $0; next }
			{ $1 = "P"; $2 = ($2 == pid ? "main" : "thread"); $3 = "T"; $4 = "E"; print }' "$2"
	}
	norm "$(cat "$D/pid.text")" "$D/t.text" >"$D/t.text.norm"
	norm "$pid" "$D/t.replayed" >"$D/t.replayed.norm"
	diff "$D/t.text.norm" "$D/t.replayed.norm"
	run grep -c '^ --- modulename: pkg.sub, funcname: double$' "$D/t.replayed"
	assert_output 5
	# the worker thread's first line, with its own thread id
	run grep -c "^P|thread|T|E| *__main__.work:$APP/main.py(13)     total = 0\$" "$D/t.replayed.norm"
	assert_output 1
	# {time} and {elapsed} of a line tell the same time since the first
	run awk -F'|' 'NR == 1 { next } !/^ --- / { split($3, d, "T"); split(d[2], c, ":")
		s = c[1] * 3600 + c[2] * 60 + c[3]
		if (!n++) { s0 = s; e0 = $4 }
		if ((s - s0) - ($4 - e0) > 0.02 || (s - s0) - ($4 - e0) < -0.02) bad++ }
		END { print ((n > 30 && !bad) ? "consistent" : "inconsistent " n " " bad) }' "$D/t.replayed"
	assert_output consistent
}

@test "bench workload W1: replay prints the text trace byte for byte" {
	both w1 "$PYTHON" "$PT_ROOT/tests/bench/w1.py" 10
	cmp "$D/w1.out.txt" "$D/w1.out.rec"
	"$REPLAY" "$D/w1.rec" >"$D/w1.replayed"
	cmp "$D/w1.txt" "$D/w1.replayed"
	[ "$(count_lines "$D/w1.txt")" -gt 10000 ]
}

@test "bench constructs (calls, generators, exceptions, a loop, coroutines, many code objects, long functions): each line as often as it ran, and replay prints the text trace byte for byte" {
	local wc=$PT_ROOT/tests/bench/wc.py c n
	# construct, how often a line runs at scale 1, that line (indentation
	# aside)
	while read -r c n line; do
		[ "$c" != coroutines ] || [ "$(pyver)" -ge 305 ] || continue
		# its generated source written once, before the traced runs
		BENCH_WC_DIR=$D "$PYTHON" "$wc" "$c" 1 >/dev/null
		BENCH_WC_DIR=$D both "$c" "$PYTHON" "$wc" "$c" 1
		cmp "$D/$c.out.txt" "$D/$c.out.rec"
		"$REPLAY" "$D/$c.rec" >"$D/$c.replayed"
		cmp "$D/$c.txt" "$D/$c.replayed"
		run awk -v l="$line" '{ s = substr($0, index($0, "): ") + 3)
			sub(/^[ \t]+/, "", s); if (s == l) k++ } END { print k + 0 }' "$D/$c.txt"
		assert_output "$n"
	done <<-'EOF'
		calls 1973     if n < 2:
		generators 1000         yield i * 7 % 13
		exceptions 500         raise Odd(x)
		loop 334             total += i
		coroutines 1000     await asyncio.sleep(0)
		codeobjs 2000     return x
		longfuncs 8     return x
	EOF
}

@test "bench workload W2 (two worker threads): replay prints the text trace's lines" {
	[ -e "$PT_ROOT/tests/bench/w2.py" ] || skip "tests/bench/w2.py is not there"
	both w2 "$PYTHON" "$PT_ROOT/tests/bench/w2.py" 3
	assert_file_contains "$D/w2.out.rec" '^w2 scale=3 '
	cmp "$D/w2.out.txt" "$D/w2.out.rec"
	"$REPLAY" "$D/w2.rec" >"$D/w2.replayed"
	# the threads interleave differently from run to run
	diff <(sort "$D/w2.txt") <(sort "$D/w2.replayed")
	[ "$(count_lines "$D/w2.txt")" -gt 1000 ]
}

@test "bench workload W3 (start-up, a generated package): replay prints the text trace byte for byte" {
	[ -e "$PT_ROOT/tests/bench/w3.py" ] || skip "tests/bench/w3.py is not there"
	"$PYTHON" "$PT_ROOT/tests/bench/w3.py" 40 "$D/pkg" >/dev/null	# generated once
	both w3 "$PYTHON" "$PT_ROOT/tests/bench/w3.py" 40 "$D/pkg"
	assert_file_contains "$D/w3.out.rec" '^w3 scale=40 '
	cmp "$D/w3.out.txt" "$D/w3.out.rec"
	"$REPLAY" "$D/w3.rec" >"$D/w3.replayed"
	cmp "$D/w3.txt" "$D/w3.replayed"
	[ "$(count_lines "$D/w3.txt")" -gt 500 ]
}

@test "bench workload W4 (8 threads): replay prints the text trace's lines, each thread's in order" {
	[ -e "$PT_ROOT/tests/bench/w4.py" ] || skip "tests/bench/w4.py is not there"
	PYTRACE_FORMAT='{tid} {path}({line}): {source}' both w4 "$PYTHON" "$PT_ROOT/tests/bench/w4.py" 8
	assert_file_contains "$D/w4.out.rec" '^w4 scale=8 '
	cmp "$D/w4.out.txt" "$D/w4.out.rec"
	"$REPLAY" "$D/w4.rec" >"$D/w4.replayed"
	diff <(cut -d' ' -f2- "$D/w4.txt" | sort) <(cut -d' ' -f2- "$D/w4.replayed" | sort)
	# each thread's lines, in its own order, are the same in both runs
	per_thread() {
		awk '{ t = $1; $1 = ""; s[t] = s[t] $0 "\001" } END { for (t in s) print s[t] }' "$1" |
			sort | md5sum
	}
	assert_equal "$(per_thread "$D/w4.replayed")" "$(per_thread "$D/w4.txt")"
	run bash -c "cut -d' ' -f1 '$D/w4.replayed' | sort -u | wc -l"
	assert_output 9
}

@test "forked children sharing one file: every child's lines, whole; codes new in parent and children after the fork kept apart" {
	cat >"$D/kids.py" <<-'PY'
	import os
	def work(k):
	    for i in range(2000):
	        s = "child-%d-%d" % (k, i)
	def child_only():
	    return "child"
	def parent_only():
	    return "parent"
	work(-1)
	pids = []
	for k in range(8):
	    pid = os.fork()
	    if pid == 0:
	        work(k)
	        child_only()
	        os._exit(0)
	    pids.append(pid)
	parent_only()
	for pid in pids:
	    os.waitpid(pid, 0)
	PY
	# child_only and parent_only, first used after the fork, get the same
	# number in the parent and in each child
	PYTRACE_FORMAT='{function} {path}({line}): {source}' PYTRACE_FLUSH_INTERVAL=20 \
		both kids "$PYTHON" "$D/kids.py"
	replays "$D/kids.rec"
	run grep -c "^work $D/kids.py(4):         s = \"child-%d-%d\" % (k, i)\$" "$D/replayed"
	assert_output $((9 * 2000))
	run grep -c "^<module> $D/kids.py(16):         os._exit(0)\$" "$D/replayed"
	assert_output 8
	run grep -c "^child_only $D/kids.py(6):     return \"child\"\$" "$D/replayed"
	assert_output 8
	run grep -c "^parent_only $D/kids.py(8):     return \"parent\"\$" "$D/replayed"
	assert_output 1
	diff <(sort "$D/kids.txt") <(sort "$D/replayed")
}

@test "a double fork on one line (the child traces nothing before forking again): the grandchild's lines replay" {
	cat >"$D/gc.py" <<-'PY'
	import os, time
	def f(x):
	    return x + 1
	f(1)
	if os.fork() == 0 and os.fork() == 0:
	    f(2)
	    os._exit(0)
	time.sleep(0.5)
	f(3)
	PY
	both gc "$PYTHON" "$D/gc.py"
	sleep 0.2
	replays "$D/gc.rec"
	diff <(sort "$D/gc.txt") <(sort "$D/replayed")
	run grep -c "gc.py(3):     return x + 1" "$D/replayed"
	assert_output 4
}

@test "a forked child with %p in the output: each process's record file replays alone" {
	cat >"$D/fork.py" <<-'PY'
	import os
	def mark(who):
	    return who
	mark("before")
	pid = os.fork()
	if pid == 0:
	    mark("child")
	    os._exit(0)
	os.waitpid(pid, 0)
	mark("parent")
	PY
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT_MODE=record PYTRACE_OUTPUT="$D/f.%p" "$PYTHON" "$D/fork.py"
	local f n=0
	for f in "$D"/f.*; do
		replays "$f"
		assert_line "$D/fork.py(3):     return who"
		n=$((n + 1))
	done
	assert_equal "$n" 2
	run bash -c "cat '$D'/f.* | '$REPLAY' - | grep -c 'fork.py(3):'"
	assert_output 3
}

@test "rotation at max_size: every file stands alone, none passes max_size, together they are the text trace" {
	marks 3000 >"$D/p.py"
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT=$D/rot.txt "$PYTHON" "$D/p.py"
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT_MODE=record PYTRACE_OUTPUT=$D/rot.rec PYTRACE_MAX_SIZE=4K \
		PYTRACE_KEEP=1000 PYTRACE_FLUSH_INTERVAL=0 "$PYTHON" "$D/p.py"
	rotated "$D/rot.rec"
	[ ${#files[@]} -ge 3 ] || fail "only ${#files[@]} files"
	for f in "${files[@]}"; do
		[ "$(stat -c %s "$f")" -le 4096 ] || fail "$f: $(stat -c %s "$f") bytes"
		replays "$f"
		assert_line --regexp "^$D/p.py\([0-9]\): "
	done
	"$REPLAY" "${files[@]}" >"$D/replayed"
	cmp "$D/rot.txt" "$D/replayed"
}

@test "the file moved away (logrotate create), deleted, truncated (copytruncate): each file replays alone" {
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT_MODE=record PYTRACE_FLUSH_INTERVAL=100 \
		PYTRACE_OUTPUT="$D/r" "$PYTHON" "$PT_FIX/rotate.py" "$D/r"
	assert_success
	assert_output ""
	replays "$D/r.1"
	run grep -c "rotate.py(7):     return i" "$D/replayed"
	assert_output 3
	replays "$D/r"
	assert_line "$PT_FIX/rotate.py(21):     step(i)"
	run grep -c "rotate.py(7):     return i" "$D/replayed"
	assert_output 6
}

@test "os._exit and os.execv: the records before them reach the file" {
	{ marks 4; echo 'os._exit(7)'; } >"$D/x.py"
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT_MODE=record PYTRACE_FLUSH_INTERVAL=0 \
		PYTRACE_OUTPUT="$D/x" "$PYTHON" "$D/x.py"
	assert_equal "$status" 7
	replays "$D/x"
	run grep -c "x.py(3):     return i" "$D/replayed"
	assert_output 4
	# exec'ing Python again: the same pid, a new program, in one file
	{ marks 2; echo 'if len(sys.argv) == 1: os.execv(sys.executable, [sys.executable, sys.argv[0], "again"])'; } >"$D/e.py"
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT_MODE=record PYTRACE_FLUSH_INTERVAL=0 \
		PYTRACE_OUTPUT="$D/e" "$PYTHON" "$D/e.py"
	assert_success
	replays "$D/e"
	run grep -c "e.py(3):     return i" "$D/replayed"
	assert_output 4
}

@test "a daemon that double-forks and closes every descriptor, then is killed: its records replay, its own files intact" {
	cat >"$D/daemon.py" <<-PY
	import os, sys, time
	def step(i):
	    return i
	if os.fork():
	    os._exit(0)
	os.setsid()
	if os.fork():
	    os._exit(0)
	os.closerange(0, 1024)
	fd = os.open("/dev/null", os.O_RDWR)
	os.dup2(fd, 1); os.dup2(fd, 2)
	own = [open("$D/own.%d" % i, "w") for i in range(4)]
	for i in range(2000):
	    step(i)
	for f in own:
	    f.write("own data\n"); f.close()
	open("$D/pid", "w").write("%d\n" % os.getpid())
	time.sleep(30)
	PY
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT_MODE=record PYTRACE_FLUSH_INTERVAL=100 \
		PYTRACE_OUTPUT="$D/d.rec" "$PYTHON" "$D/daemon.py"
	assert_success
	local n=0
	until [ -s "$D/pid" ] || [ $n -ge 100 ]; do sleep 0.1; n=$((n + 1)); done
	sleep 0.5	# five flush intervals
	kill -KILL "$(cat "$D/pid")"
	for i in 0 1 2 3; do
		assert_equal "$(cat "$D/own.$i")" "own data"
	done
	replays "$D/d.rec"
	assert_line "$D/daemon.py(18): time.sleep(30)"
	run grep -c "daemon.py(3):     return i" "$D/replayed"
	assert_output 2000
}

@test "threads: every line replayed whole, with its thread" {
	cat >"$D/t8.py" <<-'PY'
	import threading
	def work(tag):
	    for i in range(3000):
	        s = "%s-%d" % (tag, i)
	ts = [threading.Thread(target=work, args=("t%d" % k,)) for k in range(8)]
	for t in ts:
	    t.start()
	for t in ts:
	    t.join()
	PY
	PYTRACE_FORMAT='{tid} {path}({line}): {source}' PYTRACE_FLUSH_INTERVAL=20 both t8 "$PYTHON" "$D/t8.py"
	replays "$D/t8.rec"
	diff <(cut -d' ' -f2- "$D/t8.txt" | sort) <(cut -d' ' -f2- "$D/replayed" | sort)
	# each worker thread: 3000 times line 4, 3001 times line 3
	run bash -c "grep 't8.py(4):' '$D/replayed' | cut -d' ' -f1 | sort | uniq -c | awk '{ print \$1 }' | sort -u"
	assert_output 3000
	run bash -c "grep 't8.py(3):' '$D/replayed' | cut -d' ' -f1 | sort | uniq -c | awk '{ print \$1 }' | sort -u"
	assert_output 3001
	run bash -c "grep 't8.py(4):' '$D/replayed' | cut -d' ' -f1 | sort -u | wc -l"
	assert_output 8
}

@test "pytrace summary reads a record file: the same result as on the text trace" {
	both app "$PYTHON" "$APP/main.py"
	run "$PT_ROOT/pytrace" summary "$D/app.txt"
	assert_success
	local text=$output
	run "$PT_ROOT/pytrace" summary "$D/app.rec"
	assert_success
	assert_equal "$output" "$text"
	assert_line --regexp "^ +16 $APP/main.py:work\$"
	run "$PT_ROOT/pytrace" summary --include 'pkg/' "$D/app.rec"
	assert_success
	assert_equal "$output" "$("$PT_ROOT/pytrace" summary --include 'pkg/' "$D/app.txt")"
}

@test "a truncated record file: replay and summary name the file and offset, and show what was decodable" {
	marks 30000 >"$D/p.py"
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT_MODE=record PYTRACE_FLUSH_INTERVAL=0 PYTRACE_OUTPUT=$D/full \
		"$PYTHON" "$D/p.py"
	"$REPLAY" "$D/full" >"$D/full.replayed"
	local size
	size=$(stat -c %s "$D/full")
	head -c $((size - 1000)) "$D/full" >"$D/cut"
	run --separate-stderr "$PT_ROOT/pytrace" replay "$D/cut"
	assert_failure 1
	assert_regex "$stderr" "^pytrace replay: $D/cut: offset [0-9]+: the file ends inside the chunk of process [0-9]+ that starts here \([0-9]+ of its [0-9]+ bytes are missing: a write was cut short\); what it holds is shown$"
	local off=${stderr#*offset }
	off=${off%%:*}
	[ "$off" -gt 0 ] && [ "$off" -lt $((size - 1000)) ]
	printf '%s\n' "$output" >"$D/cut.replayed"
	local n
	n=$(count_lines "$D/cut.replayed")
	[ "$n" -gt 10000 ] && [ "$n" -lt "$(count_lines "$D/full.replayed")" ]
	cmp "$D/cut.replayed" <(head -n "$n" "$D/full.replayed")
	run --separate-stderr "$PT_ROOT/pytrace" summary "$D/cut"
	assert_failure 1
	assert_regex "$stderr" "^pytrace summary: $D/cut: offset $off: the file ends inside"
	assert_line --regexp "^ +[0-9]+ $D/p.py:mark\$"
}

@test "garbage between chunks, and records of another file appended: reported, skipped, the rest replayed" {
	marks 5 >"$D/p.py"
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT_MODE=record PYTRACE_OUTPUT=$D/a "$PYTHON" "$D/p.py"
	{ cat "$D/a"; printf 'some text that is no chunk\n'; cat "$D/a"; } >"$D/two"
	run --separate-stderr "$REPLAY" "$D/two"
	assert_failure 1
	assert_equal "$stderr" "pytrace replay: $D/two: offset $(stat -c %s "$D/a"): no chunk header here; 27 bytes skipped to the next one"
	assert_equal "$(grep -c 'p.py(3):     return i' <<<"$output")" 10
	run --separate-stderr "$REPLAY" "$D/p.py"
	assert_failure 1
	assert_equal "$stderr" "pytrace replay: $D/p.py: not a record file (written with output_mode = \"record\"?)"
}

@test "a source file changed since it was traced: replay says so once, and shows it as it is" {
	marks 3 >"$D/p.py"
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT_MODE=record PYTRACE_OUTPUT=$D/r "$PYTHON" "$D/p.py"
	replays "$D/r"
	assert_line "$D/p.py(3):     return i"
	sed -i 's/return i/return i  # edited/' "$D/p.py"
	run --separate-stderr "$REPLAY" "$D/r"
	assert_success
	assert_equal "$stderr" "pytrace replay: warning: $D/p.py has changed since it was traced; its lines are shown as they are now"
	assert_line "$D/p.py(3):     return i  # edited"
}

@test "output_mode: record to stderr, or an unknown mode, is one message and the program runs untraced" {
	marks 2 >"$D/p.py"
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT_MODE=record "$PYTHON" "$D/p.py"
	assert_success
	assert_output ""
	assert_regex "$stderr" '^pytrace\[[0-9]+\]: PYTRACE_OUTPUT_MODE: output_mode "record" writes binary records: set output to a file, not stderr; not tracing$'
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT_MODE=binary PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/p.py"
	assert_success
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: PYTRACE_OUTPUT_MODE: 'binary' is not an output mode \(use \"text\" or \"record\"\); not tracing$"
	assert_file_not_exists "$D/t"
}

@test "notices: replay prints each at its place, as text mode writes it; summary skips them" {
	local v own tools init
	v=$("$PYTHON" -c 'import sys; print("%d%02d" % sys.version_info[:2])')
	own="# pytrace[PID]: the program set its own trace function (sys.settrace: a debugger, coverage?); pytrace no longer traces that thread"
	tools="# pytrace[PID]: every sys.monitoring tool id is in use; tracing with PyEval_SetTrace instead"
	init="# pytrace[PID]: start = \"init\" needs Python 3.8 or newer (audit hooks); tracing from the main program"
	printf 'import sys\ndef f():\n    return 1\nf()\nsys.settrace(lambda *a: None)\nf()\n' >"$D/p.py"
	# A notice on every version: before 3.8 start = "init", said before
	# the output opens; on 3.8-3.11 the program's own trace function,
	# where it sets it; on 3.12+ the sys.monitoring tool ids all taken
	# (before the output opens), then the program's own trace function.
	mkdir "$D/site"
	local start=main want
	if [ "$v" -lt 308 ]; then
		start=init want=$init
	elif [ "$v" -le 311 ]; then
		want=$own
	else
		printf 'import sys\nfor i in range(6):\n    sys.monitoring.use_tool_id(i, "other%%d" %% i)\n' >"$D/site/sitecustomize.py"
		want="$tools
$own"
	fi
	PYTHONPATH=$D/site PYTRACE_START=$start both n "$PYTHON" "$D/p.py" 2>"$D/both.err"
	assert_equal "$(cat "$D/both.err")" ""
	assert_equal "$(notices "$D/n.txt")" "$want"
	if [ "$v" -lt 308 ] || [ "$v" -ge 312 ]; then
		assert_equal "$(notices "$D/n.txt" | head -n 1)" "$(head -n 1 "$D/n.txt" | sed 's/^# pytrace\[[0-9]*\]/# pytrace[PID]/')"
	fi
	if [ "$v" -ge 308 ]; then
		assert_equal "$(grep -A1 "^$D/p.py(5)" "$D/n.txt" | sed -n '2s/^# pytrace\[[0-9]*\]/# pytrace[PID]/p')" "$own"
	fi
	replays "$D/n.rec"
	# replayed, each notice where text mode wrote it (the pids differ)
	local pids='s/^# pytrace\[[0-9]*\]/# pytrace[PID]/'
	assert_equal "$(sed "$pids" "$D/replayed")" "$(sed "$pids" "$D/n.txt")"
	assert_equal "$(grep -c '^# pytrace\[' "$D/replayed")" "$(printf '%s\n' "$want" | wc -l)"
	# summary: the same on both, with no notice counted
	run "$PT_ROOT/pytrace" summary "$D/n.txt"
	assert_success
	local text=$output
	refute_output --partial "pytrace["
	run "$PT_ROOT/pytrace" summary "$D/n.rec"
	assert_success
	assert_equal "$output" "$text"
	assert_line --regexp "^ +[0-9]+ $D/p.py\$"
}
