/* Lesson 05: EPT, an EPT violation, and fixing the mapping.
 *
 * With "enable EPT" (secondary control bit 1, 24.6.2) every guest-physical
 * address the guest uses - for code, data and even its own page tables -
 * goes through a second set of page tables the hypervisor owns: the EPT
 * paging structures, rooted at the EPT pointer (EPTP, 24.6.11). The walk
 * is four levels like 4-level paging (28.2.2): PML4E, PDPTE, PDE (maps a
 * 2-MiB page when bit 7 is set) and PTE; each entry has R (bit 0), W (1),
 * X (2) and, in a leaf, the memory type in bits 5:3.
 *
 * Here the guest-physical space is mapped 1:1 onto host-physical memory
 * (an "identity map") for the first GiB with 2-MiB pages, except one 2-MiB
 * region split into 4-KiB pages, one of which - `secret` - is left
 * not-present. When the guest reads it, the access causes an EPT
 * violation (exit reason 48, 28.2.3.2) and the exit tells us (27.2.1,
 * Table 27-7; Q_* in tests/guests/lib/vmx_ept.h):
 *   qualification bit 0/1/2   the access was a read / write / fetch
 *   bits 5:3                  what the EPT entries allowed (0: not present)
 *   bit 7, bit 8              a guest-linear address is valid, and the
 *                             access was to the page itself (not to one
 *                             of the guest's paging structures)
 *   bits 9, 10, 11            with "advanced VM-exit information for EPT
 *                             violations" (IA32_VMX_EPT_VPID_CAP[22]):
 *                             the guest's OWN paging made the linear
 *                             address user-mode / writable / execute-disable
 *   GUEST_PHYS_ADDR           the guest-physical address accessed
 *   GUEST_LINEAR_ADDR         the linear address (bit 7)
 * The host maps the page, invalidates EPT-derived translations with
 * INVEPT (28.3.3.1) and resumes WITHOUT advancing RIP: an EPT violation is
 * a fault, the guest re-executes the read and now succeeds.
 *
 * Run:   build/vtxsim -kernel build/guests/examples/lessons/05-ept.elf
 * Debug: `ept GPA` and `walk ADDR` in the debugger show the walk.
 */
#include "lesson.h"
#include "vmx_ept.h"             /* EPT entry and qualification bits */
#include "vmx/caps_bits.h"

#define PAGE 4096ull
#define MB2 (2ull << 20)
#define SECRET 0x5ec2e7ull

static uint64_t l_pml4[512] __attribute__((aligned(4096)));
static uint64_t l_pdpt[512] __attribute__((aligned(4096)));
static uint64_t l_pd[512] __attribute__((aligned(4096)));
static uint64_t l_pt[512] __attribute__((aligned(4096)));
static volatile uint64_t secret[512] __attribute__((aligned(4096)));

/* ---- the guest: read the secret, hand it to the host ---- */
static void guest_main(void)
{
	uint64_t v = secret[0];                         /* EPT violation, once */

	asm volatile("vmcall" : : "a"(v));
}

/* ---- the host ---- */

/* The EPT identity map of [0, 1 GiB), `secret` not present. Returns the
 * EPTP: PML4 address | (walk length 4 - 1) << 3 | WB memory type (24.6.11). */
static uint64_t build_ept(void)
{
	uint64_t s = (uint64_t)secret, base = s & ~(MB2 - 1);

	l_pml4[0] = (uint64_t)l_pdpt | EPT_RWX;
	l_pdpt[0] = (uint64_t)l_pd | EPT_RWX;
	for (uint64_t i = 0; i < 512; i++)              /* 2-MiB leaves */
		l_pd[i] = i * MB2 | EPT_LARGE | EPT_WB | EPT_RWX;
	for (uint64_t i = 0; i < 512; i++)              /* the region of `secret`, in 4 KiB */
		l_pt[i] = (base + i * PAGE) | EPT_WB | EPT_RWX;
	l_pd[base / MB2] = (uint64_t)l_pt | EPT_RWX;
	l_pt[(s - base) / PAGE] = 0;                  /* not present */
	printf("host: EPT identity map of the first GiB; page %#lx not present\n", s);
	return (uint64_t)l_pml4 | 3 << 3 | 6;       /* 6: WB */
}

static void handle_ept_violation(void)
{
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION), gpa = vmread(VMCS_GUEST_PHYS_ADDR);

	printf("host: exit 48 EPT violation at RIP %#lx: qualification %#lx (%s%s%s, allowed %c%c%c%s%s)\n",
	       vmread(VMCS_GUEST_RIP), q, q & Q_READ ? "read" : "", q & Q_WRITE ? "write" : "",
	       q & Q_FETCH ? "fetch" : "", q & Q_PERM(EPT_R) ? 'r' : '-',
	       q & Q_PERM(EPT_W) ? 'w' : '-', q & Q_PERM(EPT_X) ? 'x' : '-',
	       q & Q_GLA_VALID ? ", linear address valid" : "",
	       q & Q_GLA_FINAL ? ", to the page itself" : "");
	printf("host: the guest's own page tables say: %s, %s, %s\n", q & Q_ADV_USER ? "user" : "supervisor",
	       q & Q_ADV_RW ? "writable" : "read-only", q & Q_ADV_XD ? "execute-disable" : "executable");
	printf("host: guest-physical %#lx, guest-linear %#lx\n", gpa, vmread(VMCS_GUEST_LINEAR_ADDR));
	report_eq(q & (Q_READ | Q_WRITE | Q_FETCH | Q_PERM(EPT_R) | Q_PERM(EPT_W) |
		       Q_PERM(EPT_X) | Q_GLA_VALID | Q_GLA_FINAL),
		  Q_READ | Q_GLA_VALID | Q_GLA_FINAL,
		  "qualification: a read of a not-present page, linear address valid, final translation");
	report_eq(gpa, (uint64_t)secret, "GUEST_PHYS_ADDR is the secret page");

	/* The fix: map the page, then INVEPT single-context (type 1, 30.3). */
	l_pt[(gpa & (MB2 - 1)) / PAGE] = (gpa & ~(PAGE - 1)) | EPT_WB | EPT_RWX;
	report(invept(1, vmread(VMCS_EPT_POINTER), 0) == VMX_OK, "mapped the page; INVEPT single-context");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	struct lesson_regs regs = { 0 };
	uint64_t cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	unsigned violations = 0;
	bool launch = true;

	(void)magic, (void)mbinfo;
	printf("lesson 05: EPT\n");
	report((cap & (VMX_EPT_PWL4 | VMX_EPT_MEMTYPE_WB | VMX_EPT_INVEPT | VMX_EPT_INVEPT_SINGLE)) ==
		       (VMX_EPT_PWL4 | VMX_EPT_MEMTYPE_WB | VMX_EPT_INVEPT | VMX_EPT_INVEPT_SINGLE),
	       "IA32_VMX_EPT_VPID_CAP %#lx: 4-level walk, WB, INVEPT single-context (A.10)", cap);
	if (!report(lesson_vmx_on(), "in VMX operation (lesson 01)"))
		report_summary();
	secret[0] = SECRET;
	lesson_vmcs_init(guest_main);
	vmwrite(VMCS_PROC_CONTROLS, lesson_ctl(MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
					       PROC_SECONDARY_CTLS));
	vmwrite(VMCS_PROC2_CONTROLS, lesson_ctl(MSR_IA32_VMX_PROCBASED_CTLS2, 0, PROC2_EPT));
	vmwrite(VMCS_EPT_POINTER, build_ept());
	for (;;) {
		if (!report(lesson_enter(&regs, launch) == 0, "VM entry")) {
			printf("host: VM-instruction error %lu\n", vmread(VMCS_VM_INSTRUCTION_ERROR));
			break;
		}
		launch = false;
		if (lesson_exit_reason() != EXIT_REASON_EPT_VIOLATION)
			break;
		violations++;
		handle_ept_violation();                 /* RIP stays: the read runs again */
	}
	printf("host: exit %u (%s): the guest read %#lx\n", lesson_exit_reason(),
	       lesson_exit_name(lesson_exit_reason()), regs.rax);
	report_eq(violations, 1, "one EPT violation");
	report_eq(regs.rax, SECRET, "after the fix the guest read the page's contents");
	report(lesson_vmx_off(), "VMCLEAR, VMXOFF");
	report_summary();
}
