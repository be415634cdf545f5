/* vmx/misuse.c: the "software must not" rules of vmx/misuse.def on two
 * CPUs sharing one physical map (SDM vol. 3C 24.1, 24.11). Each case checks
 * both what the guest sees (RFLAGS, VM-instruction error, memory) and the
 * warning text: which CPUs, which rule, which SDM section; and the per-rule
 * budget that keeps cpu_warn's global limit from hiding these warnings. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "cpu/model.h"
#include "cpu/msr.h"
#include "tests/unit/cpu/sysenv.h"
#include "vmx/controls.h"
#include "vmx/insn.h"
#include "vmx/misuse.h"
#include "vmx/vmcs.h"

#define REV 0x12u
#define VMXON_A 0x100000u
#define VMXON_B 0x105000u
#define VMCS_X 0x102000u
#define VMCS_Y 0x103000u
#define PTR_AT 0x9000u          /* [rax] */
#define MAX_LINES 16

static struct cpu_model fake;

struct lines {
	int n;
	char text[MAX_LINES][512];
};

static void collect(void *ctx, const char *msg)
{
	struct lines *l = ctx;
	if (l->n < MAX_LINES)
		snprintf(l->text[l->n], sizeof(l->text[0]), "%s", msg);
	l->n++;
}

static const char *last(const struct lines *l)
{
	return l->n ? l->text[(l->n > MAX_LINES ? MAX_LINES : l->n) - 1] : "";
}

struct two {
	struct harness *h;
	struct cpu *a, *b;
	struct lines wa, wb;
};

/* CPU a (id 0) is the harness CPU, ready for VMXON; CPU b (id 1) is a copy
 * of it in the same state, on the same physical map and decode cache. */
static struct two *two_cpus(void)
{
	struct two *t = calloc(1, sizeof(*t));
	fake = *cpu_model_default();
	fake.vmx = (struct vmx_model){
		.revision = REV,
		.proc_allowed1 = PROC_SECONDARY_CTLS | PROC_MSR_BITMAPS | PROC_IO_BITMAPS,
		.proc2_allowed1 = PROC2_VPID,
		.entry_allowed1 = ENTRY_IA32E_GUEST,
		.exit_allowed1 = EXIT_HOST_ADDR_SPACE,
	};
	t->h = sysenv_long();
	t->a = &t->h->cpu;
	t->a->model = &fake;
	t->a->cr0 |= CR0_NE;
	t->a->cr4 |= CR4_VMXE;
	t->a->msr.feature_control = FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX;
	t->a->gpr[R_AX] = PTR_AT;
	cpu_mode_changed(t->a);
	t->b = malloc(sizeof(*t->b));
	*t->b = *t->a;
	t->b->id = 1;
	tlb_flush_all(&t->b->tlb);
	icache_attach_cpu(t->h->ic, t->b);
	t->a->warn = collect;
	t->a->warn_ctx = &t->wa;
	t->b->warn = collect;
	t->b->warn_ctx = &t->wb;
	put32(t->h, VMXON_A, REV);
	put32(t->h, VMXON_B, REV);
	put32(t->h, VMCS_X, REV);
	put32(t->h, VMCS_Y, REV);
	return t;
}

static void two_destroy(struct two *t)
{
	harness_destroy(t->h);
	free(t->b);
	free(t);
}

static const uint8_t VMXON[] = { 0xf3, 0x0f, 0xc7, 0x30 };      /* vmxon [rax] */
static const uint8_t VMCLEAR[] = { 0x66, 0x0f, 0xc7, 0x30 };    /* vmclear [rax] */
static const uint8_t VMPTRLD[] = { 0x0f, 0xc7, 0x30 };          /* vmptrld [rax] */
static const uint8_t VMXOFF[] = { 0x0f, 0x01, 0xc4 };

/* 0 = VMsucceed, 1 = VMfailInvalid, 2 = VMfailValid, -1 other (30.2). */
static int run(struct two *t, struct cpu *c, const uint8_t *code, unsigned n, uint64_t ptr)
{
	put64(t->h, PTR_AT, ptr);
	cpu_set_rflags(c, cpu_get_rflags(c) | FL_ARITH);
	if (exec_insn(c, code, n) != EXEC_OK)
		return -2;
	uint64_t f = cpu_get_rflags(c) & FL_ARITH;
	return f == 0 ? 0 : f == FL_CF ? 1 : f == FL_ZF ? 2 : -1;
}
#define RUN(t, c, code, ptr) run((t), (c), (code), sizeof(code), (ptr))

static bool has(const char *s, const char *sub)
{
	return strstr(s, sub) != NULL;
}

/* Both CPUs in VMX operation, X current and active on a. */
static struct two *both_on_x_on_a(void)
{
	struct two *t = two_cpus();
	CU_ASSERT_EQUAL(RUN(t, t->a, VMXON, VMXON_A), 0);
	CU_ASSERT_EQUAL(RUN(t, t->b, VMXON, VMXON_B), 0);
	CU_ASSERT_EQUAL(RUN(t, t->a, VMCLEAR, VMCS_X), 0);
	CU_ASSERT_EQUAL(RUN(t, t->a, VMPTRLD, VMCS_X), 0);
	CU_ASSERT_EQUAL(t->wa.n + t->wb.n, 0);
	return t;
}

static void test_vmptrld_active_elsewhere(void)
{
	struct two *t = both_on_x_on_a();
	/* B loads it all the same (a real processor cannot tell). */
	CU_ASSERT_EQUAL(RUN(t, t->b, VMPTRLD, VMCS_X), 0);
	CU_ASSERT_EQUAL(t->b->vmx.vmcs_ptr, VMCS_X);
	CU_ASSERT_EQUAL(t->wa.n, 0);
	CU_ASSERT_EQUAL(t->wb.n, 1);
	CU_ASSERT(has(last(&t->wb), "VMPTRLD on cpu1 of the VMCS at 0x102000, which is active on cpu0"));
	CU_ASSERT(has(last(&t->wb), "SDM 24.1, 24.11.1"));
	CU_ASSERT(has(last(&t->wb), "[vmx misuse VMCS_ACTIVE_ON_TWO_CPUS]"));
	CU_ASSERT_EQUAL(t->b->vmx.misuse[VMX_MISUSE_VMCS_ACTIVE_ON_TWO_CPUS], 1);
	/* A second VMPTRLD of a VMCS already active on B: nothing new. */
	CU_ASSERT_EQUAL(RUN(t, t->b, VMPTRLD, VMCS_X), 0);
	CU_ASSERT_EQUAL(t->wb.n, 1);
	/* After VMCLEAR on B, then A, B may load it silently. */
	CU_ASSERT_EQUAL(RUN(t, t->b, VMCLEAR, VMCS_X), 0);
	CU_ASSERT_EQUAL(t->wb.n, 2);    /* still active on A when B clears it */
	CU_ASSERT(has(last(&t->wb), "VMCLEAR on cpu1 of the VMCS at 0x102000, which stays active on cpu0"));
	CU_ASSERT_EQUAL(RUN(t, t->a, VMCLEAR, VMCS_X), 0);
	CU_ASSERT_EQUAL(RUN(t, t->b, VMPTRLD, VMCS_X), 0);
	CU_ASSERT_EQUAL(t->wa.n + t->wb.n, 2);
	two_destroy(t);
}

static void test_vmclear_active_elsewhere(void)
{
	struct two *t = both_on_x_on_a();
	vmx_set_current_launched(t->a, true);
	CU_ASSERT_EQUAL(RUN(t, t->b, VMCLEAR, VMCS_X), 0);
	/* The region says "clear"; A keeps the VMCS active and launched. */
	CU_ASSERT_EQUAL(get32(t->h, VMCS_X + VMCS_OFF_LAUNCH), VMCS_LAUNCH_CLEAR);
	CU_ASSERT_PTR_NOT_NULL(vmx_active_find(t->a, VMCS_X));
	CU_ASSERT_TRUE(vmx_current_launched(t->a));
	CU_ASSERT_EQUAL(t->b->vmx.vmcs_ptr, VMCS_PTR_NONE);
	/* One warning, on B, naming the rule; not a "guest wrote" one on A. */
	CU_ASSERT_EQUAL(t->wa.n, 0);
	CU_ASSERT_EQUAL(t->wb.n, 1);
	CU_ASSERT(has(last(&t->wb), "VMCLEAR on cpu1 of the VMCS at 0x102000, which stays active on cpu0"));
	CU_ASSERT(has(last(&t->wb), "[vmx misuse VMCLEAR_ACTIVE_ELSEWHERE]"));
	CU_ASSERT_EQUAL(t->a->vmx.misuse[VMX_MISUSE_VMCS_MEMORY_WRITE], 0);
	two_destroy(t);
}

static void test_vmxon_region_as_vmcs(void)
{
	struct two *t = both_on_x_on_a();
	CU_ASSERT_EQUAL(RUN(t, t->b, VMCLEAR, VMCS_Y), 0);
	CU_ASSERT_EQUAL(RUN(t, t->b, VMPTRLD, VMCS_Y), 0);
	/* B's own VMXON pointer: VMfailValid(10), no warning (30.3 VMPTRLD). */
	CU_ASSERT_EQUAL(RUN(t, t->b, VMPTRLD, VMXON_B), 2);
	CU_ASSERT_EQUAL(vmcs_read(t->b, VF_VM_INSTRUCTION_ERROR), VMERR_VMPTRLD_VMXON_PTR);
	CU_ASSERT_EQUAL(t->wb.n, 0);
	/* A's VMXON pointer: a real B takes it (its revision is right). */
	CU_ASSERT_EQUAL(RUN(t, t->b, VMPTRLD, VMXON_A), 0);
	CU_ASSERT_EQUAL(t->b->vmx.vmcs_ptr, VMXON_A);
	CU_ASSERT_EQUAL(t->wb.n, 2);
	CU_ASSERT(has(t->wb.text[0], "VMPTRLD on cpu1 of the region at 0x100000, the VMXON region of cpu0"));
	CU_ASSERT(has(t->wb.text[0], "SDM 24.11.5"));
	CU_ASSERT(has(t->wb.text[0], "[vmx misuse VMXON_REGION_AS_VMCS]"));
	/* and a VMXON region was never VMCLEARed (24.11.3) */
	CU_ASSERT(has(t->wb.text[1], "[vmx misuse VMPTRLD_UNCLEARED]"));
	/* VMCLEAR of it on B: active on B, but still A's VMXON region. */
	CU_ASSERT_EQUAL(RUN(t, t->b, VMCLEAR, VMXON_A), 0);
	CU_ASSERT_EQUAL(t->wb.n, 3);
	CU_ASSERT(has(last(&t->wb), "VMCLEAR on cpu1 of the region at 0x100000, the VMXON region of cpu0"));
	CU_ASSERT_EQUAL(t->wa.n, 0);    /* no "guest wrote ... VMXON region" on A */
	/* A's own VMCLEAR of its VMXON pointer stays error 3. */
	CU_ASSERT_EQUAL(RUN(t, t->a, VMCLEAR, VMXON_A), 2);
	CU_ASSERT_EQUAL(vmcs_read(t->a, VF_VM_INSTRUCTION_ERROR), VMERR_VMCLEAR_VMXON_PTR);
	two_destroy(t);
}

static void test_vmxon_region_shared(void)
{
	struct two *t = two_cpus();
	CU_ASSERT_EQUAL(RUN(t, t->a, VMXON, VMXON_A), 0);
	CU_ASSERT_EQUAL(RUN(t, t->b, VMXON, VMXON_A), 0);
	CU_ASSERT_TRUE(t->b->vmx.on);
	CU_ASSERT_EQUAL(t->wb.n, 1);
	CU_ASSERT(has(last(&t->wb), "VMXON on cpu1 with the region at 0x100000, the VMXON region of cpu0"));
	CU_ASSERT(has(last(&t->wb), "[vmx misuse VMXON_REGION_SHARED]"));
	CU_ASSERT_EQUAL(RUN(t, t->b, VMXOFF, 0), 0);
	CU_ASSERT_EQUAL(RUN(t, t->a, VMCLEAR, VMCS_X), 0);
	CU_ASSERT_EQUAL(RUN(t, t->a, VMPTRLD, VMCS_X), 0);
	CU_ASSERT_EQUAL(RUN(t, t->b, VMXON, VMCS_X), 0);
	CU_ASSERT_EQUAL(t->wb.n, 2);
	CU_ASSERT(has(last(&t->wb), "VMXON on cpu1 with the region at 0x102000, a VMCS active on cpu0"));
	CU_ASSERT_EQUAL(RUN(t, t->b, VMXOFF, 0), 0);
	/* A's watch on its VMXON region survives B's VMXOFF of the same page. */
	CU_ASSERT_EQUAL(RUN(t, t->b, VMXON, VMXON_B), 0);
	CU_ASSERT_EQUAL(t->wb.n, 2);
	two_destroy(t);
}

/* mov rax, pa; mov dword [rax], 1; hlt: an ordinary store by CPU c. */
static void store(struct two *t, struct cpu *c, uint64_t pa)
{
	uint8_t code[] = { 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xc7, 0x00, 1, 0, 0, 0, 0xf4 };
	memcpy(code + 2, &pa, 8);
	phys_copy_in(&t->h->pm, 0x40000 + 0x100 * (uint64_t)c->id, code, sizeof(code));
	c->rip = 0x40000 + 0x100 * (uint64_t)c->id;
	c->halted = false;
	cpu_run(c, c->cycles + 100000);
}

/* Item 4 of the task: per-rule budgets, independent of CPU_WARN_MAX. */
static void test_budget_per_rule(void)
{
	struct two *t = both_on_x_on_a();
	t->a->warnings = CPU_WARN_MAX;  /* cpu_warn's global budget already spent */
	for (int k = 0; k < VMX_MISUSE_BUDGET + 2; k++)
		store(t, t->a, VMCS_X + 0x100);
	CU_ASSERT_EQUAL(t->a->vmx.misuse[VMX_MISUSE_VMCS_MEMORY_WRITE], VMX_MISUSE_BUDGET + 2);
	CU_ASSERT_EQUAL(t->wa.n, VMX_MISUSE_BUDGET);
	CU_ASSERT(has(t->wa.text[0], "guest wrote 4 bytes at 0x102100 inside the VMCS at 0x102000 active on cpu0"));
	CU_ASSERT(!has(t->wa.text[0], "further repeats"));
	CU_ASSERT(has(last(&t->wa), "[further repeats are not shown]"));
	/* Another rule still speaks. */
	CU_ASSERT_EQUAL(RUN(t, t->a, VMXOFF, 0), 0);
	CU_ASSERT_EQUAL(t->wa.n, VMX_MISUSE_BUDGET + 1);
	CU_ASSERT(has(last(&t->wa), "VMXOFF on cpu0 with the VMCS at 0x102000 still active"));
	CU_ASSERT(has(last(&t->wa), "[vmx misuse VMXOFF_WITH_ACTIVE_VMCS]"));
	/* A store by A into a VMCS active on B warns on B, the owner. */
	CU_ASSERT_EQUAL(RUN(t, t->b, VMCLEAR, VMCS_Y), 0);
	CU_ASSERT_EQUAL(RUN(t, t->b, VMPTRLD, VMCS_Y), 0);
	store(t, t->a, VMCS_Y);
	CU_ASSERT_EQUAL(t->b->vmx.misuse[VMX_MISUSE_VMCS_MEMORY_WRITE], 1);
	CU_ASSERT(has(last(&t->wb), "inside the VMCS at 0x103000 active on cpu1"));
	two_destroy(t);
}

/* 24.11.4: structures the current VMCS points to, at VM entry. */
static void test_related_structure_overlap(void)
{
	struct two *t = both_on_x_on_a();
	struct cpu *a = t->a;
	vmcs_write(a, VF_PROC_CONTROLS, PROC_MSR_BITMAPS | PROC_IO_BITMAPS);
	vmcs_write(a, VF_MSR_BITMAP, 0x200000);
	vmcs_write(a, VF_IO_BITMAP_A, 0x201000);
	vmcs_write(a, VF_IO_BITMAP_B, 0x202000);
	vmx_misuse_entry(a);
	CU_ASSERT_EQUAL(t->wa.n, 0);
	vmcs_write(a, VF_MSR_BITMAP, VMCS_X);           /* the current VMCS itself */
	vmx_misuse_entry(a);
	CU_ASSERT_EQUAL(t->wa.n, 1);
	CU_ASSERT(has(last(&t->wa), "the MSR bitmaps at 0x102000 (4096 bytes) overlaps the VMCS at 0x102000 of cpu0"));
	CU_ASSERT(has(last(&t->wa), "[vmx misuse RELATED_STRUCTURE_OVERLAP]"));
	vmcs_write(a, VF_MSR_BITMAP, 0x200000);
	/* An MSR-store area whose tail reaches B's VMXON region. */
	vmcs_write(a, VF_EXIT_MSR_STORE_ADDR, VMXON_B - 32);
	vmcs_write(a, VF_EXIT_MSR_STORE_COUNT, 2);
	vmx_misuse_entry(a);
	CU_ASSERT_EQUAL(t->wa.n, 1);
	vmcs_write(a, VF_EXIT_MSR_STORE_COUNT, 3);
	vmx_misuse_entry(a);
	CU_ASSERT_EQUAL(t->wa.n, 2);
	CU_ASSERT(has(last(&t->wa), "the VM-exit MSR-store area at 0x104fe0 (48 bytes) overlaps the VMXON region "
			   "at 0x105000 of cpu1"));
	/* Not in use: a control at 0 ignores its address. */
	vmcs_write(a, VF_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(a, VF_PROC_CONTROLS, PROC_IO_BITMAPS);
	vmcs_write(a, VF_MSR_BITMAP, VMCS_X);
	vmx_misuse_entry(a);
	CU_ASSERT_EQUAL(t->wa.n, 2);
	two_destroy(t);
}

/* 24.10, 24.11.1: at VM entry with VMCS shadowing, the shadow VMCS (Y)
 * must not be active here or on another CPU. */
static void test_shadow_vmcs_active(void)
{
	struct two *t = both_on_x_on_a();
	struct cpu *a = t->a;
	fake.vmx.proc2_allowed1 |= PROC2_VMCS_SHADOWING;
	put32(t->h, VMCS_Y, REV | VMCS_SHADOW_INDICATOR);
	vmcs_write(a, VF_PROC_CONTROLS, PROC_SECONDARY_CTLS);
	vmcs_write(a, VF_PROC2_CONTROLS, PROC2_VMCS_SHADOWING);
	vmcs_write(a, VF_VMREAD_BITMAP, 0x200000);
	vmcs_write(a, VF_VMWRITE_BITMAP, 0x201000);
	vmcs_write(a, VF_VMCS_LINK_PTR, VMCS_Y);
	vmx_misuse_entry(a);
	CU_ASSERT_EQUAL(t->wa.n, 0);                    /* Y is active nowhere */
	CU_ASSERT_EQUAL(RUN(t, t->b, VMCLEAR, VMCS_Y), 0);
	CU_ASSERT_EQUAL(RUN(t, t->b, VMPTRLD, VMCS_Y), 0);
	vmx_misuse_entry(a);
	CU_ASSERT_EQUAL(t->wa.n, 1);
	CU_ASSERT(has(last(&t->wa), "VM entry on cpu0 with the shadow VMCS at 0x103000, which is active on cpu1"));
	CU_ASSERT(has(last(&t->wa), "SDM 24.10, 24.11.1"));
	CU_ASSERT(has(last(&t->wa), "[vmx misuse SHADOW_VMCS_ACTIVE]"));
	CU_ASSERT_EQUAL(RUN(t, t->b, VMCLEAR, VMCS_Y), 0);
	/* Active on this CPU: VMPTRLD Y, back to X without VMCLEAR. */
	CU_ASSERT_EQUAL(RUN(t, a, VMPTRLD, VMCS_Y), 0);
	CU_ASSERT_EQUAL(RUN(t, a, VMPTRLD, VMCS_X), 0);
	vmx_misuse_entry(a);
	CU_ASSERT_EQUAL(t->wa.n, 2);
	CU_ASSERT(has(last(&t->wa), "with the shadow VMCS at 0x103000 still active on cpu0"));
	CU_ASSERT_EQUAL(RUN(t, a, VMCLEAR, VMCS_Y), 0);
	CU_ASSERT_EQUAL(RUN(t, a, VMPTRLD, VMCS_X), 0);
	vmx_misuse_entry(a);
	CU_ASSERT_EQUAL(t->wa.n, 2);
	/* "VMCS shadowing" 0: the link pointer is no shadow, nothing to say. */
	CU_ASSERT_EQUAL(RUN(t, a, VMPTRLD, VMCS_Y), 0);
	CU_ASSERT_EQUAL(RUN(t, a, VMPTRLD, VMCS_X), 0);
	vmcs_write(a, VF_PROC2_CONTROLS, 0);
	vmx_misuse_entry(a);
	CU_ASSERT_EQUAL(t->wa.n, 2);
	two_destroy(t);
}

/* The table itself: ids unique, every row has a section and a rule. */
static void test_rule_table(void)
{
	for (int i = 0; i < VMX_MISUSE_COUNT; i++) {
		CU_ASSERT(vmx_misuse_rules[i].id && vmx_misuse_rules[i].section[0] && vmx_misuse_rules[i].rule[0]);
		for (int j = 0; j < i; j++)
			CU_ASSERT(strcmp(vmx_misuse_rules[i].id, vmx_misuse_rules[j].id) != 0);
	}
}

void suite_vmx_misuse(void)
{
	CU_pSuite s = CU_add_suite("vmx_misuse", NULL, NULL);
	CU_add_test(s, "VMPTRLD of a VMCS active on another CPU (24.1)", test_vmptrld_active_elsewhere);
	CU_add_test(s, "VMCLEAR of a VMCS active on another CPU (24.11.1)", test_vmclear_active_elsewhere);
	CU_add_test(s, "another CPU's VMXON region as a VMCS (24.11.5)", test_vmxon_region_as_vmcs);
	CU_add_test(s, "VMXON with a region in use elsewhere (24.11.5)", test_vmxon_region_shared);
	CU_add_test(s, "per-rule warning budget", test_budget_per_rule);
	CU_add_test(s, "related structures overlapping VMX regions (24.11.4)", test_related_structure_overlap);
	CU_add_test(s, "shadow VMCS still active at VM entry (24.10, 24.11.1)", test_shadow_vmcs_active);
	CU_add_test(s, "rule table", test_rule_table);
}
