# SPDX-License-Identifier: MIT
# The bash completion of pytrace (shim/tools/pytrace.bash-completion):
# sourced into bash with COMP_WORDS and COMP_CWORD set as bash sets them,
# its function's COMPREPLY is what the user is offered.  Units come from a
# temporary root and a stand-in systemctl, as in cli.bats.

load helper

setup() {
	D=$BATS_TEST_TMPDIR
	export PYTRACE_ROOT=$D/root PYTRACE_SYSTEMCTL=$PT_FIX/fake-systemctl
	export FAKE_SYSTEMD=$D/sd
	mkdir -p "$D/root/etc/systemd/system" "$FAKE_SYSTEMD"/{units,env,pid}
	touch "$FAKE_SYSTEMD/units/"{nova-compute,nova-api,cinder-volume,getty@}.service
	# the tree's pytrace first: the options come from its --help
	export PATH=$PT_ROOT:$PATH
}

teardown() {
	[ -z "${KILL:-}" ] || kill $KILL 2>/dev/null || true
}

# complete WORD...: the completions of the last WORD (the cursor at its
# end) of the command line WORD..., one a line, sorted.  BASH_COMPLETION=1
# loads bash-completion first, as an interactive shell has it.
complete_words() {
	local pre=""
	[ "${BASH_COMPLETION:-}" != 1 ] || pre="source /usr/share/bash-completion/bash_completion;"
	bash -c "$pre"'
		source "$0"
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_pytrace
		printf "%s\n" "${COMPREPLY[@]}" | sort' \
		"$PT_ROOT/shim/tools/pytrace.bash-completion" "$@"
}

@test "completion: the subcommands, then the command of the run form" {
	run complete_words pytrace ""
	assert_output "attach
check
disable
enable
export
off
on
replay
report
status
summary"
	run complete_words pytrace en
	assert_output "enable"
	# no subcommand starts so: a command
	run complete_words pytrace python3.1
	assert_line "python3.11"
	refute_line "enable"
	# after options, only the command
	run complete_words pytrace -g ""
	assert_line "python3"
	refute_line "replay"
}

@test "completion: the options, as pytrace --help lists them, and each subcommand's own" {
	run complete_words pytrace --sc
	assert_output "--scope
--scope-depth
--scope-threads"
	run complete_words pytrace -
	assert_line "-g"
	assert_line "--ignore-dir"
	assert_line "--standby"
	assert_line "--conf"
	assert_line "--help"
	# every option of the help's OPTIONS section is offered
	local o
	for o in $(pytrace --help | sed -n 's/^  \(-[a-z], \)\{0,1\}\(--[a-z-]*\).*/\2/p'); do
		assert_line -- "$o"
	done
	run complete_words pytrace enable nova-compute --re
	assert_output "--record
--restart"
	run complete_words pytrace on nova-compute --f
	assert_output "--for
--format"
	run complete_words pytrace disable -
	assert_output "--all
--restart"
	run complete_words pytrace summary -
	assert_output "--include
--no-scopes"
	run complete_words pytrace export -
	assert_output "--perfetto
-o"
	run complete_words pytrace --start ""
	assert_output "init
main
standby"
}

@test "completion: service units for enable; units with pytrace's drop-in for disable, on, off, status" {
	run complete_words pytrace enable nova
	assert_output "nova-api.service
nova-compute.service"
	# a template unit cannot be enabled as it is
	run complete_words pytrace enable ""
	refute_line "getty@.service"
	assert_line "cinder-volume.service"
	run bash -c "grep -c list-unit-files '$FAKE_SYSTEMD/log'"
	assert_output 2

	mkdir -p "$D/root/etc/systemd/system/"{nova-compute,cinder-volume}.service.d
	touch "$D/root/etc/systemd/system/"{nova-compute,cinder-volume}.service.d/pytrace.conf
	mkdir -p "$D/root/etc/systemd/system/nova-api.service.d"
	touch "$D/root/etc/systemd/system/nova-api.service.d/admin.conf"
	# (on, off and status also offer the PIDs of traced processes, which
	# other tests may be running: left out here)
	local sub
	for sub in disable on off status; do
		run complete_words pytrace $sub ""
		assert_success
		assert_equal "$(grep -v '^[0-9]*$' <<<"$output")" "cinder-volume.service
nova-compute.service"
	done
	# one unit only
	run complete_words pytrace disable nova-compute.service ""
	assert_output ""
}

@test "completion: Python PIDs for attach; those with the library loaded for on, off, status" {
	local py plain traced
	py=$(host_python)
	"$py" -c 'import time; time.sleep(60)' &
	plain=$!
	# loaded but switched off: it does not listen, so that a `pytrace
	# status` elsewhere does not see it
	PYTRACE_ENABLED=false LD_PRELOAD=$PT_ROOT/libpytrace.so "$py" -c 'import time; time.sleep(60)' &
	traced=$!
	sleep 60 &
	local other=$!
	KILL="$plain $traced $other"
	wait_maps() { grep -qs "$2" "/proc/$1/maps"; }
	local i
	for i in $(seq 100); do
		wait_maps $traced libpytrace.so && wait_maps $plain libc.so && break
		sleep 0.05
	done
	run complete_words pytrace attach ""
	assert_line "$plain"
	assert_line "$traced"
	refute_line "$other"
	run complete_words pytrace on ""
	assert_line "$traced"
	refute_line "$plain"
	run complete_words pytrace status ""
	assert_line "$traced"
	run complete_words pytrace off "$traced"
	assert_output "$traced"
}

@test "completion: files for summary, replay, report, export, check, --conf and -o; directories for --ignore-dir" {
	cd "$D"
	mkdir -p traces conf.d
	touch traces/a.trace traces/b.rec my.conf
	local sub
	for sub in summary replay report export check; do
		run complete_words pytrace $sub traces/
		assert_output "traces/a.trace
traces/b.rec"
	done
	run complete_words pytrace report -o tr
	assert_output "traces"
	run complete_words pytrace enable nova-compute --conf my
	assert_output "my.conf"
	run complete_words pytrace --ignore-dir ""
	assert_output "conf.d
root
sd
traces"
	# and with bash-completion loaded, whose _filedir is then used
	BASH_COMPLETION=1 run complete_words pytrace summary traces/
	assert_output "traces/a.trace
traces/b.rec"
	BASH_COMPLETION=1 run complete_words pytrace --ignore-dir t
	assert_output "traces"
}

@test "completion: the run form's command completes as that command" {
	[ -f /usr/share/bash-completion/bash_completion ] || skip "bash-completion is not installed"
	cd "$D"
	touch prog.py
	# without bash-completion: the command, then files
	run complete_words pytrace -g python3 pro
	assert_output "prog.py"
	run complete_words pytrace -- python3.1
	assert_line "python3.11"
	run complete_words pytrace -- python3 pro
	assert_output "prog.py"
	# with it, as python3's own completion does (its options)
	BASH_COMPLETION=1 run complete_words pytrace python3 -
	assert_line "-m"
	BASH_COMPLETION=1 run complete_words pytrace -- python3 -
	assert_line "-m"
}
