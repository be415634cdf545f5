#!/bin/sh
# tutorial.sh [DOC]: docs/tutorial.md quotes vtxsim exactly. After each
#   <!-- session: tutorial_NN -->   the first fenced block must be the
#       commands of tests/debugger/tutorial_NN.dbg (its lines that are
#       neither blank nor comments) and the second its expected output
#       tutorial_NN.out, byte for byte (run.sh checks that against vtxsim);
#   <!-- prints: lesson-NN -->      every line of the first fenced block
#       must be a line of tests/guests/golden/lesson-NN.out (the guest
#       test checks that against vtxsim);
#   <!-- run: COMMAND -->           the first fenced block must be what
#       the shell command COMMAND prints, run in the guest build directory
#       with $VTXSIM set (e.g. --explain output, which goes to stderr).
# Also every tutorial_NN.dbg must be quoted. Ends with
# "tutorial: N passed, M failed".
#   tutorial.sh [--update] VTXSIM GUEST_B
# (TUTORIAL_DOC names another page, for testing this script.) --update rewrites those
# blocks from the files (the prints blocks: the golden file without its
# PASS: lines); read the diff before committing it.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DOC=${TUTORIAL_DOC:-$ROOT/docs/tutorial.md}
update=0
if [ "${1:-}" = "--update" ]; then
	update=1
	shift
fi
VTXSIM=${1:?usage: tutorial.sh [--update] VTXSIM GUEST_B}
GUEST_B=${2:?usage: tutorial.sh [--update] VTXSIM GUEST_B}
case $VTXSIM in /*) ;; *) VTXSIM=$(pwd)/$VTXSIM ;; esac
GUEST_ABS=$(cd "$GUEST_B" && pwd)
export VTXSIM
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run_marker COMMAND: what the tutorial's COMMAND prints, on stdout.
run_marker() {
	(cd "$GUEST_ABS" && sh -c "$1") </dev/null 2>&1
}

if [ "$update" = 1 ]; then
	sed -n 's/^<!-- run: \(.*\) -->$/\1/p' "$DOC" | while IFS= read -r cmd; do
		run_marker "$cmd" >"$tmp/run.$(printf '%s' "$cmd" | cksum | cut -d' ' -f1)"
	done
	python3 - "$DOC" "$HERE" "$ROOT/tests/guests/golden" "$tmp" <<'PY' || exit 2
import re, subprocess, sys
doc, here, golden, tmp = sys.argv[1:5]
text = open(doc).read()
def fenced(lines):
    return "```\n" + "".join(l + "\n" for l in lines) + "```"
def session(m):
    name = m.group(1)
    dbg = open(f"{here}/{name}.dbg").read().splitlines()
    cmds = [l for l in dbg if l.strip() and not l.startswith("#")]
    out = open(f"{here}/{name}.out").read().splitlines()
    return m.group(0)[:m.start(2) - m.start(0)] + fenced(cmds) + m.group(3) + fenced(out)
def prints(m):
    lines = [l for l in open(f"{golden}/{m.group(1)}.out").read().splitlines() if not l.startswith("PASS:")]
    return m.group(0)[:m.start(2) - m.start(0)] + fenced(lines)
text = re.sub(r"<!-- session: (\w+) -->.*?(```\n.*?```)(.*?)```\n.*?```", session, text, flags=re.S)
text = re.sub(r"<!-- prints: ([\w-]+) -->.*?(```\n.*?```)", prints, text, flags=re.S)
def run(m):
    ck = subprocess.run(["cksum"], input=m.group(1).encode(), capture_output=True).stdout.split()[0].decode()
    out = open(f"{tmp}/run.{ck}").read().splitlines()
    return m.group(0)[:m.start(2) - m.start(0)] + fenced(out)
text = re.sub(r"<!-- run: (.*) -->(?:.|\n)*?(```\n(?:.|\n)*?```)", run, text)
open(doc, "w").write(text)
PY
	echo "tutorial.sh: rewrote the quoted blocks of $DOC"
	exit 0
fi
passed=0
failed=0

# block MARKER N: the Nth fenced block after the line MARKER, on stdout.
block() {
	awk -v m="$1" -v n="$2" '
		$0 == m { found = 1; k = 0; next }
		found && /^```/ { if (inb) { inb = 0; if (++k == n) exit } else inb = 1; next }
		found && inb && k == n - 1 { print }
	' "$DOC"
}

fail() {
	echo "FAIL tutorial: $1"
	failed=$((failed + 1))
}

for dbg in "$HERE"/tutorial_*.dbg; do
	c=$(basename "$dbg" .dbg)
	m="<!-- session: $c -->"
	if ! grep -Fxq "$m" "$DOC"; then
		fail "$c is not quoted in $(basename "$DOC")"
		continue
	fi
	grep -v '^#' "$dbg" | grep -v '^[[:space:]]*$' >"$tmp/cmds"
	block "$m" 1 >"$tmp/doc-cmds"
	block "$m" 2 >"$tmp/doc-out"
	if ! cmp -s "$tmp/cmds" "$tmp/doc-cmds"; then
		fail "$c: the commands quoted differ from $c.dbg"
		diff -u "$tmp/cmds" "$tmp/doc-cmds" | head -n 10
	elif ! cmp -s "$HERE/$c.out" "$tmp/doc-out"; then
		fail "$c: the output quoted differs from $c.out"
		diff -u "$HERE/$c.out" "$tmp/doc-out" | head -n 10
	else
		passed=$((passed + 1))
	fi
done

for n in $(sed -n 's/^<!-- prints: \(lesson-[0-9]*\) -->$/\1/p' "$DOC"); do
	golden=$ROOT/tests/guests/golden/$n.out
	block "<!-- prints: $n -->" 1 >"$tmp/doc-prints"
	if [ ! -f "$golden" ]; then
		fail "$n: no golden file $golden"
	elif [ ! -s "$tmp/doc-prints" ]; then
		fail "$n: the block after the marker is empty"
	elif ! grep -Fxv -f "$golden" "$tmp/doc-prints" >"$tmp/extra"; then
		passed=$((passed + 1))
	else
		fail "$n: lines quoted that $n.out does not hold:"
		sed 's/^/  /' "$tmp/extra" | head -n 5
	fi
done
sed -n 's/^<!-- run: \(.*\) -->$/\1/p' "$DOC" >"$tmp/runs"
while IFS= read -r cmd; do
	run_marker "$cmd" >"$tmp/run-out"
	block "<!-- run: $cmd -->" 1 >"$tmp/doc-run"
	if cmp -s "$tmp/run-out" "$tmp/doc-run"; then
		passed=$((passed + 1))
	else
		fail "the output of '$cmd' differs from the page"
		diff -u "$tmp/doc-run" "$tmp/run-out" | head -n 10
	fi
done <"$tmp/runs"
# The checker itself: a page with one quoted output line changed must fail.
if [ -z "${TUTORIAL_SELF:-}" ]; then
	awk '!done && /^stopped: / { print "stopped: (changed)"; done = 1; next } { print }' "$DOC" >"$tmp/changed.md"
	if TUTORIAL_SELF=1 TUTORIAL_DOC="$tmp/changed.md" sh "$0" "$VTXSIM" "$GUEST_B" >/dev/null 2>&1; then
		fail "self: a changed output line went unnoticed"
	else
		passed=$((passed + 1))
	fi
fi
echo "tutorial: $passed passed, $failed failed"
[ "$failed" = 0 ]
