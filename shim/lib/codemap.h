/* SPDX-License-Identifier: MIT */
/*
 * codemap.h - the per-code-object cache: code object -> what a trace line
 * needs of it, or NULL when the code is ignored.  Touched only with the
 * GIL held.
 *
 * On 3.7+ the map keeps no code object alive: each code object it knows
 * carries a mark in pytrace's extra slot (PEP 523), and its entry goes
 * when the interpreter frees it.  Where no extra slot can be had (2.7;
 * 3.6, see pyapi.c; every extra index taken; a thread of another
 * interpreter than the one that gave pytrace its index) the map holds a
 * reference to the code object instead, and is emptied when
 * PT_CODEMAP_MAX of those are held.
 */
#ifndef PYTRACE_CODEMAP_H
#define PYTRACE_CODEMAP_H

#include "pyapi.h"
#include "source.h"

/* A code object that is traced, or that matters to a scope (scoped.h).
 * Freed with its code object (or by pt_codemap_clear): valid while that
 * code object runs, not after. */
struct pt_code {
	struct pt_file *file;
	char *module;		/* dotted __name__ of its module, or "" */
	char *function;		/* co_name */
	/* record mode (record.c): the id of its definition, and the
	 * generation in which that definition is known to be in the file */
	struct { uint32_t id, gen; } rec;
	/* its lines are written (where a scope lets them); 0: ignored by
	 * the rules, here only for what it is to a scope */
	unsigned char traced;
	/* a scope function (scope.h); qualname: the name it matched by */
	unsigned char scope;
	/* threading's Thread.start or Thread._bootstrap (scope_threads) */
	unsigned char role;	/* PT_ROLE_* */
	char *qualname;
};

/* What a code object of threading is to scope_threads. */
enum { PT_ROLE_NONE, PT_ROLE_START, PT_ROLE_BOOT };

/*
 * pt_codemap_start - ask the interpreter for an extra slot in code
 * objects (3.7+), so that the map need not keep them alive.  Once, with
 * the GIL held, before the first pt_codemap_add.  Without one (2.7, 3.6,
 * or every index taken) the map holds references, and gives each back
 * through `release` (code, owner), which releases it in its owner.
 * Returns 1, or 0 when the map was started before (nothing done).
 */
int pt_codemap_start(void (*release)(PyObject *code, const void *owner));

/* The two code objects found last and their decisions, compared first by
 * pt_codemap_find: consecutive events are mostly in the same code object,
 * or alternate between two (a generator and its consumer, a function and
 * its caller in a loop).  Forgotten (code NULL) whenever that code
 * object is freed or the map is emptied, so they are never stale. */
extern struct pt_codemap_last {
	const PyObject *code;
	struct pt_code *c;
} pt_codemap_last, pt_codemap_prev;

/* The hash table: open addressing, linear probing, at most half full;
 * codemap.c's alone to change. */
struct pt_codemap_slot {
	const PyObject *code;	/* NULL: empty slot */
	struct pt_code *c;
	const void *owner;	/* the interpreter of `code` */
};

extern struct pt_codemap_table {
	struct pt_codemap_slot *slots;	/* NULL until the first add */
	size_t mask;		/* capacity - 1; capacity is a power of two */
} pt_codemap_table;

/* pt_codemap_home - where the probe for `code` starts. */
static inline size_t pt_codemap_home(const PyObject *code, size_t mask)
{
	/* Objects are 16-byte aligned: drop the low bits, then spread. */
	return (size_t)((((uintptr_t)code >> 4) * 0x9E3779B97F4A7C15ull) >>
			17) & mask;
}

/* pt_codemap_find_slow - pt_codemap_find past its inline part: the rest
 * of the probe. */
int pt_codemap_find_slow(const PyObject *code, struct pt_code **c);

/*
 * pt_codemap_recent - pt_codemap_find's inline part: 1 and *c when `code`
 * is one of the two found last, or in its home slot of the table (it is
 * the last from then on), else 0.  A program's hot code is mostly more
 * than two code objects (W1: four, asyncio's loop: dozens), nearly all in
 * their home slots.
 */
static inline __attribute__((always_inline)) int
pt_codemap_recent(const PyObject *code, struct pt_code **c)
{
	if (code == pt_codemap_last.code) {
		*c = pt_codemap_last.c;
		return 1;
	}
	struct pt_codemap_last was = pt_codemap_prev;
	if (code != was.code) {
		const struct pt_codemap_table *t = &pt_codemap_table;
		if (!t->slots)
			return 0;
		const struct pt_codemap_slot *s =
			&t->slots[pt_codemap_home(code, t->mask)];
		if (s->code != code)
			return 0;
		was = (struct pt_codemap_last){ code, s->c };
	}
	pt_codemap_prev = pt_codemap_last;
	pt_codemap_last = was;
	*c = was.c;
	return 1;
}

/*
 * pt_codemap_find - 1 and *c (NULL: ignored) when `code` was decided, 0
 * when it is new.  O(1): inline, two comparisons for the code objects
 * found last, then one multiplicative hash and its home slot; else the
 * rest of a short probe.
 */
static inline int pt_codemap_find(const PyObject *code, struct pt_code **c)
{
	return pt_codemap_recent(code, c) || pt_codemap_find_slow(code, c);
}

/*
 * pt_codemap_add - remember the decision for `code`, a code object of the
 * interpreter `owner` (pt_interp_owner), which the map owns
 * from now on (NULL: ignored).  So that its address is never taken for
 * another object's, the map forgets `code` when the interpreter frees it
 * (marked in its extra slot), or, where it cannot be marked, holds a
 * reference to it.  Call with no Python exception set: a failed mark
 * sets one, which is cleared.  Returns 0 or -ENOMEM (the decision is
 * then simply not cached, and `c` stays the caller's).
 */
int pt_codemap_add(PyObject *code, struct pt_code *c, const void *owner);

/*
 * pt_codemap_forget - forget the code objects of interpreter `owner`,
 * which ends: with `release`, release the references held for it (in
 * that interpreter, the calling thread's); without, drop them untouched
 * (it is gone).  O(capacity).  With the GIL, and no struct pt_code pointer
 * of `owner` kept across it.
 */
void pt_codemap_forget(const void *owner, int release);

/* How many references to code objects the map holds at most before it is
 * emptied (only code objects it could not mark are held). */
enum { PT_CODEMAP_MAX = 65536 };

/* pt_codemap_size - how many code objects the map knows. */
size_t pt_codemap_size(void);

/* pt_codemap_held - how many of them the map holds a reference to. */
size_t pt_codemap_held(void);

/*
 * pt_codemap_clear - forget every decision: free the records and release
 * the code objects held, each in its own interpreter (the `release` of
 * pt_codemap_start).  Decisions are made again as code runs.  With
 * the GIL held, and no struct pt_code pointer kept across it.  Releasing a
 * code object may run Python code (weak reference callbacks): the map is
 * empty and usable by then.
 */
void pt_codemap_clear(void);

#endif
