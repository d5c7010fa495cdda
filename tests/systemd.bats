# SPDX-License-Identifier: MIT
# pytrace under a real systemd (booted in namespaces by tests/sd-boot): a
# service is traced through a drop-in that sets LD_PRELOAD and PYTRACE_*,
# and is no longer once the drop-in is removed and systemd reloaded.

load helper
load systemd

UNIT=pytrace-demo.service
SERVICE=/srv/pytrace-demo/service.py

# One container for the file; each test skips (or fails on CI) in setup if
# none can boot here.
setup_file() {
	sd_available || return 0
	# The library's own directory is bound in, in case the overlay of the
	# host's root does not show it (PYTRACE_LIB on another filesystem).
	SD_BIND=$(dirname "$(realpath "$PT_LIB")") sd_boot
}

setup() {
	sd_require
}

teardown_file() {
	sd_stop
}

# main_pid: the main PID (inside the container) of the started unit.
main_pid() {
	local pid
	pid=$(sd_show "$UNIT" MainPID)
	[ "${pid:-0}" -gt 0 ] || {
		sd_diag "$UNIT"
		fail "$UNIT has no main PID"
	}
	echo "$pid"
}

@test "a service is traced through its drop-in, and not after the drop-in is removed" {
	local lib pid trace
	lib=$(realpath "$PT_LIB")
	[ -f "$lib" ] || fail "$PT_LIB is not built"
	sd_run test -r "$lib" || fail "$lib is not visible in the container"

	# A service that works forever; it writes its pid once it runs Python.
	sd_write "$SERVICE" <<'EOF'
import os
import time


def work(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


with open("/run/pytrace-demo.pid", "w") as f:
    f.write("%d\n" % os.getpid())
while True:
    work(50)
    time.sleep(0.05)
EOF
	sd_write /etc/systemd/system/$UNIT <<EOF
[Unit]
Description=pytrace demo

[Service]
Type=exec
ExecStart=/usr/bin/python3 $SERVICE
EOF
	sd_write /etc/systemd/system/$UNIT.d/pytrace.conf <<EOF
[Service]
Environment=LD_PRELOAD=$lib
Environment=PYTRACE_OUTPUT=/var/log/pytrace/%%n.%%p.trace
Environment=PYTRACE_FLUSH_INTERVAL=200
EOF
	sd_run systemctl daemon-reload
	run sd_run systemctl start $UNIT
	assert_success

	# Its lines reach its own trace file (within the flush interval).
	pid=$(main_pid)
	trace=/var/log/pytrace/service.py.$pid.trace
	sd_wait 10 grep -qs "^$SERVICE([0-9]*):         total += i \* i\$" "$trace" || {
		sd_diag "$UNIT"
		sd_run ls -l /var/log/pytrace >&2
		fail "no traced line of $SERVICE in $trace"
	}
	run sd_run grep -c "^$SERVICE([0-9]*): while True:\$" "$trace"
	assert_success
	run sd_run grep -F "$lib" "/proc/$pid/maps"
	assert_success

	# Without the drop-in (and after daemon-reload) the new main process
	# has no pytrace.
	sd_run rm -r /etc/systemd/system/$UNIT.d
	sd_run systemctl daemon-reload
	run sd_run systemctl restart $UNIT
	assert_success
	local pid2
	pid2=$(main_pid)
	[ "$pid2" != "$pid" ] || fail "the main PID did not change ($pid)"
	# Once it runs Python the loader is long done with LD_PRELOAD.
	sd_wait 10 grep -qx "$pid2" /run/pytrace-demo.pid || {
		sd_diag "$UNIT"
		fail "$UNIT did not restart"
	}
	run sd_run grep -F libpytrace /proc/"$pid2"/maps
	assert_failure 1
	run sd_show $UNIT Environment
	assert_output ""
	run sd_run test -e "/var/log/pytrace/service.py.$pid2.trace"
	assert_failure
}

@test "pytrace enable, status, disable under systemd; the admin's own drop-in survives" {
	local unit=pytrace-cli-demo.service service=$PT_ROOT/examples/demo/service.py
	local pt=$PT_ROOT/pytrace pid pid2 trace
	sed "s|^ExecStart=.*|ExecStart=/usr/bin/python3 $service|" \
		"$PT_ROOT/examples/demo/pytrace-demo.service" | sd_write /etc/systemd/system/$unit
	# an administrator's own drop-in, which must survive
	printf '[Service]\nEnvironment=ADMIN_SETTING=1\n' | sd_write /etc/systemd/system/$unit.d/admin.conf
	sd_run systemctl daemon-reload
	run sd_run systemctl start $unit
	assert_success

	# started untraced, and status says so after enable without restart
	pid=$(sd_show $unit MainPID)
	run sd_run "$pt" enable pytrace-cli-demo --ignore-dir /usr/lib/python3.11:/usr/lib/python3/dist-packages \
		-o '/var/log/pytrace/%n.%p.trace'
	assert_success
	assert_line "pytrace: restart $unit for it to take effect (systemctl restart $unit)"
	run sd_run "$pt" status
	assert_line "$unit: tracing enabled, configuration /etc/pytrace/$unit.conf"
	assert_line "  main process $pid: NOT traced: it started before tracing was enabled; restart $unit"

	# a restart: the new main process is traced, its lines reach the file
	run sd_run systemctl restart $unit
	assert_success
	pid=$(sd_show $unit MainPID)
	trace=/var/log/pytrace/service.py.$pid.trace
	sd_wait 10 grep -qs "^$PT_ROOT/examples/demo/fakebrick/iscsi.py([0-9]*):     return portals\$" "$trace" || {
		sd_diag "$unit"
		fail "no traced line of the demo in $trace"
	}
	run sd_run "$pt" status $unit
	assert_line "  main process $pid: traced (libpytrace.so is loaded)"
	assert_line --regexp "^  trace: $trace \([0-9]+ bytes\)$"
	run sd_show $unit Environment
	assert_output --partial "ADMIN_SETTING=1"

	# disable and restart: the admin's drop-in stays, the library goes
	run sd_run "$pt" disable $unit --restart
	assert_success
	run sd_run test -e /etc/systemd/system/$unit.d/admin.conf
	assert_success
	run sd_run test -e /etc/systemd/system/$unit.d/pytrace.conf
	assert_failure
	pid2=$(sd_show $unit MainPID)
	[ "$pid2" != "$pid" ] || fail "the main PID did not change ($pid)"
	# the loader maps LD_PRELOAD before libc: once libc is there, it is done
	sd_wait 10 grep -q libc.so /proc/"$pid2"/maps || fail "$unit did not restart"
	run sd_run grep -F libpytrace /proc/"$pid2"/maps
	assert_failure 1
	run sd_show $unit Environment
	assert_output "ADMIN_SETTING=1"
}

@test "enable --standby, then on, off and status under systemd, then disable" {
	local unit=pytrace-standby-demo.service service=$PT_ROOT/examples/demo/service.py
	local pt=$PT_ROOT/pytrace pid trace size
	sed "s|^ExecStart=.*|ExecStart=/usr/bin/python3 $service|" \
		"$PT_ROOT/examples/demo/pytrace-demo.service" | sd_write /etc/systemd/system/$unit
	sd_run systemctl daemon-reload
	run sd_run "$pt" enable pytrace-standby-demo --standby --restart \
		--ignore-dir /usr/lib/python3.11:/usr/lib/python3/dist-packages \
		-o '/var/log/pytrace/%n.%p.trace'
	assert_success
	pid=$(sd_show $unit MainPID)
	trace=/var/log/pytrace/service.py.$pid.trace
	# preloaded and listening, but tracing nothing
	sd_wait 10 grep -q libpytrace /proc/"$pid"/maps || fail "$unit is not preloaded"
	sleep 1.5
	run sd_run "$pt" status $unit
	assert_success
	assert_line "  $pid: standby"
	run sd_run test -e "$trace"
	assert_failure
	# on: the next "instance start" is in the trace; off: nothing more
	run sd_run "$pt" on $unit
	assert_success
	assert_output "$pid: on (was standby), trace $trace"
	sd_wait 10 grep -qs "^$PT_ROOT/examples/demo/fakebrick/iscsi.py([0-9]*):     return portals\$" "$trace" || {
		sd_diag "$unit"
		fail "no traced line of the demo in $trace"
	}
	run sd_run "$pt" status $unit
	assert_line --regexp "^  $pid: on since [0-9:]+, [0-9]+ lines, trace $trace\$"
	run sd_run "$pt" off $unit
	assert_success
	assert_output --regexp "^$pid: off \(was on\), [0-9]+ lines written to $trace\$"
	size=$(sd_run stat -c %s "$trace")
	sleep 2.5
	assert_equal "$(sd_run stat -c %s "$trace")" "$size"
	run sd_run "$pt" status $unit
	assert_line --regexp "^  $pid: off since "
	# disable: back to an unpreloaded service
	run sd_run "$pt" disable $unit --restart
	assert_success
	pid=$(sd_show $unit MainPID)
	sd_wait 10 grep -q libc.so /proc/"$pid"/maps || fail "$unit did not restart"
	run sd_run grep -F libpytrace /proc/"$pid"/maps
	assert_failure 1
}
