/* sim/suite_manifest.c: manifests written to a temporary directory and
 * loaded: every key and flag, defaults, continuation, quoting, expansion,
 * the errors with their FILE:LINE, and a case's argv and replay command. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/cli.h"
#include "sim/suite.h"

struct tmp {
	char dir[64];
	char path[8][128];
	int n;
};

static void tmp_open(struct tmp *t)
{
	strcpy(t->dir, "/tmp/vtxsim-mf-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(t->dir));
	t->n = 0;
}

/* Write a manifest file named name; its path. */
static const char *tmp_write(struct tmp *t, const char *name, const char *text)
{
	char *p = t->path[t->n++], full[sizeof(t->path[0])];
	snprintf(full, sizeof(full), "%s/%s", t->dir, name);
	strcpy(p, full);
	FILE *f = fopen(p, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static void tmp_close(struct tmp *t)
{
	for (int i = 0; i < t->n; i++)
		unlink(t->path[i]);
	rmdir(t->dir);
}

/* Load text as one manifest into s (fresh); 0 or -1 with err. */
static int load_text(struct suite *s, const char *text, const struct suite_defs *defs, char *err, size_t len,
		     char *path_out)
{
	struct tmp t;
	int r;

	tmp_open(&t);
	const char *p = tmp_write(&t, "m.vts", text);
	if (path_out)
		strcpy(path_out, p);
	memset(s, 0, sizeof(*s));
	err[0] = 0;
	r = suite_load(s, p, defs, err, len);
	tmp_close(&t);
	return r;
}

/* The error a manifest gives: it must fail, err starts with "PATH:LINE: ". */
static void expect_error(const char *text, int line, const char *needle, const char *needle2)
{
	struct suite s;
	char err[512], path[160], prefix[200];

	CU_ASSERT_EQUAL(load_text(&s, text, NULL, err, sizeof(err), path), -1);
	CU_ASSERT_EQUAL(s.ncases, 0);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	CU_ASSERT_EQUAL(strncmp(err, prefix, strlen(prefix)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
	if (needle2)
		CU_ASSERT_PTR_NOT_NULL(strstr(err, needle2));
	if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, needle) || (needle2 && !strstr(err, needle2)))
		fprintf(stderr, "\n  unexpected error: %s (want line %d, '%s')\n", err, line, needle);
	suite_free(&s);
}

static void test_defaults(void)
{
	struct suite s;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(load_text(&s, "case a kernel=a.elf\n", NULL, err, sizeof(err), NULL), 0);
	CU_ASSERT_EQUAL_FATAL(s.ncases, 1);
	const struct suite_case *c = &s.cases[0];
	CU_ASSERT_STRING_EQUAL(c->name, "a");
	CU_ASSERT_STRING_EQUAL(c->kernel, "a.elf");
	CU_ASSERT_EQUAL(c->line, 1);
	CU_ASSERT_PTR_NULL(c->append);
	CU_ASSERT_EQUAL(c->nmodules, 0);
	CU_ASSERT_EQUAL(c->smp, 0);
	CU_ASSERT_PTR_NULL(c->cpu);
	CU_ASSERT_PTR_NULL(c->memory);
	CU_ASSERT_EQUAL(c->max_cycles, 10000000000ull);
	CU_ASSERT_EQUAL(c->timeout, 300);
	CU_ASSERT_EQUAL(c->nargs, 0);
	CU_ASSERT_FALSE(c->reboot);
	CU_ASSERT_EQUAL(c->nstatus, 1);
	CU_ASSERT_EQUAL(c->status[0], 1);       /* exit:0 */
	CU_ASSERT_TRUE(c->status_default);
	CU_ASSERT_FALSE(c->summary || c->allow_triple_fault || c->allow_vmx_abort || c->allow_entry_failure);
	CU_ASSERT_EQUAL(c->nexpects, 0);
	CU_ASSERT_PTR_NULL(c->output);
	CU_ASSERT_PTR_NULL(c->exits);
	CU_ASSERT_PTR_NULL(c->exit_counts);
	suite_free(&s);
	CU_ASSERT_EQUAL(s.ncases, 0);
}

static const char full_manifest[] =
	"# a full case\n"
	"case full kernel=hv.elf append='console=ttyS0 x=1' smp=4 cpu=haswell,-vmx-ept-ad memory=512M\n"
	"    module=\"guest.elf a=1\" module=initrd,v2.img max-cycles=0x1000 timeout=60\n"
	"\n"
	"    # a comment inside the entry\n"
	"\targs=\"--trace exits '--seed' 5\" status=exit:1,power-off,7\n"
	"    expect=\"PASS: vmlaunch\" expect-re='^ok [0-9]+$' reject=panic reject-re='FAIL|BUG'\n"
	"    stderr=warning output=full.out exits=full.exits exit-counts=full.counts\n"
	"    summary allow-triple-fault allow-vmx-abort allow-entry-failure reboot\n";

static void test_every_key(void)
{
	struct suite s;
	char err[256], path[160];

	CU_ASSERT_EQUAL_FATAL(load_text(&s, full_manifest, NULL, err, sizeof(err), path), 0);
	CU_ASSERT_EQUAL_FATAL(s.ncases, 1);
	const struct suite_case *c = &s.cases[0];
	CU_ASSERT_STRING_EQUAL(c->manifest, path);
	CU_ASSERT_EQUAL(c->line, 2);
	CU_ASSERT_EQUAL(strncmp(c->dir, "/tmp/vtxsim-mf-", 15), 0);
	CU_ASSERT_PTR_NULL(strstr(c->dir, "m.vts"));
	CU_ASSERT_STRING_EQUAL(c->append, "console=ttyS0 x=1");
	CU_ASSERT_EQUAL(c->smp, 4);
	CU_ASSERT_STRING_EQUAL(c->cpu, "haswell,-vmx-ept-ad");
	CU_ASSERT_STRING_EQUAL(c->memory, "512M");
	CU_ASSERT_EQUAL_FATAL(c->nmodules, 2);
	CU_ASSERT_STRING_EQUAL(c->modules[0], "guest.elf a=1");
	CU_ASSERT_STRING_EQUAL(c->modules[1], "initrd,v2.img");
	CU_ASSERT_EQUAL(c->max_cycles, 0x1000);
	CU_ASSERT_EQUAL(c->timeout, 60);
	CU_ASSERT_EQUAL_FATAL(c->nargs, 4);
	CU_ASSERT_STRING_EQUAL(c->args[0], "--trace");
	CU_ASSERT_STRING_EQUAL(c->args[1], "exits");
	CU_ASSERT_STRING_EQUAL(c->args[2], "--seed");
	CU_ASSERT_STRING_EQUAL(c->args[3], "5");
	CU_ASSERT_EQUAL_FATAL(c->nstatus, 3);
	CU_ASSERT_EQUAL(c->status[0], 3);       /* exit:1 */
	CU_ASSERT_EQUAL(c->status[1], CLI_EXIT_POWER_OFF);
	CU_ASSERT_EQUAL(c->status[2], 7);
	CU_ASSERT_FALSE(c->status_default);
	CU_ASSERT_EQUAL_FATAL(c->nexpects, 5);
	CU_ASSERT_EQUAL(c->expects[0].kind, SUITE_CONTAINS);
	CU_ASSERT_STRING_EQUAL(c->expects[0].text, "PASS: vmlaunch");
	CU_ASSERT_EQUAL(c->expects[1].kind, SUITE_REGEX);
	CU_ASSERT_STRING_EQUAL(c->expects[1].text, "^ok [0-9]+$");
	CU_ASSERT_EQUAL(c->expects[2].kind, SUITE_REJECT);
	CU_ASSERT_STRING_EQUAL(c->expects[2].text, "panic");
	CU_ASSERT_EQUAL(c->expects[3].kind, SUITE_REJECT_REGEX);
	CU_ASSERT_STRING_EQUAL(c->expects[3].text, "FAIL|BUG");
	CU_ASSERT_EQUAL(c->expects[4].kind, SUITE_STDERR);
	CU_ASSERT_STRING_EQUAL(c->expects[4].text, "warning");
	CU_ASSERT_STRING_EQUAL(c->output, "full.out");
	CU_ASSERT_STRING_EQUAL(c->exits, "full.exits");
	CU_ASSERT_STRING_EQUAL(c->exit_counts, "full.counts");
	CU_ASSERT_TRUE(c->summary);
	CU_ASSERT_TRUE(c->allow_triple_fault);
	CU_ASSERT_TRUE(c->allow_vmx_abort);
	CU_ASSERT_TRUE(c->allow_entry_failure);
	CU_ASSERT_TRUE(c->reboot);
	suite_free(&s);
}

static void test_status_words(void)
{
	struct suite s;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(load_text(&s,
					"case a kernel=k status=triple-fault\n"
					"case b kernel=k status=vmx-abort,cycle-limit,halted\n"
					"case c kernel=k status=exit:200,255,0\n"
					"case d kernel=k status=4\n",
					NULL, err, sizeof(err), NULL), 0);
	CU_ASSERT_EQUAL_FATAL(s.ncases, 4);
	CU_ASSERT_EQUAL(s.cases[0].status[0], CLI_EXIT_TRIPLE_FAULT);
	CU_ASSERT_TRUE(s.cases[0].allow_triple_fault);
	CU_ASSERT_FALSE(s.cases[0].allow_vmx_abort);
	CU_ASSERT_EQUAL(s.cases[1].nstatus, 3);
	CU_ASSERT_EQUAL(s.cases[1].status[0], CLI_EXIT_VMX_ABORT);
	CU_ASSERT_EQUAL(s.cases[1].status[1], CLI_EXIT_CYCLE_LIMIT);
	CU_ASSERT_EQUAL(s.cases[1].status[2], CLI_EXIT_HALTED);
	CU_ASSERT_TRUE(s.cases[1].allow_vmx_abort);
	CU_ASSERT_FALSE(s.cases[1].allow_triple_fault);
	CU_ASSERT_EQUAL(s.cases[2].status[0], ((200 << 1) | 1) & 0xff);
	CU_ASSERT_EQUAL(s.cases[2].status[1], 255);
	CU_ASSERT_EQUAL(s.cases[2].status[2], 0);
	CU_ASSERT_FALSE(s.cases[2].status_default);
	CU_ASSERT_TRUE(s.cases[3].allow_triple_fault);  /* 4 is the triple-fault status */
	suite_free(&s);
}

/* defaults apply to later cases only; a later defaults line overrides per
 * key; a case's key overrides a default; repeatable keys add up. */
static void test_defaults_lines(void)
{
	struct suite s;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(load_text(&s,
					"case early kernel=e\n"
					"defaults kernel=hv.elf smp=2 expect=hello summary module=m1\n"
					"case a\n"
					"case b smp=3 expect=world module=m2 kernel=other\n"
					"defaults smp=8 module=m3\n"
					"case c\n",
					NULL, err, sizeof(err), NULL), 0);
	CU_ASSERT_EQUAL_FATAL(s.ncases, 4);
	const struct suite_case *e = &s.cases[0], *a = &s.cases[1], *b = &s.cases[2], *c = &s.cases[3];
	CU_ASSERT_EQUAL(e->smp, 0);
	CU_ASSERT_FALSE(e->summary);
	CU_ASSERT_EQUAL(e->nexpects, 0);
	CU_ASSERT_STRING_EQUAL(a->kernel, "hv.elf");
	CU_ASSERT_EQUAL(a->smp, 2);
	CU_ASSERT_TRUE(a->summary);
	CU_ASSERT_EQUAL(a->nexpects, 1);
	CU_ASSERT_STRING_EQUAL(b->kernel, "other");
	CU_ASSERT_EQUAL(b->smp, 3);
	CU_ASSERT_EQUAL_FATAL(b->nexpects, 2);
	CU_ASSERT_STRING_EQUAL(b->expects[0].text, "hello");
	CU_ASSERT_STRING_EQUAL(b->expects[1].text, "world");
	CU_ASSERT_EQUAL_FATAL(b->nmodules, 2);
	CU_ASSERT_STRING_EQUAL(b->modules[0], "m1");
	CU_ASSERT_STRING_EQUAL(b->modules[1], "m2");
	CU_ASSERT_EQUAL(c->smp, 8);
	CU_ASSERT_STRING_EQUAL(c->kernel, "hv.elf");    /* not given again: kept */
	CU_ASSERT_EQUAL_FATAL(c->nmodules, 1);
	CU_ASSERT_STRING_EQUAL(c->modules[0], "m3");    /* given again: replaced */
	CU_ASSERT_EQUAL(c->nexpects, 1);
	suite_free(&s);
}

static void test_quoting(void)
{
	struct suite s;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(load_text(&s,
					"case q kernel=k\\ 1.elf append=\"a \\\"b\\\" \\$c \\x\" expect='it''s #1' "
					"expect=a\\'b expect=x#y expect= expect=\"\" expect=cost$ # a trailing comment\n"
					"  expect=$$HOME  expect='$HOME'\r\n",
					NULL, err, sizeof(err), NULL), 0);
	CU_ASSERT_EQUAL_FATAL(s.ncases, 1);
	const struct suite_case *c = &s.cases[0];
	CU_ASSERT_STRING_EQUAL(c->kernel, "k 1.elf");
	CU_ASSERT_STRING_EQUAL(c->append, "a \"b\" $c \\x");
	CU_ASSERT_EQUAL_FATAL(c->nexpects, 8);
	CU_ASSERT_STRING_EQUAL(c->expects[0].text, "its #1");
	CU_ASSERT_STRING_EQUAL(c->expects[1].text, "a'b");
	CU_ASSERT_STRING_EQUAL(c->expects[2].text, "x#y");
	CU_ASSERT_STRING_EQUAL(c->expects[3].text, "");
	CU_ASSERT_STRING_EQUAL(c->expects[4].text, "");
	CU_ASSERT_STRING_EQUAL(c->expects[5].text, "cost$");
	CU_ASSERT_STRING_EQUAL(c->expects[6].text, "$HOME");
	CU_ASSERT_STRING_EQUAL(c->expects[7].text, "$HOME");
	suite_free(&s);
}

/* -D over set over the environment; a set line is visible to later lines only. */
static void test_expansion(void)
{
	struct suite s;
	char err[256];
	const char *defs_list[] = { "D1=fromD", "BOTH=early", "BOTH=late" };
	struct suite_defs defs = { defs_list, 3 };

	setenv("VTXSIM_MF_ENV", "fromenv", 1);
	setenv("VTXSIM_MF_SHADOW", "env", 1);
	CU_ASSERT_EQUAL_FATAL(load_text(&s,
					"set D1=fromset S=fromset VTXSIM_MF_SHADOW=set\n"
					"set T=${S}2\n"
					"case v kernel=$D1/k.elf append=\"$S ${T} $VTXSIM_MF_ENV $BOTH\"\n"
					"  expect=$VTXSIM_MF_SHADOW\n",
					&defs, err, sizeof(err), NULL), 0);
	CU_ASSERT_EQUAL_FATAL(s.ncases, 1);
	CU_ASSERT_STRING_EQUAL(s.cases[0].kernel, "fromD/k.elf");
	CU_ASSERT_STRING_EQUAL(s.cases[0].append, "fromset fromset2 fromenv late");
	CU_ASSERT_EQUAL_FATAL(s.cases[0].nexpects, 1);
	CU_ASSERT_STRING_EQUAL(s.cases[0].expects[0].text, "set");
	suite_free(&s);
	unsetenv("VTXSIM_MF_ENV");
	unsetenv("VTXSIM_MF_SHADOW");
	/* A set line after the case does not reach back. */
	expect_error("case v kernel=$LATER_VAR\nset LATER_VAR=x\n", 1, "$LATER_VAR is not defined", "-D LATER_VAR=");
}

static void test_errors(void)
{
	expect_error("case a kernel=k bogus=1\n", 1, "unknown key 'bogus'", "kernel append module");
	expect_error("case a kernel=k bogus\n", 1, "unknown flag 'bogus'", "summary");
	expect_error("case a kernel=k summary=yes\n", 1, "summary is a flag", NULL);
	expect_error("# c\ncase a append=x\n", 2, "case a has no kernel=", NULL);
	expect_error("case a kernel=k\n  smp=two\n", 2, "smp=two: not a number", NULL);
	expect_error("case a kernel=k smp=65\n", 1, "smp=65: out of 1..64", NULL);
	expect_error("case a kernel=k smp=0\n", 1, "out of 1..64", NULL);
	expect_error("case a kernel=k max-cycles=12x\n", 1, "max-cycles=12x: not a number", NULL);
	expect_error("case a kernel=k timeout=-1\n", 1, "timeout=-1: not a number", NULL);
	expect_error("case a kernel=k status=exit:zero\n", 1, "'exit:zero' is not a status", "power-off");
	expect_error("case a kernel=k status=0,reboot\n", 1, "'reboot' is not a status", NULL);
	expect_error("case a kernel=k status=256\n", 1, "'256' is not a status", NULL);
	expect_error("case a kernel=k\n\ncase a kernel=k\n", 3, "case a is already defined at", ":1;");
	expect_error("case a/b kernel=k\n", 1, "case name 'a/b'", "letters, digits");
	expect_error("case kernel=k\n", 1, "case name 'kernel=k'", NULL);
	expect_error("case a kernel=k expect-re=(unclosed\n", 1, "expect-re=(unclosed: not a POSIX extended", NULL);
	expect_error("case a kernel=k reject-re=a{1\n", 1, "reject-re=a{1", NULL);
	expect_error("case a kernel=k\n  kernel=j\n", 2, "kernel= given twice (first at line 1)", NULL);
	expect_error("case a kernel=k module=\" args\"\n", 1, "no module path", NULL);
	expect_error("case a kernel=k module=\n", 1, "no module path", NULL);
	expect_error("case a kernel=k module=,x\n", 1, "module=\",x\": a module path cannot start with ','", NULL);
	expect_error("  case a kernel=k\n", 1, "indented line", NULL);
	expect_error("kase a kernel=k\n", 1, "unknown entry 'kase'", NULL);
	expect_error("case a kernel='k\n", 1, "unterminated '...' quote", NULL);
	expect_error("case a kernel=\"k\n", 1, "unterminated \"...\" quote", NULL);
	expect_error("case a kernel=k args=\"'x\"\n", 1, "args=: unterminated", NULL);
	expect_error("case a kernel=$NO_SUCH_VTXSIM_VAR\n", 1, "$NO_SUCH_VTXSIM_VAR is not defined", "set line");
	expect_error("case a kernel=${9x}\n", 1, "bad ${...}", NULL);
	expect_error("set 9x=1\n", 1, "set '9x=1'", "VAR=VALUE");
	expect_error("case a kernel=k cpu=no-such-model\n", 1, "cpu=no-such-model:", NULL);
	expect_error("case a kernel=k memory=lots\n", 1, "memory=lots: not a size", NULL);
	expect_error("case a kernel=k output=\n", 1, "output= needs a file name", NULL);
	expect_error("case a kernel=k status=0,1,2,3,4,5,6,7,8\n", 1, "at most 8 statuses", NULL);
	expect_error("defaults smp=99\ncase a kernel=k\n", 1, "smp=99: out of 1..64", NULL);
	expect_error("case a kernel=k\ncase b kernel=k expect-re=[\n", 2, "expect-re=[", NULL);
}

/* Two manifests add up; a duplicate across them names both places; a
 * failed load leaves the suite as it was; dir is the manifest's directory. */
static void test_two_manifests(void)
{
	struct tmp t;
	struct suite s = { 0 };
	char err[512], want[300];

	tmp_open(&t);
	const char *p1 = tmp_write(&t, "one.vts", "case a kernel=k\ncase b kernel=k\n");
	const char *p2 = tmp_write(&t, "two.vts", "case c kernel=k\n");
	const char *p3 = tmp_write(&t, "three.vts", "case d kernel=k\n\ncase b kernel=j\n");
	CU_ASSERT_EQUAL_FATAL(suite_load(&s, p1, NULL, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(suite_load(&s, p2, NULL, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(s.ncases, 3);
	CU_ASSERT_STRING_EQUAL(s.cases[2].name, "c");
	CU_ASSERT_STRING_EQUAL(s.cases[2].manifest, p2);
	CU_ASSERT_STRING_EQUAL(s.cases[2].dir, t.dir);
	CU_ASSERT_EQUAL(suite_load(&s, p3, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: case b is already defined at %s:2", p3, p1);
	CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
	CU_ASSERT_EQUAL(s.ncases, 3);           /* d rolled back */
	CU_ASSERT_EQUAL(suite_load(&s, "/nonexistent/x.vts", NULL, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(strncmp(err, "/nonexistent/x.vts: ", 20), 0);
	CU_ASSERT_EQUAL(s.ncases, 3);
	suite_free(&s);
	tmp_close(&t);
}

/* dir as given: "." for a bare name; relative directories kept relative. */
static void test_dir(void)
{
	struct suite s = { 0 };
	char err[256], old[512], sub[160];
	struct tmp t;

	tmp_open(&t);
	snprintf(sub, sizeof(sub), "%s/sub", t.dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0700), 0);
	tmp_write(&t, "sub/x.vts", "case x kernel=k\n");
	tmp_write(&t, "y.vts", "case y kernel=k\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(old, sizeof(old)));
	CU_ASSERT_EQUAL_FATAL(chdir(t.dir), 0);
	CU_ASSERT_EQUAL(suite_load(&s, "sub/x.vts", NULL, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(suite_load(&s, "y.vts", NULL, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(chdir(old), 0);
	CU_ASSERT_EQUAL_FATAL(s.ncases, 2);
	CU_ASSERT_STRING_EQUAL(s.cases[0].dir, "sub");
	CU_ASSERT_STRING_EQUAL(s.cases[0].manifest, "sub/x.vts");
	CU_ASSERT_STRING_EQUAL(s.cases[1].dir, ".");
	suite_free(&s);
	tmp_close(&t);
	rmdir(sub);
	rmdir(t.dir);
}

static void test_case_argv(void)
{
	struct suite s;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(load_text(&s, full_manifest, NULL, err, sizeof(err), NULL), 0);
	char **argv = suite_case_argv(&s.cases[0], "../build/vtxsim");
	const char *want[] = { "../build/vtxsim", "-kernel", "hv.elf", "-append", "console=ttyS0 x=1",
			       "-initrd", "guest.elf a=1,initrd,,v2.img", "-m", "512M", "-smp", "4",
			       "-cpu", "haswell,-vmx-ept-ad", "--max-cycles", "4096",
			       "--trace", "exits", "--seed", "5", NULL };
	CU_ASSERT_PTR_NOT_NULL_FATAL(argv);
	for (int i = 0; want[i] || argv[i]; i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(argv[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(want[i]);
		CU_ASSERT_STRING_EQUAL(argv[i], want[i]);
	}
	suite_argv_free(argv);
	suite_free(&s);

	/* The minimal case: -no-reboot and the default cycle limit. */
	CU_ASSERT_EQUAL_FATAL(load_text(&s, "case m kernel=k.elf\n", NULL, err, sizeof(err), NULL), 0);
	argv = suite_case_argv(&s.cases[0], "vtxsim");
	const char *want2[] = { "vtxsim", "-kernel", "k.elf", "-no-reboot", "--max-cycles", "10000000000", NULL };
	CU_ASSERT_PTR_NOT_NULL_FATAL(argv);
	for (int i = 0; want2[i] || argv[i]; i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(argv[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(want2[i]);
		CU_ASSERT_STRING_EQUAL(argv[i], want2[i]);
	}
	suite_argv_free(argv);
	suite_free(&s);
}

/* sim/cli.c reads the -initrd list back into the same module strings. */
static void test_initrd_round_trip(void)
{
	struct suite s;
	struct cli cl;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(load_text(&s, "case m kernel=k module=a,b module='trail,' module=\"c x,y\" module=z,\n",
					NULL, err, sizeof(err), NULL), 0);
	char **argv = suite_case_argv(&s.cases[0], "vtxsim");
	CU_ASSERT_PTR_NOT_NULL_FATAL(argv);
	int argc = 0;
	while (argv[argc])
		argc++;
	CU_ASSERT_EQUAL_FATAL(cli_parse(&cl, argc, argv, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(cl.cfg.nmodules, 4);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_STRING_EQUAL(cl.cfg.modules[i], s.cases[0].modules[i]);
	CU_ASSERT_EQUAL(cl.cfg.max_cycles, 10000000000ull);
	CU_ASSERT_TRUE(cl.cfg.no_reboot);
	cli_free(&cl);
	suite_argv_free(argv);
	suite_free(&s);
}

static void test_shell_command(void)
{
	char *const argv[] = { "vtxsim", "-append", "a b", "-x", "it's", "$HOME", "", "--max-cycles", "5",
			       "k=v,w:1/2@x%y+z", NULL };
	char *cmd = suite_shell_command(".", argv);

	CU_ASSERT_PTR_NOT_NULL_FATAL(cmd);
	CU_ASSERT_STRING_EQUAL(cmd, "vtxsim -append 'a b' -x 'it'\\''s' '$HOME' '' --max-cycles 5 k=v,w:1/2@x%y+z");
	free(cmd);
	cmd = suite_shell_command("tests/my guests", argv + 7);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cmd);
	CU_ASSERT_STRING_EQUAL(cmd, "cd 'tests/my guests' && --max-cycles 5 k=v,w:1/2@x%y+z");
	free(cmd);
	cmd = suite_shell_command("tests/guests", argv + 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cmd);
	CU_ASSERT_STRING_EQUAL(cmd, "cd tests/guests && 5 k=v,w:1/2@x%y+z");
	free(cmd);
}

void suite_sim_suite_manifest(void)
{
	CU_pSuite s = CU_add_suite("sim_suite_manifest", NULL, NULL);

	CU_add_test(s, "a minimal case gets the defaults", test_defaults);
	CU_add_test(s, "every key and flag", test_every_key);
	CU_add_test(s, "status words, numbers, exit:V; implied allow flags", test_status_words);
	CU_add_test(s, "defaults lines: later cases, per-key override, lists add up", test_defaults_lines);
	CU_add_test(s, "sh quoting, comments, CRLF", test_quoting);
	CU_add_test(s, "expansion: -D over set over environment", test_expansion);
	CU_add_test(s, "every error class with FILE:LINE", test_errors);
	CU_add_test(s, "two manifests add up; duplicate across them", test_two_manifests);
	CU_add_test(s, "dir is the manifest's directory as given", test_dir);
	CU_add_test(s, "suite_case_argv: the exact vector", test_case_argv);
	CU_add_test(s, "-initrd list read back by sim/cli.c", test_initrd_round_trip);
	CU_add_test(s, "suite_shell_command quoting", test_shell_command);
}
