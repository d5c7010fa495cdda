/* SPDX-License-Identifier: MIT */
/*
 * settings.c - the table of settings, their setters, and the environment.
 *
 * Each setting has one row: name, type, default (as a user would write it
 * in the environment) and setter.  Defaults go through the setters too, so
 * a default is always a value the setter accepts.  Every value records
 * where it came from, for `pytrace-check`.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pattern.h"
#include "pytrace.h"
#include "settings.h"

typedef int (*pt_setter)(struct pt_settings *s, const struct pt_value *v,
			 char *err, size_t errsize);

/* One setting. */
struct pt_setting {
	const char *name;
	enum pt_type type;
	const char *def;	/* default, in the environment's syntax */
	pt_setter set;
	const char *alias;	/* another environment name, or NULL */
};

int pt_parse_bool(const char *v)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -EINVAL;
}

int pt_parse_int(const char *text, int sizes, long long *out)
{
	char *end;
	long long v;

	if (!*text || !(*text >= '0' && *text <= '9'))
		return -EINVAL;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || v < 0)
		return -EINVAL;
	if (sizes && *end) {
		const char *units = "KMG";
		const char *u = strchr(units, toupper((unsigned char)*end));
		if (!u || end[1] != '\0')
			return -EINVAL;
		for (int i = 0; i <= u - units; i++) {
			if (v > (1LL << 52))
				return -EINVAL;
			v *= 1024;
		}
		end++;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static void strlist_free(struct pt_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Replace *l with a copy of the non-empty items (trimmed) of v. */
static int strlist_set(struct pt_strlist *l, const struct pt_value *v)
{
	struct pt_strlist n = { calloc(v->n + 1, sizeof(char *)), 0 };

	if (!n.v)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		const char *a = v->items[i], *b = a + strlen(a);

		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b == a)
			continue;
		n.v[n.n] = strndup(a, (size_t)(b - a));
		if (!n.v[n.n]) {
			strlist_free(&n);
			return -ENOMEM;
		}
		n.n++;
	}
	strlist_free(l);
	*l = n;
	return 0;
}

static int set_enabled(struct pt_settings *s, const struct pt_value *v,
		       char *err, size_t errsize)
{
	(void)err;
	(void)errsize;
	s->enabled = v->b;
	return 0;
}

static int set_output(struct pt_settings *s, const struct pt_value *v,
		      char *err, size_t errsize)
{
	char probe[4096];
	const char *bad = NULL;
	char *o = NULL;

	if (v->str[0] != '\0' && strcmp(v->str, "stderr") != 0) {
		struct pt_out_vars vars = { "n", 1, "h", 0 };
		if (pt_out_expand(v->str, &vars, probe, sizeof(probe), &bad) ==
		    -EINVAL) {
			snprintf(err, errsize, "unknown '%.2s' in '%.200s' (use %%p, "
				 "%%n, %%h, %%t, %%%%)", bad, v->str);
			return -EINVAL;
		}
		if (!(o = strdup(v->str)))
			return -ENOMEM;
	}
	free(s->output);
	s->output = o;
	return 0;
}

static int set_ignore_dirs(struct pt_settings *s, const struct pt_value *v,
			   char *err, size_t errsize)
{
	(void)err;
	(void)errsize;
	return strlist_set(&s->ignore_dirs, v);
}

static int set_ignore_modules(struct pt_settings *s, const struct pt_value *v,
			      char *err, size_t errsize)
{
	for (size_t i = 0; i < v->n; i++) {
		const char *m = v->items[i], *end = m + strlen(m);

		while (isspace((unsigned char)*m))
			m++;
		while (end > m && isspace((unsigned char)end[-1]))
			end--;
		for (const char *c = m; c < end; c++) {
			if (!isalnum((unsigned char)*c) && *c != '_' &&
			    *c != '.' && !((unsigned char)*c & 0x80)) {
				snprintf(err, errsize,
					 "'%.*s' is not a dotted module name",
					 (int)(end - m), m);
				return -EINVAL;
			}
		}
	}
	return strlist_set(&s->ignore_modules, v);
}

static void regexes_free(regex_t *re, size_t n)
{
	for (size_t i = 0; re && i < n; i++)
		regfree(&re[i]);
	free(re);
}

static int set_include(struct pt_settings *s, const struct pt_value *v,
		       char *err, size_t errsize)
{
	struct pt_strlist l = { NULL, 0 };
	regex_t *re;
	int rc = strlist_set(&l, v);

	if (rc < 0)
		return rc;
	re = calloc(l.n + 1, sizeof(*re));
	if (!re) {
		strlist_free(&l);
		return -ENOMEM;
	}
	for (size_t i = 0; i < l.n; i++) {
		int e = regcomp(&re[i], l.v[i], REG_EXTENDED | REG_NOSUB);
		if (e) {
			char why[128];
			regerror(e, &re[i], why, sizeof(why));
			snprintf(err, errsize, "bad regular expression '%.200s': %s",
				 l.v[i], why);
			regexes_free(re, i);
			strlist_free(&l);
			return -EINVAL;
		}
	}
	regexes_free(s->include_re, s->include.n);
	strlist_free(&s->include);
	s->include = l;
	s->include_re = re;
	return 0;
}

static int set_programs(struct pt_settings *s, const struct pt_value *v,
			char *err, size_t errsize)
{
	(void)err;
	(void)errsize;
	return strlist_set(&s->programs, v);
}

static int set_max_size(struct pt_settings *s, const struct pt_value *v,
			char *err, size_t errsize)
{
	if (v->i > 0 && v->i < 4096) {
		snprintf(err, errsize, "%lld bytes is too small (use 0 for no "
			 "rotation, or at least 4K)", v->i);
		return -EINVAL;
	}
	s->max_size = v->i;
	return 0;
}

static int set_keep(struct pt_settings *s, const struct pt_value *v,
		    char *err, size_t errsize)
{
	if (v->i > 1000) {
		snprintf(err, errsize, "%lld files is too many (at most 1000)",
			 v->i);
		return -EINVAL;
	}
	s->keep = v->i;
	return 0;
}

static int set_flush_interval(struct pt_settings *s, const struct pt_value *v,
			      char *err, size_t errsize)
{
	if (v->i > 0 && v->i < 10) {
		snprintf(err, errsize, "%lld ms is too short (use 0 for no "
			 "bound, or at least 10)", v->i);
		return -EINVAL;
	}
	if (v->i > 86400000) {
		snprintf(err, errsize, "%lld ms is more than a day", v->i);
		return -EINVAL;
	}
	s->flush_interval = v->i;
	return 0;
}

static int set_format(struct pt_settings *s, const struct pt_value *v,
		      char *err, size_t errsize)
{
	struct pt_format *f = malloc(sizeof(*f));
	char *text = strdup(v->str);

	if (!f || !text || pt_format_compile(v->str, f, err, errsize) < 0) {
		int rc = f && text ? -EINVAL : -ENOMEM;
		free(f);
		free(text);
		return rc;
	}
	free(s->fmt);
	free(s->format);
	s->fmt = f;
	s->format = text;
	return 0;
}

static int set_call_lines(struct pt_settings *s, const struct pt_value *v,
			  char *err, size_t errsize)
{
	(void)err;
	(void)errsize;
	s->call_lines = v->b;
	return 0;
}

static int set_start(struct pt_settings *s, const struct pt_value *v,
		     char *err, size_t errsize)
{
	if (strcmp(v->str, "main") != 0 && strcmp(v->str, "init") != 0) {
		snprintf(err, errsize, "'%.200s' is not a start (use \"main\" or "
			 "\"init\")", v->str);
		return -EINVAL;
	}
	s->start_init = v->str[0] == 'i';
	return 0;
}

static int set_file_mode(struct pt_settings *s, const struct pt_value *v,
			 char *err, size_t errsize)
{
	char *end;
	long m = strtol(v->str, &end, 8);

	if (!*v->str || *end || m < 0 || m > 0777 || (m & 0600) != 0600 ||
	    (m & 0002)) {
		snprintf(err, errsize, "'%.200s' is not a file mode for a trace "
			 "(octal, readable and writable by its owner, not by "
			 "everyone: 0600, 0640)", v->str);
		return -EINVAL;
	}
	s->file_mode = (int)m;
	return 0;
}

static int set_output_mode(struct pt_settings *s, const struct pt_value *v,
			   char *err, size_t errsize)
{
	if (strcmp(v->str, "text") != 0 && strcmp(v->str, "record") != 0) {
		snprintf(err, errsize, "'%.200s' is not an output mode (use "
			 "\"text\" or \"record\")", v->str);
		return -EINVAL;
	}
	s->output_mode = v->str[0] == 'r' ? PT_MODE_RECORD : PT_MODE_TEXT;
	return 0;
}

static const struct pt_setting pt_table[PT_NSETTINGS] = {
	[PT_S_ENABLED] = { "enabled", PT_T_BOOL, "true", set_enabled,
			   "PYTRACE_ENABLE" },
	[PT_S_OUTPUT] = { "output", PT_T_STRING, "stderr", set_output, NULL },
	[PT_S_IGNORE_DIRS] = { "ignore_dirs", PT_T_DIRS, "", set_ignore_dirs,
			       NULL },
	[PT_S_IGNORE_MODULES] = { "ignore_modules", PT_T_LIST, "",
				  set_ignore_modules, NULL },
	[PT_S_INCLUDE] = { "include", PT_T_LIST, "", set_include, NULL },
	[PT_S_PROGRAMS] = { "programs", PT_T_LIST, "", set_programs, NULL },
	[PT_S_MAX_SIZE] = { "max_size", PT_T_SIZE, "1G", set_max_size, NULL },
	[PT_S_KEEP] = { "keep", PT_T_INT, "3", set_keep, NULL },
	[PT_S_FLUSH_INTERVAL] = { "flush_interval", PT_T_INT, "1000",
				  set_flush_interval, NULL },
	[PT_S_FORMAT] = { "format", PT_T_STRING, PT_FORMAT_DEFAULT, set_format,
			  NULL },
	[PT_S_CALL_LINES] = { "call_lines", PT_T_BOOL, "false", set_call_lines,
			      NULL },
	[PT_S_START] = { "start", PT_T_STRING, "main", set_start, NULL },
	[PT_S_FILE_MODE] = { "file_mode", PT_T_STRING, "0600", set_file_mode,
			     NULL },
	[PT_S_OUTPUT_MODE] = { "output_mode", PT_T_STRING, "text",
			       set_output_mode, NULL },
};

const char *pt_setting_name(int id)
{
	return pt_table[id].name;
}

enum pt_type pt_setting_type(int id)
{
	return pt_table[id].type;
}

void pt_setting_env_name(int id, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "PYTRACE_");

	for (const char *c = pt_table[id].name; *c && n + 1 < size; c++)
		buf[n++] = (char)toupper((unsigned char)*c);
	buf[n < size ? n : size - 1] = '\0';
}

/* Edit distance between a and b, capped: enough for "did you mean". */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

int pt_setting_find(const char *name, const char **hint)
{
	size_t best = 3;	/* at most two edits away */

	for (int i = 0; i < PT_NSETTINGS; i++)
		if (strcmp(pt_table[i].name, name) == 0)
			return i;
	if (hint) {
		*hint = NULL;
		for (int i = 0; i < PT_NSETTINGS; i++) {
			size_t d = distance(name, pt_table[i].name);
			if (d < best) {
				best = d;
				*hint = pt_table[i].name;
			}
		}
	}
	return -1;
}

int pt_setting_apply(struct pt_settings *s, int id, const struct pt_value *v,
		     const char *origin, char *err, size_t errsize)
{
	int rc = pt_table[id].set(s, v, err, errsize);

	if (rc == -ENOMEM)
		snprintf(err, errsize, "out of memory");
	if (rc == 0) {
		char *o = strdup(origin);
		if (o) {
			free(s->origin[id]);
			s->origin[id] = o;
		}
	}
	return rc;
}

/* Parse `text` (environment syntax) as setting id's type and apply it. */
static int apply_text(struct pt_settings *s, int id, const char *text,
		      const char *origin, char *err, size_t errsize)
{
	struct pt_value v = { text, NULL, 0, 0, 0 };
	enum pt_type t = pt_table[id].type;
	int rc;

	if (t == PT_T_BOOL) {
		v.b = pt_parse_bool(text);
		if (v.b < 0) {
			snprintf(err, errsize, "'%.200s' is not a boolean (use "
				 "true or false)", text);
			return -EINVAL;
		}
		return pt_setting_apply(s, id, &v, origin, err, errsize);
	}
	if (t == PT_T_STRING)
		return pt_setting_apply(s, id, &v, origin, err, errsize);
	if (t == PT_T_INT || t == PT_T_SIZE) {
		if (pt_parse_int(text, t == PT_T_SIZE, &v.i) < 0) {
			snprintf(err, errsize, "'%.200s' is not %s", text,
				 t == PT_T_SIZE ? "a size (bytes, or with K, M "
				 "or G)" : "a non-negative integer");
			return -EINVAL;
		}
		return pt_setting_apply(s, id, &v, origin, err, errsize);
	}

	/* a list: split at ':' or ',' */
	char sep = t == PT_T_DIRS ? ':' : ',';
	char *copy = strdup(text);
	size_t cap = 1;
	for (const char *p = text; *p; p++)
		cap += *p == sep;
	const char **items = calloc(cap, sizeof(char *));
	if (!copy || !items) {
		free(copy);
		free(items);
		snprintf(err, errsize, "out of memory");
		return -ENOMEM;
	}
	for (char *p = copy, *tok; (tok = strsep(&p, (char[]){ sep, 0 }));)
		items[v.n++] = tok;
	v.items = items;
	rc = pt_setting_apply(s, id, &v, origin, err, errsize);
	free(items);
	free(copy);
	return rc;
}

void pt_settings_init(struct pt_settings *s)
{
	char err[256];

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < PT_NSETTINGS; i++)
		apply_text(s, i, pt_table[i].def, "default", err, sizeof(err));
}

void pt_settings_free(struct pt_settings *s)
{
	free(s->output);
	strlist_free(&s->ignore_dirs);
	strlist_free(&s->ignore_modules);
	regexes_free(s->include_re, s->include.n);
	strlist_free(&s->include);
	strlist_free(&s->programs);
	free(s->format);
	free(s->fmt);
	for (int i = 0; i < PT_NSETTINGS; i++)
		free(s->origin[i]);
	memset(s, 0, sizeof(*s));
}

int pt_settings_from_env(struct pt_settings *s)
{
	int rc = 0;

	for (int i = 0; i < PT_NSETTINGS; i++) {
		char var[64], err[512];
		const char *alias = pt_table[i].alias;

		pt_setting_env_name(i, var, sizeof(var));
		const char *v = getenv(var);
		if (!v && alias && (v = getenv(alias)))
			snprintf(var, sizeof(var), "%s", alias);
		if (!v)
			continue;
		if (apply_text(s, i, v, var, err, sizeof(err)) < 0) {
			pt_log("%s: %s%s", var, err, pt_log_consequence);
			rc = -EINVAL;
		}
	}
	return rc;
}

/* Append `str` to buf as a quoted string of the configuration syntax. */
static size_t put_quoted(char *buf, size_t size, size_t n, const char *str)
{
	if (n + 1 < size)
		buf[n++] = '"';
	for (const char *c = str; *c && n + 3 < size; c++) {
		if (*c == '"' || *c == '\\')
			buf[n++] = '\\';
		buf[n++] = *c;
	}
	if (n + 1 < size)
		buf[n++] = '"';
	buf[n < size ? n : size - 1] = '\0';
	return n;
}

void pt_settings_format(const struct pt_settings *s, int id, char *buf,
			size_t size)
{
	const struct pt_strlist *l = NULL;
	size_t n = 0;

	buf[0] = '\0';
	switch (id) {
	case PT_S_ENABLED:
		snprintf(buf, size, "%s", s->enabled ? "true" : "false");
		return;
	case PT_S_OUTPUT:
		put_quoted(buf, size, 0, s->output ? s->output : "stderr");
		return;
	case PT_S_MAX_SIZE:
		snprintf(buf, size, "%lld", s->max_size);
		return;
	case PT_S_KEEP:
		snprintf(buf, size, "%lld", s->keep);
		return;
	case PT_S_FLUSH_INTERVAL:
		snprintf(buf, size, "%lld", s->flush_interval);
		return;
	case PT_S_FORMAT:
		put_quoted(buf, size, 0, s->format ? s->format : "");
		return;
	case PT_S_CALL_LINES:
		snprintf(buf, size, "%s", s->call_lines ? "true" : "false");
		return;
	case PT_S_START:
		snprintf(buf, size, "\"%s\"", s->start_init ? "init" : "main");
		return;
	case PT_S_FILE_MODE:
		snprintf(buf, size, "\"%04o\"", (unsigned)s->file_mode);
		return;
	case PT_S_OUTPUT_MODE:
		snprintf(buf, size, "\"%s\"", s->output_mode == PT_MODE_RECORD ?
			 "record" : "text");
		return;
	case PT_S_IGNORE_DIRS:
		l = &s->ignore_dirs;
		break;
	case PT_S_IGNORE_MODULES:
		l = &s->ignore_modules;
		break;
	case PT_S_INCLUDE:
		l = &s->include;
		break;
	case PT_S_PROGRAMS:
		l = &s->programs;
		break;
	}
	if (!l)
		return;
	n = (size_t)snprintf(buf, size, "[");
	for (size_t i = 0; i < l->n && n < size; i++) {
		if (i)
			n += (size_t)snprintf(buf + n, size - n, ", ");
		n = put_quoted(buf, size, n, l->v[i]);
	}
	if (n + 2 <= size)
		snprintf(buf + n, size - n, "]");
}
