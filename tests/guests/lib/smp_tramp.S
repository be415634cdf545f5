/* AP start-up trampoline (SDM vol. 3A 8.4.4.2 "Typical AP Initialization
 * Sequence", 10.8.5 "Initializing IA-32e Mode").
 *
 * [smp_tramp_start, smp_tramp_end) is copied by lib/smp.c to a 4 KiB page
 * below 1 MiB; a SIPI with vector VV starts the AP there in real mode with
 * CS = VV00H, IP = 0 (8.4.4.1). The copy is position-independent: DS = CS
 * addresses its data area, and the far jump goes to smp_ap_pm32 in the
 * kernel image (above 1 MiB, reachable once protected mode is on).
 *
 * Layout of the page (struct tramp_data in lib/smp.c mirrors the data):
 *   0x00  jmp near to the code at TR_CODE (rel16: a short jump reaches
 *         only 127 bytes on)
 *   0x10  ticket: the next cpu index; each AP takes one with LOCK XADD
 *   0x14  GDT pseudo-descriptor for LGDT (limit, 32-bit base)
 *   0x20  entry CS per cpu index (16-bit each, SMP_MAX_CPUS of them)
 *   0x40  entry CR0 per cpu index (32-bit)
 *   0x80  entry EDX per cpu index (32-bit)
 *   0xc0  code
 *
 * Register use across the mode switches: EBP = cpu index, EBX = the page
 * address (CS << 4).
 */
#define SMP_MAX_CPUS 16
#define TR_TICKET 0x10
#define TR_GDTR   0x14
#define TR_CS     0x20
#define TR_CR0    0x40
#define TR_EDX    0x80
#define TR_CODE   0xc0

#define SEL_CODE64 0x08
#define SEL_DATA   0x10
#define SEL_CODE32 0x18
#define CR0_PE     0x00000001
#define CR0_CD_NW  0x60000000
#define CR0_PG     0x80000000
#define CR4_PAE    0x00000020
#define MSR_EFER   0xc0000080
#define EFER_LME   0x00000100
#define SMP_STACK_SHIFT 13              /* SMP_STACK_SIZE = 8 KiB */

	.text
	.code16
	.globl smp_tramp_start, smp_tramp_end
smp_tramp_start:
	.byte 0xe9                      /* jmp near TR_CODE: rel16 (a short jmp's */
	.word TR_CODE - 3               /* rel8 cannot reach 0xc0 forwards) */
	.skip TR_TICKET - 3
	.long 1                         /* ticket */
	.word smp_gdt_end - smp_gdt - 1 /* GDTR limit */
	.long smp_gdt                   /* GDTR base */
	.skip TR_CS - (TR_GDTR + 6)
	.skip 2 * SMP_MAX_CPUS          /* entry CS */
	.skip 4 * SMP_MAX_CPUS          /* entry CR0 */
	.skip 4 * SMP_MAX_CPUS          /* entry EDX */

	/* TR_CODE: real mode, CS = page >> 4, IP = TR_CODE. */
	cli
	cld
	mov %edx, %esi                  /* EDX at entry: processor signature (9.1.4) */
	mov %cr0, %edi
	mov %cs, %ax
	mov %ax, %ds
	movzwl %ax, %ebx
	shl $4, %ebx                    /* this page's physical address */
	mov $1, %ebp
	lock xaddl %ebp, TR_TICKET      /* EBP = my cpu index */
	cmp $SMP_MAX_CPUS, %ebp
	jae 9f
	movw %ax, TR_CS(,%ebp,2)
	movl %edi, TR_CR0(,%ebp,4)
	movl %esi, TR_EDX(,%ebp,4)
	lgdtl TR_GDTR
	mov %cr0, %eax
	and $~CR0_CD_NW, %eax           /* caches on, as firmware leaves them */
	or $CR0_PE, %eax
	mov %eax, %cr0
	ljmpl $SEL_CODE32, $smp_ap_pm32
9:	cli                             /* more APs than slots: stop here */
	hlt
	jmp 9b
smp_tramp_end:

	/* 32-bit protected mode, flat segments: enable IA-32e mode with the
	 * BSP's PML4 (10.8.5: PAE, CR3, EFER.LME, then CR0.PG). */
	.code32
smp_ap_pm32:
	mov $SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov smp_boot_cr3, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	mov %cr0, %eax
	or $CR0_PG, %eax
	mov %eax, %cr0
	ljmp $SEL_CODE64, $smp_ap_lm64

	.code64
smp_ap_lm64:
	mov $SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
	mov %ebp, %edi                  /* smp_ap_entry(cpu_index, page) */
	mov %ebx, %esi
	mov %rdi, %rax                  /* stack top: smp_stacks + index * size */
	shl $SMP_STACK_SHIFT, %rax
	lea smp_stacks(%rax), %rsp
	xor %ebp, %ebp
	call smp_ap_entry
1:	cli
	hlt
	jmp 1b

	.data
	.balign 16
	.globl smp_gdt
smp_gdt:
	.quad 0
	.quad 0x00af9a000000ffff        /* 0x08: 64-bit code, DPL 0 (as boot.S) */
	.quad 0x00cf92000000ffff        /* 0x10: data, DPL 0 */
	.quad 0x00cf9a000000ffff        /* 0x18: 32-bit code, DPL 0 */
smp_gdt_end:

	.section .note.GNU-stack, "", @progbits
