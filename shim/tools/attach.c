/* SPDX-License-Identifier: MIT */
/*
 * attach.c - pytrace-attach PID: load libpytrace.so into a running Python
 * process that was started without it, with ptrace(2) and nothing else
 * (no debugger on the host).  Loaded late, the library waits in standby
 * (init.c), and `pytrace on PID` switches it on.
 *
 * Where the target is made to call dlopen.  The classic injectors stop a
 * thread wherever it happens to be and make it call dlopen: a thread
 * stopped inside malloc (holding an arena lock) or inside the dynamic
 * loader (holding its lock) then deadlocks against itself.  pytrace makes
 * a thread call dlopen only where it holds no such lock, shown by its
 * registers once stopped:
 *  - waiting in one of the system calls a Python program blocks in
 *    (epoll_wait, select, poll, nanosleep, accept, recv..., table below):
 *    CPython releases the GIL around them and holds no lock of its own,
 *    and glibc's wrappers of these calls hold none either;
 *  - or running bytecode: the instruction pointer inside the evaluation
 *    loop function itself, not in anything it called (malloc, the
 *    loader, a C extension).  The thread holds the GIL there, which
 *    dlopen and the constructor do not need (they call nothing of
 *    Python's), and which it keeps until it runs on.
 * Each thread is stopped with PTRACE_INTERRUPT in turn, and one that is
 * at neither is let go at once, untouched, to be tried again; dlopen is
 * called on its own stack below the red zone with a return address of 0,
 * the fault that return causes ends the call, and every register (the
 * floating-point ones too) is put back: the kernel then restarts the
 * interrupted call as after any signal, with the time it had left.  Other
 * threads run on throughout; a signal that arrives for the stopped thread
 * meanwhile is held and delivered when it is let go.  The constructor
 * runs in that thread without the GIL and calls nothing of Python's.
 *
 * Before anything is touched: the process must exist, be another user's
 * only for root, not be traced already (a debugger, strace), be allowed
 * by Yama's ptrace_scope, run a CPython that is not free-threaded, use the
 * same C library as this program (dlopen's address is taken from it), and
 * not have the library already (then `pytrace on` is what is wanted).
 *
 * x86_64 only: the registers of the call and the syscall restart are the
 * architecture's (aarch64 would need its own regs and NT_PRSTATUS).
 */
#include <dlfcn.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <elf.h>
#include <link.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __x86_64__
#error "pytrace-attach supports x86_64 only"
#endif

/* The system calls a thread may be stopped in (x86_64 numbers). */
static const long safe_calls[] = {
	7 /* poll */, 23 /* select */, 35 /* nanosleep */, 43 /* accept */,
	45 /* recvfrom */, 47 /* recvmsg */, 230 /* clock_nanosleep */,
	232 /* epoll_wait */, 270 /* pselect6 */, 271 /* ppoll */,
	281 /* epoll_pwait */, 288 /* accept4 */, 441 /* epoll_pwait2 */,
};

/* What an interrupted system call returns before the kernel restarts it. */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514
#define ERESTART_RESTARTBLOCK 516

static int verbose;

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("pytrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The first line of /proc/PID/FILE that starts with `key`, its rest in
 * buf; 0, or -1. */
static int proc_field(long pid, const char *file, const char *key, char *buf,
		      size_t size)
{
	char path[64], line[512];
	size_t n = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/%s", pid, file);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, n) == 0) {
			snprintf(buf, size, "%s", line + n + strspn(line + n, " \t"));
			buf[strcspn(buf, "\n")] = '\0';
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	return -1;
}

/* The mapping of the target whose path ends in `suffix` (or contains
 * `part`): its start address and file, or 0. */
static unsigned long find_map(long pid, const char *part, char *file, size_t size)
{
	char path[64], line[4096];
	unsigned long start = 0, lo, off;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/');
		if (!p || !strstr(p, part))
			continue;
		if (sscanf(line, "%lx-%*x %*s %lx", &lo, &off) == 2 && off == 0) {
			start = lo;
			if (file)
				snprintf(file, size, "%s", p), file[strcspn(file, "\n")] = '\0';
			break;
		}
	}
	fclose(f);
	return start;
}

/* This process's libc: its file and where dlopen is in it. */
static void *dlopen_here(char *file, size_t size, unsigned long *base)
{
	Dl_info info;
	void *fn = dlsym(RTLD_DEFAULT, "dlopen");

	if (!fn || !dladdr(fn, &info) || !info.dli_fname)
		return NULL;
	snprintf(file, size, "%s", info.dli_fname);
	*base = (unsigned long)info.dli_fbase;
	return fn;
}

/* Are two paths the same file (device and inode)? */
static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* What stands in the way of attaching to `pid`, checked before anything
 * is touched (see the top); each refusal names its cause. */
static void check_target(long pid, const char *lib)
{
	char buf[512], exe[PATH_MAX], path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld", pid);
	if (access(path, F_OK) != 0)
		die(1, "no process %ld", pid);
	if (proc_field(pid, "status", "TracerPid:", buf, sizeof(buf)) == 0 &&
	    atol(buf) != 0)
		die(1, "PID %ld is being traced by process %s (a debugger, "
		    "strace?): detach it first", pid, buf);
	if (proc_field(pid, "status", "Uid:", buf, sizeof(buf)) == 0 &&
	    geteuid() != 0 && (uid_t)atol(buf) != geteuid())
		die(1, "PID %ld belongs to uid %ld: only root may attach to "
		    "another user's process", pid, atol(buf));
	const char *scope_file = getenv("PYTRACE_PTRACE_SCOPE");
	FILE *f = fopen(scope_file ? scope_file : "/proc/sys/kernel/yama/ptrace_scope", "r");
	int scope = 0;
	if (f) {
		if (fscanf(f, "%d", &scope) != 1)
			scope = 0;
		fclose(f);
	}
	if (scope >= 3)
		die(1, "ptrace is disabled on this host (kernel.yama.ptrace_scope "
		    "= 3, until reboot): pytrace cannot attach; start the "
		    "service with the library (pytrace enable UNIT --standby)");
	if (scope >= 1 && geteuid() != 0)
		die(1, "kernel.yama.ptrace_scope = %d lets only root attach to "
		    "a process it did not start: run pytrace as root", scope);
	snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	if (find_map(pid, "libpytrace.so", NULL, 0))
		die(3, "PID %ld has pytrace's library already (preloaded, or "
		    "attached before): nothing to load", pid);
	if (!find_map(pid, "libpython", NULL, 0) && !strstr(exe, "python"))
		die(1, "PID %ld (%s) is not a Python process", pid, exe);
	if (find_map(pid, "libpython3.13t", NULL, 0) || strstr(exe, "python3.13t"))
		die(1, "PID %ld runs a free-threaded Python, which pytrace does "
		    "not support", pid);
	if (access(lib, R_OK) != 0)
		die(1, "%s: not found (is pytrace installed?)", lib);
}

/* Is `nr` one of the safe system calls? */
static int safe_call(long nr)
{
	for (size_t i = 0; i < sizeof(safe_calls) / sizeof(safe_calls[0]); i++)
		if (safe_calls[i] == nr)
			return 1;
	return 0;
}

/* The system call thread `tid` of `pid` waits in, if it is a safe one
 * (/proc/PID/task/TID/syscall); -1 otherwise. */
static long waits_in(long pid, long tid)
{
	char path[96], buf[256];
	FILE *f;
	long nr = -1;

	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/syscall", pid, tid);
	if (!(f = fopen(path, "r")))
		return -1;
	if (!fgets(buf, sizeof(buf), f) || sscanf(buf, "%ld", &nr) != 1)
		nr = -1;
	fclose(f);
	return safe_call(nr) ? nr : -1;
}

/* The threads of `pid` into tids (at most max), those waiting in a safe
 * system call first; how many. */
static int threads(long pid, long *tids, int max)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = 0, k = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task", pid);
	if (!(dir = opendir(path)))
		return 0;
	while (n < max && (d = readdir(dir)))
		if (atol(d->d_name) > 0)
			tids[n++] = atol(d->d_name);
	closedir(dir);
	for (int i = 0; i < n; i++)
		if (waits_in(pid, tids[i]) >= 0) {
			long t = tids[k];
			tids[k++] = tids[i];
			tids[i] = t;
		}
	return n;
}

/* Where the interpreter's evaluation loop is in the target: the function
 * that runs bytecode (_PyEval_EvalFrameDefault, 2.7's PyEval_EvalFrameEx),
 * from the dynamic symbols of the file that defines it (libpython, or a
 * static interpreter's executable) and where that file is mapped. */
struct range { unsigned long lo, hi; };

/* Look `name` up in the ELF file `path` mapped at `base`; 0 and *r, or -1. */
static int elf_symbol(const char *path, unsigned long base, const char *name,
		      struct range *r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
	struct stat st;
	unsigned char *m = MAP_FAILED;

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr))
		goto out;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		goto out;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > (size_t)st.st_size ||
	    eh->e_phoff + (size_t)eh->e_phnum * sizeof(Elf64_Phdr) > (size_t)st.st_size)
		goto out;
	Elf64_Shdr *sh = (Elf64_Shdr *)(m + eh->e_shoff);
	unsigned long load = 0;	/* the first PT_LOAD's address */
	Elf64_Phdr *ph = (Elf64_Phdr *)(m + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD) {
			load = ph[i].p_vaddr & ~0xfffUL;
			break;
		}
	for (int i = 0; i < eh->e_shnum && rc < 0; i++) {
		if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum ||
		    sh[i].sh_offset + sh[i].sh_size > (size_t)st.st_size)
			continue;
		Elf64_Sym *sym = (Elf64_Sym *)(m + sh[i].sh_offset);
		const char *str = (const char *)(m + sh[sh[i].sh_link].sh_offset);
		size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
		for (size_t k = 0; k < n; k++) {
			if (sym[k].st_shndx == SHN_UNDEF ||
			    sym[k].st_name >= sh[sh[i].sh_link].sh_size ||
			    strcmp(str + sym[k].st_name, name) != 0)
				continue;
			unsigned long at = eh->e_type == ET_EXEC ? sym[k].st_value :
					   base + sym[k].st_value - load;
			r->lo = at;
			r->hi = at + sym[k].st_size;
			rc = 0;
			break;
		}
	}
out:
	if (m != MAP_FAILED)
		munmap(m, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The evaluation loop of `pid`, or lo == 0 when it cannot be found. */
static struct range eval_loop(long pid)
{
	static const char *const names[] = { "_PyEval_EvalFrameDefault",
					     "PyEval_EvalFrameEx" };
	struct range r = { 0, 0 };
	char file[PATH_MAX], exe[64], real[PATH_MAX];
	unsigned long base;
	ssize_t n;

	snprintf(exe, sizeof(exe), "/proc/%ld/exe", pid);
	n = readlink(exe, real, sizeof(real) - 1);
	real[n > 0 ? n : 0] = '\0';
	for (int i = 0; i < 2; i++) {
		if ((base = find_map(pid, "libpython", file, sizeof(file))) &&
		    elf_symbol(file, base, names[i], &r) == 0)
			return r;
		if (n > 0 && (base = find_map(pid, real, NULL, 0)) &&
		    elf_symbol(real, base, names[i], &r) == 0)
			return r;
	}
	r.lo = r.hi = 0;
	return r;
}

/* Read len bytes (a multiple of 8) at addr of the stopped thread. */
static int peek(long tid, unsigned long addr, void *data, size_t len)
{
	for (size_t i = 0; i < len; i += sizeof(long)) {
		errno = 0;
		long word = ptrace(PTRACE_PEEKDATA, tid, (void *)(addr + i), NULL);
		if (errno)
			return -1;
		memcpy((char *)data + i, &word, sizeof(long));
	}
	return 0;
}

/* Write len bytes at addr of the stopped thread. */
static int poke(long tid, unsigned long addr, const void *data, size_t len)
{
	struct iovec local = { (void *)data, len }, remote = { (void *)addr, len };

	if (process_vm_writev((pid_t)tid, &local, 1, &remote, 1, 0) == (ssize_t)len)
		return 0;
	/* process_vm_writev needs the same rights; word by word otherwise */
	for (size_t i = 0; i < len; i += sizeof(long)) {
		long word = 0;
		size_t k = len - i < sizeof(long) ? len - i : sizeof(long);
		if (k < sizeof(long)) {
			errno = 0;
			word = ptrace(PTRACE_PEEKDATA, tid, (void *)(addr + i), NULL);
			if (errno)
				return -1;
		}
		memcpy(&word, (const char *)data + i, k);
		if (ptrace(PTRACE_POKEDATA, tid, (void *)(addr + i), (void *)word) < 0)
			return -1;
	}
	return 0;
}

/* Wait for a stop of `tid` within `seconds`: its status, or -1. */
static int wait_stop(long tid, double seconds)
{
	double until = now() + seconds;
	int status;

	for (;;) {
		pid_t r = waitpid((pid_t)tid, &status, __WALL | WNOHANG);
		if (r == (pid_t)tid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now() > until)
			return -1;
		struct timespec ts = { 0, 200000 };
		nanosleep(&ts, NULL);
	}
}

/* The outcome of one try. */
enum { TRY_DONE, TRY_AGAIN, TRY_FAILED };

/* What the target is to call (see main). */
struct plan {
	unsigned long dlopen;		/* dlopen in the target */
	/* 2.7, 3.6: PyEval_InitThreads and PyEval_ThreadsInitialized; 0 */
	unsigned long init_threads, threads_initialized;
	struct range loop;		/* the evaluation loop */
	const char *lib;
	long pid;
};

/*
 * call - run fn(a0, a1) in the stopped thread `tid`, whose registers
 * (at the stop) are `at`, with its stack below the red zone and a return
 * address of 0: the fault of that return ends the call.  *ret gets its
 * result.  Signals that come for the thread meanwhile are kept in `held`
 * (delivered when it is let go).  0, or -1 (the caller restores).
 */
struct held { int sig[16]; int n; };

static int call(long tid, const struct user_regs_struct *at, unsigned long fn,
		unsigned long a0, unsigned long a1, unsigned long sp,
		unsigned long *ret, struct held *held)
{
	struct user_regs_struct regs = *at, now_regs;
	unsigned long zero = 0;
	int status;

	sp = (sp & ~15UL) - 8;		/* as after a call: sp % 16 == 8 */
	if (poke(tid, sp, &zero, sizeof(zero)) < 0)
		return -1;
	regs.rip = fn;
	regs.rdi = a0;
	regs.rsi = a1;
	regs.rsp = sp;
	regs.rax = 0;
	regs.orig_rax = (unsigned long)-1;	/* no syscall restart now */
	if (ptrace(PTRACE_SETREGS, tid, NULL, &regs) < 0)
		return -1;
	for (;;) {
		if (ptrace(PTRACE_CONT, tid, NULL, NULL) < 0)
			return -1;
		if ((status = wait_stop(tid, 30.0)) < 0 || !WIFSTOPPED(status)) {
			fprintf(stderr, "pytrace: thread %ld: the call did not "
				"return within 30 s\n", tid);
			return -1;
		}
		if (status >> 16)
			continue;	/* an event stop: go on */
		int sig = WSTOPSIG(status);
		if (sig == SIGSEGV &&
		    ptrace(PTRACE_GETREGS, tid, NULL, &now_regs) == 0 &&
		    now_regs.rip == 0) {
			*ret = now_regs.rax;
			return 0;
		}
		if (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE) {
			fprintf(stderr, "pytrace: thread %ld: signal %d in the "
				"call\n", tid, sig);
			return -1;
		}
		if (held->n < 16)
			held->sig[held->n++] = sig;
	}
}

/*
 * inject - one try at thread `tid`: seize, interrupt, check where it
 * stopped (in a safe system call, or running bytecode in the evaluation
 * loop: see the top), make the calls of `p`, restore, let go.  *stopped
 * gets the time the thread was stopped; *handle what dlopen returned.
 */
static int inject(long tid, const struct plan *p, double *stopped,
		  unsigned long *handle)
{
	struct user_regs_struct saved;
	struct user_fpregs_struct fpsaved;
	struct held held = { .n = 0 };
	int status, rc = TRY_FAILED;
	unsigned long ignored, below[64];
	size_t below_len = 0;
	double t0;

	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) < 0) {
		if (errno == EPERM)
			die(1, "ptrace(PTRACE_SEIZE) on %ld: %s (CAP_SYS_PTRACE, "
			    "kernel.yama.ptrace_scope?)", tid, strerror(errno));
		return TRY_AGAIN;	/* the thread ended meanwhile */
	}
	t0 = now();
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0 ||
	    (status = wait_stop(tid, 2.0)) < 0 || !WIFSTOPPED(status)) {
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
		return TRY_AGAIN;
	}
	/* Only the stop asked for: a signal for the thread is passed on. */
	if (status >> 16 != PTRACE_EVENT_STOP) {
		ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)WSTOPSIG(status));
		return TRY_AGAIN;
	}
	if (ptrace(PTRACE_GETREGS, tid, NULL, &saved) < 0 ||
	    ptrace(PTRACE_GETFPREGS, tid, NULL, &fpsaved) < 0)
		goto let_go;
	/* Stopped inside a safe system call (interrupted: its result is one
	 * of the kernel's restart codes), or at an instruction of the
	 * evaluation loop itself (not in a function it called).  2.7 and 3.6
	 * may have no GIL yet: PyEval_InitThreads makes it and gives it to
	 * the calling thread, right only for the thread running bytecode.  In
	 * a system call they are taken only when PyEval_ThreadsInitialized
	 * (which only reads a variable) says the GIL exists. */
	long ret = (long)saved.rax;
	int in_call = (long)saved.orig_rax >= 0 && safe_call((long)saved.orig_rax) &&
		      (ret == -EINTR || ret == -ERESTARTSYS || ret == -ERESTARTNOINTR ||
		       ret == -ERESTARTNOHAND || ret == -ERESTART_RESTARTBLOCK);
	int in_loop = (long)saved.orig_rax < 0 && p->loop.lo &&
		      saved.rip >= p->loop.lo && saved.rip < p->loop.hi;
	if (!in_loop && !in_call) {
		rc = TRY_AGAIN;
		goto let_go;
	}
	/* The path on the thread's stack below the red zone, the calls
	 * below it. */
	size_t len = strlen(p->lib) + 1;
	unsigned long path = (saved.rsp - 256 - len) & ~15UL;
	/* what the calls overwrite below the stack pointer is put back too:
	 * from 16 bytes under the path (the return address) up to it */
	below_len = ((saved.rsp - 256) - (path - 16) + 7) & ~7UL;
	if (below_len > sizeof(below) || peek(tid, path - 16, below, below_len) < 0) {
		below_len = 0;
		goto let_go;
	}
	if (poke(tid, path, p->lib, len) < 0)
		goto let_go;
	if (p->init_threads && in_loop &&
	    call(tid, &saved, p->init_threads, 0, 0, path, &ignored, &held) < 0)
		goto restore;
	if (p->init_threads && !in_loop) {
		unsigned long gil = 0;
		if (call(tid, &saved, p->threads_initialized, 0, 0, path, &gil,
			 &held) < 0)
			goto restore;
		if (!(int)gil) {
			rc = TRY_AGAIN;		/* wait for it to run bytecode */
			goto restore;
		}
	}
	if (call(tid, &saved, p->dlopen, path, RTLD_NOW, path, handle, &held) < 0)
		goto restore;
	rc = TRY_DONE;
restore:
	ptrace(PTRACE_SETREGS, tid, NULL, &saved);
	ptrace(PTRACE_SETFPREGS, tid, NULL, &fpsaved);
let_go:
	if (below_len)
		poke(tid, path - 16, below, below_len);
	*stopped = now() - t0;
	/* the first signal held with the detach, the others queued again
	 * for the thread (pending, as they were) */
	ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)(held.n ? held.sig[0] : 0));
	for (int i = 1; i < held.n; i++)
		syscall(SYS_tgkill, (pid_t)p->pid, (pid_t)tid, held.sig[i]);
	return rc;
}

/* Wait until the library listens (its abstract socket is in
 * /proc/net/unix), 0; or -1. */
static int wait_listening(long pid, double seconds)
{
	char name[64], line[512];
	double until = now() + seconds;

	snprintf(name, sizeof(name), " @pytrace/%ld\n", pid);
	while (now() < until) {
		FILE *f = fopen("/proc/net/unix", "r");
		int found = 0;
		while (f && !found && fgets(line, sizeof(line), f)) {
			size_t n = strlen(line), k = strlen(name);
			found = n >= k && strcmp(line + n - k, name) == 0;
		}
		if (f)
			fclose(f);
		if (found)
			return 0;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	return -1;
}

int main(int argc, char **argv)
{
	char here[PATH_MAX], there[PATH_MAX], lib[PATH_MAX];
	unsigned long base_here, base_there, handle = 0;
	double stopped = 0, t0 = now();
	long pid, tid = 0;
	void *fn;

	if (argc >= 2 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		argv++;
		argc--;
	}
	if (argc != 3 || (pid = atol(argv[1])) <= 0)
		die(2, "usage: pytrace-attach [-v] PID LIBRARY");
	if (!realpath(argv[2], lib))
		die(1, "%s: %s", argv[2], strerror(errno));
	check_target(pid, lib);
	/* dlopen in the target: where it is in this program's libc, if the
	 * target maps the very same file */
	if (!(fn = dlopen_here(here, sizeof(here), &base_here)))
		die(1, "cannot find dlopen in this program's C library");
	if (!(base_there = find_map(pid, "/libc.so", there, sizeof(there))) ||
	    !same_file(here, there))
		die(1, "PID %ld uses another C library (%s) than pytrace (%s): "
		    "pytrace cannot attach to it", pid, there[0] ? there : "none",
		    here);
	unsigned long target_fn = (unsigned long)fn - base_here + base_there;
	/* a thread at a safe point: up to 3 s of tries, each stopping one
	 * thread for some microseconds */
	struct plan plan = { .dlopen = target_fn, .loop = eval_loop(pid), .lib = lib,
			     .pid = pid };
	char pylib[PATH_MAX], exe[64], real[PATH_MAX];
	unsigned long pybase = find_map(pid, "libpython", pylib, sizeof(pylib));
	struct range it;
	snprintf(exe, sizeof(exe), "/proc/%ld/exe", pid);
	ssize_t rl = readlink(exe, real, sizeof(real) - 1);
	real[rl > 0 ? rl : 0] = '\0';
	/* no libpython mapped: a static interpreter, libpython is the
	 * executable (which exports the C API) */
	if (!pybase && real[0])
		pybase = find_map(pid, real, pylib, sizeof(pylib));
	if (strstr(pybase ? pylib : real, "python2.7") || strstr(pybase ? pylib : real, "python3.6")) {
		if (pybase && elf_symbol(pylib, pybase, "PyEval_InitThreads", &it) == 0)
			plan.init_threads = it.lo;
		if (pybase && elf_symbol(pylib, pybase, "PyEval_ThreadsInitialized", &it) == 0)
			plan.threads_initialized = it.lo;
		if (!plan.init_threads || !plan.threads_initialized)
			die(1, "PID %ld: PyEval_InitThreads not found in %s", pid,
			    pybase ? pylib : real);
	}
	double until = now() + 3.0;
	int done = 0;
	while (!done) {
		long tids[256];
		int n = threads(pid, tids, 256);
		for (int i = 0; i < n && !done; i++) {
			int rc = inject(tids[i], &plan, &stopped, &handle);
			if (rc == TRY_FAILED)
				die(1, "PID %ld: loading %s failed; the process runs "
				    "on as before", pid, lib);
			if (rc == TRY_DONE)
				tid = tids[i], done = 1;
		}
		if (done)
			break;
		if (now() > until)
			die(1, "PID %ld: no thread came to a point where loading is "
			    "safe within 3 s (all were inside C code); try again, "
			    "or start it with the library", pid);
		struct timespec ts = { 0, 5000000 };
		nanosleep(&ts, NULL);
	}
	if (!handle)
		die(1, "PID %ld: dlopen of %s failed in the process (another "
		    "architecture or C library?); it runs on as before", pid, lib);
	if (wait_listening(pid, 2.0) < 0)
		die(1, "PID %ld: the library is loaded but does not listen; its "
		    "reason is in the process's standard error and syslog", pid);
	if (verbose)
		printf("%ld: attached in %.1f ms, thread %ld stopped %.1f ms\n",
		       pid, (now() - t0) * 1e3, tid, stopped * 1e3);
	return 0;
}
