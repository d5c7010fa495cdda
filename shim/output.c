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
	char path[PATH_MAX];
	char *buf;
	size_t len, cap;
} out = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

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
	int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY;
	int fd = open(out.path, flags, 0640);

	if (fd < 0 && errno == ENOENT && make_dir() == 0)
		fd = open(out.path, flags, 0640);
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
	if (err)
		pt_log("cannot open trace output '%s': %s; not tracing",
		       out.path, strerror(-err));
	return err;
}

/* True when out.fd still refers to the file opened; reopen it otherwise. */
static int check_fd(void)
{
	struct stat st;

	if (!out.pattern)
		return 1;
	if (fstat(out.fd, &st) == 0 && st.st_dev == out.dev &&
	    st.st_ino == out.ino)
		return 1;
	/* Closed by the program, or the number now belongs to it: leave that
	 * descriptor alone and open our file again. */
	return open_path() == 0;
}

/* Write the buffer; caller holds the lock. */
static void flush_locked(void)
{
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
	if (!check_fd()) {
		pt_log("trace output '%s' was closed and cannot be reopened: "
		       "%s; tracing stopped", out.path, strerror(errno));
		out.open = 0;
	}
	while (out.open && done < out.len) {
		ssize_t w = write(out.fd, out.buf + done, out.len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			pt_log("cannot write trace output '%s': %s; tracing "
			       "stopped", out.pattern ? out.path : "stderr",
			       w < 0 ? strerror(errno) : "no progress");
			out.open = 0;
			break;
		}
		done += (size_t)w;
	}
	out.len = 0;
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&out.lock);
	flush_locked();
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&out.lock);
}

/* The child has its own pid: with %p (or %t) in the pattern it gets its
 * own file, opened when it first writes, so a child that only execs (the
 * fork of subprocess) leaves no empty file.  The buffer is empty, so
 * nothing is written twice. */
static void atfork_child(void)
{
	pthread_mutex_init(&out.lock, NULL);
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
	out.open = 1;
	return 0;
}

char *pt_out_begin(size_t need)
{
	pthread_mutex_lock(&out.lock);
	if (!out.open)
		goto closed;
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

__attribute__((destructor)) static void pt_out_fini(void)
{
	pt_out_flush();
}
