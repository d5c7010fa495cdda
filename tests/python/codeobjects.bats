# SPDX-License-Identifier: MIT
# Code objects live and die as they would untraced (3.7+): pytrace's
# per-code cache holds no reference to them.  A program that drops code
# gets it freed, weak references and its own extra slot's free function
# see it go, memory does not grow with generated code, and code created
# later at a freed one's address is decided afresh.  On 2.7 and 3.6 the
# cache holds references (up to 65536 code objects, lifecycle.bats); 3.6
# would hang freeing a code object with extra slots at exit.

load ../helper

setup() {
	D=$BATS_TEST_TMPDIR
	export PYTRACE_IGNORE_DIRS=$(sys_dirs)
}

needs_extra_slots() {
	[ "$(pyver)" -ge 307 ] || skip "extra slots in code objects are used from 3.7 on: the cache holds references"
}

@test "code run traced keeps its reference count, and is freed once the program drops it" {
	needs_extra_slots
	printf 'def f():\n    return 1\nf()\n' >"$D/m.py"
	cat >"$D/drop.py" <<-'PY'
	import gc, sys, weakref
	def read(p):  # closed: a debug build warns of an unclosed file
	    with open(p) as f:
	        return f.read()
	path = sys.argv[1]
	co = compile(read(path), path, "exec")
	before = sys.getrefcount(co)
	g = {"__file__": path, "__name__": "m"}
	exec(co, g)
	inner = g["f"].__code__
	after = sys.getrefcount(co)
	refs = [weakref.ref(co), weakref.ref(inner)]
	del co, inner, g
	gc.collect()
	print("%d %d %s" % (before, after, [r() is None for r in refs]))
	PY
	run "$PYTHON" "$D/drop.py" "$D/m.py"
	assert_success
	local plain=$output
	[[ $plain =~ ^([0-9]+)\ ([0-9]+)\ \[True,\ True\]$ ]]
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/drop.py" "$D/m.py"
	assert_success
	assert_output "$plain"
	# it did run traced
	assert_file_contains "$D/t" "^$D/m.py(2):     return 1\$"
}

@test "generated code: 20000 namedtuple() classes grow peak memory traced about as much as untraced" {
	needs_extra_slots
	local n=20000
	cat >"$D/nt.py" <<-'PY'
	import collections, gc, resource, sys
	def rss():
	    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
	def make(n):
	    for i in range(n):
	        T = collections.namedtuple("T%d" % i, "a b c")
	        T(1, 2, 3)
	make(200)
	gc.collect()
	start = rss()
	make(int(sys.argv[1]))
	print(rss() - start)
	PY
	local plain traced
	plain=$("$PYTHON" "$D/nt.py" $n)
	traced=$(LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/nt.py" $n)
	# growth in KiB: no more than 4 MiB beyond the untraced growth
	[ "$traced" -le $((plain + 4096)) ] ||
		fail "peak RSS grew by $traced KiB traced, $plain KiB untraced"
	run grep -c "^$D/nt.py(7):         T(1, 2, 3)\$" "$D/t"
	assert_output $((n + 200))
}

@test "a program's own extra slot in code objects: its free function runs when the code dies" {
	needs_extra_slots
	printf 'def f():\n    return 1\nf()\n' >"$D/m.py"
	cat >"$D/extra.py" <<-'PY'
	import ctypes, gc, os, sys
	def read(p):
	    with open(p) as f:
	        return f.read()
	api = ctypes.pythonapi
	new = sys.version_info >= (3, 12)
	req = getattr(api, "PyUnstable_Eval_RequestCodeExtraIndex" if new else "_PyEval_RequestCodeExtraIndex")
	setx = getattr(api, "PyUnstable_Code_SetExtra" if new else "_PyCode_SetExtra")
	FREE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
	freed = []
	def on_free(p):
	    if p:
	        freed.append(p)
	free = FREE(on_free)
	req.argtypes, req.restype = [FREE], ctypes.c_ssize_t
	setx.argtypes = [ctypes.py_object, ctypes.c_ssize_t, ctypes.c_void_p]
	index = req(free)
	path = sys.argv[1]
	co = compile(read(path), path, "exec")
	assert index >= 0 and setx(co, index, 1234) == 0
	exec(co, {"__file__": path, "__name__": "m"})
	del co
	gc.collect()
	print(freed)
	# The free function is called for every code object that has extra
	# slots, with NULL where it set none, its own code's too: a Python
	# one cannot outlive the interpreter's finalisation.
	sys.stdout.flush()
	os._exit(0)
	PY
	run "$PYTHON" "$D/extra.py" "$D/m.py"
	assert_success
	assert_output "[1234]"
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/extra.py" "$D/m.py"
	assert_success
	assert_output "[1234]"
	assert_file_contains "$D/t" "^$D/m.py(2):     return 1\$"
}

@test "code created at a freed code object's address is decided afresh: traced, ignored, traced" {
	needs_extra_slots
	printf 'x = 1\ny = 2\n' >"$D/a.py"
	printf 'x = 3\ny = 4\n' >"$D/b.py"
	printf 'x = 5\ny = 6\n' >"$D/c.py"
	cat >"$D/reuse.py" <<-'PY'
	import sys
	def read(p):
	    with open(p) as f:
	        return f.read()
	n = int(sys.argv[1])
	paths = sys.argv[2:]
	src = dict((p, read(p)) for p in paths)
	ids = set()
	for i in range(n):
	    for p in paths:
	        co = compile(src[p], p, "exec")
	        ids.add(id(co))
	        # b.py runs without __file__: ignored
	        exec(co, {"__file__": p} if not p.endswith("b.py") else {})
	        del co
	print(len(ids) < n * len(paths))
	PY
	local m
	for m in text record; do
		run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT_MODE=$m PYTRACE_OUTPUT="$D/t.$m" \
			"$PYTHON" "$D/reuse.py" 2000 "$D/a.py" "$D/b.py" "$D/c.py"
		assert_success
		assert_output True	# addresses were reused
	done
	"$PT_ROOT/pytrace" replay "$D/t.record" >"$D/t.replayed"
	cmp "$D/t.text" "$D/t.replayed"
	run grep -c "^$D/a.py(2): y = 2\$" "$D/t.text"
	assert_output 2000
	run grep -c "^$D/c.py(2): y = 6\$" "$D/t.text"
	assert_output 2000
	run grep -c "^$D/[abc].py(" "$D/t.text"
	assert_output 8000
}

@test "a trace function only the thread state holds is freed at exit, traced, without a hang" {
	# 3.6 would hang here with extra slots in code objects (see pyapi.c)
	cat >"$D/exit.py" <<-'PY'
	import sys
	def f():
	    return 1
	f()
	sys.settrace(lambda *a: None)
	f()
	print("done")
	PY
	run --separate-stderr timeout 20 env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t" "$PYTHON" "$D/exit.py"
	assert_success
	assert_output done
	assert_file_contains "$D/t" "^$D/exit.py(3):     return 1\$"
}
