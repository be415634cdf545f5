/* Lesson 02: the minimum VMCS and the first VMLAUNCH.
 *
 * A VMCS ("virtual-machine control structure", SDM 24) is a 4-KiB region
 * that holds, in fields read and written only with VMREAD/VMWRITE:
 *   - the VM-execution, VM-exit and VM-entry controls (24.6-24.8): what the
 *     guest may do and what makes it exit;
 *   - the host-state area (24.5): what the CPU loads at each VM exit;
 *   - the guest-state area (24.4): what the CPU loads at VM entry and saves
 *     at VM exit;
 *   - the VM-exit information fields (24.9): why the guest exited.
 * Its layout in memory is the processor's business (vtxsim's is in
 * docs/vmcs-layout.md); software only writes the revision identifier at
 * offset 0, then VMCLEAR makes it "clear" and VMPTRLD makes it current
 * (24.1, 24.11.3).
 *
 * This lesson fills the smallest VMCS that VM entry accepts for a 64-bit
 * guest that shares our page tables, and runs a guest that computes
 * 40 + 2 and executes VMCALL. VMCALL always exits in VMX non-root
 * operation (25.1.2), with exit reason 18 (Appendix C). The host then
 * reads the exit reason, the guest's RIP and the instruction length.
 *
 * Run:   build/vtxsim -kernel build/guests/examples/lessons/02-first-launch.elf
 * Watch: add --explain for one line per VM entry and exit.
 */
#include "lesson.h"

static uint8_t vmcs[4096] __attribute__((aligned(4096)));
static uint8_t guest_stack[4096] __attribute__((aligned(4096)));

/* The guest: three instructions. */
void guest_code(void);
extern char guest_vmcall[];
asm(".text\n"
    "guest_code:\n"
    "	mov $40, %eax\n"
    "	add $2, %eax\n"
    "guest_vmcall:\n"
    "	vmcall\n"                   /* exits: reason 18 */
    "	ud2\n");                    /* never reached: the host does not resume */

/* A VM-execution, VM-exit or VM-entry control word. Each has a capability
 * MSR (A.3-A.5): bits 31:0 are the "allowed 0-settings" (a 1 there means
 * the control MUST be 1), bits 63:32 the "allowed 1-settings" (a 0 there
 * means it MUST be 0). IA32_VMX_BASIC[55] = 1 says the TRUE_ variants
 * exist and hold the real must-be-1 bits (A.2). */
static uint32_t control(const char *name, uint32_t msr, uint32_t true_msr, uint32_t want)
{
	uint64_t cap = rdmsr(rdmsr(MSR_IA32_VMX_BASIC) >> 55 & 1 ? true_msr : msr);
	uint32_t v = (want | (uint32_t)cap) & (uint32_t)(cap >> 32);

	printf("%-5s controls: must be 1 %#010x, may be 1 %#010x, we want %#x -> %#x\n",
	       name, (uint32_t)cap, (uint32_t)(cap >> 32), want, v);
	return v;
}

static void fill_controls(void)
{
	vmwrite(VMCS_PIN_CONTROLS, control("pin", MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0));
	vmwrite(VMCS_PROC_CONTROLS, control("proc", MSR_IA32_VMX_PROCBASED_CTLS,
					    MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 0));
	/* "host address-space size" (24.7.1): the host is 64-bit, so VM exits
	 * return to 64-bit mode. */
	vmwrite(VMCS_EXIT_CONTROLS, control("exit", MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS,
					    EXIT_HOST_ADDR_SPACE));
	/* "IA-32e mode guest" (24.8.1): the guest runs in 64-bit mode. */
	vmwrite(VMCS_ENTRY_CONTROLS, control("entry", MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS,
					     ENTRY_IA32E_GUEST));
}

/* The host-state area (24.5; checked by 26.2.2-26.2.4). HOST_RSP and
 * HOST_RIP are written by lesson_enter (lesson_entry.S), the one piece in
 * assembly: where the VM exit lands. The rest is what we run with now. */
static void fill_host_state(uint64_t tss_base)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr, idtr;

	asm volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_CS_SELECTOR, LESSON_SEL_CODE);
	vmwrite(VMCS_HOST_SS_SELECTOR, LESSON_SEL_DATA);
	vmwrite(VMCS_HOST_DS_SELECTOR, LESSON_SEL_DATA);
	vmwrite(VMCS_HOST_ES_SELECTOR, LESSON_SEL_DATA);
	vmwrite(VMCS_HOST_FS_SELECTOR, LESSON_SEL_DATA);
	vmwrite(VMCS_HOST_GS_SELECTOR, LESSON_SEL_DATA);
	/* 26.2.3: TR cannot be 0, so lesson_gdt_init gave us a TSS. */
	vmwrite(VMCS_HOST_TR_SELECTOR, LESSON_SEL_TSS);
	vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmwrite(VMCS_HOST_TR_BASE, tss_base);
	vmwrite(VMCS_HOST_GDTR_BASE, gdtr.base);
	vmwrite(VMCS_HOST_IDTR_BASE, idtr.base);
}

/* One guest segment register: selector, base, limit and access rights in
 * the VMCS format (24.4.1: the descriptor's type/S/DPL/P in bits 7:0,
 * AVL/L/D/G in bits 15:12, bit 16 "unusable"). The eight registers' fields
 * are consecutive encodings 2 apart (24.11.2). */
static void guest_segment(unsigned n, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	vmwrite(VMCS_GUEST_ES_SELECTOR + 2 * n, sel);
	vmwrite(VMCS_GUEST_ES_BASE + 2 * n, base);
	vmwrite(VMCS_GUEST_ES_LIMIT + 2 * n, limit);
	vmwrite(VMCS_GUEST_ES_AR + 2 * n, ar);
}

/* The guest-state area (24.4; checked by 26.3.1): a 64-bit guest that
 * shares our CR0/CR3/CR4 (so the same identity map), GDT and IDT. */
static void fill_guest_state(uint64_t tss_base)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr, idtr;

	asm volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	vmwrite(VMCS_GUEST_CR0, read_cr0());    /* PE, PG, NE: as FIXED0 wants */
	vmwrite(VMCS_GUEST_CR3, read_cr3());
	vmwrite(VMCS_GUEST_CR4, read_cr4());    /* PAE, VMXE */
	vmwrite(VMCS_GUEST_DR7, 0x400);         /* DR7's reset value */
	vmwrite(VMCS_GUEST_RFLAGS, 0x2);        /* bit 1 is reserved, always 1 */
	vmwrite(VMCS_GUEST_RSP, (uint64_t)guest_stack + sizeof(guest_stack));
	vmwrite(VMCS_GUEST_RIP, (uint64_t)guest_code);
	for (unsigned n = 0; n < 6; n++)        /* ES, -, SS, DS, FS, GS: flat data */
		guest_segment(n, LESSON_SEL_DATA, 0, 0xffffffff, 0xc093);
	guest_segment(1, LESSON_SEL_CODE, 0, 0xffffffff, 0xa09b);  /* CS: 64-bit code (L=1) */
	guest_segment(6, 0, 0, 0, 0x10000);                         /* LDTR: unusable */
	guest_segment(7, LESSON_SEL_TSS, tss_base, 0x67, 0x8b);     /* TR: busy 64-bit TSS */
	vmwrite(VMCS_GUEST_GDTR_BASE, gdtr.base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, gdtr.limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, idtr.base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, idtr.limit);
	/* 26.3.1.5: without VMCS shadowing the link pointer must be all ones. */
	vmwrite(VMCS_VMCS_LINK_PTR, ~0ull);
	/* Activity state 0 (active), interruptibility 0: VMCLEAR zeroed them. */
}

static uint64_t tss_base_from_gdt(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr;
	uint64_t *gdt;

	asm volatile("sgdt %0" : "=m"(gdtr));
	gdt = (uint64_t *)gdtr.base + LESSON_SEL_TSS / 8;
	return (gdt[0] >> 16 & 0xffffff) | (gdt[0] >> 56 & 0xff) << 24 | gdt[1] << 32;
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	struct lesson_regs regs = { 0 };
	uint64_t rflags;
	uint32_t reason;

	(void)magic, (void)mbinfo;
	printf("lesson 02: the first VMLAUNCH\n");
	if (!report(lesson_vmx_on(), "in VMX operation (lesson 01)"))
		report_summary();

	*(uint32_t *)vmcs = (uint32_t)rdmsr(MSR_IA32_VMX_BASIC) & 0x7fffffff;
	report(vmclear((uint64_t)vmcs) == VMX_OK, "VMCLEAR: the VMCS is clear, launch state \"clear\"");
	report(vmptrld((uint64_t)vmcs) == VMX_OK, "VMPTRLD: the VMCS is current");
	fill_controls();
	fill_guest_state(tss_base_from_gdt());
	fill_host_state(tss_base_from_gdt());

	printf("VMLAUNCH: guest RIP %#lx\n", vmread(VMCS_GUEST_RIP));
	rflags = lesson_enter(&regs, true);
	if (!report(rflags == 0, "VMLAUNCH entered the guest and it exited")) {
		printf("VMLAUNCH failed: RFLAGS %#lx, VM-instruction error %lu\n", rflags,
		       vmread(VMCS_VM_INSTRUCTION_ERROR));
		report_summary();
	}
	/* 27.2.1: the exit-reason field; bits 15:0 are the basic reason. */
	reason = lesson_exit_reason();
	printf("VM exit: reason %u (%s), guest RIP %#lx, instruction length %lu, guest RAX %lu\n",
	       reason, lesson_exit_name(reason), vmread(VMCS_GUEST_RIP),
	       vmread(VMCS_EXIT_INSTRUCTION_LEN), regs.rax);
	report_eq(reason, EXIT_REASON_VMCALL, "the guest's VMCALL exited (reason 18)");
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)guest_vmcall,
		  "GUEST_RIP is the VMCALL's address (27.3.3: the instruction that exited)");
	report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), 3, "VMCALL (0f 01 c1) is 3 bytes long");
	report_eq(regs.rax, 42, "the guest ran: RAX = 40 + 2");
	/* 24.11.1: VMCLEAR every VMCS we made active before VMXOFF. */
	report(vmclear((uint64_t)vmcs) == VMX_OK && vmxoff() == VMX_OK, "VMCLEAR, VMXOFF");
	report_summary();
}
