/* Local APIC (SDM vol. 3A chapter 10) in xAPIC mode (MMIO at 0xFEE00000,
 * table 10-1) or x2APIC mode (MSR 800H + offset / 16, 10.12.1.2), and the
 * IOAPIC (82093AA datasheet 3.0: IOREGSEL/IOWIN at 0xFEC00000).
 *
 * apic_read/apic_write take the xAPIC register offset and use whichever
 * interface the APIC is in (apic_use_x2apic() records the switch).
 */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include <stdbool.h>
#include <stdint.h>

#define APIC_MMIO_BASE 0xfee00000ul
#define APIC_BASE_BSP  (1ul << 8)
#define APIC_BASE_EXTD (1ul << 10)
#define APIC_BASE_EN   (1ul << 11)

/* Register offsets (table 10-1). */
#define APIC_ID     0x020
#define APIC_LVR    0x030
#define APIC_TPR    0x080
#define APIC_APR    0x090
#define APIC_PPR    0x0a0
#define APIC_EOI    0x0b0
#define APIC_LDR    0x0d0
#define APIC_DFR    0x0e0
#define APIC_SVR    0x0f0
#define APIC_ISR    0x100
#define APIC_TMR    0x180
#define APIC_IRR    0x200
#define APIC_ESR    0x280
#define APIC_ICR    0x300
#define APIC_ICR2   0x310
#define APIC_LVTT   0x320
#define APIC_LVT0   0x350
#define APIC_LVT1   0x360
#define APIC_LVTERR 0x370
#define APIC_TMICT  0x380
#define APIC_TMCCT  0x390
#define APIC_TDCR   0x3e0
#define APIC_SELF_IPI 0x3f0             /* x2APIC only */

#define APIC_SVR_ENABLE  (1u << 8)
#define APIC_LVT_MASKED  (1u << 16)
#define APIC_LVT_LEVEL   (1u << 15)
#define APIC_LVT_REMOTE_IRR (1u << 14)
#define APIC_DM_FIXED    (0u << 8)
#define APIC_DM_NMI      (4u << 8)
#define APIC_DM_EXTINT   (7u << 8)
#define APIC_DM_MASK     (7u << 8)
#define APIC_TIMER_ONESHOT  (0u << 17)
#define APIC_TIMER_PERIODIC (1u << 17)
#define APIC_TIMER_TSCDL    (2u << 17)
#define APIC_ICR_PENDING (1u << 12)
#define APIC_ICR_ASSERT  (1u << 14)
#define APIC_SH_SELF     (1u << 18)

#define MSR_IA32_TSC_DEADLINE 0x6e0u
#define MSR_X2APIC(reg) (0x800u + (reg) / 16)

/* CPUID.1:ECX feature bits. */
#define CPUID_1_ECX_X2APIC  (1u << 21)
#define CPUID_1_ECX_TSCDL   (1u << 24)

void apic_use_x2apic(bool on);
bool apic_is_x2apic(void);
uint32_t apic_read(unsigned reg);
void apic_write(unsigned reg, uint32_t v);
/* ICR: dest in bits 63:32 (x2APIC) or 63:56 (xAPIC). */
void apic_icr(uint32_t dest, uint32_t low);
void apic_self_ipi(uint8_t vector);
void apic_eoi(void);
/* Bit `vector` of the 256-bit ISR, TMR or IRR (reg = APIC_ISR/TMR/IRR). */
bool apic_vec_bit(unsigned reg, uint8_t vector);
/* SVR = spurious vector | APIC software enable (10.9). */
void apic_sw_enable(uint8_t spurious);
/* Divide configuration register value for a divisor 1..128 (10.5.4,
 * figure 10-10). */
uint32_t apic_tdcr_for(unsigned divisor);
/* The APIC timer's input clock: the core crystal from CPUID leaf 15H
 * (10.5.4), 0 if not enumerated. */
uint64_t apic_timer_hz(void);

/* IOAPIC. */
#define IOAPIC_BASE 0xfec00000ul
#define IOAPIC_ID   0x00
#define IOAPIC_VER  0x01
#define IOAPIC_ARB  0x02
#define IOAPIC_REDIR(pin) (0x10 + 2 * (pin))
#define IOAPIC_EOI_REG 0x40             /* version 0x20 and later */
#define IOAPIC_LEVEL      (1ul << 15)
#define IOAPIC_REMOTE_IRR (1ul << 14)
#define IOAPIC_ACTIVE_LOW (1ul << 13)
#define IOAPIC_DELIV_PEND (1ul << 12)
#define IOAPIC_LOGICAL    (1ul << 11)
#define IOAPIC_MASKED     (1ul << 16)
#define IOAPIC_DEST(id)   ((uint64_t)(id) << 56)

uint32_t ioapic_read(uint8_t reg);
void ioapic_write(uint8_t reg, uint32_t v);
uint64_t ioapic_get_redir(unsigned pin);
/* Writes the high word, then the low word (the low word holds the mask). */
void ioapic_set_redir(unsigned pin, uint64_t entry);

#endif
