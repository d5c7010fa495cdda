/* SPDX-License-Identifier: MIT */
/*
 * path.h - path arithmetic with no Python and no file-system access.
 */
#ifndef PYTRACE_PATH_H
#define PYTRACE_PATH_H

#include <stddef.h>
#include <sys/types.h>

/*
 * pt_path_normalize - os.path.normpath(os.path.join(cwd, path)) into out:
 * absolute, no "." or ".." components, no repeated or trailing "/".
 * Lexical only: symbolic links are not resolved, as Python does not.
 * Returns the length, or -ENAMETOOLONG when out is too small, or -EINVAL
 * when path is relative and cwd is not absolute.
 */
ssize_t pt_path_normalize(const char *path, const char *cwd, char *out,
			  size_t size);

/*
 * pt_path_expand - expand a leading "~" or "~/" (from $HOME) and every
 * $NAME or ${NAME} (from the environment; unset names are kept as written,
 * as os.path.expandvars does).  Returns the length or -ENAMETOOLONG.
 */
ssize_t pt_path_expand(const char *in, char *out, size_t size);

/* pt_path_below - true when path equals dir or lies below it; both
 * normalised.  "/usr/local" is not below "/usr/loc". */
int pt_path_below(const char *path, const char *dir, size_t dirlen);

#endif
