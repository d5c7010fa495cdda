# SPDX-License-Identifier: MIT
# How libpytrace.so is built and linked: one build for every interpreter.

load helper

@test "libpython is not a NEEDED library: it is found at run time" {
	run readelf -d "$PT_LIB"
	assert_success
	refute_output --partial "libpython"
	# only the C library is needed (libdl and libpthread: part of it
	# since glibc 2.34)
	run bash -c "readelf -d '$PT_LIB' | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'"
	refute_output --regexp -v '^(libc\.so\.6|libdl\.so\.2|libpthread\.so\.0)$'
}

# glibc_too_new FILE...: the libc symbols FILE binds to a version newer
# than glibc 2.17, one "FILE: VERSION SYMBOL" a line.
glibc_too_new() {
	local f
	for f in "$@"; do
		objdump -T "$f" | awk -v f="${f##*/}" '
			match($0, /\(?GLIBC_[0-9.]+\)?/) {
				v = substr($0, RSTART, RLENGTH); gsub(/[()]/, "", v)
				split(substr(v, 7), n, ".")
				if (n[1] > 2 || (n[1] == 2 && n[2] > 17))
					print f ": " v " " $NF
			}'
	done
}

@test "the library and the tools need glibc 2.17 and nothing newer" {
	local bins=("$PT_LIB") t
	for t in check summary replay report export ctl attach; do
		bins+=("$PT_ROOT/pytrace-$t")
	done
	run glibc_too_new "${bins[@]}"
	assert_success
	assert_output ""
	# on glibc before 2.34 dlopen and pthread_create are in libdl and
	# libpthread: the library names them, so that they are loaded
	run bash -c "readelf -d '$PT_LIB' | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort"
	assert_output "libc.so.6
libdl.so.2
libpthread.so.0"
}

@test "no Python symbol is left undefined for the loader to bind" {
	run nm -D --undefined-only "$PT_LIB"
	assert_success
	refute_output --regexp '(^| )_?Py'
}

@test "the link uses -Wl,--no-undefined" {
	cd "$PT_ROOT"
	run make -n -B libpytrace.so
	assert_success
	assert_line --regexp -- "-shared .*-Wl,--no-undefined .*-o libpytrace.so"
}

@test "the dynamic symbol table exports nothing but the hooks" {
	# The libpython entry points wrapped to find the start of 2.7-3.7 and
	# of embedding hosts, the subinterpreters they create and the start of
	# their finalisation, the libc calls that end a process image without
	# its exit path, and sigaction, which a finalising interpreter calls
	# before a signal can end it
	# (shim/interpose.c), and the after-fork hooks by which a forked child
	# in standby gets its own control channel.  Any new export is listed
	# here.
	run bash -c "nm -D --defined-only '$PT_LIB' | awk '{ print \$3 }' | sort"
	assert_success
	assert_output "PyOS_AfterFork
PyOS_AfterFork_Child
Py_BytesMain
Py_EndInterpreter
Py_Finalize
Py_FinalizeEx
Py_Initialize
Py_InitializeEx
Py_InitializeFromConfig
Py_Main
Py_NewInterpreter
Py_NewInterpreterFromConfig
_Py_InitializeMainInterpreter
_Py_UnixMain
_exit
execv
execve
fexecve
pthread_create
sigaction"
}

@test "the objects are built with -fvisibility=hidden" {
	cd "$PT_ROOT"
	run make -n -B shim/lib/trace.o
	assert_output --partial "-fvisibility=hidden"
}

@test "make install and uninstall honour PREFIX, LIBDIR and DESTDIR" {
	cd "$PT_ROOT"
	local root=$BATS_TEST_TMPDIR/root
	run make install PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu DESTDIR="$root"
	assert_success
	run bash -c "cd '$root' && find . -type f | sort"
	assert_output "./usr/bin/pytrace
./usr/lib/x86_64-linux-gnu/pytrace/libpytrace.so
./usr/libexec/pytrace/pytrace-attach
./usr/libexec/pytrace/pytrace-check
./usr/libexec/pytrace/pytrace-ctl
./usr/libexec/pytrace/pytrace-export
./usr/libexec/pytrace/pytrace-replay
./usr/libexec/pytrace/pytrace-report
./usr/libexec/pytrace/pytrace-summary
./usr/share/bash-completion/completions/pytrace
./usr/share/doc/pytrace/examples/cinder-volume.conf
./usr/share/doc/pytrace/examples/nova-compute.conf
./usr/share/doc/pytrace/examples/pytrace.conf
./usr/share/doc/pytrace/examples/systemd/cinder-volume.service.d/pytrace.conf
./usr/share/doc/pytrace/examples/systemd/nova-compute.service.d/pytrace.conf
./usr/share/doc/pytrace/examples/systemd/openstack-cinder-volume.service.d/pytrace.conf
./usr/share/doc/pytrace/examples/systemd/openstack-nova-compute.service.d/pytrace.conf
./usr/share/man/man1/pytrace.1
./usr/share/man/man5/pytrace.conf.5"
	# the installed command points at the installed files
	run grep -E '^(LIB|CHECK|SUMMARY|REPLAY|REPORT|EXPORT|CTL|ATTACH)=' "$root/usr/bin/pytrace"
	assert_output 'LIB=${PYTRACE_LIB:-/usr/lib/x86_64-linux-gnu/pytrace/libpytrace.so}
CHECK=${PYTRACE_CHECK:-/usr/libexec/pytrace/pytrace-check}
SUMMARY=${PYTRACE_SUMMARY:-/usr/libexec/pytrace/pytrace-summary}
REPLAY=${PYTRACE_REPLAY:-/usr/libexec/pytrace/pytrace-replay}
REPORT=${PYTRACE_REPORT:-/usr/libexec/pytrace/pytrace-report}
EXPORT=${PYTRACE_EXPORT:-/usr/libexec/pytrace/pytrace-export}
CTL=${PYTRACE_CTL:-/usr/libexec/pytrace/pytrace-ctl}
ATTACH=${PYTRACE_ATTACH:-/usr/libexec/pytrace/pytrace-attach}'
	# and so do the example drop-ins
	run bash -c "grep -h LD_PRELOAD '$root'/usr/share/doc/pytrace/examples/systemd/*/pytrace.conf | sort -u"
	assert_output 'Environment="LD_PRELOAD=/usr/lib/x86_64-linux-gnu/pytrace/libpytrace.so"'
	run make uninstall PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu DESTDIR="$root"
	assert_success
	run bash -c "cd '$root' && find . -type f"
	assert_output ""
	# the directories of its own are gone too
	run bash -c "cd '$root' && find . -path '*pytrace*'"
	assert_output ""
}

@test "make install's default: /usr/local, the library and helpers in directories of their own" {
	cd "$PT_ROOT"
	local root=$BATS_TEST_TMPDIR/root
	run make install DESTDIR="$root"
	assert_success
	assert_file_exists "$root/usr/local/lib/pytrace/libpytrace.so"
	assert_file_exists "$root/usr/local/libexec/pytrace/pytrace-check"
	assert_file_exists "$root/usr/local/share/bash-completion/completions/pytrace"
	run grep -E '^LIB=' "$root/usr/local/bin/pytrace"
	assert_output 'LIB=${PYTRACE_LIB:-/usr/local/lib/pytrace/libpytrace.so}'
	# the drop-ins of examples/systemd name it as it is in the tree
	run bash -c "grep -h LD_PRELOAD '$PT_ROOT'/examples/systemd/*/pytrace.conf | sort -u"
	assert_output 'Environment="LD_PRELOAD=/usr/local/lib/pytrace/libpytrace.so"'
}

@test "the source folders keep their direction: common includes nothing of lib or tools" {
	run "$PT_ROOT/tests/layout"
	assert_success
	assert_output ""
	# and the check sees a break: a copy of the tree where common includes
	# a header of the library, and a stray file
	local t=$BATS_TEST_TMPDIR/tree
	mkdir -p "$t"
	cp -r "$PT_ROOT/shim" "$t/"
	sed -i '1a #include "trace.h"' "$t/shim/common/path.c"
	touch "$t/shim/stray.c"
	run "$PT_ROOT/tests/layout" "$t"
	assert_failure
	assert_line 'layout: shim/common/path.c includes "trace.h" (lib/trace.h), outside common'
	assert_line 'layout: shim/stray.c is in no folder (shim/common, shim/lib or shim/tools)'
}

@test "the library's files use each other in one direction: no circle" {
	# the check runs on the objects this build made
	run bash -c "ls '$PT_ROOT'/shim/lib/*.o | wc -l"
	assert_output "$(ls "$PT_ROOT"/shim/lib/*.c | wc -l)"
	run "$PT_ROOT/tests/layout"
	assert_success
	# and sees a circle: the line writer calling start-up, which calls it
	local t=$BATS_TEST_TMPDIR/tree
	mkdir -p "$t"
	cp -r "$PT_ROOT/shim" "$t/"
	printf '%s\n' 'void pt_start(int, const char *, const void *);' \
		'void pt_probe(void) { pt_start(0, 0, 0); }' >>"$t/shim/lib/trace.c"
	cc -c -std=c11 -D_GNU_SOURCE -fPIC -I"$t/shim/common" -I"$t/shim/lib" \
		-o "$t/shim/lib/trace.o" "$t/shim/lib/trace.c"
	run "$PT_ROOT/tests/layout" "$t"
	assert_failure
	assert_line --partial "layout: the library's files use each other in a circle: "
	assert_line --partial "shim/lib/trace.o"
	assert_line --partial "shim/lib/start.o"
}
