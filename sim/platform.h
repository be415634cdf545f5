/* The PC platform around the vCPUs: interrupt controllers and routing,
 * timers, the keyboard controller, reset and A20 (sim/platform.c).
 *
 * IRQ routing (QEMU's PC, as the MADT says): ISA IRQ n drives 8259 input n
 * and IOAPIC pin n, except IRQ0 (the PIT), which is IOAPIC pin 2. ISA lines
 * are active high. The 8259 pair's INTR goes to the BSP's local APIC LINT0.
 * The A20 gate is open while the i8042 output port or port 92H opens it.
 * QEMU's pc-testdev (ports 0x2000-0x2017) drives ISA IRQs 0-15 the same way
 * and IOAPIC pins 16-23 directly.
 */
#ifndef SIM_PLATFORM_H
#define SIM_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "devices/device.h"
#include "devices/ioapic.h"

#define ISA_IRQS 16
#define PIC_BASE_MASTER 0x20
#define IOAPIC_BASE 0xfec00000u
#define IOAPIC_ID 0                     /* as QEMU's MADT says */
#define LAPIC_BASE 0xfee00000u

struct machine;

/* A vCPU's end of the wires to its local APIC. */
struct vcpu_link {
	struct machine *m;
	int i;
};

struct platform {
	struct apic_bus *apics;
	struct vcpu_link *links;        /* one per vCPU */
	struct pic *pic;
	struct ioapic *ioapic;
	struct i8042 *kbd;
	struct resetctl *resetctl;
	struct vga *vga;
	struct pit *pit;
	struct rtc *rtc;
	struct testdev *testdev;
	struct irq_line ioapic_pci[IOAPIC_NPINS - ISA_IRQS];    /* IOAPIC pins 16-23, driven directly */
	struct irq_line isa[ISA_IRQS];  /* what ISA devices drive */
	struct irq_line pic_intr;       /* 8259 INTR output */
	struct irq_line a20[2];         /* i8042 output port, port 92H */
	bool a20_level[2];
};

/* Build the chips (after the vCPUs, the clock and the power sink exist);
 * 0, or -1 with a message. */
int platform_build(struct machine *m, char *err, size_t errlen);
void platform_destroy(struct machine *m);
/* A machine reset: chips to their reset state. */
void platform_reset(struct machine *m);
/* The state a PC BIOS leaves for a -kernel boot (SeaBIOS): the 8259 pair
 * initialised at vectors 08H/70H with all inputs masked but the cascade;
 * the BSP's LINT0 in ExtINT mode and LINT1 NMI (virtual-wire mode);
 * the ACPI tables in 0xE0000-0xEFFFF. 0, or -1 with a message. */
int platform_firmware_setup(struct machine *m, char *err, size_t errlen);

#endif
