/* System instructions: control and debug registers (SDM vol. 3A 2.5, 2.6,
 * 4.10.4; vol. 2 MOV CR, MOV DR), CLTS/LMSW/SMSW, INVLPG, INVD/WBINVD,
 * SWAPGS, CPUID, RDMSR/WRMSR, RDTSC/RDTSCP/RDPID, RDRAND/RDSEED,
 * fences, PAUSE, CLFLUSH (FWAIT: cpu/fpu.c).
 */
#include "cpu/cpuid.h"
#include "cpu/debug.h"
#include "cpu/msr.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"
#include "cpu/probe.h"
#include "cpu/seg.h"

/* ---- control registers ---- */

#define CR0_WRITABLE (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | \
		      CR0_CD | CR0_PG)
#define CR4_ALWAYS 0xffffu      /* table sentinel: no CPUID feature needed */

/* Which CR4 bits exist, by the CPUID feature that reports them (SDM 2.5). */
static const struct { uint64_t bit; unsigned feat; } cr4_bits[] = {
	{ CR4_VME, FEAT_VME }, { CR4_PVI, FEAT_VME }, { CR4_TSD, FEAT_TSC }, { CR4_DE, FEAT_DE },
	{ CR4_PSE, FEAT_PSE }, { CR4_PAE, FEAT_PAE }, { CR4_MCE, FEAT_MCE }, { CR4_PGE, FEAT_PGE },
	{ CR4_PCE, CR4_ALWAYS }, { CR4_OSFXSR, FEAT_FXSR }, { CR4_OSXMMEXCPT, FEAT_SSE },
	{ CR4_UMIP, FEAT_UMIP }, { CR4_LA57, FEAT_LA57 }, { CR4_VMXE, FEAT_VMX },
	{ CR4_FSGSBASE, FEAT_FSGSBASE }, { CR4_PCIDE, FEAT_PCID }, { CR4_OSXSAVE, FEAT_XSAVE },
	{ CR4_SMEP, FEAT_SMEP }, { CR4_SMAP, FEAT_SMAP }, { CR4_PKE, FEAT_PKU },
};

uint64_t cpu_cr4_valid(const struct cpu *c)
{
	uint64_t ok = 0;
	for (unsigned k = 0; k < sizeof(cr4_bits) / sizeof(cr4_bits[0]); k++)
		if (cr4_bits[k].feat == CR4_ALWAYS || cpu_has(c, cr4_bits[k].feat))
			ok |= cr4_bits[k].bit;
	return ok;
}

/* The PCID translations are cached for: CR3[11:0] with CR4.PCIDE, else 0
 * (4.10.1). */
static uint16_t pcid_of(uint64_t cr3, uint64_t cr4)
{
	return (cr4 & CR4_PCIDE) ? (uint16_t)(cr3 & 0xfff) : 0;
}

/* PAE paging is in use with these register values (4.1.1, Table 4-1). */
static bool pae_paging(const struct cpu *c, uint64_t cr0, uint64_t cr4)
{
	return (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(c->efer & EFER_LME);
}

/* Load the PDPTE registers from the table at cr3 (4.4.1); false (the MOV
 * to CR is #GP(0), nothing changes) when a present PDPTE sets a reserved
 * bit. */
static bool load_pdptes(struct cpu *c, uint64_t cr3, uint64_t out[4])
{
	struct xlate_fault f;
	if (__builtin_expect(!c->xc.eptp, 1))
		return paging_load_pdptes(c->phys, cr3, c->model->phys_addr_bits, out);
	/* Non-root with EPT: CR3 is guest-physical; the read goes through EPT
	 * and may be an EPT violation or misconfiguration (SDM vol. 3C
	 * 29.3.3.2), which the MOV to CR reports instead of #GP. */
	switch (paging_load_pdptes_ctx(c->phys, &c->xc, cr3, out, &f)) {
	case PDPTE_OK:
		return true;
	case PDPTE_EPT_FAULT:
		cpu_page_fault(c, &f);
		return false;
	default:
		return false;
	}
}

/* Commit new control-register values whose TLB effects the caller already
 * applied: mirroring them into the translation context keeps
 * cpu_mode_changed from flushing the whole TLB. */
static void commit_paging(struct cpu *c, uint64_t cr0, uint64_t cr3, uint64_t cr4, const uint64_t pdpte[4])
{
	c->cr0 = c->xc.cr0 = cr0;
	c->cr3 = c->xc.cr3 = cr3;
	c->cr4 = c->xc.cr4 = cr4;
	for (unsigned k = 0; k < 4; k++)
		c->pdpte[k] = c->xc.pdpte[k] = pdpte[k];
	cpu_mode_changed(c);
}

/* Reserved bits 31:0 other than the flags are ignored and ET reads 1;
 * bits 63:32 must be 0; PG needs PE; NW needs CD; 64-bit mode cannot turn
 * paging off, nor can PCIDE=1; turning paging on with EFER.LME needs PAE
 * and activates IA-32e mode (vol. 2 MOV CR; 2.5; 9.8.5). Changing PG, CD or
 * NW into PAE paging loads the PDPTEs (4.4.1). A PG change invalidates
 * everything (4.10.4.1); so does a PE or WP change here, because the TLB
 * caches permission decisions that depend on them (allowed: 4.10.4.1). */
static bool write_cr0(struct cpu *c, uint64_t v)
{
	uint64_t pdpte[4] = { c->pdpte[0], c->pdpte[1], c->pdpte[2], c->pdpte[3] };
	if (v >> 32)
		return false;
	v = (v & CR0_WRITABLE) | CR0_ET;
	if (!vmx_cr0_write_ok(c, v))     /* fixed bits in VMX operation (SDM vol. 3C 23.8) */
		return false;
	if (((v & CR0_PG) && !(v & CR0_PE)) || ((v & CR0_NW) && !(v & CR0_CD)))
		return false;
	bool pg_on = (v & CR0_PG) && !(c->cr0 & CR0_PG), pg_off = !(v & CR0_PG) && (c->cr0 & CR0_PG);
	if (pg_off && (c->code64 || (c->cr4 & CR4_PCIDE)))
		return false;
	if (pg_on && (c->efer & EFER_LME) && !(c->cr4 & CR4_PAE))
		return false;
	if (((v ^ c->cr0) & (CR0_PG | CR0_CD | CR0_NW)) && pae_paging(c, v, c->cr4) && !load_pdptes(c, c->cr3, pdpte))
		return false;
	if (pg_on && (c->efer & EFER_LME))
		c->efer |= EFER_LMA;
	if (pg_off)
		c->efer &= ~EFER_LMA;
	if ((v ^ c->cr0) & (CR0_PG | CR0_PE | CR0_WP))
		tlb_flush_current(&c->tlb);     /* this VPID's (SDM vol. 3C 28.3.3.1) */
	commit_paging(c, v, c->cr3, c->cr4, pdpte);
	return true;
}

/* In IA-32e mode bits above MAXPHYADDR are reserved; with CR4.PCIDE, bit 63
 * asks not to invalidate the PCID's translations and is not stored. Other
 * loads invalidate the new PCID's non-global translations (PCID 0 without
 * PCIDE); global ones and other PCIDs' stay (4.10.4.1). Under PAE paging
 * the PDPTEs are loaded (4.4.1). */
static bool write_cr3(struct cpu *c, uint64_t v)
{
	uint64_t pdpte[4] = { c->pdpte[0], c->pdpte[1], c->pdpte[2], c->pdpte[3] };
	bool keep = false;
	if (c->cr4 & CR4_PCIDE) {
		keep = v >> 63;
		v &= ~(1ull << 63);
	}
	if (cpu_lma(c) && (v >> c->model->phys_addr_bits))
		return false;
	if (pae_paging(c, c->cr0, c->cr4) && !load_pdptes(c, v, pdpte))
		return false;
	uint16_t pcid = pcid_of(v, c->cr4);
	tlb_switch_pcid(&c->tlb, pcid);
	if (!keep)
		tlb_flush_pcid(&c->tlb, pcid);
	commit_paging(c, c->cr0, v, c->cr4, pdpte);
	return true;
}

/* Which TLB entries a CR4 change invalidates (4.10.4.1): everything when
 * PGE changes or PCIDE goes 1 -> 0; the current PCID's when PAE changes or
 * SMEP goes 0 -> 1 (done as everything: allowed). SMAP and PKE enter the
 * permission decisions the TLB caches, so their changes drop it too. */
static void cr4_tlb_effects(struct cpu *c, uint64_t old, uint64_t v)
{
	uint64_t changed = old ^ v;
	if ((changed & (CR4_PGE | CR4_PAE | CR4_SMAP | CR4_PKE | CR4_LA57)) ||
	    (changed & old & CR4_PCIDE) || (changed & v & CR4_SMEP))
		tlb_flush_current(&c->tlb);     /* this VPID's (SDM vol. 3C 28.3.3.1) */
}

/* Bits of features the model lacks are reserved; PAE cannot be cleared nor
 * LA57 changed in IA-32e mode; PCIDE can be set only in IA-32e mode with
 * CR3[11:0] = 0 (vol. 2 MOV CR). Changing PAE, PGE, PSE or SMEP into PAE
 * paging loads the PDPTEs (4.4.1). */
static bool write_cr4(struct cpu *c, uint64_t v)
{
	uint64_t pdpte[4] = { c->pdpte[0], c->pdpte[1], c->pdpte[2], c->pdpte[3] };
	uint64_t changed = v ^ c->cr4;
	if (v & ~cpu_cr4_valid(c))
		return false;
	if (!vmx_cr4_write_ok(c, v))     /* fixed bits in VMX operation (SDM vol. 3C 23.8) */
		return false;
	if (cpu_lma(c) && (!(v & CR4_PAE) || (changed & CR4_LA57)))
		return false;
	if ((changed & v & CR4_PCIDE) && (!cpu_lma(c) || (c->cr3 & 0xfff)))
		return false;
	if ((changed & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)) && pae_paging(c, c->cr0, v) &&
	    !load_pdptes(c, c->cr3, pdpte))
		return false;
	cr4_tlb_effects(c, c->cr4, v);
	c->tlb.pcid = pcid_of(c->cr3, v);       /* PCIDE 0 -> 1 needs PCID 0; 1 -> 0 flushed */
	commit_paging(c, c->cr0, c->cr3, v, pdpte);
	return true;
}

static bool cr_valid(const struct cpu *c, unsigned n)
{
	return n == 0 || n == 2 || n == 3 || n == 4 || (n == 8 && c->code64);
}

enum exec_status op_mov_Rd_Cd(struct cpu *c, const struct insn *i)
{
	static const uint8_t slot[9] = { 0, 0, 1, 2, 3, 0, 0, 0, 4 };
	if ((i->flags & IF_LOCK) || !cr_valid(c, i->reg))
		return cpu_ud(c);
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	uint64_t cr8 = c->apic ? c->apic->cr8_read(c->apic_opaque) : c->cr8;
	uint64_t v[5] = { c->cr0, c->cr2, c->cr3, c->cr4, cr8 }, val = v[slot[i->reg]];
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_mov_from_cr(c, i, &val))
		return EXEC_OK;
	reg_write(c, i->rm, i->osz, val);
	return EXEC_OK;
}

enum exec_status op_mov_Cd_Rd(struct cpu *c, const struct insn *i)
{
	if ((i->flags & IF_LOCK) || !cr_valid(c, i->reg))
		return cpu_ud(c);
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	uint64_t v = reg_read(c, i->rm, i->osz);
	bool ok = true;
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_mov_to_cr(c, i, &v))
		return EXEC_OK;
	switch (i->reg) {
	case 0: ok = write_cr0(c, v); break;
	case 2: c->cr2 = v; break;
	case 3: ok = write_cr3(c, v); break;
	case 4: ok = write_cr4(c, v); break;
	default:        /* CR8 = TPR[7:4] of the local APIC (SDM vol. 3A 10.8.6.1); bits 63:4 reserved */
		ok = (v & ~0xfull) == 0;
		if (ok && c->vmx.nonroot && vmx_tpr_shadow_write(c, v))
			break;          /* VTPR written (SDM vol. 3C 29.3) */
		if (ok) {
			c->cr8 = v;
			if (c->apic)
				c->apic->cr8_write(c->apic_opaque, (unsigned)v);
		}
		break;
	}
	if (ok)
		return EXEC_OK;
	return c->exc.vmexit ? EXEC_FAULT : cpu_gp0(c);  /* an EPT-induced exit loading PDPTEs (load_pdptes) */
}

enum exec_status op_clts(struct cpu *c, const struct insn *i)
{
	uint64_t cr0 = c->cr0 & ~(uint64_t)CR0_TS;
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_clts(c, i, &cr0))
		return EXEC_OK;
	if (!vmx_cr0_write_ok(c, cr0))
		return cpu_gp0(c);
	c->cr0 = cr0;
	return EXEC_OK;
}

/* LMSW loads PE, MP, EM and TS; it can set PE but not clear it (vol. 2 LMSW).
 * CLTS, LMSW and MOV to CR0/CR4 keep the VMX fixed bits (SDM vol. 3C 23.8). */
enum exec_status op_lmsw_Ew(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	if (!rm_read_sz(c, i, SZ16, &v))
		return EXEC_FAULT;
	uint64_t old = c->cr0, cr0 = (old & ~0xeull) | (v & 0xe) | ((old | v) & CR0_PE);
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_lmsw(c, i, (uint16_t)v, &cr0))
		return EXEC_OK;
	if (!vmx_cr0_write_ok(c, cr0))   /* fixed bits in VMX operation (SDM vol. 3C 23.8) */
		return cpu_gp0(c);
	c->cr0 = cr0;
	if ((old ^ c->cr0) & CR0_PE)
		cpu_mode_changed(c);
	return EXEC_OK;
}

/* SMSW: a register gets CR0 at the operand size, memory its low 16 bits.
 * With CR4.UMIP, #GP(0) at CPL > 0 (vol. 2 SMSW; vol. 3A 2.5). */
enum exec_status op_smsw_Ew(struct cpu *c, const struct insn *i)
{
	uint64_t cr0 = c->cr0;
	if (cpu_umip_denies(c))
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0))
		cr0 = vmx_cr0_guest_view(c);    /* SDM vol. 3C 25.3: read shadow */
	if (i->flags & IF_MOD3) {
		reg_write(c, i->rm, i->osz, cr0);
		return EXEC_OK;
	}
	return mem_write_seg(c, i->seg, insn_ea(c, i), 2, cr0 & 0xffff) ? EXEC_OK : EXEC_FAULT;
}

/* ---- debug registers (SDM 17.2) ---- */

/* MOV DR (vol. 2): DR8-DR15 do not exist (#UD); CPL > 0 is #GP(0); DR4/DR5
 * alias DR6/DR7 unless CR4.DE, then #UD (17.2.2); DR7.GD turns any access
 * into a #DB fault with DR6.BD (17.2.4). */
static enum exec_status dr_check(struct cpu *c, unsigned reg, unsigned *n)
{
	if (reg > 7)
		return cpu_ud(c);
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	if ((reg == 4 || reg == 5) && (c->cr4 & CR4_DE))
		return cpu_ud(c);
	if (c->dr[7] & DR7_GD)
		return cpu_debug_gd_fault(c);
	*n = reg == 4 || reg == 5 ? reg + 2 : reg;
	return EXEC_OK;
}

enum exec_status op_mov_Rd_Dd(struct cpu *c, const struct insn *i)
{
	unsigned n = 0;
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_mov_dr(c, i, true))
		return EXEC_OK;
	if (dr_check(c, i->reg, &n) != EXEC_OK)
		return EXEC_FAULT;
	reg_write(c, i->rm, i->osz, c->dr[n]);
	return EXEC_OK;
}

/* DR6: bits 4-11 and 16-31 read 1, bit 12 reads 0; DR7: bit 10 reads 1,
 * bits 11, 12, 14, 15 read 0 (17.2.3, 17.2.4; no RTM or bus-lock
 * detection). In 64-bit mode bits 63:32 of DR6/DR7 must be 0 (vol. 2 MOV
 * DR). A DR7 write changes which accesses are checked (cpu/debug.c); the
 * instruction ends its decoded block, so the next one sees it. */
enum exec_status op_mov_Dd_Rd(struct cpu *c, const struct insn *i)
{
	unsigned n = 0;
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_mov_dr(c, i, false))
		return EXEC_OK;
	if (dr_check(c, i->reg, &n) != EXEC_OK)
		return EXEC_FAULT;
	uint64_t v = reg_read(c, i->rm, i->osz);
	if (n >= 6 && (v >> 32))
		return cpu_gp0(c);
	if (n == 6)
		v = (v & DR6_WRITABLE) | DR6_FIXED1;
	else if (n == 7)
		v = (v & DR7_WRITABLE) | DR7_FIXED1;
	c->dr[n] = v;
	if (n == 7)
		cpu_debug_update(c);
	return EXEC_OK;
}

/* ---- TLB and cache control ---- */

/* INVLPG never faults on its operand: outside 64-bit mode the address is
 * segment base + offset (no limit check), in 64-bit mode a non-canonical
 * address makes it a no-op (vol. 2 INVLPG). It invalidates the page's
 * translations of the current PCID and global ones (4.10.4.1). */
enum exec_status op_invlpg_M(struct cpu *c, const struct insn *i)
{
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	uint64_t ea = insn_ea(c, i);
	uint64_t la = c->code64 ? ea + (i->seg >= SEG_FS ? c->seg[i->seg].base : 0)
				: (c->seg[i->seg].base + ea) & 0xffffffffull;
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_invlpg(c, i, la))
		return EXEC_OK;
	if (c->code64 && !cpu_canonical(c, la))
		return EXEC_OK;
	tlb_flush_page(&c->tlb, la);
	return EXEC_OK;
}

/* INVPCID r32/r64, m128 (vol. 2 INVPCID): type in the register (64 bits in
 * 64-bit mode), descriptor = PCID in bits 11:0, reserved 63:12, linear
 * address in 127:64. #GP(0) at CPL > 0, for a type above 3, reserved
 * descriptor bits, a non-canonical address (type 0), or a PCID other than
 * 0 with CR4.PCIDE = 0 (types 0 and 1). */
enum exec_status op_invpcid_Gy_Mdq(struct cpu *c, const struct insn *i)
{
	uint64_t desc_lo, la;
	if (!cpu_has(c, FEAT_INVPCID) || (c->vmx.nonroot && vmx_invpcid_ud(c)))
		return cpu_ud(c);       /* SDM vol. 3C 25.3: "enable INVPCID" = 0 */
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_invpcid(c, i))
		return EXEC_OK;
	uint64_t type = reg_read(c, i->reg, c->code64 ? SZ64 : SZ32), ea = insn_ea(c, i);
	if (type > 3)
		return cpu_gp0(c);
	if (!mem_read_seg(c, i->seg, ea, 8, &desc_lo) || !mem_read_seg(c, i->seg, (ea + 8) & addr_mask(i->asz), 8, &la))
		return EXEC_FAULT;
	uint16_t pcid = (uint16_t)(desc_lo & 0xfff);
	if ((desc_lo >> 12) || (type == 0 && !cpu_canonical(c, la)) ||
	    (type <= 1 && pcid != 0 && !(c->cr4 & CR4_PCIDE)))
		return cpu_gp0(c);
	switch (type) {
	case 0: tlb_flush_page_pcid(&c->tlb, la, pcid); break;
	case 1: tlb_flush_pcid(&c->tlb, pcid); break;
	case 2: tlb_flush_current(&c->tlb); break;
	default: tlb_flush_nonglobal(&c->tlb); break;
	}
	return EXEC_OK;
}

/* INVD exits unconditionally in VMX non-root operation, WBINVD with
 * "WBINVD exiting"; the CPL #GP comes first (SDM vol. 3C 25.1.1-25.1.3). */
enum exec_status op_invd(struct cpu *c, const struct insn *i)
{
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0))
		vmx_exit_insn(c, EXIT_REASON_INVD, i->len);
	return EXEC_OK;
}

enum exec_status op_wbinvd(struct cpu *c, const struct insn *i)
{
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0))
		vmx_intercept_wbinvd(c, i);
	return EXEC_OK;
}

/* CLFLUSH faults like a byte read of its operand but reads nothing (an MMIO
 * register must not see a read). */
enum exec_status op_clflush_Mb(struct cpu *c, const struct insn *i)
{
	uint64_t la, pa;
	struct xlate_fault f;
	if (!cpu_has(c, FEAT_CLFSH))
		return cpu_ud(c);
	if (!seg_linear(c, i->seg, insn_ea(c, i), 1, ACC_READ, &la))
		return EXEC_FAULT;
	struct mem_view mv = cpu_view(c);
	if (!mem_translate_probe(&mv, la, c->user ? ACC_USER : 0, &pa, &f)) {
		cpu_page_fault(c, &f);
		return EXEC_FAULT;
	}
	return EXEC_OK;
}

enum exec_status op_fence(struct cpu *c, const struct insn *i)
{
	(void)c;
	(void)i;
	return EXEC_OK;
}

/* PAUSE exiting and PAUSE-loop exiting (SDM vol. 3C 25.1.3). */
enum exec_status op_pause(struct cpu *c, const struct insn *i)
{
	if (__builtin_expect(c->vmx.nonroot, 0))
		vmx_intercept_pause(c, i);
	return EXEC_OK;
}

/* ---- SWAPGS, CPUID, MSRs ---- */

enum exec_status op_swapgs(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (c->cpl != 0)
		return cpu_gp0(c);
	uint64_t t = c->seg[SEG_GS].base;
	c->seg[SEG_GS].base = c->msr.kernel_gs_base;
	c->msr.kernel_gs_base = t;
	return EXEC_OK;
}

/* ---- SMAP and protection keys ---- */

/* STAC/CLAC: #UD without SMAP or at CPL > 0 (vol. 2 STAC, CLAC). AC picks
 * the supervisor TLB class (mem/tlb.h), so no flush is needed. */
static enum exec_status set_ac(struct cpu *c, bool on)
{
	if (!cpu_has(c, FEAT_SMAP) || c->cpl != 0)
		return cpu_ud(c);
	/* Through cpu_set_rflags: AC also picks the SMAP TLB class and arms
	 * alignment checking (cpu/debug.c). */
	uint64_t fl = cpu_get_rflags(c);
	cpu_set_rflags(c, on ? fl | FL_AC : fl & ~(uint64_t)FL_AC);
	return EXEC_OK;
}

enum exec_status op_clac(struct cpu *c, const struct insn *i)
{
	(void)i;
	return set_ac(c, false);
}

enum exec_status op_stac(struct cpu *c, const struct insn *i)
{
	(void)i;
	return set_ac(c, true);
}

void cpu_set_pkru(struct cpu *c, uint32_t v)
{
	tlb_pkru_changed(&c->tlb, c->pkru, v);
	c->pkru = c->xc.pkru = v;
}

/* RDPKRU/WRPKRU: #UD with CR4.PKE = 0; #GP(0) when ECX (and, for WRPKRU,
 * EDX) is not 0; any CPL (vol. 2 RDPKRU, WRPKRU). */
enum exec_status op_rdpkru(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (!(c->cr4 & CR4_PKE))
		return cpu_ud(c);
	if ((uint32_t)c->gpr[R_CX])
		return cpu_gp0(c);
	reg_write(c, R_AX, SZ32, c->pkru);
	reg_write(c, R_DX, SZ32, 0);
	return EXEC_OK;
}

enum exec_status op_wrpkru(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (!(c->cr4 & CR4_PKE))
		return cpu_ud(c);
	if ((uint32_t)c->gpr[R_CX] || (uint32_t)c->gpr[R_DX])
		return cpu_gp0(c);
	cpu_set_pkru(c, (uint32_t)c->gpr[R_AX]);
	return EXEC_OK;
}

static void write_edx_eax(struct cpu *c, uint64_t v)
{
	reg_write(c, R_AX, SZ32, (uint32_t)v);
	reg_write(c, R_DX, SZ32, v >> 32);
}

enum exec_status op_cpuid(struct cpu *c, const struct insn *i)
{
	uint32_t r[4];
	if (c->vmx.nonroot) {   /* SDM vol. 3C 25.1.2: CPUID exits unconditionally */
		vmx_exit_insn(c, EXIT_REASON_CPUID, i->len);
		return EXEC_OK;
	}
	cpu_cpuid(c, (uint32_t)c->gpr[R_AX], (uint32_t)c->gpr[R_CX], r);
	reg_write(c, R_AX, SZ32, r[0]);
	reg_write(c, R_BX, SZ32, r[1]);
	reg_write(c, R_CX, SZ32, r[2]);
	reg_write(c, R_DX, SZ32, r[3]);
	return EXEC_OK;
}

/* RDMSR/WRMSR: the CPL #GP comes before the VM exit; the exit comes
 * before the #GP of a missing MSR or a bad value (SDM vol. 3C 25.1.1). */
enum exec_status op_rdmsr(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_msr(c, i, false))
		return EXEC_OK;
	/* "virtualize x2APIC mode" (SDM vol. 3C 29.5) */
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_x2apic_rdmsr(c, (uint32_t)c->gpr[R_CX], &v) == VMX_MSR_DONE) {
		write_edx_eax(c, v);
		return EXEC_OK;
	}
	if (!cpu_msr_read(c, (uint32_t)c->gpr[R_CX], &v))
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0) && (uint32_t)c->gpr[R_CX] == MSR_IA32_TSC)
		v = vmx_guest_tsc(c, v);        /* SDM vol. 3C 25.3 RDMSR */
	write_edx_eax(c, v);
	cpu_probe_msr(c, (uint32_t)c->gpr[R_CX], false, v);
	return EXEC_OK;
}

enum exec_status op_wrmsr(struct cpu *c, const struct insn *i)
{
	uint64_t v = (c->gpr[R_DX] << 32) | (uint32_t)c->gpr[R_AX];
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_msr(c, i, true))
		return EXEC_OK;
	if (__builtin_expect(c->vmx.nonroot, 0)) {     /* "virtualize x2APIC mode" (SDM vol. 3C 29.5) */
		enum vmx_msr_virt r = vmx_x2apic_wrmsr(c, (uint32_t)c->gpr[R_CX], v);
		if (r != VMX_MSR_NORMAL)
			return r == VMX_MSR_GP ? cpu_gp0(c) : EXEC_OK;
	}
	if (!cpu_msr_write(c, (uint32_t)c->gpr[R_CX], v))
		return cpu_gp0(c);
	cpu_probe_msr(c, (uint32_t)c->gpr[R_CX], true, v);
	return EXEC_OK;
}

/* ---- time stamp counter and random numbers ---- */

/* CR4.TSD restricts RDTSC/RDTSCP to CPL 0 (vol. 2 RDTSC). */
static bool tsc_readable(const struct cpu *c)
{
	return !(c->cr4 & CR4_TSD) || cpu_supervisor(c);
}

/* In VMX non-root operation "RDTSC exiting" exits after the CR4.TSD #GP,
 * and the TSC offset and multiplier apply (SDM vol. 3C 25.1.3, 25.3). */
enum exec_status op_rdtsc(struct cpu *c, const struct insn *i)
{
	uint64_t tsc = c->cycles + c->tsc_offset;
	if (!tsc_readable(c))
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_rdtsc(c, i, false, &tsc))
		return EXEC_OK;
	write_edx_eax(c, tsc);
	return EXEC_OK;
}

/* "Enable RDTSCP" = 0 makes RDTSCP #UD in non-root, before anything else
 * (SDM vol. 3C 25.3). */
enum exec_status op_rdtscp(struct cpu *c, const struct insn *i)
{
	uint64_t tsc = c->cycles + c->tsc_offset;
	if (!cpu_has(c, FEAT_RDTSCP) || (c->vmx.nonroot && vmx_rdtscp_ud(c)))
		return cpu_ud(c);
	if (!tsc_readable(c))
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_rdtsc(c, i, true, &tsc))
		return EXEC_OK;
	write_edx_eax(c, tsc);
	reg_write(c, R_CX, SZ32, (uint32_t)c->msr.tsc_aux);
	return EXEC_OK;
}

/* RDPMC (vol. 2): #GP(0) at CPL > 0 unless CR4.PCE. vtxsim models no
 * performance-monitoring counters: past that rule and the VM exit of "RDPMC
 * exiting" (SDM vol. 3C 25.1.3) the instruction is #UD, as it was before
 * this handler existed. */
enum exec_status op_rdpmc(struct cpu *c, const struct insn *i)
{
	if (!(c->cr4 & CR4_PCE) && !cpu_supervisor(c))
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_rdpmc(c, i))
		return EXEC_OK;
	return cpu_ud(c);
}

/* RDPID writes IA32_TSC_AUX to r64 in 64-bit mode, r32 elsewhere. */
enum exec_status op_rdpid_Rq(struct cpu *c, const struct insn *i)
{
	if (!cpu_has(c, FEAT_RDPID))
		return cpu_ud(c);
	reg_write(c, i->rm, c->code64 ? SZ64 : SZ32, (uint32_t)c->msr.tsc_aux);
	return EXEC_OK;
}

/* SplitMix64 over c->rng_state: deterministic, seeded by the machine. */
static uint64_t rng_next(struct cpu *c)
{
	uint64_t z = (c->rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A random value is always available: CF = 1, OF/SF/ZF/AF/PF = 0 (vol. 2
 * RDRAND, RDSEED). In VMX non-root operation "RDRAND/RDSEED exiting" after
 * the #UD (SDM vol. 3C 25.1.3). */
static enum exec_status rand_insn(struct cpu *c, const struct insn *i, unsigned feat)
{
	if (!cpu_has(c, feat))
		return cpu_ud(c);
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_rdrand(c, i, feat == FEAT_RDSEED))
		return EXEC_OK;
	reg_write(c, i->rm, i->osz, rng_next(c));
	lf_set_flags(c, FL_CF);
	return EXEC_OK;
}

enum exec_status op_rdrand_Rv(struct cpu *c, const struct insn *i)
{
	return rand_insn(c, i, FEAT_RDRAND);
}

enum exec_status op_rdseed_Rv(struct cpu *c, const struct insn *i)
{
	return rand_insn(c, i, FEAT_RDSEED);
}
