/* The IDT: 256 gates to the stubs in isr.S, a handler table, and the
 * fault-recovery state behind catch_fault(). */
#include "guest.h"

/* 64-bit IDT gate descriptor (SDM Vol. 3A, 7.14.1, figure 7-8). */
struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;              /* P | DPL << 5 | type */
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

struct catch_state {
	struct guest_jmp_buf jb;
	struct fault *f;
	bool armed;
};

extern char isr_stubs[];
#define ISR_STUB_SIZE 16

static struct idt_gate idt[256] __attribute__((aligned(16)));
static intr_handler_fn handlers[256];
static struct catch_state catcher;

void isr_dispatch(struct intr_frame *frame);

static void set_gate(uint8_t vector, enum gate_type type, unsigned dpl)
{
	uint64_t addr = (uint64_t)(isr_stubs + ISR_STUB_SIZE * vector);

	idt[vector] = (struct idt_gate){
		.offset_lo = (uint16_t)addr,
		.selector = KERNEL_CS,
		.type_attr = (uint8_t)(0x80 | (dpl & 3) << 5 | type),
		.offset_mid = (uint16_t)(addr >> 16),
		.offset_hi = (uint32_t)(addr >> 32),
	};
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(idt) - 1, (uint64_t)idt };

	asm volatile("lidt %0" : : "m"(ptr));
}

void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++)
		set_gate((uint8_t)v, GATE_INTERRUPT, 0);
	idt_load();
}

void idt_set_handler(uint8_t vector, intr_handler_fn handler, enum gate_type type, unsigned dpl)
{
	set_gate(vector, type, dpl);
	handlers[vector] = handler;
}

NORETURN static void unexpected(const struct intr_frame *fr)
{
	report(false, "unexpected exception/interrupt %lu, error code %#lx, at RIP %#lx (CR2 %#lx)",
	       fr->vector, fr->error_code, fr->rip, read_cr2());
	report_summary();
}

void isr_dispatch(struct intr_frame *frame)
{
	if (handlers[frame->vector]) {
		handlers[frame->vector](frame);
		return;
	}
	if (!catcher.armed)
		unexpected(frame);
	*catcher.f = (struct fault){
		.raised = true,
		.vector = (uint8_t)frame->vector,
		.error_code = frame->error_code,
		.rip = frame->rip,
		.cr2 = frame->vector == VEC_PF ? read_cr2() : 0,
		.rsp = frame->rsp,
	};
	catcher.armed = false;
	guest_longjmp(&catcher.jb, 1);
}

bool catch_fault(fault_body_fn fn, void *arg, struct fault *f)
{
	*f = (struct fault){ 0 };
	catcher.f = f;
	if (guest_setjmp(&catcher.jb))
		return true;
	catcher.armed = true;
	fn(arg);
	catcher.armed = false;
	return false;
}
