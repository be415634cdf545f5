/* Disassembly for the shell (Zydis, Intel syntax): the one function every
 * caller uses, `disas`, `x/i` and the stop report's next instruction. */
#ifndef DEBUGGER_DISASM_H
#define DEBUGGER_DISASM_H

#include <stddef.h>
#include <stdint.h>

#include "debugger/shell.h"

/* The code size vCPU cpu decodes with now: 64 (CS.L with EFER.LMA), 32
 * (CS.D) or 16. */
int disasm_bits(const struct cpu *c);

/* Disassemble the instruction in buf[0, n) found at linear address la,
 * for a CPU decoding with `bits`, and print one line to the shell's
 * output:
 *   "=> 0x<la> <sym+off>:  <bytes>  <text>"  (current: the instruction at RIP)
 *   "   0x<la> <sym+off>:  <bytes>  <text>"
 * "(bad)" when the bytes are no instruction. Returns its length, 0 for
 * "(bad)" (the caller stops there or skips a byte). */
unsigned disasm_one(struct shell *sh, uint64_t la, const uint8_t *buf, size_t n, int bits, bool current);

#endif
