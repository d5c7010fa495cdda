/* SPDX-License-Identifier: MIT */
/*
 * scoped.c - the frames in a scope (scoped.h): an open-addressing table
 * keyed by frame, holding each one's depth and the scope function it is
 * beneath; and the threads that start in a scope.
 *
 * The table holds only frames in a scope, each until it ends or
 * suspends, so it stays as small as the scopes' stacks.  A frame whose
 * end went unseen (a back end stopped while it ran) would leave its key
 * behind; every frame that starts sets its own entry anew, and the table
 * is emptied whenever tracing starts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
} sd;

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

/* The depth of the running frame `key` (0: out of scope) and its scope,
 * from this thread's last answer or the table. */
static int lookup(const void *key, const struct names **root)
{
	if (key == pt_thread.skey && pt_thread.sgen == pt_scoped.gen) {
		*root = pt_thread.sroot;
		return pt_thread.sdepth;
	}
	const struct slot *at = pt_scoped.n ? find(key) : NULL;
	*root = at ? at->root : NULL;
	remember(key, at ? at->depth : 0, *root);
	return at ? at->depth : 0;
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
	pt_scoped.gen++;
	pt_scoped.n = 0;
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
	const struct names *root = NULL, *croot = NULL;
	int depth, begins = 0;

	if (!pt_scoped.n && !(c && (c->scope || c->role)))
		return 0;
	int cdepth = back ? lookup(back, &croot) : 0;
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
		if (at)
			remove_slot(at);
		remember(key, 0, NULL);
		return 0;	/* out of scope (or of memory) */
	}
	struct slot *at = slot_of(key);
	if (!at->key) {
		at->key = key;
		pt_scoped.n++;
	}
	at->root = root;
	at->depth = depth;
	remember(key, depth, root);
	if (begins && sd.lines)
		pt_trace_scope(root->module, root->qualname);
	if (c && c->role == PT_ROLE_START && sd.threads)
		thread_starts(self, root, depth);
	return depth;
}

void pt_scoped_leave(const void *key)
{
	struct slot *at = find(key);

	if (pt_thread.skey == key)
		pt_thread.skey = NULL;
	if (!at)
		return;
	remove_slot(at);
}

int pt_scoped_lookup(const void *key)
{
	const struct names *root;

	return lookup(key, &root);
}
