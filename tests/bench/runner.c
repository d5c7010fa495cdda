/* SPDX-License-Identifier: MIT */
/*
 * runner RESULT PROGRAM [ARG...]: runs PROGRAM, waits for it with wait4 and
 * writes "WALL_NS MAXRSS_KIB EXIT_STATUS CPU_NS" to the file RESULT (CPU:
 * user + system time of PROGRAM); stdin, stdout and stderr are PROGRAM's.  Built by tests/bench/bench into its
 * temporary directory.
 *
 * Why a separate program: Linux keeps a process's peak RSS across execve,
 * taking the larger of the old and the new image's, so a child forked from
 * the benchmark (a Python process of some 18 MiB) would report at least
 * that much whatever it runs.  Forked from this small program, the child
 * reports its own peak.  The time runs from just before fork() to the
 * return of wait4(), the same for every mode.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;

	if (argc < 3) {
		fprintf(stderr, "usage: runner RESULT PROGRAM [ARG...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("runner: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("runner: wait4");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	FILE *f = fopen(argv[1], "w");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	long long cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL +
			(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
	fprintf(f, "%lld %ld %d %lld\n", ns, ru.ru_maxrss, code, cpu);
	return fclose(f) == 0 ? 0 : 2;
}
