/* The other instructions that exit in VMX non-root operation depending on
 * the VM-execution controls (SDM vol. 3C 25.1.3): HLT, WBINVD, MONITOR,
 * MWAIT, PAUSE (with PAUSE-loop exiting), RDRAND, RDSEED, XSAVES, XRSTORS;
 * their exit information (27.2.1 qualification, 27.2.4 instruction
 * information). INVD and XSETBV exit unconditionally (25.1.2: their
 * handlers call vmx_exit_insn). Not here because no CPU model has them:
 * GETSEC (SMX: CR4.SMXE is reserved, so GETSEC is #UD before it could
 * exit), RSM (exits only in SMM; vtxsim has no SMM, RSM is #UD), ENCLS
 * (SGX), UMWAIT/TPAUSE (WAITPKG): all #UD. */
#include "cpu/decode.h"
#include "vmx/exit.h"
#include "vmx/insn_impl.h"
#include "vmx/vmcs.h"

#define INFO_REG_SHIFT 3                /* Table 27-12: destination register */
#define INFO_OSZ_SHIFT 11               /* Table 27-12: operand size 0/1/2 = 16/32/64 */

/* The secondary controls are in effect only with the primary control
 * "activate secondary controls" (24.6.2). */
static uint32_t proc2(struct cpu *c)
{
	if (!(vmcs_read(c, VF_PROC_CONTROLS) & PROC_SECONDARY_CTLS))
		return 0;
	return (uint32_t)vmcs_read(c, VF_PROC2_CONTROLS);
}

static bool proc_set(struct cpu *c, uint32_t bit)
{
	return (vmcs_read(c, VF_PROC_CONTROLS) & bit) != 0;
}

/* An exit with no qualification or instruction information. */
static bool exit_if(struct cpu *c, const struct insn *i, bool cond, enum vmx_exit_reason reason)
{
	if (cond)
		vmx_exit_insn(c, reason, i->len);
	return cond;
}

bool vmx_intercept_hlt(struct cpu *c, const struct insn *i)
{
	return exit_if(c, i, proc_set(c, PROC_HLT_EXITING), EXIT_REASON_HLT);
}

bool vmx_intercept_wbinvd(struct cpu *c, const struct insn *i)
{
	return exit_if(c, i, proc2(c) & PROC2_WBINVD_EXITING, EXIT_REASON_WBINVD);
}

bool vmx_intercept_monitor(struct cpu *c, const struct insn *i)
{
	return exit_if(c, i, proc_set(c, PROC_MONITOR_EXITING), EXIT_REASON_MONITOR);
}

/* 27.2.1: the qualification is 1 if address-range monitoring hardware is
 * armed (a MONITOR since the last VM entry and no MWAIT wake-up since),
 * else 0. */
bool vmx_intercept_mwait(struct cpu *c, const struct insn *i)
{
	if (!proc_set(c, PROC_MWAIT_EXITING))
		return false;
	struct vmx_exit_info x = { .reason = EXIT_REASON_MWAIT, .qual = c->monitor_armed, .insn_len = i->len,
				   .has_insn = true };
	vmx_vmexit(c, &x);
	return true;
}

/* PAUSE-loop exiting (25.1.3), time in TSC ticks = simulated cycles: a
 * PAUSE more than PLE_Gap after the previous one at CPL 0 (or the first
 * after VM entry) begins a loop; otherwise it exits when more than
 * PLE_Window has passed since the PAUSE that began the loop. */
static bool pause_loop_exits(struct cpu *c)
{
	struct vmx_state *v = &c->vmx;
	uint64_t now = c->cycles;
	bool first = !v->ple_valid || now - v->ple_last > (uint32_t)vmcs_read(c, VF_PLE_GAP);
	v->ple_valid = true;
	v->ple_last = now;
	if (first) {
		v->ple_first = now;
		return false;
	}
	return now - v->ple_first > (uint32_t)vmcs_read(c, VF_PLE_WINDOW);
}

/* 25.1.3: "PAUSE exiting" exits at any CPL (and makes PAUSE-loop exiting
 * irrelevant); PAUSE-loop exiting applies at CPL 0 only. */
bool vmx_intercept_pause(struct cpu *c, const struct insn *i)
{
	if (proc_set(c, PROC_PAUSE_EXITING))
		return exit_if(c, i, true, EXIT_REASON_PAUSE);
	if (c->cpl != 0 || !(proc2(c) & PROC2_PAUSE_LOOP_EXITING))
		return false;
	return exit_if(c, i, pause_loop_exits(c), EXIT_REASON_PAUSE);
}

/* Table 27-12: destination register in bits 6:3, operand size in 12:11. */
bool vmx_intercept_rdrand(struct cpu *c, const struct insn *i, bool seed)
{
	if (!(proc2(c) & (seed ? PROC2_RDSEED_EXITING : PROC2_RDRAND_EXITING)))
		return false;
	struct vmx_exit_info x = {
		.reason = seed ? EXIT_REASON_RDSEED : EXIT_REASON_RDRAND,
		.insn_len = i->len,
		.insn_info = (uint32_t)(i->rm & 15) << INFO_REG_SHIFT | (uint32_t)(i->osz - SZ16) << INFO_OSZ_SHIFT,
		.has_insn = true,
		.has_insn_info = true,
	};
	vmx_vmexit(c, &x);
	return true;
}

bool vmx_xsaves_enabled(struct cpu *c)
{
	return (proc2(c) & PROC2_XSAVES) != 0;
}

/* 25.1.3: exit when EDX:EAX & IA32_XSS & the XSS-exiting bitmap is not 0.
 * vtxsim implements no supervisor state component, so IA32_XSS is always
 * 0 and this never exits (reasons 63/64 cannot occur); the rule is kept
 * whole for when one is added. Qualification: the displacement (27.2.1);
 * instruction information: Table 27-13. */
bool vmx_intercept_xsaves(struct cpu *c, const struct insn *i, bool restore)
{
	uint64_t rfbm = (c->gpr[R_DX] << 32) | (uint32_t)c->gpr[R_AX];
	if (!(rfbm & c->msr.xss & vmcs_read(c, VF_XSS_EXIT_BITMAP)))
		return false;
	vmx_insn_exit(c, i, restore ? EXIT_REASON_XRSTORS : EXIT_REASON_XSAVES, INFO_MEM);
	return true;
}
