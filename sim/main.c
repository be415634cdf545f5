/* vtxsim: parse the command line, build the machine, boot the kernel, run
 * it, and turn how the run ended into an exit status (docs/usage.md). */
#include <stdio.h>

#include "sim/cli.h"
#include "sim/machine.h"

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

static int main_run(const struct machine_config *cfg)
{
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
	machine_run(m);
	cli_exit_message(&m->exit, cfg, msg, sizeof(msg));
	if (msg[0])
		fprintf(stderr, "vtxsim: %s\n", msg);
	if (cfg->stats)
		print_stats(m);
	int status = cli_exit_status(&m->exit);
	machine_destroy(m);
	return status;
}

int main(int argc, char **argv)
{
	char err[512];
	struct cli cl;
	int status = 0;

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
	case CLI_RUN:
		status = main_run(&cl.cfg);
		break;
	}
	cli_free(&cl);
	return status;
}
