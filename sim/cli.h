/* The command line: QEMU's options where the idea is the same (-kernel,
 * -append, -initrd, -m, -smp, -cpu, -serial, -no-reboot) plus vtxsim's own
 * long options. cli_parse() only fills a struct: no I/O, no exits, so tests
 * drive it directly. Messages come back without the "vtxsim: " prefix that
 * main() adds. docs/user-guide.md is the user's reference.
 */
#ifndef SIM_CLI_H
#define SIM_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "sim/machine.h"

#ifndef VTXSIM_VERSION
#define VTXSIM_VERSION "0.1.0"
#endif

/* Process exit statuses (also in -h and docs/user-guide.md). A debug-exit write of
 * v ends the process with (v << 1) | 1, truncated to 8 bits. */
enum {
	CLI_EXIT_POWER_OFF = 0,
	CLI_EXIT_USAGE = 2,             /* bad command line, or an unloadable image / host error */
	CLI_EXIT_TRIPLE_FAULT = 4,
	CLI_EXIT_CYCLE_LIMIT = 6,
	CLI_EXIT_HALTED = 8,
	CLI_EXIT_INTERNAL = 10,
	CLI_EXIT_VMX_ABORT = 12,        /* a VMX abort shut a vCPU down (with -no-reboot) */
};

enum cli_action { CLI_RUN, CLI_HELP, CLI_VERSION, CLI_CPU_HELP, CLI_VMCS_LAYOUT };

/* -display: where the VGA text screen goes (QEMU's spelling). */
enum cli_display { CLI_DISPLAY_NONE, CLI_DISPLAY_SDL };

struct cli {
	enum cli_action action;
	struct machine_config cfg;      /* cfg.modules points into modules below */
	char **modules;                 /* -initrd elements, split and unescaped */
	int nmodules;
	enum cli_display display;       /* default CLI_DISPLAY_NONE */
	const char *screen_dump;        /* --screen-dump FILE: VGA text written at exit, or NULL */
	/* The debugger (docs/debugger.md): --debug / -S opens the shell
	 * stopped before the first instruction; --debug-script and
	 * --debug-cmd (repeatable, in order, after the script) feed it
	 * commands and imply --debug. */
	bool debug;
	const char *debug_script;
	const char **debug_cmds;
	int ndebug_cmds;
	/* -s / -gdb tcp::PORT: serve the GDB remote protocol on
	 * 127.0.0.1:gdb_port (0: any free port), stopped before the first
	 * instruction (docs/debugger.md, "The GDB stub"). */
	bool gdb;
	int gdb_port;
	/* --trace CATS (sim/trace.h TRACE_* bits; 0 = no JSON trace: `--trace
	 * vmx` alone sets cfg.trace_vmx instead) and --trace-file (NULL: stderr). */
	unsigned trace_cats;
	const char *trace_file;
	/* --result FILE: the run result for vtxsim test (sim/result.h), or
	 * NULL. Not with --debug or -gdb. */
	const char *result_file;
	/* --explain: narrate VM entries and exits on stderr; --exit-summary:
	 * VM exits by reason with cycles at the end (sim/explain.h). */
	bool explain;
	bool exit_summary;
};

/* 0, or -1 with a one-line message naming the option and the fix (exit with
 * CLI_EXIT_USAGE). Call cli_free() in both cases. */
int cli_parse(struct cli *cl, int argc, char *const argv[], char *err, size_t errlen);
void cli_free(struct cli *cl);

void cli_print_help(FILE *out);
void cli_print_version(FILE *out);
void cli_print_cpu_models(FILE *out);

/* The process exit status for how a run ended. */
int cli_exit_status(const struct machine_exit *e);
/* The one line (without "vtxsim: ") explaining how a run ended, or "" for a
 * debug exit, whose status says it all. */
void cli_exit_message(const struct machine_exit *e, const struct machine_config *cfg, char *buf,
		      size_t len);

#endif
