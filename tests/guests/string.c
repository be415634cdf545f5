/* string: rep movs/stos/cmps/scas and lods, forwards (DF=0) and backwards
 * (DF=1): memory written, final RSI/RDI/RCX, flags of the last comparison
 * (SDM Vol. 2, MOVS, STOS, CMPS, SCAS, LODS, REP/REPE/REPNE). */
#include "guest.h"

#define BUF 64
#define JUNK 0x5a

struct regs {
	uint64_t si, di, cx, ax, flags;
};

static uint8_t src[BUF], dst[BUF];

static void fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 7 * i);
}

/* True when dst[from, to) equals want and everything else is JUNK. */
static bool dst_is(size_t from, size_t to, const uint8_t *want)
{
	for (size_t i = 0; i < BUF; i++) {
		uint8_t w = i >= from && i < to ? want[i - from] : JUNK;
		if (dst[i] != w)
			return false;
	}
	return true;
}

static void reset_buffers(void)
{
	fill_pattern(src, BUF, 1);
	memset(dst, JUNK, BUF);
}

/* Runs "insn" with RSI/RDI/RCX/RAX from r, DF as given; returns them and
 * RFLAGS after. */
#define DF_SET_0 ""
#define DF_SET_1 "std\n\t"
#define STRING_OP(r, df, insn)                                                  \
	asm volatile(DF_SET_##df insn "\n\tpushfq\n\tpopq %[f]\n\tcld"     \
		     : "+S"((r).si), "+D"((r).di), "+c"((r).cx), "+a"((r).ax), [f] "=r"((r).flags) \
		     : : "memory", "cc")

static void check_movs(void)
{
	struct regs r = { (uint64_t)src, (uint64_t)(dst + 3), 13, 0, 0 };

	reset_buffers();
	STRING_OP(r, 0, "rep movsb");
	report(dst_is(3, 16, src) && r.si == (uint64_t)(src + 13) && r.di == (uint64_t)(dst + 16) && r.cx == 0,
	       "rep movsb DF=0: 13 bytes copied, RSI/RDI +13, RCX 0");

	reset_buffers();
	r = (struct regs){ (uint64_t)(src + 12), (uint64_t)(dst + 12), 13, 0, 0 };
	STRING_OP(r, 1, "rep movsb");
	report(dst_is(0, 13, src) && r.si == (uint64_t)src - 1 && r.di == (uint64_t)dst - 1 && r.cx == 0,
	       "rep movsb DF=1: 13 bytes copied downwards, RSI/RDI -13");

	reset_buffers();
	r = (struct regs){ (uint64_t)src, (uint64_t)dst, 5, 0, 0 };
	STRING_OP(r, 0, "rep movsq");
	report(dst_is(0, 40, src) && r.si == (uint64_t)(src + 40) && r.di == (uint64_t)(dst + 40),
	       "rep movsq DF=0: 5 qwords, RSI/RDI +40");

	reset_buffers();
	r = (struct regs){ (uint64_t)(src + 32), (uint64_t)(dst + 32), 3, 0, 0 };
	STRING_OP(r, 1, "rep movsq");
	report(dst_is(16, 40, src + 16) && r.si == (uint64_t)(src + 8) && r.di == (uint64_t)(dst + 8),
	       "rep movsq DF=1: 3 qwords downwards, RSI/RDI -24");

	reset_buffers();
	r = (struct regs){ (uint64_t)src, (uint64_t)dst, 0, 0, 0 };
	STRING_OP(r, 0, "rep movsb");
	report(dst_is(0, 0, src) && r.si == (uint64_t)src && r.di == (uint64_t)dst,
	       "rep movsb with RCX=0 moves nothing");
}

/* Overlapping copies behave as one byte at a time (SDM: each iteration is
 * a MOVSB). dst = src + 1 forwards smears the first byte. */
static void check_overlap(void)
{
	uint8_t want[BUF];

	memset(dst, JUNK, BUF);
	dst[0] = 0x11;
	struct regs r = { (uint64_t)dst, (uint64_t)(dst + 1), 20, 0, 0 };
	STRING_OP(r, 0, "rep movsb");
	memset(want, 0x11, 21);
	report(dst_is(0, 21, want), "rep movsb DF=0 with RDI = RSI + 1 replicates the first byte");

	fill_pattern(dst, 20, 9);
	fill_pattern(want + 1, 20, 9);
	want[0] = dst[0];
	r = (struct regs){ (uint64_t)(dst + 19), (uint64_t)(dst + 20), 20, 0, 0 };
	STRING_OP(r, 1, "rep movsb");
	report(!memcmp(dst, want, 21), "rep movsb DF=1 shifts an overlapping buffer up by one");
}

static void check_stos(void)
{
	uint8_t want[BUF];
	struct regs r = { 0, (uint64_t)(dst + 5), 17, 0x12345678abcdefab, 0 };

	memset(dst, JUNK, BUF);
	STRING_OP(r, 0, "rep stosb");
	memset(want, 0xab, 17);
	report(dst_is(5, 22, want) && r.di == (uint64_t)(dst + 22) && r.cx == 0 && r.ax == 0x12345678abcdefab,
	       "rep stosb DF=0: 17 bytes of AL, RDI +17, RAX unchanged");

	memset(dst, JUNK, BUF);
	r = (struct regs){ 0, (uint64_t)(dst + 28), 4, 0xffffffff01020304, 0 };
	STRING_OP(r, 1, "rep stosl");
	for (int i = 0; i < 16; i += 4)
		memcpy(want + i, "\x04\x03\x02\x01", 4);
	report(dst_is(16, 32, want) && r.di == (uint64_t)(dst + 12) && r.cx == 0,
	       "rep stosl DF=1: 4 dwords of EAX downwards, RDI -16");
}

/* cmps compares [RSI] - [RDI]; scas AL - [RDI]. */
static void check_cmps(void)
{
	static const char a[] = "hello world", b[] = "hello_world";
	struct regs r = { (uint64_t)a, (uint64_t)b, 11, 0, 0 };

	STRING_OP(r, 0, "repe cmpsb");
	/* stops after index 5: ' ' (0x20) - '_' (0x5f) = 0xc1, a borrow */
	report(r.cx == 5 && r.si == (uint64_t)(a + 6) && r.di == (uint64_t)(b + 6),
	       "repe cmpsb stops after the first difference (RCX 5, RSI/RDI +6)");
	report((r.flags & RFLAGS_ARITH) == (RFLAGS_CF | RFLAGS_SF | RFLAGS_AF),
	       "repe cmpsb flags are those of 0x20 - 0x5f: CF SF AF (%#lx)", r.flags & RFLAGS_ARITH);

	r = (struct regs){ (uint64_t)a, (uint64_t)a, 11, 0, 0 };
	STRING_OP(r, 0, "repe cmpsb");
	report(r.cx == 0 && (r.flags & RFLAGS_ZF) && r.si == (uint64_t)(a + 11),
	       "repe cmpsb over equal strings runs out with ZF=1");

	r = (struct regs){ (uint64_t)(a + 10), (uint64_t)(b + 10), 11, 0, 0 };
	STRING_OP(r, 1, "repe cmpsb");
	report(r.cx == 5 && r.si == (uint64_t)(a + 4) && !(r.flags & RFLAGS_ZF),
	       "repe cmpsb DF=1 stops at the difference at index 5 (RCX 5, RSI -6)");
}

static void check_scas(void)
{
	static const char s[] = "hello world";
	struct regs r = { 0, (uint64_t)s, 11, 'w', 0 };

	STRING_OP(r, 0, "repne scasb");
	report(r.cx == 4 && r.di == (uint64_t)(s + 7) && (r.flags & RFLAGS_ZF),
	       "repne scasb finds 'w' at index 6 (RCX 4, RDI +7, ZF=1)");

	r = (struct regs){ 0, (uint64_t)s, 11, 'z', 0 };
	STRING_OP(r, 0, "repne scasb");
	report(r.cx == 0 && r.di == (uint64_t)(s + 11) && !(r.flags & RFLAGS_ZF),
	       "repne scasb without a match runs out with ZF=0");

	r = (struct regs){ 0, (uint64_t)(s + 10), 11, 'l', 0 };
	STRING_OP(r, 1, "repne scasb");
	report(r.cx == 9 && r.di == (uint64_t)(s + 8) && (r.flags & RFLAGS_ZF),
	       "repne scasb DF=1 finds the last 'l' (index 9) after 2 steps");

	r = (struct regs){ 0, (uint64_t)s, 11, 'h', 0 };
	STRING_OP(r, 0, "repe scasb");
	report(r.cx == 9 && r.di == (uint64_t)(s + 2) && !(r.flags & RFLAGS_ZF),
	       "repe scasb stops after the first byte that is not 'h' (RCX 9, RDI +2)");
}

static void check_lods(void)
{
	static const uint8_t bytes[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	struct regs r = { (uint64_t)bytes, 0, 0, 0xffffffffffffff00, 0 };

	STRING_OP(r, 0, "lodsb; lodsb; lodsb");
	report(r.ax == 0xffffffffffffff03 && r.si == (uint64_t)(bytes + 3),
	       "lodsb x3 DF=0: AL = 3, upper RAX kept, RSI +3");

	r = (struct regs){ (uint64_t)(bytes + 8), 0, 0, ~0ul, 0 };
	STRING_OP(r, 1, "lodsq");
	report(r.ax == 0x100f0e0d0c0b0a09 && r.si == (uint64_t)bytes,
	       "lodsq DF=1: RAX = bytes 9..16, RSI -8");

	r = (struct regs){ (uint64_t)(bytes + 4), 0, 0, ~0ul, 0 };
	STRING_OP(r, 0, "lodsl");
	report(r.ax == 0x08070605 && r.si == (uint64_t)(bytes + 8),
	       "lodsl zero-extends into RAX");
}

static void check_df(void)
{
	uint64_t on, off;

	asm volatile("std; pushfq; popq %0; cld; pushfq; popq %1" : "=r"(on), "=r"(off));
	report((on & RFLAGS_DF) && !(off & RFLAGS_DF), "std sets and cld clears RFLAGS.DF");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	check_df();
	check_movs();
	check_overlap();
	check_stos();
	check_cmps();
	check_scas();
	check_lods();
	report_summary();
}
