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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "codemap.h"
#include "format.h"
#include "output.h"
#include "path.h"
#include "pytrace.h"
#include "record.h"
#include "start.h"
#include "subinterp.h"
#include "trace.h"

volatile int pt_trace_stopped;
int pt_trace_waiting;

static struct {
	const struct pt_rules *rules;
	const char *cwd;
	const struct pt_format *fmt;
	struct timespec start;	/* for {elapsed} */
	int record;		/* output_mode = "record": record.c writes */
} tr;

int pt_trace_call_lines;
int pt_trace_needs_depth;
__thread long pt_trace_depth __attribute__((tls_model("initial-exec")));

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
static struct pt_code *learn(PyObject *globals, PyObject *code)
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
	if (!f || pt_rules_ignored(tr.rules, modfile ? modfile : f->path, modname) ||
	    !pt_rules_included(tr.rules, f->path))
		return NULL;

	char fn[256];
	PyObject *cn = pt_py.GetAttrString(code, "co_name");
	if (pt_py_cstr(cn, fn, sizeof(fn)) < 0)
		snprintf(fn, sizeof(fn), "?");
	if (cn)
		pt_py.DecRef(cn);
	struct pt_code *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->file = f;
	c->module = strdup(modname ? modname : "");
	c->function = strdup(fn);
	if (!c->module || !c->function) {
		free(c->module);
		free(c->function);
		free(c);
		return NULL;
	}
	return c;
}

struct pt_code *pt_trace_decide(PyObject *globals, PyObject *code)
{
	PyObject *et, *ev, *etb;
	struct pt_code *c;

	if (pt_codemap_find(code, &c))
		return c;
	/* An interpreter not traced (yet), or ending: nothing is cached,
	 * nothing written. */
	void *owner = pt_interp_owner();
	if (!owner)
		return NULL;
	/* Bounded memory: past the limits, forget everything and learn again
	 * (code objects released, source files read again when needed). */
	if (pt_codemap_size() >= PT_CODEMAP_MAX ||
	    pt_source_bytes() >= PT_SOURCE_MAX_BYTES) {
		pt_codemap_clear();
		pt_source_clear();
	}
	/* Leave the thread's exception state as it was found. */
	pt_py.ErrFetch(&et, &ev, &etb);
	c = learn(globals, code);
	pt_py.ErrClear();
	pt_py.ErrRestore(et, ev, etb);
	pt_codemap_add(code, c, owner);
	return c;
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
	if (pt_start_output() < 0)
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

/* The default format, path(line): source, without interpretation.  (The
 * emit_* functions are not inlined: pt_trace_emit stays a dispatcher.) */
static __attribute__((noinline)) void emit_slow(struct pt_file *f, int lineno);

/* The default format: the line as made once by source.c, copied. */
static __attribute__((noinline)) void emit_default(struct pt_file *f, int lineno)
{
	const struct pt_fline *l = pt_file_fline(f, lineno);

	if (!l) {
		emit_slow(f, lineno);	/* no source for that line */
		return;
	}
	char *p = pt_out_begin(l->len);
	if (!p) {
		pt_trace_stopped = 1;
		return;
	}
	memcpy(p, l->text, l->len);
	pt_out_end(p + l->len);
}

/* The default format, put together: lines pt_file_fline cannot make. */
static __attribute__((noinline)) void emit_slow(struct pt_file *f, int lineno)
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

/* The kernel's id of this thread, cached (reset in a forked child). */
static __thread long tls_tid __attribute__((tls_model("initial-exec")));
static long cached_pid;

static void after_fork_child(void)
{
	tls_tid = 0;
	cached_pid = 0;
}

/* Seconds and microseconds on the wall clock, and since tracing began. */
static void now(struct timeval *wall, double *elapsed)
{
	struct timespec ts;

	gettimeofday(wall, NULL);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	*elapsed = (double)(ts.tv_sec - tr.start.tv_sec) +
		   (double)(ts.tv_nsec - tr.start.tv_nsec) / 1e9;
}

/* A line in any other format; `depth` for {indent}. */
static __attribute__((noinline)) void emit_format(const struct pt_code *c,
						  int lineno, long depth)
{
	const struct pt_format *fmt = tr.fmt;
	const char *src = "";
	size_t n = 0, need = fmt->text_len + 2;
	struct timeval wall = { 0, 0 };
	double elapsed = 0;
	int have_time = 0;

	if (depth < 0)
		depth = 0;
	if (depth > 500)
		depth = 500;
	for (int i = 0; i < fmt->nops; i++) {
		switch (fmt->ops[i].tok) {
		case PT_TOK_PATH: need += c->file->pathlen; break;
		case PT_TOK_SOURCE:
			pt_file_line(c->file, lineno, &src, &n);
			need += n;
			break;
		case PT_TOK_MODULE: need += strlen(c->module); break;
		case PT_TOK_FUNCTION: need += strlen(c->function); break;
		case PT_TOK_INDENT: need += 2 * (size_t)depth; break;
		default: need += 40; break;
		}
	}
	char *p = pt_out_begin(need);
	if (!p) {
		pt_trace_stopped = 1;
		return;
	}
	for (int i = 0; i < fmt->nops; i++) {
		const struct pt_format_op *op = &fmt->ops[i];
		switch (op->tok) {
		case PT_TOK_TEXT:
			memcpy(p, op->text, op->len);
			p += op->len;
			break;
		case PT_TOK_PATH:
			memcpy(p, c->file->path, c->file->pathlen);
			p += c->file->pathlen;
			break;
		case PT_TOK_LINE:
			p = put_int(p, lineno);
			break;
		case PT_TOK_SOURCE:
			memcpy(p, src, n);
			p += n;
			break;
		case PT_TOK_MODULE:
			p = stpcpy(p, c->module);
			break;
		case PT_TOK_FUNCTION:
			p = stpcpy(p, c->function);
			break;
		case PT_TOK_PID:
			if (!cached_pid)
				cached_pid = (long)getpid();
			p += sprintf(p, "%ld", cached_pid);
			break;
		case PT_TOK_TID:
			if (!tls_tid)
				tls_tid = (long)syscall(SYS_gettid);
			p += sprintf(p, "%ld", tls_tid);
			break;
		case PT_TOK_ELAPSED:
		case PT_TOK_TIME:
			if (!have_time) {
				now(&wall, &elapsed);
				have_time = 1;
			}
			if (op->tok == PT_TOK_ELAPSED) {
				p += sprintf(p, "%.2f", elapsed);
			} else {
				struct tm tm;
				time_t t = wall.tv_sec;
				localtime_r(&t, &tm);
				p += strftime(p, 24, "%Y-%m-%dT%H:%M:%S", &tm);
				p += sprintf(p, ".%06ld", (long)wall.tv_usec);
			}
			break;
		case PT_TOK_INDENT:
			memset(p, ' ', 2 * (size_t)depth);
			p += 2 * depth;
			break;
		}
	}
	*p++ = '\n';
	pt_out_end(p);
}

/* The record fields of a struct pt_code are a cache record.c fills in;
 * the rest stays as the back ends see it. */
void pt_trace_emit(const struct pt_code *c, int lineno, long depth)
{
	if (tr.record) {
		if (pt_rec_line((struct pt_code *)c, lineno, depth) < 0)
			pt_trace_stopped = 1;
		return;
	}
	if (tr.fmt->is_default)
		emit_default(c->file, lineno);
	else
		emit_format(c, lineno, depth);
}

void pt_trace_call(const struct pt_code *c)
{
	if (tr.record) {
		if (pt_rec_call((struct pt_code *)c) < 0)
			pt_trace_stopped = 1;
		return;
	}
	size_t lm = strlen(c->module), lf = strlen(c->function);
	char *p = pt_out_begin(lm + lf + 40);

	if (!p) {
		pt_trace_stopped = 1;
		return;
	}
	p = stpcpy(p, " --- modulename: ");
	memcpy(p, c->module, lm);
	p += lm;
	p = stpcpy(p, ", funcname: ");
	memcpy(p, c->function, lf);
	p += lf;
	*p++ = '\n';
	pt_out_end(p);
}

int pt_trace_start(const struct pt_rules *rules, const struct pt_settings *s,
		   const char *cwd, enum pt_trace_from from)
{
	tr.rules = rules;
	tr.cwd = cwd;
	tr.fmt = s->fmt;
	clock_gettime(CLOCK_MONOTONIC, &tr.start);
	tr.record = s->output_mode == PT_MODE_RECORD;
	if (tr.record && pt_rec_start(s, &tr.start) < 0)
		return -1;
	pt_trace_call_lines = s->call_lines;
	pt_trace_needs_depth = s->fmt->needs_depth;
	pthread_atfork(NULL, NULL, after_fork_child);
	pt_trace_waiting = from == PT_FROM_MAIN;
	if (!pt_trace_waiting && pt_start_output() < 0)
		return -1;
	pt_interp_start();
	if (pt_monitor_start() != 0 && pt_settrace_start() != 0)
		return -1;
	pt_interp_watch();
	return 0;
}

int pt_trace_interp(void)
{
	if (pt_monitor_start() == 0)
		return 0;
	return pt_settrace_interp();
}
