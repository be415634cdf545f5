/* Operand access and host execution shared by the x87/SSE/XSAVE handlers
 * (declarations and the rules they implement: cpu/sse.h). */
#include "cpu/sse.h"

#include <string.h>

static unsigned chunk_size(unsigned left)
{
	return left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
}

bool sse_mem_read(struct cpu *c, unsigned seg, uint64_t off, void *dst, unsigned size)
{
	const uint8_t *p = size <= PAGE_SIZE ? mem_fast_ptr(c, seg, off, size, false) : NULL;
	uint8_t *d = dst;
	if (p) {
		memcpy(d, p, size);
		return true;
	}
	for (unsigned k = 0; k < size;) {
		unsigned n = chunk_size(size - k);
		uint64_t v;
		if (!mem_read_seg(c, seg, off + k, n, &v))
			return false;
		memcpy(d + k, &v, n);
		k += n;
	}
	return true;
}

bool sse_mem_write(struct cpu *c, unsigned seg, uint64_t off, const void *src, unsigned size)
{
	uint8_t *p = size <= PAGE_SIZE ? mem_fast_ptr(c, seg, off, size, true) : NULL;
	const uint8_t *s = src;
	if (p) {
		memcpy(p, s, size);
		return true;
	}
	if (size > 1 && !mem_probe_write(c, seg, off, size))
		return false;
	for (unsigned k = 0; k < size;) {
		unsigned n = chunk_size(size - k);
		uint64_t v = 0;
		memcpy(&v, s + k, n);
		if (!mem_write_seg(c, seg, off + k, n, v))
			return false;
		k += n;
	}
	return true;
}

static bool misaligned(struct cpu *c, const struct insn *i, uint64_t off)
{
	if (sse_linear(c, i->seg, off) & 15) {
		cpu_gp0(c);
		return true;
	}
	return false;
}

bool sse_read_rm(struct cpu *c, const struct insn *i, unsigned size, bool align, union xmm_reg *v)
{
	if (i->flags & IF_MOD3) {
		*v = c->fpu.xmm[i->rm];
		return true;
	}
	uint64_t off = insn_ea(c, i);
	memset(v, 0, sizeof(*v));
	if (align && misaligned(c, i, off))
		return false;
	return sse_mem_read(c, i->seg, off, v, size);
}

bool sse_write_m(struct cpu *c, const struct insn *i, unsigned size, bool align, const union xmm_reg *v)
{
	uint64_t off = insn_ea(c, i);
	if (align && misaligned(c, i, off))
		return false;
	return sse_mem_write(c, i->seg, off, v, size);
}

/* The host's MXCSR is saved and restored around the operation; the guest's
 * control bits (RC, DAZ, FTZ) apply, every exception is masked so the host
 * never traps, and the flags come back from the host MXCSR. The same
 * instruction on the same inputs gives the same bits on every x86-64 host
 * (IEEE 754 basic operations are exactly specified). */
uint32_t sse_host_run(sse_host_fn fn, union xmm_reg *d, const union xmm_reg *s, uint32_t mxcsr)
{
	uint32_t host, out, guest = (mxcsr & (MXCSR_DAZ | MXCSR_RC | MXCSR_FTZ)) | MXCSR_MASKS;
	__asm__ volatile("stmxcsr %0" : "=m"(host) : : "memory");
	__asm__ volatile("ldmxcsr %0" : : "m"(guest) : "memory");
	fn(d, s);
	__asm__ volatile("stmxcsr %0" : "=m"(out) : : "memory");
	__asm__ volatile("ldmxcsr %0" : : "m"(host) : "memory");
	return out & MXCSR_FLAGS;
}

/* SDM vol. 1 11.5.3.2: unmasked pre-computation exceptions (IE, DE, ZE) stop
 * the instruction with only those flags set; otherwise all flags are set
 * and unmasked post-computation exceptions (OE, UE, PE) stop it. */
bool sse_commit_flags(struct cpu *c, uint32_t flags)
{
	uint32_t unmasked = ~(c->fpu.mxcsr >> MXCSR_MASK_SHIFT) & MXCSR_FLAGS;
	uint32_t pre = flags & (MXCSR_IE | MXCSR_DE | MXCSR_ZE);
	if (pre & unmasked) {
		c->fpu.mxcsr |= pre;
		sse_simd_fault(c);
		return false;
	}
	c->fpu.mxcsr |= flags;
	if (flags & unmasked) {
		sse_simd_fault(c);
		return false;
	}
	return true;
}
