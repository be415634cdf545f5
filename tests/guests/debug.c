/* debug: the debug registers and #DB (SDM Vol. 3B, chapter 17 "Debug,
 * Branch Profile, TSC, and Intel Resource Director Technology Features"):
 * DR6/DR7 read-back, DR4/DR5 aliasing and #UD, DR7.GD, execute / write /
 * read-write / I/O breakpoints with the saved RIP (fault vs trap) and RF
 * resume, single-step counts (POPF, MOV SS shadow, HLT, INT n), and the
 * alignment-check exception at CPL 3 (Vol. 3A, 6.15 "Interrupt 17"). */
#include "guest.h"

#define DR6_INIT  0xffff0ff0ul
#define DR6_BD    (1ul << 13)
#define DR6_BS    (1ul << 14)
#define DR7_INIT  0x400ul
#define DR7_GD    (1ul << 13)
#define RFLAGS_RF (1ul << 16)
#define RFLAGS_AC (1ul << 18)
#define CR0_AM    (1ul << 18)
#define CR4_DE    (1ul << 3)
#define BP(n, rw, len) ((1ul << (2 * (n))) | ((uint64_t)(rw) << (16 + 4 * (n))) | ((uint64_t)(len) << (18 + 4 * (n))))
enum { RW_EXEC = 0, RW_WRITE = 1, RW_IO = 2, RW_RW = 3 };
enum { LEN1 = 0, LEN2 = 1, LEN8 = 2, LEN4 = 3 };

#define DEFINE_DR(n)                                                       \
	static inline uint64_t read_dr##n(void)                            \
	{                                                                  \
		uint64_t v;                                                \
		asm volatile("mov %%dr" #n ", %0" : "=r"(v));              \
		return v;                                                  \
	}                                                                  \
	static inline void write_dr##n(uint64_t v)                         \
	{                                                                  \
		asm volatile("mov %0, %%dr" #n : : "r"(v) : "memory");    \
	}
DEFINE_DR(0)
DEFINE_DR(1)
DEFINE_DR(2)
DEFINE_DR(6)
DEFINE_DR(7)

/* What the #DB handler saw. */
#define MAX_TRAPS 16
static struct {
	unsigned count;
	uint64_t rip[MAX_TRAPS], rflags[MAX_TRAPS], dr6[MAX_TRAPS];
	bool clear_tf, set_rf;
} db;

static void db_handler(struct intr_frame *f)
{
	if (db.count < MAX_TRAPS) {
		db.rip[db.count] = f->rip;
		db.rflags[db.count] = f->rflags;
		db.dr6[db.count] = read_dr6();
	}
	db.count++;
	write_dr6(DR6_INIT);
	if (db.clear_tf)
		f->rflags &= ~RFLAGS_TF;
	if (db.set_rf)
		f->rflags |= RFLAGS_RF;
}

static void db_reset(bool clear_tf, bool set_rf)
{
	db.count = 0;
	db.clear_tf = clear_tf;
	db.set_rf = set_rf;
	write_dr6(DR6_INIT);
}

/* ---- register read-back, aliasing, faults ---- */

static void mov_from_dr4(void *arg)
{
	uint64_t v;
	(void)arg;
	asm volatile("mov %%dr4, %0" : "=r"(v));
}

extern char gd_at[];
static void mov_dr0_under_gd(void *arg)
{
	uint64_t v;
	(void)arg;
	asm volatile("gd_at: mov %%dr0, %0" : "=r"(v));
}

static void check_registers(void)
{
	struct fault f;

	write_dr6(0);
	report_eq(read_dr6(), DR6_INIT, "DR6 written with 0 reads 0xffff0ff0");
	write_dr6(~0u);
	report_eq(read_dr6(), 0xffffeffful, "DR6 bit 12 reads 0");
	write_dr7(0);
	report_eq(read_dr7(), DR7_INIT, "DR7 written with 0 reads 0x400");
	asm volatile("mov %0, %%dr5" : : "r"(0x2ul));
	report_eq(read_dr7(), 0x402, "CR4.DE=0: DR5 writes DR7");
	asm volatile("mov %0, %%dr4" : : "r"(0x1ul));
	report_eq(read_dr6(), DR6_INIT | 1, "CR4.DE=0: DR4 writes DR6");
	write_dr7(0);
	write_dr6(DR6_INIT);

	write_cr4(read_cr4() | CR4_DE);
	catch_fault(mov_from_dr4, NULL, &f);
	report(f.raised && f.vector == VEC_UD, "CR4.DE=1: MOV from DR4 is #UD");
	write_cr4(read_cr4() & ~CR4_DE);

	/* The handler's own MOV DR works (GD is clear by then); returning
	 * retries the MOV, which now succeeds. */
	db_reset(false, false);
	write_dr7(DR7_GD);
	mov_dr0_under_gd(NULL);
	report(db.count == 1 && db.rip[0] == (uint64_t)gd_at, "DR7.GD: MOV DR is a #DB fault at the MOV");
	report(db.dr6[0] & DR6_BD, "DR7.GD: DR6.BD set");
	report(db.rflags[0] & RFLAGS_RF, "DR7.GD: a fault, RF = 1 in the frame");
	report(!(read_dr7() & DR7_GD), "DR7.GD cleared on #DB entry");
}

/* ---- breakpoints ---- */

static volatile uint32_t watched[4] __attribute__((aligned(16)));

extern char xbp_at[], xbp_after[];
static NOINLINE void exec_target(void)
{
	asm volatile("nop\n xbp_at: nop\n xbp_after: nop" ::: "memory");
}

extern char wr_after[], rd_after[];
static NOINLINE void write_then_read(void)
{
	uint32_t v;
	asm volatile("movl $7, %1\n wr_after: movl %1, %0\n rd_after: nop"
		     : "=r"(v), "+m"(watched[1]) : : "memory");
}

extern char io_after[];
static NOINLINE void out_port80(void)
{
	asm volatile("outb %%al, $0x80\n io_after: nop" : : "a"(0) : "memory");
}

static void check_breakpoints(void)
{
	/* Execute: a fault before the instruction, RF = 0 in the frame;
	 * the handler sets RF and the instruction then runs once. */
	db_reset(false, true);
	write_dr0((uint64_t)xbp_at);
	write_dr7(BP(0, RW_EXEC, LEN1));
	exec_target();
	write_dr7(0);
	report_eq(db.count, 1, "execute breakpoint: one #DB, RF resumes");
	report_eq(db.rip[0], (uint64_t)xbp_at, "execute breakpoint: fault, RIP of the instruction");
	report(!(db.rflags[0] & RFLAGS_RF), "execute breakpoint: RF = 0 in the frame");
	report_eq(db.dr6[0] & 0xf, 1, "execute breakpoint: DR6.B0");

	/* Data write (R/W = 01): a trap after the store, not the load. */
	db_reset(false, false);
	write_dr1((uint64_t)&watched[1]);
	write_dr7(BP(1, RW_WRITE, LEN4));
	write_then_read();
	write_dr7(0);
	report_eq(db.count, 1, "write breakpoint: only the store");
	report_eq(db.rip[0], (uint64_t)wr_after, "write breakpoint: trap, RIP after the store");
	report_eq(db.dr6[0] & 0xf, 2, "write breakpoint: DR6.B1");

	/* Data read/write (R/W = 11), 8 bytes from an unaligned address
	 * (the low bits are ignored): the store and the load. */
	db_reset(false, false);
	write_dr1((uint64_t)&watched[0] + 3);
	write_dr7(BP(1, RW_RW, LEN8));
	write_then_read();
	write_dr7(0);
	report_eq(db.count, 2, "read/write breakpoint: store and load");
	report_eq(db.rip[1], (uint64_t)rd_after, "read/write breakpoint: trap after the load");

	/* I/O (R/W = 10 with CR4.DE). */
	db_reset(false, false);
	write_cr4(read_cr4() | CR4_DE);
	write_dr2(0x80);
	write_dr7(BP(2, RW_IO, LEN1));
	out_port80();
	write_dr7(0);
	write_cr4(read_cr4() & ~CR4_DE);
	report_eq(db.count, 1, "I/O breakpoint on port 0x80");
	report_eq(db.rip[0], (uint64_t)io_after, "I/O breakpoint: trap after OUT");
	report_eq(db.dr6[0] & 0xf, 4, "I/O breakpoint: DR6.B2");
}

/* ---- single-step ---- */

#define TF_ON  "pushfq; orq $0x100, (%%rsp); popfq\n"
#define TF_OFF "pushfq; andq $~0x100, (%%rsp); popfq\n"

static NOINLINE void step_plain(void)
{
	asm volatile(TF_ON "nop; nop; nop\n" TF_OFF ::: "memory");
}

extern char ss_nop_after[];
static NOINLINE void step_mov_ss(void)
{
	asm volatile(TF_ON "mov %%ss, %%eax\n mov %%eax, %%ss\n nop\n ss_nop_after:" TF_OFF
		     ::: "rax", "memory");
}

extern char hlt_after[];
static NOINLINE void step_hlt(void)
{
	asm volatile(TF_ON "hlt\n hlt_after: nop" ::: "memory");
}

extern char int_nop_after[];
static void soft_int_handler(struct intr_frame *f)
{
	(void)f;
}

static NOINLINE void step_int(void)
{
	asm volatile(TF_ON "int $0x40\n nop\n int_nop_after:" TF_OFF ::: "memory");
}

extern char int1_after[];
static NOINLINE void do_int1(void)
{
	asm volatile(".byte 0xf1\n int1_after:" ::: "memory");
}

static void check_single_step(void)
{
	/* Traps after nop, nop, nop, pushfq, andq and the popfq that clears
	 * TF; none after the popfq that sets it. */
	db_reset(false, false);
	step_plain();
	report_eq(db.count, 6, "single-step: 6 traps over POPF(TF=1) nop nop nop PUSHF AND POPF(TF=0)");
	report(db.dr6[0] & DR6_BS, "single-step: DR6.BS");

	/* MOV SS holds the trap until after the next instruction: one fewer. */
	db_reset(false, false);
	step_mov_ss();
	report_eq(db.count, 5, "single-step: MOV SS shadow merges two instructions");
	report_eq(db.rip[1], (uint64_t)ss_nop_after, "single-step: trap after the instruction after MOV SS");

	/* HLT under TF: the #DB wakes the CPU, RIP after HLT. */
	db_reset(true, false);
	step_hlt();
	report_eq(db.count, 1, "single-step over HLT: one #DB");
	report_eq(db.rip[0], (uint64_t)hlt_after, "single-step over HLT: RIP after HLT");

	/* INT n clears TF for the handler; its IRET restores it, and the
	 * instruction after INT n is the first to trap. */
	db_reset(true, false);
	step_int();
	report_eq(db.count, 1, "single-step over INT n: no trap into the handler");
	report_eq(db.rip[0], (uint64_t)int_nop_after, "single-step over INT n: first trap after the next nop");

	db_reset(false, false);
	do_int1();
	report(db.count == 1 && db.rip[0] == (uint64_t)int1_after, "INT1: #DB trap, RIP after it");
	report_eq(db.dr6[0], DR6_INIT, "INT1: DR6 unchanged");
}

/* ---- alignment check at CPL 3 ---- */

#define SEL_UDATA 0x1b
#define SEL_UCODE 0x23
#define SEL_TSS   0x28

static uint64_t gdt[7] __attribute__((aligned(16)));
static uint8_t tss[104] __attribute__((aligned(16)));
static uint8_t ring0_stack[8192] __attribute__((aligned(16)));
static uint8_t ring3_stack[4096] __attribute__((aligned(16)));
static volatile uint8_t misaligned[16] __attribute__((aligned(16)));


/* A GDT with ring-3 segments and a TSS (RSP0), and the identity map
 * opened to user mode. */
static void setup_ring3(void)
{
	uint64_t base = (uint64_t)tss, rsp0 = (uint64_t)ring0_stack + sizeof(ring0_stack);
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(gdt) - 1, (uint64_t)gdt };

	gdt[1] = 0x00af9a000000ffff;            /* 0x08 kernel code */
	gdt[2] = 0x00cf92000000ffff;            /* 0x10 kernel data */
	gdt[3] = 0x00cff2000000ffff;            /* 0x18 user data */
	gdt[4] = 0x00affa000000ffff;            /* 0x20 user code */
	gdt_set_tss64(&gdt[5], base, sizeof(tss) - 1);
	memcpy(tss + 4, &rsp0, 8);
	asm volatile("lgdt %0; ltr %w1" : : "m"(ptr), "r"(SEL_TSS) : "memory");
	boot_map_allow_user();
}

extern char user_load_at[], user_after[];
/* Runs at CPL 3: a misaligned dword load, then UD2 to come back. */
static void __attribute__((naked, used)) user_code(void)
{
	asm volatile("user_load_at: movl (%rdi), %eax\n user_after: ud2");
}

static void enter_ring3(void *arg)
{
	uint64_t flags = (uint64_t)arg;
	uint64_t sp = (uint64_t)ring3_stack + sizeof(ring3_stack);
	asm volatile("push %[ss]; push %[sp]; push %[fl]; push %[cs]; push %[ip]; iretq"
		     : : [ss] "r"((uint64_t)SEL_UDATA), [sp] "r"(sp), [fl] "r"(flags),
		       [cs] "r"((uint64_t)SEL_UCODE), [ip] "r"((uint64_t)user_code),
		       "D"(&misaligned[1])
		     : "memory");
}

static void ring0_misaligned(void *arg)
{
	(void)arg;
	asm volatile("pushfq; orq %1, (%%rsp); popfq; movl (%0), %%eax; pushfq; andq %2, (%%rsp); popfq"
		     : : "r"(&misaligned[1]), "r"(RFLAGS_AC), "r"(~RFLAGS_AC) : "rax", "memory");
}

static void check_alignment(void)
{
	struct fault f;
	uint64_t cr0 = read_cr0(), fl = 0x2 | RFLAGS_AC;

	setup_ring3();
	write_cr0(cr0 | CR0_AM);
	catch_fault(enter_ring3, (void *)fl, &f);
	report(f.raised && f.vector == VEC_AC && f.error_code == 0 && f.rip == (uint64_t)user_load_at,
	       "CPL 3, CR0.AM, EFLAGS.AC: misaligned load is #AC(0) at the load");
	catch_fault(enter_ring3, (void *)(uint64_t)0x2, &f);
	report(f.raised && f.vector == VEC_UD && f.rip == (uint64_t)user_after, "EFLAGS.AC=0: no #AC");
	write_cr0(cr0);
	catch_fault(enter_ring3, (void *)fl, &f);
	report(f.raised && f.vector == VEC_UD && f.rip == (uint64_t)user_after, "CR0.AM=0: no #AC");

	/* CPL 0 never checks alignment. */
	write_cr0(cr0 | CR0_AM);
	catch_fault(ring0_misaligned, NULL, &f);
	write_cr0(cr0);
	report(!f.raised, "CPL 0 with CR0.AM and EFLAGS.AC: no #AC");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	idt_set_handler(VEC_DB, db_handler, GATE_INTERRUPT, 0);
	idt_set_handler(0x40, soft_int_handler, GATE_INTERRUPT, 0);
	check_registers();
	check_breakpoints();
	check_single_step();
	check_alignment();
	report_summary();
}
