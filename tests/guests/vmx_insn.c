/* The VMX instructions other than VMLAUNCH/VMRESUME, as a hypervisor sees
 * them (SDM vol. 3C 30.3, 30.4): #UD outside VMX operation and without
 * CR4.VMXE, #GP(0) at CPL 3, VMXON pointer and revision checks, VMfail
 * error numbers of VMXON/VMCLEAR/VMPTRLD/VMREAD/VMWRITE/VMCALL/INVEPT/
 * INVVPID, VMPTRST, VMREAD/VMWRITE over every field of the table (widths,
 * high halves, fields the model lacks, read-only fields), VMCLEAR of the
 * current VMCS and VMXOFF. The capabilities come from the VMX capability
 * MSRs, so the same kernel runs on every model with VMX. */
#include "guest.h"
#include "vmx_insn.h"
#include "vmx_setup.h"

/* ---- what the capability MSRs allow (Appendix A) ---- */

static uint64_t cap_misc, cap_ept_vpid;
static uint64_t allowed[VMX_DEP_ENTRY_OR_EXIT2 + 1];

static uint64_t high32(uint32_t msr)
{
	return rdmsr(msr) >> 32;
}

static void read_caps(void)
{
	allowed[VMX_DEP_ALWAYS] = ~0ul;
	allowed[VMX_DEP_PIN] = high32(MSR_IA32_VMX_PINBASED_CTLS);
	allowed[VMX_DEP_PROC] = high32(MSR_IA32_VMX_PROCBASED_CTLS);
	allowed[VMX_DEP_EXIT] = high32(MSR_IA32_VMX_EXIT_CTLS);
	allowed[VMX_DEP_ENTRY] = high32(MSR_IA32_VMX_ENTRY_CTLS);
	if (allowed[VMX_DEP_PROC] & PROC_SECONDARY_CTLS)
		allowed[VMX_DEP_PROC2] = high32(MSR_IA32_VMX_PROCBASED_CTLS2);
	if (allowed[VMX_DEP_PROC] & PROC_TERTIARY_CTLS)
		allowed[VMX_DEP_PROC3] = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS3);
	if (allowed[VMX_DEP_EXIT] & EXIT_SECONDARY_CTLS)
		allowed[VMX_DEP_EXIT2] = rdmsr(MSR_IA32_VMX_EXIT_CTLS2);
	if (allowed[VMX_DEP_PROC2] & PROC2_VMFUNC)
		allowed[VMX_DEP_VMFUNC] = rdmsr(MSR_IA32_VMX_VMFUNC);
	cap_misc = rdmsr(MSR_IA32_VMX_MISC);
	if (allowed[VMX_DEP_PROC2] & (PROC2_EPT | PROC2_VPID))
		cap_ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
}

static bool field_exists(const struct vmx_field_row *r)
{
	return vmx_field_exists(r);
}

/* ---- expecting exceptions ---- */

static void do_vmxon(void *a) { vmxon(*(uint64_t *)a); }
static void do_vmclear(void *a) { vmclear(*(uint64_t *)a); }
static void do_vmptrld(void *a) { vmptrld(*(uint64_t *)a); }
static void do_vmptrst(void *a) { vmptrst((uint64_t *)a); }
static void do_vmread(void *a) { vmread_r(VMCS_GUEST_RIP, (uint64_t *)a); }
static void do_vmwrite(void *a) { (void)a; vmwrite_r(VMCS_GUEST_RIP, 0); }
static void do_vmxoff(void *a) { (void)a; vmxoff(); }
static void do_vmcall(void *a) { (void)a; vmcall(); }
static void do_invept(void *a) { (void)a; invept(2, 0, 0); }
static void do_invvpid(void *a) { (void)a; invvpid(2, 0, 0); }

static void expect_vec(fault_body_fn fn, void *arg, unsigned vec, const char *what)
{
	struct fault f;
	catch_fault(fn, arg, &f);
	if (!report(f.raised && f.vector == vec && (vec != VEC_GP || f.error_code == 0), "%s: vector %u", what, vec))
		printf("      raised %d vector %u error %#lx\n", f.raised, f.vector, f.error_code);
}

static const struct { fault_body_fn fn; const char *name; } all_but_vmxon[] = {
	{ do_vmclear, "VMCLEAR" }, { do_vmptrld, "VMPTRLD" }, { do_vmptrst, "VMPTRST" }, { do_vmread, "VMREAD" },
	{ do_vmwrite, "VMWRITE" }, { do_vmxoff, "VMXOFF" }, { do_vmcall, "VMCALL" }, { do_invept, "INVEPT" },
	{ do_invvpid, "INVVPID" },
};

/* Outside VMX operation every VMX instruction but VMXON is #UD. */
static void check_outside(const char *when)
{
	uint64_t scratch = vmx_vmxon_region();
	for (unsigned k = 0; k < ARRAY_SIZE(all_but_vmxon); k++) {
		char what[64];
		snprintf(what, sizeof(what), "%s %s", when, all_but_vmxon[k].name);
		expect_vec(all_but_vmxon[k].fn, &scratch, VEC_UD, what);
	}
}

/* ---- ring 3 ---- */

static uint64_t r3_gdt[9] __attribute__((aligned(16)));
static uint8_t r3_tss[104] __attribute__((aligned(16)));
static uint8_t r3_kstack[4096] __attribute__((aligned(16)));
static uint8_t r3_ustack[4096] __attribute__((aligned(16)));
#define SEL_UDATA 0x1b
#define SEL_UCODE 0x23
#define SEL_TSS 0x28

/* Ring-3 stubs: each executes one VMX instruction (expected to #GP). */
extern char u_vmxon[], u_vmclear[], u_vmread[], u_vmwrite[], u_vmptrst[], u_vmxoff[], u_vmcall[], u_invept[];
asm(".text\n"
    "u_vmxon: vmxon (%rdi)\n ud2\n"
    "u_vmclear: vmclear (%rdi)\n ud2\n"
    "u_vmread: vmread %rax, %rcx\n ud2\n"
    "u_vmwrite: vmwrite %rcx, %rax\n ud2\n"
    "u_vmptrst: vmptrst (%rdi)\n ud2\n"
    "u_vmxoff: vmxoff\n ud2\n"
    "u_vmcall: vmcall\n ud2\n"
    "u_invept: invept (%rdi), %rax\n ud2\n");

static void setup_ring3(void)
{
	uint64_t base = (uint64_t)r3_tss, rsp0 = (uint64_t)(r3_kstack + sizeof(r3_kstack));
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(r3_gdt) - 1, (uint64_t)r3_gdt };
	r3_gdt[1] = 0x00af9a000000ffff;         /* 0x08 code64 DPL 0 */
	r3_gdt[2] = 0x00cf92000000ffff;         /* 0x10 data DPL 0 */
	r3_gdt[3] = 0x00cff2000000ffff;         /* 0x18 data DPL 3 */
	r3_gdt[4] = 0x00affa000000ffff;         /* 0x20 code64 DPL 3 */
	gdt_set_tss64(&r3_gdt[5], base, sizeof(r3_tss) - 1);
	memcpy(r3_tss + 4, &rsp0, 8);
	asm volatile("lgdt %0; ltr %w1" : : "m"(ptr), "r"(SEL_TSS) : "memory");
	boot_map_allow_user();
}

static void run_user(void *rip)
{
	uint64_t sp = (uint64_t)r3_ustack + sizeof(r3_ustack);
	asm volatile("push %[ss]; push %[sp]; pushq $2; push %[cs]; push %[ip]; iretq"
		     : : [ss] "r"((uint64_t)SEL_UDATA), [sp] "r"(sp), [cs] "r"((uint64_t)SEL_UCODE), [ip] "r"(rip),
		       "D"(r3_ustack), "a"(VMCS_GUEST_RIP)
		     : "memory");
}

/* #GP(0) raised by the instruction at rip itself (not by something after). */
static void expect_gp_at_cpl3(char *rip, const char *what)
{
	struct fault f;
	catch_fault(run_user, rip, &f);
	if (!report(f.raised && f.vector == VEC_GP && f.error_code == 0 && f.rip == (uint64_t)rip,
		    "CPL 3 %s: #GP(0)", what))
		printf("      raised %d vector %u error %#lx rip %#lx (want %#lx)\n", f.raised, f.vector,
		       f.error_code, f.rip, (uint64_t)rip);
}

/* ---- VMXON ---- */

static void check_vmxon(void)
{
	uint64_t region = vmx_alloc_vmcs();
	expect_vec(do_vmxon, &region, VEC_UD, "VMXON with CR4.VMXE = 0");
	check_outside("outside VMX operation:");
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK))
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	write_cr0((read_cr0() | rdmsr(MSR_IA32_VMX_CR0_FIXED0)) & rdmsr(MSR_IA32_VMX_CR0_FIXED1));
	write_cr4((read_cr4() | CR4_VMXE | rdmsr(MSR_IA32_VMX_CR4_FIXED0)) & rdmsr(MSR_IA32_VMX_CR4_FIXED1));
	report_eq(vmxon(region + 0x800), VMX_FAIL_INVALID, "VMXON of an unaligned pointer: VMfailInvalid");
	report_eq(vmxon(1ul << 52), VMX_FAIL_INVALID, "VMXON beyond the physical-address width: VMfailInvalid");
	*(volatile uint32_t *)region = vmx_revision() + 1;
	report_eq(vmxon(region), VMX_FAIL_INVALID, "VMXON with a wrong revision: VMfailInvalid");
	*(volatile uint32_t *)region = vmx_revision() | 0x80000000u;
	report_eq(vmxon(region), VMX_FAIL_INVALID, "VMXON with bit 31 of the revision word set: VMfailInvalid");
	report_eq(vmx_enable(), 0, "vmx_enable: VMXON succeeds");
	/* VMsucceed clears CF, PF, AF, ZF, SF and OF (30.2) */
	uint64_t fl, p = 0;
	asm volatile("pushfq; orq %2, (%%rsp); popfq; vmptrst %1; pushfq; popq %0"
		     : "=r"(fl), "=m"(p) : "i"(RFLAGS_ARITH) : "cc", "memory");
	report_eq(fl & RFLAGS_ARITH, 0, "VMsucceed clears all six arithmetic flags");
	report_eq(vmxon(region), VMX_FAIL_INVALID, "VMXON in VMX root operation without a current VMCS: VMfailInvalid");
}

/* ---- VMCLEAR / VMPTRLD / VMPTRST ---- */

static uint32_t insn_error(void)
{
	return (uint32_t)vmread(VMCS_VM_INSTRUCTION_ERROR);
}

static void expect_error(enum vmx_result r, uint32_t err, const char *what)
{
	if (!report(r == VMX_FAIL_VALID && insn_error() == err, "%s: VMfailValid(%u)", what, err))
		printf("      result %d error %u\n", r, insn_error());
}

static uint64_t vmcs_a, vmcs_b;

static void check_pointers(void)
{
	uint64_t p = 0;
	report(vmptrst(&p) == VMX_OK && p == ~0ul, "VMPTRST without a current VMCS stores FFFFFFFF_FFFFFFFFH");
	report_eq(vmclear(vmcs_a + 8), VMX_FAIL_INVALID, "VMCLEAR of an unaligned pointer, no current VMCS");
	report_eq(vmptrld(vmx_vmxon_region()), VMX_FAIL_INVALID, "VMPTRLD of the VMXON pointer, no current VMCS");
	report_eq(vmclear(vmcs_a), VMX_OK, "VMCLEAR");
	report_eq(vmptrld(vmcs_a), VMX_OK, "VMPTRLD");
	report(vmptrst(&p) == VMX_OK && p == vmcs_a, "VMPTRST stores the current-VMCS pointer");
	expect_error(vmxon(vmx_vmxon_region()), VMERR_VMXON_IN_ROOT, "VMXON in VMX root operation");
	expect_error(vmclear(vmcs_b + 0x10), VMERR_VMCLEAR_INVALID_ADDR, "VMCLEAR of an unaligned pointer");
	expect_error(vmclear(1ul << 52), VMERR_VMCLEAR_INVALID_ADDR, "VMCLEAR beyond the physical-address width");
	expect_error(vmclear(vmx_vmxon_region()), VMERR_VMCLEAR_VMXON_PTR, "VMCLEAR of the VMXON pointer");
	expect_error(vmptrld(vmcs_b + 0x10), VMERR_VMPTRLD_INVALID_ADDR, "VMPTRLD of an unaligned pointer");
	expect_error(vmptrld(1ul << 52), VMERR_VMPTRLD_INVALID_ADDR, "VMPTRLD beyond the physical-address width");
	expect_error(vmptrld(vmx_vmxon_region()), VMERR_VMPTRLD_VMXON_PTR, "VMPTRLD of the VMXON pointer");
	*(volatile uint32_t *)vmcs_b = vmx_revision() + 1;
	expect_error(vmptrld(vmcs_b), VMERR_VMPTRLD_BAD_REVISION, "VMPTRLD with a wrong revision");
	*(volatile uint32_t *)vmcs_b = vmx_revision() | 0x80000000u;
	if (allowed[VMX_DEP_PROC2] & PROC2_VMCS_SHADOWING) {
		report_eq(vmptrld(vmcs_b), VMX_OK, "VMPTRLD of a shadow VMCS (VMCS shadowing supported)");
		vmptrld(vmcs_a);
	} else {
		expect_error(vmptrld(vmcs_b), VMERR_VMPTRLD_BAD_REVISION, "VMPTRLD of a shadow VMCS without shadowing");
	}
	*(volatile uint32_t *)vmcs_b = vmx_revision();
	report(vmptrst(&p) == VMX_OK && p == vmcs_a, "VMPTRST still reports the first VMCS");
	expect_error(vmcall(), VMERR_VMCALL_IN_ROOT, "VMCALL in VMX root operation");
}

/* ---- VMREAD / VMWRITE over the table ---- */

static uint64_t width_mask(uint32_t enc)
{
	unsigned w = vmx_enc_width(enc);
	return w == VMX_W16 ? 0xffff : w == VMX_W32 ? 0xffffffff : ~0ul;
}

/* One field: a pattern written and read back, its high half if it has
 * one; error 12 when the model lacks it, error 13 for read-only fields
 * unless IA32_VMX_MISC[29]. Returns the number of failed checks. */
static unsigned check_field(const struct vmx_field_row *r)
{
	uint64_t pat = 0x8badf00d5a5aa5a5ul ^ ((uint64_t)r->enc << 20), v = 0;
	unsigned bad = 0;
	if (!field_exists(r)) {
		bad += vmread_r(r->enc, &v) != VMX_FAIL_VALID || insn_error() != VMERR_VMREADWRITE_BAD_FIELD;
		bad += vmwrite_r(r->enc, pat) != VMX_FAIL_VALID || insn_error() != VMERR_VMREADWRITE_BAD_FIELD;
		return bad;
	}
	if (vmx_enc_type(r->enc) == VMX_T_RODATA && !(cap_misc & (1ul << 29))) {
		bad += vmwrite_r(r->enc, pat) != VMX_FAIL_VALID || insn_error() != VMERR_VMWRITE_READONLY;
		bad += vmread_r(r->enc, &v) != VMX_OK;
		return bad;
	}
	bad += vmwrite_r(r->enc, pat) != VMX_OK;
	bad += vmread_r(r->enc, &v) != VMX_OK || v != (pat & width_mask(r->enc));
	if (vmx_enc_width(r->enc) == VMX_W64) {
		bad += vmread_r(r->enc | 1, &v) != VMX_OK || v != pat >> 32;
		bad += vmwrite_r(r->enc | 1, 0xffffffff00001234ul) != VMX_OK;
		bad += vmread_r(r->enc, &v) != VMX_OK || v != ((pat & 0xffffffff) | 0x1234ul << 32);
	}
	return bad;
}

static void check_fields(void)
{
	unsigned present = 0, absent = 0;
	for (unsigned k = 0; k < ARRAY_SIZE(vmx_field_rows); k++) {
		const struct vmx_field_row *r = &vmx_field_rows[k];
		unsigned bad = check_field(r);
		if (bad)
			report(false, "field %s (%#x): %u check(s) failed", r->name, r->enc, bad);
		field_exists(r) ? present++ : absent++;
	}
	report(true, "VMREAD/VMWRITE over the %u fields of the table (%u on this model, %u absent)",
	       (unsigned)ARRAY_SIZE(vmx_field_rows), present, absent);
	static const uint64_t bogus[] = { 0x6c40, 0x0001, 0x0803, 0x4401, 0x10000681eul, 0x8000681eul };
	for (unsigned k = 0; k < ARRAY_SIZE(bogus); k++) {
		uint64_t v;
		char what[64];
		snprintf(what, sizeof(what), "VMREAD of encoding %#lx", bogus[k]);
		expect_error(vmread_r(bogus[k], &v), VMERR_VMREADWRITE_BAD_FIELD, what);
		snprintf(what, sizeof(what), "VMWRITE of encoding %#lx", bogus[k]);
		expect_error(vmwrite_r(bogus[k], 0), VMERR_VMREADWRITE_BAD_FIELD, what);
	}
	/* a memory operand, both directions */
	uint64_t mem = 0x1122334455667788ul, out = 0, fl;
	asm volatile("vmwrite %2, %1; pushfq; popq %0" : "=r"(fl) : "r"((uint64_t)VMCS_GUEST_RSP), "m"(mem) : "cc", "memory");
	asm volatile("vmread %1, %0" : "=m"(out) : "r"((uint64_t)VMCS_GUEST_RSP) : "cc", "memory");
	report(vmx_result_of(fl) == VMX_OK && out == mem, "VMWRITE from and VMREAD to memory");
}

/* ---- INVEPT / INVVPID ---- */

static void check_invalidate(void)
{
	bool ept = (allowed[VMX_DEP_PROC2] & PROC2_EPT) && (cap_ept_vpid & (1ul << 20));
	bool vpid = (allowed[VMX_DEP_PROC2] & PROC2_VPID) && (cap_ept_vpid & (1ul << 32));
	if (!ept) {
		expect_vec(do_invept, NULL, VEC_UD, "INVEPT without EPT/INVEPT support");
	} else {
		expect_error(invept(0, 0, 0), VMERR_INVEPT_INVVPID_INVALID, "INVEPT type 0");
		expect_error(invept(3, 0, 0), VMERR_INVEPT_INVVPID_INVALID, "INVEPT type 3");
		if (cap_ept_vpid & (1ul << 26))
			report_eq(invept(2, 0, 0), VMX_OK, "INVEPT all-context");
		if (cap_ept_vpid & (1ul << 25))
			expect_error(invept(1, 0x1000 | 7, 0), VMERR_INVEPT_INVVPID_INVALID,
				     "INVEPT single-context with memory type 7");
	}
	if (!vpid) {
		expect_vec(do_invvpid, NULL, VEC_UD, "INVVPID without VPID/INVVPID support");
		return;
	}
	expect_error(invvpid(4, 1, 0), VMERR_INVEPT_INVVPID_INVALID, "INVVPID type 4");
	if (cap_ept_vpid & (1ul << 40)) {
		expect_error(invvpid(0, 0, 0x1000), VMERR_INVEPT_INVVPID_INVALID, "INVVPID individual-address, VPID 0");
		expect_error(invvpid(0, 1, 0x0000800000000000ul), VMERR_INVEPT_INVVPID_INVALID,
			     "INVVPID individual-address, non-canonical address");
		report_eq(invvpid(0, 1, 0x1000), VMX_OK, "INVVPID individual-address");
	}
	if (cap_ept_vpid & (1ul << 41)) {
		expect_error(invvpid(1, 0, 0), VMERR_INVEPT_INVVPID_INVALID, "INVVPID single-context, VPID 0");
		expect_error(invvpid(1, 0x10001, 0), VMERR_INVEPT_INVVPID_INVALID, "INVVPID, descriptor bits 63:16 set");
	}
	if (cap_ept_vpid & (1ul << 42))
		report_eq(invvpid(2, 0, 0), VMX_OK, "INVVPID all-context");
}

static void check_cpl3(void)
{
	setup_ring3();
	expect_gp_at_cpl3(u_vmxon, "VMXON in VMX root operation");
	expect_gp_at_cpl3(u_vmclear, "VMCLEAR");
	expect_gp_at_cpl3(u_vmread, "VMREAD");
	expect_gp_at_cpl3(u_vmwrite, "VMWRITE");
	expect_gp_at_cpl3(u_vmptrst, "VMPTRST");
	expect_gp_at_cpl3(u_vmxoff, "VMXOFF");
	expect_gp_at_cpl3(u_vmcall, "VMCALL");
	if ((allowed[VMX_DEP_PROC2] & PROC2_EPT) && (cap_ept_vpid & (1ul << 20)))
		expect_gp_at_cpl3(u_invept, "INVEPT");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (!report(vmx_cpu_has_vmx(), "CPUID.1:ECX.VMX"))
		report_summary();
	read_caps();
	check_vmxon();
	vmcs_a = vmx_alloc_vmcs();
	vmcs_b = vmx_alloc_vmcs();
	check_pointers();
	check_fields();
	check_invalidate();
	check_cpl3();
	report_eq(vmclear(vmcs_a), VMX_OK, "VMCLEAR of the current VMCS");
	uint64_t p = 0, v;
	report(vmptrst(&p) == VMX_OK && p == ~0ul, "... leaves no current VMCS");
	report_eq(vmread_r(VMCS_GUEST_RIP, &v), VMX_FAIL_INVALID, "... VMREAD is VMfailInvalid");
	report_eq(vmxoff(), VMX_OK, "VMXOFF");
	check_outside("after VMXOFF:");
	report_summary();
}
