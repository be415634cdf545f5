/* The JSON trace writer (`--trace CATS`, docs/user-guide.md "Tracing"): one
 * JSON object per line for scripts and CI diffs, written from the debug
 * API's tap (sim/debug_api.h dbg_add_tap), so a traced run is the same
 * run as an untraced one.
 *
 * Every line starts {"cycle":N,"cpu":N,"event":"..."} (cycle: the vCPU's
 * global simulated time); the event's fields follow in a fixed order.
 * Counts (cycle, cpu, vector, reason, size, index, insn_len) are JSON
 * numbers; addresses, qualifications, interruption information, error
 * codes and data values are hex strings ("0x1f"), exact past 2^53. */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>

struct dbg;

/* Categories, as --trace spells them (docs/user-guide.md "Tracing" says what
 * each writes): X(id, name). */
#define TRACE_CATEGORIES(X) \
	X(VMX, "vmx")       \
	X(EXITS, "exits")   \
	X(INT, "int")       \
	X(INSN, "insn")     \
	X(IO, "io")         \
	X(MSR, "msr")

enum trace_cat_bit {
#define X(id, name) TRACE_BIT_##id,
	TRACE_CATEGORIES(X)
#undef X
};
enum trace_cat {
#define X(id, name) TRACE_##id = 1u << TRACE_BIT_##id,
	TRACE_CATEGORIES(X)
#undef X
};

/* "vmx,exits,...": the categories OR-ed into *cats. false with the bad
 * word in bad (NUL-terminated, truncated to badlen). */
bool trace_parse_categories(const char *s, unsigned *cats, char *bad, size_t badlen);
/* "vmx, exits, int, insn, io, msr": for messages and -h. */
const char *trace_category_list(void);

struct trace;

/* Start writing the categories cats of d's machine to path (NULL or "-":
 * stderr). NULL with a one-line message when the file cannot be opened. */
struct trace *trace_open(struct dbg *d, unsigned cats, const char *path, char *err, size_t errlen);
/* Detach from d and close the file: 0, or -1 when writing failed (message in err). */
int trace_close(struct trace *t, char *err, size_t errlen);

#endif
