/* The VM-entry checks remembered across entries whose inputs did not
 * change (vmx/entry_memo.c). */
#ifndef VMX_ENTRY_MEMO_H
#define VMX_ENTRY_MEMO_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/entry.h"
#include "vmx/vmx.h"

/* At the start of the control/host/guest phases of an entry: which fields
 * differ from the reference (all of them when there is none). */
struct vmx_entry_memo *entry_memo_begin(struct cpu *c);
/* The first check in [from, end) that must run at this entry (impure, or
 * one of its fields changed), or end. */
static inline int entry_memo_next(const struct vmx_entry_memo *m, int from, int end)
{
	while (from < end) {
		uint64_t bits = m->run[from >> 6] >> (from & 63);
		if (bits)
			return from + __builtin_ctzll(bits) < end ? from + __builtin_ctzll(bits) : end;
		from = (from | 63) + 1;
	}
	return end;
}
/* Before running check: its dependency set, emptied, for rd() to fill. */
uint64_t *entry_memo_record(struct vmx_entry_memo *m, int check);
/* After running it: index the fields it read; impure: it also read memory
 * or processor state, so it runs at every entry. */
void entry_memo_recorded(struct vmx_entry_memo *m, int check, bool impure);
/* All three phases passed: the current fields become the reference. */
void entry_memo_commit(struct cpu *c, struct vmx_entry_memo *m);
/* A check failed (or the memo must not be trusted): run everything next time. */
void entry_memo_forget(struct cpu *c);

#endif
