/* SPDX-License-Identifier: MIT */
/*
 * control.c - the control channel of a process in standby (start =
 * "standby"): one thread of the library's, blocked in poll(2) until
 * `pytrace on`, `off` or `status` connects.
 *
 * The channel is a Unix stream socket in the abstract namespace, named
 * "pytrace/<pid>": no file to create, to protect or to leave behind when
 * the process is killed, and no signal, so that nothing of the service's
 * own changes (its handlers, descriptors it knows of, threads it sees:
 * the listener runs no Python code of its own and so is not in
 * threading.enumerate()).  Anybody may connect to an abstract name, so
 * the listener serves only root and the process's own user (SO_PEERCRED),
 * and the client checks that the name is held by the process it means
 * (the peer's pid), not by another that took it first.
 *
 * Protocol (version 1): the client sends one line of at most 64 KiB,
 * fields separated by TAB: the command (on, off, status), then for `on`
 * PYTRACE_<NAME>=<value> settings as the environment would give them,
 * and for=<seconds>, lines=<count>.  The listener answers one line, "ok"
 * or "refused" then key=value fields (state, was, since, lines, output,
 * why), and closes the connection.  The client gives it one second.
 *
 * A forked child inherits the socket of its parent, not a channel of its
 * own: it closes it at once and listens under its own pid (fork_child).
 *
 * The service may close descriptors it did not open (closerange(3, ...)
 * before exec, or to daemonise) and open others that get their numbers:
 * before it reads, accepts or writes, the listener checks that each
 * descriptor is still the object it made (ours); when one is not, it ends,
 * leaving the descriptors, which are the service's now, alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "pyapi.h"
#include "pytrace.h"
#include "state.h"

enum { PT_CTL_MAX_REQUEST = 65536, PT_CTL_MAX_FIELDS = 64,
       PT_CTL_MAX_REPLY = 8192 };

static struct {
	const struct pt_control_ops *ops;
	int fd;			/* the listening socket; -1: none */
	int wake[2];		/* pt_control_wake -> the listener */
	volatile time_t deadline;	/* CLOCK_MONOTONIC s; 0: none */
	pthread_t thread;
	long tid;		/* the listener's kernel id, set by it */
	int running;		/* the listener thread runs */
	int paused;		/* it ended for a fork (fork_prepare) */
	int fresh;		/* a forked child: a socket of its own to make */
	/* what ctl.fd and ctl.wake[1] are (see ours) */
	struct { dev_t dev; ino_t ino; } id[2];
	pthread_mutex_t lock;	/* guards busy and quitting */
	int busy;		/* the listener works on a command */
	int quitting;		/* the listener is to end */
} ctl = { .fd = -1, .wake = { -1, -1 }, .lock = PTHREAD_MUTEX_INITIALIZER };

volatile int pt_control_wanted;

/* Is `fd` still the object recorded in id[k]? */
static int same(int fd, int k)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == ctl.id[k].dev &&
	       st.st_ino == ctl.id[k].ino;
}

/* Record what the descriptors are, once made. */
static void remember(void)
{
	struct stat st;

	if (fstat(ctl.fd, &st) == 0)
		ctl.id[0].dev = st.st_dev, ctl.id[0].ino = st.st_ino;
	if (fstat(ctl.wake[1], &st) == 0)
		ctl.id[1].dev = st.st_dev, ctl.id[1].ino = st.st_ino;
}

/* The listening socket and the pipe are still ours (see the top). */
static int ours(void)
{
	return same(ctl.fd, 0) && same(ctl.wake[0], 1) && same(ctl.wake[1], 1);
}

static time_t now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Who may give commands: root, and the user the process runs as. */
static int allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return 0;
	return cred.uid == 0 || cred.uid == geteuid();
}

/* The request line into buf (NUL-terminated, without the newline); its
 * length, or -1 (too long, cut short, or slower than the timeout). */
static ssize_t read_request(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t r = recv(fd, buf + n, size - 1 - n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		char *nl = memchr(buf + n, '\n', (size_t)r);
		n += (size_t)r;
		if (nl) {
			*nl = '\0';
			return nl - buf;
		}
	}
	return -1;
}

/* Send "ok"/"refused", the fields and a newline; best effort. */
static void send_reply(int fd, int rc, const char *fields)
{
	char line[PT_CTL_MAX_REPLY + 16];
	int n = snprintf(line, sizeof(line), "%s%s%s\n", rc == 0 ? "ok" : "refused",
			 fields[0] ? "\t" : "", fields);

	if (n > 0 && (size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1, line[n - 1] = '\n';
	if (n > 0)
		(void)send(fd, line, (size_t)n, MSG_NOSIGNAL);
}

/* Serve one connection: read, check, dispatch, answer, close. */
static void serve(int fd)
{
	static char req[PT_CTL_MAX_REQUEST];
	char reply[PT_CTL_MAX_REPLY] = "";
	char *fields[PT_CTL_MAX_FIELDS];
	struct timeval tv = { 1, 0 };
	int n = 0, rc = -1;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!allowed(fd)) {
		send_reply(fd, -1, "why=only root and the process's own user may "
			   "control it");
		return;
	}
	if (read_request(fd, req, sizeof(req)) < 0)
		return;		/* nobody to answer */
	for (char *save = NULL, *f = strtok_r(req, "\t", &save);
	     f && n < PT_CTL_MAX_FIELDS; f = strtok_r(NULL, "\t", &save))
		fields[n++] = f;
	if (n == 0)
		snprintf(reply, sizeof(reply), "why=an empty request");
	else if (strcmp(fields[0], "on") == 0)
		rc = ctl.ops->on(fields + 1, n - 1, reply, sizeof(reply));
	else if (strcmp(fields[0], "off") == 0 && n == 1)
		rc = ctl.ops->off(reply, sizeof(reply));
	else if (strcmp(fields[0], "status") == 0 && n == 1)
		rc = ctl.ops->status(reply, sizeof(reply));
	else
		snprintf(reply, sizeof(reply), "why=unknown request '%.40s'",
			 fields[0]);
	send_reply(fd, rc, reply);
}

/* Begin work on a command or an expiry: 0, or -1 when the listener is
 * to end instead (a fork is waiting for it, see fork_prepare). */
static int begin_work(void)
{
	pthread_mutex_lock(&ctl.lock);
	int quit = ctl.quitting;
	ctl.busy = !quit;
	pthread_mutex_unlock(&ctl.lock);
	return quit ? -1 : 0;
}

static void end_work(void)
{
	pthread_mutex_lock(&ctl.lock);
	ctl.busy = 0;
	pthread_mutex_unlock(&ctl.lock);
}

static void *listener(void *arg)
{
	(void)arg;
	ctl.tid = pt_thread_tid();	/* read after the join */
	if (ctl.ops->prepare)
		ctl.ops->prepare();
	for (;;) {
		struct pollfd p[2] = { { .fd = ctl.fd, .events = POLLIN },
				       { .fd = ctl.wake[0], .events = POLLIN } };
		time_t when = ctl.deadline;
		int timeout = -1;

		if (when) {
			time_t left = when - now_mono();
			timeout = left <= 0 ? 0 : left > 3600 ? 3600000 : (int)left * 1000;
		}
		int r = poll(p, 2, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (p[0].revents & (POLLERR | POLLNVAL)) || !ours())
			break;	/* closed, or the numbers are the service's */
		int expire = 0;
		if (p[1].revents & POLLIN) {
			char drain[64];
			ssize_t k;
			while ((k = read(ctl.wake[0], drain, sizeof(drain))) > 0)
				expire |= memchr(drain, 'x', (size_t)k) != NULL;
		}
		if (begin_work() < 0)
			break;
		if (expire || (when && when == ctl.deadline && now_mono() >= when)) {
			ctl.deadline = 0;
			ctl.ops->expire();
		}
		if (p[0].revents & POLLIN) {
			int c = accept4(ctl.fd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0) {
				serve(c);
				close(c);
			}
		}
		end_work();
	}
	return NULL;
}

/* Start the listener thread on ctl.fd and ctl.wake; 0 or -1. */
static int start_thread(void)
{
	sigset_t all, old;

	ctl.quitting = 0;
	/* state.c's fork handler registered here, not by the thread, which a
	 * fork's prepare handler waits for (see output.c, start_flusher) */
	(void)pt_state_pid();
	/* The thread takes no signal: they stay the host's threads' to take. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pt_thread_create_own(&ctl.thread, listener, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -1;
	pthread_setname_np(ctl.thread, "pytrace-ctl");
	ctl.running = 1;
	return 0;
}

/*
 * fork_prepare - 3.12+ warns in the parent of os.fork() when the process
 * has other threads (a DeprecationWarning on stderr): the listener ends
 * before the fork and starts again after it, once the warning was
 * decided (pt_control_restart).  Not when it is busy with a command,
 * which may wait for the GIL the forking thread holds: then it stays,
 * and the warning may come.
 */
static void fork_prepare(void)
{
	if (!ctl.running || !(pt_py.major > 3 || (pt_py.major == 3 && pt_py.minor >= 12)))
		return;
	pthread_mutex_lock(&ctl.lock);
	int busy = ctl.busy;
	ctl.quitting = !busy;
	pthread_mutex_unlock(&ctl.lock);
	if (busy)
		return;
	(void)!write(ctl.wake[1], "q", 1);
	pt_thread_join(ctl.thread, &ctl.tid);
	ctl.running = 0;
	ctl.paused = 1;
}

/* A pending call (the parent of a fork, 3.12+; the child of a fork,
 * 2.7-3.7): listen again. */
static int restart_pending(void *arg)
{
	(void)arg;
	pt_control_restart();
	return 0;
}

static void fork_parent(void)
{
	pt_thread.pyfork = 0;
	if (ctl.paused) {
		pt_control_wanted = 1;
		if (pt_py.AddPendingCall)
			pt_py.AddPendingCall(restart_pending, NULL);
	}
}

/*
 * fork_child - the socket and the pipe are the parent's: closed.  The
 * child of os.fork() (the "os.fork" audit event came, 3.8+) listens under
 * its own pid at once: threads may be created in a forked child, and it
 * goes on running Python.  Any other (subprocess's fork, about to exec;
 * 2.7-3.7) starts listening at the first point where Python runs
 * normally again: PyOS_AfterFork_Child, or an audit event; on 2.7-3.7,
 * whose PyOS_AfterFork is not reached in a static interpreter, also a
 * pending call, which the child's main thread runs at its next bytecode
 * (whichever comes first listens).
 */
static void fork_child(void)
{
	int py = pt_thread.pyfork;

	pt_thread.pyfork = 0;
	if (!ctl.running && !ctl.paused)
		return;
	/* the two ends of a pipe are one object */
	if (same(ctl.fd, 0))
		close(ctl.fd);
	if (same(ctl.wake[0], 1))
		close(ctl.wake[0]);
	if (same(ctl.wake[1], 1))
		close(ctl.wake[1]);
	ctl.fd = ctl.wake[0] = ctl.wake[1] = -1;
	ctl.running = ctl.paused = ctl.busy = ctl.quitting = 0;
	ctl.deadline = 0;
	pthread_mutex_init(&ctl.lock, NULL);
	ctl.fresh = 1;
	pt_control_wanted = 1;
	if (py)
		pt_control_restart();
	else if (!pt_py.AddAuditHook && pt_py.AddPendingCall)
		pt_py.AddPendingCall(restart_pending, NULL);
}

static void watch_fork(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Bind "pytrace/<pid>" and listen; the descriptor, or -1 with errno. */
static int bind_name(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int len = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "pytrace/%ld",
			   (long)getpid());

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) < 0 ||
	    listen(fd, 8) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int pt_control_start(const struct pt_control_ops *ops)
{
	static pthread_once_t watching = PTHREAD_ONCE_INIT;

	if (ctl.running || ctl.fd >= 0)
		return 0;
	ctl.ops = ops;
	ctl.fd = bind_name();
	if (ctl.fd < 0) {
		pt_log("cannot listen for pytrace on/off (pytrace/%ld): %s; "
		       "tracing cannot be switched on", (long)getpid(),
		       strerror(errno));
		return -1;
	}
	if (pipe2(ctl.wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		ctl.wake[0] = ctl.wake[1] = -1;
		goto fail;
	}
	remember();
	if (start_thread() < 0)
		goto fail;
	pthread_once(&watching, watch_fork);
	return 0;
fail:
	pt_log("cannot start pytrace's control thread; tracing cannot be "
	       "switched on");
	close(ctl.fd);
	if (ctl.wake[0] >= 0) {
		close(ctl.wake[0]);
		close(ctl.wake[1]);
	}
	ctl.fd = ctl.wake[0] = ctl.wake[1] = -1;
	return -1;
}

void pt_control_deadline(time_t when)
{
	ctl.deadline = when;
	if (same(ctl.wake[1], 1))	/* the listener waits anew */
		(void)!write(ctl.wake[1], "d", 1);
}

void pt_control_wake(void)
{
	if (same(ctl.wake[1], 1))
		(void)!write(ctl.wake[1], "x", 1);
}

void pt_control_pyfork(void)
{
	pt_thread.pyfork = 1;
}

void pt_control_restart(void)
{
	if (!__atomic_exchange_n(&pt_control_wanted, 0, __ATOMIC_ACQ_REL))
		return;
	if (ctl.fresh) {		/* a forked child */
		ctl.fresh = 0;
		pt_control_start(ctl.ops);
	} else if (ctl.paused) {	/* the parent of a fork, 3.12+ */
		ctl.paused = 0;
		if (start_thread() < 0)
			pt_log("cannot start pytrace's control thread again; "
			       "tracing cannot be switched on or off");
	}
}
