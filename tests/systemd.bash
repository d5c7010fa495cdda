# SPDX-License-Identifier: MIT
# Tests under a real systemd: boot one as PID 1 of new namespaces (see
# tests/sd-boot), run commands in it, stop it.  `load systemd` after
# `load helper`; typically
#
#   setup_file() { if sd_available; then sd_boot; fi; }
#   setup() { sd_require; }
#   teardown_file() { sd_stop; }
#   @test "..." { sd_run systemctl start foo.service; ... }
#
# (bats 1.8 cannot skip in setup_file: each test skips in setup.)  Or boot
# one container for each test: setup() { sd_require; sd_boot; } and
# teardown() { sd_stop; }.
#
# The container's / is a throw-away overlay of the host's: it sees this
# checkout and the library, and whatever a test writes there (units in
# /etc/systemd/system, files anywhere) is gone when it stops.
#
# sd_available             0 if a container can boot here; otherwise 1, with
#                          the reason in SD_UNAVAILABLE
# sd_require               sd_available, or skip the test(s) with the reason
#                          (fail instead when CI=true)
# sd_boot [DIR]            boot and wait until `systemctl is-system-running`
#                          says running; 0, or 1 after printing a diagnostic
#                          and cleaning up.  Sets and exports SD_PID (host pid
#                          of the container's systemd), SD_DIR (its state
#                          directory: DIR, default a new one under
#                          $BATS_FILE_TMPDIR, removed by sd_stop) and
#                          SD_LAUNCHER.  Call it
#                          directly, not through `run` or `$(...)`, and
#                          sd_stop from the same process (setup_file and
#                          teardown_file, or setup and teardown)
# sd_stop                  power off, wait, kill what is left, remove the
#                          cgroup; safe to call again or after a failed boot
# sd_run CMD...            run CMD in all the container's namespaces (as
#                          root, with the caller's environment, in /)
# sd_write PATH            write standard input to PATH in the container,
#                          creating its directory
# sd_wait SECONDS CMD...   run CMD in the container every 0.1 s until it
#                          succeeds; 1 if it did not within SECONDS
# sd_show UNIT PROPERTY    the value of PROPERTY of UNIT (systemctl show -P)
# sd_diag [UNIT...]        print the system state, failed units, pending
#                          jobs and journal (of the UNITs, or warnings of the
#                          whole boot) to standard error
#
# Settings (environment):
#   SD_BOOT_TIMEOUT   seconds to reach running (30)
#   SD_STOP_TIMEOUT   seconds to power off before systemd is killed (20)
#   SD_RUN_TIMEOUT    seconds one sd_run may take before it is killed (60)
#   SD_ALLOW_DEGRADED 1: a boot that ends `degraded` is accepted (after the
#                     diagnostic) instead of failing
#   SD_BIND           ':'-separated host directories bound read-only at the
#                     same path inside (for ones not on the root filesystem)
#   SD_SYSTEMD        systemd binary (/lib/systemd/systemd)

SD_BOOT=${PT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}/tests/sd-boot

sd_available() {
	SD_UNAVAILABLE=
	local c cg
	if [ "$(id -u)" != 0 ]; then
		SD_UNAVAILABLE="booting systemd in namespaces needs root"
		return 1
	fi
	for c in unshare nsenter setpriv findmnt pivot_root systemd-id128 timeout; do
		if ! command -v "$c" >/dev/null; then
			SD_UNAVAILABLE="$c is not installed"
			return 1
		fi
	done
	if [ ! -x "${SD_SYSTEMD:-/lib/systemd/systemd}" ]; then
		SD_UNAVAILABLE="systemd is not installed (${SD_SYSTEMD:-/lib/systemd/systemd})"
		return 1
	fi
	# A host run by systemd owns the cgroup tree: a container there must be
	# started in a delegated unit, which tests/sd-boot does not do.
	if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
		SD_UNAVAILABLE="the host's PID 1 is systemd (tests/sd-boot is for hosts without it)"
		return 1
	fi
	cg=$(findmnt -n -o TARGET -t cgroup2 | head -n 1)
	if [ -z "$cg" ] || [ ! -w "$cg/cgroup.procs" ]; then
		SD_UNAVAILABLE="no writable cgroup2 mount"
		return 1
	fi
	if ! grep -qw overlay /proc/filesystems; then
		SD_UNAVAILABLE="the kernel has no overlayfs"
		return 1
	fi
	if ! unshare --pid --fork --mount --uts --ipc --net --cgroup true 2>/dev/null; then
		SD_UNAVAILABLE="unshare cannot create namespaces here"
		return 1
	fi
}

sd_require() {
	sd_available && return 0
	[ "${CI:-}" != true ] || fail "systemd tests: $SD_UNAVAILABLE"
	skip "$SD_UNAVAILABLE"
}

# _sd_alive PID: PID exists and is not a zombie.
_sd_alive() {
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] &&
		! grep -q '^[0-9]* (.*) Z ' "/proc/$1/stat" 2>/dev/null
}

sd_boot() {
	local dir=${1:-} state
	if [ -n "${SD_LAUNCHER:-}" ] && _sd_alive "$SD_LAUNCHER"; then
		echo "sd_boot: a container is already running (pid $SD_PID)" >&2
		return 1
	fi
	SD_OWN_DIR=
	if [ -z "$dir" ]; then
		dir=$(mktemp -d "${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}}/sd.XXXXXX")
		SD_OWN_DIR=1
	fi
	mkdir -p "$dir"
	export SD_DIR=$dir SD_PID='' SD_LAUNCHER='' SD_OWN_DIR
	# Its own output goes to a file, and bats' fd 3 must not stay open in
	# it (bats would wait for it).
	"$SD_BOOT" "$dir" </dev/null >"$dir/log" 2>&1 3>&- &
	SD_LAUNCHER=$!
	for _ in $(seq 300); do
		[ ! -s "$dir/pid" ] || break
		_sd_alive "$SD_LAUNCHER" || break
		sleep 0.05
	done
	SD_PID=$(cat "$dir/pid" 2>/dev/null) || true
	if [ -z "$SD_PID" ]; then
		echo "sd_boot: systemd did not start" >&2
		sd_stop
		return 1
	fi
	local end=$((SECONDS + ${SD_BOOT_TIMEOUT:-30}))
	while :; do
		state=$(SD_RUN_TIMEOUT=5 sd_run systemctl is-system-running 2>&1) || true
		case $state in
		running) return 0 ;;
		degraded | maintenance | stopping | offline) break ;;
		esac
		if ! _sd_alive "$SD_PID"; then
			state="systemd exited"
			break
		fi
		if [ "$SECONDS" -ge "$end" ]; then
			state="still '$state' after ${SD_BOOT_TIMEOUT:-30}s"
			break
		fi
		sleep 0.1
	done
	echo "sd_boot: the boot did not reach running: $state" >&2
	# shellcheck disable=SC2119
	sd_diag
	if [ "$state" = degraded ] && [ "${SD_ALLOW_DEGRADED:-}" = 1 ]; then
		return 0
	fi
	sd_stop
	return 1
}

sd_stop() {
	[ -n "${SD_DIR:-}" ] || return 0
	local launcher=${SD_LAUNCHER:-} cg
	# SIGTERM to tests/sd-boot: it powers systemd off (SIGRTMIN+4), kills
	# it after SD_STOP_TIMEOUT, and removes the cgroup.
	if _sd_alive "$launcher" && grep -qa sd-boot "/proc/$launcher/cmdline"; then
		kill -TERM "$launcher" 2>/dev/null || true
		for _ in $(seq $(((${SD_STOP_TIMEOUT:-20} + 10) * 10))); do
			_sd_alive "$launcher" || break
			sleep 0.1
		done
		if _sd_alive "$launcher"; then
			echo "sd_stop: tests/sd-boot did not stop: killing the container" >&2
			kill -KILL "$SD_PID" "$launcher" 2>/dev/null || true
		fi
	fi
	[ -z "$launcher" ] || wait "$launcher" 2>/dev/null || true
	# Normally gone already; not so when tests/sd-boot was killed.
	cg=$(cat "$SD_DIR/cgroup" 2>/dev/null) || cg=
	if [ -n "$cg" ] && [ -d "$cg" ]; then
		echo 1 >"$cg/cgroup.kill" 2>/dev/null || true
		for _ in $(seq 50); do
			grep -q '^populated 0' "$cg/cgroup.events" 2>/dev/null && break
			sleep 0.1
		done
		find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
		[ ! -d "$cg" ] || echo "sd_stop: could not remove cgroup $cg" >&2
	fi
	[ ! -s "$SD_DIR/log" ] || {
		echo "sd_stop: tests/sd-boot said:" >&2
		cat "$SD_DIR/log" >&2
	}
	if [ -n "${SD_OWN_DIR:-}" ]; then
		rm -f "$SD_DIR/log" "$SD_DIR/cgroup" "$SD_DIR/pid"
		rmdir "$SD_DIR/root" "$SD_DIR" 2>/dev/null || true
	fi
	unset SD_PID SD_DIR SD_LAUNCHER SD_OWN_DIR
}

sd_run() {
	if [ -z "${SD_PID:-}" ]; then
		echo "sd_run: no container (sd_boot first)" >&2
		return 1
	fi
	# The time limit is applied inside: were nsenter killed first, its
	# child's zombie would go to the host's PID 1 (the parent namespace's
	# reaper), and the container could not power off until that reaped it.
	# The outer limit is only a backstop.
	local t=${SD_RUN_TIMEOUT:-60}
	timeout -s KILL $((t + 10)) \
		nsenter -t "$SD_PID" -a -- timeout -k 2 "$t" "$@"
}

sd_write() {
	# shellcheck disable=SC2016 # expanded by the container's sh
	sd_run sh -c 'mkdir -p "$(dirname "$1")" && cat >"$1"' sd_write "$1"
}

sd_wait() {
	local end=$((SECONDS + $1))
	shift
	until SD_RUN_TIMEOUT=${SD_RUN_TIMEOUT:-10} sd_run "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

sd_show() {
	sd_run systemctl show -P "$2" "$1"
}

# shellcheck disable=SC2120 # the UNITs are optional
sd_diag() {
	local u
	{
		echo "--- systemctl is-system-running"
		SD_RUN_TIMEOUT=5 sd_run systemctl is-system-running
		echo "--- systemctl --failed"
		SD_RUN_TIMEOUT=5 sd_run systemctl --failed --no-pager --no-legend
		echo "--- systemctl list-jobs"
		SD_RUN_TIMEOUT=5 sd_run systemctl list-jobs --no-pager --no-legend
		if [ $# = 0 ]; then
			echo "--- journalctl -b -p warning"
			SD_RUN_TIMEOUT=5 sd_run journalctl -b -p warning --no-pager -n 40
		fi
		for u in "$@"; do
			echo "--- systemctl status $u"
			SD_RUN_TIMEOUT=5 sd_run systemctl status --no-pager -n 0 "$u"
			echo "--- journalctl -u $u"
			SD_RUN_TIMEOUT=5 sd_run journalctl -u "$u" --no-pager -n 40
		done
	} >&2 || true
}
