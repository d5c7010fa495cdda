# SPDX-License-Identifier: MIT
# Debian's gunicorn recycles a worker after --max-requests; a SIGTERM that
# reaches the worker while it finalises (signal actions already restored)
# ends it at once.  Its trace must hold every request it served.

load helper

PY=/usr/bin/python3.11

setup() {
	D=$BATS_TEST_TMPDIR
	if ! "$PY" -c 'import gunicorn' 2>/dev/null; then
		[ "${CI:-}" != true ] || fail "python3-gunicorn is missing"
		skip "python3-gunicorn is not installed"
	fi
}

teardown() {
	[ -z "${MASTER:-}" ] || kill -TERM "$MASTER" 2>/dev/null || true
	[ -z "${MASTER:-}" ] || wait "$MASTER" 2>/dev/null || true
}

# wait_for CMD...: up to 20 s for CMD to succeed.
wait_for() {
	local n=0
	until "$@" || [ $n -ge 200 ]; do sleep 0.1; n=$((n + 1)); done
	"$@"
}

@test "gunicorn --max-requests: a worker killed by SIGTERM while it finalises keeps every request's lines" {
	env LD_PRELOAD="$PT_LIB" PYTRACE_FLUSH_INTERVAL=60000 PYTRACE_OUTPUT="$D/t.%p" \
		PYTRACE_IGNORE_DIRS=/usr MARKS="$D" "$PY" -m gunicorn \
		--bind 127.0.0.1:0 --workers 1 --max-requests 10 \
		--chdir "$PT_FIX/gunicorn" app:application >"$D/log" 2>&1 &
	MASTER=$!
	wait_for grep -q "Booting worker" "$D/log"
	local port
	port=$(grep -o 'Listening at: http://127.0.0.1:[0-9]*' "$D/log" | grep -o '[0-9]*$')
	"$PY" -c "import urllib.request
for i in range(10):
    assert urllib.request.urlopen('http://127.0.0.1:$port/').read() == b'hello\n'"
	wait_for compgen -G "$D/teardown.*"
	local marker worker
	marker=$(compgen -G "$D/teardown.*" | head -n 1)
	worker=${marker##*.}
	kill -TERM "$worker"
	wait_for grep -q "Worker with pid $worker was terminated due to signal 15" "$D/log"
	run grep -c "gunicorn/app.py(11):     body = handle(environ)" "$D/t.$worker"
	assert_output 10
	run grep -c "gunicorn/app.py(7):     body = b\"hello" "$D/t.$worker"
	assert_output 10
}
