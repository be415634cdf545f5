/* Cache-line and monitor instructions: CLFLUSHOPT, CLWB, MONITOR, MWAIT
 * (SDM vol. 2, each instruction's page). vtxsim has no caches: the flushes
 * only check their operand as CLFLUSH does, and MWAIT returns at once, which
 * the SDM allows (a wake-up may happen for any reason, "MWAIT ... may
 * resume execution at any time").
 */
#include "cpu/cpuid.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"
#include "cpu/seg.h"

/* 66 0F AE /7 and 66 0F AE /6 (memory): #UD without the feature, then the
 * segmentation and paging faults of CLFLUSH. */
enum exec_status op_clflushopt_Mb(struct cpu *c, const struct insn *i)
{
	return cpu_has(c, FEAT_CLFLUSHOPT) ? op_clflush_Mb(c, i) : cpu_ud(c);
}

enum exec_status op_clwb_Mb(struct cpu *c, const struct insn *i)
{
	return cpu_has(c, FEAT_CLWB) ? op_clflush_Mb(c, i) : cpu_ud(c);
}

/* #UD without CPUID.01H:ECX.MONITOR (the model's bit and IA32_MISC_ENABLE
 * [18], SDM vol. 4 Table 2-2) and outside CPL 0 (the SDM's "#UD If current
 * privilege level is not 0"; virtual-8086 mode is CPL 3). */
static bool monitor_ok(struct cpu *c)
{
	if (cpu_has(c, FEAT_MONITOR) && (c->msr.misc_enable & MISC_ENABLE_MONITOR) && cpu_supervisor(c))
		return true;
	cpu_ud(c);
	return false;
}

/* MONITOR arms address range monitoring at DS:rAX (segment override
 * allowed; rAX by address size). It faults like a byte read of that address
 * and #GP(0) when ECX (extensions) is not 0. In VMX non-root operation
 * "MONITOR exiting" / "MWAIT exiting" come after the #UD and before those
 * faults (SDM vol. 3C 25.1.1, 25.1.3). */
enum exec_status op_monitor(struct cpu *c, const struct insn *i)
{
	uint64_t la, pa;
	struct xlate_fault f;
	if (!monitor_ok(c))
		return EXEC_FAULT;
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_monitor(c, i))
		return EXEC_OK;
	if ((uint32_t)c->gpr[R_CX] != 0)
		return cpu_gp0(c);
	if (!seg_linear(c, i->seg, c->gpr[R_AX] & addr_mask(i->asz), 1, ACC_READ, &la))
		return EXEC_FAULT;
	struct mem_view mv = cpu_view(c);
	if (!mem_translate_probe(&mv, la, c->user ? ACC_USER : 0, &pa, &f))
		return cpu_page_fault(c, &f), EXEC_FAULT;
	c->monitor_armed = true;
	return EXEC_OK;
}

/* MWAIT: ECX[31:1] are reserved extensions: #GP(0). ECX[0] (treat
 * interrupts as break events even if masked) is allowed, as CPUID.05H:
 * ECX[1] reports; since MWAIT resumes at once it changes nothing. EAX
 * hints are accepted and ignored (SDM vol. 2 MWAIT, "#GP(0) If ECX[31:1]
 * != 0", "If ECX[0] = 1 and CPUID.05H:ECX[bit 1] = 0"). */
enum exec_status op_mwait(struct cpu *c, const struct insn *i)
{
	if (!monitor_ok(c))
		return EXEC_FAULT;
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_mwait(c, i))
		return EXEC_OK;
	if ((uint32_t)c->gpr[R_CX] > 1)
		return cpu_gp0(c);
	c->monitor_armed = false;       /* the wake-up ends the monitoring; MONITOR re-arms */
	return EXEC_OK;
}
