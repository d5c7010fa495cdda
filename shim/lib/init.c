/* SPDX-License-Identifier: MIT */
/*
 * init.c - the library constructor, the first code pytrace runs in every
 * process it is preloaded into, Python or not; and the check, shared with
 * the start hooks, that decides whether this process is one pytrace traces.
 *
 * Order, each step cheap and silent unless the next one applies:
 *   0. A secure-execution process (set-uid, AT_SECURE): do nothing at all,
 *      not even read the environment.
 *   1. PYTRACE_ENABLED=0 (or PYTRACE_ENABLE=0): do nothing at all.
 *   2. No Python interpreter in the process (bash, coreutils, C programs):
 *      do nothing at all.  One dlsym() is the whole cost.  (A plug-in may
 *      still load libpython later; interpose.c then asks again.)
 *   3. Resolve the libpython entry points (pyapi.c); refuse, with one
 *      message, the builds pytrace cannot trace.
 *   4. 3.8+: register the audit hook that starts tracing (start.c).
 *      2.7: queue the pending call that starts it, unless interpose.c
 *      does when the interpreter has initialised (start.c).
 *      3.6, 3.7: have the sigaction wrapper queue that call late in
 *      initialisation, unless interpose.c starts tracing (start.c).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <string.h>

#include "init.h"
#include "pyapi.h"
#include "pytrace.h"
#include "settings.h"
#include "start.h"

/* 0: not decided yet; 1: trace this process; -1: never. */
static int state;

/* Builds pytrace cannot trace; 0 when this one is fine, else -1 after one
 * message.  A version newer than tested is traced, and not said here: a
 * process that `programs` or the settings leave untraced says nothing. */
static int refuse_build(void)
{
	int major = pt_py.major, minor = pt_py.minor;

	if (strstr(pt_py.GetVersion(), "free-threading")) {
		pt_log("Python %d.%d is a free-threaded build, which pytrace "
		       "does not support; not tracing", major, minor);
		return -1;
	}
	if (major < 2 || (major == 2 && minor < 7)) {
		pt_log("Python %d.%d is older than 2.7; not tracing", major,
		       minor);
		return -1;
	}
	if (!pt_py.code_in_frame && !pt_py.FrameGetCode) {
		pt_log("libpython symbol PyFrame_GetCode not found; not tracing");
		return -1;
	}
	return 0;
}

int pt_init_python(void *handle)
{
	const char *enable;

	if (state)
		return state > 0;
	/* A set-uid (or otherwise secure-execution) process: its environment
	 * is not to be trusted, so none of it is read, and nothing traced. */
	if (getauxval(AT_SECURE)) {
		state = -1;
		return 0;
	}
	/* The cheap early way out; the full settings are read at start. */
	enable = getenv("PYTRACE_ENABLED");
	if (!enable)
		enable = getenv("PYTRACE_ENABLE");
	if (enable && pt_parse_bool(enable) == 0) {
		state = -1;
		return 0;
	}
	if (!handle && !pt_py_available())
		return 0;	/* maybe later, if a plug-in loads Python */
	state = pt_py_load(handle) == 0 &&
		refuse_build() == 0 ? 1 : -1;
	return state > 0;
}

/*
 * pt_init - preloaded, the constructor runs before the interpreter
 * initialises, and arms the start hook.  Loaded into an interpreter that
 * runs already (dlopen from the program, or pytrace attach), no start
 * hook can fire any more: the process waits in standby for `pytrace on`.
 * Then this runs in whatever thread loaded the library, maybe without
 * the GIL: it calls nothing of Python's but what needs no GIL.
 */
__attribute__((constructor)) static void pt_init(void)
{
	if (!pt_init_python(NULL))
		return;
	if (pt_py.IsInitialized())
		pt_start_late();
	else if (pt_py.AddAuditHook)
		pt_start_hook_audit();
	else if (pt_py.major == 2)
		pt_start_hook_pending();
	else
		pt_start_hook_sigpipe();
}
