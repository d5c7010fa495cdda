/* SPDX-License-Identifier: MIT */
/*
 * threadstart.c - the library's pthread_create: a thread of the
 * program's is about to start, which on 3.11 may need the frame
 * evaluation function put in place first (follow.c,
 * pt_eval_thread_starts); then libc's creates it.  The library's own
 * threads are created by libc's directly (state.c).
 *
 * Built apart from the other objects, without shim/common/glibc-compat.h:
 * its `.symver` binds the name pthread_create to libc's old version,
 * which a definition cannot take.  So this file calls nothing of libc.
 */
#include <pthread.h>

#include "backend.h"
#include "pytrace.h"
#include "state.h"

PT_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			     void *(*fn)(void *), void *arg)
{
	pt_eval_thread_starts();
	return pt_libc_pthread_create(thread, attr, fn, arg);
}
