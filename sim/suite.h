/* `vtxsim test`: the suite runner (docs/testing-hypervisors.md is the
 * user's reference; this header is the contract between its parts).
 *
 * - sim/suite_manifest.c: the manifest (a plain-text list of cases) into
 *   struct suite.
 * - sim/suite_check.c: judging one finished case from its outputs (exit
 *   status, the run result of sim/result.h, COM1 output, stderr, the
 *   `--trace exits` lines): result conventions (isa-debug-exit status,
 *   kvm-unit-tests PASS:/FAIL:/SKIP:/SUMMARY: lines, TAP), expectations,
 *   golden files; and the new text of golden files for --update-golden.
 * - sim/suite_run.c: `vtxsim test` itself: options, running cases in
 *   parallel (each its own vtxsim process, with a wall-clock and a cycle
 *   limit), the progress line and the per-case lines in manifest order.
 * - sim/suite_report.c: the summary table, JUnit XML, TAP, coverage.
 *
 * Deterministic output: everything printed about a case comes from the
 * simulation (statuses, cycles, text), never from host time, so two runs
 * of a suite print the same report, whatever -j is. Wall-clock time shows
 * only on the progress line of a terminal.
 */
#ifndef SIM_SUITE_H
#define SIM_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/result.h"

/* ---- the manifest (sim/suite_manifest.c) ----
 *
 * A manifest is UTF-8 text, one entry per case:
 *
 *   # comment (a line whose first non-blank is #)
 *   set VAR=VALUE              define $VAR unless -D already did
 *   defaults KEY=VALUE...      keys that apply to every later case (a later
 *                              defaults line overrides per key)
 *   case NAME KEY=VALUE... FLAG...
 *       KEY=VALUE...           an indented line continues the entry above
 *
 * Words split with sh rules: '...' and "..." quote, \ escapes outside
 * single quotes. $VAR and ${VAR} expand (not inside '...'), from -D, then
 * set lines, then the environment; an undefined variable is an error.
 * NAME: [A-Za-z0-9_.+-]+, unique over all manifests of a run.
 *
 * Keys (paths are relative to the manifest's directory, where the case
 * runs; they reach vtxsim as written, so the guest's command line, and
 * its cycles, do not depend on where `vtxsim test` was started):
 *   kernel=PATH        required; -kernel
 *   append=TEXT        -append
 *   module="PATH [ARGS]"  a multiboot module, repeatable (-initrd "a,b")
 *   smp=N  cpu=MODEL[,+F,-F]  memory=SIZE (-m)
 *   max-cycles=N       simulated-cycle limit (default 10000000000)
 *   timeout=SECONDS    wall-clock limit (default 300)
 *   args="ARGS"        further vtxsim arguments, split with sh rules
 *   status=S[,S...]    accepted exit statuses: a number, exit:V (isa-debug-exit
 *                      value V: status (V << 1) | 1), or power-off, triple-fault,
 *                      cycle-limit, halted, vmx-abort. Default exit:0; then
 *                      exit:77 means the case was skipped (kvm-unit-tests)
 *   expect=TEXT        a line of COM1 output contains TEXT (repeatable)
 *   expect-re=REGEX    a line matches the POSIX extended REGEX (repeatable)
 *   reject=TEXT  reject-re=REGEX   no line contains / matches it (repeatable)
 *   stderr=TEXT        vtxsim's stderr contains TEXT (repeatable)
 *   output=FILE        COM1 output equals FILE (golden)
 *   exits=FILE         the VM-exit trace equals FILE (golden; format below)
 *   exit-counts=FILE   VM exits by reason equal FILE (golden)
 * Flags:
 *   summary            require a SUMMARY: line with no unexpected failures
 *   allow-triple-fault  allow-vmx-abort  allow-entry-failure
 *                      (status=triple-fault / vmx-abort imply the first two)
 *   reboot             do not pass -no-reboot (the default passes it)
 *
 * Decided where the above is silent (sim/suite_manifest.c):
 * - Lexing: a quote closes on its own line; blank and comment lines inside
 *   an entry do not end it; an unquoted word starting with # comments out
 *   the rest of its line (sh); CRLF line ends are accepted.
 * - Expansion never splits a word (unlike sh); a $ not followed by a name,
 *   { or $ is literal (sh), so expect-re=done$ works; the last -D of a name
 *   wins, -D VAR without = is empty; a later set redefines, and
 *   `set A=1 B=$A` sees A. set and defaults lines are per manifest.
 * - args= is split again with quotes and \ only (no $, no comments).
 * - A key given twice in one entry is an error unless repeatable; flags may
 *   repeat. A case's key overrides the default; repeatable keys add up,
 *   the defaults' first; a later defaults line replaces a key's list.
 * - Numbers: decimal, or hexadecimal after 0x. max-cycles and timeout at
 *   least 1; status numbers and exit:V values 0..255, at most
 *   SUITE_MAX_STATUS; status 4 / 12 imply allow-triple-fault / -vmx-abort.
 * - cpu= is checked as -cpu checks it (sim/cpu_spec.h); memory= for its
 *   form only (vtxsim checks the range); a module path cannot start with
 *   ',' (vtxsim's -initrd list could not carry it).
 * - dir: the manifest path up to its last '/', as given ("." without one).
 * - suite_load on error leaves s as it was (no case of that manifest).
 */

enum suite_match { SUITE_CONTAINS, SUITE_REGEX, SUITE_REJECT, SUITE_REJECT_REGEX, SUITE_STDERR };

struct suite_expect {
	enum suite_match kind;
	char *text;
};

#define SUITE_MAX_STATUS 8

struct suite_case {
	char *name;
	char *manifest;                 /* the manifest's path, as given */
	int line;                       /* the line its `case` word is on */
	char *dir;                      /* where it runs: the manifest's directory */
	char *kernel;
	char *append;                   /* NULL: none */
	char **modules;                 /* "PATH [ARGS]" each */
	int nmodules;
	int smp;                        /* 0: vtxsim's default */
	char *cpu, *memory;             /* NULL: vtxsim's default */
	uint64_t max_cycles;
	unsigned timeout;               /* seconds */
	char **args;
	int nargs;
	bool reboot;
	int status[SUITE_MAX_STATUS];   /* accepted exit statuses */
	int nstatus;
	bool status_default;            /* no status= given: exit:0, exit:77 = skipped */
	bool summary, allow_triple_fault, allow_vmx_abort, allow_entry_failure;
	struct suite_expect *expects;
	int nexpects;
	char *output, *exits, *exit_counts;     /* golden files, or NULL */
};

struct suite {
	struct suite_case *cases;
	int ncases;
};

/* -D VAR=VALUE definitions, in command-line order. */
struct suite_defs {
	const char *const *defs;
	int ndefs;
};

/* Add the cases of the manifest at path to s (several manifests add up).
 * 0, or -1 with one line "FILE:LINE: what is wrong" in err. */
int suite_load(struct suite *s, const char *path, const struct suite_defs *defs, char *err, size_t errlen);
void suite_free(struct suite *s);

/* The vtxsim argument vector of a case (argv[0] = vtxsim), NULL-terminated,
 * without the runner's own plumbing: what the replay command shows. The
 * caller frees it with suite_argv_free. NULL when out of memory. */
char **suite_case_argv(const struct suite_case *c, const char *vtxsim);
void suite_argv_free(char **argv);
/* argv as one sh command line, quoted where needed ("cd DIR && " first
 * when dir is not "."); malloc'd. */
char *suite_shell_command(const char *dir, char *const *argv);

/* ---- judging a case (sim/suite_check.c) ---- */

enum suite_ended { SUITE_EXITED, SUITE_SIGNALED, SUITE_TIMED_OUT, SUITE_NOT_RUN };

/* What a finished case left. Texts are NUL-terminated (len excludes it). */
struct suite_outputs {
	enum suite_ended ended;
	int status;                     /* SUITE_EXITED: the exit status */
	int signal;                     /* SUITE_SIGNALED */
	unsigned timeout;               /* SUITE_TIMED_OUT: the limit, seconds */
	const char *not_run;            /* SUITE_NOT_RUN: why (could not start) */
	const struct run_result *result;        /* NULL: no (readable) --result file */
	const char *result_error;       /* why result is NULL */
	const char *serial;
	size_t serial_len;
	const char *err;
	size_t err_len;
	const char *trace;              /* --trace exits JSON lines; NULL unless asked */
	size_t trace_len;
};

enum suite_outcome { SUITE_PASS, SUITE_FAIL, SUITE_SKIP };

/* Sub-results the guest reported (kvm-unit-tests lines and TAP). */
struct suite_counts {
	unsigned pass, fail, skip, xfail, xpass;
	bool summary;                   /* a SUMMARY: line was seen (the last one counts) */
	unsigned sum_tests, sum_unexpected, sum_expected, sum_skipped;
	int tap_plan;                   /* -1: no "1..N" line */
	/* Disjoint: ok (also "ok # TODO"), not ok, "# SKIP", "not ok # TODO";
	 * their sum is the number of TAP test lines. */
	unsigned tap_ok, tap_not_ok, tap_skip, tap_todo;
	bool tap_bail;                  /* a "Bail out!" line */
};

struct suite_verdict {
	enum suite_outcome outcome;
	char why[320];                  /* FAIL/SKIP: one line; PASS: "" */
	/* The first difference, when there is one (golden file, expectation,
	 * FAIL: line): where, and the two lines ("" when absent). */
	char where[160];                /* "COM1 output line 12", "exit 3 (cpu0)", ... */
	char want[256], got[256];
	uint64_t cycle;                 /* of the difference, else the end cycle; UINT64_MAX: unknown */
	struct suite_counts counts;
	uint64_t cycles, exits;         /* from the run result (0 when missing) */
};

/* Judge c from o. Golden files are read relative to c->dir. The checks run
 * in this order and the first failure is the verdict: how the process
 * ended (not started, crashed, timed out, no result file); the exit status;
 * triple fault, VMX abort, failed VM entry unless allowed; FAIL:/XPASS:
 * lines, a SUMMARY: with unexpected failures, TAP "not ok" or a short
 * plan; `summary`; expect/expect-re/reject/reject-re; stderr; output=;
 * exits=; exit-counts=. SKIP: status exit:77 under the default status. */
void suite_judge(const struct suite_case *c, const struct suite_outputs *o, struct suite_verdict *v);

/* Count the result lines of a COM1 log. */
void suite_scan_log(const char *text, size_t len, struct suite_counts *k);

enum suite_golden { SUITE_GOLDEN_OUTPUT, SUITE_GOLDEN_EXITS, SUITE_GOLDEN_EXIT_COUNTS };

/* The golden text this run would have, for --update-golden: the COM1
 * output as is; the exit trace as one line per VM exit
 *   cpuN REASON NAME qual=0xQ rip=0xR      (REASON decimal; NAME from the
 *                                           table; entry failures "REASON+ef")
 * converted from the `--trace exits` JSON; the exit counts as one line per
 * reason, "REASON NAME COUNT", entry failures after plain exits. malloc'd
 * text in *text; -1 with a message when o lacks what it needs. */
int suite_golden_text(enum suite_golden g, const struct suite_outputs *o, char **text, size_t *len, char *err,
		      size_t errlen);

/* ---- reports and coverage (sim/suite_report.c) ---- */

/* Coverage summed over cases: add each case's run result. */
struct suite_coverage {
	unsigned cases;
	struct run_result sum;          /* line_cycles unused */
	unsigned exit_cases[RESULT_REASONS];    /* how many cases saw each reason */
};

void suite_coverage_add(struct suite_coverage *cov, const struct run_result *r);
/* The --coverage report (plain text, docs/testing-hypervisors.md):
 * every exit reason, entry check id, VMX instruction and vector 0-31 of
 * the tables, with its count, "never" for those no case reached, and a
 * summary line per kind ("exit reasons: 41 of 66 exercised"). */
void suite_coverage_write(const struct suite_coverage *cov, FILE *f);

/* One case's finished state, as the reports need it. */
struct suite_report_case {
	const struct suite_case *c;
	struct suite_verdict v;
	char *replay;                   /* suite_shell_command of the case's argv */
	char *debug;                    /* a failed case: the replay under --debug, stopped at the
					 * cycle of the verdict (--debug-cmd 'until N') when known */
	/* Added by sim/suite_report.c's author (runner): */
	char status[32];                /* how the process ended, for the table: "1", "signal 11", "timeout", "-" */
	const char *serial;             /* the COM1 output for JUnit <system-out>, or NULL */
	size_t serial_len;
	bool updated;                   /* --update-golden rewrote a golden file of the case */
	char *update_note;              /* --update-golden: what it did (the diffs), shown under the case; or NULL */
};

/* The lines `vtxsim test` prints for a finished case: "ok NAME", "skip
 * NAME: why" or "FAIL NAME: why" with the details indented under it (where
 * and cycle, want/got, the replay and debug commands, the output files in
 * outdir when not NULL), then update_note. */
void suite_case_write(const struct suite_report_case *rc, const char *outdir, FILE *f);

/* JUnit XML (the elements GitLab, Jenkins and GitHub read: testsuites >
 * testsuite > testcase, failure/skipped, system-out). 0, or -1 when
 * writing failed. */
int suite_junit_write(const struct suite_report_case *rc, int n, const char *suite_name, FILE *f);
/* TAP version 13 on f: plan, one ok/not ok line per case, YAML diagnostics on failures. */
void suite_tap_write(const struct suite_report_case *rc, int n, FILE *f);
/* The summary table: case, result, status, cycles, exits, sub-results. */
void suite_table_write(const struct suite_report_case *rc, int n, FILE *f);

/* ---- `vtxsim test` (sim/suite_run.c) ---- */

/* argv[0] is "test". The process exit status: 0 all cases passed (or were
 * skipped), 1 some failed, 2 usage or manifest error. */
int suite_main(int argc, char **argv);

#endif
