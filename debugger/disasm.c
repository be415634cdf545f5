/* Disassembly with Zydis (debugger/disasm.h). */
#include "debugger/disasm.h"

#include <Zydis/Zydis.h>

#include "cpu/cpu.h"
#include "debugger/symbols.h"

int disasm_bits(const struct cpu *c)
{
	if (c->code64)
		return 64;
	return (c->seg[SEG_CS].ar & AR_DB) ? 32 : 16;
}

static ZydisMachineMode zydis_mode(int bits)
{
	switch (bits) {
	case 64: return ZYDIS_MACHINE_MODE_LONG_64;
	case 32: return ZYDIS_MACHINE_MODE_LEGACY_32;
	default: return ZYDIS_MACHINE_MODE_LEGACY_16;
	}
}

/* The bytes column: up to 10 bytes, padded so the texts line up. */
static void print_bytes(FILE *o, const uint8_t *buf, unsigned len)
{
	unsigned k;
	for (k = 0; k < len && k < 10; k++)
		fprintf(o, "%02x ", buf[k]);
	for (; k < 10; k++)
		fputs("   ", o);
}

/* A branch target or RIP-relative operand: " <sym+off>" when a symbol
 * holds it. */
static void print_target(struct shell *sh, const ZydisDisassembledInstruction *insn, uint64_t la)
{
	for (unsigned k = 0; k < insn->info.operand_count_visible; k++) {
		const ZydisDecodedOperand *op = &insn->operands[k];
		bool rel = (op->type == ZYDIS_OPERAND_TYPE_IMMEDIATE && op->imm.is_relative) ||
			   (op->type == ZYDIS_OPERAND_TYPE_MEMORY && op->mem.base == ZYDIS_REGISTER_RIP);
		ZyanU64 target;
		uint64_t off;
		const char *name;
		if (!rel || !ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&insn->info, op, la, &target)))
			continue;
		if ((name = symtab_find(shell_symbols(sh), target, &off)))
			fprintf(shell_out(sh), off ? " <%s+%llu>" : " <%s>", name, (unsigned long long)off);
	}
}

unsigned disasm_one(struct shell *sh, uint64_t la, const uint8_t *buf, size_t n, int bits, bool current)
{
	FILE *o = shell_out(sh);
	ZydisDisassembledInstruction insn;
	bool ok = n && ZYAN_SUCCESS(ZydisDisassembleIntel(zydis_mode(bits), la, buf, n, &insn));
	fputs(current ? "=> " : "   ", o);
	shell_print_addr(sh, la);
	fputs(":  ", o);
	if (!ok) {
		print_bytes(o, buf, n ? 1 : 0);
		fputs(" (bad)\n", o);
		return 0;
	}
	print_bytes(o, buf, insn.info.length);
	fprintf(o, " %s", insn.text);
	print_target(sh, &insn, la);
	fputc('\n', o);
	return insn.info.length;
}
