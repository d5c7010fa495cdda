# SPDX-License-Identifier: MIT
# The configuration file (PYTRACE_CONF, libconfig syntax), its precedence
# with the environment, pytrace-check, and every kind of bad input: one
# message naming the file and line, and the program runs as if untraced.

load helper

setup() {
	D=$BATS_TEST_TMPDIR
	PY=/usr/bin/python3.11
	[ -x "$PY" ] || PY=$(command -v python3)
	CHECK=$PT_ROOT/pytrace-check
	printf 'import os\ndef f(x):\n    return x + 1\nprint(f(1))\n' >"$D/prog.py"
	SYS=$(PYTHON=$PY sys_dirs)
}

# conf TEXT: write TEXT to $D/c.conf
conf() {
	printf '%s\n' "$@" >"$D/c.conf"
}

# untraced_run: run prog.py with PYTRACE_CONF=$D/c.conf; it must behave as
# untraced (output "2", status 0) and write no trace.
untraced_run() {
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_CONF="$D/c.conf" "$PY" "$D/prog.py"
	assert_success
	assert_output "2"
	assert_file_not_exists "$D/t"
}

@test "settings from the file take effect" {
	conf "# a comment" \
		"output = \"$D/%n.trace\";" \
		"ignore_dirs = [\"$SYS\"];" \
		'ignore_modules = ["os"];'
	sed -i "s|\[\"$SYS\"\]|[$(echo "\"$SYS\"" | sed 's/:/", "/g')]|" "$D/c.conf"
	PYTRACE_CONF=$D/c.conf traced "$PY" "$D/prog.py"
	assert_equal "$(cat "$D/prog.py.trace")" "$D/prog.py(1): import os
$D/prog.py(2): def f(x):
$D/prog.py(4): print(f(1))
$D/prog.py(3):     return x + 1"
}

@test "enabled = false in the file keeps the process untraced" {
	conf 'enabled = false;' "output = \"$D/t\";"
	untraced_run
	assert_equal "$stderr" ""
}

@test "the environment overrides the file; pytrace-check says where each value came from" {
	conf "output = \"$D/file.trace\";" \
		'ignore_modules = ["os", "six"];'
	run env PYTRACE_CONF="$D/c.conf" PYTRACE_IGNORE_MODULES=json,re "$CHECK"
	assert_success
	assert_line "# configuration file: $D/c.conf"
	assert_line --regexp "^enabled = true; +# default$"
	assert_line --regexp "^output = \"$D/file.trace\"; +# $D/c.conf:1$"
	assert_line --regexp "^ignore_modules = \[\"json\", \"re\"\]; +# PYTRACE_IGNORE_MODULES$"
	PYTRACE_CONF=$D/c.conf PYTRACE_OUTPUT=$D/env.trace traced "$PY" "$D/prog.py"
	assert_file_exists "$D/env.trace"
	assert_file_not_exists "$D/file.trace"
}

@test "PYTRACE_ENABLE (the older name) and PYTRACE_ENABLED both switch tracing" {
	run env LD_PRELOAD="$PT_LIB" PYTRACE_ENABLED=0 PYTRACE_OUTPUT="$D/t" "$PY" "$D/prog.py"
	assert_file_not_exists "$D/t"
	run env PYTRACE_ENABLE=no "$CHECK"
	assert_line --regexp "^enabled = false; +# PYTRACE_ENABLE$"
}

@test "without PYTRACE_CONF, SYSCONFDIR/pytrace.conf is read when it exists" {
	mkdir "$D/etc"
	cc -std=c11 -D_GNU_SOURCE -I"$PT_ROOT/shim/common" -DPYTRACE_SYSCONFDIR="\"$D/etc\"" \
		-o "$D/check" "$PT_ROOT"/shim/tools/check.c \
		"$PT_ROOT"/shim/common/{conf,settings,rules,path,pattern,scope,source,log,format,program}.c -ldl -lpthread
	run "$D/check"
	assert_success
	assert_line "# configuration file: none"
	echo 'output = "/var/log/x.trace";' >"$D/etc/pytrace.conf"
	run "$D/check"
	assert_success
	assert_line "# configuration file: $D/etc/pytrace.conf"
	assert_line --regexp "^output = \"/var/log/x.trace\"; +# $D/etc/pytrace.conf:1$"
}

@test "an unknown setting: file, line, and the name meant" {
	conf "output = \"$D/t\";" 'ignore_dir = ["/usr"];'
	untraced_run
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: $D/c.conf:2: unknown setting 'ignore_dir' \(did you mean 'ignore_dirs'\?\); not tracing$"
	run "$CHECK" "$D/c.conf"
	assert_failure
	assert_line "# errors: a traced process would run untraced"
}

@test "a syntax error: file and line" {
	conf "output = \"$D/t\";" 'ignore_dirs = ["/usr",;'
	untraced_run
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: $D/c.conf:2: syntax error; not tracing$"
}

@test "a value of the wrong type, a list item of the wrong type" {
	conf 'enabled = 1;' 'ignore_modules = "os";' 'ignore_dirs = ("/usr", 3);' 'output = ["x"];'
	untraced_run
	assert_equal "$stderr" "$(printf '%s\n' \
		"c.conf:1: 'enabled' is an integer, expected a boolean (true or false); not tracing" \
		"c.conf:2: 'ignore_modules' is a string, expected a list of strings, [\"a\", \"b\"]; not tracing" \
		"c.conf:3: 'ignore_dirs' item 2 is an integer, expected a string; not tracing" \
		"c.conf:4: 'output' is a list, expected a string; not tracing" |
		sed "s|^|pytrace[$(echo "$stderr" | head -n 1 | sed 's/^pytrace\[\([0-9]*\)\].*/\1/')]: $D/|")"
}

@test "a value its setting refuses: file, line, setting and why" {
	conf "output = \"$D/t.%x\";"
	untraced_run
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: $D/c.conf:1: output: unknown '%x' in '$D/t.%x' \(use %p, %n, %h, %t, %%\); not tracing$"
	conf "output = \"$D/t\";" 'ignore_modules = ["os", "not a name"];'
	untraced_run
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: $D/c.conf:2: ignore_modules: 'not a name' is not a dotted module name; not tracing$"
}

@test "a missing or unreadable file is one message; the program runs untraced" {
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_CONF="$D/none.conf" PYTRACE_OUTPUT="$D/t" "$PY" "$D/prog.py"
	assert_success
	assert_output "2"
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: $D/none.conf: cannot read the configuration: No such file or directory; not tracing$"
	assert_file_not_exists "$D/t"
	run "$CHECK" "$D/none.conf"
	assert_failure
}

@test "a bad environment value overrides nothing and stops tracing" {
	conf "output = \"$D/t\";"
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_CONF="$D/c.conf" PYTRACE_ENABLED=perhaps "$PY" "$D/prog.py"
	assert_success
	assert_output "2"
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: PYTRACE_ENABLED: 'perhaps' is not a boolean \(use true or false\); not tracing$"
	assert_file_not_exists "$D/t"
}

@test "non-Python programs never read the file: no message even when it is broken" {
	conf 'this is not a configuration'
	run env LD_PRELOAD="$PT_LIB" PYTRACE_CONF="$D/c.conf" bash -c 'echo hi'
	assert_success
	assert_output "hi"
}

@test "libconfig is mapped only into processes that read a file" {
	printf 'import sys\nprint(any("libconfig" in l for l in open("/proc/self/maps")))\n' >"$D/maps.py"
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t1" "$PY" "$D/maps.py"
	assert_output "False"
	conf "output = \"$D/t2\";"
	run env LD_PRELOAD="$PT_LIB" PYTRACE_CONF="$D/c.conf" "$PY" "$D/maps.py"
	assert_output "True"
}

@test "messages also go to syslog" {
	# a private /dev for the traced process, whose log socket the test reads
	syslog_listen
	conf 'ignore_dir = [];'
	run in_private_dev "LD_PRELOAD='$PT_LIB' PYTRACE_CONF='$D/c.conf' '$PY' '$D/prog.py'"
	assert_success
	assert_output --partial "2"
	wait "$SYSLOG_PID"
	run cat "$D/syslog"
	assert_output --regexp "^<12>pytrace\[[0-9]+\]: $D/c.conf:1: unknown setting 'ignore_dir' \(did you mean 'ignore_dirs'\?\); not tracing$"
}

@test "include: only files whose path matches are written, with and without ignore rules" {
	PYTRACE_OUTPUT=$D/a PYTRACE_INCLUDE='/pkg/(sub|callbacks)\.py$' traced "$PY" "$APP/main.py" >/dev/null
	run bash -c "cut -d'(' -f1 '$D/a' | sort -u"
	assert_output "$APP/pkg/callbacks.py
$APP/pkg/sub.py"
	# a file both included and ignored is ignored
	PYTRACE_OUTPUT=$D/b PYTRACE_INCLUDE='/pkg/,/main\.py$' PYTRACE_IGNORE_MODULES=pkg.sub \
		traced "$PY" "$APP/main.py" >/dev/null
	run bash -c "cut -d'(' -f1 '$D/b' | sort -u"
	assert_output "$APP/main.py
$APP/pkg/__init__.py
$APP/pkg/callbacks.py"
	# the same from the file, where a pattern may hold a comma
	conf "output = \"$D/c\";" 'include = ["/pkg/(sub|callbacks){1,2}\\.py$"];'
	PYTRACE_CONF=$D/c.conf traced "$PY" "$APP/main.py" >/dev/null
	run bash -c "cut -d'(' -f1 '$D/c' | sort -u"
	assert_output "$APP/pkg/callbacks.py
$APP/pkg/sub.py"
}

@test "include: a bad regular expression is one message naming it" {
	conf "output = \"$D/t\";" 'include = ["/ok/", "(unclosed"];'
	untraced_run
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: $D/c.conf:2: include: bad regular expression '\(unclosed': .+; not tracing$"
}

@test "max_size and keep: the file is rotated at whole lines, keep files kept" {
	printf 'for i in range(3000):\n    x = i\n' >"$D/loop.py"
	PYTRACE_MAX_SIZE=16K PYTRACE_KEEP=2 PYTRACE_OUTPUT=$D/r traced "$PY" "$D/loop.py"
	run ls "$D"
	assert_line r
	assert_line r.1
	assert_line r.2
	refute_line r.3
	for f in r r.1 r.2; do
		[ "$(stat -c %s "$D/$f")" -le 16384 ]
		# every line whole
		run grep -cvE "^$D/loop.py\([12]\): " "$D/$f"
		assert_output 0
	done
	# the newest lines are in r: the loop's last line is its last
	assert_equal "$(tail -n 1 "$D/r")" "$D/loop.py(1): for i in range(3000):"
	# keep = 0: the file is started anew, nothing kept
	rm -f "$D"/r*
	PYTRACE_MAX_SIZE=16K PYTRACE_KEEP=0 PYTRACE_OUTPUT=$D/r traced "$PY" "$D/loop.py"
	run ls "$D"
	assert_line r
	refute_line r.1
}

@test "max_size, keep, flush_interval: sizes and numbers from the file and the environment" {
	conf 'max_size = "100M";' 'keep = 5;' 'flush_interval = 250;'
	run env PYTRACE_CONF="$D/c.conf" PYTRACE_KEEP=7 "$CHECK"
	assert_success
	assert_line --regexp "^max_size = 104857600; +# $D/c.conf:1$"
	assert_line --regexp "^keep = 7; +# PYTRACE_KEEP$"
	assert_line --regexp "^flush_interval = 250; +# $D/c.conf:3$"
	run env PYTRACE_MAX_SIZE=2G "$CHECK"
	assert_line --regexp "^max_size = 2147483648; +# PYTRACE_MAX_SIZE$"
	conf 'max_size = "10 MB";'
	run "$CHECK" "$D/c.conf"
	assert_failure
	run env PYTRACE_FLUSH_INTERVAL=-5 "$CHECK"
	assert_failure
	run --separate-stderr env PYTRACE_MAX_SIZE=100 "$CHECK"
	assert_failure
	assert_regex "$stderr" "PYTRACE_MAX_SIZE: 100 bytes is too small \(use 0 for no rotation, or at least 4K\)$"
}

@test "flush_interval: lines reach the file while the program is idle" {
	printf 'import time\ndef mark():\n    return 1\nmark()\ntime.sleep(4)\n' >"$D/idle.py"
	PYTRACE_FLUSH_INTERVAL=200 PYTRACE_OUTPUT=$D/i traced "$PY" "$D/idle.py" &
	local pid=$!
	sleep 2
	run cat "$D/i"
	assert_line "$D/idle.py(3):     return 1"
	wait "$pid"
	# flush_interval = 0: nothing before the exit
	PYTRACE_FLUSH_INTERVAL=0 PYTRACE_OUTPUT=$D/j traced "$PY" "$D/idle.py" &
	pid=$!
	sleep 2
	assert_file_empty "$D/j"
	wait "$pid"
	assert_file_contains "$D/j" "idle.py(3):     return 1"
}

@test "format: an unknown token or a lone brace is one message naming it" {
	conf "output = \"$D/t\";" 'format = "{path}:{lineno}";'
	untraced_run
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: $D/c.conf:2: format: unknown token '\{lineno\}' in '\{path\}:\{lineno\}' \(use \{path\}, \{line\}, \{source\}, \{module\}, \{function\}, \{pid\}, \{tid\}, \{elapsed\}, \{time\}, \{indent\}\); not tracing$"
	run --separate-stderr env PYTRACE_FORMAT='{path}}' "$CHECK"
	assert_failure
	assert_regex "$stderr" "PYTRACE_FORMAT: lone '\}' in '\{path\}\}' \(write '\}\}'\)$"
}

@test "conf/pytrace.conf documents every setting with its real default" {
	# uncommented, the documented defaults must give the built-in ones
	sed -n 's/^#\([a-z_]* = .*;\)$/\1/p' "$PT_ROOT/conf/pytrace.conf" >"$D/all.conf"
	run env -u PYTRACE_CONF "$CHECK"
	assert_success
	local builtin
	builtin=$(echo "$output" | grep -v '^#' | sed 's/ *#.*//')
	run "$CHECK" "$D/all.conf"
	assert_success
	assert_equal "$(echo "$output" | grep -v '^#' | sed 's/ *#.*//')" "$builtin"
	# and every setting is there
	refute_output --partial "# default"
}

@test "conf/nova-compute.conf and conf/cinder-volume.conf are valid and trace only the service" {
	run "$CHECK" "$PT_ROOT/conf/nova-compute.conf"
	assert_success
	assert_line --regexp '^programs = \["nova-compute"\];'
	run "$CHECK" "$PT_ROOT/conf/cinder-volume.conf"
	assert_success
	assert_line --regexp '^programs = \["cinder-volume"\];'
}

@test "every setting from the file and from the environment, with its origin" {
	conf 'enabled = false;' 'output = "/o/%p";' 'ignore_dirs = ["/a", "/b"];' \
		'ignore_modules = ["m"];' 'include = ["x"];' 'programs = ["p*"];' \
		'max_size = 8192;' 'keep = 1;' 'flush_interval = 20;' \
		'format = "{line}";' 'call_lines = true;' 'start = "init";' \
		'output_mode = "record";' 'scope = ["a.b:C.f", "/srv/x.py:main"];' \
		'scope_depth = 3;' 'scope_lines = false;' 'scope_threads = true;'
	run env PYTRACE_CONF="$D/c.conf" "$CHECK"
	assert_success
	local n=0
	for want in 'enabled = false' 'output = "/o/%p"' 'ignore_dirs = \["/a", "/b"\]' \
		'ignore_modules = \["m"\]' 'include = \["x"\]' 'programs = \["p\*"\]' \
		'max_size = 8192' 'keep = 1' 'flush_interval = 20' 'format = "\{line\}"' \
		'call_lines = true' 'start = "init"' 'output_mode = "record"' \
		'scope = \["a.b:C.f", "/srv/x.py:main"\]' 'scope_depth = 3' \
		'scope_lines = false' 'scope_threads = true'; do
		n=$((n + 1))
		assert_line --regexp "^$want; +# $D/c.conf:$n\$"
	done
	run env PYTRACE_CONF="$D/c.conf" PYTRACE_ENABLED=yes PYTRACE_OUTPUT=stderr \
		PYTRACE_IGNORE_DIRS=/c:/d PYTRACE_IGNORE_MODULES=n,o PYTRACE_INCLUDE=y \
		PYTRACE_PROGRAMS=q PYTRACE_MAX_SIZE=0 PYTRACE_KEEP=9 PYTRACE_FLUSH_INTERVAL=0 \
		PYTRACE_FORMAT='{path}' PYTRACE_CALL_LINES=no PYTRACE_START=main \
		PYTRACE_OUTPUT_MODE=text PYTRACE_SCOPE='nova.*:*.spawn, tool/*.py:main' \
		PYTRACE_SCOPE_DEPTH=0 PYTRACE_SCOPE_LINES=yes PYTRACE_SCOPE_THREADS=no "$CHECK"
	assert_success
	for want in 'enabled = true; +# PYTRACE_ENABLED' 'output = "stderr"; +# PYTRACE_OUTPUT' \
		'ignore_dirs = \["/c", "/d"\]; +# PYTRACE_IGNORE_DIRS' \
		'ignore_modules = \["n", "o"\]; +# PYTRACE_IGNORE_MODULES' \
		'include = \["y"\]; +# PYTRACE_INCLUDE' 'programs = \["q"\]; +# PYTRACE_PROGRAMS' \
		'max_size = 0; +# PYTRACE_MAX_SIZE' 'keep = 9; +# PYTRACE_KEEP' \
		'flush_interval = 0; +# PYTRACE_FLUSH_INTERVAL' 'format = "\{path\}"; +# PYTRACE_FORMAT' \
		'call_lines = false; +# PYTRACE_CALL_LINES' 'start = "main"; +# PYTRACE_START' \
		'output_mode = "text"; +# PYTRACE_OUTPUT_MODE' \
		'scope = \["nova\.\*:\*\.spawn", "tool/\*\.py:main"\]; +# PYTRACE_SCOPE' \
		'scope_depth = 0; +# PYTRACE_SCOPE_DEPTH' 'scope_lines = true; +# PYTRACE_SCOPE_LINES' \
		'scope_threads = false; +# PYTRACE_SCOPE_THREADS'; do
		assert_line --regexp "^$want\$"
	done
	run --separate-stderr env PYTRACE_START=boot "$CHECK"
	assert_failure
	assert_regex "$stderr" "PYTRACE_START: 'boot' is not a start \(use \"main\", \"init\" or \"standby\"\)$"
}

@test "scope: a malformed one in the file is its file, line and why; pytrace check fails on it" {
	conf "output = \"$D/t\";" 'scope = ["app.util:Conn.connect",' '	"nocolon"];'
	untraced_run
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: $D/c.conf:2: scope: 'nocolon' is not a scope: no ':' \(write module:Class.method or /path/file.py:function\); not tracing$"
	run --separate-stderr "$PT_ROOT/pytrace" check "$D/c.conf"
	assert_failure
	assert_line "# errors: a traced process would run untraced"
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: $D/c.conf:2: scope: 'nocolon' is not a scope: no ':'"
	conf 'scope = ["app..util:f"];'
	run --separate-stderr "$PT_ROOT/pytrace" check "$D/c.conf"
	assert_failure
	assert_regex "$stderr" "$D/c.conf:1: scope: 'app..util:f' is not a scope: the module 'app..util' has an empty dotted part$"
}

@test "scope: a malformed one in PYTRACE_SCOPE is named; the program runs untraced" {
	run --separate-stderr env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t" \
		PYTRACE_SCOPE='__main__:f, /srv/:main' "$PY" "$D/prog.py"
	assert_success
	assert_output "2"
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: PYTRACE_SCOPE: '/srv/:main' is not a scope: the path names no file; not tracing$"
	assert_file_not_exists "$D/t"
	run --separate-stderr env PYTRACE_SCOPE='x' "$CHECK"
	assert_failure
	assert_regex "$stderr" "PYTRACE_SCOPE: 'x' is not a scope: no ':' \(write module:Class.method or /path/file.py:function\)$"
}

@test "scope_depth: only a non-negative integer, from the file and the environment" {
	run --separate-stderr env PYTRACE_SCOPE_DEPTH=two "$CHECK"
	assert_failure
	assert_regex "$stderr" "PYTRACE_SCOPE_DEPTH: 'two' is not a non-negative integer$"
	run --separate-stderr env PYTRACE_SCOPE_DEPTH=-1 "$CHECK"
	assert_failure
	assert_regex "$stderr" "PYTRACE_SCOPE_DEPTH: '-1' is not a non-negative integer$"
	conf 'scope_depth = "2";'
	run --separate-stderr "$CHECK" "$D/c.conf"
	assert_failure
	assert_regex "$stderr" "$D/c.conf:1: 'scope_depth' is a string, expected an integer$"
	conf 'scope_depth = 2.5;'
	run --separate-stderr "$CHECK" "$D/c.conf"
	assert_failure
	assert_regex "$stderr" "$D/c.conf:1: 'scope_depth' is a number, expected an integer$"
	run env PYTRACE_SCOPE_DEPTH=12 "$CHECK"
	assert_success
	assert_line --regexp "^scope_depth = 12; +# PYTRACE_SCOPE_DEPTH$"
}
