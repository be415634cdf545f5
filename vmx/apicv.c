/* APIC virtualization and virtual interrupts (SDM vol. 3C chapter 29, the
 * edition whose VM-entry chapter is 26): the virtual-APIC state (29.1: TPR,
 * PPR, EOI and self-IPI virtualization), evaluation and delivery of
 * virtual interrupts (29.2), the APIC-access page (29.4: virtualized reads,
 * virtualized writes and APIC-write emulation, APIC-access exits 44 and
 * APIC-write exits 56), virtualized x2APIC MSR accesses (29.5) and the
 * EOI-induced exit 45. Posted-interrupt processing (29.6) builds on
 * vmx_vintr_post / vmx_vintr_evaluate and is not here.
 *
 * RVI and SVI are kept in the guest-interrupt-status field of the VMCS,
 * which non-root operation cannot otherwise change (VMWRITE exits).
 */
#include "vmx/apicv.h"

#include "cpu/cpu.h"
#include "vmx/exit.h"
#include "vmx/vmcs.h"

#define REG(off) (1ull << ((off) >> 4))
#define REG_RANGE(lo, hi) (((~0ull) >> (63 - ((hi) >> 4))) & ~(REG(lo) - 1))
#define APIC_PAGE_OFF_MASK 0xfffu

/* 29.4.2: the registers a read is virtualized from with "APIC-register
 * virtualization" 1: ID, version, TPR, EOI, LDR, DFR, SVR, ISR, TMR,
 * IRR, ESR, ICR, the LVT entries 320H-370H, initial count, divide
 * configuration. */
static const uint64_t read_regs = REG(0x020) | REG(0x030) | REG(0x080) | REG(0x0b0) | REG(0x0d0) | REG(0x0e0) |
				  REG(0x0f0) | REG_RANGE(0x100, 0x270) | REG(0x280) | REG(0x300) | REG(0x310) |
				  REG_RANGE(0x320, 0x370) | REG(0x380) | REG(0x3e0);
/* 29.4.3.1: the registers a write is virtualized to with it. */
static const uint64_t write_regs = REG(0x020) | REG(0x080) | REG(0x0b0) | REG(0x0d0) | REG(0x0e0) | REG(0x0f0) |
				   REG(0x280) | REG(0x300) | REG(0x310) | REG_RANGE(0x320, 0x370) | REG(0x380) |
				   REG(0x3e0);

/* ---- pure rules (vmx/apicv.h) ---- */

uint64_t vmx_apic_access_qual(unsigned off, enum vmx_apic_access_type type)
{
	return (off & APIC_PAGE_OFF_MASK) | (uint64_t)type << 12;
}

uint64_t vmx_apic_gpa_qual(uint64_t gpa, bool during_delivery)
{
	return vmx_apic_access_qual((unsigned)gpa & APIC_PAGE_OFF_MASK,
				    during_delivery ? APIC_ACCESS_PHYS_EVENT : APIC_ACCESS_PHYS_INSN);
}

/* 29.4.2 / 29.4.3.1: more than 32 bits, or not entirely within the low 4
 * bytes of a naturally aligned 16-byte region, is never virtualized. */
static bool in_register(unsigned off, unsigned size)
{
	return size <= 4 && (off & 0xf) + size <= 4;
}

static bool reg_in(uint64_t set, unsigned off)
{
	return off < 0x400 && ((set >> (off >> 4)) & 1);
}

/* 29.4.2: without "APIC-register virtualization" only an access whose
 * page offset is 080H (the TPR) is read from the virtual-APIC page: the
 * page offset of an access is that of its first byte, so a byte at 081H
 * exits (the VTPR access of older editions: "to offset 80H", at most 32
 * bits). With it, any access entirely inside one of the listed registers. */
bool vmx_apic_read_virtualized(uint32_t proc2, unsigned off, unsigned size)
{
	if (!in_register(off, size))
		return false;
	if (!(proc2 & PROC2_APIC_REG_VIRT))
		return off == VAPIC_TPR;
	return reg_in(read_regs, off);
}

/* 29.4.3.1: TPR only; with "virtual-interrupt delivery" also EOI and ICR
 * low; with "APIC-register virtualization" the list above. */
bool vmx_apic_write_virtualized(uint32_t proc2, unsigned off, unsigned size)
{
	if (!in_register(off, size))
		return false;
	if (proc2 & PROC2_APIC_REG_VIRT)
		return reg_in(write_regs, off);
	/* "if its page offset is 080H / 0B0H / 300H": the first byte's offset. */
	if (proc2 & PROC2_VIRT_INTR_DELIVERY)
		return off == VAPIC_TPR || off == VAPIC_EOI || off == VAPIC_ICR_LO;
	return off == VAPIC_TPR;
}

#define ICR_RESERVED_AND_STATUS 0xfff33000u     /* 31:20, 17:16, 13, 12 (delivery status) */
#define ICR_SHORTHAND_MASK (3u << 18)
#define ICR_SHORTHAND_SELF (1u << 18)
#define ICR_LEVEL_TRIGGER (1u << 15)
#define ICR_DELIVERY_MODE (7u << 8)

bool vmx_self_ipi_icr(uint32_t icr)
{
	return !(icr & ICR_RESERVED_AND_STATUS) && (icr & ICR_SHORTHAND_MASK) == ICR_SHORTHAND_SELF &&
	       !(icr & ICR_LEVEL_TRIGGER) && !(icr & ICR_DELIVERY_MODE) && (icr & 0xf0u) != 0;
}

uint8_t vmx_ppr(uint8_t vtpr, uint8_t svi)
{
	return (vtpr >> 4) >= (svi >> 4) ? vtpr : (uint8_t)(svi & 0xf0);
}

/* ---- the virtual-APIC page and the guest interrupt status ---- */

static uint32_t vapic_read(struct cpu *c, unsigned off)
{
	return (uint32_t)phys_read(c->phys, c->vmx.apicv.vapic + off, 4);
}

static void vapic_write(struct cpu *c, unsigned off, uint32_t v)
{
	phys_write(c->phys, c->vmx.apicv.vapic + off, v, 4);
}

/* VISR and VIRR: 256 bits, 32 in each of eight registers 16 bytes apart. */
static void vec_set(struct cpu *c, unsigned base, uint8_t v, bool on)
{
	unsigned off = base + (v >> 5) * 16u;
	uint32_t r = vapic_read(c, off), bit = 1u << (v & 31);
	vapic_write(c, off, on ? r | bit : r & ~bit);
}

/* The highest vector set, 0 when none. */
static uint8_t vec_highest(struct cpu *c, unsigned base)
{
	for (int k = 7; k >= 0; k--) {
		uint32_t r = vapic_read(c, base + (unsigned)k * 16u);
		if (r)
			return (uint8_t)(k * 32 + 31 - __builtin_clz(r));
	}
	return 0;
}

/* Guest interrupt status (24.4.2): RVI bits 7:0, SVI bits 15:8. */
static uint8_t rvi(struct cpu *c)
{
	return (uint8_t)vmcs_read(c, VF_GUEST_INTR_STATUS);
}

static uint8_t svi(struct cpu *c)
{
	return (uint8_t)(vmcs_read(c, VF_GUEST_INTR_STATUS) >> 8);
}

static void set_status(struct cpu *c, uint8_t r, uint8_t s)
{
	vmcs_write(c, VF_GUEST_INTR_STATUS, (uint64_t)s << 8 | r);
}

static bool vid(const struct cpu *c)
{
	return c->vmx.apicv.proc2 & PROC2_VIRT_INTR_DELIVERY;
}

/* ---- exits ---- */

/* A trap-like exit (29.1.2, 29.1.4, 29.4.3.3): the operation completed,
 * GUEST_RIP is the next instruction; no instruction length. in_insn: the
 * instruction is still running (c->next_rip is where it ends). */
static void trap_exit(struct cpu *c, enum vmx_exit_reason reason, uint64_t qual, bool in_insn)
{
	struct vmx_exit_info x = { .reason = reason, .qual = qual };
	if (in_insn)
		c->rip = c->next_rip;
	vmx_vmexit(c, &x);
}

/* ---- PPR, evaluation, TPR, EOI, self-IPI (29.1.2-29.1.5, 29.2.1) ---- */

/* 29.1.3: bytes 3:1 of VPPR are cleared. */
static void ppr_virtualize(struct cpu *c)
{
	vapic_write(c, VAPIC_PPR, vmx_ppr((uint8_t)vapic_read(c, VAPIC_TPR), svi(c)));
}

/* 29.2.1: recognized when "interrupt-window exiting" is 0 and
 * RVI[7:4] > VPPR[7:4]. A recognized interrupt makes the executor stop at
 * the next boundary (vmx/pending.c delivers it). */
void vmx_vintr_evaluate(struct cpu *c)
{
	bool window = c->vmx.bnd.proc & PROC_INTR_WINDOW;
	c->vmx.apicv.vintr = !window && (rvi(c) >> 4) > ((vapic_read(c, VAPIC_PPR) >> 4) & 0xf);
	if (c->vmx.apicv.vintr) {
		c->vmx.bnd.watch = 1;
		cpu_end_block(c);
	}
}

void vmx_vintr_post(struct cpu *c, uint8_t vector)
{
	vec_set(c, VAPIC_IRR, vector, true);
	if (vector > rvi(c))
		set_status(c, vector, svi(c));
}

/* 29.1.2: without "virtual-interrupt delivery", a trap-like
 * TPR-below-threshold exit when VTPR[7:4] < threshold[3:0]. */
void vmx_tpr_virtualize(struct cpu *c, bool in_insn)
{
	if (!vid(c)) {
		uint32_t vtpr = vapic_read(c, VAPIC_TPR);
		if (((vtpr >> 4) & 0xf) < (vmcs_read(c, VF_TPR_THRESHOLD) & 0xf))
			trap_exit(c, EXIT_REASON_TPR_BELOW_THRESHOLD, 0, in_insn);
		return;
	}
	ppr_virtualize(c);
	vmx_vintr_evaluate(c);
}

static bool eoi_exit_bit(struct cpu *c, uint8_t v)
{
	enum vmcs_field f = (enum vmcs_field)(VF_EOI_EXIT_BITMAP0 + (v >> 6));
	return (vmcs_read(c, f) >> (v & 63)) & 1;
}

_Static_assert(VF_EOI_EXIT_BITMAP3 - VF_EOI_EXIT_BITMAP0 == 3, "EOI-exit bitmap rows are consecutive");

/* 29.1.4: VISR[SVI] cleared, SVI = the highest vector left in VISR, PPR
 * virtualization; then the trap-like EOI-induced exit (qualification =
 * the vector) when its EOI-exit bitmap bit is 1, else evaluation. */
static void eoi_virtualize(struct cpu *c, bool in_insn)
{
	uint8_t v = svi(c);
	vec_set(c, VAPIC_ISR, v, false);
	set_status(c, rvi(c), vec_highest(c, VAPIC_ISR));
	ppr_virtualize(c);
	if (eoi_exit_bit(c, v))
		trap_exit(c, EXIT_REASON_VIRTUALIZED_EOI, v, in_insn);
	else
		vmx_vintr_evaluate(c);
}

/* 29.1.5 */
static void self_ipi_virtualize(struct cpu *c, uint8_t vector)
{
	vmx_vintr_post(c, vector);
	vmx_vintr_evaluate(c);
}

/* ---- virtual-interrupt delivery (29.2.2) ---- */

bool vmx_vintr_ready(const struct cpu *c)
{
	return c->vmx.nonroot && c->vmx.apicv.vintr && (c->rflags & FL_IF) && !c->sti_shadow && !c->mov_ss_shadow &&
	       !c->wait_sipi && !c->shutdown;
}

/* VISR[v] = 1, SVI = v, VPPR = v & F0H, VIRR[v] = 0, RVI = the highest
 * vector left in VIRR; delivery through the IDT as an external interrupt;
 * recognition ceases. It wakes HLT (the delivery clears it). */
bool vmx_vintr_deliver(struct cpu *c)
{
	if (!vmx_vintr_ready(c))
		return false;
	uint8_t v = rvi(c);
	c->vmx.apicv.vintr = false;
	vec_set(c, VAPIC_ISR, v, true);
	vapic_write(c, VAPIC_PPR, v & 0xf0u);
	vec_set(c, VAPIC_IRR, v, false);
	set_status(c, vec_highest(c, VAPIC_IRR), v);
	cpu_service_vector(c, v);
	return true;
}

/* ---- the APIC-access page (29.4) ---- */

/* The access type of a linear access (Table 27-6): any access made while
 * an event is delivered through the IDT is "during event delivery". */
static enum vmx_apic_access_type linear_type(const struct cpu *c, unsigned acc)
{
	if (acc & ACC_EXEC)
		return APIC_ACCESS_LINEAR_FETCH;
	if (c->vmx.vectoring.info)
		return APIC_ACCESS_LINEAR_EVENT;
	return (acc & ACC_WRITE) ? APIC_ACCESS_LINEAR_WRITE : APIC_ACCESS_LINEAR_READ;
}

/* An APIC-access exit is fault-like (29.4.1), raised as a failed
 * translation: vmx_xlate_exit reports it, with IDT-vectoring information
 * when it happened during event delivery. */
static void access_refuse(void *opaque, uint64_t pa, unsigned acc, struct xlate_fault *f)
{
	struct cpu *c = opaque;
	*f = (struct xlate_fault){
		.kind = XLATE_APIC_ACCESS,
		.qual = vmx_apic_access_qual((unsigned)pa & APIC_PAGE_OFF_MASK, linear_type(c, acc)),
	};
}

/* 29.4.3.1: a virtualized write goes to the virtual-APIC page; APIC-write
 * emulation follows the operation (vmx_apic_write_emulate at the next
 * boundary). A second write in the same operation with another offset or
 * size exits. */
static bool virtual_write(struct cpu *c, unsigned off, unsigned size, uint64_t val)
{
	struct vmx_apicv *a = &c->vmx.apicv;
	if (!vmx_apic_write_virtualized(a->proc2, off, size) ||
	    (a->write_pending && (a->write_off != off || a->write_size != size)))
		return false;
	phys_write(c->phys, a->vapic + off, val, size);
	a->write_pending = true;
	a->write_off = (uint16_t)off;
	a->write_size = (uint8_t)size;
	c->vmx.bnd.watch = 1;
	cpu_end_block(c);
	return true;
}

/* 29.4.2, 29.4.3.1: with "use TPR shadow" 0 every access exits; a read
 * in an operation that already virtualized a write exits. */
static bool access_hook(void *opaque, uint64_t pa, unsigned size, unsigned acc, uint64_t *val, struct xlate_fault *f)
{
	struct cpu *c = opaque;
	unsigned off = (unsigned)pa & APIC_PAGE_OFF_MASK;
	bool ok;
	if (!c->vmx.apicv.tpr_shadow) {
		ok = false;
	} else if (acc & ACC_WRITE) {
		ok = virtual_write(c, off, size, *val);
	} else {
		ok = !c->vmx.apicv.write_pending && vmx_apic_read_virtualized(c->vmx.apicv.proc2, off, size);
		if (ok)
			*val = phys_read(c->phys, c->vmx.apicv.vapic + off, size);
	}
	if (!ok)
		access_refuse(c, pa, acc, f);
	return ok;
}

/* 29.4.3.2: by the register the write hit; offsets 310H-313H clear bytes
 * 2:0 of VICR_HI and nothing else happens; the registers without an
 * emulation cause the trap-like APIC-write exit (29.4.3.3, qualification
 * = the page offset of the write). */
bool vmx_apic_write_emulate(struct cpu *c)
{
	struct vmx_apicv *a = &c->vmx.apicv;
	unsigned off = a->write_off;
	uint64_t transitions = c->vmx.transitions;
	a->write_pending = false;
	switch (off & ~0xfu) {
	case VAPIC_TPR:         /* bytes 3:1 of VTPR cleared, TPR virtualization */
		vapic_write(c, VAPIC_TPR, vapic_read(c, VAPIC_TPR) & 0xffu);
		vmx_tpr_virtualize(c, false);
		return c->vmx.transitions != transitions;
	case VAPIC_EOI:
		if (!vid(c))
			break;
		vapic_write(c, VAPIC_EOI, 0);
		eoi_virtualize(c, false);
		return c->vmx.transitions != transitions;
	case VAPIC_ICR_LO: {
		uint32_t icr = vapic_read(c, VAPIC_ICR_LO);
		if (!vid(c) || !vmx_self_ipi_icr(icr))
			break;
		self_ipi_virtualize(c, (uint8_t)icr);
		return false;
	}
	case VAPIC_ICR_HI:
		vapic_write(c, VAPIC_ICR_HI, vapic_read(c, VAPIC_ICR_HI) & 0xff000000u);
		return false;
	default:
		break;
	}
	trap_exit(c, EXIT_REASON_APIC_WRITE, off, false);
	return true;
}

/* ---- x2APIC MSRs (29.5) ---- */

#define MSR_X2APIC_FIRST 0x800u
#define MSR_X2APIC_LAST 0x8ffu
#define MSR_X2APIC_TPR 0x808u
#define MSR_X2APIC_EOI 0x80bu
#define MSR_X2APIC_SELF_IPI 0x83fu

static bool x2apic_virt(const struct cpu *c, uint32_t msr)
{
	return (c->vmx.apicv.proc2 & PROC2_VIRT_X2APIC) && msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST;
}

/* RDMSR: 808H reads the 8 bytes at 080H of the virtual-APIC page; with
 * "APIC-register virtualization" every MSR of the range reads the 8 bytes
 * at (ECX & FFH) << 4. Both whether or not the local APIC is in x2APIC
 * mode. Anything else operates normally. */
enum vmx_msr_virt vmx_x2apic_rdmsr(struct cpu *c, uint32_t msr, uint64_t *v)
{
	if (!x2apic_virt(c, msr))
		return VMX_MSR_NORMAL;
	if (msr != MSR_X2APIC_TPR && !(c->vmx.apicv.proc2 & PROC2_APIC_REG_VIRT))
		return VMX_MSR_NORMAL;
	*v = phys_read(c->phys, c->vmx.apicv.vapic + ((msr & 0xffu) << 4), 8);
	return VMX_MSR_DONE;
}

/* WRMSR: 808H with EDX:EAX[63:8] = 0 stores the 8 bytes at 080H, then TPR
 * virtualization; with "virtual-interrupt delivery", 80BH with EDX:EAX =
 * 0 is EOI virtualization and 83FH with EDX:EAX[63:8] = 0 self-IPI
 * virtualization with vector EAX[7:0]. Other values of those are #GP(0);
 * other MSRs operate normally. */
enum vmx_msr_virt vmx_x2apic_wrmsr(struct cpu *c, uint32_t msr, uint64_t v)
{
	if (!x2apic_virt(c, msr))
		return VMX_MSR_NORMAL;
	switch (msr) {
	case MSR_X2APIC_TPR:
		if (v >> 8)
			return VMX_MSR_GP;
		phys_write(c->phys, c->vmx.apicv.vapic + VAPIC_TPR, v, 8);
		vmx_tpr_virtualize(c, true);
		return VMX_MSR_DONE;
	case MSR_X2APIC_EOI:
		if (!vid(c))
			return VMX_MSR_NORMAL;
		if (v)
			return VMX_MSR_GP;
		eoi_virtualize(c, true);
		return VMX_MSR_DONE;
	case MSR_X2APIC_SELF_IPI:
		if (!vid(c))
			return VMX_MSR_NORMAL;
		if (v >> 8)
			return VMX_MSR_GP;
		self_ipi_virtualize(c, (uint8_t)v);
		return VMX_MSR_DONE;
	default:
		return VMX_MSR_NORMAL;
	}
}

/* ---- VM entry and exit ---- */

void vmx_apicv_entry(struct cpu *c)
{
	struct vmx_apicv *a = &c->vmx.apicv;
	uint32_t proc = (uint32_t)vmcs_read(c, VF_PROC_CONTROLS);
	*a = (struct vmx_apicv){ 0 };
	a->proc2 = (proc & PROC_SECONDARY_CTLS) ? (uint32_t)vmcs_read(c, VF_PROC2_CONTROLS) : 0;
	a->tpr_shadow = proc & PROC_TPR_SHADOW;
	if (a->tpr_shadow)
		a->vapic = vmcs_read(c, VF_VIRTUAL_APIC_ADDR);
	if (a->proc2 & PROC2_VIRT_APIC_ACCESS) {
		c->apic_access = (struct phys_trap){ vmcs_read(c, VF_APIC_ACCESS_ADDR) & ~(uint64_t)APIC_PAGE_OFF_MASK,
						     access_hook, access_refuse, c };
		/* 29.4.1: every linear access to the page is an APIC access. A
		 * translation cached to it before (the control was 0, another
		 * APIC-access address, or in root operation) and kept across the
		 * entry (VPIDs, 28.3.3.1) would reach the page as plain RAM, so
		 * it goes; the hook never lets one be cached afterwards. */
		tlb_drop_page_pa(&c->tlb, c->apic_access.page);
	}
	/* 26.3.2.5: RVI and SVI are loaded (they stay in the VMCS here); PPR
	 * virtualization and evaluation of pending virtual interrupts. */
	if (vid(c)) {
		ppr_virtualize(c);
		vmx_vintr_evaluate(c);
	}
}

void vmx_apicv_exit(struct cpu *c)
{
	c->vmx.apicv = (struct vmx_apicv){ 0 };
	c->apic_access.page = UINT64_MAX;
}
