# SPDX-License-Identifier: MIT
# Apache's mod_wsgi (Debian's libapache2-mod-wsgi-py3, Python 3.11), as
# OpenStack's API services run: by default each application runs in a
# subinterpreter of its own, whose lines are traced like any others.  A
# private Apache on 127.0.0.1, its own configuration and ServerRoot in the
# test's directory, in the foreground (-X); no system service.

load helper

PY=/usr/bin/python3.11
APACHE=/usr/sbin/apache2
WSGI=/usr/lib/apache2/modules/mod_wsgi.so

setup() {
	if [ ! -x "$APACHE" ] || [ ! -f "$WSGI" ] || [ ! -x "$PY" ]; then
		[ "${CI:-}" != true ] || fail "apache2-bin or libapache2-mod-wsgi-py3 is not installed"
		skip "apache2-bin or libapache2-mod-wsgi-py3 is not installed"
	fi
	# Apache started by root serves as another user, who must read the
	# application and write the trace: a directory of its own, not the
	# test's (0700).
	W=$(mktemp -d /tmp/pytrace-wsgi.XXXXXX)
	chmod 0755 "$W"
	mkdir -m 0777 "$W/out"
	cat >"$W/app.wsgi" <<-'PY'
	import os
	import sys
	sys.path.insert(0, os.path.dirname(__file__))
	import helper


	def application(environ, start_response):
	    body = helper.greet(environ.get("QUERY_STRING", ""))
	    start_response("200 OK", [("Content-Type", "text/plain")])
	    return [body.encode()]
	PY
	printf 'def greet(who):\n    return "hello %%s" %% (who or "world")\n' >"$W/helper.py"
	PORT=$("$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
	PYTHON=$PY SYS=$(sys_dirs)
}

teardown() {
	if [ -n "${APID:-}" ] && kill -0 "$APID" 2>/dev/null; then
		{ kill -KILL "$APID" && wait "$APID"; } 2>/dev/null || true
	fi
	[ -z "${W:-}" ] || rm -rf "$W"
}

# config MPM: an Apache configuration in $W, mod_wsgi's defaults (the
# application's group, hence its interpreter, named after the URL).
config() {
	local user=""
	[ "$(id -u)" != 0 ] || user="User $(id -un www-data 2>/dev/null || echo nobody)"
	cat >"$W/httpd.conf" <<-EOF
	ServerRoot "$W"
	ServerName 127.0.0.1
	Listen 127.0.0.1:$PORT
	PidFile "$W/httpd.pid"
	DefaultRuntimeDir "$W"
	ErrorLog "$W/error.log"
	LogLevel info
	LoadModule mpm_$1_module /usr/lib/apache2/modules/mod_mpm_$1.so
	LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
	LoadModule wsgi_module $WSGI
	$user
	WSGIScriptAlias /app "$W/app.wsgi"
	<Directory "$W">
	    Require all granted
	</Directory>
	EOF
}

# start: Apache in the foreground, traced, until it answers.
start() {
	LD_PRELOAD=$PT_LIB PYTRACE_OUTPUT=$W/out/trace PYTRACE_IGNORE_DIRS=$SYS \
		PYTRACE_FLUSH_INTERVAL=100 "$APACHE" -f "$W/httpd.conf" -X \
		>"$W/apache.out" 2>&1 &
	APID=$!
	for _ in $(seq 100); do
		get / >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$W/apache.out" "$W/error.log" >&2
	fail "Apache did not start"
}

# get PATH: the body of http://127.0.0.1:$PORT/PATH.
get() {
	"$PY" -c 'import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), timeout=10)
    sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    sys.stdout.write("HTTP %d" % e.code)' "$PORT" "$1"
}

expected_requests() {
	cat <<-EOF
	$W/app.wsgi(1): import os
	$W/app.wsgi(2): import sys
	$W/app.wsgi(3): sys.path.insert(0, os.path.dirname(__file__))
	$W/app.wsgi(4): import helper
	$W/helper.py(1): def greet(who):
	$W/app.wsgi(7): def application(environ, start_response):
	EOF
	for _ in 1 2; do
		cat <<-EOF
		$W/app.wsgi(8):     body = helper.greet(environ.get("QUERY_STRING", ""))
		$W/helper.py(2):     return "hello %s" % (who or "world")
		$W/app.wsgi(9):     start_response("200 OK", [("Content-Type", "text/plain")])
		$W/app.wsgi(10):     return [body.encode()]
		EOF
	done
}

@test "mod_wsgi: the application in its default subinterpreter is traced, and Apache stops cleanly" {
	config prefork
	start
	assert_equal "$(get /app?bob)" "hello bob"
	assert_equal "$(get /app)" "hello world"
	kill -TERM "$APID"
	local status=0
	wait "$APID" || status=$?
	assert_equal "$status" 0
	# the subinterpreter was the application's, and it ended
	assert_file_contains "$W/error.log" "Create interpreter '127.0.0.1:$PORT|/app'"
	assert_file_contains "$W/error.log" "End interpreter '127.0.0.1:$PORT|/app'"
	refute grep -q 'pytrace\[' "$W/error.log" "$W/apache.out"
	diff -u <(expected_requests) "$W/out/trace"
}

@test "mod_wsgi with the event MPM: requests served by its worker threads are traced" {
	config event
	start
	assert_equal "$(get /app?bob)" "hello bob"
	assert_equal "$(get /app)" "hello world"
	# Written within the flush interval.  (mod_wsgi's shutdown under -X
	# with this MPM waits for its worker threads, untraced as well: the
	# test's Apache is killed instead.)
	for _ in $(seq 50); do
		[ "$(grep -c 'app.wsgi(10)' "$W/out/trace" 2>/dev/null)" = 2 ] && break
		sleep 0.1
	done
	refute grep -q 'pytrace\[' "$W/error.log" "$W/apache.out"
	diff -u <(expected_requests) "$W/out/trace"
}
