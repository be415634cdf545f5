/* Register views (docs/debugger.md, `regs`): general, segment, control,
 * debug, MSRs, x87 and SSE, all read through dbg_cpu() (read-only). */
#include <math.h>
#include <string.h>

#include "debugger/shell.h"

enum reg_id { REG_RFLAGS, REG_CR0, REG_CR4, REG_EFER, REG_XCR0 };

static const struct {
	enum reg_id reg;
	int bit;
	const char *name;
} regbits[] = {
#define REGBIT(r, b, n) { REG_##r, b, #n },
#include "cpu/regbits.def"
#undef REGBIT
};

/* The named bits of reg set in v: " CF ZF ...". */
static void print_bits(FILE *o, enum reg_id reg, uint64_t v)
{
	for (size_t k = 0; k < sizeof(regbits) / sizeof(regbits[0]); k++)
		if (regbits[k].reg == reg && (v >> regbits[k].bit & 1))
			fprintf(o, " %s", regbits[k].name);
}


/* SDM vol. 3A 2.2 (operating modes) and 4.1.1 (paging modes). */
static const char *mode_text(const struct cpu *c)
{
	if (!(c->cr0 & CR0_PE))
		return "real mode";
	if (c->rflags & FL_VM)
		return "virtual-8086 mode";
	if (c->efer & EFER_LMA)
		return c->code64 ? "64-bit mode" : "compatibility mode";
	return (c->seg[SEG_CS].ar & AR_DB) ? "protected mode (32-bit code)" : "protected mode (16-bit code)";
}

static const char *paging_text(const struct cpu *c)
{
	if (!(c->cr0 & CR0_PG))
		return "no paging";
	if (!(c->cr4 & CR4_PAE))
		return "32-bit paging";
	if (!(c->efer & EFER_LMA))
		return "PAE paging";
	return (c->cr4 & CR4_LA57) ? "5-level paging" : "4-level paging";
}

static int regs_general(struct shell *sh, const struct cpu *c)
{
	static const char *const names[16] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
					       "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15" };
	static const int idx[16] = { R_AX, R_BX, R_CX, R_DX, R_SI, R_DI, R_BP, R_SP,
				     R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15 };
	FILE *o = shell_out(sh);
	uint64_t fl = 0;
	for (int k = 0; k < 16; k++)
		fprintf(o, "%-3s 0x%016llx%s", names[k], (unsigned long long)c->gpr[idx[k]], k % 4 == 3 ? "\n" : "  ");
	fputs("rip ", o);
	shell_print_addr(sh, c->rip);
	dbg_reg_read(shell_dbg(sh), shell_cpu(sh), "rflags", &fl);
	fprintf(o, "\nrflags 0x%016llx [", (unsigned long long)fl);
	print_bits(o, REG_RFLAGS, fl);
	fprintf(o, " ] IOPL %u\n", (unsigned)(fl >> 12 & 3));
	fprintf(o, "cpl %u, %s, %s, %s\n", c->cpl, mode_text(c), paging_text(c),
		!c->vmx.on ? "not in VMX operation" : c->vmx.nonroot ? "VMX non-root operation" : "VMX root operation");
	return 0;
}

/* Descriptor types (SDM vol. 3A 3.4.5.1 Table 3-1; 3.5 Table 3-2). */
static void print_type(FILE *o, uint32_t ar)
{
	unsigned t = ar & AR_TYPE_MASK;
	if (ar & AR_S) {
		if (t & 8)
			fprintf(o, "code %s%s%s", t & 2 ? "XR" : "X", t & 4 ? " conforming" : "", t & 1 ? " accessed" : "");
		else
			fprintf(o, "data %s%s%s", t & 2 ? "RW" : "R", t & 4 ? " expand-down" : "", t & 1 ? " accessed" : "");
		return;
	}
	static const char *const sys[16] = { "reserved", "16-bit TSS (available)", "LDT", "16-bit TSS (busy)",
					     "16-bit call gate", "task gate", "16-bit interrupt gate",
					     "16-bit trap gate", "reserved", "32/64-bit TSS (available)", "reserved",
					     "32/64-bit TSS (busy)", "32/64-bit call gate", "reserved",
					     "32/64-bit interrupt gate", "32/64-bit trap gate" };
	fputs(sys[t], o);
}

static void print_seg(FILE *o, const char *name, const struct segment *s)
{
	fprintf(o, "%-4s sel 0x%04x base 0x%016llx limit 0x%08x ar 0x%05x ", name, s->sel, (unsigned long long)s->base,
		s->limit, s->ar);
	if (s->ar & AR_UNUSABLE) {
		fputs("unusable\n", o);
		return;
	}
	print_type(o, s->ar);
	fprintf(o, ", DPL %u%s%s%s%s%s%s\n", s->ar >> AR_DPL_SHIFT & 3, s->ar & AR_S ? "" : ", S=0 (system)",
		s->ar & AR_P ? ", P" : ", not present", s->ar & AR_AVL ? ", AVL" : "", s->ar & AR_L ? ", L" : "",
		s->ar & AR_DB ? ", D/B" : "", s->ar & AR_G ? ", G" : "");
}

static int regs_seg(struct shell *sh, const struct cpu *c)
{
	static const char *const names[6] = { "es", "cs", "ss", "ds", "fs", "gs" };
	static const int order[6] = { SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS };
	FILE *o = shell_out(sh);
	for (int k = 0; k < 6; k++)
		print_seg(o, names[order[k]], &c->seg[order[k]]);
	print_seg(o, "ldtr", &c->ldtr);
	print_seg(o, "tr", &c->tr);
	fprintf(o, "gdtr base 0x%016llx limit 0x%04x\n", (unsigned long long)c->gdtr.base, c->gdtr.limit);
	fprintf(o, "idtr base 0x%016llx limit 0x%04x\n", (unsigned long long)c->idtr.base, c->idtr.limit);
	return 0;
}

static int regs_cr(struct shell *sh, const struct cpu *c)
{
	FILE *o = shell_out(sh);
	fprintf(o, "cr0  0x%016llx [", (unsigned long long)c->cr0);
	print_bits(o, REG_CR0, c->cr0);
	fprintf(o, " ]\ncr2  0x%016llx\ncr3  0x%016llx\ncr4  0x%016llx [", (unsigned long long)c->cr2,
		(unsigned long long)c->cr3, (unsigned long long)c->cr4);
	print_bits(o, REG_CR4, c->cr4);
	fprintf(o, " ]\ncr8  0x%016llx\nefer 0x%016llx [", (unsigned long long)c->cr8, (unsigned long long)c->efer);
	print_bits(o, REG_EFER, c->efer);
	fprintf(o, " ]\nxcr0 0x%016llx [", (unsigned long long)c->xcr0);
	print_bits(o, REG_XCR0, c->xcr0);
	fputs(" ]\n", o);
	return 0;
}

/* DR7 (SDM vol. 3B 18.2.4): L/G enables, R/W and LEN per breakpoint. */
static int regs_dr(struct shell *sh, const struct cpu *c)
{
	static const char *const rw[4] = { "exec", "write", "io", "rw" };
	static const unsigned len[4] = { 1, 2, 8, 4 };
	FILE *o = shell_out(sh);
	uint64_t dr6 = c->dr[6], dr7 = c->dr[7];
	for (int k = 0; k < 4; k++) {
		fprintf(o, "dr%d  0x%016llx", k, (unsigned long long)c->dr[k]);
		if (dr7 >> (2 * k) & 3)
			fprintf(o, "  %s%s %s, %u byte%s", dr7 >> (2 * k) & 1 ? "L" : "", dr7 >> (2 * k + 1) & 1 ? "G" : "",
				rw[dr7 >> (16 + 4 * k) & 3], len[dr7 >> (18 + 4 * k) & 3],
				len[dr7 >> (18 + 4 * k) & 3] > 1 ? "s" : "");
		fputc('\n', o);
	}
	fprintf(o, "dr6  0x%016llx [", (unsigned long long)dr6);
	for (int k = 0; k < 4; k++)
		if (dr6 >> k & 1)
			fprintf(o, " B%d", k);
	fprintf(o, "%s%s%s ]\n", dr6 & DR6_BD ? " BD" : "", dr6 & DR6_BS ? " BS" : "", dr6 & DR6_BT ? " BT" : "");
	fprintf(o, "dr7  0x%016llx [%s%s%s ]\n", (unsigned long long)dr7, dr7 >> 8 & 1 ? " LE" : "",
		dr7 >> 9 & 1 ? " GE" : "", dr7 & DR7_GD ? " GD" : "");
	return 0;
}

static int regs_msr(struct shell *sh, const struct cpu *c)
{
	FILE *o = shell_out(sh);
	fprintf(o, "%-22s 0x%08x 0x%016llx\n", "IA32_TSC", 0x10u, (unsigned long long)(c->cycles + c->tsc_offset));
#define MSR_FIELD(i, name, feat, field, reset, check) \
	fprintf(o, "%-22s 0x%08x 0x%016llx\n", #name, (unsigned)(i), (unsigned long long)c->msr.field);
#define MSR_FN(i, name, feat, rd, wr)
#define MSR_VMX_CAP(i, name)
#include "cpu/msrs.def"
#undef MSR_FIELD
#undef MSR_FN
#undef MSR_VMX_CAP
	fprintf(o, "%-22s 0x%08x 0x%016llx\n", "IA32_EFER", 0xc0000080u, (unsigned long long)c->efer);
	fprintf(o, "%-22s 0x%08x 0x%016llx\n", "IA32_FS_BASE", 0xc0000100u, (unsigned long long)c->seg[SEG_FS].base);
	fprintf(o, "%-22s 0x%08x 0x%016llx\n", "IA32_GS_BASE", 0xc0000101u, (unsigned long long)c->seg[SEG_GS].base);
	return 0;
}

/* An 80-bit extended-precision value (SDM vol. 1 4.2.2), approximately. */
static double ext80(const uint8_t *b)
{
	uint64_t mant;
	memcpy(&mant, b, 8);
	unsigned se = (unsigned)b[8] | (unsigned)b[9] << 8, exp = se & 0x7fff;
	double v = exp == 0x7fff ? (mant << 1 ? NAN : INFINITY) : ldexp((double)mant, (int)exp - 16383 - 63);
	return se & 0x8000 ? -v : v;
}

static int regs_fpu(struct shell *sh, const struct cpu *c)
{
	FILE *o = shell_out(sh);
	const struct fpu_state *f = &c->fpu;
	unsigned top = f->fsw >> 11 & 7;
	fprintf(o, "fcw 0x%04x  fsw 0x%04x (TOP %u)  ftw 0x%02x (abridged)  fop 0x%03x\n", f->fcw, f->fsw, top, f->ftw,
		f->fop);
	for (unsigned k = 0; k < 8; k++) {
		unsigned r = (top + k) & 7;
		const uint8_t *b = f->st[r];
		fprintf(o, "st%u (R%u) %s 0x%02x%02x%016llx", k, r, f->ftw >> r & 1 ? "valid" : "empty", b[9], b[8],
			(unsigned long long)(b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24 |
					     (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 | (uint64_t)b[6] << 48 |
					     (uint64_t)b[7] << 56));
		if (f->ftw >> r & 1)
			fprintf(o, " (%.17g)", ext80(b));
		fputc('\n', o);
	}
	return 0;
}

static int regs_sse(struct shell *sh, const struct cpu *c)
{
	FILE *o = shell_out(sh);
	const struct fpu_state *f = &c->fpu;
	bool avx = c->xcr0 & 4;         /* XCR0.AVX: the YMM upper halves are in use */
	for (int k = 0; k < 16; k++) {
		if (avx)
			fprintf(o, "ymm%-2d 0x%016llx%016llx_", k, (unsigned long long)f->ymmh[k].q[1],
				(unsigned long long)f->ymmh[k].q[0]);
		else
			fprintf(o, "xmm%-2d 0x", k);
		fprintf(o, "%s%016llx%016llx\n", avx ? "" : "", (unsigned long long)f->xmm[k].q[1],
			(unsigned long long)f->xmm[k].q[0]);
	}
	fprintf(o, "mxcsr 0x%08x\n", f->mxcsr);
	return 0;
}

static int cmd_regs(struct shell *sh, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct shell *, const struct cpu *);
	} views[] = { { "seg", regs_seg }, { "cr", regs_cr }, { "dr", regs_dr },
		      { "msr", regs_msr }, { "fpu", regs_fpu }, { "sse", regs_sse } };
	const struct cpu *c = dbg_cpu(shell_dbg(sh), shell_cpu(sh));
	if (argc == 1)
		return regs_general(sh, c);
	if (argc == 2) {
		if (!strcmp(argv[1], "all")) {
			regs_general(sh, c);
			for (size_t k = 0; k < sizeof(views) / sizeof(views[0]); k++)
				views[k].fn(sh, c);
			return 0;
		}
		for (size_t k = 0; k < sizeof(views) / sizeof(views[0]); k++)
			if (!strcmp(argv[1], views[k].name))
				return views[k].fn(sh, c);
	}
	return shell_error(sh, "regs [seg|cr|dr|msr|fpu|sse|all]");
}

static int cmd_rdmsr(struct shell *sh, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return shell_error(sh, "rdmsr takes no arguments: `regs msr` lists the MSRs the CPU keeps");
	return regs_msr(sh, dbg_cpu(shell_dbg(sh), shell_cpu(sh)));
}

const struct shell_cmd shell_cmds_regs[] = {
	{ "regs", "[seg|cr|dr|msr|fpu|sse|all]", "registers of the selected vCPU (also `info registers`)",
	  "regs: general registers, RIP, RFLAGS by flag, CPL, operating and paging mode, VMX root/non-root.\n"
	  "  regs seg: selectors, bases, limits, access rights decoded, GDTR/IDTR. regs cr: CR0-CR8, EFER,\n"
	  "  XCR0 with set bits named. regs dr: DR0-3 with DR7's enables, DR6, DR7. regs msr: the MSRs the\n"
	  "  CPU keeps. regs fpu: x87 stack, FCW/FSW/FTW. regs sse: XMM0-15 (YMM with XCR0.AVX), MXCSR.", cmd_regs },
	{ "rdmsr", "", "alias of `regs msr`", NULL, cmd_rdmsr },
	{ NULL, NULL, NULL, NULL, NULL },
};
