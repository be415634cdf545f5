/* vmx/watch.c and the watch marks of mem/phys.c: a guest's ordinary store
 * into an active VMCS or the VMXON region (SDM vol. 3C 24.11.1, 24.11.5) is
 * carried out and draws a warning naming the rule; VMX's own writes, and
 * stores to other pages, do not. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "tests/unit/cpu/harness.h"
#include "vmx/vmcs.h"
#include "vmx/watch.h"

#define VMCS_PA  0x20000u
#define VMXON_PA 0x22000u

struct warnings {
	int n;
	char last[256];
};

static void collect(void *ctx, const char *msg)
{
	struct warnings *w = ctx;
	w->n++;
	snprintf(w->last, sizeof(w->last), "%s", msg);
}

static struct harness *setup(struct warnings *w)
{
	struct harness *h = harness_create(true);
	memset(w, 0, sizeof(*w));
	h->cpu.warn = collect;
	h->cpu.warn_ctx = w;
	return h;
}

/* mov rax, pa; mov qword [rax], 0x11223344; hlt */
static void guest_store(struct harness *h, uint64_t pa)
{
	uint8_t code[] = { 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0x48, 0xc7, 0x00, 0x44, 0x33, 0x22, 0x11, 0xf4 };
	memcpy(code + 2, &pa, 8);
	CU_ASSERT_EQUAL(harness_run(h, code, sizeof(code)), CPU_STOP_HALTED);
}

static void test_store_into_active_vmcs_warns(void)
{
	struct warnings w;
	struct harness *h = setup(&w);

	guest_store(h, VMCS_PA + 0x100);        /* before the watch: silent, and the TLB may cache a write entry */
	CU_ASSERT_EQUAL(w.n, 0);
	CU_ASSERT_EQUAL(vmx_watch_region(&h->cpu, VMCS_PA, VMCS_REGION_SIZE, VMX_WATCH_VMCS), 0);
	CU_ASSERT_TRUE(phys_write_hooked(&h->pm, VMCS_PA + 0xfff));
	CU_ASSERT_FALSE(phys_write_hooked(&h->pm, VMCS_PA + 0x1000));
	guest_store(h, VMCS_PA + 0x108);
	CU_ASSERT_EQUAL(w.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(w.last, "guest wrote 8 bytes at 0x20108 inside the VMCS at 0x20000"));
	CU_ASSERT_PTR_NOT_NULL(strstr(w.last, "SDM 24.11.1: software accesses an active VMCS only with VMREAD and VMWRITE"));
	CU_ASSERT_EQUAL(phys_read(&h->pm, VMCS_PA + 0x108, 8), 0x11223344u);   /* the store happened */
	guest_store(h, VMCS_PA + 0x1000);       /* the next page is not watched */
	CU_ASSERT_EQUAL(w.n, 1);
	harness_destroy(h);
}

static void test_vmx_own_writes_are_silent(void)
{
	struct warnings w;
	struct harness *h = setup(&w);

	CU_ASSERT_EQUAL(vmx_watch_region(&h->cpu, VMCS_PA, VMCS_REGION_SIZE, VMX_WATCH_VMCS), 0);
	vmcs_region_write(&h->cpu, VMCS_PA, VF_GUEST_RIP, 0xfeedull);
	CU_ASSERT_EQUAL(vmcs_region_read(&h->cpu, VMCS_PA, VF_GUEST_RIP), 0xfeedull);
	CU_ASSERT_EQUAL(w.n, 0);
	phys_write(&h->pm, VMCS_PA + 8, 0, 4);  /* an ordinary physical write (a device, say) does warn */
	CU_ASSERT_EQUAL(w.n, 1);
	harness_destroy(h);
}

static void test_vmxon_region_and_unwatch(void)
{
	struct warnings w;
	struct harness *h = setup(&w);

	CU_ASSERT_EQUAL(vmx_watch_region(&h->cpu, VMXON_PA, VMCS_REGION_SIZE, VMX_WATCH_VMXON), 0);
	CU_ASSERT_EQUAL(vmx_watch_region(&h->cpu, VMCS_PA, VMCS_REGION_SIZE, VMX_WATCH_VMCS), 0);
	guest_store(h, VMXON_PA);
	CU_ASSERT_EQUAL(w.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(w.last, "inside the VMXON region at 0x22000"));
	CU_ASSERT_PTR_NOT_NULL(strstr(w.last, "SDM 24.11.5"));
	vmx_unwatch_region(&h->cpu, VMXON_PA);  /* VMXOFF */
	guest_store(h, VMXON_PA);
	CU_ASSERT_EQUAL(w.n, 1);
	CU_ASSERT_FALSE(phys_write_hooked(&h->pm, VMXON_PA));
	guest_store(h, VMCS_PA);                /* the VMCS is still watched */
	CU_ASSERT_EQUAL(w.n, 2);
	vmx_reset(&h->cpu);                     /* reset leaves VMX operation: nothing watched */
	guest_store(h, VMCS_PA);
	CU_ASSERT_EQUAL(w.n, 2);
	CU_ASSERT_EQUAL(h->pm.nwatches, 0);
	CU_ASSERT_EQUAL(vmx_watch_region(&h->cpu, HARNESS_RAM - 0x800, VMCS_REGION_SIZE, VMX_WATCH_VMCS), -1);
	harness_destroy(h);
}

/* Watch bookkeeping in mem/phys.c: shared pages, code marks kept apart. */
static void test_phys_watch_marks(void)
{
	struct phys_map pm;
	int a, b;
	CU_ASSERT_FATAL(phys_init(&pm, 16 * PAGE_SIZE) == 0);
	CU_ASSERT_EQUAL(phys_watch_add(&pm, 0x2000, 0x1800, &a, 0), 0);    /* pages 2 and 3 */
	CU_ASSERT_EQUAL(phys_watch_add(&pm, 0x3800, 0x800, &b, 0), 0);     /* page 3 */
	pm.code_page[3] |= PHYS_PAGE_CODE;
	phys_unwatch(&pm, 0x2000, &a);
	CU_ASSERT_EQUAL(pm.code_page[2], 0);
	CU_ASSERT_EQUAL(pm.code_page[3], PHYS_PAGE_CODE | PHYS_PAGE_WATCH);        /* b still covers it */
	CU_ASSERT_TRUE(phys_is_code_page(&pm, 0x3000));
	phys_unwatch_tag(&pm, &b);
	CU_ASSERT_EQUAL(pm.code_page[3], PHYS_PAGE_CODE);
	CU_ASSERT_EQUAL(pm.nwatches, 0);
	CU_ASSERT_EQUAL(phys_watch_add(&pm, 15 * PAGE_SIZE, 2 * PAGE_SIZE, &a, 0), -1);  /* past RAM */
	CU_ASSERT_EQUAL(phys_watch_add(&pm, 0, 0, &a, 0), -1);
	phys_destroy(&pm);
}

void suite_vmx_watch(void)
{
	CU_pSuite s = CU_add_suite("vmx_watch", NULL, NULL);
	CU_add_test(s, "store into an active VMCS warns (24.11.1)", test_store_into_active_vmcs_warns);
	CU_add_test(s, "VMX's own writes are silent", test_vmx_own_writes_are_silent);
	CU_add_test(s, "VMXON region, unwatch, reset (24.11.5)", test_vmxon_region_and_unwatch);
	CU_add_test(s, "phys watch marks", test_phys_watch_marks);
}
