/* The software TLB's translation contexts (mem/tlb.h): entries tagged by
 * VPID and EP4TA besides the PCID, VM entries and exits that switch
 * contexts without flushing, and the VPID/EPTP-scoped invalidations of SDM
 * vol. 3C 28.3.3.1 and 30.3 (INVVPID, INVEPT). */
#include <CUnit/CUnit.h>

#include "mem/tlb.h"

static struct tlb t;

#define L1 0x7000ull
#define L2 0x9000ull
#define L3 0xc000ull
#define EPT_A (0x100000ull | TLB_EPT)
#define EPT_B (0x200000ull | TLB_EPT)
#define PERM ((uint32_t)(CR0_PE | CR0_PG | CR4_PAE | EFER_LMA))

/* Install a supervisor read translation la -> pa in the current context,
 * the way mem/access.c does. */
static void put(uint64_t la, uint64_t pa, bool global)
{
	unsigned idx = tlb_index(la);
	tlb_make_room(&t, TLB_SUPERVISOR, idx);
	tlb_note_fill(&t, TLB_SUPERVISOR, idx);
	struct tlb_entry *e = &t.e[TLB_SUPERVISOR][idx];
	*e = (struct tlb_entry){ .tag_r = la, .tag_w = TLB_INVALID, .tag_x = la, .pa = pa, .pcid = t.pcid,
				 .ctx = t.ctx, .global = global, .size_shift = 12, .pkey = TLB_NO_PKEY };
}

/* The frame the hit path finds for la now, or 0 on a miss. */
static uint64_t hit(uint64_t la)
{
	const struct tlb_entry *e = &t.e[TLB_SUPERVISOR][tlb_index(la)];
	return e->tag_r == la ? e->pa : 0;
}

static void to(uint16_t vpid, uint64_t ept)
{
	tlb_switch(&t, vpid, ept, 0, PERM);
}

static void setup(void)
{
	t.ctx = 0;
	t.pcid = 0;
	tlb_flush_all(&t);
	t.ctxs[0] = (struct tlb_context){ 0 };
	t.perm = PERM;
}

static void test_switch_keeps_entries(void)
{
	setup();
	put(L1, 0xa000, false);                 /* root, VPID 0000H */
	to(1, 0);
	CU_ASSERT_EQUAL(hit(L1), 0);            /* never used under another VPID */
	put(L2, 0xb000, false);
	CU_ASSERT_EQUAL(hit(L2), 0xb000);
	to(0, 0);
	CU_ASSERT_EQUAL(hit(L1), 0xa000);       /* the exit flushed nothing */
	CU_ASSERT_EQUAL(hit(L2), 0);
	to(1, 0);
	CU_ASSERT_EQUAL(hit(L2), 0xb000);       /* nor did the entry */
	CU_ASSERT_EQUAL(hit(L1), 0);
}

static void test_same_page_two_vpids(void)
{
	setup();
	to(1, 0);
	put(L1, 0xa000, false);
	to(2, 0);
	CU_ASSERT_EQUAL(hit(L1), 0);
	put(L1, 0xb000, false);                 /* VPID 1's entry moves to the spill array */
	CU_ASSERT_EQUAL(hit(L1), 0xb000);
	to(1, 0);
	CU_ASSERT_EQUAL(hit(L1), 0xa000);
	to(2, 0);
	CU_ASSERT_EQUAL(hit(L1), 0xb000);
}

static void test_global_stays_in_its_vpid(void)
{
	setup();
	to(1, 0);
	put(L1, 0xa000, true);
	to(2, 0);
	CU_ASSERT_EQUAL(hit(L1), 0);
	to(0, 0);
	CU_ASSERT_EQUAL(hit(L1), 0);
	tlb_switch(&t, 1, 0, 5, PERM);          /* another PCID: globals stay live */
	CU_ASSERT_EQUAL(hit(L1), 0xa000);
}

static void test_invvpid_address(void)
{
	setup();
	put(L1, 0x1000, false);
	to(1, 0);
	put(L1, 0xa000, true);
	put(L2, 0xb000, false);
	tlb_flush_vpid_page(&t, 2, L1);         /* another VPID: no effect */
	CU_ASSERT_EQUAL(hit(L1), 0xa000);
	tlb_flush_vpid_page(&t, 1, L1);         /* that address, globals included */
	CU_ASSERT_EQUAL(hit(L1), 0);
	CU_ASSERT_EQUAL(hit(L2), 0xb000);
	to(0, 0);
	CU_ASSERT_EQUAL(hit(L1), 0x1000);
}

static void test_invvpid_single_and_globals(void)
{
	setup();
	put(L2, 0x2000, false);
	to(1, 0);
	put(L1, 0xa000, true);
	put(L2, 0xb000, false);
	tlb_flush_vpid_nonglobal(&t, 1);        /* type 3 keeps the global one */
	CU_ASSERT_EQUAL(hit(L1), 0xa000);
	CU_ASSERT_EQUAL(hit(L2), 0);
	put(L2, 0xb000, false);
	tlb_flush_vpid(&t, 1);                  /* type 1 drops both */
	CU_ASSERT_EQUAL(hit(L1), 0);
	CU_ASSERT_EQUAL(hit(L2), 0);
	to(0, 0);
	CU_ASSERT_EQUAL(hit(L2), 0x2000);
}

static void test_invvpid_all_keeps_vpid0(void)
{
	setup();
	put(L1, 0x1000, false);
	to(1, 0);
	put(L1, 0xa000, false);
	to(2, EPT_A);
	put(L2, 0xb000, true);
	tlb_flush_all_vpids(&t);
	CU_ASSERT_EQUAL(hit(L2), 0);
	to(1, 0);
	CU_ASSERT_EQUAL(hit(L1), 0);
	to(0, 0);
	CU_ASSERT_EQUAL(hit(L1), 0x1000);
}

static void test_vpid0_flush_keeps_others(void)
{
	setup();
	put(L1, 0x1000, false);
	to(1, 0);
	put(L1, 0xa000, false);
	to(0, 0);
	tlb_flush_vpid(&t, 0);                  /* what a VM exit without VPIDs does */
	CU_ASSERT_EQUAL(hit(L1), 0);
	to(1, 0);
	CU_ASSERT_EQUAL(hit(L1), 0xa000);
}

static void test_ep4ta_contexts(void)
{
	setup();
	to(1, EPT_A);
	put(L1, 0xa000, false);
	to(1, EPT_B);
	CU_ASSERT_EQUAL(hit(L1), 0);            /* combined mappings of one EP4TA only */
	put(L1, 0xb000, false);
	to(1, 0);
	CU_ASSERT_EQUAL(hit(L1), 0);            /* linear mappings are another context */
	to(1, EPT_A);
	CU_ASSERT_EQUAL(hit(L1), 0xa000);
	tlb_flush_ept(&t, EPT_B);
	CU_ASSERT_EQUAL(hit(L1), 0xa000);
	to(1, EPT_B);
	CU_ASSERT_EQUAL(hit(L1), 0);
	put(L1, 0xb000, false);
	tlb_flush_ept(&t, 0);                   /* every EP4TA */
	CU_ASSERT_EQUAL(hit(L1), 0);
	to(1, EPT_A);
	CU_ASSERT_EQUAL(hit(L1), 0);
}

/* INVLPG, MOV to CR3 and friends act on the current VPID, every EP4TA. */
static void test_chapter4_ops_current_vpid(void)
{
	setup();
	to(2, EPT_A);
	put(L3, 0x2000, false);                 /* another slot: the spill array is one deep */
	to(1, EPT_B);
	put(L1, 0xb000, false);
	to(1, EPT_A);
	put(L1, 0xa000, false);
	tlb_flush_page(&t, L1);
	CU_ASSERT_EQUAL(hit(L1), 0);
	to(1, EPT_B);
	CU_ASSERT_EQUAL(hit(L1), 0);
	tlb_flush_page(&t, L3);     /* VPID 2's page: not this VPID's */
	to(2, EPT_A);
	CU_ASSERT_EQUAL(hit(L3), 0x2000);
	to(1, 0);
	put(L2, 0xc000, true);
	tlb_flush_current(&t);
	CU_ASSERT_EQUAL(hit(L2), 0);
	to(2, EPT_A);
	CU_ASSERT_EQUAL(hit(L3), 0x2000);
	tlb_flush_pcid(&t, 0);
	CU_ASSERT_EQUAL(hit(L3), 0);
}

static void test_other_controls_flush_context(void)
{
	setup();
	to(1, 0);
	put(L1, 0xa000, false);
	to(0, 0);
	tlb_switch(&t, 1, 0, 0, PERM | (uint32_t)CR0_WP);
	CU_ASSERT_EQUAL(hit(L1), 0);            /* cached under CR0.WP = 0 */
	put(L1, 0xa000, false);
	to(0, 0);
	tlb_switch(&t, 1, 0, 0, PERM | (uint32_t)CR0_WP);
	CU_ASSERT_EQUAL(hit(L1), 0xa000);
}

static void test_context_eviction(void)
{
	setup();
	for (uint16_t v = 1; v <= TLB_CONTEXTS + 1; v++) {
		to(v, 0);
		put(L1, 0x1000ull * v, false);
	}
	to(1, 0);                               /* the least recently used: flushed */
	CU_ASSERT_EQUAL(hit(L1), 0);
	to(TLB_CONTEXTS + 1, 0);
	CU_ASSERT_EQUAL(hit(L1), 0x1000ull * (TLB_CONTEXTS + 1));
	to(TLB_CONTEXTS, 0);
	CU_ASSERT_EQUAL(hit(L1), 0x1000ull * TLB_CONTEXTS);
}

/* A slot emptied by an invalidation, then refilled from the spill array:
 * the next switch still puts the returned entry to sleep. */
static void test_unspill_into_emptied_slot(void)
{
	setup();
	to(1, 0);
	put(L1, 0xa000, false);
	to(2, 0);
	put(L1, 0xb000, false);                 /* VPID 1's entry is spilled */
	tlb_flush_vpid_page(&t, 2, L1);
	CU_ASSERT_EQUAL(hit(L1), 0);
	to(1, 0);
	CU_ASSERT_EQUAL(hit(L1), 0xa000);       /* back from the spill array */
	to(2, 0);
	CU_ASSERT_EQUAL(hit(L1), 0);            /* dormant again */
	tlb_flush_vpid(&t, 1);                  /* finds it in the hit-path array */
	to(1, 0);
	CU_ASSERT_EQUAL(hit(L1), 0);
}

void suite_mem_tlb_vpid(void)
{
	CU_pSuite s = CU_add_suite("mem_tlb_vpid", NULL, NULL);
	CU_add_test(s, "a context switch keeps every context's entries", test_switch_keeps_entries);
	CU_add_test(s, "one linear page in two VPIDs", test_same_page_two_vpids);
	CU_add_test(s, "global entries stay in their VPID", test_global_stays_in_its_vpid);
	CU_add_test(s, "INVVPID type 0", test_invvpid_address);
	CU_add_test(s, "INVVPID types 1 and 3", test_invvpid_single_and_globals);
	CU_add_test(s, "INVVPID type 2 keeps VPID 0000H", test_invvpid_all_keeps_vpid0);
	CU_add_test(s, "flushing VPID 0000H keeps other VPIDs", test_vpid0_flush_keeps_others);
	CU_add_test(s, "combined mappings per EP4TA, INVEPT", test_ep4ta_contexts);
	CU_add_test(s, "chapter 4 invalidations: current VPID, every EP4TA", test_chapter4_ops_current_vpid);
	CU_add_test(s, "other paging controls flush a context", test_other_controls_flush_context);
	CU_add_test(s, "the least recently used context is evicted", test_context_eviction);
	CU_add_test(s, "an entry back from the spill array sleeps again", test_unspill_into_emptied_slot);
}
