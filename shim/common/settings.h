/* SPDX-License-Identifier: MIT */
/*
 * settings.h - pytrace's settings: one name, one type, one default and
 * one field each, given by one row of the table in settings.c.  The same
 * code sets them from the configuration file (conf.c) and the environment
 * (PYTRACE_<NAME IN CAPITALS>).  A setting's id is its row in the table.
 */
#ifndef PYTRACE_SETTINGS_H
#define PYTRACE_SETTINGS_H

#include <regex.h>
#include <stddef.h>

#include "format.h"

/* A list of strings, owned. */
struct pt_strlist {
	char **v;
	size_t n;
};

/*
 * Room for the origins of the settings: the table (settings.c) is refused
 * at build time when it has more rows, so that adding a setting takes its
 * field and its row, and struct pt_settings still needs no allocation.
 */
#define PT_SETTINGS_MAX 32

/* The values of the settings, each in the field named by its row. */
struct pt_settings {
	int enabled;			/* master switch */
	char *output;			/* path pattern; NULL = stderr */
	struct pt_strlist ignore_dirs;	/* as written, ~ and $VAR unexpanded */
	struct pt_strlist ignore_modules; /* dotted module names */
	struct pt_strlist include;	/* POSIX EREs, as written */
	regex_t *include_re;		/* include, compiled */
	struct pt_strlist programs;	/* glob patterns; empty: every one */
	long long max_size;		/* bytes before rotation; 0: never */
	long long keep;			/* rotated files kept */
	long long flush_interval;	/* ms a line may wait; 0: no bound */
	char *format;			/* as written */
	struct pt_format *fmt;		/* format, compiled */
	int call_lines;			/* " --- modulename: M, funcname: F" */
	int start;			/* enum pt_start */
	int file_mode;			/* mode of new trace files */
	int output_mode;		/* PT_MODE_TEXT or PT_MODE_RECORD */
	struct pt_strlist scope;	/* scopes (scope.h), as written; empty:
					 * everything is written */
	long long scope_depth;		/* calls below a scope function (its
					 * own lines: 1); 0: no limit */
	int scope_lines;		/* " === scope: M:F (thread T)" */
	int scope_threads;		/* threads started in a scope are in it */
	int timeline;			/* record mode: ENTER/LEAVE of calls */
	char *origin[PT_SETTINGS_MAX];	/* by id: "default", "FILE:LINE" or
					 * "PYTRACE_X" */
};

/* start: at the first line of the program (main), from the first import
 * (init: start-up too), or not until switched on (standby: listening for
 * `pytrace on`). */
enum pt_start { PT_START_MAIN, PT_START_INIT, PT_START_STANDBY };

/* output_mode: text lines, or binary records for `pytrace replay`. */
enum pt_output_mode { PT_MODE_TEXT, PT_MODE_RECORD };

/* The kinds of value a setting takes. */
enum pt_type {
	PT_T_BOOL,	/* true/false, 1/0, yes/no, on/off */
	PT_T_STRING,
	PT_T_INT,	/* a non-negative integer */
	PT_T_SIZE,	/* bytes: an integer, or a string "100M" (K, M, G) */
	PT_T_DIRS,	/* list; ':' between items in the environment */
	PT_T_LIST,	/* list; ',' between items in the environment */
};

/* A value on its way to a setter: `str` for scalars, `items` for lists. */
struct pt_value {
	const char *str;
	const char *const *items;
	size_t n;
	int b;
	long long i;
};

/* pt_settings_init - the documented defaults, each with origin "default". */
void pt_settings_init(struct pt_settings *s);

/* pt_settings_free - release what the setters allocated. */
void pt_settings_free(struct pt_settings *s);

/*
 * pt_setting_find - the id of setting `name`, or -1.  When it is unknown
 * and `hint` is given, *hint is the closest known name (for "did you
 * mean"), or NULL when none is close.
 */
int pt_setting_find(const char *name, const char **hint);

/* pt_settings_count - how many settings there are: ids are 0 to it - 1. */
int pt_settings_count(void);

/* pt_setting_name, pt_setting_type - of setting `id`. */
const char *pt_setting_name(int id);
enum pt_type pt_setting_type(int id);

/*
 * pt_settings_origin - where the value of the setting held at offset `at`
 * of struct pt_settings came from, or "?":
 * pt_settings_origin(s, offsetof(struct pt_settings, output_mode)).
 */
const char *pt_settings_origin(const struct pt_settings *s, size_t at);

/*
 * pt_setting_apply - give setting `id` the value `v`, recording `origin`.
 * Returns 0, or -EINVAL with what is wrong written to err (no origin, no
 * newline): the caller reports it with the origin.
 */
int pt_setting_apply(struct pt_settings *s, int id, const struct pt_value *v,
		     const char *origin, char *err, size_t errsize);

/*
 * pt_settings_from_env - apply every PYTRACE_<NAME> that is set, parsed as
 * its type: booleans as pt_parse_bool, lists split at ':' (directories) or
 * ',' (other lists).  Returns 0, or -EINVAL after one message per bad
 * variable, each naming it.
 */
int pt_settings_from_env(struct pt_settings *s);

/*
 * pt_setting_env_apply - give setting `id` the value `text` of environment
 * variable `var`, parsed as pt_settings_from_env parses each variable (so
 * that a tool can check a PYTRACE_<NAME>=value it will pass on).  Returns
 * 0, or -EINVAL after one message naming var.
 */
int pt_setting_env_apply(struct pt_settings *s, int id, const char *var,
			 const char *text);

/* pt_setting_env_id - the setting whose environment variable is the `len`
 * bytes at `var` (PYTRACE_<NAME>, or an older name), or -1. */
int pt_setting_env_id(const char *var, size_t len);

/*
 * pt_settings_format - write setting `id`'s value in the configuration
 * file's syntax into buf ("true", "\"/x\"", "[\"a\", \"b\"]").
 */
void pt_settings_format(const struct pt_settings *s, int id, char *buf,
			size_t size);

/*
 * pt_parse_bool - "1/yes/true/on" and "0/no/false/off", any case.  Returns
 * 1 or 0, or -EINVAL for anything else.
 */
int pt_parse_bool(const char *value);

/*
 * pt_parse_int - a non-negative decimal integer, with a K, M or G suffix
 * (powers of 1024) when `sizes`.  Returns 0, or -EINVAL.
 */
int pt_parse_int(const char *text, int sizes, long long *out);

/* The environment variable that overrides `id`: PYTRACE_<NAME>. */
void pt_setting_env_name(int id, char *buf, size_t size);

#endif
