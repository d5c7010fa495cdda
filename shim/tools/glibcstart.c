/* SPDX-License-Identifier: MIT */
/*
 * glibcstart.c - how every tool starts on glibc 2.17 and newer.
 *
 * crt1.o of glibc 2.34 and newer starts a program through
 * __libc_start_main@GLIBC_2.34, which an older glibc does not have, so it
 * would refuse to run the tools.  They are linked with
 * -Wl,--wrap=__libc_start_main: crt1.o then calls the function below,
 * which calls the version of __libc_start_main that a build on glibc 2.17
 * uses (PT_LIBC_START_MAIN, from shim/common/glibc-compat: GLIBC_2.2.5 on x86_64;
 * the same code as the new version in a newer glibc).
 *
 * The two crt1.o differ in one argument: the old one passed INIT, a
 * function of the program (__libc_csu_init) that ran its constructors,
 * _init and then .init_array, and glibc before 2.34 runs them only
 * through it; the new one passes NULL and newer glibc walks them itself,
 * or calls INIT instead when one is given.  So this passes such a
 * function, and the constructors run once on every version.
 */
#include <stddef.h>

typedef void (*pt_ctor)(int argc, char **argv, char **envp);

extern const pt_ctor __init_array_start[] __attribute__((visibility("hidden")));
extern const pt_ctor __init_array_end[] __attribute__((visibility("hidden")));
extern void _init(void);

/* The old version of __libc_start_main, under a name of its own
 * (references to __libc_start_main itself are the wrapped ones). */
extern int pt_libc_start_main(int (*main)(int, char **, char **), int argc,
			      char **argv, pt_ctor init, void (*fini)(void),
			      void (*rtld_fini)(void), void *stack_end);
__asm__(".symver pt_libc_start_main," PT_LIBC_START_MAIN);

/* What __libc_csu_init did: the program's _init, then its .init_array. */
static void pt_run_ctors(int argc, char **argv, char **envp)
{
	size_t n = (size_t)(__init_array_end - __init_array_start);

	_init();
	for (size_t i = 0; i < n; i++)
		__init_array_start[i](argc, argv, envp);
}

/* crt1.o's call to __libc_start_main (INIT is NULL from a glibc 2.34+
 * crt1.o, __libc_csu_init from an older one, which needs nothing done). */
int __wrap___libc_start_main(int (*main)(int, char **, char **), int argc,
			     char **argv, pt_ctor init, void (*fini)(void),
			     void (*rtld_fini)(void), void *stack_end);
int __wrap___libc_start_main(int (*main)(int, char **, char **), int argc,
			     char **argv, pt_ctor init, void (*fini)(void),
			     void (*rtld_fini)(void), void *stack_end)
{
	return pt_libc_start_main(main, argc, argv, init ? init : pt_run_ctors,
				  fini, rtld_fini, stack_end);
}
