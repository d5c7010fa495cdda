/* SPDX-License-Identifier: MIT */
/*
 * format.c - compile the `format` setting into a list of operations, so
 * the trace path never parses it.  Pure C, tested by tests/unit.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "format.h"

static const struct {
	const char *name;
	enum pt_tok tok;
} pt_tokens[] = {
	{ "path", PT_TOK_PATH },	 { "line", PT_TOK_LINE },
	{ "source", PT_TOK_SOURCE },	 { "module", PT_TOK_MODULE },
	{ "function", PT_TOK_FUNCTION }, { "pid", PT_TOK_PID },
	{ "tid", PT_TOK_TID },		 { "elapsed", PT_TOK_ELAPSED },
	{ "time", PT_TOK_TIME },	 { "indent", PT_TOK_INDENT },
};

int pt_format_compile(const char *spec, struct pt_format *f, char *err,
		      size_t errsize)
{
	size_t tl = 0;

	memset(f, 0, sizeof(*f));
	f->is_default = strcmp(spec, PT_FORMAT_DEFAULT) == 0;
	for (const char *p = spec; *p;) {
		if (f->nops == PT_FORMAT_MAX_OPS) {
			snprintf(err, errsize, "'%.200s' is too long", spec);
			return -EINVAL;
		}
		struct pt_format_op *op = &f->ops[f->nops];
		if (*p == '{' && p[1] != '{') {
			const char *close = strchr(p, '}');
			size_t n = close ? (size_t)(close - p - 1) : 0;
			size_t i;
			for (i = 0; close && i < sizeof(pt_tokens) / sizeof(pt_tokens[0]); i++)
				if (strlen(pt_tokens[i].name) == n &&
				    strncmp(pt_tokens[i].name, p + 1, n) == 0)
					break;
			if (!close) {
				snprintf(err, errsize, "unclosed '{' in '%.200s'", spec);
				return -EINVAL;
			}
			if (i == sizeof(pt_tokens) / sizeof(pt_tokens[0])) {
				snprintf(err, errsize, "unknown token '{%.*s}' in '%.200s' "
					 "(use {path}, {line}, {source}, {module}, "
					 "{function}, {pid}, {tid}, {elapsed}, "
					 "{time}, {indent})", (int)n, p + 1, spec);
				return -EINVAL;
			}
			op->tok = pt_tokens[i].tok;
			f->needs_depth |= op->tok == PT_TOK_INDENT;
			f->nops++;
			p = close + 1;
			continue;
		}
		if (*p == '}' && p[1] != '}') {
			snprintf(err, errsize, "lone '}' in '%.200s' (write '}}')", spec);
			return -EINVAL;
		}
		/* literal text up to the next token; "{{" and "}}" are braces */
		op->tok = PT_TOK_TEXT;
		op->text = f->text + tl;
		while (*p && !(*p == '{' && p[1] != '{') &&
		       !(*p == '}' && p[1] != '}')) {
			if (tl + 2 >= sizeof(f->text)) {
				snprintf(err, errsize, "'%.200s' is too long", spec);
				return -EINVAL;
			}
			if ((*p == '{' || *p == '}') && p[1] == *p)
				p++;
			f->text[tl++] = *p++;
		}
		op->len = (size_t)(f->text + tl - op->text);
		f->text_len += op->len;
		f->nops++;
	}
	return 0;
}
