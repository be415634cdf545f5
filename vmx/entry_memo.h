/* The control and host-state checks of VM entry (26.2) remembered across
 * entries with identical inputs (vmx/entry_memo.c). */
#ifndef VMX_ENTRY_MEMO_H
#define VMX_ENTRY_MEMO_H

#include <stdbool.h>

#include "cpu/cpu.h"

/* True when every input of the control and host phases equals its value
 * at the last entry_memo_store(): those phases would pass again. */
bool entry_memo_hit(struct cpu *c);
/* Both phases just passed: remember their inputs. */
void entry_memo_store(struct cpu *c);

#endif
