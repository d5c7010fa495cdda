/* SPDX-License-Identifier: MIT */
/*
 * pyapi.c - resolve the libpython entry points into `pt_py`.
 *
 * Every lookup goes through one table, so a missing symbol is named in the
 * message and the host simply runs untraced.  Static interpreters (Debian's
 * /usr/bin/python3.X) export their C API from the executable, so
 * dlsym(RTLD_DEFAULT, ...) finds it whether libpython is shared or not.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "pyapi.h"
#include "pytrace.h"

struct pt_pyapi pt_py;

/* One table entry: where to store the address, which names to try. */
struct pt_sym {
	void **slot;
	const char *name;	/* tried first: the Python 3 (or newest) name */
	const char *name2;	/* else this one: the Python 2 or an older name */
	int required;
};

#define SLOT(f) ((void **)&pt_py.f)

static const struct pt_sym pt_syms[] = {
	{ SLOT(GetVersion), "Py_GetVersion", NULL, 1 },
	{ SLOT(AddAuditHook), "PySys_AddAuditHook", NULL, 0 },
	{ SLOT(GetAllocator), "PyMem_GetAllocator", NULL, 0 },
	{ SLOT(SetAllocator), "PyMem_SetAllocator", NULL, 0 },
	{ SLOT(RawMalloc), "PyMem_RawMalloc", NULL, 0 },
	{ SLOT(Runtime), "_PyRuntime", NULL, 0 },
	{ SLOT(SetTrace), "PyEval_SetTrace", NULL, 1 },
	{ SLOT(SetProfile), "PyEval_SetProfile", NULL, 1 },
	{ SLOT(EvalFrameDefault), "_PyEval_EvalFrameDefault", NULL, 0 },
	{ SLOT(GetEvalFrameFunc), "_PyInterpreterState_GetEvalFrameFunc", NULL, 0 },
	{ SLOT(SetEvalFrameFunc), "_PyInterpreterState_SetEvalFrameFunc", NULL, 0 },
	{ SLOT(SetTraceTstate), "_PyEval_SetTrace", NULL, 0 },
	{ SLOT(SetTraceAllThreads), "PyEval_SetTraceAllThreads", NULL, 0 },
	{ SLOT(ThreadStateGet), "PyThreadState_Get", NULL, 1 },
	/* 3.12+ export only the PyUnstable_ names (the others are macros) */
	{ SLOT(RequestCodeExtraIndex), "PyUnstable_Eval_RequestCodeExtraIndex",
	  "_PyEval_RequestCodeExtraIndex", 0 },
	{ SLOT(CodeSetExtra), "PyUnstable_Code_SetExtra", "_PyCode_SetExtra", 0 },
	{ SLOT(InterpreterStateHead), "PyInterpreterState_Head", NULL, 1 },
	{ SLOT(InterpreterStateNext), "PyInterpreterState_Next", NULL, 1 },
	{ SLOT(InterpreterStateThreadHead), "PyInterpreterState_ThreadHead",
	  NULL, 1 },
	{ SLOT(ThreadStateNext), "PyThreadState_Next", NULL, 1 },
	{ SLOT(ThreadStateUnchecked), "_PyThreadState_UncheckedGet",
	  "PyThreadState_GetUnchecked", 0 },
	{ SLOT(ThreadStateCurrent), "_PyThreadState_Current", NULL, 0 },
	{ SLOT(ThreadStateGetInterpreter), "PyThreadState_GetInterpreter", NULL, 0 },
	{ SLOT(InterpreterStateMain), "PyInterpreterState_Main", NULL, 0 },
	{ SLOT(InterpreterStateGetID), "PyInterpreterState_GetID", NULL, 0 },
	{ SLOT(InterpreterConfigFromState), "_PyInterpreterConfig_InitFromState",
	  NULL, 0 },
	{ SLOT(GetRecursionLimit), "Py_GetRecursionLimit", NULL, 0 },
	{ SLOT(EvalGetBuiltins), "PyEval_GetBuiltins", NULL, 0 },
	{ SLOT(ObjectIsTrue), "PyObject_IsTrue", NULL, 0 },
	{ SLOT(AddPendingCall), "Py_AddPendingCall", NULL, 0 },
	{ SLOT(GILStateEnsure), "PyGILState_Ensure", NULL, 0 },
	{ SLOT(GILStateRelease), "PyGILState_Release", NULL, 0 },
	{ SLOT(ThreadStateSwap), "PyThreadState_Swap", NULL, 0 },
	{ SLOT(EvalInitThreads), "PyEval_InitThreads", NULL, 0 },
	{ SLOT(EvalThreadsInitialized), "PyEval_ThreadsInitialized", NULL, 0 },
	{ SLOT(IsInitialized), "Py_IsInitialized", NULL, 1 },
	{ SLOT(IsFinalizing), "Py_IsFinalizing", "_Py_IsFinalizing", 0 },
	{ SLOT(Finalizing), "_Py_Finalizing", NULL, 0 },
	{ SLOT(EvalGetGlobals), "PyEval_GetGlobals", NULL, 1 },
	{ SLOT(SysGetObject), "PySys_GetObject", NULL, 1 },
	{ SLOT(CallFunction), "PyObject_CallFunction", NULL, 1 },
	{ SLOT(LongAsLong), "PyLong_AsLong", NULL, 1 },
	{ SLOT(ListGetItem), "PyList_GetItem", NULL, 1 },
	{ SLOT(FrameGetLineNumber), "PyFrame_GetLineNumber", NULL, 1 },
	{ SLOT(FrameGetCode), "PyFrame_GetCode", NULL, 0 },
	{ SLOT(FrameGetBack), "PyFrame_GetBack", NULL, 0 },
	{ SLOT(EvalGetFrame), "PyEval_GetFrame", NULL, 0 },
	{ SLOT(DictNext), "PyDict_Next", NULL, 0 },
	{ SLOT(TypeIsSubtype), "PyType_IsSubtype", NULL, 0 },
	{ SLOT(TypeType), "PyType_Type", NULL, 0 },
	{ SLOT(ClassType), "PyClass_Type", NULL, 0 },
	{ SLOT(FunctionType), "PyFunction_Type", NULL, 0 },
	{ SLOT(StaticMethodType), "PyStaticMethod_Type", NULL, 0 },
	{ SLOT(ClassMethodType), "PyClassMethod_Type", NULL, 0 },
	{ SLOT(PropertyType), "PyProperty_Type", NULL, 0 },
	{ SLOT(MappingGetItemString), "PyMapping_GetItemString", NULL, 0 },
	{ SLOT(AtExit), "Py_AtExit", NULL, 0 },
	{ SLOT(GetAttrString), "PyObject_GetAttrString", NULL, 1 },
	{ SLOT(DictGetItemString), "PyDict_GetItemString", NULL, 1 },
	{ SLOT(DictSetItemString), "PyDict_SetItemString", NULL, 1 },
	{ SLOT(TupleGetItem), "PyTuple_GetItem", NULL, 1 },
	{ SLOT(ImportGetModuleDict), "PyImport_GetModuleDict", NULL, 1 },
	{ SLOT(CFunctionNewEx), "PyCFunction_NewEx", NULL, 1 },
	{ SLOT(EncodeFSDefault), "PyUnicode_EncodeFSDefault", NULL, 0 },
	{ SLOT(BytesAsStringAndSize), "PyBytes_AsStringAndSize",
	  "PyString_AsStringAndSize", 1 },
	{ SLOT(ErrFetch), "PyErr_Fetch", NULL, 1 },
	{ SLOT(ErrRestore), "PyErr_Restore", NULL, 1 },
	{ SLOT(ErrClear), "PyErr_Clear", NULL, 1 },
	{ SLOT(IncRef), "Py_IncRef", NULL, 1 },
	{ SLOT(DecRef), "Py_DecRef", NULL, 1 },
	{ SLOT(None), "_Py_NoneStruct", NULL, 1 },
};

/* Line events whose f_lineno must agree with PyFrame_GetLineNumber before
 * the field is trusted. */
enum { PT_LINENO_CHECKS = 16 };

int pt_py_available(void)
{
	return dlsym(RTLD_DEFAULT, "Py_GetVersion") != NULL;
}

int pt_py_load(void *handle)
{
	if (!handle)
		handle = RTLD_DEFAULT;
	for (size_t i = 0; i < sizeof(pt_syms) / sizeof(pt_syms[0]); i++) {
		const struct pt_sym *s = &pt_syms[i];
		void *p = dlsym(handle, s->name);

		if (!p && s->name2)
			p = dlsym(handle, s->name2);
		if (!p && s->required) {
			pt_log("libpython symbol %s not found; not tracing",
			       s->name);
			return -ENOENT;
		}
		*s->slot = p;
	}
	const char *v = pt_py.GetVersion();
	char *end;
	pt_py.major = (int)strtol(v, &end, 10);
	pt_py.minor = *end == '.' ? (int)strtol(end + 1, NULL, 10) : 0;
	/* f_code read from the frame on 2.7-3.10, from its f_frame on 3.11
	 * (checked against PyFrame_GetCode once), with the API on 3.12+ */
	pt_py.layout = pt_layout(pt_py.major, pt_py.minor);
	pt_py.code_offset = pt_py.layout->code;
	pt_py.iframe_offset = pt_py.layout->iframe;
	pt_py.code_in_frame = pt_py.code_offset && !pt_py.iframe_offset;
	pt_py.code_in_iframe = pt_py.code_offset && pt_py.iframe_offset; /* 2: checked */
	/* f_lineno holds the line during a line event on 2.7-3.11;
	 * PyFrame_GetLineNumber recomputes it from the line table on
	 * 2.7-3.9 when the frame has no Python-level trace function, which
	 * is slow in long functions.  Checked before it is trusted. */
	pt_py.lineno_offset = pt_py.layout->lineno;
	pt_py.lineno_checks = PT_LINENO_CHECKS;
	/* 3.12+'s int layout (pt_py_small_int), checked before trusted; a
	 * free-threaded build's larger object header fails the check */
	pt_py.int_layout = pt_py.major == 3 && pt_py.minor >= 12 ?
			   PT_LINENO_CHECKS + 1 : 0;
	/* 3.6's code_dealloc takes the interpreter list's lock for a code
	 * object with extra slots, and PyInterpreterState_Clear holds that
	 * lock while it clears thread states (at exit, Py_EndInterpreter):
	 * a marked code object freed there (the program's sys.settrace
	 * function, a frame of an exception a thread state keeps) would
	 * hang the process.  3.7 reads the interpreter without a lock. */
	if (pt_py.major == 3 && pt_py.minor < 7)
		pt_py.RequestCodeExtraIndex = NULL;
	return 0;
}

PyObject *pt_py_frame_code_slow(PyFrameObject *frame)
{
	if (pt_py.code_in_iframe == 1) {
		char *iframe = *(char **)((char *)frame + pt_py.iframe_offset);
		PyObject *code = *(PyObject **)(iframe + pt_py.code_offset);
		/* First time: check the layout against the API. */
		PyObject *api = pt_py.FrameGetCode(frame);
		pt_py.DecRef(api);
		pt_py.code_in_iframe = api == code ? 2 : 0;
		return api;
	}
	/* New reference; the frame keeps the code alive. */
	PyObject *code = pt_py.FrameGetCode(frame);
	pt_py.DecRef(code);
	return code;
}

/* The newest version tested; a process tracing a newer one gets a
 * one-time notice (pt_py_untested_notice). */
enum { PT_TESTED_MAJOR = 3, PT_TESTED_MINOR = 15 };

void pt_py_untested_notice(void)
{
	static int said;
	int major = pt_py.major, minor = pt_py.minor;

	if (said || (major < PT_TESTED_MAJOR ||
		     (major == PT_TESTED_MAJOR && minor <= PT_TESTED_MINOR)))
		return;
	said = 1;
	pt_notice("Python %d.%d is newer than any pytrace was tested with "
		  "(%d.%d); tracing with its public API only", major, minor,
		  PT_TESTED_MAJOR, PT_TESTED_MINOR);
}

void *pt_py_thread_interp(void)
{
	void *ts = pt_py.ThreadStateGet();
	void *interp = NULL;

	/* a read where the layout knows the offset (the trace function
	 * asks often); a version without a row, the API (3.9+) */
	if (pt_py.layout->interp)
		interp = *(void **)((char *)ts + pt_py.layout->interp);
	else if (pt_py.ThreadStateGetInterpreter)
		interp = pt_py.ThreadStateGetInterpreter(ts);

	if (pt_py.interp_in_tstate == 0) {
		/* First time: it must be one of the interpreters. */
		pt_py.interp_in_tstate = -1;
		for (void *i = pt_py.InterpreterStateHead(); i;
		     i = pt_py.InterpreterStateNext(i))
			if (i == interp)
				pt_py.interp_in_tstate = 1;
	}
	return pt_py.interp_in_tstate > 0 ? interp : NULL;
}

int pt_py_line_event_lineno_slow(PyFrameObject *frame)
{
	if (!pt_py.lineno_offset)
		return pt_py.FrameGetLineNumber(frame);
	int field = *(int *)((char *)frame + pt_py.lineno_offset);
	if (!pt_py.lineno_checks)
		return field;
	int api = pt_py.FrameGetLineNumber(frame);
	if (field == api)
		pt_py.lineno_checks--;
	else
		pt_py.lineno_offset = 0;	/* not this build's layout */
	return api;
}

long pt_py_small_int_slow(PyObject *o)
{
	long api = pt_py.LongAsLong(o);

	if (pt_py.int_layout > 1 && pt_py_int_one_digit(o)) {
		if ((long)*(const uint32_t *)((const char *)o + 24) == api)
			pt_py.int_layout--;	/* 1: trusted from now on */
		else
			pt_py.int_layout = 0;	/* not this build's layout */
	}
	return api;
}

Py_ssize_t pt_py_cstr(PyObject *o, char *buf, size_t size)
{
	PyObject *bytes = o;
	char *s;
	Py_ssize_t len = -1;

	if (!o)
		return -1;
	if (pt_py.EncodeFSDefault) {
		bytes = pt_py.EncodeFSDefault(o);
		if (!bytes) {
			pt_py.ErrClear();
			return -1;
		}
	}
	if (pt_py.BytesAsStringAndSize(bytes, &s, &len) < 0) {
		pt_py.ErrClear();
		len = -1;
	} else if ((size_t)len >= size || memchr(s, '\0', (size_t)len)) {
		len = -1;
	} else {
		memcpy(buf, s, (size_t)len);
		buf[len] = '\0';
	}
	if (bytes != o)
		pt_py.DecRef(bytes);
	return len;
}

void pt_py_each_other_thread(void (*fn)(void *tstate, void *arg), void *arg)
{
	void *self = pt_py.ThreadStateGet();

	for (void *interp = pt_py.InterpreterStateHead(); interp;
	     interp = pt_py.InterpreterStateNext(interp))
		for (void *ts = pt_py.InterpreterStateThreadHead(interp); ts;
		     ts = pt_py.ThreadStateNext(ts))
			if (ts != self)
				fn(ts, arg);
}

int pt_py_swap_reaches(void)
{
	return pt_py.ThreadStateSwap &&
	       (pt_py.major == 2 || (pt_py.major == 3 && pt_py.minor <= 8));
}

int pt_py_as_thread(void *tstate, void (*fn)(void *arg), void *arg)
{
	if (!pt_py_swap_reaches())
		return -1;
	void *self = pt_py.ThreadStateSwap(tstate);
	fn(arg);
	pt_py.ThreadStateSwap(self);
	return 0;
}
