/* INVEPT and INVVPID (SDM vol. 3C 30.3). The software TLB (mem/tlb.c) is
 * tagged by VPID and EP4TA: INVVPID invalidates exactly the mappings its
 * type names (28.3.3.1). INVEPT still flushes the TLB whole (allowed: "It
 * may invalidate other mappings as well"); tlb_flush_ept is the scoped
 * invalidation for when guest-physical mappings are cached. */
#include "cpu/handlers.h"
#include "cpu/model.h"
#include "vmx/caps.h"
#include "vmx/ept.h"
#include "vmx/misuse.h"
#include "vmx/controls.h"
#include "vmx/insn_impl.h"

/* IA32_VMX_EPT_VPID_CAP bits (Appendix A.10). */
#define CAP_EPT_WALK4 (1ull << 6)
#define CAP_EPT_WALK5 (1ull << 7)
#define CAP_EPT_UC (1ull << 8)
#define CAP_EPT_WB (1ull << 14)
#define CAP_INVEPT (1ull << 20)
#define CAP_EPT_AD (1ull << 21)
#define CAP_INVEPT_SINGLE (1ull << 25)
#define CAP_INVEPT_ALL (1ull << 26)

/* EPTP fields (24.6.11, Table 24-8). */
#define EPTP_MEMTYPE(e) ((e) & 7)
#define EPTP_WALK_MINUS1(e) (((e) >> 3) & 7)
#define EPTP_AD (1ull << 6)
#define EPTP_RSVD_11_7 0xf80ull

bool vmx_eptp_valid(const struct cpu *c, uint64_t eptp)
{
	uint64_t cap = c->model->vmx.ept_vpid_cap;
	unsigned mt = EPTP_MEMTYPE(eptp), walk = EPTP_WALK_MINUS1(eptp);
	if (!((mt == 0 && (cap & CAP_EPT_UC)) || (mt == 6 && (cap & CAP_EPT_WB))))
		return false;
	if (!((walk == 3 && (cap & CAP_EPT_WALK4)) || (walk == 4 && (cap & CAP_EPT_WALK5))))
		return false;
	if ((eptp & EPTP_AD) && !(cap & CAP_EPT_AD))
		return false;
	return !(eptp & EPTP_RSVD_11_7) && !(eptp >> c->model->phys_addr_bits);
}

/* The 128-bit descriptor at the memory operand, low and high quadwords;
 * the segment check covers all 16 bytes before either is read. */
static bool read_desc(struct cpu *c, const struct insn *i, uint64_t *lo, uint64_t *hi)
{
	uint64_t ea = insn_ea(c, i), la;
	if (!seg_linear(c, i->seg, ea, 16, ACC_READ, &la))
		return false;
	return mem_read_seg(c, i->seg, ea, 8, lo) && mem_read_seg(c, i->seg, (ea + 8) & addr_mask(i->asz), 8, hi);
}

static uint64_t invept_type_cap(uint64_t type)
{
	return type == 1 ? CAP_INVEPT_SINGLE : type == 2 ? CAP_INVEPT_ALL : 0;
}

/* #UD also when the model lacks EPT (IA32_VMX_PROCBASED_CTLS2[33] = 0) or
 * INVEPT (IA32_VMX_EPT_VPID_CAP[20] = 0) (30.3 INVEPT, "#UD"). */
enum exec_status op_invept_Gy_Mdq(struct cpu *c, const struct insn *i)
{
	uint64_t desc, rsvd;
	if (vmx_insn_ud(c) || !(vmx_allowed1(c, VMX_CTL_PROC2) & PROC2_EPT) ||
	    !(c->model->vmx.ept_vpid_cap & CAP_INVEPT))
		return cpu_ud(c);
	if (c->vmx.nonroot)
		return vmx_insn_exit(c, i, EXIT_REASON_INVEPT, INFO_MEM_REG2);
	if (c->cpl > 0)
		return cpu_gp0(c);
	uint64_t type = reg_read(c, i->reg, vmx_reg_size(c));
	if (!(c->model->vmx.ept_vpid_cap & invept_type_cap(type))) {
		vmx_fail(c, i, VMERR_INVEPT_INVVPID_INVALID);
		return EXEC_OK;
	}
	if (!read_desc(c, i, &desc, &rsvd))
		return EXEC_FAULT;
	if (rsvd)
		vmx_misuse(c, VMX_MISUSE_INVEPT_DESC_RESERVED, "INVEPT descriptor bits 127:64 are %#llx (Figure 30-1); "
			   "ignored", (unsigned long long)rsvd);
	if (type == 1 && !vmx_eptp_valid(c, desc)) {
		vmx_fail(c, i, VMERR_INVEPT_INVVPID_INVALID);
		return EXEC_OK;
	}
	vmx_ept_invalidate(c, (unsigned)type, desc);    /* vmx/ept.c */
	vmx_succeed(c, i);
	return EXEC_OK;
}

/* INVVPID types (30.3 INVVPID). */
enum {
	INVVPID_ADDR = 0,               /* individual-address */
	INVVPID_SINGLE = 1,             /* single-context */
	INVVPID_ALL = 2,                /* all-context */
	INVVPID_SINGLE_GLOBALS = 3,     /* single-context, retaining globals */
};

/* IA32_VMX_EPT_VPID_CAP bits 40-43 say which types the model supports
 * (A.10); no other type is ever supported. */
static uint64_t invvpid_type_cap(uint64_t type)
{
	static const uint64_t caps[4] = { VMX_VPID_INVVPID_ADDR, VMX_VPID_INVVPID_SINGLE, VMX_VPID_INVVPID_ALL,
					  VMX_VPID_INVVPID_SINGLE_GLOBALS };
	return type < 4 ? caps[type] : 0;
}

/* What each type invalidates: linear and combined mappings (every PCID,
 * every EP4TA) of the descriptor's VPID; type 0 those for one linear
 * address (globals included), type 3 all but global ones, type 2 those of
 * every VPID but 0000H (30.3 INVVPID, 28.3.3.1). */
static void invvpid_do(struct cpu *c, uint64_t type, uint16_t vpid, uint64_t la)
{
	switch (type) {
	case INVVPID_ADDR: tlb_flush_vpid_page(&c->tlb, vpid, la); break;
	case INVVPID_SINGLE: tlb_flush_vpid(&c->tlb, vpid); break;
	case INVVPID_ALL: tlb_flush_all_vpids(&c->tlb); break;
	default: tlb_flush_vpid_nonglobal(&c->tlb, vpid); break;
	}
}

/* The descriptor checks of 30.3 INVVPID after the type: bits 63:16 zero;
 * VPID 0 is invalid for types 0, 1 and 3; type 0 needs a canonical
 * linear address. */
static bool invvpid_desc_ok(const struct cpu *c, uint64_t type, uint64_t lo, uint64_t la)
{
	if (lo >> 16)
		return false;
	if (type != INVVPID_ALL && (lo & 0xffff) == 0)
		return false;
	return type != INVVPID_ADDR || cpu_canonical(c, la);
}

/* #UD also when the model lacks VPIDs (IA32_VMX_PROCBASED_CTLS2[37] = 0)
 * or INVVPID (IA32_VMX_EPT_VPID_CAP[32] = 0) (30.3 INVVPID, "#UD"). */
enum exec_status op_invvpid_Gy_Mdq(struct cpu *c, const struct insn *i)
{
	uint64_t lo, la;
	if (vmx_insn_ud(c) || !(vmx_allowed1(c, VMX_CTL_PROC2) & PROC2_VPID) ||
	    !(c->model->vmx.ept_vpid_cap & VMX_VPID_INVVPID))
		return cpu_ud(c);
	if (c->vmx.nonroot)
		return vmx_insn_exit(c, i, EXIT_REASON_INVVPID, INFO_MEM_REG2);
	if (c->cpl > 0)
		return cpu_gp0(c);
	uint64_t type = reg_read(c, i->reg, vmx_reg_size(c));
	if (!(c->model->vmx.ept_vpid_cap & invvpid_type_cap(type))) {
		vmx_fail(c, i, VMERR_INVEPT_INVVPID_INVALID);
		return EXEC_OK;
	}
	if (!read_desc(c, i, &lo, &la))
		return EXEC_FAULT;
	if (!invvpid_desc_ok(c, type, lo, la)) {
		vmx_fail(c, i, VMERR_INVEPT_INVVPID_INVALID);
		return EXEC_OK;
	}
	invvpid_do(c, type, (uint16_t)lo, la);
	vmx_succeed(c, i);
	return EXEC_OK;
}
