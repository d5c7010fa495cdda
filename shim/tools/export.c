/* SPDX-License-Identifier: MIT */
/*
 * export.c - pytrace export --perfetto [--max-slices N] FILE... -o OUT:
 * the calls of record files written with timeline on (ENTER and LEAVE
 * records, recfmt.h) as Chrome trace-event JSON, which Perfetto UI and
 * chrome://tracing open; gzip-compressed when OUT ends in ".gz".
 *
 * Each call of traced code is a slice: a "B" event where its frame was
 * entered, an "E" event where it was left, on the track of its process
 * and thread (pid and tid), named "module:function", with the file and
 * the first line run in it (the first LINE record of that code in that
 * thread after the ENTER; else the lowest line of the code seen so far;
 * 0 when none was recorded) as args.  Every process and thread gets its
 * process_name and thread_name ("M") event.
 *
 * Timestamps are microseconds (ns in three decimals) since the earliest
 * PROC wall start among the files: each process's monotonic offsets,
 * moved by how much later its wall start is, so that the processes of a
 * forked service line up.  Whatever the files hold, the output is valid:
 * the timestamps of a thread strictly increase (an event at or before the
 * last one of its thread is put 1 ns after it), a LEAVE with no call open
 * is ignored, and a call still open at the end (a crash, a file cut short,
 * the next file of a rotation not given) is closed at the last timestamp
 * of its thread.  A run of a program that replaces another with the same
 * pid (exec) first closes what the one before left open.
 *
 * Two passes over the files: the first finds the wall start every
 * timestamp counts from and checks that the files hold a timeline; the
 * second writes.  Memory: the threads and their open calls.  Above
 * --max-slices (5,000,000 by default: what Perfetto UI opens comfortably,
 * see README.md) the rest is left out, the calls open closed, and the
 * exit status is 1.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "recread.h"

static const char prog[] = "pytrace export";

enum { MAX_SLICES_DEFAULT = 5000000 };

/* The output: a buffer written to a file, or through zlib. */
static struct {
	const char *path;
	FILE *f;
	gzFile gz;
	char *buf;
	size_t len, cap;
	int failed;
} out;

static void oom(void)
{
	fprintf(stderr, "%s: out of memory\n", prog);
	exit(1);
}

static void out_write(const char *s, size_t n)
{
	if (!n || out.failed)
		return;
	size_t done = out.gz ? (size_t)gzwrite(out.gz, s, (unsigned)n)
			     : fwrite(s, 1, n, out.f);
	if (done != n) {
		fprintf(stderr, "%s: %s: cannot write\n", prog, out.path);
		out.failed = 1;
	}
}

static void out_flush(void)
{
	out_write(out.buf, out.len);
	out.len = 0;
}

static void out_bytes(const char *s, size_t n)
{
	if (out.len + n > out.cap)
		out_flush();
	if (n > out.cap) {
		out_write(s, n);
		return;
	}
	memcpy(out.buf + out.len, s, n);
	out.len += n;
}

static void out_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void out_printf(const char *fmt, ...)
{
	char b[512];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	out_bytes(b, n < 0 ? 0 : (size_t)n < sizeof(b) ? (size_t)n : sizeof(b) - 1);
}

/* Length of the valid UTF-8 sequence at s[0, n), 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 :
		     s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;

	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* s as a JSON string: quotes, backslashes and control characters
 * escaped, bytes that are not UTF-8 as U+FFFD. */
static void out_json(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	out_bytes("\"", 1);
	for (size_t i = 0; i < n;) {
		size_t run = i;
		while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' &&
		       p[run] != '\\')
			run++;
		out_bytes(s + i, run - i);
		if ((i = run) >= n)
			break;
		if (p[i] < 0x80) {
			if (p[i] == '"' || p[i] == '\\')
				out_printf("\\%c", p[i]);
			else
				out_printf("\\u%04x", p[i]);
			i++;
		} else if ((run = utf8_len(p + i, n - i))) {
			out_bytes(s + i, run);
			i += run;
		} else {
			out_bytes("\\ufffd", 6);
			i++;
		}
	}
	out_bytes("\"", 1);
}

/* What comes before an event in the array: nothing before the first. */
static void out_sep(void)
{
	static int first = 1;

	out_bytes(",\n", first ? 0 : 2);
	first = 0;
}

/* The start of a B or E event, up to its "ts" value included; ts in ns. */
static void out_event(char ph, long pid, long tid, int64_t ts)
{
	out_sep();
	out_printf("{\"ph\":\"%c\",\"pid\":%ld,\"tid\":%ld,\"ts\":%lld.%03lld",
		   ph, pid, tid, (long long)(ts / 1000), (long long)(ts % 1000));
}

/* A code of the file being read, as the output names it: copies, kept
 * after the reader frees its definitions (a call still pending at the
 * end of the file), until the next file. */
struct code {
	const struct pt_rd_code *rd;	/* the reader's, the key */
	char *name;			/* "module:function" */
	char *file;
	int line;			/* the lowest line seen; 0: none */
};

/* A thread of a process, with its open calls. */
struct thread {
	long pid, tid;
	int64_t mono_sec;	/* the run of the program (PROC mono start) */
	uint32_t mono_nsec;
	int64_t shift;		/* ns from the export's start to the run's */
	int64_t last;		/* ns of its last event written; -1: none */
	size_t open;		/* calls open (B written, E not yet) */
	/* the call entered last, its B not written until its first line is
	 * known, and when */
	const struct code *pend;
	int64_t pend_ts;
	struct thread *next;
};

static struct {
	struct thread *buckets[4096];
	int64_t wall0;		/* us: the earliest PROC wall start */
	int have_wall0;
	int timeline;		/* pass 1: this file's PROC says timeline */
	unsigned long long slices, max_slices;
	int capped;
	/* the codes of the file being read, by the reader's address */
	struct code **codes;
	size_t cmask, ncodes;
} ex;

static uint64_t mix(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdull;
	return v ^ (v >> 33);
}

/* Where code rd is, or goes, in ex.codes. */
static size_t code_slot(struct code **codes, size_t mask,
			const struct pt_rd_code *rd)
{
	size_t i = mix((uint64_t)(uintptr_t)rd) & mask;

	while (codes[i] && codes[i]->rd != rd)
		i = (i + 1) & mask;
	return i;
}

/* The output's copy of the reader's code rd, made on first use. */
static struct code *code_of(const struct pt_rd_code *rd)
{
	if (!ex.codes || (ex.ncodes + 1) * 2 > ex.cmask + 1) {
		size_t cap = ex.codes ? (ex.cmask + 1) * 2 : 1024;
		struct code **n = calloc(cap, sizeof(*n));
		if (!n)
			oom();
		for (size_t i = 0; ex.codes && i <= ex.cmask; i++)
			if (ex.codes[i])
				n[code_slot(n, cap - 1, ex.codes[i]->rd)] = ex.codes[i];
		free(ex.codes);
		ex.codes = n;
		ex.cmask = cap - 1;
	}
	size_t i = code_slot(ex.codes, ex.cmask, rd);
	if (ex.codes[i])
		return ex.codes[i];
	struct code *c = calloc(1, sizeof(*c));
	size_t n = strlen(rd->module) + strlen(rd->function) + 3;
	if (!c || !(c->name = malloc(n)) || !(c->file = strdup(rd->file->path)))
		oom();
	snprintf(c->name, n, "%s:%s", rd->module[0] ? rd->module : "?",
		 rd->function);
	c->rd = rd;
	ex.codes[i] = c;
	ex.ncodes++;
	return c;
}

/* Whether a and b are the same code: a code defined again (in a new
 * chunk's prelude) is another definition. */
static int same_code(const struct code *a, const struct code *b)
{
	return a == b || (strcmp(a->name, b->name) == 0 &&
			  strcmp(a->file, b->file) == 0);
}

static size_t bucket(long pid, long tid)
{
	return mix((uint64_t)pid << 32 ^ (uint64_t)tid) & 4095;
}

/* The thread tid of process pid, NULL when none of its calls was seen. */
static struct thread *find_thread(long pid, long tid)
{
	struct thread *t;

	for (t = ex.buckets[bucket(pid, tid)]; t; t = t->next)
		if (t->pid == pid && t->tid == tid)
			break;
	return t;
}

/* The same, made (and named in the output) when new. */
static struct thread *thread_of(long pid, long tid)
{
	size_t b = bucket(pid, tid);
	struct thread *t = find_thread(pid, tid);

	if (t)
		return t;
	if (!(t = calloc(1, sizeof(*t))))
		oom();
	t->pid = pid;
	t->tid = tid;
	t->last = -1;
	t->next = ex.buckets[b];
	ex.buckets[b] = t;
	out_sep();
	out_printf("{\"ph\":\"M\",\"pid\":%ld,\"tid\":%ld,\"name\":"
		   "\"thread_name\",\"args\":{\"name\":\"%s %ld\"}}",
		   pid, tid, tid == pid ? "main thread" : "thread", tid);
	return t;
}

/* A timestamp of t: after its last one. */
static int64_t stamp(struct thread *t, int64_t ns)
{
	if (ns <= t->last)
		ns = t->last + 1;
	return t->last = ns;
}

/* Write the B event of t's pending call, with line `line` (0: the lowest
 * known). */
static void write_pending(struct thread *t, int line)
{
	const struct code *c = t->pend;

	if (!c)
		return;
	t->pend = NULL;
	if (!line)
		line = c->line;
	out_event('B', t->pid, t->tid, t->pend_ts);
	out_bytes(",\"cat\":\"python\",\"name\":", 23);
	out_json(c->name);
	out_bytes(",\"args\":{\"file\":", 16);
	out_json(c->file);
	out_printf(",\"line\":%d}}", line);
	t->open++;
}

/* The E event of t's innermost open call, at ns (or just after t's
 * last event). */
static void write_end(struct thread *t, int64_t ns)
{
	out_event('E', t->pid, t->tid, stamp(t, ns));
	out_bytes("}", 1);
	t->open--;
}

/* Close t's open calls at its last timestamp. */
static void close_all(struct thread *t)
{
	write_pending(t, 0);
	while (t->open)
		write_end(t, t->last);
}

/* Pass 1: the earliest wall start; whether the file holds a timeline. */
static void scan_proc(const struct pt_rd_proc *p, void *arg)
{
	int64_t wall = p->set.wall_sec * 1000000 + p->set.wall_usec;

	(void)arg;
	if (!(p->set.flags & PT_REC_P_TIMELINE))
		return;
	ex.timeline = 1;
	if (!ex.have_wall0 || wall < ex.wall0)
		ex.wall0 = wall;
	ex.have_wall0 = 1;
}

static void scan_event(const struct pt_rd_event *ev, void *arg)
{
	(void)ev;
	(void)arg;
}

/* Pass 2: the thread of an ENTER or LEAVE, in the run of its process. */
static struct thread *run_thread(const struct pt_rd_event *ev)
{
	const struct pt_rd_proc *p = ev->proc;
	struct thread *t = thread_of(p->pid, ev->tid);

	if (t->mono_sec != p->set.mono_sec || t->mono_nsec != p->set.mono_nsec) {
		/* another run (or the first): what the last left open ends */
		close_all(t);
		t->mono_sec = p->set.mono_sec;
		t->mono_nsec = p->set.mono_nsec;
		t->shift = (p->set.wall_sec * 1000000 + p->set.wall_usec -
			    ex.wall0) * 1000;
	}
	return t;
}

static void event(const struct pt_rd_event *ev, void *arg)
{
	struct pt_rd_proc *p = ev->proc;
	struct thread *t;
	struct code *c;

	(void)arg;
	if (ex.capped || !(p->set.flags & PT_REC_P_TIMELINE))
		return;
	switch (ev->kind) {
	case PT_REC_LINE:
		c = code_of(ev->code);
		if (!c->line || ev->line < c->line)
			c->line = ev->line;
		/* the thread: as recorded ({tid}), else the one that entered
		 * a call last in this process */
		t = p->user;
		if (ev->tid && (!t || t->tid != ev->tid))
			t = find_thread(p->pid, ev->tid);
		if (t && t->pend && same_code(t->pend, c))
			write_pending(t, ev->line);
		break;
	case PT_REC_ENTER:
		t = run_thread(ev);
		write_pending(t, 0);
		if (ex.slices >= ex.max_slices) {
			ex.capped = 1;
			return;
		}
		ex.slices++;
		t->pend = code_of(ev->code);
		t->pend_ts = stamp(t, t->shift + ev->mono);
		p->user = t;
		break;
	case PT_REC_LEAVE:
		t = run_thread(ev);
		write_pending(t, 0);
		if (t->open)	/* else a LEAVE with no call open */
			write_end(t, t->shift + ev->mono);
		break;
	default:
		break;
	}
}

/* After a file: every thread's pending call written, the file's codes
 * forgotten (the reader's addresses of them may come back for others). */
static void file_done(void)
{
	for (size_t b = 0; b < 4096; b++)
		for (struct thread *t = ex.buckets[b]; t; t = t->next)
			write_pending(t, 0);
	for (size_t i = 0; ex.codes && i <= ex.cmask; i++)
		if (ex.codes[i]) {
			free(ex.codes[i]->name);
			free(ex.codes[i]->file);
			free(ex.codes[i]);
		}
	free(ex.codes);
	ex.codes = NULL;
	ex.ncodes = ex.cmask = 0;
}

/* Read `path` with rd; the problems reported, or -1 when it cannot be
 * read or is no record file. */
static int read_file(const struct pt_rd *rd, const char *path)
{
	FILE *in = fopen(path, "r");
	int c, problems;

	if (!in) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	setvbuf(in, NULL, _IOFBF, 1 << 20);
	if ((c = getc(in)) == EOF || !pt_rd_is_records(&(char){ (char)c }, 1)) {
		fprintf(stderr, "%s: %s: not a record file (written with "
			"output_mode = \"record\"?)\n", prog, path);
		fclose(in);
		return -1;
	}
	ungetc(c, in);
	problems = pt_rd_stream(rd, in, path);
	fclose(in);
	return problems;
}

static int usage(void)
{
	fprintf(stderr, "usage: pytrace export --perfetto [--max-slices N] "
		"RECORDFILE... -o OUT[.gz]\n");
	return 2;
}

/* The process_name events: one per process seen. */
static void name_processes(void)
{
	long *pids = NULL;
	size_t n = 0, cap = 0;

	for (size_t b = 0; b < 4096; b++)
		for (struct thread *t = ex.buckets[b]; t; t = t->next) {
			size_t i = 0;
			while (i < n && pids[i] != t->pid)
				i++;
			if (i < n)
				continue;
			if (n == cap && !(pids = realloc(pids, (cap = cap ? cap * 2 : 64) *
							     sizeof(*pids))))
				oom();
			pids[n++] = t->pid;
			out_sep();
			out_printf("{\"ph\":\"M\",\"pid\":%ld,\"tid\":%ld,\"name\":"
				   "\"process_name\",\"args\":{\"name\":\"python "
				   "pid %ld\"}}", t->pid, t->pid, t->pid);
		}
	free(pids);
}

int main(int argc, char **argv)
{
	const char *outpath = NULL;
	char **files = calloc((size_t)argc, sizeof(char *));
	int nfiles = 0, perfetto = 0, problems = 0;

	if (!files)
		oom();
	ex.max_slices = MAX_SLICES_DEFAULT;
	for (int a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--perfetto") == 0) {
			perfetto = 1;
		} else if (strcmp(argv[a], "-o") == 0 && a + 1 < argc) {
			outpath = argv[++a];
		} else if (strcmp(argv[a], "--max-slices") == 0 && a + 1 < argc) {
			char *end;
			ex.max_slices = strtoull(argv[++a], &end, 10);
			if (*end || !ex.max_slices)
				return usage();
		} else if (argv[a][0] == '-' && strcmp(argv[a], "--") != 0) {
			return usage();
		} else if (strcmp(argv[a], "--") != 0) {
			files[nfiles++] = argv[a];
		}
	}
	if (!perfetto || !outpath || !nfiles)
		return usage();

	/* pass 1: the start; every file must hold a timeline */
	struct pt_rd scan = { prog, scan_event, NULL, scan_proc, 1 };
	for (int i = 0; i < nfiles; i++) {
		ex.timeline = 0;
		if (read_file(&scan, files[i]) < 0)
			return 1;
		if (!ex.timeline) {
			fprintf(stderr, "%s: %s: no timeline in this file: record "
				"with `pytrace --record --timeline` (timeline = "
				"true, PYTRACE_TIMELINE=1) to export calls\n",
				prog, files[i]);
			return 1;
		}
	}

	/* pass 2: the events */
	size_t n = strlen(outpath);
	out.path = outpath;
	if (n > 3 && strcmp(outpath + n - 3, ".gz") == 0) {
		out.gz = gzopen(outpath, "wb6");
		if (out.gz)
			gzbuffer(out.gz, 1 << 20);
	} else {
		out.f = fopen(outpath, "w");
	}
	out.cap = 1 << 20;
	if ((!out.gz && !out.f) || !(out.buf = malloc(out.cap))) {
		fprintf(stderr, "%s: %s: %s\n", prog, outpath, strerror(errno));
		return 1;
	}
	out_bytes("{\"traceEvents\":[\n", 17);
	struct pt_rd rd = { prog, event, NULL, NULL, 0 };
	for (int i = 0; i < nfiles && !ex.capped; i++) {
		if (read_file(&rd, files[i]) != 0)
			problems++;
		file_done();
	}
	for (size_t b = 0; b < 4096; b++)
		for (struct thread *t = ex.buckets[b]; t; t = t->next)
			close_all(t);
	name_processes();
	out_bytes("\n],\"displayTimeUnit\":\"ns\"}\n", 27);
	out_flush();
	if ((out.gz ? gzclose(out.gz) != Z_OK : fclose(out.f) != 0) && !out.failed) {
		fprintf(stderr, "%s: %s: cannot write\n", prog, outpath);
		out.failed = 1;
	}
	if (out.failed) {
		unlink(outpath);
		return 1;
	}
	if (ex.capped)
		fprintf(stderr, "%s: stopped at %llu calls (--max-slices): the "
			"rest of the trace is not in %s; Perfetto UI opens a few "
			"million comfortably\n", prog, ex.max_slices, outpath);
	for (size_t b = 0; b < 4096; b++)
		while (ex.buckets[b]) {
			struct thread *t = ex.buckets[b];
			ex.buckets[b] = t->next;
			free(t);
		}
	free(out.buf);
	free(files);
	return problems || ex.capped ? 1 : 0;
}
