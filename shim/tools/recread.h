/* SPDX-License-Identifier: MIT */
/*
 * recread.h - reading record files (record.h) back: chunks, processes and
 * their definitions, as a stream of line and call events.  Used by
 * `pytrace replay` and `pytrace summary`.
 */
#ifndef PYTRACE_RECREAD_H
#define PYTRACE_RECREAD_H

#include <stdint.h>
#include <stdio.h>

#include "recfmt.h"

/* A source file as defined by the traced process. */
struct pt_rd_file {
	char *path;
	size_t pathlen;
	uint64_t size;		/* size and mtime when defined; all 0: unknown */
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	void *user;		/* the caller's, NULL until it sets it */
};

/* A code: file, dotted module name, function name. */
struct pt_rd_code {
	const struct pt_rd_file *file;
	char *module, *function;
};

struct pt_rd_maps;

/* A process, from its PROC record on. */
struct pt_rd_proc {
	long pid, ppid;
	struct pt_rd_proc *parent;	/* INHERIT: definitions looked up next */
	struct pt_rd_proc *prev;	/* the same process before this PROC
					 * record (a new file): looked up too */
	struct pt_rec_proc set;		/* strings NUL-terminated copies */
	struct pt_rd_maps *maps;
	struct pt_rd_proc *next;	/* every process of the stream */
	void *user;			/* the caller's, NULL until it sets it */
};

/* A LINE, CALL, NOTE, SCOPE, ENTER or LEAVE record, with what it refers
 * to. */
struct pt_rd_event {
	enum pt_rec_kind kind;
	struct pt_rd_proc *proc;
	const struct pt_rd_code *code;	/* LINE, CALL, ENTER; else NULL */
	long tid;		/* 0 unless the process records threads;
				 * SCOPE, ENTER, LEAVE: the thread, always */
	int line;
	long depth;
	int64_t wall, mono;	/* as recorded: offsets from the PROC's start
				 * (ENTER, LEAVE: mono) */
	long note_pid;		/* NOTE: who said it, and what, as written */
	const char *note;	/* (not NUL-terminated; any bytes) */
	size_t notelen;
	const char *module;	/* SCOPE: the function entered, module and */
	const char *qualname;	/* qualname, NUL-terminated (valid during
				 * the call only) */
};

/* A reader: who speaks, and what to call for each event. */
struct pt_rd {
	const char *prog;	/* prefix of messages: "pytrace replay" */
	void (*event)(const struct pt_rd_event *ev, void *arg);
	void *arg;
	/* each process as its PROC record starts it; NULL: not asked */
	void (*proc)(const struct pt_rd_proc *p, void *arg);
	/* problems are counted, not reported (a first pass over a file) */
	int quiet;
};

/*
 * pt_rd_stream - read the record file `in` (named `name` in messages)
 * from its start to its end, calling rd->event for each line, call,
 * notice, scope entry, frame entered and frame left in file order.  Each stream stands alone: nothing is kept from one to the
 * next.  Whatever cannot be decoded is reported on stderr, naming the file
 * and the byte offset (a truncated last chunk, garbage between chunks, a
 * record of an undefined code), and skipped: the decodable rest is still
 * read.  Returns the number of problems reported (0: all of it decoded).
 */
int pt_rd_stream(const struct pt_rd *rd, FILE *in, const char *name);

/* pt_rd_is_records - whether `head` (n bytes from the start of a file)
 * starts like a record file. */
int pt_rd_is_records(const void *head, size_t n);

#endif
