#!/bin/sh
# gdb.sh VTXSIM GUEST_B: drive Debian's gdb in batch mode against vtxsim's
# GDB stub (docs/debugger.md, "The GDB stub"). Each session starts vtxsim
# with -gdb tcp::0 (the stub picks a free port and says which on stderr),
# runs gdb against it, then checks gdb's output for exact values and
# vtxsim's exit status. Everything runs under `timeout`: nothing can hang
# CI. run.sh calls this; it ends with "gdb: N passed, M failed".
set -u
VTXSIM=${1:?usage: gdb.sh VTXSIM GUEST_B}
GUEST_B=${2:?usage: gdb.sh VTXSIM GUEST_B}
passed=0
failed=0

if ! command -v gdb >/dev/null 2>&1; then
	echo "gdb.sh: gdb is not installed, the stub's tests are skipped (scripts/deps.sh installs it)"
	echo "gdb: 0 passed, 0 failed"
	exit 0
fi

tmp=$(mktemp -d)
vpid=
trap 'if [ -n "$vpid" ]; then kill "$vpid" 2>/dev/null; fi; rm -rf "$tmp"' EXIT

# start NAME KERNEL [vtxsim args...]: vtxsim in the background; sets $port.
start() {
	name=$1
	kernel=$2
	shift 2
	# shellcheck disable=SC2086
	timeout 60 "$VTXSIM" -gdb tcp::0 -kernel "$kernel" -no-reboot -serial none "$@" </dev/null \
		>"$tmp/$name.vtxsim" 2>"$tmp/$name.err" &
	vpid=$!
	port=
	for _ in $(seq 100); do
		port=$(sed -n 's/^vtxsim: gdb stub listening on port \([0-9]*\)$/\1/p' "$tmp/$name.err" 2>/dev/null)
		[ -n "$port" ] && break
		sleep 0.05
	done
}

# finish NAME: wait for vtxsim; its exit status in $tmp/NAME.status.
finish() {
	wait "$vpid"
	echo $? >"$tmp/$1.status"
	vpid=
}

# session NAME KERNEL GDB-ARGS...: a whole gdb session, output in $tmp/NAME.gdb
# ($vargs: more vtxsim arguments).
vargs=
session() {
	name=$1
	kernel=$2
	shift 2
	# shellcheck disable=SC2086
	start "$name" "$kernel" $vargs
	timeout 60 gdb -batch -nx -ex 'set architecture i386:x86-64' -ex "file $kernel" \
		-ex "target remote :$port" "$@" </dev/null >"$tmp/$name.gdb" 2>&1
	finish "$name"
}

ok() {
	passed=$((passed + 1))
}

bad() {
	failed=$((failed + 1))
	echo "FAIL gdb/$1: $2"
	sed 's/^/  gdb: /' "$tmp/$1.gdb" | tail -n 15
	sed 's/^/  stderr: /' "$tmp/$1.err" | head -n 5
}

# want NAME TEXT: gdb printed a line containing TEXT.
want() {
	if grep -q -F -- "$2" "$tmp/$1.gdb"; then ok; else bad "$1" "no line with '$2'"; fi
}

# status NAME N: vtxsim ended with status N.
status() {
	got=$(cat "$tmp/$1.status")
	if [ "$got" = "$2" ]; then ok; else bad "$1" "vtxsim exit status $got, expected $2"; fi
}

# sym KERNEL NAME: the symbol's address as gdb prints it (0x...).
sym() {
	printf '0x%x' "0x$(nm "$1" | awk -v n="$2" '$3 == n { print $1; exit }')"
}

# insn_len KERNEL ADDR: the length of the instruction at ADDR (objdump).
insn_len() {
	objdump -d "$1" --start-address="$2" --stop-address=$(($2 + 16)) |
		awk -F'\t' '/^ +[0-9a-f]+:/ { print split($2, b, " "); exit }'
}

B=$GUEST_B/boot.elf64

# Break, stepi, registers, memory. boot.elf64's _start (tests/guests/lib/
# boot.S) runs in 32-bit protected mode, paging off: 0x100015 is
# `mov %cr0, %eax` (0f 20 c0, 3 bytes), after `cli; cld; mov %eax, %ebp;
# mov $boot_stack_top, %esp`. EAX holds the multiboot magic 0x2badb002;
# CR0 is PE | ET = 0x11 (SDM vol. 3A 10.1.1, Table 10-1: ET set at reset).
# data_word is 0x0123456789abcdef (tests/guests/boot.c).
session regs "$B" -ex 'break *0x100015' -ex continue -ex 'info registers rip rax ebp esp' \
	-ex stepi -ex 'info registers rip rax' -ex 'x/2xw &data_word' -ex 'info registers cr0 efer' \
	-ex 'p $xmm0.uint128' -ex 'p/x $mxcsr' -ex 'info threads' -ex kill
want regs "Breakpoint 1, 0x0000000000100015 in _start ()"
want regs "rip            0x100015            0x100015 <_start+9>"
want regs "rax            0x2badb002          732803074"
want regs "ebp            0x2badb002          732803074"
want regs "esp            0x1a1000            1708032"
want regs "rip            0x100018            0x100018 <_start+12>"
want regs "rax            0x11                17"
want regs "0x108000 <data_word>:	0x89abcdef	0x01234567"
want regs "cr0            0x11                17"
want regs "efer           0x0                 0"
want regs "\$1 = 0"
want regs "\$2 = 0x1f80"
want regs "* 1    Thread 1 (vCPU 0) 0x0000000000100018 in _start ()"
want regs "[Inferior 1 (Remote target) killed]"
status regs 0

# 64-bit code: break at a symbol, stepi moves RIP by the instruction's
# length. vmx_baseline's kmain runs in long mode: CR0.PG|PE|ET, EFER.LME|LMA.
V=$GUEST_B/vmx_baseline.elf64
kmain=$(sym "$V" kmain)
next=$(printf '0x%x' $((kmain + $(insn_len "$V" "$kmain"))))
session sym64 "$V" -ex 'break kmain' -ex continue -ex 'info registers rip' -ex stepi \
	-ex 'info registers rip cr0 efer' -ex kill
want sym64 "Breakpoint 1, $(printf '0x%016x' "$kmain") in kmain ()"
want sym64 "rip            $kmain            $kmain <kmain>"
want sym64 "rip            $next            $next <kmain+$((next - kmain))>"
want sym64 "cr0            0x80000011          2147483665"
want sym64 "efer           0x500               1280"
status sym64 0

# Memory with paging on (boot.elf64's kmain runs in long mode on the
# identity map of tests/guests/lib/boot.S): reads and writes go through
# the page walk; gdb disassembles at RIP and unwinds the stack from
# memory; a read watchpoint (Z3) stops after check_entry_state reads
# data_word = 0x0123456789abcdef (81985529216486895).
bk=$(sym "$B" kmain)
session paging "$B" -ex 'break kmain' -ex continue -ex 'x/2xw &data_word' -ex 'set {int}&data_word = 0x12345678' \
	-ex 'x/2xw &data_word' -ex 'x/i $pc' -ex bt -ex 'set {int}&data_word = 0x89abcdef' \
	-ex 'rwatch *(long *)&data_word' -ex continue -ex kill
want paging "Breakpoint 1, $(printf '0x%016x' "$bk") in kmain ()"
want paging "0x108000 <data_word>:	0x89abcdef	0x01234567"
want paging "0x108000 <data_word>:	0x12345678	0x01234567"
want paging "=> $bk <kmain>:	"
want paging "#1  0x"
want paging " in guest_entry ()"
want paging "Hardware read watchpoint 2: *(long *)&data_word"
want paging "Value = 81985529216486895"
status paging 0

# VMX: a breakpoint in the VMX guest's code stops in non-root operation
# (info threads says so); `monitor vmx` and `monitor vmcs` show the VMX
# state and the current VMCS (its GUEST_RIP is where the VM entry went); stepi over its VMCALL steps into the VM exit:
# the next instruction is the host's, at HOST_RIP = vmx_host_entry
# (tests/guests/lib/vmx_guest.S), in root operation.
guest=$(sym "$V" vmx_guest64_code)
host=$(sym "$V" vmx_host_entry)
session vmx "$V" -ex 'break vmx_guest64_code' -ex continue -ex 'info threads' -ex 'monitor vmx' \
	-ex 'monitor vmcs GUEST_RIP' -ex 'monitor vmcs' -ex stepi -ex 'info threads' \
	-ex 'info registers rip' -ex 'monitor help' -ex delete -ex continue
want vmx "Breakpoint 1, $(printf '0x%016x' "$guest") in vmx_guest64_code ()"
want vmx "* 1    Thread 1 (vCPU 0, VMX non-root) $(printf '0x%016x' "$guest") in vmx_guest64_code ()"
want vmx "cpu 0: VMX non-root operation"
want vmx "GUEST_RIP                          $(printf '0x%016x' "$guest")  Guest RIP"
want vmx "-- control fields --"
want vmx "9:IA-32e mode guest"
want vmx "* 1    Thread 1 (vCPU 0, VMX root) $(printf '0x%016x' "$host") in vmx_host_entry ()"
want vmx "rip            $host            $host <vmx_host_entry>"
want vmx "list the commands, or explain one"
want vmx "[Inferior 1 (Remote target) exited with code 01]"
status vmx 1

# monitor reaches the shell's breakpoints: `catch vmexit` stops gdb's
# continue at the first VM exit (SIGTRAP, no reason gdb knows), on the
# host's first instruction.
session catch "$V" -ex 'monitor catch vmexit' -ex continue -ex 'info threads' -ex 'monitor delete' -ex kill
want catch "Program received signal SIGTRAP, Trace/breakpoint trap."
want catch "* 1    Thread 1 (vCPU 0, VMX root) $(printf '0x%016x' "$host") in vmx_host_entry ()"
status catch 0

# Writes: a register and memory, read back through the stub.
session write "$B" -ex 'set var $rbx = 0x1234' -ex 'p/x $rbx' -ex 'set {int}&data_word = 0x5a5a5a5a' \
	-ex 'x/2xw &data_word' -ex 'set var $xmm1.v2_int64[1] = 7' -ex 'p $xmm1.v2_int64' -ex kill
want write "\$1 = 0x1234"
want write "0x108000 <data_word>:	0x5a5a5a5a	0x01234567"
want write "\$2 = {0, 7}"
status write 0

# A watchpoint: _start stores CR0 into boot_entry_cr0; gdb uses a
# hardware watchpoint (Z2) and stops after the store, as on hardware.
session watch "$B" -ex "watch *(int *)&boot_entry_cr0" -ex continue -ex 'info registers rip' -ex kill
want watch "Hardware watchpoint 1: *(int *)&boot_entry_cr0"
want watch "New value = 17"
want watch "rip            0x10001d            0x10001d <_start+17>"
status watch 0

# The end of the run: boot.elf64 without its -append fails one check and
# writes 1 to isa-debug-exit: status (1 << 1) | 1 = 3, gdb's exit code.
session end "$B" -ex continue
want end "[Inferior 1 (Remote target) exited with code 03]"
status end 3

# Detach: the run goes on to its end without gdb, with the same status.
session detach "$B" -ex 'break *0x100015' -ex continue -ex detach
want detach "Breakpoint 1, 0x0000000000100015 in _start ()"
want detach "[Inferior 1 (Remote target) detached]"
status detach 3

# monitor: shell commands through qRcmd.
session monitor "$B" -ex 'monitor help' -ex 'monitor nosuchcommand' -ex kill
want monitor "list the commands, or explain one"
want monitor "error: unknown command 'nosuchcommand'"
status monitor 0

# A triple fault (tests/guests/triple.c: int3 with an empty IDT) stops
# with SIGTRAP and says so with the fault-chain report (sim/forensics.h); continuing ends the run as -no-reboot does
# without gdb, status 4.
session triple "$GUEST_B/triple.elf64" -ex continue -ex continue
want triple "vtxsim: cpu0 shut down (triple fault); continuing resets or ends the run"
want triple "cpu0: triple fault: the processor shut down at cycle"
want triple "  the chain of faults, oldest first"
want triple "Program received signal SIGTRAP, Trace/breakpoint trap."
want triple "[Inferior 1 (Remote target) exited with code 04]"
status triple 4

# vCPUs are threads. At the start the AP waits for a start-up IPI in the
# reset state: CS.base 0xffff0000, RIP 0xfff0 (SDM vol. 3A 10.1.4).
vargs='-smp 2 -append cpus=2'
session smp "$GUEST_B/smp.elf64" -ex 'info threads' -ex 'thread 2' -ex 'info registers rip cs' -ex continue
vargs=
want smp "* 1    Thread 1 (vCPU 0) 0x000000000010000c in _start ()"
want smp "  2    Thread 2 (vCPU 1) 0x000000000000fff0 in ?? ()"
want smp "[Switching to thread 2 (Thread 2)]"
want smp "rip            0xfff0              0xfff0"
want smp "cs             0xf000              61440"
want smp "[Inferior 1 (Remote target) exited with code 01]"
status smp 1

# Ctrl-C: serial_input.elf64 waits for input that never comes; gdb's
# SIGINT reaches the stub as 0x03 between two slices of the run. (timeout
# --foreground passes the SIGINT to gdb once; without it timeout sends it
# to its whole process group too, and gdb, seeing a second one, gives up.)
start ctrlc "$GUEST_B/serial_input.elf64"
timeout --foreground 60 gdb -batch -nx -ex 'set architecture i386:x86-64' -ex "target remote :$port" -ex continue \
	-ex 'info threads' -ex kill </dev/null >"$tmp/ctrlc.gdb" 2>&1 &
gpid=$!
sleep 2
kill -INT "$gpid"
wait "$gpid"
finish ctrlc
want ctrlc "Program received signal SIGINT, Interrupt."
want ctrlc "* 1    Thread 1 (vCPU 0)"
status ctrlc 0

echo "gdb: $passed passed, $failed failed"
[ "$failed" = 0 ]
