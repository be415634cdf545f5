/* The guest VMX library (lib/vmx_vmcs.h): capability queries, entering VMX
 * operation, the valid baseline VMCS and VM entries that return to C.
 * Section numbers are those of the SDM vol. 3C edition whose VM-entry
 * chapter is 26 (vmx/controls.h).
 */
#include "vmx_vmcs.h"

#define VMX_PAGE 4096
#define VMX_PAGE_ALIGNED __attribute__((aligned(VMX_PAGE)))

/* The library's GDT: the boot code and data descriptors at the selectors
 * the kernel already uses, a 32-bit code segment for the 32-bit guest and
 * a 64-bit TSS (26.2.3: the host TR selector cannot be 0). */
enum { SEL_CODE64 = KERNEL_CS, SEL_DATA = KERNEL_DS, SEL_CODE32 = 0x18, SEL_TSS = 0x20 };
#define GDT_ENTRIES 6
#define TSS_LIMIT 0x67

/* Segment access rights in the VMCS format (24.4.1, Table 24-2): type,
 * S, DPL, P, then AVL, L, D/B, G from bit 12, unusable at bit 16. */
#define AR_CODE64 0xa09bu       /* execute/read accessed code, S, P, L, G */
#define AR_CODE32 0xc09bu       /* the same with D/B instead of L */
#define AR_DATA 0xc093u         /* read/write accessed data, S, P, D/B, G */
#define AR_TSS_BUSY 0x008bu     /* busy 64-bit (or 32-bit) TSS, P */
#define AR_UNUSABLE 0x10000u
#define FLAT_LIMIT 0xffffffffu

/* 32-bit paging structure entries (SDM vol. 3A 4.3, Table 4-4). */
#define PDE_P 0x1u
#define PDE_W 0x2u
#define PDE_PS 0x80u
/* EPT (28.2.2, 24.6.11) and IA32_VMX_EPT_VPID_CAP bits (A.10). */
#define EPT_RWX 0x7ull
#define EPT_LEAF 0x80ull
#define EPT_MT_SHIFT 3
#define MT_UC 0ull
#define MT_WB 6ull
#define EPTP_WALK_4 (3ull << 3)
#define EPTCAP_WALK_4 (1ull << 6)
#define EPTCAP_UC (1ull << 8)
#define EPTCAP_WB (1ull << 14)
#define EPTCAP_2M (1ull << 16)
#define EPTCAP_1G (1ull << 17)

#define BASIC_TRUE_CTLS (1ull << 55)    /* A.1 */
#define BASIC_REVISION 0x7fffffffull
#define FC_LOCK (1ull << 0)             /* IA32_FEATURE_CONTROL (23.7) */
#define FC_VMX_OUTSIDE_SMX (1ull << 2)
#define CPUID1_ECX_VMX (1u << 5)
#define DR7_INIT 0x400ull
#define RFLAGS_FIXED1 0x2ull

static uint64_t lib_gdt[GDT_ENTRIES] __attribute__((aligned(16)));
static uint8_t lib_tss[TSS_LIMIT + 1] __attribute__((aligned(16)));
static uint8_t vmxon_region[VMX_PAGE] VMX_PAGE_ALIGNED;
static uint8_t vmcs_region[VMX_PAGE] VMX_PAGE_ALIGNED;
static uint32_t guest32_pd[1024] VMX_PAGE_ALIGNED;
static uint8_t host_stack[2 * VMX_PAGE] VMX_PAGE_ALIGNED;
static uint8_t guest_stack[2 * VMX_PAGE] VMX_PAGE_ALIGNED;
static uint64_t ept_pml4[512] VMX_PAGE_ALIGNED, ept_pdpt[512] VMX_PAGE_ALIGNED, ept_pd[4][512] VMX_PAGE_ALIGNED;
static uint8_t scratch[VMX_SCRATCH_PAGES][VMX_PAGE] VMX_PAGE_ALIGNED;
static int vmx_started;                 /* 0: not tried, 1: in VMX operation, -1: cannot */

uint64_t vmx_guest_regs[16];
struct vmx_host_seen vmx_host_seen;
struct guest_jmp_buf vmx_host_jb;       /* where vmx_host_entry returns to */
extern char vmx_host_entry[];

struct dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static inline struct dtr sgdt(void)
{
	struct dtr d;
	asm volatile("sgdt %0" : "=m"(d));
	return d;
}

static inline struct dtr sidt(void)
{
	struct dtr d;
	asm volatile("sidt %0" : "=m"(d));
	return d;
}

static inline uint64_t pa_of(const void *p)
{
	return (uint64_t)p;     /* the boot map is the identity */
}

/* ---- capability MSRs (Appendix A) ---- */

uint64_t vmx_msr(uint32_t index)
{
	return rdmsr(index);
}

static uint64_t ctl_msr(enum vmx_ctl_msr ctl)
{
	bool t = vmx_msr(MSR_IA32_VMX_BASIC) & BASIC_TRUE_CTLS;

	switch (ctl) {
	case VMX_CTL_PIN:
		return vmx_msr(t ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	case VMX_CTL_PROC:
		return vmx_msr(t ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	case VMX_CTL_PROC2:
		/* A.3.3: the MSR exists only when the secondary controls may be 1. */
		if (!(ctl_msr(VMX_CTL_PROC) >> 32 & PROC_SECONDARY_CTLS))
			return 0;
		return vmx_msr(MSR_IA32_VMX_PROCBASED_CTLS2);
	case VMX_CTL_EXIT:
		return vmx_msr(t ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	case VMX_CTL_ENTRY:
		return vmx_msr(t ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	}
	return 0;
}

/* A.3-A.5: bits 63:32 are the allowed-1 settings, bits 31:0 the allowed-0
 * settings (a 1 there means the control must be 1). */
uint64_t vmx_allowed1(enum vmx_ctl_msr ctl)
{
	return ctl_msr(ctl) >> 32;
}

uint64_t vmx_must1(enum vmx_ctl_msr ctl)
{
	return (uint32_t)ctl_msr(ctl);
}

unsigned vmx_phys_bits(void)
{
	if (cpuid(0x80000000u, 0).a < 0x80000008u)
		return 36;      /* SDM vol. 3A 4.1.4: 36 when the leaf is absent */
	return cpuid(0x80000008u, 0).a & 0xff;
}

static uint32_t vmcs_revision(void)
{
	return vmx_msr(MSR_IA32_VMX_BASIC) & BASIC_REVISION;
}

/* ---- entering VMX operation (23.7) ---- */

static void install_gdt(void)
{
	struct dtr d = { sizeof(lib_gdt) - 1, pa_of(lib_gdt) };

	lib_gdt[SEL_CODE64 / 8] = 0x00af9a000000ffffull;
	lib_gdt[SEL_DATA / 8] = 0x00cf92000000ffffull;
	lib_gdt[SEL_CODE32 / 8] = 0x00cf9a000000ffffull;
	gdt_set_tss64(&lib_gdt[SEL_TSS / 8], pa_of(lib_tss), TSS_LIMIT);
	asm volatile("lgdt %0; ltr %w1" : : "m"(d), "r"((uint16_t)SEL_TSS) : "memory");
}

/* The guest's 32-bit paging: 4 MiB pages identity-mapping 4 GiB. */
static void build_guest32_paging(void)
{
	for (uint32_t i = 0; i < 1024; i++)
		guest32_pd[i] = i << 22 | PDE_PS | PDE_W | PDE_P;
}

/* IA32_FEATURE_CONTROL must be locked with VMX outside SMX enabled (23.7);
 * set it if the firmware left it unlocked. */
static bool feature_control_ok(void)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (!(fc & FC_LOCK)) {
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FC_LOCK | FC_VMX_OUTSIDE_SMX);
		fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	}
	return (fc & FC_LOCK) && (fc & FC_VMX_OUTSIDE_SMX);
}

/* Minimal VMXON (the "insn" helper's lib/vmx_setup.c replaces this when it
 * lands): CR0/CR4 to their FIXED0/FIXED1 values (23.8), CR4.VMXE, a VMXON
 * region with the revision identifier (24.11.5). */
static bool enter_vmx(void)
{
	if (!(cpuid(1, 0).c & CPUID1_ECX_VMX))
		return report(false, "VMX: CPUID.1:ECX.VMX is 0 (choose a model with VMX)");
	if (!feature_control_ok())
		return report(false, "VMX: IA32_FEATURE_CONTROL locked without VMX outside SMX");
	write_cr0((read_cr0() | vmx_msr(MSR_IA32_VMX_CR0_FIXED0)) & vmx_msr(MSR_IA32_VMX_CR0_FIXED1));
	write_cr4((read_cr4() | vmx_msr(MSR_IA32_VMX_CR4_FIXED0) | CR4_VMXE) & vmx_msr(MSR_IA32_VMX_CR4_FIXED1));
	install_gdt();
	build_guest32_paging();
	*(uint32_t *)vmxon_region = vmcs_revision();
	if (vmxon(pa_of(vmxon_region)) != VMX_OK)
		return report(false, "VMX: VMXON failed");
	return true;
}

bool vmx_start(void)
{
	if (!vmx_started)
		vmx_started = enter_vmx() ? 1 : -1;
	return vmx_started > 0;
}

/* ---- the baseline VMCS ---- */

static const uint32_t all_fields[] = {
#define VMCS_FIELD(enc, name, title, dep, bit) enc,
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/* 24.11.3: a VMCS region is initialised with its revision identifier and
 * VMCLEAR before VMPTRLD; the field contents are then undefined, so every
 * writable field is written 0 (VMWRITE fails harmlessly, error 12, for
 * fields the model does not have). */
static void fresh_vmcs(void)
{
	uint64_t pa = pa_of(vmcs_region);

	vmclear(pa);
	memset(vmcs_region, 0, sizeof(vmcs_region));
	*(uint32_t *)vmcs_region = vmcs_revision();
	if (vmclear(pa) != VMX_OK || vmptrld(pa) != VMX_OK)
		report(false, "VMX baseline: VMCLEAR/VMPTRLD of a fresh VMCS failed");
	for (unsigned i = 0; i < ARRAY_SIZE(all_fields); i++)
		if (((all_fields[i] >> 10) & 3) != 1)   /* not read-only data (24.11.2) */
			vmwrite_r(all_fields[i], 0);
}

/* VM-execution, VM-exit and VM-entry controls: the must-be-1 bits only
 * (26.2.1), plus what the baseline's modes require: "host address-space
 * size" because the host is in IA-32e mode (26.2.4), "IA-32e mode guest"
 * for the 64-bit guest. */
static void baseline_controls(int guest_bits)
{
	uint64_t exit_ctl = vmx_must1(VMX_CTL_EXIT) | EXIT_HOST_ADDR_SPACE;
	uint64_t entry_ctl = vmx_must1(VMX_CTL_ENTRY) | (guest_bits == 64 ? ENTRY_IA32E_GUEST : 0);

	if ((exit_ctl & ~vmx_allowed1(VMX_CTL_EXIT)) || (entry_ctl & ~vmx_allowed1(VMX_CTL_ENTRY)))
		report(false, "VMX baseline: the model does not allow a 64-bit host / IA-32e guest");
	vmwrite(VMCS_PIN_CONTROLS, vmx_must1(VMX_CTL_PIN));
	vmwrite(VMCS_PROC_CONTROLS, vmx_must1(VMX_CTL_PROC));
	vmwrite(VMCS_EXIT_CONTROLS, exit_ctl);
	vmwrite(VMCS_ENTRY_CONTROLS, entry_ctl);
	vmwrite(VMCS_EXCEPTION_BITMAP, 0);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
}

/* The host is the test kernel as it runs now (26.2.2, 26.2.3): its control
 * registers, the library's GDT and TSS, its IDT, FS/GS bases and SYSENTER
 * MSRs; IA32_PAT/IA32_EFER wherever the model has the fields, so that a
 * case that turns on "load IA32_PAT/EFER" on exit finds them valid. */
static void baseline_host(void)
{
	static const uint32_t data_sel[] = { VMCS_HOST_ES_SELECTOR, VMCS_HOST_SS_SELECTOR, VMCS_HOST_DS_SELECTOR,
					     VMCS_HOST_FS_SELECTOR, VMCS_HOST_GS_SELECTOR };

	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_CS_SELECTOR, SEL_CODE64);
	for (unsigned i = 0; i < ARRAY_SIZE(data_sel); i++)
		vmwrite(data_sel[i], SEL_DATA);
	vmwrite(VMCS_HOST_TR_SELECTOR, SEL_TSS);
	vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmwrite(VMCS_HOST_TR_BASE, pa_of(lib_tss));
	vmwrite(VMCS_HOST_GDTR_BASE, sgdt().base);
	vmwrite(VMCS_HOST_IDTR_BASE, sidt().base);
	vmwrite(VMCS_HOST_IA32_SYSENTER_CS, rdmsr(MSR_IA32_SYSENTER_CS));
	vmwrite(VMCS_HOST_IA32_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
	vmwrite(VMCS_HOST_IA32_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
	if (vmx_allowed1(VMX_CTL_EXIT) & EXIT_LOAD_PAT)
		vmwrite(VMCS_HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	if (vmx_allowed1(VMX_CTL_EXIT) & EXIT_LOAD_EFER)
		vmwrite(VMCS_HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmwrite(VMCS_HOST_RSP, pa_of(host_stack + sizeof(host_stack)));
	vmwrite(VMCS_HOST_RIP, pa_of(vmx_host_entry));
}

/* The guest segment fields are laid out ES, CS, SS, DS, FS, GS, LDTR, TR
 * with encodings 2 apart in each group (Appendix B). */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };
_Static_assert(VMCS_GUEST_TR_SELECTOR == VMCS_GUEST_ES_SELECTOR + 2 * SEG_TR, "selector fields");
_Static_assert(VMCS_GUEST_TR_LIMIT == VMCS_GUEST_ES_LIMIT + 2 * SEG_TR, "limit fields");
_Static_assert(VMCS_GUEST_TR_AR == VMCS_GUEST_ES_AR + 2 * SEG_TR, "access-rights fields");
_Static_assert(VMCS_GUEST_TR_BASE == VMCS_GUEST_ES_BASE + 2 * SEG_TR, "base fields");

static void guest_seg(int seg, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	vmwrite(VMCS_GUEST_ES_SELECTOR + 2 * seg, sel);
	vmwrite(VMCS_GUEST_ES_BASE + 2 * seg, base);
	vmwrite(VMCS_GUEST_ES_LIMIT + 2 * seg, limit);
	vmwrite(VMCS_GUEST_ES_AR + 2 * seg, ar);
}

/* Segments valid per 26.3.1.2: flat code (L=1 for the 64-bit guest, D=1
 * for the 32-bit one) and data, TR a busy TSS, LDTR unusable. */
static void baseline_guest_segments(int guest_bits)
{
	struct dtr gdtr = sgdt(), idtr = sidt();

	for (int s = SEG_ES; s <= SEG_GS; s++)
		guest_seg(s, SEL_DATA, 0, FLAT_LIMIT, AR_DATA);
	if (guest_bits == 64)
		guest_seg(SEG_CS, SEL_CODE64, 0, FLAT_LIMIT, AR_CODE64);
	else
		guest_seg(SEG_CS, SEL_CODE32, 0, FLAT_LIMIT, AR_CODE32);
	guest_seg(SEG_LDTR, 0, 0, 0, AR_UNUSABLE);
	guest_seg(SEG_TR, SEL_TSS, pa_of(lib_tss), TSS_LIMIT, AR_TSS_BUSY);
	vmwrite(VMCS_GUEST_GDTR_BASE, gdtr.base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, gdtr.limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, idtr.base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, idtr.limit);
}

/* Control registers (26.3.1.1): the host's CR0 (its FIXED bits already
 * hold); CR4 and CR3 the host's for the 64-bit guest, for the 32-bit guest
 * PAE and PCIDE off, PSE on and CR3 = its own page directory. EFER (when
 * the field exists): LME/LMA equal to "IA-32e mode guest". */
static void baseline_guest_crs(int guest_bits)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4(), cr3 = read_cr3(), efer = rdmsr(MSR_EFER);

	if (guest_bits == 32) {
		cr4 = (cr4 & ~(CR4_PAE | CR4_PCIDE)) | CR4_PSE;
		cr3 = pa_of(guest32_pd);
		efer &= ~(EFER_LME | EFER_LMA);
	}
	vmwrite(VMCS_GUEST_CR0, cr0);
	vmwrite(VMCS_GUEST_CR3, cr3);
	vmwrite(VMCS_GUEST_CR4, cr4);
	vmwrite(VMCS_CR0_READ_SHADOW, cr0);
	vmwrite(VMCS_CR4_READ_SHADOW, cr4);
	vmwrite(VMCS_GUEST_DR7, DR7_INIT);
	if (vmx_allowed1(VMX_CTL_ENTRY) & ENTRY_LOAD_EFER)
		vmwrite(VMCS_GUEST_IA32_EFER, efer);
	if (vmx_allowed1(VMX_CTL_ENTRY) & ENTRY_LOAD_PAT)
		vmwrite(VMCS_GUEST_IA32_PAT, rdmsr(MSR_IA32_PAT));
}

/* RIP/RSP/RFLAGS (26.3.1.4) and non-register state (26.3.1.5): active,
 * no blocking, nothing pending, VMCS link pointer all ones. */
static void baseline_guest_state(int guest_bits)
{
	baseline_guest_crs(guest_bits);
	baseline_guest_segments(guest_bits);
	vmwrite(VMCS_GUEST_RIP, pa_of(guest_bits == 64 ? vmx_guest64_code : vmx_guest32_code));
	vmwrite(VMCS_GUEST_RSP, pa_of(guest_stack + sizeof(guest_stack)));
	vmwrite(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1);
	vmwrite(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, 0);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmwrite(VMCS_VMCS_LINK_PTR, ~0ull);
}

void vmx_baseline(int guest_bits)
{
	if (guest_bits != 64 && guest_bits != 32)
		report(false, "vmx_baseline(%d): guest_bits must be 64 or 32", guest_bits);
	fresh_vmcs();
	memset(scratch, 0, sizeof(scratch));   /* every case starts from zeroed scratch pages */
	baseline_controls(guest_bits);
	baseline_host();
	baseline_guest_state(guest_bits);
}

/* ---- VM entries ---- */

/* vmx_enter_regs (lib/vmx_guest.S): load the guest's general registers
 * from vmx_guest_regs[], then VMRESUME (resume != 0) or VMLAUNCH. It does
 * not return: a VM exit lands on vmx_host_entry (longjmp value 1), a
 * VMfail stores RFLAGS in vmx_enter_rflags and longjmps with value 2. */
extern void vmx_enter_regs(int resume) __attribute__((noreturn));
uint64_t vmx_enter_rflags;

/* VMLAUNCH/VMRESUME. A VMfail falls through (30.3); a VM exit (after a
 * successful entry, or a VM-entry failure, 26.7) lands on vmx_host_entry,
 * which longjmps back here. The exit sets the GDTR and IDTR limits to
 * FFFFH (27.5.2): they are restored. */
static struct vmx_outcome try_enter(bool resume, bool with_regs)
{
	struct vmx_outcome o = { 0 };
	struct dtr gdtr = sgdt(), idtr = sidt();
	uint64_t fl;
	int jv = guest_setjmp(&vmx_host_jb);

	if (jv == 0 && with_regs)
		vmx_enter_regs(resume);
	if (jv == 0 || jv == 2) {
		if (jv == 2)
			fl = vmx_enter_rflags;
		else if (resume)
			asm volatile("vmresume; pushfq; popq %0" : "=r"(fl) : : "cc", "memory");
		else
			asm volatile("vmlaunch; pushfq; popq %0" : "=r"(fl) : : "cc", "memory");
		o.res = vmx_result_of(fl);
		if (o.res == VMX_FAIL_VALID)
			o.error = vmread(VMCS_VM_INSTRUCTION_ERROR);
		if (o.res == VMX_OK) {
			report(false, "%s fell through without VMfail", resume ? "VMRESUME" : "VMLAUNCH");
			o.exit_reason = UINT32_MAX;
		}
		return o;
	}
	asm volatile("lgdt %0; lidt %1" : : "m"(gdtr), "m"(idtr) : "memory");
	o.res = VMX_OK;
	o.exit_reason = vmread(VMCS_EXIT_REASON);
	o.qual = vmread(VMCS_EXIT_QUALIFICATION);
	return o;
}

struct vmx_outcome vmx_try_launch(void)
{
	return try_enter(false, false);
}

struct vmx_outcome vmx_enter_guest(bool resume)
{
	return try_enter(resume, true);
}

static uint64_t stub_idt[512] __attribute__((aligned(4096)));

void vmx_stub_idt(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)vmx_idt_stubs + VMX_STUB_SIZE * v;
		stub_idt[2 * v] = (a & 0xffff) | (uint64_t)KERNEL_CS << 16 | 0x8eull << 40 | ((a >> 16) & 0xffff) << 48;
		stub_idt[2 * v + 1] = a >> 32;
	}
	vmwrite(VMCS_GUEST_IDTR_BASE, (uint64_t)stub_idt);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, sizeof(stub_idt) - 1);
}

void vmx_skip_insn(void)
{
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTRUCTION_LEN));
}

struct vmx_outcome vmx_try_resume(void)
{
	return try_enter(true, false);
}

/* ---- helpers for conformance cases ---- */

/* An identity EPT over 4 GiB, write-back, 4-level (28.2.2), with 1 GiB
 * pages where the model has them, else 2 MiB pages; EPTP memory type WB
 * when allowed, else UC (24.6.11, A.10). */
void vmx_setup_ept(void)
{
	uint64_t cap = vmx_msr(MSR_IA32_VMX_EPT_VPID_CAP);
	uint64_t leaf = EPT_RWX | EPT_LEAF | MT_WB << EPT_MT_SHIFT;

	if (!(cap & EPTCAP_WALK_4) || !(cap & (EPTCAP_1G | EPTCAP_2M)) || !(cap & (EPTCAP_WB | EPTCAP_UC)))
		report(false, "vmx_setup_ept: no 4-level walk, large page or WB/UC EPTP type on this model");
	memset(ept_pml4, 0, sizeof(ept_pml4));
	ept_pml4[0] = pa_of(ept_pdpt) | EPT_RWX;
	for (uint64_t g = 0; g < 4; g++) {
		if (cap & EPTCAP_1G) {
			ept_pdpt[g] = g << 30 | leaf;
			continue;
		}
		ept_pdpt[g] = pa_of(ept_pd[g]) | EPT_RWX;
		for (uint64_t m = 0; m < 512; m++)
			ept_pd[g][m] = (g << 30 | m << 21) | leaf;
	}
	vmwrite(VMCS_EPT_POINTER, pa_of(ept_pml4) | EPTP_WALK_4 | ((cap & EPTCAP_WB) ? MT_WB : MT_UC));
}

uint64_t vmx_scratch_page(int n)
{
	if (n < 0 || n >= VMX_SCRATCH_PAGES) {
		report(false, "vmx_scratch_page(%d): only %d pages", n, VMX_SCRATCH_PAGES);
		n = 0;
	}
	return pa_of(scratch[n]);
}

/* ---- for the 32-bit host (lib/vmx_host32.c) ---- */

struct vmx_lib_layout vmx_lib_layout(void)
{
	return (struct vmx_lib_layout){
		.vmxon_pa = pa_of(vmxon_region), .guest32_pd = pa_of(guest32_pd),
		.code32_sel = SEL_CODE32, .code64_sel = SEL_CODE64, .data_sel = SEL_DATA,
	};
}
