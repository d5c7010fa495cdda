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

struct pt_format {
	struct pt_format_op ops[PT_FORMAT_MAX_OPS];
	int nops;
	int is_default;		/* exactly PT_FORMAT_DEFAULT: the fast path */
	int needs_depth;	/* uses {indent} */
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

#endif
