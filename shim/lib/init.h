/* SPDX-License-Identifier: MIT */
/*
 * init.h - the state the constructor leaves for the start hooks.
 */
#ifndef PYTRACE_INIT_H
#define PYTRACE_INIT_H

/*
 * pt_init_python - 1 when this process has a Python interpreter pytrace may
 * trace, with `pt_py` filled (from `handle`, a libpython loaded RTLD_LOCAL,
 * or the global scope when NULL); 0 otherwise (PYTRACE_ENABLE=0, no Python,
 * a required symbol missing: reported once).  Cheap after the first call.
 */
int pt_init_python(void *handle);

#endif
