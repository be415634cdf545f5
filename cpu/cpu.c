/* Processor state: power-on/reset values, the multiboot entry state, RFLAGS
 * and the caches derived from the mode. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/cpuid.h"
#include "cpu/debug.h"
#include "cpu/flags.h"
#include "cpu/icache.h"
#include "cpu/model.h"

void cpu_init(struct cpu *c, int id, const struct cpu_model *model, struct phys_map *phys, struct pio_bus *pio,
	      struct icache *ic)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->ncpus = 1;
	c->model = model;
	c->phys = phys;
	c->pio = pio;
	c->icache = ic;
	c->rng_state = 0x853c49e6748fea9bull ^ (uint64_t)id;
	c->apic_page.page = UINT64_MAX;
	c->apic_access.page = UINT64_MAX;
	tlb_flush_all(&c->tlb);
	if (ic)
		icache_attach_cpu(ic, c);
	cpu_reset(c);
}

static void seg_set(struct segment *s, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
	s->sel = sel;
	s->base = base;
	s->limit = limit;
	s->ar = ar;
}

/* Power-up state, SDM vol. 3A 10.1.1 Table 10-1: real mode at F000:FFF0
 * with CS.base FFFF0000, EDX = processor signature. */
void cpu_reset(struct cpu *c)
{
	uint64_t rng = c->rng_state;
	memset(c->gpr, 0, sizeof(c->gpr));
	c->rip = 0xfff0;
	c->rflags = FL_FIXED1;
	c->lf.op = LF_NONE;
	for (int s = 0; s < 6; s++)
		seg_set(&c->seg[s], 0, 0, 0xffff, AR_P | AR_S | 0x3);   /* data, RW, accessed */
	seg_set(&c->seg[SEG_CS], 0xf000, 0xffff0000ull, 0xffff, AR_P | AR_S | 0xb);
	seg_set(&c->ldtr, 0, 0, 0xffff, AR_P | 0x2);
	seg_set(&c->tr, 0, 0, 0xffff, AR_P | 0xb);
	c->gdtr = (struct dtable){ 0, 0xffff };
	c->idtr = (struct dtable){ 0, 0xffff };
	c->cr0 = CR0_ET | CR0_CD | CR0_NW;
	c->cr2 = c->cr3 = c->cr4 = c->cr8 = c->efer = 0;
	c->xcr0 = 1;
	c->pkru = 0;
	memset(c->pdpte, 0, sizeof(c->pdpte));
	memset(c->dr, 0, sizeof(c->dr));
	c->dr[6] = 0xffff0ff0;
	c->dr[7] = 0x400;
	c->pending_dbg = 0;
	c->gpr[R_DX] = c->model ? c->model->signature : 0;
	c->sti_shadow = c->mov_ss_shadow = false;
	c->halted = c->shutdown = false;
	c->monitor_armed = false;
	c->nmi_pending = c->nmi_blocked = false;
	c->init_pending = c->wait_sipi = false;
	c->sipi_vector = -1;
	c->delivering = 0;
	c->tsc_offset = 0;
	c->rng_state = rng;
	cpu_msr_reset(c);
	vmx_reset(c);
	ept_cache_flush_all(&c->ept_cache);     /* power-up and reset invalidate every mapping (SDM vol. 3C 29.4.3.1) */
	cpu_fpu_reset(c);
	cpu_mode_changed(c);
}

/* INIT (SDM vol. 3A 9.1, Table 9-1 "following INIT"): like a reset, but the
 * caches, MSRs, MTRRs, x87/SSE/AVX state (and XCR0 and PKRU with it) and the
 * TSC are left unchanged, and CR0.CD/NW keep their values. EFER is cleared:
 * the processor is in real mode afterwards, so LME/LMA cannot stay set
 * (vtxsim's choice where Table 9-1 is silent; KVM does the same). The INTR
 * line is the APIC's and stays as it is. */
void cpu_init_state(struct cpu *c)
{
	struct cpu_msrs msr = c->msr;
	struct fpu_state fpu = c->fpu;
	uint64_t xcr0 = c->xcr0, tsc_offset = c->tsc_offset, cd_nw = c->cr0 & (CR0_CD | CR0_NW);
	uint32_t pkru = c->pkru;
	bool intr = c->intr_req;

	cpu_reset(c);
	c->msr = msr;
	c->fpu = fpu;
	c->xcr0 = xcr0;
	c->tsc_offset = tsc_offset;
	c->pkru = pkru;
	c->intr_req = intr;
	c->cr0 = CR0_ET | cd_nw;
	c->efer = 0;
	tlb_flush_all(&c->tlb);
	cpu_mode_changed(c);
}

void cpu_set_a20(struct cpu *c, bool enabled)
{
	if (c->a20_masked == !enabled)
		return;
	c->a20_masked = !enabled;
	cpu_mode_changed(c);            /* flushes the TLB: cached translations carry bit 20 */
	cpu_end_block(c);
}

void cpu_signal_init(struct cpu *c)
{
	c->init_pending = true;
	cpu_end_block(c);
}

void cpu_signal_sipi(struct cpu *c, uint8_t vector)
{
	c->sipi_vector = vector;
	cpu_end_block(c);
}

/* Multiboot 1 machine state (Multiboot Specification 0.6.96, 3.2): 32-bit
 * flat code and data segments, paging off, A20 on, IF clear. */
void cpu_set_multiboot_state(struct cpu *c, uint32_t eip, uint32_t eax, uint32_t ebx)
{
	uint32_t data = AR_P | AR_S | AR_DB | AR_G | 0x3;
	for (int s = 0; s < 6; s++)
		seg_set(&c->seg[s], 0x10, 0, 0xffffffff, data);
	seg_set(&c->seg[SEG_CS], 0x08, 0, 0xffffffff, AR_P | AR_S | AR_DB | AR_G | 0xb);
	c->cr0 = (c->cr0 | CR0_PE) & ~(CR0_PG | CR0_CD | CR0_NW);
	c->rflags = FL_FIXED1;
	c->lf.op = LF_NONE;
	c->rip = eip;
	c->gpr[R_AX] = eax;
	c->gpr[R_BX] = ebx;
	c->halted = c->shutdown = false;
	cpu_mode_changed(c);
}

void cpu_set_rflags(struct cpu *c, uint64_t v)
{
	c->rflags = (v & 0x3f7fd7ull) | FL_FIXED1;
	c->lf.op = LF_NONE;
	/* SMAP decisions depend on AC: they live in their own TLB class. */
	bool ac_changed = c->xc.rflags_ac != (v & FL_AC);
	c->xc.rflags_ac = v & FL_AC;
	c->tlb_class = (uint8_t)mem_tlb_class(c->user, &c->xc);
	if (ac_changed)
		cpu_debug_update(c);      /* alignment checking depends on AC */
	/* POPF, IRET... setting IF with INTR up: recognise it after this
	 * instruction, not at the end of the block. */
	if ((v & FL_IF) && c->intr_req)
		cpu_end_block(c);
}

/* Paging features of the model that the walks need (mem/paging.h XF_*). */
static uint8_t xlate_features(const struct cpu *c)
{
	if (!c->model)
		return XF_PSE36;
	return (uint8_t)((cpu_has(c, FEAT_PAGE1GB) ? XF_PAGE1GB : 0) | (cpu_has(c, FEAT_PSE36) ? XF_PSE36 : 0));
}

/* Recompute what depends on CR0/CR4/EFER/CS/CPL; true when anything that
 * paging decisions depend on changed. */
static bool mode_update(struct cpu *c)
{
	struct xlate_ctx x = {
		.cr0 = c->cr0, .cr3 = c->cr3, .cr4 = c->cr4, .efer = c->efer,
		.rflags_ac = c->rflags & FL_AC, .pkru = c->pkru, .cpl = c->cpl,
		.maxphyaddr = c->model ? c->model->phys_addr_bits : 36,
		.features = xlate_features(c),
		.pdpte = { c->pdpte[0], c->pdpte[1], c->pdpte[2], c->pdpte[3] },
		.a20_masked = c->a20_masked && !c->vmx.on,   /* VMXON disables A20M (SDM vol. 3C 23.7) */
		.eptp = c->vmx.eptp, .ept_flags = c->vmx.ept_flags, .ept = &c->ept_cache,      /* vmx/ept.c */
		.pml_addr = c->vmx.pml_addr, .pml_index_pa = c->vmx.pml_index_pa,
		.gpa_trap = &c->apic_access,    /* vmx/apicv.c: page UINT64_MAX outside non-root */
	};
	if (!(c->cr0 & CR0_PE))
		c->cpl = 0;
	else if (c->rflags & FL_VM)
		c->cpl = 3;
	x.cpl = c->cpl;
	c->code64 = (c->efer & EFER_LMA) && (c->seg[SEG_CS].ar & AR_L);
	c->user = c->cpl == 3;
	bool paging_changed = x.cr0 != c->xc.cr0 || x.cr3 != c->xc.cr3 || x.cr4 != c->xc.cr4 ||
			      x.efer != c->xc.efer || x.maxphyaddr != c->xc.maxphyaddr || x.eptp != c->xc.eptp ||
			      x.ept_flags != c->xc.ept_flags ||
			      x.pkru != c->xc.pkru || x.a20_masked != c->xc.a20_masked ||
			      ((x.pdpte[0] ^ c->xc.pdpte[0]) | (x.pdpte[1] ^ c->xc.pdpte[1]) |
			       (x.pdpte[2] ^ c->xc.pdpte[2]) | (x.pdpte[3] ^ c->xc.pdpte[3])) != 0;
	c->xc = x;
	c->tlb_class = (uint8_t)mem_tlb_class(c->user, &c->xc);
	return paging_changed;
}

static uint16_t current_pcid(const struct cpu *c)
{
	return (c->cr4 & CR4_PCIDE) ? (uint16_t)(c->cr3 & 0xfff) : 0;
}

/* The TLB entries of the current VPID are flushed when anything that
 * paging decisions depend on changed. */
void cpu_mode_changed(struct cpu *c)
{
	if (mode_update(c)) {
		tlb_flush_current(&c->tlb);
		c->tlb.pcid = current_pcid(c);
	}
	c->tlb.perm = tlb_perm_key(&c->xc);
	cpu_debug_update(c);
}

void cpu_mode_switched(struct cpu *c, uint16_t vpid, uint64_t ept)
{
	mode_update(c);
	tlb_switch(&c->tlb, vpid, ept, current_pcid(c), tlb_perm_key(&c->xc));
	cpu_debug_update(c);
}

void cpu_warn(struct cpu *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	if (!c->warn || c->warnings++ >= CPU_WARN_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->warn(c->warn_ctx, msg);
}

void cpu_vwarn_site(struct cpu *c, uint32_t *count, uint32_t budget, const char *fmt, va_list ap)
{
	static const char tail[] = " [further repeats are not shown]";
	char msg[512];
	uint32_t n = *count;
	if (n != UINT32_MAX)
		*count = n + 1;
	if (!c->warn || n >= budget)
		return;
	vsnprintf(msg, sizeof(msg) - sizeof(tail), fmt, ap);
	if (n + 1 == budget)
		strcat(msg, tail);
	c->warn(c->warn_ctx, msg);
}
