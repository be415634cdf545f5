/* The VMX views of the shell (docs/debugger.md, "VMX"): `vmcs` (dump by
 * area, one field, a group, set, diff), `vmx` (the VMX state of a vCPU),
 * `vmx explain` (the failing check of the last VM entry, or the error of
 * the last VMX instruction), `vmx lint` (every entry check, without
 * entering), `vmx stats` and `exits`.
 *
 * Facts come from the tables: VMCS fields (vmx/vmcs_fields.def), bit names
 * (vmx/ctlbits.def), entry checks and their fixes (vmx/entry_checks.def,
 * vmx/entry_fixes.def), exit reasons and VM-instruction errors
 * (vmx/controls.h). State is read through dbg_cpu / dbg_vmcs_read, changed
 * through dbg_vmcs_write only. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cpu/model.h"
#include "debugger/shell.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/ctlbits.h"
#include "vmx/entry.h"
#include "vmx/explain.h"
#include "vmx/lint.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

/* ---- names from the tables ---- */

static const char *exit_reason_name(uint32_t basic)
{
	const char *t = vmx_exit_reason_text(basic);
	return t ? t : "reserved";
}

static const char *vm_insn_error_text(uint64_t n)
{
	const char *t = n <= UINT32_MAX ? vmx_insn_error_text((uint32_t)n) : NULL;
	return t ? t : "reserved error number";
}

static const char *const area_title[] = {
	[VMCS_T_CONTROL] = "control fields",
	[VMCS_T_RODATA] = "VM-exit information (read-only data)",
	[VMCS_T_GUEST] = "guest-state area",
	[VMCS_T_HOST] = "host-state area",
};

static const char *const outcome_kind[] = {
	[OUTCOME_FAULT] = "fault",
	[OUTCOME_FAIL_INVALID] = "VMfailInvalid",
	[OUTCOME_FAIL_VALID] = "VMfailValid",
	[OUTCOME_FAIL_EXIT] = "VM-entry failure",
};

/* ---- the current VMCS ---- */

static const struct cpu *cur_cpu(struct shell *sh)
{
	return dbg_cpu(shell_dbg(sh), shell_cpu(sh));
}

static bool have_vmcs(struct shell *sh)
{
	const struct cpu *c = cur_cpu(sh);
	uint64_t v;
	if (!c || !c->vmx.on)
		return shell_error(sh, "cpu %d is not in VMX operation (no VMXON yet)", shell_cpu(sh)), false;
	if (c->vmx.vmcs_ptr == VMCS_PTR_NONE)
		return shell_error(sh, "cpu %d has no current VMCS (VMPTRLD one)", shell_cpu(sh)), false;
	if (!dbg_vmcs_read(shell_dbg(sh), shell_cpu(sh), vmcs_fields[0].enc, &v))
		return shell_error(sh, "the current VMCS of cpu %d is not in RAM", shell_cpu(sh)), false;
	return true;
}

static uint64_t field_value(struct shell *sh, enum vmcs_field f)
{
	uint64_t v = 0;
	dbg_vmcs_read(shell_dbg(sh), shell_cpu(sh), vmcs_fields[f].enc, &v);
	return v;
}

static int hex_digits(enum vmcs_field f)
{
	switch (vmcs_enc_width(vmcs_fields[f].enc)) {
	case VMCS_W16: return 4;
	case VMCS_W32: return 8;
	default: return 16;
	}
}

/* A field by name (any case, with or without the VMCS_ prefix) or by
 * encoding; -1 when there is none. */
static int field_by_name(const char *s)
{
	if (!strncasecmp(s, "VMCS_", 5) && strcasecmp(s, "VMCS_LINK_PTR"))
		s += 5;
	for (int f = 0; f < VF_COUNT; f++)
		if (!strcasecmp(vmcs_fields[f].name, s))
			return f;
	char *end;
	uint64_t enc = strtoull(s, &end, 0);
	if (*s && !*end && enc <= UINT32_MAX) {
		bool high;
		int f = vmcs_field_lookup((uint32_t)enc, &high);
		if (f >= 0 && !high)
			return f;
	}
	return -1;
}

/* ---- decoding a value ---- */

/* The set bits of control word / flag field w by name, marking those the
 * capability MSRs require (default1 / must be 1) and those they forbid. */
static void decode_bits(struct shell *sh, const struct cpu *c, enum ctl_word w, uint64_t v)
{
	FILE *o = shell_out(sh);
	int ctl = ctl_word_vmx_ctl(w);
	uint64_t must1 = ctl >= 0 ? vmx_must_be1(c, (enum vmx_ctl)ctl) : 0;
	uint64_t may1 = ctl >= 0 ? vmx_allowed1(c, (enum vmx_ctl)ctl) : ~0ull;
	const char *sep = "";
	fprintf(o, "      ");
	for (unsigned b = 0; b < 64; b++) {
		if (!(v >> b & 1))
			continue;
		const char *name = ctl_bit_name(w, b);
		fprintf(o, "%s%u:%s", sep, b, name ? name : "");
		if (!(may1 >> b & 1))
			fprintf(o, "%s(RESERVED: not allowed-1)", name ? " " : "");
		else if (must1 >> b & 1 && !name)
			fprintf(o, "(default1)");
		else if (!name)
			fprintf(o, ctl >= 0 ? "(unnamed)" : "(reserved)");
		sep = ", ";
	}
	if (ctl >= 0 && (must1 & ~v))
		fprintf(o, "%sMISSING must-be-1 bits %#" PRIx64, sep, must1 & ~v);
	if (!*sep && !(ctl >= 0 && (must1 & ~v)))
		fprintf(o, "(none set)");
	fprintf(o, "\n");
}

static void decode_intr_info(FILE *o, uint64_t v)
{
	if (!(v & INTR_INFO_VALID)) {
		fprintf(o, "      not valid\n");
		return;
	}
	fprintf(o, "      valid, vector %" PRIu64 ", type %u (%s)%s%s\n", v & INTR_INFO_VECTOR_MASK,
		(unsigned)((v & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT),
		ctl_intr_type_name((unsigned)((v & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT)),
		v & INTR_INFO_HAS_ERROR ? ", error code valid" : "",
		v & INTR_INFO_NMI_UNBLOCKED ? ", NMI unblocking due to IRET" : "");
}

static void decode_exit_reason(FILE *o, uint64_t v)
{
	fprintf(o, "      basic reason %" PRIu64 " (%s)", v & 0xffff, exit_reason_name((uint32_t)(v & 0xffff)));
	for (unsigned b = 16; b < 32; b++)
		if (v >> b & 1) {
			const char *n = ctl_bit_name(CTLW_EXIT_REASON, b);
			fprintf(o, ", %u:%s", b, n ? n : "(reserved)");
		}
	fprintf(o, "\n");
}

static void decode_eptp(FILE *o, uint64_t v)
{
	fprintf(o, "      memory type %u (%s), page-walk length %u, %s, PML4 at %#" PRIx64 "\n",
		(unsigned)(v & EPTP_MEMTYPE_MASK), ctl_ept_memtype_name((unsigned)(v & EPTP_MEMTYPE_MASK)),
		(unsigned)((v & EPTP_WALK_MASK) >> EPTP_WALK_SHIFT) + 1,
		v & EPTP_AD ? "accessed and dirty flags enabled" : "A/D flags off", (uint64_t)(v & ~0xfffull));
}

/* The line(s) after a field's value that say what it means. */
static void decode_field(struct shell *sh, const struct cpu *c, enum vmcs_field f, uint64_t v)
{
	FILE *o = shell_out(sh);
	switch (f) {
	case VF_EXIT_REASON: decode_exit_reason(o, v); return;
	case VF_VM_INSTRUCTION_ERROR:
		if (v)
			fprintf(o, "      %s\n", vm_insn_error_text(v));
		return;
	case VF_ENTRY_INTR_INFO: case VF_EXIT_INTR_INFO: case VF_IDT_VECTORING_INFO:
		decode_intr_info(o, v);
		return;
	case VF_EPT_POINTER:
		if (v)
			decode_eptp(o, v);
		return;
	case VF_GUEST_ACTIVITY_STATE: fprintf(o, "      %s\n", ctl_activity_name(v)); return;
	default: break;
	}
	enum ctl_word w = ctl_word_of_field(f);
	if (w != CTLW_NONE && (v || ctl_word_vmx_ctl(w) >= 0))
		decode_bits(sh, c, w, v);
}

static void print_field(struct shell *sh, enum vmcs_field f, bool decode)
{
	uint64_t v = field_value(sh, f);
	fprintf(shell_out(sh), "  %-34s 0x%0*" PRIx64 "  %s\n", vmcs_fields[f].name, hex_digits(f), v,
		vmcs_fields[f].title);
	if (decode)
		decode_field(sh, cur_cpu(sh), f, v);
}

/* Every field of one area (type) that exists on this model. */
static void print_area(struct shell *sh, enum vmcs_type t)
{
	const struct cpu *c = cur_cpu(sh);
	fprintf(shell_out(sh), "-- %s --\n", area_title[t]);
	for (int f = 0; f < VF_COUNT; f++)
		if (vmcs_enc_type(vmcs_fields[f].enc) == t && vmcs_field_exists(c, (enum vmcs_field)f))
			print_field(sh, (enum vmcs_field)f, true);
}

static bool vmcs_launched(const struct cpu *c)
{
	for (unsigned k = 0; k < c->vmx.nactive; k++)
		if (c->vmx.active[k].pa == c->vmx.vmcs_ptr)
			return c->vmx.active[k].launched;
	return false;
}

static int vmcs_dump(struct shell *sh)
{
	const struct cpu *c = cur_cpu(sh);
	fprintf(shell_out(sh), "VMCS %#" PRIx64 " of cpu %d (%s)\n", c->vmx.vmcs_ptr, shell_cpu(sh),
		vmcs_launched(c) ? "launched" : "clear");
	for (int t = VMCS_T_CONTROL; t <= VMCS_T_HOST; t++)
		print_area(sh, (enum vmcs_type)t);
	return 0;
}

static int vmcs_set(struct shell *sh, int argc, char **argv)
{
	uint64_t v;
	if (argc != 4)
		return shell_error(sh, "usage: vmcs set FIELD VALUE (FIELD a name like GUEST_CS_AR or an encoding)");
	int f = field_by_name(argv[2]);
	if (f < 0)
		return shell_error(sh, "no VMCS field '%s' (`vmcs` lists them)", argv[2]);
	if (!vmcs_field_exists(cur_cpu(sh), (enum vmcs_field)f))
		return shell_error(sh, "%s does not exist on this model (its control: %s)", vmcs_fields[f].name,
				   vmcs_fields[f].ctl_text);
	if (!shell_number(sh, argv[3], &v))
		return -1;
	if (!dbg_vmcs_write(shell_dbg(sh), shell_cpu(sh), vmcs_fields[f].enc, v))
		return shell_error(sh, "cannot write the current VMCS");
	print_field(sh, (enum vmcs_field)f, true);
	return 0;
}

/* Fields whose value now differs from what the last VM entry loaded. */
static int vmcs_diff(struct shell *sh)
{
	const struct cpu *c = cur_cpu(sh);
	uint64_t *snap = calloc(VF_COUNT, sizeof(*snap));
	if (!snap)
		return shell_error(sh, "out of memory");
	if (!dbg_vmcs_at_entry(shell_dbg(sh), shell_cpu(sh), c->vmx.vmcs_ptr, snap, VF_COUNT)) {
		free(snap);
		return shell_error(sh, "no VM entry of cpu %d on VMCS %#" PRIx64 " since the debugger attached",
				   shell_cpu(sh), c->vmx.vmcs_ptr);
	}
	FILE *o = shell_out(sh);
	int n = 0;
	fprintf(o, "fields of VMCS %#" PRIx64 " changed since the last VM entry:\n", c->vmx.vmcs_ptr);
	for (int f = 0; f < VF_COUNT; f++) {
		if (!vmcs_field_exists(c, (enum vmcs_field)f))
			continue;
		uint64_t now = field_value(sh, (enum vmcs_field)f), then = snap[f] & vmcs_field_mask[f];
		if (now == then)
			continue;
		int w = hex_digits((enum vmcs_field)f);
		fprintf(o, "  %-34s 0x%0*" PRIx64 " -> 0x%0*" PRIx64 "\n", vmcs_fields[f].name, w, then, w, now);
		n++;
	}
	fprintf(o, "%d field%s changed\n", n, n == 1 ? "" : "s");
	free(snap);
	return 0;
}

static const struct {
	const char *name;
	int type;
} vmcs_groups[] = {
	{ "controls", VMCS_T_CONTROL }, { "control", VMCS_T_CONTROL }, { "exit", VMCS_T_RODATA },
	{ "guest", VMCS_T_GUEST }, { "host", VMCS_T_HOST },
};

static int cmd_vmcs(struct shell *sh, int argc, char **argv)
{
	if (!have_vmcs(sh))
		return -1;
	if (argc == 1)
		return vmcs_dump(sh);
	if (!strcmp(argv[1], "set"))
		return vmcs_set(sh, argc, argv);
	if (!strcmp(argv[1], "diff"))
		return argc == 2 ? vmcs_diff(sh) : shell_error(sh, "usage: vmcs diff");
	for (int i = 1; i < argc; i++) {
		bool group = false;
		for (size_t g = 0; g < sizeof(vmcs_groups) / sizeof(vmcs_groups[0]); g++)
			if (!strcasecmp(argv[i], vmcs_groups[g].name)) {
				print_area(sh, (enum vmcs_type)vmcs_groups[g].type);
				group = true;
			}
		if (group)
			continue;
		int f = field_by_name(argv[i]);
		if (f < 0)
			return shell_error(sh, "no VMCS field or group '%s' (groups: controls exit guest host)", argv[i]);
		if (!vmcs_field_exists(cur_cpu(sh), (enum vmcs_field)f))
			return shell_error(sh, "%s does not exist on this model (its control: %s)", vmcs_fields[f].name,
					   vmcs_fields[f].ctl_text);
		print_field(sh, (enum vmcs_field)f, true);
	}
	return 0;
}

/* ---- vmx ---- */

static int vmx_state(struct shell *sh)
{
	const struct cpu *c = cur_cpu(sh);
	FILE *o = shell_out(sh);
	if (!c)
		return shell_error(sh, "no cpu %d", shell_cpu(sh));
	fprintf(o, "cpu %d: %s\n", shell_cpu(sh), !c->vmx.on ? "not in VMX operation" :
		c->vmx.nonroot ? "VMX non-root operation" : "VMX root operation");
	if (!c->vmx.on)
		return 0;
	fprintf(o, "  VMXON region         %#" PRIx64 "\n", c->vmx.vmxon_ptr);
	if (c->vmx.vmcs_ptr == VMCS_PTR_NONE)
		fprintf(o, "  current VMCS         none (FFFFFFFF_FFFFFFFFH)\n");
	else
		fprintf(o, "  current VMCS         %#" PRIx64 " (%s)\n", c->vmx.vmcs_ptr,
			vmcs_launched(c) ? "launched" : "clear");
	fprintf(o, "  active VMCSs         %u\n", c->vmx.nactive);
	for (unsigned k = 0; k < c->vmx.nactive; k++)
		fprintf(o, "    %#" PRIx64 " %s%s%s\n", c->vmx.active[k].pa,
			c->vmx.active[k].launched ? "launched" : "clear",
			c->vmx.active[k].after_vmxoff ? ", VMXOFF since its launch (VMRESUME fails: error 6)" : "",
			c->vmx.active[k].pa == c->vmx.vmcs_ptr ? "  <- current" : "");
	uint64_t v;
	if (c->vmx.vmcs_ptr == VMCS_PTR_NONE || !dbg_vmcs_read(shell_dbg(sh), shell_cpu(sh), vmcs_fields[0].enc, &v))
		return 0;
	uint64_t proc = field_value(sh, VF_PROC_CONTROLS);
	uint64_t proc2 = proc & PROC_SECONDARY_CTLS ? field_value(sh, VF_PROC2_CONTROLS) : 0;
	uint64_t pin = field_value(sh, VF_PIN_CONTROLS);
	if (proc2 & PROC2_VPID)
		fprintf(o, "  VPID                 %" PRIu64 "\n", field_value(sh, VF_VPID));
	else
		fprintf(o, "  VPID                 off ('enable VPID' 0: VPID 0000H)\n");
	if (proc2 & PROC2_EPT)
		fprintf(o, "  EPTP                 %#" PRIx64 "\n", field_value(sh, VF_EPT_POINTER));
	else
		fprintf(o, "  EPT                  off\n");
	uint64_t link = field_value(sh, VF_VMCS_LINK_PTR);
	fprintf(o, "  VMCS link pointer    %#" PRIx64 "%s\n", link,
		proc2 & PROC2_VMCS_SHADOWING ? " (VMCS shadowing on: the shadow VMCS)" : "");
	if (pin & PIN_PREEMPTION_TIMER)
		fprintf(o, "  preemption timer     %" PRIu64 " (rate: TSC >> %u)\n",
			field_value(sh, VF_PREEMPTION_TIMER_VALUE), (unsigned)(c->model->vmx.misc & 0x1f));
	else
		fprintf(o, "  preemption timer     off\n");
	return 0;
}

/* A fix text with %f %a %e %i filled in. */
static void print_fix(FILE *o, const char *tmpl, uint32_t enc, uint64_t actual, uint64_t expected, uint32_t index)
{
	bool high;
	int f = enc == UINT32_MAX ? -1 : vmcs_field_lookup(enc, &high);
	fprintf(o, "  fix:     ");
	for (const char *p = tmpl; *p; p++) {
		if (*p != '%' || !p[1]) {
			fputc(*p, o);
			continue;
		}
		switch (*++p) {
		case 'f': fputs(f >= 0 ? vmcs_fields[f].name : "the field", o); break;
		case 'a': fprintf(o, "%#" PRIx64, actual); break;
		case 'e': fprintf(o, "%#" PRIx64, expected); break;
		case 'i': fprintf(o, "%u", index); break;
		default: fputc('%', o); fputc(*p, o); break;
		}
	}
	fputc('\n', o);
}

static void print_outcome(FILE *o, const struct entry_check *k, uint32_t index)
{
	const struct entry_outcome *out = &k->outcome;
	fprintf(o, "  outcome: %s", outcome_kind[out->kind]);
	switch (out->kind) {
	case OUTCOME_FAULT: fprintf(o, " (vector %u)\n", out->number); break;
	case OUTCOME_FAIL_INVALID: fprintf(o, " (RFLAGS.CF = 1)\n"); break;
	case OUTCOME_FAIL_VALID:
		fprintf(o, "(%u): %s\n", out->number, vm_insn_error_text(out->number));
		break;
	case OUTCOME_FAIL_EXIT:
		fprintf(o, ": exit reason %u (%s) with bit 31 set, qualification %u\n", out->number,
			exit_reason_name(out->number), out->number == EXIT_REASON_MSR_LOADING ? index : out->qual);
		break;
	}
}

/* One failing check, as `vmx explain` and `vmx lint` show it. */
static void print_check(struct shell *sh, int id, uint32_t enc, uint64_t actual, uint64_t expected, uint32_t index)
{
	FILE *o = shell_out(sh);
	const struct entry_check *k = &entry_checks[id];
	bool high;
	int f = enc == UINT32_MAX ? -1 : vmcs_field_lookup(enc, &high);
	fprintf(o, "%s (SDM vol. 3C %s)\n", k->id, k->section);
	fprintf(o, "  rule:    %s\n", k->rule);
	uint64_t now;
	if (f >= 0 && dbg_vmcs_read(shell_dbg(sh), shell_cpu(sh), enc, &now))
		fprintf(o, "  field:   %s (%#x), now 0x%0*" PRIx64 "\n", vmcs_fields[f].name, enc,
			hex_digits((enum vmcs_field)f), now);
	fprintf(o, "  checked: actual %#" PRIx64 ", expected %#" PRIx64 "\n", actual, expected);
	if (k->phase == PHASE_MSR_LOAD)
		fprintf(o, "  entry:   %u of the VM-entry MSR-load area\n", index);
	print_outcome(o, k, index);
	const char *fix = entry_check_fix(id);
	if (fix)
		print_fix(o, fix, enc, actual, expected, index);
}

static int vmx_explain(struct shell *sh)
{
	const struct cpu *c = cur_cpu(sh);
	FILE *o = shell_out(sh);
	if (!c)
		return shell_error(sh, "no cpu %d", shell_cpu(sh));
	const struct vmx_verdict *v = &c->vmx.verdict;
	if (v->check >= 0 && v->check < ENTRY_CHECK_COUNT) {
		fprintf(o, "the last VM entry of cpu %d failed check ", shell_cpu(sh));
		print_check(sh, v->check, v->field, v->actual, v->expected, v->index);
		return 0;
	}
	/* 30.2: VMfailInvalid sets CF, VMfailValid sets ZF and writes the
	 * VM-instruction error field; RFLAGS tells only until the next
	 * instruction that writes the flags. */
	bool cf = c->rflags & 1, zf = c->rflags & 0x40;
	if (c->vmx.on && !c->vmx.nonroot && cf)
		fprintf(o, "RFLAGS.CF = 1: if the last instruction was a VMX instruction, it failed with VMfailInvalid "
			"(no current VMCS, or a bad operand that leaves no error number)\n");
	else if (c->vmx.on && !c->vmx.nonroot && zf && c->vmx.vmcs_ptr != VMCS_PTR_NONE) {
		uint64_t err = 0;
		dbg_vmcs_read(shell_dbg(sh), shell_cpu(sh), vmcs_fields[VF_VM_INSTRUCTION_ERROR].enc, &err);
		fprintf(o, "RFLAGS.ZF = 1: if the last instruction was a VMX instruction, it failed with "
			"VMfailValid(%" PRIu64 "): %s\n", err, vm_insn_error_text(err));
	} else
		fprintf(o, "no failure of cpu %d since the last VM entry%s\n", shell_cpu(sh),
			c->vmx.on ? "" : " (not in VMX operation)");
	return 0;
}

static int vmx_lint_cmd(struct shell *sh)
{
	enum { MAX = 64 };
	struct vmx_lint_item items[MAX];
	FILE *o = shell_out(sh);
	int n = dbg_vmx_lint(shell_dbg(sh), shell_cpu(sh), items, MAX);
	if (n < 0)
		return shell_error(sh, "no cpu %d", shell_cpu(sh));
	const struct cpu *c = cur_cpu(sh);
	fprintf(o, "lint of the next %s on cpu %d: %d violation%s\n", vmcs_launched(c) ? "VMRESUME" : "VMLAUNCH",
		shell_cpu(sh), n, n == 1 ? "" : "s");
	for (int i = 0; i < n && i < MAX; i++) {
		fprintf(o, "%d. ", i + 1);
		print_check(sh, items[i].check, items[i].field, items[i].actual, items[i].expected, items[i].index);
	}
	if (n > MAX)
		fprintf(o, "... and %d more\n", n - MAX);
	fprintf(o, "(not run: the MSRLOAD_WRMSR_GP row, which would load the MSR)\n");
	return 0;
}

static int vmx_stats(struct shell *sh)
{
	const struct dbg_exit_stat *s = dbg_exit_stats(shell_dbg(sh), shell_cpu(sh));
	if (!s)
		return shell_error(sh, "no cpu %d", shell_cpu(sh));
	char title[64];
	snprintf(title, sizeof(title), "VM exits of cpu %d by basic reason", shell_cpu(sh));
	dbg_print_exit_stats(shell_out(sh), title, s);
	return 0;
}

static int cmd_vmx(struct shell *sh, int argc, char **argv)
{
	if (argc == 1)
		return vmx_state(sh);
	if (argc == 2 && !strcmp(argv[1], "explain"))
		return vmx_explain(sh);
	if (argc == 2 && !strcmp(argv[1], "lint"))
		return vmx_lint_cmd(sh);
	if (argc == 2 && !strcmp(argv[1], "stats"))
		return vmx_stats(sh);
	return shell_error(sh, "usage: vmx [explain | lint | stats]");
}

/* ---- exits ---- */

static int cmd_exits(struct shell *sh, int argc, char **argv)
{
	uint64_t n = 10;
	if (argc > 2 || (argc == 2 && !shell_number(sh, argv[1], &n)))
		return argc > 2 ? shell_error(sh, "usage: exits [N] (the last N VM exits, 10 by default)") : -1;
	if (!dbg_cpu(shell_dbg(sh), shell_cpu(sh)))
		return shell_error(sh, "no cpu %d", shell_cpu(sh));
	if (n > DBG_EXIT_RING)
		n = DBG_EXIT_RING;
	FILE *o = shell_out(sh);
	unsigned have = 0;
	while (have < n && dbg_exit_get(shell_dbg(sh), shell_cpu(sh), have))
		have++;
	fprintf(o, "last %u VM exit%s of cpu %d (oldest first):\n", have, have == 1 ? "" : "s", shell_cpu(sh));
	for (unsigned k = have; k-- > 0;) {
		const struct dbg_exit_rec *x = dbg_exit_get(shell_dbg(sh), shell_cpu(sh), k);
		/* A VM-entry failure ran no guest instruction: no guest RIP. */
		char rip[24] = "-";
		if (!(x->reason & EXIT_REASON_ENTRY_FAILURE))
			snprintf(rip, sizeof(rip), "%#" PRIx64, x->guest_rip);
		fprintf(o, "  cycle %-10" PRIu64 " guest %-8" PRIu64 " rip %-10s qual %#-8" PRIx64 " %u %s", x->cycle,
			x->guest_cycles, rip, x->qual, x->reason & 0xffff, exit_reason_name(x->reason & 0xffff));
		if (x->reason & EXIT_REASON_ENTRY_FAILURE)
			fprintf(o, " [VM-entry failure]");
		fputs("\n", o);
		char buf[200];
		vmx_exit_qual_text(x->reason, x->qual, x->intr_info, buf, sizeof(buf));
		if (buf[0])
			fprintf(o, "      %s\n", buf);
	}
	return 0;
}

const struct shell_cmd shell_cmds_vmx[] = {
	{ "vmcs", "[FIELD... | controls | exit | guest | host | set FIELD VALUE | diff]",
	  "the current VMCS: all fields by area, some, a group, set one, or what changed since the last VM entry",
	  "vmcs                    every field of the current VMCS that exists on this model, by area\n"
	  "  vmcs FIELD...           those fields (a name in any case, or an encoding)\n"
	  "  vmcs controls|exit|guest|host   one area\n"
	  "  vmcs set FIELD VALUE    write a field (read-only ones too)\n"
	  "  vmcs diff               fields whose value differs from the last VM entry's\n"
	  "  Control words are decoded bit by bit by their SDM names; reserved bits set are marked.",
	  cmd_vmcs },
	{ "vmx", "[explain | lint | stats]", "VMX state; why the last VM entry failed; lint the VMCS; exit statistics",
	  "vmx           VMX operation, root/non-root, VMXON region, current and active VMCSs, VPID, EPTP,\n"
	  "                  VMCS link pointer, preemption timer\n"
	  "  vmx explain   the check the last VM entry failed (id, SDM section, rule, values, outcome, fix),\n"
	  "                  or the VM-instruction error of the last VMX instruction\n"
	  "  vmx lint      every VM-entry check against the current VMCS, without entering\n"
	  "  vmx stats     per exit reason: count, guest cycles before, host cycles handling, percentages",
	  cmd_vmx },
	{ "exits", "[N]", "the last N VM exits of the cpu (10 by default)", NULL, cmd_exits },
	{ NULL, NULL, NULL, NULL, NULL },
};
