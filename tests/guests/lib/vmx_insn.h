/* The VMX instructions for guest tests, with their outcome read from
 * RFLAGS (SDM vol. 3C 30.2): VMX_OK (VMsucceed), VMX_FAIL_INVALID (CF=1),
 * VMX_FAIL_VALID (ZF=1: the error is in the VM-instruction error field).
 * Field encodings come from vmx/vmcs_fields.def (VMCS_<NAME>), control
 * bits, exit reasons and error numbers from vmx/controls.h: the same
 * tables vtxsim reads. */
#ifndef GUEST_VMX_INSN_H
#define GUEST_VMX_INSN_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/controls.h"

enum {
#define VMCS_FIELD(enc, name, title, dep, bit) VMCS_##name = (enc),
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

enum vmx_result { VMX_OK = 0, VMX_FAIL_INVALID = 1, VMX_FAIL_VALID = 2 };

static inline enum vmx_result vmx_result_of(uint64_t rflags)
{
	if (rflags & 1)
		return VMX_FAIL_INVALID;
	if (rflags & 0x40)
		return VMX_FAIL_VALID;
	return VMX_OK;
}

#define VMX_OP_MEM(mnemonic, pa)                                                       \
	({                                                                              \
		uint64_t fl_, op_ = (pa);                                               \
		asm volatile(mnemonic " %1; pushfq; popq %0" : "=r"(fl_) : "m"(op_) : "cc", "memory"); \
		vmx_result_of(fl_);                                                     \
	})

static inline enum vmx_result vmxon(uint64_t pa) { return VMX_OP_MEM("vmxon", pa); }
static inline enum vmx_result vmclear(uint64_t pa) { return VMX_OP_MEM("vmclear", pa); }
static inline enum vmx_result vmptrld(uint64_t pa) { return VMX_OP_MEM("vmptrld", pa); }

static inline enum vmx_result vmptrst(uint64_t *pa)
{
	uint64_t fl;
	asm volatile("vmptrst %1; pushfq; popq %0" : "=r"(fl), "=m"(*pa) : : "cc", "memory");
	return vmx_result_of(fl);
}

static inline enum vmx_result vmxoff(void)
{
	uint64_t fl;
	asm volatile("vmxoff; pushfq; popq %0" : "=r"(fl) : : "cc", "memory");
	return vmx_result_of(fl);
}

static inline enum vmx_result vmread_r(uint64_t field, uint64_t *v)
{
	uint64_t fl, val = 0;
	asm volatile("vmread %2, %1; pushfq; popq %0" : "=r"(fl), "+r"(val) : "r"(field) : "cc", "memory");
	*v = val;
	return vmx_result_of(fl);
}

static inline enum vmx_result vmwrite_r(uint64_t field, uint64_t v)
{
	uint64_t fl;
	asm volatile("vmwrite %2, %1; pushfq; popq %0" : "=r"(fl) : "r"(field), "rm"(v) : "cc", "memory");
	return vmx_result_of(fl);
}

static inline enum vmx_result vmcall(void)
{
	uint64_t fl;
	asm volatile("vmcall; pushfq; popq %0" : "=r"(fl) : : "cc", "memory");
	return vmx_result_of(fl);
}

/* INVEPT / INVVPID type, 128-bit descriptor {lo, hi} (SDM vol. 3C 30.3). */
static inline enum vmx_result invept(uint64_t type, uint64_t eptp, uint64_t hi)
{
	uint64_t fl, desc[2] = { eptp, hi };
	asm volatile("invept %1, %2; pushfq; popq %0" : "=r"(fl) : "m"(desc), "r"(type) : "cc", "memory");
	return vmx_result_of(fl);
}

static inline enum vmx_result invvpid(uint64_t type, uint64_t lo, uint64_t la)
{
	uint64_t fl, desc[2] = { lo, la };
	asm volatile("invvpid %1, %2; pushfq; popq %0" : "=r"(fl) : "m"(desc), "r"(type) : "cc", "memory");
	return vmx_result_of(fl);
}

/* Every field of vmx/vmcs_fields.def, with the capability that makes it
 * exist: the control word (VMX_DEP_*) and the control's mask, or for the
 * ENTRY_OR_EXIT kinds a VM-entry mask (bits 31:0) and a VM-exit mask (bits
 * 63:32). What a test needs to iterate the table and decide "error 12
 * expected" (vmx_field_exists, lib/vmx_setup.c, reads the capability MSRs
 * as a hypervisor would). */
enum vmx_field_dep {
	VMX_DEP_ALWAYS, VMX_DEP_PIN, VMX_DEP_PROC, VMX_DEP_PROC2, VMX_DEP_PROC3, VMX_DEP_EXIT, VMX_DEP_EXIT2,
	VMX_DEP_ENTRY, VMX_DEP_VMFUNC, VMX_DEP_ENTRY_OR_EXIT, VMX_DEP_ENTRY_OR_EXIT2,
};

struct vmx_field_row {
	uint32_t enc;
	const char *name;
	enum vmx_field_dep dep;
	uint64_t ctl;
};

#define VMCS_DEP_EITHER(entry, exit) ((uint64_t)(exit) << 32 | (uint32_t)(entry))
static const struct vmx_field_row vmx_field_rows[] = {
#define VMCS_FIELD(enc, name, title, dep, ctl) { (enc), #name, VMX_##dep, (ctl) },
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/* Does the field exist on this CPU, by its capability MSRs (Appendix A:
 * the allowed-1 halves; secondary/tertiary words only when their
 * activating control may be 1). */
bool vmx_field_exists(const struct vmx_field_row *r);

/* Width and type from the encoding (24.11.2, Table 24-17). */
enum { VMX_W16 = 0, VMX_W64 = 1, VMX_W32 = 2, VMX_WNAT = 3 };
enum { VMX_T_CONTROL = 0, VMX_T_RODATA = 1, VMX_T_GUEST = 2, VMX_T_HOST = 3 };
static inline unsigned vmx_enc_width(uint32_t enc) { return (enc >> 13) & 3; }
static inline unsigned vmx_enc_type(uint32_t enc) { return (enc >> 10) & 3; }

/* The value of a field (0 when VMREAD fails: callers that care use vmread_r). */
static inline uint64_t vmread(uint64_t field)
{
	uint64_t v = 0;
	vmread_r(field, &v);
	return v;
}

static inline void vmwrite(uint64_t field, uint64_t v)
{
	vmwrite_r(field, v);
}

/* Set (on) or clear the bits of a control field. */
static inline void vmx_set_ctl(uint64_t field, uint64_t bits, bool on)
{
	uint64_t v = vmread(field);
	vmwrite(field, on ? v | bits : v & ~bits);
}

#endif
