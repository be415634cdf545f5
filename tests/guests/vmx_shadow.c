/* VMCS shadowing seen from a guest hypervisor (SDM vol. 3C, the edition
 * whose VM-entry chapter is 26): VMREAD and VMWRITE in VMX non-root
 * operation with the "VMCS shadowing" control (24.6.15, 25.1.3, 30.3):
 *   - a clear bit in the VMREAD/VMWRITE bitmap: no VM exit, the access goes
 *     to the shadow VMCS the VMCS link pointer references (checked by the
 *     host with VMPTRLD of the shadow and VMREAD);
 *   - a set bit: exit 23 / 25 with the instruction information of Table
 *     27-14; an encoding with bits 63:15 set always exits;
 *   - link pointer FFFFFFFF_FFFFFFFFH: VMfailInvalid in the guest;
 *   - an unsupported field: VMfailValid(12), the error in the current
 *     (ordinary) VMCS (30.2); VMWRITE of a read-only field: VMfailValid(13)
 *     unless IA32_VMX_MISC[29];
 * and the shadow-VMCS indicator in VMX root operation: VMPTRLD of a shadow
 * VMCS, VMLAUNCH/VMRESUME with a shadow current VMCS (26.1 step 4:
 * VMfailInvalid), VMCLEAR of a shadow VMCS, the VM-entry check on the
 * link pointer's indicator (26.3.1.5). With "-append misuse=1" the last case
 * enters with the shadow VMCS still active (vmx misuse SHADOW_VMCS_ACTIVE).
 */
#include "guest.h"
#include "multiboot.h"
#include "vmx_vmcs.h"

enum { RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSI = 6, R8 = 8, R9 = 9 };
#define FL_CF 0x1ul
#define FL_ZF 0x40ul
#define FL_ARITH 0x8d5ul
#define SHADOW_INDICATOR 0x80000000u

/* Table 27-14: Reg1 (ModRM.rm) in bits 6:3, bit 10 = register operand,
 * Reg2 (ModRM.reg) in bits 31:28. */
#define RW_INFO_REG(rm, reg) ((uint32_t)(rm) << 3 | 1u << 10 | (uint32_t)(reg) << 28)
#define RW_INFO_MASK (0x78u | 1u << 10 | 0xf0000000u)

static uint8_t shadow[4096] __attribute__((aligned(4096)));
static uint64_t vmcs01;
static bool vmwrite_any;

/* The guest: VMREAD field RAX into RBX, VMWRITE RDX into field RCX, the
 * RFLAGS after each in R8 / R9, then VMCALL. */
extern char gs_rd[], gs_wr[], gs_end[];
asm(".code64\n"
    "gs_rd:	vmread %rax, %rbx\n"
    "	pushfq\n"
    "	pop %r8\n"
    "gs_wr:	vmwrite %rdx, %rcx\n"
    "	pushfq\n"
    "	pop %r9\n"
    "gs_end:	vmcall\n"
    "	jmp gs_end\n");

/* The same in a 32-bit guest: VMREAD field EAX into EBX, RFLAGS in ESI. */
extern char gs32_rd[], gs32_end[];
asm(".code32\n"
    "gs32_rd:	vmread %eax, %ebx\n"
    "	pushfl\n"
    "	pop %esi\n"
    "gs32_end:	vmcall\n"
    "	jmp gs32_end\n"
    ".code64\n");

static uint64_t pa(const void *p)
{
	return (uint64_t)p;
}

/* Fields of the shadow VMCS from VMX root operation: VMPTRLD it, access,
 * VMCLEAR it (it must not stay active when it serves as shadow), make the
 * ordinary VMCS current again. */
static void shadow_put(uint32_t enc, uint64_t v)
{
	vmptrld(pa(shadow));
	vmwrite(enc, v);
	vmclear(pa(shadow));
	vmptrld(vmcs01);
}

static uint64_t shadow_get(uint32_t enc)
{
	uint64_t v = 0;
	vmptrld(pa(shadow));
	if (vmread_r(enc, &v) != VMX_OK)
		report(false, "host VMREAD %#x of the shadow VMCS failed", enc);
	vmclear(pa(shadow));
	vmptrld(vmcs01);
	return v;
}

static void bitmap_set(int page, uint32_t enc)
{
	((volatile uint8_t *)vmx_scratch_page(page))[(enc & 0x7fff) >> 3] |= (uint8_t)(1u << (enc & 7));
}

static bool have_shadowing(void)
{
	return vmx_allowed1(VMX_CTL_PROC2) & PROC2_VMCS_SHADOWING;
}

/* The baseline with VMCS shadowing on: zeroed bitmaps (scratch pages 0
 * and 1: nothing exits), a fresh shadow VMCS VMCLEARed, as link pointer. */
static void setup_bits(int bits)
{
	vmx_baseline(bits);
	vmptrst(&vmcs01);
	memset(shadow, 0, sizeof(shadow));
	*(volatile uint32_t *)shadow = vmx_revision() | SHADOW_INDICATOR;
	vmclear(pa(shadow));
	vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) | PROC_SECONDARY_CTLS);
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | PROC2_VMCS_SHADOWING);
	vmwrite(VMCS_VMREAD_BITMAP, vmx_scratch_page(0));
	vmwrite(VMCS_VMWRITE_BITMAP, vmx_scratch_page(1));
	vmwrite(VMCS_VMCS_LINK_PTR, pa(shadow));
	vmwrite(VMCS_GUEST_RIP, pa(gs_rd));
}

static void setup(void)
{
	setup_bits(64);
}

static void regs(uint64_t rd_enc, uint64_t wr_enc, uint64_t wr_val)
{
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmx_guest_regs[RAX] = rd_enc;
	vmx_guest_regs[RBX] = 0x5a5a5a5a5a5a5a5aul;
	vmx_guest_regs[RCX] = wr_enc;
	vmx_guest_regs[RDX] = wr_val;
}

static bool exit_is(struct vmx_outcome o, uint32_t reason, const char *what)
{
	if (o.res != VMX_OK)
		return report(false, "%s: VM entry failed (VMfail%s, error %u)", what,
			      o.res == VMX_FAIL_VALID ? "Valid" : "Invalid", o.error);
	return report(o.exit_reason == reason, "%s: exit reason %u (expected %u)", what, o.exit_reason, reason);
}

/* Clear bits: VMREAD reads the shadow, VMWRITE writes it, no VM exit. */
static void test_no_exit(void)
{
	const uint64_t rip_val = 0xfeedface12345678ul, mask_val = 0xc0ffee00ul;

	setup();
	shadow_put(VMCS_GUEST_RIP, rip_val);
	regs(VMCS_GUEST_RIP, VMCS_CR0_GUEST_HOST_MASK, mask_val);
	struct vmx_outcome o = vmx_enter_guest(false);
	if (!exit_is(o, EXIT_REASON_VMCALL, "24.6.15: clear bitmap bits: VMREAD and VMWRITE ran without exit"))
		return;
	report_eq(vmread(VMCS_GUEST_RIP), pa(gs_end), "no exit before the VMCALL (GUEST_RIP)");
	report_eq(vmx_guest_regs[R8] & FL_ARITH, 0, "30.3: guest VMREAD of the shadow VMCS: VMsucceed");
	report_eq(vmx_guest_regs[RBX], rip_val, "30.3: guest VMREAD returns the shadow VMCS's GUEST_RIP");
	report_eq(vmx_guest_regs[R9] & FL_ARITH, 0, "30.3: guest VMWRITE of the shadow VMCS: VMsucceed");
	report_eq(vmread(VMCS_CR0_GUEST_HOST_MASK), 0, "the guest's VMWRITE left the current VMCS alone");
	report_eq(shadow_get(VMCS_CR0_GUEST_HOST_MASK), mask_val, "the guest's VMWRITE reached the shadow VMCS");
	report_eq(shadow_get(VMCS_GUEST_RIP), rip_val, "the shadow's GUEST_RIP is unchanged");

	/* A 64-bit field's high half (encoding | 1) and a 16-bit field. */
	vmwrite(VMCS_GUEST_RIP, pa(gs_rd));
	shadow_put(VMCS_TSC_OFFSET, 0x1122334455667788ul);
	regs(VMCS_TSC_OFFSET | 1, VMCS_GUEST_ES_SELECTOR, 0xabcd1234);
	o = vmx_enter_guest(true);
	if (exit_is(o, EXIT_REASON_VMCALL, "high half and 16-bit field: no exit")) {
		report_eq(vmx_guest_regs[RBX], 0x11223344, "VMREAD of TSC offset (high) from the shadow: bits 63:32");
		report_eq(shadow_get(VMCS_GUEST_ES_SELECTOR), 0x1234, "VMWRITE of a 16-bit shadow field keeps bits 15:0");
	}
}

/* Set bits exit with the instruction information; bits 63:15 of the
 * encoding always exit (25.1.3). */
static void test_exits(void)
{
	setup();
	bitmap_set(0, VMCS_GUEST_RIP);
	bitmap_set(1, VMCS_CR0_GUEST_HOST_MASK);
	regs(VMCS_GUEST_RIP, VMCS_CR0_GUEST_HOST_MASK, 7);
	struct vmx_outcome o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_VMREAD, "25.1.3: VMREAD bitmap bit 1: VM exit")) {
		report_eq(vmread(VMCS_GUEST_RIP), pa(gs_rd), "VMREAD exit: GUEST_RIP is the VMREAD");
		report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), 3, "VMREAD exit: instruction length 3");
		report_eq(o.qual, 0, "VMREAD exit: qualification 0 for a register operand (27.2.1)");
		report_eq(vmread(VMCS_EXIT_INSTRUCTION_INFO) & RW_INFO_MASK, RW_INFO_REG(RBX, RAX),
			  "VMREAD exit: instruction information Reg1 = RBX, register operand, Reg2 = RAX (Table 27-14)");
		report_eq(vmx_guest_regs[RBX], 0x5a5a5a5a5a5a5a5aul, "VMREAD exit: destination unchanged");
	}
	vmx_skip_insn();
	o = vmx_enter_guest(true);
	if (exit_is(o, EXIT_REASON_VMWRITE, "25.1.3: VMWRITE bitmap bit 1: VM exit")) {
		report_eq(vmread(VMCS_GUEST_RIP), pa(gs_wr), "VMWRITE exit: GUEST_RIP is the VMWRITE");
		report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), 3, "VMWRITE exit: instruction length 3");
		report_eq(vmread(VMCS_EXIT_INSTRUCTION_INFO) & RW_INFO_MASK, RW_INFO_REG(RDX, RCX),
			  "VMWRITE exit: instruction information Reg1 = RDX, register operand, Reg2 = RCX (Table 27-14)");
		report_eq(shadow_get(VMCS_CR0_GUEST_HOST_MASK), 0, "VMWRITE exit: the shadow field is unchanged");
	}

	/* Encodings above 15 bits: bitmaps all clear, the VM exit all the same. */
	const uint64_t wide[] = { 1ul << 15, VMCS_GUEST_RIP | 1ul << 16, VMCS_GUEST_RIP | 1ul << 32 };
	for (unsigned k = 0; k < ARRAY_SIZE(wide); k++) {
		setup();
		regs(wide[k], wide[k], 0);
		o = vmx_enter_guest(false);
		exit_is(o, EXIT_REASON_VMREAD, "25.1.3: VMREAD of an encoding with bits 63:15 set exits");
		report_eq(vmx_guest_regs[RAX], wide[k], "   (encoding %#lx)", wide[k]);
		vmx_skip_insn();
		o = vmx_enter_guest(true);
		exit_is(o, EXIT_REASON_VMWRITE, "25.1.3: VMWRITE of an encoding with bits 63:15 set exits");
	}
}

/* Outside 64-bit mode the encoding operand has 32 bits: bits 31:15 decide
 * the exit, and VMREAD returns the low 32 bits of a 64-bit field (30.3). */
static void test_32bit_guest(void)
{
	setup_bits(32);
	vmwrite(VMCS_GUEST_RIP, pa(gs32_rd));
	shadow_put(VMCS_GUEST_RIP, 0xfeedface12345678ul);
	regs(VMCS_GUEST_RIP, 0, 0);
	struct vmx_outcome o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_VMCALL, "32-bit guest: VMREAD of the shadow without exit")) {
		report_eq(vmx_guest_regs[RSI] & FL_ARITH, 0, "32-bit guest: VMsucceed");
		report_eq((uint32_t)vmx_guest_regs[RBX], 0x12345678, "32-bit guest: the low 32 bits of the shadow's GUEST_RIP");
	}
	setup_bits(32);
	vmwrite(VMCS_GUEST_RIP, pa(gs32_rd));
	regs(0x80000000u | VMCS_GUEST_RIP, 0, 0);
	o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_VMREAD, "32-bit guest: encoding with bit 31 set exits"))
		report_eq(vmread(VMCS_GUEST_RIP), pa(gs32_rd), "   at the VMREAD");
}

/* VMfail in the guest: link pointer all ones; unsupported field; read-only
 * field (30.3). The guest's RFLAGS tell; VMfailValid's error number is in
 * the current VMCS (30.2), which the host reads after the exit. */
static void test_fails(void)
{
	setup();
	vmwrite(VMCS_VMCS_LINK_PTR, ~0ul);
	regs(VMCS_GUEST_RIP, VMCS_CR0_GUEST_HOST_MASK, 1);
	struct vmx_outcome o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_VMCALL, "30.3: link pointer FFFFFFFF_FFFFFFFFH: no VM exit")) {
		report_eq(vmx_guest_regs[R8] & FL_ARITH, FL_CF, "30.3: VMREAD with an invalid link pointer: VMfailInvalid");
		report_eq(vmx_guest_regs[R9] & FL_ARITH, FL_CF, "30.3: VMWRITE with an invalid link pointer: VMfailInvalid");
	}

	/* 0x7ffe: no VMCS field has it (bits 14:0 only, so the bitmap decides). */
	setup();
	if (vmwrite_any)
		vmwrite(VMCS_VM_INSTRUCTION_ERROR, 0);
	regs(0x7ffe, VMCS_EXIT_REASON, 0x12345);
	o = vmx_enter_guest(false);
	if (!exit_is(o, EXIT_REASON_VMCALL, "unsupported / read-only fields: no VM exit"))
		return;
	report_eq(vmx_guest_regs[R8] & FL_ARITH, FL_ZF, "30.3: VMREAD of an unsupported field: VMfailValid");
	if (vmwrite_any) {
		report_eq(vmx_guest_regs[R9] & FL_ARITH, 0, "30.3: VMWRITE of a read-only field with MISC[29]: VMsucceed");
		report_eq(vmread(VMCS_VM_INSTRUCTION_ERROR), VMERR_VMREADWRITE_BAD_FIELD,
			  "30.2: error 12 of the guest's VMREAD is in the current VMCS");
		report_eq(shadow_get(VMCS_EXIT_REASON), 0x12345, "the read-only shadow field took the guest's value");
	} else {
		report_eq(vmx_guest_regs[R9] & FL_ARITH, FL_ZF,
			  "30.3: VMWRITE of a read-only field without MISC[29]: VMfailValid");
		report_eq(vmread(VMCS_VM_INSTRUCTION_ERROR), VMERR_VMWRITE_READONLY,
			  "30.2: error 13 of the guest's VMWRITE is in the current VMCS");
		report_eq(shadow_get(VMCS_EXIT_REASON), 0, "the read-only shadow field is unchanged");
	}
}

/* The shadow-VMCS indicator in VMX root operation. */
static void test_indicator(void)
{
	uint64_t p = 0;

	vmx_baseline(64);
	vmptrst(&vmcs01);
	memset(shadow, 0, sizeof(shadow));
	*(volatile uint32_t *)shadow = vmx_revision() | SHADOW_INDICATOR;
	report_eq(vmclear(pa(shadow)), VMX_OK, "VMCLEAR of a shadow VMCS");
	if (!have_shadowing()) {
		report_eq(vmptrld(pa(shadow)), VMX_FAIL_VALID, "30.3: VMPTRLD of a shadow VMCS without VMCS shadowing");
		report_eq(vmread(VMCS_VM_INSTRUCTION_ERROR), VMERR_VMPTRLD_BAD_REVISION,
			  "   VMfailValid(11, incorrect VMCS revision identifier)");
		report_skip("VMCS shadowing: no 1-setting of \"VMCS shadowing\" on this model");
		return;
	}
	report_eq(vmptrld(pa(shadow)), VMX_OK, "30.3: VMPTRLD of a shadow VMCS");
	report(vmptrst(&p) == VMX_OK && p == pa(shadow), "VMPTRST: the shadow VMCS is current");
	struct vmx_outcome o = vmx_try_launch();
	report_eq(o.res, VMX_FAIL_INVALID, "26.1: VMLAUNCH with a shadow current VMCS: VMfailInvalid");
	o = vmx_try_resume();
	report_eq(o.res, VMX_FAIL_INVALID, "26.1: VMRESUME with a shadow current VMCS: VMfailInvalid");
	report_eq(vmclear(pa(shadow)), VMX_OK, "VMCLEAR of the current shadow VMCS");
	report(vmptrst(&p) == VMX_OK && p == ~0ul, "   no current VMCS after it");
	vmptrld(vmcs01);

	/* 26.3.1.5: with VMCS shadowing the link pointer must name a shadow
	 * VMCS; without it, an ordinary one. */
	setup();
	*(volatile uint32_t *)shadow = vmx_revision();
	o = vmx_try_launch();
	report(o.res == VMX_OK && o.exit_reason == (EXIT_REASON_ENTRY_FAILURE | 33) && o.qual == 4,
	       "26.3.1.5: VMCS shadowing 1, link pointer to an ordinary VMCS: exit 33, qualification 4");
	*(volatile uint32_t *)shadow = vmx_revision() | SHADOW_INDICATOR;
	o = vmx_try_launch();
	report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL,
	       "26.3.1.5: VMCS shadowing 1, link pointer to a shadow VMCS: the entry succeeds");
}

/* -append misuse=1: enter with the shadow VMCS still active on this CPU
 * (VMPTRLD without VMCLEAR): warned, the guest still reads what the host
 * wrote (vtxsim keeps every VMCS's data in its region). */
static void test_misuse(void)
{
	setup();
	vmptrld(pa(shadow));
	vmwrite(VMCS_GUEST_RIP, 0x4242);
	vmptrld(vmcs01);        /* the shadow stays active: no VMCLEAR */
	regs(VMCS_GUEST_RIP, VMCS_CR0_GUEST_HOST_MASK, 3);
	struct vmx_outcome o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_VMCALL, "shadow VMCS left active: the entry succeeds (warned)"))
		report_eq(vmx_guest_regs[RBX], 0x4242, "   the guest reads the host's last VMWRITE");
	report_info("provoked vmx misuse SHADOW_VMCS_ACTIVE");
}

void kmain(uint32_t magic, uint32_t info)
{
	const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)info;
	char buf[8];
	bool misuse = (mbi->flags & MBI_CMDLINE) &&
		      cmdline_get((const char *)(uintptr_t)mbi->cmdline, "misuse", buf, sizeof(buf));

	(void)magic;
	if (vmx_start()) {
		vmwrite_any = vmx_msr(MSR_IA32_VMX_MISC) & (1ul << 29);
		test_indicator();
		if (have_shadowing()) {
			test_no_exit();
			test_exits();
			test_fails();
			test_32bit_guest();
			if (misuse)
				test_misuse();
		}
	}
	report_summary();
}
