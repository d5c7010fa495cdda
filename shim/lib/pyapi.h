/* SPDX-License-Identifier: MIT */
/*
 * pyapi.h - the libpython entry points pytrace uses, found at run time.
 *
 * libpytrace.so is never linked against libpython and never includes
 * Python.h: one build serves every interpreter.  The few types it needs are
 * declared here as opaque pointers, and every function is looked up with
 * dlsym(RTLD_DEFAULT, ...) into the table `pt_py`.  Differences between
 * Python versions are data in that table (which symbol exists, where the
 * frame keeps its code object), not #ifdefs.
 */
#ifndef PYTRACE_PYAPI_H
#define PYTRACE_PYAPI_H

#include <stdint.h>
#include <sys/types.h>

typedef struct _object PyObject;
typedef struct _frame PyFrameObject;
typedef ssize_t Py_ssize_t;

/* The trace function type and event numbers, unchanged from 2.7 to 3.13. */
typedef int (*pt_tracefunc)(PyObject *obj, PyFrameObject *frame, int what,
			    PyObject *arg);
enum { PT_TRACE_CALL = 0, PT_TRACE_LINE = 2, PT_TRACE_RETURN = 3 };

typedef int (*pt_audithook)(const char *event, PyObject *args, void *data);
typedef PyObject *(*pt_cfunction)(PyObject *self, PyObject *args);

/* PyMethodDef, unchanged from 2.7 to 3.13. */
struct pt_methoddef {
	const char *ml_name;
	pt_cfunction ml_meth;
	int ml_flags;
	const char *ml_doc;
};
enum { PT_METH_VARARGS = 0x1, PT_METH_FASTCALL = 0x80 };
/* PyMemAllocatorEx, unchanged from 3.5 to 3.14, and its raw domain. */
struct pt_memalloc {
	void *ctx;
	void *(*malloc)(void *ctx, size_t size);
	void *(*calloc)(void *ctx, size_t nelem, size_t elsize);
	void *(*realloc)(void *ctx, void *ptr, size_t new_size);
	void (*free)(void *ctx, void *ptr);
};
enum { PT_MEM_DOMAIN_RAW = 0 };

typedef PyObject *(*pt_fastcfunction)(PyObject *self, PyObject *const *args,
				      Py_ssize_t nargs);

/* A code object extra slot's free function (PEP 523). */
typedef void (*pt_freefunc)(void *extra);

/* Run-time view of the host interpreter.  Optional entries may be NULL. */
struct pt_layout;

struct pt_pyapi {
	int major, minor;	/* from Py_GetVersion() */
	const struct pt_layout *layout;	/* this version's (layout.c) */
	size_t code_offset;	/* where the frame keeps f_code (layout.c) */
	size_t iframe_offset;	/* 3.11: where it keeps f_frame */
	int code_in_frame;	/* the frame holds f_code (2.7-3.10): read it */
	int code_in_iframe;	/* 3.11: read it from the frame's f_frame */
	size_t lineno_offset;	/* f_lineno in the frame, 2.7-3.11; 0: use the API */
	int lineno_checks;	/* line events left to check it on */
	/* 3.12+: a small int's value read from the object (pt_py_small_int):
	 * 1 trusted, > 1 agreements still wanted from the API, 0 never */
	int int_layout;
	int interp_in_tstate;	/* tstate->interp read: 0 unchecked, 1 yes, -1 no */

	const char *(*GetVersion)(void);
	int (*AddAuditHook)(pt_audithook hook, void *data); /* 3.8+ */
	void (*GetAllocator)(int domain, struct pt_memalloc *a);	/* 3.5+ */
	void (*SetAllocator)(int domain, struct pt_memalloc *a);	/* 3.5+ */
	void *(*RawMalloc)(size_t size);			/* 3.4+ */
	void *Runtime;		/* _PyRuntime, 3.7+ (data) */
	void (*SetTrace)(pt_tracefunc func, PyObject *obj);
	void (*SetProfile)(pt_tracefunc func, PyObject *obj);
	void *EvalFrameDefault;	/* _PyEval_EvalFrameDefault, 3.6+ */
	void *(*GetEvalFrameFunc)(void *interp);		/* 3.9+ */
	void (*SetEvalFrameFunc)(void *interp, void *func);	/* 3.9+ */
	int (*SetTraceTstate)(void *tstate, pt_tracefunc func,
			      PyObject *obj);			/* 3.9-3.12 */
	void (*SetTraceAllThreads)(pt_tracefunc func, PyObject *obj); /* 3.12+ */
	void *(*ThreadStateGet)(void);
	/* PEP 523 extra slots of code objects (3.6+; used from 3.7 on) */
	Py_ssize_t (*RequestCodeExtraIndex)(pt_freefunc free);
	int (*CodeSetExtra)(PyObject *code, Py_ssize_t index, void *extra);
	void *(*InterpreterStateHead)(void);
	void *(*InterpreterStateNext)(void *interp);
	void *(*InterpreterStateThreadHead)(void *interp);
	void *(*ThreadStateNext)(void *tstate);
	/* subinterp.c: the interpreter of the running thread */
	void *(*ThreadStateUnchecked)(void);	/* 3.6+; NULL when none */
	void **ThreadStateCurrent;		/* 2.7: the variable */
	void *(*ThreadStateGetInterpreter)(void *tstate);	/* 3.9+ */
	void *(*InterpreterStateMain)(void);	/* 3.7+ */
	int64_t (*InterpreterStateGetID)(void *interp);	/* 3.7+ */
	int (*InterpreterConfigFromState)(void *config, void *interp); /* 3.13+ */
	int (*GetRecursionLimit)(void);
	PyObject *(*EvalGetBuiltins)(void);
	int (*ObjectIsTrue)(PyObject *o);
	/* queue fn(arg) for the main thread, at a safe point */
	int (*AddPendingCall)(int (*fn)(void *arg), void *arg);
	/* the GIL from a thread Python did not create (control.c) */
	int (*GILStateEnsure)(void);		/* PyGILState_STATE */
	void (*GILStateRelease)(int state);
	void *(*ThreadStateSwap)(void *tstate);
	void (*EvalInitThreads)(void);		/* 2.7, 3.6: makes the GIL */
	int (*EvalThreadsInitialized)(void);	/* 2.7, 3.6: it exists */
	int (*IsInitialized)(void);
	int (*IsFinalizing)(void);	/* Py_IsFinalizing (3.13+), 3.7-3.12 _Py_ */
	void **Finalizing;	/* _Py_Finalizing, 3.6 (data) */
	PyObject *(*EvalGetGlobals)(void);
	PyObject *(*SysGetObject)(const char *name);
	PyObject *(*CallFunction)(PyObject *callable, const char *fmt, ...);
	long (*LongAsLong)(PyObject *o);
	PyObject *(*ListGetItem)(PyObject *list, Py_ssize_t i);
	int (*FrameGetLineNumber)(PyFrameObject *frame);
	PyObject *(*FrameGetCode)(PyFrameObject *frame); /* 3.9+ */
	PyFrameObject *(*FrameGetBack)(PyFrameObject *frame); /* 3.9+ */
	PyFrameObject *(*EvalGetFrame)(void);
	/* scopes (scopes.c checks they are there): who a code object is,
	 * who started a thread, the frame running */
	int (*DictNext)(PyObject *d, Py_ssize_t *pos, PyObject **k,
			PyObject **v);
	int (*TypeIsSubtype)(PyObject *a, PyObject *b);
	/* types (data): type, 2.7's old-style class, function, and the
	 * three descriptors a method may be wrapped in */
	PyObject *TypeType, *ClassType, *FunctionType, *StaticMethodType,
		 *ClassMethodType, *PropertyType;
	PyObject *(*MappingGetItemString)(PyObject *o, const char *key);
	int (*AtExit)(void (*fn)(void));
	PyObject *(*GetAttrString)(PyObject *o, const char *name);
	PyObject *(*DictGetItemString)(PyObject *d, const char *key);
	int (*DictSetItemString)(PyObject *d, const char *key, PyObject *v);
	PyObject *(*TupleGetItem)(PyObject *t, Py_ssize_t i);
	PyObject *(*ImportGetModuleDict)(void);
	PyObject *(*CFunctionNewEx)(struct pt_methoddef *ml, PyObject *self,
				    PyObject *module);
	PyObject *(*EncodeFSDefault)(PyObject *unicode); /* 3.x only */
	int (*BytesAsStringAndSize)(PyObject *o, char **s, Py_ssize_t *len);
	void (*ErrFetch)(PyObject **t, PyObject **v, PyObject **tb);
	void (*ErrRestore)(PyObject *t, PyObject *v, PyObject *tb);
	void (*ErrClear)(void);
	void (*IncRef)(PyObject *o);
	void (*DecRef)(PyObject *o);
	PyObject *None;
};

extern struct pt_pyapi pt_py;

/*
 * pt_py_available - cheap test run first in every process: is a Python
 * interpreter in this process at all?  False in bash, coreutils, C programs.
 */
int pt_py_available(void);

/*
 * pt_py_load - fill `pt_py` from `handle` (NULL: the global scope).
 * Returns 0, or -ENOENT after one message naming the first required symbol
 * that is missing.
 */
int pt_py_load(void *handle);

/* pt_py_line_event_lineno_slow - pt_py_line_event_lineno while the
 * frame's field is not (yet) trusted. */
int pt_py_line_event_lineno_slow(PyFrameObject *frame);

/* pt_py_line_event_lineno - the line of `frame` during a line event of a
 * trace function (read from the frame where its layout is known and was
 * checked against PyFrame_GetLineNumber); hot path, inline. */
static inline int pt_py_line_event_lineno(PyFrameObject *frame)
{
	if (pt_py.lineno_offset && !pt_py.lineno_checks)
		return *(int *)((char *)frame + pt_py.lineno_offset);
	return pt_py_line_event_lineno_slow(frame);
}

/* pt_py_frame_code_slow - pt_py_frame_code where the layout is not
 * known or not yet checked: the API. */
PyObject *pt_py_frame_code_slow(PyFrameObject *frame);

/* pt_py_frame_code - borrowed code object of a frame; hot path, inline:
 * read from the frame (2.7-3.10) or its f_frame (3.11, once checked). */
static inline PyObject *pt_py_frame_code(PyFrameObject *frame)
{
	if (pt_py.code_in_frame)
		return *(PyObject **)((char *)frame + pt_py.code_offset);
	if (pt_py.code_in_iframe == 2)
		return *(PyObject **)(*(char **)((char *)frame + pt_py.iframe_offset) +
				      pt_py.code_offset);
	return pt_py_frame_code_slow(frame);
}

/* pt_py_small_int_slow - pt_py_small_int through PyLong_AsLong, checking
 * the layout on the way. */
long pt_py_small_int_slow(PyObject *o);

/* pt_py_int_one_digit - int `o` (3.12+) is one positive digit: its lv_tag
 * (at offset 16) says one digit (1 << 3) and sign 0, whatever bit 2 says
 * (3.14+ sets it in the cached small ints, -5 to 256: immortal). */
static inline int pt_py_int_one_digit(PyObject *o)
{
	return (*(const uintptr_t *)((const char *)o + 16) & ~(uintptr_t)4) ==
	       1u << 3;
}

/*
 * pt_py_small_int - the value of int `o` (a line number that
 * sys.monitoring passes, 3.12+): read from the object when it is one
 * positive digit of 30 bits (3.12+'s compact int: pt_py_int_one_digit,
 * the digit at offset 24), once that layout agreed with the API on
 * enough values; else PyLong_AsLong.  Hot path, inline; its first case
 * alone is pt_py_small_int_read (1 and *v, or 0).
 */
static inline int pt_py_small_int_read(PyObject *o, long *v)
{
	if (pt_py.int_layout != 1 || !pt_py_int_one_digit(o))
		return 0;
	*v = (long)*(const uint32_t *)((const char *)o + 24);
	return 1;
}

static inline long pt_py_small_int(PyObject *o)
{
	long v;

	return pt_py_small_int_read(o, &v) ? v : pt_py_small_int_slow(o);
}

/*
 * pt_py_each_other_thread - fn(tstate, arg) for the thread state of every
 * thread of every interpreter but the calling thread's.  With the GIL:
 * the others wait for it, or run C code without it.
 */
void pt_py_each_other_thread(void (*fn)(void *tstate, void *arg), void *arg);

/*
 * pt_py_as_thread - fn(arg) with `tstate`, another thread's, made the
 * current thread state for the call, so that functions that act on "the
 * calling thread" (PyEval_SetTrace, PyEval_SetProfile) act on it: the
 * way to reach another thread where the interpreter exports none (2.7 to
 * 3.8).  That thread reads what fn changes only once it has the GIL,
 * which the caller holds.  fn must run no Python code (on 3.8 the
 * "sys.settrace" audit event does when a Python audit hook exists: the
 * caller checks pt_state.audit_hooks).  0, or -1 when it cannot be done.
 */
int pt_py_as_thread(void *tstate, void (*fn)(void *arg), void *arg);

/* pt_py_swap_reaches - pt_py_as_thread works here: 2.7-3.8, whose
 * PyThreadState_Swap only sets the current thread state (from 3.13 it
 * detaches, and so releases the GIL; 3.9-3.12 export _PyEval_SetTrace). */
int pt_py_swap_reaches(void);

/*
 * pt_py_untested_notice - once per process, a notice (into the trace, and
 * syslog) when the interpreter is newer than any pytrace was tested with.
 * Called where tracing starts, before the trace is open, so that it is the
 * trace's first line; never in a process that runs untraced.
 */
void pt_py_untested_notice(void);

/*
 * pt_py_thread_interp - the interpreter of the calling thread (3.6+, with
 * the GIL held), read from its thread state where layout.c has the
 * version's offset, else asked of PyThreadState_GetInterpreter (3.9+);
 * NULL when it did not check out against the interpreter list on the
 * first call.
 */
void *pt_py_thread_interp(void);

/*
 * pt_py_cstr - copy a str (or 2.x byte string) into buf as a NUL-terminated
 * string in the file-system encoding.  Returns its length, or -1 (with no
 * Python error left set) when `o` is not a string or does not fit.
 */
Py_ssize_t pt_py_cstr(PyObject *o, char *buf, size_t size);

#endif
