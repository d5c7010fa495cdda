/* SPDX-License-Identifier: MIT */
/*
 * program.c - name the program a Python process runs, and select it.
 *
 * Services start Python children (rootwrap, privsep daemons, helpers) that
 * inherit LD_PRELOAD; `programs` keeps tracing to the ones a user names.
 * On 3.8+ the start hook knows the script from the cpython.run_file event;
 * otherwise the command line is read as the interpreter reads it.
 */
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "path.h"
#include "program.h"

static const char *base(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

void pt_program_set(struct pt_program *p, const char *name, const char *path)
{
	p->kind = PT_PROG_OTHER;
	snprintf(p->name, sizeof(p->name), "%s", name);
	snprintf(p->path, sizeof(p->path), "%s", path);
}

int pt_program_from_argv(int argc, char *const *argv, const char *exe,
			 const char *cwd, struct pt_program *p)
{
	pt_program_set(p, argc > 0 ? base(argv[0]) : "python", exe);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || a[1] == '\0') {
			/* the script, or "-" for standard input */
			if (strcmp(a, "-") == 0)
				return 0;
			char abs[PATH_MAX];
			if (pt_path_normalize(a, cwd, abs, sizeof(abs)) < 0)
				snprintf(abs, sizeof(abs), "%s", a);
			pt_program_set(p, base(a), abs);
			p->kind = PT_PROG_SCRIPT;
			return 0;
		}
		if (strcmp(a, "--") == 0) {
			if (i + 1 < argc && strcmp(argv[i + 1], "-") != 0) {
				char abs[PATH_MAX];
				if (pt_path_normalize(argv[i + 1], cwd, abs,
						      sizeof(abs)) < 0)
					snprintf(abs, sizeof(abs), "%s", argv[i + 1]);
				pt_program_set(p, base(argv[i + 1]), abs);
				p->kind = PT_PROG_SCRIPT;
			}
			return 0;
		}
		if (a[1] == '-') {
			if (strcmp(a, "--check-hash-based-pycs") == 0) {
				i++;
				continue;
			}
			return -1;	/* --version, --help */
		}
		/* a cluster of short options: -OOu, -Wd, -c CMD, -mMOD */
		for (const char *c = a + 1; *c; c++) {
			const char *arg = c[1] ? c + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
			if (*c == 'c')
				return arg ? 0 : -1;
			if (*c == 'm') {
				if (!arg)
					return -1;
				snprintf(p->name, sizeof(p->name), "%s", arg);
				p->kind = PT_PROG_MODULE;
				return 0;
			}
			if (*c == 'h' || *c == 'V')
				return -1;
			if (strchr("WXQ", *c)) {
				if (!c[1])
					i++;
				break;
			}
		}
	}
	return 0;	/* interactive */
}

int pt_program_from_proc(struct pt_program *p)
{
	static char buf[32768];
	char *argv[256], exe[PATH_MAX], cwd[PATH_MAX];
	int argc = 0, fd;
	ssize_t n, len = 0;

	fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (len < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - (size_t)len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	for (char *s = buf; s < buf + len && argc < 255; s += strlen(s) + 1)
		argv[argc++] = s;
	argv[argc] = NULL;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	return pt_program_from_argv(argc, argv, exe, cwd, p);
}

int pt_program_selected(const struct pt_settings *s, const struct pt_program *p)
{
	if (s->programs.n == 0)
		return 1;
	for (size_t i = 0; i < s->programs.n; i++)
		if (fnmatch(s->programs.v[i], p->name, 0) == 0 ||
		    fnmatch(s->programs.v[i], p->path, 0) == 0)
			return 1;
	return 0;
}
