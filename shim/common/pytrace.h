/* SPDX-License-Identifier: MIT */
/*
 * pytrace.h - what every file of pytrace shares: the export macro and
 * the two ways of speaking to the user (log.c).  Where each file belongs
 * is said in README.md, "Source layout".
 *
 * Everything is built with -fvisibility=hidden: only symbols marked
 * PT_EXPORT appear in the dynamic symbol table.
 */
#ifndef PYTRACE_H
#define PYTRACE_H

#include <stddef.h>

#define PT_EXPORT __attribute__((visibility("default")))

/* log.c: one line "pytrace[pid]: message" on standard error and to
 * syslog, for what keeps pytrace from doing what it was asked: a bad
 * setting, an output it cannot open or write, a build it cannot trace. */
void pt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * pt_notice - one line "pytrace[pid]: message" to syslog and into the
 * trace, for what pytrace tells about the program while it goes on
 * tracing (its own trace function, a deep recursion, an untested
 * version): never on standard error, which is the program's.  Passed to
 * the sink of pt_notice_sink; said before there is one, it waits for it
 * (the first few only).  With the GIL held once tracing has started (the
 * sink appends to the trace).
 */
void pt_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What writes a notice into the trace: `msg` (len bytes, one line, no
 * line ending) said by process `pid`. */
typedef void (*pt_notice_fn)(long pid, const char *msg, size_t len);

/* pt_notice_sink - send notices to `sink` from now on, those waiting
 * first; NULL: keep them waiting again. */
void pt_notice_sink(pt_notice_fn sink);

/* pt_log_capture - pt_log's messages of the calling thread go to buf
 * (the first one, without the "pytrace[pid]: " prefix; syslog still gets
 * each) instead of standard error, for an answer to `pytrace on`; NULL:
 * standard error again. */
void pt_log_capture(char *buf, size_t size);

/* What follows a bad setting, appended to its message: "; not tracing" in
 * a traced process, nothing in pytrace-check. */
extern const char *pt_log_consequence;

/* Also send messages to syslog (/dev/log): 1 in a traced process. */
extern int pt_log_syslog;

#endif
