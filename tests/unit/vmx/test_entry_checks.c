/* The VM-entry checks of vmx/entry_checks.def (SDM vol. 3C 26.2-26.4):
 * a valid baseline VMCS (64-bit host; 64-bit and 32-bit guest) passes
 * every phase; then, for every row of the CONTROLS, HOST, GUEST and
 * MSR_LOAD phases, one mutation of the baseline that breaks exactly that
 * rule makes entry_run_phase return that row (not an earlier one), with
 * the verdict recorded. The mutation table must cover every row. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/icache.h"
#include "cpu/model.h"
#include "mem/phys.h"
#include "mem/pio.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/entry.h"

#define RAM (8u << 20)
#define VMCS_PA 0x100000ull
#define SCRATCH 0x300000ull     /* bitmaps, virtual-APIC page, MSR areas */
#define EPT_PML4 0x400000ull
#define PDPT32 0x5000ull        /* a PAE guest's page-directory-pointer table */
#define REVISION 0x12345u

struct tcpu {
	struct phys_map pm;
	struct pio_bus pio;
	struct icache *ic;
	struct cpu_model model;
	struct cpu cpu;
	struct entry_ctx e;
};

/* A model that allows nearly every control, so each rule can be reached.
 * Reserved bits left for the reserved-bit rows: pin 31, proc 0, proc2 31,
 * proc3 63, exit 30, entry 31, VM function 1. */
static void make_model(struct cpu_model *m)
{
	*m = *cpu_model_default();
	m->vmx = (struct vmx_model){
		.revision = REVISION,
		.pin_allowed1 = 0xff,
		.proc_allowed1 = 0xfffffffeu,
		.proc2_allowed1 = 0x7fffffffu,
		.proc3_allowed1 = 1,
		.exit_allowed1 = 0xbfffffffu,
		.exit2_allowed1 = 0,
		.entry_allowed1 = 0x7fffffffu,
		.true_ctls = true,
		.misc = (4ull << 16) | VMX_MISC_ACT_HLT | VMX_MISC_ACT_SHUTDOWN | VMX_MISC_ACT_WAIT_SIPI,
		.ept_vpid_cap = VMX_EPT_PWL4 | VMX_EPT_MEMTYPE_UC | VMX_EPT_MEMTYPE_WB,
		.vmfunc = VMX_VMFUNC_EPTP_SWITCHING,
	};
}

static struct tcpu *tcpu_create(void)
{
	struct tcpu *t = calloc(1, sizeof(*t));
	if (!t || phys_init(&t->pm, RAM) != 0)
		abort();
	pio_init(&t->pio);
	t->ic = icache_create(&t->pm);
	make_model(&t->model);
	cpu_init(&t->cpu, 0, &t->model, &t->pm, &t->pio, t->ic);
	return t;
}

static void tcpu_destroy(struct tcpu *t)
{
	icache_destroy(t->ic);
	phys_destroy(&t->pm);
	free(t);
}

#define W(f, v) vmcs_write(c, VF_##f, (v))
#define R(f) vmcs_read(c, VF_##f)
#define OR(f, v) W(f, R(f) | (v))
#define AND(f, v) W(f, R(f) & (v))

static void clear_ram(struct tcpu *t, uint64_t pa, size_t len)
{
	static const uint8_t zero[4096];
	for (size_t off = 0; off < len; off += sizeof(zero))
		phys_copy_in(&t->pm, pa + off, zero, sizeof(zero));
}

static void put32(struct cpu *c, uint64_t pa, uint32_t v)
{
	phys_write(c->phys, pa, v, 4);
}

static void put64(struct cpu *c, uint64_t pa, uint64_t v)
{
	phys_write(c->phys, pa, v, 8);
}

/* The baseline: host and guest in 64-bit mode (guest_bits 64), or a
 * 32-bit protected-mode guest with paging (guest_bits 32). */
static void baseline(struct tcpu *t, int guest_bits)
{
	struct cpu *c = &t->cpu;
	clear_ram(t, VMCS_PA, 4096);
	clear_ram(t, SCRATCH, 0x10000);
	clear_ram(t, PDPT32, 4096);
	put32(c, VMCS_PA, REVISION);
	c->vmx.on = true;
	c->vmx.vmcs_ptr = VMCS_PA;
	c->efer |= EFER_LME | EFER_LMA;
	c->cpl = 0;

	W(PIN_CONTROLS, vmx_must_be1(c, VMX_CTL_PIN));
	W(PROC_CONTROLS, vmx_must_be1(c, VMX_CTL_PROC));
	W(EXIT_CONTROLS, vmx_must_be1(c, VMX_CTL_EXIT) | EXIT_HOST_ADDR_SPACE);
	W(ENTRY_CONTROLS, vmx_must_be1(c, VMX_CTL_ENTRY) | (guest_bits == 64 ? ENTRY_IA32E_GUEST : 0));

	uint64_t cr0 = (CR0_PE | CR0_ET | CR0_NE | CR0_PG | vmx_cr0_fixed0(c)) & vmx_cr0_fixed1(c);
	uint64_t cr4 = (CR4_PAE | CR4_VMXE | vmx_cr4_fixed0(c)) & vmx_cr4_fixed1(c);
	W(HOST_CR0, cr0);
	W(HOST_CR3, 0x1000);
	W(HOST_CR4, cr4);
	W(HOST_ES_SELECTOR, 0x10);
	W(HOST_CS_SELECTOR, 0x08);
	W(HOST_SS_SELECTOR, 0x10);
	W(HOST_DS_SELECTOR, 0x10);
	W(HOST_FS_SELECTOR, 0x10);
	W(HOST_GS_SELECTOR, 0x10);
	W(HOST_TR_SELECTOR, 0x18);
	W(HOST_TR_BASE, 0x3000);
	W(HOST_GDTR_BASE, 0x2000);
	W(HOST_IDTR_BASE, 0x4000);
	W(HOST_RIP, 0x10000);
	W(HOST_RSP, 0x80000);

	W(GUEST_CR0, cr0);
	W(GUEST_CR3, 0x1000);
	W(GUEST_CR4, guest_bits == 64 ? cr4 : cr4 & ~CR4_PAE);
	W(GUEST_DR7, 0x400);
	uint32_t cs_ar = guest_bits == 64 ? 0xa09b : 0xc09b, data_ar = 0xc093;
	for (int s = 0; s < 6; s++) {
		vmcs_write(c, VF_GUEST_ES_SELECTOR + s, s == SEG_CS ? 0x08 : 0x10);
		vmcs_write(c, VF_GUEST_ES_BASE + s, 0);
		vmcs_write(c, VF_GUEST_ES_LIMIT + s, 0xffffffff);
		vmcs_write(c, VF_GUEST_ES_AR + s, s == SEG_CS ? cs_ar : data_ar);
	}
	W(GUEST_LDTR_AR, AR_UNUSABLE);
	W(GUEST_TR_SELECTOR, 0x18);
	W(GUEST_TR_BASE, 0x3000);
	W(GUEST_TR_LIMIT, 0x67);
	W(GUEST_TR_AR, 0x8b);
	W(GUEST_GDTR_BASE, 0x2000);
	W(GUEST_GDTR_LIMIT, 0x27);
	W(GUEST_IDTR_BASE, 0x4000);
	W(GUEST_IDTR_LIMIT, 0xfff);
	W(GUEST_RIP, 0x200000);
	W(GUEST_RSP, 0x210000);
	W(GUEST_RFLAGS, FL_FIXED1);
	W(VMCS_LINK_PTR, ~0ull);

	t->e = (struct entry_ctx){ .c = c, .launch = true, .msr_n = 1, .msr_lo = 0x174, .msr_data = 0x10 };
}

/* Helpers the mutations use. */
static void sec(struct cpu *c, uint32_t bits)
{
	OR(PROC_CONTROLS, PROC_SECONDARY_CTLS);
	OR(PROC2_CONTROLS, bits);
}

static void with_ept(struct cpu *c)
{
	sec(c, PROC2_EPT);
	W(EPT_POINTER, EPT_PML4 | 6 | (3 << EPTP_WALK_SHIFT));
}

static void unrestricted_guest(struct cpu *c)
{
	with_ept(c);
	sec(c, PROC2_UNRESTRICTED);
}

static void tpr_shadow(struct cpu *c)
{
	OR(PROC_CONTROLS, PROC_TPR_SHADOW);
	W(VIRTUAL_APIC_ADDR, SCRATCH);
}

static void posted(struct cpu *c, bool vid, bool ack)
{
	OR(PIN_CONTROLS, PIN_POSTED_INTR | PIN_EXT_INTR_EXITING);
	if (vid) {
		tpr_shadow(c);
		sec(c, PROC2_VIRT_INTR_DELIVERY);
	}
	if (ack)
		OR(EXIT_CONTROLS, EXIT_ACK_INTR_ON_EXIT);
	W(POSTED_INTR_DESC_ADDR, SCRATCH + 0x1000);
}

static void inject(struct cpu *c, unsigned type, unsigned vector, bool errcode)
{
	W(ENTRY_INTR_INFO, INTR_INFO_VALID | (type << INTR_INFO_TYPE_SHIFT) | vector |
				   (errcode ? INTR_INFO_HAS_ERROR : 0));
}

/* Virtual-8086 mode (needs the 32-bit guest): base = selector << 4,
 * limit FFFFH, access rights F3H. */
static void v86(struct cpu *c)
{
	OR(GUEST_RFLAGS, FL_VM);
	for (int s = 0; s < 6; s++) {
		vmcs_write(c, VF_GUEST_ES_BASE + s, vmcs_read(c, VF_GUEST_ES_SELECTOR + s) << 4);
		vmcs_write(c, VF_GUEST_ES_LIMIT + s, 0xffff);
		vmcs_write(c, VF_GUEST_ES_AR + s, 0xf3);
	}
}

static void ldtr_usable(struct cpu *c)
{
	W(GUEST_LDTR_SELECTOR, 0x20);
	W(GUEST_LDTR_LIMIT, 0xffff);
	W(GUEST_LDTR_AR, 0x82);
}

static void set_type(struct cpu *c, enum vmcs_field f, unsigned type)
{
	vmcs_write(c, f, (vmcs_read(c, f) & ~0xfull) | type);
}

static void set_dpl(struct cpu *c, enum vmcs_field f, unsigned dpl)
{
	vmcs_write(c, f, (vmcs_read(c, f) & ~0x60ull) | (dpl << AR_DPL_SHIFT));
}

static void host_outside_lm(struct cpu *c)
{
	c->efer &= ~(EFER_LMA | EFER_LME);
	AND(EXIT_CONTROLS, ~(uint64_t)EXIT_HOST_ADDR_SPACE);
}

static void msr_area(struct cpu *c, enum vmcs_field count, enum vmcs_field addr, uint64_t pa, uint32_t n)
{
	vmcs_write(c, count, n);
	vmcs_write(c, addr, pa);
}

static uint64_t past_width(struct cpu *c)
{
	return 1ull << c->model->phys_addr_bits;
}

#define NONCANON (1ull << 63)
#define FAR (1ull << 60)

/* Row id, baseline (64/32), "phase only" (earlier phases may fail: the
 * rule's precondition is itself an earlier failure), and the mutation. */
#define MUTATIONS(X)                                                                              \
	X(CTL_PIN_RSVD, 64, 0, OR(PIN_CONTROLS, 1u << 31))                                        \
	X(CTL_PROC_RSVD, 64, 0, OR(PROC_CONTROLS, 1u << 0))                                       \
	X(CTL_PROC2_RSVD, 64, 0, sec(c, 1u << 31))                                                \
	X(CTL_PROC3_RSVD, 64, 0, OR(PROC_CONTROLS, PROC_TERTIARY_CTLS); W(TERTIARY_CONTROLS, 1ull << 63)) \
	X(CTL_CR3_TARGET_COUNT, 64, 0, W(CR3_TARGET_COUNT, 5))                                    \
	X(CTL_IO_BITMAP_A_ALIGN, 64, 0, OR(PROC_CONTROLS, PROC_IO_BITMAPS); W(IO_BITMAP_A, SCRATCH + 8); W(IO_BITMAP_B, SCRATCH)) \
	X(CTL_IO_BITMAP_A_WIDTH, 64, 0, OR(PROC_CONTROLS, PROC_IO_BITMAPS); W(IO_BITMAP_A, FAR); W(IO_BITMAP_B, SCRATCH)) \
	X(CTL_IO_BITMAP_B_ALIGN, 64, 0, OR(PROC_CONTROLS, PROC_IO_BITMAPS); W(IO_BITMAP_A, SCRATCH); W(IO_BITMAP_B, SCRATCH + 8)) \
	X(CTL_IO_BITMAP_B_WIDTH, 64, 0, OR(PROC_CONTROLS, PROC_IO_BITMAPS); W(IO_BITMAP_A, SCRATCH); W(IO_BITMAP_B, FAR)) \
	X(CTL_MSR_BITMAP_ALIGN, 64, 0, OR(PROC_CONTROLS, PROC_MSR_BITMAPS); W(MSR_BITMAP, SCRATCH + 8)) \
	X(CTL_MSR_BITMAP_WIDTH, 64, 0, OR(PROC_CONTROLS, PROC_MSR_BITMAPS); W(MSR_BITMAP, FAR))   \
	X(CTL_VAPIC_ALIGN, 64, 0, tpr_shadow(c); W(VIRTUAL_APIC_ADDR, SCRATCH + 8))              \
	X(CTL_VAPIC_WIDTH, 64, 0, tpr_shadow(c); W(VIRTUAL_APIC_ADDR, FAR))                      \
	X(CTL_TPR_THRESHOLD_RSVD, 64, 0, tpr_shadow(c); W(TPR_THRESHOLD, 0x10))                  \
	X(CTL_TPR_THRESHOLD_VTPR, 64, 0, tpr_shadow(c); W(TPR_THRESHOLD, 3); phys_write(c->phys, SCRATCH + 0x80, 0x20, 1)) \
	X(CTL_X2APIC_NEEDS_TPR_SHADOW, 64, 0, sec(c, PROC2_VIRT_X2APIC))                         \
	X(CTL_APIC_REG_VIRT_NEEDS_TPR_SHADOW, 64, 0, sec(c, PROC2_APIC_REG_VIRT))                \
	X(CTL_VID_NEEDS_TPR_SHADOW, 64, 0, sec(c, PROC2_VIRT_INTR_DELIVERY))                     \
	X(CTL_VNMI_NEEDS_NMI_EXITING, 64, 0, OR(PIN_CONTROLS, PIN_VIRTUAL_NMIS))                  \
	X(CTL_NMI_WINDOW_NEEDS_VNMI, 64, 0, OR(PROC_CONTROLS, PROC_NMI_WINDOW))                   \
	X(CTL_APIC_ACCESS_ALIGN, 64, 0, sec(c, PROC2_VIRT_APIC_ACCESS); W(APIC_ACCESS_ADDR, SCRATCH + 8)) \
	X(CTL_APIC_ACCESS_WIDTH, 64, 0, sec(c, PROC2_VIRT_APIC_ACCESS); W(APIC_ACCESS_ADDR, FAR)) \
	X(CTL_X2APIC_AND_APIC_ACCESS, 64, 0, tpr_shadow(c); sec(c, PROC2_VIRT_X2APIC | PROC2_VIRT_APIC_ACCESS); W(APIC_ACCESS_ADDR, SCRATCH + 0x1000)) \
	X(CTL_VID_NEEDS_EXT_INTR_EXITING, 64, 0, tpr_shadow(c); sec(c, PROC2_VIRT_INTR_DELIVERY)) \
	X(CTL_PI_NEEDS_VID, 64, 0, posted(c, false, true))                                        \
	X(CTL_PI_NEEDS_ACK_ON_EXIT, 64, 0, posted(c, true, false))                                \
	X(CTL_PI_VECTOR, 64, 0, posted(c, true, true); W(POSTED_INTR_NV, 0x100))                  \
	X(CTL_PI_DESC_ALIGN, 64, 0, posted(c, true, true); W(POSTED_INTR_DESC_ADDR, SCRATCH + 0x20)) \
	X(CTL_PI_DESC_WIDTH, 64, 0, posted(c, true, true); W(POSTED_INTR_DESC_ADDR, FAR))         \
	X(CTL_VPID_ZERO, 64, 0, sec(c, PROC2_VPID); W(VPID, 0))                                   \
	X(CTL_EPTP_MEMTYPE, 64, 0, with_ept(c); W(EPT_POINTER, EPT_PML4 | 1 | (3 << EPTP_WALK_SHIFT))) \
	X(CTL_EPTP_WALK_LENGTH, 64, 0, with_ept(c); W(EPT_POINTER, EPT_PML4 | 6 | (2 << EPTP_WALK_SHIFT))) \
	X(CTL_EPTP_AD, 64, 0, with_ept(c); OR(EPT_POINTER, EPTP_AD))                              \
	X(CTL_EPTP_RSVD, 64, 0, with_ept(c); OR(EPT_POINTER, 1u << 7))                            \
	X(CTL_PML_NEEDS_EPT, 64, 0, sec(c, PROC2_PML); W(PML_ADDR, SCRATCH))                      \
	X(CTL_PML_ALIGN, 64, 0, with_ept(c); sec(c, PROC2_PML); W(PML_ADDR, SCRATCH + 8))          \
	X(CTL_PML_WIDTH, 64, 0, with_ept(c); sec(c, PROC2_PML); W(PML_ADDR, FAR))                  \
	X(CTL_UNRESTRICTED_NEEDS_EPT, 64, 0, sec(c, PROC2_UNRESTRICTED))                          \
	X(CTL_MBEC_NEEDS_EPT, 64, 0, sec(c, PROC2_MBEC))                                          \
	X(CTL_SPP_NEEDS_EPT, 64, 0, sec(c, PROC2_SPP); W(SPP_TABLE_PTR, SCRATCH))                 \
	X(CTL_SPPTP_ALIGN, 64, 0, with_ept(c); sec(c, PROC2_SPP); W(SPP_TABLE_PTR, SCRATCH + 8))   \
	X(CTL_SPPTP_WIDTH, 64, 0, with_ept(c); sec(c, PROC2_SPP); W(SPP_TABLE_PTR, FAR))           \
	X(CTL_PT_GPA_NEEDS_EPT, 64, 0, sec(c, PROC2_PT_USES_GPA))                                 \
	X(CTL_PT_GPA_NEEDS_LOAD_RTIT, 64, 0, with_ept(c); sec(c, PROC2_PT_USES_GPA))              \
	X(CTL_PT_GPA_NEEDS_CLEAR_RTIT, 64, 0, with_ept(c); sec(c, PROC2_PT_USES_GPA); OR(ENTRY_CONTROLS, ENTRY_LOAD_RTIT_CTL)) \
	X(CTL_VMFUNC_RSVD, 64, 0, sec(c, PROC2_VMFUNC); W(VMFUNC_CONTROLS, 2))                    \
	X(CTL_EPTP_SWITCH_NEEDS_EPT, 64, 0, sec(c, PROC2_VMFUNC); W(VMFUNC_CONTROLS, 1); W(EPTP_LIST_ADDR, SCRATCH)) \
	X(CTL_EPTP_LIST_ALIGN, 64, 0, with_ept(c); sec(c, PROC2_VMFUNC); W(VMFUNC_CONTROLS, 1); W(EPTP_LIST_ADDR, SCRATCH + 8)) \
	X(CTL_EPTP_LIST_WIDTH, 64, 0, with_ept(c); sec(c, PROC2_VMFUNC); W(VMFUNC_CONTROLS, 1); W(EPTP_LIST_ADDR, FAR)) \
	X(CTL_VMREAD_BITMAP_ALIGN, 64, 0, sec(c, PROC2_VMCS_SHADOWING); W(VMREAD_BITMAP, SCRATCH + 8); W(VMWRITE_BITMAP, SCRATCH)) \
	X(CTL_VMREAD_BITMAP_WIDTH, 64, 0, sec(c, PROC2_VMCS_SHADOWING); W(VMREAD_BITMAP, FAR); W(VMWRITE_BITMAP, SCRATCH)) \
	X(CTL_VMWRITE_BITMAP_ALIGN, 64, 0, sec(c, PROC2_VMCS_SHADOWING); W(VMREAD_BITMAP, SCRATCH); W(VMWRITE_BITMAP, SCRATCH + 8)) \
	X(CTL_VMWRITE_BITMAP_WIDTH, 64, 0, sec(c, PROC2_VMCS_SHADOWING); W(VMREAD_BITMAP, SCRATCH); W(VMWRITE_BITMAP, FAR)) \
	X(CTL_VE_INFO_ALIGN, 64, 0, sec(c, PROC2_EPT_VE); W(VE_INFO_ADDR, SCRATCH + 8))           \
	X(CTL_VE_INFO_WIDTH, 64, 0, sec(c, PROC2_EPT_VE); W(VE_INFO_ADDR, FAR))                   \
	X(EXIT_RSVD, 64, 0, OR(EXIT_CONTROLS, 1u << 30))                                          \
	X(EXIT2_RSVD, 64, 0, OR(EXIT_CONTROLS, EXIT_SECONDARY_CTLS); W(EXIT_CONTROLS2, 1))        \
	X(EXIT_SAVE_PREEMPT_NEEDS_TIMER, 64, 0, OR(EXIT_CONTROLS, EXIT_SAVE_PREEMPT_TIMER))       \
	X(EXIT_MSR_STORE_ALIGN, 64, 0, msr_area(c, VF_EXIT_MSR_STORE_COUNT, VF_EXIT_MSR_STORE_ADDR, SCRATCH + 8, 1)) \
	X(EXIT_MSR_STORE_WIDTH, 64, 0, msr_area(c, VF_EXIT_MSR_STORE_COUNT, VF_EXIT_MSR_STORE_ADDR, FAR, 1)) \
	X(EXIT_MSR_STORE_END_WIDTH, 64, 0, msr_area(c, VF_EXIT_MSR_STORE_COUNT, VF_EXIT_MSR_STORE_ADDR, past_width(c) - 16, 2)) \
	X(EXIT_MSR_LOAD_ALIGN, 64, 0, msr_area(c, VF_EXIT_MSR_LOAD_COUNT, VF_EXIT_MSR_LOAD_ADDR, SCRATCH + 8, 1)) \
	X(EXIT_MSR_LOAD_WIDTH, 64, 0, msr_area(c, VF_EXIT_MSR_LOAD_COUNT, VF_EXIT_MSR_LOAD_ADDR, FAR, 1)) \
	X(EXIT_MSR_LOAD_END_WIDTH, 64, 0, msr_area(c, VF_EXIT_MSR_LOAD_COUNT, VF_EXIT_MSR_LOAD_ADDR, past_width(c) - 16, 2)) \
	X(ENTRY_RSVD, 64, 0, OR(ENTRY_CONTROLS, 1u << 31))                                        \
	X(ENTRY_INTR_TYPE_RSVD, 64, 0, inject(c, 1, 0x20, false))                                 \
	X(ENTRY_INTR_NMI_VECTOR, 64, 0, inject(c, INTR_TYPE_NMI, 3, false))                       \
	X(ENTRY_INTR_HW_VECTOR, 64, 0, inject(c, INTR_TYPE_HW_EXCEPTION, 32, false))                    \
	X(ENTRY_INTR_OTHER_VECTOR, 64, 0, inject(c, INTR_TYPE_OTHER, 1, false))             \
	X(ENTRY_INTR_ERRCODE_REQUIRED, 64, 0, inject(c, INTR_TYPE_HW_EXCEPTION, VEC_GP, false))         \
	X(ENTRY_INTR_ERRCODE_FORBIDDEN, 64, 0, inject(c, INTR_TYPE_HW_EXCEPTION, VEC_UD, true))         \
	X(ENTRY_INTR_RSVD, 64, 0, inject(c, INTR_TYPE_HW_EXCEPTION, VEC_UD, false); OR(ENTRY_INTR_INFO, 1u << 12)) \
	X(ENTRY_EXC_ERRCODE_RSVD, 64, 0, inject(c, INTR_TYPE_HW_EXCEPTION, VEC_GP, true); W(ENTRY_EXCEPTION_ERROR_CODE, 0x10000)) \
	X(ENTRY_INSN_LEN_RANGE, 64, 0, inject(c, INTR_TYPE_SW_INTR, 0x80, false); W(ENTRY_INSTRUCTION_LEN, 16)) \
	X(ENTRY_INSN_LEN_ZERO, 64, 0, inject(c, INTR_TYPE_SW_EXCEPTION, VEC_BP, false); W(ENTRY_INSTRUCTION_LEN, 0)) \
	X(ENTRY_MSR_LOAD_ALIGN, 64, 0, msr_area(c, VF_ENTRY_MSR_LOAD_COUNT, VF_ENTRY_MSR_LOAD_ADDR, SCRATCH + 8, 1)) \
	X(ENTRY_MSR_LOAD_WIDTH, 64, 0, msr_area(c, VF_ENTRY_MSR_LOAD_COUNT, VF_ENTRY_MSR_LOAD_ADDR, FAR, 1)) \
	X(ENTRY_MSR_LOAD_END_WIDTH, 64, 0, msr_area(c, VF_ENTRY_MSR_LOAD_COUNT, VF_ENTRY_MSR_LOAD_ADDR, past_width(c) - 16, 2)) \
	X(ENTRY_TO_SMM_OUTSIDE_SMM, 64, 0, OR(ENTRY_CONTROLS, ENTRY_TO_SMM))                      \
	X(ENTRY_DEACT_DUAL_OUTSIDE_SMM, 64, 0, OR(ENTRY_CONTROLS, ENTRY_DEACT_DUAL_MONITOR))      \
	X(HOST_CR0_FIXED, 64, 0, W(HOST_CR0, (R(HOST_CR0) & ~vmx_cr0_fixed0(c)) | (~vmx_cr0_fixed1(c) & (1ull << 32)))) \
	X(HOST_CR4_FIXED, 64, 0, W(HOST_CR4, R(HOST_CR4) & ~vmx_cr4_fixed0(c)))                   \
	X(HOST_CR3_WIDTH, 64, 0, W(HOST_CR3, FAR))                                                \
	X(HOST_SYSENTER_ESP_CANONICAL, 64, 0, W(HOST_IA32_SYSENTER_ESP, NONCANON))                \
	X(HOST_SYSENTER_EIP_CANONICAL, 64, 0, W(HOST_IA32_SYSENTER_EIP, NONCANON))                \
	X(HOST_PERF_GLOBAL_RSVD, 64, 0, OR(EXIT_CONTROLS, EXIT_LOAD_PERF_GLOBAL); W(HOST_IA32_PERF_GLOBAL_CTRL, 1)) \
	X(HOST_PAT, 64, 0, OR(EXIT_CONTROLS, EXIT_LOAD_PAT); W(HOST_IA32_PAT, 2))                 \
	X(HOST_EFER_RSVD, 64, 0, OR(EXIT_CONTROLS, EXIT_LOAD_EFER); W(HOST_IA32_EFER, EFER_LMA | EFER_LME | 2)) \
	X(HOST_EFER_LMA, 64, 0, OR(EXIT_CONTROLS, EXIT_LOAD_EFER); W(HOST_IA32_EFER, EFER_LME))    \
	X(HOST_EFER_LME, 64, 0, OR(EXIT_CONTROLS, EXIT_LOAD_EFER); W(HOST_IA32_EFER, EFER_LMA))    \
	X(HOST_ES_SEL_RPL_TI, 64, 0, OR(HOST_ES_SELECTOR, 1))                                     \
	X(HOST_CS_SEL_RPL_TI, 64, 0, OR(HOST_CS_SELECTOR, 4))                                     \
	X(HOST_SS_SEL_RPL_TI, 64, 0, OR(HOST_SS_SELECTOR, 3))                                     \
	X(HOST_DS_SEL_RPL_TI, 64, 0, OR(HOST_DS_SELECTOR, 1))                                     \
	X(HOST_FS_SEL_RPL_TI, 64, 0, OR(HOST_FS_SELECTOR, 2))                                     \
	X(HOST_GS_SEL_RPL_TI, 64, 0, OR(HOST_GS_SELECTOR, 4))                                     \
	X(HOST_TR_SEL_RPL_TI, 64, 0, OR(HOST_TR_SELECTOR, 1))                                     \
	X(HOST_CS_SEL_NULL, 64, 0, W(HOST_CS_SELECTOR, 0))                                        \
	X(HOST_TR_SEL_NULL, 64, 0, W(HOST_TR_SELECTOR, 0))                                        \
	X(HOST_SS_SEL_NULL, 32, 0, host_outside_lm(c); W(HOST_SS_SELECTOR, 0))                    \
	X(HOST_FS_BASE_CANONICAL, 64, 0, W(HOST_FS_BASE, NONCANON))                               \
	X(HOST_GS_BASE_CANONICAL, 64, 0, W(HOST_GS_BASE, NONCANON))                               \
	X(HOST_GDTR_BASE_CANONICAL, 64, 0, W(HOST_GDTR_BASE, NONCANON))                           \
	X(HOST_IDTR_BASE_CANONICAL, 64, 0, W(HOST_IDTR_BASE, NONCANON))                           \
	X(HOST_TR_BASE_CANONICAL, 64, 0, W(HOST_TR_BASE, NONCANON))                               \
	X(HOST_IA32E_GUEST_OUTSIDE_LM, 64, 0, c->efer &= ~(EFER_LMA | EFER_LME))                  \
	X(HOST_ADDR_SPACE_OUTSIDE_LM, 32, 0, c->efer &= ~(EFER_LMA | EFER_LME))                   \
	X(HOST_ADDR_SPACE_IN_LM, 32, 0, AND(EXIT_CONTROLS, ~(uint64_t)EXIT_HOST_ADDR_SPACE))      \
	X(HOST_32_CR4_PCIDE, 32, 0, host_outside_lm(c); OR(HOST_CR4, CR4_PCIDE))                  \
	X(HOST_32_RIP_HIGH, 32, 0, host_outside_lm(c); W(HOST_RIP, 1ull << 32))                   \
	X(HOST_64_CR4_PAE, 64, 0, AND(HOST_CR4, ~CR4_PAE))                                        \
	X(HOST_64_RIP_CANONICAL, 64, 0, W(HOST_RIP, NONCANON))                                    \
	X(GUEST_CR0_FIXED, 64, 0, W(GUEST_CR0, (R(GUEST_CR0) & ~(vmx_cr0_fixed0(c) & ~(CR0_PE | CR0_PG))) | (~vmx_cr0_fixed1(c) & (1ull << 32)))) \
	X(GUEST_CR0_PG_WITHOUT_PE, 32, 0, unrestricted_guest(c); AND(GUEST_CR0, ~CR0_PE))         \
	X(GUEST_CR4_FIXED, 64, 0, W(GUEST_CR4, R(GUEST_CR4) & ~vmx_cr4_fixed0(c)))                 \
	X(GUEST_DEBUGCTL_RSVD, 64, 0, OR(ENTRY_CONTROLS, ENTRY_LOAD_DEBUG_CTLS); W(GUEST_IA32_DEBUGCTL, 4)) \
	X(GUEST_IA32E_CR0_PG, 64, 0, unrestricted_guest(c); AND(GUEST_CR0, ~CR0_PG))              \
	X(GUEST_IA32E_CR4_PAE, 64, 0, AND(GUEST_CR4, ~CR4_PAE))                                   \
	X(GUEST_CR4_PCIDE_NOT_IA32E, 32, 0, OR(GUEST_CR4, CR4_PCIDE))                             \
	X(GUEST_CR3_WIDTH, 64, 0, W(GUEST_CR3, FAR))                                              \
	X(GUEST_DR7_HIGH, 64, 0, OR(ENTRY_CONTROLS, ENTRY_LOAD_DEBUG_CTLS); W(GUEST_DR7, 1ull << 32)) \
	X(GUEST_SYSENTER_ESP_CANONICAL, 64, 0, W(GUEST_IA32_SYSENTER_ESP, NONCANON))              \
	X(GUEST_SYSENTER_EIP_CANONICAL, 64, 0, W(GUEST_IA32_SYSENTER_EIP, NONCANON))              \
	X(GUEST_PERF_GLOBAL_RSVD, 64, 0, OR(ENTRY_CONTROLS, ENTRY_LOAD_PERF_GLOBAL); W(GUEST_IA32_PERF_GLOBAL_CTRL, 1)) \
	X(GUEST_PAT, 64, 0, OR(ENTRY_CONTROLS, ENTRY_LOAD_PAT); W(GUEST_IA32_PAT, 0x0300))         \
	X(GUEST_EFER_RSVD, 64, 0, OR(ENTRY_CONTROLS, ENTRY_LOAD_EFER); W(GUEST_IA32_EFER, EFER_LMA | EFER_LME | 2)) \
	X(GUEST_EFER_LMA, 64, 0, OR(ENTRY_CONTROLS, ENTRY_LOAD_EFER); W(GUEST_IA32_EFER, EFER_LME)) \
	X(GUEST_EFER_LME, 64, 0, OR(ENTRY_CONTROLS, ENTRY_LOAD_EFER); W(GUEST_IA32_EFER, EFER_LMA)) \
	X(GUEST_BNDCFGS_RSVD, 64, 0, OR(ENTRY_CONTROLS, ENTRY_LOAD_BNDCFGS); W(GUEST_IA32_BNDCFGS, 4)) \
	X(GUEST_BNDCFGS_CANONICAL, 64, 0, OR(ENTRY_CONTROLS, ENTRY_LOAD_BNDCFGS); W(GUEST_IA32_BNDCFGS, NONCANON)) \
	SEG_MUTATIONS(X)

#define SEG_MUTATIONS(X)                                                                          \
	X(GUEST_TR_SEL_TI, 64, 0, OR(GUEST_TR_SELECTOR, 4))                                       \
	X(GUEST_LDTR_SEL_TI, 64, 0, ldtr_usable(c); OR(GUEST_LDTR_SELECTOR, 4))                   \
	X(GUEST_SS_SEL_RPL, 64, 0, OR(GUEST_SS_SELECTOR, 1))                                      \
	X(GUEST_CS_BASE_V86, 32, 0, v86(c); W(GUEST_CS_BASE, 0))                                  \
	X(GUEST_SS_BASE_V86, 32, 0, v86(c); W(GUEST_SS_BASE, 0))                                  \
	X(GUEST_DS_BASE_V86, 32, 0, v86(c); W(GUEST_DS_BASE, 0))                                  \
	X(GUEST_ES_BASE_V86, 32, 0, v86(c); W(GUEST_ES_BASE, 0))                                  \
	X(GUEST_FS_BASE_V86, 32, 0, v86(c); W(GUEST_FS_BASE, 0))                                  \
	X(GUEST_GS_BASE_V86, 32, 0, v86(c); W(GUEST_GS_BASE, 0))                                  \
	X(GUEST_TR_BASE_CANONICAL, 64, 0, W(GUEST_TR_BASE, NONCANON))                             \
	X(GUEST_FS_BASE_CANONICAL, 64, 0, W(GUEST_FS_BASE, NONCANON))                             \
	X(GUEST_GS_BASE_CANONICAL, 64, 0, W(GUEST_GS_BASE, NONCANON))                             \
	X(GUEST_LDTR_BASE_CANONICAL, 64, 0, ldtr_usable(c); W(GUEST_LDTR_BASE, NONCANON))         \
	X(GUEST_CS_BASE_HIGH, 64, 0, W(GUEST_CS_BASE, 1ull << 32))                                \
	X(GUEST_SS_BASE_HIGH, 64, 0, W(GUEST_SS_BASE, 1ull << 32))                                \
	X(GUEST_DS_BASE_HIGH, 64, 0, W(GUEST_DS_BASE, 1ull << 32))                                \
	X(GUEST_ES_BASE_HIGH, 64, 0, W(GUEST_ES_BASE, 1ull << 32))                                \
	X(GUEST_CS_LIMIT_V86, 32, 0, v86(c); W(GUEST_CS_LIMIT, 0xfffff))                          \
	X(GUEST_SS_LIMIT_V86, 32, 0, v86(c); W(GUEST_SS_LIMIT, 0xfffff))                          \
	X(GUEST_DS_LIMIT_V86, 32, 0, v86(c); W(GUEST_DS_LIMIT, 0xfffff))                          \
	X(GUEST_ES_LIMIT_V86, 32, 0, v86(c); W(GUEST_ES_LIMIT, 0xfffff))                          \
	X(GUEST_FS_LIMIT_V86, 32, 0, v86(c); W(GUEST_FS_LIMIT, 0xfffff))                          \
	X(GUEST_GS_LIMIT_V86, 32, 0, v86(c); W(GUEST_GS_LIMIT, 0xfffff))                          \
	X(GUEST_CS_AR_V86, 32, 0, v86(c); W(GUEST_CS_AR, 0xf2))                                   \
	X(GUEST_SS_AR_V86, 32, 0, v86(c); W(GUEST_SS_AR, 0xf2))                                   \
	X(GUEST_DS_AR_V86, 32, 0, v86(c); W(GUEST_DS_AR, 0xf2))                                   \
	X(GUEST_ES_AR_V86, 32, 0, v86(c); W(GUEST_ES_AR, 0xf2))                                   \
	X(GUEST_FS_AR_V86, 32, 0, v86(c); W(GUEST_FS_AR, 0xf2))                                   \
	X(GUEST_GS_AR_V86, 32, 0, v86(c); W(GUEST_GS_AR, 0xf2))                                   \
	X(GUEST_CS_AR_TYPE, 64, 0, set_type(c, VF_GUEST_CS_AR, 0xa))                              \
	X(GUEST_SS_AR_TYPE, 64, 0, set_type(c, VF_GUEST_SS_AR, 0x1))                              \
	X(GUEST_DS_AR_TYPE_ACCESSED, 64, 0, set_type(c, VF_GUEST_DS_AR, 0x2))                     \
	X(GUEST_DS_AR_TYPE_READABLE, 64, 0, set_type(c, VF_GUEST_DS_AR, 0x9))                     \
	X(GUEST_ES_AR_TYPE_ACCESSED, 64, 0, set_type(c, VF_GUEST_ES_AR, 0x2))                     \
	X(GUEST_ES_AR_TYPE_READABLE, 64, 0, set_type(c, VF_GUEST_ES_AR, 0x9))                     \
	X(GUEST_FS_AR_TYPE_ACCESSED, 64, 0, set_type(c, VF_GUEST_FS_AR, 0x2))                     \
	X(GUEST_FS_AR_TYPE_READABLE, 64, 0, set_type(c, VF_GUEST_FS_AR, 0x9))                     \
	X(GUEST_GS_AR_TYPE_ACCESSED, 64, 0, set_type(c, VF_GUEST_GS_AR, 0x2))                     \
	X(GUEST_GS_AR_TYPE_READABLE, 64, 0, set_type(c, VF_GUEST_GS_AR, 0x9))                     \
	X(GUEST_CS_AR_S, 64, 0, AND(GUEST_CS_AR, ~(uint64_t)AR_S))                                \
	X(GUEST_SS_AR_S, 64, 0, AND(GUEST_SS_AR, ~(uint64_t)AR_S))                                \
	X(GUEST_DS_AR_S, 64, 0, AND(GUEST_DS_AR, ~(uint64_t)AR_S))                                \
	X(GUEST_ES_AR_S, 64, 0, AND(GUEST_ES_AR, ~(uint64_t)AR_S))                                \
	X(GUEST_FS_AR_S, 64, 0, AND(GUEST_FS_AR, ~(uint64_t)AR_S))                                \
	X(GUEST_GS_AR_S, 64, 0, AND(GUEST_GS_AR, ~(uint64_t)AR_S))                                \
	X(GUEST_CS_AR_DPL_TYPE3, 32, 0, unrestricted_guest(c); set_type(c, VF_GUEST_CS_AR, 3); set_dpl(c, VF_GUEST_CS_AR, 1)) \
	X(GUEST_CS_AR_DPL_NONCONF, 64, 0, set_dpl(c, VF_GUEST_CS_AR, 1))                          \
	X(GUEST_CS_AR_DPL_CONF, 64, 0, set_type(c, VF_GUEST_CS_AR, 15); set_dpl(c, VF_GUEST_CS_AR, 1)) \
	X(GUEST_SS_AR_DPL_RPL, 64, 0, set_type(c, VF_GUEST_CS_AR, 15); set_dpl(c, VF_GUEST_SS_AR, 1)) \
	X(GUEST_SS_AR_DPL_REAL, 32, 0, unrestricted_guest(c); AND(GUEST_CR0, ~(CR0_PE | CR0_PG)); set_type(c, VF_GUEST_CS_AR, 15); set_dpl(c, VF_GUEST_SS_AR, 1)) \
	X(GUEST_DS_AR_DPL, 64, 0, OR(GUEST_DS_SELECTOR, 3))                                       \
	X(GUEST_ES_AR_DPL, 64, 0, OR(GUEST_ES_SELECTOR, 3))                                       \
	X(GUEST_FS_AR_DPL, 64, 0, OR(GUEST_FS_SELECTOR, 3))                                       \
	X(GUEST_GS_AR_DPL, 64, 0, OR(GUEST_GS_SELECTOR, 3))                                       \
	X(GUEST_CS_AR_P, 64, 0, AND(GUEST_CS_AR, ~(uint64_t)AR_P))                                \
	X(GUEST_SS_AR_P, 64, 0, AND(GUEST_SS_AR, ~(uint64_t)AR_P))                                \
	X(GUEST_DS_AR_P, 64, 0, AND(GUEST_DS_AR, ~(uint64_t)AR_P))                                \
	X(GUEST_ES_AR_P, 64, 0, AND(GUEST_ES_AR, ~(uint64_t)AR_P))                                \
	X(GUEST_FS_AR_P, 64, 0, AND(GUEST_FS_AR, ~(uint64_t)AR_P))                                \
	X(GUEST_GS_AR_P, 64, 0, AND(GUEST_GS_AR, ~(uint64_t)AR_P))                                \
	X(GUEST_CS_AR_RSVD_11_8, 64, 0, OR(GUEST_CS_AR, 1u << 8))                                 \
	X(GUEST_SS_AR_RSVD_11_8, 64, 0, OR(GUEST_SS_AR, 1u << 9))                                 \
	X(GUEST_DS_AR_RSVD_11_8, 64, 0, OR(GUEST_DS_AR, 1u << 10))                                \
	X(GUEST_ES_AR_RSVD_11_8, 64, 0, OR(GUEST_ES_AR, 1u << 11))                                \
	X(GUEST_FS_AR_RSVD_11_8, 64, 0, OR(GUEST_FS_AR, 1u << 8))                                 \
	X(GUEST_GS_AR_RSVD_11_8, 64, 0, OR(GUEST_GS_AR, 1u << 8))                                 \
	X(GUEST_CS_AR_DB, 64, 0, OR(GUEST_CS_AR, AR_DB))                                          \
	X(GUEST_CS_AR_G_CLEAR, 64, 0, W(GUEST_CS_LIMIT, 0xfffff000))                              \
	X(GUEST_CS_AR_G_SET, 64, 0, AND(GUEST_CS_AR, ~(uint64_t)AR_G))                            \
	X(GUEST_SS_AR_G_CLEAR, 64, 0, W(GUEST_SS_LIMIT, 0xfffff000))                              \
	X(GUEST_SS_AR_G_SET, 64, 0, AND(GUEST_SS_AR, ~(uint64_t)AR_G))                            \
	X(GUEST_DS_AR_G_CLEAR, 64, 0, W(GUEST_DS_LIMIT, 0xfffff000))                              \
	X(GUEST_DS_AR_G_SET, 64, 0, AND(GUEST_DS_AR, ~(uint64_t)AR_G))                            \
	X(GUEST_ES_AR_G_CLEAR, 64, 0, W(GUEST_ES_LIMIT, 0xfffff000))                              \
	X(GUEST_ES_AR_G_SET, 64, 0, AND(GUEST_ES_AR, ~(uint64_t)AR_G))                            \
	X(GUEST_FS_AR_G_CLEAR, 64, 0, W(GUEST_FS_LIMIT, 0xfffff000))                              \
	X(GUEST_FS_AR_G_SET, 64, 0, AND(GUEST_FS_AR, ~(uint64_t)AR_G))                            \
	X(GUEST_GS_AR_G_CLEAR, 64, 0, W(GUEST_GS_LIMIT, 0xfffff000))                              \
	X(GUEST_GS_AR_G_SET, 64, 0, AND(GUEST_GS_AR, ~(uint64_t)AR_G))                            \
	X(GUEST_CS_AR_RSVD_31_17, 64, 0, OR(GUEST_CS_AR, 1u << 17))                               \
	X(GUEST_SS_AR_RSVD_31_17, 64, 0, OR(GUEST_SS_AR, 1u << 20))                               \
	X(GUEST_DS_AR_RSVD_31_17, 64, 0, OR(GUEST_DS_AR, 1u << 31))                               \
	X(GUEST_ES_AR_RSVD_31_17, 64, 0, OR(GUEST_ES_AR, 1u << 17))                               \
	X(GUEST_FS_AR_RSVD_31_17, 64, 0, OR(GUEST_FS_AR, 1u << 17))                               \
	X(GUEST_GS_AR_RSVD_31_17, 64, 0, OR(GUEST_GS_AR, 1u << 17))                               \
	X(GUEST_TR_AR_TYPE, 32, 0, set_type(c, VF_GUEST_TR_AR, 9))                                \
	X(GUEST_TR_AR_TYPE_64, 64, 0, set_type(c, VF_GUEST_TR_AR, 3))                             \
	X(GUEST_TR_AR_S, 64, 0, OR(GUEST_TR_AR, AR_S))                                            \
	X(GUEST_TR_AR_P, 64, 0, AND(GUEST_TR_AR, ~(uint64_t)AR_P))                                \
	X(GUEST_TR_AR_RSVD_11_8, 64, 0, OR(GUEST_TR_AR, 1u << 8))                                 \
	X(GUEST_TR_AR_G_CLEAR, 64, 0, OR(GUEST_TR_AR, AR_G))                                      \
	X(GUEST_TR_AR_G_SET, 64, 0, W(GUEST_TR_LIMIT, 0x100fff))                                  \
	X(GUEST_TR_AR_UNUSABLE, 64, 0, OR(GUEST_TR_AR, AR_UNUSABLE))                              \
	X(GUEST_TR_AR_RSVD_31_17, 64, 0, OR(GUEST_TR_AR, 1u << 17))                               \
	X(GUEST_LDTR_AR_TYPE, 64, 0, ldtr_usable(c); set_type(c, VF_GUEST_LDTR_AR, 3))            \
	X(GUEST_LDTR_AR_S, 64, 0, ldtr_usable(c); OR(GUEST_LDTR_AR, AR_S))                        \
	X(GUEST_LDTR_AR_P, 64, 0, ldtr_usable(c); AND(GUEST_LDTR_AR, ~(uint64_t)AR_P))            \
	X(GUEST_LDTR_AR_RSVD_11_8, 64, 0, ldtr_usable(c); OR(GUEST_LDTR_AR, 1u << 8))             \
	X(GUEST_LDTR_AR_G_CLEAR, 64, 0, ldtr_usable(c); OR(GUEST_LDTR_AR, AR_G); W(GUEST_LDTR_LIMIT, 0xffff0)) \
	X(GUEST_LDTR_AR_G_SET, 64, 0, ldtr_usable(c); W(GUEST_LDTR_LIMIT, 0x100fff))              \
	X(GUEST_LDTR_AR_RSVD_31_17, 64, 0, ldtr_usable(c); OR(GUEST_LDTR_AR, 1u << 17))           \
	STATE_MUTATIONS(X)

#define STATE_MUTATIONS(X)                                                                        \
	X(GUEST_GDTR_BASE_CANONICAL, 64, 0, W(GUEST_GDTR_BASE, NONCANON))                         \
	X(GUEST_IDTR_BASE_CANONICAL, 64, 0, W(GUEST_IDTR_BASE, NONCANON))                         \
	X(GUEST_GDTR_LIMIT_HIGH, 64, 0, W(GUEST_GDTR_LIMIT, 0x10000))                             \
	X(GUEST_IDTR_LIMIT_HIGH, 64, 0, W(GUEST_IDTR_LIMIT, 0x10000))                             \
	X(GUEST_RIP_HIGH, 32, 0, W(GUEST_RIP, 1ull << 32))                                        \
	X(GUEST_RIP_CANONICAL, 64, 0, W(GUEST_RIP, NONCANON))                                     \
	X(GUEST_RFLAGS_RSVD, 64, 0, OR(GUEST_RFLAGS, 1u << 3))                                    \
	X(GUEST_RFLAGS_BIT1, 64, 0, W(GUEST_RFLAGS, 0))                                           \
	X(GUEST_RFLAGS_VM, 64, 0, v86(c))                                                         \
	X(GUEST_RFLAGS_IF_EXT_INTR, 64, 0, inject(c, INTR_TYPE_EXT_INTR, 0x20, false))            \
	X(GUEST_ACTIVITY_STATE_RANGE, 64, 0, W(GUEST_ACTIVITY_STATE, 4))                          \
	X(GUEST_ACTIVITY_HLT_SS_DPL, 64, 0, OR(GUEST_CS_SELECTOR, 3); OR(GUEST_SS_SELECTOR, 3); set_dpl(c, VF_GUEST_CS_AR, 3); set_dpl(c, VF_GUEST_SS_AR, 3); W(GUEST_ACTIVITY_STATE, ACTIVITY_HLT)) \
	X(GUEST_ACTIVITY_NOT_ACTIVE_BLOCKING, 64, 0, W(GUEST_ACTIVITY_STATE, ACTIVITY_HLT); W(GUEST_INTERRUPTIBILITY, INTR_BLOCK_MOV_SS)) \
	X(GUEST_ACTIVITY_INJECTION, 64, 0, W(GUEST_ACTIVITY_STATE, ACTIVITY_HLT); inject(c, INTR_TYPE_HW_EXCEPTION, VEC_GP, true)) \
	X(GUEST_ACTIVITY_SIPI_SMM, 64, 1, OR(ENTRY_CONTROLS, ENTRY_TO_SMM); W(GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI)) \
	X(GUEST_INTR_RSVD, 64, 0, W(GUEST_INTERRUPTIBILITY, 1u << 5))                             \
	X(GUEST_INTR_STI_AND_MOVSS, 64, 0, OR(GUEST_RFLAGS, FL_IF); W(GUEST_INTERRUPTIBILITY, INTR_BLOCK_STI | INTR_BLOCK_MOV_SS)) \
	X(GUEST_INTR_STI_IF, 64, 0, W(GUEST_INTERRUPTIBILITY, INTR_BLOCK_STI))                   \
	X(GUEST_INTR_EXT_INTR_BLOCKED, 64, 0, OR(GUEST_RFLAGS, FL_IF); W(GUEST_INTERRUPTIBILITY, INTR_BLOCK_STI); inject(c, INTR_TYPE_EXT_INTR, 0x20, false)) \
	X(GUEST_INTR_NMI_MOVSS, 64, 0, W(GUEST_INTERRUPTIBILITY, INTR_BLOCK_MOV_SS); inject(c, INTR_TYPE_NMI, VEC_NMI, false)) \
	X(GUEST_INTR_SMI_OUTSIDE_SMM, 64, 0, W(GUEST_INTERRUPTIBILITY, INTR_BLOCK_SMI))          \
	X(GUEST_INTR_NMI_STI, 64, 0, OR(GUEST_RFLAGS, FL_IF); W(GUEST_INTERRUPTIBILITY, INTR_BLOCK_STI); inject(c, INTR_TYPE_NMI, VEC_NMI, false)) \
	X(GUEST_INTR_VNMI_BLOCKING, 64, 0, OR(PIN_CONTROLS, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS); W(GUEST_INTERRUPTIBILITY, INTR_BLOCK_NMI); inject(c, INTR_TYPE_NMI, VEC_NMI, false)) \
	X(GUEST_INTR_ENCLAVE, 64, 0, W(GUEST_INTERRUPTIBILITY, INTR_BLOCK_ENCLAVE))             \
	X(GUEST_PENDING_DBG_RSVD, 64, 0, W(GUEST_PENDING_DBG_EXCEPTIONS, 1u << 4))                \
	X(GUEST_PENDING_DBG_BS_SET, 64, 0, OR(GUEST_RFLAGS, FL_IF | FL_TF); W(GUEST_INTERRUPTIBILITY, INTR_BLOCK_STI)) \
	X(GUEST_PENDING_DBG_BS_CLEAR, 64, 0, W(GUEST_INTERRUPTIBILITY, INTR_BLOCK_MOV_SS); W(GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS)) \
	X(GUEST_LINK_ALIGN, 64, 0, W(VMCS_LINK_PTR, SCRATCH + 8))                                 \
	X(GUEST_LINK_WIDTH, 64, 0, W(VMCS_LINK_PTR, FAR))                                         \
	X(GUEST_LINK_REVISION, 64, 0, W(VMCS_LINK_PTR, SCRATCH))                                  \
	X(GUEST_LINK_SHADOW, 64, 0, W(VMCS_LINK_PTR, SCRATCH); put32(c, SCRATCH, REVISION | VMCS_SHADOW_INDICATOR)) \
	X(GUEST_LINK_CURRENT, 64, 0, W(VMCS_LINK_PTR, VMCS_PA))                                   \
	X(GUEST_PDPTE0_RSVD, 32, 0, OR(GUEST_CR4, CR4_PAE); W(GUEST_CR3, PDPT32); put64(c, PDPT32, 7)) \
	X(GUEST_PDPTE1_RSVD, 32, 0, OR(GUEST_CR4, CR4_PAE); W(GUEST_CR3, PDPT32); put64(c, PDPT32 + 8, 1 | (1u << 5))) \
	X(GUEST_PDPTE2_RSVD, 32, 0, with_ept(c); OR(GUEST_CR4, CR4_PAE); W(GUEST_PDPTE2, 1 | FAR)) \
	X(GUEST_PDPTE3_RSVD, 32, 0, with_ept(c); OR(GUEST_CR4, CR4_PAE); W(GUEST_PDPTE3, 1 | (1u << 8))) \
	X(MSRLOAD_FS_GS_BASE, 64, 0, t->e.msr_lo = 0xc0000101)                                    \
	X(MSRLOAD_X2APIC, 64, 0, t->e.msr_lo = 0x808)                                             \
	X(MSRLOAD_SMM_ONLY, 64, 0, t->e.msr_lo = 0x9b)                                            \
	X(MSRLOAD_MODEL_SPECIFIC, 64, 0, t->e.msr_lo = 0x79)                                      \
	X(MSRLOAD_RSVD, 64, 0, t->e.msr_lo = 0x174 | (1ull << 32))                                \
	X(MSRLOAD_WRMSR_GP, 64, 0, t->e.msr_lo = 0x12345678)

#define X(id, bits, phase_only, ...)                     \
	static void mut_##id(struct tcpu *t)             \
	{                                                \
		struct cpu *c = &t->cpu;                 \
		(void)c;                                 \
		__VA_ARGS__;                             \
	}
MUTATIONS(X)
#undef X

struct mutation {
	int id;
	int guest_bits;
	bool phase_only;
	void (*apply)(struct tcpu *);
};

static const struct mutation mutations[] = {
#define X(id, bits, phase_only, ...) { ENTRY_CHECK_##id, bits, phase_only, mut_##id },
	MUTATIONS(X)
#undef X
};
#define NMUT (sizeof(mutations) / sizeof(mutations[0]))

/* Rows whose mutation needs fixed CR0/CR4 bits from the capability MSRs
 * (vmx/caps.c): on a model whose IA32_VMX_CRx_FIXED0/1 fix nothing they
 * cannot be broken and are reported, not counted as passes. */
static bool needs_fixed_bits(struct tcpu *t, int id)
{
	struct cpu *c = &t->cpu;
	switch (id) {
	case ENTRY_CHECK_HOST_CR0_FIXED:
	case ENTRY_CHECK_GUEST_CR0_FIXED:
		return vmx_cr0_fixed0(c) == 0 && vmx_cr0_fixed1(c) == ~0ull;
	case ENTRY_CHECK_HOST_CR4_FIXED:
	case ENTRY_CHECK_GUEST_CR4_FIXED:
		return vmx_cr4_fixed0(c) == 0;
	}
	return false;
}

static const enum entry_phase phases[] = { PHASE_CONTROLS, PHASE_HOST, PHASE_GUEST, PHASE_MSR_LOAD };

static const char *name(int id)
{
	return id >= 0 ? entry_checks[id].id : "(none)";
}

/* Every phase passes on both baselines; the MSR_LOAD phase loads a valid entry. */
static void test_baseline_passes(void)
{
	struct tcpu *t = tcpu_create();
	for (int bits = 32; bits <= 64; bits += 32) {
		baseline(t, bits);
		for (unsigned p = 0; p < sizeof(phases) / sizeof(phases[0]); p++) {
			int r = entry_run_phase(&t->e, phases[p]);
			if (r != -1)
				printf("\n  baseline %d-bit guest fails %s\n", bits, name(r));
			CU_ASSERT_EQUAL(r, -1);
		}
	}
	CU_ASSERT_EQUAL(t->cpu.msr.sysenter_cs, 0x10);
	tcpu_destroy(t);
}

/* The mutation table covers exactly the rows of the four phases. */
static void test_table_covered(void)
{
	bool seen[ENTRY_CHECK_COUNT] = { false };
	for (unsigned i = 0; i < NMUT; i++) {
		CU_ASSERT_FALSE(seen[mutations[i].id]);
		seen[mutations[i].id] = true;
		CU_ASSERT_NOT_EQUAL(entry_checks[mutations[i].id].phase, PHASE_BASIC);
	}
	for (int i = 0; i < ENTRY_CHECK_COUNT; i++) {
		if (entry_checks[i].phase != PHASE_BASIC && !seen[i])
			printf("\n  no mutation for %s\n", entry_checks[i].id);
		CU_ASSERT(entry_checks[i].phase == PHASE_BASIC || seen[i]);
	}
}

/* The exit qualifications of the guest-state rows that have one (26.7):
 * 2 PDPTEs, 3 NMI injection with blocking by STI, 4 VMCS link pointer;
 * every other guest row 0. (tests/unit/vmx/test_entry_table.c checks the
 * phase order and outcome classes.) */
static void test_qualifications(void)
{
	for (int i = 0; i < ENTRY_CHECK_COUNT; i++) {
		const struct entry_check *k = &entry_checks[i];
		if (k->phase != PHASE_GUEST)
			continue;
		unsigned q = strncmp(k->id, "GUEST_PDPTE", 11) == 0 ? 2 : strncmp(k->id, "GUEST_LINK_", 11) == 0 ? 4
			   : i == ENTRY_CHECK_GUEST_INTR_NMI_STI ? 3 : 0;
		CU_ASSERT_EQUAL(k->outcome.qual, q);
	}
	CU_ASSERT_EQUAL(entry_checks[ENTRY_CHECK_GUEST_LINK_CURRENT].outcome.qual, 4);
	CU_ASSERT_EQUAL(entry_checks[ENTRY_CHECK_GUEST_PDPTE0_RSVD].outcome.qual, 2);
	CU_ASSERT_EQUAL(entry_checks[ENTRY_CHECK_GUEST_INTR_NMI_STI].outcome.qual, 3);
}

/* Apply mutation m to its baseline: the phases before the row's pass, the
 * row's phase fails at exactly that row, with the verdict recorded. */
static bool run_mutation(struct tcpu *t, const struct mutation *m)
{
	const struct entry_check *k = &entry_checks[m->id];
	baseline(t, m->guest_bits);
	m->apply(t);
	for (unsigned p = 0; p < sizeof(phases) / sizeof(phases[0]); p++) {
		t->cpu.vmx.verdict.check = -1;
		int r = entry_run_phase(&t->e, phases[p]);
		if (phases[p] != k->phase) {
			if (r != -1 && !m->phase_only) {
				printf("\n  %s: earlier phase fails %s\n", k->id, name(r));
				return false;
			}
			continue;
		}
		if (r != m->id) {
			printf("\n  %s: phase returns %s\n", k->id, name(r));
			return false;
		}
		const struct vmx_verdict *v = &t->cpu.vmx.verdict;
		if (v->check != m->id || (k->field >= 0 && v->field == UINT32_MAX)) {
			printf("\n  %s: verdict not recorded\n", k->id);
			return false;
		}
		if (k->phase == PHASE_MSR_LOAD && v->index != t->e.msr_n) {
			printf("\n  %s: verdict index %u\n", k->id, v->index);
			return false;
		}
		return true;
	}
	return false;
}

static void test_each_row_breaks_alone(void)
{
	struct tcpu *t = tcpu_create();
	unsigned passed = 0, not_breakable = 0;
	for (unsigned i = 0; i < NMUT; i++) {
		if (needs_fixed_bits(t, mutations[i].id)) {
			printf("\n  %s: the model's CR fixed bits fix nothing; not breakable here", name(mutations[i].id));
			not_breakable++;
			continue;
		}
		bool ok = run_mutation(t, &mutations[i]);
		CU_ASSERT(ok);
		passed += ok;
	}
	CU_ASSERT(not_breakable <= 4);
	CU_ASSERT_EQUAL(passed + not_breakable, NMUT);
	tcpu_destroy(t);
}

/* Verdict values: a few rows whose actual/expected matter to a user. */
static void test_verdict_values(void)
{
	struct tcpu *t = tcpu_create();
	struct cpu *c = &t->cpu;
	baseline(t, 64);
	W(CR3_TARGET_COUNT, 7);
	CU_ASSERT_EQUAL(entry_run_phase(&t->e, PHASE_CONTROLS), ENTRY_CHECK_CTL_CR3_TARGET_COUNT);
	CU_ASSERT_EQUAL(c->vmx.verdict.field, vmcs_fields[VF_CR3_TARGET_COUNT].enc);
	CU_ASSERT_EQUAL(c->vmx.verdict.actual, 7);
	CU_ASSERT_EQUAL(c->vmx.verdict.expected, 4);

	baseline(t, 64);
	set_dpl(c, VF_GUEST_CS_AR, 2);
	CU_ASSERT_EQUAL(entry_run_phase(&t->e, PHASE_GUEST), ENTRY_CHECK_GUEST_CS_AR_DPL_NONCONF);
	CU_ASSERT_EQUAL(c->vmx.verdict.field, vmcs_fields[VF_GUEST_CS_AR].enc);
	CU_ASSERT_EQUAL(c->vmx.verdict.actual, 2);
	CU_ASSERT_EQUAL(c->vmx.verdict.expected, 0);

	baseline(t, 64);
	t->e.msr_n = 3;
	t->e.msr_lo = 0xc0000100;
	CU_ASSERT_EQUAL(entry_run_phase(&t->e, PHASE_MSR_LOAD), ENTRY_CHECK_MSRLOAD_FS_GS_BASE);
	CU_ASSERT_EQUAL(c->vmx.verdict.index, 3);
	tcpu_destroy(t);
}

void suite_vmx_entry_checks(void)
{
	CU_pSuite s = CU_add_suite("vmx_entry_checks", NULL, NULL);
	CU_add_test(s, "baseline VMCS passes every phase", test_baseline_passes);
	CU_add_test(s, "every row has a mutation", test_table_covered);
	CU_add_test(s, "exit qualifications of the guest rows", test_qualifications);
	CU_add_test(s, "each mutation fails exactly its row", test_each_row_breaks_alone);
	CU_add_test(s, "verdict values", test_verdict_values);
}
