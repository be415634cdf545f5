/* Control-register accesses, MOV DR, descriptor-table instructions,
 * INVLPG/INVPCID, RDTSC/RDTSCP/RDPMC and the TSC in VMX non-root operation,
 * seen from a guest hypervisor (SDM vol. 3C, the edition whose non-root
 * chapter is 25): which executions exit (25.1.3) and which do not, what
 * the guest reads instead (25.3: read shadows, guest/host masks, VTPR, TSC
 * offset and multiplier), the #UD of "enable RDTSCP"/"enable INVPCID" = 0,
 * the TPR-below-threshold trap (29.1.2, 26.6.7), and the exit information:
 * qualification (27.2.1 Tables 27-3, 27-4), instruction length (27.2.5),
 * instruction information (27.2.4 Tables 27-10, 27-11) and GUEST_RIP.
 * Every expected value is the SDM's.
 */
#include "guest.h"
#include "vmx_vmcs.h"

#define CR0_PE (1ul << 0)
#define CR0_MP (1ul << 1)
#define CR0_TS (1ul << 3)
#define CR4_TSD (1ul << 2)
#define CR4_DE (1ul << 3)
#define CR4_PCE (1ul << 8)
#define DR7_GD (1ul << 13)
#define MSR_TSC 0x10u
#define MSR_TSC_AUX 0xc0000103u
#define VEC_UD_ 6
#define VEC_GP_ 13

/* Table 27-3 fields. */
#define Q_CR(n) ((uint64_t)(n))
#define Q_TO (0ul << 4)
#define Q_FROM (1ul << 4)
#define Q_CLTS (2ul << 4)
#define Q_LMSW (3ul << 4)
#define Q_LMSW_MEM (1ul << 6)
#define Q_GPR(r) ((uint64_t)(r) << 8)
#define Q_LMSW_SRC(v) ((uint64_t)(v) << 16)
/* Table 27-4. */
#define Q_DR(n) ((uint64_t)(n))
#define Q_DR_FROM (1ul << 4)
/* Tables 27-10 / 27-11. */
#define II_SCALE(s) ((uint32_t)(s))
#define II_REG1(r) ((uint32_t)(r) << 3)
#define II_ASZ(a) ((uint32_t)(a) << 7)
#define II_REG (1u << 10)
#define II_OSZ32 (1u << 11)
#define II_SEG(s) ((uint32_t)(s) << 15)
#define II_INDEX(r) ((uint32_t)(r) << 18)
#define II_NO_INDEX (1u << 22)
#define II_BASE(r) ((uint32_t)(r) << 23)
#define II_NO_BASE (1u << 27)
#define II_ID(n) ((uint32_t)(n) << 28)
#define II_REG2(r) ((uint32_t)(r) << 28)
/* Defined bits: memory operand (scaling only with an index), operand size
 * only outside 64-bit mode (Table 27-10), identity; register form of Table
 * 27-11: Reg1, bit 10, identity. */
#define M_MEM (0x380u | II_REG | 0x38000u | II_NO_INDEX | II_NO_BASE | 0x30000000u)
#define M_IDX (3u | 0x3c0000u)
#define M_BASE 0x7800000u
#define M_OSZ II_OSZ32
#define M_REGFORM (0x78u | II_REG | 0x30000000u)
enum { ES_ = 0, CS_, SS_, DS_, FS_, GS_ };
enum { A16 = 0, A32, A64 };
enum { RAX = 0, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9 };

extern char g_cr0[], g_cr0_rd[], g_cr0_end[];
extern char g_cr4[], g_cr4_rd[], g_cr4_end[];
extern char g_cr3[], g_cr3_rd[], g_cr3_end[];
extern char g_cr8[], g_cr8_rd[], g_cr8_end[];
extern char g_clts[], g_clts_rd[], g_lmsw[], g_lmsw_end[], g_lmsw_m[], g_lmsw_m_end[];
extern char g_dr[], g_dr_rd[], g_dr_end[], g_dr4[], g_dr4_end[];
extern char g_dt[], g_dt1[], g_dt2[], g_dt3[], g_dt4[], g_dt5[], g_dt6[], g_dt7[], g_dt8[];
extern char g_invlpg[], g_invlpg_end[], g_invpcid[], g_invpcid_end[];
extern char g_rdtsc[], g_rdtsc_end[], g_rdtscp[], g_rdtscp_end[], g_rdmsr[], g_rdmsr_end[];
extern char g_rdpmc[], g_rdpmc_end[];
extern char g32_dt[], g32_dt1[], g32_dt2[], g32_dt3[], g32_invlpg[], g32_invlpg_end[];

asm(".text\n"
    ".code64\n"
    "g_cr0:	mov %rbx, %cr0\n"
    "g_cr0_rd:	mov %cr0, %rax\n"
    "	smsw %ecx\n"
    "g_cr0_end:	vmcall\n"
    "g_cr4:	mov %rbx, %cr4\n"
    "g_cr4_rd:	mov %cr4, %rax\n"
    "g_cr4_end:	vmcall\n"
    "g_cr3:	mov %rbx, %cr3\n"
    "g_cr3_rd:	mov %cr3, %rax\n"
    "g_cr3_end:	vmcall\n"
    "g_cr8:	mov %rbx, %cr8\n"
    "g_cr8_rd:	mov %cr8, %rax\n"
    "g_cr8_end:	vmcall\n"
    "g_clts:	clts\n"
    "g_clts_rd:	mov %cr0, %rax\n"
    "	vmcall\n"
    "g_lmsw:	lmsw %bx\n"
    "g_lmsw_end:	vmcall\n"
    "g_lmsw_m:	lmsw 2(%rsi)\n"
    "g_lmsw_m_end:	vmcall\n"
    "g_dr:	mov %r9, %dr3\n"
    "g_dr_rd:	mov %dr6, %rdx\n"
    "g_dr_end:	vmcall\n"
    "g_dr4:	.byte 0x0f, 0x21, 0xe0\n"                 /* mov %dr4, %rax */
    "g_dr4_end:	vmcall\n"
    "g_dt:	sgdt 0x10(%rsi)\n"
    "g_dt1:	sidt (%rax,%rbx,4)\n"
    "g_dt2:	lgdt -8(%rbp)\n"
    "g_dt3:	lidt 0x100(%rip)\n"
    "g_dt4:	sldt %ecx\n"
    "g_dt5:	str 0x20(%rdi)\n"
    "g_dt6:	lldt %dx\n"
    "g_dt7:	ltr (%r8)\n"
    "g_dt8:	vmcall\n"
    "g_invlpg:	invlpg %fs:0x40(%rbx)\n"
    "g_invlpg_end:	vmcall\n"
    "g_invpcid:	invpcid 8(%rsi), %rdx\n"
    "g_invpcid_end:	vmcall\n"
    "g_rdtsc:	rdtsc\n"
    "g_rdtsc_end:	vmcall\n"
    "g_rdtscp:	rdtscp\n"
    "g_rdtscp_end:	vmcall\n"
    "g_rdmsr:	rdmsr\n"
    "g_rdmsr_end:	vmcall\n"
    "g_rdpmc:	rdpmc\n"
    "g_rdpmc_end:	vmcall\n"

    ".code32\n"
    "g32_dt:	addr16 sgdt 0x1234(%bx,%si)\n"
    "g32_dt1:	data16 lidt 0x10(%eax)\n"
    "g32_dt2:	sidt %es:0x20(%ebx,%ecx,2)\n"
    "g32_dt3:	vmcall\n"
    "g32_invlpg:	invlpg 0x10(%eax)\n"
    "g32_invlpg_end:	vmcall\n"
    ".code64\n");

static bool allowed(enum vmx_ctl_msr ctl, uint64_t bit)
{
	return vmx_allowed1(ctl) & bit;
}

/* Secondary control bit on (and "activate secondary controls"); false
 * with a SKIP line where the model cannot. */
static bool proc2_on(uint32_t bit, const char *what)
{
	if (!allowed(VMX_CTL_PROC, PROC_SECONDARY_CTLS) || !allowed(VMX_CTL_PROC2, bit)) {
		report_skip("%s: the model has no such secondary control", what);
		return false;
	}
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_SECONDARY_CTLS, true);
	vmx_set_ctl(VMCS_PROC2_CONTROLS, bit, true);
	return true;
}

/* A primary control that must be 0 for the case: false (SKIP) when the
 * model forces it to 1 (A.3.2). */
static bool proc_off(uint32_t bit, const char *what)
{
	if (vmx_must1(VMX_CTL_PROC) & bit) {
		report_skip("%s: the control must be 1 on this model", what);
		return false;
	}
	vmx_set_ctl(VMCS_PROC_CONTROLS, bit, false);
	return true;
}

/* A fresh 64-bit baseline entered at rip with cleared registers. */
static void fresh(char *rip)
{
	vmx_baseline(64);
	vmx_stub_idt();
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmwrite(VMCS_GUEST_RIP, (uint64_t)rip);
}

static bool exit_is(struct vmx_outcome o, uint32_t reason, const char *what)
{
	if (o.res != VMX_OK) {
		report(false, "%s: VM entry failed (VMfail%s, error %u)", what,
		       o.res == VMX_FAIL_VALID ? "Valid" : "Invalid", o.error);
		return false;
	}
	return report(o.exit_reason == reason, "%s: exit reason %u (got %u)", what, reason, o.exit_reason);
}

/* An exit caused by the instruction at rip of length len (next - rip):
 * reason, qualification, GUEST_RIP, instruction length. */
static bool insn_exit(struct vmx_outcome o, uint32_t reason, uint64_t qual, char *rip, char *next,
		      const char *what)
{
	if (!exit_is(o, reason, what))
		return false;
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), qual, "%s: exit qualification (27.2.1)", what);
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)rip, "%s: GUEST_RIP = the instruction (27.3.3)", what);
	report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), next - rip, "%s: instruction length (27.2.5)", what);
	return true;
}

/* The guest reached the VMCALL at rip (no exit on the way). */
static bool ran_to(struct vmx_outcome o, char *rip, const char *what)
{
	if (!exit_is(o, EXIT_REASON_VMCALL, what))
		return false;
	return report(vmread(VMCS_GUEST_RIP) == (uint64_t)rip, "%s: no exit before the final VMCALL", what);
}

/* The guest took exception vec at the instruction at rip (its IDT stub
 * VMCALLs with RAX = vec; the frame holds the faulting RIP). */
static void faulted(struct vmx_outcome o, unsigned vec, bool errcode, char *rip, const char *what)
{
	uint64_t *frame;
	if (!exit_is(o, EXIT_REASON_VMCALL, what))
		return;
	report_eq(vmx_guest_regs[RAX], vec, "%s: the guest took vector %u", what, vec);
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)vmx_idt_stubs + VMX_STUB_SIZE * vec + VMX_STUB_VMCALL_OFF, "%s: in the stub", what);
	frame = (uint64_t *)vmread(VMCS_GUEST_RSP);
	report_eq(frame[errcode ? 1 : 0], (uint64_t)rip, "%s: pushed RIP = the faulting instruction", what);
}

/* ---- CR0 / SMSW / CLTS / LMSW (25.1.3, 25.3) ---- */

static void test_cr0(void)
{
	uint64_t cr0, want;
	struct vmx_outcome o;

	/* A host-owned bit (TS) written different from the shadow: exit. */
	fresh(g_cr0);
	cr0 = vmread(VMCS_GUEST_CR0) & ~CR0_TS;
	vmwrite(VMCS_GUEST_CR0, cr0);
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
	vmwrite(VMCS_CR0_READ_SHADOW, cr0);
	vmx_guest_regs[RBX] = cr0 | CR0_TS;
	o = vmx_enter_guest(false);
	if (insn_exit(o, EXIT_REASON_CR_ACCESS, Q_CR(0) | Q_TO | Q_GPR(RBX), g_cr0, g_cr0_rd, "MOV to CR0 (TS owned)"))
		report_eq(vmread(VMCS_GUEST_CR0), cr0, "MOV to CR0 exit: CR0 unchanged");

	/* Owned MP written equal to the shadow (which differs from CR0), TS
	 * guest-owned: no exit; CR0.MP keeps its value, TS is written; MOV
	 * from CR0 and SMSW read MP from the shadow (25.3). */
	fresh(g_cr0);
	cr0 = vmread(VMCS_GUEST_CR0) & ~CR0_TS;
	vmwrite(VMCS_GUEST_CR0, cr0);
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, CR0_MP);
	vmwrite(VMCS_CR0_READ_SHADOW, cr0 ^ CR0_MP);
	vmx_guest_regs[RBX] = (cr0 ^ CR0_MP) | CR0_TS;
	o = vmx_enter_guest(false);
	if (ran_to(o, g_cr0_end, "MOV to CR0 matching the shadow")) {
		report_eq(vmread(VMCS_GUEST_CR0), cr0 | CR0_TS, "MOV to CR0: owned MP kept, TS written (25.3)");
		want = (cr0 ^ CR0_MP) | CR0_TS;
		report_eq(vmx_guest_regs[RAX], want, "MOV from CR0 reads MP from the shadow (25.3)");
		report_eq(vmx_guest_regs[RCX], (uint32_t)want, "SMSW r32 reads MP from the shadow (25.3)");
	}
}

static void test_clts_lmsw(void)
{
	uint64_t cr0;
	uint16_t src;
	struct vmx_outcome o;
	static uint16_t msw[2] __attribute__((aligned(8)));

	/* CLTS: TS owned, shadow TS = 1: exit. */
	fresh(g_clts);
	cr0 = vmread(VMCS_GUEST_CR0);
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
	vmwrite(VMCS_CR0_READ_SHADOW, cr0 | CR0_TS);
	vmwrite(VMCS_GUEST_CR0, cr0 | CR0_TS);
	o = vmx_enter_guest(false);
	insn_exit(o, EXIT_REASON_CR_ACCESS, Q_CR(0) | Q_CLTS, g_clts, g_clts_rd, "CLTS (TS owned, shadow 1)");

	/* CLTS: TS owned, shadow TS = 0: no exit, CR0.TS stays 1 (25.3). */
	fresh(g_clts);
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
	vmwrite(VMCS_CR0_READ_SHADOW, cr0 & ~CR0_TS);
	vmwrite(VMCS_GUEST_CR0, cr0 | CR0_TS);
	o = vmx_enter_guest(false);
	if (ran_to(o, g_clts_rd + 3, "CLTS (TS owned, shadow 0)")) {
		report(vmread(VMCS_GUEST_CR0) & CR0_TS, "CLTS (TS owned, shadow 0): CR0.TS unchanged (25.3)");
		report_eq(vmx_guest_regs[RAX] & CR0_TS, 0, "CLTS: the guest reads TS = 0 (shadow)");
	}

	/* CLTS with TS guest-owned: clears it. */
	fresh(g_clts);
	vmwrite(VMCS_GUEST_CR0, cr0 | CR0_TS);
	o = vmx_enter_guest(false);
	if (ran_to(o, g_clts_rd + 3, "CLTS (TS guest-owned)"))
		report_eq(vmread(VMCS_GUEST_CR0) & CR0_TS, 0, "CLTS (TS guest-owned) clears CR0.TS");

	/* LMSW register: owned bit 3:1 differs from the shadow: exit, source
	 * data in 31:16, operand type 0. */
	fresh(g_lmsw);
	cr0 = vmread(VMCS_GUEST_CR0) & ~CR0_TS;
	vmwrite(VMCS_GUEST_CR0, cr0);
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
	vmwrite(VMCS_CR0_READ_SHADOW, cr0);
	src = (uint16_t)((cr0 & 0xffff) | CR0_TS);
	vmx_guest_regs[RBX] = 0xabcd0000u | src;
	o = vmx_enter_guest(false);
	insn_exit(o, EXIT_REASON_CR_ACCESS, Q_LMSW | Q_LMSW_SRC(src), g_lmsw, g_lmsw_end, "LMSW %bx (TS owned)");

	/* LMSW memory: PE owned, shadow PE = 0, source PE = 1: exit, type 1. */
	fresh(g_lmsw_m);
	cr0 = vmread(VMCS_GUEST_CR0);
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, CR0_PE);
	vmwrite(VMCS_CR0_READ_SHADOW, cr0 & ~CR0_PE);
	msw[1] = (uint16_t)(cr0 & 0xf);
	vmx_guest_regs[RSI] = (uint64_t)msw;
	o = vmx_enter_guest(false);
	insn_exit(o, EXIT_REASON_CR_ACCESS, Q_LMSW | Q_LMSW_MEM | Q_LMSW_SRC(msw[1]), g_lmsw_m, g_lmsw_m_end,
		  "LMSW m16 (PE owned, shadow PE 0)");

	/* LMSW: TS owned, source TS = shadow TS = 1 while CR0.TS = 0; MP
	 * guest-owned and flipped: no exit, TS stays 0, MP written (25.3). */
	fresh(g_lmsw);
	cr0 = vmread(VMCS_GUEST_CR0) & ~CR0_TS;
	vmwrite(VMCS_GUEST_CR0, cr0);
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
	vmwrite(VMCS_CR0_READ_SHADOW, cr0 | CR0_TS);
	vmx_guest_regs[RBX] = ((cr0 ^ CR0_MP) & 0xf) | CR0_TS;
	o = vmx_enter_guest(false);
	if (ran_to(o, g_lmsw_end, "LMSW matching the shadow"))
		report_eq(vmread(VMCS_GUEST_CR0), cr0 ^ CR0_MP, "LMSW: owned TS kept, MP written (25.3)");
}

/* ---- CR4 ---- */

static void test_cr4(void)
{
	uint64_t cr4;
	struct vmx_outcome o;

	fresh(g_cr4);
	cr4 = vmread(VMCS_GUEST_CR4) & ~CR4_TSD;
	vmwrite(VMCS_GUEST_CR4, cr4);
	vmwrite(VMCS_CR4_GUEST_HOST_MASK, CR4_TSD);
	vmwrite(VMCS_CR4_READ_SHADOW, cr4);
	vmx_guest_regs[RBX] = cr4 | CR4_TSD;
	o = vmx_enter_guest(false);
	if (insn_exit(o, EXIT_REASON_CR_ACCESS, Q_CR(4) | Q_TO | Q_GPR(RBX), g_cr4, g_cr4_rd, "MOV to CR4 (TSD owned)"))
		report_eq(vmread(VMCS_GUEST_CR4), cr4, "MOV to CR4 exit: CR4 unchanged");

	/* VMXE owned and hidden (shadow 0): the guest clears it without an
	 * exit or #GP, CR4.VMXE stays 1, PCE (guest-owned) is set, MOV from CR4
	 * reads VMXE = 0. */
	fresh(g_cr4);
	cr4 = vmread(VMCS_GUEST_CR4) & ~CR4_PCE;
	vmwrite(VMCS_GUEST_CR4, cr4);
	vmwrite(VMCS_CR4_GUEST_HOST_MASK, CR4_VMXE);
	vmwrite(VMCS_CR4_READ_SHADOW, cr4 & ~CR4_VMXE);
	vmx_guest_regs[RBX] = (cr4 & ~CR4_VMXE) | CR4_PCE;
	o = vmx_enter_guest(false);
	if (ran_to(o, g_cr4_end, "MOV to CR4 clearing an owned VMXE")) {
		report_eq(vmread(VMCS_GUEST_CR4), cr4 | CR4_PCE, "MOV to CR4: owned VMXE kept, PCE written (25.3)");
		report_eq(vmx_guest_regs[RAX], (cr4 & ~CR4_VMXE) | CR4_PCE, "MOV from CR4 reads VMXE from the shadow");
	}

	/* VMXE guest-owned: clearing it breaks the VMX fixed bits: #GP (25.3). */
	fresh(g_cr4);
	cr4 = vmread(VMCS_GUEST_CR4);
	vmx_guest_regs[RBX] = cr4 & ~CR4_VMXE;
	o = vmx_enter_guest(false);
	faulted(o, VEC_GP_, true, g_cr4, "MOV to CR4 clearing a guest-owned VMXE (#GP, 25.3)");
}

/* ---- CR3: CR3-load exiting and the target list; CR3-store exiting ---- */

static void test_cr3(void)
{
	uint64_t cr3;
	struct vmx_outcome o;

	fresh(g_cr3);
	cr3 = vmread(VMCS_GUEST_CR3);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING, true);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmx_guest_regs[RBX] = cr3;
	o = vmx_enter_guest(false);
	insn_exit(o, EXIT_REASON_CR_ACCESS, Q_CR(3) | Q_TO | Q_GPR(RBX), g_cr3, g_cr3_rd, "MOV to CR3 (no targets)");

	/* Target 2 of 3 matches: no exit; then MOV from CR3 exits. */
	fresh(g_cr3);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING, true);
	vmwrite(VMCS_CR3_TARGET_COUNT, 3);
	vmwrite(VMCS_CR3_TARGET_VALUE0, cr3 + 0x1000);
	vmwrite(VMCS_CR3_TARGET_VALUE1, cr3 + 0x2000);
	vmwrite(VMCS_CR3_TARGET_VALUE2, cr3);
	vmwrite(VMCS_CR3_TARGET_VALUE3, 0);
	vmx_guest_regs[RBX] = cr3;
	o = vmx_enter_guest(false);
	insn_exit(o, EXIT_REASON_CR_ACCESS, Q_CR(3) | Q_FROM | Q_GPR(RAX), g_cr3_rd, g_cr3_end,
		  "MOV to CR3 = target 2 (no exit), MOV from CR3 exits");

	/* Target 3 holds the value but the count is 3: exit. */
	fresh(g_cr3);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_CR3_LOAD_EXITING, true);
	vmwrite(VMCS_CR3_TARGET_COUNT, 3);
	vmwrite(VMCS_CR3_TARGET_VALUE3, cr3);
	vmx_guest_regs[RBX] = cr3;
	o = vmx_enter_guest(false);
	insn_exit(o, EXIT_REASON_CR_ACCESS, Q_CR(3) | Q_TO | Q_GPR(RBX), g_cr3, g_cr3_rd,
		  "MOV to CR3 = target 3 beyond the count");

	/* Both controls 0 (where the model allows): native. */
	fresh(g_cr3);
	if (!proc_off(PROC_CR3_LOAD_EXITING, "MOV to/from CR3 without exiting") ||
	    !proc_off(PROC_CR3_STORE_EXITING, "MOV to/from CR3 without exiting"))
		return;
	vmx_guest_regs[RBX] = cr3;
	o = vmx_enter_guest(false);
	if (ran_to(o, g_cr3_end, "MOV to/from CR3 without exiting"))
		report_eq(vmx_guest_regs[RAX], cr3, "MOV from CR3 reads CR3");
}

/* ---- CR8, the TPR shadow, TPR below threshold ---- */

static uint32_t *vtpr_of(uint64_t page)
{
	return (uint32_t *)(page + 0x80);
}

static void test_cr8(void)
{
	uint64_t vapic = vmx_scratch_page(4), host_cr8;
	struct vmx_outcome o;

	fresh(g_cr8);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING, true);
	vmx_guest_regs[RBX] = 3;
	o = vmx_enter_guest(false);
	insn_exit(o, EXIT_REASON_CR_ACCESS, Q_CR(8) | Q_TO | Q_GPR(RBX), g_cr8, g_cr8_rd, "MOV to CR8 (CR8-load exiting)");
	vmx_skip_insn();
	o = vmx_enter_guest(true);
	insn_exit(o, EXIT_REASON_CR_ACCESS, Q_CR(8) | Q_FROM | Q_GPR(RAX), g_cr8_rd, g_cr8_end,
		  "MOV from CR8 (CR8-store exiting)");

	/* TPR shadow: MOV to CR8 writes VTPR[7:4] (bits 3:0, 31:8 cleared),
	 * MOV from CR8 reads it; the real TPR is untouched (29.3). */
	asm volatile("mov %%cr8, %0" : "=r"(host_cr8));
	fresh(g_cr8);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING, false);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_TPR_SHADOW, true);
	vmwrite(VMCS_VIRTUAL_APIC_ADDR, vapic);
	vmwrite(VMCS_TPR_THRESHOLD, 2);
	*vtpr_of(vapic) = 0xffffff5fu;
	vmx_guest_regs[RBX] = 7;
	o = vmx_enter_guest(false);
	if (ran_to(o, g_cr8_end, "MOV to/from CR8 with the TPR shadow")) {
		report_eq(*vtpr_of(vapic), 0x70, "MOV to CR8: VTPR = source << 4, other bits cleared (29.3)");
		report_eq(vmx_guest_regs[RAX], 7, "MOV from CR8 reads VTPR[7:4] (29.3)");
		uint64_t now;
		asm volatile("mov %%cr8, %0" : "=r"(now));
		report_eq(now, host_cr8, "the processor's TPR is not written");
	}

	/* VTPR[7:4] = 1 below threshold 2: trap-like exit after the MOV. */
	fresh(g_cr8);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING, false);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_TPR_SHADOW, true);
	vmwrite(VMCS_VIRTUAL_APIC_ADDR, vapic);
	vmwrite(VMCS_TPR_THRESHOLD, 2);
	*vtpr_of(vapic) = 0x50;
	vmx_guest_regs[RBX] = 1;
	o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_TPR_BELOW_THRESHOLD, "MOV to CR8 below the TPR threshold")) {
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_cr8_rd,
			  "TPR below threshold: trap-like, GUEST_RIP = the next instruction (25.1.3)");
		report_eq(vmread(VMCS_EXIT_QUALIFICATION), 0, "TPR below threshold: qualification 0 (27.2.1)");
		report_eq(*vtpr_of(vapic), 0x10, "TPR below threshold: VTPR written first");
	}

	/* 26.6.7: with "virtualize APIC accesses", the exit right after entry. */
	fresh(g_cr8);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING, false);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_TPR_SHADOW, true);
	if (!proc2_on(PROC2_VIRT_APIC_ACCESS, "TPR below threshold after VM entry"))
		return;
	vmwrite(VMCS_APIC_ACCESS_ADDR, vmx_scratch_page(5));
	vmwrite(VMCS_VIRTUAL_APIC_ADDR, vapic);
	vmwrite(VMCS_TPR_THRESHOLD, 6);
	*vtpr_of(vapic) = 0x50;
	o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_TPR_BELOW_THRESHOLD, "VM entry with VTPR below the threshold (26.6.7)"))
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_cr8, "26.6.7: GUEST_RIP = the entry's RIP");
}

/* ---- MOV DR ---- */

static void test_mov_dr(void)
{
	struct vmx_outcome o;

	fresh(g_dr);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_MOV_DR_EXITING, true);
	o = vmx_enter_guest(false);
	insn_exit(o, EXIT_REASON_DR_ACCESS, Q_DR(3) | Q_GPR(R9), g_dr, g_dr_rd, "MOV %r9 to DR3");
	vmx_skip_insn();
	o = vmx_enter_guest(true);
	insn_exit(o, EXIT_REASON_DR_ACCESS, Q_DR(6) | Q_DR_FROM | Q_GPR(RDX), g_dr_rd, g_dr_end, "MOV DR6 to %rdx");

	/* 25.1.3 MOV DR: the exit has priority over the #UD of DR4 with
	 * CR4.DE = 1 (and, being fault-like, over the #DB of DR7.GD). */
	fresh(g_dr4);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_MOV_DR_EXITING, true);
	vmwrite(VMCS_GUEST_CR4, vmread(VMCS_GUEST_CR4) | CR4_DE);
	vmx_set_ctl(VMCS_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG_CTLS, true);
	vmwrite(VMCS_GUEST_DR7, 0x400 | DR7_GD);
	o = vmx_enter_guest(false);
	insn_exit(o, EXIT_REASON_DR_ACCESS, Q_DR(4) | Q_DR_FROM | Q_GPR(RAX), g_dr4, g_dr4_end,
		  "MOV DR4 with CR4.DE = 1 and DR7.GD = 1 exits");

	/* Without the control the same instruction is #UD. */
	fresh(g_dr4);
	vmwrite(VMCS_GUEST_CR4, vmread(VMCS_GUEST_CR4) | CR4_DE);
	o = vmx_enter_guest(false);
	faulted(o, VEC_UD_, false, g_dr4, "MOV DR4 with CR4.DE = 1, no MOV-DR exiting (#UD)");

	/* Without the control MOV DR runs. */
	fresh(g_dr);
	vmx_guest_regs[R9] = 0x123456;
	o = vmx_enter_guest(false);
	ran_to(o, g_dr_end, "MOV DR without MOV-DR exiting");
}

/* ---- descriptor tables (Tables 27-10, 27-11) ---- */

struct dt_row {
	const char *text;
	char *rip, *next;
	uint32_t reason;
	uint64_t qual;
	uint32_t info, mask;
};

static void run_dt_rows(const struct dt_row *r, unsigned n, char *end)
{
	struct vmx_outcome o;
	for (unsigned k = 0; k < n; k++, r++) {
		o = vmx_enter_guest(k != 0);
		if (!insn_exit(o, r->reason, r->qual, r->rip, r->next, r->text))
			return;
		report_eq(vmread(VMCS_EXIT_INSTRUCTION_INFO) & r->mask, r->info, "%s: instruction information (27.2.4)",
			  r->text);
		vmx_skip_insn();
	}
	o = vmx_enter_guest(true);
	ran_to(o, end, "descriptor-table rows");
}

static void test_dtables(void)
{
	const struct dt_row r64[] = {
		{ "sgdt 0x10(%rsi)", g_dt, g_dt1, EXIT_REASON_GDTR_IDTR, 0x10,
		  II_ASZ(A64) | II_SEG(DS_) | II_NO_INDEX | II_BASE(RSI) | II_ID(0), M_MEM | M_BASE },
		{ "sidt (%rax,%rbx,4)", g_dt1, g_dt2, EXIT_REASON_GDTR_IDTR, 0,
		  II_SCALE(2) | II_ASZ(A64) | II_SEG(DS_) | II_INDEX(RBX) | II_BASE(RAX) | II_ID(1),
		  M_MEM | M_IDX | M_BASE },
		{ "lgdt -8(%rbp)", g_dt2, g_dt3, EXIT_REASON_GDTR_IDTR, (uint64_t)-8,
		  II_ASZ(A64) | II_SEG(SS_) | II_NO_INDEX | II_BASE(RBP) | II_ID(2), M_MEM | M_BASE },
		{ "lidt 0x100(%rip)", g_dt3, g_dt4, EXIT_REASON_GDTR_IDTR, (uint64_t)g_dt4 + 0x100,
		  II_ASZ(A64) | II_SEG(DS_) | II_NO_INDEX | II_NO_BASE | II_ID(3), M_MEM },
		{ "sldt %ecx", g_dt4, g_dt5, EXIT_REASON_LDTR_TR, 0, II_REG | II_REG1(RCX) | II_ID(0), M_REGFORM },
		{ "str 0x20(%rdi)", g_dt5, g_dt6, EXIT_REASON_LDTR_TR, 0x20,
		  II_ASZ(A64) | II_SEG(DS_) | II_NO_INDEX | II_BASE(RDI) | II_ID(1), M_MEM | M_BASE },
		{ "lldt %dx", g_dt6, g_dt7, EXIT_REASON_LDTR_TR, 0, II_REG | II_REG1(RDX) | II_ID(2), M_REGFORM },
		{ "ltr (%r8)", g_dt7, g_dt8, EXIT_REASON_LDTR_TR, 0,
		  II_ASZ(A64) | II_SEG(DS_) | II_NO_INDEX | II_BASE(R8) | II_ID(3), M_MEM | M_BASE },
	};
	const struct dt_row r32[] = {
		{ "32-bit sgdt 0x1234(%bx,%si)", g32_dt, g32_dt1, EXIT_REASON_GDTR_IDTR, 0x1234,
		  II_SCALE(0) | II_ASZ(A16) | II_OSZ32 | II_SEG(DS_) | II_INDEX(RSI) | II_BASE(RBX) | II_ID(0),
		  M_MEM | M_IDX | M_BASE | M_OSZ },
		{ "32-bit o16 lidt 0x10(%eax)", g32_dt1, g32_dt2, EXIT_REASON_GDTR_IDTR, 0x10,
		  II_ASZ(A32) | II_SEG(DS_) | II_NO_INDEX | II_BASE(RAX) | II_ID(3), M_MEM | M_BASE | M_OSZ },
		{ "32-bit sidt %es:0x20(%ebx,%ecx,2)", g32_dt2, g32_dt3, EXIT_REASON_GDTR_IDTR, 0x20,
		  II_SCALE(1) | II_ASZ(A32) | II_OSZ32 | II_SEG(ES_) | II_INDEX(RCX) | II_BASE(RBX) | II_ID(1),
		  M_MEM | M_IDX | M_BASE | M_OSZ },
	};

	fresh(g_dt);
	if (!proc2_on(PROC2_DESC_TABLE_EXITING, "descriptor-table exiting"))
		return;
	run_dt_rows(r64, ARRAY_SIZE(r64), g_dt8);

	vmx_baseline(32);
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g32_dt);
	proc2_on(PROC2_DESC_TABLE_EXITING, "descriptor-table exiting, 32-bit guest");
	run_dt_rows(r32, ARRAY_SIZE(r32), g32_dt3);
}

/* ---- INVLPG, INVPCID ---- */

static void test_invlpg(void)
{
	struct vmx_outcome o;
	static uint64_t desc[4] __attribute__((aligned(16)));

	fresh(g_invlpg);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INVLPG_EXITING, true);
	vmwrite(VMCS_GUEST_FS_BASE, 0x7000000);
	vmx_guest_regs[RBX] = 0x123000;
	o = vmx_enter_guest(false);
	insn_exit(o, EXIT_REASON_INVLPG, 0x7000000 + 0x123040, g_invlpg, g_invlpg_end,
		  "INVLPG %fs:0x40(%rbx): qualification = linear address");

	fresh(g_invlpg);
	o = vmx_enter_guest(false);
	ran_to(o, g_invlpg_end, "INVLPG without INVLPG exiting");

	/* 32-bit guest: the linear address wraps at 4 GiB. */
	vmx_baseline(32);
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g32_invlpg);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INVLPG_EXITING, true);
	vmx_guest_regs[RAX] = 0xfffffff8u;
	o = vmx_enter_guest(false);
	insn_exit(o, EXIT_REASON_INVLPG, 0x8, g32_invlpg, g32_invlpg_end, "32-bit INVLPG 0x10(%eax) wraps");

	/* INVPCID: "enable INVPCID" = 0 is #UD (25.3). */
	fresh(g_invpcid);
	if (!allowed(VMX_CTL_PROC2, PROC2_INVPCID)) {
		report_skip("INVPCID: the model has no \"enable INVPCID\"");
		return;
	}
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_SECONDARY_CTLS, true);
	vmx_guest_regs[RSI] = (uint64_t)desc;
	vmx_guest_regs[RDX] = 2;
	o = vmx_enter_guest(false);
	faulted(o, VEC_UD_, false, g_invpcid, "INVPCID with \"enable INVPCID\" = 0 (#UD, 25.3)");

	fresh(g_invpcid);
	proc2_on(PROC2_INVPCID, "INVPCID exiting");
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INVLPG_EXITING, true);
	vmx_guest_regs[RSI] = (uint64_t)desc;
	vmx_guest_regs[RDX] = 2;
	o = vmx_enter_guest(false);
	if (insn_exit(o, EXIT_REASON_INVPCID, 8, g_invpcid, g_invpcid_end, "INVPCID 8(%rsi),%rdx"))
		report_eq(vmread(VMCS_EXIT_INSTRUCTION_INFO) & (M_MEM | M_BASE | 0xc0000000u),
			  II_ASZ(A64) | II_SEG(DS_) | II_NO_INDEX | II_BASE(RSI) | II_REG2(RDX),
			  "INVPCID: instruction information (27.2.4)");

	fresh(g_invpcid);
	proc2_on(PROC2_INVPCID, "INVPCID without INVLPG exiting");
	vmx_guest_regs[RSI] = (uint64_t)desc;
	vmx_guest_regs[RDX] = 2;
	o = vmx_enter_guest(false);
	ran_to(o, g_invpcid_end, "INVPCID with \"enable INVPCID\" = 1, INVLPG exiting = 0");
}

/* ---- RDTSC, RDTSCP, RDMSR IA32_TSC, RDPMC ---- */

static uint64_t edx_eax(void)
{
	return (vmx_guest_regs[RDX] << 32) | (uint32_t)vmx_guest_regs[RAX];
}

/* The guest's TSC read between host reads t0 and t1 equals
 * ((TSC * mult) >> 48) + off for some TSC in [t0, t1] (25.3). */
static void tsc_between(uint64_t t0, uint64_t t1, bool scale, uint64_t mult, uint64_t off, const char *what)
{
	uint64_t g = edx_eax(), lo = t0, hi = t1;
	if (scale) {
		lo = (uint64_t)(((unsigned __int128)t0 * mult) >> 48);
		hi = (uint64_t)(((unsigned __int128)t1 * mult) >> 48);
	}
	report(g - off >= lo && g - off <= hi, "%s: %#lx - offset within [%#lx, %#lx] (25.3)", what, g, lo, hi);
}

static void tsc_case(char *rip, char *end, bool scale, uint64_t mult, uint64_t off, const char *what)
{
	uint64_t t0, t1;
	struct vmx_outcome o;

	fresh(rip);
	if (scale && !proc2_on(PROC2_TSC_SCALING, what))
		return;
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_TSC_OFFSETTING, true);
	if (rip == g_rdtscp && !proc2_on(PROC2_RDTSCP, what))
		return;
	if (rip == g_rdmsr) {
		if (!allowed(VMX_CTL_PROC, PROC_MSR_BITMAPS)) {
			report_skip("%s: no MSR bitmaps", what);
			return;
		}
		memset((void *)vmx_scratch_page(6), 0, 4096);
		vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_MSR_BITMAPS, true);
		vmwrite(VMCS_MSR_BITMAP, vmx_scratch_page(6));
		vmx_guest_regs[RCX] = MSR_TSC;
	}
	if (scale)
		vmwrite(VMCS_TSC_MULTIPLIER, mult);
	vmwrite(VMCS_TSC_OFFSET, off);
	t0 = rdtsc();
	o = vmx_enter_guest(false);
	t1 = rdtsc();
	if (ran_to(o, end, what))
		tsc_between(t0, t1, scale, mult, off, what);
}

static void test_tsc(void)
{
	struct vmx_outcome o;
	const uint64_t off = 0x0000123400000000ull, neg = (uint64_t)-0x1000000ll;

	fresh(g_rdtsc);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_RDTSC_EXITING, true);
	o = vmx_enter_guest(false);
	insn_exit(o, EXIT_REASON_RDTSC, 0, g_rdtsc, g_rdtsc_end, "RDTSC (RDTSC exiting)");

	tsc_case(g_rdtsc, g_rdtsc_end, false, 0, off, "RDTSC with TSC offset (no exit)");
	tsc_case(g_rdtsc, g_rdtsc_end, false, 0, neg, "RDTSC with a negative TSC offset");
	tsc_case(g_rdtsc, g_rdtsc_end, true, 3ull << 47, off, "RDTSC with TSC multiplier 1.5 and offset");
	tsc_case(g_rdmsr, g_rdmsr_end, false, 0, off, "RDMSR IA32_TSC with TSC offset");
	tsc_case(g_rdmsr, g_rdmsr_end, true, 1ull << 46, off, "RDMSR IA32_TSC with TSC multiplier 0.25");
	tsc_case(g_rdtscp, g_rdtscp_end, false, 0, off, "RDTSCP with TSC offset");
	tsc_case(g_rdtscp, g_rdtscp_end, true, 5ull << 48, 0, "RDTSCP with TSC multiplier 5");

	/* RDTSCP: #UD with "enable RDTSCP" = 0; exit 51 with it and RDTSC
	 * exiting. */
	fresh(g_rdtscp);
	if (!allowed(VMX_CTL_PROC2, PROC2_RDTSCP)) {
		report_skip("RDTSCP: the model has no \"enable RDTSCP\"");
	} else {
		vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_SECONDARY_CTLS, true);
		o = vmx_enter_guest(false);
		faulted(o, VEC_UD_, false, g_rdtscp, "RDTSCP with \"enable RDTSCP\" = 0 (#UD, 25.3)");
		fresh(g_rdtscp);
		proc2_on(PROC2_RDTSCP, "RDTSCP exiting");
		vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_RDTSC_EXITING, true);
		o = vmx_enter_guest(false);
		insn_exit(o, EXIT_REASON_RDTSCP, 0, g_rdtscp, g_rdtscp_end, "RDTSCP (RDTSC exiting)");
	}

	/* RDPMC exiting at CPL 0 (25.1.3). */
	fresh(g_rdpmc);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_RDPMC_EXITING, true);
	o = vmx_enter_guest(false);
	insn_exit(o, EXIT_REASON_RDPMC, 0, g_rdpmc, g_rdpmc_end, "RDPMC (RDPMC exiting)");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start()) {
		test_cr0();
		test_clts_lmsw();
		test_cr4();
		test_cr3();
		test_cr8();
		test_mov_dr();
		test_dtables();
		test_invlpg();
		test_tsc();
	}
	report_summary();
}
