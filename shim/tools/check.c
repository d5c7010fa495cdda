/* SPDX-License-Identifier: MIT */
/*
 * check.c - pytrace-check [FILE]: what a traced process would use.
 *
 * Reads the settings as a traced process does (defaults, the configuration
 * file: FILE, else $PYTRACE_CONF, else the default file if it exists; then
 * the environment), reports every problem, and prints each effective
 * setting in the file's syntax with where it came from.  Exits 1 when
 * anything is wrong: the same problems make a traced process run untraced.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "pytrace.h"
#include "rules.h"
#include "settings.h"

int main(int argc, char **argv)
{
	struct pt_settings s;
	struct pt_rules r;
	const char *file;
	char cwd[4096], value[8192];
	int rc;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: pytrace-check [FILE]\n");
		return 2;
	}
	pt_log_consequence = "";
	pt_log_syslog = 0;
	rc = pt_conf_resolve(&s, argc == 2 ? argv[1] : NULL, &file);
	if (rc == 0 && getcwd(cwd, sizeof(cwd)) &&
	    pt_rules_build(&r, &s, cwd) == 0)
		pt_rules_free(&r);
	else if (rc == 0)
		rc = -1;
	printf("# configuration file: %s\n", file ? file : "none");
	for (int i = 0; i < pt_settings_count(); i++) {
		char line[8300];
		pt_settings_format(&s, i, value, sizeof(value));
		snprintf(line, sizeof(line), "%s = %s;", pt_setting_name(i), value);
		printf("%-40s # %s\n", line, s.origin[i] ? s.origin[i] : "?");
	}
	if (rc < 0)
		printf("# errors: a traced process would run untraced\n");
	pt_settings_free(&s);
	return rc < 0 ? 1 : 0;
}
