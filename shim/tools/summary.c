/* SPDX-License-Identifier: MIT */
/*
 * summary.c - pytrace summary [--include REGEX] [--no-scopes] TRACEFILE...
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
 * the result is the one of the text trace it stands for (with scopes, as
 * far as it tells no more than the text, below).
 *
 * A trace of a scope has an entry line " === scope: MODULE:QUALNAME
 * (thread TID)" (a SCOPE record) where each call of a scope function
 * began: then each entry has a summary of its own, headed
 * "=== scope N: MODULE:QUALNAME (thread TID), M lines", in the order of
 * the entries.  A line belongs to the last entry before it of its own
 * thread, where the trace says which thread a line is of (a record file
 * whose format has {tid}); else of its own process (a record file); else
 * to the last entry before it (a text trace names neither).  Lines before
 * the first entry are summarised first, as without scopes; with
 * --no-scopes, or without entries, the trace is summarised as a whole.
 * Memory: an entry's runs are kept until no later line can belong to it
 * (its thread, its process and the input have each entered again) and
 * the entries before it are printed; an entry of a thread that never
 * enters again keeps the entries after it until the end.  The rest, as
 * without scopes, grows with the files and functions seen, not with the
 * trace.
 */
#include <ctype.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "hash.h"
#include "recread.h"
#include "textread.h"

/* A file seen in the trace, with its lines' functions once read. */
struct file {
	char *path;
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

/* A run of consecutive lines of one file. */
struct run {
	size_t file, n;
};

/* The summary of one scope entry, or of the lines before the first. */
struct group {
	unsigned long ordinal;	/* 1, 2...: the entry's place; 0: before */
	char *title;		/* "MODULE:QUALNAME (thread TID)" */
	size_t lines;
	int stream;		/* runs printed as they end, not kept */
	int started;		/* stream: its first heading is out */
	struct run *runs;	/* ended runs, kept (not stream) */
	size_t nruns, capruns;
	struct run cur;		/* the run being counted; n 0: none */
	struct fcount *fcs;
	size_t nfcs, capfcs;
	size_t *fslots;		/* (file, func) hash: index + 1 */
	size_t nfslots;
	int refs;		/* what a later line may find it by; 0: done */
	struct group *next;	/* the next entry, in order */
};

static struct file *files;	/* [index in paths] */
static size_t nfiles;
static struct pt_tx_paths paths = PT_TX_PATHS(struct file);

static __attribute__((noreturn)) void oom(void)
{
	fprintf(stderr, "pytrace summary: out of memory\n");
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	if (!(p = realloc(p, n)))
		oom();
	return p;
}

static size_t hash(const char *s, size_t n)
{
	return (size_t)pt_hash64(s, n, PT_HASH64_INIT);
}

/* The index of file path[0, n), added on first sight.  O(n) average. */
static size_t file_index(const char *path, size_t n)
{
	size_t i = pt_tx_path(&paths, path, n);

	files = paths.items;
	nfiles = paths.n;
	return i;
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

/* Count one line of file fi (line `lineno`) into g. */
static void count_function(struct group *g, size_t fi, long lineno)
{
	struct file *f = &files[fi];

	if (!f->loaded)
		load_functions(f);
	const char *func = lineno > 0 && (size_t)lineno <= f->nsrc ?
			   f->func_of[lineno] : "?";
	if (g->nfcs * 2 >= g->nfslots) {
		size_t ns = g->nfslots ? g->nfslots * 2 : 64;
		size_t *s = calloc(ns, sizeof(*s));
		if (!s)
			oom();
		for (size_t i = 0; i < g->nfcs; i++) {
			const struct fcount *c = &g->fcs[i];
			size_t j = (hash(c->func, strlen(c->func)) ^ c->file) & (ns - 1);
			while (s[j])
				j = (j + 1) & (ns - 1);
			s[j] = i + 1;
		}
		free(g->fslots);
		g->fslots = s;
		g->nfslots = ns;
	}
	size_t j = (hash(func, strlen(func)) ^ fi) & (g->nfslots - 1);
	for (; g->fslots[j]; j = (j + 1) & (g->nfslots - 1)) {
		struct fcount *c = &g->fcs[g->fslots[j] - 1];
		if (c->file == fi && strcmp(c->func, func) == 0) {
			c->n++;
			return;
		}
	}
	if (g->nfcs == g->capfcs) {
		g->capfcs = g->capfcs ? g->capfcs * 2 : 64;
		g->fcs = xrealloc(g->fcs, g->capfcs * sizeof(*g->fcs));
	}
	g->fcs[g->nfcs] = (struct fcount){ fi, func, 1 };
	g->fslots[j] = ++g->nfcs;
}

static const char runs_heading[] =
	"# runs of consecutive lines per file, in order";

/* The run being counted in g has ended: printed, or kept for later. */
static void end_run(struct group *g)
{
	if (!g->cur.n)
		return;
	if (g->stream) {
		printf("%7zu %s\n", g->cur.n, files[g->cur.file].path);
	} else {
		if (g->nruns == g->capruns) {
			g->capruns = g->capruns ? g->capruns * 2 : 64;
			g->runs = xrealloc(g->runs, g->capruns * sizeof(*g->runs));
		}
		g->runs[g->nruns++] = g->cur;
	}
	g->cur.n = 0;
}

/* Count one trace line into g: line `lineno` of the file path[0, plen). */
static void count(struct group *g, const char *path, size_t plen, long lineno)
{
	size_t fi = file_index(path, plen);

	if (!files[fi].included)
		return;
	if (g->stream && !g->started) {
		puts(runs_heading);
		g->started = 1;
	}
	g->lines++;
	count_function(g, fi, lineno);
	if (fi != g->cur.file) {
		end_run(g);
		g->cur.file = fi;
	}
	g->cur.n++;
}

static int by_file(const void *a, const void *b)
{
	const struct fcount *x = a, *y = b;
	return x->file < y->file ? -1 : x->file > y->file;
}

static int by_lines(const void *a, const void *b)
{
	const struct run *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(files[x->file].path, files[y->file].path);
}

static int by_count(const void *a, const void *b)
{
	const struct fcount *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	int c = strcmp(files[x->file].path, files[y->file].path);
	return c ? c : strcmp(x->func, y->func);
}

static void free_group(struct group *g)
{
	free(g->runs);
	free(g->fcs);
	free(g->fslots);
	free(g->title);
	free(g);
}

/* Print g's summary (its heading first for an entry), and free it. */
static void print_group(struct group *g)
{
	if (g->ordinal)
		printf("=== scope %lu: %s, %zu line%s\n", g->ordinal, g->title,
		       g->lines, g->lines == 1 ? "" : "s");
	if (!g->stream || !g->started)
		puts(runs_heading);
	end_run(g);
	for (size_t i = 0; i < g->nruns; i++)
		printf("%7zu %s\n", g->runs[i].n, files[g->runs[i].file].path);
	/* lines per file: the functions' counts added up per file */
	struct run *per = xrealloc(NULL, (g->nfcs + 1) * sizeof(*per));
	size_t n = 0;
	if (g->nfcs)	/* an empty trace: no array to sort */
		qsort(g->fcs, g->nfcs, sizeof(*g->fcs), by_file);
	for (size_t i = 0; i < g->nfcs; i++) {
		if (!n || per[n - 1].file != g->fcs[i].file)
			per[n++] = (struct run){ g->fcs[i].file, 0 };
		per[n - 1].n += g->fcs[i].n;
	}
	if (n)
		qsort(per, n, sizeof(*per), by_lines);
	puts("# lines per file");
	for (size_t i = 0; i < n; i++)
		printf("%7zu %s\n", per[i].n, files[per[i].file].path);
	if (g->nfcs)
		qsort(g->fcs, g->nfcs, sizeof(*g->fcs), by_count);
	puts("# lines per function");
	for (size_t i = 0; i < g->nfcs; i++)
		printf("%7zu %s:%s\n", g->fcs[i].n, files[g->fcs[i].file].path,
		       g->fcs[i].func);
	free(per);
	free_group(g);
}

static struct group *new_group(unsigned long ordinal, const char *title)
{
	struct group *g = xrealloc(NULL, sizeof(*g));

	memset(g, 0, sizeof(*g));
	g->ordinal = ordinal;
	g->title = strdup(title);
	if (!g->title)
		oom();
	return g;
}

/*
 * Where lines go.  `before` collects the lines before the first entry,
 * printed as they come (runs) and when the first entry is seen (the
 * rest); entries wait in `queue`, in order, and each is printed once it
 * is done and the entries before it are printed.  An entry is done when
 * nothing leads to it any more: it is no longer the last entry (`last`),
 * nor its process's, nor its thread's (`keys`).
 */
static struct group *before;
static struct group *queue, **queue_end = &queue;
static struct group *last;
static unsigned long entries;
static int no_scopes;		/* --no-scopes: entries are not seen */

/* Last entry by process (pid << 32) and by thread (pid << 32 | tid). */
static struct {
	uint64_t *keys;		/* 0: empty */
	struct group **vals;
	size_t n, mask;
} keys;

/* *ref now leads to g (NULL: to nothing); what it led to may be done. */
static void refer(struct group **ref, struct group *g)
{
	if (g)
		g->refs++;
	if (*ref)
		(*ref)->refs--;
	*ref = g;
}

static size_t key_hash(uint64_t k)
{
	return (size_t)pt_hash64(&k, sizeof(k), PT_HASH64_INIT);
}

/* The entry key k leads to, or NULL. */
static struct group *key_get(uint64_t k)
{
	for (size_t j = keys.keys ? key_hash(k) & keys.mask : 0;
	     keys.keys && keys.keys[j]; j = (j + 1) & keys.mask)
		if (keys.keys[j] == k)
			return keys.vals[j];
	return NULL;
}

/* The slot of key k, added when new. */
static struct group **key_slot(uint64_t k)
{
	if ((keys.n + 1) * 2 > keys.mask + 1 || !keys.keys) {
		size_t cap = keys.keys ? (keys.mask + 1) * 2 : 64;
		uint64_t *nk = calloc(cap, sizeof(*nk));
		struct group **nv = calloc(cap, sizeof(*nv));
		if (!nk || !nv)
			oom();
		for (size_t i = 0; keys.keys && i <= keys.mask; i++) {
			if (!keys.keys[i])
				continue;
			size_t j = key_hash(keys.keys[i]) & (cap - 1);
			while (nk[j])
				j = (j + 1) & (cap - 1);
			nk[j] = keys.keys[i];
			nv[j] = keys.vals[i];
		}
		free(keys.keys);
		free(keys.vals);
		keys.keys = nk;
		keys.vals = nv;
		keys.mask = cap - 1;
	}
	size_t j = key_hash(k) & keys.mask;
	while (keys.keys[j] && keys.keys[j] != k)
		j = (j + 1) & keys.mask;
	if (!keys.keys[j]) {
		keys.keys[j] = k;
		keys.n++;
	}
	return &keys.vals[j];
}

/* Print the entries that are done, up to the first that is not. */
static void print_done(void)
{
	while (queue && !queue->refs) {
		struct group *g = queue;
		if (!(queue = g->next))
			queue_end = &queue;
		print_group(g);
	}
}

/*
 * enter - a scope entry, `title` "MODULE:QUALNAME (thread TID)": the
 * lines after it go to it, those of process `pid` (0: not known) and,
 * when tid is not 0, of its thread tid.
 */
static void enter(const char *title, long pid, long tid)
{
	struct group *g = new_group(++entries, title);

	if (before) {
		if (before->lines)
			print_group(before);
		else
			free_group(before);
		before = NULL;
	}
	*queue_end = g;
	queue_end = &g->next;
	refer(&last, g);
	if (pid)
		refer(key_slot((uint64_t)pid << 32), g);
	if (pid && tid)
		refer(key_slot((uint64_t)pid << 32 | (uint32_t)tid), g);
	print_done();
}

/* The group a line of process pid and thread tid (0: not known) goes to. */
static struct group *group_of(long pid, long tid)
{
	struct group *g;

	if (!last)
		return before;
	if (pid && tid && (g = key_get((uint64_t)pid << 32 | (uint32_t)tid)))
		return g;
	if (pid && (g = key_get((uint64_t)pid << 32)))
		return g;
	return last;
}

/* The end of the input: every entry is done. */
static void finish(void)
{
	refer(&last, NULL);
	for (size_t i = 0; keys.keys && i <= keys.mask; i++)
		if (keys.vals[i])
			refer(&keys.vals[i], NULL);
	print_done();
	if (before)
		print_group(before);
	free(keys.keys);
	free(keys.vals);
}

/* A scope entry of a record file, as the entry line names it. */
static void enter_record(const struct pt_rd_event *ev)
{
	char *line = xrealloc(NULL, pt_format_scope_size(ev->module, ev->qualname));
	char *end = pt_format_scope(line, ev->module, ev->qualname, ev->tid);
	size_t skip = strlen(" === scope: ");

	end[-1] = '\0';
	enter(line + skip, ev->proc->pid,
	      ev->proc->set.fields & PT_REC_F_TID ? ev->tid : 0);
	free(line);
}

/* A record of a record file: its lines count, and its scope entries
 * group them; its calls and notices do not count. */
static void count_event(const struct pt_rd_event *ev, void *arg)
{
	(void)arg;
	if (ev->kind == PT_REC_LINE)
		count(group_of(ev->proc->pid, ev->tid), ev->code->file->path,
		      ev->code->file->pathlen, ev->line);
	else if (ev->kind == PT_REC_SCOPE && !no_scopes)
		enter_record(ev);
}

/* The text after " === scope: " of an entry line s[0, n), NUL-terminated
 * in place; NULL when s is no entry line. */
static char *entry_of(char *s, size_t n)
{
	static const char mark[] = " === scope: ";
	size_t m = sizeof(mark) - 1;

	if (n <= m || memcmp(s, mark, m) != 0)
		return NULL;
	if (s[n - 1] == '\n')
		s[--n] = '\0';
	return s + m;
}

/* A line of a text trace: counted, or a scope entry; "#" lines (notices)
 * and lines of another shape are skipped. */
static void count_text(char *line, size_t len, void *arg)
{
	struct pt_tx_line l;
	char *title;

	(void)arg;
	/* a traced line starts with its path, never "#" or " " */
	if (line[0] == '#')
		return;
	if ((title = entry_of(line, len))) {
		if (!no_scopes)
			enter(title, 0, 0);
	} else if (pt_tx_parse(line, len, &l)) {
		count(group_of(0, 0), l.path, l.pathlen, l.line);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: pytrace summary [--include REGEX] [--no-scopes] "
		"TRACEFILE...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	regex_t inc;
	int first = 1, problems = 0;
	struct pt_rd rd = { "pytrace summary", count_event, NULL, NULL, 0 };

	for (; first < argc && argv[first][0] == '-' && argv[first][1]; first++) {
		if (strcmp(argv[first], "--no-scopes") == 0) {
			no_scopes = 1;
			continue;
		}
		if (strcmp(argv[first], "--include") != 0 || first + 1 >= argc)
			usage();
		int e = regcomp(&inc, argv[++first], REG_EXTENDED | REG_NOSUB);
		if (e) {
			char why[128];
			regerror(e, &inc, why, sizeof(why));
			fprintf(stderr, "pytrace summary: bad regular expression '%s': %s\n",
				argv[first], why);
			return 1;
		}
		paths.include = &inc;
	}
	if (first >= argc)
		usage();
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	before = new_group(0, "");
	before->stream = 1;
	for (int a = first; a < argc; a++) {
		int n = pt_tx_read(argv[a], &rd, count_text, NULL);
		if (n < 0)
			return 1;
		problems += n;
	}
	finish();
	return problems ? 1 : 0;
}
