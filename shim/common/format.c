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

/* The PT_NEED_* bit of a token, or 0. */
static int need_of(enum pt_tok t)
{
	switch (t) {
	case PT_TOK_SOURCE: return PT_NEED_SOURCE;
	case PT_TOK_PID: return PT_NEED_PID;
	case PT_TOK_TID: return PT_NEED_TID;
	case PT_TOK_TIME: return PT_NEED_TIME;
	case PT_TOK_ELAPSED: return PT_NEED_ELAPSED;
	default: return 0;
	}
}

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
			f->needs |= need_of(op->tok);
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

/* Decimal digits of v at p; returns the end. */
static char *put_long(char *p, long v)
{
	char tmp[24];
	int n = 0;
	unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;

	if (v < 0)
		*p++ = '-';
	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10));
	while (n)
		*p++ = tmp[--n];
	return p;
}

size_t pt_format_size(const struct pt_format *f, const struct pt_line *l)
{
	size_t need = f->text_len + 2;

	for (int i = 0; i < f->nops; i++) {
		switch (f->ops[i].tok) {
		case PT_TOK_TEXT: break;
		case PT_TOK_PATH: need += l->pathlen; break;
		case PT_TOK_SOURCE: need += l->sourcelen; break;
		case PT_TOK_MODULE: need += strlen(l->module); break;
		case PT_TOK_FUNCTION: need += strlen(l->function); break;
		case PT_TOK_INDENT:
			need += 2 * (size_t)pt_format_depth(l->depth);
			break;
		case PT_TOK_TIME: need += strlen(l->date) + 8; break;
		default: need += 48; break;	/* a number */
		}
	}
	return need;
}

char *pt_format_render(const struct pt_format *f, const struct pt_line *l,
		       char *p)
{
	for (int i = 0; i < f->nops; i++) {
		const struct pt_format_op *op = &f->ops[i];
		switch (op->tok) {
		case PT_TOK_TEXT:
			memcpy(p, op->text, op->len);
			p += op->len;
			break;
		case PT_TOK_PATH:
			memcpy(p, l->path, l->pathlen);
			p += l->pathlen;
			break;
		case PT_TOK_LINE:
			p = put_long(p, l->lineno);
			break;
		case PT_TOK_SOURCE:
			memcpy(p, l->source, l->sourcelen);
			p += l->sourcelen;
			break;
		case PT_TOK_MODULE:
			p = stpcpy(p, l->module);
			break;
		case PT_TOK_FUNCTION:
			p = stpcpy(p, l->function);
			break;
		case PT_TOK_PID:
			p = put_long(p, l->pid);
			break;
		case PT_TOK_TID:
			p = put_long(p, l->tid);
			break;
		case PT_TOK_ELAPSED:
			p += snprintf(p, 48, "%.2f", l->elapsed);
			break;
		case PT_TOK_TIME:
			p += sprintf(p, "%s.%06ld", l->date, l->usec);
			break;
		case PT_TOK_INDENT: {
			size_t k = 2 * (size_t)pt_format_depth(l->depth);
			memset(p, ' ', k);
			p += k;
			break;
		}
		}
	}
	*p++ = '\n';
	return p;
}

size_t pt_format_call_size(const char *module, const char *function)
{
	return strlen(module) + strlen(function) + 32;
}

char *pt_format_call(char *p, const char *module, const char *function)
{
	p = stpcpy(p, " --- modulename: ");
	p = stpcpy(p, module);
	p = stpcpy(p, ", funcname: ");
	p = stpcpy(p, function);
	*p++ = '\n';
	return p;
}

size_t pt_format_scope_size(const char *module, const char *qualname)
{
	return strlen(module) + strlen(qualname) + 48;
}

/* Copy name s to p, control characters as '?'; returns the end. */
static char *put_name(char *p, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		*p++ = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	return p;
}

char *pt_format_scope(char *p, const char *module, const char *qualname,
		      long tid)
{
	p = stpcpy(p, " === scope: ");
	p = put_name(p, module);
	*p++ = ':';
	p = put_name(p, qualname);
	return p + sprintf(p, " (thread %ld)\n", tid);
}
