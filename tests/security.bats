# SPDX-License-Identifier: MIT
# Hostile input and security: trace file modes, planted symbolic links,
# configuration files other users can write (for root), secure-execution
# processes, and hostile values in the environment.

load helper

setup() {
	D=$BATS_TEST_TMPDIR
	PY=/usr/bin/python3.11
	[ -x "$PY" ] || PY=$(command -v python3)
	printf 'import sys\ndef f(x):\n    return x + 1\nprint(f(1))\nsys.exit(4)\n' >"$D/prog.py"
}

# untraced ENV...: prog.py with the library and ENV behaves as untraced
untraced() {
	run --separate-stderr env LD_PRELOAD="$PT_LIB" "$@" "$PY" "$D/prog.py"
	assert_equal "$status" 4
	assert_output "2"
}

@test "trace files are created 0600, or with file_mode" {
	umask 000
	PYTRACE_OUTPUT=$D/a traced "$PY" "$D/prog.py" >/dev/null || true
	run stat -c %a "$D/a"
	assert_output 600
	PYTRACE_FILE_MODE=0640 PYTRACE_OUTPUT=$D/b traced "$PY" "$D/prog.py" >/dev/null || true
	run stat -c %a "$D/b"
	assert_output 640
	untraced PYTRACE_FILE_MODE=0666 PYTRACE_OUTPUT="$D/c"
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: PYTRACE_FILE_MODE: '0666' is not a file mode for a trace \(octal, readable and writable by its owner, not by everyone: 0600, 0640\); not tracing$"
	assert_file_not_exists "$D/c"
}

@test "a symbolic link planted at the output path is never followed" {
	echo "precious" >"$D/target"
	ln -s "$D/target" "$D/t"
	untraced PYTRACE_OUTPUT="$D/t"
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: cannot open trace output '$D/t': it is a symbolic link, which pytrace never follows; not tracing$"
	assert_equal "$(cat "$D/target")" "precious"
}

@test "an existing file is never truncated" {
	echo "earlier" >"$D/t"
	PYTRACE_OUTPUT=$D/t traced "$PY" "$D/prog.py" >/dev/null || true
	assert_equal "$(head -n 1 "$D/t")" "earlier"
}

@test "as root, a configuration another user can write is refused, naming why" {
	[ "$(id -u)" = 0 ] || skip "the rule is for processes running as root"
	mkdir -m 0755 "$D/etc"
	echo "output = \"$D/t\";" >"$D/etc/c.conf"
	chmod 0666 "$D/etc/c.conf"
	untraced PYTRACE_CONF="$D/etc/c.conf"
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: $D/etc/c.conf: refused: $D/etc/c.conf is writable by every user, and this process runs as root; not tracing$"
	chmod 0644 "$D/etc/c.conf"
	chown 65534 "$D/etc/c.conf"
	untraced PYTRACE_CONF="$D/etc/c.conf"
	assert_regex "$stderr" "refused: $D/etc/c.conf is owned by uid 65534, not root"
	chown 0 "$D/etc/c.conf"
	chmod 0777 "$D/etc"
	untraced PYTRACE_CONF="$D/etc/c.conf"
	assert_regex "$stderr" "refused: $D/etc is writable by every user"
	chmod 0755 "$D/etc"
	assert_file_not_exists "$D/t"
	# and a safe one is read
	PYTRACE_CONF=$D/etc/c.conf traced "$PY" "$D/prog.py" >/dev/null || true
	assert_file_exists "$D/t"
}

@test "hostile values: huge, 4096+ byte paths, newlines, escape sequences, invalid UTF-8" {
	local long
	long=$(head -c 5000 /dev/zero | tr '\0' 'a')
	untraced PYTRACE_OUTPUT="$D/$long"
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: output: '.*' is too long; not tracing$"
	untraced PYTRACE_IGNORE_DIRS="/x/$long"
	assert_regex "$stderr" "ignore_dirs: cannot use directory '/x/a+.*; not tracing$"
	untraced PYTRACE_OUTPUT="$D/t" PYTRACE_ENABLED=$'yes\nfake: line\e[31m'
	# one line, control characters shown as '?'
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "^pytrace\[[0-9]+\]: PYTRACE_ENABLED: 'yes\?fake: line\?\[31m' is not a boolean"
	untraced PYTRACE_OUTPUT="$D/t2" PYTRACE_IGNORE_MODULES=$'caf\xe9,\xff\xfe'
	assert_equal "$stderr" ""
	assert_file_exists "$D/t2"
	untraced PYTRACE_FORMAT="$(head -c 100000 /dev/zero | tr '\0' 'x')"
	assert_regex "$stderr" "PYTRACE_FORMAT: '.*' is too long; not tracing$"
	untraced PYTRACE_OUTPUT="$D/t3" PYTRACE_IGNORE_MODULES="$(seq -s, 1 20000 | sed 's/[0-9]*/m&/g')"
	assert_equal "$stderr" ""
	assert_file_exists "$D/t3"
	untraced PYTRACE_OUTPUT="$D/%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n%n"
	assert_regex "$stderr" "(output: '.*' is too long|cannot open trace output '.*': File name too long); not tracing$"
}

@test "a secure-execution (set-uid) process reads no environment and traces nothing" {
	[ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v setpriv >/dev/null ||
		skip "needs root, unshare and setpriv"
	# A set-uid copy of the interpreter, run by nobody: AT_SECURE.  The
	# loader ignores LD_PRELOAD then, so the library comes from a private
	# /etc/ld.so.preload, as an administrator's would.  nobody needs a
	# directory it can reach.
	D=$(mktemp -d /tmp/pytrace-secure.XXXXXX)
	chmod 0777 "$D"
	printf 'print(2)\n' >"$D/prog.py"
	cp "$PY" "$D/py-setuid"
	cp "$PY" "$D/py-plain"
	chmod 4755 "$D/py-setuid"
	chmod 0644 "$D/prog.py"
	# /etc/ld.so.preload only in a private mount namespace: an overlay on /etc
	mkdir "$D/up" "$D/work"
	run unshare -m sh -c "mount -t overlay overlay -o lowerdir=/etc,upperdir='$D/up',workdir='$D/work' /etc &&
		echo '$PT_LIB' >/etc/ld.so.preload &&
		setpriv --reuid=65534 --regid=65534 --clear-groups env PYTRACE_OUTPUT='$D/plain.%p' '$D/py-plain' '$D/prog.py';
		setpriv --reuid=65534 --regid=65534 --clear-groups env PYTRACE_OUTPUT='$D/setuid.%p' '$D/py-setuid' '$D/prog.py';
		exit 0"
	assert_success
	# the plain interpreter was traced: the library was loaded as intended
	run bash -c "ls '$D' | grep -c '^plain\.'"
	assert_output 1
	run bash -c "ls '$D' | grep -c '^setuid\.'"
	assert_output 0
	rm -rf "$D"
}
