/* VMFUNC and EPTP switching (SDM vol. 3C 25.5.5 "VM Functions", 25.5.5.3
 * "EPTP Switching", in the edition whose VM-exit chapter is 27; vol. 2
 * "VMFUNC—Invoke VM Function"), seen from a guest hypervisor. VMFUNC
 * (0F 01 D4) is #UD outside VMX non-root operation and with "enable VM
 * functions" = 0. In non-root operation EAX selects the function: EAX > 63
 * or a function whose VM-function control is 0 is VM exit 59 (fault-like,
 * with the instruction length). Function 0 takes entry ECX of the EPTP
 * list: ECX >= 512, or an entry that fails the VM-entry EPTP checks, is
 * exit 59; otherwise the entry becomes the EPTP (and ECX[15:0] the EPTP
 * index where "EPT-violation #VE" exists) with no VM exit.
 *
 * Two EPT hierarchies map guest-physical EPT_ALIAS differently: A (the
 * library's, vmx_ept_build) to ept_target, B (below) to ept_target2. */
#include "guest.h"
#include "vmx_ept.h"
#include "vmx_vmcs.h"
#include "vmx/caps_bits.h"

enum { RAX = 0, RCX, RDX, RBX, R8 = 8, R9, R10 };

#define ALIGNED __attribute__((aligned(4096)))
#define VMFUNC_LEN 3
#define HW_EXC(v) (INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT | (v))
#define VALUE_A 0x1111aaaa1111aaaaull
#define VALUE_B 0x2222bbbb2222bbbbull

static uint64_t b_pml4[512] ALIGNED, b_pdpt[512] ALIGNED, b_pd3[512] ALIGNED, b_pt[512] ALIGNED;
static uint64_t eptp_list[512] ALIGNED;
static uint64_t eptp_a, eptp_b;

/* A -> B -> A, reading EPT_LA_SUP after each step into R8, R9, R10. */
extern char g_sw[], g_sw_end[], g_fn[], g_fn_end[], g_fn_rd[], g_rd[];
asm(".text\n.code64\n"
    "g_sw:	mov (%rbx), %r8\n"
    "	xor %eax, %eax\n"
    "	mov $1, %ecx\n"
    "	vmfunc\n"
    "	mov (%rbx), %r9\n"
    "	xor %ecx, %ecx\n"
    "	vmfunc\n"
    "	mov (%rbx), %r10\n"
    "g_sw_end:	vmcall\n"
    "g_fn:	vmfunc\n"
    "g_fn_end:	vmcall\n"
    "g_fn_rd:	vmfunc\n"
    "	mov (%rbx), %r9\n"
    "	vmcall\n"
    "g_rd:	mov (%rbx), %r9\n"
    "	vmcall\n");

static bool vmfunc_usable(void)
{
	if (!vmx_ept_usable())
		return false;
	if (!(vmx_allowed1(VMX_CTL_PROC2) & PROC2_VMFUNC) ||
	    !(vmx_msr(MSR_IA32_VMX_VMFUNC) & VMX_VMFUNC_EPTP_SWITCHING)) {
		report_skip("VMFUNC: the model has no EPTP switching");
		return false;
	}
	return true;
}

static bool has_eptp_index(void)
{
	return (vmx_allowed1(VMX_CTL_PROC2) & PROC2_EPT_VE) != 0;
}

/* B: A's tables with its own PML4, PDPT, the 4th GiB's PD and the PT, whose
 * entry 0 maps ept_target2. */
static void build_b(void)
{
	memcpy(b_pdpt, ept_pdpt, 4096);
	memcpy(b_pd3, ept_pd3, 4096);
	memcpy(b_pt, ept_pt, 4096);
	memset(b_pml4, 0, 4096);
	b_pml4[0] = (uint64_t)b_pdpt | EPT_RWX;
	b_pdpt[3] = (uint64_t)b_pd3 | EPT_RWX;
	b_pd3[0] = (uint64_t)b_pt | EPT_RWX;
	b_pt[0] = (uint64_t)ept_target2 | EPT_RWX | EPT_WB;
	eptp_b = (uint64_t)b_pml4 | (eptp_a & 0xfff);
}

static void setup(char *rip, uint64_t fn, uint64_t index)
{
	vmx_baseline(64);
	eptp_a = vmx_ept_build(false, false, false);
	build_b();
	memset(eptp_list, 0, sizeof(eptp_list));
	eptp_list[0] = eptp_a;
	eptp_list[1] = eptp_b;
	eptp_list[2] = (eptp_b & ~7ull) | 1;            /* memory type 1: not offered (26.2.1.1) */
	eptp_list[3] = eptp_b | (1ull << 7);            /* reserved bit 7 */
	eptp_list[4] = (eptp_b & ~0x38ull) | (1ull << 3);        /* page-walk length 2 */
	eptp_list[5] = eptp_b | (1ull << 51);           /* beyond MAXPHYADDR (the models have < 52) */
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | PROC2_VMFUNC);
	vmwrite(VMCS_VMFUNC_CONTROLS, VMFUNC_EPTP_SWITCHING);
	vmwrite(VMCS_EPTP_LIST_ADDR, (uint64_t)eptp_list);
	if (has_eptp_index())
		vmwrite(VMCS_EPTP_INDEX, 9);
	*(volatile uint64_t *)ept_target = VALUE_A;
	*(volatile uint64_t *)ept_target2 = VALUE_B;
	invept(2, 0, 0);
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmx_guest_regs[RBX] = EPT_LA_SUP;
	vmx_guest_regs[RAX] = fn;
	vmx_guest_regs[RCX] = index;
	vmwrite(VMCS_GUEST_RIP, (uint64_t)rip);
}

static bool exited(struct vmx_outcome o, uint32_t reason, const char *what)
{
	return report(o.res == VMX_OK && o.exit_reason == reason, "%s: exit %u (got res %d, exit %u)", what, reason,
		      o.res, o.exit_reason);
}

static void test_switch(void)
{
	const char *what = "EPTP switching A -> B -> A";
	setup(g_sw, 0, 0);
	if (!exited(vmx_enter_guest(false), EXIT_REASON_VMCALL, what))
		return;
	report_eq(vmx_guest_regs[R8], VALUE_A, "under EPTP A the GPA reads page A");
	report_eq(vmx_guest_regs[R9], VALUE_B, "after VMFUNC(0, 1) the same GPA reads page B, without a VM exit");
	report_eq(vmx_guest_regs[R10], VALUE_A, "after VMFUNC(0, 0) page A again");
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_sw_end, "the guest ran to its VMCALL");
	report_eq(vmread(VMCS_EPT_POINTER), eptp_a, "the EPTP field holds list entry 0");
	if (has_eptp_index())
		report_eq(vmread(VMCS_EPTP_INDEX), 0, "the EPTP index field holds ECX[15:0] = 0");

	what = "VMFUNC(0, 1) alone";
	setup(g_fn, 0, 0xffffffff00000001ull);
	if (!exited(vmx_enter_guest(false), EXIT_REASON_VMCALL, what))
		return;
	report_eq(vmread(VMCS_EPT_POINTER), eptp_b, "RCX[63:32] ignored: the EPTP field holds list entry 1");
	if (has_eptp_index())
		report_eq(vmread(VMCS_EPTP_INDEX), 1, "the EPTP index field holds 1");
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_fn_end, "VMFUNC completed (RIP past it)");
}

/* Translations cached under one EPTP are never used under another
 * (28.3.1: combined mappings are tagged by EP4TA), across VMFUNC, VM exits
 * and VM entries with "enable VPID" (which flush nothing). */
static uint64_t step(char *rip, uint64_t index, bool resume, const char *what)
{
	vmx_guest_regs[RAX] = 0;
	vmx_guest_regs[RCX] = index;
	vmx_guest_regs[R9] = 0;
	vmwrite(VMCS_GUEST_RIP, (uint64_t)rip);
	if (!exited(vmx_enter_guest(resume), EXIT_REASON_VMCALL, what))
		return 0;
	return vmx_guest_regs[R9];
}

static void test_tagging(void)
{
	if (!(vmx_allowed1(VMX_CTL_PROC2) & PROC2_VPID)) {
		report_skip("VMFUNC with VPID: the model has no \"enable VPID\"");
		return;
	}
	setup(g_rd, 0, 0);
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | PROC2_VPID);
	vmwrite(VMCS_VPID, 1);
	invvpid(2, 0, 0);
	report_eq(step(g_rd, 0, false, "VPID 1, EPTP A: read"), VALUE_A, "EPTP A: page A");
	report_eq(step(g_fn_rd, 1, true, "VMFUNC to B, read"), VALUE_B, "after VMFUNC to B: page B");
	report_eq(step(g_rd, 0, true, "VM entry with EPTP B (no flush), read"), VALUE_B, "re-entered with EPTP B: page B");
	report_eq(step(g_fn_rd, 0, true, "VMFUNC back to A, read"), VALUE_A, "after VMFUNC to A: page A");
	report_eq(step(g_rd, 0, true, "VM entry with EPTP A (no flush), read"), VALUE_A,
		  "re-entered with EPTP A: page A, not a translation made under B");
}

static void exit59(uint64_t fn, uint64_t index, const char *what)
{
	setup(g_fn, fn, index);
	if (!exited(vmx_enter_guest(false), EXIT_REASON_VMFUNC, what))
		return;
	report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), VMFUNC_LEN, "%s: instruction length 3", what);
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_fn, "%s: GUEST_RIP = the VMFUNC", what);
	report_eq(vmread(VMCS_EPT_POINTER), eptp_a, "%s: the EPTP is unchanged", what);
	if (has_eptp_index())
		report_eq(vmread(VMCS_EPTP_INDEX), 9, "%s: the EPTP index is unchanged", what);
}

static void test_exits(void)
{
	exit59(0, 512, "ECX = 512");
	exit59(0, 0xffffffffu, "ECX = FFFFFFFFH");
	exit59(0, 2, "list entry with memory type 1");
	exit59(0, 3, "list entry with reserved bit 7");
	exit59(0, 4, "list entry with page-walk length 2");
	exit59(0, 5, "list entry with bit 51 set");
	exit59(0, 6, "list entry 0 (all zero)");
	exit59(1, 0, "function 1 (control bit 1 = 0)");
	exit59(64, 0, "EAX = 64");
}

static void run_vmfunc_root(void *arg)
{
	(void)arg;
	asm volatile("vmfunc" ::"a"(0), "c"(0));
}

static void test_ud(void)
{
	const char *what = "\"enable VM functions\" = 0";
	setup(g_fn, 0, 1);
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) & ~(uint64_t)PROC2_VMFUNC);
	vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_UD);
	if (exited(vmx_enter_guest(false), EXIT_REASON_EXCEPTION_NMI, what)) {
		report_eq(vmread(VMCS_EXIT_INTR_INFO), HW_EXC(VEC_UD), "%s: #UD (exit 0, vector 6)", what);
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_fn, "%s: GUEST_RIP = the VMFUNC", what);
		report_eq(vmread(VMCS_EPT_POINTER), eptp_a, "%s: the EPTP is unchanged", what);
	}
	struct fault f;
	catch_fault(run_vmfunc_root, NULL, &f);
	report(f.raised && f.vector == VEC_UD, "VMX root operation: VMFUNC is #UD (raised %d, vector %u)", f.raised,
	       f.vector);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start() && vmfunc_usable()) {
		test_switch();
		test_tagging();
		test_exits();
		test_ud();
	}
	report_summary();
}
