# SPDX-License-Identifier: MIT
# pytrace: see README.md.  `make`, `make check`, `make demo`, `make install`.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
SYSCONFDIR ?= /etc
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/pytrace
DESTDIR    ?=

CC      ?= cc
CFLAGS  ?= -O2 -g
# WERROR=-Werror turns warnings into errors (CI does).
WERROR  ?=
PT_CFLAGS  = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -fPIC \
             -fvisibility=hidden $(WERROR) \
             -DPYTRACE_SYSCONFDIR='"$(SYSCONFDIR)"'
PT_LDFLAGS = -shared -Wl,--no-undefined -Wl,-z,relro -Wl,-z,now
PT_LDLIBS  = -ldl -lpthread

VERSION = 0.1
LIB     = libpytrace.so
CHECK   = pytrace-check
SUMMARY = pytrace-summary
REPLAY  = pytrace-replay
CLI     = pytrace
# The programs' own files; every other shim/*.c is the library's.
TOOL_SRCS = shim/check.c shim/summary.c shim/replay.c shim/recread.c
SRCS    = $(filter-out $(TOOL_SRCS),$(wildcard shim/*.c))
OBJS  = $(SRCS:.c=.o)
# Objects that need no Python: linked into the unit tests and pytrace-check.
PURE_OBJS = shim/path.o shim/settings.o shim/rules.o shim/output.o \
            shim/source.o shim/log.o shim/conf.o shim/program.o \
            shim/format.o
# Reading record files back (pytrace replay, pytrace summary).
READ_OBJS = shim/recread.o shim/recfmt.o

.PHONY: all install uninstall clean check unit demo deps bench fuzz check-sanitize

all: $(LIB) $(CHECK) $(SUMMARY) $(REPLAY) $(CLI)

# Linked aside, then renamed: processes that have the library mapped (a
# traced service, a running test) keep the old file intact.
$(LIB): $(OBJS)
	$(CC) $(CFLAGS) $(PT_LDFLAGS) $(LDFLAGS) -o $@.tmp $(OBJS) $(PT_LDLIBS)
	mv -f $@.tmp $@

$(CHECK): shim/check.o $(PURE_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ shim/check.o $(PURE_OBJS) $(PT_LDLIBS)

$(SUMMARY): shim/summary.o $(READ_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ shim/summary.o $(READ_OBJS)

$(REPLAY): shim/replay.o $(READ_OBJS) shim/format.o shim/source.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ shim/replay.o $(READ_OBJS) \
	    shim/format.o shim/source.o

# The command, with the paths of this tree (make) or of the installation
# (make install) filled in.
define make_cli
	sed -e 's|@LIB@|$(1)/$(LIB)|' -e 's|@CHECK@|$(2)/$(CHECK)|' \
	    -e 's|@SUMMARY@|$(2)/$(SUMMARY)|' -e 's|@REPLAY@|$(2)/$(REPLAY)|' \
	    -e 's|@VERSION@|$(VERSION)|' \
	    shim/pytrace.in >$(3) && chmod 0755 $(3)
endef

$(CLI): shim/pytrace.in Makefile
	$(call make_cli,$(CURDIR),$(CURDIR),$@)

shim/%.o: shim/%.c shim/*.h Makefile
	$(CC) $(CFLAGS) $(PT_CFLAGS) $(CPPFLAGS) -c -o $@ $<

# codemap.o and pyapi.o run there with stand-ins for libpython.
UNIT_OBJS = $(PURE_OBJS) shim/record.o shim/codemap.o shim/pyapi.o $(READ_OBJS)
tests/unit/unit: tests/unit/unit.c $(UNIT_OBJS) shim/*.h
	$(CC) $(CFLAGS) -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR) \
	    -Ishim -o $@ tests/unit/unit.c $(UNIT_OBJS) $(PT_LDLIBS)

# The configuration files go to DOCDIR as examples: a file at
# $(SYSCONFDIR)/pytrace.conf would be read by every traced process.
install: $(LIB) $(CHECK) $(SUMMARY) $(REPLAY)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR)
	install -m 0755 $(LIB) $(DESTDIR)$(LIBDIR)/$(LIB)
	install -m 0755 $(CHECK) $(DESTDIR)$(BINDIR)/$(CHECK)
	install -m 0755 $(SUMMARY) $(DESTDIR)$(BINDIR)/$(SUMMARY)
	install -m 0755 $(REPLAY) $(DESTDIR)$(BINDIR)/$(REPLAY)
	$(call make_cli,$(LIBDIR),$(BINDIR),$(DESTDIR)$(BINDIR)/$(CLI))
	install -m 0644 man/pytrace.1 $(DESTDIR)$(MANDIR)/man1/pytrace.1
	install -m 0644 man/pytrace.conf.5 $(DESTDIR)$(MANDIR)/man5/pytrace.conf.5
	install -m 0644 conf/*.conf $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(LIB) $(DESTDIR)$(BINDIR)/$(CHECK) \
	    $(DESTDIR)$(BINDIR)/$(SUMMARY) $(DESTDIR)$(BINDIR)/$(REPLAY) \
	    $(DESTDIR)$(BINDIR)/$(CLI) \
	    $(DESTDIR)$(MANDIR)/man1/pytrace.1 $(DESTDIR)$(MANDIR)/man5/pytrace.conf.5 \
	    $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(wildcard conf/*.conf)))
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -f $(LIB) $(LIB).tmp $(CHECK) $(SUMMARY) $(REPLAY) $(CLI) shim/*.o tests/unit/unit
	rm -rf tests/.fuzz tests/.asan

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
	@$(MAKE) --no-print-directory $(LIB)
	@examples/demo/run

# Wall-time ratios and peak RSS against untraced runs, with targets, on
# each interpreter, and pytrace summary against grep on a 1 GiB trace; about
# 10 minutes (not a test: timings are noisy).  BENCH_* variables: see
# tests/bench/bench.
bench: $(LIB) $(SUMMARY)
	tests/bench/bench

# Fuzz the parsers of the environment, the configuration file, the output
# pattern, the format, paths and record files (libFuzzer, with ASan and
# UBSan) for FUZZ_SECONDS; a crash, a leak or undefined behaviour fails it.
# The record files of the corpus are traces of the fixture program.
FUZZ_SECONDS ?= 60
FUZZ_SRCS = tests/fuzz/fuzz.c shim/settings.c shim/conf.c shim/format.c \
            shim/output.c shim/path.c shim/rules.c shim/log.c \
            shim/recread.c shim/recfmt.c
fuzz: $(LIB)
	@mkdir -p tests/.fuzz/corpus
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Ishim \
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
	LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp \
	    tests/.fuzz/fuzz -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=2 \
	    -max_len=4096 -artifact_prefix=tests/.fuzz/ tests/.fuzz/corpus

# The whole suite against an AddressSanitizer + UBSan build of the library
# (tests/.asan/); fails on any sanitizer report.  About 10 minutes.
check-sanitize: all tests/unit/unit
	tests/sanitize
