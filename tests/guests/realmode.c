/* realmode: the way down from 64-bit mode to real mode and back up, by the
 * book (SDM vol. 3A 10.9.2 "Switching Back to Real-Address Mode", 10.9.1,
 * 10.8.5): 64-bit -> compatibility mode (far return to a 32-bit CS) ->
 * paging and EFER.LME off -> 16-bit protected mode (CS base 0x20000) ->
 * CR0.PE off -> far jump to real mode. There the blob uses the IVT (INT n,
 * #DE and the 0FFFFH-wrap #GP, IRET), a far CALL/RETF, and "unreal" mode
 * (a 4 GiB FS limit loaded in protected mode survives a real-mode load).
 * Then back: CR0.PE -> 32-bit code -> EFER.LME, CR0.PG -> 64-bit code.
 * The real-mode code records what it saw; kmain checks it. */
#include "guest.h"

#define BLOB 0x20000u           /* real-mode CS = 0x2000, PM16 CS base */

/* Written by the real-mode code, at BLOB + offset of rm_res. */
struct rm_results {
	uint16_t int80_bx;      /* BX set by the INT 80h handler */
	uint16_t int80_flags;   /* FLAGS inside the handler (IF must be 0) */
	uint16_t after_flags;   /* FLAGS after IRET (IF restored to 1) */
	uint16_t de_vec, de_ip; /* #DE: vector seen, IP pushed */
	uint16_t gp_vec, gp_ip; /* #GP from a word at DS:0FFFFH */
	uint16_t far_dx;        /* set by a far-called routine */
	uint16_t far_sp;        /* SP after RETF (back to the start value) */
	uint32_t unreal;        /* dword at 1 MiB read through FS with a 4 GiB limit */
	uint16_t cs_seen;       /* CS in real mode */
} __attribute__((packed));

extern char rm_blob[], rm_blob_end[], rm_res[], rm_de_at[], rm_gp_at[];
uint64_t rm_saved_rsp;
uint8_t rm_saved_gdt[10], rm_saved_idt[10];
void rm_roundtrip(void);

/* 0x08 code64, 0x10 flat data, 0x18 flat code32, 0x20 code16 base BLOB,
 * 0x28 data16 base 0. */
__attribute__((aligned(16))) uint64_t rm_gdt[] = {
	0, 0x00af9a000000ffffull, 0x00cf92000000ffffull, 0x00cf9a000000ffffull,
	0x00009a020000ffffull, 0x000092000000ffffull,
};
struct __attribute__((packed)) { uint16_t limit; uint64_t base; } rm_gdt_ptr = { sizeof(rm_gdt) - 1,
										(uint64_t)rm_gdt };

asm(".text\n"
    ".globl rm_roundtrip\n"
    "rm_roundtrip:\n"
    "	push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
    "	mov %rsp, rm_saved_rsp(%rip)\n"
    "	sgdt rm_saved_gdt(%rip)\n"
    "	sidt rm_saved_idt(%rip)\n"
    "	lgdt rm_gdt_ptr(%rip)\n"
    "	pushq $0x18\n"
    "	lea rm_compat(%rip), %rax\n"
    "	push %rax\n"
    "	lretq\n"
    ".code32\n"
    "rm_compat:\n"                              /* compatibility mode */
    "	mov $0x10, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss\n"
    "	mov %cr0, %eax; and $0x7fffffff, %eax; mov %eax, %cr0\n"  /* paging off: LMA = 0 */
    "	mov $0xc0000080, %ecx; rdmsr; and $~0x100, %eax; wrmsr\n"  /* LME off */
    "	ljmp $0x20, $(rm_pm16 - rm_blob)\n"
    "rm_back32:\n"                              /* 32-bit protected mode again */
    "	mov $0x10, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss; mov %ax, %fs; mov %ax, %gs\n"
    "	mov rm_saved_rsp, %esp\n"
    "	mov $0xc0000080, %ecx; rdmsr; or $0x100, %eax; wrmsr\n"
    "	mov %cr0, %eax; or $0x80000000, %eax; mov %eax, %cr0\n"     /* LMA = 1 */
    "	ljmp $0x08, $rm_back64\n"
    ".code64\n"
    "rm_back64:\n"
    "	lgdt rm_saved_gdt(%rip)\n"
    "	lidt rm_saved_idt(%rip)\n"
    "	mov rm_saved_rsp(%rip), %rsp\n"
    "	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
    "	ret\n"
    /* The blob: copied to BLOB, runs with CS base BLOB (offsets from rm_blob). */
    ".section .rodata\n"
    ".globl rm_blob, rm_blob_end, rm_res, rm_de_at, rm_gp_at\n"
    ".code16\n"
    "rm_blob:\n"
    "rm_pm16:\n"                                /* 16-bit protected mode */
    "	mov $0x28, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss; mov %ax, %fs; mov %ax, %gs\n"
    "	mov %cr0, %eax; and $~1, %eax; mov %eax, %cr0\n"
    "	ljmp $0x2000, $(rm_real - rm_blob)\n"
    "rm_real:\n"
    "	mov %cs, %ax; mov %ax, %ds; mov %ax, (rm_res - rm_blob + 22)\n"
    "	mov $0x1000, %ax; mov %ax, %ss; mov $0xf000, %sp\n"
    "	lidt (rm_ivt_ptr - rm_blob)\n"
    "	xor %ax, %ax; mov %ax, %es\n"
    "	movw $(rm_h80 - rm_blob), %es:(0x80 * 4); movw $0x2000, %es:(0x80 * 4 + 2)\n"
    "	movw $(rm_hde - rm_blob), %es:0; movw $0x2000, %es:2\n"
    "	movw $(rm_hgp - rm_blob), %es:(13 * 4); movw $0x2000, %es:(13 * 4 + 2)\n"
    /* INT 80h with IF = 1 (no interrupt source is unmasked) */
    "	sti\n"
    "	xor %bx, %bx\n"
    "	int $0x80\n"
    "	mov %bx, (rm_res - rm_blob + 0)\n"
    "	pushf; pop %ax; mov %ax, (rm_res - rm_blob + 4)\n"
    "	cli\n"
    /* #DE: DIV by zero */
    "	movw $(rm_de_resume - rm_blob), (rm_resume - rm_blob)\n"
    "	xor %cl, %cl; mov $1, %ax\n"
    "rm_de_at:\n"
    "	div %cl\n"
    "rm_de_resume:\n"
    "	mov (rm_vec - rm_blob), %ax; mov %ax, (rm_res - rm_blob + 6)\n"
    "	mov (rm_ip - rm_blob), %ax; mov %ax, (rm_res - rm_blob + 8)\n"
    /* #GP: a word at DS:0FFFFH */
    "	movw $(rm_gp_resume - rm_blob), (rm_resume - rm_blob)\n"
    "rm_gp_at:\n"
    "	mov 0xffff, %ax\n"
    "rm_gp_resume:\n"
    "	mov (rm_vec - rm_blob), %ax; mov %ax, (rm_res - rm_blob + 10)\n"
    "	mov (rm_ip - rm_blob), %ax; mov %ax, (rm_res - rm_blob + 12)\n"
    /* far CALL / RETF */
    "	lcall $0x2000, $(rm_farfn - rm_blob)\n"
    "	mov %dx, (rm_res - rm_blob + 14)\n"
    "	mov %sp, (rm_res - rm_blob + 16)\n"
    /* unreal FS: load a 4 GiB segment in protected mode, come back */
    "	mov %cr0, %eax; or $1, %eax; mov %eax, %cr0\n"
    "	ljmp $0x20, $(rm_pm16b - rm_blob)\n"
    "rm_pm16b:\n"
    "	mov $0x10, %ax; mov %ax, %fs\n"
    "	mov %cr0, %eax; and $~1, %eax; mov %eax, %cr0\n"
    "	ljmp $0x2000, $(rm_real2 - rm_blob)\n"
    "rm_real2:\n"
    "	xor %ax, %ax; mov %ax, %fs\n"
    "	mov $0x100000, %esi\n"
    "	mov %fs:(%esi), %eax\n"
    "	mov %eax, (rm_res - rm_blob + 18)\n"
    /* back to protected mode and up */
    "	mov %cr0, %eax; or $1, %eax; mov %eax, %cr0\n"
    "	ljmpl $0x18, $rm_back32\n"
    "rm_h80:\n"
    "	pushf; pop %ax; mov %ax, (rm_res - rm_blob + 2)\n"
    "	mov $0x1234, %bx\n"
    "	iret\n"
    "rm_hde:\n"
    "	push %bp; mov %sp, %bp; push %ax\n"
    "	movw $0, (rm_vec - rm_blob)\n"
    "	jmp rm_fault_common\n"
    "rm_hgp:\n"
    "	push %bp; mov %sp, %bp; push %ax\n"
    "	movw $13, (rm_vec - rm_blob)\n"
    "rm_fault_common:\n"                        /* record IP, resume at rm_resume */
    "	mov 2(%bp), %ax; mov %ax, (rm_ip - rm_blob)\n"
    "	mov (rm_resume - rm_blob), %ax; mov %ax, 2(%bp)\n"
    "	pop %ax; pop %bp\n"
    "	iret\n"
    "rm_farfn:\n"
    "	mov $0x77, %dx\n"
    "	lret\n"
    "	.balign 4\n"
    "rm_ivt_ptr: .word 0x3ff; .long 0\n"
    "rm_resume: .word 0\n"
    "rm_vec: .word 0xffff\n"
    "rm_ip: .word 0\n"
    "rm_res: .fill 24, 1, 0\n"
    "rm_blob_end:\n"
    ".code64\n"
    ".text\n");

static uint16_t off(const char *sym)
{
	return (uint16_t)(sym - rm_blob);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	memcpy((void *)(uintptr_t)BLOB, rm_blob, (size_t)(rm_blob_end - rm_blob));
	rm_roundtrip();
	report(true, "64-bit -> compatibility -> protected -> real mode -> 64-bit round trip");
	const volatile struct rm_results *r = (const void *)(uintptr_t)(BLOB + off(rm_res));
	report_eq(r->cs_seen, BLOB >> 4, "real mode: CS = 2000h after the far jump");
	report_eq(r->int80_bx, 0x1234, "real mode: INT 80h runs the IVT handler");
	report_eq(r->int80_flags & 0x200, 0, "real mode: INT clears IF in the handler");
	report_eq(r->after_flags & 0x200, 0x200, "real mode: IRET restores IF");
	report_eq(r->de_vec, 0, "real mode: DIV by zero raises #DE through the IVT");
	report_eq(r->de_ip, off(rm_de_at), "real mode: #DE pushes the IP of the DIV");
	report_eq(r->gp_vec, 13, "real mode: a word at DS:0FFFFH raises #GP (20.1.1)");
	report_eq(r->gp_ip, off(rm_gp_at), "real mode: #GP pushes the IP of the MOV");
	report_eq(r->far_dx, 0x77, "real mode: far CALL and RETF");
	report_eq(r->far_sp, 0xf000, "real mode: RETF pops CS:IP");
	report_eq(r->unreal, 0x1badb002, "unreal mode: FS keeps its 4 GiB limit across a real-mode load");
	report_eq(rdmsr(MSR_EFER) & EFER_LMA, EFER_LMA, "back in IA-32e mode (EFER.LMA)");
	report_summary();
}
