# SPDX-License-Identifier: MIT
# pytrace report: the HTML page of a trace.  Gold file, agreement with
# pytrace summary and between text and record traces, hostile names and
# source, changed and missing sources, several processes, bad input,
# bounded memory, and a real browser (chromium, headless) doing what a
# user does on the page.

load helper

setup() {
	D=$BATS_TEST_TMPDIR
	RF=$PT_FIX/report
	PT=$PT_ROOT/pytrace
	PY=$(host_python)
	SYS=$(PYTHON=$PY sys_dirs)
}

# fixture_trace: the committed trace of tests/fixtures/report/prog.py,
# with the paths of this tree, as $D/t.
fixture_trace() {
	sed "s|@DIR@|$RF|g" "$RF/trace.txt" >"$D/t"
}

# section ID FILE: the part of a report from <section id="ID"> (or of
# class file, "f0") to its end.
section() {
	sed -n "/<section [^>]*id=\"$1\"/,/<\/section>/p" "$2"
}

# runs FILE: the runs of a report as pytrace summary prints them.
runs() {
	sed -n 's|^<li><span class="c">\([0-9]*\)</span><a href="#f[0-9]*-L[0-9]*">\(.*\)</a>:[0-9]*</li>$|\1 \2|p' "$1" |
		awk '{ printf "%7d %s\n", $1, substr($0, length($1) + 2) }'
}

# browse REPORT FILTER LINE: load REPORT in chromium through the harness,
# which filters by FILTER, sorts, opens LINE, opens the first collapsed
# stretch of its file and clicks a line's number; prints what the page
# showed, as JSON.
browse() {
	command -v chromium >/dev/null || {
		[ "${CI:-}" != true ] || fail "chromium is missing (tests/deps installs it)"
		skip "chromium is not installed"
	}
	local url="file://$RF/harness.html?report=file://$1&filter=$2&line=$3"
	timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$D/chromium" --allow-file-access-from-files \
		--virtual-time-budget=10000 --dump-dom "$url" 2>/dev/null |
		sed -n 's|.*<pre id="result">\(.*\)</pre>.*|\1|p' >"$D/dom.json"
	cat "$D/dom.json"
}

# dom KEY: a value of the JSON browse wrote (as the DOM serialised it:
# escaped), as Python prints it.
dom() {
	python3 -c 'import html, json, sys
print(json.loads(html.unescape(open(sys.argv[1]).read())).get(sys.argv[2]))' "$D/dom.json" "$1"
}

@test "report: the page of the fixture trace is the gold file" {
	fixture_trace
	run "$PT" report "$D/t" -o "$D/r.html"
	assert_success
	assert_output ""
	sed -e "s|$RF|@DIR@|g" -e "s|$D/t|@TRACE@|g" "$D/r.html" >"$D/r.norm"
	diff -u "$RF/trace.html" "$D/r.norm"
}

@test "report: counts, first-reached order, collapsed stretches and runs as the trace says" {
	fixture_trace
	"$PT" report "$D/t" -o "$D/r.html"
	section f0 "$D/r.html" >"$D/prog"
	# the loop body: 5 times, the 10th distinct line reached
	assert_file_contains "$D/prog" '^<p class=r id=f0-L28><a>28</a><b>5</b><i>10</i><code>        total += square(i)</code></p>$'
	# square's body: 5 calls in the loop and one more
	assert_file_contains "$D/prog" '^<p class=r id=f0-L22><a>22</a><b>6</b>'
	# a line that never ran is plain
	assert_file_contains "$D/prog" '^<p id=f0-L34><a>34</a><code>        print(&quot;never&quot;)</code></p>$'
	# the body of never_called (lines 8-20), but two lines at each end
	assert_file_contains "$D/prog" '^<details class="gap"><summary>9 lines not run (10&ndash;18)</summary><pre>    10                      y = x + 1$'
	assert_file_contains "$D/prog" '^    18                      return y$'
	# the index: files by lines executed, with their share
	assert_file_contains "$D/r.html" "<a href=\"#f0\">$RF/prog.py</a></td><td data-v=\"29\">29</td><td data-v=\"15\">15</td><td data-v=\"0.878788\">87.9%</td>"
	assert_file_contains "$D/r.html" "<a href=\"#f1\">$RF/helper.py</a></td><td data-v=\"4\">4</td><td data-v=\"4\">4</td>"
	# the runs are summary's
	run "$PT" summary "$D/t"
	assert_equal "$(runs "$D/r.html")" "$(sed -n '/^# runs/,/^# lines per file/p' <<<"$output" | sed '1d;$d')"
}

@test "report: text and record traces of one run give the same page; the runs are summary's" {
	cd "$APP"
	"$PT" -o "$D/t" --ignore-dir "$SYS" "$PY" main.py >/dev/null
	"$PT" -o "$D/r" --record --format '{tid} {path}({line}): {source}' \
		--ignore-dir "$SYS" "$PY" main.py >/dev/null
	run "$PT" report "$D/t" -o "$D/t.html"
	assert_success
	run "$PT" report -o "$D/r.html" "$D/r"
	assert_success
	# all but the inputs and the processes
	diff <(grep -v '^<p>[0-9]* lines executed' "$D/t.html" | sed '/<h2>Processes/,/<h2>Runs/d') \
		<(grep -v '^<p>[0-9]* lines executed' "$D/r.html" | sed '/<h2>Processes/,/<h2>Runs/d')
	assert_equal "$(runs "$D/t.html")" "$(cut -d'(' -f1 "$D/t" | uniq -c)"
	# a trace with -g timings: the same page
	"$PT" -g -o "$D/g" --ignore-dir "$SYS" "$PY" main.py >/dev/null
	grep -q '^[0-9]*\.[0-9]* /' "$D/g"
	"$PT" report "$D/g" -o "$D/g.html"
	diff <(grep -v '^<p>[0-9]* lines executed' "$D/t.html") <(grep -v '^<p>[0-9]* lines executed' "$D/g.html")
	# the record file names the process and its two threads
	assert_equal "$(grep -c '^<tr><td>[0-9]*</td><td>[0-9]*</td><td>[0-9]*</td><td>[0-9]*</td></tr>$' "$D/r.html")" 2
	assert_file_contains "$D/t.html" "Text traces do not say which process"
	# --include, and standard input
	"$PT" report --include '/pkg/' - <"$D/t" >"$D/i.html"
	assert_equal "$(grep -c '^<tr data-path=' "$D/i.html")" 3
	assert_equal "$(runs "$D/i.html")" "$(grep -E '^[^(]*/pkg/' "$D/t" | cut -d'(' -f1 | uniq -c)"
}

@test "report: nothing in a trace puts markup or script into the page" {
	local bad="$D/<img src=x onerror=\"parent.pwned=1\">&'q'"
	mkdir -p "$bad"
	printf '%s\n' '# -*- coding: latin-1 -*-' 'x = "</code></div><script>parent.pwned=1</script>"' \
		"y = '<img src=x onerror=parent.pwned=1>' # & &amp; &#x3c;" \
		'z = "]]><!-- -->"' >"$bad/m<script>.py"
	printf 'w = "\xff\xfe not UTF-8 \x01\x1b[31m"\n' >>"$bad/m<script>.py"
	cd "$bad"
	"$PT" -o "$D/t" "$PY" "m<script>.py"
	"$PT" report "$D/t" -o "$D/r.html"
	# one script, the page's own; no element the trace could have made
	assert_equal "$(grep -c '<script' "$D/r.html")" 1
	python3 - "$D/r.html" <<-'EOF'
	import sys, html.parser, re, hashlib, base64
	class P(html.parser.HTMLParser):
	    def __init__(self):
	        super().__init__()
	        self.tags, self.script, self.in_script = [], "", False
	    def handle_starttag(self, tag, attrs):
	        self.tags.append(tag)
	        for k, v in attrs:
	            assert not k.startswith("on"), (tag, k, v)
	        self.in_script = tag == "script"
	    def handle_endtag(self, tag):
	        self.in_script = False
	    def handle_data(self, d):
	        if self.in_script:
	            self.script += d
	page = open(sys.argv[1], encoding="utf-8").read()   # valid UTF-8
	p = P()
	p.feed(page)
	assert p.tags.count("script") == 1, p.tags
	assert not {"img", "iframe", "object", "embed"} & set(p.tags), set(p.tags)
	# the policy allows that script alone, by its hash
	csp = re.search(r"script-src 'sha256-([^']+)'", page).group(1)
	assert base64.b64encode(hashlib.sha256(p.script.encode()).digest()).decode() == csp
	assert "\x1b" not in page and "\x01" not in page
	EOF
	# the source text and the path are there, as text
	assert_file_contains "$D/r.html" 'x = &quot;&lt;/code&gt;&lt;/div&gt;&lt;script&gt;parent.pwned=1&lt;/script&gt;&quot;'
	assert_file_contains "$D/r.html" "&lt;img src=x onerror=&quot;parent.pwned=1&quot;&gt;&amp;&#39;q&#39;/m&lt;script&gt;.py"
	assert_file_contains "$D/r.html" 'w = &quot;�� not UTF-8 ��\[31m&quot;'
	# and in a browser nothing of it runs
	browse "$D/r.html" "script" "f0-L2"
	assert_equal "$(dom pwned)" False
	assert_equal "$(dom elements)" "['script']"
	assert_equal "$(dom line_text)" 'x = "</code></div><script>parent.pwned=1</script>"'
	assert_equal "$(dom shown)" 1
}

@test "report: a source changed since it was traced is said, on stderr and in the page" {
	cp "$RF/prog.py" "$RF/helper.py" "$D/"
	"$PT" -o "$D/t" --ignore-dir "$SYS" "$PY" "$D/prog.py" >/dev/null
	"$PT" -o "$D/r" --record --ignore-dir "$SYS" "$PY" "$D/prog.py" >/dev/null
	run --separate-stderr "$PT" report "$D/t" -o "$D/a.html"
	assert_success
	assert_equal "$stderr" ""
	! grep -q "has changed since" "$D/a.html"
	# a line edited: the text trace tells by the source text it holds
	sed -i 's/return n \* n/return n ** 2/' "$D/prog.py"
	run --separate-stderr "$PT" report "$D/t" -o "$D/a.html"
	assert_success
	assert_equal "$stderr" "pytrace report: warning: $D/prog.py has changed since it was traced; its lines are shown as they are now"
	assert_file_contains "$D/a.html" "This file has changed since it was traced"
	assert_file_contains "$D/a.html" '<a href="#f0">.*(changed)</span>'
	# a record file, by the size and mtime it holds
	run --separate-stderr "$PT" report "$D/r" -o "$D/b.html"
	assert_equal "$stderr" "pytrace report: warning: $D/prog.py has changed since it was traced; its lines are shown as they are now"
	touch -d '2001-01-01' "$D/helper.py"
	run --separate-stderr "$PT" report "$D/r" -o "$D/b.html"
	[[ $stderr == *"$D/helper.py has changed since it was traced"* ]]
	# gone: its lines without their text
	rm "$D/helper.py"
	run --separate-stderr "$PT" report "$D/t" -o "$D/a.html"
	assert_success
	assert_file_contains "$D/a.html" "Its source cannot be read (No such file or directory)"
	assert_file_contains "$D/a.html" '^<p class=r id=f1-L2><a>2</a><b>1</b><i>[0-9]*</i><code></code></p>$'
}

@test "report: the files of a forked program's processes make one page" {
	printf '%s\n' 'import os' 'def f(who):' '    return who' 'pid = os.fork()' \
		'f("child" if pid == 0 else "parent")' 'if pid == 0:' '    os._exit(0)' \
		'os.waitpid(pid, 0)' >"$D/fork.py"
	"$PT" -o "$D/t.%p" --record --ignore-dir "$SYS" "$PY" "$D/fork.py"
	assert_equal "$(ls "$D"/t.* | wc -l)" 2
	run "$PT" report "$D"/t.* -o "$D/r.html"
	assert_success
	# two processes, the child's parent the other
	local parent child
	parent=$(sed -n 's|^<tr><td>\([0-9]*\)</td><td>[0-9]*</td><td>(not recorded)</td><td>7</td></tr>$|\1|p' "$D/r.html")
	child=$(sed -n "s|^<tr><td>\([0-9]*\)</td><td>$parent</td><td>(not recorded)</td><td>4</td></tr>\$|\1|p" "$D/r.html")
	[ -n "$parent" ] && [ -n "$child" ]
	# line 3 ran in each; line 8 in the parent alone
	assert_file_contains "$D/r.html" '^<p class=r id=f0-L3><a>3</a><b>2</b>'
	assert_file_contains "$D/r.html" '^<p class=r id=f0-L8><a>8</a><b>1</b>'
	assert_file_contains "$D/r.html" "^<p>11 lines executed, 8 distinct lines, in 1 files; from <code>$D/t.[0-9]*</code> (records, [47] lines), <code>$D/t.[0-9]*</code> (records, [47] lines).</p>$"
}

@test "report: bad input is one message and a failure, and no page is left" {
	run "$PT" report
	assert_failure
	assert_output --partial "usage: pytrace report"
	run "$PT" report "$D/none.trace" -o "$D/r.html"
	assert_failure
	assert_output "pytrace report: $D/none.trace: No such file or directory"
	assert_file_not_exists "$D/r.html"
	run "$PT" report "$D" -o "$D/r.html"
	assert_failure
	assert_output "pytrace report: $D: is a directory"
	fixture_trace
	run "$PT" report "$D/t" -o "$D/no/such/dir/r.html"
	assert_failure
	assert_output "pytrace report: $D/no/such/dir/r.html: No such file or directory"
	run "$PT" report --include '(' "$D/t"
	assert_failure
	assert_output --partial "bad regular expression '('"
	# a damaged record file: what decodes is reported, and it fails
	"$PT" -o "$D/rec" --record --ignore-dir "$SYS" "$PY" "$RF/prog.py" >/dev/null
	head -c -5 "$D/rec" >"$D/cut"
	run --separate-stderr "$PT" report "$D/cut" -o "$D/r.html"
	assert_failure
	assert_equal "$(wc -l <<<"$stderr")" 1
	assert_file_contains "$D/r.html" "prog.py</a>"
	assert_equal "$(ls "$D" | grep -c 'tmp')" 0
}

@test "report: memory stays bounded on a long trace, and the page small" {
	# 3 million lines (about 190 MB) over 40 files of 500 lines, in
	# 600,000 runs; the report keeps counts per line and 10,000 runs
	fixture_trace
	awk -v d="$D" 'BEGIN { for (i = 0; i < 3000000; i++) {
		f = int(i / 5) % 40; l = int(i / 200) % 500 + 1
		printf "%s/src/m%d.py(%d): x = %d\n", d, f, l, l } }' >"$D/big"
	python3 - "$PT" "$D/big" "$D/r.html" <<-'EOF'
	import resource, subprocess, sys
	subprocess.run([sys.argv[1], "report", sys.argv[2], "-o", sys.argv[3]], check=True)
	rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
	print("peak RSS %d KiB" % rss)
	assert rss < 24 * 1024, rss
	EOF
	assert_file_contains "$D/r.html" "^<p>3000000 lines executed, 20000 distinct lines, in 40 files"
	assert_file_contains "$D/r.html" "^<p>and 590000 more runs: <code>pytrace summary</code> lists them all.</p>$"
	[ "$(stat -c %s "$D/r.html")" -lt 4000000 ]
}

@test "report: in a real browser: the files listed, a marked line with its count, the filter, sorting, a collapsed stretch" {
	fixture_trace
	"$PT" report "$D/t" -o "$D/r.html"
	browse "$D/r.html" "help" "f0-L28"
	assert_equal "$(dom files)" "['$RF/prog.py', '$RF/helper.py']"
	assert_equal "$(dom scripts)" 1
	assert_equal "$(dom filtered)" "['$RF/helper.py']"
	assert_equal "$(dom shown)" 1
	assert_equal "$(dom sorted)" "['$RF/helper.py', '$RF/prog.py']"
	assert_equal "$(dom index_visible)" False
	assert_equal "$(dom line_visible)" True
	assert_equal "$(dom line_count)" 5
	assert_equal "$(dom line_order)" 10
	assert_equal "$(dom line_text)" "        total += square(i)"
	assert_equal "$(dom gap_before)" False
	assert_equal "$(dom gap_after)" True
	assert_equal "$(dom gap_first)" "10                      y = x + 1"
	assert_equal "$(dom clicked)" "#$(dom clicked_line)"
	# a screenshot of a real trace's page, kept with the test results
	cd "$APP"
	"$PT" -o "$D/app" --ignore-dir "$SYS" "$PY" main.py >/dev/null
	"$PT" report "$D/app" -o "$D/app.html"
	mkdir -p "$PT_ROOT/tests/.artifacts"
	timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$D/chromium" --window-size=1280,800 \
		--screenshot="$PT_ROOT/tests/.artifacts/report.png" "file://$D/app.html#f0-L12" 2>/dev/null
	[ "$(stat -c %s "$PT_ROOT/tests/.artifacts/report.png")" -gt 10000 ]
}
