/* Exit reasons in words and exit qualifications decoded (vmx/explain.h),
 * from the tables of SDM vol. 3C 27.2.1 (Tables 27-1 to 27-7). */
#include "vmx/explain.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cpu/cpu.h"
#include "vmx/controls.h"
#include "vmx/ctlbits.h"

static const struct vmx_explain_row rows[] = {
#define X(id, why, section, kind) [EXIT_REASON_##id] = { why, section, kind },
#include "vmx/explain.def"
#undef X
};

/* One row per reason of EXIT_REASON_TABLE: a row naming no reason does not
 * compile, two rows for one reason trip -Woverride-init (-Wextra), and the
 * counts agree. */
enum {
#define X(n, id, text) +1
	EXIT_REASON_COUNT = 0 EXIT_REASON_TABLE(X),
#undef X
#define X(id, why, section, kind) +1
	EXPLAIN_ROW_COUNT = 0
#include "vmx/explain.def"
#undef X
};
_Static_assert(EXIT_REASON_COUNT == EXPLAIN_ROW_COUNT, "vmx/explain.def: one row per exit reason of EXIT_REASON_TABLE");

const struct vmx_explain_row *vmx_explain_row(uint32_t basic)
{
	if (basic >= sizeof(rows) / sizeof(rows[0]) || !rows[basic].why)
		return NULL;
	return &rows[basic];
}

/* ---- decoders ---- */

/* The GPR encoding of Tables 27-3 and 27-4 (0 = RAX ... 15 = R15). */
static const char *const gpr_names[16] = { "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
					   "R8",  "R9",  "R10", "R11", "R12", "R13", "R14", "R15" };

struct out {
	char *buf;
	size_t n, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	if (o->len >= o->n)
		return;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(o->buf + o->len, o->n - o->len, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->len = o->len + (size_t)k < o->n ? o->len + (size_t)k : o->n - 1;
}

/* 27.2.2: the event of an exception or NMI exit; 27.2.1 Table 27-1: the
 * qualification of #DB (B3-B0, BD, BS) and #PF (the linear address). */
static void dec_exception(struct out *o, uint64_t q, uint32_t info)
{
	if (!(info & INTR_INFO_VALID)) {
		put(o, "interruption information not valid");
		return;
	}
	unsigned vec = info & INTR_INFO_VECTOR_MASK;
	unsigned type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	if (type == INTR_TYPE_NMI) {
		put(o, "NMI (vector 2)");
		return;
	}
	const char *mn = cpu_vector_mnemonic(vec);
	put(o, "vector %u %s (%s), %s", vec, mn ? mn : "", cpu_vector_text(vec), ctl_intr_type_name(type));
	if (vec == VEC_PF)
		put(o, ", linear address %#" PRIx64, q);
	if (vec == VEC_DB) {
		put(o, ", debug conditions");
		for (unsigned b = 0; b < 4; b++)
			if (q & (1u << b))
				put(o, " B%u", b);
		if (q & (1u << 13))
			put(o, " BD");
		if (q & (1u << 14))
			put(o, " BS");
		if (!(q & 0x600f))
			put(o, " none");
	}
}

static void dec_interrupt(struct out *o, uint32_t info)
{
	if (info & INTR_INFO_VALID)
		put(o, "vector %u, acknowledged on exit", info & INTR_INFO_VECTOR_MASK);
	else
		put(o, "vector not saved (\"acknowledge interrupt on exit\" is 0; the interrupt is still pending)");
}

/* Table 27-2. */
static void dec_task_switch(struct out *o, uint64_t q)
{
	static const char *const src[4] = { "CALL", "IRET", "JMP", "a task gate in the IDT" };
	put(o, "to TSS selector %#x by %s", (unsigned)(q & 0xffff), src[(q >> 30) & 3]);
}

/* Table 27-3. */
static void dec_cr(struct out *o, uint64_t q)
{
	unsigned cr = q & 15, gpr = (q >> 8) & 15;
	switch ((q >> 4) & 3) {
	case 0: put(o, "MOV to CR%u from %s", cr, gpr_names[gpr]); break;
	case 1: put(o, "MOV from CR%u to %s", cr, gpr_names[gpr]); break;
	case 2: put(o, "CLTS"); break;
	default:
		put(o, "LMSW with source %#x from %s", (unsigned)((q >> 16) & 0xffff), q & 64 ? "memory" : "a register");
		break;
	}
}

/* Table 27-4. */
static void dec_dr(struct out *o, uint64_t q)
{
	unsigned dr = q & 7, gpr = (q >> 8) & 15;
	if (q & 16)
		put(o, "MOV from DR%u to %s", dr, gpr_names[gpr]);
	else
		put(o, "MOV to DR%u from %s", dr, gpr_names[gpr]);
}

/* Table 27-5. */
static void dec_io(struct out *o, uint64_t q)
{
	static const char *const acc[4] = { "AL", "AX", "?", "EAX" };
	unsigned size = (unsigned)(q & 7) + 1, port = (unsigned)(q >> 16) & 0xffff;
	bool in = q & 8, string = q & 16;
	put(o, "%s%s %s port %#x, %u byte%s", in ? "IN" : "OUT", string ? "S" : "", in ? "from" : "to", port, size,
	    size > 1 ? "s" : "");
	if (string)
		put(o, "%s", q & 32 ? ", REP" : "");
	else
		put(o, ", %s %s", in ? "into" : "from", acc[q & 3]);
	put(o, "%s", q & 64 ? ", port in the instruction" : ", port in DX");
}

/* Table 27-6. */
static void dec_apic_access(struct out *o, uint64_t q)
{
	unsigned type = (q >> 12) & 15, off = q & 0xfff;
	switch (type) {
	case 0: put(o, "linear data read at offset %#x", off); break;
	case 1: put(o, "linear data write at offset %#x", off); break;
	case 2: put(o, "linear instruction fetch at offset %#x", off); break;
	case 3: put(o, "linear access during event delivery at offset %#x", off); break;
	case 10: put(o, "guest-physical access during event delivery"); break;
	case 15: put(o, "guest-physical access for a fetch or during instruction execution"); break;
	default: put(o, "access type %u (not used by the SDM)", type); break;
	}
}

/* Table 27-7. */
static void dec_ept(struct out *o, uint64_t q)
{
	put(o, "%s%s%saccess; the EPT entry allowed %c%c%c", q & 1 ? "read " : "", q & 2 ? "write " : "",
	    q & 4 ? "fetch " : "", q & 8 ? 'r' : '-', q & 16 ? 'w' : '-', q & 32 ? 'x' : '-');
	if (!(q & 128))
		put(o, "; no guest linear address");
	else
		put(o, "%s", q & 256 ? "; at the final guest-physical address" : "; in a guest paging-structure walk");
	if (q & (1u << 12))
		put(o, "; NMI unblocking due to IRET");
}

static void dec_entry_guest(struct out *o, uint64_t q)
{
	switch (q) {
	case 2: put(o, "loading a PDPTE failed"); break;
	case 3: put(o, "NMI injection with blocking by STI"); break;
	case 4: put(o, "the VMCS link pointer is not valid"); break;
	case 0: break;          /* 0: not used */
	default: put(o, "a value the SDM does not define"); break;
	}
}

void vmx_exit_qual_text(uint32_t reason, uint64_t q, uint32_t intr_info, char *buf, size_t n)
{
	struct out o = { buf, n, 0 };
	const struct vmx_explain_row *r = vmx_explain_row(reason & 0xffff);
	if (n)
		buf[0] = 0;
	switch (r ? r->qual : QK_NONE) {
	case QK_NONE: break;
	case QK_EXCEPTION: dec_exception(&o, q, intr_info); break;
	case QK_INTERRUPT: dec_interrupt(&o, intr_info); break;
	case QK_SIPI: put(&o, "SIPI vector %#x (start at %#x)", (unsigned)(q & 0xff), (unsigned)(q & 0xff) << 12); break;
	case QK_TASK_SWITCH: dec_task_switch(&o, q); break;
	case QK_LINEAR: put(&o, "linear address %#" PRIx64, q); break;
	case QK_DISPLACEMENT: put(&o, "displacement %#" PRIx64, q); break;
	case QK_CR: dec_cr(&o, q); break;
	case QK_DR: dec_dr(&o, q); break;
	case QK_IO: dec_io(&o, q); break;
	case QK_MWAIT: put(&o, "%s", q & 1 ? "monitoring hardware armed" : "monitoring hardware not armed"); break;
	case QK_APIC_ACCESS: dec_apic_access(&o, q); break;
	case QK_EPT_VIOLATION: dec_ept(&o, q); break;
	case QK_EOI_VECTOR: put(&o, "vector %u", (unsigned)(q & 0xff)); break;
	case QK_APIC_OFFSET: put(&o, "offset %#x", (unsigned)(q & 0xfff)); break;
	case QK_ENTRY_GUEST: dec_entry_guest(&o, q); break;
	case QK_MSR_INDEX: put(&o, "MSR-load entry %" PRIu64 " (counting from 1)", q); break;
	case QK_PML: put(&o, "%s", q & (1u << 12) ? "NMI unblocking due to IRET" : ""); break;
	}
}
