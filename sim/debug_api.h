/* The debug API: what debugger/ (the shell, the GDB stub) and the trace
 * writer use to stop, step, inspect and change a machine (ARCHITECTURE.md:
 * debugger/ includes this header and read-only views of state; the core
 * never calls into debugger/). It sits on the CPU probes (cpu/probe.h).
 *
 * One struct dbg per machine. Attached, it watches every vCPU's events;
 * it makes the CPUs run one instruction at a time only while something
 * needs boundaries (an address breakpoint, a step, a VMX-instruction
 * breakpoint, a cycle target), and sends data accesses to the slow path
 * only while a watchpoint exists. The guest never sees any of it: the run
 * is the same instructions at the same cycles as without the debugger.
 *
 * Where a stop happens:
 * - at an instruction boundary, before the instruction at RIP runs, after
 *   the boundary's interrupts were delivered: address breakpoints, steps,
 *   cycle targets, VMX-instruction breakpoints, Ctrl-C;
 * - after the instruction that caused an event completed (and the
 *   delivery of its fault): exception/interrupt delivery, I/O, MSR,
 *   VM entry, VM-entry failure, VM exit, injection, watchpoints;
 * - on a triple fault or VMX abort, before vtxsim resets or ends the run;
 * - when the run is over (debug exit, power off, cycle limit...).
 */
#ifndef SIM_DEBUG_API_H
#define SIM_DEBUG_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/cpu.h"
#include "cpu/probe.h"

struct machine;
struct dbg;

/* ---- attaching ---- */

/* NULL when out of memory. The machine must have been loaded. */
struct dbg *dbg_create(struct machine *m);
void dbg_destroy(struct dbg *d);
struct machine *dbg_machine(struct dbg *d);
int dbg_ncpus(const struct dbg *d);
/* Read-only view of vCPU i (registers, VMX state, ...). Change state
 * through the dbg_*_write functions only. */
const struct cpu *dbg_cpu(const struct dbg *d, int i);
/* Global simulated time (cycles), and vCPU i's view of it. */
uint64_t dbg_now(const struct dbg *d);
uint64_t dbg_cpu_time(const struct dbg *d, int i);

/* ---- breakpoints ---- */

enum dbg_bp_kind {
	DBG_BP_LINEAR,          /* addr = linear address of an instruction (CS.base + RIP) */
	DBG_BP_PHYS,            /* addr = physical address of an instruction (after EPT in non-root) */
	DBG_BP_GPA,             /* addr = guest-physical address of an instruction, in non-root with EPT */
	DBG_BP_WATCH,           /* linear range [addr, addr + len), access DBG_W_READ | DBG_W_WRITE */
	DBG_BP_EXCEPTION,       /* code = vector delivered through the IDT, or the vector of an
				 * exception (reason 0) VM exit; -1 = any */
	DBG_BP_IO,              /* ports [addr, addr + len) (len 0 = 1), access */
	DBG_BP_MSR,             /* addr = MSR index, access */
	DBG_BP_VMEXIT,          /* code = basic exit reason, -1 = any */
	DBG_BP_VMENTRY,         /* a successful VM entry */
	DBG_BP_VMENTRY_FAIL,    /* a failed VM entry: VMfail, or exit reason 33/34 */
	DBG_BP_VMX_INSN,        /* before a VMX instruction: code = its exit-reason number
				 * (EXIT_REASON_VMLAUNCH...), -1 = any */
	DBG_BP_INJECT,          /* VM entry injects an event: code = vector, -1 = any */
	DBG_BP_KIND_COUNT
};
#define DBG_W_READ 1u
#define DBG_W_WRITE 2u

#define DBG_COND_MAX 160
struct dbg_bp {
	int id;                 /* > 0, set by dbg_bp_add */
	enum dbg_bp_kind kind;
	int cpu;                /* -1: any vCPU */
	uint64_t addr, len;
	unsigned access;        /* DBG_W_*; 0 = both */
	int32_t code;
	bool enabled;
	bool temporary;         /* the client deletes it once it stopped the run (tbreak, next) */
	/* Stop only when this expression is true (dbg_set_condition_fn
	 * evaluates it; "" = always). */
	char cond[DBG_COND_MAX];
	uint64_t hits;          /* times it matched and its condition held */
};

/* The id (> 0), or -1 when the table is full or the kind is bad. */
int dbg_bp_add(struct dbg *d, const struct dbg_bp *bp);
bool dbg_bp_delete(struct dbg *d, int id);
struct dbg_bp *dbg_bp_find(struct dbg *d, int id);
/* The breakpoints in id order: *n of them. */
const struct dbg_bp *dbg_bp_list(const struct dbg *d, int *n);

/* Conditions: fn(ctx, d, cpu, cond) says whether cond holds now, on that
 * vCPU stopped at the event dbg_last_event() describes. */
typedef bool (*dbg_cond_fn)(void *ctx, struct dbg *d, int cpu, const char *cond);
void dbg_set_condition_fn(struct dbg *d, dbg_cond_fn fn, void *ctx);

/* ---- running ---- */

enum dbg_stop_kind {
	DBG_STOP_STEP,          /* the steps asked for are done */
	DBG_STOP_BREAK,         /* breakpoint bp */
	DBG_STOP_INTERRUPT,     /* dbg_interrupt (Ctrl-C) */
	DBG_STOP_CYCLE,         /* the cycle target was reached */
	DBG_STOP_SHUTDOWN,      /* a vCPU triple-faulted or VMX-aborted; continuing resets or ends */
	DBG_STOP_END,           /* the run is over: machine->exit says how */
};

struct dbg_stop {
	enum dbg_stop_kind kind;
	int cpu;                /* the vCPU concerned, or -1 */
	int bp;                 /* DBG_STOP_BREAK: the breakpoint's id */
	bool has_event;         /* the stop came from an event: ev */
	struct probe_event ev;
	uint64_t cycle;         /* global time */
};

struct dbg_run {
	int cpu;                /* the vCPU steps count on */
	uint64_t steps;         /* stop after this many instruction boundaries on cpu (0: no limit) */
	uint64_t until_cycle;   /* stop when global time reaches it (0: none) */
	/* Check breakpoints also at the boundary where the last stop, an
	 * event of that vCPU, left it (otherwise it is stepped over, as gdb
	 * steps over the breakpoint at its PC). Breakpoints always apply where
	 * a cycle target or Ctrl-C between rounds left the vCPUs. */
	bool every_boundary;
};

/* Run the machine until a stop; *out says why. A run that is over stays
 * over (DBG_STOP_END at once). */
void dbg_resume(struct dbg *d, const struct dbg_run *r, struct dbg_stop *out);
/* From a signal handler or another thread: stop at the next boundary. */
void dbg_interrupt(struct dbg *d);
/* The stop before (what conditions and the shell read). */
const struct dbg_stop *dbg_last_stop(const struct dbg *d);
const struct probe_event *dbg_last_event(const struct dbg *d);
bool dbg_run_over(const struct dbg *d);

/* Events seen during the last dbg_resume (VM entries, exits, deliveries,
 * injections; not I/O, MSR, data or VMX-instruction outcomes), oldest first, at most
 * DBG_EVENT_LOG: what "stepping across a VM entry reports". */
#define DBG_EVENT_LOG 64
struct dbg_logged {
	int cpu;
	uint64_t cycle;
	struct probe_event ev;
};
const struct dbg_logged *dbg_event_log(const struct dbg *d, int *n);

/* A tap: fn sees every event of every vCPU as it happens (I/O, MSR and
 * data accesses included), with the vCPU's global time; with insns, also
 * every instruction boundary (e == NULL: the instruction at RIP is about
 * to run; the CPUs then run one instruction at a time). The trace writer
 * (sim/trace.c) and the run-result collector (sim/result.c) are taps; up
 * to DBG_TAP_MAX at once, called in the order they were added.
 * dbg_add_tap: 0, or -1 when fn is NULL or DBG_TAP_MAX taps are there.
 * dbg_remove_tap removes the tap (fn, ctx) added before. */
#define DBG_TAP_MAX 4
typedef void (*dbg_tap_fn)(void *ctx, struct cpu *c, uint64_t cycle, const struct probe_event *e);
int dbg_add_tap(struct dbg *d, dbg_tap_fn fn, void *ctx, bool insns);
void dbg_remove_tap(struct dbg *d, dbg_tap_fn fn, void *ctx);

/* ---- VMX history ---- */

/* The last DBG_EXIT_RING VM exits of each vCPU. */
#define DBG_EXIT_RING 256
struct dbg_exit_rec {
	uint32_t reason;        /* full exit reason (bit 31: VM-entry failure) */
	uint64_t qual;
	uint32_t intr_info;     /* exit-interruption information */
	uint64_t guest_rip;
	uint64_t cycle;         /* vCPU cycle of the exit */
	uint64_t guest_cycles;  /* cycles in the guest since the VM entry it ended */
};
/* The k-th most recent exit of vCPU cpu (k = 0: the last), NULL past the end. */
const struct dbg_exit_rec *dbg_exit_get(const struct dbg *d, int cpu, unsigned k);

/* Per basic exit reason, per vCPU: count, cycles spent in the guest before
 * those exits, cycles spent in the host handling them (exit to next entry). */
#define DBG_REASONS 80
struct dbg_exit_stat {
	uint64_t count, guest_cycles, host_cycles;
};
const struct dbg_exit_stat *dbg_exit_stats(const struct dbg *d, int cpu);
/* Those DBG_REASONS rows as a table on o (sim/debug_vmx.c): "title:",
 * then per reason with exits count, guest cycles, host cycles (each with
 * its share of the total) and the reason, then the totals. What the
 * shell's `vmx stats` and `--exit-summary` print. */
void dbg_print_exit_stats(FILE *o, const char *title, const struct dbg_exit_stat *s);

/* Every VMCS field as the last successful VM entry of vCPU cpu loaded it,
 * by enum vmcs_field (vmx/vmcs.h); false when there was none, or when
 * snapshots are off. They are off unless dbg_keep_entry_vmcs turned them
 * on: a copy of every field at each VM entry is what an interactive
 * session wants (`vmcs diff`) and a traced or tested run does not pay for. */
void dbg_keep_entry_vmcs(struct dbg *d, bool on);
bool dbg_vmcs_at_entry(const struct dbg *d, int cpu, uint64_t vmcs_ptr, uint64_t *values, int nvalues);

/* ---- state ---- */

/* Registers by name, as the shell and the GDB stub spell them: rax..r15,
 * rip, rflags, cs/ss/ds/es/fs/gs (selectors), fs_base, gs_base,
 * kernel_gs_base, cr0, cr2, cr3, cr4, cr8, efer, dr0-dr3, dr6, dr7. Names
 * are case-insensitive. A write to a control register or segment
 * selector keeps the CPU's caches coherent (mode, TLB, decode). */
bool dbg_reg_read(const struct dbg *d, int cpu, const char *name, uint64_t *v);
bool dbg_reg_write(struct dbg *d, int cpu, const char *name, uint64_t v);

/* Physical memory (RAM and ROM; MMIO is not read, to spare its side
 * effects): bytes copied, stopping at the first byte that is not memory. */
size_t dbg_read_phys(struct dbg *d, uint64_t pa, void *buf, size_t n);
size_t dbg_write_phys(struct dbg *d, uint64_t pa, const void *buf, size_t n);

/* The VMCS of vCPU cpu (its current VMCS): false when there is none or
 * the encoding is not a field. A write goes to memory as VMWRITE's would
 * (read-only fields too: it is the debugger's choice). */
bool dbg_vmcs_read(struct dbg *d, int cpu, uint32_t enc, uint64_t *v);
bool dbg_vmcs_write(struct dbg *d, int cpu, uint32_t enc, uint64_t v);

/* ---- forensics (sim/forensics.c) ---- */

#include <stdio.h>

/* The triple-fault / VMX-abort report of vCPU cpu on out (sim/forensics.h):
 * the fault chain, the CPU mode, the VMX state. What vtxsim prints at a
 * shutdown without the debugger; the shell prints it at a
 * DBG_STOP_SHUTDOWN stop. Any state can be looked at this way. */
void dbg_forensics(struct dbg *d, int cpu, FILE *out);
/* ---- shell (sim/debug_shell.c) ---- */

/* Up to n bytes of the instruction at vCPU cpu's RIP, as its fetch is
 * about to read them, and *la its linear address: how many (0: not
 * fetchable). Only for the instruction at RIP: the fetch's translation
 * side effects are the ones the fetch right after has anyway. */
size_t dbg_code_at_rip(struct dbg *d, int cpu, uint64_t *la, uint8_t *buf, size_t n);
/* The length of the CALL at RIP (near or far, relative or indirect), 0
 * when the instruction there is no CALL: what `next` steps over. */
unsigned dbg_call_len_at_rip(struct dbg *d, int cpu);
/* Once dbg_run_over(): the process exit status the run gives without the
 * debugger (cli_exit_status) and the line that explains it. */
int dbg_end_status(const struct dbg *d);
void dbg_end_message(const struct dbg *d, char *buf, size_t n);

/* ---- VMX views (sim/debug_vmx.c) ---- */

struct vmx_lint_item;
/* `vmx lint`: every VM-entry check of vCPU cpu's current VMCS, without
 * entering and without changing anything (vmx/lint.h): the failing rows
 * in table order into out (at most max); their number, or -1 for a bad
 * cpu. */
int dbg_vmx_lint(struct dbg *d, int cpu, struct vmx_lint_item *out, int max);

/* ---- memory and machine inspection (sim/debug_inspect.c) ---- */
/* Side-effect-free walks (mem/walkview.h): no accessed/dirty flag, PML
 * entry, TLB or cache changes, no MMIO read. */
#include <stdio.h>

#include "mem/walkview.h"

/* The page walk of la by vCPU cpu as it translates now (its CR0/CR3/CR4/
 * EFER, PDPTE registers, EPT in non-root operation): true when it maps. */
bool dbg_translate(struct dbg *d, int cpu, uint64_t la, struct wv_walk *w);
/* The EPT walk of gpa: under eptp, or (eptp 0) the EPTP vCPU cpu uses in
 * non-root operation, else the EPT pointer of its current VMCS. False
 * with e->n = 0 and no walk when there is no EPTP (*eptp_used = 0). */
bool dbg_ept_walk(struct dbg *d, int cpu, uint64_t gpa, uint64_t eptp, struct wv_ept *e, uint64_t *eptp_used);
/* Linear memory of vCPU cpu through the walk (RAM and ROM only): bytes
 * copied, stopping at the first byte that does not translate or is not
 * memory; *fail (may be NULL) then holds the walk of that byte. */
size_t dbg_read_linear(struct dbg *d, int cpu, uint64_t la, void *buf, size_t n, struct wv_walk *fail);
size_t dbg_write_linear(struct dbg *d, int cpu, uint64_t la, const void *buf, size_t n, struct wv_walk *fail);
/* Devices by name ("uart", "pic", "pit", "rtc", "ioapic", "lapic"...):
 * the dump of one (false: no such device), or of all (name NULL). */
bool dbg_dump_devices(struct dbg *d, FILE *out, const char *name);
/* The i-th device name, NULL past the end (for `help devices`, completion). */
const char *dbg_device_name(int i);
/* The local APIC of vCPU cpu: ID, TPR/PPR, IRR/ISR/TMR, LVT, timer.
 * False when it has none. */
bool dbg_dump_lapic(struct dbg *d, int cpu, FILE *out);

/* ---- the GDB stub (sim/debug_gdb.c) ---- */

/* How the run ended, once dbg_run_over(): the process exit status
 * (sim/cli.h) and the one line vtxsim prints for it ("" for a debug
 * exit, whose status says it all). */
int dbg_exit_status(const struct dbg *d);
void dbg_exit_message(const struct dbg *d, char *buf, size_t len);
/* Replace vCPU cpu's x87/SSE registers (gdb's G and P packets). */
bool dbg_fpu_write(struct dbg *d, int cpu, const struct fpu_state *f);

#endif
