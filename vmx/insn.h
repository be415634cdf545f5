/* Results of VMX instructions (SDM vol. 3C 30.2 "Conventions"): RFLAGS
 * and the VM-instruction error field. */
#ifndef VMX_INSN_H
#define VMX_INSN_H

#include <stdint.h>

#include "cpu/cpu.h"

/* VMsucceed: CF, PF, AF, ZF, SF, OF cleared. */
void vmx_succeed(struct cpu *c);
/* VMfailInvalid: CF set, the other five cleared. */
void vmx_fail_invalid(struct cpu *c);
/* VMfailValid(err): ZF set, the other five cleared, err written to the
 * VM-instruction error field of the current VMCS. */
void vmx_fail_valid(struct cpu *c, unsigned err);
/* VMfail(err): VMfailValid when there is a current VMCS, else VMfailInvalid. */
void vmx_fail(struct cpu *c, unsigned err);

#endif
