/* SPDX-License-Identifier: MIT */
/*
 * hash.h - the one hash function of pytrace's tables: FNV-1a, 32-bit (as
 * record mode's chunk check is defined, see recfmt.h) and 64-bit, each
 * able to go on from an earlier value (hash a, then b).  O(n), for cold
 * paths: a file's, a function's or a definition's first sight; the code
 * map, on the hot path, hashes an address instead (codemap.c).
 */
#ifndef PYTRACE_HASH_H
#define PYTRACE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define PT_HASH32_INIT 2166136261u
#define PT_HASH64_INIT 14695981039346656037ull

/* pt_hash32 - h (PT_HASH32_INIT to start) updated with p[0, n). */
static inline uint32_t pt_hash32(const void *p, size_t n, uint32_t h)
{
	const unsigned char *s = p;

	while (n--)
		h = (h ^ *s++) * 16777619u;
	return h;
}

/* pt_hash64 - h (PT_HASH64_INIT to start) updated with p[0, n). */
static inline uint64_t pt_hash64(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;

	while (n--)
		h = (h ^ *s++) * 1099511628211ull;
	return h;
}

#endif
