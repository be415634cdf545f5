/* VM exits: saving guest state and loading host state beyond what
 * vmx_entry.c covers (SDM vol. 3C, the edition whose VM-exit chapter is
 * 27): "save debug controls" (DR7, IA32_DEBUGCTL), "save IA32_PAT",
 * "save IA32_EFER", IA32_DEBUGCTL cleared and IA32_PERF_GLOBAL_CTRL
 * loaded on exit (27.5.1), the pending-debug-exceptions field saved
 * (27.3.4) and loaded (26.6.3: delivered after VM entry, ignored when the
 * entry is vectoring, held by MOV-SS blocking), single-step across a VM
 * exit, interruptibility with MOV-SS blocking, the PDPTEs saved with EPT
 * and PAE paging, and (with "abort=N" on the command line) the VMX aborts
 * of 27.7, after which vtxsim ends the run with status 12 (guests.vts).
 */
#include "guest.h"
#include "vmx_vmcs.h"

#define MSR_DEBUGCTL 0x1d9u
#define MSR_PERF_GLOBAL_CTRL 0x38fu
#define DEBUGCTL_LBR 1ul
#define DEBUGCTL_BTF 2ul
#define DR7_FIXED 0x400ul
#define DR6_B0 1ul
#define DR6_BS (1ul << 14)
#define PAT_OTHER 0x0007010600070106ull        /* valid memory types (vol. 3A 11.12) */
#define SENTINEL 0x5e5e5e5e5e5e5e5eull
/* DR7 enabling breakpoint 0 (L0) for 2-byte reads and writes (RW0 = 11,
 * LEN0 = 01; vol. 3B 17.2.4). */
#define DR7_BP0_RW2 (DR7_FIXED | 1ul | 3ul << 16 | 1ul << 18)

/* ---- the guest's view ---- */

uint64_t g_in[2];                       /* IA32_DEBUGCTL, IA32_PERF_GLOBAL_CTRL as the entry loaded them */
uint64_t g_dr7, g_debugctl, g_pat;      /* what g_change64 writes */
uint8_t g_msrs;                         /* may the guest use RDMSR/WRMSR without exiting */
uint16_t g_ss_slot __attribute__((aligned(8))) = KERNEL_DS;

extern char g_change64[], g_change64_vmcall[];
extern char g_land[], g_land_vmcall[];
extern char g_movss[], g_movss_vmcall[], g_movss_after[], g_movss_vmcall2[];
extern char g_tf[], g_tf_after[], g_tf_vmcall[];
extern char g_idt_stubs[];
extern char g_pae32[], g_pae32_vmcall[];

asm(".text\n"
    ".code64\n"
    /* Reads the MSRs the entry loaded, writes DR7, IA32_DEBUGCTL, IA32_PAT
     * and IA32_EFER.SCE, VMCALLs. */
    "g_change64:\n"
    "	mov g_dr7(%rip), %rax\n"
    "	mov %rax, %dr7\n"
    "	cmpb $0, g_msrs(%rip)\n"
    "	je 1f\n"
    "	mov $0x1d9, %ecx\n"
    "	rdmsr\n"
    "	mov %eax, g_in+0(%rip)\n"
    "	mov %edx, g_in+4(%rip)\n"
    "	mov $0x38f, %ecx\n"
    "	rdmsr\n"
    "	mov %eax, g_in+8(%rip)\n"
    "	mov %edx, g_in+12(%rip)\n"
    "	mov $0x1d9, %ecx\n"
    "	mov g_debugctl(%rip), %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	mov $0x277, %ecx\n"
    "	mov g_pat(%rip), %eax\n"
    "	mov g_pat+4(%rip), %edx\n"
    "	wrmsr\n"
    "	mov $0xc0000080, %ecx\n"
    "	rdmsr\n"
    "	xor $1, %eax\n"                         /* EFER.SCE */
    "	wrmsr\n"
    "1:\n"
    "g_change64_vmcall:\n"
    "	vmcall\n"
    "	jmp g_change64_vmcall\n"
    /* RAX = magic: the guest ran its first instruction without a #DB. */
    "g_land:\n"
    "	mov $0x600dc0de, %eax\n"
    "g_land_vmcall:\n"
    "	vmcall\n"
    "	jmp g_land\n"
    /* MOV SS from a word with a data breakpoint: the #DB is held for one
     * instruction (vol. 3A 6.8.3), which is a VMCALL. */
    "g_movss:\n"
    "	mov g_ss_slot(%rip), %ss\n"
    "g_movss_vmcall:\n"
    "	vmcall\n"
    "g_movss_after:\n"
    "	mov $0x600dc0de, %eax\n"
    "g_movss_vmcall2:\n"
    "	vmcall\n"
    "	jmp g_movss_vmcall2\n"
    /* CPUID exits unconditionally; entered with RFLAGS.TF = 1. */
    "g_tf:\n"
    "	cpuid\n"
    "g_tf_after:\n"
    "	mov $0x600dc0de, %eax\n"
    "g_tf_vmcall:\n"
    "	vmcall\n"
    "	jmp g_tf_vmcall\n"
    /* Vector v's stub (16 bytes each) VMCALLs with RAX = v. */
    "	.balign 16\n"
    "g_idt_stubs:\n"
    "	.set v, 0\n"
    "	.rept 256\n"
    "	.balign 16\n"
    "	mov $v, %eax\n"
    "	vmcall\n"
    "	.set v, v + 1\n"
    "	.endr\n"
    /* A 32-bit PAE guest reloads CR3 (and with it the PDPTEs, vol. 3A
     * 4.4.1) and VMCALLs. */
    ".code32\n"
    "g_pae32:\n"
    "	mov %cr3, %eax\n"
    "	mov %eax, %cr3\n"
    "g_pae32_vmcall:\n"
    "	vmcall\n"
    "	jmp g_pae32_vmcall\n"
    ".code64\n");

#define STUB_VMCALL_OFF 5       /* mov $imm32, %eax */

static uint64_t guest_idt[512] __attribute__((aligned(4096)));
static uint8_t msr_bitmap[4096] __attribute__((aligned(4096)));
static uint64_t msr_area[2][2] __attribute__((aligned(16)));
static uint64_t pae_pdpt[4] __attribute__((aligned(32)));
static uint64_t pae_pd[4][512] __attribute__((aligned(4096)));

static bool allowed(enum vmx_ctl_msr ctl, uint64_t bit)
{
	return vmx_allowed1(ctl) & bit;
}

static bool may_be0(enum vmx_ctl_msr ctl, uint64_t bit)
{
	return !(vmx_must1(ctl) & bit);
}

/* "Use MSR bitmaps" with an all-zero bitmap: RDMSR/WRMSR do not exit
 * (25.1.3). */
static bool guest_msrs_usable(void)
{
	if (!allowed(VMX_CTL_PROC, PROC_MSR_BITMAPS))
		return false;
	memset(msr_bitmap, 0, sizeof(msr_bitmap));
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_MSR_BITMAPS, true);
	vmwrite(VMCS_MSR_BITMAP, (uint64_t)msr_bitmap);
	return true;
}

static bool expect_exit(struct vmx_outcome o, uint32_t reason, const char *what)
{
	if (o.res != VMX_OK) {
		report(false, "%s: VM entry failed (VMfail%s, error %u)", what,
		       o.res == VMX_FAIL_VALID ? "Valid" : "Invalid", o.error);
		return false;
	}
	if (o.exit_reason != reason) {
		report(false, "%s: exit reason %#x (qualification %#lx), expected %#x", what, o.exit_reason, o.qual,
		       reason);
		return false;
	}
	return true;
}

static void write_dr0(uint64_t v)
{
	asm volatile("mov %0, %%dr0" : : "r"(v));
}

static uint64_t read_dr6(void)
{
	uint64_t v;
	asm volatile("mov %%dr6, %0" : "=r"(v));
	return v;
}

static void write_dr6(uint64_t v)
{
	asm volatile("mov %0, %%dr6" : : "r"(v));
}

static uint64_t read_dr7(void)
{
	uint64_t v;
	asm volatile("mov %%dr7, %0" : "=r"(v));
	return v;
}

static void build_guest_idt(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)g_idt_stubs + 16 * v;
		guest_idt[2 * v] = (a & 0xffff) | (uint64_t)KERNEL_CS << 16 | 0x8eull << 40 | ((a >> 16) & 0xffff) << 48;
		guest_idt[2 * v + 1] = a >> 32;
	}
}

/* A 64-bit guest with its own IDT (the stubs) and stack. */
static void baseline_with_idt(uint64_t rip, int stack_page)
{
	vmx_baseline(64);
	vmwrite(VMCS_GUEST_IDTR_BASE, (uint64_t)guest_idt);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, sizeof(guest_idt) - 1);
	vmwrite(VMCS_GUEST_RIP, rip);
	vmwrite(VMCS_GUEST_RSP, vmx_scratch_page(stack_page) + 0x800);
}

/* ---- 27.3.1 saving DR7, IA32_DEBUGCTL, IA32_PAT, IA32_EFER; 26.3.2.1 and
 * 27.5.1 loading IA32_DEBUGCTL and IA32_PERF_GLOBAL_CTRL ---- */

static void run_change(bool save, bool *msrs)
{
	vmx_baseline(64);
	*msrs = guest_msrs_usable();
	g_msrs = *msrs;
	g_dr7 = DR7_FIXED | 0x2;                /* G0: a breakpoint enabled at an address no one uses */
	g_debugctl = DEBUGCTL_BTF;
	g_pat = PAT_OTHER;
	write_dr0(0xffff800000000000ull);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_change64);
	vmwrite(VMCS_GUEST_IA32_DEBUGCTL, DEBUGCTL_LBR);        /* loaded with "load debug controls" (26.3.2.1) */
	vmx_set_ctl(VMCS_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG_CTLS, true);
	if (allowed(VMX_CTL_ENTRY, ENTRY_LOAD_PERF_GLOBAL)) {
		vmx_set_ctl(VMCS_ENTRY_CONTROLS, ENTRY_LOAD_PERF_GLOBAL, true);
		vmwrite(VMCS_GUEST_IA32_PERF_GLOBAL_CTRL, 0);
	}
	if (allowed(VMX_CTL_EXIT, EXIT_LOAD_PERF_GLOBAL)) {
		vmx_set_ctl(VMCS_EXIT_CONTROLS, EXIT_LOAD_PERF_GLOBAL, true);
		vmwrite(VMCS_HOST_IA32_PERF_GLOBAL_CTRL, 0);
	}
	vmx_set_ctl(VMCS_EXIT_CONTROLS, EXIT_SAVE_DEBUG_CTLS, save);
	if (allowed(VMX_CTL_EXIT, EXIT_SAVE_PAT))
		vmx_set_ctl(VMCS_EXIT_CONTROLS, EXIT_SAVE_PAT, save);
	if (allowed(VMX_CTL_EXIT, EXIT_SAVE_EFER))
		vmx_set_ctl(VMCS_EXIT_CONTROLS, EXIT_SAVE_EFER, save);
	if (allowed(VMX_CTL_EXIT, EXIT_SAVE_PAT) || allowed(VMX_CTL_ENTRY, ENTRY_LOAD_PAT)) {
		vmwrite(VMCS_GUEST_IA32_PAT, SENTINEL);
		vmwrite(VMCS_GUEST_IA32_EFER, SENTINEL);
	}
	vmwrite(VMCS_GUEST_DR7, DR7_FIXED);
}

static void test_save_msrs(void)
{
	uint64_t pat = rdmsr(MSR_IA32_PAT), efer = rdmsr(MSR_EFER);
	bool msrs;
	struct vmx_outcome o;

	run_change(true, &msrs);
	o = vmx_try_launch();
	uint64_t host_debugctl = rdmsr(MSR_DEBUGCTL), host_perf = rdmsr(MSR_PERF_GLOBAL_CTRL), host_dr7 = read_dr7();
	uint64_t host_pat = rdmsr(MSR_IA32_PAT), host_efer = rdmsr(MSR_EFER);
	wrmsr(MSR_IA32_PAT, pat);
	wrmsr(MSR_EFER, efer);
	if (!expect_exit(o, EXIT_REASON_VMCALL, "27.3.1 saving with the save controls 1"))
		return;
	report_eq(vmread(VMCS_GUEST_DR7), DR7_FIXED | 0x2, "27.3.1: DR7 saved (\"save debug controls\" = 1)");
	report_eq(host_dr7, DR7_FIXED, "27.5.1: host DR7 = 400H after the exit");
	report_eq(host_debugctl, 0, "27.5.1: IA32_DEBUGCTL cleared by the exit");
	report_eq(host_perf, 0, "27.5.1: IA32_PERF_GLOBAL_CTRL as loaded (no counters on the model: 0)");
	if (!msrs) {
		report_skip("27.3.1: guest WRMSR needs MSR bitmaps (IA32_DEBUGCTL, PAT, EFER saving)");
		return;
	}
	report_eq(g_in[0], DEBUGCTL_LBR, "26.3.2.1: IA32_DEBUGCTL loaded from the field (\"load debug controls\")");
	report_eq(g_in[1], 0, "26.3.2.1: IA32_PERF_GLOBAL_CTRL reads 0 in the guest");
	report_eq(vmread(VMCS_GUEST_IA32_DEBUGCTL), DEBUGCTL_BTF, "27.3.1: IA32_DEBUGCTL saved (the guest's WRMSR)");
	if (allowed(VMX_CTL_EXIT, EXIT_SAVE_PAT))
		report_eq(vmread(VMCS_GUEST_IA32_PAT), PAT_OTHER, "27.3.1: IA32_PAT saved (\"save IA32_PAT\" = 1)");
	else
		report_skip("27.3.1: \"save IA32_PAT\" not allowed on this model");
	if (allowed(VMX_CTL_EXIT, EXIT_SAVE_EFER))
		report_eq(vmread(VMCS_GUEST_IA32_EFER), efer ^ EFER_SCE,
			  "27.3.1: IA32_EFER saved (\"save IA32_EFER\" = 1), the guest's SCE");
	else
		report_skip("27.3.1: \"save IA32_EFER\" not allowed on this model");
	if (!allowed(VMX_CTL_EXIT, EXIT_LOAD_PAT))
		report_eq(host_pat, PAT_OTHER, "27.5.1: without \"load IA32_PAT\" the guest's PAT stays");
	if (!allowed(VMX_CTL_EXIT, EXIT_LOAD_EFER))
		report_eq(host_efer & EFER_SCE, (efer ^ EFER_SCE) & EFER_SCE,
			  "27.5.1: without \"load IA32_EFER\" the guest's EFER.SCE stays");

	/* The save controls 0: the fields keep what the host wrote. */
	if (!may_be0(VMX_CTL_EXIT, EXIT_SAVE_DEBUG_CTLS)) {
		report_skip("27.3.1: \"save debug controls\" must be 1 on this model");
		return;
	}
	run_change(false, &msrs);
	o = vmx_try_launch();
	wrmsr(MSR_IA32_PAT, pat);
	wrmsr(MSR_EFER, efer);
	if (!expect_exit(o, EXIT_REASON_VMCALL, "27.3.1 saving with the save controls 0"))
		return;
	report_eq(vmread(VMCS_GUEST_DR7), DR7_FIXED, "27.3.1: DR7 not saved (\"save debug controls\" = 0)");
	report_eq(vmread(VMCS_GUEST_IA32_DEBUGCTL), DEBUGCTL_LBR,
		  "27.3.1: IA32_DEBUGCTL not saved (\"save debug controls\" = 0)");
	if (allowed(VMX_CTL_EXIT, EXIT_SAVE_PAT)) {
		report_eq(vmread(VMCS_GUEST_IA32_PAT), SENTINEL, "27.3.1: IA32_PAT not saved (\"save IA32_PAT\" = 0)");
		report_eq(vmread(VMCS_GUEST_IA32_EFER), SENTINEL, "27.3.1: IA32_EFER not saved (\"save IA32_EFER\" = 0)");
	}
}

/* ---- 26.6.3 pending debug exceptions after VM entry; 27.3.4 saving ---- */

static void test_pending_dbg_entry(void)
{
	struct vmx_outcome o;
	uint64_t *frame;

	build_guest_idt();
	/* BS with no blocking: a #DB before the first guest instruction, a
	 * trap whose frame holds GUEST_RIP; DR6.BS set. */
	baseline_with_idt((uint64_t)g_land, 4);
	vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
	write_dr6(0xffff0ff0);
	vmx_guest_regs[0] = 0;
	o = vmx_enter_guest(false);
	uint64_t dr6 = read_dr6();
	if (expect_exit(o, EXIT_REASON_VMCALL, "26.6.3 pending BS")) {
		report_eq(vmx_guest_regs[0], VEC_DB, "26.6.3: pending BS delivers #DB after VM entry");
		frame = (uint64_t *)vmread(VMCS_GUEST_RSP);
		report_eq(frame[0], (uint64_t)g_land, "26.6.3: the #DB frame's RIP = GUEST_RIP (no guest instruction ran)");
		report(dr6 & DR6_BS, "26.6.3: the delivered #DB set DR6.BS (DR6 = %#lx)", dr6);
		report_eq(vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS), 0, "27.3.4: pending debug exceptions saved as 0");
	}

	/* Only B0: no valid pending debug exception (neither BS nor bit 12). */
	baseline_with_idt((uint64_t)g_land, 4);
	vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, DR6_B0);
	vmx_guest_regs[0] = 0;
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_VMCALL, "26.6.3 pending B0 only")) {
		report_eq((uint32_t)vmx_guest_regs[0], VMX_GUEST_MAGIC,
			  "26.6.3: B0 without BS or bit 12 delivers nothing");
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_land_vmcall, "26.6.3: the guest ran to its VMCALL");
		report_eq(vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS), 0,
			  "27.3.4: the VMCALL exit saves pending debug exceptions as 0");
	}

	/* Vectoring entry (external interrupt 40H): the field is ignored. */
	baseline_with_idt((uint64_t)g_land, 4);
	vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
	vmwrite(VMCS_GUEST_RFLAGS, 2 | RFLAGS_IF);
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT | 0x40);
	write_dr6(0xffff0ff0);
	vmx_guest_regs[0] = 0;
	o = vmx_enter_guest(false);
	dr6 = read_dr6();
	if (expect_exit(o, EXIT_REASON_VMCALL, "26.6.3 vectoring entry")) {
		report_eq(vmx_guest_regs[0], 0x40, "26.6.3: a vectoring entry delivers the injected event");
		report_eq(dr6 & DR6_BS, 0, "26.6.3: ... and ignores the pending debug exceptions (no #DB, DR6.BS 0)");
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_idt_stubs + 16 * 0x40 + STUB_VMCALL_OFF,
			  "26.6.3: the exit is at the 40H handler's VMCALL");
	}
}

/* 27.3.4: a VM exit not caused by a debug exception in MOV-SS blocking
 * saves the pending causes (B0 and bit 12 of a data breakpoint the MOV SS
 * hit); 26.6.3: loaded with MOV-SS blocking they are held for one
 * instruction, then delivered. */
static void test_pending_dbg_movss(void)
{
	struct vmx_outcome o;
	uint64_t *frame;

	build_guest_idt();
	baseline_with_idt((uint64_t)g_movss, 5);
	vmx_set_ctl(VMCS_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG_CTLS, true);
	write_dr0((uint64_t)&g_ss_slot);
	vmwrite(VMCS_GUEST_DR7, DR7_BP0_RW2);
	vmx_guest_regs[0] = 0;
	o = vmx_enter_guest(false);
	if (!expect_exit(o, EXIT_REASON_VMCALL, "27.3.4 VMCALL in MOV-SS blocking"))
		return;
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_movss_vmcall, "27.3.3: RIP of the VMCALL after MOV SS");
	report_eq(vmread(VMCS_GUEST_INTERRUPTIBILITY) & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS), INTR_BLOCK_MOV_SS,
		  "27.3.4: interruptibility = blocking by MOV SS");
	report_eq(vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS), DR6_B0 | PENDING_DBG_ENABLED_BP,
		  "27.3.4: pending debug exceptions saved in MOV-SS blocking: B0 and enabled breakpoint (bit 12)");
	report_eq(read_dr7(), DR7_FIXED, "27.5.1: host DR7 = 400H (the guest's breakpoint is off in the host)");

	/* Resume after the VMCALL with that state: the MOV $imm runs in the
	 * shadow, then the #DB is delivered (trap after it). */
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_movss_after);
	write_dr6(0xffff0ff0);
	o = vmx_enter_guest(true);
	uint64_t dr6 = read_dr6();
	write_dr0(0);
	if (!expect_exit(o, EXIT_REASON_VMCALL, "26.6.3 pending B0|bit 12 with MOV-SS blocking"))
		return;
	report_eq(vmx_guest_regs[0], VEC_DB, "26.6.3: the held #DB is delivered after one guest instruction");
	frame = (uint64_t *)vmread(VMCS_GUEST_RSP);
	report_eq(frame[0], (uint64_t)g_movss_vmcall2, "26.6.3: the #DB frame's RIP follows that instruction");
	report_eq(dr6 & DR6_B0, DR6_B0, "26.6.3: DR6.B0 set by the delivered #DB");
}

/* A guest with RFLAGS.TF = 1 executes CPUID, which exits: the instruction
 * did not complete, so no single-step trap is pending (27.3.4 saves 0) and
 * the host gets no #DB; the hypervisor emulates the trap by setting BS
 * (26.6.3), delivered as soon as the guest resumes. */
static void test_single_step_across_exit(void)
{
	struct vmx_outcome o;
	uint64_t *frame;

	build_guest_idt();
	baseline_with_idt((uint64_t)g_tf, 6);
	vmwrite(VMCS_GUEST_RFLAGS, 2 | RFLAGS_TF);
	vmx_guest_regs[0] = 0;
	o = vmx_enter_guest(false);
	if (!expect_exit(o, EXIT_REASON_CPUID, "single-step: CPUID exit"))
		return;
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_tf, "27.3.3: RIP saved = the CPUID");
	report(vmread(VMCS_GUEST_RFLAGS) & RFLAGS_TF, "27.3.3: RFLAGS.TF = 1 saved");
	report_eq(vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS), 0,
		  "27.3.4: no single-step trap pending for the exiting CPUID (saved as 0)");
	report_eq(vmx_host_seen.rflags, 2, "27.5.3: host RFLAGS = 2: the host runs without TF and no #DB");
	vmx_skip_insn();
	vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
	write_dr6(0xffff0ff0);
	o = vmx_enter_guest(true);
	uint64_t dr6 = read_dr6();
	if (!expect_exit(o, EXIT_REASON_VMCALL, "single-step: emulated trap"))
		return;
	report_eq(vmx_guest_regs[0], VEC_DB, "26.6.3: BS set by the hypervisor: #DB right after VM entry");
	frame = (uint64_t *)vmread(VMCS_GUEST_RSP);
	report_eq(frame[0], (uint64_t)g_tf_after, "26.6.3: the #DB frame's RIP = the instruction after CPUID");
	report(frame[2] & RFLAGS_TF, "26.6.3: the frame's RFLAGS has TF");
	report(dr6 & DR6_BS, "26.6.3: DR6.BS set");
}

/* ---- 27.3.4 PDPTEs with EPT and PAE paging ---- */

static void build_pae_tables(void)
{
	for (unsigned i = 0; i < 4; i++) {
		for (unsigned j = 0; j < 512; j++)
			pae_pd[i][j] = ((uint64_t)i << 30) + ((uint64_t)j << 21) + 0x83;   /* P, R/W, PS */
		pae_pdpt[i] = (uint64_t)pae_pd[i] | 1;
	}
}

static void test_pdptes(void)
{
	struct vmx_outcome o;
	uint64_t ign = 1ul << 9;        /* ignored bit of a PAE PDPTE (vol. 3A Table 4-8) */

	if (!allowed(VMX_CTL_PROC2, PROC2_EPT)) {
		report_skip("27.3.4: PDPTE saving needs \"enable EPT\"");
		return;
	}
	if (!may_be0(VMX_CTL_PROC, PROC_CR3_LOAD_EXITING) || !may_be0(VMX_CTL_PROC, PROC_CR3_STORE_EXITING)) {
		report_skip("27.3.4: the PAE guest's MOV CR3 would exit");
		return;
	}
	build_pae_tables();
	vmx_baseline(32);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING, false);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_SECONDARY_CTLS, true);
	vmx_set_ctl(VMCS_PROC2_CONTROLS, PROC2_EPT, true);
	vmx_setup_ept();
	vmwrite(VMCS_GUEST_CR4, vmread(VMCS_GUEST_CR4) | (1ul << 5));    /* PAE */
	vmwrite(VMCS_GUEST_CR3, (uint64_t)pae_pdpt);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_pae32);
	/* The fields differ from the table in an ignored bit: the entry loads
	 * the fields (26.3.2.4), the guest's MOV CR3 the table. */
	for (unsigned i = 0; i < 4; i++)
		vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, pae_pdpt[i] | ign);
	o = vmx_try_launch();
	if (!expect_exit(o, EXIT_REASON_VMCALL, "27.3.4 PDPTEs"))
		return;
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_pae32_vmcall, "27.3.4 PDPTEs: the PAE guest ran to its VMCALL");
	for (unsigned i = 0; i < 4; i++)
		report_eq(vmread(VMCS_GUEST_PDPTE0 + 2 * i), pae_pdpt[i],
			  "27.3.4: PDPTE%u saved (EPT and PAE paging): the value MOV CR3 loaded", i);
}

/* The entry checks that read memory run at every entry, even when no
 * VMCS field changed since they last passed (vmx/entry_memo.c): a PAE
 * guest without EPT has its PDPTEs checked in memory at guest CR3
 * (26.3.1.6); a reserved bit set there between two entries fails the
 * second with reason 33, qualification 2 (26.7). */
static void test_pdpte_memory_rechecked(void)
{
	struct vmx_outcome o;

	build_pae_tables();
	vmx_baseline(32);
	vmwrite(VMCS_GUEST_CR4, vmread(VMCS_GUEST_CR4) | (1ul << 5));    /* PAE */
	vmwrite(VMCS_GUEST_CR3, (uint64_t)pae_pdpt);
	o = vmx_try_launch();
	if (!expect_exit(o, EXIT_REASON_VMCALL, "26.3.1.6 PAE guest without EPT"))
		return;
	vmx_skip_insn();
	pae_pdpt[2] |= 1ul << 5;        /* reserved (vol. 3A Table 4-8) */
	o = vmx_try_resume();
	report(o.res == VMX_OK && o.exit_reason == (EXIT_REASON_INVALID_GUEST_STATE | EXIT_REASON_ENTRY_FAILURE) &&
		       o.qual == 2,
	       "26.3.1.6: a PDPTE made bad in memory fails the next VMRESUME: reason 33 with bit 31, qualification 2 "
	       "(got %d, %#x, %#lx)", o.res, o.exit_reason, o.qual);
	pae_pdpt[2] &= ~(1ul << 5);
	o = vmx_try_resume();
	report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL,
	       "26.3.1.6: with the PDPTE fixed the VMRESUME enters (exit %#x)", o.exit_reason);
}

/* ---- 27.7 VMX aborts: the run ends (vtxsim exit status 12) ---- */

static void msr_entry(uint64_t *e, uint32_t index, uint64_t value)
{
	e[0] = index;
	e[1] = value;
}

/* abort=1: the VM-exit MSR-store area names IA32_SMBASE (9EH), which
 * 27.4 forbids; abort=4: the VM-exit MSR-load area names IA32_FS_BASE,
 * which 27.6 forbids. Either way the exit cannot complete. */
static void provoke_abort(unsigned code)
{
	vmx_baseline(64);
	memset(msr_area, 0, sizeof(msr_area));
	if (code == 1) {
		msr_entry(msr_area[0], 0x9e, 0);
		vmwrite(VMCS_EXIT_MSR_STORE_ADDR, (uint64_t)msr_area[0]);
		vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 1);
	} else {
		msr_entry(msr_area[0], MSR_FS_BASE, 0);
		vmwrite(VMCS_EXIT_MSR_LOAD_ADDR, (uint64_t)msr_area[0]);
		vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 1);
	}
	printf("vmx_exit_state: provoking VMX abort %u; vtxsim must end the run with status 12\n", code);
	struct vmx_outcome o = vmx_try_launch();
	report(false, "27.7: the VM exit completed (result %d, reason %#x): no VMX abort %u", o.res, o.exit_reason,
	       code);
}

void kmain(uint32_t magic, uint32_t info)
{
	const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)info;
	char buf[8];

	(void)magic;
	if (!vmx_start()) {
		report_summary();
		return;
	}
	if ((mbi->flags & MBI_CMDLINE) && cmdline_get((const char *)(uintptr_t)mbi->cmdline, "abort", buf, sizeof(buf))) {
		provoke_abort(buf[0] == '4' ? 4 : 1);
		report_summary();
		return;
	}
	test_save_msrs();
	test_pending_dbg_entry();
	test_pending_dbg_movss();
	test_single_step_across_exit();
	test_pdptes();
	test_pdpte_memory_rechecked();
	report_summary();
}
