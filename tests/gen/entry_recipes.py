"""How to break each VM-entry check of vmx/entry_checks.def (phases
CONTROLS, HOST, GUEST, MSR_LOAD) from the valid baseline VMCS; read by
tests/gen/gen_entry_matrix.py. Format: tests/gen/recipe.py.

Scratch version of the "gen" helper, for the rows on main so far. The
"checks" helper's file, with a recipe for every row, replaces this one.
"""
from recipe import R

# IA32_PAT with memory type 2 (reserved) in every entry: WRMSR would #GP
# (SDM vol. 3A 13.12.2).
PAT_RESERVED_TYPE = "0x0202020202020202ull"

RECIPES = {
    "MSRLOAD_WRMSR": R(
        setup=["vmwrite(VMCS_ENTRY_MSR_LOAD_ADDR, vmx_scratch_page(0));"],
        brk=["uint32_t *e = (uint32_t *)vmread(VMCS_ENTRY_MSR_LOAD_ADDR);",
             "e[0] = MSR_IA32_SYSENTER_CS;",
             "*(uint64_t *)&e[2] = rdmsr(MSR_IA32_SYSENTER_CS);",
             "e[4] = MSR_IA32_PAT;",
             "*(uint64_t *)&e[6] = %s;" % PAT_RESERVED_TYPE,
             "vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 2);"],
        qual=2,
        note="entry 1 reloads SYSENTER_CS unchanged, entry 2 would #GP: qualification 2"),
}
