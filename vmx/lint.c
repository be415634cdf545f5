/* `vmx lint` (vmx/lint.h): the chk_* functions of vmx/entry_checks.def run
 * one after the other, not stopping at the first failure. Unlike
 * entry_run_phase (vmx/entry_table.c), a failing row does not record
 * c->vmx.verdict: the failure the last VM entry saw stays for `vmx explain`. */
#include "vmx/lint.h"

#include <string.h>

#include "vmx/controls.h"
#include "vmx/entry.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

static bool (*const lint_fn[ENTRY_CHECK_COUNT])(struct entry_ctx *) = {
#define CHECK(i, ph, sec, out, fld, rl) [ENTRY_CHECK_##i] = chk_##i,
#include "vmx/entry_checks.def"
#undef CHECK
};

struct lint_run {
	struct entry_ctx e;
	struct vmx_lint_item *out;
	int max, n;
};

static void lint_row(struct lint_run *r, int i)
{
	struct entry_ctx *e = &r->e;
	e->actual = e->expected = 0;
	e->field = -1;
	e->index = 0;
	if (lint_fn[i](e))
		return;
	if (r->n < r->max) {
		int f = e->field >= 0 ? e->field : entry_checks[i].field;
		r->out[r->n] = (struct vmx_lint_item){
			.check = i,
			.field = f >= 0 ? vmcs_fields[f].enc : UINT32_MAX,
			.actual = e->actual,
			.expected = e->expected,
			.index = e->index,
		};
	}
	r->n++;
}

/* 26.4: each 16-byte entry of the VM-entry MSR-load area, checked by the
 * rows of PHASE_MSR_LOAD but the one that loads the MSR. The area must lie
 * in memory the checks can read; the count is the field's (the
 * IA32_VMX_MISC limit is the loader's business: a count past it is a
 * machine-check failure, 26.4, not a row). */
static void lint_msr_load(struct lint_run *r)
{
	struct cpu *c = r->e.c;
	uint32_t count = (uint32_t)vmcs_read(c, VF_ENTRY_MSR_LOAD_COUNT);
	uint64_t pa = vmcs_read(c, VF_ENTRY_MSR_LOAD_ADDR);
	if (count > 512)
		count = 512;    /* IA32_VMX_MISC[27:25] allows at most 512 * 8 entries; lint stays short */
	for (uint32_t n = 1; n <= count; n++, pa += 16) {
		/* Lint reads RAM only: a device register's read may have
		 * side effects (the entry itself would read it). */
		if (pa + 16 < pa || pa + 16 > c->phys->ram_size)
			break;
		r->e.msr_n = n;
		r->e.msr_lo = phys_read(c->phys, pa, 8);
		r->e.msr_data = phys_read(c->phys, pa + 8, 8);
		for (int i = 0; i < ENTRY_CHECK_COUNT; i++)
			if (entry_checks[i].phase == PHASE_MSR_LOAD && i != ENTRY_CHECK_MSRLOAD_WRMSR_GP)
				lint_row(r, i);
	}
}

int vmx_lint(struct cpu *c, struct vmx_lint_item *out, int max)
{
	struct lint_run r = { .e = { .c = c, .field = -1 }, .out = out, .max = max };
	if (!c->vmx.on || c->vmx.vmcs_ptr == VMCS_PTR_NONE || !vmcs_host(c)) {
		/* Only the basic rows can run: they say what is missing (as for
		 * VMLAUNCH: there is no launch state to look at). */
		r.e.launch = true;
		for (int i = 0; i < ENTRY_CHECK_COUNT && entry_checks[i].phase == PHASE_BASIC; i++)
			lint_row(&r, i);
		return r.n;
	}
	r.e.launch = !vmx_current_launched(c);
	for (int i = 0; i < ENTRY_CHECK_COUNT; i++)
		if (entry_checks[i].phase != PHASE_MSR_LOAD)
			lint_row(&r, i);
	lint_msr_load(&r);
	return r.n;
}

/* ---- fixes (vmx/entry_fixes.def) ---- */

static const char *const fix_of[ENTRY_CHECK_COUNT] = {
#define FIX(id, text) [ENTRY_CHECK_##id] = text,
#define FIX_KIND(suffix, text)
#include "vmx/entry_fixes.def"
#undef FIX_KIND
#undef FIX
};

static const struct {
	const char *suffix, *text;
} fix_kinds[] = {
#define FIX(id, text)
#define FIX_KIND(suffix, text) { #suffix, text },
#include "vmx/entry_fixes.def"
#undef FIX_KIND
#undef FIX
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

const char *entry_check_fix(int id)
{
	if (id < 0 || id >= ENTRY_CHECK_COUNT)
		return NULL;
	if (fix_of[id])
		return fix_of[id];
	/* The longest matching suffix: _END_WIDTH before _WIDTH. */
	const char *best = NULL;
	size_t best_len = 0;
	for (size_t k = 0; k < sizeof(fix_kinds) / sizeof(fix_kinds[0]); k++)
		if (ends_with(entry_checks[id].id, fix_kinds[k].suffix) && strlen(fix_kinds[k].suffix) > best_len) {
			best = fix_kinds[k].text;
			best_len = strlen(fix_kinds[k].suffix);
		}
	return best;
}
