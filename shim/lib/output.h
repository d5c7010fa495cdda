/* SPDX-License-Identifier: MIT */
/*
 * output.h - the trace output: a path pattern, an in-memory buffer of whole
 * lines, and write(2) of whole buffers.
 */
#ifndef PYTRACE_OUTPUT_H
#define PYTRACE_OUTPUT_H

#include <stddef.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "pattern.h"
#include "state.h"

/*
 * pt_out_open - start writing to the file named by `pattern` (NULL means
 * standard error).  The file is opened for appending, never truncated, never
 * through a symbolic link, and created with the configured mode (0600); a
 * missing directory is created (0750) when its parent exists.
 * Returns 0, or a negative errno after one message naming the file.
 */
int pt_out_open(const char *pattern, const char *progname);

/*
 * pt_out_configure - before pt_out_open: rotate the file when a write
 * would take it beyond `max_size` bytes (0: never), keeping `keep` old
 * files (name.1 ... name.keep); write what is buffered at least every
 * `interval_ms` (0: only when the buffer fills, before fork, at exit);
 * create files with `mode` (0600 unless set).
 */
void pt_out_configure(unsigned long long max_size, int keep, long interval_ms,
		      int mode);

/*
 * pt_out_begin - room for `need` bytes at the end of the buffer, or NULL
 * when output is closed or stopped.  Called with the GIL held, so that
 * two calls never overlap; the flusher and the exit and fork paths wait
 * for the pt_out_end() that must follow.  The bytes in between form whole
 * lines (records) only.  O(1), without a lock where membarrier(2) exists
 * (see output.c), unless the buffer must be written first.
 */
char *pt_out_begin(size_t need);

/* pt_out_end - keep the bytes up to `end`. */
void pt_out_end(char *end);

/* pt_out_write - pt_out_begin, a copy of the `n` bytes at `s` (whole
 * lines), pt_out_end, in one call.  0, or -1 when the output is closed
 * (as pt_out_begin's NULL). */
int pt_out_write(const char *s, size_t n);

/*
 * The buffer's append point, for the inline appends below; output.c's
 * alone to change.  `limit` is the buffer's size while lines may be
 * appended without the lock (the output open, membarrier(2) registered,
 * the flusher running where there is one), else 0; `busy` and `wants`
 * are the two sides of the handshake output.c describes.
 */
struct pt_out_tail {
	char *buf;
	size_t len, limit;
	int busy;		/* a writer appends without the lock */
	int wants;		/* the buffer is taken: writers lock */
};

extern struct pt_out_tail pt_out_tail;

/*
 * pt_out_try - pt_out_begin's lock-free case, inline: room for `need`
 * bytes, to be kept with pt_out_end; NULL when pt_out_begin must be
 * called instead (the lock, a flush, this thread's first line).
 */
static inline __attribute__((always_inline)) char *pt_out_try(size_t need)
{
	struct pt_out_tail *t = &pt_out_tail;

	__atomic_store_n(&t->busy, 1, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (__builtin_expect(!__atomic_load_n(&t->wants, __ATOMIC_ACQUIRE) &&
			     t->len + need <= t->limit && pt_thread.watched, 1))
		return t->buf + t->len;
	__atomic_store_n(&t->busy, 0, __ATOMIC_RELEASE);
	return NULL;
}

/* pt_out_done - pt_out_end after pt_out_try: keep the bytes up to
 * `end`. */
static inline __attribute__((always_inline)) void pt_out_done(char *end)
{
	pt_out_tail.len = (size_t)(end - pt_out_tail.buf);
	__atomic_store_n(&pt_out_tail.busy, 0, __ATOMIC_RELEASE);
}

/*
 * pt_out_append - pt_out_write's lock-free case, inline: a text line's
 * hot path.  1 when the `n` bytes at `s` were appended; 0 when
 * pt_out_write must append them.  It copies whole blocks of
 * PT_OUT_BLOCK bytes, without a call or a branch on the length's size
 * class, so it reads and writes up to PT_OUT_BLOCK - 1 bytes past the
 * `n`: `s` must be readable that far (the bytes after the n are not
 * kept).  The store a few lines ahead is announced (prefetch for
 * writing), so that the buffer's next cache lines are owned before the
 * copy reaches them: about 4% of a text trace's time to /dev/null on
 * W1 between them.
 */
enum { PT_OUT_BLOCK = 32 };

static inline __attribute__((always_inline)) int pt_out_append(const char *s,
								 size_t n)
{
	char *p = pt_out_try(n + PT_OUT_BLOCK);

	if (!p)
		return 0;
	__builtin_prefetch(p + 1024, 1, 3);
	for (size_t i = 0; i < n; i += PT_OUT_BLOCK)
		__builtin_memcpy(p + i, s + i, PT_OUT_BLOCK);
	pt_out_done(p + n);
	return 1;
}

/*
 * pt_out_room - between pt_out_begin and pt_out_end: keep the bytes up to
 * `p` and return room for `need` more after them, writing what is kept
 * first when the buffer is too full for that, or always when `flush`.
 * NULL when the output is closed (pt_out_end is then not to be called).
 */
char *pt_out_room(char *p, size_t need, int flush);

/*
 * Record mode (record.c): the buffer holds records, not lines.  output.c
 * writes it as chunks, each one write(2) of the bytes `frame` returns
 * followed by whole records of the buffer.  All are called with the
 * buffer locked, from whichever thread writes it.
 */
struct pt_out_records {
	/* The file written from now on is not the one written before (the
	 * first open, a reopen, a rotation, a truncation); `buffered`: the
	 * buffer holds records made for the one before. */
	void (*new_file)(int buffered);
	/* The length of the longest run of whole records at the start of
	 * buf[0, len) that fits in `room` bytes; the first record's length
	 * when none does. */
	size_t (*cut)(const char *buf, size_t len, size_t room);
	/* What to write before the records buf[start, start + n): a chunk
	 * header and what a reader needs first.  Valid until the next call;
	 * *len is its length. */
	const char *(*frame)(const char *buf, size_t start, size_t n,
			     size_t *len);
	/* The last chunk framed is in the file. */
	void (*written)(void);
	/* The buffer was emptied (written or dropped). */
	void (*flushed)(void);
};

/* pt_out_records - write records, framed by `ops` (before pt_out_open). */
void pt_out_records(const struct pt_out_records *ops);

/*
 * pt_out_prepare - what the first line would do that may take long: the
 * registration for membarrier(2), tens of ms in a process with threads.
 * For a thread of pytrace's own that has the time (standby's control
 * thread), so that `on` does not make a service wait for it.
 */
void pt_out_prepare(void);

/*
 * pt_out_close - write what is buffered and close the file; pt_out_open
 * may follow (tracing switched off, then on).  With the GIL, so that no
 * line is being appended; the flusher is stopped first.
 */
void pt_out_close(void);

/* pt_out_path - the name of the file written now into buf ("stderr" for
 * standard error, "" when closed).  Any thread. */
void pt_out_path(char *buf, size_t size);

/* pt_out_flush - write what is buffered; bounded wait for the lock. */
void pt_out_flush(void);

/*
 * pt_out_flush_before_exit - before execve() or _exit(), which skip the
 * exit path: write what is buffered, if this process owns the buffer (not
 * in a vfork() child).  Cheap when nothing is traced.
 */
void pt_out_flush_before_exit(void);

/*
 * pt_out_flush_owned - write what is buffered now, if this process owns
 * the buffer (not in a vfork() child); the flusher goes on.  For the start
 * of interpreter finalisation, after which a signal may end the process
 * without its exit path.
 */
void pt_out_flush_owned(void);

#endif
