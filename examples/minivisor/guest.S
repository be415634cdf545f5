/* The guest: a tiny operating system that boots itself from real-address
 * mode to 64-bit mode, running in VMX non-root operation under the
 * minivisor. It is data to the hypervisor (section .rodata.guest), copied
 * to guest-physical GUEST_CODE and entered there in real mode with CS = 0,
 * IP = GUEST_CODE ("unrestricted guest", SDM 24.6.2, 26.3.1.1).
 *
 * The guest knows nothing of VMX. It prints through a serial port (one
 * REP OUTSB per line: one VM exit per line, the minivisor prints
 * "guest: <line>"), asks CPUID who it runs on, talks to a device at
 * MMIO_BASE, waits for timer interrupts with STI; HLT, and says goodbye
 * with VMCALL, the one instruction that only makes sense under a
 * hypervisor.
 *
 * G(label) is the guest-physical (= linear, everything is identity
 * mapped) address of a label once the blob sits at GUEST_CODE.
 */
#include "minivisor.h"

#define G(x) (GUEST_CODE + ((x) - guest_start))
#define SEL_CODE32 0x08
#define SEL_DATA   0x10
#define SEL_CODE64 0x18

	.section .rodata.guest, "a"
	.globl guest_start, guest_end

/* ---- real-address mode: 16-bit code, CR0.PE = 0 ---------------------- */
	.code16
guest_start:
	xor %ax, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov $GUEST_STACK_TOP, %sp
	cld
	mov $G(msg_real), %si
	mov $(msg_real_end - msg_real), %cx
	mov $VSERIAL_PORT, %dx
	rep outsb                       /* the whole line in one VM exit */

	/* To protected mode (SDM vol. 3A 10.9.1): a GDT, CR0.PE, a far jump. */
	lgdtl G(gdt_ptr)
	mov %cr0, %eax
	or $1, %eax                     /* CR0.PE */
	mov %eax, %cr0
	ljmpl $SEL_CODE32, $G(pm32)

/* ---- protected mode: 32-bit code, no paging yet ----------------------- */
	.code32
pm32:
	mov $SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	mov $GUEST_STACK_TOP, %esp
	mov $G(msg_pm), %esi
	mov $(msg_pm_end - msg_pm), %ecx
	mov $VSERIAL_PORT, %dx
	rep outsb

	/* To IA-32e mode (vol. 3A 10.8.5): 4-level page tables mapping the
	 * first 2 MiB with one 2-MiB page, CR4.PAE, CR3, EFER.LME, CR0.PG. */
	mov $GUEST_PML4, %edi
	mov $(3 * 4096 / 4), %ecx
	xor %eax, %eax
	rep stosl                       /* PML4, PDPT and PD zeroed */
	movl $(GUEST_PML4 + 0x1000 + 3), GUEST_PML4             /* PML4[0] -> PDPT, P RW */
	movl $(GUEST_PML4 + 0x2000 + 3), GUEST_PML4 + 0x1000    /* PDPT[0] -> PD, P RW */
	movl $0x83, GUEST_PML4 + 0x2000                         /* PD[0]: 2 MiB at 0, P RW PS */
	mov $GUEST_PML4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $0x20, %eax                  /* CR4.PAE */
	mov %eax, %cr4
	mov $0xc0000080, %ecx           /* IA32_EFER */
	rdmsr
	or $0x100, %eax                 /* EFER.LME */
	wrmsr
	mov %cr0, %eax
	or $0x80000000, %eax            /* CR0.PG: now EFER.LMA = 1 */
	mov %eax, %cr0
	ljmp $SEL_CODE64, $G(lm64)

/* ---- 64-bit mode -------------------------------------------------------- */
	.code64
lm64:
	mov $GUEST_STACK_TOP, %esp
	lidt G(idt_ptr)
	mov $G(msg_lm), %esi
	mov $(msg_lm_end - msg_lm), %ecx
	call print

	/* Who am I running on? CPUID always exits (SDM 25.1.2). */
	mov $HYPERVISOR_LEAF, %eax
	cpuid
	mov %ebx, G(cpuid_vendor)
	mov %ecx, G(cpuid_vendor) + 4
	mov %edx, G(cpuid_vendor) + 8
	mov $G(cpuid_max), %edi
	call hex32
	mov $1, %eax
	cpuid
	shr $31, %ecx                   /* CPUID.1:ECX[31]: hypervisor present */
	add $'0', %cl
	mov %cl, G(cpuid_bit)
	mov $G(msg_cpuid), %esi
	mov $(msg_cpuid_end - msg_cpuid), %ecx
	call print

	/* The device: each access below is one MOV between a register and
	 * (%rdi), the one instruction form the minivisor decodes. */
	mov $(MMIO_BASE + MMIO_REG_ID), %edi
	mov (%rdi), %eax                /* 8b 07: load */
	mov $G(mmio_id), %edi
	call hex32
	mov $(MMIO_BASE + MMIO_REG_SCRATCH), %edi
	mov $0xcafef00d, %ebx
	mov %ebx, (%rdi)                /* 89 1f: store */
	mov (%rdi), %eax
	mov $G(mmio_scratch), %edi
	call hex32
	mov $(MMIO_BASE + MMIO_REG_COUNTER), %edi
	mov (%rdi), %ebx                /* 8b 1f */
	mov (%rdi), %ebp                /* 8b 2f */
	mov %ebx, %eax
	mov $G(mmio_count1), %edi
	call hex32
	mov %ebp, %eax
	mov $G(mmio_count2), %edi
	call hex32
	mov $G(msg_mmio), %esi
	mov $(msg_mmio_end - msg_mmio), %ecx
	call print

	/* Timer ticks: the interrupt handler counts them; HLT waits. */
	mov $G(msg_wait), %esi
	mov $(msg_wait_end - msg_wait), %ecx
	call print
	sti
1:	hlt
	cmpl $GUEST_TICKS, G(ticks)
	jb 1b
	cli

	mov $G(msg_bye), %esi
	mov $(msg_bye_end - msg_bye), %ecx
	call print
	vmcall                          /* ends the run: the minivisor never resumes */
2:	hlt
	jmp 2b

/* The timer interrupt, vector TIMER_VECTOR, injected by the minivisor.
 * Its interrupt controller is the minivisor itself: no EOI to send. */
tick_isr:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	incl G(ticks)
	mov G(ticks), %eax
	add $'0', %al
	mov %al, G(tick_digit)
	mov $G(msg_tick), %esi
	mov $(msg_tick_end - msg_tick), %ecx
	call print
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	iretq

/* print: RCX bytes at RSI to the serial port, one REP OUTSB. */
print:
	mov $VSERIAL_PORT, %dx
	rep outsb
	ret

/* hex32: EAX as 8 hex digits at RDI (clobbers ECX, EDX, RDI). */
hex32:
	mov $8, %ecx
3:	rol $4, %eax
	mov %eax, %edx
	and $0xf, %edx
	movzbl G(hex_digits)(%rdx), %edx
	mov %dl, (%rdi)
	inc %rdi
	dec %ecx
	jnz 3b
	ret

/* ---- data ---------------------------------------------------------------- */
hex_digits:
	.ascii "0123456789abcdef"
msg_real:
	.ascii "hello from real-address mode (CR0.PE=0)\n"
msg_real_end:
msg_pm:
	.ascii "now in 32-bit protected mode (CR0.PE=1, paging off)\n"
msg_pm_end:
msg_lm:
	.ascii "now in 64-bit mode (EFER.LMA=1, 4-level paging)\n"
msg_lm_end:
msg_cpuid:
	.ascii "CPUID.1:ECX.hypervisor="
cpuid_bit:
	.ascii "?, leaf 0x40000000: max leaf 0x"
cpuid_max:
	.ascii "????????, vendor \""
cpuid_vendor:
	.ascii "????????????\"\n"
msg_cpuid_end:
msg_mmio:
	.ascii "device at 0xd0000: id 0x"
mmio_id:
	.ascii "????????, scratch 0x"
mmio_scratch:
	.ascii "????????, counter 0x"
mmio_count1:
	.ascii "???????? then 0x"
mmio_count2:
	.ascii "????????\n"
msg_mmio_end:
msg_wait:
	.ascii "waiting for 3 timer interrupts (sti; hlt)\n"
msg_wait_end:
msg_tick:
	.ascii "timer interrupt "
tick_digit:
	.ascii "?\n"
msg_tick_end:
msg_bye:
	.ascii "done, VMCALL to say goodbye\n"
msg_bye_end:

	.balign 4
ticks:
	.long 0

	.balign 8
gdt:
	.quad 0
	.quad 0x00cf9b000000ffff        /* 08H: flat 32-bit code */
	.quad 0x00cf93000000ffff        /* 10H: flat data */
	.quad 0x00af9b000000ffff        /* 18H: 64-bit code (L = 1) */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.long G(gdt)

	.balign 16
/* The IDT: vectors 0-31 not present (an exception would triple-fault,
 * which exits to the minivisor: reason 2), vector 32 the timer. */
idt:
	.fill TIMER_VECTOR * 16, 1, 0
	.word G(tick_isr)               /* offset 15:0: the guest's code lies below 64 KiB */
	.word SEL_CODE64
	.byte 0                         /* IST 0 */
	.byte 0x8e                      /* present, DPL 0, 64-bit interrupt gate */
	.word 0                         /* offset 31:16 */
	.long 0                         /* offset 63:32 */
	.long 0
idt_end:
idt_ptr:
	.word idt_end - idt - 1
	.quad G(idt)
guest_end:

	.section .note.GNU-stack, "", @progbits
