/* SPDX-License-Identifier: MIT */
/*
 * source.h - one record per traced source file: its printable path and its
 * lines, read once by C (never through Python's linecache).
 */
#ifndef PYTRACE_SOURCE_H
#define PYTRACE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

struct pt_file {
	char *path;		/* absolute normalised path, or "<string>" */
	size_t pathlen;
	int loaded;		/* 0: not yet read; 1: read (text may be NULL) */
	char *text;		/* the whole file */
	uint32_t *starts;	/* starts[i]: offset of line i+1; nlines+1 */
	uint32_t nlines;
	struct pt_fline **flines;	/* [lineno]: formatted, or NULL */
	uint32_t nflines;	/* flines[1..nflines] exist: nlines, once made */
};

/* A trace line in the default format, ready to copy; PT_FLINE_PAD
 * bytes after its text may be read too (a copy in whole blocks). */
enum { PT_FLINE_PAD = 32 };

struct pt_fline {
	uint32_t len;
	char text[];		/* "path(lineno): source\n", then the pad */
};

/* pt_file_fline_new - make (and keep) the default-format trace line of
 * `lineno`; NULL when the line is not in the file or memory is short. */
const struct pt_fline *pt_file_fline_new(struct pt_file *f, int lineno);

/* pt_file_fline_made - the default-format trace line of `lineno` when it
 * was made before, else NULL.  A bounds check and an index. */
static inline const struct pt_fline *pt_file_fline_made(const struct pt_file *f,
							int lineno)
{
	return (uint32_t)lineno - 1 < f->nflines ? f->flines[lineno] : NULL;
}

/* pt_file_fline - the default-format trace line of `lineno`, made on
 * first use; NULL as above.  Hot path: an index, after the first time. */
static inline const struct pt_fline *pt_file_fline(struct pt_file *f, int lineno)
{
	const struct pt_fline *l = pt_file_fline_made(f, lineno);

	return l ? l : pt_file_fline_new(f, lineno);
}

/*
 * pt_file_get - the record for `path` (printable form), created on first
 * use.  Returns NULL when out of memory.  O(1) average.
 */
struct pt_file *pt_file_get(const char *path);

/*
 * pt_file_line - line `lineno` of the file without its line ending, or an
 * empty string when the file or line is not available.  The first call reads
 * the whole file; lines end at "\n", "\r\n" or "\r" as Python reads them.
 */
void pt_file_line(struct pt_file *f, int lineno, const char **text,
		  size_t *len);

/*
 * pt_source_split - index the lines of text[0..len) into a new array of
 * nlines+1 start offsets.  Exposed for the unit tests.
 */
uint32_t *pt_source_split(const char *text, size_t len, uint32_t *nlines);

/* How much source text, line indexes and formatted lines may be held
 * before every record is dropped. */
#define PT_SOURCE_MAX_BYTES (256u << 20)

/* pt_source_bytes - bytes of source text (and line indexes) held. */
size_t pt_source_bytes(void);

/* pt_source_clear - drop every file record; they are made again when
 * needed.  Only together with pt_codemap_clear, which points at them. */
void pt_source_clear(void);

#endif
