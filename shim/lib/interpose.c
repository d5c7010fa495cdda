/* SPDX-License-Identifier: MIT */
/*
 * interpose.c - the functions libpytrace.so exports but one
 * (threadstart.c's pthread_create): libpython entry points it wraps, to
 * learn when an interpreter without audit hooks (2.7-3.7) has
 * initialised, and when a host that embeds Python has.
 *
 * These wrappers are reached only where the call goes through the PLT: from
 * the `python` executable into a shared libpython, inside a libpython built
 * without -fno-semantic-interposition, and from an embedding host into
 * libpython.  A static interpreter never calls them: it is handled by its
 * audit hook on 3.8+, by a pending call on 2.7, 3.6 and 3.7 (start.c).
 *
 *  - Py_Main (2.7, 3.x), _Py_UnixMain (3.7), Py_BytesMain (3.8+) mark that
 *    the interpreter runs a program: tracing then starts at the first line
 *    of __main__, as trace.py's does.
 *  - Py_Initialize, Py_InitializeEx, Py_InitializeFromConfig (3.8+) and
 *    _Py_InitializeMainInterpreter (3.7): when the outermost one returns,
 *    tracing is armed (inside a main function, 2.7-3.7) or started at once
 *    (outside one: an embedding host).  On 3.8+ inside a main function the
 *    audit hook does the work and the wrappers only pass the call on.
 *
 *  - Py_FinalizeEx, Py_Finalize: finalisation begins; what is buffered is
 *    written (see below).
 *  - Py_NewInterpreter, Py_NewInterpreterFromConfig (3.12+) and
 *    Py_EndInterpreter: a subinterpreter is set up for tracing when it
 *    has been created, and let go of when it ends (subinterp.c).
 *  - PyOS_AfterFork_Child (3.7+), PyOS_AfterFork (2.7-3.6): the child of
 *    os.fork() of a process in standby listens under its own pid
 *    (control.c; where these cannot be interposed, the "os.fork" audit
 *    event has it listen at once).
 *
 * And from libc: execve, execv, fexecve and _exit, which end the process
 * image without its exit path (os.execv, os._exit, a multiprocessing
 * worker's end): what is buffered is written first.  And sigaction: once
 * the interpreter is finalising, it puts back the default action of every
 * signal it handled (SIGINT always, SIGTERM in most services), and from
 * then on such a signal (a master reaping its worker) ends the process
 * without its exit path; what is buffered is written before the first
 * such call.  That is the start of finalisation for a static interpreter,
 * whose own call of Py_FinalizeEx cannot be interposed.  Calls from a static
 * interpreter into libc go through the PLT, so this works for every build.
 * The same sigaction wrapper is where 3.6 and 3.7 start when no wrapped
 * initialisation is reached: as the interpreter ignores SIGPIPE (start.c).
 * The real libc functions are found once, by the constructor.
 *
 * Each wrapper calls the real function, found with dlsym(RTLD_NEXT) or,
 * when libpython was loaded RTLD_LOCAL by a plug-in, in the loaded object
 * that defines it.  The return types are the interpreter's exact ones
 * (PyStatus and _PyInitError are returned by value).
 */

#include <dlfcn.h>
#include <sys/syscall.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "control.h"
#include "init.h"
#include "output.h"
#include "pyapi.h"
#include "pytrace.h"
#include "start.h"
#include "subinterp.h"

/* PyStatus, 3.8-3.15 (unchanged in Include/cpython/initconfig.h). */
struct pt_status {
	int type;
	const char *func;
	const char *err_msg;
	int exitcode;
};

/* _PyInitError, 3.7. */
struct pt_initerror {
	const char *prefix;
	const char *msg;
	int user_err;
};

static int in_main;		/* a Py_*Main function is running */
static int init_depth;		/* nesting of initialisation wrappers */
static void *found_handle;	/* libpython loaded RTLD_LOCAL, if so */

/* dl_iterate_phdr callback: the first other object defining c->name. */
struct pt_find {
	const char *name;
	void *self_base;
	void *sym;
};

static int find_in(struct dl_phdr_info *info, size_t size, void *data)
{
	struct pt_find *c = data;

	(void)size;
	if (!info->dlpi_name[0] || (void *)info->dlpi_addr == c->self_base)
		return 0;
	void *h = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
	if (!h)
		return 0;
	void *p = dlsym(h, c->name);
	if (p) {
		c->sym = p;
		found_handle = h;	/* keeps its reference: never unloaded */
		return 1;
	}
	dlclose(h);
	return 0;
}

/* The real `name`: the next definition after this library.  NULL only when
 * no loaded object defines it, in which case nobody could have called it. */
static void *real(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	Dl_info self;

	if (p)
		return p;
	struct pt_find c = { name, NULL, NULL };
	if (dladdr((void *)real, &self))
		c.self_base = self.dli_fbase;
	dl_iterate_phdr(find_in, &c);
	if (!c.sym)
		pt_log("%s: no definition found to call", name);
	return c.sym;
}

/* The outermost initialisation function returned: arm or start tracing. */
static void initialised(void)
{
	if (init_depth > 0 || !pt_init_python(found_handle))
		return;
	if (!pt_py.IsInitialized())
		return;		/* initialisation failed: nothing to trace */
	if (!in_main) {
		struct pt_program host;
		char exe[4096];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		pt_program_set(&host, program_invocation_short_name, exe);
		pt_start(PT_FROM_NOW, program_invocation_short_name, &host);
	} else if (!pt_py.AddAuditHook) {
		pt_start(PT_FROM_MAIN, NULL, NULL);
	}
}

PT_EXPORT void Py_InitializeEx(int initsigs)
{
	void (*f)(int) = (void (*)(int))real("Py_InitializeEx");

	if (!f)
		return;
	init_depth++;
	pt_start_by_wrapper();
	f(initsigs);
	init_depth--;
	initialised();
}

PT_EXPORT void Py_Initialize(void)
{
	void (*f)(void) = (void (*)(void))real("Py_Initialize");

	if (!f)
		return;
	init_depth++;
	pt_start_by_wrapper();
	f();
	init_depth--;
	initialised();
}

PT_EXPORT struct pt_status Py_InitializeFromConfig(const void *config)
{
	struct pt_status (*f)(const void *) =
		(struct pt_status (*)(const void *))real("Py_InitializeFromConfig");
	struct pt_status st = { 1, "Py_InitializeFromConfig",
				"pytrace: real function not found", 1 };

	if (!f)
		return st;
	init_depth++;
	pt_start_by_wrapper();
	st = f(config);
	init_depth--;
	if (st.type == 0)
		initialised();
	return st;
}

PT_EXPORT struct pt_initerror _Py_InitializeMainInterpreter(void *interp,
							    const void *config)
{
	struct pt_initerror (*f)(void *, const void *) =
		(struct pt_initerror (*)(void *, const void *))real(
			"_Py_InitializeMainInterpreter");
	struct pt_initerror err = { "_Py_InitializeMainInterpreter",
				    "pytrace: real function not found", 0 };

	if (!f)
		return err;
	init_depth++;
	pt_start_by_wrapper();
	err = f(interp, config);
	init_depth--;
	if (!err.msg)
		initialised();
	return err;
}

PT_EXPORT void *Py_NewInterpreter(void)
{
	void *(*f)(void) = (void *(*)(void))real("Py_NewInterpreter");
	void *ts;

	if (!f)
		return NULL;
	pt_interp_creating(1);
	ts = f();
	pt_interp_creating(0);
	if (ts)
		pt_interp_created(PT_GIL_SHARED);
	return ts;
}

/* PyInterpreterConfig.gil, 3.12 and 3.13: the last of seven ints.  For a
 * newer version, whose layout is not known, the interpreter is asked. */
enum { PT_CONFIG_GIL = 6, PT_OWN_GIL = 2 };

static enum pt_gil config_gil(const int *config)
{
	if (pt_py.major != 3 || pt_py.minor > 13)
		return PT_GIL_UNKNOWN;
	return config[PT_CONFIG_GIL] == PT_OWN_GIL ? PT_GIL_OWN : PT_GIL_SHARED;
}

PT_EXPORT struct pt_status Py_NewInterpreterFromConfig(void **tstate_p,
						       const int *config)
{
	struct pt_status (*f)(void **, const int *) =
		(struct pt_status (*)(void **, const int *))real(
			"Py_NewInterpreterFromConfig");
	struct pt_status st = { 1, "Py_NewInterpreterFromConfig",
				"pytrace: real function not found", 1 };

	if (!f)
		return st;
	pt_interp_creating(1);
	st = f(tstate_p, config);
	pt_interp_creating(0);
	if (st.type == 0 && tstate_p && *tstate_p)
		pt_interp_created(config_gil(config));
	return st;
}

PT_EXPORT void Py_EndInterpreter(void *tstate)
{
	void (*f)(void *) = (void (*)(void *))real("Py_EndInterpreter");

	if (!f)
		return;
	pt_interp_end_wrapper(0);
	f(tstate);
	pt_interp_end_wrapper(1);
}

/* The child of os.fork() of a process in standby listens under its own
 * pid from here at the latest (PyOS_AfterFork_Child 3.7+, PyOS_AfterFork
 * 2.7-3.6); control.c. */
static void after_fork(void)
{
	if (pt_control_wanted)
		pt_control_restart();
}

PT_EXPORT void PyOS_AfterFork_Child(void)
{
	void (*f)(void) = (void (*)(void))real("PyOS_AfterFork_Child");

	if (f)
		f();
	after_fork();
}

PT_EXPORT void PyOS_AfterFork(void)
{
	void (*f)(void) = (void (*)(void))real("PyOS_AfterFork");

	if (f)
		f();
	after_fork();
}

/* Py_Main takes char ** on 2.7 and wchar_t ** on 3.x: a pointer either way. */
PT_EXPORT int Py_Main(int argc, void *argv)
{
	int (*f)(int, void *) = (int (*)(int, void *))real("Py_Main");

	if (!f)
		return 1;
	in_main = 1;
	return f(argc, argv);
}

PT_EXPORT int Py_BytesMain(int argc, char **argv)
{
	int (*f)(int, char **) = (int (*)(int, char **))real("Py_BytesMain");

	if (!f)
		return 1;
	in_main = 1;
	return f(argc, argv);
}

PT_EXPORT int _Py_UnixMain(int argc, char **argv)
{
	int (*f)(int, char **) = (int (*)(int, char **))real("_Py_UnixMain");

	if (!f)
		return 1;
	in_main = 1;
	return f(argc, argv);
}

/* Finalisation begins: the buffer is written, so that a signal after
 * the interpreter restored its default action loses none of it. */
PT_EXPORT int Py_FinalizeEx(void)
{
	int (*f)(void) = (int (*)(void))real("Py_FinalizeEx");

	pt_out_flush_owned();
	return f ? f() : -1;
}

PT_EXPORT void Py_Finalize(void)
{
	void (*f)(void) = (void (*)(void))real("Py_Finalize");

	pt_out_flush_owned();
	if (f)
		f();
}

/* Is the interpreter finalising?  False in a process without one.
 * Every version marks itself uninitialised before it restores signal
 * actions, which is all 2.7 tells. */
static int finalizing(void)
{
	if (pt_py.IsFinalizing && pt_py.IsFinalizing())
		return 1;
	if (pt_py.Finalizing && *pt_py.Finalizing)
		return 1;
	return pt_py.IsInitialized && !pt_py.IsInitialized();
}

/* libc's own, reached without dlsym: the wrapper may run before any
 * constructor, in a vfork() child, or in a signal handler. */
extern int __sigaction(int sig, const struct sigaction *act,
		       struct sigaction *old);

PT_EXPORT int sigaction(int sig, const struct sigaction *act,
			struct sigaction *old)
{
	/* 3.6 and 3.7 start here where nothing else is reached (start.c) */
	if (__builtin_expect(__atomic_load_n(&pt_start_at_sigpipe, __ATOMIC_RELAXED), 0) &&
	    sig == SIGPIPE && act && act->sa_handler == SIG_IGN)
		pt_start_sigpipe();
	if (act && act->sa_handler == SIG_DFL && finalizing())
		pt_out_flush_owned();
	return __sigaction(sig, act, old);
}

/* The libc functions wrapped, found before anything can call them: a
 * vfork() child calling execve must not run dlsym(). */
static struct {
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execv)(const char *, char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
	void (*exit_)(int);
} libc;

__attribute__((constructor)) static void pt_interpose_init(void)
{
	libc.execve = (int (*)(const char *, char *const[], char *const[]))
		dlsym(RTLD_NEXT, "execve");
	libc.execv = (int (*)(const char *, char *const[]))dlsym(RTLD_NEXT, "execv");
	libc.fexecve = (int (*)(int, char *const[], char *const[]))
		dlsym(RTLD_NEXT, "fexecve");
	libc.exit_ = (void (*)(int))dlsym(RTLD_NEXT, "_exit");
}

PT_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	pt_out_flush_before_exit();
	if (!libc.execve) {
		errno = ENOSYS;
		return -1;
	}
	return libc.execve(path, argv, envp);
}

PT_EXPORT int execv(const char *path, char *const argv[])
{
	pt_out_flush_before_exit();
	if (!libc.execv) {
		errno = ENOSYS;
		return -1;
	}
	return libc.execv(path, argv);
}

PT_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	pt_out_flush_before_exit();
	if (!libc.fexecve) {
		errno = ENOSYS;
		return -1;
	}
	return libc.fexecve(fd, argv, envp);
}

PT_EXPORT void _exit(int status)
{
	pt_out_flush_before_exit();
	if (libc.exit_)
		libc.exit_(status);
	syscall(SYS_exit_group, status);
	for (;;)
		;
}
