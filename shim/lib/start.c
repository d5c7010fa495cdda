/* SPDX-License-Identifier: MIT */
/*
 * start.c - when tracing starts, and the order of the steps that start it.
 *
 * Where the interpreter runs a program (python script.py, -m, -c, stdin),
 * tracing starts where `python -m trace` starts it: at the first line of
 * __main__.  The start hook only arms it:
 *  - 3.8+: an audit hook registered from the constructor sees
 *    cpython.run_file, run_module, run_command or run_stdin, raised right
 *    before the user's code;
 *  - 2.7-3.7: the interposed initialisation functions (interpose.c) return
 *    inside Py_Main;
 *  - 2.7 where those are not reached (a static interpreter, as Debian's
 *    before 11 ships, or a libpython that calls itself directly): a
 *    pending call, queued by the constructor (pt_start_hook_pending);
 *  - 3.6 and 3.7 where those are not reached: the same pending call,
 *    queued late in initialisation, when the interpreter ignores SIGPIPE
 *    (pt_start_hook_sigpipe).
 * Interpreter start-up (site, encodings, .pth files) is therefore never
 * traced.  A host that embeds Python (Py_Initialize outside Py_Main) is
 * traced from the moment its initialisation returns.
 *
 * With start = "standby" nothing is traced at that point: the process
 * listens for `pytrace on` instead (standby.c).
 *
 * PyEval_SetTrace and sys.monitoring raise nested audit events; the
 * `started` flag, set first, turns those and every later event away at
 * once, but for those the back end takes ("sys.settrace": the program
 * replacing pytrace's trace function, which it is told about once).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audithook.h"
#include "conf.h"
#include "control.h"
#include "frames.h"
#include "path.h"
#include "program.h"
#include "pyapi.h"
#include "pytrace.h"
#include "rules.h"
#include "settings.h"
#include "standby.h"
#include "start.h"
#include "state.h"
#include "subinterp.h"
#include "tracing.h"

static int started;		/* tracing was started, or tried once */
static int wrapped;		/* an interposed entry point starts tracing */
static int loaded;		/* settings: 0 not read, 1 usable, -1 not */
static struct pt_settings settings;
static struct pt_rules rules;
static char start_cwd[PATH_MAX];	/* resolves relative co_filename */
static char progname[PATH_MAX];	/* %n; "" until known */

/* Read the settings once: defaults, the configuration file, the
 * environment.  True when they are usable and tracing is enabled. */
static int load_settings(void)
{
	const char *file;

	if (!loaded)
		loaded = pt_conf_resolve(&settings, NULL, &file) == 0 &&
				 settings.enabled ? 1 : -1;
	return loaded > 0;
}

void pt_start(enum pt_trace_from from, const char *name,
	      const struct pt_program *prog)
{
	struct pt_program found;

	if (started)
		return;
	started = 1;
	if (name)
		snprintf(progname, sizeof(progname), "%s", name);
	/* 1. settings */
	if (!load_settings())
		return;
	if (settings.start == PT_START_INIT && from == PT_FROM_MAIN && !pt_py.AddAuditHook)
		pt_notice("start = \"init\" needs Python 3.8 or newer (audit "
		          "hooks); tracing from the main program");
	/* 2. is this a program to trace? */
	if (!prog && pt_program_from_proc(&found) == 0)
		prog = &found;
	if (settings.programs.n && (!prog || !pt_program_selected(&settings, prog)))
		return;
	/* 3. where relative file names point: the directory at start, before
	 *    the program can chdir */
	if (!getcwd(start_cwd, sizeof(start_cwd)))
		start_cwd[0] = '\0';
	/* standby: listen, and trace only once switched on */
	if (settings.start == PT_START_STANDBY) {
		pt_standby(start_cwd, progname, 0);
		return;
	}
	/* 4. ignore rules */
	if (pt_rules_build(&rules, &settings, start_cwd) < 0)
		return;
	/* 5. the line writer (which opens the output now, or when the
	 *    program starts) and the back end */
	struct pt_trace_setup set = {
		.rules = &rules, .s = &settings, .cwd = start_cwd,
		.progname = progname, .from = from,
	};
	pt_tracing_start(&set);
}

void pt_start_late(void)
{
	if (started)
		return;
	started = 1;
	if (!load_settings())
		return;
	if (!getcwd(start_cwd, sizeof(start_cwd)))
		start_cwd[0] = '\0';
	pt_standby(start_cwd, progname, 1);
}

/* The first argument of an audit event, as a C string; 0 or -1. */
static int event_arg(PyObject *args, char *buf, size_t size)
{
	PyObject *a = pt_py.TupleGetItem(args, 0);

	if (!a || pt_py_cstr(a, buf, size) < 0) {
		pt_py.ErrClear();
		return -1;
	}
	return 0;
}

static int pt_audit(const char *event, PyObject *args, void *data)
{
	struct pt_program prog;
	char arg[PATH_MAX], exe[PATH_MAX];
	const char *name = program_invocation_short_name;

	(void)data;
	pt_audithook_settle();
	pt_tracing_audit(event);
	if (started) {
		if (pt_control_wanted)
			pt_control_restart();	/* after a fork */
		if (event[0] == 'o' && strcmp(event, "os.fork") == 0)
			pt_control_pyfork();
		pt_interp_audit(event, args);	/* subinterpreters */
		return 0;
	}
	if (!load_settings()) {
		started = 1;	/* reported once; never again */
		return 0;
	}
	/* start = init: from the first import, before site runs */
	if (settings.start == PT_START_INIT && strcmp(event, "import") == 0) {
		pt_start(PT_FROM_NOW, NULL, NULL);
		return 0;
	}
	if (strncmp(event, "cpython.run_", 12) != 0)
		return 0;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	pt_program_set(&prog, name, exe);
	if (strcmp(event + 12, "file") == 0 && event_arg(args, arg, sizeof(arg)) == 0) {
		/* %n and `programs` see the script: "nova-compute" */
		char abs[PATH_MAX], cwd[PATH_MAX];
		const char *slash = strrchr(arg, '/');
		name = slash ? slash + 1 : arg;
		if (!getcwd(cwd, sizeof(cwd)) ||
		    pt_path_normalize(arg, cwd, abs, sizeof(abs)) < 0)
			snprintf(abs, sizeof(abs), "%s", arg);
		pt_program_set(&prog, name, abs);
	} else if (strcmp(event + 12, "module") == 0 &&
		   event_arg(args, arg, sizeof(arg)) == 0) {
		/* `programs` matches the module; %n stays the interpreter's */
		snprintf(prog.name, sizeof(prog.name), "%.255s", arg);
	}
	pt_start(PT_FROM_MAIN, name, &prog);
	return 0;
}

int pt_start_hook_audit(void)
{
	if (pt_audithook_add(pt_audit) < 0) {
		pt_log("cannot add an audit hook; not tracing");
		return -EPERM;
	}
	return 0;
}

void pt_start_by_wrapper(void)
{
	wrapped = 1;
}

/*
 * The pending call of pt_start_hook_pending and pt_start_sigpipe: the
 * first bytecode the interpreter runs after it was queued, in the main
 * thread.  Tracing starts from the first line of __main__ (PT_FROM_MAIN:
 * what runs before, site and the rest of start-up, is looked at and not
 * written).  `arg` is non-NULL when the back end sees the frames running
 * now return (2.7's profile function), NULL when it does not (3.6 and
 * 3.7's frame evaluation function, which only sees frames it starts).
 * Returns 0 always: an error would raise an exception in whatever code
 * runs.
 */
static int pending_start(void *arg)
{
	if (started || wrapped)
		return 0;
	pt_start(PT_FROM_MAIN, NULL, NULL);
	/* The frames running now (start-up's, interrupted by this call)
	 * began before the back end saw calls, and return through it all
	 * the same: {indent} counts them as entered. */
	if (arg && pt_state.needs_depth)
		for (void *f = pt_frame_running(NULL); f; f = pt_frame_caller(f))
			pt_thread_enter();
	return 0;
}

/* A non-NULL argument of pending_start. */
static int frames_return_through_back_end;

int pt_start_hook_pending(void)
{
	if (!pt_py.AddPendingCall ||
	    pt_py.AddPendingCall(pending_start, &frames_return_through_back_end) < 0) {
		pt_log("Python %d.%d: cannot queue the call that starts "
		       "tracing; not tracing", pt_py.major, pt_py.minor);
		return -EAGAIN;
	}
	return 0;
}

/*
 * 3.6 and 3.7 where the wrapped initialisation is not reached.
 *
 * A pending call queued by the constructor is of no use there: 3.6 runs
 * it while importlib bootstraps, long before the interpreter is set up,
 * and 3.7 clears the queue as it initialises its runtime.  It has to be
 * queued later, from a call the interpreter makes into the C library,
 * which goes through the PLT even from a static executable.  The one
 * taken is initsigs()' PyOS_setsig(SIGPIPE, SIG_IGN), that is
 * sigaction(SIGPIPE, {SIG_IGN}), which both versions make exactly once,
 * in every Py_Main, whatever runs (script, -m, -c, standard input):
 *  - after the runtime, the interpreter, sys, builtins and importlib,
 *    with the path-based import of the standard library, are set up
 *    (3.6's _Py_InitializeEx_Private, 3.7's
 *    _Py_InitializeMainInterpreter), so the call is kept;
 *  - right before the import of _signal that installs the SIGINT
 *    handler, which goes through importlib's Python code: the first
 *    bytecode after it, where the call runs, in the main thread (checked
 *    under gdb on both).  __main__, the standard streams and site come
 *    later; tracing waits for the first line of __main__, with the rest
 *    of start-up, site and (-m) runpy looked at and not written.
 * Limits: an embedding host that initialises with Py_InitializeEx(0)
 * installs no signal handlers and is not traced (a shared libpython is
 * started by the wrapped initialisation all the same); one that links
 * libpython statically and calls Py_Initialize is traced from its first
 * code run in __main__.  A program that ignores SIGPIPE itself does so
 * after Py_Main initialised, when this has acted already.
 *
 * The sigaction wrapper (interpose.c) runs in every process pytrace is
 * preloaded into, Python or not: it tests the one flag below, which only
 * the constructor of a 3.6 or 3.7 process sets, and clears it before it
 * does anything else, so it acts once, and a child (fork) never again.
 */
int pt_start_at_sigpipe;

int pt_start_hook_sigpipe(void)
{
	if (!pt_py.AddPendingCall) {
		pt_log("Python %d.%d: cannot queue the call that starts "
		       "tracing; not tracing", pt_py.major, pt_py.minor);
		return -EAGAIN;
	}
	pt_start_at_sigpipe = 1;
	return 0;
}

void pt_start_sigpipe(void)
{
	/* once, even if threads of an embedding host race here */
	if (!__atomic_exchange_n(&pt_start_at_sigpipe, 0, __ATOMIC_RELAXED) ||
	    started || wrapped)
		return;
	if (pt_py.AddPendingCall(pending_start, NULL) < 0)
		pt_log("Python %d.%d: cannot queue the call that starts "
		       "tracing; not tracing", pt_py.major, pt_py.minor);
}
