/* Warnings for ordinary writes to an active VMCS or the VMXON region
 * (vmx/watch.h). */
#include "vmx/watch.h"

#include "cpu/icache.h"

static void on_watched_write(void *opaque, const struct phys_watch *w, uint64_t pa, unsigned size)
{
	struct cpu *owner = w->tag;
	(void)opaque;

	if (w->kind == VMX_WATCH_VMXON)
		cpu_warn(owner,
			 "guest wrote %u bytes at 0x%llx inside the VMXON region at 0x%llx of cpu%d: SDM 24.11.5 "
			 "says not to access it between VMXON and VMXOFF",
			 size, (unsigned long long)pa, (unsigned long long)w->base, owner->id);
	else
		cpu_warn(owner,
			 "guest wrote %u bytes at 0x%llx inside the VMCS at 0x%llx active on cpu%d: SDM 24.11.1 "
			 "says use VMWRITE (VMCLEAR it before touching its memory)",
			 size, (unsigned long long)pa, (unsigned long long)w->base, owner->id);
}

/* Every CPU's TLB must stop writing the pages directly. */
static void drop_direct_writes(struct cpu *c, uint64_t pa, uint64_t size)
{
	for (uint64_t p = pa & PAGE_MASK; p < pa + size; p += PAGE_SIZE) {
		if (c->icache)
			icache_drop_writes(c->icache, p);
		else
			tlb_drop_writes_to(&c->tlb, p);
	}
}

int vmx_watch_region(struct cpu *c, uint64_t pa, uint64_t size, enum vmx_watch_kind kind)
{
	struct phys_map *pm = c->phys;

	phys_unwatch(pm, pa, c);
	if (phys_watch_add(pm, pa, size, c, kind) != 0)
		return -1;
	pm->on_watch_write = on_watched_write;
	pm->watch_write_opaque = NULL;
	drop_direct_writes(c, pa, size);
	return 0;
}

void vmx_unwatch_region(struct cpu *c, uint64_t pa)
{
	phys_unwatch(c->phys, pa, c);
}

void vmx_unwatch_all(struct cpu *c)
{
	phys_unwatch_tag(c->phys, c);
}
