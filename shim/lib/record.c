/* SPDX-License-Identifier: MIT */
/*
 * record.c - record mode's writer, in the traced process.
 *
 * A traced line costs a few bytes in the output buffer instead of a
 * formatted line: its code's id and its line number (record.h), plus only
 * what the format needs (the thread when it changes, the depth, a clock).
 * Paths, modules, function names and source lines are not written per
 * line: each code is defined once per output file, by content (file,
 * module, function), before its first record there.  `pytrace replay`
 * makes the text again.
 *
 * Definitions are numbered per process, interned by content: every code
 * object with the same file, module and function shares one id, so a
 * program that keeps compiling the same code adds nothing.  A struct
 * pt_code caches its id and the generation in which its definition was
 * last known to be in the file: `gen` grows when the file changes (a new
 * file, a rotation, a reopen, a truncation: output.c calls new_file), so a
 * line record is, on the fast path, one comparison and two varints.
 *
 * output.c writes each buffer as chunks framed here (frame): a header
 * with the pid, and in a file new to the process first its PROC record
 * and the definitions that the chunk's records use but the chunk does not
 * define (found by reading the chunk back; a rare event).  A notice
 * (log.c) is a NOTE record in a chunk of its own; a scope entry, a SCOPE
 * record among the lines; with timeline, a frame of traced code starting
 * and ending, an ENTER and a LEAVE record among the lines.  Everything here
 * runs with the output buffer locked: by the thread that traces (holding
 * the GIL) or by output.c's flusher.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "codemap.h"
#include "format.h"
#include "hash.h"
#include "output.h"
#include "pytrace.h"
#include "record.h"
#include "settings.h"
#include "state.h"

/* Definitions of each kind kept before all are forgotten and written
 * again as used: bounded memory, as codemap.c's limit. */
enum { PT_REC_DEFS_MAX = 65536 };

/* A definition: a source file, or a code (file, module, function). */
struct def {
	char *a, *b;		/* FILE: path; CODE: module, function */
	size_t na, nb;
	uint32_t hash;
	uint32_t gen;		/* in the file as of this generation; 0: never */
	uint32_t file;		/* CODE: its file's id */
	uint32_t mark;		/* frame(): in the prelude or in the chunk */
	uint64_t size;		/* FILE: size and mtime when defined */
	int64_t mtime_sec;
	uint32_t mtime_nsec;
};

/* Definitions of one kind: by id (defs[id - base]) and by content. */
struct table {
	struct def *defs;
	size_t n, cap;
	uint32_t *slots;	/* index + 1; 0: empty */
	size_t mask;
	uint32_t base;		/* ids are never reused in a process */
};

static struct {
	int call_lines;
	int timeline;		/* ENTER and LEAVE records (PROC flag) */
	char *format;
	struct timespec mono0;	/* {elapsed} counts from here */
	struct timeval wall0;	/* {time} offsets count from here */
	long gmtoff;
	char *tz;		/* the process's TZ, NULL when unset */
	uint32_t buf_gen;	/* gen when the buffer was last empty */
	int fresh;		/* the file has none of this process's definitions */
	int need_proc;		/* the next chunk starts with a PROC record */
	int inherit;		/* ... that continues the definitions of ppid */
	long ppid;		/* the parent, or the ancestor whose PROC record
				 * is in the file when the parent wrote none */
	long pid;		/* this process, as known before a fork (the
				 * child's getppid() may already be 1) */
	uint32_t seq;		/* chunks written by this process */
	long last_tid;		/* TID in force in the buffer; 0: none */
	struct table files, codes;
	unsigned char *pre;	/* frame(): header and prelude */
	size_t precap;
	uint32_t stamp;		/* frame(): current mark */
	struct { struct def *d; } *marked;	/* frame(): defs marked */
	size_t nmarked, capmarked;
} rec;

/* What pt_rec_append reads (record.h), and a shorter name for it here. */
struct pt_rec_hot pt_rec_hot;
static struct pt_rec_hot *const hot = &pt_rec_hot;


/* The id of d in t. */
static uint32_t id_of(const struct table *t, const struct def *d)
{
	return t->base + (uint32_t)(d - t->defs);
}

/* The definition with id `id` in t, or NULL. */
static struct def *by_id(struct table *t, uint64_t id)
{
	return id >= t->base && id - t->base < t->n ? &t->defs[id - t->base]
						    : NULL;
}

static int grow(struct table *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct def *d = realloc(t->defs, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		t->defs = d;
		t->cap = cap;
	}
	if ((t->n + 1) * 2 > t->mask + 1 || !t->slots) {
		size_t cap = t->slots ? (t->mask + 1) * 2 : 512;
		uint32_t *s = calloc(cap, sizeof(*s));
		if (!s)
			return -ENOMEM;
		for (size_t i = 0; i < t->n; i++) {
			size_t j = t->defs[i].hash & (cap - 1);
			while (s[j])
				j = (j + 1) & (cap - 1);
			s[j] = (uint32_t)i + 1;
		}
		free(t->slots);
		t->slots = s;
		t->mask = cap - 1;
	}
	return 0;
}

/* The definition of (a, b, file) in t, added (gen 0) when new; NULL when
 * out of memory. */
static struct def *intern(struct table *t, const char *a, size_t na,
			  const char *b, size_t nb, uint32_t file)
{
	uint32_t h = pt_hash32(b, nb, pt_hash32(a, na, PT_HASH32_INIT) ^ file);
	size_t j;

	if (grow(t) < 0)
		return NULL;
	for (j = h & t->mask; t->slots[j]; j = (j + 1) & t->mask) {
		struct def *d = &t->defs[t->slots[j] - 1];
		if (d->hash == h && d->file == file && d->na == na &&
		    d->nb == nb && memcmp(d->a, a, na) == 0 &&
		    (!nb || memcmp(d->b, b, nb) == 0))
			return d;
	}
	struct def *d = &t->defs[t->n];
	memset(d, 0, sizeof(*d));
	d->a = strndup(a, na);
	d->b = nb ? strndup(b, nb) : NULL;
	if (!d->a || (nb && !d->b)) {
		free(d->a);
		free(d->b);
		return NULL;
	}
	d->na = na;
	d->nb = nb;
	d->hash = h;
	d->file = file;
	t->slots[j] = (uint32_t)++t->n;
	return d;
}

/* Forget every definition; ids go on from where they were. */
static void forget(struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->defs[i].a);
		free(t->defs[i].b);
	}
	if (t->slots)
		memset(t->slots, 0, (t->mask + 1) * sizeof(*t->slots));
	t->base += (uint32_t)t->n;
	t->n = 0;
}

/* The FILE definition of path, with the file's size and mtime now. */
static struct def *file_def(const char *path, size_t n)
{
	struct def *f = intern(&rec.files, path, n, NULL, 0, 0);
	struct stat st;

	if (f && !f->gen && !f->size && !f->mtime_sec && path[0] == '/' &&
	    stat(path, &st) == 0) {
		f->size = (uint64_t)st.st_size;
		f->mtime_sec = st.st_mtim.tv_sec;
		f->mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
	}
	return f;
}

static unsigned char *put_file(unsigned char *p, const struct def *f)
{
	p = pt_rec_put_varint(p, (uint64_t)id_of(&rec.files, f) << 3 | PT_REC_FILE);
	p = pt_rec_put_str(p, f->a, f->na);
	p = pt_rec_put_varint(p, f->size);
	p = pt_rec_put_varint(p, pt_rec_zigzag(f->mtime_sec));
	return pt_rec_put_varint(p, f->mtime_nsec);
}

static unsigned char *put_code(unsigned char *p, const struct def *d)
{
	p = pt_rec_put_varint(p, (uint64_t)id_of(&rec.codes, d) << 3 | PT_REC_CODE);
	p = pt_rec_put_varint(p, d->file);
	p = pt_rec_put_str(p, d->a, d->na);
	return pt_rec_put_str(p, d->b, d->nb);
}

/* Bytes put_file and put_code may take. */
static size_t def_room(const struct def *f, const struct def *d)
{
	return 60 + f->na + d->na + d->nb;
}

/*
 * define - the slow path of a record of c: find c's definition (intern
 * it on its first use), and append it, and its file's, unless they are in
 * the file already.  Returns where the record goes, with room for it; NULL
 * (unlocked) when the output is closed or memory is out.
 */
static __attribute__((noinline)) unsigned char *define(struct pt_code *c,
							 unsigned char *p)
{
	struct def *d = by_id(&rec.codes, c->rec.id), *f;

	if (!d) {
		if (rec.codes.n >= PT_REC_DEFS_MAX || rec.files.n >= PT_REC_DEFS_MAX) {
			/* forget all: what the buffer uses goes out first */
			if (!(p = (unsigned char *)pt_out_room((char *)p, 0, 1)))
				return NULL;
			forget(&rec.codes);
			forget(&rec.files);
			hot->gen++;
		}
		f = file_def(c->file->path, c->file->pathlen);
		d = f ? intern(&rec.codes, c->module, strlen(c->module),
			       c->function, strlen(c->function),
			       id_of(&rec.files, f)) : NULL;
		if (!d) {
			pt_out_end((char *)p);
			pt_log("out of memory; tracing stopped");
			return NULL;
		}
		c->rec.id = id_of(&rec.codes, d);
	}
	f = by_id(&rec.files, d->file);
	if (d->gen != hot->gen || f->gen != hot->gen) {
		/* room first: writing the buffer out may start a new file */
		p = (unsigned char *)pt_out_room((char *)p,
						 def_room(f, d) + PT_REC_LINE_MAX, 0);
		if (!p)
			return NULL;
		if (f->gen != hot->gen) {
			p = put_file(p, f);
			f->gen = hot->gen;
		}
		if (d->gen != hot->gen) {
			p = put_code(p, d);
			d->gen = hot->gen;
		}
	}
	c->rec.gen = hot->gen;
	return p;
}

/* Clamp as the text format does, and write depth, wall clock, monotonic
 * clock as hot->fields say. */
static unsigned char *put_fields(unsigned char *p, long depth)
{
	if (hot->fields & PT_REC_F_DEPTH)
		p = pt_rec_put_varint(p, (uint64_t)pt_format_depth(depth));
	if (hot->fields & PT_REC_F_WALL) {
		struct timeval tv;
		gettimeofday(&tv, NULL);
		int64_t us = (int64_t)(tv.tv_sec - rec.wall0.tv_sec) * 1000000 +
			     (tv.tv_usec - rec.wall0.tv_usec);
		p = pt_rec_put_varint(p, pt_rec_zigzag(us));
	}
	if (hot->fields & PT_REC_F_MONO) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t ns = (int64_t)(ts.tv_sec - rec.mono0.tv_sec) * 1000000000 +
			     (ts.tv_nsec - rec.mono0.tv_nsec);
		p = pt_rec_put_varint(p, pt_rec_zigzag(ns));
	}
	return p;
}

/* A LINE record with what hot->fields ask for besides (a thread switch, the
 * depth, clocks): out of pt_rec_line's way. */
static __attribute__((noinline)) unsigned char *
line_fields(unsigned char *p, const struct pt_code *c, int lineno, long depth)
{
	if (hot->fields & PT_REC_F_TID) {
		long tid = pt_thread_tid();
		if (tid != rec.last_tid) {
			p = pt_rec_put_varint(p, (uint64_t)tid << 3 | PT_REC_TID);
			rec.last_tid = tid;
		}
	}
	p = pt_rec_put_varint(p, (uint64_t)c->rec.id << 3 | PT_REC_LINE);
	p = pt_rec_put_varint(p, (uint32_t)lineno);
	return put_fields(p, depth);
}

int pt_rec_line(struct pt_code *c, int lineno, long depth)
{
	unsigned char *p = (unsigned char *)pt_out_begin(PT_REC_LINE_MAX);

	if (!p)
		return -1;
	if (c->rec.gen != hot->gen && !(p = define(c, p)))
		return -1;
	p = line_fields(p, c, lineno, depth);
	pt_out_end((char *)p);
	return 0;
}

/* Room for a record of c of up to `need` bytes (at most PT_REC_LINE_MAX),
 * after c's definition when the file lacks it; NULL as define. */
static unsigned char *begin_code(struct pt_code *c, size_t need)
{
	unsigned char *p = (unsigned char *)pt_out_begin(need);

	if (p && c->rec.gen != hot->gen)
		p = define(c, p);
	return p;
}

int pt_rec_call(struct pt_code *c)
{
	unsigned char *p = begin_code(c, PT_REC_LINE_MAX);

	if (!p)
		return -1;
	p = pt_rec_put_varint(p, (uint64_t)c->rec.id << 3 | PT_REC_CALL);
	pt_out_end((char *)p);
	return 0;
}

/* ns since rec.mono0, for ENTER and LEAVE. */
static int64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)(ts.tv_sec - rec.mono0.tv_sec) * 1000000000 +
	       (ts.tv_nsec - rec.mono0.tv_nsec);
}

int pt_rec_enter(struct pt_code *c)
{
	unsigned char *p = begin_code(c, PT_REC_TIMELINE_MAX);

	if (!p)
		return -1;
	p = pt_rec_put_enter(p, pt_thread_tid(), c->rec.id, mono_now());
	pt_out_end((char *)p);
	return 0;
}

int pt_rec_leave(void)
{
	unsigned char *p = (unsigned char *)pt_out_begin(PT_REC_TIMELINE_MAX);

	if (!p)
		return -1;
	pt_out_end((char *)pt_rec_put_leave(p, pt_thread_tid(), mono_now()));
	return 0;
}

int pt_rec_scope(const char *module, const char *qualname, long tid)
{
	size_t nm = strlen(module), nq = strlen(qualname);
	unsigned char *p = (unsigned char *)pt_out_begin(PT_REC_SCOPE_MAX(nm, nq));

	if (!p)
		return -1;
	pt_out_end((char *)pt_rec_put_scope(p, tid, module, nm, qualname, nq));
	return 0;
}

int pt_rec_notice(long pid, const char *msg, size_t len)
{
	size_t need = len + 24;
	unsigned char *p = (unsigned char *)pt_out_begin(need);

	if (!p)
		return -1;
	/* alone in its chunk (record.h): what is buffered goes out first,
	 * the note right after it */
	if (!(p = (unsigned char *)pt_out_room((char *)p, need, 1)))
		return -1;
	p = pt_rec_put_varint(p, (uint64_t)pid << 3 | PT_REC_NOTE);
	p = pt_rec_put_str(p, msg, len);
	pt_out_end((char *)p);
	pt_out_flush();
	return 0;
}

/* --- output.c's side: framing the buffer as chunks --- */

/* Room for `need` more bytes at rec.pre + at; false when out of memory. */
static int pre_room(size_t at, size_t need)
{
	if (at + need <= rec.precap)
		return 1;
	size_t cap = rec.precap ? rec.precap : 4096;
	while (cap < at + need)
		cap *= 2;
	unsigned char *b = realloc(rec.pre, cap);
	if (!b)
		return 0;
	rec.pre = b;
	rec.precap = cap;
	return 1;
}

static size_t put_proc(size_t at)
{
	size_t flen = strlen(rec.format), tlen = rec.tz ? strlen(rec.tz) : 0;
	unsigned flags = (rec.inherit ? PT_REC_P_INHERIT : 0) |
			 (rec.tz ? PT_REC_P_TZ : 0) |
			 (rec.timeline ? PT_REC_P_TIMELINE : 0);

	if (!pre_room(at, 120 + flen + tlen))
		return at;
	unsigned char *p = rec.pre + at;
	p = pt_rec_put_varint(p, (uint64_t)flags << 3 | PT_REC_PROC);
	p = pt_rec_put_varint(p, hot->fields);
	p = pt_rec_put_varint(p, (uint64_t)rec.call_lines);
	p = pt_rec_put_str(p, rec.format, flen);
	p = pt_rec_put_varint(p, pt_rec_zigzag(rec.mono0.tv_sec));
	p = pt_rec_put_varint(p, (uint64_t)rec.mono0.tv_nsec);
	p = pt_rec_put_varint(p, pt_rec_zigzag(rec.wall0.tv_sec));
	p = pt_rec_put_varint(p, (uint64_t)rec.wall0.tv_usec);
	p = pt_rec_put_varint(p, pt_rec_zigzag(rec.gmtoff));
	p = pt_rec_put_str(p, rec.tz ? rec.tz : "", tlen);
	return (size_t)(p - rec.pre);
}

/* Mark d for this frame (it will be in the file once the chunk is). */
static int mark(struct def *d)
{
	if (rec.nmarked == rec.capmarked) {
		size_t cap = rec.capmarked ? rec.capmarked * 2 : 256;
		void *m = realloc(rec.marked, cap * sizeof(*rec.marked));
		if (!m)
			return 0;
		rec.marked = m;
		rec.capmarked = cap;
	}
	rec.marked[rec.nmarked++].d = d;
	d->mark = rec.stamp;
	return 1;
}

/* Append f's definition to the prelude unless marked already. */
static size_t prelude_file(size_t at, struct def *f)
{
	if (!f || f->mark == rec.stamp || !pre_room(at, 40 + f->na) || !mark(f))
		return at;
	return (size_t)(put_file(rec.pre + at, f) - rec.pre);
}

/*
 * prelude - for a file new to the process: the definitions that the
 * records of piece[0, n) use before (or without) defining them.
 */
static size_t prelude(const unsigned char *piece, size_t n, size_t at)
{
	struct pt_rec r;
	ssize_t k;

	for (size_t i = 0;
	     i < n && (k = pt_rec_parse(piece + i, n - i, hot->fields, &r)) > 0;
	     i += (size_t)k) {
		struct def *d = NULL, *f = NULL;
		if (r.kind == PT_REC_FILE) {
			if ((f = by_id(&rec.files, r.id)) && f->mark != rec.stamp)
				mark(f);
		} else if (r.kind == PT_REC_CODE) {
			at = prelude_file(at, by_id(&rec.files, r.file));
			if ((d = by_id(&rec.codes, r.id)) && d->mark != rec.stamp)
				mark(d);
		} else if (r.kind == PT_REC_LINE || r.kind == PT_REC_CALL ||
			   r.kind == PT_REC_ENTER) {
			d = by_id(&rec.codes, r.kind == PT_REC_ENTER ? r.file : r.id);
			if (!d || d->mark == rec.stamp)
				continue;
			at = prelude_file(at, by_id(&rec.files, d->file));
			if (!pre_room(at, def_room(by_id(&rec.files, d->file), d)) ||
			    !mark(d))
				continue;
			at = (size_t)(put_code(rec.pre + at, d) - rec.pre);
		}
	}
	return at;
}

/* The thread in force at buf[end]: of the last TID record before it. */
static long tid_at(const unsigned char *buf, size_t end)
{
	struct pt_rec r;
	long tid = 0;
	ssize_t k;

	for (size_t i = 0;
	     i < end && (k = pt_rec_parse(buf + i, end - i, hot->fields, &r)) > 0;
	     i += (size_t)k)
		if (r.kind == PT_REC_TID)
			tid = (long)r.id;
	return tid;
}

static const char *frame(const char *buf, size_t start, size_t n, size_t *len)
{
	const unsigned char *b = (const unsigned char *)buf;
	size_t at = PT_REC_HDR;
	long tid;

	if (!pre_room(0, PT_REC_HDR + 16)) {
		/* no memory for a prelude: a bare header still frames it */
		static unsigned char bare[PT_REC_HDR];
		struct pt_rec_hdr h = { PT_REC_VERSION, (uint32_t)getpid(),
					(uint32_t)rec.ppid, rec.seq, (uint32_t)n };
		pt_rec_hdr_put(bare, &h);
		*len = PT_REC_HDR;
		return (const char *)bare;
	}
	rec.stamp++;
	rec.nmarked = 0;
	if (rec.need_proc)
		at = put_proc(at);
	if ((hot->fields & PT_REC_F_TID) && start > 0 && (tid = tid_at(b, start)) &&
	    pre_room(at, 12))
		at = (size_t)(pt_rec_put_varint(rec.pre + at,
						(uint64_t)tid << 3 | PT_REC_TID) - rec.pre);
	/* records made for an older file (or after a cut, those of the part
	 * before) may use definitions the new file lacks */
	if (rec.fresh && (start > 0 || rec.buf_gen != hot->gen))
		at = prelude(b + start, n, at);
	struct pt_rec_hdr h = { PT_REC_VERSION, (uint32_t)getpid(),
				(uint32_t)rec.ppid, rec.seq,
				(uint32_t)(at - PT_REC_HDR + n) };
	pt_rec_hdr_put(rec.pre, &h);
	*len = at;
	return (const char *)rec.pre;
}

static void written(void)
{
	rec.seq++;
	if (rec.fresh) {
		for (size_t i = 0; i < rec.nmarked; i++)
			rec.marked[i].d->gen = hot->gen;
		rec.fresh = 0;
	}
	rec.need_proc = 0;
	rec.inherit = 0;
}

static void new_file(int buffered)
{
	hot->gen++;
	rec.fresh = 1;
	rec.need_proc = 1;
	rec.inherit = 0;
	if (!buffered)
		rec.buf_gen = hot->gen;
}

static void flushed(void)
{
	rec.last_tid = 0;
	rec.buf_gen = hot->gen;
}

static size_t cut(const char *buf, size_t len, size_t room)
{
	const unsigned char *b = (const unsigned char *)buf;
	struct pt_rec r;
	size_t i = 0;
	ssize_t k;

	while (i < len && (k = pt_rec_parse(b + i, len - i, hot->fields, &r)) > 0) {
		if (i + (size_t)k > room)
			return i ? i : (size_t)k;
		i += (size_t)k;
	}
	return i ? i : len;
}

static const struct pt_out_records ops = { new_file, cut, frame, written,
					   flushed };

/* A forked child: its own PROC record first, continuing its parent's
 * definitions while it writes its parent's file. */
static void after_fork_child(void)
{
	long parent = rec.pid;

	rec.pid = (long)getpid();
	if (rec.fresh) {
		rec.inherit = 0;
		rec.ppid = parent;
	} else if (!rec.need_proc) {
		rec.inherit = 1;
		rec.ppid = parent;
	}
	/* else the parent, a child itself, wrote nothing yet: continue
	 * from where it would have */
	rec.need_proc = 1;
	rec.seq = 0;
}

static void watch_fork(void)
{
	pthread_atfork(NULL, NULL, after_fork_child);
}

int pt_rec_start(const struct pt_settings *s, const struct timespec *mono_start)
{
	static pthread_once_t watching = PTHREAD_ONCE_INIT;
	const char *tz = getenv("TZ");
	struct tm tm;

	hot->fields = pt_rec_fields(s->fmt);
	rec.call_lines = s->call_lines;
	rec.timeline = s->timeline;
	free(rec.format);	/* of the time before, switched on again */
	free(rec.tz);
	rec.format = strdup(s->format ? s->format : "");
	rec.tz = tz ? strdup(tz) : NULL;
	rec.mono0 = *mono_start;
	gettimeofday(&rec.wall0, NULL);
	time_t t = rec.wall0.tv_sec;
	rec.gmtoff = localtime_r(&t, &tm) ? tm.tm_gmtoff : 0;
	rec.ppid = (long)getppid();
	rec.pid = (long)getpid();
	hot->gen = rec.buf_gen = 1;
	rec.fresh = 1;
	rec.need_proc = 1;
	rec.files.base = rec.codes.base = 1;
	if (!rec.format) {
		pt_log("out of memory; not tracing");
		return -1;
	}
	pthread_once(&watching, watch_fork);
	pt_out_records(&ops);
	return 0;
}
