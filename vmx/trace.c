/* `--trace vmx` lines (vmx/trace.h). */
#include "vmx/trace.h"

#include <stdarg.h>
#include <stdio.h>

#include "cpu/probe.h"
#include "vmx/entry.h"
#include "vmx/vmcs.h"

void vmx_tracef(struct cpu *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	if (!c->vmx.trace)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->vmx.trace(c->vmx.trace_ctx, line);
}

static void outcome_text(const struct entry_outcome *o, uint32_t index, char *buf, size_t n)
{
	switch (o->kind) {
	case OUTCOME_FAULT:
		snprintf(buf, n, o->number == VEC_GP ? "#GP(0)" : o->number == VEC_UD ? "#UD" : "fault %u", o->number);
		return;
	case OUTCOME_FAIL_INVALID:
		snprintf(buf, n, "VMfailInvalid");
		return;
	case OUTCOME_FAIL_VALID:
		snprintf(buf, n, "VMfailValid(%u)", o->number);
		return;
	case OUTCOME_FAIL_EXIT:
		snprintf(buf, n, "VM-entry failure: exit reason %u, qualification %u", o->number,
			 o->number == EXIT_REASON_MSR_LOADING ? index : o->qual);
		return;
	}
	snprintf(buf, n, "?");
}

/* The verdict's JSON members, for `--trace vmx` here and the JSON trace
 * writer (sim/trace.c): one builder, the same keys for both. */
bool vmx_verdict_json(const struct cpu *c, char *buf, size_t n)
{
	const struct vmx_verdict *v = &c->vmx.verdict;
	if (v->check < 0 || v->check >= ENTRY_CHECK_COUNT)
		return false;
	const struct entry_check *k = &entry_checks[v->check];
	char out[96];
	bool high;
	int f = v->field == UINT32_MAX ? -1 : vmcs_field_lookup(v->field, &high);
	outcome_text(&k->outcome, v->index, out, sizeof(out));
	snprintf(buf, n,
		 "\"check\":\"%s\",\"section\":\"%s\",\"field\":\"%s\",\"encoding\":\"0x%x\",\"actual\":\"0x%llx\","
		 "\"expected\":\"0x%llx\",\"index\":%u,\"outcome\":\"%s\"",
		 k->id, k->section, f >= 0 ? vmcs_fields[f].name : "none", f >= 0 ? v->field : 0,
		 (unsigned long long)v->actual, (unsigned long long)v->expected, v->index, out);
	return true;
}

/* The verdict for people, for `--trace vmx` here and `--explain`
 * (sim/explain.c): one builder, the same words for both. */
bool vmx_verdict_text(const struct cpu *c, char *buf, size_t n)
{
	const struct vmx_verdict *v = &c->vmx.verdict;
	if (v->check < 0 || v->check >= ENTRY_CHECK_COUNT)
		return false;
	const struct entry_check *k = &entry_checks[v->check];
	char out[96];
	bool high;
	int f = v->field == UINT32_MAX ? -1 : vmcs_field_lookup(v->field, &high);
	const char *field = f >= 0 ? vmcs_fields[f].name : "none";
	outcome_text(&k->outcome, v->index, out, sizeof(out));
	snprintf(buf, n, "%s (%s): %s; field %s = %#llx, expected %#llx; %s", k->id, k->section, k->rule, field,
		 (unsigned long long)v->actual, (unsigned long long)v->expected, out);
	return true;
}

void vmx_trace_verdict(struct cpu *c, uint64_t rip)
{
	struct probe_event pe = { .kind = PROBE_VMENTRY_FAIL, .rip = rip };
	cpu_probe_emit(c, &pe);
	char json[512], text[512];
	if (!c->vmx.trace || !vmx_verdict_json(c, json, sizeof(json)) || !vmx_verdict_text(c, text, sizeof(text)))
		return;
	vmx_tracef(c, "VM entry failed: %s", text);
	vmx_tracef(c, "{\"event\":\"vmentry-fail\",%s}", json);
}

void vmx_trace_entry(struct cpu *c, bool launch)
{
	struct probe_event pe = { .kind = PROBE_VMENTRY, .launch = launch, .rip = c->rip };
	cpu_probe_emit(c, &pe);
	vmx_tracef(c, "VM entry (%s): VMCS %#llx, guest RIP %#llx RSP %#llx RFLAGS %#llx CS %#x CR0 %#llx CR3 %#llx%s",
		   launch ? "VMLAUNCH" : "VMRESUME", (unsigned long long)c->vmx.vmcs_ptr, (unsigned long long)c->rip,
		   (unsigned long long)c->gpr[R_SP], (unsigned long long)cpu_get_rflags(c), c->seg[SEG_CS].sel,
		   (unsigned long long)c->cr0, (unsigned long long)c->cr3, c->code64 ? ", 64-bit" : "");
}

static const char *reason_text(uint32_t basic)
{
	const char *t = vmx_exit_reason_text(basic);
	return t ? t : "unknown";
}

void vmx_trace_exit(struct cpu *c, const struct vmx_exit_info *x, uint64_t guest_rip)
{
	uint32_t basic = x->reason & 0xffff;
	if (__builtin_expect(c->probe != NULL, 0)) {
		struct probe_event pe = { .kind = PROBE_VMEXIT, .code = x->reason, .value = x->qual,
					  .aux = (uint32_t)vmcs_read(c, VF_EXIT_INTR_INFO), .rip = guest_rip,
					  .has_error = x->has_insn, .error = x->has_insn ? x->insn_len : 0 };
		cpu_probe_emit(c, &pe);
	}
	if (x->reason & EXIT_REASON_ENTRY_FAILURE)
		vmx_tracef(c, "VM exit: reason %#x (%s), qualification %#llx, host RIP %#llx", x->reason,
			   reason_text(basic), (unsigned long long)x->qual, (unsigned long long)c->rip);
	else
		vmx_tracef(c, "VM exit: reason %u (%s), qualification %#llx, guest RIP %#llx, host RIP %#llx", basic,
			   reason_text(basic), (unsigned long long)x->qual, (unsigned long long)guest_rip,
			   (unsigned long long)c->rip);
}
