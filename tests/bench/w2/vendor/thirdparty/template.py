# SPDX-License-Identifier: MIT
# A tiny template engine: "{{ name|filter }}" substitutions and
# "{% for x in seq %}...{% endfor %}" loops, parsed character by character
# into a tree once, then rendered against a context.


class TemplateError(Exception):
    pass


def _upper(v):
    return str(v).upper()


def _title(v):
    return " ".join(w[:1].upper() + w[1:] for w in str(v).split(" "))


def _pad(v):
    s = str(v)
    while len(s) < 8:
        s = s + "."
    return s


FILTERS = {"upper": _upper, "title": _title, "pad": _pad, "str": str}


def _tokens(text):
    """Splits TEXT into ('text', s), ('var', expr) and ('tag', words)."""
    out = []
    i = 0
    start = 0
    n = len(text)
    while i < n - 1:
        c = text[i]
        if c == "{" and text[i + 1] in "{%":
            if i > start:
                out.append(("text", text[start:i]))
            close = "}}" if text[i + 1] == "{" else "%}"
            j = text.find(close, i + 2)
            if j < 0:
                raise TemplateError("unclosed tag at %d" % i)
            body = text[i + 2:j].strip()
            out.append(("var", body) if close == "}}" else ("tag", body.split()))
            i = j + 2
            start = i
        else:
            i += 1
    if start < n:
        out.append(("text", text[start:]))
    return out


def _parse(tokens, pos, end_tag):
    nodes = []
    while pos < len(tokens):
        kind, val = tokens[pos]
        if kind == "tag":
            if val[0] == end_tag:
                return nodes, pos + 1
            if val[0] == "for" and len(val) == 4 and val[2] == "in":
                body, pos = _parse(tokens, pos + 1, "endfor")
                nodes.append(("for", val[1], val[3], body))
                continue
            raise TemplateError("unknown tag %r" % (val,))
        nodes.append((kind, val))
        pos += 1
    if end_tag:
        raise TemplateError("missing %s" % end_tag)
    return nodes, pos


def _lookup(ctx, expr):
    parts = expr.split("|")
    path = parts[0].strip().split(".")
    v = ctx
    for p in path:
        if isinstance(v, dict):
            v = v[p]
        else:
            v = getattr(v, p)
    for f in parts[1:]:
        v = FILTERS[f.strip()](v)
    return v


class Template(object):
    def __init__(self, text):
        self.nodes, _ = _parse(_tokens(text), 0, None)

    def render(self, ctx):
        out = []
        self._render(self.nodes, ctx, out)
        return "".join(out)

    def _render(self, nodes, ctx, out):
        for node in nodes:
            kind = node[0]
            if kind == "text":
                out.append(node[1])
            elif kind == "var":
                out.append(str(_lookup(ctx, node[1])))
            else:
                _, name, seq, body = node
                for item in _lookup(ctx, seq):
                    inner = dict(ctx)
                    inner[name] = item
                    self._render(body, inner, out)
