/* x87 control instructions FNINIT and FNCLEX (DB E3, DB E2), the ones OS
 * code runs to probe or reset the FPU. They raise #NM when CR0.EM or CR0.TS
 * is set (SDM vol. 3A 2.5, Table 2-2, and 13.4); otherwise they report that
 * the x87 unit is not implemented yet (the CPU models do not advertise
 * CPUID.1:EDX.FPU) and raise #UD. Other x87 opcodes do not decode yet. */
#include "cpu/handlers.h"
#include "cpu/operand.h"

enum exec_status op_x87_esc(struct cpu *c, const struct insn *i)
{
	if (c->cr0 & (CR0_EM | CR0_TS))
		return cpu_fault(c, VEC_NM, false, 0);
	cpu_warn(c, "#UD at RIP=%#llx: x87 instruction %02x %02x is not implemented yet",
		 (unsigned long long)(c->next_rip - i->len), i->opcode & 0xff, i->modrm);
	return cpu_ud(c);
}
