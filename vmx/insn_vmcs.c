/* VMREAD and VMWRITE (SDM vol. 3C 30.3), over the field table of
 * vmx/vmcs_fields.def. Field widths and the access type come from the
 * encoding (24.11.2): a 64-bit field's "high" encoding (bit 0 set) reaches
 * its bits 63:32. Outside 64-bit mode both instructions move 32 bits:
 * VMREAD gets the low 32 bits of a longer field, VMWRITE clears the bits
 * of a longer field above 31 ("If the VMCS field is longer, then the high
 * bits of the field are cleared to 0"). In VMX non-root operation with
 * VMCS shadowing they reach the shadow VMCS (vmx/shadow.h). */
#include "cpu/handlers.h"
#include "cpu/model.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/insn_impl.h"
#include "vmx/shadow.h"
#include "vmx/vmcs.h"

/* 30.3 VMREAD/VMWRITE after the #UD test: in VMX non-root operation the
 * VM exit unless VMCS shadowing lets the instruction through (vmx/shadow.c);
 * #GP at CPL > 0; VMfailInvalid when the VMCS it would access is not valid:
 * the current VMCS in root operation, the one the VMCS link pointer
 * references in non-root operation (all ones: VM entry checked any other
 * value, 26.3.1.5). EXEC_OK with *done = false: go on with *target, the
 * region to access. */
static enum exec_status rw_common(struct cpu *c, const struct insn *i, bool write, uint64_t *target, bool *done)
{
	*done = true;
	if (vmx_insn_ud(c))
		return cpu_ud(c);
	if (c->vmx.nonroot && vmx_shadow_rw_exits(c, reg_read(c, i->reg, vmx_reg_size(c)), write))
		return vmx_insn_exit(c, i, write ? EXIT_REASON_VMWRITE : EXIT_REASON_VMREAD, INFO_RW);
	if (c->cpl > 0)
		return cpu_gp0(c);
	*target = c->vmx.nonroot ? vmcs_read(c, VF_VMCS_LINK_PTR) : c->vmx.vmcs_ptr;
	if (*target == VMCS_PTR_NONE) {
		vmx_fail_invalid(c, i);
		return EXEC_OK;
	}
	*done = false;
	return EXEC_OK;
}

/* Field f of the region the instruction accesses: the current VMCS, or
 * the shadow VMCS in non-root operation. A VMfailValid still writes the
 * error into the current VMCS (30.2), never into the shadow. */
static uint64_t target_read(struct cpu *c, uint64_t target, enum vmcs_field f)
{
	return target == c->vmx.vmcs_ptr ? vmcs_read(c, f) : vmcs_region_read(c, target, f);
}

static void target_write(struct cpu *c, uint64_t target, enum vmcs_field f, uint64_t v)
{
	if (target == c->vmx.vmcs_ptr)
		vmcs_write(c, f, v);
	else
		vmcs_region_write(c, target, f, v);
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
	uint64_t target = VMCS_PTR_NONE;
	enum exec_status st = rw_common(c, i, false, &target, &done);
	if (done)
		return st;
	int f = field_of(c, i, &high);
	if (f < 0) {
		vmx_fail_valid(c, i, VMERR_VMREADWRITE_BAD_FIELD);
		return EXEC_OK;
	}
	uint64_t v = target_read(c, target, (enum vmcs_field)f);
	if (high)
		v >>= 32;
	unsigned sz = vmx_reg_size(c);
	if (i->flags & IF_MOD3)
		reg_write(c, i->rm, sz, v);
	else if (!mem_write_seg(c, i->seg, insn_ea(c, i), 1u << sz, sz == SZ64 ? v : (uint32_t)v))
		return EXEC_FAULT;      /* faults on the destination come after the field checks */
	vmx_succeed(c, i);
	return EXEC_OK;
}

/* The new value of field f for source operand v (already cut to the
 * operand size). */
static uint64_t vmwrite_value(struct cpu *c, uint64_t target, enum vmcs_field f, bool high, uint64_t v)
{
	if (!high)
		return v;
	return (target_read(c, target, f) & 0xffffffffull) | (uint64_t)(uint32_t)v << 32;
}

enum exec_status op_vmwrite_Gy_Ey(struct cpu *c, const struct insn *i)
{
	bool done, high;
	uint64_t v, target = VMCS_PTR_NONE;
	enum exec_status st = rw_common(c, i, true, &target, &done);
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
		vmx_fail_valid(c, i, VMERR_VMREADWRITE_BAD_FIELD);
		return EXEC_OK;
	}
	if (vmcs_enc_type(vmcs_fields[f].enc) == VMCS_T_RODATA && !(c->model->vmx.misc & VMX_MISC_VMWRITE_ANY)) {
		vmx_fail_valid(c, i, VMERR_VMWRITE_READONLY);
		return EXEC_OK;
	}
	target_write(c, target, (enum vmcs_field)f, vmwrite_value(c, target, (enum vmcs_field)f, high, v));
	vmx_succeed(c, i);
	return EXEC_OK;
}
