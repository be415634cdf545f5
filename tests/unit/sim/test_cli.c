/* sim/cli.c: every option, the -initrd list syntax, the errors, and the
 * exit statuses and messages of a run. */
#include <CUnit/CUnit.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/model.h"
#include "sim/cli.h"
#include "sim/trace.h"

#define MAX_ARGS 32

/* Parse a NULL-terminated list of arguments (argv[0] added). */
static int parse(struct cli *cl, char *err, size_t errlen, ...)
{
	char *argv[MAX_ARGS + 2] = { "vtxsim" };
	int argc = 1;
	va_list ap;

	va_start(ap, errlen);
	for (char *a; (a = va_arg(ap, char *)) != NULL && argc <= MAX_ARGS;)
		argv[argc++] = a;
	va_end(ap);
	err[0] = 0;
	return cli_parse(cl, argc, argv, err, errlen);
}

static void test_defaults(void)
{
	struct cli cl;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(parse(&cl, err, sizeof(err), "-kernel", "k.elf", NULL), 0);
	CU_ASSERT_EQUAL(cl.action, CLI_RUN);
	CU_ASSERT_STRING_EQUAL(cl.cfg.kernel, "k.elf");
	CU_ASSERT_PTR_NULL(cl.cfg.append);
	CU_ASSERT_EQUAL(cl.cfg.ram_mb, 256);
	CU_ASSERT_EQUAL(cl.cfg.smp, 1);
	CU_ASSERT_PTR_NULL(cl.cfg.cpu_model);
	CU_ASSERT_EQUAL(cl.cfg.serial, SERIAL_STDIO);
	CU_ASSERT_FALSE(cl.cfg.no_reboot);
	CU_ASSERT_EQUAL(cl.cfg.max_cycles, 0);
	CU_ASSERT_EQUAL(cl.cfg.seed, 0);
	CU_ASSERT_EQUAL(cl.cfg.nmodules, 0);
	CU_ASSERT_EQUAL(cl.display, CLI_DISPLAY_NONE);
	CU_ASSERT_PTR_NULL(cl.screen_dump);
	cli_free(&cl);
}

static void test_every_option(void)
{
	struct cli cl;
	char err[256];
	const char *model = cpu_model_at(0)->name;

	CU_ASSERT_EQUAL_FATAL(parse(&cl, err, sizeof(err), "-kernel", "a.elf", "-append", "x=1 y", "-m", "512",
				    "-smp", "4", "-cpu", model, "-serial", "file:/tmp/out.txt", "-no-reboot",
				    "--max-cycles", "123456789", "--seed", "0x2a", "--stats", "--kernel", "b.elf",
				    NULL), 0);
	CU_ASSERT_STRING_EQUAL(cl.cfg.kernel, "b.elf");         /* the last one wins, as in QEMU */
	CU_ASSERT_STRING_EQUAL(cl.cfg.append, "x=1 y");
	CU_ASSERT_EQUAL(cl.cfg.ram_mb, 512);
	CU_ASSERT_EQUAL(cl.cfg.smp, 4);
	CU_ASSERT_STRING_EQUAL(cl.cfg.cpu_model, model);
	CU_ASSERT_EQUAL(cl.cfg.serial, SERIAL_FILE);
	CU_ASSERT_STRING_EQUAL(cl.cfg.serial_path, "/tmp/out.txt");
	CU_ASSERT_TRUE(cl.cfg.no_reboot);
	CU_ASSERT_EQUAL(cl.cfg.max_cycles, 123456789);
	CU_ASSERT_EQUAL(cl.cfg.seed, 42);
	CU_ASSERT_TRUE(cl.cfg.stats);
	cli_free(&cl);
	CU_ASSERT_EQUAL_FATAL(parse(&cl, err, sizeof(err), "-serial", "none", "-kernel", "k", NULL), 0);
	CU_ASSERT_EQUAL(cl.cfg.serial, SERIAL_NONE);
	cli_free(&cl);
	CU_ASSERT_EQUAL_FATAL(parse(&cl, err, sizeof(err), "-serial", "none", "-serial", "stdio", "-kernel", "k",
				    NULL), 0);
	CU_ASSERT_EQUAL(cl.cfg.serial, SERIAL_STDIO);
	cli_free(&cl);
}

static void test_display_options(void)
{
	struct cli cl;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(parse(&cl, err, sizeof(err), "-kernel", "k", "-display", "sdl", "--screen-dump",
				    "/tmp/screen.txt", NULL), 0);
	CU_ASSERT_EQUAL(cl.display, CLI_DISPLAY_SDL);
	CU_ASSERT_STRING_EQUAL(cl.screen_dump, "/tmp/screen.txt");
	cli_free(&cl);
	CU_ASSERT_EQUAL_FATAL(parse(&cl, err, sizeof(err), "--display", "sdl", "-display", "none",
				    "-screen-dump", "s", "-kernel", "k", NULL), 0);
	CU_ASSERT_EQUAL(cl.display, CLI_DISPLAY_NONE);          /* the last one wins */
	CU_ASSERT_STRING_EQUAL(cl.screen_dump, "s");
	cli_free(&cl);
}

static void test_initrd(void)
{
	struct cli cl;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(parse(&cl, err, sizeof(err), "-kernel", "k", "-initrd", "a.mod arg1 arg2,b.mod,c.mod x",
				    "-initrd", "d,,e.mod y,,z", NULL), 0);
	CU_ASSERT_EQUAL_FATAL(cl.cfg.nmodules, 4);
	CU_ASSERT_STRING_EQUAL(cl.cfg.modules[0], "a.mod arg1 arg2");
	CU_ASSERT_STRING_EQUAL(cl.cfg.modules[1], "b.mod");
	CU_ASSERT_STRING_EQUAL(cl.cfg.modules[2], "c.mod x");
	CU_ASSERT_STRING_EQUAL(cl.cfg.modules[3], "d,e.mod y,z");      /* ",," is a literal comma */
	cli_free(&cl);
}

static void test_ram_sizes(void)
{
	static const struct {
		const char *arg;
		uint32_t mb;
	} ok[] = {
		{ "2", 2 }, { "4096", 4096 }, { "512M", 512 }, { "512m", 512 }, { "1G", 1024 }, { "4g", 4096 },
		{ "2048K", 2 }, { "size=64M", 64 }, { "3145728B", 3 },
	};
	struct cli cl;
	char err[256];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CU_ASSERT_EQUAL(parse(&cl, err, sizeof(err), "-kernel", "k", "-m", ok[i].arg, NULL), 0);
		CU_ASSERT_EQUAL(cl.cfg.ram_mb, ok[i].mb);
		cli_free(&cl);
	}
}

/* Expect failure with a message naming the option (and hinting the fix). */
static void expect_usage(const char *want1, const char *want2, ...)
{
	char *argv[MAX_ARGS + 2] = { "vtxsim" }, err[256] = "";
	int argc = 1;
	struct cli cl;
	va_list ap;

	va_start(ap, want2);
	for (char *a; (a = va_arg(ap, char *)) != NULL && argc <= MAX_ARGS;)
		argv[argc++] = a;
	va_end(ap);
	CU_ASSERT_EQUAL(cli_parse(&cl, argc, argv, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want1));
	if (want2)
		CU_ASSERT_PTR_NOT_NULL(strstr(err, want2));
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));
	if (!strstr(err, want1) || (want2 && !strstr(err, want2)))
		fprintf(stderr, "\n  got: %s\n", err);
	cli_free(&cl);
}

static void test_errors(void)
{
	CU_ASSERT_EQUAL(CLI_EXIT_USAGE, 2);
	expect_usage("'-bogus'", "-h", "-kernel", "k", "-bogus", NULL);
	expect_usage("-kernel needs an argument", "FILE", "-kernel", NULL);
	expect_usage("-append needs an argument", NULL, "-kernel", "k", "-append", NULL);
	expect_usage("-smp 'x'", "1 to 64", "-kernel", "k", "-smp", "x", NULL);
	expect_usage("-smp '0'", "1 to 64", "-kernel", "k", "-smp", "0", NULL);
	expect_usage("-smp '65'", "1 to 64", "-kernel", "k", "-smp", "65", NULL);
	expect_usage("-smp '-1'", NULL, "-kernel", "k", "-smp", "-1", NULL);
	expect_usage("-m '1'", "at least 2", "-kernel", "k", "-m", "1", NULL);
	expect_usage("-m '4097'", "at most 4096", "-kernel", "k", "-m", "4097", NULL);
	expect_usage("-m '5G'", "at most 4096", "-kernel", "k", "-m", "5G", NULL);
	expect_usage("-m '99999999999999999999'", NULL, "-kernel", "k", "-m", "99999999999999999999", NULL);
	expect_usage("-m '3X'", "suffix", "-kernel", "k", "-m", "3X", NULL);
	expect_usage("-m '1500K'", "whole number of MiB", "-kernel", "k", "-m", "1500K", NULL);
	expect_usage("-m 'lots'", NULL, "-kernel", "k", "-m", "lots", NULL);
	expect_usage("--max-cycles '12a'", NULL, "-kernel", "k", "--max-cycles", "12a", NULL);
	expect_usage("--seed ''", NULL, "-kernel", "k", "--seed", "", NULL);
	expect_usage("-serial 'tcp:1'", "stdio, file:PATH or none", "-kernel", "k", "-serial", "tcp:1", NULL);
	expect_usage("-serial 'file:'", NULL, "-kernel", "k", "-serial", "file:", NULL);
	expect_usage("-cpu 'no-such-cpu'", "-cpu help", "-kernel", "k", "-cpu", "no-such-cpu", NULL);
	expect_usage("-cpu 'haswell,+vmx-bogus'", "unknown feature 'vmx-bogus'", "-kernel", "k", "-cpu",
		     "haswell,+vmx-bogus", NULL);
	expect_usage("-cpu 'haswell,vmx-ept'", "needs a sign", "-kernel", "k", "-cpu", "haswell,vmx-ept", NULL);
	expect_usage("-cpu 'haswell,,+vmx-spp'", "empty feature flag", "-kernel", "k", "-cpu", "haswell,,+vmx-spp",
		     NULL);
	expect_usage("-cpu 'haswell,+vmx-spp,-vmx-ept'", "'+vmx-spp' is undone", "-kernel", "k", "-cpu",
		     "haswell,+vmx-spp,-vmx-ept", NULL);
	expect_usage("-cpu 'nope,+vmx-spp'", "unknown CPU model 'nope'", "-kernel", "k", "-cpu", "nope,+vmx-spp", NULL);
	expect_usage("-initrd 'a,'", "empty", "-kernel", "k", "-initrd", "a,", NULL);
	expect_usage("-initrd ''", "empty", "-kernel", "k", "-initrd", "", NULL);
	expect_usage("-initrd ' x'", "empty", "-kernel", "k", "-initrd", " x", NULL);
	expect_usage("-display 'gtk'", "sdl or none", "-kernel", "k", "-display", "gtk", NULL);
	expect_usage("-display 'sdl,gl=on'", "sdl or none", "-kernel", "k", "-display", "sdl,gl=on", NULL);
	expect_usage("-display needs an argument", "TYPE", "-kernel", "k", "-display", NULL);
	expect_usage("--screen-dump: empty file name", NULL, "-kernel", "k", "--screen-dump", "", NULL);
	expect_usage("--screen-dump needs an argument", "FILE", "-kernel", "k", "--screen-dump", NULL);
	expect_usage("no kernel", "-kernel FILE", "-m", "64", NULL);
	expect_usage("'disk.img'", "-h", "-kernel", "k", "disk.img", NULL);
}

static void test_actions(void)
{
	struct cli cl;
	char err[256];

	CU_ASSERT_EQUAL(parse(&cl, err, sizeof(err), "-h", NULL), 0);
	CU_ASSERT_EQUAL(cl.action, CLI_HELP);
	cli_free(&cl);
	CU_ASSERT_EQUAL(parse(&cl, err, sizeof(err), "--help", NULL), 0);
	CU_ASSERT_EQUAL(cl.action, CLI_HELP);
	cli_free(&cl);
	CU_ASSERT_EQUAL(parse(&cl, err, sizeof(err), "--version", NULL), 0);
	CU_ASSERT_EQUAL(cl.action, CLI_VERSION);
	cli_free(&cl);
	CU_ASSERT_EQUAL(parse(&cl, err, sizeof(err), "-cpu", "help", NULL), 0);
	CU_ASSERT_EQUAL(cl.action, CLI_CPU_HELP);
	cli_free(&cl);
	CU_ASSERT_EQUAL(parse(&cl, err, sizeof(err), "--vmcs-layout", NULL), 0);
	CU_ASSERT_EQUAL(cl.action, CLI_VMCS_LAYOUT);
	cli_free(&cl);
}

/* The help and the model list go where they are told and say what matters. */
static void test_help_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cli_print_help(f);
	cli_print_cpu_models(f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "-kernel FILE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "--max-cycles N"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "-no-reboot"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "-display TYPE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "--screen-dump FILE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "(v << 1) | 1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, cpu_model_at(0)->name));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, cpu_model_at(0)->description));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "vmx-ept-ad"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "vmx-spp"));
	free(buf);
}

static void test_exit_status(void)
{
	struct machine_exit e = { .result = MACHINE_DEBUG_EXIT, .value = 0x2a };

	CU_ASSERT_EQUAL(cli_exit_status(&e), 0x55);
	e.value = 0;
	CU_ASSERT_EQUAL(cli_exit_status(&e), 1);
	e.value = 0x80;                 /* (0x80 << 1) | 1 = 0x101: the low 8 bits */
	CU_ASSERT_EQUAL(cli_exit_status(&e), 1);
	e.value = 0x7f;
	CU_ASSERT_EQUAL(cli_exit_status(&e), 0xff);
	e.result = MACHINE_POWER_OFF;
	CU_ASSERT_EQUAL(cli_exit_status(&e), 0);
	e.result = MACHINE_RESET;
	CU_ASSERT_EQUAL(cli_exit_status(&e), 0);
	e.result = MACHINE_TRIPLE_FAULT;
	CU_ASSERT_EQUAL(cli_exit_status(&e), 4);
	e.result = MACHINE_CYCLE_LIMIT;
	CU_ASSERT_EQUAL(cli_exit_status(&e), 6);
	e.result = MACHINE_HALTED_FOREVER;
	CU_ASSERT_EQUAL(cli_exit_status(&e), 8);
	e.result = MACHINE_INTERNAL_ERROR;
	CU_ASSERT_EQUAL(cli_exit_status(&e), 10);
}

static void test_exit_message(void)
{
	struct machine_config cfg;
	struct machine_exit e = { .result = MACHINE_DEBUG_EXIT, .value = 3, .cycle = 1234, .rip = 0x100abc };
	char msg[256];

	machine_config_init(&cfg);
	cfg.max_cycles = 1000;
	cli_exit_message(&e, &cfg, msg, sizeof(msg));
	CU_ASSERT_STRING_EQUAL(msg, "");
	e.result = MACHINE_TRIPLE_FAULT;
	cli_exit_message(&e, &cfg, msg, sizeof(msg));
	CU_ASSERT_STRING_EQUAL(msg, "triple fault at cycle 1234 (RIP=0x100abc)");
	e.result = MACHINE_CYCLE_LIMIT;
	cli_exit_message(&e, &cfg, msg, sizeof(msg));
	CU_ASSERT_STRING_EQUAL(msg, "cycle limit 1000 reached");
	e.result = MACHINE_HALTED_FOREVER;
	cli_exit_message(&e, &cfg, msg, sizeof(msg));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "interrupts disabled"));
	e.if_set = true;
	cli_exit_message(&e, &cfg, msg, sizeof(msg));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "no timer is armed"));
	e.result = MACHINE_POWER_OFF;
	cli_exit_message(&e, &cfg, msg, sizeof(msg));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "powered off"));
}

/* --trace vmx turns the VMX trace on; another category is refused by name. */
static void test_trace_option(void)
{
	struct cli cl;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(parse(&cl, err, sizeof(err), "-kernel", "k", NULL), 0);
	CU_ASSERT_FALSE(cl.cfg.trace_vmx);
	cli_free(&cl);
	CU_ASSERT_EQUAL_FATAL(parse(&cl, err, sizeof(err), "--trace", "vmx", "-kernel", "k", NULL), 0);
	CU_ASSERT_TRUE(cl.cfg.trace_vmx);
	cli_free(&cl);
	CU_ASSERT_EQUAL(parse(&cl, err, sizeof(err), "--trace", "mmu", "-kernel", "k", NULL), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown trace category"));
	cli_free(&cl);
}

/* The JSON trace: categories add up over --trace options; `vmx` alone is
 * the readable trace only without --trace-file. */
static void test_trace_json(void)
{
	struct cli cl;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(parse(&cl, err, sizeof(err), "--trace", "exits,int", "--trace", "insn", "-kernel", "k",
				    NULL), 0);
	CU_ASSERT_EQUAL(cl.trace_cats, TRACE_EXITS | TRACE_INT | TRACE_INSN);
	CU_ASSERT_FALSE(cl.cfg.trace_vmx);
	CU_ASSERT_PTR_NULL(cl.trace_file);
	cli_free(&cl);
	CU_ASSERT_EQUAL_FATAL(parse(&cl, err, sizeof(err), "--trace", "vmx", "--trace-file", "t.json", "-kernel", "k",
				    NULL), 0);
	CU_ASSERT_EQUAL(cl.trace_cats, TRACE_VMX);
	CU_ASSERT_FALSE(cl.cfg.trace_vmx);
	CU_ASSERT_STRING_EQUAL(cl.trace_file, "t.json");
	cli_free(&cl);
	CU_ASSERT_EQUAL_FATAL(parse(&cl, err, sizeof(err), "--trace", "vmx,io,msr", "-kernel", "k", NULL), 0);
	CU_ASSERT_EQUAL(cl.trace_cats, TRACE_VMX | TRACE_IO | TRACE_MSR);
	cli_free(&cl);
	CU_ASSERT_EQUAL(parse(&cl, err, sizeof(err), "--trace", "exits,", "-kernel", "k", NULL), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown trace category ''"));
	cli_free(&cl);
	CU_ASSERT_EQUAL(parse(&cl, err, sizeof(err), "--trace-file", "t.json", "-kernel", "k", NULL), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no categories to trace"));
	cli_free(&cl);
	CU_ASSERT_EQUAL(parse(&cl, err, sizeof(err), "--trace-file", "", "-kernel", "k", NULL), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "empty file name"));
	cli_free(&cl);
}

/* --explain and --exit-summary are flags, off by default, and go with
 * the debugger and --trace (main.c attaches both there too). */
static void test_explain_options(void)
{
	struct cli cl;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(parse(&cl, err, sizeof(err), "-kernel", "k", NULL), 0);
	CU_ASSERT_FALSE(cl.explain);
	CU_ASSERT_FALSE(cl.exit_summary);
	cli_free(&cl);
	CU_ASSERT_EQUAL_FATAL(parse(&cl, err, sizeof(err), "-kernel", "k", "--explain", "-exit-summary", "--debug",
				    "--trace", "exits", NULL), 0);
	CU_ASSERT_TRUE(cl.explain);
	CU_ASSERT_TRUE(cl.exit_summary);
	CU_ASSERT_TRUE(cl.debug);
	cli_free(&cl);
	CU_ASSERT_EQUAL(parse(&cl, err, sizeof(err), "-kernel", "k", "--explain=yes", NULL), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown option '--explain=yes'"));
	cli_free(&cl);
}

void suite_sim_cli(void)
{
	CU_pSuite s = CU_add_suite("sim_cli", NULL, NULL);

	CU_add_test(s, "defaults", test_defaults);
	CU_add_test(s, "every option", test_every_option);
	CU_add_test(s, "-display and --screen-dump", test_display_options);
	CU_add_test(s, "-initrd lists", test_initrd);
	CU_add_test(s, "-m sizes and suffixes", test_ram_sizes);
	CU_add_test(s, "usage errors name the option", test_errors);
	CU_add_test(s, "-h, --version, -cpu help", test_actions);
	CU_add_test(s, "help text", test_help_text);
	CU_add_test(s, "exit statuses", test_exit_status);
	CU_add_test(s, "exit messages", test_exit_message);
	CU_add_test(s, "--trace vmx", test_trace_option);
	CU_add_test(s, "--trace CATS and --trace-file", test_trace_json);
	CU_add_test(s, "--explain and --exit-summary", test_explain_options);
}
