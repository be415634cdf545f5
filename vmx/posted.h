/* Posted-interrupt processing (SDM vol. 3C 29.6): what vmx/pending.c asks
 * when an external interrupt arrives in VMX non-root operation. */
#ifndef VMX_POSTED_H
#define VMX_POSTED_H

#include <stdbool.h>
#include <stdint.h>

struct cpu;

/* The posted-interrupt descriptor (29.6, 64 bytes, 64-byte aligned): PIR
 * in bits 255:0, the outstanding-notification bit ON in bit 256; bits
 * 511:257 are available to software and never touched. */
#define PI_DESC_PIR_WORDS 4             /* 64-bit words of PIR, at offsets 0, 8, 16, 24 */
#define PI_DESC_ON_OFF 32               /* byte holding ON, as its bit 0 */
#define PI_DESC_ON 0x1u

/* An external interrupt with vector `physical` was just acknowledged from
 * the local APIC (29.6 step 1) under "external-interrupt exiting" and
 * "acknowledge interrupt on exit". True: "process posted interrupts" is 1
 * and the vector is the posted-interrupt notification vector, and steps
 * 3-7 were performed instead of a VM exit (clear ON, EOI to the local
 * APIC, PIR into VIRR and cleared, RVI = max(RVI, highest PIR bit),
 * evaluation of pending virtual interrupts). False: the caller makes the
 * usual VM exit (step 2). */
bool vmx_posted_intr(struct cpu *c, int physical);

#endif
