/* SPDX-License-Identifier: MIT */
/*
 * recfmt.h - record mode's wire format (output_mode = "record"): the trace as compact
 * binary records, turned back into the text lines by `pytrace replay`.
 *
 * A record file is a sequence of chunks, one per write(2):
 *
 *   chunk   = header payload
 *   header  = "\x7fPTR" version pid ppid seq len 0 check   (32 bytes: the
 *             magic, then u32 little-endian each; check is FNV-1a over the
 *             28 bytes before it)
 *   payload = record*            (len bytes)
 *   record  = head field*        (head: a varint; its low 3 bits are the
 *                                 kind, the rest an id or a value)
 *
 *   kind  head >> 3     fields
 *   LINE  code id       line (u32 varint), then, as the process's PROC
 *                       says: depth, wall (zigzag us since PROC's wall
 *                       start), mono (zigzag ns since PROC's mono start)
 *   CALL  code id       (call_lines: " --- modulename: M, funcname: F")
 *   TID   thread id     the thread of the records after it in the chunk
 *   FILE  file id       str path, size, zigzag mtime s, mtime ns
 *   CODE  code id       file id, str module, str function
 *   PROC  flags         fields, call_lines, str format, zigzag mono start
 *                       s, ns, zigzag wall start s, us, zigzag UTC
 *                       offset (s), str TZ
 *   NOTE  pid           str message: a notice of pytrace (log.c), the
 *                       text line "# pytrace[pid]: message" at its place
 *   EXT   sub-kind      length (varint), then that many bytes: a record
 *                       kind added after the eight above, which a reader
 *                       that does not know its sub-kind skips whole
 *
 *   EXT sub-kind        body
 *   0 SCOPE             thread id, str module, str qualname: a scope
 *                       entry (scope_lines), the text line
 *                       " === scope: MODULE:QUALNAME (thread TID)"
 *   1 ENTER             thread id, code id, zigzag mono (ns since
 *                       PROC's mono start): a frame of traced code
 *                       starts or resumes (timeline; the PROC flag
 *                       TIMELINE says the process writes them)
 *   2 LEAVE             thread id, zigzag mono: the frame the thread
 *                       entered last returns, yields or unwinds
 *
 * varint: unsigned LEB128; zigzag: a signed value as a varint; str: a
 * varint length, then the bytes.
 *
 * What a reader keeps, per process (the header's pid): the settings of its
 * last PROC record, and the FILE and CODE definitions after it; with the
 * PROC flag INHERIT, also those of the process that was the header's ppid
 * at that point, for ids the process did not define itself (a forked
 * child writing on in its parent's file; ppid is then its parent, or the
 * nearest ancestor that wrote to the file, never init's 1).  A PROC
 * record starts a process afresh: a new program exec'ed with the same
 * pid, or the same run again after its file changed (same start times:
 * its ids keep their meaning, so older definitions may still be looked
 * up).  A TID record holds until the end of its chunk only.
 *
 * The writer makes every file stand alone: a process writes its PROC
 * record first in each file, and a definition before the first record
 * that uses it in that file.  Chunks of processes sharing a file
 * interleave only whole (O_APPEND, one write each); records of a
 * process's threads, only whole.
 *
 * NOTE came after version 1 was first written, and the version stays 1:
 * files without notices are the same bytes as before, and every file
 * before is read as it was.  The writer puts a NOTE record in a chunk of
 * its own, so that a reader which predates it (and skips the rest of a
 * chunk at a kind it does not know) loses only the notice.
 *
 * SCOPE, the first EXT record, is version 1 as well, for the same
 * reasons.  EXT is the last of the eight kinds a head can name: every
 * kind to come is an EXT sub-kind, with a length, so that a reader which
 * knows EXT skips the sub-kinds it does not know, and a body may grow
 * fields at its end.  A SCOPE record shares its chunk with lines (a
 * write of its own for each entry would cost too much where a scope
 * function is called often): a reader that predates EXT reports it and
 * skips the rest of that chunk.
 *
 * ENTER and LEAVE (timeline) are EXT records too, version 1, among the
 * lines: a code an ENTER names is defined before it in the file, as for
 * LINE.  They carry their thread and clock whatever the format asks, so
 * that `pytrace export` needs nothing else of the LINE records.  Each
 * LEAVE closes the last ENTER of its thread not closed yet; the writer
 * writes a LEAVE for every ENTER where the interpreter lets it (a reader
 * still closes what a file leaves open, and ignores a LEAVE with none).
 */
#ifndef PYTRACE_RECFMT_H
#define PYTRACE_RECFMT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define PT_REC_MAGIC "\x7fPTR"

enum {
	PT_REC_VERSION = 1,
	PT_REC_HDR = 32,	/* bytes of a chunk header */
};

/* Record kinds: the low 3 bits of a record's head. */
enum pt_rec_kind {
	PT_REC_LINE = 0,
	PT_REC_CALL = 1,
	PT_REC_TID = 2,
	PT_REC_FILE = 3,
	PT_REC_CODE = 4,
	PT_REC_PROC = 5,
	PT_REC_NOTE = 6,
	PT_REC_EXT = 7,		/* an EXT record of a sub-kind not known */
	PT_REC_SCOPE = 8,	/* decoded EXT records, from 8 on */
	PT_REC_ENTER = 9,
	PT_REC_LEAVE = 10,
};

/* EXT sub-kinds: head >> 3 of an EXT record. */
enum { PT_REC_EXT_SCOPE = 0, PT_REC_EXT_ENTER = 1, PT_REC_EXT_LEAVE = 2 };

/* PROC fields: what a LINE record carries after its line number. */
enum {
	PT_REC_F_DEPTH = 1,	/* {indent} */
	PT_REC_F_WALL = 2,	/* {time} */
	PT_REC_F_MONO = 4,	/* {elapsed} */
	PT_REC_F_TID = 8,	/* {tid}: TID records */
};

/* PROC flags. */
enum {
	PT_REC_P_INHERIT = 1,	/* continues the definitions of its ppid */
	PT_REC_P_TZ = 2,	/* the process had TZ set (the str TZ) */
	PT_REC_P_TIMELINE = 4,	/* it writes ENTER and LEAVE records */
};

/* A chunk header, decoded. */
struct pt_rec_hdr {
	uint32_t version, pid, ppid, seq, len;
};

/* A PROC record, decoded. */
struct pt_rec_proc {
	unsigned flags, fields;
	int call_lines;
	const char *format;
	size_t formatlen;
	int64_t mono_sec, wall_sec;	/* where {elapsed} and {time} count from */
	uint32_t mono_nsec, wall_usec;
	int64_t gmtoff;			/* UTC offset of local time at wall start */
	const char *tz;			/* TZ of the process (PT_REC_P_TZ) */
	size_t tzlen;
};

/* One record, decoded; strings point into the bytes parsed. */
struct pt_rec {
	enum pt_rec_kind kind;
	uint64_t id;		/* head >> 3; NOTE: the pid; SCOPE, ENTER,
				 * LEAVE: the thread; EXT (not known): the
				 * sub-kind */
	int32_t line;		/* LINE */
	int64_t depth, wall, mono;	/* LINE, as the fields say; else 0;
					 * ENTER, LEAVE: mono */
	uint64_t file;		/* CODE: the file's id; ENTER: the code's */
	const char *s1, *s2;	/* FILE: path; CODE: module, function;
				 * NOTE: the message (s1); SCOPE: module,
				 * qualname */
	size_t n1, n2;
	uint64_t size;		/* FILE: size and mtime when defined */
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	struct pt_rec_proc proc;	/* PROC */
};

/* Longest record the hot path writes: a TID record and a LINE record. */
enum { PT_REC_LINE_MAX = 64 };

/* pt_rec_put_varint - write v as an unsigned LEB128 varint at p; returns
 * the end.  At most 10 bytes. */
static inline unsigned char *pt_rec_put_varint(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

static inline uint64_t pt_rec_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t pt_rec_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* pt_rec_put_str - a varint length and the bytes; returns the end. */
unsigned char *pt_rec_put_str(unsigned char *p, const char *s, size_t n);

/*
 * pt_rec_put_scope - the SCOPE record of thread `tid` entering
 * module[0, nm):qualname[0, nq), at p; returns the end.  At most
 * PT_REC_SCOPE_MAX(nm, nq) bytes.
 */
#define PT_REC_SCOPE_MAX(nm, nq) ((nm) + (nq) + 48)
unsigned char *pt_rec_put_scope(unsigned char *p, long tid, const char *module,
				size_t nm, const char *qualname, size_t nq);

/*
 * pt_rec_put_enter, pt_rec_put_leave - the ENTER record of thread `tid`
 * entering a frame of code `code`, the LEAVE record of it leaving one, at
 * `mono` ns since the PROC's mono start, at p; return the end.  At most
 * PT_REC_TIMELINE_MAX bytes.
 */
enum { PT_REC_TIMELINE_MAX = 40 };
unsigned char *pt_rec_put_enter(unsigned char *p, long tid, uint32_t code,
				int64_t mono);
unsigned char *pt_rec_put_leave(unsigned char *p, long tid, int64_t mono);

/* pt_rec_hdr_put - the 32 header bytes of `h` at out. */
void pt_rec_hdr_put(unsigned char *out, const struct pt_rec_hdr *h);

/* pt_rec_hdr_get - decode 32 bytes at in; 0, or -1 when they are not a
 * chunk header (magic, check or version wrong). */
int pt_rec_hdr_get(const unsigned char *in, struct pt_rec_hdr *h);

/*
 * pt_rec_parse - decode the record at p[0, n) of a process whose LINE
 * records carry `fields`.  Returns its length; 0 when p holds only the
 * start of it; -1 when the bytes are no record (a varint too long, an EXT
 * body too short for what it holds; a string or an EXT body longer than
 * the rest of the chunk is reported as 0).  An EXT record of a sub-kind
 * not known here is kind PT_REC_EXT, to be skipped.
 * Never reads past p + n.  O(length).
 */
ssize_t pt_rec_parse(const unsigned char *p, size_t n, unsigned fields,
		     struct pt_rec *r);

/* pt_rec_fields - the LINE fields a format needs. */
struct pt_format;
unsigned pt_rec_fields(const struct pt_format *f);

#endif
