/* Checks on each entry of the VM-entry MSR-load area (SDM vol. 3C 26.4),
 * run once per entry by the loader with e->msr_n / msr_lo / msr_data
 * filled (vmx/entry.h). A failure is a VM-entry failure with exit reason
 * 34 and the entry's 1-based index as exit qualification. The last row
 * loads the MSR: WRMSR's own rules decide whether it would #GP. */
#include "vmx/entry_chk.h"

#include "cpu/msr.h"

static uint32_t msr_index(struct entry_ctx *e)
{
	e->index = e->msr_n;
	return (uint32_t)e->msr_lo;
}

static bool index_not(struct entry_ctx *e, bool bad)
{
	return verdict(e, !bad, e->msr_lo, e->msr_lo);
}

bool chk_MSRLOAD_FS_GS_BASE(struct entry_ctx *e)
{
	uint32_t m = msr_index(e);
	return index_not(e, m == MSR_IA32_FS_BASE || m == MSR_IA32_GS_BASE);
}

bool chk_MSRLOAD_X2APIC(struct entry_ctx *e)
{
	return index_not(e, (msr_index(e) >> 8) == 0x8);
}

/* IA32_SMM_MONITOR_CTL (9BH) is writable only in SMM, which vtxsim never
 * is in. */
bool chk_MSRLOAD_SMM_ONLY(struct entry_ctx *e)
{
	return index_not(e, msr_index(e) == 0x9b);
}

/* The microcode-update MSRs: loading them through the MSR-load area is
 * refused, as on the Intel processors vtxsim's models resemble. */
bool chk_MSRLOAD_MODEL_SPECIFIC(struct entry_ctx *e)
{
	uint32_t m = msr_index(e);
	return index_not(e, m == 0x79 || m == 0x8b);
}

bool chk_MSRLOAD_RSVD(struct entry_ctx *e)
{
	msr_index(e);
	return chk_rsvd(e, e->msr_lo, ~0xffffffffull);
}

bool chk_MSRLOAD_WRMSR_GP(struct entry_ctx *e)
{
	uint32_t m = msr_index(e);
	return verdict(e, cpu_msr_write(e->c, m, e->msr_data), e->msr_data, e->msr_lo);
}
