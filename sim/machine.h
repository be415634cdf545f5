/* The machine: guest RAM, the port-I/O bus, the decoded-instruction cache,
 * the vCPUs, the PC devices QEMU test kernels expect, and the loop that runs
 * them until something ends the run.
 *
 * Devices: COM1 16550 UART at 0x3f8 (IRQ 4), isa-debug-exit at 0xf4, fw_cfg
 * at 0x510, ACPI PM block at 0x600. Only vCPU 0 runs; the others are built
 * and parked until SMP start-up is modelled.
 *
 * Serial input from stdin (-serial stdio) is delivered between scheduler
 * rounds at a simulated cycle that --record writes down and --replay
 * reproduces (sim/input.h). Everything else depends only on simulated cycles.
 */
#ifndef SIM_MACHINE_H
#define SIM_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu/cpu.h"
#include "cpu/model.h"
#include "devices/device.h"
#include "mem/phys.h"
#include "mem/pio.h"
#include "sim/clock.h"
#include "sim/input.h"
#include "sim/multiboot.h"
#include "sim/platform.h"
#include "sim/sched.h"

#define MACHINE_RAM_MB_MIN 2
#define MACHINE_RAM_MB_MAX 4096
#define MACHINE_SMP_MAX 64

#define COM1_BASE 0x3f8
#define COM1_IRQ 4
#define DEBUG_EXIT_PORT 0xf4
#define ACPI_PM_BASE 0x600

enum serial_mode { SERIAL_STDIO, SERIAL_FILE, SERIAL_NONE };

/* What to build. Strings are borrowed: they must outlive the machine. */
struct machine_config {
	uint32_t ram_mb;
	int smp;
	const char *cpu_model;          /* -cpu MODEL[,+FLAG,-FLAG...] (sim/cpu_spec.h); NULL: the default model */
	const char *kernel;
	const char *append;             /* NULL: none */
	const char *const *modules;     /* -initrd elements, "<file>[ <args>]" */
	int nmodules;
	enum serial_mode serial;
	const char *serial_path;        /* SERIAL_FILE */
	bool no_reboot;
	uint64_t max_cycles;            /* 0: unlimited */
	uint64_t seed;                  /* RDRAND/RDSEED streams derive from it */
	bool stats;                     /* print retired instructions and cycles at the end */
	const char *record_path;        /* --record: external input log to write */
	const char *replay_path;        /* --replay: external input log to deliver */
	bool display;                   /* -display sdl: an SDL window shows the VGA screen */
	int64_t rtc_base;               /* -rtc base=: the RTC's time (Unix seconds, UTC) at cycle 0 */
	bool trace_vmx;                 /* --trace vmx: VM entries, exits and failed checks on stderr */
};

/* Defaults: 256 MiB, 1 CPU, default model, serial on stdio. */
void machine_config_init(struct machine_config *cfg);

enum machine_result {
	MACHINE_DEBUG_EXIT,     /* the guest wrote exit.value to isa-debug-exit */
	MACHINE_POWER_OFF,      /* ACPI S5 */
	MACHINE_RESET,          /* the guest asked for a reset under -no-reboot */
	MACHINE_TRIPLE_FAULT,   /* under -no-reboot; otherwise the machine resets */
	MACHINE_CYCLE_LIMIT,
	MACHINE_HALTED_FOREVER, /* every vCPU in HLT and nothing can wake one */
	MACHINE_INTERNAL_ERROR,
	MACHINE_VMX_ABORT,      /* under -no-reboot: a VMX abort (SDM vol. 3C 27.7) shut a vCPU down; value = its code */
};

struct machine_exit {
	enum machine_result result;
	uint32_t value;         /* DEBUG_EXIT; VMX_ABORT: the VMX-abort indicator */
	int cpu;                /* the vCPU concerned, or -1 */
	uint64_t cycle;         /* simulated time of the event */
	uint64_t rip;
	bool if_set;            /* HALTED_FOREVER: that vCPU's RFLAGS.IF */
	char detail[200];       /* INTERNAL_ERROR */
};

/* The kernel and modules as read from disk, kept to reload on reset. */
struct machine_image {
	uint8_t *kernel;
	size_t kernel_size;
	struct mb_module *modules;
	char **module_paths;
	int nmodules;
	bool loaded;
};

struct machine {
	struct machine_config cfg;
	const struct cpu_model *model;  /* &model_row: every CPU points at it */
	struct cpu_model model_row;     /* the -cpu model row with its feature flags applied */
	struct phys_map phys;
	bool phys_ready;
	struct pio_bus *pio;
	struct icache *icache;
	struct cpu *cpus;
	int ncpus;
	struct clock clock;
	bool clock_ready;
	struct sched sched;

	struct uart16550 *uart;
	struct debugexit *debugexit;
	struct fwcfg *fwcfg;
	struct acpi_pm *acpi_pm;
	struct platform plat;
	struct char_backend serial;
	FILE *serial_file;
	bool stdin_live;                /* -serial stdio, not replaying: stdin feeds COM1 */
	bool stdin_eof;
	struct input input;
	bool input_ready;
	struct display *display;        /* -display sdl, or NULL */
	uint64_t display_ns;            /* host time of the last refresh (pacing only) */
	struct power_sink power;

	bool power_pending;
	enum power_event power_ev;
	uint32_t power_value;
	uint64_t resets;                /* resets done (triple faults, reset requests) */

	struct machine_image image;
	struct machine_exit exit;

	/* A vCPU entered shutdown (triple fault, VMX abort): true holds the
	 * machine there for a look (the debugger, sim/debug.c); the next
	 * round acts on it. NULL: act at once. */
	bool (*shutdown_hook)(void *ctx, struct cpu *c);
	void *shutdown_ctx;
};

/* Build a machine; NULL with a one-line message on a bad configuration or a
 * host failure (RAM allocation, the serial file). */
struct machine *machine_create(const struct machine_config *cfg, char *err, size_t errlen);
void machine_destroy(struct machine *m);

/* Read cfg->kernel and cfg->modules, load them (multiboot 1) and put vCPU 0
 * in the multiboot entry state. 0, or -1 with a message naming the file. */
int machine_load(struct machine *m, char *err, size_t errlen);

/* Run until the run ends; details in m->exit. */
enum machine_result machine_run(struct machine *m);

/* machine_run in pieces, for the debugger: one scheduler round (true when
 * the run is over), then machine_end once (flushes output, finishes the
 * input log). A SCHED_LIMIT below cfg.max_cycles (a debugger's cycle
 * target set in sched.limit) ends the round only. */
bool machine_step(struct machine *m);
enum machine_result machine_end(struct machine *m);

#endif
