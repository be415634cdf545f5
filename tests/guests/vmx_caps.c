/* vmx_caps: the VMX capabilities read as a hypervisor reads them (SDM vol.
 * 3C Appendix A; 23.6 discovering VMX support, 23.7 enabling and entering
 * VMX operation, 23.8 restrictions on VMX operation): CPUID.1:ECX.VMX, the
 * capability MSRs 480H-493H and the rules they obey on every model, which of
 * them exist, that they are read-only, IA32_FEATURE_CONTROL and its lock,
 * and CR4.VMXE outside VMX operation. Run once per model; -append
 * "model=NAME" adds the model's own expectations, "flags=+F,-G" the
 * -cpu feature flags' (vmx/features.def). */
#include "guest.h"
#include "vmx/caps_bits.h"
#include "vmx/controls.h"
#include "vmx_insn.h"

/* MSR numbers from the one table (cpu/msrs.def), prefixed to keep clear of
 * x86.h's names. */
enum {
#define MSR_FIELD(idx, nm, feat, field, reset, check) G_##nm = (idx),
#define MSR_FN(idx, nm, feat, rd, wr) G_##nm = (idx),
#define MSR_VMX_CAP(idx, nm) G_##nm = (idx),
#include "cpu/msrs.def"
#undef MSR_FIELD
#undef MSR_FN
#undef MSR_VMX_CAP
};


#define FC_LOCK (1ul << 0)
#define FC_VMX_SMX (1ul << 1)
#define FC_VMX (1ul << 2)
#define CR4_VMXE (1ul << 13)
#define CR4_SMXE (1ul << 14)

struct msr_op {
	uint32_t idx;
	uint64_t val;
};

static void do_rdmsr(void *arg)
{
	struct msr_op *o = arg;
	o->val = rdmsr(o->idx);
}

static void do_wrmsr(void *arg)
{
	struct msr_op *o = arg;
	wrmsr(o->idx, o->val);
}

static void do_write_cr4(void *arg)
{
	write_cr4(*(uint64_t *)arg);
}

static bool gp0(const struct fault *f)
{
	return f->raised && f->vector == VEC_GP && f->error_code == 0;
}

/* RDMSR: true with *v when it exists; false when it raised #GP(0). */
static bool try_rdmsr(uint32_t idx, uint64_t *v)
{
	struct msr_op o = { idx, 0 };
	struct fault f;
	catch_fault(do_rdmsr, &o, &f);
	if (f.raised && !gp0(&f))
		report(false, "rdmsr %#x raised vector %u error %#lx", idx, f.vector, f.error_code);
	*v = o.val;
	return !f.raised;
}

static bool wrmsr_gp0(uint32_t idx, uint64_t v)
{
	struct msr_op o = { idx, v };
	struct fault f;
	catch_fault(do_wrmsr, &o, &f);
	return gp0(&f);
}

/* The capability MSRs as read once. */
static struct caps {
	uint64_t basic, pin, proc, exit, entry, misc, cr0f0, cr0f1, cr4f0, cr4f1, vmcs_enum;
	uint64_t proc2, ept_vpid, vmfunc, proc3, exit2;
	bool has_proc2, has_ept_vpid, has_vmfunc, has_proc3, has_exit2;
} k;

static uint32_t lo(uint64_t v) { return (uint32_t)v; }
static uint32_t hi(uint64_t v) { return (uint32_t)(v >> 32); }

static uint64_t must(uint32_t idx, const char *name)
{
	uint64_t v = 0;
	bool ok = try_rdmsr(idx, &v);
	report(ok, "rdmsr %s (%#x) = %#lx", name, idx, v);
	return v;
}

static void read_caps(void)
{
	k.basic = must(G_IA32_VMX_BASIC, "IA32_VMX_BASIC");
	k.pin = must(G_IA32_VMX_PINBASED_CTLS, "IA32_VMX_PINBASED_CTLS");
	k.proc = must(G_IA32_VMX_PROCBASED_CTLS, "IA32_VMX_PROCBASED_CTLS");
	k.exit = must(G_IA32_VMX_EXIT_CTLS, "IA32_VMX_EXIT_CTLS");
	k.entry = must(G_IA32_VMX_ENTRY_CTLS, "IA32_VMX_ENTRY_CTLS");
	k.misc = must(G_IA32_VMX_MISC, "IA32_VMX_MISC");
	k.cr0f0 = must(G_IA32_VMX_CR0_FIXED0, "IA32_VMX_CR0_FIXED0");
	k.cr0f1 = must(G_IA32_VMX_CR0_FIXED1, "IA32_VMX_CR0_FIXED1");
	k.cr4f0 = must(G_IA32_VMX_CR4_FIXED0, "IA32_VMX_CR4_FIXED0");
	k.cr4f1 = must(G_IA32_VMX_CR4_FIXED1, "IA32_VMX_CR4_FIXED1");
	k.vmcs_enum = must(G_IA32_VMX_VMCS_ENUM, "IA32_VMX_VMCS_ENUM");
	k.has_proc2 = try_rdmsr(G_IA32_VMX_PROCBASED_CTLS2, &k.proc2);
	k.has_ept_vpid = try_rdmsr(G_IA32_VMX_EPT_VPID_CAP, &k.ept_vpid);
	k.has_vmfunc = try_rdmsr(G_IA32_VMX_VMFUNC, &k.vmfunc);
	k.has_proc3 = try_rdmsr(G_IA32_VMX_PROCBASED_CTLS3, &k.proc3);
	k.has_exit2 = try_rdmsr(G_IA32_VMX_EXIT_CTLS2, &k.exit2);
}

/* A.1 */
static void check_basic(void)
{
	report(k.basic & VMX_BASIC_REVISION_MASK, "BASIC: revision identifier %#lx is not 0",
	       (uint64_t)(k.basic & VMX_BASIC_REVISION_MASK));
	report(!(k.basic & (1ul << 31)), "BASIC[31] is 0");
	report_eq((k.basic >> VMX_BASIC_REGION_SIZE_SHIFT) & VMX_BASIC_REGION_SIZE_MASK, 4096,
		  "BASIC[44:32]: VMXON/VMCS regions of 4096 bytes");
	report(!(k.basic & VMX_BASIC_PA32), "BASIC[48] = 0: addresses up to MAXPHYADDR (Intel 64)");
	report_eq((k.basic >> VMX_BASIC_MEMTYPE_SHIFT) & 0xf, VMX_BASIC_MEMTYPE_WB, "BASIC[53:50]: memory type WB");
}

/* A.3.1, A.3.2, A.4.1, A.5: a non-TRUE MSR and its TRUE twin. */
static void check_pair(const char *name, uint64_t v, uint32_t true_idx, uint32_t default1)
{
	uint64_t t;
	bool has_true = try_rdmsr(true_idx, &t);

	report(!(lo(v) & ~hi(v)), "%s: allowed-0 settings within allowed-1 (%#lx)", name, v);
	report_eq(lo(v), default1, "%s: every default1 control reads must-be-1", name);
	report(has_true == !!(k.basic & VMX_BASIC_TRUE_CTLS), "TRUE %s exists exactly when BASIC[55] = 1", name);
	if (!has_true)
		return;
	report(!(lo(t) & ~lo(v)), "TRUE %s: allowed-0 within the non-TRUE one (%#x vs %#x)", name, lo(t), lo(v));
	report(!(lo(t) & ~hi(t)), "TRUE %s: allowed-0 settings within allowed-1", name);
	report_eq(hi(t), hi(v), "TRUE %s: the same allowed-1 settings", name);
}

/* A.3.3, A.3.4, A.4.2, A.10, A.11 */
static void check_existence(void)
{
	uint32_t p2 = k.has_proc2 ? hi(k.proc2) : 0;
	report(k.has_proc2 == !!(hi(k.proc) & PROC_SECONDARY_CTLS),
	       "PROCBASED_CTLS2 exists exactly when \"activate secondary controls\" may be 1");
	report(!k.has_proc2 || lo(k.proc2) == 0, "PROCBASED_CTLS2: no control must be 1");
	report(k.has_proc3 == !!(hi(k.proc) & PROC_TERTIARY_CTLS),
	       "PROCBASED_CTLS3 exists exactly when \"activate tertiary controls\" may be 1");
	report(k.has_exit2 == !!(hi(k.exit) & EXIT_SECONDARY_CTLS),
	       "EXIT_CTLS2 exists exactly when \"activate secondary VM-exit controls\" may be 1");
	report(k.has_vmfunc == !!(p2 & PROC2_VMFUNC), "VMFUNC exists exactly when \"enable VM functions\" may be 1");
	report(k.has_ept_vpid == !!(p2 & (PROC2_EPT | PROC2_VPID)),
	       "EPT_VPID_CAP exists exactly when \"enable EPT\" or \"enable VPID\" may be 1");
	if (p2 & PROC2_EPT)
		report((k.ept_vpid & VMX_EPT_PWL4) && (k.ept_vpid & VMX_EPT_MEMTYPE_WB),
		       "EPT: page-walk length 4 and WB paging structures (%#lx)", k.ept_vpid);
	if (p2 & PROC2_UNRESTRICTED)
		report(k.misc & VMX_MISC_STORE_LMA, "MISC[5] = 1 with unrestricted guest (A.6)");
}

/* A.7, A.8, and CR4_FIXED1 against CPUID. */
static void check_fixed(void)
{
	struct cpuid_regs l1 = cpuid(1, 0), l7 = cpuid(7, 0);
	report_eq(k.cr0f0, CR0_PE | (1ul << 5) | CR0_PG, "CR0_FIXED0 = PE | NE | PG");
	report(!(k.cr0f0 & ~k.cr0f1), "CR0: fixed-1 bits are allowed-1 (%#lx, %#lx)", k.cr0f0, k.cr0f1);
	report_eq(k.cr4f0, CR4_VMXE, "CR4_FIXED0 = VMXE");
	report(!(k.cr4f0 & ~k.cr4f1), "CR4: fixed-1 bits are allowed-1 (%#lx, %#lx)", k.cr4f0, k.cr4f1);
	report(!!(k.cr4f1 & (1ul << 12)) == !!(l7.c & (1u << 16)), "CR4_FIXED1.LA57 follows CPUID.7:ECX.LA57");
	report(!!(k.cr4f1 & (1ul << 22)) == !!(l7.c & (1u << 3)), "CR4_FIXED1.PKE follows CPUID.7:ECX.PKU");
	report(!!(k.cr4f1 & (1ul << 20)) == !!(l7.b & (1u << 7)), "CR4_FIXED1.SMEP follows CPUID.7:EBX.SMEP");
	report(!!(k.cr4f1 & (1ul << 17)) == !!(l1.c & (1u << 17)), "CR4_FIXED1.PCIDE follows CPUID.1:ECX.PCID");
	report(!(k.cr4f1 & CR4_SMXE), "CR4_FIXED1.SMXE = 0: no SMX");
}


/* A.9: the highest index of a field this CPU supports, recomputed from the
 * field table and the MSRs read above. */
static void check_vmcs_enum(void)
{
	uint64_t top = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(vmx_field_rows); i++) {
		uint64_t index = (vmx_field_rows[i].enc >> 1) & 0x1ff;
		if (index > top && vmx_field_exists(&vmx_field_rows[i]))
			top = index;
	}
	report_eq(k.vmcs_enum, top << 1, "VMCS_ENUM[9:1] is the highest index of a supported field");
}

/* A.6 */
static void check_misc(void)
{
	report(!(k.misc & (0x1ful << 9 | 1ul << 31)), "MISC: reserved bits 13:9 and 31 are 0 (%#lx)", k.misc);
	report(((k.misc >> VMX_MISC_CR3_TARGETS_SHIFT) & VMX_MISC_CR3_TARGETS_MASK) <= 256,
	       "MISC[24:16]: at most 256 CR3-target values");
	if (hi(k.exit) & EXIT_SAVE_PREEMPT_TIMER)
		report(hi(k.pin) & PIN_PREEMPTION_TIMER, "\"save preemption timer\" only with the timer");
}

/* Appendix A: the capability MSRs are read-only; absent ones #GP too. */
static void check_read_only(void)
{
	unsigned bad = 0, present = 0;
	for (uint32_t idx = G_IA32_VMX_BASIC; idx <= G_IA32_VMX_EXIT_CTLS2; idx++) {
		uint64_t v = 0, after = 0;
		bool there = try_rdmsr(idx, &v);
		present += there;
		if (!wrmsr_gp0(idx, v) || !wrmsr_gp0(idx, 0) || try_rdmsr(idx, &after) != there || after != v) {
			printf("      msr %#x: write did not #GP(0) or changed it\n", idx);
			bad++;
		}
	}
	report(bad == 0, "WRMSR to each of 480H-493H is #GP(0) and changes nothing (%u present)", present);
	uint64_t v;
	report(!try_rdmsr(G_IA32_VMX_EXIT_CTLS2 + 1, &v), "RDMSR 494H is #GP(0)");
}

/* 23.7: firmware left it 0; bit 1 needs SMX; once locked, #GP(0). */
static void check_feature_control(void)
{
	uint64_t fc = rdmsr(G_IA32_FEATURE_CONTROL);
	report_eq(fc, 0, "IA32_FEATURE_CONTROL is 0 (unlocked) at boot");
	report(wrmsr_gp0(G_IA32_FEATURE_CONTROL, FC_VMX_SMX | FC_VMX),
	       "setting \"enable VMX inside SMX\" without SMX is #GP(0)");
	report(wrmsr_gp0(G_IA32_FEATURE_CONTROL, 1ul << 20), "a reserved bit (LMCE, 20) is #GP(0)");
	wrmsr(G_IA32_FEATURE_CONTROL, FC_VMX | FC_LOCK);
	report_eq(rdmsr(G_IA32_FEATURE_CONTROL), FC_VMX | FC_LOCK, "lock + VMX outside SMX reads back");
	report(wrmsr_gp0(G_IA32_FEATURE_CONTROL, FC_VMX | FC_LOCK), "writing it again after the lock is #GP(0)");
	report(wrmsr_gp0(G_IA32_FEATURE_CONTROL, 0), "clearing it after the lock is #GP(0)");
	report_eq(rdmsr(G_IA32_FEATURE_CONTROL), FC_VMX | FC_LOCK, "and it keeps its value");
}

/* CR4.VMXE outside VMX operation: set and cleared freely (23.7); a bit that
 * CR4_FIXED1 lacks is reserved. */
static void check_cr4_vmxe(void)
{
	uint64_t cr4 = read_cr4(), v = cr4 | CR4_SMXE;
	struct fault f;
	write_cr4(cr4 | CR4_VMXE);
	report(read_cr4() & CR4_VMXE, "MOV to CR4 sets VMXE outside VMX operation");
	write_cr4(cr4 & ~CR4_VMXE);
	report(!(read_cr4() & CR4_VMXE), "MOV to CR4 clears VMXE outside VMX operation");
	catch_fault(do_write_cr4, &v, &f);
	report(gp0(&f), "MOV to CR4 setting SMXE (not in CR4_FIXED1) is #GP(0)");
	report_eq(read_cr4(), cr4 & ~CR4_VMXE, "CR4 unchanged by the faulting write");
}

/* What each model row promises (cpu/models.def). */
static void check_model(const char *model)
{
	uint32_t p2 = k.has_proc2 ? hi(k.proc2) : 0;
	if (strcmp(model, "core2") == 0) {
		report_eq(k.basic & VMX_BASIC_REVISION_MASK, 0xd, "core2: revision 0xd");
		report(!k.has_proc2 && !(k.basic & VMX_BASIC_TRUE_CTLS), "core2: no secondary controls, no TRUE MSRs");
		report(!(hi(k.pin) & PIN_PREEMPTION_TIMER), "core2: no VMX-preemption timer");
	} else if (strcmp(model, "haswell") == 0) {
		report_eq(k.basic & VMX_BASIC_REVISION_MASK, 0x12, "haswell: revision 0x12");
		report((p2 & PROC2_EPT) && (p2 & PROC2_UNRESTRICTED) && !(p2 & PROC2_VIRT_INTR_DELIVERY),
		       "haswell: EPT and unrestricted guest, no virtual-interrupt delivery");
		report(!(k.ept_vpid & VMX_EPT_PWL5), "haswell: no 5-level EPT");
	} else {
		report_eq(k.basic & VMX_BASIC_REVISION_MASK, 4, "icelake-server: revision 4");
		report((hi(k.pin) & PIN_POSTED_INTR) && (p2 & PROC2_PML) && (k.ept_vpid & VMX_EPT_PWL5),
		       "icelake-server: posted interrupts, PML, 5-level EPT");
		report_eq(k.vmfunc, VMX_VMFUNC_EPTP_SWITCHING, "icelake-server: VMFUNC offers EPTP switching");
	}
}

/* -append "flags=+vmx-tertiary,-vmx-ept-ad": what vtxsim's -cpu was given
 * on top of the model. The rows of vmx/features.def name the word and bits;
 * each offered flag must read 1 there, each withheld one 0. */
#define NEED(id) 0
#define CPUID_BIT(word, name) CPUID_7_EBX_##name
#define CPUID_7_EBX_MPX (1u << 14)      /* CPUID.(EAX=07H,ECX=0):EBX.MPX (SDM vol. 2A Table 3-8) */
enum flag_word { FW_PIN, FW_PROC, FW_PROC2, FW_PROC3, FW_EXIT, FW_EXIT2, FW_ENTRY, FW_BASIC, FW_MISC,
		 FW_EPT_VPID, FW_VMFUNC, FW_CPUID_7_EBX };
static const struct {
	const char *name;
	enum flag_word word;
	uint64_t bits;
} flag_rows[] = {
#define VMX_FEATURE(id, nm, w, b, beh, needs, brings, desc, warn) { nm, w, b },
#include "vmx/features.def"
#undef VMX_FEATURE
};

static uint64_t flag_word(enum flag_word w)
{
	switch (w) {
	case FW_PIN: return hi(k.pin);
	case FW_PROC: return hi(k.proc);
	case FW_PROC2: return k.has_proc2 ? hi(k.proc2) : 0;
	case FW_PROC3: return k.has_proc3 ? k.proc3 : 0;
	case FW_EXIT: return hi(k.exit);
	case FW_EXIT2: return k.has_exit2 ? k.exit2 : 0;
	case FW_ENTRY: return hi(k.entry);
	case FW_BASIC: return k.basic;
	case FW_MISC: return k.misc;
	case FW_EPT_VPID: return k.has_ept_vpid ? k.ept_vpid : 0;
	case FW_VMFUNC: return k.has_vmfunc ? k.vmfunc : 0;
	case FW_CPUID_7_EBX: return cpuid(7, 0).b;
	}
	return 0;
}

static void check_flag(const char *flag)
{
	for (unsigned i = 0; i < ARRAY_SIZE(flag_rows); i++) {
		if (strcmp(flag_rows[i].name, flag + 1) != 0)
			continue;
		uint64_t got = flag_word(flag_rows[i].word) & flag_rows[i].bits;
		if (flag[0] == '+')
			report_eq(got, flag_rows[i].bits, "%s: every bit offered", flag);
		else
			report_eq(got, 0, "%s: every bit withheld", flag);
		return;
	}
	report(false, "flag %s is not a row of vmx/features.def", flag);
}

static void check_flags(const char *flags)
{
	for (const char *p = flags; *p;) {
		const char *e = p;
		while (*e && *e != ',')
			e++;
		char one[64] = "";
		if ((size_t)(e - p) < sizeof(one))
			memcpy(one, p, (size_t)(e - p));
		check_flag(one);
		p = *e ? e + 1 : e;
	}
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)mbinfo;
	char model[32] = "icelake-server", flags[256] = "";
	(void)magic;
	if (mbi->flags & MBI_CMDLINE) {
		cmdline_get((const char *)(uintptr_t)mbi->cmdline, "model", model, sizeof(model));
		cmdline_get((const char *)(uintptr_t)mbi->cmdline, "flags", flags, sizeof(flags));
	}
	report_info("model %s, flags '%s'", model, flags);

	report(cpuid(1, 0).c & (1u << 5), "CPUID.1:ECX.VMX[5] = 1");
	read_caps();
	check_basic();
	check_pair("PINBASED_CTLS", k.pin, G_IA32_VMX_TRUE_PINBASED_CTLS, VMX_PIN_DEFAULT1);
	check_pair("PROCBASED_CTLS", k.proc, G_IA32_VMX_TRUE_PROCBASED_CTLS, VMX_PROC_DEFAULT1);
	check_pair("EXIT_CTLS", k.exit, G_IA32_VMX_TRUE_EXIT_CTLS, VMX_EXIT_DEFAULT1);
	check_pair("ENTRY_CTLS", k.entry, G_IA32_VMX_TRUE_ENTRY_CTLS, VMX_ENTRY_DEFAULT1);
	check_existence();
	check_fixed();
	check_vmcs_enum();
	check_misc();
	check_read_only();
	check_feature_control();
	check_cr4_vmxe();
	check_model(model);
	check_flags(flags);
	report_summary();
}
