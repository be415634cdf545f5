/* The 32-bit host of lib/vmx_host32.h: vmx_host32_run leaves IA-32e mode,
 * runs VMXON, VMPTRLD and VMLAUNCH in 32-bit protected mode with paging,
 * and comes back to 64-bit mode; vmx_host32_entry is the HOST_RIP a VM
 * exit to that host lands on. Section numbers: SDM vol. 3A 10.8.5
 * (entering and leaving IA-32e mode), vol. 3C 27.5 (host-state loading).
 */
#include "vmx_host32.h"

#define CR0_PG_BIT 0x80000000
#define CR4_PCIDE_BIT 0x20000
#define MSR_EFER_NUM 0xc0000080
#define MSR_FS_BASE_NUM 0xc0000100
#define MSR_GS_BASE_NUM 0xc0000101
#define EFER_LME_BIT 0x100
#define H32 vmx_host32
#define SEEN(f) vmx_host32 + H32_SEEN + (f)

/* void vmx_host32_run(void): called from vmx_try_launch_host32 outside
 * VMX operation with vmx_host32's inputs filled; returns in 64-bit mode,
 * still outside VMX operation (the C side does VMXON and VMPTRLD). */
	.text
	.code64
	.globl vmx_host32_run
vmx_host32_run:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	pushfq
	cli
	mov %rsp, .Lsaved_rsp(%rip)
	mov %cr3, %rax
	mov %rax, .Lsaved_cr3(%rip)
	mov %cr4, %rax
	mov %rax, .Lsaved_cr4(%rip)
	sgdt .Lsaved_gdtr(%rip)
	sidt .Lsaved_idtr(%rip)
	/* To compatibility mode: a far return to the 32-bit code segment. */
	mov H32 + H32_CODE32_SEL(%rip), %eax
	push %rax
	lea 1f(%rip), %rax
	push %rax
	lretq

	.code32
1:	mov H32 + H32_DATA_SEL, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	/* Leave IA-32e mode (10.8.5.4): CR4.PCIDE must be 0 before CR0.PG
	 * can be cleared; CR0.PG = 0 clears IA32_EFER.LMA; then LME = 0. */
	mov %cr4, %eax
	and $~CR4_PCIDE_BIT, %eax
	mov %eax, %cr4
	mov %cr0, %eax
	and $~CR0_PG_BIT, %eax
	mov %eax, %cr0
	mov $MSR_EFER_NUM, %ecx
	rdmsr
	and $~EFER_LME_BIT, %eax
	wrmsr
	/* 32-bit paging (vol. 3A 4.3): PSE on, PAE off, the 32-bit directory. */
	mov H32 + H32_CR3, %eax
	mov %eax, %cr3
	mov H32 + H32_CR4, %eax
	mov %eax, %cr4
	mov %cr0, %eax
	or $CR0_PG_BIT, %eax
	mov %eax, %cr0

	vmxon H32 + H32_VMXON_PA
	pushfl
	popl H32 + H32_VMXON_FLAGS
	testl $0x41, H32 + H32_VMXON_FLAGS     /* CF or ZF: VMfail */
	jnz .Lback_to_ia32e
	vmptrld H32 + H32_VMCS_PA
	pushfl
	popl H32 + H32_VMPTRLD_FLAGS
	testl $0x41, H32 + H32_VMPTRLD_FLAGS
	jnz .Lvmxoff
	pushl $H32_PRE_LAUNCH_EFLAGS
	popfl
	vmlaunch
	pushfl
	popl H32 + H32_LAUNCH_FLAGS
	jmp .Lvmclear

/* HOST_RIP of a 32-bit host: ESP = HOST_RSP. Records what the VM exit
 * loaded (27.5) before anything changes it. */
	.globl vmx_host32_entry
vmx_host32_entry:
	mov %esp, SEEN(H32S_ESP)
	pushfl
	popl SEEN(H32S_EFLAGS)
	mov %cr0, %eax
	mov %eax, SEEN(H32S_CR0)
	mov %cr3, %eax
	mov %eax, SEEN(H32S_CR3)
	mov %cr4, %eax
	mov %eax, SEEN(H32S_CR4)
	/* The operand size of this code segment, from what PUSH does to ESP:
	 * these bytes are mov/push/sub in every mode (see vmx_host32.h). */
	mov %esp, %eax
	push %eax
	sub %esp, %eax
	pop %edx
	mov %eax, SEEN(H32S_PUSH_WIDTH)
	xor %eax, %eax
	mov %cs, %ax
	mov %eax, SEEN(H32S_SEL + 0)
	mov %ss, %ax
	mov %eax, SEEN(H32S_SEL + 4)
	mov %ds, %ax
	mov %eax, SEEN(H32S_SEL + 8)
	mov %es, %ax
	mov %eax, SEEN(H32S_SEL + 12)
	mov %fs, %ax
	mov %eax, SEEN(H32S_SEL + 16)
	mov %gs, %ax
	mov %eax, SEEN(H32S_SEL + 20)
	str %ax
	mov %eax, SEEN(H32S_SEL + 24)
	sgdt SEEN(H32S_GDTR)
	sidt SEEN(H32S_IDTR)
	mov $MSR_EFER_NUM, %ecx
	rdmsr
	mov %eax, SEEN(H32S_EFER)
	mov %edx, SEEN(H32S_EFER + 4)
	mov $MSR_FS_BASE_NUM, %ecx
	rdmsr
	mov %eax, SEEN(H32S_FS_BASE)
	mov %edx, SEEN(H32S_FS_BASE + 4)
	mov $MSR_GS_BASE_NUM, %ecx
	rdmsr
	mov %eax, SEEN(H32S_GS_BASE)
	mov %edx, SEEN(H32S_GS_BASE + 4)
	movl $1, H32 + H32_EXITED
	/* The exit may have loaded any data selector: ours again. */
	mov H32 + H32_DATA_SEL, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss

.Lvmclear:
	vmclear H32 + H32_VMCS_PA
	pushfl
	popl H32 + H32_VMCLEAR_FLAGS
.Lvmxoff:
	vmxoff
	pushfl
	popl H32 + H32_VMXOFF_FLAGS

/* Back to IA-32e mode (10.8.5): paging off, PAE and the 64-bit CR3, LME,
 * paging on (compatibility mode), then a far return to 64-bit code. */
.Lback_to_ia32e:
	mov %cr0, %eax
	and $~CR0_PG_BIT, %eax
	mov %eax, %cr0
	mov .Lsaved_cr4, %eax
	and $~CR4_PCIDE_BIT, %eax
	mov %eax, %cr4
	mov .Lsaved_cr3, %eax
	mov %eax, %cr3
	mov $MSR_EFER_NUM, %ecx
	rdmsr
	or $EFER_LME_BIT, %eax
	wrmsr
	mov %cr0, %eax
	or $CR0_PG_BIT, %eax
	mov %eax, %cr0
	pushl H32 + H32_CODE64_SEL
	pushl $2f
	lret

	.code64
2:	lgdt .Lsaved_gdtr(%rip)
	lidt .Lsaved_idtr(%rip)
	mov .Lsaved_cr4(%rip), %rax
	mov %rax, %cr4
	mov H32 + H32_DATA_SEL(%rip), %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov .Lsaved_rsp(%rip), %rsp
	popfq
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

	.data
	.balign 16
.Lsaved_rsp:
	.quad 0
.Lsaved_cr3:
	.quad 0
.Lsaved_cr4:
	.quad 0
.Lsaved_gdtr:
	.skip 16
.Lsaved_idtr:
	.skip 16

	.section .note.GNU-stack, "", @progbits
