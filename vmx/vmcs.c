/* The VMCS field table and raw access to VMCS regions (vmx/vmcs.h). */
#include "vmx/vmcs.h"

#include "vmx/caps.h"
#include "vmx/controls.h"

const struct vmcs_field_info vmcs_fields[VF_COUNT] = {
#define VMCS_FIELD(e, nm, t, d, b) \
	[VF_##nm] = { .enc = (e), .name = #nm, .title = (t), .dep = (d), .ctl = (b), .ctl_text = #b },
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/* What the encoding and the dependency columns must satisfy, row by row
 * (24.11.2: bit 0 is 0 in a "full" encoding, bits 12 and 31:15 are
 * reserved; a field that always exists names no control, one that depends
 * on a control names at least one bit of it). */
#define VMCS_FIELD(e, nm, t, d, b)                                                              \
	_Static_assert(((e) & 0xffff9001u) == 0, #nm ": malformed encoding");                   \
	_Static_assert(((d) == DEP_ALWAYS) == ((uint64_t)(b) == 0), #nm ": dep and ctl disagree"); \
	_Static_assert((d) < DEP_ENTRY_OR_EXIT || ((uint64_t)(b) >> 32 && (uint32_t)(b)),      \
		       #nm ": a two-way dependency names both controls");
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD

int vmcs_field_lookup(uint32_t enc, bool *high)
{
	*high = false;
	if (vmcs_enc_width(enc) == VMCS_W64 && (enc & 1)) {
		*high = true;
		enc &= ~1u;
	}
	switch (enc) {
#define VMCS_FIELD(e, nm, t, d, b) case (e): return VF_##nm;
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
	}
	*high = false;
	return -1;
}

/* The control word each single-word dependency names. */
static const enum vmx_ctl dep_word[] = {
	[DEP_PIN] = VMX_CTL_PIN, [DEP_PROC] = VMX_CTL_PROC, [DEP_PROC2] = VMX_CTL_PROC2,
	[DEP_PROC3] = VMX_CTL_PROC3, [DEP_EXIT] = VMX_CTL_EXIT, [DEP_EXIT2] = VMX_CTL_EXIT2,
	[DEP_ENTRY] = VMX_CTL_ENTRY, [DEP_VMFUNC] = VMX_CTL_VMFUNC,
};

static bool may_be1(const struct cpu *c, enum vmx_ctl w, uint64_t mask)
{
	return (vmx_allowed1(c, w) & mask) != 0;
}

/* Appendix B notes: a field exists when the model supports the 1-setting
 * of the control (of either control, for the two-way notes). */
bool vmcs_field_exists(const struct cpu *c, enum vmcs_field f)
{
	const struct vmcs_field_info *fi = &vmcs_fields[f];
	uint32_t entry = (uint32_t)fi->ctl, exit = (uint32_t)(fi->ctl >> 32);

	switch (fi->dep) {
	case DEP_ALWAYS:
		return true;
	case DEP_ENTRY_OR_EXIT:
		return may_be1(c, VMX_CTL_ENTRY, entry) || may_be1(c, VMX_CTL_EXIT, exit);
	case DEP_ENTRY_OR_EXIT2:
		return may_be1(c, VMX_CTL_ENTRY, entry) || may_be1(c, VMX_CTL_EXIT2, exit);
	default:
		return may_be1(c, dep_word[fi->dep], fi->ctl);
	}
}

const char *vmcs_group_name(uint32_t enc)
{
	static const char *const names[4][4] = {
		[VMCS_W16] = { "16-bit control", "16-bit read-only data", "16-bit guest-state", "16-bit host-state" },
		[VMCS_W64] = { "64-bit control", "64-bit read-only data", "64-bit guest-state", "64-bit host-state" },
		[VMCS_W32] = { "32-bit control", "32-bit read-only data", "32-bit guest-state", "32-bit host-state" },
		[VMCS_WNAT] = { "natural-width control", "natural-width read-only data", "natural-width guest-state",
				"natural-width host-state" },
	};
	return names[vmcs_enc_width(enc)][vmcs_enc_type(enc)];
}

static unsigned width_bytes(enum vmcs_width w)
{
	static const unsigned bytes[4] = { [VMCS_W16] = 2, [VMCS_W64] = 8, [VMCS_W32] = 4, [VMCS_WNAT] = 8 };
	return bytes[w];
}

const uint64_t vmcs_field_mask[VF_COUNT] = {
#define VMCS_FIELD(e, nm, t, d, b) \
	[VF_##nm] = ((e) >> 13 & 3) == VMCS_W16 ? 0xffffull : ((e) >> 13 & 3) == VMCS_W32 ? 0xffffffffull : ~0ull,
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/* The region is 4 KiB aligned (VMPTRLD checks it), so one page. */
uint8_t *vmcs_host_fill(struct cpu *c)
{
	uint64_t pa = c->vmx.vmcs_ptr;
	c->vmx.vmcs_host_pa = pa;
	c->vmx.vmcs_host_gen = c->phys->generation;
	c->vmx.vmcs_host = (pa & (PAGE_SIZE - 1)) == 0 && pa < c->phys->ram_size ? phys_ram_page(c->phys, pa) : NULL;
	return c->vmx.vmcs_host;
}

/* A read returns the field's width, zero-extended; a write stores the
 * value truncated to the width into the whole 8-byte slot, so the bytes
 * past a narrow field stay zero (docs/vmcs-layout.md). */
uint64_t vmcs_region_read(struct cpu *c, uint64_t pa, enum vmcs_field f)
{
	return phys_read(c->phys, pa + vmcs_field_offset(f), width_bytes(vmcs_enc_width(vmcs_fields[f].enc)));
}

void vmcs_region_write(struct cpu *c, uint64_t pa, enum vmcs_field f, uint64_t v)
{
	unsigned bytes = width_bytes(vmcs_enc_width(vmcs_fields[f].enc));
	uint64_t mask = bytes == 8 ? ~0ull : (1ull << (8 * bytes)) - 1;

	phys_write_unwatched(c->phys, pa + vmcs_field_offset(f), v & mask, 8);
}
