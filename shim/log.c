/* SPDX-License-Identifier: MIT */
/*
 * log.c - the one way pytrace speaks to the user: a single line
 * "pytrace[PID]: message" written to standard error with write(2), so it
 * neither uses nor disturbs the host's stdio buffers, and sent to syslog,
 * where a service's stderr may not be looked at.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "pytrace.h"

const char *pt_log_consequence = "; not tracing";
int pt_log_syslog = 1;

/* Send "<12>pytrace[pid]: message" (user.warning) to the local syslog
 * socket, if there is one.  Not openlog()/syslog(): those would change the
 * host's own syslog identity and keep a descriptor open in it. */
static void to_syslog(const char *msg, size_t len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX,
				    .sun_path = "/dev/log" };
	char buf[1100];
	int fd, n;

	n = snprintf(buf, sizeof(buf), "<12>%.*s", (int)len, msg);
	if (n <= 0)
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1,
		   MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&addr,
		   sizeof(addr)) < 0) {
		/* no syslog here: stderr has it */
	}
	close(fd);
}

void pt_log(const char *fmt, ...)
{
	char buf[1024], *big = NULL;
	int saved = errno;
	int n = snprintf(buf, sizeof(buf), "pytrace[%ld]: ", (long)getpid());
	va_list ap, ap2;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof(buf) - 2 && (big = malloc((size_t)m + 1))) {
		/* A long value in the message: keep its start and its end,
		 * which says what happens next. */
		vsnprintf(big, (size_t)m + 1, fmt, ap2);
		snprintf(buf + n, sizeof(buf) - (size_t)n, "%.600s ... %s", big,
			 big + m - 300);
		len = strlen(buf);
		free(big);
	}
	va_end(ap2);
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	/* One message is one line: a value with a newline or an escape
	 * sequence in it must not forge others or drive a terminal. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	if (pt_log_syslog)
		to_syslog(buf, len);
	buf[len++] = '\n';
	/* Best effort: nothing useful can be done if stderr is gone. */
	ssize_t r = write(2, buf, len);
	(void)r;
	errno = saved;
}
