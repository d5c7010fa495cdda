# SPDX-License-Identifier: MIT
# The ignore rules: PYTRACE_IGNORE_DIRS (':' list, ~ and $VAR expanded,
# matched as a directory prefix of the module's file) and
# PYTRACE_IGNORE_MODULES (',' list of dotted names, each ignoring that module
# and its submodules).

load ../helper

setup() {
	TRACE=$BATS_TEST_TMPDIR/trace
	SYS=$(sys_dirs)
	W=$BATS_TEST_TMPDIR/w
	mkdir -p "$W/pk" "$W/pkg/deep" "$W/oslo_config" "$W/oslo_configx"
	# (not empty: an empty module runs no line on some versions)
	for p in pkg pkg/deep oslo_config oslo_configx; do
		echo 'X = 1' >"$W/$p/__init__.py"
	done
	echo 'def f(): return "pk"' >"$W/pk/pkmod.py"
	echo 'def f(): return "pkg.deep.mod"' >"$W/pkg/deep/mod.py"
	echo 'def f(): return "oslo_config.cfg"' >"$W/oslo_config/cfg.py"
	echo 'def f(): return "oslo_configx.cfg"' >"$W/oslo_configx/cfg.py"
	cat >"$W/main.py" <<-'PY'
	import sys, os
	sys.path.insert(0, os.path.join(os.path.dirname(__file__), "pk"))
	import pkmod, pkg.deep.mod, oslo_config.cfg, oslo_configx.cfg
	for m in (pkmod, pkg.deep.mod, oslo_config.cfg, oslo_configx.cfg):
	    m.f()
	PY
}

# traced_files: the distinct files of the trace, relative to $W, sorted.
traced_files() {
	sed -n "s|^$W/\([^(]*\)(.*|\1|p" "$TRACE" | sort -u | tr '\n' ' '
}

run_w() {
	rm -f "$TRACE"	# pytrace appends to an existing file
	PYTRACE_OUTPUT=$TRACE PYTRACE_IGNORE_DIRS="$SYS${1:+:$1}" \
		PYTRACE_IGNORE_MODULES=${2:-} traced "$PYTHON" "$W/main.py"
}

@test "nothing ignored but the system directories: every file is traced" {
	run_w
	assert_equal "$(traced_files)" "main.py oslo_config/__init__.py oslo_config/cfg.py oslo_configx/__init__.py oslo_configx/cfg.py pk/pkmod.py pkg/__init__.py pkg/deep/__init__.py pkg/deep/mod.py "
}

@test "a module name ignores the module and its submodules, not names it prefixes" {
	run_w "" "oslo_config"
	assert_equal "$(traced_files)" "main.py oslo_configx/__init__.py oslo_configx/cfg.py pk/pkmod.py pkg/__init__.py pkg/deep/__init__.py pkg/deep/mod.py "
	run_w "" "pkg.deep, oslo_config.cfg"
	assert_equal "$(traced_files)" "main.py oslo_config/__init__.py oslo_configx/__init__.py oslo_configx/cfg.py pk/pkmod.py pkg/__init__.py "
}

@test "the main module is ignored by the name __main__" {
	run_w "" "__main__"
	assert_equal "$(traced_files)" "oslo_config/__init__.py oslo_config/cfg.py oslo_configx/__init__.py oslo_configx/cfg.py pk/pkmod.py pkg/__init__.py pkg/deep/__init__.py pkg/deep/mod.py "
}

@test "a directory ignores what lies below it, not a sibling it prefixes" {
	run_w "$W/pk"
	assert_equal "$(traced_files)" "main.py oslo_config/__init__.py oslo_config/cfg.py oslo_configx/__init__.py oslo_configx/cfg.py pkg/__init__.py pkg/deep/__init__.py pkg/deep/mod.py "
}

@test "directories are normalised: trailing slash, .. and // are accepted" {
	run_w "$W/pkg/deep/../deep//"
	assert_equal "$(traced_files)" "main.py oslo_config/__init__.py oslo_config/cfg.py oslo_configx/__init__.py oslo_configx/cfg.py pk/pkmod.py pkg/__init__.py "
}

@test "~ and \$VAR are expanded in directories; an unset \$VAR is kept" {
	HOME=$W run_w "~/pkg"
	assert_equal "$(traced_files)" "main.py oslo_config/__init__.py oslo_config/cfg.py oslo_configx/__init__.py oslo_configx/cfg.py pk/pkmod.py "
	WHERE=$W run_w '${WHERE}/pk:$WHERE/oslo_config'
	assert_equal "$(traced_files)" "main.py oslo_configx/__init__.py oslo_configx/cfg.py pkg/__init__.py pkg/deep/__init__.py pkg/deep/mod.py "
	run_w '$PYTRACE_UNSET_VARIABLE/pk'
	assert_equal "$(traced_files)" "main.py oslo_config/__init__.py oslo_config/cfg.py oslo_configx/__init__.py oslo_configx/cfg.py pk/pkmod.py pkg/__init__.py pkg/deep/__init__.py pkg/deep/mod.py "
}

@test "a relative directory is taken from the directory the program started in" {
	cd "$W"
	run_w "pkg"
	assert_equal "$(traced_files)" "main.py oslo_config/__init__.py oslo_config/cfg.py oslo_configx/__init__.py oslo_configx/cfg.py pk/pkmod.py "
}

@test "without ignoring the standard library its lines are traced too" {
	echo 'import json; json.dumps([1])' >"$W/j.py"
	PYTRACE_OUTPUT=$TRACE traced "$PYTHON" "$W/j.py"
	assert_file_contains "$TRACE" '/json/__init__.py([0-9]*): '
}

@test "a bad module name is one clear message and the program runs untraced" {
	PYTRACE_OUTPUT=$TRACE PYTRACE_IGNORE_MODULES='os,a b' run traced "$PYTHON" -c 'print("ran")'
	assert_success
	assert_line --index 0 --regexp "^pytrace\[[0-9]+\]: PYTRACE_IGNORE_MODULES: 'a b' is not a dotted module name; not tracing$"
	assert_line --index 1 "ran"
	assert_equal "${#lines[@]}" 2
	assert_file_not_exists "$TRACE"
}
