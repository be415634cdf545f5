/* System instructions: control and debug registers (SDM vol. 3A 2.5, 2.6,
 * 4.10.4; vol. 2 MOV CR, MOV DR), CLTS/LMSW/SMSW, INVLPG, INVD/WBINVD,
 * SWAPGS, CLI/STI, CPUID, RDMSR/WRMSR, RDTSC/RDTSCP/RDPID, RDRAND/RDSEED,
 * fences, PAUSE, CLFLUSH, FWAIT.
 */
#include "cpu/cpuid.h"
#include "cpu/debug.h"
#include "cpu/msr.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"
#include "cpu/seg.h"

/* ---- control registers ---- */

#define CR0_WRITABLE (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | \
		      CR0_CD | CR0_PG)
#define CR4_ALWAYS 0xffffu      /* table sentinel: no CPUID feature needed */

/* Which CR4 bits exist, by the CPUID feature that reports them (SDM 2.5). */
static const struct { uint64_t bit; unsigned feat; } cr4_bits[] = {
	{ CR4_VME, FEAT_VME }, { CR4_PVI, FEAT_VME }, { CR4_TSD, FEAT_TSC }, { CR4_DE, FEAT_DE },
	{ CR4_PSE, FEAT_PSE }, { CR4_PAE, FEAT_PAE }, { CR4_MCE, FEAT_MCE }, { CR4_PGE, FEAT_PGE },
	{ CR4_PCE, CR4_ALWAYS }, { CR4_OSFXSR, FEAT_FXSR }, { CR4_OSXMMEXCPT, FEAT_SSE },
	{ CR4_UMIP, FEAT_UMIP }, { CR4_LA57, FEAT_LA57 }, { CR4_VMXE, FEAT_VMX },
	{ CR4_FSGSBASE, FEAT_FSGSBASE }, { CR4_PCIDE, FEAT_PCID }, { CR4_OSXSAVE, FEAT_XSAVE },
	{ CR4_SMEP, FEAT_SMEP }, { CR4_SMAP, FEAT_SMAP }, { CR4_PKE, FEAT_PKU },
};

static uint64_t cr4_valid(const struct cpu *c)
{
	uint64_t ok = 0;
	for (unsigned k = 0; k < sizeof(cr4_bits) / sizeof(cr4_bits[0]); k++)
		if (cr4_bits[k].feat == CR4_ALWAYS || cpu_has(c, cr4_bits[k].feat))
			ok |= cr4_bits[k].bit;
	return ok;
}

/* Reserved bits 31:0 other than the flags are ignored and ET reads 1;
 * bits 63:32 must be 0; PG needs PE; NW needs CD; 64-bit mode cannot turn
 * paging off, nor can PCIDE=1; turning paging on with EFER.LME needs PAE
 * and activates IA-32e mode (vol. 2 MOV CR; 2.5; 9.8.5). A PG, PE or WP
 * change flushes the TLB (4.10.4.1; WP is part of cached permissions). */
static bool write_cr0(struct cpu *c, uint64_t v)
{
	if (v >> 32)
		return false;
	v = (v & CR0_WRITABLE) | CR0_ET;
	if (((v & CR0_PG) && !(v & CR0_PE)) || ((v & CR0_NW) && !(v & CR0_CD)))
		return false;
	bool pg_on = (v & CR0_PG) && !(c->cr0 & CR0_PG), pg_off = !(v & CR0_PG) && (c->cr0 & CR0_PG);
	if (pg_off && (c->code64 || (c->cr4 & CR4_PCIDE)))
		return false;
	if (pg_on && (c->efer & EFER_LME) && !(c->cr4 & CR4_PAE))
		return false;
	if (pg_on && (c->efer & EFER_LME))
		c->efer |= EFER_LMA;
	if (pg_off)
		c->efer &= ~EFER_LMA;
	if ((v ^ c->cr0) & (CR0_PG | CR0_PE | CR0_WP))
		tlb_flush_all(&c->tlb);
	c->cr0 = v;
	cpu_mode_changed(c);
	return true;
}

/* In IA-32e mode bits above MAXPHYADDR are reserved; with CR4.PCIDE, bit 63
 * asks not to invalidate the PCID's translations and is not stored
 * (4.10.4.1). Every other write flushes, even of the same value. The
 * software TLB has no PCID tags: cpu_mode_changed flushes whenever CR3
 * changes, which the architecture allows (4.10.4). */
static bool write_cr3(struct cpu *c, uint64_t v)
{
	bool keep = false;
	if (c->cr4 & CR4_PCIDE) {
		keep = v >> 63;
		v &= ~(1ull << 63);
	}
	if (cpu_lma(c) && (v >> c->model->phys_addr_bits))
		return false;
	if (!keep)
		tlb_flush_all(&c->tlb);
	c->cr3 = v;
	cpu_mode_changed(c);
	return true;
}

/* Bits of features the model lacks are reserved; PAE cannot be cleared in
 * IA-32e mode; PCIDE can be set only in IA-32e mode with CR3[11:0] = 0
 * (vol. 2 MOV CR). Paging-structure-relevant changes flush (4.10.4.1). */
static bool write_cr4(struct cpu *c, uint64_t v)
{
	uint64_t changed = v ^ c->cr4;
	if (v & ~cr4_valid(c))
		return false;
	if (cpu_lma(c) && !(v & CR4_PAE))
		return false;
	if ((changed & v & CR4_PCIDE) && (!cpu_lma(c) || (c->cr3 & 0xfff)))
		return false;
	if (changed & (CR4_PGE | CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP | CR4_PCIDE | CR4_PKE))
		tlb_flush_all(&c->tlb);
	c->cr4 = v;
	cpu_mode_changed(c);
	return true;
}

static bool cr_valid(const struct cpu *c, unsigned n)
{
	return n == 0 || n == 2 || n == 3 || n == 4 || (n == 8 && c->code64);
}

enum exec_status op_mov_Rd_Cd(struct cpu *c, const struct insn *i)
{
	static const uint8_t slot[9] = { 0, 0, 1, 2, 3, 0, 0, 0, 4 };
	if ((i->flags & IF_LOCK) || !cr_valid(c, i->reg))
		return cpu_ud(c);
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	uint64_t v[5] = { c->cr0, c->cr2, c->cr3, c->cr4, c->cr8 };
	reg_write(c, i->rm, i->osz, v[slot[i->reg]]);
	return EXEC_OK;
}

enum exec_status op_mov_Cd_Rd(struct cpu *c, const struct insn *i)
{
	if ((i->flags & IF_LOCK) || !cr_valid(c, i->reg))
		return cpu_ud(c);
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	uint64_t v = reg_read(c, i->rm, i->osz);
	bool ok = true;
	switch (i->reg) {
	case 0: ok = write_cr0(c, v); break;
	case 2: c->cr2 = v; break;
	case 3: ok = write_cr3(c, v); break;
	case 4: ok = write_cr4(c, v); break;
	default: ok = (v & ~0xfull) == 0; if (ok) c->cr8 = v; break;  /* TPR: bits 3:0 */
	}
	return ok ? EXEC_OK : cpu_gp0(c);
}

enum exec_status op_clts(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	c->cr0 &= ~CR0_TS;
	return EXEC_OK;
}

/* LMSW loads PE, MP, EM and TS; it can set PE but not clear it (vol. 2 LMSW). */
enum exec_status op_lmsw_Ew(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	if (!rm_read_sz(c, i, SZ16, &v))
		return EXEC_FAULT;
	uint64_t old = c->cr0;
	c->cr0 = (old & ~0xeull) | (v & 0xe) | ((old | v) & CR0_PE);
	if ((old ^ c->cr0) & CR0_PE)
		cpu_mode_changed(c);
	return EXEC_OK;
}

/* SMSW: a register gets CR0 at the operand size, memory its low 16 bits. */
enum exec_status op_smsw_Ew(struct cpu *c, const struct insn *i)
{
	if (i->flags & IF_MOD3) {
		reg_write(c, i->rm, i->osz, c->cr0);
		return EXEC_OK;
	}
	return mem_write_seg(c, i->seg, insn_ea(c, i), 2, c->cr0 & 0xffff) ? EXEC_OK : EXEC_FAULT;
}

/* ---- debug registers (SDM 17.2) ---- */

/* MOV DR (vol. 2): DR8-DR15 do not exist (#UD); CPL > 0 is #GP(0); DR4/DR5
 * alias DR6/DR7 unless CR4.DE, then #UD (17.2.2); DR7.GD turns any access
 * into a #DB fault with DR6.BD (17.2.4). */
static enum exec_status dr_check(struct cpu *c, unsigned reg, unsigned *n)
{
	if (reg > 7)
		return cpu_ud(c);
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	if ((reg == 4 || reg == 5) && (c->cr4 & CR4_DE))
		return cpu_ud(c);
	if (c->dr[7] & DR7_GD)
		return cpu_debug_gd_fault(c);
	*n = reg == 4 || reg == 5 ? reg + 2 : reg;
	return EXEC_OK;
}

enum exec_status op_mov_Rd_Dd(struct cpu *c, const struct insn *i)
{
	unsigned n = 0;
	if (dr_check(c, i->reg, &n) != EXEC_OK)
		return EXEC_FAULT;
	reg_write(c, i->rm, i->osz, c->dr[n]);
	return EXEC_OK;
}

/* DR6: bits 4-11 and 16-31 read 1, bit 12 reads 0; DR7: bit 10 reads 1,
 * bits 11, 12, 14, 15 read 0 (17.2.3, 17.2.4; no RTM or bus-lock
 * detection). In 64-bit mode bits 63:32 of DR6/DR7 must be 0 (vol. 2 MOV
 * DR). A DR7 write changes which accesses are checked (cpu/debug.c); the
 * instruction ends its decoded block, so the next one sees it. */
enum exec_status op_mov_Dd_Rd(struct cpu *c, const struct insn *i)
{
	unsigned n = 0;
	if (dr_check(c, i->reg, &n) != EXEC_OK)
		return EXEC_FAULT;
	uint64_t v = reg_read(c, i->rm, i->osz);
	if (n >= 6 && (v >> 32))
		return cpu_gp0(c);
	if (n == 6)
		v = (v & DR6_WRITABLE) | DR6_FIXED1;
	else if (n == 7)
		v = (v & DR7_WRITABLE) | DR7_FIXED1;
	c->dr[n] = v;
	if (n == 7)
		cpu_debug_update(c);
	return EXEC_OK;
}

/* ---- TLB and cache control ---- */

enum exec_status op_invlpg_M(struct cpu *c, const struct insn *i)
{
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	uint64_t ea = insn_ea(c, i), la;
	if (c->code64)
		la = ea + (i->seg >= SEG_FS ? c->seg[i->seg].base : 0);
	else
		la = (c->seg[i->seg].base + ea) & 0xffffffffull;
	tlb_flush_page(&c->tlb, la);
	return EXEC_OK;
}

enum exec_status op_invd(struct cpu *c, const struct insn *i)
{
	(void)i;
	return cpu_supervisor(c) ? EXEC_OK : cpu_gp0(c);
}

enum exec_status op_wbinvd(struct cpu *c, const struct insn *i)
{
	(void)i;
	return cpu_supervisor(c) ? EXEC_OK : cpu_gp0(c);
}

/* CLFLUSH faults like a byte read of its operand but reads nothing (an MMIO
 * register must not see a read). */
enum exec_status op_clflush_Mb(struct cpu *c, const struct insn *i)
{
	uint64_t la, pa;
	struct xlate_fault f;
	if (!cpu_has(c, FEAT_CLFSH))
		return cpu_ud(c);
	if (!seg_linear(c, i->seg, insn_ea(c, i), 1, ACC_READ, &la))
		return EXEC_FAULT;
	struct mem_view mv = cpu_view(c);
	if (!mem_translate(&mv, la, c->user ? ACC_USER : 0, &pa, &f)) {
		cpu_page_fault(c, &f);
		return EXEC_FAULT;
	}
	return EXEC_OK;
}

enum exec_status op_fence(struct cpu *c, const struct insn *i)
{
	(void)c;
	(void)i;
	return EXEC_OK;
}

enum exec_status op_pause(struct cpu *c, const struct insn *i)
{
	(void)c;
	(void)i;
	return EXEC_OK;
}

/* WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set (SDM 2.5, Table 2-2).
 * There is no x87 state yet, so no pending x87 exception to report. */
enum exec_status op_fwait(struct cpu *c, const struct insn *i)
{
	(void)i;
	if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
		return cpu_fault(c, VEC_NM, false, 0);
	return EXEC_OK;
}

/* ---- interrupt flag ---- */

/* Without VME/PVI (never reported, so CR4 refuses them): protected mode
 * needs CPL <= IOPL, virtual-8086 mode IOPL = 3 (vol. 2 CLI, STI). */
static bool if_writable(const struct cpu *c)
{
	unsigned iopl = (unsigned)((c->rflags & FL_IOPL) >> 12);
	if (!(c->cr0 & CR0_PE))
		return true;
	if (c->rflags & FL_VM)
		return iopl == 3;
	return c->cpl <= iopl;
}

enum exec_status op_cli(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (!if_writable(c))
		return cpu_gp0(c);
	c->rflags &= ~(uint64_t)FL_IF;
	return EXEC_OK;
}

/* STI delays interrupts by one instruction only when it sets IF (6.8.3). */
enum exec_status op_sti(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (!if_writable(c))
		return cpu_gp0(c);
	if (!(c->rflags & FL_IF)) {
		c->rflags |= FL_IF;
		c->sti_shadow = true;
	}
	return EXEC_OK;
}

/* ---- SWAPGS, CPUID, MSRs ---- */

enum exec_status op_swapgs(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (c->cpl != 0)
		return cpu_gp0(c);
	uint64_t t = c->seg[SEG_GS].base;
	c->seg[SEG_GS].base = c->msr.kernel_gs_base;
	c->msr.kernel_gs_base = t;
	return EXEC_OK;
}

static void write_edx_eax(struct cpu *c, uint64_t v)
{
	reg_write(c, R_AX, SZ32, (uint32_t)v);
	reg_write(c, R_DX, SZ32, v >> 32);
}

enum exec_status op_cpuid(struct cpu *c, const struct insn *i)
{
	uint32_t r[4];
	(void)i;
	cpu_cpuid(c, (uint32_t)c->gpr[R_AX], (uint32_t)c->gpr[R_CX], r);
	reg_write(c, R_AX, SZ32, r[0]);
	reg_write(c, R_BX, SZ32, r[1]);
	reg_write(c, R_CX, SZ32, r[2]);
	reg_write(c, R_DX, SZ32, r[3]);
	return EXEC_OK;
}

enum exec_status op_rdmsr(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	(void)i;
	if (!cpu_supervisor(c) || !cpu_msr_read(c, (uint32_t)c->gpr[R_CX], &v))
		return cpu_gp0(c);
	write_edx_eax(c, v);
	return EXEC_OK;
}

enum exec_status op_wrmsr(struct cpu *c, const struct insn *i)
{
	(void)i;
	uint64_t v = (c->gpr[R_DX] << 32) | (uint32_t)c->gpr[R_AX];
	if (!cpu_supervisor(c) || !cpu_msr_write(c, (uint32_t)c->gpr[R_CX], v))
		return cpu_gp0(c);
	return EXEC_OK;
}

/* ---- time stamp counter and random numbers ---- */

/* CR4.TSD restricts RDTSC/RDTSCP to CPL 0 (vol. 2 RDTSC). */
static bool tsc_readable(const struct cpu *c)
{
	return !(c->cr4 & CR4_TSD) || cpu_supervisor(c);
}

enum exec_status op_rdtsc(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (!tsc_readable(c))
		return cpu_gp0(c);
	write_edx_eax(c, c->cycles + c->tsc_offset);
	return EXEC_OK;
}

enum exec_status op_rdtscp(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (!cpu_has(c, FEAT_RDTSCP))
		return cpu_ud(c);
	if (!tsc_readable(c))
		return cpu_gp0(c);
	write_edx_eax(c, c->cycles + c->tsc_offset);
	reg_write(c, R_CX, SZ32, (uint32_t)c->msr.tsc_aux);
	return EXEC_OK;
}

/* RDPID writes IA32_TSC_AUX to r64 in 64-bit mode, r32 elsewhere. */
enum exec_status op_rdpid_Rq(struct cpu *c, const struct insn *i)
{
	if (!cpu_has(c, FEAT_RDPID))
		return cpu_ud(c);
	reg_write(c, i->rm, c->code64 ? SZ64 : SZ32, (uint32_t)c->msr.tsc_aux);
	return EXEC_OK;
}

/* SplitMix64 over c->rng_state: deterministic, seeded by the machine. */
static uint64_t rng_next(struct cpu *c)
{
	uint64_t z = (c->rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A random value is always available: CF = 1, OF/SF/ZF/AF/PF = 0 (vol. 2
 * RDRAND, RDSEED). */
static enum exec_status rand_insn(struct cpu *c, const struct insn *i, unsigned feat)
{
	if (!cpu_has(c, feat))
		return cpu_ud(c);
	reg_write(c, i->rm, i->osz, rng_next(c));
	lf_set_flags(c, FL_CF);
	return EXEC_OK;
}

enum exec_status op_rdrand_Rv(struct cpu *c, const struct insn *i)
{
	return rand_insn(c, i, FEAT_RDRAND);
}

enum exec_status op_rdseed_Rv(struct cpu *c, const struct insn *i)
{
	return rand_insn(c, i, FEAT_RDSEED);
}
