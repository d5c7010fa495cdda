/* SPDX-License-Identifier: MIT */
/*
 * output.c - the buffered trace writer.
 *
 * Trace lines are appended to one 256 KiB buffer and written with write(2)
 * when the buffer fills, every flush_interval (a flusher thread), before
 * fork(), and at exit (the library destructor).  Each write(2) holds only
 * whole lines and the file is opened O_APPEND, so lines from threads or
 * from processes sharing the file never tear.  Before each write the
 * descriptor is checked against the file's device and inode: a program
 * that closed it or reused the number (daemons do) gets the file
 * reopened, never trace bytes in its own file.
 *
 * Lines are appended by threads holding the GIL, so appends never overlap
 * one another; only the flusher and the exit and fork paths (which take
 * the whole buffer) can meet one.  Where the kernel has membarrier(2)
 * (PRIVATE_EXPEDITED, Linux 4.14), an append takes no lock: the writer
 * marks itself busy with a plain store, then checks that nobody wants the
 * buffer; who wants it sets `wants`, has every thread of the process run
 * a memory barrier (membarrier), and waits for the writer to be done.
 * The barrier on the rare side stands for one on every line (an
 * asymmetric Dekker handshake, as liburcu's).  Otherwise, and whenever a
 * writer must flush, the writer takes the mutex.
 *
 * In record mode (record.c) the buffer holds binary records instead, and
 * each write(2) is one chunk: the bytes record.c frames it with (a header,
 * and in a file new to the process what a reader needs first), then whole
 * records.  A file changed under the process (reopened, rotated,
 * truncated) is reported to record.c, which then writes again what the
 * new file lacks.
 *
 * A write error stops tracing with one message; the host goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "pytrace.h"
#include "state.h"

/* 256 KiB: writes of 64 KiB cost a text trace twice the system time per
 * byte (W1 to a file on ext4); more gains little, and is more to lose
 * in a crash. */
enum { PT_OUT_BUFSIZE = 256 * 1024 };

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
	size_t cap;		/* of tail->buf */
	const struct pt_out_records *rec;	/* record mode; NULL: text */
	/* record mode: where this process's last chunk starts in the file,
	 * and its first bytes, to notice the file was truncated under it */
	unsigned long long last_off;
	size_t last_len;
	char last_sig[32];
	/* the lock-free append (see above) */
	int fast;		/* membarrier registered: writers may skip the lock */
	int fast_tried;		/* registration tried in this process */
	int held;		/* the writer between begin and end holds the lock */
} out = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1, .mode = 0600 };

/* The buffer and its append point (output.h), and a shorter name for
 * them here. */
struct pt_out_tail pt_out_tail;
static struct pt_out_tail *const tail = &pt_out_tail;

/* Writers lock from now on (until set_limit): at any time, from any
 * thread. */
static void no_append(void)
{
	__atomic_store_n(&tail->limit, 0, __ATOMIC_RELAXED);
}

/* The output is closed: after an error, by pt_out_close. */
static void shut(void)
{
	out.open = 0;
	no_append();
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
	/* record mode reads back its last chunk's header (check_file) */
	int rw = out.rec ? O_RDWR : O_WRONLY;
	int fd = open(out.path, (flags & ~O_WRONLY) | rw, out.mode);

	if (fd < 0 && errno == ENOENT && make_dir() == 0)
		fd = open(out.path, (flags & ~O_WRONLY) | rw, out.mode);
	if (fd < 0 && errno == EACCES && rw != O_WRONLY)
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
	out.last_len = 0;
	if (out.rec)
		out.rec->new_file(tail->len > 0);
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
 * truncated - record mode: is the last chunk this process wrote to the
 * file (whose status is `st`) gone from it, the file truncated (logrotate
 * copytruncate), maybe written again by others since?  A reader would
 * miss the definitions before that point.
 */
static int truncated(const struct stat *st)
{
	char now[sizeof(out.last_sig)];

	if (!out.last_len)
		return 0;
	if ((unsigned long long)st->st_size < out.last_off + out.last_len)
		return 1;
	ssize_t r = pread(out.fd, now, out.last_len, (off_t)out.last_off);
	/* a write-only descriptor (the file is not readable): size only */
	if (r < 0 && errno == EBADF)
		return 0;
	return r != (ssize_t)out.last_len || memcmp(now, out.last_sig, out.last_len);
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
		if (out.rec && truncated(&fst)) {
			out.last_len = 0;
			out.rec->new_file(tail->len > 0);
		}
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
 * is simply started anew.  False, after one message and with the output
 * closed, when the new file cannot be opened.
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
	int err = open_path();
	if (err == 0)
		return 1;
	pt_log("cannot rotate trace output '%s': %s; tracing stopped",
	       out.path, strerror(-err));
	shut();
	return 0;
}

/* writev(2) all of iov[0..n) (total bytes), going on after short writes;
 * false after one message when it cannot. */
static int write_iov(struct iovec *iov, int n, size_t total)
{
	size_t done = 0;

	while (done < total) {
		ssize_t w = writev(out.fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			pt_log("cannot write trace output '%s': %s; tracing "
			       "stopped", out.pattern ? out.path : "stderr",
			       w < 0 ? strerror(errno) : "no progress");
			return 0;
		}
		done += (size_t)w;
		for (int i = 0; i < n; i++) {
			size_t k = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= k;
			w -= (ssize_t)k;
		}
	}
	return 1;
}

/* write(2) all of buf; false after one message when it cannot. */
static int write_all(const char *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };

	return write_iov(&iov, 1, len);
}

/* Register this process for membarrier; true when it may be used.  In a
 * process with threads the kernel waits for a grace period of its own
 * (tens of ms), so where a flusher runs it registers, off the writers'
 * path, and writers lock until then. */
static int fast_register(void)
{
	long q = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0);

	return q > 0 && (q & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	       syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
		       0) == 0;
}

/*
 * take - with out.lock held, by a thread that is not appending: keep
 * writers off the buffer (they lock from now on) and wait for one that
 * appends without the lock to be done.  False when it is not within 2 s
 * (a writer interrupted by a signal whose handler exits): the buffer must
 * then be left alone.  Undone by give().
 */
static int take(void)
{
	struct timespec start, now;

	if (!out.fast)
		return 1;
	__atomic_store_n(&tail->wants, 1, __ATOMIC_RELAXED);
	/* Registered, it cannot fail; if it did, writers lock for good. */
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) < 0) {
		out.fast = 0;
		no_append();
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int i = 0; __atomic_load_n(&tail->busy, __ATOMIC_ACQUIRE); i++) {
		if (i % 64 == 63) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec - start.tv_sec >= 2)
				return 0;
		}
		sched_yield();
	}
	return 1;
}

static void give(void)
{
	if (out.fast)
		__atomic_store_n(&tail->wants, 0, __ATOMIC_RELEASE);
}

/* One chunk, head then body, appended with one writev(2) (O_APPEND: never
 * torn by other writers); false after one message when it cannot. */
static int write_chunk(const char *head, size_t hlen, const char *body,
		       size_t blen)
{
	struct iovec iov[2] = { { (void *)head, hlen }, { (void *)body, blen } };
	size_t total = hlen + blen;

	if (!write_iov(iov, 2, total))
		return 0;
	/* where the chunk now is, for truncated() */
	off_t end = lseek(out.fd, 0, SEEK_CUR);
	out.last_len = hlen < sizeof(out.last_sig) ? hlen : sizeof(out.last_sig);
	if (end < (off_t)total) {
		out.last_len = 0;
	} else {
		out.last_off = (unsigned long long)end - total;
		memcpy(out.last_sig, head, out.last_len);
	}
	return 1;
}

/*
 * flush_records - flush_locked in record mode: the buffer as chunks.  With
 * max_size, a chunk is cut after the last whole record that fits, the
 * file rotated, and the rest framed again for the new file.
 */
static void flush_records(unsigned long long size)
{
	size_t done = 0;

	while (out.open && done < tail->len) {
		size_t n = tail->len - done, hlen;
		const char *head = out.rec->frame(tail->buf, done, n, &hlen);

		if (out.max_size && out.pattern && size + hlen + n > out.max_size) {
			size_t room = size + hlen < out.max_size ?
				      (size_t)(out.max_size - size - hlen) : 0;
			size_t k = out.rec->cut(tail->buf + done, n, room);
			if (k > room && size > 0) {
				if (!rotate())
					break;
				size = 0;
				continue;
			}
			/* what fits, or a record too long for any file, alone */
			n = k;
			head = out.rec->frame(tail->buf, done, n, &hlen);
		}
		if (!write_chunk(head, hlen, tail->buf + done, n)) {
			shut();
			break;
		}
		out.rec->written();
		done += n;
		size += hlen + n;
	}
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

	if (!out.open || tail->len == 0)
		return;
	if (out.reopen) {
		out.reopen = 0;
		if (open_pattern() < 0) {
			shut();
			tail->len = 0;
			return;
		}
	}
	if (!check_file(&size)) {
		pt_log("trace output '%s' cannot be reopened: %s; tracing "
		       "stopped", out.path, strerror(errno));
		shut();
	}
	if (out.rec) {
		flush_records(size);
		tail->len = 0;
		out.rec->flushed();
		return;
	}
	while (out.open && done < tail->len) {
		size_t n = tail->len - done;

		if (out.max_size && out.pattern && size + n > out.max_size) {
			size_t room = size < out.max_size ?
				      (size_t)(out.max_size - size) : 0;
			const char *cut = room ? memrchr(tail->buf + done, '\n', room)
					       : NULL;
			if (cut) {
				n = (size_t)(cut + 1 - (tail->buf + done));
			} else if (size > 0) {
				if (!rotate())
					break;
				size = 0;
				continue;
			} else {
				/* a line longer than max_size, alone */
				const char *nl = memchr(tail->buf + done, '\n', n);
				n = nl ? (size_t)(nl + 1 - (tail->buf + done)) : n;
			}
		}
		if (!write_all(tail->buf + done, n)) {
			shut();
			break;
		}
		done += n;
		size += n;
	}
	tail->len = 0;
}

/*
 * The flusher: a thread that writes what is buffered every flush_interval
 * ms, so no line waits longer than that to reach the file, also while the
 * program is idle.  It never runs Python code nor takes the GIL.  It is
 * stopped before fork() (and started again by the next line), so the
 * host's fork sees no thread it did not create: Python 3.12+ warns when a
 * multi-threaded process forks.
 *
 * It must never be the thread that keeps a process alive: when the last
 * of the host's threads ends with pthread_exit (a thread that forked, in
 * the child; a main thread that called pthread_exit), the process must
 * end with it.  So the threads that write lines are counted, each with a
 * thread-specific value whose destructor runs when it ends; the last of
 * them to end stops the flusher and writes what is buffered.  Threads
 * that wrote nothing need no flusher, and a line from one counts it and
 * starts the flusher again.  So the flusher runs only while a thread
 * that writes lines is alive.
 */
static struct {
	pthread_mutex_t lock;
	pthread_mutex_t ctl;	/* serialises starting and stopping */
	pthread_cond_t wake;
	pthread_t thread;
	long tid;		/* the flusher's kernel id, set by it */
	int running, stop;
	int writers;		/* threads alive that wrote lines */
} fl = { .lock = PTHREAD_MUTEX_INITIALIZER, .ctl = PTHREAD_MUTEX_INITIALIZER,
	 .wake = PTHREAD_COND_INITIALIZER };

/* With out.lock: lines may be appended without it (pt_out_append) while
 * the output is open, membarrier registered, and the flusher runs where
 * there is one to start; only a locked append starts it. */
static void set_limit(void)
{
	tail->limit = out.open && out.fast && (fl.running || out.interval_ms <= 0)
		      ? out.cap : 0;
}

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

static void *flusher(void *arg)
{
	(void)arg;
	fl.tid = pt_thread_tid();	/* read after the join */
	if (!out.fast && fast_register()) {
		/* writers lock until now: none is on the fast path */
		pthread_mutex_lock(&out.lock);
		out.fast = 1;
		set_limit();
		pthread_mutex_unlock(&out.lock);
	}
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
		if (take())
			flush_locked();
		give();
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

	pthread_mutex_lock(&fl.ctl);
	if (fl.running) {
		pthread_mutex_unlock(&fl.ctl);
		return;
	}
	fl.running = 1;		/* also when it fails: no retry per line */
	fl.stop = 0;
	/* state.c registers its fork handler on first use: here, not in the
	 * new thread, where it would wait for glibc's lock of the handlers
	 * while a fork holds it and atfork_prepare waits for the thread */
	(void)pt_state_pid();
	/* The thread takes no signal: they stay the host's threads' to take. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pt_thread_create_own(&fl.thread, flusher, NULL) == 0)
		pthread_setname_np(fl.thread, "pytrace-flush");
	else
		fl.thread = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_unlock(&fl.ctl);
}

/* Stop the flusher and wait for it; `rearm`: the next line starts it
 * again. */
static void stop_flusher(int rearm)
{
	pthread_mutex_lock(&fl.ctl);
	if (fl.running && fl.thread) {
		pthread_mutex_lock(&fl.lock);
		fl.stop = 1;
		pthread_cond_signal(&fl.wake);
		pthread_mutex_unlock(&fl.lock);
		pt_thread_join(fl.thread, &fl.tid);
		fl.thread = 0;
		fl.tid = 0;
	}
	if (rearm) {
		fl.running = 0;
		no_append();	/* the next line starts it again */
	}
	pthread_mutex_unlock(&fl.ctl);
}

/* A thread that wrote lines ends (see above): the last of them stops
 * the flusher. */
static void thread_gone(void *value)
{
	(void)value;
	if (getpid() != out.owner ||
	    __atomic_sub_fetch(&fl.writers, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	stop_flusher(1);
	pt_out_flush();
}

static void make_exit_key(void)
{
	if (pthread_key_create(&exit_key, thread_gone) != 0)
		exit_key = (pthread_key_t)-1;
}

/* Give this thread the value whose destructor is thread_gone. */
static __attribute__((noinline)) void watch_thread(void)
{
	pt_thread.watched = 1;
	__atomic_add_fetch(&fl.writers, 1, __ATOMIC_ACQ_REL);
	pthread_once(&exit_key_once, make_exit_key);
	if (exit_key != (pthread_key_t)-1)
		pthread_setspecific(exit_key, &out);
}

/* Before fork: the buffer written and kept (taken) until after it, so
 * that no line is in it twice. */
static void atfork_prepare(void)
{
	stop_flusher(0);
	pthread_mutex_lock(&out.lock);
	if (take())
		flush_locked();
}

static void atfork_parent(void)
{
	fl.running = 0;		/* the next line starts it again */
	no_append();
	give();
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
	/* the child registers for membarrier on its first line */
	out.fast = out.fast_tried = tail->busy = tail->wants = out.held = 0;
	no_append();
	pthread_mutex_init(&fl.lock, NULL);
	pthread_mutex_init(&fl.ctl, NULL);
	pthread_cond_init(&fl.wake, NULL);
	fl.running = 0;
	fl.thread = 0;
	fl.writers = pt_thread.watched;	/* the forking thread alone is left */
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

	no_append();	/* until a line takes the lock */
	if (!tail->buf)
		tail->buf = malloc(PT_OUT_BUFSIZE);	/* kept across close */
	out.cap = PT_OUT_BUFSIZE;
	tail->len = 0;
	out.size = 0;
	out.reopen = 0;
	free(out.pattern);
	free((char *)out.vars.progname);
	out.pattern = NULL;
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
	if (!tail->buf || !out.vars.progname || (pattern && !out.pattern)) {
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

/* pt_out_begin without the fast path: under out.lock.  Not inlined, to
 * keep the fast path short. */
static __attribute__((noinline)) char *begin_locked(size_t need)
{
	pthread_mutex_lock(&out.lock);
	if (!out.open)
		goto closed;
	if (!out.fast_tried) {
		out.fast_tried = 1;
		if (out.interval_ms <= 0)
			out.fast = fast_register();	/* else the flusher */
	}
	if (!pt_thread.watched)
		watch_thread();
	if (out.interval_ms > 0 && !fl.running)
		start_flusher();
	if (tail->len + need > out.cap) {
		flush_locked();
		if (!out.open)
			goto closed;
		if (need > out.cap) {
			char *b = realloc(tail->buf, need);
			if (!b)
				goto closed;
			tail->buf = b;
			out.cap = need;
		}
	}
	set_limit();
	out.held = 1;
	return tail->buf + tail->len;
closed:
	pthread_mutex_unlock(&out.lock);
	return NULL;
}

/*
 * The writer's side of the handshake (pt_out_try in output.h): busy
 * first, then a look at `wants`.  The compiler barrier keeps that order
 * in the code; take()'s membarrier makes it hold between processors.
 */
static inline __attribute__((always_inline)) char *begin(size_t need)
{
	char *p = pt_out_try(need);

	return p ? p : begin_locked(need);
}

char *pt_out_begin(size_t need)
{
	return begin(need);
}

static inline __attribute__((always_inline)) void end(char *e)
{
	tail->len = (size_t)(e - tail->buf);
	if (__builtin_expect(out.held, 0)) {
		out.held = 0;
		pthread_mutex_unlock(&out.lock);
	} else {
		__atomic_store_n(&tail->busy, 0, __ATOMIC_RELEASE);
	}
}

void pt_out_end(char *e)
{
	end(e);
}

int pt_out_write(const char *s, size_t n)
{
	char *p = begin(n);

	if (!p)
		return -1;
	memcpy(p, s, n);
	end(p + n);
	return 0;
}

char *pt_out_room(char *p, size_t need, int flush)
{
	tail->len = (size_t)(p - tail->buf);
	if (!flush && tail->len + need <= out.cap)
		return p;
	if (!out.held) {
		/* appending without the lock: go on with it, the bytes up to
		 * p kept (they end at a record boundary) */
		__atomic_store_n(&tail->busy, 0, __ATOMIC_RELEASE);
		pthread_mutex_lock(&out.lock);
		out.held = 1;
		if (!out.open)
			goto closed;
	}
	flush_locked();
	if (!out.open)
		goto closed;
	if (need > out.cap) {
		char *b = realloc(tail->buf, need);
		if (!b)
			goto closed;
		tail->buf = b;
		out.cap = need;
	}
	return tail->buf + tail->len;
closed:
	out.held = 0;
	pthread_mutex_unlock(&out.lock);
	return NULL;
}

void pt_out_records(const struct pt_out_records *ops)
{
	out.rec = ops;
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
	if (take())
		flush_locked();
	give();
	pthread_mutex_unlock(&out.lock);
}

void pt_out_prepare(void)
{
	if (out.fast_tried)
		return;
	int ok = fast_register();
	pthread_mutex_lock(&out.lock);
	out.fast_tried = 1;
	out.fast = ok;
	pthread_mutex_unlock(&out.lock);
}

void pt_out_close(void)
{
	if (!out.owner || getpid() != out.owner)
		return;		/* never opened, or a vfork() child's view */
	stop_flusher(1);
	pthread_mutex_lock(&out.lock);
	if (take())
		flush_locked();
	give();
	if (out.fd > 2 && out.pattern)
		close(out.fd);
	out.fd = -1;
	shut();
	tail->len = 0;
	out.rec = NULL;
	pthread_mutex_unlock(&out.lock);
}

void pt_out_path(char *buf, size_t size)
{
	struct timespec until;

	/* bounded: a write blocked under the lock must not stall the asker */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 200 * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	buf[0] = '\0';
	if (pthread_mutex_timedlock(&out.lock, &until) != 0)
		return;
	snprintf(buf, size, "%s", out.open && out.pattern ? out.path :
				  out.open ? "stderr" : "");
	pthread_mutex_unlock(&out.lock);
}

void pt_out_flush_before_exit(void)
{
	/* A vfork() child shares this memory but is another process: the
	 * buffer is its parent's, not its to write. */
	if (out.open && getpid() == out.owner) {
		stop_flusher(0);
		pt_out_flush();
	}
}

void pt_out_flush_owned(void)
{
	if (out.open && getpid() == out.owner)
		pt_out_flush();
}

__attribute__((destructor)) static void pt_out_fini(void)
{
	pt_out_flush();
}
