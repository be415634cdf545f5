/* cpuid: what the CPUID leaves report (SDM Vol. 2A, CPUID). The vendor
 * string is vtxsim's CPU model (an Intel part), which has VMX. */
#include "guest.h"

/* CPUID.1:EDX */
#define ID1_PSE   (1u << 3)
#define ID1_TSC   (1u << 4)
#define ID1_MSR   (1u << 5)
#define ID1_PAE   (1u << 6)
#define ID1_CX8   (1u << 8)
#define ID1_APIC  (1u << 9)
#define ID1_PGE   (1u << 13)
#define ID1_CMOV  (1u << 15)
#define ID1_CLFSH (1u << 19)
#define ID1_FXSR  (1u << 24)
/* CPUID.1:ECX */
#define ID1C_VMX  (1u << 5)
/* CPUID.80000001H */
#define EXT_LAHF    (1u << 0)           /* ECX */
#define EXT_SYSCALL (1u << 11)          /* EDX */
#define EXT_NX      (1u << 20)
#define EXT_LM      (1u << 29)

static void check_vendor(void)
{
	struct cpuid_regs r = cpuid(0, 0);
	char vendor[13];

	memcpy(vendor, &r.b, 4);
	memcpy(vendor + 4, &r.d, 4);
	memcpy(vendor + 8, &r.c, 4);
	vendor[12] = 0;
	report(!strcmp(vendor, "GenuineIntel"), "vendor is GenuineIntel (\"%s\")", vendor);
	report(r.a >= 7, "maximum basic leaf %#x >= 7", r.a);

	/* Intel: a leaf above the maximum returns the highest basic leaf. */
	struct cpuid_regs top = cpuid(r.a, 0), above = cpuid(r.a + 1, 0);
	report(!memcmp(&top, &above, sizeof(top)),
	       "leaf max+1 (%#x) returns the data of leaf max", r.a + 1);
}

static void check_leaf1(void)
{
	struct cpuid_regs r = cpuid(1, 0);
	uint32_t need = ID1_PSE | ID1_TSC | ID1_MSR | ID1_PAE | ID1_CX8 | ID1_APIC | ID1_PGE | ID1_CMOV;
	unsigned family = (r.a >> 8) & 0xf, model = (r.a >> 4) & 0xf;

	if (family == 0xf)
		family += (r.a >> 20) & 0xff;
	if (family == 6 || family == 0xf)
		model |= ((r.a >> 16) & 0xf) << 4;
	report_info("signature %#x: family %#x model %#x stepping %u", r.a, family, model, r.a & 0xf);
	report((r.d & need) == need,
	       "CPUID.1:EDX has PSE TSC MSR PAE CX8 APIC PGE CMOV (%#x, missing %#x)", r.d,
	       need & ~r.d);
	report_info("CPUID.1:EDX FXSR %s", r.d & ID1_FXSR ? "set" : "clear");
	report(r.c & ID1C_VMX, "CPUID.1:ECX.VMX[5] is set: the default model has VMX (%#x)", r.c);
	report((r.b >> 24) == 0, "initial APIC ID of the boot CPU is 0");
	if (r.d & ID1_CLFSH)
		report(((r.b >> 8) & 0xff) == 8, "CLFLUSH line size is 8 qwords (64 bytes)");
}

static void check_extended(void)
{
	uint32_t max = cpuid(0x80000000u, 0).a;

	if (!report(max >= 0x80000008u, "maximum extended leaf %#x >= 0x80000008", max))
		return;
	struct cpuid_regs r = cpuid(0x80000001u, 0);
	report((r.d & (EXT_LM | EXT_NX | EXT_SYSCALL)) == (EXT_LM | EXT_NX | EXT_SYSCALL),
	       "CPUID.80000001H:EDX has LM, NX, SYSCALL (%#x)", r.d);
	report(r.c & EXT_LAHF, "CPUID.80000001H:ECX has LAHF/SAHF in 64-bit mode");

	struct cpuid_regs sz = cpuid(0x80000008u, 0);
	unsigned phys = sz.a & 0xff, lin = (sz.a >> 8) & 0xff;
	report(phys >= 36 && phys <= 52, "physical address width %u in [36, 52]", phys);
	report(lin == 48 || lin == 57, "linear address width %u is 48 or 57", lin);
}

static void check_brand(void)
{
	char brand[49];
	bool printable = true;

	for (uint32_t i = 0; i < 3; i++) {
		struct cpuid_regs r = cpuid(0x80000002u + i, 0);
		memcpy(brand + 16 * i, &r, 16);
	}
	brand[48] = 0;
	size_t n = strlen(brand);
	for (size_t i = 0; i < n; i++)
		printable &= brand[i] >= 0x20 && brand[i] < 0x7f;
	report(n > 0 && n < 48 && printable, "brand string \"%s\" is printable and NUL-terminated",
	       brand);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	check_vendor();
	check_leaf1();
	check_extended();
	check_brand();
	report_summary();
}
