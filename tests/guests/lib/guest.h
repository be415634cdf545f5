/* The guest kernels' small library: console on COM1, printf, test reports
 * in the kvm-unit-tests style, exit through the isa-debug-exit port, an IDT
 * whose handlers record exceptions, and fault recovery.
 *
 * A kernel defines kmain(); lib/boot.S enters long mode with the first 4 GiB
 * identity-mapped (2 MiB pages), and guest_entry() initialises COM1 and the
 * IDT, masks the 8259 PICs and calls kmain(magic, mbinfo). Interrupts stay
 * disabled (RFLAGS.IF = 0) unless a test enables them.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "x86.h"
#include "multiboot.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NOINLINE __attribute__((noinline, noclone))
#define NORETURN __attribute__((noreturn))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10

/* Exception vectors (SDM Vol. 3A, table 7-1). */
enum {
	VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5,
	VEC_UD = 6, VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11,
	VEC_SS = 12, VEC_GP = 13, VEC_PF = 14, VEC_MF = 16, VEC_AC = 17,
	VEC_MC = 18, VEC_XM = 19,
};

/* Saved by boot.S: CR0 and EFLAGS as the loader left them. */
extern uint32_t boot_entry_cr0, boot_entry_eflags;
/* From link.ld: the loaded image. */
extern char __image_start[], __image_end[];

/* Provided by each kernel. */
void kmain(uint32_t magic, uint32_t mbinfo);
/* Called from boot.S: sets up the library, then kmain(). */
NORETURN void guest_entry(uint32_t magic, uint32_t mbinfo);

/* Console (lib/serial.c, lib/printf.c). */
void serial_init(void);
void serial_putc(char c);
void serial_puts(const char *s);
int printf(const char *fmt, ...) PRINTF_LIKE(1, 2);
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* Freestanding string functions (lib/string.c); gcc may also call the
 * mem* ones on its own. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* The value of "key=value" in a space-separated command line, copied into
 * buf (NUL-terminated); false if key is absent. */
bool cmdline_get(const char *cmdline, const char *key, char *buf, size_t size);
/* Parses a decimal or 0x-prefixed number; false on junk or overflow. */
bool parse_u64(const char *s, uint64_t *out);

/* Exit (lib/report.c). guest_exit writes code to the isa-debug-exit port
 * 0xf4 (QEMU and vtxsim exit with status code * 2 + 1) after printing
 * "EXIT: code"; if the port does nothing it halts forever. */
NORETURN void guest_exit(uint8_t code);
/* ACPI S5 soft-off as on QEMU's PC (PM1a control at 0x604, SLP_EN), then
 * guest_exit(0) if that did not stop the machine. */
NORETURN void guest_poweroff(void);

/* Test reports: "PASS: msg" / "FAIL: msg" / "SKIP: msg". report_summary
 * prints "SUMMARY: N tests, M unexpected failures" and exits with 0 when
 * nothing failed, 1 otherwise (status 1 = pass, 3 = fail). */
bool report(bool ok, const char *fmt, ...) PRINTF_LIKE(2, 3);
void report_skip(const char *fmt, ...) PRINTF_LIKE(1, 2);
void report_info(const char *fmt, ...) PRINTF_LIKE(1, 2);
NORETURN void report_summary(void);
/* report(actual == expected) with both values printed on failure. */
#define report_eq(actual, expected, fmt, ...)                                         \
	do {                                                                          \
		uint64_t a_ = (uint64_t)(actual), e_ = (uint64_t)(expected);          \
		if (!report(a_ == e_, fmt, ##__VA_ARGS__))                            \
			printf("      got %#lx, expected %#lx\n", a_, e_);              \
	} while (0)

/* Interrupts (lib/idt.c). The frame isr_dispatch receives; a handler may
 * change it (e.g. rip) before the iretq. */
struct intr_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;  /* pushed by the CPU */
};

typedef void (*intr_handler_fn)(struct intr_frame *frame);

enum gate_type { GATE_INTERRUPT = 0xe, GATE_TRAP = 0xf };

void idt_init(void);
/* Installs handler for vector; the gate points at the common stub. */
void idt_set_handler(uint8_t vector, intr_handler_fn handler, enum gate_type type, unsigned dpl);
/* Reloads the library's IDT (after a test loaded another one). */
void idt_load(void);

/* Fault recovery. catch_fault runs fn(arg); if an exception with no handler
 * of its own is raised meanwhile, fn is abandoned (registers and RFLAGS are
 * restored as they were at the call), *f describes the exception and the
 * result is true. Without an exception, f->raised is false. An exception
 * outside catch_fault (and without a handler) is an unexpected failure: it
 * is reported and the kernel exits. */
struct fault {
	bool raised;
	uint8_t vector;
	uint64_t error_code;
	uint64_t rip;                   /* as pushed: faults point at the instruction */
	uint64_t cr2;                   /* read in the handler, #PF only */
	uint64_t rsp;
};

typedef void (*fault_body_fn)(void *arg);
bool catch_fault(fault_body_fn fn, void *arg, struct fault *f);

/* setjmp/longjmp used by catch_fault (lib/isr.S). */
struct guest_jmp_buf {
	uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip, rflags;
};
int guest_setjmp(struct guest_jmp_buf *jb) __attribute__((returns_twice));
NORETURN void guest_longjmp(struct guest_jmp_buf *jb, int value);

#endif
