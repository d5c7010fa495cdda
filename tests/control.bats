# SPDX-License-Identifier: MIT
# Switching tracing on and off in a running process: pytrace-ctl and
# `pytrace on/off/status`, the client side of the control protocol, against
# a fake listener (fixtures/fake-listener.py) that records what it was sent
# and answers what a test tells it to; units through the stand-in systemctl
# and a control group under a temporary root.

load helper

setup() {
	D=$BATS_TEST_TMPDIR
	PT=$PT_ROOT/pytrace
	CTL=$PT_ROOT/pytrace-ctl
	PY=/usr/bin/python3.11
	[ -x "$PY" ] || PY=$(command -v python3)
	export PYTRACE_ROOT=$D/root PYTRACE_SYSTEMCTL=$PT_FIX/fake-systemctl
	export FAKE_SYSTEMD=$D/sd
	mkdir -p "$D/root/etc/systemd/system" "$FAKE_SYSTEMD"/{units,env,pid,cgroup}
	touch "$FAKE_SYSTEMD/units/nova-compute.service"
	STARTED=()
}

teardown() {
	local pid
	for pid in ${STARTED[@]+"${STARTED[@]}"}; do
		kill "$pid" 2>/dev/null || true
	done
}

# start CMD...: run CMD in the background (its pid in $PID) until teardown.
start() {
	"$@" </dev/null >/dev/null 2>&1 3>&- &
	PID=$!
	STARTED+=("$PID")
}

# listener NAME SCENARIO [ARG...]: a fake listener with the library loaded
# and dormant, its files in $D/NAME; its pid in $PID once it listens.
listener() {
	local dir=$D/$1
	shift
	mkdir -p "$dir"
	start env LD_PRELOAD="$PT_LIB" PYTRACE_ENABLED=0 "$PY" \
		"$PT_FIX/fake-listener.py" "$dir" "$@"
	local i
	for i in $(seq 100); do
		[ -e "$dir/ready" ] && return 0
		sleep 0.05
	done
	echo "the fake listener did not start" >&2
	return 1
}

# requests NAME: what listener NAME was sent, tabs shown as <TAB>.
requests() {
	sed 's/\t/<TAB>/g' "$D/$1/requests"
}

# in_unit PID...: the processes of nova-compute.service's control group.
in_unit() {
	echo /system.slice/nova-compute.service >"$FAKE_SYSTEMD/cgroup/nova-compute.service"
	mkdir -p "$D/root/sys/fs/cgroup/system.slice/nova-compute.service"
	printf '%s\n' "$@" >"$D/root/sys/fs/cgroup/system.slice/nova-compute.service/cgroup.procs"
}

@test "the fake listener looks like a process with the library loaded, dormant" {
	listener a reply "ok"
	run grep -c libpytrace.so "/proc/$PID/maps"
	assert_success
	refute_output 0
	run cat "/proc/$PID/environ"
	assert_output --partial "PYTRACE_ENABLED=0"
}

@test "on, status, off, status: the request lines sent, one line printed each, exit 0" {
	local t
	t=$(date +%s)
	listener a reply \
		$'ok\tstate=on\twas=standby\tsince=1\tlines=0\toutput=/var/log/pytrace/x.trace' \
		"ok	state=on	was=on	since=$t	lines=5321	output=/var/log/pytrace/x.trace" \
		"ok	state=off	was=on	since=$t	lines=5321	output=/var/log/pytrace/x.trace" \
		$'ok\tstate=standby\twas=standby'
	local p=$PID
	run "$PT" on "$p" --ignore-dir /usr/lib/python3 -o '/var/log/pytrace/%n.%p.trace'
	assert_success
	assert_output "$p: on (was standby), trace /var/log/pytrace/x.trace"
	run "$PT" status "$p"
	assert_success
	assert_output "$p: on since $(date -d "@$t" +%H:%M:%S), 5321 lines, trace /var/log/pytrace/x.trace"
	run "$PT" off "$p"
	assert_success
	assert_output "$p: off (was on), 5321 lines written to /var/log/pytrace/x.trace"
	run "$CTL" "$p" status
	assert_success
	assert_output "$p: standby"
	run requests a
	assert_output "on<TAB>PYTRACE_IGNORE_DIRS=/usr/lib/python3<TAB>PYTRACE_OUTPUT=/var/log/pytrace/%n.%p.trace
status
off
status"
}

@test "every option of on becomes its PYTRACE_ field, as the wrapper exports it" {
	listener a reply $'ok\tstate=on\twas=standby'
	run "$PT" on "$PID" --ignore-dir /a --ignore-dir /b:/c --ignore-module os,six \
		--include '/pkg/' --format '{line}' -g --call-lines --record -o /tmp/t \
		--programs 'nova*' --conf "$PT_ROOT/conf/pytrace.conf"
	assert_success
	assert_output "$PID: on (was standby)"
	run requests a
	assert_output "on<TAB>PYTRACE_CONF=$PT_ROOT/conf/pytrace.conf<TAB>PYTRACE_IGNORE_DIRS=/a:/b:/c<TAB>PYTRACE_IGNORE_MODULES=os,six<TAB>PYTRACE_INCLUDE=/pkg/<TAB>PYTRACE_OUTPUT=/tmp/t<TAB>PYTRACE_CALL_LINES=true<TAB>PYTRACE_OUTPUT_MODE=record<TAB>PYTRACE_PROGRAMS=nova*<TAB>PYTRACE_FORMAT={elapsed} {line}"
}

@test "the scope options of on and attach become their PYTRACE_ fields; a bad scope is refused unsent" {
	listener a reply $'ok\tstate=on\twas=standby' $'ok\tstate=on\twas=off'
	run "$PT" on "$PID" --scope 'a.b:C.f' --scope=/srv/x.py:main --scope-depth 2 \
		--no-scope-lines --scope-threads
	assert_success
	assert_output "$PID: on (was standby)"
	# attach to a process that has the library: only switched on
	echo 0 >"$D/ptrace_scope"
	run env PYTRACE_PTRACE_SCOPE="$D/ptrace_scope" "$PT" attach "$PID" --scope 'nova.*:*.spawn' --for 30s
	assert_success
	assert_line "$PID: on (was off)"
	run requests a
	assert_output "on<TAB>PYTRACE_SCOPE=a.b:C.f,/srv/x.py:main<TAB>PYTRACE_SCOPE_DEPTH=2<TAB>PYTRACE_SCOPE_LINES=false<TAB>PYTRACE_SCOPE_THREADS=true
on<TAB>PYTRACE_OUTPUT=/var/log/pytrace/%n.%p.trace<TAB>PYTRACE_SCOPE=nova.*:*.spawn<TAB>for=30"
	run "$PT" on "$PID" --scope 'a.b:C.f' --scope 'nocolon'
	assert_failure 1
	assert_output --regexp "^pytrace\[[0-9]+\]: PYTRACE_SCOPE: 'nocolon' is not a scope: no ':' \(write module:Class.method or /path/file.py:function\)$"
	run "$CTL" "$PID" on PYTRACE_SCOPE_DEPTH=deep
	assert_failure 2
	assert_output --regexp "^pytrace\[[0-9]+\]: PYTRACE_SCOPE_DEPTH: 'deep' is not a non-negative integer$"
	run "$CTL" "$PID" on PYTRACE_SCOPE_THREADS=perhaps
	assert_failure 2
	assert_equal "$(wc -l <"$D/a/requests")" 2
}

@test "--for and --lines: 30, 30s, 5m, 1h as seconds; N lines" {
	listener a reply $'ok\tstate=on\twas=standby'
	run "$PT" on "$PID" --for 5m
	assert_success
	"$PT" on "$PID" --for=30 --lines 1000 >/dev/null
	"$PT" on "$PID" --for 30s --lines=7 >/dev/null
	"$PT" on "$PID" --for 1h >/dev/null
	run requests a
	assert_output "on<TAB>for=300
on<TAB>for=30<TAB>lines=1000
on<TAB>for=30<TAB>lines=7
on<TAB>for=3600"
	run "$PT" on "$PID" --for 5x
	assert_failure
	assert_output "pytrace: --for: '5x' is not a duration (30, 30s, 5m, 1h)"
	run "$PT" on "$PID" --for 0
	assert_failure
	assert_output "pytrace: --for: the duration must be above 0"
	run "$PT" on "$PID" --lines 0
	assert_failure
	assert_output "pytrace: lines: '0' is not a number of lines above 0"
	assert_equal "$(wc -l <"$D/a/requests")" 4
}

@test "already on is done (exit 0); refused is the reason and exit 1; unknown keys and control characters" {
	local t
	t=$(date +%s)
	listener a reply "ok	state=on	was=on	since=$t	lines=1	output=stderr	color=blue" \
		$'refused\tstate=standby\twhy=the output /x cannot be opened: \x1b[31mPermission denied'
	run "$PT" on "$PID"
	assert_success
	assert_output "$PID: already on since $(date -d "@$t" +%H:%M:%S), 1 line, trace standard error"
	run "$PT" on "$PID" -o /x
	assert_failure 1
	assert_output "$PID: refused: the output /x cannot be opened: ?[31mPermission denied"
	# a reply that is not one
	listener b reply "hello"
	run "$CTL" "$PID" status
	assert_failure 1
	assert_output "pytrace: PID $PID: not a reply of pytrace: 'hello'"
}

@test "bad settings, tabs and line breaks are refused before connecting, as the library words them" {
	listener a reply "ok"
	run "$PT" on "$PID" --format '{nope}'
	assert_failure 1
	assert_output --regexp "^pytrace\[[0-9]+\]: PYTRACE_FORMAT: unknown token '\{nope\}'"
	run "$PT" on "$PID" --start boot
	assert_failure 1
	assert_output --regexp "^pytrace\[[0-9]+\]: PYTRACE_START: 'boot' is not a start"
	run "$PT" on "$PID" -o $'/tmp/a\tb'
	assert_failure 1
	assert_output "pytrace: PYTRACE_OUTPUT: a value cannot hold a tab or a line break"
	run "$PT" on "$PID" --ignore-module $'os\nsix'
	assert_failure 1
	assert_output "pytrace: PYTRACE_IGNORE_MODULES: a value cannot hold a tab or a line break"
	run "$PT" on "$PID" --conf relative.conf
	assert_failure 1
	assert_output "pytrace: PYTRACE_CONF: 'relative.conf' is not an absolute path"
	run "$PT" on "$PID" --conf "$D/none.conf"
	assert_failure 1
	assert_output --partial "$D/none.conf"
	# pytrace-ctl itself: 2 for a bad command line
	run "$CTL" "$PID" on PYTRACE_OUPTUT=/x
	assert_failure 2
	assert_output "pytrace: PYTRACE_OUPTUT: no such setting (did you mean PYTRACE_OUTPUT?)"
	run "$CTL" "$PID" on PYTRACE_Output=/x
	assert_failure 2
	assert_output "pytrace: PYTRACE_Output: no such setting (did you mean PYTRACE_OUTPUT?)"
	run "$CTL" "$PID" on PYTRACE_KEEP=1 PYTRACE_KEEP=2
	assert_failure 2
	assert_output "pytrace: PYTRACE_KEEP: given twice"
	run "$CTL" "$PID" on keep=1
	assert_failure 2
	assert_output "pytrace: 'keep=1' is not PYTRACE_NAME=VALUE, for=SECONDS or lines=N"
	run "$CTL" "$PID" on "PYTRACE_OUTPUT=$(head -c 70000 /dev/zero | tr '\0' x)"
	assert_failure 2
	assert_output "pytrace: the request would be longer than 65536 bytes"
	run "$CTL" "$PID" off now
	assert_failure 2
	assert_line --index 0 --partial "usage: pytrace-ctl PID on"
	run "$CTL" x status
	assert_failure 2
	assert_file_not_exists "$D/a/requests"
}

@test "no answer within 1 s is an error, in under 3 s; so is a closed connection" {
	listener a silent
	local p=$PID t0=$SECONDS
	run "$PT" status "$p"
	assert_failure 1
	assert_output "pytrace: PID $p did not answer within 1 s"
	[ $((SECONDS - t0)) -lt 3 ]
	listener b slow $'ok\tstate=on'
	p=$PID t0=$SECONDS
	run "$PT" on "$p"
	assert_failure 1
	assert_output "pytrace: PID $p did not answer within 1 s"
	[ $((SECONDS - t0)) -lt 3 ]
	listener c close
	run "$CTL" "$PID" off
	assert_failure 1
	assert_output "pytrace: PID $PID closed the connection without a reply"
}

@test "a name held by another process is refused, and nothing is sent" {
	start env LD_PRELOAD="$PT_LIB" PYTRACE_ENABLED=0 "$PY" -c 'import time; time.sleep(30)'
	local target=$PID
	listener a squat "$target" $'ok\tstate=on'
	local squatter=$PID
	run "$PT" on "$target" -o /tmp/stolen
	assert_failure 1
	assert_output "pytrace: PID $target: the control socket is held by process $squatter, not by $target; refusing"
	assert_file_not_exists "$D/a/requests"
}

@test "a process that is not there, not Python, without the library, or not listening" {
	run "$PT" off 2147483646
	assert_failure 1
	assert_output "pytrace: no process 2147483646"
	start env LD_PRELOAD="$PT_LIB" PYTRACE_ENABLED=0 sleep 30
	sleep 0.2
	run "$PT" on "$PID"
	assert_failure 1
	assert_output "pytrace: PID $PID ($(readlink "/proc/$PID/exe")) is not a Python process"
	start "$PY" -c 'import time; time.sleep(30)'
	sleep 0.2
	run "$PT" status "$PID"
	assert_failure 1
	assert_output "pytrace: PID $PID does not have pytrace's library loaded: pytrace attach $PID would load it now; or start it with pytrace enable UNIT --standby --restart, or pytrace --standby COMMAND"
	start env LD_PRELOAD="$PT_LIB" PYTRACE_ENABLED=0 "$PY" -c 'import time; time.sleep(30)'
	sleep 0.2
	run "$PT" on "$PID"
	assert_failure 1
	assert_output "pytrace: PID $PID does not listen for pytrace's commands: it was not started with start = \"standby\"; start it with pytrace enable UNIT --standby --restart, or pytrace --standby COMMAND"
}

@test "a unit: each of its processes that has the library; exit 1 when one did not do it" {
	listener a reply $'ok\tstate=on\twas=standby\toutput=/var/log/a.trace'
	local a=$PID
	listener b reply $'ok\tstate=on\twas=standby\toutput=/var/log/b.trace' $'refused\twhy=busy'
	local b=$PID
	start sleep 30
	in_unit "$a" "$PID" "$b"
	run "$PT" on nova-compute --ignore-module six
	assert_success
	assert_output "$a: on (was standby), trace /var/log/a.trace
$b: on (was standby), trace /var/log/b.trace"
	run requests a
	assert_output "on<TAB>PYTRACE_IGNORE_MODULES=six"
	run requests b
	assert_output "on<TAB>PYTRACE_IGNORE_MODULES=six"
	run "$PT" off nova-compute.service
	assert_failure 1
	assert_line "$b: refused: busy"
	assert_equal "${#lines[@]}" 2
	# a cgroup v1 host: the group is in the systemd hierarchy
	mkdir -p "$D/root/sys/fs/cgroup/systemd"
	mv "$D/root/sys/fs/cgroup/system.slice" "$D/root/sys/fs/cgroup/systemd/"
	run "$PT" status "$a"
	assert_success
	run "$PT" off nova-compute
	assert_line --index 0 --partial "$a: "
}

@test "a unit that is not running, or whose processes do not have the library" {
	run "$PT" on nova-compute
	assert_failure 1
	assert_output "pytrace: nova-compute.service is not running"
	start sleep 30
	in_unit "$PID"
	run "$PT" off nova-compute
	assert_failure 1
	assert_output "pytrace: nova-compute.service: no process has pytrace's library loaded; enable it with pytrace enable nova-compute --standby --restart"
	run "$PT" on 'bad/unit'
	assert_failure 1
	assert_output "pytrace: 'bad/unit' is not a unit name"
	run "$PT" on
	assert_failure 1
	assert_output "pytrace: usage: pytrace on TARGET [OPTIONS] [--for DURATION] [--lines N]"
	run "$PT" off nova-compute -o /x
	assert_failure 1
	assert_output "pytrace: usage: pytrace off TARGET"
	run "$PT" on nova-compute --restart
	assert_failure 1
	assert_output "pytrace: --restart is for enable and disable"
}

@test "status of a unit: its drop-in, then what each of its processes says" {
	"$PT" enable nova-compute --standby >/dev/null
	listener a reply $'ok\tstate=standby\twas=standby'
	local a=$PID
	listener b reply $'ok\tstate=on\twas=on\tlines=2\toutput=/var/log/b.trace'
	local b=$PID
	echo "$a" >"$FAKE_SYSTEMD/pid/nova-compute.service"
	in_unit "$a" "$b"
	run "$PT" status nova-compute
	assert_success
	assert_line --index 0 "nova-compute.service: tracing enabled, configuration /etc/pytrace/nova-compute.service.conf"
	assert_line --index 1 "  main process $a: traced (libpytrace.so is loaded)"
	assert_line "  $a: standby"
	assert_line "  $b: on, 2 lines, trace /var/log/b.trace"
	# every unit with the drop-in, when none is named
	run "$PT" status
	assert_line "  $b: on, 2 lines, trace /var/log/b.trace"
}

@test "--standby: start = standby for the command and in enable's configuration" {
	run "$PT" --standby -o "$D/t" "$PY" -c 'import os; print(os.environ["PYTRACE_START"])'
	assert_success
	assert_output "standby"
	run "$PT" enable nova-compute --standby --ignore-module six
	assert_success
	run "$PT_ROOT/pytrace-check" "$D/root/etc/pytrace/nova-compute.service.conf"
	assert_success
	assert_line --regexp '^start = "standby"; +# .*nova-compute.service.conf:[0-9]+$'
	run "$PT" enable nova-compute --standby --conf /etc/x.conf
	assert_failure
	assert_output "pytrace: give either --conf FILE or options, not both"
}
