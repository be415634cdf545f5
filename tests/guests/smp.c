/* smp: bring-up of every AP with INIT-SIPI-SIPI (SDM vol. 3A 8.4), the
 * identity each AP reports, LOCK-ed updates of shared memory, and INIT
 * sending a running AP back to wait-for-SIPI (8.4.1, 10.4.7.3).
 *
 * guests.vts runs it with -smp N and -append "cpus=N".
 */
#include "smp.h"

#define INCREMENTS      20000u
#define RESTART_PAGE    0x7000u         /* SIPI vector 07H */
#define IGNORED_PAGE    0x6000u         /* SIPI vector 06H */
#define INIT_CR0        0x60000010u     /* Table 9-1: power-up CR0 */
#define CR0_ET          0x00000010u
#define APIC_BASE_BSP   (1ul << 8)
#define APIC_BASE_EN    (1ul << 11)
#define APIC_BASE_ADDR  0xfffff000ul
#define WAIT_NS         1000000ull      /* 1 ms */

static volatile unsigned shared_counter;
static volatile unsigned done_incrementing;
static volatile bool stop;
static volatile uint64_t heartbeat[SMP_MAX_CPUS];
static volatile uint32_t x2apic_id[SMP_MAX_CPUS];        /* CPUID.(0BH,0):EDX */

void ap_main(int cpu_index)
{
	x2apic_id[cpu_index] = cpuid(0xb, 0).d;
	if (smp_cpus[cpu_index].starts == 1) {
		for (unsigned i = 0; i < INCREMENTS; i++)
			atomic_fetch_inc(&shared_counter);
		atomic_fetch_inc(&done_incrementing);
	}
	while (!stop) {
		heartbeat[cpu_index]++;
		cpu_relax();
	}
}

static unsigned expected_cpus(uint32_t mbinfo)
{
	const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)mbinfo;
	char buf[16];
	uint64_t n = 0;

	if (!(mbi->flags & MBI_CMDLINE) ||
	    !cmdline_get((const char *)(uintptr_t)mbi->cmdline, "cpus", buf, sizeof(buf)) ||
	    !parse_u64(buf, &n))
		return 0;
	return (unsigned)n;
}

static bool wait_until(volatile bool *flag, uint64_t ns)
{
	uint64_t start = rdtsc(), len = smp_ns_to_tsc(ns);

	while (!*flag && rdtsc() - start < len)
		cpu_relax();
	return *flag;
}

/* 10.4.4: the BSP flag is set only on the BSP; the APIC is globally
 * enabled at FEE00000H after reset. */
static void check_bsp(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	report((base & APIC_BASE_BSP) && (base & APIC_BASE_EN) &&
	       (base & APIC_BASE_ADDR) == XAPIC_BASE,
	       "BSP: IA32_APIC_BASE %#lx has BSP, EN and base FEE00000H", base);
	report_eq(smp_cpus[0].apic_id, smp_cpus[0].cpuid_apic_id,
		  "BSP: xAPIC ID register agrees with CPUID.1:EBX[31:24]");
	report_eq(cpuid(0xb, 0).d, smp_cpus[0].apic_id, "BSP: CPUID.(0BH,0):EDX is the APIC id");
}

/* What one AP showed at its SIPI entry and reported in long mode. */
static void check_ap(int i, uint32_t signature)
{
	const struct smp_cpu *c = &smp_cpus[i];

	if (!report(c->arrived, "cpu %d arrived in ap_main", i))
		return;
	/* 8.4.4.1: the SIPI starts the AP in real mode at VV00:0000. */
	report_eq(c->entry_cs, SMP_TRAMP_PAGE >> 4, "cpu %d: entry CS is the SIPI vector 08H << 8", i);
	/* Table 9-1: a never-started AP has the power-up CR0 and, in EDX,
	 * the processor signature (the value of CPUID.1:EAX, 9.1.4). */
	report_eq(c->entry_cr0, INIT_CR0, "cpu %d: entry CR0 is 60000010H", i);
	report_eq(c->entry_edx, signature, "cpu %d: entry EDX is the processor signature", i);
	report_eq(c->apic_id, c->cpuid_apic_id,
		  "cpu %d: xAPIC ID register (%u) agrees with CPUID.1:EBX[31:24]", i, c->apic_id);
	report_eq(x2apic_id[i], c->apic_id, "cpu %d: CPUID.(0BH,0):EDX agrees", i);
	report(!(c->apic_base & APIC_BASE_BSP) && (c->apic_base & APIC_BASE_EN) &&
	       (c->apic_base & APIC_BASE_ADDR) == XAPIC_BASE,
	       "cpu %d: IA32_APIC_BASE %#lx: BSP clear, EN set, base FEE00000H", i, c->apic_base);
	/* vtxsim runs vCPUs round-robin in index order, so the broadcast SIPI
	 * is taken by APIC id 1 first, and tickets follow APIC ids. */
	report_eq(c->apic_id, i, "cpu %d: deterministic arrival order (index = APIC id)", i);
}

static void check_distinct(unsigned n)
{
	bool distinct = true;

	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++)
			if (smp_cpus[i].apic_id == smp_cpus[j].apic_id)
				distinct = false;
	report(distinct, "all %u APIC ids are distinct", n);
}

static void check_counter(unsigned n)
{
	uint64_t start = rdtsc();

	for (unsigned i = 0; i < INCREMENTS; i++)
		atomic_fetch_inc(&shared_counter);
	while (done_incrementing < n - 1 && rdtsc() - start < smp_ns_to_tsc(100 * WAIT_NS))
		cpu_relax();
	report_eq(done_incrementing, n - 1, "every AP finished its LOCK XADD loop");
	report_eq(shared_counter, n * INCREMENTS, "shared counter: %u CPUs x %u LOCK increments", n,
		  INCREMENTS);
}

static bool beating(int i)
{
	uint64_t before = heartbeat[i];

	smp_delay_ns(WAIT_NS);
	return heartbeat[i] != before;
}

/* INIT to a running AP: it stops (wait-for-SIPI, 8.4.1 and 10.4.7.3);
 * a SIPI with another vector restarts it there in real mode with CR0 as
 * Table 9-1 says for INIT: CD and NW unchanged (cleared by the
 * trampoline), ET set, everything else clear. */
static void check_reinit(unsigned n, uint32_t signature, uint32_t mbinfo)
{
	int k = (int)n - 1;
	const struct smp_cpu *c = &smp_cpus[k];
	uint8_t id = c->apic_id;

	if (!report(smp_page_free(mbinfo, RESTART_PAGE) && smp_page_free(mbinfo, IGNORED_PAGE),
		    "pages %#x and %#x are free RAM", RESTART_PAGE, IGNORED_PAGE))
		return;
	report(beating(k), "cpu %d runs before INIT", k);
	smp_send_init(id);
	smp_delay_ns(10 * WAIT_NS);
	report(!beating(k), "cpu %d stopped after INIT (wait-for-SIPI)", k);
	if (n > 2)
		report(beating(1), "cpu 1 is not affected by INIT to APIC id %u", id);
	smp_send_sipi(id, RESTART_PAGE, k);
	if (!report(wait_until(&smp_cpus[k].arrived, 100 * WAIT_NS), "cpu %d restarted after SIPI", k))
		return;
	report_eq(c->starts, 2, "cpu %d started twice", k);
	report_eq(c->entry_cs, RESTART_PAGE >> 4, "cpu %d: restart CS is the new vector 07H << 8", k);
	report_eq(c->entry_cr0, CR0_ET, "cpu %d: CR0 after INIT is 00000010H (CD/NW kept clear)", k);
	report_eq(c->entry_edx, signature, "cpu %d: EDX after INIT is the processor signature", k);
	report_eq(c->apic_id, id, "cpu %d: INIT keeps the APIC id", k);
	report(beating(k), "cpu %d runs ap_main again", k);
	/* 10.4.7.3 / 8.4.1: a SIPI reaching a CPU not in wait-for-SIPI is
	 * ignored. */
	smp_send_sipi(id, IGNORED_PAGE, k);
	smp_delay_ns(10 * WAIT_NS);
	report(c->starts == 2 && !c->arrived && beating(k),
	       "cpu %d ignores a SIPI while running (starts %u)", k, c->starts);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	unsigned want = expected_cpus(mbinfo), n, got;
	uint32_t signature = cpuid(1, 0).a;

	(void)magic;
	if (!smp_init(mbinfo))
		report_summary();
	n = smp_ncpus;
	report(want != 0, "cmdline gives cpus=N");
	report_eq(n, want, "CPUID leaf 0BH counts the -smp CPUs");
	check_bsp();
	got = smp_start_aps();
	report_eq(got, n - 1, "INIT-SIPI-SIPI: %u APs arrived", n - 1);
	check_counter(n);      /* also: every AP has run ap_main's first lines */
	for (unsigned i = 1; i < n; i++)
		check_ap((int)i, signature);
	check_distinct(n);
	/* Never INIT an APIC id that did not report (it could be the BSP's). */
	if (n >= 2 && smp_cpus[n - 1].arrived)
		check_reinit(n, signature, mbinfo);
	stop = true;
	report_summary();
}
