/* sim/machine.c (with sim/sched.c): building machines, and tiny
 * hand-assembled 32-bit guests that end their run each in one of the ways a
 * run can end. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/cli.h"
#include "sim/machine.h"

#define CODE_ADDR 0x100000u

static struct machine *new_machine(uint32_t ram_mb, bool no_reboot, uint64_t max_cycles)
{
	struct machine_config cfg;
	char err[256] = "";

	machine_config_init(&cfg);
	cfg.ram_mb = ram_mb;
	cfg.serial = SERIAL_NONE;
	cfg.no_reboot = no_reboot;
	cfg.max_cycles = max_cycles;
	struct machine *m = machine_create(&cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(m);
	if (!m)
		fprintf(stderr, "\n  machine_create: %s\n", err);
	return m;
}

/* Place code at CODE_ADDR and enter it in the multiboot state. */
static void place_guest(struct machine *m, const uint8_t *code, size_t len)
{
	CU_ASSERT_EQUAL_FATAL(phys_copy_in(&m->phys, CODE_ADDR, code, len), 0);
	cpu_set_multiboot_state(&m->cpus[0], CODE_ADDR, MB_BOOT_MAGIC, 0);
}

static void test_two_machines(void)
{
	struct machine_config cfg;
	char err[256];
	uint8_t b = 0;

	machine_config_init(&cfg);
	cfg.serial = SERIAL_NONE;
	cfg.ram_mb = 64;
	struct machine *a = machine_create(&cfg, err, sizeof(err));
	cfg.ram_mb = 32;
	cfg.smp = 3;
	struct machine *c = machine_create(&cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(a->phys.ram_size, 64ull << 20);
	CU_ASSERT_EQUAL(c->phys.ram_size, 32ull << 20);
	CU_ASSERT_EQUAL(a->ncpus, 1);
	CU_ASSERT_EQUAL(c->ncpus, 3);
	CU_ASSERT_NOT_EQUAL(c->cpus[1].rng_state, c->cpus[0].rng_state);
	CU_ASSERT_EQUAL(phys_fill(&a->phys, 0x1000, 0x5a, 1), 0);
	CU_ASSERT_EQUAL(phys_copy_out(&c->phys, 0x1000, &b, 1), 0);
	CU_ASSERT_EQUAL(b, 0);          /* separate RAM */
	machine_destroy(a);
	machine_destroy(c);
}

static void expect_create_error(const struct machine_config *cfg, const char *want)
{
	char err[256] = "";
	struct machine *m = machine_create(cfg, err, sizeof(err));

	CU_ASSERT_PTR_NULL(m);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	machine_destroy(m);
}

static void test_bad_config(void)
{
	struct machine_config cfg;

	machine_config_init(&cfg);
	cfg.ram_mb = 1;
	expect_create_error(&cfg, "RAM size 1 MiB");
	machine_config_init(&cfg);
	cfg.cpu_model = "no-such-model";
	expect_create_error(&cfg, "no-such-model");
	machine_config_init(&cfg);
	cfg.serial = SERIAL_FILE;
	cfg.serial_path = "/nonexistent-dir/serial.txt";
	expect_create_error(&cfg, "/nonexistent-dir/serial.txt");
}

/* mov al, 0x2a; out 0xf4, al; hlt */
static void test_debug_exit(void)
{
	static const uint8_t code[] = { 0xb0, 0x2a, 0xe6, 0xf4, 0xf4 };
	struct machine *m = new_machine(16, true, 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	place_guest(m, code, sizeof(code));
	CU_ASSERT_EQUAL(machine_run(m), MACHINE_DEBUG_EXIT);
	CU_ASSERT_EQUAL(m->exit.value, 0x2a);
	CU_ASSERT_EQUAL(m->exit.cpu, 0);
	CU_ASSERT_EQUAL(cli_exit_status(&m->exit), 0x55);
	machine_destroy(m);
}

/* cli; hlt: nothing can ever wake the CPU. */
static void test_halted_forever(void)
{
	static const uint8_t code[] = { 0xfa, 0xf4 };
	struct machine *m = new_machine(16, true, 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	place_guest(m, code, sizeof(code));
	CU_ASSERT_EQUAL(machine_run(m), MACHINE_HALTED_FOREVER);
	CU_ASSERT_EQUAL(m->exit.cpu, 0);
	CU_ASSERT_FALSE(m->exit.if_set);
	CU_ASSERT_EQUAL(cli_exit_status(&m->exit), 8);
	machine_destroy(m);
}

/* jmp $ under --max-cycles. */
static void test_cycle_limit(void)
{
	static const uint8_t code[] = { 0xeb, 0xfe };
	struct machine *m = new_machine(16, true, 250000);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	place_guest(m, code, sizeof(code));
	CU_ASSERT_EQUAL(machine_run(m), MACHINE_CYCLE_LIMIT);
	CU_ASSERT_TRUE(m->cpus[0].cycles >= 250000);
	CU_ASSERT_TRUE(m->cpus[0].cycles < 250000 + 1000);
	CU_ASSERT_EQUAL(m->cpus[0].rip, CODE_ADDR);
	CU_ASSERT_EQUAL(cli_exit_status(&m->exit), 6);
	machine_destroy(m);
}

/* lidt [limit 0]; ud2: #UD, #GP and #DF all miss the IDT -> triple fault. */
static const uint8_t triple_fault_code[] = {
	0x0f, 0x01, 0x1d, 0x00, 0x02, 0x10, 0x00,       /* lidt [0x100200] (zeros: limit 0) */
	0x0f, 0x0b,                                     /* ud2 */
};

static void test_triple_fault(void)
{
	struct machine *m = new_machine(16, true, 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(phys_fill(&m->phys, 0x100200, 0, 6), 0);
	place_guest(m, triple_fault_code, sizeof(triple_fault_code));
	CU_ASSERT_EQUAL(machine_run(m), MACHINE_TRIPLE_FAULT);
	CU_ASSERT_EQUAL(m->exit.rip, CODE_ADDR + 7);
	CU_ASSERT_EQUAL(m->resets, 0);
	CU_ASSERT_EQUAL(cli_exit_status(&m->exit), 4);
	machine_destroy(m);
}

/* mov edx, 0x604; mov ax, SLP_EN | SLP_TYP(S5 = 0); out dx, ax; hlt */
static void test_acpi_power_off(void)
{
	static const uint8_t code[] = { 0xba, 0x04, 0x06, 0x00, 0x00, 0x66, 0xb8, 0x00, 0x20, 0x66, 0xef, 0xf4 };
	struct machine *m = new_machine(16, true, 0);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	place_guest(m, code, sizeof(code));
	CU_ASSERT_EQUAL(machine_run(m), MACHINE_POWER_OFF);
	CU_ASSERT_EQUAL(cli_exit_status(&m->exit), 0);
	machine_destroy(m);
}

/* ---- through the loader, from files ---- */

static void make_temp(char *path, const void *data, size_t len)
{
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* An a.out-kludge multiboot kernel: header at 0, code at CODE_ADDR + 32. */
static void make_kernel(char *path, const uint8_t *code, size_t len)
{
	uint8_t img[256] = { 0 };
	uint32_t h[8] = { MB_HEADER_MAGIC, MB_HF_AOUT_KLUDGE, 0u - MB_HEADER_MAGIC - MB_HF_AOUT_KLUDGE,
			  CODE_ADDR, CODE_ADDR, 0, CODE_ADDR + 0x1000, CODE_ADDR + 32 };

	CU_ASSERT_FATAL(len <= sizeof(img) - 32);
	memcpy(img, h, sizeof(h));
	memcpy(img + 32, code, len);
	make_temp(path, img, sizeof(img));
}

/* Print "hi\n" on COM1, then exit with 7. */
static void test_load_and_serial(void)
{
	static const uint8_t code[] = {
		0xba, 0xf8, 0x03, 0x00, 0x00,   /* mov edx, 0x3f8 */
		0xb0, 'h', 0xee, 0xb0, 'i', 0xee, 0xb0, '\n', 0xee,
		0xb0, 0x07, 0xe6, 0xf4, 0xf4,   /* mov al, 7; out 0xf4, al; hlt */
	};
	char kpath[] = "/tmp/vtxsim-kernel-XXXXXX", spath[] = "/tmp/vtxsim-serial-XXXXXX", err[256] = "";
	char out[16] = "";
	struct machine_config cfg;

	make_kernel(kpath, code, sizeof(code));
	make_temp(spath, "", 0);
	machine_config_init(&cfg);
	cfg.ram_mb = 8;
	cfg.kernel = kpath;
	cfg.serial = SERIAL_FILE;
	cfg.serial_path = spath;
	struct machine *m = machine_create(&cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(machine_load(m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(m->cpus[0].rip, CODE_ADDR + 32);
	CU_ASSERT_EQUAL(m->cpus[0].gpr[R_AX], MB_BOOT_MAGIC);
	CU_ASSERT_EQUAL(m->cpus[0].gpr[R_BX], MB_INFO_ADDR);
	CU_ASSERT_EQUAL(machine_run(m), MACHINE_DEBUG_EXIT);
	CU_ASSERT_EQUAL(m->exit.value, 7);
	machine_destroy(m);
	FILE *f = fopen(spath, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fread(out, 1, sizeof(out) - 1, f), 3);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(out, "hi\n");
	unlink(kpath);
	unlink(spath);
}

static void test_load_errors(void)
{
	static const uint8_t code[] = { 0xf4 };
	char kpath[] = "/tmp/vtxsim-kernel-XXXXXX", err[256] = "";
	const char *mods[] = { "/nonexistent/mod.bin some args" };
	struct machine_config cfg;

	machine_config_init(&cfg);
	cfg.serial = SERIAL_NONE;
	cfg.kernel = "/nonexistent/kernel.elf";
	struct machine *m = machine_create(&cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(machine_load(m, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/kernel.elf"));
	machine_destroy(m);

	make_kernel(kpath, code, sizeof(code));
	cfg.kernel = kpath;
	cfg.modules = mods;
	cfg.nmodules = 1;
	m = machine_create(&cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(machine_load(m, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/mod.bin: cannot open"));
	machine_destroy(m);
	unlink(kpath);
}

/* Without -no-reboot a triple fault resets the machine and reboots the
 * kernel, again and again, until the cycle limit. */
static void test_triple_fault_reboots(void)
{
	uint8_t code[sizeof(triple_fault_code) + 6] = { 0 };
	char kpath[] = "/tmp/vtxsim-kernel-XXXXXX", err[256] = "";
	struct machine_config cfg;

	memcpy(code, triple_fault_code, sizeof(triple_fault_code));
	code[3] = 32 + sizeof(triple_fault_code);       /* lidt [zeros after the code] */
	code[4] = 0x00;
	make_kernel(kpath, code, sizeof(code));
	machine_config_init(&cfg);
	cfg.ram_mb = 8;
	cfg.serial = SERIAL_NONE;
	cfg.kernel = kpath;
	cfg.max_cycles = 5000;
	struct machine *m = machine_create(&cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL_FATAL(machine_load(m, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(machine_run(m), MACHINE_CYCLE_LIMIT);
	CU_ASSERT_TRUE(m->resets >= 2);
	CU_ASSERT_EQUAL(m->cpus[0].gpr[R_AX], MB_BOOT_MAGIC);   /* rebooted into the kernel */
	machine_destroy(m);
	unlink(kpath);
}

void suite_sim_machine(void)
{
	CU_pSuite s = CU_add_suite("sim_machine", NULL, NULL);

	CU_add_test(s, "two machines in one process", test_two_machines);
	CU_add_test(s, "bad configurations", test_bad_config);
	CU_add_test(s, "debug exit 0x2a", test_debug_exit);
	CU_add_test(s, "cli; hlt halts forever", test_halted_forever);
	CU_add_test(s, "cycle limit", test_cycle_limit);
	CU_add_test(s, "triple fault under -no-reboot", test_triple_fault);
	CU_add_test(s, "ACPI S5 power-off", test_acpi_power_off);
	CU_add_test(s, "load a kernel file, serial output", test_load_and_serial);
	CU_add_test(s, "load errors name the file", test_load_errors);
	CU_add_test(s, "triple fault reboots", test_triple_fault_reboots);
}
