/* SPDX-License-Identifier: MIT */
/*
 * start.h - hooking the start of the user's program.
 */
#ifndef PYTRACE_START_H
#define PYTRACE_START_H

/*
 * pt_start_hook_audit - 3.8+: register an audit hook (before the
 * interpreter initialises) that starts tracing at cpython.run_file,
 * run_module, run_command or run_stdin, as `python -m trace` would.
 * Returns 0 or a negative errno.
 */
int pt_start_hook_audit(void);

/*
 * pt_start - read the settings, open the output and install the trace
 * function in the calling thread.  `progname` is the %n of the output
 * pattern.  Called once, with the GIL held.  Any problem is reported once
 * and the program runs untraced.
 */
void pt_start(const char *progname);

#endif
