/* Cached guest-physical mappings and INVEPT, seen from a guest hypervisor
 * (SDM vol. 3C 29.4 "Caching translation information", 29.4.3.1
 * "Operations that invalidate cached mappings"; 30.3 INVEPT): after the
 * guest used a translation, changing the EPT entry (remapping the page, or
 * removing write permission) does not take effect across VM exits and
 * VM entries, nor after INVEPT single-context for another EPTP; it takes
 * effect after INVEPT single-context for this EPTP or all-context. Also
 * INVEPT's VMfail cases. */
#include "guest.h"
#include "vmx_ept.h"
#include "vmx_vmcs.h"

enum { RAX = 0, RCX, RDX, RBX };

extern char g_loop[], g_loop_end[];
asm(".text\n.code64\n"
    "g_loop:	mov (%rbx), %rax\n"
    "	movl $0x77, 8(%rbx)\n"
    "g_loop_end:	vmcall\n"
    "	jmp g_loop\n");

#define M1 0x1111111111111111ull
#define M2 0x2222222222222222ull

static uint64_t other_pml4[512] __attribute__((aligned(4096)));

/* VMRESUME after a VMCALL exit: the guest reads the target again. */
static struct vmx_outcome again(void)
{
	vmx_skip_insn();
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_loop);
	return vmx_enter_guest(true);
}

static void read_sees(struct vmx_outcome o, uint64_t want, const char *what)
{
	if (!report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL, "%s: the guest ran (exit %u)", what,
		    o.exit_reason))
		return;
	report_eq(vmx_guest_regs[RAX], want, "%s: the value read", what);
}

static void test_remap(void)
{
	uint64_t cap = vmx_ept_cap();
	vmx_baseline(64);
	uint64_t eptp = vmx_ept_build(false, false, false);
	invept(2, 0, 0);
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmx_guest_regs[RBX] = EPT_LA_SUP;
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_loop);
	*(uint64_t *)ept_target = M1;
	*(uint64_t *)ept_target2 = M2;
	read_sees(vmx_enter_guest(false), M1, "first access");

	ept_pt[0] = (uint64_t)ept_target2 | EPT_RWX | EPT_WB;     /* remap */
	read_sees(again(), M1, "remapped, no INVEPT: the cached mapping is used across exit and entry");
	read_sees(again(), M1, "remapped, a second round trip: still the cached mapping");

	if (cap & (1ull << 25)) {
		memset(other_pml4, 0, sizeof(other_pml4));
		report_eq(invept(1, (uint64_t)other_pml4 | (3ull << 3) | 6, 0), VMX_OK,
			  "INVEPT single-context, another EPTP: VMsucceed");
		read_sees(again(), M1, "after INVEPT single-context for another EPTP: still cached");
		report_eq(invept(1, eptp, 0), VMX_OK, "INVEPT single-context, this EPTP: VMsucceed");
		read_sees(again(), M2, "after INVEPT single-context for this EPTP: the new mapping");
	} else {
		report_skip("INVEPT single-context: not offered by the model");
		invept(2, 0, 0);
		read_sees(again(), M2, "after INVEPT all-context: the new mapping");
	}

	/* Remove write permission: the cached mapping still allows the write. */
	ept_pt[0] = (uint64_t)ept_target2 | EPT_R | EPT_WB;
	ept_target2[8] = 0;
	read_sees(again(), M2, "write permission removed, no INVEPT");
	report_eq(ept_target2[8], 0x77, "the write went through the cached mapping");
	report_eq(invept(2, 0, 0), VMX_OK, "INVEPT all-context: VMsucceed");
	struct vmx_outcome o = again();
	report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_EPT_VIOLATION,
	       "after INVEPT all-context the write is an EPT violation (exit %u)", o.exit_reason);
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), Q_WRITE | Q_PERM(EPT_R) | Q_GLA_VALID | Q_GLA_FINAL |
			  vmx_ept_adv(false, true, false), "its qualification");
	report_eq(vmread(VMCS_GUEST_PHYS_ADDR), EPT_ALIAS + 8, "its guest-physical address");
}

/* 30.3 INVEPT: an unsupported type, or single-context with an EPTP that
 * VM entry would refuse, is VMfailValid(28); the descriptor's high
 * quadword is ignored. */
static void test_vmfail(void)
{
	vmx_baseline(64);
	report_eq(invept(0, 0, 0), VMX_FAIL_VALID, "INVEPT type 0: VMfailValid");
	report_eq(vmread(VMCS_VM_INSTRUCTION_ERROR), 28, "INVEPT type 0: error 28");
	report_eq(invept(3, 0, 0), VMX_FAIL_VALID, "INVEPT type 3: VMfailValid");
	if (vmx_ept_cap() & (1ull << 25)) {
		report_eq(invept(1, (uint64_t)other_pml4 | (1ull << 3) | 6, 0), VMX_FAIL_VALID,
			  "INVEPT single-context, walk length 2: VMfailValid");
		report_eq(vmread(VMCS_VM_INSTRUCTION_ERROR), 28, "... error 28");
	}
	report_eq(invept(2, 0, 0), VMX_OK, "INVEPT all-context: VMsucceed");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start() && vmx_ept_usable()) {
		test_remap();
		test_vmfail();
	}
	report_summary();
}
