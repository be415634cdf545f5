#!/bin/sh
# run-all.sh B GUEST_B: the unit tests ($B/unit-tests), the guest tests
# (tests/guests/guests.vts on `$B/vtxsim test`), the runner's own tests
# (tests/runner/run.sh), the determinism and record/replay
# tests (tests/guests/determinism.sh), the VM-entry verdict test
# (tests/guests/verdict.sh), the trace and triple-fault report tests
# (tests/guests/trace.sh), the debugger tests (tests/debugger/run.sh), the docs test
# (tests/docs/check.sh), then the differential test against
# the host CPU ($B/difftest, fixed seed) and, with python3, that the
# generated VM-entry matrix is up to date. Ends with one line
# "N passed, M failed" (", K skipped" when a runner skipped cases) summing them all, and a non-zero status if anything
# failed or a runner did not print its summary.
set -u

B=${1:?usage: run-all.sh B GUEST_B}
GUEST_B=${2:?usage: run-all.sh B GUEST_B}
HERE=$(dirname "$0")
passed=0
skipped=0
failed=0
status=0

# tally RUNNER LOG PREFIX EXIT: add the "PREFIX N passed, M failed" line of
# LOG to the totals; a missing line, or a non-zero exit with no failure
# counted, is one failure.
tally() {
	line=$(grep -a "^$3 [0-9]* passed, [0-9]* failed" "$2" | tail -n 1)
	if [ -z "$line" ]; then
		echo "run-all: $1 printed no \"$3 N passed, M failed\" line (exit status $4)"
		failed=$((failed + 1))
		status=1
		return
	fi
	p=$(echo "$line" | sed 's/^.* \([0-9]*\) passed, \([0-9]*\) failed.*$/\1/')
	f=$(echo "$line" | sed 's/^.* \([0-9]*\) passed, \([0-9]*\) failed.*$/\2/')
	passed=$((passed + p))
	case $line in
	*", "[0-9]*" skipped"*) skipped=$((skipped + $(echo "$line" | sed 's/^.*, \([0-9]*\) skipped.*$/\1/'))) ;;
	esac
	failed=$((failed + f))
	if [ "$f" != 0 ]; then
		status=1
	elif [ "$4" != 0 ]; then
		echo "run-all: $1 exited with status $4 after reporting no failure"
		failed=$((failed + 1))
		status=1
	fi
}

mkdir -p "$B" || exit 2
unit_log=$B/unit-tests.log
guest_log=$B/guest-tests.log

if [ -x "$B/unit-tests" ]; then
	{ "$B/unit-tests"; echo $? > "$unit_log.status"; } 2>&1 | tee "$unit_log"
	tally unit-tests "$unit_log" unit: "$(cat "$unit_log.status")"
else
	echo "run-all: $B/unit-tests not built" | tee "$unit_log"
	tally unit-tests "$unit_log" unit: 127
fi

# The guest tests run on `vtxsim test` (tests/guests/guests.vts, every CPU core); its cases
# run in tests/guests, so $G is the guests' directory as seen from there (relative: the guests'
# command lines are then the same on every machine). Its final line gets the "guests:" prefix.
case $GUEST_B in
/*) G=$GUEST_B ;;
*) G=../../$GUEST_B ;;
esac
{ "$B/vtxsim" test -D G="$G" --out "$B/guest-tests" "$HERE/guests/guests.vts"; echo $? > "$guest_log.status"; } 2>&1 |
	sed 's/^\([0-9]* passed, [0-9]* failed\)/guests: \1/' | tee "$guest_log"
tally "guest tests" "$guest_log" guests: "$(cat "$guest_log.status")"

# The test runner's own end-to-end tests (tests/runner/run.sh).
runner_log=$B/runner-tests.log
{ sh "$HERE/runner/run.sh" "$B/vtxsim" "$GUEST_B"; echo $? > "$runner_log.status"; } 2>&1 | tee "$runner_log"
tally runner "$runner_log" runner: "$(cat "$runner_log.status")"
rm -f "$runner_log.status"

det_log=$B/determinism-tests.log
{ sh "$HERE/guests/determinism.sh" "$B/vtxsim" "$GUEST_B"; echo $? > "$det_log.status"; } 2>&1 | tee "$det_log"
tally determinism "$det_log" determinism: "$(cat "$det_log.status")"

verdict_log=$B/verdict-tests.log
{ sh "$HERE/guests/verdict.sh" "$B/vtxsim" "$GUEST_B"; echo $? > "$verdict_log.status"; } 2>&1 | tee "$verdict_log"
tally verdict "$verdict_log" verdict: "$(cat "$verdict_log.status")"

trace_log=$B/trace-tests.log
{ sh "$HERE/guests/trace.sh" "$B/vtxsim" "$GUEST_B"; echo $? > "$trace_log.status"; } 2>&1 | tee "$trace_log"
tally trace "$trace_log" trace: "$(cat "$trace_log.status")"

dbg_log=$B/debugger-tests.log
{ sh "$HERE/debugger/run.sh" "$B/vtxsim" "$GUEST_B"; echo $? > "$dbg_log.status"; } 2>&1 | tee "$dbg_log"
tally debugger "$dbg_log" debugger: "$(cat "$dbg_log.status")"

# docs/tutorial.md quotes the tutorial_NN debugger sessions and the lessons' golden output exactly.
tut_log=$B/tutorial-tests.log
{ sh "$HERE/debugger/tutorial.sh" "$B/vtxsim" "$GUEST_B"; echo $? > "$tut_log.status"; } 2>&1 | tee "$tut_log"
tally tutorial "$tut_log" tutorial: "$(cat "$tut_log.status")"
rm -f "$tut_log.status"

# The docs test (tests/docs/check.sh): every option of -h in the user guide
# and the man page, every debugger command with help and in docs/debugger.md,
# every relative link of the docs resolved.
docs_log=$B/docs-tests.log
{ sh "$HERE/docs/check.sh" "$B/vtxsim" "$GUEST_B"; echo $? > "$docs_log.status"; } 2>&1 | tee "$docs_log"
tally docs "$docs_log" docs: "$(cat "$docs_log.status")"
rm -f "$docs_log.status"

# A fixed seed, 200000 template instructions (tests/diff/runner.c).
diff_log=$B/diff-tests.log
if [ -x "$B/difftest" ]; then
	{ "$B/difftest" -q -n 200000 -s 1; echo $? > "$diff_log.status"; } 2>&1 | tee "$diff_log"
	tally difftest "$diff_log" diff: "$(cat "$diff_log.status")"
else
	echo "run-all: $B/difftest not built" | tee "$diff_log"
	tally difftest "$diff_log" diff: 127
fi

# The generated VM-entry matrix must match vmx/entry_checks.def and the
# recipes (tests/gen/). Python is only for generating tests: without it the
# check is skipped, never failed.
gen_log=$B/gen-check.log
if command -v python3 >/dev/null 2>&1; then
	if python3 "$HERE/gen/gen_entry_matrix.py" --check >"$gen_log" 2>&1; then
		echo "gen: 1 passed, 0 failed" | tee -a "$gen_log"
	else
		cat "$gen_log"
		echo "gen: 0 passed, 1 failed (run make genmatrix)" | tee -a "$gen_log"
	fi
	tally "matrix check" "$gen_log" gen: 0
else
	echo "run-all: python3 not installed; the generated-matrix check is skipped"
fi

rm -f "$trace_log.status" "$dbg_log.status" "$unit_log.status" "$guest_log.status" "$det_log.status" "$diff_log.status" "$verdict_log.status"
if [ "$skipped" != 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
exit "$status"
