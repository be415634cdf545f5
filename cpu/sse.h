/* Shared helpers of the x87/SSE/XSAVE handlers (cpu/fpu.c, cpu/sse*.c,
 * cpu/xsave.c): the CR0/CR4 availability checks, XMM operands in registers
 * and memory, MXCSR, and running one SSE instruction on the host.
 */
#ifndef CPU_SSE_H
#define CPU_SSE_H

#include "cpu/cpuid.h"
#include "cpu/operand.h"

/* MXCSR (SDM vol. 1 10.2.3, Figure 10-3). */
#define MXCSR_IE (1u << 0)
#define MXCSR_DE (1u << 1)
#define MXCSR_ZE (1u << 2)
#define MXCSR_OE (1u << 3)
#define MXCSR_UE (1u << 4)
#define MXCSR_PE (1u << 5)
#define MXCSR_FLAGS 0x3fu
#define MXCSR_DAZ (1u << 6)
#define MXCSR_MASKS (0x3fu << 7)
#define MXCSR_MASK_SHIFT 7
#define MXCSR_RC (3u << 13)
#define MXCSR_FTZ (1u << 15)
#define MXCSR_RESET 0x1f80u
/* Bits software may set: MXCSR_MASK as FXSAVE reports it (10.2.3.1); DAZ is
 * supported, bits 31:16 are reserved (#GP on LDMXCSR/FXRSTOR/XRSTOR). */
#define MXCSR_VALID 0xffffu

/* x87 (SDM vol. 1 8.1.3-8.1.5). */
#define FCW_INIT 0x037fu
#define FSW_TOP_SHIFT 11

/* #UD / #NM for SSE and SSE2 instructions (SDM vol. 3A 2.5, Table 2-2;
 * vol. 2 2.4, exception class "Exceptions Type" lists): #UD when the model
 * lacks the feature, CR0.EM = 1 or CR4.OSFXSR = 0; then #NM when CR0.TS = 1. */
static inline enum exec_status sse_avail(struct cpu *c, unsigned feat)
{
	if (!cpu_has(c, feat) || (c->cr0 & CR0_EM) || !(c->cr4 & CR4_OSFXSR))
		return cpu_ud(c);
	if (c->cr0 & CR0_TS)
		return cpu_fault(c, VEC_NM, false, 0);
	return EXEC_OK;
}

/* An unmasked SIMD floating-point exception: #XM when CR4.OSXMMEXCPT = 1,
 * #UD otherwise (SDM vol. 1 11.5.3.2). */
static inline enum exec_status sse_simd_fault(struct cpu *c)
{
	return (c->cr4 & CR4_OSXMMEXCPT) ? cpu_fault(c, VEC_XM, false, 0) : cpu_ud(c);
}

/* Linear address of the ModRM memory operand for an alignment check: the
 * alignment rules are on the linear address (SDM vol. 1 11.4.1). */
static inline uint64_t sse_linear(const struct cpu *c, unsigned seg, uint64_t off)
{
	if (c->code64)
		return off + (seg >= SEG_FS ? c->seg[seg].base : 0);
	return (c->seg[seg].base + off) & 0xffffffffull;
}

/* Read/write `size` bytes (1-16, or up to 512 in multiples of 8 for XSAVE
 * areas) at seg:off. A write faults before it changes anything. */
bool sse_mem_read(struct cpu *c, unsigned seg, uint64_t off, void *dst, unsigned size);
bool sse_mem_write(struct cpu *c, unsigned seg, uint64_t off, const void *src, unsigned size);

/* The ModRM memory operand of `size` bytes into/out of a register image;
 * `align` = 16 raises #GP(0) for a misaligned 16-byte operand (SDM vol. 2
 * MOVAPS and the other aligned forms). A read zero-fills the rest of *v. */
bool sse_read_rm(struct cpu *c, const struct insn *i, unsigned size, bool align, union xmm_reg *v);
bool sse_write_m(struct cpu *c, const struct insn *i, unsigned size, bool align, const union xmm_reg *v);

/* Run one host SSE operation under the guest's MXCSR rounding, DAZ and FTZ,
 * with every exception masked on the host. Returns the exception flags the
 * operation raised. */
typedef void (*sse_host_fn)(union xmm_reg *d, const union xmm_reg *s);
uint32_t sse_host_run(sse_host_fn fn, union xmm_reg *d, const union xmm_reg *s, uint32_t mxcsr);

/* Merge the flags an operation raised into MXCSR and decide the outcome
 * (SDM vol. 1 11.5.3): pre-computation exceptions (IE, DE, ZE) first, then
 * post-computation ones (OE, UE, PE). Returns true if the result may be
 * written; false after recording #XM/#UD (destination left unchanged). */
bool sse_commit_flags(struct cpu *c, uint32_t flags);

#endif
