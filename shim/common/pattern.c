/* SPDX-License-Identifier: MIT */
/*
 * pattern.c - expand the output path pattern, for the writer (output.c)
 * and for checking a setting before any process uses it (settings.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pattern.h"

ssize_t pt_out_expand(const char *pattern, const struct pt_out_vars *v,
		      char *dst, size_t size, const char **bad)
{
	size_t len = 0;

	for (const char *p = pattern; *p; p++) {
		char tmp[32];
		const char *s = p;
		size_t n = 1;

		if (*p == '%') {
			p++;
			if (*p == '%') {
				s = "%";
			} else if (*p == 'p') {
				n = (size_t)snprintf(tmp, sizeof(tmp), "%ld", v->pid);
				s = tmp;
			} else if (*p == 'n') {
				s = v->progname;
				n = strlen(s);
			} else if (*p == 'h') {
				s = v->host;
				n = strlen(s);
			} else if (*p == 't') {
				struct tm tm;
				localtime_r(&v->start, &tm);
				n = strftime(tmp, sizeof(tmp), "%Y%m%d-%H%M%S", &tm);
				s = tmp;
			} else {
				if (bad)
					*bad = p - 1;
				return -EINVAL;
			}
		}
		if (len + n + 1 > size)
			return -ENAMETOOLONG;
		memcpy(dst + len, s, n);
		len += n;
	}
	dst[len] = '\0';
	return (ssize_t)len;
}
