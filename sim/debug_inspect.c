/* The debug API's inspection of memory and machine (sim/debug_api.h,
 * "memory and machine inspection"): page and EPT walks that change
 * nothing (mem/walkview.c), linear memory through them, and the devices'
 * dumps. */
#include <string.h>

#include "devices/acpi_pm.h"
#include "devices/debugexit.h"
#include "devices/fwcfg.h"
#include "devices/i8042.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/resetctl.h"
#include "devices/rtc.h"
#include "devices/testdev.h"
#include "devices/uart16550.h"
#include "devices/vga.h"
#include "sim/debug_api.h"
#include "sim/machine.h"
#include "vmx/controls.h"
#include "vmx/ept.h"
#include "vmx/vmcs.h"

bool dbg_translate(struct dbg *d, int cpu, uint64_t la, struct wv_walk *w)
{
	const struct cpu *c = dbg_cpu(d, cpu);
	if (!c) {
		memset(w, 0, sizeof(*w));
		w->stop = WV_NOT_MEMORY;
		return false;
	}
	return wv_translate(&dbg_machine(d)->phys, &c->xc, la, w);
}

/* The EPTP of the current VMCS with "enable EPT" (a hypervisor stopped in
 * root operation), and the flags its walk takes (24.6.2, A.10): 0 when
 * there is none. */
static uint64_t vmcs_eptp(struct dbg *d, int cpu, uint8_t *flags)
{
	uint64_t proc = 0, proc2 = 0, eptp = 0;
	if (!dbg_vmcs_read(d, cpu, vmcs_fields[VF_PROC_CONTROLS].enc, &proc) || !(proc & PROC_SECONDARY_CTLS))
		return 0;
	if (!dbg_vmcs_read(d, cpu, vmcs_fields[VF_PROC2_CONTROLS].enc, &proc2) || !(proc2 & PROC2_EPT))
		return 0;
	if (!dbg_vmcs_read(d, cpu, vmcs_fields[VF_EPT_POINTER].enc, &eptp))
		return 0;
	*flags = vmx_ept_flags(dbg_cpu(d, cpu), (uint32_t)proc2);
	return eptp;
}

bool dbg_ept_walk(struct dbg *d, int cpu, uint64_t gpa, uint64_t eptp, struct wv_ept *e, uint64_t *eptp_used)
{
	const struct cpu *c = dbg_cpu(d, cpu);
	memset(e, 0, sizeof(*e));
	*eptp_used = 0;
	if (!c)
		return false;
	struct xlate_ctx x = c->xc;
	if (eptp) {
		uint8_t flags = 0;
		if (!x.eptp && !vmcs_eptp(d, cpu, &flags))
			flags = vmx_ept_flags(c, 0);    /* no VMCS: what the model offers */
		x.ept_flags = x.eptp ? x.ept_flags : flags;
		x.eptp = eptp;
	} else if (!x.eptp) {
		x.eptp = vmcs_eptp(d, cpu, &x.ept_flags);
	}
	if (!x.eptp)
		return false;
	*eptp_used = x.eptp;
	return wv_ept_walk(&dbg_machine(d)->phys, &x, gpa, e);
}

/* Copy n bytes between buf and linear memory of cpu, page by page through
 * the walk; write: into memory. */
static size_t linear_copy(struct dbg *d, int cpu, uint64_t la, void *buf, size_t n, bool write, struct wv_walk *fail)
{
	const struct cpu *c = dbg_cpu(d, cpu);
	struct wv_walk w;
	size_t got = 0;
	if (!c)
		return 0;
	bool wrap32 = !(c->efer & EFER_LMA);    /* linear addresses are 32 bits outside IA-32e mode */
	while (got < n) {
		uint64_t at = la + got;
		if (wrap32)
			at &= 0xffffffffull;
		if (!wv_translate(&dbg_machine(d)->phys, &c->xc, at, &w)) {
			if (fail)
				*fail = w;
			break;
		}
		size_t chunk = PAGE_SIZE - (at & (PAGE_SIZE - 1));
		if (chunk > n - got)
			chunk = n - got;
		size_t done = write ? dbg_write_phys(d, w.pa, (const uint8_t *)buf + got, chunk)
				    : dbg_read_phys(d, w.pa, (uint8_t *)buf + got, chunk);
		got += done;
		if (done < chunk) {
			if (fail) {
				*fail = w;
				fail->stop = WV_NOT_MEMORY;
			}
			break;
		}
	}
	return got;
}

size_t dbg_read_linear(struct dbg *d, int cpu, uint64_t la, void *buf, size_t n, struct wv_walk *fail)
{
	return linear_copy(d, cpu, la, buf, n, false, fail);
}

size_t dbg_write_linear(struct dbg *d, int cpu, uint64_t la, const void *buf, size_t n, struct wv_walk *fail)
{
	return linear_copy(d, cpu, la, (void *)buf, n, true, fail);
}

/* ---- devices ---- */

/* The machine's devices, in the order `devices` prints them. */
enum dev_id { DEV_UART, DEV_PIC, DEV_PIT, DEV_RTC, DEV_IOAPIC, DEV_LAPIC, DEV_I8042, DEV_RESETCTL, DEV_VGA,
	      DEV_FWCFG, DEV_ACPI_PM, DEV_DEBUGEXIT, DEV_TESTDEV, DEV_COUNT };
static const char *const dev_names[DEV_COUNT] = { "uart", "pic", "pit", "rtc", "ioapic", "lapic", "i8042",
						  "resetctl", "vga", "fwcfg", "acpi_pm", "debugexit", "testdev" };

static void *dev_opaque(struct machine *m, enum dev_id id, dev_dump_fn *fn)
{
	switch (id) {
	case DEV_UART: *fn = uart_dump; return m->uart;
	case DEV_PIC: *fn = pic_dump; return m->plat.pic;
	case DEV_PIT: *fn = pit_dump; return m->plat.pit;
	case DEV_RTC: *fn = rtc_dump; return m->plat.rtc;
	case DEV_IOAPIC: *fn = ioapic_dump; return m->plat.ioapic;
	case DEV_LAPIC: *fn = apic_bus_dump; return m->plat.apics;
	case DEV_I8042: *fn = i8042_dump; return m->plat.kbd;
	case DEV_RESETCTL: *fn = resetctl_dump; return m->plat.resetctl;
	case DEV_VGA: *fn = vga_dump; return m->plat.vga;
	case DEV_FWCFG: *fn = fwcfg_dump; return m->fwcfg;
	case DEV_ACPI_PM: *fn = acpi_pm_dump; return m->acpi_pm;
	case DEV_DEBUGEXIT: *fn = debugexit_dump; return m->debugexit;
	case DEV_TESTDEV: *fn = testdev_dump; return m->plat.testdev;
	case DEV_COUNT: break;
	}
	return NULL;
}

const char *dbg_device_name(int i)
{
	return i >= 0 && i < DEV_COUNT ? dev_names[i] : NULL;
}

bool dbg_dump_devices(struct dbg *d, FILE *out, const char *name)
{
	bool found = false;
	for (int i = 0; i < DEV_COUNT; i++) {
		if (name && strcmp(name, dev_names[i]))
			continue;
		dev_dump_fn fn;
		void *o = dev_opaque(dbg_machine(d), (enum dev_id)i, &fn);
		if (!o)
			continue;
		if (!name)
			fprintf(out, "== %s\n", dev_names[i]);
		fn(o, out);
		found = true;
	}
	return found;
}

bool dbg_dump_lapic(struct dbg *d, int cpu, FILE *out)
{
	struct machine *m = dbg_machine(d);
	if (!m->plat.apics || cpu < 0 || cpu >= apic_bus_ncpus(m->plat.apics))
		return false;
	lapic_dump(apic_bus_cpu(m->plat.apics, cpu), out);
	return true;
}
