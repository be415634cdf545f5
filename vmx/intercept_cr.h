/* The exit-information encoders of vmx/intercept_cr.c: pure functions of
 * their arguments (unit-tested in tests/unit/vmx/test_intercept_cr.c).
 * Internal to vmx/; cpu/ calls the vmx_intercept_* entry points in
 * vmx/vmx.h. */
#ifndef VMX_INTERCEPT_CR_H
#define VMX_INTERCEPT_CR_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/vmx.h"

struct insn;

/* Access types of Table 27-3, bits 5:4. */
enum vmx_cr_access { CR_ACCESS_MOV_TO = 0, CR_ACCESS_MOV_FROM = 1, CR_ACCESS_CLTS = 2, CR_ACCESS_LMSW = 3 };

/* Exit qualification for control-register accesses (SDM vol. 3C 27.2.1,
 * Table 27-3): CR number in 3:0 (0 for CLTS and LMSW), access type in
 * 5:4, LMSW operand type in 6 (1 = memory), the GPR in 11:8 for MOV CR,
 * the LMSW source data in 31:16. */
uint64_t vmx_cr_qual(unsigned cr, enum vmx_cr_access type, unsigned gpr, bool lmsw_mem, uint16_t lmsw_src);

/* Exit qualification for MOV DR (Table 27-4): DR number in 2:0, direction
 * in 4 (1 = MOV from DR), the GPR in 11:8. */
uint64_t vmx_dr_qual(unsigned dr, bool from, unsigned gpr);

/* VM-exit instruction information for LGDT/LIDT/SGDT/SIDT (Table 27-10)
 * and LLDT/LTR/SLDT/STR (Table 27-11): the operand bits the VMX-instruction
 * format shares (vmx_insn_mem_info), operand size in 11 (Table 27-10),
 * register operand in 6:3 + bit 10 (Table 27-11), instruction identity in
 * 29:28. Bits the tables call undefined are 0. */
uint32_t vmx_dt_info(const struct insn *i, enum vmx_dt_insn which);

/* The TSC a guest reads (25.3 RDTSC, RDTSCP, RDMSR): with "use TSC
 * scaling", bits 111:48 of the 128-bit product tsc * multiplier; then the
 * offset added (mod 2^64, which is the signed addition of the SDM). */
uint64_t vmx_tsc_adjust(uint64_t tsc, bool scale, uint64_t multiplier, uint64_t offset);

#endif
