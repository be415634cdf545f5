/* I/O instructions and RDMSR/WRMSR in VMX non-root operation: whether they
 * exit (SDM vol. 3C 25.1.3), and the exit information (27.2.1 Table 27-5,
 * the guest-linear address; 27.2.4 Table 27-8). The I/O RCX/RSI/RDI/RIP
 * fields are written only by SMM VM exits after an I/O SMI (27.2.5,
 * 34.15.2.3); vtxsim has no SMM, so no exit here touches them. */
#include "vmx/intercept_io.h"

#include "cpu/decode.h"
#include "cpu/model.h"
#include "cpu/operand.h"
#include "vmx/exit.h"
#include "vmx/vmcs.h"

#define IO_PORTS 0x10000u
#define IO_BITMAP_PORTS 0x8000u         /* ports per bitmap (24.6.4) */
#define MSR_RANGE 0x2000u               /* MSRs per bitmap (24.6.9) */
#define MSR_HIGH_BASE 0xc0000000u
#define MSR_BITMAP_HIGH 1024u
#define MSR_BITMAP_WRITE 2048u
#define INFO_ASZ_SHIFT 7                /* Table 27-8 */
#define INFO_SEG_SHIFT 15

static bool bit_set(struct cpu *c, uint64_t base, uint32_t n)
{
	return (phys_read(c->phys, base + n / 8, 1) >> (n & 7)) & 1;
}

bool vmx_io_bitmap_exits(struct cpu *c, uint16_t port, unsigned size)
{
	if ((uint32_t)port + size > IO_PORTS)
		return true;    /* 25.1.3: an access that wraps (FFFFH and 0000H) exits */
	for (uint32_t p = port; p < (uint32_t)port + size; p++) {
		uint64_t base = vmcs_read(c, p < IO_BITMAP_PORTS ? VF_IO_BITMAP_A : VF_IO_BITMAP_B);
		if (bit_set(c, base, p & (IO_BITMAP_PORTS - 1)))
			return true;
	}
	return false;
}

bool vmx_msr_bitmap_exits(struct cpu *c, uint32_t msr, bool write)
{
	uint64_t base = vmcs_read(c, VF_MSR_BITMAP) + (write ? MSR_BITMAP_WRITE : 0);
	if (msr < MSR_RANGE)
		return bit_set(c, base, msr);
	if (msr - MSR_HIGH_BASE < MSR_RANGE)
		return bit_set(c, base + MSR_BITMAP_HIGH, msr - MSR_HIGH_BASE);
	return true;    /* 25.1.3: outside both ranges RDMSR/WRMSR always exit */
}

/* INS/OUTS (27.2.1): the guest-linear address of ES:(E)DI (INS) or
 * seg:(E)SI (OUTS, DS unless overridden) when the instruction started,
 * bits 63:32 cleared outside 64-bit mode (with the segment unusable the
 * SDM leaves it undefined: it is computed the same way). Instruction
 * information (Table 27-8: address size, segment; the segment is undefined
 * for INS and given as ES) only where IA32_VMX_BASIC[54] = 1. */
static void string_info(struct cpu *c, const struct insn *i, bool in, struct vmx_exit_info *x)
{
	unsigned seg = in ? SEG_ES : i->seg;
	uint64_t off = c->gpr[in ? R_DI : R_SI] & addr_mask(i->asz);
	uint64_t base = c->code64 && seg < SEG_FS ? 0 : c->seg[seg].base;
	x->guest_linear = c->code64 ? base + off : (uint32_t)(base + off);
	x->has_linear = true;
	if (c->model->vmx.ins_outs_info) {
		x->insn_info = (uint32_t)(i->asz - SZ16) << INFO_ASZ_SHIFT | (uint32_t)seg << INFO_SEG_SHIFT;
		x->has_insn_info = true;
	}
}

/* 25.1.3: with "use I/O bitmaps" the bitmaps decide and "unconditional I/O
 * exiting" is ignored; without, the latter decides. Table 27-5: size - 1
 * in bits 2:0 (0, 1, 3), the kind bits, the port in 31:16. */
bool vmx_intercept_io(struct cpu *c, const struct insn *i, uint16_t port, unsigned size, uint32_t kind)
{
	uint32_t proc = (uint32_t)vmcs_read(c, VF_PROC_CONTROLS);
	bool exits = (proc & PROC_IO_BITMAPS) ? vmx_io_bitmap_exits(c, port, size) : (proc & PROC_UNCOND_IO_EXITING) != 0;
	if (!exits)
		return false;
	struct vmx_exit_info x = {
		.reason = EXIT_REASON_IO_INSTRUCTION,
		.qual = (size - 1) | kind | (uint64_t)port << 16,
		.insn_len = i->len,
		.has_insn = true,
	};
	if (kind & VMX_IO_STRING)
		string_info(c, i, kind & VMX_IO_IN, &x);
	vmx_vmexit(c, &x);
	return true;
}

/* 25.1.3: without "use MSR bitmaps" every RDMSR/WRMSR exits. The MSR is
 * ECX (RCX[63:32] is ignored, as by the instruction); the exit leaves
 * ECX and EDX:EAX in the guest's registers for the VMM, and clears the
 * qualification (27.2.1). */
bool vmx_intercept_msr(struct cpu *c, const struct insn *i, bool write)
{
	uint32_t msr = (uint32_t)c->gpr[R_CX];
	if ((vmcs_read(c, VF_PROC_CONTROLS) & PROC_MSR_BITMAPS) && !vmx_msr_bitmap_exits(c, msr, write))
		return false;
	vmx_exit_insn(c, write ? EXIT_REASON_WRMSR : EXIT_REASON_RDMSR, i->len);
	return true;
}
