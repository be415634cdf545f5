/* exceptions: vector, error code and saved RIP of the exceptions a ring-0
 * kernel can raise (SDM Vol. 3A, chapter 7 "Interrupt and Exception
 * Handling", 7.15 "Exception and Interrupt Reference"), and delivery through
 * 64-bit interrupt and trap gates (7.14). Faults save the RIP of the
 * faulting instruction, traps the RIP of the next one. */
#include "guest.h"

#define NONCANONICAL 0x0000800000000000ul
#define UNMAPPED     0x0000000100000000ul       /* boot maps 0 - 4 GiB only */
#define DR6_BS       (1ul << 14)

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

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	check_faults();
	check_page_faults();
	check_debug_and_nm();
	check_segment_faults();
	check_soft_int();
	report_summary();
}
