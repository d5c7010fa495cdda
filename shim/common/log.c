/* SPDX-License-Identifier: MIT */
/*
 * log.c - the two ways pytrace speaks to the user, each a single line
 * "pytrace[PID]: message":
 *
 *  - pt_log, for what stops pytrace doing what it was asked (a bad
 *    setting, an output it cannot open, a build it cannot trace, a write
 *    error): on standard error with write(2), so it neither uses nor
 *    disturbs the host's stdio buffers, and to syslog, where a service's
 *    stderr may not be looked at;
 *  - pt_notice, for what pytrace tells about the program while it goes
 *    on tracing (the program's own trace function, a deep recursion, an
 *    untested version): to syslog and into the trace itself, never on
 *    standard error, which is the program's own output.  The trace gets
 *    it through a sink set once the output is open; what is said before
 *    waits for it.
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

enum {
	PT_LOG_MAX = 1024,	/* bytes of a message line, prefix included */
	PT_NOTICE_PENDING = 4,	/* notices kept until there is a sink */
};

const char *pt_log_consequence = "; not tracing";
int pt_log_syslog = 1;

/* Where notices go besides syslog, and those said before it was set. */
static struct {
	pt_notice_fn sink;
	int npending;
	struct {
		long pid;
		size_t len;
		char msg[PT_LOG_MAX];
	} pending[PT_NOTICE_PENDING];
} nt;

/* Send "<12>pytrace[pid]: message" (user.warning) to the local syslog
 * socket, if there is one.  Not openlog()/syslog(): those would change the
 * host's own syslog identity and keep a descriptor open in it. */
static void to_syslog(const char *msg, size_t len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX,
				    .sun_path = "/dev/log" };
	char buf[PT_LOG_MAX + 8];
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
		/* no syslog here: stderr or the trace has it */
	}
	close(fd);
}

/*
 * format_line - "pytrace[pid]: message" into buf[PT_LOG_MAX], without a
 * line ending: a long message keeps its start and its end (which says
 * what happens next), and control characters become '?', so that a value
 * with a newline or an escape sequence in it can neither forge other lines
 * nor drive a terminal.  Returns the length; *at is where the message
 * starts, after the prefix.
 */
static size_t format_line(char *buf, size_t *at, const char *fmt, va_list ap)
{
	char *big = NULL;
	int n = snprintf(buf, PT_LOG_MAX, "pytrace[%ld]: ", (long)getpid());
	va_list ap2;

	va_copy(ap2, ap);
	int m = vsnprintf(buf + n, PT_LOG_MAX - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	size_t len = (size_t)n + (size_t)m;
	if (len > PT_LOG_MAX - 2 && (big = malloc((size_t)m + 1))) {
		vsnprintf(big, (size_t)m + 1, fmt, ap2);
		snprintf(buf + n, PT_LOG_MAX - (size_t)n, "%.600s ... %s", big,
			 big + m - 300);
		len = strlen(buf);
		free(big);
	}
	va_end(ap2);
	if (len > PT_LOG_MAX - 2)
		len = PT_LOG_MAX - 2;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	*at = (size_t)n;
	return len;
}

/* The line of a message, already sent to syslog; its length. */
static size_t say(char *buf, size_t *at, const char *fmt, va_list ap)
{
	size_t len = format_line(buf, at, fmt, ap);

	if (pt_log_syslog)
		to_syslog(buf, len);
	return len;
}

/* Where pt_log's messages go in this thread instead of standard error
 * (pt_log_capture); NULL: standard error. */
static __thread struct { char *buf; size_t size; } capture
	__attribute__((tls_model("initial-exec")));

void pt_log_capture(char *buf, size_t size)
{
	capture.buf = buf;
	capture.size = size;
	if (buf && size)
		buf[0] = '\0';
}

void pt_log(const char *fmt, ...)
{
	char buf[PT_LOG_MAX];
	int saved = errno;
	size_t at;
	va_list ap;

	va_start(ap, fmt);
	size_t len = say(buf, &at, fmt, ap);
	va_end(ap);
	if (capture.buf) {
		if (!capture.buf[0])	/* the first one: the cause */
			snprintf(capture.buf, capture.size, "%.*s",
				 (int)(len - at), buf + at);
		errno = saved;
		return;
	}
	buf[len++] = '\n';
	/* Best effort: nothing useful can be done if stderr is gone. */
	ssize_t r = write(2, buf, len);
	(void)r;
	errno = saved;
}

void pt_notice(const char *fmt, ...)
{
	char buf[PT_LOG_MAX];
	int saved = errno;
	size_t at;
	va_list ap;

	va_start(ap, fmt);
	size_t len = say(buf, &at, fmt, ap);
	va_end(ap);
	if (nt.sink) {
		nt.sink((long)getpid(), buf + at, len - at);
	} else if (nt.npending < PT_NOTICE_PENDING) {
		/* more than that before the output opens: syslog has them */
		nt.pending[nt.npending].pid = (long)getpid();
		nt.pending[nt.npending].len = len - at;
		memcpy(nt.pending[nt.npending].msg, buf + at, len - at);
		nt.npending++;
	}
	errno = saved;
}

void pt_notice_sink(pt_notice_fn sink)
{
	nt.sink = sink;
	for (int i = 0; sink && i < nt.npending; i++)
		sink(nt.pending[i].pid, nt.pending[i].msg, nt.pending[i].len);
	if (sink)
		nt.npending = 0;
}
