/* SPDX-License-Identifier: MIT */
/*
 * subinterp.c - every interpreter of the process traced, with the same
 * rules and into the same output as the one tracing started in.
 *
 * A subinterpreter (Py_NewInterpreter; mod_wsgi runs each application in
 * one by default) has its own sys.monitoring state, its own frame
 * evaluation function and its own thread states: nothing set up in the
 * first interpreter reaches it.  Each interpreter is therefore set up on
 * its own, with the back end of the first (pt_interp_watch), as soon as
 * pytrace learns of it:
 *  - from the wrappers of Py_NewInterpreter and Py_NewInterpreterFromConfig
 *    (interpose.c) when they return, wherever calls go through the PLT (a
 *    shared libpython; embedding hosts such as mod_wsgi);
 *  - 3.8+: at the first audit event raised in an interpreter pytrace does
 *    not know yet, once it has initialised: `__main__` exists and `site`,
 *    if it is imported at all, has finished (static interpreters, and a
 *    libpython built with -fno-semantic-interposition).  PyRun_* raises
 *    "compile" before it runs anything, so its code is traced from its
 *    first line.
 * What runs while an interpreter initialises (site, .pth files) is not
 * traced, as in the first one.
 *
 * The code map keeps a reference to every code object it knows.  Those of
 * an interpreter must be released in it, before it is destroyed (3.12+:
 * with its own allocator, their memory goes with it), so when it ends
 * pytrace forgets them (pt_codemap_forget) and caches nothing more of it:
 *  - 3.8+: at "cpython.PyInterpreterState_Clear", which Py_EndInterpreter
 *    raises in the interpreter once its modules are gone;
 *  - 2.7-3.7: in Py_EndInterpreter's wrapper, before the real function
 *    (the interpreter's threading shutdown and atexit functions then run
 *    untraced).
 * Emptying the whole map in one interpreter leaves the references of the
 * others to be released in them (pt_interp_release).
 *
 * One GIL.  The code map, the source cache and the output buffer are
 * shared by every interpreter and rely on the GIL to keep their users
 * apart.  Every interpreter before 3.12 shares the main one, as do those
 * of Py_NewInterpreter and of the legacy configuration after.  An
 * interpreter with its own GIL (3.12+; the default of
 * `_xxsubinterpreters.create()` and `_interpreters.create()`) runs in
 * parallel with the others: it is not traced, and pytrace says so once.
 * Its audit events still reach pytrace's hook, in parallel, so the
 * registry below is locked (for a few loads and stores, never across a
 * call into Python).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "codemap.h"
#include "layout.h"
#include "pytrace.h"
#include "state.h"
#include "subinterp.h"

/* What pytrace knows of one interpreter. */
struct pt_interp {
	void *interp;		/* PyInterpreterState */
	int64_t id;		/* its id (3.7+; else 0): addresses are reused */
	enum { PT_I_TRACED, PT_I_LEFT, PT_I_ENDING } state;
	int threading_hooked;	/* threading._trace_hook is set in it */
	PyObject **held;	/* references to release in it */
	size_t nheld, capheld;
};

static struct {
	pthread_mutex_t lock;	/* guards v, n, cap and the records */
	struct pt_interp *v;
	size_t n, cap;
	void *home;		/* the interpreter tracing started in */
	int usable;		/* interpreters can be told apart */
	int active;		/* new interpreters are set up */
	int (*set_up)(void);	/* how (pt_interp_watch) */
	int threading_hooked;	/* the flag when !usable */
	int told_own, told_unknown, told_failed;
} reg = { .lock = PTHREAD_MUTEX_INITIALIZER };

int pt_interp_many;
unsigned pt_interp_gen;


#define AT(base, off) (*(void **)((char *)(base) + (off)))

static void bump_gen(void)
{
	__atomic_add_fetch(&pt_interp_gen, 1, __ATOMIC_RELEASE);
}

/* The calling thread's thread state, or NULL; never fatal. */
static void *current_tstate(void)
{
	if (pt_py.ThreadStateUnchecked)
		return pt_py.ThreadStateUnchecked();
	if (pt_py.ThreadStateCurrent)
		return *pt_py.ThreadStateCurrent;	/* 2.7 */
	return NULL;
}

void *pt_interp_current(void)
{
	void *ts = current_tstate();

	if (!ts)
		return NULL;
	if (pt_py.ThreadStateGetInterpreter)
		return pt_py.ThreadStateGetInterpreter(ts);
	/* PyThreadState.interp (layout.c) */
	return pt_py.layout->interp ? AT(ts, pt_py.layout->interp) : NULL;
}

static int64_t interp_id(void *interp)
{
	return pt_py.InterpreterStateGetID ? pt_py.InterpreterStateGetID(interp) : 0;
}

/* The record of `interp` (any id when id < 0), or NULL.  Locked. */
static struct pt_interp *find(void *interp, int64_t id)
{
	for (size_t i = 0; i < reg.n; i++)
		if (reg.v[i].interp == interp && (id < 0 || reg.v[i].id == id))
			return &reg.v[i];
	return NULL;
}

/* A record for `interp`: the one of a dead interpreter at that address,
 * reused, or a new one; NULL without memory.  Locked. */
static struct pt_interp *record(void *interp, int64_t id)
{
	struct pt_interp *r = find(interp, -1);

	if (!r) {
		if (reg.n == reg.cap) {
			size_t cap = reg.cap ? reg.cap * 2 : 8;
			struct pt_interp *v = realloc(reg.v, cap * sizeof(*v));
			if (!v)
				return NULL;
			reg.v = v;
			reg.cap = cap;
		}
		r = &reg.v[reg.n++];
	} else {
		free(r->held);	/* of an interpreter that is gone: not ours */
	}
	memset(r, 0, sizeof(*r));
	r->interp = interp;
	r->id = id;
	return r;
}

/* Drop the record r.  Locked. */
static void forget_record(struct pt_interp *r)
{
	free(r->held);
	*r = reg.v[--reg.n];
}

/* Release references handed over by pt_interp_release, in the calling
 * thread's interpreter (theirs); not locked: deallocation may run code. */
static void release(PyObject **held, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pt_py.DecRef(held[i]);
	free(held);
}

static void after_fork_child(void)
{
	pthread_mutex_init(&reg.lock, NULL);
}

int pt_interp_start(void)
{
	void *ts = pt_py.ThreadStateGet(), *interp;
	int listed = 0;

	interp = pt_interp_current();
	for (void *i = pt_py.InterpreterStateHead(); i && interp;
	     i = pt_py.InterpreterStateNext(i))
		listed |= i == interp;
	if (current_tstate() != ts || !listed) {
		pt_log("cannot tell the interpreters of Python %d.%d apart; "
		       "subinterpreters will not be traced", pt_py.major,
		       pt_py.minor);
		return -1;
	}
	pthread_mutex_lock(&reg.lock);
	struct pt_interp *r = record(interp, interp_id(interp));
	if (r)
		r->state = PT_I_TRACED;
	pthread_mutex_unlock(&reg.lock);
	if (!r)
		return -ENOMEM;
	reg.home = interp;
	reg.usable = 1;
	pthread_atfork(NULL, NULL, after_fork_child);
	return 0;
}

void pt_interp_watch(int (*set_up)(void))
{
	reg.set_up = set_up;
	reg.active = reg.usable;
}

void pt_interp_creating(int on)
{
	pt_thread.creating += on ? 1 : -1;
}

/* Is the 3.12 layout of PyInterpreterState this build's?  Checked on the
 * calling thread's `interp` against the API. */
static int layout_312_ok(void *interp)
{
	PyObject *b = pt_py.EvalGetBuiltins ? pt_py.EvalGetBuiltins() : NULL;

	const struct pt_layout *l = pt_py.layout;

	return b && pt_py.GetRecursionLimit && l->builtins && l->gil &&
	       AT(interp, l->builtins) == (void *)b &&
	       *(int *)((char *)interp + l->recursion) ==
		       pt_py.GetRecursionLimit();
}

/* What the calling thread's `interp`, one no wrapper saw created, has for
 * a GIL. */
static enum pt_gil gil_of(void *interp)
{
	if (pt_py.major < 3 || (pt_py.major == 3 && pt_py.minor < 12))
		return PT_GIL_SHARED;	/* one GIL for all before 3.12 */
	if (pt_py.InterpreterConfigFromState) {
		int config[16] = { 0 };	/* PyInterpreterConfig: 7 ints, gil last */
		if (pt_py.InterpreterConfigFromState(config, interp) < 0) {
			pt_py.ErrClear();
			return PT_GIL_UNKNOWN;
		}
		return config[6] == 2 ? PT_GIL_OWN : PT_GIL_SHARED;
	}
	void *main = pt_py.InterpreterStateMain ? pt_py.InterpreterStateMain() : NULL;
	if (pt_py.minor == 12 && main && layout_312_ok(interp) &&
	    AT(main, pt_py.layout->gil))
		return AT(interp, pt_py.layout->gil) == AT(main, pt_py.layout->gil) ?
			       PT_GIL_SHARED : PT_GIL_OWN;
	return PT_GIL_UNKNOWN;
}

/* Set up the calling thread's interpreter `interp`, new to pytrace. */
static void set_up(void *interp, int64_t id, enum pt_gil gil)
{
	int traced = gil == PT_GIL_SHARED && !pt_state.stopped;
	struct pt_interp *r;

	pthread_mutex_lock(&reg.lock);
	if (find(interp, id)) {
		pthread_mutex_unlock(&reg.lock);
		return;		/* known already (maybe ending) */
	}
	r = record(interp, id);
	if (r)
		r->state = traced ? PT_I_TRACED : PT_I_LEFT;
	pthread_mutex_unlock(&reg.lock);
	bump_gen();
	if (!r)
		return;
	if (gil == PT_GIL_OWN &&
	    !__atomic_exchange_n(&reg.told_own, 1, __ATOMIC_RELAXED))
		pt_log("a subinterpreter with its own GIL (PEP 684) is not "
		       "traced: pytrace's caches are shared by all "
		       "interpreters and need them to share one GIL");
	if (gil == PT_GIL_UNKNOWN &&
	    !__atomic_exchange_n(&reg.told_unknown, 1, __ATOMIC_RELAXED))
		pt_log("pytrace cannot tell whether a subinterpreter of Python "
		       "%d.%d has its own GIL; it is not traced", pt_py.major,
		       pt_py.minor);
	if (!traced)
		return;
	__atomic_store_n(&pt_interp_many, 1, __ATOMIC_RELEASE);
	pt_thread.busy++;
	int rc = reg.set_up();
	pt_thread.busy--;
	if (rc == 0)
		return;
	pthread_mutex_lock(&reg.lock);
	if ((r = find(interp, id)))
		r->state = PT_I_LEFT;
	pthread_mutex_unlock(&reg.lock);
	bump_gen();
	if (!reg.told_failed++)
		pt_log("a subinterpreter cannot be traced the way the main one "
		       "is; it runs untraced");
}

void pt_interp_created(enum pt_gil gil)
{
	void *interp;

	if (!reg.active || pt_thread.busy || !(interp = pt_interp_current()))
		return;
	if (gil == PT_GIL_UNKNOWN)
		gil = gil_of(interp);
	set_up(interp, interp_id(interp), gil);
}

/* The calling thread's interpreter `interp` ends: forget its code objects
 * (`release`: releasing the references, in it) and cache nothing more. */
static void ended(void *interp, int release_refs)
{
	PyObject **held = NULL;
	size_t n = 0;
	int traced = 0;

	if (!interp || interp == reg.home)
		return;
	pthread_mutex_lock(&reg.lock);
	struct pt_interp *r = find(interp, -1);
	if (r && r->state != PT_I_ENDING) {
		traced = r->state == PT_I_TRACED;
		r->state = PT_I_ENDING;
		held = r->held;
		n = r->nheld;
		r->held = NULL;
		r->nheld = r->capheld = 0;
	}
	pthread_mutex_unlock(&reg.lock);
	if (!r)
		return;
	bump_gen();
	if (traced)
		pt_codemap_forget(interp, release_refs);
	if (release_refs) {
		release(held, n);
	} else {
		free(held);	/* their interpreter is gone */
	}
}

void pt_interp_end_wrapper(int after)
{
	if (!reg.usable)
		return;
	if (!after) {
		pt_thread.ending = pt_interp_current();
		/* 2.7-3.7 have no audit event for it: now, before its end */
		if (!pt_py.AddAuditHook) {
			PyObject *et, *ev, *etb;
			pt_py.ErrFetch(&et, &ev, &etb);
			ended(pt_thread.ending, 1);
			pt_py.ErrRestore(et, ev, etb);
		}
		return;
	}
	/* The interpreter is gone.  Whatever was not forgotten in it (no
	 * audit event came) is dropped without touching the objects. */
	ended(pt_thread.ending, 0);
	pthread_mutex_lock(&reg.lock);
	struct pt_interp *r = find(pt_thread.ending, -1);
	if (r && pt_thread.ending != reg.home)
		forget_record(r);
	pthread_mutex_unlock(&reg.lock);
	pt_thread.ending = NULL;
	bump_gen();
}

/* Has `site`'s module body not finished yet?  From its spec, as
 * importlib marks a module being loaded. */
static int site_running(PyObject *site)
{
	if (!pt_py.ObjectIsTrue)
		return 1;	/* cannot tell: never set up from here */
	PyObject *spec = pt_py.GetAttrString(site, "__spec__");
	PyObject *busy = spec ? pt_py.GetAttrString(spec, "_initializing") : NULL;
	int running = busy && pt_py.ObjectIsTrue(busy) == 1;

	if (busy)
		pt_py.DecRef(busy);
	if (spec)
		pt_py.DecRef(spec);
	return running;
}

/* Has the calling thread's interpreter initialised (see the top)?
 * `event` and `args` are the audit event that asks. */
static int initialised(const char *event, PyObject *args)
{
	PyObject *et, *ev, *etb, *mods, *a;
	char name[8];
	int ready = 0;

	pt_py.ErrFetch(&et, &ev, &etb);
	if (strcmp(event, "import") == 0 && (a = pt_py.TupleGetItem(args, 0)) &&
	    pt_py_cstr(a, name, sizeof(name)) >= 0 && strcmp(name, "site") == 0)
		goto out;	/* site is about to run */
	mods = pt_py.SysGetObject("modules");	/* NULL while sys is not set up */
	if (mods && pt_py.DictGetItemString(mods, "__main__")) {
		PyObject *site = pt_py.DictGetItemString(mods, "site");
		ready = !site || !site_running(site);
	}
out:
	pt_py.ErrClear();
	pt_py.ErrRestore(et, ev, etb);
	return ready;
}

void pt_interp_audit(const char *event, PyObject *args)
{
	unsigned gen = __atomic_load_n(&pt_interp_gen, __ATOMIC_ACQUIRE);
	void *interp;

	if (!reg.usable || pt_thread.busy)
		return;
	if (event[0] == 'c' &&
	    strcmp(event, "cpython.PyInterpreterState_Clear") == 0) {
		pt_thread.busy++;
		ended(pt_interp_current(), 1);
		pt_thread.busy--;
		return;
	}
	interp = pt_interp_current();
	if (!reg.active || !interp || pt_thread.creating ||
	    (interp == pt_thread.seen && gen == pt_thread.seen_gen))
		return;
	int64_t id = interp_id(interp);
	pthread_mutex_lock(&reg.lock);
	int known = find(interp, id) != NULL;
	pthread_mutex_unlock(&reg.lock);
	if (!known) {
		pt_thread.busy++;
		int ready = initialised(event, args);
		if (ready)
			set_up(interp, id, gil_of(interp));
		pt_thread.busy--;
		if (!ready)
			return;
		gen = __atomic_load_n(&pt_interp_gen, __ATOMIC_ACQUIRE);
	}
	pt_thread.seen = interp;
	pt_thread.seen_gen = gen;
}

void *pt_interp_owner(void)
{
	void *interp, *owner = NULL;
	PyObject **held = NULL;
	size_t n = 0;

	if (!reg.usable)
		return &reg;	/* one owner for all, as before */
	interp = pt_interp_current();
	if (!interp)
		return NULL;
	if (interp == reg.home && !__atomic_load_n(&pt_interp_many, __ATOMIC_ACQUIRE))
		return interp;
	int64_t id = interp_id(interp);
	pthread_mutex_lock(&reg.lock);
	struct pt_interp *r = find(interp, id);
	if (r && r->state == PT_I_TRACED) {
		owner = interp;
		held = r->held;
		n = r->nheld;
		r->held = NULL;
		r->nheld = r->capheld = 0;
	}
	pthread_mutex_unlock(&reg.lock);
	release(held, n);
	return owner;
}

void pt_interp_release(PyObject *code, const void *owner)
{
	if (!reg.usable || owner == pt_interp_current()) {
		pt_py.DecRef(code);
		return;
	}
	pthread_mutex_lock(&reg.lock);
	struct pt_interp *r = find((void *)owner, -1);
	if (r && r->state != PT_I_ENDING && r->nheld == r->capheld) {
		size_t cap = r->capheld ? r->capheld * 2 : 64;
		PyObject **h = realloc(r->held, cap * sizeof(*h));
		if (h) {
			r->held = h;
			r->capheld = cap;
		}
	}
	/* Without memory the reference is kept for good: the object then
	 * outlives its use, which is safe. */
	if (r && r->state != PT_I_ENDING && r->nheld < r->capheld)
		r->held[r->nheld++] = code;
	pthread_mutex_unlock(&reg.lock);
}

int pt_interp_threading_hooked(int set)
{
	int *flag = &reg.threading_hooked, was;

	if (!reg.usable) {
		was = *flag;
		*flag |= set;
		return was;
	}
	void *interp = pt_interp_current();
	pthread_mutex_lock(&reg.lock);
	struct pt_interp *r = find(interp, -1);
	was = r ? r->threading_hooked : 1;
	if (r && set)
		r->threading_hooked = 1;
	pthread_mutex_unlock(&reg.lock);
	return was;
}

void pt_interp_each(void (*fn)(void *interp))
{
	void **all = NULL;
	size_t n = 0;

	if (!reg.usable)
		return;
	pthread_mutex_lock(&reg.lock);
	if (reg.n && (all = malloc(reg.n * sizeof(*all))))
		for (size_t i = 0; i < reg.n; i++)
			if (reg.v[i].state == PT_I_TRACED)
				all[n++] = reg.v[i].interp;
	pthread_mutex_unlock(&reg.lock);
	for (size_t i = 0; i < n; i++)
		fn(all[i]);
	free(all);
}
