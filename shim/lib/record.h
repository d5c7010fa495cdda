/* SPDX-License-Identifier: MIT */
/*
 * record.h - record mode's writer (record.c), in the traced process; the
 * format it writes is recfmt.h's.
 */
#ifndef PYTRACE_RECORD_H
#define PYTRACE_RECORD_H

#include <time.h>

#include "codemap.h"
#include "output.h"
#include "recfmt.h"

/* The writer (record.c), in the traced process. */
struct pt_code;
struct pt_settings;

/*
 * pt_rec_start - switch this process's output to records, before the
 * output is opened: remember what replay needs of the settings and of the
 * start of tracing (`mono_start`, the CLOCK_MONOTONIC start {elapsed}
 * counts from), and frame every write of output.c as a chunk.
 * Returns 0.
 */
int pt_rec_start(const struct pt_settings *s, const struct timespec *mono_start);

/*
 * pt_rec_line - append the record of line `lineno` of `c` (call depth
 * `depth`, for {indent}); with the GIL held.  The first use of a code in
 * each output file first appends its definition.  Returns 0, or -1 when
 * the output is closed (tracing is then to stop).  O(1): a few bytes into
 * the buffer; a hash lookup on a code's first use per file.
 */
int pt_rec_line(struct pt_code *c, int lineno, long depth);

/* What pt_rec_append needs of record.c's state; record.c's alone to
 * change. */
struct pt_rec_hot {
	uint32_t gen;		/* codes defined in the file have this gen */
	unsigned fields;	/* PT_REC_F_*: what LINE records carry */
};

extern struct pt_rec_hot pt_rec_hot;

/*
 * pt_rec_append - pt_rec_line's most common case, inline: `c` defined in
 * the file, LINE records of code and line only, appended without the
 * lock (pt_out_try).  1 when appended; 0 when pt_rec_line must do it.
 */
static inline __attribute__((always_inline)) int
pt_rec_append(const struct pt_code *c, int lineno)
{
	unsigned char *p;

	if (c->rec.gen != pt_rec_hot.gen || pt_rec_hot.fields ||
	    !(p = (unsigned char *)pt_out_try(PT_REC_LINE_MAX)))
		return 0;
	p = pt_rec_put_varint(p, (uint64_t)c->rec.id << 3 | PT_REC_LINE);
	p = pt_rec_put_varint(p, (uint32_t)lineno);
	pt_out_done((char *)p);
	return 1;
}

/* pt_rec_call - append the CALL record of `c` (call_lines); as above. */
int pt_rec_call(struct pt_code *c);

/*
 * pt_rec_enter, pt_rec_leave - append the ENTER record of a frame of `c`
 * starting or resuming in the calling thread, the LEAVE record of the
 * frame it entered last returning or yielding (timeline), each with the
 * monotonic clock; with the GIL held.  0, or -1 when the output is
 * closed.  O(1): a clock read and a few bytes.
 */
int pt_rec_enter(struct pt_code *c);
int pt_rec_leave(void);

/*
 * pt_rec_scope - append the SCOPE record of thread `tid` entering
 * module:qualname (scope_lines); with the GIL held.  0, or -1 when the
 * output is closed.  Among the lines, not in a chunk of its own (see
 * recfmt.h).
 */
int pt_rec_scope(const char *module, const char *qualname, long tid);

/*
 * pt_rec_notice - append the NOTE record of message msg[0, len) of
 * process `pid`, alone in its chunk: what is buffered is written first,
 * the note right after it.  With the GIL held; 0, or -1 when the output
 * is closed.  Two write(2) calls: for the rare notice, not for lines.
 */
int pt_rec_notice(long pid, const char *msg, size_t len);

#endif
