# SPDX-License-Identifier: MIT
# A pure-Python package in the style of a third-party dependency, for the
# benchmark workload W2 (tests/bench/w2.py): a small template engine, a
# schema validator and a serializer, the kind of library a service spends
# its time in.  The benchmark's normal configuration ignores it.
from thirdparty.template import Template
from thirdparty.schema import validate, SchemaError
from thirdparty.codec import encode, digest

__all__ = ["Template", "validate", "SchemaError", "encode", "digest"]
