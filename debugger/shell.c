/* The shell's core (debugger/shell.h): the session object, the
 * tokenizer, the dispatcher over the modules' command tables, `help` and
 * `quit`. */
#include "debugger/shell.h"

#include <ctype.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "debugger/symbols.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"

/* Every module's table; `help` lists them in this order. */
static const struct shell_cmd *const shell_tables[] = {
	shell_cmds_core,
	shell_cmds_forensics,
	shell_cmds_run,
	shell_cmds_regs,
	shell_cmds_vmx,
	shell_cmds_mem,
};
#define NTABLES (sizeof(shell_tables) / sizeof(shell_tables[0]))

#define SHELL_MAXARGS 32

struct shell {
	struct dbg *d;
	FILE *out;
	int cpu;
	bool quit;
	int failed;             /* commands of the session that failed */
	int depth;              /* shell_exec nesting (`info registers` runs `regs`) */
	struct symtab *syms;
};

struct shell *shell_create(struct dbg *d, FILE *out, const char *kernel)
{
	struct shell *sh = calloc(1, sizeof(*sh));
	if (!sh)
		return NULL;
	sh->d = d;
	sh->out = out;
	sh->syms = symtab_load(kernel);
	dbg_set_condition_fn(d, shell_condition, sh);
	return sh;
}

void shell_destroy(struct shell *sh)
{
	if (!sh)
		return;
	dbg_set_condition_fn(sh->d, NULL, NULL);
	symtab_free(sh->syms);
	free(sh);
}

struct dbg *shell_dbg(struct shell *sh)
{
	return sh->d;
}

FILE *shell_out(struct shell *sh)
{
	return sh->out;
}

void shell_set_out(struct shell *sh, FILE *out)
{
	sh->out = out;
}

int shell_cpu(const struct shell *sh)
{
	return sh->cpu;
}

void shell_set_cpu(struct shell *sh, int cpu)
{
	sh->cpu = cpu;
}

struct symtab *shell_symbols(struct shell *sh)
{
	return sh->syms;
}

bool shell_quit_requested(const struct shell *sh)
{
	return sh->quit;
}

void shell_request_quit(struct shell *sh)
{
	sh->quit = true;
}

int shell_error(struct shell *sh, const char *fmt, ...)
{
	va_list ap;
	fputs("error: ", sh->out);
	va_start(ap, fmt);
	vfprintf(sh->out, fmt, ap);
	va_end(ap);
	fputc('\n', sh->out);
	return -1;
}

/* Decimal or 0x hex, the whole string. */
static bool plain_number(const char *s, uint64_t *v)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return false;
	*v = strtoull(s, &end, 0);
	return *end == 0;
}

bool shell_number(struct shell *sh, const char *s, uint64_t *v)
{
	if (plain_number(s, v))
		return true;
	const char *reg = s[0] == '$' ? s + 1 : s;
	if (dbg_reg_read(sh->d, sh->cpu, reg, v))
		return true;
	if (symtab_lookup(sh->syms, s, v))
		return true;
	shell_error(sh, "'%s' is not a number, register or symbol", s);
	return false;
}

static const struct shell_cmd *find_cmd(const char *name)
{
	for (size_t t = 0; t < NTABLES; t++)
		for (const struct shell_cmd *c = shell_tables[t]; c->name; c++)
			if (!strcmp(c->name, name))
				return c;
	return NULL;
}

/* The command a line names: a two-word one ("info apic") before a
 * one-word one ("info"); gdb's "x/8xg" is command "x" (its fn reads the
 * format from argv[0]). */
static const struct shell_cmd *find_line_cmd(int argc, char **argv)
{
	char name[64];
	const struct shell_cmd *c;
	if (argc >= 2 && snprintf(name, sizeof(name), "%s %s", argv[0], argv[1]) < (int)sizeof(name) &&
	    (c = find_cmd(name)))
		return c;
	c = find_cmd(argv[0]);
	const char *slash = strchr(argv[0], '/');
	if (!c && slash && slash != argv[0] && slash - argv[0] < (int)sizeof(name)) {
		snprintf(name, sizeof(name), "%.*s", (int)(slash - argv[0]), argv[0]);
		c = find_cmd(name);
	}
	return c;
}

/* Split a line into words; "double quotes" group. */
static int split(char *line, char **argv, int max)
{
	int argc = 0;
	char *p = line;
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (argc == max)
			return -1;
		if (*p == '"') {
			argv[argc++] = ++p;
			while (*p && *p != '"')
				p++;
		} else {
			argv[argc++] = p;
			while (*p && !isspace((unsigned char)*p))
				p++;
		}
		if (*p)
			*p++ = 0;
	}
	return argc;
}

static int exec_line(struct shell *sh, const char *line)
{
	char buf[1024], *argv[SHELL_MAXARGS];
	if (strlen(line) >= sizeof(buf))
		return shell_error(sh, "command line longer than %zu characters", sizeof(buf) - 1);
	strcpy(buf, line);
	int argc = split(buf, argv, SHELL_MAXARGS);
	if (argc < 0)
		return shell_error(sh, "more than %d words on one line", SHELL_MAXARGS);
	const struct shell_cmd *c = find_line_cmd(argc, argv);
	if (!c)
		return shell_error(sh, "unknown command '%s'; `help` lists the commands", argv[0]);
	return c->fn(sh, argc, argv);
}

int shell_exec(struct shell *sh, const char *line)
{
	while (isspace((unsigned char)*line))
		line++;
	if (!*line || *line == '#')
		return 0;
	sh->depth++;
	int rc = exec_line(sh, line);
	sh->depth--;
	fflush(sh->out);
	if (rc && !sh->depth)
		sh->failed++;
	return rc;
}

/* ---- help, quit ---- */

static int cmd_help(struct shell *sh, int argc, char **argv)
{
	if (argc > 2)
		return shell_error(sh, "help takes one command name: help [COMMAND]");
	if (argc > 1) {
		const struct shell_cmd *c = find_cmd(argv[1]);
		if (!c)
			return shell_error(sh, "no command '%s'; `help` lists the commands", argv[1]);
		fprintf(sh->out, "%s%s%s\n  %s\n", c->name, c->args[0] ? " " : "", c->args, c->help ? c->help : c->summary);
		return 0;
	}
	for (size_t t = 0; t < NTABLES; t++)
		for (const struct shell_cmd *c = shell_tables[t]; c->name; c++) {
			char lhs[128];
			snprintf(lhs, sizeof(lhs), "%s %s", c->name, c->args);
			if (strlen(lhs) > 30)   /* a long synopsis gets its own line */
				fprintf(sh->out, "  %s\n  %-30s %s\n", lhs, "", c->summary);
			else
				fprintf(sh->out, "  %-30s %s\n", lhs, c->summary);
		}
	return 0;
}

static int cmd_quit(struct shell *sh, int argc, char **argv)
{
	(void)argc, (void)argv;
	shell_request_quit(sh);
	return 0;
}

const struct shell_cmd shell_cmds_core[] = {
	{ "help", "[COMMAND]", "list the commands, or explain one", NULL, cmd_help },
	{ "quit", "", "end the session (and the run)", NULL, cmd_quit },
	{ NULL, NULL, NULL, NULL, NULL },
};

/* ---- the session ---- */

static int run_file(struct shell *sh, FILE *f)
{
	char line[1024];
	int rc = 0;
	while (!sh->quit && fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\n");
		if (!line[n] && !feof(f)) {         /* longer than the buffer: skip the rest */
			int ch;
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			shell_error(sh, "command line longer than %zu characters", sizeof(line) - 2);
			sh->failed++;
			rc = -1;
			continue;
		}
		line[n] = 0;
		if (shell_exec(sh, line))
			rc = -1;
	}
	return rc;
}

/* ---- the terminal: readline, history, completion, Ctrl-C ---- */

/* Completion candidates for the word being typed: command names first
 * word; VMCS field names after `vmcs` / `vmcs set`; exit-reason names
 * after `catch vmexit`. */
struct matches {
	char **v;
	size_t n, cap;
};

static void add_match(void *ctx, const char *word)
{
	struct matches *m = ctx;
	if (m->n + 2 > m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 16;
		char **v = realloc(m->v, cap * sizeof(*v));
		if (!v)
			return;
		m->v = v;
		m->cap = cap;
	}
	char *w = strdup(word);
	if (w)
		m->v[1 + m->n++] = w;
}

static void complete_words(const char *line, const char *text, struct matches *m)
{
	size_t tl = strlen(text);
	char first[32] = "", second[32] = "";
	int words = sscanf(line, "%31s %31s", first, second);
	bool at_first = (size_t)(text - line) == strspn(line, " \t");
	if (at_first) {
		for (size_t t = 0; t < NTABLES; t++)
			for (const struct shell_cmd *c = shell_tables[t]; c->name; c++)
				if (!strncmp(c->name, text, tl))
					add_match(m, c->name);
		return;
	}
	if (!strcmp(first, "vmcs")) {
		bool lower = !*text || islower((unsigned char)*text);
		for (int f = 0; f < VF_COUNT; f++) {
			char name[64];
			snprintf(name, sizeof(name), "%s", vmcs_fields[f].name);
			for (char *p = name; lower && *p; p++)
				*p = (char)tolower((unsigned char)*p);
			if (!strncasecmp(name, text, tl))
				add_match(m, name);
		}
		if (words < 2 || (tl && !strncmp("set", text, tl)))
			add_match(m, "set");
		return;
	}
	if (!strcmp(first, "catch") && words >= 2 && !strcmp(second, "vmexit")) {
		static const char *const reasons[] = {
#define X(n, id, text) #id,
			EXIT_REASON_TABLE(X)
#undef X
		};
		for (size_t k = 0; k < sizeof(reasons) / sizeof(reasons[0]); k++) {
			char name[64];
			snprintf(name, sizeof(name), "%s", reasons[k]);
			for (char *p = name; *p; p++)
				*p = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
			if (!strncasecmp(name, text, tl))
				add_match(m, name);
		}
	}
}

static char **shell_completion(const char *text, int start, int end)
{
	struct matches m = { 0 };
	char line[1024];
	(void)end;
	rl_attempted_completion_over = 1;       /* no file names */
	snprintf(line, sizeof(line), "%.*s", start, rl_line_buffer);
	size_t tl = strlen(text);
	snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s", text);
	complete_words(line, line + start, &m);
	if (!m.n) {
		free(m.v);
		return NULL;
	}
	/* matches[0]: the longest common prefix of the candidates. */
	size_t lcp = strlen(m.v[1]);
	for (size_t k = 2; k <= m.n; k++) {
		size_t j = 0;
		while (j < lcp && m.v[k][j] == m.v[1][j])
			j++;
		lcp = j;
	}
	m.v[0] = strndup(m.v[1], lcp < tl ? tl : lcp);
	m.v[m.n + 1] = NULL;
	return m.v;
}

/* Ctrl-C at the prompt: the handler can only set a flag (it is the one
 * static the signal needs, it has no argument); readline's signal-event
 * hook, called when the interrupted read returns, clears the line. */
static volatile sig_atomic_t prompt_sigint;

static void on_prompt_sigint(int sig)
{
	(void)sig;
	prompt_sigint = 1;
}

static int on_signal_event(void)
{
	if (prompt_sigint) {
		prompt_sigint = 0;
		rl_replace_line("", 0);
		rl_crlf();
		rl_on_new_line();
		rl_redisplay();
	}
	return 0;
}

static void history_path(char *buf, size_t n)
{
	const char *home = getenv("HOME");
	buf[0] = 0;
	if (home && *home)
		snprintf(buf, n, "%s/.vtxsim_history", home);
}

static void run_terminal(struct shell *sh)
{
	char hist[512];
	struct sigaction sa = { .sa_handler = on_prompt_sigint }, old;
	sigemptyset(&sa.sa_mask);       /* no SA_RESTART: the read returns, the hook runs */
	history_path(hist, sizeof(hist));
	/* The history file is used only when it exists (never created). */
	bool keep = hist[0] && access(hist, R_OK | W_OK) == 0;
	if (keep)
		read_history(hist);
	rl_readline_name = "vtxsim";
	rl_attempted_completion_function = shell_completion;
	rl_catch_signals = 0;
	rl_signal_event_hook = on_signal_event;
	while (!sh->quit) {
		sigaction(SIGINT, &sa, &old);
		char *line = readline("(vtxsim) ");
		sigaction(SIGINT, &old, NULL);
		if (!line) {
			fputc('\n', stdout);
			break;
		}
		if (*line)
			add_history(line);
		shell_exec(sh, line);
		free(line);
	}
	if (keep)
		write_history(hist);
}

int shell_main(struct dbg *d, const struct shell_opts *o)
{
	struct shell *sh = shell_create(d, stdout, o->kernel);
	if (!sh) {
		fprintf(stderr, "vtxsim: out of memory\n");
		return 10;
	}
	if (o->script) {
		FILE *f = fopen(o->script, "r");
		if (!f) {
			fprintf(stderr, "vtxsim: --debug-script %s: cannot open it\n", o->script);
			shell_destroy(sh);
			return 2;
		}
		run_file(sh, f);
		fclose(f);
	}
	for (int k = 0; k < o->ncmds && !sh->quit; k++)
		shell_exec(sh, o->cmds[k]);
	if (!sh->quit) {
		if (isatty(STDIN_FILENO))
			run_terminal(sh);
		else
			run_file(sh, stdin);
	}
	/* End of input is `quit`. 1 when a command failed, else 0; main.c
	 * replaces it with the run's own status when the run is over. */
	int status = sh->failed ? 1 : 0;
	if (sh->failed)
		fprintf(stderr, "vtxsim: %d debugger command%s failed\n", sh->failed, sh->failed == 1 ? "" : "s");
	shell_destroy(sh);
	return status;
}
