/* v86: virtual-8086 mode under a 32-bit protected-mode monitor (SDM vol.
 * 3A chapter 20 "8086 Emulation"). The kernel leaves IA-32e mode as
 * task.c does, loads a 32-bit TSS (SS0:ESP0, interrupt redirection bitmap,
 * I/O bitmap) and an IDT whose every gate leads to one monitor stub, and
 * enters virtual-8086 mode with IRETD (EFLAGS.VM = 1 in the popped image,
 * 20.2.1). The 8086 code then:
 *   - IOPL 0, CR4.VME = 0: CLI STI PUSHF POPF INT n HLT raise #GP(0)
 *     (20.2.7, method 2 of Table 20-2); IN/OUT go through the TSS I/O
 *     bitmap (20.2.8.1, vol. 1 19.5.2): an allowed port works, a denied
 *     one and a word access whose second bit is set raise #GP(0);
 *   - IOPL 3: CLI/STI change IF; INT n reaches a DPL-3 interrupt gate and
 *     a trap gate of the monitor (method 1);
 *   - CR4.VME = 1, IOPL 0: CLI/STI/POPF change VIF, not IF, and PUSHF
 *     shows VIF as IF with IOPL 3 (20.3.2); INT n with its redirection bit
 *     clear goes to the 8086 handler in the IVT at linear 0 (method 6),
 *     with the bit set it is #GP(0) (method 3); STI and POPF(IF = 1) with
 *     VIP = 1 are #GP(0) (20.3.2);
 *   - CR4.VME = 1, IOPL 3: redirected INT n pushes the real IF (method 5);
 *     with the bit set it reaches the monitor (method 4), which returns to
 *     64-bit mode.
 * Every entry into the monitor records the frame the CPU pushed (EIP CS
 * EFLAGS ESP SS ES DS FS GS, Figure 20-3 / 6-5), the data segment
 * registers as the handler found them (20.3.1.1: loaded with null
 * selectors), the handler's EFLAGS and where the frame lies; a script from
 * kmain says how to resume (skip the instruction, change EFLAGS or
 * CR4.VME). kmain checks everything once back in 64-bit mode. */
#include "guest.h"

#define V86_BASE 0x20000u       /* 8086 code and data: CS = DS = 2000H */
#define V86_SEG  0x2000u
#define V86_SS   0x3000u
#define V86_SP   0x0ff0u
#define V86_ES   0x2e00u
#define V86_FS   0x2f00u
#define V86_GS   0x2d00u
#define SEL_TSS  0x20
#define MAX_EV   24      /* also in v86_common */
#define PORT_OK  0x3ff          /* COM1 scratch register: reads back what was written */
#define PORT_NO  0x80
#define PORT_HI  0x380          /* denied; a word IN at 37FH touches it */

#define FL_TF   (1u << 8)
#define FL_IF   (1u << 9)
#define FL_IOPL (3u << 12)
#define FL_NT   (1u << 14)
#define FL_RF   (1u << 16)
#define FL_VM   (1u << 17)
#define FL_VIF  (1u << 19)
#define FL_VIP  (1u << 20)
#define FL_CHECKED (FL_TF | FL_IF | FL_IOPL | FL_NT | FL_RF | FL_VM | FL_VIF | FL_VIP)
#define CR4_VME 1u

/* One entry into the monitor, as v86_common stores it. */
struct v86_event {
	uint32_t gs_now, fs_now, es_now, ds_now;        /* selectors in the handler */
	uint32_t hflags;                                /* EFLAGS in the handler */
	uint32_t vector, error;                         /* from the stub / the CPU */
	uint32_t eip, cs, eflags, esp, ss, es, ds, fs, gs;
	uint32_t frame_at;                              /* address of the EIP slot */
};

/* How the monitor resumes after event k: expected vector (else it gives
 * up), bytes to add to EIP, EFLAGS bits to clear and set, CR4 bits to set
 * and clear, or back to 64-bit mode. Read by the 32-bit code. */
struct v86_step {
	uint32_t vector, eip_add, fl_clear, fl_set, cr4_set, cr4_clear, exit;
};

_Static_assert(sizeof(struct v86_event) == 17 * 4, "v86_common copies 16 dwords and frame_at");
_Static_assert(sizeof(struct v86_step) == 28, "v86_common reads the script at these offsets");

struct v86_tss {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap_base;
	uint8_t redir[32];              /* interrupt redirection bitmap (Figure 20-5) */
	uint8_t iomap[8192];            /* I/O permission bitmap */
	uint8_t iomap_end;              /* 0FFH after the bitmap (vol. 1 19.5.2) */
} __attribute__((packed));

struct v86_tss v86_tss __attribute__((aligned(128)));
uint64_t v86_gdt[5] __attribute__((aligned(16)));
uint64_t v86_idt[256] __attribute__((aligned(16)));
uint8_t v86_stack0[4096] __attribute__((aligned(16)));
struct __attribute__((packed)) { uint16_t limit; uint64_t base; } v86_gdt_ptr;
struct __attribute__((packed)) { uint16_t limit; uint32_t base; } v86_idt_ptr;
uint64_t v86_saved_rsp;
uint8_t v86_saved_gdt[10], v86_saved_idt[10];
struct v86_event v86_rec[MAX_EV];
uint32_t v86_nev;
struct v86_step v86_script[MAX_EV];
void v86_roundtrip(void);
extern char v86_stubs[];
extern char v86_blob[], v86_blob_end[], v86_h21[], v86_h22[];
extern char v86_e0[], v86_e1[], v86_e2[], v86_e3[], v86_e4[], v86_e5[], v86_e6[], v86_e7[];
extern char v86_e8[], v86_e9[], v86_e10[], v86_e11[], v86_e12[], v86_e13[], v86_e14[];
extern char v86_e15[], v86_e16[], v86_e17[], v86_ret21a[], v86_ret21b[];
extern char v86_r_io[], v86_r_cli3[], v86_r_sti3[], v86_r_clivme[], v86_r_stivme[], v86_r_bx21[];
extern char v86_r_n21[], v86_r_pushed21[], v86_r_inside21[], v86_r_ip21[], v86_r_cs21[], v86_r_wrong22[];

asm(".text\n"
    ".globl v86_roundtrip\n"
    "v86_roundtrip:\n"
    "	push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
    "	mov %rsp, v86_saved_rsp(%rip)\n"
    "	sgdt v86_saved_gdt(%rip)\n"
    "	sidt v86_saved_idt(%rip)\n"
    "	lgdt v86_gdt_ptr(%rip)\n"
    "	pushq $0x18\n"
    "	lea v86_compat(%rip), %rax\n"
    "	push %rax\n"
    "	lretq\n"
    ".code32\n"
    "v86_compat:\n"
    "	mov $0x10, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss; mov %ax, %fs; mov %ax, %gs\n"
    "	mov %cr0, %eax; and $0x7fffffff, %eax; mov %eax, %cr0\n"
    "	mov $0xc0000080, %ecx; rdmsr; and $~0x100, %eax; wrmsr\n"
    /* 32-bit protected mode, paging off: the monitor */
    "	lidt v86_idt_ptr\n"
    "	mov $0x20, %ax; ltr %ax\n"
    "	mov $(v86_stack0 + 4096), %esp\n"
    /* IRETD to virtual-8086 mode pops EIP CS EFLAGS ESP SS ES DS FS GS */
    "	pushl $0x2d00; pushl $0x2f00; pushl $0x2000; pushl $0x2e00\n"
    "	pushl $0x3000; pushl $0x0ff0\n"
    "	pushl $0x20202\n"                       /* VM, IF, IOPL 0 */
    "	pushl $0x2000; pushl $0\n"
    "	iretl\n"
    /* one 16-byte stub per vector: a zero error code where the CPU pushes
     * none (Table 6-1), the vector, the common part */
    "	.balign 16\n"
    ".globl v86_stubs\n"
    "v86_stubs:\n"
    "	.set v86_vec, 0\n"
    "	.rept 256\n"
    "	.balign 16\n"
    "	.if !(v86_vec == 8 || (v86_vec >= 10 && v86_vec <= 14) || v86_vec == 17)\n"
    "	pushl $0\n"
    "	.endif\n"
    "	pushl $v86_vec\n"
    "	jmp v86_common\n"
    "	.set v86_vec, v86_vec + 1\n"
    "	.endr\n"
    /* Stack from ESP: PUSHAD (32 bytes), GS FS ES DS as found, EFLAGS in
     * the handler, vector, error code, then the CPU's frame. */
    "v86_common:\n"
    "	pushfl\n"
    "	push %ds; push %es; push %fs; push %gs\n"
    "	pushal\n"
    "	mov $0x10, %ax; mov %ax, %ds; mov %ax, %es\n"
    "	cld\n"
    "	mov v86_nev, %ebx\n"
    "	cmp $24, %ebx; jae v86_exit\n"
    "	imul $68, %ebx, %edi; add $v86_rec, %edi\n"
    "	lea 32(%esp), %esi; mov $16, %ecx; rep movsl\n"
    "	lea 60(%esp), %eax; stosl\n"
    "	incl v86_nev\n"
    "	imul $28, %ebx, %esi; add $v86_script, %esi\n"
    "	mov 0(%esi), %eax; cmp 52(%esp), %eax; jne v86_exit\n"
    "	cmpl $0, 24(%esi); jne v86_exit\n"
    "	mov 4(%esi), %eax; add %eax, 60(%esp)\n"
    "	mov 8(%esi), %ecx; not %ecx; and %ecx, 68(%esp)\n"
    "	mov 12(%esi), %eax; or %eax, 68(%esp)\n"
    "	mov %cr4, %eax; mov 20(%esi), %ecx; not %ecx; and %ecx, %eax; or 16(%esi), %eax; mov %eax, %cr4\n"
    "	popal\n"
    "	pop %gs; pop %fs; pop %es; pop %ds\n"
    "	add $12, %esp\n"
    "	iretl\n"
    /* back up to IA-32e mode */
    "v86_exit:\n"
    "	mov %cr4, %eax; and $~1, %eax; mov %eax, %cr4\n"
    "	mov $0x10, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss; mov %ax, %fs; mov %ax, %gs\n"
    "	mov $0xc0000080, %ecx; rdmsr; or $0x100, %eax; wrmsr\n"
    "	mov %cr0, %eax; or $0x80000000, %eax; mov %eax, %cr0\n"
    "	ljmp $0x08, $v86_back64\n"
    ".code64\n"
    "v86_back64:\n"
    "	lgdt v86_saved_gdt(%rip)\n"
    "	lidt v86_saved_idt(%rip)\n"
    "	mov v86_saved_rsp(%rip), %rsp\n"
    "	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
    "	ret\n"
    /* The 8086 program, copied to V86_BASE: CS = DS = 2000H, offsets from
     * v86_blob. Labels v86_eN mark the EIP event N pushes. */
    ".section .rodata\n"
    ".globl v86_blob, v86_blob_end, v86_h21, v86_h22\n"
    ".globl v86_e0, v86_e1, v86_e2, v86_e3, v86_e4, v86_e5, v86_e6, v86_e7, v86_e8, v86_e9\n"
    ".globl v86_e10, v86_e11, v86_e12, v86_e13, v86_e14, v86_e15, v86_e16, v86_e17\n"
    ".globl v86_ret21a, v86_ret21b\n"
    ".globl v86_r_io, v86_r_cli3, v86_r_sti3, v86_r_clivme, v86_r_stivme, v86_r_bx21\n"
    ".globl v86_r_n21, v86_r_pushed21, v86_r_inside21, v86_r_ip21, v86_r_cs21, v86_r_wrong22\n"
    ".code16\n"
    "v86_blob:\n"
    /* IOPL 0, no VME: the IOPL-sensitive instructions fault */
    "v86_e0: cli\n"
    "v86_e1: sti\n"
    "v86_e2: pushf\n"
    "v86_e3: popf\n"
    "v86_e4: int $0x30\n"
    /* I/O: the bitmap decides, whatever IOPL */
    "	mov $0x3ff, %dx; mov $0x5a, %al; out %al, %dx\n"
    "	xor %al, %al; in %dx, %al; mov %al, (v86_r_io - v86_blob)\n"
    "v86_e5: out %al, $0x80\n"
    "	mov $0x37f, %dx\n"
    "v86_e6: in %dx, %ax\n"
    "v86_e7: hlt\n"                             /* -> IOPL 3 */
    "	cli; pushf; pop %ax; mov %ax, (v86_r_cli3 - v86_blob)\n"
    "	sti; pushf; pop %ax; mov %ax, (v86_r_sti3 - v86_blob)\n"
    "	int $0x30\n"
    "v86_e8:\n"
    "	int $0x31\n"
    "v86_e9:\n"                                 /* -> VME, IOPL 0, VIF 1 */
    "	cli\n"
    "v86_e10: hlt\n"
    "	pushf; pop %ax; mov %ax, (v86_r_clivme - v86_blob)\n"
    "	sti\n"
    "	pushf; pop %ax; mov %ax, (v86_r_stivme - v86_blob)\n"
    "v86_e11: hlt\n"
    "	pushw $0x0002; popf\n"                  /* IF = 0 popped: VIF = 0 */
    "v86_e12: hlt\n"
    "	sti; xor %bx, %bx\n"
    "	int $0x21\n"                            /* method 6 */
    "v86_ret21a:\n"
    "	mov %bx, (v86_r_bx21 - v86_blob)\n"
    "v86_e13: hlt\n"
    "v86_e14: int $0x22\n"                      /* method 3: #GP(0); -> VIP 1, VIF 0 */
    "v86_e15: sti\n"
    "	pushw $0x0202\n"
    "v86_e16: popf\n"                           /* -> VIP 0, IOPL 3 */
    "	add $2, %sp\n"
    "	int $0x21\n"                            /* method 5 */
    "v86_ret21b:\n"
    "	int $0x22\n"                            /* method 4: to the monitor, which leaves */
    "v86_e17:\n"
    "	hlt\n"
    "v86_h21:\n"                                /* 8086 handler of INT 21H */
    "	push %bp; mov %sp, %bp; push %si\n"
    "	mov (v86_r_n21 - v86_blob), %si; shl %si\n"
    "	mov 6(%bp), %ax; mov %ax, (v86_r_pushed21 - v86_blob)(%si)\n"
    "	mov 2(%bp), %ax; mov %ax, (v86_r_ip21 - v86_blob)(%si)\n"
    "	mov 4(%bp), %ax; mov %ax, (v86_r_cs21 - v86_blob)(%si)\n"
    "	pushf; pop %ax; mov %ax, (v86_r_inside21 - v86_blob)(%si)\n"
    "	incw (v86_r_n21 - v86_blob)\n"
    "	pop %si; pop %bp\n"
    "	mov $0x4321, %bx\n"
    "	iret\n"
    "v86_h22:\n"                                /* INT 22H must never come here */
    "	incw (v86_r_wrong22 - v86_blob)\n"
    "	iret\n"
    "	.balign 2\n"
    "v86_r_io: .word 0\n"
    "v86_r_cli3: .word 0xffff\n"
    "v86_r_sti3: .word 0\n"
    "v86_r_clivme: .word 0xffff\n"
    "v86_r_stivme: .word 0\n"
    "v86_r_bx21: .word 0\n"
    "v86_r_n21: .word 0\n"
    "v86_r_pushed21: .word 0, 0\n"
    "v86_r_inside21: .word 0xffff, 0xffff\n"
    "v86_r_ip21: .word 0, 0\n"
    "v86_r_cs21: .word 0, 0\n"
    "v86_r_wrong22: .word 0\n"
    "v86_blob_end:\n"
    ".code64\n"
    ".text\n");

static uint64_t seg_desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
	return (limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
	       (uint64_t)(limit >> 16 & 0xf) << 48 | (uint64_t)flags << 52 | (uint64_t)(base >> 24) << 56;
}

/* 32-bit interrupt (0EH) or trap (0FH) gate to CS 18H (Figure 6-2). */
static uint64_t gate32(uint32_t off, unsigned type, unsigned dpl)
{
	return (off & 0xffff) | 0x18ull << 16 | (uint64_t)(0x80 | dpl << 5 | type) << 40 |
	       (uint64_t)(off >> 16) << 48;
}

static void setup_tables(void)
{
	v86_gdt[1] = 0x00af9a000000ffffull;
	v86_gdt[2] = 0x00cf92000000ffffull;
	v86_gdt[3] = 0x00cf9a000000ffffull;
	v86_gdt[4] = seg_desc((uint32_t)(uintptr_t)&v86_tss, sizeof(v86_tss) - 1, 0x89, 0);
	v86_gdt_ptr.limit = sizeof(v86_gdt) - 1;
	v86_gdt_ptr.base = (uint64_t)v86_gdt;
	for (unsigned v = 0; v < 256; v++) {
		uint32_t off = (uint32_t)(uintptr_t)(v86_stubs + 16 * v);
		bool soft = v == 0x22 || v == 0x30 || v == 0x31;
		v86_idt[v] = gate32(off, v == 0x31 ? 0xf : 0xe, soft ? 3 : 0);
	}
	v86_idt_ptr.limit = sizeof(v86_idt) - 1;
	v86_idt_ptr.base = (uint32_t)(uintptr_t)v86_idt;

	memset(&v86_tss, 0, sizeof(v86_tss));
	v86_tss.esp0 = (uint32_t)(uintptr_t)(v86_stack0 + sizeof(v86_stack0));
	v86_tss.ss0 = 0x10;
	v86_tss.iomap_base = offsetof(struct v86_tss, iomap);
	memset(v86_tss.redir, 0xff, sizeof(v86_tss.redir));
	v86_tss.redir[0x21 / 8] &= (uint8_t)~(1u << (0x21 % 8));       /* only INT 21H is redirected */
	v86_tss.iomap[PORT_NO / 8] |= 1u << (PORT_NO % 8);
	v86_tss.iomap[PORT_HI / 8] |= 1u << (PORT_HI % 8);
	v86_tss.iomap_end = 0xff;
}

static uint16_t off(const char *sym)
{
	return (uint16_t)(sym - v86_blob);
}

/* What each entry into the monitor must look like. */
struct v86_expect {
	const char *what;
	uint32_t vector;
	const char *eip;
	uint32_t eflags;                /* pushed, bits FL_CHECKED */
	uint32_t sp;
	uint32_t eip_add, fl_clear, fl_set, cr4_set, cr4_clear, exit;   /* then resume so */
};

#define GP 13
#define BASE (FL_VM | FL_IF)
static const struct v86_expect expected[] = {
	{ "CLI at IOPL 0 (20.2.7)", GP, v86_e0, BASE | FL_RF, V86_SP, 1, 0, 0, 0, 0, 0 },
	{ "STI at IOPL 0", GP, v86_e1, BASE | FL_RF, V86_SP, 1, 0, 0, 0, 0, 0 },
	{ "PUSHF at IOPL 0", GP, v86_e2, BASE | FL_RF, V86_SP, 1, 0, 0, 0, 0, 0 },
	{ "POPF at IOPL 0", GP, v86_e3, BASE | FL_RF, V86_SP, 1, 0, 0, 0, 0, 0 },
	{ "INT 30H at IOPL 0 without VME (method 2)", GP, v86_e4, BASE | FL_RF, V86_SP, 2, 0, 0, 0, 0, 0 },
	{ "OUT to a port whose bitmap bit is set", GP, v86_e5, BASE | FL_RF, V86_SP, 2, 0, 0, 0, 0, 0 },
	{ "word IN whose second port's bit is set", GP, v86_e6, BASE | FL_RF, V86_SP, 1, 0, 0, 0, 0, 0 },
	{ "HLT (CPL 3)", GP, v86_e7, BASE | FL_RF, V86_SP, 1, 0, FL_IOPL, 0, 0, 0 },
	{ "INT 30H at IOPL 3: interrupt gate (method 1)", 0x30, v86_e8, BASE | FL_IOPL, V86_SP, 0, 0, 0, 0, 0, 0 },
	{ "INT 31H at IOPL 3: trap gate (method 1)", 0x31, v86_e9, BASE | FL_IOPL, V86_SP,
	  0, FL_IOPL, FL_VIF, CR4_VME, 0, 0 },
	{ "VME: HLT after CLI (VIF = 0, IF = 1)", GP, v86_e10, BASE | FL_RF, V86_SP, 1, 0, 0, 0, 0, 0 },
	{ "VME: HLT after STI (VIF = 1)", GP, v86_e11, BASE | FL_VIF | FL_RF, V86_SP, 1, 0, 0, 0, 0, 0 },
	{ "VME: HLT after POPF of IF = 0 (VIF = 0)", GP, v86_e12, BASE | FL_RF, V86_SP, 1, 0, 0, 0, 0, 0 },
	{ "VME: HLT after INT 21H/IRET (VIF back to 1)", GP, v86_e13, BASE | FL_VIF | FL_RF, V86_SP,
	  1, 0, 0, 0, 0, 0 },
	{ "VME: INT 22H with its redirection bit set (method 3)", GP, v86_e14, BASE | FL_VIF | FL_RF, V86_SP,
	  2, FL_VIF, FL_VIP, 0, 0, 0 },
	{ "VME: STI with VIP = 1 (20.3.2)", GP, v86_e15, BASE | FL_VIP | FL_RF, V86_SP, 1, 0, 0, 0, 0, 0 },
	{ "VME: POPF of IF = 1 with VIP = 1", GP, v86_e16, BASE | FL_VIP | FL_RF, V86_SP - 2,
	  1, FL_VIP, FL_IOPL, 0, 0, 0 },
	{ "VME: INT 22H at IOPL 3, bit set (method 4)", 0x22, v86_e17, BASE | FL_IOPL, V86_SP, 0, 0, 0, 0, 0, 1 },
};

static void check_event(unsigned k, const struct v86_expect *x, const struct v86_event *e)
{
	uint32_t frame_at = (uint32_t)(uintptr_t)(v86_stack0 + sizeof(v86_stack0)) - 36;
	bool gate_if = x->vector == 0x31;       /* trap gate keeps IF */

	report(e->vector == x->vector && e->error == 0, "event %u, %s: vector %#x, error code 0", k, x->what,
	       x->vector);
	if (!report(e->eip == off(x->eip) && e->cs == V86_SEG,
		    "event %u: pushed CS:EIP = 2000H:%04xH", k, off(x->eip)))
		printf("      got %#x:%#x vector %#x error %#x\n", e->cs, e->eip, e->vector, e->error);
	report_eq(e->eflags & FL_CHECKED, x->eflags, "event %u: pushed EFLAGS (VM RF VIF VIP IOPL IF TF NT)", k);
	report(e->ss == V86_SS && e->esp == x->sp, "event %u: pushed SS:ESP = 3000H:%04xH (got %#x:%#x)", k,
	       x->sp, e->ss, e->esp);
	report((e->es & 0xffff) == V86_ES && (e->ds & 0xffff) == V86_SEG && (e->fs & 0xffff) == V86_FS &&
	       (e->gs & 0xffff) == V86_GS, "event %u: pushed ES DS FS GS = %x %x %x %x", k, e->es, e->ds, e->fs,
	       e->gs);
	report(((e->ds_now | e->es_now | e->fs_now | e->gs_now) & 0xffff) == 0,
	       "event %u: DS ES FS GS hold null selectors in the handler (20.3.1.1)", k);
	report_eq(e->hflags & (FL_VM | FL_IF | FL_TF | FL_NT | FL_RF), gate_if ? FL_IF : 0,
		  "event %u: handler runs with VM = 0, TF = NT = RF = 0, IF %s", k, gate_if ? "kept" : "cleared");
	report_eq(e->frame_at, frame_at, "event %u: frame on the ring-0 stack from the TSS (ESP0 - 36)", k);
}

static uint16_t res16(const char *sym, unsigned idx)
{
	return *(volatile uint16_t *)(uintptr_t)(V86_BASE + off(sym) + 2 * idx);
}

static void check_8086_side(void)
{
	report_eq(res16(v86_r_io, 0) & 0xff, 0x5a, "OUT/IN to an allowed port at IOPL 0 (bitmap bit clear)");
	report_eq(res16(v86_r_cli3, 0) & (FL_IF | FL_IOPL), FL_IOPL, "IOPL 3: CLI clears IF (PUSHF)");
	report_eq(res16(v86_r_sti3, 0) & (FL_IF | FL_IOPL), FL_IF | FL_IOPL, "IOPL 3: STI sets IF (PUSHF)");
	/* 20.3.2: PUSHF under VME at IOPL < 3 pushes VIF in the IF position and IOPL 3. */
	report_eq(res16(v86_r_clivme, 0) & (FL_IF | FL_IOPL), FL_IOPL, "VME: PUSHF after CLI shows IF = VIF = 0, IOPL 3");
	report_eq(res16(v86_r_stivme, 0) & (FL_IF | FL_IOPL), FL_IF | FL_IOPL,
		  "VME: PUSHF after STI shows IF = VIF = 1, IOPL 3");
	report_eq(res16(v86_r_n21, 0), 2, "INT 21H reached the 8086 handler twice (methods 6 and 5)");
	report_eq(res16(v86_r_bx21, 0), 0x4321, "the 8086 handler's IRET returns after INT 21H");
	report_eq(res16(v86_r_wrong22, 0), 0, "INT 22H (bit set) never went to the IVT");
	for (unsigned k = 0; k < 2; k++) {
		const char *m = k ? "method 5 (IOPL 3)" : "method 6 (IOPL 0)";
		report(res16(v86_r_ip21, k) == off(k ? v86_ret21b : v86_ret21a) && res16(v86_r_cs21, k) == V86_SEG,
		       "%s: CS:IP after INT 21H on the 8086 stack", m);
		/* Method 6 pushes IF = VIF and IOPL 3; method 5 the real FLAGS (20.3.3.4-5). */
		report_eq(res16(v86_r_pushed21, k) & (FL_IF | FL_IOPL | FL_TF), FL_IF | FL_IOPL,
			  "%s: pushed FLAGS: IF = 1, IOPL 3", m);
		report_eq(res16(v86_r_inside21, k) & (FL_IF | FL_TF), 0,
			  "%s: the handler runs with %s = 0", m, k ? "IF" : "VIF");
	}
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	unsigned n = ARRAY_SIZE(expected);
	uintptr_t ivt_at = 0;

	asm("" : "+r"(ivt_at));         /* the IVT is at linear 0: keep gcc from calling it NULL */
	volatile uint32_t *ivt = (volatile uint32_t *)ivt_at;
	memcpy((void *)(uintptr_t)V86_BASE, v86_blob, (size_t)(v86_blob_end - v86_blob));
	ivt[0x21] = (uint32_t)V86_SEG << 16 | off(v86_h21);
	ivt[0x22] = (uint32_t)V86_SEG << 16 | off(v86_h22);
	setup_tables();
	for (unsigned k = 0; k < n; k++) {
		const struct v86_expect *x = &expected[k];
		v86_script[k] = (struct v86_step){ x->vector, x->eip_add, x->fl_clear, x->fl_set,
						   x->cr4_set, x->cr4_clear, x->exit };
	}

	v86_roundtrip();
	report(true, "entered virtual-8086 mode and came back to 64-bit mode");
	report_eq(v86_nev, n, "the monitor was entered %u times", n);
	for (unsigned k = 0; k < n && k < v86_nev; k++)
		check_event(k, &expected[k], &v86_rec[k]);
	check_8086_side();
	report_eq(read_cr4() & CR4_VME, 0, "CR4.VME off again");
	report_summary();
}
