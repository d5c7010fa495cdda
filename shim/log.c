/* SPDX-License-Identifier: MIT */
/*
 * log.c - the one way pytrace speaks to the user: a single line
 * "pytrace[PID]: message" written to standard error with write(2), so it
 * neither uses nor disturbs the host's stdio buffers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "pytrace.h"

void pt_log(const char *fmt, ...)
{
	char buf[1024];
	int saved = errno;
	int n = snprintf(buf, sizeof(buf), "pytrace[%ld]: ", (long)getpid());
	va_list ap;

	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';
	/* Best effort: nothing useful can be done if stderr is gone. */
	ssize_t r = write(2, buf, len);
	(void)r;
	errno = saved;
}
