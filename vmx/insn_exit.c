/* VM exits caused by VMX instructions in VMX non-root operation: the exit
 * qualification (SDM vol. 3C 27.2.1) and the VM-exit
 * instruction-information field (27.2.4). */
#include "vmx/exit.h"
#include "vmx/insn_impl.h"

/* Register numbers of the information field: 0 = RAX ... 15 = R15, the
 * numbering the decoder uses. Segment numbers: ES, CS, SS, DS, FS, GS =
 * 0-5, the order of enum seg_reg. Address size 0/1/2 = 16/32/64 bits. */
_Static_assert(SEG_ES == 0 && SEG_CS == 1 && SEG_SS == 2 && SEG_DS == 3 && SEG_FS == 4 && SEG_GS == 5,
	       "segment numbering of Table 27-13");
_Static_assert(SZ16 == 1 && SZ32 == 2 && SZ64 == 3, "address-size numbering");

#define INFO_SCALE_SHIFT 0
#define INFO_ASZ_SHIFT 7
#define INFO_SEG_SHIFT 15
#define INFO_INDEX_SHIFT 18
#define INFO_INDEX_INVALID (1u << 22)
#define INFO_BASE_SHIFT 23
#define INFO_BASE_INVALID (1u << 27)
#define INFO_REG2_SHIFT 28

/* Scaling, address size, segment, index and base of a memory operand
 * (bits 27:0 of Tables 27-13 and 27-14; the same positions in Tables 27-10
 * and 27-11). RIP-relative addressing has no base register. */
uint32_t vmx_insn_mem_info(const struct insn *i)
{
	uint32_t v = (uint32_t)(i->asz - SZ16) << INFO_ASZ_SHIFT | (uint32_t)i->seg << INFO_SEG_SHIFT;
	if (i->index < REG_NONE)
		v |= (uint32_t)i->scale << INFO_SCALE_SHIFT | (uint32_t)i->index << INFO_INDEX_SHIFT;
	else
		v |= INFO_INDEX_INVALID;
	if (i->base < REG_NONE)
		v |= (uint32_t)i->base << INFO_BASE_SHIFT;
	else
		v |= INFO_BASE_INVALID;
	return v;
}

uint32_t vmx_insn_info(const struct insn *i, bool rw, bool reg2)
{
	uint32_t v;
	if (rw && (i->flags & IF_MOD3))
		v = INFO_REG_OPERAND | (uint32_t)i->rm << INFO_REG1_SHIFT;
	else
		v = vmx_insn_mem_info(i);
	if (rw || reg2)
		v |= (uint32_t)(i->reg & 15) << INFO_REG2_SHIFT;
	return v;
}

uint64_t vmx_insn_qual(const struct insn *i, uint64_t next_rip)
{
	if (i->flags & IF_MOD3)
		return 0;
	uint64_t disp = (uint64_t)(int64_t)i->disp;
	return i->base == REG_RIP ? disp + next_rip : disp;
}

enum exec_status vmx_insn_exit(struct cpu *c, const struct insn *i, unsigned reason, enum vmx_info_kind kind)
{
	struct vmx_exit_info x = {
		.reason = reason,
		.qual = kind == INFO_NONE ? 0 : vmx_insn_qual(i, c->next_rip),
		.insn_len = i->len,
		.has_insn = true,
	};
	if (kind != INFO_NONE) {
		x.insn_info = vmx_insn_info(i, kind == INFO_RW, kind == INFO_MEM_REG2);
		x.has_insn_info = true;
	}
	vmx_vmexit(c, &x);
	return EXEC_OK;
}
