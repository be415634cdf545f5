/* task: hardware task switches in 32-bit protected mode (SDM vol. 3A
 * chapter 8). The kernel leaves IA-32e mode (task switching does not exist
 * there, 8.7), loads TR with task A and then:
 *   - CALL to TSS B: B runs nested (NT = 1, link = A) and IRETs back;
 *   - INT 40h through a task gate in the IDT to B, IRET back;
 *   - JMP to TSS C whose DS selector is past the GDT limit: #TS(selector)
 *     after the commit point, delivered through a task gate to task D,
 *     which takes the error code from its stack and JMPs back to A.
 * Then it returns to 64-bit mode and checks what the tasks recorded, the
 * busy bits and the back link. */
#include "guest.h"

#define SEL_A 0x30
#define SEL_B 0x38
#define SEL_C 0x40
#define SEL_D 0x48
#define BAD_DS 0x1f8

struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt, iomap;
} __attribute__((packed));

struct tss32 tk_tss[4] __attribute__((aligned(128)));
uint8_t tk_stack_b[4096] __attribute__((aligned(16))), tk_stack_d[4096] __attribute__((aligned(16)));
uint64_t tk_gdt[10] __attribute__((aligned(16)));
uint64_t tk_idt[256] __attribute__((aligned(16)));
struct __attribute__((packed)) { uint16_t limit; uint64_t base; } tk_gdt_ptr;
struct __attribute__((packed)) { uint16_t limit; uint32_t base; } tk_idt_ptr;
uint64_t tk_saved_rsp;
uint8_t tk_saved_gdt[10], tk_saved_idt[10];
/* Recorded by the 32-bit code. */
uint32_t tk_b_count, tk_b_flags, tk_b_tr, tk_d_err, tk_d_tr, tk_d_flags;
uint32_t tk_a_flags, tk_a_tr1, tk_a_tr2, tk_a_tr3, tk_a_cr0;
void tk_roundtrip(void);
extern char tk_task_b[], tk_task_d[];

asm(".text\n"
    ".globl tk_roundtrip\n"
    "tk_roundtrip:\n"
    "	push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
    "	mov %rsp, tk_saved_rsp(%rip)\n"
    "	sgdt tk_saved_gdt(%rip)\n"
    "	sidt tk_saved_idt(%rip)\n"
    "	lgdt tk_gdt_ptr(%rip)\n"
    "	pushq $0x18\n"
    "	lea tk_compat(%rip), %rax\n"
    "	push %rax\n"
    "	lretq\n"
    ".code32\n"
    "tk_compat:\n"
    "	mov $0x10, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss; mov %ax, %fs; mov %ax, %gs\n"
    "	mov %cr0, %eax; and $0x7fffffff, %eax; mov %eax, %cr0\n"
    "	mov $0xc0000080, %ecx; rdmsr; and $~0x100, %eax; wrmsr\n"
    /* 32-bit protected mode, paging off */
    "	lidt tk_idt_ptr\n"
    "	mov $0x30, %ax; ltr %ax\n"
    "	lcall $0x38, $0\n"
    "	pushf; pop %eax; mov %eax, tk_a_flags\n"
    "	str %eax; mov %eax, tk_a_tr1\n"
    "	int $0x40\n"
    "	str %eax; mov %eax, tk_a_tr2\n"
    "	ljmp $0x40, $0\n"
    "	str %eax; mov %eax, tk_a_tr3\n"
    "	mov %cr0, %eax; mov %eax, tk_a_cr0; clts\n"
    /* back up to IA-32e mode */
    "	mov $0xc0000080, %ecx; rdmsr; or $0x100, %eax; wrmsr\n"
    "	mov %cr0, %eax; or $0x80000000, %eax; mov %eax, %cr0\n"
    "	ljmp $0x08, $tk_back64\n"
    ".globl tk_task_b, tk_task_d\n"
    "tk_task_b:\n"
    "	incl tk_b_count\n"
    "	pushf; pop %eax; mov %eax, tk_b_flags\n"
    "	str %eax; mov %eax, tk_b_tr\n"
    "	iret\n"
    "	jmp tk_task_b\n"
    "tk_task_d:\n"
    "	pop %eax; mov %eax, tk_d_err\n"
    "	pushf; pop %eax; mov %eax, tk_d_flags\n"
    "	str %eax; mov %eax, tk_d_tr\n"
    "	ljmp $0x30, $0\n"
    "	jmp tk_task_d\n"
    ".code64\n"
    "tk_back64:\n"
    "	mov $0x10, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss\n"
    "	lgdt tk_saved_gdt(%rip)\n"
    "	lidt tk_saved_idt(%rip)\n"
    "	mov tk_saved_rsp(%rip), %rsp\n"
    "	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
    "	ret\n");

static uint64_t tss_desc(const struct tss32 *t)
{
	uint64_t base = (uint64_t)(uintptr_t)t, limit = sizeof(*t) - 1;
	return limit | (base & 0xffffff) << 16 | 0x89ull << 40 | (base >> 24) << 56;
}

static uint64_t task_gate(uint16_t sel)
{
	return (uint64_t)sel << 16 | 0x85ull << 40;
}

static void task_init(struct tss32 *t, char *eip, uint8_t *stack_top)
{
	memset(t, 0, sizeof(*t));
	t->eip = (uint32_t)(uintptr_t)eip;
	t->eflags = 0x2;
	t->esp = (uint32_t)(uintptr_t)stack_top;
	t->cs = 0x18;
	t->ss = t->ds = t->es = t->fs = t->gs = 0x10;
	t->iomap = sizeof(*t);
}

static unsigned gdt_type(unsigned sel)
{
	return (tk_gdt[sel / 8] >> 40) & 0xf;
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	tk_gdt[1] = 0x00af9a000000ffffull;
	tk_gdt[2] = 0x00cf92000000ffffull;
	tk_gdt[3] = 0x00cf9a000000ffffull;
	memset(&tk_tss[0], 0, sizeof(tk_tss[0]));
	task_init(&tk_tss[1], tk_task_b, tk_stack_b + sizeof(tk_stack_b));
	task_init(&tk_tss[2], tk_task_b, tk_stack_b + sizeof(tk_stack_b));
	tk_tss[2].ds = BAD_DS;
	task_init(&tk_tss[3], tk_task_d, tk_stack_d + sizeof(tk_stack_d));
	for (unsigned k = 0; k < 4; k++)
		tk_gdt[SEL_A / 8 + k] = tss_desc(&tk_tss[k]);
	tk_gdt_ptr.limit = sizeof(tk_gdt) - 1;
	tk_gdt_ptr.base = (uint64_t)tk_gdt;
	tk_idt[0x40] = task_gate(SEL_B);
	tk_idt[VEC_TS] = task_gate(SEL_D);
	tk_idt_ptr.limit = sizeof(tk_idt) - 1;
	tk_idt_ptr.base = (uint32_t)(uintptr_t)tk_idt;

	tk_roundtrip();
	report(true, "left IA-32e mode, ran the tasks, came back");
	report_eq(tk_b_count, 2, "task B ran twice (CALL to its TSS, INT 40h through a task gate)");
	report_eq(tk_b_tr, SEL_B, "TR names task B while it runs");
	report_eq(tk_b_flags & (1u << 14), 1u << 14, "a nested task runs with NT = 1");
	report_eq(tk_tss[1].link, SEL_A, "task B's back link names task A");
	report_eq(tk_a_tr1, SEL_A, "IRET with NT = 1 returns to task A");
	report_eq(tk_a_flags & (1u << 14), 0, "task A runs with NT = 0");
	report_eq(tk_a_tr2, SEL_A, "IRET from the task-gate handler returns to task A");
	report_eq(tk_d_err, BAD_DS, "#TS error code names the bad DS selector of task C");
	report_eq(tk_d_tr, SEL_D, "#TS went through the task gate to task D");
	report_eq(tk_tss[3].link, SEL_C, "task D's back link names task C (#TS after the commit point)");
	report_eq(tk_tss[2].eip, (uintptr_t)tk_task_b, "#TS is raised before task C's first instruction (saved EIP)");
	report_eq(tk_a_tr3, SEL_A, "JMP from task D back to task A");
	report_eq(tk_a_cr0 & 8, 8, "a task switch sets CR0.TS");
	report_eq(gdt_type(SEL_A), 0xb, "task A is busy");
	report_eq(gdt_type(SEL_B), 0x9, "task B is available after its IRET");
	report_eq(gdt_type(SEL_D), 0x9, "task D is available after its JMP");
	report_summary();
}
