# SPDX-License-Identifier: MIT
# A serializer written in Python (sorted keys, escaped strings), and an
# Adler-32-style digest computed a character at a time.

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t"}


def _string(s):
    out = ['"']
    for c in s:
        e = _ESCAPES.get(c)
        if e is not None:
            out.append(e)
        elif c < " ":
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def encode(value):
    if isinstance(value, dict):
        return "{" + ",".join(_string(k) + ":" + encode(value[k]) for k in sorted(value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(encode(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return _string(str(value))


def digest(text, a=1, b=0):
    for c in text:
        a = (a + ord(c)) % 65521
        b = (b + a) % 65521
    return (b << 16) | a
