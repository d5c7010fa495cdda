/* SPDX-License-Identifier: MIT */
/*
 * output.h - the trace output: a path pattern, an in-memory buffer of whole
 * lines, and write(2) of whole buffers.
 */
#ifndef PYTRACE_OUTPUT_H
#define PYTRACE_OUTPUT_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* What the tokens of an output pattern stand for. */
struct pt_out_vars {
	const char *progname;	/* %n */
	long pid;		/* %p */
	const char *host;	/* %h */
	time_t start;		/* %t, as YYYYmmdd-HHMMSS, local time */
};

/*
 * pt_out_expand - expand the output pattern: %p the pid, %n the program
 * name, %h the host name, %t the process start time, %% a percent sign.
 * Returns the length, -ENAMETOOLONG, or -EINVAL for any other "%x" (with
 * *bad pointing at it).
 */
ssize_t pt_out_expand(const char *pattern, const struct pt_out_vars *v,
		      char *out, size_t size, const char **bad);

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
 * pt_out_begin - lock the buffer and return room for `need` bytes, or NULL
 * (unlocked) when output is closed or stopped.  Must be paired with
 * pt_out_end(); the bytes in between form whole lines only.
 */
char *pt_out_begin(size_t need);

/* pt_out_end - keep the bytes up to `end`, unlock, write when full. */
void pt_out_end(char *end);

/* pt_out_flush - write what is buffered; bounded wait for the lock. */
void pt_out_flush(void);

/*
 * pt_out_flush_before_exit - before execve() or _exit(), which skip the
 * exit path: write what is buffered, if this process owns the buffer (not
 * in a vfork() child).  Cheap when nothing is traced.
 */
void pt_out_flush_before_exit(void);

#endif
