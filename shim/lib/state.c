/* SPDX-License-Identifier: MIT */
/*
 * state.c - the process's and each thread's tracing state (state.h).
 */
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "state.h"

struct pt_state pt_state;
__thread struct pt_thread pt_thread __attribute__((tls_model("initial-exec")));

static long pid;	/* this process's id, 0 until asked */

/* The child's only thread is the one that forked, under another id. */
static void after_fork_child(void)
{
	pt_thread.tid = 0;
	pid = 0;
}

static void watch_fork(void)
{
	pthread_atfork(NULL, NULL, after_fork_child);
}

static pthread_once_t watching = PTHREAD_ONCE_INIT;

long pt_thread_tid(void)
{
	if (!pt_thread.tid) {
		pthread_once(&watching, watch_fork);
		pt_thread.tid = (long)syscall(SYS_gettid);
	}
	return pt_thread.tid;
}

long pt_state_pid(void)
{
	if (!pid) {
		pthread_once(&watching, watch_fork);
		pid = (long)getpid();
	}
	return pid;
}

void pt_thread_join(pthread_t thread, const long *tid)
{
	long id;

	if (pthread_join(thread, NULL) != 0 || (id = *tid) <= 0)
		return;
	for (int i = 0; i < 1100; i++) {
		if (syscall(SYS_tgkill, (long)getpid(), id, 0) < 0)
			return;		/* ESRCH: gone */
		if (i < 100) {
			sched_yield();
		} else {
			struct timespec pause = { 0, 100000 };
			nanosleep(&pause, NULL);
		}
	}
}
