/* SPDX-License-Identifier: MIT */
/*
 * standby.h - a process that traces only once switched on (start =
 * "standby"), and off again.
 */
#ifndef PYTRACE_STANDBY_H
#define PYTRACE_STANDBY_H

/*
 * pt_standby - instead of tracing, listen for `pytrace on`, `off` and
 * `status` (control.c).  `cwd` resolves relative names and `progname` is
 * the %n of the output pattern ("": from the command line), both
 * start-up's, kept.  Once: with the GIL, in the thread that runs the
 * program; or `late`, when the library was loaded into a running
 * interpreter, in any thread (no Python call is made).
 */
void pt_standby(const char *cwd, char *progname, int late);

#endif
