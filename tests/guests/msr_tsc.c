/* msr_tsc: architectural MSRs and their reset values (SDM Vol. 4, table
 * 2-2 "IA-32 Architectural MSRs"), FS/GS bases and SWAPGS (Vol. 3A, 3.4.4),
 * and the time-stamp counter (Vol. 3B, 19.17). */
#include "guest.h"

#define MSR_LSTAR 0xc0000082u
#define APIC_BASE_BSP (1ul << 8)
#define APIC_BASE_EN  (1ul << 11)
#define NONCANONICAL 0x4000000000000000ul    /* non-canonical for 48 and 57 bits (LA57 CPUs check 57) */
#define CPUID_EXT_RDTSCP (1u << 27)

static uint64_t fs_word = 0x1111222233334444, gs_word = 0x5555666677778888;
static uint64_t kgs_word = 0x99990000aaaabbbb;

static void check_reset_values(void)
{
	uint64_t efer = rdmsr(MSR_EFER);

	report((efer & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA),
	       "EFER.LME and EFER.LMA read back set in long mode (%#lx)", efer);
	report_eq(rdmsr(MSR_IA32_APIC_BASE), 0xfee00000ul | APIC_BASE_EN | APIC_BASE_BSP,
		  "IA32_APIC_BASE resets to 0xFEE00900 (enabled, BSP)");
	report_eq(rdmsr(MSR_IA32_PAT), 0x0007040600070406ul, "IA32_PAT resets to 0x0007040600070406");
}

static uint64_t read_fs0(void)
{
	uint64_t v;

	asm volatile("movq %%fs:0, %0" : "=r"(v));
	return v;
}

static uint64_t read_gs0(void)
{
	uint64_t v;

	asm volatile("movq %%gs:0, %0" : "=r"(v));
	return v;
}

static void write_lstar_noncanonical(void *arg)
{
	(void)arg;
	wrmsr(MSR_LSTAR, NONCANONICAL);
}

static void write_fs_noncanonical(void *arg)
{
	(void)arg;
	wrmsr(MSR_FS_BASE, NONCANONICAL);
}

static void check_segment_bases(void)
{
	struct fault f;

	wrmsr(MSR_FS_BASE, (uint64_t)&fs_word);
	wrmsr(MSR_GS_BASE, (uint64_t)&gs_word);
	wrmsr(MSR_KERNEL_GS_BASE, (uint64_t)&kgs_word);
	report_eq(rdmsr(MSR_FS_BASE), (uint64_t)&fs_word, "IA32_FS_BASE reads back");
	report_eq(read_fs0(), fs_word, "%%fs:0 reads through IA32_FS_BASE");
	report_eq(read_gs0(), gs_word, "%%gs:0 reads through IA32_GS_BASE");

	asm volatile("swapgs" : : : "memory");
	report(rdmsr(MSR_GS_BASE) == (uint64_t)&kgs_word &&
	       rdmsr(MSR_KERNEL_GS_BASE) == (uint64_t)&gs_word,
	       "swapgs exchanges IA32_GS_BASE and IA32_KERNEL_GS_BASE");
	report_eq(read_gs0(), kgs_word, "after swapgs %%gs:0 reads through the old kernel base");
	asm volatile("swapgs" : : : "memory");
	report_eq(read_gs0(), gs_word, "a second swapgs swaps back");

	catch_fault(write_fs_noncanonical, NULL, &f);
	report(f.raised && f.vector == VEC_GP && f.error_code == 0,
	       "wrmsr of a non-canonical IA32_FS_BASE raises #GP(0)");
	wrmsr(MSR_LSTAR, 0xffffffff81000000ul);
	report_eq(rdmsr(MSR_LSTAR), 0xffffffff81000000ul, "IA32_LSTAR reads back");
	catch_fault(write_lstar_noncanonical, NULL, &f);
	report(f.raised && f.vector == VEC_GP && f.error_code == 0,
	       "wrmsr of a non-canonical IA32_LSTAR raises #GP(0)");
	wrmsr(MSR_FS_BASE, 0);
	wrmsr(MSR_GS_BASE, 0);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

static void check_tsc(void)
{
	uint64_t prev = rdtsc(), first = prev;
	bool increasing = true;
	volatile uint64_t spin = 0;

	for (int i = 0; i < 1000; i++) {
		spin += (uint64_t)i;
		uint64_t now = rdtsc();
		increasing &= now > prev;
		prev = now;
	}
	report(increasing, "rdtsc strictly increases over 1000 reads in a loop");
	report(prev - first >= 1000, "the TSC advanced %lu over the loop", prev - first);

	uint64_t before = rdtsc(), msr = rdmsr(MSR_IA32_TSC), after = rdtsc();
	report(before <= msr && msr <= after, "IA32_TSC reads between two rdtsc");

	wrmsr(MSR_IA32_TSC, 1ul << 40);
	uint64_t t = rdtsc();
	report(t >= 1ul << 40 && t < (1ul << 40) + 1000000000ul,
	       "writing IA32_TSC sets the counter (2^40 + %lu)", t - (1ul << 40));
}

static void check_rdtscp(void)
{
	if (!(cpuid(0x80000001u, 0).d & CPUID_EXT_RDTSCP)) {
		report_skip("rdtscp not supported");
		return;
	}
	uint32_t lo, hi, aux;
	uint64_t before = rdtsc();

	wrmsr(MSR_TSC_AUX, 0x1234);
	asm volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	report(aux == 0x1234 && ((uint64_t)hi << 32 | lo) > before,
	       "rdtscp returns IA32_TSC_AUX in ECX and a later TSC");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	check_reset_values();
	check_segment_bases();
	check_tsc();
	check_rdtscp();
	report_summary();
}
