/* SPDX-License-Identifier: MIT */
/*
 * state.h - what every part of the library reads about tracing: the
 * process's state (struct pt_state) and each thread's (struct pt_thread).
 *
 * Both live here, below everything else in shim/lib, so that the line
 * writer, the back ends and the interpreter registry share them without
 * depending on each other.  The per-thread struct is one thread-local
 * object (initial-exec: the library is loaded at start-up, and each access
 * stays a plain load with no call into the dynamic loader).  In a forked
 * child every field stays true of its one thread (the same stack, the
 * same thread state) but its id, which state.c resets with the pid.
 */
#ifndef PYTRACE_STATE_H
#define PYTRACE_STATE_H

#include <pthread.h>
#include <stdint.h>

/* Tracing in this process.  Written with the GIL held (stopped: by any
 * thread that finds the output failed), read by every event. */
struct pt_state {
	/* Nothing more is written: the output failed, the line limit was
	 * reached, or tracing was switched off.  Back ends return at once,
	 * and take themselves down (backend.h, stop). */
	volatile int stopped;
	/* The main program has not started: back ends ask the line writer
	 * (pt_trace_ready) on every event. */
	int waiting;
	/* call_lines is on: back ends report calls (pt_trace_call). */
	int call_lines;
	/* The format has {indent}: back ends keep the call depth. */
	int needs_depth;
	/* timeline is on (record mode): back ends report each frame of
	 * traced code starting and ending (pt_trace_enter/leave). */
	int timeline;
	/* The output is text in the default format: a line is a copy of
	 * the one source.c made (pt_trace_line). */
	int plain;
	/* The output is records (output_mode = "record"; record.c). */
	int record;
	/* Nothing can be ignored: no ignore rule, no include pattern, no
	 * scope; every code object with a module file is traced.  Back ends
	 * that follow calls to skip ignored code need not (follow.c). */
	int traces_all;
	/* The program added an audit hook (sys.addaudithook, 3.8+): it may
	 * run Python code at any audited call pytrace makes. */
	int audit_hooks;
	/* Lines written since tracing started, and the count at which it
	 * stops (~0: never). */
	unsigned long long lines, lines_stop;
};

extern struct pt_state pt_state;

/* One thread.  Each field is owned by one file, named beside it. */
struct pt_thread {
	/* Call depth (pt_thread_enter/leave), kept only when the format has
	 * {indent}. */
	long depth;
	/* The kernel's id of this thread, 0 until asked (pt_thread_tid). */
	long tid;
	/* follow.c: pytrace's trace function is set in this thread (on);
	 * somebody else's is (foreign: hands off); pytrace itself is
	 * setting it (setting: the audit event that raises is its own). */
	int on, foreign, setting;
	/* follow.c: with several interpreters a thread runs several thread
	 * states; on and foreign describe `tstate`, while pt_interp_gen was
	 * `gen`. */
	void *tstate;
	unsigned gen;
	/* follow.c: the lowest stack address eval() may run at; 0: not
	 * known yet. */
	uintptr_t stack_floor;
	/* settrace.c: this thread runs pytrace's trace function (as far as
	 * pytrace knows). */
	int traced;
	/* subinterp.c: a wrapper of Py_NewInterpreter* runs (creating);
	 * pytrace is setting up or looking at an interpreter (busy); the
	 * interpreter last found known and pt_interp_gen then (seen,
	 * seen_gen); the interpreter Py_EndInterpreter's wrapper ends. */
	int creating, busy;
	void *seen;
	unsigned seen_gen;
	void *ending;
	/* control.c: this thread is in os.fork() (its audit event came). */
	int pyfork;
	/* output.c: this thread writes lines, and has the value whose
	 * destructor stops the flusher when the last writer ends. */
	int watched;
	/* scoped.c: the last frame whose scope this thread asked or told,
	 * its depth and scope, valid while sgen is scoped.c's generation
	 * (most line events are in the frame asked last) */
	const void *skey, *sroot;
	int sdepth;
	unsigned sgen;
	/* scoped.c: this thread's newest frame in the table, the frame
	 * stack it runs on and its scope, while stopgen is scoped.c's
	 * generation */
	const void *stop, *stop_stack, *stop_root;
	unsigned stopgen;
	/* scoped.c: the callers' places of this thread's calls, for
	 * pt_scoped_push and pt_scoped_pop (malloc'd; NULL: none yet) */
	void *calls;
};

extern __thread struct pt_thread pt_thread
	__attribute__((tls_model("initial-exec")));

/* pt_thread_enter, pt_thread_leave - a Python frame of this thread starts
 * or ends: the one pair that keeps the call depth, for {indent}. */
static inline void pt_thread_enter(void)
{
	pt_thread.depth += pt_state.needs_depth;
}

static inline void pt_thread_leave(void)
{
	pt_thread.depth -= pt_state.needs_depth;
}

/*
 * pt_thread_create_own - start one of the library's own threads (the
 * flusher, the control listener), with default attributes: through
 * libc's pthread_create, not the library's (threadstart.c), and counted
 * apart from the program's (pt_threads_only_own).
 */
int pt_thread_create_own(pthread_t *thread, void *(*fn)(void *), void *arg);

/* pt_threads_only_own - true when the process runs no thread but the
 * calling one and the library's own; false when unsure. */
int pt_threads_only_own(void);

/* pt_libc_pthread_create - libc's pthread_create (EAGAIN when it cannot
 * be found). */
int pt_libc_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			   void *(*fn)(void *), void *arg);

/* pt_pthread_create_interposed - the process's pthread_create is the
 * library's (threadstart.c, preloaded): every thread that the program
 * or its libraries create from now on is told first. */
int pt_pthread_create_interposed(void);

/* pt_thread_tid - the kernel's id of the calling thread, asked once (and
 * again in a forked child, whose thread has another id). */
long pt_thread_tid(void);

/*
 * pt_thread_join - join one of the library's threads, which stored its
 * pt_thread_tid() in *tid, and wait (up to 100 ms) until the kernel no
 * longer counts it either.  pthread_join returns when the thread cleared
 * its id, before the kernel drops it from the process: for that moment
 * /proc/self/stat still counts it, and CPython 3.12+ reads that count
 * after os.fork() to warn of a fork with threads.
 */
void pt_thread_join(pthread_t thread, const long *tid);

/* pt_state_pid - this process's id, asked once (and again after fork). */
long pt_state_pid(void);

#endif
