# SPDX-License-Identifier: MIT
# Subinterpreters (Py_NewInterpreter; mod_wsgi runs each application in
# one): their lines are traced like those of the main interpreter, with the
# same rules and into the same output; one with its own GIL (3.12+) is not
# traced, and pytrace says so once; nothing pytrace keeps outlives an
# interpreter that ends.

load ../helper

setup() {
	D=$BATS_TEST_TMPDIR
	read -r PREFIX LIBDIR SONAME VER < <("$PYTHON" -c 'import sys, sysconfig
v = sysconfig.get_config_var
print("%s %s %s %d%02d" % (sys.prefix, v("LIBDIR"), v("INSTSONAME"),
                          sys.version_info[0], sys.version_info[1]))')
	SYS=$(sys_dirs)
}

# host: build the host of tests/fixtures/subinterp.c against $PYTHON's
# shared libpython, or skip where there is none.
host() {
	local libpy=$LIBDIR/$SONAME
	! python_in_chroot ||
		skip "a host built here against a libpython runs on the host, not in the chroot of $PYTHON"
	if [ ! -f "$libpy" ]; then
		[ "${CI:-}" != true ] || fail "$libpy is missing"
		skip "no shared $SONAME for $PYTHON"
	fi
	cc -o "$D/host" "$PT_FIX/subinterp.c" "$libpy" -Wl,-rpath,"$LIBDIR" -ldl
}

# traced_host ARGS...: run the host traced, the app's rules as trace.bats.
traced_host() {
	PYTHONHOME=$PREFIX PYTRACE_OUTPUT=$D/trace \
		PYTRACE_IGNORE_DIRS="$SYS:$APP/ignored" PYTRACE_IGNORE_MODULES=ignmod \
		traced "$D/host" "$@"
}

MAIN0="import sys; sys.path.insert(0, '$APP'); import pkg.sub; print(pkg.sub.double(3))"
SUB0="import sys; sys.path.insert(0, '$APP'); f = '$APP/main.py'
g = {'__name__': '__main__', '__file__': f}
exec(compile(open(f).read(), f, 'exec'), g)"

# The main interpreter imports pkg.sub and calls double(3), a
# subinterpreter runs the app (its own pkg, a thread), the main one
# calls double(4), the subinterpreter work(1), it ends, the main one
# calls double(5): each line once, in that order.
expected_steps() {
	cat <<-EOF
	$APP/pkg/__init__.py(1): """A package whose submodules are traced."""
	$APP/pkg/sub.py(1): FACTOR = 2
	$APP/pkg/sub.py(4): def double(x):
	$APP/pkg/sub.py(5):     return x * FACTOR
	EOF
	expected app.expected
	cat <<-EOF
	$APP/pkg/sub.py(5):     return x * FACTOR
	$APP/main.py(13):     total = 0
	$APP/main.py(14):     for i in range(n):
	$APP/main.py(15):         total += pkg.sub.double(i)
	$APP/pkg/sub.py(5):     return x * FACTOR
	$APP/main.py(14):     for i in range(n):
	$APP/main.py(16):     return total
	$APP/pkg/sub.py(5):     return x * FACTOR
	EOF
}

steps() {
	traced_host "$@" run 0 "$MAIN0" new 1 run 1 "$SUB0" \
		run 0 "print(pkg.sub.double(4))" run 1 "print(g['work'](1))" \
		end 1 run 0 "print(pkg.sub.double(5))"
}

@test "a subinterpreter's lines are traced exactly, between the main interpreter's" {
	host
	run env PYTHONHOME="$PREFIX" "$D/host" run 0 "$MAIN0" new 1 run 1 "$SUB0" \
		run 0 "print(pkg.sub.double(4))" run 1 "print(g['work'](1))" \
		end 1 run 0 "print(pkg.sub.double(5))"
	assert_success
	local plain=$output
	run steps
	assert_success
	assert_equal "$output" "$plain"
	diff -u <(expected_steps) "$D/trace"
}

@test "a subinterpreter created where no wrapper sees it is traced from its audit events (3.8+)" {
	[ "$VER" -ge 308 ] || skip "audit hooks are 3.8+; 2.7-3.7 need the PLT"
	host
	run steps --direct
	assert_success
	diff -u <(expected_steps) "$D/trace"
}

@test "several subinterpreters at once, ended in any order, and new ones after" {
	host
	local line="import sys; sys.path.insert(0, '$APP'); import pkg.sub; pkg.sub.double"
	run traced_host new 1 new 2 run 1 "$line(1)" run 2 "$line(2)" end 1 \
		new 3 run 3 "$line(3)" run 2 "pkg.sub.double(2)" end 2 end 3 \
		new 1 run 1 "$line(1)" end 1 run 0 "$line(0)"
	assert_success
	# four imports of the package (interpreters 1, 2, 3, the new 1) and
	# the main one's, six calls
	assert_equal "$(grep -c 'pkg/__init__.py(1)' "$D/trace")" 5
	assert_equal "$(grep -c 'sub.py(5)' "$D/trace")" 6
}

@test "subinterpreters created and ended in a loop from Python (_testcapi) are traced" {
	"$PYTHON" -c 'import _testcapi; _testcapi.run_in_subinterp' 2>/dev/null ||
		skip "no _testcapi.run_in_subinterp"
	cat >"$D/mod.py" <<-'PY'
	def f(i):
	    return i + 1
	PY
	cat >"$D/loop.py" <<-PY
	import _testcapi
	code = "import sys; sys.path.insert(0, '$D'); import mod; mod.f(1)"
	for i in range(30):
	    assert _testcapi.run_in_subinterp(code) == 0
	print("done")
	PY
	PYTRACE_OUTPUT=$D/trace PYTRACE_IGNORE_DIRS=$SYS run traced "$PYTHON" "$D/loop.py"
	assert_success
	assert_output "done"
	# (a known limit, README: a static interpreter calls its own)
	[ "$VER" -ge 308 ] || ! python_is_static ||
		skip "a static 2.7-3.7: its subinterpreters are found only through the wrapped Py_NewInterpreter, never reached (ran, untraced)"
	assert_equal "$(grep -c "^$D/mod.py(2):     return i + 1\$" "$D/trace")" 30
	assert_equal "$(grep -c "^$D/loop.py(4):" "$D/trace")" 30
}

@test "3.12+: a subinterpreter with its own GIL is not traced, said once; the others are" {
	[ "$VER" -ge 312 ] || skip "per-interpreter GIL is 3.12+"
	host
	local line="import sys; sys.path.insert(0, '$APP'); import pkg.sub; pkg.sub.double"
	run --separate-stderr traced_host new-own 1 run 1 "$line(1)" new-own 2 \
		run 2 "$line(2)" new-shared 3 run 3 "$line(3)" end 1 end 2 end 3 \
		run 0 "$line(0)"
	assert_success
	assert_output "host: done, 0"
	assert_equal "${#stderr_lines[@]}" 1
	[[ "${stderr_lines[0]}" =~ ^pytrace\[[0-9]+\]:\ .*own\ GIL.*not\ traced ]]
	# the shared one's import and call, the main one's
	assert_equal "$(grep -c 'pkg/__init__.py(1)' "$D/trace")" 2
	assert_equal "$(grep -c 'sub.py(5)' "$D/trace")" 2
}

@test "3.12+: the GIL of a subinterpreter no wrapper saw created is told from the interpreter itself" {
	[ "$VER" -ge 312 ] || skip "per-interpreter GIL is 3.12+"
	host
	local line="import sys; sys.path.insert(0, '$APP'); import pkg.sub; pkg.sub.double"
	run --separate-stderr traced_host --direct new-own 1 run 1 "$line(1)" \
		new-shared 2 run 2 "$line(2)" new 3 run 3 "$line(3)" end 1 end 2 end 3 \
		run 0 "$line(0)"
	assert_success
	assert_equal "${#stderr_lines[@]}" 1
	[[ "${stderr_lines[0]}" =~ own\ GIL.*not\ traced ]]
	assert_equal "$(grep -c 'pkg/__init__.py(1)' "$D/trace")" 3
	assert_equal "$(grep -c 'sub.py(5)' "$D/trace")" 3
}

@test "3.12+: code objects of an interpreter with its own allocator do not outlive it in pytrace's cache" {
	[ "$VER" -ge 312 ] || skip "per-interpreter allocators are 3.12+"
	host
	# 70000 code objects run fill the cache past its limit, which then
	# empties: once in the subinterpreter (holding the main one's code
	# objects too), once in the main one after the subinterpreter and its
	# allocator are gone.
	local gen="import sys; sys.path.insert(0, '$APP'); import pkg.sub; pkg.sub.double(1)
for i in range(70000):
    exec(compile('x = %d' % i, '<generated>', 'exec'), {})"
	run traced_host run 0 "$gen" new-ownmem 1 run 1 "$gen" end 1 run 0 "$gen"
	assert_success
	assert_output "host: done, 0"
	assert_equal "$(grep -c 'pkg/__init__.py(1)' "$D/trace")" 2
	assert_equal "$(grep -c 'sub.py(5)' "$D/trace")" 3
}

@test "3.12+: interpreters with their own GIL, created from Python, with threads, beside traced ones" {
	[ "$VER" -ge 312 ] || skip "per-interpreter GIL is 3.12+"
	cp "$PT_FIX/owngil.py" "$D/"
	printf 'def spin(n):\n    t = 0\n    for i in range(n):\n        t += i\n    return t\n' >"$D/mod.py"
	for round in 1 2 3; do
		rm -f "$D/trace"
		PYTRACE_OUTPUT=$D/trace PYTRACE_IGNORE_DIRS=$SYS \
			run --separate-stderr traced "$PYTHON" "$D/owngil.py" "$D"
		assert_success
		assert_output "done"
		assert_equal "${#stderr_lines[@]}" 1
		[[ "${stderr_lines[0]}" =~ own\ GIL.*not\ traced ]]
		# Lines of the main interpreter's threads and of the legacy
		# subinterpreters, whole, and none of the others:
		# 1 + 5 * (3 * (2 * 3000 + 3) + 1 + 2 * 100 + 3)
		assert_equal "$(grep -c "^$D/mod.py(" "$D/trace")" 91066
		refute grep -v "^$D/mod.py([1-5]): \|^$D/owngil.py(" "$D/trace"
	done
}

@test "3.14+: concurrent.interpreters: its interpreters (own GIL) run untraced, said once; the main one is traced" {
	[ "$VER" -ge 314 ] || skip "concurrent.interpreters is 3.14+"
	printf 'def double(x):\n    return 2 * x\n' >"$D/mod.py"
	cat >"$D/ci.py" <<-PY
	import sys
	from concurrent import interpreters
	sys.path.insert(0, "$D")
	import mod
	mod.double(1)
	for i in range(3):
	    interp = interpreters.create()
	    interp.exec("import sys; sys.path.insert(0, '$D'); import mod; mod.double(2)")
	    r = interp.call(len, "abc")
	    interp.close()
	print("done", r)
	PY
	PYTRACE_OUTPUT=$D/trace PYTRACE_IGNORE_DIRS=$SYS \
		run --separate-stderr traced "$PYTHON" "$D/ci.py"
	assert_success
	assert_output "done 3"
	assert_equal "${#stderr_lines[@]}" 1
	[[ "${stderr_lines[0]}" =~ ^pytrace\[[0-9]+\]:\ .*own\ GIL.*not\ traced ]]
	assert_equal "$(grep -c "^$D/mod.py(2):     return 2 \* x\$" "$D/trace")" 1
	assert_equal "$(grep -c "^$D/ci.py(11): print(\"done\", r)\$" "$D/trace")" 1
}
