/* Bit names of the VMX control words, the exit reasons and the
 * VM-instruction error numbers: written once, used by every file of vmx/
 * and by the guest test library's mirror of them.
 *
 * Section and table numbers are those of the SDM vol. 3C editions whose VMX
 * chapters are 23 (introduction), 24 (VMCS), 25 (non-root operation), 26 (VM
 * entries), 27 (VM exits), 30 (instruction reference) and Appendix A-C; newer
 * editions number the same chapters one higher (24..28, 31).
 */
#ifndef VMX_CONTROLS_H
#define VMX_CONTROLS_H

/* Pin-based VM-execution controls (24.6.1, Table 24-5). */
#define PIN_EXT_INTR_EXITING    (1u << 0)
#define PIN_NMI_EXITING         (1u << 3)
#define PIN_VIRTUAL_NMIS        (1u << 5)
#define PIN_PREEMPTION_TIMER    (1u << 6)
#define PIN_POSTED_INTR         (1u << 7)

/* Primary processor-based VM-execution controls (24.6.2, Table 24-6). */
#define PROC_INTR_WINDOW        (1u << 2)
#define PROC_TSC_OFFSETTING     (1u << 3)
#define PROC_HLT_EXITING        (1u << 7)
#define PROC_INVLPG_EXITING     (1u << 9)
#define PROC_MWAIT_EXITING      (1u << 10)
#define PROC_RDPMC_EXITING      (1u << 11)
#define PROC_RDTSC_EXITING      (1u << 12)
#define PROC_CR3_LOAD_EXITING   (1u << 15)
#define PROC_CR3_STORE_EXITING  (1u << 16)
#define PROC_TERTIARY_CTLS      (1u << 17)
#define PROC_CR8_LOAD_EXITING   (1u << 19)
#define PROC_CR8_STORE_EXITING  (1u << 20)
#define PROC_TPR_SHADOW         (1u << 21)
#define PROC_NMI_WINDOW         (1u << 22)
#define PROC_MOV_DR_EXITING     (1u << 23)
#define PROC_UNCOND_IO_EXITING  (1u << 24)
#define PROC_IO_BITMAPS         (1u << 25)
#define PROC_MTF                (1u << 27)
#define PROC_MSR_BITMAPS        (1u << 28)
#define PROC_MONITOR_EXITING    (1u << 29)
#define PROC_PAUSE_EXITING      (1u << 30)
#define PROC_SECONDARY_CTLS     (1u << 31)

/* Secondary processor-based VM-execution controls (24.6.2, Table 24-7). */
#define PROC2_VIRT_APIC_ACCESS  (1u << 0)
#define PROC2_EPT               (1u << 1)
#define PROC2_DESC_TABLE_EXITING (1u << 2)
#define PROC2_RDTSCP            (1u << 3)
#define PROC2_VIRT_X2APIC       (1u << 4)
#define PROC2_VPID              (1u << 5)
#define PROC2_WBINVD_EXITING    (1u << 6)
#define PROC2_UNRESTRICTED      (1u << 7)
#define PROC2_APIC_REG_VIRT     (1u << 8)
#define PROC2_VIRT_INTR_DELIVERY (1u << 9)
#define PROC2_PAUSE_LOOP_EXITING (1u << 10)
#define PROC2_RDRAND_EXITING    (1u << 11)
#define PROC2_INVPCID           (1u << 12)
#define PROC2_VMFUNC            (1u << 13)
#define PROC2_VMCS_SHADOWING    (1u << 14)
#define PROC2_ENCLS_EXITING     (1u << 15)
#define PROC2_RDSEED_EXITING    (1u << 16)
#define PROC2_PML               (1u << 17)
#define PROC2_EPT_VE            (1u << 18)
#define PROC2_CONCEAL_FROM_PT   (1u << 19)
#define PROC2_XSAVES            (1u << 20)
#define PROC2_MBEC              (1u << 22)
#define PROC2_SPP               (1u << 23)
#define PROC2_PT_USES_GPA       (1u << 24)
#define PROC2_TSC_SCALING       (1u << 25)
#define PROC2_USER_WAIT_PAUSE   (1u << 26)
#define PROC2_ENCLV_EXITING     (1u << 28)
#define PROC2_PASID_TRANSLATION (1u << 21)
#define PROC2_PCONFIG           (1u << 27)    /* enable PCONFIG */
#define PROC2_INSTRUCTION_TIMEOUT (1u << 31)

/* Tertiary processor-based VM-execution controls (24.6.2; 64 bits,
 * IA32_VMX_PROCBASED_CTLS3). */
#define PROC3_LOADIWKEY_EXITING (1ull << 0)
#define PROC3_HLAT              (1ull << 1)   /* enable HLAT */
#define PROC3_EPT_PAGING_WRITE  (1ull << 2)
#define PROC3_GUEST_PAGING_VERIFY (1ull << 3)
#define PROC3_IPI_VIRT          (1ull << 4)
#define PROC3_SEAM_GPAW         (1ull << 5)   /* SEAM guest-physical address width */
#define PROC3_MSR_LIST          (1ull << 6)   /* enable MSR-list instructions */
#define PROC3_VIRT_SPEC_CTRL    (1ull << 7)   /* virtualize IA32_SPEC_CTRL */

/* VM-function controls (24.6.14, Table 24-9). */
#define VMFUNC_EPTP_SWITCHING   (1ull << 0)

/* Primary VM-exit controls (24.7.1, Table 24-11). */
#define EXIT_SAVE_DEBUG_CTLS    (1u << 2)
#define EXIT_HOST_ADDR_SPACE    (1u << 9)       /* host address-space size: 64-bit host */
#define EXIT_LOAD_PERF_GLOBAL   (1u << 12)
#define EXIT_ACK_INTR_ON_EXIT   (1u << 15)
#define EXIT_SAVE_PAT           (1u << 18)
#define EXIT_LOAD_PAT           (1u << 19)
#define EXIT_SAVE_EFER          (1u << 20)
#define EXIT_LOAD_EFER          (1u << 21)
#define EXIT_SAVE_PREEMPT_TIMER (1u << 22)
#define EXIT_CLEAR_BNDCFGS      (1u << 23)
#define EXIT_CONCEAL_FROM_PT    (1u << 24)
#define EXIT_CLEAR_RTIT_CTL     (1u << 25)
#define EXIT_CLEAR_LBR_CTL      (1u << 26)
#define EXIT_CLEAR_UINV         (1u << 27)
#define EXIT_LOAD_CET           (1u << 28)
#define EXIT_LOAD_PKRS          (1u << 29)
#define EXIT_SECONDARY_CTLS     (1u << 31)

/* Secondary VM-exit controls (64 bits, IA32_VMX_EXIT_CTLS2). */
#define EXIT2_SAVE_FRED         (1ull << 0)
#define EXIT2_LOAD_FRED         (1ull << 1)
#define EXIT2_LOAD_SPEC_CTRL    (1ull << 2)

/* VM-entry controls (24.8.1, Table 24-13). */
#define ENTRY_LOAD_DEBUG_CTLS   (1u << 2)
#define ENTRY_IA32E_GUEST       (1u << 9)
#define ENTRY_TO_SMM            (1u << 10)
#define ENTRY_DEACT_DUAL_MONITOR (1u << 11)
#define ENTRY_LOAD_PERF_GLOBAL  (1u << 13)
#define ENTRY_LOAD_PAT          (1u << 14)
#define ENTRY_LOAD_EFER         (1u << 15)
#define ENTRY_LOAD_BNDCFGS      (1u << 16)
#define ENTRY_CONCEAL_FROM_PT   (1u << 17)
#define ENTRY_LOAD_RTIT_CTL     (1u << 18)
#define ENTRY_LOAD_UINV         (1u << 19)
#define ENTRY_LOAD_CET          (1u << 20)
#define ENTRY_LOAD_LBR_CTL      (1u << 21)    /* load guest IA32_LBR_CTL */
#define ENTRY_LOAD_PKRS         (1u << 22)
#define ENTRY_LOAD_FRED         (1u << 23)
#define ENTRY_LOAD_SPEC_CTRL    (1u << 24)

/* Basic exit reasons (Appendix C, Table C-1). */
#define EXIT_REASON_TABLE(X)                              \
	X(0, EXCEPTION_NMI, "exception or NMI")           \
	X(1, EXTERNAL_INTERRUPT, "external interrupt")    \
	X(2, TRIPLE_FAULT, "triple fault")                \
	X(3, INIT, "INIT signal")                         \
	X(4, SIPI, "start-up IPI")                        \
	X(5, IO_SMI, "I/O SMI")                           \
	X(6, OTHER_SMI, "other SMI")                      \
	X(7, INTERRUPT_WINDOW, "interrupt window")        \
	X(8, NMI_WINDOW, "NMI window")                    \
	X(9, TASK_SWITCH, "task switch")                  \
	X(10, CPUID, "CPUID")                             \
	X(11, GETSEC, "GETSEC")                           \
	X(12, HLT, "HLT")                                 \
	X(13, INVD, "INVD")                               \
	X(14, INVLPG, "INVLPG")                           \
	X(15, RDPMC, "RDPMC")                             \
	X(16, RDTSC, "RDTSC")                             \
	X(17, RSM, "RSM")                                 \
	X(18, VMCALL, "VMCALL")                           \
	X(19, VMCLEAR, "VMCLEAR")                         \
	X(20, VMLAUNCH, "VMLAUNCH")                       \
	X(21, VMPTRLD, "VMPTRLD")                         \
	X(22, VMPTRST, "VMPTRST")                         \
	X(23, VMREAD, "VMREAD")                           \
	X(24, VMRESUME, "VMRESUME")                       \
	X(25, VMWRITE, "VMWRITE")                         \
	X(26, VMXOFF, "VMXOFF")                           \
	X(27, VMXON, "VMXON")                             \
	X(28, CR_ACCESS, "control-register access")       \
	X(29, DR_ACCESS, "MOV DR")                        \
	X(30, IO_INSTRUCTION, "I/O instruction")          \
	X(31, RDMSR, "RDMSR")                             \
	X(32, WRMSR, "WRMSR")                             \
	X(33, INVALID_GUEST_STATE, "VM-entry failure due to invalid guest state") \
	X(34, MSR_LOADING, "VM-entry failure due to MSR loading") \
	X(36, MWAIT, "MWAIT")                             \
	X(37, MTF, "monitor trap flag")                   \
	X(39, MONITOR, "MONITOR")                         \
	X(40, PAUSE, "PAUSE")                             \
	X(41, MACHINE_CHECK, "VM-entry failure due to machine-check event") \
	X(43, TPR_BELOW_THRESHOLD, "TPR below threshold") \
	X(44, APIC_ACCESS, "APIC access")                 \
	X(45, VIRTUALIZED_EOI, "virtualized EOI")         \
	X(46, GDTR_IDTR, "access to GDTR or IDTR")        \
	X(47, LDTR_TR, "access to LDTR or TR")            \
	X(48, EPT_VIOLATION, "EPT violation")             \
	X(49, EPT_MISCONFIG, "EPT misconfiguration")      \
	X(50, INVEPT, "INVEPT")                           \
	X(51, RDTSCP, "RDTSCP")                           \
	X(52, PREEMPTION_TIMER, "VMX-preemption timer expired") \
	X(53, INVVPID, "INVVPID")                         \
	X(54, WBINVD, "WBINVD")                           \
	X(55, XSETBV, "XSETBV")                           \
	X(56, APIC_WRITE, "APIC write")                   \
	X(57, RDRAND, "RDRAND")                           \
	X(58, INVPCID, "INVPCID")                         \
	X(59, VMFUNC, "VMFUNC")                           \
	X(60, ENCLS, "ENCLS")                             \
	X(61, RDSEED, "RDSEED")                           \
	X(62, PML_FULL, "page-modification log full")     \
	X(63, XSAVES, "XSAVES")                           \
	X(64, XRSTORS, "XRSTORS")

enum vmx_exit_reason {
#define X(n, id, text) EXIT_REASON_##id = n,
	EXIT_REASON_TABLE(X)
#undef X
};
#define EXIT_REASON_ENTRY_FAILURE (1u << 31)    /* bit 31 of the exit reason (24.9.1) */
/* The other flag bits of the exit reason (24.9.1, Table 24-15). */
#define EXIT_REASON_ENCLAVE     (1u << 27)      /* VM exit from enclave mode */
#define EXIT_REASON_PENDING_MTF (1u << 28)      /* pending MTF VM exit */
#define EXIT_REASON_FROM_ROOT   (1u << 29)      /* VM exit from VMX root operation (SMM) */

/* VM-instruction error numbers (30.4, Table 30-1). */
#define VM_INSN_ERROR_TABLE(X)                                                              \
	X(1, VMCALL_IN_ROOT, "VMCALL executed in VMX root operation")                       \
	X(2, VMCLEAR_INVALID_ADDR, "VMCLEAR with invalid physical address")                \
	X(3, VMCLEAR_VMXON_PTR, "VMCLEAR with VMXON pointer")                              \
	X(4, VMLAUNCH_NOT_CLEAR, "VMLAUNCH with non-clear VMCS")                           \
	X(5, VMRESUME_NOT_LAUNCHED, "VMRESUME with non-launched VMCS")                     \
	X(6, VMRESUME_AFTER_VMXOFF, "VMRESUME after VMXOFF (VMXOFF and VMXON between VMLAUNCH and VMRESUME)") \
	X(7, ENTRY_INVALID_CONTROL, "VM entry with invalid control field(s)")              \
	X(8, ENTRY_INVALID_HOST, "VM entry with invalid host-state field(s)")              \
	X(9, VMPTRLD_INVALID_ADDR, "VMPTRLD with invalid physical address")                \
	X(10, VMPTRLD_VMXON_PTR, "VMPTRLD with VMXON pointer")                             \
	X(11, VMPTRLD_BAD_REVISION, "VMPTRLD with incorrect VMCS revision identifier")     \
	X(12, VMREADWRITE_BAD_FIELD, "VMREAD/VMWRITE from/to unsupported VMCS component")  \
	X(13, VMWRITE_READONLY, "VMWRITE to read-only VMCS component")                     \
	X(15, VMXON_IN_ROOT, "VMXON executed in VMX root operation")                       \
	X(16, ENTRY_INVALID_EXEC_VMCS, "VM entry with invalid executive-VMCS pointer")     \
	X(17, ENTRY_NONLAUNCHED_EXEC_VMCS, "VM entry with non-launched executive VMCS")    \
	X(18, ENTRY_EXEC_VMCS_NOT_VMXON, "VM entry with executive-VMCS pointer not VMXON pointer") \
	X(19, VMCALL_NONCLEAR_VMCS, "VMCALL with non-clear VMCS")                          \
	X(20, VMCALL_INVALID_EXIT_CTLS, "VMCALL with invalid VM-exit control fields")      \
	X(22, VMCALL_BAD_MSEG_REVISION, "VMCALL with incorrect MSEG revision identifier")  \
	X(23, VMXOFF_DUAL_MONITOR, "VMXOFF under dual-monitor treatment of SMIs and SMM")  \
	X(24, VMCALL_INVALID_SMM_FEATURES, "VMCALL with invalid SMM-monitor features")     \
	X(25, ENTRY_INVALID_EXEC_CTLS_IN_EXEC_VMCS, "VM entry with invalid VM-execution control fields in executive VMCS") \
	X(26, ENTRY_MOV_SS_BLOCKING, "VM entry with events blocked by MOV SS")             \
	X(28, INVEPT_INVVPID_INVALID, "Invalid operand to INVEPT/INVVPID")

enum vm_insn_error {
#define X(n, id, text) VMERR_##id = n,
	VM_INSN_ERROR_TABLE(X)
#undef X
};

/* Guest interruptibility state (24.4.2, Table 24-3). */
#define INTR_BLOCK_STI          (1u << 0)
#define INTR_BLOCK_MOV_SS       (1u << 1)
#define INTR_BLOCK_SMI          (1u << 2)
#define INTR_BLOCK_NMI          (1u << 3)
#define INTR_BLOCK_ENCLAVE      (1u << 4)

/* Guest activity state (24.4.2). */
enum vmx_activity {
	ACTIVITY_ACTIVE = 0, ACTIVITY_HLT = 1, ACTIVITY_SHUTDOWN = 2, ACTIVITY_WAIT_SIPI = 3,
};

/* Interruption-information fields: VM-entry (24.8.3, Table 24-16),
 * VM-exit (24.9.2) and IDT-vectoring (24.9.3) share the layout. */
#define INTR_INFO_VECTOR_MASK   0xffu
#define INTR_INFO_TYPE_SHIFT    8
#define INTR_INFO_TYPE_MASK     (7u << 8)
#define INTR_INFO_HAS_ERROR     (1u << 11)
#define INTR_INFO_NMI_UNBLOCKED (1u << 12)      /* exit/IDT-vectoring: NMI unblocking due to IRET */
#define INTR_INFO_VALID         (1u << 31)
enum vmx_intr_type {
	INTR_TYPE_EXT_INTR = 0, INTR_TYPE_NMI = 2, INTR_TYPE_HW_EXCEPTION = 3, INTR_TYPE_SW_INTR = 4,
	INTR_TYPE_PRIV_SW_EXCEPTION = 5, INTR_TYPE_SW_EXCEPTION = 6, INTR_TYPE_OTHER = 7,
};

/* VMX-abort indicators (27.7), written at offset 4 of the VMCS region. */
#define VMX_ABORT_TABLE(X)                                                      \
	X(1, SAVE_GUEST_MSRS, "failure in saving guest MSRs (VM-exit MSR-store area)") \
	X(2, HOST_PDPTE, "host checking of the PDPTEs failed")                  \
	X(3, VMCS_CORRUPT, "the current VMCS has been corrupted")               \
	X(4, LOAD_HOST_MSRS, "failure on loading host MSRs (VM-exit MSR-load area)") \
	X(5, MACHINE_CHECK, "machine-check event during VM exit")               \
	X(6, HOST_ADDR_SPACE, "IA-32e mode before the VM exit with host address-space size 0")

enum vmx_abort_indicator {
#define X(n, id, text) VMX_ABORT_##id = n,
	VMX_ABORT_TABLE(X)
#undef X
};

/* Pending debug exceptions (Table 24-4). */
#define PENDING_DBG_BS          (1ull << 14)
#define PENDING_DBG_ENABLED_BP  (1ull << 12)    /* an enabled data or I/O breakpoint matched */
#define PENDING_DBG_RTM         (1ull << 16)
#define PENDING_DBG_DEFINED     (0xfull | PENDING_DBG_ENABLED_BP | PENDING_DBG_BS | PENDING_DBG_RTM)

/* EPTP (24.6.11, Table 24-8). The IA32_VMX_EPT_VPID_CAP, MISC and VMFUNC
 * bits VM entry consults are in vmx/caps_bits.h. */
#define EPTP_MEMTYPE_MASK       7ull
#define EPTP_WALK_SHIFT         3
#define EPTP_WALK_MASK          (7ull << 3)
#define EPTP_AD                 (1ull << 6)

#endif
