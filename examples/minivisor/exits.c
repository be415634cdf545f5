/* minivisor: the VM-exit handlers.
 *
 * entry.S calls minivisor_handle_exit() on every VM exit with the guest's
 * registers saved; the handler reads why the guest exited (exit reason,
 * 24.9.1 and Appendix C; exit qualification, 27.2.1), does what the guest
 * asked for, moves the guest's RIP past the instruction where the exit is
 * instruction-caused, and returns: entry.S resumes the guest (VMRESUME).
 * Before resuming, deliver_timer() injects the pending timer interrupt if
 * the guest can take it.
 */
#include "guest.h"
#include "pic.h"
#include "minivisor.h"

#define RFLAGS_IF_BIT          (1ull << 9)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define EXIT_REASON_COUNT      65       /* reasons 0-64 (Appendix C) */
#define VMX_BASIC_INS_OUTS     (1ull << 54)

/* Exit qualification for I/O instructions (27.2.1, Table 27-5). */
#define IO_QUAL_SIZE(q)   (((q) & 7) + 1)       /* bytes: 1, 2 or 4 */
#define IO_QUAL_IN        (1ull << 3)           /* direction: 1 = IN/INS */
#define IO_QUAL_STRING    (1ull << 4)           /* INS/OUTS */
#define IO_QUAL_REP       (1ull << 5)
#define IO_QUAL_PORT(q)   ((uint16_t)((q) >> 16))
/* Exit qualification for EPT violations (27.2.1, Table 27-7). */
#define EPT_QUAL_READ     (1ull << 0)
#define EPT_QUAL_WRITE    (1ull << 1)
#define EPT_QUAL_FETCH    (1ull << 2)
#define EPT_QUAL_LINEAR_VALID (1ull << 7)

/* Exit-reason names, from vtxsim's table (vmx/controls.h). */
static const char *const reason_name[EXIT_REASON_COUNT] = {
#define X(n, id, text) [n] = text,
	EXIT_REASON_TABLE(X)
#undef X
};

/* What the hypervisor knows about its one virtual CPU. */
static struct {
	uint32_t exits[EXIT_REASON_COUNT];      /* by basic exit reason */
	bool timer_pending;                     /* a tick the guest has not taken yet */
	uint32_t timer_irqs, timer_injected;
	char line[128];                         /* the virtual serial port's current line */
	unsigned line_len;
	uint32_t mmio_counter, mmio_scratch;    /* the emulated device's registers */
} vm;

static NORETURN void stop(const char *why)
{
	printf("minivisor: FAILED: %s (guest RIP %#lx)\n", why, vmread(VMCS_GUEST_RIP));
	guest_exit(1);
}

/* The guest executed an instruction that exited: continue after it
 * (VM-exit instruction length, 27.2.4). Blocking by STI or MOV SS ends
 * with that instruction, so it is cleared too (24.4.2). */
static void skip_instruction(void)
{
	uint64_t rip = vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTRUCTION_LEN);

	vmwrite(VMCS_GUEST_RIP, rip);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
		vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~(uint64_t)(INTR_BLOCK_STI | INTR_BLOCK_MOV_SS));
}

/* ---- translating the guest's addresses ------------------------------------ */

/* A guest-linear address to guest-physical, by walking the guest's own
 * page tables when it has paging on (IA-32e paging only: this guest never
 * uses 32-bit or PAE paging). EPT is an identity map, so the result is
 * also the host-physical address; it must lie in the guest's RAM (not in
 * the device page, which EPT does not map). A
 * hypervisor never trusts a pointer from its guest. */
static uint64_t guest_phys(uint64_t linear)
{
	uint64_t pa = linear;

	if (vmread(VMCS_GUEST_CR0) & CR0_PG) {
		uint64_t table = vmread(VMCS_GUEST_CR3) & ~0xfffull, e = 0;
		for (int level = 3; level >= 0; level--) {
			if (table >= GUEST_RAM_SIZE)
				stop("guest page table outside guest RAM");
			e = ((uint64_t *)table)[linear >> (12 + 9 * level) & 511];
			if (!(e & 1))
				stop("guest-linear address not mapped");
			uint64_t frame = e & 0x000ffffffffff000ull;
			if (level == 0 || (level <= 2 && (e & 0x80))) {
				uint64_t size_mask = (1ull << (12 + 9 * level)) - 1;
				pa = (frame & ~size_mask) | (linear & size_mask);
				break;
			}
			table = frame;
		}
	}
	if (pa >= GUEST_RAM_SIZE || pa >> 12 == MMIO_BASE >> 12)
		stop("guest address outside guest RAM");
	return pa;
}

/* ---- CPUID (exit 10): always exits (25.1.2) ------------------------------- */

static void handle_cpuid(struct guest_regs *r)
{
	uint32_t leaf = (uint32_t)r->gpr[REG_RAX], sub = (uint32_t)r->gpr[REG_RCX];
	struct cpuid_regs c = cpuid(leaf, sub);

	if (leaf == HYPERVISOR_LEAF) {
		/* The hypervisor leaf: the highest hypervisor leaf in EAX, the
		 * vendor's name in EBX, ECX, EDX. */
		c.a = HYPERVISOR_LEAF;
		memcpy(&c.b, "Mini", 4);
		memcpy(&c.c, "Viso", 4);
		memcpy(&c.d, "rVTX", 4);
		printf("minivisor: CPUID %#x: vendor \"MiniVisorVTX\"\n", leaf);
	} else if (leaf == 1) {
		c.c |= CPUID_1_ECX_HYPERVISOR;
		printf("minivisor: CPUID 1: passed through with ECX[31] (hypervisor present) set\n");
	}
	/* CPUID writes RAX..RDX zero-extended in 64-bit mode. */
	r->gpr[REG_RAX] = c.a;
	r->gpr[REG_RBX] = c.b;
	r->gpr[REG_RCX] = c.c;
	r->gpr[REG_RDX] = c.d;
	skip_instruction();
}

/* ---- I/O (exit 30): the virtual serial port -------------------------------- */

static void serial_byte(char ch)
{
	if (ch == '\n' || vm.line_len == sizeof(vm.line) - 1) {
		vm.line[vm.line_len] = 0;
		printf("guest: %s\n", vm.line);
		vm.line_len = 0;
		if (ch == '\n')
			return;
	}
	vm.line[vm.line_len++] = ch;
}

/* The address size of an OUTS, which decides whether SI, ESI or RSI and
 * CX, ECX or RCX count: the VM-exit instruction information (27.2.4, Table 27-8) when
 * IA32_VMX_BASIC[54] says it is reported, else the guest's code segment
 * (this guest uses no address-size prefix). Returns the register mask. */
static uint64_t outs_address_mask(void)
{
	unsigned size;

	if (rdmsr(IA32_VMX_BASIC) & VMX_BASIC_INS_OUTS) {
		size = vmread(VMCS_EXIT_INSTRUCTION_INFO) >> 7 & 7;    /* 0: 16, 1: 32, 2: 64 bits */
	} else {
		uint64_t ar = vmread(VMCS_GUEST_CS_AR);
		size = (vmread(VMCS_GUEST_IA32_EFER) & EFER_LMA) && (ar & (1 << 13)) ? 2 : ar >> 14 & 1;
	}
	return size == 2 ? ~0ull : size == 1 ? 0xffffffffull : 0xffffull;
}

static void handle_io(struct guest_regs *r)
{
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);

	if (IO_QUAL_PORT(q) != VSERIAL_PORT || (q & IO_QUAL_IN) || IO_QUAL_SIZE(q) != 1)
		stop("I/O other than byte output to the virtual serial port");
	if (!(q & IO_QUAL_STRING)) {                    /* OUT DX, AL */
		serial_byte((char)r->gpr[REG_RAX]);
		skip_instruction();
		return;
	}
	/* [REP] OUTSB: the whole string at once. The exit comes before the
	 * first iteration (25.1.3); the guest-linear address field holds
	 * seg:rSI's linear address (27.2.1). We do what the iterations would
	 * have done: rSI advances (DF = 0 assumed), rCX counts down to 0. */
	uint64_t mask = outs_address_mask();
	uint64_t count = q & IO_QUAL_REP ? r->gpr[REG_RCX] & mask : 1;
	uint64_t linear = vmread(VMCS_GUEST_LINEAR_ADDR);
	for (uint64_t i = 0; i < count; i++)
		serial_byte(*(const char *)guest_phys(linear + i));
	uint64_t rsi = r->gpr[REG_RSI];
	r->gpr[REG_RSI] = (rsi & ~mask) | ((rsi + count) & mask);
	if (q & IO_QUAL_REP)
		r->gpr[REG_RCX] &= ~mask;
	skip_instruction();
}

/* ---- EPT violation (exit 48): the emulated device -------------------------- */

/* Decodes the one instruction form the guest uses for the device: MOV
 * between a 32-bit register and memory addressed by a register, no
 * prefixes: 8B /r (load) or 89 /r (store) with ModRM.mod = 00 and r/m
 * neither 100 (SIB) nor 101 (RIP-relative). An EPT violation reports no
 * instruction length (27.2.4): the decoder knows it is 2. */
static bool decode_mov(uint8_t *opcode, unsigned *reg)
{
	uint64_t rip = vmread(VMCS_GUEST_CS_BASE) + vmread(VMCS_GUEST_RIP);
	const uint8_t *insn = (const uint8_t *)guest_phys(rip);
	uint8_t modrm = insn[1];

	*opcode = insn[0];
	*reg = modrm >> 3 & 7;
	return (insn[0] == 0x8b || insn[0] == 0x89) && (modrm >> 6) == 0 && (modrm & 7) != 4 &&
	       (modrm & 7) != 5 && *reg != REG_RSP;
}

static uint32_t mmio_read(uint64_t offset)
{
	switch (offset) {
	case MMIO_REG_ID: return DEVICE_ID;
	case MMIO_REG_COUNTER: return ++vm.mmio_counter;
	case MMIO_REG_SCRATCH: return vm.mmio_scratch;
	default: return 0xffffffffu;            /* an unused register reads as all ones */
	}
}

static void handle_mmio(struct guest_regs *r)
{
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
	uint64_t gpa = vmread(VMCS_GUEST_PHYS_ADDR);
	uint8_t opcode;
	unsigned reg;

	if (gpa >> 12 != MMIO_BASE >> 12 || (q & EPT_QUAL_FETCH) || !(q & EPT_QUAL_LINEAR_VALID))
		stop("EPT violation outside the emulated device");
	if (!decode_mov(&opcode, &reg) || (opcode == 0x89) != !!(q & EPT_QUAL_WRITE))
		stop("MMIO by an instruction the minivisor does not decode");
	uint64_t offset = gpa - MMIO_BASE;
	if (opcode == 0x8b) {
		/* A 32-bit load zero-extends into the 64-bit register. */
		r->gpr[reg] = mmio_read(offset);
		printf("minivisor: MMIO read  %#lx (qualification %#lx): %#lx into register %u\n", gpa, q,
		       r->gpr[reg], reg);
	} else {
		if (offset == MMIO_REG_SCRATCH)
			vm.mmio_scratch = (uint32_t)r->gpr[reg];
		printf("minivisor: MMIO write %#lx (qualification %#lx): %#x from register %u\n", gpa, q,
		       (uint32_t)r->gpr[reg], reg);
	}
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + 2);
}

/* ---- the timer: external interrupts (exit 1) and injection ----------------- */

/* With "acknowledge interrupt on exit" the processor took the vector from
 * the PIC (27.2.2): we only send the PIC its EOI and remember one tick for
 * the guest. Ticks that come while one is pending merge into it, as a
 * PIC's request register would merge them. */
static void handle_external_interrupt(void)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);

	if (!(info & INTR_INFO_VALID) || (info & INTR_INFO_VECTOR_MASK) != TIMER_VECTOR)
		stop("external interrupt other than the timer");
	outb(PIC1_CMD, OCW2_EOI);
	vm.timer_irqs++;
	vm.timer_pending = true;
}

/* HLT (exit 12): the guest waits for an interrupt. We let the processor do
 * the waiting: resume the guest after its HLT in the HLT activity state
 * (24.4.2, 26.6.2). The next timer interrupt exits from that state, and
 * deliver_timer() injects it, which wakes the guest. */
static void handle_hlt(void)
{
	skip_instruction();
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
}

/* Injects the pending tick if the guest can take an interrupt now:
 * RFLAGS.IF = 1 and no blocking by STI or MOV SS (24.4.2). Otherwise asks
 * for an interrupt-window exit (exit 7), which comes as soon as it can
 * (25.2). The injected event is delivered through the guest's IDT as part
 * of VM entry (26.5, interruption-information format 24.8.3: vector, type
 * 0 = external interrupt, valid). A guest in the HLT state wakes up: after
 * a vectoring VM entry the processor is active (26.6.2); writing the
 * activity state says so explicitly. */
static void deliver_timer(void)
{
	uint64_t proc = vmread(VMCS_PROC_CONTROLS);
	bool can_take = (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF_BIT) &&
			!(vmread(VMCS_GUEST_INTERRUPTIBILITY) & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS));

	if (vm.timer_pending && can_take) {
		vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | TIMER_VECTOR);
		vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
		vm.timer_pending = false;
		vm.timer_injected++;
		printf("minivisor: timer interrupt %u: inject vector %u\n", vm.timer_injected, TIMER_VECTOR);
	}
	bool want_window = vm.timer_pending;
	if (!!(proc & PROC_INTR_WINDOW) != want_window)
		vmwrite(VMCS_PROC_CONTROLS, want_window ? proc | PROC_INTR_WINDOW : proc & ~PROC_INTR_WINDOW);
}

/* ---- VMCALL (exit 18): the end ---------------------------------------------- */

static NORETURN void handle_vmcall(void)
{
	uint32_t total = 0;

	printf("minivisor: VMCALL: the guest is done. VM exits by reason:\n");
	for (int i = 0; i < EXIT_REASON_COUNT; i++) {
		if (vm.exits[i]) {
			printf("minivisor:   %2d %-22s %u\n", i, reason_name[i], vm.exits[i]);
			total += vm.exits[i];
		}
	}
	printf("minivisor:   total %u; %u timer interrupts from the PIT, %u injected\n", total, vm.timer_irqs,
	       vm.timer_injected);
	printf("minivisor: powering off\n");
	guest_poweroff();
}

/* ---- the dispatcher ------------------------------------------------------- */

void minivisor_handle_exit(struct guest_regs *regs)
{
	uint32_t reason = (uint32_t)vmread(VMCS_EXIT_REASON);
	uint16_t basic = (uint16_t)reason;

	if (reason & EXIT_REASON_ENTRY_FAILURE) {
		printf("minivisor: VM entry failed: exit reason %u (%s), qualification %#lx\n", basic,
		       basic < EXIT_REASON_COUNT ? reason_name[basic] : "?", vmread(VMCS_EXIT_QUALIFICATION));
		guest_exit(1);
	}
	if (basic < EXIT_REASON_COUNT)
		vm.exits[basic]++;
	switch (basic) {
	case EXIT_REASON_EXTERNAL_INTERRUPT: handle_external_interrupt(); break;
	case EXIT_REASON_INTERRUPT_WINDOW: break;       /* deliver_timer() injects */
	case EXIT_REASON_CPUID: handle_cpuid(regs); break;
	case EXIT_REASON_HLT: handle_hlt(); break;
	case EXIT_REASON_VMCALL: handle_vmcall();
	case EXIT_REASON_IO_INSTRUCTION: handle_io(regs); break;
	case EXIT_REASON_EPT_VIOLATION: handle_mmio(regs); break;
	default:
		printf("minivisor: unexpected VM exit %u (%s), qualification %#lx\n", basic,
		       basic < EXIT_REASON_COUNT && reason_name[basic] ? reason_name[basic] : "?",
		       vmread(VMCS_EXIT_QUALIFICATION));
		stop("unexpected VM exit");
	}
	/* An exit in the middle of delivering an event through the guest's
	 * IDT (IDT-vectoring information valid, 27.2.3) would need that event
	 * injected again; this guest's IDT, stack and code are all present in
	 * EPT, so it cannot happen here: say so if it does. */
	if (vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID)
		stop("VM exit during event delivery");
	deliver_timer();
}

static const char *const insn_error_text[] = {
#define X(n, id, text) [n] = text,
	VM_INSN_ERROR_TABLE(X)
#undef X
};

void minivisor_entry_failed(const char *insn)
{
	uint64_t err = vmread(VMCS_VM_INSTRUCTION_ERROR);

	printf("minivisor: %s failed: VM-instruction error %lu (%s)\n", insn, err,
	       err < ARRAY_SIZE(insn_error_text) && insn_error_text[err] ? insn_error_text[err] : "?");
	guest_exit(1);
}

void minivisor_vmresume_failed(void)
{
	minivisor_entry_failed("VMRESUME");
}
