#!/bin/sh
# bench/run.sh B GUEST_B: MIPS of vtxsim on the integer loop guest
# (bench/loop.c), and of Bochs on the same kernel when Bochs is installed;
# then VM exits per second on the VM-exit guest (bench/vmexit.c, below).
#
# Each simulator runs the kernel twice, with iters=SMALL and iters=BIG; the
# difference of the two runs' host wall time (date +%s.%N) removes boot and
# start-up cost. The instructions retired are vtxsim's own count
# ("vtxsim: N instructions, M cycles" on stderr with --stats), or else
# iterations x 17: the loop in bench/loop.c is 17 instructions from its
# label to its "jne" (see objdump -d GUEST_B/bench/loop.elf64, run_loop).
#
# Env: BENCH_ITERS (default 30000000, 510M instructions), BENCH_TIMEOUT
# (per run, default 150 s), BOCHS_RUNNER (default ../shared/tools/
# run-in-bochs.sh next to the repository).
set -u

B=${1:?usage: bench/run.sh B GUEST_B}
GUEST_B=${2:?usage: bench/run.sh B GUEST_B}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VTXSIM=$B/vtxsim
KERNEL=$GUEST_B/bench/loop.elf
BIG=${BENCH_ITERS:-30000000}
SMALL=1000
INSNS_PER_ITER=17
LIMIT=${BENCH_TIMEOUT:-150}
BOCHS_RUNNER=${BOCHS_RUNNER:-$ROOT/../shared/tools/run-in-bochs.sh}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vtxsim-bench.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM
status=0

now() {
	date +%s.%N
}

# calc EXPR: floating-point arithmetic through awk.
calc() {
	awk "BEGIN { printf \"%.2f\", ($1) }"
}

checksum_of() {
	sed -n 's/^loop: .*checksum=\(0x[0-9a-f]*\).*$/\1/p' "$1" | head -n 1
}

# run_vtxsim ITERS TAG: sets secs, insns ("" without --stats), sum.
run_vtxsim() {
	out=$TMP/vtx-$2.out
	err=$TMP/vtx-$2.err
	t0=$(now)
	timeout "$LIMIT" "$VTXSIM" -kernel "$KERNEL" -append "iters=$1" -no-reboot \
		--max-cycles 100000000000 $stats_opt > "$out" 2> "$err" < /dev/null
	rc=$?
	t1=$(now)
	secs=$(calc "$t1 - $t0")
	sum=$(checksum_of "$out")
	insns=$(sed -n 's/^vtxsim: \([0-9]*\) instructions.*$/\1/p' "$err" | tail -n 1)
	if [ "$rc" = 2 ] && [ -n "$stats_opt" ]; then
		return 1                # the caller retries without --stats
	fi
	if [ "$rc" != 1 ] || [ -z "$sum" ]; then
		echo "bench: vtxsim iters=$1 failed (exit status $rc, expected 1)"
		tail -n 3 "$err" | sed 's/^/    /'
		return 1
	fi
}

# mips NAME INSNS SECS HOW: prints NAME's line, sets mips; false when the
# difference of the two runs is too small to measure.
mips() {
	if [ "$(calc "$3 > 0.1")" != 1.00 ]; then
		echo "$1: the runs differ by $3 s, too little to measure; raise BENCH_ITERS"
		return 1
	fi
	mips=$(calc "$2 / $3 / 1e6")
	echo "$1: $mips MIPS ($2 instructions in $3 s, $4)"
}

bench_vtxsim() {
	if [ ! -x "$VTXSIM" ]; then
		echo "bench: $VTXSIM not built"
		return 1
	fi
	stats_opt=--stats
	run_vtxsim "$SMALL" small
	if [ "$rc" = 2 ]; then
		echo "bench: vtxsim rejected --stats; counting instructions statically"
		stats_opt=
		run_vtxsim "$SMALL" small || return 1
	elif [ "$rc" != 1 ]; then
		return 1
	fi
	small_secs=$secs
	small_insns=$insns
	run_vtxsim "$BIG" big || return 1
	vtx_sum=$sum
	if [ -n "$insns" ] && [ -n "$small_insns" ]; then
		vtx_insns=$((insns - small_insns))
		how="counted by vtxsim"
	else
		vtx_insns=$(((BIG - SMALL) * INSNS_PER_ITER))
		how="static count"
	fi
	mips vtxsim "$vtx_insns" "$(calc "$secs - $small_secs")" "$how" || return 1
	vtx_mips=$mips
}

# run_bochs ITERS: sets secs and sum from run-in-bochs.sh's output.
run_bochs() {
	out=$TMP/bochs-$1.out
	"$BOCHS_RUNNER" "$KERNEL" "iters=$1" "$LIMIT" > "$out" 2>&1
	secs=$(sed -n 's/^RESULT=exit WALL_S=\([0-9.]*\).*$/\1/p' "$out")
	sum=$(checksum_of "$out")
	if [ -z "$secs" ] || [ -z "$sum" ]; then
		echo "bench: Bochs iters=$1 did not finish:"
		tail -n 4 "$out" | sed 's/^/    /'
		return 1
	fi
}

bench_bochs() {
	if [ ! -x "$BOCHS_RUNNER" ] || ! command -v bochs-bin > /dev/null 2>&1; then
		echo "bochs: skipped (needs bochs-bin and $BOCHS_RUNNER)"
		return 1
	fi
	# Bochs's default sound driver (ALSA) aborts on hosts without a sound
	# card; the runner appends this knob to its bochsrc "cpu:" line, and
	# the newline makes it a "sound:" line of its own.
	if [ -z "${BOCHS_EXTRA_CPU+set}" ]; then
		BOCHS_EXTRA_CPU='
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy'
		export BOCHS_EXTRA_CPU
	fi
	run_bochs "$SMALL" || return 1
	small_secs=$secs
	run_bochs "$BIG" || return 1
	bochs_sum=$sum
	bochs_insns=$(((BIG - SMALL) * INSNS_PER_ITER))
	mips bochs "$bochs_insns" "$(calc "$secs - $small_secs")" "static count" || return 1
	bochs_mips=$mips
}

# ---- the VM-exit benchmark (bench/vmexit.c): round trips per second ----
# The kernel's guest executes CPUID in a loop; each CPUID exits, the host
# handler advances GUEST_RIP and VMRESUMEs. Two runs (iters=SMALL and
# iters=EXITS_BIG) per simulator; the difference of their host wall times
# divides the difference of their round trips. Env: BENCH_EXITS (default
# 2000000).
VMEXIT_KERNEL=$GUEST_B/bench/vmexit.elf
EXITS_BIG=${BENCH_EXITS:-2000000}

exits_of() {
	sed -n 's/^vmexit: iters=[0-9]* exits=\([0-9]*\).*$/\1/p' "$1" | head -n 1
}

# vmexit_vtxsim ITERS: sets secs, or fails.
vmexit_vtxsim() {
	out=$TMP/vmexit-vtx-$1.out
	t0=$(now)
	timeout "$LIMIT" "$VTXSIM" -kernel "$VMEXIT_KERNEL" -append "iters=$1" -no-reboot \
		--max-cycles 1000000000000 > "$out" 2>&1 < /dev/null
	rc=$?
	t1=$(now)
	secs=$(calc "$t1 - $t0")
	if [ "$rc" != 1 ] || [ "$(exits_of "$out")" != "$1" ]; then
		echo "bench: vtxsim vmexit iters=$1 failed (exit status $rc, expected 1)"
		tail -n 3 "$out" | sed 's/^/    /'
		return 1
	fi
}

vmexit_bochs() {
	out=$TMP/vmexit-bochs-$1.out
	"$BOCHS_RUNNER" "$VMEXIT_KERNEL" "iters=$1" "$LIMIT" > "$out" 2>&1
	secs=$(sed -n 's/^RESULT=exit WALL_S=\([0-9.]*\).*$/\1/p' "$out")
	if [ -z "$secs" ] || [ "$(exits_of "$out")" != "$1" ]; then
		echo "bench: Bochs vmexit iters=$1 did not finish:"
		tail -n 4 "$out" | sed 's/^/    /'
		return 1
	fi
}

# exits_rate NAME SECS: prints NAME's line, sets rate.
exits_rate() {
	if [ "$(calc "$2 > 0.1")" != 1.00 ]; then
		echo "$1: the runs differ by $2 s, too little to measure; raise BENCH_EXITS"
		return 1
	fi
	rate=$(calc "($EXITS_BIG - $SMALL) / $2")
	echo "$1: $rate VM exits per second ($((EXITS_BIG - SMALL)) CPUID exit + VMRESUME round trips in $2 s)"
}

bench_vmexit() {
	[ -r "$VMEXIT_KERNEL" ] || { echo "bench: $VMEXIT_KERNEL not built (make guests)"; return 1; }
	echo "bench: $VMEXIT_KERNEL, iters=$EXITS_BIG minus iters=$SMALL"
	vtx_rate=
	if vmexit_vtxsim "$SMALL"; then
		small_secs=$secs
		vmexit_vtxsim "$EXITS_BIG" && exits_rate vtxsim "$(calc "$secs - $small_secs")" && vtx_rate=$rate
	fi
	[ -n "$vtx_rate" ] || status=1
	if [ ! -x "$BOCHS_RUNNER" ] || ! command -v bochs-bin > /dev/null 2>&1; then
		echo "bochs: skipped (needs bochs-bin and $BOCHS_RUNNER)"
		return 0
	fi
	vmexit_bochs "$SMALL" || return 0
	small_secs=$secs
	vmexit_bochs "$EXITS_BIG" || return 0
	exits_rate bochs "$(calc "$secs - $small_secs")" || return 0
	[ -n "$vtx_rate" ] && echo "ratio: vtxsim/bochs = $(calc "$vtx_rate / $rate") (VM exits per second)"
	return 0
}

if [ ! -r "$KERNEL" ]; then
	echo "bench: $KERNEL not built (make guests)"
	exit 1
fi
echo "bench: $KERNEL, iters=$BIG minus iters=$SMALL, $INSNS_PER_ITER instructions per iteration"
vtx_ok=0
bochs_ok=0
bench_vtxsim && vtx_ok=1 || status=1
bench_bochs && bochs_ok=1
if [ "$vtx_ok" = 1 ] && [ "$bochs_ok" = 1 ]; then
	echo "ratio: vtxsim/bochs = $(calc "$vtx_mips / $bochs_mips")"
	[ "$vtx_sum" = "$bochs_sum" ] ||
		echo "bench: WARNING: checksums differ (vtxsim $vtx_sum, Bochs $bochs_sum)"
fi
bench_vmexit
exit "$status"
