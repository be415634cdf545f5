/* The VM-exit entry point: the VMCS's HOST_RIP (minivisor.c).
 *
 * A VM exit loads the host state from the VMCS (SDM 27.5): RIP = this
 * stub, RSP = the top of the exit stack, CR0/CR3/CR4, segments, and
 * nothing else. The guest's general-purpose registers other than RSP are
 * still live, so the first thing to do is to save them (struct guest_regs
 * in minivisor.h, RAX at the lowest address). The C handler may change
 * them (CPUID results, an emulated MMIO load); they are restored and the
 * guest resumed with VMRESUME (30.3). Each exit starts again at the top
 * of the same stack: nothing stays on it between exits.
 */
	.text
	.globl minivisor_exit_stub
minivisor_exit_stub:
	push %r15
	push %r14
	push %r13
	push %r12
	push %r11
	push %r10
	push %r9
	push %r8
	push %rdi
	push %rsi
	push %rbp
	push $0                 /* the RSP slot: the guest's RSP is in the VMCS */
	push %rbx
	push %rdx
	push %rcx
	push %rax               /* 16 slots: RSP stays 16-byte aligned for the call */
	mov %rsp, %rdi
	call minivisor_handle_exit
	pop %rax
	pop %rcx
	pop %rdx
	pop %rbx
	add $8, %rsp
	pop %rbp
	pop %rsi
	pop %rdi
	pop %r8
	pop %r9
	pop %r10
	pop %r11
	pop %r12
	pop %r13
	pop %r14
	pop %r15
	vmresume
	/* Reached only when VMRESUME fails (VMfailValid / VMfailInvalid);
	 * a VM entry that fails its guest-state checks exits instead (26.8). */
	call minivisor_vmresume_failed

	.section .note.GNU-stack, "", @progbits
