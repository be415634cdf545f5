/* Bit names of the VMX capability MSRs (SDM vol. 3C Appendix A), written
 * once for vmx/caps.c, the model rows (cpu/models.def) and the guest tests,
 * which read the same MSRs as a hypervisor would. Plain macros: freestanding
 * code may include this file. The MSR indices are rows of cpu/msrs.def
 * (MSR_VMX_CAP). */
#ifndef VMX_CAPS_BITS_H
#define VMX_CAPS_BITS_H

/* A.1 IA32_VMX_BASIC */
#define VMX_BASIC_REVISION_MASK 0x7fffffffull   /* 30:0 VMCS revision identifier; bit 31 is 0 */
#define VMX_BASIC_REGION_SIZE_SHIFT 32          /* 44:32 bytes of a VMXON/VMCS region (1..4096) */
#define VMX_BASIC_REGION_SIZE_MASK 0x1fffull
#define VMX_BASIC_PA32 (1ull << 48)             /* addresses limited to 32 bits: 0 on Intel 64 */
#define VMX_BASIC_DUAL_MONITOR (1ull << 49)     /* dual-monitor treatment of SMIs and SMM */
#define VMX_BASIC_MEMTYPE_SHIFT 50              /* 53:50 memory type of the VMCS and referenced structures */
#define VMX_BASIC_MEMTYPE_WB 6ull
#define VMX_BASIC_INS_OUTS (1ull << 54)         /* INS/OUTS exits report VM-exit instruction information */
#define VMX_BASIC_TRUE_CTLS (1ull << 55)        /* the IA32_VMX_TRUE_*_CTLS MSRs exist */
#define VMX_BASIC_NO_ERRCODE_CHECK (1ull << 56) /* hardware exceptions injected with or without error code */

/* A.3.1-A.5 the default1 classes: controls the first VMX processors
 * supported only as 1. The non-TRUE MSRs always report them as must-be-1;
 * the TRUE MSRs report which of them may be 0. */
#define VMX_PIN_DEFAULT1 0x00000016u            /* bits 1, 2, 4 */
#define VMX_PROC_DEFAULT1 0x0401e172u           /* bits 1, 4-6, 8, 13-16, 26 */
#define VMX_EXIT_DEFAULT1 0x00036dffu           /* bits 0-8, 10, 11, 13, 14, 16, 17 */
#define VMX_ENTRY_DEFAULT1 0x000011ffu          /* bits 0-8, 12 */

/* A.6 IA32_VMX_MISC */
#define VMX_MISC_PREEMPT_RATE_MASK 0x1full      /* 4:0 timer ticks when TSC bit X changes */
#define VMX_MISC_STORE_LMA (1ull << 5)          /* VM exits store EFER.LMA in "IA-32e mode guest" */
#define VMX_MISC_ACT_HLT (1ull << 6)            /* 8:6 activity states 1-3 supported */
#define VMX_MISC_ACT_SHUTDOWN (1ull << 7)
#define VMX_MISC_ACT_WAIT_SIPI (1ull << 8)
#define VMX_MISC_PT_IN_VMX (1ull << 14)
#define VMX_MISC_RDMSR_SMBASE (1ull << 15)
#define VMX_MISC_CR3_TARGETS_SHIFT 16           /* 24:16 number of CR3-target values (0..256) */
#define VMX_MISC_CR3_TARGETS_MASK 0x1ffull
#define VMX_MISC_MSR_LIST_SHIFT 25              /* 27:25 N: 512 * (N + 1) MSRs recommended per list */
#define VMX_MISC_MSR_LIST_MASK 7ull
#define VMX_MISC_SMM_MONITOR_CTL_B2 (1ull << 28)
#define VMX_MISC_VMWRITE_ANY (1ull << 29)       /* VMWRITE may write VM-exit information fields */
#define VMX_MISC_INJECT_LEN0 (1ull << 30)       /* inject software events with instruction length 0 */
#define VMX_MISC_MSEG_REV_SHIFT 32              /* 63:32 MSEG revision identifier */

/* A.7, A.8: bits of CR0/CR4 fixed to 1 in VMX operation. */
#define VMX_CR0_FIXED0 0x80000021ull            /* PG, NE, PE */
#define VMX_CR0_FIXED1 0xffffffffull            /* bits 63:32 are reserved in CR0 anyway */
#define VMX_CR4_FIXED0 0x00002000ull            /* VMXE */

/* A.9 IA32_VMX_VMCS_ENUM: bits 9:1 the highest field index supported. */
#define VMX_VMCS_ENUM_INDEX_SHIFT 1
#define VMX_VMCS_ENUM_INDEX_MASK 0x1ffull

/* A.10 IA32_VMX_EPT_VPID_CAP */
#define VMX_EPT_EXEC_ONLY (1ull << 0)
#define VMX_EPT_PWL4 (1ull << 6)                /* page-walk length 4 */
#define VMX_EPT_PWL5 (1ull << 7)                /* page-walk length 5 */
#define VMX_EPT_MEMTYPE_UC (1ull << 8)
#define VMX_EPT_MEMTYPE_WB (1ull << 14)
#define VMX_EPT_2MB_PAGES (1ull << 16)
#define VMX_EPT_1GB_PAGES (1ull << 17)
#define VMX_EPT_INVEPT (1ull << 20)
#define VMX_EPT_AD_FLAGS (1ull << 21)
#define VMX_EPT_ADVANCED_EXIT_INFO (1ull << 22)
#define VMX_EPT_SSS_CONTROL (1ull << 23)        /* supervisor shadow-stack control */
#define VMX_EPT_INVEPT_SINGLE (1ull << 25)
#define VMX_EPT_INVEPT_ALL (1ull << 26)
#define VMX_VPID_INVVPID (1ull << 32)
#define VMX_VPID_INVVPID_ADDR (1ull << 40)
#define VMX_VPID_INVVPID_SINGLE (1ull << 41)
#define VMX_VPID_INVVPID_ALL (1ull << 42)
#define VMX_VPID_INVVPID_SINGLE_GLOBALS (1ull << 43)
#define VMX_EPT_CAP_MASK 0x00000000ffffffffull  /* the EPT half: meaningful only with "enable EPT" */
#define VMX_VPID_CAP_MASK 0xffffffff00000000ull /* the VPID half: meaningful only with "enable VPID" */

/* A.11 IA32_VMX_VMFUNC: bit X = VM function X may be enabled. */
#define VMX_VMFUNC_EPTP_SWITCHING (1ull << 0)

#endif
