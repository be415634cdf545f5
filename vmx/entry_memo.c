/* Remembering which VM-entry checks passed (SDM vol. 3C 26.2, 26.3.1): a
 * hypervisor re-enters the same VMCS after nearly every VM exit with the
 * controls, the host state and most of the guest state unchanged, and
 * every check is a deterministic function of the VMCS fields it reads
 * (rd() in vmx/entry_chk.h records them) unless it reads memory or
 * processor state (rd_mem(), in_ia32e(): "impure"). So each entry:
 *   - compares every field with its value when the checks last passed;
 *   - re-runs, in table order, each check that is impure or read a field
 *     that differs (it reads the same fields, in the same way, as before
 *     only if none of them changed) and skips the others: they would
 *     pass again;
 *   - keeps the first failure, exactly as the full run would find it.
 * After all three phases pass, the current values become the reference.
 * Any failure, another current VMCS or a first entry runs everything.
 * No check is skipped that could come out differently. */
#include "vmx/entry_memo.h"

#include <string.h>

#include "vmx/vmcs.h"

_Static_assert(VF_COUNT <= VMX_MEMO_FIELDS, "VMX_MEMO_FIELDS holds a bit per field row");
_Static_assert(ENTRY_CHECK_COUNT <= VMX_MEMO_CHECKS, "VMX_MEMO_CHECKS holds a bit per check");

#define FWORDS (VMX_MEMO_FIELDS / 64)
#define CWORDS (VMX_MEMO_CHECKS / 64)

/* The raw slots of every field (vmx/vmcs.h layout: consecutive 8-byte
 * slots in row order). A slot that differs only in bytes past the field's
 * width counts as changed: a re-run too many, never one too few. */
static void read_slots(struct cpu *c, uint64_t *out)
{
	const uint8_t *h = vmcs_host(c);
	if (h) {
		memcpy(out, h + vmcs_field_offset(0), 8u * VF_COUNT);
		return;
	}
	for (unsigned f = 0; f < VF_COUNT; f++)
		out[f] = vmcs_read(c, (enum vmcs_field)f);
}

static void run_everything(struct vmx_entry_memo *m)
{
	m->run_all = true;
	memset(m->changed, 0xff, sizeof(m->changed));
	memset(m->run, 0xff, sizeof(m->run));
}

/* Fields [from, to) that differ from the reference: mark them, and the
 * checks that read them. */
static void note_changes(struct vmx_entry_memo *m, const uint64_t *cur, unsigned from, unsigned to)
{
	for (unsigned f = from; f < to; f++) {
		if (cur[f] == m->slot[f])
			continue;
		m->changed[f >> 6] |= 1ull << (f & 63);
		for (unsigned k = 0; k < CWORDS; k++)
			m->run[k] |= m->dependents[f][k];
	}
}

struct vmx_entry_memo *entry_memo_begin(struct cpu *c)
{
	struct vmx_entry_memo *m = &c->vmx.memo;
	uint64_t now[VF_COUNT];
	if (!m->valid || m->vmcs != c->vmx.vmcs_ptr) {
		run_everything(m);
		return m;
	}
	m->run_all = false;
	const uint64_t *cur = now;
	const uint8_t *h = vmcs_host(c);
	if (h)
		cur = (const uint64_t *)(const void *)(h + vmcs_field_offset(0));    /* 8-byte aligned slots */
	else
		read_slots(c, now);
	memset(m->changed, 0, sizeof(m->changed));
	memcpy(m->run, m->impure, sizeof(m->run));
	/* Most fields are unchanged: test blocks of eight without branching,
	 * then look at the fields of a block that differs. */
	for (unsigned b = 0; b < VF_COUNT; b += 8) {
		uint64_t d = 0;
		if (b + 8 <= VF_COUNT) {
			for (unsigned k = 0; k < 8; k++)
				d |= cur[b + k] ^ m->slot[b + k];
		} else {
			for (unsigned k = b; k < VF_COUNT; k++)
				d |= cur[k] ^ m->slot[k];
		}
		if (d)
			note_changes(m, cur, b, b + 8 < VF_COUNT ? b + 8 : VF_COUNT);
	}
	return m;
}

/* Forget check's dependencies: it is about to run again. */
static void drop_deps(struct vmx_entry_memo *m, int check)
{
	for (unsigned w = 0; w < FWORDS; w++)
		for (uint64_t bits = m->deps[check][w]; bits; bits &= bits - 1) {
			unsigned f = 64 * w + (unsigned)__builtin_ctzll(bits);
			m->dependents[f][check >> 6] &= ~(1ull << (check & 63));
		}
	memset(m->deps[check], 0, sizeof(m->deps[check]));
}

uint64_t *entry_memo_record(struct vmx_entry_memo *m, int check)
{
	drop_deps(m, check);
	return m->deps[check];
}

void entry_memo_recorded(struct vmx_entry_memo *m, int check, bool impure)
{
	uint64_t bit = 1ull << (check & 63);
	for (unsigned w = 0; w < FWORDS; w++)
		for (uint64_t bits = m->deps[check][w]; bits; bits &= bits - 1)
			m->dependents[64 * w + (unsigned)__builtin_ctzll(bits)][check >> 6] |= bit;
	if (impure)
		m->impure[check >> 6] |= bit;
	else
		m->impure[check >> 6] &= ~bit;
}

void entry_memo_commit(struct cpu *c, struct vmx_entry_memo *m)
{
	const uint8_t *h = vmcs_host(c);
	if (m->run_all || !h) {
		read_slots(c, m->slot);
	} else {
		const uint64_t *cur = (const uint64_t *)(const void *)(h + vmcs_field_offset(0));
		for (unsigned w = 0; w < FWORDS; w++)
			for (uint64_t bits = m->changed[w]; bits; bits &= bits - 1) {
				unsigned f = 64 * w + (unsigned)__builtin_ctzll(bits);
				m->slot[f] = cur[f];
			}
	}
	m->vmcs = c->vmx.vmcs_ptr;
	m->valid = true;
}

void entry_memo_forget(struct cpu *c)
{
	c->vmx.memo.valid = false;
}
