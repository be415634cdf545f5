/* vmx/entry.c, entry_load.c, exit.c: VMLAUNCH/VMRESUME through the
 * executor on a unit-test CPU with a VMX model, a 64-bit host and a 64-bit
 * guest sharing the sysenv GDT/IDT/TSS and page tables. The guest leaves
 * through CPUID (exit reason 10, unconditional in non-root operation). */
#include <CUnit/CUnit.h>
#include <string.h>

#include "tests/unit/vmx/vmx_env.h"

/* Launch: the guest runs (RAX), exits on CPUID with reason 10, the exit
 * saves its state and the host resumes at HOST_RIP with RFLAGS = 2. */
static void test_launch_and_exit(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	run(v, vmlaunch);
	CU_ASSERT_FALSE(c->vmx.nonroot);
	CU_ASSERT_EQUAL(c->rip, HOST_CODE + 1);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x1234);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_REASON), EXIT_REASON_CPUID);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_QUALIFICATION), 0);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_INSTRUCTION_LEN), 2);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_INTR_INFO), 0);
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_RIP), GUEST_CODE + 5);
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_RSP), GUEST_STACK);
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_RFLAGS), FL_FIXED1);
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_FS_BASE), 0x7000);
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_FS_AR) & AR_UNUSABLE, AR_UNUSABLE);
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_CS_AR), 0xa09b);
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_IA32_SYSENTER_CS), 0x99);
	CU_ASSERT_EQUAL(c->gpr[R_SP], HOST_STACK);
	CU_ASSERT_EQUAL(cpu_get_rflags(c), FL_FIXED1);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, K_CS);
	CU_ASSERT_EQUAL(c->seg[SEG_FS].ar & AR_UNUSABLE, AR_UNUSABLE);  /* host FS selector 0 */
	CU_ASSERT_EQUAL(c->gdtr.limit, 0xffff);
	CU_ASSERT_EQUAL(c->dr[7], 0x400);
	CU_ASSERT_EQUAL(c->ldtr.ar & AR_UNUSABLE, AR_UNUSABLE);
	CU_ASSERT_TRUE(c->code64);
	CU_ASSERT_TRUE(vmx_current_launched(c));
	env_destroy(v);
}

/* VMRESUME after advancing GUEST_RIP past the CPUID: the guest goes on. */
static void test_resume(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	run(v, vmlaunch);
	vmcs_write(c, VF_GUEST_RIP, rd(v, VF_GUEST_RIP) + rd(v, VF_EXIT_INSTRUCTION_LEN));
	run(v, vmresume);
	CU_ASSERT_EQUAL(c->gpr[R_BX], 0x5678);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_REASON), EXIT_REASON_CPUID);
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_RIP), GUEST_CODE + 12);
	CU_ASSERT_EQUAL(c->rip, HOST_CODE + 1);
	env_destroy(v);
}

static void assert_vmfail_valid(struct vmx_env *v, unsigned err, int check)
{
	struct cpu *c = &v->h->cpu;
	CU_ASSERT_EQUAL(cpu_get_rflags(c) & FL_ARITH, FL_ZF);
	CU_ASSERT_EQUAL(rd(v, VF_VM_INSTRUCTION_ERROR), err);
	CU_ASSERT_EQUAL(c->vmx.verdict.check, check);
	CU_ASSERT_EQUAL(c->rip, CODE_BASE + 4);         /* fell through to the HLT */
	CU_ASSERT_FALSE(c->vmx.nonroot);
}

/* 26.1: VMLAUNCH of a launched VMCS is error 4, VMRESUME of a clear one 5,
 * and VM entry right after MOV SS is error 26. */
static void test_vmfail_basic(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	run(v, vmresume);
	assert_vmfail_valid(v, VMERR_VMRESUME_NOT_LAUNCHED, ENTRY_CHECK_BASIC_RESUME_LAUNCHED);
	run(v, vmlaunch);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_REASON), EXIT_REASON_CPUID);
	run(v, vmlaunch);
	assert_vmfail_valid(v, VMERR_VMLAUNCH_NOT_CLEAR, ENTRY_CHECK_BASIC_LAUNCH_CLEAR);
	c->mov_ss_shadow = true;
	run(v, vmresume);
	assert_vmfail_valid(v, VMERR_ENTRY_MOV_SS_BLOCKING, ENTRY_CHECK_BASIC_MOV_SS_BLOCKING);
	CU_ASSERT_FALSE(c->mov_ss_shadow);
	/* Launched, then VMXOFF/VMXON/VMPTRLD without VMCLEAR: error 6. */
	for (unsigned k = 0; k < c->vmx.nactive; k++)
		if (c->vmx.active[k].pa == c->vmx.vmcs_ptr)
			c->vmx.active[k].after_vmxoff = true;
	run(v, vmresume);
	assert_vmfail_valid(v, VMERR_VMRESUME_AFTER_VMXOFF, ENTRY_CHECK_BASIC_RESUME_AFTER_VMXOFF);
	env_destroy(v);
}

/* No current VMCS: VMfailInvalid (CF only). */
static void test_vmfail_invalid(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	c->vmx.vmcs_ptr = VMCS_PTR_NONE;
	run(v, vmlaunch);
	CU_ASSERT_EQUAL(cpu_get_rflags(c) & FL_ARITH, FL_CF);
	CU_ASSERT_EQUAL(c->vmx.verdict.check, ENTRY_CHECK_BASIC_CURRENT_VMCS);
	env_destroy(v);
}

/* #UD outside VMX operation comes before #GP at CPL 3 (30.3). */
static void test_faults(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	c->cpl = 3;
	CU_ASSERT_EQUAL(exec_insn(c, vmlaunch, 3), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(c->vmx.verdict.check, ENTRY_CHECK_BASIC_CPL);
	c->vmx.on = false;
	CU_ASSERT_EQUAL(exec_insn(c, vmlaunch, 3), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_UD);
	CU_ASSERT_EQUAL(c->vmx.verdict.check, ENTRY_CHECK_BASIC_VMX_OPERATION);
	env_destroy(v);
}

/* 26.4: the second MSR-load entry names an MSR WRMSR refuses: exit 34 with
 * qualification 2, the first entry was loaded, the VMCS stays clear. */
static void test_msr_load_failure(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	put64(v->h, MSR_AREA, MSR_IA32_SYSENTER_EIP);
	put64(v->h, MSR_AREA + 8, 0x1234000);
	put64(v->h, MSR_AREA + 16, 0xdeadbeef);
	put64(v->h, MSR_AREA + 24, 1);
	vmcs_write(c, VF_ENTRY_MSR_LOAD_ADDR, MSR_AREA);
	vmcs_write(c, VF_ENTRY_MSR_LOAD_COUNT, 2);
	vmcs_write(c, VF_HOST_IA32_SYSENTER_EIP, 0x5000);
	run(v, vmlaunch);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_REASON), EXIT_REASON_MSR_LOADING | EXIT_REASON_ENTRY_FAILURE);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_QUALIFICATION), 2);
	CU_ASSERT_EQUAL(c->vmx.verdict.check, ENTRY_CHECK_MSRLOAD_WRMSR_GP);
	CU_ASSERT_EQUAL(c->vmx.verdict.index, 2);
	CU_ASSERT_EQUAL(c->rip, HOST_CODE + 1);
	CU_ASSERT_EQUAL(c->msr.sysenter_eip, 0x5000);   /* host state loaded over it */
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_RIP), GUEST_CODE); /* guest area untouched */
	CU_ASSERT_FALSE(vmx_current_launched(c));
	CU_ASSERT_FALSE(c->vmx.nonroot);
	/* Fixed: the entry succeeds and the first entry's value is the guest's. */
	vmcs_write(c, VF_ENTRY_MSR_LOAD_COUNT, 1);
	run(v, vmlaunch);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_REASON), EXIT_REASON_CPUID);
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_IA32_SYSENTER_EIP), 0x1234000);
	env_destroy(v);
}

/* 26.3.1.6 / 26.7: a 32-bit PAE guest whose PDPTE has reserved bits set:
 * exit 33 with qualification 2, host state loaded. */
static void test_pdpte_failure(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	put64(v->h, 0x9000, 0x0a000 | 1 | 6);   /* P with reserved bits 2:1 */
	vmcs_write(c, VF_ENTRY_CONTROLS, ENTRY_BASE & ~ENTRY_IA32E_GUEST);
	vmcs_write(c, VF_GUEST_CR3, 0x9000);
	vmcs_write(c, VF_GUEST_CS_AR, 0xc09b);
	run(v, vmlaunch);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_REASON), EXIT_REASON_INVALID_GUEST_STATE | EXIT_REASON_ENTRY_FAILURE);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_QUALIFICATION), 2);
	CU_ASSERT_EQUAL(c->rip, HOST_CODE + 1);
	CU_ASSERT_TRUE(c->code64);
	CU_ASSERT_FALSE(c->vmx.nonroot);
	env_destroy(v);
}

/* Inject an event whose guest handler does CPUID: the exit shows the
 * guest at the handler, with the frame the injection pushed. */
static void inject(struct vmx_env *v, uint32_t info, uint32_t err, uint32_t len)
{
	struct cpu *c = &v->h->cpu;
	unsigned vec = info & 0xff;
	idt_put64(v->h, vec, GUEST_HANDLER, SYS_INT_GATE, 0, 0);
	put_code(v->h, GUEST_HANDLER, (const uint8_t[]){ 0x0f, 0xa2 }, 2);
	vmcs_write(c, VF_ENTRY_INTR_INFO, info | INTR_INFO_VALID);
	vmcs_write(c, VF_ENTRY_EXCEPTION_ERROR_CODE, err);
	vmcs_write(c, VF_ENTRY_INSTRUCTION_LEN, len);
	run(v, vmlaunch);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_REASON), EXIT_REASON_CPUID);
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_RIP), GUEST_HANDLER);
	CU_ASSERT_EQUAL(rd(v, VF_ENTRY_INTR_INFO) & INTR_INFO_VALID, 0);  /* cleared by the exit */
}

static void test_inject_exception(void)
{
	struct vmx_env *v = env_create();
	inject(v, VEC_GP | INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT | INTR_INFO_HAS_ERROR, 0x1234, 0);
	uint64_t rsp = rd(v, VF_GUEST_RSP);
	CU_ASSERT_EQUAL(rsp, GUEST_STACK - 48);         /* error code + 5 qwords */
	CU_ASSERT_EQUAL(get64(v->h, rsp), 0x1234);
	CU_ASSERT_EQUAL(get64(v->h, rsp + 8), GUEST_CODE);
	CU_ASSERT_EQUAL(get64(v->h, rsp + 16), K_CS);
	env_destroy(v);
}

static void test_inject_external_interrupt(void)
{
	struct vmx_env *v = env_create();
	/* 26.2.1.3: an external interrupt is injected only with RFLAGS.IF = 1. */
	vmcs_write(&v->h->cpu, VF_GUEST_RFLAGS, rd(v, VF_GUEST_RFLAGS) | FL_IF);
	inject(v, 0x40 | INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT, 0, 0);
	uint64_t rsp = rd(v, VF_GUEST_RSP);
	CU_ASSERT_EQUAL(rsp, GUEST_STACK - 40);
	CU_ASSERT_EQUAL(get64(v->h, rsp), GUEST_CODE);
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_RFLAGS) & FL_IF, 0);     /* interrupt gate */
	env_destroy(v);
}

/* A software interrupt returns past the instruction: RIP + entry length. */
static void test_inject_software_interrupt(void)
{
	struct vmx_env *v = env_create();
	inject(v, 0x41 | INTR_TYPE_SW_INTR << INTR_INFO_TYPE_SHIFT, 0, 2);
	CU_ASSERT_EQUAL(get64(v->h, rd(v, VF_GUEST_RSP)), GUEST_CODE + 2);
	env_destroy(v);
}

/* Activity state HLT: the guest sleeps in non-root operation; the
 * interruptibility state comes from the field. */
static void test_activity_hlt(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	vmcs_write(c, VF_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	vmcs_write(c, VF_GUEST_INTERRUPTIBILITY, INTR_BLOCK_NMI);
	CU_ASSERT_EQUAL(harness_run(v->h, vmlaunch, 4), CPU_STOP_HALTED);
	CU_ASSERT_TRUE(c->vmx.nonroot);
	CU_ASSERT_TRUE(c->halted);
	CU_ASSERT_TRUE(c->nmi_blocked);
	CU_ASSERT_EQUAL(c->rip, GUEST_CODE);
	env_destroy(v);
}

struct trace_buf {
	char text[4096];
	size_t len;
};

static void trace_sink(void *ctx, const char *line)
{
	struct trace_buf *t = ctx;
	size_t n = strlen(line);
	if (t->len + n + 2 < sizeof(t->text)) {
		memcpy(t->text + t->len, line, n);
		t->len += n;
		t->text[t->len++] = '\n';
		t->text[t->len] = 0;
	}
}

/* --trace vmx: the failed check as a human line and a JSON line. */
static void test_trace(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	struct trace_buf t = { .len = 0 };
	c->vmx.trace = trace_sink;
	c->vmx.trace_ctx = &t;
	run(v, vmresume);
	CU_ASSERT_PTR_NOT_NULL(strstr(t.text, "VM entry failed: BASIC_RESUME_LAUNCHED (26.1)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t.text, "{\"event\":\"vmentry-fail\",\"check\":\"BASIC_RESUME_LAUNCHED\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(t.text, "\"outcome\":\"VMfailValid(5)\""));
	run(v, vmlaunch);
	CU_ASSERT_PTR_NOT_NULL(strstr(t.text, "VM entry (VMLAUNCH)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t.text, "VM exit: reason 10 (CPUID)"));
	env_destroy(v);
}

/* 27.4, 27.7: the VM-exit MSR-store area names IA32_SMBASE (9EH): the
 * exit cannot store it, a VMX abort with code 1: the indicator at offset
 * 4 of the VMCS, the CPU in shutdown, out of non-root operation, the code
 * kept for sim/ (exit status 12). */
static void test_vmx_abort(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	put64(v->h, MSR_AREA, 0x9e);
	vmcs_write(c, VF_EXIT_MSR_STORE_ADDR, MSR_AREA);
	vmcs_write(c, VF_EXIT_MSR_STORE_COUNT, 1);
	run(v, vmlaunch);
	CU_ASSERT_EQUAL(phys_read(c->phys, VMCS_PA + VMCS_OFF_ABORT, 4), VMX_ABORT_SAVE_GUEST_MSRS);
	CU_ASSERT_EQUAL(c->vmx.abort, VMX_ABORT_SAVE_GUEST_MSRS);
	CU_ASSERT_TRUE(c->shutdown);
	CU_ASSERT_FALSE(c->vmx.nonroot);
	CU_ASSERT_STRING_EQUAL(vmx_abort_text(VMX_ABORT_SAVE_GUEST_MSRS),
			       "failure in saving guest MSRs (VM-exit MSR-store area)");
	env_destroy(v);
}

/* 27.3.1, 27.5.1, 26.3.2.1: IA32_DEBUGCTL loaded by "load debug controls",
 * saved by "save debug controls", cleared by every exit. */
static void test_debugctl(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	vmcs_write(c, VF_GUEST_IA32_DEBUGCTL, 2);       /* BTF */
	vmcs_write(c, VF_GUEST_DR7, 0x401);
	c->msr.debugctl = 1;
	run(v, vmlaunch);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_REASON), EXIT_REASON_CPUID);
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_IA32_DEBUGCTL), 2);      /* loaded, then saved */
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_DR7), 0x401);
	CU_ASSERT_EQUAL(c->msr.debugctl, 0);
	CU_ASSERT_EQUAL(c->dr[7], 0x400);
	uint64_t x;
	CU_ASSERT_TRUE(cpu_msr_read(c, MSR_IA32_DEBUGCTL, &x));
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_DEBUGCTL, 4));        /* reserved bit 2 */
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_PERF_GLOBAL_CTRL, 1)); /* no counters */
	CU_ASSERT_TRUE(cpu_msr_write(c, MSR_IA32_PERF_GLOBAL_CTRL, 0));
	env_destroy(v);
}

/* 26.3.2.1, 27.5.1: IA32_PERF_GLOBAL_CTRL loaded by either "load" control.
 * No model has counters, so 0 is the only valid field value; the MSR is
 * set to 3 behind WRMSR's back to see that the load happens. */
static void test_perf_global_ctrl(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	vmcs_write(c, VF_ENTRY_CONTROLS, ENTRY_BASE | ENTRY_LOAD_PERF_GLOBAL);
	vmcs_write(c, VF_GUEST_IA32_PERF_GLOBAL_CTRL, 0);
	c->msr.perf_global_ctrl = 3;
	run(v, vmlaunch);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_REASON), EXIT_REASON_CPUID);
	CU_ASSERT_EQUAL(c->msr.perf_global_ctrl, 0);    /* the entry loaded 0; the exit loads nothing */
	env_destroy(v);

	v = env_create();
	c = &v->h->cpu;
	vmcs_write(c, VF_EXIT_CONTROLS, EXIT_BASE | EXIT_LOAD_PERF_GLOBAL);
	vmcs_write(c, VF_HOST_IA32_PERF_GLOBAL_CTRL, 0);
	c->msr.perf_global_ctrl = 3;
	run(v, vmlaunch);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_REASON), EXIT_REASON_CPUID);
	CU_ASSERT_EQUAL(c->msr.perf_global_ctrl, 0);    /* the exit loaded the host's 0 */
	env_destroy(v);
}

/* 27.2, A.6: with IA32_VMX_MISC[5] a VM exit stores IA32_EFER.LMA into
 * the "IA-32e mode guest" VM-entry control (both ways); without it the
 * control is left alone. The exit is taken from a CPU put in non-root
 * operation by hand, in IA-32e mode, with the control 0. */
static void exit_from_lma(struct vmx_env *v, bool store_lma, uint32_t entry_ctls)
{
	struct cpu *c = &v->h->cpu;
	v->model.vmx.misc = store_lma ? v->model.vmx.misc | VMX_MISC_STORE_LMA : v->model.vmx.misc & ~VMX_MISC_STORE_LMA;
	vmcs_write(c, VF_ENTRY_CONTROLS, entry_ctls);
	c->vmx.nonroot = true;
	vmx_exit_insn(c, EXIT_REASON_CPUID, 2);
	CU_ASSERT_FALSE(c->vmx.nonroot);
}

static void test_exit_stores_lma(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	run(v, vmlaunch);
	CU_ASSERT_TRUE(cpu_lma(c));
	exit_from_lma(v, false, ENTRY_BASE & ~ENTRY_IA32E_GUEST);
	CU_ASSERT_EQUAL(rd(v, VF_ENTRY_CONTROLS), ENTRY_BASE & ~ENTRY_IA32E_GUEST);
	exit_from_lma(v, true, ENTRY_BASE & ~ENTRY_IA32E_GUEST);
	CU_ASSERT_EQUAL(rd(v, VF_ENTRY_CONTROLS), ENTRY_BASE);
	c->efer &= ~(EFER_LMA | EFER_LME);      /* as a guest that left IA-32e mode */
	exit_from_lma(v, true, ENTRY_BASE);
	CU_ASSERT_EQUAL(rd(v, VF_ENTRY_CONTROLS), ENTRY_BASE & ~ENTRY_IA32E_GUEST);
	env_destroy(v);
}

void suite_vmx_entry(void);
void suite_vmx_entry(void)
{
	CU_pSuite s = CU_add_suite("vmx_entry", NULL, NULL);
	CU_add_test(s, "launch, CPUID exit, host state", test_launch_and_exit);
	CU_add_test(s, "VMRESUME continues the guest", test_resume);
	CU_add_test(s, "VMfail 4, 5, 26", test_vmfail_basic);
	CU_add_test(s, "VMfailInvalid without a current VMCS", test_vmfail_invalid);
	CU_add_test(s, "#UD before #GP", test_faults);
	CU_add_test(s, "MSR-load failure: exit 34 with the index", test_msr_load_failure);
	CU_add_test(s, "PDPTE failure: exit 33 qualification 2", test_pdpte_failure);
	CU_add_test(s, "inject #GP with error code", test_inject_exception);
	CU_add_test(s, "inject an external interrupt", test_inject_external_interrupt);
	CU_add_test(s, "inject a software interrupt", test_inject_software_interrupt);
	CU_add_test(s, "activity state HLT", test_activity_hlt);
	CU_add_test(s, "--trace vmx lines", test_trace);
	CU_add_test(s, "VMX abort 1: indicator, shutdown", test_vmx_abort);
	CU_add_test(s, "IA32_DEBUGCTL loaded, saved, cleared", test_debugctl);
	CU_add_test(s, "IA32_PERF_GLOBAL_CTRL loaded on entry and exit", test_perf_global_ctrl);
	CU_add_test(s, "exits store EFER.LMA in 'IA-32e mode guest' (MISC[5])", test_exit_stores_lma);
}
