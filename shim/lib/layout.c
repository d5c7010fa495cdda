/* SPDX-License-Identifier: MIT */
/*
 * layout.c - the table of per-version layout facts (layout.h), from the
 * CPython headers of each version:
 *   2.7, 3.6-3.10  Include/frameobject.h (PyFrameObject), Include/pystate.h
 *                  or Include/cpython/pystate.h (PyThreadState),
 *                  Include/internal/pycore_pystate.h or
 *                  pycore_interp.h (PyInterpreterState);
 *   3.11           Include/internal/pycore_frame.h (_PyFrame_*,
 *                  _PyInterpreterFrame), Include/cpython/pystate.h;
 *   3.12           Include/internal/pycore_interp.h, pycore_ceval_state.h;
 *   3.12, 3.13     Include/cpython/pystate.h (datastack_chunk, and
 *                  _PyStackChunk's size after its link);
 *   3.14, 3.15     Include/internal/pycore_interpframe_structs.h
 *                  (_PyInterpreterFrame), Include/cpython/pystate.h.
 * The offsets are those of x86-64 (LP64) builds without Py_DEBUG or
 * Py_TRACE_REFS; a build that differs is caught by the checks of each
 * reader (layout.h).
 */
#include "layout.h"

static const struct pt_layout layouts[] = {
	/* major minor  code iframe lineno globals back eval_iframe
	 *             tracefunc interp  eval_frame builtins recursion gil
	 *             localsplus iprevious iowner iframe_obj
	 *             cframe cframe_current tstate_current datastack */
	{ 2, 7, 32, 0, 124, 48, 24, 0, 48, 8, 0, 0, 0, 0,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ 3, 6, 32, 0, 124, 48, 24, 0, 56, 16, 112, 0, 0, 0,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ 3, 7, 32, 0, 108, 48, 24, 0, 64, 16, 464, 0, 0, 0,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ 3, 8, 32, 0, 108, 48, 24, 0, 64, 16, 568, 0, 0, 0,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ 3, 9, 32, 0, 108, 48, 24, 0, 64, 16, 0, 0, 0, 0,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ 3, 10, 32, 0, 100, 48, 24, 0, 64, 16, 0, 0, 0, 0,
	  0, 0, 0, 0, 0, 0, 0, 0 },
	{ 3, 11, 32, 24, 40, 8, 48, 1, 72, 16, 0, 0, 0, 0,
	  72, 48, 0, 40, 56, 8, 0, 0 },
	{ 3, 12, 0, 24, 0, 0, 0, 0, 0, 16, 0, 360, 376, 384,
	  72, 8, 70, 48, 56, 0, 0, 232 },
	{ 3, 13, 0, 24, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0,
	  72, 8, 70, 48, 0, 0, 72, 232 },
	/* 3.14, 3.15: the frame's fields pytrace reads moved, and its
	 * locals are tagged references (layout.h: localsplus) */
	{ 3, 14, 0, 24, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0,
	  80, 8, 74, 48, 0, 0, 72, 232 },
	{ 3, 15, 0, 24, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0,
	  80, 8, 74, 48, 0, 0, 72, 256 },
};

const struct pt_layout *pt_layout(int major, int minor)
{
	static const struct pt_layout unknown;

	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].major == major && layouts[i].minor == minor)
			return &layouts[i];
	return &unknown;
}
