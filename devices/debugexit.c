/* QEMU's isa-debug-exit: any write ends the run with the written value. */
#include "devices/debugexit.h"

#include <stdlib.h>

struct debugexit {
	struct power_sink sink;
	uint16_t port;
	uint32_t writes;        /* for the dump: how many exits were requested */
};

static uint64_t debugexit_read(void *opaque, uint64_t offset, unsigned size)
{
	(void)opaque;
	(void)offset;
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* The offset does not matter: the whole range is one register, as in QEMU. */
static void debugexit_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct debugexit *d = opaque;
	(void)offset;
	(void)size;
	d->writes++;
	if (d->sink.fn)
		d->sink.fn(d->sink.opaque, POWER_DEBUG_EXIT, (uint32_t)value);
}

static const struct io_ops debugexit_ops = { .read = debugexit_read, .write = debugexit_write };

struct debugexit *debugexit_create(struct pio_bus *bus, uint16_t port, const struct power_sink *sink)
{
	struct debugexit *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	if (sink)
		d->sink = *sink;
	d->port = port;
	if (pio_register(bus, port, DEBUGEXIT_IOSIZE, &debugexit_ops, d, "isa-debug-exit") != 0) {
		free(d);
		return NULL;
	}
	return d;
}

void debugexit_destroy(struct debugexit *d)
{
	free(d);
}

void debugexit_dump(void *opaque, FILE *out)
{
	const struct debugexit *d = opaque;
	fprintf(out, "isa-debug-exit: ports %#x-%#x, %u write(s)\n", d->port,
		d->port + DEBUGEXIT_IOSIZE - 1, d->writes);
}
