/* SPDX-License-Identifier: MIT */
/*
 * frames.h - a key for each running frame, the same whichever back end
 * delivered the frame (scoped.h keeps frames by it), and what scopes need
 * of a frame: its caller and its first argument.
 *
 * The key is the _PyInterpreterFrame on 3.11+, where the layout agrees
 * with the interpreter (checked once): what 3.11's frame evaluation
 * function gets, and what the thread state points to on 3.12+ with no
 * frame object made.  Otherwise, and before 3.11, the frame object.
 *
 * With the GIL held.
 */
#ifndef PYTRACE_FRAMES_H
#define PYTRACE_FRAMES_H

#include "pyapi.h"

/* pt_frame_key - the key of `frame`. */
void *pt_frame_key(PyFrameObject *frame);

/* pt_frame_running - the key of the frame thread `tstate` (NULL: the
 * calling one) runs, or NULL; on 3.12+ the frame of a sys.monitoring
 * event. */
void *pt_frame_running(void *tstate);

/* pt_frame_caller - the key of the frame that called the running frame
 * `key` (through C code too), or NULL. */
void *pt_frame_caller(void *key);

/* pt_frame_eval_caller - pt_frame_caller of a frame 3.6-3.11's frame
 * evaluation function is about to run: on 3.11 the frame is linked to
 * its caller only after, which is then the one running. */
void *pt_frame_eval_caller(void *tstate, void *key);

/* pt_frame_self - the first argument of the running frame `key`, borrowed
 * (its identity only), or NULL.  From a frame object it reads f_locals
 * (no Python code runs; on 2.7-3.12 it fills the frame's locals dict, as
 * sys._getframe().f_locals would). */
PyObject *pt_frame_self(void *key);

/* pt_frame_back - pt_frame_caller of a frame object. */
static inline void *pt_frame_back(PyFrameObject *frame)
{
	return pt_frame_caller(pt_frame_key(frame));
}

#endif
