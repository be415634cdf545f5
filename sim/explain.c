/* `--explain` and `--exit-summary` (sim/explain.h): a tap on the debug API
 * that says, in one line each, what VMX did and where the SDM says it. */
#include "sim/explain.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/probe.h"
#include "sim/debug_api.h"
#include "sim/forensics.h"
#include "vmx/controls.h"
#include "vmx/ctlbits.h"
#include "vmx/explain.h"
#include "vmx/trace.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

struct explain {
	struct dbg *d;
	FILE *out;
};

static void line(struct explain *x, const struct cpu *c, uint64_t cycle, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* One line; stdout (COM1) first, so a terminal shows both in order. */
static void line(struct explain *x, const struct cpu *c, uint64_t cycle, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fprintf(x->out, "vtxsim: [cycle %" PRIu64 " cpu%d] %s\n", cycle, c->id, text);
	fflush(x->out);
}

/* ---- VM entries ---- */

/* The guest as the VM entry left it: its mode, CS, paging, and the EPT
 * and VPID controls it runs under (guest state loaded, SDM 26.3.2). */
static void ev_entry(struct explain *x, struct cpu *c, uint64_t cycle, const struct probe_event *e)
{
	uint32_t proc2 = vmcs_read(c, VF_PROC_CONTROLS) & PROC_SECONDARY_CTLS ? (uint32_t)vmcs_read(c, VF_PROC2_CONTROLS) : 0;
	char vpid[32] = "no VPID";
	if (proc2 & PROC2_VPID)
		snprintf(vpid, sizeof(vpid), "VPID %u", (unsigned)vmcs_read(c, VF_VPID));
	bool unrestricted = (proc2 & PROC2_UNRESTRICTED) && !(c->cr0 & CR0_PG);
	/* 26.5.2: injected "other event" 0 delivers nothing (no PROBE_INJECT)
	 * but makes an MTF VM exit pending. */
	uint32_t inj = (uint32_t)vmcs_read(c, VF_ENTRY_INTR_INFO);
	bool mtf = (inj & INTR_INFO_VALID) && (inj & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT == INTR_TYPE_OTHER;
	line(x, c, cycle,
	     "VM entry (%s): guest RIP 0x%" PRIx64 " in %s%s, CS=%#x, CPL %u, %s, EPT %s, %s; every check passed, "
	     "guest state loaded (SDM 26.3.2)%s",
	     e->launch ? "VMLAUNCH" : "VMRESUME", c->rip, forensics_mode_text(c),
	     unrestricted ? " (unrestricted guest)" : "", c->seg[SEG_CS].sel, (unsigned)c->cpl,
	     forensics_paging_text(c), proc2 & PROC2_EPT ? "on" : "off", vpid,
	     mtf ? "; the injected event of type 7 makes an MTF VM exit pending (SDM 26.5.2)" : "");
}

/* The check that failed, as `--trace vmx` and `vmx explain` name it. */
static void ev_entry_fail(struct explain *x, struct cpu *c, uint64_t cycle, const struct probe_event *e)
{
	char text[768] = "";
	vmx_verdict_text(c, text, sizeof(text));
	line(x, c, cycle, "VM entry failed (VMLAUNCH/VMRESUME at RIP 0x%" PRIx64 ")%s%s", e->rip, text[0] ? ": " : "",
	     text);
}

/* 26.5: the event VM entry delivers through the guest IDT. */
static void ev_inject(struct explain *x, struct cpu *c, uint64_t cycle, const struct probe_event *e)
{
	unsigned type = (e->aux & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	unsigned vec = e->aux & INTR_INFO_VECTOR_MASK;
	char name[96] = "";
	bool exc = type == INTR_TYPE_HW_EXCEPTION || type == INTR_TYPE_SW_EXCEPTION || type == INTR_TYPE_PRIV_SW_EXCEPTION;
	if (exc && cpu_vector_mnemonic(vec))
		snprintf(name, sizeof(name), " %s (%s)", cpu_vector_mnemonic(vec), cpu_vector_text(vec));
	char extra[96] = "";
	if (e->has_error)
		snprintf(extra, sizeof(extra), ", error code %#x", e->error);
	if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_SW_EXCEPTION || type == INTR_TYPE_PRIV_SW_EXCEPTION)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), ", instruction length %u",
			 (unsigned)vmcs_read(c, VF_ENTRY_INSTRUCTION_LEN));
	line(x, c, cycle, "VM entry injects vector %u%s (%s)%s: delivered through the guest IDT as if it had "
	     "happened in the guest, guest RIP 0x%" PRIx64 " (SDM 26.5.1)",
	     vec, name, ctl_intr_type_name(type), extra, e->rip);
}

/* ---- VM exits ---- */

/* Text after buf's first *len bytes, clamped to n (buf stays terminated). */
static void append(char *buf, size_t n, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t n, size_t *len, const char *fmt, ...)
{
	if (*len + 1 >= n)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(buf + *len, n - *len, fmt, ap);
	va_end(ap);
	if (k > 0)
		*len = *len + (size_t)k < n ? *len + (size_t)k : n - 1;
}

/* What the exit qualification says ("exit qualification unused" when the
 * reason leaves it 0), and the fields 27.2 adds for this reason. */
static void exit_details(struct cpu *c, const struct probe_event *e, char *buf, size_t n)
{
	uint32_t basic = e->code & 0xffff;
	char q[256];
	size_t len = 0;
	buf[0] = 0;
	vmx_exit_qual_text(e->code, e->value, e->aux, q, sizeof(q));
	if (q[0])
		append(buf, n, &len, "%s (qualification %#" PRIx64 ")", q, e->value);
	else
		append(buf, n, &len, "exit qualification unused");
	if (e->code & EXIT_REASON_ENTRY_FAILURE)
		return;                 /* 26.7: the other exit fields are not written */
	if (basic == EXIT_REASON_EXCEPTION_NMI && (e->aux & INTR_INFO_VALID) && (e->aux & INTR_INFO_HAS_ERROR))
		append(buf, n, &len, ", error code %#x", (unsigned)vmcs_read(c, VF_EXIT_INTR_ERROR_CODE));
	/* A VM exit leaves the guest's general-purpose registers but RSP as
	 * they were (27.5 loads no other GPR): the operands the hypervisor reads. */
	if (basic == EXIT_REASON_CPUID)
		append(buf, n, &len, "; leaf EAX=%#x, ECX=%#x", (uint32_t)c->gpr[R_AX], (uint32_t)c->gpr[R_CX]);
	if (basic == EXIT_REASON_RDMSR || basic == EXIT_REASON_WRMSR)
		append(buf, n, &len, "; MSR ECX=%#x", (uint32_t)c->gpr[R_CX]);
	if (basic == EXIT_REASON_EPT_VIOLATION || basic == EXIT_REASON_EPT_MISCONFIG)
		append(buf, n, &len, "; guest-physical address %#" PRIx64, vmcs_read(c, VF_GUEST_PHYS_ADDR));
	if (basic == EXIT_REASON_EPT_VIOLATION && (e->value & (1u << 7)))
		append(buf, n, &len, ", guest linear address %#" PRIx64, vmcs_read(c, VF_GUEST_LINEAR_ADDR));
	uint64_t idt = vmcs_read(c, VF_IDT_VECTORING_INFO);
	if (idt & INTR_INFO_VALID)      /* 27.2.3 */
		append(buf, n, &len, "; while delivering vector %u (%s)", (unsigned)(idt & INTR_INFO_VECTOR_MASK),
		       ctl_intr_type_name((unsigned)((idt & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT)));
	append(buf, n, &len, "; guest RIP 0x%" PRIx64, e->rip);
}

static void ev_exit(struct explain *x, struct cpu *c, uint64_t cycle, const struct probe_event *e)
{
	uint32_t basic = e->code & 0xffff;
	const struct vmx_explain_row *r = vmx_explain_row(basic);
	char details[640];
	exit_details(c, e, details, sizeof(details));
	char len[48] = "";
	if (e->has_error)       /* 27.2.5: the exits that write the instruction length */
		snprintf(len, sizeof(len), ", instruction length %u", e->error);
	if (!r) {
		line(x, c, cycle, "VM exit %u: a reserved exit reason; %s%s", basic, details, len);
		return;
	}
	if (e->code & EXIT_REASON_ENTRY_FAILURE)
		line(x, c, cycle, "VM-entry failure exit (reason %u with bit 31 set): %s (SDM %s); %s", basic, r->why,
		     r->section, details);
	else
		line(x, c, cycle, "VM exit %u %s: %s (SDM %s); %s%s", basic, vmx_exit_reason_text(basic), r->why,
		     r->section, details, len);
}

/* A VMX abort (27.7): the CPU shuts down. A triple fault outside VMX
 * operation is the forensics report's to tell. */
static void ev_shutdown(struct explain *x, struct cpu *c, uint64_t cycle)
{
	if (c->vmx.abort)
		line(x, c, cycle, "VMX abort %u: %s; the VM exit could not complete, the logical processor shuts down "
		     "(SDM 27.7)", (unsigned)c->vmx.abort, vmx_abort_text(c->vmx.abort));
}

static void tap(void *ctx, struct cpu *c, uint64_t cycle, const struct probe_event *e)
{
	struct explain *x = ctx;
	if (!e)
		return;
	switch (e->kind) {
	case PROBE_VMENTRY: ev_entry(x, c, cycle, e); break;
	case PROBE_VMENTRY_FAIL: ev_entry_fail(x, c, cycle, e); break;
	case PROBE_INJECT: ev_inject(x, c, cycle, e); break;
	case PROBE_VMEXIT: ev_exit(x, c, cycle, e); break;
	case PROBE_SHUTDOWN: ev_shutdown(x, c, cycle); break;
	case PROBE_DELIVERY:
	case PROBE_IO:
	case PROBE_MSR:
	case PROBE_DATA:
	case PROBE_VMXINSN:
		break;
	}
}

struct explain *explain_attach(struct dbg *d, FILE *out, char *err, size_t errlen)
{
	struct explain *x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "--explain: out of memory");
		return NULL;
	}
	*x = (struct explain){ .d = d, .out = out };
	if (dbg_add_tap(d, tap, x, false)) {
		snprintf(err, errlen, "--explain: too many observers on the debug session");
		free(x);
		return NULL;
	}
	return x;
}

void explain_detach(struct explain *x)
{
	if (!x)
		return;
	dbg_remove_tap(x->d, tap, x);
	fflush(x->out);
	free(x);
}

/* ---- --exit-summary ---- */

void explain_exit_summary(struct dbg *d, FILE *out)
{
	int n = dbg_ncpus(d);
	struct dbg_exit_stat all[DBG_REASONS];
	memset(all, 0, sizeof(all));
	uint64_t total = 0;
	char title[96];
	fflush(stdout);
	for (int k = 0; k < n; k++) {
		const struct dbg_exit_stat *s = dbg_exit_stats(d, k);
		uint64_t mine = 0;
		for (int r = 0; r < DBG_REASONS; r++) {
			all[r].count += s[r].count;
			all[r].guest_cycles += s[r].guest_cycles;
			all[r].host_cycles += s[r].host_cycles;
			mine += s[r].count;
		}
		total += mine;
		if (n > 1 && mine) {
			snprintf(title, sizeof(title), "vtxsim: VM exits of cpu %d by basic reason (simulated cycles)", k);
			dbg_print_exit_stats(out, title, s);
		}
	}
	if (!total) {
		fprintf(out, "vtxsim: no VM exits\n");
	} else {
		snprintf(title, sizeof(title), "vtxsim: VM exits%s by basic reason (simulated cycles)",
			 n > 1 ? " of all cpus" : "");
		dbg_print_exit_stats(out, title, all);
	}
	fflush(out);
}
