/* System structures for CPU unit tests on top of harness.h: a GDT with
 * kernel/user segments and a TSS, an IDT, and helpers that put the CPU at a
 * given privilege level without running code.
 *
 * Layout (guest-physical = linear, identity mapped):
 *   0x3000 GDT   0x4000 IDT   0x5000 TSS   0x70000 ring-0 stack top (RSP0/ESP0)
 *   0x60000 IST1 stack top    0x20000 user code   0x30000 kernel handlers
 */
#ifndef TESTS_UNIT_CPU_SYSENV_H
#define TESTS_UNIT_CPU_SYSENV_H

#include "cpu/decode.h"
#include "cpu/seg.h"
#include "tests/unit/cpu/harness.h"

#define GDT_BASE 0x3000u
#define IDT_BASE 0x4000u
#define TSS_BASE 0x5000u
#define RSP0 0x70000u
#define IST1_TOP 0x60008u       /* deliberately not 16-byte aligned */
#define USER_CODE 0x20000u
#define KERNEL_CODE 0x30000u
#define USER_STACK 0x50000u

/* Selectors. 64-bit environment: 0x08 code64 DPL0, 0x10 data DPL0,
 * 0x18 code32 DPL3, 0x20 data DPL3, 0x28 code64 DPL3, 0x30 TSS (16 bytes).
 * 32-bit environment: 0x08 code32 DPL0, same data/user rows, 0x28 TSS32,
 * 0x30 a call gate. */
enum { K_CS = 0x08, K_DS = 0x10, U_CS32 = 0x1b, U_DS = 0x23, U_CS64 = 0x2b, TSS_SEL = 0x30, TSS32_SEL = 0x28 };

static inline void gdt_put(struct harness *h, unsigned sel, uint64_t d)
{
	phys_copy_in(&h->pm, GDT_BASE + (sel & ~7u), &d, 8);
}

static inline uint64_t gdt_get(struct harness *h, unsigned sel)
{
	uint64_t d;
	phys_copy_out(&h->pm, GDT_BASE + (sel & ~7u), &d, 8);
	return d;
}

/* A system descriptor (TSS, LDT): base, limit, type, DPL 0, present. */
static inline uint64_t sys_desc(uint32_t base, uint32_t limit, unsigned type)
{
	return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)(0x80 | type) << 40) |
	       ((uint64_t)(limit >> 16 & 0xf) << 48) | ((uint64_t)(base >> 24) << 56);
}

static inline void load_seg(struct cpu *c, unsigned seg, uint16_t sel, uint64_t d)
{
	seg_from_desc(&c->seg[seg], sel, d);
}

/* 64-bit gate at IDT_BASE + 16 * vec. */
static inline void idt_put64(struct harness *h, unsigned vec, uint64_t off, unsigned type, unsigned dpl,
			     unsigned ist)
{
	uint64_t g[2];
	g[0] = (off & 0xffff) | ((uint64_t)K_CS << 16) | ((uint64_t)ist << 32) |
	       ((uint64_t)(0x80 | dpl << 5 | type) << 40) | ((off >> 16 & 0xffff) << 48);
	g[1] = off >> 32;
	phys_copy_in(&h->pm, IDT_BASE + 16 * vec, g, 16);
}

static inline void put32(struct harness *h, uint64_t pa, uint32_t v)
{
	phys_copy_in(&h->pm, pa, &v, 4);
}

static inline void put64(struct harness *h, uint64_t pa, uint64_t v)
{
	phys_copy_in(&h->pm, pa, &v, 8);
}

static inline uint64_t get64(struct harness *h, uint64_t pa)
{
	uint64_t v = 0;
	phys_copy_out(&h->pm, pa, &v, 8);
	return v;
}

static inline uint32_t get32(struct harness *h, uint64_t pa)
{
	uint32_t v = 0;
	phys_copy_out(&h->pm, pa, &v, 4);
	return v;
}

/* Long mode with the GDT, an empty IDT (limit covers 256 gates) and a busy
 * 64-bit TSS (RSP0, IST1) loaded, at CPL 0. */
static inline struct harness *sysenv_long(void)
{
	struct harness *h = harness_create(true);
	struct cpu *c = &h->cpu;
	put64(h, 0x1000, 0x2000 | 7);   /* the harness map, now user-accessible */
	put64(h, 0x2000, 0x87);
	gdt_put(h, 0x08, 0x00af9b000000ffffull);
	gdt_put(h, 0x10, 0x00cf93000000ffffull);
	gdt_put(h, 0x18, 0x00cffb000000ffffull);
	gdt_put(h, 0x20, 0x00cff3000000ffffull);
	gdt_put(h, 0x28, 0x00affb000000ffffull);
	gdt_put(h, 0x30, sys_desc(TSS_BASE, 0x67, SYS_TSS_BUSY));
	gdt_put(h, 0x38, 0);    /* upper half of the TSS descriptor */
	put64(h, TSS_BASE + 4, RSP0);
	put64(h, TSS_BASE + 0x24, IST1_TOP);
	c->gdtr = (struct dtable){ GDT_BASE, 0x3f };
	c->idtr = (struct dtable){ IDT_BASE, 256 * 16 - 1 };
	seg_from_desc(&c->tr, TSS_SEL, gdt_get(h, TSS_SEL));
	load_seg(c, SEG_CS, K_CS, gdt_get(h, K_CS));
	for (unsigned s = SEG_ES; s <= SEG_GS; s++)
		if (s != SEG_CS)
			load_seg(c, s, K_DS, gdt_get(h, K_DS));
	cpu_mode_changed(c);
	return h;
}

/* A 32-bit call gate to K_CS:off with `params` dwords, DPL 3. */
static inline uint64_t call_gate32(uint32_t off, unsigned params)
{
	return (off & 0xffff) | ((uint64_t)K_CS << 16) | ((uint64_t)(params & 0x1f) << 32) |
	       ((uint64_t)(0x80 | 3 << 5 | SYS_CALL_GATE) << 40) | ((uint64_t)(off >> 16) << 48);
}

/* 32-bit protected mode, paging off, the GDT (kernel code not yet
 * accessed), a busy 32-bit TSS (SS0:ESP0 = K_DS:RSP0), the gate 0x30 and
 * an IDT limit covering 256 8-byte gates, at CPL 0. */
static inline struct harness *sysenv_prot32(void)
{
	struct harness *h = harness_create(false);
	struct cpu *c = &h->cpu;
	gdt_put(h, 0x08, 0x00cf9a000000ffffull);
	gdt_put(h, 0x10, 0x00cf93000000ffffull);
	gdt_put(h, 0x18, 0x00cffb000000ffffull);
	gdt_put(h, 0x20, 0x00cff3000000ffffull);
	gdt_put(h, 0x28, sys_desc(TSS_BASE, 0x67, SYS_TSS_BUSY));
	gdt_put(h, 0x30, call_gate32(KERNEL_CODE, 2));
	put32(h, TSS_BASE + 4, RSP0);
	put32(h, TSS_BASE + 8, K_DS);
	c->gdtr = (struct dtable){ GDT_BASE, 0x3f };
	c->idtr = (struct dtable){ IDT_BASE, 256 * 8 - 1 };
	seg_from_desc(&c->tr, TSS32_SEL, gdt_get(h, TSS32_SEL));
	cpu_mode_changed(c);
	return h;
}

/* Switch to CPL 3 with the given code selector, SS = U_DS. */
static inline void enter_user(struct harness *h, uint16_t cs, uint64_t rip, uint64_t rsp)
{
	struct cpu *c = &h->cpu;
	load_seg(c, SEG_CS, cs, gdt_get(h, cs));
	load_seg(c, SEG_SS, U_DS, gdt_get(h, U_DS));
	c->cpl = 3;
	c->rip = rip;
	c->gpr[R_SP] = rsp;
	c->halted = false;
	cpu_mode_changed(c);
}

static inline void put_code(struct harness *h, uint64_t pa, const uint8_t *code, size_t len)
{
	phys_copy_in(&h->pm, pa, code, len);
}

/* Decode one instruction and run its handler directly (no executor, no
 * exception delivery): the test then looks at c->exc. RIP is not advanced.
 * An encoding the decoder refuses is #UD, as the executor would raise. */
static inline enum exec_status exec_insn(struct cpu *c, const uint8_t *bytes, unsigned len)
{
	struct insn i;
	struct decode_mode m = { c->code64, (c->seg[SEG_CS].ar & AR_DB) != 0 };
	enum decode_result r = cpu_decode(bytes, len, m, &i);
	if (r == DECODE_UD) {
		c->exc = (struct pending_exc){ .vector = VEC_UD };
		return EXEC_FAULT;
	}
	if (r != DECODE_OK)
		abort();
	c->next_rip = c->rip + i.len;
	return i.fn(c, &i);
}

static inline enum cpu_stop run_more(struct harness *h, uint64_t cycles)
{
	h->cpu.halted = false;
	return cpu_run(&h->cpu, h->cpu.cycles + cycles);
}

#endif
