# SPDX-License-Identifier: MIT
# pytrace: see README.md.  `make`, `make check`, `make demo`, `make install`,
# `make deb`, `make rpm`.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
# The library and the helper programs in directories of their own, as
# distributions ship preloaded libraries (libfaketime, torsocks): only
# `pytrace` is on PATH, and it is what drop-ins and tests name.
PKGLIBDIR  ?= $(LIBDIR)/pytrace
LIBEXECDIR ?= $(PREFIX)/libexec
HELPERDIR  ?= $(LIBEXECDIR)/pytrace
SYSCONFDIR ?= /etc
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/pytrace
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR    ?=

CC      ?= cc
CFLAGS  ?= -O2 -g
# WERROR=-Werror turns warnings into errors (CI does).
WERROR  ?=
# The oldest glibc the library and the tools run on, whatever glibc builds
# them: every object is compiled with shim/common/glibc-compat.h, which binds
# each libc symbol to the version a build on that glibc would use
# (shim/common/glibc-compat says how), and the tools start through
# shim/tools/glibcstart.c.
GLIBC_MIN ?= 2.17
GLIBC_H    = shim/common/glibc-compat.h
PT_CFLAGS  = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -fPIC \
             -fvisibility=hidden $(WERROR) -include $(GLIBC_H) \
             -DPYTRACE_SYSCONFDIR='"$(SYSCONFDIR)"'
PT_LDFLAGS = -shared -Wl,--no-undefined -Wl,-z,relro -Wl,-z,now
# Before glibc 2.34 dlopen, dlsym and pthread_* are in libdl.so.2 and
# libpthread.so.0: they are named by file (still there, empty, in newer
# glibc) and kept with --no-as-needed, so that the loader of an older
# glibc loads them.
PT_LDLIBS  = -Wl,--push-state,--no-as-needed -l:libdl.so.2 -l:libpthread.so.0 \
             -Wl,--pop-state
# The tools' start (shim/tools/glibcstart.c)
TOOL_START = shim/tools/glibcstart.o
TOOL_LDFLAGS = -Wl,--wrap=__libc_start_main

VERSION = 0.1
LIB     = libpytrace.so
CHECK   = pytrace-check
SUMMARY = pytrace-summary
REPLAY  = pytrace-replay
REPORT  = pytrace-report
EXPORT  = pytrace-export
CTL     = pytrace-ctl
ATTACH  = pytrace-attach
CLI     = pytrace

# Sources by where they run (README.md, "Source layout").  A file is built
# into a target only when it is listed here.
#  shim/common: plain C, no Python, no threads: one static archive, linked
#  into the library, the tools, the unit tests and the fuzzer.
COMMON_SRCS = shim/common/conf.c shim/common/format.c shim/common/log.c \
              shim/common/path.c shim/common/pattern.c shim/common/program.c \
              shim/common/recfmt.c shim/common/rules.c shim/common/scope.c \
              shim/common/settings.c \
              shim/common/source.c
COMMON  = shim/common/libpytrace-common.a
#  shim/lib: only in libpytrace.so, inside the traced process.
LIB_SRCS = shim/lib/audithook.c shim/lib/codemap.c shim/lib/control.c \
           shim/lib/follow.c shim/lib/frames.c shim/lib/init.c shim/lib/interpose.c \
           shim/lib/layout.c shim/lib/monitor.c \
           shim/lib/output.c shim/lib/pyapi.c shim/lib/record.c \
           shim/lib/scoped.c shim/lib/scopes.c shim/lib/settrace.c shim/lib/standby.c shim/lib/start.c \
           shim/lib/state.c shim/lib/subinterp.c shim/lib/threadstart.c \
           shim/lib/trace.c shim/lib/tracing.c
#  shim/tools: the command-line programs.
CHECK_SRCS   = shim/tools/check.c
SUMMARY_SRCS = shim/tools/summary.c shim/tools/recread.c shim/tools/textread.c
REPLAY_SRCS  = shim/tools/replay.c shim/tools/recread.c
REPORT_SRCS  = shim/tools/report.c shim/tools/recread.c shim/tools/textread.c
EXPORT_SRCS  = shim/tools/export.c shim/tools/recread.c
CTL_SRCS     = shim/tools/ctl.c
ATTACH_SRCS  = shim/tools/attach.c

COMMON_OBJS = $(COMMON_SRCS:.c=.o)
LIB_OBJS    = $(LIB_SRCS:.c=.o)
# What the unit tests take of the library and the tools: the writer, and
# the per-code cache with stand-ins for libpython.
UNIT_OBJS   = shim/lib/output.o shim/lib/record.o shim/lib/codemap.o \
              shim/lib/pyapi.o shim/lib/layout.o shim/lib/state.o \
              shim/tools/recread.o

.PHONY: all install uninstall clean check unit demo deps bench fuzz check-sanitize \
        deb rpm

all: $(LIB) $(CHECK) $(SUMMARY) $(REPLAY) $(REPORT) $(EXPORT) $(CTL) $(ATTACH) $(CLI)

# Linked aside, then renamed: processes that have the library mapped (a
# traced service, a running test) keep the old file intact.
$(LIB): $(LIB_OBJS) $(COMMON)
	$(CC) $(CFLAGS) $(PT_LDFLAGS) $(LDFLAGS) -o $@.tmp $(LIB_OBJS) $(COMMON) \
	    $(PT_LDLIBS)
	mv -f $@.tmp $@

$(COMMON): $(COMMON_OBJS)
	rm -f $@
	$(AR) rcs $@ $(COMMON_OBJS)

$(CHECK): $(CHECK_SRCS:.c=.o) $(TOOL_START) $(COMMON)
	$(CC) $(CFLAGS) $(TOOL_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PT_LDLIBS)

$(SUMMARY): $(SUMMARY_SRCS:.c=.o) $(TOOL_START) $(COMMON)
	$(CC) $(CFLAGS) $(TOOL_LDFLAGS) $(LDFLAGS) -o $@ $^

$(REPLAY): $(REPLAY_SRCS:.c=.o) $(TOOL_START) $(COMMON)
	$(CC) $(CFLAGS) $(TOOL_LDFLAGS) $(LDFLAGS) -o $@ $^

$(REPORT): $(REPORT_SRCS:.c=.o) $(TOOL_START) $(COMMON)
	$(CC) $(CFLAGS) $(TOOL_LDFLAGS) $(LDFLAGS) -o $@ $^

# zlib writes OUT.gz (zlib1g: in every Debian base system)
$(EXPORT): $(EXPORT_SRCS:.c=.o) $(TOOL_START) $(COMMON)
	$(CC) $(CFLAGS) $(TOOL_LDFLAGS) $(LDFLAGS) -o $@ $^ -lz

$(CTL): $(CTL_SRCS:.c=.o) $(TOOL_START) $(COMMON)
	$(CC) $(CFLAGS) $(TOOL_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PT_LDLIBS)

# The attaching tool needs nothing of shim/common: ptrace, /proc, ELF.
$(ATTACH): $(ATTACH_SRCS:.c=.o) $(TOOL_START)
	$(CC) $(CFLAGS) $(TOOL_LDFLAGS) $(LDFLAGS) -o $@ $^ $(PT_LDLIBS)

# The command, with the paths of this tree (make) or of the installation
# (make install) filled in.
define make_cli
	sed -e 's|@LIB@|$(1)/$(LIB)|' -e 's|@CHECK@|$(2)/$(CHECK)|' \
	    -e 's|@SUMMARY@|$(2)/$(SUMMARY)|' -e 's|@REPLAY@|$(2)/$(REPLAY)|' \
	    -e 's|@REPORT@|$(2)/$(REPORT)|' \
	    -e 's|@EXPORT@|$(2)/$(EXPORT)|' \
	    -e 's|@CTL@|$(2)/$(CTL)|' -e 's|@ATTACH@|$(2)/$(ATTACH)|' \
	    -e 's|@VERSION@|$(VERSION)|' \
	    shim/tools/pytrace.in >$(3) && chmod 0755 $(3)
endef

$(CLI): shim/tools/pytrace.in Makefile
	$(call make_cli,$(CURDIR),$(CURDIR),$@)

$(GLIBC_H): shim/common/glibc-compat Makefile
	shim/common/glibc-compat "$(CC)" $(GLIBC_MIN) >$@.tmp
	mv -f $@.tmp $@

# Each folder sees its own headers and common's, nothing else: common
# cannot include the library's or the tools' headers.
shim/common/%.o: shim/common/%.c shim/common/*.h $(GLIBC_H) Makefile
	$(CC) $(CFLAGS) $(PT_CFLAGS) -Ishim/common $(CPPFLAGS) -c -o $@ $<

shim/lib/%.o: shim/lib/%.c shim/lib/*.h shim/common/*.h $(GLIBC_H) Makefile
	$(CC) $(CFLAGS) $(PT_CFLAGS) -Ishim/common -Ishim/lib $(CPPFLAGS) -c -o $@ $<

# The exported pthread_create cannot be built with the header that binds
# that name to libc's old version (see the file).
NOCOMPAT_SRCS = shim/lib/threadstart.c
PT_CFLAGS_NOCOMPAT = $(filter-out -include $(GLIBC_H),$(PT_CFLAGS))
shim/lib/threadstart.o: shim/lib/threadstart.c shim/lib/*.h shim/common/*.h Makefile
	$(CC) $(CFLAGS) $(PT_CFLAGS_NOCOMPAT) -Ishim/common -Ishim/lib $(CPPFLAGS) \
	    -c -o $@ $<

shim/tools/%.o: shim/tools/%.c shim/tools/*.h shim/common/*.h $(GLIBC_H) Makefile
	$(CC) $(CFLAGS) $(PT_CFLAGS) -Ishim/common -Ishim/tools $(CPPFLAGS) -c -o $@ $<

tests/unit/unit: tests/unit/unit.c $(UNIT_OBJS) $(COMMON) shim/*/*.h
	$(CC) $(CFLAGS) -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) \
	    -Ishim/common -Ishim/lib -Ishim/tools -o $@ tests/unit/unit.c \
	    $(UNIT_OBJS) $(COMMON) $(PT_LDLIBS)

# The configuration files go to DOCDIR as examples: a file at
# $(SYSCONFDIR)/pytrace.conf would be read by every traced process.  The
# example drop-ins name the library where this installation puts it.
HELPERS = $(CHECK) $(SUMMARY) $(REPLAY) $(REPORT) $(EXPORT) $(CTL) $(ATTACH)
DROPINS = $(wildcard examples/systemd/*.service.d/pytrace.conf)
install: $(LIB) $(HELPERS)
	install -d $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(HELPERDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(COMPLETIONDIR)
	install -m 0755 $(LIB) $(DESTDIR)$(PKGLIBDIR)/$(LIB)
	install -m 0755 $(HELPERS) $(DESTDIR)$(HELPERDIR)/
	$(call make_cli,$(PKGLIBDIR),$(HELPERDIR),$(DESTDIR)$(BINDIR)/$(CLI))
	install -m 0644 man/pytrace.1 $(DESTDIR)$(MANDIR)/man1/pytrace.1
	install -m 0644 man/pytrace.conf.5 $(DESTDIR)$(MANDIR)/man5/pytrace.conf.5
	install -m 0644 conf/*.conf $(DESTDIR)$(DOCDIR)/examples/
	for f in $(DROPINS); do \
	    d=$(DESTDIR)$(DOCDIR)/$$(dirname $$f) && install -d $$d && \
	    sed 's|/usr/local/lib/pytrace/$(LIB)|$(PKGLIBDIR)/$(LIB)|' $$f >$$d/pytrace.conf && \
	    chmod 0644 $$d/pytrace.conf || exit 1; \
	done
	install -m 0644 shim/tools/pytrace.bash-completion $(DESTDIR)$(COMPLETIONDIR)/pytrace

uninstall:
	rm -f $(DESTDIR)$(PKGLIBDIR)/$(LIB) $(addprefix $(DESTDIR)$(HELPERDIR)/,$(HELPERS)) \
	    $(DESTDIR)$(BINDIR)/$(CLI) $(DESTDIR)$(COMPLETIONDIR)/pytrace \
	    $(DESTDIR)$(MANDIR)/man1/pytrace.1 $(DESTDIR)$(MANDIR)/man5/pytrace.conf.5 \
	    $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(wildcard conf/*.conf))) \
	    $(addprefix $(DESTDIR)$(DOCDIR)/,$(DROPINS))
	-rmdir $(addprefix $(DESTDIR)$(DOCDIR)/,$(patsubst %/,%,$(dir $(DROPINS)))) \
	    $(DESTDIR)$(DOCDIR)/examples/systemd $(DESTDIR)$(DOCDIR)/examples \
	    $(DESTDIR)$(DOCDIR) $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(HELPERDIR) 2>/dev/null

clean:
	rm -f $(LIB) $(LIB).tmp $(CHECK) $(SUMMARY) $(REPLAY) $(REPORT) $(EXPORT) $(CTL) \
	    $(ATTACH) $(CLI) \
	    $(COMMON) $(GLIBC_H) $(GLIBC_H).tmp \
	    shim/*/*.o tests/unit/unit
	rm -rf tests/.fuzz tests/.asan build

# Packages, built from a clean copy of the sources in PKGDIR (the tree is
# left as it is): `make deb` with dpkg-buildpackage and debian/,
# `make rpm` with rpmbuild and pytrace.spec.  Both install with the
# install target above.  On Debian, rpmbuild does not check BuildRequires
# (--nodeps): its rpm database knows none of Debian's packages.
PKGDIR     ?= build
PKG_OUT     = $(abspath $(PKGDIR))
PKG_SRC     = $(PKG_OUT)/src/pytrace-$(VERSION)
DIST        = Makefile README.md conf debian examples/systemd man pytrace.spec shim
RPMBUILD_FLAGS ?= $(if $(wildcard /etc/debian_version),--nodeps)

define copy_sources
	rm -rf $(PKG_OUT)/src && mkdir -p $(PKG_SRC)
	tar -cf - $(DIST) | tar -xf - -C $(PKG_SRC)
	$(MAKE) -s -C $(PKG_SRC) clean
endef

deb:
	$(copy_sources)
	rm -rf $(PKG_OUT)/deb && mkdir -p $(PKG_OUT)/deb
	mv $(PKG_SRC) $(PKG_OUT)/deb/
	cd $(PKG_OUT)/deb/pytrace-$(VERSION) && dpkg-buildpackage -us -uc -b -jauto
	rm -rf $(PKG_OUT)/deb/pytrace-$(VERSION) $(PKG_OUT)/src
	@ls $(PKG_OUT)/deb/*.deb

rpm:
	$(copy_sources)
	rm -rf $(PKG_OUT)/rpm && mkdir -p $(PKG_OUT)/rpm/SOURCES
	tar -C $(PKG_OUT)/src -czf $(PKG_OUT)/rpm/SOURCES/pytrace-$(VERSION).tar.gz pytrace-$(VERSION)
	rpmbuild -bb $(RPMBUILD_FLAGS) --define '_topdir $(PKG_OUT)/rpm' pytrace.spec
	rm -rf $(PKG_OUT)/src $(PKG_OUT)/rpm/BUILD $(PKG_OUT)/rpm/BUILDROOT
	@ls $(PKG_OUT)/rpm/RPMS/*/*.rpm

# `make check` and `make demo` first install what is missing (apt-get as
# root, otherwise they print the command), then build.
deps:
	@tests/deps test

unit: tests/unit/unit
	tests/unit/unit

check:
	@tests/deps test
	@$(MAKE) --no-print-directory all tests/unit/unit
	tests/run

demo:
	@tests/deps build
	@$(MAKE) --no-print-directory $(LIB) $(REPORT)
	@examples/demo/run

# Wall-time ratios and peak RSS against untraced runs, with targets, on
# each interpreter, and pytrace summary and report against grep on a 1 GiB
# trace; about 10 minutes (not a test: timings are noisy).  BENCH_* variables: see
# tests/bench/bench.
bench: $(LIB) $(SUMMARY) $(REPORT)
	tests/bench/bench

# Fuzz the parsers of the environment, the configuration file, the output
# pattern, the format, paths and record files (libFuzzer, with ASan and
# UBSan) for FUZZ_SECONDS; a crash, a leak or undefined behaviour fails it.
# The record files of the corpus are traces of the fixture program and of
# one that sets its own trace function (a notice), and scope entries.
FUZZ_SECONDS ?= 60
FUZZ_SRCS = tests/fuzz/fuzz.c $(COMMON_SRCS) shim/tools/recread.c
fuzz: $(LIB) tests/unit/unit
	@mkdir -p tests/.fuzz/corpus
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Ishim/common -Ishim/tools \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -o tests/.fuzz/fuzz $(FUZZ_SRCS) -ldl -lpthread
	@for f in conf/*.conf; do (printf '\001'; cat $$f) >tests/.fuzz/corpus/$$(basename $$f); done
	@for fmt in '{path}({line}): {source}' '{tid} {time} {elapsed} {indent}{function}'; do \
	    rm -f tests/.fuzz/rec; \
	    LD_PRELOAD=$(CURDIR)/$(LIB) PYTRACE_OUTPUT_MODE=record PYTRACE_CALL_LINES=1 \
	    PYTRACE_IGNORE_DIRS=/usr:/lib:/opt:$$HOME/.pyenv \
	    PYTRACE_OUTPUT=tests/.fuzz/rec PYTRACE_FORMAT="$$fmt" python3 \
	    tests/fixtures/app/main.py >/dev/null 2>&1; \
	    (printf '\004'; cat tests/.fuzz/rec) >"tests/.fuzz/corpus/rec.$${#fmt}"; \
	done
	@# notices: a program that sets its own trace function (a NOTE record
	@# on 3.8-3.11, a file without one elsewhere)
	@rm -f tests/.fuzz/rec; \
	    printf 'def f():\n    return 1\nf()\nimport sys\nsys.settrace(lambda *a: None)\n' \
	    >tests/.fuzz/own.py; \
	    LD_PRELOAD=$(CURDIR)/$(LIB) PYTRACE_OUTPUT_MODE=record \
	    PYTRACE_OUTPUT=tests/.fuzz/rec python3 tests/.fuzz/own.py >/dev/null 2>&1; \
	    (printf '\004'; cat tests/.fuzz/rec) >tests/.fuzz/corpus/rec.notice
	@# the timeline (ENTER and LEAVE records): the fixture of its calls
	@rm -f tests/.fuzz/rec; \
	    LD_PRELOAD=$(CURDIR)/$(LIB) PYTRACE_OUTPUT_MODE=record PYTRACE_TIMELINE=1 \
	    PYTRACE_IGNORE_DIRS=/usr:/lib:/opt:$$HOME/.pyenv \
	    PYTRACE_OUTPUT=tests/.fuzz/rec python3 tests/fixtures/calls.py >/dev/null 2>&1; \
	    (printf '\004'; cat tests/.fuzz/rec) >tests/.fuzz/corpus/rec.timeline
	@# scope entries (SCOPE records), from the unit tests' record writer
	@rm -f tests/.fuzz/rec; \
	    printf 'thread 7\nscope app.util C.connect\nline %s 1 2\nthread 8\nline %s 3\n' \
	    $(CURDIR)/tests/fixtures/app/main.py $(CURDIR)/tests/fixtures/app/main.py | \
	    tests/unit/unit records tests/.fuzz/rec '{tid} {path}({line})' && \
	    (printf '\004'; cat tests/.fuzz/rec) >tests/.fuzz/corpus/rec.scope
	LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp \
	    tests/.fuzz/fuzz -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=2 \
	    -max_len=4096 -artifact_prefix=tests/.fuzz/ tests/.fuzz/corpus

# The whole suite against an AddressSanitizer + UBSan build of the library
# (tests/.asan/); fails on any sanitizer report.  About 10 minutes.
check-sanitize: all tests/unit/unit
	tests/sanitize
