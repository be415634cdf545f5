/* A nested hypervisor on VMCS shadowing (SDM vol. 3C 24.10, 25.1.3, 30.3):
 * this kernel (L0) runs an L1 "hypervisor" in VMX non-root operation with
 * VMCS shadowing and all-clear VMREAD/VMWRITE bitmaps; the shadow VMCS is
 * L1's VMCS12.
 *   1. L1 builds VMCS12 with VMWRITEs that reach the shadow (no VM exit)
 *      and executes VMLAUNCH: exit 20 to L0.
 *   2. L0 reads VMCS12 (VMPTRLD of the shadow, VMREAD, VMCLEAR), builds
 *      VMCS02 (its own controls and host state, L1's guest state with the
 *      RIP/RSP/RFLAGS of VMCS12) and launches L2.
 *   3. L2 executes CPUID: exit 10 to L0, which writes exit reason, length
 *      and guest RIP/RSP into VMCS12 (VMWRITE to exit-information fields:
 *      IA32_VMX_MISC[29]) and resumes L1 at VMCS12's host RIP/RSP.
 *   4. L1 VMREADs the exit (no VM exit), steps L2's RIP past CPUID with a
 *      VMWRITE and reports with VMCALL; then VMRESUMEs (exit 24): L0
 *      resumes VMCS02, L2 executes VMCALL (exit 18), which L1 reads from
 *      VMCS12 the same way and reports.
 * The general registers pass through untouched, as on hardware: VM entry
 * and VM exit load only RSP and RIP (26.3.2, 27.5.3).
 * Models without VMCS shadowing (core2) SKIP.
 */
#include "guest.h"
#include "vmx_vmcs.h"

enum { RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSI = 6, RDI = 7, R12 = 12, R15 = 15 };
#define FL_ARITH 0x8d5ul
#define SHADOW_INDICATOR 0x80000000u
#define L2_MARK 0x4c32

/* The encodings L1's code uses as immediates (asm cannot name the enum). */
#define E_GUEST_RSP 0x681c
#define E_GUEST_RIP 0x681e
#define E_GUEST_RFLAGS 0x6820
#define E_HOST_RSP 0x6c14
#define E_HOST_RIP 0x6c16
#define E_EXIT_REASON 0x4402
#define E_EXIT_LEN 0x440c
_Static_assert(E_GUEST_RSP == VMCS_GUEST_RSP && E_GUEST_RIP == VMCS_GUEST_RIP && E_GUEST_RFLAGS == VMCS_GUEST_RFLAGS,
	       "guest-state encodings");
_Static_assert(E_HOST_RSP == VMCS_HOST_RSP && E_HOST_RIP == VMCS_HOST_RIP, "host-state encodings");
_Static_assert(E_EXIT_REASON == VMCS_EXIT_REASON && E_EXIT_LEN == VMCS_EXIT_INSTRUCTION_LEN, "exit encodings");

static uint8_t vmcs12[4096] __attribute__((aligned(4096)));
static uint8_t vmcs02[4096] __attribute__((aligned(4096)));
uint8_t l2_stack[4096] __attribute__((aligned(16)));
static uint64_t vmcs01;

#define S_(x) #x
#define S(x) S_(x)
/* R15 collects the RFLAGS of every VMREAD/VMWRITE of L1: 0 in its
 * arithmetic bits means they all succeeded. */
#define ACC "pushfq; pop %r14; or %r14, %r15\n"

extern char l1_code[], l1_launch[], l1_host[], l1_report1[], l1_resume[], l1_report2[], l1_fail[];
extern char l2_code[], l2_cpuid[], l2_vmcall[];
asm(".code64\n"
    "l1_code:	xor %r15d, %r15d\n"
    "	mov $" S(E_GUEST_RIP) ", %eax; lea l2_code(%rip), %rbx; vmwrite %rbx, %rax\n" ACC
    "	mov $" S(E_GUEST_RSP) ", %eax; lea l2_stack+4096(%rip), %rbx; vmwrite %rbx, %rax\n" ACC
    "	mov $" S(E_GUEST_RFLAGS) ", %eax; mov $2, %ebx; vmwrite %rbx, %rax\n" ACC
    "	mov $" S(E_HOST_RIP) ", %eax; lea l1_host(%rip), %rbx; vmwrite %rbx, %rax\n" ACC
    "	mov $" S(E_HOST_RSP) ", %eax; vmwrite %rsp, %rax\n" ACC
    "l1_launch:	vmlaunch\n"
    "l1_fail:	vmcall\n"
    "	jmp l1_fail\n"
    /* L1's VM-exit handler: what happened to L2, from VMCS12. */
    "l1_host:	mov $" S(E_EXIT_REASON) ", %eax; vmread %rax, %rbx\n" ACC
    "	mov $" S(E_EXIT_LEN) ", %eax; vmread %rax, %rdx\n" ACC
    "	mov $" S(E_GUEST_RIP) ", %eax; vmread %rax, %rsi\n" ACC
    "	cmp $18, %ebx\n"
    "	je l1_report2\n"
    "	lea (%rsi,%rdx), %rdi; vmwrite %rdi, %rax\n" ACC
    "l1_report1:	vmcall\n"
    "l1_resume:	vmresume\n"
    "	jmp l1_fail\n"
    "l1_report2:	vmcall\n"
    "	jmp l1_fail\n"
    /* L2. */
    "l2_code:	mov $" S(L2_MARK) ", %r12d\n"
    "	xor %eax, %eax\n"
    "l2_cpuid:	cpuid\n"
    "l2_vmcall:	vmcall\n"
    "	jmp l2_vmcall\n");

static uint64_t pa(const void *p)
{
	return (uint64_t)p;
}

static bool exit_is(struct vmx_outcome o, uint32_t reason, uint64_t rip, const char *what)
{
	if (o.res != VMX_OK)
		return report(false, "%s: VM entry failed (VMfail%s, error %u)", what,
			      o.res == VMX_FAIL_VALID ? "Valid" : "Invalid", o.error);
	bool ok = o.exit_reason == reason && vmread(VMCS_GUEST_RIP) == rip;
	return report(ok, "%s: exit reason %u at %#lx (expected %u at %#lx)", what, o.exit_reason,
		      vmread(VMCS_GUEST_RIP), reason, rip);
}

/* L0's VMCS01 for L1: the baseline, VMCS shadowing with clear bitmaps,
 * the shadow VMCS12 (VMCLEARed) as link pointer. */
static void setup_l1(void)
{
	vmx_baseline(64);
	vmptrst(&vmcs01);
	memset(vmcs12, 0, sizeof(vmcs12));
	*(volatile uint32_t *)vmcs12 = vmx_revision() | SHADOW_INDICATOR;
	vmclear(pa(vmcs12));
	vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) | PROC_SECONDARY_CTLS);
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | PROC2_VMCS_SHADOWING);
	vmwrite(VMCS_VMREAD_BITMAP, vmx_scratch_page(0));
	vmwrite(VMCS_VMWRITE_BITMAP, vmx_scratch_page(1));
	vmwrite(VMCS_VMCS_LINK_PTR, pa(vmcs12));
	vmwrite(VMCS_GUEST_RIP, pa(l1_code));
}

/* VMCS02: every writable field of VMCS01 (L0's controls and host state,
 * L1's guest state as its exit saved it), then VMCS12's RIP, RSP, RFLAGS;
 * no shadowing for L2. */
static uint64_t fields[ARRAY_SIZE(vmx_field_rows)];

static void build_vmcs02(uint64_t rip, uint64_t rsp, uint64_t rflags)
{
	for (unsigned k = 0; k < ARRAY_SIZE(vmx_field_rows); k++)
		if (vmx_field_exists(&vmx_field_rows[k]) && vmx_enc_type(vmx_field_rows[k].enc) != VMX_T_RODATA)
			vmread_r(vmx_field_rows[k].enc, &fields[k]);
	memset(vmcs02, 0, sizeof(vmcs02));
	*(volatile uint32_t *)vmcs02 = vmx_revision();
	vmclear(pa(vmcs02));
	vmptrld(pa(vmcs02));
	for (unsigned k = 0; k < ARRAY_SIZE(vmx_field_rows); k++)
		if (vmx_field_exists(&vmx_field_rows[k]) && vmx_enc_type(vmx_field_rows[k].enc) != VMX_T_RODATA)
			vmwrite(vmx_field_rows[k].enc, fields[k]);
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) & ~(uint64_t)PROC2_VMCS_SHADOWING);
	vmwrite(VMCS_VMCS_LINK_PTR, ~0ul);
	vmwrite(VMCS_GUEST_RIP, rip);
	vmwrite(VMCS_GUEST_RSP, rsp);
	vmwrite(VMCS_GUEST_RFLAGS, rflags);
}

/* L2 exited to L0 (VMCS02 current): the exit goes into VMCS12 and L1
 * resumes at VMCS12's host RIP/RSP with RFLAGS = 2 (27.5.3). */
static struct vmx_outcome reflect_to_l1(void)
{
	uint64_t reason = vmread(VMCS_EXIT_REASON), qual = vmread(VMCS_EXIT_QUALIFICATION);
	uint64_t len = vmread(VMCS_EXIT_INSTRUCTION_LEN), rip = vmread(VMCS_GUEST_RIP), rsp = vmread(VMCS_GUEST_RSP);

	vmptrld(pa(vmcs12));
	vmwrite(VMCS_EXIT_REASON, reason);
	vmwrite(VMCS_EXIT_QUALIFICATION, qual);
	vmwrite(VMCS_EXIT_INSTRUCTION_LEN, len);
	vmwrite(VMCS_GUEST_RIP, rip);
	vmwrite(VMCS_GUEST_RSP, rsp);
	uint64_t host_rip = vmread(VMCS_HOST_RIP), host_rsp = vmread(VMCS_HOST_RSP);
	vmclear(pa(vmcs12));
	vmptrld(vmcs01);
	vmwrite(VMCS_GUEST_RIP, host_rip);
	vmwrite(VMCS_GUEST_RSP, host_rsp);
	vmwrite(VMCS_GUEST_RFLAGS, 2);
	return vmx_enter_guest(true);
}

/* Steps 1-2: L1's VMLAUNCH; L0 checks VMCS12 and launches L2. */
static bool l1_launches_l2(void)
{
	struct vmx_outcome o = vmx_enter_guest(false);
	if (!exit_is(o, EXIT_REASON_VMLAUNCH, pa(l1_launch), "L1 built VMCS12 without exits, then VMLAUNCH exited (20)"))
		return false;
	report_eq(vmx_guest_regs[R15] & FL_ARITH, 0, "L1's VMWRITEs to VMCS12 all succeeded (VMsucceed)");
	report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), 3, "VMLAUNCH exit: instruction length 3");
	uint64_t l1_rsp = vmread(VMCS_GUEST_RSP);

	vmptrld(pa(vmcs12));
	uint64_t rip = vmread(VMCS_GUEST_RIP), rsp = vmread(VMCS_GUEST_RSP), fl = vmread(VMCS_GUEST_RFLAGS);
	report_eq(rip, pa(l2_code), "VMCS12 (the shadow): GUEST_RIP as L1 wrote it");
	report_eq(rsp, pa(l2_stack) + sizeof(l2_stack), "VMCS12: GUEST_RSP as L1 wrote it");
	report_eq(fl, 2, "VMCS12: GUEST_RFLAGS as L1 wrote it");
	report_eq(vmread(VMCS_HOST_RIP), pa(l1_host), "VMCS12: HOST_RIP as L1 wrote it");
	report_eq(vmread(VMCS_HOST_RSP), l1_rsp, "VMCS12: HOST_RSP is L1's RSP");
	vmclear(pa(vmcs12));
	vmptrld(vmcs01);
	report_eq(vmread(VMCS_HOST_RIP) != pa(l1_host), 1, "L1's VMWRITEs left VMCS01 alone");
	build_vmcs02(rip, rsp, fl);
	return true;
}

static void test_nested(void)
{
	if (!l1_launches_l2())
		return;
	struct vmx_outcome o = vmx_enter_guest(false);  /* VMLAUNCH of VMCS02: L2 */
	if (!exit_is(o, EXIT_REASON_CPUID, pa(l2_cpuid), "L2 ran under VMCS02: CPUID exited (10)"))
		return;
	report_eq(vmx_guest_regs[R12], L2_MARK, "L2's registers reach L0");

	o = reflect_to_l1();
	if (!exit_is(o, EXIT_REASON_VMCALL, pa(l1_report1), "L1 read the exit from VMCS12 without exits, VMCALL"))
		return;
	report_eq(vmx_guest_regs[RBX], EXIT_REASON_CPUID, "L1 VMREAD the exit reason from VMCS12: CPUID");
	report_eq(vmx_guest_regs[RDX], 2, "L1 VMREAD the exit instruction length: 2");
	report_eq(vmx_guest_regs[RSI], pa(l2_cpuid), "L1 VMREAD L2's GUEST_RIP: the CPUID");
	report_eq(vmx_guest_regs[R12], L2_MARK, "L2's registers reach L1 unchanged (27.5.3 loads RSP/RIP only)");
	report_eq(vmx_guest_regs[R15] & FL_ARITH, 0, "L1's VMREADs/VMWRITE of VMCS12 succeeded");

	vmx_skip_insn();
	o = vmx_enter_guest(true);
	if (!exit_is(o, EXIT_REASON_VMRESUME, pa(l1_resume), "L1's VMRESUME exited (24)"))
		return;
	vmptrld(pa(vmcs12));
	uint64_t rip = vmread(VMCS_GUEST_RIP);
	vmclear(pa(vmcs12));
	report_eq(rip, pa(l2_vmcall), "VMCS12: L1 stepped L2's RIP past CPUID");
	vmptrld(pa(vmcs02));
	vmwrite(VMCS_GUEST_RIP, rip);
	o = vmx_enter_guest(true);      /* VMRESUME of VMCS02 */
	if (!exit_is(o, EXIT_REASON_VMCALL, pa(l2_vmcall), "L2 resumed; its VMCALL exited (18)"))
		return;
	o = reflect_to_l1();
	if (!exit_is(o, EXIT_REASON_VMCALL, pa(l1_report2), "L1 handled L2's VMCALL and reported"))
		return;
	report_eq(vmx_guest_regs[RBX], EXIT_REASON_VMCALL, "L1 VMREAD the exit reason from VMCS12: VMCALL");
	report_eq(vmx_guest_regs[RSI], pa(l2_vmcall), "L1 VMREAD L2's GUEST_RIP: the VMCALL");
	report_eq(vmx_guest_regs[R15] & FL_ARITH, 0, "L1's VMREADs of VMCS12 succeeded");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start()) {
		if (!(vmx_allowed1(VMX_CTL_PROC2) & PROC2_VMCS_SHADOWING)) {
			report_skip("nested: no 1-setting of \"VMCS shadowing\" on this model");
		} else if (!(vmx_msr(MSR_IA32_VMX_MISC) & (1ul << 29))) {
			report_skip("nested: L0 reports exits through VMWRITE to VMCS12, which needs IA32_VMX_MISC[29]");
		} else {
			setup_l1();
			test_nested();
		}
	}
	report_summary();
}
