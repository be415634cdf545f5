/* The expression evaluator (debugger/expr.h): recursive descent, one
 * function per precedence level of the table below, as C orders them. */
#include "debugger/expr.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "debugger/shell.h"
#include "debugger/symbols.h"
#include "vmx/controls.h"
#include "vmx/entry.h"
#include "vmx/vmcs.h"

struct parser {
	const char *s;
	size_t pos;
	expr_name_fn fn;
	void *ctx;
	char *err;
	size_t errlen;
	bool failed;
};

static void fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct parser *p, const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
}

static void skip(struct parser *p)
{
	while (isspace((unsigned char)p->s[p->pos]))
		p->pos++;
}

/* Consume op if it is next (and not the start of a longer operator). */
static bool eat(struct parser *p, const char *op)
{
	skip(p);
	size_t n = strlen(op);
	if (strncmp(p->s + p->pos, op, n))
		return false;
	char next = p->s[p->pos + n];
	if (n == 1) {   /* "<" must not eat "<<" or "<=", "&" not "&&", "!" not "!=" */
		char c = op[0];
		if ((c == '<' || c == '>') && (next == c || next == '='))
			return false;
		if ((c == '&' || c == '|') && next == c)
			return false;
		if (c == '!' && next == '=')
			return false;
	}
	p->pos += n;
	return true;
}

static uint64_t parse_or(struct parser *p);

static bool name_char(char c, bool first)
{
	return isalpha((unsigned char)c) || c == '_' || c == '$' || c == '.' || (!first && isdigit((unsigned char)c));
}

static uint64_t primary(struct parser *p)
{
	skip(p);
	const char *at = p->s + p->pos;
	if (eat(p, "(")) {
		uint64_t v = parse_or(p);
		if (!eat(p, ")"))
			fail(p, "missing ')' at column %zu", p->pos + 1);
		return v;
	}
	if (isdigit((unsigned char)*at)) {
		char *end;
		uint64_t v = strtoull(at, &end, 0);
		if (name_char(*end, false))
			fail(p, "bad number '%.*s'", (int)strcspn(at, " \t)"), at);
		p->pos += (size_t)(end - at);
		return v;
	}
	if (name_char(*at, true)) {
		char name[128];
		size_t n = 0;
		while (name_char(at[n], n == 0) && n < sizeof(name) - 1) {
			name[n] = at[n];
			n++;
		}
		name[n] = 0;
		p->pos += n;
		uint64_t v = 0;
		if (!p->fn || !p->fn(p->ctx, name, &v))
			fail(p, "unknown name '%s' (a register, symbol or $reason/$qual/$vector/...)", name);
		return v;
	}
	if (*at)
		fail(p, "unexpected '%c' at column %zu", *at, p->pos + 1);
	else
		fail(p, "expression ends too early");
	return 0;
}

static uint64_t unary(struct parser *p)
{
	if (eat(p, "!"))
		return !unary(p);
	if (eat(p, "~"))
		return ~unary(p);
	if (eat(p, "-"))
		return -unary(p);
	if (eat(p, "+"))
		return unary(p);
	return primary(p);
}

static uint64_t mul(struct parser *p)
{
	uint64_t v = unary(p);
	for (;;) {
		int op = eat(p, "*") ? '*' : eat(p, "/") ? '/' : eat(p, "%") ? '%' : 0;
		if (!op)
			return v;
		uint64_t r = unary(p);
		if (op == '*') {
			v *= r;
		} else if (r == 0) {
			fail(p, "division by zero");
			v = 0;
		} else {
			v = op == '/' ? v / r : v % r;
		}
	}
}

static uint64_t add(struct parser *p)
{
	uint64_t v = mul(p);
	for (;;) {
		if (eat(p, "+"))
			v += mul(p);
		else if (eat(p, "-"))
			v -= mul(p);
		else
			return v;
	}
}

static uint64_t shift(struct parser *p)
{
	uint64_t v = add(p);
	for (;;) {
		bool left = eat(p, "<<");
		if (!left && !eat(p, ">>"))
			return v;
		uint64_t r = add(p);
		v = r >= 64 ? 0 : left ? v << r : v >> r;
	}
}

static uint64_t relational(struct parser *p)
{
	uint64_t v = shift(p);
	for (;;) {
		if (eat(p, "<="))
			v = v <= shift(p);
		else if (eat(p, ">="))
			v = v >= shift(p);
		else if (eat(p, "<"))
			v = v < shift(p);
		else if (eat(p, ">"))
			v = v > shift(p);
		else
			return v;
	}
}

static uint64_t equality(struct parser *p)
{
	uint64_t v = relational(p);
	for (;;) {
		if (eat(p, "=="))
			v = v == relational(p);
		else if (eat(p, "!="))
			v = v != relational(p);
		else
			return v;
	}
}

static uint64_t bit_and(struct parser *p)
{
	uint64_t v = equality(p);
	while (eat(p, "&"))
		v &= equality(p);
	return v;
}

static uint64_t bit_xor(struct parser *p)
{
	uint64_t v = bit_and(p);
	while (eat(p, "^"))
		v ^= bit_and(p);
	return v;
}

static uint64_t bit_or(struct parser *p)
{
	uint64_t v = bit_xor(p);
	while (eat(p, "|"))
		v |= bit_xor(p);
	return v;
}

/* Both sides are always evaluated: a name error on the right side is
 * found when the breakpoint is set, not at the hit that reaches it. */
static uint64_t log_and(struct parser *p)
{
	uint64_t v = bit_or(p);
	while (eat(p, "&&")) {
		uint64_t r = bit_or(p);
		v = v && r;
	}
	return v;
}

static uint64_t parse_or(struct parser *p)
{
	uint64_t v = log_and(p);
	while (eat(p, "||")) {
		uint64_t r = log_and(p);
		v = v || r;
	}
	return v;
}

int expr_eval(const char *s, expr_name_fn fn, void *ctx, uint64_t *v, char *err, size_t errlen)
{
	struct parser p = { .s = s, .fn = fn, .ctx = ctx, .err = err, .errlen = errlen };
	if (errlen)
		err[0] = 0;
	*v = parse_or(&p);
	skip(&p);
	if (!p.failed && p.s[p.pos])
		fail(&p, "unexpected '%s' after the expression", p.s + p.pos);
	return p.failed ? -1 : 0;
}

/* ---- the shell's names ---- */

struct shell_names {
	struct shell *sh;
	int cpu;
};

/* A failed VM entry: $reason and $qual of the VM exit it caused (SDM vol.
 * 3C 26.8), $error the VM-instruction error of a VMfailValid (30.4). */
static bool entry_fail_var(struct shell_names *n, const char *name, uint64_t *v)
{
	struct dbg *d = shell_dbg(n->sh);
	const struct cpu *c = dbg_cpu(d, n->cpu);
	int id = c ? c->vmx.verdict.check : -1;
	enum entry_outcome_kind k = id >= 0 && id < ENTRY_CHECK_COUNT ? entry_checks[id].outcome.kind : OUTCOME_FAULT;
	int f = -1;
	if (!strcmp(name, "reason") || !strcmp(name, "qual"))
		f = k != OUTCOME_FAIL_EXIT ? -1 : name[0] == 'r' ? VF_EXIT_REASON : VF_EXIT_QUALIFICATION;
	else if (!strcmp(name, "error"))
		f = k == OUTCOME_FAIL_VALID ? VF_VM_INSTRUCTION_ERROR : -1;
	else if (strcmp(name, "vector") && strcmp(name, "guest_rip") && strcmp(name, "port") && strcmp(name, "msr") &&
		 strcmp(name, "value") && strcmp(name, "cpu") && strcmp(name, "cycle"))
		return false;
	if (!strcmp(name, "cpu"))
		*v = (uint64_t)n->cpu;
	else if (!strcmp(name, "cycle"))
		*v = dbg_now(d);
	else if (f >= 0 && dbg_vmcs_read(d, n->cpu, vmcs_fields[f].enc, v) && f == VF_EXIT_REASON)
		*v &= 0xffff;
	return true;
}

/* The event variables, from the event the stop (or the condition being
 * tested) is about; 0 when that event has no such value. */
static bool event_var(struct shell_names *n, const char *name, uint64_t *v)
{
	struct dbg *d = shell_dbg(n->sh);
	const struct probe_event *e = dbg_last_event(d);
	bool exit = e->kind == PROBE_VMEXIT, io = e->kind == PROBE_IO, msr = e->kind == PROBE_MSR;
	*v = 0;
	if (e->kind == PROBE_VMENTRY_FAIL)
		return entry_fail_var(n, name, v);
	if (!strcmp(name, "reason")) {
		if (exit)
			*v = e->code & 0xffff;
	} else if (!strcmp(name, "qual")) {
		if (exit)
			*v = e->value;
	} else if (!strcmp(name, "vector")) {
		/* Exit-interruption information bits 7:0 when valid (SDM vol. 3C
		 * 24.9.2), the vector delivered through the IDT, or the vector
		 * of the VM-entry interruption information (24.8.3). */
		if ((exit && (e->aux & INTR_INFO_VALID)) || e->kind == PROBE_INJECT)
			*v = e->aux & INTR_INFO_VECTOR_MASK;
		else if (e->kind == PROBE_DELIVERY)
			*v = e->code;
	} else if (!strcmp(name, "error")) {
		if (e->has_error)
			*v = e->error;
	} else if (!strcmp(name, "guest_rip")) {
		if (exit || e->kind == PROBE_VMENTRY)
			*v = e->rip;
	} else if (!strcmp(name, "port")) {
		if (io)
			*v = e->code;
	} else if (!strcmp(name, "msr")) {
		if (msr)
			*v = e->code;
	} else if (!strcmp(name, "value")) {
		if (io || msr || e->kind == PROBE_DATA)
			*v = e->value;
	} else if (!strcmp(name, "cpu")) {
		*v = (uint64_t)n->cpu;
	} else if (!strcmp(name, "cycle")) {
		*v = dbg_now(d);
	} else {
		return false;
	}
	return true;
}

/* eax..edi, r8d..r15d: the low 32 bits of the 64-bit register. */
static bool reg32(struct shell_names *n, const char *name, uint64_t *v)
{
	static const char *const e[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
	static const char *const r[8] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi" };
	char full[8];
	const char *base = NULL;
	for (int k = 0; k < 8; k++)
		if (!strcasecmp(name, e[k]))
			base = r[k];
	size_t len = strlen(name);
	if (!base && len >= 3 && len <= 4 && tolower((unsigned char)name[0]) == 'r' &&
	    tolower((unsigned char)name[len - 1]) == 'd' && isdigit((unsigned char)name[1])) {
		snprintf(full, sizeof(full), "%.*s", (int)len - 1, name);
		base = full;
	}
	if (!base || !dbg_reg_read(shell_dbg(n->sh), n->cpu, base, v))
		return false;
	*v &= 0xffffffffu;
	return true;
}

static bool shell_name(void *ctx, const char *name, uint64_t *v)
{
	struct shell_names *n = ctx;
	if (name[0] == '$' && event_var(n, name + 1, v))
		return true;
	const char *reg = name[0] == '$' ? name + 1 : name;
	if (dbg_reg_read(shell_dbg(n->sh), n->cpu, reg, v) || reg32(n, reg, v))
		return true;
	return symtab_lookup(shell_symbols(n->sh), name, v);
}

int shell_eval(struct shell *sh, int cpu, const char *s, uint64_t *v, char *err, size_t errlen)
{
	struct shell_names n = { .sh = sh, .cpu = cpu < 0 ? shell_cpu(sh) : cpu };
	return expr_eval(s, shell_name, &n, v, err, errlen);
}
