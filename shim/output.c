/* SPDX-License-Identifier: MIT */
/*
 * output.c - the buffered trace writer.
 *
 * Trace lines are appended to one 64 KiB buffer under a mutex and written
 * with write(2) when the buffer fills, before fork(), and at exit (the
 * library destructor).  Each write(2) holds only whole lines and the file is
 * opened O_APPEND, so lines from threads or from processes sharing the file
 * never tear.  Before each write the descriptor is checked against the
 * file's device and inode: a program that closed it or reused the number
 * (daemons do) gets the file reopened, never trace bytes in its own file.
 *
 * A write error stops tracing with one message; the host goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "pytrace.h"

enum { PT_OUT_BUFSIZE = 64 * 1024 };

/* The one output of the process. */
static struct {
	pthread_mutex_t lock;
	int open;		/* pt_out_open succeeded and no error since */
	int fd;
	dev_t dev;		/* identity of the file behind fd */
	ino_t ino;
	char *pattern;		/* NULL: standard error */
	struct pt_out_vars vars;	/* what the pattern's tokens become */
	char host[256];
	unsigned long long size;	/* bytes in the file, as far as known */
	int reopen;		/* a forked child: open its own file first */
	unsigned long long max_size;	/* rotate beyond this; 0: never */
	int keep;			/* rotated files kept */
	long interval_ms;		/* flusher period; 0: no flusher */
	pid_t owner;		/* the process whose buffer this is */
	mode_t mode;		/* of new files */
	char path[PATH_MAX];
	char *buf;
	size_t len, cap;
} out = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1, .mode = 0600 };

ssize_t pt_out_expand(const char *pattern, const struct pt_out_vars *v,
		      char *dst, size_t size, const char **bad)
{
	size_t len = 0;

	for (const char *p = pattern; *p; p++) {
		char tmp[32];
		const char *s = p;
		size_t n = 1;

		if (*p == '%') {
			p++;
			if (*p == '%') {
				s = "%";
			} else if (*p == 'p') {
				n = (size_t)snprintf(tmp, sizeof(tmp), "%ld", v->pid);
				s = tmp;
			} else if (*p == 'n') {
				s = v->progname;
				n = strlen(s);
			} else if (*p == 'h') {
				s = v->host;
				n = strlen(s);
			} else if (*p == 't') {
				struct tm tm;
				localtime_r(&v->start, &tm);
				n = strftime(tmp, sizeof(tmp), "%Y%m%d-%H%M%S", &tm);
				s = tmp;
			} else {
				if (bad)
					*bad = p - 1;
				return -EINVAL;
			}
		}
		if (len + n + 1 > size)
			return -ENAMETOOLONG;
		memcpy(dst + len, s, n);
		len += n;
	}
	dst[len] = '\0';
	return (ssize_t)len;
}

/* Create the directory of out.path (mode 0750) when it is missing and its
 * own parent exists; 0 or a negative errno. */
static int make_dir(void)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", out.path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return -ENOENT;
	*slash = '\0';
	return mkdir(dir, 0750) == 0 || errno == EEXIST ? 0 : -errno;
}

/* Open out.path; caller holds the lock or is single-threaded. */
static int open_path(void)
{
	struct stat st;
	/* O_NOFOLLOW: never follow a symbolic link planted at the path in a
	 * shared directory (a root service would append to its target). */
	int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY |
		    O_NOFOLLOW;
	int fd = open(out.path, flags, out.mode);

	if (fd < 0 && errno == ENOENT && make_dir() == 0)
		fd = open(out.path, flags, out.mode);
	if (fd < 0)
		return -errno;
	/* Never take one of the standard descriptors: the host may dup2 over
	 * them expecting them to be its own. */
	if (fd <= 2) {
		int hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		close(fd);
		if (hi < 0)
			return -errno;
		fd = hi;
	}
	if (fstat(fd, &st) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	out.fd = fd;
	out.dev = st.st_dev;
	out.ino = st.st_ino;
	out.size = (unsigned long long)st.st_size;
	return 0;
}

/* Expand the pattern for this pid and open it; logs on failure. */
static int open_pattern(void)
{
	const char *bad = NULL;
	ssize_t n;

	out.vars.pid = (long)getpid();
	n = pt_out_expand(out.pattern, &out.vars, out.path, sizeof(out.path),
			  &bad);

	if (n == -EINVAL) {
		pt_log("output: unknown '%.2s' in '%s'; not tracing", bad,
		       out.pattern);
		return (int)n;
	}
	if (n < 0) {
		pt_log("output: '%s' is too long; not tracing", out.pattern);
		return (int)n;
	}
	int err = open_path();
	if (err == -ELOOP)
		pt_log("cannot open trace output '%s': it is a symbolic link, "
		       "which pytrace never follows; not tracing", out.path);
	else if (err)
		pt_log("cannot open trace output '%s': %s; not tracing",
		       out.path, strerror(-err));
	return err;
}

/*
 * check_file - before a write: is out.fd still our file, and is it still
 * the file at out.path?  Reopens out.path (O_APPEND, created if missing)
 * when the program closed or reused the descriptor (daemons do), or when
 * the file was moved away or deleted (log rotation by mv, by another
 * process sharing it, or by hand).  Sets *size to the file's size.
 * False when the file cannot be reopened.
 */
static int check_file(unsigned long long *size)
{
	struct stat fst, pst;

	*size = 0;
	if (!out.pattern)
		return 1;
	if (fstat(out.fd, &fst) == 0 && fst.st_dev == out.dev &&
	    fst.st_ino == out.ino && stat(out.path, &pst) == 0 &&
	    pst.st_dev == out.dev && pst.st_ino == out.ino) {
		*size = (unsigned long long)fst.st_size;
		return 1;
	}
	/* Leave the descriptor alone if it is no longer ours. */
	if (fstat(out.fd, &fst) == 0 && fst.st_dev == out.dev &&
	    fst.st_ino == out.ino)
		close(out.fd);
	if (open_path() < 0)
		return 0;
	*size = out.size;
	return 1;
}

/*
 * rotate - out.path becomes out.path.1, .1 becomes .2, ... up to .keep;
 * the oldest is dropped; a new out.path is opened.  With keep = 0 the file
 * is simply started anew.  False when the new file cannot be opened.
 */
static int rotate(void)
{
	char from[PATH_MAX + 16], to[PATH_MAX + 16];

	if (out.keep == 0) {
		unlink(out.path);
	} else {
		for (int i = out.keep - 1; i >= 1; i--) {
			snprintf(from, sizeof(from), "%s.%d", out.path, i);
			snprintf(to, sizeof(to), "%s.%d", out.path, i + 1);
			rename(from, to);
		}
		snprintf(to, sizeof(to), "%s.1", out.path);
		rename(out.path, to);
	}
	close(out.fd);
	return open_path() == 0;
}

/* write(2) all of buf; false after one message when it cannot. */
static int write_all(const char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t w = write(out.fd, buf + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			pt_log("cannot write trace output '%s': %s; tracing "
			       "stopped", out.pattern ? out.path : "stderr",
			       w < 0 ? strerror(errno) : "no progress");
			return 0;
		}
		done += (size_t)w;
	}
	return 1;
}

/*
 * flush_locked - write the buffer; caller holds the lock.  With max_size,
 * the buffer is cut at the last whole line that still fits, the file is
 * rotated, and the rest goes to the new file: a file exceeds max_size
 * only by a single line longer than it.
 */
static void flush_locked(void)
{
	unsigned long long size;
	size_t done = 0;

	if (!out.open || out.len == 0)
		return;
	if (out.reopen) {
		out.reopen = 0;
		if (open_pattern() < 0) {
			out.open = 0;
			out.len = 0;
			return;
		}
	}
	if (!check_file(&size)) {
		pt_log("trace output '%s' cannot be reopened: %s; tracing "
		       "stopped", out.path, strerror(errno));
		out.open = 0;
	}
	while (out.open && done < out.len) {
		size_t n = out.len - done;

		if (out.max_size && out.pattern && size + n > out.max_size) {
			size_t room = size < out.max_size ?
				      (size_t)(out.max_size - size) : 0;
			const char *cut = room ? memrchr(out.buf + done, '\n', room)
					       : NULL;
			if (cut) {
				n = (size_t)(cut + 1 - (out.buf + done));
			} else if (size > 0) {
				if (!rotate()) {
					pt_log("cannot rotate trace output '%s': "
					       "%s; tracing stopped", out.path,
					       strerror(errno));
					out.open = 0;
					break;
				}
				size = 0;
				continue;
			} else {
				/* a line longer than max_size, alone */
				const char *nl = memchr(out.buf + done, '\n', n);
				n = nl ? (size_t)(nl + 1 - (out.buf + done)) : n;
			}
		}
		if (!write_all(out.buf + done, n)) {
			out.open = 0;
			break;
		}
		done += n;
		size += n;
	}
	out.len = 0;
}

/*
 * The flusher: a thread that writes what is buffered every flush_interval
 * ms, so no line waits longer than that to reach the file, also while the
 * program is idle.  It never runs Python code nor takes the GIL.  It is
 * stopped before fork() (and started again by the next line), so the
 * host's fork sees no thread it did not create: Python 3.12+ warns when a
 * multi-threaded process forks.
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int running, stop;
} fl = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

static void *flusher(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&fl.lock);
	while (!fl.stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += out.interval_ms / 1000;
		until.tv_nsec += (long)(out.interval_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&fl.wake, &fl.lock, &until);
		if (fl.stop)
			break;
		pthread_mutex_unlock(&fl.lock);
		pthread_mutex_lock(&out.lock);
		flush_locked();
		pthread_mutex_unlock(&out.lock);
		pthread_mutex_lock(&fl.lock);
	}
	pthread_mutex_unlock(&fl.lock);
	return NULL;
}

/* Start the flusher; called with out.lock held, from the first line. */
static void start_flusher(void)
{
	sigset_t all, old;

	fl.running = 1;		/* also when it fails: no retry per line */
	fl.stop = 0;
	/* The thread takes no signal: they stay the host's threads' to take. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&fl.thread, NULL, flusher, NULL) == 0)
		pthread_setname_np(fl.thread, "pytrace-flush");
	else
		fl.thread = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void stop_flusher(void)
{
	if (!fl.running || !fl.thread)
		return;
	pthread_mutex_lock(&fl.lock);
	fl.stop = 1;
	pthread_cond_signal(&fl.wake);
	pthread_mutex_unlock(&fl.lock);
	pthread_join(fl.thread, NULL);
	fl.thread = 0;
}

static void atfork_prepare(void)
{
	stop_flusher();
	pthread_mutex_lock(&out.lock);
	flush_locked();
}

static void atfork_parent(void)
{
	fl.running = 0;		/* the next line starts it again */
	pthread_mutex_unlock(&out.lock);
}

/* The child has its own pid: with %p (or %t) in the pattern it gets its
 * own file, opened when it first writes, so a child that only execs (the
 * fork of subprocess) leaves no empty file.  The buffer is empty, so
 * nothing is written twice. */
static void atfork_child(void)
{
	out.owner = getpid();
	pthread_mutex_init(&out.lock, NULL);
	pthread_mutex_init(&fl.lock, NULL);
	pthread_cond_init(&fl.wake, NULL);
	fl.running = 0;
	fl.thread = 0;
	out.vars.start = time(NULL);
	if (out.open && out.pattern && (strstr(out.pattern, "%p") ||
					strstr(out.pattern, "%t"))) {
		close(out.fd);
		out.fd = -1;
		out.reopen = 1;
	}
}

int pt_out_open(const char *pattern, const char *progname)
{
	static int atfork_done;

	out.buf = malloc(PT_OUT_BUFSIZE);
	out.cap = PT_OUT_BUFSIZE;
	out.vars.progname = strdup(progname);
	out.vars.start = time(NULL);
	if (gethostname(out.host, sizeof(out.host) - 1) < 0)
		snprintf(out.host, sizeof(out.host), "localhost");
	out.vars.host = out.host;
	/* A relative pattern is anchored now, so that reopening it after the
	 * program changed directory (or in a forked child) finds the same
	 * place. */
	if (pattern && pattern[0] != '/') {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof(cwd)) &&
		    asprintf(&out.pattern, "%s/%s", cwd, pattern) < 0)
			out.pattern = NULL;
	} else if (pattern) {
		out.pattern = strdup(pattern);
	}
	if (!out.buf || !out.vars.progname || (pattern && !out.pattern)) {
		pt_log("out of memory; not tracing");
		return -ENOMEM;
	}
	if (out.pattern) {
		int err = open_pattern();
		if (err)
			return err;
	} else {
		out.fd = 2;
	}
	if (!atfork_done && pthread_atfork(atfork_prepare, atfork_parent,
					   atfork_child) == 0)
		atfork_done = 1;
	out.owner = getpid();
	out.open = 1;
	return 0;
}

void pt_out_configure(unsigned long long max_size, int keep, long interval_ms,
		      int mode)
{
	out.mode = (mode_t)mode;
	out.max_size = max_size;
	out.keep = keep;
	out.interval_ms = interval_ms;
}

char *pt_out_begin(size_t need)
{
	pthread_mutex_lock(&out.lock);
	if (!out.open)
		goto closed;
	if (out.interval_ms > 0 && !fl.running)
		start_flusher();
	if (out.len + need > out.cap) {
		flush_locked();
		if (!out.open)
			goto closed;
		if (need > out.cap) {
			char *b = realloc(out.buf, need);
			if (!b)
				goto closed;
			out.buf = b;
			out.cap = need;
		}
	}
	return out.buf + out.len;
closed:
	pthread_mutex_unlock(&out.lock);
	return NULL;
}

void pt_out_end(char *end)
{
	out.len = (size_t)(end - out.buf);
	pthread_mutex_unlock(&out.lock);
}

void pt_out_flush(void)
{
	struct timespec until;

	/* Bounded: at exit a thread may still hold the lock in a blocked
	 * write; the host must still be able to exit. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	if (pthread_mutex_timedlock(&out.lock, &until) != 0)
		return;
	flush_locked();
	pthread_mutex_unlock(&out.lock);
}

void pt_out_flush_before_exit(void)
{
	/* A vfork() child shares this memory but is another process: the
	 * buffer is its parent's, not its to write. */
	if (out.open && getpid() == out.owner) {
		stop_flusher();
		pt_out_flush();
	}
}

__attribute__((destructor)) static void pt_out_fini(void)
{
	pt_out_flush();
}
