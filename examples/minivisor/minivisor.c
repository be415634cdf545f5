/* minivisor: setting up VMX, EPT and the VMCS, then VMLAUNCH.
 *
 * Read this file top to bottom: kmain() at the end calls the phases in
 * order. exits.c handles the VM exits, entry.S saves and restores the
 * guest's registers around them, guest.S is the guest.
 *
 * The multiboot loader and tests/guests/lib have already put us in 64-bit
 * mode with the first 4 GiB identity-mapped, COM1 initialised and an IDT
 * loaded; interrupts stay disabled (RFLAGS.IF = 0) in the hypervisor for
 * the whole run: the timer reaches it only as VM exits.
 */
#include "guest.h"
#include "pic.h"
#include "minivisor.h"

#define CPUID_1_ECX_VMX        (1u << 5)
#define FEATURE_CONTROL_LOCK   (1ull << 0)
#define FEATURE_CONTROL_VMXON  (1ull << 2)      /* VMXON outside SMX operation */
#define VMX_BASIC_TRUE_CTLS    (1ull << 55)
#define EPT_CAP_WALK4          (1ull << 6)      /* page-walk length 4 (A.10) */
#define EPT_CAP_WB             (1ull << 14)     /* write-back memory type (A.10) */
#define VMX_MISC_ACTIVITY_HLT  (1ull << 6)      /* the HLT activity state (A.6) */
#define CR0_ET                 (1ull << 4)
#define CR0_NE                 (1ull << 5)
#define CR4_VMXE               (1ull << 13)
#define EPT_RWX                7ull             /* read, write, execute (28.2.2) */
#define EPT_MEMTYPE_WB         (6ull << 3)      /* leaf entry bits 5:3 (28.2.6) */
#define PIT_HZ                 100              /* timer interrupts per second */
#define PIT_INPUT_HZ           1193182

/* Everything the processor reads from memory: 4-KiB-aligned pages. */
static uint8_t vmxon_region[4096] __attribute__((aligned(4096)));
static uint8_t vmcs_region[4096] __attribute__((aligned(4096)));
static uint8_t io_bitmap_a[4096] __attribute__((aligned(4096)));  /* ports 0000H-7FFFH */
static uint8_t io_bitmap_b[4096] __attribute__((aligned(4096)));  /* ports 8000H-FFFFH */
static uint8_t msr_bitmap[4096] __attribute__((aligned(4096)));   /* all 0: no MSR exits */
static uint64_t ept_pml4[512] __attribute__((aligned(4096)));
static uint64_t ept_pdpt[512] __attribute__((aligned(4096)));
static uint64_t ept_pd[512] __attribute__((aligned(4096)));
static uint64_t ept_pt[512] __attribute__((aligned(4096)));
/* The stack VM exits start on (HOST_RSP): entry.S, then exits.c. */
static uint8_t exit_stack[16384] __attribute__((aligned(16)));

/* The host's GDT: the boot GDT's code and data descriptors plus a TSS,
 * because a VM exit loads TR and its selector may not be 0 (26.2.3). */
#define HOST_CS 0x08
#define HOST_DS 0x10
#define HOST_TR 0x18
struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));
static struct tss64 host_tss;
static uint64_t host_gdt[5] __attribute__((aligned(8)));

struct dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static NORETURN void fail(const char *why)
{
	printf("minivisor: FAILED: %s\n", why);
	guest_exit(1);
}

/* ---- phase 1: enter VMX operation (23.7, 23.8, Appendix A) ---------------- */

/* A control word as the capability MSR allows it (A.3-A.5): bits 31:0 of
 * the MSR are the allowed 0-settings (a 1 there: the control must be 1),
 * bits 63:32 the allowed 1-settings (a 0 there: the control must be 0). */
uint64_t adjust_controls(const char *what, uint32_t cap_msr, uint64_t want)
{
	uint64_t cap = rdmsr(cap_msr);
	uint64_t v = (want | (uint32_t)cap) & (cap >> 32);

	if ((v & want) != want) {
		printf("minivisor: %s: wanted %#lx, the CPU allows only %#lx\n", what, want, cap >> 32);
		fail("a VM-execution control this hypervisor needs is not supported");
	}
	printf("minivisor:   %-26s %#010lx (must be 1: 0x%08x, may be 1: 0x%08x)\n", what, v, (uint32_t)cap,
	       (uint32_t)(cap >> 32));
	return v;
}

/* A CR0/CR4 value with the bits IA32_VMX_CRn_FIXED0 says must be 1 set and
 * those IA32_VMX_CRn_FIXED1 says must be 0 cleared (23.8, A.7, A.8). */
static uint64_t fixed_bits(uint64_t v, uint32_t fixed0_msr, uint32_t fixed1_msr)
{
	return (v | rdmsr(fixed0_msr)) & rdmsr(fixed1_msr);
}

static void enable_vmx(void)
{
	printf("minivisor: phase 1: enter VMX operation\n");
	if (!(cpuid(1, 0).c & CPUID_1_ECX_VMX))
		fail("CPUID.1:ECX.VMX[bit 5] = 0: this CPU has no VMX");

	uint64_t basic = rdmsr(IA32_VMX_BASIC);
	printf("minivisor:   IA32_VMX_BASIC %#lx: VMCS revision %lu, %lu-byte regions, TRUE controls %s\n",
	       basic, basic & 0x7fffffff, basic >> 32 & 0x1fff, basic & VMX_BASIC_TRUE_CTLS ? "yes" : "no");
	/* EPT and unrestricted guest are secondary controls: they need the
	 * allowed 1-setting of "activate secondary controls" (A.3.2), then
	 * theirs in IA32_VMX_PROCBASED_CTLS2 (A.3.3); only then does
	 * IA32_VMX_EPT_VPID_CAP exist (A.10). */
	if (!(rdmsr(IA32_VMX_PROCBASED_CTLS) >> 32 & PROC_SECONDARY_CTLS))
		fail("no secondary processor-based controls: no EPT, no unrestricted guest");
	uint64_t ctls2 = rdmsr(IA32_VMX_PROCBASED_CTLS2);
	printf("minivisor:   IA32_VMX_PROCBASED_CTLS2 %#lx: EPT %s, unrestricted guest %s\n", ctls2,
	       ctls2 >> 32 & PROC2_EPT ? "yes" : "no", ctls2 >> 32 & PROC2_UNRESTRICTED ? "yes" : "no");
	if ((ctls2 >> 32 & (PROC2_EPT | PROC2_UNRESTRICTED)) != (PROC2_EPT | PROC2_UNRESTRICTED))
		fail("this hypervisor needs EPT and unrestricted guest");
	uint64_t ept_cap = rdmsr(IA32_VMX_EPT_VPID_CAP);
	printf("minivisor:   IA32_VMX_EPT_VPID_CAP %#lx: 4-level walk %s, write-back %s\n", ept_cap,
	       ept_cap & EPT_CAP_WALK4 ? "yes" : "no", ept_cap & EPT_CAP_WB ? "yes" : "no");
	if ((ept_cap & (EPT_CAP_WALK4 | EPT_CAP_WB)) != (EPT_CAP_WALK4 | EPT_CAP_WB))
		fail("EPT needs a 4-level walk and the write-back type");
	if (!(rdmsr(IA32_VMX_MISC) & VMX_MISC_ACTIVITY_HLT))
		fail("IA32_VMX_MISC: no HLT activity state (exits.c resumes a halted guest in it)");
	printf("minivisor:   CR0 fixed0/fixed1 %#lx/%#lx, CR4 fixed0/fixed1 %#lx/%#lx\n",
	       rdmsr(IA32_VMX_CR0_FIXED0), rdmsr(IA32_VMX_CR0_FIXED1),
	       rdmsr(IA32_VMX_CR4_FIXED0), rdmsr(IA32_VMX_CR4_FIXED1));

	/* IA32_FEATURE_CONTROL (23.7): firmware normally locks it; if nobody
	 * did, allow VMXON outside SMX and lock it ourselves. */
	uint64_t fc = rdmsr(IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK)) {
		wrmsr(IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON);
		printf("minivisor:   IA32_FEATURE_CONTROL was unlocked: set lock + VMXON outside SMX\n");
	} else if (!(fc & FEATURE_CONTROL_VMXON)) {
		fail("IA32_FEATURE_CONTROL is locked with VMXON disabled");
	}

	/* CR0 and CR4 as VMX operation requires (23.8): CR4.VMXE among them. */
	write_cr0(fixed_bits(read_cr0(), IA32_VMX_CR0_FIXED0, IA32_VMX_CR0_FIXED1));
	write_cr4(fixed_bits(read_cr4() | CR4_VMXE, IA32_VMX_CR4_FIXED0, IA32_VMX_CR4_FIXED1));

	/* VMXON (30.3): the region starts with the revision identifier. */
	*(uint32_t *)vmxon_region = (uint32_t)basic & 0x7fffffff;
	if (!vmxon((uint64_t)vmxon_region))
		fail("VMXON failed");
	printf("minivisor:   VMXON: in VMX root operation\n");
}

/* ---- phase 2: EPT (28.2) --------------------------------------------------- */

/* Guest-physical 0-1 MiB maps 1:1 to host-physical with 4-KiB pages,
 * write-back, read/write/execute; the page at MMIO_BASE stays not present:
 * the guest's accesses to it exit with EPT violations (28.2.3.2). Anything
 * above 1 MiB (the hypervisor) does not exist for the guest. Returns the
 * EPTP (24.6.11): write-back paging structures, walk length 4 - 1. */
static uint64_t build_ept(void)
{
	printf("minivisor: phase 2: EPT\n");
	ept_pml4[0] = (uint64_t)ept_pdpt | EPT_RWX;
	ept_pdpt[0] = (uint64_t)ept_pd | EPT_RWX;
	ept_pd[0] = (uint64_t)ept_pt | EPT_RWX;
	for (uint64_t i = 0; i < GUEST_RAM_SIZE / 4096; i++) {
		uint64_t gpa = i * 4096;
		ept_pt[i] = gpa == MMIO_BASE ? 0 : gpa | EPT_MEMTYPE_WB | EPT_RWX;
	}
	printf("minivisor:   guest-physical 0-%#x identity-mapped (4-KiB pages, WB), %#x not present (MMIO)\n",
	       GUEST_RAM_SIZE - 1, MMIO_BASE);
	return (uint64_t)ept_pml4 | 3 << 3 | 6;
}

/* ---- phase 3: the VMCS (24.x) and VMLAUNCH --------------------------------- */

static void vmcs_write(uint64_t field, uint64_t v)
{
	if (!vmwrite(field, v)) {
		printf("minivisor: VMWRITE of field %#lx failed (VM-instruction error %lu)\n", field,
		       vmread(VMCS_VM_INSTRUCTION_ERROR));
		fail("VMWRITE");
	}
}

static void load_host_gdt(void)
{
	host_gdt[1] = 0x00af9a000000ffffull;    /* 08H: 64-bit code, as boot.S has it */
	host_gdt[2] = 0x00cf92000000ffffull;    /* 10H: data */
	host_tss.iomap_base = sizeof(host_tss);
	gdt_set_tss64(&host_gdt[3], (uint64_t)&host_tss, sizeof(host_tss) - 1);
	struct dtr d = { sizeof(host_gdt) - 1, (uint64_t)host_gdt };
	asm volatile("lgdt %0; ltr %w1" : : "m"(d), "r"(HOST_TR) : "memory");
}

/* Host state (24.5): where a VM exit lands (26.2.2-26.2.4 check it). */
static void write_host_state(void)
{
	struct dtr idtr;

	asm volatile("sidt %0" : "=m"(idtr));
	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmcs_write(VMCS_HOST_CR3, read_cr3());
	vmcs_write(VMCS_HOST_CR4, read_cr4());
	vmcs_write(VMCS_HOST_CS_SELECTOR, HOST_CS);
	vmcs_write(VMCS_HOST_SS_SELECTOR, HOST_DS);
	vmcs_write(VMCS_HOST_DS_SELECTOR, HOST_DS);
	vmcs_write(VMCS_HOST_ES_SELECTOR, HOST_DS);
	vmcs_write(VMCS_HOST_FS_SELECTOR, HOST_DS);
	vmcs_write(VMCS_HOST_GS_SELECTOR, HOST_DS);
	vmcs_write(VMCS_HOST_TR_SELECTOR, HOST_TR);
	vmcs_write(VMCS_HOST_TR_BASE, (uint64_t)&host_tss);
	vmcs_write(VMCS_HOST_GDTR_BASE, (uint64_t)host_gdt);
	vmcs_write(VMCS_HOST_IDTR_BASE, idtr.base);
	vmcs_write(VMCS_HOST_IA32_EFER, rdmsr(IA32_EFER));
	vmcs_write(VMCS_HOST_RSP, (uint64_t)exit_stack + sizeof(exit_stack));
	vmcs_write(VMCS_HOST_RIP, (uint64_t)minivisor_exit_stub);
}

/* Guest state (24.4): a CPU just out of reset, in real-address mode at
 * 0000:GUEST_CODE. "Unrestricted guest" (26.3.1.1) lets CR0.PE and CR0.PG
 * be 0 although IA32_VMX_CR0_FIXED0 says 1; real-mode segments are plain
 * 16-bit segments with base = selector * 16 (26.3.1.2). */
static void write_guest_state(void)
{
	/* Real-mode segments: selector 0, base 0, limit FFFFH; access rights
	 * 9BH (code, execute/read, accessed) or 93H (data, read/write, accessed). */
	static const uint32_t seg[6][5] = {     /* selector, base, limit, AR fields; AR value */
		{ VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR, 0x93 },
		{ VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR, 0x9b },
		{ VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR, 0x93 },
		{ VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR, 0x93 },
		{ VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR, 0x93 },
		{ VMCS_GUEST_GS_SELECTOR, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR, 0x93 },
	};
	for (int i = 0; i < 6; i++) {
		vmcs_write(seg[i][0], 0);
		vmcs_write(seg[i][1], 0);
		vmcs_write(seg[i][2], 0xffff);
		vmcs_write(seg[i][3], seg[i][4]);
	}
	vmcs_write(VMCS_GUEST_LDTR_AR, 0x10000);        /* unusable */
	vmcs_write(VMCS_GUEST_TR_LIMIT, 0xffff);
	vmcs_write(VMCS_GUEST_TR_AR, 0x8b);             /* busy TSS: TR must be usable (26.3.1.2) */
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0xffff);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0xffff);      /* the real-mode IVT at 0 */

	uint64_t cr0 = fixed_bits(CR0_ET | CR0_NE, IA32_VMX_CR0_FIXED0, IA32_VMX_CR0_FIXED1);
	vmcs_write(VMCS_GUEST_CR0, cr0 & ~(CR0_PE | CR0_PG));
	vmcs_write(VMCS_GUEST_CR3, 0);
	vmcs_write(VMCS_GUEST_CR4, fixed_bits(0, IA32_VMX_CR4_FIXED0, IA32_VMX_CR4_FIXED1));
	/* CR4.VMXE must stay 1 in non-root operation, but it is ours: owning
	 * it in the guest/host mask makes the guest read 0 from the read
	 * shadow, and its writes of 0 leave the real bit alone (25.3). */
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK, CR4_VMXE);
	vmcs_write(VMCS_CR4_READ_SHADOW, 0);
	vmcs_write(VMCS_GUEST_DR7, 0x400);
	vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(VMCS_GUEST_RSP, GUEST_STACK_TOP);
	vmcs_write(VMCS_GUEST_RIP, GUEST_CODE);
	vmcs_write(VMCS_GUEST_RFLAGS, 0x2);             /* bit 1 is always 1; IF = 0 */
	vmcs_write(VMCS_GUEST_IA32_EFER, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_write(VMCS_VMCS_LINK_PTR, ~0ull);          /* no shadow VMCS (26.3.1.5) */
}

/* VM-execution, VM-exit and VM-entry controls (24.6-24.8): exactly the
 * exits exits.c handles, adjusted to what the CPU allows. */
static void write_controls(uint64_t eptp)
{
	uint64_t basic = rdmsr(IA32_VMX_BASIC);
	bool true_ctls = basic & VMX_BASIC_TRUE_CTLS;

	vmcs_write(VMCS_PIN_CONTROLS, adjust_controls("pin-based controls",
		true_ctls ? IA32_VMX_TRUE_PINBASED_CTLS : IA32_VMX_PINBASED_CTLS,
		PIN_EXT_INTR_EXITING));
	uint64_t proc = adjust_controls("primary processor-based",
		true_ctls ? IA32_VMX_TRUE_PROCBASED_CTLS : IA32_VMX_PROCBASED_CTLS,
		PROC_HLT_EXITING | PROC_IO_BITMAPS | PROC_MSR_BITMAPS | PROC_SECONDARY_CTLS);
	if (proc & (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING))
		fail("CR3-load/store exiting cannot be turned off (no TRUE controls)");
	vmcs_write(VMCS_PROC_CONTROLS, proc);
	vmcs_write(VMCS_PROC2_CONTROLS, adjust_controls("secondary processor-based",
		IA32_VMX_PROCBASED_CTLS2, PROC2_EPT | PROC2_UNRESTRICTED));
	vmcs_write(VMCS_EXIT_CONTROLS, adjust_controls("VM-exit controls",
		true_ctls ? IA32_VMX_TRUE_EXIT_CTLS : IA32_VMX_EXIT_CTLS,
		EXIT_HOST_ADDR_SPACE | EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_EFER | EXIT_LOAD_EFER));
	vmcs_write(VMCS_ENTRY_CONTROLS, adjust_controls("VM-entry controls",
		true_ctls ? IA32_VMX_TRUE_ENTRY_CTLS : IA32_VMX_ENTRY_CTLS, ENTRY_LOAD_EFER));

	/* I/O bitmaps (24.6.4): one bit per port; only the virtual serial
	 * port's data register exits. */
	io_bitmap_a[VSERIAL_PORT / 8] |= 1 << (VSERIAL_PORT % 8);
	vmcs_write(VMCS_IO_BITMAP_A, (uint64_t)io_bitmap_a);
	vmcs_write(VMCS_IO_BITMAP_B, (uint64_t)io_bitmap_b);
	vmcs_write(VMCS_MSR_BITMAP, (uint64_t)msr_bitmap);
	vmcs_write(VMCS_EPT_POINTER, eptp);
	vmcs_write(VMCS_EXCEPTION_BITMAP, 0);
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
}

static void build_vmcs(uint64_t eptp)
{
	printf("minivisor: phase 3: VMCS for an unrestricted guest\n");
	*(uint32_t *)vmcs_region = (uint32_t)rdmsr(IA32_VMX_BASIC) & 0x7fffffff;
	if (!vmclear((uint64_t)vmcs_region) || !vmptrld((uint64_t)vmcs_region))
		fail("VMCLEAR/VMPTRLD of the VMCS failed");
	write_controls(eptp);
	write_host_state();
	write_guest_state();
}

/* ---- the timer ------------------------------------------------------------ */

/* The hypervisor owns the PIC and the PIT: IRQ 0 at TIMER_VECTOR, every
 * other input masked, the PIT's channel 0 as a PIT_HZ rate generator.
 * Each interrupt is a VM exit ("external-interrupt exiting"), and
 * "acknowledge interrupt on exit" hands us its vector (27.2.2). */
static void start_timer(void)
{
	pic_init(TIMER_VECTOR, TIMER_VECTOR + 8, false);
	pic_set_imr((uint16_t)~1u);
	pit_start(0, 2, PIT_INPUT_HZ / PIT_HZ);
	printf("minivisor:   PIT channel 0 at %u Hz on IRQ 0 -> vector %u\n", PIT_HZ, TIMER_VECTOR);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	printf("minivisor: a small VT-x hypervisor (examples/minivisor)\n");
	load_host_gdt();
	enable_vmx();
	uint64_t eptp = build_ept();
	build_vmcs(eptp);

	/* The guest's code into its memory: it starts in real mode at
	 * 0000:GUEST_CODE. */
	memcpy((void *)(uintptr_t)GUEST_CODE, guest_start, (size_t)(guest_end - guest_start));
	start_timer();
	printf("minivisor: VMLAUNCH: guest at %04x:%04x in real-address mode\n", 0, GUEST_CODE);
	/* On success VMLAUNCH does not return: the guest runs until a VM exit,
	 * which enters entry.S on the exit stack. */
	asm volatile("vmlaunch" : : : "cc", "memory");
	minivisor_entry_failed("VMLAUNCH");
}
