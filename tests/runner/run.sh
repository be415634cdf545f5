#!/bin/sh
# run.sh VTXSIM GUEST_B: end-to-end tests of `vtxsim test` (issue 9) on the
# small manifests of this directory, whose cases boot tests/guests/runner_echo.c.
# Each check prints "ok WHAT" or "FAIL WHAT: why"; the last line is
# "runner: N passed, M failed". Run from the top of the tree (as make test
# does); the runner's outputs go to a temporary directory, removed at the end
# (RUNNER_KEEP=1 keeps it and prints where).
set -u

VTXSIM=${1:?usage: run.sh VTXSIM GUEST_B}
GUEST_B=${2:?usage: run.sh VTXSIM GUEST_B}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
DIR=tests/runner                # the manifests, as given to vtxsim test (relative to TOP)
passed=0
failed=0

case $VTXSIM in /*) ;; *) VTXSIM=$(pwd)/$VTXSIM ;; esac
# $G: the guests as the manifests see them, from their own directory:
# relative, so that the guests' command lines are the same on every machine.
case $GUEST_B in
/*) G=$GUEST_B ;;
*) G=../../$GUEST_B ;;
esac
cd "$TOP" || exit 2
T=$(mktemp -d "${TMPDIR:-/tmp}/vtxsim-runner.XXXXXX") || exit 2
if [ "${RUNNER_KEEP:-0}" = 1 ]; then
	echo "run.sh: outputs kept in $T"
else
	trap 'rm -rf "$T"' EXIT
fi

pass() {
	passed=$((passed + 1))
	echo "ok $1"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL $1: $2"
}

# vt NAME ARGS...: run `vtxsim test -D G=$G --out $T/NAME.out ARGS` from the
# top of the tree; stdout in $T/NAME.stdout, stderr in $T/NAME.stderr, the
# exit status in $T/NAME.status.
vt() {
	run=$1
	shift
	rm -rf "$T/$run.out"
	"$VTXSIM" test -D G="$G" --out "$T/$run.out" "$@" > "$T/$run.stdout" 2> "$T/$run.stderr" < /dev/null
	echo $? > "$T/$run.status"
}

# status_is WHAT RUN WANT: the run's exit status is WANT.
status_is() {
	got=$(cat "$T/$2.status")
	if [ "$got" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "exit status $got, expected $3 (stdout $T/$2.stdout, stderr $T/$2.stderr)"
		sed -n '1,20p' "$T/$2.stdout" "$T/$2.stderr" | sed 's/^/    /'
	fi
}

# has WHAT FILE REGEX: a line of FILE matches the basic REGEX.
has() {
	if grep -a -q -e "$3" "$2"; then
		pass "$1"
	else
		fail "$1" "no line matching '$3' in $2"
		sed -n '1,30p' "$2" | sed 's/^/    /'
	fi
}

# lacks WHAT FILE REGEX: no line of FILE matches.
lacks() {
	if grep -a -q -e "$3" "$2"; then
		fail "$1" "a line matches '$3' in $2: $(grep -a -m1 -e "$3" "$2")"
	else
		pass "$1"
	fi
}

# same WHAT A B: files A and B are byte-identical.
same() {
	if cmp -s "$2" "$3"; then
		pass "$1"
	else
		fail "$1" "$2 and $3 differ"
		diff "$2" "$3" | sed -n '1,20p' | sed 's/^/    /'
	fi
}

# The indented detail line "KEY: VALUE" below "FAIL CASE:" in FILE, VALUE only.
detail() {
	sed -n "/^FAIL $2:/,/^[^ 	]/p" "$1" | sed -n "s/^[ 	]*$3:[ 	]*//p" | head -n 1
}

if [ ! -r "$GUEST_B/runner_echo.elf" ]; then
	fail "guest" "$GUEST_B/runner_echo.elf not built (make guests)"
	echo "runner: $passed passed, $failed failed"
	exit 1
fi

# ---- a passing suite ----
vt pass "$DIR/pass.vts"
status_is "pass: status 0" pass 0
n=$(grep -c '^case ' "$DIR/pass.vts")
has "pass: final line" "$T/pass.stdout" "^$((n - 1)) passed, 0 failed, 1 skipped\$"
for c in $(sed -n 's/^case \([^ ]*\).*/\1/p' "$DIR/pass.vts"); do
	[ "$c" = skipped ] && continue
	has "pass: ok $c" "$T/pass.stdout" "^ok $c\$"
done
has "pass: exit:77 is a skip" "$T/pass.stdout" "^skip skipped"
has "pass: COM1 output kept" "$T/pass.out/hello.serial" "^hello runner\$"
has "pass: run result kept" "$T/pass.out/badentry.result" "^entry-failures 1\$"

# ---- --list and --only ----
vt list --list "$DIR/pass.vts"
sed -n 's/^case \([^ ]*\).*/\1/p' "$DIR/pass.vts" > "$T/list.want"
status_is "--list: status 0" list 0
same "--list: the case names in manifest order" "$T/list.want" "$T/list.stdout"
vt only --only 'sum*' --only regex "$DIR/pass.vts"
status_is "--only: status 0" only 0
has "--only: final line" "$T/only.stdout" '^2 passed, 0 failed$'
has "--only: the pattern's case ran" "$T/only.stdout" '^ok summary$'
lacks "--only: the others did not" "$T/only.stdout" '^ok hello$'
vt only-none --only 'no-such-case*' "$DIR/pass.vts"
status_is "--only with no match: status 2" only-none 2

# ---- TAP ----
vt tap --tap "$DIR/pass.vts" "$DIR/fail.vts"
m=$(grep -c '^case ' "$DIR/fail.vts")
has "--tap: plan" "$T/tap.stdout" "^1\\.\\.$((n + m))\$"
has "--tap: a passing case" "$T/tap.stdout" '^ok [0-9]* - hello'
has "--tap: a skipped case" "$T/tap.stdout" '^ok [0-9]* - skipped # [Ss][Kk][Ii][Pp]'
has "--tap: a failing case" "$T/tap.stdout" '^not ok [0-9]* - say-diff'
k=$(grep -c '^not ok ' "$T/tap.stdout")
if [ "$k" = $((m - 1)) ]; then pass "--tap: one not ok per failing case"; else fail "--tap: not ok lines" "$k, expected $((m - 1))"; fi

# ---- failing expectations: the case, the first difference, its cycle, the replay ----
vt fail --junit "$T/fail.xml" "$DIR/fail.vts"
status_is "fail: status 1" fail 1
has "fail: final line" "$T/fail.stdout" "^1 passed, $((m - 1)) failed\$"
has "fail: the good case passes" "$T/fail.stdout" '^ok good$'
has "fail: the golden difference names the case" "$T/fail.stdout" '^FAIL say-diff: .*two_lines.out'
has "fail: ... and the line" "$T/fail.stdout" 'COM1 output line 2'
w=$(detail "$T/fail.stdout" say-diff want)
g=$(detail "$T/fail.stdout" say-diff got)
if [ "$w" = "line two" ] && [ "$g" = "line 2" ]; then
	pass "fail: want/got lines"
else
	fail "fail: want/got lines" "want '$w', got '$g'"
fi
# The cycle at which COM1 line 2 ended, from the run result.
cyc=$(sed -n 's/^line 2 \([0-9]*\)$/\1/p' "$T/fail.out/say-diff.result")
if [ -n "$cyc" ] && sed -n '/^FAIL say-diff:/,/^[^ 	]/p' "$T/fail.stdout" | grep -q "cycle $cyc"; then
	pass "fail: the difference's cycle ($cyc)"
else
	fail "fail: the difference's cycle" "cycle '$cyc' of line 2 not in the report"
fi
has "fail: FAIL line reported" "$T/fail.stdout" '^FAIL fail-line: .*FAIL: b broke'
has "fail: missing expectation" "$T/fail.stdout" '^FAIL missing: .*something else'
has "fail: wrong status" "$T/fail.stdout" '^FAIL wrong-status: .*expected status 1.* got 7'
replay=$(detail "$T/fail.stdout" say-diff replay)
debug=$(detail "$T/fail.stdout" say-diff debug)
case $debug in
"$replay --debug --debug-cmd 'until $cyc'") pass "fail: the debug line is the replay with --debug, run to the difference's cycle" ;;
*) fail "fail: debug line" "replay '$replay', debug '$debug'" ;;
esac
if [ -n "$replay" ]; then
	(eval "$replay") > "$T/replay.serial" 2> "$T/replay.stderr" < /dev/null
	same "fail: the replay command reproduces COM1" "$T/fail.out/say-diff.serial" "$T/replay.serial"
else
	fail "fail: replay" "no replay line"
fi
# The debug line opens the shell where the output went wrong: after the
# differing line, in the guest's serial output code.
if [ -n "$debug" ]; then
	(eval "$debug") > "$T/debug.stdout" 2> "$T/debug.stderr" < /dev/null
	has "fail: the debug command stops at the difference" "$T/debug.stdout" "^stopped: cycle target reached (cycle $cyc)"
	has "fail: ... after the differing line" "$T/debug.stdout" '^line 2$'
fi

# ---- JUnit, against the elements CI servers require ----
if command -v xmllint > /dev/null 2>&1; then
	vt junit-pass --junit "$T/pass.xml" "$DIR/pass.vts"
	for x in pass fail; do
		if xmllint --noout --schema "$DIR/junit.xsd" "$T/$x.xml" > "$T/$x.xmllint" 2>&1; then
			pass "junit: $x.xml is valid"
		else
			fail "junit: $x.xml" "$(head -n 3 "$T/$x.xmllint")"
		fi
	done
	has "junit: the failure message" "$T/fail.xml" '<failure message="[^"]*two_lines.out'
	has "junit: the replay command" "$T/fail.xml" 'runner_echo.elf'
	has "junit: a skipped case" "$T/pass.xml" '<skipped'
	has "junit: the testsuite counts" "$T/fail.xml" "<testsuite [^>]*failures=\"$((m - 1))\""
else
	fail "junit" "xmllint not installed (package libxml2-utils; scripts/deps.sh installs it)"
fi

# ---- limits: a hanging guest stopped by the cycle limit, a wall-clock timeout ----
t0=$(date +%s)
vt limits "$DIR/limits.vts"
t1=$(date +%s)
# The cycle limit stops the spinning guest in well under a second, the timeout after 1 s: the
# run must not wait for anything else (60 s leaves room for a loaded machine).
if [ $((t1 - t0)) -lt 60 ]; then pass "limits: finished fast ($((t1 - t0)) s)"; else fail "limits: slow" "$((t1 - t0)) s"; fi
status_is "limits: status 1" limits 1
has "limits: cycle limit" "$T/limits.stdout" '^FAIL spin: .*cycle limit'
has "limits: wall-clock timeout" "$T/limits.stdout" '^FAIL wall: .*timed out after 1 s'
has "limits: the other case passes" "$T/limits.stdout" '^ok fine$'
has "limits: final line" "$T/limits.stdout" '^1 passed, 2 failed$'
cycles=$(sed -n 's/^cycles //p' "$T/limits.out/spin.result")
if [ "$cycles" = 20000000 ]; then pass "limits: stopped at the limit"; else fail "limits: end cycle" "'$cycles'"; fi

# ---- a crashing vtxsim does not stop the others ----
VTXSIM_REAL=$VTXSIM
export VTXSIM_REAL
vt crash --vtxsim "$HERE/crash_wrapper.sh" "$DIR/crash.vts"
status_is "crash: status 1" crash 1
has "crash: the case crashed" "$T/crash.stdout" '^FAIL crash: .*crashed: signal 11'
has "crash: before it" "$T/crash.stdout" '^ok before$'
has "crash: after it" "$T/crash.stdout" '^ok after$'
has "crash: final line" "$T/crash.stdout" '^2 passed, 1 failed$'

# ---- golden exit traces ----
vt golden --coverage "$T/coverage.txt" "$DIR/golden.vts"
status_is "golden: exits= and exit-counts= pass" golden 0
has "golden: coverage counts the CPUID exits" "$T/coverage.txt" '^ *10 *CPUID *3; 1 case$'
has "golden: coverage marks what no case reached" "$T/coverage.txt" '^ *12 *HLT *never$'
vt golden-bad "$DIR/golden_bad.vts"
status_is "golden: a changed trace fails" golden-bad 1
has "golden: names exit 2" "$T/golden-bad.stdout" 'exit 2'
w=$(detail "$T/golden-bad.stdout" vmx3-bad want)
g=$(detail "$T/golden-bad.stdout" vmx3-bad got)
if [ "$w" = "$(sed -n 2p "$DIR/golden/vmx3_bad.exits")" ] && [ "$g" = "$(sed -n 2p "$DIR/golden/vmx3.exits")" ]; then
	pass "golden: want/got of exit 2"
else
	fail "golden: want/got of exit 2" "want '$w', got '$g'"
fi

# ---- --update-golden rewrites a copy and shows the diff ----
mkdir -p "$T/upd/golden"
cp "$DIR/golden_bad.vts" "$T/upd/"
cp "$DIR/golden/vmx3_bad.exits" "$T/upd/golden/"
GSAVE=$G
case $GUEST_B in /*) G=$GUEST_B ;; *) G=$TOP/$GUEST_B ;; esac
vt update --update-golden "$T/upd/golden_bad.vts"
vt update-again "$T/upd/golden_bad.vts"
G=$GSAVE
status_is "update: status 0" update 0
same "update: the golden file rewritten" "$DIR/golden/vmx3.exits" "$T/upd/golden/vmx3_bad.exits"
has "update: the diff's old line" "$T/update.stdout" '^[[:space:]]*-cpu0 10 CPUID qual=0x0 rip=0x100015$'
has "update: the diff's new line" "$T/update.stdout" '^[[:space:]]*+cpu0 10 CPUID qual=0x0 rip=0x100013$'
status_is "update: the rewritten file passes" update-again 0

# A new golden file in a directory that does not exist yet: created.
mkdir -p "$T/new"
printf '%s\n' 'case hello kernel=$G/runner_echo.elf append="say=hello_runner exit=0" output=golden/new/hello.out' \
	> "$T/new/new.vts"
GSAVE=$G
case $GUEST_B in /*) G=$GUEST_B ;; *) G=$TOP/$GUEST_B ;; esac
vt create --update-golden "$T/new/new.vts"
vt create-again "$T/new/new.vts"
G=$GSAVE
status_is "update: a new golden file" create 0
if [ "$(cat "$T/new/golden/new/hello.out" 2>/dev/null)" = "hello runner" ]; then
	pass "update: its directory created, its text the COM1 output"
else
	fail "update: new golden file" "$T/new/golden/new/hello.out missing or wrong"
fi
status_is "update: the new golden file passes" create-again 0

# ---- determinism: -j1 and -j4 report the same bytes ----
# The same --out for both: a failure's details name its output files.
vt j -j 1 --junit "$T/j1.xml" "$DIR/pass.vts" "$DIR/fail.vts" "$DIR/golden.vts"
mv "$T/j.stdout" "$T/j1.stdout"
vt j -j 4 --junit "$T/j4.xml" "$DIR/pass.vts" "$DIR/fail.vts" "$DIR/golden.vts"
mv "$T/j.stdout" "$T/j4.stdout"
same "-j1 and -j4: the same stdout" "$T/j1.stdout" "$T/j4.stdout"
same "-j1 and -j4: the same JUnit" "$T/j1.xml" "$T/j4.xml"

# ---- a malformed manifest ----
vt bad "$DIR/bad.vts"
status_is "bad manifest: status 2" bad 2
cat "$T/bad.stdout" "$T/bad.stderr" > "$T/bad.all"
has "bad manifest: FILE:LINE" "$T/bad.all" "$DIR/bad.vts:5:"

echo "runner: $passed passed, $failed failed"
[ "$failed" = 0 ]
