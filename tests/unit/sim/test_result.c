/* sim/result.c (the run result of --result): the writer and reader agree
 * on a filled result; the reader rejects malformed files naming the line;
 * the collector counts what a small guest did (exception vectors, a
 * triple fault) and stamps COM1 lines with the clock's cycles. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/probe.h"
#include "sim/debug_api.h"
#include "sim/machine.h"
#include "sim/result.h"
#include "tests/unit/test_machine.h"
#include "vmx/vmx.h"

#define CODE 0x100000u
#define GDT 0x4000u
#define IDT 0x5000u
#define H_UD 0x6000u
#define H_BP 0x6010u

/* A temporary file name (removed by the caller). */
static void tmpname(char *buf, size_t n, const char *tag)
{
	snprintf(buf, n, "/tmp/vtxsim-test-result-%ld-%s.txt", (long)getpid(), tag);
}

static void fill(struct run_result *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 3;
	snprintf(r->end, sizeof(r->end), "debug-exit");
	r->cycles = 123456789012ull;
	r->instructions = 42;
	r->triple_faults = 1;
	r->vmx_aborts = 2;
	r->entry_failures = 4;
	r->exits[EXIT_REASON_CPUID] = 7;
	r->exits[EXIT_REASON_EPT_VIOLATION] = UINT64_MAX;
	r->entry_failure_exits[33] = 2;
	r->checks[0] = 1;
	r->checks[ENTRY_CHECK_COUNT - 1] = 5;
	r->vmx_insns[EXIT_REASON_VMXON][RESULT_OK] = 1;
	r->vmx_insns[EXIT_REASON_VMLAUNCH][RESULT_ENTERED] = 9;
	r->vmx_insns[EXIT_REASON_VMLAUNCH][RESULT_FAIL_INVALID] = 1;
	r->vmx_insns[EXIT_REASON_VMWRITE][RESULT_FAIL_VALID] = 5;
	r->vmx_errors[EXIT_REASON_VMWRITE][12] = 3;
	r->vmx_errors[EXIT_REASON_VMWRITE][13] = 2;
	r->vectors[0] = 1;
	r->vectors[31] = 2;
	static uint64_t lines[] = { 10, 20, 20, 99 };
	r->line_cycles = lines;
	r->nlines = 4;
}

static void test_round_trip(void)
{
	char path[128], err[256];
	struct run_result a, b;
	tmpname(path, sizeof(path), "rt");
	fill(&a);
	CU_ASSERT_EQUAL_FATAL(result_write(&a, path, err, sizeof(err)), 0);
	int rc = result_read(&b, path, err, sizeof(err));
	if (rc)
		fprintf(stderr, "%s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(b.status, 3);
	CU_ASSERT_STRING_EQUAL(b.end, "debug-exit");
	CU_ASSERT_EQUAL(b.nlines, 4);
	CU_ASSERT_TRUE(b.nlines == 4 && !memcmp(b.line_cycles, a.line_cycles, sizeof(uint64_t) * 4));
	/* Everything else, field by field through the whole struct. */
	uint64_t *lines = b.line_cycles;
	b.line_cycles = a.line_cycles;
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	b.line_cycles = lines;
	result_free(&b);
	/* The lines the suite reads with grep. */
	FILE *f = fopen(path, "r");
	char text[4096];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "vtxsim-result 1\nstatus 3\nend debug-exit\ncycles 123456789012\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nexit 10 CPUID 7\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nvmx-insn VMXON ok 1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nvmx-insn VMWRITE fail-valid:12 3\nvmx-insn VMWRITE fail-valid:13 2\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nline 4 99\n"));
	unlink(path);
}

/* Read text as a result file: the message, or "" when it was accepted. */
static const char *read_text(const char *text, char *err, size_t errlen, char *path, size_t pathlen)
{
	struct run_result r;
	tmpname(path, pathlen, "bad");
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	err[0] = 0;
	if (result_read(&r, path, err, errlen) == 0)
		result_free(&r);
	unlink(path);
	return err;
}

#define HEAD "vtxsim-result 1\nstatus 1\nend debug-exit\ncycles 5\ninstructions 4\ntriple-faults 0\n" \
	     "vmx-aborts 0\nentry-failures 0\n"

/* The message starts "PATH:LINE: " and holds what. */
static void rejects(const char *text, unsigned line, const char *what)
{
	char err[512], path[128], want[160];
	read_text(text, err, sizeof(err), path, sizeof(path));
	snprintf(want, sizeof(want), "%s:%u: ", path, line);
	CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, what));
	if (strncmp(err, want, strlen(want)) || !strstr(err, what))
		fprintf(stderr, "\n  got '%s', want '%s...%s'\n", err, want, what);
}

static void test_reader_rejects(void)
{
	char err[512], path[128];
	CU_ASSERT_STRING_EQUAL(read_text(HEAD "exit 10 CPUID 1\nvector 6 2\n", err, sizeof(err), path, sizeof(path)), "");
	rejects(HEAD "exit 10 CPUID 1\nexits 12 HLT 1\n", 10, "unknown record 'exits'");
	rejects("vtxsim-result 1\nstatus 1\nend debug-exit\ncycles 12x\n", 4, "'12x' is not a decimal number");
	rejects("vtxsim-result 1\nstatus 1\nend debug-exit\ncycles 99999999999999999999\n", 4, "not a decimal");
	rejects("vtxsim-result 1\nstatus 256\n", 2, "out of range");
	rejects(HEAD "exit 10 HLT 1\n", 9, "exit reason 10 is CPUID, not 'HLT'");
	rejects(HEAD "vmx-insn VMXONN ok 1\n", 9, "'VMXONN' is not an exit-reason name");
	rejects(HEAD "vmx-insn VMXON done 1\n", 9, "unknown outcome 'done'");
	rejects(HEAD "vmx-insn VMWRITE fail-valid:32 1\n", 9, "out of range");
	rejects(HEAD "check NO_SUCH_CHECK 1\n", 9, "unknown VM-entry check 'NO_SUCH_CHECK'");
	rejects("vtxsim-result 2\n", 1, "version 2");
	rejects("vtxsim-result 1\nend debug-exit\n", 2, "'end' where the 'status' record belongs");
	rejects(HEAD "vector 6 1\nexit 10 CPUID 1\n", 10, "'exit' after 'vector' records");
	rejects(HEAD "exit 12 HLT 1\nexit 10 CPUID 1\n", 10, "repeated or out of order");
	rejects(HEAD "line 2 10\n", 9, "line 2 where line 1 belongs");
	rejects(HEAD "vector 32 1\n", 9, "out of range");
	rejects(HEAD "exit 10  CPUID 1\n", 9, "empty field");
	rejects(HEAD "exit 10 CPUID\n", 9, "takes 3 fields");
	rejects("vtxsim-result 1\nstatus 1\nend sideways\n", 3, "unknown end 'sideways'");
	rejects("vtxsim-result 1\nstatus 1\n", 3, "ends where the 'end' record belongs");
	rejects("", 1, "empty");
	struct run_result r;
	CU_ASSERT_EQUAL(result_read(&r, "/nonexistent/vtxsim-result", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/vtxsim-result: cannot open"));
}

/* ---- a small guest ---- */

/* 32-bit: 0: mov dx, 0x3f8; 4: mov al, 'a'; out dx, al; mov al, '\n';
 * out dx, al; 10: ud2 (#UD, the handler skips it); 12: int3 (#BP);
 * 13: mov al, 'b'; out; mov al, '\n'; out; mov al, 0; out 0xf4, al; hlt */
static const uint8_t code[] = { 0x66, 0xba, 0xf8, 0x03, 0xb0, 0x61, 0xee, 0xb0, 0x0a, 0xee, 0x0f, 0x0b, 0xcc,
				0xb0, 0x62, 0xee, 0xb0, 0x0a, 0xee, 0xb0, 0x00, 0xe6, 0xf4, 0xf4 };
static const uint8_t h_ud[] = { 0x83, 0x04, 0x24, 0x02, 0xcf };        /* add dword [esp], 2; iret */
static const uint8_t h_bp[] = { 0xcf };                                  /* iret */
static const uint64_t gdt[] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull };

static uint64_t gate(uint32_t off)
{
	return (off & 0xffff) | (uint64_t)0x08 << 16 | (uint64_t)0x8e << 40 | (uint64_t)(off >> 16) << 48;
}

static struct machine *guest(void)
{
	struct machine *m = test_machine(CODE, code, sizeof(code));
	uint64_t idt[8] = { 0 };
	idt[3] = gate(H_BP);
	idt[6] = gate(H_UD);
	CU_ASSERT_EQUAL_FATAL(phys_copy_in(&m->phys, H_UD, h_ud, sizeof(h_ud)), 0);
	CU_ASSERT_EQUAL_FATAL(phys_copy_in(&m->phys, H_BP, h_bp, sizeof(h_bp)), 0);
	CU_ASSERT_EQUAL_FATAL(phys_copy_in(&m->phys, GDT, gdt, sizeof(gdt)), 0);
	CU_ASSERT_EQUAL_FATAL(phys_copy_in(&m->phys, IDT, idt, sizeof(idt)), 0);
	struct cpu *c = &m->cpus[0];
	c->gdtr = (struct dtable){ GDT, sizeof(gdt) - 1 };
	c->idtr = (struct dtable){ IDT, sizeof(idt) - 1 };
	c->gpr[R_SP] = 0x80000;
	return m;
}

/* A second tap: the cycle of each '\n' written to COM1. */
struct newlines {
	uint64_t cycle[4];
	int n;
};

static void on_newline(void *ctx, struct cpu *c, uint64_t cycle, const struct probe_event *e)
{
	struct newlines *nl = ctx;
	(void)c;
	if (e && e->kind == PROBE_IO && e->write && e->code == 0x3f8 && (e->value & 0xff) == '\n' && nl->n < 4)
		nl->cycle[nl->n++] = cycle;
}

static void run_to_end(struct dbg *d)
{
	struct dbg_stop st;
	do
		dbg_resume(d, &(struct dbg_run){ 0 }, &st);
	while (st.kind != DBG_STOP_END);
}

static void test_collector(void)
{
	struct machine *m = guest();
	struct dbg *d = dbg_create(m);
	struct newlines nl = { 0 };
	CU_ASSERT_EQUAL(dbg_add_tap(d, on_newline, &nl, false), 0);
	struct result_collector *rc = result_attach(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rc);
	run_to_end(d);
	CU_ASSERT_EQUAL(m->exit.result, MACHINE_DEBUG_EXIT);
	struct run_result r;
	result_finish(rc, 1, &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.end, "debug-exit");
	CU_ASSERT_EQUAL(r.instructions, m->cpus[0].instret);
	CU_ASSERT_EQUAL(r.cycles, m->exit.cycle);
	CU_ASSERT_EQUAL(r.vectors[6], 1);
	CU_ASSERT_EQUAL(r.vectors[3], 1);
	uint64_t others = 0;
	for (int v = 0; v < RESULT_VECTORS; v++)
		others += v == 3 || v == 6 ? 0 : r.vectors[v];
	CU_ASSERT_EQUAL(others, 0);
	CU_ASSERT_EQUAL(r.triple_faults, 0);
	/* Two lines, at the cycles the other tap saw their '\n' written. */
	CU_ASSERT_EQUAL_FATAL(nl.n, 2);
	CU_ASSERT_EQUAL_FATAL(r.nlines, 2);
	CU_ASSERT_EQUAL(r.line_cycles[0], nl.cycle[0]);
	CU_ASSERT_EQUAL(r.line_cycles[1], nl.cycle[1]);
	CU_ASSERT_TRUE(0 < r.line_cycles[0] && r.line_cycles[0] < r.line_cycles[1] && r.line_cycles[1] <= r.cycles);
	result_free(&r);
	dbg_remove_tap(d, on_newline, &nl);
	dbg_destroy(d);
	/* The same run without the collector: the same instructions and cycles. */
	uint64_t insns = m->cpus[0].instret, cycles = m->cpus[0].cycles;
	machine_destroy(m);
	m = guest();
	machine_run(m);
	CU_ASSERT_EQUAL(m->cpus[0].instret, insns);
	CU_ASSERT_EQUAL(m->cpus[0].cycles, cycles);
	machine_destroy(m);
}

/* lidt [zero]; int3 with an empty IDT: #GP, #DF, shutdown; and COM1's
 * last line without '\n' ends at the end cycle. */
static void test_triple_fault(void)
{
	static const uint8_t tf[] = { 0x66, 0xba, 0xf8, 0x03, 0xb0, 0x61, 0xee,
				      0x0f, 0x01, 0x1d, 0x00, 0x30, 0x00, 0x00, 0xcc };
	struct machine *m = guest();
	CU_ASSERT_EQUAL(phys_copy_in(&m->phys, CODE, tf, sizeof(tf)), 0);
	struct dbg *d = dbg_create(m);
	struct result_collector *rc = result_attach(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rc);
	run_to_end(d);
	struct run_result r;
	result_finish(rc, 4, &r);
	CU_ASSERT_STRING_EQUAL(r.end, "triple-fault");
	CU_ASSERT_EQUAL(r.triple_faults, 1);
	CU_ASSERT_EQUAL(r.vmx_aborts, 0);
	CU_ASSERT_EQUAL(r.nlines, 1);
	CU_ASSERT_TRUE(r.nlines == 1 && r.line_cycles[0] == r.cycles);
	result_free(&r);
	dbg_destroy(d);
	machine_destroy(m);
}

void suite_sim_result(void)
{
	CU_pSuite s = CU_add_suite("sim_result", NULL, NULL);
	CU_add_test(s, "write and read back", test_round_trip);
	CU_add_test(s, "the reader rejects malformed files", test_reader_rejects);
	CU_add_test(s, "the collector counts vectors and stamps COM1 lines", test_collector);
	CU_add_test(s, "a triple fault and an unfinished line", test_triple_fault);
}
