#!/bin/sh
# check.sh VTXSIM GUEST_DIR: the docs test. The documentation is checked
# against the program, so the two never drift (issue #10):
#
# - options: every option `VTXSIM -h` and `VTXSIM test -h` list is in
#   docs/user-guide.md (as `OPT...` in backticks) and in the man page
#   docs/vtxsim.1 (as a tag line of its rendered text);
# - man: docs/vtxsim.1 renders with groff (-man, ascii and utf8) without a
#   warning, and has the sections a man page needs;
# - debugger: every command `help` lists in the shell gives `help NAME`
#   with a text, and appears in docs/debugger.md (as `NAME...`);
# - links: every relative link of README.md and docs/*.md points to an
#   existing file, and its #anchor to a heading of that file (GitHub's
#   slugs); links inside fenced code are not links;
# - self: the checker itself, on a copy of the docs with one option, one
#   debugger command and one link broken, reports exactly those three.
#
# DOCS_ROOT (default: the repository holding this script) is the tree whose
# README.md and docs/ are read; the self check sets it. Prints "ok NAME" or
# "FAIL NAME: why" per item, ends with "docs: N passed, M failed".
set -u

VTXSIM=${1:?usage: check.sh VTXSIM GUEST_DIR}
GUEST_DIR=${2:?usage: check.sh VTXSIM GUEST_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${DOCS_ROOT:-$(cd "$HERE/../.." && pwd)}
GUIDE=$ROOT/docs/user-guide.md
MAN=$ROOT/docs/vtxsim.1
DBGDOC=$ROOT/docs/debugger.md
KERNEL=$GUEST_DIR/examples/hello.elf
OUT=$GUEST_DIR/logs/docs
passed=0
failed=0
mkdir -p "$OUT" || exit 2

ok() { [ -n "${QUIET_OK:-}" ] || printf 'ok %s\n' "$1"; passed=$((passed + 1)); }
fail() { printf 'FAIL %s: %s\n' "$1" "$2"; failed=$((failed + 1)); }

# documented FILE TEXT: TEXT in backticks in FILE, followed by a space, a
# backtick, a comma, a bracket, `|`, `=` or `/` (so `-s` is not `-serial`).
documented() {
	grep -qF -- "\`$2\`" "$1" && return 0
	for c in ' ' ',' '[' '|' '=' '/'; do
		grep -qF -- "\`$2$c" "$1" && return 0
	done
	return 1
}

# ---- options ----

# options HELPTEXT: the option names of a -h text, one per line: the first
# word of each indented line that starts with '-', and "-h, --help" split.
options() {
	printf '%s\n' "$1" | sed -n 's/^  \(-[^ ,]*\)\(,* *\)\(--*[a-z][^ ]*\)\{0,1\}.*$/\1 \3/p' |
		tr ' ' '\n' | grep -- '^-' | sort -u
}

render_man() {
	groff -man -Tascii -P-cbou "$MAN" 2>/dev/null
}

check_options() {
	main_help=$("$VTXSIM" -h 2>&1)
	test_help=$("$VTXSIM" test -h 2>&1)
	render_man > "$OUT/vtxsim.1.txt"
	n=0
	for spec in "vtxsim:$main_help" "vtxsim test:$test_help"; do
		prog=${spec%%:*}
		opts=$(options "${spec#*:}")
		if [ -z "$opts" ]; then
			fail "options $prog" "'$prog -h' lists no option (has its format changed?)"
			continue
		fi
		for o in $opts; do
			n=$((n + 1))
			if ! documented "$GUIDE" "$o"; then
				fail "option $prog $o" "not in docs/user-guide.md (as \`$o ...\`)"
			elif ! grep -qE -- "^ +(-[-A-Za-z]*, )?$o( |,|\$)" "$OUT/vtxsim.1.txt"; then
				fail "option $prog $o" "not an option entry of docs/vtxsim.1 (a .TP tag starting with \\fB$o\\fR)"
			else
				ok "option $prog $o"
			fi
		done
	done
	# The -h texts list some 30 and 14 options; far fewer means the parse broke.
	[ "$n" -ge 40 ] && ok "options parsed ($n)" || fail "options parsed" "only $n options found in the -h texts"
}

# ---- the man page ----

check_man() {
	if ! command -v groff >/dev/null 2>&1; then
		fail "man render" "groff is not installed (scripts/deps.sh installs groff-base)"
		return
	fi
	for dev in ascii utf8; do
		warn=$(groff -man -T$dev -ww -z "$MAN" 2>&1)
		[ -z "$warn" ] && ok "man render $dev" || fail "man render $dev" "$(printf '%s' "$warn" | head -n 3 | tr '\n' ' ')"
	done
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" FILES EXAMPLES "SEE ALSO"; do
		grep -qx "$s" "$OUT/vtxsim.1.txt" && ok "man section $s" || fail "man section $s" "no '.SH $s' in docs/vtxsim.1"
	done
	# Every exit status of `vtxsim -h` is in the man page's EXIT STATUS.
	for st in $("$VTXSIM" -h | sed -n '/^exit status:/,$s/^  \([0-9][0-9]*\) .*$/\1/p'); do
		sed -n '/^EXIT STATUS$/,/^[A-Z]/p' "$OUT/vtxsim.1.txt" | grep -qE "^ +$st( |\$)" &&
			ok "man exit status $st" || fail "man exit status $st" "status $st of vtxsim -h is not in EXIT STATUS"
	done
}

# ---- debugger commands ----

# shell CMD...: run debugger commands on the demo kernel; output on stdout.
shell() {
	cmdline=
	for c in "$@"; do
		cmdline="$cmdline --debug-cmd '$c'"
	done
	eval "\"\$VTXSIM\" -kernel \"\$KERNEL\" -serial none $cmdline --debug-cmd quit" </dev/null 2>&1
}

check_debugger() {
	if [ ! -f "$KERNEL" ]; then
		fail "debugger" "$KERNEL not built (make guests)"
		return
	fi
	shell help > "$OUT/help.txt"
	# Lines "  NAME ARGS   summary", or "  NAME ARGS" with the summary on
	# the next line when the synopsis is long.
	if ! grep -q '^  help ' "$OUT/help.txt"; then
		fail "debugger help" "\`help\` printed no command list: $(head -n 2 "$OUT/help.txt" | tr '\n' ' ')"
		return
	fi
	n=0
	summary_only=0
	sed -n 's/^  \([a-z][a-z]*\)\( [a-z][a-z]*\)\{0,1\}.*$/\1\2/p' "$OUT/help.txt" > "$OUT/names.txt"
	while read -r w1 w2; do
		n=$((n + 1))
		name=$w1
		# A two-word command ("info apic") answers `help "info apic"`;
		# otherwise the second word is an argument ("info breakpoints|...").
		if [ -n "$w2" ]; then
			shell "help \"$w1 $w2\"" > "$OUT/h.txt"
			head -n 1 "$OUT/h.txt" | grep -q "^$w1 $w2" && name="$w1 $w2"
		fi
		[ "$name" = "$w1" ] && shell "help $w1" > "$OUT/h.txt"
		first=$(head -n 1 "$OUT/h.txt")
		body=$(sed -n '2,$p' "$OUT/h.txt" | grep -v '^vtxsim:' | sed 's/^ *//')
		case $first in
		"$name"*) ;;
		*) fail "debugger help $name" "\`help $name\` says: $first"; continue ;;
		esac
		if [ -z "$body" ]; then
			fail "debugger help $name" "\`help $name\` prints no text"
			continue
		fi
		# The summary `help` gave: on the command's line, or on the next.
		summ=$(grep -A1 "^  $name\( \|\$\)" "$OUT/help.txt" | sed 's/^  [^ ].*[^ ]  \{2,\}//; s/^ *//' |
			grep -v "^$name\( \|\$\)" | head -n 1)
		[ "$body" = "$summ" ] && summary_only=$((summary_only + 1))
		if ! documented "$DBGDOC" "$name"; then
			fail "debugger command $name" "not in docs/debugger.md (as \`$name ...\`)"
			continue
		fi
		ok "debugger command $name"
	done < "$OUT/names.txt"
	[ "$n" -ge 20 ] && ok "debugger commands parsed ($n, $summary_only with only their summary as help)" ||
		fail "debugger commands parsed" "only $n commands in \`help\`"
}

# ---- links ----

# slugs FILE: GitHub's anchor of each heading of FILE outside fenced code:
# lower case, characters other than letters, digits, '-', '_' and spaces
# dropped, spaces made '-'; the second of two equal slugs gets "-1".
slugs() {
	awk '/^```/ { fence = !fence; next } !fence && /^#+ / { sub(/^#+ +/, ""); print }' "$1" |
		tr 'A-Z' 'a-z' | sed 's/[^a-z0-9 _-]//g; s/ /-/g' |
		awk '{ if (seen[$0]++) print $0 "-" (seen[$0] - 1); else print }'
}

# links FILE: the targets of the Markdown links [text](target) of FILE
# outside fenced code and inline code spans.
links() {
	awk '/^```/ { fence = !fence; next } !fence { gsub(/`[^`]*`/, ""); print }' "$1" |
		grep -o '\]([^) ]*)' | sed 's/^](//; s/)$//'
}

check_links() {
	n=0
	for f in "$ROOT/README.md" "$ROOT"/docs/*.md; do
		rel=${f#"$ROOT"/}
		dir=$(dirname "$f")
		for t in $(links "$f"); do
			case $t in
			http://* | https://* | mailto:*) continue ;;
			esac
			n=$((n + 1))
			path=${t%%#*}
			anchor=
			case $t in *'#'*) anchor=${t#*#} ;; esac
			target=$f
			[ -n "$path" ] && target=$dir/$path
			if [ ! -e "$target" ]; then
				fail "link $rel -> $t" "no such file: $path"
			elif [ -n "$anchor" ] && ! slugs "$target" | grep -qxF -- "$anchor"; then
				fail "link $rel -> $t" "no heading with anchor #$anchor in ${path:-$rel}"
			else
				ok "link $rel -> $t"
			fi
		done
	done
	[ "$n" -ge 20 ] && ok "links found ($n)" || fail "links found" "only $n relative links (has the parse broken?)"
}

# ---- the checker checks itself ----

check_self() {
	copy=$OUT/self
	rm -rf "$copy"
	mkdir -p "$copy" && cp -R "$ROOT/docs" "$ROOT/README.md" "$copy/" || {
		fail "self" "cannot copy the docs to $copy"
		return
	}
	# The rest of the tree, which the docs link to, as symbolic links.
	for e in "$ROOT"/*; do
		[ -e "$copy/${e##*/}" ] || ln -s "$e" "$copy/${e##*/}"
	done
	# Break three things: --seed leaves the user guide, `tlb` the debugger
	# manual, and a link of the README points nowhere.
	sed -i 's/`--seed/`--sed/g' "$copy/docs/user-guide.md"
	sed -i 's/`tlb/`tbl/g' "$copy/docs/debugger.md"
	printf '\nSee [nowhere](docs/no-such-page.md).\n' >> "$copy/README.md"
	DOCS_ROOT=$copy QUIET_OK=1 SELF=1 sh "$0" "$VTXSIM" "$GUEST_DIR" > "$OUT/self.log" 2>&1
	got=$(grep '^FAIL' "$OUT/self.log" | sed 's/:.*//' | sort | tr '\n' '|')
	want="FAIL debugger command tlb|FAIL link README.md -> docs/no-such-page.md|FAIL option vtxsim --seed|"
	[ "$got" = "$want" ] && ok "self: the checker finds a missing option, command and link" ||
		fail "self" "on broken docs it reported '$got', expected '$want' ($OUT/self.log)"
}

check_options
check_man
check_debugger
check_links
[ -n "${SELF:-}" ] || check_self

echo "docs: $passed passed, $failed failed"
[ "$failed" = 0 ]
