/* VM entries from a host outside IA-32e mode (lib/vmx_host32.h): a 32-bit
 * protected-mode hypervisor with paging launches a 32-bit guest, and the
 * VM exit returns to it with the host state 27.5 loads for "host
 * address-space size" 0; a VM-entry failure exit (26.7) lands there too;
 * the host-state checks that only such a host reaches (26.2.3, 26.2.4)
 * fail with VMfailValid(8) and the RFLAGS of 30.2; afterwards the library
 * works in 64-bit mode again. Section numbers: SDM vol. 3C, the edition
 * whose VM-entry chapter is 26.
 */
#include "guest.h"
#include "vmx_host32.h"

#define CR4_PCIDE_BIT (1ull << 17)
#define CR4_PGE_BIT (1ull << 7)
#define EFLAGS_FIXED1 0x2u
#define VMFAIL_FLAGS (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)
#define FAR_FS_BASE 0x12345000ull
#define FAR_GS_BASE 0x0badc000ull
#define PDPTE_P 1ull

static uint32_t pd_copy[1024] __attribute__((aligned(4096)));

/* A copy of the library's 32-bit page directory, so that HOST_CR3 differs
 * from the CR3 the 32-bit host runs VMLAUNCH with. */
static uint64_t other_page_directory(void)
{
	memcpy(pd_copy, (const void *)vmx_lib_layout().guest32_pd, sizeof(pd_copy));
	return (uint64_t)pd_copy;
}

/* 27.5.2: CS, SS, DS, ES, FS, GS, TR selectors from the host-state area. */
static void check_selectors(const char *what)
{
	const struct vmx_host32_seen *s = &vmx_host32.seen;
	static const uint32_t fields[] = { VMCS_HOST_CS_SELECTOR, VMCS_HOST_SS_SELECTOR, VMCS_HOST_DS_SELECTOR,
					   VMCS_HOST_ES_SELECTOR, VMCS_HOST_FS_SELECTOR, VMCS_HOST_GS_SELECTOR,
					   VMCS_HOST_TR_SELECTOR };
	const uint32_t seen[] = { s->cs, s->ss, s->ds, s->es, s->fs, s->gs, s->tr };
	static const char *const names[] = { "CS", "SS", "DS", "ES", "FS", "GS", "TR" };

	for (unsigned i = 0; i < ARRAY_SIZE(fields); i++)
		report_eq(seen[i], vmread(fields[i]), "%s: %s selector from the host-state area (27.5.2)", what,
			  names[i]);
}

/* The host state a VM exit to a 32-bit host loads (27.5.1-27.5.3). */
static void check_host_state(const char *what)
{
	const struct vmx_host32_seen *s = &vmx_host32.seen;

	report_eq(s->cr0, (uint32_t)vmread(VMCS_HOST_CR0), "%s: CR0 from HOST_CR0 (27.5.1)", what);
	report_eq(s->cr3, vmread(VMCS_HOST_CR3), "%s: CR3 from HOST_CR3 (27.5.1)", what);
	report_eq(s->cr4, vmread(VMCS_HOST_CR4), "%s: CR4 from HOST_CR4, PAE and PCIDE 0 (27.5.1)", what);
	report_eq(s->efer & (EFER_LMA | EFER_LME), 0, "%s: IA32_EFER.LMA and LME = host address-space size 0 (27.5.1)",
		  what);
	report_eq(s->push_width, 4, "%s: CS.L 0, CS.D/B 1: a 32-bit code segment (27.5.2)", what);
	check_selectors(what);
	report_eq(s->fs_base, vmread(VMCS_HOST_FS_BASE), "%s: FS base from HOST_FS_BASE (27.5.2)", what);
	report_eq(s->gs_base, vmread(VMCS_HOST_GS_BASE), "%s: GS base from HOST_GS_BASE (27.5.2)", what);
	report_eq(s->gdtr.base, vmread(VMCS_HOST_GDTR_BASE), "%s: GDTR base from the field (27.5.2)", what);
	report_eq(s->gdtr.limit, 0xffff, "%s: GDTR limit FFFFH (27.5.2)", what);
	report_eq(s->idtr.base, vmread(VMCS_HOST_IDTR_BASE), "%s: IDTR base from the field (27.5.2)", what);
	report_eq(s->idtr.limit, 0xffff, "%s: IDTR limit FFFFH (27.5.2)", what);
	report_eq(s->esp, vmread(VMCS_HOST_RSP), "%s: ESP from HOST_RSP (27.5.3)", what);
	report_eq(s->eflags, EFLAGS_FIXED1, "%s: EFLAGS 2 (27.5.3)", what);
}

/* A valid entry of a 32-bit guest from the 32-bit host; its VMCALL exits
 * to the host with reason 18. HOST_CR3, HOST_CR4 (PGE flipped), FS (null:
 * only SS must not be, 26.2.3) and the FS/GS bases differ from what the
 * host ran VMLAUNCH with, so the checks see the exit load them. */
static void test_valid_entry(void)
{
	struct vmx_outcome o;

	vmx_baseline(32);
	vmx_host32_state();
	vmwrite(VMCS_HOST_CR3, other_page_directory());
	vmwrite(VMCS_HOST_CR4, vmread(VMCS_HOST_CR4) ^ CR4_PGE_BIT);
	vmwrite(VMCS_HOST_FS_SELECTOR, 0);
	vmwrite(VMCS_HOST_FS_BASE, FAR_FS_BASE);
	vmwrite(VMCS_HOST_GS_BASE, FAR_GS_BASE);
	o = vmx_try_launch_host32();
	if (!report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL,
		    "32-bit host: VMLAUNCH enters the 32-bit guest, VMCALL exits (reason 18)"))
		printf("      res %d error %u reason %#x\n", o.res, o.error, o.exit_reason);
	report(vmx_host32.exited, "32-bit host: the exit lands on the 32-bit HOST_RIP");
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)vmx_guest32_code, "32-bit host: GUEST_RIP is the guest's VMCALL");
	report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), VMX_VMCALL_LEN, "32-bit host: exit instruction length 3");
	check_host_state("exit to a 32-bit host");
	report(vmx_host32.seen.cr4 != vmx_host32.cr4, "32-bit host: HOST_CR4 differs from the CR4 at VMLAUNCH");
}

/* 27.5.1, 27.5.4: a host outside IA-32e mode may use PAE paging; the exit
 * then loads the PDPTEs from the table HOST_CR3 names. Here the table
 * points at the boot page directories (2-MByte pages identity-mapping
 * 4 GBytes, PAE format), so the host runs on only if they were loaded. */
static uint64_t pae_pdpt[4] __attribute__((aligned(32)));
extern uint64_t boot_pd[];

static void test_pae_host(void)
{
	struct vmx_outcome o;

	for (int i = 0; i < 4; i++)
		pae_pdpt[i] = (uint64_t)&boot_pd[512 * i] | PDPTE_P;
	vmx_baseline(32);
	vmx_host32_state();
	vmwrite(VMCS_HOST_CR3, (uint64_t)pae_pdpt);
	vmwrite(VMCS_HOST_CR4, (vmread(VMCS_HOST_CR4) & ~CR4_PSE) | CR4_PAE);
	o = vmx_try_launch_host32();
	report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL && vmx_host32.exited,
	       "PAE 32-bit host: entry, and the exit lands on the host (27.5.4: PDPTEs from HOST_CR3)");
	report_eq(vmx_host32.seen.cr4, vmread(VMCS_HOST_CR4), "PAE 32-bit host: CR4.PAE 1 from HOST_CR4 (27.5.1)");
	report_eq(vmx_host32.seen.cr3, (uint64_t)pae_pdpt, "PAE 32-bit host: CR3 the PDPT (27.5.1)");
	report_eq(vmx_host32.seen.efer & (EFER_LMA | EFER_LME), 0, "PAE 32-bit host: still outside IA-32e mode");
}

/* 27.5.1: with "load IA32_EFER" the exit loads IA32_EFER from the field
 * (LMA and LME 0, 26.2.2), here with NXE flipped. */
static void test_load_efer(void)
{
	struct vmx_outcome o;
	uint64_t want;

	if (!(vmx_allowed1(VMX_CTL_EXIT) & EXIT_LOAD_EFER)) {
		report_skip("32-bit host, load IA32_EFER on exit: the model lacks the control");
		return;
	}
	vmx_baseline(32);
	vmx_host32_state();
	want = vmread(VMCS_HOST_IA32_EFER) ^ EFER_NXE;
	vmwrite(VMCS_HOST_IA32_EFER, want);
	vmwrite(VMCS_EXIT_CONTROLS, vmread(VMCS_EXIT_CONTROLS) | EXIT_LOAD_EFER);
	o = vmx_try_launch_host32();
	report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL, "32-bit host, load IA32_EFER: entry and exit");
	report_eq(vmx_host32.seen.efer, want, "32-bit host: IA32_EFER loaded from HOST_IA32_EFER (27.5.1)");
}

/* 26.7: a guest-state failure (RFLAGS bit 1 clear, 26.3.1.4) is a VM exit
 * to the host: to the 32-bit host, with its host state. */
static void test_entry_failure(void)
{
	struct vmx_outcome o;

	vmx_baseline(32);
	vmx_host32_state();
	vmwrite(VMCS_GUEST_RFLAGS, 0);
	o = vmx_try_launch_host32();
	report_eq(o.exit_reason, EXIT_REASON_INVALID_GUEST_STATE | EXIT_REASON_ENTRY_FAILURE,
		  "32-bit host: invalid guest state is a VM-entry failure exit, reason 33 (26.7)");
	report_eq(o.qual, 0, "32-bit host: exit qualification 0");
	report(vmx_host32.exited, "32-bit host: the entry failure lands on the 32-bit HOST_RIP");
	check_host_state("entry failure to a 32-bit host");
}

/* A VMfailValid from the 32-bit host: error n, and RFLAGS as 30.2 says
 * (ZF 1; CF, PF, AF, SF, OF 0; they were all 1 before VMLAUNCH). */
static void expect_vmfail(const char *what, uint32_t error)
{
	struct vmx_outcome o = vmx_try_launch_host32();

	if (!report(o.res == VMX_FAIL_VALID && o.error == error, "32-bit host, %s: VMfailValid(%u)", what, error))
		printf("      res %d error %u reason %#x\n", o.res, o.error, o.exit_reason);
	report_eq(vmx_host32.launch_flags & VMFAIL_FLAGS, RFLAGS_ZF, "32-bit host, %s: RFLAGS of VMfailValid (30.2)",
		  what);
	report(!vmx_host32.exited, "32-bit host, %s: no VM exit", what);
}

/* The rules of 26.2.3/26.2.4 that hold outside IA-32e mode, each broken
 * alone, and one VM-execution control error (26.2.1.1, error 7). */
static void test_vmfail(void)
{
	vmx_baseline(32);
	vmx_host32_state();
	vmwrite(VMCS_HOST_SS_SELECTOR, 0);
	expect_vmfail("host SS null (26.2.3)", VMERR_ENTRY_INVALID_HOST);

	vmx_baseline(32);
	vmx_host32_state();
	vmwrite(VMCS_ENTRY_CONTROLS, vmread(VMCS_ENTRY_CONTROLS) | ENTRY_IA32E_GUEST);
	expect_vmfail("IA-32e mode guest outside IA-32e mode (26.2.4)", VMERR_ENTRY_INVALID_HOST);

	vmx_baseline(32);
	vmx_host32_state();
	vmwrite(VMCS_EXIT_CONTROLS, vmread(VMCS_EXIT_CONTROLS) | EXIT_HOST_ADDR_SPACE);
	expect_vmfail("host address-space size 1 outside IA-32e mode (26.2.4)", VMERR_ENTRY_INVALID_HOST);

	vmx_baseline(32);
	vmx_host32_state();
	vmwrite(VMCS_HOST_RIP, vmread(VMCS_HOST_RIP) | 1ull << 32);
	expect_vmfail("host RIP bits 63:32 not 0 (26.2.4)", VMERR_ENTRY_INVALID_HOST);

	if (vmx_msr(MSR_IA32_VMX_CR4_FIXED1) & CR4_PCIDE_BIT) {
		vmx_baseline(32);
		vmx_host32_state();
		vmwrite(VMCS_HOST_CR4, vmread(VMCS_HOST_CR4) | CR4_PCIDE_BIT);
		expect_vmfail("host CR4.PCIDE 1 (26.2.4)", VMERR_ENTRY_INVALID_HOST);
	} else {
		report_skip("32-bit host, host CR4.PCIDE 1 (26.2.4): CR4.PCIDE is fixed 0 in VMX operation");
	}

	vmx_baseline(32);
	vmx_host32_state();
	vmwrite(VMCS_CR3_TARGET_COUNT, ((vmx_msr(MSR_IA32_VMX_MISC) >> 16) & 0x1ff) + 1);
	expect_vmfail("CR3-target count too large (26.2.1.1)", VMERR_ENTRY_INVALID_CONTROL);
}

/* Back in 64-bit mode, the library's 64-bit host enters a 64-bit guest. */
static void test_back_in_long_mode(void)
{
	struct vmx_outcome o;

	report((rdmsr(MSR_EFER) & (EFER_LMA | EFER_LME)) == (EFER_LMA | EFER_LME),
	       "after the 32-bit host: IA-32e mode again");
	vmx_baseline(64);
	o = vmx_try_launch();
	report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL,
	       "after the 32-bit host: a 64-bit host enters a 64-bit guest");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start()) {
		test_valid_entry();
		test_pae_host();
		test_load_efer();
		test_entry_failure();
		test_vmfail();
		test_back_in_long_mode();
	}
	report_summary();
}
