/* Symbols of the kernel ELF (ELF32 or ELF64 .symtab: functions and
 * objects), for disassembly, backtraces and `break NAME`. */
#ifndef DEBUGGER_SYMBOLS_H
#define DEBUGGER_SYMBOLS_H

#include <stdbool.h>
#include <stdint.h>

struct symtab;

/* NULL when the file is not an ELF with a symbol table (not an error:
 * an a.out-kludge kernel has none). */
struct symtab *symtab_load(const char *path);
void symtab_free(struct symtab *t);
/* The address of name. */
bool symtab_lookup(const struct symtab *t, const char *name, uint64_t *addr);
/* The symbol containing addr (a sizeless one: within 4 KiB after it):
 * its name and *off = addr - its value; NULL if none. */
const char *symtab_find(const struct symtab *t, uint64_t addr, uint64_t *off);
/* For completion: the i-th name, NULL past the end. */
const char *symtab_name(const struct symtab *t, int i);

#endif
