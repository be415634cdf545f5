/* The lessons' kit: lessons 01 and 02 condensed (see lesson.h). */
#include "lesson.h"

#define PAGE 4096
#define PAGE_ALIGNED __attribute__((aligned(PAGE)))
#define TSS_LIMIT 0x67
#define BASIC_TRUE_CTLS (1ull << 55)            /* IA32_VMX_BASIC[55] (A.1) */
#define CR0_NE (1ul << 5)

/* HOST_RSP and HOST_RIP as lesson_entry.S writes them: the same numbers
 * as vtxsim's table, or this fails to compile. */
_Static_assert(VMCS_HOST_RSP == 0x6c14, "lesson_entry.S: HOST_RSP encoding");
_Static_assert(VMCS_HOST_RIP == 0x6c16, "lesson_entry.S: HOST_RIP encoding");

static uint64_t gdt[5] __attribute__((aligned(16)));
static uint8_t tss[TSS_LIMIT + 1] __attribute__((aligned(16)));
static uint8_t vmxon_region[PAGE] PAGE_ALIGNED;
static uint8_t vmcs_region[PAGE] PAGE_ALIGNED;
static uint8_t guest_stack[4 * PAGE] PAGE_ALIGNED;

struct dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

void lesson_gdt_init(void)
{
	struct dtr d = { sizeof(gdt) - 1, (uint64_t)gdt };

	gdt[1] = 0x00af9b000000ffffull;         /* 64-bit code, DPL 0 */
	gdt[2] = 0x00cf93000000ffffull;         /* data, DPL 0 */
	gdt_set_tss64(&gdt[3], (uint64_t)tss, TSS_LIMIT);     /* 16 bytes (SDM vol. 3A 8.2.3) */
	asm volatile("lgdt %0; ltr %w1" : : "m"(d), "r"((uint16_t)LESSON_SEL_TSS) : "memory");
}

bool lesson_vmx_on(void)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL), cr0, cr4;

	if (!(cpuid(1, 0).c & CPUID_1_ECX_VMX))
		return false;
	if (!(fc & FEATURE_CONTROL_LOCK))
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	cr0 = read_cr0();
	cr4 = read_cr4();
	cr0 = (cr0 | CR0_NE | rdmsr(MSR_IA32_VMX_CR0_FIXED0)) & rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	cr4 = (cr4 | CR4_VMXE | rdmsr(MSR_IA32_VMX_CR4_FIXED0)) & rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	write_cr0(cr0);
	write_cr4(cr4);
	*(uint32_t *)vmxon_region = (uint32_t)rdmsr(MSR_IA32_VMX_BASIC) & 0x7fffffff;
	lesson_gdt_init();
	if (vmxon((uint64_t)vmxon_region) != VMX_OK)
		return false;
	printf("host: in VMX root operation (VMXON region at %#lx)\n", (uint64_t)vmxon_region);
	return true;
}

uint32_t lesson_ctl(uint32_t plain_msr, uint32_t true_msr, uint32_t want)
{
	bool use_true = rdmsr(MSR_IA32_VMX_BASIC) & BASIC_TRUE_CTLS;
	uint64_t cap = rdmsr(use_true && true_msr ? true_msr : plain_msr);

	return (want | (uint32_t)cap) & (uint32_t)(cap >> 32);
}

static void guest_segment(unsigned n, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	/* ES, CS, SS, DS, FS, GS, LDTR, TR: consecutive encodings, 2 apart (24.11.2). */
	vmwrite(VMCS_GUEST_ES_SELECTOR + 2 * n, sel);
	vmwrite(VMCS_GUEST_ES_BASE + 2 * n, base);
	vmwrite(VMCS_GUEST_ES_LIMIT + 2 * n, limit);
	vmwrite(VMCS_GUEST_ES_AR + 2 * n, ar);
}

static void vmcs_host_state(void)
{
	uint64_t cr0, cr3, cr4;
	struct dtr g, i;

	asm volatile("mov %%cr0, %0; mov %%cr3, %1; mov %%cr4, %2; sgdt %3; sidt %4"
		     : "=r"(cr0), "=r"(cr3), "=r"(cr4), "=m"(g), "=m"(i));
	vmwrite(VMCS_HOST_CR0, cr0);
	vmwrite(VMCS_HOST_CR3, cr3);
	vmwrite(VMCS_HOST_CR4, cr4);
	vmwrite(VMCS_HOST_CS_SELECTOR, LESSON_SEL_CODE);
	vmwrite(VMCS_HOST_SS_SELECTOR, LESSON_SEL_DATA);
	vmwrite(VMCS_HOST_DS_SELECTOR, LESSON_SEL_DATA);
	vmwrite(VMCS_HOST_ES_SELECTOR, LESSON_SEL_DATA);
	vmwrite(VMCS_HOST_FS_SELECTOR, LESSON_SEL_DATA);
	vmwrite(VMCS_HOST_GS_SELECTOR, LESSON_SEL_DATA);
	vmwrite(VMCS_HOST_TR_SELECTOR, LESSON_SEL_TSS);
	vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmwrite(VMCS_HOST_TR_BASE, (uint64_t)tss);
	vmwrite(VMCS_HOST_GDTR_BASE, g.base);
	vmwrite(VMCS_HOST_IDTR_BASE, i.base);
}

static void vmcs_guest_state(void (*guest)(void))
{
	struct dtr g, i;

	asm volatile("sgdt %0; sidt %1" : "=m"(g), "=m"(i));
	vmwrite(VMCS_GUEST_CR0, read_cr0());
	vmwrite(VMCS_GUEST_CR3, read_cr3());
	vmwrite(VMCS_GUEST_CR4, read_cr4());
	vmwrite(VMCS_GUEST_DR7, 0x400);
	vmwrite(VMCS_GUEST_RFLAGS, 0x2);
	vmwrite(VMCS_GUEST_RSP, (uint64_t)guest_stack + sizeof(guest_stack));
	vmwrite(VMCS_GUEST_RIP, (uint64_t)guest);
	for (unsigned n = 0; n < 6; n++)
		guest_segment(n, LESSON_SEL_DATA, 0, 0xffffffff, 0xc093);
	guest_segment(1, LESSON_SEL_CODE, 0, 0xffffffff, 0xa09b);
	guest_segment(6, 0, 0, 0, 0x10000);                     /* LDTR unusable */
	guest_segment(7, LESSON_SEL_TSS, (uint64_t)tss, TSS_LIMIT, 0x8b);
	vmwrite(VMCS_GUEST_GDTR_BASE, g.base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, g.limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, i.base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, i.limit);
	vmwrite(VMCS_VMCS_LINK_PTR, ~0ull);
}

void lesson_vmcs_init(void (*guest)(void))
{
	*(uint32_t *)vmcs_region = (uint32_t)rdmsr(MSR_IA32_VMX_BASIC) & 0x7fffffff;
	vmclear((uint64_t)vmcs_region);
	vmptrld((uint64_t)vmcs_region);
	vmwrite(VMCS_PIN_CONTROLS, lesson_ctl(MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0));
	vmwrite(VMCS_PROC_CONTROLS, lesson_ctl(MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 0));
	vmwrite(VMCS_EXIT_CONTROLS, lesson_ctl(MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS,
					       EXIT_HOST_ADDR_SPACE));
	vmwrite(VMCS_ENTRY_CONTROLS, lesson_ctl(MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS,
						ENTRY_IA32E_GUEST));
	vmcs_host_state();
	vmcs_guest_state(guest);
}

bool lesson_vmx_off(void)
{
	return vmclear((uint64_t)vmcs_region) == VMX_OK && vmxoff() == VMX_OK;
}

uint32_t lesson_exit_reason(void)
{
	return (uint32_t)vmread(VMCS_EXIT_REASON) & 0xffff;
}

const char *lesson_exit_name(uint32_t reason)
{
	switch (reason) {
#define X(n, id, text) case n: return text;
	EXIT_REASON_TABLE(X)
#undef X
	}
	return "?";
}

void lesson_skip_instruction(void)
{
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTRUCTION_LEN));
}
