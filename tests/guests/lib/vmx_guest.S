/* The code the baseline VMCS runs (lib/vmx_vmcs.h): the guest, in 64-bit
 * and in 32-bit form, and the host entry point every VM exit lands on.
 */
#include "vmx_vmcs.h"

	.text
/* Guest of vmx_baseline(64): a VMCALL first, so that a successful entry
 * ends in exit reason 18 with GUEST_RIP pointing at it (SDM vol. 3C
 * 27.3.3: RIP saved is that of the instruction causing the exit). */
	.code64
	.globl vmx_guest64_code
vmx_guest64_code:
	vmcall
	mov $VMX_GUEST_MAGIC, %eax
	vmcall
	jmp vmx_guest64_code

/* Guest of vmx_baseline(32): the same in 32-bit protected mode. */
	.code32
	.globl vmx_guest32_code
vmx_guest32_code:
	vmcall
	mov $VMX_GUEST_MAGIC, %eax
	vmcall
	jmp vmx_guest32_code
	.code64

/* HOST_RIP: RSP = HOST_RSP (the library's host stack), RFLAGS = 2 (27.5.3).
 * Saves the guest's general registers in vmx_guest_regs[] (the encoding
 * order), then returns into vmx_try_launch/vmx_try_resume through
 * guest_longjmp(&vmx_host_jb, 1). */
	.globl vmx_host_entry
	.set .Lmsr_n, 0
vmx_host_entry:
	mov %rax, vmx_guest_regs + 0 * 8(%rip)
	mov %rcx, vmx_guest_regs + 1 * 8(%rip)
	mov %rdx, vmx_guest_regs + 2 * 8(%rip)
	mov %rbx, vmx_guest_regs + 3 * 8(%rip)
	mov %rbp, vmx_guest_regs + 5 * 8(%rip)
	mov %rsi, vmx_guest_regs + 6 * 8(%rip)
	mov %rdi, vmx_guest_regs + 7 * 8(%rip)
	mov %r8, vmx_guest_regs + 8 * 8(%rip)
	mov %r9, vmx_guest_regs + 9 * 8(%rip)
	mov %r10, vmx_guest_regs + 10 * 8(%rip)
	mov %r11, vmx_guest_regs + 11 * 8(%rip)
	mov %r12, vmx_guest_regs + 12 * 8(%rip)
	mov %r13, vmx_guest_regs + 13 * 8(%rip)
	mov %r14, vmx_guest_regs + 14 * 8(%rip)
	mov %r15, vmx_guest_regs + 15 * 8(%rip)
	/* What the exit loaded (27.5), before any host code changes it. */
	pushfq
	popq vmx_host_seen + VMX_SEEN_RFLAGS(%rip)
	mov %cr0, %rax
	mov %rax, vmx_host_seen + VMX_SEEN_CR0(%rip)
	mov %cr3, %rax
	mov %rax, vmx_host_seen + VMX_SEEN_CR3(%rip)
	mov %cr4, %rax
	mov %rax, vmx_host_seen + VMX_SEEN_CR4(%rip)
	mov %dr7, %rax
	mov %rax, vmx_host_seen + VMX_SEEN_DR7(%rip)
	mov %cs, vmx_host_seen + VMX_SEEN_SEL + 0(%rip)
	mov %ss, vmx_host_seen + VMX_SEEN_SEL + 2(%rip)
	mov %ds, vmx_host_seen + VMX_SEEN_SEL + 4(%rip)
	mov %es, vmx_host_seen + VMX_SEEN_SEL + 6(%rip)
	mov %fs, vmx_host_seen + VMX_SEEN_SEL + 8(%rip)
	mov %gs, vmx_host_seen + VMX_SEEN_SEL + 10(%rip)
	str vmx_host_seen + VMX_SEEN_SEL + 12(%rip)
	sgdt vmx_host_seen + VMX_SEEN_GDTR(%rip)
	sidt vmx_host_seen + VMX_SEEN_IDTR(%rip)
	.irp msr, 0xc0000080, 0x277, 0xc0000100, 0xc0000101, 0xc0000102, 0x174, 0x175, 0x176
	mov $\msr, %ecx
	rdmsr
	mov %eax, vmx_host_seen + VMX_SEEN_MSRS + 8 * (.Lmsr_n)(%rip)
	mov %edx, vmx_host_seen + VMX_SEEN_MSRS + 8 * (.Lmsr_n) + 4(%rip)
	.set .Lmsr_n, .Lmsr_n + 1
	.endr
	cld
	lea vmx_host_jb(%rip), %rdi
	mov $1, %esi
	call guest_longjmp

/* The stub IDT's handlers (lib/vmx_vmcs.h vmx_stub_idt): the stub of
 * vector v, VMX_STUB_SIZE bytes at vmx_idt_stubs + VMX_STUB_SIZE * v, is
 * "mov $v, %eax; vmcall": an event delivered in the guest ends in exit
 * reason 18 with RAX = its vector. */
	.balign VMX_STUB_SIZE
	.globl vmx_idt_stubs
vmx_idt_stubs:
	.set v, 0
	.rept 256
	.balign VMX_STUB_SIZE
	mov $v, %eax
	vmcall
	.set v, v + 1
	.endr

/* vmx_enter_regs(int resume): lib/vmx_vmcs.c vmx_enter_guest. Loads
 * RAX..R15 (not RSP) from vmx_guest_regs[], then VMRESUME or VMLAUNCH. A
 * VMfail falls through: RFLAGS goes to vmx_enter_rflags and the C side is
 * reached by guest_longjmp(&vmx_host_jb, 2) (the callee-saved registers
 * hold guest values by then). */
	.globl vmx_enter_regs
vmx_enter_regs:
	mov %edi, .Lresume(%rip)
	mov vmx_guest_regs + 1 * 8(%rip), %rcx
	mov vmx_guest_regs + 2 * 8(%rip), %rdx
	mov vmx_guest_regs + 3 * 8(%rip), %rbx
	mov vmx_guest_regs + 5 * 8(%rip), %rbp
	mov vmx_guest_regs + 6 * 8(%rip), %rsi
	mov vmx_guest_regs + 7 * 8(%rip), %rdi
	mov vmx_guest_regs + 8 * 8(%rip), %r8
	mov vmx_guest_regs + 9 * 8(%rip), %r9
	mov vmx_guest_regs + 10 * 8(%rip), %r10
	mov vmx_guest_regs + 11 * 8(%rip), %r11
	mov vmx_guest_regs + 12 * 8(%rip), %r12
	mov vmx_guest_regs + 13 * 8(%rip), %r13
	mov vmx_guest_regs + 14 * 8(%rip), %r14
	mov vmx_guest_regs + 15 * 8(%rip), %r15
	mov vmx_guest_regs + 0 * 8(%rip), %rax
	cmpl $0, .Lresume(%rip)
	jne 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:	pushfq
	popq vmx_enter_rflags(%rip)
	cld
	lea vmx_host_jb(%rip), %rdi
	mov $2, %esi
	call guest_longjmp

	.data
	.balign 4
.Lresume:
	.long 0
	.text

	.section .note.GNU-stack, "", @progbits
