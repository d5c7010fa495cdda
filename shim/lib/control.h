/* SPDX-License-Identifier: MIT */
/*
 * control.h - the control channel of a process in standby: a thread of
 * the library's that answers `pytrace on`, `off` and `status`.
 */
#ifndef PYTRACE_CONTROL_H
#define PYTRACE_CONTROL_H

#include <stddef.h>
#include <time.h>

/* What the commands do (start.c); each is called in the listener thread,
 * one at a time.  `reply` receives the reply's key=value fields, TAB
 * separated (see control.c); the return value is 0 (the reply begins
 * "ok") or -1 ("refused", and the fields hold why=). */
struct pt_control_ops {
	int (*on)(char *const *fields, int n, char *reply, size_t size);
	int (*off)(char *reply, size_t size);
	int (*status)(char *reply, size_t size);
	/* the deadline passed, or pt_control_wake was called */
	void (*expire)(void);
	/* once, first thing in the listener thread: work it may do for the
	 * commands to come, off the service's threads */
	void (*prepare)(void);
};

/*
 * pt_control_start - listen for commands: bind the abstract socket
 * "pytrace/<pid>" and start the listener thread (it takes no signal, and
 * runs no Python code but through `ops`).  Returns 0, or -1 after one
 * message (the process then runs on without a channel).
 */
int pt_control_start(const struct pt_control_ops *ops);

/* pt_control_deadline - call ops->expire at `when` (CLOCK_MONOTONIC
 * seconds; 0: never). */
void pt_control_deadline(time_t when);

/* pt_control_wake - have the listener call ops->expire soon.  Any thread,
 * inside any callback: one write(2) to a pipe. */
void pt_control_wake(void);

/* pt_control_wanted - 1 while the listener waits for pt_control_restart
 * after a fork: a child's own (under its pid), or the parent's (3.12+). */
extern volatile int pt_control_wanted;

/* pt_control_restart - with Python running normally again after a fork
 * (an audit event, PyOS_AfterFork_Child or _Parent, a pending call):
 * listen again.  Cheap when pt_control_wanted is 0. */
void pt_control_restart(void);

/* pt_control_pyfork - the "os.fork" audit event: the child to come runs
 * Python, and listens at once. */
void pt_control_pyfork(void);

#endif
