/* SPDX-License-Identifier: MIT */
/*
 * format.h - the trace line format: text with {tokens}, compiled once.
 */
#ifndef PYTRACE_FORMAT_H
#define PYTRACE_FORMAT_H

#include <stddef.h>

/* The default reproduces trace.py -t with full paths. */
#define PT_FORMAT_DEFAULT "{path}({line}): {source}"

enum pt_tok {
	PT_TOK_TEXT,		/* literal text */
	PT_TOK_PATH,		/* {path}: absolute normalised file */
	PT_TOK_LINE,		/* {line}: line number */
	PT_TOK_SOURCE,		/* {source}: the source line, as in the file */
	PT_TOK_MODULE,		/* {module}: dotted module name */
	PT_TOK_FUNCTION,	/* {function}: the code object's name */
	PT_TOK_PID,		/* {pid} */
	PT_TOK_TID,		/* {tid}: the kernel's thread id */
	PT_TOK_ELAPSED,		/* {elapsed}: seconds since tracing began, %.2f */
	PT_TOK_TIME,		/* {time}: wall clock, 2026-11-26T10:25:10.123456 */
	PT_TOK_INDENT,		/* {indent}: two spaces per call depth */
};

struct pt_format_op {
	enum pt_tok tok;
	const char *text;	/* PT_TOK_TEXT: into pt_format.text */
	size_t len;
};

enum { PT_FORMAT_MAX_OPS = 64 };

/* What a format uses of a line besides path, line, module and function:
 * the writer computes only these. */
enum {
	PT_NEED_SOURCE = 1, PT_NEED_PID = 2, PT_NEED_TID = 4,
	PT_NEED_TIME = 8, PT_NEED_ELAPSED = 16,
};

struct pt_format {
	struct pt_format_op ops[PT_FORMAT_MAX_OPS];
	int nops;
	int is_default;		/* exactly PT_FORMAT_DEFAULT: the fast path */
	int needs_depth;	/* uses {indent} */
	int needs;		/* PT_NEED_* */
	size_t text_len;	/* literal bytes per line */
	char text[512];		/* the literal parts, unescaped */
};

/*
 * pt_format_compile - parse `spec` ("{path}({line}): {source}"; "{{" and
 * "}}" are literal braces).  Returns 0, or -EINVAL with what is wrong in
 * err (an unknown token, an unclosed brace, too long).
 */
int pt_format_compile(const char *spec, struct pt_format *f, char *err,
		      size_t errsize);

/* {indent} is two spaces per level of call depth, at most this many. */
enum { PT_FORMAT_MAX_DEPTH = 500 };

/* pt_format_depth - the depth {indent} shows for call depth `depth`. */
static inline long pt_format_depth(long depth)
{
	return depth < 0 ? 0 : depth > PT_FORMAT_MAX_DEPTH ? PT_FORMAT_MAX_DEPTH
							   : depth;
}

/*
 * The values of one trace line, as the tokens show them.  What the
 * format does not need (pt_format.needs) may be left unset.
 */
struct pt_line {
	const char *path;
	size_t pathlen;
	int lineno;
	const char *source;	/* the line's text, without its line ending */
	size_t sourcelen;
	const char *module;
	const char *function;
	long pid, tid, depth;
	double elapsed;		/* seconds since tracing began */
	const char *date;	/* {time} to the second: 2026-11-26T10:25:10 */
	long usec;		/* and its microseconds */
};

/*
 * The one renderer of a trace line, for the traced process (text mode)
 * and for `pytrace replay`, which therefore print the same bytes.
 *
 * pt_format_size - bytes pt_format_render may write for `l`, at most.
 * pt_format_render - write the line, '\n' included, at p; returns its
 * end.  O(length of the line).
 */
size_t pt_format_size(const struct pt_format *f, const struct pt_line *l);
char *pt_format_render(const struct pt_format *f, const struct pt_line *l,
		       char *p);

/*
 * The line of a call into traced code (call_lines), as trace.py writes
 * it: " --- modulename: M, funcname: F\n".  pt_format_call_size, its
 * length; pt_format_call writes it at p and returns its end.
 */
size_t pt_format_call_size(const char *module, const char *function);
char *pt_format_call(char *p, const char *module, const char *function);

/*
 * The line of a scope entry (scope_lines): " === scope: MODULE:QUALNAME
 * (thread TID)\n", for the function entered, not the pattern that named
 * it.  Control characters in the names are shown as '?', so that the
 * entry is one line whatever a program set its __name__ to.
 * pt_format_scope_size, its length at most; pt_format_scope writes it at
 * p and returns its end.  O(length).
 */
size_t pt_format_scope_size(const char *module, const char *qualname);
char *pt_format_scope(char *p, const char *module, const char *qualname,
		      long tid);

#endif
