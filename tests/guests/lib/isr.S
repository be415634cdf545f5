/* Interrupt entry stubs and a setjmp/longjmp pair for fault recovery.
 *
 * One 16-byte stub per vector (isr_stubs + 16 * vector). Each pushes a zero
 * in place of the error code for vectors where the CPU pushes none (SDM
 * Vol. 3A, 7.3 table 7-1 "Protected-Mode Exceptions and Interrupts":
 * #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC and #SX push one), then the
 * vector, then saves the general registers and calls isr_dispatch with a
 * pointer to struct intr_frame (lib/guest.h).
 */
	.text
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	pushq $0
	.endif
	pushq $vec
	jmp isr_common
	.set vec, vec + 1
	.endr

isr_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	cld
	mov %rsp, %rdi
	call isr_dispatch
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp                   /* vector and error code */
	iretq

/* int guest_setjmp(struct guest_jmp_buf *jb): saves the callee-saved
 * registers, RSP, the return address and RFLAGS; returns 0, or the value
 * given to guest_longjmp. */
	.globl guest_setjmp
guest_setjmp:
	mov %rbx, 0(%rdi)
	mov %rbp, 8(%rdi)
	mov %r12, 16(%rdi)
	mov %r13, 24(%rdi)
	mov %r14, 32(%rdi)
	mov %r15, 40(%rdi)
	lea 8(%rsp), %rax               /* RSP after our return */
	mov %rax, 48(%rdi)
	mov (%rsp), %rax                /* return address */
	mov %rax, 56(%rdi)
	pushfq
	popq 64(%rdi)
	xor %eax, %eax
	ret

/* void guest_longjmp(struct guest_jmp_buf *jb, int value): value != 0. */
	.globl guest_longjmp
guest_longjmp:
	mov 0(%rdi), %rbx
	mov 8(%rdi), %rbp
	mov 16(%rdi), %r12
	mov 24(%rdi), %r13
	mov 32(%rdi), %r14
	mov 40(%rdi), %r15
	mov 48(%rdi), %rsp
	pushq 64(%rdi)
	popfq
	mov %esi, %eax
	jmp *56(%rdi)

	.section .note.GNU-stack, "", @progbits
