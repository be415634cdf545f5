/* The x87 FPU: reset state, the control instructions (FNINIT, FNCLEX,
 * FNSTSW, FNSTCW, FLDCW, FNSTENV, FLDENV, FNSAVE, FRSTOR, FNOP, FWAIT) and
 * the x87 environment image (SDM vol. 1 chapter 8; vol. 2 instruction
 * pages). The x87 arithmetic and data-transfer instructions are decoded
 * (lengths are right) but not implemented: they raise #UD with a warning.
 */
#include "cpu/fpu.h"

#include <string.h>

#include "cpu/handlers.h"
#include "cpu/seg.h"
#include "cpu/sse.h"

/* Power-up and RESET (SDM vol. 3A 10.1, Table 10-1): FCW 0040H, FSW 0,
 * FTW 5555H (every register valid, +0.0), pointers 0, MXCSR 1F80H, XMM and
 * YMM registers 0. */
void cpu_fpu_reset(struct cpu *c)
{
	memset(&c->fpu, 0, sizeof(c->fpu));
	c->fpu.fcw = 0x0040;
	c->fpu.ftw = 0xff;
	c->fpu.mxcsr = MXCSR_RESET;
}

/* FNINIT / FINIT state (vol. 2 FINIT): FCW 037FH, FSW 0, every tag empty,
 * instruction and data pointers and opcode 0; the registers keep their
 * contents. */
void fpu_init_state(struct cpu *c)
{
	c->fpu.fcw = FCW_INIT;
	c->fpu.fsw = 0;
	c->fpu.ftw = 0;
	c->fpu.fop = 0;
	c->fpu.fip = c->fpu.fdp = 0;
	c->fpu.fcs = c->fpu.fds = 0;
}

/* 2-bit tag of physical register r from its contents (vol. 1 8.1.7,
 * Figure 8-7): 00 valid, 01 zero, 10 special (NaN, infinity, denormal,
 * unsupported), 11 empty. */
static unsigned full_tag(const struct cpu *c, unsigned r)
{
	const uint8_t *v = c->fpu.st[r];
	uint64_t mant;
	unsigned exp = (v[8] | v[9] << 8) & 0x7fff;
	if (!(c->fpu.ftw & (1u << r)))
		return 3;
	memcpy(&mant, v, 8);
	if (exp == 0)
		return mant == 0 ? 1 : 2;
	if (exp == 0x7fff || !(mant >> 63))
		return 2;
	return 0;
}

uint16_t fpu_full_tag_word(const struct cpu *c)
{
	uint16_t w = 0;
	for (unsigned r = 0; r < 8; r++)
		w |= (uint16_t)(full_tag(c, r) << (2 * r));
	return w;
}

/* A tag of 11 means empty; anything else valid (the processor recomputes
 * the class from the contents; vol. 2 FLDENV). */
uint8_t fpu_abridge_tag_word(uint16_t full)
{
	uint8_t t = 0;
	for (unsigned r = 0; r < 8; r++)
		if (((full >> (2 * r)) & 3) != 3)
			t |= (uint8_t)(1u << r);
	return t;
}

/* FSW with ES (bit 7) and B (bit 15) reflecting unmasked pending
 * exceptions (vol. 1 8.1.3.1). */
uint16_t fpu_status_word(const struct cpu *c)
{
	uint16_t fsw = c->fpu.fsw & ~0x8080u;
	if (fsw & ~c->fpu.fcw & 0x3f)
		fsw |= 0x8080;
	return fsw;
}

/* #NM for x87 instructions when CR0.EM or CR0.TS is set (vol. 3A 2.5,
 * Table 2-2); a model without an FPU has no x87 instructions. */
static bool x87_avail(struct cpu *c)
{
	if (!cpu_has(c, FEAT_FPU)) {
		cpu_ud(c);
		return false;
	}
	if (c->cr0 & (CR0_EM | CR0_TS)) {
		cpu_fault(c, VEC_NM, false, 0);
		return false;
	}
	return true;
}

/* A waiting x87 instruction reports a pending unmasked exception first:
 * #MF with CR0.NE, otherwise the external FERR# path, which this machine
 * does not wire (vol. 1 8.7; the instruction then proceeds). */
static bool x87_pending(struct cpu *c)
{
	if (!(fpu_status_word(c) & 0x80))
		return false;
	if (c->cr0 & CR0_NE) {
		cpu_fault(c, VEC_MF, false, 0);
		return true;
	}
	cpu_warn(c, "x87 exception pending with CR0.NE=0: FERR#/IGNNE# is not wired");
	return false;
}

enum exec_status op_fninit(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (!x87_avail(c))
		return EXEC_FAULT;
	fpu_init_state(c);
	return EXEC_OK;
}

/* FNCLEX: clear PE, UE, OE, ZE, DE, IE, SF, ES and B (vol. 2 FCLEX). */
enum exec_status op_fnclex(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (!x87_avail(c))
		return EXEC_FAULT;
	c->fpu.fsw &= 0x7f00;
	return EXEC_OK;
}

/* FNOP is not a control instruction, so it sets the instruction pointer
 * (vol. 1 8.1.8: FIP points at its first prefix; FCS is CS). FOP is only
 * stored for an unmasked exception in the default fopcode compatibility
 * sub-mode (8.1.9.1); FDP is undefined without a memory operand. */
enum exec_status op_fnop(struct cpu *c, const struct insn *i)
{
	if (!x87_avail(c))
		return EXEC_FAULT;
	/* DB E0, E1, E4: the 8087/287 FNENI, FNDISI, FNSETPM (opcode map,
	 * Table A-10): no-wait forms, executed as no-ops. */
	if ((i->opcode & 0xff) == 0xdb)
		return EXEC_OK;
	if (x87_pending(c))
		return EXEC_FAULT;
	c->fpu.fip = c->next_rip - i->len;
	c->fpu.fcs = c->seg[SEG_CS].sel;
	return EXEC_OK;
}

/* FNSTSW AX (DF E0). */
enum exec_status op_fnstsw_AX(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (!x87_avail(c))
		return EXEC_FAULT;
	reg_write(c, R_AX, SZ16, fpu_status_word(c));
	return EXEC_OK;
}

/* FNSTSW m16 (DD /7). */
enum exec_status op_fnstsw_Mw(struct cpu *c, const struct insn *i)
{
	if (!x87_avail(c))
		return EXEC_FAULT;
	return mem_write_seg(c, i->seg, insn_ea(c, i), 2, fpu_status_word(c)) ? EXEC_OK : EXEC_FAULT;
}

/* FNSTCW m16 (D9 /7). */
enum exec_status op_fnstcw_Mw(struct cpu *c, const struct insn *i)
{
	if (!x87_avail(c))
		return EXEC_FAULT;
	return mem_write_seg(c, i->seg, insn_ea(c, i), 2, c->fpu.fcw) ? EXEC_OK : EXEC_FAULT;
}

/* FLDCW m16 (D9 /5): bits 6 and 13-15 are reserved and read as stored
 * (FCW bit 6 reads 1 on current processors after FNINIT; we keep what is
 * loaded). Unmasking a pending exception makes it pending for the next
 * waiting instruction (vol. 2 FLDCW). */
enum exec_status op_fldcw_Mw(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	if (!x87_avail(c) || x87_pending(c))
		return EXEC_FAULT;
	if (!mem_read_seg(c, i->seg, insn_ea(c, i), 2, &v))
		return EXEC_FAULT;
	c->fpu.fcw = (uint16_t)v;
	return EXEC_OK;
}

/* FWAIT (9B): #NM when CR0.MP and CR0.TS are both set (Table 2-2), then a
 * pending unmasked x87 exception. */
enum exec_status op_fwait(struct cpu *c, const struct insn *i)
{
	(void)i;
	if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
		return cpu_fault(c, VEC_NM, false, 0);
	return x87_pending(c) ? EXEC_FAULT : EXEC_OK;
}

/* ---- the x87 environment image (vol. 1 8.1.10, Figures 8-9 to 8-12) ---- */

static bool real_or_v86(const struct cpu *c)
{
	return !(c->cr0 & CR0_PE) || (c->rflags & FL_VM);
}

/* 14 bytes (16-bit operand size) or 28 bytes (32/64-bit). */
static unsigned env_size(const struct insn *i)
{
	return i->osz == SZ16 ? 14 : 28;
}

static void put_field(uint8_t *img, bool wide, unsigned idx, uint32_t v)
{
	if (wide)
		memcpy(img + 4 * idx, &v, 4);
	else
		memcpy(img + 2 * idx, &v, 2);
}

static uint32_t get_field(const uint8_t *img, bool wide, unsigned idx)
{
	uint32_t v = 0;
	memcpy(&v, img + (wide ? 4 : 2) * idx, wide ? 4 : 2);
	return v;
}

void fpu_store_env(const struct cpu *c, const struct insn *i, uint8_t *img)
{
	const struct fpu_state *f = &c->fpu;
	bool wide = i->osz != SZ16;
	memset(img, 0, 28);
	put_field(img, wide, 0, f->fcw | (wide ? 0xffff0000u : 0));
	put_field(img, wide, 1, fpu_status_word(c) | (wide ? 0xffff0000u : 0));
	put_field(img, wide, 2, fpu_full_tag_word(c) | (wide ? 0xffff0000u : 0));
	if (real_or_v86(c)) {
		/* Real-address format: 20/32-bit linear pointers split in 16-bit halves. */
		uint32_t ip = (uint32_t)f->fip, dp = (uint32_t)f->fdp;
		put_field(img, wide, 3, ip & 0xffff);
		put_field(img, wide, 4, ((ip >> 16) << 12) | (f->fop & 0x7ff));
		put_field(img, wide, 5, dp & 0xffff);
		put_field(img, wide, 6, (dp >> 16) << 12);
	} else {
		put_field(img, wide, 3, (uint32_t)f->fip);
		put_field(img, wide, 4, f->fcs | (wide ? (uint32_t)(f->fop & 0x7ff) << 16 : 0));
		put_field(img, wide, 5, (uint32_t)f->fdp);
		put_field(img, wide, 6, f->fds);
	}
}

void fpu_load_env(struct cpu *c, const struct insn *i, const uint8_t *img)
{
	struct fpu_state *f = &c->fpu;
	bool wide = i->osz != SZ16;
	f->fcw = (uint16_t)get_field(img, wide, 0);
	f->fsw = (uint16_t)get_field(img, wide, 1);
	f->ftw = fpu_abridge_tag_word((uint16_t)get_field(img, wide, 2));
	if (real_or_v86(c)) {
		uint32_t w4 = get_field(img, wide, 4);
		f->fip = (get_field(img, wide, 3) & 0xffff) | ((w4 >> 12) << 16);
		f->fop = wide ? w4 & 0x7ff : 0;
		f->fdp = (get_field(img, wide, 5) & 0xffff) | ((get_field(img, wide, 6) >> 12) << 16);
		f->fcs = f->fds = 0;
	} else {
		uint32_t w4 = get_field(img, wide, 4);
		f->fip = get_field(img, wide, 3);
		f->fcs = (uint16_t)w4;
		f->fop = wide ? (w4 >> 16) & 0x7ff : 0;
		f->fdp = get_field(img, wide, 5);
		f->fds = (uint16_t)get_field(img, wide, 6);
	}
}

/* FNSTENV: store the environment, then mask every x87 exception. */
enum exec_status op_fnstenv_M(struct cpu *c, const struct insn *i)
{
	uint8_t img[28];
	if (!x87_avail(c))
		return EXEC_FAULT;
	fpu_store_env(c, i, img);
	if (!sse_mem_write(c, i->seg, insn_ea(c, i), img, env_size(i)))
		return EXEC_FAULT;
	c->fpu.fcw |= 0x3f;
	return EXEC_OK;
}

enum exec_status op_fldenv_M(struct cpu *c, const struct insn *i)
{
	uint8_t img[28];
	/* FLDENV has no no-wait form: a pending unmasked exception is
	 * reported first (vol. 1 8.6, only the FN* control instructions skip
	 * the check). */
	if (!x87_avail(c) || x87_pending(c) || !sse_mem_read(c, i->seg, insn_ea(c, i), img, env_size(i)))
		return EXEC_FAULT;
	fpu_load_env(c, i, img);
	return EXEC_OK;
}

/* FNSAVE: the environment, then ST(0)..ST(7) (10 bytes each, stack
 * order), then FNINIT (vol. 2 FSAVE). */
enum exec_status op_fnsave_M(struct cpu *c, const struct insn *i)
{
	uint8_t img[28 + 80];
	unsigned n = env_size(i), top = (c->fpu.fsw >> FSW_TOP_SHIFT) & 7;
	if (!x87_avail(c))
		return EXEC_FAULT;
	fpu_store_env(c, i, img);
	for (unsigned k = 0; k < 8; k++)
		memcpy(img + n + 10 * k, c->fpu.st[(top + k) & 7], 10);
	if (!sse_mem_write(c, i->seg, insn_ea(c, i), img, n + 80))
		return EXEC_FAULT;
	fpu_init_state(c);
	return EXEC_OK;
}

enum exec_status op_frstor_M(struct cpu *c, const struct insn *i)
{
	uint8_t img[28 + 80];
	unsigned n = env_size(i);
	if (!x87_avail(c) || x87_pending(c) || !sse_mem_read(c, i->seg, insn_ea(c, i), img, n + 80))
		return EXEC_FAULT;
	fpu_load_env(c, i, img);
	unsigned top = (c->fpu.fsw >> FSW_TOP_SHIFT) & 7;
	for (unsigned k = 0; k < 8; k++)
		memcpy(c->fpu.st[(top + k) & 7], img + n + 10 * k, 10);
	return EXEC_OK;
}

/* Every other x87 escape (D8-DF): decoded with its full length, but the
 * arithmetic and data movement are not implemented. */
enum exec_status op_x87_esc(struct cpu *c, const struct insn *i)
{
	if (!x87_avail(c))
		return EXEC_FAULT;
	cpu_warn(c, "#UD at RIP=%#llx: x87 instruction %02x %02x is not implemented yet",
		 (unsigned long long)(c->next_rip - i->len), i->opcode & 0xff, i->modrm);
	return cpu_ud(c);
}
