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

_Static_assert(VF_COUNT < VMX_MEMO_IMPURE, "VMX_MEMO_FIELDS holds a bit per field row and the impure bit");
_Static_assert(ENTRY_CHECK_COUNT <= VMX_MEMO_CHECKS, "VMX_MEMO_CHECKS holds every check");

#define WORDS (VMX_MEMO_FIELDS / 64)

static uint64_t field_now(struct cpu *c, const uint8_t *h, unsigned f)
{
	uint64_t v;
	if (!h)
		return vmcs_read(c, (enum vmcs_field)f);
	memcpy(&v, h + vmcs_field_offset((enum vmcs_field)f), 8);
	return v & vmcs_field_mask[f];
}

struct vmx_entry_memo *entry_memo_begin(struct cpu *c)
{
	struct vmx_entry_memo *m = &c->vmx.memo;
	const uint8_t *h = vmcs_host(c);
	m->run_all = !m->valid || m->vmcs != c->vmx.vmcs_ptr;
	if (m->run_all) {
		memset(m->changed, 0xff, sizeof(m->changed));
		return m;
	}
	memset(m->changed, 0, sizeof(m->changed));
	for (unsigned f = 0; f < VF_COUNT; f++)
		if (field_now(c, h, f) != m->field[f])
			m->changed[f >> 6] |= 1ull << (f & 63);
	return m;
}

bool entry_memo_skip(const struct vmx_entry_memo *m, int check)
{
	const uint64_t *d = m->deps[check];
	uint64_t hit = 0;
	if (m->run_all)
		return false;
	for (unsigned k = 0; k < WORDS; k++)
		hit |= d[k] & m->changed[k];
	return !hit && !(d[VMX_MEMO_IMPURE >> 6] & 1ull << (VMX_MEMO_IMPURE & 63));
}

uint64_t *entry_memo_record(struct vmx_entry_memo *m, int check)
{
	memset(m->deps[check], 0, sizeof(m->deps[check]));
	return m->deps[check];
}

void entry_memo_impure(struct vmx_entry_memo *m, int check)
{
	m->deps[check][VMX_MEMO_IMPURE >> 6] |= 1ull << (VMX_MEMO_IMPURE & 63);
}

void entry_memo_commit(struct cpu *c, struct vmx_entry_memo *m)
{
	const uint8_t *h = vmcs_host(c);
	for (unsigned f = 0; f < VF_COUNT; f++)
		if (m->changed[f >> 6] & 1ull << (f & 63))
			m->field[f] = field_now(c, h, f);
	m->vmcs = c->vmx.vmcs_ptr;
	m->valid = true;
}

void entry_memo_forget(struct cpu *c)
{
	c->vmx.memo.valid = false;
}
