/* RDFSBASE, RDGSBASE, WRFSBASE, WRGSBASE (SDM vol. 2 RDFSBASE/RDGSBASE,
 * WRFSBASE/WRGSBASE): 64-bit mode only (the decoder refuses them elsewhere,
 * D_O64), register operand only, #UD unless CR4.FSGSBASE. The operand is 32
 * bits (zero-extended) or 64 bits with REX.W. CR4.FSGSBASE can only be set
 * when the model reports FSGSBASE (cpu/system.c), so it alone gates them.
 */
#include "cpu/handlers.h"
#include "cpu/model.h"
#include "cpu/operand.h"

static unsigned base_osz(const struct insn *i)
{
	return i->osz == SZ64 ? SZ64 : SZ32;
}

static enum exec_status rd_base(struct cpu *c, const struct insn *i, unsigned seg)
{
	if (!(c->cr4 & CR4_FSGSBASE))
		return cpu_ud(c);
	reg_write(c, i->rm, base_osz(i), c->seg[seg].base);
	return EXEC_OK;
}

/* A base that is not canonical for the model's linear-address width is
 * #GP(0). */
static enum exec_status wr_base(struct cpu *c, const struct insn *i, unsigned seg)
{
	if (!(c->cr4 & CR4_FSGSBASE))
		return cpu_ud(c);
	uint64_t v = reg_read(c, i->rm, base_osz(i));
	unsigned sh = 64 - c->model->lin_addr_bits;
	if ((uint64_t)((int64_t)(v << sh) >> sh) != v)
		return cpu_gp0(c);
	c->seg[seg].base = v;
	return EXEC_OK;
}

enum exec_status op_rdfsbase_Ry(struct cpu *c, const struct insn *i) { return rd_base(c, i, SEG_FS); }
enum exec_status op_rdgsbase_Ry(struct cpu *c, const struct insn *i) { return rd_base(c, i, SEG_GS); }
enum exec_status op_wrfsbase_Ry(struct cpu *c, const struct insn *i) { return wr_base(c, i, SEG_FS); }
enum exec_status op_wrgsbase_Ry(struct cpu *c, const struct insn *i) { return wr_base(c, i, SEG_GS); }
