/* SPDX-License-Identifier: MIT */
/*
 * state.c - the process's and each thread's tracing state (state.h).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "state.h"

struct pt_state pt_state;
__thread struct pt_thread pt_thread __attribute__((tls_model("initial-exec")));

static long pid;	/* this process's id, 0 until asked */
static int own_live;	/* the library's own threads started and not ended */

/* The child's only thread is the one that forked, under another id. */
static void after_fork_child(void)
{
	pt_thread.tid = 0;
	pid = 0;
	__atomic_store_n(&own_live, 0, __ATOMIC_RELAXED);
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

struct own_start {
	void *(*fn)(void *);
	void *arg;
};

static void *own_thread(void *p)
{
	struct own_start s = *(struct own_start *)p;

	free(p);
	void *r = s.fn(s.arg);
	/* before the thread is gone: counted a little longer by the kernel
	 * than here, which only makes pt_threads_only_own say false */
	__atomic_sub_fetch(&own_live, 1, __ATOMIC_RELEASE);
	return r;
}

int pt_thread_create_own(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	struct own_start *s = malloc(sizeof(*s));

	if (!s)
		return EAGAIN;
	*s = (struct own_start){ fn, arg };
	pthread_once(&watching, watch_fork);	/* own_live reset in a child */
	/* counted before it runs: meanwhile pt_threads_only_own says false */
	__atomic_add_fetch(&own_live, 1, __ATOMIC_ACQ_REL);
	int rc = pt_libc_pthread_create(thread, NULL, own_thread, s);
	if (rc != 0) {
		__atomic_sub_fetch(&own_live, 1, __ATOMIC_RELEASE);
		free(s);
	}
	return rc;
}

typedef int (*pt_create_fn)(pthread_t *, const pthread_attr_t *,
			    void *(*)(void *), void *);

int pt_libc_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			   void *(*fn)(void *), void *arg)
{
	static pt_create_fn libc_create;
	pt_create_fn f = __atomic_load_n(&libc_create, __ATOMIC_ACQUIRE);

	if (!f) {
		/* the next one after this library: libc's (or the next
		 * wrapper's); the same from every thread that races here */
		f = (pt_create_fn)dlsym(RTLD_NEXT, "pthread_create");
		if (!f)
			return EAGAIN;
		__atomic_store_n(&libc_create, f, __ATOMIC_RELEASE);
	}
	return f(thread, attr, fn, arg);
}

int pt_pthread_create_interposed(void)
{
	Dl_info global, self;
	void *g = dlsym(RTLD_DEFAULT, "pthread_create");

	return g && dladdr(g, &global) &&
	       dladdr((void *)pt_pthread_create_interposed, &self) &&
	       global.dli_fbase == self.dli_fbase;
}

int pt_threads_only_own(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] >= '0' && e->d_name[0] <= '9';
	closedir(d);
	return n == 1 + __atomic_load_n(&own_live, __ATOMIC_ACQUIRE);
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
