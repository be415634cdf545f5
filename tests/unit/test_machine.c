/* The unit tests' small machine (tests/unit/test_machine.h). */
#include "tests/unit/test_machine.h"

#include <CUnit/CUnit.h>

#include "mem/phys.h"

struct machine *test_machine(uint32_t entry, const void *code, size_t len)
{
	struct machine_config cfg;
	char err[256];
	machine_config_init(&cfg);
	cfg.ram_mb = 8;
	cfg.serial = SERIAL_NONE;
	cfg.no_reboot = true;
	struct machine *m = machine_create(&cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	if (len)
		CU_ASSERT_EQUAL_FATAL(phys_copy_in(&m->phys, entry, code, len), 0);
	cpu_set_multiboot_state(&m->cpus[0], entry, 0x2badb002, 0);
	return m;
}
