/* SPDX-License-Identifier: MIT */
/*
 * codemap.c - open-addressing hash table keyed by code object address.
 *
 * The trace function looks up every line event here, so a hit is a multiply,
 * a mask and usually one comparison.  The table doubles at half load.  It
 * is emptied (pt_codemap_clear) when it holds PT_CODEMAP_MAX code objects,
 * so a program that keeps generating code (templates, exec) does not keep
 * them all alive.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "codemap.h"
#include "subinterp.h"

struct pt_slot {
	const PyObject *code;	/* NULL: empty slot */
	struct pt_code *c;
	const void *owner;	/* the interpreter of `code` */
};

static struct {
	struct pt_slot *slots;
	size_t mask;		/* capacity - 1; capacity is a power of two */
	size_t used;
} map;

/* The last code object found: consecutive lines are mostly in the same
 * code object.  Touched with the GIL held, like the map. */
static struct pt_slot last;

static inline size_t slot_of(const PyObject *code, size_t mask)
{
	/* Objects are 16-byte aligned: drop the low bits, then spread. */
	return (size_t)((((uintptr_t)code >> 4) * 0x9E3779B97F4A7C15ull) >>
			17) & mask;
}

int pt_codemap_find(const PyObject *code, struct pt_code **c)
{
	if (code == last.code) {
		*c = last.c;
		return 1;
	}
	if (!map.slots)
		return 0;
	for (size_t i = slot_of(code, map.mask);; i = (i + 1) & map.mask) {
		if (map.slots[i].code == code) {
			last = map.slots[i];
			*c = last.c;
			return 1;
		}
		if (!map.slots[i].code)
			return 0;
	}
}

static void put(struct pt_slot *slots, size_t mask, struct pt_slot s)
{
	size_t i = slot_of(s.code, mask);

	while (slots[i].code)
		i = (i + 1) & mask;
	slots[i] = s;
}

static int grow(void)
{
	size_t cap = map.slots ? (map.mask + 1) * 2 : 1024;
	struct pt_slot *s = calloc(cap, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; map.slots && i <= map.mask; i++)
		if (map.slots[i].code)
			put(s, cap - 1, map.slots[i]);
	free(map.slots);
	map.slots = s;
	map.mask = cap - 1;
	return 0;
}

int pt_codemap_add(PyObject *code, struct pt_code *c, const void *owner)
{
	if ((!map.slots || (map.used + 1) * 2 > map.mask + 1) && grow() < 0)
		return -ENOMEM;
	pt_py.IncRef(code);
	put(map.slots, map.mask, (struct pt_slot){ code, c, owner });
	map.used++;
	return 0;
}

static void free_code(struct pt_code *c)
{
	if (c) {
		free(c->module);
		free(c->function);
		free(c);
	}
}

/* Empty slot i, moving back the entries after it that would no longer
 * be found (linear probing has no tombstones). */
static void remove_at(size_t i)
{
	for (size_t j = i;;) {
		map.slots[i].code = NULL;
		j = (j + 1) & map.mask;
		if (!map.slots[j].code)
			return;
		size_t k = slot_of(map.slots[j].code, map.mask);
		/* the entry at j stays when its home k lies in (i, j] */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		map.slots[i] = map.slots[j];
		i = j;
	}
}

void pt_codemap_forget(const void *owner, int release)
{
	PyObject **codes = NULL;
	size_t n = 0, cap = 0;

	last.code = NULL;
	last.c = NULL;
	for (size_t i = 0; map.slots && i <= map.mask;) {
		struct pt_slot *sl = &map.slots[i];
		if (!sl->code || sl->owner != owner) {
			i++;
			continue;
		}
		if (release && n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			PyObject **p = realloc(codes, ncap * sizeof(*p));
			if (p) {
				codes = p;
				cap = ncap;
			}
		}
		/* without memory the reference is kept: safe, if wasteful */
		if (release && n < cap)
			codes[n++] = (PyObject *)sl->code;
		free_code(sl->c);
		remove_at(i);	/* slot i is looked at again: it may refill */
		map.used--;
	}
	/* Released once the map is whole again: deallocation may run code
	 * (weak reference callbacks) that looks code objects up. */
	for (size_t i = 0; i < n; i++)
		pt_py.DecRef(codes[i]);
	free(codes);
}

size_t pt_codemap_size(void)
{
	return map.used;
}

void pt_codemap_clear(void)
{
	last.code = NULL;
	last.c = NULL;
	for (size_t i = 0; map.slots && i <= map.mask; i++) {
		struct pt_slot *sl = &map.slots[i];
		if (!sl->code)
			continue;
		free_code(sl->c);
		pt_interp_release((PyObject *)sl->code, sl->owner);
		sl->code = NULL;
		sl->c = NULL;
	}
	map.used = 0;
}
