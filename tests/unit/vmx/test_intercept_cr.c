/* vmx/intercept_cr.c encoders against the SDM vol. 3C tables: Table 27-3
 * (control-register accesses), Table 27-4 (MOV DR), Tables 27-10/27-11
 * (descriptor-table instruction information), and the TSC arithmetic of
 * 25.3 (multiplier: bits 111:48 of the 128-bit product; offset added
 * modulo 2^64). The exits themselves: tests/guests/vmx_exit_cr.c. */
#include <CUnit/CUnit.h>

#include "cpu/decode.h"
#include "vmx/intercept_cr.h"

static struct insn dec(const uint8_t *b, unsigned n, bool code64)
{
	struct insn i;
	struct decode_mode m = { code64, 1 };
	CU_ASSERT_EQUAL(cpu_decode(b, n, m, &i), DECODE_OK);
	return i;
}

static void test_cr_qual(void)
{
	/* MOV to CR3 from R13: CR 3, type 0, GPR 13 in 11:8 */
	CU_ASSERT_EQUAL(vmx_cr_qual(3, CR_ACCESS_MOV_TO, 13, false, 0), 0xd03u);
	/* MOV from CR8 to RAX: type 1 in 5:4 */
	CU_ASSERT_EQUAL(vmx_cr_qual(8, CR_ACCESS_MOV_FROM, 0, false, 0), 0x18u);
	/* CLTS: CR 0, type 2, nothing else (GPR and source data cleared) */
	CU_ASSERT_EQUAL(vmx_cr_qual(0, CR_ACCESS_CLTS, 7, true, 0xffff), 0x20u);
	/* LMSW memory operand, source 0x800b: type 3, bit 6, data in 31:16, GPR cleared */
	CU_ASSERT_EQUAL(vmx_cr_qual(0, CR_ACCESS_LMSW, 5, true, 0x800b), 0x800b0070ull);
	CU_ASSERT_EQUAL(vmx_cr_qual(0, CR_ACCESS_LMSW, 5, false, 0x0001), 0x00010030ull);
}

static void test_dr_qual(void)
{
	CU_ASSERT_EQUAL(vmx_dr_qual(7, false, 15), 0xf07u);     /* MOV R15 to DR7 */
	CU_ASSERT_EQUAL(vmx_dr_qual(4, true, 2), 0x214u);       /* MOV DR4 to RDX: bit 4 */
}

static void test_dt_info(void)
{
	/* sgdt [rsi + 0x10] (0f 01 46 10): 64-bit, DS, base RSI, identity 0 */
	const uint8_t a[] = { 0x0f, 0x01, 0x46, 0x10 };
	struct insn i = dec(a, sizeof(a), true);
	CU_ASSERT_EQUAL(vmx_dt_info(&i, VMX_DT_SGDT) & ~(1u << 11), 2u << 7 | 3u << 15 | 1u << 22 | 6u << 23);
	/* lidt [eax + ebx*8] in 32-bit code with 66: operand size 16 (bit 11 = 0), identity 3 */
	const uint8_t b[] = { 0x66, 0x0f, 0x01, 0x1c, 0xd8 };
	i = dec(b, sizeof(b), false);
	CU_ASSERT_EQUAL(vmx_dt_info(&i, VMX_DT_LIDT), 3u | 1u << 7 | 3u << 15 | 3u << 18 | 0u << 23 | 3u << 28);
	/* the same without 66: bit 11 = 1 */
	i = dec(b + 1, sizeof(b) - 1, false);
	CU_ASSERT_EQUAL(vmx_dt_info(&i, VMX_DT_LIDT), 3u | 1u << 7 | 1u << 11 | 3u << 15 | 3u << 18 | 3u << 28);
	/* str r9d (41 0f 00 c9): register form, Reg1 = R9, bit 10, identity 1 */
	const uint8_t c[] = { 0x41, 0x0f, 0x00, 0xc9 };
	i = dec(c, sizeof(c), true);
	CU_ASSERT_EQUAL(vmx_dt_info(&i, VMX_DT_STR), 1u << 10 | 9u << 3 | 1u << 28);
	/* ltr [rbp - 4] (0f 00 5d fc): SS, base RBP, identity 3 */
	const uint8_t d[] = { 0x0f, 0x00, 0x5d, 0xfc };
	i = dec(d, sizeof(d), true);
	CU_ASSERT_EQUAL(vmx_dt_info(&i, VMX_DT_LTR), 2u << 7 | 2u << 15 | 1u << 22 | 5u << 23 | 3u << 28);
}

static void test_tsc_adjust(void)
{
	CU_ASSERT_EQUAL(vmx_tsc_adjust(1000, false, 0, 5), 1005u);
	CU_ASSERT_EQUAL(vmx_tsc_adjust(1000, false, 0, (uint64_t)-1000), 0u);     /* signed offset */
	CU_ASSERT_EQUAL(vmx_tsc_adjust(1000, true, 1ull << 48, 0), 1000u);        /* multiplier 1.0 */
	CU_ASSERT_EQUAL(vmx_tsc_adjust(1000, true, 3ull << 47, 1), 1501u);        /* 1.5, then offset */
	/* the product is 128 bits wide: 2^63 * 2^50 >> 48 = 2^65, truncated to 64 bits = 0 */
	CU_ASSERT_EQUAL(vmx_tsc_adjust(1ull << 63, true, 1ull << 50, 7), 7u);
	CU_ASSERT_EQUAL(vmx_tsc_adjust(1ull << 62, true, 3ull << 48, 0), 3ull << 62);
}

void suite_vmx_intercept_cr(void)
{
	CU_pSuite s = CU_add_suite("vmx_intercept_cr", NULL, NULL);
	CU_add_test(s, "Table 27-3 control-register qualification", test_cr_qual);
	CU_add_test(s, "Table 27-4 MOV DR qualification", test_dr_qual);
	CU_add_test(s, "Tables 27-10/27-11 instruction information", test_dt_info);
	CU_add_test(s, "TSC offset and multiplier", test_tsc_adjust);
}
