/* Per-processor VMX state: reset, the CR0/CR4 rules of VMX operation, and
 * the list of active VMCSs. */
#include "vmx/vmx.h"

#include <string.h>

#include "cpu/cpu.h"
#include "vmx/caps.h"
#include "vmx/ept.h"
#include "vmx/insn.h"
#include "vmx/misuse.h"
#include "vmx/vmcs.h"
#include "vmx/watch.h"

void vmx_reset(struct cpu *c)
{
	c->vmx.on = false;
	c->vmx.nonroot = false;
	vmx_ept_leave(&c->vmx);
	c->vmx.vmxon_ptr = 0;
	c->vmx.vmcs_ptr = VMCS_PTR_NONE;
	c->vmx.nactive = 0;
	c->vmx.abort = 0;
	c->vmx.memo.valid = false;
	c->vmx.verdict = (struct vmx_verdict){ .check = -1, .field = UINT32_MAX };
	if (c->phys)
		vmx_unwatch_all(c);
}

/* 23.8: in VMX operation, bits fixed by IA32_VMX_CR0_FIXED0/1 and
 * CR4_FIXED0/1 must keep their fixed values: CLTS, LMSW and MOV to CR0/CR4
 * that would break them are #GP(0) (cpu/system.c asks before any side
 * effect). CR4_FIXED0 holds VMXE, so clearing CR4.VMXE in VMX operation is
 * #GP(0) as well. In non-root operation the fixed bits bind only the
 * guest-owned positions (guest/host mask clear) and "unrestricted guest"
 * frees PE/PG (25.3; vmx/intercept_cr.c). */
bool vmx_cr0_write_ok(const struct cpu *c, uint64_t cr0)
{
	if (!c->vmx.on)
		return true;
	if (c->vmx.nonroot)
		return vmx_nonroot_cr0_ok(c, cr0);      /* 25.3: guest-owned bits only */
	return (cr0 & vmx_cr0_fixed0(c)) == vmx_cr0_fixed0(c) && (cr0 & ~vmx_cr0_fixed1(c)) == 0;
}

bool vmx_cr4_write_ok(const struct cpu *c, uint64_t cr4)
{
	if (!c->vmx.on)
		return true;
	if (c->vmx.nonroot)
		return vmx_nonroot_cr4_ok(c, cr4);      /* 25.3: guest-owned bits only */
	return (cr4 & vmx_cr4_fixed0(c)) == vmx_cr4_fixed0(c) && (cr4 & ~vmx_cr4_fixed1(c)) == 0;
}

/* ---- the active-VMCS list (vmx/insn.h) ---- */

struct vmx_active *vmx_active_find(struct cpu *c, uint64_t pa)
{
	for (unsigned k = 0; k < c->vmx.nactive; k++)
		if (c->vmx.active[k].pa == pa)
			return &c->vmx.active[k];
	return NULL;
}

/* VMX's own write into a region it watches (vmx/watch.h): no warning. */
static void write_launch_word(struct cpu *c, uint64_t pa, uint32_t word)
{
	phys_write_unwatched(c->phys, pa + VMCS_OFF_LAUNCH, word, 4);
}

/* The VMCS stops being active: ordinary writes to it are allowed again. */
static void drop(struct cpu *c, struct vmx_active *a)
{
	unsigned k = (unsigned)(a - c->vmx.active);
	vmx_unwatch_region(c, a->pa);
	memmove(a, a + 1, (c->vmx.nactive - k - 1) * sizeof(*a));
	c->vmx.nactive--;
}

void vmx_active_clear(struct cpu *c, struct vmx_active *a)
{
	write_launch_word(c, a->pa, VMCS_LAUNCH_CLEAR);
	drop(c, a);
}

/* A full list: write back the oldest entry that is not current (entries are
 * kept in the order they became active). SDM 24.11.3 lets an
 * implementation keep only so many VMCSs active; software that needs more
 * should VMCLEAR the ones it is done with. */
static void evict_oldest(struct cpu *c)
{
	for (unsigned k = 0; k < c->vmx.nactive; k++) {
		struct vmx_active *a = &c->vmx.active[k];
		if (a->pa == c->vmx.vmcs_ptr)
			continue;
		vmx_misuse(c, VMX_MISUSE_TOO_MANY_ACTIVE,
			   "VMPTRLD on cpu%d: %u VMCSs active without VMCLEAR; writing back the one at %#llx", c->id,
			   VMX_ACTIVE_MAX, (unsigned long long)a->pa);
		write_launch_word(c, a->pa, a->launched ? VMCS_LAUNCH_LAUNCHED : VMCS_LAUNCH_CLEAR);
		drop(c, a);
		return;
	}
}

struct vmx_active *vmx_active_add(struct cpu *c, uint64_t pa)
{
	if (c->vmx.nactive == VMX_ACTIVE_MAX)
		evict_oldest(c);
	uint32_t word = (uint32_t)phys_read(c->phys, pa + VMCS_OFF_LAUNCH, 4);
	struct vmx_active *a = &c->vmx.active[c->vmx.nactive++];
	*a = (struct vmx_active){ .pa = pa };
	vmx_watch_region(c, pa, VMCS_REGION_SIZE, VMX_WATCH_VMCS);
	if (word == VMCS_LAUNCH_LAUNCHED) {
		a->launched = true;
	} else if (word == VMCS_LAUNCH_VMXOFF) {
		a->launched = true;
		a->after_vmxoff = true;
	} else if (word != VMCS_LAUNCH_CLEAR) {
		vmx_misuse(c, VMX_MISUSE_VMPTRLD_UNCLEARED,
			   "VMPTRLD on cpu%d of the VMCS region at %#llx, never initialised by VMCLEAR; taken as clear",
			   c->id, (unsigned long long)pa);
	}
	return a;
}

void vmx_active_flush_vmxoff(struct cpu *c)
{
	for (unsigned k = 0; k < c->vmx.nactive; k++) {
		const struct vmx_active *a = &c->vmx.active[k];
		vmx_misuse(c, VMX_MISUSE_VMXOFF_WITH_ACTIVE_VMCS, "VMXOFF on cpu%d with the VMCS at %#llx still active",
			   c->id, (unsigned long long)a->pa);
		write_launch_word(c, a->pa, a->launched ? VMCS_LAUNCH_VMXOFF : VMCS_LAUNCH_CLEAR);
		vmx_unwatch_region(c, a->pa);
	}
	c->vmx.nactive = 0;
}

/* Index of the current VMCS in the active list, or -1. */
static int current_index(const struct cpu *c)
{
	for (unsigned k = 0; k < c->vmx.nactive && k < VMX_ACTIVE_MAX; k++)
		if (c->vmx.active[k].pa == c->vmx.vmcs_ptr)
			return (int)k;
	return -1;
}

bool vmx_current_launched(const struct cpu *c)
{
	int k = current_index(c);
	return k >= 0 && c->vmx.active[k].launched;
}

void vmx_set_current_launched(struct cpu *c, bool launched)
{
	int k = current_index(c);
	if (k < 0 && c->vmx.nactive < VMX_ACTIVE_MAX) {
		k = (int)c->vmx.nactive++;
		c->vmx.active[k] = (struct vmx_active){ .pa = c->vmx.vmcs_ptr };
	}
	if (k >= 0) {
		c->vmx.active[k].launched = launched;
		c->vmx.active[k].after_vmxoff = false;  /* a new VMLAUNCH makes it resumable */
	}
}

bool vmx_current_after_vmxoff(const struct cpu *c)
{
	int k = current_index(c);
	return k >= 0 && c->vmx.active[k].after_vmxoff;
}
