/* SPDX-License-Identifier: MIT */
/*
 * codemap.c - open-addressing hash table keyed by code object address.
 *
 * The trace function looks up every line event here, so a hit is a multiply,
 * a mask and usually one comparison, and the last code object found is
 * compared first.  The table doubles at half load; linear probing, and
 * deletion by shifting the entries after a hole back (no tombstones).
 *
 * An entry must go when its code object is freed: another object may then
 * be given the same address.  On 3.7+ each code object added is marked in
 * pytrace's extra slot (PEP 523, co_extra) with its own address; when the
 * interpreter frees the code object it calls code_freed() with that
 * address, which removes the entry and frees its struct pt_code.  The map
 * holds no reference, so code objects live and die as they would untraced,
 * and the hot path is unchanged.  code_freed() uses its argument only as a
 * key, never dereferenced.
 *
 * Extra indexes are numbered per interpreter: pytrace marks code only from
 * a thread of the interpreter that gave it its index (another's index of
 * that number would belong to somebody else).  Where code cannot be marked
 * (2.7, 3.6: see pyapi.c; no index, another interpreter, out of memory)
 * the map holds a reference to it instead, and pt_trace_decide empties
 * the map when PT_CODEMAP_MAX such references are held.
 *
 * Each entry knows the interpreter its code object belongs to (its
 * owner): an interpreter that ends has its entries forgotten, and the
 * references held for it released in it (pt_codemap_forget); emptying
 * the map releases each in its own interpreter (through the function
 * given to pt_codemap_start: subinterp.c's pt_interp_release).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "codemap.h"
#include "pytrace.h"

/* A reference the map holds, and the interpreter it belongs to. */
struct pt_held {
	PyObject *code;
	const void *owner;
};

/* The table (codemap.h), read inline by pt_codemap_recent. */
struct pt_codemap_table pt_codemap_table;
static struct pt_codemap_table *const tab = &pt_codemap_table;

static struct {
	size_t used;
	Py_ssize_t index;	/* pytrace's extra slot; -1: none */
	void *interp;		/* the interpreter that gave it */
	struct pt_held *held;	/* code objects the map holds references to */
	size_t nheld, capheld;
	/* gives a held reference back, in its owner (pt_codemap_start) */
	void (*release)(PyObject *code, const void *owner);
} map = { .index = -1 };

/* The two code objects found last (codemap.h).  Touched with the GIL
 * held, like the map. */
struct pt_codemap_last pt_codemap_last, pt_codemap_prev;

/* Forget `code` as one of the two found last; NULL: both. */
static void forget_recent(const PyObject *code)
{
	if (!code || code == pt_codemap_last.code)
		pt_codemap_last = (struct pt_codemap_last){ NULL, NULL };
	if (!code || code == pt_codemap_prev.code)
		pt_codemap_prev = (struct pt_codemap_last){ NULL, NULL };
}

int pt_codemap_find_slow(const PyObject *code, struct pt_code **c)
{
	if (!tab->slots)
		return 0;
	for (size_t i = pt_codemap_home(code, tab->mask);;
	     i = (i + 1) & tab->mask) {
		if (tab->slots[i].code == code) {
			pt_codemap_prev = pt_codemap_last;
			pt_codemap_last.code = code;
			pt_codemap_last.c = tab->slots[i].c;
			*c = pt_codemap_last.c;
			return 1;
		}
		if (!tab->slots[i].code)
			return 0;
	}
}

static void free_code(struct pt_code *c)
{
	if (!c)
		return;
	free(c->module);
	free(c->function);
	free(c->qualname);
	free(c);
}

/*
 * remove_at - empty slot i, then move back every entry of the run after it
 * that its probe would otherwise no longer reach: an entry at j whose home
 * is h may fill a hole at i when i lies on its probe path, h..j.
 */
static void remove_at(size_t i)
{
	size_t mask = tab->mask;

	for (size_t j = (i + 1) & mask; tab->slots[j].code; j = (j + 1) & mask) {
		size_t h = pt_codemap_home(tab->slots[j].code, mask);
		if (((j - h) & mask) >= ((j - i) & mask)) {
			tab->slots[i] = tab->slots[j];
			i = j;
		}
	}
	tab->slots[i].code = NULL;
	tab->slots[i].c = NULL;
	map.used--;
}

/*
 * code_freed - the extra slot's free function: the interpreter frees the
 * code object at `extra` (from code_dealloc, with the GIL held; also
 * called with NULL for code objects pytrace never marked, and by
 * SetExtra with the mark it replaces).  Forget it.  O(1).
 */
static void code_freed(void *extra)
{
	const PyObject *code = extra;

	if (code)
		forget_recent(code);
	if (!code || !tab->slots)
		return;
	for (size_t i = pt_codemap_home(code, tab->mask); tab->slots[i].code;
	     i = (i + 1) & tab->mask) {
		if (tab->slots[i].code == code) {
			struct pt_code *c = tab->slots[i].c;
			remove_at(i);
			free_code(c);
			return;
		}
	}
}

int pt_codemap_start(void (*release)(PyObject *code, const void *owner))
{
	if (map.release)
		return 0;	/* started before */
	map.release = release;
	if (!pt_py.RequestCodeExtraIndex || !pt_py.CodeSetExtra ||
	    !(map.interp = pt_py_thread_interp()))
		return 1;
	map.index = pt_py.RequestCodeExtraIndex(code_freed);
	if (map.index < 0)
		pt_log("no free extra slot in code objects: pytrace keeps "
		       "up to %d of them alive", PT_CODEMAP_MAX);
	return 1;
}

static void put(struct pt_codemap_slot *slots, size_t mask,
		struct pt_codemap_slot s)
{
	size_t i = pt_codemap_home(s.code, mask);

	while (slots[i].code)
		i = (i + 1) & mask;
	slots[i] = s;
}

static int grow(void)
{
	size_t cap = tab->slots ? (tab->mask + 1) * 2 : 1024;
	struct pt_codemap_slot *s = calloc(cap, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; tab->slots && i <= tab->mask; i++)
		if (tab->slots[i].code)
			put(s, cap - 1, tab->slots[i]);
	free(tab->slots);
	tab->slots = s;
	tab->mask = cap - 1;
	return 0;
}

/* Mark `code` (of interpreter `owner`) with its address in pytrace's
 * extra slot: 1 done, 0 not possible here. */
static int mark(PyObject *code, const void *owner)
{
	if (map.index < 0 || owner != map.interp ||
	    pt_py_thread_interp() != map.interp)
		return 0;
	if (pt_py.CodeSetExtra(code, map.index, code) == 0)
		return 1;
	pt_py.ErrClear();	/* MemoryError */
	return 0;
}

/* Hold a reference to `code`, of interpreter `owner`; 0 or -ENOMEM. */
static int hold(PyObject *code, const void *owner)
{
	if (map.nheld == map.capheld) {
		size_t cap = map.capheld ? map.capheld * 2 : 256;
		struct pt_held *h = realloc(map.held, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		map.held = h;
		map.capheld = cap;
	}
	pt_py.IncRef(code);
	map.held[map.nheld++] = (struct pt_held){ code, owner };
	return 0;
}

int pt_codemap_add(PyObject *code, struct pt_code *c, const void *owner)
{
	if ((!tab->slots || (map.used + 1) * 2 > tab->mask + 1) && grow() < 0)
		return -ENOMEM;
	/* Marked before it is put: a mark left from before a clear is
	 * replaced, and code_freed is called with it and finds nothing. */
	if (!mark(code, owner) && hold(code, owner) < 0)
		return -ENOMEM;
	put(tab->slots, tab->mask, (struct pt_codemap_slot){ code, c, owner });
	map.used++;
	return 0;
}

size_t pt_codemap_size(void)
{
	return map.used;
}

size_t pt_codemap_held(void)
{
	return map.nheld;
}

void pt_codemap_forget(const void *owner, int release)
{
	forget_recent(NULL);
	for (size_t i = 0; tab->slots && i <= tab->mask;) {
		struct pt_codemap_slot *sl = &tab->slots[i];
		if (!sl->code || sl->owner != owner) {
			i++;
			continue;
		}
		struct pt_code *c = sl->c;
		remove_at(i);	/* slot i is looked at again: it may refill */
		free_code(c);
	}
	/* The references of `owner`, out of the list, then released once the
	 * map is whole again: deallocation may run code (weak reference
	 * callbacks) that looks code objects up. */
	size_t n = 0, keep = 0;
	PyObject **gone = malloc((map.nheld ? map.nheld : 1) * sizeof(*gone));
	for (size_t i = 0; i < map.nheld; i++) {
		if (map.held[i].owner != owner) {
			map.held[keep++] = map.held[i];
			continue;
		}
		if (release && gone)
			gone[n++] = map.held[i].code;
		else if (release)
			map.held[keep++] = map.held[i];	/* kept: safe, if wasteful */
	}
	map.nheld = keep;
	for (size_t i = 0; i < n; i++)
		pt_py.DecRef(gone[i]);
	free(gone);
}

void pt_codemap_clear(void)
{
	struct pt_held *held = map.held;
	size_t nheld = map.nheld;

	forget_recent(NULL);
	for (size_t i = 0; tab->slots && i <= tab->mask; i++) {
		free_code(tab->slots[i].c);
		tab->slots[i].code = NULL;
		tab->slots[i].c = NULL;
	}
	map.used = 0;
	/* Marks stay: code_freed will not find those code objects. */
	map.held = NULL;
	map.nheld = map.capheld = 0;
	for (size_t i = 0; i < nheld; i++)
		map.release(held[i].code, held[i].owner);
	free(held);
}
