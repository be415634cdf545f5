/* CPUID leaves, answered from the CPU model (SDM vol. 2A, CPUID instruction;
 * every leaf number below is the SDM's). */
#include "cpu/cpuid.h"

#include <string.h>

#include "cpu/msr.h"
#include "cpu/xsave.h"

bool cpu_model_has(const struct cpu_model *m, unsigned f)
{
	uint32_t w;
	if (f == FEAT_VMX)      /* one source of truth: the model's VMX column */
		return m->vmx.revision != 0;
	switch (f >> 5) {
	case CPUID_1_ECX: w = m->leaf1_ecx; break;
	case CPUID_1_EDX: w = m->leaf1_edx; break;
	case CPUID_7_EBX: w = m->leaf7_ebx; break;
	case CPUID_7_ECX: w = m->leaf7_ecx; break;
	case CPUID_7_EDX: w = m->leaf7_edx; break;
	case CPUID_81_ECX: w = m->ext1_ecx; break;
	case CPUID_D1_EAX: w = m->leafd1_eax; break;
	default: w = m->ext1_edx; break;
	}
	return (w >> (f & 31)) & 1;
}

/* Four little-endian characters of s starting at off, NUL-padded. */
static uint32_t str_reg(const char *s, size_t off)
{
	size_t n = strlen(s);
	uint32_t v = 0;
	for (unsigned k = 0; k < 4; k++)
		if (off + k < n)
			v |= (uint32_t)(uint8_t)s[off + k] << (8 * k);
	return v;
}

static uint32_t max_basic(const struct cpu *c)
{
	uint32_t m = c->model->max_leaf;
	if ((c->msr.misc_enable & MISC_ENABLE_LIMIT_CPUID) && m > 2)
		m = 2;
	return m;
}

/* Leaf 1: signature; EBX = APIC id 31:24, logical count 23:16 (1),
 * CLFLUSH line size in 8-byte units 15:8 (8 = 64 bytes), brand index 7:0. */
static void leaf_1(const struct cpu *c, uint32_t r[4])
{
	r[0] = c->model->signature;
	r[1] = ((uint32_t)c->id << 24) | (1u << 16) | (8u << 8);
	r[2] = c->model->leaf1_ecx & ~(1u << (FEAT_VMX & 31));
	r[3] = c->model->leaf1_edx;
	if (cpu_has(c, FEAT_VMX))       /* ECX[5] VMX: the model row's VMX column has a revision */
		r[2] |= 1u << (FEAT_VMX & 31);
	if (c->cr4 & CR4_OSXSAVE)       /* ECX[27] OSXSAVE mirrors CR4.OSXSAVE */
		r[2] |= 1u << (FEAT_OSXSAVE & 31);
	if (!(c->msr.misc_enable & MISC_ENABLE_MONITOR))        /* ECX[3] MONITOR: MISC_ENABLE[18] */
		r[2] &= ~(1u << (FEAT_MONITOR & 31));
	/* EDX[9] APIC reads 0 while IA32_APIC_BASE.EN is clear (SDM vol. 3A 10.4.3). */
	if (!(c->msr.apic_base & APIC_BASE_EN))
		r[3] &= ~(1u << (FEAT_APIC & 31));
}

/* Leaf 5, MONITOR/MWAIT (SDM vol. 2A CPUID, Table 3-8): monitor-line size
 * 64 bytes (EAX smallest, EBX largest); ECX[0] EMX (MWAIT extensions are
 * enumerated), ECX[1] interrupts break MWAIT even when masked (ECX[0] of
 * MWAIT); EDX: MWAIT sub C-states, one C1 sub-state (hint EAX = 0), none
 * deeper: vtxsim's MWAIT resumes at once. Zero without MONITOR. */
static void leaf_5(const struct cpu *c, uint32_t r[4])
{
	if (!cpu_model_has(c->model, FEAT_MONITOR))
		return;
	r[0] = 64;
	r[1] = 64;
	r[2] = CPUID_5_ECX_EMX | CPUID_5_ECX_INT_BREAK;
	r[3] = 1u << 4;
}

/* Leaf 0DH (SDM vol. 2A CPUID; vol. 1 13.2): sub-leaf 0 = supported XCR0
 * bits and area sizes (EBX for the XCR0 now enabled, ECX for everything
 * supported); 1 = XSAVEOPT/XSAVEC/XGETBV-1/XSAVES; 2 = AVX state, 256
 * bytes at offset 576. Empty without XSAVE. */
static void leaf_xsave(const struct cpu *c, uint32_t sub, uint32_t r[4])
{
	uint64_t sup = xsave_supported_xcr0(c);
	if (!cpu_has(c, FEAT_XSAVE))
		return;
	if (sub == 0) {
		r[0] = (uint32_t)sup;
		r[1] = xsave_area_size(c->xcr0);
		r[2] = xsave_area_size(sup);
		r[3] = (uint32_t)(sup >> 32);
	} else if (sub == 1) {
		/* EBX: size of the compacted area for XCR0 | IA32_XSS; ECX:EDX:
		 * the IA32_XSS bits (vol. 2 CPUID, leaf 0DH sub-leaf 1). Both are
		 * reported only where XSAVES and IA32_XSS exist. */
		r[0] = c->model->leafd1_eax;
		if (cpu_has(c, FEAT_XSAVES)) {
			uint64_t xss = xsave_supported_xss(c);
			r[1] = xsave_area_size(c->xcr0 | c->msr.xss);
			r[2] = (uint32_t)xss;
			r[3] = (uint32_t)(xss >> 32);
		}
	} else if (sub == 2 && (sup & XFEATURE_AVX)) {
		r[0] = 256;
		r[1] = 576;
	}
}

/* Leaf 15H: TSC = crystal * EBX / EAX; with EAX = EBX = 1 the crystal (ECX,
 * in Hz) is the TSC rate. Leaf 16H: base/max frequency in MHz, bus 100 MHz. */
static void leaf_tsc(const struct cpu *c, uint32_t leaf, uint32_t r[4])
{
	uint32_t khz = c->model->tsc_khz;
	if (leaf == 0x15) {
		r[0] = 1;
		r[1] = 1;
		r[2] = khz * 1000u;
	} else {
		r[0] = r[1] = khz / 1000u;
		r[2] = 100;
	}
}

/* Leaf 4, deterministic cache parameters: subleaf 0 L1 data, 1 L1 code,
 * 2 unified L2 (the one 80000006H reports), then type 0 = no more caches.
 * EAX: type 4:0, level 7:5, self-initialising 8, logical processors
 * sharing - 1 in 25:14 (1), cores per package - 1 in 31:26; EBX: line - 1,
 * partitions - 1, ways - 1; ECX: sets - 1. */
static void leaf_4(const struct cpu *c, uint32_t sub, uint32_t r[4])
{
	static const struct { uint8_t type, level; uint16_t ways, sets; } caches[] = {
		{ 1, 1, 8, 64 },        /* 32 KiB, 8-way */
		{ 2, 1, 8, 64 },        /* 32 KiB, 8-way */
		{ 3, 2, 8, 512 },       /* 256 KiB, 8-way */
	};
	if (sub >= sizeof(caches) / sizeof(caches[0]))
		return;
	uint32_t cores = c->ncpus > 64 ? 64 : (uint32_t)c->ncpus;
	r[0] = caches[sub].type | (uint32_t)caches[sub].level << 5 | 1u << 8 | (cores - 1) << 26;
	r[1] = 63u | (uint32_t)(caches[sub].ways - 1) << 22;
	r[2] = caches[sub].sets - 1u;
}

/* Bits needed for n distinct ids. */
static uint32_t id_bits(uint32_t n)
{
	uint32_t b = 0;
	while ((1u << b) < n)
		b++;
	return b;
}

/* Leaves 0BH and 1FH, x2APIC topology: one thread per core, every CPU of
 * the machine a core of one package. Per level: EAX[4:0] = shift of the
 * x2APIC id to the next level, EBX[15:0] = logical processors at this
 * level, ECX = level type (1 SMT, 2 core) << 8 | level number, EDX = x2APIC
 * id. A level past the last has EAX = EBX = 0 and type 0. */
static void leaf_topology(const struct cpu *c, uint32_t sub, uint32_t r[4])
{
	uint32_t n = (uint32_t)c->ncpus;
	r[2] = sub & 0xff;
	r[3] = (uint32_t)c->id;
	if (sub == 0) {
		r[1] = 1;
		r[2] |= 1u << 8;
	} else if (sub == 1) {
		r[0] = id_bits(n);
		r[1] = n;
		r[2] |= 2u << 8;
	}
}

static void basic_leaf(const struct cpu *c, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	const struct cpu_model *m = c->model;
	switch (leaf) {
	case 0:
		r[0] = max_basic(c);
		r[1] = str_reg(m->vendor, 0);   /* EBX, EDX, ECX: "Genu" "ineI" "ntel" */
		r[3] = str_reg(m->vendor, 4);
		r[2] = str_reg(m->vendor, 8);
		break;
	case 1:
		leaf_1(c, r);
		break;
	case 2:         /* one iteration; descriptor FFH: "see leaf 4" */
		r[0] = 0x0000ff01;
		break;
	case 4:
		leaf_4(c, sub, r);
		break;
	case 5:
		leaf_5(c, r);
		break;
	case 6:         /* ARAT: the APIC timer runs in every C-state */
		r[0] = 1u << 2;
		break;
	case 7:         /* OSPKE (ECX bit 4) reads CR4.PKE */
		if (sub == 0) {
			r[1] = m->leaf7_ebx;
			r[2] = m->leaf7_ecx | ((c->cr4 & CR4_PKE) ? 1u << (FEAT_OSPKE & 31) : 0);
			r[3] = m->leaf7_edx;
		}
		break;
	case 0xb:
	case 0x1f:
		leaf_topology(c, sub, r);
		break;
	case 0xd:
		leaf_xsave(c, sub, r);
		break;
	case 0x15:
	case 0x16:
		leaf_tsc(c, leaf, r);
		break;
	default:        /* leaves this model leaves empty (0AH, 12H...) */
		break;
	}
}

static void ext_leaf(const struct cpu *c, uint32_t leaf, uint32_t r[4])
{
	const struct cpu_model *m = c->model;
	switch (leaf) {
	case 0x80000000:
		r[0] = m->max_ext_leaf;
		break;
	case 0x80000001:
		r[2] = m->ext1_ecx;
		r[3] = m->ext1_edx;
		break;
	case 0x80000002: case 0x80000003: case 0x80000004:
		for (unsigned k = 0; k < 4; k++)
			r[k] = str_reg(m->brand, (leaf - 0x80000002) * 16 + k * 4);
		break;
	case 0x80000006:        /* L2: 256 KiB, 8-way (encoding 6), 64-byte lines */
		r[2] = (256u << 16) | (6u << 12) | 64u;
		break;
	case 0x80000007:        /* invariant TSC: the TSC counts simulated cycles */
		r[3] = 1u << 8;
		break;
	case 0x80000008:
		r[0] = m->phys_addr_bits | ((uint32_t)m->lin_addr_bits << 8);
		break;
	default:
		break;
	}
}

/* A leaf above the basic or extended maximum returns the highest basic
 * leaf's data (SDM vol. 2A CPUID, "If a value entered for CPUID.EAX is
 * higher than the maximum input value ..."). */
void cpu_cpuid(const struct cpu *c, uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
	uint32_t maxb = max_basic(c);
	memset(r, 0, 4 * sizeof(r[0]));
	if (leaf >= 0x80000000u && leaf <= c->model->max_ext_leaf) {
		ext_leaf(c, leaf, r);
		return;
	}
	if (leaf > maxb)
		leaf = maxb;
	basic_leaf(c, leaf, subleaf, r);
}
