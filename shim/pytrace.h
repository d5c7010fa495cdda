/* SPDX-License-Identifier: MIT */
/*
 * pytrace.h - declarations shared by the files of libpytrace.so.
 *
 * The library is split by concern: init.c (constructor and start-up order),
 * start.c (the interpreter-start hook), pyapi.c (libpython entry points found
 * at run time), trace.c (the C trace function), subinterp.c (every
 * interpreter of the process traced), codemap.c (per-code-object
 * cache), source.c (file records and cached source lines), rules.c (ignore
 * rules), path.c (path arithmetic), settings.c (settings from the
 * environment), output.c (buffered writer), record.c and recfmt.c (record
 * mode's binary records) and log.c (messages).
 *
 * Everything is built with -fvisibility=hidden: only symbols marked
 * PT_EXPORT appear in the dynamic symbol table.
 */
#ifndef PYTRACE_H
#define PYTRACE_H

#include <stddef.h>

#define PT_EXPORT __attribute__((visibility("default")))

/* log.c: one line "pytrace[pid]: message" on standard error. */
void pt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What follows a bad setting, appended to its message: "; not tracing" in
 * a traced process, nothing in pytrace-check. */
extern const char *pt_log_consequence;

/* Also send messages to syslog (/dev/log): 1 in a traced process. */
extern int pt_log_syslog;

#endif
