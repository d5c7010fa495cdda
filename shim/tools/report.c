/* SPDX-License-Identifier: MIT */
/*
 * report.c - pytrace report [--include REGEX] [-o FILE] TRACE...
 *
 * One self-contained HTML file from traces of either kind (text traces
 * in the default format, record files; several: a forked service's files
 * by process): a first page with the files traced (lines executed,
 * distinct lines, share of the trace, first reached; sortable, filtered
 * by path), the processes and threads seen (record files), and the runs
 * of consecutive lines per file that `pytrace summary` prints, each
 * linked to its first line; then, per file, its source with each line
 * that ran marked with its count and the order in which it was first
 * reached, long stretches that did not run collapsed.
 *
 * The source is read when the report is made: a file that changed since
 * it was traced is said on stderr and in the report (records: its size
 * and mtime when traced; a text trace: the source text of its lines).
 *
 * Memory grows with the distinct lines and the files of the trace, not
 * with its length: counts are kept per line of each file, and at most
 * MAX_RUNS runs.  Nothing read is trusted: paths, names and source text
 * are escaped, bytes that are not UTF-8 shown as U+FFFD, and the page
 * allows only its own script (by its hash), so that nothing in a trace can
 * put markup or script into it.
 */
#include <errno.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "recread.h"
#include "source.h"
#include "textread.h"

enum {
	MAX_LINE = 1 << 22,	/* a line number above is taken for damage */
	MAX_RUNS = 10000,	/* runs listed; the rest counted */
	MAX_WHO = 4096,		/* (process, thread) pairs listed */
	GAP = 6,		/* not-run lines collapsed from this many */
	CONTEXT = 2,		/* not-run lines kept beside a run */
};

static const char *prog = "pytrace report";

/* A file seen in the trace. */
struct rfile {
	char *path;
	int included;		/* matches --include (or there is none) */
	uint64_t *hits;		/* [line]: times it ran */
	uint32_t *first;	/* [line]: order first reached, 1...; 0: never */
	uint64_t *said;		/* [line]: hash of the text the trace gave
				 * (text traces); 0: none */
	size_t cap;		/* lines the arrays hold */
	uint64_t total;
	size_t distinct;
	uint32_t reached;	/* the smallest first[] */
	int known;		/* records: size and mtime when traced */
	uint64_t size;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	int changed;		/* since it was traced */
	int unreadable;		/* errno of reading its source; 0: read */
};

/* A run of consecutive lines of one file. */
struct run {
	size_t file;
	long line;		/* its first */
	uint64_t n;
};

/* Lines of one thread of one process (records). */
struct who {
	long pid, ppid, tid;
	uint64_t lines;
};

/* A trace read. */
struct input {
	const char *name;
	int records;
	uint64_t lines;
};

static struct rfile *files;	/* [index in paths] */
static size_t nfiles;
static struct pt_tx_paths paths = PT_TX_PATHS(struct rfile);

static uint64_t total;		/* lines counted */
static uint32_t reached;	/* distinct lines, in the order reached */
static uint64_t beyond;		/* lines with numbers past MAX_LINE */

static struct run runs[MAX_RUNS], cur;
static size_t nruns;
static uint64_t allruns;

static struct who *who;
static size_t nwho;
static uint64_t otherwho;	/* lines of threads past MAX_WHO */

static struct input *inputs;
static size_t ninputs;

static __attribute__((noreturn)) void oom(void)
{
	fprintf(stderr, "%s: out of memory\n", prog);
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	if (!(p = realloc(p, n)) && n)
		oom();
	return p;
}

/* The index of file path[0, n), added on first sight.  O(n) average. */
static size_t file_index(const char *path, size_t n)
{
	size_t i = pt_tx_path(&paths, path, n);

	files = paths.items;
	nfiles = paths.n;
	return i;
}

/* Room in f's arrays for line `line`. */
static void grow(struct rfile *f, size_t line)
{
	size_t cap = f->cap ? f->cap : 64;

	while (cap <= line)
		cap *= 2;
	f->hits = xrealloc(f->hits, cap * sizeof(*f->hits));
	f->first = xrealloc(f->first, cap * sizeof(*f->first));
	f->said = xrealloc(f->said, cap * sizeof(*f->said));
	memset(f->hits + f->cap, 0, (cap - f->cap) * sizeof(*f->hits));
	memset(f->first + f->cap, 0, (cap - f->cap) * sizeof(*f->first));
	memset(f->said + f->cap, 0, (cap - f->cap) * sizeof(*f->said));
	f->cap = cap;
}

/* Lines of (pid, tid), found by a linear probe of a table kept small. */
static void count_who(long pid, long ppid, long tid)
{
	static size_t last;

	if (last < nwho && who[last].pid == pid && who[last].tid == tid) {
		who[last].lines++;
		return;
	}
	for (size_t i = 0; i < nwho; i++) {
		if (who[i].pid == pid && who[i].tid == tid) {
			who[last = i].lines++;
			return;
		}
	}
	if (nwho == MAX_WHO) {
		otherwho++;
		return;
	}
	who = xrealloc(who, (nwho + 1) * sizeof(*who));
	who[nwho] = (struct who){ pid, ppid, tid, 1 };
	last = nwho++;
}

static void end_run(void)
{
	if (!cur.n)
		return;
	if (nruns < MAX_RUNS)
		runs[nruns++] = cur;
	allruns++;
	cur.n = 0;
}

/* One executed line: line `line` of file fi; `text` the source text the
 * trace gave (NULL: none). */
static void count(size_t fi, long line, const char *text, size_t tlen)
{
	struct rfile *f = &files[fi];

	if (!f->included)
		return;
	if (line < 0 || line >= MAX_LINE) {
		beyond++;
		return;
	}
	if ((size_t)line >= f->cap)
		grow(f, (size_t)line);
	if (!f->hits[line]++) {
		f->distinct++;
		f->first[line] = reached < UINT32_MAX ? ++reached : reached;
		if (!f->reached)
			f->reached = f->first[line];
		if (text && tlen)
			f->said[line] = pt_hash64(text, tlen, PT_HASH64_INIT) | 1;
	}
	f->total++;
	total++;
	inputs[ninputs - 1].lines++;
	if (cur.n && cur.file == fi) {
		cur.n++;
	} else {
		end_run();
		cur = (struct run){ fi, line, 1 };
	}
}

/* A line of a text trace: "path(line): source" (after a -g timing or
 * not); others are skipped. */
static void count_text(char *s, size_t n, void *arg)
{
	static size_t last = SIZE_MAX;
	struct pt_tx_line l;

	(void)arg;
	/* a traced line starts with its path, never "#" or " " */
	if (s[0] == '#' || !pt_tx_parse(s, n, &l))
		return;
	size_t fi = last;
	if (fi >= nfiles || strncmp(files[fi].path, l.path, l.pathlen) != 0 ||
	    files[fi].path[l.pathlen] != '\0')
		fi = last = file_index(l.path, l.pathlen);
	count(fi, l.line, l.text, l.textlen);
}

/* A record: lines count; calls, notices and scope entries do not. */
static void count_record(const struct pt_rd_event *ev, void *arg)
{
	(void)arg;
	inputs[ninputs - 1].records = 1;
	if (ev->kind != PT_REC_LINE)
		return;
	struct pt_rd_file *cf = (struct pt_rd_file *)ev->code->file;
	size_t fi = (size_t)(uintptr_t)cf->user;
	if (!fi) {
		fi = file_index(cf->path, cf->pathlen) + 1;
		cf->user = (void *)(uintptr_t)fi;
		struct rfile *f = &files[fi - 1];
		if (!f->known && (cf->size || cf->mtime_sec || cf->mtime_nsec)) {
			f->known = 1;
			f->size = cf->size;
			f->mtime_sec = cf->mtime_sec;
			f->mtime_nsec = cf->mtime_nsec;
		}
	}
	count(fi - 1, ev->line, NULL, 0);
	if (files[fi - 1].included && ev->line >= 0 && ev->line < MAX_LINE)
		count_who(ev->proc->pid, ev->proc->ppid, ev->tid);
}

/* ---- the page ---- */

static FILE *out;

/* Length of the UTF-8 sequence at s[0, n), 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;

	if (c < 0xc2 || c > 0xf4)
		return 0;
	len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
	if (len > n)
		return 0;
	unsigned v = c & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	return len;
}

/* s[0, n) as HTML text or attribute value: markup characters as
 * references, control characters and bytes that are not UTF-8 as
 * U+FFFD (tabs kept). */
static void esc(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		unsigned c = u[i];
		size_t len;
		if (c >= 0x80) {
			if ((len = utf8_len(u + i, n - i))) {
				fwrite(u + i, 1, len, out);
				i += len;
			} else {
				fputs("\xef\xbf\xbd", out);
				i++;
			}
			continue;
		}
		switch (c) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default:
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				fputs("\xef\xbf\xbd", out);
			else
				putc((int)c, out);
		}
		i++;
	}
}

static void escs(const char *s)
{
	esc(s, strlen(s));
}

/*
 * The page's one script: the filter and the sorting of the files, and
 * showing one file at a time.  The page allows no other script: its
 * Content-Security-Policy names this one by its SHA-256, which must be
 * changed with it (a test checks them against each other).
 */
static const char script[] =
	"(function () {\n"
	"'use strict';\n"
	"var q = document.getElementById('filter');\n"
	"var tb = document.querySelector('#files tbody');\n"
	"var heads = document.querySelectorAll('#files th');\n"
	"function filter() {\n"
	"  var v = q.value.toLowerCase(), n = 0;\n"
	"  Array.prototype.forEach.call(tb.rows, function (r) {\n"
	"    var m = r.getAttribute('data-path').toLowerCase().indexOf(v) >= 0;\n"
	"    r.hidden = !m;\n"
	"    n += m ? 1 : 0;\n"
	"  });\n"
	"  document.getElementById('shown').textContent = n;\n"
	"}\n"
	"q.addEventListener('input', filter);\n"
	"Array.prototype.forEach.call(heads, function (th, i) {\n"
	"  th.addEventListener('click', function () {\n"
	"    var up = th.getAttribute('aria-sort') !== 'ascending';\n"
	"    var num = th.getAttribute('data-type') === 'n';\n"
	"    Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });\n"
	"    th.setAttribute('aria-sort', up ? 'ascending' : 'descending');\n"
	"    var rows = Array.prototype.slice.call(tb.rows);\n"
	"    rows.sort(function (a, b) {\n"
	"      var x = a.cells[i].getAttribute('data-v'), y = b.cells[i].getAttribute('data-v');\n"
	"      var c = num ? x - y : (x < y ? -1 : x > y ? 1 : 0);\n"
	"      return up ? c : -c;\n"
	"    });\n"
	"    rows.forEach(function (r) { tb.appendChild(r); });\n"
	"  });\n"
	"});\n"
	"function show() {\n"
	"  var h = decodeURIComponent(location.hash.slice(1));\n"
	"  var sec = document.getElementById(h.split('-')[0]);\n"
	"  var file = sec && sec.classList.contains('file') ? sec : null;\n"
	"  document.getElementById('index').hidden = !!file;\n"
	"  Array.prototype.forEach.call(document.querySelectorAll('section.file'), function (s) {\n"
	"    s.classList.toggle('shown', s === file);\n"
	"  });\n"
	"  var t = h && document.getElementById(h);\n"
	"  if (t)\n"
	"    t.scrollIntoView();\n"
	"}\n"
	"document.addEventListener('click', function (e) {\n"
	"  var p = e.target.parentNode;\n"
	"  if (e.target.tagName === 'A' && !e.target.hasAttribute('href') && p.id)\n"
	"    location.hash = '#' + p.id;\n"
	"});\n"
	"window.addEventListener('hashchange', show);\n"
	"show();\n"
	"})();\n";
static const char script_sha256[] = "apSOBEgm3LryEWPAhnUJSiga50B0PNnCuzC+ztUWkgU=";

static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:0 1.5em 2em;color:#222}\n"
	"h1{font-size:1.4em}h2{font-size:1.15em;word-break:break-all}\n"
	"table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right}\n"
	"td:first-child,th:first-child{text-align:left;word-break:break-all}\n"
	"th{cursor:pointer;background:#eee;position:sticky;top:0}\n"
	"th[aria-sort=ascending]::after{content:' \\25b2'}\n"
	"th[aria-sort=descending]::after{content:' \\25bc'}\n"
	"tr:nth-child(even){background:#f7f7f7}\n"
	".warn{color:#a40}\n"
	"section.file{display:none}\n"
	"section.file.shown,section.file:target,section.file:has(:target){display:block}\n"
	".src{font:13px/1.35 ui-monospace,monospace;tab-size:8}\n"
	".src p{display:grid;grid-template-columns:7ch 10ch 7ch 1fr;white-space:pre;margin:0}\n"
	".src a{grid-column:1;text-align:right;padding-right:1ch;color:#999;cursor:pointer}\n"
	".src b{grid-column:2;text-align:right;padding-right:1ch;color:#060;font-weight:normal}\n"
	".src i{grid-column:3;text-align:right;padding-right:1ch;color:#669;font-style:normal}\n"
	".src code{grid-column:4;font:inherit}\n"
	".src p.h{color:#777;border-bottom:1px solid #ddd}\n"
	".src p.r{background:#e6f6e6}.src p:target{outline:2px solid #c80}\n"
	".gap summary{color:#888;padding-left:24ch;cursor:pointer}\n"
	".gap pre{margin:0;font:inherit;color:#444}\n"
	"#runs{font:13px/1.35 ui-monospace,monospace;list-style:none;padding:0;white-space:nowrap}\n"
	"#runs .c{display:inline-block;min-width:7em;text-align:right;padding-right:1em}\n";

/* The share of the trace, as a fraction and as text. */
static double share(uint64_t n)
{
	return total ? (double)n / (double)total : 0;
}

static int by_lines(const void *a, const void *b)
{
	const struct rfile *x = &files[*(const size_t *)a], *y = &files[*(const size_t *)b];
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return x->reached < y->reached ? -1 : x->reached > y->reached;
}

static int by_who(const void *a, const void *b)
{
	const struct who *x = a, *y = b;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* The source of f, whole, and its lines; NULL (errno) when it cannot be
 * read. */
static char *read_source(struct rfile *f, uint32_t **starts, uint32_t *nlines)
{
	FILE *src = f->path[0] == '/' ? fopen(f->path, "rb") : NULL;
	char *text = NULL;
	size_t len = 0, cap = 0, n;

	if (!src) {
		f->unreadable = f->path[0] == '/' ? errno : ENOENT;
		return NULL;
	}
	do {
		if (len + 65536 > cap)
			text = xrealloc(text, cap = (cap + 65536) * 2);
		n = fread(text + len, 1, cap - len, src);
		len += n;
	} while (n && len < UINT32_MAX / 2);
	fclose(src);
	*starts = pt_source_split(text, len, nlines);
	if (!*starts) {
		free(text);
		f->unreadable = ENOMEM;
		return NULL;
	}
	return text;
}

/* Line i (1...) of a source read by read_source, without its ending. */
static void source_line(const char *text, const uint32_t *starts, uint32_t i,
			const char **s, size_t *n)
{
	size_t a = starts[i - 1], b = starts[i];
	while (b > a && (text[b - 1] == '\n' || text[b - 1] == '\r'))
		b--;
	*s = text + a;
	*n = b - a;
}

/* Whether f changed since it was traced: its size and mtime then
 * (records), or the text the trace gave of its lines.  Said once.  A text
 * trace's file is read here and again by put_file, after the index that
 * marks it: no source is kept, so that memory stays bounded. */
static void check_changed(struct rfile *f)
{
	struct stat st;

	if (f->known) {
		f->changed = stat(f->path, &st) < 0 ||
			     (uint64_t)st.st_size != f->size ||
			     st.st_mtim.tv_sec != f->mtime_sec ||
			     (uint32_t)st.st_mtim.tv_nsec != f->mtime_nsec;
	} else {
		uint32_t *starts, nlines;
		char *text = read_source(f, &starts, &nlines);
		for (size_t i = 1; text && i < f->cap && !f->changed; i++) {
			const char *s;
			size_t n;
			if (!f->said[i])
				continue;
			if (i > nlines) {
				f->changed = 1;
				break;
			}
			source_line(text, starts, (uint32_t)i, &s, &n);
			f->changed = (pt_hash64(s, n, PT_HASH64_INIT) | 1) != f->said[i];
		}
		if (text) {
			free(text);
			free(starts);
		}
		f->unreadable = 0;
	}
	if (f->changed)
		fprintf(stderr, "%s: warning: %s has changed since it was traced; "
			"its lines are shown as they are now\n", prog, f->path);
}

/* Line i of file fi, its text s[0, n): <p>, number, count and order
 * when it ran, text.  Short markup: a page holds every line of every
 * file traced. */
static void put_line(size_t fi, size_t i, const char *s, size_t n)
{
	const struct rfile *f = &files[fi];

	if (i < f->cap && f->hits[i])
		fprintf(out, "<p class=r id=f%zu-L%zu><a>%zu</a><b>%llu</b><i>%lu</i><code>",
			fi, i, i, (unsigned long long)f->hits[i], (unsigned long)f->first[i]);
	else
		fprintf(out, "<p id=f%zu-L%zu><a>%zu</a><code>", fi, i, i);
	esc(s, n);
	fputs("</code></p>\n", out);
}

/* The section of file fi: its source with the lines that ran marked. */
static void put_file(size_t fi)
{
	struct rfile *f = &files[fi];
	uint32_t *starts = NULL, nlines = 0;
	char *text = read_source(f, &starts, &nlines);

	fprintf(out, "<section class=\"file\" id=\"f%zu\">\n<h2>", fi);
	escs(f->path);
	fprintf(out, "</h2>\n<p><a href=\"#index\">All files</a> &middot; %llu lines executed, "
		"%zu distinct lines", (unsigned long long)f->total, f->distinct);
	if (text)
		fprintf(out, " of %lu", (unsigned long)nlines);
	fprintf(out, " &middot; %.1f%% of the trace &middot; first reached: %lu</p>\n",
		100 * share(f->total), (unsigned long)f->reached);
	if (f->changed)
		fputs("<p class=\"warn\">This file has changed since it was traced: "
		      "its lines are shown as they are now.</p>\n", out);
	if (!text) {
		fputs("<p class=\"warn\">Its source cannot be read (", out);
		escs(strerror(f->unreadable));
		fputs("): the lines that ran, without their text.</p>\n", out);
	}
	fputs("<div class=\"src\">\n<p class=h><a>line</a><b title=\"times the line ran\">ran</b>"
	      "<i title=\"the order in which the trace first reached its distinct lines\">first</i>"
	      "<code>source</code></p>\n", out);
	size_t last = text ? nlines : 0;
	for (size_t i = 1; i <= last;) {
		const char *s;
		size_t n;
		if (i < f->cap && f->hits[i]) {
			source_line(text, starts, (uint32_t)i, &s, &n);
			put_line(fi, i++, s, n);
			continue;
		}
		/* a stretch of lines that did not run: [i, j) */
		size_t j = i;
		while (j <= last && !(j < f->cap && f->hits[j]))
			j++;
		size_t a = i > 1 ? i + CONTEXT : i, b = j <= last ? j - CONTEXT : j;
		if (b < a + GAP)
			a = b = j;
		for (; i < a; i++) {
			source_line(text, starts, (uint32_t)i, &s, &n);
			put_line(fi, i, s, n);
		}
		if (a < b) {
			/* one text, no element per line: the page of a trace
			 * of many large files stays light */
			fprintf(out, "<details class=\"gap\"><summary>%zu lines not run "
				"(%zu&ndash;%zu)</summary><pre>", b - a, a, b - 1);
			for (; i < b; i++) {
				source_line(text, starts, (uint32_t)i, &s, &n);
				fprintf(out, "%6zu%18s", i, "");
				esc(s, n);
				putc('\n', out);
			}
			fputs("</pre></details>\n", out);
		}
		for (; i < j; i++) {
			source_line(text, starts, (uint32_t)i, &s, &n);
			put_line(fi, i, s, n);
		}
	}
	/* lines the trace has that the source does not */
	int heading = 0;
	for (size_t i = last + 1; i < f->cap; i++) {
		if (!f->hits[i])
			continue;
		if (!heading++ && text)
			fputs("<p class=\"warn\">Lines that ran past the end of the "
			      "file as it is now:</p>\n", out);
		put_line(fi, i, "", 0);
	}
	fputs("</div>\n</section>\n", out);
	free(text);
	free(starts);
}

static void put_index(const size_t *order, size_t nshown)
{
	size_t distinct = 0;

	for (size_t k = 0; k < nshown; k++)
		distinct += files[order[k]].distinct;
	fprintf(out, "<header>\n<h1>pytrace report</h1>\n<p>%llu lines executed, "
		"%zu distinct lines, in %zu files; from ",
		(unsigned long long)total, distinct, nshown);
	for (size_t k = 0; k < ninputs; k++) {
		fputs(k ? ", <code>" : "<code>", out);
		escs(inputs[k].name);
		fprintf(out, "</code> (%s, %llu lines)", inputs[k].records ? "records" : "text",
			(unsigned long long)inputs[k].lines);
	}
	fputs(".</p>\n", out);
	if (beyond)
		fprintf(out, "<p class=\"warn\">%llu lines with a line number past %d "
			"were left out.</p>\n", (unsigned long long)beyond, MAX_LINE);
	fputs("</header>\n<section id=\"index\">\n<h2>Files</h2>\n"
	      "<p><input id=\"filter\" type=\"search\" placeholder=\"Filter by path\" "
	      "aria-label=\"Filter by path\"> ", out);
	fprintf(out, "<span id=\"shown\">%zu</span> of %zu files</p>\n", nshown, nshown);
	fputs("<table id=\"files\">\n<thead><tr><th data-type=\"s\">File</th>"
	      "<th data-type=\"n\" aria-sort=\"descending\">Lines executed</th>"
	      "<th data-type=\"n\">Distinct lines</th><th data-type=\"n\">Share</th>"
	      "<th data-type=\"n\">First reached</th></tr></thead>\n<tbody>\n", out);
	for (size_t k = 0; k < nshown; k++) {
		size_t fi = order[k];
		struct rfile *f = &files[fi];
		fputs("<tr data-path=\"", out);
		escs(f->path);
		fputs("\"><td data-v=\"", out);
		escs(f->path);
		fprintf(out, "\"><a href=\"#f%zu\">", fi);
		escs(f->path);
		fputs("</a>", out);
		if (f->changed)
			fputs(" <span class=\"warn\" title=\"changed since it was traced\">(changed)</span>", out);
		fprintf(out, "</td><td data-v=\"%llu\">%llu</td><td data-v=\"%zu\">%zu</td>"
			"<td data-v=\"%.6f\">%.1f%%</td><td data-v=\"%lu\">%lu</td></tr>\n",
			(unsigned long long)f->total, (unsigned long long)f->total,
			f->distinct, f->distinct, share(f->total), 100 * share(f->total),
			(unsigned long)f->reached, (unsigned long)f->reached);
	}
	fputs("</tbody>\n</table>\n", out);

	fputs("<h2>Processes and threads</h2>\n", out);
	if (!nwho) {
		fputs("<p>Text traces do not say which process or thread ran a "
		      "line; record files do (<code>--record</code>; threads with "
		      "<code>{tid}</code> in the format).</p>\n", out);
	} else {
		qsort(who, nwho, sizeof(*who), by_who);
		fputs("<table id=\"procs\">\n<thead><tr><th>Process</th><th>Parent</th>"
		      "<th>Thread</th><th>Lines</th></tr></thead>\n<tbody>\n", out);
		for (size_t i = 0; i < nwho; i++) {
			fprintf(out, "<tr><td>%ld</td><td>%ld</td><td>", who[i].pid, who[i].ppid);
			if (who[i].tid)
				fprintf(out, "%ld", who[i].tid);
			else
				fputs("(not recorded)", out);
			fprintf(out, "</td><td>%llu</td></tr>\n", (unsigned long long)who[i].lines);
		}
		fputs("</tbody>\n</table>\n", out);
		if (otherwho)
			fprintf(out, "<p>and %llu lines of further threads.</p>\n",
				(unsigned long long)otherwho);
	}

	fputs("<h2>Runs of consecutive lines per file, in order</h2>\n<ol id=\"runs\">\n", out);
	for (size_t r = 0; r < nruns; r++) {
		fprintf(out, "<li><span class=\"c\">%llu</span><a href=\"#f%zu-L%ld\">",
			(unsigned long long)runs[r].n, runs[r].file, runs[r].line);
		escs(files[runs[r].file].path);
		fprintf(out, "</a>:%ld</li>\n", runs[r].line);
	}
	fputs("</ol>\n", out);
	if (allruns > nruns)
		fprintf(out, "<p>and %llu more runs: <code>pytrace summary</code> "
			"lists them all.</p>\n", (unsigned long long)(allruns - nruns));
	fputs("</section>\n", out);
}

static void usage(void)
{
	fprintf(stderr, "usage: pytrace report [--include REGEX] [-o FILE.html] TRACEFILE...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	regex_t inc;
	const char *dest = NULL;
	char *tmp = NULL;
	int problems = 0;
	struct pt_rd rd = { "pytrace report", count_record, NULL, NULL, 0 };

	/* options anywhere: `pytrace report TRACE -o FILE` */
	char **names = xrealloc(NULL, (size_t)argc * sizeof(*names));
	int nnames = 0, opts = 1;
	for (int a = 1; a < argc; a++) {
		const char *arg = argv[a];
		if (!opts || arg[0] != '-' || !arg[1]) {
			names[nnames++] = argv[a];
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			opts = 0;
			continue;
		}
		if (a + 1 >= argc)
			usage();
		if (strcmp(arg, "-o") == 0 || strcmp(arg, "--output") == 0) {
			dest = argv[++a];
			continue;
		}
		if (strcmp(arg, "--include") != 0)
			usage();
		int e = regcomp(&inc, argv[++a], REG_EXTENDED | REG_NOSUB);
		if (e) {
			char why[128];
			regerror(e, &inc, why, sizeof(why));
			fprintf(stderr, "%s: bad regular expression '%s': %s\n", prog,
				argv[a], why);
			return 1;
		}
		paths.include = &inc;
	}
	if (!nnames)
		usage();
	inputs = xrealloc(NULL, (size_t)nnames * sizeof(*inputs));
	for (int a = 0; a < nnames; a++) {
		struct stat st;
		inputs[ninputs++] = (struct input){ names[a], 0, 0 };
		if (strcmp(names[a], "-") != 0 && stat(names[a], &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			fprintf(stderr, "%s: %s: is a directory\n", prog, names[a]);
			return 1;
		}
		int n = pt_tx_read(names[a], &rd, count_text, NULL);
		if (n < 0)
			return 1;
		problems += n;
		end_run();
	}

	size_t *order = xrealloc(NULL, (nfiles + 1) * sizeof(*order)), nshown = 0;
	for (size_t i = 0; i < nfiles; i++)
		if (files[i].included && files[i].total)
			order[nshown++] = i;
	qsort(order, nshown, sizeof(*order), by_lines);
	for (size_t k = 0; k < nshown; k++)
		check_changed(&files[order[k]]);

	if (dest && strcmp(dest, "-") != 0) {
		if (asprintf(&tmp, "%s.tmp%ld", dest, (long)getpid()) < 0)
			oom();
		out = fopen(tmp, "w");
		if (!out) {
			fprintf(stderr, "%s: %s: %s\n", prog, dest, strerror(errno));
			return 1;
		}
	} else {
		out = stdout;
	}
	setvbuf(out, NULL, _IOFBF, 1 << 16);
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		"style-src 'unsafe-inline'; script-src 'sha256-%s'\">\n"
		"<meta name=\"viewport\" content=\"width=device-width\">\n"
		"<meta name=\"generator\" content=\"pytrace report\">\n"
		"<title>pytrace report</title>\n<style>\n%s</style>\n</head>\n<body>\n",
		script_sha256, style);
	put_index(order, nshown);
	for (size_t k = 0; k < nshown; k++)
		put_file(order[k]);
	fprintf(out, "<script>%s</script>\n</body>\n</html>\n", script);
	if (fflush(out) != 0 || ferror(out) || (out != stdout && fclose(out) != 0)) {
		fprintf(stderr, "%s: %s: %s\n", prog, dest ? dest : "standard output",
			strerror(errno));
		if (tmp)
			unlink(tmp);
		return 1;
	}
	if (tmp && rename(tmp, dest) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, dest, strerror(errno));
		unlink(tmp);
		return 1;
	}
	return problems ? 1 : 0;
}
