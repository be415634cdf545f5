#!/bin/sh
# run.sh VTXSIM GUEST_B [--update] [CASE...]: the debugger tests. Each case
# tests/debugger/NAME.dbg is a debugger script whose first lines
#   #args: <vtxsim arguments>      (@G@ stands for the guest build directory,
#                                   where vtxsim runs)
#   #status: <expected exit status> (optional, default 0)
# give how to run it; vtxsim runs it with --debug-script and stdin empty,
# and its stdout must equal NAME.out byte for byte (the run is
# deterministic). --update rewrites the .out files: read the diff before
# committing it, the expected output is the test. gdb cases (NAME.gdb) are
# run by tests/debugger/gdb.sh when it exists. Ends with
# "debugger: N passed, M failed".
set -u
VTXSIM=${1:?usage: run.sh VTXSIM GUEST_B [--update] [CASE...]}
GUEST_B=${2:?usage: run.sh VTXSIM GUEST_B [--update] [CASE...]}
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
case $VTXSIM in /*) ;; *) VTXSIM=$(pwd)/$VTXSIM ;; esac
GUEST_ABS=$(cd "$GUEST_B" && pwd)
update=0
if [ "${1:-}" = "--update" ]; then
	update=1
	shift
fi
cases=$*
[ -n "$cases" ] || cases=$(cd "$HERE" && ls *.dbg 2>/dev/null | sed 's/\.dbg$//')
passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for c in $cases; do
	script=$HERE/$c.dbg
	# vtxsim runs in the guest directory with @G@ = ".": a kernel's
	# command line holds its path, and guests that read it must see the
	# same bytes (and take the same cycles) in build/ and build-san/.
	args=$(sed -n 's/^#args: //p' "$script" | head -n 1 | sed "s|@G@|.|g")
	want_status=$(sed -n 's/^#status: //p' "$script" | head -n 1)
	[ -n "$want_status" ] || want_status=0
	# shellcheck disable=SC2086
	(cd "$GUEST_ABS" && exec "$VTXSIM" $args --debug-script "$script") </dev/null >"$tmp/out" 2>"$tmp/err"
	st=$?
	if [ "$update" = 1 ]; then
		if [ -f "$HERE/$c.out" ]; then diff -u "$HERE/$c.out" "$tmp/out"; fi
		cp "$tmp/out" "$HERE/$c.out"
	fi
	if [ "$st" != "$want_status" ]; then
		echo "FAIL debugger/$c: exit status $st, expected $want_status"
		sed 's/^/  stderr: /' "$tmp/err" | head -n 5
		failed=$((failed + 1))
	elif ! cmp -s "$tmp/out" "$HERE/$c.out"; then
		echo "FAIL debugger/$c: output differs from $c.out"
		diff -u "$HERE/$c.out" "$tmp/out" | head -n 20
		failed=$((failed + 1))
	else
		passed=$((passed + 1))
	fi
done
if [ -f "$HERE/gdb.sh" ]; then
	if sh "$HERE/gdb.sh" "$VTXSIM" "$GUEST_B" >"$tmp/gdb" 2>&1; then :; fi
	cat "$tmp/gdb"
	p=$(sed -n 's/^gdb: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$tmp/gdb" | tail -n 1)
	f=$(sed -n 's/^gdb: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$tmp/gdb" | tail -n 1)
	if [ -z "$p" ]; then
		echo "FAIL debugger/gdb.sh printed no summary"
		failed=$((failed + 1))
	else
		passed=$((passed + p))
		failed=$((failed + f))
	fi
fi
echo "debugger: $passed passed, $failed failed"
[ "$failed" = 0 ]
