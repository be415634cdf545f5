/* vmx/vmcs.c, vmx/vmcs_fields.def, vmx/vmcs_doc.c: the field table agrees
 * with the encoding rules (SDM vol. 3C 24.11.2) and with its own Appendix B
 * section comments, lookups map every encoding (and only those) to its row,
 * existence follows the model's allowed-1 controls, region access applies
 * the width, and docs/vmcs-layout.md is what vmcs_layout_markdown() prints.
 * Run from the repository root (make test does). */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/model.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"

#define FIELDS_DEF "vmx/vmcs_fields.def"
#define LAYOUT_DOC "docs/vmcs-layout.md"

static bool is_64bit(uint32_t enc)
{
	return vmcs_enc_width(enc) == VMCS_W64;
}

static void test_encodings_well_formed(void)
{
	for (int i = 0; i < VF_COUNT; i++) {
		uint32_t enc = vmcs_fields[i].enc;
		CU_ASSERT_EQUAL(enc & 1, 0);                    /* rows are "full" encodings */
		CU_ASSERT_EQUAL(enc & (1u << 12), 0);           /* reserved */
		CU_ASSERT_EQUAL(enc >> 15, 0);                  /* bits 31:15 reserved */
		CU_ASSERT_PTR_NOT_NULL(vmcs_fields[i].name);
		CU_ASSERT(vmcs_fields[i].title && vmcs_fields[i].title[0]);
	}
}

static void test_encodings_and_names_unique(void)
{
	for (int i = 0; i < VF_COUNT; i++)
		for (int j = i + 1; j < VF_COUNT; j++) {
			CU_ASSERT_NOT_EQUAL(vmcs_fields[i].enc, vmcs_fields[j].enc);
			CU_ASSERT(strcmp(vmcs_fields[i].name, vmcs_fields[j].name) != 0);
		}
}

/* Appendix B numbering, computed independently of vmx/vmcs_doc.c:
 * B.1 16-bit (control, guest, host), B.2 64-bit, B.3 32-bit, B.4
 * natural-width (control, read-only data, guest, host). */
static void expected_section(uint32_t enc, char *buf, size_t len)
{
	static const unsigned major[4] = { [VMCS_W16] = 1, [VMCS_W64] = 2, [VMCS_W32] = 3, [VMCS_WNAT] = 4 };
	static const unsigned minor16[4] = { [VMCS_T_CONTROL] = 1, [VMCS_T_GUEST] = 2, [VMCS_T_HOST] = 3 };
	static const unsigned minor[4] = { [VMCS_T_CONTROL] = 1, [VMCS_T_RODATA] = 2, [VMCS_T_GUEST] = 3,
					   [VMCS_T_HOST] = 4 };
	enum vmcs_width w = vmcs_enc_width(enc);
	enum vmcs_type t = vmcs_enc_type(enc);
	snprintf(buf, len, "B.%u.%u", major[w], w == VMCS_W16 ? minor16[t] : minor[t]);
}

/* Each "VMCS_FIELD(enc, NAME, ..." line of the .def sits under a comment
 * "B.x.y <width> <type> field(s)": the row's encoding must say the same
 * width and type, and the section number must be Appendix B's. The rows
 * parsed must be the table's rows, in order. */
static void test_rows_match_section_comments(void)
{
	FILE *f = fopen(FIELDS_DEF, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	char line[512], section[64] = "", group[128] = "";
	int row = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned enc;
		char name[96], sec[64], grp[128];
		if (sscanf(line, "/* %63s %127[^*]", sec, grp) == 2 && strncmp(sec, "B.", 2) == 0) {
			strcpy(section, sec);
			strcpy(group, grp);
			continue;
		}
		if (sscanf(line, "VMCS_FIELD(%x, %95[A-Z0-9_],", &enc, name) != 2)
			continue;
		char want[16];
		expected_section(enc, want, sizeof(want));
		CU_ASSERT_STRING_EQUAL(section, want);
		const char *g = vmcs_group_name(enc);
		if (strncmp(group, g, strlen(g)) != 0 || strncmp(group + strlen(g), " field", 6) != 0) {
			fprintf(stderr, "\n%s: %s (0x%x) is %s but sits under \"%s\"\n", FIELDS_DEF, name, enc, g,
				group);
			CU_FAIL("row under the wrong Appendix B section");
		}
		CU_ASSERT_FATAL(row < VF_COUNT);
		CU_ASSERT_EQUAL(vmcs_fields[row].enc, enc);
		CU_ASSERT_STRING_EQUAL(vmcs_fields[row].name, name);
		row++;
	}
	fclose(f);
	CU_ASSERT_EQUAL(row, VF_COUNT);
}

static void test_region_fits(void)
{
	CU_ASSERT(VMCS_OFF_FIELDS + 8u * VF_COUNT <= VMCS_REGION_SIZE);
	CU_ASSERT(VMCS_OFF_FIELDS >= VMCS_OFF_LAUNCH + 4);
	CU_ASSERT_EQUAL(vmcs_field_offset((enum vmcs_field)0), VMCS_OFF_FIELDS);
	for (int i = 1; i < VF_COUNT; i++)
		CU_ASSERT_EQUAL(vmcs_field_offset((enum vmcs_field)i), vmcs_field_offset((enum vmcs_field)(i - 1)) + 8);
	/* Spot checks of Appendix B facts the rest of vmx/ relies on. */
	CU_ASSERT_EQUAL(vmcs_fields[VF_GUEST_RIP].enc, 0x681e);
	CU_ASSERT_EQUAL(vmcs_fields[VF_SPEC_CTRL_MASK].enc, 0x204a);
	CU_ASSERT_EQUAL(vmcs_fields[VF_SPEC_CTRL_SHADOW].enc, 0x204c);
	CU_ASSERT_EQUAL(vmcs_fields[VF_VM_INSTRUCTION_ERROR].enc, 0x4400);
}

static void test_lookup_every_row(void)
{
	for (int i = 0; i < VF_COUNT; i++) {
		uint32_t enc = vmcs_fields[i].enc;
		bool high = true;
		CU_ASSERT_EQUAL(vmcs_field_lookup(enc, &high), i);
		CU_ASSERT_FALSE(high);
		high = false;
		if (is_64bit(enc)) {
			CU_ASSERT_EQUAL(vmcs_field_lookup(enc | 1, &high), i);
			CU_ASSERT_TRUE(high);
		} else {
			/* 16-bit, 32-bit and natural-width fields allow only full access */
			CU_ASSERT_EQUAL(vmcs_field_lookup(enc | 1, &high), -1);
			CU_ASSERT_FALSE(high);
		}
	}
}

static void test_lookup_non_fields(void)
{
	static const uint32_t bad[] = {
		0x00000001,     /* high half of VPID, a 16-bit field */
		0x00004001,     /* high half of a 32-bit field */
		0x00006801,     /* high half of a natural-width field */
		0x0000ffff, 0x00010000, 0x00012000, 0x00012001, 0x00016800,  /* bits 31:15 set */
		0x00003000,     /* bit 12 set over IO_BITMAP_A */
		0x00002046,     /* unused 64-bit control index */
		0x00004830,     /* past the 32-bit guest-state fields */
		0x0000482c,     /* index 22 of the 32-bit guest-state fields: not assigned */
		0x00006c1e,     /* past the natural-width host-state fields */
		0x00000c0e, 0x00000402, 0xffffffff,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool high = true;
		CU_ASSERT_EQUAL(vmcs_field_lookup(bad[i], &high), -1);
		CU_ASSERT_FALSE(high);
	}
}

/* ---- existence ---- */

struct fake {
	struct cpu_model model;
	struct cpu cpu;
};

static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof(*f));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	f->model.vmx.revision = 1;
	f->cpu.model = &f->model;
	return f;
}

/* Give the model exactly mask in control word dep (and what enables the
 * word: the secondary / tertiary / VM-function words need their
 * activating controls). */
static void model_allow(struct vmx_model *m, enum vmcs_dep dep, uint64_t mask)
{
	switch (dep) {
	case DEP_PIN: m->pin_allowed1 |= (uint32_t)mask; break;
	case DEP_PROC: m->proc_allowed1 |= (uint32_t)mask; break;
	case DEP_PROC2: m->proc_allowed1 |= PROC_SECONDARY_CTLS; m->proc2_allowed1 |= (uint32_t)mask; break;
	case DEP_PROC3: m->proc_allowed1 |= PROC_TERTIARY_CTLS; m->proc3_allowed1 |= mask; break;
	case DEP_EXIT: m->exit_allowed1 |= (uint32_t)mask; break;
	case DEP_EXIT2: m->exit_allowed1 |= EXIT_SECONDARY_CTLS; m->exit2_allowed1 |= mask; break;
	case DEP_ENTRY: m->entry_allowed1 |= (uint32_t)mask; break;
	case DEP_VMFUNC:
		m->proc_allowed1 |= PROC_SECONDARY_CTLS;
		m->proc2_allowed1 |= PROC2_VMFUNC;
		m->vmfunc |= mask;
		break;
	default: CU_FAIL("not a single-word dependency"); break;
	}
}

static void test_exists_nothing_offered(void)
{
	struct fake *f = fake_new();
	for (int i = 0; i < VF_COUNT; i++)
		CU_ASSERT_EQUAL(vmcs_field_exists(&f->cpu, (enum vmcs_field)i), vmcs_fields[i].dep == DEP_ALWAYS);
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_GUEST_RIP));
	CU_ASSERT_FALSE(vmcs_field_exists(&f->cpu, VF_VPID));
	free(f);
}

/* Every single-control field: present with exactly its control, absent
 * with every other bit of the same word. */
static void test_exists_single_control(void)
{
	for (int i = 0; i < VF_COUNT; i++) {
		const struct vmcs_field_info *fi = &vmcs_fields[i];
		if (fi->dep == DEP_ALWAYS || fi->dep >= DEP_ENTRY_OR_EXIT)
			continue;
		struct fake *f = fake_new();
		model_allow(&f->model.vmx, fi->dep, fi->ctl);
		CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, (enum vmcs_field)i));
		memset(&f->model.vmx, 0, sizeof(f->model.vmx));
		f->model.vmx.revision = 1;
		model_allow(&f->model.vmx, fi->dep, ~fi->ctl & (fi->dep == DEP_PROC3 || fi->dep == DEP_EXIT2 ||
								fi->dep == DEP_VMFUNC ? ~0ull : 0xffffffffull));
		if (vmcs_field_exists(&f->cpu, (enum vmcs_field)i)) {
			fprintf(stderr, "\n%s exists without %s\n", fi->name, fi->ctl_text);
			CU_FAIL("field exists without its control");
		}
		free(f);
	}
}

/* The two-way notes of Table B-6 and B-2: either control suffices. */
static void test_exists_either_control(void)
{
	struct fake *f = fake_new();
	struct vmx_model *m = &f->model.vmx;

	m->entry_allowed1 = ENTRY_LOAD_PAT;
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_GUEST_IA32_PAT));
	CU_ASSERT_FALSE(vmcs_field_exists(&f->cpu, VF_HOST_IA32_PAT));      /* needs exit "load IA32_PAT" */
	CU_ASSERT_FALSE(vmcs_field_exists(&f->cpu, VF_GUEST_IA32_EFER));
	m->entry_allowed1 = 0;
	m->exit_allowed1 = EXIT_SAVE_PAT;
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_GUEST_IA32_PAT));
	CU_ASSERT_FALSE(vmcs_field_exists(&f->cpu, VF_HOST_IA32_PAT));
	m->exit_allowed1 = EXIT_LOAD_PAT;
	CU_ASSERT_FALSE(vmcs_field_exists(&f->cpu, VF_GUEST_IA32_PAT));
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_HOST_IA32_PAT));
	m->exit_allowed1 = EXIT_SAVE_EFER;
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_GUEST_IA32_EFER));
	m->exit_allowed1 = EXIT_CLEAR_BNDCFGS | EXIT_CLEAR_RTIT_CTL | EXIT_CLEAR_LBR_CTL | EXIT_CLEAR_UINV;
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_GUEST_IA32_BNDCFGS));
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_GUEST_IA32_RTIT_CTL));
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_GUEST_IA32_LBR_CTL));
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_GUEST_UINV));
	CU_ASSERT_FALSE(vmcs_field_exists(&f->cpu, VF_GUEST_IA32_PKRS));   /* entry "load PKRS" only */
	m->exit_allowed1 = 0;
	m->entry_allowed1 = ENTRY_LOAD_UINV;
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_GUEST_UINV));
	CU_ASSERT_FALSE(vmcs_field_exists(&f->cpu, VF_GUEST_IA32_FRED_CONFIG));
	m->entry_allowed1 = 0;
	m->exit_allowed1 = EXIT_SECONDARY_CTLS;
	m->exit2_allowed1 = EXIT2_SAVE_FRED;
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_GUEST_IA32_FRED_SSP3));
	CU_ASSERT_FALSE(vmcs_field_exists(&f->cpu, VF_HOST_IA32_FRED_SSP3)); /* host: exit "load FRED" */
	m->exit2_allowed1 = EXIT2_LOAD_FRED;
	CU_ASSERT_FALSE(vmcs_field_exists(&f->cpu, VF_GUEST_IA32_FRED_SSP3));
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_HOST_IA32_FRED_SSP3));
	free(f);
}

/* Notes the first table had wrong: check them by name. */
static void test_exists_specific_notes(void)
{
	struct fake *f = fake_new();
	struct vmx_model *m = &f->model.vmx;

	m->proc_allowed1 = PROC_TERTIARY_CTLS;
	m->proc3_allowed1 = PROC3_IPI_VIRT;
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_LAST_PID_PTR_INDEX));
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_PID_PTR_TABLE_ADDR));
	CU_ASSERT_FALSE(vmcs_field_exists(&f->cpu, VF_SHARED_EPTP));
	CU_ASSERT_FALSE(vmcs_field_exists(&f->cpu, VF_LOW_PASID_DIR_ADDR));
	m->proc3_allowed1 = PROC3_SEAM_GPAW;
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_SHARED_EPTP));
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_SEAM_GUEST_KEYID));
	CU_ASSERT_FALSE(vmcs_field_exists(&f->cpu, VF_LAST_PID_PTR_INDEX));
	m->proc_allowed1 = PROC_SECONDARY_CTLS;
	m->proc3_allowed1 = 0;
	m->proc2_allowed1 = PROC2_PASID_TRANSLATION;
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_HIGH_PASID_DIR_ADDR));
	m->proc2_allowed1 = PROC2_EPT;
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_GUEST_PDPTE3));
	CU_ASSERT_TRUE(vmcs_field_exists(&f->cpu, VF_GUEST_PHYS_ADDR));
	CU_ASSERT_FALSE(vmcs_field_exists(&f->cpu, VF_VPID));
	free(f);
}

/* ---- region access ---- */

#define RAM (64 * PAGE_SIZE)
#define REGION 0x3000u

static struct fake *fake_with_ram(struct phys_map *pm)
{
	struct fake *f = fake_new();
	CU_ASSERT_FATAL(phys_init(pm, RAM) == 0);
	f->cpu.phys = pm;
	CU_ASSERT_FATAL(phys_fill(pm, REGION, 0xa5, VMCS_REGION_SIZE) == 0);
	return f;
}

static uint64_t slot(struct phys_map *pm, enum vmcs_field fld)
{
	return phys_read(pm, REGION + vmcs_field_offset(fld), 8);
}

static void test_region_write_truncates(void)
{
	struct phys_map pm;
	struct fake *f = fake_with_ram(&pm);
	const uint64_t v = 0x8877665544332211ull;

	vmcs_region_write(&f->cpu, REGION, VF_GUEST_CS_SELECTOR, v);         /* 16-bit */
	vmcs_region_write(&f->cpu, REGION, VF_GUEST_CS_LIMIT, v);            /* 32-bit */
	vmcs_region_write(&f->cpu, REGION, VF_VMCS_LINK_PTR, v);             /* 64-bit */
	vmcs_region_write(&f->cpu, REGION, VF_GUEST_RIP, v);                 /* natural */
	CU_ASSERT_EQUAL(slot(&pm, VF_GUEST_CS_SELECTOR), 0x2211u);
	CU_ASSERT_EQUAL(slot(&pm, VF_GUEST_CS_LIMIT), 0x44332211u);
	CU_ASSERT_EQUAL(slot(&pm, VF_VMCS_LINK_PTR), v);
	CU_ASSERT_EQUAL(slot(&pm, VF_GUEST_RIP), v);
	/* neighbours and the header untouched */
	CU_ASSERT_EQUAL(slot(&pm, VF_GUEST_ES_SELECTOR), 0xa5a5a5a5a5a5a5a5ull);
	CU_ASSERT_EQUAL(slot(&pm, VF_GUEST_SS_SELECTOR), 0xa5a5a5a5a5a5a5a5ull);
	CU_ASSERT_EQUAL(phys_read(&pm, REGION + VMCS_OFF_LAUNCH, 4), 0xa5a5a5a5u);
	CU_ASSERT_EQUAL(phys_read(&pm, REGION + vmcs_field_offset(VF_GUEST_CS_SELECTOR) - 1, 1), 0xa5u);
	phys_destroy(&pm);
	free(f);
}

static void test_region_read_zero_extends(void)
{
	struct phys_map pm;
	struct fake *f = fake_with_ram(&pm);

	/* the slots hold 0xa5 bytes: a read returns only the field's width */
	CU_ASSERT_EQUAL(vmcs_region_read(&f->cpu, REGION, VF_HOST_TR_SELECTOR), 0xa5a5u);
	CU_ASSERT_EQUAL(vmcs_region_read(&f->cpu, REGION, VF_EXIT_REASON), 0xa5a5a5a5u);
	CU_ASSERT_EQUAL(vmcs_region_read(&f->cpu, REGION, VF_TSC_OFFSET), 0xa5a5a5a5a5a5a5a5ull);
	CU_ASSERT_EQUAL(vmcs_region_read(&f->cpu, REGION, VF_HOST_RIP), 0xa5a5a5a5a5a5a5a5ull);
	/* through the current-VMCS pointer, round trip of every field */
	f->cpu.vmx.vmcs_ptr = REGION;
	for (int i = 0; i < VF_COUNT; i++)
		vmcs_write(&f->cpu, (enum vmcs_field)i, 0xf0e0d0c0b0a09080ull + (uint64_t)i);
	for (int i = 0; i < VF_COUNT; i++) {
		uint64_t want = 0xf0e0d0c0b0a09080ull + (uint64_t)i;
		switch (vmcs_enc_width(vmcs_fields[i].enc)) {
		case VMCS_W16: want &= 0xffff; break;
		case VMCS_W32: want &= 0xffffffff; break;
		default: break;
		}
		CU_ASSERT_EQUAL(vmcs_read(&f->cpu, (enum vmcs_field)i), want);
	}
	phys_destroy(&pm);
	free(f);
}

/* ---- the layout document ---- */

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	*len = n;
	return buf;
}

static void test_layout_doc_is_current(void)
{
	char *want = NULL;
	size_t wantlen = 0;
	FILE *mem = open_memstream(&want, &wantlen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mem);
	vmcs_layout_markdown(mem);
	fclose(mem);

	FILE *f = fopen(LAYOUT_DOC, "r");
	if (!f) {
		fprintf(stderr, "\n%s: cannot open (run the unit tests from the repository root)\n", LAYOUT_DOC);
		CU_FAIL_FATAL("docs/vmcs-layout.md missing");
	}
	size_t havelen;
	char *have = read_all(f, &havelen);
	fclose(f);
	bool same = have && havelen == wantlen && memcmp(have, want, wantlen) == 0;
	if (!same)
		fprintf(stderr, "\n%s is stale: run build/vtxsim --vmcs-layout > %s\n", LAYOUT_DOC, LAYOUT_DOC);
	CU_ASSERT_TRUE(same);
	/* and it says what it must */
	CU_ASSERT_PTR_NOT_NULL(strstr(want, "| 16 | 0x00000000 | `VPID` |"));
	CU_ASSERT_PTR_NOT_NULL(strstr(want, "VMCS_LAUNCH_CLEAR` = 0x7674636c"));
	CU_ASSERT_PTR_NOT_NULL(strstr(want, "A VMCS region is 4096 bytes"));
	CU_ASSERT_PTR_NOT_NULL(strstr(want, "`ENTRY_LOAD_PAT` (VM-entry control, bit 14) or `EXIT_SAVE_PAT` "
					    "(primary VM-exit control, bit 18) may be 1"));
	free(have);
	free(want);
}

void suite_vmx_fields(void)
{
	CU_pSuite s = CU_add_suite("vmx_fields", NULL, NULL);
	CU_add_test(s, "encodings well formed", test_encodings_well_formed);
	CU_add_test(s, "encodings and names unique", test_encodings_and_names_unique);
	CU_add_test(s, "rows under the right Appendix B section", test_rows_match_section_comments);
	CU_add_test(s, "region fits, offsets from row numbers", test_region_fits);
	CU_add_test(s, "lookup of every row and high half", test_lookup_every_row);
	CU_add_test(s, "lookup of encodings that are not fields", test_lookup_non_fields);
	CU_add_test(s, "no capability: only always-fields exist", test_exists_nothing_offered);
	CU_add_test(s, "single-control fields follow their control", test_exists_single_control);
	CU_add_test(s, "two-way notes: either control", test_exists_either_control);
	CU_add_test(s, "IPI virt, SEAM, PASID, EPT notes", test_exists_specific_notes);
	CU_add_test(s, "region write truncates to the width", test_region_write_truncates);
	CU_add_test(s, "region read zero-extends; round trip", test_region_read_zero_extends);
	CU_add_test(s, "docs/vmcs-layout.md is current", test_layout_doc_is_current);
}
