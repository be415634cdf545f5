#!/bin/sh
# determinism.sh VTXSIM GUEST_DIR: the determinism and record/replay tests.
#
# Determinism: a multi-CPU kernel that uses IPIs and timers runs twice with
# --stats; the serial output must be byte-identical and so must the
# "vtxsim: cpuK: N instructions, M cycles" lines (every CPU retired the same
# instructions in the same simulated cycles). Each run must also pass (a
# kernel that fails at once would be trivially deterministic).
#
# Record/replay: serial_input reads a line from COM1. It runs once with
# stdin from a file and --record, once with --replay and stdin from
# /dev/null: same output, same --stats lines; the record file starts with
# "vtxsim-input 1", has one "CYCLE serial XX" line per input byte (the input
# in order) and no byte reached the guest before its recorded cycle.
#
# Prints "ok NAME" or "FAIL NAME: why" per case, ends with
# "determinism: N passed, M failed". Logs go to GUEST_DIR/logs/determinism/.
set -u

VTXSIM=${1:?usage: determinism.sh VTXSIM GUEST_DIR}
GUEST_DIR=${2:?usage: determinism.sh VTXSIM GUEST_DIR}
MAX_CYCLES=${GUEST_MAX_CYCLES:-2000000000}
WALL_LIMIT=${GUEST_TIMEOUT:-120}
OUT=$GUEST_DIR/logs/determinism
INPUT_LINE='the quick brown fox jumps over the lazy dog, 0123456789'
passed=0
failed=0

mkdir -p "$OUT" || exit 2

ok() {
	passed=$((passed + 1))
	echo "ok $1"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL $1: $2"
}

# run TAG KERNEL STDIN [ARGS...]: one run; stdout to TAG.out, stderr to
# TAG.err, the --stats lines to TAG.stats; sets $status. (Shell variables
# are global: run_* are run's own.)
run() {
	run_tag=$1
	run_kernel=$2
	run_input=$3
	shift 3
	timeout "$WALL_LIMIT" "$VTXSIM" -kernel "$run_kernel" -no-reboot --max-cycles "$MAX_CYCLES" \
		--stats "$@" < "$run_input" > "$OUT/$run_tag.out" 2> "$OUT/$run_tag.err"
	status=$?
	grep -a '^vtxsim: .*instructions, [0-9]* cycles$' "$OUT/$run_tag.err" > "$OUT/$run_tag.stats"
}

# first_diff A B: the first differing line of two files, for a FAIL message.
first_diff() {
	diff "$1" "$2" | sed -n '2p'
}

# same_runs NAME A B NCPUS: compares two finished runs (tags A and B).
same_runs() {
	if ! cmp -s "$OUT/$2.out" "$OUT/$3.out"; then
		fail "$1" "serial output differs: $(first_diff "$OUT/$2.out" "$OUT/$3.out")"
	elif ! cmp -s "$OUT/$2.stats" "$OUT/$3.stats"; then
		fail "$1" "--stats lines differ: $(first_diff "$OUT/$2.stats" "$OUT/$3.stats")"
	elif [ "$4" -gt 1 ] && [ "$(grep -c ': cpu[0-9]*: ' "$OUT/$2.stats")" != "$4" ]; then
		fail "$1" "expected $4 per-CPU --stats lines, got $(grep -c ': cpu[0-9]*: ' "$OUT/$2.stats")"
	elif grep -q ': cpu[0-9]*: 0 instructions' "$OUT/$2.stats"; then
		fail "$1" "a CPU retired no instructions: $(grep -m1 ': 0 instructions' "$OUT/$2.stats")"
	else
		return 0
	fi
	return 1
}

# twice NAME KERNEL NCPUS [ARGS...]: the determinism case.
twice() {
	name=$1
	kernel=$GUEST_DIR/$2.elf
	ncpus=$3
	shift 3
	if [ ! -r "$kernel" ]; then
		fail "$name" "kernel $kernel not built"
		return
	fi
	run "$name.1" "$kernel" /dev/null -smp "$ncpus" "$@"
	s1=$status
	run "$name.2" "$kernel" /dev/null -smp "$ncpus" "$@"
	if [ "$s1" != 1 ] || [ "$status" != 1 ]; then
		fail "$name" "runs must pass (status 1), got $s1 and $status; see $OUT/$name.1.out"
	elif same_runs "$name" "$name.1" "$name.2" "$ncpus"; then
		ok "$name"
	fi
}

# check_record NAME REC INPUT: the record file's format and contents.
check_record() {
	if [ "$(sed -n 1p "$2")" != "vtxsim-input 1" ]; then
		fail "$1" "record file $2 lacks the \"vtxsim-input 1\" header"
		return 1
	fi
	bad=$(sed 1d "$2" | grep -v -E '^[0-9]+ serial [0-9a-f]{2}$' | grep -v -E '^end [0-9]+$' | head -n 1)
	if [ -n "$bad" ]; then
		fail "$1" "record file line is not \"CYCLE serial XX\": $bad"
		return 1
	fi
	want=$(od -An -v -tx1 "$3" | tr -s ' \n' '\n\n' | sed '/^$/d' | tr '\n' ' ')
	got=$(grep -E '^[0-9]+ serial ' "$2" | cut -d' ' -f3 | tr '\n' ' ')
	if [ "$want" != "$got" ]; then
		fail "$1" "recorded bytes are not the input, one line per byte: got [$got]"
		return 1
	fi
	return 0
}

# check_arrival NAME REC OUT: byte k's "tsc=" in the guest output is not
# before the cycle the record gives it.
check_arrival() {
	late=$(grep -E '^[0-9]+ serial ' "$2" | cut -d' ' -f1 > "$OUT/$1.cycles"
		grep -a '^RX ' "$3" | sed 's/.*tsc=//' | paste -d' ' "$OUT/$1.cycles" - |
		awk '$2 == "" || $2 + 0 < $1 + 0 { print; exit }')
	if [ -n "$late" ]; then
		fail "$1" "a byte was seen before its recorded cycle (cycle, tsc): $late"
		return 1
	fi
	return 0
}

# record_replay NAME MODE: the record/replay case for serial_input mode=MODE.
record_replay() {
	name=$1
	kernel=$GUEST_DIR/serial_input.elf
	input=$OUT/$name.input
	rec=$OUT/$name.rec
	if [ ! -r "$kernel" ]; then
		fail "$name" "kernel $kernel not built"
		return
	fi
	printf '%s\n' "$INPUT_LINE" > "$input"
	rm -f "$rec"
	run "$name.record" "$kernel" "$input" --record "$rec" -append "mode=$2"
	s1=$status
	run "$name.replay" "$kernel" /dev/null --replay "$rec" -append "mode=$2"
	if [ "$s1" != 1 ] || [ "$status" != 1 ]; then
		fail "$name" "runs must pass (status 1), got $s1 (record) and $status (replay); see $OUT/$name.record.out"
	elif ! grep -a -q -F -x "LINE: $INPUT_LINE" "$OUT/$name.record.out"; then
		fail "$name" "the guest did not read the input line: $(grep -a -m1 '^LINE:' "$OUT/$name.record.out")"
	elif ! [ -r "$rec" ]; then
		fail "$name" "--record wrote no $rec"
	elif check_record "$name" "$rec" "$input" && check_arrival "$name" "$rec" "$OUT/$name.record.out" &&
		same_runs "$name" "$name.record" "$name.replay" 1; then
		ok "$name"
	fi
}

twice ipi ipi 4
twice smp smp 8 -append "cpus=8"
# girq's local APIC timer test, once it exists.
if [ -r "$GUEST_DIR/lapic.elf" ]; then
	twice lapic lapic 1
fi
record_replay replay-poll poll
record_replay replay-pic pic
record_replay replay-ioapic ioapic

echo "determinism: $passed passed, $failed failed"
[ "$failed" = 0 ]
