/* VPIDs and INVVPID, seen from a guest hypervisor (SDM vol. 3C 28.3.1,
 * 28.3.3.1, 30.3 INVVPID).
 *
 * The guest has its own page tables: linear pages L0 and L1 (PML4 slot 1,
 * unmapped for the host) map frames A0 and A1. The guest reads both,
 * VMCALLs; the host points the PTEs at frames B0 and B1 without any
 * invalidation, optionally executes INVVPID, and resumes; the guest reads
 * both again and VMCALLs. What it reads the second time shows which cached
 * translations survived the VM exit, the VM entry and the INVVPID:
 *   - "enable VPID" = 1: VM exits and entries invalidate nothing (28.3.3.1),
 *     so the guest still reads A0/A1 (stale) until INVVPID names them;
 *   - "enable VPID" = 0: every VM exit and entry invalidates the mappings
 *     of VPID 0000H, so the guest reads B0/B1.
 * Each case runs under a VPID no earlier case used.
 */
#include "guest.h"
#include "vmx_vmcs.h"

#define L0 0x8000000000ul               /* PML4 slot 1 */
#define L1 (L0 + 0x1000)
#define PTE_P 1ul
#define PTE_W 2ul
#define PTE_G 0x100ul
#define CR4_PGE (1ul << 7)
#define NONCANONICAL 0x0000800000000000ul

/* Two sets of guest paging structures (X and Y) and the frames. */
static uint64_t pml4[2][512] __attribute__((aligned(4096)));
static uint64_t pdpt[2][512] __attribute__((aligned(4096)));
static uint64_t pd[2][512] __attribute__((aligned(4096)));
static uint64_t pt[2][512] __attribute__((aligned(4096)));
enum { A0, A1, B0, B1, C0, C1, NFRAMES };
static uint64_t frame[NFRAMES][512] __attribute__((aligned(4096)));

static uint64_t marker(int f)
{
	return 0xf00d000000000000ul | (uint64_t)(f + 1) << 8 | (uint64_t)(f + 1);
}

static const char *const frame_name[NFRAMES] = { "A0", "A1", "B0", "B1", "C0", "C1" };

/* Tables set s map L0 -> frame f0 (global when g0) and L1 -> f1. */
static void map(int s, int f0, bool g0, int f1)
{
	for (int k = 0; k < 512; k++)
		pml4[s][k] = boot_pml4[k];
	pml4[s][1] = (uint64_t)pdpt[s] | PTE_P | PTE_W;
	pdpt[s][0] = (uint64_t)pd[s] | PTE_P | PTE_W;
	pd[s][0] = (uint64_t)pt[s] | PTE_P | PTE_W;
	pt[s][0] = (uint64_t)frame[f0] | PTE_P | PTE_W | (g0 ? PTE_G : 0);
	pt[s][1] = (uint64_t)frame[f1] | PTE_P | PTE_W;
}

/* Repoint the PTEs, without invalidating anything. */
static void remap(int s, int f0, bool g0, int f1)
{
	pt[s][0] = (uint64_t)frame[f0] | PTE_P | PTE_W | (g0 ? PTE_G : 0);
	pt[s][1] = (uint64_t)frame[f1] | PTE_P | PTE_W;
}

/* The guest: RAX = [RBX], RDX = [RCX]; VMCALL; the same again; VMCALL. */
extern char vpid_guest[];
asm(".text\n"
    ".code64\n"
    "vpid_guest:\n"
    "	mov (%rbx), %rax\n"
    "	mov (%rcx), %rdx\n"
    "	vmcall\n"
    "	mov (%rbx), %rax\n"
    "	mov (%rcx), %rdx\n"
    "	vmcall\n"
    "	jmp vpid_guest\n");

/* The same with an invalidation by the guest itself before the second
 * reads: INVLPG of L0, or MOV to CR3 (PCID 0: every non-global entry). */
extern char vpid_guest_invlpg[], vpid_guest_cr3[];
asm(".text\n"
    "vpid_guest_invlpg:\n"
    "	mov (%rbx), %rax\n"
    "	mov (%rcx), %rdx\n"
    "	vmcall\n"
    "	invlpg (%rbx)\n"
    "	mov (%rbx), %rax\n"
    "	mov (%rcx), %rdx\n"
    "	vmcall\n"
    "vpid_guest_cr3:\n"
    "	mov (%rbx), %rax\n"
    "	mov (%rcx), %rdx\n"
    "	vmcall\n"
    "	mov %cr3, %rsi\n"
    "	mov %rsi, %cr3\n"
    "	mov (%rbx), %rax\n"
    "	mov (%rcx), %rdx\n"
    "	vmcall\n");

static bool have_vpid, have_invvpid;
static uint64_t cap;
static uint16_t next_vpid = 1;

static bool cap_type(unsigned type)
{
	return cap & (1ul << (40 + type));
}

/* A fresh VMCS for the guest above on tables set s, with VPID vpid
 * (0: "enable VPID" = 0). */
static void setup_guest(int s, uint16_t vpid)
{
	vmx_baseline(64);
	if (vpid) {
		vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) | PROC_SECONDARY_CTLS);
		vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | PROC2_VPID);
		vmwrite(VMCS_VPID, vpid);
	}
	vmwrite(VMCS_GUEST_CR3, (uint64_t)pml4[s]);
	vmwrite(VMCS_GUEST_CR4, vmread(VMCS_GUEST_CR4) | CR4_PGE);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)vpid_guest);
	vmx_guest_regs[3] = L0;         /* RBX */
	vmx_guest_regs[1] = L1;         /* RCX */
}

static bool vmcall_exit(struct vmx_outcome o, const char *what)
{
	if (o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL)
		return true;
	report(false, "%s: VM entry then VMCALL exit (result %d, error %u, exit reason %#x)", what, o.res, o.error,
	       o.exit_reason);
	return false;
}

/* What the guest read: L0 and L1 against the frames the SDM says. */
static void expect_read(int f0, int f1, const char *what)
{
	bool ok = vmx_guest_regs[0] == marker(f0) && vmx_guest_regs[2] == marker(f1);
	if (!report(ok, "%s: the guest reads L0 from %s, L1 from %s", what, frame_name[f0], frame_name[f1]))
		printf("      read %#lx %#lx\n", vmx_guest_regs[0], vmx_guest_regs[2]);
}

/* The case: first read (A0, A1), repoint to (B0, B1), between(), VM entry,
 * second read: expect (e0, e1). */
typedef void (*between_fn)(uint16_t vpid);

static void run_case(uint16_t vpid, bool g0, between_fn between, int e0, int e1, const char *what)
{
	map(0, A0, g0, A1);
	setup_guest(0, vpid);
	if (!vmcall_exit(vmx_enter_guest(false), what))
		return;
	expect_read(A0, A1, what);
	remap(0, B0, g0, B1);
	if (between)
		between(vpid);
	vmx_skip_insn();
	if (!vmcall_exit(vmx_enter_guest(true), what))
		return;
	expect_read(e0, e1, what);
}

static uint16_t fresh_vpid(void)
{
	return next_vpid++;
}

static void expect_ok(enum vmx_result r, const char *what)
{
	report_eq(r, VMX_OK, "%s: VMsucceed", what);
}

static void inv_addr(uint16_t v) { expect_ok(invvpid(0, v, L0), "INVVPID type 0 (VPID, L0)"); }
static void inv_addr_other(uint16_t v) { expect_ok(invvpid(0, v + 100, L0), "INVVPID type 0, another VPID"); }
static void inv_single(uint16_t v) { expect_ok(invvpid(1, v, 0), "INVVPID type 1"); }
static void inv_single_other(uint16_t v) { expect_ok(invvpid(1, v + 100, 0), "INVVPID type 1, another VPID"); }
static void inv_all(uint16_t v) { (void)v; expect_ok(invvpid(2, 0, 0), "INVVPID type 2"); }
static void inv_globals(uint16_t v) { expect_ok(invvpid(3, v, 0), "INVVPID type 3"); }

static void check_staleness(void)
{
	run_case(0, false, NULL, B0, B1, "enable VPID = 0: the VM exit and entry invalidate VPID 0000H (28.3.3.1)");
	if (!have_vpid) {
		report_skip("enable VPID: the model has no such secondary control");
		return;
	}
	run_case(fresh_vpid(), false, NULL, A0, A1, "enable VPID = 1: no invalidation at VM exit or entry (28.3.3.1)");
	if (!have_invvpid) {
		report_skip("INVVPID: not supported (IA32_VMX_EPT_VPID_CAP[32] = 0)");
		return;
	}
	if (cap_type(0)) {
		run_case(fresh_vpid(), false, inv_addr, B0, A1, "INVVPID individual-address: only L0 of that VPID");
		run_case(fresh_vpid(), true, inv_addr, B0, A1, "INVVPID individual-address: a global translation too");
		run_case(fresh_vpid(), false, inv_addr_other, A0, A1, "INVVPID individual-address of another VPID");
	}
	if (cap_type(1)) {
		run_case(fresh_vpid(), true, inv_single, B0, B1, "INVVPID single-context: globals included");
		run_case(fresh_vpid(), false, inv_single_other, A0, A1, "INVVPID single-context of another VPID");
	}
	if (cap_type(2))
		run_case(fresh_vpid(), true, inv_all, B0, B1, "INVVPID all-context");
	if (cap_type(3))
		run_case(fresh_vpid(), true, inv_globals, A0, B1,
			 "INVVPID single-context-retaining-globals: the global L0 stays stale, L1 does not");
}

/* VPID p on tables X (L0 -> A0) and VPID q on tables Y (L0 -> C0) at the
 * same linear addresses: neither uses the other's translations, and p's
 * survive q's (28.3.1: mappings are associated with the current VPID). */
static void check_two_vpids(void)
{
	if (!have_vpid)
		return;
	uint16_t p = fresh_vpid(), q = fresh_vpid();
	map(0, A0, false, A1);
	map(1, C0, false, C1);
	setup_guest(0, p);
	if (!vmcall_exit(vmx_enter_guest(false), "two VPIDs"))
		return;
	expect_read(A0, A1, "VPID p, tables X");
	remap(0, B0, false, B1);
	vmwrite(VMCS_VPID, q);
	vmwrite(VMCS_GUEST_CR3, (uint64_t)pml4[1]);
	vmx_skip_insn();
	if (!vmcall_exit(vmx_enter_guest(true), "two VPIDs"))
		return;
	expect_read(C0, C1, "VPID q, tables Y: not VPID p's translations");
	vmwrite(VMCS_VPID, p);
	vmwrite(VMCS_GUEST_CR3, (uint64_t)pml4[0]);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)vpid_guest);
	if (!vmcall_exit(vmx_enter_guest(true), "two VPIDs"))
		return;
	expect_read(A0, A1, "VPID p again: its own (now stale) translations, not VPID q's");
	remap(1, A0, false, A1);
	vmwrite(VMCS_VPID, q);
	vmwrite(VMCS_GUEST_CR3, (uint64_t)pml4[1]);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)vpid_guest);
	if (!vmcall_exit(vmx_enter_guest(true), "two VPIDs"))
		return;
	expect_read(C0, C1, "VPID q again: its own (now stale) translations");
}

/* INVLPG and MOV to CR3 in non-root operation invalidate for the current
 * VPID only (28.3.3.1): root (VPID 0000H) keeps its own cached, now stale,
 * translation of L0 (tables Y: C0, then C1). */
static void guest_invalidates(char *code, uint32_t exiting, int e1, const char *what)
{
	uint16_t v = fresh_vpid();
	map(0, A0, false, A1);
	map(1, C0, false, C1);
	boot_pml4[1] = pml4[1][1];
	report_eq(*(volatile uint64_t *)L0, marker(C0), "%s: root reads L0 from C0", what);
	setup_guest(0, v);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)code);
	if (vmread(VMCS_PROC_CONTROLS) & exiting) {
		report_skip("%s: the model requires the exiting control", what);
	} else if (vmcall_exit(vmx_enter_guest(false), what)) {
		expect_read(A0, A1, what);
		remap(0, B0, false, B1);
		remap(1, C1, false, C1);
		vmx_skip_insn();
		if (vmcall_exit(vmx_enter_guest(true), what))
			expect_read(B0, e1, what);
		report_eq(*(volatile uint64_t *)L0, marker(C0), "%s: root's translation of L0 stays (VPID 0000H)", what);
	}
	boot_pml4[1] = 0;
	asm volatile("invlpg (%0); invlpg (%1)" : : "r"(L0), "r"(L1) : "memory");
}

static void check_guest_invalidations(void)
{
	if (!have_vpid)
		return;
	guest_invalidates(vpid_guest_invlpg, PROC_INVLPG_EXITING, A1, "guest INVLPG L0");
	guest_invalidates(vpid_guest_cr3, PROC_CR3_LOAD_EXITING, B1, "guest MOV to CR3");
}

/* ---- INVVPID errors and faults (30.3 INVVPID, "Operation") ---- */

static void expect_fail28(enum vmx_result r, const char *what)
{
	uint64_t err = vmread(VMCS_VM_INSTRUCTION_ERROR);
	if (!report(r == VMX_FAIL_VALID && err == VMERR_INVEPT_INVVPID_INVALID, "%s: VMfailValid(28)", what))
		printf("      result %d error %lu\n", r, err);
}

static void do_invvpid_reg(void *a)
{
	(void)a;
	/* invvpid %rax, %rax: ModRM.mod = 11 */
	asm volatile(".byte 0x66, 0x0f, 0x38, 0x81, 0xc0" : : "a"(1ul) : "memory");
}

/* INVVPID of type a->type with the descriptor at a non-canonical address;
 * a->res is the result when it does not fault. */
struct noncanon {
	uint64_t type;
	enum vmx_result res;
};

static void do_invvpid_noncanon(void *a)
{
	struct noncanon *n = a;
	uint64_t fl;
	asm volatile("invvpid (%1), %2; pushfq; popq %0" : "=r"(fl) : "r"(NONCANONICAL), "r"(n->type) : "cc", "memory");
	n->res = vmx_result_of(fl);
}

static void do_invvpid_plain(void *a)
{
	(void)a;
	invvpid(2, 0, 0);
}

static void expect_vec(fault_body_fn fn, void *arg, unsigned vec, const char *what)
{
	struct fault f;
	catch_fault(fn, arg, &f);
	if (!report(f.raised && f.vector == vec && (vec != VEC_GP || f.error_code == 0), "%s: vector %u", what, vec))
		printf("      raised %d vector %u error %#lx\n", f.raised, f.vector, f.error_code);
}

static void check_errors(void)
{
	if (!have_invvpid) {
		expect_vec(do_invvpid_plain, NULL, VEC_UD, "INVVPID without VPID/INVVPID support");
		return;
	}
	vmx_baseline(64);               /* a current VMCS: failures are VMfailValid */
	for (uint64_t type = 0; type < 6; type++)
		if (type > 3 || !cap_type((unsigned)type)) {
			char what[48];
			snprintf(what, sizeof(what), "INVVPID type %lu (unsupported)", type);
			expect_fail28(invvpid(type, 1, 0), what);
		}
	if (cap_type(0)) {
		expect_fail28(invvpid(0, 0, L0), "INVVPID type 0, VPID 0");
		expect_fail28(invvpid(0, 1, NONCANONICAL), "INVVPID type 0, non-canonical linear address");
		expect_fail28(invvpid(0, 1ul << 16 | 1, L0), "INVVPID type 0, descriptor bit 16 set");
	}
	if (cap_type(1)) {
		expect_fail28(invvpid(1, 0, 0), "INVVPID type 1, VPID 0");
		expect_fail28(invvpid(1, 1ul << 63 | 1, 0), "INVVPID type 1, descriptor bit 63 set");
		expect_ok(invvpid(1, 1, NONCANONICAL), "INVVPID type 1 ignores the linear address");
	}
	if (cap_type(2)) {
		expect_ok(invvpid(2, 0, 0), "INVVPID type 2 with VPID 0");
		expect_fail28(invvpid(2, 1ul << 40, 0), "INVVPID type 2, descriptor bit 40 set");
	}
	if (cap_type(3))
		expect_fail28(invvpid(3, 0, 0), "INVVPID type 3, VPID 0");
	/* The 64-bit register operand: a type with bits above 31 is unsupported. */
	expect_fail28(invvpid(1ul << 32 | 1, 1, 0), "INVVPID type 100000001H");
	expect_vec(do_invvpid_reg, NULL, VEC_UD, "INVVPID with a register operand (ModRM.mod = 11)");
	struct noncanon n = { 1, VMX_OK };
	expect_vec(do_invvpid_noncanon, &n, VEC_GP, "INVVPID type 1, non-canonical memory operand: #GP(0)");
	n = (struct noncanon){ 7, VMX_OK };     /* the type is checked before the descriptor is read */
	struct fault f;
	catch_fault(do_invvpid_noncanon, &n, &f);
	report(!f.raised, "INVVPID type 7, non-canonical memory operand: no fault");
	expect_fail28(n.res, "INVVPID type 7, non-canonical memory operand");
}

/* Root operation is VPID 0000H: a guest's stale translation of L0 is not
 * root's, before and after VMXOFF; outside VMX operation INVVPID is #UD. */
static void check_root(void)
{
	uint16_t v = have_vpid ? fresh_vpid() : 0;
	map(0, A0, false, A1);
	setup_guest(0, v);
	if (!vmcall_exit(vmx_enter_guest(false), "root"))
		return;
	remap(0, B0, false, B1);
	boot_pml4[1] = pml4[0][1];      /* root maps L0 and L1 through the same tables */
	report_eq(*(volatile uint64_t *)L0, marker(B0), "root reads L0 through its own walk (VPID 0000H)");
	vmx_skip_insn();
	if (!vmcall_exit(vmx_enter_guest(true), "root"))
		return;
	expect_read(have_vpid ? A0 : B0, have_vpid ? A1 : B1, "the guest keeps its VPID's translation");
	remap(0, C0, false, C1);
	report_eq(vmxoff(), VMX_OK, "VMXOFF");
	report_eq(*(volatile uint64_t *)L1, marker(C1), "after VMXOFF root reads L1 through a fresh walk");
	expect_vec(do_invvpid_plain, NULL, VEC_UD, "INVVPID outside VMX operation");
	boot_pml4[1] = 0;
	asm volatile("invlpg (%0); invlpg (%1)" : : "r"(L0), "r"(L1) : "memory");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	for (int f = 0; f < NFRAMES; f++)
		frame[f][0] = marker(f);
	if (!vmx_start()) {
		report(false, "VMX operation");
		report_summary();
	}
	have_vpid = (vmx_allowed1(VMX_CTL_PROC) & PROC_SECONDARY_CTLS) && (vmx_allowed1(VMX_CTL_PROC2) & PROC2_VPID);
	cap = have_vpid ? vmx_msr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;
	have_invvpid = cap & (1ul << 32);
	check_staleness();
	check_two_vpids();
	check_guest_invalidations();
	check_errors();
	check_root();
	report_summary();
}
