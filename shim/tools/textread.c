/* SPDX-License-Identifier: MIT */
/*
 * textread.c - reading traces of either kind (textread.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "textread.h"

/* The length of a -g timing prefix at s[0, n) ("12.34 " before a "/"),
 * or 0. */
static size_t timing(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	if (!i || i + 3 > n || s[i] != '.')
		return 0;
	size_t d = ++i;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i > d && i + 1 < n && s[i] == ' ' && s[i + 1] == '/' ? i + 1 : 0;
}

int pt_tx_parse(const char *s, size_t n, struct pt_tx_line *l)
{
	size_t skip = timing(s, n);

	s += skip;
	n -= skip;
	for (const char *p = memchr(s, '(', n); p; p = memchr(p + 1, '(', n - (size_t)(p + 1 - s))) {
		const char *d = p + 1;
		long v = 0;
		while (d < s + n && *d >= '0' && *d <= '9' && v < 100000000)
			v = v * 10 + (*d++ - '0');
		if (d > p + 1 && d + 1 < s + n && d[0] == ')' && d[1] == ':') {
			l->path = s;
			l->pathlen = (size_t)(p - s);
			l->line = v;
			l->text = d + 2 < s + n && d[2] == ' ' ? d + 3 : d + 2;
			l->textlen = (size_t)(s + n - l->text);
			if (l->textlen && l->text[l->textlen - 1] == '\n')
				l->textlen--;
			return 1;
		}
		if (p + 1 >= s + n)
			break;
	}
	return 0;
}

int pt_tx_read(const char *name, const struct pt_rd *rd,
	       void (*text)(char *line, size_t len, void *arg), void *arg)
{
	FILE *in = strcmp(name, "-") == 0 ? stdin : fopen(name, "r");
	int problems = 0;

	if (!in) {
		fprintf(stderr, "%s: %s: %s\n", rd->prog, name, strerror(errno));
		return -1;
	}
	setvbuf(in, NULL, _IOFBF, 1 << 20);
	int c = getc(in);
	if (c != EOF)
		ungetc(c, in);
	if (c != EOF && pt_rd_is_records(&(char){ (char)c }, 1)) {
		problems = pt_rd_stream(rd, in, name);
	} else if (c != EOF) {
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;
		while ((len = getline(&line, &cap, in)) >= 0)
			text(line, (size_t)len, arg);
		free(line);
	}
	if (in != stdin)
		fclose(in);
	return problems;
}

static size_t path_hash(const char *s, size_t n)
{
	return (size_t)pt_hash64(s, n, PT_HASH64_INIT);
}

static void *grow_or_exit(void *p, size_t n)
{
	if (!(p = realloc(p, n))) {
		fputs("pytrace: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

/* Item i's path, and whether it is included. */
static char **item_path(struct pt_tx_paths *t, size_t i)
{
	return (char **)((char *)t->items + i * t->size + t->path_at);
}

static int *item_included(struct pt_tx_paths *t, size_t i)
{
	return (int *)((char *)t->items + i * t->size + t->included_at);
}

size_t pt_tx_path(struct pt_tx_paths *t, const char *path, size_t n)
{
	if (t->n * 2 >= t->nslots) {
		size_t ns = t->nslots ? t->nslots * 2 : 1024;
		size_t *s = grow_or_exit(NULL, ns * sizeof(*s));
		memset(s, 0, ns * sizeof(*s));
		for (size_t i = 0; i < t->n; i++) {
			const char *p = *item_path(t, i);
			size_t j = path_hash(p, strlen(p)) & (ns - 1);
			while (s[j])
				j = (j + 1) & (ns - 1);
			s[j] = i + 1;
		}
		free(t->slots);
		t->slots = s;
		t->nslots = ns;
	}
	size_t j = path_hash(path, n) & (t->nslots - 1);
	for (; t->slots[j]; j = (j + 1) & (t->nslots - 1)) {
		const char *p = *item_path(t, t->slots[j] - 1);
		if (strncmp(p, path, n) == 0 && p[n] == '\0')
			return t->slots[j] - 1;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->items = grow_or_exit(t->items, t->cap * t->size);
	}
	char *copy = grow_or_exit(NULL, n + 1);
	memcpy(copy, path, n);
	copy[n] = '\0';
	memset((char *)t->items + t->n * t->size, 0, t->size);
	*item_path(t, t->n) = copy;
	*item_included(t, t->n) = !t->include || regexec(t->include, copy, 0, NULL, 0) == 0;
	t->slots[j] = ++t->n;
	return t->n - 1;
}
