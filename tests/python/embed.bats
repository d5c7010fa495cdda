# SPDX-License-Identifier: MIT
# A host that embeds Python (Py_Initialize + PyRun_SimpleString, no
# cpython.run_* event) is traced from the moment its initialisation returns.

load ../helper

setup() {
	D=$BATS_TEST_TMPDIR
	read -r PREFIX LIBDIR SONAME < <("$PYTHON" -c 'import sys, sysconfig
v = sysconfig.get_config_var
print("%s %s %s" % (sys.prefix, v("LIBDIR"), v("INSTSONAME")))')
	LIBPY=$LIBDIR/$SONAME
	! python_in_chroot ||
		skip "a host built here against a libpython runs on the host, not in the chroot of $PYTHON"
	if [ ! -f "$LIBPY" ]; then
		[ "${CI:-}" != true ] || fail "$LIBPY is missing"
		skip "no shared $SONAME for $PYTHON"
	fi
	cc -o "$D/embed" "$PT_FIX/embed.c" "$LIBPY" -Wl,-rpath,"$LIBDIR"
}

@test "an embedding host's Python code is traced; the host's output is unchanged" {
	local code="import sys; sys.path.insert(0, '$APP'); import pkg.sub; print(pkg.sub.double(3))"
	run env PYTHONHOME="$PREFIX" "$D/embed" "$code"
	assert_success
	local plain=$output
	run env PYTHONHOME="$PREFIX" LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/%n.trace" \
		PYTRACE_IGNORE_DIRS="$(sys_dirs)" "$D/embed" "$code"
	assert_success
	assert_equal "$output" "$plain"
	assert_output "6
host: done, 0"
	assert_equal "$(cat "$D/embed.trace")" "$APP/pkg/__init__.py(1): \"\"\"A package whose submodules are traced.\"\"\"
$APP/pkg/sub.py(1): FACTOR = 2
$APP/pkg/sub.py(4): def double(x):
$APP/pkg/sub.py(5):     return x * FACTOR"
}

@test "an embedding host with PYTRACE_ENABLE=0 is left alone" {
	run env PYTHONHOME="$PREFIX" LD_PRELOAD="$PT_LIB" PYTRACE_ENABLE=0 \
		PYTRACE_OUTPUT="$D/t" "$D/embed" "print(1)"
	assert_success
	assert_output "1
host: done, 0"
	assert_file_not_exists "$D/t"
}
