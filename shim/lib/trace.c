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
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "codemap.h"
#include "format.h"
#include "output.h"
#include "path.h"
#include "program.h"
#include "pytrace.h"
#include "record.h"
#include "scopes.h"
#include "state.h"
#include "subinterp.h"
#include "trace.h"

static struct {
	struct pt_trace_setup set;	/* what start-up gave */
	const struct pt_format *fmt;
	struct timespec start;	/* for {elapsed} */
	int record;		/* output_mode = "record": record.c writes */
	int to_file;		/* the output is a file, not standard error */
} tr;

/* The output failed, or the line limit is reached: nothing more is
 * written, and start-up takes the back end down at a safe point.  Inside
 * an event: cheap, once. */
static __attribute__((noinline)) void fail(void)
{
	if (pt_state.stopped)
		return;
	pt_state.stopped = 1;
	if (tr.set.stopped)
		tr.set.stopped();
}

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
	if (pt_path_normalize(raw, tr.set.cwd, norm, sizeof(norm)) < 0)
		return pt_file_get(raw);
	return pt_file_get(norm);
}

/* What `name` (co_name) of module `modname` is to scope_threads. */
static int role_of(const char *modname, const char *name)
{
	if (!tr.set.s->scope_threads || !pt_scopes_any() || !modname ||
	    strcmp(modname, "threading") != 0)
		return PT_ROLE_NONE;
	if (strcmp(name, "start") == 0)
		return PT_ROLE_START;
	/* the first frames of the new thread: the first seen is the one
	 * (2.7: Thread.__bootstrap; where the trace function comes from
	 * threading's hook, _bootstrap_inner, which calls it) */
	if (strcmp(name, "_bootstrap") == 0 || strcmp(name, "__bootstrap") == 0 ||
	    strcmp(name, "_bootstrap_inner") == 0 ||
	    strcmp(name, "__bootstrap_inner") == 0)
		return PT_ROLE_BOOT;
	return PT_ROLE_NONE;
}

/*
 * learn - decide, as trace.py does from the module's globals, whether the
 * code is traced, and what it is to the scopes.  Frames whose globals
 * have no __file__ (or __file__ None) are not traced, but for
 * __main__'s (see below).  NULL: ignored, and nothing to a scope.
 */
static struct pt_code *learn(PyObject *globals, PyObject *code)
{
	char name[512], file[PATH_MAX], norm[PATH_MAX], fn[256];
	const char *modname = NULL, *modfile = NULL;

	if (!globals)
		return NULL;
	PyObject *fo = pt_py.DictGetItemString(globals, "__file__");
	PyObject *no = pt_py.DictGetItemString(globals, "__name__");
	if (pt_py_cstr(no, name, sizeof(name)) >= 0)
		modname = name;
	if (modname && tr.set.module)
		tr.set.module(name, globals);
	/* The interpreter removes __main__.__file__ once the script has run:
	 * its code first run after that (atexit handlers, threads, __del__)
	 * is known by its own file name, when that is a file. */
	int main_after = (!fo || fo == pt_py.None) && modname &&
			 strcmp(modname, "__main__") == 0;
	if ((!fo || fo == pt_py.None) && !main_after)
		return NULL;
	if (!main_after && pt_py_cstr(fo, file, sizeof(file)) >= 0 &&
	    pt_path_normalize(file, tr.set.cwd, norm, sizeof(norm)) >= 0)
		modfile = norm;
	struct pt_file *f = file_of(code, modfile);
	if (!f || (main_after && f->path[0] != '/'))
		return NULL;
	int traced = !pt_rules_ignored(tr.set.rules, modfile ? modfile : f->path,
				       modname) &&
		     pt_rules_included(tr.set.rules, f->path);

	PyObject *cn = pt_py.GetAttrString(code, "co_name");
	if (pt_py_cstr(cn, fn, sizeof(fn)) < 0)
		snprintf(fn, sizeof(fn), "?");
	if (cn)
		pt_py.DecRef(cn);
	char *qualname = pt_scopes_any() ?
		pt_scopes_match(code, globals, modname, f->path, fn) : NULL;
	int role = role_of(modname, fn);
	if (!traced && !qualname && !role)
		return NULL;
	struct pt_code *c = calloc(1, sizeof(*c));
	if (!c) {
		free(qualname);
		return NULL;
	}
	c->file = f;
	c->module = strdup(modname ? modname : "");
	c->function = strdup(fn);
	c->traced = (unsigned char)traced;
	c->scope = qualname != NULL;
	c->qualname = qualname;
	c->role = (unsigned char)role;
	if (!c->module || !c->function) {
		free(c->module);
		free(c->function);
		free(c->qualname);
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
	 * (code objects held released, source files read again when needed).
	 * Code objects the map could mark are forgotten when freed and do not
	 * count. */
	if (pt_codemap_held() >= PT_CODEMAP_MAX ||
	    pt_source_bytes() >= PT_SOURCE_MAX_BYTES) {
		pt_codemap_clear();
		pt_source_clear();
	}
	/* Leave the thread's exception state as it was found. */
	pt_py.ErrFetch(&et, &ev, &etb);
	c = learn(globals, code);
	pt_py.ErrClear();
	pt_codemap_add(code, c, owner);
	pt_py.ErrRestore(et, ev, etb);
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

/*
 * notice - the sink of log.c's notices: the line "# pytrace[PID]: message"
 * in the trace (a NOTE record in record mode, replayed as that line).  A
 * traced line starts with a path, "<" or the format's own text, never
 * with "# pytrace[" in the default format.
 */
static void notice(long pid, const char *msg, size_t len)
{
	if (pt_state.stopped)
		return;
	if (tr.record) {
		if (pt_rec_notice(pid, msg, len) < 0)
			fail();
		return;
	}
	char *p = pt_out_begin(len + 40);
	if (!p) {
		fail();
		return;
	}
	p += sprintf(p, "# pytrace[%ld]: ", pid);
	memcpy(p, msg, len);
	p += len;
	*p++ = '\n';
	pt_out_end(p);
}

/*
 * open_output - open the output; notices go into it from now on, those
 * said before first.  Not when the trace is standard error: that is the
 * program's own output, and syslog has them.  %n when start-up did not
 * name the program: the script of the command line, else the
 * interpreter's (or host's) name.  0 or -1 (reported).
 */
static int open_output(void)
{
	const struct pt_settings *s = tr.set.s;
	char *name = tr.set.progname;
	struct pt_program p;

	if (!name[0])
		snprintf(name, PATH_MAX, "%s",
			 pt_program_from_proc(&p) == 0 && p.kind == PT_PROG_SCRIPT ?
			 p.name : program_invocation_short_name);
	pt_out_configure((unsigned long long)s->max_size, (int)s->keep,
			 (long)s->flush_interval, s->file_mode);
	if (pt_out_open(s->output, name) < 0)
		return -1;
	if (tr.to_file)
		pt_notice_sink(notice);
	return 0;
}

int pt_trace_ready(PyObject *globals)
{
	if (!pt_state.waiting)
		return 1;
	if (!is_main(globals))
		return 0;
	pt_state.waiting = 0;
	if (open_output() < 0)
		fail();
	return !pt_state.stopped;
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

/* A line in any other format, and in the default one when source.c has
 * no made line for it; `depth` for {indent}.  Rendered by format.c, as
 * pytrace replay renders it. */
static __attribute__((noinline)) void emit_format(const struct pt_code *c,
						  int lineno, long depth)
{
	const struct pt_format *fmt = tr.fmt;
	struct pt_line l = {
		.path = c->file->path, .pathlen = c->file->pathlen,
		.lineno = lineno, .source = "", .module = c->module,
		.function = c->function, .depth = depth, .date = "",
	};
	char date[32];

	if (fmt->needs & PT_NEED_SOURCE)
		pt_file_line(c->file, lineno, &l.source, &l.sourcelen);
	if (fmt->needs & PT_NEED_PID) {
		l.pid = pt_state_pid();
	}
	if (fmt->needs & PT_NEED_TID) {
		l.tid = pt_thread_tid();
	}
	if (fmt->needs & (PT_NEED_TIME | PT_NEED_ELAPSED)) {
		struct timeval wall;
		struct tm tm;
		now(&wall, &l.elapsed);
		time_t t = wall.tv_sec;
		if (localtime_r(&t, &tm) &&
		    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm))
			l.date = date;
		l.usec = (long)wall.tv_usec;
	}
	char *p = pt_out_begin(pt_format_size(fmt, &l));
	if (!p) {
		fail();
		return;
	}
	pt_out_end(pt_format_render(fmt, &l, p));
}

/* The record fields of a struct pt_code are a cache record.c fills in;
 * the rest stays as the back ends see it.  The default format copies the
 * line as made once by source.c (emit_format puts together one it has
 * not made). */
void pt_trace_emit(const struct pt_code *c, int lineno, long depth)
{
	const struct pt_fline *l;

	if (tr.record) {
		if (pt_rec_line((struct pt_code *)c, lineno, depth) < 0)
			fail();
	} else if (tr.fmt->is_default && (l = pt_file_fline(c->file, lineno))) {
		if (pt_out_write(l->text, l->len) < 0)
			fail();
	} else {
		emit_format(c, lineno, tr.fmt->is_default ? 0 : depth);
	}
	if (__builtin_expect(++pt_state.lines == pt_state.lines_stop, 0))
		fail();
}

void pt_trace_limit(void)
{
	fail();
}

void pt_trace_call(const struct pt_code *c)
{
	if (tr.record) {
		if (pt_rec_call((struct pt_code *)c) < 0)
			fail();
		return;
	}
	char *p = pt_out_begin(pt_format_call_size(c->module, c->function));

	if (!p) {
		fail();
		return;
	}
	pt_out_end(pt_format_call(p, c->module, c->function));
}

void pt_trace_enter(const struct pt_code *c)
{
	if (!pt_state.stopped && pt_rec_enter((struct pt_code *)c) < 0)
		fail();
}

void pt_trace_leave(void)
{
	if (!pt_state.stopped && pt_rec_leave() < 0)
		fail();
}

void pt_trace_scope(const char *module, const char *qualname)
{
	long tid = pt_thread_tid();

	if (tr.record) {
		if (pt_rec_scope(module, qualname, tid) < 0)
			fail();
		return;
	}
	char *p = pt_out_begin(pt_format_scope_size(module, qualname));

	if (!p) {
		fail();
		return;
	}
	pt_out_end(pt_format_scope(p, module, qualname, tid));
}

int pt_trace_start(const struct pt_trace_setup *set)
{
	const struct pt_settings *s = set->s;

	tr.set = *set;
	tr.fmt = s->fmt;
	clock_gettime(CLOCK_MONOTONIC, &tr.start);
	tr.record = s->output_mode == PT_MODE_RECORD;
	tr.to_file = s->output != NULL;
	if (tr.record && pt_rec_start(s, &tr.start) < 0)
		return -1;
	if (pt_scopes_start(s) < 0)
		return -1;
	/* decisions taken under other rules (switched on again) go */
	if (!pt_codemap_start(pt_interp_release))
		pt_codemap_clear();
	pt_state.lines = 0;
	pt_state.lines_stop = set->max_lines ? set->max_lines : ~0ULL;
	pt_state.call_lines = s->call_lines;
	pt_state.needs_depth = s->fmt->needs_depth;
	pt_state.timeline = tr.record && s->timeline;
	pt_state.plain = !tr.record && s->fmt->is_default;
	pt_state.record = tr.record;
	pt_state.waiting = set->from == PT_FROM_MAIN;
	if (!pt_state.waiting && open_output() < 0)
		return -1;
	return 0;
}

void pt_trace_stop(void)
{
	pt_scopes_stop();	/* its notices go into the trace */
	pt_state.stopped = 1;
	pt_notice_sink(NULL);
	pt_out_close();
}
