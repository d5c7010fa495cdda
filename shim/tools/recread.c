/* SPDX-License-Identifier: MIT */
/*
 * recread.c - read a record file (record.h) as line, call, notice, scope
 * entry and timeline (frame entered and left) events.
 *
 * One pass, chunk by chunk, in bounded memory besides the definitions:
 * each chunk header is checked (magic, check, version, a sane length), its
 * payload read whole and decoded with the state of its process (the
 * header's pid): settings from the last PROC record, definitions by id,
 * the thread in force.  Nothing in the file is trusted: a bad header is
 * skipped up to the next valid one, a truncated last chunk is decoded as
 * far as it goes, an undefined id skips the rest of its chunk; each is
 * reported once with the file's name and the byte offset.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "recread.h"

/* A chunk longer than this is taken for garbage (the writer's are the
 * size of its buffer, 256 KiB, plus definitions). */
enum { PT_RD_MAX_CHUNK = 64 << 20 };

/* id -> pointer, open addressing. */
struct idmap {
	uint64_t *keys;		/* id + 1; 0: empty */
	void **vals;
	size_t n, mask;
};

struct pt_rd_maps {
	struct idmap files, codes;
};

/* What one stream holds: its processes and every allocation to free. */
struct state {
	const struct pt_rd *rd;
	const char *name;
	int problems;
	struct idmap pids;	/* pid -> its current process */
	struct pt_rd_proc *procs;
	void **owned;		/* definitions and strings, freed at the end */
	size_t nowned, capowned;
	char *names;		/* a SCOPE event's names, NUL-terminated */
	size_t capnames;
};

static void oom(void)
{
	fprintf(stderr, "pytrace: out of memory\n");
	exit(1);
}

static void *own(struct state *st, void *p)
{
	if (!p)
		oom();
	if (st->nowned == st->capowned) {
		st->capowned = st->capowned ? st->capowned * 2 : 1024;
		st->owned = realloc(st->owned, st->capowned * sizeof(void *));
		if (!st->owned)
			oom();
	}
	st->owned[st->nowned++] = p;
	return p;
}

static char *own_str(struct state *st, const char *s, size_t n)
{
	char *c = own(st, malloc(n + 1));

	memcpy(c, s, n);
	c[n] = '\0';
	return c;
}

static size_t slot(uint64_t id, size_t mask)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 20) & mask;
}

static void *map_get(const struct idmap *m, uint64_t id)
{
	if (!m->keys)
		return NULL;
	for (size_t i = slot(id, m->mask); m->keys[i]; i = (i + 1) & m->mask)
		if (m->keys[i] == id + 1)
			return m->vals[i];
	return NULL;
}

static void map_put(struct idmap *m, uint64_t id, void *v)
{
	if (!m->keys || (m->n + 1) * 2 > m->mask + 1) {
		size_t cap = m->keys ? (m->mask + 1) * 2 : 64;
		uint64_t *k = calloc(cap, sizeof(*k));
		void **vs = calloc(cap, sizeof(*vs));
		if (!k || !vs)
			oom();
		for (size_t i = 0; m->keys && i <= m->mask; i++) {
			if (!m->keys[i])
				continue;
			size_t j = slot(m->keys[i] - 1, cap - 1);
			while (k[j])
				j = (j + 1) & (cap - 1);
			k[j] = m->keys[i];
			vs[j] = m->vals[i];
		}
		free(m->keys);
		free(m->vals);
		m->keys = k;
		m->vals = vs;
		m->mask = cap - 1;
	}
	size_t i = slot(id, m->mask);
	while (m->keys[i] && m->keys[i] != id + 1)
		i = (i + 1) & m->mask;
	if (!m->keys[i])
		m->n++;
	m->keys[i] = id + 1;
	m->vals[i] = v;
}

static void map_free(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* A definition of process p: its own, from before its last PROC record,
 * or, for an inherited id, its parent's.  Ids are never reused within a
 * run of a program, so older definitions of the same run still hold. */
static void *lookup(const struct pt_rd_proc *p, int code, uint64_t id)
{
	for (; p; p = p->parent) {
		for (const struct pt_rd_proc *q = p; q; q = q->prev) {
			void *v = map_get(code ? &q->maps->codes : &q->maps->files, id);
			if (v)
				return v;
		}
	}
	return NULL;
}

static void problem(struct state *st, unsigned long long off, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

/* One message, "PROG: FILE: offset N: what", counted. */
static void problem(struct state *st, unsigned long long off, const char *fmt,
		    ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!st->rd->quiet)
		fprintf(stderr, "%s: %s: offset %llu: %s\n", st->rd->prog,
			st->name, off, msg);
	st->problems++;
}

static struct pt_rd_proc *new_proc(struct state *st, const struct pt_rec_hdr *h,
				   const struct pt_rec_proc *set)
{
	struct pt_rd_proc *p = own(st, calloc(1, sizeof(*p)));

	p->pid = (long)h->pid;
	p->ppid = (long)h->ppid;
	p->set = *set;
	p->set.format = own_str(st, set->format, set->formatlen);
	p->set.tz = own_str(st, set->tz, set->tzlen);
	p->maps = own(st, calloc(1, sizeof(*p->maps)));
	if (set->flags & PT_REC_P_INHERIT)
		p->parent = map_get(&st->pids, h->ppid);
	/* the same run of the same program (a file reopened, rotated...),
	 * not a new program exec'ed with the pid: the same start */
	struct pt_rd_proc *old = map_get(&st->pids, h->pid);
	if (old && old->set.mono_sec == set->mono_sec &&
	    old->set.mono_nsec == set->mono_nsec &&
	    old->set.wall_sec == set->wall_sec &&
	    old->set.wall_usec == set->wall_usec)
		p->prev = old;
	p->next = st->procs;
	st->procs = p;
	map_put(&st->pids, h->pid, p);
	return p;
}

/*
 * decode - the records of one chunk, payload[0, n), at file offset `off`;
 * `partial`: the chunk was cut short (already reported).
 */
static void decode(struct state *st, const struct pt_rec_hdr *h,
		   const unsigned char *payload, size_t n, unsigned long long off,
		   int partial)
{
	struct pt_rd_proc *p = map_get(&st->pids, h->pid);
	struct pt_rd_event ev = { .tid = 0 };
	size_t i = 0;

	while (i < n) {
		struct pt_rec r;
		ssize_t k = pt_rec_parse(payload + i, n - i, p ? p->set.fields : 0, &r);
		unsigned long long at = off + i;

		if (k == 0 && partial)
			return;
		if (k == 0) {
			problem(st, at, "a record runs past the end of its chunk "
				"(%zu bytes left); the rest of the chunk is skipped",
				n - i);
			return;
		}
		if (k < 0) {
			problem(st, at, "not a record (kind %u); the rest of the "
				"chunk is skipped", payload[i] & 7u);
			return;
		}
		i += (size_t)k;
		if (r.kind == PT_REC_PROC) {
			p = new_proc(st, h, &r.proc);
			if (st->rd->proc)
				st->rd->proc(p, st->rd->arg);
			continue;
		}
		if (!p) {
			problem(st, at, "process %u wrote this chunk before any "
				"header of its own (the file lacks its start?); "
				"chunk skipped", h->pid);
			return;
		}
		switch (r.kind) {
		case PT_REC_FILE: {
			struct pt_rd_file *f = own(st, calloc(1, sizeof(*f)));
			f->path = own_str(st, r.s1, r.n1);
			f->pathlen = r.n1;
			f->size = r.size;
			f->mtime_sec = r.mtime_sec;
			f->mtime_nsec = r.mtime_nsec;
			map_put(&p->maps->files, r.id, f);
			break;
		}
		case PT_REC_CODE: {
			struct pt_rd_code *c = own(st, calloc(1, sizeof(*c)));
			if (!(c->file = lookup(p, 0, r.file))) {
				problem(st, at, "code %llu of process %ld names a "
					"file never defined; the rest of the chunk "
					"is skipped", (unsigned long long)r.id, p->pid);
				return;
			}
			c->module = own_str(st, r.s1, r.n1);
			c->function = own_str(st, r.s2, r.n2);
			map_put(&p->maps->codes, r.id, c);
			break;
		}
		case PT_REC_TID:
			ev.tid = (long)r.id;
			break;
		case PT_REC_NOTE: {
			struct pt_rd_event note = { .kind = PT_REC_NOTE, .proc = p,
						    .tid = ev.tid,
						    .note_pid = (long)r.id,
						    .note = r.s1, .notelen = r.n1 };
			st->rd->event(&note, st->rd->arg);
			break;
		}
		case PT_REC_SCOPE: {
			struct pt_rd_event scope = { .kind = PT_REC_SCOPE, .proc = p,
						     .tid = (long)r.id };
			if (r.n1 + r.n2 + 2 > st->capnames) {
				st->capnames = r.n1 + r.n2 + 2;
				if (!(st->names = realloc(st->names, st->capnames)))
					oom();
			}
			scope.module = st->names;
			scope.qualname = st->names + r.n1 + 1;
			memcpy(st->names, r.s1, r.n1);
			st->names[r.n1] = '\0';
			memcpy(st->names + r.n1 + 1, r.s2, r.n2);
			st->names[r.n1 + 1 + r.n2] = '\0';
			st->rd->event(&scope, st->rd->arg);
			break;
		}
		case PT_REC_ENTER:
		case PT_REC_LEAVE: {
			struct pt_rd_event tl = { .kind = r.kind, .proc = p,
						  .tid = (long)r.id,
						  .mono = r.mono };
			if (r.kind == PT_REC_ENTER &&
			    !(tl.code = lookup(p, 1, r.file))) {
				problem(st, at, "a call of code %llu, which process "
					"%ld never defined; the rest of the chunk is "
					"skipped", (unsigned long long)r.file, p->pid);
				return;
			}
			st->rd->event(&tl, st->rd->arg);
			break;
		}
		case PT_REC_LINE:
		case PT_REC_CALL:
			if (!(ev.code = lookup(p, 1, r.id))) {
				problem(st, at, "a record of code %llu, which process "
					"%ld never defined; the rest of the chunk is "
					"skipped", (unsigned long long)r.id, p->pid);
				return;
			}
			ev.kind = r.kind;
			ev.proc = p;
			ev.line = r.line;
			ev.depth = (long)r.depth;
			ev.wall = r.wall;
			ev.mono = r.mono;
			st->rd->event(&ev, st->rd->arg);
			break;
		default:
			break;
		}
	}
}

/* Slide the 32-byte window hb over the input a byte at a time until it
 * holds a valid chunk header; false at the end of the input. */
static int resync(FILE *in, unsigned char *hb, unsigned long long *off,
		  struct pt_rec_hdr *h)
{
	int c;

	while ((c = getc(in)) != EOF) {
		memmove(hb, hb + 1, PT_REC_HDR - 1);
		hb[PT_REC_HDR - 1] = (unsigned char)c;
		++*off;
		if (pt_rec_hdr_get(hb, h) == 0 && h->len <= PT_RD_MAX_CHUNK)
			return 1;
	}
	return 0;
}

int pt_rd_stream(const struct pt_rd *rd, FILE *in, const char *name)
{
	struct state st = { .rd = rd, .name = name };
	unsigned char hb[PT_REC_HDR], *buf = NULL;
	unsigned long long off = 0;
	size_t cap = 0;

	for (;;) {
		struct pt_rec_hdr h;
		size_t got = fread(hb, 1, PT_REC_HDR, in);

		if (got == 0)
			break;
		if (got < PT_REC_HDR) {
			problem(&st, off, "the file ends inside a chunk header "
				"(%zu of %d bytes): a write was cut short",
				got, PT_REC_HDR);
			break;
		}
		if (pt_rec_hdr_get(hb, &h) < 0 || h.len > PT_RD_MAX_CHUNK) {
			unsigned long long bad = off;
			int found = resync(in, hb, &off, &h);
			if (found)
				problem(&st, bad, "no chunk header here; %llu bytes "
					"skipped to the next one", off - bad);
			else
				problem(&st, bad, "no chunk header here, nor in the "
					"%llu bytes to the end", off - bad + PT_REC_HDR);
			if (!found)
				break;
		}
		if (h.len > cap) {
			cap = h.len;
			if (!(buf = realloc(buf, cap)))
				oom();
		}
		got = h.len ? fread(buf, 1, h.len, in) : 0;
		if (got < h.len) {
			problem(&st, off, "the file ends inside the chunk of process "
				"%u that starts here (%zu of its %u bytes are "
				"missing: a write was cut short); what it holds is "
				"shown", h.pid, (size_t)h.len - got, h.len);
			decode(&st, &h, buf, got, off + PT_REC_HDR, 1);
			break;
		}
		decode(&st, &h, buf, got, off + PT_REC_HDR, 0);
		off += PT_REC_HDR + h.len;
	}
	if (ferror(in)) {
		problem(&st, off, "cannot read: %s", strerror(errno));
	}
	for (struct pt_rd_proc *p = st.procs; p; p = p->next) {
		map_free(&p->maps->files);
		map_free(&p->maps->codes);
	}
	for (size_t i = 0; i < st.nowned; i++)
		free(st.owned[i]);
	free(st.owned);
	free(st.names);
	map_free(&st.pids);
	free(buf);
	return st.problems;
}

int pt_rd_is_records(const void *head, size_t n)
{
	return n >= 1 && memcmp(head, PT_REC_MAGIC, n < 4 ? n : 4) == 0;
}
