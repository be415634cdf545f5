/* Results of VMX instructions (SDM vol. 3C 30.2 "Conventions"): RFLAGS
 * and the VM-instruction error field; the active-VMCS list the
 * instructions keep; and the pieces of their VM exits (27.2.1, 27.2.4). */
#ifndef VMX_INSN_H
#define VMX_INSN_H

#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/decode.h"

/* VMsucceed: CF, PF, AF, ZF, SF, OF cleared. */
void vmx_succeed(struct cpu *c, const struct insn *i);
/* VMfailInvalid: CF set, the other five cleared. */
void vmx_fail_invalid(struct cpu *c, const struct insn *i);
/* VMfailValid(err): ZF set, the other five cleared, err written to the
 * VM-instruction error field of the current VMCS. */
void vmx_fail_valid(struct cpu *c, const struct insn *i, unsigned err);
/* VMfail(err): VMfailValid when there is a current VMCS, else VMfailInvalid. */
void vmx_fail(struct cpu *c, const struct insn *i, unsigned err);
/* i is the VMX instruction executing: in VMX root operation each of the
 * four reports it to an observer as PROBE_VMXINSN (cpu/probe.h). */

/* The exit reason an execution of VMX instruction i in VMX non-root
 * operation gives (EXIT_REASON_VMXON, ...), naming the instruction; -1
 * when i is not one of VMCALL, VMCLEAR, VMLAUNCH, VMPTRLD, VMPTRST,
 * VMREAD, VMRESUME, VMWRITE, VMXOFF, VMXON, INVEPT, INVVPID, VMFUNC. */
int vmx_insn_reason(const struct insn *i);

/* ---- the active-VMCS list (vmx/vmx.c; SDM vol. 3C 24.1, 24.11.3) ----
 * A VMCS is active from VMPTRLD until VMCLEAR (or VMXOFF); while it is,
 * its launch state is processor state (struct vmx_active), and the word at
 * VMCS_OFF_LAUNCH of its region is stale. */

/* The entry for the VMCS region at pa, or NULL when it is not active. */
struct vmx_active *vmx_active_find(struct cpu *c, uint64_t pa);
/* Make the region at pa active with the launch state its region holds
 * (VMCS_OFF_LAUNCH: a word VMCLEAR never wrote is warned about, SDM
 * 24.11.3, and taken as clear). When the list is full, the oldest entry
 * that is not the current VMCS is written back and dropped first (a real
 * processor keeps a finite number active; warned). Returns the entry. */
struct vmx_active *vmx_active_add(struct cpu *c, uint64_t pa);
/* Write the launch state of active entry a back to its region and drop it
 * from the list (VMCLEAR). */
void vmx_active_clear(struct cpu *c, struct vmx_active *a);
/* VMXOFF: every active VMCS is written back (a launched one with
 * VMCS_LAUNCH_VMXOFF) and the list emptied. */
void vmx_active_flush_vmxoff(struct cpu *c);

/* ---- VM exits caused by VMX instructions ---- */

/* VM-exit instruction-information field (SDM vol. 3C 27.2.4) from the
 * decoded operands: Table 27-13 (VMCLEAR, VMPTRLD, VMPTRST, VMXON) and the
 * INVEPT/INVPCID/INVVPID table (the same with Reg2 = ModRM.reg in 31:28)
 * when reg2 is true; Table 27-14 (VMREAD, VMWRITE: Reg1 = ModRM.rm in 6:3
 * for a register operand, bit 10 set, Reg2 in 31:28) when rw is true.
 * Bits the tables call undefined are 0. Pure: reads only *i. */
uint32_t vmx_insn_info(const struct insn *i, bool rw, bool reg2);

/* Exit qualification of a VMX instruction with a memory operand (27.2.1):
 * the displacement, sign-extended to 64 bits, plus the address of the next
 * instruction for RIP-relative addressing; 0 for a register operand. */
uint64_t vmx_insn_qual(const struct insn *i, uint64_t next_rip);

/* The EPTP checks of a VM entry with "enable EPT" (26.2.1.1), which INVEPT
 * single-context also makes: memory type and page-walk length the model
 * reports in IA32_VMX_EPT_VPID_CAP, accessed/dirty enable only when
 * supported, reserved bits 11:7 and 63:MAXPHYADDR zero. */
bool vmx_eptp_valid(const struct cpu *c, uint64_t eptp);

#endif
