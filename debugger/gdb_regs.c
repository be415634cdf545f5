/* The GDB stub's registers (debugger/gdbstub.h): target.xml and the
 * register packing, both from debugger/gdb_regs.def. In every CPU mode
 * the stub reports this one 64-bit layout (in real and protected mode
 * the upper halves are what the CPU holds: zero after a 32-bit write). */
#include <string.h>

#include "debugger/gdbstub.h"

enum reg_source { REG_NAMED, REG_ST, REG_X87, REG_XMM, REG_MXCSR };
enum { X87_FCTRL, X87_FSTAT, X87_FTAG, X87_FISEG, X87_FIOFF, X87_FOSEG, X87_FOOFF, X87_FOP };

struct gdb_reg {
	const char *name;
	int bytes;
	enum reg_source src;
	int index;
};

static const struct gdb_reg gdb_regs[] = {
#define GDB_FEATURE(name, types)
#define GDB_FEATURE_END
#define GDB_REG(name, bits, type, group, src, index) { #name, (bits) / 8, src, index },
#include "debugger/gdb_regs.def"
#undef GDB_REG
#undef GDB_FEATURE_END
#undef GDB_FEATURE
};
#define NREGS ((int)(sizeof(gdb_regs) / sizeof(gdb_regs[0])))

/* ---- target.xml (gdb manual, "Target Descriptions") ---- */

/* EFLAGS bits as gdb's i386_eflags names them (SDM vol. 1 3.4.3). */
#define GDB_TYPES_CORE \
	"<flags id=\"i386_eflags\" size=\"4\">" \
	"<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>" \
	"<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>" \
	"<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>" \
	"<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>" \
	"<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>" \
	"<field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>" \
	"<field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>" \
	"<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/>" \
	"<field name=\"ID\" start=\"21\" end=\"21\"/></flags>\n"

/* The XMM views and MXCSR bits (SDM vol. 1 10.2.3). */
#define GDB_TYPES_SSE \
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>" \
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>" \
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>" \
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>" \
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>" \
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>" \
	"<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" type=\"v2d\"/>" \
	"<field name=\"v16_int8\" type=\"v16i8\"/><field name=\"v8_int16\" type=\"v8i16\"/>" \
	"<field name=\"v4_int32\" type=\"v4i32\"/><field name=\"v2_int64\" type=\"v2i64\"/>" \
	"<field name=\"uint128\" type=\"uint128\"/></union>\n" \
	"<flags id=\"i386_mxcsr\" size=\"4\">" \
	"<field name=\"IE\" start=\"0\" end=\"0\"/><field name=\"DE\" start=\"1\" end=\"1\"/>" \
	"<field name=\"ZE\" start=\"2\" end=\"2\"/><field name=\"OE\" start=\"3\" end=\"3\"/>" \
	"<field name=\"UE\" start=\"4\" end=\"4\"/><field name=\"PE\" start=\"5\" end=\"5\"/>" \
	"<field name=\"DAZ\" start=\"6\" end=\"6\"/><field name=\"IM\" start=\"7\" end=\"7\"/>" \
	"<field name=\"DM\" start=\"8\" end=\"8\"/><field name=\"ZM\" start=\"9\" end=\"9\"/>" \
	"<field name=\"OM\" start=\"10\" end=\"10\"/><field name=\"UM\" start=\"11\" end=\"11\"/>" \
	"<field name=\"PM\" start=\"12\" end=\"12\"/><field name=\"FZ\" start=\"15\" end=\"15\"/></flags>\n"

static const char target_xml[] =
	"<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\">\n<architecture>i386:x86-64</architecture>\n"
#define GDB_FEATURE(name, types) "<feature name=\"" name "\">\n" types
#define GDB_FEATURE_END "</feature>\n"
#define GDB_REG(name, bits, type, group, src, index) \
	"<reg name=\"" #name "\" bitsize=\"" #bits "\" type=\"" type "\"" group "/>\n"
#include "debugger/gdb_regs.def"
#undef GDB_REG
#undef GDB_FEATURE_END
#undef GDB_FEATURE
	"</target>\n";

const char *gdb_target_xml(void)
{
	return target_xml;
}

int gdb_reg_count(void)
{
	return NREGS;
}

int gdb_reg_size(int regno)
{
	return regno >= 0 && regno < NREGS ? gdb_regs[regno].bytes : 0;
}

const char *gdb_reg_name(int regno)
{
	return regno >= 0 && regno < NREGS ? gdb_regs[regno].name : NULL;
}

/* ---- x87 (SDM vol. 1 8.1) ---- */

/* ST(i) is physical register (TOP + i) mod 8; TOP is FSW bits 13:11 (8.1.2, 8.1.3). */
static int st_phys(const struct fpu_state *f, int i)
{
	return (((f->fsw >> 11) & 7) + i) & 7;
}

/* The full tag of physical register r from the abridged one FXSAVE keeps
 * (8.1.7: 00 valid, 01 zero, 10 special, 11 empty). */
static unsigned full_tag(const struct fpu_state *f, int r)
{
	if (!(f->ftw & (1u << r)))
		return 3;
	const uint8_t *x = f->st[r];
	uint64_t mant;
	memcpy(&mant, x, 8);
	unsigned exp = (unsigned)(x[8] | (x[9] & 0x7f) << 8);
	if (exp == 0x7fff)
		return 2;
	if (exp == 0)
		return mant ? 2 : 1;
	return mant >> 63 ? 0 : 2;      /* an unnormal (J clear) is special */
}

static uint32_t x87_get(const struct fpu_state *f, int which)
{
	uint32_t tag = 0;
	switch (which) {
	case X87_FCTRL: return f->fcw;
	case X87_FSTAT: return f->fsw;
	case X87_FTAG:
		for (int r = 0; r < 8; r++)
			tag |= full_tag(f, r) << (2 * r);
		return tag;
	case X87_FISEG: return f->fcs;
	case X87_FIOFF: return (uint32_t)f->fip;
	case X87_FOSEG: return f->fds;
	case X87_FOOFF: return (uint32_t)f->fdp;
	default: return f->fop;
	}
}

static void x87_set(struct fpu_state *f, int which, uint32_t v)
{
	switch (which) {
	case X87_FCTRL: f->fcw = (uint16_t)v; break;
	case X87_FSTAT: f->fsw = (uint16_t)v; break;
	case X87_FTAG:
		f->ftw = 0;
		for (int r = 0; r < 8; r++)
			if (((v >> (2 * r)) & 3) != 3)
				f->ftw |= (uint8_t)(1u << r);
		break;
	case X87_FISEG: f->fcs = (uint16_t)v; break;
	case X87_FIOFF: f->fip = (f->fip & ~0xffffffffull) | v; break;
	case X87_FOSEG: f->fds = (uint16_t)v; break;
	case X87_FOOFF: f->fdp = (f->fdp & ~0xffffffffull) | v; break;
	default: f->fop = (uint16_t)(v & 0x7ff); break;
	}
}

/* ---- packing ---- */

static void put_le(uint8_t *buf, uint64_t v, int n)
{
	for (int k = 0; k < n; k++)
		buf[k] = (uint8_t)(v >> (8 * k));
}

static uint64_t get_le(const uint8_t *buf, int n)
{
	uint64_t v = 0;
	for (int k = n - 1; k >= 0; k--)
		v = v << 8 | buf[k];
	return v;
}

bool gdb_reg_get(struct dbg *d, int cpu, int regno, uint8_t *buf)
{
	const struct cpu *c = dbg_cpu(d, cpu);
	if (!c || regno < 0 || regno >= NREGS)
		return false;
	const struct gdb_reg *r = &gdb_regs[regno];
	const struct fpu_state *f = &c->fpu;
	uint64_t v;
	switch (r->src) {
	case REG_NAMED:
		if (!dbg_reg_read(d, cpu, r->name, &v))
			return false;
		put_le(buf, v, r->bytes);
		return true;
	case REG_ST:
		memcpy(buf, f->st[st_phys(f, r->index)], 10);
		return true;
	case REG_X87:
		put_le(buf, x87_get(f, r->index), 4);
		return true;
	case REG_XMM:
		memcpy(buf, f->xmm[r->index].b, 16);
		return true;
	case REG_MXCSR:
		put_le(buf, f->mxcsr, 4);
		return true;
	}
	return false;
}

bool gdb_reg_set(struct dbg *d, int cpu, int regno, const uint8_t *buf)
{
	const struct cpu *c = dbg_cpu(d, cpu);
	if (!c || regno < 0 || regno >= NREGS)
		return false;
	const struct gdb_reg *r = &gdb_regs[regno];
	if (r->src == REG_NAMED) {
		uint64_t old, v = get_le(buf, r->bytes);
		if (!dbg_reg_read(d, cpu, r->name, &old))
			return false;
		if (r->bytes < 8)
			v |= old & ~((1ull << (8 * r->bytes)) - 1);     /* eflags, selectors: the rest stays */
		return v == old || dbg_reg_write(d, cpu, r->name, v);
	}
	struct fpu_state f;
	memcpy(&f, &c->fpu, sizeof(f));
	switch (r->src) {
	case REG_ST: memcpy(f.st[st_phys(&f, r->index)], buf, 10); break;
	case REG_X87: x87_set(&f, r->index, (uint32_t)get_le(buf, 4)); break;
	case REG_XMM: memcpy(f.xmm[r->index].b, buf, 16); break;
	default: f.mxcsr = (uint32_t)get_le(buf, 4); break;
	}
	return !memcmp(&f, &c->fpu, sizeof(f)) || dbg_fpu_write(d, cpu, &f);
}
