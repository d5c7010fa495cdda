/* SPDX-License-Identifier: MIT */
/*
 * trace.c - the C trace function.
 *
 * For each line event of a traced frame it writes
 *     <absolute normalised path>(<line>): <source line>\n
 * The decision "traced or ignored" and the printable path are computed once
 * per code object (learn()) and cached in codemap.c; a line event costs a
 * lookup, the line number, and a copy into the output buffer.  Nothing here
 * runs Python code: attributes are read from frames, code objects and
 * module dictionaries only on the first event of each code object.
 *
 * New threads: threading.Thread runs `threading._trace_hook` through
 * sys.settrace() in each new thread; pytrace sets that hook to a C function
 * which installs the C trace function in the thread.  The threading module
 * is never imported by pytrace (that would change the import order that
 * eventlet and gevent rely on): the hook is set when the trace function first
 * sees code of the already loaded module.
 */
#include <limits.h>
#include <string.h>

#include "codemap.h"
#include "output.h"
#include "path.h"
#include "pytrace.h"
#include "source.h"
#include "trace.h"

static struct {
	const struct pt_rules *rules;
	const char *cwd;
	PyObject *thread_hook;	/* C function given to threading */
	int threading_hooked;
	int waiting;		/* the __main__ module has not run a line yet */
	volatile int stopped;	/* output failed: do nothing */
} tr;

static int pt_trace(PyObject *obj, PyFrameObject *frame, int what,
		    PyObject *arg);

/* threading._trace_hook: runs once in each new thread. */
static PyObject *thread_hook(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	pt_py.SetTrace(pt_trace, NULL);
	pt_py.IncRef(pt_py.None);
	return pt_py.None;
}

static struct pt_methoddef thread_hook_def = {
	"pytrace_thread_hook", thread_hook, PT_METH_VARARGS,
	"Installs pytrace's C trace function in a new thread."
};

/* Set threading._trace_hook in the module dict `globals`, unless the
 * program set its own. */
static void hook_threading(PyObject *globals)
{
	PyObject *cur = pt_py.DictGetItemString(globals, "_trace_hook");

	tr.threading_hooked = 1;
	if (cur && cur != pt_py.None)
		return;
	if (pt_py.DictSetItemString(globals, "_trace_hook", tr.thread_hook) < 0)
		pt_py.ErrClear();
}

/* The module dict of `threading` if it is loaded, borrowed, else NULL. */
static PyObject *threading_dict(void)
{
	PyObject *mods = pt_py.ImportGetModuleDict();
	PyObject *mod = mods ? pt_py.DictGetItemString(mods, "threading") : NULL;
	PyObject *d = mod ? pt_py.GetAttrString(mod, "__dict__") : NULL;

	if (!d) {
		pt_py.ErrClear();
		return NULL;
	}
	pt_py.DecRef(d);	/* the module keeps it alive */
	return d;
}

/* Printable path of a code object's file: co_filename made absolute and
 * normalised; "<frozen NAME>" of module NAME is shown as its __file__. */
static struct pt_file *file_of(PyObject *code, const char *modname,
			       const char *modfile)
{
	char raw[PATH_MAX], norm[PATH_MAX];
	PyObject *o = pt_py.GetAttrString(code, "co_filename");
	Py_ssize_t n = pt_py_cstr(o, raw, sizeof(raw));

	if (o)
		pt_py.DecRef(o);
	else
		pt_py.ErrClear();
	if (n < 0)
		return NULL;
	if (raw[0] == '<') {
		size_t ml = modname ? strlen(modname) : 0;
		if (modfile && ml && strncmp(raw, "<frozen ", 8) == 0 &&
		    strncmp(raw + 8, modname, ml) == 0 &&
		    strcmp(raw + 8 + ml, ">") == 0)
			return pt_file_get(modfile);
		return pt_file_get(raw);
	}
	if (pt_path_normalize(raw, tr.cwd, norm, sizeof(norm)) < 0)
		return pt_file_get(raw);
	return pt_file_get(norm);
}

/*
 * learn - first event of a code object: decide, as trace.py does from the
 * frame's globals, whether it is traced, and cache the decision.  Frames
 * whose globals have no __file__ (or __file__ None) are not traced.
 * Returns the file record, or NULL when ignored.  Leaves the thread's
 * exception state as it found it.
 */
static struct pt_file *learn(PyFrameObject *frame, PyObject *code)
{
	PyObject *et, *ev, *etb;
	char name[512], file[PATH_MAX], norm[PATH_MAX];
	const char *modname = NULL, *modfile = NULL;
	struct pt_file *f = NULL;

	pt_py.ErrFetch(&et, &ev, &etb);
	PyObject *globals = pt_py.GetAttrString((PyObject *)frame, "f_globals");
	if (!globals)
		goto out;
	PyObject *fo = pt_py.DictGetItemString(globals, "__file__");
	PyObject *no = pt_py.DictGetItemString(globals, "__name__");
	if (pt_py_cstr(no, name, sizeof(name)) >= 0)
		modname = name;
	if (modname && !tr.threading_hooked && strcmp(modname, "threading") == 0) {
		/* Not while the module body runs: it sets _trace_hook = None
		 * first thing; its first function call comes after that. */
		PyObject *cn = pt_py.GetAttrString(code, "co_name");
		char cname[16];
		if (pt_py_cstr(cn, cname, sizeof(cname)) < 0 ||
		    strcmp(cname, "<module>") != 0)
			hook_threading(globals);
		if (cn)
			pt_py.DecRef(cn);
	}
	if (!fo || fo == pt_py.None)
		goto out;
	if (pt_py_cstr(fo, file, sizeof(file)) >= 0 &&
	    pt_path_normalize(file, tr.cwd, norm, sizeof(norm)) >= 0)
		modfile = norm;
	f = file_of(code, modname, modfile);
	if (f && pt_rules_ignored(tr.rules, modfile ? modfile : f->path, modname))
		f = NULL;
out:
	if (globals)
		pt_py.DecRef(globals);
	pt_py.ErrClear();
	pt_py.ErrRestore(et, ev, etb);
	pt_codemap_add(code, f);
	return f;
}

/* Decimal digits of v at p; returns the end. */
static char *put_int(char *p, int v)
{
	char tmp[12];
	int n = 0;
	unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;

	if (v < 0)
		*p++ = '-';
	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10));
	while (n)
		*p++ = tmp[--n];
	return p;
}

static void emit(struct pt_file *f, int lineno)
{
	const char *src;
	size_t n;

	pt_file_line(f, lineno, &src, &n);
	char *p = pt_out_begin(f->pathlen + n + 20);
	if (!p) {
		tr.stopped = 1;
		return;
	}
	memcpy(p, f->path, f->pathlen);
	p += f->pathlen;
	*p++ = '(';
	p = put_int(p, lineno);
	memcpy(p, "): ", 3);
	p += 3;
	memcpy(p, src, n);
	p += n;
	*p++ = '\n';
	pt_out_end(p);
}

/*
 * main_started - true once a frame of the __main__ module runs.  Between
 * the cpython.run_* event and that moment the interpreter still runs its own
 * code (the __main__ loader on 3.11+, runpy for -m): start-up, not the
 * program.  Costs an attribute and a dict lookup, for those few events only.
 */
static int main_started(PyFrameObject *frame)
{
	PyObject *et, *ev, *etb;
	char name[16];
	int yes = 0;

	pt_py.ErrFetch(&et, &ev, &etb);
	PyObject *globals = pt_py.GetAttrString((PyObject *)frame, "f_globals");
	if (globals) {
		PyObject *no = pt_py.DictGetItemString(globals, "__name__");
		yes = pt_py_cstr(no, name, sizeof(name)) >= 0 &&
		      strcmp(name, "__main__") == 0;
		pt_py.DecRef(globals);
	}
	pt_py.ErrClear();
	pt_py.ErrRestore(et, ev, etb);
	return yes;
}

static int pt_trace(PyObject *obj, PyFrameObject *frame, int what,
		    PyObject *arg)
{
	struct pt_file *f;
	PyObject *code;

	(void)obj;
	(void)arg;
	if (what != PT_TRACE_LINE || tr.stopped)
		return 0;
	if (tr.waiting) {
		if (!main_started(frame))
			return 0;
		tr.waiting = 0;
	}
	code = pt_py_frame_code(frame);
	if (!pt_codemap_find(code, &f))
		f = learn(frame, code);
	if (f)
		emit(f, pt_py.FrameGetLineNumber(frame));
	return 0;
}

int pt_trace_start(const struct pt_rules *rules, const char *cwd)
{
	tr.rules = rules;
	tr.cwd = cwd;
	tr.waiting = 1;
	tr.thread_hook = pt_py.CFunctionNewEx(&thread_hook_def, NULL, NULL);
	if (!tr.thread_hook) {
		pt_py.ErrClear();
		pt_log("cannot create the thread hook; not tracing");
		return -1;
	}
	PyObject *td = threading_dict();
	if (td)
		hook_threading(td);
	pt_py.SetTrace(pt_trace, NULL);
	return 0;
}
