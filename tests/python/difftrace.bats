# SPDX-License-Identifier: MIT
# pytrace against the reference users trust today, the interpreter's own
# trace.py: on the same program with the same ignore rules, both must report
# the same executed lines (path and line number; the source text is
# trace.bats's concern) in the same order.  Each known difference is a
# numbered rule below, as a comment and as code.

load ../helper

# setup: REF is the interpreter's trace.py (read by the interpreter, whose
# files may be in a chroot) with the change users make (full
# paths instead of basenames) and the fix of rule 2; OUT and TRACE are the
# outputs of trace.py and pytrace; app and tmp are $APP and the test's
# directory by their real paths.
setup() {
	SYS=$(sys_dirs)
	REF=$BATS_TEST_TMPDIR/trace.py
	OUT=$BATS_TEST_TMPDIR/ref.out
	TRACE=$BATS_TEST_TMPDIR/trace
	# Rule 1: trace.py sets sys.path[0] to the script's directory as given,
	# CPython to its real path, so imported files are named differently when
	# that path holds a symlink: scripts are given by their real path.
	app=$(cd "$APP" && pwd -P)
	tmp=$(cd "$BATS_TEST_TMPDIR" && pwd -P)
	# Rule 2: trace.py caches its ignore decision under the file's basename,
	# so a file gets the decision of the first file with the same basename:
	# with Debian's python3.11 pkg/__init__.py inherits "ignored" from
	# dist-packages/_distutils_hack/__init__.py, elsewhere ignmod/__init__.py
	# inherits "traced" from pkg/__init__.py.  Key the cache by full path.
	sed -e 's/bname = os.path.basename(filename)/bname = filename/' \
		-e 's/if modulename in self\._ignore:/if filename in self._ignore:/' \
		-e 's/self\._ignore\[modulename\]/self._ignore[filename]/' \
		<<<"$("$PYTHON" -c 'import sys, trace; sys.stdout.write(open(trace.__file__.rstrip("co")).read())')" >"$REF"
	run grep -c 'basename(filename)\|modulename in self._ignore\|self._ignore\[modulename\]' "$REF"
	assert_output 0
	run grep -c 'bname = filename$' "$REF"
	refute_output 0
	run grep -c 'if filename in self._ignore:$' "$REF"
	assert_output 1
}

# ref_records: "path(line)" of each record in trace.py's output, matched
# anywhere, not per line: before 3.13 a line without source gets no newline,
# so records share a line; rule 3: 3.13 prints "path(line)" and ": source"
# in separate writes, so another thread's record can come in between.  A
# record is followed by ": ", the end of the line or another record;
# " --- modulename:" lines and the program's own output never match.
# Rule 5: 2.7 and 3.6's trace.py stop tracing by calling a function of its
# own, _unsettrace(), whose first line it traces: records of the trace.py
# copy itself are dropped.
ref_records() {
	grep -oP '(/[^()]*|<[^>]*>)\(\d+\)(?=: |$|/|<)' "$OUT" | grep -vF "$REF("
}

# pt_records: the same for pytrace, which writes one record per line; a line
# that is not a record is kept whole, so that it shows in the diff.
pt_records() {
	sed -E 's/^((\/|<)[^()]*\([0-9]+\)): .*/\1/' "$TRACE"
}

@test "the example program: trace.py and pytrace report the same lines" {
	# Rule 4: trace.py matches --ignore-module against file basenames, so it
	# cannot ignore the package ignmod by name; its directory is ignored.
	"$PYTHON" "$REF" -t --ignore-dir="$SYS:$app/ignored:$app/ignmod" \
		--ignore-module=ignmod "$app/main.py" >"$OUT"
	PYTRACE_OUTPUT=$TRACE PYTRACE_IGNORE_DIRS="$SYS:$app/ignored" \
		PYTRACE_IGNORE_MODULES=ignmod traced "$PYTHON" "$app/main.py" >/dev/null
	# trace.py did trace the thread and the callback from ignored code.
	run ref_records
	assert_line "$app/main.py(20)"
	assert_line "$app/pkg/callbacks.py(2)"
	diff -u <(ref_records) <(pt_records)
}

@test "ignore directories are prefixes of whole path components, as in trace.py" {
	local x=$tmp/prog
	mkdir -p "$x/pk" "$x/pkg"
	printf 'import pk.a\nimport pkg.b\nimport mod\npk.a.f()\npkg.b.f()\nmod.f()\n' >"$x/main.py"
	printf '"""pk"""\n' >"$x/pk/__init__.py"
	printf '"""pkg"""\n' >"$x/pkg/__init__.py"
	printf 'def f():\n    return 1\n' | tee "$x/pk/a.py" "$x/pkg/b.py" >"$x/mod.py"
	# $x/pk/ (trailing slash) covers pk/ but not pkg/; $x/mod not mod.py.
	"$PYTHON" "$REF" -t --ignore-dir="$SYS:$x/pk/:$x/mod" "$x/main.py" >"$OUT"
	PYTRACE_OUTPUT=$TRACE PYTRACE_IGNORE_DIRS="$SYS:$x/pk/:$x/mod" \
		traced "$PYTHON" "$x/main.py"
	run ref_records
	assert_line "$x/pkg/__init__.py(1)"
	assert_line "$x/mod.py(2)"
	refute_line --partial "$x/pk/"
	diff -u <(ref_records) <(pt_records)
}

@test "traced and ignored frames interleave: callbacks, generators, exceptions, nesting" {
	# pytrace keeps its trace function set only while traced code runs; each
	# change between traced and ignored code must leave no line out.
	local x=$tmp/mix
	mkdir -p "$x/lib"
	cat >"$x/lib/helper.py" <<-'PY'
	def call_back(fn, x):
	    y = x + 1
	    return fn(y)
	def gen(n):
	    i = 0
	    while i < n:
	        yield i
	        i += 1
	def consume(it):
	    return sum(it)
	def fail():
	    raise ValueError("boom")
	def nest(fn, depth):
	    return fn(depth - 1) if depth else 0
	PY
	cat >"$x/main.py" <<-'PY'
	import sys
	sys.path.insert(0, sys.argv[1])
	import helper
	def cb(v):
	    return v * 2
	def mine(n):
	    for i in range(n):
	        yield i * 10
	def down(d):
	    return 1 + helper.nest(down, d)
	def handled():
	    try:
	        helper.fail()
	    except ValueError:
	        return 100
	total = helper.call_back(cb, 1)
	for v in helper.gen(2):
	    total += v
	total += helper.consume(mine(3))
	total += handled()
	total += down(4)
	print(total)
	PY
	"$PYTHON" "$REF" -t --ignore-dir="$SYS:$x/lib" "$x/main.py" "$x/lib" >"$OUT"
	PYTRACE_OUTPUT=$TRACE PYTRACE_IGNORE_DIRS="$SYS:$x/lib" \
		traced "$PYTHON" "$x/main.py" "$x/lib" >/dev/null
	run ref_records
	assert_line "$x/main.py(5)"
	assert_line "$x/main.py(8)"
	assert_line "$x/main.py(15)"
	diff -u <(ref_records) <(pt_records)
	run grep -c "^$x/main.py(10): " "$TRACE"
	assert_output 5
}
