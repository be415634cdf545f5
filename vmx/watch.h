/* Undefined behaviour made visible for VMX memory: a guest's ordinary
 * memory write into the VMCS region of a VMCS that is active on a CPU
 * (SDM vol. 3C 24.11.1: software must use VMREAD/VMWRITE) or into the
 * VMXON region between VMXON and VMXOFF (24.11.5) is carried out, as real
 * hardware carries it out into memory, and draws one cpu_warn() line on the
 * CPU that owns the region, naming the rule.
 *
 * The VMX instructions keep the watches: VMXON watches the VMXON region,
 * VMXOFF unwatches it; VMPTRLD watches a VMCS that becomes active, VMCLEAR
 * unwatches the VMCS it makes inactive; reset unwatches everything of the
 * CPU (vmx_reset). VMX's own accesses (vmcs_region_read/write) never warn.
 * Pages are marked in the physical map (PHYS_PAGE_WATCH), so writes to
 * other pages keep the TLB fast path.
 */
#ifndef VMX_WATCH_H
#define VMX_WATCH_H

#include <stdint.h>

#include "cpu/cpu.h"

enum vmx_watch_kind { VMX_WATCH_VMCS, VMX_WATCH_VMXON };

/* Watch [pa, pa+size) as c's active VMCS or VMXON region. 0, or -1 when the
 * range is not all RAM (then nothing is watched). Watching the same region
 * twice for the same CPU keeps one watch. */
int vmx_watch_region(struct cpu *c, uint64_t pa, uint64_t size, enum vmx_watch_kind kind);
/* Stop watching c's region at pa (no effect when it is not watched). */
void vmx_unwatch_region(struct cpu *c, uint64_t pa);
/* Stop watching every region of c. */
void vmx_unwatch_all(struct cpu *c);

/* The watch a CPU other than c keeps on the region starting at pa as kind,
 * or NULL: which other CPU has that VMCS active or that VMXON region
 * (vmx/misuse.c), answered by the physical map, not by the other CPU. */
const struct phys_watch *vmx_watch_other(const struct cpu *c, uint64_t pa, enum vmx_watch_kind kind);
/* The first VMX watch of any CPU overlapping [pa, pa+size), or NULL. */
const struct phys_watch *vmx_watch_overlap(const struct cpu *c, uint64_t pa, uint64_t size);
/* The APIC id of the CPU that keeps watch w. */
int vmx_watch_owner(const struct phys_watch *w);

#endif
