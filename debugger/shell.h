/* The debugger shell (docs/debugger.md): one command table per module,
 * one dispatcher, output to a FILE so the same commands serve the
 * terminal, scripts and the GDB stub's `monitor` (qRcmd).
 *
 * debugger/ sees the machine only through sim/debug_api.h and read-only
 * views of state (struct cpu through dbg_cpu, the VMCS field and entry
 * check tables), as ARCHITECTURE.md says.
 */
#ifndef DEBUGGER_SHELL_H
#define DEBUGGER_SHELL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/debug_api.h"

struct shell;
struct symtab;

/* A command. fn returns 0, or -1 after printing one line that says what
 * was wrong and how to write it. argv[0] is the command name. */
struct shell_cmd {
	const char *name;
	const char *args;       /* synopsis of the arguments, "" for none */
	const char *summary;    /* one line for `help` */
	const char *help;       /* the whole text for `help NAME` (NULL: the summary) */
	int (*fn)(struct shell *sh, int argc, char **argv);
};

/* The modules' tables, each ended by a row with name NULL. The list of
 * tables is in debugger/shell.c (shell_tables). */
extern const struct shell_cmd shell_cmds_core[];
extern const struct shell_cmd shell_cmds_forensics[];
extern const struct shell_cmd shell_cmds_run[];         /* debugger/run_cmds.c */
extern const struct shell_cmd shell_cmds_regs[];        /* debugger/regs_cmds.c */
extern const struct shell_cmd shell_cmds_vmx[];          /* debugger/vmx_cmds.c */
extern const struct shell_cmd shell_cmds_mem[];         /* debugger/mem_cmds.c */

struct shell_opts {
	const char *script;             /* --debug-script FILE, or NULL */
	const char *const *cmds;        /* --debug-cmd, in order */
	int ncmds;
	const char *kernel;             /* the kernel image, for its ELF symbols */
};

/* out: where command output goes (stdout, a memstream for qRcmd). */
struct shell *shell_create(struct dbg *d, FILE *out, const char *kernel);
void shell_destroy(struct shell *sh);

/* Run one command line (blank and '#' lines do nothing): 0 or -1. */
int shell_exec(struct shell *sh, const char *line);

/* The session: the script, the --debug-cmd commands, then the prompt on
 * stdin until `quit` or end of input (docs/debugger.md says what each
 * ends with). The process exit status. */
int shell_main(struct dbg *d, const struct shell_opts *o);

struct dbg *shell_dbg(struct shell *sh);
FILE *shell_out(struct shell *sh);
void shell_set_out(struct shell *sh, FILE *out);
int shell_cpu(const struct shell *sh);          /* the selected vCPU (`cpu N`) */
void shell_set_cpu(struct shell *sh, int cpu);
struct symtab *shell_symbols(struct shell *sh); /* the kernel's symbols, or NULL */
bool shell_quit_requested(const struct shell *sh);
void shell_request_quit(struct shell *sh);

/* A number: decimal, 0x hex, a register of the selected vCPU ($rax or
 * rax), or a symbol of the kernel. False with a message printed. */
bool shell_number(struct shell *sh, const char *s, uint64_t *v);

/* Print an error line ("error: ...") to the shell's output; returns -1. */
int shell_error(struct shell *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Commands a module adds to completion (VMCS field names...). */
typedef void (*shell_complete_fn)(const char *prefix, void (*add)(void *ctx, const char *word), void *ctx);

/* ---- the stop report and conditions (debugger/run_cmds.c) ---- */

/* "0x%016llx <symbol+off>" (the symbol part when there is one). */
void shell_print_addr(struct shell *sh, uint64_t a);
/* The report of a stop: one line saying why, then the next instruction. */
void shell_report_stop(struct shell *sh, const struct dbg_stop *st);
/* The dbg_cond_fn the shell installs: ctx is the shell. */
bool shell_condition(void *ctx, struct dbg *d, int cpu, const char *cond);

#endif
