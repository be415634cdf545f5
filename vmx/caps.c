/* The VMX capability MSRs from the model row (SDM vol. 3C Appendix A).
 * A first cut: the VMX-capabilities work fills in every MSR. */
#include "vmx/caps.h"

#include "cpu/model.h"

bool vmx_supported(const struct cpu *c)
{
	return c->model->vmx.revision != 0;
}

uint64_t vmx_allowed1(const struct cpu *c, enum vmx_ctl ctl)
{
	const struct vmx_model *m = &c->model->vmx;

	switch (ctl) {
	case VMX_CTL_PIN: return m->pin_allowed1;
	case VMX_CTL_PROC: return m->proc_allowed1;
	case VMX_CTL_PROC2: return m->proc2_allowed1;
	case VMX_CTL_PROC3: return m->proc3_allowed1;
	case VMX_CTL_EXIT: return m->exit_allowed1;
	case VMX_CTL_EXIT2: return m->exit2_allowed1;
	case VMX_CTL_ENTRY: return m->entry_allowed1;
	case VMX_CTL_VMFUNC: return m->vmfunc;
	}
	return 0;
}

uint64_t vmx_must_be1(const struct cpu *c, enum vmx_ctl ctl)
{
	(void)c;
	(void)ctl;
	return 0;
}

bool vmx_cap_msr(const struct cpu *c, uint32_t msr, uint64_t *v)
{
	(void)c;
	(void)msr;
	*v = 0;
	return false;
}

uint64_t vmx_cr0_fixed0(const struct cpu *c)
{
	(void)c;
	return 0;
}

uint64_t vmx_cr0_fixed1(const struct cpu *c)
{
	(void)c;
	return ~0ull;
}

uint64_t vmx_cr4_fixed0(const struct cpu *c)
{
	(void)c;
	return 0;
}

uint64_t vmx_cr4_fixed1(const struct cpu *c)
{
	(void)c;
	return ~0ull;
}
