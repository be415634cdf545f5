/* The VM-exit benchmark guest: a minimal hypervisor (the guest VMX
 * library's baseline VMCS, lib/vmx_vmcs.h) runs a 64-bit guest whose loop
 * is CPUID; JMP back. CPUID exits unconditionally in VMX non-root
 * operation (SDM vol. 3C 25.1.2); the host handler checks the exit reason,
 * advances GUEST_RIP by the VM-exit instruction length (27.2.5) and
 * VMRESUMEs, iters times. Then it prints the count and exits.
 *
 * The iteration count comes from the command line, "iters=N" (default
 * 100000); "vpid=1" runs the guest with "enable VPID" (VPID 1), so VM
 * entries and exits keep the TLB (SDM vol. 3C 28.3.3.1). One round trip is VM exit + HOST_INSNS host instructions +
 * VMRESUME + GUEST_INSNS guest instructions; bench/run.sh divides the
 * round trips by the host time and subtracts a short run's time. */
#include "guest.h"
#include "vmx_vmcs.h"

#define DEFAULT_ITERS 100000ul
#define HOST_INSNS 11           /* host_entry to VMRESUME, both included */
#define GUEST_INSNS 2           /* CPUID (exits) and the JMP */

/* Run the loop iters (>= 1) times. 0 when every exit was CPUID and every
 * VMRESUME entered; otherwise what went wrong: 1 VMLAUNCH failed, 2
 * VMRESUME failed, 3 an exit with another reason (*reason says which).
 * *left is the count of round trips still to go. */
static uint64_t run_exits(uint64_t iters, uint64_t *left, uint64_t *reason)
{
	register uint64_t count asm("r15") = iters;
	uint64_t status, why = 0;

	asm volatile("mov %[f_hrsp], %%eax\n\t"
		     "vmwrite %%rsp, %%rax\n\t"
		     "lea 3f(%%rip), %%rdx\n\t"
		     "mov %[f_hrip], %%eax\n\t"
		     "vmwrite %%rdx, %%rax\n\t"
		     "lea 1f(%%rip), %%rdx\n\t"
		     "mov %[f_grip], %%eax\n\t"
		     "vmwrite %%rdx, %%rax\n\t"
		     "vmlaunch\n\t"
		     "mov $1, %%eax\n\t"
		     "jmp 6f\n\t"
		     /* the guest */
		     "1: cpuid\n\t"
		     "jmp 1b\n\t"
		     /* the host entry point (HOST_RIP): RSP = HOST_RSP */
		     "3: mov %[f_reason], %%eax\n\t"
		     "vmread %%rax, %%rbx\n\t"
		     "cmp %[cpuid], %%ebx\n\t"
		     "jne 5f\n\t"
		     "mov %[f_len], %%eax\n\t"
		     "vmread %%rax, %%rbx\n\t"
		     "mov %[f_grip], %%eax\n\t"
		     "vmread %%rax, %%rdx\n\t"
		     "add %%rbx, %%rdx\n\t"
		     "vmwrite %%rdx, %%rax\n\t"
		     "dec %[count]\n\t"
		     "jz 4f\n\t"
		     "vmresume\n\t"
		     "mov $2, %%eax\n\t"
		     "jmp 6f\n\t"
		     "4: xor %%eax, %%eax\n\t"
		     "jmp 6f\n\t"
		     "5: mov $3, %%eax\n\t"
		     "mov %%rbx, %%rcx\n\t"
		     "6:\n\t"
		     : "=a"(status), "+c"(why), [count] "+r"(count)
		     : [f_hrsp] "i"(VMCS_HOST_RSP), [f_hrip] "i"(VMCS_HOST_RIP),
		       [f_grip] "i"(VMCS_GUEST_RIP), [f_reason] "i"(VMCS_EXIT_REASON),
		       [f_len] "i"(VMCS_EXIT_INSTRUCTION_LEN), [cpuid] "i"(EXIT_REASON_CPUID)
		     : "rbx", "rdx", "cc", "memory");
	*left = count;
	*reason = why;
	return status;
}

/* "vpid=1" on the command line: enable VPID where the model can. */
static bool want_vpid(const struct multiboot_info *mbi)
{
	char buf[8];
	if (!(mbi->flags & MBI_CMDLINE) || !cmdline_get((const char *)(uintptr_t)mbi->cmdline, "vpid", buf, sizeof(buf)))
		return false;
	if (buf[0] != '1')
		return false;
	if (!(vmx_allowed1(VMX_CTL_PROC) & PROC_SECONDARY_CTLS) || !(vmx_allowed1(VMX_CTL_PROC2) & PROC2_VPID)) {
		printf("vmexit: the model has no VPIDs, vpid=1 ignored\n");
		return false;
	}
	return true;
}

static uint64_t iterations(const struct multiboot_info *mbi)
{
	char buf[24];
	uint64_t n;

	if (!(mbi->flags & MBI_CMDLINE) ||
	    !cmdline_get((const char *)(uintptr_t)mbi->cmdline, "iters", buf, sizeof(buf)))
		return DEFAULT_ITERS;
	if (!parse_u64(buf, &n) || n == 0) {
		printf("vmexit: bad iters=%s, using %lu\n", buf, DEFAULT_ITERS);
		return DEFAULT_ITERS;
	}
	return n;
}

void kmain(uint32_t magic, uint32_t info)
{
	uint64_t iters = iterations((const struct multiboot_info *)(uintptr_t)info);
	uint64_t left, reason;

	(void)magic;
	if (!vmx_start()) {
		printf("vmexit: cannot enter VMX operation\n");
		guest_exit(1);
	}
	vmx_baseline(64);
	if (want_vpid((const struct multiboot_info *)(uintptr_t)info)) {
		vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) | PROC_SECONDARY_CTLS);
		vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | PROC2_VPID);
		vmwrite(VMCS_VPID, 1);
	}
	uint64_t st = run_exits(iters, &left, &reason);
	if (st != 0) {
		printf("vmexit: FAILED (%s) after %lu round trips, exit reason %#lx, VM-instruction error %lu\n",
		       st == 1 ? "VMLAUNCH" : st == 2 ? "VMRESUME" : "unexpected exit", iters - left, reason,
		       vmread(VMCS_VM_INSTRUCTION_ERROR));
		guest_exit(1);
	}
	printf("vmexit: iters=%lu exits=%lu host_insns=%u guest_insns=%u\n", iters, iters - left, HOST_INSNS,
	       GUEST_INSNS);
	guest_exit(0);
}
