"""Recipes for the sample table (tests/gen/sample/entry_checks.def) of
tests/gen/test_gen_entry_matrix.py; C snippets as the real recipes write them."""
from recipe import R

RECIPES = {
    "CTL_PIN_RESERVED": R(
        requires=["vmx_must1(VMX_CTL_PIN) != 0"],
        brk=["vmwrite(VMCS_PIN_CONTROLS, vmread(VMCS_PIN_CONTROLS) & ~vmx_must1(VMX_CTL_PIN));"],
        note="clears the must-be-1 bits; a model without any is a skip"),
    "HOST_CR4_VMXE": R(
        brk=["vmwrite(VMCS_HOST_CR4, vmread(VMCS_HOST_CR4) & ~CR4_VMXE);"]),
    "GUEST_RFLAGS_BIT1": R(
        brk=["vmwrite(VMCS_GUEST_RFLAGS, 0);"],
        guest=32, host=32),
    "GUEST_LINK_PTR": R(
        brk=["vmwrite(VMCS_VMCS_LINK_PTR, vmx_scratch_page(0));"]),
    "MSR_LOAD_RESERVED_INDEX": R(
        setup=["vmwrite(VMCS_ENTRY_MSR_LOAD_ADDR, vmx_scratch_page(1));"],
        brk=["uint32_t *e = (uint32_t *)vmread(VMCS_ENTRY_MSR_LOAD_ADDR);",
             "e[0] = MSR_IA32_PAT;",
             "e[1] = 1;",
             "*(uint64_t *)&e[2] = rdmsr(MSR_IA32_PAT);",
             "vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 1);"],
        qual=1),
}
