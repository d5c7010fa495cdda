# SPDX-License-Identifier: MIT
# The distribution packages: `make deb` and `make rpm` build them from the
# tree; their files, dependencies and scripts are what README.md says;
# lintian and rpmlint find nothing; and under a real systemd (tests/sd-boot)
# each installs, traces a service that the installed `pytrace enable`
# enabled, and on removal leaves no drop-in behind that would name the
# library it took away.

load helper
load systemd

# Built once for the file; copied into the container, whose /tmp is its
# own (the checkout is bound into it).
setup_file() {
	export PKG=$BATS_FILE_TMPDIR/pkg
	tree_state >"$BATS_FILE_TMPDIR/tree.before"
	if command -v dpkg-buildpackage >/dev/null && command -v rpmbuild >/dev/null; then
		make -C "$PT_ROOT" -s deb PKGDIR="$PKG" >"$BATS_FILE_TMPDIR/deb.log" 2>&1 ||
			echo failed >"$BATS_FILE_TMPDIR/deb.failed"
		make -C "$PT_ROOT" -s rpm PKGDIR="$PKG" >"$BATS_FILE_TMPDIR/rpm.log" 2>&1 ||
			echo failed >"$BATS_FILE_TMPDIR/rpm.failed"
	fi
	tree_state >"$BATS_FILE_TMPDIR/tree.after"
	DEB=$PKG/deb/pytrace_$(version)_$(dpkg --print-architecture).deb
	RPM=$PKG/rpm/RPMS/x86_64/pytrace-$(version)-1.x86_64.rpm
	export DEB RPM
	# the demo service runs from this checkout, which may be under /tmp:
	# bound into the container, read-only, at its path
	if sd_available && [ -f "$DEB" ] && [ -f "$RPM" ]; then
		SD_BIND=$PT_ROOT sd_boot
	fi
}

teardown_file() {
	sd_stop
}

# tree_state: what git sees of the checkout, ignored files included.
tree_state() {
	git -C "$PT_ROOT" status --porcelain --ignored 2>&1
}

# installed LIBDIR: the files `make install PREFIX=/usr LIBDIR=LIBDIR` puts
# in place (tests/build.bats checks that list), as ./path, sorted.
installed() {
	local root=$BATS_TEST_TMPDIR/install
	rm -rf "$root"
	make -C "$PT_ROOT" -s install PREFIX=/usr LIBDIR="$1" DESTDIR="$root" >/dev/null
	(cd "$root" && find . -type f | sort)
}

# loaded_libconfig FILE: the libconfig sonames FILE (- standard input)
# may open (shim/common/conf.c), one a line.
loaded_libconfig() {
	grep -ao 'libconfig\.so\.[0-9]*' "$1" | sort -u
}

# version: the Makefile's VERSION.
version() {
	sed -n 's/^VERSION *= *//p' "$PT_ROOT/Makefile"
}

# need_tools: skip (fail on CI) without the packaging tools; fail when a
# package did not build, with the build's output.
need_tools() {
	local t
	for t in dpkg-buildpackage rpmbuild lintian rpmlint; do
		command -v $t >/dev/null && continue
		[ "${CI:-}" != true ] || fail "$t is not installed (tests/deps installs it)"
		skip "$t is not installed (tests/deps installs it)"
	done
	if [ -e "$BATS_FILE_TMPDIR/deb.failed" ]; then
		cat "$BATS_FILE_TMPDIR/deb.log"
		fail "make deb failed"
	fi
	if [ -e "$BATS_FILE_TMPDIR/rpm.failed" ]; then
		cat "$BATS_FILE_TMPDIR/rpm.log"
		fail "make rpm failed"
	fi
}

setup() {
	need_tools
	# the installed pytrace with its own paths, not another build's
	# (tests/sanitize points these at its own)
	unset PYTRACE_LIB PYTRACE_CHECK PYTRACE_SUMMARY PYTRACE_REPLAY \
		PYTRACE_REPORT PYTRACE_EXPORT PYTRACE_CTL PYTRACE_ATTACH
}

@test "make deb: what make install puts in place, the library in the architecture's private directory" {
	local triplet
	triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	run bash -c "dpkg-deb -c '$DEB' | awk '\$1 !~ /^d/ { print \$6 }'"
	assert_success
	# and Debian's: man pages and README compressed, copyright, changelog
	assert_output "$({ installed "/usr/lib/$triplet" | sed 's|/man[15]/.*|&.gz|'
		printf '%s\n' ./usr/share/doc/pytrace/{README.md.gz,changelog.gz,copyright}
	} | sort)"
	assert_line "./usr/lib/$triplet/pytrace/libpytrace.so"
	assert_line "./usr/libexec/pytrace/pytrace-check"
	assert_line "./usr/share/bash-completion/completions/pytrace"
	# the command and the example drop-ins name the packaged library
	local x=$BATS_TEST_TMPDIR/x
	dpkg-deb -x "$DEB" "$x"
	run grep -E '^(LIB|CHECK|ATTACH)=' "$x/usr/bin/pytrace"
	assert_output "LIB=\${PYTRACE_LIB:-/usr/lib/$triplet/pytrace/libpytrace.so}
CHECK=\${PYTRACE_CHECK:-/usr/libexec/pytrace/pytrace-check}
ATTACH=\${PYTRACE_ATTACH:-/usr/libexec/pytrace/pytrace-attach}"
	run grep -h LD_PRELOAD "$x"/usr/share/doc/pytrace/examples/systemd/*/pytrace.conf
	assert_output "$(printf 'Environment="LD_PRELOAD=/usr/lib/%s/pytrace/libpytrace.so"\n' "$triplet"{,,,})"
}

@test "make deb: depends on libc, zlib (pytrace-export) and the libconfig the library loads, nothing of libpython; version and removal script" {
	run dpkg-deb -f "$DEB" Version Architecture Depends
	assert_success
	assert_line "Version: $(version)"
	assert_line "Architecture: amd64"
	assert_line --regexp '^Depends: libc6 \(>= 2\.([0-9]|1[0-7])\), zlib1g \(>= 1:1\.[0-9.]+\), libconfig9 \| libconfig11$'
	# the packages of the sonames the library loads
	dpkg-deb -x "$DEB" "$BATS_TEST_TMPDIR/x"
	assert_equal "$(loaded_libconfig "$BATS_TEST_TMPDIR"/x/usr/lib/*/pytrace/libpytrace.so)" \
		"$(printf 'libconfig.so.11\nlibconfig.so.9')"
	# dpkg-shlibdeps' own finding, from the ELF files: libc (2.17 at the
	# most, tests/build.bats) and zlib (it wants a debian/control to name
	# the package; libdl and libpthread, empty in this glibc, are called
	# useless, as debian/rules tells it not to)
	run bash -c "cd '$BATS_TEST_TMPDIR' && mkdir debian && dpkg-deb -R '$DEB' debian/pytrace &&
		printf 'Source: pytrace\n\nPackage: pytrace\nArchitecture: any\n' >debian/control &&
		dpkg-shlibdeps --warnings=1 -O \$(printf -- '-e%s ' debian/pytrace/usr/lib/*/pytrace/libpytrace.so \
			debian/pytrace/usr/libexec/pytrace/*) 2>&1"
	assert_output --regexp '^shlibs:Depends=libc6 \(>= 2\.([0-9]|1[0-7])\), zlib1g \(>= 1:1\.[0-9.]+\)$'
	# on removal (not on upgrade), before the files go
	run dpkg-deb -I "$DEB" prerm
	assert_output --partial 'if [ "$1" = remove ]; then
	pytrace disable --all || true
fi'
	run dpkg-deb -I "$DEB" postrm
	assert_output --partial 'if [ "$1" = purge ]; then
	rmdir /etc/pytrace 2>/dev/null || true
fi'
}

@test "make deb: lintian finds nothing, pedantic and experimental tags included" {
	run bash -c "lintian -I -E --pedantic --display-experimental '${DEB%.deb}.changes' 2>&1 |
		grep -v 'running with root privileges is not recommended!\$'"
	assert_output ""
}

@test "make rpm: make install's files, the libconfig the library loads required, no soname provided, the scripts" {
	# the files: make install's, man pages compressed, README
	run bash -c "rpm -qp --queryformat '[%{FILEMODES:perms} %{FILENAMES}\n]' '$RPM' |
		sed -n 's/^-[^ ]* //p'"
	assert_success
	assert_output "$({ installed /usr/lib64 | sed 's|^\.||; s|/man[15]/.*|&.gz|'
		echo /usr/share/doc/pytrace/README.md
	} | sort)"
	# its own directories (and rpm's links by build-id to the ELF files)
	run bash -c "rpm -qp --queryformat '[%{FILEMODES:perms} %{FILENAMES}\n]' '$RPM' |
		sed -n 's/^d[^ ]* //p' | grep -v '^/usr/lib/.build-id'"
	assert_output "/usr/lib64/pytrace
/usr/libexec/pytrace
/usr/share/bash-completion
/usr/share/bash-completion/completions
/usr/share/doc/pytrace
/usr/share/doc/pytrace/examples
/usr/share/doc/pytrace/examples/systemd
/usr/share/doc/pytrace/examples/systemd/cinder-volume.service.d
/usr/share/doc/pytrace/examples/systemd/nova-compute.service.d
/usr/share/doc/pytrace/examples/systemd/openstack-cinder-volume.service.d
/usr/share/doc/pytrace/examples/systemd/openstack-nova-compute.service.d"
	run rpm -qp --queryformat '%{VERSION}-%{RELEASE} %{ARCH}' "$RPM"
	assert_output "$(version)-1 x86_64"
	# the automatic ones name libc's sonames (glibc 2.17's symbol
	# versions at the most, tests/build.bats) and the scripts' shells; libconfig's soname is
	# named by the spec; nothing of libpython
	run bash -c "rpm -qpR '$RPM' | grep -v '^rpmlib(' | sed 's/(GLIBC_[0-9.]*)/()/' | sort -u"
	assert_output "/bin/bash
/bin/sh
libc.so.6()(64bit)
libconfig.so.9()(64bit)
libdl.so.2()(64bit)
libpthread.so.0()(64bit)
libz.so.1()(64bit)
libz.so.1(ZLIB_1.2.3.5)(64bit)
rtld(GNU_HASH)"
	# the required soname is one the library loads
	rpm2cpio "$RPM" | cpio -i --quiet --to-stdout ./usr/lib64/pytrace/libpytrace.so |
		loaded_libconfig - | grep -qx libconfig.so.9
	run rpm -qp --provides "$RPM"
	assert_output "pytrace = $(version)-1
pytrace(x86-64) = $(version)-1"
	run bash -c "rpm -qp --queryformat '%{PREUN}' '$RPM' | grep -v '^#'"
	assert_output 'if [ "$1" -eq 0 ]; then
    /usr/bin/pytrace disable --all || :
fi'
	run bash -c "rpm -qp --queryformat '%{POSTUN}' '$RPM' | grep -v '^#'"
	assert_output 'if [ "$1" -eq 0 ]; then
    rmdir /etc/pytrace 2>/dev/null || :
fi'
	run bash -c "mkdir '$BATS_TEST_TMPDIR/x' && cd '$BATS_TEST_TMPDIR/x' &&
		rpm2cpio '$RPM' | cpio -id --quiet && grep '^LIB=' usr/bin/pytrace"
	assert_output 'LIB=${PYTRACE_LIB:-/usr/lib64/pytrace/libpytrace.so}'
}

@test "make rpm: rpmlint finds only what Debian's rpm and rpmlint's generic configuration make" {
	# Debian's rpmlint has no distribution's configuration: it wants bz2
	# man pages (Fedora's and RHEL's: gz, which also finds the command's
	# man page then), a Packager tag (Fedora's guidelines forbid it), a
	# signature (packages are signed when published), and knows no
	# licence names.  Debian's
	# rpm extracts no debuginfo (RHEL's find-debuginfo strips the files
	# into a -debuginfo package).  There is no URL to give.
	run bash -c "rpmlint '$RPM' | sed -n 's/^pytrace.x86_64: \([EW]: [^ ]*\).*/\1/p' | sort | uniq -c"
	assert_output "      1 E: no-packager-tag
      1 E: no-signature
      1 W: invalid-license
      2 W: manpage-not-compressed
      1 W: no-manual-page-for-binary
      1 W: no-url-tag
      8 W: unstripped-binary-or-object"
}

@test "make deb and make rpm leave the tree as it was" {
	command -v git >/dev/null && [ -e "$PT_ROOT/.git" ] || skip "not a git checkout"
	assert_equal "$(cat "$BATS_FILE_TMPDIR/tree.after")" "$(cat "$BATS_FILE_TMPDIR/tree.before")"
}

# unit_demo UNIT: a unit running the demo service, in the container.
unit_demo() {
	sed "s|^ExecStart=.*|ExecStart=/usr/bin/python3 $PT_ROOT/examples/demo/service.py|" \
		"$PT_ROOT/examples/demo/pytrace-demo.service" | sd_write "/etc/systemd/system/$1"
	sd_run systemctl daemon-reload
}

# enabled_and_traced UNIT LIB: the installed pytrace enables UNIT (with a
# restart); its drop-in preloads LIB, its new main process has LIB mapped
# and writes its trace.
enabled_and_traced() {
	local unit=$1 lib=$2 pid
	run sd_run /usr/bin/pytrace enable "$unit" --restart \
		--ignore-dir /usr/lib/python3.11:/usr/lib/python3/dist-packages \
		-o '/var/log/pytrace/%n.%p.trace'
	assert_success
	run sd_run cat "/etc/systemd/system/$unit.d/pytrace.conf"
	assert_line "Environment=\"LD_PRELOAD=$lib\""
	pid=$(sd_show "$unit" MainPID)
	sd_wait 10 grep -qs "^$PT_ROOT/examples/demo/fakebrick/iscsi.py([0-9]*):     return portals\$" \
		"/var/log/pytrace/service.py.$pid.trace" || {
		sd_diag "$unit"
		fail "no traced line of the demo in /var/log/pytrace/service.py.$pid.trace"
	}
	run sd_run grep -c -F "$lib" "/proc/$pid/maps"
	assert_success
}

# removed_untraced UNIT: UNIT has no pytrace drop-in or configuration, no
# LD_PRELOAD, and restarts to a main process without the library.
removed_untraced() {
	local unit=$1 pid
	run sd_run test -e "/etc/systemd/system/$unit.d"
	assert_failure
	run sd_run test -e "/etc/pytrace/$unit.conf"
	assert_failure
	run sd_show "$unit" Environment
	assert_output ""
	run sd_run systemctl restart "$unit"
	assert_success
	pid=$(sd_show "$unit" MainPID)
	sd_wait 10 grep -q libc.so "/proc/$pid/maps" || fail "$unit did not restart"
	run sd_run systemctl is-active "$unit"
	assert_output active
	run sd_run grep -F libpytrace "/proc/$pid/maps"
	assert_failure 1
	run sd_run journalctl -u "$unit" --no-pager -o cat
	refute_output --partial "cannot be preloaded"
}

@test "the .deb under systemd: installed, a service enabled and traced; an upgrade keeps it; purge leaves no drop-in" {
	sd_require
	local unit=pytrace-deb-demo.service lib
	lib=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/pytrace/libpytrace.so
	sd_write /root/pytrace.deb <"$DEB"
	run sd_run dpkg -i /root/pytrace.deb
	assert_success
	unit_demo $unit
	enabled_and_traced $unit "$lib"

	# the same package again: an upgrade, which keeps the drop-in
	run sd_run dpkg -i /root/pytrace.deb
	assert_success
	run sd_run test -e "/etc/systemd/system/$unit.d/pytrace.conf"
	assert_success

	# purge: the drop-in and its configuration go before the library;
	# the running process keeps what it has mapped until its restart
	run sd_run dpkg --purge pytrace
	assert_success
	assert_line "pytrace: $unit: tracing disabled"
	assert_line "pytrace: restart $unit for it to take effect (systemctl restart $unit)"
	run sd_run test -e "$lib"
	assert_failure
	run sd_run systemctl is-active "$unit"
	assert_output active
	removed_untraced $unit
	# /etc/pytrace, empty now, is gone; the traces stay
	run sd_run test -e /etc/pytrace
	assert_failure
	run sd_run test -d /var/log/pytrace
	assert_success
}

@test "the .rpm under systemd (rpm -i --nodeps: Debian's rpm database knows no libconfig): erase leaves no drop-in" {
	sd_require
	local unit=pytrace-rpm-demo.service
	sd_write /root/pytrace.rpm <"$RPM"
	run sd_run rpm -i --nodeps /root/pytrace.rpm
	assert_success
	unit_demo $unit
	enabled_and_traced $unit /usr/lib64/pytrace/libpytrace.so
	run sd_run rpm -e pytrace
	assert_success
	assert_line "pytrace: $unit: tracing disabled"
	run sd_run test -e /usr/lib64/pytrace/libpytrace.so
	assert_failure
	removed_untraced $unit
	run sd_run test -e /etc/pytrace
	assert_failure
}
