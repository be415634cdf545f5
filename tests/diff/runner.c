/* difftest: random instruction sequences, run natively and in vtxsim,
 * compared register by register, flag by flag (without the flags the SDM
 * leaves undefined), byte by byte in memory, and by the exception taken.
 *
 *   difftest [-n INSNS] [-s SEED] [-l MAXLEN] [-f MAXFAIL] [-c] [-q] [-t NAME]
 *
 * -n   template instructions to execute (default 200000)
 * -s   seed (default 1); printed so a failure can be replayed
 * -l   template instances per sequence, at most (default 12)
 * -f   stop after this many mismatching sequences (default 10)
 * -c   print the coverage table by opcodes.def row
 * -t   only templates whose name starts with NAME
 * -a   let RFLAGS.AC be set (alignment checks at CPL 3)
 *
 * Ends with "diff: P passed, F failed" where P counts templates exercised
 * without a mismatch and F the templates of mismatching sequences.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "cpu/cpuid.h"
#include "cpu/decode.h"
#include "tests/diff/diff.h"
#include "tests/diff/seq.h"

struct row {
	unsigned map, lo, hi;
	int ext;
	const char *name;
	uint64_t hits;
	bool templated;         /* an active template reaches it */
	bool inactive;          /* only inactive templates reach it */
	bool ud64;              /* a template checks that it is #UD in 64-bit mode */
};

static struct row rows[] = {
#define X (-1)
#define M3(b) (0x100 | (b))
#define OP(map, lo, hi, ext, form, handler, cost) { map, lo, hi, ext, #handler + 3, 0, false, false, false },
#include "cpu/opcodes.def"
#undef OP
#undef M3
#undef X
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

struct opts {
	uint64_t insns, seed;
	unsigned maxlen, maxfail;
	bool coverage, quiet, ac;
	const char *only;
};

struct stats {
	uint64_t executed, sequences, mismatches;
	uint64_t *tmpl_runs;    /* per template: instances executed */
	bool *tmpl_bad;         /* per template: in a mismatching sequence */
};

/* The row an instruction decoded to, by opcode, handler and ModRM. */
static struct row *row_of(const uint8_t *b, unsigned avail, unsigned *len)
{
	const char *name;
	uint16_t opcode;
	uint8_t modrm;
	*len = vm_decode(b, avail, &name, &opcode, &modrm);
	if (!*len)
		return NULL;
	unsigned map = opcode >> 8, byte = opcode & 0xff;
	for (size_t k = 0; k < NROWS; k++) {
		struct row *r = &rows[k];
		if (r->map != map || byte < r->lo || byte > r->hi || strcmp(r->name, name) != 0)
			continue;
		if (r->ext >= 0x100 && modrm != (r->ext & 0xff))
			continue;
		if (r->ext >= 0 && r->ext < 0x100 && ((modrm >> 3) & 7) != r->ext)
			continue;
		return r;
	}
	return NULL;
}

/* ---- activation: which templates this host and this vtxsim can run ---- */

static const char *inactive_reason(struct diff_vm *vm, const struct diff_tmpl *t)
{
	if (t->feat && !native_has(t->feat - 1u))
		return "host CPU lacks the feature";
	if (t->feat && !vm_has(vm, t->feat - 1u))
		return "vtxsim model lacks the feature";
	if (t->kind == DK_UD)
		return NULL;
	uint8_t b[24];
	const char *name;
	uint16_t op;
	uint8_t modrm;
	unsigned n = seq_sample(t, t->rm != RM_MEM, b);
	if (!vm_decode(b, n, &name, &op, &modrm))
		return "vtxsim decoder does not know it";
	if (t->kind == DK_SSE || t->kind == DK_SSEGPR) {
		static const uint8_t ld[] = { 0xf3, 0x0f, 0x6f, 0x03 }, st[] = { 0xf3, 0x0f, 0x7f, 0x03 };
		if (!vm_decode(ld, 4, &name, &op, &modrm) || !vm_decode(st, 4, &name, &op, &modrm))
			return "vtxsim decoder lacks MOVDQU";
		if (!native_has(FEAT_SSE2) || !vm_has(vm, FEAT_SSE2))
			return "no SSE2";
	}
	return NULL;
}

/* Mark the rows each template reaches (by decoding samples); rows of
 * opcodes invalid in 64-bit mode by the #UD templates' opcode bytes. */
static void mark_templated(const bool *active)
{
	for (unsigned k = 0; k < diff_ntmpls; k++) {
		const struct diff_tmpl *t = &diff_tmpls[k];
		if (t->kind == DK_UD) {
			for (size_t j = 0; j < NROWS; j++)
				if (rows[j].map == t->map && t->lo >= rows[j].lo && t->lo <= rows[j].hi)
					rows[j].ud64 = true;
			continue;
		}
		for (int form = 0; form < 2; form++) {
			uint8_t b[24];
			unsigned n = seq_sample(t, form, b), len;
			struct row *r = row_of(b, n, &len);
			if (r && active[k])
				r->templated = true;
			else if (r)
				r->inactive = true;
		}
	}
}

/* Why a row has no template, from gen.py's list ("handler" or "handler/ext"). */
static const char *no_template_reason(const struct row *r)
{
	char key[48];
	snprintf(key, sizeof(key), "%s/%d", r->name, r->ext);
	for (const struct diff_no_tmpl *n = diff_no_tmpls; n->handler; n++)
		if (!strcmp(n->handler, r->name) || !strcmp(n->handler, key))
			return n->why;
	return NULL;
}

/* ---- reporting ---- */

static void print_code(const struct seq *s, uint64_t stop)
{
	for (unsigned k = 0; k < s->nit; k++) {
		const struct item *it = &s->it[k];
		ZydisDisassembledInstruction zi;
		char text[96] = "(Zydis cannot decode)";
		if (ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LONG_64, DIFF_CODE + it->off, s->code + it->off,
						       it->len, &zi)))
			snprintf(text, sizeof(text), "%s", zi.text);
		char hex[3 * 24 + 1] = "";
		for (unsigned j = 0; j < it->len && j < 24; j++)
			snprintf(hex + 3 * j, 4, "%02x ", s->code[it->off + j]);
		const char *role = it->role == ITEM_TEST ? diff_tmpls[it->tmpl].name : it->role == ITEM_SETUP ? "(set-up)"
																: "(clear undefined flags)";
		uint64_t a = DIFF_CODE + it->off;
		fprintf(stderr, "  %s%#" PRIx64 ": %-36s %-34s %s\n", stop >= a && stop < a + it->len ? "=>" : "  ", a, hex,
			text, role);
	}
}

static void print_state(const char *what, const struct diff_state *st)
{
	static const char *names[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
					  "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15" };
	fprintf(stderr, "  %s:", what);
	for (int k = 0; k < 16; k++)
		fprintf(stderr, "%s %s=%016" PRIx64, k % 4 ? "" : "\n   ", names[k], st->gpr[k]);
	fprintf(stderr, "\n    rflags=%08" PRIx64 " rip=%#" PRIx64, st->rflags, st->rip);
	if (st->vector >= 0)
		fprintf(stderr, " vector=%d error=%#x cr2=%#" PRIx64, st->vector, st->error, st->cr2);
	fprintf(stderr, "\n");
}

/* ---- one run ---- */

struct outcome {
	struct diff_state nat, vm;
	uint8_t vm_data[DIFF_RW_SIZE];
	uint64_t flag_mask;
};

static bool has_error_code(int v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21;
}

/* Index of the item holding address a, or nit. */
static unsigned item_at(const struct seq *s, uint64_t a)
{
	for (unsigned k = 0; k < s->nit; k++)
		if (a >= DIFF_CODE + s->it[k].off && a < DIFF_CODE + s->it[k].off + s->it[k].len)
			return k;
	return s->nit;
}

/* Run the first `len` code bytes of s on both sides; true when they agree. */
static bool run_both(struct diff_vm *vm, const struct seq *s, unsigned len, struct outcome *o, char *why, size_t whyn)
{
	uint8_t code[SEQ_CODE_MAX + 16];
	uint64_t end = DIFF_CODE + len;
	memcpy(code, s->code, len);
	unsigned tail = native_write_tail(code + len);
	memcpy(native_code(), code, len + tail);
	memcpy(native_data(), s->data, DIFF_RW_SIZE);
	native_run(&s->in, &o->nat);
	if (o->nat.vector < 0)
		o->nat.rip = end;
	code[len] = 0xf4;       /* HLT at CPL 3: #GP(0) at the end address */
	vm_run(vm, code, len + 1, s->data, &s->in, &o->vm, o->vm_data);
	if (o->vm.vector == 13 && o->vm.rip == end && o->vm.error == 0)
		o->vm.vector = -1;

	/* RF differs between a fault frame and a plain run; the flags an
	 * interrupted flag-clearing item was about to clear are undefined. */
	o->flag_mask = ~(uint64_t)0x10000;
	unsigned k = item_at(s, o->nat.rip);
	if (o->nat.vector >= 0 && k < s->nit && s->it[k].role == ITEM_NORMALIZE)
		o->flag_mask &= ~(uint64_t)s->it[k].undef;

	const struct diff_state *a = &o->nat, *b = &o->vm;
	if (a->vector != b->vector)
		return snprintf(why, whyn, "exception: host %d, vtxsim %d", a->vector, b->vector), false;
	if (a->rip != b->rip)
		return snprintf(why, whyn, "rip: host %#" PRIx64 ", vtxsim %#" PRIx64, a->rip, b->rip), false;
	if (a->vector >= 0 && has_error_code(a->vector) && a->error != b->error)
		return snprintf(why, whyn, "error code: host %#x, vtxsim %#x", a->error, b->error), false;
	if (a->vector == 14 && a->cr2 != b->cr2)
		return snprintf(why, whyn, "cr2: host %#" PRIx64 ", vtxsim %#" PRIx64, a->cr2, b->cr2), false;
	for (int r = 0; r < 16; r++)
		if (a->gpr[r] != b->gpr[r])
			return snprintf(why, whyn, "gpr %d: host %#" PRIx64 ", vtxsim %#" PRIx64, r, a->gpr[r], b->gpr[r]),
			       false;
	if ((a->rflags ^ b->rflags) & o->flag_mask)
		return snprintf(why, whyn, "rflags: host %#" PRIx64 ", vtxsim %#" PRIx64 " (differ in %#" PRIx64 ")",
				a->rflags, b->rflags, (a->rflags ^ b->rflags) & o->flag_mask),
		       false;
	const uint8_t *nd = native_data();
	for (unsigned off = 0; off < DIFF_RW_SIZE; off++)
		if (nd[off] != o->vm_data[off])
			return snprintf(why, whyn, "memory at %#" PRIx64 ": host %02x, vtxsim %02x", (uint64_t)DIFF_DATA + off, nd[off],
					o->vm_data[off]),
			       false;
	return true;
}

/* The shortest prefix (ending at an item boundary no jump crosses) that
 * already mismatches: its last test instruction is the likely culprit. */
static unsigned shortest_failing_prefix(struct diff_vm *vm, const struct seq *s)
{
	static struct outcome o;
	char why[256];
	for (unsigned k = 0; k < s->nit; k++) {
		if (!s->it[k].cut_ok)
			continue;
		unsigned len = s->it[k].off + s->it[k].len;
		if (!run_both(vm, s, len, &o, why, sizeof(why)))
			return len;
	}
	return s->len;
}

static void report(struct diff_vm *vm, const struct seq *s, uint64_t seed, uint64_t index, const char *why)
{
	static struct outcome o;
	char why2[256];
	unsigned len = shortest_failing_prefix(vm, s);
	run_both(vm, s, len, &o, why2, sizeof(why2));
	struct seq *cut = malloc(sizeof(*cut));
	if (!cut)
		abort();
	*cut = *s;
	cut->len = len;
	while (cut->nit && cut->it[cut->nit - 1].off >= len)
		cut->nit--;
	fprintf(stderr, "MISMATCH seed %" PRIu64 " sequence %" PRIu64 ": %s\n", seed, index, why);
	fprintf(stderr, " shortest failing prefix (%u bytes): %s\n", len, why2);
	print_code(cut, o.nat.rip);
	print_state("input", &s->in);
	print_state("host", &o.nat);
	print_state("vtxsim", &o.vm);
	free(cut);
}

static void count_executed(const struct seq *s, const struct outcome *o, struct stats *st)
{
	for (unsigned k = 0; k < s->nit; k++) {
		const struct item *it = &s->it[k];
		uint64_t a = DIFF_CODE + it->off;
		if (o->nat.vector >= 0 && a > o->nat.rip)
			break;
		unsigned len;
		struct row *r = row_of(s->code + it->off, it->len, &len);
		if (r)
			r->hits++;
		if (it->role == ITEM_TEST) {
			st->executed++;
			st->tmpl_runs[it->tmpl]++;
		}
	}
}

static void print_coverage(const bool *active, const struct stats *st)
{
	printf("coverage by cpu/opcodes.def row (instructions executed, set-up included):\n");
	unsigned covered = 0, missing = 0;
	for (size_t k = 0; k < NROWS; k++) {
		const struct row *r = &rows[k];
		const char *why = no_template_reason(r);
		char ext[8] = "";
		if (r->ext >= 0x100)
			snprintf(ext, sizeof(ext), " %02x", r->ext & 0xff);
		else if (r->ext >= 0)
			snprintf(ext, sizeof(ext), " /%d", r->ext);
		const char *note = r->hits ? ""
				 : r->ud64 ? "  checked: #UD in 64-bit mode"
				 : why ? why
				 : r->templated ? "  (not drawn)"
				 : r->inactive ? "  template inactive (feature or decoder missing)"
				 : "  NO TEMPLATE";
		printf("  %u %02x-%02x%-4s %-22s %10" PRIu64 "%s%s\n", r->map, r->lo, r->hi, ext, r->name, r->hits,
		       !r->hits && !r->ud64 && why ? "  no template: " : "", note);
		if (r->hits || r->ud64)
			covered++;
		else if (!why && !r->templated && !r->inactive)
			missing++;
	}
	printf("rows exercised (or checked #UD): %u of %zu; rows with no template and no reason: %u\n", covered, NROWS,
	       missing);
	printf("templates (runs; inactive ones with the reason):\n");
	for (unsigned k = 0; k < diff_ntmpls; k++)
		if (active[k])
			printf("  %-40s %10" PRIu64 "\n", diff_tmpls[k].name, st->tmpl_runs[k]);
}

static void usage(void)
{
	fprintf(stderr, "usage: difftest [-n INSNS] [-s SEED] [-l MAXLEN] [-f MAXFAIL] [-c] [-q] [-a] [-t NAME]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){ .insns = 200000, .seed = 1, .maxlen = 12, .maxfail = 10 };
	int ch;
	while ((ch = getopt(argc, argv, "n:s:l:f:cqat:")) != -1) {
		switch (ch) {
		case 'n': o->insns = strtoull(optarg, NULL, 0); break;
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		case 'l': o->maxlen = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'f': o->maxfail = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'c': o->coverage = true; break;
		case 'q': o->quiet = true; break;
		case 'a': o->ac = true; break;
		case 't': o->only = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || o->maxlen == 0 || o->maxlen > 64)
		usage();
}

int main(int argc, char **argv)
{
	struct opts o;
	parse(argc, argv, &o);
	if (!native_init())
		return 2;
	struct diff_vm *vm = vm_create();
	vm_set_host(vm, native_xcr0(), native_fs_base(), native_gs_base());
	bool *active = calloc(diff_ntmpls, sizeof(bool));
	struct stats st = { .tmpl_runs = calloc(diff_ntmpls, sizeof(uint64_t)), .tmpl_bad = calloc(diff_ntmpls, 1) };
	if (!active || !st.tmpl_runs || !st.tmpl_bad)
		abort();
	unsigned nactive = 0;
	for (unsigned k = 0; k < diff_ntmpls; k++) {
		const char *why = inactive_reason(vm, &diff_tmpls[k]);
		bool chosen = !o.only || !strncmp(diff_tmpls[k].name, o.only, strlen(o.only));
		active[k] = !why && chosen;
		nactive += active[k];
		if (why && chosen && !o.quiet)
			printf("inactive: %-40s %s\n", diff_tmpls[k].name, why);
	}
	if (!nactive) {
		fprintf(stderr, "difftest: no active template\n");
		return 2;
	}
	mark_templated(active);
	printf("difftest: seed %" PRIu64 ", %" PRIu64 " instructions, %u of %u templates active\n", o.seed, o.insns,
	       nactive, diff_ntmpls);
	fflush(stdout);

	struct rng rng = { o.seed };
	struct seq_opts so = { .max_tests = o.maxlen, .alignment_checks = o.ac, .active = active,
			       .fs_base = native_fs_base(), .gs_base = native_gs_base() };
	struct seq *s = malloc(sizeof(*s));
	struct outcome *out = malloc(sizeof(*out));
	if (!s || !out)
		abort();
	const uint8_t *ro = (const uint8_t *)(uintptr_t)DIFF_RO;
	while (st.executed < o.insns && st.mismatches < o.maxfail) {
		seq_build(s, &rng, &so, ro);
		char why[256];
		if (!run_both(vm, s, s->len, out, why, sizeof(why))) {
			st.mismatches++;
			report(vm, s, o.seed, st.sequences, why);
			for (unsigned k = 0; k < s->nit; k++)
				if (s->it[k].role == ITEM_TEST)
					st.tmpl_bad[s->it[k].tmpl] = true;
			run_both(vm, s, s->len, out, why, sizeof(why));
		}
		count_executed(s, out, &st);
		st.sequences++;
	}
	if (o.coverage)
		print_coverage(active, &st);
	unsigned passed = 0, failed = 0;
	for (unsigned k = 0; k < diff_ntmpls; k++) {
		if (st.tmpl_bad[k])
			failed++;
		else if (st.tmpl_runs[k])
			passed++;
	}
	printf("difftest: %" PRIu64 " instructions in %" PRIu64 " sequences, %" PRIu64 " mismatching sequences\n",
	       st.executed, st.sequences, st.mismatches);
	printf("diff: %u passed, %u failed\n", passed, failed);
	free(s);
	free(out);
	free(active);
	free(st.tmpl_runs);
	free(st.tmpl_bad);
	vm_destroy(vm);
	return failed ? 1 : 0;
}
