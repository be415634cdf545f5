/* VMX as the CPU core sees it: the per-processor VMX state embedded in
 * struct cpu, and the narrow entry points cpu/ calls (ARCHITECTURE.md: cpu/
 * includes only this header of vmx/).
 *
 * The VMX instructions themselves are handlers named in cpu/opcodes.def and
 * implemented in vmx/insn.c; the capability MSRs are rows of cpu/msrs.def
 * whose read functions live in vmx/caps.c. Everything VMX reads about the
 * model comes from the model row (cpu/models.def, struct vmx_model).
 */
#ifndef VMX_VMX_H
#define VMX_VMX_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/caps_bits.h"
#include "vmx/controls.h"

struct cpu;

/* What a CPU model offers of VMX: the model row's VMX column
 * (cpu/models.def); vmx/caps.c turns it into the capability MSRs
 * (SDM vol. 3C Appendix A). revision == 0: the model has no VMX (CPUID.1:
 * ECX.VMX reads 0, CR4.VMXE is reserved, VMXON is #UD, the capability MSRs
 * are #GP). Bit names: vmx/controls.h (controls), vmx/caps_bits.h (MISC,
 * EPT_VPID_CAP, VMFUNC).
 * The *_allowed1 words are the controls the model lets software set to 1
 * (the high halves of IA32_VMX_{TRUE_}*_CTLS); the default1 bits of
 * Appendix A.3-A.5 are architectural and added by vmx/caps.c. The
 * *_true_must1 words are the default1 bits the model still requires to be 1
 * (the low halves of the TRUE MSRs; meaningful only with true_ctls). */
struct vmx_model {
	uint32_t revision;              /* IA32_VMX_BASIC[30:0] */
	uint32_t pin_allowed1, proc_allowed1, proc2_allowed1, exit_allowed1, entry_allowed1;
	uint32_t pin_true_must1, proc_true_must1, exit_true_must1, entry_true_must1;
	uint64_t proc3_allowed1;        /* IA32_VMX_PROCBASED_CTLS3 */
	uint64_t exit2_allowed1;        /* IA32_VMX_EXIT_CTLS2 */
	bool true_ctls;                 /* IA32_VMX_BASIC[55]: the TRUE_ MSRs exist */
	bool ins_outs_info;             /* IA32_VMX_BASIC[54]: INS/OUTS exits report instruction information */
	bool no_errcode_check;          /* IA32_VMX_BASIC[56]: hardware exceptions injected without the error-code consistency checks */
	uint64_t misc;                  /* IA32_VMX_MISC, whole */
	uint64_t ept_vpid_cap;          /* IA32_VMX_EPT_VPID_CAP, whole */
	uint64_t vmfunc;                /* IA32_VMX_VMFUNC, whole */
};

/* "No VMCS": the current-VMCS pointer after VMXON and VMCLEAR of the
 * current VMCS (SDM vol. 3C 24.1, 30.3 VMCLEAR, VMPTRST stores it). */
#define VMCS_PTR_NONE UINT64_MAX

/* VMCSs the processor keeps active (SDM vol. 3C 24.1: a VMCS is active from
 * VMPTRLD until VMCLEAR; the number that may be active at once is
 * implementation specific). The launch state is processor state while a
 * VMCS is active; VMCLEAR writes it back to the region (docs/vmcs-layout.md). */
#define VMX_ACTIVE_MAX 16
struct vmx_active {
	uint64_t pa;
	bool launched;
	bool after_vmxoff;      /* launched, then VMXOFF/VMXON before this VMPTRLD: VMRESUME is error 6 */
};

/* Which VM-entry check failed last, and with what values: what `--trace vmx`
 * prints and the debugger's `vmx explain` shows (vmx/entry_checks.def). */
struct vmx_verdict {
	int check;              /* enum entry_check_id, or -1: none since the last VM entry */
	uint32_t field;         /* VMCS encoding involved, or UINT32_MAX */
	uint64_t actual, expected;
	uint32_t index;         /* MSR-load entry (1-based) or segment, where it applies */
};

/* The misuse rules vtxsim warns about (vmx/misuse.def, vmx/misuse.h). */
enum vmx_misuse {
#define VMX_MISUSE(id, section, rule) VMX_MISUSE_##id,
#include "vmx/misuse.def"
#undef VMX_MISUSE
	VMX_MISUSE_COUNT
};

/* What the VM-entry checks of the control, host-state and guest-state
 * phases read when they last passed on VMCS vmcs (vmx/entry_memo.c): the
 * raw 8-byte slot of every field then (by field row); for each check the
 * rows it read (deps) and, the other way round, for each row the checks
 * that read it (dependents); the checks that also read memory or
 * processor state (impure), which run at every entry. */
#define VMX_MEMO_FIELDS 256
#define VMX_MEMO_CHECKS 320
struct vmx_entry_memo {
	bool valid;             /* false: nothing remembered (zeroed state too) */
	bool run_all;           /* this entry runs every check (no valid reference) */
	uint64_t vmcs;
	uint64_t slot[VMX_MEMO_FIELDS];
	uint64_t deps[VMX_MEMO_CHECKS][VMX_MEMO_FIELDS / 64];
	uint64_t dependents[VMX_MEMO_FIELDS][VMX_MEMO_CHECKS / 64];
	uint64_t impure[VMX_MEMO_CHECKS / 64];
	uint64_t changed[VMX_MEMO_FIELDS / 64];  /* rows that differ at this entry */
	uint64_t run[VMX_MEMO_CHECKS / 64];      /* checks this entry runs */
};

/* An event as the IDT-vectoring information field describes it (27.2.3). */
struct vmx_vectoring {
	uint32_t info;          /* INTR_INFO_VALID | type | HAS_ERROR | vector, or 0 */
	uint32_t error;
	uint32_t insn_len;      /* software interrupts and exceptions */
};

/* Non-root events at instruction boundaries (vmx/pending.c; SDM vol. 3C
 * 25.2, 25.5, 26.6): the controls that act there, cached at VM entry, and
 * what is pending. Zero outside non-root operation. watch != 0 makes the
 * executor stop at every step boundary (cpu/exec.c boundary_events); step
 * != 0 makes it run one instruction at a time (cpu_debug_slow). */
struct vmx_boundary {
	uint8_t watch;          /* a control below acts at boundaries, or an MTF exit is pending */
	uint8_t step;           /* single-instruction execution: MTF, or the timer near its deadline */
	bool mtf;               /* "monitor trap flag" control */
	bool mtf_pending;       /* an MTF VM exit is pending on the next boundary (25.5.2) */
	bool timer;             /* "activate VMX-preemption timer" control (25.5.1) */
	uint8_t timer_shift;    /* X = IA32_VMX_MISC[4:0]: the timer ticks when TSC bit X changes */
	uint32_t pin, proc;     /* pin-based and primary processor-based controls of the last entry */
	uint32_t timer_value;   /* loaded by VM entry (26.6.4) */
	uint64_t timer_tick0;   /* TSC >> X at VM entry */
	uint64_t timer_tsc_off; /* TSC - cycles at VM entry: TSC writes are not increments */
	uint64_t timer_deadline;        /* c->cycles at which the timer reaches 0 */
};

/* APIC virtualization in non-root operation (vmx/apicv.c; SDM vol. 3C
 * chapter 29): the controls of the last VM entry, whether a virtual
 * interrupt is recognized, and a virtualized write to the APIC-access page
 * whose APIC-write emulation follows its operation. RVI and SVI live in the
 * guest-interrupt-status field of the VMCS. Zero outside non-root. */
struct vmx_apicv {
	uint32_t proc2;         /* secondary controls (0 without "activate secondary controls") */
	bool tpr_shadow;        /* "use TPR shadow" */
	uint64_t vapic;         /* virtual-APIC address (with "use TPR shadow") */
	bool vintr;             /* a virtual interrupt is recognized (29.2.1) */
	bool write_pending;     /* APIC-write emulation is due at the next boundary (29.4.3.2) */
	uint8_t write_size;
	uint16_t write_off;     /* page offset of that write */
};

struct vmx_state {
	bool on;                /* in VMX operation (after VMXON, before VMXOFF) */
	bool nonroot;           /* in VMX non-root operation */
	uint64_t vmxon_ptr;     /* physical address of the VMXON region */
	uint64_t vmcs_ptr;      /* current-VMCS pointer, or VMCS_PTR_NONE */
	struct vmx_active active[VMX_ACTIVE_MAX];
	unsigned nactive;
	/* Virtual-NMI blocking (pin-based "virtual NMIs" = 1): set by the
	 * injection of a virtual NMI, cleared by IRET; what NMI-window exiting
	 * and the interruptibility state's bit 3 read then, instead of
	 * c->nmi_blocked (SDM vol. 3C 25.3, 24.4.2). */
	bool vnmi_blocked;
	/* The indicator of the last VMX abort (27.7), 0 if none: it put the
	 * CPU in shutdown, and sim/ ends the run with it (docs/user-guide.md). */
	uint32_t abort;
	/* VM entries and VM exits so far (VM-entry failures included): an
	 * instruction that caused one is not followed by the single-step trap
	 * of the code it came from (cpu/exec.c exec_single). */
	uint64_t transitions;
	/* Where the current VMCS lies in host memory (vmx/vmcs.h vmcs_read):
	 * the region at vmcs_host_pa is plain RAM at vmcs_host while the
	 * physical map has generation vmcs_host_gen; NULL = not RAM. */
	uint64_t vmcs_host_pa, vmcs_host_gen;
	uint8_t *vmcs_host;
	struct vmx_entry_memo memo;
	/* The event whose delivery through the guest IDT is under way or just
	 * failed with c->exc, in the layout of the IDT-vectoring information
	 * field (info = 0: none), and the instruction length of a software
	 * event: what a VM exit during the delivery records (SDM vol. 3C
	 * 27.2.3; vmx/events.c). */
	struct vmx_vectoring vectoring;
	/* IRET in non-root operation removed (virtual-)NMI blocking; a fault
	 * on that IRET reports it in bit 12 of the VM-exit interruption
	 * information (25.3, 27.2.2). */
	bool iret_unblocked_nmi;
	/* PAUSE-loop exiting (SDM vol. 3C 25.1.3): the cycle (TSC tick) of the
	 * last PAUSE at CPL 0 and of the last one that began a loop; ple_valid
	 * is cleared by every VM entry, so the first PAUSE at CPL 0 after it
	 * begins a loop (vmx/intercept_insn.c). */
	uint64_t ple_last, ple_first;
	bool ple_valid;
	struct vmx_verdict verdict;
	/* Times each misuse rule fired on this CPU (vmx/misuse.h); kept across
	 * resets so a rebooting guest cannot restart the warnings. */
	uint32_t misuse[VMX_MISUSE_COUNT];
	/* Host-side trace sink for `--trace vmx`: one line, no newline. NULL = off. */
	void (*trace)(void *ctx, const char *line);
	void *trace_ctx;
	struct vmx_boundary bnd;        /* vmx/pending.c */
	struct vmx_apicv apicv;         /* vmx/apicv.c */
	/* EPT in non-root operation (vmx/ept.c): the EPTP of the VM entry with
	 * "enable EPT" = 1, else 0, and the EPTF_* flags (mem/paging.h) the
	 * walk needs; cpu_mode_changed copies them into the translation
	 * context. Set by VM entry, cleared by VM exit. */
	uint64_t eptp;
	uint8_t ept_flags;
	/* With "enable PML" (EPTF_PML): the PML address and the physical
	 * address of the PML-index slot of the current VMCS (vmx/ept.c). */
	uint64_t pml_addr, pml_index_pa;
};

/* Power-on/reset: outside VMX operation, no current VMCS (SDM vol. 3C 23.7:
 * VMX operation is left by reset, INIT does not leave it). */
void vmx_reset(struct cpu *c);

/* MOV to CR0 / CR4 (and anything else that loads them in root operation):
 * false when the value breaks the VMX rules, and the write must raise
 * #GP(0): in VMX operation the IA32_VMX_CR0/CR4_FIXED0/1 bits (SDM vol. 3C
 * 23.8); CR4.VMXE cannot be cleared in VMX operation. */
bool vmx_cr0_write_ok(const struct cpu *c, uint64_t cr0);
bool vmx_cr4_write_ok(const struct cpu *c, uint64_t cr4);

/* Launch state of the current VMCS (SDM vol. 3C 24.1: processor state
 * while the VMCS is active; VMLAUNCH needs "clear", VMRESUME "launched").
 * A current VMCS missing from c->vmx.active[] reads as clear; setting it
 * adds the entry when there is room. Minimal versions for the VM-entry
 * work; the VMX-instruction work (VMPTRLD/VMCLEAR) owns the list. */
bool vmx_current_launched(const struct cpu *c);
void vmx_set_current_launched(struct cpu *c, bool launched);
/* The current VMCS was launched before a VMXOFF/VMXON pair (VMRESUME: error 6). */
bool vmx_current_after_vmxoff(const struct cpu *c);

/* A VM exit caused by the instruction of insn_len bytes being executed
 * (c->next_rip - insn_len is its address), with no exit qualification:
 * the unconditional exits of 25.1.2 (CPUID, VMCALL, ...). Call it in
 * non-root operation before any side effect; the handler then returns
 * EXEC_OK and the host runs at HOST_RIP. */
void vmx_exit_insn(struct cpu *c, enum vmx_exit_reason reason, unsigned insn_len);

/* RDMSR of capability MSR msr (0x480-0x493, the MSR_VMX_CAP rows of
 * cpu/msrs.def): false when the model does not have it, and RDMSR raises
 * #GP(0) (SDM vol. 3C Appendix A; vmx/caps.c). WRMSR to them is #GP(0). */
bool vmx_cap_msr(const struct cpu *c, uint32_t msr, uint64_t *v);

/* INIT is blocked in VMX root operation (SDM vol. 3C 23.8). */
static inline bool vmx_init_blocked(const struct vmx_state *v)
{
	return v->on && !v->nonroot;
}

/* ---- VM exits: saving and loading state, VMX aborts (vmx/exit.c) ---- */
/* The name of VMX-abort indicator code (SDM vol. 3C 27.7), "?" if unknown. */
const char *vmx_abort_text(uint32_t code);
/* A basic exit reason's identifier ("EPT_VIOLATION") and text ("EPT
 * violation") from EXIT_REASON_TABLE, and a VM-instruction error number's
 * text from VM_INSN_ERROR_TABLE (Appendix C, 30.4); NULL when the table has
 * no such number. Every printer reads them here. */
const char *vmx_exit_reason_id(uint32_t basic);
const char *vmx_exit_reason_text(uint32_t basic);
/* Whether basic is the exit reason of a VMX instruction (VMCALL...VMXON,
 * INVEPT, INVVPID, VMFUNC: vmx/insn_result.c's table). */
bool vmx_exit_reason_is_insn(uint32_t basic);
const char *vmx_insn_error_text(uint32_t n);
/* ---- non-root events: exceptions, NMIs, IDT-vectoring, triple fault, INIT/SIPI, task switches (vmx/events.c) ---- */

struct pending_exc;

/* An exception on its way to the guest IDT in non-root operation (25.2):
 * true when the exception bitmap (and for #PF the error-code mask/match)
 * sends it to the host, and the VM exit (reason 0) happened. prev is the
 * event whose delivery raised it (info 0: none; it becomes the
 * IDT-vectoring information); set_rf: RF in the frame the exception would
 * push (fault-class exceptions, SDM vol. 3A 17.3.1.1; saved RFLAGS.RF,
 * 27.3.3). iret_unblocked: the exception is a fault on an IRET that
 * removed (virtual-)NMI blocking (27.2.2 bit 12). */
bool vmx_exception_exit(struct cpu *c, const struct pending_exc *e, const struct vmx_vectoring *prev, bool set_rf,
			bool iret_unblocked);
/* INT3/INTO (software exception) and INT1 (privileged software exception)
 * in non-root: true when the exception bitmap made them exit (reason 0,
 * exit instruction length = insn_len, RIP of the instruction: 27.2.2,
 * 27.2.5, 27.3.3). type is INTR_TYPE_SW_EXCEPTION or _PRIV_SW_EXCEPTION. */
bool vmx_soft_exception_exit(struct cpu *c, unsigned vector, enum vmx_intr_type type, unsigned insn_len);
/* A triple fault in non-root is a VM exit with reason 2 (25.2), unless the
 * exception raised while delivering #DF is itself intercepted (then
 * vmx_exception_exit took it with IDT-vectoring information = #DF). */
void vmx_triple_fault_exit(struct cpu *c);
/* An unblocked NMI in non-root: true when "NMI exiting" made it a VM exit
 * (reason 0, type NMI, vector 2); NMIs are blocked after the exit (27.5.5). */
bool vmx_nmi_exit(struct cpu *c);
/* INIT or SIPI latched in non-root (25.2, 26.6.2): INIT is a VM exit
 * (reason 3) except in the wait-for-SIPI state, which holds it; SIPI is a
 * VM exit (reason 4, qualification = vector) in the wait-for-SIPI state
 * and discarded otherwise. True when the executor has nothing more to do
 * at this boundary (an exit happened, or the CPU waits for SIPI). */
bool vmx_init_sipi(struct cpu *c);
/* IRET in non-root: which NMI blocking it removes (25.3): none with "NMI
 * exiting" = 1 and "virtual NMIs" = 0, virtual-NMI blocking with "virtual
 * NMIs" = 1, blocking by NMI otherwise; records c->vmx.iret_unblocked_nmi. */
void vmx_iret_unblock_nmi(struct cpu *c);
/* Where a task switch was initiated (Table 27-2, bits 31:30). */
enum vmx_task_source { VMX_TASK_CALL = 0, VMX_TASK_IRET = 1, VMX_TASK_JMP = 2, VMX_TASK_IDT = 3 };
/* A task switch in non-root operation: always a VM exit (reason 9, 25.4.2),
 * after the checks on the gate and the new TSS descriptor and before any
 * state changes. insn_len: the CALL/JMP/IRET (ignored for an IDT task gate,
 * whose event c->vmx.vectoring describes); set_rf: RF in the old task's
 * saved EFLAGS image (27.3.3). */
void vmx_task_switch_exit(struct cpu *c, uint16_t sel, enum vmx_task_source src, unsigned insn_len, bool set_rf);
/* ---- non-root events at instruction boundaries (vmx/pending.c) ---- */

/* VM entry (vmx/entry.c), after guest state and before event injection:
 * cache the controls, start the VMX-preemption timer (26.6.4), make an
 * MTF VM exit pending after an injected event or for an injected "other
 * event" (25.5.2, 26.5.2). */
void vmx_pending_entry(struct cpu *c);
/* Every VM exit (vmx/exit.c): save the timer's value when "save
 * VMX-preemption timer value" is 1 and save (27.3.4), then forget the
 * boundary state. */
void vmx_pending_exit(struct cpu *c, bool save);
/* At an instruction boundary in non-root operation, in the priority order
 * of SDM vol. 3A Table 6-2 with the VM exits of 25.2/25.5 placed in it
 * (cpu/exec.c boundary_events calls them around the NMI):
 *   vmx_boundary_high: a pending MTF VM exit; then, when a debug trap of
 *   the previous instruction is pending, nothing lower (true); then the
 *   VMX-preemption timer; then NMI-window exiting.
 *   vmx_boundary_low: interrupt-window exiting; then an external interrupt
 *   with "external-interrupt exiting".
 * true: a VM exit happened (or, high, a debug trap goes first): the
 * boundary's lower events wait. */
bool vmx_boundary_high(struct cpu *c);
bool vmx_boundary_low(struct cpu *c);
/* An NMI or external interrupt was delivered through the guest IDT: with
 * the monitor trap flag an MTF VM exit is pending after it (25.5.2). */
void vmx_boundary_delivered(struct cpu *c);
/* Before one instruction under single-instruction execution (cpu/exec.c
 * step_debug): with the monitor trap flag, an MTF VM exit is pending on
 * the boundary after it or after the delivery of its fault (25.5.2); a VM
 * exit on the way cancels it. */
static inline void vmx_boundary_insn(struct vmx_state *v)
{
	v->bnd.mtf_pending |= v->bnd.mtf;
}
/* A CPU halted in non-root operation whose preemption timer reaches 0 by
 * cycle `until`: time passes in HLT up to the deadline and the VM exit
 * happens from the HLT state (25.5.1). False: still asleep. */
bool vmx_halted_timer(struct cpu *c, uint64_t until);
/* Would a CPU halted in non-root operation leave HLT at its next boundary
 * through a VM exit (MTF pending, interrupt or NMI window open, an
 * external interrupt with external-interrupt exiting)? The scheduler asks. */
bool vmx_halt_wakeable(const struct cpu *c);
/* External interrupts exit whatever RFLAGS.IF says (25.3). */
static inline bool vmx_intr_exits(const struct vmx_state *v)
{
	return v->nonroot && (v->bnd.pin & PIN_EXT_INTR_EXITING);
}
/* The cycle at which the running VMX-preemption timer reaches 0, or
 * UINT64_MAX. */
static inline uint64_t vmx_timer_deadline(const struct vmx_state *v)
{
	return v->nonroot && v->bnd.timer ? v->bnd.timer_deadline : UINT64_MAX;
}

/* ---- control registers, MOV DR, descriptor tables, INVLPG/INVPCID, RDTSC(P), RDPMC (vmx/intercept_cr.c) ---- */

/* Each vmx_intercept_* is called in non-root operation only, after the
 * checks the SDM gives priority over the VM exit (25.1.1) and before any
 * side effect; true = the VM exit happened (the handler returns EXEC_OK). */
struct insn;

/* MOV to CR0/CR3/CR4/CR8 (25.1.3; i->reg = CR, i->rm = GPR). *v is the
 * source operand; when no exit happens, a CR0/CR4 value comes back with the
 * host-owned bits (guest/host mask) kept from the current register (25.3). */
bool vmx_intercept_mov_to_cr(struct cpu *c, const struct insn *i, uint64_t *v);
/* MOV from CR0/CR3/CR4/CR8: CR3-/CR8-store exiting; otherwise *v (the
 * register's value) becomes what the guest reads: read-shadow bits for
 * host-owned CR0/CR4 bits, VTPR[7:4] for CR8 with "use TPR shadow" (25.3,
 * 29.3). */
bool vmx_intercept_mov_from_cr(struct cpu *c, const struct insn *i, uint64_t *v);
/* MOV to CR8 that did not exit, source checked (bits 63:4 zero): with "use
 * TPR shadow" writes VTPR and performs TPR virtualization (29.3, 29.1.2),
 * which may be a trap-like TPR-below-threshold exit; true = handled
 * (the real TPR is not written). */
bool vmx_tpr_shadow_write(struct cpu *c, uint64_t v);
/* CLTS: exits when CR0.TS is host-owned and shadow TS = 1; otherwise *cr0
 * (CR0 with TS cleared) keeps TS when it is host-owned (25.1.3, 25.3). */
bool vmx_intercept_clts(struct cpu *c, const struct insn *i, uint64_t *cr0);
/* LMSW with source src (operand already fetched, 25.1.1): the exit rule of
 * 25.1.3; otherwise *cr0 (the value LMSW computed) keeps host-owned bits
 * 3:0 (25.3). */
bool vmx_intercept_lmsw(struct cpu *c, const struct insn *i, uint16_t src, uint64_t *cr0);
/* CR0 as SMSW and MOV from CR0 read it: host-owned bits from the read
 * shadow (25.3). */
uint64_t vmx_cr0_guest_view(struct cpu *c);
/* A non-root CR0/CR4 value (host-owned bits already merged): the VMX fixed
 * bits apply only to guest-owned positions, and "unrestricted guest" frees
 * CR0.PE and CR0.PG (25.3, 23.8); used by vmx_cr0/cr4_write_ok. */
bool vmx_nonroot_cr0_ok(const struct cpu *c, uint64_t cr0);
bool vmx_nonroot_cr4_ok(const struct cpu *c, uint64_t cr4);
/* MOV DR with "MOV-DR exiting" (i->reg = DR, i->rm = GPR). Call before the
 * CPL, CR4.DE and DR7.GD checks: this exit has priority over them (25.1.3
 * MOV DR); DR8-DR15 are #UD first and never exit. */
bool vmx_intercept_mov_dr(struct cpu *c, const struct insn *i, bool from);
/* Descriptor-table exiting (secondary control): exit 46 / 47 with the
 * instruction information of Tables 27-10 / 27-11. The numbering is the
 * "instruction identity" (bits 29:28) of each table. */
enum vmx_dt_insn {
	VMX_DT_SGDT, VMX_DT_SIDT, VMX_DT_LGDT, VMX_DT_LIDT,     /* Table 27-10, exit 46 */
	VMX_DT_SLDT, VMX_DT_STR, VMX_DT_LLDT, VMX_DT_LTR,       /* Table 27-11, exit 47 */
};
bool vmx_intercept_dtable(struct cpu *c, const struct insn *i, enum vmx_dt_insn which);
/* INVLPG exiting: qualification = the linear address la (27.2.1). */
bool vmx_intercept_invlpg(struct cpu *c, const struct insn *i, uint64_t la);
/* INVPCID: #UD when "enable INVPCID" is 0 (25.3; ask before anything
 * else); exit 58 when it and "INVLPG exiting" are 1 (25.1.3). */
bool vmx_invpcid_ud(struct cpu *c);
bool vmx_intercept_invpcid(struct cpu *c, const struct insn *i);
/* RDTSCP: #UD when "enable RDTSCP" is 0 (25.3, before any other check). */
bool vmx_rdtscp_ud(struct cpu *c);
/* RDTSC / RDTSCP (rdtscp): exit 16 / 51 with "RDTSC exiting"; otherwise
 * *tsc (the TSC) becomes the offset and scaled value the guest reads. */
bool vmx_intercept_rdtsc(struct cpu *c, const struct insn *i, bool rdtscp, uint64_t *tsc);
/* RDMSR of IA32_TSC in non-root that did not exit: the value with the TSC
 * offset and multiplier applied (25.3 RDMSR). */
uint64_t vmx_guest_tsc(struct cpu *c, uint64_t tsc);
/* RDPMC exiting (exit 15), after the CR4.PCE/CPL #GP rule. */
bool vmx_intercept_rdpmc(struct cpu *c, const struct insn *i);
/* The TPR-below-threshold VM exit right after VM entry (26.6.7): call once
 * the entry, event injection included, is complete. */
void vmx_tpr_check_after_entry(struct cpu *c);

/* ---- I/O, MSR and other instruction exits (vmx/intercept_io.c, vmx/intercept_insn.c) ---- */
/* Each is called by its handler in VMX non-root operation after the faults
 * the SDM gives priority over the VM exit (25.1.1: #UD, privilege-level
 * faults, the TSS I/O-permission #GP) and before any side effect; true =
 * the VM exit happened and the handler returns EXEC_OK. */
struct insn;

/* I/O instruction kind: the bits of the exit qualification (Table 27-5). */
#define VMX_IO_IN       (1u << 3)       /* IN/INS (0 = OUT/OUTS) */
#define VMX_IO_STRING   (1u << 4)       /* INS/OUTS */
#define VMX_IO_REP      (1u << 5)       /* REP prefixed */
#define VMX_IO_IMM      (1u << 6)       /* port in an immediate (0 = DX) */
/* IN/OUT/INS/OUTS of size bytes (1, 2, 4) at port: "unconditional I/O
 * exiting" and "use I/O bitmaps" (25.1.3), exit reason 30. */
bool vmx_intercept_io(struct cpu *c, const struct insn *i, uint16_t port, unsigned size, uint32_t kind);
/* RDMSR/WRMSR of the MSR in ECX: "use MSR bitmaps" (25.1.3), reasons 31/32. */
bool vmx_intercept_msr(struct cpu *c, const struct insn *i, bool write);
/* HLT (HLT exiting, 12), WBINVD (WBINVD exiting, 54), MONITOR (39), MWAIT
 * (36; qualification: monitoring armed), PAUSE (PAUSE exiting and
 * PAUSE-loop exiting, 40), RDRAND/RDSEED (57/61). */
bool vmx_intercept_hlt(struct cpu *c, const struct insn *i);
bool vmx_intercept_wbinvd(struct cpu *c, const struct insn *i);
bool vmx_intercept_monitor(struct cpu *c, const struct insn *i);
bool vmx_intercept_mwait(struct cpu *c, const struct insn *i);
bool vmx_intercept_pause(struct cpu *c, const struct insn *i);
bool vmx_intercept_rdrand(struct cpu *c, const struct insn *i, bool seed);
/* XSAVES/XRSTORS: with "enable XSAVES/XRSTORS" 0 they are #UD in non-root
 * operation (25.3): vmx_xsaves_enabled() false. Otherwise they exit (63/64)
 * when EDX:EAX & IA32_XSS & the XSS-exiting bitmap is not 0 (25.1.3). */
bool vmx_xsaves_enabled(struct cpu *c);
bool vmx_intercept_xsaves(struct cpu *c, const struct insn *i, bool restore);

/* ---- failed translations in non-root (vmx/events.c) ---- */
/* The VM exit for a struct xlate_fault whose kind is not XLATE_PF (EPT
 * violation, EPT misconfiguration, APIC access, PML full), with prev the
 * event being delivered when it happened (IDT-vectoring information).
 * False, with no VM exit, when the EPT violation became a virtualization
 * exception (25.5.6): the caller then delivers #VE as a fault. */
struct xlate_fault;
bool vmx_xlate_exit(struct cpu *c, const struct xlate_fault *f, const struct vmx_vectoring *prev, bool iret_unblocked);

/* ---- APIC virtualization and virtual interrupts (vmx/apicv.c) ---- */
/* VM entry, after guest state and vmx_pending_entry (26.3.2.5): the
 * APIC-access page hook when "virtualize APIC accesses" is 1; with
 * "virtual-interrupt delivery", PPR virtualization and the evaluation of
 * pending virtual interrupts (29.1.3, 29.2.1). */
void vmx_apicv_entry(struct cpu *c);
/* Every VM exit: the hook and the state above go. */
void vmx_apicv_exit(struct cpu *c);
/* TPR virtualization (29.1.2) after VTPR was written: a trap-like
 * TPR-below-threshold exit, or with "virtual-interrupt delivery" PPR
 * virtualization and evaluation. Called inside the writing instruction
 * (the exit saves c->next_rip) or at a boundary (c->rip). */
void vmx_tpr_virtualize(struct cpu *c, bool in_insn);
/* At the boundary after an operation that made a virtualized write to the
 * APIC-access page: APIC-write emulation (29.4.3.2), which comes before
 * SMIs, INIT and everything lower and is not blocked by RFLAGS.IF, STI or
 * MOV SS. True: a VM exit happened. */
bool vmx_apic_write_emulate(struct cpu *c);
static inline bool vmx_apic_write_due(const struct vmx_state *v)
{
	return v->nonroot && v->apicv.write_pending;
}
/* RDMSR/WRMSR of 800H-8FFH that did not exit, with "virtualize x2APIC
 * mode" (29.5). */
enum vmx_msr_virt { VMX_MSR_NORMAL, VMX_MSR_DONE, VMX_MSR_GP };
enum vmx_msr_virt vmx_x2apic_rdmsr(struct cpu *c, uint32_t msr, uint64_t *v);
enum vmx_msr_virt vmx_x2apic_wrmsr(struct cpu *c, uint32_t msr, uint64_t v);
/* The interface posted-interrupt processing builds on (29.6): set
 * VIRR[vector] and RVI = max(RVI, vector) (no evaluation), then evaluate
 * pending virtual interrupts (29.2.1) once. */
void vmx_vintr_post(struct cpu *c, uint8_t vector);
void vmx_vintr_evaluate(struct cpu *c);
/* Virtual-interrupt delivery (29.2.2) at an instruction boundary in the
 * place of interrupt-window exiting (vmx/pending.c): true when a
 * recognized virtual interrupt was delivered through the guest IDT. */
bool vmx_vintr_deliver(struct cpu *c);
/* Would a recognized virtual interrupt be delivered at this boundary
 * (RFLAGS.IF = 1, no blocking by STI or MOV SS)? It wakes HLT. */
bool vmx_vintr_ready(const struct cpu *c);

#endif
