/* Memory and machine inspection (docs/debugger.md, "Memory and
 * machine"): x, xp, disas, walk, ept, tlb, bt, info interrupts / apic /
 * devices. Every read goes through the debug API's side-effect-free walks
 * (sim/debug_api.h, mem/walkview.h): looking never sets an accessed or
 * dirty flag, fills a TLB or touches a device register. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "debugger/disasm.h"
#include "debugger/expr.h"
#include "debugger/shell.h"
#include "debugger/symbols.h"

#define X_MAX_UNITS 4096        /* x/FMT: at most this many units (or instructions) */
#define DISAS_DEFAULT 10
#define BT_MAX 64

/* An address or count argument: an expression over registers and
 * symbols (`$rsp+8`, `page+0x10`, debugger/expr.h). False with the
 * error printed. */
static bool arg_value(struct shell *sh, const char *s, uint64_t *v)
{
	char err[160];
	if (shell_eval(sh, -1, s, v, err, sizeof(err)) == 0)
		return true;
	shell_error(sh, "%s", err);
	return false;
}

/* ---- printing walks ---- */

static const struct {
	uint64_t mask;
	const char *name;
} paging_bits[] = {
#define PAGING_BIT(m, n) { m, n },
#include "mem/entry_bits.def"
#undef PAGING_BIT
}, ept_bits[] = {
#define EPT_BIT(m, n) { m, n },
#include "mem/entry_bits.def"
#undef EPT_BIT
};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* The flags of a guest entry: bit 7 is PS above the PTE and PAT in a
 * 4 KiB PTE; D and G only in a leaf; keyed: the protection key of the
 * leaf (a user-mode address under IA-32e paging with CR4.PKE, 4.6.2). */
static void print_paging_flags(FILE *o, const struct wv_entry *e, bool keyed)
{
	for (size_t k = 0; k < NELEMS(paging_bits); k++) {
		uint64_t m = paging_bits[k].mask;
		if (!(e->value & m) || (!e->leaf && (m == PTE_D || m == PTE_G)))
			continue;
		fprintf(o, " %s", m == PTE_PS && e->level == 1 ? "PAT" : paging_bits[k].name);
	}
	if (e->leaf && keyed)
		fprintf(o, " PK=%u", (unsigned)((e->value >> PTE_PKEY_SHIFT) & 15));
}

static const char *memtype_name(unsigned mt)
{
	static const char *const names[8] = { "UC", "WC", "?2", "?3", "WT", "WP", "WB", "?7" };
	return names[mt & 7];
}

static void print_ept_flags(FILE *o, const struct wv_entry *e)
{
	for (size_t k = 0; k < NELEMS(ept_bits); k++) {
		uint64_t m = ept_bits[k].mask;
		if ((e->value & m) && (e->leaf || (m != EPTE_IPAT && m != EPTE_D)))
			fprintf(o, " %s", ept_bits[k].name);
	}
	if (e->leaf) {
		unsigned mt = (unsigned)((e->value & EPTE_MT_MASK) >> EPTE_MT_SHIFT);
		fprintf(o, " MT=%u(%s)", mt, memtype_name(mt));
	}
}

static const char *size_text(uint64_t size)
{
	switch (size) {
	case 4096: return "4 KiB";
	case 2u << 20: return "2 MiB";
	case 4u << 20: return "4 MiB";
	case 1u << 30: return "1 GiB";
	}
	return "?";
}

static void print_perm(FILE *o, uint8_t perm)
{
	fprintf(o, "%c%c%c%s", perm & EPTE_R ? 'r' : '-', perm & EPTE_W ? 'w' : '-', perm & EPTE_X ? 'x' : '-',
		perm & EPT_PERM_UX ? " ux" : "");
}

/* The EPT walk e, one line per entry, indented by ind. */
static void print_ept_walk(FILE *o, const struct wv_ept *e, const char *ind)
{
	for (int k = 0; k < e->n; k++) {
		const struct wv_entry *en = &e->e[k];
		fprintf(o, "%s%-9s 0x%016llx = 0x%016llx", ind, wv_ept_level_name(en->level),
			(unsigned long long)en->addr, (unsigned long long)en->value);
		if (k == e->n - 1 && e->stop == WV_NOT_MEMORY)
			fputs(" (not RAM or ROM: not read)", o);
		else
			print_ept_flags(o, en);
		fputc('\n', o);
	}
	if (e->stop == WV_OK) {
		fprintf(o, "%s-> host-physical 0x%llx (%s EPT page, ", ind, (unsigned long long)e->hpa,
			size_text(e->page_size));
		print_perm(o, e->perm);
		fprintf(o, ", memory type %s%s)\n", memtype_name(e->memtype), e->ipat ? ", ignore PAT" : "");
	} else {
		fprintf(o, "%sstops at %s: %s%s\n", ind, e->n ? wv_ept_level_name(e->e[e->n - 1].level) : "the EPTP",
			e->stop == WV_RESERVED ? "EPT misconfiguration (reserved bits or bad R/W/X, 29.3.3.1)"
					       : wv_stop_name(e->stop),
			e->stop == WV_NOT_PRESENT ? " (EPT violation)" : "");
	}
}

/* Bits of an EPT-violation exit qualification (Table 28-7). */
static void print_qual_bits(FILE *o, uint64_t q)
{
	static const char *const names[12] = { "read", "write", "fetch", "readable", "writable", "executable",
						"user-executable", "GLA valid", "final translation", "user address",
						"R/W page", "XD page" };
	const char *sep = "";
	for (int b = 0; b < 12; b++)
		if (q >> b & 1) {
			fprintf(o, "%s%s", sep, names[b]);
			sep = ", ";
		}
}

/* The fault a data read would meet where the walk failed. */
static void print_walk_fault(FILE *o, const struct wv_walk *w, unsigned cpl)
{
	if (w->pf) {
		fprintf(o, "fault: #PF error code 0x%x (%s%s%s) for a read at CPL %u, CR2 = 0x%llx\n", w->pf_error,
			w->pf_error & PFEC_P ? "P" : "not present", w->pf_error & PFEC_RSVD ? " RSVD" : "",
			w->pf_error & PFEC_U ? " U" : "", cpl, (unsigned long long)w->la);
	} else if (w->ept_violation) {
		fprintf(o, "fault: EPT violation (exit 48), qualification 0x%llx (", (unsigned long long)w->ept_qual);
		print_qual_bits(o, w->ept_qual);
		fputs(")\n", o);
	} else if (w->stop == WV_EPT_FAILED) {
		fputs("fault: EPT misconfiguration (exit 49)\n", o);
	} else if (w->stop == WV_NOT_MEMORY) {
		fputs("fault: none that the walk can name: a paging-structure entry lies outside RAM and ROM\n", o);
	}
}

/* One guest entry of the walk, and under EPT the EPT translation of its
 * address (in full when that failed). */
static void print_guest_entry(FILE *o, const struct wv_walk *w, int k)
{
	const struct wv_entry *e = &w->e[k];
	bool last = k == w->n - 1;
	fprintf(o, "  %-6s %s 0x%016llx = 0x%016llx", wv_level_name(e->level), e->from_register ? "reg" : "at ",
		(unsigned long long)e->addr, (unsigned long long)e->value);
	if (last && w->stop == WV_EPT_FAILED && !w->ept_final.n)
		fputs(" (not read: its EPT walk failed)", o);
	else if (last && w->stop == WV_NOT_MEMORY)
		fputs(" (not RAM or ROM: not read)", o);
	else
		print_paging_flags(o, e, w->pkey != 0xff);
	if (e->leaf)
		fprintf(o, " -> %s page", size_text(e->page_size));
	fputc('\n', o);
	if (!w->ept || e->from_register)
		return;
	const struct wv_ept *x = &w->ept_entry[k];
	if (x->stop == WV_OK)
		fprintf(o, "         (EPT: gpa 0x%llx -> hpa 0x%llx)\n", (unsigned long long)x->gpa,
			(unsigned long long)x->hpa);
	else
		print_ept_walk(o, x, "         ");
}

static void print_walk(struct shell *sh, const struct wv_walk *w, unsigned cpl)
{
	FILE *o = shell_out(sh);
	for (int k = 0; k < w->n; k++)
		print_guest_entry(o, w, k);
	if (w->stop != WV_OK && !(w->stop == WV_EPT_FAILED && w->ept_final.n)) {
		if (w->stop != WV_EPT_FAILED)
			fprintf(o, "stops at %s: %s\n", wv_level_name(w->e[w->n - 1].level), wv_stop_name(w->stop));
		else
			fprintf(o, "stops at %s: its EPT walk failed\n", wv_level_name(w->e[w->n - 1].level));
		print_walk_fault(o, w, cpl);
		return;
	}
	fprintf(o, "-> %s 0x%llx (%s page, %s %s%s)\n", w->ept ? "guest-physical" : "physical",
		(unsigned long long)w->gpa, size_text(w->page_size), w->all_w ? "writable" : "read-only",
		w->all_u ? "user" : "supervisor", w->any_nx ? " no-execute" : "");
	if (!w->ept)
		return;
	fprintf(o, "EPT walk of gpa 0x%llx:\n", (unsigned long long)w->gpa);
	print_ept_walk(o, &w->ept_final, "  ");
	if (w->stop != WV_OK)
		print_walk_fault(o, w, cpl);
}

/* "cannot read 0x...: <why>" after a short read of linear memory. */
static void print_read_failure(struct shell *sh, uint64_t la, const struct wv_walk *w)
{
	FILE *o = shell_out(sh);
	if (w->stop == WV_OK || (w->stop == WV_NOT_MEMORY && w->n == 0)) {
		fprintf(o, "cannot read 0x%llx: it maps to physical 0x%llx, which is not RAM or ROM (MMIO or unmapped)\n",
			(unsigned long long)la, (unsigned long long)w->pa);
		return;
	}
	if (w->stop == WV_NOT_MEMORY && w->pa) {
		fprintf(o, "cannot read 0x%llx: physical 0x%llx is not RAM or ROM (MMIO or unmapped)\n",
			(unsigned long long)la, (unsigned long long)w->pa);
		return;
	}
	fprintf(o, "cannot read 0x%llx: no translation (%s):\n", (unsigned long long)la, wv_mode_name(w->mode));
	print_walk(sh, w, dbg_cpu(shell_dbg(sh), shell_cpu(sh))->cpl);
}

/* ---- x, xp ---- */

struct xfmt {
	unsigned count;
	char fmt;               /* x d u o c a s i */
	unsigned size;          /* 1 2 4 8 */
};

/* "x/NFU": count, format letter and size letter in any order after the
 * count (gdb's syntax). Defaults: 8 units of x, size g; i and s: 1. */
static bool parse_xfmt(struct shell *sh, const char *word, struct xfmt *f)
{
	const char *p = strchr(word, '/');
	*f = (struct xfmt){ .count = 0, .fmt = 'x', .size = 0 };
	if (p) {
		p++;
		if (isdigit((unsigned char)*p)) {
			char *end;
			unsigned long n = strtoul(p, &end, 10);
			if (n == 0 || n > X_MAX_UNITS) {
				shell_error(sh, "count %.*s: write 1 to %d (x/8xg ADDR)", (int)(end - p), p, X_MAX_UNITS);
				return false;
			}
			f->count = (unsigned)n;
			p = end;
		}
		for (; *p; p++) {
			if (strchr("xduocasi", *p))
				f->fmt = *p;
			else if (strchr("bhwg", *p))
				f->size = *p == 'b' ? 1 : *p == 'h' ? 2 : *p == 'w' ? 4 : 8;
			else {
				shell_error(sh, "'%c' in %s is no format (x d u o c a s i) or size (b h w g)", *p, word);
				return false;
			}
		}
	}
	if (!f->count)
		f->count = (f->fmt == 'i' || f->fmt == 's') ? 1 : 8;
	if (f->fmt == 'c')
		f->size = 1;
	if (!f->size)
		f->size = 8;
	return true;
}

static uint64_t unit_at(const uint8_t *b, unsigned size)
{
	uint64_t v = 0;
	memcpy(&v, b, size);            /* the host is little-endian, as the guest */
	return v;
}

static void print_unit(struct shell *sh, uint64_t v, const struct xfmt *f)
{
	FILE *o = shell_out(sh);
	unsigned bits = 8 * f->size;
	int64_t sv = bits == 64 ? (int64_t)v : (int64_t)(v << (64 - bits)) >> (64 - bits);
	switch (f->fmt) {
	case 'd': fprintf(o, "%lld", (long long)sv); break;
	case 'u': fprintf(o, "%llu", (unsigned long long)v); break;
	case 'o': fprintf(o, "0%llo", (unsigned long long)v); break;
	case 'c': fprintf(o, isprint((int)v) ? "%u '%c'" : "%u '\\x%02x'", (unsigned)v, (unsigned)v); break;
	case 'a': shell_print_addr(sh, v); break;
	default: fprintf(o, "0x%0*llx", (int)(2 * f->size), (unsigned long long)v); break;
	}
}

/* Read n bytes at addr (linear of the selected vCPU, or physical): how
 * many; a short read prints why. */
static size_t read_mem(struct shell *sh, bool phys, uint64_t addr, uint8_t *buf, size_t n)
{
	struct dbg *d = shell_dbg(sh);
	struct wv_walk w;
	size_t got = phys ? dbg_read_phys(d, addr, buf, n) : dbg_read_linear(d, shell_cpu(sh), addr, buf, n, &w);
	if (got < n) {
		if (phys)
			fprintf(shell_out(sh), "cannot read physical 0x%llx: not RAM or ROM (MMIO or unmapped)\n",
				(unsigned long long)(addr + got));
		else
			print_read_failure(sh, addr + got, &w);
	}
	return got;
}

static void x_strings(struct shell *sh, bool phys, uint64_t addr, unsigned count)
{
	FILE *o = shell_out(sh);
	for (unsigned s = 0; s < count; s++) {
		uint8_t buf[256];
		size_t got = read_mem(sh, phys, addr, buf, 1);
		if (!got)
			return;
		got += phys ? dbg_read_phys(shell_dbg(sh), addr + 1, buf + 1, sizeof(buf) - 1)
			    : dbg_read_linear(shell_dbg(sh), shell_cpu(sh), addr + 1, buf + 1, sizeof(buf) - 1, NULL);
		size_t len = 0;
		while (len < got && buf[len])
			len++;
		shell_print_addr(sh, addr);
		fputs(": \"", o);
		for (size_t k = 0; k < len; k++)
			fprintf(o, isprint(buf[k]) && buf[k] != '"' && buf[k] != '\\' ? "%c" : "\\x%02x", buf[k]);
		fprintf(o, "\"%s\n", len == got ? "..." : "");
		addr += len + 1;
	}
}

static uint64_t rip_linear(const struct cpu *c)
{
	return c->code64 ? c->rip : (c->seg[SEG_CS].base + c->rip) & 0xffffffffull;
}

/* n instructions from la of the selected vCPU (or physical addr). */
static int disassemble(struct shell *sh, bool phys, uint64_t la, unsigned n)
{
	const struct cpu *c = dbg_cpu(shell_dbg(sh), shell_cpu(sh));
	int bits = disasm_bits(c);
	uint64_t rip = rip_linear(c);
	for (unsigned k = 0; k < n; k++) {
		uint8_t buf[15];
		size_t got = phys ? dbg_read_phys(shell_dbg(sh), la, buf, sizeof(buf))
				  : dbg_read_linear(shell_dbg(sh), shell_cpu(sh), la, buf, sizeof(buf), NULL);
		unsigned len = got ? disasm_one(sh, la, buf, got, bits, !phys && la == rip) : 0;
		if (!len) {
			if (got < sizeof(buf))
				read_mem(sh, phys, la + got, buf, 1);   /* says why the bytes ran out */
			return got ? 0 : -1;
		}
		la += len;
	}
	return 0;
}

static void x_units(struct shell *sh, uint64_t addr, const uint8_t *buf, size_t got, const struct xfmt *f)
{
	FILE *o = shell_out(sh);
	unsigned per_line = f->size == 8 ? 2 : f->size == 4 ? 4 : 8;
	if (f->fmt == 'a' || f->fmt == 'c')
		per_line = f->fmt == 'a' ? 1 : 8;
	for (size_t u = 0; u * f->size + f->size <= got; u++) {
		if (u % per_line == 0) {
			if (u)
				fputc('\n', o);
			shell_print_addr(sh, addr + u * f->size);
			fputc(':', o);
		}
		fputc('\t', o);
		print_unit(sh, unit_at(buf + u * f->size, f->size), f);
	}
	if (got >= f->size)
		fputc('\n', o);
}

static int x_common(struct shell *sh, int argc, char **argv, bool phys)
{
	struct xfmt f;
	uint64_t addr;
	if (argc != 2)
		return shell_error(sh, "write %s/FMT ADDR (e.g. %s/8xg 0x1000, %s/4i $rip)", phys ? "xp" : "x",
				   phys ? "xp" : "x", phys ? "xp" : "x");
	if (!parse_xfmt(sh, argv[0], &f) || !arg_value(sh, argv[1], &addr))
		return -1;
	if (f.fmt == 'i')
		return disassemble(sh, phys, addr, f.count);
	if (f.fmt == 's') {
		x_strings(sh, phys, addr, f.count);
		return 0;
	}
	size_t n = (size_t)f.count * f.size;
	uint8_t *buf = malloc(n);
	if (!buf)
		return shell_error(sh, "out of memory");
	size_t got = read_mem(sh, phys, addr, buf, n);
	x_units(sh, addr, buf, got, &f);
	free(buf);
	return got == n ? 0 : -1;
}

static int cmd_x(struct shell *sh, int argc, char **argv)
{
	return x_common(sh, argc, argv, false);
}

static int cmd_xp(struct shell *sh, int argc, char **argv)
{
	return x_common(sh, argc, argv, true);
}

static int cmd_disas(struct shell *sh, int argc, char **argv)
{
	const struct cpu *c = dbg_cpu(shell_dbg(sh), shell_cpu(sh));
	uint64_t la = rip_linear(c), n = DISAS_DEFAULT;
	if (argc > 3)
		return shell_error(sh, "write disas [ADDR [N]]");
	if (argc >= 2 && !arg_value(sh, argv[1], &la))
		return -1;
	if (argc == 3 && (!arg_value(sh, argv[2], &n) || n == 0 || n > X_MAX_UNITS))
		return argc == 3 && (n == 0 || n > X_MAX_UNITS) ? shell_error(sh, "N: write 1 to %d", X_MAX_UNITS) : -1;
	return disassemble(sh, false, la, (unsigned)n);
}

/* ---- walk, ept ---- */

static int cmd_walk(struct shell *sh, int argc, char **argv)
{
	struct dbg *d = shell_dbg(sh);
	const struct cpu *c = dbg_cpu(d, shell_cpu(sh));
	struct wv_walk w;
	uint64_t la;
	if (argc != 2)
		return shell_error(sh, "write walk ADDR (a linear address of the selected vCPU)");
	if (!arg_value(sh, argv[1], &la))
		return -1;
	if (!(c->efer & EFER_LMA) && la > 0xffffffffull)
		return shell_error(sh, "0x%llx: linear addresses are 32 bits outside IA-32e mode",
				   (unsigned long long)la);
	dbg_translate(d, shell_cpu(sh), la, &w);
	fprintf(shell_out(sh), "walk of 0x%llx on cpu %d: %s, CR3 0x%llx%s", (unsigned long long)la, shell_cpu(sh),
		wv_mode_name(w.mode), (unsigned long long)c->cr3, w.ept ? "" : "\n");
	if (w.ept)
		fprintf(shell_out(sh), ", EPTP 0x%llx (guest-physical tables)\n", (unsigned long long)c->xc.eptp);
	if ((c->efer & EFER_LMA) && (c->cr0 & CR0_PG) && !is_canonical(la, c->cr4))
		fputs("note: not canonical: an access would raise #GP (or #SS), not walk\n", shell_out(sh));
	print_walk(sh, &w, c->cpl);
	return 0;
}

static int cmd_ept(struct shell *sh, int argc, char **argv)
{
	uint64_t gpa, eptp = 0, used;
	struct wv_ept e;
	if (argc < 2 || argc > 3)
		return shell_error(sh, "write ept GPA [EPTP]");
	if (!arg_value(sh, argv[1], &gpa) || (argc == 3 && !arg_value(sh, argv[2], &eptp)))
		return -1;
	if (argc == 3 && !eptp)
		return shell_error(sh, "EPTP 0 names no EPT; give the EPT pointer (bits 51:12 its PML4 table, 5:3 levels - 1, 2:0 memory type)");
	dbg_ept_walk(shell_dbg(sh), shell_cpu(sh), gpa, eptp, &e, &used);
	if (!used)
		return shell_error(sh, "cpu %d uses no EPT and its current VMCS enables none; write ept GPA EPTP",
				   shell_cpu(sh));
	fprintf(shell_out(sh), "EPT walk of gpa 0x%llx, EPTP 0x%llx (%u levels%s):\n", (unsigned long long)gpa,
		(unsigned long long)used, e.levels, used & (1ull << 6) ? ", A/D flags on" : "");
	print_ept_walk(shell_out(sh), &e, "  ");
	return 0;
}

/* ---- tlb ---- */

static const char *class_name(unsigned cls)
{
	static const char *const names[TLB_CLASSES] = { "sup", "user", "sup-ac" };
	return names[cls % TLB_CLASSES];
}

static void print_tlb_entry(FILE *o, const struct tlb *t, unsigned cls, const struct tlb_entry *e)
{
	uint64_t tag = e->tag_r != TLB_INVALID ? e->tag_r : e->tag_w != TLB_INVALID ? e->tag_w : e->tag_x;
	const struct tlb_context *x = &t->ctxs[e->ctx % TLB_CONTEXTS];
	fprintf(o, "  %-6s 0x%016llx -> 0x%011llx %c%c%c pcid %-4u vpid %-4u ", class_name(cls),
		(unsigned long long)(tag & PAGE_MASK), (unsigned long long)e->pa, e->tag_r != TLB_INVALID ? 'r' : '-',
		e->tag_w != TLB_INVALID ? 'w' : '-', e->tag_x != TLB_INVALID ? 'x' : '-', e->pcid, x->vpid);
	if (x->ept & TLB_EPT)
		fprintf(o, "ept 0x%llx ", (unsigned long long)(x->ept & ~TLB_EPT));
	else
		fputs("no-ept ", o);
	fprintf(o, "%s%s%s\n", size_text(1ull << e->size_shift), e->global ? " global" : "",
		(tag & TLB_DORMANT) || cls >= TLB_CLASSES ? " (dormant)" : "");
}

static int cmd_tlb(struct shell *sh, int argc, char **argv)
{
	const struct cpu *c = dbg_cpu(shell_dbg(sh), shell_cpu(sh));
	const struct tlb *t = &c->tlb;
	FILE *o = shell_out(sh);
	unsigned n = 0;
	if (argc != 1)
		return shell_error(sh, "tlb takes no arguments");
	fprintf(o, "TLB of cpu %d: current PCID %u, VPID %u\n", shell_cpu(sh), t->pcid, tlb_vpid(t));
	for (unsigned cls = 0; cls < 2 * TLB_CLASSES; cls++)
		for (unsigned i = 0; i < TLB_SIZE; i++) {
			const struct tlb_entry *e = &t->e[cls][i];
			if (e->tag_r == TLB_INVALID && e->tag_w == TLB_INVALID && e->tag_x == TLB_INVALID)
				continue;
			print_tlb_entry(o, t, cls, e);
			n++;
		}
	fprintf(o, "%u entries\n", n);
	return 0;
}

/* ---- bt ---- */

/* One frame line: "#k 0x... <sym+off>". */
static void print_frame(struct shell *sh, int k, uint64_t pc)
{
	fprintf(shell_out(sh), "#%-2d ", k);
	shell_print_addr(sh, pc);
	fputc('\n', shell_out(sh));
}

/* A return address the chain may continue from: nonzero, and inside a
 * symbol when the kernel has symbols. */
static bool good_pc(struct shell *sh, uint64_t pc)
{
	uint64_t off;
	return pc && (!shell_symbols(sh) || symtab_find(shell_symbols(sh), pc, &off));
}

/* The frame-pointer chain (RBP/EBP): [fp] is the caller's fp, [fp + w]
 * the return address. At a function's first byte the frame is not built
 * yet: the return address is at [rsp]. Stops at a frame pointer that is
 * zero, unaligned, not above the last, or unreadable, or at a return
 * address outside the symbols. */
static int cmd_bt(struct shell *sh, int argc, char **argv)
{
	struct dbg *d = shell_dbg(sh);
	const struct cpu *c = dbg_cpu(d, shell_cpu(sh));
	unsigned w = c->code64 ? 8 : 4;
	uint64_t mask = w == 8 ? ~0ull : 0xffffffffull, fp = c->gpr[5] & mask, pc = rip_linear(c), off = 1;
	int k = 0;
	if (argc != 1)
		return shell_error(sh, "bt takes no arguments");
	print_frame(sh, k++, pc);
	if (shell_symbols(sh) && symtab_find(shell_symbols(sh), pc, &off) && off == 0) {
		uint64_t ret = 0, sp = c->code64 ? c->gpr[4] : (c->seg[SEG_SS].base + (c->gpr[4] & mask)) & mask;
		if (dbg_read_linear(d, shell_cpu(sh), sp, &ret, w, NULL) == w && good_pc(sh, ret))
			print_frame(sh, k++, ret);
	}
	for (; k < BT_MAX; k++) {
		uint64_t next = 0, ret = 0;
		if (!fp || fp % w || dbg_read_linear(d, shell_cpu(sh), fp, &next, w, NULL) != w ||
		    dbg_read_linear(d, shell_cpu(sh), fp + w, &ret, w, NULL) != w || !good_pc(sh, ret))
			break;
		print_frame(sh, k, ret);
		if (next <= fp)
			break;
		fp = next;
	}
	if (k == BT_MAX)
		fprintf(shell_out(sh), "(more frames: stopped after %d)\n", BT_MAX);
	return 0;
}

/* ---- info interrupts, apic, devices ---- */

static int cmd_info_interrupts(struct shell *sh, int argc, char **argv)
{
	const struct cpu *c = dbg_cpu(shell_dbg(sh), shell_cpu(sh));
	FILE *o = shell_out(sh);
	if (argc != 2)
		return shell_error(sh, "info interrupts takes no arguments");
	fprintf(o, "cpu %d: RFLAGS.IF %d, interrupt shadow: %s\n", shell_cpu(sh), (c->rflags & FL_IF) != 0,
		c->sti_shadow ? "STI" : c->mov_ss_shadow ? "MOV SS / POP SS" : "none");
	fprintf(o, "  INTR line %d, NMI pending %d, NMI blocked %d, INIT pending %d\n", c->intr_req, c->nmi_pending,
		c->nmi_blocked, c->init_pending);
	fprintf(o, "  activity: %s\n", c->shutdown ? "shutdown" : c->wait_sipi ? "wait-for-SIPI"
					: c->halted ? "HLT" : "active");
	fprintf(o, "  pending debug exceptions 0x%llx\n", (unsigned long long)c->pending_dbg);
	/* A fault is delivered within the instruction that raised it: at a
	 * boundary only a translation failure waiting to become a VM exit
	 * can still be pending (struct pending_exc). */
	fprintf(o, "  pending exception: %s\n", c->exc.vmexit ? "a VM exit from a failed translation" : "none");
	return 0;
}

static int cmd_info_apic(struct shell *sh, int argc, char **argv)
{
	if (argc != 2)
		return shell_error(sh, "info apic takes no arguments (it shows the selected vCPU's; `cpu N` selects)");
	if (!dbg_dump_lapic(shell_dbg(sh), shell_cpu(sh), shell_out(sh)))
		return shell_error(sh, "cpu %d has no local APIC", shell_cpu(sh));
	return 0;
}

static int devices_usage(struct shell *sh, const char *what)
{
	char names[256] = "";
	for (int i = 0; dbg_device_name(i); i++) {
		strncat(names, i ? " " : "", sizeof(names) - strlen(names) - 1);
		strncat(names, dbg_device_name(i), sizeof(names) - strlen(names) - 1);
	}
	return shell_error(sh, "%s: the devices are %s", what, names);
}

static int cmd_devices(struct shell *sh, int argc, char **argv)
{
	if (argc > 2)
		return devices_usage(sh, "write devices [NAME]");
	if (!dbg_dump_devices(shell_dbg(sh), shell_out(sh), argc == 2 ? argv[1] : NULL))
		return devices_usage(sh, argc == 2 ? argv[1] : "no device");
	return 0;
}

static int cmd_info_devices(struct shell *sh, int argc, char **argv)
{
	return cmd_devices(sh, argc - 1, argv + 1);
}

const struct shell_cmd shell_cmds_mem[] = {
	{ "x", "/FMT ADDR", "linear memory of the selected vCPU (x/8xg, x/4i, x/s...)",
	  "x/NFU ADDR: N units (default 8; 1 for i and s) of size U (b h w g, default g) in format F:\n"
	  "  x hex, d signed, u unsigned, o octal, c char, a address with symbol, s string, i instruction.\n"
	  "  ADDR is linear (the selected vCPU's paging, and EPT in non-root); where a byte does not\n"
	  "  translate it prints the walk and the fault a read would raise. Nothing is changed.",
	  cmd_x },
	{ "xp", "/FMT PA", "physical memory (same formats as x)",
	  "xp/NFU PA: as x, at a physical (host-physical) address; MMIO is not read.", cmd_xp },
	{ "disas", "[ADDR [N]]", "disassemble N (10) instructions at ADDR (RIP), Intel syntax",
	  "Zydis, in the selected vCPU's code size (64 with CS.L and EFER.LMA, else CS.D: 32 or 16);\n"
	  "  => marks RIP; <symbol+offset> from the kernel's ELF symbols.", cmd_disas },
	{ "walk", "ADDR", "page walk of a linear address, level by level, and its EPT walk",
	  "Every paging-structure entry (address, value, flags), under EPT the EPT translation of each\n"
	  "  and the full EPT walk of the final guest-physical address; ends in the (host-)physical\n"
	  "  address or the fault a data read would raise (#PF error code, EPT violation qualification).\n"
	  "  Sets no accessed or dirty flag.", cmd_walk },
	{ "ept", "GPA [EPTP]", "EPT walk of a guest-physical address (current EPTP, or EPTP)",
	  "Without EPTP: the EPTP the vCPU uses in non-root operation, else the one of its current\n"
	  "  VMCS (a hypervisor stopped at a VM exit).", cmd_ept },
	{ "tlb", "", "valid entries of the selected vCPU's software TLB", NULL, cmd_tlb },
	{ "bt", "", "backtrace by frame pointers (RBP/EBP chain) with symbols", NULL, cmd_bt },
	{ "info interrupts", "", "IF, interrupt shadows, NMI, INTR, activity, pending debug exceptions", NULL,
	  cmd_info_interrupts },
	{ "info apic", "", "the selected vCPU's local APIC: ID, TPR/PPR, IRR/ISR/TMR, LVT, timer", NULL,
	  cmd_info_apic },
	{ "info devices", "[NAME]", "alias of devices", NULL, cmd_info_devices },
	{ "devices", "[NAME]", "device state: all, or one (uart pic pit rtc ioapic lapic ...)", NULL, cmd_devices },
	{ NULL, NULL, NULL, NULL, NULL },
};
