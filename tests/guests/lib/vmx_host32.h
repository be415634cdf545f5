/* VM entries from a host outside IA-32e mode (a 32-bit hypervisor), for
 * the host-state rules that only such a host can reach (SDM vol. 3C
 * 26.2.3 SS selector, 26.2.4 address-space size) and the host-state
 * loading of a VM exit to it (27.5 with "host address-space size" 0).
 *
 * The test kernels run in 64-bit mode and VMX operation pins CR0.PG to 1
 * (IA32_VMX_CR0_FIXED0), so vmx_try_launch_host32() leaves VMX operation
 * to leave IA-32e mode: VMCLEAR the current VMCS (its fields stay in
 * memory as the case wrote them), VMXOFF, far return to the library's
 * 32-bit code segment (compatibility mode), CR0.PG = 0 (IA32_EFER.LMA
 * becomes 0), EFER.LME = 0, 32-bit paging with the page directory the
 * library builds for its 32-bit guest (4-MByte pages identity-mapping
 * 4 GBytes, SDM vol. 3A 4.3), then VMXON, VMPTRLD and VMLAUNCH in 32-bit
 * protected mode. A VMfail falls through (EFLAGS recorded); a VM exit
 * (after a successful entry, or a VM-entry failure, 26.7) lands on the
 * 32-bit vmx_host32_entry, which records the state the exit loaded. Then
 * VMCLEAR, VMXOFF, back to IA-32e mode and 64-bit mode, VMXON and VMPTRLD
 * of the same VMCS: the outcome reads as vmx_try_launch()'s.
 *
 * Interrupts stay disabled throughout (the 64-bit IDT means nothing to a
 * 32-bit host); the caller's RFLAGS, CR3, CR4, GDTR, IDTR, EFER and FS/GS
 * bases are restored.
 */
#ifndef GUEST_VMX_HOST32_H
#define GUEST_VMX_HOST32_H

/* Offsets in struct vmx_host32 (below), for lib/vmx_host32.S. */
#define H32_VMXON_PA 0
#define H32_VMCS_PA 8
#define H32_CR3 16
#define H32_CR4 20
#define H32_CODE32_SEL 24
#define H32_CODE64_SEL 28
#define H32_DATA_SEL 32
#define H32_VMXON_FLAGS 36
#define H32_VMPTRLD_FLAGS 40
#define H32_LAUNCH_FLAGS 44
#define H32_EXITED 48
#define H32_VMCLEAR_FLAGS 52
#define H32_VMXOFF_FLAGS 56
#define H32_SEEN 64
/* ... struct vmx_host32_seen, from H32_SEEN: */
#define H32S_ESP 0
#define H32S_EFLAGS 4
#define H32S_CR0 8
#define H32S_CR3 12
#define H32S_CR4 16
#define H32S_PUSH_WIDTH 20
#define H32S_SEL 24             /* CS, SS, DS, ES, FS, GS, TR: 4 bytes each */
#define H32S_EFER 52
#define H32S_FS_BASE 60
#define H32S_GS_BASE 68
#define H32S_GDTR 76            /* SGDT's 6 bytes (limit, 32-bit base) */
#define H32S_IDTR 84

/* EFLAGS before the 32-bit VMLAUNCH: bit 1 and CF, PF, AF, ZF, SF, OF all
 * 1, so a VMfail shows that it cleared the ones 30.2 clears. */
#define H32_PRE_LAUNCH_EFLAGS 0x8d7

#ifndef __ASSEMBLER__
#include <stdint.h>

#include "vmx_vmcs.h"

/* What the VM exit loaded (27.5), read by vmx_host32_entry before any
 * other host code runs. push_width is how far a PUSH moved ESP: 4 when CS
 * is a 32-bit code segment (CS.D = 1, CS.L = 0; 2 with D = 0, 8 in 64-bit
 * mode). */
struct vmx_host32_dtr {
	uint16_t limit;
	uint32_t base;
	uint16_t pad;
} __attribute__((packed));
struct vmx_host32_seen {
	uint32_t esp, eflags, cr0, cr3, cr4, push_width;
	uint32_t cs, ss, ds, es, fs, gs, tr;
	uint64_t efer, fs_base, gs_base;
	struct vmx_host32_dtr gdtr, idtr;
} __attribute__((packed));

/* One vmx_try_launch_host32(): what it passes to lib/vmx_host32.S, and
 * what the 32-bit code recorded (EFLAGS of each VMX instruction it ran). */
struct vmx_host32 {
	uint64_t vmxon_pa, vmcs_pa;
	uint32_t cr3, cr4;                      /* the 32-bit host's paging */
	uint32_t code32_sel, code64_sel, data_sel;
	uint32_t vmxon_flags, vmptrld_flags;
	uint32_t launch_flags;                  /* after VMLAUNCH fell through (VMfail) */
	uint32_t exited;                        /* 1: a VM exit reached vmx_host32_entry */
	uint32_t vmclear_flags, vmxoff_flags;
	uint32_t pad;
	struct vmx_host32_seen seen;
};
_Static_assert(__builtin_offsetof(struct vmx_host32, cr3) == H32_CR3, "h32 cr3");
_Static_assert(__builtin_offsetof(struct vmx_host32, code32_sel) == H32_CODE32_SEL, "h32 selectors");
_Static_assert(__builtin_offsetof(struct vmx_host32, vmxon_flags) == H32_VMXON_FLAGS, "h32 vmxon flags");
_Static_assert(__builtin_offsetof(struct vmx_host32, exited) == H32_EXITED, "h32 exited");
_Static_assert(__builtin_offsetof(struct vmx_host32, vmxoff_flags) == H32_VMXOFF_FLAGS, "h32 vmxoff flags");
_Static_assert(__builtin_offsetof(struct vmx_host32, seen) == H32_SEEN, "h32 seen");
_Static_assert(__builtin_offsetof(struct vmx_host32_seen, push_width) == H32S_PUSH_WIDTH, "h32 push width");
_Static_assert(__builtin_offsetof(struct vmx_host32_seen, cs) == H32S_SEL, "h32 selectors seen");
_Static_assert(__builtin_offsetof(struct vmx_host32_seen, efer) == H32S_EFER, "h32 efer");
_Static_assert(__builtin_offsetof(struct vmx_host32_seen, gs_base) == H32S_GS_BASE, "h32 gs base");
_Static_assert(__builtin_offsetof(struct vmx_host32_seen, gdtr) == H32S_GDTR, "h32 gdtr");
_Static_assert(__builtin_offsetof(struct vmx_host32_seen, idtr) == H32S_IDTR, "h32 idtr");

/* The last vmx_try_launch_host32(). */
extern struct vmx_host32 vmx_host32;

/* Make the host-state area of the current VMCS that of a 32-bit host
 * (26.2.2-26.2.4, 27.5): "host address-space size" 0; HOST_CR3 the
 * library's 32-bit page directory, HOST_CR4 without PAE and PCIDE, with
 * PSE; CS the library's 32-bit code segment, SS/DS/ES/FS/GS its data
 * segment (SS must not be null), TR its TSS; RIP vmx_host32_entry and RSP
 * a 32-bit host stack (bits 63:32 zero); IA32_EFER (where the field
 * exists) with LME and LMA 0. A guest entered from such a host must not
 * be an IA-32e mode guest: use vmx_baseline(32). */
void vmx_host32_state(void);

/* VMLAUNCH of the current VMCS from 32-bit protected mode with paging (see
 * the top of this file). res, error, exit_reason and qual as
 * vmx_try_launch(); vmx_host32 holds the details. */
struct vmx_outcome vmx_try_launch_host32(void);

extern char vmx_host32_entry[];

#endif /* !__ASSEMBLER__ */
#endif
