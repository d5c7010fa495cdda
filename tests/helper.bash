# SPDX-License-Identifier: MIT
# Shared by every .bats file: paths, the library under test, and helpers to
# run a program with and without pytrace.

PT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PT_LIB=${PYTRACE_LIB:-$PT_ROOT/libpytrace.so}
PT_FIX=$PT_ROOT/tests/fixtures
APP=$PT_FIX/app

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

# Every test starts from a clean pytrace environment.
unset PYTRACE_ENABLE PYTRACE_OUTPUT PYTRACE_IGNORE_DIRS PYTRACE_IGNORE_MODULES

# traced CMD...: run CMD with the library preloaded.
traced() {
	LD_PRELOAD=$PT_LIB "$@"
}

# host_python: the interpreter of the tests that need one, not each:
# Debian's, else the first python3.
host_python() {
	if [ -x /usr/bin/python3.11 ]; then echo /usr/bin/python3.11; else command -v python3; fi
}

# pyver: the version of $PYTHON as a number, 311 for 3.11.
pyver() {
	"$PYTHON" -c 'import sys; print("%d%02d" % sys.version_info[:2])'
}

# python_in_chroot: $PYTHON is one of tests/chroot/'s, an interpreter of
# another Debian release run in a chroot (its own C library and files).
python_in_chroot() {
	[[ $PYTHON == "$PT_ROOT"/tests/chroot/* ]]
}

# python_is_static: $PYTHON has libpython linked into its executable (no
# shared libpython loaded; the chroots' Debian interpreters all do).
python_is_static() {
	python_in_chroot || ! ldd "$PYTHON" | grep -q 'libpython[0-9.mu]*\.so'
}

# python_name: the interpreter's program name as it sees it (argv[0]'s
# last part): tests/chroot/SUITE-pythonX.Y runs pythonX.Y.
python_name() {
	local n=${PYTHON##*/}
	if python_in_chroot; then echo "${n#*-}"; else echo "$n"; fi
}

# sys_dirs: the interpreter's standard library and site directories,
# ':'-separated, as a user would ignore them.
sys_dirs() {
	"$PYTHON" -c 'import site, sysconfig
p = sysconfig.get_paths()
d = [p["stdlib"], p["platstdlib"], p["purelib"], p["platlib"]]
d += site.getsitepackages() if hasattr(site, "getsitepackages") else []
print(":".join(sorted(set(d))))'
}

# expected NAME: fixture tests/fixtures/NAME with @APP@ replaced.
expected() {
	sed "s|@APP@|$APP|g" "$PT_FIX/$1"
}

# count_lines FILE: number of lines in FILE.
count_lines() {
	wc -l <"$1" | tr -d ' '
}

# notices FILE: the lines of pytrace's notices in trace FILE
# ("# pytrace[PID]: message"), with each PID shown as PID.
notices() {
	sed -n 's/^# pytrace\[[0-9][0-9]*\]: /# pytrace[PID]: /p' "$1"
}

# syslog_listen: a private /dev in $BATS_TEST_TMPDIR/dev, for a process run
# with `in_private_dev CMD`, whose log socket a listener reads: the first
# message it gets goes to $BATS_TEST_TMPDIR/syslog.  Wait for it with
# `wait "$SYSLOG_PID"`.  Needs root and unshare (skips otherwise).
syslog_listen() {
	[ "$(id -u)" = 0 ] && command -v unshare >/dev/null || skip "needs root and unshare"
	local d=$BATS_TEST_TMPDIR py=/usr/bin/python3
	[ -x "$py" ] || py=$(command -v python3)
	mkdir -p "$d/dev"
	mknod "$d/dev/null" c 1 3
	"$py" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1] + "/dev/log")
open(sys.argv[1] + "/ready", "w").close()
s.settimeout(20)
sys.stdout.write(s.recv(4096).decode())' "$d" >"$d/syslog" &
	SYSLOG_PID=$!
	while [ ! -e "$d/ready" ]; do sleep 0.1; done
}

# in_private_dev COMMANDLINE: run the shell command line with
# syslog_listen's /dev as /dev.
in_private_dev() {
	unshare -m sh -c "mount --bind '$BATS_TEST_TMPDIR/dev' /dev && $1"
}

# rotated FILE: in the array `files`, FILE's rotated files (FILE.N, up to
# FILE.1000) oldest first, then FILE.
rotated() {
	local i
	files=()
	for ((i = 1000; i >= 1; i--)); do
		[ -e "$1.$i" ] && files+=("$1.$i")
	done
	files+=("$1")
}

# wait_file FILE: until FILE exists (10 s at most).
wait_file() {
	local i
	for i in $(seq 200); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	fail "$1 did not appear"
}
