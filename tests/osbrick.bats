# SPDX-License-Identifier: MIT
# os_brick attaching an iSCSI volume as nova-compute does, traced with a
# scope on ISCSIConnector.connect_volume: the trace is that attach and
# nothing else.  Debian's python3-os-brick with /usr/bin/python3.11; the
# commands and the sysfs entries os_brick looks for are stubbed by the
# fixture tests/fixtures/osbrick-connect.py.

load helper

PY=/usr/bin/python3.11
CONNECT=os_brick.initiator.connectors.iscsi:ISCSIConnector.connect_volume

setup() {
	if ! "$PY" -c 'import os_brick' 2>/dev/null; then
		[ "${CI:-}" != true ] || fail "python3-os-brick is not installed"
		skip "python3-os-brick is not installed"
	fi
	D=$BATS_TEST_TMPDIR
	S=$PT_FIX/osbrick-connect.py
	OB=/usr/lib/python3/dist-packages/os_brick/initiator
}

@test "os_brick: a scope on ISCSIConnector.connect_volume writes that attach and nothing before or after it" {
	run "$PY" "$S" "$D"
	assert_success
	local plain=$output
	assert_line --partial "attached /dev/sdb (wwn 36001405f3a1b9a6e0c4d4e1b8c2d7a90), 10 commands"
	run env LD_PRELOAD="$PT_LIB" PYTRACE_OUTPUT="$D/t" PYTRACE_IGNORE_DIRS=/usr/lib/python3.11 \
		PYTRACE_SCOPE=$CONNECT "$PY" "$S" "$D"
	assert_success
	assert_equal "$output" "$plain"
	# one entry line, the first
	run grep -c '^ === scope: ' "$D/t"
	assert_output 1
	assert_regex "$(head -n 1 "$D/t")" "^ === scope: $CONNECT \(thread [0-9]+\)\$"
	# the attach: connect_volume, the login, the rescan, the device lookup
	assert_file_contains "$D/t" "^$OB/connectors/iscsi.py(522):             if self.use_multipath:\$"
	assert_file_contains "$D/t" "^$OB/connectors/iscsi.py(1132):                 self._run_iscsiadm(connection_properties, (\"--login\",),\$"
	assert_file_contains "$D/t" "^$OB/linuxscsi.py(723):         self.echo_scsi_command('/sys/class/scsi_host/host%s/scan' % host,\$"
	assert_file_contains "$D/t" "^$OB/linuxscsi.py(711):         devices = sorted(glob.glob(path))\$"
	# the stub, called beneath it, is written once for each of the 10
	# commands: not for the session list the script asks for afterwards
	run grep -c "^$S([0-9]*):     commands.append(\" \".join(cmd))\$" "$D/t"
	assert_output 10
	run grep -c "^$OB/connectors/iscsi.py(121):         out, err = self._run_iscsi_session()\$" "$D/t"
	assert_output 2
	# of the script, only the functions it calls (indented lines): not
	# one line of its top level, neither the markers before and after the
	# call nor anything else
	refute grep -q "^$S([0-9]*): [^ ]" "$D/t"
	refute grep -q "CONNECT\"" "$D/t"
}
