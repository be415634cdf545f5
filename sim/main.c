/* vtxsim: parse the command line, build the machine, boot the kernel, run
 * it, and turn how the run ended into an exit status (docs/user-guide.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "debugger/gdbstub.h"
#include "debugger/shell.h"
#include "devices/vga.h"
#include "sim/cli.h"
#include "sim/debug_api.h"
#include "sim/explain.h"
#include "sim/forensics.h"
#include "sim/machine.h"
#include "sim/result.h"
#include "sim/suite.h"
#include "sim/trace.h"
#include "vmx/vmcs.h"

static void print_stats(const struct machine *m)
{
	unsigned long long insns = 0, cycles = 0;
	for (int k = 0; k < m->ncpus; k++) {
		insns += m->cpus[k].instret;
		cycles = m->cpus[k].cycles > cycles ? m->cpus[k].cycles : cycles;
	}
	fprintf(stderr, "vtxsim: %llu instructions, %llu cycles\n", insns, cycles);
	for (int k = 0; m->ncpus > 1 && k < m->ncpus; k++)
		fprintf(stderr, "vtxsim: cpu%d: %llu instructions, %llu cycles\n", k,
			(unsigned long long)m->cpus[k].instret, (unsigned long long)m->cpus[k].cycles);
}

/* --screen-dump: the VGA text screen as the run left it. */
static void write_screen_dump(const struct machine *m, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f || vga_dump_text(m->plat.vga, f) || fclose(f)) {
		fprintf(stderr, "vtxsim: --screen-dump %s: cannot write: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
	}
}

/* --debug: the shell drives the run; -gdb: gdb does (docs/debugger.md). */
static int main_debug(struct machine *m, const struct cli *cl)
{
	struct dbg *d = dbg_create(m);
	if (!d) {
		fprintf(stderr, "vtxsim: out of memory\n");
		return CLI_EXIT_INTERNAL;
	}
	dbg_keep_entry_vmcs(d, true);   /* `vmcs diff` */
	char err[512];
	struct trace *t = NULL;
	if (cl->trace_cats && !(t = trace_open(d, cl->trace_cats, cl->trace_file, err, sizeof(err)))) {
		fprintf(stderr, "vtxsim: %s\n", err);
		dbg_destroy(d);
		return CLI_EXIT_USAGE;
	}
	struct explain *x = NULL;
	if (cl->explain && !(x = explain_attach(d, stderr, err, sizeof(err)))) {
		fprintf(stderr, "vtxsim: %s\n", err);
		trace_close(t, err, sizeof(err));
		dbg_destroy(d);
		return CLI_EXIT_USAGE;
	}
	struct shell_opts o = { .script = cl->debug_script, .cmds = cl->debug_cmds, .ncmds = cl->ndebug_cmds,
				.kernel = cl->cfg.kernel };
	int status = cl->gdb ? gdb_main(d, cl->gdb_port, cl->cfg.kernel) : shell_main(d, &o);
	if (trace_close(t, err, sizeof(err)))
		fprintf(stderr, "vtxsim: %s\n", err);
	explain_detach(x);
	if (cl->exit_summary)
		explain_exit_summary(d, stderr);
	/* A run that ended inside the session exits as it would without the
	 * debugger (docs/debugger.md, "Exit status"). */
	if (dbg_run_over(d)) {
		char msg[512];
		cli_exit_message(&m->exit, &cl->cfg, msg, sizeof(msg));
		if (msg[0])
			fprintf(stderr, "vtxsim: %s\n", msg);
		status = cli_exit_status(&m->exit);
	}
	dbg_destroy(d);
	return status;
}

/* --result: the collector on d (sim/result.h), once the file proved
 * writable, so a bad path fails before the run, not after it. */
static struct result_collector *result_start(struct dbg *d, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "vtxsim: --result %s: cannot open for writing: %s\n", path, strerror(errno));
		return NULL;
	}
	fclose(f);
	struct result_collector *rc = result_attach(d);
	if (!rc)
		fprintf(stderr, "vtxsim: --result: out of memory\n");
	return rc;
}

/* At the end: the file with the status vtxsim returns. 0, or -1 after a message. */
static int result_end(struct result_collector *rc, const struct machine *m, const char *path)
{
	char err[512];
	struct run_result r;
	result_finish(rc, cli_exit_status(&m->exit), &r);
	int bad = result_write(&r, path, err, sizeof(err));
	if (bad)
		fprintf(stderr, "vtxsim: %s\n", err);
	result_free(&r);
	return bad;
}

/* --trace, --result, --explain or --exit-summary without --debug: the
 * JSON writer, the run-result collector and/or the narrator, taps on a debug session that only runs (the same
 * run as machine_run: the probes change nothing the guest sees), printing
 * the shutdown report where the run holds for it. 0; -1 after a message
 * when the trace or the collector cannot start; 1 after a message when
 * the run result could not be written. */
static int run_traced(struct machine *m, const struct cli *cl)
{
	char err[512];
	struct dbg *d = dbg_create(m);
	if (!d) {
		fprintf(stderr, "vtxsim: out of memory\n");
		return -1;
	}
	struct trace *t = NULL;
	if (cl->trace_cats && !(t = trace_open(d, cl->trace_cats, cl->trace_file, err, sizeof(err)))) {
		fprintf(stderr, "vtxsim: %s\n", err);
		dbg_destroy(d);
		return -1;
	}
	struct explain *x = NULL;
	if (cl->explain && !(x = explain_attach(d, stderr, err, sizeof(err)))) {
		fprintf(stderr, "vtxsim: %s\n", err);
		trace_close(t, err, sizeof(err));
		dbg_destroy(d);
		return -1;
	}
	struct result_collector *rc = NULL;
	if (cl->result_file && !(rc = result_start(d, cl->result_file))) {
		explain_detach(x);
		trace_close(t, err, sizeof(err));
		dbg_destroy(d);
		return -1;
	}
	struct dbg_run r = { 0 };
	struct dbg_stop st;
	do {
		dbg_resume(d, &r, &st);
		if (st.kind == DBG_STOP_SHUTDOWN)
			dbg_forensics(d, st.cpu, stderr);
	} while (st.kind != DBG_STOP_END);
	if (trace_close(t, err, sizeof(err)))
		fprintf(stderr, "vtxsim: %s\n", err);
	explain_detach(x);
	if (cl->exit_summary)
		explain_exit_summary(d, stderr);
	int ret = rc && result_end(rc, m, cl->result_file) ? 1 : 0;
	dbg_destroy(d);
	return ret;
}

static int main_run(const struct cli *cl)
{
	const struct machine_config *cfg = &cl->cfg;
	const char *screen_dump = cl->screen_dump;
	char err[512], msg[512];
	struct machine *m = machine_create(cfg, err, sizeof(err));

	if (!m) {
		fprintf(stderr, "vtxsim: %s\n", err);
		return CLI_EXIT_USAGE;
	}
	if (machine_load(m, err, sizeof(err))) {
		fprintf(stderr, "vtxsim: %s\n", err);
		machine_destroy(m);
		return CLI_EXIT_USAGE;
	}
	if (cl->debug || cl->gdb) {
		int status = main_debug(m, cl);
		machine_destroy(m);
		return status;
	}
	bool result_failed = false;
	if (cl->trace_cats || cl->result_file || cl->explain || cl->exit_summary) {
		int rc = run_traced(m, cl);
		if (rc < 0) {
			machine_destroy(m);
			return CLI_EXIT_USAGE;
		}
		result_failed = rc > 0;
	} else {
		/* A triple fault or VMX abort prints its report (sim/forensics.h). */
		m->shutdown_hook = forensics_on_shutdown;
		m->shutdown_ctx = m;
		machine_run(m);
	}
	if (screen_dump)
		write_screen_dump(m, screen_dump);
	cli_exit_message(&m->exit, cfg, msg, sizeof(msg));
	if (msg[0])
		fprintf(stderr, "vtxsim: %s\n", msg);
	if (cfg->stats)
		print_stats(m);
	int status = result_failed ? CLI_EXIT_USAGE : cli_exit_status(&m->exit);
	machine_destroy(m);
	return status;
}

int main(int argc, char **argv)
{
	char err[512];
	struct cli cl;
	int status = 0;

	/* `vtxsim test ...`: the suite runner (sim/suite_run.c). */
	if (argc > 1 && strcmp(argv[1], "test") == 0)
		return suite_main(argc - 1, argv + 1);
	if (cli_parse(&cl, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "vtxsim: %s\n", err);
		cli_free(&cl);
		return CLI_EXIT_USAGE;
	}
	switch (cl.action) {
	case CLI_HELP:
		cli_print_help(stdout);
		break;
	case CLI_VERSION:
		cli_print_version(stdout);
		break;
	case CLI_CPU_HELP:
		cli_print_cpu_models(stdout);
		break;
	case CLI_VMCS_LAYOUT:
		vmcs_layout_markdown(stdout);
		break;
	case CLI_RUN:
		cl.cfg.display = cl.display == CLI_DISPLAY_SDL;
		status = main_run(&cl);
		break;
	}
	cli_free(&cl);
	return status;
}
