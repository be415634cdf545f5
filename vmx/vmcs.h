/* The VMCS field table (vmx/vmcs_fields.def) and access to the current
 * VMCS in guest-physical memory.
 *
 * Layout of a VMCS region (ours; SDM vol. 3C 24.2 leaves the data area to
 * the implementation; docs/vmcs-layout.md lists every field):
 *   0   revision identifier (bits 30:0), shadow-VMCS indicator (bit 31)
 *   4   VMX-abort indicator
 *   8   launch state as written back by VMCLEAR (VMCS_LAUNCH_*)
 *   16  the fields, 8 bytes each, in table order: field i at 16 + 8 * i;
 *       a narrower field uses the low bytes and the rest stay zero
 * The region is VMCS_REGION_SIZE bytes (IA32_VMX_BASIC[44:32]).
 */
#ifndef VMX_VMCS_H
#define VMX_VMCS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/cpu.h"

#define VMCS_REGION_SIZE 4096u
#define VMCS_OFF_REVISION 0u
#define VMCS_OFF_ABORT 4u
#define VMCS_OFF_LAUNCH 8u
#define VMCS_OFF_FIELDS 16u
#define VMCS_SHADOW_INDICATOR (1u << 31)
/* The memory type IA32_VMX_BASIC[53:50] reports for VMCS regions and the
 * structures they point to: 6, write-back (Appendix A.1). */
#define VMCS_MEMORY_TYPE_WB 6u
/* Launch-state word at offset 8: what VMCLEAR leaves. Anything else means
 * the region was never VMCLEARed (VMPTRLD of it is then a software error,
 * SDM 24.11.3, which vtxsim warns about). */
#define VMCS_LAUNCH_CLEAR 0x7674636cu   /* "lctv" */
/* Written back by the processor, never by VMCLEAR: a launched VMCS dropped
 * from a full active list (vmx/vmx.c), and a launched VMCS that was still
 * active at VMXOFF (VMRESUME of it after VMXON + VMPTRLD is error 6). */
#define VMCS_LAUNCH_LAUNCHED (VMCS_LAUNCH_CLEAR ^ 0x0100u)
#define VMCS_LAUNCH_VMXOFF (VMCS_LAUNCH_CLEAR ^ 0x0200u)

/* Encoding fields (24.11.2, Table 24-17). */
enum vmcs_width { VMCS_W16 = 0, VMCS_W64 = 1, VMCS_W32 = 2, VMCS_WNAT = 3 };
enum vmcs_type { VMCS_T_CONTROL = 0, VMCS_T_RODATA = 1, VMCS_T_GUEST = 2, VMCS_T_HOST = 3 };

static inline enum vmcs_width vmcs_enc_width(uint32_t enc)
{
	return (enum vmcs_width)((enc >> 13) & 3);
}

static inline enum vmcs_type vmcs_enc_type(uint32_t enc)
{
	return (enum vmcs_type)((enc >> 10) & 3);
}

/* Which capability makes a field exist (the "This field exists only on
 * processors that support the 1-setting of ..." notes of Appendix B). The
 * row's ctl column holds the control's mask from vmx/controls.h; for the
 * two-way notes ("either the 1-setting of the X VM-entry control or that of
 * the Y VM-exit control") it holds VMCS_DEP_EITHER(entry mask, exit mask). */
enum vmcs_dep {
	DEP_ALWAYS,             /* every VMX processor has it (ctl 0) */
	DEP_PIN, DEP_PROC, DEP_PROC2, DEP_PROC3, DEP_EXIT, DEP_EXIT2, DEP_ENTRY, DEP_VMFUNC,
	DEP_ENTRY_OR_EXIT,      /* a VM-entry control or a primary VM-exit control */
	DEP_ENTRY_OR_EXIT2,     /* a VM-entry control or a secondary VM-exit control */
};
#define VMCS_DEP_EITHER(entry, exit) ((uint64_t)(exit) << 32 | (uint32_t)(entry))

enum vmcs_field {
#define VMCS_FIELD(enc, name, title, dep, ctl) VF_##name,
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
	VF_COUNT
};

_Static_assert(VMCS_OFF_FIELDS + 8u * VF_COUNT <= VMCS_REGION_SIZE, "VMCS fields must fit the region");

struct vmcs_field_info {
	uint32_t enc;
	const char *name;       /* "GUEST_RIP" */
	const char *title;      /* "Guest RIP", as Appendix B names it */
	enum vmcs_dep dep;
	uint64_t ctl;           /* the control mask(s) dep names, 0 for DEP_ALWAYS */
	const char *ctl_text;   /* the ctl column as written: "PROC2_VPID" */
};

extern const struct vmcs_field_info vmcs_fields[VF_COUNT];

static inline uint32_t vmcs_field_offset(enum vmcs_field f)
{
	return VMCS_OFF_FIELDS + 8u * (uint32_t)f;
}

/* The row for a VMREAD/VMWRITE encoding: a 64-bit field's high half
 * (encoding | 1) maps to its row with *high = true. -1 when the encoding is
 * in no row (bits 63:32 of the operand must be 0 too: the caller checks). */
int vmcs_field_lookup(uint32_t enc, bool *high);

/* Does field f exist on this CPU's model (VMREAD/VMWRITE error 12 if not). */
bool vmcs_field_exists(const struct cpu *c, enum vmcs_field f);

/* The Appendix B group a field belongs to: "16-bit control", "natural-width
 * guest-state", ... (from the encoding). */
const char *vmcs_group_name(uint32_t enc);

/* docs/vmcs-layout.md: the region header and every field with its offset,
 * encoding, name, title, width, type, Appendix B section and the control
 * that makes it exist (vmx/vmcs_doc.c; `vtxsim --vmcs-layout`). */
void vmcs_layout_markdown(FILE *out);

/* Raw access to field f of the VMCS region at pa (guest-physical), width
 * applied: reads zero-extend, writes truncate and fill the field's whole
 * 8-byte slot (the bytes past a narrow field stay zero). The caller has
 * checked that the region lies in RAM. These are VMX's own accesses: they
 * never trigger the direct-write warning of vmx_watch_region(). */
uint64_t vmcs_region_read(struct cpu *c, uint64_t pa, enum vmcs_field f);
void vmcs_region_write(struct cpu *c, uint64_t pa, enum vmcs_field f, uint64_t v);

/* Bytes of each field's slot that hold the field (its width), as a mask. */
extern const uint64_t vmcs_field_mask[VF_COUNT];

/* The host address of the current VMCS region when it is plain RAM, else
 * NULL (vmcs.c; cached per region and physical-map generation: VM exits
 * and entries read and write dozens of fields). */
uint8_t *vmcs_host_fill(struct cpu *c);

static inline uint8_t *vmcs_host(struct cpu *c)
{
	if (__builtin_expect(c->vmx.vmcs_host_pa != c->vmx.vmcs_ptr || c->vmx.vmcs_host_gen != c->phys->generation, 0))
		return vmcs_host_fill(c);
	return c->vmx.vmcs_host;
}

/* The same on the current VMCS (c->vmx.vmcs_ptr must be valid): a direct
 * load or store of the field's slot when the region is plain RAM; a store
 * into a page that holds decoded code still invalidates it (the slow path). */
static inline uint64_t vmcs_read(struct cpu *c, enum vmcs_field f)
{
	uint8_t *h = vmcs_host(c);
	uint64_t v;
	if (__builtin_expect(!h, 0))
		return vmcs_region_read(c, c->vmx.vmcs_ptr, f);
	__builtin_memcpy(&v, h + vmcs_field_offset(f), 8);
	return v & vmcs_field_mask[f];
}

/* A burst of field accesses by the processor itself (a VM exit saving the
 * guest state, loading the host state): h = vmcs_burst(c) once, then
 * vmcs_get/vmcs_put with it, which go straight to memory when h is not
 * NULL (the region is plain RAM and holds no decoded code). */
static inline uint8_t *vmcs_burst(struct cpu *c)
{
	uint8_t *h = vmcs_host(c);
	return h && !(c->phys->code_page[c->vmx.vmcs_ptr >> PAGE_SHIFT] & PHYS_PAGE_CODE) ? h : NULL;
}

static inline uint64_t vmcs_get(struct cpu *c, const uint8_t *h, enum vmcs_field f)
{
	uint64_t v;
	if (__builtin_expect(!h, 0))
		return vmcs_region_read(c, c->vmx.vmcs_ptr, f);
	__builtin_memcpy(&v, h + vmcs_field_offset(f), 8);
	return v & vmcs_field_mask[f];
}

static inline void vmcs_put(struct cpu *c, uint8_t *h, enum vmcs_field f, uint64_t v)
{
	if (__builtin_expect(!h, 0)) {
		vmcs_region_write(c, c->vmx.vmcs_ptr, f, v);
		return;
	}
	v &= vmcs_field_mask[f];
	__builtin_memcpy(h + vmcs_field_offset(f), &v, 8);
}

static inline void vmcs_write(struct cpu *c, enum vmcs_field f, uint64_t v)
{
	uint8_t *h = vmcs_host(c);
	if (__builtin_expect(!h || (c->phys->code_page[c->vmx.vmcs_ptr >> PAGE_SHIFT] & PHYS_PAGE_CODE), 0)) {
		vmcs_region_write(c, c->vmx.vmcs_ptr, f, v);
		return;
	}
	v &= vmcs_field_mask[f];
	__builtin_memcpy(h + vmcs_field_offset(f), &v, 8);
}

#endif
