/* VM entry, VM exit and VMX instructions in non-root operation, seen from
 * a guest hypervisor (SDM vol. 3C, the edition whose VM-entry chapter is
 * 26): the guest code below reads the state a VM entry loaded (26.3.2),
 * changes state that the exit must save (27.3), receives injected events
 * (26.5) and executes VMX instructions that exit (25.1.2, 27.2.1, 27.2.4);
 * the host compares what the guest saw, the guest-state fields and the
 * host state the exit loaded (27.5, lib/vmx_vmcs.h vmx_host_seen) with
 * what the SDM says. Every check names its section.
 */
#include "apic.h"
#include "guest.h"
#include "vmx_vmcs.h"

#define CR0_ET (1ul << 4)
#define CR0_NW (1ul << 29)
#define CR0_CD (1ul << 30)
#define CR4_TSD (1ul << 2)
#define AR_UNUSABLE_BIT (1u << 16)
#define DR7_FIXED 0x400ul
#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u
#define GUEST_SEL_DATA KERNEL_DS
#define GUEST_SEL_CODE KERNEL_CS
#define PAT_OTHER 0x0007010600070106ull         /* WB WC UC- UC twice: valid types (vol. 3A 11.12) */
#define SENTINEL 0x5e5e5e5e5e5e5e5eull

/* ---- the guest's view: filled by the guest code, read by the host ---- */

uint64_t g_rflags, g_rsp, g_cr0, g_cr3, g_cr4, g_fs0, g_gs0;
uint64_t g_msr[5];                      /* SYSENTER_CS/ESP/EIP, EFER, PAT as RDMSR returned them */
uint16_t g_sel[8];                      /* CS SS DS ES FS GS TR LDTR */
struct vmx_seen_dtr g_gdtr, g_idtr;
uint8_t g_read_cr3, g_read_msrs;       /* set by the host: may the guest execute them */
uint64_t fs_probe = 0xf5f5f5f5f5f5f5f5ull, gs_probe = 0x6565656565656565ull;
struct vmx_seen_dtr g_new_gdtr, g_new_idtr;
uint32_t g_new_sysenter_cs;

extern char g_state64[], g_state64_vmcall[];
extern char g_change64[], g_change64_vmcall[], g_change64_vmcall2[];
extern char g_sti64[], g_sti64_vmcall[];
extern char g_landing[], g_idt_stubs[];
extern char g_msr64[], g_msr64_vmcall[];

/* 64-bit guests. g_state64 records what the entry loaded, then VMCALLs. */
asm(".text\n"
    ".code64\n"
    "g_state64:\n"
    "	pushfq\n"
    "	popq g_rflags(%rip)\n"
    "	mov %rsp, g_rsp(%rip)\n"
    "	mov %cr0, %rax\n"
    "	mov %rax, g_cr0(%rip)\n"
    "	mov %cr4, %rax\n"
    "	mov %rax, g_cr4(%rip)\n"
    "	cmpb $0, g_read_cr3(%rip)\n"
    "	je 1f\n"
    "	mov %cr3, %rax\n"
    "	mov %rax, g_cr3(%rip)\n"
    "1:	mov %cs, g_sel+0(%rip)\n"
    "	mov %ss, g_sel+2(%rip)\n"
    "	mov %ds, g_sel+4(%rip)\n"
    "	mov %es, g_sel+6(%rip)\n"
    "	mov %fs, g_sel+8(%rip)\n"
    "	mov %gs, g_sel+10(%rip)\n"
    "	str g_sel+12(%rip)\n"
    "	sldt g_sel+14(%rip)\n"
    "	sgdt g_gdtr(%rip)\n"
    "	sidt g_idtr(%rip)\n"
    "	mov %fs:0, %rax\n"
    "	mov %rax, g_fs0(%rip)\n"
    "	mov %gs:0, %rax\n"
    "	mov %rax, g_gs0(%rip)\n"
    "	cmpb $0, g_read_msrs(%rip)\n"
    "	je 2f\n"
    "	lea g_msr(%rip), %rdi\n"
    "	.irp m, 0x174, 0x175, 0x176, 0xc0000080, 0x277\n"
    "	mov $\\m, %ecx\n"
    "	rdmsr\n"
    "	mov %eax, (%rdi)\n"
    "	mov %edx, 4(%rdi)\n"
    "	add $8, %rdi\n"
    "	.endr\n"
    "2:\n"
    "g_state64_vmcall:\n"
    "	vmcall\n"
    "	jmp g_state64_vmcall\n"
    /* g_change64 changes state the exit saves (27.3). */
    "g_change64:\n"
    "	xor %eax, %eax\n"
    "	mov %ax, %es\n"                          /* null ES: unusable */
    "	sub $0x40, %rsp\n"
    "	lgdt g_new_gdtr(%rip)\n"
    "	lidt g_new_idtr(%rip)\n"
    "	cmpb $0, g_read_msrs(%rip)\n"
    "	je 1f\n"
    "	mov $0x174, %ecx\n"
    "	mov g_new_sysenter_cs(%rip), %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "1:	stc\n"
    "	std\n"
    "g_change64_vmcall:\n"
    "	vmcall\n"
    "	cld\n"
    "	mov $" "0x600dc0de" ", %eax\n"
    "g_change64_vmcall2:\n"
    "	vmcall\n"
    "	jmp g_change64_vmcall2\n"
    /* g_sti64: VMCALL in the shadow of STI (27.3.4). */
    "g_sti64:\n"
    "	sti\n"
    "g_sti64_vmcall:\n"
    "	vmcall\n"
    "	mov $0x600dc0de, %eax\n"
    "	vmcall\n"
    "	jmp g_sti64\n"
    /* g_msr64: reads IA32_KERNEL_GS_BASE (loaded by the VM-entry
     * MSR-load area), writes 0000199977778888H into it, VMCALLs. */
    "g_msr64:\n"
    "	mov $0xc0000102, %ecx\n"
    "	rdmsr\n"
    "	mov %eax, g_msr+0(%rip)\n"
    "	mov %edx, g_msr+4(%rip)\n"
    "	mov $0x77778888, %eax\n"
    "	mov $0x1999, %edx\n"
    "	wrmsr\n"
    "g_msr64_vmcall:\n"
    "	vmcall\n"
    "	jmp g_msr64_vmcall\n"
    /* Event injection: GUEST_RIP = g_landing; the guest IDT sends vector
     * v to stub v (16 bytes each), which VMCALLs with RAX = v. */
    "g_landing:\n"
    "	mov $0xffff, %eax\n"
    "	vmcall\n"
    "	jmp g_landing\n"
    "	.balign 16\n"
    "g_idt_stubs:\n"
    "	.set v, 0\n"
    "	.rept 256\n"
    "	.balign 16\n"
    "	mov $v, %eax\n"
    "	vmcall\n"
    "	.set v, v + 1\n"
    "	.endr\n");

#define STUB_VMCALL_OFF 5       /* mov $imm32, %eax */

static uint64_t guest_idt[512] __attribute__((aligned(4096)));
static uint8_t msr_bitmap[4096] __attribute__((aligned(4096)));
static uint64_t msr_area[3][2 * 4] __attribute__((aligned(16)));
static uint64_t pml4_copy[512] __attribute__((aligned(4096)));
static uint64_t gdt_copy[512] __attribute__((aligned(4096)));
static uint64_t idt_copy[512] __attribute__((aligned(4096)));

static struct vmx_seen_dtr sgdt_now(void)
{
	struct vmx_seen_dtr d;
	asm volatile("sgdt %0" : "=m"(d));
	return d;
}

static struct vmx_seen_dtr sidt_now(void)
{
	struct vmx_seen_dtr d;
	asm volatile("sidt %0" : "=m"(d));
	return d;
}

static bool allowed(enum vmx_ctl_msr ctl, uint64_t bit)
{
	return vmx_allowed1(ctl) & bit;
}

/* "Use MSR bitmaps" with an all-zero bitmap: RDMSR/WRMSR in the guest
 * do not exit (25.1.3), so the guest can read the MSRs the entry loaded. */
static bool guest_msrs_readable(void)
{
	if (!allowed(VMX_CTL_PROC, PROC_MSR_BITMAPS))
		return false;
	memset(msr_bitmap, 0, sizeof(msr_bitmap));
	vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) | PROC_MSR_BITMAPS);
	vmwrite(VMCS_MSR_BITMAP, (uint64_t)msr_bitmap);
	return true;
}

/* MOV from CR3 exits when "CR3-store exiting" must be 1 (25.1.3, A.3.2). */
static bool guest_cr3_readable(void)
{
	return !(vmx_must1(VMX_CTL_PROC) & PROC_CR3_STORE_EXITING);
}

static void set_entry_ctl(uint32_t bit, bool on)
{
	uint64_t v = vmread(VMCS_ENTRY_CONTROLS);
	vmwrite(VMCS_ENTRY_CONTROLS, on ? v | bit : v & ~(uint64_t)bit);
}

static void set_exit_ctl(uint32_t bit, bool on)
{
	uint64_t v = vmread(VMCS_EXIT_CONTROLS);
	vmwrite(VMCS_EXIT_CONTROLS, on ? v | bit : v & ~(uint64_t)bit);
}

static bool expect_exit(struct vmx_outcome o, uint32_t reason, const char *what)
{
	if (o.res != VMX_OK) {
		report(false, "%s: VM entry failed (VMfail%s, error %u)", what,
		       o.res == VMX_FAIL_VALID ? "Valid" : "Invalid", o.error);
		return false;
	}
	if (o.exit_reason != reason) {
		report(false, "%s: exit reason %#x, expected %#x", what, o.exit_reason, reason);
		return false;
	}
	return true;
}

/* ---- 26.3.2 loading guest state ---- */

static void test_guest_state_loading(void)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4(), efer = rdmsr(MSR_EFER), pat = rdmsr(MSR_IA32_PAT);
	uint64_t rsp = vmx_scratch_page(0) + 0xff0, rfl = 0x2 | RFLAGS_CF | RFLAGS_PF | RFLAGS_ZF | RFLAGS_SF |
							RFLAGS_OF | RFLAGS_DF;
	uint64_t gdt_base = sgdt_now().base;
	bool msrs, ld_pat, ld_efer;
	struct vmx_outcome o;

	vmx_baseline(64);
	msrs = guest_msrs_readable();
	g_read_msrs = msrs;
	g_read_cr3 = guest_cr3_readable();
	memcpy(pml4_copy, (void *)(read_cr3() & ~0xfffull), sizeof(pml4_copy));
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_state64);
	vmwrite(VMCS_GUEST_RSP, rsp);
	vmwrite(VMCS_GUEST_RFLAGS, rfl);
	/* CR0.ET, CD and NW are not loaded (26.3.2.1): write them flipped. */
	vmwrite(VMCS_GUEST_CR0, (cr0 ^ CR0_ET) | CR0_CD);
	vmwrite(VMCS_GUEST_CR4, cr4 ^ CR4_TSD);
	vmwrite(VMCS_GUEST_CR3, (uint64_t)pml4_copy);
	vmwrite(VMCS_GUEST_FS_BASE, (uint64_t)&fs_probe);
	vmwrite(VMCS_GUEST_GS_BASE, (uint64_t)&gs_probe);
	vmwrite(VMCS_GUEST_FS_LIMIT, 0xffffffff);
	vmwrite(VMCS_GUEST_GS_AR, 0x4091);       /* read-only accessed data, S, P, D/B, G = 0 */
	vmwrite(VMCS_GUEST_GS_LIMIT, 0xabcde);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, 0x3f);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0x7ff);
	vmwrite(VMCS_GUEST_IDTR_BASE, (uint64_t)guest_idt);
	vmwrite(VMCS_GUEST_IA32_SYSENTER_CS, 0x1230);
	vmwrite(VMCS_GUEST_IA32_SYSENTER_ESP, 0xffff800012345678ull);
	vmwrite(VMCS_GUEST_IA32_SYSENTER_EIP, 0xffff8000abcdef00ull);
	ld_pat = allowed(VMX_CTL_ENTRY, ENTRY_LOAD_PAT);
	ld_efer = allowed(VMX_CTL_ENTRY, ENTRY_LOAD_EFER);
	if (ld_pat) {
		set_entry_ctl(ENTRY_LOAD_PAT, true);
		vmwrite(VMCS_GUEST_IA32_PAT, PAT_OTHER);
	}
	if (ld_efer) {
		set_entry_ctl(ENTRY_LOAD_EFER, true);
		vmwrite(VMCS_GUEST_IA32_EFER, efer ^ EFER_SCE);
	}
	o = vmx_try_launch();
	if (!expect_exit(o, EXIT_REASON_VMCALL, "26.3.2 guest-state loading"))
		return;
	report_eq(g_rsp, rsp, "26.3.2.3: guest RSP loaded");
	report_eq(g_rflags, rfl, "26.3.2.3: guest RFLAGS loaded");
	report_eq(g_cr0, cr0, "26.3.2.1: CR0 loaded except ET, CD, NW (which keep their values)");
	report_eq(g_cr4, cr4 ^ CR4_TSD, "26.3.2.1: CR4 loaded");
	if (g_read_cr3)
		report_eq(g_cr3, (uint64_t)pml4_copy, "26.3.2.1: CR3 loaded");
	else
		report_skip("26.3.2.1: CR3 as the guest reads it (CR3-store exiting must be 1 on this model)");
	report_eq(vmread(VMCS_GUEST_CR3), (uint64_t)pml4_copy, "27.3.1: CR3 saved as loaded");
	report_eq(vmread(VMCS_GUEST_CR0), cr0, "27.3.1: CR0 saved with the CPU's ET/CD/NW");
	report_eq(g_sel[0], GUEST_SEL_CODE, "26.3.2.2: CS selector loaded");
	report_eq(g_sel[1], GUEST_SEL_DATA, "26.3.2.2: SS selector loaded");
	report_eq(g_sel[3], GUEST_SEL_DATA, "26.3.2.2: ES selector loaded");
	report_eq(g_sel[6], vmread(VMCS_GUEST_TR_SELECTOR), "26.3.2.2: TR selector loaded (STR)");
	report_eq(g_sel[7], 0, "26.3.2.2: LDTR selector loaded (SLDT)");
	report_eq(g_fs0, fs_probe, "26.3.2.2: FS base loaded (guest read FS:0)");
	report_eq(g_gs0, gs_probe, "26.3.2.2: GS base loaded (guest read GS:0)");
	report_eq(vmread(VMCS_GUEST_GS_LIMIT), 0xabcde, "26.3.2.2/27.3.2: GS limit loaded and saved");
	report_eq(vmread(VMCS_GUEST_GS_AR), 0x4091, "26.3.2.2/27.3.2: GS access rights loaded and saved");
	report_eq(g_gdtr.base, gdt_base, "26.3.2.2: GDTR base loaded");
	report_eq(g_gdtr.limit, 0x3f, "26.3.2.2: GDTR limit loaded");
	report_eq(g_idtr.base, (uint64_t)guest_idt, "26.3.2.2: IDTR base loaded");
	report_eq(g_idtr.limit, 0x7ff, "26.3.2.2: IDTR limit loaded");
	if (!msrs) {
		report_skip("26.3.2.1: MSRs as the guest reads them (no MSR bitmaps on this model)");
		return;
	}
	report_eq(g_msr[0], 0x1230, "26.3.2.1: IA32_SYSENTER_CS loaded");
	report_eq(g_msr[1], 0xffff800012345678ull, "26.3.2.1: IA32_SYSENTER_ESP loaded");
	report_eq(g_msr[2], 0xffff8000abcdef00ull, "26.3.2.1: IA32_SYSENTER_EIP loaded");
	if (ld_efer)
		report_eq(g_msr[3], efer ^ EFER_SCE, "26.3.2.1: IA32_EFER loaded (\"load IA32_EFER\" = 1)");
	else
		report_skip("26.3.2.1: \"load IA32_EFER\" not allowed on this model");
	if (ld_pat)
		report_eq(g_msr[4], PAT_OTHER, "26.3.2.1: IA32_PAT loaded (\"load IA32_PAT\" = 1)");
	else
		report_eq(g_msr[4], pat, "26.3.2.1: IA32_PAT unchanged without \"load IA32_PAT\"");
	wrmsr(MSR_IA32_PAT, pat);
	wrmsr(MSR_EFER, efer);
}

/* Without "load IA32_EFER", LMA and LME follow "IA-32e mode guest" and the
 * other EFER bits are unchanged (26.3.2.1): a 32-bit guest reads EFER. */
extern char g_efer32[];
uint64_t g_efer32_seen;
asm(".code32\n"
    "g_efer32:\n"
    "	mov $0xc0000080, %ecx\n"
    "	rdmsr\n"
    "	mov %eax, g_efer32_seen\n"
    "	mov %edx, g_efer32_seen + 4\n"
    "	vmcall\n"
    "	jmp g_efer32\n"
    ".code64\n");

static void test_efer_without_load(void)
{
	uint64_t efer = rdmsr(MSR_EFER);
	struct vmx_outcome o;

	vmx_baseline(32);
	if (!guest_msrs_readable()) {
		report_skip("26.3.2.1: EFER without \"load IA32_EFER\" (no MSR bitmaps on this model)");
		return;
	}
	set_entry_ctl(ENTRY_LOAD_EFER, false);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_efer32);
	g_efer32_seen = 0;
	o = vmx_try_launch();
	if (!expect_exit(o, EXIT_REASON_VMCALL, "32-bit guest reads EFER"))
		return;
	report_eq(g_efer32_seen, efer & ~(EFER_LMA | EFER_LME),
		  "26.3.2.1: 32-bit guest: EFER.LMA/LME = 0 (IA-32e mode guest = 0), other bits kept");
	report_eq(vmx_host_seen.msr[SEEN_EFER] & (EFER_LMA | EFER_LME), EFER_LMA | EFER_LME,
		  "27.5.1: host EFER.LMA/LME = host address-space size after the exit");
}

/* ---- 27.3 saving guest state, 27.2 exit information ---- */

static void test_saving(void)
{
	uint64_t rsp0 = vmx_scratch_page(1) + 0x800;
	struct vmx_seen_dtr gdtr = sgdt_now(), idtr = sidt_now();
	struct vmx_outcome o;
	bool msrs;

	vmx_baseline(64);
	msrs = guest_msrs_readable();
	g_read_msrs = msrs;
	g_new_gdtr = (struct vmx_seen_dtr){ 0x3f, gdtr.base };
	g_new_idtr = (struct vmx_seen_dtr){ 0x7ff, idtr.base };
	g_new_sysenter_cs = 0x4560;
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_change64);
	vmwrite(VMCS_GUEST_RSP, rsp0);
	o = vmx_try_launch();
	if (!expect_exit(o, EXIT_REASON_VMCALL, "27.3 saving"))
		return;
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_change64_vmcall, "27.3.3: RIP saved = the VMCALL");
	report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), VMX_VMCALL_LEN, "27.2.5: exit instruction length 3 (VMCALL)");
	report_eq(vmread(VMCS_GUEST_RSP), rsp0 - 0x40, "27.3.3: RSP saved");
	report_eq(vmread(VMCS_GUEST_RFLAGS) & (RFLAGS_CF | RFLAGS_DF | 2), RFLAGS_CF | RFLAGS_DF | 2,
		  "27.3.3: RFLAGS saved (CF, DF set by the guest)");
	report_eq(vmread(VMCS_GUEST_ES_SELECTOR), 0, "27.3.2: ES selector saved (null)");
	report(vmread(VMCS_GUEST_ES_AR) & AR_UNUSABLE_BIT, "27.3.2: ES saved as unusable after loading null");
	report_eq(vmread(VMCS_GUEST_GDTR_LIMIT), 0x3f, "27.3.2: GDTR limit saved (guest LGDT)");
	report_eq(vmread(VMCS_GUEST_IDTR_LIMIT), 0x7ff, "27.3.2: IDTR limit saved (guest LIDT)");
	report_eq(vmread(VMCS_GUEST_GDTR_BASE), gdtr.base, "27.3.2: GDTR base saved");
	if (msrs)
		report_eq(vmread(VMCS_GUEST_IA32_SYSENTER_CS), 0x4560, "27.3.1: IA32_SYSENTER_CS saved (guest WRMSR)");
	report_eq(vmread(VMCS_EXIT_INTR_INFO) & INTR_INFO_VALID, 0, "27.2.2: exit interruption information invalid");

	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTRUCTION_LEN));
	vmx_guest_regs[0] = 0;
	o = vmx_try_resume();
	if (!expect_exit(o, EXIT_REASON_VMCALL, "27.3 saving: VMRESUME"))
		return;
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_change64_vmcall2, "VMRESUME continues after the VMCALL");
	report_eq((uint32_t)vmx_guest_regs[0], VMX_GUEST_MAGIC, "VMRESUME: guest RAX after the resume");
	report_eq(vmread(VMCS_GUEST_RFLAGS) & RFLAGS_DF, 0, "27.3.3: RFLAGS.DF saved after CLD");

	/* 27.3.4: blocking by STI. */
	vmx_baseline(64);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_sti64);
	o = vmx_try_launch();
	if (!expect_exit(o, EXIT_REASON_VMCALL, "27.3.4 STI blocking"))
		return;
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_sti64_vmcall, "27.3.3: RIP of the VMCALL after STI");
	report_eq(vmread(VMCS_GUEST_INTERRUPTIBILITY) & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS), INTR_BLOCK_STI,
		  "27.3.4: interruptibility = blocking by STI (VMCALL in the STI shadow)");
	report(vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF, "27.3.3: RFLAGS.IF = 1 saved after STI");
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + VMX_VMCALL_LEN);
	o = vmx_try_resume();
	if (expect_exit(o, EXIT_REASON_VMCALL, "27.3.4 STI blocking: VMRESUME"))
		report_eq(vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTR_BLOCK_STI, 0,
			  "27.3.4: no STI blocking at the next VMCALL");
}

/* ---- 27.5 loading host state ---- */

static void test_host_loading(void)
{
	uint64_t cr0 = read_cr0(), cr3 = read_cr3(), cr4 = read_cr4();
	uint64_t efer = rdmsr(MSR_EFER), pat = rdmsr(MSR_IA32_PAT);
	uint64_t fsb = rdmsr(MSR_FS_BASE), gsb = rdmsr(MSR_GS_BASE);
	uint64_t se_cs = rdmsr(MSR_SYSENTER_CS), se_esp = rdmsr(MSR_SYSENTER_ESP), se_eip = rdmsr(MSR_SYSENTER_EIP);
	struct vmx_seen_dtr gdtr = sgdt_now(), idtr = sidt_now();
	bool ld_pat = allowed(VMX_CTL_EXIT, EXIT_LOAD_PAT), ld_efer = allowed(VMX_CTL_EXIT, EXIT_LOAD_EFER);
	struct vmx_outcome o;

	vmx_baseline(64);
	memcpy(pml4_copy, (void *)(cr3 & ~0xfffull), sizeof(pml4_copy));
	memcpy(gdt_copy, (void *)gdtr.base, gdtr.limit + 1u);
	memcpy(idt_copy, (void *)idtr.base, idtr.limit + 1u);
	vmwrite(VMCS_HOST_CR0, (cr0 ^ CR0_ET) | CR0_CD | CR0_TS);
	vmwrite(VMCS_HOST_CR3, (uint64_t)pml4_copy);
	vmwrite(VMCS_HOST_CR4, cr4 ^ CR4_TSD);
	vmwrite(VMCS_HOST_DS_SELECTOR, 0);
	vmwrite(VMCS_HOST_ES_SELECTOR, 0);
	vmwrite(VMCS_HOST_FS_SELECTOR, 0);
	vmwrite(VMCS_HOST_GS_SELECTOR, 0);
	vmwrite(VMCS_HOST_FS_BASE, 0x123000);
	vmwrite(VMCS_HOST_GS_BASE, 0xffff800000456000ull);
	vmwrite(VMCS_HOST_GDTR_BASE, (uint64_t)gdt_copy);
	vmwrite(VMCS_HOST_IDTR_BASE, (uint64_t)idt_copy);
	vmwrite(VMCS_HOST_IA32_SYSENTER_CS, 0x7770);
	vmwrite(VMCS_HOST_IA32_SYSENTER_ESP, 0xffff800000001000ull);
	vmwrite(VMCS_HOST_IA32_SYSENTER_EIP, 0xffff800000002000ull);
	if (ld_pat) {
		set_exit_ctl(EXIT_LOAD_PAT, true);
		vmwrite(VMCS_HOST_IA32_PAT, PAT_OTHER);
	}
	if (ld_efer) {
		set_exit_ctl(EXIT_LOAD_EFER, true);
		vmwrite(VMCS_HOST_IA32_EFER, efer ^ EFER_SCE);
	}
	asm volatile("mov %0, %%dr7" : : "r"(0x600ul));   /* GE: no breakpoint enabled */
	o = vmx_try_launch();
	/* Put the host back together before reporting. */
	write_cr0(cr0);
	write_cr3(cr3);
	write_cr4(cr4);
	asm volatile("mov %0, %%ds; mov %0, %%es; mov %0, %%fs; mov %0, %%gs" : : "r"(GUEST_SEL_DATA));
	wrmsr(MSR_FS_BASE, fsb);
	wrmsr(MSR_GS_BASE, gsb);
	wrmsr(MSR_IA32_PAT, pat);
	wrmsr(MSR_EFER, efer);
	wrmsr(MSR_SYSENTER_CS, se_cs);
	wrmsr(MSR_SYSENTER_ESP, se_esp);
	wrmsr(MSR_SYSENTER_EIP, se_eip);
	if (!expect_exit(o, EXIT_REASON_VMCALL, "27.5 host-state loading"))
		return;
	const struct vmx_host_seen *h = &vmx_host_seen;
	report_eq(h->cr0, cr0 | CR0_TS, "27.5.1: CR0 loaded except ET, CD, NW");
	report_eq(h->cr3, (uint64_t)pml4_copy, "27.5.1: CR3 loaded");
	report_eq(h->cr4, cr4 ^ CR4_TSD, "27.5.1: CR4 loaded");
	report_eq(h->dr7, DR7_FIXED, "27.5.1: DR7 = 400H");
	report_eq(h->rflags, 2, "27.5.3: RFLAGS = 2 (only bit 1 set)");
	report_eq(h->cs, KERNEL_CS, "27.5.2: CS selector loaded");
	report_eq(h->ds | h->es | h->fs | h->gs, 0, "27.5.2: null DS/ES/FS/GS selectors loaded");
	report_eq(h->tr, vmread(VMCS_HOST_TR_SELECTOR), "27.5.2: TR selector loaded");
	report_eq(h->msr[SEEN_FS_BASE], 0x123000, "27.5.2: FS base loaded");
	report_eq(h->msr[SEEN_GS_BASE], 0xffff800000456000ull, "27.5.2: GS base loaded");
	report_eq(h->gdtr.base, (uint64_t)gdt_copy, "27.5.2: GDTR base loaded");
	report_eq(h->gdtr.limit, 0xffff, "27.5.2: GDTR limit = FFFFH");
	report_eq(h->idtr.base, (uint64_t)idt_copy, "27.5.2: IDTR base loaded");
	report_eq(h->idtr.limit, 0xffff, "27.5.2: IDTR limit = FFFFH");
	report_eq(h->msr[SEEN_SYSENTER_CS], 0x7770, "27.5.1: IA32_SYSENTER_CS loaded");
	report_eq(h->msr[SEEN_SYSENTER_ESP], 0xffff800000001000ull, "27.5.1: IA32_SYSENTER_ESP loaded");
	report_eq(h->msr[SEEN_SYSENTER_EIP], 0xffff800000002000ull, "27.5.1: IA32_SYSENTER_EIP loaded");
	if (ld_pat)
		report_eq(h->msr[SEEN_PAT], PAT_OTHER, "27.5.1: IA32_PAT loaded (\"load IA32_PAT\" = 1)");
	else
		report_skip("27.5.1: \"load IA32_PAT\" not allowed on this model");
	if (ld_efer)
		report_eq(h->msr[SEEN_EFER], efer ^ EFER_SCE, "27.5.1: IA32_EFER loaded (\"load IA32_EFER\" = 1)");
	else
		report_skip("27.5.1: \"load IA32_EFER\" not allowed on this model");

	/* Without the load controls the guest's PAT and EFER (but LMA/LME)
	 * stay (27.5.1). */
	if (allowed(VMX_CTL_ENTRY, ENTRY_LOAD_PAT) && allowed(VMX_CTL_ENTRY, ENTRY_LOAD_EFER)) {
		vmx_baseline(64);
		set_entry_ctl(ENTRY_LOAD_PAT, true);
		set_entry_ctl(ENTRY_LOAD_EFER, true);
		vmwrite(VMCS_GUEST_IA32_PAT, PAT_OTHER);
		vmwrite(VMCS_GUEST_IA32_EFER, efer ^ EFER_SCE);
		set_exit_ctl(EXIT_LOAD_PAT, false);
		set_exit_ctl(EXIT_LOAD_EFER, false);
		o = vmx_try_launch();
		wrmsr(MSR_IA32_PAT, pat);
		wrmsr(MSR_EFER, efer);
		if (expect_exit(o, EXIT_REASON_VMCALL, "27.5.1 without load PAT/EFER")) {
			report_eq(vmx_host_seen.msr[SEEN_PAT], PAT_OTHER, "27.5.1: IA32_PAT not loaded: the guest's stays");
			report_eq(vmx_host_seen.msr[SEEN_EFER], efer ^ EFER_SCE,
				  "27.5.1: IA32_EFER not loaded: the guest's SCE stays, LMA/LME = 1");
		}
	}
}

/* ---- 26.4, 27.4, 27.6 MSR areas ---- */

#define MSR_KGS MSR_KERNEL_GS_BASE

static void msr_entry(uint64_t *e, uint32_t index, uint64_t value)
{
	e[0] = index;
	e[1] = value;
}

static void test_msr_areas(void)
{
	uint64_t kgs = rdmsr(MSR_KGS);
	struct vmx_outcome o;

	vmx_baseline(64);
	if (!guest_msrs_readable()) {
		report_skip("26.4/27.4: guest RDMSR/WRMSR need MSR bitmaps");
		return;
	}
	memset(msr_area, 0, sizeof(msr_area));
	msr_entry(&msr_area[0][0], MSR_KGS, 0x0000111122223000ull);      /* VM-entry MSR-load */
	msr_entry(&msr_area[1][0], MSR_KGS, SENTINEL);                   /* VM-exit MSR-store */
	msr_entry(&msr_area[2][0], MSR_KGS, 0x0000444455556000ull);      /* VM-exit MSR-load */
	vmwrite(VMCS_ENTRY_MSR_LOAD_ADDR, (uint64_t)msr_area[0]);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 1);
	vmwrite(VMCS_EXIT_MSR_STORE_ADDR, (uint64_t)msr_area[1]);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 1);
	vmwrite(VMCS_EXIT_MSR_LOAD_ADDR, (uint64_t)msr_area[2]);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 1);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_msr64);
	o = vmx_try_launch();
	uint64_t after = rdmsr(MSR_KGS);
	wrmsr(MSR_KGS, kgs);
	if (!expect_exit(o, EXIT_REASON_VMCALL, "MSR areas"))
		return;
	report_eq(g_msr[0], 0x0000111122223000ull, "26.4: the guest reads the value of the VM-entry MSR-load area");
	report_eq(msr_area[1][1], 0x0000199977778888ull, "27.4: the VM-exit MSR-store area holds the guest's value (its WRMSR)");
	report_eq(after, 0x0000444455556000ull, "27.6: the host has the value of the VM-exit MSR-load area");
	report_eq(vmx_host_seen.msr[SEEN_KERNEL_GS_BASE], 0x0000444455556000ull, "27.6: loaded by the exit itself");

	/* A bad third entry (bits 63:32 of its first quadword not 0, 26.4):
	 * reason 34 with the index 3; host state loaded (26.7). */
	vmx_baseline(64);
	memset(msr_area, 0, sizeof(msr_area));
	msr_entry(&msr_area[0][0], MSR_KGS, 0x1000);
	msr_entry(&msr_area[0][2], MSR_KGS, 0x2000);
	msr_entry(&msr_area[0][4], MSR_KGS, 0x3000);
	msr_area[0][4] |= 1ull << 32;
	vmwrite(VMCS_ENTRY_MSR_LOAD_ADDR, (uint64_t)msr_area[0]);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 3);
	uint64_t rip = vmread(VMCS_GUEST_RIP), rsp = vmread(VMCS_GUEST_RSP), rfl = vmread(VMCS_GUEST_RFLAGS);
	o = vmx_try_launch();
	wrmsr(MSR_KGS, kgs);
	report(o.res == VMX_OK, "26.4: a bad MSR-load entry is a VM-entry failure, not a VMfail");
	report_eq(o.exit_reason, EXIT_REASON_MSR_LOADING | EXIT_REASON_ENTRY_FAILURE,
		  "26.7: exit reason 34 with bit 31 set");
	report_eq(o.qual, 3, "26.7: exit qualification = 1-based index of the failing entry");
	report_eq(vmx_host_seen.rflags, 2, "26.7/27.5.3: host RFLAGS = 2 after the failure");
	report_eq(vmx_host_seen.cr3, read_cr3(), "26.7/27.5.1: host CR3 loaded");
	report_eq(vmx_host_seen.gdtr.limit, 0xffff, "26.7/27.5.2: GDTR limit FFFFH");
	report_eq(vmread(VMCS_GUEST_RIP), rip, "26.7: guest RIP field unchanged");
	report_eq(vmread(VMCS_GUEST_RSP), rsp, "26.7: guest RSP field unchanged");
	report_eq(vmread(VMCS_GUEST_RFLAGS), rfl, "26.7: guest RFLAGS field unchanged");
	/* 26.7 / VMLAUNCH pseudocode: the launch state stays clear. */
	o = vmx_try_resume();
	report(o.res == VMX_FAIL_VALID && o.error == VMERR_VMRESUME_NOT_LAUNCHED,
	       "26.7: after the failed VMLAUNCH the VMCS is still clear: VMRESUME is VMfailValid(5) (got %d/%u)",
	       o.res, o.error);
}

/* ---- 26.7 VM-entry failure on guest state ---- */

static const uint32_t guest_fields[] = {
#define VMCS_FIELD(enc, name, title, dep, bit) enc,
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

static void test_entry_failure(void)
{
	static uint64_t before[ARRAY_SIZE(guest_fields)];
	uint64_t kgs = rdmsr(MSR_KGS);
	struct vmx_outcome o;
	unsigned bad = 0;

	/* A first good exit, so that the exit-information fields hold known
	 * values (VMCALL: length 3). */
	vmx_baseline(64);
	o = vmx_try_launch();
	if (!expect_exit(o, EXIT_REASON_VMCALL, "26.7 setup"))
		return;
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + VMX_VMCALL_LEN);
	memset(msr_area, 0, sizeof(msr_area));
	msr_entry(&msr_area[1][0], MSR_KGS, SENTINEL);
	msr_entry(&msr_area[2][0], MSR_KGS, 0xabcd0000ull);
	vmwrite(VMCS_EXIT_MSR_STORE_ADDR, (uint64_t)msr_area[1]);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 1);
	vmwrite(VMCS_EXIT_MSR_LOAD_ADDR, (uint64_t)msr_area[2]);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 1);
	/* 26.3.1.4: RFLAGS bit 1 must be 1. An event to inject, too. */
	vmwrite(VMCS_GUEST_RFLAGS, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT | VEC_UD);
	/* Host fields that differ from the state at VMRESUME, so that the
	 * failure is seen to load them (26.7 step 2). */
	uint64_t fsb = rdmsr(MSR_FS_BASE);
	vmwrite(VMCS_HOST_FS_BASE, 0x5000);
	asm volatile("mov %0, %%dr7" : : "r"(0x600ul));
	for (unsigned i = 0; i < ARRAY_SIZE(guest_fields); i++)
		if (vmx_enc_type(guest_fields[i]) == VMX_T_GUEST)
			before[i] = vmread(guest_fields[i]);
	o = vmx_try_resume();
	uint64_t kgs_after = rdmsr(MSR_KGS);
	wrmsr(MSR_KGS, kgs);
	wrmsr(MSR_FS_BASE, fsb);
	report(o.res == VMX_OK, "26.7: invalid guest state is a VM-entry failure (VM exit), not a VMfail");
	report_eq(o.exit_reason, EXIT_REASON_INVALID_GUEST_STATE | EXIT_REASON_ENTRY_FAILURE,
		  "26.7: exit reason 33 with bit 31 set");
	report_eq(o.qual, 0, "26.7: exit qualification 0 for an RFLAGS check");
	for (unsigned i = 0; i < ARRAY_SIZE(guest_fields); i++)
		if (vmx_enc_type(guest_fields[i]) == VMX_T_GUEST && vmread(guest_fields[i]) != before[i]) {
			printf("      field %#x: %#lx -> %#lx\n", guest_fields[i], before[i], vmread(guest_fields[i]));
			bad++;
		}
	report(bad == 0, "26.7: the guest-state area is not modified (%u fields changed)", bad);
	report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), VMX_VMCALL_LEN,
		  "26.7: other exit-information fields unmodified (instruction length of the last exit)");
	report(vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID,
	       "26.7: the valid bit of the VM-entry interruption information is not cleared");
	report_eq(msr_area[1][1], SENTINEL, "26.7: no MSRs are saved into the VM-exit MSR-store area");
	report_eq(kgs_after, 0xabcd0000ull, "26.7: the VM-exit MSR-load area is loaded");
	report_eq(vmx_host_seen.rflags, 2, "26.7/27.5.3: host RFLAGS = 2");
	report_eq(vmx_host_seen.dr7, DR7_FIXED, "26.7/27.5.1: host DR7 = 400H");
	report_eq(vmx_host_seen.idtr.limit, 0xffff, "26.7/27.5.2: host IDTR limit FFFFH");
	report_eq(vmx_host_seen.cr4, vmread(VMCS_HOST_CR4), "26.7/27.5.1: host CR4 loaded");
	report_eq(vmx_host_seen.msr[SEEN_FS_BASE], 0x5000, "26.7/27.5.2: host FS base loaded from its field");

	/* Fixed, the same VMCS (still launched) resumes. */
	vmwrite(VMCS_GUEST_RFLAGS, 2);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	o = vmx_try_resume();
	report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL,
	       "26.7: after the failure the fixed VMCS resumes (exit %#x)", o.exit_reason);
	report_eq((uint32_t)vmx_guest_regs[0], VMX_GUEST_MAGIC, "26.7: resumed at the second VMCALL");
}

/* ---- 26.5 event injection, 26.6 activity states ---- */

static void build_guest_idt(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)g_idt_stubs + 16 * v;
		guest_idt[2 * v] = (a & 0xffff) | (uint64_t)GUEST_SEL_CODE << 16 | 0x8eull << 40 |
				   ((a >> 16) & 0xffff) << 48;
		guest_idt[2 * v + 1] = a >> 32;
	}
}

struct inject_case {
	const char *what;
	uint32_t type, vector;
	bool has_error;
	uint32_t error;
	uint32_t insn_len;      /* VM-entry instruction length */
	uint64_t rflags;        /* guest RFLAGS */
	uint32_t activity;
};

/* Enters at g_landing with the event; the stub of the vector VMCALLs. */
static void run_inject(const struct inject_case *k)
{
	uint64_t rsp = vmx_scratch_page(2) + 0x800;
	uint64_t *frame;
	struct vmx_outcome o;

	vmx_baseline(64);
	vmwrite(VMCS_GUEST_IDTR_BASE, (uint64_t)guest_idt);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, sizeof(guest_idt) - 1);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_landing);
	vmwrite(VMCS_GUEST_RSP, rsp);
	vmwrite(VMCS_GUEST_RFLAGS, k->rflags);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, k->activity);
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | k->type << INTR_INFO_TYPE_SHIFT | k->vector |
					      (k->has_error ? INTR_INFO_HAS_ERROR : 0));
	vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, k->error);
	vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, k->insn_len);
	vmx_guest_regs[0] = 0;
	o = vmx_try_launch();
	if (!expect_exit(o, EXIT_REASON_VMCALL, k->what))
		return;
	report_eq(vmx_guest_regs[0], k->vector, "%s: the guest's handler for vector %u ran", k->what, k->vector);
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_idt_stubs + 16 * k->vector + STUB_VMCALL_OFF,
		  "%s: exit at the handler's VMCALL", k->what);
	frame = (uint64_t *)vmread(VMCS_GUEST_RSP);
	if (k->has_error) {
		report_eq(frame[0], k->error, "%s: error code pushed", k->what);
		frame++;
	}
	report_eq(vmread(VMCS_GUEST_RSP), rsp - 8 * (5 + k->has_error), "%s: frame size", k->what);
	report_eq(frame[0], (uint64_t)g_landing + k->insn_len, "%s: pushed RIP = guest RIP + %u", k->what,
		  k->insn_len);
	report_eq(frame[1], GUEST_SEL_CODE, "%s: pushed CS", k->what);
	report_eq(frame[2], k->rflags, "%s: pushed RFLAGS = guest RFLAGS", k->what);
	report_eq(frame[3], rsp, "%s: pushed RSP", k->what);
	report_eq(vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF, 0, "%s: interrupt gate cleared IF", k->what);
	report_eq(vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID, 0,
		  "%s: 27.2.3: the VM-entry interruption-information valid bit reads 0 after the exit", k->what);
	report_eq(vmread(VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_ACTIVE, "%s: active at the exit", k->what);
	if (k->type == INTR_TYPE_NMI)
		report(vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTR_BLOCK_NMI,
		       "%s: 26.5.1.2: blocking by NMI after the injected NMI (saved at the next exit)", k->what);
}

static void test_injection(void)
{
	static const struct inject_case cases[] = {
		{ "26.5.1 #GP with error code", INTR_TYPE_HW_EXCEPTION, VEC_GP, true, 0x1230, 0, 2, 0 },
		{ "26.5.1 #UD", INTR_TYPE_HW_EXCEPTION, VEC_UD, false, 0, 0, 2, 0 },
		{ "26.5.1 external interrupt 40H", INTR_TYPE_EXT_INTR, 0x40, false, 0, 0, 2 | RFLAGS_IF, 0 },
		{ "26.5.1 software interrupt 41H", INTR_TYPE_SW_INTR, 0x41, false, 0, 2, 2, 0 },
		{ "26.5.1 privileged software exception (ICEBP)", INTR_TYPE_PRIV_SW_EXCEPTION, VEC_DB, false, 0, 1,
		  2, 0 },
		{ "26.5.1 software exception #BP", INTR_TYPE_SW_EXCEPTION, VEC_BP, false, 0, 1, 2, 0 },
		{ "26.5.1 NMI", INTR_TYPE_NMI, VEC_NMI, false, 0, 0, 2, 0 },
		{ "26.6.2 HLT state woken by an injected interrupt", INTR_TYPE_EXT_INTR, 0x42, false, 0, 0,
		  2 | RFLAGS_IF, ACTIVITY_HLT },
		{ "26.6.2 HLT state woken by an injected NMI", INTR_TYPE_NMI, VEC_NMI, false, 0, 0, 2, ACTIVITY_HLT },
	};

	build_guest_idt();
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		run_inject(&cases[i]);
}

/* 26.6.2: entered in the HLT state with nothing to inject, the guest
 * sleeps until an event: the local APIC timer's interrupt (external-
 * interrupt exiting 0) wakes it and goes through the guest IDT with the
 * pushed RIP = GUEST_RIP; had the guest not slept it would have run
 * g_landing's VMCALL with RAX = FFFFH first. */
static void test_hlt_sleeps(void)
{
	struct vmx_outcome o;
	uint64_t *frame;

	build_guest_idt();
	vmx_baseline(64);
	vmwrite(VMCS_GUEST_IDTR_BASE, (uint64_t)guest_idt);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, sizeof(guest_idt) - 1);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_landing);
	vmwrite(VMCS_GUEST_RSP, vmx_scratch_page(3) + 0x800);
	vmwrite(VMCS_GUEST_RFLAGS, 2 | RFLAGS_IF);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	apic_sw_enable(0xff);
	apic_write(APIC_TDCR, apic_tdcr_for(1));
	apic_write(APIC_LVTT, 0x50 | APIC_TIMER_ONESHOT);
	apic_write(APIC_TMICT, 20000);
	vmx_guest_regs[0] = 0;
	o = vmx_try_launch();
	apic_write(APIC_LVTT, APIC_LVT_MASKED);
	apic_eoi();
	if (!expect_exit(o, EXIT_REASON_VMCALL, "26.6.2 HLT state without an event"))
		return;
	report_eq(vmx_guest_regs[0], 0x50, "26.6.2: the guest slept in HLT until the timer interrupt");
	frame = (uint64_t *)vmread(VMCS_GUEST_RSP);
	report_eq(frame[0], (uint64_t)g_landing, "26.6.2: the interrupt's pushed RIP is GUEST_RIP");
}

/* ---- 25.1.2, 27.2.1, 27.2.4: VMX instructions in non-root operation ---- */

extern char gx64[], gx64_end[];
asm(".code64\n"
    "gx64:\n"
    "gx64_0:	vmread %rax, %rbx\n"
    "gx64_1:	vmread %rax, 0x10(%rbx)\n"
    "gx64_2:	vmwrite 0x123(%rsi,%rdi,4), %rcx\n"
    "gx64_3:	vmwrite %rdx, %r10\n"
    "gx64_4:	vmclear -8(%rbp)\n"
    "gx64_5:	vmptrld %fs:0x40(,%r9,8)\n"
    "gx64_6:	vmptrst (%r12d)\n"
    "gx64_7:	vmxon %gs:(%rax)\n"
    "gx64_8:	invept 0x20(%rdx), %r8\n"
    "gx64_9:	invvpid -0x80000000(%rcx,%rbx,2), %r15\n"
    "gx64_10:	vmptrld 0x100(%rip)\n"
    "gx64_11:	vmread %r13, (%rsp)\n"
    "gx64_12:	vmlaunch\n"
    "gx64_13:	vmresume\n"
    "gx64_14:	vmxoff\n"
    "gx64_15:	cpuid\n"
    "gx64_16:	vmcall\n"
    "gx64_end:\n"
    "	jmp gx64_end\n");
extern char gx64_0[], gx64_1[], gx64_2[], gx64_3[], gx64_4[], gx64_5[], gx64_6[], gx64_7[], gx64_8[],
	gx64_9[], gx64_10[], gx64_11[], gx64_12[], gx64_13[], gx64_14[], gx64_15[], gx64_16[];

extern char gx32[], gx32_end[];
asm(".code32\n"
    "gx32:\n"
    "gx32_0:	vmread %eax, %ebx\n"
    "gx32_1:	vmclear 0x7ff0(%bx,%si)\n"
    "gx32_2:	vmptrld (%bp,%di)\n"
    "gx32_3:	vmwrite %es:0x12345678(,%edx,8), %ecx\n"
    "gx32_4:	invvpid -4(%ebp), %esi\n"
    "gx32_5:	vmcall\n"
    "gx32_end:\n"
    "	jmp gx32_end\n"
    ".code64\n");
extern char gx32_0[], gx32_1[], gx32_2[], gx32_3[], gx32_4[], gx32_5[];

/* Instruction-information fields (Tables 27-9, 27-13, 27-14). */
#define II_SCALE(s) ((uint32_t)(s))
#define II_REG1(r) ((uint32_t)(r) << 3)
#define II_ASZ(a) ((uint32_t)(a) << 7)
#define II_REG (1u << 10)
#define II_SEG(s) ((uint32_t)(s) << 15)
#define II_INDEX(r) ((uint32_t)(r) << 18)
#define II_NO_INDEX (1u << 22)
#define II_BASE(r) ((uint32_t)(r) << 23)
#define II_NO_BASE (1u << 27)
#define II_REG2(r) ((uint32_t)(r) << 28)
/* Defined bits: register forms of VMREAD/VMWRITE; memory forms with and
 * without an index (scaling is undefined without one) and base; bits 31:28
 * only for VMREAD/VMWRITE/INVEPT/INVVPID. */
#define M_REGFORM (0x78u | II_REG | 0xf0000000u)
#define M_MEM (0x380u | II_REG | 0x38000u | II_NO_INDEX | II_NO_BASE)
#define M_IDX (3u | 0x3c0000u)
#define M_BASE 0x7800000u
#define M_REG2 0xf0000000u
enum { ES_ = 0, CS_, SS_, DS_, FS_, GS_ };
enum { A16 = 0, A32, A64 };

struct xrow {
	const char *text;
	const char *label;
	uint32_t reason;
	uint64_t qual;          /* displacement (RIP-relative: + next RIP, added below) */
	bool qual_defined;
	uint32_t info, mask;
	unsigned qual_bits;     /* bits beyond the address size are undefined (27.2.1) */
};

/* INVEPT and INVVPID are #UD where the model cannot enable EPT / VPID
 * (30.3; A.3.3, A.10): such rows are skipped. */
static bool insn_supported(uint32_t reason)
{
	/* IA32_VMX_EPT_VPID_CAP exists only when EPT or VPID can be 1 (A.10). */
	if (reason == EXIT_REASON_INVEPT)
		return allowed(VMX_CTL_PROC2, PROC2_EPT) && (vmx_msr(MSR_IA32_VMX_EPT_VPID_CAP) & (1ull << 20));
	if (reason == EXIT_REASON_INVVPID)
		return allowed(VMX_CTL_PROC2, PROC2_VPID) && (vmx_msr(MSR_IA32_VMX_EPT_VPID_CAP) & (1ull << 32));
	return true;
}

/* Enters at each row's instruction in turn (VMLAUNCH, then VMRESUME) and
 * checks the exit it causes; the VMCALL at end closes the sequence. */
static void run_xrows(const char *mode, const struct xrow *rows, unsigned n, char *const *labels, char *end)
{
	struct vmx_outcome o;
	bool launched = false;

	for (unsigned k = 0; k < n; k++) {
		const struct xrow *r = &rows[k];
		uint64_t rip = (uint64_t)labels[k];
		uint64_t len = (uint64_t)(k + 1 < n ? labels[k + 1] : end) - rip;
		uint64_t qmask = r->qual_bits == 64 ? ~0ull : (1ull << r->qual_bits) - 1;

		if (!insn_supported(r->reason)) {
			report_skip("%s %s: not supported by this model (#UD)", mode, r->text);
			continue;
		}
		vmwrite(VMCS_GUEST_RIP, rip);
		o = launched ? vmx_try_resume() : vmx_try_launch();
		launched = true;
		if (!expect_exit(o, r->reason, r->text))
			return;
		report_eq(vmread(VMCS_GUEST_RIP), rip, "%s %s: GUEST_RIP is the instruction (27.3.3)", mode, r->text);
		report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), len, "%s %s: instruction length %lu (27.2.5)", mode,
			  r->text, len);
		if (r->qual_defined)
			report_eq(vmread(VMCS_EXIT_QUALIFICATION) & qmask, r->qual & qmask,
				  "%s %s: exit qualification = displacement (27.2.1)", mode, r->text);
		if (r->mask)
			report_eq(vmread(VMCS_EXIT_INSTRUCTION_INFO) & r->mask, r->info,
				  "%s %s: instruction information (27.2.4)", mode, r->text);
	}
	vmwrite(VMCS_GUEST_RIP, (uint64_t)end);
	o = launched ? vmx_try_resume() : vmx_try_launch();
	expect_exit(o, EXIT_REASON_VMCALL, "the last VMCALL");
}

static void test_nonroot_insns(void)
{
	char *const l64[] = { gx64_0, gx64_1, gx64_2, gx64_3, gx64_4, gx64_5, gx64_6, gx64_7, gx64_8,
			      gx64_9, gx64_10, gx64_11, gx64_12, gx64_13, gx64_14, gx64_15 };
	const struct xrow r64[] = {
		{ "vmread %rax,%rbx", 0, EXIT_REASON_VMREAD, 0, true, II_REG | II_REG1(3) | II_REG2(0), M_REGFORM, 64 },
		{ "vmread %rax,0x10(%rbx)", 0, EXIT_REASON_VMREAD, 0x10, true,
		  II_ASZ(A64) | II_SEG(DS_) | II_NO_INDEX | II_BASE(3) | II_REG2(0), M_MEM | M_BASE | M_REG2, 64 },
		{ "vmwrite 0x123(%rsi,%rdi,4),%rcx", 0, EXIT_REASON_VMWRITE, 0x123, true,
		  II_SCALE(2) | II_ASZ(A64) | II_SEG(DS_) | II_INDEX(7) | II_BASE(6) | II_REG2(1),
		  M_MEM | M_IDX | M_BASE | M_REG2, 64 },
		{ "vmwrite %rdx,%r10", 0, EXIT_REASON_VMWRITE, 0, true, II_REG | II_REG1(2) | II_REG2(10), M_REGFORM, 64 },
		{ "vmclear -8(%rbp)", 0, EXIT_REASON_VMCLEAR, (uint64_t)-8, true,
		  II_ASZ(A64) | II_SEG(SS_) | II_NO_INDEX | II_BASE(5), M_MEM | M_BASE, 64 },
		{ "vmptrld %fs:0x40(,%r9,8)", 0, EXIT_REASON_VMPTRLD, 0x40, true,
		  II_SCALE(3) | II_ASZ(A64) | II_SEG(FS_) | II_INDEX(9) | II_NO_BASE, M_MEM | M_IDX, 64 },
		{ "vmptrst (%r12d)", 0, EXIT_REASON_VMPTRST, 0, true,
		  II_ASZ(A32) | II_SEG(DS_) | II_NO_INDEX | II_BASE(12), M_MEM | M_BASE, 32 },
		{ "vmxon %gs:(%rax)", 0, EXIT_REASON_VMXON, 0, true,
		  II_ASZ(A64) | II_SEG(GS_) | II_NO_INDEX | II_BASE(0), M_MEM | M_BASE, 64 },
		{ "invept 0x20(%rdx),%r8", 0, EXIT_REASON_INVEPT, 0x20, true,
		  II_ASZ(A64) | II_SEG(DS_) | II_NO_INDEX | II_BASE(2) | II_REG2(8), M_MEM | M_BASE | M_REG2, 64 },
		{ "invvpid -0x80000000(%rcx,%rbx,2),%r15", 0, EXIT_REASON_INVVPID, 0xffffffff80000000ull, true,
		  II_SCALE(1) | II_ASZ(A64) | II_SEG(DS_) | II_INDEX(3) | II_BASE(1) | II_REG2(15),
		  M_MEM | M_IDX | M_BASE | M_REG2, 64 },
		{ "vmptrld 0x100(%rip)", 0, EXIT_REASON_VMPTRLD, 0x100 + (uint64_t)gx64_11, true,
		  II_ASZ(A64) | II_SEG(DS_) | II_NO_INDEX | II_NO_BASE, M_MEM, 64 },
		{ "vmread %r13,(%rsp)", 0, EXIT_REASON_VMREAD, 0, true,
		  II_ASZ(A64) | II_SEG(SS_) | II_NO_INDEX | II_BASE(4) | II_REG2(13), M_MEM | M_BASE | M_REG2, 64 },
		{ "vmlaunch", 0, EXIT_REASON_VMLAUNCH, 0, false, 0, 0, 64 },
		{ "vmresume", 0, EXIT_REASON_VMRESUME, 0, false, 0, 0, 64 },
		{ "vmxoff", 0, EXIT_REASON_VMXOFF, 0, false, 0, 0, 64 },
		{ "cpuid", 0, EXIT_REASON_CPUID, 0, false, 0, 0, 64 },
	};
	char *const l32[] = { gx32_0, gx32_1, gx32_2, gx32_3, gx32_4 };
	const struct xrow r32[] = {
		{ "vmread %eax,%ebx", 0, EXIT_REASON_VMREAD, 0, true, II_REG | II_REG1(3) | II_REG2(0), M_REGFORM, 32 },
		{ "vmclear 0x7ff0(%bx,%si)", 0, EXIT_REASON_VMCLEAR, 0x7ff0, true,
		  II_SCALE(0) | II_ASZ(A16) | II_SEG(DS_) | II_INDEX(6) | II_BASE(3), M_MEM | M_IDX | M_BASE, 16 },
		{ "vmptrld (%bp,%di)", 0, EXIT_REASON_VMPTRLD, 0, true,
		  II_SCALE(0) | II_ASZ(A16) | II_SEG(SS_) | II_INDEX(7) | II_BASE(5), M_MEM | M_IDX | M_BASE, 16 },
		{ "vmwrite %es:0x12345678(,%edx,8),%ecx", 0, EXIT_REASON_VMWRITE, 0x12345678, true,
		  II_SCALE(3) | II_ASZ(A32) | II_SEG(ES_) | II_INDEX(2) | II_NO_BASE | II_REG2(1),
		  M_MEM | M_IDX | M_REG2, 32 },
		{ "invvpid -4(%ebp),%esi", 0, EXIT_REASON_INVVPID, 0xfffffffcu, true,
		  II_ASZ(A32) | II_SEG(SS_) | II_NO_INDEX | II_BASE(5) | II_REG2(6), M_MEM | M_BASE | M_REG2, 32 },
	};

	vmx_baseline(64);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)gx64);
	run_xrows("64-bit", r64, ARRAY_SIZE(r64), l64, gx64_16);
	vmx_baseline(32);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)gx32);
	run_xrows("32-bit", r32, ARRAY_SIZE(r32), l32, gx32_5);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start()) {
		test_guest_state_loading();
		test_efer_without_load();
		test_saving();
		test_host_loading();
		test_msr_areas();
		test_entry_failure();
		test_injection();
		test_hlt_sleeps();
		test_nonroot_insns();
	}
	report_summary();
}
