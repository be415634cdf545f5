/* Multiboot 1 entry for the guest kernels.
 *
 * The loader enters _start in 32-bit protected mode, paging off, with
 * EAX = 0x2BADB002 and EBX = the physical address of the multiboot info
 * (Multiboot Specification 0.6.96, 3.2 "Machine state"). We identity-map the
 * first 4 GiB with 2 MiB pages, enter long mode (SDM Vol. 3A, 10.8.5
 * "Initializing IA-32e Mode") and call guest_entry(magic, mbinfo) in C.
 */
#define MB_HEADER_MAGIC   0x1badb002
#define MB_FLAGS          0x00000003      /* bit 0: page-align modules, bit 1: memory info */
#define MB_LOADER_MAGIC   0x2badb002

#define SEL_CODE64 0x08
#define SEL_DATA   0x10

#define PTE_P  0x001
#define PTE_W  0x002
#define PTE_PS 0x080
#define STACK_SIZE 65536

	.section .multiboot, "a"
	.balign 4
	.long MB_HEADER_MAGIC
	.long MB_FLAGS
	.long -(MB_HEADER_MAGIC + MB_FLAGS)

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	mov %eax, %ebp                  /* magic; EBX keeps the info pointer */
	mov $boot_stack_top, %esp
	mov %cr0, %eax                  /* entry state, for the boot test */
	mov %eax, boot_entry_cr0
	pushfl
	popl boot_entry_eflags
	cmp $MB_LOADER_MAGIC, %ebp
	jne bad_magic

	/* Zero .bss ourselves rather than trusting the loader to. */
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl

	/* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories. */
	mov $boot_pdpt, %eax
	or $(PTE_P | PTE_W), %eax
	mov %eax, boot_pml4
	mov $boot_pd, %eax
	or $(PTE_P | PTE_W), %eax
	xor %ecx, %ecx
1:	mov %eax, boot_pdpt(,%ecx,8)
	add $4096, %eax
	inc %ecx
	cmp $4, %ecx
	jne 1b

	/* 2048 PDEs mapping 2 MiB each: PDE[i] = i << 21 | PS | W | P. */
	xor %ecx, %ecx
2:	mov %ecx, %eax
	shl $21, %eax
	or $(PTE_P | PTE_W | PTE_PS), %eax
	mov %eax, boot_pd(,%ecx,8)
	inc %ecx
	cmp $2048, %ecx
	jne 2b

	lgdt boot_gdt_ptr
	mov %cr4, %eax
	or $(1 << 5), %eax              /* CR4.PAE */
	mov %eax, %cr4
	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx           /* IA32_EFER */
	rdmsr
	or $(1 << 8), %eax              /* EFER.LME */
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax            /* CR0.PG | CR0.PE */
	mov %eax, %cr0
	ljmp $SEL_CODE64, $long_mode

bad_magic:
	/* Not loaded by a multiboot loader: say so on COM1 and exit(1). */
	mov $bad_magic_msg, %esi
3:	movb (%esi), %cl
	test %cl, %cl
	jz 5f
	mov $0x3fd, %dx                 /* LSR: wait for THRE */
4:	inb %dx, %al
	test $0x20, %al
	jz 4b
	mov $0x3f8, %dx
	mov %cl, %al
	outb %al, %dx
	inc %esi
	jmp 3b
5:	mov $1, %al
	outb %al, $0xf4
6:	cli
	hlt
	jmp 6b

	.code64
long_mode:
	mov $SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
	mov $boot_stack_top, %esp       /* zero-extends into RSP */
	mov %ebp, %edi                  /* guest_entry(magic, mbinfo) */
	mov %ebx, %esi
	call guest_entry
7:	cli
	hlt
	jmp 7b

	.section .rodata
bad_magic_msg:
	.asciz "FAIL: not started by a multiboot loader (EAX != 0x2BADB002)\n"

	.data
	.balign 4
	.globl boot_entry_cr0, boot_entry_eflags
boot_entry_cr0:
	.long 0
boot_entry_eflags:
	.long 0
	.balign 16
	.globl boot_gdt
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff        /* 0x08: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff        /* 0x10: data, DPL 0 */
boot_gdt_end:
	.balign 8
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	.bss
	.balign 4096
	.globl boot_pml4, boot_pdpt, boot_pd
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096
boot_stack:
	.skip STACK_SIZE
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
