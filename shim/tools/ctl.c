/* SPDX-License-Identifier: MIT */
/*
 * ctl.c - pytrace-ctl PID on|off|status: switch tracing on and off in a
 * running process, or ask what it is doing, through the control socket
 * that its libpytrace.so listens on when it was started with
 * start = "standby".  The `pytrace on/off/status` commands run it once a
 * process.
 *
 * Protocol v1, the client's side (the library's listener follows the same):
 *  - an AF_UNIX stream socket with the abstract name "pytrace/<pid>";
 *    since anyone may bind an abstract name, the client makes sure, right
 *    after connecting, that the peer (SO_PEERCRED) is the process asked
 *    for, and sends nothing otherwise;
 *  - the request: one line of at most 65536 bytes, fields separated by
 *    TAB: "on" then PYTRACE_<NAME>=value as in the environment, for=S
 *    (seconds) and lines=N (switch off by itself after them); "off";
 *    "status";
 *  - the reply: one line, "ok" or "refused", then key=value fields in any
 *    order (state, was, since, lines, output, why); unknown keys are
 *    ignored; the server closes the connection after it;
 *  - the whole exchange gets 1 s.
 * Everything that can be checked is checked before connecting: the
 * arguments (each setting as the process would read it from its
 * environment), that the process exists, runs Python and has the library
 * loaded.  Exit status: 0 when the process is in the state asked for (or
 * answered `status`), 1 when it refused or could not be asked, 2 for a bad
 * command line, without connecting.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "pytrace.h"
#include "settings.h"

enum {
	CTL_LINE_MAX = 65536,	/* bytes of a request or a reply, '\n' included */
	CTL_TIMEOUT_MS = 1000,	/* for connect, write and reply together */
};

/* How to start a process so that it can be switched on, said wherever a
 * process turns out not to be. */
static const char how_to_start[] =
	"start it with pytrace enable UNIT --standby --restart, or "
	"pytrace --standby COMMAND";

static void usage(void)
{
	fprintf(stderr,
		"usage: pytrace-ctl PID on [PYTRACE_NAME=VALUE...] [for=SECONDS] [lines=N]\n"
		"       pytrace-ctl PID off\n"
		"       pytrace-ctl PID status\n");
}

/*
 * check_count - `value` of field `name` (for, lines) is a decimal integer
 * above 0.  Returns 0, or -EINVAL after a message.
 */
static int check_count(const char *name, const char *value, const char *what)
{
	long long n;

	if (pt_parse_int(value, 0, &n) < 0 || n <= 0) {
		fprintf(stderr, "pytrace: %s: '%s' is not %s above 0\n", name,
			value, what);
		return -EINVAL;
	}
	return 0;
}

/*
 * check_setting - `arg` is PYTRACE_<NAME>=value for a known setting, with
 * a value the process would take from its environment (given once:
 * seen[] by setting id), or PYTRACE_CONF=an absolute path to a valid
 * configuration file.  Returns 0, or -EINVAL after a message: the library's
 * own for a bad value.
 */
static int check_setting(struct pt_settings *s, char *seen, const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *value = eq + 1;
	char var[64], name[64];
	const char *hint = NULL;
	size_t n = (size_t)(eq - arg);
	int id;

	if (n >= sizeof(var)) {
		fprintf(stderr, "pytrace: %.60s...: no such setting\n", arg);
		return -EINVAL;
	}
	memcpy(var, arg, n);
	var[n] = '\0';
	if (strcmp(var, "PYTRACE_CONF") == 0) {
		/* read by the process, from its own working directory */
		if (value[0] != '/') {
			fprintf(stderr, "pytrace: PYTRACE_CONF: '%s' is not an "
				"absolute path\n", value);
			return -EINVAL;
		}
		return pt_conf_load(s, value) < 0 ? -EINVAL : 0;
	}
	for (size_t i = 8; i <= n; i++)	/* the name after PYTRACE_, and '\0' */
		name[i - 8] = (char)tolower((unsigned char)var[i]);
	id = pt_setting_find(name, &hint);
	if (id >= 0) {
		/* the process knows its variables in capitals only */
		pt_setting_env_name(id, name, sizeof(name));
		if (strcmp(name, var) != 0) {
			hint = pt_setting_name(id);
			id = -1;
		}
	}
	if (id < 0) {
		char want[64] = "";
		if (hint)
			pt_setting_env_name(pt_setting_find(hint, NULL), want,
					    sizeof(want));
		fprintf(stderr, "pytrace: %s: no such setting%s%s%s\n", var,
			hint ? " (did you mean " : "", want, hint ? "?)" : "");
		return -EINVAL;
	}
	if (seen[id]++) {
		fprintf(stderr, "pytrace: %s: given twice\n", var);
		return -EINVAL;
	}
	return pt_setting_env_apply(s, id, var, value);
}

/*
 * check_on_args - the fields of an `on` request, argv[0..argc-1], checked
 * as the process will take them.  Returns 0, or -EINVAL after one message
 * per bad field.
 */
static int check_on_args(int argc, char **argv)
{
	struct pt_settings s;
	char seen[PT_SETTINGS_MAX] = { 0 };
	int rc = 0, r;

	pt_settings_init(&s);
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *eq = strchr(arg, '=');

		if (strpbrk(arg, "\t\n")) {
			fprintf(stderr, "pytrace: %.*s: a value cannot hold a "
				"tab or a line break\n",
				eq ? (int)(eq - arg) : 0, arg);
			r = -EINVAL;
		} else if (strncmp(arg, "for=", 4) == 0) {
			r = check_count("for", arg + 4, "a number of seconds");
		} else if (strncmp(arg, "lines=", 6) == 0) {
			r = check_count("lines", arg + 6, "a number of lines");
		} else if (eq && eq - arg > 8 && strncmp(arg, "PYTRACE_", 8) == 0) {
			r = check_setting(&s, seen, arg);
		} else {
			fprintf(stderr, "pytrace: '%s' is not PYTRACE_NAME="
				"VALUE, for=SECONDS or lines=N\n", arg);
			r = -EINVAL;
		}
		if (r < 0)
			rc = r;
	}
	pt_settings_free(&s);
	return rc;
}

/*
 * check_process - whether process `pid` can be asked at all: it exists,
 * runs Python (libpython mapped, or an executable named python*) and has
 * libpytrace.so mapped.  Returns 0, or 1 after a message saying what to
 * do.  Python comes first: restarting a program that is not Python with
 * the library would not help.
 */
static int check_process(long pid)
{
	char path[64], exe[4096] = "", *line = NULL;
	size_t cap = 0;
	int lib = 0, python = 0;
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld", pid);
	if (stat(path, &st) < 0) {
		fprintf(stderr, "pytrace: no process %ld\n", pid);
		return 1;
	}
	snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "pytrace: PID %ld: cannot read %s: %s\n", pid,
			path, strerror(errno));
		return 1;
	}
	while (getline(&line, &cap, f) > 0) {
		lib |= strstr(line, "/libpytrace.so") != NULL;
		python |= strstr(line, "/libpython") != NULL;
	}
	free(line);
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
	ssize_t n = readlink(path, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		const char *base = strrchr(exe, '/');
		python |= strncmp(base ? base + 1 : exe, "python", 6) == 0;
	} else {
		python = 1;	/* unknown: the process will say */
	}
	if (!python) {
		fprintf(stderr, "pytrace: PID %ld (%s) is not a Python "
			"process\n", pid, exe);
		return 1;
	}
	if (!lib) {
		fprintf(stderr, "pytrace: PID %ld does not have pytrace's "
			"library loaded: pytrace attach %ld would load it now; "
			"or %s\n", pid, pid, how_to_start);
		return 1;
	}
	return 0;
}

/* Milliseconds left until `deadline` (CLOCK_MONOTONIC), 0 when past. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (deadline->tv_sec - now.tv_sec) * 1000LL +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

/* Wait for `events` on fd until the deadline: 1 ready, 0 timed out. */
static int wait_for(int fd, short events, const struct timespec *deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int left, r;

	do {
		left = ms_left(deadline);
		r = poll(&p, 1, left);
	} while (r < 0 && errno == EINTR);
	return r > 0;
}

/*
 * connect_to - a socket connected to the control socket of `pid`, whose
 * peer is that process, or -1 after a message.  A listener whose backlog
 * is full is retried until the deadline.
 */
static int connect_to(long pid, const struct timespec *deadline)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t credlen = sizeof(cred);
	int n, fd;

	n = snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1,
		     "pytrace/%ld", pid);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				    1 + (size_t)n);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		fprintf(stderr, "pytrace: socket: %s\n", strerror(errno));
		return -1;
	}
	while (connect(fd, (struct sockaddr *)&addr, len) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && ms_left(deadline) > 0) {
			nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
			continue;
		}
		if (errno == EAGAIN)
			fprintf(stderr, "pytrace: PID %ld did not answer "
				"within 1 s\n", pid);
		else if (errno == ECONNREFUSED)
			fprintf(stderr, "pytrace: PID %ld does not listen for "
				"pytrace's commands: it was not started with "
				"start = \"standby\"; %s\n", pid, how_to_start);
		else
			fprintf(stderr, "pytrace: PID %ld: cannot connect to "
				"its control socket: %s\n", pid,
				strerror(errno));
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) < 0) {
		fprintf(stderr, "pytrace: PID %ld: cannot tell who holds its "
			"control socket: %s; refusing\n", pid,
			strerror(errno));
		close(fd);
		return -1;
	}
	if ((long)cred.pid != pid) {
		fprintf(stderr, "pytrace: PID %ld: the control socket is held "
			"by process %ld, not by %ld; refusing\n", pid,
			(long)cred.pid, pid);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * exchange - send `req` (len bytes, one line) to process `pid` and read
 * its one-line reply into reply[CTL_LINE_MAX + 1], without the '\n' and
 * with any other control character but TAB made '?'.
 * Returns 0, or 1 after a message.
 */
static int exchange(long pid, const char *req, size_t len, char *reply)
{
	struct timespec deadline;
	size_t done = 0, got = 0;
	char *nl = NULL;
	int fd;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_nsec += CTL_TIMEOUT_MS % 1000 * 1000000L;
	deadline.tv_sec += CTL_TIMEOUT_MS / 1000 + deadline.tv_nsec / 1000000000;
	deadline.tv_nsec %= 1000000000;
	fd = connect_to(pid, &deadline);
	if (fd < 0)
		return 1;
	while (done < len) {
		if (!wait_for(fd, POLLOUT, &deadline))
			goto timeout;
		ssize_t n = send(fd, req + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			goto closed;
		done += (size_t)n;
	}
	while (!nl) {
		if (got == CTL_LINE_MAX) {
			fprintf(stderr, "pytrace: PID %ld: its reply is longer "
				"than %d bytes\n", pid, CTL_LINE_MAX);
			close(fd);
			return 1;
		}
		if (!wait_for(fd, POLLIN, &deadline))
			goto timeout;
		ssize_t n = recv(fd, reply + got, CTL_LINE_MAX - got, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			goto closed;
		nl = memchr(reply + got, '\n', (size_t)n);
		got += (size_t)n;
	}
	*nl = '\0';
	/* what the process says goes to a terminal: no control characters
	 * but the separators */
	for (char *c = reply; c < nl; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
			*c = '?';
	close(fd);
	return 0;
timeout:
	fprintf(stderr, "pytrace: PID %ld did not answer within 1 s\n", pid);
	close(fd);
	return 1;
closed:
	fprintf(stderr, "pytrace: PID %ld closed the connection without a "
		"reply\n", pid);
	close(fd);
	return 1;
}

/* The fields of a reply this client knows; NULL when absent. */
struct reply {
	const char *state, *was, *since, *lines, *output, *why;
};

/*
 * parse_reply - split `line` (modified in place) into r.  Returns 1 for
 * "ok", 0 for "refused", -1 for anything else.
 */
static int parse_reply(char *line, struct reply *r)
{
	static const struct {
		const char *key;
		size_t at;
	} keys[] = {
		{ "state", offsetof(struct reply, state) },
		{ "was", offsetof(struct reply, was) },
		{ "since", offsetof(struct reply, since) },
		{ "lines", offsetof(struct reply, lines) },
		{ "output", offsetof(struct reply, output) },
		{ "why", offsetof(struct reply, why) },
	};
	char *p = line, *field = strsep(&p, "\t");
	int ok = strcmp(field, "ok") == 0 ? 1 :
		 strcmp(field, "refused") == 0 ? 0 : -1;

	memset(r, 0, sizeof(*r));
	while ((field = strsep(&p, "\t"))) {
		char *eq = strchr(field, '=');
		if (!eq)
			continue;
		*eq = '\0';
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(field, keys[i].key) == 0)
				*(const char **)((char *)r + keys[i].at) = eq + 1;
	}
	return ok;
}

/* " since 12:03:04" (today) or " since 2026-11-26 12:03:04", or "". */
static void format_since(const char *since, char *buf, size_t size)
{
	long long t;
	time_t when, now = time(NULL);
	struct tm tm, today;

	buf[0] = '\0';
	if (!since || pt_parse_int(since, 0, &t) < 0)
		return;
	when = (time_t)t;
	localtime_r(&when, &tm);
	localtime_r(&now, &today);
	strftime(buf, size, tm.tm_year == today.tm_year &&
		 tm.tm_yday == today.tm_yday ? " since %H:%M:%S" :
		 " since %Y-%m-%d %H:%M:%S", &tm);
}

/*
 * say - the reply of `pid` to `cmd` as one line on standard output:
 *   1234: on (was standby), trace /var/log/x.1234.trace
 *   1234: already on since 12:03:04, 5321 lines, trace /var/log/x.1234.trace
 *   1234: off (was on), 5321 lines written to /var/log/x.1234.trace
 *   1234: standby
 *   1234: refused: <why>
 * The time and the count are said where they tell something: for status,
 * and when nothing changed.
 */
static void say(long pid, const char *cmd, const struct reply *r)
{
	const char *state = r->state ? r->state : "?";
	int status = strcmp(cmd, "status") == 0;
	int same = r->was && strcmp(r->was, state) == 0;
	int detail = status || same;
	char since[64] = "", lines[64] = "";
	const char *out = r->output && strcmp(r->output, "stderr") == 0 ?
			  "standard error" : r->output;

	if (detail)
		format_since(r->since, since, sizeof(since));
	if (r->lines)
		snprintf(lines, sizeof(lines), ", %s line%s", r->lines,
			 strcmp(r->lines, "1") == 0 ? "" : "s");
	printf("%ld: %s%s", pid, !status && same ? "already " : "", state);
	if (!detail && r->was)
		printf(" (was %s)", r->was);
	if (strcmp(state, "on") == 0) {
		printf("%s%s", since, detail ? lines : "");
		if (out)
			printf(", trace %s", out);
	} else if (strcmp(state, "off") == 0) {
		printf("%s%s", since, lines);
		if (out)
			printf("%s written to %s", r->lines ? "" : ",", out);
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	static char req[CTL_LINE_MAX + 2], reply[CTL_LINE_MAX + 1];
	struct reply r;
	long long pid;
	size_t len = 0;
	int ok;

	if (argc < 3 || pt_parse_int(argv[1], 0, &pid) < 0 || pid <= 0 ||
	    pid > 0x7fffffff ||
	    (strcmp(argv[2], "on") != 0 && argc != 3) ||
	    (strcmp(argv[2], "on") != 0 && strcmp(argv[2], "off") != 0 &&
	     strcmp(argv[2], "status") != 0)) {
		usage();
		return 2;
	}
	pt_log_consequence = "";
	pt_log_syslog = 0;
	if (check_on_args(argc - 3, argv + 3) < 0)
		return 2;
	for (int i = 2; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (len + n + 1 > CTL_LINE_MAX) {
			fprintf(stderr, "pytrace: the request would be longer "
				"than %d bytes\n", CTL_LINE_MAX);
			return 2;
		}
		memcpy(req + len, argv[i], n);
		len += n;
		req[len++] = i + 1 < argc ? '\t' : '\n';
	}
	if (check_process((long)pid) || exchange((long)pid, req, len, reply))
		return 1;
	ok = parse_reply(reply, &r);
	if (ok < 0) {
		fprintf(stderr, "pytrace: PID %lld: not a reply of pytrace: "
			"'%.200s'\n", pid, reply);
		return 1;
	}
	if (!ok) {
		printf("%lld: refused: %s\n", pid, r.why ? r.why : "no reason given");
		return 1;
	}
	say((long)pid, argv[2], &r);
	return 0;
}
