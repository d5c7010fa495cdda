/* SPDX-License-Identifier: MIT */
/*
 * scopes.c - which code objects are scope functions (scopes.h).
 *
 * A code object is looked at once, when it first runs: its module (or
 * file) and co_name are tested first (pt_scope_place, no Python object
 * touched), and only a code object that passes has its qualified name
 * found and matched:
 *  - 3.11+: co_qualname;
 *  - before: from the module's globals.  The name a scope gives without
 *    a glob is tried first, part by part (globals["Outer"], its
 *    __dict__'s "Inner", its "method"); otherwise pytrace looks at the
 *    module's functions, the methods of its classes and of the classes
 *    defined in them (NESTED_MAX deep).  A name is taken when the
 *    function found there runs this very code object (through
 *    staticmethod, classmethod, property and functools.wraps wrappers).
 *    A function found nowhere (nested in a function, in a class made
 *    inside a function) is known by its co_name alone.
 * Only functions, the three descriptors and classes are read, each by
 * its exact type, classes through type.__getattribute__ whatever their
 * metaclass: nothing the program defined runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pytrace.h"
#include "scope.h"
#include "scopes.h"

static struct {
	struct pt_scope *v;
	unsigned char *matched;	/* by scope: some function matched it */
	size_t n;
	int at_exit;		/* Py_AtExit registered */
	int types_known;	/* TYPE_OF reads this build right: 1 yes,
				 * -1 no, 0 not checked yet */
} sc;

int pt_scopes_any(void)
{
	return sc.n != 0;
}

/* The interpreter ends: scopes that never matched are said while the
 * trace is still open. */
static void at_exit(void)
{
	pt_scopes_stop();
}

int pt_scopes_start(const struct pt_settings *s)
{
	char err[256];

	pt_scopes_stop();
	if (!s->scope.n)
		return 0;
	if (!pt_py.EvalGetFrame || !pt_py.DictNext || !pt_py.TypeIsSubtype ||
	    !pt_py.TypeType || !pt_py.MappingGetItemString || !pt_py.AtExit) {
		pt_log("this libpython lacks what scopes need (PyEval_GetFrame, "
		       "PyDict_Next, PyType_IsSubtype, PyType_Type, "
		       "PyMapping_GetItemString, Py_AtExit); not tracing");
		return -1;
	}
	sc.v = calloc(s->scope.n, sizeof(*sc.v));
	sc.matched = calloc(s->scope.n, 1);
	if (!sc.v || !sc.matched)
		goto nomem;
	for (size_t i = 0; i < s->scope.n; i++) {
		if (pt_scope_parse(s->scope.v[i], &sc.v[i], err, sizeof(err)) < 0)
			goto nomem;	/* checked when set: only ENOMEM */
		sc.n = i + 1;
	}
	if (!sc.at_exit && pt_py.AtExit(at_exit) == 0)
		sc.at_exit = 1;
	return 0;
nomem:
	pt_scopes_stop();
	pt_log("out of memory for the scopes; not tracing");
	return -1;
}

void pt_scopes_stop(void)
{
	for (size_t i = 0; i < sc.n; i++) {
		const struct pt_scope *p = &sc.v[i];
		if (!sc.matched[i])
			pt_notice("scope '%s:%s' matched no function",
				  p->module ? p->module : p->path, p->qualname);
		pt_scope_free(&sc.v[i]);
	}
	free(sc.v);
	free(sc.matched);
	sc.v = NULL;
	sc.matched = NULL;
	sc.n = 0;
}

/* The type of `o`: ob_type, right after the reference count in every
 * CPython 2.7-3.13 build without Py_TRACE_REFS (checked: the type of
 * `type` is `type`). */
#define TYPE_OF(o) (*(PyObject **)((char *)(o) + sizeof(Py_ssize_t)))

static int types_known(void)
{
	if (!sc.types_known)
		sc.types_known = TYPE_OF(pt_py.TypeType) == pt_py.TypeType ? 1 : -1;
	return sc.types_known > 0;
}

/* The attribute `name` of `o`, a new reference, or NULL with no error
 * left.  Only for objects whose attributes no Python code computes (the
 * exact types runs() knows, 2.7's old-style classes, dicts). */
static PyObject *attr(PyObject *o, const char *name)
{
	PyObject *v = pt_py.GetAttrString(o, name);

	if (!v)
		pt_py.ErrClear();
	return v;
}

/* Is `v` a class (new-style, or 2.7's old-style)?  By its type alone:
 * isinstance() would ask a proxy's __class__. */
static int is_class(PyObject *v)
{
	PyObject *t = TYPE_OF(v);

	return (pt_py.ClassType && t == pt_py.ClassType) ||
	       pt_py.TypeIsSubtype(t, pt_py.TypeType);
}

/* The attribute `name` of class `cls` as type.__getattribute__ finds it,
 * whatever its metaclass defines; a new reference, or NULL with no error
 * left. */
static PyObject *class_attr(PyObject *cls, const char *name)
{
	if (pt_py.ClassType && TYPE_OF(cls) == pt_py.ClassType)
		return attr(cls, name);		/* 2.7: no metaclass */
	PyObject *get = attr(pt_py.TypeType, "__getattribute__");
	PyObject *v = get ? pt_py.CallFunction(get, "Os", cls, name) : NULL;

	if (!v)
		pt_py.ErrClear();
	if (get)
		pt_py.DecRef(get);
	return v;
}

/* Does `v` (borrowed), a function or a wrapper of one, run `code`?
 * Only functions, staticmethod, classmethod and property objects are
 * looked into, known by their exact type. */
static int runs(PyObject *v, PyObject *code)
{
	PyObject *owned = NULL;
	int found = 0;

	for (int i = 0; v && i < 8 && !found; i++) {
		PyObject *t = TYPE_OF(v), *next = NULL;

		if (t == pt_py.FunctionType) {
			PyObject *c = attr(v, "__code__");
			found = c == code;
			if (c)
				pt_py.DecRef(c);
			if (!found)
				next = attr(v, "__wrapped__");
		} else if (t == pt_py.StaticMethodType ||
			   t == pt_py.ClassMethodType) {
			next = attr(v, "__func__");
		} else if (t == pt_py.PropertyType) {
			next = attr(v, "fget");
		}
		if (owned)
			pt_py.DecRef(owned);
		owned = v = next;
	}
	if (owned)
		pt_py.DecRef(owned);
	return found;
}

/* The member `name` of class `cls` (named `clsname`) in its own
 * __dict__, a new reference or NULL: "__x" is found under the name
 * Python mangles it to, "_Class__x". */
static PyObject *member(PyObject *cls, const char *clsname, const char *name)
{
	PyObject *d = class_attr(cls, "__dict__"), *v = NULL;

	if (!d)
		return NULL;
	v = pt_py.MappingGetItemString(d, name);
	if (!v && strncmp(name, "__", 2) == 0 &&
	    strcmp(name + strlen(name) - 2, "__") != 0) {
		char mangled[512];
		pt_py.ErrClear();
		while (*clsname == '_')
			clsname++;
		snprintf(mangled, sizeof(mangled), "_%s%s", clsname, name);
		v = pt_py.MappingGetItemString(d, mangled);
	}
	if (!v)
		pt_py.ErrClear();
	pt_py.DecRef(d);
	return v;
}

/* Follow the dotted `qualname` (no glob) from the module's globals: does
 * it lead to a function that runs `code`? */
static int follows(PyObject *globals, const char *qualname, PyObject *code)
{
	char part[512], clsname[512] = "";
	const char *p = qualname;
	PyObject *o = NULL;	/* new reference, but for the first part */
	int first = 1, found = 0;

	while (*p) {
		size_t n = strcspn(p, ".");
		if (n >= sizeof(part))
			break;
		memcpy(part, p, n);
		part[n] = '\0';
		p += n + (p[n] == '.');
		PyObject *next;
		if (first) {
			next = pt_py.DictGetItemString(globals, part);
			if (next)
				pt_py.IncRef(next);
		} else {
			next = is_class(o) ? member(o, clsname, part) : NULL;
		}
		if (o)
			pt_py.DecRef(o);
		o = next;
		first = 0;
		snprintf(clsname, sizeof(clsname), "%s", part);
		if (!o)
			return 0;
	}
	if (!*p)
		found = runs(o, code);
	pt_py.DecRef(o);
	return found;
}

/* How deep classes are looked into, below the module's (Outer.Inner). */
enum { NESTED_MAX = 3 };

/* The dict of class `cls`, a new reference: its own (2.7's old-style
 * classes) or a copy of the one its mappingproxy shows; NULL with no
 * error left. */
static PyObject *class_dict(PyObject *cls)
{
	PyObject *d = class_attr(cls, "__dict__");
	PyObject *copy = d ? attr(d, "copy") : NULL;
	PyObject *r = copy ? pt_py.CallFunction(copy, NULL) : NULL;

	if (!r)
		pt_py.ErrClear();
	if (copy)
		pt_py.DecRef(copy);
	if (d)
		pt_py.DecRef(d);
	return r;
}

/* Is `v` the class defined as `qualname` (3.x: its __qualname__; 2.7
 * has none, and takes any class)? */
static int defined_as(PyObject *v, const char *qualname)
{
	char q[512];
	PyObject *o;

	if (pt_py.major < 3)
		return 1;
	o = class_attr(v, "__qualname__");
	int same = o && pt_py_cstr(o, q, sizeof(q)) >= 0 && strcmp(q, qualname) == 0;
	if (o)
		pt_py.DecRef(o);
	return same;
}

/* In class `cls`, whose qualified name is `path` and own name `clsname`,
 * and in the classes defined in it (`depth` levels): the method `name`
 * that runs `code`.  Its qualified name written to buf: 1, else 0. */
static int search_class(PyObject *cls, const char *path, const char *clsname,
			const char *name, PyObject *code, char *buf,
			size_t size, int depth)
{
	PyObject *m = member(cls, clsname, name), *d, *k, *v;
	int found = m && runs(m, code);
	Py_ssize_t pos = 0;

	if (m)
		pt_py.DecRef(m);
	if (found) {
		snprintf(buf, size, "%s.%s", path, name);
		return 1;
	}
	if (!depth || !(d = class_dict(cls)))
		return 0;
	while (!found && pt_py.DictNext(d, &pos, &k, &v)) {
		char key[256], inner[512];
		if (pt_py_cstr(k, key, sizeof(key)) < 0 || !is_class(v))
			continue;
		snprintf(inner, sizeof(inner), "%s.%s", path, key);
		found = defined_as(v, inner) &&
			search_class(v, inner, key, name, code, buf, size,
				     depth - 1);
	}
	pt_py.DecRef(d);
	return found;
}

/* The qualified name of `code` among the module's functions and the
 * methods of its classes (and theirs, NESTED_MAX deep), written to buf;
 * 0 when not found. */
static int search(PyObject *globals, const char *name, PyObject *code,
		  char *buf, size_t size)
{
	Py_ssize_t pos = 0;
	PyObject *k, *v;
	char key[256];

	while (pt_py.DictNext(globals, &pos, &k, &v)) {
		if (pt_py_cstr(k, key, sizeof(key)) < 0)
			continue;
		if (strcmp(key, name) == 0 && runs(v, code)) {
			snprintf(buf, size, "%s", name);
			return 1;
		}
		if (is_class(v) && defined_as(v, key) &&
		    search_class(v, key, key, name, code, buf, size, NESTED_MAX))
			return 1;
	}
	return 0;
}

/* The qualified name of `code` as `p` would see it, written to buf. */
static void qualname_for(const struct pt_scope *p, PyObject *code,
			 PyObject *globals, const char *name, char *buf,
			 size_t size)
{
	snprintf(buf, size, "%s", name);	/* found nowhere */
	if (pt_py.major > 3 || (pt_py.major == 3 && pt_py.minor >= 11)) {
		PyObject *q = attr(code, "co_qualname");
		if (q && pt_py_cstr(q, buf, size) < 0)
			snprintf(buf, size, "%s", name);
		if (q)
			pt_py.DecRef(q);
		return;
	}
	if (!globals || !types_known())
		return;
	/* the name the scope gives, when it leads there: the quick way */
	if (!strpbrk(p->qualname, "*?[") && follows(globals, p->qualname, code)) {
		snprintf(buf, size, "%s", p->qualname);
		return;
	}
	search(globals, name, code, buf, size);
}

char *pt_scopes_match(PyObject *code, PyObject *globals, const char *module,
		      const char *path, const char *name)
{
	char qualname[512], *first = NULL;

	/* every scope that names it is marked: none is said to match nothing */
	for (size_t i = 0; i < sc.n; i++) {
		const struct pt_scope *p = &sc.v[i];
		if (!pt_scope_place(p, module, path, name))
			continue;
		qualname_for(p, code, globals, name, qualname, sizeof(qualname));
		if (!pt_scope_name(p, qualname))
			continue;
		sc.matched[i] = 1;
		if (!first)
			first = strdup(qualname);
	}
	return first;
}
