/* lesson_enter(regs, launch): the one piece of the lessons in assembly,
 * because a VM exit lands at HOST_RIP with RSP = HOST_RSP and every other
 * general register holding the GUEST's value (SDM 27.5: a VM exit loads
 * RSP, RIP and RFLAGS from the host-state area, nothing else).
 *
 * So: push the host's callee-saved registers and the regs pointer, make
 * HOST_RSP this stack and HOST_RIP label 1 below, load the guest's
 * registers from *regs, VMLAUNCH/VMRESUME. At a VM exit, label 1 stores
 * the guest's registers back into *regs and returns 0 to C. If the
 * instruction fails (VMfailInvalid / VMfailValid, SDM 30.2) it falls
 * through and we return RFLAGS (never 0: bit 1 is always set).
 * The field encodings are checked against vtxsim's table in lesson.c. */
	.text
	.globl lesson_enter
lesson_enter:                           /* rdi = regs, esi = launch */
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdi                       /* (%rsp) = regs, at HOST_RSP */
	mov $0x6c14, %eax               /* HOST_RSP */
	vmwrite %rsp, %rax
	lea 1f(%rip), %rdx
	mov $0x6c16, %eax               /* HOST_RIP */
	vmwrite %rdx, %rax
	test %esi, %esi                 /* ZF = !launch; the MOVs keep it */
	mov 0x08(%rdi), %rcx
	mov 0x10(%rdi), %rdx
	mov 0x18(%rdi), %rbx
	mov 0x20(%rdi), %rbp
	mov 0x28(%rdi), %rsi
	mov 0x38(%rdi), %r8
	mov 0x40(%rdi), %r9
	mov 0x48(%rdi), %r10
	mov 0x50(%rdi), %r11
	mov 0x58(%rdi), %r12
	mov 0x60(%rdi), %r13
	mov 0x68(%rdi), %r14
	mov 0x70(%rdi), %r15
	mov 0x00(%rdi), %rax
	mov 0x30(%rdi), %rdi
	jz 2f
	vmlaunch
	jmp 3f
2:	vmresume
3:	pushfq                          /* the entry failed: return RFLAGS */
	pop %rax
	add $8, %rsp
	jmp 4f
1:	push %rdi                       /* VM exit: RSP = HOST_RSP */
	mov 8(%rsp), %rdi               /* regs */
	mov %rax, 0x00(%rdi)
	mov %rcx, 0x08(%rdi)
	mov %rdx, 0x10(%rdi)
	mov %rbx, 0x18(%rdi)
	mov %rbp, 0x20(%rdi)
	mov %rsi, 0x28(%rdi)
	pop %rax
	mov %rax, 0x30(%rdi)            /* the guest's RDI */
	mov %r8, 0x38(%rdi)
	mov %r9, 0x40(%rdi)
	mov %r10, 0x48(%rdi)
	mov %r11, 0x50(%rdi)
	mov %r12, 0x58(%rdi)
	mov %r13, 0x60(%rdi)
	mov %r14, 0x68(%rdi)
	mov %r15, 0x70(%rdi)
	add $8, %rsp
	xor %eax, %eax
4:	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret
