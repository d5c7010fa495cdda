# SPDX-License-Identifier: MIT
# Shared by every .bats file: paths, the library under test, and helpers to
# run a program with and without pytrace.

PT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PT_LIB=${PYTRACE_LIB:-$PT_ROOT/libpytrace.so}
PT_FIX=$PT_ROOT/tests/fixtures
APP=$PT_FIX/app

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
bats_load_library bats-file

# Every test starts from a clean pytrace environment.
unset PYTRACE_ENABLE PYTRACE_OUTPUT PYTRACE_IGNORE_DIRS PYTRACE_IGNORE_MODULES

# traced CMD...: run CMD with the library preloaded.
traced() {
	LD_PRELOAD=$PT_LIB "$@"
}

# sys_dirs: the interpreter's standard library and site directories,
# ':'-separated, as a user would ignore them.
sys_dirs() {
	"$PYTHON" -c 'import site, sysconfig
p = sysconfig.get_paths()
d = [p["stdlib"], p["platstdlib"], p["purelib"], p["platlib"]]
d += site.getsitepackages() if hasattr(site, "getsitepackages") else []
print(":".join(sorted(set(d))))'
}

# expected NAME: fixture tests/fixtures/NAME with @APP@ replaced.
expected() {
	sed "s|@APP@|$APP|g" "$PT_FIX/$1"
}

# count_lines FILE: number of lines in FILE.
count_lines() {
	wc -l <"$1" | tr -d ' '
}
