/* EPT: guest-physical -> host-physical translation in VMX non-root
 * operation (SDM vol. 3C 29.3). mem/ never sees struct cpu or the VMCS. */
#ifndef MEM_EPT_H
#define MEM_EPT_H

#include <stdint.h>

/* Exit qualification for EPT violations (28.2.1, Table 28-7). mem/ builds
 * it in struct xlate_fault.qual; vmx/ adds bit 12 when it exits. */
#define EPT_QUAL_READ (1ull << 0)               /* the access was a data read */
#define EPT_QUAL_WRITE (1ull << 1)              /* a data write */
#define EPT_QUAL_FETCH (1ull << 2)              /* an instruction fetch */
#define EPT_QUAL_READABLE (1ull << 3)           /* the translation allowed reads (AND of bit 0 of every entry) */
#define EPT_QUAL_WRITABLE (1ull << 4)           /* ... writes (bit 1) */
#define EPT_QUAL_EXECUTABLE (1ull << 5)         /* ... execution (bit 2; supervisor-mode with MBEC) */
#define EPT_QUAL_USER_EXEC (1ull << 6)          /* ... user-mode execution (bit 10, MBEC only) */
#define EPT_QUAL_GLA_VALID (1ull << 7)          /* the guest-linear address field is valid */
#define EPT_QUAL_GLA_FINAL (1ull << 8)          /* the access was to the final translation, not a paging entry */
#define EPT_QUAL_GLA_USER (1ull << 9)           /* advanced information: user-mode linear address */
#define EPT_QUAL_GLA_RW (1ull << 10)            /* advanced information: read/write page */
#define EPT_QUAL_GLA_XD (1ull << 11)            /* advanced information: execute-disable page */
#define EPT_QUAL_NMI_UNBLOCKED (1ull << 12)     /* NMI unblocking due to IRET */
#define EPT_QUAL_SHADOW_STACK (1ull << 13)
#define EPT_QUAL_SSS (1ull << 14)               /* supervisor shadow-stack page */
#define EPT_QUAL_VERIFY (1ull << 15)            /* guest-paging verification */
#define EPT_QUAL_ASYNC (1ull << 16)             /* asynchronous to instruction execution */

#endif
