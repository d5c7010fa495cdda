/* SPDX-License-Identifier: MIT */
/*
 * fuzz.c - libFuzzer target for everything that parses user input: the
 * environment's values for every setting, the configuration file (libconfig
 * and pytrace's checks of what it read), the output pattern, the format,
 * path expansion and normalisation, record files as `pytrace replay` and
 * `pytrace summary` read them.  `make fuzz` runs it for a bounded
 * time; a crash, a leak or undefined behaviour fails it.
 *
 * Input: byte 0 picks what is fed, byte 1 a setting; the rest is the text.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "format.h"
#include "path.h"
#include "pattern.h"
#include "pytrace.h"
#include "recread.h"
#include "settings.h"

/* Record events are only decoded, never used. */
static void no_event(const struct pt_rd_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_settings s;
	char text[8192], out[PATH_MAX];
	const char *bad;

	if (size < 2)
		return 0;
	size_t n = size - 2 < sizeof(text) - 1 ? size - 2 : sizeof(text) - 1;
	memcpy(text, data + 2, n);
	text[n] = '\0';
	pt_log_syslog = 0;

	switch (data[0] % 5) {
	case 0: {	/* a setting from the environment */
		char var[64];
		int id = data[1] % pt_settings_count();
		pt_settings_init(&s);
		pt_setting_env_name(id, var, sizeof(var));
		setenv(var, text, 1);
		pt_settings_from_env(&s);
		unsetenv(var);
		pt_settings_free(&s);
		break;
	}
	case 1: {	/* a configuration file */
		char path[] = "/tmp/pytrace-fuzz.XXXXXX";
		int fd = mkstemp(path);
		if (fd < 0)
			return 0;
		if (write(fd, data + 1, size - 1) < 0) {
			/* an unwritten file is still a file to read */
		}
		close(fd);
		pt_settings_init(&s);
		pt_conf_load(&s, path);
		pt_settings_free(&s);
		unlink(path);
		break;
	}
	case 2: {	/* output pattern and format */
		struct pt_out_vars v = { "prog", 42, "host", 0 };
		struct pt_format f;
		char err[512];
		pt_out_expand(text, &v, out, sizeof(out), &bad);
		pt_format_compile(text, &f, err, sizeof(err));
		break;
	}
	case 4: {	/* a record file: mutations of the corpus's real
			 * ones reach the records past the headers' checks */
		struct pt_rd rd = { "fuzz", no_event, NULL, NULL, 0 };
		FILE *f = fmemopen((void *)(data + 1), size - 1, "r");
		if (f) {
			pt_rd_stream(&rd, f, "input");
			fclose(f);
		}
		break;
	}
	case 3:		/* paths */
		if (pt_path_expand(text, out, sizeof(out)) >= 0) {
			char norm[PATH_MAX];
			pt_path_normalize(out, "/srv/app", norm, sizeof(norm));
		}
		break;
	}
	return 0;
}
