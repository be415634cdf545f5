/* The triple-fault / VMX-abort report (sim/forensics.h). */
#include "sim/forensics.h"

#include <inttypes.h>

#include "cpu/seg.h"
#include "mem/paging.h"
#include "sim/debug_api.h"
#include "sim/machine.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

/* ---- names ---- */

static const char *const cause_texts[DELIV_CAUSE_COUNT] = {
#define X(id, text) [DELIV_##id] = text,
#include "cpu/deliv_causes.def"
#undef X
};

static const char *reason_id(uint32_t basic)
{
	const char *id = vmx_exit_reason_id(basic);
	return id ? id : "UNKNOWN";
}

/* "#GP(0x42)", "INT 0x80", "external interrupt 0x20", "NMI". */
static void print_event(FILE *out, unsigned vector, unsigned kind, bool has_error, uint32_t error)
{
	const char *mn = cpu_vector_mnemonic(vector);
	switch (kind) {
	case INT_SOFTWARE:
		fprintf(out, "INT 0x%x", vector);
		return;
	case INT_EXTERNAL:
		fprintf(out, "external interrupt 0x%x", vector);
		return;
	case INT_NMI:
		fprintf(out, "NMI");
		return;
	default:
		break;
	}
	if (mn)
		fprintf(out, "%s", mn);
	else
		fprintf(out, "vector %u", vector);
	if (has_error)
		fprintf(out, "(0x%" PRIx32 ")", error);
	fprintf(out, " (%s%s)", cpu_vector_text(vector),
		kind == INT_SOFT_EXCEPTION ? ", software exception" :
		kind == INT_PRIV_SOFTWARE ? ", privileged software exception" : "");
}

/* The cause text with {v} = vector and {d} = detail. */
static void print_cause(FILE *out, const struct fault_link *l)
{
	const char *t = l->cause < DELIV_CAUSE_COUNT ? cause_texts[l->cause] : cause_texts[DELIV_NONE];
	for (; *t; t++) {
		if (t[0] == '{' && t[1] && t[2] == '}') {
			if (t[1] == 'v')
				fprintf(out, "%u", l->vector);
			else
				fprintf(out, "0x%" PRIx64, l->detail);
			t += 2;
		} else {
			fputc(*t, out);
		}
	}
}

/* ---- the chain ---- */

static void print_chain(FILE *out, const struct cpu *c, bool triple)
{
	const struct fault_chain *fc = &c->fchain;
	if (!fc->n) {
		fprintf(out, "  no failed event delivery was recorded\n");
		return;
	}
	fprintf(out, "  the chain of faults, oldest first (SDM vol. 3A 6.15, Table 6-5):\n");
	for (int k = 0; k < fc->n; k++) {
		const struct fault_link *l = &fc->link[k];
		fprintf(out, "  %d. ", k + 1);
		print_event(out, l->vector, l->kind, l->has_error, l->error);
		fprintf(out, " at 0x%04x:0x%" PRIx64 ": ", l->cs, l->rip);
		print_cause(out, l);
		if (l->raised == VEC_NONE) {
			fprintf(out, "; that was a VM exit\n");
			continue;
		}
		fprintf(out, "; raised ");
		print_event(out, l->raised, INT_EXCEPTION, l->raised_has_error, l->raised_error);
		bool last = k + 1 == fc->n;
		if (last && triple && l->vector == VEC_DF && l->kind == INT_EXCEPTION)
			fprintf(out, " while delivering #DF: triple fault, shutdown");
		else if (!last && fc->link[k + 1].vector == VEC_DF && l->raised != VEC_DF)
			fprintf(out, ", which after %s is a double fault", cpu_vector_mnemonic(l->vector) ? cpu_vector_mnemonic(l->vector) : "it");
		fputc('\n', out);
	}
	if (fc->dropped)
		fprintf(out, "  (%u later links not recorded)\n", fc->dropped);
}

/* ---- the CPU ---- */

const char *forensics_mode_text(const struct cpu *c)
{
	if (!(c->cr0 & CR0_PE))
		return "real mode";
	if (cpu_lma(c))
		return c->code64 ? "IA-32e mode, 64-bit" : "IA-32e mode, compatibility";
	return cpu_v86(c) ? "protected mode, virtual-8086" : "protected mode";
}

const char *forensics_paging_text(const struct cpu *c)
{
	if (!(c->cr0 & CR0_PG))
		return "paging off";
	if (cpu_lma(c))
		return (c->cr4 & CR4_LA57) ? "5-level paging" : "4-level paging";
	return (c->cr4 & CR4_PAE) ? "PAE paging" : "32-bit paging";
}

static void print_cpu(FILE *out, struct cpu *c)
{
	fprintf(out, "  mode: %s, %s, CPL %u\n", forensics_mode_text(c), forensics_paging_text(c), (unsigned)c->cpl);
	fprintf(out, "  CR0 0x%" PRIx64 " CR2 0x%" PRIx64 " CR3 0x%" PRIx64 " CR4 0x%" PRIx64 " EFER 0x%" PRIx64 "\n",
		c->cr0, c->cr2, c->cr3, c->cr4, c->efer);
	fprintf(out, "  IDTR base 0x%" PRIx64 " limit 0x%x, GDTR base 0x%" PRIx64 " limit 0x%x\n", c->idtr.base,
		c->idtr.limit, c->gdtr.base, c->gdtr.limit);
	fprintf(out, "  CS:RIP 0x%04x:0x%" PRIx64 ", SS:RSP 0x%04x:0x%" PRIx64 ", RFLAGS 0x%" PRIx64 "\n", c->seg[SEG_CS].sel,
		c->rip, c->seg[SEG_SS].sel, c->gpr[R_SP], cpu_get_rflags(c));
}

/* ---- VMX ---- */

static void print_fields(FILE *out, struct cpu *c, const char *title, const enum vmcs_field *f, int n)
{
	fprintf(out, "  %s:", title);
	for (int k = 0; k < n; k++)
		fprintf(out, " %s 0x%" PRIx64, vmcs_fields[f[k]].name, vmcs_read(c, f[k]));
	fputc('\n', out);
}

static void print_vmx(FILE *out, struct cpu *c)
{
	if (!c->vmx.on && !c->vmx.abort) {
		fprintf(out, "  VMX: not in VMX operation\n");
		return;
	}
	fprintf(out, "  VMX: %s, VMXON region 0x%" PRIx64 ", ",
		c->vmx.abort ? "aborted during a VM exit" : c->vmx.nonroot ? "non-root operation" : "root operation",
		c->vmx.vmxon_ptr);
	if (c->vmx.vmcs_ptr == VMCS_PTR_NONE) {
		fprintf(out, "no current VMCS\n");
		return;
	}
	fprintf(out, "current VMCS 0x%" PRIx64 " (%s)\n", c->vmx.vmcs_ptr,
		vmx_current_launched(c) ? "launched" : "clear");
	uint32_t reason = (uint32_t)vmcs_read(c, VF_EXIT_REASON);
	fprintf(out, "  last VM exit (VMCS exit fields): reason %u (%s)%s, qualification 0x%" PRIx64 "\n",
		reason & 0xffff, reason_id(reason & 0xffff),
		(reason & EXIT_REASON_ENTRY_FAILURE) ? ", VM-entry failure" : "", vmcs_read(c, VF_EXIT_QUALIFICATION));
	static const enum vmcs_field guest[] = { VF_GUEST_RIP, VF_GUEST_RSP, VF_GUEST_RFLAGS, VF_GUEST_CS_SELECTOR,
						 VF_GUEST_CR0, VF_GUEST_CR3, VF_GUEST_CR4 };
	static const enum vmcs_field host[] = { VF_HOST_RIP, VF_HOST_RSP, VF_HOST_CS_SELECTOR,
						VF_HOST_CR0, VF_HOST_CR3, VF_HOST_CR4 };
	print_fields(out, c, "guest state", guest, (int)(sizeof(guest) / sizeof(guest[0])));
	print_fields(out, c, "host state", host, (int)(sizeof(host) / sizeof(host[0])));
}

/* ---- the report ---- */

void forensics_report(struct machine *m, struct cpu *c, FILE *out)
{
	uint64_t cycle = sched_cpu_time(&m->sched, c->id);
	if (c->vmx.abort) {
		fprintf(out, "cpu%d: VMX abort at cycle %" PRIu64 ": indicator %u, %s (SDM vol. 3C 27.7); VMCS pointer 0x%" PRIx64
			     "\n", c->id, cycle, c->vmx.abort, vmx_abort_text(c->vmx.abort), c->vmx.vmcs_ptr);
	} else {
		fprintf(out, "cpu%d: %s at cycle %" PRIu64 "\n", c->id,
			c->shutdown ? "triple fault: the processor shut down" : "not in shutdown", cycle);
		print_chain(out, c, c->shutdown);
	}
	print_cpu(out, c);
	print_vmx(out, c);
}

bool forensics_on_shutdown(void *ctx, struct cpu *c)
{
	forensics_report(ctx, c, stderr);
	return false;
}

/* ---- the debug API (sim/debug_api.h) ---- */

void dbg_forensics(struct dbg *d, int cpu, FILE *out)
{
	struct machine *m = dbg_machine(d);
	if (cpu < 0 || cpu >= m->ncpus) {
		fprintf(out, "no cpu%d: the machine has %d\n", cpu, m->ncpus);
		return;
	}
	forensics_report(m, &m->cpus[cpu], out);
}
