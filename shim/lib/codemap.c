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

struct pt_slot {
	const PyObject *code;	/* NULL: empty slot */
	struct pt_code *c;
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

static void put(struct pt_slot *slots, size_t mask, const PyObject *code,
		struct pt_code *c)
{
	size_t i = slot_of(code, mask);

	while (slots[i].code)
		i = (i + 1) & mask;
	slots[i].code = code;
	slots[i].c = c;
}

static int grow(void)
{
	size_t cap = map.slots ? (map.mask + 1) * 2 : 1024;
	struct pt_slot *s = calloc(cap, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; map.slots && i <= map.mask; i++)
		if (map.slots[i].code)
			put(s, cap - 1, map.slots[i].code, map.slots[i].c);
	free(map.slots);
	map.slots = s;
	map.mask = cap - 1;
	return 0;
}

int pt_codemap_add(PyObject *code, struct pt_code *c)
{
	if ((!map.slots || (map.used + 1) * 2 > map.mask + 1) && grow() < 0)
		return -ENOMEM;
	pt_py.IncRef(code);
	put(map.slots, map.mask, code, c);
	map.used++;
	return 0;
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
		if (sl->c) {
			free(sl->c->module);
			free(sl->c->function);
			free(sl->c);
		}
		pt_py.DecRef((PyObject *)sl->code);
		sl->code = NULL;
		sl->c = NULL;
	}
	map.used = 0;
}
