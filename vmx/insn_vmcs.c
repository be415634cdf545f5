/* VMREAD and VMWRITE (SDM vol. 3C 30.3), over the field table of
 * vmx/vmcs_fields.def. Field widths and the access type come from the
 * encoding (24.11.2): a 64-bit field's "high" encoding (bit 0 set) reaches
 * its bits 63:32. Outside 64-bit mode both instructions move 32 bits:
 * VMREAD gets the low 32 bits of a longer field, VMWRITE clears the bits
 * of a longer field above 31 ("If the VMCS field is longer, then the high
 * bits of the field are cleared to 0"). */
#include "cpu/handlers.h"
#include "cpu/model.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/insn_impl.h"
#include "vmx/vmcs.h"

#define MISC_VMWRITE_ANY (1ull << 29)   /* IA32_VMX_MISC[29]: VMWRITE may write read-only fields (A.6) */

/* VMREAD and VMWRITE in VMX non-root operation cause VM exits unless VMCS
 * shadowing lets them reach the shadow VMCS (25.1.3, 24.6.15). vtxsim
 * does not implement the shadow-VMCS access yet: with shadowing enabled it
 * still exits, and says so. */
static enum exec_status rw_exit(struct cpu *c, const struct insn *i, unsigned reason)
{
	if ((vmcs_read(c, VF_PROC_CONTROLS) & PROC_SECONDARY_CTLS) &&
	    (vmcs_read(c, VF_PROC2_CONTROLS) & PROC2_VMCS_SHADOWING))
		cpu_warn(c, "VMREAD/VMWRITE with VMCS shadowing enabled: shadow-VMCS access is not implemented, "
			 "the instruction exits (SDM 25.1.3)");
	return vmx_insn_exit(c, i, reason, INFO_RW);
}

/* The steps both instructions share after the #UD test: the VM exit, #GP
 * at CPL > 0 and VMfailInvalid without a current VMCS. EXEC_OK with
 * *done = false: go on. */
static enum exec_status rw_common(struct cpu *c, const struct insn *i, unsigned reason, bool *done)
{
	*done = true;
	if (vmx_insn_ud(c))
		return cpu_ud(c);
	if (c->vmx.nonroot)
		return rw_exit(c, i, reason);
	if (c->cpl > 0)
		return cpu_gp0(c);
	if (c->vmx.vmcs_ptr == VMCS_PTR_NONE) {
		vmx_fail_invalid(c);
		return EXEC_OK;
	}
	*done = false;
	return EXEC_OK;
}

/* The field the register operand (ModRM.reg) names, or -1 for "does not
 * correspond to any VMCS field": not in the table, not on this model, or
 * bits 63:32 set in 64-bit mode (30.3 VMREAD/VMWRITE, error 12). */
static int field_of(struct cpu *c, const struct insn *i, bool *high)
{
	uint64_t enc = reg_read(c, i->reg, vmx_reg_size(c));
	*high = false;
	if (enc >> 32)
		return -1;
	int f = vmcs_field_lookup((uint32_t)enc, high);
	if (f < 0 || !vmcs_field_exists(c, (enum vmcs_field)f))
		return -1;
	return f;
}

enum exec_status op_vmread_Ey_Gy(struct cpu *c, const struct insn *i)
{
	bool done, high;
	enum exec_status st = rw_common(c, i, EXIT_REASON_VMREAD, &done);
	if (done)
		return st;
	int f = field_of(c, i, &high);
	if (f < 0) {
		vmx_fail_valid(c, VMERR_VMREADWRITE_BAD_FIELD);
		return EXEC_OK;
	}
	uint64_t v = vmcs_read(c, (enum vmcs_field)f);
	if (high)
		v >>= 32;
	unsigned sz = vmx_reg_size(c);
	if (i->flags & IF_MOD3)
		reg_write(c, i->rm, sz, v);
	else if (!mem_write_seg(c, i->seg, insn_ea(c, i), 1u << sz, sz == SZ64 ? v : (uint32_t)v))
		return EXEC_FAULT;      /* faults on the destination come after the field checks */
	vmx_succeed(c);
	return EXEC_OK;
}

/* The new value of field f for source operand v (already cut to the
 * operand size). */
static uint64_t vmwrite_value(struct cpu *c, enum vmcs_field f, bool high, uint64_t v)
{
	if (!high)
		return v;
	return (vmcs_read(c, f) & 0xffffffffull) | (uint64_t)(uint32_t)v << 32;
}

enum exec_status op_vmwrite_Gy_Ey(struct cpu *c, const struct insn *i)
{
	bool done, high;
	uint64_t v;
	enum exec_status st = rw_common(c, i, EXIT_REASON_VMWRITE, &done);
	if (done)
		return st;
	unsigned sz = vmx_reg_size(c);
	/* A memory source faults before the field is checked (30.3 VMWRITE). */
	if (i->flags & IF_MOD3)
		v = reg_read(c, i->rm, sz);
	else if (!mem_read_seg(c, i->seg, insn_ea(c, i), 1u << sz, &v))
		return EXEC_FAULT;
	int f = field_of(c, i, &high);
	if (f < 0) {
		vmx_fail_valid(c, VMERR_VMREADWRITE_BAD_FIELD);
		return EXEC_OK;
	}
	if (vmcs_enc_type(vmcs_fields[f].enc) == VMCS_T_RODATA && !(c->model->vmx.misc & MISC_VMWRITE_ANY)) {
		vmx_fail_valid(c, VMERR_VMWRITE_READONLY);
		return EXEC_OK;
	}
	vmcs_write(c, (enum vmcs_field)f, vmwrite_value(c, (enum vmcs_field)f, high, v));
	vmx_succeed(c);
	return EXEC_OK;
}
