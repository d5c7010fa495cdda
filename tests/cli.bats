# SPDX-License-Identifier: MIT
# The pytrace command: running a command traced with trace.py's options,
# enable/disable/status of a unit (against a temporary root and a stand-in
# systemctl; the real systemd is in systemd.bats), check, summary and replay.

load helper

setup() {
	D=$BATS_TEST_TMPDIR
	PT=$PT_ROOT/pytrace
	PY=/usr/bin/python3.11
	[ -x "$PY" ] || PY=$(command -v python3)
	SYS=$(PYTHON=$PY sys_dirs)
	printf 'import sys\ndef f(x):\n    return x + 1\nprint(f(1))\n' >"$D/prog.py"
	export PYTRACE_ROOT=$D/root PYTRACE_SYSTEMCTL=$PT_FIX/fake-systemctl
	export FAKE_SYSTEMD=$D/sd
	mkdir -p "$D/root/etc/systemd/system" "$FAKE_SYSTEMD"/{units,env,pid}
	touch "$FAKE_SYSTEMD/units/nova-compute.service"
}

@test "pytrace COMMAND: a script, a console script, python -m, python -c" {
	run "$PT" --ignore-dir "$SYS" -o "$D/a.trace" "$PY" "$D/prog.py"
	assert_success
	assert_output "2"
	assert_equal "$(cat "$D/a.trace")" "$D/prog.py(1): import sys
$D/prog.py(2): def f(x):
$D/prog.py(4): print(f(1))
$D/prog.py(3):     return x + 1"
	# a console script: executable, with a shebang
	printf '#!%s\nimport json\nprint(json.dumps([1]))\n' "$PY" >"$D/tool"
	chmod +x "$D/tool"
	run "$PT" --ignore-dir "$SYS" -o "$D/%n.trace" "$D/tool"
	assert_success
	assert_output "[1]"
	assert_equal "$(cat "$D/tool.trace")" "$D/tool(2): import json
$D/tool(3): print(json.dumps([1]))"
	# a script that is not executable runs with python3
	run "$PT" -o "$D/b.trace" --ignore-dir "$SYS" "$D/prog.py"
	assert_success
	assert_file_contains "$D/b.trace" "prog.py(3):     return x + 1"
	cd "$APP"
	run "$PT" --ignore-dir "$SYS" -o "$D/m.trace" -- "$PY" -m pkg.sub
	assert_success
	assert_file_contains "$D/m.trace" "^$APP/pkg/sub.py(4): def double(x):\$"
	run "$PT" --ignore-dir "$SYS" -o "$D/c.trace" "$PY" -c 'import pkg.sub; pkg.sub.double(1)'
	assert_success
	assert_file_contains "$D/c.trace" "^$APP/pkg/sub.py(5):     return x \* FACTOR\$"
}

@test "pytrace options: ignore-dir/module (repeatable), include, -g, format, call-lines, conf" {
	cd "$APP"
	"$PT" --ignore-dir "$SYS" --ignore-dir "$APP/ignored:/nonexistent" --ignore-module ignmod \
		--ignore-module=pkg.callbacks -o "$D/t" "$PY" main.py >/dev/null
	run bash -c "cut -d'(' -f1 '$D/t' | sort -u | sed 's|$APP/||'"
	assert_output "main.py
pkg/__init__.py
pkg/sub.py"
	"$PT" --include '/pkg/sub\.py$' -o "$D/i" "$PY" main.py >/dev/null
	run bash -c "cut -d'(' -f1 '$D/i' | sort -u"
	assert_output "$APP/pkg/sub.py"
	"$PT" -g --ignore-dir "$SYS" -o "$D/g" "$PY" "$D/prog.py" >/dev/null
	assert_file_contains "$D/g" "^[0-9]*\.[0-9][0-9] $D/prog.py(1): import sys\$"
	"$PT" --format '{line}:{function}' --call-lines --ignore-dir "$SYS" -o "$D/f" "$PY" "$D/prog.py" >/dev/null
	assert_equal "$(cat "$D/f")" " --- modulename: __main__, funcname: <module>
1:<module>
2:<module>
4:<module>
 --- modulename: __main__, funcname: f
3:f"
	printf 'output = "%s";\nignore_dirs = ["%s"];\n' "$D/conf.trace" "${SYS//:/\", \"}" >"$D/c.conf"
	"$PT" --conf "$D/c.conf" "$PY" "$D/prog.py" >/dev/null
	assert_equal "$(wc -l <"$D/conf.trace")" 4
}

@test "pytrace keeps the LD_PRELOAD libraries already there" {
	run env LD_PRELOAD=/lib/x86_64-linux-gnu/libm.so.6 "$PT" -o "$D/t" "$PY" -c \
		'import os; print(os.environ["LD_PRELOAD"])'
	assert_success
	assert_output "$PT_LIB /lib/x86_64-linux-gnu/libm.so.6"
}

@test "pytrace: bad options and settings are refused before anything runs" {
	run "$PT" --bogus "$PY" "$D/prog.py"
	assert_failure
	assert_output "pytrace: unknown option '--bogus' (see pytrace --help)"
	run "$PT" --format '{nope}' "$PY" "$D/prog.py"
	assert_failure
	assert_line --partial "PYTRACE_FORMAT: unknown token '{nope}'"
	assert_line "pytrace: the settings above are not valid; not running"
	refute_line "2"
	run "$PT"
	assert_failure
	assert_line --partial "usage: pytrace"
}

@test "enable writes a checked configuration and a drop-in; disable removes only them" {
	run "$PT" enable nova-compute --ignore-dir /usr/lib/python3.11:/usr/lib/python3/dist-packages/eventlet \
		--ignore-module os,six --programs nova-compute
	assert_success
	assert_line "pytrace: nova-compute.service: tracing enabled, configuration /etc/pytrace/nova-compute.service.conf"
	local dropin=$D/root/etc/systemd/system/nova-compute.service.d/pytrace.conf
	assert_equal "$(cat "$dropin")" "# Written by 'pytrace enable'; 'pytrace disable' removes it.
[Service]
Environment=\"LD_PRELOAD=$PT_LIB\"
Environment=PYTRACE_CONF=/etc/pytrace/nova-compute.service.conf"
	run "$PT_ROOT/pytrace-check" "$D/root/etc/pytrace/nova-compute.service.conf"
	assert_success
	assert_line --regexp '^output = "/var/log/pytrace/%n.%p.trace";'
	assert_line --regexp '^ignore_dirs = \["/usr/lib/python3.11", "/usr/lib/python3/dist-packages/eventlet"\];'
	assert_line --regexp '^ignore_modules = \["os", "six"\];'
	assert_line --regexp '^programs = \["nova-compute"\];'
	run cat "$FAKE_SYSTEMD/log"
	assert_line "daemon-reload"
	refute_line --partial restart
	# an admin's own drop-in on the same unit survives disable
	echo '[Service]' >"$D/root/etc/systemd/system/nova-compute.service.d/admin.conf"
	run "$PT" disable nova-compute --restart
	assert_success
	assert_file_not_exists "$dropin"
	assert_file_not_exists "$D/root/etc/pytrace/nova-compute.service.conf"
	assert_file_exists "$D/root/etc/systemd/system/nova-compute.service.d/admin.conf"
	run tail -n 2 "$FAKE_SYSTEMD/log"
	assert_output "daemon-reload
restart nova-compute.service"
}

@test "disable --all removes every drop-in enable wrote, with one daemon-reload where systemd runs" {
	local sd=$D/root/etc/systemd/system
	touch "$FAKE_SYSTEMD/units/cinder-volume.service"
	run "$PT" enable nova-compute
	assert_success
	run "$PT" enable cinder-volume -o /tmp/%n.trace
	assert_success
	# a drop-in of the admin's, of the same name: not pytrace's, stays
	mkdir -p "$sd/glance-api.service.d"
	printf '[Service]\nEnvironment=LD_PRELOAD=/opt/lib.so\n' >"$sd/glance-api.service.d/pytrace.conf"
	: >"$FAKE_SYSTEMD/log"
	# systemd does not run (no /run/systemd/system): nothing to reload
	run "$PT" disable --all
	assert_success
	assert_output "pytrace: cinder-volume.service: tracing disabled
pytrace: restart cinder-volume.service for it to take effect (systemctl restart cinder-volume.service)
pytrace: nova-compute.service: tracing disabled
pytrace: restart nova-compute.service for it to take effect (systemctl restart nova-compute.service)"
	assert_file_not_exists "$sd/nova-compute.service.d"
	assert_file_not_exists "$sd/cinder-volume.service.d"
	assert_file_not_exists "$D/root/etc/pytrace/nova-compute.service.conf"
	assert_file_not_exists "$D/root/etc/pytrace/cinder-volume.service.conf"
	assert_file_exists "$sd/glance-api.service.d/pytrace.conf"
	run cat "$FAKE_SYSTEMD/log"
	assert_output ""
	# where systemd runs: one reload for all, and --restart restarts each
	run "$PT" enable nova-compute
	run "$PT" enable cinder-volume
	mkdir -p "$D/root/run/systemd/system"
	: >"$FAKE_SYSTEMD/log"
	run "$PT" disable --all --restart
	assert_success
	run cat "$FAKE_SYSTEMD/log"
	assert_output "daemon-reload
restart cinder-volume.service
restart nova-compute.service"
	run "$PT" disable --all
	assert_success
	assert_output "pytrace: no unit has tracing enabled"
}

@test "enable: glob patterns are written as given, not expanded against the files where it runs" {
	cd "$D"
	touch nova-compute.log
	run "$PT" enable nova-compute --programs 'nova*,n?va-api'
	assert_success
	assert_file_contains "$D/root/etc/pytrace/nova-compute.service.conf" '^programs = \["nova\*", "n?va-api"\];$'
}

@test "enable --conf FILE uses the file; another LD_PRELOAD of the unit is kept" {
	printf 'output = "/var/log/x.trace";\n' >"$D/root/etc/mine.conf"
	echo "LANG=C LD_PRELOAD=/usr/lib/libjemalloc.so.2:/usr/lib/other.so" >"$FAKE_SYSTEMD/env/nova-compute.service"
	run "$PT" enable nova-compute.service --conf /etc/mine.conf --restart
	assert_success
	run cat "$D/root/etc/systemd/system/nova-compute.service.d/pytrace.conf"
	assert_line "Environment=\"LD_PRELOAD=$PT_LIB /usr/lib/libjemalloc.so.2 /usr/lib/other.so\""
	assert_line "Environment=PYTRACE_CONF=/etc/mine.conf"
	assert_file_not_exists "$D/root/etc/pytrace/nova-compute.service.conf"
	run tail -n 1 "$FAKE_SYSTEMD/log"
	assert_output "restart nova-compute.service"
	# disable leaves the admin's configuration file alone
	run "$PT" disable nova-compute
	assert_success
	assert_file_exists "$D/root/etc/mine.conf"
}

@test "enable and disable: bad input is a clear message, a failure, nothing written" {
	run "$PT" enable no-such-unit
	assert_failure
	assert_output "pytrace: unit no-such-unit.service not found"
	run "$PT" enable 'bad/name'
	assert_failure
	assert_output "pytrace: 'bad/name' is not a unit name"
	run "$PT" enable nova-compute --format '{nope}'
	assert_failure
	assert_line "pytrace: the options above are not valid; nothing written"
	run "$PT" enable nova-compute --conf /etc/none.conf
	assert_failure
	assert_line "pytrace: /etc/none.conf is not valid; nothing written"
	run "$PT" enable nova-compute --conf /etc/x.conf --ignore-module os
	assert_failure
	assert_output "pytrace: give either --conf FILE or options, not both"
	run "$PT" disable nova-compute
	assert_failure
	assert_output --partial "pytrace: nova-compute.service: tracing is not enabled"
	run find "$D/root" -type f
	assert_output ""
	# an unwritable /etc
	chmod 0555 "$D/root/etc"
	if [ "$(id -u)" != 0 ]; then
		run "$PT" enable nova-compute
		assert_failure
	fi
	chmod 0755 "$D/root/etc"
	# a drop-in of the same name that pytrace did not write is left alone
	mkdir -p "$D/root/etc/systemd/system/nova-compute.service.d"
	echo '[Service]' >"$D/root/etc/systemd/system/nova-compute.service.d/pytrace.conf"
	run "$PT" enable nova-compute
	assert_failure
	assert_output --partial "was not written by pytrace; not touching it"
	run "$PT" disable nova-compute
	assert_failure
	assert_output --partial "was not written by pytrace; not touching it"
}

@test "status: the units with pytrace's drop-in, whether the main process is traced, the trace file" {
	run "$PT" status
	assert_success
	assert_output "pytrace: no unit has tracing enabled"
	"$PT" enable nova-compute -o "$D/%n.%p.trace" >/dev/null
	run "$PT" status
	assert_line "nova-compute.service: tracing enabled, configuration /etc/pytrace/nova-compute.service.conf"
	assert_line "  not running"
	# a main process started before enable: not traced, and said so
	sleep 30 &
	local plain=$!
	echo $plain >"$FAKE_SYSTEMD/pid/nova-compute.service"
	run "$PT" status nova-compute
	assert_line "  main process $plain: NOT traced: it started before tracing was enabled; restart nova-compute.service"
	kill $plain
	# a traced one, with its trace file and size
	mkdir -p "$D/root/etc/pytrace"
	PYTRACE_CONF=$D/root/etc/pytrace/nova-compute.service.conf LD_PRELOAD=$PT_LIB \
		"$PY" -c 'import time; time.sleep(30)' &
	local traced=$!
	sleep 1
	echo $traced >"$FAKE_SYSTEMD/pid/nova-compute.service"
	echo "x" >"$D/python3.11.$traced.trace"
	run "$PT" status nova-compute
	kill $traced
	assert_line "  main process $traced: traced (libpytrace.so is loaded)"
	assert_line --regexp "^  trace: $D/[a-z0-9.]+\.$traced\.trace \([0-9]+ bytes\)$"
}

@test "summary: the runs are egrep | cut | uniq -c's; lines per file and per function" {
	cd "$APP"
	"$PT" -o "$D/t" --ignore-dir "$SYS" "$PY" main.py >/dev/null
	run "$PT" summary "$D/t"
	assert_success
	local runs
	runs=$(sed -n '/^# runs/,/^# lines per file/p' <<<"$output" | sed '1d;$d')
	assert_equal "$runs" "$(cut -d'(' -f1 "$D/t" | uniq -c)"
	assert_line --regexp "^ +[0-9]+ $APP/main.py:work$"
	assert_line --regexp "^ +2 $APP/pkg/sub.py:<module>$"
	assert_line --regexp "^ +5 $APP/pkg/sub.py:double$"
	run "$PT" summary --include 'pkg/' "$D/t"
	runs=$(sed -n '/^# runs/,/^# lines per file/p' <<<"$output" | sed '1d;$d')
	assert_equal "$runs" "$(grep -E '^[^(]*pkg/' "$D/t" | cut -d'(' -f1 | uniq -c)"
	run "$PT" summary --include '(' "$D/t"
	assert_failure
	# -g's timings are not part of the path
	"$PT" -g -o "$D/g" --ignore-dir "$SYS" "$PY" main.py >/dev/null
	grep -q '^[0-9]*\.[0-9]* /' "$D/g"
	run "$PT" summary "$D/g"
	runs=$(sed -n '/^# runs/,/^# lines per file/p' <<<"$output" | sed '1d;$d')
	assert_equal "$runs" "$(cut -d'(' -f1 "$D/t" | uniq -c)"
}

@test "summary: notice lines (# pytrace[PID]: ...) are not counted, whatever they hold" {
	printf '%s\n' "$D/prog.py(2): def f(x):" \
		"# pytrace[12]: $D/prog.py(3):     return x + 1" \
		"# pytrace[12]: deep recursion: pytrace now sets its trace function for every frame" \
		"$D/prog.py(4): print(f(1))" >"$D/t"
	run "$PT" summary "$D/t"
	assert_success
	assert_output "# runs of consecutive lines per file, in order
      2 $D/prog.py
# lines per file
      2 $D/prog.py
# lines per function
      2 $D/prog.py:<module>"
}

@test "pytrace --start and --programs reach the traced process" {
	mkdir "$D/site"
	printf 'def custom():\n    return 1\ncustom()\n' >"$D/site/sitecustomize.py"
	PYTHONPATH=$D/site "$PT" --start init -o "$D/s" "$PY" "$D/prog.py" >/dev/null
	assert_file_contains "$D/s" "sitecustomize.py(2):     return 1"
	"$PT" --programs 'other*' -o "$D/p" "$PY" "$D/prog.py" >/dev/null
	assert_file_not_exists "$D/p"
	"$PT" --programs 'prog*' -o "$D/q" "$PY" "$D/prog.py" >/dev/null
	assert_file_exists "$D/q"
}

@test "pytrace --scope (repeatable), --scope-depth, --no-scope-lines, --scope-threads reach the process" {
	# pytrace-check as the command: what a traced process would read
	run "$PT" --scope 'app.util:Conn.connect' --scope='nova.*:*.spawn,tool/*.py:main' \
		--scope-depth 3 --no-scope-lines --scope-threads "$PT_ROOT/pytrace-check"
	assert_success
	assert_line --regexp '^scope = \["app\.util:Conn\.connect", "nova\.\*:\*\.spawn", "tool/\*\.py:main"\]; +# PYTRACE_SCOPE$'
	assert_line --regexp '^scope_depth = 3; +# PYTRACE_SCOPE_DEPTH$'
	assert_line --regexp '^scope_lines = false; +# PYTRACE_SCOPE_LINES$'
	assert_line --regexp '^scope_threads = true; +# PYTRACE_SCOPE_THREADS$'
	run "$PT" --scope-depth=0 "$PT_ROOT/pytrace-check"
	assert_line --regexp '^scope_depth = 0; +# PYTRACE_SCOPE_DEPTH$'
	assert_line --regexp '^scope = \[\]; +# default$'
	assert_line --regexp '^scope_lines = true; +# default$'
	assert_line --regexp '^scope_threads = false; +# default$'
	# and in a Python program's own environment
	run "$PT" --scope '__main__:f' --scope-threads -o "$D/t" "$PY" -c \
		'import os; print(os.environ["PYTRACE_SCOPE"], os.environ["PYTRACE_SCOPE_THREADS"])'
	assert_success
	assert_output "__main__:f true"
}

@test "pytrace --scope and --scope-depth: a bad one is refused before anything runs" {
	run "$PT" --scope 'app.util.connect' "$PY" "$D/prog.py"
	assert_failure
	assert_line --partial "PYTRACE_SCOPE: 'app.util.connect' is not a scope: no ':' (write module:Class.method or /path/file.py:function)"
	assert_line "pytrace: the settings above are not valid; not running"
	refute_line "2"
	for bad in two -1 1.5 '1; enabled = false' 1234567890; do
		run "$PT" --scope-depth "$bad" "$PY" "$D/prog.py"
		assert_failure
		assert_output "pytrace: --scope-depth: '$bad' is not a number of calls (0: no limit)"
	done
	run "$PT" --scope
	assert_failure
	assert_output "pytrace: --scope needs a scope (module:Class.method or /path/file.py:function)"
}

@test "enable writes the scope options into the configuration; a bad scope writes nothing" {
	cd "$D"
	touch nova.x:y.spawn
	run "$PT" enable nova-compute --scope 'os_brick.initiator.connectors.iscsi:ISCSIConnector.connect_volume' \
		--scope 'nova*:*.spawn' --scope-depth 4 --no-scope-lines --scope-threads
	assert_success
	local conf=$D/root/etc/pytrace/nova-compute.service.conf
	assert_file_contains "$conf" '^scope = \["os_brick.initiator.connectors.iscsi:ISCSIConnector.connect_volume", "nova\*:\*.spawn"\];$'
	assert_file_contains "$conf" '^scope_depth = 4;$'
	assert_file_contains "$conf" '^scope_lines = false;$'
	assert_file_contains "$conf" '^scope_threads = true;$'
	run "$PT_ROOT/pytrace-check" "$conf"
	assert_success
	run "$PT" disable nova-compute
	assert_success
	for opt in "--scope a:f" "--scope-depth 2" --no-scope-lines --scope-threads; do
		run "$PT" enable nova-compute --conf /etc/x.conf $opt
		assert_failure
		assert_output "pytrace: give either --conf FILE or options, not both"
	done
	run "$PT" enable nova-compute --scope 'a:f' --scope '/srv/:main'
	assert_failure
	assert_line --partial "scope: '/srv/:main' is not a scope: the path names no file"
	assert_line "pytrace: the options above are not valid; nothing written"
	run find "$D/root" -type f
	assert_output ""
}

@test "pytrace --record writes records; pytrace replay prints them as text; enable writes output_mode" {
	run "$PT" --record --ignore-dir "$SYS" -o "$D/r" "$PY" "$D/prog.py"
	assert_success
	assert_output "2"
	assert_equal "$(head -c 4 "$D/r" | od -An -c | tr -s ' ')" ' 177 P T R'
	run "$PT" replay "$D/r"
	assert_success
	assert_output "$D/prog.py(1): import sys
$D/prog.py(2): def f(x):
$D/prog.py(4): print(f(1))
$D/prog.py(3):     return x + 1"
	run "$PT" --record "$PY" "$D/prog.py"
	assert_failure
	assert_output --partial 'output_mode "record" writes binary records: set output to a file'
	run "$PT" enable nova-compute --record
	assert_success
	assert_file_contains "$D/root/etc/pytrace/nova-compute.service.conf" '^output_mode = "record";$'
	run "$PT" replay
	assert_failure 2
	assert_output "usage: pytrace replay RECORDFILE..."
	run "$PT" replay "$D/none.rec"
	assert_failure
	assert_output "pytrace replay: $D/none.rec: No such file or directory"
}

@test "pytrace --record --timeline: export reads the file; enable writes timeline; check shows it; export's usage" {
	run "$PT" --record --timeline --ignore-dir "$SYS" -o "$D/r" "$PY" "$D/prog.py"
	assert_success
	assert_output "2"
	run "$PT" export --perfetto "$D/r" -o "$D/r.json"
	assert_success
	assert_output ""
	run /usr/bin/python3 "$PT_ROOT/tests/perfetto-check.py" --tree "$D/r.json"
	assert_success
	assert_line --regexp '^[0-9]+ [0-9]+ __main__:<module>$'
	assert_line --regexp '^[0-9]+ [0-9]+   __main__:f$'
	run "$PT" enable nova-compute --record --timeline
	assert_success
	assert_file_contains "$D/root/etc/pytrace/nova-compute.service.conf" '^timeline = true;$'
	run env PYTRACE_OUTPUT_MODE=record PYTRACE_OUTPUT=/o PYTRACE_TIMELINE=on "$PT" check
	assert_success
	assert_line --regexp '^timeline = true; +# PYTRACE_TIMELINE$'
	for args in "" "$D/r -o" "--perfetto $D/r" "--perfetto -o $D/x.json" "--chrome $D/r -o $D/x.json"; do
		run "$PT" export $args
		assert_failure 2
		assert_output "usage: pytrace export --perfetto [--max-slices N] RECORDFILE... -o OUT[.gz]"
	done
	run "$PT" export --perfetto "$D/none.rec" -o "$D/x.json"
	assert_failure 1
	assert_output "pytrace export: $D/none.rec: No such file or directory"
	run "$PT" export --perfetto "$D/prog.py" -o "$D/x.json"
	assert_failure 1
	assert_output "pytrace export: $D/prog.py: not a record file (written with output_mode = \"record\"?)"
	assert_file_not_exists "$D/x.json"
}

@test "status, check and summary: bad input is a message and a failure" {
	run "$PT" status nova-compute
	assert_success
	assert_output "nova-compute.service: tracing not enabled"
	run "$PT" status 'bad/unit'
	assert_failure
	run "$PT" check "$D/none.conf"
	assert_failure
	run "$PT" summary
	assert_failure
	assert_output --partial "usage: pytrace summary"
	run "$PT" summary "$D/none.trace"
	assert_failure
	assert_output --partial "$D/none.trace"
	run "$PT" summary --include '(' "$D/prog.py"
	assert_failure
	assert_output --partial "bad regular expression '('"
}

@test "enable where /etc cannot be written: a message, a failure, nothing half-written" {
	mkdir -p "$D/ro"
	echo "not a directory" >"$D/ro/etc"
	run env PYTRACE_ROOT="$D/ro" "$PT" enable nova-compute
	assert_failure
	assert_output --partial "pytrace: cannot create"
	assert_equal "$(cat "$D/ro/etc")" "not a directory"
	run cat "$FAKE_SYSTEMD/log"
	refute_output --partial daemon-reload
}
