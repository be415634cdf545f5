/* The guest VMX library: a VALID baseline VMCS built from the capability
 * MSRs, and VM entries that come back to C with their outcome.
 *
 * vmx_start() enters VMX operation once (CR0/CR4 fixed bits, IA32_FEATURE_
 * CONTROL, VMXON) and installs the library's GDT (with a TSS, so that TR is
 * a valid host selector). vmx_baseline(64 or 32) then VMCLEARs and VMPTRLDs a
 * fresh VMCS and fills it so that VMLAUNCH enters the guest, which executes
 * VMCALL at once: a successful entry ends in exit reason 18. A test (or a
 * generated conformance case, tests/gen/) changes fields with vmwrite() and
 * calls vmx_try_launch() / vmx_try_resume().
 *
 * Nothing here is hard-coded for one CPU model: the controls are the
 * must-be-1 bits of the (TRUE) capability MSRs, the CR0/CR4 values the
 * FIXED0/FIXED1 MSRs allow (SDM vol. 3C Appendix A).
 */
#ifndef GUEST_VMX_VMCS_H
#define GUEST_VMX_VMCS_H

/* The guest code (lib/vmx_guest.S), the same in both modes:
 *   vmx_guest*_code:   VMCALL                     (VMX_VMCALL_LEN bytes)
 *                      mov $VMX_GUEST_MAGIC, %eax (5 bytes)
 *                      VMCALL
 *                      jmp vmx_guest*_code
 * so the first exit reports GUEST_RIP = vmx_guest*_code, and after
 * GUEST_RIP += exit instruction length and VMRESUME the second exit
 * reports RAX = VMX_GUEST_MAGIC at vmx_guest*_code + VMX_GUEST_SECOND_VMCALL. */
#define VMX_GUEST_MAGIC 0x600dc0de
#define VMX_VMCALL_LEN 3
#define VMX_GUEST_SECOND_VMCALL 8

/* The stub IDT (vmx_stub_idt below): stub size and the offset of its
 * VMCALL (after "mov $v, %eax"). */
#define VMX_STUB_SIZE 16
#define VMX_STUB_VMCALL_OFF 5

/* Offsets in struct vmx_host_seen (below), for lib/vmx_guest.S. */
#define VMX_SEEN_RFLAGS 0
#define VMX_SEEN_CR0 8
#define VMX_SEEN_CR3 16
#define VMX_SEEN_CR4 24
#define VMX_SEEN_DR7 32
#define VMX_SEEN_SEL 40
#define VMX_SEEN_GDTR 56
#define VMX_SEEN_IDTR 72
#define VMX_SEEN_MSRS 88

#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

#include "guest.h"
#include "vmx_insn.h"
#include "vmx_setup.h"        /* the VMX MSR numbers */

/* Bits the baseline needs that x86.h does not name (yet). */
#ifndef CR0_NE
#define CR0_NE (1ul << 5)
#endif
#ifndef CR4_PSE
#define CR4_PSE (1ul << 4)
#endif
#ifndef CR4_VMXE
#define CR4_VMXE (1ul << 13)
#endif
#ifndef CR4_PCIDE
#define CR4_PCIDE (1ul << 17)
#endif

#ifndef MSR_IA32_SYSENTER_CS
#define MSR_IA32_SYSENTER_CS            0x00000174u
#define MSR_IA32_SYSENTER_ESP           0x00000175u
#define MSR_IA32_SYSENTER_EIP           0x00000176u
#endif

/* The control words whose settings the capability MSRs report. */
enum vmx_ctl_msr { VMX_CTL_PIN, VMX_CTL_PROC, VMX_CTL_PROC2, VMX_CTL_EXIT, VMX_CTL_ENTRY };

/* Bits that may be 1 / must be 1 in a control word, from the TRUE MSR when
 * IA32_VMX_BASIC[55] is 1 (A.3-A.5); PROC2 is 0/0 when the secondary
 * controls cannot be enabled (A.3.3). */
uint64_t vmx_allowed1(enum vmx_ctl_msr ctl);
uint64_t vmx_must1(enum vmx_ctl_msr ctl);
uint64_t vmx_msr(uint32_t index);
/* CPUID.80000008H:EAX[7:0] (MAXPHYADDR). */
unsigned vmx_phys_bits(void);

/* Enter VMX operation (once; later calls return the first result): false,
 * with a report line, when the CPU cannot (no CPUID.1:ECX.VMX, IA32_FEATURE_
 * CONTROL locked without VMX, VMXON failed). Until the "insn" helper's
 * vmx_enable()/vmx_alloc_vmcs() (lib/vmx_setup.c) are on main, this file
 * has its own minimal static versions. */
bool vmx_start(void);

/* VMCLEAR + VMPTRLD a fresh VMCS and fill a valid baseline (see the .c
 * file for every field): guest_bits 64 = a 64-bit guest (IA-32e mode guest,
 * CS.L = 1, the host's CR3), 32 = a 32-bit protected-mode guest with its own
 * 32-bit paging (PAE off, 4 MiB pages identity-mapping 4 GiB). Either guest
 * starts at vmx_guest64_code / vmx_guest32_code. */
void vmx_baseline(int guest_bits);

extern char vmx_guest64_code[], vmx_guest32_code[];

/* A VM-entry attempt: res is VMX_OK when the CPU left through a VM exit
 * (successful entry and later exit, or a VM-entry failure: exit_reason
 * bit 31), otherwise VMfailInvalid / VMfailValid with error. */
struct vmx_outcome {
	enum vmx_result res;
	uint32_t error;         /* VM-instruction error after VMfailValid */
	uint32_t exit_reason;   /* EXIT_REASON after a VM exit */
	uint64_t qual;          /* EXIT_QUALIFICATION after a VM exit */
};

struct vmx_outcome vmx_try_launch(void);
struct vmx_outcome vmx_try_resume(void);

/* A VM entry with the guest's general registers (all but RSP, which is
 * GUEST_RSP) loaded from vmx_guest_regs[] first: VMLAUNCH, or VMRESUME
 * when resume. The exit saves them there again, so a test runs a guest
 * through several exits as a hypervisor does: set a register the guest
 * reads, enter, inspect the exit, vmx_skip_insn(), enter again. */
struct vmx_outcome vmx_enter_guest(bool resume);
/* GUEST_RIP += VM-exit instruction length: step over the instruction that
 * caused the exit (SDM vol. 3C 27.2.5). */
void vmx_skip_insn(void);

/* A 64-bit guest IDT whose 256 gates (interrupt gates, the library's
 * kernel code selector, DPL 0) lead to vmx_idt_stubs: vector v's handler
 * runs "mov $v, %eax; vmcall" (at vmx_idt_stubs + VMX_STUB_SIZE * v).
 * Writes GUEST_IDTR_BASE/LIMIT of the current VMCS. */
extern char vmx_idt_stubs[];
void vmx_stub_idt(void);

/* The guest's general registers as the host entry point saved them at the
 * last VM exit, indexed by their encoding (0 RAX, 1 RCX, 2 RDX, 3 RBX,
 * 4 unused (RSP is GUEST_RSP), 5 RBP, 6 RSI, 7 RDI, 8..15 R8..R15). */
extern uint64_t vmx_guest_regs[16];

/* The host state as the last VM exit (or VM-entry failure, 26.7) loaded
 * it, read by vmx_host_entry before any host code runs (27.5): RFLAGS, CR0,
 * CR3, CR4, DR7, the selectors, SGDT/SIDT, and the MSRs in enum
 * vmx_seen_msr order (they exist on every 64-bit model). */
enum vmx_seen_msr {
	SEEN_EFER, SEEN_PAT, SEEN_FS_BASE, SEEN_GS_BASE, SEEN_KERNEL_GS_BASE,
	SEEN_SYSENTER_CS, SEEN_SYSENTER_ESP, SEEN_SYSENTER_EIP, SEEN_MSR_COUNT
};
struct vmx_seen_dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));
struct vmx_host_seen {
	uint64_t rflags, cr0, cr3, cr4, dr7;
	uint16_t cs, ss, ds, es, fs, gs, tr, pad;
	struct vmx_seen_dtr gdtr;
	uint8_t pad1[6];
	struct vmx_seen_dtr idtr;
	uint8_t pad2[6];
	uint64_t msr[SEEN_MSR_COUNT];
};
_Static_assert(__builtin_offsetof(struct vmx_host_seen, cr4) == VMX_SEEN_CR4, "seen cr4");
_Static_assert(__builtin_offsetof(struct vmx_host_seen, dr7) == VMX_SEEN_DR7, "seen dr7");
_Static_assert(__builtin_offsetof(struct vmx_host_seen, cs) == VMX_SEEN_SEL, "seen selectors");
_Static_assert(__builtin_offsetof(struct vmx_host_seen, gdtr) == VMX_SEEN_GDTR, "seen gdtr");
_Static_assert(__builtin_offsetof(struct vmx_host_seen, idtr) == VMX_SEEN_IDTR, "seen idtr");
_Static_assert(__builtin_offsetof(struct vmx_host_seen, msr) == VMX_SEEN_MSRS, "seen msrs");
extern struct vmx_host_seen vmx_host_seen;

/* A valid identity EPT over the low 4 GiB and its EPTP written to the
 * current VMCS (for cases that turn on "enable EPT"). */
void vmx_setup_ept(void);
/* The n-th (n < VMX_SCRATCH_PAGES) 4 KiB page; vmx_baseline zeroes them all,
 * so a case may fetch the same page several times and keep what it wrote. */
#define VMX_SCRATCH_PAGES 16
uint64_t vmx_scratch_page(int n);

/* Where the library keeps what a host outside IA-32e mode reuses
 * (lib/vmx_host32.c): its VMXON region, the 32-bit page directory of the
 * 32-bit guest, and its GDT's selectors. */
struct vmx_lib_layout {
	uint64_t vmxon_pa, guest32_pd;
	uint16_t code32_sel, code64_sel, data_sel;
};
struct vmx_lib_layout vmx_lib_layout(void);

#endif /* !__ASSEMBLER__ */
#endif
