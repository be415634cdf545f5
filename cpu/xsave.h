/* The XSAVE feature set's state components and sizes, for CPUID leaf 0DH
 * (cpu/cpuid.c) and the XSAVE instructions (cpu/xsave.c). SDM vol. 1 13.1-13.4. */
#ifndef CPU_XSAVE_H
#define CPU_XSAVE_H

#include <stdint.h>

#include "cpu/cpu.h"

#define XFEATURE_X87 (1ull << 0)
#define XFEATURE_SSE (1ull << 1)
#define XFEATURE_AVX (1ull << 2)

/* XCR0 bits the model supports (CPUID.(0DH,0):EDX:EAX). */
uint64_t xsave_supported_xcr0(const struct cpu *c);
/* IA32_XSS bits the model supports (CPUID.(0DH,1):EDX:ECX); vtxsim has
 * no supervisor state component yet, so 0. */
uint64_t xsave_supported_xss(const struct cpu *c);
/* Bytes of a standard-format XSAVE area holding `features`. */
unsigned xsave_area_size(uint64_t features);
/* XINUSE: components not in their initial configuration. */
uint64_t xsave_xinuse(const struct cpu *c);

#endif
