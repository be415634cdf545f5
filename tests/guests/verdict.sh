#!/bin/sh
# verdict.sh VTXSIM GUEST_DIR: the VM-entry verdict names the rule that was
# broken. The generated conformance matrix (vmx_entry_matrix.gen) breaks one
# check of vmx/entry_checks.def per case and reports "PASS: ID (section):
# outcome" when the guest saw the SDM's outcome; the guest cannot see which
# check vtxsim blamed, so this runs it with --trace vmx and requires that
# the JSON verdict line ({"event":"vmentry-fail","check":"ID",...}) printed
# for that case names the same ID. Every case of every model counts.
#
# Prints "ok MODEL: N verdicts" or "FAIL ..." lines, ends with
# "verdict: N passed, M failed". Logs go to GUEST_DIR/logs/verdict/.
set -u

VTXSIM=${1:?usage: verdict.sh VTXSIM GUEST_DIR}
GUEST_DIR=${2:?usage: verdict.sh VTXSIM GUEST_DIR}
WALL_LIMIT=${GUEST_TIMEOUT:-120}
OUT=$GUEST_DIR/logs/verdict
passed=0
failed=0
mkdir -p "$OUT" || exit 2

# The flagged models offer what no model row has (guests.vts runs the same).
FLAGS=+vmx-tertiary,+vmx-spp,+vmx-pt-gpa,+vmx-exit-secondary,+vmx-entry-load-bndcfgs,-vmx-ept-ad
for model in icelake-server haswell core2 "icelake-server,$FLAGS,-vmx-any-errcode,-vmx-inject-len0" \
	"haswell,$FLAGS"; do
	log=$OUT/$(echo "$model" | tr ',+' '_p').log
	timeout "$WALL_LIMIT" "$VTXSIM" -kernel "$GUEST_DIR/vmx_entry_matrix.gen.elf" -no-reboot \
		-cpu "$model" --trace vmx >"$log" 2>&1
	# For each "PASS: ID (" line (a case's failing half), the last verdict
	# before it must name ID; verdicts are consumed so a stale one never counts.
	res=$(awk '
		/"event":"vmentry-fail"/ {
			v = $0; sub(/.*"check":"/, "", v); sub(/".*/, "", v); last = v; next
		}
		/^PASS: [A-Z0-9_]+ \(/ {
			id = $2
			if (last == id) ok++; else { bad++; if (!first) first = id " blamed " (last == "" ? "nothing" : last) }
			last = ""
		}
		END { printf "%d %d %s\n", ok, bad, first }' "$log")
	ok=${res%% *}
	rest=${res#* }
	bad=${rest%% *}
	first=${rest#* }
	if [ "$bad" = 0 ] && [ "$ok" -gt 0 ] && grep -q "^SUMMARY: .* 0 unexpected failures" "$log"; then
		echo "ok $model: $ok verdicts name the broken check"
		passed=$((passed + 1))
	else
		echo "FAIL $model: $ok verdicts right, $bad wrong (first: $first); see $log"
		failed=$((failed + 1))
	fi
done
echo "verdict: $passed passed, $failed failed"
