/* The CPU side of paging (cpu/system.c, cpu/dtable.c, cpu/cpuid.c): CR4
 * bits by CPU model, LA57 in IA-32e mode, PDPTE loads and their #GP, 57-bit
 * canonical accesses, RDPKRU/WRPKRU, STAC/CLAC, UMIP, INVPCID #UD/#GP
 * rules, CPUID topology and cache leaves. */
#include <CUnit/CUnit.h>

#include "cpu/cpuid.h"
#include "tests/unit/cpu/sysenv.h"

#define EXEC(c, code) exec_insn((c), (code), sizeof(code))

static const uint8_t mov_cr0_eax[] = { 0x0f, 0x22, 0xc0 }, mov_cr3_eax[] = { 0x0f, 0x22, 0xd8 };
static const uint8_t mov_cr4_eax[] = { 0x0f, 0x22, 0xe0 }, mov_rax_mrbx[] = { 0x48, 0x8b, 0x03 };
static const uint8_t mov_eax_mebx[] = { 0x8b, 0x03 };
static const uint8_t rdpkru[] = { 0x0f, 0x01, 0xee }, wrpkru[] = { 0x0f, 0x01, 0xef };
static const uint8_t stac[] = { 0x0f, 0x01, 0xcb }, clac[] = { 0x0f, 0x01, 0xca };
static const uint8_t sgdt_mrax[] = { 0x0f, 0x01, 0x00 }, sidt_mrax[] = { 0x0f, 0x01, 0x08 };
static const uint8_t sldt_eax[] = { 0x0f, 0x00, 0xc0 }, str_eax[] = { 0x0f, 0x00, 0xc8 };
static const uint8_t smsw_eax[] = { 0x0f, 0x01, 0xe0 };
static const uint8_t invpcid_rax_mrbx[] = { 0x66, 0x0f, 0x38, 0x82, 0x03 };
static const uint8_t lock_invpcid[] = { 0xf0, 0x66, 0x0f, 0x38, 0x82, 0x03 };
static const uint8_t invpcid_reg[] = { 0x66, 0x0f, 0x38, 0x82, 0xc3 };

static bool faults(struct cpu *c, enum exec_status st, unsigned vec, uint32_t err)
{
	return st == EXEC_FAULT && c->exc.vector == vec && c->exc.error == err;
}

static enum exec_status set_cr4(struct cpu *c, uint64_t v)
{
	c->gpr[R_AX] = v;
	return EXEC(c, mov_cr4_eax);
}

/* Bits of features the model lacks are reserved (vol. 2 MOV CR); LA57
 * cannot change in IA-32e mode; PCIDE needs CR3[11:0] = 0. */
static void test_cr4_bits_by_model(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	uint64_t cr4 = c->cr4;
	CU_ASSERT_EQUAL(set_cr4(c, cr4 | CR4_PKE | CR4_UMIP | CR4_SMAP | CR4_SMEP | CR4_PCIDE), EXEC_OK);
	CU_ASSERT_EQUAL(c->cr4, cr4 | CR4_PKE | CR4_UMIP | CR4_SMAP | CR4_SMEP | CR4_PCIDE);
	CU_ASSERT_EQUAL(c->xc.cr4, c->cr4);
	CU_ASSERT(faults(c, set_cr4(c, cr4 | CR4_LA57), VEC_GP, 0));
	CU_ASSERT(faults(c, set_cr4(c, cr4 | (1ull << 32)), VEC_GP, 0));
	CU_ASSERT(faults(c, set_cr4(c, cr4 | (1ull << 15)), VEC_GP, 0));
	CU_ASSERT_EQUAL(set_cr4(c, cr4), EXEC_OK);
	c->cr3 |= 5;
	CU_ASSERT(faults(c, set_cr4(c, cr4 | CR4_PCIDE), VEC_GP, 0));
	c->cr3 &= ~0xfffull;
	c->model = cpu_model_find("haswell");
	static const uint64_t absent[] = { CR4_PKE, CR4_UMIP, CR4_SMAP, CR4_LA57 };
	for (unsigned k = 0; k < 4; k++)
		CU_ASSERT(faults(c, set_cr4(c, cr4 | absent[k]), VEC_GP, 0));
	CU_ASSERT_EQUAL(set_cr4(c, cr4 | CR4_PCIDE | CR4_SMEP), EXEC_OK);
	CU_ASSERT_EQUAL(c->cr4, cr4 | CR4_PCIDE | CR4_SMEP);
	harness_destroy(h);
}

/* PAE: CR0.PG loads the PDPTEs from CR3 and #GP(0)s on a reserved bit;
 * walks then use the registers (4.4.1). */
static void test_pdpte_loads(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	put64(h, 0x7000, 0x6000 | PTE_P);                       /* PDPTE[0] -> PD */
	put64(h, 0x7008, 0x6000 | PTE_P | PTE_W);               /* bit 1 reserved */
	put64(h, 0x6000, 0x0 | PTE_P | PTE_W | PTE_PS);         /* 2 MiB identity */
	put32(h, 0x9000, 0x12345678);
	c->cr3 = 0x7000;
	CU_ASSERT_EQUAL(set_cr4(c, CR4_PAE), EXEC_OK);
	uint64_t cr0 = c->cr0;
	c->gpr[R_AX] = cr0 | CR0_PG;
	CU_ASSERT(faults(c, EXEC(c, mov_cr0_eax), VEC_GP, 0));
	CU_ASSERT_EQUAL(c->cr0, cr0);
	put64(h, 0x7008, 0);
	CU_ASSERT_EQUAL(EXEC(c, mov_cr0_eax), EXEC_OK);
	CU_ASSERT_EQUAL(c->pdpte[0], 0x6000 | PTE_P);
	put64(h, 0x7000, 0);                                    /* memory only: the register stays */
	c->gpr[R_BX] = 0x9000;
	CU_ASSERT_EQUAL(EXEC(c, mov_eax_mebx), EXEC_OK);
	CU_ASSERT_EQUAL((uint32_t)c->gpr[R_AX], 0x12345678);
	put64(h, 0x7100, 0x6000 | PTE_P | (1ull << 63));        /* bit 63 reserved in a PDPTE */
	c->gpr[R_AX] = 0x7100;
	CU_ASSERT(faults(c, EXEC(c, mov_cr3_eax), VEC_GP, 0));
	CU_ASSERT_EQUAL(c->cr3, 0x7000);
	put64(h, 0x7100, 0x6000 | PTE_P);
	CU_ASSERT_EQUAL(EXEC(c, mov_cr3_eax), EXEC_OK);
	CU_ASSERT_EQUAL(c->pdpte[0], 0x6000 | PTE_P);
	CU_ASSERT_EQUAL(c->xc.pdpte[0], 0x6000 | PTE_P);
	harness_destroy(h);
}

/* 5-level paging: 57-bit canonical addresses work, others are #GP(0). */
static void test_la57_canonical(void)
{
	struct harness *h = harness_create(true);
	struct cpu *c = &h->cpu;
	put32(h, 0x9000, 0xcafe);
	c->gpr[R_BX] = (1ull << 48) | 0x9000;
	CU_ASSERT(faults(c, EXEC(c, mov_rax_mrbx), VEC_GP, 0));         /* 4-level: not canonical */
	put64(h, 0x8000, 0x1000 | 3);                                    /* PML5[0], [1] -> the PML4 */
	put64(h, 0x8008, 0x1000 | 3);
	c->cr3 = 0x8000;
	c->cr4 |= CR4_LA57;
	cpu_mode_changed(c);
	CU_ASSERT_EQUAL(EXEC(c, mov_rax_mrbx), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xcafe);
	c->gpr[R_BX] = 0x0100000000009000ull;
	CU_ASSERT(faults(c, EXEC(c, mov_rax_mrbx), VEC_GP, 0));
	harness_destroy(h);
}

/* RDPKRU/WRPKRU: #UD without CR4.PKE, #GP(0) for ECX (EDX) != 0, any CPL. */
static void test_pkru_instructions(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	uint32_t r[4];
	CU_ASSERT(faults(c, EXEC(c, rdpkru), VEC_UD, 0));
	cpu_cpuid(c, 7, 0, r);
	CU_ASSERT_FALSE(r[2] & (1u << 4));                      /* OSPKE = CR4.PKE = 0 */
	CU_ASSERT_EQUAL(set_cr4(c, c->cr4 | CR4_PKE), EXEC_OK);
	cpu_cpuid(c, 7, 0, r);
	CU_ASSERT(r[2] & (1u << 4));
	c->gpr[R_CX] = 1;
	CU_ASSERT(faults(c, EXEC(c, rdpkru), VEC_GP, 0));
	c->gpr[R_CX] = 0;
	c->gpr[R_DX] = 1;
	c->gpr[R_AX] = 0xc;
	CU_ASSERT(faults(c, EXEC(c, wrpkru), VEC_GP, 0));
	c->gpr[R_DX] = 0;
	enter_user(h, U_CS64, USER_CODE, USER_STACK);
	CU_ASSERT_EQUAL(EXEC(c, wrpkru), EXEC_OK);
	CU_ASSERT_EQUAL(c->pkru, 0xc);
	CU_ASSERT_EQUAL(c->xc.pkru, 0xc);
	c->gpr[R_AX] = c->gpr[R_DX] = ~0ull;
	CU_ASSERT_EQUAL(EXEC(c, rdpkru), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xc);
	CU_ASSERT_EQUAL(c->gpr[R_DX], 0);
	harness_destroy(h);
}

/* STAC/CLAC: #UD at CPL > 0 or without SMAP; AC picks the TLB class. */
static void test_stac_clac(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(set_cr4(c, c->cr4 | CR4_SMAP), EXEC_OK);
	CU_ASSERT_EQUAL(EXEC(c, stac), EXEC_OK);
	CU_ASSERT(cpu_get_rflags(c) & FL_AC);
	CU_ASSERT_EQUAL(c->tlb_class, TLB_SUPERVISOR_AC);
	CU_ASSERT_EQUAL(EXEC(c, clac), EXEC_OK);
	CU_ASSERT_FALSE(cpu_get_rflags(c) & FL_AC);
	CU_ASSERT_EQUAL(c->tlb_class, TLB_SUPERVISOR);
	c->model = cpu_model_find("haswell");
	CU_ASSERT(faults(c, EXEC(c, stac), VEC_UD, 0));
	c->model = cpu_model_default();
	enter_user(h, U_CS64, USER_CODE, USER_STACK);
	CU_ASSERT(faults(c, EXEC(c, clac), VEC_UD, 0));
	CU_ASSERT_EQUAL(c->tlb_class, TLB_USER);
	harness_destroy(h);
}

/* UMIP: SGDT, SIDT, SLDT, STR, SMSW at CPL > 0 are #GP(0) (vol. 3A 2.5). */
static void test_umip(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	c->gpr[R_AX] = USER_STACK - 0x100;
	CU_ASSERT_EQUAL(EXEC(c, sgdt_mrax), EXEC_OK);
	CU_ASSERT_EQUAL(set_cr4(c, c->cr4 | CR4_UMIP), EXEC_OK);
	CU_ASSERT_EQUAL(EXEC(c, sgdt_mrax), EXEC_OK);            /* CPL 0 still may */
	CU_ASSERT_EQUAL(EXEC(c, smsw_eax), EXEC_OK);
	enter_user(h, U_CS64, USER_CODE, USER_STACK);
	c->gpr[R_AX] = USER_STACK - 0x100;
	CU_ASSERT(faults(c, EXEC(c, sgdt_mrax), VEC_GP, 0));
	CU_ASSERT(faults(c, EXEC(c, sidt_mrax), VEC_GP, 0));
	CU_ASSERT(faults(c, EXEC(c, sldt_eax), VEC_GP, 0));
	CU_ASSERT(faults(c, EXEC(c, str_eax), VEC_GP, 0));
	CU_ASSERT(faults(c, EXEC(c, smsw_eax), VEC_GP, 0));
	c->cr4 &= ~CR4_UMIP;
	cpu_mode_changed(c);
	CU_ASSERT_EQUAL(EXEC(c, smsw_eax), EXEC_OK);
	CU_ASSERT_EQUAL(EXEC(c, str_eax), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX], TSS_SEL);
	harness_destroy(h);
}

/* INVPCID: #UD without the feature, with LOCK or a register operand;
 * #GP(0) at CPL > 0 (vol. 2 INVPCID). */
static void test_invpcid_faults(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	put64(h, 0x40000, 0);
	put64(h, 0x40008, 0);
	c->gpr[R_BX] = 0x40000;
	c->gpr[R_AX] = 2;
	CU_ASSERT_EQUAL(EXEC(c, invpcid_rax_mrbx), EXEC_OK);
	CU_ASSERT(faults(c, EXEC(c, lock_invpcid), VEC_UD, 0));
	CU_ASSERT(faults(c, EXEC(c, invpcid_reg), VEC_UD, 0));
	c->gpr[R_AX] = 1ull << 32;                               /* 64-bit type register */
	CU_ASSERT(faults(c, EXEC(c, invpcid_rax_mrbx), VEC_GP, 0));
	c->model = cpu_model_find("core2");
	c->gpr[R_AX] = 2;
	CU_ASSERT(faults(c, EXEC(c, invpcid_rax_mrbx), VEC_UD, 0));
	c->model = cpu_model_default();
	enter_user(h, U_CS64, USER_CODE, USER_STACK);
	CU_ASSERT(faults(c, EXEC(c, invpcid_rax_mrbx), VEC_GP, 0));
	harness_destroy(h);
}

/* Leaves 0BH/1FH (one thread per core, every CPU a core), leaf 4 and the
 * linear-address width. */
static void test_cpuid_topology(void)
{
	struct harness *h = harness_create(false);
	struct cpu *c = &h->cpu;
	uint32_t r[4];
	c->ncpus = 4;
	c->id = 2;
	for (uint32_t leaf = 0xb; leaf <= 0x1f; leaf += 0x14) {
		cpu_cpuid(c, leaf, 0, r);
		CU_ASSERT(r[0] == 0 && r[1] == 1 && r[2] == 0x100 && r[3] == 2);
		cpu_cpuid(c, leaf, 1, r);
		CU_ASSERT(r[0] == 2 && r[1] == 4 && r[2] == 0x201 && r[3] == 2);
		cpu_cpuid(c, leaf, 2, r);
		CU_ASSERT(r[0] == 0 && r[1] == 0 && r[2] == 2 && r[3] == 2);
	}
	cpu_cpuid(c, 4, 0, r);
	CU_ASSERT_EQUAL(r[0] & 0xff, 0x21);                     /* data cache, level 1 */
	CU_ASSERT_EQUAL(r[0] >> 26, 3);                         /* 4 cores */
	CU_ASSERT_EQUAL(((r[1] >> 22) + 1) * ((r[1] & 0xfff) + 1) * (r[2] + 1), 32 * 1024);
	cpu_cpuid(c, 4, 2, r);
	CU_ASSERT_EQUAL(((r[1] >> 22) + 1) * ((r[1] & 0xfff) + 1) * (r[2] + 1), 256 * 1024);
	cpu_cpuid(c, 4, 3, r);
	CU_ASSERT_EQUAL(r[0] & 0x1f, 0);                        /* no more caches */
	cpu_cpuid(c, 0x80000008u, 0, r);
	CU_ASSERT_EQUAL((r[0] >> 8) & 0xff, 57);
	cpu_cpuid(c, 7, 0, r);
	CU_ASSERT((r[2] & 0x1000c) == 0x1000c);                 /* UMIP, PKU, LA57 */
	CU_ASSERT(r[1] & (1u << 10));                           /* INVPCID */
	c->model = cpu_model_find("haswell");
	cpu_cpuid(c, 7, 0, r);
	CU_ASSERT_EQUAL(r[2] & 0x1000c, 0);
	CU_ASSERT(r[1] & (1u << 10));
	harness_destroy(h);
}

void suite_cpu_paging(void)
{
	CU_pSuite s = CU_add_suite("cpu_paging", NULL, NULL);
	CU_add_test(s, "CR4 bits by CPU model, LA57, PCIDE", test_cr4_bits_by_model);
	CU_add_test(s, "PAE PDPTE loads and #GP", test_pdpte_loads);
	CU_add_test(s, "57-bit canonical accesses under LA57", test_la57_canonical);
	CU_add_test(s, "RDPKRU/WRPKRU and OSPKE", test_pkru_instructions);
	CU_add_test(s, "STAC/CLAC", test_stac_clac);
	CU_add_test(s, "UMIP", test_umip);
	CU_add_test(s, "INVPCID #UD and #GP", test_invpcid_faults);
	CU_add_test(s, "CPUID topology, caches, address widths", test_cpuid_topology);
}
