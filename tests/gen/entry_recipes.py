"""How to break each VM-entry check of vmx/entry_checks.def from the valid
baseline VMCS (phases CONTROLS, HOST, GUEST, MSR_LOAD), as recipes
(class R of tests/gen/recipe.py). The generator
tests/gen/gen_entry_matrix.py turns each into a guest test case.

These are the mutations of tests/unit/vmx/test_entry_checks.c written for a
guest hypervisor: C statements over vmread/vmwrite and the helpers of
tests/gen/recipe_helpers.h (rh_*). A recipe breaks exactly its rule: the
rows before it in the table still hold. `requires` names the capabilities
the rule needs; a model without them reports the case as a skip.
"""
from recipe import R

# C snippets, so the table below stays one line per rule.
def W(f, v): return f"vmwrite(VMCS_{f}, {v});"
def OR(f, v): return f"rh_or(VMCS_{f}, {v});"
def AND(f, v): return f"rh_and(VMCS_{f}, {v});"
def A1(ctl, bit): return f"vmx_allowed1({ctl}) & {bit}"
def SEC(bit): return [A1("VMX_CTL_PROC", "PROC_SECONDARY_CTLS"), A1("VMX_CTL_PROC2", bit)]

EPT = SEC("PROC2_EPT")
UNRESTRICTED = EPT + [A1("VMX_CTL_PROC2", "PROC2_UNRESTRICTED")]
TPR = [A1("VMX_CTL_PROC", "PROC_TPR_SHADOW")]
VID = TPR + SEC("PROC2_VIRT_INTR_DELIVERY") + [A1("VMX_CTL_PIN", "PIN_EXT_INTR_EXITING")]
POSTED = [A1("VMX_CTL_PIN", "PIN_POSTED_INTR")]
MISC = "vmx_msr(RH_MSR_MISC)"
# A case run from a 32-bit host (tests/guests/lib/vmx_host32.h) entering the 32-bit guest.
def HOST32(brk, requires=(), note="the rule holds only outside IA-32e mode: the case runs from a 32-bit host"):
    return R(brk=brk, requires=requires, guest=32, host=32, note=note)
SAR = lambda s: f"VMCS_GUEST_{s}_AR"


def addr_pair(prefix, setup, req, field, align_bad, extra=()):
    """The _ALIGN and _WIDTH rows of an address field."""
    return {
        f"{prefix}_ALIGN": R(brk=list(extra) + [W(field, align_bad)], setup=setup, requires=req),
        f"{prefix}_WIDTH": R(brk=list(extra) + [W(field, "RH_FAR")], setup=setup, requires=req),
    }


def msr_area_rows(prefix, count, addr):
    a = f"rh_msr_area(VMCS_{count}, VMCS_{addr}, "
    return {
        f"{prefix}_ALIGN": R(brk=[a + "vmx_scratch_page(5) + 8, 1);"]),
        f"{prefix}_WIDTH": R(brk=[a + "RH_FAR, 1);"]),
        f"{prefix}_END_WIDTH": R(brk=[a + "rh_past_width() - 16, 2);"]),
    }


RECIPES = {
    # 26.2.1.1 VM-execution control fields
    "CTL_PIN_RSVD": R(brk=[OR("PIN_CONTROLS", "rh_reserved_bit(VMX_CTL_PIN)")], requires=["rh_reserved_bit(VMX_CTL_PIN)"]),
    "CTL_PROC_RSVD": R(brk=[OR("PROC_CONTROLS", "rh_reserved_bit(VMX_CTL_PROC)")], requires=["rh_reserved_bit(VMX_CTL_PROC)"]),
    "CTL_PROC2_RSVD": R(brk=["rh_sec(rh_reserved_bit(VMX_CTL_PROC2));"],
                        requires=[A1("VMX_CTL_PROC", "PROC_SECONDARY_CTLS"), "rh_reserved_bit(VMX_CTL_PROC2)"]),
    "CTL_PROC3_RSVD": R(brk=[OR("PROC_CONTROLS", "PROC_TERTIARY_CTLS"), W("TERTIARY_CONTROLS", "rh_lowest_clear(vmx_msr(RH_MSR_PROC3))")],
                        requires=[A1("VMX_CTL_PROC", "PROC_TERTIARY_CTLS")]),
    "CTL_CR3_TARGET_COUNT": R(brk=[W("CR3_TARGET_COUNT", f"(({MISC} >> 16) & 0x1ff) + 1")]),
    **addr_pair("CTL_IO_BITMAP_A", [OR("PROC_CONTROLS", "PROC_IO_BITMAPS"), W("IO_BITMAP_A", "vmx_scratch_page(6)"), W("IO_BITMAP_B", "vmx_scratch_page(7)")],
                [A1("VMX_CTL_PROC", "PROC_IO_BITMAPS")], "IO_BITMAP_A", "vmx_scratch_page(6) + 8"),
    **addr_pair("CTL_IO_BITMAP_B", [OR("PROC_CONTROLS", "PROC_IO_BITMAPS"), W("IO_BITMAP_A", "vmx_scratch_page(6)"), W("IO_BITMAP_B", "vmx_scratch_page(7)")],
                [A1("VMX_CTL_PROC", "PROC_IO_BITMAPS")], "IO_BITMAP_B", "vmx_scratch_page(7) + 8"),
    **addr_pair("CTL_MSR_BITMAP", [OR("PROC_CONTROLS", "PROC_MSR_BITMAPS"), W("MSR_BITMAP", "vmx_scratch_page(6)")],
                [A1("VMX_CTL_PROC", "PROC_MSR_BITMAPS")], "MSR_BITMAP", "vmx_scratch_page(6) + 8"),
    **addr_pair("CTL_VAPIC", ["rh_tpr_shadow();"], TPR, "VIRTUAL_APIC_ADDR", "vmx_scratch_page(0) + 8"),
    "CTL_TPR_THRESHOLD_RSVD": R(setup=["rh_tpr_shadow();"], brk=[W("TPR_THRESHOLD", "0x10")], requires=TPR),
    "CTL_TPR_THRESHOLD_VTPR": R(setup=["rh_tpr_shadow();"], brk=["rh_put32(vmx_scratch_page(0) + 0x80, 0x20);", W("TPR_THRESHOLD", "3")], requires=TPR,
                                note="VTPR is byte 80H of the virtual-APIC page"),
    "CTL_X2APIC_NEEDS_TPR_SHADOW": R(brk=["rh_sec(PROC2_VIRT_X2APIC);"], requires=SEC("PROC2_VIRT_X2APIC")),
    "CTL_APIC_REG_VIRT_NEEDS_TPR_SHADOW": R(brk=["rh_sec(PROC2_APIC_REG_VIRT);"], requires=SEC("PROC2_APIC_REG_VIRT")),
    "CTL_VID_NEEDS_TPR_SHADOW": R(brk=["rh_sec(PROC2_VIRT_INTR_DELIVERY);"], requires=SEC("PROC2_VIRT_INTR_DELIVERY")),
    "CTL_VNMI_NEEDS_NMI_EXITING": R(brk=[AND("PIN_CONTROLS", "~(uint64_t)PIN_NMI_EXITING"), OR("PIN_CONTROLS", "PIN_VIRTUAL_NMIS")],
                                    requires=[A1("VMX_CTL_PIN", "PIN_VIRTUAL_NMIS"), "!(vmx_must1(VMX_CTL_PIN) & PIN_NMI_EXITING)"]),
    "CTL_NMI_WINDOW_NEEDS_VNMI": R(brk=[OR("PROC_CONTROLS", "PROC_NMI_WINDOW")], requires=[A1("VMX_CTL_PROC", "PROC_NMI_WINDOW")]),
    **addr_pair("CTL_APIC_ACCESS", ["rh_sec(PROC2_VIRT_APIC_ACCESS);", W("APIC_ACCESS_ADDR", "vmx_scratch_page(6)")],
                SEC("PROC2_VIRT_APIC_ACCESS"), "APIC_ACCESS_ADDR", "vmx_scratch_page(6) + 8"),
    "CTL_X2APIC_AND_APIC_ACCESS": R(setup=["rh_tpr_shadow();", "rh_sec(PROC2_VIRT_X2APIC);"],
                                    brk=["rh_sec(PROC2_VIRT_APIC_ACCESS);", W("APIC_ACCESS_ADDR", "vmx_scratch_page(6)")],
                                    requires=TPR + SEC("PROC2_VIRT_X2APIC") + SEC("PROC2_VIRT_APIC_ACCESS")),
    "CTL_VID_NEEDS_EXT_INTR_EXITING": R(brk=["rh_tpr_shadow();", "rh_sec(PROC2_VIRT_INTR_DELIVERY);", AND("PIN_CONTROLS", "~(uint64_t)PIN_EXT_INTR_EXITING")],
                                        requires=VID + ["!(vmx_must1(VMX_CTL_PIN) & PIN_EXT_INTR_EXITING)"]),
    "CTL_PI_NEEDS_VID": R(brk=["rh_posted(0, 1);"], requires=POSTED + [A1("VMX_CTL_EXIT", "EXIT_ACK_INTR_ON_EXIT")]),
    "CTL_PI_NEEDS_ACK_ON_EXIT": R(brk=["rh_posted(1, 0);", AND("EXIT_CONTROLS", "~(uint64_t)EXIT_ACK_INTR_ON_EXIT")],
                                  requires=POSTED + VID + ["!(vmx_must1(VMX_CTL_EXIT) & EXIT_ACK_INTR_ON_EXIT)"]),
    "CTL_PI_VECTOR": R(setup=["rh_posted(1, 1);"], brk=[W("POSTED_INTR_NV", "0x100")], requires=POSTED + VID),
    **addr_pair("CTL_PI_DESC", ["rh_posted(1, 1);"], POSTED + VID, "POSTED_INTR_DESC_ADDR", "vmx_scratch_page(1) + 0x20"),
    "CTL_VPID_ZERO": R(setup=["rh_sec(PROC2_VPID);", W("VPID", "1")], brk=[W("VPID", "0")], requires=SEC("PROC2_VPID")),
    "CTL_EPTP_MEMTYPE": R(setup=["rh_ept();"], brk=[W("EPT_POINTER", "(vmread(VMCS_EPT_POINTER) & ~7ull) | 1")], requires=EPT,
                          note="memory type 1 (WC) is never a valid EPT paging-structure type"),
    "CTL_EPTP_WALK_LENGTH": R(setup=["rh_ept();"], brk=[W("EPT_POINTER", "(vmread(VMCS_EPT_POINTER) & ~0x38ull) | (1 << 3)")], requires=EPT),
    "CTL_EPTP_AD": R(setup=["rh_ept();"], brk=[OR("EPT_POINTER", "EPTP_AD")], requires=EPT + ["!(vmx_msr(RH_MSR_EPT_VPID_CAP) & VMX_EPT_AD_FLAGS)"]),
    "CTL_EPTP_RSVD": R(setup=["rh_ept();"], brk=[OR("EPT_POINTER", "1u << 8")], requires=EPT),
    "CTL_PML_NEEDS_EPT": R(brk=["rh_sec(PROC2_PML);", W("PML_ADDR", "vmx_scratch_page(6)")], requires=SEC("PROC2_PML")),
    **addr_pair("CTL_PML", ["rh_ept();", "rh_sec(PROC2_PML);", W("PML_ADDR", "vmx_scratch_page(6)")], EPT + SEC("PROC2_PML"),
                "PML_ADDR", "vmx_scratch_page(6) + 8"),
    "CTL_UNRESTRICTED_NEEDS_EPT": R(brk=["rh_sec(PROC2_UNRESTRICTED);"], requires=SEC("PROC2_UNRESTRICTED")),
    "CTL_MBEC_NEEDS_EPT": R(brk=["rh_sec(PROC2_MBEC);"], requires=SEC("PROC2_MBEC")),
    "CTL_SPP_NEEDS_EPT": R(brk=["rh_sec(PROC2_SPP);", W("SPP_TABLE_PTR", "vmx_scratch_page(6)")], requires=SEC("PROC2_SPP")),
    **addr_pair("CTL_SPPTP", ["rh_ept();", "rh_sec(PROC2_SPP);", W("SPP_TABLE_PTR", "vmx_scratch_page(6)")], EPT + SEC("PROC2_SPP"),
                "SPP_TABLE_PTR", "vmx_scratch_page(6) + 8"),
    "CTL_PT_GPA_NEEDS_EPT": R(brk=["rh_sec(PROC2_PT_USES_GPA);"], requires=SEC("PROC2_PT_USES_GPA")),
    "CTL_PT_GPA_NEEDS_LOAD_RTIT": R(brk=["rh_ept();", "rh_sec(PROC2_PT_USES_GPA);"], requires=EPT + SEC("PROC2_PT_USES_GPA")),
    "CTL_PT_GPA_NEEDS_CLEAR_RTIT": R(brk=["rh_ept();", "rh_sec(PROC2_PT_USES_GPA);", OR("ENTRY_CONTROLS", "ENTRY_LOAD_RTIT_CTL")],
                                     requires=EPT + SEC("PROC2_PT_USES_GPA") + [A1("VMX_CTL_ENTRY", "ENTRY_LOAD_RTIT_CTL")]),
    "CTL_VMFUNC_RSVD": R(setup=["rh_sec(PROC2_VMFUNC);", W("VMFUNC_CONTROLS", "0")], brk=[W("VMFUNC_CONTROLS", "rh_lowest_clear(vmx_msr(RH_MSR_VMFUNC))")],
                         requires=SEC("PROC2_VMFUNC")),
    "CTL_EPTP_SWITCH_NEEDS_EPT": R(brk=["rh_sec(PROC2_VMFUNC);", W("VMFUNC_CONTROLS", "VMX_VMFUNC_EPTP_SWITCHING"), W("EPTP_LIST_ADDR", "vmx_scratch_page(6)")],
                                   requires=SEC("PROC2_VMFUNC") + ["vmx_msr(RH_MSR_VMFUNC) & VMX_VMFUNC_EPTP_SWITCHING"]),
    **addr_pair("CTL_EPTP_LIST", ["rh_ept();", "rh_sec(PROC2_VMFUNC);", W("VMFUNC_CONTROLS", "VMX_VMFUNC_EPTP_SWITCHING"), W("EPTP_LIST_ADDR", "vmx_scratch_page(6)")],
                EPT + SEC("PROC2_VMFUNC") + ["vmx_msr(RH_MSR_VMFUNC) & VMX_VMFUNC_EPTP_SWITCHING"], "EPTP_LIST_ADDR", "vmx_scratch_page(6) + 8"),
    **addr_pair("CTL_VMREAD_BITMAP", ["rh_sec(PROC2_VMCS_SHADOWING);", W("VMREAD_BITMAP", "vmx_scratch_page(6)"), W("VMWRITE_BITMAP", "vmx_scratch_page(7)")],
                SEC("PROC2_VMCS_SHADOWING"), "VMREAD_BITMAP", "vmx_scratch_page(6) + 8"),
    **addr_pair("CTL_VMWRITE_BITMAP", ["rh_sec(PROC2_VMCS_SHADOWING);", W("VMREAD_BITMAP", "vmx_scratch_page(6)"), W("VMWRITE_BITMAP", "vmx_scratch_page(7)")],
                SEC("PROC2_VMCS_SHADOWING"), "VMWRITE_BITMAP", "vmx_scratch_page(7) + 8"),
    **addr_pair("CTL_VE_INFO", ["rh_ept();", "rh_sec(PROC2_EPT_VE);", W("VE_INFO_ADDR", "vmx_scratch_page(6)")], EPT + SEC("PROC2_EPT_VE"),
                "VE_INFO_ADDR", "vmx_scratch_page(6) + 8"),

    # 26.2.1.2 VM-exit control fields
    "EXIT_RSVD": R(brk=[OR("EXIT_CONTROLS", "rh_reserved_bit(VMX_CTL_EXIT)")], requires=["rh_reserved_bit(VMX_CTL_EXIT)"]),
    "EXIT2_RSVD": R(brk=[OR("EXIT_CONTROLS", "EXIT_SECONDARY_CTLS"), W("EXIT_CONTROLS2", "rh_lowest_clear(vmx_msr(RH_MSR_EXIT2))")],
                    requires=[A1("VMX_CTL_EXIT", "EXIT_SECONDARY_CTLS")]),
    "EXIT_SAVE_PREEMPT_NEEDS_TIMER": R(brk=[OR("EXIT_CONTROLS", "EXIT_SAVE_PREEMPT_TIMER")], requires=[A1("VMX_CTL_EXIT", "EXIT_SAVE_PREEMPT_TIMER")]),
    **msr_area_rows("EXIT_MSR_STORE", "EXIT_MSR_STORE_COUNT", "EXIT_MSR_STORE_ADDR"),
    **msr_area_rows("EXIT_MSR_LOAD", "EXIT_MSR_LOAD_COUNT", "EXIT_MSR_LOAD_ADDR"),

    # 26.2.1.3 VM-entry control fields
    "ENTRY_RSVD": R(brk=[OR("ENTRY_CONTROLS", "rh_reserved_bit(VMX_CTL_ENTRY)")], requires=["rh_reserved_bit(VMX_CTL_ENTRY)"]),
    "ENTRY_INTR_TYPE_RSVD": R(brk=["rh_inject(1, 0x20, 0);"]),
    "ENTRY_INTR_NMI_VECTOR": R(brk=["rh_inject(INTR_TYPE_NMI, 3, 0);"]),
    "ENTRY_INTR_HW_VECTOR": R(brk=["rh_inject(INTR_TYPE_HW_EXCEPTION, 32, 0);"]),
    "ENTRY_INTR_OTHER_VECTOR": R(brk=["rh_inject(INTR_TYPE_OTHER, 1, 0);"], requires=[A1("VMX_CTL_PROC", "PROC_MTF")]),
    "ENTRY_INTR_ERRCODE_REQUIRED": R(brk=["rh_inject(INTR_TYPE_HW_EXCEPTION, 13, 0);"], requires=["!((vmx_msr(RH_MSR_BASIC) >> 56) & 1)"],
                                     note="#GP injected without its error code"),
    "ENTRY_INTR_ERRCODE_FORBIDDEN": R(brk=["rh_inject(INTR_TYPE_EXT_INTR, 0x20, 1);"], note="an external interrupt never delivers an error code"),
    "ENTRY_INTR_RSVD": R(brk=["rh_inject(INTR_TYPE_HW_EXCEPTION, 6, 0);", OR("ENTRY_INTR_INFO", "1u << 12")]),
    "ENTRY_EXC_ERRCODE_RSVD": R(brk=["rh_inject(INTR_TYPE_HW_EXCEPTION, 13, 1);", W("ENTRY_EXCEPTION_ERROR_CODE", "0x10000")]),
    "ENTRY_INSN_LEN_RANGE": R(brk=["rh_inject(INTR_TYPE_SW_INTR, 0x80, 0);", W("ENTRY_INSTRUCTION_LEN", "16")]),
    "ENTRY_INSN_LEN_ZERO": R(brk=["rh_inject(INTR_TYPE_SW_EXCEPTION, 3, 0);", W("ENTRY_INSTRUCTION_LEN", "0")],
                             requires=[f"!({MISC} & VMX_MISC_INJECT_LEN0)"]),
    **msr_area_rows("ENTRY_MSR_LOAD", "ENTRY_MSR_LOAD_COUNT", "ENTRY_MSR_LOAD_ADDR"),
    "ENTRY_TO_SMM_OUTSIDE_SMM": R(brk=[OR("ENTRY_CONTROLS", "ENTRY_TO_SMM")], requires=[A1("VMX_CTL_ENTRY", "ENTRY_TO_SMM")]),
    "ENTRY_DEACT_DUAL_OUTSIDE_SMM": R(brk=[OR("ENTRY_CONTROLS", "ENTRY_DEACT_DUAL_MONITOR")], requires=[A1("VMX_CTL_ENTRY", "ENTRY_DEACT_DUAL_MONITOR")]),

    # 26.2.2 host control registers and MSRs
    "HOST_CR0_FIXED": R(brk=[AND("HOST_CR0", "~vmx_msr(RH_MSR_CR0_FIXED0)")], requires=["vmx_msr(RH_MSR_CR0_FIXED0)"]),
    "HOST_CR4_FIXED": R(brk=[AND("HOST_CR4", "~vmx_msr(RH_MSR_CR4_FIXED0)")], requires=["vmx_msr(RH_MSR_CR4_FIXED0)"]),
    "HOST_CR3_WIDTH": R(brk=[W("HOST_CR3", "RH_FAR")]),
    "HOST_SYSENTER_ESP_CANONICAL": R(brk=[W("HOST_IA32_SYSENTER_ESP", "RH_NONCANON")]),
    "HOST_SYSENTER_EIP_CANONICAL": R(brk=[W("HOST_IA32_SYSENTER_EIP", "RH_NONCANON")]),
    "HOST_PERF_GLOBAL_RSVD": R(brk=[OR("EXIT_CONTROLS", "EXIT_LOAD_PERF_GLOBAL"), W("HOST_IA32_PERF_GLOBAL_CTRL", "1ull << 63")],
                               requires=[A1("VMX_CTL_EXIT", "EXIT_LOAD_PERF_GLOBAL")]),
    "HOST_PAT": R(brk=[OR("EXIT_CONTROLS", "EXIT_LOAD_PAT"), W("HOST_IA32_PAT", "0x0007040600070402ull")], requires=[A1("VMX_CTL_EXIT", "EXIT_LOAD_PAT")]),
    "HOST_EFER_RSVD": R(brk=[OR("EXIT_CONTROLS", "EXIT_LOAD_EFER"), W("HOST_IA32_EFER", "rdmsr(0xc0000080u) | 2")], requires=[A1("VMX_CTL_EXIT", "EXIT_LOAD_EFER")]),
    "HOST_EFER_LMA": R(brk=[OR("EXIT_CONTROLS", "EXIT_LOAD_EFER"), W("HOST_IA32_EFER", "rdmsr(0xc0000080u) & ~EFER_LMA")], requires=[A1("VMX_CTL_EXIT", "EXIT_LOAD_EFER")]),
    "HOST_EFER_LME": R(brk=[OR("EXIT_CONTROLS", "EXIT_LOAD_EFER"), W("HOST_IA32_EFER", "rdmsr(0xc0000080u) & ~EFER_LME")], requires=[A1("VMX_CTL_EXIT", "EXIT_LOAD_EFER")]),

    # 26.2.3 host segment and descriptor-table registers
    **{f"HOST_{s}_SEL_RPL_TI": R(brk=[OR(f"HOST_{s}_SELECTOR", "1")]) for s in ("ES", "CS", "SS", "DS", "FS", "GS", "TR")},
    "HOST_CS_SEL_NULL": R(brk=[W("HOST_CS_SELECTOR", "0")]),
    "HOST_TR_SEL_NULL": R(brk=[W("HOST_TR_SELECTOR", "0")]),
    "HOST_SS_SEL_NULL": HOST32([W("HOST_SS_SELECTOR", "0")],
                               note="a 32-bit host: from the 64-bit host with host address-space size 0 the break fails here "
                                    "too (26.2.3 comes first), but the fixed entry would fail HOST_ADDR_SPACE_IN_LM"),
    **{f"HOST_{b}_BASE_CANONICAL": R(brk=[W(f"HOST_{b}_BASE", "RH_NONCANON")]) for b in ("FS", "GS", "GDTR", "IDTR", "TR")},

    # 26.2.4 address-space size
    "HOST_IA32E_GUEST_OUTSIDE_LM": HOST32([OR("ENTRY_CONTROLS", "ENTRY_IA32E_GUEST")]),
    "HOST_ADDR_SPACE_OUTSIDE_LM": HOST32([OR("EXIT_CONTROLS", "EXIT_HOST_ADDR_SPACE")]),
    "HOST_ADDR_SPACE_IN_LM": R(brk=[AND("EXIT_CONTROLS", "~(uint64_t)(EXIT_HOST_ADDR_SPACE | EXIT_LOAD_EFER)")], guest=32,
                               note="load IA32_EFER cleared too, so the host EFER rows (26.2.2) do not fail first"),
    "HOST_32_CR4_PCIDE": HOST32([OR("HOST_CR4", "RH_CR4_PCIDE")], requires=["vmx_msr(RH_MSR_CR4_FIXED1) & RH_CR4_PCIDE"],
                                note="a 32-bit host; where CR4.PCIDE is fixed 0 in VMX operation HOST_CR4_FIXED fails first"),
    "HOST_32_RIP_HIGH": HOST32([OR("HOST_RIP", "1ull << 32")]),
    "HOST_64_CR4_PAE": R(brk=[AND("HOST_CR4", "~(uint64_t)CR4_PAE")]),
    "HOST_64_RIP_CANONICAL": R(brk=[W("HOST_RIP", "RH_NONCANON")]),

    # 26.3.1.1 guest control registers, debug registers and MSRs
    "GUEST_CR0_FIXED": R(brk=[AND("GUEST_CR0", "~(vmx_msr(RH_MSR_CR0_FIXED0) & ~(CR0_PE | CR0_PG))")],
                         requires=["vmx_msr(RH_MSR_CR0_FIXED0) & ~(CR0_PE | CR0_PG)"], note="clears CR0.NE"),
    "GUEST_CR0_PG_WITHOUT_PE": R(setup=["rh_unrestricted();"], brk=[AND("GUEST_CR0", "~(uint64_t)CR0_PE")], requires=UNRESTRICTED, guest=32),
    "GUEST_CR4_FIXED": R(brk=[AND("GUEST_CR4", "~vmx_msr(RH_MSR_CR4_FIXED0)")], requires=["vmx_msr(RH_MSR_CR4_FIXED0)"]),
    "GUEST_DEBUGCTL_RSVD": R(brk=[OR("ENTRY_CONTROLS", "ENTRY_LOAD_DEBUG_CTLS"), W("GUEST_IA32_DEBUGCTL", "4")], requires=[A1("VMX_CTL_ENTRY", "ENTRY_LOAD_DEBUG_CTLS")]),
    "GUEST_IA32E_CR0_PG": R(setup=["rh_unrestricted();"], brk=[AND("GUEST_CR0", "~(uint64_t)CR0_PG")], requires=UNRESTRICTED),
    "GUEST_IA32E_CR4_PAE": R(brk=[AND("GUEST_CR4", "~(uint64_t)CR4_PAE")]),
    "GUEST_CR4_PCIDE_NOT_IA32E": R(brk=[OR("GUEST_CR4", "RH_CR4_PCIDE")], requires=["vmx_msr(RH_MSR_CR4_FIXED1) & RH_CR4_PCIDE"], guest=32),
    "GUEST_CR3_WIDTH": R(brk=[W("GUEST_CR3", "RH_FAR")]),
    "GUEST_DR7_HIGH": R(brk=[OR("ENTRY_CONTROLS", "ENTRY_LOAD_DEBUG_CTLS"), W("GUEST_DR7", "0x400 | (1ull << 32)")], requires=[A1("VMX_CTL_ENTRY", "ENTRY_LOAD_DEBUG_CTLS")]),
    "GUEST_SYSENTER_ESP_CANONICAL": R(brk=[W("GUEST_IA32_SYSENTER_ESP", "RH_NONCANON")]),
    "GUEST_SYSENTER_EIP_CANONICAL": R(brk=[W("GUEST_IA32_SYSENTER_EIP", "RH_NONCANON")]),
    "GUEST_PERF_GLOBAL_RSVD": R(brk=[OR("ENTRY_CONTROLS", "ENTRY_LOAD_PERF_GLOBAL"), W("GUEST_IA32_PERF_GLOBAL_CTRL", "1ull << 63")],
                                requires=[A1("VMX_CTL_ENTRY", "ENTRY_LOAD_PERF_GLOBAL")]),
    "GUEST_PAT": R(brk=[OR("ENTRY_CONTROLS", "ENTRY_LOAD_PAT"), W("GUEST_IA32_PAT", "0x0007040600070402ull")], requires=[A1("VMX_CTL_ENTRY", "ENTRY_LOAD_PAT")]),
    "GUEST_EFER_RSVD": R(brk=[OR("ENTRY_CONTROLS", "ENTRY_LOAD_EFER"), W("GUEST_IA32_EFER", "EFER_LMA | EFER_LME | 2")], requires=[A1("VMX_CTL_ENTRY", "ENTRY_LOAD_EFER")]),
    "GUEST_EFER_LMA": R(brk=[OR("ENTRY_CONTROLS", "ENTRY_LOAD_EFER"), W("GUEST_IA32_EFER", "EFER_LME")], requires=[A1("VMX_CTL_ENTRY", "ENTRY_LOAD_EFER")]),
    "GUEST_EFER_LME": R(brk=[OR("ENTRY_CONTROLS", "ENTRY_LOAD_EFER"), W("GUEST_IA32_EFER", "EFER_LMA")], requires=[A1("VMX_CTL_ENTRY", "ENTRY_LOAD_EFER")]),
    "GUEST_BNDCFGS_RSVD": R(brk=[OR("ENTRY_CONTROLS", "ENTRY_LOAD_BNDCFGS"), W("GUEST_IA32_BNDCFGS", "4")], requires=[A1("VMX_CTL_ENTRY", "ENTRY_LOAD_BNDCFGS")]),
    "GUEST_BNDCFGS_CANONICAL": R(brk=[OR("ENTRY_CONTROLS", "ENTRY_LOAD_BNDCFGS"), W("GUEST_IA32_BNDCFGS", "RH_NONCANON")], requires=[A1("VMX_CTL_ENTRY", "ENTRY_LOAD_BNDCFGS")]),
}

# 26.3.1.2 guest segment registers
SEGS = ("CS", "SS", "DS", "ES", "FS", "GS")
DATA = ("DS", "ES", "FS", "GS")
RECIPES.update({
    "GUEST_TR_SEL_TI": R(brk=[OR("GUEST_TR_SELECTOR", "4")]),
    "GUEST_LDTR_SEL_TI": R(brk=["rh_ldtr_usable();", OR("GUEST_LDTR_SELECTOR", "4")]),
    "GUEST_SS_SEL_RPL": R(brk=[OR("GUEST_SS_SELECTOR", "1")]),
    **{f"GUEST_{s}_BASE_V86": R(setup=[], brk=["rh_v86();", W(f"GUEST_{s}_BASE", f"(vmread(VMCS_GUEST_{s}_SELECTOR) << 4) + 0x10")], guest=32) for s in SEGS},
    **{f"GUEST_{s}_BASE_CANONICAL": R(brk=[W(f"GUEST_{s}_BASE", "RH_NONCANON")]) for s in ("TR", "FS", "GS")},
    "GUEST_LDTR_BASE_CANONICAL": R(brk=["rh_ldtr_usable();", W("GUEST_LDTR_BASE", "RH_NONCANON")]),
    **{f"GUEST_{s}_BASE_HIGH": R(brk=[W(f"GUEST_{s}_BASE", "1ull << 32")]) for s in ("CS", "SS", "DS", "ES")},
    **{f"GUEST_{s}_LIMIT_V86": R(brk=["rh_v86();", W(f"GUEST_{s}_LIMIT", "0xfffff")], guest=32) for s in SEGS},
    **{f"GUEST_{s}_AR_V86": R(brk=["rh_v86();", W(f"GUEST_{s}_AR", "0xf2")], guest=32) for s in SEGS},
    "GUEST_CS_AR_TYPE": R(brk=[f"rh_set_type({SAR('CS')}, 0xa);"]),
    "GUEST_SS_AR_TYPE": R(brk=[f"rh_set_type({SAR('SS')}, 0x1);"]),
    **{f"GUEST_{s}_AR_TYPE_ACCESSED": R(brk=[f"rh_set_type({SAR(s)}, 0x2);"]) for s in DATA},
    **{f"GUEST_{s}_AR_TYPE_READABLE": R(brk=[f"rh_set_type({SAR(s)}, 0x9);"]) for s in DATA},
    **{f"GUEST_{s}_AR_S": R(brk=[AND(f"GUEST_{s}_AR", "~(uint64_t)RH_AR_S")]) for s in SEGS},
    "GUEST_CS_AR_DPL_TYPE3": R(setup=["rh_unrestricted();"], brk=[f"rh_set_type({SAR('CS')}, 3);", f"rh_set_dpl({SAR('CS')}, 1);"],
                               requires=UNRESTRICTED, guest=32),
    "GUEST_CS_AR_DPL_NONCONF": R(brk=[f"rh_set_dpl({SAR('CS')}, 1);"]),
    "GUEST_CS_AR_DPL_CONF": R(brk=[f"rh_set_type({SAR('CS')}, 15);", f"rh_set_dpl({SAR('CS')}, 1);"]),
    "GUEST_SS_AR_DPL_RPL": R(brk=[f"rh_set_type({SAR('CS')}, 15);", f"rh_set_dpl({SAR('SS')}, 1);"],
                             note="CS made conforming so the CS DPL rows before this one still hold"),
    "GUEST_SS_AR_DPL_REAL": R(setup=["rh_unrestricted();"], brk=[AND("GUEST_CR0", "~(uint64_t)(CR0_PE | CR0_PG)"), f"rh_set_type({SAR('CS')}, 15);",
                                                                  f"rh_set_dpl({SAR('SS')}, 1);"], requires=UNRESTRICTED, guest=32),
    **{f"GUEST_{s}_AR_DPL": R(brk=[OR(f"GUEST_{s}_SELECTOR", "3"), f"rh_set_dpl({SAR(s)}, 0);"]) for s in DATA},
    **{f"GUEST_{s}_AR_P": R(brk=[AND(f"GUEST_{s}_AR", "~(uint64_t)RH_AR_P")]) for s in SEGS},
    **{f"GUEST_{s}_AR_RSVD_11_8": R(brk=[OR(f"GUEST_{s}_AR", "1u << 8")]) for s in SEGS},
    "GUEST_CS_AR_DB": R(brk=[OR("GUEST_CS_AR", "RH_AR_DB")]),
    **{f"GUEST_{s}_AR_G_CLEAR": R(brk=[OR(f"GUEST_{s}_AR", "RH_AR_G"), W(f"GUEST_{s}_LIMIT", "0xfffff000")]) for s in SEGS},
    **{f"GUEST_{s}_AR_G_SET": R(brk=[AND(f"GUEST_{s}_AR", "~(uint64_t)RH_AR_G"), W(f"GUEST_{s}_LIMIT", "0xffffffff")]) for s in SEGS},
    **{f"GUEST_{s}_AR_RSVD_31_17": R(brk=[OR(f"GUEST_{s}_AR", "1u << 17")]) for s in SEGS},
    "GUEST_TR_AR_TYPE": R(brk=[f"rh_set_type({SAR('TR')}, 9);"], guest=32),
    "GUEST_TR_AR_TYPE_64": R(brk=[f"rh_set_type({SAR('TR')}, 3);"]),
    "GUEST_TR_AR_S": R(brk=[OR("GUEST_TR_AR", "RH_AR_S")]),
    "GUEST_TR_AR_P": R(brk=[AND("GUEST_TR_AR", "~(uint64_t)RH_AR_P")]),
    "GUEST_TR_AR_RSVD_11_8": R(brk=[OR("GUEST_TR_AR", "1u << 8")]),
    "GUEST_TR_AR_G_CLEAR": R(brk=[W("GUEST_TR_LIMIT", "0x67"), OR("GUEST_TR_AR", "RH_AR_G")]),
    "GUEST_TR_AR_G_SET": R(brk=[AND("GUEST_TR_AR", "~(uint64_t)RH_AR_G"), W("GUEST_TR_LIMIT", "0x100fff")]),
    "GUEST_TR_AR_UNUSABLE": R(brk=[OR("GUEST_TR_AR", "RH_AR_UNUSABLE")]),
    "GUEST_TR_AR_RSVD_31_17": R(brk=[OR("GUEST_TR_AR", "1u << 17")]),
    "GUEST_LDTR_AR_TYPE": R(brk=["rh_ldtr_usable();", f"rh_set_type({SAR('LDTR')}, 3);"]),
    "GUEST_LDTR_AR_S": R(brk=["rh_ldtr_usable();", OR("GUEST_LDTR_AR", "RH_AR_S")]),
    "GUEST_LDTR_AR_P": R(brk=["rh_ldtr_usable();", AND("GUEST_LDTR_AR", "~(uint64_t)RH_AR_P")]),
    "GUEST_LDTR_AR_RSVD_11_8": R(brk=["rh_ldtr_usable();", OR("GUEST_LDTR_AR", "1u << 8")]),
    "GUEST_LDTR_AR_G_CLEAR": R(brk=["rh_ldtr_usable();", OR("GUEST_LDTR_AR", "RH_AR_G"), W("GUEST_LDTR_LIMIT", "0xffff0")]),
    "GUEST_LDTR_AR_G_SET": R(brk=["rh_ldtr_usable();", W("GUEST_LDTR_LIMIT", "0x100fff")]),
    "GUEST_LDTR_AR_RSVD_31_17": R(brk=["rh_ldtr_usable();", OR("GUEST_LDTR_AR", "1u << 17")]),
})

# 26.3.1.3 - 26.3.1.6, 26.4
HLT = [f"{MISC} & VMX_MISC_ACT_HLT"]
RECIPES.update({
    "GUEST_GDTR_BASE_CANONICAL": R(brk=[W("GUEST_GDTR_BASE", "RH_NONCANON")]),
    "GUEST_IDTR_BASE_CANONICAL": R(brk=[W("GUEST_IDTR_BASE", "RH_NONCANON")]),
    "GUEST_GDTR_LIMIT_HIGH": R(brk=[W("GUEST_GDTR_LIMIT", "0x10000")]),
    "GUEST_IDTR_LIMIT_HIGH": R(brk=[W("GUEST_IDTR_LIMIT", "0x10000")]),
    "GUEST_RIP_HIGH": R(brk=[W("GUEST_RIP", "1ull << 32")], guest=32),
    "GUEST_RIP_CANONICAL": R(brk=[W("GUEST_RIP", "RH_NONCANON")]),
    "GUEST_RFLAGS_RSVD": R(brk=[OR("GUEST_RFLAGS", "1u << 3")]),
    "GUEST_RFLAGS_BIT1": R(brk=[AND("GUEST_RFLAGS", "~2ull")]),
    "GUEST_RFLAGS_VM": R(brk=["rh_v86();"], note="virtual-8086 segments with IA-32e mode guest 1"),
    "GUEST_RFLAGS_IF_EXT_INTR": R(brk=[AND("GUEST_RFLAGS", "~(uint64_t)RFLAGS_IF"), "rh_inject(INTR_TYPE_EXT_INTR, 0x20, 0);"]),
    "GUEST_ACTIVITY_STATE_RANGE": R(brk=[W("GUEST_ACTIVITY_STATE", "4")]),
    "GUEST_ACTIVITY_HLT_SS_DPL": R(brk=[OR("GUEST_CS_SELECTOR", "3"), OR("GUEST_SS_SELECTOR", "3"), f"rh_set_dpl({SAR('CS')}, 3);",
                                        f"rh_set_dpl({SAR('SS')}, 3);", W("GUEST_ACTIVITY_STATE", "ACTIVITY_HLT")], requires=HLT),
    "GUEST_ACTIVITY_NOT_ACTIVE_BLOCKING": R(brk=[W("GUEST_ACTIVITY_STATE", "ACTIVITY_HLT"), W("GUEST_INTERRUPTIBILITY", "INTR_BLOCK_MOV_SS")], requires=HLT),
    "GUEST_ACTIVITY_INJECTION": R(brk=[W("GUEST_ACTIVITY_STATE", "ACTIVITY_HLT"), "rh_inject(INTR_TYPE_HW_EXCEPTION, 13, 1);"], requires=HLT,
                                  note="#GP cannot be injected into the HLT state"),
    "GUEST_ACTIVITY_SIPI_SMM": R(brk=[OR("ENTRY_CONTROLS", "ENTRY_TO_SMM"), W("GUEST_ACTIVITY_STATE", "ACTIVITY_WAIT_SIPI")], requires=["0"],
                                 note="unreachable outside SMM: ENTRY_TO_SMM_OUTSIDE_SMM fails first (the unit test checks the row alone)"),
    "GUEST_INTR_RSVD": R(brk=[W("GUEST_INTERRUPTIBILITY", "1u << 5")]),
    "GUEST_INTR_STI_AND_MOVSS": R(brk=[OR("GUEST_RFLAGS", "RFLAGS_IF"), W("GUEST_INTERRUPTIBILITY", "INTR_BLOCK_STI | INTR_BLOCK_MOV_SS")]),
    "GUEST_INTR_STI_IF": R(brk=[AND("GUEST_RFLAGS", "~(uint64_t)RFLAGS_IF"), W("GUEST_INTERRUPTIBILITY", "INTR_BLOCK_STI")]),
    "GUEST_INTR_EXT_INTR_BLOCKED": R(brk=[OR("GUEST_RFLAGS", "RFLAGS_IF"), W("GUEST_INTERRUPTIBILITY", "INTR_BLOCK_STI"), "rh_inject(INTR_TYPE_EXT_INTR, 0x20, 0);"]),
    "GUEST_INTR_NMI_MOVSS": R(brk=[W("GUEST_INTERRUPTIBILITY", "INTR_BLOCK_MOV_SS"), "rh_inject(INTR_TYPE_NMI, 2, 0);"]),
    "GUEST_INTR_SMI_OUTSIDE_SMM": R(brk=[W("GUEST_INTERRUPTIBILITY", "INTR_BLOCK_SMI")]),
    "GUEST_INTR_NMI_STI": R(brk=[OR("GUEST_RFLAGS", "RFLAGS_IF"), W("GUEST_INTERRUPTIBILITY", "INTR_BLOCK_STI"), "rh_inject(INTR_TYPE_NMI, 2, 0);"]),
    "GUEST_INTR_VNMI_BLOCKING": R(setup=[OR("PIN_CONTROLS", "PIN_NMI_EXITING | PIN_VIRTUAL_NMIS")],
                                  brk=[W("GUEST_INTERRUPTIBILITY", "INTR_BLOCK_NMI"), "rh_inject(INTR_TYPE_NMI, 2, 0);"],
                                  requires=[A1("VMX_CTL_PIN", "PIN_VIRTUAL_NMIS")]),
    "GUEST_INTR_ENCLAVE": R(brk=[W("GUEST_INTERRUPTIBILITY", "INTR_BLOCK_ENCLAVE")]),
    "GUEST_PENDING_DBG_RSVD": R(brk=[W("GUEST_PENDING_DBG_EXCEPTIONS", "1u << 4")]),
    "GUEST_PENDING_DBG_BS_SET": R(brk=[OR("GUEST_RFLAGS", "RFLAGS_IF | RFLAGS_TF"), W("GUEST_IA32_DEBUGCTL", "0"),
                                       W("GUEST_INTERRUPTIBILITY", "INTR_BLOCK_STI"), W("GUEST_PENDING_DBG_EXCEPTIONS", "0")]),
    "GUEST_PENDING_DBG_BS_CLEAR": R(brk=[AND("GUEST_RFLAGS", "~(uint64_t)RFLAGS_TF"), W("GUEST_INTERRUPTIBILITY", "INTR_BLOCK_MOV_SS"),
                                         W("GUEST_PENDING_DBG_EXCEPTIONS", "PENDING_DBG_BS")]),
    "GUEST_LINK_ALIGN": R(brk=[W("VMCS_LINK_PTR", "vmx_scratch_page(3) + 8")]),
    "GUEST_LINK_WIDTH": R(brk=[W("VMCS_LINK_PTR", "RH_FAR")]),
    "GUEST_LINK_REVISION": R(brk=["rh_put32(vmx_scratch_page(3), 0);", W("VMCS_LINK_PTR", "vmx_scratch_page(3)")]),
    "GUEST_LINK_SHADOW": R(brk=["rh_put32(vmx_scratch_page(3), (uint32_t)(vmx_msr(RH_MSR_BASIC) & 0x7fffffffu) | 0x80000000u);",
                                W("VMCS_LINK_PTR", "vmx_scratch_page(3)")], note="shadow-VMCS indicator 1 with VMCS shadowing 0"),
    "GUEST_LINK_CURRENT": R(brk=[W("VMCS_LINK_PTR", "rh_current_vmcs()")]),
    "GUEST_PDPTE0_RSVD": R(brk=["rh_pae_guest();", "rh_put64(vmx_scratch_page(2), 7);"], guest=32, note="PDPTE0 present with reserved bits 2:1"),
    "GUEST_PDPTE1_RSVD": R(brk=["rh_pae_guest();", "rh_put64(vmx_scratch_page(2) + 8, 1 | (1u << 5));"], guest=32),
    "GUEST_PDPTE2_RSVD": R(setup=["rh_ept();"], brk=["rh_pae_guest();", W("GUEST_PDPTE2", "1 | RH_FAR")], requires=EPT, guest=32,
                           note="with EPT the PDPTEs come from the VMCS fields"),
    "GUEST_PDPTE3_RSVD": R(setup=["rh_ept();"], brk=["rh_pae_guest();", W("GUEST_PDPTE3", "1 | (1u << 8)")], requires=EPT, guest=32),
    "MSRLOAD_FS_GS_BASE": R(brk=["rh_msr_load(0xc0000100u, 0);"], qual=1),
    "MSRLOAD_X2APIC": R(brk=["rh_msr_load(0x808u, 0);"], qual=1),
    "MSRLOAD_SMM_ONLY": R(brk=["rh_msr_load(0x9bu, 0);"], qual=1),
    "MSRLOAD_MODEL_SPECIFIC": R(brk=["rh_msr_load(0x79u, 0);"], qual=1),
    "MSRLOAD_RSVD": R(brk=["rh_msr_load(0x174u | (1ull << 32), 0x10);"], qual=1),
    "MSRLOAD_WRMSR_GP": R(brk=["rh_msr_load(0x174u, 1ull << 32);"], qual=1, note="IA32_SYSENTER_CS takes 32 bits: WRMSR of bit 32 is #GP"),
})
