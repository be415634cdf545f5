/* The native side of the differential test: run a sequence on the host CPU
 * in this user process.
 *
 * The code page, the data pages and a context page sit at fixed low
 * addresses (diff.h). A trampoline loads all sixteen GPRs and RFLAGS from the
 * context page and jumps to the sequence; the sequence ends with a jump to
 * the exit half, which stores them back. A fault in the sequence arrives as
 * a signal on an alternate stack; the handler takes the state from the
 * signal frame (including the vector, error code and CR2 the kernel saved)
 * and siglongjmps out.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <sys/auxv.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cpu/cpuid.h"
#include "tests/diff/diff.h"

/* Context page layout (offsets from DIFF_CTX, used by the assembly). */
#define CTX_IN 0x000            /* 16 GPRs, then RFLAGS at 0x80 */
#define CTX_ENTRY 0x088
#define CTX_HOST_RSP 0x090
#define CTX_EXIT 0x098
#define CTX_OUT_RSP 0x0a0
#define CTX_OUT 0x178           /* 16 GPRs (RSP slot unused), RFLAGS at 0x1f8 */
#define CTX_OUT_TOP 0x200
#define CTX_MXCSR 0x300         /* MXCSR every run starts with */
#define CTX_XMM 0x400           /* XMM0-15 every run starts with (16 x 16 bytes) */

#define STR_(x) #x
#define STR(x) STR_(x)

void diff_native_enter(void);
void diff_native_exit(void);
void diff_native_end(void);

/* Entry: save the callee-saved registers, clear DS/ES/GS (64-bit Linux
 * runs user code with null data selectors), set the x87/SSE state of
 * diff.h (DIFF_MXCSR, diff_xmm_byte), pop the input GPRs and RFLAGS
 * off the context page, switch to the sequence's RSP and jump. Exit: the
 * sequence's last instruction jumps here; store RSP, push RFLAGS and the
 * GPRs into the context page, return to C with DF and AC clear. */
__asm__(".intel_syntax noprefix\n"
	".text\n"
	".globl diff_native_enter\n"
	".type diff_native_enter, @function\n"
	"diff_native_enter:\n"
	"	push rbx\n	push rbp\n	push r12\n	push r13\n	push r14\n	push r15\n"
	"	mov qword ptr [" STR(DIFF_CTX) " + " STR(CTX_HOST_RSP) "], rsp\n"
	"	xor eax, eax\n	mov ds, eax\n	mov es, eax\n	mov gs, eax\n"
	"	fninit\n	fld1\n	fld1\n	fld1\n	fld1\n	fld1\n	fld1\n	fld1\n	fld1\n	fninit\n"
	"	ldmxcsr dword ptr [" STR(DIFF_CTX) " + " STR(CTX_MXCSR) "]\n"
	"	movdqu xmm0, xmmword ptr [" STR(DIFF_CTX) " + " STR(CTX_XMM) " + 0]\n"
	"	movdqu xmm1, xmmword ptr [" STR(DIFF_CTX) " + " STR(CTX_XMM) " + 16]\n"
	"	movdqu xmm2, xmmword ptr [" STR(DIFF_CTX) " + " STR(CTX_XMM) " + 32]\n"
	"	movdqu xmm3, xmmword ptr [" STR(DIFF_CTX) " + " STR(CTX_XMM) " + 48]\n"
	"	movdqu xmm4, xmmword ptr [" STR(DIFF_CTX) " + " STR(CTX_XMM) " + 64]\n"
	"	movdqu xmm5, xmmword ptr [" STR(DIFF_CTX) " + " STR(CTX_XMM) " + 80]\n"
	"	movdqu xmm6, xmmword ptr [" STR(DIFF_CTX) " + " STR(CTX_XMM) " + 96]\n"
	"	movdqu xmm7, xmmword ptr [" STR(DIFF_CTX) " + " STR(CTX_XMM) " + 112]\n"
	"	movdqu xmm8, xmmword ptr [" STR(DIFF_CTX) " + " STR(CTX_XMM) " + 128]\n"
	"	movdqu xmm9, xmmword ptr [" STR(DIFF_CTX) " + " STR(CTX_XMM) " + 144]\n"
	"	movdqu xmm10, xmmword ptr [" STR(DIFF_CTX) " + " STR(CTX_XMM) " + 160]\n"
	"	movdqu xmm11, xmmword ptr [" STR(DIFF_CTX) " + " STR(CTX_XMM) " + 176]\n"
	"	movdqu xmm12, xmmword ptr [" STR(DIFF_CTX) " + " STR(CTX_XMM) " + 192]\n"
	"	movdqu xmm13, xmmword ptr [" STR(DIFF_CTX) " + " STR(CTX_XMM) " + 208]\n"
	"	movdqu xmm14, xmmword ptr [" STR(DIFF_CTX) " + " STR(CTX_XMM) " + 224]\n"
	"	movdqu xmm15, xmmword ptr [" STR(DIFF_CTX) " + " STR(CTX_XMM) " + 240]\n"
		"	mov rsp, " STR(DIFF_CTX) "\n"
	"	pop rax\n	pop rcx\n	pop rdx\n	pop rbx\n	lea rsp, [rsp + 8]\n"
	"	pop rbp\n	pop rsi\n	pop rdi\n	pop r8\n	pop r9\n	pop r10\n	pop r11\n"
	"	pop r12\n	pop r13\n	pop r14\n	pop r15\n"
	"	popfq\n"
	"	mov rsp, qword ptr [" STR(DIFF_CTX) " + 0x20]\n"
	"	jmp qword ptr [" STR(DIFF_CTX) " + " STR(CTX_ENTRY) "]\n"
	".size diff_native_enter, . - diff_native_enter\n"
	".globl diff_native_exit\n"
	".type diff_native_exit, @function\n"
	"diff_native_exit:\n"
	"	mov qword ptr [" STR(DIFF_CTX) " + " STR(CTX_OUT_RSP) "], rsp\n"
	"	mov rsp, " STR(DIFF_CTX) " + " STR(CTX_OUT_TOP) "\n"
	"	pushfq\n"
	"	push r15\n	push r14\n	push r13\n	push r12\n	push r11\n	push r10\n	push r9\n"
	"	push r8\n	push rdi\n	push rsi\n	push rbp\n	push rbp\n	push rbx\n	push rdx\n"
	"	push rcx\n	push rax\n"
	"	mov rsp, qword ptr [" STR(DIFF_CTX) " + " STR(CTX_HOST_RSP) "]\n"
	"	push 0x202\n	popfq\n"
	"	pop r15\n	pop r14\n	pop r13\n	pop r12\n	pop rbp\n	pop rbx\n"
	"	ret\n"
	".size diff_native_exit, . - diff_native_exit\n"
	"diff_native_end:\n"
	".globl diff_native_end\n"
	".att_syntax prefix\n");

/* The signal handler needs these; they live only in this test program. */
static sigjmp_buf run_jmp;
static struct diff_state *run_out;
static volatile sig_atomic_t in_test;

static uint64_t *ctx_q(unsigned off)
{
	return (uint64_t *)(uintptr_t)(DIFF_CTX + off);
}

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	/* The sequence may have set EFLAGS.AC; the kernel keeps it. */
	__asm__ volatile("pushfq; andq $~0x40000, (%%rsp); popfq" ::: "memory", "cc");
	const ucontext_t *uc = ucv;
	const greg_t *g = uc->uc_mcontext.gregs;
	uint64_t rip = (uint64_t)g[REG_RIP];
	/* The sequence may jump anywhere (a bad RET or indirect jump faults
	 * at its target); only the trampoline and the host must not fault. */
	bool in_trampoline = rip >= (uint64_t)(uintptr_t)diff_native_enter && rip < (uint64_t)(uintptr_t)diff_native_end;
	if (!in_test || in_trampoline) {
		char msg[96];
		int n = snprintf(msg, sizeof(msg), "difftest: host signal %d at %#llx, outside the test code\n", sig,
				 (unsigned long long)rip);
		(void)!write(2, msg, (size_t)n);
		signal(sig, SIG_DFL);
		return;     /* re-raised with the default action */
	}
	static const int order[16] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
				       REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15 };
	for (int k = 0; k < 16; k++)
		run_out->gpr[k] = (uint64_t)g[order[k]];
	run_out->rflags = (uint64_t)g[REG_EFL];
	run_out->rip = rip;
	run_out->vector = (int)g[REG_TRAPNO];
	run_out->error = (uint32_t)g[REG_ERR];
	run_out->cr2 = (uint64_t)g[REG_CR2];
	(void)si;
	siglongjmp(run_jmp, 1);
}

static bool map_fixed(uint64_t addr, size_t len, int prot)
{
	void *p = mmap((void *)(uintptr_t)addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED || p != (void *)(uintptr_t)addr) {
		fprintf(stderr, "difftest: cannot map %#llx (+%#zx) in this process: %m\n", (unsigned long long)addr,
			len);
		return false;
	}
	return true;
}

bool native_init(void)
{
	if (!map_fixed(DIFF_DATA, DIFF_RW_SIZE, PROT_READ | PROT_WRITE) ||
	    !map_fixed(DIFF_RO, 0x1000, PROT_READ | PROT_WRITE) ||
	    !map_fixed(DIFF_CODE, DIFF_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC) ||
	    !map_fixed(DIFF_CTX, 0x1000, PROT_READ | PROT_WRITE))
		return false;
	/* The read-only page holds a fixed pattern. */
	uint8_t *ro = (uint8_t *)(uintptr_t)DIFF_RO;
	for (unsigned k = 0; k < 0x1000; k++)
		ro[k] = (uint8_t)(k * 37 + 11);
	if (mprotect(ro, 0x1000, PROT_READ) != 0)
		return false;
	*ctx_q(CTX_ENTRY) = DIFF_CODE;
	*(uint32_t *)(uintptr_t)(DIFF_CTX + CTX_MXCSR) = DIFF_MXCSR;
	for (unsigned k = 0; k < 256; k++)
		*(uint8_t *)(uintptr_t)(DIFF_CTX + CTX_XMM + k) = diff_xmm_byte(k);
	*ctx_q(CTX_EXIT) = (uint64_t)(uintptr_t)diff_native_exit;

	static char altstack[256 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	/* SA_NODEFER: the handler leaves by siglongjmp without restoring a
	 * signal mask, so the mask must not change (and sigsetjmp need not
	 * save it: one system call less per run). */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaltstack(&ss, NULL) != 0)
		return false;
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };
	for (unsigned k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
		if (sigaction(sigs[k], &sa, NULL) != 0)
			return false;
	return true;
}

uint8_t *native_code(void)
{
	return (uint8_t *)(uintptr_t)DIFF_CODE;
}

uint8_t *native_data(void)
{
	return (uint8_t *)(uintptr_t)DIFF_DATA;
}

/* JMP qword [DIFF_CTX + CTX_EXIT] (FF /4, SIB with no base: disp32). */
unsigned native_write_tail(uint8_t *p)
{
	uint32_t a = (uint32_t)(DIFF_CTX + CTX_EXIT);
	p[0] = 0xff;
	p[1] = 0x24;
	p[2] = 0x25;
	memcpy(p + 3, &a, 4);
	return 7;
}

void native_run(const struct diff_state *in, struct diff_state *out)
{
	memcpy(ctx_q(CTX_IN), in->gpr, sizeof(in->gpr));
	*ctx_q(CTX_IN + 0x80) = in->rflags;
	run_out = out;
	if (sigsetjmp(run_jmp, 0) == 0) {
		in_test = 1;
		diff_native_enter();
		in_test = 0;
		memcpy(out->gpr, ctx_q(CTX_OUT), sizeof(out->gpr));
		out->gpr[4] = *ctx_q(CTX_OUT_RSP);
		out->rflags = *ctx_q(CTX_OUT + 0x80);
		out->vector = -1;
		out->error = 0;
		out->cr2 = 0;
		out->rip = 0;   /* the runner fills in the end address */
	}
	in_test = 0;
}

/* CPUID leaf, subleaf and register for each enum cpuid_word. */
bool native_has(unsigned feat)
{
	static const struct { unsigned leaf, sub, reg; } words[] = {
		[CPUID_1_ECX] = { 1, 0, 2 }, [CPUID_1_EDX] = { 1, 0, 3 }, [CPUID_7_EBX] = { 7, 0, 1 },
		[CPUID_7_ECX] = { 7, 0, 2 }, [CPUID_7_EDX] = { 7, 0, 3 }, [CPUID_81_ECX] = { 0x80000001, 0, 2 },
		[CPUID_81_EDX] = { 0x80000001, 0, 3 },
	};
	unsigned w = feat >> 5;
	if (w >= sizeof(words) / sizeof(words[0]))
		return false;
	unsigned r[4];
	if (!__get_cpuid_count(words[w].leaf, words[w].sub, &r[0], &r[1], &r[2], &r[3]))
		return false;
	if (!((r[words[w].reg] >> (feat & 31)) & 1))
		return false;
	/* Features the OS must also turn on for user code: CR4.OSXSAVE (seen
	 * as CPUID.1:ECX.OSXSAVE) and CR4.FSGSBASE (Linux 5.9+ says so in
	 * AT_HWCAP2 bit 1); without them the host faults where vtxsim, set up
	 * like a current Linux, would not. */
	if (feat == FEAT_XSAVE)
		return native_has(FEAT_OSXSAVE);
	if (feat == FEAT_FSGSBASE)
		return (getauxval(AT_HWCAP2) & 2) != 0;
	return true;
}

uint64_t native_xcr0(void)
{
	if (!native_has(FEAT_OSXSAVE))
		return 0;
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

static uint64_t arch_get(int code)
{
	unsigned long v = 0;
	if (syscall(SYS_arch_prctl, code, &v) != 0)
		return 0;
	return v;
}

uint64_t native_fs_base(void)
{
	return arch_get(ARCH_GET_FS);
}

uint64_t native_gs_base(void)
{
	return arch_get(ARCH_GET_GS);
}
