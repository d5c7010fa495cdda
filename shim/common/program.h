/* SPDX-License-Identifier: MIT */
/*
 * program.h - which program a Python process runs, for `programs` and %n.
 */
#ifndef PYTRACE_PROGRAM_H
#define PYTRACE_PROGRAM_H

#include <stddef.h>

#include "settings.h"

/* What the interpreter was asked to run. */
struct pt_program {
	enum { PT_PROG_OTHER, PT_PROG_SCRIPT, PT_PROG_MODULE } kind;
	char name[256];		/* script basename, module name, or the
				 * interpreter's name for -c and stdin */
	char path[4096];	/* the script's absolute path, or the
				 * interpreter's (/proc/self/exe) */
};

/*
 * pt_program_from_argv - read a Python command line the way the
 * interpreter does: options (-c CMD and -m MOD end them; -W, -X, -Q and
 * --check-hash-based-pycs take an argument), then the script.  `exe` is
 * the interpreter's path, `cwd` resolves a relative script.  Returns 0, or
 * -1 when there is no program to run (--version, -h).
 */
int pt_program_from_argv(int argc, char *const *argv, const char *exe,
			 const char *cwd, struct pt_program *p);

/*
 * pt_program_from_proc - the same for this process (/proc/self/cmdline).
 */
int pt_program_from_proc(struct pt_program *p);

/* pt_program_set - fill p from a known name and path (hooks that know). */
void pt_program_set(struct pt_program *p, const char *name, const char *path);

/*
 * pt_program_selected - true when `programs` is empty or one of its glob
 * patterns matches p's name or full path.
 */
int pt_program_selected(const struct pt_settings *s, const struct pt_program *p);

#endif
