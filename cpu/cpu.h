/* Architectural state of one x86-64 logical processor, and the entry points
 * the machine uses to run it.
 *
 * Segment registers keep their hidden part in the VMX access-rights format
 * (SDM vol. 3C 24.4.1, Table 24-2) so VM entry/exit can move them verbatim.
 */
#ifndef CPU_CPU_H
#define CPU_CPU_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "mem/ept.h"
#include "mem/paging.h"
#include "mem/phys.h"
#include "mem/pio.h"
#include "mem/tlb.h"
#include "vmx/vmx.h"

struct cpu_model;
struct cpu_probe;
struct icache;
struct block;
struct insn;

/* A small direct-mapped cache in front of the decoded-block hash:
 * key = guest-physical address | decode mode << 60. Cleared whenever the
 * decode cache drops blocks. */
#define JUMP_CACHE_SIZE 512
struct jump_cache_entry {
	uint64_t key;
	struct block *b;
};

enum { R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI, R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15 };
enum seg_reg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_NONE = 7 };

/* Access rights, VMX layout. */
#define AR_TYPE_MASK 0xfu
#define AR_TYPE_ACCESSED 0x1u
#define AR_S (1u << 4)
#define AR_DPL_SHIFT 5
#define AR_P (1u << 7)
#define AR_AVL (1u << 12)
#define AR_L (1u << 13)
#define AR_DB (1u << 14)
#define AR_G (1u << 15)
#define AR_UNUSABLE (1u << 16)

struct segment {
	uint16_t sel;
	uint64_t base;
	uint32_t limit;         /* expanded byte limit (G applied) */
	uint32_t ar;
};

struct dtable {
	uint64_t base;
	uint16_t limit;
};

/* RFLAGS bits. */
#define FL_CF (1u << 0)
#define FL_FIXED1 (1u << 1)
#define FL_PF (1u << 2)
#define FL_AF (1u << 4)
#define FL_ZF (1u << 6)
#define FL_SF (1u << 7)
#define FL_TF (1u << 8)
#define FL_IF (1u << 9)
#define FL_DF (1u << 10)
#define FL_OF (1u << 11)
#define FL_IOPL (3u << 12)
#define FL_NT (1u << 14)
#define FL_RF (1u << 16)
#define FL_VM (1u << 17)
#define FL_AC (1u << 18)
#define FL_VIF (1u << 19)
#define FL_VIP (1u << 20)
#define FL_ID (1u << 21)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* Lazily evaluated arithmetic flags (cpu/flags.h owns the encoding). */
struct lazy_flags {
	uint64_t res, src, dst;
	uint32_t op;            /* enum lf_op | size */
};

/* DR6 status bits (SDM vol. 3B 17.2.3). */
#define DR6_BD (1ull << 13)     /* debug-register access detected */
#define DR6_BS (1ull << 14)     /* single step */
#define DR6_BT (1ull << 15)     /* task switch with the new TSS's T flag set */
#define DR7_GD (1ull << 13)     /* general detect enable */

/* Exception vectors. */
enum {
	VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5, VEC_UD = 6, VEC_NM = 7,
	VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12, VEC_GP = 13, VEC_PF = 14, VEC_MF = 16,
	VEC_AC = 17, VEC_MC = 18, VEC_XM = 19, VEC_VE = 20, VEC_CP = 21,
	VEC_NONE = 0xff,        /* struct pending_exc holding a VM exit, not an exception */
};

/* What an instruction handler returns. Architectural outcomes only. */
enum exec_status {
	EXEC_OK = 0,
	EXEC_FAULT,             /* exception recorded in cpu->exc; RIP still at the instruction */
	EXEC_HALT,              /* HLT retired; the CPU sleeps */
};

struct pending_exc {
	uint8_t vector;
	bool has_error;
	uint32_t error;
	uint64_t cr2;           /* for #PF */
	bool is_pf;
	/* Raised after the commit point of a task switch: delivered in the new
	 * task, with RIP = rip (SDM vol. 3A 8.3, step 13). Cleared when taken. */
	bool new_task;
	uint64_t rip;
	/* #DB in VMX non-root operation: the DR6 bits it reports, committed
	 * to DR6 only when it is delivered in the guest (cpu/debug.c). */
	uint64_t dbg;
	/* Not an exception but a failed translation that is a VM exit in
	 * non-root operation (an EPT violation, ...): xf says which. vector is
	 * VEC_NONE then. Cleared when taken. */
	bool vmexit;
	struct xlate_fault xf;
};

/* Why delivering an event through the IVT/IDT faulted (cpu/deliv_causes.def). */
enum deliv_cause {
#define X(id, text) DELIV_##id,
#include "cpu/deliv_causes.def"
#undef X
	DELIV_CAUSE_COUNT
};

/* The chain of faults that led to a shutdown (the triple-fault report,
 * sim/forensics.h). Each link is one event whose delivery faulted: the
 * event, why its delivery failed, and the exception that raised. A chain
 * starts (n = 0) at the first delivery that fails after one completed or
 * ended in a VM exit; cpu/exception.c fills it only when a delivery
 * fails, so the fast path never touches it. */
#define FAULT_CHAIN_MAX 8
struct fault_link {
	uint8_t vector;
	uint8_t kind;           /* enum int_kind */
	uint8_t cause;          /* enum deliv_cause */
	uint8_t raised;         /* the exception the failure raised; VEC_NONE: a VM exit */
	bool has_error, raised_has_error;
	uint16_t cs;
	uint32_t error, raised_error;
	uint64_t rip;           /* where it happened: the faulting instruction, the INT n/INT3
				 * itself, or the instruction an interrupt came before */
	uint64_t detail;        /* the cause's value: IDT limit, selector, stack pointer... */
};
struct fault_chain {
	uint8_t n;              /* links recorded, at most FAULT_CHAIN_MAX */
	uint8_t dropped;        /* links past FAULT_CHAIN_MAX */
	bool open;              /* the last delivery failed: the chain grows */
	uint8_t cause;          /* set where the delivery code raises a fault, consumed by the link */
	uint64_t detail;
	struct fault_link link[FAULT_CHAIN_MAX];
};

/* Why cpu_run returned. */
enum cpu_stop {
	CPU_STOP_DEADLINE,      /* reached the cycle deadline or a stop request */
	CPU_STOP_HALTED,        /* sleeping in HLT */
	CPU_STOP_TRIPLE_FAULT,
	CPU_STOP_SHUTDOWN,      /* already in shutdown state */
};

#define CPU_MSR_SYSENTER_CS 0
struct cpu_msrs {
	uint64_t apic_base, pat, star, lstar, cstar, sfmask, kernel_gs_base, tsc_aux;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip, misc_enable, feature_control;
	uint64_t mtrr_def_type, tsc_adjust, spec_ctrl;
	uint64_t xss;           /* IA32_XSS (SDM vol. 1 13.3) */
	uint64_t debugctl;      /* IA32_DEBUGCTL (SDM vol. 3B 17.4.1), bits of cpu_debugctl_valid() */
	uint64_t perf_global_ctrl;      /* IA32_PERF_GLOBAL_CTRL (vol. 3B 18.2.2), cpu_perf_global_valid() */
	uint64_t bndcfgs;       /* IA32_BNDCFGS (SDM vol. 1 17.3.3), with MPX only */
};

/* One 128-bit XMM register (or the upper half of a YMM register). */
union xmm_reg {
	uint8_t b[16];
	uint16_t w[8];
	uint32_t d[4];
	uint64_t q[2];
};

/* x87, SSE and AVX register state (SDM vol. 1 8.1, 10.2, 14.1; the XSAVE
 * components 0-2 of vol. 1 13.1). */
struct fpu_state {
	union xmm_reg xmm[16];
	union xmm_reg ymmh[16];         /* bits 255:128 of YMM0-15 */
	uint32_t mxcsr;
	uint16_t fcw, fsw;              /* FSW.TOP (bits 13:11) is the stack top */
	uint8_t ftw;                    /* abridged tag word: bit i = physical register Ri valid */
	uint16_t fop;                   /* last x87 opcode, 11 bits */
	uint16_t fcs, fds;
	uint64_t fip, fdp;
	uint8_t st[8][10];              /* physical registers R0-R7, 80-bit extended format */
};

/* The local APIC as its CPU sees it (sim/ wires devices/lapic.c in; NULL
 * ops = no APIC: unit tests). The CPU asks it for the vector on INTA, and
 * sends it the APIC MSRs (IA32_APIC_BASE, IA32_TSC_DEADLINE, the x2APIC
 * range 800H-8FFH) and CR8. An MSR accessor returning false is #GP(0). */
struct cpu_apic_ops {
	int (*ack)(void *opaque);                       /* INTA: the vector, or -1: none after all */
	bool (*msr_read)(void *opaque, uint32_t msr, uint64_t *v);
	bool (*msr_write)(void *opaque, uint32_t msr, uint64_t v);
	unsigned (*cr8_read)(void *opaque);             /* TPR[7:4] (SDM vol. 3A 10.8.6.1) */
	void (*cr8_write)(void *opaque, unsigned v);
	void (*eoi)(void *opaque);                      /* a write of 0 to the EOI register (10.8.5) */
};

struct cpu {
	/* Hot state first. gpr_ea[] extends the registers with a zero (index 16,
	 * "no base/index") and next_rip (17, RIP-relative), so effective
	 * addresses are computed without branches (cpu/operand.h). */
	union {
		uint64_t gpr_ea[18];
		struct {
			uint64_t gpr[16];
			uint64_t zero_reg;      /* always 0 */
			uint64_t next_rip;      /* address of the next instruction, set before a handler runs */
		};
	};
	uint64_t rip;           /* between instructions; inside a decoded block it may lag: handlers
				 * use next_rip (and next_rip - len for their own address) */
	uint64_t cycles;        /* simulated cycles retired */
	uint64_t run_deadline;  /* cpu_run returns when cycles >= run_deadline; 0 = stop now */
	uint64_t instret;       /* instructions retired */
	const struct insn *block_end;   /* end of the decoded block being run (cpu/exec.c) */
	struct lazy_flags lf;
	uint64_t rflags;        /* non-arithmetic bits, and arithmetic bits when lf.op == LF_NONE */
	struct segment seg[6];
	uint8_t cpl;
	uint8_t code64;         /* CS.L && EFER.LMA */
	uint8_t user;           /* cpl == 3: user-mode accesses */
	uint8_t tlb_class;      /* TLB array the fast path uses (mem_tlb_class of user, SMAP, AC) */
	struct xlate_ctx xc;    /* paging context for mem/, kept current by cpu_mode_changed */
	struct tlb tlb;
	struct jump_cache_entry jc[JUMP_CACHE_SIZE];

	struct segment ldtr, tr;
	struct dtable gdtr, idtr;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer, xcr0;
	uint64_t pdpte[4];      /* PAE paging: PDPTE registers (SDM vol. 3A 4.4.1) */
	uint32_t pkru;          /* protection-key rights register (4.6.2) */
	bool a20_masked;        /* the platform's A20 gate is off (cpu_set_a20) */
	uint64_t dr[8];
	/* Debug exceptions recognised but not yet delivered, in the layout of the
	 * VMCS "pending debug exceptions" field (SDM vol. 3C 24.4.2): B0-B3
	 * (bits 3:0), enabled breakpoint (12), BS (14). cpu/debug.c. */
	uint64_t pending_dbg;
	uint8_t dbg_armed;      /* DR7 enables a breakpoint or pending_dbg != 0 (cpu/debug.c) */
	/* A host observer (cpu/probe.h): probe NULL = none. probe_step: ask it
	 * at every boundary; probe_data: report data accesses; probe_break: an
	 * event callback asked cpu_run to return; probe_parked: it returned at
	 * a boundary the observer stopped at, whose instruction runs next.
	 * probe_step also arms the debug slow path (dbg_armed, cpu/debug.c). */
	uint8_t probe_step, probe_data;
	union {
		struct {
			uint8_t probe_break, probe_parked;
		};
		uint16_t probe_halt;    /* both, tested at once at every boundary (cpu/exec.c) */
	};
	const struct cpu_probe *probe;
	struct cpu_msrs msr;
	uint64_t tsc_offset;    /* TSC = cycles + tsc_offset */
	struct fpu_state fpu;   /* x87/SSE/AVX registers (cpu/fpu.c, cpu/sse*.c, cpu/xsave.c) */
	struct vmx_state vmx;   /* VMX operation (vmx/) */

	/* Interrupt shadows and sleep state. */
	bool sti_shadow, mov_ss_shadow;
	bool halted, shutdown;
	/* Address-range monitoring armed by MONITOR; MWAIT's wake-up, VM entries
	 * and VM exits clear it (SDM vol. 2 MWAIT; vol. 3C 26.3.3, 27.5.6). */
	bool monitor_armed;
	/* NMI: requested and not yet delivered; blocked from the delivery of
	 * an NMI until the next IRET (SDM vol. 3A 6.7.1). */
	bool nmi_pending, nmi_blocked;
	/* The INTR line (the local APIC has a deliverable interrupt), INIT and
	 * SIPI latched until the next instruction boundary, and the
	 * wait-for-SIPI state of an AP (SDM vol. 3A 8.4, 10.4.7.3). */
	bool intr_req, init_pending, wait_sipi;
	int16_t sipi_vector;    /* latched SIPI vector, or -1 */
	struct pending_exc exc;
	int delivering;         /* nesting depth of exception delivery, for #DF / triple fault */
	struct fault_chain fchain;      /* the faults of the last failed delivery chain */

	const struct cpu_apic_ops *apic;
	void *apic_opaque;
	struct phys_local apic_page;    /* this CPU's xAPIC MMIO page (page = UINT64_MAX: none) */
	struct phys_trap apic_access;   /* the VMX APIC-access page in non-root (vmx/apicv.c; UINT64_MAX: none) */

	int id;                 /* APIC id / index */
	int ncpus;              /* logical processors in the machine (CPUID topology leaves) */
	const struct cpu_model *model;
	struct phys_map *phys;
	struct pio_bus *pio;
	struct icache *icache;
	uint64_t rng_state;     /* RDRAND/RDSEED, seeded from the command line */
	uint64_t warnings;      /* host-side warnings issued (cpu_warn prints the first CPU_WARN_MAX) */
	void (*warn)(void *ctx, const char *msg);   /* host-side warning sink */
	void *warn_ctx;
	/* Guest-physical mappings, tagged by EP4TA (mem/ept.h; SDM vol. 3C
	 * 29.4), last: used only in non-root operation with EPT. */
	struct ept_cache ept_cache;
};

/* Build a CPU in its power-on state (SDM 9.1.1, Table 9-1). */
void cpu_init(struct cpu *c, int id, const struct cpu_model *model, struct phys_map *phys,
	      struct pio_bus *pio, struct icache *ic);
void cpu_reset(struct cpu *c);

/* Put the CPU in the multiboot 1 entry state (flat 32-bit protected mode,
 * paging off, EAX = magic, EBX = info). */
void cpu_set_multiboot_state(struct cpu *c, uint32_t eip, uint32_t eax, uint32_t ebx);

/* Run until cycles >= deadline, a stop request, HLT or triple fault. */
enum cpu_stop cpu_run(struct cpu *c, uint64_t deadline);

/* Ask the running CPU to return from cpu_run at the next instruction boundary. */
static inline void cpu_request_stop(struct cpu *c)
{
	c->run_deadline = 0;
	c->block_end = NULL;
}

/* End the current decoded block at the next instruction boundary without
 * leaving cpu_run (its code was just overwritten). */
static inline void cpu_end_block(struct cpu *c)
{
	c->block_end = NULL;
}

/* A host-side warning (an opcode or feature vtxsim does not implement yet),
 * through c->warn; at most CPU_WARN_MAX per CPU, so a guest cannot flood. */
#define CPU_WARN_MAX 20
void cpu_warn(struct cpu *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A warning with the budget of its own site (or rule), so one noisy site
 * never silences another: *count counts every call (saturating); the first
 * `budget` calls print, the last of them with " [further repeats are not
 * shown]" appended. Does not touch c->warnings or CPU_WARN_MAX. The
 * counter belongs to the caller (vmx/misuse.c keeps one per rule per CPU),
 * so what prints depends only on the guest's actions: deterministic. */
void cpu_vwarn_site(struct cpu *c, uint32_t *count, uint32_t budget, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

/* x87/SSE/AVX state at power-up and reset (SDM vol. 3A 10.1, Table 10-1). */
void cpu_fpu_reset(struct cpu *c);

/* IA32 MSR state at reset (cpu/msr.c). */
void cpu_msr_reset(struct cpu *c);

/* RFLAGS with the lazily kept arithmetic flags folded in. */
uint64_t cpu_get_rflags(struct cpu *c);
void cpu_set_rflags(struct cpu *c, uint64_t v);

/* Recompute code64/cpl-derived caches after a mode change (CR0, EFER, CS).
 * A change of CR0/CR3/CR4/EFER that the caller did not already mirror into
 * c->xc (as the MOV to CR handlers do, after invalidating exactly what the
 * SDM says) flushes the current VPID's TLB entries (all of them outside VMX
 * non-root operation unless other VPIDs are cached). */
void cpu_mode_changed(struct cpu *c);
/* cpu_mode_changed for a VM entry or VM exit, which loaded CR0/CR3/CR4/EFER:
 * instead of flushing, the TLB makes (vpid, ept) its current context
 * (mem/tlb.h tlb_switch; ept is EP4TA | TLB_EPT, or 0 without EPT). What a
 * VM entry or exit invalidates is the caller's to do (SDM vol. 3C 28.3.3.1). */
void cpu_mode_switched(struct cpu *c, uint16_t vpid, uint64_t ept);

/* The CR4 bits the model's CPUID features let software set (cpu/system.c;
 * SDM vol. 3A 2.5): MOV to CR4 setting any other bit is #GP(0). VMX reports
 * them as IA32_VMX_CR4_FIXED1 (SDM vol. 3C A.8). */
uint64_t cpu_cr4_valid(const struct cpu *c);

/* The platform's A20 gate (the A20M# input): off masks physical address
 * bit 20 of this CPU's accesses, as an 8086 wraps at 1 MiB. */
void cpu_set_a20(struct cpu *c, bool enabled);

/* Write PKRU (WRPKRU, XRSTOR), dropping TLB permissions it changes. */
void cpu_set_pkru(struct cpu *c, uint32_t v);

/* Canonical for the current paging mode: 57 bits with CR4.LA57, else 48
 * (SDM vol. 1 3.3.7.1; vol. 3A 4.1.1). */
static inline bool cpu_canonical(const struct cpu *c, uint64_t la)
{
	return is_canonical(la, c->cr4);
}

/* CR4.UMIP makes SGDT, SIDT, SLDT, SMSW and STR #GP(0) at CPL > 0
 * (SDM vol. 3A 2.5). */
static inline bool cpu_umip_denies(const struct cpu *c)
{
	return (c->cr4 & CR4_UMIP) && c->cpl > 0;
}

/* How an event reaches the IDT (SDM vol. 3A 6.4, 6.12): decides the DPL
 * check for software interrupts and which RIP is pushed. */
enum int_kind {
	INT_EXCEPTION,          /* fault: RIP of the faulting instruction */
	INT_SOFTWARE,           /* INT n: next RIP, gate DPL checked */
	INT_SOFT_EXCEPTION,     /* INT3, INTO: next RIP, gate DPL checked */
	INT_PRIV_SOFTWARE,      /* INT1 (ICEBP): next RIP, no DPL check */
	INT_EXTERNAL,
	INT_NMI,
};

/* The INTR line from the local APIC: level true while an interrupt is
 * deliverable. Recognised at the next instruction boundary with RFLAGS.IF
 * set and no interrupt shadow; wakes the CPU from HLT. */
void cpu_set_intr(struct cpu *c, bool level);
/* INIT and SIPI signals, acted on at the next instruction boundary: INIT
 * puts the CPU in its INIT state (SDM vol. 3A 9.1.1, Table 9-1) and an AP
 * (IA32_APIC_BASE.BSP clear) then waits for SIPI; a SIPI starts a waiting
 * AP in real mode at vector:0000 (8.4.4.1) and is ignored otherwise. */
void cpu_signal_init(struct cpu *c);
void cpu_signal_sipi(struct cpu *c, uint8_t vector);
/* The INIT state now (Table 9-1 "after INIT": caches, MSRs, MTRRs, x87/SSE
 * state and the TSC unchanged). */
void cpu_init_state(struct cpu *c);

/* Request an NMI. It is delivered at the next instruction boundary when
 * NMIs are not blocked, and wakes the CPU from HLT. */
void cpu_nmi(struct cpu *c);
/* Deliver a pending, unblocked NMI (called by the executor between
 * instructions). False when delivery ended in shutdown. */
bool cpu_service_nmi(struct cpu *c);
/* Deliver the interrupt the local APIC hands out on INTA (called by the
 * executor when INTR is recognised). False when delivery ended in shutdown. */
bool cpu_service_intr(struct cpu *c);
/* Deliver external-interrupt vector v through the IDT now (a virtual
 * interrupt, SDM vol. 3C 29.2.2). False when delivery ended in shutdown. */
bool cpu_service_vector(struct cpu *c, uint8_t v);

/* Deliver c->exc (recorded by a handler or the executor) through the IDT,
 * turning a fault during delivery into #DF and a fault during #DF into a
 * triple fault (SDM vol. 3A 6.15, Table 6-5). Returns false when the CPU
 * entered shutdown (triple fault). */
bool cpu_deliver_exception(struct cpu *c);
/* Fault-class exceptions (their frame saves RF = 1, SDM vol. 3A 6.5). */
bool cpu_fault_class(unsigned vector);
/* The architecture's names of vectors 0-31 (cpu/vectors.def, SDM vol. 3A
 * Table 6-1): "#PF" and "page fault"; NULL and "reserved" otherwise. */
const char *cpu_vector_mnemonic(unsigned vector);
const char *cpu_vector_text(unsigned vector);

/* Deliver an interrupt or software exception of the given kind (INT n,
 * INT3, INTO, INT1, external, NMI). For software kinds c->next_rip must be
 * the return address and insn_len the length of the instruction (or the
 * VM-entry instruction length of an injected event): a VM exit during the
 * delivery reports it (SDM vol. 3C 27.2.5). Returns EXEC_OK, or EXEC_FAULT
 * with c->exc set by a fault during delivery (which the executor then
 * delivers as above). */
enum exec_status cpu_interrupt(struct cpu *c, unsigned vector, enum int_kind kind, bool has_error,
			       uint32_t error, unsigned insn_len);

#endif
