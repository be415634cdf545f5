/* Misuse of VMX structures made visible (vmx/misuse.h): the rule table,
 * the per-rule budget, and the detectors the VMX instructions and VM entry
 * call. Nothing here changes guest-visible behaviour. */
#include "vmx/misuse.h"

#include <stdarg.h>
#include <stdio.h>

#include "vmx/controls.h"
#include "vmx/shadow.h"
#include "vmx/vmcs.h"
#include "vmx/watch.h"

const struct vmx_misuse_rule vmx_misuse_rules[VMX_MISUSE_COUNT] = {
#define VMX_MISUSE(id, section, rule) [VMX_MISUSE_##id] = { #id, section, rule },
#include "vmx/misuse.def"
#undef VMX_MISUSE
};

/* cpu_vwarn_site takes a va_list. */
static void warn_budgeted(struct cpu *c, uint32_t *count, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn_budgeted(struct cpu *c, uint32_t *count, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cpu_vwarn_site(c, count, VMX_MISUSE_BUDGET, fmt, ap);
	va_end(ap);
}

void vmx_misuse(struct cpu *c, enum vmx_misuse m, const char *fmt, ...)
{
	const struct vmx_misuse_rule *r = &vmx_misuse_rules[m];
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	warn_budgeted(c, &c->vmx.misuse[m], "%s (SDM %s: %s) [vmx misuse %s]", what, r->section, r->rule, r->id);
}

/* ---- the VMX instructions (SDM vol. 3C 30.3) ---- */

/* Warn with rule m when another CPU uses the region at pa as kind; fmt
 * takes this CPU, the address and the other CPU. */
static bool used_elsewhere(struct cpu *c, uint64_t pa, enum vmx_watch_kind kind, enum vmx_misuse m,
			   const char *fmt)
{
	const struct phys_watch *w = vmx_watch_other(c, pa, kind);
	if (w)
		vmx_misuse(c, m, fmt, c->id, (unsigned long long)pa, vmx_watch_owner(w));
	return w != NULL;
}

/* 24.11.5: the region is another CPU's VMXON region, or a VMCS active on
 * any CPU (this one has none: VMXON runs outside VMX operation). A real
 * processor enters VMX operation all the same. */
void vmx_misuse_vmxon(struct cpu *c, uint64_t pa)
{
	used_elsewhere(c, pa, VMX_WATCH_VMXON, VMX_MISUSE_VMXON_REGION_SHARED,
		       "VMXON on cpu%d with the region at 0x%llx, the VMXON region of cpu%d");
	used_elsewhere(c, pa, VMX_WATCH_VMCS, VMX_MISUSE_VMXON_REGION_SHARED,
		       "VMXON on cpu%d with the region at 0x%llx, a VMCS active on cpu%d");
}

/* After the pointer and revision checks passed (this CPU's own VMXON
 * pointer is error 10, not a warning). */
void vmx_misuse_vmptrld(struct cpu *c, uint64_t pa)
{
	used_elsewhere(c, pa, VMX_WATCH_VMCS, VMX_MISUSE_VMCS_ACTIVE_ON_TWO_CPUS,
		       "VMPTRLD on cpu%d of the VMCS at 0x%llx, which is active on cpu%d");
	used_elsewhere(c, pa, VMX_WATCH_VMXON, VMX_MISUSE_VMXON_REGION_AS_VMCS,
		       "VMPTRLD on cpu%d of the region at 0x%llx, the VMXON region of cpu%d");
}

bool vmx_misuse_vmclear(struct cpu *c, uint64_t pa)
{
	bool vmcs = used_elsewhere(c, pa, VMX_WATCH_VMCS, VMX_MISUSE_VMCLEAR_ACTIVE_ELSEWHERE,
				   "VMCLEAR on cpu%d of the VMCS at 0x%llx, which stays active on cpu%d");
	bool vmxon = used_elsewhere(c, pa, VMX_WATCH_VMXON, VMX_MISUSE_VMXON_REGION_AS_VMCS,
				    "VMCLEAR on cpu%d of the region at 0x%llx, the VMXON region of cpu%d");
	return vmcs || vmxon;
}

/* ---- VM entry: structures the VMCS points to (24.11.4) ---- */

enum related_size { SZ_PAGE, SZ_MSR_AREA, SZ_PI_DESC };

/* A related structure, in use when its control is 1 (or, for an MSR area,
 * when its count is not zero). */
struct related {
	enum vmcs_field addr;
	enum vmcs_field ctl_word;       /* VF_COUNT: used when count_field is not 0 */
	uint32_t ctl;
	enum vmcs_field count_field;
	const char *name;
	enum related_size size;
};

static const struct related related[] = {
	{ VF_IO_BITMAP_A, VF_PROC_CONTROLS, PROC_IO_BITMAPS, VF_COUNT, "I/O bitmap A", SZ_PAGE },
	{ VF_IO_BITMAP_B, VF_PROC_CONTROLS, PROC_IO_BITMAPS, VF_COUNT, "I/O bitmap B", SZ_PAGE },
	{ VF_MSR_BITMAP, VF_PROC_CONTROLS, PROC_MSR_BITMAPS, VF_COUNT, "MSR bitmaps", SZ_PAGE },
	{ VF_VIRTUAL_APIC_ADDR, VF_PROC_CONTROLS, PROC_TPR_SHADOW, VF_COUNT, "virtual-APIC page", SZ_PAGE },
	{ VF_APIC_ACCESS_ADDR, VF_PROC2_CONTROLS, PROC2_VIRT_APIC_ACCESS, VF_COUNT, "APIC-access page", SZ_PAGE },
	{ VF_VMREAD_BITMAP, VF_PROC2_CONTROLS, PROC2_VMCS_SHADOWING, VF_COUNT, "VMREAD bitmap", SZ_PAGE },
	{ VF_VMWRITE_BITMAP, VF_PROC2_CONTROLS, PROC2_VMCS_SHADOWING, VF_COUNT, "VMWRITE bitmap", SZ_PAGE },
	{ VF_POSTED_INTR_DESC_ADDR, VF_PIN_CONTROLS, PIN_POSTED_INTR, VF_COUNT, "posted-interrupt descriptor",
	  SZ_PI_DESC },
	{ VF_ENTRY_MSR_LOAD_ADDR, VF_COUNT, 0, VF_ENTRY_MSR_LOAD_COUNT, "VM-entry MSR-load area", SZ_MSR_AREA },
	{ VF_EXIT_MSR_STORE_ADDR, VF_COUNT, 0, VF_EXIT_MSR_STORE_COUNT, "VM-exit MSR-store area", SZ_MSR_AREA },
	{ VF_EXIT_MSR_LOAD_ADDR, VF_COUNT, 0, VF_EXIT_MSR_LOAD_COUNT, "VM-exit MSR-load area", SZ_MSR_AREA },
};

/* The control word as VM entry uses it: the secondary controls count only
 * when "activate secondary controls" is 1 (24.6.2). */
static uint32_t control_word(struct cpu *c, enum vmcs_field f)
{
	if (f == VF_PROC2_CONTROLS && !(vmcs_read(c, VF_PROC_CONTROLS) & PROC_SECONDARY_CTLS))
		return 0;
	return (uint32_t)vmcs_read(c, f);
}

/* Bytes of structure r in use, 0 when it is not in use. MSR areas are
 * counted up to the largest count any model accepts (the VM entry itself
 * refuses larger ones). */
static uint64_t related_bytes(struct cpu *c, const struct related *r)
{
	if (r->ctl_word != VF_COUNT) {
		if (!(control_word(c, r->ctl_word) & r->ctl) || !vmcs_field_exists(c, r->addr))
			return 0;
		return r->size == SZ_PI_DESC ? 64 : PAGE_SIZE;
	}
	uint64_t n = (uint32_t)vmcs_read(c, r->count_field);
	return 16 * (n < 4096 ? n : 4096);
}

static const char *watch_kind_text(const struct phys_watch *w)
{
	return w->kind == VMX_WATCH_VMXON ? "the VMXON region" : "the VMCS";
}

void vmx_misuse_entry(struct cpu *c)
{
	for (size_t k = 0; k < sizeof(related) / sizeof(related[0]); k++) {
		const struct related *r = &related[k];
		uint64_t len = related_bytes(c, r);
		if (!len)
			continue;
		uint64_t pa = vmcs_read(c, r->addr);
		const struct phys_watch *w = vmx_watch_overlap(c, pa, len);
		if (w)
			vmx_misuse(c, VMX_MISUSE_RELATED_STRUCTURE_OVERLAP,
				   "VM entry on cpu%d: the %s at 0x%llx (%llu bytes) overlaps %s at 0x%llx of cpu%d",
				   c->id, r->name, (unsigned long long)pa, (unsigned long long)len, watch_kind_text(w),
				   (unsigned long long)w->base, vmx_watch_owner(w));
	}
	vmx_shadow_entry_misuse(c);
}
