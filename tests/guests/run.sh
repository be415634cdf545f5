#!/bin/sh
# run.sh VTXSIM GUEST_DIR: boots every case of tests/guests/guests.list
# under VTXSIM, checks its exit status and serial log, prints "ok NAME" or
# "FAIL NAME: why" per case and ends with "guests: N passed, M failed".
# Serial logs go to GUEST_DIR/logs/NAME.log (stderr to NAME.err).
set -u

VTXSIM=${1:?usage: run.sh VTXSIM GUEST_DIR}
GUEST_DIR=${2:?usage: run.sh VTXSIM GUEST_DIR}
LIST=$(dirname "$0")/guests.list
MAX_CYCLES=${GUEST_MAX_CYCLES:-2000000000}
WALL_LIMIT=${GUEST_TIMEOUT:-120}
LOGS=$GUEST_DIR/logs
passed=0
failed=0

mkdir -p "$LOGS" || exit 2
[ -x "$VTXSIM" ] || echo "run.sh: $VTXSIM is missing or not executable; every case will fail" >&2

# fail NAME REASON [LOG]: count a failure, show the first FAIL: line.
fail() {
	failed=$((failed + 1))
	echo "FAIL $1: $2"
	if [ $# -ge 3 ] && [ -f "$3" ]; then
		grep -a -m1 '^FAIL:' "$3" | sed 's/^/    /'
	fi
}

# describe STATUS: what a vtxsim exit status means.
describe() {
	case $1 in
	0) echo "power-off" ;;
	2) echo "usage error" ;;
	4) echo "triple fault" ;;
	6) echo "cycle limit" ;;
	8) echo "halted forever" ;;
	10) echo "internal error" ;;
	12) echo "VMX abort" ;;
	124) echo "wall-clock timeout" ;;
	126 | 127) echo "could not run $VTXSIM" ;;
	*[13579]) echo "guest exit code $(($1 / 2))" ;;
	*) echo "unknown" ;;
	esac
}

# summary_clean LOG: true when the log ends a status-1 case as it should.
summary_clean() {
	grep -a -q '^SUMMARY: [0-9]* tests, 0 unexpected failures' "$1" && ! grep -a -q '^FAIL:' "$1"
}

# run_case NAME STATUS [expect=TEXT]... [expect_err=TEXT]... [ARGS...]
run_case() {
	name=$1
	want=$2
	shift 2
	case $name in
	*.*) kernel=$GUEST_DIR/$name ;;
	*) kernel=$GUEST_DIR/$name.elf ;;
	esac
	log=$LOGS/$(echo "$name" | tr / _).log
	expects=""
	err_expects=""
	missing=""
	while [ $# -gt 0 ]; do
		case $1 in
		expect=*) expects="$expects${expects:+
}${1#expect=}" ;;
		expect_err=*) err_expects="$err_expects${err_expects:+
}${1#expect_err=}" ;;
		*) break ;;
		esac
		shift
	done
	if [ ! -r "$kernel" ]; then
		fail "$name" "kernel $kernel not built"
		return
	fi
	timeout "$WALL_LIMIT" "$VTXSIM" -kernel "$kernel" -no-reboot --max-cycles "$MAX_CYCLES" "$@" \
		> "$log" 2> "${log%.log}.err" < /dev/null
	got=$?
	if [ -n "$expects" ]; then
		missing=$(printf '%s\n' "$expects" | while IFS= read -r text; do
			grep -a -q -F -e "$text" "$log" || echo "$text"
		done | head -n 1)
	fi
	if [ -z "$missing" ] && [ -n "$err_expects" ]; then
		missing=$(printf '%s\n' "$err_expects" | while IFS= read -r text; do
			grep -a -q -F -e "$text" "${log%.log}.err" || echo "stderr: $text"
		done | head -n 1)
	fi
	if [ "$got" = 124 ]; then
		fail "$name" "timed out after ${WALL_LIMIT}s (wall clock)" "$log"
	elif [ "$got" != "$want" ]; then
		fail "$name" "expected status $want ($(describe "$want")), got $got ($(describe "$got"))" "$log"
		sed -n '$p' "${log%.log}.err" | sed 's/^/    stderr: /'
	elif [ "$want" = 1 ] && ! summary_clean "$log"; then
		fail "$name" "status 1 but no clean SUMMARY line" "$log"
	elif grep -a -q '^FAIL:' "$log"; then
		fail "$name" "the log has FAIL lines" "$log"
	elif [ -n "$missing" ]; then
		fail "$name" "log lacks \"$missing\""
	else
		passed=$((passed + 1))
		echo "ok $name"
	fi
}

if [ ! -r "$LIST" ]; then
	echo "run.sh: $LIST not found" >&2
	echo "guests: 0 passed, 1 failed"
	exit 1
fi
while IFS= read -r line || [ -n "$line" ]; do
	case $line in
	'' | '#'*) continue ;;
	esac
	if ! (eval "set -- $line") 2> /dev/null; then
		fail "?" "cannot parse guests.list line: $line"
		continue
	fi
	eval "set -- $line"
	if [ $# -lt 2 ]; then
		fail "${1:-?}" "bad line in guests.list: $line"
		continue
	fi
	run_case "$@"
done < "$LIST"

echo "guests: $passed passed, $failed failed"
[ "$failed" = 0 ]
