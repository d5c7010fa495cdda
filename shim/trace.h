/* SPDX-License-Identifier: MIT */
/*
 * trace.h - the C trace function and the switch that installs it.
 */
#ifndef PYTRACE_TRACE_H
#define PYTRACE_TRACE_H

#include "pyapi.h"
#include "rules.h"

/*
 * pt_trace_start - install the trace function in the calling thread and
 * arrange for threads started later by `threading` to get it too.  `rules`
 * and `cwd` (where relative file names are resolved; may be "") are kept.
 * Called once, with the GIL held.  Returns 0 or a negative errno.
 */
int pt_trace_start(const struct pt_rules *rules, const char *cwd);

#endif
