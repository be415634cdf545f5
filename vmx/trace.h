/* `--trace vmx`: one line per VM entry, VM exit and failed check, through
 * c->vmx.trace (a host-side sink; NULL = off). The same calls emit the
 * VMX probe events (cpu/probe.h) the debugger watches. A failed check gives a line
 * for people and a JSON line for tools (ARCHITECTURE.md "Every VM-entry
 * check has an identity"). */
#ifndef VMX_TRACE_H
#define VMX_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "vmx/exit.h"

void vmx_tracef(struct cpu *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The verdict in c->vmx.verdict (set by entry_run_phase), as a human line
 * and a JSON line; rip: the failing VMLAUNCH/VMRESUME's own RIP. */
void vmx_trace_verdict(struct cpu *c, uint64_t rip);
/* The verdict as people read it: "ID (section): rule; field F = actual,
 * expected E; outcome" into buf; false when there is no verdict. */
bool vmx_verdict_text(const struct cpu *c, char *buf, size_t n);
/* The verdict's JSON members ("check":...,"outcome":..., no braces) into
 * buf; false when there is no verdict. */
bool vmx_verdict_json(const struct cpu *c, char *buf, size_t n);

/* A successful VM entry (guest state just loaded) and a VM exit. */
void vmx_trace_entry(struct cpu *c, bool launch);
void vmx_trace_exit(struct cpu *c, const struct vmx_exit_info *x, uint64_t guest_rip);

#endif
