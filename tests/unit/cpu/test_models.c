/* cpu/models.c, cpu/cpuid.c, cpu/msr.c: the model table, CPUID leaves and
 * MSR reset values and write rules. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "cpu/cpuid.h"
#include "cpu/msr.h"
#include "tests/unit/cpu/harness.h"

static void test_model_lookup(void)
{
	const struct cpu_model *d = cpu_model_default();
	CU_ASSERT_PTR_EQUAL(d, cpu_model_at(0));
	CU_ASSERT_STRING_EQUAL(d->name, "icelake-server");
	CU_ASSERT_PTR_EQUAL(cpu_model_find("icelake-server"), d);
	CU_ASSERT_PTR_NOT_NULL(cpu_model_find("core2"));
	CU_ASSERT_PTR_NULL(cpu_model_find("pentium-pro"));
	CU_ASSERT_PTR_NULL(cpu_model_at(-1));
	int n = 0;
	while (cpu_model_at(n))
		n++;
	CU_ASSERT(n >= 2);
	for (int i = 0; i < n; i++) {
		const struct cpu_model *m = cpu_model_at(i);
		CU_ASSERT_PTR_EQUAL(cpu_model_find(m->name), m);
		CU_ASSERT_EQUAL(strlen(m->vendor), 12);
		CU_ASSERT(strlen(m->brand) > 0 && strlen(m->brand) < 48);
		/* Every model can run the guest library: long mode with PAE. */
		CU_ASSERT(cpu_model_has(m, FEAT_LM) && cpu_model_has(m, FEAT_PAE));
		/* CPUID.1:ECX.VMX comes from the VMX column alone, never the row's leaf 1. */
		CU_ASSERT_EQUAL(cpu_model_has(m, FEAT_VMX), m->vmx.revision != 0);
		CU_ASSERT_FALSE(m->leaf1_ecx & (1u << (FEAT_VMX & 31)));
	}
}

static void test_leaf0_vendor(void)
{
	struct harness *h = harness_create(false);
	uint32_t r[4];
	char vendor[13];
	cpu_cpuid(&h->cpu, 0, 0, r);
	memcpy(vendor, &r[1], 4);       /* EBX, EDX, ECX */
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = 0;
	CU_ASSERT_STRING_EQUAL(vendor, "GenuineIntel");
	CU_ASSERT_EQUAL(r[0], cpu_model_default()->max_leaf);
	harness_destroy(h);
}

static void test_leaf1(void)
{
	struct harness *h = harness_create(false);
	uint32_t r[4];
	h->cpu.id = 3;
	cpu_cpuid(&h->cpu, 1, 0, r);
	CU_ASSERT_EQUAL(r[0], 0x000606a6);
	CU_ASSERT_EQUAL(r[1] >> 24, 3);                 /* initial APIC id */
	CU_ASSERT_EQUAL((r[1] >> 8) & 0xff, 8);         /* CLFLUSH: 8 x 8 bytes */
	CU_ASSERT(r[3] & (1u << 6));                    /* PAE */
	CU_ASSERT(r[3] & (1u << 0));                    /* FPU */
	CU_ASSERT(r[2] & (1u << 5));                    /* VMX */
	CU_ASSERT(r[2] & (1u << 30));                   /* RDRAND */
	harness_destroy(h);
}

static void test_brand_string(void)
{
	struct harness *h = harness_create(false);
	char brand[49];
	for (uint32_t k = 0; k < 3; k++) {
		uint32_t r[4];
		cpu_cpuid(&h->cpu, 0x80000002u + k, 0, r);
		memcpy(brand + 16 * k, r, 16);
	}
	brand[48] = 0;
	CU_ASSERT_STRING_EQUAL(brand, cpu_model_default()->brand);
	harness_destroy(h);
}

/* Intel: a basic or extended leaf above its maximum returns the highest
 * basic leaf; IA32_MISC_ENABLE[22] caps leaf 0 at 2. */
static void test_out_of_range_leaves(void)
{
	struct harness *h = harness_create(false);
	uint32_t top[4], r[4];
	uint32_t maxb = cpu_model_default()->max_leaf;
	cpu_cpuid(&h->cpu, maxb, 0, top);
	cpu_cpuid(&h->cpu, maxb + 1, 0, r);
	CU_ASSERT_EQUAL(memcmp(top, r, sizeof(r)), 0);
	cpu_cpuid(&h->cpu, 0x80000009u, 0, r);
	CU_ASSERT_EQUAL(memcmp(top, r, sizeof(r)), 0);
	cpu_cpuid(&h->cpu, 0x40000000u, 0, r);
	CU_ASSERT_EQUAL(memcmp(top, r, sizeof(r)), 0);
	CU_ASSERT_NOT_EQUAL(top[2], 0);     /* leaf 1FH: level type in ECX */

	CU_ASSERT(cpu_msr_write(&h->cpu, MSR_IA32_MISC_ENABLE, h->cpu.msr.misc_enable | MISC_ENABLE_LIMIT_CPUID));
	cpu_cpuid(&h->cpu, 0, 0, r);
	CU_ASSERT_EQUAL(r[0], 2);
	uint32_t leaf2[4];
	cpu_cpuid(&h->cpu, 2, 0, leaf2);
	cpu_cpuid(&h->cpu, 7, 0, r);
	CU_ASSERT_EQUAL(memcmp(leaf2, r, sizeof(r)), 0);
	harness_destroy(h);
}

static void test_extended_leaves(void)
{
	struct harness *h = harness_create(false);
	uint32_t r[4];
	cpu_cpuid(&h->cpu, 0x80000000u, 0, r);
	CU_ASSERT_EQUAL(r[0], 0x80000008u);
	cpu_cpuid(&h->cpu, 0x80000001u, 0, r);
	CU_ASSERT(r[3] & (1u << 29));   /* LM */
	CU_ASSERT(r[3] & (1u << 20));   /* NX */
	CU_ASSERT(r[2] & (1u << 0));    /* LAHF/SAHF in 64-bit mode */
	cpu_cpuid(&h->cpu, 0x80000008u, 0, r);
	CU_ASSERT_EQUAL(r[0] & 0xff, cpu_model_default()->phys_addr_bits);
	CU_ASSERT_EQUAL((r[0] >> 8) & 0xff, 57);     /* LA57: 57 linear-address bits */
	harness_destroy(h);
}

/* The second model withholds what its row says. */
static void test_core2_model(void)
{
	struct harness *h = harness_create(false);
	uint32_t r[4];
	uint64_t v;
	h->cpu.model = cpu_model_find("core2");
	cpu_cpuid(&h->cpu, 7, 0, r);
	CU_ASSERT(r[0] == 0 && r[1] == 0 && r[2] == 0 && r[3] == 0);
	cpu_cpuid(&h->cpu, 0x80000001u, 0, r);
	CU_ASSERT_FALSE(r[3] & (1u << 27));     /* no RDTSCP */
	CU_ASSERT_FALSE(r[3] & (1u << 26));     /* no 1 GiB pages */
	CU_ASSERT_FALSE(cpu_msr_read(&h->cpu, MSR_IA32_TSC_AUX, &v));
	CU_ASSERT_FALSE(cpu_msr_read(&h->cpu, MSR_IA32_TSC_ADJUST, &v));
	harness_destroy(h);
}

static uint64_t msr(struct cpu *c, uint32_t n)
{
	uint64_t v = 0xdeadbeef;
	CU_ASSERT(cpu_msr_read(c, n, &v));
	return v;
}

static void test_msr_defaults(void)
{
	struct harness *h = harness_create(false);
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_APIC_BASE), 0xfee00900u);
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_PAT), 0x0007040600070406ull);
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_EFER), 0);
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_FEATURE_CONTROL), 0);
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_MTRRCAP) & 0xff, 0);  /* no variable ranges */
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_MTRR_DEF_TYPE), 0);
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_TSC_ADJUST), 0);
	CU_ASSERT_STRING_EQUAL(cpu_msr_name(0xc0000080u), "IA32_EFER");
	CU_ASSERT_PTR_NULL(cpu_msr_name(0x12345678u));

	struct cpu ap;
	cpu_init(&ap, 1, cpu_model_default(), &h->pm, &h->pio, NULL);
	CU_ASSERT_EQUAL(msr(&ap, MSR_IA32_APIC_BASE), 0xfee00800u);    /* not the BSP */
	harness_destroy(h);
}

static void test_msr_gp_cases(void)
{
	struct harness *h = harness_create(false);
	struct cpu *c = &h->cpu;
	uint64_t v;
	CU_ASSERT_FALSE(cpu_msr_read(c, 0x12345678u, &v));
	CU_ASSERT_FALSE(cpu_msr_write(c, 0x12345678u, 0));
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_EFER, 1ull << 9));            /* reserved */
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_PAT, 0x0007040600070402ull)); /* type 2 */
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_PAT, 0x0007040600070408ull)); /* type 8 */
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_PAT), 0x0007040600070406ull);          /* unchanged */
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_APIC_BASE, 0xfee00900u | 1)); /* reserved bit 0 */
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_APIC_BASE, 1ull << 50));      /* beyond MAXPHYADDR */
	/* With 5-level paging supported, MSR addresses are 57-bit canonical. */
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_LSTAR, 0x0100000000000000ull));
	CU_ASSERT(cpu_msr_write(c, MSR_IA32_LSTAR, 0x0000800000000000ull));
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_KERNEL_GS_BASE, 0x8000000000000000ull));
	CU_ASSERT(cpu_msr_write(c, MSR_IA32_LSTAR, 0xffff800000001000ull));
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_LSTAR), 0xffff800000001000ull);
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_TSC_AUX, 1ull << 32));
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_MTRR_DEF_TYPE, 2));           /* invalid type */
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_MTRRCAP, 0));                  /* read-only */
	harness_destroy(h);
}

/* Locking IA32_FEATURE_CONTROL makes every later write #GP until reset. */
static void test_feature_control_lock(void)
{
	struct harness *h = harness_create(false);
	struct cpu *c = &h->cpu;
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_VMX_SMX)); /* no SMX */
	CU_ASSERT(cpu_msr_write(c, MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_LOCK));
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_LOCK));
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_FEATURE_CONTROL, 0));
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_FEATURE_CONTROL), FEATURE_CONTROL_LOCK);
	cpu_reset(c);
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_FEATURE_CONTROL), 0);
	harness_destroy(h);
}

/* EFER: LMA is read-only, LME cannot change while paging is on. */
static void test_efer_rules(void)
{
	struct harness *h = harness_create(true);
	struct cpu *c = &h->cpu;
	uint64_t efer = msr(c, MSR_IA32_EFER);
	CU_ASSERT(efer & EFER_LMA);
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_EFER, efer & ~EFER_LME));
	CU_ASSERT(cpu_msr_write(c, MSR_IA32_EFER, (efer | EFER_NXE | EFER_SCE) & ~EFER_LMA));
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_EFER), efer | EFER_NXE | EFER_SCE);
	CU_ASSERT(c->xc.efer & EFER_NXE);       /* the paging context follows */
	harness_destroy(h);
}

/* Writing IA32_TSC sets the counter and moves IA32_TSC_ADJUST by the same
 * delta; writing IA32_TSC_ADJUST moves the counter. */
static void test_tsc_msrs(void)
{
	struct harness *h = harness_create(false);
	struct cpu *c = &h->cpu;
	c->cycles = 1000;
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_TSC), 1000);
	CU_ASSERT(cpu_msr_write(c, MSR_IA32_TSC, 5000));
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_TSC), 5000);
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_TSC_ADJUST), 4000);
	c->cycles += 10;
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_TSC), 5010);
	CU_ASSERT(cpu_msr_write(c, MSR_IA32_TSC_ADJUST, 0));
	CU_ASSERT_EQUAL(msr(c, MSR_IA32_TSC), 1010);
	harness_destroy(h);
}

void suite_cpu_models(void)
{
	CU_pSuite s = CU_add_suite("cpu_models", NULL, NULL);
	CU_add_test(s, "model table lookups", test_model_lookup);
	CU_add_test(s, "leaf 0 vendor in EBX EDX ECX", test_leaf0_vendor);
	CU_add_test(s, "leaf 1 signature, APIC id, features", test_leaf1);
	CU_add_test(s, "brand string leaves", test_brand_string);
	CU_add_test(s, "out-of-range leaves", test_out_of_range_leaves);
	CU_add_test(s, "extended leaves", test_extended_leaves);
	CU_add_test(s, "core2 withholds features", test_core2_model);
	CU_add_test(s, "MSR reset values", test_msr_defaults);
	CU_add_test(s, "MSR #GP cases", test_msr_gp_cases);
	CU_add_test(s, "IA32_FEATURE_CONTROL lock", test_feature_control_lock);
	CU_add_test(s, "EFER rules", test_efer_rules);
	CU_add_test(s, "IA32_TSC and IA32_TSC_ADJUST", test_tsc_msrs);
}
