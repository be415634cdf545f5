/* Prototypes of every instruction handler named in cpu/opcodes.def, so each
 * handler file is checked against the table's signature. */
#ifndef CPU_HANDLERS_H
#define CPU_HANDLERS_H

#include "cpu/decode.h"

#define OP(map, lo, hi, ext, form, handler, cost) enum exec_status handler(struct cpu *, const struct insn *);
#include "cpu/opcodes.def"
#undef OP

#define SPEC(handler, osz, mod3, variant) enum exec_status variant(struct cpu *, const struct insn *);
#include "cpu/specialize.def"
#undef SPEC

#endif
