/* Unrestricted guest (SDM vol. 3C, the edition whose VM-entry chapter is
 * 26): a guest entered in real-address mode under "unrestricted guest" and
 * an identity EPT runs real-mode code, takes a software interrupt through
 * its own IVT, switches to protected mode, turns on PAE paging, EFER.LME
 * and CR0.PG (IA-32e mode, compatibility mode) and far-jumps to 64-bit
 * code, with a VMCALL after each stage (RBX = the stage). The host checks
 * at every stage the exit, GUEST_CR0 against the CR0 guest/host mask and
 * read shadow, GUEST_EFER and the "IA-32e mode guest" VM-entry control the
 * exit stores (27.2, A.6), and the segment fields (27.3.2). Also: the
 * relaxed and the remaining guest-state checks (26.3.1.1, 26.3.1.2,
 * 26.3.1.4), the "deliver error code" rule for a real-mode guest
 * (26.2.1.3), exceptions in real mode that exit without an error code
 * (27.2.2), events injected into a real-mode guest through its IVT
 * (26.5.1), a host-owned CR0.PE (25.1.3), and a guest entered at the
 * reset-vector state. core2 has no secondary controls: every case SKIPs.
 */
#include "guest.h"
#include "vmx_ept.h"
#include "vmx_vmcs.h"
#include "vmx/caps_bits.h"

#define BLOB 0x30000u           /* guest-physical = linear; real-mode CS = BLOB >> 4 */
#define BLOB_SEL 0x3000        /* BLOB >> 4 */
#define IVT_OFF 0x1000u         /* the guest's IVT, IDTR.base = BLOB + IVT_OFF */
#define STACK_TOP 0xfff0u       /* SS = BLOB >> 4, SP */
#define XSTR(x) STR(x)
#define STR(x) #x

#define CR0_PE (1ul << 0)
#define CR0_ET (1ul << 4)
#define CR0_PG (1ul << 31)
#define CR0_NW (1ul << 29)
#define CR0_CD (1ul << 30)
#define FL_IF (1ul << 9)
#define FL_VM (1ul << 17)
#define AR_CODE16 0x009bu       /* execute/read accessed code, S, P, DPL 0, 16-bit */
#define AR_DATA16 0x0093u       /* read/write accessed data, S, P, DPL 0, 16-bit */
#define AR_TSS32_BUSY 0x008bu
#define AR_LDT_UNUSABLE 0x10000u
#define AR_CODE32 0xc09bu       /* the guest GDT's 08H: G, D/B */
#define AR_CODE64 0xa09bu       /* the guest GDT's 18H: G, L */
#define AR_DATA32 0xc093u       /* the guest GDT's 10H */
#define PTE_P_RW 0x3ull
#define PDE_PS 0x80ull
#define CR0_FIXED0_MSR 0x486u
#define CR4_FIXED0_MSR 0x488u
#define VMX_MISC_MSR 0x485u

enum { RAX = 0, RCX, RDX, RBX, RSP, RBP, RSI, RDI };

extern char ug_blob[], ug_blob_end[], ug_real[], ug_vmcall1[], ug_movcr0[], ug_pm32[], ug_vmcall2[],
	ug_vmcall3[], ug_vmcall4[], ug_int42[], ug_h43[], ug_h43_vmcall[], ug_h0d[], ug_h0d_vmcall[], ug_ud[],
	ug_gp[], ug_landing[], ug_gdt[], ug_vmlaunch[], ug_vmcall5[],
	ug_vmcall6[], ug_rv[], ug_rv_end[], ug_reset[], ug_vmcall7[];

/* The guest: 16-bit code copied to BLOB and run there (offsets from
 * ug_blob in real mode, BLOB + offset once CS is flat). */
asm(".section .rodata\n"
    ".code16\n"
    "ug_blob:\n"
    "ug_real:\n"                                /* stage 1: real-address mode */
    "	mov $0x1234, %ax\n"
    "	add $0x1111, %ax\n"
    "	int $0x42\n"                            /* IVT[42H] = ug_int42: DX = BEEFH */
    "	mov %cr0, %ecx\n"                       /* the guest's view of CR0 */
    "	mov $1, %ebx\n"
    "ug_vmcall1:\n"
    "	vmcall\n"
    "	lgdtl ug_gdtr - ug_blob\n"              /* DS base = BLOB */
    "	mov %cr0, %eax\n"
    "	or $1, %eax\n"
    "ug_movcr0:\n"
    "	mov %eax, %cr0\n"                       /* PE = 1 */
    "	ljmpl $0x08, $(" XSTR(BLOB) " + (ug_pm32 - ug_blob))\n"
    "ug_int42:\n"
    "	mov $0xbeef, %dx\n"
    "	iret\n"
    "ug_h43:\n"                                 /* IVT[43H]: an injected external interrupt */
    "	mov %sp, %si\n"
    "	mov $0x43, %ebx\n"
    "ug_h43_vmcall:\n"
    "	vmcall\n"
    "ug_h0d:\n"                                 /* IVT[0DH]: an injected #GP */
    "	mov %sp, %si\n"
    "	mov $0x0d, %ebx\n"
    "ug_h0d_vmcall:\n"
    "	vmcall\n"
    "ug_ud:\n"
    "	ud2\n"
    "ug_gp:\n"
    "	mov 0xffff, %ax\n"                      /* a word at DS:FFFFH: #GP(0) in real mode */
    "ug_landing:\n"
    "	mov $0x99, %ebx\n"
    "	vmcall\n"
    "ug_vmlaunch:\n"
    "	vmlaunch\n"                            /* real mode: #UD before any VM exit (30.3) */
    ".code32\n"
    "ug_pm32:\n"                                /* stage 2: protected mode, no paging */
    "	mov $0x10, %ax\n"
    "	mov %ax, %ds\n"
    "	mov %ax, %es\n"
    "	mov %ax, %fs\n"
    "	mov %ax, %gs\n"
    "	mov %ax, %ss\n"
    "	mov $(" XSTR(BLOB) " + " XSTR(STACK_TOP) "), %esp\n"
    "	mov $2, %ebx\n"
    "ug_vmcall2:\n"
    "	vmcall\n"
    "	mov %cr4, %eax\n"                       /* stage 3: PAE, CR3 = EDI, LME, PG */
    "	or $0x20, %eax\n"
    "	mov %eax, %cr4\n"
    "	mov %edi, %cr3\n"
    "	mov $0xc0000080, %ecx\n"
    "	rdmsr\n"
    "	or $0x100, %eax\n"
    "	wrmsr\n"
    "	mov %cr0, %eax\n"
    "	or $0x80000000, %eax\n"
    "	mov %eax, %cr0\n"                       /* IA-32e mode: compatibility mode */
    "	mov $3, %ebx\n"
    "ug_vmcall3:\n"
    "	vmcall\n"
    "	ljmp $0x18, $(" XSTR(BLOB) " + (ug_lm64 - ug_blob))\n"
    ".code64\n"
    "ug_lm64:\n"                                /* stage 4: 64-bit mode */
    "	mov $4, %ebx\n"
    "ug_vmcall4:\n"
    "	vmcall\n"
    "	pushq $0x08\n"                         /* and back down (vol. 3A 10.9.2): compatibility mode */
    "	pushq $(" XSTR(BLOB) " + (ug_compat - ug_blob))\n"
    "	lretq\n"
    ".code32\n"
    "ug_compat:\n"
    "	mov %cr0, %eax\n"
    "	and $0x7fffffff, %eax\n"
    "	mov %eax, %cr0\n"                      /* paging off: EFER.LMA = 0 */
    "	mov $0xc0000080, %ecx\n"
    "	rdmsr\n"
    "	and $~0x100, %eax\n"
    "	wrmsr\n"
    "	mov $5, %ebx\n"
    "ug_vmcall5:\n"                            /* stage 5: protected mode again */
    "	vmcall\n"
    "	ljmp $0x20, $(ug_pm16 - ug_blob)\n"
    ".code16\n"
    "ug_pm16:\n"                               /* 16-bit protected mode, base BLOB */
    "	mov $0x28, %ax\n"
    "	mov %ax, %ds\n"
    "	mov %ax, %es\n"
    "	mov %ax, %ss\n"
    "	mov %cr0, %eax\n"
    "	and $~1, %eax\n"
    "	mov %eax, %cr0\n"                      /* PE = 0 */
    "	ljmp $" XSTR(BLOB_SEL) ", $(ug_real2 - ug_blob)\n"
    "ug_real2:\n"                              /* stage 6: real-address mode again */
    "	mov %cs, %ax\n"
    "	mov %ax, %ds\n"
    "	mov %ax, %ss\n"
    "	mov $" XSTR(STACK_TOP) ", %sp\n"
    "	int $0x42\n"
    "	mov $6, %ebx\n"
    "ug_vmcall6:\n"
    "	vmcall\n"
    "	jmp ug_vmcall6\n"
    "ug_rv:\n"                                 /* copied to FFFFFFF0H: the reset vector */
    "	mov $0xf00d, %dx\n"
    "	mov %cs:0xfffe, %si\n"                 /* the word at FFFFFFFEH, through CS base FFFF0000H */
    "	ljmp $" XSTR(BLOB_SEL) ", $(ug_reset - ug_blob)\n"
    "ug_rv_end:\n"
    "ug_reset:\n"                              /* the 16-bit reset code in low memory */
    "	mov $7, %ebx\n"
    "ug_vmcall7:\n"
    "	vmcall\n"
    "	.balign 8\n"
    "ug_gdt:\n"
    "	.quad 0\n"
    "	.quad 0x00cf9b000000ffff\n"             /* 08H flat 32-bit code */
    "	.quad 0x00cf93000000ffff\n"             /* 10H flat data */
    "	.quad 0x00af9b000000ffff\n"             /* 18H 64-bit code */
    "	.quad 0x00009b030000ffff\n"             /* 20H 16-bit code, base BLOB */
    "	.quad 0x000093030000ffff\n"             /* 28H 16-bit data, base BLOB */
    "ug_gdt_end:\n"
    "ug_gdtr:\n"
    "	.word ug_gdt_end - ug_gdt - 1\n"
    "	.long " XSTR(BLOB) " + (ug_gdt - ug_blob)\n"
    "ug_blob_end:\n"
    ".code64\n"
    ".text\n");

/* The guest's IA-32e paging structures: 4 GiB identity with 2-MByte pages. */
static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd[4][512] __attribute__((aligned(4096)));
static uint8_t msr_bitmap[4096] __attribute__((aligned(4096)));
static uint64_t guest_cr0;      /* the real-mode CR0 the cases start from */

static uint16_t off(const char *p)
{
	return (uint16_t)(p - ug_blob);
}

static bool allowed(enum vmx_ctl_msr ctl, uint64_t bit)
{
	return vmx_allowed1(ctl) & bit;
}

static bool has_unrestricted(void)
{
	return allowed(VMX_CTL_PROC, PROC_SECONDARY_CTLS) && allowed(VMX_CTL_PROC2, PROC2_EPT) &&
	       allowed(VMX_CTL_PROC2, PROC2_UNRESTRICTED);
}

static void guest_seg(uint32_t sel_field, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	/* Selector, limit, AR and base fields of one register: the same
	 * index in four groups (Appendix B). */
	uint32_t k = (sel_field - VMCS_GUEST_ES_SELECTOR) / 2;
	vmwrite(VMCS_GUEST_ES_SELECTOR + 2 * k, sel);
	vmwrite(VMCS_GUEST_ES_BASE + 2 * k, base);
	vmwrite(VMCS_GUEST_ES_LIMIT + 2 * k, limit);
	vmwrite(VMCS_GUEST_ES_AR + 2 * k, ar);
}

static void ivt_set(unsigned vec, const char *handler)
{
	volatile uint16_t *e = (volatile uint16_t *)(uintptr_t)(BLOB + IVT_OFF + 4 * vec);
	e[0] = off(handler);
	e[1] = BLOB_SEL;
}

/* A fresh VMCS whose guest starts in real-address mode at CS:IP =
 * BLOB_SEL:ip: "unrestricted guest" with an identity EPT, CR0 = the
 * FIXED0 bits but PE and PG (plus ET), CR4 = the FIXED0 bits, every
 * segment base BLOB / limit FFFFH, TR a busy 32-bit TSS, LDTR unusable,
 * IDTR = the guest IVT, "IA-32e mode guest" 0, "save IA32_EFER" when the
 * model has it, RDMSR/WRMSR not exiting. */
static void real_guest(const char *ip)
{
	vmx_baseline(64);
	memset((void *)(uintptr_t)BLOB, 0, 0x10000);
	memcpy((void *)(uintptr_t)BLOB, ug_blob, (size_t)(ug_blob_end - ug_blob));
	ivt_set(0x42, ug_int42);
	ivt_set(0x43, ug_h43);
	ivt_set(0x0d, ug_h0d);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_SECONDARY_CTLS, true);
	vmwrite(VMCS_PROC2_CONTROLS, PROC2_EPT | PROC2_UNRESTRICTED);
	vmx_setup_ept();
	if (allowed(VMX_CTL_PROC, PROC_MSR_BITMAPS)) {
		memset(msr_bitmap, 0, sizeof(msr_bitmap));
		vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_MSR_BITMAPS, true);
		vmwrite(VMCS_MSR_BITMAP, (uint64_t)msr_bitmap);
	}
	vmx_set_ctl(VMCS_ENTRY_CONTROLS, ENTRY_IA32E_GUEST, false);
	if (allowed(VMX_CTL_EXIT, EXIT_SAVE_EFER))
		vmx_set_ctl(VMCS_EXIT_CONTROLS, EXIT_SAVE_EFER, true);
	if (allowed(VMX_CTL_ENTRY, ENTRY_LOAD_EFER) || allowed(VMX_CTL_EXIT, EXIT_SAVE_EFER))
		vmwrite(VMCS_GUEST_IA32_EFER, rdmsr(MSR_EFER) & ~(EFER_LME | EFER_LMA));
	guest_cr0 = (vmx_msr(CR0_FIXED0_MSR) & ~(CR0_PE | CR0_PG)) | CR0_ET;
	vmwrite(VMCS_GUEST_CR0, guest_cr0);
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, 0);
	vmwrite(VMCS_CR0_READ_SHADOW, guest_cr0);
	vmwrite(VMCS_GUEST_CR4, vmx_msr(CR4_FIXED0_MSR));
	vmwrite(VMCS_CR4_GUEST_HOST_MASK, 0);
	vmwrite(VMCS_GUEST_CR3, 0);
	guest_seg(VMCS_GUEST_CS_SELECTOR, BLOB_SEL, BLOB, 0xffff, AR_CODE16);
	guest_seg(VMCS_GUEST_SS_SELECTOR, BLOB_SEL, BLOB, 0xffff, AR_DATA16);
	guest_seg(VMCS_GUEST_DS_SELECTOR, BLOB_SEL, BLOB, 0xffff, AR_DATA16);
	guest_seg(VMCS_GUEST_ES_SELECTOR, BLOB_SEL, BLOB, 0xffff, AR_DATA16);
	guest_seg(VMCS_GUEST_FS_SELECTOR, 0, 0, 0xffff, AR_DATA16);
	guest_seg(VMCS_GUEST_GS_SELECTOR, 0, 0, 0xffff, AR_DATA16);
	guest_seg(VMCS_GUEST_TR_SELECTOR, 0, 0, 0xffff, AR_TSS32_BUSY);
	guest_seg(VMCS_GUEST_LDTR_SELECTOR, 0, 0, 0, AR_LDT_UNUSABLE);
	vmwrite(VMCS_GUEST_GDTR_BASE, 0);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_IDTR_BASE, BLOB + IVT_OFF);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0x3ff);
	vmwrite(VMCS_GUEST_RIP, off(ip));
	vmwrite(VMCS_GUEST_RSP, STACK_TOP);
	vmwrite(VMCS_GUEST_RFLAGS, 2);
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
}

static bool exit_is(struct vmx_outcome o, uint32_t reason, const char *what)
{
	if (o.res != VMX_OK) {
		report(false, "%s: VM entry failed (VMfail%s, error %u)", what,
		       o.res == VMX_FAIL_VALID ? "Valid" : "Invalid", o.error);
		return false;
	}
	return report(o.exit_reason == reason, "%s: exit reason %u (got %#x)", what, reason, o.exit_reason);
}

/* A VMCALL exit at rip with RBX = stage. */
static bool at_vmcall(struct vmx_outcome o, uint64_t rip, uint64_t stage, const char *what)
{
	if (!exit_is(o, EXIT_REASON_VMCALL, what))
		return false;
	report_eq(vmread(VMCS_GUEST_RIP), rip, "%s: GUEST_RIP = the VMCALL (27.3.3)", what);
	report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), 3, "%s: VMCALL length 3 (27.2.5)", what);
	return report(vmx_guest_regs[RBX] == stage, "%s: the guest's stage marker RBX = %#llx (got %#llx)", what,
		      (unsigned long long)stage, (unsigned long long)vmx_guest_regs[RBX]);
}

static bool ia32e_ctl(void)
{
	return vmread(VMCS_ENTRY_CONTROLS) & ENTRY_IA32E_GUEST;
}

static void check_efer(bool lma, const char *what)
{
	uint64_t want = lma ? EFER_LME | EFER_LMA : 0;
	if (!(vmx_msr(VMX_MISC_MSR) & VMX_MISC_STORE_LMA))
		report(false, "%s: IA32_VMX_MISC[5] = 1 with unrestricted guest (A.6)", what);
	report_eq(ia32e_ctl(), lma, "%s: exit stores EFER.LMA = %d in 'IA-32e mode guest' (27.2, A.6)", what, lma);
	if (vmread(VMCS_EXIT_CONTROLS) & EXIT_SAVE_EFER)
		report_eq(vmread(VMCS_GUEST_IA32_EFER) & (EFER_LME | EFER_LMA), want,
			  "%s: GUEST_IA32_EFER LME/LMA saved ('save IA32_EFER', 27.3.1)", what);
}

static void check_seg(uint32_t sel_field, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar,
		      const char *what)
{
	uint32_t k = (sel_field - VMCS_GUEST_ES_SELECTOR) / 2;
	report_eq(vmread(VMCS_GUEST_ES_SELECTOR + 2 * k), sel, "%s: selector (27.3.2)", what);
	report_eq(vmread(VMCS_GUEST_ES_BASE + 2 * k), base, "%s: base (27.3.2)", what);
	report_eq(vmread(VMCS_GUEST_ES_LIMIT + 2 * k), limit, "%s: limit (27.3.2)", what);
	report_eq(vmread(VMCS_GUEST_ES_AR + 2 * k), ar, "%s: access rights (27.3.2)", what);
}

static void build_page_tables(void)
{
	pml4[0] = (uint64_t)pdpt | PTE_P_RW;
	for (uint64_t g = 0; g < 4; g++) {
		pdpt[g] = (uint64_t)pd[g] | PTE_P_RW;
		for (uint64_t m = 0; m < 512; m++)
			pd[g][m] = (g << 30 | m << 21) | PTE_P_RW | PDE_PS;
	}
}

/* ---- real mode -> protected mode -> IA-32e mode, in one guest ---- */

static void stage1(void)
{
	struct vmx_outcome o = vmx_enter_guest(false);
	if (!at_vmcall(o, off(ug_vmcall1), 1, "stage 1 (real mode)"))
		return;
	report_eq(vmx_guest_regs[RAX] & 0xffff, 0x2345, "stage 1: real-mode code ran (AX = 1234H + 1111H)");
	report_eq(vmx_guest_regs[RDX] & 0xffff, 0xbeef, "stage 1: INT 42H went through the guest's IVT and IRET came back");
	report_eq(vmread(VMCS_GUEST_RSP), STACK_TOP, "stage 1: SP back at its start after INT/IRET");
	report_eq(vmread(VMCS_GUEST_CR0), guest_cr0, "stage 1: GUEST_CR0 with PE = PG = 0 and the host-owned NE (27.3.1)");
	report_eq(vmx_guest_regs[RCX] & 0xffffffff, guest_cr0 & ~CR0_NE,
		  "stage 1: MOV from CR0 in real mode reads the host-owned NE from the read shadow (25.3)");
	check_seg(VMCS_GUEST_CS_SELECTOR, BLOB_SEL, BLOB, 0xffff, AR_CODE16, "stage 1: CS");
	check_seg(VMCS_GUEST_SS_SELECTOR, BLOB_SEL, BLOB, 0xffff, AR_DATA16, "stage 1: SS");
	check_efer(false, "stage 1");
}

static void stage2(void)
{
	vmx_skip_insn();
	struct vmx_outcome o = vmx_enter_guest(true);
	if (!at_vmcall(o, BLOB + off(ug_vmcall2), 2, "stage 2 (protected mode, no paging)"))
		return;
	report_eq(vmread(VMCS_GUEST_CR0), guest_cr0 | CR0_PE,
		  "stage 2: GUEST_CR0.PE = 1 written by the guest, PG = 0, host-owned NE kept (25.3)");
	check_seg(VMCS_GUEST_CS_SELECTOR, 0x08, 0, 0xffffffff, AR_CODE32, "stage 2: CS after the far jump");
	check_seg(VMCS_GUEST_SS_SELECTOR, 0x10, 0, 0xffffffff, AR_DATA32, "stage 2: SS");
	report_eq(vmread(VMCS_GUEST_GDTR_BASE), BLOB + off(ug_gdt), "stage 2: GDTR base loaded by the real-mode LGDT (27.3.2)");
	report_eq(vmread(VMCS_GUEST_GDTR_LIMIT), 47, "stage 2: GDTR limit (27.3.2)");
	check_efer(false, "stage 2");
}

static void stage3(void)
{
	vmx_guest_regs[RDI] = (uint64_t)pml4;
	vmx_skip_insn();
	struct vmx_outcome o = vmx_enter_guest(true);
	if (!at_vmcall(o, BLOB + off(ug_vmcall3), 3, "stage 3 (IA-32e mode, compatibility mode)"))
		return;
	report_eq(vmread(VMCS_GUEST_CR0), guest_cr0 | CR0_PE | CR0_PG, "stage 3: GUEST_CR0.PG = 1 (27.3.1)");
	report(vmread(VMCS_GUEST_CR4) & CR4_PAE, "stage 3: GUEST_CR4.PAE = 1");
	report_eq(vmread(VMCS_GUEST_CR3), (uint64_t)pml4, "stage 3: GUEST_CR3 = the guest's PML4");
	check_seg(VMCS_GUEST_CS_SELECTOR, 0x08, 0, 0xffffffff, AR_CODE32, "stage 3: CS (L = 0: compatibility mode)");
	check_efer(true, "stage 3");
}

static void stage4(void)
{
	vmx_skip_insn();
	/* The resume needs "IA-32e mode guest" = 1 (the exit stored it):
	 * with PG = 1 and EFER.LME = 1 in the guest, 0 would load LMA = 0. */
	struct vmx_outcome o = vmx_enter_guest(true);
	if (!at_vmcall(o, BLOB + off(ug_vmcall4), 4, "stage 4 (64-bit mode)"))
		return;
	check_seg(VMCS_GUEST_CS_SELECTOR, 0x18, 0, 0xffffffff, AR_CODE64, "stage 4: CS (L = 1)");
	check_efer(true, "stage 4");
}

/* Down again: 64-bit -> compatibility mode -> PG = 0, LME = 0 (LMA = 0). */
static void stage5(void)
{
	vmx_skip_insn();
	struct vmx_outcome o = vmx_enter_guest(true);
	if (!at_vmcall(o, BLOB + off(ug_vmcall5), 5, "stage 5 (protected mode after IA-32e mode)"))
		return;
	report_eq(vmread(VMCS_GUEST_CR0), guest_cr0 | CR0_PE, "stage 5: GUEST_CR0.PG = 0 again");
	check_seg(VMCS_GUEST_CS_SELECTOR, 0x08, 0, 0xffffffff, AR_CODE32, "stage 5: CS");
	check_efer(false, "stage 5");
}

/* -> 16-bit protected mode -> PE = 0 -> real mode: a far jump loads only
 * CS selector and base, the limit and attributes stay those of the 16-bit
 * code descriptor (vol. 3A 10.9.2). The resume needs "IA-32e mode guest"
 * = 0 (the exit of stage 5 stored it): with CR0.PG = 0, 1 fails the entry. */
static void stage6(void)
{
	vmx_guest_regs[RDX] = 0;
	vmx_skip_insn();
	struct vmx_outcome o = vmx_enter_guest(true);
	if (!at_vmcall(o, off(ug_vmcall6), 6, "stage 6 (real mode again)"))
		return;
	report_eq(vmread(VMCS_GUEST_CR0), guest_cr0, "stage 6: GUEST_CR0.PE = 0 again, host-owned NE kept");
	report_eq(vmx_guest_regs[RDX] & 0xffff, 0xbeef, "stage 6: INT 42H through the IVT again");
	check_seg(VMCS_GUEST_CS_SELECTOR, BLOB_SEL, BLOB, 0xffff, AR_CODE16, "stage 6: CS");
	check_seg(VMCS_GUEST_SS_SELECTOR, BLOB_SEL, BLOB, 0xffff, AR_DATA16, "stage 6: SS");
	check_efer(false, "stage 6");
}

static void test_boot_to_long_mode(void)
{
	real_guest(ug_real);
	/* NE host-owned, shown as 0: PE and PG stay guest-owned. */
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, CR0_NE);
	vmwrite(VMCS_CR0_READ_SHADOW, guest_cr0 & ~CR0_NE);
	/* Where "CR3-load exiting" must be 1, the guest's PML4 is a CR3-target
	 * value: its MOV to CR3 does not exit (25.1.3). */
	if (vmx_must1(VMX_CTL_PROC) & PROC_CR3_LOAD_EXITING) {
		if (!((vmx_msr(VMX_MISC_MSR) >> 16) & 0x1ff)) {
			report_skip("boot to long mode: CR3-load exiting must be 1 and there are no CR3-target values");
			return;
		}
		vmwrite(VMCS_CR3_TARGET_COUNT, 1);
		vmwrite(VMCS_CR3_TARGET_VALUE0, (uint64_t)pml4);
	}
	build_page_tables();
	stage1();
	stage2();
	stage3();
	stage4();
	stage5();
	stage6();
}

/* ---- a host-owned CR0.PE (25.1.3, Table 27-3) ---- */

/* PE in the guest/host mask with shadow PE = 0: the guest's MOV to CR0
 * setting PE exits (qualification: CR0, MOV to CR, GPR EAX = 0) and CR0
 * is unchanged; the host completes the switch as a hypervisor would
 * (GUEST_CR0 and shadow PE = 1, skip the MOV) and the guest reaches
 * protected mode. */
static void test_host_owned_pe(void)
{
	struct vmx_outcome o;
	real_guest(ug_real);
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, CR0_PE);
	o = vmx_enter_guest(false);
	if (!at_vmcall(o, off(ug_vmcall1), 1, "host-owned PE: stage 1"))
		return;
	vmx_skip_insn();
	o = vmx_enter_guest(true);
	if (!exit_is(o, EXIT_REASON_CR_ACCESS, "host-owned PE: MOV to CR0 with PE = 1"))
		return;
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), 0, "host-owned PE: qualification CR0, MOV to CR, EAX (Table 27-3)");
	report_eq(vmread(VMCS_GUEST_RIP), off(ug_movcr0), "host-owned PE: GUEST_RIP = the MOV (27.3.3)");
	report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), 3, "host-owned PE: instruction length 3 (27.2.5)");
	report_eq(vmread(VMCS_GUEST_CR0), guest_cr0, "host-owned PE: CR0.PE still 0 after the exit (25.1.3)");
	report_eq(vmx_guest_regs[RAX] & 0xffffffff, guest_cr0 | CR0_PE, "host-owned PE: EAX holds the value the guest wrote");
	vmwrite(VMCS_GUEST_CR0, guest_cr0 | CR0_PE);
	vmwrite(VMCS_CR0_READ_SHADOW, guest_cr0 | CR0_PE);
	vmx_skip_insn();
	o = vmx_enter_guest(true);
	at_vmcall(o, BLOB + off(ug_vmcall2), 2, "host-owned PE: after the host emulated the MOV");
}

/* ---- exceptions of a real-mode guest (27.2.2) ---- */

static void real_exception(const char *rip, unsigned vec, const char *what)
{
	struct vmx_outcome o;
	real_guest(rip);
	vmwrite(VMCS_EXCEPTION_BITMAP, 1u << vec);
	o = vmx_enter_guest(false);
	if (!exit_is(o, EXIT_REASON_EXCEPTION_NMI, what))
		return;
	report_eq(vmread(VMCS_EXIT_INTR_INFO), INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT | vec,
		  "%s: interruption information: vector %u, hardware exception, no error code in real mode (27.2.2)",
		  what, vec);
	report_eq(vmread(VMCS_GUEST_RIP), off(rip), "%s: GUEST_RIP = the faulting instruction (27.3.3)", what);
	report_eq(vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID, 0, "%s: no IDT-vectoring information (27.2.3)", what);
}

static void test_exceptions(void)
{
	real_exception(ug_ud, 6, "real-mode UD2 (#UD in the exception bitmap)");
	real_exception(ug_gp, 13, "real-mode word at DS:FFFFH (#GP in the exception bitmap)");
	/* VMLAUNCH: "IF (not in VMX operation) or (CR0.PE = 0) ... THEN #UD;
	 * ELSIF in VMX non-root operation THEN VM exit" (30.3): the #UD. */
	real_exception(ug_vmlaunch, 6, "real-mode VMLAUNCH in non-root (#UD, not exit 20)");
}

/* ---- the reset-vector state (vol. 3A 10.1.4, Table 10-1) ---- */

/* A guest entered as a processor leaves RESET: CS selector F000H, base
 * FFFF0000H, limit FFFFH, RIP FFF0H, CR0 60000010H (+ NE, fixed with
 * unrestricted guest), DX = 0. vtxsim's PC maps no BIOS ROM at FFFF0000H
 * and this case's EPT is the identity (test_reset_vector_runs maps a page
 * there through EPT), so the entry injects a pending MTF VM exit (type 7,
 * 26.5.2), which exits before the first instruction: the entry passed every check and
 * the state is saved unchanged. CR0.CD/NW are not loaded by VM entry
 * (26.3.2.1): the saved CR0 has the host's (0). */
static void test_reset_vector(void)
{
	struct vmx_outcome o;
	if (!allowed(VMX_CTL_PROC, PROC_MTF)) {
		report_skip("reset-vector state: no monitor trap flag to stop the guest before its first fetch");
		return;
	}
	real_guest(ug_real);
	vmwrite(VMCS_GUEST_CR0, guest_cr0 | CR0_NW | CR0_CD);
	guest_seg(VMCS_GUEST_CS_SELECTOR, 0xf000, 0xffff0000ull, 0xffff, AR_CODE16);
	for (uint32_t f = VMCS_GUEST_ES_SELECTOR; f <= VMCS_GUEST_GS_SELECTOR; f += 2)
		if (f != VMCS_GUEST_CS_SELECTOR)
			guest_seg(f, 0, 0, 0xffff, AR_DATA16);
	vmwrite(VMCS_GUEST_RIP, 0xfff0);
	vmwrite(VMCS_GUEST_RSP, 0);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_OTHER << INTR_INFO_TYPE_SHIFT);
	o = vmx_enter_guest(false);
	if (!exit_is(o, EXIT_REASON_MTF, "reset-vector state: VM entry, then the pending MTF VM exit"))
		return;
	report_eq(vmread(VMCS_GUEST_RIP), 0xfff0, "reset-vector state: GUEST_RIP = FFF0H (no instruction ran)");
	check_seg(VMCS_GUEST_CS_SELECTOR, 0xf000, 0xffff0000ull, 0xffff, AR_CODE16, "reset-vector state: CS");
	report_eq(vmread(VMCS_GUEST_CR0), guest_cr0,
		  "reset-vector state: CR0.CD/NW not loaded by VM entry (26.3.2.1), PE = PG = 0 kept");
}

/* The reset vector executed: EPT maps guest-physical FFFFF000H (the top
 * page of the 4 GiB, where a PC's BIOS ROM answers) onto a RAM page whose
 * last 16 bytes hold the first instructions, the rest of the guest-
 * physical space identity (lib/vmx_ept.c). From CS base FFFF0000H, IP
 * FFF0H the guest fetches at linear = guest-physical FFFFFFF0H, reads a
 * word at FFFFFFFEH through CS, and far-jumps to the 16-bit reset code in
 * low memory (CS = BLOB_SEL, base BLOB_SEL << 4 in real mode), which
 * VMCALLs with RBX = 7. */
static uint8_t rv_page[4096] __attribute__((aligned(4096)));
static uint64_t rv_pt[512] __attribute__((aligned(4096)));

static void test_reset_vector_runs(void)
{
	const char *what = "reset vector executed from FFFFFFF0H";
	if (!(vmx_ept_cap() & EPTCAP_2M)) {
		report_skip("%s: the model has no 2-MByte EPT pages (lib/vmx_ept.c)", what);
		return;
	}
	real_guest(ug_real);
	vmx_ept_build(false, false, false);
	for (uint64_t k = 0; k < 512; k++)
		rv_pt[k] = (0xffe00000ull + (k << 12)) | EPT_RWX | EPT_WB;
	rv_pt[511] = (uint64_t)rv_page | EPT_RWX | EPT_WB;
	ept_pd3[511] = (uint64_t)rv_pt | EPT_RWX;
	invept(2, 0, 0);        /* all-context: the EP4TA is that of earlier cases (29.4.3) */
	memset(rv_page, 0xf4, sizeof(rv_page));
	memcpy(rv_page + 0xff0, ug_rv, (size_t)(ug_rv_end - ug_rv));
	rv_page[0xffe] = 0xaa;
	rv_page[0xfff] = 0x55;
	guest_seg(VMCS_GUEST_CS_SELECTOR, 0xf000, 0xffff0000ull, 0xffff, AR_CODE16);
	for (uint32_t f = VMCS_GUEST_ES_SELECTOR; f <= VMCS_GUEST_GS_SELECTOR; f += 2)
		if (f != VMCS_GUEST_CS_SELECTOR)
			guest_seg(f, 0, 0, 0xffff, AR_DATA16);
	vmwrite(VMCS_GUEST_RIP, 0xfff0);
	vmwrite(VMCS_GUEST_RSP, 0);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	struct vmx_outcome o = vmx_enter_guest(false);
	if (!at_vmcall(o, off(ug_vmcall7), 7, what))
		return;
	report_eq(vmx_guest_regs[RDX] & 0xffff, 0xf00d, "%s: the first instruction at FFFFFFF0H ran (DX)", what);
	report_eq(vmx_guest_regs[RSI] & 0xffff, 0x55aa, "%s: CS:FFFEH read guest-physical FFFFFFFEH (SI)", what);
	check_seg(VMCS_GUEST_CS_SELECTOR, BLOB_SEL, BLOB, 0xffff, AR_CODE16,
		  "reset vector executed: CS after the far jump (base = selector << 4)");
}

/* ---- events injected into a real-mode guest (26.2.1.3, 26.5.1) ---- */

/* The event lands at the IVT handler, which VMCALLs with SI = SP: the
 * frame is FLAGS, CS, IP (3 words, no error code in real mode). */
static void injected_lands(uint32_t info, uint64_t rflags, const char *handler_vmcall, unsigned vec, const char *what)
{
	struct vmx_outcome o;
	real_guest(ug_landing);
	vmwrite(VMCS_GUEST_RFLAGS, rflags);
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
	o = vmx_enter_guest(false);
	if (!at_vmcall(o, off(handler_vmcall), vec, what))
		return;
	uint16_t sp = (uint16_t)vmx_guest_regs[RSI];
	volatile uint16_t *frame = (volatile uint16_t *)(uintptr_t)(BLOB + sp);
	report_eq(sp, STACK_TOP - 6, "%s: 3 words pushed, no error code (26.5.1.1)", what);
	report_eq(frame[0], off(ug_landing), "%s: pushed IP = GUEST_RIP", what);
	report_eq(frame[1], BLOB_SEL, "%s: pushed CS", what);
	report_eq(frame[2], rflags, "%s: pushed FLAGS", what);
	report_eq(vmread(VMCS_GUEST_RFLAGS) & FL_IF, 0, "%s: IF cleared by the delivery", what);
	report_eq(vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID, 0, "%s: the exit cleared the valid bit (27.2.3)", what);
}

static void test_injection(void)
{
	struct vmx_outcome o;
	uint32_t gp = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT | 13;

	injected_lands(INTR_INFO_VALID | INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT | 0x43, 2 | FL_IF, ug_h43_vmcall,
		       0x43, "injected external interrupt 43H");
	injected_lands(gp, 2, ug_h0d_vmcall, 0x0d, "injected #GP without error code");

	/* 26.2.1.3: with "unrestricted guest" 1 and CR0.PE = 0, deliver-
	 * error-code must be 0 even for #GP. */
	real_guest(ug_landing);
	vmwrite(VMCS_ENTRY_INTR_INFO, gp | INTR_INFO_HAS_ERROR);
	vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0);
	o = vmx_enter_guest(false);
	report(o.res == VMX_FAIL_VALID && o.error == VMERR_ENTRY_INVALID_CONTROL,
	       "injected #GP with an error code into a real-mode guest: VMfailValid(7) (26.2.1.3) (got res %d error %u)",
	       o.res, o.error);
}

/* ---- the guest-state checks (26.3.1) ---- */

static void entry_fails(const char *what)
{
	struct vmx_outcome o = vmx_enter_guest(false);
	if (!exit_is(o, EXIT_REASON_INVALID_GUEST_STATE | EXIT_REASON_ENTRY_FAILURE, what))
		return;
	report_eq(o.qual, 0, "%s: exit qualification 0 (26.7)", what);
}

static void test_entry_checks(void)
{
	struct vmx_outcome o;

	real_guest(ug_real);
	o = vmx_enter_guest(false);
	at_vmcall(o, off(ug_vmcall1), 1, "CR0.PE = PG = 0 with unrestricted guest: the entry succeeds (26.3.1.1)");

	real_guest(ug_real);
	vmwrite(VMCS_PROC2_CONTROLS, PROC2_EPT);
	entry_fails("CR0.PE = 0 without unrestricted guest (26.3.1.1)");

	real_guest(ug_real);
	vmwrite(VMCS_PROC2_CONTROLS, PROC2_UNRESTRICTED);
	o = vmx_enter_guest(false);
	report(o.res == VMX_FAIL_VALID && o.error == VMERR_ENTRY_INVALID_CONTROL,
	       "unrestricted guest without EPT: VMfailValid(7) (26.2.1.1) (got res %d error %u)", o.res, o.error);

	real_guest(ug_real);
	vmwrite(VMCS_GUEST_CR0, guest_cr0 | CR0_PG);
	entry_fails("CR0.PG = 1 with PE = 0, unrestricted guest (26.3.1.1)");

	real_guest(ug_real);
	vmx_set_ctl(VMCS_ENTRY_CONTROLS, ENTRY_IA32E_GUEST, true);
	vmwrite(VMCS_GUEST_CR4, vmread(VMCS_GUEST_CR4) | CR4_PAE);
	entry_fails("'IA-32e mode guest' with CR0.PG = 0, unrestricted guest (26.3.1.1)");

	/* CS type 3 (read/write accessed data) only with unrestricted guest,
	 * and then with DPL 0; SS.DPL must be 0 in real mode (26.3.1.2). */
	real_guest(ug_real);
	vmwrite(VMCS_GUEST_CS_AR, AR_DATA16);
	o = vmx_enter_guest(false);
	at_vmcall(o, off(ug_vmcall1), 1, "CS type 3 with unrestricted guest: the entry succeeds (26.3.1.2)");

	real_guest(ug_real);
	vmwrite(VMCS_GUEST_CS_AR, AR_DATA16 | 3u << 5);
	vmwrite(VMCS_GUEST_SS_AR, AR_DATA16 | 3u << 5);
	entry_fails("CS type 3 with DPL 3 (26.3.1.2)");

	real_guest(ug_real);
	vmwrite(VMCS_GUEST_CS_AR, AR_DATA16);
	vmwrite(VMCS_GUEST_SS_AR, AR_DATA16 | 3u << 5);
	entry_fails("SS.DPL = 3 with CR0.PE = 0 (26.3.1.2)");

	real_guest(ug_real);
	vmwrite(VMCS_GUEST_SS_SELECTOR, BLOB_SEL | 3);
	o = vmx_enter_guest(false);
	at_vmcall(o, off(ug_vmcall1), 1, "SS.RPL != CS.RPL and SS.DPL != SS.RPL with unrestricted guest: the entry succeeds (26.3.1.2)");

	real_guest(ug_real);
	vmwrite(VMCS_GUEST_RFLAGS, 2 | FL_VM);
	entry_fails("RFLAGS.VM = 1 with CR0.PE = 0 (26.3.1.4)");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start()) {
		if (!has_unrestricted()) {
			report_skip("the model has no 'unrestricted guest' (secondary controls, EPT)");
		} else {
			test_boot_to_long_mode();
			test_host_owned_pe();
			test_exceptions();
			test_injection();
			test_entry_checks();
			test_reset_vector();
			test_reset_vector_runs();
		}
	}
	report_summary();
}
