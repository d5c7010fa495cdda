/* SPDX-License-Identifier: MIT */
/*
 * trace.c - what a line event becomes, whichever back end delivered it.
 *
 * For each line of a traced frame pytrace writes
 *     <absolute normalised path>(<line>): <source line>\n
 * The decision "traced or ignored" and the printable path are computed once
 * per code object (decide) and cached in codemap.c; a line event then costs
 * a lookup and a copy into the output buffer.  Nothing here runs Python
 * code: attributes are read from code objects and module dictionaries only
 * on the first event of each code object.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "codemap.h"
#include "output.h"
#include "path.h"
#include "pytrace.h"
#include "start.h"
#include "trace.h"

volatile int pt_trace_stopped;
int pt_trace_waiting;

static struct {
	const struct pt_rules *rules;
	const char *cwd;
} tr;

/*
 * frozen_file - for co_filename "<frozen a.b>", the module file `modfile`
 * when it is a/b.py or a/b/__init__.py (3.11+ freezes os, codecs,
 * importlib._bootstrap_external... and sets __file__ to their source); else
 * NULL.
 */
static const char *frozen_file(const char *raw, const char *modfile)
{
	char want[PATH_MAX];
	size_t n = strlen(raw), m;

	if (!modfile || strncmp(raw, "<frozen ", 8) != 0 || raw[n - 1] != '>' ||
	    n - 9 + 2 >= sizeof(want))
		return NULL;
	want[0] = '/';
	for (size_t i = 8; i < n - 1; i++)
		want[i - 7] = raw[i] == '.' ? '/' : raw[i];
	want[n - 8] = '\0';
	m = strlen(modfile);
	for (int pkg = 0; pkg < 2; pkg++) {
		char full[PATH_MAX];
		int k = snprintf(full, sizeof(full), "%s%s", want,
				 pkg ? "/__init__.py" : ".py");
		if (k > 0 && (size_t)k <= m && strcmp(modfile + m - (size_t)k, full) == 0)
			return modfile;
	}
	return NULL;
}

/* Printable path of a code object's file: co_filename made absolute and
 * normalised, or the source file of a frozen module. */
static struct pt_file *file_of(PyObject *code, const char *modfile)
{
	char raw[PATH_MAX], norm[PATH_MAX];
	PyObject *o = pt_py.GetAttrString(code, "co_filename");
	Py_ssize_t n = pt_py_cstr(o, raw, sizeof(raw));

	if (o)
		pt_py.DecRef(o);
	if (n <= 0)
		return NULL;
	if (raw[0] == '<') {
		const char *real = frozen_file(raw, modfile);
		return pt_file_get(real ? real : raw);
	}
	if (pt_path_normalize(raw, tr.cwd, norm, sizeof(norm)) < 0)
		return pt_file_get(raw);
	return pt_file_get(norm);
}

/*
 * learn - decide, as trace.py does from the module's globals, whether the
 * code is traced.  Frames whose globals have no __file__ (or __file__
 * None) are not traced.
 */
static struct pt_file *learn(PyObject *globals, PyObject *code)
{
	char name[512], file[PATH_MAX], norm[PATH_MAX];
	const char *modname = NULL, *modfile = NULL;

	if (!globals)
		return NULL;
	PyObject *fo = pt_py.DictGetItemString(globals, "__file__");
	PyObject *no = pt_py.DictGetItemString(globals, "__name__");
	if (pt_py_cstr(no, name, sizeof(name)) >= 0)
		modname = name;
	if (modname && strcmp(modname, "threading") == 0)
		pt_settrace_threading(globals);
	if (!fo || fo == pt_py.None)
		return NULL;
	if (pt_py_cstr(fo, file, sizeof(file)) >= 0 &&
	    pt_path_normalize(file, tr.cwd, norm, sizeof(norm)) >= 0)
		modfile = norm;
	struct pt_file *f = file_of(code, modfile);
	if (f && (pt_rules_ignored(tr.rules, modfile ? modfile : f->path, modname) ||
		  !pt_rules_included(tr.rules, f->path)))
		return NULL;
	return f;
}

struct pt_file *pt_trace_decide(PyObject *globals, PyObject *code)
{
	PyObject *et, *ev, *etb;
	struct pt_file *f;

	if (pt_codemap_find(code, &f))
		return f;
	/* Leave the thread's exception state as it was found. */
	pt_py.ErrFetch(&et, &ev, &etb);
	f = learn(globals, code);
	pt_py.ErrClear();
	pt_py.ErrRestore(et, ev, etb);
	pt_codemap_add(code, f);
	return f;
}

/*
 * is_main - true when `globals` are those of the __main__ module.  Between
 * the start hook and the first line of __main__ the interpreter still runs
 * its own code (the __main__ loader on 3.11+, runpy for -m): start-up, not
 * the program.
 */
static int is_main(PyObject *globals)
{
	char name[16];
	PyObject *no = globals ? pt_py.DictGetItemString(globals, "__name__") : NULL;

	return pt_py_cstr(no, name, sizeof(name)) >= 0 &&
	       strcmp(name, "__main__") == 0;
}

int pt_trace_ready(PyObject *globals)
{
	if (!pt_trace_waiting)
		return 1;
	if (!is_main(globals))
		return 0;
	pt_trace_waiting = 0;
	if (pt_start_output(globals) < 0)
		pt_trace_stopped = 1;
	return !pt_trace_stopped;
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

void pt_trace_emit(struct pt_file *f, int lineno)
{
	const char *src;
	size_t n;

	pt_file_line(f, lineno, &src, &n);
	char *p = pt_out_begin(f->pathlen + n + 20);
	if (!p) {
		pt_trace_stopped = 1;
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

int pt_trace_start(const struct pt_rules *rules, const char *cwd,
		   enum pt_trace_from from)
{
	tr.rules = rules;
	tr.cwd = cwd;
	pt_trace_waiting = from == PT_FROM_MAIN;
	if (!pt_trace_waiting && pt_start_output(NULL) < 0)
		return -1;
	if (pt_monitor_start() == 0)
		return 0;
	return pt_settrace_start();
}
