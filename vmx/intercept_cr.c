/* VMX non-root operation for control registers, MOV DR, the
 * descriptor-table instructions, INVLPG/INVPCID, RDTSC/RDTSCP/RDPMC and the
 * TSC (SDM vol. 3C, the edition whose non-root chapter is 25): which
 * executions exit (25.1.3), how those that do not are changed (25.3: read
 * shadows, guest/host masks, TSC offset and multiplier, "enable RDTSCP",
 * "enable INVPCID"), the TPR shadow for CR8 (29.3, 29.1.2) and the exit
 * information (27.2.1 Tables 27-3 and 27-4, 27.2.4 Tables 27-10 and 27-11,
 * 27.2.5). cpu/ calls the entry points (vmx/vmx.h) in non-root operation
 * only, after the exceptions that take priority (25.1.1).
 */
#include "vmx/intercept_cr.h"

#include "cpu/cpu.h"
#include "vmx/caps.h"
#include "vmx/exit.h"
#include "vmx/insn_impl.h"
#include "vmx/vmcs.h"

_Static_assert(VF_CR3_TARGET_VALUE3 - VF_CR3_TARGET_VALUE0 == 3, "CR3-target value rows are consecutive");

#define VTPR_OFFSET 0x80u               /* VTPR: bytes 83H:80H of the virtual-APIC page (29.1.1) */
#define CR3_TARGETS_MAX 4u              /* 24.6.7; more is a VM-entry failure (26.2.1.1) */
#define QUAL_CR_TYPE_SHIFT 4
#define QUAL_CR_LMSW_MEM (1u << 6)
#define QUAL_GPR_SHIFT 8
#define QUAL_LMSW_SRC_SHIFT 16
#define QUAL_DR_FROM (1u << 4)
#define INFO_DT_OSZ32 (1u << 11)        /* Table 27-10: 0 = 16-bit, 1 = 32-bit operand size */
#define INFO_DT_IDENTITY_SHIFT 28

/* ---- pure encoders (vmx/intercept_cr.h) ---- */

uint64_t vmx_cr_qual(unsigned cr, enum vmx_cr_access type, unsigned gpr, bool lmsw_mem, uint16_t lmsw_src)
{
	uint64_t q = (uint64_t)(cr & 15) | (uint64_t)type << QUAL_CR_TYPE_SHIFT;
	if (type == CR_ACCESS_LMSW)
		return q | (lmsw_mem ? QUAL_CR_LMSW_MEM : 0) | (uint64_t)lmsw_src << QUAL_LMSW_SRC_SHIFT;
	if (type == CR_ACCESS_CLTS)
		return q;
	return q | (uint64_t)(gpr & 15) << QUAL_GPR_SHIFT;
}

uint64_t vmx_dr_qual(unsigned dr, bool from, unsigned gpr)
{
	return (uint64_t)(dr & 7) | (from ? QUAL_DR_FROM : 0) | (uint64_t)(gpr & 15) << QUAL_GPR_SHIFT;
}

uint32_t vmx_dt_info(const struct insn *i, enum vmx_dt_insn which)
{
	uint32_t v = (uint32_t)(which & 3) << INFO_DT_IDENTITY_SHIFT;
	if (which >= VMX_DT_SLDT && (i->flags & IF_MOD3))
		return v | INFO_REG_OPERAND | (uint32_t)(i->rm & 15) << INFO_REG1_SHIFT;
	v |= vmx_insn_mem_info(i);
	if (which < VMX_DT_SLDT && i->osz != SZ16)
		v |= INFO_DT_OSZ32;     /* undefined in 64-bit mode: reported as 32 */
	return v;
}

uint64_t vmx_tsc_adjust(uint64_t tsc, bool scale, uint64_t multiplier, uint64_t offset)
{
	if (scale)
		tsc = (uint64_t)(((unsigned __int128)tsc * multiplier) >> 48);
	return tsc + offset;
}

/* ---- controls ---- */

/* vmcs_read only reads guest-physical memory; the const rules of the
 * callers (vmx_cr0_write_ok) are kept. */
static uint64_t field(const struct cpu *c, enum vmcs_field f)
{
	return vmcs_read((struct cpu *)c, f);
}

static uint32_t proc_ctls(const struct cpu *c)
{
	return (uint32_t)field(c, VF_PROC_CONTROLS);
}

/* 24.6.2: with "activate secondary controls" = 0 the processor acts as if
 * every secondary control were 0. */
static uint32_t proc2_ctls(const struct cpu *c)
{
	return (proc_ctls(c) & PROC_SECONDARY_CTLS) ? (uint32_t)field(c, VF_PROC2_CONTROLS) : 0;
}

/* An exit caused by instruction i with qualification qual (27.2.1) and its
 * length (27.2.5); GUEST_RIP = the instruction (27.3.3). */
static bool insn_exit(struct cpu *c, const struct insn *i, enum vmx_exit_reason reason, uint64_t qual)
{
	struct vmx_exit_info x = { .reason = reason, .qual = qual, .insn_len = i->len, .has_insn = true };
	vmx_vmexit(c, &x);
	return true;
}

static bool cr_exit(struct cpu *c, const struct insn *i, uint64_t qual)
{
	return insn_exit(c, i, EXIT_REASON_CR_ACCESS, qual);
}

/* ---- CR0 and CR4: guest/host masks and read shadows ---- */

static bool cr0_or_4(unsigned cr)
{
	return cr == 0 || cr == 4;
}

static uint64_t cr_mask(const struct cpu *c, unsigned cr)
{
	return field(c, cr == 0 ? VF_CR0_GUEST_HOST_MASK : VF_CR4_GUEST_HOST_MASK);
}

static uint64_t cr_shadow(const struct cpu *c, unsigned cr)
{
	return field(c, cr == 0 ? VF_CR0_READ_SHADOW : VF_CR4_READ_SHADOW);
}

/* 25.3 MOV from CR0/CR4, SMSW: host-owned bits read from the shadow. */
static uint64_t guest_view(const struct cpu *c, unsigned cr, uint64_t v)
{
	uint64_t mask = cr_mask(c, cr);
	return (v & ~mask) | (cr_shadow(c, cr) & mask);
}

uint64_t vmx_cr0_guest_view(struct cpu *c)
{
	return guest_view(c, 0, c->cr0);
}

/* 25.3 MOV to CR0/CR4: "causes a general-protection exception if it
 * attempts to set any bit (not corresponding to a bit set in the guest/host
 * mask) to a value not supported in VMX operation" (23.8 fixed bits); with
 * "unrestricted guest", CR0.PE and CR0.PG may be 0 (26.3.1.1). */
static bool fixed_ok(uint64_t v, uint64_t fixed0, uint64_t fixed1, uint64_t mask)
{
	return (((~v & fixed0) | (v & ~fixed1)) & ~mask) == 0;
}

bool vmx_nonroot_cr0_ok(const struct cpu *c, uint64_t cr0)
{
	uint64_t fixed0 = vmx_cr0_fixed0(c);
	if (proc2_ctls(c) & PROC2_UNRESTRICTED)
		fixed0 &= ~(uint64_t)(CR0_PE | CR0_PG);
	return fixed_ok(cr0, fixed0, vmx_cr0_fixed1(c), cr_mask(c, 0));
}

bool vmx_nonroot_cr4_ok(const struct cpu *c, uint64_t cr4)
{
	return fixed_ok(cr4, vmx_cr4_fixed0(c), vmx_cr4_fixed1(c), cr_mask(c, 4));
}

/* ---- CR3 and CR8 ---- */

/* 25.1.3 MOV to CR3: no exit when the source equals one of the first
 * CR3_TARGET_COUNT target values. */
static bool cr3_target_hit(struct cpu *c, uint64_t v)
{
	uint32_t n = (uint32_t)vmcs_read(c, VF_CR3_TARGET_COUNT);
	for (uint32_t k = 0; k < n && k < CR3_TARGETS_MAX; k++)
		if (vmcs_read(c, (enum vmcs_field)(VF_CR3_TARGET_VALUE0 + k)) == v)
			return true;
	return false;
}

static uint64_t vtpr_addr(struct cpu *c)
{
	return vmcs_read(c, VF_VIRTUAL_APIC_ADDR) + VTPR_OFFSET;
}

bool vmx_intercept_mov_to_cr(struct cpu *c, const struct insn *i, uint64_t *v)
{
	unsigned cr = i->reg;
	uint32_t proc = proc_ctls(c);
	bool exit;
	if (cr0_or_4(cr)) {
		uint64_t mask = cr_mask(c, cr);
		exit = ((*v ^ cr_shadow(c, cr)) & mask) != 0;
		if (!exit)      /* 25.3: host-owned bits keep their values */
			*v = (*v & ~mask) | ((cr == 0 ? c->cr0 : c->cr4) & mask);
	} else if (cr == 3) {
		exit = (proc & PROC_CR3_LOAD_EXITING) && !cr3_target_hit(c, *v);
	} else {
		exit = cr == 8 && (proc & PROC_CR8_LOAD_EXITING);
	}
	return exit && cr_exit(c, i, vmx_cr_qual(cr, CR_ACCESS_MOV_TO, i->rm, false, 0));
}

bool vmx_intercept_mov_from_cr(struct cpu *c, const struct insn *i, uint64_t *v)
{
	unsigned cr = i->reg;
	uint32_t proc = proc_ctls(c);
	if (cr0_or_4(cr)) {
		*v = guest_view(c, cr, *v);
		return false;
	}
	if ((cr == 3 && (proc & PROC_CR3_STORE_EXITING)) || (cr == 8 && (proc & PROC_CR8_STORE_EXITING)))
		return cr_exit(c, i, vmx_cr_qual(cr, CR_ACCESS_MOV_FROM, i->rm, false, 0));
	if (cr == 8 && (proc & PROC_TPR_SHADOW))        /* 29.3: CR8 reads VTPR[7:4] */
		*v = (phys_read(c->phys, vtpr_addr(c), 4) >> 4) & 0xf;
	return false;
}

/* ---- TPR shadow (29.1.2, 29.3, 26.6.7) ---- */

/* Is VTPR[7:4] below TPR threshold[3:0]? */
static bool tpr_below_threshold(struct cpu *c)
{
	uint64_t vtpr = phys_read(c->phys, vtpr_addr(c), 4);
	return ((vtpr >> 4) & 0xf) < (vmcs_read(c, VF_TPR_THRESHOLD) & 0xf);
}

/* A TPR-below-threshold exit: no instruction length, no qualification
 * (27.2.1: cleared), GUEST_RIP = c->rip. */
static void tpr_exit(struct cpu *c)
{
	struct vmx_exit_info x = { .reason = EXIT_REASON_TPR_BELOW_THRESHOLD };
	vmx_vmexit(c, &x);
}

/* 29.3: VTPR[7:4] = source[3:0], bits 3:0 and 31:8 cleared; then TPR
 * virtualization (29.1.2, vmx/apicv.c): a trap-like TPR-below-threshold
 * exit (GUEST_RIP is the next instruction), or with "virtual-interrupt
 * delivery" PPR virtualization and evaluation of pending virtual
 * interrupts. */
bool vmx_tpr_shadow_write(struct cpu *c, uint64_t v)
{
	if (!(proc_ctls(c) & PROC_TPR_SHADOW))
		return false;
	phys_write(c->phys, vtpr_addr(c), (v & 0xf) << 4, 4);
	vmx_tpr_virtualize(c, true);
	return true;
}

/* 26.6.7: with "use TPR shadow" and "virtualize APIC accesses" 1 and
 * "virtual-interrupt delivery" 0, the exit follows the entry (and any
 * injection) when threshold[3:0] > VTPR[7:4]. It wakes a processor the
 * entry put in HLT; it does not occur in shutdown or wait-for-SIPI. */
void vmx_tpr_check_after_entry(struct cpu *c)
{
	if (!c->vmx.nonroot || c->shutdown || c->wait_sipi || !(proc_ctls(c) & PROC_TPR_SHADOW))
		return;
	if ((proc2_ctls(c) & (PROC2_VIRT_APIC_ACCESS | PROC2_VIRT_INTR_DELIVERY)) != PROC2_VIRT_APIC_ACCESS ||
	    !tpr_below_threshold(c))
		return;
	c->halted = false;
	tpr_exit(c);
}

/* ---- CLTS, LMSW ---- */

/* 25.1.3 CLTS: exit iff TS is host-owned and the shadow's TS is 1; 25.3:
 * host-owned TS with shadow TS = 0 leaves CR0.TS as it is. */
bool vmx_intercept_clts(struct cpu *c, const struct insn *i, uint64_t *cr0)
{
	uint64_t mask = cr_mask(c, 0);
	if (!(mask & CR0_TS))
		return false;
	if (cr_shadow(c, 0) & CR0_TS)
		return cr_exit(c, i, vmx_cr_qual(0, CR_ACCESS_CLTS, 0, false, 0));
	*cr0 = (*cr0 & ~(uint64_t)CR0_TS) | (c->cr0 & CR0_TS);
	return false;
}

/* 25.1.3 LMSW: exit when PE is host-owned, set in the source and clear in
 * the shadow, or when a host-owned bit of 3:1 differs between source and
 * shadow. 25.3: otherwise host-owned bits 3:0 keep their values. */
bool vmx_intercept_lmsw(struct cpu *c, const struct insn *i, uint16_t src, uint64_t *cr0)
{
	uint64_t mask = cr_mask(c, 0) & 0xf, shadow = cr_shadow(c, 0) & 0xf;
	if ((mask & src & ~shadow & CR0_PE) || ((src ^ shadow) & mask & 0xe))
		return cr_exit(c, i, vmx_cr_qual(0, CR_ACCESS_LMSW, 0, !(i->flags & IF_MOD3), src));
	*cr0 = (*cr0 & ~mask) | (c->cr0 & mask);
	return false;
}

/* ---- MOV DR ---- */

bool vmx_intercept_mov_dr(struct cpu *c, const struct insn *i, bool from)
{
	if (i->reg > 7 || !(proc_ctls(c) & PROC_MOV_DR_EXITING))
		return false;
	return insn_exit(c, i, EXIT_REASON_DR_ACCESS, vmx_dr_qual(i->reg, from, i->rm));
}

/* ---- descriptor tables (25.1.3; 27.2.1 displacement, 27.2.4) ---- */

bool vmx_intercept_dtable(struct cpu *c, const struct insn *i, enum vmx_dt_insn which)
{
	if (!(proc2_ctls(c) & PROC2_DESC_TABLE_EXITING))
		return false;
	struct vmx_exit_info x = {
		.reason = which < VMX_DT_SLDT ? EXIT_REASON_GDTR_IDTR : EXIT_REASON_LDTR_TR,
		.qual = vmx_insn_qual(i, c->next_rip),
		.insn_len = i->len,
		.insn_info = vmx_dt_info(i, which),
		.has_insn = true,
		.has_insn_info = true,
	};
	vmx_vmexit(c, &x);
	return true;
}

/* ---- INVLPG, INVPCID ---- */

bool vmx_intercept_invlpg(struct cpu *c, const struct insn *i, uint64_t la)
{
	if (!(proc_ctls(c) & PROC_INVLPG_EXITING))
		return false;
	return insn_exit(c, i, EXIT_REASON_INVLPG, la);        /* 27.2.1: the linear-address operand */
}

bool vmx_invpcid_ud(struct cpu *c)
{
	return !(proc2_ctls(c) & PROC2_INVPCID);
}

/* Instruction information in the INVEPT/INVPCID/INVVPID layout (Reg2 =
 * the type register), qualification = displacement (27.2.1, 27.2.4). */
bool vmx_intercept_invpcid(struct cpu *c, const struct insn *i)
{
	if (!(proc_ctls(c) & PROC_INVLPG_EXITING))
		return false;
	struct vmx_exit_info x = {
		.reason = EXIT_REASON_INVPCID,
		.qual = vmx_insn_qual(i, c->next_rip),
		.insn_len = i->len,
		.insn_info = vmx_insn_info(i, false, true),
		.has_insn = true,
		.has_insn_info = true,
	};
	vmx_vmexit(c, &x);
	return true;
}

/* ---- TSC, RDPMC ---- */

static uint64_t guest_tsc(struct cpu *c, uint32_t proc, uint64_t tsc)
{
	if (!(proc & PROC_TSC_OFFSETTING))
		return tsc;
	bool scale = proc2_ctls(c) & PROC2_TSC_SCALING;
	return vmx_tsc_adjust(tsc, scale, scale ? vmcs_read(c, VF_TSC_MULTIPLIER) : 0, vmcs_read(c, VF_TSC_OFFSET));
}

uint64_t vmx_guest_tsc(struct cpu *c, uint64_t tsc)
{
	return guest_tsc(c, proc_ctls(c), tsc);
}

bool vmx_rdtscp_ud(struct cpu *c)
{
	return !(proc2_ctls(c) & PROC2_RDTSCP);
}

bool vmx_intercept_rdtsc(struct cpu *c, const struct insn *i, bool rdtscp, uint64_t *tsc)
{
	uint32_t proc = proc_ctls(c);
	if (proc & PROC_RDTSC_EXITING)
		return insn_exit(c, i, rdtscp ? EXIT_REASON_RDTSCP : EXIT_REASON_RDTSC, 0);
	*tsc = guest_tsc(c, proc, *tsc);
	return false;
}

bool vmx_intercept_rdpmc(struct cpu *c, const struct insn *i)
{
	return (proc_ctls(c) & PROC_RDPMC_EXITING) && insn_exit(c, i, EXIT_REASON_RDPMC, 0);
}
