/* A small machine for unit tests that run code (tests/unit/test_machine.c):
 * 8 MiB of RAM, no serial backend, -no-reboot, code copied to entry and
 * vCPU 0 in the multiboot entry state there (32-bit protected mode, flat
 * segments, paging off). */
#ifndef TESTS_UNIT_TEST_MACHINE_H
#define TESTS_UNIT_TEST_MACHINE_H

#include <stddef.h>
#include <stdint.h>

#include "sim/machine.h"

/* code may be NULL (len 0): RAM stays zero. A failure is a fatal CUnit
 * assertion in the calling test. */
struct machine *test_machine(uint32_t entry, const void *code, size_t len);

#endif
