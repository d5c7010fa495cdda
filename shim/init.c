/* SPDX-License-Identifier: MIT */
/*
 * init.c - the library constructor: the first code pytrace runs in every
 * process it is preloaded into, Python or not.
 *
 * Order, each step cheap and silent unless the next one applies:
 *   1. PYTRACE_ENABLE=0: do nothing at all.
 *   2. No Python interpreter in the process (bash, coreutils, C programs):
 *      do nothing at all.  One dlsym() is the whole cost.
 *   3. Resolve the libpython entry points (pyapi.c).
 *   4. Hook the start of the user's program (start.c).
 */
#include <stdlib.h>

#include "pyapi.h"
#include "pytrace.h"
#include "settings.h"
#include "start.h"

__attribute__((constructor)) static void pt_init(void)
{
	const char *enable = getenv("PYTRACE_ENABLE");

	if (enable && pt_parse_bool(enable) == 0)
		return;
	if (!pt_py_available())
		return;
	if (pt_py_load() < 0)
		return;
	if (pt_py.major == 3 && pt_py.minor >= 11 && !pt_py.FrameGetCode) {
		pt_log("libpython symbol PyFrame_GetCode not found; not tracing");
		return;
	}
	if (pt_py.AddAuditHook) {
		pt_start_hook_audit();
		return;
	}
	pt_log("Python %d.%d has no audit hooks; this build traces 3.8 and "
	       "newer only; not tracing", pt_py.major, pt_py.minor);
}
