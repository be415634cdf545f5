/* What the VMX instruction handlers (vmx/insn*.c) share: the #UD test every
 * instruction page starts with, the VM exit of non-root operation, and the
 * operand sizes of SDM vol. 3C 30.3. Internal to those files. */
#ifndef VMX_INSN_IMPL_H
#define VMX_INSN_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/operand.h"
#include "cpu/seg.h"
#include "vmx/insn.h"

/* "IF (not in VMX operation) or (CR0.PE = 0) or (RFLAGS.VM = 1) or
 * (IA32_EFER.LMA = 1 and CS.L = 0) THEN #UD" (30.3, every instruction but
 * VMXON and VMCALL). */
static inline bool vmx_insn_ud(const struct cpu *c)
{
	return !c->vmx.on || !(c->cr0 & CR0_PE) || (c->rflags & FL_VM) || (cpu_lma(c) && !c->code64);
}

/* Register operands (VMREAD/VMWRITE, the INVEPT/INVVPID type) are 64 bits
 * in 64-bit mode and 32 bits outside IA-32e mode, whatever REX.W, 66 or
 * CS.D say (30.3). */
static inline unsigned vmx_reg_size(const struct cpu *c)
{
	return c->code64 ? SZ64 : SZ32;
}

/* Which exit-information layout an instruction reports (27.2.4). */
enum vmx_info_kind {
	INFO_NONE,      /* VMCALL, VMXOFF: no instruction information */
	INFO_MEM,       /* Table 27-13: VMCLEAR, VMPTRLD, VMPTRST, VMXON */
	INFO_MEM_REG2,  /* INVEPT, INVVPID: Table 27-13 layout with Reg2 */
	INFO_RW,        /* Table 27-14: VMREAD, VMWRITE */
};

/* The memory-operand bits of the instruction-information field (scaling,
 * address size, segment, index, base: bits 27:0 of Tables 27-10, 27-11,
 * 27-13, 27-14): shared by the VMX-instruction exits and the
 * descriptor-table exits (vmx/intercept_cr.c). */
uint32_t vmx_insn_mem_info(const struct insn *i);
/* A register operand instead: bit 10 set, the register in bits 6:3 (Reg1
 * of Tables 27-11 and 27-14). */
#define INFO_REG1_SHIFT 3
#define INFO_REG_OPERAND (1u << 10)

/* The VM exit a VMX instruction causes in VMX non-root operation (25.1.2:
 * every VMX instruction exits unconditionally, VMREAD/VMWRITE subject to
 * VMCS shadowing). Fills the exit reason, qualification (27.2.1),
 * instruction length and information (27.2.4) and performs the exit. */
enum exec_status vmx_insn_exit(struct cpu *c, const struct insn *i, unsigned reason, enum vmx_info_kind kind);

/* The 64-bit memory operand (VMXON, VMCLEAR, VMPTRLD pointer); false with
 * #GP/#SS/#PF recorded. */
static inline bool vmx_read_m64(struct cpu *c, const struct insn *i, uint64_t *v)
{
	return mem_read_seg(c, i->seg, insn_ea(c, i), 8, v);
}

/* A VMCS or VMXON pointer the processor can use: 4-KByte aligned, no bit
 * set beyond the physical-address width (30.3 VMXON/VMCLEAR/VMPTRLD; the
 * models report IA32_VMX_BASIC[48] = 0). */
bool vmx_ptr_ok(const struct cpu *c, uint64_t pa);

#endif
