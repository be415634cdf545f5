/* Probes: how a host-side observer (the debugger and the trace writer,
 * sim/debug.c) watches a CPU without the core knowing who watches
 * (ARCHITECTURE.md: the core never calls into debugger/).
 *
 * c->probe is NULL unless something observes; every site below is one
 * predictable test then. The observer sees:
 * - events (struct probe_event), emitted where they happen, mid-instruction;
 *   to stop there it calls cpu_probe_break(), and cpu_run returns once the
 *   instruction (and the delivery of its fault) is complete, before the
 *   next boundary's interrupts;
 * - instruction boundaries, while c->probe_step is set: the CPU then runs
 *   one instruction at a time (cpu_debug_slow) and asks the observer
 *   before each one, after the boundary's events were delivered; true
 *   parks the CPU there, and the next cpu_run executes that instruction
 *   without asking again;
 * - data accesses, while c->probe_data is set: every data access takes the
 *   memory slow path (cpu_debug_update) and is reported by linear address.
 * None of this changes what the guest sees. */
#ifndef CPU_PROBE_H
#define CPU_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

enum probe_kind {
	PROBE_DELIVERY,         /* an event through the IDT: code = vector, aux = enum int_kind,
				 * error/has_error, rip = the RIP it returns to */
	PROBE_IO,               /* IN/OUT/INS/OUTS: code = port, aux = size, write, value */
	PROBE_MSR,              /* RDMSR/WRMSR that did not fault or exit: code = MSR, write, value */
	PROBE_VMENTRY,          /* a successful VM entry, guest state loaded: launch, rip = guest RIP */
	PROBE_VMENTRY_FAIL,     /* a VM entry failed a check: c->vmx.verdict says which */
	PROBE_VMEXIT,           /* a VM exit (or VM-entry failure exit) done, host state loaded:
				 * code = exit reason (bit 31: entry failure), value = qualification,
				 * aux = exit-interruption information, rip = guest RIP;
				 * has_error: the exit wrote the VM-exit instruction
				 * length (27.2.5), error = that length */
	PROBE_INJECT,           /* VM entry injects an event: aux = the VM-entry interruption information */
	PROBE_SHUTDOWN,         /* the CPU entered shutdown: a triple fault, or a VMX abort (c->vmx.abort) */
	PROBE_DATA,             /* a data access (with probe_data): value = linear address, aux = size, write */
	PROBE_VMXINSN,          /* a VMX instruction completed in VMX root operation with VMsucceed or
				 * VMfail (SDM vol. 3C 30.2): code = the exit reason its execution
				 * in non-root would give (vmx_insn_reason), aux = enum
				 * probe_vmx_outcome, has_error/error = the VM-instruction error
				 * (VMfailValid); rip = its address. A VM entry that succeeds is
				 * PROBE_VMENTRY; one that faults (#UD, #GP) is not reported. */
};

enum probe_vmx_outcome { PROBE_VMX_SUCCEED, PROBE_VMX_FAIL_INVALID, PROBE_VMX_FAIL_VALID };

struct probe_event {
	enum probe_kind kind;
	uint32_t code;
	uint32_t aux;
	uint32_t error;
	bool has_error;
	bool write;
	bool launch;
	uint64_t value;
	uint64_t rip;
};

struct cpu_probe {
	void (*event)(void *ctx, struct cpu *c, const struct probe_event *e);
	bool (*boundary)(void *ctx, struct cpu *c);
	void *ctx;
};

static inline void cpu_probe_emit(struct cpu *c, const struct probe_event *e)
{
	if (__builtin_expect(c->probe != NULL, 0))
		c->probe->event(c->probe->ctx, c, e);
}

/* The I/O and MSR events, from their handlers. */
static inline void cpu_probe_io(struct cpu *c, uint16_t port, unsigned size, bool write, uint64_t value)
{
	struct probe_event e = { .kind = PROBE_IO, .code = port, .aux = size, .write = write, .value = value,
				 .rip = c->next_rip };
	cpu_probe_emit(c, &e);
}

static inline void cpu_probe_msr(struct cpu *c, uint32_t msr, bool write, uint64_t value)
{
	struct probe_event e = { .kind = PROBE_MSR, .code = msr, .write = write, .value = value, .rip = c->next_rip };
	cpu_probe_emit(c, &e);
}

/* From an event callback: return from cpu_run once the current
 * instruction is complete. */
static inline void cpu_probe_break(struct cpu *c)
{
	c->probe_break = 1;
	cpu_request_stop(c);
}

/* Attach or detach an observer (NULL); step and data as above. */
void cpu_probe_set(struct cpu *c, const struct cpu_probe *p, bool step, bool data);

#endif
