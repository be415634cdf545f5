/* Platform wiring: see sim/platform.h. */
#include "sim/platform.h"

#include <stdio.h>
#include <stdlib.h>

#include "cpu/cpuid.h"
#include "cpu/model.h"
#include "devices/acpi_tables.h"
#include "devices/i8042.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/resetctl.h"
#include "devices/rtc.h"
#include "devices/testdev.h"
#include "devices/vga.h"
#include "sim/machine.h"

/* ---- ISA interrupt lines ---- */

static void isa_irq(void *opaque, int line, int level)
{
	struct machine *m = opaque;
	struct platform *p = &m->plat;

	pic_set_irq(p->pic, line, level);
	ioapic_set_irq(p->ioapic, line == 0 ? 2 : line, level);
}

/* The 8259's INTR: to the BSP's LINT0; its INTA answers the APIC's ExtINT. */
static void pic_intr_line(void *opaque, int line, int level)
{
	struct machine *m = opaque;
	(void)line;
	lapic_set_lint(apic_bus_cpu(m->plat.apics, 0), 0, level);
}

static int pic_extint_ack(void *opaque)
{
	return pic_ack(opaque);
}

/* ---- a local APIC's wires to its CPU (struct lapic_cpu_port) ---- */

static struct cpu *link_cpu(void *ctx)
{
	struct vcpu_link *l = ctx;
	return &l->m->cpus[l->i];
}

static void port_intr(void *ctx, bool level)
{
	cpu_set_intr(link_cpu(ctx), level);
}

static void port_nmi(void *ctx)
{
	cpu_nmi(link_cpu(ctx));
}

static void port_smi(void *ctx)
{
	cpu_warn(link_cpu(ctx), "SMI ignored: vtxsim has no system-management mode");
}

static void port_init(void *ctx)
{
	cpu_signal_init(link_cpu(ctx));
}

static void port_sipi(void *ctx, uint8_t vector)
{
	cpu_signal_sipi(link_cpu(ctx), vector);
}

static uint64_t port_tsc(void *ctx)
{
	const struct cpu *c = link_cpu(ctx);
	return c->cycles + c->tsc_offset;
}

/* ---- the CPU's view of its local APIC (struct cpu_apic_ops) ---- */

static struct lapic *link_apic(void *ctx)
{
	struct vcpu_link *l = ctx;
	return apic_bus_cpu(l->m->plat.apics, l->i);
}

/* The xAPIC page follows IA32_APIC_BASE (SDM vol. 3A 10.4.5); translations
 * cached for the old or new page are dropped. */
static void link_update_page(void *ctx)
{
	struct cpu *c = link_cpu(ctx);
	struct lapic *a = link_apic(ctx);
	uint64_t page = lapic_mmio_page(a);

	if (page != c->apic_page.page) {
		c->apic_page = (struct phys_local){ page, &lapic_mmio_ops, a };
		tlb_flush_all(&c->tlb);
		cpu_end_block(c);
	}
	c->msr.apic_base = lapic_get_base(a);
}

static int apic_ack(void *ctx)
{
	return lapic_ack(link_apic(ctx));
}

static bool apic_msr_read(void *ctx, uint32_t msr, uint64_t *v)
{
	struct lapic *a = link_apic(ctx);

	if (msr == MSR_IA32_APIC_BASE) {
		*v = lapic_get_base(a);
		return true;
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		*v = lapic_tsc_deadline_read(a);
		return true;
	}
	return lapic_msr_read(a, msr, v);
}

static bool apic_msr_write(void *ctx, uint32_t msr, uint64_t v)
{
	struct lapic *a = link_apic(ctx);

	if (msr == MSR_IA32_APIC_BASE) {
		if (!lapic_set_base(a, v))
			return false;
		link_update_page(ctx);
		return true;
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		lapic_tsc_deadline_write(a, v);
		return true;
	}
	return lapic_msr_write(a, msr, v);
}

static unsigned apic_cr8_read(void *ctx)
{
	return lapic_get_cr8(link_apic(ctx));
}

static void apic_cr8_write(void *ctx, unsigned v)
{
	lapic_set_cr8(link_apic(ctx), v);
}

static void apic_eoi(void *ctx)
{
	lapic_eoi(link_apic(ctx));
}

static const struct cpu_apic_ops apic_ops = {
	apic_ack, apic_msr_read, apic_msr_write, apic_cr8_read, apic_cr8_write, apic_eoi,
};

/* The APIC timer's input clock: the core crystal where CPUID leaf 15H
 * enumerates it (SDM vol. 3A 10.5.4; vtxsim's leaf 15H reports crystal =
 * TSC rate), else the 100 MHz bus clock leaf 16H reports. */
static uint64_t apic_timer_hz(const struct machine *m)
{
	uint64_t tsc_hz = (uint64_t)m->model->tsc_khz * 1000;
	return m->model->max_leaf >= 0x15 ? tsc_hz : 100000000ull;
}

static int platform_build_apics(struct machine *m)
{
	struct platform *p = &m->plat;
	struct lapic_features f = {
		.x2apic = cpu_model_has(m->model, FEAT_X2APIC),
		.tsc_deadline = cpu_model_has(m->model, FEAT_TSC_DEADLINE),
		.maxphyaddr = m->model->phys_addr_bits,
	};

	p->links = calloc((size_t)m->ncpus, sizeof(*p->links));
	p->apics = apic_bus_create(&m->clock, apic_timer_hz(m), m->ncpus, &f);
	if (!p->links || !p->apics)
		return -1;
	for (int i = 0; i < m->ncpus; i++) {
		struct cpu *c = &m->cpus[i];
		p->links[i] = (struct vcpu_link){ m, i };
		struct lapic_cpu_port port = { port_intr, port_nmi, port_smi, port_init, port_sipi, port_tsc,
					       &p->links[i] };
		apic_bus_attach(p->apics, i, (uint32_t)c->id, i == 0, &port);
		c->apic = &apic_ops;
		c->apic_opaque = &p->links[i];
		link_update_page(&p->links[i]);
	}
	return 0;
}

/* ---- A20 ---- */

static void a20_line(void *opaque, int line, int level)
{
	struct machine *m = opaque;
	struct platform *p = &m->plat;

	p->a20_level[line] = level != 0;
	bool open = p->a20_level[0] || p->a20_level[1];
	for (int i = 0; i < m->ncpus; i++)
		cpu_set_a20(&m->cpus[i], open);
}

static int platform_fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "cannot attach %s", what);
	return -1;
}

int platform_build(struct machine *m, char *err, size_t errlen)
{
	struct platform *p = &m->plat;

	for (int i = 0; i < ISA_IRQS; i++)
		p->isa[i] = (struct irq_line){ isa_irq, m, i };
	p->pic_intr = (struct irq_line){ pic_intr_line, m, 0 };
	p->a20[0] = (struct irq_line){ a20_line, m, 0 };
	p->a20[1] = (struct irq_line){ a20_line, m, 1 };
	if (platform_build_apics(m))
		return platform_fail(err, errlen, "the local APICs (out of host memory)");
	p->pic = pic_create(m->pio, &p->pic_intr);
	if (!p->pic)
		return platform_fail(err, errlen, "the 8259 PICs at 0x20/0xa0");
	apic_bus_set_extint(p->apics, pic_extint_ack, p->pic);
	struct apic_msg_sink sink = apic_bus_sink(p->apics);
	p->ioapic = ioapic_create(&m->phys, IOAPIC_BASE, IOAPIC_ID, &sink);
	if (!p->ioapic)
		return platform_fail(err, errlen, "the IOAPIC at 0xfec00000");
	struct eoi_listener eoi = { ioapic_eoi, p->ioapic };
	if (apic_bus_add_eoi_listener(p->apics, &eoi))
		return platform_fail(err, errlen, "the IOAPIC's EOI listener");
	p->kbd = i8042_create(m->pio, &p->isa[1], &p->isa[12], &p->a20[0], &m->power);
	if (!p->kbd)
		return platform_fail(err, errlen, "the i8042 at 0x60/0x64");
	p->resetctl = resetctl_create(m->pio, &p->a20[1], &m->power);
	if (!p->resetctl)
		return platform_fail(err, errlen, "the reset ports 0x92/0xcf9");
	p->pit = pit_create(m->pio, &m->clock, &p->isa[0]);
	if (!p->pit)
		return platform_fail(err, errlen, "the 8254 PIT at 0x40-0x43/0x61");
	p->rtc = rtc_create(m->pio, &m->clock, &p->isa[8], m->cfg.rtc_base);
	if (!p->rtc)
		return platform_fail(err, errlen, "the CMOS RTC at 0x70/0x71");
	rtc_cmos_set_memory(p->rtc, m->phys.ram_size, m->ncpus);
	p->vga = vga_create(m->pio, &m->phys, &m->clock);
	if (!p->vga)
		return platform_fail(err, errlen, "the VGA (ports 0x3b4-0x3da)");
	_Static_assert(TESTDEV_IRQ_LINES == IOAPIC_NPINS, "pc-testdev drives every IOAPIC pin");
	const struct irq_line *lines[TESTDEV_IRQ_LINES];
	for (int i = 0; i < TESTDEV_IRQ_LINES; i++) {
		if (i < ISA_IRQS) {
			lines[i] = &p->isa[i];
		} else {
			p->ioapic_pci[i - ISA_IRQS] = (struct irq_line){ ioapic_irq_handler, p->ioapic, i };
			lines[i] = &p->ioapic_pci[i - ISA_IRQS];
		}
	}
	p->testdev = testdev_create(m->pio, lines);
	if (!p->testdev)
		return platform_fail(err, errlen, "the pc-testdev (ports 0xe0-0xe3, 0x2000-0x2017)");
	return 0;
}

void platform_destroy(struct machine *m)
{
	struct platform *p = &m->plat;

	if (p->testdev)
		testdev_destroy(p->testdev);
	if (p->vga)
		vga_destroy(p->vga);
	if (p->rtc)
		rtc_destroy(p->rtc);
	if (p->pit)
		pit_destroy(p->pit);
	if (p->resetctl)
		resetctl_destroy(p->resetctl);
	if (p->kbd)
		i8042_destroy(p->kbd);
	if (p->ioapic)
		ioapic_destroy(p->ioapic);
	if (p->pic)
		pic_destroy(p->pic);
	if (p->apics)
		apic_bus_destroy(p->apics);
	free(p->links);
}

void platform_reset(struct machine *m)
{
	struct platform *p = &m->plat;

	for (int i = 0; i < m->ncpus; i++) {
		lapic_reset(apic_bus_cpu(p->apics, i));
		link_update_page(&p->links[i]);
	}
	pic_reset(p->pic);
	ioapic_reset(p->ioapic);
	i8042_reset(p->kbd);
	resetctl_reset(p->resetctl);
	vga_reset(p->vga);
	pit_reset(p->pit);
	rtc_reset(p->rtc);
	testdev_reset(p->testdev);
}

int platform_firmware_setup(struct machine *m, char *err, size_t errlen)
{
	struct acpi_config acpi;
	uint64_t rsdp;

	/* The 8259 pair as a PC BIOS leaves it: initialised (ICW1-4) with
	 * vectors 08H/70H and every input masked but the cascade, so a guest
	 * that enables interrupts without touching the PICs takes none. */
	static const uint8_t pic_init[][2] = {
		{ 0x20, 0x11 }, { 0x21, 0x08 }, { 0x21, 0x04 }, { 0x21, 0x01 }, { 0x21, 0xfb },
		{ 0xa0, 0x11 }, { 0xa1, 0x70 }, { 0xa1, 0x02 }, { 0xa1, 0x01 }, { 0xa1, 0xff },
	};
	for (size_t k = 0; k < sizeof(pic_init) / sizeof(pic_init[0]); k++)
		pio_write(m->pio, pic_init[k][0], pic_init[k][1], 1);
	lapic_firmware_setup(apic_bus_cpu(m->plat.apics, 0));
	acpi_config_pc(&acpi, (unsigned)m->ncpus);
	if (acpi.ncpus != (unsigned)m->ncpus || acpi.ioapic_id != IOAPIC_ID ||
	    acpi_build_tables(&m->phys, &acpi, &rsdp)) {
		snprintf(err, errlen, "cannot build the ACPI tables for %d CPUs (at most %d)", m->ncpus,
			 ACPI_MAX_CPUS);
		return -1;
	}
	return 0;
}
