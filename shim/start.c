/* SPDX-License-Identifier: MIT */
/*
 * start.c - when tracing starts, and the order of the steps that start it.
 *
 * On 3.8+ an audit hook registered from the constructor waits for the
 * events CPython raises right before the user's code runs
 * (cpython.run_file, run_module, run_command, run_stdin).  Interpreter
 * start-up (site, encodings) is therefore not traced, as with trace.py.
 * PyEval_SetTrace raises a nested "sys.settrace" audit event; the
 * `started` flag, set first, turns that and every later event away at once.
 */
#include <stdio.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "pyapi.h"
#include "pytrace.h"
#include "rules.h"
#include "settings.h"
#include "start.h"
#include "trace.h"

static int started;		/* tracing was started, or tried once */
static struct pt_settings settings;
static struct pt_rules rules;
static char start_cwd[PATH_MAX];	/* resolves relative co_filename */

void pt_start(const char *progname)
{
	/* 1. settings: defaults, then the environment */
	pt_settings_init(&settings);
	if (pt_settings_from_env(&settings) < 0 || !settings.enable)
		return;
	/* 2. where relative file names point: the directory at start, before
	 *    the program can chdir */
	if (!getcwd(start_cwd, sizeof(start_cwd)))
		start_cwd[0] = '\0';
	/* 3. ignore rules, 4. output, 5. the trace function */
	if (pt_rules_build(&rules, &settings, start_cwd) < 0)
		return;
	if (pt_out_open(settings.output, progname) < 0)
		return;
	pt_trace_start(&rules, start_cwd);
}

/* %n of a script: its basename, the name users know ("nova-compute"). */
static void script_name(PyObject *args, char *buf, size_t size)
{
	PyObject *a = pt_py.TupleGetItem(args, 0);
	char path[PATH_MAX];

	if (!a || pt_py_cstr(a, path, sizeof(path)) < 0) {
		pt_py.ErrClear();
		snprintf(buf, size, "%s", program_invocation_short_name);
		return;
	}
	const char *slash = strrchr(path, '/');
	snprintf(buf, size, "%s", slash ? slash + 1 : path);
}

static int pt_audit(const char *event, PyObject *args, void *data)
{
	char name[PATH_MAX];

	(void)data;
	if (started || strncmp(event, "cpython.run_", 12) != 0)
		return 0;
	started = 1;
	if (strcmp(event + 12, "file") == 0)
		script_name(args, name, sizeof(name));
	else
		snprintf(name, sizeof(name), "%s", program_invocation_short_name);
	pt_start(name);
	return 0;
}

int pt_start_hook_audit(void)
{
	if (pt_py.AddAuditHook(pt_audit, NULL) < 0) {
		pt_log("cannot add an audit hook; not tracing");
		return -EPERM;
	}
	return 0;
}
