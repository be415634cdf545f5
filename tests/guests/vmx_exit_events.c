/* Events in VMX non-root operation, seen from a guest hypervisor (SDM vol.
 * 3C, the edition whose VM-exit chapter is 27): exceptions and the
 * exception bitmap with the #PF error-code mask/match (25.2), the VM-exit
 * interruption information and qualification (27.2.1, 27.2.2), state an
 * intercepted exception leaves alone (27.1: CR2, DR6), NMI exiting and
 * virtual-NMI blocking across IRET (25.3) with bit 12, faults while
 * delivering an injected event (26.5.1.2: IDT-vectoring information
 * 27.2.3, the double-fault rules, the triple fault, exit 2), and task
 * switches (25.4.2, exit 9, Table 27-2). Every expected value is the one
 * the SDM defines.
 */
#include "apic.h"
#include "guest.h"
#include "vmx_vmcs.h"

#define GUEST_SEL_CODE KERNEL_CS
#define SEL_TSS_B 0x30                  /* available 32-bit TSS in the guest GDT */
#define SEL_TASK_GATE 0x38              /* task gate -> SEL_TSS_B */
#define SEL_TSS_C 0x40                  /* busy 32-bit TSS: the IRET link */
#define UNMAPPED 0x100000123ull         /* above the 4 GiB the boot tables map */
#define PFEC_W 2u
#define DR6_BS (1ul << 14)
#define DR6_INIT 0xffff0ff0ul
#define CR2_SENTINEL 0xdead000ul
#define RFLAGS_RF_BIT (1ul << 16)
#ifndef RFLAGS_NT
#define RFLAGS_NT (1ul << 14)
#endif
#define II(type, vec) (INTR_INFO_VALID | (uint32_t)(type) << INTR_INFO_TYPE_SHIFT | (vec))

/* ---- guest code ---- */

extern char g_idt_stubs[], g_landing[], g_ud[], g_gp[], g_pf_read[], g_pf_write[], g_pf_done[], g_bp[], g_db[],
	g_db_after[], g_icebp[], g_de[], g_nmi[], g_nmi_vmcall[], g_iret[], g_iret_fault[];
extern char g_tjmp[], g_tcall[], g_tiret_iret[], g_tint[], g_tud[];
extern char g_vnw_main[], g_vnw_main_vmcall[], g_vnw_handler[], g_vnw_handler_vmcall[], g_vnw_iret[];
extern char g_into[], g_into_after[];

asm(".text\n"
    ".code64\n"
    /* Guest IDT: vector v goes to stub v, which VMCALLs with RAX = v. */
    "	.balign 16\n"
    "g_idt_stubs:\n"
    "	.set v, 0\n"
    "	.rept 256\n"
    "	.balign 16\n"
    "	mov $v, %eax\n"
    "	vmcall\n"
    "	.set v, v + 1\n"
    "	.endr\n"
    "g_landing:\n"
    "	mov $0xffff, %eax\n"
    "	vmcall\n"
    "	jmp g_landing\n"
    "g_ud:	ud2\n"
    "	vmcall\n"
    "g_gp:	mov $0x1230, %ax\n"
    "	mov %ax, %ds\n"
    "	vmcall\n"
    "g_pf_read:\n"
    "	mov (%rbx), %rax\n"
    "	vmcall\n"
    "g_pf_write:\n"
    "	mov %rax, (%rbx)\n"
    "g_pf_done:\n"
    "	vmcall\n"
    "g_bp:	int3\n"
    "	vmcall\n"
    "g_db:	pushfq\n"
    "	orl $0x100, (%rsp)\n"
    "	popfq\n"
    "	nop\n"
    "g_db_after:\n"
    "	vmcall\n"
    "g_icebp:\n"
    "	.byte 0xf1\n"
    "	vmcall\n"
    "g_de:	xor %ecx, %ecx\n"
    "	xor %edx, %edx\n"
    "	div %ecx\n"
    "	vmcall\n"
    /* A self-NMI through the local APIC ICR (fixed shorthand "self",
     * delivery mode NMI). */
    "g_nmi:	mov $0xfee00300, %edx\n"
    "	movl $0x44400, (%rdx)\n"
    "	nop\n"
    "	nop\n"
    "g_nmi_vmcall:\n"
    "	vmcall\n"
    "g_iret:\n"
    "	iretq\n"
    /* IRET to CS = 1230H (past the GDT limit): #GP(1230H). */
    "g_iret_fault:\n"
    "	mov %rsp, %rax\n"
    "	push $0x10\n"
    "	push %rax\n"
    "	pushfq\n"
    "	push $0x1230\n"
    "	lea 1f(%rip), %rcx\n"
    "	push %rcx\n"
    "	iretq\n"
    "1:	vmcall\n"
    /* Virtual NMI and NMI window: the NMI injected at g_vnw_main runs the
     * handler (RBX += 1, VMCALL, IRET), whose IRET returns to g_vnw_main. */
    "g_vnw_main:\n"
    "	mov $0xabc, %eax\n"
    "g_vnw_main_vmcall:\n"
    "	vmcall\n"
    "g_vnw_handler:\n"
    "	inc %rbx\n"
    "g_vnw_handler_vmcall:\n"
    "	vmcall\n"
    "g_vnw_iret:\n"
    "	iretq\n"
    /* 32-bit guests: task switches. */
    ".code32\n"
    "g_into:	into\n"
    "g_into_after:\n"
    "	vmcall\n"
    "g_tjmp: ljmp $0x30, $0\n"
    "	vmcall\n"
    "g_tcall: lcall $0x38, $0\n"
    "	vmcall\n"
    "g_tiret_iret:\n"
    "	iret\n"
    "	vmcall\n"
    "g_tint: int $0x80\n"
    "	vmcall\n"
    "g_tud:	ud2\n"
    "	vmcall\n"
    ".code64\n");

#define STUB_VMCALL_OFF 5

static uint64_t guest_idt[512] __attribute__((aligned(4096)));
static uint64_t guest_idt32[256] __attribute__((aligned(4096)));
static uint64_t guest_gdt[16] __attribute__((aligned(16)));
static uint8_t tss_a[0x68] __attribute__((aligned(16)));       /* the 32-bit guest's current TSS */
static uint8_t tss_b[0x68] __attribute__((aligned(16)));
static uint8_t tss_c[0x68] __attribute__((aligned(16)));

static bool expect_exit(struct vmx_outcome o, uint32_t reason, const char *what)
{
	if (o.res != VMX_OK) {
		report(false, "%s: VM entry failed (VMfail%s, error %u)", what,
		       o.res == VMX_FAIL_VALID ? "Valid" : "Invalid", o.error);
		return false;
	}
	if (o.exit_reason != reason) {
		report(false, "%s: exit reason %#x, expected %#x (qualification %#lx, interruption info %#lx)", what,
		       o.exit_reason, reason, o.qual, vmread(VMCS_EXIT_INTR_INFO));
		return false;
	}
	return true;
}

static void build_guest_idt(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)g_idt_stubs + 16 * v;
		guest_idt[2 * v] = (a & 0xffff) | (uint64_t)GUEST_SEL_CODE << 16 | 0x8eull << 40 |
				   ((a >> 16) & 0xffff) << 48;
		guest_idt[2 * v + 1] = a >> 32;
	}
}

/* A 64-bit guest with the stub IDT at rip, a stack in a scratch page. */
static void guest64(const char *rip, uint32_t bitmap)
{
	vmx_baseline(64);
	vmwrite(VMCS_GUEST_IDTR_BASE, (uint64_t)guest_idt);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, sizeof(guest_idt) - 1);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)rip);
	vmwrite(VMCS_GUEST_RSP, vmx_scratch_page(2) + 0x800);
	vmwrite(VMCS_EXCEPTION_BITMAP, bitmap);
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
}

/* The exit information of an exception exit (27.2.1, 27.2.2). */
static void check_exc(const char *what, uint32_t info, uint32_t error, uint64_t qual, const char *rip)
{
	report_eq(vmread(VMCS_EXIT_INTR_INFO), info, "%s: 27.2.2 interruption information", what);
	if (info & INTR_INFO_HAS_ERROR)
		report_eq(vmread(VMCS_EXIT_INTR_ERROR_CODE), error, "%s: 27.2.2 interruption error code", what);
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), qual, "%s: 27.2.1 exit qualification", what);
	report_eq(vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID, 0, "%s: 27.2.3 not during event delivery", what);
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)rip, "%s: 27.3.3 RIP saved", what);
}

/* ---- 25.2 the exception bitmap ---- */

static void test_hw_exceptions(void)
{
	struct vmx_outcome o;

	build_guest_idt();
	guest64(g_ud, 1u << VEC_UD);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_EXCEPTION_NMI, "#UD intercepted"))
		check_exc("#UD", II(INTR_TYPE_HW_EXCEPTION, VEC_UD), 0, 0, g_ud);
	report(vmread(VMCS_GUEST_RFLAGS) & RFLAGS_RF_BIT, "#UD: 27.3.3 RF = 1 saved (a fault's frame image)");

	guest64(g_ud, ~(1u << VEC_UD));
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_VMCALL, "#UD not intercepted"))
		report_eq(vmx_guest_regs[0], VEC_UD, "25.2: #UD with its bitmap bit 0 goes to the guest IDT");

	guest64(g_gp, 1u << VEC_GP);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_EXCEPTION_NMI, "#GP intercepted"))
		check_exc("#GP(1230H)", II(INTR_TYPE_HW_EXCEPTION, VEC_GP) | INTR_INFO_HAS_ERROR, 0x1230, 0, g_gp + 4);

	guest64(g_de, 1u << VEC_DE);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_EXCEPTION_NMI, "#DE intercepted"))
		check_exc("#DE", II(INTR_TYPE_HW_EXCEPTION, VEC_DE), 0, 0, g_de + 4);
}

struct pf_case {
	const char *what;
	const char *rip;
	uint32_t bitmap14, mask, match;
	bool exits;
	uint32_t pfec;
};

/* 25.2: PFEC & MASK = MATCH follows bit 14, inequality reverses it. */
static void run_pf(const struct pf_case *k)
{
	struct vmx_outcome o;

	guest64(k->rip, k->bitmap14 << VEC_PF);
	vmwrite(VMCS_PF_ERROR_CODE_MASK, k->mask);
	vmwrite(VMCS_PF_ERROR_CODE_MATCH, k->match);
	vmx_guest_regs[3] = UNMAPPED;
	write_cr2(CR2_SENTINEL);
	o = vmx_enter_guest(false);
	if (!k->exits) {
		if (expect_exit(o, EXIT_REASON_VMCALL, k->what)) {
			report_eq(vmx_guest_regs[0], VEC_PF, "%s: delivered to the guest's #PF handler", k->what);
			report_eq(read_cr2(), UNMAPPED, "%s: CR2 written by the delivered #PF", k->what);
		}
		return;
	}
	if (!expect_exit(o, EXIT_REASON_EXCEPTION_NMI, k->what))
		return;
	check_exc(k->what, II(INTR_TYPE_HW_EXCEPTION, VEC_PF) | INTR_INFO_HAS_ERROR, k->pfec, UNMAPPED, k->rip);
	report_eq(read_cr2(), CR2_SENTINEL, "%s: 27.1 CR2 not written by the intercepted #PF", k->what);
}

static void test_page_faults(void)
{
	static const struct pf_case cases[] = {
		{ "#PF read, bit 14 = 1, mask = match = 0", g_pf_read, 1, 0, 0, true, 0 },
		{ "#PF write, bit 14 = 1, mask = match = W (equal: exit)", g_pf_write, 1, PFEC_W, PFEC_W, true, PFEC_W },
		{ "#PF read, bit 14 = 1, mask = match = W (unequal: no exit)", g_pf_read, 1, PFEC_W, PFEC_W, false, 0 },
		{ "#PF read, bit 14 = 0, mask = match = W (unequal: exit)", g_pf_read, 0, PFEC_W, PFEC_W, true, 0 },
		{ "#PF write, bit 14 = 0, mask = match = W (equal: no exit)", g_pf_write, 0, PFEC_W, PFEC_W, false, 0 },
	};
	build_guest_idt();
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		run_pf(&cases[i]);
}

/* INT3 is a software exception, INT1 a privileged software exception:
 * exit instruction length and the RIP of the instruction (27.2.5, 27.3.3);
 * a single-step #DB reports BS in the qualification, not in DR6 (27.1). */
static void test_debug_exceptions(void)
{
	struct vmx_outcome o;
	uint64_t dr6;

	build_guest_idt();
	guest64(g_bp, 1u << VEC_BP);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_EXCEPTION_NMI, "INT3 intercepted")) {
		check_exc("INT3", II(INTR_TYPE_SW_EXCEPTION, VEC_BP), 0, 0, g_bp);
		report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), 1, "INT3: 27.2.5 exit instruction length 1");
	}
	guest64(g_icebp, 1u << VEC_DB);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_EXCEPTION_NMI, "INT1 intercepted")) {
		check_exc("INT1", II(INTR_TYPE_PRIV_SW_EXCEPTION, VEC_DB), 0, 0, g_icebp);
		report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), 1, "INT1: 27.2.5 exit instruction length 1");
	}
	guest64(g_db, 1u << VEC_DB);
	asm volatile("mov %0, %%dr6" : : "r"(DR6_INIT));
	o = vmx_enter_guest(false);
	asm volatile("mov %%dr6, %0" : "=r"(dr6));
	if (expect_exit(o, EXIT_REASON_EXCEPTION_NMI, "single-step #DB intercepted")) {
		check_exc("single-step #DB", II(INTR_TYPE_HW_EXCEPTION, VEC_DB), 0, DR6_BS, g_db_after);
		report_eq(dr6, DR6_INIT, "single-step #DB: 27.1 DR6 not written");
	}
	guest64(g_db, 0);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_VMCALL, "single-step #DB not intercepted"))
		report_eq(vmx_guest_regs[0], VEC_DB, "25.2: the #DB goes to the guest IDT");
}

/* ---- NMIs (25.2, 25.3) ---- */

/* An IRET in the host: it ends the blocking by NMI an NMI exit leaves. */
static void host_iret(void)
{
	asm volatile("mov %%rsp, %%rax\n"
		     "push $0x10\n"
		     "push %%rax\n"
		     "pushfq\n"
		     "push $0x08\n"
		     "lea 1f(%%rip), %%rax\n"
		     "push %%rax\n"
		     "iretq\n"
		     "1:\n" ::: "rax", "memory");
}

static void set_pin(uint32_t bits)
{
	vmwrite(VMCS_PIN_CONTROLS, vmread(VMCS_PIN_CONTROLS) | bits);
}

static void test_nmi_exiting(void)
{
	struct vmx_outcome o;
	uint64_t rip;

	if (!(vmx_allowed1(VMX_CTL_PIN) & PIN_NMI_EXITING)) {
		report_skip("25.2 NMI exiting not allowed on this model");
		return;
	}
	build_guest_idt();
	apic_sw_enable(0xff);
	guest64(g_nmi, 0);
	set_pin(PIN_NMI_EXITING);
	o = vmx_enter_guest(false);
	host_iret();
	if (!expect_exit(o, EXIT_REASON_EXCEPTION_NMI, "self-NMI with NMI exiting"))
		return;
	report_eq(vmread(VMCS_EXIT_INTR_INFO) & ~INTR_INFO_NMI_UNBLOCKED, II(INTR_TYPE_NMI, VEC_NMI),
		  "NMI: 27.2.2 interruption information type 2 vector 2");
	report_eq(vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID, 0, "NMI: 27.2.3 not during event delivery");
	rip = vmread(VMCS_GUEST_RIP);
	report(rip > (uint64_t)g_nmi && rip <= (uint64_t)g_nmi_vmcall,
	       "NMI: 27.3.3 RIP saved at an instruction boundary after the ICR write (%#lx)", rip);
	report_eq(vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTR_BLOCK_NMI, 0,
		  "NMI: 27.1 the exiting NMI is blocked only after the exit (bit 3 saved 0)");
}

/* Virtual NMIs: an injected NMI sets virtual-NMI blocking, IRET clears it
 * (25.3, 26.5.1.1, 27.3.4 bit 3). */
static void test_virtual_nmis(void)
{
	struct vmx_outcome o;

	if (!(vmx_allowed1(VMX_CTL_PIN) & PIN_VIRTUAL_NMIS)) {
		report_skip("25.3 virtual NMIs not allowed on this model");
		return;
	}
	build_guest_idt();
	guest64(g_landing, 0);
	set_pin(PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	vmwrite(VMCS_ENTRY_INTR_INFO, II(INTR_TYPE_NMI, VEC_NMI));
	o = vmx_enter_guest(false);
	if (!expect_exit(o, EXIT_REASON_VMCALL, "injected virtual NMI"))
		return;
	report_eq(vmx_guest_regs[0], VEC_NMI, "virtual NMI: the guest's NMI handler ran");
	report_eq(vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTR_BLOCK_NMI, INTR_BLOCK_NMI,
		  "virtual NMI: 26.5.1.1 virtual-NMI blocking saved as interruptibility bit 3");
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_iret);
	o = vmx_enter_guest(true);
	if (!expect_exit(o, EXIT_REASON_VMCALL, "IRET from the virtual NMI"))
		return;
	report_eq(vmx_guest_regs[0], 0xffff, "IRET returned to the interrupted code");
	report_eq(vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTR_BLOCK_NMI, 0,
		  "25.3: IRET removed virtual-NMI blocking (bit 3 saved 0)");
}

/* Virtual NMIs with NMI-window exiting (25.2, 25.3, 26.6.6): the injected
 * NMI sets virtual-NMI blocking, so the window stays closed while the
 * guest's handler runs; its IRET removes the blocking and the NMI-window
 * exit comes before the next instruction, the IRET's target. */
static void test_virtual_nmi_window(void)
{
	const char *w = "NMI window after a virtual NMI";
	struct vmx_outcome o;
	uint64_t save0, save1, h = (uint64_t)g_vnw_handler;

	if (!(vmx_allowed1(VMX_CTL_PIN) & PIN_VIRTUAL_NMIS) || !(vmx_allowed1(VMX_CTL_PROC) & PROC_NMI_WINDOW)) {
		report_skip("25.2 virtual NMIs or NMI-window exiting not allowed on this model");
		return;
	}
	build_guest_idt();
	save0 = guest_idt[2 * VEC_NMI];
	save1 = guest_idt[2 * VEC_NMI + 1];
	guest_idt[2 * VEC_NMI] = (h & 0xffff) | (uint64_t)GUEST_SEL_CODE << 16 | 0x8eull << 40 | ((h >> 16) & 0xffff) << 48;
	guest_idt[2 * VEC_NMI + 1] = h >> 32;
	guest64(g_vnw_main, 0);
	set_pin(PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) | PROC_NMI_WINDOW);
	vmwrite(VMCS_ENTRY_INTR_INFO, II(INTR_TYPE_NMI, VEC_NMI));
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_VMCALL, "virtual NMI: no NMI-window exit before the handler's IRET")) {
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_vnw_handler_vmcall, "%s: the guest's NMI handler ran", w);
		report_eq(vmx_guest_regs[3], 1, "%s: handler's first instruction executed once", w);
		report_eq(vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTR_BLOCK_NMI, INTR_BLOCK_NMI,
			  "%s: 26.5.1.1 virtual-NMI blocking in the handler (bit 3 saved 1)", w);
		vmx_skip_insn();
		o = vmx_enter_guest(true);
		if (expect_exit(o, EXIT_REASON_NMI_WINDOW, "virtual NMI: NMI-window exit right after the IRET")) {
			report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_vnw_main, "%s: 27.3.3 RIP = the IRET's target", w);
			report_eq(vmread(VMCS_EXIT_QUALIFICATION), 0, "%s: 27.2.1 exit qualification 0", w);
			report_eq(vmread(VMCS_EXIT_INTR_INFO) & INTR_INFO_VALID, 0,
				  "%s: 27.2.2 interruption information not valid", w);
			report_eq(vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID, 0,
				  "%s: 27.2.3 not during event delivery", w);
			report_eq(vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTR_BLOCK_NMI, 0,
				  "%s: 25.3 IRET removed virtual-NMI blocking (bit 3 saved 0)", w);
			report_eq(vmx_guest_regs[0], 0, "%s: the interrupted code has not run yet (RAX 0)", w);
			vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) & ~PROC_NMI_WINDOW);
			o = vmx_enter_guest(true);
			if (expect_exit(o, EXIT_REASON_VMCALL, "virtual NMI: the interrupted code runs on"))
				report(vmx_guest_regs[0] == 0xabc && vmread(VMCS_GUEST_RIP) == (uint64_t)g_vnw_main_vmcall,
				       "%s: the guest continued at the IRET's target", w);
		}
	}
	guest_idt[2 * VEC_NMI] = save0;
	guest_idt[2 * VEC_NMI + 1] = save1;
}

/* 27.2.2 bit 12: a fault on an IRET that removed (virtual-)NMI blocking. */
static void run_iret_fault(const char *what, uint32_t pin, uint32_t block, uint32_t bit12)
{
	struct vmx_outcome o;

	guest64(g_iret_fault, 1u << VEC_GP);
	set_pin(pin);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, block);
	o = vmx_enter_guest(false);
	if (!expect_exit(o, EXIT_REASON_EXCEPTION_NMI, what))
		return;
	report_eq(vmread(VMCS_EXIT_INTR_INFO), II(INTR_TYPE_HW_EXCEPTION, VEC_GP) | INTR_INFO_HAS_ERROR | bit12,
		  "%s: 27.2.2 #GP with bit 12 = %u", what, bit12 ? 1 : 0);
	report_eq(vmread(VMCS_EXIT_INTR_ERROR_CODE), 0x1230, "%s: #GP(1230H)", what);
	report_eq(vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTR_BLOCK_NMI, 0,
		  "%s: 27.1 the blocking is cleared before the exit", what);
}

static void test_iret_bit12(void)
{
	run_iret_fault("IRET fault, blocking by NMI", 0, INTR_BLOCK_NMI, INTR_INFO_NMI_UNBLOCKED);
	run_iret_fault("IRET fault, no blocking by NMI", 0, 0, 0);
	if (vmx_allowed1(VMX_CTL_PIN) & PIN_VIRTUAL_NMIS)
		run_iret_fault("IRET fault, virtual-NMI blocking", PIN_NMI_EXITING | PIN_VIRTUAL_NMIS, INTR_BLOCK_NMI,
			       INTR_INFO_NMI_UNBLOCKED);
	else
		report_skip("27.2.2 bit 12 with virtual NMIs: not allowed on this model");
}

/* ---- 26.5.1.2 faults while delivering an injected event ---- */

struct nested_case {
	const char *what;
	uint32_t inject;        /* VM-entry interruption information */
	uint32_t inject_error, insn_len;
	uint32_t bitmap;
	uint32_t reason;
	uint32_t exit_info, idt_info;
};

static void run_nested(const struct nested_case *k)
{
	struct vmx_outcome o;
	uint64_t rsp = UNMAPPED & ~0xfull;

	guest64(g_landing, k->bitmap);
	vmwrite(VMCS_GUEST_RSP, rsp);
	vmwrite(VMCS_GUEST_RFLAGS, 2 | RFLAGS_IF);        /* 26.2.1.3: an external interrupt needs IF = 1 */
	vmwrite(VMCS_ENTRY_INTR_INFO, k->inject);
	vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, k->inject_error);
	vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, k->insn_len);
	o = vmx_enter_guest(false);
	if (!expect_exit(o, k->reason, k->what))
		return;
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_landing, "%s: 27.3.3 RIP saved = the entry's RIP", k->what);
	report_eq(vmread(VMCS_IDT_VECTORING_INFO) & ~INTR_INFO_NMI_UNBLOCKED, k->idt_info,
		  "%s: 27.2.3 IDT-vectoring information", k->what);
	if (k->idt_info & INTR_INFO_HAS_ERROR)
		report_eq(vmread(VMCS_IDT_VECTORING_ERROR_CODE), k->inject_error,
			  "%s: 27.2.3 IDT-vectoring error code", k->what);
	if (k->reason != EXIT_REASON_EXCEPTION_NMI)
		return;
	report_eq(vmread(VMCS_EXIT_INTR_INFO), k->exit_info, "%s: 27.2.2 interruption information", k->what);
	if ((k->exit_info & INTR_INFO_VECTOR_MASK) == VEC_PF) {
		report_eq(vmread(VMCS_EXIT_INTR_ERROR_CODE), PFEC_W, "%s: #PF error code: supervisor write", k->what);
		report_eq(vmread(VMCS_EXIT_QUALIFICATION), rsp - 8, "%s: #PF qualification = the first push", k->what);
	}
	if ((k->idt_info & INTR_INFO_TYPE_MASK) == INTR_TYPE_SW_INTR << INTR_INFO_TYPE_SHIFT)
		report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), k->insn_len,
			  "%s: 27.2.5 exit instruction length = the VM-entry instruction length", k->what);
}

static void test_nested(void)
{
	const uint32_t pf = II(INTR_TYPE_HW_EXCEPTION, VEC_PF) | INTR_INFO_HAS_ERROR;
	const uint32_t df = II(INTR_TYPE_HW_EXCEPTION, VEC_DF) | INTR_INFO_HAS_ERROR;
	const uint32_t gp = II(INTR_TYPE_HW_EXCEPTION, VEC_GP) | INTR_INFO_HAS_ERROR;
	const struct nested_case cases[] = {
		{ "#PF delivering an injected interrupt 40H", II(INTR_TYPE_EXT_INTR, 0x40), 0, 0, 1u << VEC_PF,
		  EXIT_REASON_EXCEPTION_NMI, pf, II(INTR_TYPE_EXT_INTR, 0x40) },
		{ "#PF delivering an injected INT 41H", II(INTR_TYPE_SW_INTR, 0x41), 0, 2, 1u << VEC_PF,
		  EXIT_REASON_EXCEPTION_NMI, pf, II(INTR_TYPE_SW_INTR, 0x41) },
		{ "#PF delivering an injected #GP(5A0H)", gp, 0x5a0, 0, 1u << VEC_PF, EXIT_REASON_EXCEPTION_NMI, pf,
		  gp },
		{ "#PF delivering an injected #PF: #DF (Table 6-5)", pf, 0x2, 0, (1u << VEC_PF) | (1u << VEC_DF),
		  EXIT_REASON_EXCEPTION_NMI, df, 0 },
		{ "#PF delivering #DF delivering an injected #PF: triple fault", pf, 0x2, 0, 0,
		  EXIT_REASON_TRIPLE_FAULT, 0, 0 },
		{ "#PF (intercepted) delivering the #DF of an injected #PF", pf, 0x2, 0, 1u << VEC_DF,
		  EXIT_REASON_EXCEPTION_NMI, df, 0 },
	};
	/* The last case: #PF during #PF is #DF, which the bitmap intercepts
	 * before any delivery: not during event delivery (27.2.3). */
	build_guest_idt();
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		run_nested(&cases[i]);
}

/* ---- INTO in a 32-bit guest (25.2, 27.2.2, 27.2.5) ---- */

static void test_into(void)
{
	const char *w = "INTO with OF = 1 intercepted";
	struct vmx_outcome o;

	vmx_baseline(32);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_into);
	vmwrite(VMCS_GUEST_RFLAGS, 2 | RFLAGS_OF);
	vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_OF);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_EXCEPTION_NMI, w)) {
		/* Type 6 software exception (INT3, INTO), vector 4, no error code. */
		check_exc("INTO", II(INTR_TYPE_SW_EXCEPTION, VEC_OF), 0, 0, g_into);
		report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), 1, "INTO: 27.2.5 exit instruction length 1");
	}
	vmx_baseline(32);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_into);
	vmwrite(VMCS_GUEST_RFLAGS, 2);
	vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_OF);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_VMCALL, "INTO with OF = 0: no exception, no exit"))
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_into_after, "INTO with OF = 0: the guest ran on");
}

/* ---- 25.4.2 task switches (32-bit guest) ---- */

static uint64_t tss32_desc(void *tss, unsigned type)
{
	uint64_t b = (uint64_t)tss;
	return 0x67 | (b & 0xffffff) << 16 | (uint64_t)(0x80 | type) << 40 | (b >> 24) << 56;
}

static void guest32_tasks(const char *rip)
{
	uint64_t gate = (uint64_t)SEL_TSS_B << 16 | 0x85ull << 40;
	vmx_baseline(32);
	memcpy(guest_gdt, (void *)vmread(VMCS_GUEST_GDTR_BASE), 4 * 8);
	guest_gdt[SEL_TSS_B / 8] = tss32_desc(tss_b, 9);
	guest_gdt[SEL_TASK_GATE / 8] = gate;
	guest_gdt[SEL_TSS_C / 8] = tss32_desc(tss_c, 11);
	memset(tss_a, 0, sizeof(tss_a));
	tss_a[0] = SEL_TSS_C;                   /* previous-task link */
	vmwrite(VMCS_GUEST_GDTR_BASE, (uint64_t)guest_gdt);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, sizeof(guest_gdt) - 1);
	vmwrite(VMCS_GUEST_TR_BASE, (uint64_t)tss_a);
	vmwrite(VMCS_GUEST_TR_LIMIT, 0x67);
	memset(guest_idt32, 0, sizeof(guest_idt32));
	guest_idt32[0x80] = gate;
	guest_idt32[VEC_UD] = gate;
	vmwrite(VMCS_GUEST_IDTR_BASE, (uint64_t)guest_idt32);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, sizeof(guest_idt32) - 1);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)rip);
	vmwrite(VMCS_GUEST_RSP, vmx_scratch_page(3) + 0x800);
}

struct task_case {
	const char *what;
	const char *rip;
	uint16_t sel;
	uint32_t source;
	uint32_t len;           /* 0: no instruction (an exception through a task gate) */
	uint32_t idt_info;
	uint32_t rflags;        /* guest RFLAGS */
};

static void run_task(const struct task_case *k)
{
	struct vmx_outcome o;

	guest32_tasks(k->rip);
	vmwrite(VMCS_GUEST_RFLAGS, k->rflags);
	o = vmx_enter_guest(false);
	if (!expect_exit(o, EXIT_REASON_TASK_SWITCH, k->what))
		return;
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), (uint64_t)k->sel | (uint64_t)k->source << 30,
		  "%s: Table 27-2 qualification (selector %#x, source %u)", k->what, k->sel, k->source);
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)k->rip, "%s: 27.3.3 RIP of the instruction", k->what);
	if (k->len)
		report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), k->len, "%s: 27.2.5 exit instruction length", k->what);
	report_eq(vmread(VMCS_IDT_VECTORING_INFO) & ~INTR_INFO_NMI_UNBLOCKED, k->idt_info,
		  "%s: 27.2.3 IDT-vectoring information", k->what);
	report_eq(vmread(VMCS_GUEST_TR_SELECTOR), 0x20, "%s: 27.1 TR not changed", k->what);
	report_eq((guest_gdt[SEL_TSS_B / 8] >> 40) & 0xf, 9, "%s: 27.1 new TSS descriptor not marked busy", k->what);
	report_eq(*(uint32_t *)(tss_a + 0x20), 0, "%s: 27.1 old TSS not written (EIP field)", k->what);
}

static void test_task_switches(void)
{
	const struct task_case cases[] = {
		{ "JMP to a TSS", g_tjmp, SEL_TSS_B, 2, 7, 0, 2 },
		{ "CALL through a task gate", g_tcall, SEL_TSS_B, 0, 7, 0, 2 },
		{ "IRET with NT = 1", g_tiret_iret, SEL_TSS_C, 1, 1, 0, 2 | RFLAGS_NT },
		{ "INT 80H through a task gate", g_tint, SEL_TSS_B, 3, 2, II(INTR_TYPE_SW_INTR, 0x80), 2 },
		{ "#UD through a task gate", g_tud, SEL_TSS_B, 3, 0, II(INTR_TYPE_HW_EXCEPTION, VEC_UD), 2 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		run_task(&cases[i]);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start()) {
		test_hw_exceptions();
		test_page_faults();
		test_debug_exceptions();
		test_nmi_exiting();
		test_virtual_nmis();
		test_virtual_nmi_window();
		test_iret_bit12();
		test_nested();
		test_into();
		test_task_switches();
	}
	report_summary();
}
