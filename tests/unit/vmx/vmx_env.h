/* A VMX unit-test environment shared by the vmx_entry and vmx_events suites:
 * a CPU in the long-mode system environment of tests/unit/cpu/sysenv.h in
 * VMX root operation with a current VMCS holding a valid 64-bit guest
 * (guest_code at GUEST_CODE executes CPUID twice) and host state
 * (host_state.h) whose HOST_RIP halts. */
#ifndef TESTS_UNIT_VMX_VMX_ENV_H
#define TESTS_UNIT_VMX_VMX_ENV_H

#include <stdlib.h>
#include <string.h>

#include "cpu/msr.h"
#include "tests/unit/cpu/sysenv.h"
#include "tests/unit/vmx/host_state.h"
#include "vmx/caps_bits.h"
#include "vmx/controls.h"
#include "vmx/entry.h"
#include "vmx/vmcs.h"

#define VMCS_PA 0x100000u
#define MSR_AREA 0x101000u
#define HOST_CODE 0x38000u
#define HOST_STACK 0x58000u
#define GUEST_CODE 0x40000u
#define GUEST_STACK 0x48000u
#define GUEST_HANDLER 0x42000u

/* Controls with the default1 bits of Appendix A.3-A.5 set (true controls
 * off), host 64-bit, guest IA-32e. */
#define PIN_BASE 0x16u
#define PROC_BASE 0x0401e172u
#define EXIT_BASE (0x36dffu | EXIT_HOST_ADDR_SPACE)
#define ENTRY_BASE (0x11ffu | ENTRY_IA32E_GUEST)

static const uint8_t vmlaunch[] __attribute__((unused)) = { 0x0f, 0x01, 0xc2, 0xf4 };  /* VMLAUNCH; HLT on VMfail */
static const uint8_t vmresume[] __attribute__((unused)) = { 0x0f, 0x01, 0xc3, 0xf4 };
/* mov eax, 0x1234; cpuid; mov ebx, 0x5678; cpuid */
static const uint8_t guest_code[] __attribute__((unused)) = { 0xb8, 0x34, 0x12, 0, 0, 0x0f, 0xa2, 0xbb, 0x78, 0x56, 0, 0, 0x0f, 0xa2 };

struct vmx_env {
	struct harness *h;
	struct cpu_model model;
};

static inline void write_guest_segments(struct cpu *c)
{
	for (unsigned k = SEG_ES; k <= SEG_GS; k++) {
		bool fsgs = k == SEG_FS || k == SEG_GS;
		vmcs_write(c, VF_GUEST_ES_SELECTOR + k, k == SEG_CS ? K_CS : fsgs ? 0 : K_DS);
		vmcs_write(c, VF_GUEST_ES_LIMIT + k, 0xffffffff);
		vmcs_write(c, VF_GUEST_ES_AR + k, k == SEG_CS ? 0xa09b : fsgs ? AR_UNUSABLE : 0xc093);
	}
	vmcs_write(c, VF_GUEST_FS_BASE, 0x7000);
	vmcs_write(c, VF_GUEST_LDTR_AR, AR_UNUSABLE);
	vmcs_write(c, VF_GUEST_TR_SELECTOR, TSS_SEL);
	vmcs_write(c, VF_GUEST_TR_BASE, TSS_BASE);
	vmcs_write(c, VF_GUEST_TR_LIMIT, 0x67);
	vmcs_write(c, VF_GUEST_TR_AR, AR_P | SYS_TSS_BUSY);
	vmcs_write(c, VF_GUEST_GDTR_BASE, GDT_BASE);
	vmcs_write(c, VF_GUEST_GDTR_LIMIT, 0x3f);
	vmcs_write(c, VF_GUEST_IDTR_BASE, IDT_BASE);
	vmcs_write(c, VF_GUEST_IDTR_LIMIT, 256 * 16 - 1);
}

static inline void write_guest_state(struct cpu *c)
{
	vmcs_write(c, VF_GUEST_CR0, c->cr0);
	vmcs_write(c, VF_GUEST_CR3, c->cr3);
	vmcs_write(c, VF_GUEST_CR4, c->cr4);
	vmcs_write(c, VF_GUEST_DR7, 0x400);
	vmcs_write(c, VF_GUEST_RSP, GUEST_STACK);
	vmcs_write(c, VF_GUEST_RIP, GUEST_CODE);
	vmcs_write(c, VF_GUEST_RFLAGS, FL_FIXED1);
	vmcs_write(c, VF_GUEST_IA32_SYSENTER_CS, 0x99);
	vmcs_write(c, VF_VMCS_LINK_PTR, ~0ull);
	write_guest_segments(c);
}

/* A CPU in VMX root operation (state set directly: VMXON is another
 * helper's) with a current, clear VMCS holding a valid baseline. */
static struct vmx_env *env_create(void)
{
	struct vmx_env *v = calloc(1, sizeof(*v));
	v->h = sysenv_long();
	struct cpu *c = &v->h->cpu;
	v->model = *c->model;
	v->model.vmx = (struct vmx_model){ .revision = 1, .pin_allowed1 = 0xff, .proc_allowed1 = 0xffffffff,
					   .exit_allowed1 = 0xffffffff, .entry_allowed1 = 0xffffffff,
					   .misc = VMX_MISC_ACT_HLT | VMX_MISC_ACT_SHUTDOWN | VMX_MISC_ACT_WAIT_SIPI };
	c->model = &v->model;
	c->cr0 |= CR0_NE;
	c->cr4 |= CR4_VMXE;
	cpu_mode_changed(c);
	c->vmx.on = true;
	c->vmx.vmcs_ptr = VMCS_PA;
	phys_write(c->phys, VMCS_PA, 1, 4);
	vmcs_write(c, VF_PIN_CONTROLS, PIN_BASE);
	vmcs_write(c, VF_PROC_CONTROLS, PROC_BASE);
	vmcs_write(c, VF_EXIT_CONTROLS, EXIT_BASE);
	vmcs_write(c, VF_ENTRY_CONTROLS, ENTRY_BASE);
	vmx_test_host_state(c, HOST_CODE, HOST_STACK);
	write_guest_state(c);
	put_code(v->h, GUEST_CODE, guest_code, sizeof(guest_code));
	put_code(v->h, HOST_CODE, (const uint8_t[]){ 0xf4 }, 1);
	return v;
}

static inline void env_destroy(struct vmx_env *v)
{
	harness_destroy(v->h);
	free(v);
}

/* Run VMLAUNCH/VMRESUME at CODE_BASE until the host (or the guest) halts. */
static inline enum cpu_stop run(struct vmx_env *v, const uint8_t *insn)
{
	return harness_run(v->h, insn, 4);
}

static inline uint64_t rd(struct vmx_env *v, enum vmcs_field f)
{
	return vmcs_read(&v->h->cpu, f);
}

#endif
