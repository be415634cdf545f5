/* SMP bring-up: the BSP side of INIT-SIPI-SIPI and the AP's C entry
 * (lib/smp.h; the real-mode part is lib/smp_tramp.S). */
#include "smp.h"

#define NS_PER_S        1000000000ull
#define INIT_DELAY_NS   10000000ull     /* 10 ms after INIT (8.4.4.1) */
#define SIPI_DELAY_NS   200000ull       /* 200 us after each SIPI */
#define ARRIVE_LIMIT_NS 100000000ull    /* give the APs 100 ms of TSC time */
#define ICR_SPIN_LIMIT  1000000u
#define CPUID_1_EDX_APIC (1u << 9)
#define CPUID_1_EDX_HTT  (1u << 28)

/* The trampoline's data area (lib/smp_tramp.S layout, offsets 0x10-0xbf). */
struct tramp_data {
	uint32_t ticket;                /* 0x10 */
	uint16_t gdt_limit;             /* 0x14 */
	uint32_t gdt_base;              /* 0x16 */
	uint8_t pad[6];
	uint16_t entry_cs[SMP_MAX_CPUS];        /* 0x20 */
	uint32_t entry_cr0[SMP_MAX_CPUS];       /* 0x40 */
	uint32_t entry_edx[SMP_MAX_CPUS];       /* 0x80 */
} __attribute__((packed));
#define TRAMP_DATA_OFFSET 0x10
_Static_assert(sizeof(struct tramp_data) == 0xc0 - TRAMP_DATA_OFFSET, "trampoline layout");

extern char smp_tramp_start[], smp_tramp_end[];

struct smp_cpu smp_cpus[SMP_MAX_CPUS];
volatile unsigned smp_arrived;
unsigned smp_ncpus;
uint64_t smp_tsc_hz;
/* Read by the trampoline's 32-bit code (only 32 bits: the PML4 is below
 * 4 GiB). */
uint32_t smp_boot_cr3;
/* AP stacks: cpu index i (1..SMP_MAX_CPUS-1) uses the i-th 8 KiB from the
 * bottom; its top is smp_stacks + i * SMP_STACK_SIZE. */
uint8_t smp_stacks[(SMP_MAX_CPUS - 1) * SMP_STACK_SIZE] __attribute__((aligned(16)));
_Static_assert(SMP_STACK_SIZE == 1 << 13, "smp_tramp.S shifts by 13");
/* APIC id -> cpu index + 1 (0: unknown). */
static uint8_t apic_to_index[256];

void ap_main(int cpu_index) __attribute__((weak));

static struct tramp_data *tramp_data(uint32_t page)
{
	return (struct tramp_data *)(uintptr_t)(page + TRAMP_DATA_OFFSET);
}

uint64_t smp_ns_to_tsc(uint64_t ns)
{
	/* In two parts so nothing overflows (hz < 2^33: the remainder part
	 * stays below 2^63) without 128-bit division. */
	return ns / NS_PER_S * smp_tsc_hz + ns % NS_PER_S * smp_tsc_hz / NS_PER_S;
}

void smp_delay_ns(uint64_t ns)
{
	uint64_t start = rdtsc(), len = smp_ns_to_tsc(ns);

	while (rdtsc() - start < len)
		cpu_relax();
}

int smp_cpu_index(void)
{
	return apic_to_index[xapic_id()] - 1;
}

void xapic_send_ipi(uint8_t dest, uint32_t icr_lo)
{
	xapic_write(XAPIC_ICR_HI, (uint32_t)dest << 24);
	xapic_write(XAPIC_ICR_LO, icr_lo);
	for (unsigned i = 0; i < ICR_SPIN_LIMIT && (xapic_read(XAPIC_ICR_LO) & ICR_BUSY); i++)
		cpu_relax();
}

static bool range_overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

bool smp_page_free(uint32_t mbinfo, uint32_t page)
{
	const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)mbinfo;
	bool ram = false;

	if (page == 0 || page % 4096 || page >= 0x100000 || !(mbi->flags & MBI_MMAP))
		return false;
	for (uint32_t off = 0; off < mbi->mmap_length;) {
		const struct multiboot_mmap_entry *e =
			(const void *)(uintptr_t)(mbi->mmap_addr + off);
		if (e->type == MULTIBOOT_MEMORY_AVAILABLE && e->addr <= page &&
		    e->addr + e->len >= page + 4096ull)
			ram = true;
		off += e->size + 4;
	}
	return ram && !range_overlaps(page, 4096, mbinfo, sizeof(*mbi)) &&
	       !range_overlaps(page, 4096, mbi->mmap_addr, mbi->mmap_length) &&
	       !((mbi->flags & MBI_CMDLINE) &&
		 range_overlaps(page, 4096, mbi->cmdline,
				strlen((const char *)(uintptr_t)mbi->cmdline) + 1));
}

/* Logical processors in the machine: the widest level of CPUID leaf 0BH
 * (EBX[15:0], SDM vol. 2A CPUID "Extended Topology Enumeration Leaf"),
 * or CPUID.1:EBX[23:16] when HTT is set on models without leaf 0BH. */
static unsigned cpu_count(void)
{
	unsigned max = cpuid(0, 0).a, n = 0;

	if (max >= 0xb && cpuid(0xb, 0).b) {
		for (uint32_t sub = 0; sub < 8; sub++) {
			struct cpuid_regs r = cpuid(0xb, sub);
			if (!(r.c >> 8 & 0xff))
				break;
			n = r.b & 0xffff;
		}
		return n;
	}
	struct cpuid_regs r = cpuid(1, 0);
	return (r.d & CPUID_1_EDX_HTT) ? (r.b >> 16 & 0xff) : 1;
}

/* The frequency the processor brand string (CPUID 80000002H-80000004H)
 * ends with, "x.yzMHz", "x.yzGHz" or "x.yzTHz", in Hz; 0 when it names
 * none. SDM vol. 2A CPUID, "Identification of Processor Brand String":
 * the maximum qualified frequency, which is the rate of a constant TSC
 * (vol. 3B 18.17) on the processors that lack leaves 15H and 16H. */
static uint64_t brand_hz(void)
{
	char s[49];
	uint64_t scale;
	int end;

	if (cpuid(0x80000000u, 0).a < 0x80000004u)
		return 0;
	for (unsigned i = 0; i < 3; i++) {
		struct cpuid_regs r = cpuid(0x80000002u + i, 0);
		memcpy(s + 16 * i, &r.a, 4);
		memcpy(s + 16 * i + 4, &r.b, 4);
		memcpy(s + 16 * i + 8, &r.c, 4);
		memcpy(s + 16 * i + 12, &r.d, 4);
	}
	s[48] = 0;
	end = (int)strlen(s);
	while (end > 0 && s[end - 1] == ' ')
		end--;
	if (end < 4 || s[end - 2] != 'H' || s[end - 1] != 'z')
		return 0;
	switch (s[end - 3]) {
	case 'M': scale = 1000000ull; break;
	case 'G': scale = 1000000000ull; break;
	case 'T': scale = 1000000000000ull; break;
	default: return 0;
	}
	int i = end - 4;
	while (i >= 0 && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
		i--;
	uint64_t whole = 0, frac = 0, div = 1;
	bool point = false;
	for (int j = i + 1; j < end - 3; j++) {
		if (s[j] == '.') {
			point = true;
		} else if (point) {
			frac = frac * 10 + (uint64_t)(s[j] - '0');
			div *= 10;
		} else {
			whole = whole * 10 + (uint64_t)(s[j] - '0');
		}
	}
	return whole * scale + frac * scale / div;
}

/* TSC rate: leaf 15H (crystal Hz * EBX / EAX), else leaf 16H base MHz,
 * else the brand string's frequency. */
static uint64_t tsc_rate(void)
{
	unsigned max = cpuid(0, 0).a;

	if (max >= 0x15) {
		struct cpuid_regs r = cpuid(0x15, 0);
		if (r.a && r.b && r.c)
			return (uint64_t)r.c * r.b / r.a;
	}
	if (max >= 0x16 && cpuid(0x16, 0).a)
		return cpuid(0x16, 0).a * 1000000ull;
	return brand_hz();
}

static void xapic_enable(void)
{
	xapic_write(XAPIC_SVR, SVR_APIC_ENABLE | SPURIOUS_VECTOR);
}

bool smp_init(uint32_t mbinfo)
{
	if (!report(cpuid(1, 0).d & CPUID_1_EDX_APIC, "CPUID.1:EDX.APIC[bit 9] is set"))
		return false;
	if (!report(smp_page_free(mbinfo, SMP_TRAMP_PAGE),
		    "trampoline page %#x is free RAM (multiboot map, info, cmdline)", SMP_TRAMP_PAGE))
		return false;
	smp_ncpus = cpu_count();
	smp_tsc_hz = tsc_rate();
	if (!report(smp_ncpus >= 1 && smp_ncpus <= SMP_MAX_CPUS, "CPU count from CPUID: %u",
		    smp_ncpus) ||
	    !report(smp_tsc_hz != 0, "TSC rate from CPUID leaf 15H/16H or the brand string: %lu Hz", smp_tsc_hz))
		return false;
	/* 10.4.8: an integrated APIC has version 1XH in bits 7:0. */
	if (!report((xapic_read(XAPIC_VERSION) & 0xf0) == 0x10,
		    "local APIC answers at FEE00000H (version register %#x)", xapic_read(XAPIC_VERSION)))
		return false;
	xapic_enable();
	apic_to_index[xapic_id()] = 1;
	smp_cpus[0] = (struct smp_cpu){ .arrived = true, .apic_id = xapic_id(),
					.cpuid_apic_id = (uint8_t)(cpuid(1, 0).b >> 24),
					.apic_base = rdmsr(MSR_IA32_APIC_BASE), .starts = 1 };
	return true;
}

static void tramp_install(uint32_t page, uint32_t first_index)
{
	size_t len = (size_t)(smp_tramp_end - smp_tramp_start);

	memcpy((void *)(uintptr_t)page, smp_tramp_start, len);
	tramp_data(page)->ticket = first_index;
	smp_boot_cr3 = (uint32_t)read_cr3();
}

unsigned smp_start_aps(void)
{
	uint32_t vector = SMP_TRAMP_PAGE >> 12;
	uint64_t start;

	tramp_install(SMP_TRAMP_PAGE, 1);
	/* 8.4.4.1: broadcast INIT (000C4500H), 10 ms, then SIPI (000C46XXH)
	 * twice, 200 us after each. */
	xapic_send_ipi(0, ICR_OTHERS | ICR_ASSERT | ICR_INIT);
	smp_delay_ns(INIT_DELAY_NS);
	for (int i = 0; i < 2; i++) {
		xapic_send_ipi(0, ICR_OTHERS | ICR_ASSERT | ICR_STARTUP | vector);
		smp_delay_ns(SIPI_DELAY_NS);
	}
	start = rdtsc();
	while (smp_arrived < smp_ncpus - 1 && rdtsc() - start < smp_ns_to_tsc(ARRIVE_LIMIT_NS))
		cpu_relax();
	return smp_arrived;
}

void smp_send_init(uint8_t apic_id)
{
	xapic_send_ipi(apic_id, ICR_ASSERT | ICR_INIT);
}

void smp_send_sipi(uint8_t apic_id, uint32_t page, int cpu_index)
{
	tramp_install(page, (uint32_t)cpu_index);
	smp_cpus[cpu_index].arrived = false;
	xapic_send_ipi(apic_id, ICR_ASSERT | ICR_STARTUP | page >> 12);
}

/* Called by the trampoline in long mode on the AP's own stack. */
void smp_ap_entry(int cpu_index, uint32_t page);

void smp_ap_entry(int cpu_index, uint32_t page)
{
	const struct tramp_data *td = tramp_data(page);
	struct smp_cpu *c = &smp_cpus[cpu_index];

	idt_load();
	xapic_enable();
	c->entry_cs = td->entry_cs[cpu_index];
	c->entry_cr0 = td->entry_cr0[cpu_index];
	c->entry_edx = td->entry_edx[cpu_index];
	c->apic_id = xapic_id();
	c->cpuid_apic_id = (uint8_t)(cpuid(1, 0).b >> 24);
	c->apic_base = rdmsr(MSR_IA32_APIC_BASE);
	c->starts++;
	apic_to_index[c->apic_id] = (uint8_t)(cpu_index + 1);
	c->arrived = true;
	atomic_fetch_inc(&smp_arrived);
	if (ap_main)
		ap_main(cpu_index);
}
