/* The JSON trace writer (sim/trace.h), a tap on the debug API. */
#include "sim/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/decode.h"
#include "sim/debug_api.h"
#include "sim/debug_mem.h"
#include "vmx/controls.h"
#include "vmx/trace.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

struct trace {
	struct dbg *d;
	unsigned cats;
	FILE *f;
	bool own;               /* f is a file we opened */
};

/* ---- categories ---- */

static const char *const cat_names[] = {
#define X(id, name) name,
	TRACE_CATEGORIES(X)
#undef X
};
#define NCATS (sizeof(cat_names) / sizeof(cat_names[0]))

bool trace_parse_categories(const char *s, unsigned *cats, char *bad, size_t badlen)
{
	while (true) {
		size_t n = strcspn(s, ",");
		size_t k = 0;
		while (k < NCATS && !(strlen(cat_names[k]) == n && !strncmp(s, cat_names[k], n)))
			k++;
		if (k == NCATS) {
			snprintf(bad, badlen, "%.*s", (int)n, s);
			return false;
		}
		*cats |= 1u << k;
		if (!s[n])
			return true;
		s += n + 1;
	}
}

const char *trace_category_list(void)
{
	static const char list[] =
#define X(id, name) ", " name
		TRACE_CATEGORIES(X)
#undef X
		;
	return list + 2;
}

/* ---- lines ---- */

static void line_start(struct trace *t, const struct cpu *c, uint64_t cycle, const char *event)
{
	fprintf(t->f, "{\"cycle\":%" PRIu64 ",\"cpu\":%d,\"event\":\"%s\"", cycle, c->id, event);
}

static void hex(struct trace *t, const char *key, uint64_t v)
{
	fprintf(t->f, ",\"%s\":\"0x%" PRIx64 "\"", key, v);
}

static void num(struct trace *t, const char *key, uint64_t v)
{
	fprintf(t->f, ",\"%s\":%" PRIu64, key, v);
}

static void str(struct trace *t, const char *key, const char *v)
{
	fprintf(t->f, ",\"%s\":\"%s\"", key, v);
}

static void line_end(struct trace *t)
{
	fputs("}\n", t->f);
}

static const char *reason_id(uint32_t basic)
{
	const char *id = vmx_exit_reason_id(basic);
	return id ? id : "UNKNOWN";
}

/* exits: the fields SDM vol. 3C 27.2 defines for this exit, and only
 * those (an undefined field is left out, not printed stale). */
static void ev_vmexit(struct trace *t, struct cpu *c, uint64_t cycle, const struct probe_event *e)
{
	uint32_t basic = e->code & 0xffff;
	line_start(t, c, cycle, "vmexit");
	num(t, "reason", basic);
	str(t, "name", reason_id(basic));
	fprintf(t->f, ",\"entry_failure\":%s", (e->code & EXIT_REASON_ENTRY_FAILURE) ? "true" : "false");
	hex(t, "qual", e->value);
	hex(t, "guest_rip", e->rip);
	if (!(e->code & EXIT_REASON_ENTRY_FAILURE)) {   /* 26.7: other exit fields unmodified */
		hex(t, "intr_info", e->aux);
		if ((e->aux & INTR_INFO_VALID) && (e->aux & INTR_INFO_HAS_ERROR))
			hex(t, "intr_error", vmcs_read(c, VF_EXIT_INTR_ERROR_CODE));
		uint64_t idt = vmcs_read(c, VF_IDT_VECTORING_INFO);
		if (idt & INTR_INFO_VALID)
			hex(t, "idt_vectoring", idt);
		if (e->has_error)       /* 27.2.5: the exits that write the instruction length */
			num(t, "insn_len", e->error);
		/* 27.2.1: the guest-physical address for EPT violations and
		 * misconfigurations; the linear address when qualification bit 7 says so. */
		if (basic == EXIT_REASON_EPT_VIOLATION || basic == EXIT_REASON_EPT_MISCONFIG)
			hex(t, "gpa", vmcs_read(c, VF_GUEST_PHYS_ADDR));
		if (basic == EXIT_REASON_EPT_VIOLATION && (e->value & (1u << 7)))
			hex(t, "gla", vmcs_read(c, VF_GUEST_LINEAR_ADDR));
	}
	line_end(t);
}

static void ev_vmentry(struct trace *t, struct cpu *c, uint64_t cycle, const struct probe_event *e)
{
	line_start(t, c, cycle, "vmentry");
	str(t, "insn", e->launch ? "vmlaunch" : "vmresume");
	hex(t, "vmcs", c->vmx.vmcs_ptr);
	hex(t, "guest_rip", e->rip);
	line_end(t);
}

static void ev_vmentry_fail(struct trace *t, struct cpu *c, uint64_t cycle, const struct probe_event *e)
{
	char json[512];
	line_start(t, c, cycle, "vmentry-fail");
	hex(t, "rip", e->rip);
	if (vmx_verdict_json(c, json, sizeof(json)))
		fprintf(t->f, ",%s", json);
	line_end(t);
}

static const char *const intr_types[8] = { "external", "reserved", "nmi", "hw-exception",
					   "sw-interrupt", "priv-sw-exception", "sw-exception", "other" };

static void ev_inject(struct trace *t, struct cpu *c, uint64_t cycle, const struct probe_event *e)
{
	line_start(t, c, cycle, "inject");
	num(t, "vector", e->code);
	str(t, "type", intr_types[(e->aux & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT]);
	hex(t, "info", e->aux);
	if (e->has_error)
		hex(t, "error", e->error);
	hex(t, "guest_rip", e->rip);
	line_end(t);
}

static const char *const int_kinds[] = {
	[INT_EXCEPTION] = "exception", [INT_SOFTWARE] = "software", [INT_SOFT_EXCEPTION] = "soft-exception",
	[INT_PRIV_SOFTWARE] = "priv-software", [INT_EXTERNAL] = "external", [INT_NMI] = "nmi",
};

static void ev_delivery(struct trace *t, struct cpu *c, uint64_t cycle, const struct probe_event *e)
{
	line_start(t, c, cycle, "delivery");
	num(t, "vector", e->code);
	str(t, "kind", e->aux < sizeof(int_kinds) / sizeof(int_kinds[0]) ? int_kinds[e->aux] : "?");
	if (e->has_error)
		hex(t, "error", e->error);
	hex(t, "rip", e->rip);
	line_end(t);
}

/* A triple fault (int) or a VMX abort (vmx). */
static void ev_shutdown(struct trace *t, struct cpu *c, uint64_t cycle, const struct probe_event *e)
{
	if (c->vmx.abort) {
		if (!(t->cats & TRACE_VMX))
			return;
		line_start(t, c, cycle, "vmx-abort");
		num(t, "indicator", c->vmx.abort);
		str(t, "text", vmx_abort_text(c->vmx.abort));
		hex(t, "vmcs", c->vmx.vmcs_ptr);
	} else {
		if (!(t->cats & TRACE_INT))
			return;
		line_start(t, c, cycle, "triple-fault");
		num(t, "vector", e->code);
		hex(t, "rip", e->rip);
	}
	line_end(t);
}

static void ev_io(struct trace *t, struct cpu *c, uint64_t cycle, const struct probe_event *e)
{
	line_start(t, c, cycle, "io");
	hex(t, "port", e->code);
	num(t, "size", e->aux);
	str(t, "dir", e->write ? "out" : "in");
	hex(t, "value", e->value);
	hex(t, "rip", e->rip);
	line_end(t);
}

static void ev_msr(struct trace *t, struct cpu *c, uint64_t cycle, const struct probe_event *e)
{
	line_start(t, c, cycle, "msr");
	hex(t, "msr", e->code);
	str(t, "op", e->write ? "wrmsr" : "rdmsr");
	hex(t, "value", e->value);
	line_end(t);
}

/* insn: the instruction at RIP about to run, as its bytes (its length
 * from the decoder; what the fetch would read, without side effects). */
static void ev_insn(struct trace *t, struct cpu *c, uint64_t cycle)
{
	uint8_t b[15];
	size_t n = dbg_read_code(t->d, c->id, dbg_rip_linear(c), b, sizeof(b));
	struct insn i;
	if (n && cpu_decode(b, (unsigned)n, dbg_decode_mode(c), &i) == DECODE_OK && i.len <= n)
		n = i.len;
	line_start(t, c, cycle, "insn");
	hex(t, "rip", c->rip);
	fputs(",\"bytes\":\"", t->f);
	for (size_t k = 0; k < n; k++)
		fprintf(t->f, "%02x", b[k]);
	fputc('"', t->f);
	line_end(t);
}

static void tap(void *ctx, struct cpu *c, uint64_t cycle, const struct probe_event *e)
{
	struct trace *t = ctx;
	if (!e) {
		ev_insn(t, c, cycle);
		return;
	}
	switch (e->kind) {
	case PROBE_VMEXIT:
		if (t->cats & TRACE_EXITS)
			ev_vmexit(t, c, cycle, e);
		break;
	case PROBE_VMENTRY:
		if (t->cats & TRACE_VMX)
			ev_vmentry(t, c, cycle, e);
		break;
	case PROBE_VMENTRY_FAIL:
		if (t->cats & TRACE_VMX)
			ev_vmentry_fail(t, c, cycle, e);
		break;
	case PROBE_INJECT:
		if (t->cats & TRACE_VMX)
			ev_inject(t, c, cycle, e);
		break;
	case PROBE_DELIVERY:
		if (t->cats & TRACE_INT)
			ev_delivery(t, c, cycle, e);
		break;
	case PROBE_SHUTDOWN:
		ev_shutdown(t, c, cycle, e);
		break;
	case PROBE_IO:
		if (t->cats & TRACE_IO)
			ev_io(t, c, cycle, e);
		break;
	case PROBE_MSR:
		if (t->cats & TRACE_MSR)
			ev_msr(t, c, cycle, e);
		break;
	case PROBE_DATA:
	case PROBE_VMXINSN:     /* not traced; --result counts them (sim/result.c) */
		break;
	}
}

/* ---- the writer ---- */

struct trace *trace_open(struct dbg *d, unsigned cats, const char *path, char *err, size_t errlen)
{
	struct trace *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "--trace: out of memory");
		return NULL;
	}
	*t = (struct trace){ .d = d, .cats = cats, .f = stderr };
	if (path && strcmp(path, "-")) {
		t->f = fopen(path, "w");
		if (!t->f) {
			snprintf(err, errlen, "--trace-file %s: cannot open for writing: %s", path, strerror(errno));
			free(t);
			return NULL;
		}
		t->own = true;
	}
	if (dbg_add_tap(d, tap, t, (cats & TRACE_INSN) != 0)) {
		snprintf(err, errlen, "--trace: too many observers on the debug session");
		if (t->own)
			fclose(t->f);
		free(t);
		return NULL;
	}
	return t;
}

int trace_close(struct trace *t, char *err, size_t errlen)
{
	if (!t)
		return 0;
	dbg_remove_tap(t->d, tap, t);
	int bad = ferror(t->f);
	if (t->own)
		bad |= fclose(t->f);
	else
		fflush(t->f);
	free(t);
	if (bad) {
		snprintf(err, errlen, "--trace-file: writing the trace failed");
		return -1;
	}
	return 0;
}
