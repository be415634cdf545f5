/* exceptions: vector, error code and saved RIP of the exceptions a ring-0
 * kernel can raise (SDM Vol. 3A, chapter 7 "Interrupt and Exception
 * Handling", 7.15 "Exception and Interrupt Reference"), and delivery through
 * 64-bit interrupt and trap gates (7.14), the IDT and EXT bits of error codes,
 * #DF, #XM and #MF. Faults save the RIP of the
 * faulting instruction, traps the RIP of the next one. */
#include "guest.h"

#define NONCANONICAL 0x0000800000000000ul
#define UNMAPPED     0x0000000100000000ul       /* boot maps 0 - 4 GiB only */
#define DR6_BS       (1ul << 14)
#define RFLAGS_RF    (1ul << 16)
#define CR0_NE       (1ul << 5)
#define CR4_OSFXSR   (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define GATE_P       (1ul << 47)
#define GATE_TYPE    (0xful << 40)

/* name(): runs setup, then insn at label name_at; name_after follows it;
 * teardown undoes setup if insn does not fault. */
#define FAULTING_FN(name, setup, insn, teardown, ...)                           \
	extern char name##_at[], name##_after[];                                \
	static NOINLINE void name(void *arg)                                    \
	{                                                                       \
		(void)arg;                                                      \
		asm volatile(setup "\n" #name "_at:\n\t" insn "\n" #name "_after:\n\t" teardown \
			     : : : "memory", ##__VA_ARGS__);                     \
	}

FAULTING_FN(div_zero, "xor %%ecx, %%ecx; mov $1, %%eax; xor %%edx, %%edx", "divl %%ecx", "",
	    "rax", "rcx", "rdx")
FAULTING_FN(idiv_overflow, "mov $0x80000000, %%eax; cltd; mov $-1, %%ecx", "idivl %%ecx", "",
	    "rax", "rcx", "rdx")
FAULTING_FN(ud2_insn, "", "ud2", "")
FAULTING_FN(lock_nop, "", ".byte 0xf0, 0x90", "")                       /* LOCK NOP */
FAULTING_FN(into_insn, "", ".byte 0xce", "")                            /* INTO: invalid in 64-bit mode */
FAULTING_FN(mov_cr1, "", ".byte 0x0f, 0x20, 0xc8", "", "rax")           /* mov %cr1, %rax */
FAULTING_FN(int3_insn, "", "int3", "")
FAULTING_FN(int_3, "", "int $3", "")
FAULTING_FN(noncanon_load, "movabs $0x800000000000, %%rax", "movq (%%rax), %%rbx", "", "rax", "rbx")
FAULTING_FN(noncanon_stack, "push %%rbp; movabs $0x800000000000, %%rbp", "movq (%%rbp), %%rbx",
	    "pop %%rbp", "rbx")
FAULTING_FN(wrmsr_bad, "mov $0x12345678, %%ecx; xor %%eax, %%eax; xor %%edx, %%edx", "wrmsr", "",
	    "rax", "rcx", "rdx")
FAULTING_FN(rdmsr_bad, "mov $0x12345678, %%ecx", "rdmsr", "", "rax", "rcx", "rdx")
FAULTING_FN(pf_read, "movabs $0x100000000, %%rax", "movq (%%rax), %%rbx", "", "rax", "rbx")
FAULTING_FN(pf_write, "movabs $0x100000008, %%rax", "movq %%rbx, (%%rax)", "", "rax")
FAULTING_FN(pf_fetch, "movabs $0x100000040, %%rax", "call *%%rax", "", "rax")
FAULTING_FN(single_step, "pushfq; orq $0x100, (%%rsp); popfq", "nop",
	    "pushfq; andq $~0x100, (%%rsp); popfq")
FAULTING_FN(x87_ts, "", "fninit", "")
FAULTING_FN(load_ds_np, "mov %%ds, %%ecx; mov $0x18, %%eax", "mov %%eax, %%ds", "mov %%ecx, %%ds",
	    "rax", "rcx")
FAULTING_FN(int_90, "", "int $0x90", "")
FAULTING_FN(int_91, "", "int $0x91", "")
FAULTING_FN(int_92, "", "int $0x92", "")
FAULTING_FN(divss_zero, "mov $0x3f800000, %%eax; movd %%eax, %%xmm0; xorps %%xmm1, %%xmm1",
	    "divss %%xmm1, %%xmm0", "", "rax")
FAULTING_FN(fwait_insn, "", "fwait", "")
FAULTING_FN(load_ds_limit, "mov %%ds, %%ecx; mov $0x50, %%eax", "mov %%eax, %%ds", "mov %%ecx, %%ds",
	    "rax", "rcx")

/* Runs fn and checks the exception it raised. */
static void expect(fault_body_fn fn, const char *what, uint8_t vector, uint64_t error_code,
		   const char *rip)
{
	struct fault f;

	if (!catch_fault(fn, NULL, &f)) {
		report(false, "%s: raises vector %u (no exception)", what, vector);
		return;
	}
	bool ok = f.vector == vector && f.error_code == error_code && f.rip == (uint64_t)rip;
	report(ok, "%s: vector %u, error code %#lx, RIP %s", what, vector, error_code,
	       rip == NULL ? "?" : "as expected");
	if (!ok)
		printf("      got vector %u error %#lx RIP %#lx, expected RIP %p\n", f.vector,
		       f.error_code, f.rip, rip);
}

static void check_faults(void)
{
	expect(div_zero, "#DE from div by zero", VEC_DE, 0, div_zero_at);
	expect(idiv_overflow, "#DE from idiv 0x80000000 / -1", VEC_DE, 0, idiv_overflow_at);
	expect(ud2_insn, "#UD from ud2", VEC_UD, 0, ud2_insn_at);
	expect(lock_nop, "#UD from LOCK NOP", VEC_UD, 0, lock_nop_at);
	expect(into_insn, "#UD from INTO in 64-bit mode", VEC_UD, 0, into_insn_at);
	expect(mov_cr1, "#UD from mov from CR1", VEC_UD, 0, mov_cr1_at);
	expect(int3_insn, "#BP from int3 (trap: RIP after it)", VEC_BP, 0, int3_insn_after);
	expect(int_3, "#BP from int $3 (RIP after it)", VEC_BP, 0, int_3_after);
	expect(noncanon_load, "#GP(0) from a non-canonical load", VEC_GP, 0, noncanon_load_at);
	expect(noncanon_stack, "#SS(0) from a non-canonical RBP-based load", VEC_SS, 0,
	       noncanon_stack_at);
	expect(wrmsr_bad, "#GP(0) from wrmsr to MSR 0x12345678", VEC_GP, 0, wrmsr_bad_at);
	expect(rdmsr_bad, "#GP(0) from rdmsr of MSR 0x12345678", VEC_GP, 0, rdmsr_bad_at);
}

static void check_page_faults(void)
{
	struct fault f;

	/* P=0, W/R as accessed, U/S=0 (SDM Vol. 3A, 5.7 figure 5-12). */
	expect(pf_read, "#PF from a read of unmapped 4 GiB", VEC_PF, 0, pf_read_at);
	catch_fault(pf_read, NULL, &f);
	report_eq(f.cr2, UNMAPPED, "#PF read: CR2 is the address");
	expect(pf_write, "#PF from a write of unmapped 4 GiB + 8", VEC_PF, 2, pf_write_at);
	catch_fault(pf_write, NULL, &f);
	report_eq(f.cr2, UNMAPPED + 8, "#PF write: CR2 is the address");

	/* A fetch fault reports I/D only with EFER.NXE (or SMEP) set (5.7). */
	uint64_t efer = rdmsr(MSR_EFER);
	wrmsr(MSR_EFER, efer & ~EFER_NXE);
	expect(pf_fetch, "#PF from a fetch of unmapped memory, NXE=0", VEC_PF, 0,
	       (const char *)(UNMAPPED + 0x40));
	wrmsr(MSR_EFER, efer | EFER_NXE);
	expect(pf_fetch, "#PF from a fetch of unmapped memory, NXE=1: I/D set", VEC_PF, 0x10,
	       (const char *)(UNMAPPED + 0x40));
	catch_fault(pf_fetch, NULL, &f);
	report_eq(f.cr2, UNMAPPED + 0x40, "#PF fetch: CR2 is the target");
	wrmsr(MSR_EFER, efer);
}

static void check_debug_and_nm(void)
{
	struct fault f;
	uint64_t dr6, cr0 = read_cr0();

	asm volatile("mov %0, %%dr6" : : "r"(0xffff0ff0ul));
	expect(single_step, "#DB from single-step (trap: RIP after the nop)", VEC_DB, 0,
	       single_step_after);
	asm volatile("mov %%dr6, %0" : "=r"(dr6));
	report(dr6 & DR6_BS, "single-step sets DR6.BS (DR6 %#lx)", dr6);

	write_cr0((cr0 & ~CR0_EM) | CR0_TS);
	catch_fault(x87_ts, NULL, &f);
	write_cr0(cr0);
	report(f.raised && f.vector == VEC_NM && f.rip == (uint64_t)x87_ts_at,
	       "#NM from fninit with CR0.TS=1");
}

/* A GDT with a not-present data segment at 0x18 and nothing past 0x20. */
static void check_segment_faults(void)
{
	static const uint64_t gdt[] = {
		0, 0x00af9a000000ffff, 0x00cf92000000ffff, 0x00cf12000000ffff,
	};
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) old, new = { sizeof(gdt) - 1, (uint64_t)gdt };

	asm volatile("sgdt %0" : "=m"(old));
	asm volatile("lgdt %0" : : "m"(new));
	expect(load_ds_np, "#NP(0x18) from loading a not-present segment", VEC_NP, 0x18,
	       load_ds_np_at);
	expect(load_ds_limit, "#GP(0x50) from a selector past the GDT limit", VEC_GP, 0x50,
	       load_ds_limit_at);
	asm volatile("lgdt %0" : : "m"(old));
}

struct gate_seen {
	uint64_t vector, rip, cs, ss, rsp, pushed_rflags, inside_rflags, frame_top;
};

static struct gate_seen seen;

static void soft_int_handler(struct intr_frame *f)
{
	seen = (struct gate_seen){
		.vector = f->vector, .rip = f->rip, .cs = f->cs, .ss = f->ss, .rsp = f->rsp,
		.pushed_rflags = f->rflags, .inside_rflags = read_rflags(),
		.frame_top = (uint64_t)&f->ss + 8,
	};
	f->rax = f->rax * 3 + 1;
}

extern char int80_ret[], int81_ret[];

static void check_soft_int(void)
{
	uint64_t rax = 14, rsp;

	idt_set_handler(0x80, soft_int_handler, GATE_INTERRUPT, 0);
	idt_set_handler(0x81, soft_int_handler, GATE_TRAP, 0);
	asm volatile("sti; mov %%rsp, %1; int $0x80\nint80_ret:\n\tcli"
		     : "+a"(rax), "=&r"(rsp) : : "memory");
	report(seen.vector == 0x80 && rax == 43, "int $0x80 reaches its DPL-0 gate from ring 0; "
	       "the handler's RAX comes back (%lu)", rax);
	report(seen.rip == (uint64_t)int80_ret && seen.cs == KERNEL_CS,
	       "int $0x80 pushes CS 0x08 and the RIP after the instruction");
	report(seen.rsp == rsp && seen.ss == KERNEL_DS, "int $0x80 pushes the old SS:RSP");
	/* 7.14.2: RSP is aligned down to 16 bytes before the frame is pushed. */
	report(seen.frame_top == (rsp & ~15ul), "the frame starts at RSP aligned down to 16");
	report((seen.pushed_rflags & RFLAGS_IF) && !(seen.inside_rflags & RFLAGS_IF),
	       "an interrupt gate clears IF; the pushed RFLAGS keeps it");

	asm volatile("sub $8, %%rsp; mov %%rsp, %1; sti; int $0x81\nint81_ret:\n\tcli; add $8, %%rsp"
		     : "+a"(rax), "=&r"(rsp) : : "memory");
	report(seen.vector == 0x81 && rax == 130 && seen.rip == (uint64_t)int81_ret,
	       "int $0x81 through a trap gate returns after the instruction");
	report(seen.inside_rflags & RFLAGS_IF, "a trap gate leaves IF set");
	report(seen.frame_top == (rsp & ~15ul) && seen.rsp == rsp,
	       "with RSP moved by 8, the frame again starts at RSP aligned down to 16");
}

/* The library's 64-bit gate for vector v (its first 8 bytes). */
static volatile uint64_t *idt_gate(unsigned v)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) p;

	asm volatile("sidt %0" : "=m"(p));
	return (volatile uint64_t *)(p.base + 16 * v);
}

/* 7.13 "Error Code": a fault on the IDT entry itself sets IDT
 * (bit 1) and puts the vector in the index field; EXT (bit 0) says an
 * event external to the program (here: an exception) was being delivered,
 * INT n has EXT = 0. */
static void check_idt_error_codes(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) low;
	volatile uint64_t *g;
	uint64_t saved;

	asm volatile("sidt %0" : "=m"(low));
	low.limit = 0x90 * 16 - 1;
	asm volatile("lidt %0" : : "m"(low));
	expect(int_90, "INT 90H past the IDT limit: #GP(90H * 8 + 2), EXT = 0", VEC_GP, 0x90 * 8 + 2, int_90_at);
	idt_load();

	g = idt_gate(0x91);
	saved = *g;
	*g = saved & ~GATE_TYPE;                /* present, type 0: not a 64-bit gate (7.14.1) */
	expect(int_91, "INT 91H through a type-0 IDT entry: #GP(91H * 8 + 2)", VEC_GP, 0x91 * 8 + 2, int_91_at);
	*g = saved;

	g = idt_gate(0x92);
	saved = *g;
	*g = saved & ~GATE_P;
	expect(int_92, "INT 92H through a not-present gate: #NP(92H * 8 + 2)", VEC_NP, 0x92 * 8 + 2, int_92_at);
	*g = saved;

	g = idt_gate(VEC_UD);
	saved = *g;
	*g = saved & ~GATE_P;
	expect(ud2_insn, "#UD whose gate is not present: #NP(6 * 8 + 2 + EXT)", VEC_NP, VEC_UD * 8 + 3, ud2_insn_at);
	*g = saved;
}

/* Table 7-5: #NP (contributory) while delivering #GP (contributory) is a
 * double fault, error code 0 (7.15, interrupt 8; the saved RIP is
 * undefined, so it is not checked). */
static void check_double_fault(void)
{
	struct fault f;
	volatile uint64_t *g = idt_gate(VEC_GP);
	uint64_t saved = *g;

	*g = saved & ~GATE_P;
	catch_fault(noncanon_load, NULL, &f);
	*g = saved;
	report(f.raised && f.vector == VEC_DF && f.error_code == 0,
	       "#GP through a not-present gate becomes #DF with error code 0 (got vector %u error %#lx)",
	       f.vector, f.error_code);
}

/* SIMD floating-point exception (7.15, interrupt 19): an unmasked ZE with
 * CR4.OSXMMEXCPT = 1 is #XM, with OSXMMEXCPT = 0 #UD; the instruction does
 * not complete and only ZE is flagged (vol. 1 11.5.3.2). */
static void check_simd_fault(void)
{
	uint64_t cr4 = read_cr4();
	uint32_t unmask_ze = 0x1f80 & ~(1u << 9), dflt = 0x1f80, mxcsr;

	write_cr4(cr4 | CR4_OSFXSR | CR4_OSXMMEXCPT);
	asm volatile("ldmxcsr %0" : : "m"(unmask_ze));
	expect(divss_zero, "#XM from DIVSS by zero with ZM = 0", VEC_XM, 0, divss_zero_at);
	asm volatile("stmxcsr %0" : "=m"(mxcsr));
	report_eq(mxcsr & 0x3f, 1u << 2, "#XM: MXCSR flags ZE only");
	write_cr4((cr4 | CR4_OSFXSR) & ~CR4_OSXMMEXCPT);
	asm volatile("ldmxcsr %0" : : "m"(unmask_ze));
	expect(divss_zero, "#UD from the same DIVSS with CR4.OSXMMEXCPT = 0", VEC_UD, 0, divss_zero_at);
	asm volatile("ldmxcsr %0" : : "m"(dflt));
	write_cr4(cr4);
}

/* x87 floating-point error (7.15, interrupt 16): with CR0.NE = 1 a pending
 * unmasked exception (FSW.ES) is reported as #MF by the next waiting
 * instruction, before it executes (vol. 1 8.7). */
static void check_x87_fault(void)
{
	uint16_t env[14];
	uint64_t cr0 = read_cr0();

	write_cr0((cr0 | CR0_NE) & ~(CR0_EM | CR0_TS));
	asm volatile("fninit; fnstenv %0" : "=m"(env));
	env[0] &= (uint16_t)~1u;                /* FCW.IM = 0 */
	env[2] |= 0x81;                         /* FSW.IE, FSW.ES */
	asm volatile("fldenv %0" : : "m"(env));
	expect(fwait_insn, "#MF from FWAIT with an unmasked invalid-operation pending", VEC_MF, 0, fwait_insn_at);
	asm volatile("fninit");
	write_cr0(cr0);
}

struct exc_seen {
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

static struct exc_seen xseen;
static uint64_t xresume;

static void frame_handler(struct intr_frame *f)
{
	xseen = (struct exc_seen){ f->vector, f->error_code, f->rip, f->cs, f->rflags, f->rsp, f->ss };
	if (xresume)
		f->rip = xresume;
}

extern char fr_ud_at[], fr_ud_after[], fr_bp_after[];

/* The whole 64-bit frame of a fault and of a trap (7.14.2, Figure 7-9:
 * SS, RSP, RFLAGS, CS, RIP always pushed): a fault saves RF = 1, INT3 the
 * RF it found, 0 (vol. 3B 18.3.1.1). */
static NOINLINE void check_exception_frame(void)
{
	uint64_t rsp, fl;

	idt_set_handler(VEC_UD, frame_handler, GATE_INTERRUPT, 0);
	idt_set_handler(VEC_BP, frame_handler, GATE_INTERRUPT, 0);
	xresume = (uint64_t)fr_ud_after;
	asm volatile("stc; pushfq; pop %1; mov %%rsp, %0\nfr_ud_at:\n\tud2\nfr_ud_after:"
		     : "=&r"(rsp), "=&r"(fl) : : "memory", "cc");
	report(xseen.vector == VEC_UD && xseen.rip == (uint64_t)fr_ud_at && xseen.cs == KERNEL_CS &&
	       xseen.ss == KERNEL_DS && xseen.rsp == rsp, "#UD frame: SS 0x10, the old RSP, CS 0x08, RIP of UD2");
	report_eq(xseen.rflags, fl | RFLAGS_RF, "#UD frame: RFLAGS as they were, with RF = 1 (fault)");
	xresume = 0;
	asm volatile("stc; pushfq; pop %1; mov %%rsp, %0; int3\nfr_bp_after:"
		     : "=&r"(rsp), "=&r"(fl) : : "memory", "cc");
	report(xseen.vector == VEC_BP && xseen.rip == (uint64_t)fr_bp_after && xseen.rsp == rsp,
	       "#BP frame: RIP after INT3, the old RSP");
	report_eq(xseen.rflags, fl, "#BP frame: RFLAGS as they were, RF = 0 (trap)");
	idt_set_handler(VEC_UD, NULL, GATE_INTERRUPT, 0);
	idt_set_handler(VEC_BP, NULL, GATE_INTERRUPT, 0);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	check_faults();
	check_page_faults();
	check_debug_and_nm();
	check_segment_faults();
	check_soft_int();
	check_idt_error_codes();
	check_double_fault();
	check_simd_fault();
	check_x87_fault();
	check_exception_frame();
	report_summary();
}
