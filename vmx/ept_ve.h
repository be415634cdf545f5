/* EPT-violation #VE (vmx/ept_ve.c). Internal to vmx/. */
#ifndef VMX_EPT_VE_H
#define VMX_EPT_VE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/vmx.h"

/* The virtualization-exception information area (SDM vol. 3C 25.5.6.2,
 * Table 25-1): byte offsets. */
#define VE_INFO_EXIT_REASON 0u  /* 32 bits: 48, the exit reason an exit would have saved */
#define VE_INFO_MARKER 4u       /* 32 bits: FFFFFFFFH after delivery; a #VE needs 0 here */
#define VE_INFO_QUAL 8u         /* 64 bits: the exit qualification */
#define VE_INFO_LINEAR 16u      /* 64 bits: the guest-linear address */
#define VE_INFO_PHYS 24u        /* 64 bits: the guest-physical address */
#define VE_INFO_EPTP_INDEX 32u  /* 16 bits: the EPTP-index field */
#define VE_INFO_MARKER_SET 0xffffffffu

/* An EPT violation f that would exit with qualification qual, prev the
 * event being delivered: with "EPT-violation #VE" = 1, when it is
 * convertible and a #VE may be raised (25.5.6.1), write the information
 * area and return true (the caller delivers #VE, vector 20, as a fault,
 * which the exception bitmap may still turn into a VM exit, 25.5.6.3). */
bool vmx_ept_ve(struct cpu *c, const struct xlate_fault *f, uint64_t qual, const struct vmx_vectoring *prev);

#endif
