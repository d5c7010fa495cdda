/* SPDX-License-Identifier: MIT */
/*
 * scoped.c - the frames in a scope (scoped.h): an open-addressing table
 * keyed by frame, holding each one's depth and the scope function it is
 * beneath; and the threads that start in a scope.
 *
 * The table holds only frames in a scope, each until it ends or
 * suspends, so it stays as small as the scopes' stacks; with the back
 * ends that place the other frames themselves (pt_scoped.light, .walk),
 * only the frames of the scope functions (and threading's).  A frame
 * whose end went unseen (a back end stopped while it ran) would leave its
 * key behind; every frame that starts sets its own entry anew, and the
 * table is emptied whenever tracing starts.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"
#include "scoped.h"
#include "state.h"
#include "trace.h"

struct pt_scoped pt_scoped;

/* A scope function's names, kept until tracing starts again (its code
 * object may go before the frames beneath it, in other threads). */
struct names {
	char *module, *qualname;
	struct names *next;
};

struct slot {
	const void *key;	/* NULL: empty */
	const struct names *root;	/* the scope function beneath which */
	int depth;
	/* the thread's newest entry before this one (pt_thread.stop) */
	const void *below;
	/* the frame stack it runs on (frames.h), NULL: not known */
	const void *stack;
};

/* A thread that threading starts inside a scope (scope_threads), until
 * its first frame pytrace sees: its Thread object, held (Thread.start
 * may return before that frame starts). */
struct pending {
	PyObject *thread;
	const struct names *root;
	int depth;
};

enum { PENDING_MAX = 64 };

static struct {
	struct slot *slots;
	size_t mask;
	int lines;		/* scope_lines */
	int threads;		/* scope_threads */
	struct pending pending[PENDING_MAX];
	int npending;
	struct names *names;	/* every scope function's seen */
	/* how many keys in the table have each bit of pt_scoped.bloom */
	unsigned count[64];
} sd;

/* `key` is in the table now, or is no longer. */
static void bloom_add(const void *key)
{
	unsigned b = pt_scoped_bloom_bit(key);

	sd.count[b]++;
	pt_scoped.bloom |= 1ull << b;
}

static void bloom_del(const void *key)
{
	unsigned b = pt_scoped_bloom_bit(key);

	if (sd.count[b] && !--sd.count[b])
		pt_scoped.bloom &= ~(1ull << b);
}

/* The names of scope function `c`, kept; NULL when out of memory.
 * O(scope functions seen). */
static const struct names *names_of(const struct pt_code *c)
{
	struct names *n;

	for (n = sd.names; n; n = n->next)
		if (strcmp(n->qualname, c->qualname) == 0 &&
		    strcmp(n->module, c->module) == 0)
			return n;
	n = calloc(1, sizeof(*n));
	if (!n || !(n->module = strdup(c->module)) ||
	    !(n->qualname = strdup(c->qualname))) {
		if (n)
			free(n->module);
		free(n);
		return NULL;
	}
	n->next = sd.names;
	sd.names = n;
	return n;
}

static inline size_t home(const void *key, size_t mask)
{
	return (size_t)((((uintptr_t)key >> 4) * 0x9E3779B97F4A7C15ull) >> 17) &
	       mask;
}

static struct slot *find(const void *key)
{
	if (!sd.slots)
		return NULL;
	for (size_t i = home(key, sd.mask);; i = (i + 1) & sd.mask) {
		if (sd.slots[i].key == key)
			return &sd.slots[i];
		if (!sd.slots[i].key)
			return NULL;
	}
}

static void put(struct slot *slots, size_t mask, struct slot s)
{
	size_t i = home(s.key, mask);

	while (slots[i].key)
		i = (i + 1) & mask;
	slots[i] = s;
}

/* The slot of `key`, or the empty one where it goes. */
static struct slot *slot_of(const void *key)
{
	size_t i = home(key, sd.mask);

	while (sd.slots[i].key && sd.slots[i].key != key)
		i = (i + 1) & sd.mask;
	return &sd.slots[i];
}

/* This thread's last answer: frame `key` is at `depth` (0: out) of scope
 * `root`. */
static inline void remember(const void *key, int depth, const void *root)
{
	pt_thread.skey = key;
	pt_thread.sdepth = depth;
	pt_thread.sroot = root;
	pt_thread.sgen = pt_scoped.gen;
}

/* This thread's newest entry (the top of its entries, each linked to
 * the one before by `below`), or NULL. */
static inline const void *thread_top(void)
{
	return pt_scoped_top();
}

/* Entry `at` (NULL: none) is this thread's newest: its key, stack and
 * scope kept where pt_scoped_here reads them. */
static void top_is(const struct slot *at)
{
	pt_thread.stop = at ? at->key : NULL;
	pt_thread.stop_stack = at ? at->stack : NULL;
	pt_thread.stop_root = at ? at->root : NULL;
	pt_thread.stopgen = pt_scoped.gen;
}

/* Entry `at`, of a frame of this thread, is about to go: out of the
 * thread's entries.  It is the newest but where a green thread switched
 * between frames in a scope; then found among them.  O(entries of the
 * thread) then, O(1) else. */
static void unlink_entry(const struct slot *at)
{
	const void *top = thread_top();

	if (!pt_scoped.walk)
		return;
	if (top == at->key) {
		top_is(at->below ? find(at->below) : NULL);
		return;
	}
	for (const void *k = top; k;) {
		struct slot *s = find(k);
		if (!s)
			return;
		if (s->below == at->key) {
			s->below = at->below;
			return;
		}
		k = s->below;
	}
}

/* A depth below the scope function: below the depth shown, one depth
 * stands for all. */
static inline int cap(long depth)
{
	if (pt_scoped.max && depth > pt_scoped.max + 1)
		depth = pt_scoped.max + 1;
	return (int)depth;
}

/* The entry of the first of `p` and its callers in the table, and how
 * many frames up it is (*k). */
static const struct slot *nearest(void *p, long *k)
{
	const struct pt_frame_links l = pt_frame_links;
	const uint64_t bloom = pt_scoped.bloom;

	for (*k = 0; p; ++*k) {
		if (bloom & (1ull << pt_scoped_bloom_bit(p))) {
			const struct slot *at = find(p);
			if (at)
				return at;
		}
		if (!l.ok) {
			p = pt_frame_caller(p);
			continue;
		}
		/* pt_frame_caller_fast, with the offsets held */
		do
			p = *(void **)((char *)p + l.previous);
		while (p && l.owner && *((unsigned char *)p + l.owner) >=
					  PT_FRAME_OWNED_BY_SHIM);
	}
	return NULL;
}

/* The depth of the running frame `key` (0: out of scope) and its scope,
 * from this thread's last answer or the table. */
static int lookup(const void *key, const struct names **root)
{
	if (key == pt_thread.skey && pt_thread.sgen == pt_scoped.gen) {
		*root = pt_thread.sroot;
		return pt_thread.sdepth;
	}
	int depth = 0;
	long k = 0;
	const struct slot *at = !pt_scoped.n ? NULL :
				pt_scoped.light ? nearest((void *)key, &k) :
				find(key);
	if (at) {
		depth = cap(at->depth + k);
		*root = at->root;
	} else {
		*root = NULL;
	}
	remember(key, depth, *root);
	return depth;
}

/* Room for one more entry; 0 or -1 (out of memory: the frame is then
 * taken for out of scope). */
static int room(void)
{
	if (sd.slots && (pt_scoped.n + 1) * 2 <= sd.mask + 1)
		return 0;
	size_t cap = sd.slots ? (sd.mask + 1) * 2 : 256;
	struct slot *s = calloc(cap, sizeof(*s));
	if (!s)
		return -1;
	for (size_t i = 0; sd.slots && i <= sd.mask; i++)
		if (sd.slots[i].key)
			put(s, cap - 1, sd.slots[i]);
	free(sd.slots);
	sd.slots = s;
	sd.mask = cap - 1;
	return 0;
}

/* Empty slot `at`, moving back the entries after it that its hole would
 * hide from their probe (as codemap.c). */
static void remove_slot(struct slot *at)
{
	size_t i = (size_t)(at - sd.slots), mask = sd.mask;

	bloom_del(at->key);
	for (size_t j = (i + 1) & mask; sd.slots[j].key; j = (j + 1) & mask) {
		size_t h = home(sd.slots[j].key, mask);
		if (((j - h) & mask) >= ((j - i) & mask)) {
			sd.slots[i] = sd.slots[j];
			i = j;
		}
	}
	sd.slots[i].key = NULL;
	pt_scoped.n--;
}

/* Forget pending thread `i` (its Thread object runs, or never will). */
static void forget_pending(int i)
{
	pt_py.DecRef(sd.pending[i].thread);
	sd.pending[i] = sd.pending[--sd.npending];
}

void pt_scoped_stop(void)
{
	while (sd.npending)
		forget_pending(sd.npending - 1);
}

void pt_scoped_start(const struct pt_settings *s)
{
	pt_scoped_stop();
	while (sd.names) {
		struct names *n = sd.names;
		sd.names = n->next;
		free(n->module);
		free(n->qualname);
		free(n);
	}
	free(sd.slots);
	sd.slots = NULL;
	sd.mask = 0;
	pt_scoped.bloom = 0;
	memset(sd.count, 0, sizeof(sd.count));
	pt_scoped.gen++;
	pt_scoped.n = 0;
	pt_scoped.walk = 0;
	pt_scoped.light = 0;
	pt_scoped.on = s->scope.n != 0;
	pt_scoped.max = (long)s->scope_depth;
	sd.lines = s->scope_lines;
	sd.threads = s->scope_threads;
}

/* A Thread.start in a scope: its thread is pending.  Past PENDING_MAX
 * (threads that failed to start), the oldest is forgotten. */
static void thread_starts(PyObject *thread, const struct names *root,
			  int depth)
{
	if (!thread)
		return;
	for (int i = 0; i < sd.npending; i++)
		if (sd.pending[i].thread == thread)
			return;
	if (sd.npending == PENDING_MAX)
		forget_pending(0);
	pt_py.IncRef(thread);
	sd.pending[sd.npending++] = (struct pending){ thread, root, depth };
}

/* A new thread's first frame seen: the depth of the Thread.start that
 * started it in a scope, and the scope; 0 when it was not. */
static int thread_boots(PyObject *thread, const struct names **root)
{
	for (int i = 0; thread && i < sd.npending; i++) {
		if (sd.pending[i].thread != thread)
			continue;
		int depth = sd.pending[i].depth;
		*root = sd.pending[i].root;
		forget_pending(i);	/* the thread keeps its object */
		return depth;
	}
	return 0;
}

int pt_scoped_enter(const void *key, const struct pt_code *c, const void *back,
		    PyObject *self)
{
	const struct names *croot = NULL;

	if (!pt_scoped.n && !(c && (c->scope || c->role)))
		return 0;
	int cdepth = back ? lookup(back, &croot) : 0;
	return pt_scoped_enter_at(key, c, cdepth, croot, self, NULL);
}

int pt_scoped_enter_at(const void *key, const struct pt_code *c, int cdepth,
		       const void *caller_root, PyObject *self,
		       const void *stack)
{
	const struct names *root = NULL, *croot = caller_root;
	int depth, begins = 0;

	if (!pt_scoped.n && !(c && (c->scope || c->role)))
		return 0;
	if (c && c->role == PT_ROLE_BOOT && !cdepth && sd.threads &&
	    (depth = thread_boots(self, &root))) {
		depth++;
		begins = 1;
	} else if (c && c->scope) {
		const struct slot *at = find(key);
		if (at && at->depth == 1)
			return 1;	/* told twice (monitor.c's two tools) */
		root = names_of(c);
		depth = 1;
		begins = !cdepth;
	} else if (cdepth) {
		root = croot;
		/* below the depth shown, one depth stands for all */
		depth = cdepth + (!pt_scoped.max || cdepth <= pt_scoped.max);
	} else {
		depth = 0;
	}
	if (!depth || !root || room() < 0) {
		struct slot *at = pt_scoped.n ? find(key) : NULL;
		if (at) {
			unlink_entry(at);
			remove_slot(at);
		}
		remember(key, 0, NULL);
		return 0;	/* out of scope (or of memory) */
	}
	struct slot *at = slot_of(key);
	int added = !at->key;
	if (added) {
		at->key = key;
		pt_scoped.n++;
		bloom_add(key);
		at->below = pt_scoped.walk ? thread_top() : NULL;
	}
	at->root = root;
	at->depth = depth;
	at->stack = stack;
	if (pt_scoped.walk && (added || thread_top() == key))
		top_is(at);
	remember(key, depth, root);
	if (begins && sd.lines)
		pt_trace_scope(root->module, root->qualname);
	if (c && c->role == PT_ROLE_START && sd.threads)
		thread_starts(self, root, depth);
	return depth;
}

int pt_scoped_call_slow(const void *key, const struct pt_code *c,
			const void *back, PyObject *self,
			struct pt_scoped_place *caller)
{
	const struct names *croot = NULL;

	caller->depth = 0;
	caller->root = NULL;
	caller->gen = pt_scoped.gen;
	if (!pt_scoped.n && !(c && (c->scope || c->role)))
		return 0;
	int cdepth = back ? lookup(back, &croot) : 0;
	caller->depth = cdepth;
	caller->root = croot;
	if (c && (c->scope || c->role))
		return pt_scoped_enter_at(key, c, cdepth, croot, self, NULL);
	int depth = cdepth ? cap((long)cdepth + 1) : 0;
	remember(key, depth, depth ? croot : NULL);
	return depth;
}

void pt_scoped_return_slow(const void *key, const void *back,
			   const struct pt_scoped_place *caller)
{
	if (pt_scoped.bloom & (1ull << pt_scoped_bloom_bit(key))) {
		struct slot *at = find(key);
		if (at) {
			unlink_entry(at);
			remove_slot(at);
		}
	}
	if (back && caller && caller->gen == pt_scoped.gen)
		remember(back, caller->depth, caller->root);
	else if (pt_thread.skey == key)
		pt_thread.skey = NULL;
}

/*
 * The callers' places of a back end without a C frame across a call
 * (2.7's profile function): a stack per thread, pushed at each call and
 * popped at each return, malloc'd and freed when the thread ends.  A
 * return that is not the newest call's (a green thread switched stacks,
 * a frame began before tracing) empties it: those frames are placed by
 * their callers (pt_scoped_walk).
 */
enum { CALLS_MAX = 1 << 16 };

static pthread_key_t calls_key;
static pthread_once_t calls_once = PTHREAD_ONCE_INIT;
static int calls_ok;

/* The thread ends (its key's destructor, in that thread): a frame that
 * still runs after this (another destructor calling Python) makes a new
 * stack, freed in turn. */
static void calls_free(void *p)
{
	if (pt_thread.calls == p)
		pt_thread.calls = NULL;
	free(p);
}

static void calls_init(void)
{
	calls_ok = pthread_key_create(&calls_key, calls_free) == 0;
}

void pt_scoped_push_slow(const void *key, const struct pt_scoped_place *caller)
{
	struct pt_scoped_calls *cs = pt_thread.calls;

	if (cs && cs->gen != pt_scoped.gen) {
		cs->n = 0;
		cs->gen = pt_scoped.gen;
	}
	if (!cs || cs->n == cs->cap) {
		size_t cap = cs ? cs->cap * 2 : 64;
		pthread_once(&calls_once, calls_init);
		if (!calls_ok || cap > CALLS_MAX)
			return;	/* its return will be placed by the walk */
		struct pt_scoped_calls *grown =
			realloc(cs, sizeof(*cs) + cap * sizeof(cs->v[0]));
		if (!grown)
			return;
		if (!cs) {
			grown->n = 0;
			grown->gen = pt_scoped.gen;
		}
		grown->cap = cap;
		cs = grown;
		pt_thread.calls = cs;
		pthread_setspecific(calls_key, cs);
	}
	cs->v[cs->n++] = (struct pt_scoped_call){ key, *caller };
}

void pt_scoped_leave(const void *key)
{
	struct slot *at = find(key);

	if (pt_thread.skey == key)
		pt_thread.skey = NULL;
	if (!at)
		return;
	unlink_entry(at);
	remove_slot(at);
}

/* The thread's newest entry when `key` is it or among its callers
 * (*k frames up); else NULL.  Most lines in a scope are beneath it, and
 * then no other frame is tested: a frame there started after it, and
 * would be the newer entry.  Left behind by a green thread that
 * switched away, it is still a running frame: one among the callers is
 * that frame. */
static const struct slot *newest(void *p, long *k)
{
	const struct pt_frame_links l = pt_frame_links;
	const void *top = thread_top();

	if (!top || !l.ok)
		return NULL;
	for (*k = 0; p; ++*k) {
		if (p == top)
			return find(top);	/* always there */
		do
			p = *(void **)((char *)p + l.previous);
		while (p && l.owner && *((unsigned char *)p + l.owner) >=
					  PT_FRAME_OWNED_BY_SHIM);
	}
	return NULL;
}

int pt_scoped_walk(const void *key, const void **root)
{
	const struct slot *at;
	long k;

	*root = NULL;
	if (!pt_scoped.n)
		return 0;
	if (!(at = newest((void *)key, &k)) && !(at = nearest((void *)key, &k)))
		return 0;
	*root = at->root;
	return cap(at->depth + k);
}

int pt_scoped_lookup(const void *key)
{
	const struct names *root;

	return lookup(key, &root);
}
