/* SPDX-License-Identifier: MIT */
/*
 * source.c - file records and their source lines.
 *
 * A file is read the first time one of its lines is traced, with plain
 * open/read, and kept for the life of the process: the trace shows the
 * source as it was when first needed.  Ignored files are never read.
 * Records live in a string-keyed open-addressing table, touched only with
 * the GIL held.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "source.h"

/* Files larger than this are shown without source. */
enum { PT_SOURCE_MAX = 64 * 1024 * 1024 };

static struct {
	struct pt_file **slots;
	size_t mask;
	size_t used;
	size_t bytes;		/* source text held */
} files;

/*
 * Made lines (struct pt_fline) are kept one after another in chunks, as
 * they are first traced: the lines a loop runs sit together, in few cache
 * lines, not one heap block each.  A chunk is zeroed and ends with
 * PT_FLINE_PAD bytes more, so that the bytes after any line are readable.
 */
enum { FLINE_CHUNK = 64 * 1024 };

struct fline_chunk {
	struct fline_chunk *next;
	size_t used, size;
	char mem[];
};

static struct fline_chunk *chunks;

static size_t hash_str(const char *s)
{
	return (size_t)pt_hash64(s, strlen(s), PT_HASH64_INIT);
}

static int grow(void)
{
	size_t cap = files.slots ? (files.mask + 1) * 2 : 256;
	struct pt_file **s = calloc(cap, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; files.slots && i <= files.mask; i++) {
		struct pt_file *f = files.slots[i];
		if (!f)
			continue;
		size_t j = hash_str(f->path) & (cap - 1);
		while (s[j])
			j = (j + 1) & (cap - 1);
		s[j] = f;
	}
	free(files.slots);
	files.slots = s;
	files.mask = cap - 1;
	return 0;
}

struct pt_file *pt_file_get(const char *path)
{
	if ((!files.slots || (files.used + 1) * 2 > files.mask + 1) &&
	    grow() < 0)
		return NULL;
	size_t i = hash_str(path) & files.mask;
	for (; files.slots[i]; i = (i + 1) & files.mask)
		if (strcmp(files.slots[i]->path, path) == 0)
			return files.slots[i];

	struct pt_file *f = calloc(1, sizeof(*f));
	if (!f || !(f->path = strdup(path))) {
		free(f);
		return NULL;
	}
	f->pathlen = strlen(path);
	files.slots[i] = f;
	files.used++;
	return f;
}

/* Append `start` to the line index *starts (capacity *cap, *n used). */
static int push_start(uint32_t **starts, uint32_t *n, uint32_t *cap,
		      size_t start)
{
	if (*n == *cap) {
		uint32_t *s = realloc(*starts, 2 * (size_t)*cap * sizeof(*s));
		if (!s)
			return -1;
		*starts = s;
		*cap *= 2;
	}
	(*starts)[(*n)++] = (uint32_t)start;
	return 0;
}

uint32_t *pt_source_split(const char *text, size_t len, uint32_t *nlines)
{
	/* about 40 bytes a line in Python source: few reallocations */
	uint32_t n = 0, cap = (uint32_t)(len / 40 + 64);
	uint32_t *starts = malloc(cap * sizeof(*starts));

	if (!starts)
		return NULL;
	starts[n++] = 0;
	if (!memchr(text, '\r', len)) {
		/* '\n' endings only (nearly every file): found by memchr */
		const char *p = text, *end = text + len, *nl;
		while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
			p = nl + 1;
			if (push_start(&starts, &n, &cap, (size_t)(p - text)))
				goto fail;
		}
	} else {
		for (size_t i = 0; i < len; i++) {
			if (text[i] != '\n' && text[i] != '\r')
				continue;
			if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
				i++;
			if (push_start(&starts, &n, &cap, i + 1))
				goto fail;
		}
	}
	/* A last line without a line ending still counts. */
	if (starts[n - 1] < len && push_start(&starts, &n, &cap, len))
		goto fail;
	*nlines = n - 1;
	return starts;
fail:
	free(starts);
	return NULL;
}

/* Read the whole regular file at f->path; leaves f->text NULL on failure. */
static void load(struct pt_file *f)
{
	struct stat st;
	int fd;

	f->loaded = 1;
	if (f->path[0] != '/')
		return;
	fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > PT_SOURCE_MAX)
		goto out;
	size_t size = (size_t)st.st_size, got = 0;
	char *text = malloc(size + 1);
	if (!text)
		goto out;
	while (got < size) {
		ssize_t r = read(fd, text + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	f->starts = pt_source_split(text, got, &f->nlines);
	if (f->starts) {
		f->text = text;
		files.bytes += got + (f->nlines + 1) * sizeof(uint32_t);
	} else {
		free(text);
	}
out:
	close(fd);
}

void pt_file_line(struct pt_file *f, int lineno, const char **text,
		  size_t *len)
{
	if (!f->loaded)
		load(f);
	*text = "";
	*len = 0;
	if (!f->text || lineno < 1 || (uint32_t)lineno > f->nlines)
		return;
	const char *s = f->text + f->starts[lineno - 1];
	size_t n = f->starts[lineno] - f->starts[lineno - 1];

	if (n && s[n - 1] == '\n')
		n--;
	if (n && s[n - 1] == '\r')
		n--;
	*text = s;
	*len = n;
}

/* Room for a made line of `len` bytes, in the current chunk or a new one. */
static struct pt_fline *fline_alloc(size_t len)
{
	size_t need = (sizeof(struct pt_fline) + len + 3) & ~(size_t)3;
	struct fline_chunk *c = chunks;

	if (!c || c->size - c->used < need) {
		size_t size = need > FLINE_CHUNK ? need : FLINE_CHUNK;
		c = calloc(1, sizeof(*c) + size + PT_FLINE_PAD);
		if (!c)
			return NULL;
		c->size = size;
		c->next = chunks;
		chunks = c;
		files.bytes += sizeof(*c) + size + PT_FLINE_PAD;
	}
	struct pt_fline *l = (struct pt_fline *)(c->mem + c->used);
	c->used += need;
	return l;
}

/* "(LINENO): " into num (16 bytes), its length returned: snprintf's
 * work, a line's first time, without its format parsing. */
static int lineno_tag(char num[16], int lineno)
{
	char digits[12];
	unsigned v = (unsigned)lineno;
	int d = 0, k = 0;

	do
		digits[d++] = (char)('0' + v % 10);
	while ((v /= 10));
	num[k++] = '(';
	while (d)
		num[k++] = digits[--d];
	num[k++] = ')';
	num[k++] = ':';
	num[k++] = ' ';
	return k;
}

const struct pt_fline *pt_file_fline_new(struct pt_file *f, int lineno)
{
	const char *src;
	size_t n;
	char num[16];

	if (!f->loaded)
		load(f);
	if (!f->text || lineno < 1 || (uint32_t)lineno > f->nlines)
		return NULL;
	if (!f->flines) {
		f->flines = calloc((size_t)f->nlines + 1, sizeof(*f->flines));
		if (!f->flines)
			return NULL;
		files.bytes += ((size_t)f->nlines + 1) * sizeof(*f->flines);
		f->nflines = f->nlines;
	}
	pt_file_line(f, lineno, &src, &n);
	int k = lineno_tag(num, lineno);
	size_t len = f->pathlen + (size_t)k + n + 1;
	struct pt_fline *l = fline_alloc(len);
	if (!l)
		return NULL;
	l->len = (uint32_t)len;
	memcpy(l->text, f->path, f->pathlen);
	memcpy(l->text + f->pathlen, num, (size_t)k);
	memcpy(l->text + f->pathlen + k, src, n);
	l->text[len - 1] = '\n';
	f->flines[lineno] = l;
	return l;
}

size_t pt_source_bytes(void)
{
	return files.bytes;
}

void pt_source_clear(void)
{
	for (size_t i = 0; files.slots && i <= files.mask; i++) {
		struct pt_file *f = files.slots[i];
		if (!f)
			continue;
		free(f->flines);
		free(f->path);
		free(f->text);
		free(f->starts);
		free(f);
		files.slots[i] = NULL;
	}
	while (chunks) {
		struct fline_chunk *next = chunks->next;
		free(chunks);
		chunks = next;
	}
	files.used = 0;
	files.bytes = 0;
}
