/* The bitmap lookups behind vmx_intercept_io/vmx_intercept_msr
 * (vmx/intercept_io.c), separate so unit tests can pin them down. */
#ifndef VMX_INTERCEPT_IO_H
#define VMX_INTERCEPT_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* "Use I/O bitmaps" (SDM vol. 3C 24.6.4, 25.1.3): does an access of size
 * bytes at port exit? Bitmap A covers 0000H-7FFFH, B 8000H-FFFFH; an
 * access exits if the bit of any of its ports is 1, or if it wraps past
 * FFFFH. The bitmaps are read at their physical addresses. */
bool vmx_io_bitmap_exits(struct cpu *c, uint16_t port, unsigned size);

/* "Use MSR bitmaps" (24.6.9, 25.1.3): the 4-KByte area holds the read
 * bitmap for low MSRs (0-1FFFH) at 0, for high MSRs (C0000000H-C0001FFFH)
 * at 1024, the write bitmaps at 2048 and 3072. An MSR outside both ranges
 * always exits. */
bool vmx_msr_bitmap_exits(struct cpu *c, uint32_t msr, bool write);

#endif
