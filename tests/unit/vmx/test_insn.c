/* vmx/insn*.c: the VMX instructions other than VMLAUNCH/VMRESUME, on a CPU
 * whose model row is a test fake with VMX (SDM vol. 3C 30.3): fault order,
 * VMfail error numbers, RFLAGS, the active-VMCS list, VMREAD/VMWRITE widths,
 * INVEPT/INVVPID operands, and the VM-exit instruction information. */
#include <CUnit/CUnit.h>

#include "cpu/model.h"
#include "cpu/msr.h"
#include "tests/unit/cpu/sysenv.h"
#include "tests/unit/vmx/host_state.h"
#include "vmx/controls.h"
#include "vmx/insn.h"
#include "vmx/vmcs.h"

#define REV 0x12u
#define VMXON_PA 0x100000u
#define VMCS_A 0x101000u
#define VMCS_B 0x102000u
#define PTR_AT 0x9000u          /* where the memory operand [rax] points */

/* IA32_VMX_EPT_VPID_CAP: 4-level walks, WB, A/D, INVEPT single + all,
 * INVVPID with all four types (Appendix A.10). */
#define FAKE_EPT_VPID_CAP ((1ull << 6) | (1ull << 14) | (1ull << 20) | (1ull << 21) | (1ull << 25) | \
			   (1ull << 26) | (1ull << 32) | (0xfull << 40))

static struct cpu_model fake, fake_misc29, fake_noept;

static void quiet(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

static void make_models(void)
{
	fake = *cpu_model_default();
	fake.vmx = (struct vmx_model){
		.revision = REV,
		.proc_allowed1 = PROC_SECONDARY_CTLS | PROC_MSR_BITMAPS,
		.proc2_allowed1 = PROC2_EPT | PROC2_VPID | PROC2_VMCS_SHADOWING,
		.entry_allowed1 = ENTRY_IA32E_GUEST | ENTRY_LOAD_EFER,
		.exit_allowed1 = EXIT_HOST_ADDR_SPACE | EXIT_LOAD_EFER,
		.ept_vpid_cap = FAKE_EPT_VPID_CAP,
	};
	fake_misc29 = fake;
	fake_misc29.vmx.misc = 1ull << 29;
	fake_noept = fake;
	fake_noept.vmx.proc2_allowed1 = 0;
	fake_noept.vmx.ept_vpid_cap = 0;
}

/* Long mode at CPL 0 on model m, ready for VMXON: CR4.VMXE, CR0.NE,
 * IA32_FEATURE_CONTROL locked with VMX outside SMX, regions with the
 * revision at VMXON_PA, VMCS_A and VMCS_B. */
static struct harness *vmx_env(const struct cpu_model *m)
{
	make_models();
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	c->model = m;
	c->warn = quiet;        /* counted in c->warnings */
	c->cr0 |= CR0_NE;
	c->cr4 |= CR4_VMXE;
	c->msr.feature_control = FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX;
	cpu_mode_changed(c);
	put32(h, VMXON_PA, REV);
	put32(h, VMCS_A, REV);
	put32(h, VMCS_B, REV);
	c->gpr[R_AX] = PTR_AT;
	return h;
}

static const uint8_t VMXON[] = { 0xf3, 0x0f, 0xc7, 0x30 };      /* vmxon [rax] */
static const uint8_t VMCLEAR[] = { 0x66, 0x0f, 0xc7, 0x30 };    /* vmclear [rax] */
static const uint8_t VMPTRLD[] = { 0x0f, 0xc7, 0x30 };          /* vmptrld [rax] */
static const uint8_t VMPTRST[] = { 0x0f, 0xc7, 0x38 };          /* vmptrst [rax] */
static const uint8_t VMREAD_RR[] = { 0x0f, 0x78, 0xcb };        /* vmread rbx, rcx */
static const uint8_t VMWRITE_RR[] = { 0x0f, 0x79, 0xcb };       /* vmwrite rcx, rbx */
static const uint8_t VMREAD_M[] = { 0x0f, 0x78, 0x08 };         /* vmread [rax], rcx */
static const uint8_t VMWRITE_M[] = { 0x0f, 0x79, 0x08 };        /* vmwrite rcx, [rax] */
static const uint8_t VMCALL[] = { 0x0f, 0x01, 0xc1 };
static const uint8_t VMXOFF[] = { 0x0f, 0x01, 0xc4 };
static const uint8_t INVEPT[] = { 0x66, 0x0f, 0x38, 0x80, 0x08 };       /* invept rcx, [rax] */
static const uint8_t INVVPID[] = { 0x66, 0x0f, 0x38, 0x81, 0x08 };      /* invvpid rcx, [rax] */

#define RUN(c, code) exec_insn((c), (code), sizeof(code))

/* Run an instruction with every arithmetic flag set first; the outcome as
 * RFLAGS shows it: 0 = VMsucceed, 1 = VMfailInvalid, 2 = VMfailValid, -1
 * = some other flag pattern (a VMX instruction must clear the rest). */
static int vm_outcome(struct cpu *c, const uint8_t *code, unsigned n)
{
	cpu_set_rflags(c, cpu_get_rflags(c) | FL_ARITH);
	if (exec_insn(c, code, n) != EXEC_OK)
		return -2;
	uint64_t f = cpu_get_rflags(c) & FL_ARITH;
	return f == 0 ? 0 : f == FL_CF ? 1 : f == FL_ZF ? 2 : -1;
}
#define OUTCOME(c, code) vm_outcome((c), (code), sizeof(code))

static uint32_t insn_error(struct harness *h)
{
	return (uint32_t)vmcs_read(&h->cpu, VF_VM_INSTRUCTION_ERROR);
}

static void expect_fault(struct cpu *c, const uint8_t *code, unsigned n, unsigned vec)
{
	c->exc.vector = 0xff;
	CU_ASSERT_EQUAL(exec_insn(c, code, n), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, vec);
}
#define FAULT(c, code, vec) expect_fault((c), (code), sizeof(code), (vec))

/* VMXON at PTR_AT's pointer, then VMCLEAR + VMPTRLD of VMCS_A. */
static void on_and_load(struct harness *h)
{
	put64(h, PTR_AT, VMXON_PA);
	CU_ASSERT_EQUAL(OUTCOME(&h->cpu, VMXON), 0);
	put64(h, PTR_AT, VMCS_A);
	CU_ASSERT_EQUAL(OUTCOME(&h->cpu, VMCLEAR), 0);
	CU_ASSERT_EQUAL(OUTCOME(&h->cpu, VMPTRLD), 0);
}

static void test_decode(void)
{
	static const struct { const char *name; uint8_t b[8]; unsigned n, len; bool code64; } t[] = {
		{ "vmxon_Mq", { 0xf3, 0x0f, 0xc7, 0x30 }, 4, 4, true },
		{ "vmclear_Mq", { 0x66, 0x0f, 0xc7, 0x70, 0x10 }, 5, 5, true },
		{ "vmptrld_Mq", { 0x0f, 0xc7, 0x34, 0x24 }, 4, 4, true },
		{ "vmptrst_Mq", { 0x0f, 0xc7, 0x3d, 1, 2, 3, 4 }, 7, 7, true },
		{ "vmread_Ey_Gy", { 0x4c, 0x0f, 0x78, 0xc8 }, 4, 4, true },
		{ "vmwrite_Gy_Ey", { 0x0f, 0x79, 0x80, 0, 1, 0, 0 }, 7, 7, false },
		{ "vmcall", { 0x0f, 0x01, 0xc1 }, 3, 3, true },
		{ "vmxoff", { 0x0f, 0x01, 0xc4 }, 3, 3, false },
		{ "invept_Gy_Mdq", { 0x66, 0x0f, 0x38, 0x80, 0x08 }, 5, 5, true },
		{ "invvpid_Gy_Mdq", { 0x66, 0x0f, 0x38, 0x81, 0x48, 0x08 }, 6, 6, false },
		/* the register forms stay RDRAND / RDSEED / RDPID */
		{ "rdrand_Rv", { 0x0f, 0xc7, 0xf0 }, 3, 3, true },
		{ "rdseed_Rv", { 0x0f, 0xc7, 0xf8 }, 3, 3, true },
		{ "rdpid_Rq", { 0xf3, 0x0f, 0xc7, 0xf8 }, 4, 4, true },
	};
	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		struct insn i;
		struct decode_mode m = { t[k].code64, 1 };
		CU_ASSERT_EQUAL_FATAL(cpu_decode(t[k].b, t[k].n, m, &i), DECODE_OK);
		CU_ASSERT_STRING_EQUAL(cpu_insn_name(&i), t[k].name);
		CU_ASSERT_EQUAL(i.len, t[k].len);
	}
	/* Mandatory prefixes: F2 0F C7 /6, 66 0F C7 /7, 66 0F 78, NP 0F 38 80,
	 * LOCK and register forms of the pointer instructions are #UD. */
	static const uint8_t ud[][6] = {
		{ 0xf2, 0x0f, 0xc7, 0x30 }, { 0x66, 0x0f, 0xc7, 0x38 }, { 0x66, 0x0f, 0x78, 0x08 },
		{ 0x0f, 0x38, 0x80, 0x08 }, { 0x66, 0x0f, 0x38, 0x80, 0xc0 }, { 0xf0, 0x0f, 0xc7, 0x30 },
		{ 0x66, 0x0f, 0x01, 0xc1 },
	};
	for (size_t k = 0; k < sizeof(ud) / sizeof(ud[0]); k++) {
		struct insn i;
		struct decode_mode m = { 1, 1 };
		CU_ASSERT_EQUAL(cpu_decode(ud[k], 6, m, &i), DECODE_UD);
	}
}

static void test_vmxon_faults(void)
{
	struct harness *h = vmx_env(&fake);
	struct cpu *c = &h->cpu;
	put64(h, PTR_AT, VMXON_PA);
	/* #UD: CR4.VMXE = 0 */
	c->cr4 &= ~CR4_VMXE;
	FAULT(c, VMXON, VEC_UD);
	c->cr4 |= CR4_VMXE;
	/* #UD before #GP: compatibility mode at CPL 3 */
	c->cpl = 3;
	c->code64 = 0;
	FAULT(c, VMXON, VEC_UD);
	c->code64 = 1;
	/* #GP(0) at CPL 3 */
	FAULT(c, VMXON, VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, 0);
	c->cpl = 0;
	/* #GP(0): IA32_FEATURE_CONTROL not locked, or VMX outside SMX off */
	c->msr.feature_control = FEATURE_CONTROL_VMX;
	FAULT(c, VMXON, VEC_GP);
	c->msr.feature_control = FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_SMX;
	FAULT(c, VMXON, VEC_GP);
	c->msr.feature_control = FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX;
	/* #GP(0) in A20M mode, before the operand is read */
	c->a20_masked = true;
	c->gpr[R_AX] = 0x40000000;        /* beyond the harness's 1 GiB map */
	FAULT(c, VMXON, VEC_GP);
	c->a20_masked = false;
	/* operand fetch: not-present page -> #PF, non-canonical [rax] -> #GP(0) */
	FAULT(c, VMXON, VEC_PF);
	c->gpr[R_AX] = 0x8000000000000000ull;
	FAULT(c, VMXON, VEC_GP);
	CU_ASSERT_FALSE(c->vmx.on);
	/* a model without VMX: #UD even with CR4.VMXE set */
	static struct cpu_model novmx;
	novmx = fake;
	novmx.vmx.revision = 0;
	c->model = &novmx;
	c->gpr[R_AX] = PTR_AT;
	FAULT(c, VMXON, VEC_UD);
	harness_destroy(h);
}

static void test_vmxon_pointer(void)
{
	struct harness *h = vmx_env(&fake);
	struct cpu *c = &h->cpu;
	put64(h, PTR_AT, VMXON_PA + 0x800);                       /* not 4 KiB aligned */
	CU_ASSERT_EQUAL(OUTCOME(c, VMXON), 1);
	put64(h, PTR_AT, 1ull << fake.phys_addr_bits);            /* beyond MAXPHYADDR */
	CU_ASSERT_EQUAL(OUTCOME(c, VMXON), 1);
	put64(h, PTR_AT, VMXON_PA);
	put32(h, VMXON_PA, REV + 1);                              /* wrong revision */
	CU_ASSERT_EQUAL(OUTCOME(c, VMXON), 1);
	put32(h, VMXON_PA, REV | 0x80000000u);                    /* bit 31 set */
	CU_ASSERT_EQUAL(OUTCOME(c, VMXON), 1);
	CU_ASSERT_FALSE(c->vmx.on);
	put32(h, VMXON_PA, REV);
	CU_ASSERT_EQUAL(OUTCOME(c, VMXON), 0);
	CU_ASSERT(c->vmx.on);
	CU_ASSERT_EQUAL(c->vmx.vmcs_ptr, VMCS_PTR_NONE);
	CU_ASSERT(vmx_init_blocked(&c->vmx));
	/* VMXON in VMX root operation: VMfail(15), VMfailInvalid with no current VMCS */
	CU_ASSERT_EQUAL(OUTCOME(c, VMXON), 1);
	put64(h, PTR_AT, VMCS_A);
	CU_ASSERT_EQUAL(OUTCOME(c, VMCLEAR), 0);
	CU_ASSERT_EQUAL(OUTCOME(c, VMPTRLD), 0);
	CU_ASSERT_EQUAL(OUTCOME(c, VMXON), 2);
	CU_ASSERT_EQUAL(insn_error(h), VMERR_VMXON_IN_ROOT);
	/* ... but #GP(0) at CPL 3 comes first */
	c->cpl = 3;
	FAULT(c, VMXON, VEC_GP);
	harness_destroy(h);
}

static void test_vmclear_vmptrld(void)
{
	struct harness *h = vmx_env(&fake);
	struct cpu *c = &h->cpu;
	/* outside VMX operation: #UD */
	put64(h, PTR_AT, VMCS_A);
	FAULT(c, VMCLEAR, VEC_UD);
	FAULT(c, VMPTRLD, VEC_UD);
	FAULT(c, VMPTRST, VEC_UD);
	put64(h, PTR_AT, VMXON_PA);
	CU_ASSERT_EQUAL(OUTCOME(c, VMXON), 0);
	/* errors without a current VMCS are VMfailInvalid */
	put64(h, PTR_AT, VMCS_A + 8);
	CU_ASSERT_EQUAL(OUTCOME(c, VMCLEAR), 1);
	CU_ASSERT_EQUAL(OUTCOME(c, VMPTRLD), 1);
	/* VMPTRLD of a region never VMCLEARed: warned, taken as clear */
	uint64_t warnings = c->warnings;
	put64(h, PTR_AT, VMCS_B);
	CU_ASSERT_EQUAL(OUTCOME(c, VMPTRLD), 0);
	CU_ASSERT_EQUAL(c->warnings, warnings + 1);
	CU_ASSERT_EQUAL(c->vmx.nactive, 1);
	CU_ASSERT_FALSE(c->vmx.active[0].launched);
	/* with a current VMCS the errors are VMfailValid */
	put64(h, PTR_AT, VMCS_A + 8);
	CU_ASSERT_EQUAL(OUTCOME(c, VMCLEAR), 2);
	CU_ASSERT_EQUAL(insn_error(h), VMERR_VMCLEAR_INVALID_ADDR);
	put64(h, PTR_AT, 1ull << 46);
	CU_ASSERT_EQUAL(OUTCOME(c, VMCLEAR), 2);
	CU_ASSERT_EQUAL(insn_error(h), VMERR_VMCLEAR_INVALID_ADDR);
	put64(h, PTR_AT, VMXON_PA);
	CU_ASSERT_EQUAL(OUTCOME(c, VMCLEAR), 2);
	CU_ASSERT_EQUAL(insn_error(h), VMERR_VMCLEAR_VMXON_PTR);
	put64(h, PTR_AT, VMCS_A + 0x10);
	CU_ASSERT_EQUAL(OUTCOME(c, VMPTRLD), 2);
	CU_ASSERT_EQUAL(insn_error(h), VMERR_VMPTRLD_INVALID_ADDR);
	put64(h, PTR_AT, VMXON_PA);
	CU_ASSERT_EQUAL(OUTCOME(c, VMPTRLD), 2);
	CU_ASSERT_EQUAL(insn_error(h), VMERR_VMPTRLD_VMXON_PTR);
	put32(h, VMCS_A, REV + 1);
	put64(h, PTR_AT, VMCS_A);
	CU_ASSERT_EQUAL(OUTCOME(c, VMPTRLD), 2);
	CU_ASSERT_EQUAL(insn_error(h), VMERR_VMPTRLD_BAD_REVISION);
	/* bit 31 (shadow VMCS) is accepted: the model allows VMCS shadowing */
	put32(h, VMCS_A, REV | VMCS_SHADOW_INDICATOR);
	CU_ASSERT_EQUAL(OUTCOME(c, VMCLEAR), 0);
	CU_ASSERT_EQUAL(get32(h, VMCS_A + VMCS_OFF_LAUNCH), VMCS_LAUNCH_CLEAR);
	CU_ASSERT_EQUAL(OUTCOME(c, VMPTRLD), 0);
	CU_ASSERT_EQUAL(c->vmx.vmcs_ptr, VMCS_A);
	CU_ASSERT_EQUAL(c->vmx.nactive, 2);
	/* VMPTRST stores the pointer */
	c->gpr[R_AX] = PTR_AT + 8;
	CU_ASSERT_EQUAL(OUTCOME(c, VMPTRST), 0);
	CU_ASSERT_EQUAL(get64(h, PTR_AT + 8), VMCS_A);
	/* VMCLEAR of the current VMCS: no current VMCS, VMREAD VMfailInvalid */
	c->gpr[R_AX] = PTR_AT;
	c->vmx.active[1].launched = true;
	CU_ASSERT_EQUAL(OUTCOME(c, VMCLEAR), 0);
	CU_ASSERT_EQUAL(c->vmx.vmcs_ptr, VMCS_PTR_NONE);
	CU_ASSERT_EQUAL(c->vmx.nactive, 1);
	CU_ASSERT_EQUAL(get32(h, VMCS_A + VMCS_OFF_LAUNCH), VMCS_LAUNCH_CLEAR);
	c->gpr[R_CX] = 0x681e;  /* GUEST_RIP */
	CU_ASSERT_EQUAL(OUTCOME(c, VMREAD_RR), 1);
	c->gpr[R_AX] = PTR_AT + 8;
	CU_ASSERT_EQUAL(OUTCOME(c, VMPTRST), 0);
	CU_ASSERT_EQUAL(get64(h, PTR_AT + 8), VMCS_PTR_NONE);
	/* #GP(0) at CPL 3 before anything else; VMPTRST's #PF on its store */
	c->gpr[R_AX] = 0x40000000;
	FAULT(c, VMPTRST, VEC_PF);
	CU_ASSERT(c->exc.error & 2);    /* a write */
	c->cpl = 3;
	FAULT(c, VMPTRST, VEC_GP);
	FAULT(c, VMCLEAR, VEC_GP);
	harness_destroy(h);
}

static void test_active_list(void)
{
	struct harness *h = vmx_env(&fake);
	struct cpu *c = &h->cpu;
	put64(h, PTR_AT, VMXON_PA);
	CU_ASSERT_EQUAL(OUTCOME(c, VMXON), 0);
	/* VMX_ACTIVE_MAX + 1 regions: the oldest is written back and dropped */
	for (unsigned k = 0; k <= VMX_ACTIVE_MAX; k++) {
		uint64_t pa = 0x200000 + 0x1000ull * k;
		put32(h, pa, REV);
		put64(h, PTR_AT, pa);
		CU_ASSERT_EQUAL(OUTCOME(c, VMCLEAR), 0);
		CU_ASSERT_EQUAL(OUTCOME(c, VMPTRLD), 0);
		if (k == 0)
			c->vmx.active[0].launched = true;
	}
	CU_ASSERT_EQUAL(c->vmx.nactive, VMX_ACTIVE_MAX);
	CU_ASSERT_EQUAL(c->vmx.active[0].pa, 0x201000);
	CU_ASSERT_EQUAL(get32(h, 0x200000 + VMCS_OFF_LAUNCH), VMCS_LAUNCH_LAUNCHED);
	/* loading it again brings its launch state back */
	put64(h, PTR_AT, 0x200000);
	CU_ASSERT_EQUAL(OUTCOME(c, VMPTRLD), 0);
	CU_ASSERT(c->vmx.active[VMX_ACTIVE_MAX - 1].pa == 0x200000 && c->vmx.active[VMX_ACTIVE_MAX - 1].launched);
	/* VMXOFF writes back every active VMCS; a launched one is marked so
	 * that VMRESUME after VMXON + VMPTRLD can fail with error 6 */
	CU_ASSERT_EQUAL(OUTCOME(c, VMXOFF), 0);
	CU_ASSERT_FALSE(c->vmx.on);
	CU_ASSERT_EQUAL(c->vmx.nactive, 0);
	CU_ASSERT_EQUAL(get32(h, 0x200000 + VMCS_OFF_LAUNCH), VMCS_LAUNCH_VMXOFF);
	CU_ASSERT_EQUAL(get32(h, 0x201000 + VMCS_OFF_LAUNCH), VMCS_LAUNCH_CLEAR);
	put64(h, PTR_AT, VMXON_PA);
	CU_ASSERT_EQUAL(OUTCOME(c, VMXON), 0);
	put64(h, PTR_AT, 0x200000);
	CU_ASSERT_EQUAL(OUTCOME(c, VMPTRLD), 0);
	CU_ASSERT(c->vmx.active[0].launched && c->vmx.active[0].after_vmxoff);
	harness_destroy(h);
}

static void test_vmread_vmwrite(void)
{
	struct harness *h = vmx_env(&fake);
	struct cpu *c = &h->cpu;
	on_and_load(h);
	/* natural width: 64 bits in 64-bit mode */
	c->gpr[R_CX] = 0x681e;  /* GUEST_RIP */
	c->gpr[R_BX] = 0xfedcba9876543210ull;
	CU_ASSERT_EQUAL(OUTCOME(c, VMWRITE_RR), 0);
	c->gpr[R_BX] = 0;
	CU_ASSERT_EQUAL(OUTCOME(c, VMREAD_RR), 0);
	CU_ASSERT_EQUAL(c->gpr[R_BX], 0xfedcba9876543210ull);
	/* 16-bit field: truncated on write, zero-extended on read */
	c->gpr[R_CX] = 0x0802;  /* GUEST_CS_SELECTOR */
	c->gpr[R_BX] = 0x123456789abcull;
	CU_ASSERT_EQUAL(OUTCOME(c, VMWRITE_RR), 0);
	c->gpr[R_BX] = ~0ull;
	CU_ASSERT_EQUAL(OUTCOME(c, VMREAD_RR), 0);
	CU_ASSERT_EQUAL(c->gpr[R_BX], 0x9abc);
	/* 64-bit field, full and high */
	c->gpr[R_CX] = 0x2800;  /* VMCS_LINK_PTR */
	c->gpr[R_BX] = 0x1111222233334444ull;
	CU_ASSERT_EQUAL(OUTCOME(c, VMWRITE_RR), 0);
	c->gpr[R_CX] = 0x2801;
	CU_ASSERT_EQUAL(OUTCOME(c, VMREAD_RR), 0);
	CU_ASSERT_EQUAL(c->gpr[R_BX], 0x11112222);
	c->gpr[R_BX] = 0xaaaabbbbccccddddull;   /* high write: low 32 bits of the source to 63:32 */
	CU_ASSERT_EQUAL(OUTCOME(c, VMWRITE_RR), 0);
	CU_ASSERT_EQUAL(vmcs_read(c, VF_VMCS_LINK_PTR), 0xccccdddd33334444ull);
	/* error 12: unknown encoding, bits 63:32 set, field the model lacks */
	c->gpr[R_CX] = 0x6c40;
	CU_ASSERT_EQUAL(OUTCOME(c, VMREAD_RR), 2);
	CU_ASSERT_EQUAL(insn_error(h), VMERR_VMREADWRITE_BAD_FIELD);
	c->gpr[R_CX] = 0x10000681eull;
	CU_ASSERT_EQUAL(OUTCOME(c, VMREAD_RR), 2);
	CU_ASSERT_EQUAL(insn_error(h), VMERR_VMREADWRITE_BAD_FIELD);
	c->gpr[R_CX] = 0x200e;  /* PML address: the model has no PML */
	CU_ASSERT_EQUAL(OUTCOME(c, VMWRITE_RR), 2);
	CU_ASSERT_EQUAL(insn_error(h), VMERR_VMREADWRITE_BAD_FIELD);
	c->gpr[R_CX] = 0x0803;  /* high access type of a 16-bit field */
	CU_ASSERT_EQUAL(OUTCOME(c, VMREAD_RR), 2);
	/* error 13: read-only field, without IA32_VMX_MISC[29] */
	c->gpr[R_CX] = 0x4402;  /* EXIT_REASON */
	CU_ASSERT_EQUAL(OUTCOME(c, VMWRITE_RR), 2);
	CU_ASSERT_EQUAL(insn_error(h), VMERR_VMWRITE_READONLY);
	CU_ASSERT_EQUAL(OUTCOME(c, VMREAD_RR), 0);
	c->model = &fake_misc29;
	c->gpr[R_BX] = 77;
	CU_ASSERT_EQUAL(OUTCOME(c, VMWRITE_RR), 0);
	CU_ASSERT_EQUAL(vmcs_read(c, VF_EXIT_REASON), 77);
	/* memory operands: VMWRITE's source faults before the field check,
	 * VMREAD's destination only after it */
	c->gpr[R_AX] = 0x40000000;
	c->gpr[R_CX] = 0x6c40;
	FAULT(c, VMWRITE_M, VEC_PF);
	CU_ASSERT_EQUAL(OUTCOME(c, VMREAD_M), 2);
	c->gpr[R_CX] = 0x681e;
	FAULT(c, VMREAD_M, VEC_PF);
	c->gpr[R_AX] = PTR_AT;
	put64(h, PTR_AT, 0x0123456789abcdefull);
	CU_ASSERT_EQUAL(OUTCOME(c, VMWRITE_M), 0);
	put64(h, PTR_AT, 0);
	CU_ASSERT_EQUAL(OUTCOME(c, VMREAD_M), 0);
	CU_ASSERT_EQUAL(get64(h, PTR_AT), 0x0123456789abcdefull);
	/* VMCALL in root operation: VMfail(1) */
	CU_ASSERT_EQUAL(OUTCOME(c, VMCALL), 2);
	CU_ASSERT_EQUAL(insn_error(h), VMERR_VMCALL_IN_ROOT);
	/* CPL 3: #GP(0) */
	c->cpl = 3;
	FAULT(c, VMREAD_RR, VEC_GP);
	FAULT(c, VMCALL, VEC_GP);
	c->cpl = 0;
	/* after VMXOFF every VMX instruction but VMXON is #UD */
	CU_ASSERT_EQUAL(OUTCOME(c, VMXOFF), 0);
	FAULT(c, VMREAD_RR, VEC_UD);
	FAULT(c, VMWRITE_RR, VEC_UD);
	FAULT(c, VMCALL, VEC_UD);
	FAULT(c, VMXOFF, VEC_UD);
	FAULT(c, INVEPT, VEC_UD);
	harness_destroy(h);
}

/* Outside 64-bit mode (32-bit protected mode, paging off) VMREAD/VMWRITE
 * move 32 bits: a longer field is read in its low half and written with
 * its high half cleared. */
static void test_vmread_vmwrite_32(void)
{
	make_models();
	struct harness *h = harness_create(false);
	struct cpu *c = &h->cpu;
	c->model = &fake;
	put32(h, 0x1000, 0x87);         /* one 4 MiB page over the harness RAM (CR0.PG is a FIXED0 bit) */
	c->cr3 = 0x1000;
	c->cr0 |= CR0_NE | CR0_PG;
	c->cr4 |= CR4_VMXE | CR4_PSE;
	c->msr.feature_control = FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX;
	cpu_mode_changed(c);
	put32(h, VMXON_PA, REV);
	put32(h, VMCS_A, REV);
	c->gpr[R_AX] = PTR_AT;
	on_and_load(h);
	vmcs_write(c, VF_GUEST_RIP, 0xffffffff00000000ull);
	c->gpr[R_CX] = 0x681e;
	c->gpr[R_BX] = 0x12345678;
	CU_ASSERT_EQUAL(OUTCOME(c, VMWRITE_RR), 0);
	CU_ASSERT_EQUAL(vmcs_read(c, VF_GUEST_RIP), 0x12345678);
	vmcs_write(c, VF_TSC_OFFSET, 0x8877665544332211ull);
	c->gpr[R_CX] = 0x2010;
	CU_ASSERT_EQUAL(OUTCOME(c, VMREAD_RR), 0);
	CU_ASSERT_EQUAL(c->gpr[R_BX], 0x44332211);
	c->gpr[R_CX] = 0x2011;
	CU_ASSERT_EQUAL(OUTCOME(c, VMREAD_RR), 0);
	CU_ASSERT_EQUAL(c->gpr[R_BX], 0x88776655);
	c->gpr[R_BX] = 0xdeadbeef;
	CU_ASSERT_EQUAL(OUTCOME(c, VMWRITE_RR), 0);
	CU_ASSERT_EQUAL(vmcs_read(c, VF_TSC_OFFSET), 0xdeadbeef44332211ull);
	c->gpr[R_CX] = 0x2010;
	CU_ASSERT_EQUAL(OUTCOME(c, VMWRITE_RR), 0);
	CU_ASSERT_EQUAL(vmcs_read(c, VF_TSC_OFFSET), 0xdeadbeef);
	/* a 32-bit memory destination: 4 bytes written, the next 4 untouched */
	put64(h, PTR_AT, ~0ull);
	CU_ASSERT_EQUAL(OUTCOME(c, VMREAD_M), 0);
	CU_ASSERT_EQUAL(get64(h, PTR_AT), 0xffffffffdeadbeefull);
	/* real-address mode: #UD */
	c->cr0 &= ~CR0_PE;
	FAULT(c, VMREAD_RR, VEC_UD);
	harness_destroy(h);
}

static void test_invept_invvpid(void)
{
	struct harness *h = vmx_env(&fake);
	struct cpu *c = &h->cpu;
	on_and_load(h);
	uint64_t good_eptp = 0x300000 | 6 | 3 << 3;     /* WB, 4-level walk */
	/* unsupported INVEPT types: VMfail(28) before the operand is read */
	c->gpr[R_AX] = 0x40000000;
	c->gpr[R_CX] = 0;
	CU_ASSERT_EQUAL(OUTCOME(c, INVEPT), 2);
	CU_ASSERT_EQUAL(insn_error(h), VMERR_INVEPT_INVVPID_INVALID);
	c->gpr[R_CX] = 0x100000001ull;
	CU_ASSERT_EQUAL(OUTCOME(c, INVEPT), 2);
	/* a supported type reads the descriptor: #PF */
	c->gpr[R_CX] = 2;
	FAULT(c, INVEPT, VEC_PF);
	c->gpr[R_AX] = PTR_AT;
	put64(h, PTR_AT, 0);
	put64(h, PTR_AT + 8, 0);
	CU_ASSERT_EQUAL(OUTCOME(c, INVEPT), 0);
	/* single-context: the EPTP must pass the VM-entry checks */
	c->gpr[R_CX] = 1;
	put64(h, PTR_AT, good_eptp);
	CU_ASSERT_EQUAL(OUTCOME(c, INVEPT), 0);
	static const uint64_t bad[] = { 0x300000 | 0 | 3 << 3, 0x300000 | 6 | 4 << 3, 0x300000 | 6 | 3 << 3 | 0x80,
					(1ull << 46) | 6 | 3 << 3 };
	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		put64(h, PTR_AT, bad[k]);
		CU_ASSERT_EQUAL(OUTCOME(c, INVEPT), 2);
	}
	put64(h, PTR_AT, good_eptp | 0x40);     /* A/D: supported by the model */
	CU_ASSERT_EQUAL(OUTCOME(c, INVEPT), 0);
	/* INVVPID */
	c->gpr[R_CX] = 4;
	CU_ASSERT_EQUAL(OUTCOME(c, INVVPID), 2);
	c->gpr[R_CX] = 0;
	put64(h, PTR_AT, 1);
	put64(h, PTR_AT + 8, 0x1000);
	CU_ASSERT_EQUAL(OUTCOME(c, INVVPID), 0);
	put64(h, PTR_AT + 8, 0x0000800000000000ull);   /* not canonical (no LA57 in CR4) */
	CU_ASSERT_EQUAL(OUTCOME(c, INVVPID), 2);
	put64(h, PTR_AT + 8, 0x1000);
	put64(h, PTR_AT, 0);                            /* VPID 0 */
	CU_ASSERT_EQUAL(OUTCOME(c, INVVPID), 2);
	c->gpr[R_CX] = 2;                               /* all-context: VPID 0 is fine */
	CU_ASSERT_EQUAL(OUTCOME(c, INVVPID), 0);
	c->gpr[R_CX] = 3;
	CU_ASSERT_EQUAL(OUTCOME(c, INVVPID), 2);
	put64(h, PTR_AT, 0x10001);                      /* bits 63:16 reserved */
	c->gpr[R_CX] = 1;
	CU_ASSERT_EQUAL(OUTCOME(c, INVVPID), 2);
	CU_ASSERT_EQUAL(insn_error(h), VMERR_INVEPT_INVVPID_INVALID);
	c->cpl = 3;
	FAULT(c, INVVPID, VEC_GP);
	c->cpl = 0;
	/* a model without EPT/VPID: #UD in VMX operation */
	c->model = &fake_noept;
	FAULT(c, INVEPT, VEC_UD);
	FAULT(c, INVVPID, VEC_UD);
	harness_destroy(h);
}

/* Host state for the VM exits of test_nonroot: the CPU's own long mode. */
static void host_state(struct harness *h)
{
	struct cpu *c = &h->cpu;
	vmcs_write(c, VF_EXIT_CONTROLS, EXIT_HOST_ADDR_SPACE);
	vmx_test_host_state(c, 0x7000, 0x8000);
}

/* Run code in non-root operation at CPL 3; it must exit with reason
 * (27.2.1 qualification, 27.2.4 information, instruction length). */
static void expect_exit(struct harness *h, const uint8_t *code, unsigned n, unsigned reason, uint64_t qual,
			uint32_t info)
{
	struct cpu *c = &h->cpu;
	c->vmx.nonroot = true;
	c->cpl = 3;
	c->rip = 0x20000;
	CU_ASSERT_EQUAL(exec_insn(c, code, n), EXEC_OK);
	CU_ASSERT_FALSE(c->vmx.nonroot);
	CU_ASSERT_EQUAL(c->next_rip, 0x7000);
	CU_ASSERT_EQUAL(vmcs_read(c, VF_EXIT_REASON), reason);
	CU_ASSERT_EQUAL(vmcs_read(c, VF_EXIT_QUALIFICATION), qual);
	CU_ASSERT_EQUAL(vmcs_read(c, VF_EXIT_INSTRUCTION_LEN), n);
	CU_ASSERT_EQUAL(vmcs_read(c, VF_GUEST_RIP), 0x20000);
	if (info != UINT32_MAX)
		CU_ASSERT_EQUAL(vmcs_read(c, VF_EXIT_INSTRUCTION_INFO), info);
}
#define EXIT(h, code, reason, qual, info) expect_exit((h), (code), sizeof(code), (reason), (qual), (info))

/* In VMX non-root operation the instructions exit before the CPL check
 * (so no #GP at CPL 3) and change nothing else; the #UD tests come
 * first, except for VMCALL, which exits even in compatibility mode. */
static void test_nonroot(void)
{
	struct harness *h = vmx_env(&fake);
	struct cpu *c = &h->cpu;
	on_and_load(h);
	host_state(h);
	uint32_t mem_rax = 2u << 7 | 3u << 15 | 1u << 22;      /* [rax]: 64-bit, DS, no index, base RAX */
	put64(h, PTR_AT, VMCS_B);
	EXIT(h, VMPTRLD, EXIT_REASON_VMPTRLD, 0, mem_rax);
	CU_ASSERT_EQUAL(c->vmx.vmcs_ptr, VMCS_A);
	CU_ASSERT_EQUAL(c->vmx.nactive, 1);
	EXIT(h, VMXON, EXIT_REASON_VMXON, 0, mem_rax);
	EXIT(h, VMCLEAR, EXIT_REASON_VMCLEAR, 0, mem_rax);
	EXIT(h, VMPTRST, EXIT_REASON_VMPTRST, 0, mem_rax);
	EXIT(h, VMREAD_RR, EXIT_REASON_VMREAD, 0, 1u << 10 | 3u << 3 | 1u << 28);
	EXIT(h, VMWRITE_M, EXIT_REASON_VMWRITE, 0, mem_rax | 1u << 28);
	EXIT(h, INVEPT, EXIT_REASON_INVEPT, 0, mem_rax | 1u << 28);
	EXIT(h, INVVPID, EXIT_REASON_INVVPID, 0, mem_rax | 1u << 28);
	EXIT(h, VMXOFF, EXIT_REASON_VMXOFF, 0, UINT32_MAX);
	EXIT(h, VMCALL, EXIT_REASON_VMCALL, 0, UINT32_MAX);
	const uint8_t vmclear_disp[] = { 0x66, 0x0f, 0xc7, 0x70, 0xf0 };        /* vmclear [rax - 0x10] */
	EXIT(h, vmclear_disp, EXIT_REASON_VMCLEAR, (uint64_t)-0x10, mem_rax);
	CU_ASSERT(c->vmx.on);
	/* compatibility mode: VMCALL still exits, VMREAD is #UD */
	c->vmx.nonroot = true;
	c->code64 = 0;
	FAULT(c, VMREAD_RR, VEC_UD);
	CU_ASSERT(c->vmx.nonroot);
	EXIT(h, VMCALL, EXIT_REASON_VMCALL, 0, UINT32_MAX);
	CU_ASSERT(c->code64);   /* the 64-bit host is back */
	harness_destroy(h);
}

static struct insn dec64(const uint8_t *b, unsigned n, bool code64)
{
	struct insn i;
	struct decode_mode m = { code64, 1 };
	CU_ASSERT_EQUAL(cpu_decode(b, n, m, &i), DECODE_OK);
	return i;
}

/* 27.2.1 and 27.2.4, Tables 27-13 and 27-14. */
static void test_exit_info(void)
{
	/* vmclear [rbx + rcx*4 + 0x10]: scale 2, 64-bit, DS, index RCX, base RBX */
	const uint8_t a[] = { 0x66, 0x0f, 0xc7, 0x74, 0x8b, 0x10 };
	struct insn i = dec64(a, sizeof(a), true);
	CU_ASSERT_EQUAL(vmx_insn_info(&i, false, false), 2u | 2u << 7 | 3u << 15 | 1u << 18 | 3u << 23);
	CU_ASSERT_EQUAL(vmx_insn_qual(&i, 0x1000), 0x10);
	/* vmptrld fs:[r12 - 8]: no index, base R12, FS, negative displacement */
	const uint8_t b[] = { 0x64, 0x41, 0x0f, 0xc7, 0x74, 0x24, 0xf8 };
	i = dec64(b, sizeof(b), true);
	CU_ASSERT_EQUAL(vmx_insn_info(&i, false, false), 2u << 7 | 4u << 15 | 1u << 22 | 12u << 23);
	CU_ASSERT_EQUAL(vmx_insn_qual(&i, 0x1000), (uint64_t)-8);
	/* vmptrst [rip + 0x100]: no base, no index; qualification = disp + next RIP */
	const uint8_t d[] = { 0x0f, 0xc7, 0x3d, 0x00, 0x01, 0x00, 0x00 };
	i = dec64(d, sizeof(d), true);
	CU_ASSERT_EQUAL(vmx_insn_info(&i, false, false), 2u << 7 | 3u << 15 | 1u << 22 | 1u << 27);
	CU_ASSERT_EQUAL(vmx_insn_qual(&i, 0x5007), 0x5107);
	/* vmread rax, rcx (register): bit 10, Reg1 = RAX, Reg2 = RCX; qualification 0 */
	const uint8_t e[] = { 0x0f, 0x78, 0xc8 };
	i = dec64(e, sizeof(e), true);
	CU_ASSERT_EQUAL(vmx_insn_info(&i, true, false), 1u << 10 | 0u << 3 | 1u << 28);
	CU_ASSERT_EQUAL(vmx_insn_qual(&i, 0x1000), 0);
	/* vmwrite r9, r14 (REX.RB): Reg1 = R14, Reg2 = R9 */
	const uint8_t f[] = { 0x4d, 0x0f, 0x79, 0xce };
	i = dec64(f, sizeof(f), true);
	CU_ASSERT_EQUAL(vmx_insn_info(&i, true, false), 1u << 10 | 14u << 3 | 9u << 28);
	/* vmread [rsp + 0x20], rdx: SS by default, base RSP, Reg2 = RDX */
	const uint8_t g[] = { 0x0f, 0x78, 0x54, 0x24, 0x20 };
	i = dec64(g, sizeof(g), true);
	CU_ASSERT_EQUAL(vmx_insn_info(&i, true, false), 2u << 7 | 2u << 15 | 1u << 22 | 4u << 23 | 2u << 28);
	/* invept r9, [rax]: Reg2 = R9 */
	const uint8_t k[] = { 0x66, 0x4c, 0x0f, 0x38, 0x80, 0x08 };
	i = dec64(k, sizeof(k), true);
	CU_ASSERT_EQUAL(vmx_insn_info(&i, false, true), 2u << 7 | 3u << 15 | 1u << 22 | 0u << 23 | 9u << 28);
	/* 32-bit code, 16-bit addressing: vmclear [bp + si + 0x1234]: SS, base RBP, index RSI, 16-bit */
	const uint8_t l[] = { 0x67, 0x66, 0x0f, 0xc7, 0xb2, 0x34, 0x12 };
	i = dec64(l, sizeof(l), false);
	CU_ASSERT_EQUAL(vmx_insn_info(&i, false, false), 0u << 7 | 2u << 15 | 6u << 18 | 5u << 23);
	CU_ASSERT_EQUAL(vmx_insn_qual(&i, 0x1000), 0x1234);
}

void suite_vmx_insn(void)
{
	CU_pSuite s = CU_add_suite("vmx_insn", NULL, NULL);
	CU_add_test(s, "decode", test_decode);
	CU_add_test(s, "VMXON faults", test_vmxon_faults);
	CU_add_test(s, "VMXON pointer and revision", test_vmxon_pointer);
	CU_add_test(s, "VMCLEAR/VMPTRLD/VMPTRST", test_vmclear_vmptrld);
	CU_add_test(s, "active list and VMXOFF", test_active_list);
	CU_add_test(s, "VMREAD/VMWRITE 64-bit", test_vmread_vmwrite);
	CU_add_test(s, "VMREAD/VMWRITE 32-bit", test_vmread_vmwrite_32);
	CU_add_test(s, "INVEPT/INVVPID", test_invept_invvpid);
	CU_add_test(s, "non-root exits", test_nonroot);
	CU_add_test(s, "exit information", test_exit_info);
}
