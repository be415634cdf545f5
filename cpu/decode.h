/* Decoded instructions.
 *
 * The decoder (cpu/decode.c) turns bytes into a struct insn once; the result
 * is cached per guest-physical page (cpu/icache.c) and replayed by the
 * executor, which calls insn->fn. Handlers read operands through the
 * helpers in cpu/operand.h and never re-decode.
 */
#ifndef CPU_DECODE_H
#define CPU_DECODE_H

#include <stdint.h>

#include "cpu/cpu.h"

struct insn;
typedef enum exec_status (*insn_fn)(struct cpu *c, const struct insn *i);

/* Operand-size / address-size codes: log2 of the size in bytes. */
enum { SZ8 = 0, SZ16 = 1, SZ32 = 2, SZ64 = 3 };

#define REG_NONE 16
#define REG_RIP 17
/* Byte registers: 0-15 are AL..R15B (SPL..DIL with REX), 16-19 are AH..BH. */
#define REG_AH 16

/* insn.flags */
#define IF_MOD3 (1u << 0)       /* ModRM r/m names a register */
#define IF_ENDS_BLOCK (1u << 1) /* control transfer or mode change: stop the block */
#define IF_REX (1u << 2)
#define IF_LOCK (1u << 3)
#define IF_REP (1u << 4)        /* F3 */
#define IF_REPNE (1u << 5)      /* F2 */
#define IF_OPSIZE (1u << 6)     /* 66 seen */
#define IF_HAS_MODRM (1u << 7)

struct insn {
	insn_fn fn;
	uint64_t imm;           /* immediate, sign- or zero-extended per the form */
	int32_t disp;
	uint16_t imm2;          /* second immediate: ENTER level, far-pointer selector */
	uint16_t opcode;        /* map << 8 | byte, for diagnostics */
	uint8_t len;
	uint8_t osz;            /* operand size (SZ8..SZ64) */
	uint8_t asz;            /* address size (SZ16..SZ64) */
	uint8_t seg;            /* segment of the memory operand */
	uint8_t reg;            /* ModRM.reg with REX.R, or register from the opcode */
	uint8_t rm;             /* ModRM.rm with REX.B when IF_MOD3 */
	uint8_t base, index;    /* REG_NONE / REG_RIP / 0-15 */
	uint8_t scale;          /* shift count 0-3 */
	uint8_t opx;            /* opcode-specific: condition code, ALU op, ModRM.reg */
	uint8_t flags;
	uint8_t cost;           /* cycles at retirement (cpu/cost.def) */
	uint8_t modrm;
	uint8_t vex;            /* VEX_PRESENT | VEX_L | VEX_W for VEX-encoded instructions, else 0 */
	uint8_t vreg;           /* VEX.vvvv register (un-inverted; 0-7 outside 64-bit mode) */
};

/* insn.vex */
#define VEX_PRESENT (1u << 0)
#define VEX_L (1u << 1)         /* VEX.L: 256-bit vector length */
#define VEX_W (1u << 2)         /* VEX.W (operand size 64 for GPR forms in 64-bit mode) */

/* VEX-encoded instructions are #UD in real-address and virtual-8086 mode
 * (SDM vol. 2 2.3.5; the exception tables of chapter 2.5, "#UD: in real or
 * virtual-8086 mode"). The decoder cannot tell protected from real mode
 * with CS.D = 0, so every VEX handler asks this first. */
static inline bool vex_mode_ok(const struct cpu *c)
{
	return (c->cr0 & CR0_PE) && !(c->rflags & FL_VM);
}

/* Decoding context: the processor mode that decides default sizes. */
struct decode_mode {
	uint8_t code64;         /* 64-bit mode (CS.L with EFER.LMA) */
	uint8_t def32;          /* CS.D (ignored in 64-bit mode) */
};

/* Fetch callback: copy up to `len` instruction bytes starting at offset
 * `off` from the instruction start; returns how many bytes were available
 * (fewer at a fetch fault). */
typedef unsigned (*fetch_fn)(void *ctx, unsigned off, uint8_t *buf, unsigned len);

enum decode_result {
	DECODE_OK,
	DECODE_UD,              /* invalid opcode: #UD */
	DECODE_TOO_LONG,        /* more than 15 bytes: #GP(0) (SDM 2.3.11) */
	DECODE_FETCH_FAULT,     /* bytes ran out: the fetch fault decides */
};

/* Decode one instruction from bytes[0..avail). Instructions are at most 15
 * bytes; callers pass up to 15 bytes (fewer at a fetch boundary). */
enum decode_result cpu_decode(const uint8_t *bytes, unsigned avail, struct decode_mode mode,
			      struct insn *out);

/* Mnemonic-ish name for diagnostics (handler name from cpu/opcodes.def). */
const char *cpu_insn_name(const struct insn *i);

#endif
