/* SPDX-License-Identifier: MIT */
/*
 * pattern.h - the output path pattern: %p, %n, %h, %t and %%.
 */
#ifndef PYTRACE_PATTERN_H
#define PYTRACE_PATTERN_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* What the tokens of an output pattern stand for. */
struct pt_out_vars {
	const char *progname;	/* %n */
	long pid;		/* %p */
	const char *host;	/* %h */
	time_t start;		/* %t, as YYYYmmdd-HHMMSS, local time */
};

/*
 * pt_out_expand - expand the output pattern: %p the pid, %n the program
 * name, %h the host name, %t the process start time, %% a percent sign.
 * Returns the length, -ENAMETOOLONG, or -EINVAL for any other "%x" (with
 * *bad pointing at it).
 */
ssize_t pt_out_expand(const char *pattern, const struct pt_out_vars *v,
		      char *out, size_t size, const char **bad);

#endif
