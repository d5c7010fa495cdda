# SPDX-License-Identifier: MIT
# A small recursive validator: a schema is a type, a (type, min, max)
# tuple, a list of one schema or a dict of field schemas.

try:
    string_types = (str, unicode)  # noqa: F821 (Python 2)
except NameError:
    string_types = (str,)


class SchemaError(ValueError):
    pass


def validate(value, schema, path="$"):
    """Returns the number of values checked; raises SchemaError."""
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            raise SchemaError("%s: not an object" % path)
        n = 1
        for key in sorted(schema):
            if key not in value:
                raise SchemaError("%s.%s: missing" % (path, key))
            n += validate(value[key], schema[key], path + "." + key)
        return n
    if isinstance(schema, list):
        if not isinstance(value, list):
            raise SchemaError("%s: not a list" % path)
        n = 1
        for i, item in enumerate(value):
            n += validate(item, schema[0], "%s[%d]" % (path, i))
        return n
    if isinstance(schema, tuple):
        kind, lo, hi = schema
        validate(value, kind, path)
        size = len(value) if isinstance(value, string_types) else value
        if size < lo or size > hi:
            raise SchemaError("%s: %r out of [%r, %r]" % (path, value, lo, hi))
        return 1
    if schema is str:
        ok = isinstance(value, string_types)
    elif schema is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, schema)
    if not ok:
        raise SchemaError("%s: expected %s" % (path, schema.__name__))
    return 1
