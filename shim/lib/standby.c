/* SPDX-License-Identifier: MIT */
/*
 * standby.c - a process in standby (start = "standby"): untraced, at its
 * dormant cost, until `pytrace on` switches tracing on; `pytrace off`
 * switches it off again, as often as asked.
 *
 * The commands arrive in the control thread (control.c), which takes the
 * GIL the way the interpreter offers threads it did not create
 * (PyGILState_Ensure) and switches there: every thread is reached from
 * its next line (tracing.c, backend.h), and a main thread blocked in a
 * system call (an eventlet hub in epoll_wait, time.sleep) delays nothing,
 * since it does not hold the GIL.  2.7 and 3.6 make their GIL only when a
 * thread starts: standby makes it first, in the main thread.
 *
 * `on` reads the process's settings anew (its configuration file, its
 * environment) with what the command gives over them; `for=` and `lines=`
 * switch off by themselves (a deadline of the control thread; the line
 * writer's limit).  When the writer stops by itself (that limit, a full
 * disk), the control thread is woken to switch off.
 *
 * The line writer keeps pointers to the settings and rules it was started
 * with, so each `on` builds them in the one of two slots not in use, and
 * what it replaces was last used two switches before.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "control.h"
#include "output.h"
#include "pyapi.h"
#include "pytrace.h"
#include "rules.h"
#include "standby.h"
#include "state.h"
#include "tracing.h"

enum sw { SW_STANDBY, SW_ON, SW_OFF };
static const char *const sw_names[] = { "standby", "on", "off" };

static struct {
	enum sw state;
	time_t since;		/* wall clock of the last switch */
	const char *cwd;	/* start-up's: resolves relative names */
	char *progname;		/* start-up's %n */
	struct {
		struct pt_settings s;
		struct pt_rules r;
		int used;
	} slot[2];
	int cur;		/* the slot the writer was last started with */
} sb;

static time_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* `src` into `dst` with TAB and control characters made '?': a value of
 * a reply field. */
static void clean(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src[i] && i + 1 < size; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? '?' : src[i];
	dst[i] = '\0';
}

/* The fields of a reply: the state now and before, since when, the lines
 * written and the trace file (`output`, or the writer's now). */
static void describe(char *reply, size_t size, enum sw was, const char *output)
{
	char path[4096], out[4096];

	if (!output) {
		pt_out_path(path, sizeof(path));
		output = path;
	}
	clean(out, sizeof(out), output);
	snprintf(reply, size, "state=%s\twas=%s\tsince=%lld\tlines=%llu\toutput=%s",
		 sw_names[sb.state], sw_names[was], (long long)sb.since,
		 pt_state.lines, out);
}

/* Refuse, with `why` (cleaned) as the reply. */
static int refuse(char *reply, size_t size, const char *why)
{
	char w[1024];

	clean(w, sizeof(w), why);
	snprintf(reply, size, "why=%s", w);
	return -1;
}

/* A positive integer, or 0. */
static unsigned long long positive(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	return *s >= '0' && *s <= '9' && !*end ? v : 0;
}

/* Switch off (with the GIL); the state before. */
static enum sw switch_off(void)
{
	enum sw was = sb.state;

	if (was == SW_ON) {
		pt_tracing_stop();
		sb.state = SW_OFF;
		sb.since = time(NULL);
		pt_control_deadline(0);
	}
	return was;
}

/*
 * start - switch on with the settings in `vars`, over the process's own
 * (`conf`: its configuration file instead, NULL: its own).  With the GIL.
 * 0, or -1 with why in `why`.
 */
static int start(char *const *vars, int n, const char *conf,
		 unsigned long long lines, char *why, size_t whysize)
{
	int k = !sb.cur, rc;
	const char *used;

	if (sb.slot[k].used) {
		pt_rules_free(&sb.slot[k].r);
		pt_settings_free(&sb.slot[k].s);
		sb.slot[k].used = 0;
	}
	pt_log_capture(why, whysize);
	rc = pt_conf_resolve_with(&sb.slot[k].s, conf, &used, vars, n);
	sb.slot[k].used = 1;
	if (rc == 0 && !sb.slot[k].s.enabled) {
		snprintf(why, whysize, "its settings say enabled = false");
		rc = -1;
	}
	if (rc == 0 && pt_rules_build(&sb.slot[k].r, &sb.slot[k].s, sb.cwd) < 0)
		rc = -1;
	if (rc == 0) {
		struct pt_trace_setup set = {
			.rules = &sb.slot[k].r, .s = &sb.slot[k].s, .cwd = sb.cwd,
			.progname = sb.progname, .from = PT_FROM_NOW,
			.max_lines = lines,
		};
		rc = pt_tracing_start(&set);
	}
	pt_log_capture(NULL, 0);
	if (rc == 0)
		sb.cur = k;
	else if (!why[0])
		snprintf(why, whysize, "tracing could not start");
	return rc;
}

static int on(char *const *fields, int n, char *reply, size_t size)
{
	char *vars[64], why[1024] = "";
	const char *conf = NULL;
	unsigned long long secs = 0, lines = 0;
	int nvars = 0, rc;

	for (int i = 0; i < n; i++) {
		if (strncmp(fields[i], "for=", 4) == 0) {
			if (!(secs = positive(fields[i] + 4)))
				return refuse(reply, size, "for= needs a number of seconds");
		} else if (strncmp(fields[i], "lines=", 6) == 0) {
			if (!(lines = positive(fields[i] + 6)))
				return refuse(reply, size, "lines= needs a number of lines");
		} else if (strncmp(fields[i], "PYTRACE_CONF=", 13) == 0) {
			conf = fields[i] + 13;
		} else if (strncmp(fields[i], "PYTRACE_", 8) == 0 && nvars < 64) {
			vars[nvars++] = fields[i];
		} else {
			snprintf(why, sizeof(why), "unknown field '%.60s'", fields[i]);
			return refuse(reply, size, why);
		}
	}
	if (pt_py.IsFinalizing && pt_py.IsFinalizing())
		return refuse(reply, size, "the interpreter is finalising");
	int gil = pt_py.GILStateEnsure();
	enum sw was = sb.state;
	rc = 0;
	if (was != SW_ON) {
		rc = start(vars, nvars, conf, lines, why, sizeof(why));
		if (rc == 0) {
			sb.state = SW_ON;
			sb.since = time(NULL);
			pt_control_deadline(secs ? mono() + (time_t)secs : 0);
		}
	}
	if (rc == 0)
		describe(reply, size, was, NULL);
	pt_tracing_leave_thread();
	pt_py.GILStateRelease(gil);
	return rc == 0 ? 0 : refuse(reply, size, why);
}

static int off(char *reply, size_t size)
{
	char path[4096];

	if (pt_py.IsFinalizing && pt_py.IsFinalizing())
		return refuse(reply, size, "the interpreter is finalising");
	int gil = pt_py.GILStateEnsure();
	pt_out_path(path, sizeof(path));	/* the file, before it closes */
	enum sw was = switch_off();
	describe(reply, size, was, path);
	pt_py.GILStateRelease(gil);
	return 0;
}

static int status(char *reply, size_t size)
{
	describe(reply, size, sb.state, NULL);
	return 0;
}

/* for= ran out, or the writer stopped by itself: switch off. */
static void expire(void)
{
	if (sb.state != SW_ON || (pt_py.IsFinalizing && pt_py.IsFinalizing()))
		return;
	int gil = pt_py.GILStateEnsure();
	switch_off();
	pt_py.GILStateRelease(gil);
}

static const struct pt_control_ops ops = { on, off, status, expire,
					   pt_out_prepare };

void pt_standby(const char *cwd, char *progname, int late)
{
	int lazy_gil = pt_py.major == 2 || (pt_py.major == 3 && pt_py.minor <= 6);

	if (!pt_py.GILStateEnsure || !pt_py.GILStateRelease) {
		pt_log("this Python has no PyGILState_Ensure: standby is not "
		       "possible; not tracing");
		return;
	}
	if (lazy_gil && late && (!pt_py.EvalThreadsInitialized ||
				 !pt_py.EvalThreadsInitialized())) {
		/* no GIL yet, and only the thread that runs Python may make it */
		pt_log("Python %d.%d makes its GIL when a thread starts, and this "
		       "process has started none: pytrace cannot switch it on "
		       "safely; not tracing", pt_py.major, pt_py.minor);
		return;
	}
	if (lazy_gil && !late && pt_py.EvalInitThreads)
		pt_py.EvalInitThreads();	/* see the top */
	sb.cwd = cwd;
	sb.progname = progname;
	sb.state = SW_STANDBY;
	sb.since = time(NULL);
	pt_tracing_when_stopped(pt_control_wake);
	pt_control_start(&ops);
}
