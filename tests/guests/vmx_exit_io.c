/* I/O instructions and RDMSR/WRMSR in VMX non-root operation, seen from a
 * guest hypervisor (SDM vol. 3C, the edition whose VM-exit chapter is 27):
 * when they exit (25.1.3: unconditional I/O exiting, I/O bitmaps A/B, MSR
 * bitmaps), what the exit reports (27.2.1 Table 27-5, guest-linear address;
 * 27.2.4 Table 27-8; 27.2.5 instruction length; 27.3.3 GUEST_RIP), that the
 * guest's registers are untouched by an exiting REP INS/OUTS, that cases
 * which must not exit run natively (the guest sees the real value), and
 * that the faults of 25.1.1 (CPL, the TSS I/O permission bitmap) win over
 * the exit. Also HLT at CPL 3 (#GP, not exit 12). Every expected value is
 * the SDM's, written out here.
 */
#include "guest.h"
#include "vmx/caps_bits.h"
#include "vmx_vmcs.h"

/* Table 27-5. */
#define Q_SIZE1 0u
#define Q_SIZE2 1u
#define Q_SIZE4 3u
#define Q_IN (1u << 3)
#define Q_STRING (1u << 4)
#define Q_REP (1u << 5)
#define Q_IMM (1u << 6)
#define Q_PORT(p) ((uint64_t)(p) << 16)
/* Table 27-8: address size 9:7, segment 17:15. */
#define II_ASZ(a) ((uint32_t)(a) << 7)
#define II_SEG(s) ((uint32_t)(s) << 15)
#define II_MASK_OUTS (0x380u | 0x38000u)
#define II_MASK_INS 0x380u                      /* the segment is undefined for INS */
enum { ES_ = 0, CS_, SS_, DS_, FS_, GS_ };
enum { A16 = 0, A32, A64 };
enum { RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSI = 6, RDI = 7 };

#define VEC_GP 13
#define CR4_SMEP (1ul << 20)
#define CR4_SMAP (1ul << 21)
#define RFLAGS_IOPL3 (3ul << 12)
#define USER_CS 0x33
#define USER_DS 0x3b
#define AR_USER_CODE64 0xa0fbu  /* execute/read accessed, S, DPL 3, P, L, G */
#define AR_USER_DATA 0xc0f3u    /* read/write accessed, S, DPL 3, P, D/B, G */
#define TSS_IOPB 0x68u
#define SENTINEL 0x5e5e5e5e5e5e5e5eull

static bool allowed(enum vmx_ctl_msr ctl, uint64_t bit)
{
	return vmx_allowed1(ctl) & bit;
}

static void set_proc(uint32_t bit, bool on)
{
	uint64_t v = vmread(VMCS_PROC_CONTROLS);
	vmwrite(VMCS_PROC_CONTROLS, on ? v | bit : v & ~(uint64_t)bit);
}

static bool expect_exit(struct vmx_outcome o, uint32_t reason, const char *what)
{
	if (o.res != VMX_OK)
		return report(false, "%s: VM entry failed (VMfail%s, error %u)", what,
			      o.res == VMX_FAIL_VALID ? "Valid" : "Invalid", o.error);
	if (o.exit_reason != reason)
		return report(false, "%s: exit reason %u, expected %u (qualification %#lx, GUEST_RIP %#lx)", what,
			      o.exit_reason, reason, o.qual, vmread(VMCS_GUEST_RIP));
	return true;
}

/* The guest's IDT is the library's stub IDT (vmx_stub_idt): vector v
 * runs "mov $v, %eax; vmcall". */

/* The exit a guest exception produced through its stub: VMCALL with RAX =
 * the vector; the error code and the faulting RIP on the guest's stack. */
static void expect_guest_fault(struct vmx_outcome o, unsigned vec, uint64_t rip, const char *what)
{
	if (!expect_exit(o, EXIT_REASON_VMCALL, what))
		return;
	uint64_t *frame = (uint64_t *)vmread(VMCS_GUEST_RSP);
	report_eq(vmx_guest_regs[RAX], vec, "%s: the guest took vector %u instead of a VM exit (25.1.1)", what, vec);
	report_eq(frame[0], 0, "%s: error code 0", what);
	report_eq(frame[1], rip, "%s: the fault's RIP is the instruction", what);
}

/* ---- a CPL-3 guest: user segments, the boot map with U/S, a TSS with an
 * I/O permission bitmap and RSP0 for the stub stack ---- */

struct tss64 {
	uint32_t rsvd0;
	uint64_t rsp[3];
	uint64_t rsvd1, ist[7], rsvd2;
	uint16_t rsvd3, iopb;
	uint8_t bitmap[8192 + 1];
} __attribute__((packed));
static struct tss64 user_tss __attribute__((aligned(16)));
_Static_assert(__builtin_offsetof(struct tss64, bitmap) == TSS_IOPB, "TSS I/O bitmap offset");

static void user_guest(char *rip)
{
	uint64_t stacks = vmx_scratch_page(2);

	memset(&user_tss, 0, sizeof(user_tss));
	user_tss.rsp[0] = stacks + 0x1000;
	user_tss.iopb = TSS_IOPB;
	user_tss.bitmap[8192] = 0xff;   /* the byte past the bitmap (vol. 1 18.5.2) */
	vmwrite(VMCS_GUEST_TR_BASE, (uint64_t)&user_tss);
	vmwrite(VMCS_GUEST_TR_LIMIT, sizeof(user_tss) - 1);
	vmwrite(VMCS_GUEST_CS_SELECTOR, USER_CS);
	vmwrite(VMCS_GUEST_CS_AR, AR_USER_CODE64);
	for (uint32_t f = VMCS_GUEST_ES_SELECTOR; f <= VMCS_GUEST_GS_SELECTOR; f += 2) {
		if (f == VMCS_GUEST_CS_SELECTOR)
			continue;
		vmwrite(f, USER_DS);
		vmwrite(f - VMCS_GUEST_ES_SELECTOR + VMCS_GUEST_ES_AR, AR_USER_DATA);
	}
	vmwrite(VMCS_GUEST_CR4, vmread(VMCS_GUEST_CR4) & ~(CR4_SMEP | CR4_SMAP));
	vmwrite(VMCS_GUEST_RSP, stacks + 0x800);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)rip);
	vmx_stub_idt();
}

/* ---- 25.1.3 unconditional I/O exiting: Table 27-5 for every form ---- */

extern char gio[], gio_end[];
asm(".code64\n"
    "gio:\n"
    "gio_0:	in $0x71, %al\n"
    "gio_1:	in $0x71, %ax\n"
    "gio_2:	in $0x71, %eax\n"
    "gio_3:	in %dx, %al\n"
    "gio_4:	out %al, $0x80\n"
    "gio_5:	out %eax, %dx\n"
    "gio_6:	out %ax, %dx\n"
    "gio_7:	insb\n"
    "gio_8:	rep insw\n"
    "gio_9:	rep outsl\n"
    "gio_10:	outsb %fs:(%rsi), (%dx)\n"
    "gio_11:	addr32 rep insb\n"
    "gio_12:	rep outsb\n"
    "gio_13:	repne insl\n"
    "gio_end:	vmcall\n"
    "	jmp gio_end\n");
extern char gio_0[], gio_1[], gio_2[], gio_3[], gio_4[], gio_5[], gio_6[], gio_7[], gio_8[], gio_9[], gio_10[],
	gio_11[], gio_12[], gio_13[];

extern char gio32[], gio32_end[];
asm(".code32\n"
    "gio32:\n"
    "gio32_0:	insb\n"
    "gio32_1:	rep outsw %es:(%esi), (%dx)\n"
    "gio32_2:	addr16 insl\n"
    "gio32_3:	in $0xff, %eax\n"
    "gio32_end:	vmcall\n"
    "	jmp gio32_end\n"
    ".code64\n");
extern char gio32_0[], gio32_1[], gio32_2[], gio32_3[];

struct io_row {
	const char *text;
	uint64_t rcx, rsi, rdi, rdx;
	uint64_t qual;
	bool string;
	uint64_t linear;        /* 27.2.1 guest-linear address (string forms) */
	uint32_t info, mask;    /* Table 27-8 (where IA32_VMX_BASIC[54] = 1) */
};

/* Each row's instruction in turn (VMLAUNCH, then VMRESUME), with the
 * registers it names; the exit must be reason 30 with the row's
 * qualification and must leave RCX/RSI/RDI as they were (no iteration ran). */
static void run_io_rows(const char *mode, const struct io_row *rows, unsigned n, char *const *labels, char *end)
{
	bool info = vmx_msr(MSR_IA32_VMX_BASIC) & VMX_BASIC_INS_OUTS;
	bool launched = false;
	struct vmx_outcome o;

	for (unsigned k = 0; k < n; k++) {
		const struct io_row *r = &rows[k];
		uint64_t rip = (uint64_t)labels[k], len = (uint64_t)(k + 1 < n ? labels[k + 1] : end) - rip;

		memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
		vmx_guest_regs[RCX] = r->rcx;
		vmx_guest_regs[RSI] = r->rsi;
		vmx_guest_regs[RDI] = r->rdi;
		vmx_guest_regs[RDX] = r->rdx;
		vmwrite(VMCS_GUEST_RIP, rip);
		o = vmx_enter_guest(launched);
		launched = true;
		if (!expect_exit(o, EXIT_REASON_IO_INSTRUCTION, r->text))
			return;
		report_eq(o.qual, r->qual, "%s %s: exit qualification (Table 27-5)", mode, r->text);
		report_eq(vmread(VMCS_GUEST_RIP), rip, "%s %s: GUEST_RIP is the instruction (27.3.3)", mode, r->text);
		report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), len, "%s %s: instruction length %lu (27.2.5)", mode,
			  r->text, len);
		if (!r->string)
			continue;
		report_eq(vmread(VMCS_GUEST_LINEAR_ADDR), r->linear, "%s %s: guest-linear address (27.2.1)", mode,
			  r->text);
		if (info)
			report_eq(vmread(VMCS_EXIT_INSTRUCTION_INFO) & r->mask, r->info,
				  "%s %s: instruction information (Table 27-8)", mode, r->text);
		report(vmx_guest_regs[RCX] == r->rcx && vmx_guest_regs[RSI] == r->rsi && vmx_guest_regs[RDI] == r->rdi,
		       "%s %s: RCX/RSI/RDI unchanged: the exit comes before the first iteration (25.1.1)", mode,
		       r->text);
	}
	if (!info)
		report_skip("%s: IA32_VMX_BASIC[54] = 0: INS/OUTS instruction information undefined", mode);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)end);
	o = vmx_enter_guest(true);
	expect_exit(o, EXIT_REASON_VMCALL, "the closing VMCALL");
}

static void test_unconditional(void)
{
	char *const l64[] = { gio_0, gio_1, gio_2, gio_3, gio_4, gio_5, gio_6, gio_7, gio_8, gio_9, gio_10, gio_11,
			      gio_12, gio_13 };
	const uint64_t fs = 0x10000, hi = 0xffffffff00000000ull;
	const struct io_row r64[] = {
		{ "in $0x71,%al", 0, 0, 0, 0, Q_SIZE1 | Q_IN | Q_IMM | Q_PORT(0x71), false, 0, 0, 0 },
		{ "in $0x71,%ax", 0, 0, 0, 0, Q_SIZE2 | Q_IN | Q_IMM | Q_PORT(0x71), false, 0, 0, 0 },
		{ "in $0x71,%eax", 0, 0, 0, 0, Q_SIZE4 | Q_IN | Q_IMM | Q_PORT(0x71), false, 0, 0, 0 },
		{ "in %dx,%al", 0, 0, 0, 0xabcd1234, Q_SIZE1 | Q_IN | Q_PORT(0x1234), false, 0, 0, 0 },
		{ "out %al,$0x80", 0, 0, 0, 0, Q_SIZE1 | Q_IMM | Q_PORT(0x80), false, 0, 0, 0 },
		{ "out %eax,%dx", 0, 0, 0, 0xffff, Q_SIZE4 | Q_PORT(0xffff), false, 0, 0, 0 },
		{ "out %ax,%dx", 0, 0, 0, 0x8000, Q_SIZE2 | Q_PORT(0x8000), false, 0, 0, 0 },
		{ "insb", 7, 0, 0x123456789a, 0x3f8, Q_SIZE1 | Q_IN | Q_STRING | Q_PORT(0x3f8), true, 0x123456789a,
		  II_ASZ(A64), II_MASK_INS },
		{ "rep insw", 5, 0, 0x2000, 0x1f0, Q_SIZE2 | Q_IN | Q_STRING | Q_REP | Q_PORT(0x1f0), true, 0x2000,
		  II_ASZ(A64), II_MASK_INS },
		{ "rep outsl", 3, 0x3000, 0x99, 0xcf8, Q_SIZE4 | Q_STRING | Q_REP | Q_PORT(0xcf8), true, 0x3000,
		  II_ASZ(A64) | II_SEG(DS_), II_MASK_OUTS },
		{ "outsb %fs:(%rsi),(%dx)", 0, 0x44, 0, 0x80, Q_SIZE1 | Q_STRING | Q_PORT(0x80), true, fs + 0x44,
		  II_ASZ(A64) | II_SEG(FS_), II_MASK_OUTS },
		{ "addr32 rep insb", 2, 0, hi | 0x5000, 0x60, Q_SIZE1 | Q_IN | Q_STRING | Q_REP | Q_PORT(0x60), true,
		  0x5000, II_ASZ(A32), II_MASK_INS },
		{ "rep outsb with RCX = 0", 0, 0x6000, 0, 0x61, Q_SIZE1 | Q_STRING | Q_REP | Q_PORT(0x61), true, 0x6000,
		  II_ASZ(A64) | II_SEG(DS_), II_MASK_OUTS },
		{ "repne insl", 4, 0, 0x7000, 0x62, Q_SIZE4 | Q_IN | Q_STRING | Q_REP | Q_PORT(0x62), true, 0x7000,
		  II_ASZ(A64), II_MASK_INS },
	};
	char *const l32[] = { gio32_0, gio32_1, gio32_2, gio32_3 };
	const uint64_t es = 0x20000;
	const struct io_row r32[] = {
		{ "insb", 0, 0, 0x8000, 0x70, Q_SIZE1 | Q_IN | Q_STRING | Q_PORT(0x70), true, es + 0x8000,
		  II_ASZ(A32), II_MASK_INS },
		{ "rep outsw %es:(%esi),(%dx)", 9, 0x9000, 0, 0x71, Q_SIZE2 | Q_STRING | Q_REP | Q_PORT(0x71), true,
		  es + 0x9000, II_ASZ(A32) | II_SEG(ES_), II_MASK_OUTS },
		{ "addr16 insl", 0, 0, 0x1234a000, 0x72, Q_SIZE4 | Q_IN | Q_STRING | Q_PORT(0x72), true, es + 0xa000,
		  II_ASZ(A16), II_MASK_INS },
		{ "in $0xff,%eax", 0, 0, 0, 0, Q_SIZE4 | Q_IN | Q_IMM | Q_PORT(0xff), false, 0, 0, 0 },
	};

	if (!allowed(VMX_CTL_PROC, PROC_UNCOND_IO_EXITING)) {
		report_skip("25.1.3: \"unconditional I/O exiting\" not allowed on this model");
		return;
	}
	vmx_baseline(64);
	set_proc(PROC_UNCOND_IO_EXITING, true);
	vmwrite(VMCS_GUEST_FS_BASE, fs);
	run_io_rows("64-bit", r64, ARRAY_SIZE(r64), l64, gio_end);

	/* The I/O RCX/RSI/RDI/RIP fields belong to SMM VM exits after I/O
	 * SMIs (27.2.5): an I/O-instruction exit leaves them alone. */
	if (vmx_msr(MSR_IA32_VMX_MISC) & VMX_MISC_VMWRITE_ANY) {
		static const uint32_t f[] = { VMCS_IO_RCX, VMCS_IO_RSI, VMCS_IO_RDI, VMCS_IO_RIP };
		bool same = true;
		for (unsigned k = 0; k < ARRAY_SIZE(f); k++)
			vmwrite(f[k], SENTINEL + k);
		vmwrite(VMCS_GUEST_RIP, (uint64_t)gio_9);
		vmx_guest_regs[RCX] = 1;
		if (expect_exit(vmx_enter_guest(true), EXIT_REASON_IO_INSTRUCTION, "rep outsl (I/O RCX ...)"))
			for (unsigned k = 0; k < ARRAY_SIZE(f); k++)
				same &= vmread(f[k]) == SENTINEL + k;
		report(same, "27.2.5: I/O RCX/RSI/RDI/RIP not written by an I/O-instruction exit (SMM VM exits only)");
	} else {
		report_skip("27.2.5: I/O RCX/RSI/RDI/RIP: IA32_VMX_MISC[29] = 0, the fields cannot be preset");
	}

	vmx_baseline(32);
	set_proc(PROC_UNCOND_IO_EXITING, true);
	vmwrite(VMCS_GUEST_ES_BASE, es);
	vmwrite(VMCS_GUEST_ES_SELECTOR, 0x10);
	run_io_rows("32-bit", r32, ARRAY_SIZE(r32), l32, gio32_end);
}

/* ---- 25.1.3 I/O bitmaps ---- */

static uint8_t io_bitmap[2][4096] __attribute__((aligned(4096)));

static void bitmap_port(uint16_t port)
{
	io_bitmap[port >> 15][(port & 0x7fff) / 8] |= 1u << (port & 7);
}

/* Ports 21H (PIC IMR), 7FFEH/7FFFH and FFFEH/FFFFH have clear bits: those
 * accesses run natively; 71H, 8000H and 8001H are set. */
extern char gbm[], gbm_1[], gbm_2[], gbm_3[], gbm_4[], gbm_5[], gbm_6[], gbm_7[], gbm_end[];
uint8_t gbm_imr;
asm(".code64\n"
    "gbm:	in $0x21, %al\n"               /* clear: native, reads the PIC's IMR */
    "	mov %al, gbm_imr(%rip)\n"
    "gbm_1:	in $0x71, %al\n"               /* set: exits */
    "gbm_2:	mov $0x7ffe, %dx\n"
    "	in %dx, %ax\n"                      /* 7FFEH-7FFFH clear: native */
    "gbm_3:	in %dx, %eax\n"               /* 7FFEH-8001H: 8000H is set in B: exits */
    "gbm_4:	mov $0xfffe, %dx\n"
    "	outw %ax, %dx\n"                    /* FFFEH-FFFFH clear: native */
    "gbm_5:	out %eax, %dx\n"              /* FFFEH-0001H wraps: exits */
    "gbm_6:	mov $0xffff, %dx\n"
    "gbm_7:	outb %al, %dx\n"              /* FFFFH clear: native */
    "gbm_end:	vmcall\n"
    "	jmp gbm_end\n");

static void test_io_bitmaps(void)
{
	uint8_t imr = inb(0x21);
	struct vmx_outcome o;

	if (!allowed(VMX_CTL_PROC, PROC_IO_BITMAPS)) {
		report_skip("25.1.3: \"use I/O bitmaps\" not allowed on this model");
		return;
	}
	memset(io_bitmap, 0, sizeof(io_bitmap));
	bitmap_port(0x71);
	bitmap_port(0x8000);
	bitmap_port(0x8001);
	vmx_baseline(64);
	/* "Unconditional I/O exiting" is ignored with I/O bitmaps (25.1.3). */
	set_proc(PROC_IO_BITMAPS, true);
	if (allowed(VMX_CTL_PROC, PROC_UNCOND_IO_EXITING))
		set_proc(PROC_UNCOND_IO_EXITING, true);
	vmwrite(VMCS_IO_BITMAP_A, (uint64_t)io_bitmap[0]);
	vmwrite(VMCS_IO_BITMAP_B, (uint64_t)io_bitmap[1]);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)gbm);
	gbm_imr = (uint8_t)~imr;
	o = vmx_enter_guest(false);
	if (!expect_exit(o, EXIT_REASON_IO_INSTRUCTION, "I/O bitmaps: in $0x71"))
		return;
	report_eq(gbm_imr, imr, "25.1.3: bit 21H clear: IN ran natively and read the PIC's IMR");
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gbm_1, "25.1.3: bit 71H set in bitmap A: IN exits");
	report_eq(o.qual, Q_SIZE1 | Q_IN | Q_IMM | Q_PORT(0x71), "Table 27-5: in $0x71,%%al");
	vmx_skip_insn();
	o = vmx_enter_guest(true);
	if (!expect_exit(o, EXIT_REASON_IO_INSTRUCTION, "I/O bitmaps: in %dx,%eax at 7FFEH"))
		return;
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gbm_3,
		  "25.1.3: 2-byte IN at 7FFEH ran natively; 4-byte IN at 7FFEH exits (bit 8000H set in bitmap B)");
	report_eq(o.qual, Q_SIZE4 | Q_IN | Q_PORT(0x7ffe), "Table 27-5: in %%dx,%%eax");
	vmx_skip_insn();
	o = vmx_enter_guest(true);
	if (!expect_exit(o, EXIT_REASON_IO_INSTRUCTION, "I/O bitmaps: wrap"))
		return;
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gbm_5,
		  "25.1.3: 2-byte OUT at FFFEH ran natively; 4-byte OUT at FFFEH wraps to 0000H and exits");
	report_eq(o.qual, Q_SIZE4 | Q_PORT(0xfffe), "Table 27-5: out %%eax,%%dx");
	vmx_skip_insn();
	o = vmx_enter_guest(true);
	if (expect_exit(o, EXIT_REASON_VMCALL, "I/O bitmaps: FFFFH"))
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gbm_end, "25.1.3: 1-byte OUT at FFFFH (bit clear) ran natively");
}

/* ---- 25.1.1 at CPL 3: the TSS I/O permission #GP, RDMSR/HLT #GP ---- */

extern char gu_in80[], gu_in81[], gu_ins80[], gu_ins80_i[], gu_rdmsr[], gu_rdmsr_i[], gu_hlt[], gu_outs_iopl[];
asm(".code64\n"
    "gu_in80:	in $0x80, %al\n"
    "	jmp gu_in80\n"
    "gu_in81:	in $0x81, %al\n"
    "	jmp gu_in81\n"
    "gu_ins80:	mov $0x80, %dx\n"
    "	lea 0(%rsp), %rdi\n"
    "gu_ins80_i:	rep insb\n"
    "	jmp gu_ins80_i\n"
    "gu_rdmsr:	mov $0x174, %ecx\n"
    "gu_rdmsr_i:	rdmsr\n"
    "	jmp gu_rdmsr_i\n"
    "gu_hlt:	hlt\n"
    "	jmp gu_hlt\n"
    "gu_outs_iopl:	mov $0x80, %dx\n"
    "1:	outsb\n"
    "	jmp 1b\n");

static void cpl3_case(char *rip, uint64_t rflags, bool uncond)
{
	vmx_baseline(64);
	if (uncond)
		set_proc(PROC_UNCOND_IO_EXITING, true);
	user_guest(rip);
	vmwrite(VMCS_GUEST_RFLAGS, rflags);
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmx_guest_regs[RCX] = 1;
}

static void test_cpl3_priority(void)
{
	bool uncond = allowed(VMX_CTL_PROC, PROC_UNCOND_IO_EXITING);
	struct vmx_outcome o;

	boot_map_allow_user();
	if (!uncond)
		report_skip("25.1.1: I/O at CPL 3 (\"unconditional I/O exiting\" not allowed on this model)");
	if (uncond) {
		/* CPL 3 > IOPL 0 and the TSS bit for 80H set: #GP wins. */
		cpl3_case(gu_in80, 0x2, true);
		user_tss.bitmap[0x80 / 8] = 1u << (0x80 % 8);
		expect_guest_fault(vmx_enter_guest(false), VEC_GP, (uint64_t)gu_in80,
				   "25.1.1: CPL 3, TSS bit 80H set: in $0x80");
		cpl3_case(gu_ins80, 0x2, true);
		user_tss.bitmap[0x80 / 8] = 1u << (0x80 % 8);
		expect_guest_fault(vmx_enter_guest(false), VEC_GP, (uint64_t)gu_ins80_i,
				   "25.1.1: CPL 3, TSS bit 80H set: rep insb");
		/* The TSS allows 81H: the VM exit happens at CPL 3. */
		cpl3_case(gu_in81, 0x2, true);
		user_tss.bitmap[0x80 / 8] = 1u << (0x80 % 8);
		o = vmx_enter_guest(false);
		if (expect_exit(o, EXIT_REASON_IO_INSTRUCTION, "CPL 3, TSS bit 81H clear: in $0x81")) {
			report_eq(o.qual, Q_SIZE1 | Q_IN | Q_IMM | Q_PORT(0x81),
				  "25.1.3: CPL 3, TSS permits 81H: the I/O exit (Table 27-5)");
			report_eq(vmread(VMCS_GUEST_CS_SELECTOR), USER_CS, "27.3.2: CS saved with RPL 3");
		}
		/* IOPL 3: no bitmap check at all, the exit happens. */
		cpl3_case(gu_outs_iopl, 0x2 | RFLAGS_IOPL3, true);
		memset(user_tss.bitmap, 0xff, 8192);
		o = vmx_enter_guest(false);
		if (expect_exit(o, EXIT_REASON_IO_INSTRUCTION, "CPL 3, IOPL 3: outsb"))
			report_eq(o.qual, Q_SIZE1 | Q_STRING | Q_PORT(0x80), "25.1.3: CPL 3 = IOPL: OUTS exits");
	}
	/* RDMSR at CPL 3 is #GP, not exit 31, even without MSR bitmaps. */
	cpl3_case(gu_rdmsr, 0x2, false);
	expect_guest_fault(vmx_enter_guest(false), VEC_GP, (uint64_t)gu_rdmsr_i, "25.1.1: RDMSR at CPL 3");
	/* HLT at CPL 3 is #GP, not exit 12. */
	cpl3_case(gu_hlt, 0x2, false);
	set_proc(PROC_HLT_EXITING, true);
	expect_guest_fault(vmx_enter_guest(false), VEC_GP, (uint64_t)gu_hlt, "25.1.1: HLT at CPL 3 with HLT exiting");
}

/* ---- 25.1.3 RDMSR/WRMSR ---- */

extern char gm_rd[], gm_wr[], gm_rdbad[], gm_seq[], gm_seq_1[], gm_seq_2[], gm_seq_3[], gm_seq_4[], gm_seq_5[],
	gm_seq_end[], gm_gp[];
uint64_t gm_val[3];
asm(".code64\n"
    "gm_rd:	rdmsr\n"
    "	jmp gm_rd\n"
    "gm_wr:	wrmsr\n"
    "	jmp gm_wr\n"
    "gm_rdbad:	rdmsr\n"
    "	jmp gm_rdbad\n"
    /* With MSR bitmaps: 174H read native, 175H write native,
     * 176H read exits (bit set), C0000102H read native, write exits,
     * 40000000H exits (outside both ranges). */
    "gm_seq:	mov $0x174, %ecx\n"
    "	rdmsr\n"
    "	mov %eax, gm_val(%rip)\n"
    "	mov $0x175, %ecx\n"
    "	mov $0x1234, %eax\n"
    "	xor %edx, %edx\n"
    "	wrmsr\n"
    "	mov $0x176, %ecx\n"
    "gm_seq_1:	rdmsr\n"
    "	mov $0xc0000102, %ecx\n"
    "	rdmsr\n"
    "	mov %eax, gm_val+8(%rip)\n"
    "	mov %edx, gm_val+12(%rip)\n"
    "	mov $0x55, %eax\n"
    "gm_seq_2:	wrmsr\n"
    "	mov $0x40000000, %ecx\n"
    "gm_seq_3:	rdmsr\n"
    "	mov $0xc0002000, %ecx\n"
    "gm_seq_4:	wrmsr\n"
    "	mov $0x1fff, %ecx\n"
    "gm_seq_5:	rdmsr\n"
    "gm_seq_end:	vmcall\n"
    "	jmp gm_seq_end\n");

static uint8_t msr_bitmap[4096] __attribute__((aligned(4096)));

static void msr_bit(uint32_t msr, bool write)
{
	unsigned off = (msr >= 0xc0000000u ? 1024 : 0) + (write ? 2048 : 0) + (msr & 0x1fff) / 8;
	msr_bitmap[off] |= 1u << (msr & 7);
}

/* Without "use MSR bitmaps" every RDMSR/WRMSR exits, even of an MSR that
 * does not exist (the exit wins over that #GP, 25.1.1). */
static void test_msr_no_bitmaps(void)
{
	struct vmx_outcome o;

	vmx_baseline(64);
	if (vmx_must1(VMX_CTL_PROC) & PROC_MSR_BITMAPS) {
		report_skip("25.1.3: \"use MSR bitmaps\" must be 1 on this model");
		return;
	}
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmx_guest_regs[RCX] = 0xabcdef0000000010ull;    /* ECX = 10H (IA32_TIME_STAMP_COUNTER) */
	vmwrite(VMCS_GUEST_RIP, (uint64_t)gm_rd);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_RDMSR, "RDMSR without MSR bitmaps")) {
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gm_rd, "25.1.3: RDMSR exits (31) without MSR bitmaps");
		report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), 2, "27.2.5: RDMSR length 2");
		report_eq(o.qual, 0, "27.2.1: qualification cleared");
		report_eq(vmx_guest_regs[RCX], 0xabcdef0000000010ull, "the guest's RCX is there for the VMM");
		report_eq(vmx_guest_regs[RAX] | vmx_guest_regs[RDX], 0, "RDMSR did not load EDX:EAX");
	}
	vmx_guest_regs[RCX] = 0x175;
	vmx_guest_regs[RAX] = 0x11112222;
	vmx_guest_regs[RDX] = 0x33334444;
	vmwrite(VMCS_GUEST_RIP, (uint64_t)gm_wr);
	vmwrite(VMCS_GUEST_IA32_SYSENTER_ESP, 0x777);
	o = vmx_enter_guest(true);
	if (expect_exit(o, EXIT_REASON_WRMSR, "WRMSR without MSR bitmaps")) {
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gm_wr, "25.1.3: WRMSR exits (32) without MSR bitmaps");
		report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), 2, "27.2.5: WRMSR length 2");
		report(vmx_guest_regs[RCX] == 0x175 && vmx_guest_regs[RAX] == 0x11112222 &&
		       vmx_guest_regs[RDX] == 0x33334444, "ECX and EDX:EAX of WRMSR are in the saved registers");
		report_eq(vmread(VMCS_GUEST_IA32_SYSENTER_ESP), 0x777, "27.3.1: WRMSR did not write the MSR");
	}
	vmx_guest_regs[RCX] = 0x12345;      /* no such MSR */
	vmwrite(VMCS_GUEST_RIP, (uint64_t)gm_rdbad);
	o = vmx_enter_guest(true);
	if (expect_exit(o, EXIT_REASON_RDMSR, "RDMSR of a missing MSR"))
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gm_rdbad,
			  "25.1.1: RDMSR of a missing MSR at CPL 0: VM exit, not #GP");
}

static void test_msr_bitmaps(void)
{
	struct vmx_outcome o;

	if (!allowed(VMX_CTL_PROC, PROC_MSR_BITMAPS)) {
		report_skip("25.1.3: \"use MSR bitmaps\" not allowed on this model");
		return;
	}
	memset(msr_bitmap, 0, sizeof(msr_bitmap));
	msr_bit(0x176, false);
	msr_bit(0xc0000102, true);
	msr_bit(0x174, true);           /* write only: the read of 174H stays native */
	msr_bit(0x175, false);          /* read only: the write of 175H stays native */
	vmx_baseline(64);
	set_proc(PROC_MSR_BITMAPS, true);
	vmwrite(VMCS_MSR_BITMAP, (uint64_t)msr_bitmap);
	vmwrite(VMCS_GUEST_IA32_SYSENTER_CS, 0x4321);
	wrmsr(0xc0000102, 0x0000123487654321ull);       /* IA32_KERNEL_GS_BASE: not switched by VMX */
	gm_val[0] = gm_val[1] = 0;
	vmwrite(VMCS_GUEST_RIP, (uint64_t)gm_seq);
	o = vmx_enter_guest(false);
	if (!expect_exit(o, EXIT_REASON_RDMSR, "MSR bitmaps: RDMSR 176H"))
		return;
	report_eq(gm_val[0], 0x4321, "25.1.3: read bit 174H clear: the guest read its IA32_SYSENTER_CS");
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gm_seq_1, "25.1.3: read bit 176H set in the low read bitmap: exit 31");
	report_eq(vmx_guest_regs[RCX], 0x176, "RCX = 176H at the exit");
	report_eq(vmread(VMCS_GUEST_IA32_SYSENTER_ESP), 0x1234,
		  "25.1.3: write bit 175H clear: WRMSR ran natively (27.3.1 saved the value)");
	vmx_skip_insn();
	o = vmx_enter_guest(true);
	if (!expect_exit(o, EXIT_REASON_WRMSR, "MSR bitmaps: WRMSR C0000102H"))
		return;
	report_eq(gm_val[1], 0x0000123487654321ull, "25.1.3: high read bit clear: RDMSR C0000102H native");
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gm_seq_2, "25.1.3: write bit C0000102H set in the high write bitmap: exit 32");
	vmx_skip_insn();
	o = vmx_enter_guest(true);
	if (!expect_exit(o, EXIT_REASON_RDMSR, "MSR bitmaps: 40000000H"))
		return;
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gm_seq_3, "25.1.3: RDMSR 40000000H (outside both ranges) exits");
	vmx_skip_insn();
	o = vmx_enter_guest(true);
	if (!expect_exit(o, EXIT_REASON_WRMSR, "MSR bitmaps: C0002000H"))
		return;
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gm_seq_4, "25.1.3: WRMSR C0002000H (outside both ranges) exits");
	vmx_skip_insn();
	vmx_stub_idt();
	o = vmx_enter_guest(true);
	expect_guest_fault(o, VEC_GP, (uint64_t)gm_seq_5,
			   "25.1.3: bit 1FFFH clear, no such MSR: RDMSR runs natively and takes #GP");
	wrmsr(0xc0000102, 0);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start()) {
		test_unconditional();
		test_io_bitmaps();
		test_msr_no_bitmaps();
		test_msr_bitmaps();
		test_cpl3_priority();
	}
	report_summary();
}
