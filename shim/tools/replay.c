/* SPDX-License-Identifier: MIT */
/*
 * replay.c - pytrace replay FILE...: the text a record file stands for.
 *
 * Prints, for each record file in turn, exactly the lines text mode would
 * have written with the settings the traced processes had (their format,
 * call_lines): paths, modules and functions from the definitions, source
 * lines read now, from the files, with source.c's own reading and line
 * splitting; pid, thread, depth and clocks from the records.  A source
 * file whose size or modification time is not what it was when traced is
 * named once on stderr: its lines may not be those that ran.  A notice
 * of pytrace is the line "# pytrace[PID]: message" at its place, as text
 * mode writes it; a scope entry, the line " === scope: MODULE:QUALNAME
 * (thread TID)".  Whatever cannot be decoded is reported (recread.c) and
 * the rest still printed; the exit status is then 1.  "-" reads standard
 * input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "format.h"
#include "recread.h"
#include "source.h"

static const char prog[] = "pytrace replay";

/* Output, in a large buffer written with fwrite. */
static struct {
	char *buf;
	size_t len, cap;
} o;

static void out_flush(void)
{
	if (o.len && fwrite(o.buf, 1, o.len, stdout) != o.len) {
		perror(prog);
		exit(1);
	}
	o.len = 0;
}

/* Room for n more bytes; returns where they go. */
static char *out_room(size_t n)
{
	if (o.len + n > o.cap) {
		out_flush();
		if (n > o.cap) {
			o.cap = n > (1u << 20) ? n : 1u << 20;
			free(o.buf);
			if (!(o.buf = malloc(o.cap))) {
				fprintf(stderr, "%s: out of memory\n", prog);
				exit(1);
			}
		}
	}
	return o.buf + o.len;
}

static void out_bytes(const char *s, size_t n)
{
	memcpy(out_room(n), s, n);
	o.len += n;
}

/* What replay keeps per traced process. */
struct proc {
	struct pt_format fmt;
	int ok;			/* the format compiled */
	int fixed_zone;		/* {time}: at the recorded UTC offset; -1:
				 * not known yet */
	time_t last_sec;	/* {time}: the last second formatted */
	char last[32];
	struct proc *next;
};

static struct proc *procs;	/* freed at exit */
static int bad_formats;

/* The TZ replay's localtime uses now: NULL for the system's zone. */
static char *zone;
static int zone_set;

/* Use time zone `tz` (NULL: the system's) for localtime. */
static void use_zone(const char *tz)
{
	if (zone_set && ((!tz && !zone) || (tz && zone && strcmp(tz, zone) == 0)))
		return;
	free(zone);
	zone = tz ? strdup(tz) : NULL;
	if (tz)
		setenv("TZ", tz, 1);
	else
		unsetenv("TZ");
	tzset();
	zone_set = 1;
}

/* The replay state of ev's process, made on its first event. */
static struct proc *proc_of(struct pt_rd_proc *rp)
{
	struct proc *p = rp->user;
	char err[256];

	if (p)
		return p;
	if (!(p = calloc(1, sizeof(*p)))) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(1);
	}
	p->ok = pt_format_compile(rp->set.format, &p->fmt, err, sizeof(err)) == 0;
	if (!p->ok) {
		fprintf(stderr, "%s: the format of process %ld: %s; its lines are "
			"not shown\n", prog, rp->pid, err);
		bad_formats++;
	}
	p->fixed_zone = -1;	/* decided at its first {time} */
	p->last_sec = (time_t)-1;
	p->next = procs;
	procs = p;
	rp->user = p;
	return p;
}

/* Set the zone of process rp for localtime; whether the recorded UTC
 * offset must be used instead (the zone here is not the process's). */
static int zone_of(struct pt_rd_proc *rp)
{
	struct tm tm;
	time_t t = (time_t)rp->set.wall_sec;

	use_zone(rp->set.flags & PT_REC_P_TZ ? rp->set.tz : NULL);
	return !localtime_r(&t, &tm) || tm.tm_gmtoff != rp->set.gmtoff;
}

/* Source files already warned about: a set of source records. */
static struct {
	const struct pt_file **v;	/* open addressing; NULL: empty */
	size_t n, mask;
} warned;

/* Add sf to `warned`; false when it was there. */
static int warn_once(const struct pt_file *sf)
{
	if ((warned.n + 1) * 2 > warned.mask + 1 || !warned.v) {
		size_t cap = warned.v ? (warned.mask + 1) * 2 : 64;
		const struct pt_file **v = calloc(cap, sizeof(*v));
		if (!v) {
			fprintf(stderr, "%s: out of memory\n", prog);
			exit(1);
		}
		for (size_t i = 0; warned.v && i <= warned.mask; i++) {
			if (!warned.v[i])
				continue;
			size_t j = ((uintptr_t)warned.v[i] >> 4) & (cap - 1);
			while (v[j])
				j = (j + 1) & (cap - 1);
			v[j] = warned.v[i];
		}
		free(warned.v);
		warned.v = v;
		warned.mask = cap - 1;
	}
	size_t j = ((uintptr_t)sf >> 4) & warned.mask;
	for (; warned.v[j]; j = (j + 1) & warned.mask)
		if (warned.v[j] == sf)
			return 0;
	warned.v[j] = sf;
	warned.n++;
	return 1;
}

/* The source record of f's path; the first time for each definition,
 * the file is checked against its size and mtime when it was traced. */
static struct pt_file *source_of(const struct pt_rd_file *cf)
{
	struct pt_rd_file *f = (struct pt_rd_file *)cf;
	struct pt_file *sf = f->user;
	struct stat st;

	if (sf)
		return sf;
	if (!(sf = pt_file_get(f->path))) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(1);
	}
	f->user = sf;
	/* all 0: nothing known (no such file when traced, "<string>") */
	if ((f->size || f->mtime_sec || f->mtime_nsec) &&
	    (stat(f->path, &st) < 0 || (uint64_t)st.st_size != f->size ||
	     st.st_mtim.tv_sec != f->mtime_sec ||
	     (uint32_t)st.st_mtim.tv_nsec != f->mtime_nsec) && warn_once(sf))
		fprintf(stderr, "%s: warning: %s has changed since it was traced; "
			"its lines are shown as they are now\n", prog, f->path);
	return sf;
}

/* An offset from the file, kept where sums with it cannot overflow (the
 * writer's are far smaller; a damaged file's may not be). */
static int64_t sane(int64_t v)
{
	const int64_t lim = (int64_t)1 << 56;

	return v > lim ? lim : v < -lim ? -lim : v;
}

/* {time}: the wall clock of ev, as the traced process printed it, into
 * l's date and usec. */
static void when(struct proc *p, const struct pt_rd_event *ev,
		 struct pt_line *l)
{
	const struct pt_rd_proc *rp = ev->proc;
	int64_t us = (int64_t)rp->set.wall_usec + sane(ev->wall);
	int64_t sec = sane(rp->set.wall_sec) + us / 1000000;
	long usec = (long)(us % 1000000);

	if (usec < 0) {
		usec += 1000000;
		sec--;
	}
	if ((time_t)sec != p->last_sec) {
		struct tm tm;
		time_t t = (time_t)sec;
		if (p->fixed_zone < 0)
			p->fixed_zone = zone_of(ev->proc);
		else if (!p->fixed_zone)
			use_zone(rp->set.flags & PT_REC_P_TZ ? rp->set.tz : NULL);
		t += p->fixed_zone ? (time_t)sane(rp->set.gmtoff) : 0;
		if (!(p->fixed_zone ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)) ||
		    !strftime(p->last, 24, "%Y-%m-%dT%H:%M:%S", &tm))
			p->last[0] = '\0';
		p->last_sec = (time_t)sec;
	}
	l->date = p->last;
	l->usec = usec;
}

/* {elapsed}: seconds since tracing began, computed as the traced process
 * did from the same two CLOCK_MONOTONIC readings. */
static double elapsed(const struct pt_rd_event *ev)
{
	const struct pt_rd_proc *rp = ev->proc;
	int64_t ns = (int64_t)rp->set.mono_nsec + sane(ev->mono);
	int64_t sec = sane(rp->set.mono_sec) + ns / 1000000000;
	long nsec = (long)(ns % 1000000000);

	if (nsec < 0) {
		nsec += 1000000000;
		sec--;
	}
	return (double)(sec - sane(rp->set.mono_sec)) +
	       (double)(nsec - (long)rp->set.mono_nsec) / 1e9;
}

static void line(struct proc *p, const struct pt_rd_event *ev)
{
	const struct pt_rd_code *c = ev->code;
	struct pt_line l = {
		.path = c->file->path, .pathlen = c->file->pathlen,
		.lineno = (int)ev->line, .source = "", .module = c->module,
		.function = c->function, .pid = (long)ev->proc->pid,
		.tid = (long)ev->tid, .depth = (long)ev->depth, .date = "",
	};

	if (p->fmt.needs & PT_NEED_SOURCE)
		pt_file_line(source_of(c->file), ev->line, &l.source,
			     &l.sourcelen);
	if (p->fmt.needs & PT_NEED_TIME)
		when(p, ev, &l);
	if (p->fmt.needs & PT_NEED_ELAPSED)
		l.elapsed = elapsed(ev);
	char *q = out_room(pt_format_size(&p->fmt, &l));
	o.len += (size_t)(pt_format_render(&p->fmt, &l, q) - q);
}

/* A notice: "# pytrace[PID]: message", one line whatever the file holds
 * (control characters shown as '?', as the writer does). */
static void note(const struct pt_rd_event *ev)
{
	char *q = out_room(40 + ev->notelen);

	o.len += (size_t)sprintf(q, "# pytrace[%ld]: ", ev->note_pid);
	q = o.buf + o.len;
	for (size_t i = 0; i < ev->notelen; i++) {
		unsigned char c = (unsigned char)ev->note[i];
		q[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	o.len += ev->notelen;
	out_bytes("\n", 1);
}

static void event(const struct pt_rd_event *ev, void *arg)
{
	struct proc *p = proc_of(ev->proc);

	(void)arg;
	if (ev->kind == PT_REC_NOTE) {
		note(ev);
		return;
	}
	if (!p->ok || ev->kind == PT_REC_ENTER || ev->kind == PT_REC_LEAVE)
		return;		/* the timeline is `pytrace export`'s */
	if (ev->kind == PT_REC_SCOPE) {
		const char *m = ev->module, *q = ev->qualname;
		char *at = out_room(pt_format_scope_size(m, q));
		o.len += (size_t)(pt_format_scope(at, m, q, ev->tid) - at);
		return;
	}
	if (ev->kind == PT_REC_CALL) {
		const char *m = ev->code->module, *f = ev->code->function;
		char *q = out_room(pt_format_call_size(m, f));
		o.len += (size_t)(pt_format_call(q, m, f) - q);
		return;
	}
	line(p, ev);
}

int main(int argc, char **argv)
{
	struct pt_rd rd = { prog, event, NULL, NULL, 0 };
	int problems = 0;

	if (argc < 2 || (argv[1][0] == '-' && argv[1][1])) {
		fprintf(stderr, "usage: pytrace replay RECORDFILE...\n");
		return 2;
	}
	for (int a = 1; a < argc; a++) {
		FILE *in = strcmp(argv[a], "-") == 0 ? stdin : fopen(argv[a], "r");
		int c;

		if (!in) {
			fprintf(stderr, "%s: %s: %m\n", prog, argv[a]);
			problems++;
			continue;
		}
		setvbuf(in, NULL, _IOFBF, 1 << 20);
		if ((c = getc(in)) != EOF && !pt_rd_is_records(&(char){ (char)c }, 1)) {
			fprintf(stderr, "%s: %s: not a record file (written with "
				"output_mode = \"record\"?)\n", prog, argv[a]);
			problems++;
		} else {
			if (c != EOF)
				ungetc(c, in);
			problems += pt_rd_stream(&rd, in, argv[a]);
		}
		out_flush();
		if (in != stdin)
			fclose(in);
	}
	out_flush();
	if (fflush(stdout) != 0) {
		perror(prog);
		return 1;
	}
	while (procs) {
		struct proc *n = procs->next;
		free(procs);
		procs = n;
	}
	free(o.buf);
	free(zone);
	free(warned.v);
	return problems || bad_formats ? 1 : 0;
}
