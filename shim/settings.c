/* SPDX-License-Identifier: MIT */
/*
 * settings.c - the table of settings and their setters.
 *
 * Lookup order: the built-in defaults (pt_settings_init), then the
 * environment (pt_settings_from_env), where each setting `name` is read from
 * PYTRACE_<NAME IN CAPITALS>.  Lists use ':' between directories and ','
 * between other items, as trace.py's --ignore-dir and --ignore-module do.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pytrace.h"
#include "settings.h"

/* One setting: its name and its setter. */
struct pt_setting {
	const char *name;
	int (*set)(struct pt_settings *s, const char *value,
		   const char *origin);
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

static void strlist_free(struct pt_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Replace *l with the non-empty items of value split at sep. */
static int strlist_split(struct pt_strlist *l, const char *value, char sep)
{
	struct pt_strlist n = { NULL, 0 };
	size_t cap = 1;

	for (const char *p = value; *p; p++)
		cap += *p == sep;
	n.v = calloc(cap, sizeof(char *));
	if (!n.v)
		return -ENOMEM;
	for (const char *p = value; *p;) {
		const char *end = strchrnul(p, sep);
		const char *a = p, *b = end;

		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		if (b > a) {
			n.v[n.n] = strndup(a, (size_t)(b - a));
			if (!n.v[n.n]) {
				strlist_free(&n);
				return -ENOMEM;
			}
			n.n++;
		}
		p = *end ? end + 1 : end;
	}
	strlist_free(l);
	*l = n;
	return 0;
}

static int set_enable(struct pt_settings *s, const char *v, const char *origin)
{
	int b = pt_parse_bool(v);

	if (b < 0) {
		pt_log("%s: '%s' is not a boolean (use 1 or 0); not tracing", origin, v);
		return b;
	}
	s->enable = b;
	return 0;
}

static int set_output(struct pt_settings *s, const char *v, const char *origin)
{
	(void)origin;
	free(s->output);
	s->output = NULL;
	if (*v == '\0' || strcmp(v, "stderr") == 0)
		return 0;
	s->output = strdup(v);
	return s->output ? 0 : -ENOMEM;
}

static int set_ignore_dirs(struct pt_settings *s, const char *v,
			   const char *origin)
{
	(void)origin;
	return strlist_split(&s->ignore_dirs, v, ':');
}

static int set_ignore_modules(struct pt_settings *s, const char *v,
			      const char *origin)
{
	int err = strlist_split(&s->ignore_modules, v, ',');

	for (size_t i = 0; !err && i < s->ignore_modules.n; i++) {
		const char *m = s->ignore_modules.v[i];

		for (const char *c = m; *c; c++) {
			if (!isalnum((unsigned char)*c) && *c != '_' &&
			    *c != '.' && !((unsigned char)*c & 0x80)) {
				pt_log("%s: '%s' is not a dotted module name; not tracing",
				       origin, m);
				return -EINVAL;
			}
		}
	}
	return err;
}

static const struct pt_setting pt_table[] = {
	{ "enable", set_enable },
	{ "output", set_output },
	{ "ignore_dirs", set_ignore_dirs },
	{ "ignore_modules", set_ignore_modules },
};

void pt_settings_init(struct pt_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->enable = 1;
}

void pt_settings_free(struct pt_settings *s)
{
	free(s->output);
	strlist_free(&s->ignore_dirs);
	strlist_free(&s->ignore_modules);
	pt_settings_init(s);
}

int pt_settings_set(struct pt_settings *s, const char *name,
		    const char *value, const char *origin)
{
	for (size_t i = 0; i < sizeof(pt_table) / sizeof(pt_table[0]); i++)
		if (strcmp(pt_table[i].name, name) == 0)
			return pt_table[i].set(s, value, origin);
	pt_log("%s: unknown setting '%s'", origin, name);
	return -EINVAL;
}

int pt_settings_from_env(struct pt_settings *s)
{
	int first = 0;

	for (size_t i = 0; i < sizeof(pt_table) / sizeof(pt_table[0]); i++) {
		char var[64] = "PYTRACE_";
		size_t n = strlen(var);

		for (const char *c = pt_table[i].name; *c && n < sizeof(var) - 1;)
			var[n++] = (char)toupper((unsigned char)*c++);
		var[n] = '\0';
		const char *v = getenv(var);
		if (!v)
			continue;
		int err = pt_settings_set(s, pt_table[i].name, v, var);
		if (err && !first)
			first = err;
	}
	return first;
}
