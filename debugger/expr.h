/* Expressions for breakpoint conditions and `print` (docs/debugger.md):
 * C-like, over unsigned 64-bit integers. Names (registers, symbols, the
 * stop's event variables $reason, $qual, ...) are resolved by a callback,
 * so the evaluator itself knows no machine (tests/unit/debugger). */
#ifndef DEBUGGER_EXPR_H
#define DEBUGGER_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct shell;

/* A name's value: false when the name means nothing. */
typedef bool (*expr_name_fn)(void *ctx, const char *name, uint64_t *v);

/* Evaluate s. 0 and *v, or -1 with one line in err saying what is wrong
 * (a syntax error, an unknown name, a division by zero).
 * Operators, loosest first: || && | ^ & (== !=) (< <= > >=) (<< >>) (+ -)
 * (* / %), unary ! ~ - +, parentheses. Comparisons are unsigned. */
int expr_eval(const char *s, expr_name_fn fn, void *ctx, uint64_t *v, char *err, size_t errlen);

/* The shell's names: registers of the selected vCPU (rax..r15, their
 * 32-bit views eax..r15d, rip, rflags, crN, efer, drN, segment
 * selectors; a leading $ allowed), the kernel's symbols, and the event
 * variables of dbg_last_event(): $reason $qual $vector $error $guest_rip
 * $port $msr $value $cpu $cycle. cpu < 0: the selected vCPU. */
int shell_eval(struct shell *sh, int cpu, const char *s, uint64_t *v, char *err, size_t errlen);

#endif
