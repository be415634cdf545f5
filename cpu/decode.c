/* The x86 instruction decoder: prefixes, REX, opcode maps, ModRM/SIB,
 * displacements and immediates (SDM vol. 2, chapter 2 and Appendix A).
 * Everything opcode-specific comes from cpu/opcodes.def. */
#include "cpu/decode.h"

#include <stddef.h>
#include <string.h>

/* Operand-form flags of opcodes.def. */
#define D_M (1u << 0)           /* has ModRM */
#define D_B (1u << 1)           /* byte operand */
#define D_IB (1u << 2)          /* imm8, sign-extended */
#define D_IW (1u << 3)          /* imm16 */
#define D_IZ (1u << 4)          /* imm16/imm32 by operand size, sign-extended */
#define D_IV (1u << 5)          /* imm16/32/64 by operand size */
#define D_IWB (1u << 6)         /* imm16 then imm8 (ENTER) */
#define D_AP (1u << 7)          /* far pointer: offset16/32 then selector16 */
#define D_MOFFS (1u << 8)       /* address-size offset (MOV A0-A3) */
#define D_D64 (1u << 9)         /* 64-bit default operand size in 64-bit mode */
#define D_F64 (1u << 10)        /* 64-bit operand size forced in 64-bit mode */
#define D_I64 (1u << 11)        /* invalid in 64-bit mode */
#define D_O64 (1u << 12)        /* valid only in 64-bit mode */
#define D_R (1u << 13)          /* register in opcode bits 2:0 */
#define D_END (1u << 14)        /* ends a decoded block */
#define D_MEM (1u << 15)        /* ModRM must name memory */
#define D_REG (1u << 16)        /* ModRM must name a register */
#define D_PNP (1u << 17)        /* no F2/F3 prefix; 66 is the operand-size prefix (RDRAND, MOVBE) */
#define D_PF3 (1u << 18)        /* mandatory F3 */
#define D_PF2 (1u << 19)        /* mandatory F2 */
#define D_CR (1u << 20)         /* MOV CR/DR: mod ignored, 32/64-bit by mode */
#define D_LK (1u << 21)         /* LOCK prefix allowed with a memory operand */
#define D_EB (1u << 22)         /* r/m is a byte register though the operand size is not (MOVZX Gv,Eb) */
#define D_P66 (1u << 23)        /* mandatory 66 and no F2/F3 (SSE "66 0F ..." rows; put before the NP row) */
#define D_VEX (1u << 24)        /* VEX-encoded row: matches only after a VEX prefix (and others never do);
				 * the map comes from VEX.mmmmm and VEX.pp must match exactly one of
				 * D_PNP (pp = 00), D_P66, D_PF3, D_PF2 */
#define D_VLZ (1u << 25)        /* VEX.L must be 0 ("VEX.LZ", "VEX.128" GPR forms), else #UD */
#define D_VNV (1u << 26)        /* VEX.vvvv encodes no operand: the field must be 1111b (register 0
				 * un-inverted), else #UD (SDM vol. 2 3.1.1.2) */
#define D_NP (1u << 27)         /* "NP" in the SDM's opcode column: no 66, F2 or F3 prefix (SDM vol. 2
				 * 3.1.1.1: "NP - Indicates the use of 66/F2/F3 prefixes ... is not
				 * allowed"); D_PNP still takes 66 as the operand-size prefix */
#define D_Y (1u << 28)          /* "y" operands (SDM vol. 2 A.2.2): 32 bits, 64 with REX.W in 64-bit
				 * mode; 66 and CS.D do not make it 16-bit (ADCX/ADOX) */

#define X (-1)
#define M3(b) (0x100 | (b))

#include "cpu/handlers.h"

struct op_row {
	uint8_t map, lo, hi;
	int16_t ext;
	uint32_t form;
	insn_fn fn;
	uint8_t cost;
	const char *name;
};

static const struct op_row op_table[] = {
#define OP(map, lo, hi, ext, form, handler, cost) { map, lo, hi, ext, form, handler, cost, #handler },
#include "cpu/opcodes.def"
#undef OP
};

#define OP_ROWS (sizeof(op_table) / sizeof(op_table[0]))

/* Exposed for the table-order unit test. */
size_t cpu_op_rows(void);
int cpu_op_row_key(size_t n);
size_t cpu_op_rows(void)
{
	return OP_ROWS;
}
int cpu_op_row_key(size_t n)
{
	return op_table[n].map << 8 | op_table[n].lo;
}

struct dstate {
	const uint8_t *b;
	unsigned avail, pos;
	bool short_read;
};

static uint64_t take(struct dstate *d, unsigned n)
{
	uint64_t v = 0;
	if (d->pos + n > d->avail) {
		d->short_read = true;
		d->pos += n;
		return 0;
	}
	for (unsigned k = 0; k < n; k++)
		v |= (uint64_t)d->b[d->pos + k] << (8 * k);
	d->pos += n;
	return v;
}

/* First row whose opcode range holds (map, byte), by binary search on lo. */
static const struct op_row *rows_for(unsigned map, unsigned byte, const struct op_row **end)
{
	size_t lo = 0, hi = OP_ROWS;
	unsigned key = map << 8 | byte;
	while (lo < hi) {   /* first row with key(lo) > key */
		size_t mid = (lo + hi) / 2;
		if ((unsigned)(op_table[mid].map << 8 | op_table[mid].lo) <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Walk back over rows of this map whose range may hold byte (a range
	 * spans at most 16 opcodes; the table test checks it). */
	size_t last = lo;
	while (lo > 0 && op_table[lo - 1].map == map && op_table[lo - 1].lo + 16u > byte)
		lo--;
	*end = op_table + last;
	return op_table + lo;
}

struct prefixes {
	uint8_t seg, rex, rep;  /* rep: 0, 0xf2 or 0xf3 */
	bool opsize, addrsize, lock;
	bool vex;               /* a VEX prefix: rex, rep and opsize were derived from it */
	uint8_t vex_bits;       /* VEX_L | VEX_W */
	uint8_t vvvv;           /* VEX.vvvv, un-inverted (0-15) */
};

static void read_prefixes(struct dstate *d, bool code64, struct prefixes *p)
{
	memset(p, 0, sizeof(*p));
	p->seg = SEG_NONE;
	for (;;) {
		if (d->pos >= d->avail) {
			d->short_read = true;
			return;
		}
		uint8_t b = d->b[d->pos];
		switch (b) {
		case 0x26: p->seg = SEG_ES; break;
		case 0x2e: p->seg = SEG_CS; break;
		case 0x36: p->seg = SEG_SS; break;
		case 0x3e: p->seg = SEG_DS; break;
		case 0x64: p->seg = SEG_FS; break;
		case 0x65: p->seg = SEG_GS; break;
		case 0x66: p->opsize = true; break;
		case 0x67: p->addrsize = true; break;
		case 0xf0: p->lock = true; break;
		case 0xf2: case 0xf3: p->rep = b; break;
		default:
			if (code64 && (b & 0xf0) == 0x40) {
				/* REX counts only right before the opcode (SDM 2.2.1). */
				p->rex = b;
				d->pos++;
				if (d->pos < d->avail && (d->b[d->pos] & 0xf0) != 0x40 &&
				    !memchr("\x26\x2e\x36\x3e\x64\x65\x66\x67\xf0\xf2\xf3", d->b[d->pos], 11))
					return;
				continue;
			}
			return;
		}
		p->rex = 0;     /* a legacy prefix after REX cancels it */
		d->pos++;
	}
}

/* C4/C5 start a VEX prefix in 64-bit mode; elsewhere only when the next
 * byte has bits 7:6 = 11b (VEX.R and VEX.X, or VEX.R and vvvv[3], set),
 * else they are LES/LDS with a memory operand (SDM vol. 2 2.3.5.2). */
static bool vex_starts(const struct dstate *d, bool code64)
{
	if (d->pos >= d->avail || (d->b[d->pos] & 0xfe) != 0xc4)
		return false;
	return code64 || (d->pos + 1 < d->avail && (d->b[d->pos + 1] & 0xc0) == 0xc0);
}

/* The VEX prefix (SDM vol. 2 2.3.5, Figure 2-9): C5 = ~R ~vvvv L pp with
 * map 0F; C4 = ~R ~X ~B mmmmm, then W ~vvvv L pp. It stands for REX and
 * the 66/F3/F2 mandatory prefix (pp = 01/10/11), so a LOCK, 66, F2, F3 or
 * REX before it is #UD (2.3.2-2.3.4), as is a reserved mmmmm (not 1-3).
 * Outside 64-bit mode VEX.B is ignored and R/X are 1 (2.3.5.2-2.3.5.4).
 * Returns false for #UD; *map and the prefixes describe the instruction. */
static bool read_vex(struct dstate *d, bool code64, struct prefixes *p, unsigned *map)
{
	bool ok = !p->opsize && !p->rep && !p->lock && !p->rex;
	unsigned b0 = (unsigned)take(d, 1), b1 = (unsigned)take(d, 1), b2 = b1, rxb, w = 0;
	*map = 1;
	rxb = (~b1 >> 5) & 4;
	if (b0 == 0xc4) {
		b2 = (unsigned)take(d, 1);
		rxb = (~b1 >> 5) & 7;
		*map = b1 & 0x1f;
		w = b2 >> 7;
		ok = ok && *map >= 1 && *map <= 3;
	}
	p->vex = true;
	p->rex = code64 ? (uint8_t)(0x40 | w << 3 | rxb) : 0;
	p->vex_bits = (uint8_t)(((b2 & 4) ? VEX_L : 0) | (w ? VEX_W : 0));
	p->vvvv = (uint8_t)((~b2 >> 3) & 15);
	p->opsize = (b2 & 3) == 1;
	p->rep = (b2 & 3) == 2 ? 0xf3 : (b2 & 3) == 3 ? 0xf2 : 0;
	return ok;
}

static bool row_matches(const struct op_row *r, unsigned byte, int modrm, const struct prefixes *p,
			bool code64)
{
	if (byte < r->lo || byte > r->hi || ((r->form & D_VEX) != 0) != p->vex)
		return false;
	if (r->ext >= 0x100) {
		if (modrm != (r->ext & 0xff))
			return false;
	} else if (r->ext >= 0 && (modrm < 0 || ((modrm >> 3) & 7) != r->ext)) {
		return false;
	}
	if ((r->form & D_MEM) && modrm >= 0xc0)
		return false;
	if ((r->form & D_REG) && modrm < 0xc0)
		return false;
	if ((r->form & D_PF3) && p->rep != 0xf3)
		return false;
	if ((r->form & D_PF2) && p->rep != 0xf2)
		return false;
	if ((r->form & D_PNP) && (p->rep || (p->vex && p->opsize)))
		return false;
	if ((r->form & D_NP) && (p->rep || p->opsize))
		return false;
	if ((r->form & D_P66) && (!p->opsize || p->rep))
		return false;
	if ((r->form & D_I64) && code64)
		return false;
	if ((r->form & D_O64) && !code64)
		return false;
	return true;
}

static unsigned byte_reg(unsigned r, bool rex)
{
	return (!rex && r >= 4 && r < 8) ? REG_AH + (r - 4) : r;
}

static void decode_modrm16(struct dstate *d, struct insn *i, unsigned mod, unsigned rm)
{
	static const uint8_t base16[8] = { R_BX, R_BX, R_BP, R_BP, R_SI, R_DI, R_BP, R_BX };
	static const uint8_t index16[8] = { R_SI, R_DI, R_SI, R_DI, REG_NONE, REG_NONE, REG_NONE, REG_NONE };
	i->base = base16[rm];
	i->index = index16[rm];
	if (mod == 0 && rm == 6) {
		i->base = REG_NONE;
		i->disp = (int16_t)take(d, 2);
	} else if (mod == 1) {
		i->disp = (int8_t)take(d, 1);
	} else if (mod == 2) {
		i->disp = (int16_t)take(d, 2);
	}
	if (i->base == R_BP)
		i->seg = SEG_SS;
}

static void decode_modrm32(struct dstate *d, struct insn *i, unsigned mod, unsigned rm, unsigned rex,
			   bool code64)
{
	if (rm == 4) {
		unsigned sib = (unsigned)take(d, 1);
		unsigned idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
		i->scale = sib >> 6;
		i->index = idx == R_SP ? REG_NONE : idx;
		i->base = (sib & 7) | ((rex & 1) << 3);
		if ((sib & 7) == 5 && mod == 0) {
			i->base = REG_NONE;
			i->disp = (int32_t)take(d, 4);
		}
	} else if (rm == 5 && mod == 0) {
		i->base = code64 ? REG_RIP : REG_NONE;
		i->disp = (int32_t)take(d, 4);
	} else {
		i->base = rm | ((rex & 1) << 3);
	}
	if (mod == 1)
		i->disp = (int8_t)take(d, 1);
	else if (mod == 2)
		i->disp = (int32_t)take(d, 4);
	if (i->base == R_SP || i->base == R_BP)
		i->seg = SEG_SS;
}

static void decode_operands(struct dstate *d, struct insn *i, const struct op_row *r, int modrm,
			    const struct prefixes *p, bool code64)
{
	bool rex = p->rex != 0;
	i->base = i->index = REG_NONE;
	i->seg = SEG_DS;
	if (r->form & D_R) {
		unsigned reg = (i->opcode & 7) | ((p->rex & 1) << 3);
		i->reg = (r->form & D_B) ? byte_reg(reg, rex) : reg;
	}
	if (modrm >= 0) {
		unsigned mod = modrm >> 6, rm = modrm & 7;
		unsigned reg = ((modrm >> 3) & 7) | ((p->rex & 4) << 1);
		i->modrm = (uint8_t)modrm;
		i->opx = (modrm >> 3) & 7;
		i->flags |= IF_HAS_MODRM;
		i->reg = (r->form & D_B) ? byte_reg(reg, rex) : reg;
		if (mod == 3 || (r->form & D_CR)) {
			unsigned rr = rm | ((p->rex & 1) << 3);
			i->flags |= IF_MOD3;
			i->rm = (r->form & (D_B | D_EB)) ? byte_reg(rr, rex) : rr;
		} else if (i->asz == SZ16) {
			decode_modrm16(d, i, mod, rm);
		} else {
			decode_modrm32(d, i, mod, rm, p->rex, code64);
		}
	}
	/* In 64-bit mode the ES, CS, SS and DS prefixes are ignored (SDM vol. 1
	 * 3.3.7.1): only FS and GS override. */
	if (p->seg != SEG_NONE && (!code64 || p->seg >= SEG_FS))
		i->seg = p->seg;
}

static unsigned imm_size(uint32_t form, unsigned osz, unsigned asz)
{
	if (form & D_IB)
		return 1;
	if (form & D_IW)
		return 2;
	if (form & D_IZ)
		return osz == SZ16 ? 2 : 4;
	if (form & D_IV)
		return 1u << osz;
	if (form & D_MOFFS)
		return 1u << asz;
	return 0;
}

static void decode_immediates(struct dstate *d, struct insn *i, uint32_t form)
{
	unsigned n = imm_size(form, i->osz, i->asz);
	if (n) {
		uint64_t v = take(d, n);
		if (form & (D_IB | D_IZ)) {   /* sign-extend */
			unsigned sh = 64 - 8 * n;
			v = (uint64_t)((int64_t)(v << sh) >> sh);
		}
		i->imm = v;
	}
	if (form & D_IWB) {
		i->imm = take(d, 2);
		i->imm2 = (uint16_t)take(d, 1);
	}
	if (form & D_AP) {
		i->imm = take(d, i->osz == SZ16 ? 2 : 4);
		i->imm2 = (uint16_t)take(d, 2);
	}
}

/* A mandatory 66 (D_P66) selects the opcode, not the operand size. VEX
 * general-purpose forms are 64-bit with VEX.W in 64-bit mode, else 32-bit
 * (VEX.W1 is ignored outside 64-bit mode; SDM vol. 2, e.g. ANDN); "y"
 * forms (D_Y) likewise with REX.W. */
static void set_sizes(struct insn *i, uint32_t form, const struct prefixes *p, struct decode_mode mode)
{
	bool opsize = p->opsize && !(form & D_P66);
	if (p->vex || (form & D_Y)) {
		i->asz = mode.code64 ? (p->addrsize ? SZ32 : SZ64) : (mode.def32 ^ p->addrsize) ? SZ32 : SZ16;
		i->osz = mode.code64 && (p->vex ? (p->vex_bits & VEX_W) : (p->rex & 8)) ? SZ64 : SZ32;
		return;
	}
	if (mode.code64) {
		i->asz = p->addrsize ? SZ32 : SZ64;
		if (form & D_B)
			i->osz = SZ8;
		else if ((p->rex & 8) || (form & (D_F64 | D_CR)))
			i->osz = SZ64;
		else if (form & D_D64)
			i->osz = opsize ? SZ16 : SZ64;
		else
			i->osz = opsize ? SZ16 : SZ32;
		return;
	}
	i->asz = (mode.def32 ^ p->addrsize) ? SZ32 : SZ16;
	if (form & D_B)
		i->osz = SZ8;
	else if (form & D_CR)
		i->osz = SZ32;
	else
		i->osz = (mode.def32 ^ opsize) ? SZ32 : SZ16;
}

static void set_flags(struct insn *i, uint32_t form, const struct prefixes *p)
{
	if (form & D_END)
		i->flags |= IF_ENDS_BLOCK;
	if (p->vex) {
		i->vex = (uint8_t)(VEX_PRESENT | p->vex_bits);
		return;
	}
	if (p->rex)
		i->flags |= IF_REX;
	if (p->lock)
		i->flags |= IF_LOCK;
	if (p->rep == 0xf3 && !(form & D_PF3))
		i->flags |= IF_REP;
	if (p->rep == 0xf2 && !(form & D_PF2))
		i->flags |= IF_REPNE;
	if (p->opsize)
		i->flags |= IF_OPSIZE;
}

/* MOV to/from CR0, CR2-CR4, CR8 and DR0-DR7 only; others are #UD
 * (SDM vol. 2 "MOV-Move to/from Control Registers", "... Debug Registers"). */
static bool control_reg_exists(unsigned byte, unsigned reg)
{
	if (byte == 0x21 || byte == 0x23)
		return reg < 8;
	return reg == 0 || reg == 2 || reg == 3 || reg == 4 || reg == 8;
}

static unsigned read_opcode(struct dstate *d, unsigned *map)
{
	unsigned b = (unsigned)take(d, 1);
	*map = 0;
	if (b != 0x0f)
		return b;
	b = (unsigned)take(d, 1);
	*map = 1;
	if (b == 0x38 || b == 0x3a) {
		*map = b == 0x38 ? 2 : 3;
		b = (unsigned)take(d, 1);
	}
	return b;
}

static const struct op_row *find_row(struct dstate *d, unsigned map, unsigned byte, const struct prefixes *p,
				     bool code64, int *modrm)
{
	const struct op_row *end, *r = rows_for(map, byte, &end);
	bool wants_modrm = false;
	for (const struct op_row *q = r; q < end; q++)
		if (byte >= q->lo && byte <= q->hi && (q->form & D_M) && ((q->form & D_VEX) != 0) == p->vex)
			wants_modrm = true;
	*modrm = -1;
	if (wants_modrm) {
		if (d->pos >= d->avail) {
			d->short_read = true;
			return NULL;
		}
		*modrm = d->b[d->pos++];
	}
	for (; r < end; r++)
		if (row_matches(r, byte, *modrm, p, code64))
			return r;
	return NULL;
}

/* VEX.L = 1 where the instruction is VEX.LZ / VEX.128 only, and a vvvv
 * other than 1111b where it encodes no register, are #UD (SDM vol. 2
 * 3.1.1.2). */
static bool vex_fields_ok(uint32_t form, const struct prefixes *p)
{
	if ((form & D_VLZ) && (p->vex_bits & VEX_L))
		return false;
	return !(form & D_VNV) || p->vvvv == 0;    /* encoded (inverted) 1111b */
}

static void specialize(struct insn *i);

enum decode_result cpu_decode(const uint8_t *bytes, unsigned avail, struct decode_mode mode, struct insn *out)
{
	struct dstate d = { bytes, avail > 15 ? 15 : avail, 0, false };
	struct prefixes p;
	unsigned map, byte;
	int modrm;

	bool vex_ok = true;

	memset(out, 0, sizeof(*out));
	read_prefixes(&d, mode.code64, &p);
	if (vex_starts(&d, mode.code64)) {
		vex_ok = read_vex(&d, mode.code64, &p, &map);
		byte = (unsigned)take(&d, 1);
	} else {
		byte = read_opcode(&d, &map);
	}
	if (d.short_read)
		return d.pos > 15 ? DECODE_TOO_LONG : DECODE_FETCH_FAULT;
	if (!vex_ok)
		return DECODE_UD;
	out->opcode = (uint16_t)(map << 8 | byte);
	const struct op_row *r = find_row(&d, map, byte, &p, mode.code64, &modrm);
	if (!r)
		return d.short_read ? (d.pos > 15 ? DECODE_TOO_LONG : DECODE_FETCH_FAULT) : DECODE_UD;
	if (p.lock && (!(r->form & D_LK) || modrm >= 0xc0))
		return DECODE_UD;       /* LOCK on anything else is #UD (SDM vol. 2 LOCK) */
	if ((r->form & D_CR) && !control_reg_exists(byte, ((modrm >> 3) & 7) | ((p.rex & 4) << 1)))
		return DECODE_UD;
	set_sizes(out, r->form, &p, mode);
	set_flags(out, r->form, &p);
	decode_operands(&d, out, r, modrm, &p, mode.code64);
	decode_immediates(&d, out, r->form);
	if (d.pos > 15)
		return DECODE_TOO_LONG;
	if (d.short_read)
		return avail >= 15 ? DECODE_TOO_LONG : DECODE_FETCH_FAULT;
	if (p.vex && !vex_fields_ok(r->form, &p))
		return DECODE_UD;
	out->vreg = (uint8_t)(mode.code64 ? p.vvvv : p.vvvv & 7);
	out->fn = r->fn;
	out->cost = r->cost;
	out->len = (uint8_t)d.pos;
	specialize(out);
	return DECODE_OK;
}

struct spec_row {
	insn_fn generic;
	uint8_t osz, mod3;
	insn_fn variant;
};

static const struct spec_row spec_table[] = {
#define SPEC(handler, osz, mod3, variant) { handler, osz, mod3, variant },
#include "cpu/specialize.def"
#undef SPEC
};

/* Swap in the fixed-size variant of a hot handler (cpu/specialize.def). */
static void specialize(struct insn *i)
{
	bool mod3 = (i->flags & IF_MOD3) != 0;
	for (size_t n = 0; n < sizeof(spec_table) / sizeof(spec_table[0]); n++) {
		const struct spec_row *s = &spec_table[n];
		if (s->generic == i->fn && s->osz == i->osz && s->mod3 == mod3) {
			i->fn = s->variant;
			return;
		}
	}
}

const char *cpu_insn_name(const struct insn *i)
{
	for (size_t n = 0; n < OP_ROWS; n++)
		if (op_table[n].fn == i->fn)
			return op_table[n].name + 3;    /* drop "op_" */
	for (size_t n = 0; n < sizeof(spec_table) / sizeof(spec_table[0]); n++)
		if (spec_table[n].variant == i->fn)
			return cpu_insn_name(&(struct insn){ .fn = spec_table[n].generic });
	return "?";
}
