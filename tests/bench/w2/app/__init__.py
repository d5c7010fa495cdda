# SPDX-License-Identifier: MIT
# The application of the benchmark workload W2 (tests/bench/w2.py): a
# small order service whose own code is thin and which spends its time in
# the standard library and in the third-party-style package "thirdparty"
# (tests/bench/w2/vendor).  The benchmark's normal configuration traces
# only this package.
