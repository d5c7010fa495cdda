/* SPDX-License-Identifier: MIT */
/*
 * textread.h - reading traces of either kind, for the tools that take
 * both: a text trace (the default format) line by line, a record file
 * (recread.h) event by event.  Used by `pytrace summary` and `pytrace
 * report`; and the table of the paths a trace names.
 */
#ifndef PYTRACE_TEXTREAD_H
#define PYTRACE_TEXTREAD_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "recread.h"

/* A line of a text trace, split. */
struct pt_tx_line {
	const char *path;	/* not NUL-terminated */
	size_t pathlen;
	long line;
	const char *text;	/* the source text, without the "\n" */
	size_t textlen;
};

/*
 * pt_tx_parse - split a text trace line s[0, n) of the default format,
 * "path(line): source", with or without the -g timing prefix
 * ("12.34 /path(line): source").  False when it is no such line (a
 * notice, a call line, another format).  O(n).
 */
int pt_tx_parse(const char *s, size_t n, struct pt_tx_line *l);

/*
 * pt_tx_read - read the trace `name` ("-": standard input) to its end: a
 * record file (known by its first bytes) through rd, a text trace through
 * text(line, len, arg), one call per line (NUL-terminated, with its
 * "\n" when it has one).  Returns the problems the record reader
 * reported (0 for a text trace), or -1 when the file cannot be opened
 * (said on stderr, after rd->prog).
 */
int pt_tx_read(const char *name, const struct pt_rd *rd,
	       void (*text)(char *line, size_t len, void *arg), void *arg);

/* The paths a trace names, each with an index 0, 1... in the order
 * first seen, and an item of the caller's, zeroed when added but for its
 * path and whether the path matches `include` (an int; 1 when there is
 * no `include`). */
struct pt_tx_paths {
	size_t size;		/* of an item */
	size_t path_at;		/* offsets in an item: its char *path, */
	size_t included_at;	/* int included */
	const regex_t *include;	/* NULL: every path is */
	void *items;		/* [index] */
	size_t n, cap;
	size_t *slots;		/* open addressing: index + 1, 0 empty */
	size_t nslots;
};

/* PT_TX_PATHS - a table of items of type T, with fields path and
 * included. */
#define PT_TX_PATHS(T) { .size = sizeof(T), .path_at = offsetof(T, path), \
			 .included_at = offsetof(T, included) }

/*
 * pt_tx_path - the index of path[0, n) in t, added on first sight; exits
 * with a message when out of memory.  t->items may move when one is
 * added.  O(n) on average.
 */
size_t pt_tx_path(struct pt_tx_paths *t, const char *path, size_t n);

#endif
