/* sim/suite_manifest.c: the manifest of `vtxsim test` into struct suite,
 * and the vtxsim command line of a case (sim/suite.h has the format).
 *
 * A manifest is read whole, then cut into entries: a line at column 0 and
 * the indented lines after it. An entry's words come from a small sh-like
 * lexer; its first word says what it is (case, defaults, set). Keys are one
 * table; defaults are kept as the KEY=VALUE words they were given as and
 * replayed through the same table in front of each case's own words, so a
 * default and a case's key are checked by one piece of code. */
#include "sim/suite.h"

#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli.h"
#include "sim/cpu_spec.h"
#include "sim/machine.h"

#define SUITE_DEFAULT_MAX_CYCLES 10000000000ull
#define SUITE_DEFAULT_TIMEOUT 300u

/* ---- growing strings ---- */

struct mf_buf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void buf_putc(struct mf_buf *b, char c)
{
	if (b->oom)
		return;
	if (b->len + 2 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	b->s[b->len++] = c;
	b->s[b->len] = 0;
}

static void buf_put(struct mf_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_putc(b, s[i]);
}

static void buf_clear(struct mf_buf *b)
{
	b->len = 0;
	buf_putc(b, 0);         /* a word may be empty: "" */
	b->len = 0;
}

/* Append p to the array *v of *n pointers (NULL-terminated when nul). */
static int vec_push(char ***v, int *n, char *p)
{
	char **nv = realloc(*v, (size_t)(*n + 2) * sizeof(**v));

	if (!nv)
		return -1;
	nv[(*n)++] = p;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

static void vec_free(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- one manifest being read ---- */

struct mf_line {
	char *text;
	int no;
};

struct mf_var {
	char *name, *value;
};

/* A KEY=VALUE word (value NULL: a flag) of a defaults line. */
struct mf_default {
	int key;
	char *value;
	int line;
};

struct mf {
	const char *path;
	const struct suite_defs *defs;
	struct suite *s;
	char *err;
	size_t errlen;
	struct mf_line *lines;
	int nlines;
	struct mf_var *vars;            /* set lines so far */
	int nvars;
	struct mf_default *defaults;
	int ndefaults;
};

static int mf_fail(struct mf *m, int line, const char *fmt, ...)
{
	va_list ap;
	int n = line > 0 ? snprintf(m->err, m->errlen, "%s:%d: ", m->path, line) :
		snprintf(m->err, m->errlen, "%s: ", m->path);

	if (n < 0 || (size_t)n >= m->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(m->err + n, m->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int mf_oom(struct mf *m, int line)
{
	return mf_fail(m, line, "out of memory");
}

/* ---- variables ---- */

static bool is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* $NAME from -D (the last one given wins), then set lines (the last one so
 * far), then the environment; NULL when undefined. A -D without '=' defines
 * the variable as empty. */
static const char *mf_var(const struct mf *m, const char *name, size_t n)
{
	for (int i = m->defs ? m->defs->ndefs - 1 : -1; i >= 0; i--) {
		const char *d = m->defs->defs[i];
		if (strncmp(d, name, n) == 0 && (d[n] == '=' || d[n] == 0))
			return d[n] ? d + n + 1 : "";
	}
	for (int i = m->nvars - 1; i >= 0; i--)
		if (strncmp(m->vars[i].name, name, n) == 0 && m->vars[i].name[n] == 0)
			return m->vars[i].value;
	char key[128];
	if (n >= sizeof(key))
		return NULL;
	memcpy(key, name, n);
	key[n] = 0;
	return getenv(key);
}

static bool mf_defined_by_d(const struct mf *m, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; m->defs && i < m->defs->ndefs; i++)
		if (strncmp(m->defs->defs[i], name, n) == 0 && (m->defs->defs[i][n] == '=' || !m->defs->defs[i][n]))
			return true;
	return false;
}

/* ---- the lexer: sh words over the lines of one entry ---- */

struct mf_lex {
	struct mf *m;
	const struct mf_line *lines;
	int i, end;                     /* the current line, one past the entry's last */
	const char *p;
	bool nested;                    /* splitting a value (args=): no $, no comments */
	const char *what;               /* nested: the KEY=VALUE being split, for messages */
};

static bool line_is_blank_or_comment(const char *s)
{
	s += strspn(s, " \t");
	return *s == 0 || *s == '#';
}

/* $NAME, ${NAME}, $$; a $ before anything else is literal, as in sh. */
static int lex_dollar(struct mf_lex *lx, struct mf_buf *w, int line)
{
	const char *p = lx->p + 1, *name, *e;

	if (*p == '$') {
		buf_putc(w, '$');
		lx->p = p + 1;
		return 0;
	}
	if (*p == '{') {
		name = e = p + 1;
		while (is_name_char(*e))
			e++;
		if (*e != '}' || e == name || !is_name_start(*name))
			return mf_fail(lx->m, line, "bad ${...}: write ${NAME}, NAME of letters, digits and _ "
				       "(or $$ for a literal $)");
		lx->p = e + 1;
	} else if (is_name_start(*p)) {
		name = e = p;
		while (is_name_char(*e))
			e++;
		lx->p = e;
	} else {
		buf_putc(w, '$');
		lx->p = p;
		return 0;
	}
	const char *v = mf_var(lx->m, name, (size_t)(e - name));
	if (!v)
		return mf_fail(lx->m, line, "$%.*s is not defined (set it with -D %.*s=... or a set line)",
			       (int)(e - name), name, (int)(e - name), name);
	buf_put(w, v, strlen(v));
	return 0;
}

static int lex_unterminated(struct mf_lex *lx, int line, const char *what)
{
	if (lx->nested)
		return mf_fail(lx->m, line, "%s: unterminated %s", lx->what, what);
	return mf_fail(lx->m, line, "unterminated %s (a quote closes on its own line; continue an entry "
		       "on an indented line)", what);
}

/* "...": \ escapes only $ ` " \ (sh); $ expands. */
static int lex_dquote(struct mf_lex *lx, struct mf_buf *w, int line)
{
	lx->p++;
	for (;;) {
		char c = *lx->p;
		if (c == 0)
			return lex_unterminated(lx, line, "\"...\" quote");
		if (c == '"') {
			lx->p++;
			return 0;
		}
		if (c == '\\' && lx->p[1] && strchr("$`\"\\", lx->p[1])) {
			buf_putc(w, lx->p[1]);
			lx->p += 2;
		} else if (c == '$' && !lx->nested) {
			if (lex_dollar(lx, w, line))
				return -1;
		} else {
			buf_putc(w, c);
			lx->p++;
		}
	}
}

static int lex_piece(struct mf_lex *lx, struct mf_buf *w, int line)
{
	const char *p = lx->p, *q;

	switch (*p) {
	case '\'':
		q = strchr(p + 1, '\'');
		if (!q)
			return lex_unterminated(lx, line, "'...' quote");
		buf_put(w, p + 1, (size_t)(q - p - 1));
		lx->p = q + 1;
		return 0;
	case '"':
		return lex_dquote(lx, w, line);
	case '\\':
		if (!p[1])
			return lex_unterminated(lx, line, "\\ at the end of the line");
		buf_putc(w, p[1]);
		lx->p = p + 2;
		return 0;
	case '$':
		if (!lx->nested)
			return lex_dollar(lx, w, line);
		/* fall through */
	default:
		buf_putc(w, *p);
		lx->p = p + 1;
		return 0;
	}
}

/* Skip blanks, comments and the entry's blank or comment lines. false at
 * the end of the entry. */
static bool lex_skip(struct mf_lex *lx)
{
	for (;;) {
		lx->p += strspn(lx->p, " \t");
		if (*lx->p == '#' && !lx->nested)
			lx->p += strlen(lx->p);         /* a word starting with # comments the rest out */
		if (*lx->p)
			return true;
		do {
			if (++lx->i >= lx->end)
				return false;
		} while (line_is_blank_or_comment(lx->lines[lx->i].text));
		lx->p = lx->lines[lx->i].text;
	}
}

/* The next word into w, its line in *line: 1, 0 at the end, -1 on error. */
static int lex_word(struct mf_lex *lx, struct mf_buf *w, int *line)
{
	if (!lex_skip(lx))
		return 0;
	*line = lx->lines[lx->i].no;
	buf_clear(w);
	while (*lx->p && *lx->p != ' ' && *lx->p != '\t')
		if (lex_piece(lx, w, *line))
			return -1;
	if (w->oom)
		return mf_oom(lx->m, *line);
	return 1;
}

/* Split v with sh quoting (no expansion) into *argv. */
static int mf_split(struct mf *m, int line, const char *what, const char *v, char ***argv, int *argc)
{
	struct mf_line one = { (char *)v, line };
	struct mf_lex lx = { .m = m, .lines = &one, .end = 1, .p = v, .nested = true, .what = what };
	struct mf_buf w = { 0 };
	int r, l;

	while ((r = lex_word(&lx, &w, &l)) > 0) {
		char *s = strdup(w.s);
		if (!s || vec_push(argv, argc, s)) {
			free(s);
			r = mf_oom(m, line);
			break;
		}
	}
	free(w.s);
	return r;
}

/* ---- keys and flags ---- */

typedef int mf_key_fn(struct mf *m, int line, struct suite_case *c, const char *key, const char *v);

/* Decimal, or hexadecimal after 0x; the whole string. */
static bool mf_number(const char *s, uint64_t *v)
{
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *d = hex ? s + 2 : s;
	char *end;

	if (!(*d >= '0' && *d <= '9') && !(hex && strchr("abcdefABCDEF", *d) && *d))
		return false;
	errno = 0;
	*v = strtoull(d, &end, hex ? 16 : 10);
	return errno == 0 && *end == 0;
}

static int mf_range(struct mf *m, int line, const char *key, const char *v, uint64_t lo, uint64_t hi,
		    uint64_t *out)
{
	if (!mf_number(v, out))
		return mf_fail(m, line, "%s=%s: not a number (decimal, or hexadecimal after 0x)", key, v);
	if (*out < lo || *out > hi)
		return mf_fail(m, line, "%s=%s: out of %" PRIu64 "..%" PRIu64, key, v, lo, hi);
	return 0;
}

static int mf_replace(struct mf *m, int line, char **field, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return mf_oom(m, line);
	free(*field);
	*field = s;
	return 0;
}

static int mf_path(struct mf *m, int line, char **field, const char *key, const char *v)
{
	if (!*v)
		return mf_fail(m, line, "%s= needs a file name", key);
	return mf_replace(m, line, field, v);
}

static int key_kernel(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	return mf_path(m, line, &c->kernel, key, v);
}

static int key_append(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	return mf_replace(m, line, &c->append, v);
}

static int key_module(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	char *s;

	if (!*v || *v == ' ' || *v == '\t')
		return mf_fail(m, line, "%s=\"%s\": no module path; write %s=\"PATH [ARGS]\"", key, v, key);
	if (*v == ',')          /* -initrd "a,,,b" reads as "a," and "b" */
		return mf_fail(m, line, "%s=\"%s\": a module path cannot start with ',' (vtxsim's -initrd "
			       "list could not carry it)", key, v);
	if (!(s = strdup(v)) || vec_push(&c->modules, &c->nmodules, s)) {
		free(s);
		return mf_oom(m, line);
	}
	return 0;
}

static int key_smp(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	uint64_t n;

	if (mf_range(m, line, key, v, 1, MACHINE_SMP_MAX, &n))
		return -1;
	c->smp = (int)n;
	return 0;
}

static int key_cpu(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	struct cpu_model scratch;
	char why[256];

	if (cpu_spec_parse(v, &scratch, NULL, NULL, why, sizeof(why)))
		return mf_fail(m, line, "%s=%s: %s", key, v, why);
	return mf_replace(m, line, &c->cpu, v);
}

/* vtxsim's -m: MiB, or a B/K/M/G/T suffix, "size=" may lead; vtxsim
 * checks the range. */
static int key_memory(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	const char *s = strncmp(v, "size=", 5) == 0 ? v + 5 : v;
	size_t n = strspn(s, "0123456789");

	if (n == 0 || (s[n] && (!strchr("BKMGTbkmgt", s[n]) || s[n + 1])))
		return mf_fail(m, line, "%s=%s: not a size; give MiB or a suffix, e.g. %s=512 or %s=1G", key, v,
			       key, key);
	return mf_replace(m, line, &c->memory, v);
}

static int key_max_cycles(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	return mf_range(m, line, key, v, 1, UINT64_MAX, &c->max_cycles);
}

static int key_timeout(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	uint64_t n;

	if (mf_range(m, line, key, v, 1, UINT32_MAX, &n))
		return -1;
	c->timeout = (unsigned)n;
	return 0;
}

static int key_args(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	char **argv = NULL, what[64];
	int argc = 0;

	snprintf(what, sizeof(what), "%s=", key);
	if (mf_split(m, line, what, v, &argv, &argc)) {
		vec_free(argv, argc);
		return -1;
	}
	vec_free(c->args, c->nargs);
	c->args = argv;
	c->nargs = argc;
	return 0;
}

static const struct {
	const char *name;
	int status;
} mf_status_names[] = {
	{ "power-off", CLI_EXIT_POWER_OFF },
	{ "triple-fault", CLI_EXIT_TRIPLE_FAULT },
	{ "cycle-limit", CLI_EXIT_CYCLE_LIMIT },
	{ "halted", CLI_EXIT_HALTED },
	{ "vmx-abort", CLI_EXIT_VMX_ABORT },
};

/* One status word: a number, exit:V or a name; -1 when it is none. */
static int mf_status_word(const char *s)
{
	uint64_t v;

	if (strncmp(s, "exit:", 5) == 0)
		return mf_number(s + 5, &v) && v <= 255 ? (int)(((v << 1) | 1) & 0xff) : -1;
	if (mf_number(s, &v))
		return v <= 255 ? (int)v : -1;
	for (size_t i = 0; i < sizeof(mf_status_names) / sizeof(mf_status_names[0]); i++)
		if (strcmp(s, mf_status_names[i].name) == 0)
			return mf_status_names[i].status;
	return -1;
}

static int key_status(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	int st[SUITE_MAX_STATUS], n = 0;
	const char *p = v;

	for (;;) {
		size_t len = strcspn(p, ",");
		char w[32];
		snprintf(w, sizeof(w), "%.*s", (int)len, p);
		int s = len < sizeof(w) ? mf_status_word(w) : -1;
		if (s < 0)
			return mf_fail(m, line, "%s=%s: '%.*s' is not a status (a number 0..255, exit:V with V "
				       "0..255, power-off, triple-fault, cycle-limit, halted or vmx-abort)", key, v,
				       (int)len, p);
		if (n == SUITE_MAX_STATUS)
			return mf_fail(m, line, "%s=%s: at most %d statuses", key, v, SUITE_MAX_STATUS);
		st[n++] = s;
		if (!p[len])
			break;
		p += len + 1;
	}
	memcpy(c->status, st, sizeof(st[0]) * (size_t)n);
	c->nstatus = n;
	c->status_default = false;
	return 0;
}

static int mf_add_expect(struct mf *m, int line, struct suite_case *c, enum suite_match kind, const char *v)
{
	struct suite_expect *e = realloc(c->expects, (size_t)(c->nexpects + 1) * sizeof(*e));
	char *s = strdup(v);

	if (e)
		c->expects = e;
	if (!e || !s) {
		free(s);
		return mf_oom(m, line);
	}
	e[c->nexpects].kind = kind;
	e[c->nexpects++].text = s;
	return 0;
}

static int mf_check_regex(struct mf *m, int line, const char *key, const char *v)
{
	regex_t re;
	int rc = regcomp(&re, v, REG_EXTENDED | REG_NOSUB);

	if (rc == 0) {
		regfree(&re);
		return 0;
	}
	char why[160];
	regerror(rc, &re, why, sizeof(why));
	return mf_fail(m, line, "%s=%s: not a POSIX extended regular expression: %s", key, v, why);
}

static int key_expect(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	return mf_add_expect(m, line, c, SUITE_CONTAINS, v);
}

static int key_expect_re(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	return mf_check_regex(m, line, key, v) ? -1 : mf_add_expect(m, line, c, SUITE_REGEX, v);
}

static int key_reject(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	return mf_add_expect(m, line, c, SUITE_REJECT, v);
}

static int key_reject_re(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	return mf_check_regex(m, line, key, v) ? -1 : mf_add_expect(m, line, c, SUITE_REJECT_REGEX, v);
}

static int key_stderr(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	return mf_add_expect(m, line, c, SUITE_STDERR, v);
}

static int key_output(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	return mf_path(m, line, &c->output, key, v);
}

static int key_exits(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	return mf_path(m, line, &c->exits, key, v);
}

static int key_exit_counts(struct mf *m, int line, struct suite_case *c, const char *key, const char *v)
{
	return mf_path(m, line, &c->exit_counts, key, v);
}

/* Keys, then flags (set: NULL; flag: the bool they set). */
static const struct mf_key {
	const char *name;
	bool repeatable;
	mf_key_fn *set;
	size_t flag;                    /* offsetof the bool in struct suite_case */
} mf_keys[] = {
	{ "kernel", false, key_kernel, 0 },
	{ "append", false, key_append, 0 },
	{ "module", true, key_module, 0 },
	{ "smp", false, key_smp, 0 },
	{ "cpu", false, key_cpu, 0 },
	{ "memory", false, key_memory, 0 },
	{ "max-cycles", false, key_max_cycles, 0 },
	{ "timeout", false, key_timeout, 0 },
	{ "args", false, key_args, 0 },
	{ "status", false, key_status, 0 },
	{ "expect", true, key_expect, 0 },
	{ "expect-re", true, key_expect_re, 0 },
	{ "reject", true, key_reject, 0 },
	{ "reject-re", true, key_reject_re, 0 },
	{ "stderr", true, key_stderr, 0 },
	{ "output", false, key_output, 0 },
	{ "exits", false, key_exits, 0 },
	{ "exit-counts", false, key_exit_counts, 0 },
	{ "summary", true, NULL, offsetof(struct suite_case, summary) },
	{ "allow-triple-fault", true, NULL, offsetof(struct suite_case, allow_triple_fault) },
	{ "allow-vmx-abort", true, NULL, offsetof(struct suite_case, allow_vmx_abort) },
	{ "allow-entry-failure", true, NULL, offsetof(struct suite_case, allow_entry_failure) },
	{ "reboot", true, NULL, offsetof(struct suite_case, reboot) },
};

#define MF_NKEYS ((int)(sizeof(mf_keys) / sizeof(mf_keys[0])))

/* "kernel append ..." (flags: false) or "summary reboot ..." (true). */
static void mf_key_list(bool flags, char *out, size_t len)
{
	size_t n = 0;

	out[0] = 0;
	for (int i = 0; i < MF_NKEYS && n < len; i++)
		if ((mf_keys[i].set == NULL) == flags)
			n += (size_t)snprintf(out + n, len - n, "%s%s", n ? " " : "", mf_keys[i].name);
}

/* The key of word "KEY=VALUE" or flag "FLAG" (*v: NULL); -1 with a message. */
static int mf_find_key(struct mf *m, int line, const char *word, const char **v)
{
	const char *eq = strchr(word, '=');
	size_t n = eq ? (size_t)(eq - word) : strlen(word);
	char list[256];

	for (int i = 0; i < MF_NKEYS; i++) {
		if (strncmp(mf_keys[i].name, word, n) != 0 || mf_keys[i].name[n])
			continue;
		if (eq && !mf_keys[i].set)
			return mf_fail(m, line, "%s is a flag; write it without =VALUE", mf_keys[i].name);
		if (!eq && mf_keys[i].set)
			return mf_fail(m, line, "%s is a key; write %s=VALUE", mf_keys[i].name, mf_keys[i].name);
		*v = eq ? eq + 1 : NULL;
		return i;
	}
	mf_key_list(!eq, list, sizeof(list));
	if (eq)
		return mf_fail(m, line, "unknown key '%.*s' (keys: %s)", (int)n, word, list);
	return mf_fail(m, line, "unknown flag '%s' (flags: %s; a key takes =VALUE)", word, list);
}

/* Apply key k; seen[k] is where this entry gave it already (0: not yet),
 * NULL when replaying defaults. */
static int mf_apply(struct mf *m, int line, struct suite_case *c, int k, const char *v, int *seen)
{
	const struct mf_key *key = &mf_keys[k];

	if (seen && seen[k] && !key->repeatable)
		return mf_fail(m, line, "%s= given twice (first at line %d); it is not repeatable", key->name,
			       seen[k]);
	if (seen)
		seen[k] = line;
	if (!key->set) {
		*(bool *)((char *)c + key->flag) = true;
		return 0;
	}
	return key->set(m, line, c, key->name, v);
}

/* ---- cases ---- */

static void case_free(struct suite_case *c)
{
	free(c->name);
	free(c->manifest);
	free(c->dir);
	free(c->kernel);
	free(c->append);
	vec_free(c->modules, c->nmodules);
	free(c->cpu);
	free(c->memory);
	vec_free(c->args, c->nargs);
	for (int i = 0; i < c->nexpects; i++)
		free(c->expects[i].text);
	free(c->expects);
	free(c->output);
	free(c->exits);
	free(c->exit_counts);
	memset(c, 0, sizeof(*c));
}

static void case_init(struct suite_case *c)
{
	memset(c, 0, sizeof(*c));
	c->max_cycles = SUITE_DEFAULT_MAX_CYCLES;
	c->timeout = SUITE_DEFAULT_TIMEOUT;
	c->status[0] = 1;               /* exit:0 */
	c->nstatus = 1;
	c->status_default = true;
}

static bool mf_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_name_char(*s) && !strchr(".+-", *s))
			return false;
	return true;
}

/* "tests/guests" for "tests/guests/x.vts", "." for "x.vts", "/" for "/x.vts". */
static char *mf_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	size_t n = (size_t)(slash - path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	return strndup(path, n ? n : 1);
}

static int mf_case_words(struct mf *m, struct mf_lex *lx, struct suite_case *c)
{
	struct mf_buf w = { 0 };
	int seen[MF_NKEYS] = { 0 }, line, r;

	for (int i = 0; i < m->ndefaults; i++)
		if (mf_apply(m, m->defaults[i].line, c, m->defaults[i].key, m->defaults[i].value, NULL))
			goto fail;
	while ((r = lex_word(lx, &w, &line)) > 0) {
		const char *v;
		int k = mf_find_key(m, line, w.s, &v);
		if (k < 0 || mf_apply(m, line, c, k, v, seen))
			goto fail;
	}
	free(w.s);
	return r;
fail:
	free(w.s);
	return -1;
}

/* Status words that imply their allow- flag. */
static void case_finish(struct suite_case *c)
{
	for (int i = 0; i < c->nstatus; i++) {
		if (c->status[i] == CLI_EXIT_TRIPLE_FAULT)
			c->allow_triple_fault = true;
		if (c->status[i] == CLI_EXIT_VMX_ABORT)
			c->allow_vmx_abort = true;
	}
}

static int mf_check_name(struct mf *m, int line, const char *name)
{
	if (!mf_name_ok(name))
		return mf_fail(m, line, "case name '%s': use only letters, digits and _ . + -", name);
	for (int i = 0; i < m->s->ncases; i++) {
		const struct suite_case *o = &m->s->cases[i];
		if (strcmp(o->name, name) == 0)
			return mf_fail(m, line, "case %s is already defined at %s:%d; case names are unique", name,
				       o->manifest, o->line);
	}
	return 0;
}

static int mf_case(struct mf *m, struct mf_lex *lx, int line)
{
	struct mf_buf w = { 0 };
	struct suite_case c;
	int name_line = line, r = lex_word(lx, &w, &name_line);

	case_init(&c);
	if (r == 0)
		mf_fail(m, line, "case needs a NAME: case NAME kernel=PATH ...");
	if (r <= 0 || mf_check_name(m, name_line, w.s))
		goto fail;
	c.name = w.s;
	w.s = NULL;
	c.line = line;
	if (!(c.manifest = strdup(m->path)) || !(c.dir = mf_dir(m->path))) {
		mf_oom(m, line);
		goto fail;
	}
	if (mf_case_words(m, lx, &c))
		goto fail;
	if (!c.kernel) {
		mf_fail(m, line, "case %s has no kernel= (give kernel=PATH here or in a defaults line)", c.name);
		goto fail;
	}
	case_finish(&c);
	struct suite_case *nc = realloc(m->s->cases, (size_t)(m->s->ncases + 1) * sizeof(*nc));
	if (!nc) {
		mf_oom(m, line);
		goto fail;
	}
	m->s->cases = nc;
	nc[m->s->ncases++] = c;
	return 0;
fail:
	free(w.s);
	case_free(&c);
	return -1;
}

/* ---- defaults and set ---- */

/* Drop earlier defaults of the keys this line gives (a later defaults line
 * overrides per key), then keep this line's words. */
static int mf_defaults_keep(struct mf *m, const struct mf_default *d, int n, const int *seen)
{
	int j = 0;

	for (int i = 0; i < m->ndefaults; i++) {
		if (seen[m->defaults[i].key])
			free(m->defaults[i].value);
		else
			m->defaults[j++] = m->defaults[i];
	}
	m->ndefaults = j;
	struct mf_default *nd = realloc(m->defaults, (size_t)(j + n + 1) * sizeof(*nd));
	if (!nd)
		return -1;
	memcpy(nd + j, d, (size_t)n * sizeof(*d));
	m->defaults = nd;
	m->ndefaults = j + n;
	return 0;
}

static int mf_defaults(struct mf *m, struct mf_lex *lx)
{
	struct mf_buf w = { 0 };
	struct suite_case scratch;      /* checks the values where they are written */
	struct mf_default *d = NULL;
	int seen[MF_NKEYS] = { 0 }, n = 0, line = 0, r;

	case_init(&scratch);
	while ((r = lex_word(lx, &w, &line)) > 0) {
		const char *v;
		int k = mf_find_key(m, line, w.s, &v);
		if (k < 0 || mf_apply(m, line, &scratch, k, v, seen)) {
			r = -1;
			break;
		}
		struct mf_default *nd = realloc(d, (size_t)(n + 1) * sizeof(*nd));
		char *val = v ? strdup(v) : NULL;
		if (nd)
			d = nd;
		if (!nd || (v && !val)) {
			free(val);
			r = mf_oom(m, line);
			break;
		}
		d[n++] = (struct mf_default){ k, val, line };
	}
	if (r == 0 && mf_defaults_keep(m, d, n, seen))
		r = mf_oom(m, line);
	if (r)
		for (int i = 0; i < n; i++)
			free(d[i].value);
	free(d);
	free(w.s);
	case_free(&scratch);
	return r;
}

static int mf_set_one(struct mf *m, int line, const char *word)
{
	const char *eq = strchr(word, '=');
	const char *e = word;

	while (is_name_char(*e))
		e++;
	if (!eq || e != eq || e == word || !is_name_start(*word))
		return mf_fail(m, line, "set '%s': write set VAR=VALUE (VAR of letters, digits and _)", word);
	char *name = strndup(word, (size_t)(eq - word));
	if (!name)
		return mf_oom(m, line);
	if (mf_defined_by_d(m, name)) {
		free(name);
		return 0;               /* -D wins */
	}
	char *value = strdup(eq + 1);
	struct mf_var *nv = realloc(m->vars, (size_t)(m->nvars + 1) * sizeof(*nv));
	if (nv)
		m->vars = nv;
	if (!nv || !value) {
		free(name);
		free(value);
		return mf_oom(m, line);
	}
	m->vars[m->nvars++] = (struct mf_var){ name, value };
	return 0;
}

/* set VAR=VALUE...: each visible to the words after it. */
static int mf_set(struct mf *m, struct mf_lex *lx, int line)
{
	struct mf_buf w = { 0 };
	int r, n = 0;

	while ((r = lex_word(lx, &w, &line)) > 0 && (r = mf_set_one(m, line, w.s)) == 0)
		n++;
	if (r == 0 && n == 0)
		r = mf_fail(m, line, "set needs VAR=VALUE");
	free(w.s);
	return r < 0 ? -1 : 0;
}

/* ---- the file ---- */

/* The entry on lines [first, end): its first word says what it is. */
static int mf_entry(struct mf *m, int first, int end)
{
	struct mf_lex lx = { .m = m, .lines = m->lines, .i = first, .end = end, .p = m->lines[first].text };
	struct mf_buf w = { 0 };
	int line = m->lines[first].no, r = lex_word(&lx, &w, &line);

	if (r > 0) {
		if (strcmp(w.s, "case") == 0)
			r = mf_case(m, &lx, line);
		else if (strcmp(w.s, "defaults") == 0)
			r = mf_defaults(m, &lx);
		else if (strcmp(w.s, "set") == 0)
			r = mf_set(m, &lx, line);
		else
			r = mf_fail(m, line, "unknown entry '%s' (a line starts with case, defaults or set; "
				    "indent a line to continue the entry above)", w.s);
	}
	free(w.s);
	return r < 0 ? -1 : 0;
}

static int mf_read(struct mf *m, FILE *f)
{
	char *text = NULL;
	size_t cap = 0;
	ssize_t len;

	for (int no = 1; (len = getline(&text, &cap, f)) >= 0; no++) {
		if (len > 0 && text[len - 1] == '\n')
			text[--len] = 0;
		if (len > 0 && text[len - 1] == '\r')
			text[--len] = 0;                /* CRLF files from Windows editors */
		if (strlen(text) != (size_t)len) {
			free(text);
			return mf_fail(m, no, "a NUL byte; a manifest is text");
		}
		struct mf_line *nl = realloc(m->lines, (size_t)(m->nlines + 1) * sizeof(*nl));
		char *s = strdup(text);
		if (nl)
			m->lines = nl;
		if (!nl || !s) {
			free(s);
			free(text);
			return mf_oom(m, no);
		}
		m->lines[m->nlines++] = (struct mf_line){ s, no };
	}
	free(text);
	if (ferror(f))
		return mf_fail(m, 0, "%s", strerror(errno));
	return 0;
}

/* Cut the lines into entries: a line at column 0 and the indented ones after it. */
static int mf_entries(struct mf *m)
{
	int start = -1;

	for (int i = 0; i < m->nlines; i++) {
		const char *t = m->lines[i].text;
		if (line_is_blank_or_comment(t))
			continue;
		if (*t == ' ' || *t == '\t') {
			if (start < 0)
				return mf_fail(m, m->lines[i].no, "an indented line continues an entry, but no case, "
					       "defaults or set line comes before it");
			continue;
		}
		if (start >= 0 && mf_entry(m, start, i))
			return -1;
		start = i;
	}
	return start >= 0 ? mf_entry(m, start, m->nlines) : 0;
}

static void mf_free(struct mf *m)
{
	for (int i = 0; i < m->nlines; i++)
		free(m->lines[i].text);
	free(m->lines);
	for (int i = 0; i < m->nvars; i++) {
		free(m->vars[i].name);
		free(m->vars[i].value);
	}
	free(m->vars);
	for (int i = 0; i < m->ndefaults; i++)
		free(m->defaults[i].value);
	free(m->defaults);
}

int suite_load(struct suite *s, const char *path, const struct suite_defs *defs, char *err, size_t errlen)
{
	struct mf m = { .path = path, .defs = defs, .s = s, .err = err, .errlen = errlen };
	int before = s->ncases, r;
	FILE *f = fopen(path, "r");

	if (!f)
		return mf_fail(&m, 0, "cannot read the manifest: %s", strerror(errno));
	r = mf_read(&m, f);
	fclose(f);
	if (r == 0)
		r = mf_entries(&m);
	mf_free(&m);
	if (r)
		while (s->ncases > before)
			case_free(&s->cases[--s->ncases]);       /* s is as before */
	return r;
}

void suite_free(struct suite *s)
{
	for (int i = 0; i < s->ncases; i++)
		case_free(&s->cases[i]);
	free(s->cases);
	s->cases = NULL;
	s->ncases = 0;
}

/* ---- the command line of a case ---- */

/* -initrd "m1,m2": a comma inside a module string doubled (sim/cli.c's
 * opt_initrd reads ",," as a literal comma). */
static char *mf_initrd(const struct suite_case *c)
{
	struct mf_buf b = { 0 };

	buf_clear(&b);
	for (int i = 0; i < c->nmodules; i++) {
		if (i)
			buf_putc(&b, ',');
		for (const char *p = c->modules[i]; *p; p++) {
			if (*p == ',')
				buf_putc(&b, ',');
			buf_putc(&b, *p);
		}
	}
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

static int argv_add(char ***v, int *n, const char *s)
{
	char *d = s ? strdup(s) : NULL;

	if (!d || vec_push(v, n, d)) {
		free(d);
		return -1;
	}
	return 0;
}

static int argv_build(char ***v, int *n, const struct suite_case *c, const char *vtxsim)
{
	char num[24];

	if (argv_add(v, n, vtxsim) || argv_add(v, n, "-kernel") || argv_add(v, n, c->kernel))
		return -1;
	if (c->append && (argv_add(v, n, "-append") || argv_add(v, n, c->append)))
		return -1;
	if (c->nmodules) {
		char *initrd = mf_initrd(c);
		if (!initrd || argv_add(v, n, "-initrd") || vec_push(v, n, initrd)) {
			free(initrd);
			return -1;
		}
	}
	if (c->memory && (argv_add(v, n, "-m") || argv_add(v, n, c->memory)))
		return -1;
	snprintf(num, sizeof(num), "%d", c->smp);
	if (c->smp && (argv_add(v, n, "-smp") || argv_add(v, n, num)))
		return -1;
	if (c->cpu && (argv_add(v, n, "-cpu") || argv_add(v, n, c->cpu)))
		return -1;
	if (!c->reboot && argv_add(v, n, "-no-reboot"))
		return -1;
	snprintf(num, sizeof(num), "%" PRIu64, c->max_cycles);
	if (argv_add(v, n, "--max-cycles") || argv_add(v, n, num))
		return -1;
	for (int i = 0; i < c->nargs; i++)
		if (argv_add(v, n, c->args[i]))
			return -1;
	return 0;
}

char **suite_case_argv(const struct suite_case *c, const char *vtxsim)
{
	char **v = NULL;
	int n = 0;

	if (argv_build(&v, &n, c, vtxsim)) {
		vec_free(v, n);
		return NULL;
	}
	return v;
}

void suite_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **p = argv; *p; p++)
		free(*p);
	free(argv);
}

/* One word for sh: as is when every character is safe, else '...' with
 * each ' written '\''. */
static void sh_quote(struct mf_buf *b, const char *s)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-";

	if (*s && strspn(s, safe) == strlen(s)) {
		buf_put(b, s, strlen(s));
		return;
	}
	buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_put(b, "'\\''", 4);
		else
			buf_putc(b, *s);
	}
	buf_putc(b, '\'');
}

char *suite_shell_command(const char *dir, char *const *argv)
{
	struct mf_buf b = { 0 };

	buf_clear(&b);
	if (dir && strcmp(dir, ".") != 0) {
		buf_put(&b, "cd ", 3);
		sh_quote(&b, dir);
		buf_put(&b, " && ", 4);
	}
	for (int i = 0; argv[i]; i++) {
		if (i)
			buf_putc(&b, ' ');
		sh_quote(&b, argv[i]);
	}
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
