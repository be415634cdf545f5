/* QEMU fw_cfg, traditional I/O interface. Facts from QEMU's
 * docs/specs/fw_cfg.rst: "Selector (Control) Register", "Data Register",
 * "Register Locations" (x86: 0x510/0x511), "Firmware Configuration Items",
 * "File Directory" and "Ranges".
 */
#include "devices/fwcfg.h"

#include <stdlib.h>
#include <string.h>

#define FWCFG_MAX_ITEMS (FW_CFG_FILE_FIRST + FWCFG_MAX_FILES)

struct fwcfg_item {
	uint16_t key;
	uint32_t len;
	uint8_t *data;
};

struct fwcfg {
	struct fwcfg_item items[FWCFG_MAX_ITEMS];
	int nitems;
	char file_names[FWCFG_MAX_FILES][FWCFG_FILE_NAME_LEN];
	int nfiles;
	uint16_t selector;
	uint32_t offset;        /* data offset into the selected item */
};

static const struct {
	uint16_t key;
	const char *desc;
} fwcfg_known[] = {
#define FWCFG_KNOWN_ROW(name, k, d) { .key = k, .desc = d },
	FWCFG_KNOWN_ITEMS(FWCFG_KNOWN_ROW)
#undef FWCFG_KNOWN_ROW
};

static struct fwcfg_item *find_item(struct fwcfg *f, uint16_t key)
{
	for (int i = 0; i < f->nitems; i++) {
		if (f->items[i].key == key)
			return &f->items[i];
	}
	return NULL;
}

/* Install a copy of data under key, replacing an item with the same key or
 * appending a new one. Nothing changes on failure. */
static int set_item(struct fwcfg *f, uint16_t key, const void *data, uint32_t len)
{
	struct fwcfg_item *it = find_item(f, key);
	if (!it && f->nitems >= FWCFG_MAX_ITEMS)
		return -1;
	uint8_t *copy = NULL;
	if (len) {
		copy = malloc(len);
		if (!copy)
			return -1;
		memcpy(copy, data, len);
	}
	if (!it)
		it = &f->items[f->nitems++];
	else
		free(it->data);
	*it = (struct fwcfg_item){ .key = key, .len = len, .data = copy };
	return 0;
}

static void put_be(uint8_t *p, uint32_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* FW_CFG_FILE_DIR: be32 count, then per file be32 size, be16 select,
 * be16 reserved, 56-byte NUL-terminated name ("File Directory"). */
static int rebuild_dir(struct fwcfg *f)
{
	uint32_t len = 4 + (uint32_t)f->nfiles * FWCFG_FILE_ENTRY_SIZE;
	uint8_t *dir = calloc(1, len);
	if (!dir)
		return -1;
	put_be(dir, (uint32_t)f->nfiles, 4);
	for (int i = 0; i < f->nfiles; i++) {
		uint8_t *e = dir + 4 + i * FWCFG_FILE_ENTRY_SIZE;
		uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + i);
		put_be(e, find_item(f, key)->len, 4);
		put_be(e + 4, key, 2);
		memcpy(e + 8, f->file_names[i], FWCFG_FILE_NAME_LEN);
	}
	int r = set_item(f, FW_CFG_FILE_DIR, dir, len);
	free(dir);
	return r;
}

/* Fixed items live below the file range, or in the architecture-specific
 * range; bit 14 is an access mode, not part of a key ("Ranges"). */
static bool fixed_key_ok(uint16_t key)
{
	if (key & FW_CFG_WRITE_CHANNEL)
		return false;
	if (key & FW_CFG_ARCH_LOCAL)
		return true;
	return key < FW_CFG_FILE_FIRST && key != FW_CFG_FILE_DIR;
}

int fwcfg_add_bytes(struct fwcfg *f, uint16_t key, const void *data, uint32_t len)
{
	if (!fixed_key_ok(key))
		return -1;
	return set_item(f, key, data, len);
}

static bool file_name_ok(const struct fwcfg *f, const char *name)
{
	size_t n = strnlen(name, FWCFG_FILE_NAME_LEN);
	if (n == 0 || n == FWCFG_FILE_NAME_LEN)
		return false;
	for (int i = 0; i < f->nfiles; i++) {
		if (strcmp(f->file_names[i], name) == 0)
			return false;
	}
	return true;
}

int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data, uint32_t len)
{
	if (f->nfiles >= FWCFG_MAX_FILES || !file_name_ok(f, name))
		return -1;
	uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + f->nfiles);
	if (set_item(f, key, data, len) != 0)
		return -1;
	memset(f->file_names[f->nfiles], 0, FWCFG_FILE_NAME_LEN);
	strcpy(f->file_names[f->nfiles], name);
	f->nfiles++;
	if (rebuild_dir(f) != 0) {
		/* The file's item was appended last: take it back out. */
		f->nfiles--;
		f->nitems--;
		free(f->items[f->nitems].data);
		return -1;
	}
	return key;
}

/* The next byte of the selected item; 0 once past its end ("Data Register").
 * Bit 14 of the selector only chooses write mode, so it is ignored here. */
static uint8_t data_next(struct fwcfg *f)
{
	const struct fwcfg_item *it = find_item(f, f->selector & (uint16_t)~FW_CFG_WRITE_CHANNEL);
	if (!it || f->offset >= it->len)
		return 0;
	return it->data[f->offset++];
}

/* Both registers are byte-addressed ports: a wide read is a run of byte
 * reads. The selector is write-only and reads as all-ones. */
static uint64_t fwcfg_io_read(void *opaque, uint64_t offset, unsigned size)
{
	struct fwcfg *f = opaque;
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++) {
		uint64_t byte = offset + i == 1 ? data_next(f) : 0xff;
		v |= byte << (8 * i);
	}
	return v;
}

/* Only a 16-bit write to the selector does anything: it selects an item and
 * resets the data offset. Data-register writes are ignored (QEMU >= 2.4). */
static void fwcfg_io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct fwcfg *f = opaque;
	if (offset == 0 && size == 2) {
		f->selector = (uint16_t)value;
		f->offset = 0;
	}
}

static const struct io_ops fwcfg_ops = { .read = fwcfg_io_read, .write = fwcfg_io_write };

static int install_defaults(struct fwcfg *f, uint64_t ram_size, uint16_t nb_cpus, uint16_t max_cpus)
{
	uint8_t id[4], ram[8], nb[2], max[2];
	put_le(id, FW_CFG_ID_TRADITIONAL, 4);
	put_le(ram, ram_size, 8);
	put_le(nb, nb_cpus, 2);
	put_le(max, max_cpus, 2);
	if (set_item(f, FW_CFG_SIGNATURE, "QEMU", 4) || set_item(f, FW_CFG_ID, id, 4) ||
	    set_item(f, FW_CFG_RAM_SIZE, ram, 8) || set_item(f, FW_CFG_NB_CPUS, nb, 2) ||
	    set_item(f, FW_CFG_MAX_CPUS, max, 2))
		return -1;
	return rebuild_dir(f);
}

struct fwcfg *fwcfg_create(struct pio_bus *bus, uint64_t ram_size, uint16_t nb_cpus, uint16_t max_cpus)
{
	struct fwcfg *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	if (install_defaults(f, ram_size, nb_cpus, max_cpus) != 0 ||
	    pio_register(bus, FWCFG_PORT_SELECTOR, 2, &fwcfg_ops, f, "fw_cfg") != 0) {
		fwcfg_destroy(f);
		return NULL;
	}
	return f;
}

void fwcfg_destroy(struct fwcfg *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->nitems; i++)
		free(f->items[i].data);
	free(f);
}

static const char *item_desc(const struct fwcfg *f, uint16_t key)
{
	for (size_t i = 0; i < sizeof(fwcfg_known) / sizeof(fwcfg_known[0]); i++) {
		if (fwcfg_known[i].key == key)
			return fwcfg_known[i].desc;
	}
	if (key >= FW_CFG_FILE_FIRST && key < FW_CFG_FILE_FIRST + f->nfiles)
		return f->file_names[key - FW_CFG_FILE_FIRST];
	return key & FW_CFG_ARCH_LOCAL ? "arch-specific" : "?";
}

void fwcfg_dump(void *opaque, FILE *out)
{
	const struct fwcfg *f = opaque;
	fprintf(out, "fw_cfg: selector=0x%04x offset=%u, %d item(s), %d file(s)\n", f->selector,
		f->offset, f->nitems, f->nfiles);
	for (int i = 0; i < f->nitems; i++) {
		const struct fwcfg_item *it = &f->items[i];
		fprintf(out, "  0x%04x %-16s %u bytes\n", it->key, item_desc(f, it->key), it->len);
	}
}
