/* minivisor: a small but real VT-x hypervisor (see README.md).
 *
 * What the three C files share: the guest-physical memory map, the MSR
 * numbers and VMCS field encodings (read from vtxsim's own tables, so
 * nothing here retypes an encoding), the VMX instructions, and the guest's
 * general-purpose registers as the VM-exit stub (entry.S) saves them.
 *
 * SDM references are to Intel SDM vol. 3C with the chapter numbers vtxsim's
 * docs/vmx.md uses: 23.x enabling VMX, 24.x the VMCS, 25.x non-root
 * operation, 26.x VM entries, 27.x VM exits, 28.2 EPT, 30.x VMX instructions,
 * Appendix A the capability MSRs, Appendix C the exit reasons.
 */
#ifndef MINIVISOR_H
#define MINIVISOR_H

/* The guest's memory, guest-physical (EPT maps it 1:1 to host-physical):
 * the first 1 MiB, where a real-mode guest is born. The hypervisor's own
 * image at 1 MiB (link.ld) lies outside it, so the guest cannot reach it. */
#define GUEST_RAM_SIZE   0x100000
#define GUEST_PML4       0x1000        /* the guest builds its page tables here */
#define GUEST_STACK_TOP  0x7000
#define GUEST_CODE       0x8000        /* the guest blob (guest.S) is copied here */
/* The emulated device: one 4-KiB page EPT leaves not present (minivisor.c),
 * so every access exits with an EPT violation (exits.c emulates it). */
#define MMIO_BASE        0xd0000
#define MMIO_REG_ID      0x0            /* read: DEVICE_ID */
#define MMIO_REG_COUNTER 0x4            /* read: 1, 2, 3, ... one more per read */
#define MMIO_REG_SCRATCH 0x8            /* read/write: keeps what was written */
#define DEVICE_ID        0x4d560001    /* "MV" version 1 */
/* The virtual serial port the guest prints through (COM1's data port). */
#define VSERIAL_PORT     0x3f8
/* The timer: PIT channel 0 on IRQ 0, which the PIC maps to this vector;
 * the guest receives the same vector through event injection. */
#define TIMER_VECTOR     32
#define GUEST_TICKS      3              /* the guest waits for this many ticks */
#define HYPERVISOR_LEAF  0x40000000    /* CPUID leaf of the vendor string */

/* The rest is C only (guest.S includes the memory map above). */
#ifndef __ASSEMBLER__
#include <stdbool.h>
#include <stdint.h>

#include "vmx/controls.h"       /* control bits, exit reasons (EXIT_REASON_TABLE) */

/* MSR numbers named as the SDM names them (IA32_VMX_BASIC), from vtxsim's MSR table (cpu/msrs.def). */
enum {
#define MSR_FIELD(index, name, feature, field, reset, check) name = (index),
#define MSR_FN(index, name, feature, rd, wr) name = (index),
#define MSR_VMX_CAP(index, name) name = (index),
#include "cpu/msrs.def"
#undef MSR_FIELD
#undef MSR_FN
#undef MSR_VMX_CAP
};

/* VMCS field encodings (24.11.2, Appendix B), from vmx/vmcs_fields.def. */
enum {
#define VMCS_FIELD(enc, name, title, dep, ctl) VMCS_##name = (enc),
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/* The guest's general-purpose registers, in the order of their register
 * numbers (the ModRM reg field: 0 = RAX ... 15 = R15). entry.S pushes
 * them on a VM exit and pops them before VMRESUME; the RSP slot is unused
 * because the processor keeps the guest's RSP in the VMCS (27.3.1). */
struct guest_regs {
	uint64_t gpr[16];
};
enum { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI };

/* The VMX instructions (30.3). Each reports its outcome in RFLAGS (30.2):
 * CF = 1 VMfailInvalid, ZF = 1 VMfailValid (the reason is then in the
 * VM-instruction error field), both clear VMsucceed. true = VMsucceed. */
#define VMX_OK(asm_text, ...)                                                         \
	({                                                                            \
		bool ok_;                                                             \
		asm volatile(asm_text "; seta %0" : "=qm"(ok_) : __VA_ARGS__ : "cc", "memory"); \
		ok_;                                                                  \
	})
static inline bool vmxon(uint64_t pa) { return VMX_OK("vmxon %1", "m"(pa)); }
static inline bool vmclear(uint64_t pa) { return VMX_OK("vmclear %1", "m"(pa)); }
static inline bool vmptrld(uint64_t pa) { return VMX_OK("vmptrld %1", "m"(pa)); }
static inline bool vmwrite(uint64_t field, uint64_t v) { return VMX_OK("vmwrite %2, %1", "r"(field), "rm"(v)); }

static inline uint64_t vmread(uint64_t field)
{
	uint64_t v = 0;

	asm volatile("vmread %1, %0" : "+rm"(v) : "r"(field) : "cc");
	return v;
}

/* minivisor.c */
uint64_t adjust_controls(const char *what, uint32_t cap_msr, uint64_t want);

/* exits.c: called by entry.S on every VM exit; returning resumes the guest. */
void minivisor_handle_exit(struct guest_regs *regs);
/* entry.S jumps here if VMRESUME itself fails (VMfail, 30.3). */
__attribute__((noreturn)) void minivisor_vmresume_failed(void);
/* Prints why VMLAUNCH/VMRESUME failed and ends the run. */
__attribute__((noreturn)) void minivisor_entry_failed(const char *insn);

/* entry.S */
extern char minivisor_exit_stub[];
/* guest.S: the guest, copied to GUEST_CODE before VMLAUNCH. */
extern char guest_start[], guest_end[];

#endif /* __ASSEMBLER__ */
#endif
