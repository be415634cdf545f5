/* VM-entry checks on the guest-state area (SDM vol. 3C 26.3.1): control
 * registers, debug registers and MSRs (26.3.1.1), segment registers
 * (26.3.1.2), GDTR/IDTR (26.3.1.3), RIP and RFLAGS (26.3.1.4),
 * non-register state (26.3.1.5) and the PDPTEs of a PAE guest (26.3.1.6).
 * A failure is a VM-entry failure with exit reason 33 and the row's
 * qualification. One function per row of vmx/entry_checks.def. */
#include "vmx/entry_chk.h"

#include "cpu/cpu.h"

static uint64_t guest_cr0(struct entry_ctx *e)
{
	return rd(e, VF_GUEST_CR0);
}

static uint64_t guest_cr4(struct entry_ctx *e)
{
	return rd(e, VF_GUEST_CR4);
}

static uint64_t guest_rflags(struct entry_ctx *e)
{
	return rd(e, VF_GUEST_RFLAGS);
}

/* 26.3.1.1 control registers, debug registers and MSRs */

/* CR0: PE and PG are not checked with "unrestricted guest" 1; NW and CD
 * are never checked (VM entry does not change them, 26.3.2.1). */
bool chk_GUEST_CR0_FIXED(struct entry_ctx *e)
{
	uint64_t skip = CR0_NW | CR0_CD | (unrestricted(e) ? CR0_PE | CR0_PG : 0);
	uint64_t v = guest_cr0(e);
	uint64_t want = (v | (vmx_cr0_fixed0(e->c) & ~skip)) & (vmx_cr0_fixed1(e->c) | skip);
	return verdict(e, v == want, v, want);
}

bool chk_GUEST_CR0_PG_WITHOUT_PE(struct entry_ctx *e)
{
	uint64_t v = guest_cr0(e);
	return verdict(e, !(v & CR0_PG) || (v & CR0_PE), v, v | CR0_PE);
}

bool chk_GUEST_CR4_FIXED(struct entry_ctx *e)
{
	uint64_t v = guest_cr4(e);
	uint64_t want = (v | vmx_cr4_fixed0(e->c)) & vmx_cr4_fixed1(e->c);
	return verdict(e, v == want, v, want);
}


static bool load_debug(struct entry_ctx *e)
{
	return entry_ctls(e) & ENTRY_LOAD_DEBUG_CTLS;
}

bool chk_GUEST_DEBUGCTL_RSVD(struct entry_ctx *e)
{
	return !load_debug(e) || chk_rsvd(e, rd(e, VF_GUEST_IA32_DEBUGCTL), ~cpu_debugctl_valid(e->c));
}

bool chk_GUEST_IA32E_CR0_PG(struct entry_ctx *e)
{
	uint64_t v = guest_cr0(e);
	return !ia32e_guest(e) || verdict(e, v & CR0_PG, v, v | CR0_PG);
}

bool chk_GUEST_IA32E_CR4_PAE(struct entry_ctx *e)
{
	uint64_t v = guest_cr4(e);
	return !ia32e_guest(e) || verdict(e, v & CR4_PAE, v, v | CR4_PAE);
}

bool chk_GUEST_CR4_PCIDE_NOT_IA32E(struct entry_ctx *e)
{
	return ia32e_guest(e) || chk_rsvd(e, guest_cr4(e), CR4_PCIDE);
}

bool chk_GUEST_CR3_WIDTH(struct entry_ctx *e)
{
	return chk_addr_width(e, VF_GUEST_CR3);
}

bool chk_GUEST_DR7_HIGH(struct entry_ctx *e)
{
	return !load_debug(e) || chk_rsvd(e, rd(e, VF_GUEST_DR7), ~0xffffffffull);
}

bool chk_GUEST_SYSENTER_ESP_CANONICAL(struct entry_ctx *e)
{
	return chk_canonical_field(e, VF_GUEST_IA32_SYSENTER_ESP);
}

bool chk_GUEST_SYSENTER_EIP_CANONICAL(struct entry_ctx *e)
{
	return chk_canonical_field(e, VF_GUEST_IA32_SYSENTER_EIP);
}

bool chk_GUEST_PERF_GLOBAL_RSVD(struct entry_ctx *e)
{
	if (!(entry_ctls(e) & ENTRY_LOAD_PERF_GLOBAL))
		return true;
	return chk_rsvd(e, rd(e, VF_GUEST_IA32_PERF_GLOBAL_CTRL), ~cpu_perf_global_valid(e->c));
}

bool chk_GUEST_PAT(struct entry_ctx *e)
{
	if (!(entry_ctls(e) & ENTRY_LOAD_PAT))
		return true;
	uint64_t pat = rd(e, VF_GUEST_IA32_PAT);
	return verdict(e, pat_valid(pat), pat, 0x0007040600070406ull);
}

static bool load_efer(struct entry_ctx *e)
{
	return entry_ctls(e) & ENTRY_LOAD_EFER;
}

bool chk_GUEST_EFER_RSVD(struct entry_ctx *e)
{
	return !load_efer(e) || chk_rsvd(e, rd(e, VF_GUEST_IA32_EFER), ~EFER_DEFINED);
}

static bool efer_bit_is_ia32e(struct entry_ctx *e, uint64_t bit)
{
	uint64_t efer = rd(e, VF_GUEST_IA32_EFER);
	uint64_t want = ia32e_guest(e) ? (efer | bit) : (efer & ~bit);
	return verdict(e, efer == want, efer, want);
}

bool chk_GUEST_EFER_LMA(struct entry_ctx *e)
{
	return !load_efer(e) || efer_bit_is_ia32e(e, EFER_LMA);
}

bool chk_GUEST_EFER_LME(struct entry_ctx *e)
{
	return !load_efer(e) || !(guest_cr0(e) & CR0_PG) || efer_bit_is_ia32e(e, EFER_LME);
}

static bool load_bndcfgs(struct entry_ctx *e)
{
	return entry_ctls(e) & ENTRY_LOAD_BNDCFGS;
}

bool chk_GUEST_BNDCFGS_RSVD(struct entry_ctx *e)
{
	return !load_bndcfgs(e) || chk_rsvd(e, rd(e, VF_GUEST_IA32_BNDCFGS), 0xffcull);
}

bool chk_GUEST_BNDCFGS_CANONICAL(struct entry_ctx *e)
{
	if (!load_bndcfgs(e))
		return true;
	uint64_t v = rd(e, VF_GUEST_IA32_BNDCFGS);
	return verdict(e, canonical(e, v & ~0xfffull), v, v & 0xfff);
}

/* 26.3.1.2 segment registers. The guest segment fields of each kind are
 * consecutive rows of vmx/vmcs_fields.def in the order ES, CS, SS, DS,
 * FS, GS, LDTR, TR: segment s's field is the ES field + s. */
enum gseg { G_ES, G_CS, G_SS, G_DS, G_FS, G_GS, G_LDTR, G_TR };

_Static_assert(VF_GUEST_TR_SELECTOR - VF_GUEST_ES_SELECTOR == G_TR, "guest selector rows in segment order");
_Static_assert(VF_GUEST_TR_BASE - VF_GUEST_ES_BASE == G_TR, "guest base rows in segment order");
_Static_assert(VF_GUEST_TR_LIMIT - VF_GUEST_ES_LIMIT == G_TR, "guest limit rows in segment order");
_Static_assert(VF_GUEST_TR_AR - VF_GUEST_ES_AR == G_TR, "guest access-rights rows in segment order");
_Static_assert((int)G_SS == (int)SEG_SS && (int)G_GS == (int)SEG_GS, "enum gseg follows enum seg_reg");

static uint64_t sel(struct entry_ctx *e, enum gseg s)
{
	return rd(e, (enum vmcs_field)(VF_GUEST_ES_SELECTOR + s));
}

static uint64_t base(struct entry_ctx *e, enum gseg s)
{
	return rd(e, (enum vmcs_field)(VF_GUEST_ES_BASE + s));
}

static uint64_t limit(struct entry_ctx *e, enum gseg s)
{
	return rd(e, (enum vmcs_field)(VF_GUEST_ES_LIMIT + s));
}

static uint32_t ar(struct entry_ctx *e, enum gseg s)
{
	return (uint32_t)rd(e, (enum vmcs_field)(VF_GUEST_ES_AR + s));
}

static bool usable(struct entry_ctx *e, enum gseg s)
{
	return !(ar(e, s) & AR_UNUSABLE);
}

static unsigned dpl(uint32_t a)
{
	return (a >> AR_DPL_SHIFT) & 3;
}

static bool v86(struct entry_ctx *e)
{
	return guest_rflags(e) & FL_VM;
}

/* The access-rights checks outside virtual-8086 mode apply to CS always
 * and to SS, DS, ES, FS, GS when usable. */
static bool ar_checked(struct entry_ctx *e, enum gseg s)
{
	return !v86(e) && (s == G_CS || usable(e, s));
}

bool chk_GUEST_TR_SEL_TI(struct entry_ctx *e)
{
	return chk_rsvd(e, sel(e, G_TR), 4);
}

bool chk_GUEST_LDTR_SEL_TI(struct entry_ctx *e)
{
	return !usable(e, G_LDTR) || chk_rsvd(e, sel(e, G_LDTR), 4);
}

bool chk_GUEST_SS_SEL_RPL(struct entry_ctx *e)
{
	if (v86(e) || unrestricted(e))
		return true;
	uint64_t ss = sel(e, G_SS), cs = sel(e, G_CS);
	return verdict(e, (ss & 3) == (cs & 3), ss, (ss & ~3ull) | (cs & 3));
}

static bool base_v86(struct entry_ctx *e, enum gseg s)
{
	if (!v86(e))
		return true;
	uint64_t b = base(e, s), want = sel(e, s) << 4;
	return verdict(e, b == want, b, want);
}

static bool base_canonical(struct entry_ctx *e, enum gseg s)
{
	return chk_canonical_field(e, (enum vmcs_field)(VF_GUEST_ES_BASE + s));
}

static bool base_high(struct entry_ctx *e, enum gseg s)
{
	return (s != G_CS && !usable(e, s)) || chk_rsvd(e, base(e, s), ~0xffffffffull);
}

static bool limit_v86(struct entry_ctx *e, enum gseg s)
{
	uint64_t l = limit(e, s);
	return !v86(e) || verdict(e, l == 0xffff, l, 0xffff);
}

static bool ar_v86(struct entry_ctx *e, enum gseg s)
{
	uint32_t a = ar(e, s);
	return !v86(e) || verdict(e, a == 0xf3, a, 0xf3);
}

static bool type_accessed(struct entry_ctx *e, enum gseg s)
{
	uint32_t a = ar(e, s);
	return !ar_checked(e, s) || verdict(e, a & AR_TYPE_ACCESSED, a, a | AR_TYPE_ACCESSED);
}

/* A code segment (type bit 3) must be readable (type bit 1). */
static bool type_readable(struct entry_ctx *e, enum gseg s)
{
	uint32_t a = ar(e, s);
	return !ar_checked(e, s) || !(a & 8) || verdict(e, a & 2, a, a | 2);
}

/* An access-rights bit that must be 1 (want) or 0 (!want). */
static bool ar_bit(struct entry_ctx *e, enum gseg s, bool checked, uint32_t bit, bool want)
{
	uint32_t a = ar(e, s);
	uint32_t fixed = want ? (a | bit) : (a & ~bit);
	return !checked || verdict(e, a == fixed, a, fixed);
}

/* G against the limit: limit bits 11:0 not all 1 need G = 0; any of limit
 * bits 31:20 set needs G = 1. */
static bool g_clear(struct entry_ctx *e, enum gseg s, bool checked)
{
	return !checked || (limit(e, s) & 0xfff) == 0xfff || ar_bit(e, s, true, AR_G, false);
}

static bool g_set(struct entry_ctx *e, enum gseg s, bool checked)
{
	return !checked || (limit(e, s) & 0xfff00000u) == 0 || ar_bit(e, s, true, AR_G, true);
}

static bool ar_rsvd(struct entry_ctx *e, enum gseg s, bool checked, uint32_t mask)
{
	return !checked || chk_rsvd(e, ar(e, s), mask);
}

/* DS, ES, FS, GS: DPL not less than RPL for data and non-conforming code
 * (types 0-11), with "unrestricted guest" 0. */
static bool data_dpl(struct entry_ctx *e, enum gseg s)
{
	uint32_t a = ar(e, s);
	if (!ar_checked(e, s) || unrestricted(e) || (a & AR_TYPE_MASK) > 11)
		return true;
	unsigned rpl = sel(e, s) & 3;
	return verdict(e, dpl(a) >= rpl, dpl(a), rpl);
}

#define AR_RSVD_11_8 0xf00u
#define AR_RSVD_31_17 0xfffe0000u

/* The rows every one of CS, SS, DS, ES, FS, GS has. */
#define SEG_ROWS(S)                                                                                         \
	bool chk_GUEST_##S##_BASE_V86(struct entry_ctx *e) { return base_v86(e, G_##S); }                   \
	bool chk_GUEST_##S##_LIMIT_V86(struct entry_ctx *e) { return limit_v86(e, G_##S); }                 \
	bool chk_GUEST_##S##_AR_V86(struct entry_ctx *e) { return ar_v86(e, G_##S); }                       \
	bool chk_GUEST_##S##_AR_S(struct entry_ctx *e) { return ar_bit(e, G_##S, ar_checked(e, G_##S), AR_S, true); } \
	bool chk_GUEST_##S##_AR_P(struct entry_ctx *e) { return ar_bit(e, G_##S, ar_checked(e, G_##S), AR_P, true); } \
	bool chk_GUEST_##S##_AR_RSVD_11_8(struct entry_ctx *e)                                              \
	{                                                                                                   \
		return ar_rsvd(e, G_##S, ar_checked(e, G_##S), AR_RSVD_11_8);                               \
	}                                                                                                   \
	bool chk_GUEST_##S##_AR_G_CLEAR(struct entry_ctx *e) { return g_clear(e, G_##S, ar_checked(e, G_##S)); } \
	bool chk_GUEST_##S##_AR_G_SET(struct entry_ctx *e) { return g_set(e, G_##S, ar_checked(e, G_##S)); } \
	bool chk_GUEST_##S##_AR_RSVD_31_17(struct entry_ctx *e)                                             \
	{                                                                                                   \
		return ar_rsvd(e, G_##S, ar_checked(e, G_##S), AR_RSVD_31_17);                              \
	}
SEG_ROWS(CS)
SEG_ROWS(SS)
SEG_ROWS(DS)
SEG_ROWS(ES)
SEG_ROWS(FS)
SEG_ROWS(GS)

/* The rows of the data segments DS, ES, FS, GS. */
#define DATA_SEG_ROWS(S)                                                                                     \
	bool chk_GUEST_##S##_AR_TYPE_ACCESSED(struct entry_ctx *e) { return type_accessed(e, G_##S); }       \
	bool chk_GUEST_##S##_AR_TYPE_READABLE(struct entry_ctx *e) { return type_readable(e, G_##S); }       \
	bool chk_GUEST_##S##_AR_DPL(struct entry_ctx *e) { return data_dpl(e, G_##S); }
DATA_SEG_ROWS(DS)
DATA_SEG_ROWS(ES)
DATA_SEG_ROWS(FS)
DATA_SEG_ROWS(GS)

bool chk_GUEST_TR_BASE_CANONICAL(struct entry_ctx *e)
{
	return base_canonical(e, G_TR);
}

bool chk_GUEST_FS_BASE_CANONICAL(struct entry_ctx *e)
{
	return base_canonical(e, G_FS);
}

bool chk_GUEST_GS_BASE_CANONICAL(struct entry_ctx *e)
{
	return base_canonical(e, G_GS);
}

bool chk_GUEST_LDTR_BASE_CANONICAL(struct entry_ctx *e)
{
	return !usable(e, G_LDTR) || base_canonical(e, G_LDTR);
}

bool chk_GUEST_CS_BASE_HIGH(struct entry_ctx *e)
{
	return base_high(e, G_CS);
}

bool chk_GUEST_SS_BASE_HIGH(struct entry_ctx *e)
{
	return base_high(e, G_SS);
}

bool chk_GUEST_DS_BASE_HIGH(struct entry_ctx *e)
{
	return base_high(e, G_DS);
}

bool chk_GUEST_ES_BASE_HIGH(struct entry_ctx *e)
{
	return base_high(e, G_ES);
}

static unsigned cs_type(struct entry_ctx *e)
{
	return ar(e, G_CS) & AR_TYPE_MASK;
}

bool chk_GUEST_CS_AR_TYPE(struct entry_ctx *e)
{
	if (v86(e))
		return true;
	unsigned t = cs_type(e);
	bool ok = t == 9 || t == 11 || t == 13 || t == 15 || (t == 3 && unrestricted(e));
	return verdict(e, ok, t, 11);
}

bool chk_GUEST_SS_AR_TYPE(struct entry_ctx *e)
{
	if (!ar_checked(e, G_SS))
		return true;
	unsigned t = ar(e, G_SS) & AR_TYPE_MASK;
	return verdict(e, t == 3 || t == 7, t, 3);
}

bool chk_GUEST_CS_AR_DPL_TYPE3(struct entry_ctx *e)
{
	unsigned d = dpl(ar(e, G_CS));
	return v86(e) || cs_type(e) != 3 || verdict(e, d == 0, d, 0);
}

bool chk_GUEST_CS_AR_DPL_NONCONF(struct entry_ctx *e)
{
	unsigned t = cs_type(e), d = dpl(ar(e, G_CS)), ss = dpl(ar(e, G_SS));
	return v86(e) || (t != 9 && t != 11) || verdict(e, d == ss, d, ss);
}

bool chk_GUEST_CS_AR_DPL_CONF(struct entry_ctx *e)
{
	unsigned t = cs_type(e), d = dpl(ar(e, G_CS)), ss = dpl(ar(e, G_SS));
	return v86(e) || (t != 13 && t != 15) || verdict(e, d <= ss, d, ss);
}

bool chk_GUEST_SS_AR_DPL_RPL(struct entry_ctx *e)
{
	unsigned d = dpl(ar(e, G_SS)), rpl = sel(e, G_SS) & 3;
	return v86(e) || unrestricted(e) || verdict(e, d == rpl, d, rpl);
}

bool chk_GUEST_SS_AR_DPL_REAL(struct entry_ctx *e)
{
	unsigned d = dpl(ar(e, G_SS));
	if (v86(e) || (cs_type(e) != 3 && (guest_cr0(e) & CR0_PE)))
		return true;
	return verdict(e, d == 0, d, 0);
}

bool chk_GUEST_CS_AR_DB(struct entry_ctx *e)
{
	uint32_t a = ar(e, G_CS);
	if (v86(e) || !ia32e_guest(e) || !(a & AR_L))
		return true;
	return chk_rsvd(e, a, AR_DB);
}

bool chk_GUEST_TR_AR_TYPE(struct entry_ctx *e)
{
	unsigned t = ar(e, G_TR) & AR_TYPE_MASK;
	return ia32e_guest(e) || verdict(e, t == 3 || t == 11, t, 11);
}

bool chk_GUEST_TR_AR_TYPE_64(struct entry_ctx *e)
{
	unsigned t = ar(e, G_TR) & AR_TYPE_MASK;
	return !ia32e_guest(e) || verdict(e, t == 11, t, 11);
}

bool chk_GUEST_TR_AR_S(struct entry_ctx *e)
{
	return ar_bit(e, G_TR, true, AR_S, false);
}

bool chk_GUEST_TR_AR_P(struct entry_ctx *e)
{
	return ar_bit(e, G_TR, true, AR_P, true);
}

bool chk_GUEST_TR_AR_RSVD_11_8(struct entry_ctx *e)
{
	return ar_rsvd(e, G_TR, true, AR_RSVD_11_8);
}

bool chk_GUEST_TR_AR_G_CLEAR(struct entry_ctx *e)
{
	return g_clear(e, G_TR, true);
}

bool chk_GUEST_TR_AR_G_SET(struct entry_ctx *e)
{
	return g_set(e, G_TR, true);
}

bool chk_GUEST_TR_AR_UNUSABLE(struct entry_ctx *e)
{
	return ar_bit(e, G_TR, true, AR_UNUSABLE, false);
}

bool chk_GUEST_TR_AR_RSVD_31_17(struct entry_ctx *e)
{
	return ar_rsvd(e, G_TR, true, AR_RSVD_31_17);
}

bool chk_GUEST_LDTR_AR_TYPE(struct entry_ctx *e)
{
	unsigned t = ar(e, G_LDTR) & AR_TYPE_MASK;
	return !usable(e, G_LDTR) || verdict(e, t == 2, t, 2);
}

bool chk_GUEST_LDTR_AR_S(struct entry_ctx *e)
{
	return ar_bit(e, G_LDTR, usable(e, G_LDTR), AR_S, false);
}

bool chk_GUEST_LDTR_AR_P(struct entry_ctx *e)
{
	return ar_bit(e, G_LDTR, usable(e, G_LDTR), AR_P, true);
}

bool chk_GUEST_LDTR_AR_RSVD_11_8(struct entry_ctx *e)
{
	return ar_rsvd(e, G_LDTR, usable(e, G_LDTR), AR_RSVD_11_8);
}

bool chk_GUEST_LDTR_AR_G_CLEAR(struct entry_ctx *e)
{
	return g_clear(e, G_LDTR, usable(e, G_LDTR));
}

bool chk_GUEST_LDTR_AR_G_SET(struct entry_ctx *e)
{
	return g_set(e, G_LDTR, usable(e, G_LDTR));
}

bool chk_GUEST_LDTR_AR_RSVD_31_17(struct entry_ctx *e)
{
	return ar_rsvd(e, G_LDTR, usable(e, G_LDTR), AR_RSVD_31_17);
}

/* 26.3.1.3 GDTR and IDTR */

bool chk_GUEST_GDTR_BASE_CANONICAL(struct entry_ctx *e)
{
	return chk_canonical_field(e, VF_GUEST_GDTR_BASE);
}

bool chk_GUEST_IDTR_BASE_CANONICAL(struct entry_ctx *e)
{
	return chk_canonical_field(e, VF_GUEST_IDTR_BASE);
}

bool chk_GUEST_GDTR_LIMIT_HIGH(struct entry_ctx *e)
{
	return chk_rsvd(e, rd(e, VF_GUEST_GDTR_LIMIT), 0xffff0000u);
}

bool chk_GUEST_IDTR_LIMIT_HIGH(struct entry_ctx *e)
{
	return chk_rsvd(e, rd(e, VF_GUEST_IDTR_LIMIT), 0xffff0000u);
}

/* 26.3.1.4 RIP and RFLAGS */

static bool code64(struct entry_ctx *e)
{
	return ia32e_guest(e) && (ar(e, G_CS) & AR_L);
}

bool chk_GUEST_RIP_HIGH(struct entry_ctx *e)
{
	return code64(e) || chk_rsvd(e, rd(e, VF_GUEST_RIP), ~0xffffffffull);
}

bool chk_GUEST_RIP_CANONICAL(struct entry_ctx *e)
{
	return !code64(e) || chk_canonical_field(e, VF_GUEST_RIP);
}

bool chk_GUEST_RFLAGS_RSVD(struct entry_ctx *e)
{
	return chk_rsvd(e, guest_rflags(e), ~0x3fffffull | (1u << 15) | (1u << 5) | (1u << 3));
}

bool chk_GUEST_RFLAGS_BIT1(struct entry_ctx *e)
{
	uint64_t f = guest_rflags(e);
	return verdict(e, f & FL_FIXED1, f, f | FL_FIXED1);
}

bool chk_GUEST_RFLAGS_VM(struct entry_ctx *e)
{
	if (!ia32e_guest(e) && (guest_cr0(e) & CR0_PE))
		return true;
	return chk_rsvd(e, guest_rflags(e), FL_VM);
}

bool chk_GUEST_RFLAGS_IF_EXT_INTR(struct entry_ctx *e)
{
	uint64_t f = guest_rflags(e);
	return !injecting(e, INTR_TYPE_EXT_INTR) || verdict(e, f & FL_IF, f, f | FL_IF);
}

/* 26.3.1.5 non-register state */

static uint64_t activity(struct entry_ctx *e)
{
	return rd(e, VF_GUEST_ACTIVITY_STATE);
}

static uint32_t interruptibility(struct entry_ctx *e)
{
	return (uint32_t)rd(e, VF_GUEST_INTERRUPTIBILITY);
}

bool chk_GUEST_ACTIVITY_STATE_RANGE(struct entry_ctx *e)
{
	static const uint64_t support[] = {
		[ACTIVITY_HLT] = VMX_MISC_ACT_HLT,
		[ACTIVITY_SHUTDOWN] = VMX_MISC_ACT_SHUTDOWN,
		[ACTIVITY_WAIT_SIPI] = VMX_MISC_ACT_WAIT_SIPI,
	};
	uint64_t s = activity(e);
	bool ok = s == ACTIVITY_ACTIVE || (s <= ACTIVITY_WAIT_SIPI && (vmx_mdl(e)->misc & support[s]));
	return verdict(e, ok, s, ACTIVITY_ACTIVE);
}

bool chk_GUEST_ACTIVITY_HLT_SS_DPL(struct entry_ctx *e)
{
	unsigned d = dpl(ar(e, G_SS));
	return activity(e) != ACTIVITY_HLT || verdict(e, d == 0, d, 0);
}

bool chk_GUEST_ACTIVITY_NOT_ACTIVE_BLOCKING(struct entry_ctx *e)
{
	uint64_t s = activity(e);
	bool blocking = interruptibility(e) & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS);
	return !blocking || verdict(e, s == ACTIVITY_ACTIVE, s, ACTIVITY_ACTIVE);
}

/* Which injected events an activity state lets through (26.3.1.5). */
static bool injection_allowed(uint64_t state, uint32_t info)
{
	unsigned t = intr_type(info), v = info & INTR_INFO_VECTOR_MASK;
	bool mc = t == INTR_TYPE_HW_EXCEPTION && v == VEC_MC;
	switch (state) {
	case ACTIVITY_ACTIVE:
		return true;
	case ACTIVITY_HLT:
		return t == INTR_TYPE_EXT_INTR || t == INTR_TYPE_NMI || mc ||
		       (t == INTR_TYPE_HW_EXCEPTION && v == VEC_DB) || (t == INTR_TYPE_OTHER && v == 0);
	case ACTIVITY_SHUTDOWN:
		return t == INTR_TYPE_NMI || mc;
	default:
		return false;
	}
}

bool chk_GUEST_ACTIVITY_INJECTION(struct entry_ctx *e)
{
	uint32_t info = intr_info(e);
	uint64_t s = activity(e);
	if (!(info & INTR_INFO_VALID))
		return true;
	e->field = VF_ENTRY_INTR_INFO;
	return verdict(e, injection_allowed(s, info), info, s);
}

bool chk_GUEST_ACTIVITY_SIPI_SMM(struct entry_ctx *e)
{
	uint64_t s = activity(e);
	return !(entry_ctls(e) & ENTRY_TO_SMM) || verdict(e, s != ACTIVITY_WAIT_SIPI, s, ACTIVITY_ACTIVE);
}

bool chk_GUEST_INTR_RSVD(struct entry_ctx *e)
{
	return chk_rsvd(e, interruptibility(e), ~0x1full);
}

bool chk_GUEST_INTR_STI_AND_MOVSS(struct entry_ctx *e)
{
	uint32_t i = interruptibility(e);
	bool both = (i & INTR_BLOCK_STI) && (i & INTR_BLOCK_MOV_SS);
	return verdict(e, !both, i, i & ~INTR_BLOCK_STI);
}

bool chk_GUEST_INTR_STI_IF(struct entry_ctx *e)
{
	return (guest_rflags(e) & FL_IF) || chk_rsvd(e, interruptibility(e), INTR_BLOCK_STI);
}

bool chk_GUEST_INTR_EXT_INTR_BLOCKED(struct entry_ctx *e)
{
	return !injecting(e, INTR_TYPE_EXT_INTR) ||
	       chk_rsvd(e, interruptibility(e), INTR_BLOCK_STI | INTR_BLOCK_MOV_SS);
}

bool chk_GUEST_INTR_NMI_MOVSS(struct entry_ctx *e)
{
	return !injecting(e, INTR_TYPE_NMI) || chk_rsvd(e, interruptibility(e), INTR_BLOCK_MOV_SS);
}

/* vtxsim has no SMM: every VM entry commences outside it. */
bool chk_GUEST_INTR_SMI_OUTSIDE_SMM(struct entry_ctx *e)
{
	return chk_rsvd(e, interruptibility(e), INTR_BLOCK_SMI);
}

/* "A processor may require bit 0 (blocking by STI) to be 0" when an NMI
 * is injected: the Intel processors vtxsim models do (exit qualification 3,
 * 26.7). */
bool chk_GUEST_INTR_NMI_STI(struct entry_ctx *e)
{
	return !injecting(e, INTR_TYPE_NMI) || chk_rsvd(e, interruptibility(e), INTR_BLOCK_STI);
}

bool chk_GUEST_INTR_VNMI_BLOCKING(struct entry_ctx *e)
{
	if (!(pin_ctls(e) & PIN_VIRTUAL_NMIS) || !injecting(e, INTR_TYPE_NMI))
		return true;
	return chk_rsvd(e, interruptibility(e), INTR_BLOCK_NMI);
}

/* No vtxsim model enumerates SGX, so enclave interruption must be 0. */
bool chk_GUEST_INTR_ENCLAVE(struct entry_ctx *e)
{
	return chk_rsvd(e, interruptibility(e), INTR_BLOCK_ENCLAVE);
}

bool chk_GUEST_PENDING_DBG_RSVD(struct entry_ctx *e)
{
	return chk_rsvd(e, rd(e, VF_GUEST_PENDING_DBG_EXCEPTIONS), 0xff0ull | (1ull << 13) | (1ull << 15) | ~0xffffull);
}

/* The BS rules apply with blocking by STI or MOV SS, or activity HLT. */
static bool bs_rules_apply(struct entry_ctx *e)
{
	return (interruptibility(e) & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS)) || activity(e) == ACTIVITY_HLT;
}

static bool single_stepping(struct entry_ctx *e)
{
	return (guest_rflags(e) & FL_TF) && !(rd(e, VF_GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF);
}

bool chk_GUEST_PENDING_DBG_BS_SET(struct entry_ctx *e)
{
	uint64_t p = rd(e, VF_GUEST_PENDING_DBG_EXCEPTIONS);
	return !bs_rules_apply(e) || !single_stepping(e) || verdict(e, p & PENDING_DBG_BS, p, p | PENDING_DBG_BS);
}

bool chk_GUEST_PENDING_DBG_BS_CLEAR(struct entry_ctx *e)
{
	return !bs_rules_apply(e) || single_stepping(e) ||
	       chk_rsvd(e, rd(e, VF_GUEST_PENDING_DBG_EXCEPTIONS), PENDING_DBG_BS);
}

/* The VMCS link pointer rules apply when it is not FFFFFFFF_FFFFFFFFH. */
static bool link_set(struct entry_ctx *e, uint64_t *p)
{
	*p = rd(e, VF_VMCS_LINK_PTR);
	return *p != ~0ull;
}

bool chk_GUEST_LINK_ALIGN(struct entry_ctx *e)
{
	uint64_t p;
	return !link_set(e, &p) || chk_addr_align(e, VF_VMCS_LINK_PTR, 0xfff);
}

bool chk_GUEST_LINK_WIDTH(struct entry_ctx *e)
{
	uint64_t p;
	return !link_set(e, &p) || chk_addr_width(e, VF_VMCS_LINK_PTR);
}

bool chk_GUEST_LINK_REVISION(struct entry_ctx *e)
{
	uint64_t p;
	if (!link_set(e, &p))
		return true;
	uint64_t rev = rd_mem(e, p, 4) & ~(uint64_t)VMCS_SHADOW_INDICATOR;
	return verdict(e, rev == vmx_mdl(e)->revision, rev, vmx_mdl(e)->revision);
}

bool chk_GUEST_LINK_SHADOW(struct entry_ctx *e)
{
	uint64_t p;
	if (!link_set(e, &p))
		return true;
	uint64_t ind = (rd_mem(e, p, 4) & VMCS_SHADOW_INDICATOR) != 0;
	uint64_t want = (proc2_ctls(e) & PROC2_VMCS_SHADOWING) != 0;
	return verdict(e, ind == want, ind, want);
}

bool chk_GUEST_LINK_CURRENT(struct entry_ctx *e)
{
	uint64_t p;
	return !link_set(e, &p) || verdict(e, p != e->c->vmx.vmcs_ptr, p, ~0ull);
}

/* 26.3.1.6 PDPTEs: with PAE paging (not IA-32e mode), each present PDPTE
 * must have its reserved bits (2:1, 8:5, 63:MAXPHYADDR) clear. With EPT the
 * PDPTEs come from the VMCS fields; otherwise from the page-directory-
 * pointer table at guest CR3 (bits 31:5), read as loading does. */
static bool pdpte_ok(struct entry_ctx *e, unsigned i)
{
	uint64_t cr0 = guest_cr0(e), cr4 = guest_cr4(e), v;
	if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || ia32e_guest(e))
		return true;
	if (proc2_ctls(e) & PROC2_EPT) {
		v = rd(e, (enum vmcs_field)(VF_GUEST_PDPTE0 + i));
	} else {
		uint64_t table = rd(e, VF_GUEST_CR3) & 0xffffffe0u;
		v = rd_mem(e, table + 8 * i, 8);
		e->field = VF_GUEST_CR3;
		e->index = i;
	}
	return !(v & 1) || chk_rsvd(e, v, 0x1e6ull | phys_beyond(e));
}

_Static_assert(VF_GUEST_PDPTE3 - VF_GUEST_PDPTE0 == 3, "PDPTE fields are consecutive rows");

bool chk_GUEST_PDPTE0_RSVD(struct entry_ctx *e)
{
	return pdpte_ok(e, 0);
}

bool chk_GUEST_PDPTE1_RSVD(struct entry_ctx *e)
{
	return pdpte_ok(e, 1);
}

bool chk_GUEST_PDPTE2_RSVD(struct entry_ctx *e)
{
	return pdpte_ok(e, 2);
}

bool chk_GUEST_PDPTE3_RSVD(struct entry_ctx *e)
{
	return pdpte_ok(e, 3);
}
