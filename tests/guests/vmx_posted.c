/* Posted-interrupt processing seen from a guest hypervisor (SDM vol. 3C
 * 29.6, the edition whose VM-entry chapter is 26). With "process posted
 * interrupts" an external interrupt whose vector is the posted-interrupt
 * notification vector is acknowledged, ON is cleared, the local APIC gets
 * an EOI, PIR is ORed into VIRR and cleared, RVI = max(RVI, highest PIR
 * bit) and pending virtual interrupts are evaluated (29.2.1) -- no VM
 * exit; any other vector is the usual exit 1 with the vector in the
 * VM-exit interruption information (25.2, 27.2.2).
 *
 * CPU 0 (the BSP) runs every guest and reports; CPU 1 only posts: it sets
 * a PIR bit and ON with locked instructions and sends CPU 0 the
 * notification vector while CPU 0's guest spins or halts. Cases:
 *   self     the host (RFLAGS.IF = 0) posts and sends itself the
 *            notification before VM entry: processed right after entry.
 *   ON = 0 / PIR empty: the steps still run (they do not test ON), and do
 *            nothing harmful.
 *   other vector: exit 1, the vector acknowledged, the descriptor untouched.
 *   interrupt window: with RFLAGS.IF = 0 the processing happens, but no
 *            virtual interrupt is recognized (29.2.1); with IF = 1 the
 *            interrupt-window exit comes first (25.2).
 *   HLT:     processing from the HLT state; with IF = 0 the guest stays in
 *            HLT (the preemption timer ends it, activity state HLT).
 *   cross-CPU: CPU 1 posts to the spinning and the halted guest.
 * Every expected value is the SDM's.
 */
#include "multiboot.h"
#include "smp.h"
#include "vmx_vmcs.h"
#include "vmx/caps_bits.h"

enum { RAX = 0, RCX, RDX, RBX };
#define RFLAGS_IF_ (1ul << 9)

#define NV 0xf2                 /* posted-interrupt notification vector */
#define OTHER_VECTOR 0x61       /* a host vector that is not NV */
#define IPI_DELAY_NS 1000000ull /* 1 ms: far longer than a VM entry */
#define WATCHDOG 0x2000000u     /* preemption-timer value that ends a guest nothing woke */
#define VAPIC_ISR_OFF 0x100     /* VISR, VIRR: eight 32-bit registers 16 bytes apart (29.1.1) */
#define VAPIC_IRR_OFF 0x200

/* Guest code. g_nop: NOP then VMCALL. g_spin: announce, spin. g_halt:
 * announce, HLT, VMCALL. */
extern char g_nop[], g_nop_end[], g_spin[], g_loop[], g_halt[], g_hlt[], g_after_hlt[];
extern volatile uint32_t g_in_guest;
asm(".text\n"
    ".code64\n"
    "g_nop:	nop\n"
    "g_nop_end:	vmcall\n"
    "g_spin:	movl $1, g_in_guest(%rip)\n"
    "g_loop:	jmp g_loop\n"
    "g_halt:	movl $1, g_in_guest(%rip)\n"
    "g_hlt:	hlt\n"
    "g_after_hlt:	vmcall\n"
    ".data\n"
    ".balign 4\n"
    "g_in_guest: .long 0\n"
    ".text\n");

static uint64_t vapic, desc;
static uint8_t bsp_apic_id;

/* CPU 0 -> CPU 1: post this vector once g_in_guest is 1 (0: nothing). */
#define AP_QUIT 0x1000u
static volatile unsigned ap_cmd;
static volatile unsigned ap_posted;

static bool has_posted(void)
{
	return (vmx_allowed1(VMX_CTL_PIN) & (PIN_POSTED_INTR | PIN_EXT_INTR_EXITING)) ==
		       (PIN_POSTED_INTR | PIN_EXT_INTR_EXITING) &&
	       (vmx_allowed1(VMX_CTL_PROC) & (PROC_TPR_SHADOW | PROC_SECONDARY_CTLS)) ==
		       (PROC_TPR_SHADOW | PROC_SECONDARY_CTLS) &&
	       (vmx_allowed1(VMX_CTL_PROC2) & PROC2_VIRT_INTR_DELIVERY) &&
	       (vmx_allowed1(VMX_CTL_EXIT) & EXIT_ACK_INTR_ON_EXIT);
}

static bool has_timer(void)
{
	return vmx_allowed1(VMX_CTL_PIN) & PIN_PREEMPTION_TIMER;
}

/* ---- the virtual-APIC page, the descriptor, the local APIC ---- */

static uint32_t *va32(unsigned off)
{
	return (uint32_t *)(vapic + off);
}

static bool vbit(unsigned base, unsigned v)
{
	return (*va32(base + (v / 32) * 16) >> (v % 32)) & 1;
}

static volatile uint64_t *pir(void)
{
	return (volatile uint64_t *)desc;
}

static volatile uint8_t *desc8(unsigned off)
{
	return (volatile uint8_t *)(desc + off);
}

static bool pir_empty(void)
{
	return !(pir()[0] | pir()[1] | pir()[2] | pir()[3]);
}

/* 29.6: PIR bit v; ON is bit 256 (bit 0 of byte 32). Locked, as another
 * agent would post (CPU 1 uses the same code). */
static void post(unsigned v)
{
	asm volatile("lock btsq %1, %0" : "+m"(pir()[v / 64]) : "r"((uint64_t)(v % 64)) : "memory");
	asm volatile("lock orb $1, %0" : "+m"(*desc8(32)) : : "memory");
}

static bool lapic_bit(unsigned reg, unsigned v)
{
	return (xapic_read(reg + (v / 32) * 16) >> (v % 32)) & 1;
}

static void self_ipi(unsigned v)
{
	xapic_write(XAPIC_ICR_LO, ICR_SELF | ICR_ASSERT | ICR_FIXED | v);
}

/* A 64-bit guest at rip with RFLAGS.IF = 1 and the stub IDT: TPR shadow,
 * external-interrupt exiting, "virtual-interrupt delivery" (26.2.1.1
 * requires them), "acknowledge interrupt on exit" and "process posted
 * interrupts" with NV and the descriptor (scratch page 7, bits 511:257
 * holding a pattern that must survive). */
static void fresh(char *rip)
{
	vmx_baseline(64);
	vmx_stub_idt();
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmwrite(VMCS_GUEST_RIP, (uint64_t)rip);
	vmwrite(VMCS_GUEST_RFLAGS, vmread(VMCS_GUEST_RFLAGS) | RFLAGS_IF_);
	vapic = vmx_scratch_page(4);
	desc = vmx_scratch_page(7);
	vmx_set_ctl(VMCS_PIN_CONTROLS, PIN_EXT_INTR_EXITING | PIN_POSTED_INTR, true);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_TPR_SHADOW | PROC_SECONDARY_CTLS, true);
	vmx_set_ctl(VMCS_PROC2_CONTROLS, PROC2_VIRT_INTR_DELIVERY, true);
	vmx_set_ctl(VMCS_EXIT_CONTROLS, EXIT_ACK_INTR_ON_EXIT, true);
	vmwrite(VMCS_VIRTUAL_APIC_ADDR, vapic);
	vmwrite(VMCS_TPR_THRESHOLD, 0);
	vmwrite(VMCS_GUEST_INTR_STATUS, 0);
	for (int k = 0; k < 4; k++)
		vmwrite(VMCS_EOI_EXIT_BITMAP0 + 2 * k, 0);
	vmwrite(VMCS_POSTED_INTR_NV, NV);
	vmwrite(VMCS_POSTED_INTR_DESC_ADDR, desc);
	*desc8(32) = 0xfe;      /* bits 263:257 available: ON (bit 256) 0 */
	*desc8(40) = 0xa5;
	*desc8(63) = 0x5a;
	g_in_guest = 0;
}

static void watchdog(void)
{
	if (!has_timer())
		return;
	vmx_set_ctl(VMCS_PIN_CONTROLS, PIN_PREEMPTION_TIMER, true);
	vmwrite(VMCS_PREEMPTION_TIMER_VALUE, WATCHDOG);
}

static bool exit_is(struct vmx_outcome o, uint32_t reason, const char *what)
{
	if (o.res != VMX_OK) {
		report(false, "%s: VM entry failed (VMfail%s, error %u)", what,
		       o.res == VMX_FAIL_VALID ? "Valid" : "Invalid", o.error);
		return false;
	}
	return report(o.exit_reason == reason, "%s: exit reason %u (got %u, qualification %#lx)", what, reason,
		      o.exit_reason, o.qual);
}

/* What 29.6 leaves behind: ON 0, PIR 0, the software bits kept, the
 * notification gone from the local APIC (acknowledged: IRR; EOI: ISR). */
static void processed(const char *what)
{
	report_eq(*desc8(32), 0xfe, "%s: ON (bit 256) cleared, bits 263:257 kept (29.6 step 3)", what);
	report(*desc8(40) == 0xa5 && *desc8(63) == 0x5a, "%s: descriptor bits 511:264 unmodified", what);
	report(pir_empty(), "%s: PIR cleared (29.6 step 5)", what);
	report(!lapic_bit(XAPIC_IRR, NV) && !lapic_bit(XAPIC_ISR, NV),
	       "%s: NV %#x neither in the local APIC's IRR (acknowledged) nor ISR (EOI, step 4)", what, NV);
}

/* The guest took virtual interrupt v at the boundary before `at`, through
 * its IDT (stub: RAX = v, VMCALL), with 29.2.2's updates. */
static void delivered(struct vmx_outcome o, unsigned v, uint64_t at, uint16_t status, const char *what)
{
	if (!exit_is(o, EXIT_REASON_VMCALL, what))
		return;
	report_eq(vmx_guest_regs[RAX], v, "%s: the guest IDT's vector %#x ran, no VM exit before", what, v);
	report_eq(*(uint64_t *)vmread(VMCS_GUEST_RSP), at, "%s: pushed RIP", what);
	report(vbit(VAPIC_ISR_OFF, v) && !vbit(VAPIC_IRR_OFF, v), "%s: VISR[%#x] = 1, VIRR[%#x] = 0 (29.2.2)", what, v,
	       v);
	report_eq(vmread(VMCS_GUEST_INTR_STATUS), status, "%s: guest interrupt status SVI:RVI", what);
	report_eq(*va32(0xa0), v & 0xf0, "%s: VPPR = vector & F0H", what);
}

/* ---- the host posts to itself before VM entry ---- */

static void test_self(void)
{
	const char *w = "self: PIR {45H, 33H}, ON, NV pending at VM entry";
	struct vmx_outcome o;
	fresh(g_nop);
	post(0x45);
	post(0x33);
	self_ipi(NV);
	report(lapic_bit(XAPIC_IRR, NV), "self: NV pending in the host's IRR with RFLAGS.IF = 0");
	o = vmx_enter_guest(false);
	/* Processed at the first boundary after entry: VIRR {45H, 33H}, RVI
	 * 45H; 45H > VPPR 0: delivered before the NOP; RVI = 33H after. */
	delivered(o, 0x45, (uint64_t)g_nop, 0x4533, w);
	processed(w);
	report(vbit(VAPIC_IRR_OFF, 0x33), "%s: VIRR[33H] = 1 (PIR ORed into VIRR)", w);

	/* RVI already above the highest PIR bit: RVI stays (step 6). VTPR
	 * 70H holds everything below 80H, so nothing is delivered. */
	w = "self: RVI 75H, PIR {52H}, VTPR 70H";
	fresh(g_nop);
	vmwrite(VMCS_GUEST_INTR_STATUS, 0x75);
	*va32(VAPIC_IRR_OFF + (0x75 / 32) * 16) |= 1u << (0x75 % 32);
	*va32(0x80) = 0x70;
	post(0x52);
	self_ipi(NV);
	o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_VMCALL, w)) {
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_nop_end, "%s: nothing delivered", w);
		report_eq(vmread(VMCS_GUEST_INTR_STATUS), 0x75, "%s: RVI = max(75H, 52H) (29.6 step 6)", w);
		report(vbit(VAPIC_IRR_OFF, 0x52) && vbit(VAPIC_IRR_OFF, 0x75), "%s: VIRR {52H, 75H}", w);
		processed(w);
	}
}

/* ---- ON already clear, PIR empty ---- */

static void test_empty(void)
{
	const char *w = "ON = 0, PIR empty";
	struct vmx_outcome o;
	fresh(g_nop);
	self_ipi(NV);
	o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_VMCALL, w)) {
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_nop_end, "%s: the guest ran to its VMCALL", w);
		report_eq(vmread(VMCS_GUEST_INTR_STATUS), 0, "%s: RVI left unmodified (29.6 step 6)", w);
		processed(w);
	}

	/* The steps do not look at ON: PIR is moved anyway. */
	w = "ON = 0, PIR {52H}";
	fresh(g_nop);
	*(volatile uint64_t *)(desc + 8) = 1ull << (0x52 - 64);
	self_ipi(NV);
	o = vmx_enter_guest(false);
	delivered(o, 0x52, (uint64_t)g_nop, 0x5200, w);
	processed(w);
}

/* ---- a vector that is not the notification vector ---- */

static void test_other_vector(void)
{
	const char *w = "vector 61H (not NV)";
	struct vmx_outcome o;
	fresh(g_nop);
	post(0x45);
	self_ipi(OTHER_VECTOR);
	o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_EXTERNAL_INTERRUPT, w)) {
		/* 27.2.2: valid, type external interrupt (0), the vector. */
		report_eq(vmread(VMCS_EXIT_INTR_INFO), INTR_INFO_VALID | OTHER_VECTOR,
			  "%s: VM-exit interruption information", w);
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_nop, "%s: before the first guest instruction", w);
		report(lapic_bit(XAPIC_ISR, OTHER_VECTOR) && !lapic_bit(XAPIC_IRR, OTHER_VECTOR),
		       "%s: acknowledged on exit: in the host's ISR", w);
		report(*desc8(32) == 0xff && pir()[1] == 1ull << (0x45 - 64), "%s: descriptor untouched (ON 1, PIR {45H})",
		       w);
		report_eq(vmread(VMCS_GUEST_INTR_STATUS), 0, "%s: RVI untouched", w);
	}
	xapic_eoi();
}

/* ---- interrupt-window exiting ---- */

static void test_window(void)
{
	const char *w = "interrupt-window exiting, guest RFLAGS.IF = 0";
	struct vmx_outcome o;
	fresh(g_nop);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW, true);
	vmwrite(VMCS_GUEST_RFLAGS, vmread(VMCS_GUEST_RFLAGS) & ~RFLAGS_IF_);
	post(0x45);
	self_ipi(NV);
	o = vmx_enter_guest(false);
	/* External interrupts are not blocked by IF under external-interrupt
	 * exiting (25.3): processed; "interrupt-window exiting" 1: not
	 * recognized (29.2.1); IF = 0: no window exit either. */
	if (exit_is(o, EXIT_REASON_VMCALL, w)) {
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_nop_end, "%s: nothing delivered", w);
		report_eq(vmread(VMCS_GUEST_INTR_STATUS), 0x45, "%s: RVI 45H", w);
		report(vbit(VAPIC_IRR_OFF, 0x45), "%s: VIRR[45H] = 1", w);
		processed(w);
	}

	w = "interrupt-window exiting, guest RFLAGS.IF = 1";
	fresh(g_nop);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW, true);
	post(0x45);
	self_ipi(NV);
	o = vmx_enter_guest(false);
	/* 25.2: the interrupt-window exit has priority over the external
	 * interrupt, which stays pending; nothing was processed. */
	if (exit_is(o, EXIT_REASON_INTERRUPT_WINDOW, w)) {
		report(lapic_bit(XAPIC_IRR, NV), "%s: NV still pending in the host's IRR", w);
		report(*desc8(32) == 0xff && !pir_empty(), "%s: descriptor untouched", w);
	}
	/* The host turns the window off and resumes: processed, delivered. */
	w = "VMRESUME without interrupt-window exiting";
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW, false);
	o = vmx_enter_guest(true);
	delivered(o, 0x45, (uint64_t)g_nop, 0x4500, w);
	processed(w);
}

/* ---- HLT ---- */

static void test_hlt_if0(void)
{
	const char *w = "guest in HLT with RFLAGS.IF = 0";
	struct vmx_outcome o;
	if (!has_timer() || !(vmx_msr(MSR_IA32_VMX_MISC) & VMX_MISC_ACT_HLT)) {
		report_skip("%s: needs the preemption timer and the HLT activity state", w);
		return;
	}
	fresh(g_after_hlt);
	vmwrite(VMCS_GUEST_RFLAGS, vmread(VMCS_GUEST_RFLAGS) & ~RFLAGS_IF_);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	vmx_set_ctl(VMCS_PIN_CONTROLS, PIN_PREEMPTION_TIMER, true);
	vmwrite(VMCS_PREEMPTION_TIMER_VALUE, 0x1000);
	post(0x45);
	self_ipi(NV);
	o = vmx_enter_guest(false);
	/* 29.6: processing from the HLT state returns to it; the recognized
	 * virtual interrupt cannot be delivered (IF = 0, 29.2.2), so only the
	 * timer ends the sleep (25.5.1), activity state HLT (27.3.4). */
	if (exit_is(o, EXIT_REASON_PREEMPTION_TIMER, w)) {
		report_eq(vmread(VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_HLT, "%s: still in HLT", w);
		report_eq(vmread(VMCS_GUEST_INTR_STATUS), 0x45, "%s: RVI 45H", w);
		report(vbit(VAPIC_IRR_OFF, 0x45), "%s: VIRR[45H] = 1", w);
		processed(w);
	}

	w = "guest in HLT with RFLAGS.IF = 1";
	fresh(g_after_hlt);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	watchdog();
	post(0x45);
	self_ipi(NV);
	o = vmx_enter_guest(false);
	/* 29.2.2: virtual-interrupt delivery wakes HLT. */
	delivered(o, 0x45, (uint64_t)g_after_hlt, 0x4500, w);
	processed(w);
}

/* ---- CPU 1 posts ---- */

static void cross(char *rip, uint64_t at, const char *w)
{
	struct vmx_outcome o;
	unsigned before = ap_posted;
	fresh(rip);
	watchdog();
	ap_cmd = 0x66;
	o = vmx_enter_guest(false);
	report(ap_posted == before + 1, "%s: cpu1 posted", w);
	delivered(o, 0x66, at, 0x6600, w);
	processed(w);
}

static void test_cross(void)
{
	cross(g_spin, (uint64_t)g_loop, "cpu1 posts 66H to the spinning guest");
	cross(g_halt, (uint64_t)g_after_hlt, "cpu1 posts 66H to the guest in HLT");
}

void ap_main(int cpu_index)
{
	if (cpu_index != 1)
		return;
	for (;;) {
		unsigned v;
		while (!(v = ap_cmd))
			cpu_relax();
		if (v == AP_QUIT)
			return;
		while (!g_in_guest && ap_cmd != AP_QUIT)
			cpu_relax();
		smp_delay_ns(IPI_DELAY_NS);
		post(v);
		xapic_send_ipi(bsp_apic_id, ICR_ASSERT | ICR_FIXED | NV);
		ap_posted++;
		ap_cmd = 0;
	}
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	if (!smp_init(mbinfo))
		report_summary();
	const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)mbinfo;
	char buf[8];
	/* core2's CPUID counts one logical processor: guests.vts says "cpus=2". */
	if (smp_ncpus < 2 && (mbi->flags & MBI_CMDLINE) &&
	    cmdline_get((const char *)(uintptr_t)mbi->cmdline, "cpus", buf, sizeof(buf)) && buf[0] == '2')
		smp_ncpus = 2;
	if (!vmx_start())
		report_summary();
	if (!has_posted()) {
		report_skip("posted-interrupt processing: the model lacks \"process posted interrupts\" or what it needs");
		report_summary();
	}
	bsp_apic_id = xapic_id();
	test_self();
	test_empty();
	test_other_vector();
	test_window();
	test_hlt_if0();
	if (report(smp_ncpus >= 2, "at least two CPUs (-smp 2)") &&
	    report(smp_start_aps() == smp_ncpus - 1, "APs arrived"))
		test_cross();
	ap_cmd = AP_QUIT;
	report_summary();
}
