/* Warnings for ordinary writes to an active VMCS or the VMXON region
 * (vmx/watch.h), and the queries vmx/misuse.c asks the watch table. */
#include "vmx/watch.h"

#include "cpu/icache.h"
#include "vmx/misuse.h"

static void on_watched_write(void *opaque, const struct phys_watch *w, uint64_t pa, unsigned size)
{
	struct cpu *owner = w->tag;
	(void)opaque;

	if (w->kind == VMX_WATCH_VMXON)
		vmx_misuse(owner, VMX_MISUSE_VMXON_MEMORY_WRITE,
			   "guest wrote %u bytes at 0x%llx inside the VMXON region at 0x%llx of cpu%d", size,
			   (unsigned long long)pa, (unsigned long long)w->base, owner->id);
	else
		vmx_misuse(owner, VMX_MISUSE_VMCS_MEMORY_WRITE,
			   "guest wrote %u bytes at 0x%llx inside the VMCS at 0x%llx active on cpu%d (use VMWRITE, "
			   "or VMCLEAR it before touching its memory)",
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

/* Only VMX installs watches with on_watched_write; any other user of the
 * watch table has its own hook, and its ranges are not VMX regions. */
static bool is_vmx_watch(const struct phys_map *pm)
{
	return pm->on_watch_write == on_watched_write;
}

const struct phys_watch *vmx_watch_other(const struct cpu *c, uint64_t pa, enum vmx_watch_kind kind)
{
	const struct phys_map *pm = c->phys;
	for (int i = 0; is_vmx_watch(pm) && i < pm->nwatches; i++) {
		const struct phys_watch *w = &pm->watches[i];
		if (w->base == pa && w->kind == kind && w->tag != c)
			return w;
	}
	return NULL;
}

const struct phys_watch *vmx_watch_overlap(const struct cpu *c, uint64_t pa, uint64_t size)
{
	const struct phys_map *pm = c->phys;
	for (int i = 0; is_vmx_watch(pm) && i < pm->nwatches; i++) {
		const struct phys_watch *w = &pm->watches[i];
		if (pa < w->base + w->size && w->base < pa + size)
			return w;
	}
	return NULL;
}

int vmx_watch_owner(const struct phys_watch *w)
{
	return ((const struct cpu *)w->tag)->id;
}
