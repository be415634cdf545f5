/* The debug API's view of code addresses (sim/debug.c): what the
 * breakpoint checks at a boundary need. Internal to sim/. */
#ifndef SIM_DEBUG_MEM_H
#define SIM_DEBUG_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/decode.h"

struct dbg;

/* How the CPU decodes now (CS.L with EFER.LMA, CS.D). */
static inline struct decode_mode dbg_decode_mode(const struct cpu *c)
{
	return (struct decode_mode){ .code64 = c->code64, .def32 = (c->seg[SEG_CS].ar & AR_DB) != 0 };
}

/* Linear address of RIP (CS.base + RIP outside 64-bit mode). */
uint64_t dbg_rip_linear(const struct cpu *c);

/* The physical (after EPT) and guest-physical addresses of the
 * instruction at la, translated as its fetch is about to translate it (so
 * the walk's accessed flags are the fetch's own). */
struct dbg_addrs {
	bool pa_ok, gpa_ok;
	uint64_t pa, gpa;
};
bool dbg_code_addrs(struct dbg *d, int cpu, uint64_t la, struct dbg_addrs *a);

/* Up to n instruction bytes at la, as the fetch about to happen reads them
 * (no page beyond those the instruction occupies is touched): how many. */
size_t dbg_read_code(struct dbg *d, int cpu, uint64_t la, uint8_t *buf, size_t n);

#endif
