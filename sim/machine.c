/* Machine wiring and the run loop. */
#include "sim/machine.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cpu/icache.h"
#include "cpu/model.h"
#include "sim/cpu_spec.h"
#include "devices/acpi_pm.h"
#include "devices/debugexit.h"
#include "devices/fwcfg.h"
#include "devices/i8042.h"
#include "devices/rtc.h"
#include "devices/uart16550.h"
#include "sim/display.h"

void machine_config_init(struct machine_config *cfg)
{
	*cfg = (struct machine_config){ .ram_mb = 256, .smp = 1, .serial = SERIAL_STDIO,
					.rtc_base = RTC_DEFAULT_BASE };
}

static int machine_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int machine_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- host side: serial backends, warnings, the power sink ---- */

static void serial_stdout_write(void *ctx, uint8_t byte)
{
	(void)ctx;
	fputc(byte, stdout);
	if (byte == '\n')
		fflush(stdout);
}

/* Live serial input: what stdin has now, queued for delivery at the end of
 * the round (sim/input.h). With wait set, block until a byte or EOF.
 * Returns false once stdin is at EOF (or unreadable). */
static bool machine_read_stdin(struct machine *m, bool wait)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	unsigned char buf[256];

	if (m->stdin_eof)
		return false;
	while (poll(&p, 1, wait ? -1 : 0) == 1) {
		size_t room = INPUT_QUEUE - m->input.qcount;
		ssize_t n = read(STDIN_FILENO, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			m->stdin_eof = true;
			return false;
		}
		for (ssize_t k = 0; k < n; k++)
			input_push(&m->input, INPUT_SERIAL, buf[k]);
		if (wait || m->input.qcount == INPUT_QUEUE)
			break;
	}
	return true;
}

static void serial_file_write(void *ctx, uint8_t byte)
{
	struct machine *m = ctx;

	fputc(byte, m->serial_file);
	if (byte == '\n')
		fflush(m->serial_file);
}

static int serial_no_input(void *ctx)
{
	(void)ctx;
	return -1;
}

static int machine_open_serial(struct machine *m, char *err, size_t errlen)
{
	/* Input never comes through the backend (it would arrive whenever the
	 * guest polls): sim/input.h delivers it on simulated time. */
	m->serial = (struct char_backend){ NULL, serial_no_input, m };
	switch (m->cfg.serial) {
	case SERIAL_STDIO:
		m->serial.write_byte = serial_stdout_write;
		m->stdin_live = !m->cfg.replay_path;
		return 0;
	case SERIAL_FILE:
		m->serial_file = fopen(m->cfg.serial_path, "wb");
		if (!m->serial_file)
			return machine_fail(err, errlen, "%s: cannot open for -serial: %s", m->cfg.serial_path,
					    strerror(errno));
		m->serial.write_byte = serial_file_write;
		return 0;
	case SERIAL_NONE:
		return 0;
	}
	assert(0 && "bad serial mode");
	return -1;
}

static void machine_warn(void *ctx, const char *msg)
{
	const struct cpu *c = ctx;

	fprintf(stderr, "vtxsim: cpu%d: %s\n", c->id, msg);
}

/* A feature flag offered that vtxsim models only partly (sim/cpu_spec.h). */
static void machine_model_warn(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "vtxsim: warning: %s\n", line);
}

/* --trace vmx: one line per event on stderr, prefixed with the CPU. */
static void machine_trace_vmx(void *ctx, const char *line)
{
	const struct cpu *c = ctx;

	fprintf(stderr, "vtxsim: cpu%d: vmx: %s\n", c->id, line);
}

/* Devices end the run through here (from inside cpu_run): remember the first
 * event and stop the running vCPU at the next instruction boundary. */
static void machine_power(void *opaque, enum power_event ev, uint32_t value)
{
	struct machine *m = opaque;

	if (!m->power_pending) {
		m->power_pending = true;
		m->power_ev = ev;
		m->power_value = value;
	}
	sched_request_stop(&m->sched);
}

/* ---- building ---- */

static int machine_check_config(struct machine *m, char *err, size_t errlen)
{
	const struct machine_config *c = &m->cfg;

	if (c->ram_mb < MACHINE_RAM_MB_MIN || c->ram_mb > MACHINE_RAM_MB_MAX)
		return machine_fail(err, errlen, "RAM size %u MiB is outside %d..%d MiB", c->ram_mb,
				    MACHINE_RAM_MB_MIN, MACHINE_RAM_MB_MAX);
	if (c->smp < 1 || c->smp > MACHINE_SMP_MAX)
		return machine_fail(err, errlen, "%d CPUs is outside 1..%d", c->smp, MACHINE_SMP_MAX);
	if (c->serial == SERIAL_FILE && !c->serial_path)
		return machine_fail(err, errlen, "serial file mode without a path");
	const char *spec = c->cpu_model ? c->cpu_model : cpu_model_default()->name;
	char why[256];
	if (cpu_spec_parse(spec, &m->model_row, machine_model_warn, NULL, why, sizeof(why)))
		return machine_fail(err, errlen, "-cpu '%s': %s", spec, why);
	m->model = &m->model_row;
	return 0;
}

/* A distinct, seed-derived RDRAND stream per vCPU (never zero). */
static uint64_t machine_rng_seed(uint64_t seed, int id)
{
	uint64_t z = seed + 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 1;
}

/* The APs wait for a start-up IPI (SDM vol. 3A 8.4.1); the BSP runs. */
static void machine_park_aps(struct machine *m)
{
	for (int i = 1; i < m->ncpus; i++)
		m->cpus[i].wait_sipi = true;
}

static int machine_build_core(struct machine *m, char *err, size_t errlen)
{
	if (phys_init(&m->phys, (uint64_t)m->cfg.ram_mb << 20))
		return machine_fail(err, errlen, "cannot allocate %u MiB of guest RAM", m->cfg.ram_mb);
	m->phys_ready = true;
	m->pio = calloc(1, sizeof(*m->pio));
	m->icache = icache_create(&m->phys);
	m->cpus = calloc((size_t)m->cfg.smp, sizeof(*m->cpus));
	if (!m->pio || !m->icache || !m->cpus)
		return machine_fail(err, errlen, "out of host memory");
	pio_init(m->pio);
	/* Writes to pages holding decoded code invalidate them (icache_create
	 * installs icache_invalidate_page as the physical map's hook). */
	assert(m->phys.on_code_write && m->phys.code_write_opaque == m->icache);
	m->ncpus = m->cfg.smp;
	for (int i = 0; i < m->ncpus; i++) {
		struct cpu *c = &m->cpus[i];
		cpu_init(c, i, m->model, &m->phys, m->pio, m->icache);
		c->ncpus = m->ncpus;
		c->rng_state = machine_rng_seed(m->cfg.seed, i);
		c->warn = machine_warn;
		c->warn_ctx = c;
		if (m->cfg.trace_vmx) {
			c->vmx.trace = machine_trace_vmx;
			c->vmx.trace_ctx = c;
		}
	}
	if (clock_init(&m->clock, (uint64_t)m->model->tsc_khz * 1000) ||
	    sched_init(&m->sched, m->cpus, m->ncpus, m->cfg.max_cycles, &m->clock))
		return machine_fail(err, errlen, "out of host memory");
	m->clock_ready = true;
	machine_park_aps(m);
	return 0;
}

static bool serial_can_take(void *opaque)
{
	return uart_can_receive(opaque);
}

static void serial_take(void *opaque, uint8_t byte)
{
	uart_receive(opaque, byte);
}

static void key_take(void *opaque, uint8_t byte)
{
	i8042_key(opaque, byte);
}

/* A key in the display window: queued like serial input (sim/input.h). */
static void display_key(void *ctx, uint8_t set2_byte)
{
	struct machine *m = ctx;
	input_push(&m->input, INPUT_KEY, set2_byte);
}

static int machine_build_devices(struct machine *m, char *err, size_t errlen)
{
	m->power = (struct power_sink){ machine_power, m };
	if (platform_build(m, err, errlen))
		return -1;
	m->uart = uart_create(m->pio, COM1_BASE, &m->plat.isa[COM1_IRQ], &m->serial);
	if (!m->uart)
		return machine_fail(err, errlen, "cannot attach the COM1 UART at 0x%x", COM1_BASE);
	m->debugexit = debugexit_create(m->pio, DEBUG_EXIT_PORT, &m->power);
	if (!m->debugexit)
		return machine_fail(err, errlen, "cannot attach isa-debug-exit at 0x%x", DEBUG_EXIT_PORT);
	m->fwcfg = fwcfg_create(m->pio, m->phys.ram_size, (uint16_t)m->ncpus, (uint16_t)m->ncpus);
	if (!m->fwcfg)
		return machine_fail(err, errlen, "cannot attach fw_cfg");
	m->acpi_pm = acpi_pm_create(m->pio, ACPI_PM_BASE, &m->power);
	if (!m->acpi_pm)
		return machine_fail(err, errlen, "cannot attach the ACPI PM block at 0x%x", ACPI_PM_BASE);
	acpi_pm_attach_clock(m->acpi_pm, &m->clock);
	if (input_init(&m->input, &m->clock, m->cfg.record_path, m->cfg.replay_path, err, errlen))
		return -1;
	m->input_ready = true;
	m->input.sink[INPUT_SERIAL] = (struct input_sink){ serial_can_take, serial_take, m->uart };
	m->input.sink[INPUT_KEY] = (struct input_sink){ NULL, key_take, m->plat.kbd };
	if (m->cfg.display) {
		m->display = display_open(m->plat.vga, display_key, m, err, errlen);
		if (!m->display)
			return -1;
	}
	return 0;
}

struct machine *machine_create(const struct machine_config *cfg, char *err, size_t errlen)
{
	struct machine *m = calloc(1, sizeof(*m));

	if (!m) {
		machine_fail(err, errlen, "out of host memory");
		return NULL;
	}
	m->cfg = *cfg;
	m->exit.cpu = -1;
	if (machine_check_config(m, err, errlen) || machine_build_core(m, err, errlen) ||
	    machine_open_serial(m, err, errlen) || machine_build_devices(m, err, errlen)) {
		machine_destroy(m);
		return NULL;
	}
	return m;
}

static void machine_free_image(struct machine_image *img)
{
	for (int i = 0; i < img->nmodules; i++) {
		free((void *)img->modules[i].data);
		free(img->module_paths[i]);
	}
	free(img->modules);
	free(img->module_paths);
	free(img->kernel);
	*img = (struct machine_image){ 0 };
}

void machine_destroy(struct machine *m)
{
	if (!m)
		return;
	if (m->display)
		display_close(m->display);
	if (m->input_ready)
		input_destroy(&m->input);
	platform_destroy(m);
	if (m->acpi_pm)
		acpi_pm_destroy(m->acpi_pm);
	if (m->fwcfg)
		fwcfg_destroy(m->fwcfg);
	if (m->debugexit)
		debugexit_destroy(m->debugexit);
	if (m->uart)
		uart_destroy(m->uart);
	if (m->serial_file)
		fclose(m->serial_file);
	sched_destroy(&m->sched);
	if (m->clock_ready)
		clock_destroy(&m->clock);
	free(m->cpus);
	if (m->icache)
		icache_destroy(m->icache);
	free(m->pio);
	if (m->phys_ready)
		phys_destroy(&m->phys);
	machine_free_image(&m->image);
	free(m);
}

/* ---- loading ---- */

/* -initrd element i, "<file>[ <args>]": the file is up to the first space
 * (QEMU's rule); the whole element is the module's string. */
static int machine_read_module(struct machine_image *img, int i, const char *elem, char *err,
			       size_t errlen)
{
	const char *sp = strchr(elem, ' ');
	char *path = strndup(elem, sp ? (size_t)(sp - elem) : strlen(elem));
	uint8_t *data;
	size_t size;

	if (!path)
		return machine_fail(err, errlen, "out of host memory");
	img->module_paths[i] = path;
	if (mb_read_file(path, &data, &size, err, errlen))
		return -1;
	img->modules[i] = (struct mb_module){ path, elem, data, size };
	return 0;
}

static int machine_read_image(struct machine *m, char *err, size_t errlen)
{
	struct machine_image *img = &m->image;
	int n = m->cfg.nmodules;

	if (!m->cfg.kernel)
		return machine_fail(err, errlen, "no kernel given");
	if (mb_read_file(m->cfg.kernel, &img->kernel, &img->kernel_size, err, errlen))
		return -1;
	img->modules = calloc(n ? (size_t)n : 1, sizeof(*img->modules));
	img->module_paths = calloc(n ? (size_t)n : 1, sizeof(*img->module_paths));
	if (!img->modules || !img->module_paths)
		return machine_fail(err, errlen, "out of host memory");
	img->nmodules = n;
	for (int i = 0; i < n; i++)
		if (machine_read_module(img, i, m->cfg.modules[i], err, errlen))
			return -1;
	return 0;
}

/* Place the image in RAM and put vCPU 0 at its entry (spec 3.2). */
static int machine_boot(struct machine *m, char *err, size_t errlen)
{
	struct mb_request rq = {
		.kernel_name = m->cfg.kernel, .kernel = m->image.kernel, .kernel_size = m->image.kernel_size,
		.append = m->cfg.append ? m->cfg.append : "", .modules = m->image.modules,
		.nmodules = m->image.nmodules,
	};
	struct mb_result r;

	if (mb_load(&m->phys, &rq, &r, err, errlen))
		return -1;
	cpu_set_multiboot_state(&m->cpus[0], r.entry, MB_BOOT_MAGIC, r.info);
	return platform_firmware_setup(m, err, errlen);
}

int machine_load(struct machine *m, char *err, size_t errlen)
{
	assert(!m->image.loaded);
	if (machine_read_image(m, err, errlen) || machine_boot(m, err, errlen)) {
		machine_free_image(&m->image);
		return -1;
	}
	m->image.loaded = true;
	return 0;
}

/* ---- running ---- */

static bool machine_finish(struct machine *m, enum machine_result r, struct cpu *c)
{
	m->exit.result = r;
	m->exit.cpu = c ? (int)(c - m->cpus) : -1;
	m->exit.cycle = c ? sched_cpu_time(&m->sched, m->exit.cpu) : m->sched.now;
	if (c) {
		m->exit.rip = c->rip;
		m->exit.if_set = (cpu_get_rflags(c) & FL_IF) != 0;
	}
	return true;
}

/* A reset as QEMU does it for -kernel: every vCPU to its power-on state, the
 * image reloaded from the copy read at start, vCPU 0 at the entry again. RAM
 * outside the image keeps its contents. Returns true when the run must end. */
static bool machine_reset(struct machine *m, struct cpu *c)
{
	char err[sizeof(m->exit.detail) - 32];

	for (int i = 0; i < m->ncpus; i++) {
		uint64_t t = sched_cpu_time(&m->sched, i);
		cpu_reset(&m->cpus[i]);
		sched_cpu_rebase(&m->sched, i, t);
	}
	machine_park_aps(m);
	icache_flush(m->icache);
	platform_reset(m);
	uart_reset(m->uart);
	acpi_pm_reset(m->acpi_pm);
	m->resets++;
	if (m->image.loaded && machine_boot(m, err, sizeof(err))) {
		snprintf(m->exit.detail, sizeof(m->exit.detail), "reloading after reset: %s", err);
		return machine_finish(m, MACHINE_INTERNAL_ERROR, c);
	}
	return false;
}

static bool machine_on_power(struct machine *m, struct cpu *c)
{
	m->power_pending = false;
	switch (m->power_ev) {
	case POWER_DEBUG_EXIT:
		m->exit.value = m->power_value;
		return machine_finish(m, MACHINE_DEBUG_EXIT, c);
	case POWER_OFF:
		return machine_finish(m, MACHINE_POWER_OFF, c);
	case POWER_RESET:
		return m->cfg.no_reboot ? machine_finish(m, MACHINE_RESET, c) : machine_reset(m, c);
	}
	assert(0 && "bad power event");
	return true;
}

/* Host nanoseconds, for pacing the display only: never seen by the guest. */
static uint64_t host_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Redraw the window at most every 16 ms of host time. True when the user
 * closed it. */
static bool machine_display(struct machine *m, bool force)
{
	uint64_t now = host_ns();
	if (force || now - m->display_ns >= 16000000ull) {
		m->display_ns = now;
		display_refresh(m->display);
	}
	return display_quit_requested(m->display);
}

/* Everyone sleeps for good: with a window open, wait for a key or for the
 * window to close, as a PC left on would. True when the run is over. */
static bool machine_idle_display(struct machine *m)
{
	while (!machine_display(m, true)) {
		if (input_pending(&m->input))
			return false;
		usleep(16000);
	}
	return machine_finish(m, MACHINE_POWER_OFF, NULL);
}

bool machine_step(struct machine *m)
{
	struct cpu *c;
	enum sched_status st = sched_run_round(&m->sched, &c);

	if (m->stdin_live)
		machine_read_stdin(m, false);
	if (m->display && machine_display(m, false))
		return machine_finish(m, MACHINE_POWER_OFF, NULL);  /* the window was closed */
	input_deliver(&m->input, m->sched.now);
	if (m->power_pending)
		return machine_on_power(m, c);
	switch (st) {
	case SCHED_RAN:
	case SCHED_STOPPED:
		return false;
	case SCHED_TRIPLE_FAULT:
		/* An attached debugger looks at the shutdown before it is acted on. */
		if (m->shutdown_hook && c && m->shutdown_hook(m->shutdown_ctx, c))
			return false;
		if (!m->cfg.no_reboot)
			return machine_reset(m, c);
		if (c && c->vmx.abort) {        /* the shutdown of a VMX abort (27.7) */
			m->exit.value = c->vmx.abort;
			return machine_finish(m, MACHINE_VMX_ABORT, c);
		}
		return machine_finish(m, MACHINE_TRIPLE_FAULT, c);
	case SCHED_ALL_HALTED:
		/* Nothing in the machine can wake a vCPU. Only live input can:
		 * wait for a terminal (a pipe or file gives what it has now;
		 * input a replay delivers has a timer of its own). */
		if (m->stdin_live && isatty(STDIN_FILENO) && machine_read_stdin(m, true))
			return false;
		if (m->display && !input_replaying(&m->input))
			return machine_idle_display(m);
		return machine_finish(m, MACHINE_HALTED_FOREVER, c);
	case SCHED_LIMIT:
		/* A debugger's cycle target (sim/debug.c) ends a round, not the run. */
		if (m->cfg.max_cycles == 0 || m->sched.now < m->cfg.max_cycles)
			return false;
		return machine_finish(m, MACHINE_CYCLE_LIMIT, NULL);
	}
	assert(0 && "bad scheduler status");
	return true;
}

enum machine_result machine_run(struct machine *m)
{
	while (!machine_step(m))
		;
	return machine_end(m);
}

enum machine_result machine_end(struct machine *m)
{
	uint64_t end = m->exit.cycle ? m->exit.cycle : m->sched.now;
	input_finish(&m->input, end);
	if (input_replaying(&m->input) && m->input.replay_end != UINT64_MAX && m->input.replay_end != end)
		fprintf(stderr, "vtxsim: replay ended at cycle %llu, the recorded run at %llu: the runs diverged\n",
			(unsigned long long)end, (unsigned long long)m->input.replay_end);
	if (m->cfg.serial == SERIAL_STDIO)
		fflush(stdout);
	if (m->serial_file)
		fflush(m->serial_file);
	return m->exit.result;
}
