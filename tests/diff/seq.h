/* Building random instruction sequences from the templates (seq.c). */
#ifndef TESTS_DIFF_SEQ_H
#define TESTS_DIFF_SEQ_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/diff/diff.h"

struct rng {
	uint64_t s;
};

uint64_t rng_next(struct rng *r);

static inline unsigned rng_below(struct rng *r, unsigned n)
{
	return (unsigned)(rng_next(r) % n);
}

/* True with probability pct/100. */
static inline bool rng_pct(struct rng *r, unsigned pct)
{
	return rng_below(r, 100) < pct;
}

/* What one stretch of code in a sequence is. */
enum item_role {
	ITEM_TEST,              /* an instance of a template: counted, covered */
	ITEM_SETUP,             /* loads operands for the next test instruction */
	ITEM_NORMALIZE,         /* PUSHF; AND [RSP], ~undef; POPF: clears undefined flags */
};

struct item {
	uint32_t off;
	uint8_t len;
	uint8_t role;
	int16_t tmpl;           /* template index (ITEM_TEST) */
	uint16_t undef;         /* ITEM_NORMALIZE: the flags it clears */
	bool cut_ok;            /* a prefix may end after this item (no jump crosses it) */
};

#define SEQ_CODE_MAX 8192
#define SEQ_ITEMS_MAX 512

struct seq {
	uint8_t code[SEQ_CODE_MAX];
	unsigned len;           /* without the tail */
	struct item it[SEQ_ITEMS_MAX];
	unsigned nit;
	uint8_t data[DIFF_MAPPED];  /* initial data, stack and read-only pages */
	struct diff_state in;
};

/* Options the runner passes to the builder. */
struct seq_opts {
	unsigned max_tests;     /* template instances per sequence (1..max) */
	bool alignment_checks;  /* let POPF and the initial RFLAGS set AC */
	const bool *active;     /* per template: usable */
	uint64_t fs_base, gs_base;      /* what WRFSBASE/WRGSBASE tests restore */
};

/* Fill s with a random sequence (code, initial state and data). */
void seq_build(struct seq *s, struct rng *r, const struct seq_opts *o, const uint8_t *ro_page);

/* Encode one instance of template t into buf (for probing the decoder);
 * returns its length. reg_form asks for a register ModRM.rm when allowed. */
unsigned seq_sample(const struct diff_tmpl *t, bool reg_form, uint8_t *buf);

#endif
