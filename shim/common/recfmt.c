/* SPDX-License-Identifier: MIT */
/*
 * recfmt.c - the record wire format (record.h): chunk headers, and one
 * record decoded.  Shared by the writer in the traced process (which cuts
 * and frames its own buffer), by `pytrace replay` and `pytrace summary`.
 * Pure C; decoding never trusts its input (tests/unit).
 */
#include <string.h>

#include "format.h"
#include "hash.h"
#include "recfmt.h"

unsigned char *pt_rec_put_str(unsigned char *p, const char *s, size_t n)
{
	p = pt_rec_put_varint(p, n);
	if (n)
		memcpy(p, s, n);
	return p + n;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Bytes of v as a varint. */
static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

unsigned char *pt_rec_put_scope(unsigned char *p, long tid, const char *module,
				size_t nm, const char *qualname, size_t nq)
{
	uint64_t t = (uint64_t)tid;
	size_t body = varint_len(t) + varint_len(nm) + nm + varint_len(nq) + nq;

	p = pt_rec_put_varint(p, (uint64_t)PT_REC_EXT_SCOPE << 3 | PT_REC_EXT);
	p = pt_rec_put_varint(p, body);
	p = pt_rec_put_varint(p, t);
	p = pt_rec_put_str(p, module, nm);
	return pt_rec_put_str(p, qualname, nq);
}

unsigned char *pt_rec_put_enter(unsigned char *p, long tid, uint32_t code,
				int64_t mono)
{
	uint64_t t = (uint64_t)tid, z = pt_rec_zigzag(mono);

	p = pt_rec_put_varint(p, (uint64_t)PT_REC_EXT_ENTER << 3 | PT_REC_EXT);
	p = pt_rec_put_varint(p, varint_len(t) + varint_len(code) + varint_len(z));
	p = pt_rec_put_varint(p, t);
	p = pt_rec_put_varint(p, code);
	return pt_rec_put_varint(p, z);
}

unsigned char *pt_rec_put_leave(unsigned char *p, long tid, int64_t mono)
{
	uint64_t t = (uint64_t)tid, z = pt_rec_zigzag(mono);

	p = pt_rec_put_varint(p, (uint64_t)PT_REC_EXT_LEAVE << 3 | PT_REC_EXT);
	p = pt_rec_put_varint(p, varint_len(t) + varint_len(z));
	p = pt_rec_put_varint(p, t);
	return pt_rec_put_varint(p, z);
}

void pt_rec_hdr_put(unsigned char *out, const struct pt_rec_hdr *h)
{
	memcpy(out, PT_REC_MAGIC, 4);
	put32(out + 4, h->version);
	put32(out + 8, h->pid);
	put32(out + 12, h->ppid);
	put32(out + 16, h->seq);
	put32(out + 20, h->len);
	put32(out + 24, 0);
	put32(out + 28, pt_hash32(out, 28, PT_HASH32_INIT));
}

int pt_rec_hdr_get(const unsigned char *in, struct pt_rec_hdr *h)
{
	if (memcmp(in, PT_REC_MAGIC, 4) != 0 ||
	    get32(in + 28) != pt_hash32(in, 28, PT_HASH32_INIT))
		return -1;
	h->version = get32(in + 4);
	h->pid = get32(in + 8);
	h->ppid = get32(in + 12);
	h->seq = get32(in + 16);
	h->len = get32(in + 20);
	return h->version == PT_REC_VERSION ? 0 : -1;
}

/* A cursor over the bytes of one record; `bad` is set when they run out
 * (1) or are malformed (2). */
struct cur {
	const unsigned char *p, *end;
	int bad;
};

static uint64_t varint(struct cur *c)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (c->p >= c->end) {
			c->bad |= 1;
			return 0;
		}
		unsigned char b = *c->p++;
		if (shift == 63 && b > 1) {
			c->bad |= 2;
			return 0;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	c->bad |= 2;
	return 0;
}

static const char *str(struct cur *c, size_t *n)
{
	uint64_t len = varint(c);
	const char *s = (const char *)c->p;

	if (c->bad)
		return "";
	if (len > (uint64_t)(c->end - c->p)) {
		c->bad |= 1;
		return "";
	}
	c->p += len;
	*n = (size_t)len;
	return s;
}

ssize_t pt_rec_parse(const unsigned char *p, size_t n, unsigned fields,
		     struct pt_rec *r)
{
	struct cur c = { p, p + n, 0 };
	uint64_t head = varint(&c);

	memset(r, 0, sizeof(*r));
	r->kind = (enum pt_rec_kind)(head & 7);
	r->id = head >> 3;
	switch (r->kind) {
	case PT_REC_LINE:
		r->line = (int32_t)(uint32_t)varint(&c);
		if (fields & PT_REC_F_DEPTH)
			r->depth = (int64_t)varint(&c);
		if (fields & PT_REC_F_WALL)
			r->wall = pt_rec_unzigzag(varint(&c));
		if (fields & PT_REC_F_MONO)
			r->mono = pt_rec_unzigzag(varint(&c));
		break;
	case PT_REC_CALL:
	case PT_REC_TID:
		break;
	case PT_REC_FILE:
		r->s1 = str(&c, &r->n1);
		r->size = varint(&c);
		r->mtime_sec = pt_rec_unzigzag(varint(&c));
		r->mtime_nsec = (uint32_t)varint(&c);
		break;
	case PT_REC_CODE:
		r->file = varint(&c);
		r->s1 = str(&c, &r->n1);
		r->s2 = str(&c, &r->n2);
		break;
	case PT_REC_NOTE:
		r->s1 = str(&c, &r->n1);
		break;
	case PT_REC_EXT: {
		/* a body of the length given: what it holds is read within it,
		 * what follows what is known of it is skipped */
		uint64_t len = varint(&c);
		if (c.bad)
			break;
		if (len > (uint64_t)(c.end - c.p)) {
			c.bad |= 1;
			break;
		}
		struct cur body = { c.p, c.p + len, 0 };
		c.p += len;
		if (r->id == PT_REC_EXT_SCOPE) {
			r->kind = PT_REC_SCOPE;
			r->id = varint(&body);
			r->s1 = str(&body, &r->n1);
			r->s2 = str(&body, &r->n2);
			if (body.bad)
				c.bad |= 2;
		} else if (r->id == PT_REC_EXT_ENTER) {
			r->kind = PT_REC_ENTER;
			r->id = varint(&body);
			r->file = varint(&body);
			r->mono = pt_rec_unzigzag(varint(&body));
			if (body.bad)
				c.bad |= 2;
		} else if (r->id == PT_REC_EXT_LEAVE) {
			r->kind = PT_REC_LEAVE;
			r->id = varint(&body);
			r->mono = pt_rec_unzigzag(varint(&body));
			if (body.bad)
				c.bad |= 2;
		}
		break;
	}
	case PT_REC_PROC:
		r->proc.flags = (unsigned)r->id;
		r->proc.fields = (unsigned)varint(&c);
		r->proc.call_lines = varint(&c) != 0;
		r->proc.format = str(&c, &r->proc.formatlen);
		r->proc.mono_sec = pt_rec_unzigzag(varint(&c));
		r->proc.mono_nsec = (uint32_t)varint(&c);
		r->proc.wall_sec = pt_rec_unzigzag(varint(&c));
		r->proc.wall_usec = (uint32_t)varint(&c);
		r->proc.gmtoff = pt_rec_unzigzag(varint(&c));
		r->proc.tz = str(&c, &r->proc.tzlen);
		if (!c.bad && (r->proc.mono_nsec >= 1000000000u ||
			       r->proc.wall_usec >= 1000000u))
			c.bad |= 2;
		break;
	default:
		return -1;
	}
	if (c.bad & 2)
		return -1;
	if (c.bad)
		return 0;
	return (ssize_t)(c.p - p);
}

unsigned pt_rec_fields(const struct pt_format *f)
{
	unsigned fields = 0;

	for (int i = 0; i < f->nops; i++) {
		switch (f->ops[i].tok) {
		case PT_TOK_INDENT: fields |= PT_REC_F_DEPTH; break;
		case PT_TOK_TIME: fields |= PT_REC_F_WALL; break;
		case PT_TOK_ELAPSED: fields |= PT_REC_F_MONO; break;
		case PT_TOK_TID: fields |= PT_REC_F_TID; break;
		default: break;
		}
	}
	return fields;
}
