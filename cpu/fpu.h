/* x87 state helpers shared by cpu/fpu.c and cpu/xsave.c. */
#ifndef CPU_FPU_H
#define CPU_FPU_H

#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/decode.h"

/* FNINIT/FINIT: control, status, tags, pointers to their init values. */
void fpu_init_state(struct cpu *c);
/* The 16-bit tag word (2 bits per physical register) from the abridged
 * tags and the register contents, and back. */
uint16_t fpu_full_tag_word(const struct cpu *c);
uint8_t fpu_abridge_tag_word(uint16_t full);
/* FSW as stored: ES and B follow the unmasked pending exceptions. */
uint16_t fpu_status_word(const struct cpu *c);
/* The FNSTENV/FLDENV image (14 or 28 bytes by operand size, real or
 * protected format by mode) at img. */
void fpu_store_env(const struct cpu *c, const struct insn *i, uint8_t *img);
void fpu_load_env(struct cpu *c, const struct insn *i, const uint8_t *img);

#endif
