/* The vtxsim side of the differential test: a CPU in 64-bit mode at CPL 3
 * whose paging maps the data, stack, read-only and code pages at the same
 * linear addresses as the host process (diff.h), with a GDT laid out like
 * Linux's, and an IDT whose gate for vector v points at a one-byte HLT stub
 * at STUBS + v. A run ends when the CPU halts in a stub: the vector is
 * where it halted, the state is the frame the delivery pushed. The end of a
 * sequence is a HLT at CPL 3, i.e. #GP(0) at the end address.
 *
 * Guest-physical layout (RAM 4 MiB, harness.h):
 *   0x1000 PML4  0x2000 PDPT  0x6000 PD  0x7000 PT  0x3000 GDT  0x4000 IDT
 *   0x5000 TSS   0x8000 stubs  0x70000 ring-0 stack top
 *   0x200000 data/stack/read-only pages   0x300000 code pages
 * The supervisor sees guest-physical 0-2 MiB at linear KBASE (the kernel
 * half, as on Linux), so user accesses to low addresses find nothing
 * mapped there, as in the host process.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu/cpuid.h"
#include "cpu/decode.h"
#include "cpu/fpu.h"
#include "cpu/xsave.h"
#include "cpu/seg.h"
#include "tests/diff/diff.h"
#include "tests/unit/cpu/harness.h"

#define PML4 0x1000u
#define PDPT 0x2000u
#define GDT 0x3000u
#define IDT 0x4000u
#define TSS 0x5000u
#define PD 0x6000u
#define PT 0x7000u
#define STUBS 0x8000u
#define RSP0 0x70000u
#define DATA_PA 0x200000u
#define CODE_PA 0x300000u
#define KERNEL_CS 0x10
#define KBASE 0xffffffff80000000ull
#define PDPT_HI 0x9000u
#define PD_HI 0xa000u


struct diff_vm {
	struct harness *h;
	uint64_t fs_base, gs_base;      /* the host process's, restored each run */
};

static void put64(struct harness *h, uint64_t pa, uint64_t v)
{
	phys_copy_in(&h->pm, pa, &v, 8);
}

static uint64_t get64(struct harness *h, uint64_t pa)
{
	uint64_t v = 0;
	phys_copy_out(&h->pm, pa, &v, 8);
	return v;
}

/* The Linux x86-64 GDT (arch/x86/include/asm/segment.h): 1 kernel32 CS,
 * 2 kernel CS, 3 kernel DS, 4 user32 CS, 5 user DS, 6 user CS, 8-9 TSS,
 * 15 the read-only "CPUNODE" user data segment; 16 entries. */
static void build_gdt(struct harness *h)
{
	put64(h, GDT + 0x08, 0x00cf9b000000ffffull);
	put64(h, GDT + 0x10, 0x00af9b000000ffffull);
	put64(h, GDT + 0x18, 0x00cf93000000ffffull);
	put64(h, GDT + 0x20, 0x00cffb000000ffffull);
	put64(h, GDT + 0x28, 0x00cff3000000ffffull);
	put64(h, GDT + 0x30, 0x00affb000000ffffull);
	uint64_t tss = KBASE + TSS;
	put64(h, GDT + 0x40, 0x67ull | ((tss & 0xffffff) << 16) | (0x8bull << 40) | ((tss >> 24 & 0xff) << 56));
	put64(h, GDT + 0x48, tss >> 32);
	put64(h, GDT + 0x78, 0x0040f1000000ffffull);
	put64(h, TSS + 4, KBASE + RSP0);
	/* I/O map base past the TSS limit: no I/O bitmap, so IN/OUT at CPL 3
	 * with IOPL 0 fault (SDM vol. 1 19.5.2), as under Linux. */
	uint16_t iomap = 0x68;
	phys_copy_in(&h->pm, TSS + 0x66, &iomap, 2);
	h->cpu.gdtr = (struct dtable){ KBASE + GDT, 16 * 8 - 1 };
	seg_from_desc(&h->cpu.tr, 0x40, get64(h, GDT + 0x40));
	h->cpu.tr.base = tss;
	/* No LDT, as for a Linux process that never called modify_ldt. */
	h->cpu.ldtr = (struct segment){ .sel = 0, .base = 0, .limit = 0, .ar = AR_UNUSABLE };
}

/* 64-bit interrupt gates to the stubs; INT3 and INTO are reachable from
 * CPL 3 (DPL 3) as on Linux, every other vector has DPL 0. */
static void build_idt(struct harness *h)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t off = KBASE + STUBS + v;
		unsigned dpl = (v == 3 || v == 4) ? 3 : 0;
		uint64_t lo = (off & 0xffff) | ((uint64_t)KERNEL_CS << 16) | ((uint64_t)(0x8e | dpl << 5) << 40) |
			      ((off >> 16 & 0xffff) << 48);
		put64(h, IDT + 16 * v, lo);
		put64(h, IDT + 16 * v + 8, off >> 32);
		uint8_t hlt = 0xf4;
		phys_copy_in(&h->pm, STUBS + v, &hlt, 1);
	}
	h->cpu.idtr = (struct dtable){ KBASE + IDT, 256 * 16 - 1 };
}

static void build_paging(struct harness *h)
{
	phys_fill(&h->pm, PML4, 0, 0x1000);
	phys_fill(&h->pm, PDPT, 0, 0x1000);
	phys_fill(&h->pm, PD, 0, 0x1000);
	phys_fill(&h->pm, PT, 0, 0x1000);
	phys_fill(&h->pm, PDPT_HI, 0, 0x1000);
	phys_fill(&h->pm, PD_HI, 0, 0x1000);
	put64(h, PML4, PDPT | PTE_P | PTE_W | PTE_U);
	put64(h, PDPT, PD | PTE_P | PTE_W | PTE_U);
	put64(h, PML4 + 8 * ((KBASE >> 39) & 0x1ff), PDPT_HI | PTE_P | PTE_W);
	put64(h, PDPT_HI + 8 * ((KBASE >> 30) & 0x1ff), PD_HI | PTE_P | PTE_W);
	put64(h, PD_HI + 8 * ((KBASE >> 21) & 0x1ff), 0 | PTE_P | PTE_W | PTE_PS);
	put64(h, PD + 8 * ((DIFF_DATA >> 21) & 0x1ff), PT | PTE_P | PTE_W | PTE_U);
	_Static_assert((DIFF_DATA >> 21) == (DIFF_CODE >> 21), "one page table maps data and code");
	for (unsigned k = 0; k < DIFF_MAPPED / 0x1000; k++) {
		uint64_t la = DIFF_DATA + 0x1000ull * k;
		uint64_t pte = (DATA_PA + 0x1000ull * k) | PTE_P | PTE_U | PTE_NX;
		if (la < DIFF_RO)
			pte |= PTE_W;
		put64(h, PT + 8 * ((la >> 12) & 0x1ff), pte);
	}
	for (unsigned k = 0; k < DIFF_CODE_SIZE / 0x1000; k++) {
		uint64_t la = DIFF_CODE + 0x1000ull * k;
		put64(h, PT + 8 * ((la >> 12) & 0x1ff), (CODE_PA + 0x1000ull * k) | PTE_P | PTE_W | PTE_U);
	}
}

struct diff_vm *vm_create(void)
{
	struct diff_vm *v = calloc(1, sizeof(*v));
	if (!v)
		abort();
	v->h = harness_create(true);
	struct cpu *c = &v->h->cpu;
	build_gdt(v->h);
	build_idt(v->h);
	build_paging(v->h);
	c->cr3 = PML4;
	/* As Linux runs user code: alignment checking enabled (CR0.AM), SSE
	 * enabled (CR4.OSFXSR/OSXMMEXCPT), NX enabled. */
	c->cr0 |= CR0_PE | CR0_MP | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	c->cr0 &= ~(CR0_EM | CR0_TS);
	c->cr4 |= CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	/* Linux also sets CR4.OSXSAVE (XCR0 in vm_set_host) and, on this
	 * host, CR4.FSGSBASE (AT_HWCAP2 FSGSBASE). */
	if (cpu_has(c, FEAT_XSAVE))
		c->cr4 |= CR4_OSXSAVE;
	if (cpu_has(c, FEAT_FSGSBASE))
		c->cr4 |= CR4_FSGSBASE;
	c->efer |= EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
	cpu_mode_changed(c);
	return v;
}

void vm_destroy(struct diff_vm *v)
{
	harness_destroy(v->h);
	free(v);
}

bool vm_has(struct diff_vm *v, unsigned feat)
{
	return cpu_model_has(v->h->cpu.model, feat);
}

void vm_set_host(struct diff_vm *v, uint64_t xcr0, uint64_t fs_base, uint64_t gs_base)
{
	struct cpu *c = &v->h->cpu;
	c->xcr0 = (xcr0 & xsave_supported_xcr0(c)) | XFEATURE_X87;
	v->fs_base = fs_base;
	v->gs_base = gs_base;
}

/* The x87/SSE state of diff.h: R0-R7 = 1.0 (80-bit: significand 8000...0H,
 * exponent 3FFFH), then FNINIT; MXCSR DIFF_MXCSR; XMM0-15 the pattern. */
static void reset_fpu(struct cpu *c)
{
	static const uint8_t one[10] = { 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f };
	for (unsigned r = 0; r < 8; r++)
		memcpy(c->fpu.st[r], one, 10);
	fpu_init_state(c);
	c->fpu.fsw = 0;         /* TOP = 0 */
	c->fpu.mxcsr = DIFF_MXCSR;
	for (unsigned k = 0; k < 256; k++)
		c->fpu.xmm[k / 16].b[k % 16] = diff_xmm_byte(k);
}

static void load_user_segments(struct harness *h)
{
	struct cpu *c = &h->cpu;
	seg_from_desc(&c->seg[SEG_CS], DIFF_USER_CS, get64(h, GDT + (DIFF_USER_CS & ~7u)));
	seg_from_desc(&c->seg[SEG_SS], DIFF_USER_DS, get64(h, GDT + (DIFF_USER_DS & ~7u)));
	for (unsigned s = SEG_ES; s <= SEG_GS; s++) {
		if (s == SEG_CS || s == SEG_SS)
			continue;
		c->seg[s] = (struct segment){ .sel = 0, .base = 0, .limit = 0, .ar = AR_UNUSABLE };
	}
	c->cpl = 3;
}

void vm_run(struct diff_vm *v, const uint8_t *code, unsigned len, const uint8_t *data, const struct diff_state *in,
	    struct diff_state *out, uint8_t *data_out)
{
	struct harness *h = v->h;
	struct cpu *c = &h->cpu;
	phys_copy_in(&h->pm, CODE_PA, code, len);
	phys_copy_in(&h->pm, DATA_PA, data, DIFF_MAPPED);
	memcpy(c->gpr, in->gpr, sizeof(c->gpr));
	load_user_segments(h);
	c->seg[SEG_FS].base = v->fs_base;
	c->seg[SEG_GS].base = v->gs_base;
	reset_fpu(c);
	c->rip = DIFF_CODE;
	c->halted = c->shutdown = false;
	c->delivering = 0;
	c->sti_shadow = c->mov_ss_shadow = false;
	cpu_set_rflags(c, in->rflags);
	cpu_mode_changed(c);
	enum cpu_stop st = cpu_run(c, c->cycles + 1000000);
	memset(out, 0, sizeof(*out));
	phys_copy_out(&h->pm, DATA_PA, data_out, DIFF_RW_SIZE);
	uint64_t stub = c->rip - 1 - KBASE;
	if (st != CPU_STOP_HALTED || c->cpl != 0 || stub < STUBS || stub >= STUBS + 256 ||
	    c->gpr[R_SP] < KBASE + RSP0 - 6 * 8) {
		memcpy(out->gpr, c->gpr, sizeof(out->gpr));
		out->rflags = cpu_get_rflags(c);
		out->rip = c->rip;
		out->vector = 256;      /* did not stop in a stub: triple fault, runaway... */
		return;
	}
	/* The frame: [error code] RIP CS RFLAGS RSP SS at the 16-byte aligned RSP0. */
	uint64_t f = RSP0 - 5 * 8;
	memcpy(out->gpr, c->gpr, sizeof(out->gpr));
	out->rip = get64(h, f);
	out->rflags = get64(h, f + 16);
	out->gpr[R_SP] = get64(h, f + 24);
	out->vector = (int)(stub - STUBS);
	out->error = c->gpr[R_SP] == KBASE + f - 8 ? (uint32_t)get64(h, f - 8) : 0;
	out->cr2 = c->cr2;
}

unsigned vm_decode(const uint8_t *bytes, unsigned avail, const char **name, uint16_t *opcode, uint8_t *modrm)
{
	struct insn i;
	struct decode_mode m = { .code64 = 1, .def32 = 0 };
	if (cpu_decode(bytes, avail, m, &i) != DECODE_OK)
		return 0;
	*name = cpu_insn_name(&i);
	*opcode = i.opcode;
	*modrm = (i.flags & IF_HAS_MODRM) ? i.modrm : 0;
	return i.len;
}
