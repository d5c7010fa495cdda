/* SPDX-License-Identifier: MIT */
/*
 * settings.c - the table of settings, and the one piece of code that
 * parses, stores, formats and frees their values, whether they come from
 * the defaults, the configuration file or the environment.
 *
 * A setting is one row of pt_table: its name, type, default (as a user
 * would write it in the environment) and the field of struct pt_settings
 * that holds its value; a row names a function of its own only for what
 * its type cannot say (a bound, a compiled form, a special word).
 * Defaults go through the same code as every other value, so a default is
 * always a value the setting accepts.  Every value records where it came
 * from, for `pytrace-check`.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pattern.h"
#include "pytrace.h"
#include "scope.h"
#include "settings.h"

/* The C types a value can have in struct pt_settings. */
enum pt_ctype { PT_C_INT, PT_C_LLONG, PT_C_STR, PT_C_LIST };

/* Rejects a value before it is stored: 0, or -EINVAL with why in err. */
typedef int (*pt_check)(const struct pt_value *v, char *err, size_t errsize);

/* Stores a value as the type alone cannot: 0, -EINVAL (why in err) or
 * -ENOMEM. */
typedef int (*pt_setter)(struct pt_settings *s, const struct pt_value *v,
			 char *err, size_t errsize);

/* Writes, in the file's syntax, a value a pt_setter stored. */
typedef void (*pt_shower)(const struct pt_settings *s, char *buf,
			  size_t size);

/*
 * One setting.  Without `set`, its type decides how its value is stored:
 * PT_T_BOOL in an int, PT_T_INT and PT_T_SIZE in a long long, PT_T_STRING
 * in an owned char * (NULL shows as the default), or with `words` in an
 * int (the index of the word), PT_T_DIRS and PT_T_LIST in a struct
 * pt_strlist.  The C type of the field is in the row too (PT_FIELD), so a
 * row whose field does not fit its type is refused rather than written
 * past, and freeing goes by what the field really holds.
 */
struct pt_setting {
	const char *name;
	enum pt_type type;
	const char *def;	/* default, in the environment's syntax */
	size_t at;		/* offset of the value in struct pt_settings */
	enum pt_ctype ctype;	/* the C type of the value */
	const char *alias;	/* environment variable read when
				 * PYTRACE_<NAME> is unset, or NULL */
	const char *const *words; /* the only values of a PT_T_STRING */
	const char *what;	/* with words: "a start" in "'x' is not a
				 * start" */
	pt_check check;		/* run before storing, or NULL */
	pt_setter set;		/* stores instead of the type, or NULL */
	pt_shower show;		/* formats what `set` stored, or NULL */
};

/*
 * PT_FIELD(f) - the `at` and `ctype` of a row whose value is field f of
 * struct pt_settings; a field of any other C type does not build.
 */
#define PT_FIELD(f)							\
	.at = offsetof(struct pt_settings, f),				\
	.ctype = _Generic(((struct pt_settings *)0)->f,			\
			  int: PT_C_INT, long long: PT_C_LLONG,		\
			  char *: PT_C_STR, struct pt_strlist: PT_C_LIST)

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

/* Replace *p with a copy of str. */
static int string_set(char **p, const char *str)
{
	char *c = strdup(str);

	if (!c)
		return -ENOMEM;
	free(*p);
	*p = c;
	return 0;
}

static int set_output(struct pt_settings *s, const struct pt_value *v,
		      char *err, size_t errsize)
{
	char probe[4096];
	const char *bad = NULL;

	if (v->str[0] == '\0' || strcmp(v->str, "stderr") == 0) {
		free(s->output);
		s->output = NULL;
		return 0;
	}
	struct pt_out_vars vars = { "n", 1, "h", 0 };
	if (pt_out_expand(v->str, &vars, probe, sizeof(probe), &bad) ==
	    -EINVAL) {
		snprintf(err, errsize, "unknown '%.2s' in '%.200s' (use %%p, "
			 "%%n, %%h, %%t, %%%%)", bad, v->str);
		return -EINVAL;
	}
	return string_set(&s->output, v->str);
}

static int check_module_names(const struct pt_value *v, char *err,
			      size_t errsize)
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
	return 0;
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

static int check_max_size(const struct pt_value *v, char *err, size_t errsize)
{
	if (v->i > 0 && v->i < 4096) {
		snprintf(err, errsize, "%lld bytes is too small (use 0 for no "
			 "rotation, or at least 4K)", v->i);
		return -EINVAL;
	}
	return 0;
}

static int check_keep(const struct pt_value *v, char *err, size_t errsize)
{
	if (v->i > 1000) {
		snprintf(err, errsize, "%lld files is too many (at most 1000)",
			 v->i);
		return -EINVAL;
	}
	return 0;
}

static int check_flush_interval(const struct pt_value *v, char *err,
				size_t errsize)
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

/* scope: a list whose every item parses (scope.h). */
static int set_scope(struct pt_settings *s, const struct pt_value *v,
		     char *err, size_t errsize)
{
	struct pt_strlist l = { NULL, 0 };
	int rc = strlist_set(&l, v);

	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = pt_scope_parse(l.v[i], NULL, err, errsize);
	if (rc < 0) {
		strlist_free(&l);
		return rc;
	}
	strlist_free(&s->scope);
	s->scope = l;
	return 0;
}

static void show_file_mode(const struct pt_settings *s, char *buf,
			   size_t size)
{
	snprintf(buf, size, "\"%04o\"", (unsigned)s->file_mode);
}

/*
 * The settings, in the order pytrace-check shows them.  A new one is its
 * field in struct pt_settings and a row here, for example
 *     { .name = "keep", .type = PT_T_INT, .def = "3", PT_FIELD(keep) },
 * and tests/unit/unit.c's list of what pytrace-check shows by default.
 */
static const struct pt_setting pt_table[] = {
	{ .name = "enabled", .type = PT_T_BOOL, .def = "true",
	  PT_FIELD(enabled), .alias = "PYTRACE_ENABLE" },
	{ .name = "output", .type = PT_T_STRING, .def = "stderr",
	  PT_FIELD(output), .set = set_output },
	{ .name = "ignore_dirs", .type = PT_T_DIRS, .def = "",
	  PT_FIELD(ignore_dirs) },
	{ .name = "ignore_modules", .type = PT_T_LIST, .def = "",
	  PT_FIELD(ignore_modules), .check = check_module_names },
	{ .name = "include", .type = PT_T_LIST, .def = "",
	  PT_FIELD(include), .set = set_include },
	{ .name = "programs", .type = PT_T_LIST, .def = "",
	  PT_FIELD(programs) },
	{ .name = "max_size", .type = PT_T_SIZE, .def = "1G",
	  PT_FIELD(max_size), .check = check_max_size },
	{ .name = "keep", .type = PT_T_INT, .def = "3",
	  PT_FIELD(keep), .check = check_keep },
	{ .name = "flush_interval", .type = PT_T_INT, .def = "1000",
	  PT_FIELD(flush_interval), .check = check_flush_interval },
	{ .name = "format", .type = PT_T_STRING, .def = PT_FORMAT_DEFAULT,
	  PT_FIELD(format), .set = set_format },
	{ .name = "call_lines", .type = PT_T_BOOL, .def = "false",
	  PT_FIELD(call_lines) },
	{ .name = "start", .type = PT_T_STRING, .def = "main",
	  PT_FIELD(start), .what = "a start",
	  .words = (const char *const[]){ [PT_START_MAIN] = "main",
		  [PT_START_INIT] = "init", [PT_START_STANDBY] = "standby",
		  NULL } },
	{ .name = "file_mode", .type = PT_T_STRING, .def = "0600",
	  PT_FIELD(file_mode), .set = set_file_mode, .show = show_file_mode },
	{ .name = "output_mode", .type = PT_T_STRING, .def = "text",
	  PT_FIELD(output_mode), .what = "an output mode",
	  .words = (const char *const[]){
		  [PT_MODE_TEXT] = "text", [PT_MODE_RECORD] = "record", NULL } },
	{ .name = "scope", .type = PT_T_LIST, .def = "",
	  PT_FIELD(scope), .set = set_scope },
	{ .name = "scope_depth", .type = PT_T_INT, .def = "0",
	  PT_FIELD(scope_depth) },
	{ .name = "scope_lines", .type = PT_T_BOOL, .def = "true",
	  PT_FIELD(scope_lines) },
	{ .name = "scope_threads", .type = PT_T_BOOL, .def = "false",
	  PT_FIELD(scope_threads) },
	{ .name = "timeline", .type = PT_T_BOOL, .def = "false",
	  PT_FIELD(timeline) },
};

#define NSETTINGS ((int)(sizeof(pt_table) / sizeof(pt_table[0])))

_Static_assert(NSETTINGS <= PT_SETTINGS_MAX,
	       "struct pt_settings has no room for the origin of every "
	       "setting: raise PT_SETTINGS_MAX");

int pt_settings_count(void)
{
	return NSETTINGS;
}

const char *pt_setting_name(int id)
{
	return pt_table[id].name;
}

enum pt_type pt_setting_type(int id)
{
	return pt_table[id].type;
}

const char *pt_settings_origin(const struct pt_settings *s, size_t at)
{
	for (int i = 0; i < NSETTINGS; i++)
		if (pt_table[i].at == at)
			return s->origin[i] ? s->origin[i] : "?";
	return "?";
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

	for (int i = 0; i < NSETTINGS; i++)
		if (strcmp(pt_table[i].name, name) == 0)
			return i;
	if (hint) {
		*hint = NULL;
		for (int i = 0; i < NSETTINGS; i++) {
			size_t d = distance(name, pt_table[i].name);
			if (d < best) {
				best = d;
				*hint = pt_table[i].name;
			}
		}
	}
	return -1;
}

/* The C type in which the type of row r stores its value. */
static enum pt_ctype ctype_of(const struct pt_setting *r)
{
	switch (r->type) {
	case PT_T_BOOL:
		return PT_C_INT;
	case PT_T_INT:
	case PT_T_SIZE:
		return PT_C_LLONG;
	case PT_T_STRING:
		return r->words ? PT_C_INT : PT_C_STR;
	default:
		return PT_C_LIST;
	}
}

/* Store the index of word `str` of row r in *p, or say which are known. */
static int word_set(int *p, const struct pt_setting *r, const char *str,
		    char *err, size_t errsize)
{
	char use[256] = "";
	size_t n = 0;

	for (int i = 0; r->words[i]; i++) {
		if (strcmp(str, r->words[i]) == 0) {
			*p = i;
			return 0;
		}
		if (n < sizeof(use))
			n += (size_t)snprintf(use + n, sizeof(use) - n,
					      "%s\"%s\"", !i ? "" :
					      r->words[i + 1] ? ", " : " or ",
					      r->words[i]);
	}
	snprintf(err, errsize, "'%.200s' is not %s (use %s)", str, r->what,
		 use);
	return -EINVAL;
}

/*
 * store - the setter of every row without one of its own: v becomes the
 * value at r->at, as r's type says.  0, -EINVAL (why in err) or -ENOMEM.
 */
static int store(struct pt_settings *s, const struct pt_setting *r,
		 const struct pt_value *v, char *err, size_t errsize)
{
	void *p = (char *)s + r->at;

	if (r->ctype != ctype_of(r)) {
		snprintf(err, errsize, "the field of setting '%s' does not "
			 "hold its type", r->name);
		return -EINVAL;
	}
	switch (r->type) {
	case PT_T_BOOL:
		*(int *)p = v->b;
		return 0;
	case PT_T_INT:
	case PT_T_SIZE:
		*(long long *)p = v->i;
		return 0;
	case PT_T_STRING:
		if (r->words)
			return word_set(p, r, v->str, err, errsize);
		return string_set(p, v->str);
	default:
		return strlist_set(p, v);
	}
}

int pt_setting_apply(struct pt_settings *s, int id, const struct pt_value *v,
		     const char *origin, char *err, size_t errsize)
{
	const struct pt_setting *r = &pt_table[id];
	int rc = r->check ? r->check(v, err, errsize) : 0;

	if (rc == 0)
		rc = r->set ? r->set(s, v, err, errsize) :
			      store(s, r, v, err, errsize);
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
	for (int i = 0; i < NSETTINGS; i++)
		apply_text(s, i, pt_table[i].def, "default", err, sizeof(err));
}

void pt_settings_free(struct pt_settings *s)
{
	/* what set_include and set_format keep beside their values */
	regexes_free(s->include_re, s->include.n);
	free(s->fmt);
	for (int i = 0; i < NSETTINGS; i++) {
		void *p = (char *)s + pt_table[i].at;

		if (pt_table[i].ctype == PT_C_STR)
			free(*(char **)p);
		else if (pt_table[i].ctype == PT_C_LIST)
			strlist_free(p);
		free(s->origin[i]);
	}
	memset(s, 0, sizeof(*s));
}

int pt_setting_env_apply(struct pt_settings *s, int id, const char *var,
			 const char *text)
{
	char err[512];

	if (apply_text(s, id, text, var, err, sizeof(err)) < 0) {
		pt_log("%s: %s%s", var, err, pt_log_consequence);
		return -EINVAL;
	}
	return 0;
}

int pt_settings_from_env(struct pt_settings *s)
{
	int rc = 0;

	for (int i = 0; i < NSETTINGS; i++) {
		char var[64];
		const char *alias = pt_table[i].alias;

		pt_setting_env_name(i, var, sizeof(var));
		const char *v = getenv(var);
		if (!v && alias && (v = getenv(alias)))
			snprintf(var, sizeof(var), "%s", alias);
		if (v && pt_setting_env_apply(s, i, var, v) < 0)
			rc = -EINVAL;
	}
	return rc;
}

int pt_setting_env_id(const char *var, size_t len)
{
	char name[64];

	for (int i = 0; i < NSETTINGS; i++) {
		const char *alias = pt_table[i].alias;
		pt_setting_env_name(i, name, sizeof(name));
		if ((strlen(name) == len && strncmp(var, name, len) == 0) ||
		    (alias && strlen(alias) == len && strncmp(var, alias, len) == 0))
			return i;
	}
	return -1;
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
	const struct pt_setting *r = &pt_table[id];
	const char *p = (const char *)s + r->at;
	const struct pt_strlist *l = (const struct pt_strlist *)p;
	size_t n;

	buf[0] = '\0';
	if (r->show) {
		r->show(s, buf, size);
		return;
	}
	switch (r->ctype) {
	case PT_C_INT:
		if (r->words)
			put_quoted(buf, size, 0, r->words[*(const int *)p]);
		else
			snprintf(buf, size, "%s", *(const int *)p ? "true" :
				 "false");
		return;
	case PT_C_LLONG:
		snprintf(buf, size, "%lld", *(const long long *)p);
		return;
	case PT_C_STR:
		put_quoted(buf, size, 0, *(char *const *)p ? *(char *const *)p :
			   r->def);
		return;
	case PT_C_LIST:
		break;
	}
	n = (size_t)snprintf(buf, size, "[");
	for (size_t i = 0; i < l->n && n < size; i++) {
		if (i)
			n += (size_t)snprintf(buf + n, size - n, ", ");
		n = put_quoted(buf, size, n, l->v[i]);
	}
	if (n + 2 <= size)
		snprintf(buf + n, size - n, "]");
}
