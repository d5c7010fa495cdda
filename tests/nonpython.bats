# SPDX-License-Identifier: MIT
# Programs that are not Python, started with the library preloaded (the
# shells, tools and helpers a service runs), behave exactly as without it:
# same output, same status, no message, no file, no extra system calls.

load helper

setup() {
	export PYTRACE_OUTPUT=$BATS_TEST_TMPDIR/trace.%p
}

# same CMD...: CMD's stdout, stderr and status are identical with the
# library preloaded, and no trace file appears.
same() {
	local out err st tout terr tst
	out=$("$@" 2>"$BATS_TEST_TMPDIR/err") && st=0 || st=$?
	err=$(cat "$BATS_TEST_TMPDIR/err")
	tout=$(LD_PRELOAD=$PT_LIB "$@" 2>"$BATS_TEST_TMPDIR/err") && tst=0 || tst=$?
	terr=$(cat "$BATS_TEST_TMPDIR/err")
	assert_equal "$tout" "$out"
	assert_equal "$terr" "$err"
	assert_equal "$tst" "$st"
	run bash -c "ls '$BATS_TEST_TMPDIR' | grep -c '^trace'"
	assert_output 0
}

@test "bash and coreutils are unchanged" {
	same bash -c 'echo hello; echo oops >&2; exit 3'
	same ls -la "$PT_ROOT/shim"
	same sort -r /etc/passwd
	same sh -c 'printf "%s\n" a b | wc -l'
}

@test "a C program is unchanged, also with bad pytrace settings" {
	printf '#include <stdio.h>\nint main(void) { puts("c program"); return 5; }\n' >"$BATS_TEST_TMPDIR/p.c"
	cc -o "$BATS_TEST_TMPDIR/p" "$BATS_TEST_TMPDIR/p.c"
	same "$BATS_TEST_TMPDIR/p"
	PYTRACE_ENABLE=bogus PYTRACE_OUTPUT=/nonexistent/%z same "$BATS_TEST_TMPDIR/p"
}

@test "a threaded C program is unchanged (pytrace's pthread_create passes the call on)" {
	cat >"$BATS_TEST_TMPDIR/t.c" <<-'C'
	#include <pthread.h>
	#include <stdio.h>
	static void *work(void *arg) { return (char *)arg + 1; }
	int main(void)
	{
		pthread_t t[4];
		pthread_attr_t a;
		void *r;
		long sum = 0;
		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 1 << 20);
		for (long i = 0; i < 4; i++)
			if (pthread_create(&t[i], i % 2 ? &a : NULL, work, (char *)0 + i) != 0)
				return 1;
		for (int i = 0; i < 4; i++) {
			pthread_join(t[i], &r);
			sum += (char *)r - (char *)0;
		}
		printf("sum %ld\n", sum);
		return 7;
	}
	C
	cc -o "$BATS_TEST_TMPDIR/t" "$BATS_TEST_TMPDIR/t.c" -lpthread
	run "$BATS_TEST_TMPDIR/t"
	assert_output "sum 10"
	same "$BATS_TEST_TMPDIR/t"
}

@test "a C program that ignores SIGPIPE (where pytrace starts 3.6 and 3.7) is unchanged" {
	cc -o "$BATS_TEST_TMPDIR/sigpipe" "$PT_FIX/sigpipe.c"
	same "$BATS_TEST_TMPDIR/sigpipe"
	run "$BATS_TEST_TMPDIR/sigpipe"
	assert_equal "$status" 3
	assert_output "SIGPIPE was default, is ignored
write: -1 (Broken pipe)"
}

@test "a non-Python program makes no system call for pytrace beyond loading it" {
	command -v strace >/dev/null || skip "strace is not installed"
	strace -f -qq -o "$BATS_TEST_TMPDIR/plain" /bin/true
	LD_PRELOAD=$PT_LIB strace -f -qq -o "$BATS_TEST_TMPDIR/pre" /bin/true
	# Loading the library: openat of it, read of its ELF header, fstat,
	# mmap, mprotect, close; the same for libdl.so.2 and libpthread.so.0,
	# which it names for glibc before 2.34 (empty in newer glibc).  The
	# failed dlsym() that finds no Python allocates its error message:
	# malloc's first brk and getrandom.  Nothing else: no other file
	# opened, nothing written.
	calls() {
		sed -E 's/^[0-9]+ +//; s/\(.*//' "$1"
	}
	local extra
	extra=$(diff <(calls "$BATS_TEST_TMPDIR/plain") <(calls "$BATS_TEST_TMPDIR/pre") |
		sed -n 's/^> //p' | sort -u | tr '\n' ' ')
	run bash -c "tr ' ' '\n' <<<'$extra' | grep -vxE 'brk|close|getrandom|mmap|mprotect|newfstatat|openat|read|'"
	assert_output ""
	run grep -c openat "$BATS_TEST_TMPDIR/pre"
	local n_pre=$output
	run grep -c openat "$BATS_TEST_TMPDIR/plain"
	assert_equal "$n_pre" $((output + 3))
	assert_file_contains "$BATS_TEST_TMPDIR/pre" "openat(.*libpytrace.so"
	assert_file_contains "$BATS_TEST_TMPDIR/pre" "openat(.*/libdl.so.2"
	assert_file_contains "$BATS_TEST_TMPDIR/pre" "openat(.*/libpthread.so.0"
}
