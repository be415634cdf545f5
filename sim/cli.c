/* Command-line parsing and the user-facing text about a run. One table of
 * options drives the parser and -h. */
#include "sim/cli.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/model.h"
#include "devices/rtc.h"
#include "vmx/vmx.h"
#include "sim/cpu_spec.h"
#include "sim/trace.h"

/* Returns 0 to go on, 1 to stop parsing (help, version), -1 on error. */
typedef int (*cli_handler_fn)(struct cli *cl, const char *opt, const char *arg, char *err,
			      size_t errlen);

struct cli_option {
	const char *name;               /* as shown in -h; -name and --name both work */
	const char *arg;                /* argument placeholder, NULL for a flag */
	cli_handler_fn handler;
	const char *help;
};

static int cli_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int cli_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Decimal, or hexadecimal with 0x; the whole string, no sign, no overflow. */
static bool cli_parse_u64(const char *s, uint64_t *v, const char **end)
{
	int base = 10;
	uint64_t x = 0;
	const char *p = s;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && p[2]) {
		base = 16;
		p += 2;
	}
	const char *digits = p;
	for (;; p++) {
		int d = *p >= '0' && *p <= '9' ? *p - '0' :
			base == 16 && *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 :
			base == 16 && *p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : -1;
		if (d < 0)
			break;
		if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return false;
		x = x * (uint64_t)base + (uint64_t)d;
	}
	*v = x;
	*end = p;
	return p != digits;
}

static bool cli_number(const char *s, uint64_t *v)
{
	const char *end;

	return cli_parse_u64(s, v, &end) && *end == 0;
}

/* ---- option handlers ---- */

static int opt_kernel(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	if (!*arg)
		return cli_fail(err, errlen, "%s: empty file name; give the multiboot kernel to boot", opt);
	cl->cfg.kernel = arg;
	return 0;
}

static int opt_append(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	(void)opt, (void)err, (void)errlen;
	cl->cfg.append = arg;
	return 0;
}

static int cli_add_module(struct cli *cl, const char *start, size_t len)
{
	char **v = realloc(cl->modules, sizeof(*v) * (size_t)(cl->nmodules + 1));
	char *s = malloc(len + 1);

	if (v)
		cl->modules = v;
	if (!v || !s) {
		free(s);
		return -1;
	}
	size_t n = 0;
	for (size_t i = 0; i < len; i++, n++) {
		s[n] = start[i];
		if (start[i] == ',')
			i++;            /* ",," is a literal comma */
	}
	s[n] = 0;
	cl->modules[cl->nmodules++] = s;
	return 0;
}

/* "file1 args,file2,file3 more args": elements split at single commas, as
 * QEMU splits its -initrd list; ",," stands for a comma inside an element. */
static int opt_initrd(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	const char *p = arg;

	for (;;) {
		const char *e = p;
		while (*e && !(e[0] == ',' && e[1] != ',')) {
			if (e[0] == ',')
				e++;    /* skip the second comma of ",," */
			e++;
		}
		if (e == p || *p == ' ')
			return cli_fail(err, errlen, "%s '%s': empty module file name; use "
					"-initrd \"file [args],file2 [args]\"", opt, arg);
		if (cli_add_module(cl, p, (size_t)(e - p)))
			return cli_fail(err, errlen, "%s: out of memory", opt);
		if (!*e)
			return 0;
		p = e + 1;
	}
}

static const struct {
	char suffix;
	unsigned shift;                 /* bytes = value << shift */
} cli_size_suffixes[] = {
	{ 'B', 0 }, { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 },
};

/* QEMU's -m: MiB by default, or a B/K/M/G/T suffix; "size=" may lead. */
static int opt_ram(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	const char *s = strncmp(arg, "size=", 5) == 0 ? arg + 5 : arg, *end;
	uint64_t v, bytes;
	unsigned shift = 20;

	if (!cli_parse_u64(s, &v, &end))
		return cli_fail(err, errlen, "%s '%s': not a size; give MiB, e.g. -m 512 or -m 1G", opt, arg);
	if (*end) {
		size_t i, n = sizeof(cli_size_suffixes) / sizeof(cli_size_suffixes[0]);
		for (i = 0; i < n && cli_size_suffixes[i].suffix != (*end & ~0x20); i++)
			;
		if (i == n || end[1])
			return cli_fail(err, errlen, "%s '%s': unknown size suffix; use M or G, e.g. -m 512M",
					opt, arg);
		shift = cli_size_suffixes[i].shift;
	}
	bytes = v << shift;
	if (v > (UINT64_MAX >> shift) || (bytes >> 20) > MACHINE_RAM_MB_MAX)
		return cli_fail(err, errlen, "%s '%s': at most %d MiB for now", opt, arg, MACHINE_RAM_MB_MAX);
	if (bytes & ((1u << 20) - 1))
		return cli_fail(err, errlen, "%s '%s': not a whole number of MiB", opt, arg);
	if ((bytes >> 20) < MACHINE_RAM_MB_MIN)
		return cli_fail(err, errlen, "%s '%s': at least %d MiB", opt, arg, MACHINE_RAM_MB_MIN);
	cl->cfg.ram_mb = (uint32_t)(bytes >> 20);
	return 0;
}

static int opt_smp(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	uint64_t n;

	if (!cli_number(arg, &n) || n < 1 || n > MACHINE_SMP_MAX)
		return cli_fail(err, errlen, "%s '%s': give a number of CPUs from 1 to %d", opt, arg,
				MACHINE_SMP_MAX);
	cl->cfg.smp = (int)n;
	return 0;
}

static int opt_cpu(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	if (strcmp(arg, "help") == 0 || strcmp(arg, "?") == 0) {
		cl->action = CLI_CPU_HELP;
		return 1;
	}
	struct cpu_model scratch;
	char why[256];

	if (cpu_spec_parse(arg, &scratch, NULL, NULL, why, sizeof(why)))
		return cli_fail(err, errlen, "%s '%s': %s", opt, arg, why);
	cl->cfg.cpu_model = arg;
	return 0;
}

static int opt_serial(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	if (strcmp(arg, "stdio") == 0) {
		cl->cfg.serial = SERIAL_STDIO;
	} else if (strcmp(arg, "none") == 0) {
		cl->cfg.serial = SERIAL_NONE;
	} else if (strncmp(arg, "file:", 5) == 0 && arg[5]) {
		cl->cfg.serial = SERIAL_FILE;
		cl->cfg.serial_path = arg + 5;
	} else {
		return cli_fail(err, errlen, "%s '%s': use stdio, file:PATH or none", opt, arg);
	}
	return 0;
}

/* QEMU's -display: only the SDL window and no display exist here. */
static int opt_display(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	if (strcmp(arg, "sdl") == 0)
		cl->display = CLI_DISPLAY_SDL;
	else if (strcmp(arg, "none") == 0)
		cl->display = CLI_DISPLAY_NONE;
	else
		return cli_fail(err, errlen, "%s '%s': use sdl or none", opt, arg);
	return 0;
}

static int opt_screen_dump(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	if (!*arg)
		return cli_fail(err, errlen, "%s: empty file name; give the file for the VGA text at exit", opt);
	cl->screen_dump = arg;
	return 0;
}

static int opt_no_reboot(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	(void)opt, (void)arg, (void)err, (void)errlen;
	cl->cfg.no_reboot = true;
	return 0;
}

static int opt_max_cycles(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	if (!cli_number(arg, &cl->cfg.max_cycles))
		return cli_fail(err, errlen, "%s '%s': give a number of cycles (0 = no limit)", opt, arg);
	return 0;
}

static int opt_seed(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	if (!cli_number(arg, &cl->cfg.seed))
		return cli_fail(err, errlen, "%s '%s': give an unsigned 64-bit number", opt, arg);
	return 0;
}

static int opt_stats(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	(void)opt, (void)arg, (void)err, (void)errlen;
	cl->cfg.stats = true;
	return 0;
}

/* --trace CATS (repeatable; categories add up) and --trace-file FILE
 * (docs/user-guide.md "Tracing"): the JSON trace writer (sim/trace.h). */
static int opt_trace(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	char bad[32];
	if (!trace_parse_categories(arg, &cl->trace_cats, bad, sizeof(bad)))
		return cli_fail(err, errlen, "%s '%s': unknown trace category '%s'; give a comma-separated list of %s",
				opt, arg, bad, trace_category_list());
	return 0;
}

static int opt_trace_file(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	if (!*arg)
		return cli_fail(err, errlen, "%s: empty file name; give the file to write the JSON trace to ('-': stderr)",
				opt);
	cl->trace_file = arg;
	return 0;
}

/* --result FILE (docs/user-guide.md "The run result"): sim/result.h. */
static int opt_result(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	if (!*arg)
		return cli_fail(err, errlen, "%s: empty file name; give the file to write the run result to", opt);
	cl->result_file = arg;
	return 0;
}

/* --explain and --exit-summary (docs/user-guide.md): sim/explain.h. */
static int opt_explain(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	(void)opt, (void)arg, (void)err, (void)errlen;
	cl->explain = true;
	return 0;
}

static int opt_exit_summary(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	(void)opt, (void)arg, (void)err, (void)errlen;
	cl->exit_summary = true;
	return 0;
}

/* `--trace vmx` alone, without --trace-file, keeps the human lines of
 * vmx/trace.c on stderr (and their JSON line for a failed check);
 * anything else is the JSON writer. */
static int cli_trace_finish(struct cli *cl, char *err, size_t errlen)
{
	if (cl->trace_file && !cl->trace_cats)
		return cli_fail(err, errlen, "--trace-file %s: no categories to trace; add --trace with some of %s",
				cl->trace_file, trace_category_list());
	if (cl->trace_cats == TRACE_VMX && !cl->trace_file) {
		cl->cfg.trace_vmx = true;
		cl->trace_cats = 0;
	}
	return 0;
}

/* QEMU's -rtc base=...: a fixed start time only (host time would make runs
 * differ). */
static int opt_rtc(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	if (strncmp(arg, "base=", 5) || rtc_parse_base(arg + 5, &cl->cfg.rtc_base))
		return cli_fail(err, errlen, "%s '%s': use base=YYYY-MM-DD or base=YYYY-MM-DDTHH:MM:SS (UTC); "
				"host time (utc, localtime) is not offered: runs must repeat", opt, arg);
	return 0;
}

static int opt_record(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	if (!*arg)
		return cli_fail(err, errlen, "%s: empty file name; give the file to write the input log to", opt);
	cl->cfg.record_path = arg;
	return 0;
}

static int opt_replay(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	if (!*arg)
		return cli_fail(err, errlen, "%s: empty file name; give a file written by --record", opt);
	cl->cfg.replay_path = arg;
	return 0;
}

static int opt_debug(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	(void)opt, (void)arg, (void)err, (void)errlen;
	cl->debug = true;
	return 0;
}

static int opt_debug_script(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	if (!*arg)
		return cli_fail(err, errlen, "%s: empty file name; give a file of debugger commands", opt);
	cl->debug = true;
	cl->debug_script = arg;
	return 0;
}

static int opt_debug_cmd(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	const char **v = realloc(cl->debug_cmds, sizeof(*v) * (size_t)(cl->ndebug_cmds + 1));
	if (!v)
		return cli_fail(err, errlen, "%s: out of memory", opt);
	v[cl->ndebug_cmds++] = arg;
	cl->debug_cmds = v;
	cl->debug = true;
	return 0;
}

static int opt_gdb_default(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	(void)opt, (void)arg, (void)err, (void)errlen;
	cl->gdb = true;
	cl->gdb_port = 1234;
	return 0;
}

/* QEMU's spelling: tcp::PORT, or tcp:HOST:PORT with HOST the loopback. */
static int opt_gdb(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	const char *port = NULL;
	uint64_t v;
	if (!strncmp(arg, "tcp::", 5))
		port = arg + 5;
	else if (!strncmp(arg, "tcp:127.0.0.1:", 14))
		port = arg + 14;
	else if (!strncmp(arg, "tcp:localhost:", 14))
		port = arg + 14;
	if (!port || !cli_number(port, &v) || v > 65535)
		return cli_fail(err, errlen, "%s '%s': give tcp::PORT (PORT 0..65535, 0: any free port; 127.0.0.1 only)",
				opt, arg);
	cl->gdb = true;
	cl->gdb_port = (int)v;
	return 0;
}

static int opt_help(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	(void)opt, (void)arg, (void)err, (void)errlen;
	cl->action = CLI_HELP;
	return 1;
}

static int opt_version(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	(void)opt, (void)arg, (void)err, (void)errlen;
	cl->action = CLI_VERSION;
	return 1;
}

static int opt_vmcs_layout(struct cli *cl, const char *opt, const char *arg, char *err, size_t errlen)
{
	(void)opt, (void)arg, (void)err, (void)errlen;
	cl->action = CLI_VMCS_LAYOUT;
	return 1;
}

static const struct cli_option cli_options[] = {
	{ "-kernel", "FILE", opt_kernel, "multiboot 1 kernel to boot (ELF32, ELF64 or a.out kludge)" },
	{ "-append", "STR", opt_append, "kernel command line; the kernel sees \"FILE STR\"" },
	{ "-initrd", "\"F [ARGS],...\"", opt_initrd, "multiboot modules with their strings; repeatable" },
	{ "-m", "SIZE", opt_ram, "guest RAM in MiB, or with a suffix: 512M, 1G (2 MiB..4 GiB; default 256)" },
	{ "-smp", "N", opt_smp, "number of CPUs, 1..64 (default 1); APs wait for a start-up IPI" },
	{ "-cpu", "MODEL[,+F,-F]", opt_cpu, "CPU model and VMX feature flags; -cpu help lists them" },
	{ "-serial", "DEV", opt_serial, "COM1: stdio (default), file:PATH or none" },
	{ "-display", "TYPE", opt_display, "VGA screen: sdl (a window, keyboard input) or none (default)" },
	{ "--screen-dump", "FILE", opt_screen_dump, "at the end write the VGA text screen to FILE (UTF-8)" },
	{ "-no-reboot", NULL, opt_no_reboot, "end the run on triple fault or reset instead of rebooting" },
	{ "--max-cycles", "N", opt_max_cycles, "stop after N simulated cycles (default 0 = no limit)" },
	{ "--seed", "N", opt_seed, "seed for RDRAND/RDSEED (default 0)" },
	{ "-rtc", "base=DATE", opt_rtc, "RTC time at start, YYYY-MM-DD[THH:MM:SS] UTC (default 2025-01-01)" },
	{ "--record", "FILE", opt_record, "write external input (serial, keys) with its cycles to FILE" },
	{ "--replay", "FILE", opt_replay, "deliver the input FILE recorded, at the same cycles (stdin unused)" },
	{ "--stats", NULL, opt_stats, "at the end print \"vtxsim: N instructions, M cycles\" on stderr" },
	{ "--trace", "CATS", opt_trace, "JSON lines for vmx,exits,int,insn,io,msr (comma-separated); "
	  "vmx alone without --trace-file: readable VMX lines on stderr" },
	{ "--trace-file", "FILE", opt_trace_file, "write the --trace JSON lines to FILE (default stderr)" },
	{ "--result", "FILE", opt_result, "write the run result for vtxsim test to FILE" },
	{ "--explain", NULL, opt_explain, "narrate each VM entry, VM exit, injection and VMX abort in one line with "
	  "its SDM section (stderr)" },
	{ "--exit-summary", NULL, opt_exit_summary, "at the end print the VM exits by reason with guest and host "
	  "cycles (stderr)" },
	{ "--debug", NULL, opt_debug, "open the debugger shell, stopped before the first instruction" },
	{ "-S", NULL, opt_debug, "the same as --debug" },
	{ "--debug-script", "FILE", opt_debug_script, "run the debugger commands in FILE (implies --debug)" },
	{ "--debug-cmd", "\"CMD\"", opt_debug_cmd, "run a debugger command (repeatable, after the script; implies --debug)" },
	{ "-gdb", "tcp::PORT", opt_gdb, "serve gdb's remote protocol on 127.0.0.1:PORT (0: a free one, printed)" },
	{ "-s", NULL, opt_gdb_default, "the same as -gdb tcp::1234" },
	{ "-h", NULL, opt_help, "this help (also --help)" },
	{ "--help", NULL, opt_help, NULL },
	{ "--version", NULL, opt_version, "print the version" },
	{ "--vmcs-layout", NULL, opt_vmcs_layout, "print the VMCS region layout (docs/vmcs-layout.md)" },
};

#define CLI_NOPTIONS (sizeof(cli_options) / sizeof(cli_options[0]))

static const char *cli_undash(const char *s)
{
	return s[0] == '-' ? s + 1 + (s[1] == '-') : s;
}

static const struct cli_option *cli_find(const char *arg)
{
	for (size_t i = 0; i < CLI_NOPTIONS; i++)
		if (strcmp(cli_undash(cli_options[i].name), cli_undash(arg)) == 0)
			return &cli_options[i];
	return NULL;
}

/* Handle argv[*i]; advances *i past an argument. 0, 1 (stop) or -1. */
static int cli_one(struct cli *cl, int argc, char *const argv[], int *i, char *err, size_t errlen)
{
	const char *a = argv[*i];

	if (a[0] != '-' || !a[1])
		return cli_fail(err, errlen, "unexpected argument '%s'; options start with '-' (see vtxsim -h)", a);
	const struct cli_option *o = cli_find(a);
	if (!o)
		return cli_fail(err, errlen, "unknown option '%s'; see vtxsim -h", a);
	if (!o->arg)
		return o->handler(cl, a, "", err, errlen);
	if (*i + 1 >= argc)
		return cli_fail(err, errlen, "%s needs an argument: %s %s", a, a, o->arg);
	return o->handler(cl, a, argv[++*i], err, errlen);
}

int cli_parse(struct cli *cl, int argc, char *const argv[], char *err, size_t errlen)
{
	*cl = (struct cli){ .action = CLI_RUN };
	machine_config_init(&cl->cfg);
	for (int i = 1; i < argc; i++) {
		int rc = cli_one(cl, argc, argv, &i, err, errlen);
		if (rc < 0)
			return -1;
		if (rc > 0)
			return 0;
	}
	cl->cfg.modules = (const char *const *)cl->modules;
	cl->cfg.nmodules = cl->nmodules;
	if (!cl->cfg.kernel)
		return cli_fail(err, errlen, "no kernel to boot; use -kernel FILE (see vtxsim -h)");
	if (cl->gdb && (cl->debug_script || cl->ndebug_cmds))
		return cli_fail(err, errlen, "-gdb and --debug-script/--debug-cmd both want to drive the run; "
				"use `monitor CMD` from gdb instead");
	if (cli_trace_finish(cl, err, errlen))
		return -1;
	if (cl->result_file && (cl->debug || cl->gdb))
		return cli_fail(err, errlen, "--result %s is for unattended runs (vtxsim test); drop it, or drop %s",
				cl->result_file, cl->gdb ? "-gdb" : "--debug (-S, --debug-script, --debug-cmd)");
	if (cl->cfg.record_path && cl->cfg.replay_path && !strcmp(cl->cfg.record_path, cl->cfg.replay_path))
		return cli_fail(err, errlen, "--record and --replay name the same file '%s'; give two files",
				cl->cfg.record_path);
	return 0;
}

void cli_free(struct cli *cl)
{
	free(cl->debug_cmds);
	cl->debug_cmds = NULL;
	cl->ndebug_cmds = 0;
	for (int i = 0; i < cl->nmodules; i++)
		free(cl->modules[i]);
	free(cl->modules);
	cl->modules = NULL;
	cl->nmodules = 0;
	cl->cfg.modules = NULL;
	cl->cfg.nmodules = 0;
}

/* ---- text for the user ---- */

void cli_print_help(FILE *out)
{
	fprintf(out, "usage: vtxsim -kernel FILE [options]\n"
		"       vtxsim test [OPTIONS] MANIFEST...: run a test suite (docs/testing-hypervisors.md)\n"
		"Boot a multiboot kernel on a simulated x86-64 PC with VT-x.\n\noptions:\n");
	for (size_t i = 0; i < CLI_NOPTIONS; i++) {
		const struct cli_option *o = &cli_options[i];
		char lhs[64];
		if (!o->help)
			continue;
		snprintf(lhs, sizeof(lhs), "%s %s", o->name, o->arg ? o->arg : "");
		fprintf(out, "  %-24s %s\n", lhs, o->help);
	}
	fprintf(out, "\nexit status:\n"
		"  (v << 1) | 1  the guest wrote v to isa-debug-exit (port 0xf4); low 8 bits\n"
		"  0             the guest powered off (ACPI S5), or asked for a reset under -no-reboot\n"
		"  2             bad command line, or the image could not be loaded\n"
		"  4             triple fault (with -no-reboot)\n"
		"  6             --max-cycles reached\n"
		"  8             every CPU halted with nothing to wake it\n"
		"  10            internal simulator error\n"
		"  12            VMX abort (with -no-reboot)\n");
}

void cli_print_version(FILE *out)
{
	fprintf(out, "vtxsim %s\n", VTXSIM_VERSION);
}

void cli_print_cpu_models(FILE *out)
{
	const struct cpu_model *m;

	fprintf(out, "Available CPU models (-cpu MODEL):\n");
	for (int i = 0; (m = cpu_model_at(i)) != NULL; i++)
		fprintf(out, "  %-20s %s%s\n", m->name, m->description, i == 0 ? " (default)" : "");
	cpu_spec_print_flags(out);
}

int cli_exit_status(const struct machine_exit *e)
{
	switch (e->result) {
	case MACHINE_DEBUG_EXIT:
		return (int)(((e->value << 1) | 1) & 0xff);     /* what exit() keeps of QEMU's status */
	case MACHINE_POWER_OFF:
	case MACHINE_RESET:
		return CLI_EXIT_POWER_OFF;
	case MACHINE_TRIPLE_FAULT:
		return CLI_EXIT_TRIPLE_FAULT;
	case MACHINE_CYCLE_LIMIT:
		return CLI_EXIT_CYCLE_LIMIT;
	case MACHINE_HALTED_FOREVER:
		return CLI_EXIT_HALTED;
	case MACHINE_INTERNAL_ERROR:
		return CLI_EXIT_INTERNAL;
	case MACHINE_VMX_ABORT:
		return CLI_EXIT_VMX_ABORT;
	}
	return CLI_EXIT_INTERNAL;
}

void cli_exit_message(const struct machine_exit *e, const struct machine_config *cfg, char *buf,
		      size_t len)
{
	switch (e->result) {
	case MACHINE_DEBUG_EXIT:
		snprintf(buf, len, "%s", "");
		return;
	case MACHINE_POWER_OFF:
		snprintf(buf, len, "guest powered off at cycle %" PRIu64, e->cycle);
		return;
	case MACHINE_RESET:
		snprintf(buf, len, "guest requested a reset at cycle %" PRIu64 "; stopping (-no-reboot)",
			 e->cycle);
		return;
	case MACHINE_TRIPLE_FAULT:
		snprintf(buf, len, "triple fault at cycle %" PRIu64 " (RIP=0x%" PRIx64 ")", e->cycle, e->rip);
		return;
	case MACHINE_CYCLE_LIMIT:
		snprintf(buf, len, "cycle limit %" PRIu64 " reached", cfg->max_cycles);
		return;
	case MACHINE_HALTED_FOREVER:
		snprintf(buf, len, "CPU %d halted at cycle %" PRIu64 " (RIP=0x%" PRIx64 ") %s", e->cpu, e->cycle,
			 e->rip, e->if_set ? "and no timer is armed that could interrupt it" :
			 "with interrupts disabled (only an NMI could wake it)");
		return;
	case MACHINE_INTERNAL_ERROR:
		snprintf(buf, len, "internal error: %s", e->detail);
		return;
	case MACHINE_VMX_ABORT:
		snprintf(buf, len, "VMX abort %" PRIu32 " (%s) on cpu%d at cycle %" PRIu64 ": the processor shut down (SDM 27.7)",
			 e->value, vmx_abort_text(e->value), e->cpu, e->cycle);
		return;
	}
	snprintf(buf, len, "internal error: unknown outcome %d", (int)e->result);
}
