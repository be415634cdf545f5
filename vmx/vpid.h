/* The translation context of VMX operation: which VPID and EP4TA tag the
 * cached translations (SDM vol. 3C 28.3.1), and what VM entries and VM
 * exits invalidate (28.3.3.1). The software TLB keeps the contexts apart
 * (mem/tlb.h). */
#ifndef VMX_VPID_H
#define VMX_VPID_H

#include <stdint.h>

struct cpu;

/* After a VM entry loaded the guest state: the guest's context becomes
 * current. */
void vmx_tlb_enter(struct cpu *c, const uint8_t *h);
/* After a VM exit loaded the host state: root operation's context (VPID
 * 0000H, no EPT) becomes current. */
void vmx_tlb_exit(struct cpu *c, const uint8_t *h);

#endif
