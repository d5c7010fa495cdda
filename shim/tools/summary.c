/* SPDX-License-Identifier: MIT */
/*
 * summary.c - pytrace summary [--include REGEX] TRACEFILE...
 *
 * What users do today with `egrep REGEX | cut -d'(' -f1 | uniq -c`, in one
 * pass over traces of any size: the runs of consecutive lines per file, in
 * order and in uniq -c's format, then the lines per file and the lines per
 * function, most first.  The function of a line is found in its source
 * file, by indentation: the innermost def or class above it ("<module>" at
 * top level).  Reads the default format, path(line): source; " --- "
 * call lines, "#" lines (pytrace's notices, "# pytrace[PID]: ...") and
 * lines of another shape are skipped.  "-" reads stdin.
 * A record file (output_mode = "record", recognised by its first bytes)
 * is read directly, its lines' paths and numbers taken from the records:
 * the result is the one of the text trace it stands for.
 */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "recread.h"

/* A file seen in the trace, with its lines' functions once read. */
struct file {
	char *path;
	size_t lines;		/* trace lines of this file */
	int included;		/* matches --include (or there is none) */
	char **func_of;		/* func_of[n]: function of source line n */
	size_t nsrc;
	int loaded;
};

/* Lines per (file, function). */
struct fcount {
	size_t file;
	const char *func;
	size_t n;
};

static struct file *files;
static size_t nfiles, capfiles;
static size_t *slots;		/* open addressing: index + 1, 0 empty */
static size_t nslots;
static struct fcount *fcs;
static size_t nfcs, capfcs;
static size_t *fslots;		/* (file, func) hash: index + 1 */
static size_t nfslots;

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "pytrace summary: out of memory\n");
		exit(1);
	}
	return p;
}

static size_t hash(const char *s, size_t n)
{
	return (size_t)pt_hash64(s, n, PT_HASH64_INIT);
}

/* The index of file `path` (n bytes), added on first sight. */
static size_t file_index(const char *path, size_t n, const regex_t *inc)
{
	if (nfiles * 2 >= nslots) {
		size_t ns = nslots ? nslots * 2 : 1024;
		size_t *s = calloc(ns, sizeof(*s));
		if (!s)
			xrealloc(NULL, (size_t)-1);
		for (size_t i = 0; i < nfiles; i++) {
			size_t j = hash(files[i].path, strlen(files[i].path)) & (ns - 1);
			while (s[j])
				j = (j + 1) & (ns - 1);
			s[j] = i + 1;
		}
		free(slots);
		slots = s;
		nslots = ns;
	}
	size_t j = hash(path, n) & (nslots - 1);
	for (; slots[j]; j = (j + 1) & (nslots - 1)) {
		struct file *f = &files[slots[j] - 1];
		if (strncmp(f->path, path, n) == 0 && f->path[n] == '\0')
			return slots[j] - 1;
	}
	if (nfiles == capfiles) {
		capfiles = capfiles ? capfiles * 2 : 256;
		files = xrealloc(files, capfiles * sizeof(*files));
	}
	struct file *f = &files[nfiles];
	memset(f, 0, sizeof(*f));
	f->path = strndup(path, n);
	if (!f->path)
		xrealloc(NULL, (size_t)-1);
	f->included = !inc || regexec(inc, f->path, 0, NULL, 0) == 0;
	slots[j] = ++nfiles;
	return nfiles - 1;
}

/* Read f's source and name the function of each of its lines. */
static void load_functions(struct file *f)
{
	struct { size_t indent; char *name; } stack[64];
	int depth = 0, open = 0, in_str = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *src;

	f->loaded = 1;
	src = f->path[0] == '/' ? fopen(f->path, "r") : NULL;
	if (!src)
		return;
	while ((len = getline(&line, &cap, src)) >= 0) {
		size_t indent = 0;
		const char *name = depth ? stack[depth - 1].name : "<module>";

		f->func_of = xrealloc(f->func_of, (f->nsrc + 2) * sizeof(char *));
		while (line[indent] == ' ' || line[indent] == '\t')
			indent++;
		/* a logical line starts here: not inside brackets or a string,
		 * not blank or a comment */
		int starts = !open && !in_str && line[indent] != '\n' &&
			     line[indent] != '\0' && line[indent] != '#';
		if (starts) {
			while (depth && stack[depth - 1].indent >= indent)
				free(stack[--depth].name);
			name = depth ? stack[depth - 1].name : "<module>";
		}
		f->func_of[++f->nsrc] = strdup(name);
		if (starts && depth < 64) {
			const char *p = line + indent;
			if (strncmp(p, "async ", 6) == 0)
				p += 6;
			int is_def = strncmp(p, "def ", 4) == 0;
			if (is_def || strncmp(p, "class ", 6) == 0) {
				p += is_def ? 4 : 6;
				size_t n = 0;
				while (isalnum((unsigned char)p[n]) || p[n] == '_')
					n++;
				char *q = malloc(strlen(name) + n + 2);
				if (q) {
					if (depth)
						sprintf(q, "%s.%.*s", name, (int)n, p);
					else
						sprintf(q, "%.*s", (int)n, p);
					stack[depth].indent = indent;
					stack[depth++].name = q;
				}
			}
		}
		/* brackets and triple-quoted strings continue a logical line */
		for (const char *c = line; *c; c++) {
			if (!in_str && *c == '#')
				break;
			if (c[0] == '"' && c[1] == '"' && c[2] == '"') {
				in_str = !in_str;
				c += 2;
			} else if (!in_str && strchr("([{", *c)) {
				open++;
			} else if (!in_str && strchr(")]}", *c) && open > 0) {
				open--;
			}
		}
	}
	while (depth)
		free(stack[--depth].name);
	free(line);
	fclose(src);
}

static void count_function(size_t fi, long lineno)
{
	struct file *f = &files[fi];

	if (!f->loaded)
		load_functions(f);
	const char *func = lineno > 0 && (size_t)lineno <= f->nsrc ?
			   f->func_of[lineno] : "?";
	if (nfcs * 2 >= nfslots) {
		size_t ns = nfslots ? nfslots * 2 : 4096;
		size_t *s = calloc(ns, sizeof(*s));
		if (!s)
			xrealloc(NULL, (size_t)-1);
		for (size_t i = 0; i < nfcs; i++) {
			size_t j = (hash(fcs[i].func, strlen(fcs[i].func)) ^ fcs[i].file) & (ns - 1);
			while (s[j])
				j = (j + 1) & (ns - 1);
			s[j] = i + 1;
		}
		free(fslots);
		fslots = s;
		nfslots = ns;
	}
	size_t j = (hash(func, strlen(func)) ^ fi) & (nfslots - 1);
	for (; fslots[j]; j = (j + 1) & (nfslots - 1)) {
		struct fcount *c = &fcs[fslots[j] - 1];
		if (c->file == fi && strcmp(c->func, func) == 0) {
			c->n++;
			return;
		}
	}
	if (nfcs == capfcs) {
		capfcs = capfcs ? capfcs * 2 : 1024;
		fcs = xrealloc(fcs, capfcs * sizeof(*fcs));
	}
	fcs[nfcs] = (struct fcount){ fi, func, 1 };
	fslots[j] = ++nfcs;
}

/* Split "path(line): ..." into path length and line; false if not one. */
static int parse(const char *s, size_t n, size_t *plen, long *lineno)
{
	for (const char *p = memchr(s, '(', n); p; p = memchr(p + 1, '(', n - (size_t)(p + 1 - s))) {
		const char *d = p + 1;
		long v = 0;
		while (d < s + n && *d >= '0' && *d <= '9')
			v = v * 10 + (*d++ - '0');
		if (d > p + 1 && d + 1 < s + n && d[0] == ')' && d[1] == ':') {
			*plen = (size_t)(p - s);
			*lineno = v;
			return 1;
		}
		if (p + 1 >= s + n)
			break;
	}
	return 0;
}

/* The run being counted: its file and length so far. */
static size_t run_file = (size_t)-1, run_len;
static const regex_t *include;	/* --include, or NULL */

/* Count one trace line: line `lineno` of the file path[0, plen). */
static void count(const char *path, size_t plen, long lineno)
{
	size_t fi = file_index(path, plen, include);

	if (!files[fi].included)
		return;
	files[fi].lines++;
	count_function(fi, lineno);
	if (fi != run_file) {
		if (run_len)
			printf("%7zu %s\n", run_len, files[run_file].path);
		run_file = fi;
		run_len = 0;
	}
	run_len++;
}

/* A record of a record file: its lines count, its calls and notices do
 * not. */
static void count_event(const struct pt_rd_event *ev, void *arg)
{
	(void)arg;
	if (ev->kind == PT_REC_LINE)
		count(ev->code->file->path, ev->code->file->pathlen, ev->line);
}

static int by_lines(const void *a, const void *b)
{
	const struct file *x = *(struct file *const *)a, *y = *(struct file *const *)b;
	return x->lines < y->lines ? 1 : x->lines > y->lines ? -1 : strcmp(x->path, y->path);
}

static int by_count(const void *a, const void *b)
{
	const struct fcount *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	int c = strcmp(files[x->file].path, files[y->file].path);
	return c ? c : strcmp(x->func, y->func);
}

int main(int argc, char **argv)
{
	regex_t inc;
	int first = 1, problems = 0;
	char *line = NULL;
	size_t cap = 0;
	struct pt_rd rd = { "pytrace summary", count_event, NULL };

	if (argc >= 3 && strcmp(argv[1], "--include") == 0) {
		int e = regcomp(&inc, argv[2], REG_EXTENDED | REG_NOSUB);
		if (e) {
			char why[128];
			regerror(e, &inc, why, sizeof(why));
			fprintf(stderr, "pytrace summary: bad regular expression '%s': %s\n",
				argv[2], why);
			return 1;
		}
		include = &inc;
		first = 3;
	}
	if (first >= argc || (argv[first][0] == '-' && argv[first][1])) {
		fprintf(stderr, "usage: pytrace summary [--include REGEX] TRACEFILE...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	puts("# runs of consecutive lines per file, in order");
	for (int a = first; a < argc; a++) {
		FILE *in = strcmp(argv[a], "-") == 0 ? stdin : fopen(argv[a], "r");
		ssize_t len;

		if (!in) {
			perror(argv[a]);
			return 1;
		}
		setvbuf(in, NULL, _IOFBF, 1 << 20);
		int c = getc(in);
		if (c != EOF)
			ungetc(c, in);
		if (c != EOF && pt_rd_is_records(&(char){ (char)c }, 1)) {
			problems += pt_rd_stream(&rd, in, argv[a]);
			c = EOF;	/* read */
		}
		while (c != EOF && (len = getline(&line, &cap, in)) >= 0) {
			size_t plen;
			long lineno;

			/* a traced line starts with its path, never "#" */
			if (line[0] != '#' &&
			    parse(line, (size_t)len, &plen, &lineno))
				count(line, plen, lineno);
		}
		if (in != stdin)
			fclose(in);
	}
	if (run_len)
		printf("%7zu %s\n", run_len, files[run_file].path);

	struct file **order = xrealloc(NULL, (nfiles + 1) * sizeof(*order));
	size_t n = 0;
	for (size_t i = 0; i < nfiles; i++)
		if (files[i].lines)
			order[n++] = &files[i];
	if (n)	/* an empty trace: no array to sort */
		qsort(order, n, sizeof(*order), by_lines);
	puts("# lines per file");
	for (size_t i = 0; i < n; i++)
		printf("%7zu %s\n", order[i]->lines, order[i]->path);
	if (nfcs)
		qsort(fcs, nfcs, sizeof(*fcs), by_count);
	puts("# lines per function");
	for (size_t i = 0; i < nfcs; i++)
		printf("%7zu %s:%s\n", fcs[i].n, files[fcs[i].file].path, fcs[i].func);
	return problems ? 1 : 0;
}
