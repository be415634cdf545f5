/* SMP bring-up for the guest kernels: an AP start-up trampoline below
 * 1 MiB, the INIT-SIPI-SIPI sequence through the xAPIC ICR, per-AP stacks
 * and a C entry per AP, plus the few xAPIC accessors that needs.
 *
 * smp_init() checks that the trampoline page is free RAM, enables the BSP's
 * local APIC and learns the CPU count and the TSC rate. smp_start_aps()
 * copies the trampoline, broadcasts INIT-SIPI-SIPI (SDM vol. 3A 8.4.4.1
 * "Typical BSP Initialization Sequence") and waits for the APs. Each AP
 * runs the trampoline (real mode -> 32-bit protected mode -> long mode on
 * the BSP's page tables, lib/smp_tramp.S), takes the next cpu index (the
 * BSP is 0), records its entry state, enables its local APIC and calls the
 * kernel's ap_main(cpu_index) on its own stack.
 *
 * The library's IDT and handler table are shared by every CPU; printf and
 * report() are not SMP-safe, so APs record results in memory and the BSP
 * reports them.
 */
#ifndef GUEST_SMP_H
#define GUEST_SMP_H

#include "guest.h"

#define SMP_MAX_CPUS    16
#define SMP_TRAMP_PAGE  0x8000u         /* SIPI vector 08H */
#define SMP_STACK_SIZE  8192

/* ---- xAPIC registers (SDM vol. 3A 10.4.1, Table 10-1) ---- */
#define XAPIC_BASE      0xfee00000ul
#define XAPIC_ID        0x020
#define XAPIC_VERSION   0x030
#define XAPIC_TPR       0x080
#define XAPIC_PPR       0x0a0
#define XAPIC_EOI       0x0b0
#define XAPIC_LDR       0x0d0
#define XAPIC_DFR       0x0e0
#define XAPIC_SVR       0x0f0
#define XAPIC_ISR       0x100           /* 8 registers, 16 bytes apart */
#define XAPIC_IRR       0x200
#define XAPIC_ESR       0x280
#define XAPIC_ICR_LO    0x300
#define XAPIC_ICR_HI    0x310

#define SVR_APIC_ENABLE (1u << 8)
#define SPURIOUS_VECTOR 0xff

/* ICR low word (SDM vol. 3A 10.6.1, Figure 10-12). */
#define ICR_FIXED       (0u << 8)
#define ICR_LOWEST      (1u << 8)
#define ICR_NMI         (4u << 8)
#define ICR_INIT        (5u << 8)
#define ICR_STARTUP     (6u << 8)
#define ICR_LOGICAL     (1u << 11)
#define ICR_BUSY        (1u << 12)      /* delivery status: send pending */
#define ICR_ASSERT      (1u << 14)
#define ICR_LEVEL       (1u << 15)
#define ICR_SELF        (1u << 18)
#define ICR_ALL         (2u << 18)      /* all including self */
#define ICR_OTHERS      (3u << 18)      /* all excluding self */

static inline uint32_t xapic_read(unsigned reg)
{
	return *(volatile uint32_t *)(XAPIC_BASE + reg);
}

static inline void xapic_write(unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(XAPIC_BASE + reg) = v;
}

/* This CPU's APIC id from the xAPIC ID register, bits 31:24. */
static inline uint8_t xapic_id(void)
{
	return (uint8_t)(xapic_read(XAPIC_ID) >> 24);
}

static inline void xapic_eoi(void)
{
	xapic_write(XAPIC_EOI, 0);
}

/* Sends an IPI: ICR high (destination field 63:56) first, then the low
 * word, whose write starts the send; waits while delivery status says
 * "send pending" (10.6.1). */
void xapic_send_ipi(uint8_t dest, uint32_t icr_lo);

/* The entry state an AP showed at its first real-mode instruction, and
 * what it reported once in long mode. */
struct smp_cpu {
	volatile bool arrived;          /* ap_main is about to be called */
	uint16_t entry_cs;              /* CS selector at the SIPI entry */
	uint32_t entry_cr0, entry_edx;  /* CR0 and EDX at the SIPI entry */
	uint8_t apic_id;                /* xAPIC ID register */
	uint8_t cpuid_apic_id;          /* CPUID.1:EBX[31:24] */
	uint64_t apic_base;             /* IA32_APIC_BASE */
	unsigned starts;                /* times this index started */
};

extern struct smp_cpu smp_cpus[SMP_MAX_CPUS];
/* APs that reached ap_main (LOCK-incremented by each). */
extern volatile unsigned smp_arrived;
/* CPUs in the machine (CPUID leaf 0BH, or CPUID.1 on older models). */
extern unsigned smp_ncpus;
/* TSC ticks per second (CPUID leaf 15H, or 16H). */
extern uint64_t smp_tsc_hz;

/* Provided by the kernel that starts APs: runs on AP cpu_index with its own
 * stack, the library's IDT loaded, its local APIC software-enabled and
 * interrupts disabled. It may return: the AP then halts (cli; hlt). */
void ap_main(int cpu_index);

/* Checks the trampoline page against the multiboot memory map and info,
 * enables the BSP's APIC, reads the CPU count and TSC rate. Reports a
 * failure and returns false when something is missing. */
bool smp_init(uint32_t mbinfo);
/* INIT-SIPI-SIPI broadcast to all APs at SMP_TRAMP_PAGE; waits (up to
 * 100 ms simulated) until smp_ncpus - 1 APs arrived. Returns the number that did. */
unsigned smp_start_aps(void);
/* Restart one AP: targeted INIT (it returns to wait-for-SIPI), then a SIPI
 * with the vector of trampoline page `page` (a free 4 KiB page below
 * 1 MiB), as cpu index `cpu_index` again. The caller waits for
 * smp_cpus[cpu_index].arrived. */
void smp_send_init(uint8_t apic_id);
void smp_send_sipi(uint8_t apic_id, uint32_t page, int cpu_index);
/* True if [page, page + 4 KiB) is free RAM per the multiboot map and does
 * not hold the multiboot info. */
bool smp_page_free(uint32_t mbinfo, uint32_t page);

/* Busy-waits for ns nanoseconds of TSC time. */
void smp_delay_ns(uint64_t ns);
/* Cycles for ns nanoseconds at the TSC rate. */
uint64_t smp_ns_to_tsc(uint64_t ns);
/* Index of the CPU running this (from its APIC id), or -1. */
int smp_cpu_index(void);

/* LOCK-prefixed read-modify-writes (SDM vol. 3A 9.1.2.2). */
static inline unsigned atomic_fetch_inc(volatile unsigned *p)
{
	unsigned v = 1;
	asm volatile("lock xaddl %0, %1" : "+r"(v), "+m"(*p) : : "memory");
	return v;
}

static inline void cpu_relax(void)
{
	asm volatile("pause" : : : "memory");
}

#endif
