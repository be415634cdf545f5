/* A bare CPU on a small RAM for unit tests: no machine, no devices. Code is
 * placed at CODE_BASE and run until HLT. Long mode uses an identity map of
 * the first 1 GiB (one 1 GiB page) built at 0x1000/0x2000. */
#ifndef TESTS_UNIT_CPU_HARNESS_H
#define TESTS_UNIT_CPU_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/icache.h"
#include "cpu/model.h"
#include "mem/phys.h"
#include "mem/pio.h"

#define HARNESS_RAM (4u << 20)
#define CODE_BASE 0x10000u
#define STACK_TOP 0x80000u

struct harness {
	struct phys_map pm;
	struct pio_bus pio;
	struct icache *ic;
	struct cpu cpu;
};

static inline struct harness *harness_create(bool long_mode)
{
	struct harness *h = calloc(1, sizeof(*h));
	if (!h || phys_init(&h->pm, HARNESS_RAM) != 0)
		abort();
	pio_init(&h->pio);
	h->ic = icache_create(&h->pm);
	cpu_init(&h->cpu, 0, cpu_model_default(), &h->pm, &h->pio, h->ic);
	cpu_set_multiboot_state(&h->cpu, CODE_BASE, 0, 0);
	h->cpu.gpr[R_SP] = STACK_TOP;
	if (long_mode) {
		uint64_t pml4e = 0x2000 | 3, pdpte = 0x0 | 0x83;  /* 1 GiB page, RW, present */
		phys_copy_in(&h->pm, 0x1000, &pml4e, 8);
		phys_copy_in(&h->pm, 0x2000, &pdpte, 8);
		h->cpu.cr3 = 0x1000;
		h->cpu.cr4 |= CR4_PAE;
		h->cpu.efer |= EFER_LME | EFER_LMA;
		h->cpu.cr0 |= CR0_PG;
		h->cpu.seg[SEG_CS].ar = (h->cpu.seg[SEG_CS].ar & ~AR_DB) | AR_L;
		cpu_mode_changed(&h->cpu);
	}
	return h;
}

static inline void harness_destroy(struct harness *h)
{
	icache_destroy(h->ic);
	phys_destroy(&h->pm);
	free(h);
}

/* Copy code to CODE_BASE, point RIP at it and run until HLT (or 1e6 cycles). */
static inline enum cpu_stop harness_run(struct harness *h, const uint8_t *code, size_t len)
{
	phys_copy_in(&h->pm, CODE_BASE, code, len);
	h->cpu.rip = CODE_BASE;
	h->cpu.halted = false;
	return cpu_run(&h->cpu, h->cpu.cycles + 1000000);
}

#endif
