/* `vtxsim test [OPTIONS] MANIFEST...` (sim/suite.h, docs/testing-hypervisors.md):
 * load the manifests, run each case as its own vtxsim process (its own
 * process group, a wall-clock limit, outputs in --out DIR), judge it, and
 * print the per-case lines in manifest order, the table, the reports and
 * "N passed, M failed".
 *
 * Signals: SIGCHLD, SIGINT, SIGTERM and SIGHUP stay blocked in the runner
 * and are taken with sigtimedwait in the one wait loop, so no handler and
 * no global flag is needed; children get the signal mask and dispositions
 * they would have had. */
#define _GNU_SOURCE
#include "sim/suite.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct suite_opts {
	int jobs;
	const char **defs;
	int ndefs;
	const char **only;
	int nonly;
	bool list, tap, update, quiet, verbose;
	const char *junit, *coverage, *out, *vtxsim;
	const char **manifests;
	int nmanifests;
};

/* One selected case: how far it got and what it left. */
struct case_run {
	struct suite_report_case rc;
	char **argv;                    /* suite_case_argv, for the replay line */
	pid_t pid;                      /* running: > 0 */
	int errfd;                      /* running: reads why the exec failed */
	double deadline;                /* running: monotonic seconds; 0: none */
	bool started, timed_out, done;
	char *serial;
	size_t serial_len;
};

struct runner {
	struct suite_opts o;
	struct suite s;
	struct case_run *cr;            /* the selected cases, manifest order */
	int n;
	char *out;                      /* --out, absolute */
	char *vtxsim;                   /* the binary the cases run */
	struct suite_coverage *cov;     /* --coverage, or NULL */
	sigset_t sigs;
	int running, next_start, next_print;
	int passed, failed, skipped;
	bool progress;                  /* a progress line is drawn on a terminal */
	bool progress_shown;
	double t0;
	bool interrupted;
};

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- options ---- */

static void usage(FILE *f)
{
	fprintf(f, "usage: vtxsim test [OPTIONS] MANIFEST...\n"
		"Run the cases of the manifests, each its own vtxsim process (docs/testing-hypervisors.md).\n\n"
		"options:\n"
		"  -j N              cases in parallel (default: the host's online cores)\n"
		"  -D VAR=VALUE      define a manifest variable (repeatable)\n"
		"  --list            print the case names, one per line, and exit\n"
		"  --only PATTERN    run only the cases whose name matches (fnmatch; repeatable)\n"
		"  --junit FILE      write a JUnit XML report\n"
		"  --tap             TAP on stdout instead of the per-case lines and the table\n"
		"  --coverage FILE   write the coverage report (exit reasons, entry checks, VMX instructions, vectors)\n"
		"  --update-golden   rewrite the golden files of the cases run from this run's outputs, showing diffs\n"
		"  --out DIR         case outputs: NAME.serial, .stderr, .result, .exits (default ./vtxsim-test.out)\n"
		"  --vtxsim PATH     run the cases with this vtxsim (default: this one)\n"
		"  -q                no progress line; print only failures and the final line\n"
		"  -v                print the summary table even when every case passed\n"
		"  -h, --help        this help\n\n"
		"exit status: 0 every case passed or was skipped, 1 a case failed, 2 usage or manifest error,\n"
		"130 interrupted\n");
}

static bool parse_jobs(const char *s, int *jobs)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 4096)
		return false;
	*jobs = (int)v;
	return true;
}

static bool push(const char ***v, int *n, const char *s)
{
	const char **nv = realloc(*v, (size_t)(*n + 1) * sizeof(**v));
	if (!nv)
		return false;
	nv[(*n)++] = s;
	*v = nv;
	return true;
}

/* The value of option name at argv[*i]: "--opt=V", "-jV" or the next word. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, char *err, size_t errlen)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (a[n] == '=' && name[1] == '-')
		return a + n + 1;
	if (a[n] && name[1] != '-')
		return a + n;
	if (*i + 1 >= argc) {
		snprintf(err, errlen, "%s needs a value (vtxsim test -h)", name);
		return NULL;
	}
	return argv[++*i];
}

static bool opt_is(const char *a, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(a, name, n))
		return false;
	return !a[n] || (name[1] == '-' ? a[n] == '=' : true);
}

/* An option with a value; 0, or -1 with a message. */
static int set_valued(struct suite_opts *o, const char *name, const char *v, char *err, size_t errlen)
{
	if (!strcmp(name, "-j") && !parse_jobs(v, &o->jobs)) {
		snprintf(err, errlen, "-j %s: give a number of cases to run at once, 1 or more", v);
		return -1;
	}
	if ((!strcmp(name, "-D") && !push(&o->defs, &o->ndefs, v)) ||
	    (!strcmp(name, "--only") && !push(&o->only, &o->nonly, v))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!strcmp(name, "--junit"))
		o->junit = v;
	else if (!strcmp(name, "--coverage"))
		o->coverage = v;
	else if (!strcmp(name, "--out"))
		o->out = v;
	else if (!strcmp(name, "--vtxsim"))
		o->vtxsim = v;
	return 0;
}

/* 0, 1 after -h, or -1 with a message. */
static int parse_opts(struct suite_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	static const char *const valued[] = { "-j", "-D", "--only", "--junit", "--coverage", "--out", "--vtxsim" };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || !a[1]) {
			if (!push(&o->manifests, &o->nmanifests, a))
				goto oom;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return 1;
		if (!strcmp(a, "--list") || !strcmp(a, "--tap") || !strcmp(a, "--update-golden") || !strcmp(a, "-q") ||
		    !strcmp(a, "-v")) {
			o->list |= !strcmp(a, "--list");
			o->tap |= !strcmp(a, "--tap");
			o->update |= !strcmp(a, "--update-golden");
			o->quiet |= !strcmp(a, "-q");
			o->verbose |= !strcmp(a, "-v");
			continue;
		}
		size_t k = 0;
		while (k < sizeof(valued) / sizeof(valued[0]) && !opt_is(a, valued[k]))
			k++;
		if (k == sizeof(valued) / sizeof(valued[0])) {
			snprintf(err, errlen, "unknown option %s (vtxsim test -h lists them)", a);
			return -1;
		}
		const char *v = opt_value(argc, argv, &i, valued[k], err, errlen);
		if (!v || set_valued(o, valued[k], v, err, errlen))
			return -1;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* ---- files ---- */

static char *path_join(const char *dir, const char *name)
{
	char *p;
	if (name[0] == '/' || !strcmp(dir, "."))
		p = strdup(name);
	else if (asprintf(&p, "%s/%s", dir, name) < 0)
		p = NULL;
	return p;
}

static char *out_path(const struct runner *r, const struct suite_case *c, const char *ext)
{
	char *p;
	return asprintf(&p, "%s/%s.%s", r->out, c->name, ext) < 0 ? NULL : p;
}

/* The whole file, NUL-terminated; NULL (errno set) when it cannot be read. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	if (!f)
		return NULL;
	while (true) {
		if (cap - n < 65536) {
			char *nb = realloc(buf, cap = cap * 2 + 65536);
			if (!nb) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

/* mkdir -p. */
static int make_dirs(const char *path)
{
	char *p = strdup(path);
	if (!p)
		return -1;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0777) && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int rc = mkdir(p, 0777) && errno != EEXIST ? -1 : 0;
	free(p);
	return rc;
}

/* ---- running a case ---- */

/* What a child that could not exec writes on its pipe. */
struct spawn_failure {
	int stage;              /* 0: chdir to the case directory, 1: exec */
	int err;
};

/* In the child: async-signal-safe calls only. */
static void child_exec(const char *dir, int in, int out, int errfd, int pipefd, char **argv)
{
	struct spawn_failure sf = { 0, 0 };
	sigset_t none;
	sigemptyset(&none);
	setpgid(0, 0);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir(dir) == 0) {
		sf.stage = 1;
		if (dup2(in, 0) >= 0 && dup2(out, 1) >= 0 && dup2(errfd, 2) >= 0)
			execvp(argv[0], argv);
	}
	sf.err = errno;
	if (write(pipefd, &sf, sizeof(sf)) < 0)
		_exit(127);
	_exit(127);
}

/* argv of the case plus the runner's plumbing; NULL when out of memory. */
static char **plumbed_argv(const struct runner *r, const struct case_run *cr)
{
	const struct suite_case *c = cr->rc.c;
	int n = 0;
	while (cr->argv[n])
		n++;
	char **v = calloc((size_t)n + 9, sizeof(*v));
	if (!v)
		return NULL;
	memcpy(v, cr->argv, (size_t)n * sizeof(*v));
	bool ok = asprintf(&v[n], "file:%s/%s.serial", r->out, c->name) >= 0;
	char *serial = ok ? v[n] : NULL;
	v[n] = "-serial";
	v[n + 1] = serial;
	v[n + 2] = "--result";
	v[n + 3] = out_path(r, c, "result");
	if (c->exits || c->exit_counts) {
		v[n + 4] = "--trace";
		v[n + 5] = "exits";
		v[n + 6] = "--trace-file";
		v[n + 7] = out_path(r, c, "exits");
	}
	if (!v[n + 1] || !v[n + 3] || ((c->exits || c->exit_counts) && !v[n + 7])) {
		free(v[n + 1]);
		free(v[n + 3]);
		free(v[n + 7]);
		free(v);
		return NULL;
	}
	return v;
}

static void plumbed_free(const struct case_run *cr, char **v)
{
	int n = 0;
	while (cr->argv[n])
		n++;
	free(v[n + 1]);
	free(v[n + 3]);
	if (v[n + 4])
		free(v[n + 7]);
	free(v);
}

static void finish_not_run(struct runner *r, struct case_run *cr, const char *why);

/* Remove what an earlier run left, so a stale file is never judged. */
static void clear_outputs(const struct runner *r, const struct suite_case *c)
{
	static const char *const exts[] = { "serial", "stderr", "result", "exits" };
	for (size_t k = 0; k < sizeof(exts) / sizeof(exts[0]); k++) {
		char *p = out_path(r, c, exts[k]);
		if (p)
			unlink(p);
		free(p);
	}
}

/* Start case cr; a case that cannot start is finished at once. */
static void start_case(struct runner *r, struct case_run *cr)
{
	const struct suite_case *c = cr->rc.c;
	char msg[PATH_MAX + 160];
	clear_outputs(r, c);
	char *kernel = path_join(c->dir, c->kernel);
	bool missing = kernel && access(kernel, R_OK) != 0;
	if (missing)
		snprintf(msg, sizeof(msg), "kernel %s: %s (build it, or fix kernel= in %s:%d)", kernel, strerror(errno),
			 c->manifest, c->line);
	free(kernel);
	if (missing)
		return finish_not_run(r, cr, msg);
	char **argv = plumbed_argv(r, cr);
	char *errpath = out_path(r, c, "stderr");
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int errfd = errpath ? open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666) : -1;
	int p[2] = { -1, -1 };
	if (!argv || !errpath || in < 0 || out < 0 || errfd < 0 || pipe2(p, O_CLOEXEC)) {
		snprintf(msg, sizeof(msg), "cannot set up the case's process (%s): %s", errpath ? errpath : "?",
			 strerror(errno));
		finish_not_run(r, cr, msg);
	} else if ((cr->pid = fork()) == 0) {
		child_exec(c->dir, in, out, errfd, p[1], argv);
	} else if (cr->pid < 0) {
		snprintf(msg, sizeof(msg), "cannot start a process: %s", strerror(errno));
		cr->pid = 0;
		finish_not_run(r, cr, msg);
	} else {
		setpgid(cr->pid, cr->pid);      /* also the parent: no race with a kill */
		cr->started = true;
		cr->errfd = p[0];
		p[0] = -1;
		cr->deadline = c->timeout ? now_seconds() + c->timeout : 0;
		r->running++;
	}
	for (int k = 0; k < 2; k++)
		if (p[k] >= 0)
			close(p[k]);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (errfd >= 0)
		close(errfd);
	free(errpath);
	if (argv)
		plumbed_free(cr, argv);
}

/* ---- --update-golden ---- */

static void note_add(char **note, const char *fmt, const char *a, const char *b)
{
	char *line, *nn;
	if (asprintf(&line, fmt, a, b) < 0)
		return;
	if (asprintf(&nn, "%s%s\n", *note ? *note : "", line) >= 0) {
		free(*note);
		*note = nn;
	}
	free(line);
}

/* `diff -u` of old (NULL: none) and new, labelled with the golden file's
 * name (no timestamps: the report stays the same run after run), into
 * *note. */
static void show_diff(const char *old, const char *new_path, const char *label, char **note)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC))
		return note_add(note, "(cannot run diff: %s%s)", strerror(errno), "");
	char *argv[] = { "diff", "-u", "--label", (char *)label, "--label", (char *)label,
			 (char *)(old ? old : "/dev/null"), (char *)new_path, NULL };
	if (!old)
		argv[3] = "/dev/null";
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	pid_t pid = nul < 0 ? -1 : fork();
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(nul, 0) >= 0 && dup2(p[1], 1) >= 0 && dup2(nul, 2) >= 0)
			execvp("diff", argv);
		_exit(127);
	}
	close(p[1]);
	if (nul >= 0)
		close(nul);
	FILE *f = pid > 0 ? fdopen(p[0], "r") : NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *mem = f ? open_memstream(&text, &len) : NULL;
	char buf[4096];
	size_t got;
	while (mem && (got = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, got, mem);
	if (mem)
		fclose(mem);
	if (f)
		fclose(f);
	else
		close(p[0]);
	int st = 0;
	if (pid > 0)
		waitpid(pid, &st, 0);
	if (pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 127)
		note_add(note, "(diff is not installed: apt-get install diffutils to see what changed in %s%s)", label,
			 "");
	else if (text && len)
		note_add(note, "%s%s", text[len - 1] == '\n' ? (text[len - 1] = 0, text) : text, "");
	free(text);
}

/* Rewrite the golden files of c from o; true when one changed. */
static bool update_golden(const struct suite_case *c, const struct suite_outputs *o, char **note)
{
	static const enum suite_golden kinds[] = { SUITE_GOLDEN_OUTPUT, SUITE_GOLDEN_EXITS, SUITE_GOLDEN_EXIT_COUNTS };
	const char *files[] = { c->output, c->exits, c->exit_counts };
	bool changed = false;
	for (int k = 0; k < 3; k++) {
		char err[256], *text, *path = files[k] ? path_join(c->dir, files[k]) : NULL, *tmp = NULL;
		size_t len, oldlen = 0;
		if (!path)
			continue;
		if (suite_golden_text(kinds[k], o, &text, &len, err, sizeof(err))) {
			note_add(note, "golden file %s not updated: %s", path, err);
			free(path);
			continue;
		}
		char *old = slurp(path, &oldlen);
		if (!old || oldlen != len || memcmp(old, text, len)) {
			/* A new golden file may be the first in its directory. */
			char *slash = strrchr(path, '/');
			if (!old && slash && slash != path) {
				*slash = 0;
				if (make_dirs(path))
					note_add(note, "cannot create the directory %s: %s", path, strerror(errno));
				*slash = '/';
			}
			FILE *f = asprintf(&tmp, "%s.vtxsim-new", path) >= 0 ? fopen(tmp, "wb") : NULL;
			bool ok = f && fwrite(text, 1, len, f) == len;
			ok = f && !fclose(f) && ok;
			if (ok)
				show_diff(old ? path : NULL, tmp, path, note);
			if (ok && !rename(tmp, path)) {
				note_add(note, "updated %s%s", path, "");
				changed = true;
			} else {
				note_add(note, "cannot write golden file %s: %s", path, strerror(errno));
				if (tmp)
					unlink(tmp);
			}
		}
		free(old);
		free(tmp);
		free(text);
		free(path);
	}
	return changed;
}

/* ---- finishing a case ---- */

/* The replay of a failed case under the debugger: --debug, and when the
 * verdict has a cycle (the line or exit that differed), a first command
 * that runs to it (`until N`, docs/debugger.md), so the shell opens where
 * the case went wrong. NULL when out of memory (the line is then left out). */
static char *debug_command(const struct case_run *cr)
{
	const struct suite_verdict *v = &cr->rc.v;
	if (!cr->argv)
		return NULL;
	int n = 0;
	while (cr->argv[n])
		n++;
	char until[40];
	bool at = v->cycle != UINT64_MAX && v->cycle > 0;
	snprintf(until, sizeof(until), "until %" PRIu64, v->cycle);
	char **a = calloc((size_t)n + 4, sizeof(*a));
	if (!a)
		return NULL;
	memcpy(a, cr->argv, (size_t)n * sizeof(*a));
	a[n] = "--debug";
	if (at) {
		a[n + 1] = "--debug-cmd";
		a[n + 2] = until;
	}
	char *cmd = suite_shell_command(cr->rc.c->dir, a);
	free(a);
	return cmd;
}

static void judge_case(struct runner *r, struct case_run *cr, struct suite_outputs *o)
{
	const struct suite_case *c = cr->rc.c;
	struct run_result res = { 0 };
	bool read_result = false;
	char rerr[512];
	char *serial = NULL, *err = NULL, *trace = NULL;
	char *sp = out_path(r, c, "serial"), *ep = out_path(r, c, "stderr"), *xp = out_path(r, c, "exits");
	char *rp = out_path(r, c, "result");
	if (o->ended != SUITE_NOT_RUN) {
		serial = sp ? slurp(sp, &o->serial_len) : NULL;
		err = ep ? slurp(ep, &o->err_len) : NULL;
		if (c->exits || c->exit_counts)
			trace = xp ? slurp(xp, &o->trace_len) : NULL;
		read_result = rp != NULL;
		if (rp && !result_read(&res, rp, rerr, sizeof(rerr)))
			o->result = &res;
		else
			o->result_error = rp ? rerr : "out of memory";
	}
	o->serial = serial ? serial : "";
	o->err = err ? err : "";
	o->trace = trace;
	if (!serial)
		o->serial_len = 0;
	if (!err)
		o->err_len = 0;
	if (r->o.update && o->ended == SUITE_EXITED)
		cr->rc.updated = update_golden(c, o, &cr->rc.update_note);
	else if (r->o.update && (c->output || c->exits || c->exit_counts))
		note_add(&cr->rc.update_note, "golden files not updated: the case did not run to its end%s%s", "", "");
	suite_judge(c, o, &cr->rc.v);
	if (cr->rc.v.outcome == SUITE_FAIL)
		cr->rc.debug = debug_command(cr);
	if (r->cov && o->result)
		suite_coverage_add(r->cov, o->result);
	if (read_result)
		result_free(&res);
	if (r->o.junit && serial) {
		cr->serial = serial;
		cr->serial_len = o->serial_len;
		cr->rc.serial = serial;
		cr->rc.serial_len = o->serial_len;
	} else {
		free(serial);
	}
	free(err);
	free(trace);
	free(sp);
	free(ep);
	free(xp);
	free(rp);
}

static void finished(struct runner *r, struct case_run *cr, struct suite_outputs *o)
{
	switch (o->ended) {
	case SUITE_EXITED:
		snprintf(cr->rc.status, sizeof(cr->rc.status), "%d", o->status);
		break;
	case SUITE_SIGNALED:
		snprintf(cr->rc.status, sizeof(cr->rc.status), "signal %d", o->signal);
		break;
	case SUITE_TIMED_OUT:
		snprintf(cr->rc.status, sizeof(cr->rc.status), "timeout");
		break;
	case SUITE_NOT_RUN:
		snprintf(cr->rc.status, sizeof(cr->rc.status), "not run");
		break;
	}
	judge_case(r, cr, o);
	cr->done = true;
	r->passed += cr->rc.v.outcome == SUITE_PASS;
	r->failed += cr->rc.v.outcome == SUITE_FAIL;
	r->skipped += cr->rc.v.outcome == SUITE_SKIP;
}

static void finish_not_run(struct runner *r, struct case_run *cr, const char *why)
{
	struct suite_outputs o = { .ended = SUITE_NOT_RUN, .not_run = why };
	finished(r, cr, &o);
}

/* cr's process has ended with wait status st. */
static void finish_case(struct runner *r, struct case_run *cr, int st)
{
	struct spawn_failure sf;
	char why[PATH_MAX + 160];
	struct suite_outputs o = { 0 };
	ssize_t got = read(cr->errfd, &sf, sizeof(sf));
	close(cr->errfd);
	cr->pid = 0;
	r->running--;
	if (got == (ssize_t)sizeof(sf)) {
		if (sf.stage == 0)
			snprintf(why, sizeof(why), "cannot enter the case directory %s: %s", cr->rc.c->dir, strerror(sf.err));
		else
			snprintf(why, sizeof(why), "cannot run %s: %s (see --vtxsim)", r->vtxsim, strerror(sf.err));
		o.ended = SUITE_NOT_RUN;
		o.not_run = why;
	} else if (cr->timed_out) {
		o.ended = SUITE_TIMED_OUT;
		o.timeout = cr->rc.c->timeout;
	} else if (WIFSIGNALED(st)) {
		o.ended = SUITE_SIGNALED;
		o.signal = WTERMSIG(st);
	} else {
		o.ended = SUITE_EXITED;
		o.status = WEXITSTATUS(st);
	}
	finished(r, cr, &o);
}

/* ---- what the terminal shows ---- */

static void progress_clear(struct runner *r)
{
	if (r->progress_shown) {
		fputs("\r\033[K", stdout);
		r->progress_shown = false;
	}
}

static void progress_draw(struct runner *r)
{
	if (!r->progress)
		return;
	int done = r->passed + r->failed + r->skipped;
	printf("\r\033[K[%d/%d] %d running, %d failed, %.1f s", done, r->n, r->running, r->failed,
	       now_seconds() - r->t0);
	fflush(stdout);
	r->progress_shown = true;
}

/* Print the finished cases that are next in manifest order. */
static void print_ready(struct runner *r)
{
	while (r->next_print < r->n && (r->cr[r->next_print].done || r->interrupted)) {
		struct case_run *cr = &r->cr[r->next_print++];
		if (!cr->done)
			continue;       /* interrupted before it finished */
		if (r->o.tap || (r->o.quiet && cr->rc.v.outcome != SUITE_FAIL))
			continue;
		progress_clear(r);
		/* A case that never started left no outputs to point at. */
		suite_case_write(&cr->rc, cr->started ? r->out : NULL, stdout);
	}
	fflush(stdout);
}

/* ---- the loop ---- */

/* Reap the cases whose process ended; kill those past their deadline. */
static void reap(struct runner *r)
{
	double t = now_seconds();
	for (int i = 0; i < r->next_start; i++) {
		struct case_run *cr = &r->cr[i];
		if (cr->pid <= 0)
			continue;
		siginfo_t si = { 0 };
		if (waitid(P_PID, (id_t)cr->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == cr->pid) {
			/* Still a zombie, so its group id is not reused: end
			 * whatever it left behind, then reap it. */
			int st = 0;
			kill(-cr->pid, SIGKILL);
			waitpid(cr->pid, &st, 0);
			finish_case(r, cr, st);
		} else if (cr->deadline && t >= cr->deadline && !cr->timed_out) {
			cr->timed_out = true;
			kill(-cr->pid, SIGKILL);
		}
	}
}

static void kill_all(struct runner *r)
{
	for (int i = 0; i < r->next_start; i++) {
		struct case_run *cr = &r->cr[i];
		if (cr->pid <= 0)
			continue;
		kill(-cr->pid, SIGKILL);
		waitpid(cr->pid, NULL, 0);
		close(cr->errfd);
		cr->pid = 0;
		r->running--;
	}
}

static void run_all(struct runner *r)
{
	r->t0 = now_seconds();
	while (r->next_print < r->n) {
		while (r->running < r->o.jobs && r->next_start < r->n)
			start_case(r, &r->cr[r->next_start++]);
		print_ready(r);
		progress_draw(r);
		if (r->next_print >= r->n)
			break;
		struct timespec tick = { 0, 100 * 1000 * 1000 };
		int sig = sigtimedwait(&r->sigs, NULL, &tick);
		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
			r->interrupted = true;
			kill_all(r);
			break;
		}
		reap(r);
	}
	print_ready(r);
	progress_clear(r);
}

/* ---- setup and the end ---- */

static int select_cases(struct runner *r, char *err, size_t errlen)
{
	r->cr = calloc((size_t)r->s.ncases + 1, sizeof(*r->cr));
	if (!r->cr) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int k = 0; k < r->o.nonly; k++) {
		int i = 0;
		while (i < r->s.ncases && fnmatch(r->o.only[k], r->s.cases[i].name, 0))
			i++;
		if (i == r->s.ncases) {
			snprintf(err, errlen, "--only %s matches no case (vtxsim test --list shows them)", r->o.only[k]);
			return -1;
		}
	}
	for (int i = 0; i < r->s.ncases; i++) {
		bool in = !r->o.nonly;
		for (int k = 0; !in && k < r->o.nonly; k++)
			in = !fnmatch(r->o.only[k], r->s.cases[i].name, 0);
		if (in)
			r->cr[r->n++].rc.c = &r->s.cases[i];
	}
	return 0;
}

static int prepare(struct runner *r, char *err, size_t errlen)
{
	const char *out = r->o.out ? r->o.out : "vtxsim-test.out";
	if (make_dirs(out) || !(r->out = realpath(out, NULL))) {
		snprintf(err, errlen, "--out %s: cannot create the directory: %s", out, strerror(errno));
		return -1;
	}
	const char *bin = r->o.vtxsim ? r->o.vtxsim : "/proc/self/exe";
	if (!strchr(bin, '/'))
		r->vtxsim = strdup(bin);        /* found on PATH by execvp */
	else if (!(r->vtxsim = realpath(bin, NULL))) {
		snprintf(err, errlen, "--vtxsim %s: %s", bin, strerror(errno));
		return -1;
	}
	for (int i = 0; i < r->n; i++) {
		struct case_run *cr = &r->cr[i];
		cr->argv = suite_case_argv(cr->rc.c, r->vtxsim);
		cr->rc.replay = cr->argv ? suite_shell_command(cr->rc.c->dir, cr->argv) : NULL;
		if (!cr->argv || !cr->rc.replay) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	if (r->o.coverage && !(r->cov = calloc(1, sizeof(*r->cov)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* --junit and --coverage; 0, or -1 after a message. */
static int write_reports(struct runner *r, const struct suite_report_case *rc)
{
	int status = 0;
	if (r->o.junit) {
		FILE *f = fopen(r->o.junit, "w");
		if (!f || suite_junit_write(rc, r->n, "vtxsim test", f) || fclose(f)) {
			fprintf(stderr, "vtxsim test: --junit %s: cannot write: %s\n", r->o.junit, strerror(errno));
			status = -1;
		}
	}
	if (r->cov) {
		FILE *f = fopen(r->o.coverage, "w");
		if (f)
			suite_coverage_write(r->cov, f);
		if (!f || ferror(f) || fclose(f)) {
			fprintf(stderr, "vtxsim test: --coverage %s: cannot write: %s\n", r->o.coverage, strerror(errno));
			status = -1;
		}
	}
	return status;
}

static int report(struct runner *r)
{
	struct suite_report_case *rc = calloc((size_t)r->n + 1, sizeof(*rc));
	int n = 0;
	if (!rc) {
		fprintf(stderr, "vtxsim test: out of memory\n");
		return 2;
	}
	for (int i = 0; i < r->n; i++)
		if (r->cr[i].done)
			rc[n++] = r->cr[i].rc;
	if (r->o.tap)
		suite_tap_write(rc, n, stdout);
	else if (r->failed || r->o.verbose) {
		printf("\n");
		suite_table_write(rc, n, stdout);
	}
	int wrote = r->interrupted ? 0 : write_reports(r, rc);
	free(rc);
	if (r->interrupted)
		printf("interrupted: %d of %d cases did not finish\n", r->n - n, r->n);
	printf("%d passed, %d failed", r->passed, r->failed);
	if (r->skipped)
		printf(", %d skipped", r->skipped);
	printf("\n");
	fflush(stdout);
	if (r->interrupted)
		return 130;
	return r->failed ? 1 : wrote ? 2 : 0;
}

static void runner_free(struct runner *r)
{
	for (int i = 0; r->cr && i < r->n; i++) {
		suite_argv_free(r->cr[i].argv);
		free(r->cr[i].rc.replay);
		free(r->cr[i].rc.debug);
		free(r->cr[i].rc.update_note);
		free(r->cr[i].serial);
	}
	free(r->cr);
	free(r->cov);
	free(r->out);
	free(r->vtxsim);
	suite_free(&r->s);
	free(r->o.defs);
	free(r->o.only);
	free(r->o.manifests);
}

static int load(struct runner *r, char *err, size_t errlen)
{
	struct suite_defs defs = { r->o.defs, r->o.ndefs };
	for (int k = 0; k < r->o.nmanifests; k++)
		if (suite_load(&r->s, r->o.manifests[k], &defs, err, errlen))
			return -1;
	return select_cases(r, err, errlen);
}

int suite_main(int argc, char **argv)
{
	struct runner r = { 0 };
	char err[1024] = "";
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	r.o.jobs = cores > 0 ? (int)cores : 1;
	int status = parse_opts(&r.o, argc, argv, err, sizeof(err));
	if (status == 1) {
		usage(stdout);
		status = 0;
		goto out;
	}
	if (!status && !r.o.nmanifests) {
		snprintf(err, sizeof(err), "no manifest given: vtxsim test [OPTIONS] MANIFEST... (vtxsim test -h)");
		status = -1;
	}
	if (status)
		goto out;
	if (load(&r, err, sizeof(err))) {
		status = -1;
		goto out;
	}
	if (r.o.list) {
		for (int i = 0; i < r.n; i++)
			printf("%s\n", r.cr[i].rc.c->name);
		goto out;
	}
	if (prepare(&r, err, sizeof(err))) {
		status = -1;
		goto out;
	}
	sigemptyset(&r.sigs);
	sigaddset(&r.sigs, SIGCHLD);
	sigaddset(&r.sigs, SIGINT);
	sigaddset(&r.sigs, SIGTERM);
	sigaddset(&r.sigs, SIGHUP);
	sigset_t old;
	sigprocmask(SIG_BLOCK, &r.sigs, &old);
	r.progress = !r.o.quiet && !r.o.tap && isatty(1);
	run_all(&r);
	status = report(&r);
	sigprocmask(SIG_SETMASK, &old, NULL);
out:
	if (status < 0)
		fprintf(stderr, "vtxsim test: %s\n", err);
	runner_free(&r);
	return status < 0 ? 2 : status;
}
