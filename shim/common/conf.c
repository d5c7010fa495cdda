/* SPDX-License-Identifier: MIT */
/*
 * conf.c - read the configuration file, written in libconfig's syntax:
 *
 *     output = "/var/log/pytrace/%n.%p.trace";
 *     ignore_dirs = ["/usr/lib/python3.11", "/usr/lib/python3/dist-packages/eventlet"];
 *
 * libconfig is loaded with dlopen() only when a file is read, so the
 * processes that never read one (every non-Python program, and Python
 * programs configured by the environment) never map it.  Only
 * config_init, config_read_file and config_destroy are called; the parsed
 * tree is walked through libconfig's public structures.
 *
 * Nothing in a file is ever silently ignored: an unknown name, a group, a
 * value of the wrong type is an error that names the file and the line.
 */
#include <dlfcn.h>
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "pytrace.h"

/*
 * libconfig, loaded by soname when a file is to be read.  Its config_t
 * differs between them, so each has its own copy of it below (from that
 * version's libconfig.h); the settings themselves (config_setting_t) are
 * the same in both, and come from the header built against.
 *   libconfig.so.9   libconfig 1.5 (Debian 12's libconfig9)
 *   libconfig.so.11  libconfig 1.7 (Debian 13's libconfig11): adds
 *                    float_precision and include_fn, drops num_filenames
 */
struct lc_config9 {
	config_setting_t *root;
	void (*destructor)(void *);
	int flags;
	unsigned short tab_width;
	short default_format;
	const char *include_dir;
	const char *error_text;
	const char *error_file;
	int error_line;
	config_error_t error_type;
	const char **filenames;
	unsigned int num_filenames;
};

struct lc_config11 {
	config_setting_t *root;
	void (*destructor)(void *);
	int options;
	unsigned short tab_width;
	unsigned short float_precision;
	unsigned short default_format;
	const char *include_dir;
	void *include_fn;
	const char *error_text;
	const char *error_file;
	int error_line;
	config_error_t error_type;
	const char **filenames;
	void *hook;
};

/* A config_t of whichever libconfig was loaded. */
union lc_config {
	struct lc_config9 v9;
	struct lc_config11 v11;
};

/* The sonames tried, in order. */
static const char *const lc_sonames[] = { "libconfig.so.9", "libconfig.so.11" };

static struct {
	void *handle;
	int v11;	/* libconfig.so.11's config_t */
	void (*init)(union lc_config *c);
	int (*read_file)(union lc_config *c, const char *path);
	void (*destroy)(union lc_config *c);
} lc;

/* Field `f` of `c`, a union lc_config, as the loaded libconfig lays it out. */
#define LC(c, f) (lc.v11 ? (c).v11.f : (c).v9.f)

/* Load libconfig; 0 or -ENOENT after one message. */
static int load_libconfig(const char *path)
{
	if (lc.handle)
		return 0;
	for (size_t i = 0; !lc.handle && i < sizeof(lc_sonames) / sizeof(lc_sonames[0]); i++) {
		lc.handle = dlopen(lc_sonames[i], RTLD_NOW | RTLD_LOCAL);
		lc.v11 = i == 1;
	}
	if (lc.handle) {
		lc.init = (void (*)(union lc_config *))dlsym(lc.handle, "config_init");
		lc.read_file = (int (*)(union lc_config *, const char *))dlsym(
			lc.handle, "config_read_file");
		lc.destroy = (void (*)(union lc_config *))dlsym(lc.handle,
								 "config_destroy");
	}
	if (!lc.handle || !lc.init || !lc.read_file || !lc.destroy) {
		pt_log("%s: cannot load %s or %s to read it (install libconfig9 "
		       "or libconfig11)%s", path, lc_sonames[0], lc_sonames[1],
		       pt_log_consequence);
		lc.handle = NULL;
		return -ENOENT;
	}
	return 0;
}

static const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST: return "a list";
	default: return "a value";
	}
}

static const char *wanted_name(enum pt_type t)
{
	switch (t) {
	case PT_T_BOOL: return "a boolean (true or false)";
	case PT_T_STRING: return "a string";
	case PT_T_INT: return "an integer";
	case PT_T_SIZE: return "a size (an integer, or a string such as \"100M\")";
	default: return "a list of strings, [\"a\", \"b\"]";
	}
}

/* Apply one top-level setting; 0 or -EINVAL after one message. */
static int apply(struct pt_settings *s, const config_setting_t *cs,
		 const char *path)
{
	char origin[4096 + 16], err[512];
	const char *hint = NULL;
	struct pt_value v = { NULL, NULL, 0, 0, 0 };
	const char **items = NULL;
	int id, rc = -EINVAL;

	snprintf(origin, sizeof(origin), "%s:%u", path, cs->line);
	id = pt_setting_find(cs->name, &hint);
	if (id < 0) {
		if (hint)
			pt_log("%s: unknown setting '%s' (did you mean '%s'?)%s",
			       origin, cs->name, hint, pt_log_consequence);
		else
			pt_log("%s: unknown setting '%s'%s", origin,
			       cs->name, pt_log_consequence);
		return -EINVAL;
	}
	enum pt_type t = pt_setting_type(id);
	if (t == PT_T_BOOL && cs->type == CONFIG_TYPE_BOOL) {
		v.b = cs->value.ival != 0;
	} else if (t == PT_T_STRING && cs->type == CONFIG_TYPE_STRING) {
		v.str = cs->value.sval;
	} else if ((t == PT_T_INT || t == PT_T_SIZE) &&
		   (cs->type == CONFIG_TYPE_INT || cs->type == CONFIG_TYPE_INT64)) {
		v.i = cs->type == CONFIG_TYPE_INT ? cs->value.ival : cs->value.llval;
		if (v.i < 0) {
			pt_log("%s: '%s' is negative%s", origin, cs->name,
			       pt_log_consequence);
			return -EINVAL;
		}
	} else if (t == PT_T_SIZE && cs->type == CONFIG_TYPE_STRING) {
		if (pt_parse_int(cs->value.sval, 1, &v.i) < 0) {
			pt_log("%s: '%s': '%s' is not a size (bytes, or with K, "
			       "M or G)%s", origin, cs->name, cs->value.sval,
			       pt_log_consequence);
			return -EINVAL;
		}
	} else if ((t == PT_T_DIRS || t == PT_T_LIST) &&
		   (cs->type == CONFIG_TYPE_ARRAY || cs->type == CONFIG_TYPE_LIST)) {
		const config_list_t *l = cs->value.list;
		size_t n = l ? l->length : 0;
		items = calloc(n + 1, sizeof(char *));
		if (!items)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			const config_setting_t *e = l->elements[i];
			if (e->type != CONFIG_TYPE_STRING) {
				pt_log("%s: '%s' item %zu is %s, expected a "
				       "string%s", origin, cs->name,
				       i + 1, type_name(e->type), pt_log_consequence);
				goto out;
			}
			items[i] = e->value.sval;
		}
		v.items = items;
		v.n = n;
	} else {
		pt_log("%s: '%s' is %s, expected %s%s", origin,
		       cs->name, type_name(cs->type), wanted_name(t), pt_log_consequence);
		return -EINVAL;
	}
	rc = pt_setting_apply(s, id, &v, origin, err, sizeof(err));
	if (rc < 0)
		pt_log("%s: %s: %s%s", origin, cs->name, err, pt_log_consequence);
out:
	free(items);
	return rc < 0 ? -EINVAL : 0;
}

/*
 * unsafe - as sshd's StrictModes: in a process running as root, a file (or
 * its directory) that another user can write could make it write traces
 * anywhere.  Returns why the file is refused, or NULL.
 */
static const char *unsafe(const char *path, char *why, size_t size)
{
	char dir[4096];
	struct stat st;
	const char *what[2] = { path, dir };

	if (geteuid() != 0)
		return NULL;
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	for (int i = 0; i < 2; i++) {
		if (stat(what[i], &st) < 0)
			continue;
		if (st.st_uid != 0)
			snprintf(why, size, "%s is owned by uid %u, not root",
				 what[i], (unsigned)st.st_uid);
		else if ((st.st_mode & S_IWOTH) && !(i == 1 && (st.st_mode & S_ISVTX)))
			snprintf(why, size, "%s is writable by every user", what[i]);
		else if ((st.st_mode & S_IWGRP) && st.st_gid != 0)
			snprintf(why, size, "%s is writable by group %u", what[i],
				 (unsigned)st.st_gid);
		else
			continue;
		return why;
	}
	return NULL;
}

int pt_conf_load(struct pt_settings *s, const char *path)
{
	union lc_config cfg;
	char why[4200];
	int rc = 0;

	if (access(path, R_OK) < 0) {
		pt_log("%s: cannot read the configuration: %s%s",
		       path, strerror(errno), pt_log_consequence);
		return -EINVAL;
	}
	if (unsafe(path, why, sizeof(why))) {
		pt_log("%s: refused: %s, and this process runs as root%s", path,
		       why, pt_log_consequence);
		return -EINVAL;
	}
	if (load_libconfig(path) < 0)
		return -EINVAL;
	lc.init(&cfg);
	if (!lc.read_file(&cfg, path)) {
		if (LC(cfg, error_type) == CONFIG_ERR_FILE_IO)
			pt_log("%s: cannot read the configuration%s",
			       path, pt_log_consequence);
		else
			pt_log("%s:%d: %s%s",
			       LC(cfg, error_file) ? LC(cfg, error_file) : path,
			       LC(cfg, error_line), LC(cfg, error_text),
			       pt_log_consequence);
		lc.destroy(&cfg);
		return -EINVAL;
	}
	const config_setting_t *root = LC(cfg, root);
	const config_list_t *top = root ? root->value.list : NULL;
	for (unsigned i = 0; top && i < top->length; i++)
		if (apply(s, top->elements[i], path) < 0)
			rc = -EINVAL;
	lc.destroy(&cfg);
	return rc;
}

int pt_conf_resolve(struct pt_settings *s, const char *file, const char **used)
{
	return pt_conf_resolve_with(s, file, used, NULL, 0);
}

int pt_conf_resolve_with(struct pt_settings *s, const char *file,
			 const char **used, char *const *vars, int nvars)
{
	static const char def_path[] = PYTRACE_SYSCONFDIR "/pytrace.conf";
	struct stat st;
	int rc = 0;

	/* 1. defaults */
	pt_settings_init(s);
	/* 2. the file: given, or $PYTRACE_CONF (must exist), or the default
	 *    one when it exists */
	*used = NULL;
	if (!file)
		file = getenv("PYTRACE_CONF");
	if (file && file[0] == '\0')
		file = NULL;
	if (!file && stat(def_path, &st) == 0)
		file = def_path;
	if (file) {
		*used = file;
		if (pt_conf_load(s, file) < 0)
			rc = -EINVAL;
	}
	/* 3. the environment wins, 4. and what `pytrace on` gives over it */
	if (pt_settings_from_env(s) < 0)
		rc = -EINVAL;
	for (int i = 0; i < nvars; i++) {
		char var[64];
		const char *eq = strchr(vars[i], '=');
		int id = eq ? pt_setting_env_id(vars[i], (size_t)(eq - vars[i])) : -1;
		if (id < 0) {
			pt_log("%.60s: not a pytrace setting%s", vars[i],
			       pt_log_consequence);
			rc = -EINVAL;
			continue;
		}
		snprintf(var, sizeof(var), "%.*s", (int)(eq - vars[i]), vars[i]);
		if (pt_setting_env_apply(s, id, var, eq + 1) < 0)
			rc = -EINVAL;
	}
	/* 5. settings that only make sense together */
	if (rc == 0 && s->output_mode == PT_MODE_RECORD && !s->output) {
		size_t at = offsetof(struct pt_settings, output_mode);
		pt_log("%s: output_mode \"record\" writes binary records: set "
		       "output to a file, not stderr%s",
		       pt_settings_origin(s, at), pt_log_consequence);
		rc = -EINVAL;
	}
	if (rc == 0 && s->timeline && s->output_mode != PT_MODE_RECORD) {
		size_t at = offsetof(struct pt_settings, timeline);
		pt_log("%s: timeline writes the calls as records, for `pytrace "
		       "export`: set output_mode to \"record\"%s",
		       pt_settings_origin(s, at), pt_log_consequence);
		rc = -EINVAL;
	}
	if (rc == 0 && s->timeline && s->scope.n) {
		size_t at = offsetof(struct pt_settings, timeline);
		pt_log("%s: timeline records every call of traced code, not "
		       "only those in a scope: unset scope, or timeline%s",
		       pt_settings_origin(s, at), pt_log_consequence);
		rc = -EINVAL;
	}
	return rc;
}
