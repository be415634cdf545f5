/* The debug API's access to registers, memory and the VMCS
 * (sim/debug_api.h), and the code addresses breakpoints need
 * (sim/debug_mem.h). */
#include <string.h>
#include <strings.h>

#include "cpu/debug.h"
#include "cpu/decode.h"
#include "cpu/operand.h"
#include "mem/access.h"
#include "sim/debug_api.h"
#include "sim/debug_mem.h"
#include "sim/machine.h"
#include "vmx/vmcs.h"

static struct cpu *cpu_rw(struct dbg *d, int i)
{
	return i >= 0 && i < dbg_ncpus(d) ? &dbg_machine(d)->cpus[i] : NULL;
}

uint64_t dbg_rip_linear(const struct cpu *c)
{
	if (c->code64)
		return c->rip;
	return (c->seg[SEG_CS].base + c->rip) & 0xffffffffull;
}

/* The fetch's own translation (cpu/exec.c fetch_pa): same access, same
 * side effects, which the fetch right after would have anyway. */
static bool code_pa(struct cpu *c, uint64_t la, uint64_t *pa)
{
	struct mem_view mv = cpu_view(c);
	struct xlate_fault f;
	return mem_translate(&mv, la, ACC_EXEC | (c->user ? ACC_USER : 0), pa, &f);
}

bool dbg_code_addrs(struct dbg *d, int cpu, uint64_t la, struct dbg_addrs *a)
{
	struct cpu *c = cpu_rw(d, cpu);
	*a = (struct dbg_addrs){ 0 };
	if (!c || !code_pa(c, la, &a->pa))
		return false;
	a->pa_ok = true;
	/* Without EPT the guest-physical address is the physical one; under
	 * EPT it is what the guest's paging made of la, from the read-only
	 * walk (mem/walkview.c), which the fetch's own walk just validated. */
	a->gpa = a->pa;
	a->gpa_ok = !c->xc.eptp;
	if (c->xc.eptp) {
		struct wv_walk w;
		a->gpa_ok = wv_translate(c->phys, &c->xc, la, &w);
		a->gpa = w.gpa;
	}
	return true;
}

size_t dbg_read_code(struct dbg *d, int cpu, uint64_t la, uint8_t *buf, size_t n)
{
	struct cpu *c = cpu_rw(d, cpu);
	size_t got = 0;
	if (!c)
		return 0;
	/* The rest of this page; the next page only when the instruction can
	 * reach it (the decoder asks for more only then: the caller retries). */
	while (got < n) {
		uint64_t pa, at = la + got;
		if (!code_pa(c, at, &pa))
			break;
		size_t chunk = PAGE_SIZE - (at & (PAGE_SIZE - 1));
		if (chunk > n - got)
			chunk = n - got;
		if (phys_copy_out(c->phys, pa, buf + got, chunk))
			break;
		got += chunk;
		struct insn i;
		struct decode_mode mode = dbg_decode_mode(c);
		if (cpu_decode(buf, (unsigned)got, mode, &i) != DECODE_FETCH_FAULT)
			break;
	}
	return got;
}

/* ---- registers ---- */

static const char *const gpr_names[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
					   "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15" };
static const char *const seg_names[6] = { "es", "cs", "ss", "ds", "fs", "gs" };

enum reg_other { RO_RIP, RO_RFLAGS, RO_FS_BASE, RO_GS_BASE, RO_KGS_BASE, RO_CR0, RO_CR2, RO_CR3, RO_CR4, RO_CR8,
		 RO_EFER, RO_DR0, RO_DR1, RO_DR2, RO_DR3, RO_DR6, RO_DR7, RO_COUNT };
static const char *const other_names[RO_COUNT] = { "rip", "rflags", "fs_base", "gs_base", "kernel_gs_base",
						   "cr0", "cr2", "cr3", "cr4", "cr8", "efer", "dr0",
						   "dr1", "dr2", "dr3", "dr6", "dr7" };

static int find_name(const char *const *names, int n, const char *name)
{
	for (int k = 0; k < n; k++)
		if (!strcasecmp(names[k], name))
			return k;
	return -1;
}

bool dbg_reg_read(const struct dbg *d, int cpu, const char *name, uint64_t *v)
{
	const struct cpu *c = dbg_cpu(d, cpu);
	int k;
	if (!c)
		return false;
	if ((k = find_name(gpr_names, 16, name)) >= 0) {
		*v = c->gpr[k];
		return true;
	}
	if ((k = find_name(seg_names, 6, name)) >= 0) {
		*v = c->seg[k].sel;
		return true;
	}
	if (!strcasecmp(name, "eflags"))
		name = "rflags";
	switch (find_name(other_names, RO_COUNT, name)) {
	case RO_RIP: *v = c->rip; return true;
	case RO_RFLAGS: *v = cpu_get_rflags((struct cpu *)c); return true;
	case RO_FS_BASE: *v = c->seg[SEG_FS].base; return true;
	case RO_GS_BASE: *v = c->seg[SEG_GS].base; return true;
	case RO_KGS_BASE: *v = c->msr.kernel_gs_base; return true;
	case RO_CR0: *v = c->cr0; return true;
	case RO_CR2: *v = c->cr2; return true;
	case RO_CR3: *v = c->cr3; return true;
	case RO_CR4: *v = c->cr4; return true;
	case RO_CR8: *v = c->cr8; return true;
	case RO_EFER: *v = c->efer; return true;
	case RO_DR0: case RO_DR1: case RO_DR2: case RO_DR3:
		*v = c->dr[find_name(other_names, RO_COUNT, name) - RO_DR0];
		return true;
	case RO_DR6: *v = c->dr[6]; return true;
	case RO_DR7: *v = c->dr[7]; return true;
	default: return false;
	}
}

bool dbg_reg_write(struct dbg *d, int cpu, const char *name, uint64_t v)
{
	struct cpu *c = cpu_rw(d, cpu);
	int k;
	if (!c)
		return false;
	if ((k = find_name(gpr_names, 16, name)) >= 0) {
		c->gpr[k] = v;
		return true;
	}
	if ((k = find_name(seg_names, 6, name)) >= 0) {
		c->seg[k].sel = (uint16_t)v;    /* the selector only: the hidden part stays as loaded */
		return true;
	}
	if (!strcasecmp(name, "eflags"))
		name = "rflags";
	int o = find_name(other_names, RO_COUNT, name);
	switch (o) {
	case RO_RIP: c->rip = v; break;
	case RO_RFLAGS: cpu_set_rflags(c, v); cpu_debug_update(c); break;
	case RO_FS_BASE: c->seg[SEG_FS].base = v; break;
	case RO_GS_BASE: c->seg[SEG_GS].base = v; break;
	case RO_KGS_BASE: c->msr.kernel_gs_base = v; break;
	case RO_CR0: c->cr0 = v; break;
	case RO_CR2: c->cr2 = v; break;
	case RO_CR3: c->cr3 = v; break;
	case RO_CR4: c->cr4 = v; break;
	case RO_CR8: c->cr8 = v & 0xf; break;
	case RO_EFER: c->efer = v; break;
	case RO_DR0: case RO_DR1: case RO_DR2: case RO_DR3: c->dr[o - RO_DR0] = v; cpu_debug_update(c); break;
	case RO_DR6: c->dr[6] = v; break;
	case RO_DR7: c->dr[7] = v; cpu_debug_update(c); break;
	default: return false;
	}
	if (o >= RO_CR0 && o <= RO_EFER)
		cpu_mode_changed(c);    /* the translation context, CPL caches, TLB */
	cpu_end_block(c);
	return true;
}

/* ---- memory ---- */

size_t dbg_read_phys(struct dbg *d, uint64_t pa, void *buf, size_t n)
{
	struct phys_map *pm = &dbg_machine(d)->phys;
	size_t k = 0;
	for (; k < n; k++) {
		const struct phys_region *r = pa + k < pm->ram_size ? NULL : phys_find_region(pm, pa + k);
		if (pa + k >= pm->ram_size && (!r || r->kind != PHYS_ROM))
			break;
		((uint8_t *)buf)[k] = (uint8_t)phys_read(pm, pa + k, 1);
	}
	return k;
}

size_t dbg_write_phys(struct dbg *d, uint64_t pa, const void *buf, size_t n)
{
	struct phys_map *pm = &dbg_machine(d)->phys;
	size_t k = 0;
	for (; k < n && pa + k < pm->ram_size; k++)
		phys_write(pm, pa + k, ((const uint8_t *)buf)[k], 1);  /* drops decoded code on that page */
	return k;
}

/* ---- the VMCS ---- */

static int vmcs_row(struct cpu *c, uint32_t enc, bool *high)
{
	if (!c || !c->vmx.on || c->vmx.vmcs_ptr == VMCS_PTR_NONE || !vmcs_host(c))
		return -1;
	return vmcs_field_lookup(enc, high);
}

bool dbg_vmcs_read(struct dbg *d, int cpu, uint32_t enc, uint64_t *v)
{
	struct cpu *c = cpu_rw(d, cpu);
	bool high;
	int f = vmcs_row(c, enc, &high);
	if (f < 0)
		return false;
	*v = vmcs_read(c, (enum vmcs_field)f);
	if (high)
		*v >>= 32;
	return true;
}

bool dbg_vmcs_write(struct dbg *d, int cpu, uint32_t enc, uint64_t v)
{
	struct cpu *c = cpu_rw(d, cpu);
	bool high;
	int f = vmcs_row(c, enc, &high);
	if (f < 0)
		return false;
	if (high)
		v = (vmcs_read(c, (enum vmcs_field)f) & 0xffffffffull) | v << 32;
	vmcs_write(c, (enum vmcs_field)f, v);
	return true;
}
