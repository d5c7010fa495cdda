/* SPDX-License-Identifier: MIT */
/*
 * audithook.c - keep the audit hook's list entry freeable by the
 * interpreter.
 *
 * PySys_AddAuditHook, called from the constructor, allocates the hook's
 * entry (`_Py_AuditHookEntry`: next, hook, data; the same from 3.8 to
 * 3.14) with PyMem_RawMalloc, which at that moment is plain malloc.  The
 * interpreter then sets up the allocator its configuration asks for, and
 * with PYTHONMALLOC=debug, malloc_debug, pymalloc_debug, -X dev or
 * PYTHONDEVMODE the raw allocator becomes the debug one, which frees the
 * list at finalisation (_PySys_ClearAuditHooks) with PyMem_RawFree and
 * finds a block it never made: "Debug memory block ... API '!'", then
 * SIGSEGV, SIGBUS or SIGABRT.
 *
 * So pytrace remembers which allocation was the entry (the raw allocator
 * is wrapped for the duration of the one call) and which word of
 * `_PyRuntime` points to it (searched by value, within the symbol's size,
 * never dereferenced).  At the first audit event after the raw allocator
 * changed, a copy of the entry is made with the allocator in force and
 * put in its place.  The old entry is left as it is: the interpreter may
 * be walking the list through it at that very moment (its `next` stays
 * valid), and it is 24 bytes, once per process.
 *
 * Where any of this cannot be found (no PyMem_GetAllocator, no size for
 * _PyRuntime, the entry not where it should be) nothing is moved, which
 * is the behaviour of a build without this file.
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <string.h>

#include "audithook.h"
#include "pytrace.h"

/* The entry as CPython declares it (Include/internal/pycore_runtime.h
 * before 3.12, pycore_audit.h after; unchanged). */
struct pt_hook_entry {
	struct pt_hook_entry *next;
	pt_audithook hook;
	void *data;
};

/* What the entry's data points to: marks pytrace's entry. */
static const char marker = 'p';

static struct {
	struct pt_memalloc orig;	/* the raw allocator at registration */
	struct pt_hook_entry *entry;	/* pytrace's entry, from orig */
	struct pt_hook_entry **slot;	/* the word of _PyRuntime pointing to it */
	int settled;			/* nothing more to do */
} ah;

/* The raw allocator during PySys_AddAuditHook: orig's, noting the last
 * block of an entry's size. */
static void *note_malloc(void *ctx, size_t n)
{
	void *p = ah.orig.malloc(ah.orig.ctx, n);

	(void)ctx;
	if (n == sizeof(struct pt_hook_entry))
		ah.entry = p;
	return p;
}

static void *pass_calloc(void *ctx, size_t k, size_t n)
{
	(void)ctx;
	return ah.orig.calloc(ah.orig.ctx, k, n);
}

static void *pass_realloc(void *ctx, void *p, size_t n)
{
	(void)ctx;
	return ah.orig.realloc(ah.orig.ctx, p, n);
}

static void pass_free(void *ctx, void *p)
{
	(void)ctx;
	ah.orig.free(ah.orig.ctx, p);
}

/* The word of _PyRuntime that holds `entry`, or NULL. */
static struct pt_hook_entry **find_slot(struct pt_hook_entry *entry)
{
	const ElfW(Sym) *sym = NULL;
	Dl_info info;

	if (!pt_py.Runtime ||
	    !dladdr1(pt_py.Runtime, &info, (void **)&sym, RTLD_DL_SYMENT) ||
	    !sym || sym->st_size < sizeof(void *))
		return NULL;
	struct pt_hook_entry **w = pt_py.Runtime;
	size_t n = sym->st_size / sizeof(*w);
	for (size_t i = 0; i < n; i++)
		if (w[i] == entry)
			return &w[i];
	return NULL;
}

int pt_audithook_add(pt_audithook hook)
{
	struct pt_memalloc wrap = { NULL, note_malloc, pass_calloc,
				    pass_realloc, pass_free };
	int rc;

	ah.settled = 1;
	if (!pt_py.GetAllocator || !pt_py.SetAllocator || !pt_py.RawMalloc)
		return pt_py.AddAuditHook(hook, (void *)&marker) < 0 ? -EPERM : 0;
	pt_py.GetAllocator(PT_MEM_DOMAIN_RAW, &ah.orig);
	pt_py.SetAllocator(PT_MEM_DOMAIN_RAW, &wrap);
	rc = pt_py.AddAuditHook(hook, (void *)&marker);
	pt_py.SetAllocator(PT_MEM_DOMAIN_RAW, &ah.orig);
	if (rc < 0)
		return -EPERM;
	if (ah.entry && ah.entry->hook == hook && ah.entry->data == &marker &&
	    (ah.slot = find_slot(ah.entry)))
		ah.settled = 0;
	return 0;
}

void pt_audithook_settle(void)
{
	struct pt_memalloc now;

	if (ah.settled)
		return;
	pt_py.GetAllocator(PT_MEM_DOMAIN_RAW, &now);
	if (memcmp(&now, &ah.orig, sizeof(now)) == 0) {
		/* the same allocator; after initialisation it stays so */
		if (pt_py.IsInitialized())
			ah.settled = 1;
		return;
	}
	ah.settled = 1;
	if (*ah.slot != ah.entry)
		return;		/* not the list we saw: leave it */
	struct pt_hook_entry *copy = pt_py.RawMalloc(sizeof(*copy));
	if (!copy)
		return;
	*copy = *ah.entry;
	__atomic_store_n(ah.slot, copy, __ATOMIC_RELEASE);
}
