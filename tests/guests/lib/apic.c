/* Local APIC and IOAPIC register access for the guest tests (lib/apic.h). */
#include "guest.h"
#include "apic.h"

static bool x2apic_mode;

void apic_use_x2apic(bool on)
{
	x2apic_mode = on;
}

bool apic_is_x2apic(void)
{
	return x2apic_mode;
}

static volatile uint32_t *apic_mmio(unsigned reg)
{
	return (volatile uint32_t *)(APIC_MMIO_BASE + reg);
}

uint32_t apic_read(unsigned reg)
{
	if (x2apic_mode)
		return (uint32_t)rdmsr(MSR_X2APIC(reg));
	return *apic_mmio(reg);
}

void apic_write(unsigned reg, uint32_t v)
{
	if (x2apic_mode)
		wrmsr(MSR_X2APIC(reg), v);
	else
		*apic_mmio(reg) = v;
}

void apic_icr(uint32_t dest, uint32_t low)
{
	if (x2apic_mode) {
		wrmsr(MSR_X2APIC(APIC_ICR), (uint64_t)dest << 32 | low);
		return;
	}
	*apic_mmio(APIC_ICR2) = dest << 24;
	*apic_mmio(APIC_ICR) = low;             /* the low write sends */
}

void apic_self_ipi(uint8_t vector)
{
	apic_icr(0, APIC_SH_SELF | APIC_ICR_ASSERT | APIC_DM_FIXED | vector);
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

bool apic_vec_bit(unsigned reg, uint8_t vector)
{
	return apic_read(reg + 0x10 * (vector / 32)) >> (vector % 32) & 1;
}

void apic_sw_enable(uint8_t spurious)
{
	apic_write(APIC_SVR, APIC_SVR_ENABLE | spurious);
}

/* Figure 10-10: bits 3, 1:0; divide by 2^(value + 1), 1011b = by 1. */
uint32_t apic_tdcr_for(unsigned divisor)
{
	static const uint32_t code[8] = { 0xb, 0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xa };

	for (unsigned i = 0; i < 8; i++)
		if (divisor == 1u << i)
			return code[i];
	return 0xb;
}

uint64_t apic_timer_hz(void)
{
	if (cpuid(0, 0).a < 0x15)
		return 0;
	return cpuid(0x15, 0).c;
}

static volatile uint32_t *ioapic_mmio(unsigned off)
{
	return (volatile uint32_t *)(IOAPIC_BASE + off);
}

uint32_t ioapic_read(uint8_t reg)
{
	*ioapic_mmio(0x00) = reg;
	return *ioapic_mmio(0x10);
}

void ioapic_write(uint8_t reg, uint32_t v)
{
	*ioapic_mmio(0x00) = reg;
	*ioapic_mmio(0x10) = v;
}

uint64_t ioapic_get_redir(unsigned pin)
{
	uint32_t lo = ioapic_read((uint8_t)IOAPIC_REDIR(pin));

	return (uint64_t)ioapic_read((uint8_t)(IOAPIC_REDIR(pin) + 1)) << 32 | lo;
}

void ioapic_set_redir(unsigned pin, uint64_t e)
{
	ioapic_write((uint8_t)(IOAPIC_REDIR(pin) + 1), (uint32_t)(e >> 32));
	ioapic_write((uint8_t)IOAPIC_REDIR(pin), (uint32_t)e);
}
