/* SPDX-License-Identifier: MIT */
/*
 * unit.c - tests of the parts of pytrace that need no Python: path
 * arithmetic, settings, ignore rules, the output pattern, source splitting,
 * and record mode: the wire format, and records written through output.c
 * read back (rotation, forgotten definitions, a truncated file, garbage,
 * notices, scope entries); notices (log.c): waiting for the trace, never on stderr; and
 * the per-code cache against a model, with stand-ins for the few
 * libpython calls it makes.
 * Prints one line per failed check and "unit: N passed, N failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "codemap.h"
#include "format.h"
#include "layout.h"
#include "output.h"
#include "path.h"
#include "program.h"
#include "pytrace.h"
#include "record.h"
#include "recread.h"
#include "rules.h"
#include "scope.h"
#include "settings.h"
#include "source.h"
#include "state.h"
#include "subinterp.h"

static int passed, failed;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (cond) {                                                \
			passed++;                                          \
		} else {                                                   \
			failed++;                                          \
			printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		}                                                          \
	} while (0)

static void check_norm(const char *path, const char *cwd, const char *want)
{
	char out[PATH_MAX];
	ssize_t n = pt_path_normalize(path, cwd, out, sizeof(out));

	if (n < 0 || strcmp(out, want) != 0 || (size_t)n != strlen(want)) {
		failed++;
		printf("FAIL normalize(%s, %s) = %s, want %s\n", path,
		       cwd ? cwd : "NULL", n < 0 ? "error" : out, want);
	} else {
		passed++;
	}
}

static void test_normalize(void)
{
	char small[8];

	check_norm("/a/b/c.py", "/x", "/a/b/c.py");
	check_norm("/a/b/../c.py", NULL, "/a/c.py");
	check_norm("/a/./b//c.py", NULL, "/a/b/c.py");
	check_norm("../x.py", "/srv/app/sub", "/srv/app/x.py");
	check_norm("./x.py", "/srv", "/srv/x.py");
	check_norm("x.py", "/", "/x.py");
	check_norm("/..", NULL, "/");
	check_norm("/../../a", NULL, "/a");
	check_norm("/usr/lib/", NULL, "/usr/lib");
	check_norm("a/../../..", "/srv/app", "/");
	CHECK(pt_path_normalize("x.py", NULL, small, sizeof(small)) == -EINVAL);
	CHECK(pt_path_normalize("x.py", "", small, sizeof(small)) == -EINVAL);
	CHECK(pt_path_normalize("/abcdefghij", NULL, small, sizeof(small)) ==
	      -ENAMETOOLONG);
}

static void test_expand(void)
{
	char out[PATH_MAX];

	setenv("HOME", "/home/op", 1);
	setenv("PT_UNIT_V", "/opt/v", 1);
	unsetenv("PT_UNIT_UNSET");
	CHECK(pt_path_expand("~/lib", out, sizeof(out)) > 0 &&
	      strcmp(out, "/home/op/lib") == 0);
	CHECK(pt_path_expand("~", out, sizeof(out)) > 0 &&
	      strcmp(out, "/home/op") == 0);
	CHECK(pt_path_expand("~other/lib", out, sizeof(out)) > 0 &&
	      strcmp(out, "~other/lib") == 0);
	CHECK(pt_path_expand("$PT_UNIT_V/x", out, sizeof(out)) > 0 &&
	      strcmp(out, "/opt/v/x") == 0);
	CHECK(pt_path_expand("${PT_UNIT_V}x", out, sizeof(out)) > 0 &&
	      strcmp(out, "/opt/vx") == 0);
	CHECK(pt_path_expand("/a/$PT_UNIT_UNSET/b", out, sizeof(out)) > 0 &&
	      strcmp(out, "/a/$PT_UNIT_UNSET/b") == 0);
	CHECK(pt_path_expand("/a/$/b${", out, sizeof(out)) > 0 &&
	      strcmp(out, "/a/$/b${") == 0);
	CHECK(pt_path_expand("$PT_UNIT_V", out, 4) == -ENAMETOOLONG);
}

static void test_below(void)
{
	CHECK(pt_path_below("/usr/lib/x.py", "/usr/lib", 8));
	CHECK(!pt_path_below("/usr/lib64/x.py", "/usr/lib", 8));
	CHECK(!pt_path_below("/usr/li", "/usr/lib", 8));
	CHECK(pt_path_below("/x.py", "/", 1));
}

/* Apply `text` to setting `name` as the environment would. */
static int env_set(struct pt_settings *s, const char *name, const char *text)
{
	char var[64];
	int id = pt_setting_find(name, NULL), rc;

	pt_setting_env_name(id, var, sizeof(var));
	setenv(var, text, 1);
	rc = pt_settings_from_env(s);
	unsetenv(var);
	return rc;
}

static void test_settings_and_rules(void)
{
	struct pt_settings s;
	struct pt_rules r;
	const char *hint, *o;
	char buf[256];

	unsetenv("PYTRACE_ENABLE");
	pt_settings_init(&s);
	CHECK(s.enabled == 1 && s.output == NULL);
	o = pt_settings_origin(&s, offsetof(struct pt_settings, output));
	CHECK(strcmp(o, "default") == 0);
	CHECK(env_set(&s, "enabled", "off") == 0 && s.enabled == 0);
	o = pt_settings_origin(&s, offsetof(struct pt_settings, enabled));
	CHECK(strcmp(o, "PYTRACE_ENABLED") == 0);
	CHECK(env_set(&s, "enabled", "maybe") == -EINVAL && s.enabled == 0);
	CHECK(env_set(&s, "output", "/tmp/%p") == 0 &&
	      strcmp(s.output, "/tmp/%p") == 0);
	CHECK(env_set(&s, "output", "/tmp/%q") == -EINVAL &&
	      strcmp(s.output, "/tmp/%p") == 0);
	CHECK(env_set(&s, "output", "stderr") == 0 && !s.output);
	/* words are stored as their index: the order is the meaning */
	CHECK(s.start == PT_START_MAIN && env_set(&s, "start", "init") == 0 &&
	      s.start == PT_START_INIT && env_set(&s, "start", "standby") == 0 &&
	      s.start == PT_START_STANDBY);
	CHECK(s.output_mode == PT_MODE_TEXT &&
	      env_set(&s, "output_mode", "record") == 0 &&
	      s.output_mode == PT_MODE_RECORD);
	CHECK(pt_setting_find("nosuch", &hint) == -1 && hint == NULL);
	CHECK(pt_setting_find("ignore_dir", &hint) == -1 && hint &&
	      strcmp(hint, "ignore_dirs") == 0);
	CHECK(pt_setting_find("ignoremodules", &hint) == -1 && hint &&
	      strcmp(hint, "ignore_modules") == 0);
	CHECK(env_set(&s, "ignore_dirs", "/a::/b/ : rel") == 0 &&
	      s.ignore_dirs.n == 3 && strcmp(s.ignore_dirs.v[1], "/b/") == 0);
	CHECK(env_set(&s, "ignore_modules", "os, oslo_config,,six") == 0 &&
	      s.ignore_modules.n == 3 &&
	      strcmp(s.ignore_modules.v[1], "oslo_config") == 0);
	CHECK(env_set(&s, "ignore_modules", "a/b") == -EINVAL);
	CHECK(env_set(&s, "ignore_modules", " a b ") == -EINVAL);
	env_set(&s, "ignore_modules", "os,oslo_config");
	pt_settings_format(&s, pt_setting_find("ignore_modules", NULL), buf,
			   sizeof(buf));
	CHECK(strcmp(buf, "[\"os\", \"oslo_config\"]") == 0);
	pt_settings_format(&s, pt_setting_find("enabled", NULL), buf,
			   sizeof(buf));
	CHECK(strcmp(buf, "false") == 0);

	CHECK(pt_rules_build(&r, &s, "/srv") == 0 && r.ndirs == 3 &&
	      strcmp(r.dirs[2], "/srv/rel") == 0 && strcmp(r.dirs[1], "/b") == 0);
	CHECK(pt_rules_ignored(&r, "/a/x.py", "x"));
	CHECK(pt_rules_ignored(&r, "/srv/rel/deep/x.py", "x"));
	CHECK(!pt_rules_ignored(&r, "/ab/x.py", "x"));
	CHECK(pt_rules_ignored(&r, "/z/os.py", "os"));
	CHECK(pt_rules_ignored(&r, "/z/cfg.py", "oslo_config.cfg"));
	CHECK(!pt_rules_ignored(&r, "/z/osx.py", "osx"));
	CHECK(!pt_rules_ignored(&r, "/z/oslo_configx.py", "oslo_configx"));
	CHECK(!pt_rules_ignored(&r, "/z/y.py", NULL));
	CHECK(!pt_rules_none(&r));
	pt_rules_free(&r);
	/* one kind of rule is enough to ignore something */
	env_set(&s, "ignore_dirs", "");
	CHECK(pt_rules_build(&r, &s, "/srv") == 0 && !pt_rules_none(&r));
	pt_rules_free(&r);
	env_set(&s, "ignore_modules", "");
	CHECK(pt_rules_build(&r, &s, "/srv") == 0 && pt_rules_none(&r));
	pt_rules_free(&r);
	CHECK(env_set(&s, "include", "^/srv/") == 0);
	CHECK(pt_rules_build(&r, &s, "/srv") == 0 && !pt_rules_none(&r));
	pt_rules_free(&r);
	pt_settings_free(&s);
}

/*
 * settings_text - the value `shown` (the file's syntax, as
 * pt_settings_format writes it) as the environment gives it: unquoted,
 * list items joined with ':' (directories) or ','.
 */
static void settings_text(const char *shown, enum pt_type t, char *buf,
			  size_t size)
{
	int quoted = 0;
	size_t n = 0;

	for (const char *c = shown; *c && n + 1 < size; c++) {
		if (quoted && *c == '\\' && c[1])
			buf[n++] = *++c;
		else if (*c == '"')
			quoted = !quoted;
		else if (quoted)
			buf[n++] = *c;
		else if (*c == ',')
			buf[n++] = t == PT_T_DIRS ? ':' : ',';
		else if (*c != '[' && *c != ']' && *c != ' ')
			buf[n++] = *c;
	}
	buf[n] = '\0';
}

/*
 * Every row of the settings table: its default, applied and formatted, is
 * what pytrace-check shows; that text, given back through the
 * environment, is accepted and shows the same; a value of its own type
 * shows as itself.  A row whose default, type, field or words are wrong
 * fails here.
 */
static void test_settings_table(void)
{
	static const char *const shown[] = {
		"enabled = true;",
		"output = \"stderr\";",
		"ignore_dirs = [];",
		"ignore_modules = [];",
		"include = [];",
		"programs = [];",
		"max_size = 1073741824;",
		"keep = 3;",
		"flush_interval = 1000;",
		"format = \"{path}({line}): {source}\";",
		"call_lines = false;",
		"start = \"main\";",
		"file_mode = \"0600\";",
		"output_mode = \"text\";",
		"scope = [];",
		"scope_depth = 0;",
		"scope_lines = true;",
		"scope_threads = false;",
		"timeline = false;",
	};
	/* another value of each type, as set and as shown */
	static const char *const other[][2] = {
		[PT_T_BOOL] = { "no", "false" },
		[PT_T_INT] = { "20", "20" },
		[PT_T_SIZE] = { "8K", "8192" },
		[PT_T_DIRS] = { "/a:b\"c", "[\"/a\", \"b\\\"c\"]" },
		[PT_T_LIST] = { "a.b,c", "[\"a.b\", \"c\"]" },
	};
	int n = pt_settings_count(), nshown = sizeof(shown) / sizeof(shown[0]);
	struct pt_settings s;

	unsetenv("PYTRACE_ENABLE");
	CHECK(n == nshown);
	for (int id = 0; id < n; id++) {
		char value[512], line[600], text[512], again[512];
		const char *name = pt_setting_name(id), *o;
		enum pt_type t = pt_setting_type(id);

		pt_settings_init(&s);
		pt_settings_format(&s, id, value, sizeof(value));
		snprintf(line, sizeof(line), "%s = %s;", name, value);
		o = s.origin[id] ? s.origin[id] : "nowhere";
		if (id < nshown && strcmp(line, shown[id]) == 0 &&
		    strcmp(o, "default") == 0) {
			passed++;
		} else {
			failed++;
			printf("FAIL setting %d: shows '%s' from %s, want '%s' "
			       "from default\n", id, line, o,
			       id < nshown ? shown[id] : "no row");
		}
		settings_text(value, t, text, sizeof(text));
		CHECK(env_set(&s, name, text) == 0);
		pt_settings_format(&s, id, again, sizeof(again));
		CHECK(strcmp(again, value) == 0 && s.origin[id] &&
		      strncmp(s.origin[id], "PYTRACE_", 8) == 0);
		if (strcmp(name, "scope") == 0) {	/* its own syntax */
			CHECK(env_set(&s, name, "a.b:C.f, /x.py:g") == 0);
			pt_settings_format(&s, id, again, sizeof(again));
			CHECK(strcmp(again, "[\"a.b:C.f\", \"/x.py:g\"]") == 0);
		} else if (t != PT_T_STRING) {
			CHECK(env_set(&s, name, other[t][0]) == 0);
			pt_settings_format(&s, id, again, sizeof(again));
			CHECK(strcmp(again, other[t][1]) == 0);
		}
		pt_settings_free(&s);
	}
}

/* Where a scope looks and what it names: pt_scope_place for code of
 * `module` in `path` whose co_qualname is `qualname` (co_name: its last
 * dotted part), and pt_scope_name. */
static const struct {
	const char *scope, *module, *path, *qualname;
	int place, name;
} scope_cases[] = {
	/* module form: the module's name, then co_name, then the qualname */
	{ "app.util:Conn.connect", "app.util", "/srv/app/util.py", "Conn.connect", 1, 1 },
	{ "app.util:Conn.connect", "app.util", "/srv/app/util.py", "Other.connect", 1, 0 },
	{ "app.util:Conn.connect", "app.util", "/srv/app/util.py", "Conn.close", 0, 0 },
	{ "app.util:Conn.connect", "app.utils", "/srv/app/utils.py", "Conn.connect", 0, 1 },
	{ "app.util:Conn.connect", "app", "/srv/app/__init__.py", "Conn.connect", 0, 1 },
	{ "app.util:Conn.connect", NULL, "/srv/app/util.py", "Conn.connect", 0, 1 },
	{ "app.util:Conn.connect", "", "/srv/app/util.py", "Conn.connect", 0, 1 },
	{ "__main__:main", "__main__", "/srv/run.py", "main", 1, 1 },
	/* a function's name alone is only a top-level function */
	{ "app.util:connect", "app.util", "/x.py", "Conn.connect", 1, 0 },
	{ "a:outer.<locals>.inner", "a", "/a.py", "outer.<locals>.inner", 1, 1 },
	/* globs span dots, in the module and in the qualname */
	{ "nova.*:*.spawn", "nova.virt.libvirt.driver", "/n.py", "Driver.spawn", 1, 1 },
	{ "nova.*:*.spawn", "nova.virt.libvirt.driver", "/n.py", "A.B.spawn", 1, 1 },
	{ "nova.*:*.spawn", "nova", "/n/__init__.py", "A.spawn", 0, 1 },
	{ "nova.*:*.spawn", "nova.virt", "/n.py", "spawn", 1, 0 },
	{ "nova.*:*.spawn", "nova.virt", "/n.py", "A.spawn_later", 0, 0 },
	{ "*:f", "__main__", "/r.py", "f", 1, 1 },
	{ "*:f", "", "/r.py", "f", 0, 1 },	/* no module name */
	/* co_name cannot rule out a last part with a glob: "C.*" also
	 * names C.Inner.g */
	{ "a:C.*", "a", "/a.py", "C.Inner.g", 1, 1 },
	{ "a:C.*", "a", "/a.py", "D.g", 1, 0 },
	{ "a:C.conn*", "a", "/a.py", "C.connect.<locals>.inner", 1, 1 },
	{ "a:C.f?", "a", "/a.py", "C.f2", 1, 1 },
	/* a dot in brackets is not the last part's */
	{ "a:C[.]f", "a", "/a.py", "C.f", 1, 1 },
	/* path form, absolute: the whole path; the module does not count */
	{ "/srv/tool/run.py:main", NULL, "/srv/tool/run.py", "main", 1, 1 },
	{ "/srv/tool/run.py:main", "__main__", "/srv/tool/run.py", "main", 1, 1 },
	{ "/srv/tool/run.py:main", NULL, "/srv/tool/run.pyc", "main", 0, 1 },
	{ "/srv/tool/run.py:main", NULL, "/srv/tool/run.py", "other", 0, 0 },
	{ "/srv/tool/run.py:main", NULL, NULL, "main", 0, 1 },
	{ "/srv/*/run.py:main", NULL, "/srv/a/b/run.py", "main", 1, 1 },
	{ "/srv/*/run.py:main", NULL, "/opt/a/run.py", "main", 0, 1 },
	/* relative: the end of the path, from a '/' */
	{ "tool/run.py:main", NULL, "/srv/tool/run.py", "main", 1, 1 },
	{ "tool/run.py:main", NULL, "/tool/run.py", "main", 1, 1 },
	{ "tool/run.py:main", NULL, "/srv/mytool/run.py", "main", 0, 1 },
	{ "tool/run.py:main", NULL, "/srv/tool/run.py/x.py", "main", 0, 1 },
	{ "tool/run.py:main", NULL, NULL, "main", 0, 1 },
	{ "tool/*.py:main", NULL, "/srv/tool/run.py", "main", 1, 1 },
	{ "tool/*.py:main", NULL, "/srv/tool/a-much-longer-name.py", "main", 1, 1 },
	{ "t*/run.py:main", NULL, "/srv/tool/run.py", "main", 1, 1 },
	{ "t*/run.py:main", NULL, "/srv/other/run.py", "main", 0, 1 },
	{ "tool/r?n.py:main", NULL, "/srv/tool/run.py", "main", 1, 1 },
	/* a glob that starts with '*' is matched against the whole path */
	{ "*/run.py:main", NULL, "/srv/tool/run.py", "main", 1, 1 },
	{ "*/run.py:main", NULL, "/srv/tool/rerun.py", "main", 0, 1 },
	{ "*/tool/run.py:main", NULL, "/tool/run.py", "main", 1, 1 },
};

/* What is not a scope, and why (after "'text' is not a scope: "). */
#define PT_SCOPE_HOW "(write module:Class.method or /path/file.py:function)"
static const char *const scope_refused[][2] = {
	{ "nocolon", "no ':' " PT_SCOPE_HOW },
	{ "", "no ':' " PT_SCOPE_HOW },
	{ ":f", "no module " PT_SCOPE_HOW },
	{ "a.b:", "no function " PT_SCOPE_HOW },
	{ "/srv/tool/:main", "the path names no file" },
	{ "a..b:f", "the module 'a..b' has an empty dotted part" },
	{ ".a:f", "the module '.a' has an empty dotted part" },
	{ "a.:f", "the module 'a.' has an empty dotted part" },
	{ "a:C.", "the function 'C.' has an empty dotted part" },
	{ "a:.f", "the function '.f' has an empty dotted part" },
	{ "a b:f", "' ' cannot be in a module name" },
	{ "a:f()", "'(' cannot be in a function name" },
	{ "a:b:c", "':' cannot be in a module name" },
	{ "a<x>:f", "'<' cannot be in a module name" },
	{ "a:C-f", "'-' cannot be in a function name" },
};

/* Scopes: the two forms, what each matches, and every malformed one with
 * the reason a user reads. */
static void test_scope(void)
{
	struct pt_scope sc;
	char err[512], want[512];

	CHECK(pt_scope_parse("os_brick.initiator.connectors.iscsi:"
			     "ISCSIConnector.connect_volume", &sc, err,
			     sizeof(err)) == 0 && !sc.path &&
	      strcmp(sc.module, "os_brick.initiator.connectors.iscsi") == 0 &&
	      strcmp(sc.qualname, "ISCSIConnector.connect_volume") == 0 &&
	      strcmp(sc.last, "connect_volume") == 0);
	pt_scope_free(&sc);
	CHECK(pt_scope_parse("/srv/tool/run.py:main", &sc, err,
			     sizeof(err)) == 0 && !sc.module &&
	      strcmp(sc.path, "/srv/tool/run.py") == 0 &&
	      strcmp(sc.qualname, "main") == 0 && strcmp(sc.last, "main") == 0);
	pt_scope_free(&sc);
	/* without a '/' it is a module name, even with ".py" */
	CHECK(pt_scope_parse("run.py:main", &sc, err, sizeof(err)) == 0 &&
	      sc.module && !sc.path);
	pt_scope_free(&sc);

	for (size_t i = 0; i < sizeof(scope_cases) / sizeof(scope_cases[0]); i++) {
		const char *q = scope_cases[i].qualname, *dot = strrchr(q, '.');
		int place = -1, name = -1;

		if (pt_scope_parse(scope_cases[i].scope, &sc, err,
				   sizeof(err)) == 0) {
			place = pt_scope_place(&sc, scope_cases[i].module,
					       scope_cases[i].path,
					       dot ? dot + 1 : q);
			name = pt_scope_name(&sc, q);
			pt_scope_free(&sc);
		}
		if (place == scope_cases[i].place && name == scope_cases[i].name) {
			passed++;
			continue;
		}
		failed++;
		printf("FAIL scope '%s' at %s %s %s: place %d name %d, want "
		       "%d %d\n", scope_cases[i].scope,
		       scope_cases[i].module ? scope_cases[i].module : "NULL",
		       scope_cases[i].path ? scope_cases[i].path : "NULL", q,
		       place, name, scope_cases[i].place, scope_cases[i].name);
	}

	for (size_t i = 0; i < sizeof(scope_refused) / sizeof(scope_refused[0]); i++) {
		const char *text = scope_refused[i][0];

		memset(&sc, 0, sizeof(sc));
		err[0] = '\0';
		snprintf(want, sizeof(want), "'%s' is not a scope: %s", text,
			 scope_refused[i][1]);
		if (pt_scope_parse(text, &sc, err, sizeof(err)) == -EINVAL &&
		    strcmp(err, want) == 0 && !sc.module && !sc.path &&
		    !sc.qualname && pt_scope_parse(text, NULL, err,
						   sizeof(err)) == -EINVAL) {
			passed++;
			continue;
		}
		failed++;
		printf("FAIL scope '%s': '%s', want '%s'\n", text, err, want);
	}
	/* a long text is cut in the message, which still says why */
	char longer[600];
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	CHECK(pt_scope_parse(longer, NULL, err, sizeof(err)) == -EINVAL &&
	      strlen(err) < 300 && strstr(err, "is not a scope: no ':'"));
}

static void test_output_pattern(void)
{
	char out[64];
	const char *bad = NULL;
	struct pt_out_vars v = { "nova-compute", 42, "node1", 0 };
	struct pt_out_vars big = { "0123456789", 1, "h", 0 };
	struct tm tm = { .tm_year = 126, .tm_mon = 10, .tm_mday = 26,
			 .tm_hour = 9, .tm_min = 5, .tm_sec = 7, .tm_isdst = -1 };

	v.start = mktime(&tm);
	CHECK(pt_out_expand("/v/%n.%p.trace", &v, out, sizeof(out), &bad) > 0 &&
	      strcmp(out, "/v/nova-compute.42.trace") == 0);
	CHECK(pt_out_expand("/v/%h-%t", &v, out, sizeof(out), &bad) > 0 &&
	      strcmp(out, "/v/node1-20261126-090507") == 0);
	CHECK(pt_out_expand("/v/100%%", &v, out, sizeof(out), &bad) > 0 &&
	      strcmp(out, "/v/100%") == 0);
	CHECK(pt_out_expand("/v/%q", &v, out, sizeof(out), &bad) == -EINVAL &&
	      strncmp(bad, "%q", 2) == 0);
	CHECK(pt_out_expand("/v/%", &v, out, sizeof(out), &bad) == -EINVAL);
	CHECK(pt_out_expand("/v/%n%n%n%n%n%n%n", &big, out, sizeof(out), &bad) ==
	      -ENAMETOOLONG);
}

static void test_split(void)
{
	uint32_t n, *s;
	const char *t = "a\nbb\r\nccc\rd";

	s = pt_source_split(t, strlen(t), &n);
	CHECK(s && n == 4 && s[0] == 0 && s[1] == 2 && s[2] == 6 && s[3] == 10 &&
	      s[4] == 11);
	free(s);
	s = pt_source_split("x\n", 2, &n);
	CHECK(s && n == 1 && s[1] == 2);
	free(s);
	s = pt_source_split("", 0, &n);
	CHECK(s && n == 0);
	free(s);
	/* '\n' only (memchr's path): the same index */
	t = "a\nbb\n\nccc";
	s = pt_source_split(t, strlen(t), &n);
	CHECK(s && n == 4 && s[0] == 0 && s[1] == 2 && s[2] == 5 && s[3] == 6 &&
	      s[4] == 9);
	free(s);
	/* more lines than the first estimate holds (one byte each) */
	enum { MANY = 5000 };
	char *big = malloc(2 * MANY);
	for (int i = 0; big && i < MANY; i++)
		big[2 * i] = 'x', big[2 * i + 1] = '\n';
	s = big ? pt_source_split(big, 2 * MANY, &n) : NULL;
	int ok = s && n == MANY;
	for (uint32_t i = 0; ok && i <= n; i++)
		ok = s[i] == 2 * i;
	CHECK(ok);
	free(s);
	free(big);
}

/* Default-format lines: path, number, source, for numbers of 1-5 digits. */
static void test_fline(void)
{
	char path[] = "/tmp/pytrace-unit-fline-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	FILE *fp = fdopen(fd, "w");
	for (int i = 1; i <= 12345; i++)
		fprintf(fp, "x = %d\n", i);
	fclose(fp);
	struct pt_file *f = pt_file_get(path);
	static const int nums[] = { 1, 9, 10, 99, 100, 12345 };
	for (size_t i = 0; f && i < sizeof(nums) / sizeof(nums[0]); i++) {
		char want[128];
		const struct pt_fline *l = pt_file_fline(f, nums[i]);
		int k = snprintf(want, sizeof(want), "%s(%d): x = %d\n", path,
				 nums[i], nums[i]);
		CHECK(l && l->len == (uint32_t)k && memcmp(l->text, want, k) == 0);
	}
	CHECK(f && !pt_file_fline(f, 0) && !pt_file_fline(f, 12346));
	unlink(path);
}

/* Run pt_program_from_argv on a NULL-terminated command line. */
static int prog_of(struct pt_program *p, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	va_start(ap, p);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	return pt_program_from_argv(argc, argv, "/usr/bin/python3.11", "/srv", p);
}

static void test_program(void)
{
	struct pt_program p;
	struct pt_settings s;

	CHECK(prog_of(&p, "python3", "/usr/bin/nova-compute", "--config", "x", NULL) == 0 &&
	      strcmp(p.name, "nova-compute") == 0 &&
	      strcmp(p.path, "/usr/bin/nova-compute") == 0);
	CHECK(prog_of(&p, "python3", "-OO", "-W", "ignore", "-X", "dev", "app/run.py", NULL) == 0 &&
	      strcmp(p.name, "run.py") == 0 && strcmp(p.path, "/srv/app/run.py") == 0);
	CHECK(prog_of(&p, "python3", "-Wd", "-u", "s.py", NULL) == 0 &&
	      strcmp(p.name, "s.py") == 0);
	CHECK(prog_of(&p, "python3", "-m", "nova.cmd.compute", "x.py", NULL) == 0 &&
	      strcmp(p.name, "nova.cmd.compute") == 0 &&
	      strcmp(p.path, "/usr/bin/python3.11") == 0);
	CHECK(prog_of(&p, "python3", "-Emjson.tool", NULL) == 0 &&
	      strcmp(p.name, "json.tool") == 0);
	CHECK(prog_of(&p, "python3", "-c", "print(1)", "x.py", NULL) == 0 &&
	      strcmp(p.name, "python3") == 0);
	CHECK(prog_of(&p, "python3", "--", "-weird.py", NULL) == 0 &&
	      strcmp(p.name, "-weird.py") == 0);
	CHECK(prog_of(&p, "python3", "--version", NULL) == -1);
	CHECK(prog_of(&p, "python3", NULL) == 0 && strcmp(p.name, "python3") == 0);

	pt_settings_init(&s);
	CHECK(prog_of(&p, "python3", "/usr/bin/nova-compute", NULL) == 0 &&
	      pt_program_selected(&s, &p));
	setenv("PYTRACE_PROGRAMS", "nova-*,/opt/*/bin/*", 1);
	pt_settings_from_env(&s);
	unsetenv("PYTRACE_PROGRAMS");
	CHECK(pt_program_selected(&s, &p));
	CHECK(prog_of(&p, "python3", "/usr/bin/privsep-helper", NULL) == 0 &&
	      !pt_program_selected(&s, &p));
	CHECK(prog_of(&p, "python3", "/opt/venv/bin/tool", NULL) == 0 &&
	      pt_program_selected(&s, &p));
	pt_settings_free(&s);
}

static void test_format(void)
{
	struct pt_format f;
	char err[256];

	CHECK(pt_format_compile(PT_FORMAT_DEFAULT, &f, err, sizeof(err)) == 0 &&
	      f.is_default && f.nops == 5 && f.ops[0].tok == PT_TOK_PATH &&
	      f.ops[1].tok == PT_TOK_TEXT && f.ops[1].len == 1 &&
	      f.ops[4].tok == PT_TOK_SOURCE && f.text_len == 4);
	CHECK(pt_format_compile("{indent}{{x}} }}{line}", &f, err, sizeof(err)) == 0 &&
	      !f.is_default && f.needs_depth && f.nops == 3 &&
	      f.ops[1].len == 5 && strncmp(f.ops[1].text, "{x} }", 5) == 0);
	CHECK(pt_format_compile("{nope}", &f, err, sizeof(err)) == -EINVAL &&
	      strstr(err, "unknown token '{nope}'"));
	CHECK(pt_format_compile("{line", &f, err, sizeof(err)) == -EINVAL &&
	      strstr(err, "unclosed"));
	CHECK(pt_format_compile("a}b", &f, err, sizeof(err)) == -EINVAL &&
	      strstr(err, "lone '}'"));
	CHECK(pt_format_compile("", &f, err, sizeof(err)) == 0 && f.nops == 0);
}

/* The scope entry line: its text, and its size a true bound. */
static void test_format_scope(void)
{
	static const struct {
		const char *module, *qualname;
		long tid;
		const char *want;
	} cases[] = {
		{ "app.util", "Connector.connect_volume", 4242,
		  " === scope: app.util:Connector.connect_volume (thread 4242)\n" },
		{ "__main__", "outer.<locals>.inner", 1,
		  " === scope: __main__:outer.<locals>.inner (thread 1)\n" },
		{ "", "", LONG_MIN, " === scope: : (thread -9223372036854775808)\n" },
		{ "a\nb\033[2J", "f\r\x7f", 7, " === scope: a?b?[2J:f?? (thread 7)\n" },
	};
	char buf[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t size = pt_format_scope_size(cases[i].module, cases[i].qualname);
		memset(buf, 'x', sizeof(buf));
		char *end = pt_format_scope(buf, cases[i].module, cases[i].qualname,
					    cases[i].tid);
		size_t n = (size_t)(end - buf);
		/* what it wrote (a NUL past the end, maybe) fits in size */
		size_t used = n;
		while (used < sizeof(buf) && buf[used] != 'x')
			used++;
		CHECK(n == strlen(cases[i].want) && memcmp(buf, cases[i].want, n) == 0 &&
		      used <= size);
	}
}

/* SCOPE records: written and parsed, cut short, damaged, grown. */
/* Whether the record at b[0, n) parses only whole: each start of it is
 * "more to come" (0), and with its EXT body one byte shorter than its
 * fields (b[1], a one-byte length) it is no record (-1). */
static int whole_only(unsigned char *b, size_t n)
{
	struct pt_rec r;
	int whole = 1;

	for (size_t k = 0; k < n; k++)
		whole &= pt_rec_parse(b, k, 0, &r) == 0;
	b[1]--;
	whole &= pt_rec_parse(b, n, 0, &r) == -1;
	b[1]++;
	return whole;
}

static void test_record_scope(void)
{
	unsigned char b[256], *p, *q;
	struct pt_rec r;

	p = pt_rec_put_scope(b, 4242, "app.util", 8, "Connector.connect_volume", 24);
	CHECK((size_t)(p - b) <= PT_REC_SCOPE_MAX(8, 24));
	CHECK(pt_rec_parse(b, (size_t)(p - b), PT_REC_F_TID, &r) == p - b &&
	      r.kind == PT_REC_SCOPE && r.id == 4242 && r.n1 == 8 &&
	      memcmp(r.s1, "app.util", 8) == 0 && r.n2 == 24 &&
	      memcmp(r.s2, "Connector.connect_volume", 24) == 0);
	CHECK(whole_only(b, (size_t)(p - b)));
	/* a body with more after what is known: that is skipped */
	q = pt_rec_put_scope(b, 1, "m", 1, "f", 1);
	b[1] += 2;
	memcpy(q, "\x01\x02", 2);
	p = pt_rec_put_varint(q + 2, (uint64_t)3 << 3 | PT_REC_LINE);
	p = pt_rec_put_varint(p, 12);
	CHECK(pt_rec_parse(b, (size_t)(p - b), 0, &r) == q + 2 - b &&
	      r.kind == PT_REC_SCOPE && r.id == 1 && r.n1 == 1 && r.s1[0] == 'm');
	CHECK(pt_rec_parse(q + 2, (size_t)(p - q - 2), 0, &r) == p - q - 2 &&
	      r.kind == PT_REC_LINE && r.line == 12);
	/* empty names, the largest thread id */
	p = pt_rec_put_scope(b, LONG_MAX, "", 0, "", 0);
	CHECK(pt_rec_parse(b, (size_t)(p - b), 0, &r) == p - b &&
	      r.kind == PT_REC_SCOPE && r.id == (uint64_t)LONG_MAX && !r.n1 && !r.n2);
}

static void test_record_timeline(void)
{
	unsigned char b[128], *p, *q;
	struct pt_rec r;

	/* the largest values each field may have: within the bound */
	p = pt_rec_put_enter(b, LONG_MAX, UINT32_MAX, INT64_MIN);
	CHECK((size_t)(p - b) <= PT_REC_TIMELINE_MAX);
	CHECK(pt_rec_parse(b, (size_t)(p - b), 0, &r) == p - b &&
	      r.kind == PT_REC_ENTER && r.id == (uint64_t)LONG_MAX &&
	      r.file == UINT32_MAX && r.mono == INT64_MIN);
	p = pt_rec_put_enter(b, 4242, 7, 1234567890123);
	CHECK(pt_rec_parse(b, (size_t)(p - b), PT_REC_F_MONO, &r) == p - b &&
	      r.kind == PT_REC_ENTER && r.id == 4242 && r.file == 7 &&
	      r.mono == 1234567890123);
	CHECK(whole_only(b, (size_t)(p - b)));
	q = pt_rec_put_leave(p, LONG_MAX, INT64_MAX);
	CHECK((size_t)(q - p) <= PT_REC_TIMELINE_MAX);
	CHECK(pt_rec_parse(p, (size_t)(q - p), 0, &r) == q - p &&
	      r.kind == PT_REC_LEAVE && r.id == (uint64_t)LONG_MAX &&
	      r.mono == INT64_MAX);
	p = pt_rec_put_leave(b, 1, -5);
	CHECK(pt_rec_parse(b, (size_t)(p - b), 0, &r) == p - b &&
	      r.kind == PT_REC_LEAVE && r.id == 1 && r.mono == -5);
}

static void test_record_format(void)
{
	unsigned char b[256], *p;
	struct pt_rec r;
	struct pt_rec_hdr h = { PT_REC_VERSION, 42, 7, 3, 1000 }, g;

	p = pt_rec_put_varint(b, (uint64_t)300 << 3 | PT_REC_LINE);
	p = pt_rec_put_varint(p, 70000);
	p = pt_rec_put_varint(p, 5);
	p = pt_rec_put_varint(p, pt_rec_zigzag(-12));
	CHECK(pt_rec_parse(b, (size_t)(p - b), PT_REC_F_DEPTH | PT_REC_F_WALL, &r) ==
	      p - b && r.kind == PT_REC_LINE && r.id == 300 && r.line == 70000 &&
	      r.depth == 5 && r.wall == -12 && r.mono == 0);
	/* every shorter prefix is "not yet whole", never a record */
	int whole = 1;
	for (size_t n = 0; n < (size_t)(p - b); n++)
		whole &= pt_rec_parse(b, n, PT_REC_F_DEPTH | PT_REC_F_WALL, &r) == 0;
	CHECK(whole);
	p = pt_rec_put_varint(b, (uint64_t)9 << 3 | PT_REC_CODE);
	p = pt_rec_put_varint(p, 4);
	p = pt_rec_put_str(p, "pkg.mod", 7);
	p = pt_rec_put_str(p, "f", 1);
	CHECK(pt_rec_parse(b, (size_t)(p - b), 0, &r) == p - b && r.kind == PT_REC_CODE &&
	      r.id == 9 && r.file == 4 && r.n1 == 7 && memcmp(r.s1, "pkg.mod", 7) == 0 &&
	      r.n2 == 1 && r.s2[0] == 'f');
	/* a string longer than what is left: not whole */
	b[2] = 100;
	CHECK(pt_rec_parse(b, (size_t)(p - b), 0, &r) == 0);
	/* an EXT record of a sub-kind not known: skipped whole */
	p = pt_rec_put_varint(b, (uint64_t)5 << 3 | PT_REC_EXT);
	p = pt_rec_put_varint(p, 3);
	memcpy(p, "\xff\xff\xff", 3);
	CHECK(pt_rec_parse(b, (size_t)(p + 3 - b), 0, &r) == p + 3 - b &&
	      r.kind == PT_REC_EXT && r.id == 5);
	CHECK(pt_rec_parse(b, (size_t)(p + 2 - b), 0, &r) == 0);
	p = pt_rec_put_varint(b, (uint64_t)4242 << 3 | PT_REC_NOTE);
	p = pt_rec_put_str(p, "deep recursion", 14);
	CHECK(pt_rec_parse(b, (size_t)(p - b), 0, &r) == p - b &&
	      r.kind == PT_REC_NOTE && r.id == 4242 && r.n1 == 14 &&
	      memcmp(r.s1, "deep recursion", 14) == 0);
	CHECK(pt_rec_parse(b, (size_t)(p - b) - 1, 0, &r) == 0);
	memset(b, 0xff, 11);	/* a varint of 11 bytes */
	CHECK(pt_rec_parse(b, 20, 0, &r) == -1);
	CHECK(pt_rec_unzigzag(pt_rec_zigzag(INT64_MIN)) == INT64_MIN &&
	      pt_rec_unzigzag(pt_rec_zigzag(-1)) == -1 && pt_rec_zigzag(-1) == 1);
	pt_rec_hdr_put(b, &h);
	CHECK(pt_rec_hdr_get(b, &g) == 0 && g.pid == 42 && g.ppid == 7 &&
	      g.seq == 3 && g.len == 1000);
	b[9] ^= 1;
	CHECK(pt_rec_hdr_get(b, &g) == -1);
}

/* What the record tests read back: one line per event. */
static char *got;
static size_t gotlen, gotcap;	/* grown geometrically: ASan's realloc copies */

static void collect(const struct pt_rd_event *ev, void *arg)
{
	char line[512];
	int n;

	(void)arg;
	if (ev->kind == PT_REC_CALL)
		n = snprintf(line, sizeof(line), "call %s %s\n", ev->code->module,
			     ev->code->function);
	else if (ev->kind == PT_REC_SCOPE)
		n = snprintf(line, sizeof(line), "scope %ld %s:%s\n", ev->tid,
			     ev->module, ev->qualname);
	else if (ev->kind == PT_REC_NOTE)
		n = snprintf(line, sizeof(line), "note %ld %.*s\n", ev->note_pid,
			     (int)ev->notelen, ev->note);
	else
		n = snprintf(line, sizeof(line), "%s:%d %s.%s tid=%d depth=%ld\n",
			     ev->code->file->path, ev->line, ev->code->module,
			     ev->code->function, ev->tid == (long)getpid(),
			     ev->depth);
	if (gotlen + (size_t)n + 1 > gotcap) {
		size_t cap = 2 * gotcap > 4096 ? 2 * gotcap : 4096;
		while (cap < gotlen + (size_t)n + 1)
			cap *= 2;
		char *g = realloc(got, cap);
		if (!g)
			return;
		got = g;
		gotcap = cap;
	}
	memcpy(got + gotlen, line, (size_t)n + 1);
	gotlen += (size_t)n;
}

/* Read `path` (or the bytes in[0, n) when path is NULL) into `got`;
 * returns the problems reported. */
static int read_back(const char *path, const char *in, size_t n)
{
	struct pt_rd rd = { "unit", collect, NULL, NULL, 0 };
	FILE *f = path ? fopen(path, "r") : fmemopen((void *)in, n, "r");
	int problems;

	if (!f)
		return -1;
	problems = pt_rd_stream(&rd, f, path ? path : "memory");
	fclose(f);
	return problems;
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *b = NULL;
	struct stat st;

	if (f && fstat(fileno(f), &st) == 0 && (b = malloc((size_t)st.st_size + 1)))
		*n = fread(b, 1, (size_t)st.st_size, f);
	if (f)
		fclose(f);
	return b;
}

/*
 * notes_alone - whether every chunk of the record file `path` that holds
 * a NOTE record holds nothing else but its process's PROC record (a
 * reader that predates NOTE then loses only the note); the notes counted
 * into *notes.
 */
static int notes_alone(const char *path, unsigned fields, int *notes)
{
	size_t n = 0, off = 0;
	char *all = slurp(path, &n);
	int ok = all != NULL;

	while (ok && off + PT_REC_HDR <= n) {
		struct pt_rec_hdr h;
		int note = 0, other = 0;
		if (pt_rec_hdr_get((unsigned char *)all + off, &h) < 0 ||
		    off + PT_REC_HDR + h.len > n) {
			ok = 0;
			break;
		}
		const unsigned char *b = (unsigned char *)all + off + PT_REC_HDR;
		for (size_t i = 0; i < h.len;) {
			struct pt_rec r;
			ssize_t k = pt_rec_parse(b + i, h.len - i, fields, &r);
			if (k <= 0) {
				ok = 0;
				break;
			}
			note += r.kind == PT_REC_NOTE;
			other += r.kind != PT_REC_NOTE && r.kind != PT_REC_PROC;
			i += (size_t)k;
		}
		ok &= note <= 1 && !(note && other);
		*notes += note;
		off += PT_REC_HDR + h.len;
	}
	free(all);
	return ok && off == n;
}

static void test_record_roundtrip(void)
{
	char dir[] = "/tmp/pytrace-unit.XXXXXX", path[256];
	static char want[1 << 20];
	struct pt_settings s;
	struct timespec t0;
	struct pt_code codes[3];
	size_t wn = 0;

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	pt_settings_init(&s);
	CHECK(env_set(&s, "format", "{tid} {indent}{path}({line})") == 0);
	s.call_lines = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(pt_rec_start(&s, &t0) == 0);
	/* rotation at 4 KiB: every file must stand alone */
	snprintf(path, sizeof(path), "%s/r", dir);
	pt_out_configure(4096, 100, 0, 0600);
	CHECK(pt_out_open(path, "unit") == 0);
	const char *fn[3] = { "a.py", "b.py", "<string>" };
	for (int i = 0; i < 3; i++) {
		char p[64];
		snprintf(p, sizeof(p), i < 2 ? "%s/%s" : "%.0s%s", dir, fn[i]);
		memset(&codes[i], 0, sizeof(codes[i]));
		codes[i].file = pt_file_get(p);
		codes[i].module = i ? "pkg.mod" : "__main__";
		codes[i].function = i == 1 ? "" : "f";
	}
	for (int k = 0; k < 3000; k++) {
		struct pt_code *c = &codes[k % 3];
		long depth = k % 7 == 0 ? -3 : k % 11 == 0 ? 600 : k % 5;
		if (k % 13 == 0) {
			CHECK(pt_rec_call(c) == 0);
			wn += (size_t)snprintf(want + wn, sizeof(want) - wn, "call %s %s\n",
					       c->module, c->function);
		}
		if (k % 17 == 0) {
			CHECK(pt_rec_scope(c->module, k % 2 ? "C.m" : "", 1000 + k) == 0);
			wn += (size_t)snprintf(want + wn, sizeof(want) - wn, "scope %d %s:%s\n",
					       1000 + k, c->module, k % 2 ? "C.m" : "");
		}
		CHECK(pt_rec_line(c, k, depth) == 0);
		wn += (size_t)snprintf(want + wn, sizeof(want) - wn, "%s:%d %s.%s tid=1 depth=%ld\n",
				       c->file->path, k, c->module, c->function,
				       depth < 0 ? 0 : depth > 500 ? 500 : depth);
		/* notices among the lines, at their place */
		if (k % 701 == 0) {
			CHECK(pt_rec_notice(77 + k, "said", 4) == 0);
			wn += (size_t)snprintf(want + wn, sizeof(want) - wn,
					       "note %d said\n", 77 + k);
		}
	}
	pt_out_flush();
	/* each file alone, oldest first, then all of them in order */
	int files = 0, problems = 0, notes = 0;
	gotlen = 0;
	for (int i = 100; i >= 0; i--) {
		char f[300];
		struct stat st;
		snprintf(f, sizeof(f), i ? "%s.%d" : "%s", path, i);
		if (stat(f, &st) < 0)
			continue;
		files++;
		CHECK(st.st_size <= 4096);
		problems += read_back(f, NULL, 0);
		CHECK(notes_alone(f, pt_rec_fields(s.fmt), &notes));
		unlink(f);
	}
	CHECK(files >= 3 && problems == 0 && notes == 5);
	CHECK(gotlen == wn && got && memcmp(got, want, wn) == 0);

	/* more definitions than are kept: forgotten, then defined again */
	snprintf(path, sizeof(path), "%s/many", dir);
	pt_out_configure(0, 0, 0, 0600);
	CHECK(pt_out_open(path, "unit") == 0);
	static char names[70000][16];
	struct pt_code c = { .file = codes[0].file, .module = "m" };
	int ok = 1;
	for (int k = 0; k < 70000; k++) {
		snprintf(names[k], sizeof(names[k]), "f%d", k);
		c.function = names[k];
		c.rec.id = c.rec.gen = 0;
		ok &= pt_rec_line(&c, k, 0) == 0;
	}
	c.function = names[5];
	c.rec.id = c.rec.gen = 0;
	ok &= pt_rec_line(&c, 5, 0) == 0;
	CHECK(ok);
	pt_out_flush();
	gotlen = 0;
	CHECK(read_back(path, NULL, 0) == 0);
	int lines = 0;
	for (size_t i = 0; i < gotlen; i++)
		lines += got[i] == '\n';
	CHECK(lines == 70001 && strstr(got, ":69999 m.f69999 ") &&
	      strcmp(got + gotlen - strlen(":5 m.f5 tid=1 depth=0\n"),
		     ":5 m.f5 tid=1 depth=0\n") == 0);

	/* the file cut short, and garbage before a second copy */
	size_t n = 0;
	char *all = slurp(path, &n), *two = malloc(2 * n + 5);
	gotlen = 0;
	CHECK(all && read_back(NULL, all, n - 10) == 1);
	lines = 0;
	for (size_t i = 0; i < gotlen; i++)
		lines += got[i] == '\n';
	CHECK(lines > 50000 && lines < 70001 && strstr(got, ":0 m.f0 tid=1 depth=0\n"));
	if (all && two) {
		memcpy(two, all, n);
		memcpy(two + n, "junk!", 5);
		memcpy(two + n + 5, all, n);
		gotlen = 0;
		CHECK(read_back(NULL, two, 2 * n + 5) == 1);
		lines = 0;
		for (size_t i = 0; i < gotlen; i++)
			lines += got[i] == '\n';
		CHECK(lines == 2 * 70001);
	}
	free(all);
	free(two);
	unlink(path);
	rmdir(dir);
	free(got);
	got = NULL;
	gotcap = 0;
	pt_settings_free(&s);
}

/* What test_notice's sink was given. */
static char noticed[4096];
static size_t noticed_len;

static void notice_sink(long pid, const char *msg, size_t len)
{
	int n = snprintf(noticed + noticed_len, sizeof(noticed) - noticed_len,
			 "%ld %.*s\n", pid, (int)len, msg);

	if (n > 0 && (size_t)n < sizeof(noticed) - noticed_len)
		noticed_len += (size_t)n;
}

/* Notices never touch stderr; said before there is a sink, they wait for
 * it, in order; after, they reach it at once; each is one line. */
static void test_notice(void)
{
	char path[] = "/tmp/pytrace-unit-stderr.XXXXXX", want[256];
	int fd = mkstemp(path), saved = dup(2);
	long pid = (long)getpid();
	struct stat st;

	if (fd < 0 || saved < 0) {
		CHECK(!"mkstemp, dup");
		return;
	}
	pt_log_syslog = 0;
	dup2(fd, 2);
	pt_notice("first %d", 1);
	pt_notice("second");
	CHECK(noticed_len == 0);
	pt_notice_sink(notice_sink);
	snprintf(want, sizeof(want), "%ld first 1\n%ld second\n", pid, pid);
	CHECK(strcmp(noticed, want) == 0);
	noticed_len = 0;
	pt_notice("a\nforged\033[2Jline");
	snprintf(want, sizeof(want), "%ld a?forged?[2Jline\n", pid);
	CHECK(noticed_len == strlen(want) && strcmp(noticed, want) == 0);
	pt_notice_sink(NULL);
	noticed_len = 0;
	for (int i = 0; i < 10; i++)
		pt_notice("kept %d", i);
	pt_notice_sink(notice_sink);
	/* only the first few wait: syslog has the others */
	CHECK(strstr(noticed, " kept 0\n") && !strstr(noticed, " kept 9\n"));
	pt_notice_sink(NULL);
	dup2(saved, 2);
	close(saved);
	CHECK(fstat(fd, &st) == 0 && st.st_size == 0);
	close(fd);
	unlink(path);
	pt_log_syslog = 1;
}

/* --- the per-code cache (codemap.c), with libpython stood in for --- */

/* What subinterp.c gives pt_codemap_start, for the one interpreter of
 * these tests: release at once. */
static void release_code(PyObject *code, const void *owner)
{
	(void)owner;
	pt_py.DecRef(code);
}

/* A stand-in code object: a reference count and pytrace's extra slot.
 * A "new" code object at the same address is the old one after free_code(). */
struct fake_code {
	long refcnt;
	void *extra;
	int unmarkable;		/* SetExtra fails for it */
};

static struct {
	pt_freefunc free;	/* what codemap.c registered */
	void *interp[1];
	void *tstate[3];	/* prev, next, interp */
	int set_calls;
} fk;

static Py_ssize_t fk_request(pt_freefunc f)
{
	fk.free = f;
	return 0;
}

/* As CPython's: the free function gets a mark it replaces. */
static int fk_set_extra(PyObject *code, Py_ssize_t index, void *extra)
{
	struct fake_code *o = (struct fake_code *)code;

	(void)index;
	fk.set_calls++;
	if (o->unmarkable)
		return -1;
	if (o->extra)
		fk.free(o->extra);
	o->extra = extra;
	return 0;
}

static void *fk_tstate(void) { return fk.tstate; }
static void *fk_interp_head(void) { return fk.interp; }
static void *fk_interp_next(void *i) { (void)i; return NULL; }
static void fk_incref(PyObject *o) { ((struct fake_code *)o)->refcnt++; }
static void fk_decref(PyObject *o) { ((struct fake_code *)o)->refcnt--; }
static void fk_err_clear(void) { }

/* The interpreter frees o, as code_dealloc does (the free function is
 * called with whatever the slot holds, NULL too). */
static void free_code(struct fake_code *o)
{
	fk.free(o->extra);
	o->extra = NULL;
}

static struct pt_code *new_code(void)
{
	struct pt_code *c = calloc(1, sizeof(*c));

	c->module = strdup("m");
	c->function = strdup("f");
	return c;
}

/* The 20th field of /proc/self/stat: the threads the kernel counts. */
static int kernel_threads(void)
{
	char b[1024];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof(b) - 1);
	int v = -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	b[n] = '\0';
	char *p = strrchr(b, ')');
	/* after the name: state (field 3), then up to num_threads */
	for (int i = 3; p && (p = strchr(p + 1, ' ')) && i <= 20; i++)
		if (i == 20)
			v = atoi(p + 1);
	return v;
}

static int threads_at_fork;

static void count_at_fork(void)
{
	threads_at_fork = kernel_threads();
}

/*
 * The flusher is stopped before fork(), gone from the kernel's count
 * too: CPython 3.12+ reads the count after fork() and warns of a fork
 * with threads.  pthread_join alone leaves the thread counted for a
 * moment (the kernel wakes the joiner before it drops the thread), about
 * one join in a thousand here.  The count is read by a fork handler that
 * runs after pytrace's (registered before it, so run after it), at the
 * narrowest point.  Runs first, before any pt_out_open registers
 * pytrace's handlers.
 */
static void test_fork_without_flusher(void)
{
	char dir[] = "/tmp/pt-unit-XXXXXX", path[300];
	int counted = 0, forks = 0, seen = 0;

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	CHECK(pthread_atfork(count_at_fork, NULL, NULL) == 0);
	snprintf(path, sizeof(path), "%s/t", dir);
	pt_out_configure(0, 0, 1000, 0600);
	CHECK(pt_out_open(path, "unit") == 0);
	for (int i = 0; i < 15000; i++) {
		char *p = pt_out_begin(8);
		if (!p)
			break;
		memcpy(p, "a line\n", 7);
		pt_out_end(p + 7);
		if (kernel_threads() == 2)
			seen++;		/* the flusher runs */
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0)
			break;
		if (threads_at_fork != 1 || kernel_threads() != 1)
			counted++;
		forks++;
		waitpid(pid, NULL, 0);
	}
	pt_out_close();
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK(system(path) == 0);
	CHECK(forks == 15000 && seen == forks);
	if (counted)
		fprintf(stderr, "unit: the flusher counted after %d of %d forks\n",
			counted, forks);
	CHECK(counted == 0);
}

/*
 * 3.12+'s line numbers are read from the int object itself once its
 * layout is trusted: one positive digit, also with the bit 3.14 sets in
 * its cached small ints; never a negative, zero or two-digit int.
 */
static void test_small_int(void)
{
	struct { uintptr_t refcnt, type, tag; uint32_t digit[2]; } o = { 0 };
	PyObject *obj = (PyObject *)&o;
	int saved = pt_py.int_layout;
	long v = 0;

	pt_py.int_layout = 1;
	o.tag = 1 << 3;
	o.digit[0] = 300;
	CHECK(pt_py_small_int_read(obj, &v) && v == 300);
	o.tag = 1 << 3 | 4;	/* 3.14: a cached small int */
	o.digit[0] = 7;
	CHECK(pt_py_small_int_read(obj, &v) && v == 7);
	o.tag = 1 << 3 | 2;	/* negative */
	CHECK(!pt_py_small_int_read(obj, &v));
	o.tag = 1 | 4;		/* zero */
	CHECK(!pt_py_small_int_read(obj, &v));
	o.tag = 2 << 3;		/* two digits */
	CHECK(!pt_py_small_int_read(obj, &v));
	pt_py.int_layout = 2;	/* not trusted yet */
	o.tag = 1 << 3;
	CHECK(!pt_py_small_int_read(obj, &v));
	pt_py.int_layout = saved;
}

/*
 * The inline append (pt_out_append) is taken only where the locked path
 * allowed it: not before a line of the thread went through the lock
 * (which starts what the output needs), and never once the output
 * failed or closed; what it appends is in the file, in order.
 */
/* pt_out_append of the string s, readable PT_OUT_BLOCK bytes further
 * (bytes that must not reach the file) */
static int append(const char *s)
{
	char padded[512];
	size_t n = strlen(s);

	memset(padded, '#', sizeof(padded));
	memcpy(padded, s, n);
	return pt_out_append(padded, n);
}


static void test_out_append(void)
{
	char dir[] = "/tmp/pt-unit-XXXXXX", path[300];
	size_t n = 0;

	if (!mkdtemp(dir)) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/t", dir);
	pt_out_close();		/* text, not the records of tests before */
	pt_out_configure(0, 0, 0, 0600);
	CHECK(pt_out_open(path, "unit") == 0);
	CHECK(append("a\n") == 0);	/* the lock first */
	CHECK(pt_out_write("b\n", 2) == 0);
	int fast = append("c\n");	/* 0 without membarrier(2) */
	CHECK(fast || pt_out_write("c\n", 2) == 0);
	pt_out_close();
	CHECK(append("d\n") == 0 && pt_out_write("d\n", 2) == -1);
	char *got = slurp(path, &n);
	CHECK(got && n == 4 && memcmp(got, "b\nc\n", 4) == 0);
	free(got);
	unlink(path);

	/* lines of every length around the block size, whole and in order,
	 * with nothing of what was read past them */
	char want[200 * 201 / 2 + 1], line[201];
	size_t wn = 0;
	CHECK(pt_out_open(path, "unit") == 0);
	for (int len = 1; len <= 200; len++) {
		memset(line, 'a' + len % 26, (size_t)len - 1);
		line[len - 1] = '\n';
		line[len] = 0;
		if (!append(line))
			CHECK(pt_out_write(line, (size_t)len) == 0);
		memcpy(want + wn, line, (size_t)len);
		wn += (size_t)len;
	}
	pt_out_close();
	got = slurp(path, &n);
	CHECK(got && n == wn && memcmp(got, want, wn) == 0);
	free(got);
	unlink(path);
	rmdir(dir);

	/* a failed write closes the inline append too */
	int saved = dup(2), null = open("/dev/null", O_WRONLY);
	pt_log_syslog = 0;
	dup2(null, 2);
	CHECK(pt_out_open("/dev/full", "unit") == 0);
	CHECK(pt_out_write("e\n", 2) == 0);
	append("f\n");
	pt_out_flush();		/* ENOSPC */
	CHECK(append("g\n") == 0 && pt_out_write("g\n", 2) == -1);
	pt_out_close();
	dup2(saved, 2);
	close(saved);
	close(null);
	pt_log_syslog = 1;
}

static void test_codemap(void)
{
	enum { N = 3000, OPS = 300000 };
	static struct fake_code objs[N];
	static struct pt_code *want[N];
	static char known[N];
	struct pt_code *c;
	unsigned long long rnd = 88172645463325252ull;
	size_t nknown = 0, nheld = 0;
	int bad = 0;

	pt_py.RequestCodeExtraIndex = fk_request;
	pt_py.CodeSetExtra = fk_set_extra;
	pt_py.ThreadStateGet = fk_tstate;
	pt_py.InterpreterStateHead = fk_interp_head;
	pt_py.InterpreterStateNext = fk_interp_next;
	pt_py.IncRef = fk_incref;
	pt_py.DecRef = fk_decref;
	pt_py.ErrClear = fk_err_clear;
	pt_py.layout = pt_layout(3, 13);	/* interp after prev and next */
	fk.tstate[2] = fk.interp;
	pt_codemap_start(release_code);
	CHECK(fk.free != NULL);

	/* the last-found cache forgets a freed code object */
	c = new_code();
	CHECK(pt_codemap_add((PyObject *)&objs[0], c, pt_py_thread_interp()) == 0);
	CHECK(pt_codemap_find((PyObject *)&objs[0], &c) == 1);
	CHECK(objs[0].extra == &objs[0] && objs[0].refcnt == 0);
	free_code(&objs[0]);
	CHECK(pt_codemap_find((PyObject *)&objs[0], &c) == 0);
	CHECK(pt_codemap_size() == 0);
	/* ... and so does the one found before it */
	struct pt_code *c1 = new_code(), *c2 = new_code();
	CHECK(pt_codemap_add((PyObject *)&objs[1], c1, pt_py_thread_interp()) == 0 &&
	      pt_codemap_add((PyObject *)&objs[2], c2, pt_py_thread_interp()) == 0);
	CHECK(pt_codemap_find((PyObject *)&objs[1], &c) == 1 && c == c1);
	CHECK(pt_codemap_find((PyObject *)&objs[2], &c) == 1 && c == c2);
	CHECK(pt_codemap_find((PyObject *)&objs[1], &c) == 1 && c == c1);
	free_code(&objs[2]);
	CHECK(pt_codemap_find((PyObject *)&objs[2], &c) == 0);
	CHECK(pt_codemap_find((PyObject *)&objs[1], &c) == 1 && c == c1);
	free_code(&objs[1]);
	CHECK(pt_codemap_find((PyObject *)&objs[1], &c) == 0);
	CHECK(pt_codemap_size() == 0);
	/* a third code object is found inline too, in its home slot, with
	 * its own decision; once freed, not even there */
	struct pt_code *cs[3] = { new_code(), new_code(), new_code() };
	struct fake_code *os[3];
	int n3 = 0;
	/* three whose home slots differ (the table of 1024 is empty) */
	for (size_t k = 3; k < 40 && n3 < 3; k++) {
		int clash = 0;
		for (int j = 0; j < n3; j++)
			clash |= pt_codemap_home((PyObject *)os[j], 1023) ==
				 pt_codemap_home((PyObject *)&objs[k], 1023);
		if (!clash)
			os[n3++] = &objs[k];
	}
	CHECK(n3 == 3);
	for (int k = 0; k < n3; k++)
		CHECK(pt_codemap_add((PyObject *)os[k], cs[k],
				     pt_py_thread_interp()) == 0);
	for (int k = 0; k < n3; k++)
		CHECK(pt_codemap_find((PyObject *)os[k], &c) == 1 && c == cs[k]);
	c = NULL;
	CHECK(pt_codemap_table.mask == 1023);
	CHECK(pt_codemap_recent((PyObject *)os[0], &c) == 1 && c == cs[0] &&
	      pt_codemap_last.code == (PyObject *)os[0]);
	CHECK(pt_codemap_recent((PyObject *)os[1], &c) == 1 && c == cs[1]);
	free_code(os[2]);
	CHECK(pt_codemap_recent((PyObject *)os[2], &c) == 0 &&
	      pt_codemap_find((PyObject *)os[2], &c) == 0);
	free_code(os[0]);
	free_code(os[1]);
	CHECK(pt_codemap_size() == 0);

	/* random adds, finds and deaths (runs that wrap around, removals in
	 * their middle), code objects that cannot be marked, and clears */
	for (long op = 1; op <= OPS && !bad; op++) {
		rnd ^= rnd << 13;
		rnd ^= rnd >> 7;
		rnd ^= rnd << 17;
		size_t i = (size_t)(rnd % N);
		struct fake_code *o = &objs[i];
		if (!known[i]) {
			want[i] = rnd >> 40 & 3 ? new_code() : NULL;
			o->unmarkable = (rnd >> 50) % 40 == 0;
			if (pt_codemap_add((PyObject *)o, want[i], pt_py_thread_interp()) < 0) {
				bad = 1;
				break;
			}
			known[i] = 1;
			nknown++;
			nheld += o->unmarkable;
		} else if (rnd >> 45 & 1 && !o->refcnt) {
			free_code(o);
			known[i] = 0;
			nknown--;
		} else if (!pt_codemap_find((PyObject *)o, &c) || c != want[i]) {
			bad = 1;
		}
		if (op % 100000 == 0) {
			pt_codemap_clear();
			for (size_t k = 0; k < N; k++) {
				bad |= objs[k].refcnt != 0;
				known[k] = 0;
			}
			nknown = nheld = 0;
		}
		if (op % 5000 && op % 100000 != 1)
			continue;
		for (size_t k = 0; k < N; k++) {
			int f = pt_codemap_find((PyObject *)&objs[k], &c);
			if (f != known[k] || (f && c != want[k]) ||
			    objs[k].refcnt != (known[k] && objs[k].unmarkable)) {
				printf("FAIL codemap: op %ld, object %zu: found %d "
				       "(want %d)\n", op, k, f, known[k]);
				bad = 1;
				break;
			}
		}
		if (pt_codemap_size() != nknown || pt_codemap_held() != nheld)
			bad = 1;
	}
	CHECK(!bad);
	pt_codemap_clear();
	CHECK(pt_codemap_size() == 0 && pt_codemap_held() == 0);
}

/*
 * write_records - `unit records FILE [FORMAT]`: the record file FILE,
 * written by record.c as a traced process would, from the script on
 * standard input, one command a line:
 *     thread TID              what follows is of thread TID
 *     scope MODULE QUALNAME   that thread enters a scope function
 *     line PATH LINENO...     it runs these lines of PATH
 *     fork                    a child process runs the commands up to
 *     exit                    this one; then the parent goes on after it
 * For tests/unit.bats, which replays and summarises such files.
 * Returns the exit status: 0, 1 (output failed), 2 (a bad script).
 */
static int write_records(const char *path, const char *format)
{
	static char script[256][1024];
	static struct pt_code codes[64];
	size_t ncodes = 0, nlines = 0;
	struct pt_settings s;
	struct timespec t0;
	char a[512], b[512];
	int rc = 0, n;
	long tid;

	while (nlines < 256 && fgets(script[nlines], sizeof(script[0]), stdin))
		nlines++;
	pt_settings_init(&s);
	if (!feof(stdin) || (format && env_set(&s, "format", format) < 0))
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pt_out_configure(0, 0, 0, 0600);
	if (pt_rec_start(&s, &t0) < 0 || pt_out_open(path, "unit") < 0)
		return 1;
	for (size_t l = 0; !rc && l < nlines; l++) {
		const char *cmd = script[l];
		if (strcmp(cmd, "fork\n") == 0) {
			pid_t pid = fork();
			int status;
			if (pid > 0) {
				rc = waitpid(pid, &status, 0) != pid || status != 0;
				while (l < nlines && strcmp(script[l], "exit\n") != 0)
					l++;
			}
			rc |= pid < 0;
		} else if (strcmp(cmd, "exit\n") == 0) {
			break;
		} else if (sscanf(cmd, "thread %ld", &tid) == 1) {
			pt_thread.tid = tid;
		} else if (sscanf(cmd, "scope %511s %511s", a, b) == 2) {
			rc = pt_rec_scope(a, b, pt_thread_tid()) < 0;
		} else if (sscanf(cmd, "line %511s%n", a, &n) == 1) {
			size_t i = 0;
			while (i < ncodes && strcmp(codes[i].file->path, a) != 0)
				i++;
			if (i == ncodes) {
				if (ncodes == 64 || !(codes[i].file = pt_file_get(a)))
					return 2;
				codes[ncodes++] = (struct pt_code){
					.file = codes[i].file, .module = "m",
					.function = "f" };
			}
			const char *p = cmd + n;
			char *end;
			long line;
			while (!rc && (line = strtol(p, &end, 10), end != p)) {
				rc = pt_rec_line(&codes[i], (int)line, 0) < 0;
				p = end;
			}
		} else if (cmd[0] != '\n') {
			fprintf(stderr, "unit records: not a command: %s", cmd);
			rc = 2;
		}
	}
	pt_out_close();
	pt_settings_free(&s);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "records") == 0)
		return write_records(argv[2], argc > 3 ? argv[3] : NULL);
	test_fork_without_flusher();	/* first: see there */
	test_normalize();
	test_expand();
	test_below();
	test_settings_and_rules();
	test_settings_table();
	test_scope();
	test_output_pattern();
	test_split();
	test_fline();
	test_program();
	test_format();
	test_format_scope();
	test_record_format();
	test_record_scope();
	test_record_timeline();
	test_record_roundtrip();
	test_notice();
	test_codemap();
	test_out_append();
	test_small_int();
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed != 0;
}
