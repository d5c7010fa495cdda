# SPDX-License-Identifier: MIT
# The C unit tests of the parts that need no Python (tests/unit/unit.c);
# and pytrace replay and summary on scope entries, in record files the
# unit binary writes through record.c (`unit records`) and in text traces.

load helper

setup() {
	D=$BATS_TEST_TMPDIR
	UNIT=$PT_ROOT/tests/unit/unit
}

@test "C unit tests: paths, settings, ignore rules, output pattern, source lines" {
	run "$UNIT"
	assert_success
	assert_line --regexp '^unit: [0-9]+ passed, 0 failed$'
}

# util_py: $D/app/util.py, a module with a class and a function.
util_py() {
	mkdir -p "$D/app"
	printf '%s\n' 'import os' \
		'class Connector:' \
		'    def connect_volume(self, props):' \
		'        path = props["path"]' \
		'        return check(path)' \
		'def check(path):' \
		'    return os.path.exists(path)' >"$D/app/util.py"
}

@test "replay: SCOPE records are the entry lines, at their place, with their thread" {
	util_py
	local u=$D/app/util.py
	printf '%s\n' 'thread 4242' 'scope app.util Connector.connect_volume' \
		"line $u 4 5 7" 'thread 4243' 'scope app.util check' "line $u 7" \
		'thread 4242' "line $u 5" 'scope app.util Connector.connect_volume' \
		"line $u 4" | "$UNIT" records "$D/r"
	run --separate-stderr "$PT_ROOT/pytrace" replay "$D/r"
	assert_success
	assert_equal "$stderr" ""
	assert_output " === scope: app.util:Connector.connect_volume (thread 4242)
$u(4):         path = props[\"path\"]
$u(5):         return check(path)
$u(7):     return os.path.exists(path)
 === scope: app.util:check (thread 4243)
$u(7):     return os.path.exists(path)
$u(5):         return check(path)
 === scope: app.util:Connector.connect_volume (thread 4242)
$u(4):         path = props[\"path\"]"
	# with the thread in the format: TID records and SCOPE records agree
	printf '%s\n' 'thread 4242' 'scope app.util check' "line $u 7" 'thread 4243' \
		"line $u 7" | "$UNIT" records "$D/t" '{tid} {path}({line})'
	run "$PT_ROOT/pytrace" replay "$D/t"
	assert_success
	assert_output " === scope: app.util:check (thread 4242)
4242 $u(7)
4243 $u(7)"
}

# scoped_script U: a script for `unit records`, lines of $D/app/util.py
# (U) in three threads: one line before any entry; thread 4242 enters
# connect_volume, thread 4243 check; thread 4242 goes on; thread 4244,
# which entered no scope (started inside one), runs a line; 4242 enters
# again.
scoped_script() {
	printf '%s\n' 'thread 4242' "line $1 1" \
		'scope app.util Connector.connect_volume' "line $1 4 5" \
		'thread 4243' 'scope app.util check' "line $1 7" \
		'thread 4242' "line $1 7 5" 'thread 4244' "line $1 7" \
		'thread 4242' 'scope app.util Connector.connect_volume' "line $1 4"
}

@test "summary of a record file with thread ids: each scope entry has its own, its thread's lines" {
	util_py
	local u=$D/app/util.py
	scoped_script "$u" | "$UNIT" records "$D/r" '{tid} {path}({line}): {source}'
	run --separate-stderr "$PT_ROOT/pytrace" summary "$D/r"
	assert_success
	assert_equal "$stderr" ""
	assert_output "# runs of consecutive lines per file, in order
      1 $u
# lines per file
      1 $u
# lines per function
      1 $u:<module>
=== scope 1: app.util:Connector.connect_volume (thread 4242), 4 lines
# runs of consecutive lines per file, in order
      4 $u
# lines per file
      4 $u
# lines per function
      3 $u:Connector.connect_volume
      1 $u:check
=== scope 2: app.util:check (thread 4243), 2 lines
# runs of consecutive lines per file, in order
      2 $u
# lines per file
      2 $u
# lines per function
      2 $u:check
=== scope 3: app.util:Connector.connect_volume (thread 4242), 1 line
# runs of consecutive lines per file, in order
      1 $u
# lines per file
      1 $u
# lines per function
      1 $u:Connector.connect_volume"
}

@test "summary of a text trace: lines after an entry line are that entry's, until the next; --no-scopes: as a whole" {
	util_py
	printf 'def exists(p):\n    return True\n' >"$D/app/disk.py"
	local u=$D/app/util.py k=$D/app/disk.py
	printf '%s\n' "$u(1): import os" \
		' === scope: app.util:Connector.connect_volume (thread 11)' \
		"$u(4):         path = props[\"path\"]" \
		' --- modulename: app.util, funcname: check' \
		"$u(5):         return check(path)" \
		"$k(2):     return True" \
		'# pytrace[10]: a notice is not counted' \
		"$u(7):     return os.path.exists(path)" \
		' === scope: app.util:check (thread 12)' \
		"$u(7):     return os.path.exists(path)" \
		"$u(7):     return os.path.exists(path)" >"$D/t"
	run "$PT_ROOT/pytrace" summary "$D/t"
	assert_success
	assert_output "# runs of consecutive lines per file, in order
      1 $u
# lines per file
      1 $u
# lines per function
      1 $u:<module>
=== scope 1: app.util:Connector.connect_volume (thread 11), 4 lines
# runs of consecutive lines per file, in order
      2 $u
      1 $k
      1 $u
# lines per file
      3 $u
      1 $k
# lines per function
      2 $u:Connector.connect_volume
      1 $k:exists
      1 $u:check
=== scope 2: app.util:check (thread 12), 2 lines
# runs of consecutive lines per file, in order
      2 $u
# lines per file
      2 $u
# lines per function
      2 $u:check"
	# --no-scopes: the summary without entries, the runs uniq -c's
	run "$PT_ROOT/pytrace" summary --no-scopes "$D/t"
	assert_success
	assert_output "$("$PT_ROOT/pytrace" summary <(grep -v '^ === scope: ' "$D/t"))"
	assert_equal "$(sed -n '/^# runs/,/^# lines per file/p' <<<"$output" | sed '1d;$d')" \
		"$(grep '^/' "$D/t" | cut -d'(' -f1 | uniq -c)"
	# --include: only the lines of matching files count, in each entry
	run "$PT_ROOT/pytrace" summary --include 'disk' "$D/t"
	assert_success
	assert_line "=== scope 1: app.util:Connector.connect_volume (thread 11), 1 line"
	assert_line "=== scope 2: app.util:check (thread 12), 0 lines"
}

@test "summary of a record file without thread ids: by process and place, as on its text" {
	util_py
	local u=$D/app/util.py
	scoped_script "$u" | "$UNIT" records "$D/r"
	run --separate-stderr "$PT_ROOT/pytrace" summary "$D/r"
	assert_success
	assert_equal "$stderr" ""
	local rec=$output
	run grep '^=== ' <<<"$rec"
	assert_output "=== scope 1: app.util:Connector.connect_volume (thread 4242), 2 lines
=== scope 2: app.util:check (thread 4243), 4 lines
=== scope 3: app.util:Connector.connect_volume (thread 4242), 1 line"
	"$PT_ROOT/pytrace" replay "$D/r" >"$D/t"
	assert_equal "$rec" "$("$PT_ROOT/pytrace" summary "$D/t")"
	assert_equal "$("$PT_ROOT/pytrace" summary --no-scopes "$D/r")" \
		"$("$PT_ROOT/pytrace" summary --no-scopes "$D/t")"
	run "$PT_ROOT/pytrace" summary --no-scopes "$D/r"
	refute_output --partial "==="
	assert_line "      8 $u"
}

@test "summary of a record file two processes share: each process's lines go to its own entries" {
	util_py
	local u=$D/app/util.py
	printf '%s\n' 'thread 4242' 'scope app.util Connector.connect_volume' "line $u 4" \
		'fork' 'thread 5000' 'scope app.util check' "line $u 7" 'exit' \
		"line $u 5" | "$UNIT" records "$D/r"
	run "$PT_ROOT/pytrace" replay "$D/r"
	assert_output --partial " === scope: app.util:check (thread 5000)
$u(7):     return os.path.exists(path)
$u(5):         return check(path)"
	run --separate-stderr "$PT_ROOT/pytrace" summary "$D/r"
	assert_success
	run grep '^=== ' <<<"$output"
	assert_output "=== scope 1: app.util:Connector.connect_volume (thread 4242), 2 lines
=== scope 2: app.util:check (thread 5000), 1 line"
}
