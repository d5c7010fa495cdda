/* SPDX-License-Identifier: MIT */
/*
 * path.c - lexical path normalisation and ~/$VAR expansion, used for
 * co_filename, __file__ and the ignore directories.  Pure C, tested
 * without Python by tests/unit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

ssize_t pt_path_normalize(const char *path, const char *cwd, char *out,
			  size_t size)
{
	size_t len = 0;
	const char *parts[2] = { NULL, path };

	if (path[0] != '/') {
		if (!cwd || cwd[0] != '/')
			return -EINVAL;
		parts[0] = cwd;
	}
	if (size < 2)
		return -ENAMETOOLONG;
	out[len++] = '/';
	for (int i = 0; i < 2; i++) {
		const char *p = parts[i];

		while (p && *p) {
			while (*p == '/')
				p++;
			const char *end = strchrnul(p, '/');
			size_t n = (size_t)(end - p);

			if (n == 0 || (n == 1 && p[0] == '.')) {
				/* nothing */
			} else if (n == 2 && p[0] == '.' && p[1] == '.') {
				/* drop the last component; "/.." is "/" */
				while (len > 1 && out[len - 1] != '/')
					len--;
				if (len > 1)
					len--;
			} else {
				if (len > 1)
					out[len++] = '/';
				if (len + n + 1 > size)
					return -ENAMETOOLONG;
				memcpy(out + len, p, n);
				len += n;
			}
			p = end;
		}
	}
	out[len] = '\0';
	return (ssize_t)len;
}

/* Append n bytes of s to out at *len; false when it does not fit. */
static int put(char *out, size_t size, size_t *len, const char *s, size_t n)
{
	if (*len + n + 1 > size)
		return 0;
	memcpy(out + *len, s, n);
	*len += n;
	return 1;
}

ssize_t pt_path_expand(const char *in, char *out, size_t size)
{
	size_t len = 0;
	const char *p = in;
	const char *home = getenv("HOME");

	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0') && home) {
		if (!put(out, size, &len, home, strlen(home)))
			return -ENAMETOOLONG;
		p++;
	}
	while (*p) {
		const char *name = NULL;
		size_t n = 0, skip = 0;

		if (p[0] == '$' && p[1] == '{') {
			const char *close = strchr(p + 2, '}');
			if (close) {
				name = p + 2;
				n = (size_t)(close - name);
				skip = n + 3;
			}
		} else if (p[0] == '$') {
			name = p + 1;
			while (name[n] == '_' || (name[n] >= 'A' && name[n] <= 'Z') ||
			       (name[n] >= 'a' && name[n] <= 'z') ||
			       (n && name[n] >= '0' && name[n] <= '9'))
				n++;
			skip = n + 1;
		}
		if (name && n > 0) {
			char var[256];
			const char *val = NULL;

			if (n < sizeof(var)) {
				memcpy(var, name, n);
				var[n] = '\0';
				val = getenv(var);
			}
			if (val) {
				if (!put(out, size, &len, val, strlen(val)))
					return -ENAMETOOLONG;
				p += skip;
				continue;
			}
		}
		if (!put(out, size, &len, p, 1))
			return -ENAMETOOLONG;
		p++;
	}
	out[len] = '\0';
	return (ssize_t)len;
}

int pt_path_below(const char *path, const char *dir, size_t dirlen)
{
	if (dirlen == 1 && dir[0] == '/')
		return path[0] == '/';
	return strncmp(path, dir, dirlen) == 0 &&
	       (path[dirlen] == '/' || path[dirlen] == '\0');
}
