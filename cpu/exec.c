/* The executor: fetch (through the exec TLB), decode once into blocks cached
 * per guest-physical page, run handlers, retire (advance RIP, add cycles,
 * count instructions) and deliver exceptions. */
#include <stdio.h>

#include "cpu/cpu.h"
#include "cpu/debug.h"
#include "cpu/probe.h"
#include "cpu/decode.h"
#include "cpu/icache.h"
#include "cpu/msr.h"
#include "cpu/operand.h"

#define BLOCK_MAX_INSNS 64

static uint8_t decode_mode_key(const struct cpu *c)
{
	return (uint8_t)(c->code64 | ((c->seg[SEG_CS].ar & AR_DB) ? 2 : 0));
}

static struct decode_mode decode_mode_of(uint8_t key)
{
	return (struct decode_mode){ .code64 = key & 1, .def32 = (key >> 1) & 1 };
}

static bool fetch_fault(struct cpu *c, const struct xlate_fault *f)
{
	return cpu_page_fault(c, f);
}

/* Linear address of RIP, with the CS checks a fetch makes. */
static inline __attribute__((always_inline)) bool rip_linear(struct cpu *c, uint64_t *la)
{
	if (c->code64) {
		*la = c->rip;
		return true;
	}
	if (c->rip > c->seg[SEG_CS].limit) {
		cpu_gp0(c);
		return false;
	}
	*la = (c->seg[SEG_CS].base + c->rip) & 0xffffffffull;
	return true;
}

static inline __attribute__((always_inline)) bool fetch_pa(struct cpu *c, uint64_t la, uint64_t *pa)
{
	struct tlb_entry *e = &c->tlb.e[c->tlb_class][tlb_index(la)];
	if (e->tag_x == (la & PAGE_MASK)) {
		*pa = e->pa | (la & (PAGE_SIZE - 1));
		return true;
	}
	struct mem_view mv = cpu_view(c);
	struct xlate_fault f;
	if (!mem_translate(&mv, la, ACC_EXEC | (c->user ? ACC_USER : 0), pa, &f))
		return fetch_fault(c, &f);
	return true;
}

static void warn_decode(struct cpu *c, const uint8_t *bytes, unsigned n)
{
	char hex[8 * 3 + 1];
	int k = 0;
	for (unsigned j = 0; j < n && j < 8; j++)
		k += snprintf(hex + k, sizeof(hex) - k, " %02x", bytes[j]);
	hex[k] = 0;
	cpu_warn(c, "#UD at RIP=%#llx: invalid or not yet implemented opcode:%s", (unsigned long long)c->rip, hex);
}

/* Decode one instruction that crosses a page boundary (never cached). */
static bool decode_cross_page(struct cpu *c, uint64_t la, uint64_t pa, struct insn *out)
{
	uint8_t bytes[15];
	unsigned first = (unsigned)(PAGE_SIZE - (la & (PAGE_SIZE - 1)));
	uint64_t pa2;
	unsigned n = first;
	for (unsigned k = 0; k < first; k++)
		bytes[k] = (uint8_t)phys_read(c->phys, pa + k, 1);
	struct mem_view mv = cpu_view(c);
	struct xlate_fault f;
	bool second = mem_translate(&mv, (la | (PAGE_SIZE - 1)) + 1, ACC_EXEC | (c->user ? ACC_USER : 0), &pa2, &f);
	if (second) {
		for (unsigned k = first; k < 15; k++)
			bytes[k] = (uint8_t)phys_read(c->phys, pa2 + (k - first), 1);
		n = 15;
	}
	switch (cpu_decode(bytes, n, decode_mode_of(decode_mode_key(c)), out)) {
	case DECODE_OK:
		return true;
	case DECODE_FETCH_FAULT:
		return second ? (cpu_gp0(c), false) : fetch_fault(c, &f);
	case DECODE_TOO_LONG:
		cpu_gp0(c);
		return false;
	case DECODE_UD:
		break;
	}
	warn_decode(c, bytes, n);
	cpu_ud(c);
	return false;
}

/* Decode a block starting at pa; at least one instruction unless the first
 * one is invalid (then #UD is recorded and NULL returned). */
static struct block *build_block(struct cpu *c, uint64_t pa, uint8_t mode)
{
	struct block *b = icache_alloc(c->icache, BLOCK_MAX_INSNS);
	if (!b) {
		icache_flush(c->icache);
		b = icache_alloc(c->icache, BLOCK_MAX_INSNS);
	}
	const uint8_t *page = phys_ram_page(c->phys, pa);
	uint8_t buf[PAGE_SIZE];
	if (!page) {   /* ROM or MMIO: copy through the slow path */
		for (unsigned k = 0; k < PAGE_SIZE; k++)
			buf[k] = (uint8_t)phys_read(c->phys, (pa & PAGE_MASK) + k, 1);
		page = buf;
	}
	unsigned off = (unsigned)(pa & (PAGE_SIZE - 1)), start = off;
	b->pa = pa;
	b->mode = mode;
	while (b->n < BLOCK_MAX_INSNS) {
		struct insn *i = &b->insns[b->n];
		enum decode_result r = cpu_decode(page + off, PAGE_SIZE - off, decode_mode_of(mode), i);
		if (r != DECODE_OK) {
			if (b->n)
				break;
			if (r == DECODE_UD) {
				warn_decode(c, page + off, PAGE_SIZE - off < 15 ? PAGE_SIZE - off : 15);
				cpu_ud(c);
			} else {
				cpu_gp0(c);     /* more than 15 bytes */
			}
			return NULL;
		}
		off += i->len;
		b->n++;
		if ((i->flags & IF_ENDS_BLOCK) || off >= PAGE_SIZE)
			break;
	}
	b->bytes = off - start;
	icache_insert(c->icache, b);
	return b;
}

/* Execute one instruction held in `i` (not cached): cross-page or slow path. */
static enum exec_status exec_one(struct cpu *c, const struct insn *i)
{
	c->next_rip = c->rip + i->len;
	enum exec_status st = i->fn(c, i);
	if (st == EXEC_FAULT)
		return st;
	c->rip = c->next_rip;
	c->cycles += i->cost;
	c->instret++;
	return st;
}

/* Run the block's instructions in order. Cycles advance per instruction (so
 * RDTSC and RDMSR of the TSC read the cycle of their own instruction); the
 * retired-instruction count is added per block. A block that ends early
 * (fault, HLT, a write to its own page, a stop request: cpu_end_block moves
 * c->block_end) counts exactly the instructions it completed. */
static inline __attribute__((always_inline)) enum exec_status run_block(struct cpu *c, const struct block *b)
{
	const struct insn *i = b->insns;
	uint64_t rip = c->rip;  /* c->rip is stale inside the block; handlers use next_rip */
	c->block_end = b->insns + b->n;
	for (; i < c->block_end; i++) {
		c->next_rip = rip + i->len;
		enum exec_status st = i->fn(c, i);
		if (__builtin_expect(st != EXEC_OK, 0)) {
			if (st != EXEC_FAULT) {
				rip = c->next_rip;
				c->cycles += i->cost;
				i++;
			}
			c->rip = rip;
			c->instret += (uint64_t)(i - b->insns);
			return st;
		}
		rip = c->next_rip;
		c->cycles += i->cost;
	}
	c->rip = rip;
	c->instret += (uint64_t)(i - b->insns);
	return EXEC_OK;
}

/* Execute one instruction outside a block run: a cross-page instruction, the
 * last one before CS.limit, or any while cpu_debug_slow() holds (TF, RF,
 * breakpoints, pending debug exceptions, MOV SS or STI shadow). The fetch of an
 * instruction past CS.limit is #GP(0). An instruction that faults takes
 * its fault and drops the traps it had recognised. After MOV SS / POP SS,
 * the next instruction runs in its shadow; of consecutive SS loads only the
 * first blocks (SDM vol. 3A 6.8.3). */
static enum exec_status exec_single(struct cpu *c, const struct insn *i)
{
	bool tf = c->rflags & FL_TF, shadowed = c->mov_ss_shadow;
	bool sti = c->sti_shadow, nonroot = c->vmx.nonroot;
	uint64_t transitions = c->vmx.transitions;
	enum exec_status st = EXEC_FAULT;
	/* The MOV SS shadow stays visible while the instruction runs
	 * (VMLAUNCH/VMRESUME fail with error 26 in it, SDM vol. 3C 26.1) and
	 * ends after it. STI's shadow covers this instruction only, and is
	 * visible while it runs too: a VM exit it causes saves blocking by
	 * STI (vol. 3C 24.4.2 Table 24-3, 27.3.4); a VM entry it performs
	 * loads the guest's blocking, which stays. */
	if (!c->code64 && c->rip + i->len - 1 > c->seg[SEG_CS].limit)
		cpu_gp0(c);
	else
		st = exec_one(c, i);
	if (sti && c->vmx.nonroot == nonroot)
		c->sti_shadow = false;
	if (st == EXEC_FAULT) {
		if (shadowed)
			c->mov_ss_shadow = false;
		cpu_debug_drop_pending(c);
		return st;
	}
	/* An instruction that caused a VM exit did not complete, and one that
	 * entered the guest (or failed to, 26.7) hands over to the state it
	 * loaded: neither is followed by a single-step trap (SDM vol. 3C
	 * 27.3.4 saves no pending BS for an instruction's VM exit). */
	if (c->vmx.transitions == transitions)
		cpu_debug_retired(c, i, tf);
	if (shadowed)
		c->mov_ss_shadow = false;
	return st;
}

/* Find (or build) the block at RIP. A page-crossing instruction that does
 * not fit the page is decoded into *one and *bp is NULL. */
static inline __attribute__((always_inline)) enum exec_status find_block(struct cpu *c, struct block **bp,
									  struct insn *one)
{
	uint64_t la, pa;
	if (!rip_linear(c, &la) || !fetch_pa(c, la, &pa))
		return EXEC_FAULT;
	uint8_t mode = decode_mode_key(c);
	uint64_t key = pa | (uint64_t)mode << 60;
	struct jump_cache_entry *jce = &c->jc[(pa ^ (pa >> 9)) & (JUMP_CACHE_SIZE - 1)];
	struct block *b = jce->key == key ? jce->b : NULL;
	*bp = NULL;
	if (!b)
		b = icache_lookup(c->icache, pa, mode);
	if (!b) {
		if (PAGE_SIZE - (pa & (PAGE_SIZE - 1)) < 15) {
			uint8_t probe[15];
			unsigned avail = (unsigned)(PAGE_SIZE - (pa & (PAGE_SIZE - 1)));
			for (unsigned k = 0; k < avail; k++)
				probe[k] = (uint8_t)phys_read(c->phys, pa + k, 1);
			if (cpu_decode(probe, avail, decode_mode_of(mode), one) != DECODE_OK)
				return decode_cross_page(c, la, pa, one) ? EXEC_OK : EXEC_FAULT;
		}
		b = build_block(c, pa, mode);
		if (!b)
			return EXEC_FAULT;
	}
	jce->key = key;
	jce->b = b;
	*bp = b;
	return EXEC_OK;
}

/* The block runs past CS.limit: go one instruction at a time. */
static bool past_limit(const struct cpu *c, const struct block *b)
{
	return !c->code64 && c->rip + b->bytes - 1 > c->seg[SEG_CS].limit;
}

/* A step while cpu_debug_slow() holds: the instruction boundary first
 * (pending traps, code breakpoints, RF), then one instruction, or a whole
 * block when the boundary left nothing to watch. */
static __attribute__((noinline)) enum exec_status step_debug(struct cpu *c)
{
	struct block *b;
	struct insn one;
	/* A host observer stepping (cpu/probe.h) sees this boundary once: a
	 * stop parks the CPU here and returns from cpu_run; the next cpu_run
	 * comes back to run the instruction without asking again. */
	if (__builtin_expect(c->probe_parked, 0)) {
		c->probe_parked = 0;
	} else if (c->probe_step && c->probe->boundary(c->probe->ctx, c)) {
		c->probe_parked = 1;
		cpu_probe_break(c);
		return EXEC_OK;
	}
	vmx_boundary_insn(&c->vmx);     /* the monitor trap flag: an MTF VM exit after this step */
	if (cpu_debug_boundary(c) != EXEC_OK || find_block(c, &b, &one) != EXEC_OK)
		return EXEC_FAULT;
	if (!b)
		return exec_single(c, &one);
	if (cpu_debug_slow(c) || past_limit(c, b))
		return exec_single(c, &b->insns[0]);
	return run_block(c, b);
}

/* One step of the outer loop: find the block at RIP and run it. An
 * interrupt shadow (MOV SS, POP SS, STI) makes cpu_debug_slow() hold, so
 * the instruction it covers runs alone through step_debug. */
static enum exec_status step(struct cpu *c)
{
	struct block *b;
	struct insn one;
	if (__builtin_expect(cpu_debug_slow(c), 0))
		return step_debug(c);
	if (find_block(c, &b, &one) != EXEC_OK)
		return EXEC_FAULT;
	if (__builtin_expect(!b, 0))
		return exec_single(c, &one);
	if (__builtin_expect(past_limit(c, b), 0))
		return exec_single(c, &b->insns[0]);
	return run_block(c, b);
}

/* Events at an instruction boundary, in the priority order of SDM vol. 3A
 * 6.9 (Table 6-2): INIT, then traps of the previous instruction (pending
 * debug exceptions, which step_debug delivers at this boundary), then NMI,
 * then maskable interrupts. In VMX non-root operation the VM exits of SDM
 * vol. 3C 25.2 and 25.5 take their places in that order (vmx/pending.c:
 * MTF before the traps; the preemption timer and NMI window before NMIs;
 * interrupt window and external-interrupt exiting before maskable
 * interrupts). Returns false when delivery ended in shutdown. */
static bool boundary_events(struct cpu *c)
{
	/* APIC-write emulation after a virtualized write to the APIC-access
	 * page goes before SMIs, INIT and everything lower (SDM vol. 3C
	 * 29.4.3.2: vmx/apicv.c). */
	if (__builtin_expect(vmx_apic_write_due(&c->vmx), 0) && vmx_apic_write_emulate(c))
		return true;
	/* In VMX non-root operation INIT and SIPI are VM exits, or held or
	 * discarded (SDM vol. 3C 25.2, 26.6.2: vmx/events.c). */
	if (__builtin_expect(c->vmx.nonroot, 0) && (c->init_pending | (c->sipi_vector >= 0)) && vmx_init_sipi(c))
		return true;
	/* INIT stays latched while VMX root operation blocks it (SDM vol. 3C 23.8). */
	if (c->init_pending && !vmx_init_blocked(&c->vmx)) {
		c->init_pending = false;
		cpu_init_state(c);
		c->wait_sipi = !(c->msr.apic_base & APIC_BASE_BSP);
		c->sipi_vector = -1;
	}
	if (c->sipi_vector >= 0) {
		uint8_t v = (uint8_t)c->sipi_vector;
		c->sipi_vector = -1;
		if (c->wait_sipi) {
			/* Start-up: real mode at vector:0000, CS.base = vector << 12 (8.4.4.1). */
			c->wait_sipi = false;
			c->seg[SEG_CS].sel = (uint16_t)(v << 8);
			c->seg[SEG_CS].base = (uint64_t)v << 12;
			c->rip = 0;
		}
	}
	if (c->wait_sipi)
		return true;    /* NMI and INTR are held while waiting for SIPI */
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_boundary_high(c))
		return true;
	/* A debug trap of the previous instruction goes first (Table 6-2). */
	if (c->pending_dbg && !c->mov_ss_shadow)
		return true;
	/* MOV SS / POP SS hold NMIs until after the next instruction (6.8.3). */
	if (c->nmi_pending && !c->nmi_blocked && !c->mov_ss_shadow) {
		if (!cpu_service_nmi(c))
			return false;
		vmx_boundary_delivered(c);
		return true;
	}
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_boundary_low(c))
		return true;
	if (c->intr_req && (c->rflags & FL_IF) && !c->sti_shadow && !c->mov_ss_shadow) {
		if (!cpu_service_intr(c))
			return false;
		vmx_boundary_delivered(c);
	}
	return true;
}

enum cpu_stop cpu_run(struct cpu *c, uint64_t deadline)
{
	c->run_deadline = deadline;
	c->probe_break = 0;
	for (;;) {
		if (c->shutdown)
			return CPU_STOP_SHUTDOWN;
		if (__builtin_expect(c->nmi_pending | c->intr_req | c->init_pending | c->wait_sipi |
				     (c->sipi_vector >= 0) | c->vmx.bnd.watch | c->probe_halt, 0)) {
			/* A host observer (cpu/probe.h) asked to stop after the
			 * last instruction, before this boundary's events. */
			if (c->probe_break) {
				c->probe_break = 0;
				return CPU_STOP_DEADLINE;
			}
			/* It stopped at this boundary, whose events were delivered
			 * then: run the instruction (step_debug clears the flag;
			 * an observer no longer stepping leaves that to us). */
			if (c->probe_parked) {
				c->probe_parked = c->probe_step;
				goto execute;
			}
			if (!boundary_events(c))
				return CPU_STOP_TRIPLE_FAULT;
		}
		/* A sleeping CPU returns at once (the scheduler lets its clock
		 * run on: time passes in HLT and wait-for-SIPI). A pending debug
		 * exception (single-step after HLT) wakes a halted CPU at once
		 * (vol. 2 HLT); so does, in VMX non-root operation, the
		 * preemption timer reaching 0 before the deadline (a VM exit). */
		if (__builtin_expect(c->halted | c->wait_sipi, 0)) {
			if (c->wait_sipi || !c->pending_dbg) {
				if (c->vmx.bnd.watch && vmx_halted_timer(c, c->run_deadline))
					continue;
				return CPU_STOP_HALTED;
			}
		} else if (c->cycles >= c->run_deadline) {
			return CPU_STOP_DEADLINE;
		}
execute:;
		enum exec_status st = step(c);
		if (st == EXEC_FAULT && !cpu_deliver_exception(c))
			return CPU_STOP_TRIPLE_FAULT;
		if (st == EXEC_HALT)
			c->halted = true;
	}
}
