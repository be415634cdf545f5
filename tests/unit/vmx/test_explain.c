/* vmx/explain.c: every exit reason of EXIT_REASON_TABLE has a row in
 * vmx/explain.def with words and an SDM section, and the qualification
 * decoders read the bits SDM vol. 3C 27.2.1 (Tables 27-2 to 27-7) and
 * 27.2.2 define. */
#include <CUnit/CUnit.h>
#include <ctype.h>
#include <string.h>

#include "vmx/controls.h"
#include "vmx/explain.h"
#include "vmx/vmx.h"

static const uint32_t reasons[] = {
#define X(n, id, text) n,
	EXIT_REASON_TABLE(X)
#undef X
};

/* "25.1.2", "26.7", "28.2.3.2": digits and dots, a dot inside. */
static int section_ok(const char *s)
{
	if (!s || !isdigit((unsigned char)s[0]) || !strchr(s, '.'))
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s) && !(*s == '.' && isdigit((unsigned char)s[1])))
			return 0;
	return 1;
}

static void test_every_reason_has_a_row(void)
{
	unsigned rows = 0;
	for (size_t k = 0; k < sizeof(reasons) / sizeof(reasons[0]); k++) {
		const struct vmx_explain_row *r = vmx_explain_row(reasons[k]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r);
		CU_ASSERT(strlen(r->why) > 10);
		CU_ASSERT(section_ok(r->section));
		rows++;
	}
	/* Numbers that are no exit reason have none. */
	unsigned others = 0;
	for (uint32_t n = 0; n < 100; n++)
		if (vmx_explain_row(n) && !vmx_exit_reason_text(n))
			others++;
	CU_ASSERT_EQUAL(others, 0);
	CU_ASSERT_PTR_NULL(vmx_explain_row(35));
	CU_ASSERT_PTR_NULL(vmx_explain_row(0xffff));
	CU_ASSERT_EQUAL(rows, sizeof(reasons) / sizeof(reasons[0]));
}

/* The rows that say "always exits" are the 25.1.2 list, and only those. */
static void test_unconditional_rows(void)
{
	static const uint32_t always[] = { EXIT_REASON_CPUID, EXIT_REASON_GETSEC, EXIT_REASON_INVD, EXIT_REASON_XSETBV,
					   EXIT_REASON_INVEPT, EXIT_REASON_INVVPID, EXIT_REASON_VMCALL,
					   EXIT_REASON_VMCLEAR, EXIT_REASON_VMLAUNCH, EXIT_REASON_VMPTRLD,
					   EXIT_REASON_VMPTRST, EXIT_REASON_VMRESUME, EXIT_REASON_VMXOFF,
					   EXIT_REASON_VMXON };
	unsigned n = 0;
	for (size_t k = 0; k < sizeof(reasons) / sizeof(reasons[0]); k++)
		if (!strcmp(vmx_explain_row(reasons[k])->section, "25.1.2"))
			n++;
	CU_ASSERT_EQUAL(n, sizeof(always) / sizeof(always[0]));
	for (size_t k = 0; k < sizeof(always) / sizeof(always[0]); k++) {
		const struct vmx_explain_row *r = vmx_explain_row(always[k]);
		CU_ASSERT_STRING_EQUAL(r->section, "25.1.2");
		CU_ASSERT_PTR_NOT_NULL(strstr(r->why, "always exits"));
	}
}

/* The decoded text, in a buffer of the calling test: qual(...) is only
 * valid within the statement that uses it. */
#define qual(reason, q, info) decode((char[256]){ 0 }, 256, reason, q, info)

static const char *decode(char *buf, size_t n, uint32_t reason, uint64_t q, uint32_t info)
{
	vmx_exit_qual_text(reason, q, info, buf, n);
	return buf;
}

static void test_io(void)
{
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_IO_INSTRUCTION, 0x3f80000, 0), "OUT to port 0x3f8, 1 byte, from AL, port in DX");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_IO_INSTRUCTION, 0x710049, 0),
			       "IN from port 0x71, 2 bytes, into AX, port in the instruction");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_IO_INSTRUCTION, 0xffff0003, 0), "OUT to port 0xffff, 4 bytes, from EAX, port in DX");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_IO_INSTRUCTION, 0x1f00039, 0), "INS from port 0x1f0, 2 bytes, REP, port in DX");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_IO_INSTRUCTION, 0x800010, 0), "OUTS to port 0x80, 1 byte, port in DX");
	/* The full exit reason works too (bit 31 and the flags are not the reason). */
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_IO_INSTRUCTION | EXIT_REASON_PENDING_MTF, 0x800010, 0),
			       "OUTS to port 0x80, 1 byte, port in DX");
}

static void test_cr_dr(void)
{
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_CR_ACCESS, 0x300, 0), "MOV to CR0 from RBX");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_CR_ACCESS, 0x113, 0), "MOV from CR3 to RCX");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_CR_ACCESS, 0xf08, 0), "MOV to CR8 from R15");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_CR_ACCESS, 0x20, 0), "CLTS");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_CR_ACCESS, 0x390030, 0), "LMSW with source 0x39 from a register");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_CR_ACCESS, 0x10070, 0), "LMSW with source 0x1 from memory");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_DR_ACCESS, 0x17, 0), "MOV from DR7 to RAX");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_DR_ACCESS, 0x203, 0), "MOV to DR3 from RDX");
}

static void test_ept_violation(void)
{
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_EPT_VIOLATION, 0x581, 0),
			       "read access; the EPT entry allowed ---; at the final guest-physical address");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_EPT_VIOLATION, 0x58a, 0),
			       "write access; the EPT entry allowed r--; at the final guest-physical address");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_EPT_VIOLATION, 0x84 | 0x28, 0),
			       "fetch access; the EPT entry allowed r-x; in a guest paging-structure walk");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_EPT_VIOLATION, 0x1002, 0),
			       "write access; the EPT entry allowed ---; no guest linear address; NMI unblocking due to IRET");
}

static void test_events(void)
{
	/* #PF, hardware exception, error code valid: the qualification is CR2's value. */
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_EXCEPTION_NMI, 0x100000123, 0x80000b0e),
			       "vector 14 #PF (page fault), hardware exception, linear address 0x100000123");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_EXCEPTION_NMI, 0x4001, 0x80000301),
			       "vector 1 #DB (debug), hardware exception, debug conditions B0 BS");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_EXCEPTION_NMI, 0, 0x80000603),
			       "vector 3 #BP (breakpoint), software exception");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_EXCEPTION_NMI, 0, 0x80000202), "NMI (vector 2)");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_EXTERNAL_INTERRUPT, 0, 0x80000020), "vector 32, acknowledged on exit");
	CU_ASSERT_PTR_NOT_NULL(strstr(qual(EXIT_REASON_EXTERNAL_INTERRUPT, 0, 0), "not saved"));
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_TASK_SWITCH, 0x40000028, 0), "to TSS selector 0x28 by IRET");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_TASK_SWITCH, 0xc0000030, 0), "to TSS selector 0x30 by a task gate in the IDT");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_SIPI, 0x9a, 0), "SIPI vector 0x9a (start at 0x9a000)");
}

static void test_other_kinds(void)
{
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_CPUID, 0, 0), "");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_HLT, 0, 0), "");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_INVLPG, 0xffff800000001000, 0), "linear address 0xffff800000001000");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_VMPTRLD, 0x10, 0), "displacement 0x10");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_APIC_ACCESS, 0x1080, 0), "linear data write at offset 0x80");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_APIC_ACCESS, 0xa000, 0), "guest-physical access during event delivery");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_VIRTUALIZED_EOI, 0x41, 0), "vector 65");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_APIC_WRITE, 0x380, 0), "offset 0x380");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_MWAIT, 1, 0), "monitoring hardware armed");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_INVALID_GUEST_STATE | EXIT_REASON_ENTRY_FAILURE, 2, 0), "loading a PDPTE failed");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_INVALID_GUEST_STATE | EXIT_REASON_ENTRY_FAILURE, 0, 0), "");
	CU_ASSERT_STRING_EQUAL(qual(EXIT_REASON_MSR_LOADING | EXIT_REASON_ENTRY_FAILURE, 3, 0),
			       "MSR-load entry 3 (counting from 1)");
	/* A reserved reason decodes nothing; a short buffer stays terminated. */
	CU_ASSERT_STRING_EQUAL(qual(35, 0x1234, 0), "");
	char small[8];
	vmx_exit_qual_text(EXIT_REASON_IO_INSTRUCTION, 0x3f80000, 0, small, sizeof(small));
	CU_ASSERT_STRING_EQUAL(small, "OUT to ");
}

void suite_vmx_explain(void)
{
	CU_pSuite s = CU_add_suite("vmx_explain", NULL, NULL);
	CU_add_test(s, "a row per exit reason, with an SDM section", test_every_reason_has_a_row);
	CU_add_test(s, "the 25.1.2 rows are the unconditional instructions", test_unconditional_rows);
	CU_add_test(s, "I/O qualification (Table 27-5)", test_io);
	CU_add_test(s, "CR and MOV DR qualifications (Tables 27-3, 27-4)", test_cr_dr);
	CU_add_test(s, "EPT-violation qualification (Table 27-7)", test_ept_violation);
	CU_add_test(s, "exceptions, interrupts, task switches, SIPI (27.2.1, 27.2.2)", test_events);
	CU_add_test(s, "other qualifications", test_other_kinds);
}
