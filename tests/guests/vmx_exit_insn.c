/* The other instruction exits of VMX non-root operation, seen from a guest
 * hypervisor (SDM vol. 3C, the edition whose VM-exit chapter is 27): HLT
 * (12), INVD (13), MWAIT (36), MONITOR (39), PAUSE (40) and PAUSE-loop
 * exiting, WBINVD (54), XSETBV (55), RDRAND (57), RDSEED (61) with the
 * reason, qualification (27.2.1; MWAIT's "monitoring armed" bit),
 * instruction length (27.2.5), instruction information (Table 27-12) and
 * GUEST_RIP (27.3.3); the cases that run natively with the control 0;
 * XSAVES/XRSTORS (#UD with "enable XSAVES/XRSTORS" 0, 25.3); and the
 * instructions no model offers (GETSEC, RSM, ENCLS, UMWAIT, TPAUSE), which
 * are #UD in the guest.
 */
#include "guest.h"
#include "vmx_vmcs.h"

#define VEC_UD 6
#define CR4_OSXSAVE (1ul << 18)
enum { RAX = 0, RCX = 1, RDX = 2, RBX = 3 };
/* Table 27-12. */
#define II_DEST(r) ((uint32_t)(r) << 3)
#define II_OSZ(s) ((uint32_t)(s) << 11)
#define II_MASK_RAND (0x78u | 0x1800u)
enum { O16 = 0, O32, O64 };

static bool allowed(enum vmx_ctl_msr ctl, uint64_t bit)
{
	return vmx_allowed1(ctl) & bit;
}

static void set_proc(uint32_t bit, bool on)
{
	uint64_t v = vmread(VMCS_PROC_CONTROLS);
	vmwrite(VMCS_PROC_CONTROLS, on ? v | bit : v & ~(uint64_t)bit);
}

/* Secondary control bit, with "activate secondary controls". */
static bool set_proc2(uint32_t bit)
{
	if (!allowed(VMX_CTL_PROC2, bit))
		return false;
	set_proc(PROC_SECONDARY_CTLS, true);
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | bit);
	return true;
}

static bool expect_exit(struct vmx_outcome o, uint32_t reason, const char *what)
{
	if (o.res != VMX_OK)
		return report(false, "%s: VM entry failed (VMfail%s, error %u)", what,
			      o.res == VMX_FAIL_VALID ? "Valid" : "Invalid", o.error);
	if (o.exit_reason != reason)
		return report(false, "%s: exit reason %u, expected %u (GUEST_RIP %#lx)", what, o.exit_reason, reason,
			      vmread(VMCS_GUEST_RIP));
	return true;
}

static bool has_xsave(void)
{
	return cpuid(1, 0).c & (1u << 26);
}

/* The guest's IDT is the library's stub IDT (vmx_stub_idt): vector v
 * runs "mov $v, %eax; vmcall". */

/* #UD in the guest (no VM exit for the instruction): its stub VMCALLs. */
static void expect_guest_ud(struct vmx_outcome o, uint64_t rip, const char *what)
{
	if (!expect_exit(o, EXIT_REASON_VMCALL, what))
		return;
	report_eq(vmx_guest_regs[RAX], VEC_UD, "%s: #UD in the guest, no VM exit", what);
	report_eq(((uint64_t *)vmread(VMCS_GUEST_RSP))[0], rip, "%s: #UD at the instruction", what);
}

/* ---- one exit per row ---- */

uint64_t gi_monitored;
extern char gi[], gi_end[];
asm(".code64\n"
    "gi:\n"
    "gi_0:	hlt\n"
    "gi_1:	invd\n"
    "gi_2:	wbinvd\n"
    "gi_3:	monitor\n"
    "gi_4:	mwait\n"
    "gi_5:	pause\n"
    "gi_6:	xsetbv\n"
    "gi_7:	rdrand %r9\n"
    "gi_8:	rdrand %ax\n"
    "gi_9:	rdrand %ecx\n"
    "gi_10:	rdseed %rbx\n"
    "gi_11:	rdseed %r15w\n"
    "gi_end:	vmcall\n"
    "	jmp gi_end\n");
extern char gi_0[], gi_1[], gi_2[], gi_3[], gi_4[], gi_5[], gi_6[], gi_7[], gi_8[], gi_9[], gi_10[], gi_11[];

enum need { N_NONE, N_WBINVD, N_MONITOR, N_XSAVE, N_RDRAND, N_RDSEED };

struct row {
	const char *text;
	uint32_t reason;
	unsigned len;           /* the SDM's encoding length of the instruction */
	enum need need;
	uint64_t rcx;           /* ECX: a value that would be #GP natively where one exists */
	uint32_t info, mask;
};

static bool row_possible(enum need n)
{
	switch (n) {
	case N_NONE: return true;
	case N_WBINVD: return allowed(VMX_CTL_PROC2, PROC2_WBINVD_EXITING);
	case N_MONITOR: return cpuid(1, 0).c & (1u << 3);
	case N_XSAVE: return has_xsave();
	case N_RDRAND: return (cpuid(1, 0).c & (1u << 30)) && allowed(VMX_CTL_PROC2, PROC2_RDRAND_EXITING);
	case N_RDSEED: return (cpuid(7, 0).b & (1u << 18)) && allowed(VMX_CTL_PROC2, PROC2_RDSEED_EXITING);
	}
	return false;
}

static void test_rows(void)
{
	char *const labels[] = { gi_0, gi_1, gi_2, gi_3, gi_4, gi_5, gi_6, gi_7, gi_8, gi_9, gi_10, gi_11 };
	const struct row rows[] = {
		{ "hlt", EXIT_REASON_HLT, 1, N_NONE, 0, 0, 0 },
		{ "invd", EXIT_REASON_INVD, 2, N_NONE, 0, 0, 0 },
		{ "wbinvd", EXIT_REASON_WBINVD, 2, N_WBINVD, 0, 0, 0 },
		{ "monitor (ECX = 1: #GP natively)", EXIT_REASON_MONITOR, 3, N_MONITOR, 1, 0, 0 },
		{ "mwait (ECX = 2: #GP natively)", EXIT_REASON_MWAIT, 3, N_MONITOR, 2, 0, 0 },
		{ "pause", EXIT_REASON_PAUSE, 2, N_NONE, 0, 0, 0 },
		{ "xsetbv (ECX = 5: #GP natively)", EXIT_REASON_XSETBV, 3, N_XSAVE, 5, 0, 0 },
		{ "rdrand %r9", EXIT_REASON_RDRAND, 4, N_RDRAND, 0, II_DEST(9) | II_OSZ(O64), II_MASK_RAND },
		{ "rdrand %ax", EXIT_REASON_RDRAND, 4, N_RDRAND, 0, II_DEST(0) | II_OSZ(O16), II_MASK_RAND },
		{ "rdrand %ecx", EXIT_REASON_RDRAND, 3, N_RDRAND, 0, II_DEST(1) | II_OSZ(O32), II_MASK_RAND },
		{ "rdseed %rbx", EXIT_REASON_RDSEED, 4, N_RDSEED, 0, II_DEST(3) | II_OSZ(O64), II_MASK_RAND },
		{ "rdseed %r15w", EXIT_REASON_RDSEED, 5, N_RDSEED, 0, II_DEST(15) | II_OSZ(O16), II_MASK_RAND },
	};
	bool launched = false;
	struct vmx_outcome o;

	vmx_baseline(64);
	set_proc(PROC_HLT_EXITING | PROC_MONITOR_EXITING | PROC_MWAIT_EXITING | PROC_PAUSE_EXITING, true);
	set_proc2(PROC2_WBINVD_EXITING);
	set_proc2(PROC2_RDRAND_EXITING);
	set_proc2(PROC2_RDSEED_EXITING);
	if (has_xsave())
		vmwrite(VMCS_GUEST_CR4, vmread(VMCS_GUEST_CR4) | CR4_OSXSAVE);
	for (unsigned k = 0; k < ARRAY_SIZE(rows); k++) {
		const struct row *r = &rows[k];
		uint64_t rip = (uint64_t)labels[k];

		if (!row_possible(r->need)) {
			report_skip("%s: the model lacks the instruction or its exiting control", r->text);
			continue;
		}
		memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
		vmx_guest_regs[RAX] = (uint64_t)&gi_monitored;
		vmx_guest_regs[RCX] = r->rcx;
		vmwrite(VMCS_GUEST_RIP, rip);
		o = vmx_enter_guest(launched);
		launched = true;
		if (!expect_exit(o, r->reason, r->text))
			continue;
		report_eq(vmread(VMCS_GUEST_RIP), rip, "%s: GUEST_RIP is the instruction (27.3.3)", r->text);
		report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), r->len, "%s: instruction length %u (27.2.5)", r->text,
			  r->len);
		report_eq(o.qual, 0, "%s: exit qualification 0 (27.2.1)", r->text);
		if (r->mask)
			report_eq(vmread(VMCS_EXIT_INSTRUCTION_INFO) & r->mask, r->info,
				  "%s: instruction information (Table 27-12)", r->text);
		report_eq(vmx_guest_regs[RCX], r->rcx, "%s: RCX unchanged", r->text);
	}
}

/* ---- controls 0: the same instructions run natively ---- */

extern char gn[], gn_end[];
asm(".code64\n"
    "gn:	pause\n"
    "	wbinvd\n"
    "	mov $0x77, %ecx\n"
    "	rdrand %rbx\n"
    "	setc %cl\n"
    "gn_end:	vmcall\n"
    "	jmp gn_end\n");

static void test_native(void)
{
	bool rdrand = cpuid(1, 0).c & (1u << 30);
	struct vmx_outcome o;

	vmx_baseline(64);
	vmx_stub_idt();
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmwrite(VMCS_GUEST_RIP, (uint64_t)(rdrand ? gn : gn_end));
	o = vmx_enter_guest(false);
	if (!expect_exit(o, EXIT_REASON_VMCALL, "controls 0: PAUSE, WBINVD, RDRAND"))
		return;
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gn_end, "25.1.3: PAUSE, WBINVD, RDRAND did not exit with the controls 0");
	if (rdrand)
		report_eq(vmx_guest_regs[RCX] & 0xff, 1, "RDRAND ran natively: CF = 1");
	else
		report_skip("RDRAND: not on this model");
}

/* ---- MWAIT's qualification: monitoring armed (27.2.1) ---- */

extern char gmw[], gmw_1[];
asm(".code64\n"
    "gmw:	monitor\n"
    "gmw_1:	mwait\n"
    "	jmp gmw_1\n");

static void test_mwait_armed(void)
{
	struct vmx_outcome o;

	if (!(cpuid(1, 0).c & (1u << 3))) {
		report_skip("27.2.1 MWAIT qualification: no MONITOR/MWAIT on this model");
		return;
	}
	vmx_baseline(64);
	set_proc(PROC_MWAIT_EXITING, true);
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmx_guest_regs[RAX] = (uint64_t)&gi_monitored;
	vmwrite(VMCS_GUEST_RIP, (uint64_t)gmw);
	o = vmx_enter_guest(false);
	if (!expect_exit(o, EXIT_REASON_MWAIT, "MONITOR (native) then MWAIT"))
		return;
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gmw_1, "25.1.3: MONITOR with MONITOR exiting 0 ran natively");
	report_eq(o.qual, 1, "27.2.1: MWAIT after MONITOR: qualification 1 (monitoring armed)");
	o = vmx_enter_guest(true);      /* the same MWAIT again */
	if (expect_exit(o, EXIT_REASON_MWAIT, "MWAIT after a VM exit and entry"))
		report_eq(o.qual, 0, "27.5.6/26.3.3: the exit and the entry cleared the monitoring: qualification 0");
}

/* ---- PAUSE-loop exiting (25.1.3), time in TSC ticks ---- */

/* R8 = TSC read just before this iteration's PAUSE, R10 = the previous
 * iteration's, R11 = iterations. Every iteration has the same length P, so
 * the n-th PAUSE is (n - 1) * P after the first, which began the loop. */
extern char gple[], gple_p[];
asm(".code64\n"
    "gple:	xor %r11d, %r11d\n"
    "	xor %r8d, %r8d\n"
    "1:	mov %r8, %r10\n"
    "	rdtsc\n"
    "	shl $32, %rdx\n"
    "	or %rdx, %rax\n"
    "	mov %rax, %r8\n"
    "	inc %r11\n"
    "gple_p:	pause\n"
    "	jmp 1b\n");

/* PAUSEs farther apart than PLE_Gap each begin a new loop: no exit. */
extern char gpg[], gpg_end[];
asm(".code64\n"
    "gpg:	mov $40, %ecx\n"
    "1:	.rept 64\n"
    "	nop\n"
    "	.endr\n"
    "	pause\n"
    "	dec %ecx\n"
    "	jnz 1b\n"
    "gpg_end:	vmcall\n"
    "	jmp gpg_end\n");

#define PLE_GAP 1000u
#define PLE_WINDOW 5000u

static void test_pause_loop(void)
{
	struct vmx_outcome o;

	vmx_baseline(64);
	if (!set_proc2(PROC2_PAUSE_LOOP_EXITING)) {
		report_skip("25.1.3: PAUSE-loop exiting not allowed on this model");
		return;
	}
	vmwrite(VMCS_PLE_GAP, PLE_GAP);
	vmwrite(VMCS_PLE_WINDOW, PLE_WINDOW);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)gple);
	o = vmx_enter_guest(false);
	if (!expect_exit(o, EXIT_REASON_PAUSE, "PAUSE-loop exiting"))
		return;
	uint64_t n = vmx_guest_regs[11], p = vmx_guest_regs[8] - vmx_guest_regs[10];
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gple_p, "PAUSE-loop exit: GUEST_RIP is the PAUSE");
	report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), 2, "PAUSE-loop exit: instruction length 2");
	report(n >= 3 && p > 0 && p <= PLE_GAP, "the loop's PAUSEs are %lu ticks apart (<= PLE_Gap %u), %lu of them", p,
	       PLE_GAP, n);
	report((n - 1) * p > PLE_WINDOW && (n - 2) * p <= PLE_WINDOW,
	       "25.1.3: exit at the first PAUSE more than PLE_Window (%u) after the loop's first: %lu * %lu > %u >= %lu * %lu",
	       PLE_WINDOW, n - 1, p, PLE_WINDOW, n - 2, p);
	report_info("PAUSE loop: %lu iterations of %lu ticks", n, p);
	/* Spread-out PAUSEs never exit; neither do they after re-entry. */
	vmwrite(VMCS_PLE_GAP, 16);
	vmwrite(VMCS_PLE_WINDOW, 100);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)gpg);
	o = vmx_enter_guest(true);
	if (expect_exit(o, EXIT_REASON_VMCALL, "PAUSEs farther apart than PLE_Gap"))
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gpg_end,
			  "25.1.3: 40 PAUSEs > PLE_Gap apart over > PLE_Window ticks: each begins a loop, no exit");
}

/* ---- XSAVES/XRSTORS (25.3, 25.1.3) ---- */

static uint8_t xs_area[4096] __attribute__((aligned(64)));
extern char gxs[], gxs_1[], gxs_end[];
asm(".code64\n"
    "gxs:	xsaves (%rdi)\n"
    "gxs_1:	xrstors (%rdi)\n"
    "gxs_end:	vmcall\n"
    "	jmp gxs_end\n");

static void test_xsaves(void)
{
	struct vmx_outcome o;

	if (!has_xsave() || !(cpuid(0xd, 1).a & (1u << 3))) {
		report_skip("25.3: XSAVES/XRSTORS not on this model (#UD in any mode)");
		return;
	}
	vmx_baseline(64);
	vmx_stub_idt();
	vmwrite(VMCS_GUEST_CR4, vmread(VMCS_GUEST_CR4) | CR4_OSXSAVE);
	memset(xs_area, 0, sizeof(xs_area));
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmx_guest_regs[RAX] = 1;        /* RFBM: x87 */
	vmx_guest_regs[7] = (uint64_t)xs_area;
	vmwrite(VMCS_GUEST_RIP, (uint64_t)gxs);
	expect_guest_ud(vmx_enter_guest(false), (uint64_t)gxs, "25.3: XSAVES with \"enable XSAVES/XRSTORS\" 0");
	vmwrite(VMCS_GUEST_RIP, (uint64_t)gxs_1);
	expect_guest_ud(vmx_enter_guest(true), (uint64_t)gxs_1, "25.3: XRSTORS with \"enable XSAVES/XRSTORS\" 0");
	if (!set_proc2(PROC2_XSAVES)) {
		report_skip("25.1.3: \"enable XSAVES/XRSTORS\" not allowed on this model");
		return;
	}
	/* IA32_XSS is 0 (no supervisor state component is implemented), so
	 * EDX:EAX & IA32_XSS & bitmap is 0 whatever the bitmap: no exit. */
	vmwrite(VMCS_XSS_EXIT_BITMAP, ~0ull);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)gxs);
	vmx_guest_regs[RAX] = 1;
	o = vmx_enter_guest(true);
	if (expect_exit(o, EXIT_REASON_VMCALL, "XSAVES/XRSTORS with the control 1"))
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gxs_end,
			  "25.1.3: EDX:EAX & IA32_XSS (0) & XSS-exiting bitmap = 0: XSAVES and XRSTORS ran natively");
	report_eq(((uint64_t *)xs_area)[65] >> 63, 1, "XSAVES wrote the compacted header (XCOMP_BV[63] = 1)");
}

/* ---- instructions no model has: #UD, never an exit ---- */

extern char gud_getsec[], gud_rsm[], gud_encls[], gud_umwait[], gud_tpause[];
asm(".code64\n"
    "gud_getsec:	.byte 0x0f, 0x37\n"            /* GETSEC: CR4.SMXE cannot be 1 (no SMX) */
    "	vmcall\n"
    "gud_rsm:	.byte 0x0f, 0xaa\n"                /* RSM outside SMM */
    "	vmcall\n"
    "gud_encls:	.byte 0x0f, 0x01, 0xcf\n"        /* ENCLS: no SGX */
    "	vmcall\n"
    "gud_umwait:	.byte 0xf2, 0x0f, 0xae, 0xf1\n"  /* UMWAIT %ecx: no WAITPKG */
    "	vmcall\n"
    "gud_tpause:	.byte 0x66, 0x0f, 0xae, 0xf1\n"  /* TPAUSE %ecx */
    "	vmcall\n");

static void test_absent(void)
{
	static const struct { const char *text; char *rip; } c[] = {
		{ "GETSEC (exit 11 needs CR4.SMXE; no model has SMX)", gud_getsec },
		{ "RSM (exit 17 only in SMM; vtxsim has no SMM)", gud_rsm },
		{ "ENCLS (exit 60 needs SGX; no model has it)", gud_encls },
		{ "UMWAIT (no model has WAITPKG)", gud_umwait },
		{ "TPAUSE (no model has WAITPKG)", gud_tpause },
	};

	vmx_baseline(64);
	vmx_stub_idt();
	for (unsigned k = 0; k < ARRAY_SIZE(c); k++) {
		vmwrite(VMCS_GUEST_RIP, (uint64_t)c[k].rip);
		expect_guest_ud(vmx_enter_guest(k > 0), (uint64_t)c[k].rip, c[k].text);
	}
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start()) {
		test_rows();
		test_native();
		test_mwait_armed();
		test_pause_loop();
		test_xsaves();
		test_absent();
	}
	report_summary();
}
