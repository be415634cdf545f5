/* APIC virtualization (SDM vol. 3C chapter 29): the pure rules of
 * vmx/apicv.c, separate so unit tests pin them without a guest. */
#ifndef VMX_APICV_H
#define VMX_APICV_H

#include <stdbool.h>
#include <stdint.h>

/* Virtual-APIC page offsets (29.1.1). */
#define VAPIC_TPR       0x080u
#define VAPIC_PPR       0x0a0u
#define VAPIC_EOI       0x0b0u
#define VAPIC_ISR       0x100u
#define VAPIC_IRR       0x200u
#define VAPIC_ICR_LO    0x300u
#define VAPIC_ICR_HI    0x310u

/* Access type, bits 15:12 of an APIC-access exit qualification (27.2.1,
 * Table 27-6 of the edition whose VM-exit chapter is 27). */
enum vmx_apic_access_type {
	APIC_ACCESS_LINEAR_READ = 0,
	APIC_ACCESS_LINEAR_WRITE = 1,
	APIC_ACCESS_LINEAR_FETCH = 2,
	APIC_ACCESS_LINEAR_EVENT = 3,   /* linear access (read or write) during event delivery */
	APIC_ACCESS_PHYS_EVENT = 10,    /* guest-physical access during event delivery */
	APIC_ACCESS_PHYS_INSN = 15,     /* guest-physical access for a fetch or during execution */
};

/* Table 27-6: page offset in bits 11:0, access type in 15:12 (bit 16,
 * "asynchronous", is for accesses vtxsim does not make). */
uint64_t vmx_apic_access_qual(unsigned off, enum vmx_apic_access_type type);
/* The qualification of an APIC-access VM exit caused by a guest-physical
 * access (29.4.6.1: a guest paging-structure read or a PDPTE load whose
 * EPT translation is on the APIC-access page): type 10 (during event
 * delivery) or 15 (instruction fetch or execution). Bits 11:0 are
 * undefined for these (Table 27-6); vtxsim stores the page offset of the
 * guest-physical address. */
uint64_t vmx_apic_gpa_qual(uint64_t gpa, bool during_delivery);
/* 29.4.2: is a data read of size bytes at page offset off virtualized
 * (read from the virtual-APIC page) under secondary controls proc2, with
 * "use TPR shadow" 1 and no virtualized write earlier in the operation? */
bool vmx_apic_read_virtualized(uint32_t proc2, unsigned off, unsigned size);
/* 29.4.3.1: the same for a write. */
bool vmx_apic_write_virtualized(uint32_t proc2, unsigned off, unsigned size);
/* 29.4.3.2 offset 300H: does VICR_LO ask for a self-IPI that
 * self-IPI virtualization performs (reserved bits and delivery status 0,
 * shorthand self, edge, fixed, vector >= 16)? */
bool vmx_self_ipi_icr(uint32_t icr_lo);
/* 29.1.3: VPPR from VTPR and SVI. */
uint8_t vmx_ppr(uint8_t vtpr, uint8_t svi);

#endif
