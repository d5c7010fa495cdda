/* SPDX-License-Identifier: MIT */
/*
 * tracing.c - tracing on or off: the line writer (trace.c) and the back
 * end that feeds it, started and stopped together.
 *
 * This is the one file that knows every back end (backend.h): it keeps
 * the first that starts, cheapest first, and hands it what concerns it:
 * new interpreters (subinterp.c), the audit events it asked for, the
 * modules the line writer sees, and its stop.
 *
 * The writer stops by itself when the output fails or the line limit is
 * reached, inside whatever event found it; the back end cannot be taken
 * down there (it may be running that very callback), so it is stopped at
 * the next safe point: a pending call run by the main thread, or what the
 * control channel says (pt_tracing_when_stopped).  Until then every event
 * returns at once.
 */
#include <stddef.h>
#include <string.h>

#include "backend.h"
#include "pyapi.h"
#include "rules.h"
#include "scoped.h"
#include "scopes.h"
#include "state.h"
#include "subinterp.h"
#include "trace.h"
#include "tracing.h"

/* The back ends, cheapest first, and the one that runs. */
static const struct pt_backend *const backends[] = {
	&pt_backend_monitor, &pt_backend_eval, &pt_backend_profile,
	&pt_backend_settrace,
};
static const struct pt_backend *be;
/* The one that ran last, after stop (pt_tracing_leave_thread). */
static const struct pt_backend *last;

static struct {
	int interp_started;	/* subinterp.c knows where tracing started */
	void (*when_stopped)(void);
} tg;

/* The line writer saw a module's code for the first time. */
static void module_seen(const char *name, PyObject *globals)
{
	if (be && be->module)
		be->module(name, globals);
}

/* A pending call: stop, in the main thread, at a point where the
 * interpreter runs no callback of the back end. */
static int stop_pending(void *arg)
{
	(void)arg;
	pt_tracing_stop();
	return 0;
}

/* The writer stopped by itself (see the top). */
static void stopped(void)
{
	if (tg.when_stopped)
		tg.when_stopped();
	else if (pt_py.AddPendingCall)
		pt_py.AddPendingCall(stop_pending, NULL);
}

/* A new interpreter, with the back end of the first (subinterp.c). */
static int set_up_interp(void)
{
	return be && !pt_state.stopped ? be->interp() : -1;
}

int pt_tracing_start(const struct pt_trace_setup *set)
{
	struct pt_trace_setup s = *set;

	s.module = module_seen;
	s.stopped = stopped;
	pt_py_untested_notice();
	if (pt_trace_start(&s) < 0)
		return -1;
	pt_scoped_start(set->s);
	pt_state.traces_all = pt_rules_none(set->rules) && !pt_scoped.on;
	if (!tg.interp_started) {
		tg.interp_started = 1;
		pt_interp_start();
	}
	pt_state.stopped = 0;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (backends[i]->start() != 0)
			continue;
		be = backends[i];
		if (pt_state.audit_hooks && be->audit)
			be->audit("sys.addaudithook");
		pt_interp_watch(set_up_interp);
		return 0;
	}
	pt_trace_stop();
	return -1;
}

void pt_tracing_stop(void)
{
	pt_scopes_stop();	/* its notices go into the trace */
	pt_state.stopped = 1;
	if (be) {
		be->stop();
		last = be;
		be = NULL;
	}
	pt_scoped_stop();
	pt_trace_stop();
}

void pt_tracing_audit(const char *event)
{
	if (event[0] != 's')
		return;
	if (strcmp(event, "sys.addaudithook") == 0)
		pt_state.audit_hooks = 1;
	else if (strcmp(event, "sys.settrace") != 0)
		return;
	if (be && be->audit)
		be->audit(event);
}

void pt_tracing_leave_thread(void)
{
	const struct pt_backend *b = be ? be : last;

	if (b && b->leave)
		b->leave();
}

void pt_tracing_when_stopped(void (*fn)(void))
{
	tg.when_stopped = fn;
}
