/* QEMU's isa-debug-exit device: a write of value v asks the machine to end
 * the run, which turns it into the exit status (v << 1) | 1. Test kernels use
 * it at port 0xf4 (QEMU: -device isa-debug-exit,iobase=0xf4,iosize=0x04).
 */
#ifndef DEVICES_DEBUGEXIT_H
#define DEVICES_DEBUGEXIT_H

#include <stdint.h>
#include <stdio.h>

#include "devices/device.h"

#define DEBUGEXIT_DEFAULT_PORT 0xf4
/* Ports claimed from the base: a 1-, 2- or 4-byte write at the base reaches
 * the device whole, so the full value is passed on. */
#define DEBUGEXIT_IOSIZE 4

struct debugexit;

/* Claims [port, port+DEBUGEXIT_IOSIZE). Every write in that range calls
 * sink with POWER_DEBUG_EXIT and the written value (of the access size);
 * reads return all-ones. sink may be NULL (writes ignored); it is copied.
 * NULL on allocation failure or when the ports are taken. */
struct debugexit *debugexit_create(struct pio_bus *bus, uint16_t port, const struct power_sink *sink);
/* Frees the device; the bus must not be used afterwards. */
void debugexit_destroy(struct debugexit *d);
void debugexit_dump(void *opaque, FILE *out);

#endif
