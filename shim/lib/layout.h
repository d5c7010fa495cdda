/* SPDX-License-Identifier: MIT */
/*
 * layout.h - where each CPython version keeps the few fields pytrace
 * reads directly, for speed or because no function gives them: one row
 * per version, in one table (layout.c).
 */
#ifndef PYTRACE_LAYOUT_H
#define PYTRACE_LAYOUT_H

#include <stddef.h>

/*
 * Byte offsets; 0 where the version has no such field or pytrace does not
 * read it there.  No value is trusted blindly: each user checks it against
 * the running interpreter's API once before relying on it, and falls back
 * to the API (or to doing without) when it does not agree.
 */
struct pt_layout {
	int major, minor;
	/* the frame: PyFrameObject, or on 3.11 the _PyInterpreterFrame the
	 * frame evaluation function gets */
	size_t code;		/* f_code (2.7-3.10; 3.11 in the _PyInterpreterFrame) */
	size_t iframe;		/* 3.11: PyFrameObject.f_frame */
	size_t lineno;		/* PyFrameObject.f_lineno, during a line event */
	size_t globals;		/* f_globals of what eval_frame gets */
	size_t back;		/* its caller: f_back, or `previous` (3.11) */
	int eval_iframe;	/* 3.11: eval_frame gets a _PyInterpreterFrame */
	/* the thread state */
	size_t tracefunc;	/* PyThreadState.c_tracefunc */
	size_t interp;		/* PyThreadState.interp */
	/* the interpreter */
	size_t eval_frame;	/* PyInterpreterState.eval_frame (3.6-3.8: no
				 * accessor; 3.9+ have them) */
	size_t builtins;	/* 3.12: PyInterpreterState.builtins */
	size_t recursion;	/* 3.12: .ceval.recursion_limit (int) */
	size_t gil;		/* 3.12: .ceval.gil */
	/* 3.11+, for frames.c: in the _PyInterpreterFrame, its first
	 * argument (localsplus; 3.14+: a _PyStackRef, whose two low bits
	 * are tags), its caller (previous), its owner (3.12+: 3 and above
	 * are shims, a C caller's or the interpreter's) and its frame
	 * object (frame_obj); the one
	 * running: PyThreadState.cframe's current_frame (3.11, 3.12), or
	 * PyThreadState.current_frame (3.13) */
	size_t localsplus, iprevious, iowner, iframe_obj;
	size_t cframe, cframe_current, tstate_current;
	/* 3.12, 3.13: PyThreadState.datastack_chunk, the chunk of the
	 * thread's (or green thread's) frame stack in use */
	size_t datastack;
};

/*
 * pt_layout - the row of version major.minor, or one of zeros (not known:
 * every reader uses the API).  pyapi.c keeps the running version's in
 * pt_py.layout.
 */
const struct pt_layout *pt_layout(int major, int minor);

#endif
