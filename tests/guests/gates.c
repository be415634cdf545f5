/* gates: privilege changes through call gates and the fast system-call
 * instructions, driven from real ring-3 code (SDM Vol. 3A, 5.8 "Privilege
 * Level Checking When Transferring Program Control Between Code Segments").
 *   - a far CALL from CPL 3 through a 64-bit DPL-3 call gate to CPL 0: the
 *     stack switch to TSS.RSP0 with a null SS, the 8-byte frame, and the
 *     far RET (REX.W) back with the data-segment rules of 5.8.6;
 *   - call-gate faults: gate DPL < CPL, gate not present, target not code,
 *     upper type of a 64-bit gate not 0;
 *   - a 32-bit call gate with a parameter count, in a 32-bit protected-mode
 *     section: the parameters are copied to the inner stack (last, as it
 *     leaves TR naming a 32-bit TSS);
 *   - SYSCALL/SYSRET (5.8.8) and SYSENTER/SYSEXIT (5.8.7) round trips from
 *     ring 3, and their #GP/#UD cases.
 * Ring-3 code is assembly below; it records what it sees in gt_* globals
 * and ends with UD2, which catch_fault turns into a return to kmain. */
#include "guest.h"

#define MSR_SYSENTER_CS  0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u
#define MSR_STAR         0xc0000081u
#define MSR_LSTAR        0xc0000082u
#define MSR_SFMASK       0xc0000084u
#define RFLAGS_AC        (1ul << 18)
#define RFLAGS_RF        (1ul << 16)

/* The 64-bit GDT. SYSCALL/SYSRET: STAR[47:32] = 0x08 (CS 0x08, SS 0x10),
 * STAR[63:48] = 0x10 (SS 0x18|3, 64-bit CS 0x20|3). SYSENTER/SYSEXIT:
 * IA32_SYSENTER_CS = 0x08 (SS 0x10; 64-bit exit CS 0x28|3, SS 0x30|3). */
#define SEL_KCODE     0x08
#define SEL_KDATA     0x10
#define SEL_UDATA     0x1b
#define SEL_UCODE     0x23
#define SEL_UCODE_SE  0x2b
#define SEL_UDATA_SE  0x33
#define SEL_TSS       0x38
#define GATE_OK       0x48      /* DPL 3 -> 0x08:gt_gate_handler */
#define GATE_DPL0     0x58      /* DPL 0 */
#define GATE_NP       0x68      /* DPL 3, not present */
#define GATE_DATA     0x78      /* DPL 3 -> 0x10, a data segment */
#define GATE_UPTYPE   0x88      /* DPL 3, upper type 0xc */
#define GDT_ENTRIES   19

/* The 32-bit protected-mode section's GDT. */
#define SEL32_KDATA   0x10
#define SEL32_KCODE   0x18
#define SEL32_UCODE   0x23
#define SEL32_UDATA   0x2b
/* 0x30 TSS32; 0x3b and 0x43: the 32-bit DPL-3 call gates (the asm uses
 * the numbers), 2 parameters -> gt32_handler, none -> gt32_exit. */

#define FILL 0xaaaaaaaaaaaaaaaaull

uint64_t gt_gdt[GDT_ENTRIES] __attribute__((aligned(16)));
uint8_t gt_tss[104] __attribute__((aligned(16)));
uint64_t gt_kstack[1024] __attribute__((aligned(16)));         /* TSS.RSP0 */
uint64_t gt_sestack[512] __attribute__((aligned(16)));         /* IA32_SYSENTER_ESP */
uint8_t gt_ustack[4096] __attribute__((aligned(16)));

/* What ring 3 records. */
uint64_t gt_u_rsp0, gt_u_rsp1, gt_u_flags;
uint16_t gt_u_cs, gt_u_ss, gt_u_ds, gt_u_es, gt_u_fs, gt_u_gs;
/* What ring 0 records. */
uint64_t gt_k_rsp, gt_k_frame[4], gt_k_rcx, gt_k_r11, gt_k_flags;
uint16_t gt_k_cs, gt_k_ss;
/* RFLAGS image the SYSCALL handler passes to SYSRET in R11. */
uint64_t gt_sysret_r11;
/* m16:64 far pointer used by the call-gate test. */
struct __attribute__((packed)) { uint64_t off; uint16_t sel; } gt_far;

extern char gt_u_call[], gt_u_call_ret[], gt_u_call_end[], gt_u_lcall[];
extern char gt_gate_handler[];
extern char gt_u_syscall[], gt_u_syscall_ret[], gt_u_syscall_end[], gt_syscall_entry[];
extern char gt_u_sysenter[], gt_u_sysenter_ret[], gt_u_sysenter_end[], gt_sysenter_entry[];
extern char gt_k_sysret_nc_at[];
void gt_k_sysret_nc(void *arg);
void gt_k_syscall(void *arg);
void gt_k_sysenter(void *arg);

asm(".text\n"
    /* Test 1, ring 3: load DS/ES/FS/GS with the DPL-3 data segment, far
     * CALL through GATE_OK, record the state after the far RET. */
    ".globl gt_u_call, gt_u_call_ret, gt_u_call_end\n"
    "gt_u_call:\n"
    "	mov $0x1b, %eax; mov %eax, %ds; mov %eax, %es; mov %eax, %fs; mov %eax, %gs\n"
    "	mov %rsp, gt_u_rsp0(%rip)\n"
    "	rex64 lcall *gt_far(%rip)\n"
    "gt_u_call_ret:\n"
    "	mov %rsp, gt_u_rsp1(%rip)\n"
    "	movw %cs, gt_u_cs(%rip); movw %ss, gt_u_ss(%rip)\n"
    "	movw %ds, gt_u_ds(%rip); movw %es, gt_u_es(%rip)\n"
    "	movw %fs, gt_u_fs(%rip); movw %gs, gt_u_gs(%rip)\n"
    "gt_u_call_end:\n"
    "	ud2\n"
    /* Ring 0 behind GATE_OK: record RSP, CS, SS and the frame, load ES and
     * FS with the DPL-0 data segment (the far RET must null them), return. */
    ".globl gt_gate_handler\n"
    "gt_gate_handler:\n"
    "	mov %rsp, gt_k_rsp(%rip)\n"
    "	movw %cs, gt_k_cs(%rip); movw %ss, gt_k_ss(%rip)\n"
    "	mov 0(%rsp), %rax; mov %rax, gt_k_frame+0(%rip)\n"
    "	mov 8(%rsp), %rax; mov %rax, gt_k_frame+8(%rip)\n"
    "	mov 16(%rsp), %rax; mov %rax, gt_k_frame+16(%rip)\n"
    "	mov 24(%rsp), %rax; mov %rax, gt_k_frame+24(%rip)\n"
    "	mov $0x10, %eax; mov %eax, %es; mov %eax, %fs\n"
    "	lretq\n"
    /* Test 2, ring 3: far CALL through the pointer in RDI (expected to fault). */
    ".globl gt_u_lcall\n"
    "gt_u_lcall:\n"
    "	rex64 lcall *(%rdi)\n"
    "	ud2\n"
    /* Test 4, ring 3: SYSCALL, then record what SYSRET returned with. */
    ".globl gt_u_syscall, gt_u_syscall_ret, gt_u_syscall_end\n"
    "gt_u_syscall:\n"
    "	mov %rsp, gt_u_rsp0(%rip)\n"
    "	syscall\n"
    "gt_u_syscall_ret:\n"
    "	mov %rsp, gt_u_rsp1(%rip)\n"
    "	pushfq; pop %rax; mov %rax, gt_u_flags(%rip)\n"
    "	movw %cs, gt_u_cs(%rip); movw %ss, gt_u_ss(%rip)\n"
    "gt_u_syscall_end:\n"
    "	ud2\n"
    /* IA32_LSTAR: still on the user stack (SYSCALL does not switch). */
    ".globl gt_syscall_entry\n"
    "gt_syscall_entry:\n"
    "	mov %rsp, gt_k_rsp(%rip)\n"
    "	mov %rcx, gt_k_rcx(%rip); mov %r11, gt_k_r11(%rip)\n"
    "	pushfq; pop %rax; mov %rax, gt_k_flags(%rip)\n"
    "	movw %cs, gt_k_cs(%rip); movw %ss, gt_k_ss(%rip)\n"
    "	mov gt_sysret_r11(%rip), %r11\n"
    "	sysretq\n"
    /* Test 5, ring 3: SYSENTER with RDX = return RIP, RCX = RSP for SYSEXIT. */
    ".globl gt_u_sysenter, gt_u_sysenter_ret, gt_u_sysenter_end\n"
    "gt_u_sysenter:\n"
    "	mov %rsp, gt_u_rsp0(%rip)\n"
    "	mov %rsp, %rcx\n"
    "	lea gt_u_sysenter_ret(%rip), %rdx\n"
    "	sysenter\n"
    "	ud2\n"                                  /* SYSENTER does not fall through */
    "gt_u_sysenter_ret:\n"
    "	mov %rsp, gt_u_rsp1(%rip)\n"
    "	movw %cs, gt_u_cs(%rip); movw %ss, gt_u_ss(%rip)\n"
    "gt_u_sysenter_end:\n"
    "	ud2\n"
    /* IA32_SYSENTER_EIP: on IA32_SYSENTER_ESP. */
    ".globl gt_sysenter_entry\n"
    "gt_sysenter_entry:\n"
    "	mov %rsp, gt_k_rsp(%rip)\n"
    "	movw %cs, gt_k_cs(%rip); movw %ss, gt_k_ss(%rip)\n"
    "	pushfq; pop %rax; mov %rax, gt_k_flags(%rip)\n"
    "	sysexitq\n"
    /* CPL 0 bodies for catch_fault. */
    ".globl gt_k_sysret_nc, gt_k_sysret_nc_at, gt_k_syscall, gt_k_sysenter\n"
    "gt_k_sysret_nc:\n"
    "	movabs $0x0000800000000000, %rcx\n"
    "	mov $2, %r11d\n"
    "gt_k_sysret_nc_at:\n"
    "	sysretq\n"
    "gt_k_syscall:\n"
    "	syscall\n"
    "	ret\n"
    "gt_k_sysenter:\n"
    "	sysenter\n"
    "	ret\n");

/* 3. The 32-bit protected-mode section: leave IA-32e mode (a 32-bit call
 * gate with a parameter count does not exist there, 5.8.3.1), enter ring 3
 * with IRET, push two parameters and far CALL through GATE32_PARAMS; the
 * handler records its stack and returns with RET 8; ring 3 then calls
 * GATE32_EXIT, whose CPL-0 code goes back to 64-bit mode. Paging is off,
 * so no U bits are needed. */
uint64_t gt32_gdt[10] __attribute__((aligned(16)));
uint32_t gt32_tss[26] __attribute__((aligned(16)));
uint32_t gt32_kstack[512] __attribute__((aligned(16)));        /* TSS.ESP0 */
uint32_t gt32_ustack[512] __attribute__((aligned(16)));
struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gt32_gdt_ptr;
uint8_t gt32_saved_gdt[10];
uint64_t gt32_saved_rsp;
uint32_t gt32_u_esp0, gt32_u_esp1, gt32_k_esp, gt32_k_frame[6];
uint16_t gt32_u_cs, gt32_u_ss, gt32_k_cs, gt32_k_ss;
extern char gt32_handler[], gt32_exit[], gt32_user_ret[];
void gt32_roundtrip(void);

asm(".text\n"
    ".globl gt32_roundtrip, gt32_handler, gt32_exit, gt32_user_ret\n"
    "gt32_roundtrip:\n"
    "	push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
    "	mov %rsp, gt32_saved_rsp(%rip)\n"
    "	sgdt gt32_saved_gdt(%rip)\n"
    "	lgdt gt32_gdt_ptr(%rip)\n"
    "	pushq $0x18\n"
    "	lea gt32_compat(%rip), %rax\n"
    "	push %rax\n"
    "	lretq\n"
    ".code32\n"
    "gt32_compat:\n"
    "	mov $0x10, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss; mov %ax, %fs; mov %ax, %gs\n"
    "	mov %cr0, %eax; and $0x7fffffff, %eax; mov %eax, %cr0\n"
    "	mov $0xc0000080, %ecx; rdmsr; and $~0x100, %eax; wrmsr\n"
    /* 32-bit protected mode, paging off */
    "	mov $0x30, %ax; ltr %ax\n"
    "	pushl $0x2b; pushl $(gt32_ustack + 2048); pushl $0x2; pushl $0x23; pushl $gt32_user\n"
    "	iret\n"
    "gt32_user:\n"
    "	mov $0x2b, %eax; mov %eax, %ds; mov %eax, %es\n"
    "	mov %esp, gt32_u_esp0\n"
    "	pushl $0x11111111\n"
    "	pushl $0x22222222\n"
    "	lcall $0x3b, $0\n"
    "gt32_user_ret:\n"
    "	mov %esp, gt32_u_esp1\n"
    "	movw %ss, gt32_u_ss; movw %cs, gt32_u_cs\n"
    "	lcall $0x43, $0\n"
    "gt32_handler:\n"
    "	mov %esp, gt32_k_esp\n"
    "	movw %cs, gt32_k_cs; movw %ss, gt32_k_ss\n"
    "	mov 0(%esp), %eax; mov %eax, gt32_k_frame\n"
    "	mov 4(%esp), %eax; mov %eax, gt32_k_frame+4\n"
    "	mov 8(%esp), %eax; mov %eax, gt32_k_frame+8\n"
    "	mov 12(%esp), %eax; mov %eax, gt32_k_frame+12\n"
    "	mov 16(%esp), %eax; mov %eax, gt32_k_frame+16\n"
    "	mov 20(%esp), %eax; mov %eax, gt32_k_frame+20\n"
    "	lret $8\n"
    "gt32_exit:\n"
    "	mov $0x10, %ax; mov %ax, %ds; mov %ax, %es\n"
    "	mov $0xc0000080, %ecx; rdmsr; or $0x100, %eax; wrmsr\n"
    "	mov %cr0, %eax; or $0x80000000, %eax; mov %eax, %cr0\n"
    "	ljmp $0x08, $gt32_back64\n"
    ".code64\n"
    "gt32_back64:\n"
    "	mov $0x10, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss; mov %ax, %fs; mov %ax, %gs\n"
    "	lgdt gt32_saved_gdt(%rip)\n"
    "	mov gt32_saved_rsp(%rip), %rsp\n"
    "	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
    "	ret\n");


/* A 64-bit call gate (SDM 5.8.3.1, figure 5-9): 16 bytes, type 0xc in the
 * low half, the upper type field in bits 12:8 of the highest dword. */
static void put_gate64(unsigned sel, uint16_t target, uint64_t off, unsigned dpl, bool present, unsigned up_type)
{
	gt_gdt[sel / 8] = (off & 0xffff) | (uint64_t)target << 16 |
			  (uint64_t)((present ? 0x80 : 0) | dpl << 5 | 0xc) << 40 | (off >> 16 & 0xffff) << 48;
	gt_gdt[sel / 8 + 1] = (off >> 32) | (uint64_t)up_type << 40;
}

/* GDT with ring-3 segments, gates and a TSS; the identity map opened to
 * user mode (the U bit at every level), as tests/guests/debug.c does. */
static void setup_ring3(void)
{
	uint64_t base = (uint64_t)gt_tss, rsp0 = (uint64_t)(gt_kstack + ARRAY_SIZE(gt_kstack));
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(gt_gdt) - 1, (uint64_t)gt_gdt };

	gt_gdt[1] = 0x00af9a000000ffff;         /* 0x08 code64 DPL 0 */
	gt_gdt[2] = 0x00cf92000000ffff;         /* 0x10 data DPL 0 */
	gt_gdt[3] = 0x00cff2000000ffff;         /* 0x18 data DPL 3 */
	gt_gdt[4] = 0x00affa000000ffff;         /* 0x20 code64 DPL 3 */
	gt_gdt[5] = 0x00affa000000ffff;         /* 0x28 code64 DPL 3 (SYSEXIT) */
	gt_gdt[6] = 0x00cff2000000ffff;         /* 0x30 data DPL 3 (SYSEXIT) */
	gdt_set_tss64(&gt_gdt[7], base, sizeof(gt_tss) - 1);
	put_gate64(GATE_OK, SEL_KCODE, (uint64_t)gt_gate_handler, 3, true, 0);
	put_gate64(GATE_DPL0, SEL_KCODE, (uint64_t)gt_gate_handler, 0, true, 0);
	put_gate64(GATE_NP, SEL_KCODE, (uint64_t)gt_gate_handler, 3, false, 0);
	put_gate64(GATE_DATA, SEL_KDATA, (uint64_t)gt_gate_handler, 3, true, 0);
	put_gate64(GATE_UPTYPE, SEL_KCODE, (uint64_t)gt_gate_handler, 3, true, 0xc);
	memcpy(gt_tss + 4, &rsp0, 8);
	asm volatile("lgdt %0; ltr %w1" : : "m"(ptr), "r"(SEL_TSS) : "memory");
	boot_map_allow_user();
}

/* IRETQ to 64-bit ring 3 at rip with rflags and RDI = rdi. */
struct user_run {
	void *rip;
	uint64_t rflags, rdi;
};

static void run_user(void *arg)
{
	const struct user_run *u = arg;
	uint64_t sp = (uint64_t)gt_ustack + sizeof(gt_ustack);

	asm volatile("push %[ss]; push %[sp]; push %[fl]; push %[cs]; push %[ip]; iretq"
		     : : [ss] "r"((uint64_t)SEL_UDATA), [sp] "r"(sp), [fl] "r"(u->rflags),
		       [cs] "r"((uint64_t)SEL_UCODE), [ip] "r"(u->rip), "D"(u->rdi)
		     : "memory");
}

/* Runs ring-3 code that ends with UD2 at end; true if it got there. */
static bool user_to(void *rip, uint64_t rflags, const char *end)
{
	struct user_run u = { rip, rflags, 0 };
	struct fault f;

	catch_fault(run_user, &u, &f);
	if (f.raised && f.vector == VEC_UD && f.rip == (uint64_t)end)
		return true;
	printf("      ring 3 stopped: vector %u error %#lx at %#lx\n", f.vector, f.error_code, f.rip);
	return false;
}

static void clear_records(void)
{
	gt_u_rsp0 = gt_u_rsp1 = gt_u_flags = FILL;
	gt_u_cs = gt_u_ss = gt_u_ds = gt_u_es = gt_u_fs = gt_u_gs = 0xffff;
	gt_k_rsp = gt_k_rcx = gt_k_r11 = gt_k_flags = FILL;
	gt_k_cs = gt_k_ss = 0xffff;
	for (unsigned k = 0; k < ARRAY_SIZE(gt_k_frame); k++)
		gt_k_frame[k] = FILL;
}

/* 1. SDM 5.8.5 "Stack Switching" / 5.8.5.1 "Stack Switching in 64-bit
 * Mode": an inner-level call through a 64-bit gate takes RSP from
 * TSS.RSP0, loads SS with a null selector (RPL = new CPL) and pushes old
 * SS, old RSP, old CS, return RIP as 8 bytes each. 5.8.6 "Returning from a
 * Called Procedure": RET to an outer level reloads SS:RSP and nulls ES, FS,
 * GS, DS that hold a data segment with DPL < the new CPL. */
static void check_call_gate(void)
{
	uint64_t rsp0 = (uint64_t)(gt_kstack + ARRAY_SIZE(gt_kstack));

	clear_records();
	for (unsigned k = 0; k < ARRAY_SIZE(gt_kstack); k++)
		gt_kstack[k] = FILL;
	gt_far.off = 0x1234;                    /* ignored for a call gate */
	gt_far.sel = GATE_OK | 3;
	report(user_to(gt_u_call, 0x2, gt_u_call_end), "64-bit call gate: CALL from ring 3 and far RET back");
	report_eq(gt_k_cs, SEL_KCODE, "64-bit call gate: handler runs with CS = gate target, CPL 0");
	report_eq(gt_k_ss, 0, "64-bit call gate: SS is a null selector with RPL 0");
	report_eq(gt_k_rsp, rsp0 - 32, "64-bit call gate: RSP = TSS.RSP0 - 32");
	report_eq(gt_k_frame[0], (uint64_t)gt_u_call_ret, "64-bit call gate: pushed return RIP");
	report_eq(gt_k_frame[1], SEL_UCODE, "64-bit call gate: pushed CS, 8 bytes");
	report_eq(gt_k_frame[2], gt_u_rsp0, "64-bit call gate: pushed ring-3 RSP");
	report_eq(gt_k_frame[3], SEL_UDATA, "64-bit call gate: pushed ring-3 SS, 8 bytes");
	report_eq(gt_u_rsp1, gt_u_rsp0, "far RET (REX.W) to ring 3: RSP restored");
	report_eq(gt_u_ss, SEL_UDATA, "far RET to ring 3: SS restored");
	report_eq(gt_u_cs, SEL_UCODE, "far RET to ring 3: CS restored");
	report_eq(gt_u_ds, SEL_UDATA, "far RET to ring 3: DS with a DPL-3 segment kept");
	report_eq(gt_u_gs, SEL_UDATA, "far RET to ring 3: GS with a DPL-3 segment kept");
	report_eq(gt_u_es, 0, "far RET to ring 3: ES with a DPL-0 data segment nulled");
	report_eq(gt_u_fs, 0, "far RET to ring 3: FS with a DPL-0 data segment nulled");
}

/* 2. Vol. 2A CALL, "CALL-GATE" and 64-Bit Mode Exceptions: gate DPL < CPL
 * is #GP(gate selector); a not-present gate #NP(gate selector); a target
 * that is not a code segment #GP(target selector); a 64-bit gate whose
 * upper type field is not 0 #GP(gate selector) (5.8.3.1). */
static void call_gate_fault(uint16_t gate, uint8_t vector, uint16_t error, const char *what)
{
	struct far_ptr {
		uint64_t off;
		uint16_t sel;
	} __attribute__((packed)) fp = { 0, gate };
	struct user_run u = { gt_u_lcall, 0x2, (uint64_t)&fp };
	struct fault f;

	catch_fault(run_user, &u, &f);
	if (!report(f.raised && f.vector == vector && f.error_code == error && f.rip == (uint64_t)gt_u_lcall,
		    "call gate %#x from CPL 3: %s", gate, what))
		printf("      got vector %u error %#lx at %#lx\n", f.vector, f.error_code, f.rip);
}

static void check_call_gate_faults(void)
{
	call_gate_fault(GATE_DPL0 | 3, VEC_GP, GATE_DPL0, "gate DPL 0 < CPL 3 is #GP(gate selector)");
	call_gate_fault(GATE_NP | 3, VEC_NP, GATE_NP, "gate not present is #NP(gate selector)");
	call_gate_fault(GATE_DATA | 3, VEC_GP, SEL_KDATA, "target not a code segment is #GP(target selector)");
	call_gate_fault(GATE_UPTYPE | 3, VEC_GP, GATE_UPTYPE, "upper type field not 0 is #GP(gate selector)");
}

/* 4. SDM 5.8.8 and vol. 2B SYSCALL/SYSRET. SYSCALL: RCX = next RIP, R11 =
 * RFLAGS, RFLAGS &= ~IA32_FMASK, CS = STAR[47:32], SS = STAR[47:32] + 8,
 * RIP = LSTAR, RSP unchanged. SYSRET (REX.W): CS = STAR[63:48] + 16, SS =
 * STAR[63:48] + 8 (RPL 3), RIP = RCX, RFLAGS = (R11 & 3C7FD7H) | 2; #GP(0)
 * at CPL 0 for a non-canonical RCX; SYSCALL with EFER.SCE = 0 is #UD. */
static void check_syscall(void)
{
	uint64_t ufl = 0x2 | RFLAGS_CF | RFLAGS_ZF | RFLAGS_DF | RFLAGS_AC;
	uint64_t mask = RFLAGS_CF | RFLAGS_TF | RFLAGS_IF | RFLAGS_DF | RFLAGS_AC;
	struct fault f;

	wrmsr(MSR_STAR, (uint64_t)0x10 << 48 | (uint64_t)SEL_KCODE << 32);
	wrmsr(MSR_LSTAR, (uint64_t)gt_syscall_entry);
	wrmsr(MSR_SFMASK, mask);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	/* Reserved bits 3 and 5, RF and bit 1 clear in R11: SYSRET clears and sets them. */
	gt_sysret_r11 = RFLAGS_OF | RFLAGS_SF | RFLAGS_RF | 0x28;
	clear_records();
	report(user_to(gt_u_syscall, ufl, gt_u_syscall_end), "SYSCALL from ring 3 and SYSRET back");
	report_eq(gt_k_rcx, (uint64_t)gt_u_syscall_ret, "SYSCALL: RCX = RIP of the next instruction");
	report_eq(gt_k_r11, ufl, "SYSCALL: R11 = RFLAGS");
	report_eq(gt_k_flags, ufl & ~mask, "SYSCALL: RFLAGS masked by IA32_FMASK");
	report_eq(gt_k_cs, SEL_KCODE, "SYSCALL: CS = STAR[47:32]");
	report_eq(gt_k_ss, SEL_KDATA, "SYSCALL: SS = STAR[47:32] + 8");
	report_eq(gt_k_rsp, gt_u_rsp0, "SYSCALL: RSP unchanged");
	report_eq(gt_u_cs, 0x20 | 3, "SYSRET (REX.W): CS = STAR[63:48] + 16, RPL 3");
	report_eq(gt_u_ss, 0x18 | 3, "SYSRET: SS = STAR[63:48] + 8, RPL 3");
	report_eq(gt_u_flags, RFLAGS_OF | RFLAGS_SF | 0x2, "SYSRET: RFLAGS = (R11 & 3C7FD7H) | 2");
	report_eq(gt_u_rsp1, gt_u_rsp0, "SYSRET: RSP unchanged");

	/* A RIP past the SYSRET would mean the #GP came from ring 3 after it. */
	catch_fault(gt_k_sysret_nc, NULL, &f);
	report(f.raised && f.vector == VEC_GP && f.error_code == 0 && f.rip == (uint64_t)gt_k_sysret_nc_at,
	       "SYSRET with non-canonical RCX: #GP(0) at the SYSRET, CPL 0");

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_SCE);
	catch_fault(gt_k_syscall, NULL, &f);
	report(f.raised && f.vector == VEC_UD && f.rip == (uint64_t)gt_k_syscall, "SYSCALL with EFER.SCE = 0: #UD");
}

/* 5. SDM 5.8.7 and vol. 2B SYSENTER/SYSEXIT. SYSENTER: CS = SYSENTER_CS,
 * SS = CS + 8, RSP = SYSENTER_ESP, RIP = SYSENTER_EIP, VM/IF/RF cleared;
 * #GP(0) if SYSENTER_CS[15:2] = 0. SYSEXIT (REX.W): CS = SYSENTER_CS + 32,
 * SS = CS + 8 (RPL 3), RIP = RDX, RSP = RCX. (RF and VM cannot be seen from
 * 64-bit code: PUSHF never shows them.) */
static void check_sysenter(void)
{
	uint64_t esp = (uint64_t)(gt_sestack + ARRAY_SIZE(gt_sestack));
	uint64_t ufl = 0x2 | RFLAGS_IF | RFLAGS_CF;
	struct fault f;

	wrmsr(MSR_SYSENTER_CS, SEL_KCODE);
	wrmsr(MSR_SYSENTER_ESP, esp);
	wrmsr(MSR_SYSENTER_EIP, (uint64_t)gt_sysenter_entry);
	clear_records();
	report(user_to(gt_u_sysenter, ufl, gt_u_sysenter_end), "SYSENTER from ring 3 and SYSEXIT back");
	report_eq(gt_k_rsp, esp, "SYSENTER: RSP = IA32_SYSENTER_ESP");
	report_eq(gt_k_cs, SEL_KCODE, "SYSENTER: CS = IA32_SYSENTER_CS");
	report_eq(gt_k_ss, SEL_KDATA, "SYSENTER: SS = IA32_SYSENTER_CS + 8");
	report_eq(gt_k_flags, ufl & ~RFLAGS_IF, "SYSENTER: IF cleared, other flags kept");
	report_eq(gt_u_cs, SEL_UCODE_SE, "SYSEXIT (REX.W): CS = IA32_SYSENTER_CS + 32, RPL 3");
	report_eq(gt_u_ss, SEL_UDATA_SE, "SYSEXIT: SS = IA32_SYSENTER_CS + 40, RPL 3");
	report_eq(gt_u_rsp1, gt_u_rsp0, "SYSEXIT: RSP = RCX (RIP = RDX: reached the label)");

	wrmsr(MSR_SYSENTER_CS, 0);
	catch_fault(gt_k_sysenter, NULL, &f);
	report(f.raised && f.vector == VEC_GP && f.error_code == 0 && f.rip == (uint64_t)gt_k_sysenter,
	       "SYSENTER with IA32_SYSENTER_CS = 0: #GP(0)");
	wrmsr(MSR_SYSENTER_CS, 3);
	catch_fault(gt_k_sysenter, NULL, &f);
	report(f.raised && f.vector == VEC_GP && f.error_code == 0 && f.rip == (uint64_t)gt_k_sysenter,
	       "SYSENTER with IA32_SYSENTER_CS = 3 (bits 15:2 zero): #GP(0)");
	wrmsr(MSR_SYSENTER_CS, SEL_KCODE);
}

/* A 32-bit call gate (SDM 5.8.3, figure 5-8): DPL 3, present. */
static uint64_t gate32(uint16_t target, char *off, unsigned params)
{
	uint64_t o = (uint64_t)off;
	return (o & 0xffff) | (uint64_t)target << 16 | (uint64_t)params << 32 | 0xecull << 40 | (o >> 16 & 0xffff) << 48;
}

/* SDM 5.8.5 "Stack Switching": SS:ESP from the TSS for the new CPL, then
 * old SS, old ESP, the gate's parameter count of dwords copied from the
 * caller's stack (same order), old CS, EIP. RET imm16 (5.8.6) releases imm
 * bytes on both stacks. */
static void check_call_gate32(void)
{
	uint32_t esp0 = (uint32_t)(uint64_t)(gt32_kstack + ARRAY_SIZE(gt32_kstack));
	uint64_t tss = (uint64_t)gt32_tss;

	gt32_gdt[1] = 0x00af9a000000ffff;       /* 0x08 code64 DPL 0 (the way back) */
	gt32_gdt[2] = 0x00cf92000000ffff;       /* 0x10 data DPL 0 */
	gt32_gdt[3] = 0x00cf9a000000ffff;       /* 0x18 code32 DPL 0 */
	gt32_gdt[4] = 0x00cffa000000ffff;       /* 0x20 code32 DPL 3 */
	gt32_gdt[5] = 0x00cff2000000ffff;       /* 0x28 data DPL 3 */
	gt32_gdt[6] = (sizeof(gt32_tss) - 1) | (tss & 0xffffff) << 16 | 0x89ull << 40 | (tss >> 24 & 0xff) << 56;
	gt32_gdt[7] = gate32(SEL32_KCODE, gt32_handler, 2);
	gt32_gdt[8] = gate32(SEL32_KCODE, gt32_exit, 0);
	gt32_gdt_ptr.limit = sizeof(gt32_gdt) - 1;
	gt32_gdt_ptr.base = (uint64_t)gt32_gdt;
	memset(gt32_tss, 0, sizeof(gt32_tss));
	gt32_tss[1] = esp0;
	gt32_tss[2] = SEL32_KDATA;
	gt32_tss[25] = (uint32_t)sizeof(gt32_tss) << 16;        /* I/O map base: none */
	memset(gt32_kstack, 0xaa, sizeof(gt32_kstack));
	gt32_u_esp0 = gt32_u_esp1 = gt32_k_esp = 0xaaaaaaaa;
	gt32_u_cs = gt32_u_ss = gt32_k_cs = gt32_k_ss = 0xffff;

	gt32_roundtrip();
	report(true, "left IA-32e mode, called through 32-bit gates from ring 3, came back");
	report_eq(gt32_k_cs, SEL32_KCODE, "32-bit call gate: handler CS = gate target, CPL 0");
	report_eq(gt32_k_ss, SEL32_KDATA, "32-bit call gate: SS = TSS.SS0");
	report_eq(gt32_k_esp, esp0 - 24, "32-bit call gate: ESP = TSS.ESP0 - 24 (4 dwords + 2 parameters)");
	report_eq(gt32_k_frame[0], (uint64_t)gt32_user_ret, "32-bit call gate: pushed return EIP");
	report_eq(gt32_k_frame[1], SEL32_UCODE, "32-bit call gate: pushed CS");
	report_eq(gt32_k_frame[2], 0x22222222, "32-bit call gate: parameter at caller ESP+0 copied");
	report_eq(gt32_k_frame[3], 0x11111111, "32-bit call gate: parameter at caller ESP+4 copied");
	report_eq(gt32_k_frame[4], gt32_u_esp0 - 8, "32-bit call gate: pushed caller ESP");
	report_eq(gt32_k_frame[5], SEL32_UDATA, "32-bit call gate: pushed caller SS");
	report_eq(gt32_u_esp1, gt32_u_esp0, "RET 8 to ring 3: ESP restored, parameters released");
	report_eq(gt32_u_ss, SEL32_UDATA, "RET 8 to ring 3: SS restored");
	report_eq(gt32_u_cs, SEL32_UCODE, "RET 8 to ring 3: CS restored");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	setup_ring3();
	check_call_gate();
	check_call_gate_faults();
	check_syscall();
	check_sysenter();
	check_call_gate32();
	report_summary();
}
