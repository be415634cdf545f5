/* MSR reads, writes and reset values, driven by cpu/msrs.def. Rules are
 * those of SDM vol. 4, Table 2-2, unless a comment cites otherwise. */
#include "cpu/msr.h"

#include "cpu/cpuid.h"
#include "cpu/xsave.h"
#include "mem/tlb.h"

#define FEAT_ANY 0xffffu

static bool present(const struct cpu *c, unsigned feat)
{
	return feat == FEAT_ANY || cpu_has(c, feat);
}

static bool canonical(const struct cpu *c, uint64_t v)
{
	unsigned bits = c->model->lin_addr_bits;
	return (uint64_t)((int64_t)(v << (64 - bits)) >> (64 - bits)) == v;
}

/* Bits at and above the model's physical-address width. */
static uint64_t phys_rsvd(const struct cpu *c)
{
	return ~((1ull << c->model->phys_addr_bits) - 1);
}

/* ---- value checks of MSR_FIELD rows ---- */

static bool chk_any(struct cpu *c, uint64_t v)
{
	(void)c;
	(void)v;
	return true;
}

static bool chk_low32(struct cpu *c, uint64_t v)
{
	(void)c;
	return (v >> 32) == 0;
}

static bool chk_canonical(struct cpu *c, uint64_t v)
{
	return canonical(c, v);
}

/* BSP (8), global enable (11), base (12 .. MAXPHYADDR-1); x2APIC enable
 * (10) only with x2APIC (SDM vol. 3A 10.4.4, Figure 10-5). */
static bool chk_apic_base(struct cpu *c, uint64_t v)
{
	uint64_t ok = APIC_BASE_BSP | APIC_BASE_EN | (~phys_rsvd(c) & ~0xfffull);
	if (cpu_has(c, FEAT_X2APIC))
		ok |= APIC_BASE_EXTD;
	return (v & ~ok) == 0;
}

/* Once the lock bit is set, WRMSR faults until reset (SDM vol. 3C 23.7;
 * vol. 4 Table 2-2, MSR 3AH). "Enable VMX outside SMX" (bit 2) exists only
 * with VMX; "enable VMX inside SMX" (bit 1) needs SMX as well, which no
 * model has, so it is reserved; so are the SENTER, SGX and LMCE bits. */
static bool chk_feature_control(struct cpu *c, uint64_t v)
{
	uint64_t ok = FEATURE_CONTROL_LOCK;
	if (c->msr.feature_control & FEATURE_CONTROL_LOCK)
		return false;
	if (cpu_has(c, FEAT_VMX))
		ok |= FEATURE_CONTROL_VMX;
	return (v & ~ok) == 0;
}

static bool chk_spec_ctrl(struct cpu *c, uint64_t v)
{
	uint64_t ok = 1;        /* IBRS */
	if (cpu_has(c, FEAT_STIBP))
		ok |= 2;
	if (cpu_has(c, FEAT_SSBD))
		ok |= 4;
	return (v & ~ok) == 0;
}

/* Writable: fast strings (0), automatic thermal control (3), ENABLE
 * MONITOR FSM (18) where the model has MONITOR, limit CPUID maxval (22),
 * xTPR disable (23). The rest is read-only here: a write must leave it
 * unchanged (bit 18 on a model without MONITOR: "writing this bit ... may
 * generate a #GP", SDM vol. 4 Table 2-2). */
static bool chk_misc_enable(struct cpu *c, uint64_t v)
{
	uint64_t rw = (1ull << 0) | (1ull << 3) | MISC_ENABLE_LIMIT_CPUID | (1ull << 23);
	if (cpu_model_has(c->model, FEAT_MONITOR))
		rw |= MISC_ENABLE_MONITOR;
	return ((v ^ c->msr.misc_enable) & ~rw) == 0;
}

/* Memory types valid in PAT entries and MTRRs: UC 0, WC 1, WT 4, WP 5, WB 6
 * (SDM vol. 3A 11.3, Table 11-2); PAT also allows UC- 7 (11.12.2). */
static bool mem_type_ok(uint64_t t, bool pat)
{
	return t == 0 || t == 1 || (t >= 4 && t <= 6) || (pat && t == 7);
}

static bool chk_pat(struct cpu *c, uint64_t v)
{
	(void)c;
	for (unsigned k = 0; k < 8; k++)
		if (!mem_type_ok((v >> (8 * k)) & 0xff, true))
			return false;
	return true;
}

/* Default type 7:0, fixed-range enable 10 (no fixed ranges: reserved here),
 * MTRR enable 11 (SDM vol. 3A 11.11.2.1). */
static bool chk_mtrr_def_type(struct cpu *c, uint64_t v)
{
	(void)c;
	return (v & ~0x8ffull) == 0 && mem_type_ok(v & 0xff, false);
}

/* A bit may be set only if CPUID.(0DH,1):EDX:ECX reports it as a
 * supervisor state component (SDM vol. 1 13.3). */
static bool chk_xss(struct cpu *c, uint64_t v)
{
	return (v & ~xsave_supported_xss(c)) == 0;
}

/* IA32_DEBUGCTL (SDM vol. 4 Table 2-2, vol. 3B 17.4.1): LBR (0) and BTF
 * (1) exist on every Intel 64 processor; TR/BTS/BTINT/BTS_OFF_OS/
 * BTS_OFF_USR (10:6) need the debug store (CPUID.1:EDX.DS), the freeze
 * bits (12:11) PDCM and architectural performance monitoring version 2,
 * FREEZE_WHILE_SMM (14) IA32_PERF_CAPABILITIES[12], RTM_DEBUG (15) RTM;
 * 13 is model-specific and 5:2, 63:16 are reserved. No model has DS, PDCM,
 * perfmon or RTM, so LBR and BTF are the valid bits everywhere. vtxsim
 * keeps them but models neither last-branch records nor single-step on
 * branches: setting them draws a warning. */
uint64_t cpu_debugctl_valid(const struct cpu *c)
{
	(void)c;
	return DEBUGCTL_LBR | DEBUGCTL_BTF;
}

static bool chk_debugctl(struct cpu *c, uint64_t v)
{
	if (v & ~cpu_debugctl_valid(c))
		return false;
	if (v & ~c->msr.debugctl)
		cpu_warn(c, "IA32_DEBUGCTL = %#llx: LBR (last-branch records) and BTF (single-step on branches) "
			 "are kept but not modelled", (unsigned long long)v);
	return true;
}

/* IA32_PERF_GLOBAL_CTRL (vol. 4 Table 2-2, vol. 3B 18.2.2): one enable per
 * general-purpose counter (CPUID.0AH:EAX[15:8] of them, bits from 0) and,
 * from perfmon version 2, per fixed counter (CPUID.0AH:EDX[4:0], bits from
 * 32). Every model reports leaf 0AH as zeros (no counters), so no bit is
 * valid: the MSR reads 0 and accepts only 0. A real CPU without
 * architectural perfmon has no such MSR; vtxsim keeps it so that the VMX
 * controls that load it (26.3.2.1, 27.5.1) have a register to load. */
uint64_t cpu_perf_global_valid(const struct cpu *c)
{
	uint32_t r[4] = { 0 };
	if (c->model->max_leaf >= 0xa)
		cpu_cpuid(c, 0xa, 0, r);
	unsigned version = r[0] & 0xff, gp = (r[0] >> 8) & 0xff, fixed = version > 1 ? r[3] & 0x1f : 0;
	if (version == 0)
		return 0;
	return (gp >= 32 ? 0xffffffffull : (1ull << gp) - 1) | (((1ull << fixed) - 1) << 32);
}

static bool chk_perf_global_ctrl(struct cpu *c, uint64_t v)
{
	return (v & ~cpu_perf_global_valid(c)) == 0;
}

/* IA32_BNDCFGS: EN (0), BNDPRESERVE (1), bits 11:2 reserved, the bound
 * directory base (63:12) canonical (SDM vol. 1 17.3.3; WRMSR #GP(0)
 * otherwise). */
static bool chk_bndcfgs(struct cpu *c, uint64_t v)
{
	return !(v & 0xffcull) && canonical(c, v & ~0xfffull);
}

/* ---- MSR_FN rows ---- */

static uint64_t tsc_now(const struct cpu *c)
{
	return c->cycles + c->tsc_offset;
}

/* An armed TSC deadline compares against the TSC (SDM vol. 3A 10.5.4.1), so
 * when software moves the TSC the local APIC must re-time its timer: write
 * the deadline back and the APIC measures it against the new TSC (a
 * deadline now in the past fires at once). */
static void tsc_moved(struct cpu *c)
{
	uint64_t deadline = 0;

	if (c->apic && c->apic->msr_read(c->apic_opaque, MSR_IA32_TSC_DEADLINE, &deadline) && deadline)
		c->apic->msr_write(c->apic_opaque, MSR_IA32_TSC_DEADLINE, deadline);
}

/* A write to the TSC adds the same delta to IA32_TSC_ADJUST, and a write to
 * IA32_TSC_ADJUST adds its delta to the TSC (SDM vol. 3B 17.17.3). */
static uint64_t rd_tsc(struct cpu *c)
{
	return tsc_now(c);
}

static bool wr_tsc(struct cpu *c, uint64_t v)
{
	uint64_t delta = v - tsc_now(c);
	c->tsc_offset += delta;
	c->msr.tsc_adjust += delta;
	tsc_moved(c);
	return true;
}

static uint64_t rd_tsc_adjust(struct cpu *c)
{
	return c->msr.tsc_adjust;
}

static bool wr_tsc_adjust(struct cpu *c, uint64_t v)
{
	c->tsc_offset += v - c->msr.tsc_adjust;
	c->msr.tsc_adjust = v;
	tsc_moved(c);
	return true;
}

/* No variable ranges, no fixed ranges, no WC, no SMRR (SDM vol. 3A
 * 11.11.1, Figure 11-5). */
static uint64_t rd_mtrrcap(struct cpu *c)
{
	(void)c;
	return 0;
}

static bool wr_read_only(struct cpu *c, uint64_t v)
{
	(void)c;
	(void)v;
	return false;
}

static uint64_t rd_efer(struct cpu *c)
{
	return c->efer;
}

/* SCE, LME and NXE exist when the model reports SYSCALL, LM and NX; LMA is
 * read-only (writes keep it); changing LME with paging on is #GP(0) (SDM
 * vol. 3A 9.8.5). */
static bool wr_efer(struct cpu *c, uint64_t v)
{
	uint64_t ok = EFER_LMA;
	if (cpu_has(c, FEAT_SYSCALL))
		ok |= EFER_SCE;
	if (cpu_has(c, FEAT_LM))
		ok |= EFER_LME;
	if (cpu_has(c, FEAT_NX))
		ok |= EFER_NXE;
	if (v & ~ok)
		return false;
	if ((c->cr0 & CR0_PG) && ((v ^ c->efer) & EFER_LME))
		return false;
	v = (v & ~EFER_LMA) | (c->efer & EFER_LMA);
	if ((v ^ c->efer) & EFER_NXE)
		tlb_flush_current(&c->tlb);     /* cached translations know NX */
	c->efer = v;
	cpu_mode_changed(c);
	return true;
}

static uint64_t rd_fs_base(struct cpu *c)
{
	return c->seg[SEG_FS].base;
}

static bool wr_fs_base(struct cpu *c, uint64_t v)
{
	if (!canonical(c, v))
		return false;
	c->seg[SEG_FS].base = v;
	return true;
}

static uint64_t rd_gs_base(struct cpu *c)
{
	return c->seg[SEG_GS].base;
}

static bool wr_gs_base(struct cpu *c, uint64_t v)
{
	if (!canonical(c, v))
		return false;
	c->seg[SEG_GS].base = v;
	return true;
}

/* IA32_TSC_DEADLINE lives in the local APIC (SDM vol. 3A 10.5.4.1); with no
 * APIC attached it reads 0 and ignores writes. */
static uint64_t rd_tsc_deadline(struct cpu *c)
{
	uint64_t v = 0;
	if (c->apic)
		c->apic->msr_read(c->apic_opaque, MSR_IA32_TSC_DEADLINE, &v);
	return v;
}

static bool wr_tsc_deadline(struct cpu *c, uint64_t v)
{
	return !c->apic || c->apic->msr_write(c->apic_opaque, MSR_IA32_TSC_DEADLINE, v);
}

/* The MSRs the local APIC owns: IA32_APIC_BASE (its checks and mode
 * transitions, 10.4.4, 10.12.5) and the x2APIC registers 800H-8FFH
 * (10.12.1.2). Without an APIC the base is a plain field. */
static bool apic_owns(const struct cpu *c, uint32_t msr)
{
	return c->apic && (msr == MSR_IA32_APIC_BASE || (msr >= 0x800 && msr <= 0x8ff));
}

/* ---- the table ---- */

bool cpu_msr_read(struct cpu *c, uint32_t msr, uint64_t *v)
{
	if (apic_owns(c, msr))
		return present(c, FEAT_APIC) && c->apic->msr_read(c->apic_opaque, msr, v);
	switch (msr) {
#define MSR_FIELD(idx, nm, feat, field, reset, check) \
	case idx: if (!present(c, feat)) return false; *v = c->msr.field; return true;
#define MSR_FN(idx, nm, feat, rd, wr) \
	case idx: if (!present(c, feat)) return false; *v = rd(c); return true;
#define MSR_VMX_CAP(idx, nm) case idx: return vmx_cap_msr(c, idx, v);
#include "cpu/msrs.def"
#undef MSR_FIELD
#undef MSR_FN
#undef MSR_VMX_CAP
	default:
		return false;
	}
}

bool cpu_msr_write(struct cpu *c, uint32_t msr, uint64_t v)
{
	if (apic_owns(c, msr)) {
		if (!present(c, FEAT_APIC) || !c->apic->msr_write(c->apic_opaque, msr, v))
			return false;
		if (msr == MSR_IA32_APIC_BASE)
			c->apic->msr_read(c->apic_opaque, msr, &c->msr.apic_base);
		return true;
	}
	switch (msr) {
#define MSR_FIELD(idx, nm, feat, field, reset, check) \
	case idx: if (!present(c, feat) || !check(c, v)) return false; c->msr.field = v; return true;
#define MSR_FN(idx, nm, feat, rd, wr) \
	case idx: return present(c, feat) && wr(c, v);
#define MSR_VMX_CAP(idx, nm) case idx: return false;    /* read-only (SDM vol. 3C Appendix A) */
#include "cpu/msrs.def"
#undef MSR_FIELD
#undef MSR_FN
#undef MSR_VMX_CAP
	default:
		return false;
	}
}

void cpu_msr_reset(struct cpu *c)
{
#define MSR_FIELD(idx, nm, feat, field, reset, check) c->msr.field = reset;
#define MSR_FN(idx, nm, feat, rd, wr)
#define MSR_VMX_CAP(idx, nm)
#include "cpu/msrs.def"
#undef MSR_FIELD
#undef MSR_FN
#undef MSR_VMX_CAP
	/* ENABLE MONITOR FSM is set by default where MONITOR exists. */
	if (!cpu_model_has(c->model, FEAT_MONITOR))
		c->msr.misc_enable &= ~MISC_ENABLE_MONITOR;
	/* The BSP flag marks processor 0 (SDM vol. 3A 10.4.4). */
	if (c->id == 0)
		c->msr.apic_base |= APIC_BASE_BSP;
	c->msr.tsc_adjust = 0;
	c->efer = 0;
	c->tsc_offset = 0 - c->cycles;  /* the TSC restarts from 0 (SDM vol. 3B 17.17) */
}

const char *cpu_msr_name(uint32_t msr)
{
	switch (msr) {
#define MSR_FIELD(idx, nm, feat, field, reset, check) case idx: return #nm;
#define MSR_FN(idx, nm, feat, rd, wr) case idx: return #nm;
#define MSR_VMX_CAP(idx, nm) case idx: return #nm;
#include "cpu/msrs.def"
#undef MSR_FIELD
#undef MSR_FN
#undef MSR_VMX_CAP
	default:
		return NULL;
	}
}
