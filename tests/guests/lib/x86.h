/* Inline helpers for privileged x86 instructions used by the guest kernels:
 * port I/O, MSRs, CPUID, TSC, control registers, flags. */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#include <stdint.h>

/* RFLAGS bits (SDM Vol. 1, 3.4.3). */
#define RFLAGS_CF   (1ul << 0)
#define RFLAGS_PF   (1ul << 2)
#define RFLAGS_AF   (1ul << 4)
#define RFLAGS_ZF   (1ul << 6)
#define RFLAGS_SF   (1ul << 7)
#define RFLAGS_TF   (1ul << 8)
#define RFLAGS_IF   (1ul << 9)
#define RFLAGS_DF   (1ul << 10)
#define RFLAGS_OF   (1ul << 11)
#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

#define CR0_PE (1ul << 0)
#define CR0_MP (1ul << 1)
#define CR0_EM (1ul << 2)
#define CR0_TS (1ul << 3)
#define CR0_WP (1ul << 16)
#define CR0_PG (1ul << 31)
#define CR4_PAE (1ul << 5)
#define CR4_PGE (1ul << 7)

#define MSR_IA32_TSC            0x00000010u
#define MSR_IA32_APIC_BASE      0x0000001bu
#define MSR_IA32_PAT            0x00000277u
#define MSR_EFER                0xc0000080u
#define MSR_FS_BASE             0xc0000100u
#define MSR_GS_BASE             0xc0000101u
#define MSR_KERNEL_GS_BASE      0xc0000102u
#define MSR_TSC_AUX             0xc0000103u
#define EFER_SCE (1ul << 0)
#define EFER_LME (1ul << 8)
#define EFER_LMA (1ul << 10)
#define EFER_NXE (1ul << 11)

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdmsr(uint32_t index)
{
	uint32_t lo, hi;
	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index));
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t index, uint64_t v)
{
	asm volatile("wrmsr" : : "c"(index), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

struct cpuid_regs {
	uint32_t a, b, c, d;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	asm volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(subleaf));
	return r;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Busy-waits for at least `cycles` TSC ticks. */
static inline void spin_cycles(uint64_t cycles)
{
	uint64_t end = rdtsc() + cycles;

	while (rdtsc() < end)
		__asm__ volatile("pause");
}

/* |got - want| <= tol, without overflow for unsigned values. */
static inline bool near(uint64_t got, uint64_t want, uint64_t tol)
{
	return got + tol >= want && got <= want + tol;
}

#define DEFINE_CR(n)                                                       \
	static inline uint64_t read_cr##n(void)                            \
	{                                                                  \
		uint64_t v;                                                \
		asm volatile("mov %%cr" #n ", %0" : "=r"(v));              \
		return v;                                                  \
	}                                                                  \
	static inline void write_cr##n(uint64_t v)                         \
	{                                                                  \
		asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory");    \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline uint64_t read_rflags(void)
{
	uint64_t f;
	asm volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

static inline void write_rflags(uint64_t f)
{
	asm volatile("pushq %0; popfq" : : "r"(f) : "cc", "memory");
}

static inline void invlpg(const volatile void *va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline void cli(void)
{
	asm volatile("cli" : : : "memory");
}

static inline void sti(void)
{
	asm volatile("sti" : : : "memory");
}

static inline void halt_forever(void)
{
	for (;;)
		asm volatile("cli; hlt");
}

/* The boot identity map (lib/boot.S). */
extern uint64_t boot_pml4[], boot_pdpt[], boot_pd[];

/* Let ring-3 code use the boot identity map: set U/S in every boot
 * paging-structure entry (SDM vol. 3A 4.6.1) and flush the TLB. */
static inline void boot_map_allow_user(void)
{
	boot_pml4[0] |= 4;
	for (int i = 0; i < 4; i++)
		boot_pdpt[i] |= 4;
	for (int i = 0; i < 2048; i++)
		boot_pd[i] |= 4;
	write_cr3(read_cr3());
}

/* The two GDT slots of an available 64-bit TSS descriptor (SDM vol. 3A
 * 8.2.3, Figure 8-4). */
static inline void gdt_set_tss64(uint64_t *slot, uint64_t base, uint64_t limit)
{
	slot[0] = limit | (base & 0xffffff) << 16 | 0x89ul << 40 | (base >> 24 & 0xff) << 56;
	slot[1] = base >> 32;
}

#endif
