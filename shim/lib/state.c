/* SPDX-License-Identifier: MIT */
/*
 * state.c - the process's and each thread's tracing state (state.h).
 */
#include <pthread.h>
#include <sys/syscall.h>
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
