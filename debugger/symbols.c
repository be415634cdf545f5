/* ELF symbol tables (debugger/symbols.h). The file is read whole and
 * every offset checked against its size: a malformed ELF yields no
 * symbols, never a crash. */
#include "debugger/symbols.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sym {
	uint64_t value, size;
	char *name;
	bool typed;             /* a function or object, not a linker marker (STT_NOTYPE) */
};

struct symtab {
	struct sym *s;
	int n;
};

static int by_value(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;
	/* At one address a function or object sorts last, so symtab_find
	 * (the last symbol at or below) names it rather than __bss_start. */
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return (int)x->typed - (int)y->typed;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

static bool in_file(size_t len, uint64_t off, uint64_t size)
{
	return off <= len && size <= len - off;
}

static void add(struct symtab *t, int *cap, uint64_t value, uint64_t size, bool typed, const char *name, size_t maxlen)
{
	if (!name[0] || strnlen(name, maxlen) == maxlen)
		return;
	if (t->n == *cap) {
		int nc = *cap ? *cap * 2 : 256;
		struct sym *s = realloc(t->s, sizeof(*s) * (size_t)nc);
		if (!s)
			return;
		t->s = s;
		*cap = nc;
	}
	char *copy = strdup(name);
	if (!copy)
		return;
	t->s[t->n++] = (struct sym){ .value = value, .size = size, .name = copy, .typed = typed };
}

/* The section headers of either class, as 64-bit values. */
struct shdr {
	uint32_t type, link;
	uint64_t off, size, entsize;
};

static bool get_shdr(const unsigned char *b, size_t len, bool is64, unsigned i, struct shdr *h)
{
	uint64_t shoff, shentsize;
	if (is64) {
		const Elf64_Ehdr *e = (const void *)b;
		shoff = e->e_shoff, shentsize = e->e_shentsize;
		if (shentsize < sizeof(Elf64_Shdr) || !in_file(len, shoff + i * shentsize, sizeof(Elf64_Shdr)))
			return false;
		Elf64_Shdr s;
		memcpy(&s, b + shoff + i * shentsize, sizeof(s));
		*h = (struct shdr){ s.sh_type, s.sh_link, s.sh_offset, s.sh_size, s.sh_entsize };
	} else {
		const Elf32_Ehdr *e = (const void *)b;
		shoff = e->e_shoff, shentsize = e->e_shentsize;
		if (shentsize < sizeof(Elf32_Shdr) || !in_file(len, shoff + i * shentsize, sizeof(Elf32_Shdr)))
			return false;
		Elf32_Shdr s;
		memcpy(&s, b + shoff + i * shentsize, sizeof(s));
		*h = (struct shdr){ s.sh_type, s.sh_link, s.sh_offset, s.sh_size, s.sh_entsize };
	}
	return true;
}

struct symtab *symtab_load(const char *path)
{
	size_t len = 0;
	unsigned char *b = path ? slurp(path, &len) : NULL;
	if (!b)
		return NULL;
	struct symtab *t = calloc(1, sizeof(*t));
	int cap = 0;
	if (!t || len < EI_NIDENT || memcmp(b, ELFMAG, SELFMAG) ||
	    (b[EI_CLASS] != ELFCLASS32 && b[EI_CLASS] != ELFCLASS64)) {
		free(b);
		free(t);
		return NULL;
	}
	bool is64 = b[EI_CLASS] == ELFCLASS64;
	if (len < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))) {
		free(b);
		free(t);
		return NULL;
	}
	unsigned shnum = is64 ? ((const Elf64_Ehdr *)(const void *)b)->e_shnum : ((const Elf32_Ehdr *)(const void *)b)->e_shnum;
	for (unsigned i = 0; i < shnum; i++) {
		struct shdr sh, st;
		if (!get_shdr(b, len, is64, i, &sh) || sh.type != SHT_SYMTAB || !get_shdr(b, len, is64, sh.link, &st) ||
		    !in_file(len, sh.off, sh.size) || !in_file(len, st.off, st.size))
			continue;
		size_t esz = is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
		for (uint64_t o = 0; o + esz <= sh.size; o += esz) {
			uint64_t value, size;
			uint32_t name;
			unsigned type;
			if (is64) {
				Elf64_Sym s;
				memcpy(&s, b + sh.off + o, sizeof(s));
				value = s.st_value, size = s.st_size, name = s.st_name, type = ELF64_ST_TYPE(s.st_info);
			} else {
				Elf32_Sym s;
				memcpy(&s, b + sh.off + o, sizeof(s));
				value = s.st_value, size = s.st_size, name = s.st_name, type = ELF32_ST_TYPE(s.st_info);
			}
			if ((type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE) || name >= st.size || !value)
				continue;
			add(t, &cap, value, size, type != STT_NOTYPE, (const char *)b + st.off + name, (size_t)(st.size - name));
		}
	}
	free(b);
	qsort(t->s, (size_t)t->n, sizeof(t->s[0]), by_value);
	return t;
}

void symtab_free(struct symtab *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->n; i++)
		free(t->s[i].name);
	free(t->s);
	free(t);
}

bool symtab_lookup(const struct symtab *t, const char *name, uint64_t *addr)
{
	for (int i = 0; t && i < t->n; i++) {
		if (!strcmp(t->s[i].name, name)) {
			*addr = t->s[i].value;
			return true;
		}
	}
	return false;
}

const char *symtab_find(const struct symtab *t, uint64_t addr, uint64_t *off)
{
	if (!t || !t->n || addr < t->s[0].value)
		return NULL;
	int lo = 0, hi = t->n - 1;
	while (lo < hi) {       /* the last symbol with value <= addr */
		int mid = (lo + hi + 1) / 2;
		if (t->s[mid].value <= addr)
			lo = mid;
		else
			hi = mid - 1;
	}
	const struct sym *s = &t->s[lo];
	uint64_t d = addr - s->value;
	/* A sized symbol covers its bytes; a sizeless one (an assembly label)
	 * at most the rest of its page, never past the next symbol. */
	if ((s->size && d >= s->size) || (!s->size && (d >= 0x1000 || (lo + 1 < t->n && addr >= t->s[lo + 1].value))))
		return NULL;
	*off = d;
	return s->name;
}

const char *symtab_name(const struct symtab *t, int i)
{
	return t && i >= 0 && i < t->n ? t->s[i].name : NULL;
}
