#!/bin/sh
# trace.sh VTXSIM GUEST_DIR: the JSON trace (--trace, sim/trace.c) and the
# triple-fault / VMX-abort report (sim/forensics.c).
#
# - exits: known VM exits of vmx_exit_io and vmx_ept_perm, line for line
#   (reason, qualification, guest RIP from the guest's symbols, instruction
#   length, guest-physical/linear address), cycles left out;
# - determinism: two traced runs write the same bytes, and a traced run ends
#   with the status and --stats line of an untraced one;
# - insn: one line per retired instruction, the first at the ELF entry;
# - triple: the fault chain of triple.elf (vectors, error codes, causes),
#   with and without the trace, and with a reset (no -no-reboot); the
#   chains of dbg_triple.elf (not-present gates, a non-canonical stack);
# - abort: the VMX-abort report of vmx_exit_state abort=1;
# - result: the run result (--result, sim/result.h) of vmx_exit_insn and
#   dbg_badentry holds the exits, VMX-instruction outcomes and failed
#   entry checks their sources name; with --result (and --trace beside it)
#   the run prints the same COM1 output and --stats line as without;
# - explain: --explain lines of vmx_exit_io (entry, I/O exits), dbg_badentry
#   (failed checks, exit 34), vmx_exit_window/vmx_exit_events (injection,
#   pending MTF, IDT vectoring); --exit-summary counts equal --result's and
#   the trace's; the same COM1 output and --stats line as without;
# - bad options: one line and status 2.
#
# Prints "ok NAME" or "FAIL NAME: why" lines, ends with
# "trace: N passed, M failed". Files go to GUEST_DIR/logs/trace/.
set -u

VTXSIM=${1:?usage: trace.sh VTXSIM GUEST_DIR}
GUEST_DIR=${2:?usage: trace.sh VTXSIM GUEST_DIR}
OUT=$GUEST_DIR/logs/trace
passed=0
failed=0
mkdir -p "$OUT" || exit 2

ok() { echo "ok $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# run NAME KERNEL ARGS...: vtxsim -no-reboot, serial to NAME.serial,
# stderr to NAME.err; the status in $st.
run() {
	name=$1
	kernel=$2
	shift 2
	timeout 120 "$VTXSIM" -kernel "$GUEST_DIR/$kernel" -serial "file:$OUT/$name.serial" --max-cycles 4000000000 \
		"$@" 2>"$OUT/$name.err"
	st=$?
}

# sym ELF NAME: the symbol's address as the trace writes it (0x...).
sym() {
	nm "$GUEST_DIR/$1" | awk -v s="$2" '$3 == s { sub(/^0+/, "", $1); print "0x" $1 }'
}

# has NAME FILE LINE: FILE (cycles removed) holds LINE.
has() {
	if sed 's/"cycle":[0-9]*,//' "$2" | grep -qxF "$3"; then
		return 0
	fi
	fail "$1" "no line $3 in $2"
	return 1
}

# ---- exits ----

exits_io() {
	run exits_io vmx_exit_io.elf -no-reboot --trace exits --trace-file "$OUT/exits_io.json"
	[ "$st" = 1 ] || { fail exits_io "status $st, want 1"; return; }
	# in $0x71,%al / %ax / %eax: Table 28-5 size 0/1/3, IN (bit 3),
	# immediate (bit 6), port 0x71 (bits 31:16); E4 71, 66 E5 71, E5 71.
	for t in "gio_0 0x710048 2" "gio_1 0x710049 3" "gio_2 0x71004b 2" "gbm_1 0x710048 2"; do
		set -- $t
		rip=$(sym vmx_exit_io.elf "$1")
		has exits_io "$OUT/exits_io.json" "{\"cpu\":0,\"event\":\"vmexit\",\"reason\":30,\"name\":\"IO_INSTRUCTION\",\"entry_failure\":false,\"qual\":\"$2\",\"guest_rip\":\"$rip\",\"intr_info\":\"0x0\",\"insn_len\":$3}" || return
	done
	ok exits_io
}

exits_ept() {
	run exits_ept vmx_ept_perm.elf -no-reboot --trace exits --trace-file "$OUT/exits_ept.json"
	[ "$st" = 1 ] || { fail exits_ept "status $st, want 1"; return; }
	# The first case: a supervisor data read (g_rd: mov (%rbx),%rax) of
	# 0xc0000000 through a not-readable EPT PTE: qualification read (bit
	# 0), linear address valid and translated (bits 7, 8), writable (10);
	# no instruction length (27.2.5).
	first=$(grep '"reason":48' "$OUT/exits_ept.json" | head -n 1 | sed 's/"cycle":[0-9]*,//')
	want="{\"cpu\":0,\"event\":\"vmexit\",\"reason\":48,\"name\":\"EPT_VIOLATION\",\"entry_failure\":false,\"qual\":\"0x581\",\"guest_rip\":\"$(sym vmx_ept_perm.elf g_rd)\",\"intr_info\":\"0x0\",\"gpa\":\"0xc0000000\",\"gla\":\"0xc0000000\"}"
	if [ "$first" = "$want" ]; then ok exits_ept; else fail exits_ept "first EPT violation $first, want $want"; fi
}

# ---- determinism ----

determinism() {
	cats=vmx,exits,int,io,msr
	run det1 vmx_exit_io.elf -no-reboot --stats --trace $cats --trace-file "$OUT/det1.json"
	s1=$st
	run det2 vmx_exit_io.elf -no-reboot --stats --trace $cats --trace-file "$OUT/det2.json"
	s2=$st
	run det0 vmx_exit_io.elf -no-reboot --stats
	s0=$st
	if ! cmp -s "$OUT/det1.json" "$OUT/det2.json"; then
		fail determinism "two traced runs wrote different traces ($OUT/det1.json, det2.json)"
	elif [ "$s1" != "$s0" ] || [ "$s2" != "$s0" ]; then
		fail determinism "statuses $s1/$s2 traced, $s0 untraced"
	elif [ "$(grep instructions "$OUT/det1.err")" != "$(grep instructions "$OUT/det0.err")" ]; then
		fail determinism "traced: $(grep instructions "$OUT/det1.err"); untraced: $(grep instructions "$OUT/det0.err")"
	elif [ "$(grep -c '"event":"io"' "$OUT/det1.json")" = 0 ] || [ "$(grep -c '"event":"vmentry"' "$OUT/det1.json")" = 0 ]; then
		fail determinism "no io or vmentry lines in $OUT/det1.json"
	else
		ok determinism
	fi
}

# ---- insn ----

insn() {
	run insn boot.elf -no-reboot --stats -append "vtxsim-boot-test alpha=1 beta=two" --trace insn \
		--trace-file "$OUT/insn.json"
	[ "$st" = 1 ] || { fail insn "status $st, want 1"; return; }
	entry=$(sym boot.elf _start)
	first=$(head -n 1 "$OUT/insn.json")
	n=$(grep -c '"event":"insn"' "$OUT/insn.json")
	retired=$(sed -n 's/^vtxsim: \([0-9]*\) instructions.*/\1/p' "$OUT/insn.err")
	# tests/guests/lib: _start begins with cli (fa) at cycle 0.
	if [ "$first" != "{\"cycle\":0,\"cpu\":0,\"event\":\"insn\",\"rip\":\"$entry\",\"bytes\":\"fa\"}" ]; then
		fail insn "first line $first"
	elif [ "$n" != "$retired" ]; then
		fail insn "$n insn lines for $retired retired instructions"
	else
		ok insn
	fi
}

# ---- triple fault ----

# chain_ok NAME ERR: the chain lines of the report in ERR, RIPs masked,
# are $OUT/NAME.want.
chain_ok() {
	sed -n 's/ at 0x0008:0x[0-9a-f]*: / at CS:RIP: /p' "$2" | grep '^  [0-9]\. ' >"$OUT/$1.chain"
	if ! cmp -s "$OUT/$1.chain" "$OUT/$1.want"; then
		fail "$1" "the chain in $2 differs from $OUT/$1.want"
		return 1
	fi
	if ! grep -qx '  mode: IA-32e mode, 64-bit, 4-level paging, CPL 0' "$2" || ! grep -q '^  IDTR base 0x' "$2" ||
	   ! grep -qx '  VMX: not in VMX operation' "$2"; then
		fail "$1" "mode, IDTR or VMX line missing in $2"
		return 1
	fi
}

# The chain triple.c provokes: int3 with an empty IDT (limit 0). #BP's
# gate is beyond the limit: #GP(3*8+2 = 0x1a, EXT 0: INT3 is software);
# #GP's too: #GP(13*8+2+1 = 0x6b), and #GP after #GP is a double fault
# (Table 6-5); #DF's too: #GP(8*8+2+1 = 0x43) while delivering #DF.
triple_want() {
	cat >"$OUT/$1.want" <<'EOF'
  1. #BP (breakpoint, software exception) at CS:RIP: IDT entry 3 beyond IDT limit 0x0; raised #GP(0x1a) (general protection)
  2. #GP(0x1a) (general protection) at CS:RIP: IDT entry 13 beyond IDT limit 0x0; raised #GP(0x6b) (general protection), which after #GP is a double fault
  3. #DF(0x0) (double fault) at CS:RIP: IDT entry 8 beyond IDT limit 0x0; raised #GP(0x43) (general protection) while delivering #DF: triple fault, shutdown
EOF
}

# dbg_triple.c mode=np: not-present gates raise #NP with the IDT error
# code (vector*8 + 2 + EXT): 0x33, 0x5b, 0x43. mode=stack: a
# non-canonical RSP makes every push #SS(EXT = 1) (vol. 2 INT n, IA-32e).
dbg_triple() {
	mode=$1
	run "triple_$mode" dbg_triple.elf -no-reboot -append "mode=$mode"
	[ "$st" = 4 ] || { fail "triple_$mode" "status $st, want 4"; return; }
	if [ "$mode" = np ]; then
		cat >"$OUT/triple_$mode.want" <<'EOF'
  1. #UD (invalid opcode) at CS:RIP: IDT entry 6 is a not-present gate; raised #NP(0x33) (segment not present)
  2. #NP(0x33) (segment not present) at CS:RIP: IDT entry 11 is a not-present gate; raised #NP(0x5b) (segment not present), which after #NP is a double fault
  3. #DF(0x0) (double fault) at CS:RIP: IDT entry 8 is a not-present gate; raised #NP(0x43) (segment not present) while delivering #DF: triple fault, shutdown
EOF
	else
		cat >"$OUT/triple_$mode.want" <<'EOF'
  1. #UD (invalid opcode) at CS:RIP: pushing the frame for vector 6 faulted (stack pointer 0x8000000000001000); raised #SS(0x1) (stack-segment fault)
  2. #SS(0x1) (stack-segment fault) at CS:RIP: pushing the frame for vector 12 faulted (stack pointer 0x8000000000001000); raised #SS(0x1) (stack-segment fault), which after #SS is a double fault
  3. #DF(0x0) (double fault) at CS:RIP: pushing the frame for vector 8 faulted (stack pointer 0x8000000000001000); raised #SS(0x1) (stack-segment fault) while delivering #DF: triple fault, shutdown
EOF
	fi
	chain_ok "triple_$mode" "$OUT/triple_$mode.err" && ok "triple_$mode"
}

triple() {
	run triple triple.elf -no-reboot
	[ "$st" = 4 ] || { fail triple "status $st, want 4"; return; }
	triple_want triple
	chain_ok triple "$OUT/triple.err" && ok triple
}

triple_traced() {
	run triple_traced triple.elf -no-reboot --trace int --trace-file "$OUT/triple.json"
	[ "$st" = 4 ] || { fail triple_traced "status $st, want 4"; return; }
	triple_want triple_traced
	chain_ok triple_traced "$OUT/triple_traced.err" || return
	tail -n 4 "$OUT/triple.json" | sed 's/"cycle":[0-9]*,//; s/"rip":"0x[0-9a-f]*"/"rip":R/' >"$OUT/triple.tail"
	cat >"$OUT/triple.tail.want" <<'EOF'
{"cpu":0,"event":"delivery","vector":3,"kind":"soft-exception","rip":R}
{"cpu":0,"event":"delivery","vector":13,"kind":"exception","error":"0x1a","rip":R}
{"cpu":0,"event":"delivery","vector":8,"kind":"exception","error":"0x0","rip":R}
{"cpu":0,"event":"triple-fault","vector":13,"rip":R}
EOF
	if cmp -s "$OUT/triple.tail" "$OUT/triple.tail.want"; then ok triple_traced; else
		fail triple_traced "the last lines of $OUT/triple.json differ from $OUT/triple.tail.want"; fi
}

# Without -no-reboot the machine resets after the report: the report is
# printed at each triple fault (the run ends at the cycle limit).
triple_reset() {
	timeout 120 "$VTXSIM" -kernel "$GUEST_DIR/triple.elf" -serial none --max-cycles 2000000 2>"$OUT/triple_reset.err"
	st=$?
	n=$(grep -c '^cpu0: triple fault: the processor shut down' "$OUT/triple_reset.err")
	if [ "$st" != 6 ]; then
		fail triple_reset "status $st, want 6 (cycle limit)"
	elif [ "$n" -lt 2 ]; then
		fail triple_reset "$n reports in $OUT/triple_reset.err, want one per reset"
	else
		ok triple_reset
	fi
}

# ---- VMX abort ----

vmx_abort() {
	run vmx_abort vmx_exit_state.elf -no-reboot -append abort=1
	[ "$st" = 12 ] || { fail vmx_abort "status $st, want 12"; return; }
	e=$OUT/vmx_abort.err
	# vmx_exit_state.c: a VMCALL exit whose MSR-store area cannot be written (27.7 indicator 1).
	if ! grep -q '^cpu0: VMX abort at cycle [0-9]*: indicator 1, failure in saving guest MSRs (VM-exit MSR-store area) (SDM vol. 3C 27.7); VMCS pointer 0x' "$e" ||
	   ! grep -q '^  VMX: aborted during a VM exit, VMXON region 0x[0-9a-f]*, current VMCS 0x[0-9a-f]* (launched)$' "$e" ||
	   ! grep -qx '  last VM exit (VMCS exit fields): reason 18 (VMCALL), qualification 0x0' "$e" ||
	   ! grep -q '^  guest state: GUEST_RIP 0x' "$e" || ! grep -q '^  host state: HOST_RIP 0x' "$e"; then
		fail vmx_abort "report lines missing in $e"
	else
		ok vmx_abort
	fi
}

# ---- the run result ----

# holds NAME FILE LINE...: FILE has each LINE, whole.
holds() {
	name=$1
	file=$2
	shift 2
	for l in "$@"; do
		grep -qxF "$l" "$file" || { fail "$name" "no line '$l' in $file"; return 1; }
	done
}

result() {
	run res0 vmx_exit_insn.elf -no-reboot --stats
	s0=$st
	run res1 vmx_exit_insn.elf -no-reboot --stats --result "$OUT/res1.txt" --trace exits --trace-file "$OUT/res1.json"
	[ "$st" = 1 ] && [ "$s0" = 1 ] || { fail result "status $st with --result, $s0 without; want 1"; return; }
	cmp -s "$OUT/res0.serial" "$OUT/res1.serial" || { fail result "COM1 output differs with --result"; return; }
	[ "$(grep instructions "$OUT/res0.err")" = "$(grep instructions "$OUT/res1.err")" ] ||
		{ fail result "--stats: $(grep instructions "$OUT/res1.err") with --result, $(grep instructions "$OUT/res0.err") without"; return; }
	r=$OUT/res1.txt
	# vmx_exit_insn.c: one VMXON; HLT, INVD, WBINVD, XSETBV exit once each,
	# RDRAND three times, RDSEED twice (its table of cases).
	holds result "$r" "vtxsim-result 1" "status 1" "end debug-exit" "exit 12 HLT 1" "exit 13 INVD 1" \
		"exit 54 WBINVD 1" "exit 55 XSETBV 1" "exit 57 RDRAND 3" "exit 61 RDSEED 2" "vmx-insn VMXON ok 1" \
		"triple-faults 0" "vmx-aborts 0" "entry-failures 0" || return
	# Both taps saw the same exits: VMCALLs counted in the trace and the result.
	n=$(grep -c '"reason":18,' "$OUT/res1.json")
	holds result "$r" "exit 18 VMCALL $n" || return
	# One line record per COM1 line, cycles ascending.
	[ "$(grep -c '^line ' "$r")" = "$(wc -l <"$OUT/res1.serial")" ] || { fail result "line records vs COM1 lines"; return; }
	grep '^line ' "$r" | awk '$3 <= prev { exit 1 } { prev = $3 }' || { fail result "line cycles not ascending"; return; }
	ok result
}

result_entry() {
	run res_entry dbg_badentry.elf -no-reboot --result "$OUT/res_entry.txt"
	[ "$st" = 1 ] || { fail result_entry "status $st, want 1"; return; }
	# dbg_badentry.c: exit 33 for GUEST_CS_AR_DPL_NONCONF, VMfailValid(7)
	# for the reserved pin-based bit, exit 34 for the x2APIC MSR; 3 launches.
	holds result_entry "$OUT/res_entry.txt" "entry-failures 3" "entry-failure-exit 33 INVALID_GUEST_STATE 1" \
		"entry-failure-exit 34 MSR_LOADING 1" "check GUEST_CS_AR_DPL_NONCONF 1" "check CTL_PIN_RSVD 1" \
		"check MSRLOAD_X2APIC 1" "vmx-insn VMLAUNCH fail-valid:7 1" "vmx-insn VMLAUNCH entered 3" || return
	ok result_entry
}

# The failed VM entries of dbg_badentry (a guest-state check, a control
# check, an MSR-load entry) all name the VMLAUNCH that failed: its own RIP,
# not the start of its decoded block, nor the guest RIP the MSR-load phase
# runs after.
entry_fail_rip() {
	run efr dbg_badentry.elf -no-reboot --trace vmx --trace-file "$OUT/efr.json"
	rips=$(sed -n 's/^.*"event":"vmentry-fail","rip":"\(0x[0-9a-f]*\)".*$/\1/p' "$OUT/efr.json" | sort -u)
	n=$(grep -c '"event":"vmentry-fail"' "$OUT/efr.json")
	[ "$n" = 3 ] || { fail entry_fail_rip "$n vmentry-fail lines, want 3"; return; }
	[ "$(echo "$rips" | wc -l)" = 1 ] || { fail entry_fail_rip "several RIPs: $rips"; return; }
	objdump -d "$GUEST_DIR/dbg_badentry.elf64" | grep -q "^ *${rips#0x}:.*vmlaunch" ||
		{ fail entry_fail_rip "$rips is not a VMLAUNCH in dbg_badentry.elf64"; return; }
	ok entry_fail_rip
}

# ---- --explain and --exit-summary ----

# xhas NAME FILE LINE: FILE (the "[cycle N " of --explain lines removed) holds LINE.
xhas() {
	if sed 's/^vtxsim: \[cycle [0-9]* /vtxsim: [/' "$2" | grep -qxF "$3"; then
		return 0
	fi
	fail "$1" "no line $3 in $2"
	return 1
}

# vmx_exit_io.c: the guest starts at gio_0, a 64-bit guest of the VMX
# library (vmx_baseline(64): CS 8, 4-level paging, no EPT, no VPID), under
# unconditional I/O exiting; gio_0 is `in $0x71,%al` (E4 71: Table 27-5
# size 0, IN, immediate, port 0x71); gio_4 `out %al,$0x80`, gio_5 `out
# %eax,%dx` with DX = 0xffff, gio_8 `rep insw` from port 0x1f0.
explain() {
	run expl0 vmx_exit_io.elf -no-reboot --stats
	s0=$st
	run expl1 vmx_exit_io.elf -no-reboot --stats --explain --exit-summary --result "$OUT/expl1.txt" \
		--trace exits --trace-file "$OUT/expl1.json"
	[ "$st" = 1 ] && [ "$s0" = 1 ] || { fail explain "status $st with --explain, $s0 without; want 1"; return; }
	cmp -s "$OUT/expl0.serial" "$OUT/expl1.serial" || { fail explain "COM1 output differs with --explain"; return; }
	[ "$(grep instructions "$OUT/expl0.err")" = "$(grep instructions "$OUT/expl1.err")" ] ||
		{ fail explain "--stats: $(grep instructions "$OUT/expl1.err") with --explain, $(grep instructions "$OUT/expl0.err") without"; return; }
	e=$OUT/expl1.err
	why='the guest ran IN, OUT, INS or OUTS and "unconditional I/O exiting" or the I/O bitmap says to exit (SDM 25.1.3)'
	xhas explain "$e" "vtxsim: [cpu0] VM entry (VMLAUNCH): guest RIP $(sym vmx_exit_io.elf gio_0) in IA-32e mode, 64-bit, CS=0x8, CPL 0, 4-level paging, EPT off, no VPID; every check passed, guest state loaded (SDM 26.3.2)" &&
	xhas explain "$e" "vtxsim: [cpu0] VM exit 30 I/O instruction: $why; IN from port 0x71, 1 byte, into AL, port in the instruction (qualification 0x710048); guest RIP $(sym vmx_exit_io.elf gio_0), instruction length 2" &&
	xhas explain "$e" "vtxsim: [cpu0] VM exit 30 I/O instruction: $why; OUT to port 0x80, 1 byte, from AL, port in the instruction (qualification 0x800040); guest RIP $(sym vmx_exit_io.elf gio_4), instruction length 2" &&
	xhas explain "$e" "vtxsim: [cpu0] VM exit 30 I/O instruction: $why; OUT to port 0xffff, 4 bytes, from EAX, port in DX (qualification 0xffff0003); guest RIP $(sym vmx_exit_io.elf gio_5), instruction length 1" &&
	xhas explain "$e" "vtxsim: [cpu0] VM exit 30 I/O instruction: $why; INS from port 0x1f0, 2 bytes, REP, port in DX (qualification 0x1f00039); guest RIP $(sym vmx_exit_io.elf gio_8), instruction length 3" || return
	# One line per VM exit: as many as the JSON trace has.
	[ "$(grep -c '\] VM exit ' "$e")" = "$(grep -c '"event":"vmexit"' "$OUT/expl1.json")" ] ||
		{ fail explain "$(grep -c '\] VM exit ' "$e") --explain exit lines, $(grep -c '"event":"vmexit"' "$OUT/expl1.json") in the trace"; return; }
	# --exit-summary: count per reason as --result counts them, and the total as the trace.
	awk '/^vtxsim: VM exits by basic reason/ { on = 1; next } on && $NF == "total" { exit }
	     on && $1 ~ /^[0-9]+$/ && NF >= 8 { print $7, $1 }' "$e" | sort >"$OUT/expl1.summary"
	awk '$1 == "exit" { print $2, $4 }' "$OUT/expl1.txt" | sort >"$OUT/expl1.result"
	[ -s "$OUT/expl1.summary" ] && cmp -s "$OUT/expl1.summary" "$OUT/expl1.result" ||
		{ fail explain "--exit-summary counts ($OUT/expl1.summary) differ from --result ($OUT/expl1.result)"; return; }
	total=$(awk '/^vtxsim: VM exits by basic reason/ { on = 1 } on && $NF == "total" { print $1; exit }' "$e")
	[ "$total" = "$(grep -c '"event":"vmexit"' "$OUT/expl1.json")" ] || { fail explain "summary total $total"; return; }
	ok explain
}

# dbg_badentry.c: CS DPL 3 with SS DPL 0 (exit 33), a reserved pin-based
# bit (VMfailValid 7), an x2APIC MSR (808H) in the MSR-load area (exit 34).
explain_fail() {
	run expl_fail dbg_badentry.elf -no-reboot --explain --exit-summary
	[ "$st" = 1 ] || { fail explain_fail "status $st, want 1"; return; }
	e=$OUT/expl_fail.err
	# All three name the one VMLAUNCH that failed (as entry_fail_rip checks the trace).
	at=$(sed -n 's/^.*VM entry failed (VMLAUNCH\/VMRESUME at RIP \(0x[0-9a-f]*\)).*$/\1/p' "$e" | sort -u)
	[ "$(grep -c 'VM entry failed (' "$e")" = 3 ] && [ "$(echo "$at" | wc -l)" = 1 ] &&
		objdump -d "$GUEST_DIR/dbg_badentry.elf64" | grep -q "^ *${at#0x}:.*vmlaunch" ||
		{ fail explain_fail "the failed entries in $e do not name one VMLAUNCH: $at"; return; }
	xhas explain_fail "$e" "vtxsim: [cpu0] VM entry failed (VMLAUNCH/VMRESUME at RIP $at): GUEST_CS_AR_DPL_NONCONF (26.3.1.2): if the CS type is 9 or 11 (non-conforming code), the CS DPL must equal the SS DPL; field GUEST_CS_AR = 0x3, expected 0; VM-entry failure: exit reason 33, qualification 0" &&
	xhas explain_fail "$e" "vtxsim: [cpu0] VM entry failed (VMLAUNCH/VMRESUME at RIP $at): CTL_PIN_RSVD (26.2.1.1): reserved bits of the pin-based VM-execution controls must be set as IA32_VMX_(TRUE_)PINBASED_CTLS allow; field PIN_CONTROLS = 0x116, expected 0x16; VMfailValid(7)" &&
	xhas explain_fail "$e" "vtxsim: [cpu0] VM-entry failure exit (reason 34 with bit 31 set): the VM entry failed loading an entry of the VM-entry MSR-load area; the host state was loaded as for a VM exit (SDM 26.7); MSR-load entry 1 (counting from 1) (qualification 0x1)" || return
	grep -q '^ *1 .* 33 VM-entry failure due to invalid guest state$' "$e" &&
		grep -q '^ *1 .* 34 VM-entry failure due to MSR loading$' "$e" || { fail explain_fail "exit summary rows 33/34 missing in $e"; return; }
	ok explain_fail
}

# vmx_exit_window.c injects external interrupt 40H (VMCS_ENTRY_INTR_INFO
# valid | type 0 | 0x40) into its 64-bit guest; vmx_exit_events.c takes a
# #PF while delivering an injected interrupt 40H (27.2.3).
explain_inject() {
	run expl_inj vmx_exit_window.elf -no-reboot --explain
	[ "$st" = 1 ] || { fail explain_inject "status $st, want 1"; return; }
	grep -q '^vtxsim: \[cycle [0-9]* cpu0\] VM entry injects vector 64 (external interrupt): delivered through the guest IDT as if it had happened in the guest, guest RIP 0x[0-9a-f]* (SDM 26.5.1)$' "$OUT/expl_inj.err" ||
		{ fail explain_inject "no injection line in $OUT/expl_inj.err"; return; }
	grep -q '; the injected event of type 7 makes an MTF VM exit pending (SDM 26.5.2)$' "$OUT/expl_inj.err" ||
		{ fail explain_inject "no pending-MTF entry in $OUT/expl_inj.err"; return; }
	run expl_ev vmx_exit_events.elf -no-reboot --explain
	grep -q '; vector 14 #PF (page fault), hardware exception, linear address 0x[0-9a-f]* (qualification 0x[0-9a-f]*), error code 0x[0-9a-f]*; while delivering vector 64 (external interrupt); guest RIP 0x[0-9a-f]*$' "$OUT/expl_ev.err" ||
		{ fail explain_inject "no #PF exit while delivering vector 64 in $OUT/expl_ev.err"; return; }
	ok explain_inject
}

# vmx_exit_smp.c: CPU 0 sends CPU 1's guest an INIT (exit 3), then a SIPI
# with vector 9AH while it waits for SIPI (exit 4, 27.2.1: the vector is
# the qualification); one table per vCPU with exits, then all vCPUs.
explain_smp() {
	run expl_smp vmx_exit_smp.elf -no-reboot -smp 2 --explain --exit-summary
	[ "$st" = 1 ] || { fail explain_smp "status $st, want 1"; return; }
	e=$OUT/expl_smp.err
	grep -q '^vtxsim: \[cycle [0-9]* cpu1\] VM exit 3 INIT signal: an INIT signal arrived (INIT always exits in VMX non-root operation) (SDM 25.2); exit qualification unused; guest RIP 0x[0-9a-f]*$' "$e" &&
	grep -q '^vtxsim: \[cycle [0-9]* cpu1\] VM exit 4 start-up IPI: .* (SDM 25.2); SIPI vector 0x9a (start at 0x9a000) (qualification 0x9a); guest RIP 0x[0-9a-f]*$' "$e" ||
		{ fail explain_smp "no INIT or SIPI exit line in $e"; return; }
	grep -qx 'vtxsim: VM exits of cpu 1 by basic reason (simulated cycles):' "$e" &&
	grep -qx 'vtxsim: VM exits of all cpus by basic reason (simulated cycles):' "$e" &&
	[ "$(grep -c '^ *1 .* 3 INIT signal$' "$e")" = 2 ] || { fail explain_smp "per-cpu summary missing in $e"; return; }
	ok explain_smp
}

# A guest without VMX: no narration, and the summary says so.
explain_none() {
	run expl_none boot.elf -no-reboot --explain --exit-summary
	if [ "$(cat "$OUT/expl_none.err")" = "vtxsim: no VM exits" ]; then ok explain_none; else
		fail explain_none "stderr: $(cat "$OUT/expl_none.err")"; fi
}

# ---- bad options ----

bad() {
	name=$1
	want=$2
	shift 2
	"$VTXSIM" -kernel "$GUEST_DIR/boot.elf" -serial none "$@" >/dev/null 2>"$OUT/$name.err"
	st=$?
	if [ "$st" = 2 ] && [ "$(wc -l <"$OUT/$name.err")" = 1 ] && grep -qF "$want" "$OUT/$name.err"; then
		ok "$name"
	else
		fail "$name" "status $st, stderr: $(cat "$OUT/$name.err")"
	fi
}

exits_io
exits_ept
determinism
insn
triple
triple_traced
triple_reset
dbg_triple np
dbg_triple stack
vmx_abort
result
result_entry
entry_fail_rip
explain
explain_fail
explain_inject
explain_smp
explain_none
bad bad_category "vtxsim: --trace 'vmx,irq': unknown trace category 'irq'; give a comma-separated list of vmx, exits, int, insn, io, msr" --trace vmx,irq
bad bad_file "vtxsim: --trace-file $OUT/no/such/dir: cannot open for writing:" --trace exits --trace-file "$OUT/no/such/dir"
bad bad_file_alone "vtxsim: --trace-file x.json: no categories to trace" --trace-file x.json
bad bad_result_debug "vtxsim: --result r.txt is for unattended runs (vtxsim test); drop it, or drop --debug" --result r.txt --debug
bad bad_result_file "vtxsim: --result $OUT/no/such/dir: cannot open for writing:" --result "$OUT/no/such/dir"
echo "trace: $passed passed, $failed failed"
