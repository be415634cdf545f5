/* The lessons' small kit (examples/lessons/lesson.c, lesson_entry.S).
 *
 * Lesson 01 enters VMX operation step by step and lesson 02 builds a VMCS
 * field by field. The later lessons each teach one more idea, so they take
 * those two steps from here: lesson_vmx_on() is lesson 01 in one function,
 * lesson_vmcs_init() is lesson 02's VMCS in one function. Read 01 and 02
 * first; this file is the same code without the commentary.
 *
 * The VMX instructions themselves (vmxon(), vmwrite(), ...) and the field
 * encodings (VMCS_GUEST_RIP, ...) come from the guest library's
 * tests/guests/lib/vmx_insn.h, which expands vtxsim's own tables
 * (vmx/vmcs_fields.def, vmx/controls.h): a lesson never retypes an encoding.
 *
 * SDM section numbers are those of Intel SDM vol. 3C as docs/vmx.md uses
 * them: 23 VMX operation, 24 the VMCS, 25 non-root operation, 26 VM entries,
 * 27 VM exits, 28 EPT, 30 the VMX instructions, Appendix A the capability
 * MSRs, Appendix C the exit reasons.
 */
#ifndef LESSON_H
#define LESSON_H

#include <stdbool.h>
#include <stdint.h>

#include "guest.h"
#include "vmx_insn.h"
#include "vmx_setup.h"          /* MSR_IA32_VMX_* numbers */

/* Selectors of the kit's GDT (lesson_gdt_init): the boot code's 64-bit code
 * and data selectors, and a TSS, because the host TR selector of a VMCS
 * cannot be 0 (SDM 26.2.3). */
#define LESSON_SEL_CODE 0x08
#define LESSON_SEL_DATA 0x10
#define LESSON_SEL_TSS 0x18

/* The guest's general registers, saved at each VM exit and loaded at each
 * VM entry by lesson_enter (RSP and RIP live in the VMCS). */
struct lesson_regs {
	uint64_t rax, rcx, rdx, rbx, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/* Installs a GDT with a 64-bit TSS and loads TR. */
void lesson_gdt_init(void);
/* Lesson 01 in one function: CPUID.1:ECX.VMX, IA32_FEATURE_CONTROL, the
 * CR0/CR4 fixed bits, CR4.VMXE, VMXON. Prints one line; false on failure. */
bool lesson_vmx_on(void);
/* A control word with the bits `want` set, adjusted to what the capability
 * MSR allows (A.3-A.5): the low half of the MSR is the must-be-1 bits, the
 * high half the may-be-1 bits. plain/true_msr: the two MSRs of the word. */
uint32_t lesson_ctl(uint32_t plain_msr, uint32_t true_msr, uint32_t want);
/* Lesson 02 in one function: VMCLEAR + VMPTRLD a fresh VMCS and fill it so
 * that VMLAUNCH runs guest() in 64-bit mode on its own stack, with the
 * host's CR3 (so the same identity map), GDT and IDT. */
void lesson_vmcs_init(void (*guest)(void));

/* VMCLEAR the kit's VMCS (24.11.1: software clears every active VMCS
 * before VMXOFF), then VMXOFF; true when both succeed. */
bool lesson_vmx_off(void);

/* VMLAUNCH (launch) or VMRESUME with the guest registers *regs; returns
 * when the guest exits (0; *regs then holds the guest's registers) or when
 * the instruction fails (RFLAGS after it: CF = VMfailInvalid, ZF =
 * VMfailValid; SDM 30.2). Writes HOST_RSP and HOST_RIP itself. */
uint64_t lesson_enter(struct lesson_regs *regs, bool launch);

/* Basic exit reason (bits 15:0 of the exit-reason field, 27.2.1) and its
 * name from vtxsim's table (Appendix C). */
uint32_t lesson_exit_reason(void);
const char *lesson_exit_name(uint32_t reason);
/* GUEST_RIP += VM-exit instruction length: skips the instruction that
 * exited (27.2.4: the length is valid for exits caused by instructions). */
void lesson_skip_instruction(void);

#endif
