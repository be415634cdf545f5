/* The shell's core (debugger/shell.h): the session object, the
 * tokenizer, the dispatcher over the modules' command tables, `help` and
 * `quit`. */
#include "debugger/shell.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "debugger/symbols.h"

/* Every module's table; `help` lists them in this order. */
static const struct shell_cmd *const shell_tables[] = {
	shell_cmds_core,
	shell_cmds_vmx,
};
#define NTABLES (sizeof(shell_tables) / sizeof(shell_tables[0]))

#define SHELL_MAXARGS 32

struct shell {
	struct dbg *d;
	FILE *out;
	int cpu;
	bool quit;
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
	return sh;
}

void shell_destroy(struct shell *sh)
{
	if (!sh)
		return;
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

int shell_exec(struct shell *sh, const char *line)
{
	char buf[1024], *argv[SHELL_MAXARGS];
	while (isspace((unsigned char)*line))
		line++;
	if (!*line || *line == '#')
		return 0;
	if (strlen(line) >= sizeof(buf))
		return shell_error(sh, "command line longer than %zu characters", sizeof(buf) - 1);
	strcpy(buf, line);
	int argc = split(buf, argv, SHELL_MAXARGS);
	if (argc < 0)
		return shell_error(sh, "more than %d words on one line", SHELL_MAXARGS);
	const struct shell_cmd *c = find_cmd(argv[0]);
	if (!c)
		return shell_error(sh, "unknown command '%s'; `help` lists the commands", argv[0]);
	int rc = c->fn(sh, argc, argv);
	fflush(sh->out);
	return rc;
}

/* ---- help, quit ---- */

static int cmd_help(struct shell *sh, int argc, char **argv)
{
	if (argc > 1) {
		const struct shell_cmd *c = find_cmd(argv[1]);
		if (!c)
			return shell_error(sh, "no command '%s'; `help` lists the commands", argv[1]);
		fprintf(sh->out, "%s%s%s\n  %s\n", c->name, c->args[0] ? " " : "", c->args, c->help ? c->help : c->summary);
		return 0;
	}
	for (size_t t = 0; t < NTABLES; t++)
		for (const struct shell_cmd *c = shell_tables[t]; c->name; c++) {
			char lhs[64];
			snprintf(lhs, sizeof(lhs), "%s %s", c->name, c->args);
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
		line[strcspn(line, "\n")] = 0;
		if (shell_exec(sh, line))
			rc = -1;
	}
	return rc;
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
	if (!sh->quit)
		run_file(sh, stdin);
	shell_destroy(sh);
	return 0;
}
