/* Platform wiring: see sim/platform.h. */
#include "sim/platform.h"

#include <stdio.h>

#include "devices/i8042.h"
#include "devices/ioapic.h"
#include "devices/pic8259.h"
#include "devices/resetctl.h"
#include "sim/machine.h"

/* ---- ISA interrupt lines ---- */

static void isa_irq(void *opaque, int line, int level)
{
	struct machine *m = opaque;
	struct platform *p = &m->plat;

	pic_set_irq(p->pic, line, level);
	ioapic_set_irq(p->ioapic, line == 0 ? 2 : line, level);
}

/* The 8259's INTR: to the BSP's LINT0. */
static void pic_intr_line(void *opaque, int line, int level)
{
	(void)opaque, (void)line, (void)level;
}

static void apic_msg_drop(void *opaque, const struct apic_msg *msg)
{
	(void)opaque, (void)msg;
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
	p->pic = pic_create(m->pio, &p->pic_intr);
	if (!p->pic)
		return platform_fail(err, errlen, "the 8259 PICs at 0x20/0xa0");
	struct apic_msg_sink none = { apic_msg_drop, NULL };
	p->ioapic = ioapic_create(&m->phys, IOAPIC_BASE, (uint8_t)m->ncpus, &none);
	if (!p->ioapic)
		return platform_fail(err, errlen, "the IOAPIC at 0xfec00000");
	p->kbd = i8042_create(m->pio, &p->isa[1], &p->isa[12], &p->a20[0], &m->power);
	if (!p->kbd)
		return platform_fail(err, errlen, "the i8042 at 0x60/0x64");
	p->resetctl = resetctl_create(m->pio, &p->a20[1], &m->power);
	if (!p->resetctl)
		return platform_fail(err, errlen, "the reset ports 0x92/0xcf9");
	return 0;
}

void platform_destroy(struct machine *m)
{
	struct platform *p = &m->plat;

	if (p->resetctl)
		resetctl_destroy(p->resetctl);
	if (p->kbd)
		i8042_destroy(p->kbd);
	if (p->ioapic)
		ioapic_destroy(p->ioapic);
	if (p->pic)
		pic_destroy(p->pic);
}

void platform_reset(struct machine *m)
{
	struct platform *p = &m->plat;

	pic_reset(p->pic);
	ioapic_reset(p->ioapic);
	i8042_reset(p->kbd);
	resetctl_reset(p->resetctl);
}
